"""Kiểm tra gradient: so gradient giải tích với gradient số (sai phân trung tâm)."""

from __future__ import annotations

import numpy as np

from . import backend


def numeric_gradient(f, x, h=1e-5):
    """Gradient số của ``f()`` (trả về số thực) theo mảng ``x``: (f(x + h) − f(x − h)) / (2h).

    ``x`` được sửa tại chỗ từng phần tử một rồi khôi phục, nên ``f`` đọc ``x`` qua bao đóng.
    Dùng kiểu float64 để sai số làm tròn nhỏ.
    """
    grad = np.zeros(tuple(x.shape))
    for idx in np.ndindex(*grad.shape):
        old = backend.to_float(x[idx])
        x[idx] = old + h
        fp = backend.to_float(f())
        x[idx] = old - h
        fm = backend.to_float(f())
        x[idx] = old
        grad[idx] = (fp - fm) / (2 * h)
    return backend.asarray(grad, like=x)


def rel_error(a, b):
    """Sai số tương đối lớn nhất (công thức của CS231n): max |a − b| / max(1e-8, |a| + |b|)."""
    a, b = backend.to_numpy(a).astype(float), backend.to_numpy(b).astype(float)
    if a.shape != b.shape:
        raise ValueError(f"Hình dạng không khớp: {a.shape} và {b.shape}.")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def check_model_gradients(model, X, y, h=1e-5):
    """Sai số tương đối giữa gradient giải tích và gradient số cho từng tham số của ``model``.

    Tắt dropout trong lúc kiểm tra (mặt nạ ngẫu nhiên làm hàm không tất định). Ngưỡng tham khảo
    (float64): < 1e-7 rất tốt; 1e-7…1e-4 cần xem lại; > 1e-4 gần như chắc chắn có lỗi.
    """
    keep = model.keep_prob
    model.keep_prob = 1.0
    try:
        _, grads = model.loss_and_grads(X, y)
        errors = {}
        for k, w in model.params.items():
            num = numeric_gradient(lambda: model.loss_and_grads(X, y)[0], w, h)
            errors[k] = rel_error(grads[k], num)
        return errors
    finally:
        model.keep_prob = keep
