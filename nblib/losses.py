"""Hàm mất mát và gradient của chúng. Mỗi hàm trả về ``(loss, gradient)``.

Quy ước: mỗi cột là một mẫu; ``m`` là số mẫu; mất mát là trung bình trên các mẫu.
"""

from __future__ import annotations

from . import argcheck, backend
from .activations import sigmoid

_EPS = 1e-12


def _same_shape(A, Y, name_a="A", name_y="Y"):
    if tuple(A.shape) != tuple(Y.shape):
        raise ValueError(
            f"Hình dạng không khớp: {name_a} có hình dạng {tuple(A.shape)} nhưng {name_y} có "
            f"hình dạng {tuple(Y.shape)}; hai mảng phải cùng hình dạng (mỗi cột là một mẫu)."
        )


def _as_targets(Y, like):
    """Nhãn ``Y`` thành mảng số thực cùng loại/thiết bị với ``like``; nhãn (m,) thành (1, m)."""
    Y = backend.asarray(Y, like=like)
    if Y.ndim == 1 and like.ndim == 2 and like.shape[0] == 1:
        Y = backend.namespace(Y).reshape(Y, (1, Y.shape[0]))
    return Y


def mse(A, Y):
    """Trung bình bình phương sai số có hệ số ½ như trong ghi chú: J = 1/(2m) Σ (A − Y)².

    Trả về (J, dJ/dA) với dJ/dA = (A − Y)/m.
    """
    argcheck.array("A", A)
    Y = _as_targets(Y, A)
    _same_shape(A, Y)
    xp = backend.namespace(A)
    m = A.shape[-1] if A.ndim > 1 else A.shape[0]
    diff = A - Y
    return backend.to_float(xp.sum(diff * diff)) / (2 * m), diff / m


def binary_cross_entropy(A, Y):
    """Entropy chéo nhị phân J = −1/m Σ [y·log a + (1 − y)·log(1 − a)], ``A`` là xác suất.

    ``A`` được kẹp vào [ε, 1 − ε] nên không bao giờ có log(0). Trả về (J, dJ/dA).
    """
    argcheck.array("A", A)
    Y = _as_targets(Y, A)
    _same_shape(A, Y)
    xp = backend.namespace(A)
    m = A.shape[-1] if A.ndim > 1 else A.shape[0]
    P = xp.clip(A, _EPS, 1.0 - _EPS)
    loss = -xp.sum(Y * xp.log(P) + (1.0 - Y) * xp.log(1.0 - P)) / m
    dA = (P - Y) / (P * (1.0 - P)) / m
    return backend.to_float(loss), dA


def sigmoid_cross_entropy(Z, Y):
    """Sigmoid và entropy chéo nhị phân gộp lại, tính từ logit ``Z`` (ổn định số học).

    J = 1/m Σ [max(z, 0) − z·y + log(1 + e^(−|z|))]; dJ/dZ = (σ(Z) − Y)/m.
    """
    argcheck.array("Z", Z)
    Y = _as_targets(Y, Z)
    _same_shape(Z, Y, "Z", "Y")
    xp = backend.namespace(Z)
    m = Z.shape[-1] if Z.ndim > 1 else Z.shape[0]
    loss = xp.sum(xp.maximum(Z, 0.0) - Z * Y + xp.log1p(xp.exp(-xp.abs(Z)))) / m
    return backend.to_float(loss), (sigmoid(Z) - Y) / m


def _labels(y, Z):
    """Nhãn nguyên (m,) cùng loại/thiết bị với ``Z`` (C, m), đã kiểm tra số lượng và khoảng giá trị."""
    C, m = Z.shape
    y = backend.asarray_labels(y, like=Z)
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(
            f"Số nhãn ({y.shape[0] if y.ndim == 1 else tuple(y.shape)}) khác số mẫu (số cột của Z "
            f"có hình dạng {tuple(Z.shape)})."
        )
    ymin, ymax = int(y.min()), int(y.max())
    if ymin < 0 or ymax >= C:
        raise ValueError(
            f"Nhãn phải nằm trong [0, {C - 1}] (C = {C} lớp), nhận được [{ymin}, {ymax}]."
        )
    return y


def one_hot_like(y, Z):
    """Nhãn nguyên (m,) → ma trận one-hot (C, m) cùng loại/thiết bị với ``Z`` (C, m)."""
    xp = backend.namespace(Z)
    C, m = Z.shape
    if y.ndim == 2:
        Y = backend.asarray(y, like=Z)
        _same_shape(Z, Y, "Z", "Y")
        return Y
    y = _labels(y, Z)
    classes = xp.reshape(xp.arange(C, device=backend.device(Z)), (C, 1))
    return xp.astype(classes == xp.reshape(y, (1, m)), Z.dtype)


def softmax_cross_entropy(Z, y):
    """Softmax + entropy chéo từ logit ``Z`` (C, m); ``y`` là nhãn nguyên (m,) hoặc one-hot (C, m).

    J = −1/m Σ log softmax(Z)[y]; tính qua log-sum-exp nên không có log(0). dJ/dZ = (softmax(Z) − Y)/m.
    """
    argcheck.array("Z", Z, ndim=2)
    xp = backend.namespace(Z)
    m = Z.shape[1]
    shifted = Z - xp.max(Z, axis=0, keepdims=True)
    e = xp.exp(shifted)
    total = xp.sum(e, axis=0, keepdims=True)
    P = e / total
    if y.ndim == 1:  # nhãn nguyên: chỉ lấy log-xác suất của lớp đúng, không dựng ma trận one-hot
        labels = _labels(y, Z)
        cols = xp.arange(m, device=backend.device(Z))
        loss = -xp.sum(shifted[labels, cols] - xp.log(total[0, :])) / m
        P[labels, cols] -= 1.0  # softmax(Z) − Y: trừ 1 ở đúng lớp của mỗi mẫu
        return backend.to_float(loss), P / m
    Y = one_hot_like(y, Z)
    loss = -xp.sum(Y * (shifted - xp.log(total))) / m
    return backend.to_float(loss), (P - Y) / m
