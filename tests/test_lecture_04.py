"""Kiểm thử bài 04: hàm mất mát, ba biến thể hạ gradient, tốc độ học và minh hoạ tương tác."""

import math

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

NB = "lectures/04_ham_mat_mat_gradient_descent.ipynb"

COLLECT = """
import time as _time
__test_results__["ln10_loss"] = initial_loss
__test_results__["loss_table"] = loss_table
__test_results__["steps_to_90"] = steps_to_90
__test_results__["noisiness"] = noise_by_variant
__test_results__["same_epochs"] = results_same_epochs
__test_results__["alpha"] = {
    str(a): {"status": h["status"], "loss": [float(v) for v in h["loss"]]}
    for a, h in alpha_histories.items()
}
__test_results__["total_time"] = _time.perf_counter() - _t_start
__test_results__["explode_factor"] = __import__("inspect").signature(train).parameters[
    "explode_factor"
].default
"""

CLASSES = """
import numpy as _np
_ax = demo.axes[1]
__test_results__["class_points"] = [
    {"color": [round(float(v), 3) for v in c.get_facecolor()[0][:3]],
     "marker": int(c.get_paths()[0].vertices.shape[0]),
     "n": len(c.get_offsets()), "label": c.get_label()}
    for c in _ax.collections
]
__test_results__["legend"] = [t.get_text() for t in _ax.get_legend().get_texts()]
"""

DEMO = (
    demo_check_cell(
        "demo",
        watch={"line": "demo.loss_line.get_ydata()", "img": "demo.image.get_array()"},
        lr=2.0,
        batch="mini-batch 32",
    ),
    demo_check_cell(
        "demo_div",
        extra={"line_finite": "bool(_np.all(_np.isfinite(demo.loss_line.get_ydata())))"},
        lr=80.0,
        batch="batch (toàn bộ)",
    ),
)


executed = executed_fixture(NB, (COLLECT, CLASSES, *DEMO))


def test_runs_cleanly(executed):
    nb, res = executed
    assert_runs_cleanly(nb)
    assert "demo_div" in res and "alpha" in res, "các ô kiểm thử bổ sung không chạy hết"
    assert res["total_time"] > 0  # thời gian: đo trong bench/bench_lectures.py, không khẳng định


def test_loss_values(executed):
    nb, res = executed
    assert res["ln10_loss"] == pytest.approx(math.log(10), abs=1e-9)
    text = all_output_text(nb)
    assert "2,3026" in text  # số in ra dùng dấu phẩy thập phân (glossary.md)
    rows = {round(r[0], 2): r for r in res["loss_table"]}
    p, mse, ce, g_mse, g_ce = rows[0.01]
    assert mse == pytest.approx(0.5 * 0.99**2)
    assert ce == pytest.approx(-math.log(0.01))
    assert g_ce == pytest.approx(-0.99)
    assert g_mse == pytest.approx(-0.99 * 0.01 * 0.99, rel=1e-6)
    # gradient của MSE bị triệt tiêu khi đoán sai tự tin, entropy chéo thì không
    assert abs(g_mse) < 0.02 < 0.9 < abs(g_ce)


def test_cross_entropy_learns_faster_from_confident_mistakes(executed):
    _, res = executed
    steps = res["steps_to_90"]
    assert steps["entropy chéo"] is not None
    assert steps["MSE"] is None or steps["MSE"] > 5 * steps["entropy chéo"]


def test_noise_ordering_batch_minibatch_sgd(executed):
    _, res = executed
    noise = res["noisiness"]
    b, mb, sgd = noise["batch (toàn bộ 300 mẫu)"], noise["mini-batch 32"], noise["SGD (1 mẫu)"]
    assert b < mb < sgd
    assert mb > 5 * b and sgd > 2 * mb


def test_same_epochs_sgd_progresses_most_per_epoch(executed):
    _, res = executed
    r = res["same_epochs"]
    assert r["1"][0] < r["32"][0] < r["None"][0]


def test_learning_rate_sweep(executed):
    _, res = executed
    a = res["alpha"]
    assert a["0.001"]["status"] == "ok"
    # α quá nhỏ: mất mát gần như đứng yên
    small = a["0.001"]["loss"]
    assert small[0] - small[-1] < 0.1
    assert a["1.0"]["status"] == "ok"
    assert a["1.0"]["loss"][-1] < 0.5 * a["1.0"]["loss"][0]
    assert a["10.0"]["status"] == "phân kỳ"
    assert a["100.0"]["status"] == "phân kỳ"


def test_divergence_rule_as_stated(executed):
    """Quy tắc phân kỳ mà mục 3 nêu (chi phí NaN/vô cực hoặc chi phí làm trơn > 3 × chi phí ban đầu;
    batch GD: không làm trơn) đúng là điều `nblib.train` làm trên các lần chạy của bài."""
    import nbformat
    from conftest import ROOT

    _, res = executed
    assert res["explode_factor"] == 3.0
    md = "\n".join(c.source for c in nbformat.read(ROOT / NB, as_version=4).cells)
    assert "**Quy tắc phân kỳ**" in md and "\\bar J_t > 3\\,J_0" in md
    for a, run in res["alpha"].items():
        loss = run["loss"]
        over = [not math.isfinite(v) or v > 3.0 * loss[0] for v in loss]
        if run["status"] == "phân kỳ":
            assert over[-1] and not any(over[:-1]), (a, loss)  # dừng ngay ở bước đầu vượt ngưỡng
        else:
            assert not any(over), (a, loss)


def test_two_classes_are_distinguishable(executed):
    """Hình ranh giới của demo: hai lớp khác màu (bảng màu của khoá học) và khác dấu, có chú thích."""
    from nblib.presentation.plots import PALETTE

    _, res = executed
    pts = res["class_points"]
    assert len(pts) == 2 and sum(p["n"] for p in pts) == 300
    assert pts[0]["color"] != pts[1]["color"] and pts[0]["marker"] != pts[1]["marker"]
    import matplotlib.colors as mcolors

    for p, c in zip(pts, PALETTE):
        assert p["color"] == [round(v, 3) for v in mcolors.to_rgb(c)]
    assert res["legend"] == ["lớp 0", "lớp 1"]


def test_tick_labels_use_decimal_comma(executed):
    """Nhãn vạch chia của mọi hình dùng dấu phẩy thập phân (show() của bài áp style_figure)."""
    assert executed[1]["dot_tick_labels"] == []


def test_printed_numbers_use_decimal_comma(executed):
    """Số in ra cho người học dùng dấu phẩy thập phân (glossary.md), kể cả thông báo phân kỳ do chính
    `nblib.train` soạn ("chi phí = 44,9")."""
    assert decimal_point_readouts(executed[0]) == []


def test_demo_updates_in_place(executed):
    _, res = executed
    d = res["demo"]
    assert_demo_ok(d)  # đường mất mát và ảnh ranh giới đều đổi, vẽ lại đúng 1 lần, không lỗi
    assert set(d["watched_changed"]) == {"line", "img"}
    assert res["demo_div"]["last_error"] is None
    assert "độ chính xác" in d["status"]


def test_demo_huge_learning_rate_says_diverged(executed):
    _, res = executed
    d = res["demo_div"]
    assert_demo_ok(d, diverged=True)
    assert "phân kỳ" in d["status"]
    assert d["extra"]["line_finite"]


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=8, first_code=None)


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
