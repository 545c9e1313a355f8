"""Đo độ trễ của các bản demo trong bài giảng: từ lúc thanh trượt đổi giá trị tới khi hình có dữ liệu mới.

Với mỗi notebook ``lectures/NN_*.ipynb``: thực thi cả notebook trong một kernel thật (nbclient), rồi
chạy thêm một ô đo. Ô đo tìm mọi ``Demo`` trong các biến ``demo`` / ``demo_<tên>``, chọn thanh trượt
chính của nó (tốc độ học, hệ số khởi tạo, keep_prob, λ; nếu không có thì thanh trượt đầu tiên, hoặc
danh sách chọn đầu tiên) và đo hai cách làm trong cùng một lần chạy:

- **Demo (cách của khoá học)**: gán ``widget.value = v`` (đúng như khi trình duyệt gửi giá trị mới),
  ``Demo`` tính lại hoặc lấy kết quả từ bộ đệm, cập nhật các đối tượng vẽ tại chỗ, rồi vẽ khung hình
  PNG gửi cho trình duyệt (``demo._render_png()``: vẽ Agg với ảnh trục dán lại, xem
  ``nblib/presentation/fastdraw.py``, rồi mã hoá PNG). Chỉ phía kernel: độ trễ người dùng thấy được đo
  trong trình duyệt thật bằng ``bench/bench_demos_browser.py``. Kịch bản "giảng viên kéo qua lại": tiến ``k`` nấc, lùi ``k`` nấc về chỗ cũ, rồi tiến lại
  ``k`` nấc (3k lần đổi, các lần quay lại trúng bộ đệm).
- **Cách ngây thơ** (như ``interact``): mỗi lần đổi tạo một hình mới, chạy lại setup + compute (không
  bộ đệm nào, kể cả các ``functools.lru_cache`` của notebook) + draw, rồi xuất PNG như backend inline;
  đo trên ``k`` giá trị mới (không có bộ đệm nên mọi lần đổi đều tốn như nhau).

In một dòng cho mỗi demo::

    demo <nb>:<tên> median_ms=… worst_ms=… naive_median_ms=… speedup=… fresh_median_ms=… retrains=…

``median_ms``/``worst_ms``: trên cả kịch bản kéo qua lại; ``fresh_median_ms``: chỉ các giá trị mới (phải
tính lại); ``speedup`` = naive_median_ms / median_ms. Mục tiêu: median ≤ 150 ms với mọi demo, và
nhanh hơn cách ngây thơ ≥ 3 lần với demo có huấn luyện lại. Không phải kiểm thử: chỉ in số liệu.

Chạy: ``.venv/bin/python bench/bench_demos.py [lectures/06_khoi_tao_trong_so.ipynb ...] [--steps 6]``
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time
import warnings

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.pop("MPLBACKEND", None)

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARK = "__BENCH_DEMOS__"

# Ô chạy trước notebook: ghi lại các tham số dựng hình của mỗi Demo (setup, số hàng/cột…) để dựng
# lại "cách ngây thơ" với đúng các hàm của bài giảng.
PRE_CELL = r"""
import inspect as _bench_inspect
import nblib.presentation.widgets as _bench_w
if not getattr(_bench_w.Demo, "_bench_patched", False):
    _bench_orig_init = _bench_w.Demo.__init__
    _bench_sig = _bench_inspect.signature(_bench_orig_init)
    def _bench_init(self, *args, **kwargs):
        bound = _bench_sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        self._bench_args = {k: v for k, v in bound.arguments.items() if k != "self"}
        _bench_orig_init(self, *args, **kwargs)
    _bench_w.Demo.__init__ = _bench_init
    _bench_w.Demo._bench_patched = True
"""

MEASURE_CELL = r"""
import io as _io, json as _json, math as _math, re as _re, time as _time, inspect as _insp
import warnings as _warnings
import ipywidgets as _W
import matplotlib.pyplot as _plt
from nblib.presentation.widgets import Demo as _Demo

_MAIN = _re.compile(r"tốc độ học|\bα\b|hệ số|keep_prob|λ|lambda", _re.IGNORECASE)
_RETRAIN = _re.compile(
    r"\w*train\w*\(|huan_luyen\w*\(|loss_and_grads|\.backward\(|optim\.|OPTIMIZERS|\.step\("
)
_STEPS = __STEPS__
_FREEZE = __FREEZE__


def _pick_control(demo):
    sliders = [(n, w) for n, w in demo.controls.items()
               if isinstance(w, (_W.FloatSlider, _W.FloatLogSlider, _W.IntSlider))]
    for n, w in sliders:
        if _MAIN.search(w.description or ""):
            return n, w
    if sliders:
        return sliders[0]
    return next(iter(demo.controls.items()))


def _values(w, k):
    # k giá trị mới, từng nấc một, theo hướng còn chỗ (đổi hướng nếu chạm biên).
    if isinstance(w, _W.Dropdown):
        opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
        i = opts.index(w.value)
        return [opts[(i + j) % len(opts)] for j in range(1, len(opts))][:k]
    if isinstance(w, _W.FloatLogSlider):
        e = _math.log(w.value, w.base)
        lo, hi, st = w.min, w.max, w.step
        conv = lambda x: w.base ** x  # noqa: E731
    else:
        e, lo, hi, st = w.value, w.min, w.max, w.step
        conv = lambda x: x  # noqa: E731
    direction = 1 if e + k * st <= hi + 1e-9 else -1
    out = []
    for j in range(1, k + 1):
        x = e + direction * j * st
        if not (lo - 1e-9 <= x <= hi + 1e-9):
            break
        out.append(conv(round(x, 10)))
    if isinstance(w, _W.IntSlider):
        out = [int(v) for v in out]
    return out


def _retrains(demo):
    fns = [demo.compute]
    code = getattr(demo.compute, "__code__", None)
    glb = getattr(demo.compute, "__globals__", {})
    if code is not None:
        fns += [_insp.unwrap(glb[n]) for n in code.co_names if callable(glb.get(n))]
        fns = [f for f in fns if hasattr(f, "__code__")]
    src = ""
    for f in fns:
        try:
            src += _insp.getsource(f)
        except (OSError, TypeError):
            pass
    return bool(_RETRAIN.search(src))


def _inplace(demo, w, v):
    # Trả về (ms thực, ms CPU của kernel, có phải tính mới không: bộ đệm của demo lớn thêm).
    r0 = demo.redraws
    n0 = len(demo.cache) if demo.cache is not None else -1
    c0, t0 = _time.process_time(), _time.perf_counter()
    w.value = v                      # như khi trình duyệt gửi giá trị mới của thanh trượt
    demo._render_png()               # khung hình gửi cho trình duyệt (vẽ Agg + mã hoá PNG)
    dt, dc = (_time.perf_counter() - t0) * 1000, (_time.process_time() - c0) * 1000
    if demo.redraws != r0 + 1:
        raise RuntimeError("demo không vẽ lại sau khi đổi giá trị")
    fresh = demo.cache is None or len(demo.cache) > n0
    return dt, dc, fresh


class _NaiveDemo:
    pass


def _clear_notebook_caches():
    # interact tính lại mọi thứ: xoá các bộ đệm functools.lru_cache/cache của notebook trước mỗi lần.
    for obj in list(globals().values()):
        if callable(getattr(obj, "cache_clear", None)) and hasattr(obj, "cache_info"):
            obj.cache_clear()


def _naive(demo, values):
    a = demo._bench_args
    _clear_notebook_caches()
    c0, t0 = _time.process_time(), _time.perf_counter()
    fig = _plt.figure(figsize=tuple(a["figsize"]), layout="constrained")
    kw = dict(a.get("subplot_kw") or {})
    axes = fig.subplots(a["nrows"], a["ncols"], squeeze=False, **kw).ravel()
    if a.get("title"):
        fig.suptitle(a["title"])
    d = _NaiveDemo()
    d.fig, d.axes, d.values, d.controls = fig, list(axes), dict(values), demo.controls
    d.status, d.redraws, d.cache = _W.HTML(), 0, None
    if a.get("setup") is not None:
        a["setup"](d)
    result = demo.compute(**values)
    demo.draw(d, result, dict(values))
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")  # như backend inline gửi ảnh mới
    _plt.close(fig)
    return (_time.perf_counter() - t0) * 1000, (_time.process_time() - c0) * 1000


_demos = [(n, v) for n, v in list(globals().items())
          if (n == "demo" or n.startswith("demo_")) and isinstance(v, _Demo)]
_report = []
_plans = []
for _name, _demo in _demos:
    try:
        _cname, _w = _pick_control(_demo)
        _start = _w.value
        if _FREEZE:  # thử nghiệm: giữ bố cục của lần vẽ đầu, không tính lại constrained layout
            _demo.fig.canvas.draw()
            _demo.fig.set_layout_engine("none")
        _fwd = _values(_w, _STEPS)
        _seq = _fwd + _fwd[-2::-1] + [_start] + _fwd
        _lat, _cpu, _fresh = [], [], []
        for _v in _seq:
            _dt, _dc, _is_fresh = _inplace(_demo, _w, _v)
            _lat.append(_dt)
            _cpu.append(_dc)
            if _is_fresh:
                _fresh.append(_dt)
        _err = repr(_demo.last_error) if _demo.last_error else None
        _w.value = _start
        _plans.append((_name, _demo, _cname, _w, _fwd))
        _report.append({"name": _name, "control": _cname, "description": _w.description,
                        "values": [repr(v) for v in _seq], "lat": _lat, "cpu": _cpu, "fresh": _fresh,
                        "retrains": _retrains(_demo), "error": _err})
    except Exception as _exc:
        _report.append({"name": _name, "error": f"{type(_exc).__name__}: {_exc}"})
# Cách ngây thơ đo sau cùng: setup của nó có thể ghi đè các biến toàn cục mà demo thật dùng.
for (_name, _demo, _cname, _w, _fwd), _row in zip(_plans, [r for r in _report if "lat" in r]):
    try:
        _base = {n: c.value for n, c in _demo.controls.items()}
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            _nv = [_naive(_demo, {**_base, _cname: _v}) for _v in _fwd]
            _row["naive"], _row["naive_cpu"] = [x[0] for x in _nv], [x[1] for x in _nv]
    except Exception as _exc:
        _row["naive_error"] = f"{type(_exc).__name__}: {_exc}"
print("__MARK__" + _json.dumps(_report))
"""


def bench_notebook(path, steps, timeout, freeze_layout=False):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PRE_CELL))
    cell = (
        MEASURE_CELL.replace("__STEPS__", str(int(steps)))
        .replace("__FREEZE__", repr(bool(freeze_layout)))
        .replace("__MARK__", MARK)
    )
    nb.cells.append(nbformat.v4.new_code_cell(cell))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    for out in nb.cells[-1].get("outputs", []):
        if out.get("output_type") == "stream" and MARK in out.get("text", ""):
            return json.loads(out["text"].split(MARK, 1)[1])
        if out.get("output_type") == "error":
            raise RuntimeError(f"{out.get('ename')}: {out.get('evalue')}")
    raise RuntimeError("ô đo không in kết quả")


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    if not n:
        return float("nan")
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", help="mặc định: mọi lectures/NN_*.ipynb")
    ap.add_argument("--steps", type=int, default=6, help="số nấc tiến mỗi lượt (mặc định 6)")
    ap.add_argument("--timeout", type=int, default=900, help="giây tối đa cho mỗi ô")
    ap.add_argument(
        "--freeze-layout",
        action="store_true",
        help="thử nghiệm: tắt constrained layout sau lần vẽ đầu (đo phần chi phí của bố cục)",
    )
    args = ap.parse_args(argv)
    paths = [ROOT / p for p in args.notebooks] or sorted((ROOT / "lectures").glob("[0-9]*.ipynb"))
    print(
        "# độ trễ từ lúc đổi giá trị thanh trượt tới khi hình có dữ liệu mới (ms), CPU này, "
        f"kịch bản tiến {args.steps} nấc / lùi / tiến lại; mục tiêu: median ≤ 150 ms, "
        "speedup ≥ 3× khi demo huấn luyện lại",
        flush=True,
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# {os.cpu_count()} lõi CPU, tải trung bình 1 phút = {load:.1f} (tải cao làm số ms thực tăng; "
        "cpu_*_ms là thời gian CPU của kernel, ít phụ thuộc tải)",
        flush=True,
    )
    failures = 0
    summary = []
    for path in paths:
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        stem = path.stem
        t0 = time.perf_counter()
        try:
            rows = bench_notebook(path, args.steps, args.timeout, args.freeze_layout)
        except Exception as exc:  # in lỗi rồi đo tiếp notebook khác
            print(
                f"demo {stem}:? LỖI khi chạy {rel}: {type(exc).__name__}: {exc}"[:400], flush=True
            )
            failures += 1
            continue
        if not rows:
            print(f"# {stem}: không có demo ({time.perf_counter() - t0:.0f} s)", flush=True)
        for r in rows:
            if "lat" not in r:
                print(f"demo {stem}:{r['name']} LỖI {r.get('error')}", flush=True)
                failures += 1
                continue
            med, worst = _median(r["lat"]), max(r["lat"])
            fresh = _median(r["fresh"])
            naive = _median(r.get("naive", []))
            speedup = naive / med if med > 0 else float("nan")
            cpu_med, cpu_naive = _median(r["cpu"]), _median(r.get("naive_cpu", []))
            ok_lat = med <= 150
            ok_speed = (speedup >= 3) if r["retrains"] else True
            verdict = "ĐẠT" if ok_lat and ok_speed else "CHƯA ĐẠT"
            summary.append(verdict == "ĐẠT")
            extra = ""
            if r.get("error"):
                extra += f" lỗi_trong_demo={r['error']!r}"
            if r.get("naive_error"):
                extra += f" naive_lỗi={r['naive_error']!r}"
            print(
                f"demo {stem}:{r['name']} median_ms={med:.1f} worst_ms={worst:.1f} "
                f"naive_median_ms={naive:.1f} speedup={speedup:.1f} "
                f"fresh_median_ms={fresh:.1f} fresh_speedup={naive / fresh if fresh > 0 else float('nan'):.1f} "
                f"retrains={'có' if r['retrains'] else 'không'} control={r['control']!r} "
                f"changes={len(r['lat'])} fresh_changes={len(r['fresh'])} "
                f"cpu_median_ms={cpu_med:.1f} cpu_naive_median_ms={cpu_naive:.1f} [{verdict}]{extra}",
                flush=True,
            )
        print(f"# {stem}: {time.perf_counter() - t0:.0f} s (gồm chạy cả notebook)", flush=True)
    print(
        f"# tổng: {sum(summary)}/{len(summary)} demo đạt mục tiêu; {failures} lỗi khi đo",
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
