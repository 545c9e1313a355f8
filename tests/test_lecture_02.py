"""Kiểm thử bài 02 (hàm kích hoạt): chạy notebook, kiểm tra bảng đạo hàm, tiêu biến gradient, ReLU chết và demo."""

import numpy as np
import pytest
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    assert_runs_cleanly,
    decimal_point_readouts,
    demo_check_cell,
    executed_fixture,
)

from nblib import activations as act

NB = "lectures/02_ham_kich_hoat.ipynb"

EXTRA = (
    """
__test_results__["circle_acc"] = circle_acc
__test_results__["derivative_table"] = derivative_table
__test_results__["sig_grad_max"] = sig_grad_max
__test_results__["quarter_pow_20"] = quarter_pow_20
__test_results__["grad_ratio"] = grad_ratio
__test_results__["dA_ratio"] = dA_ratio
__test_results__["act_ratio"] = act_ratio
__test_results__["same_sign"] = same_sign
__test_results__["dead_fraction"] = dead_fraction
__test_results__["dead_acc"] = dead_acc
__test_results__["dead_grad_max"] = dead_grad_max
__test_results__["n_dead_layer2"] = int(dead_units.sum())
__test_results__["softmax_jacobian_error"] = softmax_jacobian_error
__test_results__["softmax_example"] = s_vec.ravel()
""",
    demo_check_cell("demo_tanh", activation="tanh", input_scale=10.0, weight_gain=1.0),
    demo_check_cell("demo_relu", activation="relu", input_scale=1.0, weight_gain=3.0),
    demo_check_cell("demo_extreme", activation="sigmoid", input_scale=100.0, weight_gain=10.0),
)


executed = executed_fixture(NB, EXTRA)


def test_runs_cleanly(executed):
    assert_runs_cleanly(executed[0])


def test_nonlinearity_needed(executed):
    _, r = executed
    assert r["circle_acc"]["linear"] < 0.7
    assert r["circle_acc"]["relu"] > 0.95


def test_derivative_tables(executed):
    _, r = executed
    t = r["derivative_table"]
    # sigmoid: bảng của ghi chú (1, 0, 0.5 và đạo hàm 0, 0, 0.25), với giá trị chính xác
    assert t["sigmoid"]["10"][0] == pytest.approx(0.9999546, abs=1e-7)
    assert t["sigmoid"]["10"][1] == pytest.approx(4.5398e-5, rel=1e-3)
    assert t["sigmoid"]["-10"][0] == pytest.approx(4.5398e-5, rel=1e-3)
    assert t["sigmoid"]["-10"][1] == pytest.approx(4.5398e-5, rel=1e-3)
    assert t["sigmoid"]["0"] == pytest.approx([0.5, 0.25])
    # tanh: 1, -1, 0 và đạo hàm 0, 0, 1
    assert t["tanh"]["10"][0] == pytest.approx(1.0, abs=1e-8)
    assert t["tanh"]["-10"][0] == pytest.approx(-1.0, abs=1e-8)
    assert 0 < t["tanh"]["10"][1] < 1e-8 and 0 < t["tanh"]["-10"][1] < 1e-8
    assert t["tanh"]["0"] == pytest.approx([0.0, 1.0])
    # ReLU / Leaky ReLU
    assert t["ReLU"]["10"] == pytest.approx([10.0, 1.0])
    assert t["ReLU"]["-10"] == pytest.approx([0.0, 0.0])
    assert t["Leaky ReLU"]["-10"] == pytest.approx([-0.1, 0.01])
    # cùng phép tính với nblib trong tiến trình kiểm thử
    z = np.array([10.0, -10.0, 0.0])
    np.testing.assert_allclose(
        [t["sigmoid"][k][1] for k in ("10", "-10", "0")], act.sigmoid_grad(z)
    )
    np.testing.assert_allclose([t["tanh"][k][1] for k in ("10", "-10", "0")], act.tanh_grad(z))


def test_vanishing_gradient_numbers(executed):
    _, r = executed
    assert r["sig_grad_max"] == pytest.approx(0.25, abs=1e-9)
    assert r["quarter_pow_20"] == pytest.approx(9.094947e-13, rel=1e-6)  # ghi chú viết nhầm 9e-12
    assert r["grad_ratio"]["sigmoid"] < 1e-6
    for name in ("tanh", "relu"):
        assert 0.1 < r["grad_ratio"][name] < 10


def test_relu_dW_flat_while_dA_shrinks(executed):
    """Mục 4: với Xavier + ReLU, ‖dW‖ phẳng nhưng ‖dA‖ co ~1e-3 qua 20 tầng; tín hiệu xuôi co cùng cỡ."""
    _, r = executed
    assert 0.5 < r["grad_ratio"]["relu"] < 2  # ‖dW[1]‖ / ‖dW[20]‖ ≈ 1
    dA = r["dA_ratio"]["relu"]
    assert 5e-4 < dA < 3e-3, dA  # ‖dA[1]‖ / ‖dA[20]‖ khoảng 1e-3
    assert abs(dA / 2**-9.5 - 1) < 0.5  # (1/√2)^19
    act = r["act_ratio"]["relu"]
    assert 5e-4 < act < 3e-3, act  # std(A[20]) / std(A[1]) khoảng một phần nghìn
    # hai hệ số triệt tiêu nhau trong dW = dZ · Aᵀ
    assert 0.5 < r["grad_ratio"]["relu"] / (dA / act) < 2
    assert 0.15 < r["dA_ratio"]["tanh"] < 0.5  # tanh: dA co khoảng 4 lần


def test_non_zero_centered_same_sign(executed):
    _, r = executed
    pos = r["same_sign"]["sigmoid (luôn dương)"]
    sym = r["same_sign"]["tanh (đối xứng quanh 0)"]
    assert pos == 1.0
    assert sym < 0.15


def test_dead_relu(executed):
    _, r = executed
    low = r["dead_fraction"]["relu, tốc độ học 0,01"]
    high = r["dead_fraction"]["relu, tốc độ học 0,1"]
    assert np.mean(high) > 0.3
    assert np.mean(high) > np.mean(low) + 0.2
    assert r["n_dead_layer2"] > 0
    assert r["dead_grad_max"] == 0.0  # nơ-ron chết nhận gradient đúng bằng 0


def test_softmax(executed):
    _, r = executed
    assert r["softmax_jacobian_error"] < 1e-7
    np.testing.assert_allclose(r["softmax_example"], [0.659001, 0.242433, 0.098566], atol=1e-5)


@pytest.mark.parametrize("case", ["demo_tanh", "demo_relu", "demo_extreme"])
def test_demo_updates_in_place(executed, case):
    _, r = executed
    assert_demo_ok(r[case])


def test_demo_status_mentions_activation(executed):
    _, r = executed
    assert "tanh: ‖dW[1]‖ / ‖dW[20]‖" in r["demo_tanh"]["status"]
    assert "relu" in r["demo_relu"]["status"]


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=6)


def test_tick_labels_use_decimal_comma(executed):
    """Nhãn vạch chia của mọi hình dùng dấu phẩy thập phân (show() của bài áp style_figure)."""
    assert executed[1]["dot_tick_labels"] == []


def test_printed_numbers_use_decimal_comma(executed):
    """Số in ra cho người học dùng dấu phẩy thập phân (glossary.md)."""
    assert decimal_point_readouts(executed[0]) == []


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
