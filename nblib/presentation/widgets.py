"""Khối xây dựng cho mọi bản demo tương tác trong bài giảng.

``Demo`` gồm: các điều khiển (thanh trượt, danh sách chọn), một hình matplotlib được tạo *một lần* rồi
cập nhật tại chỗ, kết quả tính toán được lưu đệm theo từng bộ giá trị, và một dòng trạng thái nói "phân
kỳ" thay vì in lỗi hay hàng loạt cảnh báo. ``demo.update(**giá_trị)`` gọi được cả khi không có giao
diện (kiểm thử).

Trong JupyterLab/Voilà, hình được kernel vẽ bằng Agg thành ảnh PNG và hiện bằng một widget nhỏ
(``FigureView``, JavaScript trong gói, không CDN). Trình duyệt giữ mọi khung hình đã nhận theo bộ giá trị
điều khiển: quay lại một giá trị đã xem thì hình và dòng trạng thái đổi ngay, cùng một khung hình, không
chờ kernel. Lúc kernel rảnh, ``Demo`` tính sẵn các nấc kế bên của từng điều khiển (tác vụ nền trên vòng
lặp sự kiện của kernel; yêu cầu của người dùng luôn được phục vụ trước) và gửi khung hình của chúng
sang trình duyệt, nên một nấc mới ngay cạnh cũng hiện tức thì. ``NBLIB_RENDERER=ipympl`` (hoặc
``Demo(..., renderer="ipympl")``) dùng lại canvas ipympl cũ (chỉ để so sánh trong bench);
``NBLIB_PREFETCH=0`` tắt việc tính sẵn.

Ví dụ::

    def compute(lr):
        model = MLP([2, 16, 2]); return train(model, X, y, lr=lr, epochs=50)

    def setup(demo):
        (demo.line,) = demo.axes[0].plot([], [])

    def draw(demo, hist, values):
        demo.line.set_data(range(len(hist["loss"])), hist["loss"])
        demo.axes[0].relim(); demo.axes[0].autoscale_view()
        return hist["message"] if hist["status"] != "ok" else ""

    demo = Demo({"lr": log_slider("Tốc độ học α", 1e-4, 10, 0.1)}, compute, draw, setup)
    demo  # hiển thị
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import math
import os
import pathlib
import warnings
from collections import OrderedDict

import anywidget
import ipywidgets as W
import matplotlib
import numpy as np
import traitlets as T
from matplotlib import transforms as mtransforms
from matplotlib.figure import Figure

from .. import backend
from . import fastdraw, plots


def log_slider(description, min, max, value, steps_per_decade=10, readout_format=".2e"):
    """Thanh trượt theo thang log10 (cho tốc độ học α, hệ số khởi tạo, λ…), cập nhật khi thả chuột."""
    return W.FloatLogSlider(
        value=value,
        base=10,
        min=math.log10(min),
        max=math.log10(max),
        step=1.0 / steps_per_decade,
        description=description,
        readout_format=readout_format,
        continuous_update=False,
        style={"description_width": "initial"},
        layout=W.Layout(width="420px"),
    )


def slider(description, min, max, value, step=None, readout_format=".3g"):
    """Thanh trượt tuyến tính (ví dụ keep_prob, γ), cập nhật khi thả chuột."""
    return W.FloatSlider(
        value=value,
        min=min,
        max=max,
        step=step or (max - min) / 100,
        description=description,
        readout_format=readout_format,
        continuous_update=False,
        style={"description_width": "initial"},
        layout=W.Layout(width="420px"),
    )


def int_slider(description, min, max, value, step=1):
    """Thanh trượt số nguyên (ví dụ số tầng, số epoch), cập nhật khi thả chuột."""
    return W.IntSlider(
        value=value,
        min=min,
        max=max,
        step=step,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
    )


def dropdown(description, options, value=None):
    """Danh sách chọn (ví dụ hàm kích hoạt, thuật toán tối ưu)."""
    options = list(options)
    return W.Dropdown(
        options=options,
        value=value
        if value is not None
        else (options[0][1] if isinstance(options[0], tuple) else options[0]),
        description=description,
        style={"description_width": "initial"},
    )


def _in_kernel():
    try:
        from IPython import get_ipython

        ip = get_ipython()
    except ImportError:  # pragma: no cover
        return False
    return ip is not None and hasattr(ip, "kernel")


def _restore_backend(previous):
    """Trả lại backend cũ của pyplot (ảnh tĩnh ``inline`` qua magic của IPython để đăng ký lại định
    dạng ảnh), để các hình ``plt.show()`` khác trong notebook vẫn là ảnh PNG bình thường."""
    from IPython import get_ipython

    if "inline" in previous:
        get_ipython().run_line_magic("matplotlib", "inline")
    else:
        import matplotlib.pyplot as plt

        plt.switch_backend(previous)


# Dưới mức này chữ vạch chia 11 pt còn dưới 12 điểm ảnh: khó đọc khi chiếu lên màn hình lớp. Khi trình
# chiếu (NBLIB_PRESENT=1): ≥ 96 dpi để chữ 12 pt ≥ 16 điểm ảnh, hình rộng tối đa 1100 điểm ảnh.
_MIN_DPI = 96 if plots.presenting() else 80


def _restyle_ticks(ax):
    """Cỡ chữ vạch chia theo phong cách hiện hành (trục được tạo trước khi vào rc_context của Demo)."""
    ax.tick_params(axis="x", labelsize=matplotlib.rcParams["xtick.labelsize"])
    ax.tick_params(axis="y", labelsize=matplotlib.rcParams["ytick.labelsize"])


def _resend_chrome_state(canvas, content, _buffers):
    """Khi trình duyệt báo canvas đã sẵn sàng, gửi lại các thuộc tính giao diện của ipympl.

    Trong Voilà, canvas nhận trạng thái mặc định (có góc kéo đổi cỡ ở góc dưới phải) dù phía Python đã
    đặt ``resizable = False``; gửi lại làm trình duyệt vẽ lại canvas đúng như đã đặt."""
    if isinstance(content, dict) and content.get("type") == "initialized":
        canvas._nblib_browser = True  # có trình duyệt thật đang hiển thị canvas này
        canvas.send_state(["resizable", "header_visible", "footer_visible", "toolbar_visible"])


def _fit_width(figsize, dpi):
    """(figsize, dpi) để hình không rộng hơn cột notebook: hình rộng hơn bị cắt (phải cuộn ngang), nên
    giới hạn bề rộng theo điểm ảnh bằng cách giảm dpi (bố cục giữ nguyên, chỉ nhỏ lại).
    ``NBLIB_FIGURE_MAX_PX`` để đổi giới hạn (860, khi trình chiếu 1100)."""
    default_px = "1100" if plots.presenting() else "860"
    max_px = float(os.environ.get("NBLIB_FIGURE_MAX_PX", default_px))
    if figsize[0] * dpi <= max_px:
        return figsize, dpi
    if max_px / figsize[0] < _MIN_DPI:
        # Hình quá rộng (ví dụ ba trục cạnh nhau): giảm dpi thôi thì chữ quá nhỏ. Thu hẹp hình (tính
        # theo inch) để dpi không dưới _MIN_DPI; chữ giữ cỡ điểm nên dễ đọc.
        shrink = max_px / _MIN_DPI / figsize[0]
        figsize = (figsize[0] * shrink, figsize[1] * max(shrink, 0.85))
    return figsize, max_px / figsize[0]


def _renderer(renderer=None):
    """Cách hiện hình: "frames" (mặc định: ảnh PNG + bộ đệm khung hình trong trình duyệt), "ipympl"
    (canvas ipympl cũ, để so sánh), "inline" (ảnh tĩnh, ``NBLIB_FIGURES=inline``)."""
    if os.environ.get("NBLIB_FIGURES", "widget") == "inline":
        return "inline"
    return renderer or os.environ.get("NBLIB_RENDERER", "frames")


def _make_figure(nrows, ncols, figsize, renderer="frames", **kw):
    """Tạo hình. Trả về (hình, danh sách trục, kiểu hiển thị) với kiểu là:

    - ``"frames"``: trong kernel Jupyter, canvas Agg; ``FigureView`` hiện ảnh PNG của nó;
    - ``"ipympl"``: canvas ipympl (widget, cập nhật tại chỗ bằng ``draw_idle``), chỉ khi được yêu cầu;
    - ``"inline"``: ảnh PNG tĩnh trong một ``Output`` (``NBLIB_FIGURES=inline`` hoặc ipympl hỏng);
    - ``"agg"``: ngoài kernel (kiểm thử, script): canvas Agg thường, không giao diện."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    in_kernel = _in_kernel()
    if renderer == "ipympl" and in_kernel:
        try:
            previous = matplotlib.get_backend()
            from ipympl.backend_nbagg import Canvas, FigureManager

            if matplotlib.get_backend() != previous:  # nhập ipympl đổi backend của pyplot: trả lại
                _restore_backend(previous)
            # (dpi đặt khi tạo Figure: ipympl tính lại dpi theo màn hình từ giá trị ban đầu này.)
            figsize, dpi = _fit_width(figsize, matplotlib.rcParams["figure.dpi"])
            fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
            canvas = Canvas(fig)
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.toolbar_visible = False
            canvas.resizable = False
            canvas.on_msg(_resend_chrome_state)
            FigureManager(canvas, 0)
            axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
            return fig, list(axes.ravel()), "ipympl"
        except Exception:  # ipympl không dùng được: quay về ảnh tĩnh
            renderer = "inline"
    kind = "agg"
    if in_kernel:
        kind = "inline" if renderer in ("inline", "ipympl") else "frames"
    if kind == "frames":
        figsize, dpi = _fit_width(figsize, matplotlib.rcParams["figure.dpi"])
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    else:
        fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, list(axes.ravel()), kind


_HERE = pathlib.Path(__file__).parent


class FigureView(anywidget.AnyWidget):
    """Widget hiện hình của ``Demo``: ảnh PNG do kernel vẽ, cùng dòng trạng thái (trong cùng một phần
    tử, nên hai thứ đổi cùng lúc). Trình duyệt giữ các khung hình đã nhận theo bộ giá trị điều khiển
    và tự đổi hình khi một điều khiển về giá trị đã có khung hình (xem ``figure.js``)."""

    _esm = _HERE / "figure.js"
    _css = _HERE / "figure.css"
    controls = T.List(T.Instance(W.Widget)).tag(sync=True, **W.widget_serialization)
    control_attrs = T.List(T.Unicode()).tag(sync=True)
    want = T.List().tag(sync=True)  # bộ giá trị (theo thứ tự điều khiển) của khung hình cần hiện
    snapshot = T.Bytes(b"").tag(sync=True)  # khung hình mới nhất kernel vẽ cho người dùng
    snapshot_values = T.List().tag(sync=True)
    snapshot_status = T.Unicode("").tag(sync=True)
    snapshot_origin = T.Unicode("").tag(sync=True)
    width = T.Int(640).tag(sync=True)
    height = T.Int(320).tag(sync=True)
    prefetch = T.Bool(True).tag(sync=True)  # tính sẵn các nấc kế bên khi kernel rảnh


def _q(v):
    """Một giá trị điều khiển → phần của khoá bộ đệm: số thực làm tròn 9 chữ số có nghĩa (như
    ``keyOf`` trong figure.js), để giá trị của thanh trượt trong trình duyệt và giá trị kernel dự đoán
    cho nấc kế bên (lệch nhau ở chữ số cuối) cho cùng một khoá."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v):
        return float(f"{float(v):.9g}")
    if isinstance(v, (list, tuple)):
        return tuple(_q(x) for x in v)
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return v


def _is_selection(w):
    return hasattr(w, "_options_values") and hasattr(w, "index")


def _browser_value(w, v):
    """Giá trị mà mô hình của điều khiển trong trình duyệt giữ: chỉ số cho danh sách chọn (trình duyệt
    không có giá trị Python của lựa chọn), giá trị cho thanh trượt."""
    if _is_selection(w):
        try:
            return w._options_values.index(v)
        except ValueError:
            return None
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def _grid(v, lo, step):
    return lo + round((v - lo) / step) * step


def _neighbours(w, v):
    """Các giá trị một nấc trước và một nấc sau của điều khiển ``w`` tại ``v`` (None nếu ra ngoài khoảng),
    đúng như trình duyệt cho khi nhấn phím mũi tên (núm kéo bám theo lưới ``min + k·step``)."""
    try:
        if isinstance(w, W.FloatLogSlider):
            if not v or v <= 0:
                return None, None
            e = _grid(math.log(v, w.base), w.min, w.step)
            out = [e - w.step, e + w.step]
            return tuple(w.base**x if w.min - 1e-9 <= x <= w.max + 1e-9 else None for x in out)
        if isinstance(w, (W.FloatSlider, W.IntSlider)):
            g = _grid(v, w.min, w.step)
            out = [g - w.step, g + w.step]
            cast = int if isinstance(w, W.IntSlider) else float
            return tuple(cast(x) if w.min - 1e-9 <= x <= w.max + 1e-9 else None for x in out)
        if _is_selection(w):
            opts = w._options_values
            i = opts.index(v)
            return (opts[i - 1] if i > 0 else None, opts[i + 1] if i + 1 < len(opts) else None)
        if isinstance(w, W.Checkbox):
            return (not v, None)
    except (ValueError, TypeError, OverflowError):
        pass
    return None, None


def _freeze_label_positions(fig):
    """Giữ nguyên vị trí tiêu đề và nhãn trục đã tính ở lần vẽ đầu (toạ độ theo khung trục, nên vẫn
    đúng khi ipympl đổi dpi theo màn hình). Mặc định matplotlib đo lại hộp bao của mọi nhãn vạch chia ở
    mỗi lần vẽ để đặt tiêu đề và nhãn trục: khoảng 40% thời gian vẽ lại của một hình hai trục log."""
    for ax in fig.axes:
        if getattr(ax, "name", "") != "rectilinear" or not hasattr(ax, "_autotitlepos"):
            continue  # trục 3D, trục cực…: giữ cách đặt nhãn mặc định
        ax._autotitlepos = False
        for axis in (ax.xaxis, ax.yaxis):
            _freeze_label(axis)


def _freeze_label(axis):
    """Giữ nhãn của một trục ở vị trí hiện tại (toạ độ theo khung trục)."""
    label, ax = axis.label, axis.axes
    display = label.get_transform().transform(label.get_position())
    axis.set_label_coords(*ax.transAxes.inverted().transform(display))


def _auto_label(axis):
    """Trả nhãn trục về cách đặt tự động của matplotlib (toạ độ khung trục × điểm ảnh)."""
    ax = axis.axes
    axis._autolabelpos = True
    if axis is ax.xaxis:
        transform = mtransforms.blended_transform_factory(
            ax.transAxes, mtransforms.IdentityTransform()
        )
    else:
        transform = mtransforms.blended_transform_factory(
            mtransforms.IdentityTransform(), ax.transAxes
        )
    axis.label.set_transform(transform)


def _tick_text(axis):
    """Chữ của mọi nhãn vạch chia của một trục (get_ticklabels cập nhật vị trí và chữ của các vạch chia
    mà không vẽ: rẻ hơn nhiều so với một lần vẽ)."""
    return tuple(t.get_text() for t in axis.get_ticklabels(which="both"))


def has_nonfinite(result):
    """True nếu ``result`` (số, mảng numpy hoặc tensor torch, dict lịch sử…) chứa NaN/vô cực hoặc có
    trạng thái "phân kỳ"."""
    if isinstance(result, dict):
        if result.get("status") == "phân kỳ":
            return True
        return any(has_nonfinite(v) for v in result.values())
    if isinstance(result, (list, tuple)):
        return any(has_nonfinite(v) for v in result)
    if isinstance(result, (float, int)) or backend.is_array(result):
        return not bool(np.all(np.isfinite(backend.to_numpy(result).astype(float))))
    return False


class Demo:
    """Bản demo tương tác: điều khiển + hình vẽ cập nhật tại chỗ + dòng trạng thái.

    - ``controls``: dict tên → widget (tên là tham số của ``compute``).
    - ``compute(**values)``: phần tính toán nặng; kết quả được lưu đệm theo bộ giá trị.
    - ``setup(demo)``: tạo các đối tượng vẽ một lần (tuỳ chọn).
    - ``draw(demo, result, values)``: cập nhật các đối tượng vẽ tại chỗ; có thể trả về một câu trạng thái.
    - ``freeze_layout``: tính bố cục hình một lần sau lần vẽ đầu rồi giữ nguyên (vẽ lại nhanh gấp đôi);
      bố cục được tính lại khi nhãn vạch chia đổi.
    - ``renderer``: None (mặc định, ``NBLIB_RENDERER`` hoặc "frames"), hoặc "ipympl" (cách cũ, để so sánh).
    - ``prefetch``: số khung hình tối đa tính sẵn mỗi lần kernel rảnh (0: không tính sẵn).
    """

    def __init__(
        self,
        controls,
        compute,
        draw,
        setup=None,
        nrows=1,
        ncols=1,
        figsize=(8, 4),
        title=None,
        cache=True,
        freeze_layout=True,
        renderer=None,
        prefetch=None,
        **subplot_kw,
    ):
        self.controls = dict(controls)
        self.compute = compute
        self.draw = draw
        self.cache = {} if cache else None
        self.redraws = 0
        self.last_error = None
        self.status = W.HTML(value="")
        self.message = ""
        if prefetch is None:
            prefetch = 0 if os.environ.get("NBLIB_PREFETCH", "1") == "0" else 10
        self.prefetch_limit = int(prefetch)
        with matplotlib.rc_context(plots.style()):
            self.fig, self.axes, self._kind = _make_figure(
                nrows, ncols, figsize, renderer=_renderer(renderer), **subplot_kw
            )
        self._widget_canvas = self._kind == "ipympl"
        # Vẽ lại nhanh (ảnh của các trục không đổi được dán lại, xem fastdraw.py); NBLIB_FASTDRAW=0 tắt.
        self._layers = None
        if self._kind in ("frames", "agg") and os.environ.get("NBLIB_FASTDRAW", "1") != "0":
            self._layers = fastdraw.AxisLayers(self.fig)
        self._pending_status = None
        if self._widget_canvas:
            self.fig.canvas.mpl_connect("draw_event", self._on_draw)
        if title:
            self.fig.suptitle(title)
        self._output = W.Output() if self._kind == "inline" else None
        self.values = {name: w.value for name, w in self.controls.items()}
        self._syncing = False
        self._freeze = freeze_layout
        self._ticks = None
        # Khung hình (renderer "frames"): ảnh đã vẽ theo khoá, khoá trình duyệt đang giữ, tính sẵn.
        self._frames = OrderedDict()
        self._sent = set()
        self._failed = set()
        self._browser = False
        self._generation = 0
        self._last_moved, self._last_dir = None, 1
        self._last_result = None
        self._prefetch_handle = None
        self._prefetch_task = None
        self.view = None
        if self._kind == "frames":
            w, h = self.fig.get_size_inches() * self.fig.dpi
            self.view = FigureView(
                controls=list(self.controls.values()),
                control_attrs=[
                    "index" if _is_selection(c) else "value" for c in self.controls.values()
                ],
                width=int(round(w)),
                height=int(round(h)),
                prefetch=self.prefetch_limit > 0,
            )
            self.view.on_msg(self._on_view_msg)
            self.view.observe(self._on_prefetch_toggle, names="prefetch")
        # Phong cách chung (nblib.presentation.plots.style): cỡ chữ, bảng màu; áp cho mọi chữ tạo trong setup.
        with matplotlib.rc_context(plots.style()):
            for ax in self.axes:
                _restyle_ticks(ax)
            if setup is not None:
                setup(self)
            plots.style_figure(self.fig)
            for w in self.controls.values():
                w.observe(self._on_change, names="value")
            self.update()
        if freeze_layout:
            # Bố cục (constrained layout) chiếm khoảng một nửa thời gian vẽ lại: tính một lần với
            # dữ liệu đầu tiên rồi giữ nguyên, để mỗi lần kéo thanh trượt chỉ vẽ lại dữ liệu. Khi nhãn
            # vạch chia đổi (ví dụ "6×10⁻¹" thay cho "1"), bố cục được tính lại một lần (_relayout).
            self._relayout()
        if self._kind == "frames":
            # Khung hình đầu tiên nằm sẵn trong trạng thái của widget: trang hiện hình ngay khi widget
            # được vẽ, không chờ kernel (kernel có thể còn đang chạy các ô sau).
            self._publish(self._key(), origin="đầu tiên")

    # ----- bố cục -----
    def _tick_texts(self):
        return [_tick_text(axis) for axis in self._axis_objects()]

    def _relayout(self):
        """Tính lại bố cục (constrained layout) và vị trí tiêu đề/nhãn trục theo nhãn vạch chia hiện
        tại, rồi giữ nguyên cho các lần vẽ sau."""
        for ax in self._rect_axes():
            ax._autotitlepos = True
            _auto_label(ax.xaxis)
            _auto_label(ax.yaxis)
        self.fig.set_layout_engine("constrained")
        self.fig.draw_without_rendering()
        self.fig.set_layout_engine("none")
        _freeze_label_positions(self.fig)
        self._ticks = self._tick_texts()

    def _replace_labels(self, changed):
        """Nhãn vạch chia của các trục ``changed`` vừa đổi: giữ khung trục như cũ, chỉ dời nhãn của
        các trục đó ra ngoài nhãn vạch chia mới. Nếu như vậy chữ tràn ra ngoài hình hoặc đè lên trục
        khác thì mới tính lại cả bố cục (``_relayout``, chậm hơn nhiều)."""
        if not all(getattr(axis.axes, "name", "") == "rectilinear" for axis in changed):
            return self._relayout()
        renderer = self.fig.canvas.get_renderer()
        for axis in changed:
            _auto_label(axis)
            axis._update_label_position(renderer)
        if not self._decorations_fit(renderer, changed):
            return self._relayout()
        for i, axis in enumerate(self._axis_objects()):
            if axis in changed:
                _freeze_label(axis)
                self._ticks[i] = _tick_text(axis)

    def _rect_axes(self):
        return [
            ax
            for ax in self.fig.axes
            if getattr(ax, "name", "") == "rectilinear" and hasattr(ax, "_autotitlepos")
        ]

    def _decorations_fit(self, renderer, changed):
        """True nếu nhãn và nhãn vạch chia của các trục ``changed`` nằm trong hình và không đè lên
        khung của trục khác. (Nhãn trục vừa được matplotlib đặt ra ngoài nhãn vạch chia nên không đè
        lên chúng.)"""
        fig_box = self.fig.bbox
        for axis in changed:
            ax = axis.axes
            texts = [axis.label]
            for tick in axis._update_ticks():  # chỉ các vạch chia được vẽ (trong khoảng nhìn)
                texts += [tick.label1, tick.label2]
            for t in texts:
                if not (t.get_visible() and t.get_text()):
                    continue
                box = t.get_window_extent(renderer)
                if (
                    box.x0 < fig_box.x0 - 0.5
                    or box.y0 < fig_box.y0 - 0.5
                    or box.x1 > fig_box.x1 + 0.5
                    or box.y1 > fig_box.y1 + 0.5
                ):
                    return False
                for other in self.fig.axes:
                    if other is not ax and other.bbox.bounds != ax.bbox.bounds:
                        if box.overlaps(other.bbox):
                            return False
        return True

    def _axis_objects(self):
        return [axis for ax in self.fig.axes for axis in (ax.xaxis, ax.yaxis)]

    def _layout_is_stale(self):
        """Các trục có nhãn vạch chia đã khác lần đặt nhãn trước (cần dời nhãn trục); rỗng nếu không
        có, mọi trục nếu hình có thêm trục."""
        if not self._freeze or self._ticks is None:
            return []
        axes = self._axis_objects()
        if len(axes) != len(self._ticks):
            return axes
        return [axis for axis, old in zip(axes, self._ticks) if _tick_text(axis) != old]

    def _update_layout(self):
        """Sau khi vẽ dữ liệu mới: dời nhãn của các trục có nhãn vạch chia đổi (có trục mới thì tính
        lại cả bố cục)."""
        changed = self._layout_is_stale()
        if not changed:
            return
        if len(self._axis_objects()) != len(self._ticks):
            self._relayout()
        else:
            self._replace_labels(changed)

    def label_overlaps(self):
        """Các cặp (nhãn trục, nhãn vạch chia) có hộp bao chồng lên nhau trong lần vẽ hiện tại (điểm
        ảnh của hình). Dùng trong kiểm thử: sau mỗi lần kéo thanh trượt danh sách này phải rỗng."""
        renderer = self.fig.canvas.get_renderer()
        out = []
        for i, ax in enumerate(self.fig.axes):
            for axis in (ax.xaxis, ax.yaxis):
                label = axis.label
                if not label.get_text() or not label.get_visible():
                    continue
                lb = label.get_window_extent(renderer)
                for t in axis.get_ticklabels(which="both"):
                    if t.get_visible() and t.get_text():
                        tb = t.get_window_extent(renderer)
                        if lb.overlaps(tb):
                            out.append((i, label.get_text(), t.get_text()))
        return out

    # ----- cập nhật -----
    def _on_change(self, change):
        if not self._syncing:
            owner = change.get("owner") if isinstance(change, dict) else None
            for name, w in self.controls.items():
                if w is owner:
                    self._note_move(name, change)
            self.update(**{name: w.value for name, w in self.controls.items()})

    def _note_move(self, name, change):
        """Ghi điều khiển vừa đổi và chiều đổi: tính sẵn ưu tiên nấc kế tiếp theo chiều đó."""
        self._last_moved = name
        try:
            old, new = change["old"], change["new"]
            if _is_selection(self.controls[name]):
                opts = self.controls[name]._options_values
                old, new = opts.index(old), opts.index(new)
            self._last_dir = 1 if new >= old else -1
        except (KeyError, TypeError, ValueError):
            self._last_dir = 1

    def _key(self, values=None):
        values = self.values if values is None else values
        return tuple(sorted((k, _q(v)) for k, v in values.items()))

    def _browser_values(self, values):
        return [_browser_value(w, values[name]) for name, w in self.controls.items()]

    def _compute(self, values, key):
        with warnings.catch_warnings(), backend.ignore_float_errors():
            warnings.simplefilter("ignore")
            if self.cache is not None and key in self.cache:
                return self.cache[key], False
            result = self.compute(**values)
            if self.cache is not None:
                self.cache[key] = result
            return result, True

    def _draw(self, result, values):
        with warnings.catch_warnings(), backend.ignore_float_errors():
            warnings.simplefilter("ignore")
            return self.draw(self, result, dict(values))

    @staticmethod
    def _message_for(message, result):
        if message:
            diverged = "phân kỳ" in str(message).lower()
            return str(message), "#b00020" if diverged else "#333"
        if has_nonfinite(result):
            return "Kết quả phân kỳ (NaN hoặc vô cực): hãy giảm tốc độ học.", "#b00020"
        return "", "#333"

    def update(self, **values):
        """Đặt giá trị mới (các khoá là tên điều khiển), tính (hoặc lấy từ bộ đệm) rồi vẽ lại tại chỗ.

        Không bao giờ ném ngoại lệ: lỗi và kết quả phân kỳ hiện trong ``demo.status``.
        Trả về kết quả của ``compute`` (hoặc None nếu có lỗi).
        """
        self._on_draw(None)  # dòng trạng thái của lần trước (nếu hình chưa kịp vẽ) không bị mất
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(
                f"Không có điều khiển tên {sorted(unknown)}; các tên hợp lệ: {sorted(self.controls)}."
            )
        self.values.update(values)
        self._syncing = True
        try:
            for name, v in values.items():
                if self.controls[name].value != v:
                    self.controls[name].value = v
        finally:
            self._syncing = False
        self.values = {name: w.value for name, w in self.controls.items()}
        self._generation += 1
        key = self._key()
        try:
            result, computed = self._compute(self.values, key)
            message = self._draw(result, self.values)
        except Exception as exc:  # hiện lỗi gọn trong dòng trạng thái, không in traceback
            self.last_error = exc
            self._set_status(f"Lỗi: {exc}", "#b00020")
            if self.view is not None and self._browser:
                self._publish(key, origin="lỗi", force=True)
            return None
        self.last_error = None
        self._last_result = result
        self.redraws += 1
        self._update_layout()
        text, color = self._message_for(message, result)
        if self._kind == "frames":
            self._set_status(text, color, diagnostics=False)
            if self._browser:
                self._publish(key, origin="tính mới" if computed else "bộ đệm kernel")
                self._schedule_prefetch()
            return result
        # Hình trước, dòng trạng thái sau: ảnh mới được gửi ngay (không chờ trình duyệt xin khung
        # hình), nên chữ và hình đổi cùng lúc trên trang.
        self._refresh()
        self._status_with_figure(text, color)
        return result

    # ----- khung hình (renderer "frames") -----
    def _render_png(self):
        """Vẽ hình bằng Agg rồi mã hoá PNG (nén nhẹ: nhanh hơn nhiều mà ảnh chỉ lớn hơn chút ít)."""
        from PIL import Image

        canvas = self.fig.canvas
        if self._layers is not None:
            self._layers.draw()
        else:
            canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        out = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(
            out, format="png", compress_level=1
        )
        return out.getvalue()

    def _frame(self, values, origin):
        """Khung hình của trạng thái hiện tại của hình (đã vẽ cho ``values``)."""
        png = self._render_png()
        text, color = self._status_now
        return {
            "png": png,
            "status": self._status_html(
                text, color, diagnostics=True, values=self._browser_values(values)
            ),
            "values": self._browser_values(values),
            "origin": origin,
        }

    def _store(self, key, frame):
        self._frames[key] = frame
        self._frames.move_to_end(key)
        while len(self._frames) > 300:
            old, _ = self._frames.popitem(last=False)
            self._sent.discard(old)

    def _publish(self, key, origin, force=False):
        """Cho trình duyệt hiện khung hình của ``key`` (trạng thái hiện tại của hình): nếu trình duyệt
        đã có thì chỉ báo khoá, nếu chưa thì vẽ (hoặc lấy ảnh đã vẽ) và gửi kèm dòng trạng thái."""
        view = self.view
        values = self._browser_values(self.values)
        if not force and key in self._sent and key in self._frames:
            view.want = values
            return
        frame = None if force else self._frames.get(key)
        if frame is None:
            self._status_now = self._status_tuple
            frame = self._frame(self.values, origin)
            if self.last_error is None:
                self._store(key, frame)
        with view.hold_sync():
            view.snapshot_values = frame["values"]
            view.snapshot_status = frame["status"]
            view.snapshot_origin = frame["origin"]
            view.snapshot = frame["png"]
            view.want = values
        if self._browser:
            self._sent.add(key)

    def _on_view_msg(self, _widget, content, _buffers):
        if isinstance(content, dict) and content.get("type") == "hello":
            # Một khung nhìn mới (trang mới, tải lại trang): bộ đệm của nó chỉ có khung hình trong
            # trạng thái widget; các khung hình khác sẽ được gửi lại khi cần.
            self._browser = True
            self._sent = set()
            if content.get("prefetch") is False:
                self.view.prefetch = False
            snap = self.view.snapshot_values
            if snap == self._browser_values(self.values) and self.view.snapshot:
                self._sent.add(self._key())
            else:
                self._publish(self._key(), origin="khung nhìn mới")
            self._schedule_prefetch()

    def _on_prefetch_toggle(self, change):
        if change["new"]:
            self._schedule_prefetch()
        elif self._prefetch_handle is not None:
            self._prefetch_handle.cancel()
            self._prefetch_handle = None

    def _prefetch_candidates(self):
        """Các bộ giá trị nên tính sẵn, theo thứ tự: nấc kế tiếp theo chiều vừa kéo của điều khiển vừa
        đổi, nấc kia, rồi một nấc trước/sau của từng điều khiển khác, rồi thêm hai nấc theo chiều kéo."""
        cur = dict(self.values)
        names = list(self.controls)
        if self._last_moved in names:
            names.remove(self._last_moved)
            names.insert(0, self._last_moved)
        out = []
        for name in names:
            prev, nxt = _neighbours(self.controls[name], cur[name])
            pair = (nxt, prev) if self._last_dir >= 0 else (prev, nxt)
            out += [{**cur, name: v} for v in pair if v is not None]
        if names:
            name, v = names[0], cur[names[0]]
            for _ in range(2):
                prev, nxt = _neighbours(self.controls[name], v)
                v = nxt if self._last_dir >= 0 else prev
                if v is None:
                    break
                out.append({**cur, name: v})
        return out

    def _loop(self):
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.get_event_loop()

    def _schedule_prefetch(self, delay=0.2):
        if not (self._browser and self.prefetch_limit > 0 and self.view.prefetch):
            return
        try:
            loop = self._loop()
        except RuntimeError:  # pragma: no cover (không có vòng lặp sự kiện)
            return
        if self._prefetch_handle is not None:
            self._prefetch_handle.cancel()
        self._prefetch_handle = loop.call_later(delay, self._start_prefetch)

    def _start_prefetch(self):
        self._prefetch_handle = None
        if self._prefetch_task is None or self._prefetch_task.done():
            self._prefetch_task = self._loop().create_task(self._prefetch())

    async def _prefetch(self):
        """Tác vụ nền: vẽ sẵn các nấc kế bên và gửi sang trình duyệt, mỗi lần một khung hình. Giữa hai
        bước (sau khi tính, trước khi vẽ) nhường vòng lặp sự kiện: yêu cầu của người dùng tới trong lúc
        đó được phục vụ trước, rồi tác vụ chọn lại các nấc quanh giá trị mới."""
        done = 0
        while done < self.prefetch_limit and self._browser and self.view.prefetch:
            gen = self._generation
            todo = [
                v
                for v in self._prefetch_candidates()
                if self._key(v) not in self._sent and self._key(v) not in self._failed
            ]
            if not todo:
                return
            values = todo[0]
            key = self._key(values)
            try:
                frame = self._frames.get(key)
                if frame is None:
                    result, _ = self._compute(values, key)
                    await asyncio.sleep(0.002)
                    if gen != self._generation:
                        continue  # người dùng vừa đổi giá trị: chọn lại các nấc quanh giá trị mới
                    frame = self._render_other(values, result)
                    self._store(key, frame)
                self.view.send(
                    {
                        "type": "frame",
                        "values": frame["values"],
                        "status": frame["status"],
                        "origin": "tính sẵn",
                    },
                    [frame["png"]],
                )
                self._sent.add(key)
            except Exception:  # nấc này lỗi: để người dùng thấy lỗi khi tự chọn nó
                self._failed.add(key)
            done += 1
            await asyncio.sleep(0.005)

    def _render_other(self, values, result):
        """Vẽ khung hình cho ``values`` (không phải giá trị đang hiện) rồi trả hình về trạng thái hiện
        tại, để ``demo.fig``/``demo.axes`` luôn ứng với ``demo.values``."""
        try:
            message = self._draw(result, values)
            self._update_layout()
            self._status_now = self._message_for(message, result)
            return self._frame(values, "tính sẵn")
        finally:
            if self._last_result is not None:
                try:
                    self._draw(self._last_result, self.values)
                    self._update_layout()  # nhãn trục về đúng chỗ cho giá trị đang hiện
                except Exception:  # pragma: no cover (đã vẽ được giá trị này trước đó)
                    pass

    # ----- dòng trạng thái -----
    def _status_with_figure(self, text, color):
        """Đổi dòng trạng thái CÙNG LÚC với hình: với canvas ipympl đang hiển thị, hình mới chỉ được
        vẽ khi trình duyệt xin (draw_idle), nên chữ đợi tới sự kiện vẽ đó (`_on_draw`)."""
        if self._widget_canvas and getattr(self.fig.canvas, "_nblib_browser", False):
            self.message = text
            self._pending_status = (text, color)
        else:
            self._set_status(text, color)

    def _on_draw(self, _event):
        pending, self._pending_status = getattr(self, "_pending_status", None), None
        if pending is not None:
            self._set_status(*pending)

    def _status_html(self, text, color, diagnostics=True, values=None):
        value = f"<span style='color:{color}'>{html.escape(text)}</span>" if text else ""
        if (
            diagnostics
            and os.environ.get("NBLIB_DIAGNOSTICS")
            and self._kind in ("ipympl", "frames")
        ):
            # Cho kiểm thử trình duyệt: số cặp nhãn trục/nhãn vạch chia chồng nhau ở lần vẽ này.
            overlaps = self.label_overlaps()
            value += (
                f"<span hidden class='nblib-diag' data-redraws='{self.redraws}' "
                f"data-values='{html.escape(json.dumps(values), quote=True)}' "
                f"data-overlaps='{len(overlaps)}' "
                f"data-detail='{html.escape(repr(overlaps), quote=True)}'></span>"
            )
        return value

    def _set_status(self, text, color, diagnostics=True):
        self.message = text  # bản văn bản thuần của dòng trạng thái (để in hoặc kiểm thử)
        self._status_tuple = (text, color)
        self.status.value = self._status_html(text, color, diagnostics)

    def _refresh(self):
        if self._widget_canvas:
            self.fig.canvas.draw_idle()
        elif self._output is not None:
            from IPython.display import clear_output, display

            with self._output:
                clear_output(wait=True)
                display(self.fig)
        else:
            self.fig.canvas.draw()

    # ----- hiển thị -----
    def widget(self):
        """Hộp widget gồm các điều khiển, hình vẽ và dòng trạng thái."""
        controls = W.VBox(list(self.controls.values()))
        if self.view is not None:
            box = W.VBox([controls, self.view])  # dòng trạng thái nằm trong FigureView
        else:
            figure = self.fig.canvas if self._widget_canvas else self._output
            box = W.VBox([controls, figure, self.status])
        box.add_class("nblib-demo")
        return box

    def show(self):
        """Hiển thị bản demo trong notebook."""
        from IPython.display import display

        display(self.widget())

    def _ipython_display_(self):
        self.show()
