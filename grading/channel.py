"""Kênh dữ liệu thuần giữa bộ chấm và hộp cát: khung có độ dài, JSON, giới hạn kích thước.

Kênh chỉ chở DỮ LIỆU: None, bool, số, chuỗi, list/tuple/dict, mảng numpy có kiểu số (bool, số
nguyên, số thực, số phức) và hai loại tham chiếu là số nguyên (`handle`: một đối tượng nằm lại
trong hộp cát; `callback`: một hàm nằm lại ở bộ chấm). Không có pickle: phía nhận dựng lại từng giá
trị từ các kiểu cơ bản, nên một lớp con của `ndarray`, một đối tượng "lười" hay một hàm không thể
sang được bờ bên kia; nó đến nơi dưới dạng dữ liệu thuần hoặc không đến.

Tệp này chỉ dùng thư viện chuẩn và numpy vì nó cũng được chép vào hộp cát (`inside.py` dùng nó).
"""

from __future__ import annotations

import base64
import json
import math
import struct

import numpy as np

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # một khung (một câu trả lời) tối đa
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000  # tổng số phần tử list/tuple/dict trong một thông điệp
MAX_STRING = 4 * 1024 * 1024
MAX_INT_DIGITS = 400
DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 "
    "complex64 complex128".split()
)
BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
_HEADER = struct.Struct(">Q")
HEADER_SIZE = _HEADER.size


class ChannelError(Exception):
    """Thông điệp sai dạng, quá lớn, hoặc kênh đã đóng."""


# ---------------------------------------------------------------------------
# khung: 8 byte độ dài rồi JSON UTF-8
# ---------------------------------------------------------------------------


def frame(message: dict) -> bytes:
    """Một khung: 8 byte độ dài rồi JSON UTF-8."""
    data = json.dumps(message, ensure_ascii=False, allow_nan=False).encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES:
        raise ChannelError(f"thông điệp quá lớn ({len(data)} byte)")
    return _HEADER.pack(len(data)) + data


def frame_length(header: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> int:
    """Độ dài phần JSON của khung, đọc từ 8 byte đầu."""
    (n,) = _HEADER.unpack(header)
    if n > max_bytes:
        raise ChannelError(f"thông điệp quá lớn ({n} byte, tối đa {max_bytes})")
    return n


def parse_frame(body: bytes) -> dict:
    """Phần JSON của một khung → object (không tin bên gửi)."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (
        UnicodeDecodeError,
        ValueError,
        RecursionError,
    ) as exc:  # RecursionError: JSON lồng rất sâu
        raise ChannelError(f"thông điệp không phải JSON hợp lệ ({type(exc).__name__})") from exc
    if not isinstance(message, dict):
        raise ChannelError("thông điệp phải là một object JSON")
    return message


def write_frame(stream, message: dict) -> None:
    stream.write(frame(message))
    stream.flush()


def _read_exact(stream, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise ChannelError("kênh đã đóng")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(stream, max_bytes: int = MAX_MESSAGE_BYTES) -> dict:
    n = frame_length(_read_exact(stream, HEADER_SIZE), max_bytes)
    return parse_frame(_read_exact(stream, n))


# ---------------------------------------------------------------------------
# mã hoá giá trị (bên gửi)
# ---------------------------------------------------------------------------


class Handle:
    """Tham chiếu tới một đối tượng không gửi được dưới dạng dữ liệu (nằm lại bên gửi)."""

    __slots__ = ("id", "kind", "callable", "type_name")

    def __init__(self, id_: int, kind: str, callable_: bool, type_name: str):
        self.id, self.kind, self.callable, self.type_name = id_, kind, callable_, type_name


def _float(x: float):
    if math.isfinite(x):
        return x
    return {"__f__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def encode(value, reference=None, _depth: int = 0):
    """Giá trị Python → cấu trúc JSON. `reference(obj) -> Handle | None` quyết định các đối tượng
    không phải dữ liệu (None: không gửi được → lỗi)."""
    if _depth > MAX_DEPTH:
        raise ChannelError("cấu trúc lồng quá sâu")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"__int__": str(value)} if abs(value) >= 2**53 else value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, complex):
        return {"__c__": [_float(value.real), _float(value.imag)]}
    if isinstance(value, np.ndarray) and value.dtype.name in DTYPES:
        if value.nbytes * 4 // 3 > MAX_MESSAGE_BYTES:  # báo ngay, không mã hoá hàng trăm MB
            raise ChannelError(f"mảng quá lớn để gửi ({value.nbytes // 2**20} MiB)")
        arr = np.array(value, copy=True, order="C", subok=False)  # giữ shape (), kể cả 0 chiều
        return {
            "__nd__": arr.dtype.name,
            "shape": list(value.shape),
            "b64": base64.b64encode(arr.tobytes()).decode("ascii"),
        }
    if isinstance(value, np.generic) and value.dtype.name in DTYPES:
        return {"__np__": encode(np.asarray(value), reference, _depth + 1)}
    if isinstance(value, np.random.Generator) and type(value) is np.random.Generator:
        bg = value.bit_generator
        if type(bg).__name__ in BIT_GENERATORS:
            return {"__rng__": type(bg).__name__, "state": encode(bg.state, None, _depth + 1)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, reference, _depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, reference, _depth + 1) for v in value]
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        return {
            "__dict__": [
                [encode(k, reference, _depth + 1), encode(v, reference, _depth + 1)]
                for k, v in value.items()
            ]
        }
    ref = reference(value) if reference is not None else None
    if ref is None:
        raise ChannelError(f"không gửi được giá trị kiểu {type(value).__name__}")
    return {
        "__ref__": ref.kind,
        "id": ref.id,
        "callable": bool(ref.callable),
        "type": str(ref.type_name)[:100],
    }


# ---------------------------------------------------------------------------
# giải mã giá trị (bên nhận, không tin bên gửi)
# ---------------------------------------------------------------------------


class _Budget:
    def __init__(self):
        self.items = 0

    def take(self, n: int) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise ChannelError("thông điệp có quá nhiều phần tử")


def _dec_float(x):
    if isinstance(x, bool):
        raise ChannelError("số thực sai dạng")
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, dict) and set(x) == {"__f__"} and x["__f__"] in ("nan", "inf", "-inf"):
        return float(x["__f__"])
    raise ChannelError("số thực sai dạng")


def _dec_array(obj) -> np.ndarray:
    dtype, shape, b64 = obj.get("__nd__"), obj.get("shape"), obj.get("b64")
    if dtype not in DTYPES or not isinstance(b64, str) or not isinstance(shape, list):
        raise ChannelError("mảng sai dạng")
    if len(shape) > 32 or not all(isinstance(s, int) and not isinstance(s, bool) for s in shape):
        raise ChannelError("shape của mảng sai dạng")
    if any(s < 0 for s in shape):
        raise ChannelError("shape của mảng có chiều âm")
    size = 1
    for s in shape:
        size *= s
    dt = np.dtype(dtype)
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ChannelError("dữ liệu mảng không phải base64") from exc
    if len(raw) != size * dt.itemsize:
        raise ChannelError("kích thước dữ liệu mảng không khớp shape")
    # bản sao riêng, ghi được, đúng kiểu ndarray gốc
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def decode(obj, resolve=None, _depth: int = 0, _budget: _Budget | None = None):
    """Cấu trúc JSON → giá trị Python chỉ gồm kiểu cơ bản và `np.ndarray`.

    `resolve(kind, id, callable, type_name)` dựng lại một tham chiếu (None: tham chiếu bị cấm).
    """
    budget = _budget or _Budget()
    if _depth > MAX_DEPTH:
        raise ChannelError("cấu trúc lồng quá sâu")
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        if len(obj) > MAX_STRING:
            raise ChannelError("chuỗi quá dài")
        return str(obj)
    if isinstance(obj, list):
        budget.take(len(obj))
        return [decode(v, resolve, _depth + 1, budget) for v in obj]
    if not isinstance(obj, dict) or len(obj) == 0:
        raise ChannelError("giá trị sai dạng")
    keys = set(obj)
    if keys == {"__int__"}:
        s = obj["__int__"]
        if not isinstance(s, str) or len(s) > MAX_INT_DIGITS:
            raise ChannelError("số nguyên sai dạng")
        try:
            return int(s)
        except ValueError as exc:
            raise ChannelError("số nguyên sai dạng") from exc
    if keys == {"__f__"}:
        return _dec_float(obj)
    if keys == {"__c__"}:
        pair = obj["__c__"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ChannelError("số phức sai dạng")
        return complex(_dec_float(pair[0]), _dec_float(pair[1]))
    if keys == {"__nd__", "shape", "b64"}:
        return _dec_array(obj)
    if keys == {"__np__"}:
        inner = obj["__np__"]
        if not isinstance(inner, dict):
            raise ChannelError("số numpy sai dạng")
        arr = _dec_array(inner)
        if arr.shape != ():
            raise ChannelError("số numpy phải có shape ()")
        return arr[()]
    if keys == {"__tuple__"}:
        items = obj["__tuple__"]
        if not isinstance(items, list):
            raise ChannelError("tuple sai dạng")
        budget.take(len(items))
        return tuple(decode(v, resolve, _depth + 1, budget) for v in items)
    if keys == {"__dict__"}:
        pairs = obj["__dict__"]
        if not isinstance(pairs, list):
            raise ChannelError("dict sai dạng")
        budget.take(len(pairs))
        out = {}
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ChannelError("dict sai dạng")
            k = decode(pair[0], None, _depth + 1, budget)
            if not isinstance(k, (str, int)):
                raise ChannelError("khoá của dict phải là chuỗi hoặc số nguyên")
            out[k] = decode(pair[1], resolve, _depth + 1, budget)
        return out
    if keys == {"__rng__", "state"}:
        name = obj["__rng__"]
        if name not in BIT_GENERATORS:
            raise ChannelError("bộ sinh số ngẫu nhiên không được hỗ trợ")
        state = decode(obj["state"], None, _depth + 1, budget)
        try:
            bg = getattr(np.random, name)()
            bg.state = state
        except (TypeError, ValueError, KeyError) as exc:
            raise ChannelError("trạng thái bộ sinh số ngẫu nhiên sai dạng") from exc
        return np.random.Generator(bg)
    if keys == {"__ref__", "id", "callable", "type"}:
        kind, id_ = obj["__ref__"], obj["id"]
        if kind not in ("handle", "callback") or not isinstance(id_, int) or isinstance(id_, bool):
            raise ChannelError("tham chiếu sai dạng")
        value = (
            resolve(kind, id_, bool(obj["callable"]), str(obj["type"])[:100]) if resolve else None
        )
        if value is None:
            raise ChannelError("tham chiếu không được phép ở đây")
        return value
    raise ChannelError("giá trị sai dạng")


# ---------------------------------------------------------------------------
# thay đổi tại chỗ: một hàm ở bờ bên kia sửa đối số (mảng, list, dict, Generator)
# ---------------------------------------------------------------------------

MUTABLE = (np.ndarray, np.random.Generator, list, dict)


def apply_change(orig, new) -> None:
    """Chép trạng thái mới `new` (đã giải mã) vào đối tượng gốc `orig` nếu cùng loại."""
    if isinstance(orig, np.ndarray) and isinstance(new, np.ndarray):
        if orig.shape == new.shape and orig.flags.writeable:
            try:
                np.copyto(orig, new, casting="unsafe")
            except (TypeError, ValueError):
                pass
    elif isinstance(orig, np.random.Generator) and isinstance(new, np.random.Generator):
        if type(orig.bit_generator) is type(new.bit_generator):
            orig.bit_generator.state = new.bit_generator.state
    elif isinstance(orig, list) and isinstance(new, list):
        orig[:] = new
    elif isinstance(orig, dict) and isinstance(new, dict):
        orig.clear()
        orig.update(new)


def _slots(args, kwargs) -> dict:
    return {str(i): a for i, a in enumerate(args)} | {str(k): v for k, v in kwargs.items()}


def changed_state(args, kwargs, encode) -> dict:
    """Trạng thái mới (đã mã hoá bằng `encode`) của các đối số có thể bị sửa tại chỗ."""
    out = {}
    for key, v in _slots(args, kwargs).items():
        if isinstance(v, MUTABLE):
            try:
                out[key] = encode(v)
            except ChannelError:
                pass
    return out


def apply_changes(args, kwargs, changed, decode) -> None:
    """Áp `changed` (từ `changed_state` của bờ bên kia) vào các đối số gốc; mục hỏng bị bỏ qua."""
    if not isinstance(changed, dict):
        return
    slots = _slots(args, kwargs)
    for key, enc in changed.items():
        if key in slots:
            try:
                apply_change(slots[key], decode(enc))
            except ChannelError:
                continue
