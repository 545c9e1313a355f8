"""Kiểm thử bài 05: động lượng, RMSprop, Adam, suy giảm tốc độ học, so sánh trên hai mặt trăng."""

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

NB = "lectures/05_toi_uu_hoa.ipynb"

COLLECT = """
import time as _time
__test_results__["two_forms"] = two_forms_gap
__test_results__["x_gd_1d"] = float(path_gd_1d[-1])
__test_results__["x_mom_1d"] = float(path_mom_1d[-1])
__test_results__["adam_m_hat"] = m_hat
__test_results__["adam_dw"] = dw
__test_results__["adam_step"] = -w1
__test_results__["trajectories"] = trajectory_table
__test_results__["schedules"] = {name: res["oscillation"] for name, res in schedule_results.items()}
__test_results__["moons"] = compare_accuracy
__test_results__["moons_status"] = {name: res["history"]["status"] for name, res in compare_results.items()}
__test_results__["total_time"] = _time.perf_counter() - _t_start
"""

PATH_EXPR = "demo.path_line.get_xydata()"
DEMO = (
    demo_check_cell(
        "demo",
        watch={"path": PATH_EXPR, "f": "demo.f_line.get_ydata()"},
        optimizer="Adam",
        lr=0.2,
        gamma=0.8,
    ),
    demo_check_cell(
        "demo_gamma", watch={"path": PATH_EXPR}, optimizer="động lượng", lr=0.01, gamma=0.5
    ),
    demo_check_cell(
        "demo_div",
        extra={"path_finite": f"bool(_np.all(_np.isfinite({PATH_EXPR})))"},
        optimizer="hạ gradient",
        lr=0.05,
    ),
)

GD = "hạ gradient (mini-batch)"
MOM_NOTES = "động lượng (dạng ghi chú, cùng α)"
MOM_EMA = "động lượng (dạng trung bình trượt)"


executed = executed_fixture(NB, (COLLECT, *DEMO))


def test_runs_cleanly(executed):
    nb, res = executed
    assert_runs_cleanly(nb)
    assert "demo_div" in res and "moons" in res, "các ô kiểm thử bổ sung không chạy hết"
    assert res["total_time"] > 0  # thời gian: đo trong bench/bench_lectures.py, không khẳng định


def test_momentum_forms_are_equivalent(executed):
    nb, res = executed
    assert res["two_forms"] < 1e-12
    # bảng ba bước tính tay: cả ba dòng đều khớp
    assert all_output_text(nb).count("| True") == 3


def test_momentum_escapes_local_minimum(executed):
    _, res = executed
    assert res["x_gd_1d"] == pytest.approx(1.1309, abs=1e-3)  # cực tiểu cục bộ
    assert res["x_mom_1d"] == pytest.approx(-1.3008, abs=1e-3)  # cực tiểu toàn cục


def test_rmsprop_without_eps_gives_nan(executed):
    nb, _ = executed
    text = all_output_text(nb)
    assert "nan" in text.split("Bước RMSprop không có ε:")[1].splitlines()[0]


def test_adam_bias_correction(executed):
    _, res = executed
    assert res["adam_m_hat"] == pytest.approx(res["adam_dw"])
    assert [abs(s) for s in res["adam_step"]] == pytest.approx([0.1, 0.1], rel=1e-6)


def test_trajectories_on_ill_conditioned_quadratic(executed):
    _, res = executed
    q = res["trajectories"]
    assert q["hạ gradient"][0] > 0.1
    assert q["động lượng"][0] < 1e-2 and q["động lượng"][1] is not None
    assert q["Adam"][0] < 1e-2
    assert q["RMSprop"][0] < q["hạ gradient"][0]


def test_learning_rate_decay_reduces_oscillation(executed):
    _, res = executed
    schedules = res["schedules"]
    const = schedules["không đổi"]
    others = [v for k, v in schedules.items() if k != "không đổi"]
    assert len(others) == 3
    assert all(v < 0.5 * const for v in others)


def test_moons_comparison(executed):
    _, res = executed
    acc = res["moons"]
    assert all(s == "ok" for s in res["moons_status"].values())
    assert acc["Adam"] > acc[GD] + 0.1
    assert acc[MOM_NOTES] > acc[GD]
    assert abs(acc[MOM_EMA] - acc[GD]) <= 0.02
    assert 0.6 < acc[GD] < 0.85


def test_demo_updates_in_place(executed):
    _, res = executed
    d = res["demo"]
    assert_demo_ok(d)  # quỹ đạo và đường f đều đổi, vẽ lại đúng 1 lần, không lỗi, không phân kỳ
    assert set(d["watched_changed"]) == {"path", "f"}
    assert_demo_ok(res["demo_gamma"])  # đổi γ thì quỹ đạo đổi
    assert res["demo_gamma"]["watched_changed"] == {"path": True}
    assert res["demo_div"]["last_error"] is None
    assert "Adam" in d["status"]


def test_demo_divergence_status(executed):
    _, res = executed
    d = res["demo_div"]
    assert_demo_ok(d, diverged=True)
    assert "phân kỳ" in d["status"]
    assert d["extra"]["path_finite"]


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=7, first_code=None)


def test_tick_labels_use_decimal_comma(executed):
    """Nhãn vạch chia của mọi hình dùng dấu phẩy thập phân (show() của bài áp style_figure)."""
    assert executed[1]["dot_tick_labels"] == []


def test_printed_numbers_use_decimal_comma(executed):
    """Số in ra cho người học dùng dấu phẩy thập phân (glossary.md)."""
    assert decimal_point_readouts(executed[0]) == []


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
