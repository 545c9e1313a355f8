"""Bài 11 (tổng quan CNN/RNN): công thức khớp PyTorch, các thí nghiệm nhỏ, demo RNN cập nhật được."""

import re

import nbformat
import pytest
from conftest import ROOT, error_outputs
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    demo_check_cell,
    executed_fixture,
)

NB = "lectures/11_tong_quan_cnn_rnn.ipynb"

COLLECT = """
__test_results__.update(
    conv_diff=float(conv_diff),
    n_checked=int(n_checked),
    n_match=int(n_match),
    param_table=[[r[0], list(r[1]), list(r[2]), int(r[3]), int(r[4])] for r in param_table],
    total_formula=int(total_formula),
    total_torch=int(total_torch),
    R2=int(R2),
    receptive_fields=[[cnn.receptive_field(ks, ss), *map(int, measure_receptive_field(ks, ss)[:2])] for ks, ss in stacks],
    acc_cnn_val=float(acc_cnn_val),
    rnn_diff=float(rnn_diff),
    jacobian_diff=float(jacobian_diff),
    norm_linear={str(rho): float(grad_norm_over_time(rho, "tuyến tính")[-1]) for rho in (0.5, 1.0, 1.5)},
    T_MAX=int(T_MAX),
    lstm_ratio={k: float(g[0] / g[-1]) for k, g in grad_by_net.items()},
    lstm_diff=float(lstm_diff),
    gru_diff=float(gru_diff),
    acc_20=float(acc_20),
    gradcheck_ok=bool(gradcheck_ok),
    O_q1=int(O_q1),
)
"""

RHO_EXPR = "_np.asarray(demo.line_rho.get_ydata(), dtype=float)"
DEMO = (
    demo_check_cell(
        "demo",
        watch={"line": "demo.line.get_ydata()"},
        extra={
            "rho_ok": f"bool(_np.allclose({RHO_EXPR}, 1.3 ** _np.arange(1, len({RHO_EXPR}) + 1)))"
        },
        rho=1.3,
        activation="tanh",
    ),
)


executed = executed_fixture(NB, (COLLECT, *DEMO))


def test_no_errors(executed):
    assert error_outputs(executed[0]) == []


def test_conv_from_scratch_matches_torch(executed):
    _, r = executed
    assert r["conv_diff"] < 1e-10


def test_output_size_formula_agrees_with_torch_on_grid(executed):
    _, r = executed
    assert r["n_checked"] > 1000
    assert r["n_match"] == r["n_checked"]


def test_parameter_table_matches_torch(executed):
    _, r = executed
    for name, shape, torch_shape, a, b in r["param_table"]:
        assert shape == torch_shape, name
        assert a == b, name
    assert r["total_formula"] == r["total_torch"] == 1898


def test_receptive_field(executed):
    _, r = executed
    assert r["R2"] == 5
    for R, h, w in r["receptive_fields"]:
        assert R == h == w


def test_rnn_and_gradients_through_time(executed):
    _, r = executed
    assert r["rnn_diff"] < 1e-6
    assert r["jacobian_diff"] < 1e-8
    T = r["T_MAX"]
    lin = {float(k): v for k, v in r["norm_linear"].items()}
    # RNN tuyến tính với W_aa = ρ·Q (Q trực giao): chuẩn gradient đúng bằng ρ^T
    for rho, v in lin.items():
        assert v == pytest.approx(rho**T, rel=1e-6)
    assert r["lstm_ratio"]["RNN tanh"] < 1e-6
    assert r["lstm_ratio"]["LSTM, b_f = 3"] > 1e-2


def test_gate_names_match_torch(executed):
    """Mục 6.3: [i, f, g, o] của nn.LSTM là Γ_i, Γ_f, c̃, Γ_o; [r, z, n] của nn.GRU là Γ_r, 1 − Γ_u, c̃."""
    _, r = executed
    assert r["lstm_diff"] < 1e-6
    assert r["gru_diff"] < 1e-6
    md = "\n".join(c.source for c in nbformat.read(ROOT / NB, as_version=4).cells)
    assert "cổng liên quan" not in md
    assert "cổng vào $\\Gamma_i$" in md and "cổng đặt lại $\\Gamma_r$" in md


def test_small_cnn_trains_and_tips(executed):
    _, r = executed
    assert r["acc_cnn_val"] > 0.9
    assert r["acc_20"] == 1.0
    assert r["gradcheck_ok"]
    assert r["O_q1"] == 32


def test_demo_updates_in_place(executed):
    _, r = executed
    d = r["demo"]
    assert_demo_ok(d)  # đường chuẩn gradient đổi, vẽ lại đúng 1 lần, không lỗi
    assert d["watched_changed"] == {"line": True}
    assert d["extra"]["rho_ok"]
    assert "T = 40" in d["status"]


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=6, first_code="import nblib; nblib.print_backend()")


def test_note_error_lstm_is_not_a_generalization_of_gru_is_flagged():
    """Ghi chú viết "LSTM là sự tổng quát của GRU": bài phải đánh dấu đây là lỗi và nói vì sao."""
    md = "\n".join(
        c.source for c in nbformat.read(ROOT / NB, as_version=4).cells if c.cell_type == "markdown"
    )
    callouts = re.findall(r"> \*\*Sửa lỗi ghi chú\.\*\*(.*?)(?:\n\n|\Z)", md, flags=re.S)
    (gru,) = [c for c in callouts if "tổng quát" in c]
    assert "GRU" in gru and "không" in gru and "cổng đặt lại" in gru


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
