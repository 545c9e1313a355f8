"""Kiểm thử bài 04: hàm mất mát, ba biến thể hạ gradient, tốc độ học và minh hoạ tương tác."""

import math

import pytest
from conftest import all_output_text
from lecture_helpers import (
    assert_demo_ok,
    assert_lecture_structure,
    assert_runs_cleanly,
    demo_check_cell,
    executed_fixture,
)

NB = "lectures/04_ham_mat_mat_gradient_descent.ipynb"

COLLECT = """
import time as _time
__test_results__["ln10_loss"] = mat_mat_ban_dau
__test_results__["bang_loss"] = bang_loss
__test_results__["buoc_dat_90"] = buoc_dat_90
__test_results__["do_nhieu"] = do_nhieu_bien_the
__test_results__["cung_epoch"] = ket_qua_cung_epoch
__test_results__["alpha"] = {
    str(a): {"status": h["status"], "loss": [float(v) for v in h["loss"]]}
    for a, h in lich_su_alpha.items()
}
__test_results__["total_time"] = _time.perf_counter() - _t_start
"""

DEMO = (
    demo_check_cell(
        "demo",
        watch={"line": "demo.duong_loss.get_ydata()", "img": "demo.anh.get_array()"},
        lr=2.0,
        batch="mini-batch 32",
    ),
    demo_check_cell(
        "demo_div",
        extra={"line_finite": "bool(_np.all(_np.isfinite(demo.duong_loss.get_ydata())))"},
        lr=80.0,
        batch="batch (toàn bộ)",
    ),
)


executed = executed_fixture(NB, (COLLECT, *DEMO))


def test_runs_cleanly(executed):
    nb, res = executed
    assert_runs_cleanly(nb)
    assert "demo_div" in res and "alpha" in res, "các ô kiểm thử bổ sung không chạy hết"
    assert res["total_time"] > 0  # thời gian: đo trong bench/bench_lectures.py, không khẳng định


def test_loss_values(executed):
    nb, res = executed
    assert res["ln10_loss"] == pytest.approx(math.log(10), abs=1e-9)
    text = all_output_text(nb)
    assert "2.3026" in text
    rows = {round(r[0], 2): r for r in res["bang_loss"]}
    p, mse, ce, g_mse, g_ce = rows[0.01]
    assert mse == pytest.approx(0.5 * 0.99**2)
    assert ce == pytest.approx(-math.log(0.01))
    assert g_ce == pytest.approx(-0.99)
    assert g_mse == pytest.approx(-0.99 * 0.01 * 0.99, rel=1e-6)
    # gradient của MSE bị triệt tiêu khi đoán sai tự tin, entropy chéo thì không
    assert abs(g_mse) < 0.02 < 0.9 < abs(g_ce)


def test_cross_entropy_learns_faster_from_confident_mistakes(executed):
    _, res = executed
    steps = res["buoc_dat_90"]
    assert steps["entropy chéo"] is not None
    assert steps["MSE"] is None or steps["MSE"] > 5 * steps["entropy chéo"]


def test_noise_ordering_batch_minibatch_sgd(executed):
    _, res = executed
    noise = res["do_nhieu"]
    b, mb, sgd = noise["batch (toàn bộ 300 mẫu)"], noise["mini-batch 32"], noise["SGD (1 mẫu)"]
    assert b < mb < sgd
    assert mb > 5 * b and sgd > 2 * mb


def test_same_epochs_sgd_progresses_most_per_epoch(executed):
    _, res = executed
    r = res["cung_epoch"]
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
