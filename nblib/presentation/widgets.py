"""Khối xây dựng cho mọi bản demo tương tác trong bài giảng.

``Demo`` gồm: các điều khiển (thanh trượt, danh sách chọn), một hình vẽ được tạo *một lần* rồi cập nhật
tại chỗ (với ipympl trong JupyterLab/Voilà: ``draw_idle``, không nhấp nháy, không nhân đôi hình), kết
quả tính toán được lưu đệm theo từng bộ giá trị, và một dòng trạng thái nói "phân kỳ" thay vì in lỗi
hay hàng loạt cảnh báo. ``demo.update(**giá_trị)`` gọi được cả khi không có giao diện (kiểm thử).

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

import html
import math
import os
import warnings

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib import transforms as mtransforms
from matplotlib.figure import Figure

from . import plots


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


def _make_figure(nrows, ncols, figsize, **kw):
    """Tạo hình: canvas ipympl (widget, cập nhật tại chỗ) khi chạy trong kernel Jupyter, nếu không thì
    canvas Agg thường (không cần giao diện). ``NBLIB_FIGURES=inline`` ép dùng ảnh PNG tĩnh."""
    fig = Figure(figsize=figsize, layout="constrained")
    mode = os.environ.get("NBLIB_FIGURES", "widget")
    if mode == "widget" and _in_kernel():
        try:
            import matplotlib

            previous = matplotlib.get_backend()
            from ipympl.backend_nbagg import Canvas, FigureManager

            if matplotlib.get_backend() != previous:  # nhập ipympl đổi backend của pyplot: trả lại
                _restore_backend(previous)

            # Hình rộng hơn cột notebook bị cắt (phải cuộn ngang): giới hạn bề rộng theo điểm ảnh
            # bằng cách giảm dpi (hình giữ nguyên bố cục, chỉ nhỏ lại). NBLIB_FIGURE_MAX_PX để đổi.
            # (dpi đặt khi tạo Figure: ipympl tính lại dpi theo màn hình từ giá trị ban đầu này.)
            default_px = "1100" if plots.presenting() else "860"
            max_px = float(os.environ.get("NBLIB_FIGURE_MAX_PX", default_px))
            if figsize[0] * fig.dpi > max_px:
                if max_px / figsize[0] < _MIN_DPI:
                    # Hình quá rộng (ví dụ ba trục cạnh nhau): giảm dpi thôi thì chữ quá nhỏ. Thu hẹp
                    # hình (tính theo inch) để dpi không dưới _MIN_DPI; chữ giữ cỡ điểm nên dễ đọc.
                    shrink = max_px / _MIN_DPI / figsize[0]
                    figsize = (figsize[0] * shrink, figsize[1] * max(shrink, 0.85))
                fig = Figure(figsize=figsize, dpi=max_px / figsize[0], layout="constrained")
            canvas = Canvas(fig)
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.toolbar_visible = False
            canvas.resizable = False
            canvas.on_msg(_resend_chrome_state)
            FigureManager(canvas, 0)
            axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
            return fig, list(axes.ravel()), True
        except Exception:  # ipympl không dùng được: quay về ảnh tĩnh
            fig = Figure(figsize=figsize, layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, list(axes.ravel()), False


def _freeze_label_positions(fig):
    """Giữ nguyên vị trí tiêu đề và nhãn trục đã tính ở lần vẽ đầu (toạ độ theo khung trục, nên vẫn
    đúng khi ipympl đổi dpi theo màn hình). Mặc định matplotlib đo lại hộp bao của mọi nhãn vạch chia ở
    mỗi lần vẽ để đặt tiêu đề và nhãn trục: khoảng 40% thời gian vẽ lại của một hình hai trục log."""
    for ax in fig.axes:
        if getattr(ax, "name", "") != "rectilinear" or not hasattr(ax, "_autotitlepos"):
            continue  # trục 3D, trục cực…: giữ cách đặt nhãn mặc định
        ax._autotitlepos = False
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            display = label.get_transform().transform(label.get_position())
            axis.set_label_coords(*ax.transAxes.inverted().transform(display))


def has_nonfinite(result):
    """True nếu ``result`` (số, mảng numpy hoặc tensor torch, dict lịch sử…) chứa NaN/vô cực hoặc có
    trạng thái "phân kỳ"."""
    from .. import backend

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
      đặt False nếu nhãn trục thay đổi độ rộng nhiều giữa các lần cập nhật.
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
        with matplotlib.rc_context(plots.style()):
            self.fig, self.axes, self._widget_canvas = _make_figure(
                nrows, ncols, figsize, **subplot_kw
            )
        self._pending_status = None
        if self._widget_canvas:
            self.fig.canvas.mpl_connect("draw_event", self._on_draw)
        if title:
            self.fig.suptitle(title)
        self._output = None if self._widget_canvas else W.Output()
        self.values = {name: w.value for name, w in self.controls.items()}
        self._syncing = False
        self._freeze = freeze_layout
        self._ticks = None
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

    # ----- bố cục -----
    def _tick_texts(self):
        return [
            tuple(t.get_text() for t in axis.get_ticklabels(which="both"))
            for ax in self.fig.axes
            for axis in (ax.xaxis, ax.yaxis)
        ]

    def _relayout(self):
        """Tính lại bố cục (constrained layout) và vị trí tiêu đề/nhãn trục theo nhãn vạch chia hiện
        tại, rồi giữ nguyên cho các lần vẽ sau."""
        for ax in self.fig.axes:
            if getattr(ax, "name", "") == "rectilinear" and hasattr(ax, "_autotitlepos"):
                ax._autotitlepos = True
                # Trả nhãn trục về cách đặt tự động của matplotlib (toạ độ khung trục × điểm ảnh).
                ax.xaxis._autolabelpos = True
                ax.xaxis.label.set_transform(
                    mtransforms.blended_transform_factory(
                        ax.transAxes, mtransforms.IdentityTransform()
                    )
                )
                ax.yaxis._autolabelpos = True
                ax.yaxis.label.set_transform(
                    mtransforms.blended_transform_factory(
                        mtransforms.IdentityTransform(), ax.transAxes
                    )
                )
        self.fig.set_layout_engine("constrained")
        self.fig.draw_without_rendering()
        self.fig.set_layout_engine("none")
        _freeze_label_positions(self.fig)
        self._ticks = self._tick_texts()

    def _layout_is_stale(self):
        """True nếu nhãn vạch chia đã khác lần tính bố cục trước (cần đặt lại nhãn trục)."""
        if not self._freeze or self._ticks is None:
            return False
        # Cập nhật vị trí và chữ của các vạch chia mà không vẽ (rẻ hơn nhiều so với một lần vẽ).
        for ax in self.fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                axis._update_ticks()
        return self._tick_texts() != self._ticks

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
    def _on_change(self, _change):
        if not self._syncing:
            self.update(**{name: w.value for name, w in self.controls.items()})

    def _key(self):
        return tuple(sorted((k, repr(v)) for k, v in self.values.items()))

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
        key = self._key()
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if self.cache is not None and key in self.cache:
                    result = self.cache[key]
                else:
                    result = self.compute(**self.values)
                    if self.cache is not None:
                        self.cache[key] = result
                message = self.draw(self, result, dict(self.values))
        except Exception as exc:  # hiện lỗi gọn trong dòng trạng thái, không in traceback
            self.last_error = exc
            self._set_status(f"Lỗi: {exc}", "#b00020")
            return None
        self.last_error = None
        self.redraws += 1
        if self._layout_is_stale():
            self._relayout()
        # Hình trước, dòng trạng thái sau: ảnh mới được gửi ngay (không chờ trình duyệt xin khung
        # hình), nên chữ và hình đổi cùng lúc trên trang.
        self._refresh()
        if message:
            diverged = "phân kỳ" in str(message).lower()
            self._status_with_figure(str(message), "#b00020" if diverged else "#333")
        elif has_nonfinite(result):
            self._status_with_figure(
                "Kết quả phân kỳ (NaN hoặc vô cực): hãy giảm tốc độ học.", "#b00020"
            )
        else:
            self._status_with_figure("", "#333")
        return result

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

    def _set_status(self, text, color):
        self.message = text  # bản văn bản thuần của dòng trạng thái (để in hoặc kiểm thử)
        value = f"<span style='color:{color}'>{html.escape(text)}</span>" if text else ""
        if os.environ.get("NBLIB_DIAGNOSTICS") and self._widget_canvas:
            # Cho kiểm thử trình duyệt: số cặp nhãn trục/nhãn vạch chia chồng nhau ở lần vẽ này.
            overlaps = self.label_overlaps()
            value += (
                f"<span hidden class='nblib-diag' data-redraws='{self.redraws}' "
                f"data-overlaps='{len(overlaps)}' "
                f"data-detail='{html.escape(repr(overlaps), quote=True)}'></span>"
            )
        self.status.value = value

    def _refresh(self):
        if self._widget_canvas:
            self.fig.canvas.draw_idle()
        elif self._output is not None and _in_kernel():
            from IPython.display import clear_output, display

            with self._output:
                clear_output(wait=True)
                display(self.fig)
        else:
            self.fig.canvas.draw()

    # ----- hiển thị -----
    def widget(self):
        """Hộp widget gồm các điều khiển, hình vẽ và dòng trạng thái."""
        figure = self.fig.canvas if self._widget_canvas else self._output
        return W.VBox([W.VBox(list(self.controls.values())), figure, self.status])

    def show(self):
        """Hiển thị bản demo trong notebook."""
        from IPython.display import display

        display(self.widget())

    def _ipython_display_(self):
        self.show()
