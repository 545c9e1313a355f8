"""Mọi chỗ nối với nbgrader: tạo `NbGraderAPI` từ cấu hình, preprocessor ghi phán quyết thay cho
`Execute`, preprocessor ẩn kiểm thử trong phản hồi, và hai bộ nhớ đệm làm nbgrader nhanh hơn.

nbgrader vẫn là sổ điểm, exchange, phản hồi và quy trình của giảng viên; nó chỉ không còn chạy mã
của học viên: `JudgedExecute` lấy output do `grading.judge` tính sẵn (mã học viên trong hộp cát,
kiểm thử ở bộ chấm) rồi `SaveAutoGrades` của nbgrader ghi điểm như thường.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pathlib
import sys
import warnings

from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Unicode

from grading.config import GradingConfig, traitlets_config

BEGIN = "BEGIN HIDDEN TESTS"
END = "END HIDDEN TESTS"
NOTE = "# (Phần kiểm thử ẩn đã được lược bỏ khỏi phản hồi.)"
NO_VERDICT = "KhongCoKetQua"


def signature(nb) -> str:
    """Chữ ký phần được chấm: loại ô và mã nguồn, theo thứ tự."""
    h = hashlib.sha256()
    for c in nb.cells:
        h.update(json.dumps([c.cell_type, c.source if c.cell_type == "code" else ""]).encode())
    return h.hexdigest()


def verdict_path(root, student: str, assignment: str, notebook: str) -> pathlib.Path:
    return pathlib.Path(root) / student / assignment / f"{notebook}.ipynb"


class JudgedExecute(Execute):
    """Thay `Execute` trong `nbgrader autograde`: chép output đã phán quyết (cùng chữ ký) vào
    notebook. Không có phán quyết thì mọi ô kiểm thử nhận một lỗi (0 điểm), không bao giờ điểm
    cho không; `grading.autograde` không ghi điểm cho bài như vậy."""

    verdicts_dir = Unicode("", help="thư mục chứa notebook đã phán quyết").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat

        info = resources["nbgrader"]
        path = verdict_path(
            self.verdicts_dir, info["student"], info["assignment"], info["notebook"]
        )
        judged = None
        if self.verdicts_dir and path.is_file():
            judged = nbformat.read(str(path), as_version=4)
            if signature(judged) != signature(nb) or len(judged.cells) != len(nb.cells):
                judged = None
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if judged is not None:
                cell.outputs = judged.cells[i].outputs
                cell.execution_count = judged.cells[i].get("execution_count")
            elif utils.is_grade(cell):
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename=NO_VERDICT,
                        evalue="không có kết quả chấm cho ô này",
                        traceback=[f"{NO_VERDICT}: không có kết quả chấm cho ô này"],
                    )
                ]
        return nb, resources


def strip_hidden(source: str) -> tuple[str, bool]:
    """Bỏ các vùng `### BEGIN HIDDEN TESTS … ### END HIDDEN TESTS`; trả về (mã mới, có bỏ không)."""
    out, inside, removed = [], False, False
    for line in source.split("\n"):
        if BEGIN in line:
            inside, removed = True, True
            continue
        if END in line:
            inside = False
            out.append(NOTE)
            continue
        if not inside:
            out.append(line)
    return "\n".join(out), removed


class HideHiddenTests(NbGraderPreprocessor):
    """Khi sinh phản hồi: ô kiểm thử chỉ còn phần công khai; output lỗi chỉ còn một dòng."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        cell.source, _ = strip_hidden(cell.source)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Lỗi')}: {out.get('evalue', '')}"]
        return cell, resources


def _cache_alembic_version() -> None:
    """nbgrader chạy `alembic heads` mỗi lần mở gradebook (~0,5 s); kết quả không đổi."""
    import nbgrader.api as nbapi

    if not hasattr(nbapi.get_alembic_version, "cache_info"):
        nbapi.get_alembic_version = functools.lru_cache(maxsize=1)(nbapi.get_alembic_version)


def _cache_engines() -> None:
    """Dùng lại một engine SQLAlchemy cho mỗi URL (nbgrader tạo engine mới hàng chục lần mỗi bài)."""
    import nbgrader.api as nbapi

    if getattr(nbapi.create_engine, "_grading_cached", False):
        return
    from sqlalchemy.pool import NullPool

    original = nbapi.create_engine
    engines: dict = {}

    def create_engine(url, *args, **kwargs):
        key = (str(url), tuple(args), tuple(sorted(kwargs.items())))
        if key not in engines:
            extra = {"poolclass": NullPool} if str(url).startswith("sqlite") else {}
            engines[key] = original(url, *args, **kwargs, **extra)
        return engines[key]

    create_engine._grading_cached = True
    nbapi.create_engine = create_engine


def make_api(cfg: GradingConfig, verdicts_dir=None):
    """Một `NbGraderAPI` theo `cfg` (cấu hình được dựng MỘT lần cho cả lệnh)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    # nbgrader gọi lệnh `alembic` của cùng môi trường Python để tạo/nâng cấp sổ điểm.
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    _cache_alembic_version()
    _cache_engines()
    for name in ("traitlets", "nbgrader", "NbGraderAPI"):
        logging.getLogger(name).setLevel(logging.ERROR)
    config = traitlets_config(cfg)
    config.NbGraderAPI.log_level = "ERROR"
    config.Autograde.autograde_preprocessors = [
        JudgedExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    config.JudgedExecute.verdicts_dir = str(verdicts_dir or "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coursedir = CourseDirectory(config=config)
        api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.ERROR)
    return api


def call(fn, *args, **kwargs) -> dict:
    """Gọi một hàm của `NbGraderAPI`, không để cảnh báo tràn ra màn hình."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fn(*args, **kwargs)
    return result or {"success": False, "error": "không có kết quả"}


def drop_duplicate_cells(nb) -> list[str]:
    """Bỏ các ô lặp lại `grade_id` của một ô trước đó (chép dán một ô kiểm thử…): nbgrader từ
    chối cả notebook nếu để nguyên. Trả về lý do gắn cờ."""
    seen, keep, flags = set(), [], []
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid and gid in seen:
            flags.append(f"ô `{gid}` bị lặp lại (chép dán?): đã bỏ bản sao, chấm ô đầu tiên")
            continue
        if gid:
            seen.add(gid)
        keep.append(cell)
    nb.cells = keep
    return flags


def sanitize(config, cfg: GradingConfig, student: str, assignment: str, path: pathlib.Path):
    """Notebook như nbgrader thấy sau lượt làm sạch (ô khoá/kiểm thử khôi phục từ sổ điểm, chỉ
    ĐỌC sổ điểm). Trả về (notebook hoặc None, cờ, lý do lỗi tiếng Việt)."""
    import nbformat
    from nbgrader.converters import Autograde

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001
        return (
            None,
            [],
            f"không đọc được notebook (JSON hỏng hoặc không phải notebook: {type(exc).__name__})",
        )
    flags = drop_duplicate_cells(nb)
    if flags:  # để lượt chấm thật của nbgrader thấy đúng notebook đã sửa
        nbformat.write(nb, str(path))
    resources = {
        "unique_key": path.stem,
        "nbgrader": {
            "student": student,
            "assignment": assignment,
            "notebook": path.stem,
            "db_url": cfg.db_url,
        },
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for cls in Autograde.class_traits()["sanitize_preprocessors"].default():
                nb, resources = cls(config=config).preprocess(nb, resources)
    except Exception as exc:  # noqa: BLE001
        return None, flags, f"nbgrader không làm sạch được notebook: {exc}"
    return nb, flags, ""
