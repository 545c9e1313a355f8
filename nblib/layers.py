"""Các tầng của mạng, theo kiểu CS231n: ``forward → (out, cache)``, ``backward(dout, cache) → gradient``.

Ký hiệu như trong bài giảng: mỗi cột là một mẫu, ``A_prev`` có hình dạng (n[l−1], m),
``W`` có hình dạng (n[l], n[l−1]), ``b`` có hình dạng (n[l], 1), Z[l] = W[l] A[l−1] + b[l].
Gradient ``dW`` không chia cho m vì hàm mất mát (``nblib.losses``) đã lấy trung bình trên các mẫu.
"""

from __future__ import annotations

from . import activations, argcheck, backend


def dense_forward(A_prev, W, b):
    """Tầng kết nối đầy đủ: Z = W·A_prev + b. Trả về (Z, cache)."""
    argcheck.array("A_prev", A_prev, ndim=2)
    argcheck.array("W", W, ndim=2)
    argcheck.array("b", b)
    if W.shape[1] != A_prev.shape[0]:
        raise ValueError(
            f"Hình dạng không khớp: W có hình dạng {tuple(W.shape)} nhưng A_prev có hình dạng "
            f"{tuple(A_prev.shape)}; số cột của W ({W.shape[1]}) phải bằng số hàng của A_prev "
            f"({A_prev.shape[0]}), tức n[l−1]."
        )
    if tuple(b.shape) not in ((W.shape[0], 1), (W.shape[0],)):
        raise ValueError(
            f"Hình dạng không khớp: b có hình dạng {tuple(b.shape)}, cần ({W.shape[0]}, 1) "
            f"để khớp với W có hình dạng {tuple(W.shape)}."
        )
    if b.ndim == 1:
        b = backend.namespace(b).reshape(b, (b.shape[0], 1))
    return W @ A_prev + b, (A_prev, W)


def dense_backward(dZ, cache, input_grad=True):
    """Lan truyền ngược qua tầng kết nối đầy đủ. Trả về (dA_prev, dW, db).

    dW = dZ·A_prevᵀ, db = Σ_cột dZ (giữ chiều: (n[l], 1)), dA_prev = Wᵀ·dZ.
    ``input_grad=False`` (tầng đầu tiên: không ai cần dX) bỏ qua phép nhân Wᵀ·dZ và trả về
    ``dA_prev = None``.
    """
    A_prev, W = cache
    xp = backend.namespace(dZ)
    dA_prev = W.T @ dZ if input_grad else None
    return dA_prev, dZ @ A_prev.T, xp.sum(dZ, axis=1, keepdims=True)


def activation_forward(Z, name="relu", **kwargs):
    """A = g(Z) với g là hàm kích hoạt ``name``. Trả về (A, cache)."""
    f, df = activations.get(name)
    return f(Z, **kwargs), (Z, df, kwargs)


def activation_backward(dA, cache):
    """dZ = dA ⊙ g'(Z)."""
    Z, df, kwargs = cache
    return dA * df(Z, **kwargs)


def dropout_forward(A, keep_prob, train=True, rng=None):
    """Dropout ngược (inverted dropout): giữ mỗi nơ-ron với xác suất ``keep_prob`` rồi chia cho keep_prob.

    Chia cho keep_prob giữ nguyên kỳ vọng của kích hoạt, nên lúc kiểm tra (``train=False``) tầng này
    là hàm đồng nhất. ``rng``: bộ sinh numpy hoặc seed. Trả về (out, cache).
    """
    keep_prob = argcheck.keep_prob(keep_prob)
    if not train or keep_prob == 1.0:
        return A, None
    mask = backend.random_like(backend.rng(rng), A) < keep_prob
    D = backend.namespace(A).astype(mask, A.dtype) / keep_prob
    return A * D, D


def dropout_backward(dout, cache):
    """Gradient qua dropout: chỉ những nơ-ron được giữ mới nhận gradient (cùng hệ số 1/keep_prob)."""
    return dout if cache is None else dout * cache


def batchnorm_forward(Z, gamma, beta, bn_state, train=True, momentum=0.9, eps=1e-5):
    """Chuẩn hoá theo batch cho Z (n, m), mỗi hàng là một đặc trưng, thống kê theo các mẫu (trục 1).

    Huấn luyện: μ_B, σ²_B của batch; x̂ = (Z − μ_B)/√(σ²_B + ε); out = γ·x̂ + β; cập nhật trung bình
    trượt trong ``bn_state`` ("running_mean", "running_var", tạo mới nếu chưa có).
    Kiểm tra (``train=False``): dùng trung bình trượt thay cho thống kê của batch.
    """
    argcheck.array("Z", Z, ndim=2)
    xp = backend.namespace(Z)
    n = Z.shape[0]
    for name, p in (("gamma", gamma), ("beta", beta)):
        if tuple(p.shape) != (n, 1):
            raise ValueError(
                f"Hình dạng không khớp: {name} có hình dạng {tuple(p.shape)}, cần ({n}, 1) "
                f"để khớp với Z có hình dạng {tuple(Z.shape)}."
            )
    if "running_mean" not in bn_state:
        bn_state["running_mean"] = xp.zeros_like(gamma)
        bn_state["running_var"] = xp.ones_like(gamma)
    if not train:
        x_hat = (Z - bn_state["running_mean"]) / xp.sqrt(bn_state["running_var"] + eps)
        return gamma * x_hat + beta, None
    mu = xp.mean(Z, axis=1, keepdims=True)
    var = xp.mean((Z - mu) ** 2, axis=1, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    x_hat = (Z - mu) * inv_std
    bn_state["running_mean"] = momentum * bn_state["running_mean"] + (1 - momentum) * mu
    bn_state["running_var"] = momentum * bn_state["running_var"] + (1 - momentum) * var
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Lan truyền ngược qua chuẩn hoá theo batch (chế độ huấn luyện). Trả về (dZ, dgamma, dbeta).

    Công thức gọn: dZ = (1/m)·γ·(1/σ)·(m·dx̂ − Σdx̂ − x̂·Σ(dx̂ ⊙ x̂)), với dx̂ = dout ⊙ γ.
    """
    if cache is None:
        raise ValueError(
            "batchnorm_backward cần cache của lượt truyền thuận ở chế độ huấn luyện (train=True)."
        )
    x_hat, gamma, inv_std = cache
    xp = backend.namespace(dout)
    m = dout.shape[1]
    dgamma = xp.sum(dout * x_hat, axis=1, keepdims=True)
    dbeta = xp.sum(dout, axis=1, keepdims=True)
    dx_hat = dout * gamma
    dZ = (inv_std / m) * (
        m * dx_hat
        - xp.sum(dx_hat, axis=1, keepdims=True)
        - x_hat * xp.sum(dx_hat * x_hat, axis=1, keepdims=True)
    )
    return dZ, dgamma, dbeta
