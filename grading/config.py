"""Cấu hình của bộ chấm: thư mục làm việc, gradebook, exchange, giới hạn thời gian.

Thứ tự ưu tiên: tham số dòng lệnh > biến môi trường > tệp TOML > mặc định.

| khoá TOML        | biến môi trường          | mặc định                                  |
|------------------|--------------------------|-------------------------------------------|
| workspace        | GRADING_WORKSPACE        | <repo>/.grading-workspace                 |
| db_url           | GRADING_DB_URL           | sqlite:///<workspace>/gradebook.db        |
| exchange         | GRADING_EXCHANGE         | <workspace>/exchange                      |
| course_id        | GRADING_COURSE_ID        | mang-no-ron                               |
| cell_timeout     | GRADING_CELL_TIMEOUT     | 60 (giây cho mỗi ô)                       |
| solutions        | GRADING_SOLUTIONS        | <repo>/solutions                          |
| exercises        | GRADING_EXERCISES        | <repo>/exercises                          |

Tệp TOML: đường dẫn trong GRADING_CONFIG, nếu không có thì `<repo>/grading.toml` (nếu tồn tại),
các khoá đặt ở cấp gốc hoặc trong bảng `[grading]`.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import tomllib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
ASSIGNMENT_RE = re.compile(r"^bt\d\d_[a-z0-9_]+$")

_ENV = {
    "workspace": "GRADING_WORKSPACE",
    "db_url": "GRADING_DB_URL",
    "exchange": "GRADING_EXCHANGE",
    "course_id": "GRADING_COURSE_ID",
    "cell_timeout": "GRADING_CELL_TIMEOUT",
    "solutions": "GRADING_SOLUTIONS",
    "exercises": "GRADING_EXERCISES",
}


@dataclasses.dataclass
class GradingConfig:
    """Toàn bộ cấu hình một lần chấm."""

    workspace: pathlib.Path
    db_url: str
    exchange: pathlib.Path
    course_id: str = "mang-no-ron"
    cell_timeout: int = 60
    solutions: pathlib.Path = REPO_ROOT / "solutions"
    exercises: pathlib.Path = REPO_ROOT / "exercises"

    @property
    def nbgrader_config_path(self) -> pathlib.Path:
        return self.workspace / "nbgrader_config.py"

    def assignments(self) -> list[str]:
        """Các bài tập có trong `solutions/`: thư mục `<id>/` chứa `<id>.ipynb`."""
        if not self.solutions.is_dir():
            return []
        return sorted(
            d.name
            for d in self.solutions.iterdir()
            if d.is_dir() and ASSIGNMENT_RE.match(d.name) and (d / f"{d.name}.ipynb").is_file()
        )


def _read_toml() -> dict:
    path = os.environ.get("GRADING_CONFIG")
    p = pathlib.Path(path) if path else REPO_ROOT / "grading.toml"
    if not p.is_file():
        return {}
    with open(p, "rb") as f:
        data = tomllib.load(f)
    return dict(data.get("grading", data))


def load_config(**overrides) -> GradingConfig:
    """Đọc cấu hình; `overrides` (giá trị None bị bỏ qua) là tham số dòng lệnh."""
    values: dict = _read_toml()
    for key, env in _ENV.items():
        if os.environ.get(env):
            values[key] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    workspace = pathlib.Path(values.get("workspace", REPO_ROOT / ".grading-workspace"))
    workspace = workspace.expanduser().resolve()
    db_url = values.get("db_url") or f"sqlite:///{workspace / 'gradebook.db'}"
    exchange = pathlib.Path(values.get("exchange", workspace / "exchange")).expanduser().resolve()
    return GradingConfig(
        workspace=workspace,
        db_url=str(db_url),
        exchange=exchange,
        course_id=str(values.get("course_id", "mang-no-ron")),
        cell_timeout=int(values.get("cell_timeout", 60)),
        solutions=pathlib.Path(values.get("solutions", REPO_ROOT / "solutions")).resolve(),
        exercises=pathlib.Path(values.get("exercises", REPO_ROOT / "exercises")).resolve(),
    )


NBGRADER_CONFIG_TEMPLATE = """\
# Tệp này do `python -m grading` sinh ra (đừng sửa tay: sửa grading.toml hoặc biến môi trường).
# Dùng được trực tiếp với lệnh nbgrader gốc khi chạy trong thư mục này.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from grading.nbgrader_hooks import HideHiddenTests

c = get_config()  # noqa: F821

# Exchange nhiều tài khoản, chặt quyền (grading/exchange.py): cả lệnh nbgrader gốc cũng dùng.
from grading.exchange import configure as _use_course_exchange  # noqa: E402

_use_course_exchange(c)

c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_url = {db_url!r}
c.Exchange.root = {exchange!r}

# Lời giải được thay bằng chỗ trống tiếng Việt.
c.ClearSolutions.code_stub = {{"python": "# VIẾT MÃ CỦA BẠN Ở ĐÂY\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "VIẾT CÂU TRẢ LỜI CỦA BẠN Ở ĐÂY"

# Thực thi: giới hạn thời gian mỗi ô; cảnh báo Python được in ra stdout (không trừ điểm).
c.Execute.timeout = {cell_timeout!r}
c.Execute.interrupt_on_timeout = True
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=import grading.kernel_setup",
    "--IPKernelApp.log_level=ERROR",
]

# Phản hồi: bỏ mã kiểm thử ẩn và traceback có thể lộ mã đó.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
# Mẫu HTML của phản hồi với nhãn tiếng Việt (grading/templates/feedback).
c.HTMLExporter.extra_template_basedirs = [{templates!r}]
"""


def nbgrader_config_text(cfg: GradingConfig) -> str:
    """Nội dung `nbgrader_config.py` tương ứng với cấu hình."""
    return NBGRADER_CONFIG_TEMPLATE.format(
        root=str(cfg.workspace),
        course_id=cfg.course_id,
        db_url=cfg.db_url,
        exchange=str(cfg.exchange),
        cell_timeout=cfg.cell_timeout,
        templates=str(pathlib.Path(__file__).resolve().parent / "templates"),
    )


def write_nbgrader_config(cfg: GradingConfig) -> pathlib.Path:
    """Ghi `nbgrader_config.py` vào thư mục làm việc (tạo thư mục nếu cần)."""
    cfg.workspace.mkdir(parents=True, exist_ok=True)
    path = cfg.nbgrader_config_path
    text = nbgrader_config_text(cfg)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def traitlets_config(cfg: GradingConfig):
    """Đối tượng `traitlets.config.Config` nạp từ `nbgrader_config.py` đã sinh (một nguồn duy nhất)."""
    from traitlets.config.loader import PyFileConfigLoader

    path = write_nbgrader_config(cfg)
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
