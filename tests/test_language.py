"""Kiểm tra ngôn ngữ toàn khoá học: NFC, thuật ngữ bị loại (glossary.md), chính tả hunspell-vi.

Các notebook được lấy từ lectures/, solutions/, exercises/ lúc thu thập kiểm thử. Công cụ dòng lệnh
tương ứng: `python tests/langcheck.py lectures/<bài>.ipynb`.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import unicodedata

import langcheck as lc
import pytest

NOTEBOOKS = lc.find_notebooks()
DOCS = lc.find_markdown_docs()
READMES = lc.find_markdown_docs(readme_only=True)
PY_SOURCES = lc.find_python_sources()


def _ids(paths):
    return [lc.rel(p) for p in paths]


def require_hunspell():
    """Bỏ qua (skip) chỉ khi máy của người dùng thường, không phải CI; ở CI/root thì báo lỗi."""
    if lc.hunspell_available():
        return
    msg = (
        "thiếu hunspell hoặc từ điển tiếng Việt vi_VN; chạy `make test` (cài các gói apt "
        f"{' '.join(lc.APT_PACKAGES)}) hoặc `apt-get install -y {' '.join(lc.APT_PACKAGES)}`"
    )
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if os.environ.get("CI") or is_root:
        pytest.fail(msg)
    pytest.skip(msg)


def _exists(path):
    if not pathlib.Path(path).exists():
        pytest.skip(f"{lc.rel(path)} đã bị xoá sau khi thu thập kiểm thử")


def _fail(problems):
    if problems:
        pytest.fail(f"{len(problems)} vấn đề:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def glossary():
    return lc.parse_glossary()


@pytest.fixture(scope="module")
def allowlist():
    return lc.load_allowlist()


# --------------------------------------------------------------------------- trên các tệp thật


@pytest.mark.parametrize("path", NOTEBOOKS + DOCS, ids=_ids(NOTEBOOKS + DOCS))
def test_nfc_notebooks_and_docs(path):
    _exists(path)
    _fail(lc.nfc_problems(path))


@pytest.mark.parametrize("path", PY_SOURCES, ids=_ids(PY_SOURCES))
def test_nfc_python_sources(path):
    _exists(path)
    _fail(lc.nfc_problems(path))


def test_nfc_glossary_and_allowlist():
    _fail(lc.nfc_problems(lc.GLOSSARY) + lc.nfc_problems(lc.ALLOWLIST))


def test_glossary_well_formed(glossary):
    assert len(glossary.terms) >= 20, "glossary.md có quá ít thuật ngữ — bảng bị hỏng?"
    vi = {t.vi for t in glossary.terms}
    assert {"mạng nơ-ron", "trọng số"} <= vi
    rejected = glossary.rejected_map()
    assert rejected["mạng thần kinh"].vi == "mạng nơ-ron"
    assert rejected["trọng lượng"].vi == "trọng số"
    _fail(glossary.errors)


def test_glossary_vietnamese_spelling(glossary, allowlist):
    require_hunspell()
    _fail(lc.glossary_spelling_problems(glossary, allowlist))


@pytest.mark.parametrize("path", NOTEBOOKS + DOCS, ids=_ids(NOTEBOOKS + DOCS))
def test_no_rejected_terms(path, glossary):
    _exists(path)
    _fail(lc.glossary_problems(path, glossary))


@pytest.mark.parametrize("path", NOTEBOOKS + READMES, ids=_ids(NOTEBOOKS + READMES))
def test_spelling(path, allowlist):
    _exists(path)
    require_hunspell()
    _fail(lc.spelling_problems(path, allowlist))


LECTURE_FILES = [p for p in NOTEBOOKS + DOCS if lc.is_lecture_file(p)]


@pytest.mark.parametrize("path", LECTURE_FILES, ids=_ids(LECTURE_FILES))
def test_lectures_cite_notes_by_title(path):
    """Bài giảng gọi ghi chú theo tên, không theo thư mục/tệp nội bộ hay "ghi chú 00N" (vấn đề #15.9)."""
    _exists(path)
    _fail(lc.internal_reference_problems(path))


LECTURE_NOTEBOOKS = [p for p in LECTURE_FILES if p.suffix == ".ipynb"]


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=_ids(LECTURE_NOTEBOOKS))
def test_lecture_template(path):
    """Một khuôn cho mọi bài: tiêu đề "# Bài NN — …", câu hỏi "**Câu N.** …" đánh số liên tục từ 1."""
    _exists(path)
    cells = lc.load_cells(path)
    num = path.name[:2]
    assert re.match(rf"# Bài {num} — \S", cells[0].source), cells[0].source.splitlines()[0]
    questions = [
        c.source for c in cells if c.cell_type == "markdown" and c.source.startswith("## Câu hỏi")
    ]
    assert len(questions) == 1, "cần đúng một ô '## Câu hỏi'"
    other = re.findall(r"^\*\*(?!Câu \d+\.\*\* )\S*\d+\..*$", questions[0], flags=re.M)
    assert not other, f"câu hỏi phải viết '**Câu N.** …': {other}"
    numbers = [int(n) for n in re.findall(r"^\*\*Câu (\d+)\.\*\* ", questions[0], flags=re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers, numbers


def test_lecture_readme_lists_notes_by_title():
    text = (lc.ROOT / "lectures" / "README.md").read_text(encoding="utf-8")
    assert "## Ghi chú bài giảng của khoá học" in text
    for title in lc.NOTE_TITLES:
        assert f"*{title}*" in text, title


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_untranslated_english_prose(path):
    """Heuristic: không có câu tiếng Anh dài (≥ 8 từ ASCII, ≥ 3 hư từ như the/of/is) quên dịch."""
    _exists(path)
    _fail(lc.english_prose_problems(path))


def test_allowlist_has_no_vietnamese_misspellings(allowlist):
    """Mỗi phần có dấu tiếng Việt của một mục trong danh sách cho phép phải đúng chính tả."""
    require_hunspell()
    assert "relu" in allowlist and "sigmoid" in allowlist
    foreign = lc.load_allowlist(foreign=True)
    assert "voilà" in allowlist and "voilà" in foreign
    vi_parts = {p for w in allowlist - foreign for p in w.split("-") if lc.looks_vietnamese(p)}
    assert "nơ" in vi_parts and "müller" not in vi_parts
    bad = lc.hunspell_unknown(vi_parts)
    assert not bad, f"spelling_allowlist.txt chứa từ tiếng Việt sai chính tả: {sorted(bad)}"


# --------------------------------------------------------------------------- tự kiểm tra bộ kiểm


def _fake_notebook(tmp_path, *markdown, code=(), name="fake.ipynb"):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": m} for m in markdown]
    cells += [
        {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
        for c in code
    ]
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    p = tmp_path / name
    p.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return p


def test_selfcheck_rejected_term_flagged(tmp_path, glossary):
    p = _fake_notebook(
        tmp_path,
        "# Mở đầu\n\nMột mạng nơ-ron đơn giản.",
        "Các **Mạng  Thần Kinh** nhân tạo có nhiều trọng lượng.",
        code=["# cập nhật trọng lượng\nw = w - lr * dw"],
    )
    probs = lc.glossary_problems(p, glossary)
    assert len(probs) == 3, probs
    assert "ô #1" in probs[0] and "mạng nơ-ron" in probs[0] and "Thần Kinh" in probs[0]
    assert any("ô #1" in s and "'trọng số'" in s for s in probs)
    assert any("ô #2 (code)" in s for s in probs)
    assert lc.glossary_problems(p, glossary, code_cells=False) == probs[:2]


def test_selfcheck_rejected_term_word_boundary(tmp_path, glossary):
    # "lan truyền tiến" bị loại, nhưng không được bắt nhầm khi là một phần của từ khác
    p = _fake_notebook(tmp_path, "Lan truyền tiếnx và `mạng thần kinh` trong code thì không tính.")
    assert lc.glossary_problems(p, glossary) == []
    pat = lc.term_pattern("trọng lượng")
    assert pat.search("TRỌNG LƯỢNG của vật")
    assert not pat.search("trọng lượngg")
    assert not pat.search("tỉ trọng lượng-tử")


def test_selfcheck_glossary_errors():
    text = (
        "## A\n\n| Tiếng Việt | English | Không dùng |\n|---|---|---|\n"
        "| trọng số | weight | trọng lượng |\n"
        "| trọng số | bias | |\n"
        "| tầng | layer | |\n"
        "| tầng ẩn | hidden layer |\n"
        "| nơ-ron | neuron | tầng |\n"
        "| mạng | | |\n"
    )
    g = lc.parse_glossary(None, text=text)
    errs = "\n".join(g.errors)
    assert "với nghĩa tiếng Anh khác" in errs  # trùng thuật ngữ Việt, khác tiếng Anh
    assert "cần đúng 3 cột" in errs
    assert "vừa bị loại vừa là thuật ngữ nên dùng" in errs
    assert "thiếu thuật ngữ" in errs
    assert len(g.errors) == 4, g.errors
    good = lc.parse_glossary(
        None, text="| Tiếng Việt | English | Không dùng |\n|---|---|---|\n| a | b | c; d |\n"
    )
    assert good.errors == [] and good.terms[0].rejected == ["c", "d"]


def test_selfcheck_glossary_one_form_per_term():
    """Một thuật ngữ chỉ một dòng, một thuật ngữ tiếng Anh chỉ một cách dịch (vấn đề #15)."""
    text = (
        "| Tiếng Việt | English | Không dùng |\n|---|---|---|\n"
        "| ma trận Jacobi | Jacobian matrix | |\n"
        "| tìm kiếm từ thô đến tinh | coarse-to-fine search | |\n"
        "| ma trận đạo hàm riêng | Jacobian matrix | |\n"
        "| tìm từ thô đến mịn | Coarse-to-fine search | |\n"
        "| tỉ lệ cập nhật/trọng số | update/weight ratio | |\n"
        "| tỉ lệ cập nhật / trọng số | update-to-weight ratio | |\n"
        "| thang log | log scale | |\n"
        "| thang log | log scale | |\n"
    )
    g = lc.parse_glossary(None, text=text)
    assert sum("có hai cách dịch" in e for e in g.errors) == 3, g.errors
    assert sum("lặp lại dòng" in e for e in g.errors) == 1, g.errors
    assert len(g.errors) == 4, g.errors


def test_selfcheck_nfd_flagged(tmp_path):
    nfd = unicodedata.normalize("NFD", "Mạng nơ-ron học trọng số")
    assert nfd != unicodedata.normalize("NFC", nfd)
    p = _fake_notebook(tmp_path, "Bình thường.", nfd)
    probs = lc.nfc_problems(p)
    assert len(probs) == 1 and "ô #1" in probs[0]
    p2 = _fake_notebook(tmp_path, "Ổn.", code=[f"print('{nfd}')"], name="code.ipynb")
    assert len(lc.nfc_problems(p2)) == 1
    py = tmp_path / "m.py"
    py.write_text(f'"""Ổn."""\n# {nfd}\n', encoding="utf-8")
    assert [s.split(":")[0] for s in lc.nfc_problems(py)] == [f"{py} dòng 2"]
    assert (
        lc.nfc_problems(_fake_notebook(tmp_path, "Mạng nơ-ron học trọng số", name="ok.ipynb")) == []
    )


def test_selfcheck_strip_markdown():
    md = (
        "Hàm $\\sigma(z) = \\frac{1}{1+e^{-z}}$ và\n$$\\text{sai sốx} = 1$$\n"
        "xem `np.dotx(a, b)` tại [đây](https://vi.d2l.ai/chapter_x.html) hoặc <https://x.y/z>\n"
        '<details><summary>Đáp án</summary>\n\nĐúng.</details> <img src="a_b.png"/>\n'
        "```python\nmangg = 1\n```\n"
        "với 10⁷ phần tử, keep_prob = 0.8, α = 0.1, np.random.randn, 3.5e-3."
    )
    toks = lc.words(md)
    assert toks == [
        "Hàm",
        "và",
        "xem",
        "tại",
        "đây",
        "hoặc",
        "Đáp",
        "án",
        "Đúng",
        "với",
        "phần",
        "tử",
    ], toks
    # công thức inline kéo dài qua một dòng mới vẫn được bỏ
    assert lc.words("Ta có $a +\n b_{sai}$ rồi.\n\nĐoạn $x$ mới") == [
        "Ta",
        "có",
        "rồi",
        "Đoạn",
        "mới",
    ]
    # trích dẫn tiếng Anh trong ngoặc kép bị bỏ qua, trích dẫn có tiếng Việt thì không
    assert lc.words('Slide ghi "All activations become zero!" còn "hàm sai" thì khác "WL".') == [
        "Slide",
        "ghi",
        "còn",
        "hàm",
        "sai",
        "thì",
        "khác",
    ]


def test_selfcheck_spelling_flags_misspellings(tmp_path):
    require_hunspell()
    p = _fake_notebook(
        tmp_path,
        "# Mở đầu\n\nMạng nơ-ron dùng hàm ReLU, sigmoid và softmax; tối ưu bằng Adam với batch nhỏ.",
        "Đây là dữ liệuu mà nguời ta chuẩn hóa.",
        "Công thức $\\mathrm{sai\\,sốx}$ và `code_sai` không bị kiểm.",
    )
    probs = lc.spelling_problems(p, lc.load_allowlist())
    assert len(probs) == 1, probs
    msg = probs[0]
    assert "ô #1" in msg
    for w in ("'liệuu'", "'nguời'", "'hóa'"):
        assert w in msg
    assert "hoá" in msg  # gợi ý cách bỏ dấu mới
    # không có danh sách cho phép thì thuật ngữ tiếng Anh bị báo
    probs_no_allow = lc.spelling_problems(p, set(), suggest=False)
    assert "'ReLU'" in probs_no_allow[0] and "'softmax'" in probs_no_allow[0]


def test_selfcheck_known_misspelling_flagged(tmp_path):
    """'dữ liêu' (lỗi OCR của ghi chú) gồm hai âm tiết hợp lệ nên cần danh sách lỗi đã biết."""
    require_hunspell()
    p = _fake_notebook(tmp_path, "Chuẩn hoá dữ liệu.", "Chuẩn hoá Dữ  liêu trước khi huấn luyện.")
    probs = lc.spelling_problems(p, set())
    assert len(probs) == 1 and "ô #1" in probs[0] and "'dữ liệu'" in probs[0], probs


def test_selfcheck_reference_cells_skip_english_titles(tmp_path):
    require_hunspell()
    p = _fake_notebook(
        tmp_path,
        "## Tài liệu tham khảo\n\n1. Glorot, Bengio. *Understanding the difficulty of training "
        "deep feedforward networks*. Bản dịch tiếng Việtt.",
    )
    probs = lc.spelling_problems(p, set(), suggest=False)
    assert len(probs) == 1 and "'Việtt'" in probs[0] and "feedforward" not in probs[0]


def test_selfcheck_ui_menu_path_skipped():
    md = "Trước khi nộp: *Kernel → Restart Kernel and Run All Cells*, rồi **File → Save** nhé; Kernel và Cells."
    assert lc.words(md) == ["Trước", "khi", "nộp", "rồi", "nhé", "Kernel", "và", "Cells"]


def test_selfcheck_english_section_skipped():
    md = "# Tiêu đề\n\nVăn bản.\n\n## English\n\nAn English summary of the course.\n\n### Sub\n\nMore text\n\n# Phụ lục\n\nHết."
    assert lc.words(md) == ["Tiêu", "đề", "Văn", "bản", "Phụ", "lục", "Hết"]


def test_selfcheck_english_prose_heuristic(tmp_path):
    p = _fake_notebook(
        tmp_path,
        "Ta dùng ReLU (rectified linear unit) cho tầng ẩn.",
        "In this section we train the network with gradient descent and plot the loss.",
    )
    probs = lc.english_prose_problems(p)
    assert len(probs) == 1 and "ô #1" in probs[0]


def test_selfcheck_internal_note_references(tmp_path):
    p = _fake_notebook(
        tmp_path,
        "Theo ghi chú 001 và Ghi chú (bài 002), xem thư mục `shared/seeds`.",
        "Ghi chú *Training Neural Networks, Part I* viết đúng; bài 06 và Bài 11 cũng vậy.",
        code=["# đọc ../shared/seeds/003_9ee185576ced85e6.txt", "x = 0.001  # bài 003"],
    )
    probs = lc.internal_reference_problems(p)
    found = [s.split("'")[1] for s in probs]
    assert found == [
        "ghi chú 001",
        "Ghi chú (bài 002",
        "shared/seeds",
        "shared/seeds",
        "003_9ee185576ced85e6.txt",
        "bài 003",
    ], found
    assert all("ô #1" not in s for s in probs)
    # tên ghi chú (dù có từ tiếng Anh) không bị kiểm chính tả
    assert lc.words("Ghi chú *Chương 2: Mạng neural cơ bản (P1)* viết") == ["Ghi", "chú", "viết"]


def test_cli_reports_problems(tmp_path, capsys):
    p = _fake_notebook(tmp_path, "Mạng thần kinh.")
    assert lc.main([str(p)]) == 1
    assert "mạng nơ-ron" in capsys.readouterr().out
    ok = _fake_notebook(tmp_path, "Mạng nơ-ron có trọng số.", name="ok.ipynb")
    assert lc.main([str(ok)]) == 0


def test_notebook_discovery(tmp_path):
    (tmp_path / "lectures" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "solutions").mkdir()
    for f in (
        "lectures/a.ipynb",
        "lectures/.ipynb_checkpoints/a-checkpoint.ipynb",
        "solutions/b.ipynb",
    ):
        (tmp_path / f).write_text("{}")
    found = [p.relative_to(tmp_path).as_posix() for p in lc.find_notebooks(tmp_path)]
    assert found == ["lectures/a.ipynb", "solutions/b.ipynb"]
    assert pathlib.Path(lc.ROOT, "glossary.md").is_file()


def test_missing_hunspell_fails_in_ci(monkeypatch):
    monkeypatch.setattr(lc, "hunspell_available", lambda: False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="make test"):
        require_hunspell()
    monkeypatch.delenv("CI")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.skip.Exception, match="hunspell-vi"):
        require_hunspell()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(pytest.fail.Exception):
        require_hunspell()
