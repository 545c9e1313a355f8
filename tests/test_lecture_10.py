"""Bài 10 (chăm sóc quá trình học): kiểm tra chi phí ban đầu, quá khớp 20 mẫu, phân kỳ, tìm kiếm, demo."""

import math

from conftest import all_output_text, error_outputs
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    demo_check_cell,
    executed_fixture,
)

NB = "lectures/10_cham_soc_qua_trinh_hoc.ipynb"

COLLECT = """
__test_results__.update(
    initial_cost=float(initial_cost),
    cost_by_lambda={repr(float(k)): float(v) for k, v in cost_by_lambda.items()},
    acc_20=float(acc_20),
    status_big_lr=hist_big["status"],
    status_small_lr=hist_small["status"],
    cost_small_lr=[float(x) for x in hist_small["epoch_loss"]],
    n_coarse=len(coarse_results),
    n_fine=len(fine_results),
    coarse_scores=[float(r["score"]) for r in coarse_results],
    fine_scores=[float(r["score"]) for r in fine_results],
    fine_space={k: [float(v[1]), float(v[2])] for k, v in fine_space.items()},
    best_grid=float(best_grid),
    random_win_rate=float(random_win_rate),
    gaps={str(k): float(v) for k, v in gaps.items()},
    final_ratios={repr(float(k)): {kk: float(vv) for kk, vv in v.items()} for k, v in final_ratios.items()},
)
"""

DEMO = (
    demo_check_cell(
        "demo",
        watch={"J": "demo.line_J.get_ydata()", "va": "demo.line_val.get_ydata()"},
        lr=0.03,
        lambd=0.01,
    ),
    demo_check_cell("demo_div", lr=100.0),
)


executed = executed_fixture(NB, (COLLECT, *DEMO))


def test_no_errors(executed):
    assert error_outputs(executed[0]) == []


def test_initial_loss_is_ln10(executed):
    _, r = executed
    assert abs(r["initial_cost"] - math.log(10)) < 0.02


def test_loss_rises_with_regularization(executed):
    _, r = executed
    losses = [v for _, v in sorted((float(k), v) for k, v in r["cost_by_lambda"].items())]
    assert all(b > a for a, b in zip(losses, losses[1:]))
    assert losses[-1] > losses[0] + 1.0


def test_overfit_twenty_examples(executed):
    _, r = executed
    assert r["acc_20"] == 1.0


def test_learning_rate_too_low_and_too_high(executed):
    _, r = executed
    assert r["status_big_lr"] == "phân kỳ"
    assert r["status_small_lr"] == "ok"
    assert max(r["cost_small_lr"]) - min(r["cost_small_lr"]) < 1e-3


def test_random_search_coarse_to_fine(executed):
    nb, r = executed
    assert r["n_coarse"] == 30 and r["n_fine"] == 20
    assert r["coarse_scores"] == sorted(r["coarse_scores"], reverse=True)
    assert r["fine_scores"][0] >= 0.9  # giai đoạn mịn tìm được cấu hình tốt
    lo, hi = r["fine_space"]["lr"]
    assert 1e-5 <= lo < hi <= 1e2
    assert "Tìm kiếm ngẫu nhiên" in all_output_text(nb)  # thanh tiến trình tqdm


def test_random_beats_grid(executed):
    _, r = executed
    assert r["random_win_rate"] > 0.7


def test_gap_and_update_ratio(executed):
    _, r = executed
    assert r["gaps"]["50"] > 0.05  # 200 ảnh: quá khớp
    assert abs(r["gaps"]["2"]) < 0.05  # 2 nơ-ron: dưới khớp, không có khoảng cách
    ratios = {float(k): v for k, v in r["final_ratios"].items()}
    assert ratios[1e-4]["W1"] < 1e-4 < 1e-3 < ratios[0.3]["W1"] < 1e-2


def test_demo_updates_in_place(executed):
    _, r = executed
    d = r["demo"]
    assert_demo_ok(d)  # đường J và đường kiểm định đều đổi, vẽ lại đúng 1 lần, không phân kỳ
    assert set(d["watched_changed"]) == {"J", "va"}
    assert_demo_ok(r["demo_div"], diverged=True)  # tốc độ học 100: báo phân kỳ, không lỗi


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=6, first_code="import nblib; nblib.print_backend()")


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
