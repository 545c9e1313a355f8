"""Kiểm thử bài 01 (mạng nơ-ron và lan truyền thuận): chạy notebook, kiểm tra số liệu và bản demo."""

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

import nblib

NB = "lectures/01_mang_no_ron_lan_truyen_thuan.ipynb"

EXTRA = (
    """
__test_results__["z"] = z_example
__test_results__["a"] = a_example
__test_results__["ratio"] = vectorization_ratio
__test_results__["t_loop"] = t_loop
__test_results__["loop_matches_dot"] = abs(c_loop - c_dot) / abs(c_dot)
__test_results__["allclose_loop_matrix"] = bool(np.allclose(yhat_loop, yhat_matrix))
__test_results__["shapes"] = shapes
__test_results__["collapse_error"] = collapse_error
__test_results__["affine_error"] = affine_error
__test_results__["residual_linear"] = residual_linear
__test_results__["residual_nonlinear"] = residual_nonlinear
""",
    demo_check_cell("demo", w1=-2.0, w2=0.5, b=1.5),
    demo_check_cell("demo_zero_w", w1=0.0, w2=0.0, b=1.0),
    demo_check_cell("demo_negative", w1=1.0, w2=-0.5, b=-1.5),
)


executed = executed_fixture(NB, EXTRA)


def test_runs_cleanly(executed):
    assert_runs_cleanly(executed[0])


def test_worked_example_4_1_and_0_983(executed):
    _, r = executed
    assert r["z"] == pytest.approx(4.1, abs=1e-12)
    # σ(4.1) = 0.98370: ghi chú cắt bớt thành 0.983, làm tròn đúng là 0.984
    assert r["a"] == pytest.approx(0.983698, abs=1e-6)
    assert np.floor(r["a"] * 1000) / 1000 == pytest.approx(0.983)
    # cùng phép tính bằng nblib ngay trong tiến trình kiểm thử
    ref = float(nblib.activations.sigmoid(np.array([0.5 + 1.8 + 1.0 + 0.8]))[0])
    assert r["a"] == pytest.approx(ref, rel=1e-12)
    text = all_output_text(executed[0])
    assert "4,1000" in text and "0,983" in text and "0,984" in text


def test_shapes_table(executed):
    _, r = executed
    s = r["shapes"]
    assert s["X"] == [3, 5]
    assert s["W[1]"] == [4, 3]
    assert s["b[1]"] == [4, 1]
    assert s["Z[1] = W[1] X + b[1]"] == [4, 5]
    assert s["W[2]"] == [1, 4]
    assert s["A[2] = σ(Z[2])"] == [1, 5]
    assert r["allclose_loop_matrix"] is True


def test_vectorization_ratio(executed):
    _, r = executed
    assert r["ratio"] > 50
    assert r["loop_matches_dot"] < 1e-9  # vòng lặp và np.dot cho cùng kết quả
    assert r["t_loop"] > 0


def test_linear_layers_collapse(executed):
    _, r = executed
    assert r["collapse_error"] < 1e-10
    assert r["affine_error"] < 1e-10
    assert r["residual_linear"] < 1e-20
    assert r["residual_nonlinear"] > 1e-3  # có sigmoid ở giữa thì không gộp được


def test_demo_updates_in_place(executed):
    _, r = executed
    d = r["demo"]
    assert_demo_ok(d)
    assert "-2,0·x₁ + 0,5·x₂ + 1,5 = 0" in d["status"]


def test_demo_status_number_format(executed):
    """Dòng trạng thái viết số theo glossary: dấu phẩy thập phân, dấu trừ riêng (không "+ -1.5"),
    danh sách số ngăn bằng "; " (dấu phẩy đã là dấu thập phân)."""
    status = executed[1]["demo_negative"]["status"]
    assert "1,0·x₁ − 0,5·x₂ − 1,5 = 0" in status, status
    assert "+ -" not in status and "." not in status.split("điểm mẫu:")[1]
    outputs = status.split("điểm mẫu:")[1].split("<")[0].split(";")
    assert len(outputs) == 5 and all("," in v for v in outputs), outputs


def test_demo_zero_weights(executed):
    _, r = executed
    d = r["demo_zero_w"]
    assert_demo_ok(d)
    assert "không có ranh giới quyết định" in d["status"]


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=5)


def test_tick_labels_use_decimal_comma(executed):
    """Nhãn vạch chia của mọi hình dùng dấu phẩy thập phân (show() của bài áp style_figure)."""
    assert executed[1]["dot_tick_labels"] == []


def test_printed_numbers_use_decimal_comma(executed):
    """Số in ra cho người học dùng dấu phẩy thập phân (glossary.md)."""
    assert decimal_point_readouts(executed[0]) == []


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
