"""Bài 10 (chăm sóc quá trình học): kiểm tra chi phí ban đầu, quá khớp 20 mẫu, phân kỳ, tìm kiếm, demo."""

import math

from conftest import all_output_text, error_outputs
from lecture_helpers import (
    assert_demo_ok,
    assert_lecture_structure,
    demo_check_cell,
    executed_fixture,
)

NB = "lectures/10_cham_soc_qua_trinh_hoc.ipynb"

COLLECT = """
__test_results__.update(
    chi_phi_ban_dau=float(chi_phi_ban_dau),
    chi_phi_theo_lambda={repr(float(k)): float(v) for k, v in chi_phi_theo_lambda.items()},
    do_chinh_xac_20=float(do_chinh_xac_20),
    trang_thai_lr_lon=hist_lon["status"],
    trang_thai_lr_nho=hist_nho["status"],
    chi_phi_lr_nho=[float(x) for x in hist_nho["epoch_loss"]],
    so_lan_tho=len(ket_qua_tho),
    so_lan_tinh=len(ket_qua_tinh),
    diem_tho=[float(r["score"]) for r in ket_qua_tho],
    diem_tinh=[float(r["score"]) for r in ket_qua_tinh],
    khong_gian_tinh={k: [float(v[1]), float(v[2])] for k, v in khong_gian_tinh.items()},
    tot_nhat_luoi=float(tot_nhat_luoi),
    ti_le_nn_thang=float(ti_le_nn_thang),
    khoang_cach={str(k): float(v) for k, v in khoang_cach.items()},
    ti_le_cuoi={repr(float(k)): {kk: float(vv) for kk, vv in v.items()} for k, v in ti_le_cuoi.items()},
)
"""

DEMO = (
    demo_check_cell(
        "demo",
        watch={"J": "demo.duong_J.get_ydata()", "va": "demo.duong_va.get_ydata()"},
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
    assert abs(r["chi_phi_ban_dau"] - math.log(10)) < 0.02


def test_loss_rises_with_regularization(executed):
    _, r = executed
    losses = [v for _, v in sorted((float(k), v) for k, v in r["chi_phi_theo_lambda"].items())]
    assert all(b > a for a, b in zip(losses, losses[1:]))
    assert losses[-1] > losses[0] + 1.0


def test_overfit_twenty_examples(executed):
    _, r = executed
    assert r["do_chinh_xac_20"] == 1.0


def test_learning_rate_too_low_and_too_high(executed):
    _, r = executed
    assert r["trang_thai_lr_lon"] == "phân kỳ"
    assert r["trang_thai_lr_nho"] == "ok"
    assert max(r["chi_phi_lr_nho"]) - min(r["chi_phi_lr_nho"]) < 1e-3


def test_random_search_coarse_to_fine(executed):
    nb, r = executed
    assert r["so_lan_tho"] == 30 and r["so_lan_tinh"] == 20
    assert r["diem_tho"] == sorted(r["diem_tho"], reverse=True)
    assert r["diem_tinh"][0] >= 0.9  # giai đoạn mịn tìm được cấu hình tốt
    lo, hi = r["khong_gian_tinh"]["lr"]
    assert 1e-5 <= lo < hi <= 1e2
    assert "Tìm kiếm ngẫu nhiên" in all_output_text(nb)  # thanh tiến trình tqdm


def test_random_beats_grid(executed):
    _, r = executed
    assert r["ti_le_nn_thang"] > 0.7


def test_gap_and_update_ratio(executed):
    _, r = executed
    assert r["khoang_cach"]["50"] > 0.05  # 200 ảnh: quá khớp
    assert abs(r["khoang_cach"]["2"]) < 0.05  # 2 nơ-ron: dưới khớp, không có khoảng cách
    ratios = {float(k): v for k, v in r["ti_le_cuoi"].items()}
    assert ratios[1e-4]["W1"] < 1e-4 < 1e-3 < ratios[0.3]["W1"] < 1e-2


def test_demo_updates_in_place(executed):
    _, r = executed
    d = r["demo"]
    assert_demo_ok(d)  # đường J và đường kiểm định đều đổi, vẽ lại đúng 1 lần, không phân kỳ
    assert set(d["watched_changed"]) == {"J", "va"}
    assert_demo_ok(r["demo_div"], diverged=True)  # tốc độ học 100: báo phân kỳ, không lỗi


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(NB, min_answers=6, first_code="import nblib; nblib.print_backend()")
