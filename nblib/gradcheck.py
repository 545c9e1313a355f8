"""Kiểm tra gradient: so gradient giải tích với gradient số (sai phân trung tâm).

Quy tắc đọc sai số tương đối ``rel_error`` (một quy tắc cho cả khoá học: Bài 03, các bài tập và
``check_model_gradients``; số thực float64, bước ``h ≈ 1e-5``):

- ``rel_error < GOOD_REL_ERROR`` (``1e-7``): tốt, lan truyền ngược đúng;
- ``GOOD_REL_ERROR ≤ rel_error ≤ BAD_REL_ERROR`` (từ ``1e-7`` đến ``1e-4``): cần xem lại (chấp
  nhận được nếu hàm có điểm gãy như ReLU tại 0);
- ``rel_error > BAD_REL_ERROR`` (``1e-4``): gần như chắc chắn có lỗi.

``verdict(err)`` trả về một trong ba kết luận trên.
"""

from __future__ import annotations

import numpy as np

from . import backend

GOOD_REL_ERROR = 1e-7
"""Dưới ngưỡng này: gradient giải tích khớp gradient số (tốt)."""

BAD_REL_ERROR = 1e-4
"""Trên ngưỡng này: gần như chắc chắn lan truyền ngược có lỗi."""

VERDICTS = ("tốt", "cần xem lại", "có lỗi")


def verdict(err) -> str:
    """Kết luận theo quy tắc của module: "tốt", "cần xem lại" hoặc "có lỗi"."""
    err = float(err)
    if not err <= BAD_REL_ERROR:  # cả NaN cũng là có lỗi
        return VERDICTS[2]
    return VERDICTS[0] if err < GOOD_REL_ERROR else VERDICTS[1]


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

    Không dropout trong lúc kiểm tra (mặt nạ ngẫu nhiên làm hàm không tất định). Đọc kết quả theo
    quy tắc ở đầu module (``verdict``).
    """
    _, grads = model.loss_and_grads(X, y, dropout=False)
    errors = {}
    for k, w in model.params.items():
        num = numeric_gradient(lambda: model.loss_and_grads(X, y, dropout=False)[0], w, h)
        errors[k] = rel_error(grads[k], num)
    return errors
