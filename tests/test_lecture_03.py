"""Kiểm thử bài 03 (lan truyền ngược): bài tập đạo hàm, công thức δ, bảng XOR, kiểm tra gradient và hai demo."""

import numpy as np
import pytest
from conftest import all_output_text
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    assert_runs_cleanly,
    decimal_point_readouts,
    demo_check_cell,
    executed_fixture,
)

NB = "lectures/03_lan_truyen_nguoc.ipynb"

EXTRA = (
    """
__test_results__["drill_errors"] = drill_errors
__test_results__["delta_rule_errors"] = delta_rule_errors
__test_results__["scratch_vs_nblib"] = scratch_vs_nblib
__test_results__["costs"] = [cost_scratch, cost_layers, cost_mlp]
__test_results__["xor_table"] = xor_table
__test_results__["xor_epochs"] = xor_result["epochs"]
__test_results__["gradcheck_ok"] = gradcheck_ok
__test_results__["mlp_errors"] = mlp_errors
__test_results__["gradcheck_bugs"] = gradcheck_bugs
__test_results__["best_h"] = best_h
__test_results__["h_curve"] = h_curve
""",
    demo_check_cell("demo", alpha=2.0, n_hidden=3, seed=1),
    demo_check_cell("demo_stuck", alpha=2.0, n_hidden=2, seed=1),
    demo_check_cell("demo_gradcheck", demo="demo_gradcheck", version="tanh", h=1e-4),
    demo_check_cell("demo_gradcheck_ok", demo="demo_gradcheck", version="đúng", h=1e-6),
)


executed = executed_fixture(NB, EXTRA)


def test_runs_cleanly(executed):
    assert_runs_cleanly(executed[0])


def test_derivative_drills_match_numeric(executed):
    _, r = executed
    assert len(r["drill_errors"]) == 6
    for name, err in r["drill_errors"].items():
        assert err < 1e-7, name


def test_delta_rule_matches_numeric(executed):
    _, r = executed
    assert set(r["delta_rule_errors"]) == {"W1", "b1", "W2", "b2"}
    assert max(r["delta_rule_errors"].values()) < 1e-7


def test_vectorized_backprop_matches_nblib(executed):
    _, r = executed
    assert max(r["scratch_vs_nblib"].values()) < 1e-10
    c = r["costs"]
    assert c[0] == pytest.approx(c[1], rel=1e-12) and c[0] == pytest.approx(c[2], rel=1e-12)


def test_xor_table(executed):
    nb, r = executed
    table = r["xor_table"]
    # thứ tự dòng như ghi chú: (1,1), (0,1), (1,0), (0,0)
    assert [row[:3] for row in table] == [[1, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 0]]
    for _x1, _x2, y, yhat, e in table:
        assert e == pytest.approx(y - yhat, abs=1e-12)
        assert abs(e) < 0.06
    assert r["xor_epochs"] < 20000
    text = all_output_text(nb)
    assert "e = y − ŷ" in text


def test_gradient_checking(executed):
    _, r = executed
    assert max(r["gradcheck_ok"].values()) < 1e-7
    assert max(r["mlp_errors"].values()) < 1e-7
    bugs = r["gradcheck_bugs"]
    assert max(bugs["đúng"].values()) < 1e-7
    tanh_bug = bugs["quên đạo hàm tanh ở dZ1"]
    assert tanh_bug["W1"] > 1e-2 and tanh_bug["W2"] < 1e-7  # chỉ đúng tham số bị sai
    m_bug = bugs["quên chia m ở dW2"]
    assert m_bug["W2"] == pytest.approx(7 / 9, rel=1e-6)  # (m − 1)/(m + 1) với m = 8
    assert m_bug["W1"] < 1e-7
    # đường cong chữ U theo h: tốt ở giữa, tệ ở hai đầu
    curve = np.array(r["h_curve"])
    assert 1e-8 <= r["best_h"] <= 1e-3
    assert curve.min() < 1e-8 and curve[0] > 1e-6 and curve[-1] > 1e-4


def test_xor_demo(executed):
    _, r = executed
    assert_demo_ok(r["demo"])
    assert "Hội tụ" in r["demo"]["status"]
    assert_demo_ok(r["demo_stuck"])
    assert "Chưa hội tụ" in r["demo_stuck"]["status"]


def test_gradcheck_demo(executed):
    _, r = executed
    assert_demo_ok(r["demo_gradcheck"])
    assert "báo lỗi ở: W1" in r["demo_gradcheck"]["status"]
    assert_demo_ok(r["demo_gradcheck_ok"])
    assert r["demo_gradcheck_ok"]["status"].count("Đạt") == 1


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=6)


def test_gradient_check_rule_is_nblib_rule():
    """Quy tắc đọc sai số của mục 6 là đúng quy tắc của `nblib.gradcheck` (một quy tắc cho cả khoá học)."""
    import re

    import nbformat
    from conftest import ROOT

    from nblib import gradcheck

    nb = nbformat.read(ROOT / NB, as_version=4)
    rule = next(c.source for c in nb.cells if "**Quy tắc đọc sai số**" in c.source)
    rows = [ln for ln in rule.splitlines() if ln.startswith("| ") and "10^{" in ln]
    exps = [[int(e) for e in re.findall(r"10\^\{(-\d+)\}", ln)] for ln in rows]
    assert exps == [[-7], [-7, -4], [-4]], rows
    assert gradcheck.GOOD_REL_ERROR == 10.0**-7 and gradcheck.BAD_REL_ERROR == 10.0**-4
    verdicts = [ln.split("|")[2].strip() for ln in rows]
    assert verdicts[0] == gradcheck.verdict(1e-8) == "tốt"
    assert (
        verdicts[1].startswith(gradcheck.verdict(1e-5)) and gradcheck.verdict(1e-5) == "cần xem lại"
    )
    assert "có lỗi" in verdicts[2] and gradcheck.verdict(1e-3) == "có lỗi"


def test_tick_labels_use_decimal_comma(executed):
    """Nhãn vạch chia của mọi hình dùng dấu phẩy thập phân (show() của bài áp style_figure)."""
    assert executed[1]["dot_tick_labels"] == []


def test_printed_numbers_use_decimal_comma(executed):
    """Số in ra cho người học dùng dấu phẩy thập phân (glossary.md)."""
    assert decimal_point_readouts(executed[0]) == []


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
