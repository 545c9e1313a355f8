"""Bài 12 (CNN trong thực tế): các số mà bài giảng trích dẫn, kiểm chứng với torch, demo NMS."""

import math

import pytest
from conftest import error_outputs
from lecture_helpers import (
    assert_lecture_structure,
    assert_runs_cleanly,
    demo_check_cell,
    executed_fixture,
)

NB = "lectures/12_cnn_ung_dung.ipynb"

COLLECT = """
__test_results__.update(
    sai_lech_thuan=float(sai_lech_thuan),
    sai_lech_nguoc=float(sai_lech_nguoc),
    sai_so_so=float(sai_so_so),
    sai_lech_gop=float(sai_lech_gop),
    t_vong_lap=float(t_vong_lap),
    t_im2col=float(t_im2col),
    gop=gop[0, 0].tolist(),
    dA_vd=dA_vd[0, 0].tolist(),
    acc_cnn_val=float(acc_cnn_val),
    hop_that=hop_that[0].tolist(),
    hop_du_doan=hop_du_doan[0].tolist(),
    giao=float(giao),
    iou_vd=float(iou_vd),
    iou_torch=float(iou_torch),
    con_lai=list(con_lai),
    con_lai_03=list(con_lai_03),
    iou_56=float(detection.iou(hop_ung_vien[[5]], hop_ung_vien[[6]])[0, 0]),
    y_shape=list(y_yolo.shape),
    o_co_vat=[list(map(int, r)) for r in np.argwhere(y_yolo[..., 0] == 1)],
    so_doc_lai=int(len(hop_doc_lai)),
    sai_lech_triplet=float(sai_lech_triplet),
    sai_so_triplet=float(sai_so_triplet),
    acc=[acc_cu_pixel, acc_cu_nhung, acc_moi_pixel, acc_moi_nhung],
    sai_lech_noi_dung=sai_lech_noi_dung,
    sai_lech_phong_cach=sai_lech_phong_cach,
    J_style_xao=J_style_xao,
    J_content_xao=J_content_xao,
    mm=[float(mm_thuong[-1]), float(mm_phan_du[-1])],
    g0=[float(g_thuong[0]), float(g_phan_du[0])],
    nut=[int(truc_tiep), int(nut_co_chai), int(tham_so_truc_tiep), int(tham_so_nut)],
    cols_size=int(cols_cau1.size),
    iou_cau3=iou_cau3,
)
"""

DEMO = demo_check_cell(
    "demo",
    extra={"giu": "[i for i, r in enumerate(demo.khung) if r.get_linewidth() > 1]"},
    nguong_iou=0.3,
    nguong_diem=0.6,
)

executed = executed_fixture(NB, (COLLECT, DEMO))


def test_runs_cleanly_under_a_minute(executed):
    assert error_outputs(executed[0]) == []
    assert_runs_cleanly(executed[0], printed=True)


def test_conv_and_pool_from_scratch_match_torch(executed):
    _, r = executed
    assert r["sai_lech_thuan"] < 1e-12
    assert r["sai_lech_nguoc"] < 1e-12
    assert r["sai_so_so"] < 1e-7
    assert r["sai_lech_gop"] < 1e-12
    assert r["t_im2col"] < r["t_vong_lap"]
    assert r["gop"] == [[4.0, 5.0], [6.0, 3.0]]
    assert r["dA_vd"] == [[0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]]


def test_numpy_cnn_accuracy_quoted(executed):
    _, r = executed
    assert round(100 * r["acc_cnn_val"], 1) == 95.8  # "95,8%" trong tóm tắt


def test_worked_iou(executed):
    _, r = executed
    assert r["hop_that"] == [1.0, 1.0, 5.0, 4.0]
    assert r["hop_du_doan"] == [3.0, 2.0, 7.0, 6.0]
    assert r["giao"] == 4.0
    assert r["iou_vd"] == pytest.approx(1 / 6)
    assert r["iou_torch"] == pytest.approx(1 / 6)
    assert r["iou_cau3"] == pytest.approx(1 / 3)


def test_nms_survivors_quoted(executed):
    _, r = executed
    assert r["con_lai"] == [5, 0, 6, 7]
    assert r["con_lai_03"] == [5, 0, 7]
    assert round(r["iou_56"], 2) == 0.46


def test_yolo_tensor(executed):
    _, r = executed
    assert r["y_shape"] == [3, 3, 2, 8]
    assert sorted(r["o_co_vat"]) == [[0, 2, 0], [1, 0, 0], [1, 0, 1]]
    assert r["so_doc_lai"] == 3


def test_triplet_and_one_shot_numbers(executed):
    _, r = executed
    assert r["sai_lech_triplet"] < 1e-12
    assert r["sai_so_triplet"] < 1e-7
    cu_px, cu_nh, moi_px, moi_nh = (round(100 * a, 1) for a in r["acc"])
    assert (cu_px, cu_nh, moi_px, moi_nh) == (72.8, 89.0, 78.3, 58.8)


def test_style_costs(executed):
    _, r = executed
    assert r["sai_lech_noi_dung"] < 1e-12
    assert r["sai_lech_phong_cach"] < 1e-12
    assert r["J_style_xao"] < 1e-20
    assert r["J_content_xao"] > 1


def test_residual_vs_plain_numbers(executed):
    _, r = executed
    plain, res = r["mm"]
    assert round(plain, 2) == 0.94 and round(res, 2) == 0.03
    assert plain < math.log(3)
    g_plain, g_res = r["g0"]
    assert f"{g_plain:.1e}" == "7.6e-04"
    assert 140 < g_res / g_plain < 180  # "khoảng 160 lần"


def test_one_by_one_bottleneck(executed):
    _, r = executed
    assert r["nut"] == [120422400, 12443648, 153632, 15920]
    assert r["cols_size"] == 589824


def test_nms_demo_updates(executed):
    _, r = executed
    d = r["demo"]
    # các khung chỉ đổi màu/độ dày (toạ độ giữ nguyên): kiểm tra trực tiếp khung nào được tô đậm
    assert d["exception"] is None and d["last_error"] is None and d["warnings"] == []
    assert d["redraws"] == 1 and d["same_figure"] and d["same_artist_count"]
    assert d["extra"]["giu"] == [0, 5, 7]
    assert "Giữ các hộp [5, 0, 7]" in d["status"]


def test_structure():
    assert_lecture_structure(NB, min_answers=6)
