"""Bài 12 (CNN trong thực tế): các số mà bài giảng trích dẫn, kiểm chứng với torch, demo NMS, tự kiểm tra.

Các câu tự kiểm tra của bài 12 được chạy ở đây theo đúng cách tests/test_quiz.py làm với các bài khác:
đáp án đúng → ✓ kèm giải thích, mỗi đáp án sai → ✗ kèm giải thích của nó, đáp án không lộ trong notebook,
và đáp án đúng được tính lại độc lập bằng nblib.
"""

import math

import nbformat
import numpy as np
import pytest
import test_quiz as tq
from conftest import ROOT, error_outputs
from lecture_helpers import (
    assert_fastdraw_matches,
    assert_lecture_structure,
    assert_runs_cleanly,
    demo_check_cell,
    executed_fixture,
)

from nblib import cnn, detection, vision
from nblib.presentation import quiz as Q

NB = "lectures/12_cnn_ung_dung.ipynb"

COLLECT = """
__test_results__.update(
    forward_diff=float(forward_diff),
    backward_diff=float(backward_diff),
    numeric_error=float(numeric_error),
    pool_diff=float(pool_diff),
    t_loop=float(t_loop),
    t_im2col=float(t_im2col),
    pooled=pooled[0, 0].tolist(),
    dA_vd=dA_vd[0, 0].tolist(),
    acc_cnn_val=float(acc_cnn_val),
    true_box=true_box[0].tolist(),
    pred_box=pred_box[0].tolist(),
    intersection=float(intersection),
    iou_example=float(iou_example),
    iou_torch=float(iou_torch),
    kept=list(kept),
    kept_03=list(kept_03),
    iou_56=float(detection.iou(candidate_boxes[[5]], candidate_boxes[[6]])[0, 0]),
    y_shape=list(y_yolo.shape),
    object_cells=[list(map(int, r)) for r in np.argwhere(y_yolo[..., 0] == 1)],
    n_decoded=int(len(decoded_boxes)),
    triplet_diff=float(triplet_diff),
    triplet_numeric_error=float(triplet_numeric_error),
    acc=[acc_seen_pixel, acc_seen_embed, acc_new_pixel, acc_new_embed],
    content_diff=content_diff,
    style_diff=style_diff,
    J_style_shuffled=J_style_shuffled,
    J_content_shuffled=J_content_shuffled,
    mm=[float(loss_plain[-1]), float(loss_residual[-1])],
    g0=[float(g_plain[0]), float(g_residual[0])],
    nut=[int(direct), int(bottleneck), int(direct_params), int(bottleneck_params)],
    cols_size=int(cols_q1.size),
    iou_q3=iou_q3,
)
"""

DEMO = demo_check_cell(
    "demo",
    extra={"kept_boxes": "[i for i, r in enumerate(demo.frames) if r.get_linewidth() > 1]"},
    iou_thr=0.3,
    score_thr=0.6,
)

executed = executed_fixture(NB, (COLLECT, DEMO))


def test_runs_cleanly_under_a_minute(executed):
    assert error_outputs(executed[0]) == []
    assert_runs_cleanly(executed[0], printed=True)


def test_conv_and_pool_from_scratch_match_torch(executed):
    _, r = executed
    assert r["forward_diff"] < 1e-12
    assert r["backward_diff"] < 1e-12
    assert r["numeric_error"] < 1e-7
    assert r["pool_diff"] < 1e-12
    assert r["t_im2col"] < r["t_loop"]
    assert r["pooled"] == [[4.0, 5.0], [6.0, 3.0]]
    assert r["dA_vd"] == [[0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]]


def test_numpy_cnn_accuracy_quoted(executed):
    _, r = executed
    assert round(100 * r["acc_cnn_val"], 1) == 95.8  # "95,8%" trong tóm tắt


def test_worked_iou(executed):
    _, r = executed
    assert r["true_box"] == [1.0, 1.0, 5.0, 4.0]
    assert r["pred_box"] == [3.0, 2.0, 7.0, 6.0]
    assert r["intersection"] == 4.0
    assert r["iou_example"] == pytest.approx(1 / 6)
    assert r["iou_torch"] == pytest.approx(1 / 6)
    assert r["iou_q3"] == pytest.approx(1 / 3)


def test_nms_survivors_quoted(executed):
    _, r = executed
    assert r["kept"] == [5, 0, 6, 7]
    assert r["kept_03"] == [5, 0, 7]
    assert round(r["iou_56"], 2) == 0.46


def test_yolo_tensor(executed):
    _, r = executed
    assert r["y_shape"] == [3, 3, 2, 8]
    assert sorted(r["object_cells"]) == [[0, 2, 0], [1, 0, 0], [1, 0, 1]]
    assert r["n_decoded"] == 3


def test_triplet_and_one_shot_numbers(executed):
    _, r = executed
    assert r["triplet_diff"] < 1e-12
    assert r["triplet_numeric_error"] < 1e-7
    cu_px, cu_nh, moi_px, moi_nh = (round(100 * a, 1) for a in r["acc"])
    assert (cu_px, cu_nh, moi_px, moi_nh) == (72.8, 89.0, 78.3, 58.8)


def test_style_costs(executed):
    _, r = executed
    assert r["content_diff"] < 1e-12
    assert r["style_diff"] < 1e-12
    assert r["J_style_shuffled"] < 1e-20
    assert r["J_content_shuffled"] > 1


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
    assert d["extra"]["kept_boxes"] == [0, 5, 7]
    assert "Giữ các hộp [5, 0, 7]" in d["status"]


def test_structure():
    assert_lecture_structure(NB, min_answers=6)


# --------------------------------------------------------------------------- tự kiểm tra, bài tập


def _cells():
    return nbformat.read(ROOT / NB, as_version=4).cells


@pytest.fixture(scope="module")
def quizzes():
    return tq._run_quizzes(ROOT / NB)


def test_self_check_section_placed_before_questions():
    cells = _cells()
    heads = [
        c.source.split("\n", 1)[0]
        for c in cells
        if c.cell_type == "markdown" and c.source.startswith("## ")
    ]
    assert heads[-4:] == ["## Tự kiểm tra", "## Câu hỏi", "## Bài tập", "## Tóm tắt"]
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## Tự kiểm tra"))
    stop = next(i for i, c in enumerate(cells) if c.source.startswith("## Câu hỏi"))
    quiz_idx = [i for i, c in enumerate(cells) if c.cell_type == "code" and "quiz(" in c.source]
    assert 4 <= len(quiz_idx) <= 6 and quiz_idx == list(range(start + 1, stop))
    for i in quiz_idx:
        assert "from nblib.presentation.quiz import quiz" in cells[i].source
        assert cells[i].outputs == [] and cells[i].execution_count is None


def test_every_quiz_right_and_wrong_answers(quizzes):
    assert 4 <= len(quizzes) <= 6
    for cell, q in quizzes:
        p = Q.decode(q.question, q.key)
        assert p["kind"] == "choice" and len(q.options) >= 3
        assert q.check(p["answer"]) == (True, f"✓ Đúng. {p['explain']}")
        assert "✓" in q._feedback.value
        for opt in q.options:
            if opt != p["answer"]:
                why = p["wrong"][opt]  # mỗi lựa chọn sai có lời giải thích riêng
                assert why.strip()
                assert q.check(opt) == (False, f"✗ Chưa đúng. {why} Hãy thử lại.")
                assert "✗" in q._feedback.value
        assert f"answer={p['answer']!r}" not in cell.source


def _answer(quizzes, needle):
    (q,) = [q for _c, q in quizzes if needle in q.question]
    return Q.decode(q.question, q.key)["answer"]


def _fraction(text):
    num, den = text.split("/")
    return int(num) / int(den)


def test_quiz_answers_computed_independently(quizzes):
    # IoU của (0, 0, 2, 2) và (1, 0, 3, 2)
    iou = float(detection.iou(np.array([[0.0, 0, 2, 2]]), np.array([[1.0, 0, 3, 2]]))[0, 0])
    assert _fraction(_answer(quizzes, "IoU của chúng")) == pytest.approx(iou)
    # NMS: ngưỡng IoU cao hơn thì giữ nhiều hộp hơn (còn bản sao)
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 10, size=(30, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(2, 4, size=(30, 2))], axis=1)
    scores = rng.uniform(0.7, 1.0, size=30)
    kept = [
        len(detection.nms(boxes, scores, iou_threshold=t, score_threshold=0.6)) for t in (0.5, 0.9)
    ]
    assert kept[1] > kept[0]
    assert "nhiều bản sao" in _answer(quizzes, "ngưỡng IoU của NMS")
    # triplet loss: max(0,2 − 1,0 + 0,5; 0) = 0 và gradient bằng 0
    fA = np.zeros((2, 1))
    fP = np.array([[np.sqrt(0.2)], [0.0]])
    fN = np.array([[0.0], [1.0]])
    loss, grads = vision.triplet_loss(fA, fP, fN, alpha=0.5)
    assert float(loss) == 0.0 and all(np.all(g == 0) for g in grads)
    assert _answer(quizzes, "Triplet loss").startswith("0,")
    # Gram: nhân a với 2 thì G gấp 4
    a = np.random.default_rng(1).normal(size=(3, 4, 5))
    ratio = vision.gram_matrix(2 * a) / vision.gram_matrix(a)
    assert np.allclose(ratio, 4.0)
    assert _answer(quizzes, "Ma trận Gram") == "gấp 4 lần"
    # tích chập 1×1 với 16 bộ lọc trên 28 × 28 × 192 (quy ước (m, C, H, W))
    out, _ = cnn.conv_forward(
        np.zeros((1, 192, 28, 28)), np.zeros((16, 192, 1, 1)), np.zeros(16), 1, 0
    )
    m, C, H, W = out.shape
    assert _answer(quizzes, "Tích chập 1×1") == f"{H} × {W} × {C}"


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
