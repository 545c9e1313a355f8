"""Chế độ giảng viên (nblib.presentation.present): mọi bài giảng có một bản trình chiếu dùng được."""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT

from nblib.presentation import present

LECTURES = sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name[:2])
def test_every_lecture_has_a_demo_view(path):
    nb = nbformat.read(path, as_version=4)
    view = present.build_demo_notebook(nb)
    shown = [c for c in view.cells if not c.metadata.get("jupyter", {}).get("source_hidden")]
    markdown = [c.source for c in view.cells if c.cell_type == "markdown"]
    code = "\n".join(c.source for c in view.cells if c.cell_type == "code")
    assert shown and markdown and markdown[0].startswith(f"# Bài {path.name[:2]} — "), path.name
    assert "Demo(" in code or "Playground(" in code, path.name  # có ít nhất một demo tương tác
    assert "quiz(" not in code  # tự kiểm tra không chạy trong bản trình chiếu
    assert len(view.cells) < len(nb.cells)
