"""Câu hỏi tự kiểm tra (`nblib.presentation.quiz`) và mục "Bài tập" của mọi bài giảng.

Mỗi ô tự kiểm tra của mọi bài giảng được chạy ở đây, không cần kernel: ô chỉ dựng widget từ các hằng
số, nên ta chạy mã của ô trong tiến trình kiểm thử rồi điều khiển chính đối tượng `Quiz` (và widget
ipywidgets của nó) từ Python: đáp án đúng → ✓ kèm lời giải thích, mỗi đáp án sai → ✗ kèm lời giải
thích của nó. Đáp án không được lộ dưới dạng chữ thường trong mã nguồn của notebook.
"""

from __future__ import annotations

import math
import re
import unicodedata

import langcheck as lc
import matplotlib
import nbformat
import numpy as np
import pytest
from conftest import ROOT

from nblib.presentation import quiz as Q

matplotlib.use("Agg")

# Mọi bài giảng có mục "Tự kiểm tra" dựng bằng quiz(…) (test_every_lecture_has_a_quiz).
LECTURES = sorted((ROOT / "lectures").glob("[01][0-9]_*.ipynb"))
NUMS = [p.name[:2] for p in LECTURES]


def test_every_lecture_has_a_quiz():
    missing = [p.name for p in LECTURES if "quiz(" not in p.read_text(encoding="utf-8")]
    assert len(LECTURES) == 13
    assert missing == [], f"bài giảng chưa có câu tự kiểm tra: {missing}"


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _quiz_cells(path):
    return [c for c in _cells(path) if c.cell_type == "code" and "quiz(" in c.source]


def _run_quizzes(path):
    """Chạy các ô tự kiểm tra của `path`; trả về [(ô, Quiz)]."""
    out = []
    for cell in _quiz_cells(path):
        before = len(Q.QUIZZES)
        exec(compile(cell.source, f"{path.name}:quiz", "exec"), {"__name__": "__quiz__"})
        made = Q.QUIZZES[before:]
        assert len(made) == 1, f"mỗi ô tự kiểm tra tạo đúng một câu hỏi: {cell.source[:80]}"
        out.append((cell, made[0]))
    return out


@pytest.fixture(scope="module")
def quizzes():
    return {p.name[:2]: _run_quizzes(p) for p in LECTURES}


def _fmt_comma(x: float) -> str:
    return f"{x:.10g}".replace(".", ",")


# ---------------------------------------------------------------------------
# nblib.presentation.quiz
# ---------------------------------------------------------------------------


def test_encode_decode_roundtrip_and_key_bound_to_question():
    key = Q.encode("Câu hỏi?", 0.5, "Giải thích bí mật.", tol=1e-3, salt="abcd1234")
    assert key.startswith("q1$abcd1234$")
    assert "0.5" not in key and "bí mật" not in key
    p = Q.decode("Câu hỏi?", key)
    assert p["answer"] == 0.5 and p["explain"] == "Giải thích bí mật." and p["tol"] == 1e-3
    assert Q.decode("  Câu   hỏi?\n", key)["answer"] == 0.5  # khoảng trắng không quan trọng
    with pytest.raises(ValueError, match="không khớp"):
        Q.decode("Câu hỏi khác?", key)
    # cùng nội dung, muối khác → key khác
    assert Q.encode("Câu hỏi?", 0.5, "x") != Q.encode("Câu hỏi?", 0.5, "x")


@pytest.mark.parametrize(
    "text, value",
    [
        ("0,5", 0.5),
        ("0.5", 0.5),
        (" −1,25 ", -1.25),
        ("1e-3", 1e-3),
        ("1/3", 1 / 3),
        (",5", 0.5),
        ("7", 7.0),
        (2, 2.0),
    ],
)
def test_parse_number_accepts_decimal_comma(text, value):
    assert Q.parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "1/0", "0,5 kg"])
def test_parse_number_rejects_non_numbers(text):
    assert Q.parse_number(text) is None


def test_numeric_quiz_widget_right_wrong_retry_invalid():
    q = "σ(0) bằng bao nhiêu?"
    key = Q.encode(
        q, 0.5, "σ(0) = 1/2.", tol=1e-3, wrong=[(1.0, 1e-3, "Đó là e⁰.")], hint="Thay z = 0."
    )
    w = Q.quiz(q, key=key)
    ok, msg = w.check("1")
    assert (ok, msg) == (False, "✗ Chưa đúng. Đó là e⁰. Hãy thử lại.")
    assert "✗" in w._feedback.value and w._input.value == "1"
    assert w.check("0,7") == (False, "✗ Chưa đúng. Thay z = 0. Hãy thử lại.")
    ok, msg = w.check("hai")
    assert ok is None and msg.startswith("⚠") and w.attempts == 2
    w._input.value = "0,5"  # học viên gõ rồi bấm nút
    assert w.check() == (True, "✓ Đúng. σ(0) = 1/2.")
    assert "✓" in w._feedback.value and w.attempts == 3


def test_choice_quiz_widget_and_plot_reveal():
    q = "Hàm nào bão hoà?"
    key = Q.encode(q, "tanh", "tanh → ±1.", wrong={"ReLU": "ReLU không bão hoà khi z > 0."})
    drawn = []

    def plot(ax):
        drawn.append(ax.plot([0, 1], [0, 1]))

    w = Q.quiz(q, ["ReLU", "tanh"], key=key, plot=plot)
    assert w.figure is None
    assert w.check() == (None, "⚠ Hãy chọn một đáp án.")
    assert w.check("ReLU") == (False, "✗ Chưa đúng. ReLU không bão hoà khi z > 0. Hãy thử lại.")
    assert w.figure is not None and len(drawn) == 1  # hình hiện ra sau lần kiểm tra đầu
    assert w._input.value == "ReLU"
    assert w.check(1) == (True, "✓ Đúng. tanh → ±1.")
    assert len(drawn) == 1
    with pytest.raises(ValueError, match="không nằm trong"):
        Q.quiz(q, ["ReLU", "sigmoid"], key=key)
    with pytest.raises(ValueError, match="trắc nghiệm|choice"):
        Q.quiz(q, key=key)


# ---------------------------------------------------------------------------
# mọi câu hỏi của mọi bài giảng
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("num", NUMS)
def test_every_lecture_has_a_self_check_section_with_quizzes(num):
    path = next(p for p in LECTURES if p.name.startswith(num))
    cells = _cells(path)
    heads = [
        i
        for i, c in enumerate(cells)
        if c.cell_type == "markdown" and c.source.startswith("## Tự kiểm tra")
    ]
    questions = [
        i
        for i, c in enumerate(cells)
        if c.cell_type == "markdown" and c.source.startswith("## Câu hỏi")
    ]
    assert len(heads) == 1 and len(questions) == 1
    quiz_idx = [i for i, c in enumerate(cells) if c.cell_type == "code" and "quiz(" in c.source]
    assert 3 <= len(quiz_idx) <= 6, "mỗi bài có vài câu tự kiểm tra"
    # các câu tự kiểm tra đứng liền nhau, sau các mục chính, ngay trước "Câu hỏi"
    assert quiz_idx == list(range(heads[0] + 1, questions[0]))
    for i in quiz_idx:
        assert "from nblib.presentation.quiz import quiz" in cells[i].source
        assert cells[i].outputs == [] and cells[i].execution_count is None


@pytest.mark.parametrize("num", NUMS)
def test_every_quiz_right_answer_gives_check_and_wrong_gives_cross_with_explanation(num, quizzes):
    items = quizzes[num]
    kinds = set()
    for _cell, q in items:
        p = Q.decode(q.question, q.key)
        kinds.add(p["kind"])
        assert p["explain"].strip() and unicodedata.is_normalized("NFC", p["explain"])
        hint = p.get("hint") or "Hãy xem lại mục vừa học."
        if p["kind"] == "choice":
            assert len(q.options) >= 3, q.question
            ok, msg = q.check(p["answer"])
            assert ok is True and msg == f"✓ Đúng. {p['explain']}"
            assert "✓" in q._feedback.value
            for opt in q.options:
                if opt == p["answer"]:
                    continue
                ok, msg = q.check(opt)
                why = p["wrong"].get(opt) or hint
                assert ok is False and msg == f"✗ Chưa đúng. {why} Hãy thử lại.", (q.question, opt)
                assert "✗" in q._feedback.value
            assert set(p["wrong"]) <= set(q.options), "giải thích cho một lựa chọn không tồn tại"
        else:
            ans, tol = p["answer"], p["tol"]
            for typed in (_fmt_comma(ans), f"{ans:.10g}", ans):
                ok, msg = q.check(typed)
                assert ok is True and msg == f"✓ Đúng. {p['explain']}", (q.question, typed)
            for v, _t, why in p["wrong"]:
                assert abs(v - ans) > tol, "lỗi hay gặp trùng với đáp án"
                ok, msg = q.check(_fmt_comma(v))
                assert ok is False and msg == f"✗ Chưa đúng. {why} Hãy thử lại.", (q.question, v)
            far = next(
                x
                for x in (ans + 10 * tol + 1.0 + 10 * abs(ans), -ans - 7.0, 12345.0)
                if abs(x - ans) > tol and all(abs(x - v) > t for v, t, _ in p["wrong"])
            )
            ok, msg = q.check(_fmt_comma(far))
            assert ok is False and msg == f"✗ Chưa đúng. {hint} Hãy thử lại."
        if q.plot is not None:
            fig = q.figure
            assert fig is not None and fig.axes
            ax = fig.axes[0]
            assert ax.lines or ax.patches, "hình của câu dự đoán không vẽ gì"
    assert "choice" in kinds or "number" in kinds


def test_course_has_predict_the_plot_questions(quizzes):
    with_plot = [q for items in quizzes.values() for _c, q in items if q.plot is not None]
    assert len(with_plot) >= 3
    for q in with_plot:
        assert q.question.startswith("Dự đoán hình:")


@pytest.mark.parametrize("num", NUMS)
def test_answers_and_explanations_are_not_plain_text_in_the_notebook(num, quizzes):
    path = next(p for p in LECTURES if p.name.startswith(num))
    raw = path.read_text(encoding="utf-8")
    for cell, q in quizzes[num]:
        p = Q.decode(q.question, q.key)
        assert p["explain"] not in raw and json_escape(p["explain"]) not in raw
        for why in list(
            p["wrong"].values() if p["kind"] == "choice" else [w[2] for w in p["wrong"]]
        ):
            assert why not in raw and json_escape(why) not in raw
        if p["kind"] == "choice":
            assert f"answer={p['answer']!r}" not in cell.source
        else:
            assert "answer" not in cell.source


def json_escape(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)[1:-1]


# Đáp án của các câu điền số, tính lại độc lập ở đây (số trong bài phải do mã tính ra).
EXPECTED = {
    ("01", "Tổng có trọng số"): 5 * 0.1 + 3 * 0.6 + 2 * 0.5 + 0.8,
    ("01", "Mạng 3 → 4 → 1"): 4 * 3 + 4 + 1 * 4 + 1,
    ("02", "σ′(0)"): 0.5 * (1 - 0.5),
    ("03", "quên chia m"): (8 - 1) / (8 + 1),
    ("04", "10 lớp"): math.log(10),
    ("04", "batch_size = 64"): 5 * math.ceil(1000 / 64),
    ("04", "L = 4"): 2 / 4,
    ("05", "Động lượng"): 1 / (1 - 0.9),
    ("05", "t = 2"): 1 / (1 - 0.9**2),
    ("06", "He"): math.sqrt(2 / 500),
    ("06", "0,01·N(0, 1)"): 0.01 * math.sqrt(500),
    ("07", "z-score"): (6 - np.mean([2, 4, 6])) / np.std([2, 4, 6]),
    ("07", "min-max"): (30 - 10) / (60 - 10),
    ("08", "100 → 50"): 2 * 50,
    ("09", "L2"): 0.1 / 10 * 0.5,
    ("09", "keep_prob = 0,8"): 2 / 0.8,
    ("10", "5 lớp"): math.log(5),
    ("10", "Tỉ lệ giữa độ lớn"): 1e-3,
    ("11", "Ảnh 32 × 32"): (32 - 5) // 1 + 1,
    ("11", "16 bộ lọc"): (3 * 3 * 3 + 1) * 16,
    ("11", "Ba tầng tích chập"): 1 + 3 * (3 - 1),
    ("13", "xác suất 0,25"): 1 / 0.25,
    ("13", "dài 5 từ"): math.exp(1 - 10 / 5),
}


def test_numeric_answers_match_independent_computation(quizzes):
    seen = set()
    for num, items in quizzes.items():
        for _cell, q in items:
            p = Q.decode(q.question, q.key)
            if p["kind"] != "number":
                continue
            keys = [k for k in EXPECTED if k[0] == num and k[1] in q.question]
            assert len(keys) == 1, (
                f"bài {num}: câu điền số chưa có giá trị kiểm chứng: {q.question}"
            )
            seen.add(keys[0])
            assert p["answer"] == pytest.approx(EXPECTED[keys[0]], rel=1e-6), q.question
    assert seen == set(EXPECTED)


def test_the_bt05_style_numbers_in_lecture_06_quiz_match_nblib():
    from nblib import init

    W = init.initialize("he", 500, 500, 0)
    assert W.std() == pytest.approx(EXPECTED[("06", "He")], rel=0.01)


def test_quiz_texts_are_vietnamese_and_spelled_correctly(quizzes):
    if not lc.hunspell_available():
        pytest.skip("thiếu hunspell-vi")
    allow = lc.load_allowlist()
    toks = set()
    for items in quizzes.values():
        for _cell, q in items:
            p = Q.decode(q.question, q.key)
            texts = [q.question, p["explain"], p.get("hint") or "", *(q.options or [])]
            texts += (
                list(p["wrong"].values()) if p["kind"] == "choice" else [w[2] for w in p["wrong"]]
            )
            for t in texts:
                assert unicodedata.is_normalized("NFC", t)
                for tok in lc.words(t):
                    if tok.lower() in allow:
                        continue
                    toks.update(
                        part
                        for part in re.split(r"[-'’]", tok)
                        if len(part) >= 2
                        and part.lower() not in allow
                        and lc.looks_vietnamese(part)
                    )
    bad = lc.hunspell_unknown(toks)
    assert not bad, f"từ không có trong từ điển: {sorted(bad)}"


# ---------------------------------------------------------------------------
# mục "Bài tập"
# ---------------------------------------------------------------------------

DIFFICULTY = re.compile(r"^\d+\. \*\*\((dễ|vừa|khó)\)\*\* ", flags=re.M)


@pytest.mark.parametrize("num", NUMS)
def test_every_lecture_has_3_to_5_open_exercises_with_difficulty(num):
    path = next(p for p in LECTURES if p.name.startswith(num))
    cells = _cells(path)
    ex = [
        c.source for c in cells if c.cell_type == "markdown" and c.source.startswith("## Bài tập")
    ]
    assert len(ex) == 1
    items = re.findall(r"^\d+\. ", ex[0], flags=re.M)
    marks = DIFFICULTY.findall(ex[0])
    assert 3 <= len(items) <= 5 and len(marks) == len(items)
    assert len(set(marks)) >= 2, "trộn nhiều mức độ"
    # có bài yêu cầu sửa mã rồi quan sát
    assert re.search(r"\b(đổi|thay|thêm|bỏ|tăng|sửa)\b", ex[0].lower())
    order = [
        c.source.split("\n", 1)[0]
        for c in cells
        if c.cell_type == "markdown" and c.source.startswith("## ")
    ]
    assert order[-4:] == [
        "## Câu hỏi",
        "## Bài tập",
        "## Tóm tắt",
        "## Tài liệu tham khảo",
    ] or order[-3:] == [
        "## Câu hỏi",
        "## Bài tập",
        "## Tóm tắt",
    ]
