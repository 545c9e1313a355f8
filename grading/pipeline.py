"""Các bước chấm điểm dựa trên nbgrader: build, chấm một bài nộp, check, phản hồi, xuất CSV.

Thiết kế: `grade_submission(cfg, assignment, student)` chấm đúng MỘT bài nộp đã nằm trong
`<workspace>/submitted/<student>/<assignment>/` và trả về một `SubmissionResult`; mọi lệnh chấm
hàng loạt chỉ là vòng lặp quanh hàm đó (một pool tiến trình có thể gọi nó song song sau này).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import logging
import os
import pathlib
import shutil
import sys
import tempfile

from grading.config import GradingConfig, load_config, traitlets_config

LOG = logging.getLogger("grading")

# nbgrader gọi lệnh `alembic` (cùng môi trường Python) để nâng cấp gradebook: đảm bảo nó có trên PATH.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

# Không để log của nbgrader/traitlets tràn ra màn hình; kết quả được in bằng tiếng Việt.
for _name in ("traitlets", "nbgrader", "NbGraderAPI"):
    logging.getLogger(_name).setLevel(logging.ERROR)


@dataclasses.dataclass
class SubmissionResult:
    """Kết quả chấm một bài nộp."""

    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "đã chấm"  # "đã chấm" | "lỗi" | "thiếu bài"
    failed: list[str] = dataclasses.field(default_factory=list)
    message: str = ""
    flags: list[str] = dataclasses.field(default_factory=list)  # lý do gắn cờ (hộp cát, sửa ô…)

    @property
    def ok(self) -> bool:
        return self.status == "đã chấm"

    def line(self) -> str:
        """Một dòng trạng thái tiếng Việt cho học viên này."""
        text = (
            f"{self.student:<20} {self.assignment:<26} "
            f"{_fmt(self.score):>6}/{_fmt(self.max_score):<6} {self.status}"
        )
        if self.failed:
            text += f"  (chưa đạt: {', '.join(self.failed)})"
        if self.message:
            text += f"  — {self.message}"
        if self.flags:
            text += f"  ⚑ gắn cờ: {'; '.join(self.flags)}"
        return text


def _fmt(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------------------
# nbgrader API
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _cache_alembic_version() -> None:
    """nbgrader chạy tiến trình `alembic heads` mỗi lần mở gradebook (~0,5 s); kết quả không đổi
    trong một lần chạy nên ta nhớ nó lại."""
    import functools

    import nbgrader.api as nbapi

    if not hasattr(nbapi.get_alembic_version, "cache_info"):
        nbapi.get_alembic_version = functools.lru_cache(maxsize=1)(nbapi.get_alembic_version)


def make_api(cfg: GradingConfig):
    """Một `NbGraderAPI` dùng cấu hình sinh từ `cfg` (đồng thời ghi `nbgrader_config.py`)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _cache_alembic_version()

    config = traitlets_config(cfg)
    config.NbGraderAPI.log_level = "ERROR"
    with _quiet_warnings():
        coursedir = CourseDirectory(config=config)
        api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.ERROR)
    return api


def _run(fn, *args, **kwargs) -> dict:
    with _quiet_warnings():
        result = fn(*args, **kwargs)
    return result or {"success": False, "error": "không có kết quả"}


def _gradebook(cfg: GradingConfig):
    from nbgrader.api import Gradebook

    return Gradebook(cfg.db_url, cfg.course_id)


# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------


def sync_source(cfg: GradingConfig, assignment: str) -> pathlib.Path:
    """Chép `solutions/<id>/` sang `<workspace>/source/<id>/` (nguồn của nbgrader)."""
    src = cfg.solutions / assignment
    dst = cfg.workspace / "source" / assignment
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(
        src,
        dst,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"),
    )
    return dst


def generate(cfg: GradingConfig, api, assignment: str) -> pathlib.Path:
    """Sinh bản học viên (nbgrader generate_assignment) trong workspace; trả về thư mục release."""
    sync_source(cfg, assignment)
    res = _run(api.generate_assignment, assignment, force=True, create=True)
    if not res.get("success"):
        raise RuntimeError(
            f"Không sinh được bài tập {assignment}:\n{res.get('error', '')}\n{res.get('log', '')}"
        )
    return cfg.workspace / "release" / assignment


def build(cfg: GradingConfig, assignments=None, update_exercises=True, echo=print) -> list[str]:
    """Sinh lại `exercises/` từ `solutions/`. Trả về danh sách bài đã sinh."""
    api = make_api(cfg)
    names = list(assignments or cfg.assignments())
    for a in names:
        release = generate(cfg, api, a)
        if update_exercises:
            dst = cfg.exercises / a
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(release, dst)
        echo(
            f"✅ {a}: đã sinh bản bài tập" + (f" → {cfg.exercises / a}" if update_exercises else "")
        )
    if update_exercises and cfg.exercises.is_dir():
        known = set(cfg.assignments())
        for d in cfg.exercises.iterdir():
            if d.is_dir() and d.name not in known:
                shutil.rmtree(d)
                echo(f"🗑  {d.name}: đã xoá (không còn trong solutions/)")
    return names


def ensure_generated(cfg: GradingConfig, api, assignment: str) -> None:
    """Đảm bảo gradebook biết bài tập (sinh lại trong workspace nếu chưa có)."""
    gb = _gradebook(cfg)
    try:
        known = {a.name for a in gb.assignments}
    finally:
        gb.close()
    release = cfg.workspace / "release" / assignment
    if assignment not in known or not release.is_dir():
        generate(cfg, api, assignment)


# ---------------------------------------------------------------------------
# chấm một bài nộp
# ---------------------------------------------------------------------------


def read_result(cfg: GradingConfig, assignment: str, student: str) -> SubmissionResult:
    """Đọc điểm một bài nộp từ gradebook."""
    from nbgrader.api import MissingEntry

    gb = _gradebook(cfg)
    try:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return SubmissionResult(student, assignment, status="lỗi", message="chưa có điểm")
        failed = []
        for nb in sub.notebooks:
            for g in nb.grades:
                if g.cell_type == "code" and g.max_score and (g.score or 0) < g.max_score:
                    failed.append(g.name)
        return SubmissionResult(
            student,
            assignment,
            score=float(sub.score or 0.0),
            max_score=float(sub.max_score or 0.0),
            failed=sorted(failed),
        )
    finally:
        gb.close()


def grade_submission(cfg: GradingConfig, assignment: str, student: str, api=None):
    """Chấm tự động MỘT bài nộp trong `<workspace>/submitted/<student>/<assignment>/`.

    Hàm tự đủ (tạo API nếu không được truyền vào) để một pool tiến trình có thể gọi.
    """
    api = api or make_api(cfg)
    folder = cfg.workspace / "submitted" / student / assignment
    expected = sorted(p.name for p in (cfg.workspace / "release" / assignment).glob("*.ipynb"))
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    missing = [n for n in expected if n not in present]
    if not present or missing:
        return SubmissionResult(
            student,
            assignment,
            status="thiếu bài",
            message="không tìm thấy " + ", ".join(missing or expected),
        )
    res = _run(api.autograde, assignment, student, force=True, create=True)
    result = read_result(cfg, assignment, student)
    if not res.get("success"):
        result.status = "lỗi"
        err = (res.get("error") or res.get("log") or "").strip().splitlines()
        result.message = "nbgrader báo lỗi: " + (err[-1] if err else "không rõ")
    return result


def _ignore_checkpoints_and_symlinks(folder, names):
    """Không chép `.ipynb_checkpoints` và symlink: copytree sẽ đi theo symlink (bộ chấm có quyền
    đọc mọi thứ) và chép nội dung tệp đích — ví dụ lời giải — vào thư mục bài nộp."""
    return {
        n for n in names if n == ".ipynb_checkpoints" or os.path.islink(os.path.join(folder, n))
    }


def stage_submissions(cfg: GradingConfig, submissions_dir: pathlib.Path) -> list[tuple[str, str]]:
    """Chép `<dir>/<student>/<assignment>/*` vào `<workspace>/submitted/`; trả về các cặp
    (student, assignment) theo thứ tự."""
    pairs = []
    known = set(cfg.assignments())
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"Không có thư mục bài nộp: {submissions_dir}")
    for sdir in sorted(p for p in submissions_dir.iterdir() if p.is_dir()):
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir()):
            if adir.name not in known:
                LOG.warning("Bỏ qua %s: không có bài tập tên %s", adir, adir.name)
                continue
            dst = cfg.workspace / "submitted" / sdir.name / adir.name
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(adir, dst, ignore=_ignore_checkpoints_and_symlinks)
            pairs.append((sdir.name, adir.name))
    return pairs


def submitted_pairs(cfg: GradingConfig, assignments=None) -> list[tuple[str, str]]:
    """Các bài nộp đã có trong `<workspace>/submitted/` (ví dụ sau `collect`)."""
    root = cfg.workspace / "submitted"
    wanted = set(assignments or cfg.assignments())
    pairs = []
    if root.is_dir():
        for sdir in sorted(p for p in root.iterdir() if p.is_dir()):
            for adir in sorted(p for p in sdir.iterdir() if p.is_dir()):
                if adir.name in wanted:
                    pairs.append((sdir.name, adir.name))
    return pairs


def autograde(
    cfg: GradingConfig,
    submissions_dir=None,
    assignments=None,
    echo=print,
    workers=None,
    limits=None,
):
    """Chấm mọi bài nộp (từ `submissions_dir` hoặc từ `<workspace>/submitted/`).

    Mã của học viên chạy trong hộp cát (`grading.sandbox`), `workers` bài song song (mặc định: số
    CPU); chỉ tiến trình này ghi gradebook, nên điểm giống hệt khi chạy tuần tự (`workers=1`).
    """
    from grading import parallel

    api = make_api(cfg)
    if submissions_dir is not None:
        pairs = stage_submissions(cfg, pathlib.Path(submissions_dir))
        if assignments:
            pairs = [p for p in pairs if p[1] in set(assignments)]
    else:
        pairs = submitted_pairs(cfg, assignments)
    for a in sorted({a for _, a in pairs}):
        ensure_generated(cfg, api, a)
    results = parallel.grade_pairs(cfg, api, pairs, workers=workers, limits=limits, echo=echo)
    echo(summary(results))
    return results


def summary(results: list[SubmissionResult]) -> str:
    """Tóm tắt tiếng Việt: số bài, số lỗi, điểm trung bình theo bài tập."""
    if not results:
        return "Không có bài nộp nào."
    lines = [
        f"Tổng kết: {len(results)} bài nộp, {sum(r.ok for r in results)} đã chấm, "
        f"{sum(not r.ok for r in results)} lỗi/thiếu bài."
    ]
    flagged = [r for r in results if r.flags]
    if flagged:
        lines.append(
            f"  ⚑ {len(flagged)} bài bị gắn cờ cần giảng viên xem lại: "
            + ", ".join(f"{r.student}/{r.assignment}" for r in flagged)
        )
    for a in sorted({r.assignment for r in results}):
        rs = [r for r in results if r.assignment == a and r.ok]
        if rs:
            mean = sum(r.score for r in rs) / len(rs)
            full = sum(r.score == r.max_score for r in rs)
            lines.append(
                f"  {a}: trung bình {mean:.2f}/{_fmt(rs[0].max_score)}, "
                f"{full}/{len(rs)} bài đạt điểm tối đa"
            )
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# check: lời giải đạt điểm tối đa, bài tập chưa làm được 0
# ---------------------------------------------------------------------------

SOLUTION_STUDENT = "kiem_tra_loi_giai"
EXERCISE_STUDENT = "kiem_tra_bai_chua_lam"


def check(cfg: GradingConfig, assignments=None, echo=print) -> list[dict]:
    """Chấm lời giải và bài tập chưa làm trong một workspace tạm (không đụng gradebook thật)."""
    names = list(assignments or cfg.assignments())
    rows = []
    with tempfile.TemporaryDirectory(prefix="grading-check-") as tmp:
        tcfg = dataclasses.replace(
            cfg,
            workspace=pathlib.Path(tmp),
            db_url=f"sqlite:///{pathlib.Path(tmp) / 'gradebook.db'}",
            exchange=pathlib.Path(tmp) / "exchange",
        )
        api = make_api(tcfg)
        for a in names:
            release = generate(tcfg, api, a)
            for student, src_dir in (
                (SOLUTION_STUDENT, tcfg.workspace / "source" / a),
                (EXERCISE_STUDENT, release),
            ):
                dst = tcfg.workspace / "submitted" / student / a
                dst.mkdir(parents=True, exist_ok=True)
                for nb in src_dir.glob("*.ipynb"):
                    shutil.copy2(nb, dst / nb.name)
            sol = grade_submission(tcfg, a, SOLUTION_STUDENT, api=api)
            exe = grade_submission(tcfg, a, EXERCISE_STUDENT, api=api)
            ok = (
                sol.ok
                and exe.ok
                and sol.max_score > 0
                and sol.score == sol.max_score
                and exe.score == 0
            )
            rows.append(
                {
                    "assignment": a,
                    "max_score": sol.max_score,
                    "solution": sol.score,
                    "exercise": exe.score,
                    "ok": ok,
                    "solution_failed": sol.failed,
                    "exercise_passed": _passed(tcfg, a, EXERCISE_STUDENT),
                    "message": "; ".join(m for m in (sol.message, exe.message) if m),
                }
            )
            echo(check_row(rows[-1]))
    n_bad = sum(not r["ok"] for r in rows)
    echo(
        "Tất cả bài tập đạt yêu cầu."
        if n_bad == 0
        else f"{n_bad}/{len(rows)} bài tập KHÔNG đạt yêu cầu."
    )
    return rows


def _passed(cfg: GradingConfig, assignment: str, student: str) -> list[str]:
    """Các ô kiểm thử được điểm (dùng để báo ô 'cho điểm không' trên bài chưa làm)."""
    from nbgrader.api import MissingEntry

    gb = _gradebook(cfg)
    try:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return []
        return sorted(
            g.name for nb in sub.notebooks for g in nb.grades if g.max_score and (g.score or 0) > 0
        )
    finally:
        gb.close()


def check_row(r: dict) -> str:
    mark = "✅" if r["ok"] else "❌"
    text = (
        f"{mark} {r['assignment']:<26} lời giải {_fmt(r['solution']):>5}/{_fmt(r['max_score']):<5}"
        f" bài chưa làm {_fmt(r['exercise']):>5}/{_fmt(r['max_score'])}"
    )
    if r["solution_failed"]:
        text += f"\n     lời giải trượt: {', '.join(r['solution_failed'])}"
    if r["exercise_passed"]:
        text += f"\n     bài chưa làm vẫn được điểm ở: {', '.join(r['exercise_passed'])}"
    if r["message"]:
        text += f"\n     {r['message']}"
    return text


# ---------------------------------------------------------------------------
# phản hồi, exchange, xuất CSV
# ---------------------------------------------------------------------------


def feedback(cfg: GradingConfig, assignments=None, echo=print) -> list[pathlib.Path]:
    """Sinh phản hồi HTML (không chứa mã kiểm thử ẩn) cho mọi bài đã chấm."""
    api = make_api(cfg)
    root = cfg.workspace / "autograded"
    names = list(assignments or cfg.assignments())
    done = []
    for a in names:
        if not any(root.glob(f"*/{a}")):
            continue
        res = _run(api.generate_feedback, a)
        if not res.get("success"):
            raise RuntimeError(f"Không sinh được phản hồi cho {a}:\n{res.get('error', '')}")
        files = sorted((cfg.workspace / "feedback").glob(f"*/{a}/*.html"))
        done.extend(files)
        echo(f"✅ {a}: {len(files)} tệp phản hồi trong {cfg.workspace / 'feedback'}")
    return done


def release(cfg: GradingConfig, assignments=None, echo=print) -> None:
    """Phát hành bài tập qua exchange của nbgrader (sinh lại từ solutions/ trước)."""
    cfg.exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(cfg.exchange, 0o777)
    api = make_api(cfg)
    for a in list(assignments or cfg.assignments()):
        generate(cfg, api, a)
        res = _run(api.release_assignment, a)
        if not res.get("success"):
            raise RuntimeError(f"Không phát hành được {a}:\n{res.get('error', '')}")
        echo(f"✅ {a}: đã phát hành vào {cfg.exchange / cfg.course_id / 'outbound' / a}")


def collect(cfg: GradingConfig, assignments=None, echo=print) -> None:
    """Thu bài nộp từ exchange vào `<workspace>/submitted/`."""
    api = make_api(cfg)
    for a in list(assignments or cfg.assignments()):
        res = _run(api.collect, a)
        if not res.get("success"):
            raise RuntimeError(f"Không thu được bài {a}:\n{res.get('error', '')}")
        n = len(list((cfg.workspace / "submitted").glob(f"*/{a}")))
        echo(f"✅ {a}: {n} bài nộp đã thu")


def release_feedback(cfg: GradingConfig, assignments=None, echo=print) -> None:
    """Gửi phản hồi HTML qua exchange (mỗi học viên chỉ lấy được phản hồi của mình)."""
    api = make_api(cfg)
    for a in list(assignments or cfg.assignments()):
        if not any((cfg.workspace / "feedback").glob(f"*/{a}")):
            continue
        res = _run(api.release_feedback, a)
        if not res.get("success"):
            raise RuntimeError(f"Không gửi được phản hồi {a}:\n{res.get('error', '')}")
        echo(f"✅ {a}: đã gửi phản hồi")


CSV_COLUMNS = ["student_id", "assignment", "score", "max_score"]


def export_csv(cfg: GradingConfig, path, echo=print) -> list[dict]:
    """Xuất điểm (mỗi dòng một học viên × bài tập) ra CSV; bài chưa nộp được 0."""
    gb = _gradebook(cfg)
    rows = []
    try:
        for a in sorted(gb.assignments, key=lambda x: x.name):
            for s in sorted(gb.students, key=lambda x: x.id):
                if s.id in (SOLUTION_STUDENT, EXERCISE_STUDENT):
                    continue
                try:
                    sub = gb.find_submission(a.name, s.id)
                    score = float(sub.score or 0.0)
                except Exception:  # noqa: BLE001  (chưa nộp)
                    score = 0.0
                rows.append(
                    {
                        "student_id": s.id,
                        "assignment": a.name,
                        "score": _fmt(score),
                        "max_score": _fmt(float(a.max_score or 0.0)),
                    }
                )
    finally:
        gb.close()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    echo(f"✅ Đã xuất {len(rows)} dòng điểm ra {path}")
    return rows


__all__ = [
    "SubmissionResult",
    "autograde",
    "build",
    "check",
    "collect",
    "export_csv",
    "feedback",
    "grade_submission",
    "load_config",
    "make_api",
    "release",
    "release_feedback",
    "summary",
]
