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
    assert_lecture_structure,
    assert_runs_cleanly,
    demo_check_cell,
    executed_fixture,
)

from nblib.presentation import quiz as Q

NB = "lectures/13_mo_hinh_chuoi.ipynb"

COLLECT = """
import numpy as _np
_P_kd = lm_thuan(ma_kiem_dinh[None, :-1], _np.zeros((N_A, 1)), lm_tot)[2][:, 0, :]
__test_results__.update(
    sai_lech_thuan_rnn=float(sai_lech_thuan_rnn),
    sai_lech_bptt=float(sai_lech_bptt),
    sai_lech_bptt_nblib=float(sai_lech_bptt_nblib),
    sai_so_so_bptt=float(sai_so_so_bptt),
    ti_so_grad={str(h): float(g[0] / g[-1]) for h, g in chuan_grad.items()},
    chuan_truoc=float(chuan_truoc),
    chuan_sau=float(rnn.global_norm(cat_chuan)),
    cos_chuan=cos_chuan,
    cos_gia_tri=cos_gia_tri,
    sai_lech_cat=float(sai_lech_cat),
    khoi=[gru_t.weight_ih.shape[0] // n_a3, lstm_t.weight_ih.shape[0] // n_a3],
    sai_lech_cong=[sai_lech_gru, sai_lech_gru_nguoc, sai_lech_lstm, sai_lech_lstm_nguoc],
    V_kt=V_kt,
    n_huan_luyen=int(len(ma_huan_luyen)),
    pp=[pp_deu, pp_don_ky_tu, pp_kd_tot, float(pp_kd_cuoi), float(pp_hl_cuoi)],
    buoc_tot=int(buoc_tot),
    pp_doc_lap=float(_np.exp(-_np.mean(_np.log(_P_kd[ma_kiem_dinh[1:], _np.arange(_P_kd.shape[1])])))),
    entropy_theo_T=[entropy_theo_T[0.2], entropy_theo_T[1.0], entropy_theo_T[1.5]],
    V_tu=V_tu,
    cos_one_hot=cos_one_hot,
    sai_lech_sg=[float(sai_lech_softmax), float(sai_lech_am), float(sai_lech_glove)],
    ls_sm=[float(ls_sm[0]), float(ls_sm[-50:].mean())],
    ls_am=[float(ls_am[0]), float(ls_am[-50:].mean())],
    cos_meo=[s_meo_cho, s_meo_cam],
    cos_gioi=[cos_nam_nam, cos_nam_nu],
    dung_theo_seed=[dung_theo_seed[s] for s in (0, 1, 2)],
    hang_dau_la_nam=bool(all(hang_dau_la_nam)),
    tach_gioi=tach_gioi,
    khoang_cach_tuong_tu=[float(k) for k in khoang_cach_tuong_tu],
    ls_gl=[ls_gl[0], ls_gl[-1]],
    chum={f"{B},{a}": [c, float(d)] for (B, a), (c, d, _) in ket_qua_chum.items()},
    p_n=list(p_n),
    BP=float(BP),
    bleu_vd=float(bleu_vd),
    bleu_thieu_log=bleu_thieu_log,
    p1_lap=[seq.ngram_precision(lap, tham_chieu, 1), p1_lap_khong_cat],
    dong_hang=dong_hang,
    tong_hang=alpha_at.sum(axis=1).tolist(),
    sai_lech_chu_y=sai_lech_chu_y,
    sai_lech_hai_chieu=sai_lech_hai_chieu,
    tham_so_sau=[so_tham_so_rnn_sau(32, 64, L, h) for L, h in [(1, False), (3, False), (3, True)]],
    tham_so_sau_torch=[sum(p.numel() for p in torch.nn.RNN(32, 64, num_layers=L, bidirectional=h).parameters())
                       for L, h in [(1, False), (3, False), (3, True)]],
    q_max_T03=float(phan_phoi_tiep_theo(MO_DAU, 0.3).max()),
    q_max_T15=float(phan_phoi_tiep_theo(MO_DAU, 1.5).max()),
)
"""

DEMO = demo_check_cell("demo", nhiet_do=0.3)

executed = executed_fixture(NB, (COLLECT, DEMO))


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
    assert r["sai_lech_thuan_rnn"] < 1e-12
    assert r["sai_lech_bptt"] < 1e-12 and r["sai_lech_bptt_nblib"] < 1e-12
    # "sai số tương đối cỡ 10⁻⁸ — dưới ngưỡng tốt 10⁻⁷"
    assert 1e-10 < r["sai_so_so_bptt"] < 1e-7


def test_vanishing_and_exploding_gradient_measured(executed):
    _, r = executed
    ratio = r["ti_so_grad"]
    assert 1e-12 < ratio["0.5"] < 1e-10  # "khoảng 10¹¹ lần"
    assert 3e5 < ratio["3.0"] < 6e5  # "gần nửa triệu lần"
    assert ratio["0.5"] < ratio["0.9"] < 1 < ratio["1.5"] < ratio["3.0"]


def test_clipping_by_norm_keeps_direction_by_value_does_not(executed):
    _, r = executed
    assert r["chuan_truoc"] > 1e6
    assert r["chuan_sau"] == pytest.approx(5.0)
    assert r["cos_chuan"] == pytest.approx(1.0, abs=1e-12)
    assert r["cos_gia_tri"] < 0.9
    assert r["sai_lech_cat"] < 1e-9


def test_gru_lstm_cells_match_torch(executed):
    _, r = executed
    assert r["khoi"] == [3, 4]
    assert max(r["sai_lech_cong"]) < 1e-12


def test_char_language_model_perplexity(executed):
    _, r = executed
    pp_deu, pp_uni, pp_tot, pp_kd_cuoi, pp_hl_cuoi = r["pp"]
    assert r["V_kt"] == 85 and pp_deu == pytest.approx(85.0)
    assert 30.5 < pp_uni < 32.5  # "khoảng 31"
    assert 10.5 < pp_tot < 12.0  # "khoảng 11"
    assert pp_tot < pp_uni < pp_deu
    assert pp_kd_cuoi > 2 * pp_tot  # tăng trở lại: quá khớp
    assert 1.3 < pp_hl_cuoi < 1.5  # "khoảng 1,4"
    assert 1850 < r["n_huan_luyen"] < 1900  # "gần 1 900 ký tự"
    assert r["pp_doc_lap"] == pytest.approx(pp_tot, rel=1e-9)  # PP = exp(−mean log p), tính lại
    # nhiệt độ thấp → phân phối nhọn (entropy nhỏ), cao → phẳng
    e02, e10, e15 = r["entropy_theo_T"]
    assert e02 < e10 < e15
    assert r["q_max_T03"] > r["q_max_T15"]


def test_skipgram_losses_start_at_chance_and_decrease(executed):
    _, r = executed
    assert r["V_tu"] == 78
    assert r["cos_one_hot"] == 0.0
    assert max(r["sai_lech_sg"]) < 1e-10
    assert r["ls_sm"][0] == pytest.approx(math.log(78), abs=0.02)
    assert r["ls_am"][0] == pytest.approx(6 * math.log(2), abs=0.02)
    assert r["ls_sm"][1] < 0.6 * r["ls_sm"][0]
    assert r["ls_am"][1] < 0.4 * r["ls_am"][0]
    assert r["ls_gl"][1] < 0.01 * r["ls_gl"][0]


def test_embeddings_neighbours_and_honest_analogies(executed):
    _, r = executed
    assert r["cos_meo"][0] > 0.9 > r["cos_meo"][1]
    nam_nam, nam_nu = r["cos_gioi"]
    assert nam_nam > 0.95 and nam_nu < 0.8  # "gần 1", "cao hơn hẳn"
    assert r["hang_dau_la_nam"]
    assert r["tach_gioi"]  # PCA riêng nhóm người: thành phần 1 tách đàn ông / phụ nữ
    assert r["dung_theo_seed"][1] == 0  # "với hạt giống 1, cả ba đều chọn sai thế hệ"
    assert 5 <= sum(r["dung_theo_seed"]) < 9  # "chỉ hơn một nửa"
    assert max(r["khoang_cach_tuong_tu"]) < 0.02


def test_beam_search_and_length_normalization(executed):
    _, r = executed
    assert r["chum"]["1,0.0"][0] == "tôi </s>"
    assert r["chum"]["3,0.0"][0] == "tôi </s>"
    assert r["chum"]["3,0.7"][0] == "mình thích học máy </s>"
    p = 0.4 * 0.7 * 0.8 * 0.8 * 1.0
    assert round(p, 2) == 0.18
    assert r["chum"]["3,0.7"][1] == pytest.approx(math.log(p) / 5**0.7)
    assert r["chum"]["1,0.0"][1] == pytest.approx(math.log(0.5 * 0.4))


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
    assert r["bleu_vd"] == pytest.approx(score) == pytest.approx(0.5789, abs=1e-4)
    assert r["bleu_thieu_log"] == pytest.approx(math.exp(sum(ps) / 4)) and r["bleu_thieu_log"] > 1
    assert r["p1_lap"] == [0.25, 1.0]


def test_attention_alignment_and_bidirectional(executed):
    _, r = executed
    assert r["dong_hang"] == [0, 2, 1, 3]
    assert r["tong_hang"] == pytest.approx([1, 1, 1, 1])
    assert r["sai_lech_chu_y"] < 1e-12
    assert r["sai_lech_hai_chieu"] < 1e-12
    assert r["tham_so_sau"] == r["tham_so_sau_torch"]


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


def test_quiz_answers_not_plain_text(quizzes):
    raw = (ROOT / NB).read_text(encoding="utf-8")
    for _cell, q in quizzes:
        p = Q.decode(q.question, q.key)
        whys = p["wrong"].values() if p["kind"] == "choice" else [w[2] for w in p["wrong"]]
        for s in [p["explain"], *whys]:
            assert s not in raw and tq.json_escape(s) not in raw


def test_exercises_section():
    ex = [
        c.source
        for c in _cells()
        if c.cell_type == "markdown" and c.source.startswith("## Bài tập")
    ]
    assert len(ex) == 1
    items = re.findall(r"^\d+\. ", ex[0], flags=re.M)
    marks = tq.DIFFICULTY.findall(ex[0])
    assert 3 <= len(items) <= 5 and len(marks) == len(items) and len(set(marks)) >= 2
