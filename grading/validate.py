"""Tự kiểm tra bài làm trước khi nộp (dành cho học viên), thông báo bằng tiếng Việt.

Chạy notebook trong một kernel mới (như khi chấm), rồi báo cho từng ô kiểm thử: đạt/chưa đạt,
số điểm, và thông điệp của `nblib.assessment.checks`. Chỉ chạy phần kiểm thử công khai; phần ẩn được chấm khi nộp.
Cũng cảnh báo khi ô kiểm thử bị sửa (so với checksum của bản phát hành) hoặc còn ô chưa làm.
"""

from __future__ import annotations

import pathlib
import re

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_lines(text: str, n: int = 8) -> str:
    lines = _ANSI.sub("", text).strip().splitlines()
    out = "\n      ".join(lines[:n])
    return out + ("\n      …" if len(lines) > n else "")


def _execute_copy(path: pathlib.Path, cfg):
    """Chạy bản sao của notebook bằng bộ thực thi của nbgrader (cùng cấu hình với lúc chấm)."""
    import nbformat
    from nbgrader.preprocessors import Execute

    from grading.config import traitlets_config

    nb = nbformat.read(path, as_version=4)
    ep = Execute(config=traitlets_config(cfg))
    ep.preprocess(nb, {"metadata": {"path": str(path.parent)}})
    return nb


def validate(path, cfg=None, echo=print) -> bool:
    """Kiểm tra một notebook bài làm; trả về True khi mọi kiểm thử công khai đều đạt."""
    import nbformat
    from nbgrader import utils

    from grading.config import load_config

    cfg = cfg or load_config()
    path = pathlib.Path(path).resolve()
    echo(f"🔎 Đang kiểm tra {path.name} …")
    try:
        original = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001
        echo(f"❌ Không đọc được notebook: {exc}")
        return False
    problems = []
    edited = set()
    todo = [
        cell.metadata["nbgrader"].get("grade_id")
        for cell in original.cells
        if cell.cell_type == "code"
        and utils.is_solution(cell)
        and "raise NotImplementedError()" in cell.source
    ]
    for cell in original.cells:
        if not utils.is_grade(cell) and not utils.is_locked(cell):
            continue
        meta = cell.metadata.get("nbgrader", {})
        if "checksum" in meta and utils.compute_checksum(cell) != meta["checksum"]:
            edited.add(meta.get("grade_id"))
            problems.append(
                f"Ô khoá '{meta.get('grade_id')}' đã bị sửa: khi chấm, nội dung gốc sẽ được khôi "
                "phục. Đừng sửa ô kiểm thử."
            )
    nb = _execute_copy(path, cfg)
    total = got = 0.0
    passed_all = True
    for cell in nb.cells:
        if cell.cell_type != "code" or not utils.is_grade(cell):
            continue
        meta = cell.metadata["nbgrader"]
        pts = float(meta.get("points", 0))
        total += pts
        if meta.get("grade_id") in edited:
            passed_all = False
            echo(
                f"  ❌ {meta['grade_id']}: không tính (0/{pts:g} điểm) — ô kiểm thử đã bị sửa nên kết"
                " quả của nó không có giá trị; lấy lại ô gốc từ bản bài tập rồi kiểm tra lại"
            )
            continue
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        stderr = [
            o
            for o in cell.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        ]
        if not errors and not stderr:
            got += pts
            echo(f"  ✅ {meta['grade_id']}: đạt ({pts:g}/{pts:g} điểm)")
            continue
        passed_all = False
        if errors:
            e = errors[0]
            if e.get("ename") == "NameError":
                why = (
                    f"chưa định nghĩa: {e.get('evalue')} (hãy chạy/hoàn thành ô trả lời phía trên)"
                )
            elif e.get("ename") == "NotImplementedError":
                why = "hàm còn `raise NotImplementedError()` — bạn chưa làm phần này"
            else:
                why = f"{e.get('ename')}: {e.get('evalue')}"
        else:
            why = "ô in ra stderr: " + "".join(o.get("text", "") for o in stderr)
        echo(f"  ❌ {meta['grade_id']}: chưa đạt (0/{pts:g} điểm)\n      {_first_lines(why)}")
    if todo:
        echo("  ✍️  Ô trả lời chưa làm: " + ", ".join(str(t) for t in todo))
    for p in problems:
        echo(f"  ⚠️  {p}")
    echo(
        f"Kết quả kiểm thử công khai: {got:g}/{total:g} điểm. "
        "Phần kiểm thử ẩn sẽ được chấm khi bạn nộp bài."
    )
    if passed_all and not problems:
        echo("🎉 Mọi kiểm thử công khai đều đạt. Bạn có thể nộp bài.")
    return passed_all and not problems
