"""Bộ tiền xử lý nbgrader riêng của khoá học."""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN = "BEGIN HIDDEN TESTS"
END = "END HIDDEN TESTS"
NOTE = "# (Phần kiểm thử ẩn đã được lược bỏ khỏi phản hồi.)"


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
    """Dùng khi sinh phản hồi: ô kiểm thử có phần ẩn chỉ còn phần công khai, và traceback của ô
    đó (IPython in lại các dòng mã quanh chỗ lỗi) được thay bằng một dòng `Tên lỗi: thông điệp`."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        source, removed = strip_hidden(cell.source)
        if not removed:
            return cell, resources
        cell.source = source
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Lỗi')}: {out.get('evalue', '')}"]
        return cell, resources
