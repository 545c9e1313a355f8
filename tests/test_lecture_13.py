"""Bài 13 (mô hình chuỗi, vector nhúng): các số bài giảng trích dẫn, đối chiếu với torch, demo, tự kiểm tra.

Các câu tự kiểm tra của bài 13 được chạy ở đây theo đúng cách tests/test_quiz.py làm với bài 01–11:
đáp án đúng → ✓ kèm giải thích, mỗi đáp án sai → ✗ kèm giải thích, đáp án không lộ trong notebook.
"""

import math
import re
from collections import Counter

import nbformat
import pytest
import test_quiz as tq
from conftest import ROOT
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    assert_runs_cleanly,
    demo_check_cell,
    executed_fixture,
)

from nblib.presentation import quiz as Q

NB = "lectures/13_mo_hinh_chuoi.ipynb"

COLLECT = """
import numpy as _np
_P_kd = lm_forward(val_codes[None, :-1], _np.zeros((N_A, 1)), best_lm)[2][:, 0, :]
__test_results__.update(
    rnn_forward_diff=float(rnn_forward_diff),
    bptt_diff=float(bptt_diff),
    bptt_nblib_diff=float(bptt_nblib_diff),
    bptt_numeric_error=float(bptt_numeric_error),
    grad_ratio={str(h): float(g[0] / g[-1]) for h, g in grad_norms.items()},
    norm_before=float(norm_before),
    norm_after=float(rnn.global_norm(clipped_norm)),
    cos_norm=cos_norm,
    cos_value=cos_value,
    clip_diff=float(clip_diff),
    blocks=[gru_t.weight_ih.shape[0] // n_a3, lstm_t.weight_ih.shape[0] // n_a3],
    gate_diffs=[gru_diff, gru_bwd_diff, lstm_diff, lstm_bwd_diff],
    V_char=V_char,
    n_train=int(len(train_codes)),
    pp=[pp_uniform, pp_unigram, pp_val_best, float(pp_val_final), float(pp_train_final)],
    best_step=int(best_step),
    pp_independent=float(_np.exp(-_np.mean(_np.log(_P_kd[val_codes[1:], _np.arange(_P_kd.shape[1])])))),
    entropy_by_T=[entropy_by_T[0.2], entropy_by_T[1.0], entropy_by_T[1.5]],
    V_word=V_word,
    cos_one_hot=cos_one_hot,
    sai_lech_sg=[float(softmax_diff), float(neg_diff), float(glove_diff)],
    ls_sm=[float(ls_sm[0]), float(ls_sm[-50:].mean())],
    ls_am=[float(ls_am[0]), float(ls_am[-50:].mean())],
    cos_cat=[s_cat_dog, s_cat_orange],
    cos_gender=[cos_male_male, cos_male_female],
    correct_by_seed=[correct_by_seed[s] for s in (0, 1, 2)],
    top_is_male=bool(all(top_is_male)),
    splits_gender=splits_gender,
    analogy_dist=[float(k) for k in analogy_dist],
    ls_gl=[ls_gl[0], ls_gl[-1]],
    beam={f"{B},{a}": [c, float(d)] for (B, a), (c, d, _) in beam_results.items()},
    p_n=list(p_n),
    BP=float(BP),
    bleu_example=float(bleu_example),
    bleu_no_log=bleu_no_log,
    p1_repeated=[seq.ngram_precision(repeated, reference, 1), p1_repeated_unclipped],
    row_argmax=row_argmax,
    row_sums=alpha_att.sum(axis=1).tolist(),
    attention_diff=attention_diff,
    bidir_diff=bidir_diff,
    deep_params=[deep_rnn_params(32, 64, L, h) for L, h in [(1, False), (3, False), (3, True)]],
    deep_params_torch=[sum(p.numel() for p in torch.nn.RNN(32, 64, num_layers=L, bidirectional=h).parameters())
                       for L, h in [(1, False), (3, False), (3, True)]],
    q_max_T03=float(next_distribution(PROMPT, 0.3).max()),
    q_max_T15=float(next_distribution(PROMPT, 1.5).max()),
)
"""

DEMO = demo_check_cell("demo", temperature=0.3)

# Hình PCA của vector nhúng: số cặp nhãn từ (annotation) chồng lên nhau, đo trên hình đã vẽ.
PCA_LABELS = """
import matplotlib.pyplot as _plt
_pca_overlaps = []
for _n in _plt.get_fignums():
    _f = _plt.figure(_n)
    for _ax in _f.axes:
        if "chiếu PCA" in _ax.get_title() or "Chỉ nhóm người" in _ax.get_title():
            _f.canvas.draw()
            _r = _f.canvas.get_renderer()
            _boxes = [_t.get_window_extent(_r) for _t in _ax.texts]
            _pca_overlaps.append([len(_boxes), sum(_a.overlaps(_b) for _i, _a in enumerate(_boxes)
                                                   for _b in _boxes[_i + 1:])])
__test_results__["pca_label_overlaps"] = _pca_overlaps
"""

executed = executed_fixture(NB, (COLLECT, DEMO, PCA_LABELS))


def _cells():
    return nbformat.read(ROOT / NB, as_version=4).cells


def _markdown():
    return "\n".join(c.source for c in _cells() if c.cell_type == "markdown")


def test_runs_cleanly_under_a_minute(executed):
    assert_runs_cleanly(executed[0], printed=True)


def test_structure():
    assert_lecture_structure(NB, min_answers=6)
    md = _markdown()
    assert md.startswith("# Bài 13 — ")
    # các chỗ sửa lỗi ghi chú mà bài hứa
    callouts = re.findall(r"> \*\*Sửa lỗi ghi chú\.\*\*(.*?)(?:\n\n|\Z)", md, flags=re.S)
    text = " ".join(callouts)
    assert len(callouts) >= 4
    assert "thiếu log" in text.lower() and "t-SNE" in text and "relevance" in text
    assert "cách huấn luyện skip-gram" in text


def test_rnn_forward_and_bptt_match_torch_autograd(executed):
    _, r = executed
    assert r["rnn_forward_diff"] < 1e-12
    assert r["bptt_diff"] < 1e-12 and r["bptt_nblib_diff"] < 1e-12
    # "sai số tương đối cỡ 10⁻⁸ — dưới ngưỡng tốt 10⁻⁷"
    assert 1e-10 < r["bptt_numeric_error"] < 1e-7


def test_vanishing_and_exploding_gradient_measured(executed):
    _, r = executed
    ratio = r["grad_ratio"]
    assert 1e-12 < ratio["0.5"] < 1e-10  # "khoảng 10¹¹ lần"
    assert 3e5 < ratio["3.0"] < 6e5  # "gần nửa triệu lần"
    assert ratio["0.5"] < ratio["0.9"] < 1 < ratio["1.5"] < ratio["3.0"]


def test_clipping_by_norm_keeps_direction_by_value_does_not(executed):
    _, r = executed
    assert r["norm_before"] > 1e6
    assert r["norm_after"] == pytest.approx(5.0)
    assert r["cos_norm"] == pytest.approx(1.0, abs=1e-12)
    assert r["cos_value"] < 0.9
    assert r["clip_diff"] < 1e-9


def test_gru_lstm_cells_match_torch(executed):
    _, r = executed
    assert r["blocks"] == [3, 4]
    assert max(r["gate_diffs"]) < 1e-12


def test_char_language_model_perplexity(executed):
    _, r = executed
    pp_uniform, pp_uni, pp_tot, pp_val_final, pp_train_final = r["pp"]
    assert r["V_char"] == 85 and pp_uniform == pytest.approx(85.0)
    assert 30.5 < pp_uni < 32.5  # "khoảng 31"
    assert 10.5 < pp_tot < 12.0  # "khoảng 11"
    assert pp_tot < pp_uni < pp_uniform
    assert pp_val_final > 2 * pp_tot  # tăng trở lại: quá khớp
    assert 1.3 < pp_train_final < 1.5  # "khoảng 1,4"
    assert 1850 < r["n_train"] < 1900  # "gần 1 900 ký tự"
    assert r["pp_independent"] == pytest.approx(pp_tot, rel=1e-9)  # PP = exp(−mean log p), tính lại
    # nhiệt độ thấp → phân phối nhọn (entropy nhỏ), cao → phẳng
    e02, e10, e15 = r["entropy_by_T"]
    assert e02 < e10 < e15
    assert r["q_max_T03"] > r["q_max_T15"]


def test_skipgram_losses_start_at_chance_and_decrease(executed):
    _, r = executed
    assert r["V_word"] == 78
    assert r["cos_one_hot"] == 0.0
    assert max(r["sai_lech_sg"]) < 1e-10
    assert r["ls_sm"][0] == pytest.approx(math.log(78), abs=0.02)
    assert r["ls_am"][0] == pytest.approx(6 * math.log(2), abs=0.02)
    assert r["ls_sm"][1] < 0.6 * r["ls_sm"][0]
    assert r["ls_am"][1] < 0.4 * r["ls_am"][0]
    assert r["ls_gl"][1] < 0.01 * r["ls_gl"][0]


def test_embeddings_neighbours_and_honest_analogies(executed):
    _, r = executed
    assert r["cos_cat"][0] > 0.9 > r["cos_cat"][1]
    nam_nam, nam_nu = r["cos_gender"]
    assert nam_nam > 0.95 and nam_nu < 0.8  # "gần 1", "cao hơn hẳn"
    assert r["top_is_male"]
    assert r["splits_gender"]  # PCA riêng nhóm người: thành phần 1 tách đàn ông / phụ nữ
    # Hai hình PCA (28 từ, rồi 10 từ chỉ người): mỗi từ một nhãn, không nhãn nào đè nhãn khác.
    assert r["pca_label_overlaps"] == [[28, 0], [10, 0]]
    assert r["correct_by_seed"][1] == 0  # "với hạt giống 1, cả ba đều chọn sai thế hệ"
    assert 5 <= sum(r["correct_by_seed"]) < 9  # "chỉ hơn một nửa"
    assert max(r["analogy_dist"]) < 0.02


def test_beam_search_and_length_normalization(executed):
    _, r = executed
    assert r["beam"]["1,0.0"][0] == "tôi </s>"
    assert r["beam"]["3,0.0"][0] == "tôi </s>"
    assert r["beam"]["3,0.7"][0] == "mình thích học máy </s>"
    p = 0.4 * 0.7 * 0.8 * 0.8 * 1.0
    assert round(p, 2) == 0.18
    assert r["beam"]["3,0.7"][1] == pytest.approx(math.log(p) / 5**0.7)
    assert r["beam"]["1,0.0"][1] == pytest.approx(math.log(0.5 * 0.4))


def _bleu_independent(cand, refs, N=4):
    ps = []
    for n in range(1, N + 1):
        c = Counter(tuple(cand[i : i + n]) for i in range(len(cand) - n + 1))
        best = Counter()
        for ref in refs:
            for g, k in Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1)).items():
                best[g] = max(best[g], k)
        ps.append(sum(min(k, best[g]) for g, k in c.items()) / sum(c.values()))
    r = min((abs(len(x) - len(cand)), len(x)) for x in refs)[1]
    bp = 1.0 if len(cand) > r else math.exp(1 - r / len(cand))
    return ps, bp, bp * math.exp(sum(math.log(p) for p in ps) / N)


def test_bleu_of_the_worked_pair(executed):
    _, r = executed
    refs = ["con mèo ngồi trên tấm thảm".split(), "có một con mèo trên tấm thảm".split()]
    ps, bp, score = _bleu_independent("con mèo ngồi trên thảm".split(), refs)
    assert ps == pytest.approx([1, 3 / 4, 2 / 3, 1 / 2])
    assert r["p_n"] == pytest.approx(ps)
    assert r["BP"] == pytest.approx(bp) == pytest.approx(math.exp(-0.2))
    assert r["bleu_example"] == pytest.approx(score) == pytest.approx(0.5789, abs=1e-4)
    assert r["bleu_no_log"] == pytest.approx(math.exp(sum(ps) / 4)) and r["bleu_no_log"] > 1
    assert r["p1_repeated"] == [0.25, 1.0]


def test_attention_alignment_and_bidirectional(executed):
    _, r = executed
    assert r["row_argmax"] == [0, 2, 1, 3]
    assert r["row_sums"] == pytest.approx([1, 1, 1, 1])
    assert r["attention_diff"] < 1e-12
    assert r["bidir_diff"] < 1e-12
    assert r["deep_params"] == r["deep_params_torch"]


def test_temperature_demo_updates(executed):
    _, r = executed
    assert_demo_ok(r["demo"], kinds=("patches",))
    assert "Văn bản sinh ra" in r["demo"]["status"]


# --------------------------------------------------------------------------- tự kiểm tra, bài tập


@pytest.fixture(scope="module")
def quizzes():
    return tq._run_quizzes(ROOT / NB)


def test_self_check_section_placed_before_questions():
    cells = _cells()
    heads = [
        i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## ")
    ]
    titles = [
        line
        for c in cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]
    assert titles[-5:] == [
        "## Tự kiểm tra",
        "## Câu hỏi",
        "## Bài tập",
        "## Tóm tắt",
        "## Tài liệu tham khảo",
    ]
    start = next(i for i in heads if cells[i].source.startswith("## Tự kiểm tra"))
    stop = next(i for i in heads if cells[i].source.startswith("## Câu hỏi"))
    quiz_idx = [i for i, c in enumerate(cells) if c.cell_type == "code" and "quiz(" in c.source]
    assert 3 <= len(quiz_idx) <= 6 and quiz_idx == list(range(start + 1, stop))
    for i in quiz_idx:
        assert "from nblib.presentation.quiz import quiz" in cells[i].source


def test_every_quiz_right_and_wrong_answers(quizzes):
    kinds = Counter()
    for cell, q in quizzes:
        p = Q.decode(q.question, q.key)
        kinds[p["kind"]] += 1
        hint = p.get("hint") or "Hãy xem lại mục vừa học."
        if p["kind"] == "choice":
            assert len(q.options) >= 3
            assert q.check(p["answer"]) == (True, f"✓ Đúng. {p['explain']}")
            for opt in q.options:
                if opt != p["answer"]:
                    why = p["wrong"].get(opt) or hint
                    assert q.check(opt) == (False, f"✗ Chưa đúng. {why} Hãy thử lại.")
            assert f"answer={p['answer']!r}" not in cell.source
        else:
            ans = p["answer"]
            for typed in (tq._fmt_comma(ans), f"{ans:.10g}", ans):
                assert q.check(typed)[0] is True
            for v, _t, why in p["wrong"]:
                assert abs(v - ans) > p["tol"]
                assert q.check(tq._fmt_comma(v)) == (False, f"✗ Chưa đúng. {why} Hãy thử lại.")
            assert "answer" not in cell.source
        if q.plot is not None:
            assert q.question.startswith("Dự đoán hình:")
            assert q.figure is not None and q.figure.axes[0].lines
    assert kinds["choice"] >= 2 and kinds["number"] >= 2


def test_quiz_numeric_answers_computed_independently(quizzes):
    expected = {"xác suất 0,25": 1 / 0.25, "dài 5 từ": math.exp(1 - 10 / 5)}
    seen = set()
    for _cell, q in quizzes:
        p = Q.decode(q.question, q.key)
        if p["kind"] == "number":
            key = next(k for k in expected if k in q.question)
            seen.add(key)
            assert p["answer"] == pytest.approx(expected[key], rel=1e-6)
    assert seen == set(expected)


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
