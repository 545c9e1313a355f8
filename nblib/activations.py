"""Các hàm kích hoạt và đạo hàm của chúng (theo từng phần tử).

Mỗi hàm ``f(z)`` đi kèm ``f_grad(z)`` = f'(z). Đầu vào là mảng numpy hoặc tensor torch; đầu ra cùng loại.
"""

from __future__ import annotations

from . import argcheck, backend


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), tính ổn định: không tràn số kể cả khi |z| rất lớn."""
    xp = backend.namespace(z)
    e = xp.exp(-xp.abs(z))  # luôn trong (0, 1]: không bao giờ tràn
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(z):
    """σ'(z) = σ(z)(1 − σ(z)), không vượt quá 1/4."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), giá trị trong (−1, 1), đối xứng qua 0."""
    return backend.namespace(z).tanh(z)


def tanh_grad(z):
    """tanh'(z) = 1 − tanh²(z)."""
    t = tanh(z)
    return 1.0 - t * t


def relu(z):
    """ReLU(z) = max(0, z)."""
    return backend.namespace(z).maximum(z, 0.0)


def relu_grad(z):
    """ReLU'(z) = 1 nếu z > 0, ngược lại 0 (quy ước đạo hàm tại 0 bằng 0)."""
    xp = backend.namespace(z)
    return xp.astype(z > 0, z.dtype)


def leaky_relu(z, alpha=0.01):
    """Leaky ReLU(z) = z nếu z > 0, ngược lại α·z (α nhỏ, mặc định 0,01)."""
    return backend.namespace(z).where(z > 0, z, alpha * z)


def leaky_relu_grad(z, alpha=0.01):
    """Đạo hàm Leaky ReLU: 1 nếu z > 0, ngược lại α."""
    one = backend.namespace(z).ones_like(z)
    return backend.namespace(z).where(z > 0, one, alpha * one)


def prelu(z, alpha):
    """PReLU: như Leaky ReLU nhưng α là tham số được học."""
    return leaky_relu(z, alpha)


def prelu_grad(z, alpha):
    """Đạo hàm của PReLU theo z."""
    return leaky_relu_grad(z, alpha)


def elu(z, alpha=1.0):
    """ELU(z) = z nếu z > 0, ngược lại α(e^z − 1)."""
    xp = backend.namespace(z)
    return xp.where(z > 0, z, alpha * xp.expm1(xp.minimum(z, 0.0)))


def elu_grad(z, alpha=1.0):
    """Đạo hàm ELU: 1 nếu z > 0, ngược lại α·e^z."""
    xp = backend.namespace(z)
    return xp.where(z > 0, xp.ones_like(z), alpha * xp.exp(xp.minimum(z, 0.0)))


def linear(z):
    """Hàm đồng nhất g(z) = z (không có tính phi tuyến)."""
    return z


def linear_grad(z):
    """Đạo hàm của hàm đồng nhất: 1."""
    return backend.namespace(z).ones_like(z)


def softmax(z, axis=0):
    """Softmax ổn định: trừ giá trị lớn nhất trước khi lấy mũ (mỗi cột là một mẫu khi axis=0)."""
    xp = backend.namespace(z)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def maxout(z, k):
    """Maxout: chia ``z`` (hình dạng (n·k, m)) thành n nhóm k hàng liên tiếp, lấy max từng nhóm → (n, m)."""
    xp = backend.namespace(z)
    rows = z.shape[0]
    if k < 1 or rows % k:
        raise ValueError(f"Maxout: số hàng của z ({rows}) phải chia hết cho k = {k}.")
    return xp.max(xp.reshape(z, (rows // k, k, z.shape[1])), axis=1)


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "linear": (linear, linear_grad),
}


def get(name: str):
    """Cặp (f, f') theo tên; báo lỗi tiếng Việt liệt kê các tên hợp lệ."""
    pair = ACTIVATIONS.get(name) if isinstance(name, str) else None
    if pair is None:
        argcheck.choice("activation (hàm kích hoạt)", name, tuple(ACTIVATIONS))
    return pair
