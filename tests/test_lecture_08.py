"""Kiểm thử bài 08 (chuẩn hoá theo batch): chạy notebook, kiểm tra công thức, chế độ kiểm tra, thí nghiệm."""

import math
import re

import nbformat
import pytest
from conftest import ROOT
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    assert_runs_cleanly,
    demo_check_cells,
    executed_fixture,
)

pytestmark = pytest.mark.slow

PATH = "lectures/08_batch_normalization.ipynb"

VALUES_CELL = """
__test_results__["bn_out_mean"] = out.mean(axis=1)
__test_results__["bn_out_var"] = out.var(axis=1)
__test_results__["identity_err"] = identity_err
__test_results__["gb_change"] = gb_change
__test_results__["bias_shift_err"] = bias_shift_err
__test_results__["grad_errors"] = bn_grad_errors
__test_results__["dZ_sum"] = dZ.sum(axis=1)
__test_results__["running"] = [trace_mean[-1], trace_var[-1]]
__test_results__["test_mode_acc"] = list(test_mode_acc.values())
__test_results__["init_std"] = {str(k): v for k, v in init_std.items()}
__test_results__["bad_init"] = {str(bn): {"loss": r["final_loss"], "acc": r["acc"],
                                          "status": r["hist"]["status"]}
                                for bn, r in bad_init.items()}
__test_results__["lr_results"] = [[bn, lr, r["status"], r["acc"]] for (bn, lr), r in lr_results.items()]
"""

DEMOS = {"demo": dict(scale=3.0, activation="tanh", lr=0.3)}


executed = executed_fixture(PATH, [VALUES_CELL, *demo_check_cells(DEMOS)])


def test_runs_cleanly(executed):
    assert_runs_cleanly(executed[0], printed=True)


def test_forward_formulas(executed):
    _, res = executed
    assert all(abs(v) < 1e-9 for v in res["bn_out_mean"])
    assert all(abs(v - 1) < 1e-3 for v in res["bn_out_var"])
    assert res["identity_err"] < 1e-9  # γ = √(σ²+ε), β = μ khôi phục Z
    assert res["bias_shift_err"] < 1e-9  # b thừa


def test_gamma_beta_are_learned_parameters(executed):
    """Sửa lỗi ghi chú: γ, β là tham số (nằm trong model.params, đổi khi huấn luyện), không phải siêu tham số."""
    _, res = executed
    assert set(res["gb_change"]) == {"gamma1", "beta1"}
    assert all(v > 0.05 for v in res["gb_change"].values()), res["gb_change"]


def test_backward_matches_numeric_gradient(executed):
    _, res = executed
    for name, err in res["grad_errors"].items():
        assert err < 1e-7, name
    assert all(abs(v) < 1e-9 for v in res["dZ_sum"])


def test_running_averages_converge(executed):
    _, res = executed
    mean, var = res["running"]
    assert abs(mean - 3) < 0.3
    assert abs(var - 4) < 0.6


def test_batch_statistics_at_test_time_is_a_bug(executed):
    _, res = executed
    correct, whole, skewed, single = res["test_mode_acc"]
    assert correct > 0.9
    assert abs(whole - correct) < 0.05  # lỗi bị che giấu với batch lớn, trộn đều
    assert skewed < correct - 0.2
    assert single < 0.45  # batch 1 mẫu: mọi đầu vào cho cùng một đầu ra


def test_bad_init_stalls_without_bn_trains_with_bn(executed):
    _, res = executed
    plain, bn = res["bad_init"]["False"], res["bad_init"]["True"]
    assert abs(plain["loss"] - math.log(3)) < 0.01  # đứng yên ở ln 3
    assert plain["acc"] < 0.45
    assert bn["loss"] < 0.5 * math.log(3)
    assert bn["acc"] > 0.85
    std_plain, std_bn = res["init_std"]["False"], res["init_std"]["True"]
    assert std_plain[-1] < 1e-8
    assert all(0.3 < s < 1.0 for s in std_bn)


def test_bn_tolerates_larger_learning_rate(executed):
    _, res = executed
    table = {(bn, lr): (status, acc) for bn, lr, status, acc in res["lr_results"]}
    lrs = sorted({lr for _, lr in table})
    top = lrs[-1]
    assert table[False, top][0] == "phân kỳ"
    assert table[True, top][0] == "ok" and table[True, top][1] > 0.85
    ok_plain = [lr for lr in lrs if table[False, lr][0] == "ok" and table[False, lr][1] > 0.9]
    ok_bn = [lr for lr in lrs if table[True, lr][0] == "ok" and table[True, lr][1] > 0.9]
    assert max(ok_bn) > max(ok_plain)


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_updates(executed, name):
    _, res = executed
    assert_demo_ok(res[name], kinds=("lines", "collections"))


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(PATH, min_answers=5, first_code=None)


def test_note_errors_flagged_mean_and_variance_gamma_beta_are_parameters():
    """Hai lỗi ghi chú: γ, β là tham số học được (không phải siêu tham số); chuẩn hoá theo batch tính
    trung bình và phương sai (không phải "phương sai và độ lệch chuẩn"). Mã kiểm chứng: các kiểm thử
    test_forward_formulas và test_gamma_beta_are_learned_parameters ở trên."""
    nb = nbformat.read(ROOT / PATH, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    (fix,) = re.findall(r"> \*\*Sửa lỗi ghi chú\.\*\*.*?(?:\n\n|\Z)", md, flags=re.S)
    assert "siêu tham số" in fix and "**tham số**" in fix
    assert "**trung bình** $\\mu_B$" in fix and "**phương sai** $\\sigma_B^2$" in fix


@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.5])
def test_backward_sums_stated_with_epsilon(eps):
    """Mục 3: Σ dz = 0 đúng với mọi ε; Σ dz·ẑ = ε/(σ²+ε)·Σ(dẑ·ẑ)/√(σ²+ε), chỉ bằng 0 khi ε = 0."""
    import numpy as np

    from nblib import layers

    rng = np.random.default_rng(0)
    Z, dout = rng.normal(size=(3, 16)) * 0.8, rng.normal(size=(3, 16))
    gamma, beta = rng.uniform(0.5, 2.0, size=(3, 1)), rng.normal(size=(3, 1))
    _, cache = layers.batchnorm_forward(Z, gamma, beta, {}, train=True, eps=eps)
    dZ, _, _ = layers.batchnorm_backward(dout, cache)
    var = Z.var(axis=1, keepdims=True)
    z_hat = (Z - Z.mean(axis=1, keepdims=True)) / np.sqrt(var + eps)
    np.testing.assert_allclose(dZ.sum(axis=1), 0.0, atol=1e-12)
    dz_hat = gamma * dout
    expected = eps / (var + eps) * (dz_hat * z_hat).sum(axis=1, keepdims=True) / np.sqrt(var + eps)
    np.testing.assert_allclose((dZ * z_hat).sum(axis=1, keepdims=True), expected, atol=1e-12)
    if eps > 0.1:
        assert np.abs(expected).max() > 1e-3  # với ε lớn tổng thứ hai rõ ràng khác 0
    nb = nbformat.read(ROOT / PATH, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "bằng 0 chỉ khi $\\varepsilon = 0$" in md


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
