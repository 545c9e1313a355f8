"""Kiểm thử bài 07 (tiền xử lý dữ liệu): chạy notebook, kiểm tra các phép biến đổi và số bước đo được."""

import numpy as np
import pytest
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    assert_runs_cleanly,
    decimal_point_readouts,
    demo_check_cells,
    executed_fixture,
)

pytestmark = pytest.mark.slow

PATH = "lectures/07_tien_xu_ly_du_lieu.ipynb"

VALUES_CELL = """
__test_results__["white_identity_err"] = white_identity_err
__test_results__["gram_schmidt"] = gs_results
__test_results__["cov_white"] = cov_white
__test_results__["zca_cov"] = X_zca_white @ X_zca_white.T / X_zca_white.shape[1]
__test_results__["pca_offdiag"] = float(np.cov(transformed["pca"], bias=True)[0, 1])
__test_results__["zscore_mean"] = transformed["zscore"].mean(axis=1)
__test_results__["zscore_std"] = transformed["zscore"].std(axis=1)
__test_results__["minmax_range"] = [float(transformed["minmax"].min()), float(transformed["minmax"].max())]
__test_results__["fit_train_mean_err"] = fit_train_mean_err
__test_results__["state_train_mean"] = state_train["mean"].ravel()
__test_results__["state_all_mean"] = state_all["mean"].ravel()
__test_results__["train_mean_raw"] = X_train.mean(axis=1)
__test_results__["Z_train_mean"] = Z_train.mean(axis=1)
__test_results__["Z_train_std"] = Z_train.std(axis=1)
__test_results__["val_mean_after"] = val_mean_after
__test_results__["val_expected"] = ((X_val - X_train.mean(axis=1, keepdims=True))
                                    / X_train.std(axis=1, keepdims=True)).mean(axis=1)
__test_results__["bulk_iqr"] = bulk_iqr
__test_results__["same_sign"] = [same_sign_raw, same_sign_centered, same_sign_white]
__test_results__["steps"] = {k: (-1 if v is None else v) for k, v in steps_needed.items()}
__test_results__["max_steps"] = MAX_STEPS
__test_results__["best_final"] = {k: float(v[-1]) for k, v in best_curve.items()}
__test_results__["target"] = target
"""

DEMOS = {"demo": dict(method="whiten", rho=0.5, outliers=5)}


executed = executed_fixture(PATH, [VALUES_CELL, *demo_check_cells(DEMOS)])


def test_runs_cleanly(executed):
    assert_runs_cleanly(executed[0], printed=True)


def test_whitened_covariance_is_identity(executed):
    _, res = executed
    assert res["white_identity_err"] < 1e-6
    np.testing.assert_allclose(res["cov_white"], np.eye(2), atol=1e-6)
    np.testing.assert_allclose(res["zca_cov"], np.eye(2), atol=1e-6)
    assert abs(res["pca_offdiag"]) < 1e-8


def test_gram_schmidt_orthogonal_is_not_uncorrelated(executed):
    """Sửa lỗi ghi chú: Gram–Schmidt trên dữ liệu thô cho vector trực giao nhưng vẫn tương quan."""
    _, res = executed
    raw, centered = res["gram_schmidt"]["dữ liệu thô"], res["gram_schmidt"]["đã trừ trung bình"]
    assert abs(raw["dot"]) < 1e-9 and abs(raw["corr"]) > 0.1
    assert abs(centered["dot"]) < 1e-9 and abs(centered["corr"]) < 1e-9


def test_basic_transforms(executed):
    _, res = executed
    np.testing.assert_allclose(res["zscore_mean"], 0, atol=1e-9)
    np.testing.assert_allclose(res["zscore_std"], 1, atol=1e-9)
    assert res["minmax_range"] == pytest.approx([0.0, 1.0])


def test_fit_on_train_only(executed):
    _, res = executed
    assert res["fit_train_mean_err"] < 1e-12
    np.testing.assert_allclose(res["state_train_mean"], res["train_mean_raw"])
    assert not np.allclose(res["state_all_mean"], res["train_mean_raw"])
    np.testing.assert_allclose(res["Z_train_mean"], 0, atol=1e-9)
    np.testing.assert_allclose(res["Z_train_std"], 1, atol=1e-9)
    # tập kiểm định được biến đổi bằng thống kê của tập huấn luyện (không khớp lại)
    np.testing.assert_allclose(res["val_mean_after"], res["val_expected"], atol=1e-12)
    assert np.abs(res["val_mean_after"]).max() > 1e-3


def test_robust_scaler_resists_outliers(executed):
    _, res = executed
    iqr = res["bulk_iqr"]
    assert 0.8 < iqr["robust"] < 1.2
    assert iqr["minmax"] < 0.1
    assert iqr["zscore"] < 0.6


def test_gradient_sign(executed):
    _, res = executed
    raw, centered, white = res["same_sign"]
    assert raw == 1.0
    assert white < 0.65
    assert raw > centered > white


def test_normalization_needs_fewer_steps(executed):
    _, res = executed
    steps, max_steps = res["steps"], res["max_steps"]
    raw = steps["thô"] if steps["thô"] >= 0 else max_steps + 1
    assert 0 < steps["z-score"] <= 50
    assert 0 < steps["chuẩn hoá trắng"] <= steps["z-score"]
    assert steps["z-score"] * 10 < steps["trung tâm hoá"] < raw
    assert res["best_final"]["z-score"] <= res["target"]


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_updates(executed, name):
    _, res = executed
    assert_demo_ok(res[name], kinds=("lines", "collections"))


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(PATH, min_answers=5, first_code=None)


def test_tick_labels_use_decimal_comma(executed):
    """Nhãn vạch chia của mọi hình dùng dấu phẩy thập phân (show() của bài áp style_figure)."""
    assert executed[1]["dot_tick_labels"] == []


def test_printed_numbers_use_decimal_comma(executed):
    """Số in ra cho người học dùng dấu phẩy thập phân (glossary.md)."""
    assert decimal_point_readouts(executed[0]) == []


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
