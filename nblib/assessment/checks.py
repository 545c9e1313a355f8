"""Kiểm tra bài làm của học viên với phản hồi tiếng Việt.

Dùng trong các ô kiểm thử của bài tập (nbgrader). Mỗi hàm kiểm tra in một dòng "✓ …" khi đúng,
còn khi sai thì ném `CheckFailed` (một `AssertionError`) liệt kê MỌI vấn đề tìm thấy (mọi khoá,
mọi phần tử của tuple sai), mỗi vấn đề nói rõ: mong đợi gì, nhận được gì, khác ở đâu (kích thước,
kiểu dữ liệu hay giá trị), kèm gợi ý cho lỗi thường gặp (chuyển vị, quên keepdims, sai dấu, sai một
hệ số m). Jupyter hiển thị thông điệp một lần, không kèm traceback của thư viện. Thông điệp không
bao giờ chứa mã lời giải.

Các hàm chính:

- `check(name, got, expected, rtol=1e-5, atol=1e-8)`: so sánh số, mảng, tuple/list, dict.
- `check_true(name, condition, message)`: khẳng định một điều kiện, kèm lời giải thích.
- `check_no_reference(name, fn, *args, **kwargs)`: gọi `fn` khi mọi hàm tham chiếu của nblib bị
  khoá, và kiểm tra `fn` không tham chiếu tới nblib; trả về kết quả của `fn`.
- `no_reference()`: context manager khoá các hàm tham chiếu của nblib.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import types

import numpy as np

from .. import backend
from ..numfmt import comma

__all__ = [
    "check",
    "check_true",
    "check_no_reference",
    "check_no_loops",
    "loop_in",
    "no_reference",
    "reference_names",
    "ReferenceUsedError",
]

_MAX_SHOW = 6  # số phần tử tối đa in ra khi mô tả một mảng


OK, FAIL = "✓", "✗"  # ký hiệu có trong các phông chữ thông dụng (không phải emoji)


class CheckFailed(AssertionError):
    """Một phép kiểm tra chưa đạt: mang MỌI vấn đề tìm thấy, hiển thị một lần, không traceback.

    IPython gọi `_render_traceback_` thay cho traceback thường, nên học viên chỉ thấy thông điệp
    tiếng Việt (không có khung của `nblib/assessment/checks.py`).
    """

    def __init__(self, problems: list[tuple[str, list[str]]]):
        self.problems = list(problems)
        super().__init__(self.message())

    def message(self) -> str:
        parts = [f"{FAIL} {name}: " + "\n   ".join(lines) for name, lines in self.problems]
        if len(parts) > 1:
            parts.insert(0, f"{len(parts)} vấn đề:")
        return "\n".join(parts)

    def _render_traceback_(self):
        return self.message().split("\n")


class ReferenceUsedError(CheckFailed):
    """Bài làm đã gọi hàm tham chiếu của nblib thay vì tự cài đặt."""

    def __init__(self, text: str):
        super().__init__([("hàm tham chiếu", [text])])


def _fmt_num(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return repr(x)
    if np.isnan(xf):
        return "NaN"
    if np.isinf(xf):
        return "+∞" if xf > 0 else "−∞"
    return f"{comma(xf):.6g}"


def _fmt_array(a: np.ndarray) -> str:
    flat = a.ravel()
    items = "; ".join(_fmt_num(v) for v in flat[:_MAX_SHOW])  # "; ": số đã có dấu phẩy thập phân
    more = f"; … ({flat.size} phần tử)" if flat.size > _MAX_SHOW else ""
    return f"[{items}{more}]"


def _type_name(x) -> str:
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return f"mảng numpy shape {x.shape}, dtype {x.dtype}"
    return type(x).__name__


def _is_number(x) -> bool:
    return isinstance(x, (int, float, complex, np.number, np.bool_, bool)) and not isinstance(
        x, str
    )


def _kind(dtype: np.dtype) -> str:
    if dtype.kind == "b":
        return "bool"
    if dtype.kind in "iu":
        return "số nguyên"
    if dtype.kind == "f":
        return "số thực"
    if dtype.kind == "c":
        return "số phức"
    return str(dtype)


def _fail(name: str, lines: list[str]):
    raise CheckFailed([(name, lines)]) from None


def _scale_hint(g: np.ndarray, e: np.ndarray) -> str | None:
    """Gợi ý khi kết quả đúng tới một hệ số: gấp m lần, nhỏ hơn m lần (quên/thừa chia cho m)."""
    mask = np.abs(e) > 1e-12
    if g.dtype.kind == "c" or not np.any(mask):
        return None
    with backend.ignore_float_errors():
        r = g[mask] / e[mask]
    if not np.all(np.isfinite(r)) or np.ptp(r) > 1e-6 * max(1.0, float(np.max(np.abs(r)))):
        return None
    k = float(r.ravel()[0])
    for value, text in ((k, "lớn gấp {n} lần"), (1.0 / k if k else 0.0, "nhỏ hơn {n} lần")):
        n = round(value)
        if n >= 2 and abs(value - n) < 1e-6 * n:
            return (
                f"Gợi ý: kết quả {text.format(n=n)} so với mong đợi (đúng tới một hệ số): "
                "thiếu hoặc thừa phép chia cho m (số mẫu), hay cho kích thước một chiều?"
            )
    return None


def _compare_arrays(name, got, expected, rtol, atol):
    exp = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        if _is_number(got) or isinstance(got, (list, tuple)):
            try:
                got = np.asarray(got)
            except Exception:  # noqa: BLE001
                pass
    if not isinstance(got, np.ndarray) or got.dtype == object:
        hint = ""
        if got is None:
            hint = " Hàm trả về None: có thể bạn quên lệnh `return`."
        _fail(
            name,
            [
                f"mong đợi một mảng numpy shape {exp.shape}, nhận được {_type_name(got)}.{hint}",
            ],
        )
    if got.shape != exp.shape:
        lines = [
            "sai kích thước (shape).",
            f"Mong đợi: shape {exp.shape}",
            f"Nhận được: shape {got.shape}",
        ]
        if got.ndim == 2 and exp.ndim == 2 and got.shape == exp.shape[::-1]:
            lines.append(
                "Gợi ý: kết quả có vẻ bị chuyển vị; nhớ quy ước mỗi mẫu là một CỘT, "
                "W[l] có shape (n[l], n[l-1])."
            )
        elif got.size == exp.size and tuple(d for d in got.shape if d != 1) == tuple(
            d for d in exp.shape if d != 1
        ):
            lines.append(
                "Gợi ý: chỉ khác một chiều kích thước 1: có thể bạn quên keepdims=True khi tính"
                " tổng/trung bình theo một trục (hoặc cần reshape)."
            )
        elif got.size == exp.size:
            lines.append(
                "Gợi ý: cùng số phần tử nhưng khác shape; kiểm tra reshape hoặc keepdims=True."
            )
        elif got.ndim != exp.ndim:
            lines.append(
                f"Gợi ý: số chiều khác nhau ({got.ndim} so với {exp.ndim}); "
                "kiểm tra keepdims=True hoặc phép cộng broadcast ngoài ý muốn."
            )
        _fail(name, lines)
    kg, ke = _kind(got.dtype), _kind(exp.dtype)
    numeric = set("biufc")
    if got.dtype.kind not in numeric:
        _fail(name, [f"mong đợi mảng số ({ke}), nhận được dtype {got.dtype}."])
    if ke == "số thực" and kg in ("số nguyên", "bool"):
        hint = (
            "Gợi ý: phép so sánh (ví dụ z > 0) cho mảng bool; đổi sang số thực bằng .astype(float)."
            if kg == "bool"
            else "Gợi ý: phép chia nguyên // hoặc mảng khởi tạo bằng số nguyên làm mất phần thập phân."
        )
        _fail(
            name,
            [
                "sai kiểu dữ liệu (dtype).",
                f"Mong đợi: {ke} (ví dụ float64), nhận được: {kg} ({got.dtype}).",
                hint,
            ],
        )
    if ke in ("số nguyên", "bool") and kg == "số thực":
        _fail(
            name,
            [
                "sai kiểu dữ liệu (dtype).",
                f"Mong đợi: {ke} ({exp.dtype}), nhận được: {kg} ({got.dtype}).",
                "Gợi ý: dùng .astype(int) hoặc np.argmax cho nhãn.",
            ],
        )
    g = got.astype(np.complex128 if "c" in (got.dtype.kind, exp.dtype.kind) else np.float64)
    e = exp.astype(g.dtype)
    exp_nan = np.isnan(e)
    got_nan = np.isnan(g)
    if np.any(got_nan & ~exp_nan):
        idx = tuple(int(i) for i in np.argwhere(got_nan & ~exp_nan)[0])
        n_bad = int(np.sum(got_nan & ~exp_nan))
        _fail(
            name,
            [
                f"kết quả chứa NaN ở {n_bad} vị trí, đầu tiên tại chỉ số {idx}"
                f" (mong đợi {_fmt_num(e[idx])}).",
                "Gợi ý: tính exp/log của số quá lớn hoặc chia cho 0? Hãy dùng công thức ổn định số.",
            ],
        )
    with backend.ignore_float_errors():
        close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        bad = ~close
        n_bad = int(np.sum(bad))
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if g.ndim else ()
        with backend.ignore_float_errors():
            diff = np.abs(g - e)
            diff = np.where(np.isnan(diff), np.inf, diff)
        where = f"tại chỉ số {idx}" if idx else ""
        lines = [
            f"sai giá trị ở {n_bad}/{g.size} phần tử.",
            f"Phần tử sai đầu tiên {where}: mong đợi {_fmt_num(e[idx])}, nhận được {_fmt_num(g[idx])}.",
            f"Sai lệch tuyệt đối lớn nhất: {_fmt_num(np.max(diff))} "
            f"(dung sai: rtol = {comma(rtol):g}, atol = {comma(atol):g}).",
        ]
        if g.size > 1:
            lines.append(f"Mong đợi:  {_fmt_array(e)}")
            lines.append(f"Nhận được: {_fmt_array(g)}")
        with backend.ignore_float_errors():
            if np.allclose(g, -e, rtol=rtol, atol=atol):
                lines.append("Gợi ý: kết quả ngược dấu so với mong đợi (sai dấu ở đâu đó?).")
            elif g.ndim == 2 and g.shape[0] == g.shape[1] and np.allclose(g.T, e, rtol, atol):
                lines.append("Gợi ý: kết quả là chuyển vị của kết quả mong đợi.")
            else:
                hint = _scale_hint(g, e)
                if hint:
                    lines.append(hint)
        _fail(name, lines)


def _check(name, got, expected, rtol, atol):
    got = backend.to_numpy_if_tensor(got)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            _fail(name, [f"mong đợi một dict, nhận được {_type_name(got)}."])
        problems = []
        missing = [k for k in expected if k not in got]
        if missing:
            problems.append(
                (
                    name,
                    [
                        f"thiếu khoá {', '.join(repr(k) for k in missing)}.",
                        f"Mong đợi các khoá: {', '.join(repr(k) for k in expected)}",
                        f"Nhận được các khoá: {', '.join(repr(k) for k in got)}",
                    ],
                )
            )
        for k in expected:
            if k in got:
                try:
                    _check(f"{name}[{k!r}]", got[k], expected[k], rtol, atol)
                except CheckFailed as exc:
                    problems.extend(exc.problems)
        if problems:
            raise CheckFailed(problems)
        return
    if isinstance(expected, (tuple, list)) and not (
        len(expected) > 0 and all(_is_number(v) for v in expected)
    ):
        if not isinstance(got, (tuple, list)):
            _fail(
                name,
                [
                    f"mong đợi {type(expected).__name__} gồm {len(expected)} phần tử, "
                    f"nhận được {_type_name(got)}."
                ],
            )
        if len(got) != len(expected):
            _fail(
                name,
                [f"mong đợi {len(expected)} giá trị trả về, nhận được {len(got)}."],
            )
        problems = []
        for i, (g, e) in enumerate(zip(got, expected)):
            try:
                _check(f"{name}[{i}]", g, e, rtol, atol)
            except CheckFailed as exc:
                problems.extend(exc.problems)
        if problems:
            raise CheckFailed(problems)
        return
    if isinstance(expected, str) or expected is None:
        if got != expected:
            _fail(name, [f"mong đợi {expected!r}, nhận được {got!r}."])
        return
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)) or bool(got) != bool(expected):
            _fail(name, [f"mong đợi {bool(expected)}, nhận được {got!r}."])
        return
    if _is_number(expected) and not isinstance(expected, np.ndarray):
        if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 2:
            got_val = got.reshape(())
        else:
            got_val = got
        if not _is_number(got_val) and not (isinstance(got_val, np.ndarray) and got_val.ndim == 0):
            _fail(
                name,
                [
                    f"mong đợi một số (vô hướng) {_fmt_num(expected)}, nhận được {_type_name(got)}.",
                ],
            )
        _compare_arrays(name, np.asarray(got_val), np.asarray(expected), rtol, atol)
        return
    _compare_arrays(name, got, expected, rtol, atol)


def check(name, got, expected, rtol=1e-5, atol=1e-8):
    """So sánh `got` (kết quả của học viên) với `expected`.

    Hỗ trợ số, mảng numpy/tensor torch, tuple/list (so từng phần tử), dict (so theo khoá).
    Đúng: in "✓ name: đúng" và trả về True. Sai: ném `CheckFailed` với thông điệp tiếng Việt.
    """
    _check(name, got, expected, rtol, atol)
    print(f"{OK} {name}: đúng")
    return True


def check_true(name, condition, message=""):
    """Khẳng định `condition`; nếu sai, ném AssertionError kèm `message` (tiếng Việt)."""
    if not bool(condition):
        _fail(name, [message or "điều kiện không thoả mãn."])
    print(f"{OK} {name}: đúng")
    return True


# ---------------------------------------------------------------------------
# Phát hiện bài làm gọi hàm tham chiếu của nblib
# ---------------------------------------------------------------------------

# Module nblib mà bài làm được dùng (công cụ, dữ liệu), cùng luật với bộ chấm (grading/rules.py).
ALLOWED_MODULES = (
    "nblib.assessment",
    "nblib.assessment.checks",
    "nblib.backend",
    "nblib.data",
    "nblib.numfmt",
)
_ALLOWED_MODULES = ALLOWED_MODULES


def _is_reference_object(obj) -> str | None:
    """Trả về tên đầy đủ nếu `obj` là module/hàm/lớp tham chiếu của nblib (trừ checks, backend, data)."""
    if isinstance(obj, types.ModuleType):
        name = obj.__name__
        if (name == "nblib" or name.startswith("nblib.")) and name not in _ALLOWED_MODULES:
            return name
        return None
    mod = getattr(obj, "__module__", None)
    if isinstance(mod, str) and mod.startswith("nblib.") and mod not in _ALLOWED_MODULES:
        if callable(obj):
            return f"{mod}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"
    return None


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def reference_names(fn, _seen=None) -> list[str]:
    """Danh sách hàm/module tham chiếu của nblib mà `fn` dùng tới (qua biến toàn cục hoặc closure).

    Đi theo cả các hàm phụ do học viên tự viết (cùng notebook) mà `fn` gọi tới.
    """
    seen = set() if _seen is None else _seen
    fn = inspect.unwrap(fn)
    if isinstance(fn, functools.partial):
        fn = fn.func
    own = _is_reference_object(fn)
    if own:
        # chính hàm được nộp là hàm của nblib (ví dụ `from nblib.activations import relu`)
        return [f"{getattr(fn, '__name__', '?')} ({own})"]
    code = getattr(fn, "__code__", None)
    if code is None or id(fn) in seen:
        return []
    seen.add(id(fn))
    found = []
    values = []
    glb = getattr(fn, "__globals__", {})
    for nm in sorted(_code_names(code)):
        if nm in glb:
            values.append((nm, glb[nm]))
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            values.append(("", cell.cell_contents))
        except ValueError:
            continue
    for nm, val in values:
        ref = _is_reference_object(val)
        if ref:
            found.append(f"{nm} ({ref})" if nm else ref)
        elif isinstance(val, types.FunctionType) and val.__module__ == getattr(
            fn, "__module__", None
        ):
            found.extend(reference_names(val, seen))
    return found


def _raiser(fullname):
    def _blocked(*args, **kwargs):
        raise ReferenceUsedError(
            f"bài làm đã gọi hàm tham chiếu {fullname} của nblib. "
            "Bài tập yêu cầu tự cài đặt bằng numpy."
        )

    _blocked.__name__ = fullname.rsplit(".", 1)[-1]
    return _blocked


def _block(value, fullname):
    if callable(value):
        return _raiser(fullname)
    if isinstance(value, (tuple, list)):
        return type(value)(_block(v, f"{fullname}[{i}]") for i, v in enumerate(value))
    return value


@contextlib.contextmanager
def no_reference():
    """Trong khối `with`, mọi hàm/lớp công khai của các module nblib (trừ checks, backend, data) đã
    nạp đều bị thay bằng hàm ném ReferenceUsedError. Khôi phục nguyên trạng khi ra khỏi khối."""
    saved = []
    try:
        for modname, mod in list(sys.modules.items()):
            if mod is None or not (modname == "nblib" or modname.startswith("nblib.")):
                continue
            if modname in _ALLOWED_MODULES:
                continue
            for attr, val in list(vars(mod).items()):
                if attr.startswith("_"):
                    continue
                if isinstance(val, types.ModuleType):
                    continue
                if callable(val) and str(getattr(val, "__module__", "")).startswith("nblib."):
                    if getattr(val, "__module__", "") in _ALLOWED_MODULES:
                        continue
                    saved.append((mod, attr, val))
                    setattr(mod, attr, _raiser(f"{modname}.{attr}"))
                elif isinstance(val, dict) and attr.isupper():
                    # ví dụ ACTIVATIONS, OPTIMIZERS: bảng tra hàm (giá trị là hàm hoặc tuple hàm)
                    saved.append((mod, attr, val))
                    setattr(
                        mod,
                        attr,
                        {k: _block(v, f"{modname}.{attr}[{k!r}]") for k, v in val.items()},
                    )
        yield
    finally:
        for mod, attr, val in reversed(saved):
            setattr(mod, attr, val)


def check_no_reference(name, fn, *args, **kwargs):
    """Kiểm tra `fn` tự cài đặt (không dùng nblib) rồi trả về `fn(*args, **kwargs)`.

    Hai lớp kiểm tra: (1) mã của `fn` không nhắc tới module/hàm tham chiếu của nblib (kể cả
    bí danh như `from nblib.activations import relu as r`); (2) khi gọi `fn`, mọi hàm của nblib
    bị khoá nên lời gọi gián tiếp cũng bị phát hiện.
    """
    hook = getattr(type(fn), "__check_no_reference__", None)
    if hook is not None:  # hàm nằm trong hộp cát chấm điểm: bộ chấm kiểm tra trên mã nguồn
        return hook(fn, name, *args, **kwargs)
    refs = reference_names(fn)
    if refs:
        _fail(
            name,
            [
                "bài làm dùng hàm tham chiếu của nblib: " + ", ".join(refs) + ".",
                "Bài tập yêu cầu tự cài đặt bằng numpy (không gọi nblib).",
            ],
        )
    try:
        with no_reference():
            result = fn(*args, **kwargs)
    except ReferenceUsedError as exc:
        _fail(name, [p for _n, lines in exc.problems for p in lines])
    print(f"{OK} {name}: tự cài đặt, không gọi nblib")
    return result


# ---------------------------------------------------------------------------
# Không dùng vòng lặp (bài yêu cầu vector hoá)
# ---------------------------------------------------------------------------

_LOOP_CALLS = {"vectorize", "frompyfunc", "apply_along_axis", "map"}


def loop_in(node) -> tuple[str, int] | None:
    """(mô tả, số dòng) của vòng lặp đầu tiên trong cây cú pháp `node`, hoặc None."""
    import ast

    for sub in ast.walk(node):
        what = None
        if isinstance(sub, (ast.For, ast.AsyncFor)):
            what = "vòng lặp for"
        elif isinstance(sub, ast.While):
            what = "vòng lặp while"
        elif isinstance(sub, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            what = "comprehension (vòng lặp ẩn)"
        elif isinstance(sub, ast.Call):
            f = sub.func
            called = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if called in _LOOP_CALLS:
                what = f"`{called}` (vòng lặp ẩn)"
        if what:
            return what, getattr(sub, "lineno", 0)
    return None


def check_no_loops(name, fn):
    """Khẳng định `fn` không dùng vòng lặp `for`/`while`, comprehension hay `np.vectorize`.

    Trong notebook của học viên, mã nguồn lấy từ `inspect.getsource`; khi chấm, bộ chấm kiểm tra
    trên mã nguồn của bài nộp (cùng luật).
    """
    import ast
    import textwrap

    hook = getattr(type(fn), "__check_no_loops__", None)
    if hook is not None:
        return hook(fn, name)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        _fail(name, ["không đọc được mã nguồn của hàm để kiểm tra vòng lặp."])
    found = loop_in(tree)
    if found:
        what, line = found
        _fail(
            name,
            [
                f"hàm dùng {what} (dòng {line} của hàm).",
                "Bài tập yêu cầu viết bằng phép toán trên cả mảng numpy (vector hoá), không lặp.",
            ],
        )
    print(f"{OK} {name}: không dùng vòng lặp")
    return True
