"""Sổ điểm: kết quả một bài nộp, điểm đọc từ gradebook của nbgrader, xuất CSV.

Chỉ tiến trình điều phối đọc/ghi sổ điểm; hộp cát không bao giờ thấy nó.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import pathlib

from grading.config import GradingConfig

GRADED, ERROR, MISSING = "đã chấm", "lỗi", "thiếu bài"
SOLUTION_STUDENT = "kiem_tra_loi_giai"
EXERCISE_STUDENT = "kiem_tra_bai_chua_lam"


def fmt(x: float) -> str:
    return f"{x:g}"


@dataclasses.dataclass
class SubmissionResult:
    """Kết quả chấm một bài nộp."""

    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = GRADED  # GRADED | ERROR | MISSING
    failed: list[str] = dataclasses.field(default_factory=list)
    message: str = ""
    flags: list[str] = dataclasses.field(default_factory=list)  # lý do gắn cờ cho giảng viên

    @property
    def ok(self) -> bool:
        return self.status == GRADED

    def line(self) -> str:
        """Một dòng trạng thái tiếng Việt cho bài nộp này."""
        text = (
            f"{self.student:<20} {self.assignment:<26} "
            f"{fmt(self.score):>6}/{fmt(self.max_score):<6} {self.status}"
        )
        if self.failed:
            text += f"  (chưa đạt: {', '.join(self.failed)})"
        if self.message:
            text += f"  — {self.message}"
        if self.flags:
            text += f"  ⚑ gắn cờ: {'; '.join(self.flags)}"
        return text


@contextlib.contextmanager
def open_gradebook(cfg: GradingConfig):
    from nbgrader.api import Gradebook

    with Gradebook(cfg.db_url, cfg.course_id) as gb:
        yield gb


def known_assignments(cfg: GradingConfig) -> set[str]:
    with open_gradebook(cfg) as gb:
        return {a.name for a in gb.assignments}


def read_result(cfg: GradingConfig, assignment: str, student: str) -> SubmissionResult:
    """Điểm của một bài nộp, đọc từ sổ điểm."""
    from nbgrader.api import MissingEntry

    with open_gradebook(cfg) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return SubmissionResult(student, assignment, status=ERROR, message="chưa có điểm")
        failed = sorted(
            g.name
            for nb in sub.notebooks
            for g in nb.grades
            if g.cell_type == "code" and g.max_score and (g.score or 0) < g.max_score
        )
        return SubmissionResult(
            student,
            assignment,
            score=float(sub.score or 0.0),
            max_score=float(sub.max_score or 0.0),
            failed=failed,
        )


def passed_cells(cfg: GradingConfig, assignment: str, student: str) -> list[str]:
    """Các ô kiểm thử được điểm (để báo ô 'cho điểm không' trên bài chưa làm)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(cfg) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return []
        return sorted(
            g.name for nb in sub.notebooks for g in nb.grades if g.max_score and (g.score or 0) > 0
        )


CSV_COLUMNS = ["student_id", "assignment", "score", "max_score"]


def export_csv(cfg: GradingConfig, path, echo=print) -> list[dict]:
    """Xuất điểm (mỗi dòng một học viên × bài tập) ra CSV; bài chưa nộp được 0."""
    from nbgrader.api import MissingEntry

    rows = []
    with open_gradebook(cfg) as gb:
        for a in sorted(gb.assignments, key=lambda x: x.name):
            if not a.submissions:  # chưa ai nộp (ví dụ chưa phát hành): không xuất cột 0 giả
                continue
            for s in sorted(gb.students, key=lambda x: x.id):
                if s.id in (SOLUTION_STUDENT, EXERCISE_STUDENT):
                    continue
                try:
                    score = float(gb.find_submission(a.name, s.id).score or 0.0)
                except MissingEntry:
                    score = 0.0
                rows.append(
                    {
                        "student_id": s.id,
                        "assignment": a.name,
                        "score": fmt(score),
                        "max_score": fmt(float(a.max_score or 0.0)),
                    }
                )
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    echo(f"✅ Đã xuất {len(rows)} dòng điểm ra {path}")
    return rows


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
                f"  {a}: trung bình {mean:.2f}/{fmt(rs[0].max_score)}, "
                f"{full}/{len(rs)} bài đạt điểm tối đa"
            )
    return "\n".join(lines)
