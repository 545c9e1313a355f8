"""Phần dùng chung của các kiểm thử bài giảng (tests/test_lecture_NN.py).

- `demo_check_cell(...)`: mã nguồn một ô bổ sung (chạy sau notebook, qua `run_notebook`) gọi
  `demo.update(**values)` với cảnh báo bị biến thành lỗi và ghi kết quả vào `__test_results__[name]`.
- `assert_demo_ok(result, ...)`: các khẳng định chung cho một kết quả như vậy.
- `assert_lecture_structure(path, ...)`: cấu trúc notebook (NFC, các mục, đáp án, không có output).
- `cell_seconds(nb)`, `printed_runtime(nb)`: thời gian chạy của notebook đã thực thi.
- `executed_fixture(path, extra_cells)`: fixture (phạm vi module) chạy notebook một lần, trả về
  `(nb, kết_quả)`; `assert_runs_cleanly(nb)`: chạy hết, không có output lỗi (thời gian đo trong bench).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import nbformat
import pytest
from conftest import ROOT, all_output_text, error_outputs, run_notebook

# Các hàm định nghĩa trong ô bổ sung (chạy trong kernel của notebook; tên bắt đầu bằng "_" để không
# đè biến của notebook). Chụp dữ liệu mọi đối tượng vẽ theo loại, gọi update dưới cảnh báo = lỗi.
_DEMO_CHECK_DEFS = '''
import warnings as _warnings
import numpy as _np

_KINDS = ("lines", "images", "collections", "patches", "texts")


def _artist_data(fig):
    data = {k: [] for k in _KINDS}
    for ax in fig.axes:
        data["lines"] += [_np.asarray(ln.get_xydata(), dtype=float) for ln in ax.lines]
        data["images"] += [_np.asarray(im.get_array(), dtype=float) for im in ax.images]
        data["collections"] += [_np.asarray(c.get_offsets(), dtype=float) for c in ax.collections]
        data["patches"] += [_np.asarray(p.get_verts(), dtype=float) for p in ax.patches]
        data["texts"] += [t.get_text() for t in ax.texts]
    return data


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.shape == b.shape and bool(_np.allclose(a, b, equal_nan=True))


def _differs(before, after):
    return len(before) != len(after) or not all(_same(a, b) for a, b in zip(before, after))


def _watched(expr):
    return _np.array(eval(expr, globals()), dtype=float).copy()


def _check_demo(d, values, watch, extra):
    """Gọi d.update(**values); trả về dict: hình đổi không, số lần vẽ, lỗi, trạng thái, cảnh báo."""
    fig_id = id(d.fig)
    counts = [len(ax.get_children()) for ax in d.fig.axes]
    before = _artist_data(d.fig)
    watched_before = {k: _watched(e) for k, e in watch.items()}
    redraws = d.redraws
    result = {"exception": None, "watched_changed": {}, "extra": {}}
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("error")
        try:
            d.update(**values)
            for k, e in watch.items():
                result["watched_changed"][k] = not _same(watched_before[k], _watched(e))
            for k, e in extra.items():
                result["extra"][k] = eval(e, globals())
        except Exception as exc:
            result["exception"] = repr(exc)
    after = _artist_data(d.fig)
    changed_by_kind = {k: _differs(before[k], after[k]) for k in _KINDS}
    result.update(
        changed=any(changed_by_kind.values()),
        changed_by_kind=changed_by_kind,
        same_figure=id(d.fig) == fig_id,
        same_artist_count=counts == [len(ax.get_children()) for ax in d.fig.axes],
        redraws=d.redraws - redraws,
        last_error=None if d.last_error is None else repr(d.last_error),
        status=d.status.value,
        values=dict(d.values),
        warnings=[str(w.message) for w in caught],
    )
    return result
'''


def demo_check_cell(name, /, *, demo="demo", watch=None, extra=None, **values):
    """Mã nguồn một ô bổ sung: `__test_results__[name] = kết quả của demo.update(**values)`.

    - `demo`: tên biến của bản demo trong notebook.
    - `watch`: dict nhãn → biểu thức (chuỗi, trong không gian tên notebook, có `_np`) được tính trước
      và sau update; `result["watched_changed"][nhãn]` cho biết giá trị có đổi không.
    - `extra`: dict nhãn → biểu thức tính sau update; giá trị ở `result["extra"][nhãn]`.
    Các ô tự chứa: gọi nhiều lần nối tiếp cho nhiều bước update trên cùng một demo.
    """
    args = f"{demo}, {values!r}, {watch or {}!r}, {extra or {}!r}"
    return f"{_DEMO_CHECK_DEFS}\n__test_results__[{name!r}] = _check_demo({args})\n"


def assert_demo_ok(result, *, diverged=False, kinds=None):
    """Khẳng định chung cho kết quả của `demo_check_cell`.

    Hình đổi (trong các loại `kinds` nếu cho), mọi biểu thức `watch` đổi, vẽ lại đúng 1 lần tại chỗ,
    không ngoại lệ/cảnh báo thoát ra, không lỗi trong trạng thái; "phân kỳ" (không phân biệt hoa
    thường) có trong trạng thái đúng khi `diverged`.
    """
    assert result["exception"] is None, f"update ném ngoại lệ: {result['exception']}"
    assert result["changed"], "hình của demo không thay đổi sau update"
    if kinds is not None:
        assert any(result["changed_by_kind"][k] for k in kinds), f"không có {kinds} nào đổi"
    for label, changed in result["watched_changed"].items():
        assert changed, f"{label} không thay đổi sau update"
    assert result["same_figure"]
    assert result["same_artist_count"], "update tạo thêm/xoá đối tượng vẽ thay vì cập nhật"
    assert result["redraws"] == 1
    assert result["last_error"] is None
    assert result["warnings"] == []
    status = result["status"]
    assert "Lỗi" not in status, status
    if diverged:
        assert "phân kỳ" in status.lower(), status
    else:
        assert "phân kỳ" not in status.lower(), status


HEADINGS = ("## Mục tiêu", "## Câu hỏi", "## Tóm tắt", "## Tài liệu tham khảo")
FORBIDDEN_TERMS = ("mạng thần kinh", "trọng lượng")
PRINT_BACKEND = "import nblib\n\nnblib.print_backend()"


def assert_lecture_structure(path, *, min_answers, first_code=PRINT_BACKEND):
    """Notebook `path` (tương đối với gốc repo): markdown NFC, đủ các mục, ít nhất `min_answers`
    đáp án `<details>`, không dùng thuật ngữ bị cấm, ô mã đầu bắt đầu bằng `first_code` (None: không
    kiểm tra), không có output nào được lưu."""
    nb = nbformat.read(ROOT / path, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert unicodedata.normalize("NFC", md) == md
    for heading in HEADINGS:
        assert heading in md
    assert md.count("<summary>Đáp án</summary>") >= min_answers
    for term in FORBIDDEN_TERMS:
        assert term not in md.lower()
    if first_code is not None:
        source = next(c.source for c in nb.cells if c.cell_type == "code")
        assert source.startswith(first_code)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None


def cell_seconds(nb):
    """Tổng thời gian chạy (giây) các ô của notebook đã thực thi, theo metadata của nbclient."""
    total = 0.0
    for c in nb.cells:
        ex = c.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            start = datetime.fromisoformat(ex["iopub.execute_input"])
            end = datetime.fromisoformat(ex["shell.execute_reply"])
            total += (end - start).total_seconds()
    return total


def printed_runtime(nb):
    """Thời gian notebook tự in ra ("Thời gian chạy toàn bộ notebook: … s")."""
    m = re.search(r"Thời gian chạy toàn bộ notebook: ([\d.,]+) s", all_output_text(nb))
    assert m, "notebook phải in thời gian chạy"
    return float(m.group(1).replace(",", "."))  # notebook in bằng dấu phẩy thập phân


# Ô bổ sung chạy cuối cùng: vẽ mọi hình còn mở (MPLBACKEND=Agg nên plt.show() không đóng hình) và ghi
# các nhãn vạch chia còn dấu chấm thập phân ("0.5" thay vì "0,5") vào __test_results__["dot_tick_labels"].
TICK_LABELS_CELL = """
import re as _re
import matplotlib.pyplot as _plt
_dot_ticks = []
for _n in _plt.get_fignums():
    _f = _plt.figure(_n)
    try:
        _f.canvas.draw()
    except Exception as _exc:  # một hình không vẽ được không phải việc của kiểm tra này
        continue
    for _ax in _f.axes:
        for _t in _ax.get_xticklabels() + _ax.get_yticklabels():
            if _re.search(r"\\d\\.\\d", _t.get_text()):
                _dot_ticks.append([_f.get_suptitle() or _ax.get_title(), _t.get_text()])
__test_results__["dot_tick_labels"] = _dot_ticks
"""


# Ô bổ sung: với mọi Demo của bài và mọi thanh trượt của nó, đi qua vài giá trị (nấc kế bên, hai đầu
# khoảng, về lại giá trị đầu) và so khung hình vẽ nhanh (nblib.presentation.fastdraw: ảnh trục dán lại)
# với một lần ``canvas.draw()`` thường, từng điểm ảnh (lệch tối đa 1/255 do làm tròn khi trộn). Ghi vào __test_results__["fastdraw"].
FASTDRAW_CELL = """
import math as _math
import numpy as _np
import ipywidgets as _W
from nblib.presentation.widgets import Demo as _Demo

def _fd_values(w):
    if isinstance(w, _W.FloatLogSlider):
        e, lo, hi, st, conv = _math.log(w.value, w.base), w.min, w.max, w.step, lambda x: w.base ** x
    else:
        e, lo, hi, st, conv = w.value, w.min, w.max, w.step, lambda x: x
    seq = [e + st, e + 2 * st, e, lo, hi, e]
    out = [conv(min(max(x, lo), hi)) for x in seq]
    return [int(round(v)) for v in out] if isinstance(w, _W.IntSlider) else out

_fd = []
_fd_seen = set()
for _fd_name, _fd_demo in list(globals().items()):
    if not isinstance(_fd_demo, _Demo) or id(_fd_demo) in _fd_seen or _fd_demo._layers is None:
        continue
    _fd_seen.add(id(_fd_demo))
    for _fd_ctl, _fd_w in _fd_demo.controls.items():
        if not isinstance(_fd_w, (_W.FloatSlider, _W.FloatLogSlider, _W.IntSlider)):
            continue
        _fd_start, _fd_diff, _fd_n = _fd_w.value, 0, 0
        _h0, _m0 = _fd_demo._layers.hits, _fd_demo._layers.misses
        for _fd_v in _fd_values(_fd_w):
            _fd_demo.update(**{_fd_ctl: _fd_v})
            _fd_demo._layers.draw()
            _fast = _np.asarray(_fd_demo.fig.canvas.buffer_rgba()).copy()
            _fd_demo.fig.canvas.draw()
            _plain = _np.asarray(_fd_demo.fig.canvas.buffer_rgba())
            _fd_diff = max(_fd_diff, int(_np.abs(_fast.astype(int) - _plain.astype(int)).max()))
            _fd_n += 1
        _fd_demo.update(**{_fd_ctl: _fd_start})
        _fd.append({"demo": _fd_name, "control": _fd_ctl, "frames": _fd_n, "max_diff": _fd_diff,
                    "hits": _fd_demo._layers.hits - _h0, "misses": _fd_demo._layers.misses - _m0})
__test_results__["fastdraw"] = _fd
"""


def assert_fastdraw_matches(results, min_demos=1):
    """Khung hình vẽ nhanh của mọi demo giống lần vẽ thường (lệch ≤ 1/255), và mẹo thật sự được dùng (có lần dán
    lại ảnh trục)."""
    rows = results["fastdraw"]
    assert len({r["demo"] for r in rows}) >= min_demos, rows
    assert all(r["frames"] >= 5 for r in rows), rows
    # Trộn lớp ảnh trục (draw_image) và vẽ thẳng làm tròn khác nhau ở chỗ lưới đè lên dữ liệu màu:
    # lệch tối đa 1/255 ở một kênh màu, mắt không thấy.
    assert [r for r in rows if r["max_diff"] > 1] == [], rows
    assert sum(r["hits"] for r in rows) > 0, rows


def executed_fixture(path, extra_cells=()):
    """Fixture phạm vi module: notebook ``path`` chạy một lần (cùng các ô bổ sung, rồi
    TICK_LABELS_CELL và FASTDRAW_CELL); trả về (nb, kết quả)."""

    @pytest.fixture(scope="module")
    def executed():
        return run_notebook(path, extra_cells=(*extra_cells, TICK_LABELS_CELL, FASTDRAW_CELL))

    return executed


def assert_runs_cleanly(nb, printed=False):
    """Notebook đã chạy hết, không có output lỗi.

    Không khẳng định thời gian (máy dùng chung, ồn): thời gian chạy được đo và so với mục tiêu
    60 s trong `bench/bench_lectures.py`. ``printed=True``: notebook còn phải tự in thời gian chạy."""
    assert error_outputs(nb) == []
    assert all(c.get("execution_count") is not None for c in nb.cells if c.cell_type == "code"), (
        "có ô mã không được chạy"
    )
    if printed:
        assert printed_runtime(nb) > 0


_DECIMAL_POINT = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
_VI_LETTERS = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I
)


def decimal_point_readouts(nb):
    """Các dòng notebook đã in ra (stream, text/plain) có chữ tiếng Việt mà vẫn viết số thập phân bằng
    dấu chấm ("độ chính xác 0.98"). Nội dung trong ngoặc vuông (mảng numpy in theo Python) không tính.
    Quy ước: glossary.md, mục Quy ước viết."""
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text" in out:
                texts.append(out["text"])
            elif "text/plain" in data and "application/vnd.jupyter.widget-view+json" not in data:
                texts.append(
                    data["text/plain"]
                )  # repr của widget (value=1.0, …) không phải số in ra
    bad = []
    for line in "\n".join(texts).splitlines():
        if not _VI_LETTERS.search(line):
            continue
        if _DECIMAL_POINT.search(re.sub(r"\[[^\]]*\]", " ", line)):
            bad.append(line.strip())
    return bad


def demo_check_cells(demos):
    """Các ô ``demo_check_cell`` cho dict tên demo → giá trị điều khiển (kết quả ghi theo tên demo)."""
    return [demo_check_cell(name, demo=name, **values) for name, values in demos.items()]
