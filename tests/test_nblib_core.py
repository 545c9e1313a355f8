"""Kiểm thử nblib: giá trị, gradient (số và torch.autograd), numpy ≡ torch, ổn định số, lỗi đầu vào."""

import math
import os
import sys
import warnings

import numpy as np
import pytest
import torch

import nblib
from nblib import activations as act
from nblib import gradcheck, layers, losses, optim

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Mỗi kiểm thử có dữ liệu ngẫu nhiên riêng, cố định, không phụ thuộc thứ tự chạy."""
    global RNG
    RNG = np.random.default_rng(int(os.environ.get("NBLIB_TEST_SEED", "0")))


def t(x, requires_grad=False):
    return torch.tensor(np.asarray(x), dtype=torch.float64, requires_grad=requires_grad)


# ---------------------------------------------------------------- hàm kích hoạt
FUNCS = [
    ("sigmoid", act.sigmoid, act.sigmoid_grad, torch.sigmoid),
    ("tanh", act.tanh, act.tanh_grad, torch.tanh),
    ("relu", act.relu, act.relu_grad, torch.relu),
    (
        "leaky_relu",
        act.leaky_relu,
        act.leaky_relu_grad,
        lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    ),
    ("elu", act.elu, act.elu_grad, torch.nn.functional.elu),
    ("linear", act.linear, act.linear_grad, lambda z: z),
]


@pytest.mark.parametrize("name,f,df,tf", FUNCS, ids=[f[0] for f in FUNCS])
def test_activation_values_grads_and_backends(name, f, df, tf):
    z = RNG.standard_normal((4, 7)) * 3
    z[np.abs(z) < 1e-3] = 0.5  # tránh điểm không khả vi
    zt = t(z, requires_grad=True)
    out = tf(zt)
    out.sum().backward()
    np.testing.assert_allclose(f(z), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(df(z), zt.grad.numpy(), rtol=1e-10, atol=1e-12)
    # cùng một công thức chạy trên tensor torch và trả về tensor torch
    res = f(t(z))
    assert isinstance(res, torch.Tensor)
    np.testing.assert_allclose(res.numpy(), f(z), rtol=1e-12)
    assert isinstance(df(t(z)), torch.Tensor)


def test_activation_derivative_table_of_the_notes():
    z = np.array([10.0, -10.0, 0.0])
    np.testing.assert_allclose(act.sigmoid_grad(z), [4.5396e-05, 4.5396e-05, 0.25], rtol=1e-4)
    np.testing.assert_allclose(act.tanh_grad(z), [8.2446e-09, 8.2446e-09, 1.0], rtol=1e-4)
    np.testing.assert_allclose(act.relu_grad(z), [1.0, 0.0, 0.0])
    assert act.sigmoid(np.array(4.1)) == pytest.approx(0.98369, abs=1e-5)


def test_sigmoid_and_softmax_are_stable_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = act.sigmoid(np.array([-1e4, -1000.0, 0.0, 1000.0, 1e4]))
        np.testing.assert_allclose(s, [0.0, 0.0, 0.5, 1.0, 1.0])
        p = act.softmax(np.array([[1000.0, 1e5], [1001.0, -1e5], [999.0, 0.0]]))
        assert np.all(np.isfinite(p))
        np.testing.assert_allclose(p.sum(axis=0), [1.0, 1.0])
        np.testing.assert_allclose(p[:, 1], [1.0, 0.0, 0.0])
        loss, d = losses.binary_cross_entropy(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
        assert math.isfinite(loss) and np.all(np.isfinite(d))
        loss, d = losses.softmax_cross_entropy(
            np.array([[1e4, -1e4], [-1e4, 1e4]]), np.array([1, 0])
        )
        assert math.isfinite(loss) and loss == pytest.approx(2e4)


def test_softmax_and_maxout_match_torch():
    z = RNG.standard_normal((5, 6))
    np.testing.assert_allclose(act.softmax(z), torch.softmax(t(z), dim=0).numpy(), rtol=1e-12)
    zt = t(z[:4])
    expected = zt.reshape(2, 2, 6).max(dim=1).values.numpy()
    np.testing.assert_allclose(act.maxout(z[:4], 2), expected)
    np.testing.assert_allclose(act.maxout(zt, 2).numpy(), expected)


# ---------------------------------------------------------------- hàm mất mát
def _torch_loss_grad(fn, x, *args):
    xt = t(x, requires_grad=True)
    loss = fn(xt, *args)
    loss.backward()
    return loss.item(), xt.grad.numpy()


def test_losses_match_torch_autograd():
    A = RNG.uniform(0.05, 0.95, (1, 9))
    Y = (RNG.random((1, 9)) > 0.5).astype(float)
    loss, dA = losses.mse(A, Y)
    tl, tg = _torch_loss_grad(lambda a: ((a - t(Y)) ** 2).sum() / (2 * 9), A)
    assert loss == pytest.approx(tl) and np.allclose(dA, tg)
    loss, dA = losses.binary_cross_entropy(A, Y)
    tl, tg = _torch_loss_grad(lambda a: torch.nn.functional.binary_cross_entropy(a, t(Y)), A)
    assert loss == pytest.approx(tl) and np.allclose(dA, tg)
    Z = RNG.standard_normal((1, 9)) * 4
    loss, dZ = losses.sigmoid_cross_entropy(Z, Y)
    tl, tg = _torch_loss_grad(
        lambda z: torch.nn.functional.binary_cross_entropy_with_logits(z, t(Y)), Z
    )
    assert loss == pytest.approx(tl) and np.allclose(dZ, tg)
    Z = RNG.standard_normal((4, 9))
    y = RNG.integers(0, 4, 9)
    loss, dZ = losses.softmax_cross_entropy(Z, y)
    tl, tg = _torch_loss_grad(lambda z: torch.nn.functional.cross_entropy(z.T, torch.tensor(y)), Z)
    assert loss == pytest.approx(tl) and np.allclose(dZ, tg)
    # nhãn one-hot cho cùng kết quả; tensor torch trả về tensor torch
    l2, d2 = losses.softmax_cross_entropy(Z, nblib.data.one_hot(y, 4))
    assert l2 == pytest.approx(loss) and np.allclose(d2, dZ)
    l3, d3 = losses.softmax_cross_entropy(t(Z), torch.tensor(y))
    assert isinstance(d3, torch.Tensor) and l3 == pytest.approx(loss)
    np.testing.assert_allclose(d3.numpy(), dZ, rtol=1e-12)
    # nhãn nguyên kiểu số thực (0.0, 1.0, …) được chấp nhận; mảng Z không bị sửa tại chỗ
    Z_before = Z.copy()
    l4, d4 = losses.softmax_cross_entropy(Z, y.astype(float))
    assert l4 == pytest.approx(loss) and np.allclose(d4, dZ)
    np.testing.assert_array_equal(Z, Z_before)
    # logit cực lớn: không log(0), không cảnh báo
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big, dbig = losses.softmax_cross_entropy(
            np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), np.array([1, 1])
        )
    assert big == pytest.approx(1000.0) and np.isfinite(dbig).all()


# ---------------------------------------------------------------- lan truyền ngược: số và autograd
def _numeric_check(f_scalar, x, analytic):
    num = gradcheck.numeric_gradient(f_scalar, x, h=1e-5)
    err = gradcheck.rel_error(analytic, num)
    assert err < 1e-7, f"sai số tương đối {err:.2e}"


def test_dense_backward_numeric_and_autograd():
    A = RNG.standard_normal((3, 5))
    W = RNG.standard_normal((4, 3))
    b = RNG.standard_normal((4, 1))
    dout = RNG.standard_normal((4, 5))
    Z, cache = layers.dense_forward(A, W, b)
    dA, dW, db = layers.dense_backward(dout, cache)

    def f():
        return float(np.sum(layers.dense_forward(A, W, b)[0] * dout))

    _numeric_check(f, A, dA)
    _numeric_check(f, W, dW)
    _numeric_check(f, b, db)
    At, Wt, bt = t(A, True), t(W, True), t(b, True)
    ((Wt @ At + bt) * t(dout)).sum().backward()
    for ours, ref in ((dA, At), (dW, Wt), (db, bt)):
        np.testing.assert_allclose(ours, ref.grad.numpy(), rtol=1e-12)
    # tầng đầu tiên: không cần dX, cùng dW và db
    none, dW1, db1 = layers.dense_backward(dout, cache, input_grad=False)
    assert none is None
    np.testing.assert_array_equal(dW1, dW)
    np.testing.assert_array_equal(db1, db)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "linear"])
def test_activation_backward_numeric(name):
    Z = RNG.standard_normal((3, 4)) + 0.1
    dA = RNG.standard_normal((3, 4))
    _, cache = layers.activation_forward(Z, name)
    dZ = layers.activation_backward(dA, cache)
    _numeric_check(lambda: float(np.sum(layers.activation_forward(Z, name)[0] * dA)), Z, dZ)


def test_dropout_backward_and_inverted_scaling():
    A = RNG.standard_normal((50, 40))
    out, cache = layers.dropout_forward(A, 0.8, train=True, rng=3)
    dA = layers.dropout_backward(np.ones_like(A), cache)
    kept = out != 0
    np.testing.assert_allclose(out[kept], A[kept] / 0.8)
    np.testing.assert_allclose(dA[kept], 1 / 0.8)
    assert np.all(dA[~kept] == 0)
    assert 0.75 < kept.mean() < 0.85
    # mất mát tuyến tính theo A với mặt nạ cố định: kiểm tra số
    D = cache
    _numeric_check(
        lambda: float(np.sum(A * D * 2.0)), A, layers.dropout_backward(2 * np.ones_like(A), cache)
    )
    # kỳ vọng được giữ nguyên (dropout ngược)
    big = np.ones((400, 500))
    assert layers.dropout_forward(big, 0.5, rng=0)[0].mean() == pytest.approx(1.0, abs=0.01)
    # kiểm tra: hàm đồng nhất
    same, c = layers.dropout_forward(A, 0.5, train=False)
    assert same is A and c is None


def test_batchnorm_backward_numeric_and_autograd():
    Z = RNG.standard_normal((4, 6)) * 2 + 1
    gamma = RNG.standard_normal((4, 1))
    beta = RNG.standard_normal((4, 1))
    dout = RNG.standard_normal((4, 6))
    out, cache = layers.batchnorm_forward(Z, gamma, beta, {}, train=True)
    dZ, dgamma, dbeta = layers.batchnorm_backward(dout, cache)

    def f():
        return float(np.sum(layers.batchnorm_forward(Z, gamma, beta, {}, train=True)[0] * dout))

    _numeric_check(f, Z, dZ)
    _numeric_check(f, gamma, dgamma)
    _numeric_check(f, beta, dbeta)
    Zt, gt, bt = t(Z, True), t(gamma, True), t(beta, True)
    mu = Zt.mean(dim=1, keepdim=True)
    var = Zt.var(dim=1, unbiased=False, keepdim=True)
    ((gt * (Zt - mu) / torch.sqrt(var + 1e-5) + bt) * t(dout)).sum().backward()
    for ours, ref in ((dZ, Zt), (dgamma, gt), (dbeta, bt)):
        np.testing.assert_allclose(ours, ref.grad.numpy(), rtol=1e-9, atol=1e-12)
    # đầu ra chuẩn hoá: trung bình 0, phương sai 1 theo từng đặc trưng (γ = 1, β = 0)
    o, _ = layers.batchnorm_forward(Z, np.ones((4, 1)), np.zeros((4, 1)), {}, train=True)
    np.testing.assert_allclose(o.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(o.var(axis=1), 1, atol=1e-4)


def test_batchnorm_test_mode_uses_running_statistics():
    state = {}
    gamma, beta = np.ones((3, 1)), np.zeros((3, 1))
    gen = np.random.default_rng(1)
    for _ in range(200):
        layers.batchnorm_forward(gen.normal(5.0, 2.0, (3, 64)), gamma, beta, state, train=True)
    np.testing.assert_allclose(state["running_mean"], 5.0, atol=0.15)
    np.testing.assert_allclose(state["running_var"], 4.0, atol=0.5)
    one = np.full((3, 1), 7.0)  # một mẫu duy nhất lúc kiểm tra: thống kê batch sẽ cho 0
    out, _ = layers.batchnorm_forward(one, gamma, beta, state, train=False)
    np.testing.assert_allclose(out, 1.0, atol=0.1)


@pytest.mark.parametrize(
    "kw",
    [
        {"activation": "tanh", "output": "softmax"},
        {"activation": "sigmoid", "output": "sigmoid", "lambd": 0.7},
        {"activation": ["tanh", "elu"], "output": "linear"},
        {"activation": "tanh", "output": "softmax", "batchnorm": True, "lambd": 0.1},
    ],
)
def test_model_gradients_numeric_and_autograd(kw):
    out = kw["output"]
    n_hidden = 2 if isinstance(kw["activation"], list) else 1
    dims = [3] + [5] * n_hidden + [1 if out in ("sigmoid", "linear") else 3]
    model = nblib.MLP(dims, init="xavier", seed=2, **kw)
    X = RNG.standard_normal((3, 7))
    y = RNG.integers(0, dims[-1] if out == "softmax" else 2, 7)
    if out == "linear":
        y = RNG.standard_normal((1, 7))
    errors = gradcheck.check_model_gradients(model, X, y, h=1e-5)
    if kw.get("batchnorm"):
        # batch norm trừ trung bình nên hệ số điều chỉnh b[l] trước nó có gradient đúng bằng 0:
        # sai số tương đối vô nghĩa ở đó, kiểm tra giá trị tuyệt đối thay thế.
        _, grads = model.loss_and_grads(X, y)
        for k in [f"b{l}" for l in range(1, model.L)]:
            assert np.max(np.abs(grads[k])) < 1e-12
            del errors[k]
    assert max(errors.values()) < 1e-7, errors
    # torch.autograd: dựng lại cùng mạng bằng các phép của torch, lan truyền ngược, so từng gradient
    loss, grads = model.loss_and_grads(X, y)
    P = {k: t(v, True) for k, v in model.params.items()}
    J = _torch_mlp_cost(model, P, t(X), y)
    J.backward()
    assert loss == pytest.approx(J.item(), rel=1e-12)
    assert set(grads) == set(P)
    for k in P:
        np.testing.assert_allclose(grads[k], P[k].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)
    # cùng mã nblib chạy trên tensor torch cho cùng chi phí và cùng gradient như trên numpy
    model_t = nblib.MLP(dims, init="xavier", seed=2, **kw)
    model_t.params = {k: t(v) for k, v in model.params.items()}
    loss_t, grads_t = model_t.loss_and_grads(t(X), torch.tensor(y) if out != "linear" else t(y))
    assert loss_t == pytest.approx(loss, rel=1e-10)
    for k in grads:
        np.testing.assert_allclose(grads_t[k].numpy(), grads[k], rtol=1e-9, atol=1e-15, err_msg=k)


TORCH_ACT = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "elu": torch.nn.functional.elu,
}


def _torch_mlp_cost(model, P, X, y):
    """Chi phí của ``model`` viết lại bằng torch.nn.functional (không dùng mã của nblib)."""
    F = torch.nn.functional
    m = X.shape[1]
    A = X
    for l in range(1, model.L):
        Z = P[f"W{l}"] @ A + P[f"b{l}"]
        if model.batchnorm:  # thống kê của batch, phương sai lệch (chia m), ε = 1e-5
            g, b = P[f"gamma{l}"].flatten(), P[f"beta{l}"].flatten()
            Z = F.batch_norm(Z.T, None, None, g, b, training=True, eps=1e-5).T
        A = TORCH_ACT[model.activations[l - 1]](Z)
    Z = P[f"W{model.L}"] @ A + P[f"b{model.L}"]
    if model.output == "softmax":
        J = F.cross_entropy(Z.T, torch.as_tensor(y))
    elif model.output == "sigmoid":
        J = F.binary_cross_entropy_with_logits(Z, t(y).reshape(Z.shape))
    else:
        J = F.mse_loss(Z, t(y), reduction="sum") / (2 * m)  # J = 1/(2m) Σ (A − Y)²
    l2 = sum(P[f"W{l}"].pow(2).sum() for l in range(1, model.L + 1))
    return J + model.lambd / (2 * m) * l2


def test_model_gradients_match_torch_autograd_exactly():
    model = nblib.MLP([4, 6, 3], activation="tanh", init="xavier", lambd=0.3, seed=5)
    X = RNG.standard_normal((4, 8))
    y = RNG.integers(0, 3, 8)
    loss, grads = model.loss_and_grads(X, y)
    P = {k: t(v, True) for k, v in model.params.items()}
    H = torch.tanh(P["W1"] @ t(X) + P["b1"])
    Z = P["W2"] @ H + P["b2"]
    ce = torch.nn.functional.cross_entropy(Z.T, torch.tensor(y))
    l2 = 0.3 / (2 * 8) * (P["W1"].pow(2).sum() + P["W2"].pow(2).sum())
    (ce + l2).backward()
    assert loss == pytest.approx((ce + l2).item(), rel=1e-12)
    for k in P:
        np.testing.assert_allclose(grads[k], P[k].grad.numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- numpy ≡ torch cho mô hình và tối ưu
@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
def test_optimizers_same_on_numpy_and_torch_and_match_torch_optim(name):
    w0 = RNG.standard_normal((3, 2))
    grads = [RNG.standard_normal((3, 2)) for _ in range(5)]
    update = optim.get(name)
    w, s = w0.copy(), {"lr": 0.1}
    wt, st = t(w0), {"lr": 0.1}
    for g in grads:
        w, s = update(w, g, s)
        wt, st = update(wt, t(g), st)
    assert isinstance(wt, torch.Tensor)
    np.testing.assert_allclose(wt.numpy(), w, rtol=1e-12)
    # so với torch.optim (momentum của ghi chú: v = γv + αdw ⇔ SGD(momentum=γ) với lr cố định)
    p = torch.nn.Parameter(t(w0))
    cls = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
        "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
        "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.1, alpha=0.9, eps=1e-8),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.1, eps=1e-8),
    }[name]([p])
    for g in grads:
        p.grad = t(g)
        cls.step()
    np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-6, atol=1e-8)


def test_adam_follows_the_lecture_formula_with_bias_correction():
    """Bài 05: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), w ← w − α·m̂/(√v̂ + ε), t = 1, 2, …"""
    w0 = RNG.standard_normal((4, 3))
    grads = [RNG.standard_normal((4, 3)) * 10.0**k for k in (-3, 0, 2, -1, 1, 0)]
    b1, b2, lr, eps = 0.8, 0.99, 0.05, 1e-8
    w, s = w0.copy(), {"lr": lr, "beta1": b1, "beta2": b2}
    m = v = np.zeros_like(w0)
    ref = w0.copy()
    for step, g in enumerate(grads, start=1):
        w, s = optim.adam(w, g, s)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**step), v / (1 - b2**step)
        ref = ref - lr * m_hat / (np.sqrt(v_hat) + eps)
        assert s["t"] == step
        np.testing.assert_allclose(s["m"], m, rtol=1e-14)
        np.testing.assert_allclose(s["v"], v, rtol=1e-14)
        np.testing.assert_allclose(w, ref, rtol=1e-13, atol=1e-15)
    # bước đầu: m̂ = dw, v̂ = dw² nên mỗi toạ độ đi đúng α theo hướng ngược dấu gradient
    g = np.array([0.3, -2.0, 1e-4])
    w1, _ = optim.adam(np.zeros(3), g, {"lr": 0.1})
    np.testing.assert_allclose(w1, -0.1 * np.sign(g) * np.abs(g) / (np.abs(g) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.int32, torch.uint8, torch.float64, torch.int64])
def test_torch_labels_of_any_dtype_are_cast_to_int64(dtype):
    """Nhãn torch kiểu int32/uint8/float phải thành int64 (uint8 làm chỉ số sẽ bị hiểu là mặt nạ)."""
    from nblib import backend

    Z = t(RNG.standard_normal((3, 4)))
    y64 = torch.tensor([0, 2, 1, 2])
    y = y64.to(dtype)
    out = backend.asarray_labels(y, like=Z)
    assert out.dtype == torch.int64 and out.tolist() == [0, 2, 1, 2]
    out = backend.asarray_labels(y.numpy(), like=Z)  # nhãn numpy cùng kiểu, đưa lên torch
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64
    assert out.tolist() == [0, 2, 1, 2]
    ref_loss, ref_dZ = losses.softmax_cross_entropy(Z, y64)
    loss, dZ = losses.softmax_cross_entropy(Z, y)
    assert loss == pytest.approx(ref_loss, rel=1e-14)
    np.testing.assert_allclose(dZ.numpy(), ref_dZ.numpy(), rtol=1e-14)
    previous = nblib.get_backend()
    nblib.set_backend("torch")
    try:  # không có ``like``: theo backend hiện tại
        for labels in (y, y.numpy()):
            out = backend.asarray_labels(labels)
            assert isinstance(out, torch.Tensor) and out.dtype == torch.int64
            assert out.tolist() == [0, 2, 1, 2]
    finally:
        nblib.set_backend(previous)


def test_schedules():
    assert optim.step_decay(0.1, 25, drop=0.5, every=10) == pytest.approx(0.025)
    assert optim.inverse_time_decay(0.1, 4, k=1.0) == pytest.approx(0.02)
    assert optim.exponential_decay(0.1, 10, k=0.1) == pytest.approx(0.1 * math.exp(-1))


def test_mlp_same_on_numpy_and_torch_backends():
    X, y = nblib.data.spiral(n_per_class=30, seed=1)
    res = {}
    for be in ("numpy", "torch"):
        nblib.set_backend(be)
        try:
            m = nblib.MLP([2, 16, 3], keep_prob=0.9, seed=4)
            h = nblib.train(m, X, y, lr=1e-2, epochs=5, batch_size=16, seed=1)
            res[be] = (h["loss"], nblib.backend.to_numpy(m.params["W1"]))
            assert isinstance(m.params["W1"], np.ndarray if be == "numpy" else torch.Tensor)
        finally:
            nblib.set_backend("numpy")
    np.testing.assert_allclose(res["numpy"][0], res["torch"][0], rtol=1e-10)
    np.testing.assert_allclose(res["numpy"][1], res["torch"][1], rtol=1e-9, atol=1e-12)


def test_backend_selection(monkeypatch):
    assert nblib.set_backend("auto") == ("cuda" if torch.cuda.is_available() else "numpy")
    assert "numpy" in nblib.describe() or "cuda" in nblib.describe()
    with pytest.raises(ValueError, match="Backend không hợp lệ.*auto, numpy, torch, cuda"):
        nblib.set_backend("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="không có GPU"):
            nblib.set_backend("cuda")
    nblib.set_backend("numpy")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="máy này không có GPU CUDA")
def test_cuda_backend_matches_cpu():  # pragma: no cover - chỉ chạy trên máy có GPU
    X, y = nblib.data.xor()
    nblib.set_backend("cuda")
    try:
        m = nblib.MLP([2, 8, 2], activation="tanh", seed=0)
        h = nblib.train(m, X, y, lr=0.05, epochs=300, batch_size=None)
        assert m.params["W1"].is_cuda and h["status"] == "ok"
        assert m.accuracy(X, y) == 1.0
    finally:
        nblib.set_backend("numpy")


# ---------------------------------------------------------------- tái lập
def test_seeded_runs_are_reproducible():
    X, y = nblib.data.moons(n=200, seed=3)
    runs = []
    for _ in range(2):
        m = nblib.MLP([2, 16, 2], keep_prob=0.8, seed=7)
        h = nblib.train(m, X, y, lr=1e-2, epochs=3, batch_size=32, seed=11)
        runs.append((h["loss"], m.params["W1"].copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    a, b = nblib.data.spiral(seed=5), nblib.data.spiral(seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(nblib.data.spiral(seed=6)[0], a[0])


# ---------------------------------------------------------------- đầu vào sai: thông báo tiếng Việt
def test_bad_input_messages():
    with pytest.raises(
        ValueError, match=r"W có hình dạng \(4, 3\) nhưng A_prev có hình dạng \(5, 2\)"
    ):
        layers.dense_forward(np.ones((5, 2)), np.ones((4, 3)), np.ones((4, 1)))
    bad = np.ones((2, 3))
    bad[0, 1] = np.nan
    m = nblib.MLP([2, 3, 2])
    with pytest.raises(ValueError, match="'X' chứa giá trị không hữu hạn: 1 giá trị NaN"):
        m.predict(bad)
    bad[0, 1] = np.inf
    with pytest.raises(ValueError, match="0 giá trị NaN và 1 giá trị vô cực"):
        nblib.train(m, bad, np.array([0, 1, 0]))
    for kp in (0, 1.5, -0.2):
        with pytest.raises(ValueError, match=r"keep_prob phải nằm trong khoảng \(0, 1\]"):
            layers.dropout_forward(np.ones((2, 2)), kp)
        with pytest.raises(ValueError, match="keep_prob"):
            nblib.MLP([2, 3, 2], keep_prob=kp)
    with pytest.raises(
        ValueError, match="Các giá trị hợp lệ: sigmoid, tanh, relu, leaky_relu, elu, linear"
    ):
        layers.activation_forward(np.ones((2, 2)), "relux")
    with pytest.raises(ValueError, match="Các giá trị hợp lệ: sgd, momentum, rmsprop, adam"):
        nblib.train(m, np.ones((2, 3)), np.array([0, 1, 0]), optimizer="adamw")
    with pytest.raises(TypeError, match="phải là mảng numpy hoặc tensor torch, nhận được list"):
        layers.dense_forward([[1.0]], np.ones((1, 1)), np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"X có hình dạng \(3, 4\) nhưng mạng cần 2 đặc trưng"):
        m.predict(np.ones((3, 4)))
    with pytest.raises(ValueError, match="Hình dạng không khớp: A có hình dạng"):
        losses.mse(np.ones((1, 3)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="tốc độ học"):
        optim.sgd(np.ones(2), np.ones(2), {"lr": -1})
    with pytest.raises(ValueError, match="Nhãn phải nằm trong"):
        losses.softmax_cross_entropy(np.ones((3, 2)), np.array([0, 3]))


def test_gradcheck_catches_a_broken_backward():
    W = RNG.standard_normal((2, 3))
    X = RNG.standard_normal((3, 4))

    def loss():
        return float(np.sum(np.tanh(W @ X) ** 2))

    good = (2 * np.tanh(W @ X) * (1 - np.tanh(W @ X) ** 2)) @ X.T
    broken = (2 * np.tanh(W @ X)) @ X.T  # quên đạo hàm của tanh
    num = gradcheck.numeric_gradient(loss, W)
    assert gradcheck.rel_error(good, num) < 1e-7
    assert gradcheck.rel_error(broken, num) > 1e-2


def _layer_cases():
    gen = np.random.default_rng(1)
    A = gen.standard_normal((3, 6))
    W, b = gen.standard_normal((4, 3)), gen.standard_normal((4, 1))
    Z = gen.standard_normal((4, 6))
    g, be = gen.standard_normal((4, 1)), gen.standard_normal((4, 1))
    dZ = gen.standard_normal((4, 6))

    def dense(x):
        Zo, c = layers.dense_forward(*x[:3])
        return (Zo, *layers.dense_backward(x[3], c))

    def bn(x):
        out, c = layers.batchnorm_forward(x[0], x[1], x[2], {}, train=True)
        return (out, *layers.batchnorm_backward(x[3], c))

    def drop(x):
        out, c = layers.dropout_forward(x[0], 0.7, rng=5)
        return out, layers.dropout_backward(x[1], c)

    def act_layer(x):
        out, c = layers.activation_forward(x[0], "elu")
        return out, layers.activation_backward(x[1], c)

    return [
        ("dense", dense, (A, W, b, dZ)),
        ("batchnorm", bn, (Z, g, be, dZ)),
        ("dropout", drop, (Z, dZ)),
        ("activation", act_layer, (Z, dZ)),
    ]


@pytest.mark.parametrize(
    "name,fn,args", _layer_cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_layers_same_on_numpy_and_torch(name, fn, args):
    ref = fn(args)
    got = fn(tuple(t(a) for a in args))
    for r, g in zip(ref, got):
        assert isinstance(g, torch.Tensor), name
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-12, atol=1e-12)


def test_model_loss_is_the_forward_only_cost():
    X = RNG.standard_normal((5, 12))
    y = RNG.integers(0, 3, 12)
    model = nblib.MLP([5, 7, 3], lambd=0.3, seed=2)
    loss, _ = model.loss_and_grads(X, y, train=False)
    assert model.loss(X, y) == pytest.approx(loss, rel=1e-12)
    with pytest.raises(ValueError, match="Hình dạng không khớp"):
        model.loss(X[:4], y)


def test_labels_already_on_torch_stay_tensors():
    from nblib import backend

    y = torch.tensor([0, 2, 1])
    out = backend.asarray_labels(y, like=t(np.zeros((3, 3))))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64
    assert out.tolist() == [0, 2, 1]
    out = backend.asarray_labels(np.array([0.0, 2.0]), like=np.zeros((3, 2)))
    assert out.dtype == np.int64 and out.tolist() == [0, 2]


# ---------------------------------------------------------------- backend: một đường chuyển đổi
def test_backend_conversion_decides_library_device_and_dtype_in_one_place():
    from nblib import backend, preprocess

    like_t, like_n = t(np.zeros((2, 2))), np.zeros((2, 2), dtype=np.float32)
    perm = np.random.default_rng(0).permutation(5)
    idx = backend.asarray_indices(perm, like=like_t)
    assert (
        isinstance(idx, torch.Tensor) and idx.dtype == torch.int64 and idx.tolist() == perm.tolist()
    )
    idx = backend.asarray_indices(perm.astype(np.int32), like=like_n)
    assert isinstance(idx, np.ndarray) and idx.dtype == np.int64
    assert backend.asarray([1, 2], like=like_n).dtype == np.float32  # kiểu số thực của like
    assert backend.asarray([1, 2], like=np.arange(3)).dtype == np.float64  # like nguyên: float64
    assert backend.asarray(np.arange(3), like=like_t).dtype == torch.float64
    assert backend.asarray(torch.arange(3), like=like_n).dtype == np.float32
    for x in (np.zeros(2), np.float64(1.0), like_t):
        assert backend.is_array(x)
    for x in ([1.0], 1.0, None, "a"):
        assert not backend.is_array(x)
    assert isinstance(backend.to_numpy_if_tensor(like_t), np.ndarray)
    keep = [1, 2]
    assert backend.to_numpy_if_tensor(keep) is keep and backend.to_numpy_if_tensor(None) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with backend.ignore_float_errors():
            assert np.isnan(np.zeros(1) / np.zeros(1))[0]
    # tiền xử lý trả về cùng loại mảng với X, không nhánh numpy/torch riêng
    X = np.random.default_rng(1).standard_normal((3, 20))
    st = preprocess.fit("zscore", X)
    out_t = preprocess.transform(st, t(X))
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float64
    np.testing.assert_allclose(out_t.numpy(), preprocess.transform(st, X), rtol=1e-14)
    out_int = preprocess.transform(
        preprocess.fit("center", np.arange(6).reshape(2, 3)), np.ones((2, 3), int)
    )
    assert out_int.dtype == np.float64


def test_argcheck_array_accepts_numpy_and_torch_only():
    from nblib import argcheck

    for x in (np.zeros((2, 2)), t(np.zeros((2, 2)))):
        assert argcheck.array("X", x, ndim=2) is x
    with pytest.raises(TypeError, match="nhận được list"):
        argcheck.array("X", [[1.0]])
    with pytest.raises(ValueError, match="X' chứa giá trị không hữu hạn: 1 giá trị NaN"):
        argcheck.finite("X", t(np.array([1.0, np.nan])))


# ---------------------------------------------------------------- đồ thị nhập module không có vòng
def _nblib_import_graph():
    """Module nblib → các module nblib mà nó nhập (kể cả nhập trong hàm), đọc từ mã nguồn."""
    import ast
    import pathlib

    root = pathlib.Path(nblib.__file__).parent
    top = root.parent

    def module_name(path):
        parts = path.relative_to(top).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    def exists(name):
        base = top.joinpath(*name.split("."))
        return base.with_suffix(".py").exists() or (base / "__init__.py").exists()

    graph = {}
    for path in root.rglob("*.py"):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                elif (node.module or "").startswith("nblib"):
                    target = node.module
                else:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    deps.add(sub if exists(sub) else target)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.split(".")[0] == "nblib")
        graph[name] = {d for d in deps if d != name}
    return graph


def _check_no_cycle(graph):
    """Duyệt theo chiều sâu; gặp lại một module đang duyệt dở là có vòng nhập."""
    state = {}

    def visit(node, path):
        if state.get(node) == "done":
            return
        assert state.get(node) != "visiting", "vòng nhập: " + " → ".join(path + [node])
        state[node] = "visiting"
        for dep in sorted(graph.get(node, ())):
            visit(dep, path + [node])
        state[node] = "done"

    for node in sorted(graph):
        visit(node, [])


def test_nblib_import_graph_has_no_cycle():
    graph = _nblib_import_graph()
    assert {"nblib.backend", "nblib.training", "nblib.model", "nblib.assessment.checks"} <= set(
        graph
    )
    assert graph["nblib.backend"] == set()  # backend không phụ thuộc module nào khác của nblib
    assert {"nblib.model", "nblib.optim"} <= graph["nblib.training"]
    _check_no_cycle(graph)
    # phép kiểm tra bắt được vòng: thêm cạnh backend → training (training đã nhập backend)
    with pytest.raises(AssertionError, match="vòng nhập: .*nblib.backend → nblib.training"):
        _check_no_cycle(dict(graph, **{"nblib.backend": {"nblib.training"}}))


@pytest.mark.parametrize("module", ["nblib.backend", "nblib.training", "nblib.assessment.checks"])
def test_module_imports_alone_in_a_fresh_interpreter(module):
    import subprocess

    res = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
