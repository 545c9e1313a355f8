"""Kiểm tra ngôn ngữ toàn khoá học: NFC, thuật ngữ bị loại (glossary.md), chính tả hunspell-vi.

Các notebook được lấy từ lectures/, solutions/, exercises/ lúc thu thập kiểm thử. Công cụ dòng lệnh
tương ứng: `python tests/langcheck.py lectures/<bài>.ipynb`.
"""

from __future__ import annotations

import json
import os
import pathlib
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
    """Một khuôn cho mọi bài (lc.template_problems): tiêu đề "# Bài NN — …", các mục Mục tiêu → Tự kiểm
    tra (có quiz) → Câu hỏi ("**Câu N.** …") → Bài tập (3–5 bài có mức độ) → Tóm tắt → Tài liệu tham
    khảo (gọi ghi chú theo tên); mục tương tác tên "Thử nghiệm trực tiếp"."""
    _exists(path)
    _fail(lc.template_problems(path))


@pytest.mark.parametrize("path", LECTURE_NOTEBOOKS, ids=_ids(LECTURE_NOTEBOOKS))
def test_lecture_import_style(path):
    """Một kiểu nhập nblib cho mọi bài giảng (không bí danh nb_*, không `import nblib.x as y`)."""
    _exists(path)
    _fail(lc.import_style_problems(path))


@pytest.mark.parametrize("path", NOTEBOOKS + DOCS, ids=_ids(NOTEBOOKS + DOCS))
def test_decimal_comma(path):
    """Dấu phẩy thập phân trong văn xuôi, nhãn, tiêu đề và số in ra (glossary.md); mã giữ 0.98."""
    _exists(path)
    _fail(lc.decimal_point_problems(path))


@pytest.mark.parametrize("path", NOTEBOOKS + DOCS, ids=_ids(NOTEBOOKS + DOCS))
def test_no_banned_words_in_running_text(path):
    """Không "code" (dùng "mã"), "Bản demo", "cheatsheet", "babysitting" trong văn bản tiếng Việt."""
    _exists(path)
    _fail(lc.banned_word_problems(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_one_iteration_axis_label(path):
    """Trục số bước lặp có một nhãn cho cả khoá học ("bước lặp")."""
    _exists(path)
    _fail(lc.axis_label_problems(path))


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


# --------------------------------------------------------------------------- tự kiểm tra các luật mới


def test_selfcheck_decimal_point_markdown(tmp_path):
    p = _fake_notebook(
        tmp_path,
        "### 3.1. Tiêu đề có số mục\n\nĐộ chính xác đạt 0.98, còn mất mát 0,12.",
        "Xem mục 3.2, các bước 3.1–3.5 và chương 6.2 và 8.1–8.3; Python 3.11, torch 2.13.0, máy "
        "127.0.0.1, tệp `data_v1.2.csv`, mã `x = 0.5`, công thức $a = 0.5$, phiên bản 1.4.",
        "Trích ghi chú *Super VIP Cheatsheet: Học sâu*; tốc độ học α = 1.5 thì phân kỳ.",
    )
    probs = lc.decimal_point_problems(p)
    assert [s.split("'")[1] for s in probs] == ["0.98", "1.5"], probs
    assert "ô #0" in probs[0] and "'0,98'" in probs[0] and "ô #2" in probs[1]


def test_selfcheck_decimal_point_code(tmp_path):
    code = (
        "import re\n%matplotlib widget\n"
        'def f(x):\n    """Trả về 0.5·x."""\n    return 0.5 * x\n'
        'print(f"độ chính xác {acc:.1%}, mất mát {loss:.4f}, sai số {err:.2e}, {n:d} mẫu, {t:.0f} ms")\n'
        'ax.set_title(f"α = {lr:g}")\n'
        'ax.set_xlabel("tỉ lệ (0.5 là ngẫu nhiên)")\n'
        'print("%.3f" % x, "{:.2f}".format(y))\n'
        'print(f"{comma(acc):.1%} và {comma(loss):.4f}", f"{x:.3f}".replace(".", ","))\n'
        'ax.plot(x, y, color="0.5")\n'
        'print("np.random.randn(2, 2) * 0.01")\n'
        'version = "2.13.0"\n'
    )
    p = _fake_notebook(tmp_path, "Mở đầu.", code=[code])
    probs = lc.decimal_point_problems(p)
    found = sorted(
        (s.split(" dòng ")[1].split(":")[0], s.split(": ", 1)[1].split(" — ")[0]) for s in probs
    )
    assert found == [
        ("6", "định dạng '{…:.1%}' in dấu chấm thập phân"),
        ("6", "định dạng '{…:.2e}' in dấu chấm thập phân"),
        ("6", "định dạng '{…:.4f}' in dấu chấm thập phân"),
        ("7", "định dạng '{…:g}' in dấu chấm thập phân"),
        ("8", "chuỗi viết '0.5'"),
        ("9", "định dạng '%.3f' in dấu chấm thập phân"),
        ("9", "định dạng '{:.2f}' in dấu chấm thập phân"),
    ], found
    assert lc.spec_shows_decimal_point(".3f") and lc.spec_shows_decimal_point(">12.3e")
    assert not lc.spec_shows_decimal_point(".0f") and not lc.spec_shows_decimal_point("<12")
    assert not lc.spec_shows_decimal_point("d") and not lc.spec_shows_decimal_point(".0%")


def test_selfcheck_banned_words(tmp_path):
    p = _fake_notebook(
        tmp_path,
        "Đoạn code dưới đây chạy `code = 1` và in Unicode; đọc *Super VIP Cheatsheet: Học sâu*.",
        "## 5. Bản demo: λ\n\nPhần *babysitting* của ghi chú, xem cheatsheet.",
        code=['# code ở đây không tính\ncode = 1\nprint("Code chạy xong")'],
    )
    probs = lc.banned_word_problems(p)
    found = [(s.split(":")[0].split(" ô ")[1], s.split("'")[1]) for s in probs]
    assert found == [
        ("#0 (markdown)", "code"),
        ("#1 (markdown)", "Bản demo"),
        ("#1 (markdown)", "cheatsheet"),
        ("#1 (markdown)", "babysitting"),
        ("#2 (code) dòng 3", "Code"),
    ], found
    assert "'mã'" in probs[0]


def test_selfcheck_iteration_axis_label(tmp_path):
    p = _fake_notebook(
        tmp_path,
        "Mở đầu.",
        code=[
            'ax.set_xlabel("bước")\nax2.set_xlabel("lần cập nhật")\nax3.set(xlabel="vòng lặp")\n'
            'ax4.set_xlabel("bước lặp")\nax5.set_xlabel("epoch")\nax6.set_xlabel("tầng")'
        ],
    )
    probs = lc.axis_label_problems(p)
    assert [s.split("'")[1] for s in probs] == ["bước", "lần cập nhật", "vòng lặp"], probs
    assert all("'bước lặp'" in s for s in probs)


def _template_cells(**override):
    cells = {
        "title": "# Bài 07 — Tiền xử lý dữ liệu\n\n## Mục tiêu\n\n- hiểu.",
        "body": "## 1. Lý thuyết\n\nVăn bản.",
        "live": "## 2. Thử nghiệm trực tiếp: kéo thanh trượt",
        "quiz": "## Tự kiểm tra\n\nTrả lời các câu sau.",
        "questions": "## Câu hỏi\n\n**Câu 1.** Một?\n\n**Câu 2.** Hai?",
        "exercises": "## Bài tập\n\n1. **(dễ)** A.\n2. **(vừa)** B.\n3. **(khó)** C.",
        "summary": "## Tóm tắt\n\n- ý chính.\n\n## Tài liệu tham khảo\n\n1. Ghi chú "
        "*Training Neural Networks, Part I*.",
    }
    cells.update(override)
    return [v for v in cells.values() if v is not None]


def _template_nb(tmp_path, quiz_code=True, name="07_bai.ipynb", **override):
    cells = _template_cells(**override)
    nb_cells = []
    for c in cells:
        nb_cells.append({"cell_type": "markdown", "metadata": {}, "source": c})
        if c.startswith("## Tự kiểm tra") and quiz_code:
            nb_cells.append(
                {
                    "cell_type": "code",
                    "metadata": {},
                    "source": "quiz(...)",
                    "outputs": [],
                    "execution_count": None,
                }
            )
    p = tmp_path / name
    p.write_text(
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": nb_cells})
    )
    return p


def test_selfcheck_template_good(tmp_path):
    assert lc.template_problems(_template_nb(tmp_path)) == []


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"title": "# Bài 7. Tiền xử lý\n\n## Mục tiêu"}, "tiêu đề '# Bài 07 — …'"),
        ({"quiz": None}, "cần đúng một mục '## Tự kiểm tra', có 0"),
        ({"exercises": None}, "cần đúng một mục '## Bài tập', có 0"),
        ({"questions": "## Câu hỏi\n\n**1.** Một?\n\n**2.** Hai?"}, "'**Câu N.** …'"),
        ({"questions": "## Câu hỏi\n\n**Câu 1.** Một?\n\n**Câu 3.** Ba?"}, "liên tục: [1, 3]"),
        ({"exercises": "## Bài tập\n\n1. **(dễ)** A.\n2. **(vừa)** B."}, "3–5 bài đánh số, có 2"),
        ({"exercises": "## Bài tập\n\n1. **(dễ)** A.\n2. B.\n3. **(khó)** C."}, "(2/3 bài có)"),
        ({"live": "## 2. Minh hoạ tương tác: kéo"}, "tên là 'Thử nghiệm trực tiếp'"),
        ({"live": "## 2. Bản demo: λ"}, "tên là 'Thử nghiệm trực tiếp'"),
        (
            {"summary": "## Tài liệu tham khảo\n\n1. Sách.\n\n## Tóm tắt\n\n- ý."},
            "các mục phải theo thứ tự",
        ),
        ({"summary": "## Tóm tắt\n\n## Tài liệu tham khảo\n\n1. Sách."}, "ghi chú theo tên"),
    ],
)
def test_selfcheck_template_flags(tmp_path, override, expected):
    probs = lc.template_problems(_template_nb(tmp_path, **override))
    assert any(expected in s for s in probs), probs


def test_selfcheck_template_needs_quiz_cell(tmp_path):
    probs = lc.template_problems(_template_nb(tmp_path, quiz_code=False))
    assert probs == [
        f"{lc.rel(tmp_path / '07_bai.ipynb')}: mục 'Tự kiểm tra' cần ít nhất một ô gọi quiz(…)"
    ]


def test_selfcheck_glossary_rejected_alternatives_flagged(tmp_path, glossary):
    """Một khái niệm, một tên: các cách gọi khác mà glossary.md liệt kê ở cột Không dùng bị báo."""
    rejected = glossary.rejected_map()
    for alt, preferred in [
        ("hai nửa vầng trăng", "hai mặt trăng"),
        ("hình trăng khuyết", "hai mặt trăng"),
        ("ma trận đạo hàm riêng", "ma trận Jacobi"),
        ("thô đến tinh", "tìm kiếm từ thô đến mịn"),
    ]:
        assert rejected[alt].vi == preferred, alt
    p = _fake_notebook(tmp_path, "Dữ liệu hai nửa vầng trăng và ma trận đạo hàm riêng.")
    probs = lc.glossary_problems(p, glossary)
    assert len(probs) == 2 and "'hai mặt trăng'" in probs[0] and "'ma trận Jacobi'" in probs[1]


def test_selfcheck_import_style(tmp_path):
    p = _fake_notebook(
        tmp_path,
        "Mở đầu.",
        code=[
            "import nblib\n\nnblib.print_backend()\n"
            "from nblib import MLP, data, train\n"
            "from nblib.backend import to_numpy\n"
            "from nblib.presentation.widgets import Demo, slider\n"
            "from nblib import init as nb_init\n"
            "import nblib.layers as L\n"
            "from nblib.presentation import widgets\n"
            "from nblib.model import MLP as Net\n"
        ],
    )
    found = [s.split("'")[1] for s in lc.import_style_problems(p)]
    assert found == [
        "from nblib import init as nb_init",
        "import nblib.layers as L",
        "from nblib.presentation import widgets",
        "from nblib.model import MLP as Net",
    ], found
