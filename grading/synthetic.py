"""Tạo bài nộp giả lập từ bản bài tập và bản giải (cho kiểm thử, demo và đo hiệu năng).

Một bài nộp = notebook bài tập (như học viên nhận được) trong đó một số ô trả lời được điền lời giải
(bỏ các dòng `### BEGIN/END SOLUTION`, giống học viên tự viết) hoặc một nội dung tuỳ ý.
"""

from __future__ import annotations

import pathlib

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def student_source(solution_source: str) -> str:
    """Mã của ô lời giải như học viên viết: bỏ các dòng dấu mốc, giữ nguyên phần còn lại."""
    lines = [ln for ln in solution_source.split("\n") if BEGIN not in ln and END not in ln]
    return "\n".join(lines)


def answer_ids(notebook) -> list[str]:
    """grade_id của các ô trả lời (solution) theo thứ tự trong notebook."""
    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    ]


def make_submission(exercise, solution, out, solved=(), overrides=None, marker=None):
    """Ghi ra `out` một bài nộp dựa trên notebook bài tập `exercise`.

    solved: các grade_id được điền lời giải lấy từ `solution` ("all" = mọi ô trả lời);
    overrides: dict grade_id → mã nguồn thay thế (ví dụ một bài làm sai);
    marker: một dòng chú thích chèn vào đầu ô trả lời đầu tiên (để nhận ra bài của ai).
    Trả về đường dẫn `out`.
    """
    import nbformat

    ex = nbformat.read(str(exercise), as_version=4)
    sol = nbformat.read(str(solution), as_version=4)
    sol_src = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in sol.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    if solved == "all":
        solved = list(sol_src)
    solved = set(solved)
    overrides = dict(overrides or {})
    unknown = (solved | set(overrides)) - set(sol_src)
    if unknown:
        raise KeyError(f"Không có ô trả lời: {', '.join(sorted(unknown))}")
    first = True
    for cell in ex.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        gid = meta["grade_id"]
        if gid in overrides:
            cell.source = overrides[gid]
        elif gid in solved:
            cell.source = student_source(sol_src[gid])
        if first and marker:
            cell.source = f"# {marker}\n{cell.source}"
        first = False
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(ex, str(out))
    return out
