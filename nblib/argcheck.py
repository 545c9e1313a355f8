"""Kiểm tra đầu vào với thông báo lỗi tiếng Việt nêu rõ tham số và vấn đề."""

from __future__ import annotations

import numbers

from . import backend


def array(name: str, x, ndim: int | None = None):
    """Báo ``TypeError`` nếu ``x`` không phải mảng numpy/tensor torch; ``ValueError`` nếu sai số chiều."""
    if not backend.is_array(x):
        raise TypeError(
            f"Tham số '{name}' phải là mảng numpy hoặc tensor torch, nhận được {type(x).__name__}."
        )
    if ndim is not None and x.ndim != ndim:
        raise ValueError(
            f"Tham số '{name}' phải có {ndim} chiều, nhận được {x.ndim} chiều "
            f"(hình dạng {tuple(x.shape)})."
        )
    return x


def finite(name: str, x):
    """Báo ``ValueError`` nếu ``x`` chứa NaN hoặc vô cực."""
    array(name, x)
    xp = backend.namespace(x)
    if not bool(xp.all(xp.isfinite(x))):
        n_nan = int(xp.sum(xp.astype(xp.isnan(x), xp.int64)))
        n_inf = int(xp.sum(xp.astype(xp.isinf(x), xp.int64)))
        raise ValueError(
            f"Tham số '{name}' chứa giá trị không hữu hạn: {n_nan} giá trị NaN và {n_inf} giá trị "
            f"vô cực (hình dạng {tuple(x.shape)}). Hãy kiểm tra dữ liệu đầu vào hoặc tốc độ học."
        )
    return x


def keep_prob(value) -> float:
    """``keep_prob`` phải là số thực trong khoảng (0, 1]."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"keep_prob phải là một số thực trong (0, 1], nhận được {value!r}.")
    if not (0.0 < float(value) <= 1.0):
        raise ValueError(
            f"keep_prob phải nằm trong khoảng (0, 1] (xác suất giữ lại một nơ-ron), "
            f"nhận được {value}."
        )
    return float(value)


def positive(name: str, value) -> float:
    """Một siêu tham số phải là số thực dương (ví dụ tốc độ học α)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"Tham số '{name}' phải là số thực dương, nhận được {value!r}.")
    return float(value)


def non_negative(name: str, value) -> float:
    """Một siêu tham số phải là số thực không âm (ví dụ λ của điều chuẩn L2)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"Tham số '{name}' phải là số thực không âm, nhận được {value!r}.")
    return float(value)


def choice(name: str, value, valid):
    """``value`` phải thuộc tập ``valid``; thông báo lỗi liệt kê các giá trị hợp lệ."""
    if value not in valid:
        raise ValueError(
            f"Giá trị không hợp lệ cho '{name}': {value!r}. Các giá trị hợp lệ: "
            f"{', '.join(map(str, valid))}."
        )
    return value
