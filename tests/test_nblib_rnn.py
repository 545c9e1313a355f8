"""nblib.rnn, nblib.embeddings, nblib.seq: so với torch (nn.*Cell, autograd) và gradient số."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nblib import embeddings, rnn, seq  # noqa: E402
from nblib.gradcheck import numeric_gradient, rel_error  # noqa: E402

BACKENDS = ["numpy", "torch"]


def _as(backend, x):
    return torch.tensor(x) if backend == "torch" else np.asarray(x, dtype=float)


def _np(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _rnn_params(rng, n_x, n_a):
    return {
        "W_ax": rng.normal(size=(n_a, n_x)) * 0.5,
        "W_aa": rng.normal(size=(n_a, n_a)) * 0.5,
        "b_a": rng.normal(size=(n_a, 1)),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_rnn_cell_matches_torch_rnncell(backend):
    rng = np.random.default_rng(0)
    p = _rnn_params(rng, 3, 5)
    x, a = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    cell = torch.nn.RNNCell(3, 5).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(p["W_ax"]))
        cell.weight_hh.copy_(torch.tensor(p["W_aa"]))
        cell.bias_ih.copy_(torch.tensor(p["b_a"][:, 0]))
        cell.bias_hh.zero_()
    ref = cell(torch.tensor(x.T), torch.tensor(a.T)).detach().numpy().T
    got, _ = rnn.rnn_cell_forward(
        _as(backend, x), _as(backend, a), {k: _as(backend, v) for k, v in p.items()}
    )
    np.testing.assert_allclose(_np(got), ref, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bptt_matches_autograd(backend):
    rng = np.random.default_rng(1)
    n_x, n_a, m, T = 3, 4, 2, 6
    p = _rnn_params(rng, n_x, n_a)
    X, a0, dA = (
        rng.normal(size=(n_x, m, T)),
        rng.normal(size=(n_a, m)),
        rng.normal(size=(n_a, m, T)),
    )
    A, caches = rnn.rnn_forward(
        _as(backend, X), _as(backend, a0), {k: _as(backend, v) for k, v in p.items()}
    )
    g = rnn.rnn_backward(_as(backend, dA), caches)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tX, ta0 = torch.tensor(X, requires_grad=True), torch.tensor(a0, requires_grad=True)
    a, states = ta0, []
    for t in range(T):
        a = torch.tanh(tp["W_aa"] @ a + tp["W_ax"] @ tX[:, :, t] + tp["b_a"])
        states.append(a)
    (torch.stack(states, 2) * torch.tensor(dA)).sum().backward()
    np.testing.assert_allclose(_np(A), torch.stack(states, 2).detach().numpy(), atol=1e-12)
    for k in ("W_ax", "W_aa", "b_a"):
        np.testing.assert_allclose(_np(g["d" + k]), tp[k].grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(g["dX"]), tX.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(g["da0"]), ta0.grad.numpy(), atol=1e-12)


def test_bptt_numeric_gradient():
    rng = np.random.default_rng(2)
    p = _rnn_params(rng, 2, 3)
    X, a0, dA = rng.normal(size=(2, 2, 4)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2, 4))
    _, caches = rnn.rnn_forward(X, a0, p)
    g = rnn.rnn_backward(dA, caches)
    for k in p:
        num = numeric_gradient(lambda: float(np.sum(rnn.rnn_forward(X, a0, p)[0] * dA)), p[k])
        assert rel_error(g["d" + k], num) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_clipping(backend):
    grads = {"a": _as(backend, [[3.0, -4.0]]), "b": _as(backend, [12.0])}
    v = rnn.clip_by_value(grads, 5.0)
    np.testing.assert_allclose(_np(v["a"]), [[3.0, -4.0]])
    np.testing.assert_allclose(_np(v["b"]), [5.0])
    assert rnn.global_norm(grads) == pytest.approx(13.0)
    clipped, norm = rnn.clip_by_norm(grads, 1.3)
    assert norm == pytest.approx(13.0)
    assert rnn.global_norm(clipped) == pytest.approx(1.3)
    np.testing.assert_allclose(_np(clipped["a"]), [[0.3, -0.4]])
    same, _ = rnn.clip_by_norm(grads, 20.0)
    np.testing.assert_allclose(_np(same["b"]), [12.0])
    # cùng kết quả với torch.nn.utils.clip_grad_norm_
    ps = [torch.zeros(1, 2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    ps[0].grad, ps[1].grad = torch.tensor([[3.0, -4.0]]), torch.tensor([12.0])
    torch.nn.utils.clip_grad_norm_(ps, 1.3)
    np.testing.assert_allclose(_np(clipped["b"]), ps[1].grad.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="Ngưỡng"):
        rnn.clip_by_value(grads, 0)


def _torch_cell(kind, n_x, n_a, p):
    cell = (torch.nn.GRUCell if kind == "gru" else torch.nn.LSTMCell)(n_x, n_a).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(p["W_ih"]))
        cell.weight_hh.copy_(torch.tensor(p["W_hh"]))
        cell.bias_ih.copy_(torch.tensor(p["b_ih"][:, 0]))
        cell.bias_hh.copy_(torch.tensor(p["b_hh"][:, 0]))
    return cell


def _gate_params(rng, k, n_x, n_a):
    return {
        "W_ih": rng.normal(size=(k * n_a, n_x)),
        "W_hh": rng.normal(size=(k * n_a, n_a)),
        "b_ih": rng.normal(size=(k * n_a, 1)),
        "b_hh": rng.normal(size=(k * n_a, 1)),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_gru_cell_forward_backward_match_torch(backend):
    rng = np.random.default_rng(3)
    n_x, n_a, m = 3, 4, 2
    p = _gate_params(rng, 3, n_x, n_a)
    x, a, d = rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)), rng.normal(size=(n_a, m))
    cell = _torch_cell("gru", n_x, n_a, p)
    tx, ta = torch.tensor(x.T, requires_grad=True), torch.tensor(a.T, requires_grad=True)
    out = cell(tx, ta)
    (out * torch.tensor(d.T)).sum().backward()
    got, cache = rnn.gru_cell_forward(
        _as(backend, x), _as(backend, a), {k: _as(backend, v) for k, v in p.items()}
    )
    np.testing.assert_allclose(_np(got), out.detach().numpy().T, atol=1e-12)
    g = rnn.gru_cell_backward(_as(backend, d), cache)
    np.testing.assert_allclose(_np(g["dx"]), tx.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(_np(g["da_prev"]), ta.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(_np(g["dW_ih"]), cell.weight_ih.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(g["dW_hh"]), cell.weight_hh.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(g["db_hh"])[:, 0], cell.bias_hh.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lstm_cell_forward_backward_match_torch(backend):
    rng = np.random.default_rng(4)
    n_x, n_a, m = 3, 4, 2
    p = _gate_params(rng, 4, n_x, n_a)
    x, a, c = (rng.normal(size=s) for s in [(n_x, m), (n_a, m), (n_a, m)])
    da, dc = rng.normal(size=(n_a, m)), rng.normal(size=(n_a, m))
    cell = _torch_cell("lstm", n_x, n_a, p)
    tx, ta, tc = (torch.tensor(v.T, requires_grad=True) for v in (x, a, c))
    h, cc = cell(tx, (ta, tc))
    ((h * torch.tensor(da.T)).sum() + (cc * torch.tensor(dc.T)).sum()).backward()
    an, cn, cache = rnn.lstm_cell_forward(
        *(_as(backend, v) for v in (x, a, c)), {k: _as(backend, v) for k, v in p.items()}
    )
    np.testing.assert_allclose(_np(an), h.detach().numpy().T, atol=1e-12)
    np.testing.assert_allclose(_np(cn), cc.detach().numpy().T, atol=1e-12)
    g = rnn.lstm_cell_backward(_as(backend, da), _as(backend, dc), cache)
    for key, t in [("dx", tx), ("da_prev", ta), ("dc_prev", tc)]:
        np.testing.assert_allclose(_np(g[key]), t.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(_np(g["dW_ih"]), cell.weight_ih.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(g["dW_hh"]), cell.weight_hh.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(g["db_ih"])[:, 0], cell.bias_ih.grad.numpy(), atol=1e-12)


# --------------------------------------------------------------------------- vector nhúng


def test_cosine_similarity():
    assert float(embeddings.cosine_similarity(np.array([1.0, 0]), np.array([1.0, 1]))) == (
        pytest.approx(1 / math.sqrt(2))
    )
    u = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert float(embeddings.cosine_similarity(u, -2 * u)) == pytest.approx(-1.0)
    assert float(embeddings.cosine_similarity(np.zeros(3), np.ones(3))) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_skipgram_softmax_matches_cross_entropy(backend):
    rng = np.random.default_rng(5)
    d, V, m = 4, 7, 5
    e_c, Theta, t = rng.normal(size=(d, m)), rng.normal(size=(V, d)), rng.integers(V, size=m)
    loss, (de, dT) = embeddings.skipgram_softmax_loss(_as(backend, e_c), _as(backend, Theta), t)
    te, tT = torch.tensor(e_c, requires_grad=True), torch.tensor(Theta, requires_grad=True)
    ref = torch.nn.functional.cross_entropy((tT @ te).T, torch.tensor(t))
    ref.backward()
    assert float(loss) == pytest.approx(ref.item())
    np.testing.assert_allclose(_np(de), te.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(_np(dT), tT.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_negative_sampling_against_autograd(backend):
    rng = np.random.default_rng(6)
    d, m, k = 4, 5, 3
    vals = [rng.normal(size=(d, m)), rng.normal(size=(d, m)), rng.normal(size=(d, m, k))]
    loss, grads = embeddings.negative_sampling_loss(*(_as(backend, v) for v in vals))
    ts = [torch.tensor(v, requires_grad=True) for v in vals]
    F = torch.nn.functional
    pos = F.logsigmoid((ts[0] * ts[1]).sum(0))
    neg = F.logsigmoid(-(ts[2] * ts[0][:, :, None]).sum(0)).sum(1)
    ref = -(pos + neg).mean()
    ref.backward()
    assert float(loss) == pytest.approx(ref.item())
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(_np(g), t.grad.numpy(), atol=1e-12)


def test_negative_sampling_numeric_and_stable():
    rng = np.random.default_rng(7)
    e, tt, tn = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2, 2))
    _, (de, dt, dn) = embeddings.negative_sampling_loss(e, tt, tn)
    for g, x in [(de, e), (dt, tt), (dn, tn)]:
        num = numeric_gradient(lambda: embeddings.negative_sampling_loss(e, tt, tn)[0], x)
        assert rel_error(g, num) < 1e-7
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        big = embeddings.negative_sampling_loss(100 * e, 100 * tt, 100 * tn)[0]
    assert np.isfinite(big)


@pytest.mark.parametrize("backend", BACKENDS)
def test_glove_against_autograd(backend):
    rng = np.random.default_rng(8)
    V, d = 6, 3
    X = rng.integers(0, 150, size=(V, V)).astype(float) * (rng.random((V, V)) < 0.6)
    vals = [
        rng.normal(size=(d, V)),
        rng.normal(size=(V, d)),
        rng.normal(size=(V, 1)),
        rng.normal(size=(1, V)),
    ]
    J, g = embeddings.glove_loss(*(_as(backend, v) for v in vals), _as(backend, X))
    ts = [torch.tensor(v, requires_grad=True) for v in vals]
    Xt = torch.tensor(X)
    f = torch.where(Xt < 100, (Xt / 100) ** 0.75, torch.ones_like(Xt))
    D = ts[1] @ ts[0] + ts[2] + ts[3] - torch.log(torch.where(Xt > 0, Xt, torch.ones_like(Xt)))
    ref = 0.5 * (f * (Xt > 0) * D**2).sum()
    ref.backward()
    assert float(J) == pytest.approx(ref.item())
    for key, t in zip(["dE", "dTheta", "db", "db_tilde"], ts):
        np.testing.assert_allclose(_np(g[key]), t.grad.numpy(), atol=1e-10)
    assert float(embeddings.glove_weight(np.array(0.0))) == 0.0


# --------------------------------------------------------------------------- mô hình chuỗi


@pytest.mark.parametrize("backend", BACKENDS)
def test_temperature_and_perplexity(backend):
    logits = _as(backend, [[2.0], [1.0], [0.0]])
    p1 = _np(seq.softmax_temperature(logits, 1.0))[:, 0]
    np.testing.assert_allclose(p1, np.exp([2, 1, 0]) / np.exp([2, 1, 0]).sum())
    cold, hot = (_np(seq.softmax_temperature(logits, T))[:, 0] for T in (0.1, 100.0))
    assert cold[0] > 0.9999 and np.allclose(hot, 1 / 3, atol=0.01)
    V, T = 5, 8
    uniform = _as(backend, np.full((V, T), 1 / V))
    assert float(seq.perplexity(uniform, np.arange(T) % V)) == pytest.approx(V)
    probs = np.random.default_rng(9).dirichlet(np.ones(V), size=T).T
    y = np.arange(T) % V
    ref = math.exp(torch.nn.functional.nll_loss(torch.tensor(np.log(probs.T)), torch.tensor(y)))
    assert float(seq.perplexity(_as(backend, probs), y)) == pytest.approx(ref)
    # công thức của bảng tóm tắt: Π (1 / Σ_j y_j ŷ_j)^(1/T)
    assert float(seq.perplexity(_as(backend, probs), y)) == pytest.approx(
        np.prod((1 / probs[y, np.arange(T)]) ** (1 / T))
    )


def test_sample_is_deterministic_with_seed():
    p = np.array([0.1, 0.2, 0.7])
    a = [seq.sample(p, np.random.default_rng(0)) for _ in range(3)]
    assert a == [seq.sample(p, np.random.default_rng(0)) for _ in range(3)]
    gen = np.random.default_rng(1)
    counts = np.bincount([seq.sample(p, gen) for _ in range(2000)], minlength=3) / 2000
    np.testing.assert_allclose(counts, p, atol=0.03)


def _toy_model(prefix):
    """Mô hình đồ chơi: token 0 là kết thúc; tham lam chọn 1 (0,5) nhưng 2 → 0 tốt hơn."""
    table = {
        (9,): [0.05, 0.5, 0.45],
        (9, 1): [0.3, 0.35, 0.35],
        (9, 2): [0.9, 0.05, 0.05],
    }
    return np.log(table.get(tuple(prefix), [0.4, 0.3, 0.3]))


def test_beam_search_beats_greedy():
    greedy = seq.beam_search(_toy_model, 9, beam_width=1, max_len=3, end=0, alpha=0.0)
    beam = seq.beam_search(_toy_model, 9, beam_width=3, max_len=3, end=0, alpha=0.0)
    assert greedy[0][0][0] == 1
    assert beam[0][0] == (2, 0)
    assert beam[0][1] == pytest.approx(math.log(0.45 * 0.9))
    assert seq.length_normalized_score([-1.0, -1.0, -1.0, -1.0], 1.0) == pytest.approx(-1.0)
    assert seq.length_normalized_score([-1.0, -1.0], 0.0) == pytest.approx(-2.0)


def test_bleu():
    ref = "con mèo ngồi trên tấm thảm".split()
    assert seq.bleu(ref, [ref]) == pytest.approx(1.0)
    cand = "con mèo ngồi trên thảm".split()
    ps = [seq.ngram_precision(cand, [ref], n) for n in (1, 2)]
    assert ps == [1.0, 0.75]
    bp = math.exp(1 - 6 / 5)
    assert seq.brevity_penalty(cand, [ref]) == pytest.approx(bp)
    assert seq.bleu(cand, [ref], max_n=2) == pytest.approx(bp * math.sqrt(0.75))
    # cắt số đếm: lặp một từ đúng không được điểm cao
    assert seq.ngram_precision("mèo mèo mèo".split(), [ref], 1) == pytest.approx(1 / 3)
    assert seq.bleu("chó chạy".split(), [ref]) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_attention_matches_torch(backend):
    rng = np.random.default_rng(10)
    e, A = rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    alpha = seq.attention_weights(_as(backend, e))
    np.testing.assert_allclose(_np(alpha), torch.softmax(torch.tensor(e), dim=-1).numpy())
    np.testing.assert_allclose(_np(alpha).sum(1), 1.0)
    C = seq.attention_context(alpha, _as(backend, A))
    # cùng kết quả với scaled_dot_product_attention khi điểm e = q·k (không chia √d)
    q, k = rng.normal(size=(3, 2)), rng.normal(size=(5, 2))
    ref = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q)[None], torch.tensor(k)[None], torch.tensor(A.T)[None], scale=1.0
    )[0]
    got = seq.attention_context(seq.attention_weights(_as(backend, q @ k.T)), _as(backend, A))
    np.testing.assert_allclose(_np(got), ref.numpy().T, atol=1e-12)
    assert tuple(C.shape) == (4, 3)
