"""Bài 09 (điều chuẩn): notebook chạy không lỗi, các số liệu chính đúng, bản demo cập nhật được."""

import math

import pytest
from conftest import all_output_text, error_outputs
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    demo_check_cell,
    executed_fixture,
)

NB = "lectures/09_regularization.ipynb"

COLLECT = """
__test_results__.update(
    ratio_inverted=float(mean_ratio_inverted),
    ratio_plain=float(mean_ratio_plain),
    keep_prob=float(keep_prob),
    n_dropped=float(n_dropped),
    norm_by_lambda={repr(float(k)): float(v) for k, v in norm_by_lambda.items()},
    gap_no_reg=float(gap_no_reg),
    gap_l2=float(gap_l2),
    gap_dropout=float(gap_dropout),
    tanh_deviation={repr(float(k)): float(v) for k, v in tanh_deviation.items()},
    relu_linearity={repr(float(k)): v for k, v in relu_linearity.items()},
    bayes_error=float(bayes_error),
    results_3={k: [float(a), float(b)] for k, (a, b) in results_3.items()},
    diagnose=[diagnose(tr, va) for tr, va in notes_table],
    augmentation={k: [float(a), float(b)] for k, (a, b) in aug_results.items()},
    n_zero_coefs={k: int((abs(v) < 1e-10).sum()) for k, v in methods.items()},
)
"""

DEMO = (
    demo_check_cell(
        "demo",
        watch={"mesh": "demo.mesh.get_array()", "bars": "[b.get_height() for b in demo.bars]"},
        lambd=1.0,
        keep_prob=0.7,
    ),
)


executed = executed_fixture(NB, (COLLECT, *DEMO))


def test_no_errors(executed):
    assert error_outputs(executed[0]) == []


def test_notes_table_diagnosis(executed):
    _, r = executed
    assert r["diagnose"] == [
        "phương sai cao (quá khớp)",
        "độ chệch cao (dưới khớp)",
        "độ chệch cao + phương sai cao",
        "độ chệch thấp, phương sai thấp",
    ]


def test_dropout_preserves_mean(executed):
    _, r = executed
    # dropout ngược giữ nguyên trung bình (trong vài phần trăm), chỉ tắt thì còn keep_prob lần
    assert abs(r["ratio_inverted"] - 1.0) < 0.03
    assert abs(r["ratio_plain"] - r["keep_prob"]) < 0.03
    assert abs(r["n_dropped"] - 50 * (1 - r["keep_prob"])) < 0.5


def test_l2_shrinks_weights(executed):
    _, r = executed
    norms = [v for _, v in sorted(((float(k), v) for k, v in r["norm_by_lambda"].items()))]
    assert len(norms) >= 5
    # chuẩn trọng số giảm đơn điệu theo λ và λ lớn nhất co trọng số ít nhất 5 lần
    assert all(b < a for a, b in zip(norms, norms[1:]))
    assert norms[-1] < norms[0] / 5


def test_regularization_narrows_gap(executed):
    _, r = executed
    assert r["gap_no_reg"] > 0.05  # quá khớp rõ khi không điều chuẩn
    assert r["gap_l2"] < r["gap_no_reg"]
    assert r["gap_dropout"] < r["gap_no_reg"]


def test_overfit_example_and_bayes_error(executed):
    _, r = executed
    assert 0.08 < r["bayes_error"] < 0.15
    tr0, va0 = r["results_3"]["mạng 64-64, λ = 0"]
    assert tr0 < r["bayes_error"] < va0  # học thuộc nhiễu: sai số huấn luyện dưới mức tối ưu


def test_tanh_nearly_linear_with_large_lambda(executed):
    _, r = executed
    dev = {float(k): v for k, v in r["tanh_deviation"].items()}
    assert dev[3.0] < 0.05 < dev[0.0]


def test_relu_sweep_nearly_linear_with_large_lambda(executed):
    """Câu 5: đường quét λ dùng ReLU; λ lớn làm nơ-ron luôn bật/luôn tắt, mạng gần tuyến tính, dưới khớp."""
    _, r = executed
    relu = {float(k): v for k, v in r["relu_linearity"].items()}
    assert relu[10.0]["r2"] > 0.95 and relu[0.0]["r2"] < 0.8
    assert relu[10.0]["constant_frac"][1] > 0.8 > relu[0.0]["constant_frac"][1]
    assert abs(relu[10.0]["train"] - 0.83) < 0.03 and abs(relu[10.0]["val"] - 0.83) < 0.03
    tr_logistic = 1 - r["results_3"]["hồi quy logistic"][0]
    assert abs(relu[10.0]["train"] - tr_logistic) < 0.03


def test_l1_gives_zeros_l2_does_not(executed):
    _, r = executed
    assert r["n_zero_coefs"]["L2"] == 0
    assert r["n_zero_coefs"]["L1"] >= 10


def test_outputs_mention_key_numbers(executed):
    nb, r = executed
    text = all_output_text(nb)
    assert "tỉ lệ 1,00" in text or "tỉ lệ 0,99" in text
    assert "Dừng sớm" in text
    assert math.isfinite(r["augmentation"]["150 ảnh gốc"][1])


def test_demo_updates_in_place(executed):
    _, r = executed
    d = r["demo"]
    assert_demo_ok(
        d
    )  # ảnh xác suất và các cột đều đổi, vẽ lại đúng 1 lần, không lỗi, không phân kỳ
    assert set(d["watched_changed"]) == {"mesh", "bars"}
    assert d["values"]["keep_prob"] == pytest.approx(0.7)


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=7, first_code="import nblib; nblib.print_backend()")


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
