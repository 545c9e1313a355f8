"""nblib — thư viện nhỏ gồm các cài đặt tham chiếu mà mọi notebook của khoá học dùng chung.

Các hàm nhỏ, thuần tuý, bám sát công thức trong bài giảng; mỗi công thức viết một lần và chạy được với
mảng numpy lẫn tensor torch (CPU hoặc GPU) nhờ chuẩn Array API. Xem ``nblib.backend`` để biết cách
chọn CPU/GPU.
"""

from . import (
    activations,
    backend,
    data,
    gradcheck,
    init,
    layers,
    losses,
    optim,
    preprocess,
    search,
)
from .backend import describe, get_backend, limit_blas_threads, print_backend, set_backend
from .model import MLP
from .training import train

__all__ = [
    "activations",
    "backend",
    "data",
    "gradcheck",
    "init",
    "layers",
    "losses",
    "optim",
    "preprocess",
    "search",
    "MLP",
    "train",
    "describe",
    "get_backend",
    "print_backend",
    "set_backend",
]
__version__ = "0.1.0"

limit_blas_threads()
