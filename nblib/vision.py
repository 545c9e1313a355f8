"""Các hàm mất mát và khối của CNN ứng dụng: triplet loss, chuyển phong cách, khối phần dư.

Mỗi hàm trả về giá trị cùng gradient (kiểu ``forward → (out, cache)``, ``backward(dout, cache)``),
nhận mảng numpy hoặc tensor torch.

- ``triplet_loss(fA, fP, fN, alpha)``: ℓ = max(d(A, P) − d(A, N) + α, 0), d là bình phương khoảng cách
  Euclid giữa hai vector nhúng (cột là mẫu, trung bình trên các mẫu); trả về (ℓ, (dA, dP, dN)).
- ``gram_matrix(a)``: ma trận Gram G_kk' = Σ_ij a_kij a_k'ij của kích hoạt a (n_C, n_H, n_W).
- ``content_cost``, ``style_cost``: J_content = ½‖a(C) − a(G)‖², J_style = ‖G(S) − G(G)‖²_F / (2 n_H n_W n_C)²;
  cả hai trả về (J, dJ/da(G)).
- ``residual_forward`` / ``residual_backward``: khối phần dư hai tầng a[l+2] = g(a[l] + z[l+2]).
"""

from __future__ import annotations

from . import activations, backend

__all__ = [
    "triplet_loss",
    "gram_matrix",
    "content_cost",
    "style_cost",
    "residual_forward",
    "residual_backward",
]


def triplet_loss(fA, fP, fN, alpha=0.2):
    """Triplet loss trung bình trên m bộ ba; fA, fP, fN có hình dạng (d, m) (mỗi cột một vector nhúng).

    d(A, P) = ‖f(A) − f(P)‖², d(A, N) = ‖f(A) − f(N)‖²; ℓ = (1/m) Σ max(d(A,P) − d(A,N) + α, 0).
    Chỉ các bộ ba "còn vi phạm lề" (biểu thức trong max dương) có gradient:
    dA = 2(f(N) − f(P))/m, dP = −2(f(A) − f(P))/m, dN = 2(f(A) − f(N))/m.
    Trả về (ℓ, (dA, dP, dN)).
    """
    xp = backend.namespace(fA, fP, fN)
    if not (fA.shape == fP.shape == fN.shape) or fA.ndim != 2:
        raise ValueError(
            "fA, fP, fN phải cùng hình dạng (d, m), nhận được "
            f"{tuple(fA.shape)}, {tuple(fP.shape)}, {tuple(fN.shape)}."
        )
    m = fA.shape[1]
    d_pos = xp.sum((fA - fP) ** 2, axis=0)
    d_neg = xp.sum((fA - fN) ** 2, axis=0)
    margin = d_pos - d_neg + alpha
    loss = xp.sum(xp.clip(margin, min=0)) / m
    active = xp.astype(margin > 0, fA.dtype)[None, :] / m
    return loss, (2 * (fN - fP) * active, -2 * (fA - fP) * active, 2 * (fA - fN) * active)


def gram_matrix(a):
    """Ma trận phong cách (Gram) (n_C, n_C) của kích hoạt a có hình dạng (n_C, n_H, n_W).

    G = A·Aᵀ với A = a viết lại thành (n_C, n_H·n_W): G_kk' đo mức hai kênh k, k' cùng bật.
    """
    xp = backend.namespace(a)
    if a.ndim != 3:
        raise ValueError(f"a phải có hình dạng (n_C, n_H, n_W), nhận được {tuple(a.shape)}.")
    A = xp.reshape(a, (a.shape[0], -1))
    return A @ A.T


def content_cost(a_C, a_G):
    """J_content(C, G) = ½‖a(C) − a(G)‖² (tổng trên mọi phần tử). Trả về (J, dJ/da_G = a_G − a_C)."""
    xp = backend.namespace(a_C, a_G)
    diff = a_G - a_C
    return 0.5 * xp.sum(diff**2), diff


def style_cost(a_S, a_G):
    """J_style tại một tầng: ‖G(S) − G(G)‖²_F / (2·n_H·n_W·n_C)², a có hình dạng (n_C, n_H, n_W).

    Gradient: với D = G(G) − G(S) (đối xứng), dJ/dA_G = 4·D·A_G / (2 n_H n_W n_C)².
    Trả về (J, dJ/da_G) (cùng hình dạng với a_G).
    """
    xp = backend.namespace(a_S, a_G)
    n_C, n_H, n_W = a_G.shape
    norm = (2.0 * n_H * n_W * n_C) ** 2
    D = gram_matrix(a_G) - gram_matrix(a_S)
    A_G = xp.reshape(a_G, (n_C, -1))
    return xp.sum(D**2) / norm, xp.reshape(4.0 * D @ A_G / norm, a_G.shape)


def residual_forward(A_prev, W1, b1, W2, b2):
    """Khối phần dư hai tầng kết nối đầy đủ (cùng số nơ-ron n với đầu vào):

    Z1 = W1·A_prev + b1, A1 = ReLU(Z1), Z2 = W2·A1 + b2, A = ReLU(A_prev + Z2).
    A_prev (n, m); W1, W2 (n, n); b1, b2 (n, 1). Trả về (A, cache).
    """
    Z1 = W1 @ A_prev + b1
    A1 = activations.relu(Z1)
    Z2 = W2 @ A1 + b2
    S = A_prev + Z2
    return activations.relu(S), (A_prev, W1, Z1, A1, W2, S)


def residual_backward(dA, cache):
    """Lan truyền ngược qua khối phần dư. Trả về (dA_prev, dW1, db1, dW2, db2).

    Đường tắt cộng thêm dS vào dA_prev: dA_prev = dS + W1ᵀ·dZ1 — gradient luôn có một đường đi
    thẳng về tầng trước mà không bị nhân với ma trận trọng số nào.
    """
    A_prev, W1, Z1, A1, W2, S = cache
    xp = backend.namespace(dA)
    dS = dA * activations.relu_grad(S)
    dW2, db2 = dS @ A1.T, xp.sum(dS, axis=1, keepdims=True)
    dZ1 = (W2.T @ dS) * activations.relu_grad(Z1)
    dW1, db1 = dZ1 @ A_prev.T, xp.sum(dZ1, axis=1, keepdims=True)
    return dS + W1.T @ dZ1, dW1, db1, dW2, db2
