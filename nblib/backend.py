"""Chọn backend tính toán: numpy trên CPU, hoặc torch (CPU/GPU).

Mọi hàm của nblib nhận mảng numpy hoặc tensor torch (trên bất kỳ thiết bị nào) và trả về cùng loại,
nhờ chuẩn Array API (thư viện ``array-api-compat``): mỗi công thức chỉ được viết một lần.

Backend chỉ quyết định *nơi dữ liệu và tham số mới được tạo ra* (``asarray``, khởi tạo trọng số,
mô hình ``MLP``):

- ``"auto"`` (mặc định): torch trên GPU khi ``torch.cuda.is_available()``, ngược lại numpy trên CPU
  (với mạng cỡ bài giảng, numpy trên CPU nhanh hơn torch trên CPU);
- ``"numpy"``, ``"torch"`` (torch trên CPU), ``"cuda"`` (torch trên GPU);
- chọn bằng biến môi trường ``NBLIB_BACKEND`` hoặc hàm ``set_backend``.

Số ngẫu nhiên luôn được sinh bằng ``numpy.random.Generator`` có hạt giống (seed) rồi mới chuyển sang
backend, nên cùng một seed cho cùng kết quả trên mọi backend.
"""

from __future__ import annotations

import contextlib
import os

import array_api_compat.numpy as _np_xp
import numpy as np
from array_api_compat import array_namespace as _compat_namespace
from array_api_compat import device, is_array_api_obj, is_torch_array

_VALID = ("auto", "numpy", "torch", "cuda")


def limit_blas_threads(n=None):
    """Giới hạn số luồng của BLAS (OpenBLAS/MKL) mà numpy dùng; mặc định 1 (biến ``NBLIB_BLAS_THREADS``).

    Với ma trận cỡ bài giảng, BLAS đa luồng chậm hơn hẳn (có lúc hàng trăm lần khi máy đang bận) vì
    chi phí đồng bộ giữa các luồng lớn hơn phép nhân. Gọi ``limit_blas_threads(0)`` để bỏ giới hạn.
    """
    n = int(os.environ.get("NBLIB_BLAS_THREADS", "1") if n is None else n)
    if n <= 0:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl đi kèm scikit-learn
        return None
    return threadpool_limits(limits=n, user_api="blas")


_state = {"name": None}


def _cuda_available() -> bool:
    # Không có thiết bị GPU nào (NVIDIA hay ROCm) thì khỏi nhập torch (mất vài giây) chỉ để hỏi CUDA.
    import glob

    if not glob.glob("/dev/nvidia*") and not os.path.exists("/dev/kfd") and os.name == "posix":
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - torch là phụ thuộc bắt buộc
        return False
    return bool(torch.cuda.is_available())


def _resolve(name: str) -> str:
    name = str(name).strip().lower()
    if name not in _VALID:
        raise ValueError(
            f"Backend không hợp lệ: {name!r}. Các giá trị hợp lệ: {', '.join(_VALID)}."
        )
    if name == "auto":
        return "cuda" if _cuda_available() else "numpy"
    if name == "cuda" and not _cuda_available():
        raise ValueError(
            "Backend 'cuda' được yêu cầu nhưng máy này không có GPU CUDA "
            "(torch.cuda.is_available() trả về False). Hãy dùng 'auto', 'numpy' hoặc 'torch'."
        )
    return name


def set_backend(name: str = "auto") -> str:
    """Đặt backend ("auto", "numpy", "torch", "cuda") và trả về tên backend thực sự được dùng."""
    _state["name"] = _resolve(name)
    if _state["name"] == "torch":  # torch trên CPU: cùng số luồng với BLAS của numpy (mặc định 1)
        import torch

        torch.set_num_threads(max(1, int(os.environ.get("NBLIB_BLAS_THREADS", "1"))))
    return _state["name"]


def get_backend() -> str:
    """Tên backend hiện tại: "numpy", "torch" hoặc "cuda"."""
    if _state["name"] is None:
        set_backend(os.environ.get("NBLIB_BACKEND", "auto"))
    return _state["name"]


def default_dtype():
    """Kiểu số thực mặc định: float64 trên CPU (chính xác cho kiểm tra gradient), float32 trên GPU."""
    name = get_backend()
    if name == "numpy":
        return np.float64
    import torch

    return torch.float32 if name == "cuda" else torch.float64


def describe() -> str:
    """Mô tả backend hiện tại trong một dòng."""
    name = get_backend()
    dtype = str(default_dtype()).replace("torch.", "").replace("<class 'numpy.", "").rstrip("'>")
    where = {"numpy": "numpy, CPU", "torch": "torch, CPU", "cuda": "torch, GPU CUDA"}[name]
    if name == "cuda":
        import torch

        where += f" ({torch.cuda.get_device_name(0)})"
    return f"Backend của nblib: {name} ({where}, {dtype})"


def print_backend() -> None:
    """In backend hiện tại (mỗi notebook gọi một lần ở đầu)."""
    print(describe())


def namespace(*arrays):
    """Không gian tên Array API (numpy hoặc torch) của các mảng đầu vào.

    Đường tắt cho mảng numpy (trường hợp thường gặp nhất): tránh chi phí dò tìm mỗi lần gọi.
    """
    if len(arrays) == 1 and type(arrays[0]) is np.ndarray:
        return _np_xp
    kinds = {type(a) for a in arrays}
    if kinds == {np.ndarray}:
        return _np_xp
    if len(kinds) == 1 and is_torch_array(arrays[0]):
        return _torch_xp()
    return _compat_namespace(*arrays)


def _torch_xp():
    if "torch" not in _state:
        import array_api_compat.torch as xp_torch

        _state["torch"] = xp_torch
    return _state["torch"]


def _target(like=None):
    """Nơi mảng mới được tạo: ``(thư viện, thiết bị, kiểu số thực)``, quyết định ở một chỗ duy nhất.

    Có ``like``: cùng thư viện và thiết bị với ``like``, kiểu số thực của ``like`` (nếu ``like`` là
    mảng số nguyên thì dùng kiểu số thực mặc định). Không có ``like``: theo backend hiện tại.
    """
    if like is None:
        name = get_backend()
        if name == "numpy":
            return "numpy", None, default_dtype()
        return "torch", ("cuda" if name == "cuda" else "cpu"), default_dtype()
    if type(like) is np.ndarray:  # đường tắt cho trường hợp thường gặp nhất
        return "numpy", None, like.dtype if like.dtype.kind == "f" else np.float64
    if is_torch_array(like):
        import torch

        return "torch", like.device, like.dtype if like.dtype.is_floating_point else torch.float64
    like = np.asarray(like)
    return "numpy", None, like.dtype if like.dtype.kind == "f" else np.float64


def _convert(x, library, dev, dtype):
    """Đường chuyển đổi duy nhất: ``x`` (mảng numpy, tensor torch, list, số) thành mảng của
    ``library`` ("numpy" hoặc "torch") trên thiết bị ``dev`` với kiểu ``dtype``."""
    if library == "numpy":
        return np.asarray(to_numpy(x)).astype(dtype, copy=False)
    import torch

    if is_torch_array(x):  # đã là tensor: chỉ chuyển thiết bị/kiểu khi cần, không đi qua CPU
        return x.to(device=dev, dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=dev)


def _int64(library):
    if library == "numpy":
        return np.int64
    import torch

    return torch.int64


def asarray(x, dtype=None, like=None):
    """Chuyển ``x`` thành mảng số thực của backend hiện tại (hoặc cùng loại, cùng thiết bị và cùng
    kiểu số thực với ``like``); ``dtype`` đặt kiểu khác."""
    library, dev, float_dtype = _target(like)
    return _convert(x, library, dev, dtype or float_dtype)


def asarray_labels(y, like=None):
    """Nhãn lớp nguyên int64 (m,) trên cùng backend/thiết bị với ``like`` (hoặc backend hiện tại).

    Mọi kiểu nhãn (int32, uint8, số thực…) đều thành int64: tensor uint8 dùng làm chỉ số sẽ bị torch
    hiểu là mặt nạ.
    """
    if type(y) is np.ndarray and type(like) is np.ndarray:  # đường tắt: nhãn numpy cho mảng numpy
        return y.astype(np.int64, copy=False)
    library, dev, _ = _target(like)
    return _convert(y, library, dev, _int64(library))


def asarray_indices(idx, like=None):
    """Mảng chỉ số nguyên int64 (ví dụ một hoán vị) trên cùng backend/thiết bị với ``like``, để lấy
    các cột ``X[:, idx]``."""
    library, dev, _ = _target(like)
    return _convert(idx, library, dev, _int64(library))


def is_array(x) -> bool:
    """``x`` có phải mảng numpy hoặc tensor torch (mảng theo chuẩn Array API) không."""
    return type(x) is np.ndarray or is_array_api_obj(x)


def to_numpy(x):
    """Chuyển mảng numpy/tensor torch (mọi thiết bị) về ``numpy.ndarray``."""
    if is_torch_array(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def to_numpy_if_tensor(x):
    """Tensor torch (mọi thiết bị) thành ``numpy.ndarray``; giá trị khác (số, mảng numpy, list, dict…)
    giữ nguyên."""
    return to_numpy(x) if is_torch_array(x) else x


def to_float(x) -> float:
    """Giá trị số thực Python của một mảng 0 chiều (numpy hoặc torch)."""
    if is_torch_array(x):
        return float(x.detach().cpu().item())
    return float(x)


@contextlib.contextmanager
def ignore_float_errors():
    """Không cảnh báo khi một phép tính số thực tràn số, chia cho 0 hay gặp NaN (chỉ numpy cảnh báo;
    torch không bao giờ). Dùng khi NaN/vô cực là dữ liệu cần xem xét, ví dụ so sánh một bài làm có
    NaN với đáp án."""
    with np.errstate(all="ignore"):
        yield


def rng(seed=0) -> np.random.Generator:
    """Bộ sinh số ngẫu nhiên numpy có hạt giống (dùng chung cho mọi backend)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def random_like(generator: np.random.Generator, x):
    """Mảng số ngẫu nhiên đều trên [0, 1) cùng hình dạng, loại và thiết bị với ``x``."""
    return asarray(generator.random(tuple(x.shape)), like=x)


__all__ = [
    "set_backend",
    "get_backend",
    "default_dtype",
    "describe",
    "print_backend",
    "namespace",
    "asarray",
    "asarray_labels",
    "asarray_indices",
    "is_array",
    "to_numpy",
    "to_numpy_if_tensor",
    "to_float",
    "ignore_float_errors",
    "rng",
    "random_like",
    "device",
]
