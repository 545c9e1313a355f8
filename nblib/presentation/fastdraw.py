"""Vẽ lại nhanh hình của một ``Demo``: ảnh của các trục (vạch chia, nhãn) được giữ lại và dán lại.

Đây là mẹo tăng tốc duy nhất của phần vẽ, nằm riêng ở đây. Khi kéo thanh trượt, phần tốn thời gian nhất
của một lần vẽ Agg là chữ: nhãn vạch chia, nhãn trục, lưới (đo trên các demo: khoảng hai phần ba thời gian
vẽ). Phần đó thường không đổi giữa hai lần kéo (cùng giới hạn trục, cùng vạch chia, cùng nhãn). ``AxisLayers``
vẽ mỗi trục (``XAxis``/``YAxis`` của matplotlib) một lần vào một lớp RGBA riêng, cắt sát phần có điểm ảnh,
rồi ở các lần sau dán lớp đó vào **đúng chỗ của trục trong thứ tự vẽ** (zorder) thay vì vẽ lại. Dữ liệu
(đường, điểm, lưới màu, cột, chú giải, tiêu đề) vẫn được vẽ lại mỗi lần như thường.

Lớp được dùng lại chỉ khi mọi thứ trục vẽ ra đều như cũ: cỡ và dpi của hình, khung trục, khoảng nhìn, thang
đo, vị trí và chữ của từng vạch chia, nhãn trục (chữ, vị trí, phông, màu), chữ bù (offset), kiểu vạch chia.
Khác một thứ là vẽ lại như thường (và giữ lớp mới). Trục còn tự đặt nhãn (``_autolabelpos``, ví dụ lúc tính
bố cục) thì luôn vẽ như thường. Kết quả giống ``canvas.draw()`` thường tới từng điểm ảnh, trừ chỗ lưới
đè lên dữ liệu có màu: ở đó trộn lớp và vẽ thẳng làm tròn khác nhau, lệch tối đa 1/255 ở một kênh màu.
Kiểm thử: ``tests/test_fastdraw.py`` và mỗi ``tests/test_lecture_NN.py`` so hai cách trên mọi demo.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg

_MAX_LAYERS_PER_AXIS = 12


class AxisLayers:
    """Giữ ảnh đã vẽ của từng trục của ``fig`` để dán lại khi trục không đổi.

    ``layers.draw()`` thay cho ``fig.canvas.draw()`` (canvas Agg). Ngoài ``draw()``, các trục vẽ như thường
    (``savefig``, ``draw_without_rendering``...).
    """

    def __init__(self, fig):
        self.fig = fig
        self.hits = 0
        self.misses = 0
        self._active = False
        self._installed = set()
        self._layers = {}
        self._offscreen = None
        self._install()

    def _install(self):
        for ax in self.fig.axes:
            if getattr(ax, "name", "") != "rectilinear":
                continue  # trục 3D, trục cực…: vẽ như thường
            for axis in (ax.xaxis, ax.yaxis):
                if id(axis) not in self._installed:
                    self._installed.add(id(axis))
                    self._layers[id(axis)] = OrderedDict()
                    axis.draw = self._wrap(axis, type(axis).draw.__get__(axis))

    def draw(self):
        """Vẽ hình lên canvas Agg của nó, dán lại các trục không đổi."""
        self._install()  # trục thêm sau (ví dụ twinx trong setup)
        with self._on():
            self.fig.canvas.draw()

    @contextlib.contextmanager
    def _on(self):
        self._active = True
        try:
            yield
        finally:
            self._active = False

    # ----- một trục -----
    def _wrap(self, axis, plain_draw):
        def draw(renderer, *args, **kwargs):
            if not self._active or not isinstance(renderer, RendererAgg) or axis._autolabelpos:
                return plain_draw(renderer, *args, **kwargs)
            key = self._key(axis, renderer)
            layers = self._layers[id(axis)]
            layer = layers.get(key)
            if layer is None:
                self.misses += 1
                layer = self._render(axis, plain_draw, renderer)
                layers[key] = layer
                while len(layers) > _MAX_LAYERS_PER_AXIS:
                    layers.popitem(last=False)
            else:
                self.hits += 1
                layers.move_to_end(key)
                axis.stale = False
            if layer[0] is not None:
                image, x0, y0 = layer
                gc = renderer.new_gc()
                renderer.draw_image(gc, x0, y0, image)
                gc.restore()

        return draw

    def _render(self, axis, plain_draw, renderer):
        """Vẽ trục vào một canvas trong suốt cùng cỡ, cắt sát phần có điểm ảnh. Trả về (ảnh lật dọc
        như ``draw_image`` cần, x trái, y dưới), hoặc (None, 0, 0) nếu trục không vẽ gì."""
        size = (renderer.width, renderer.height, renderer.dpi)
        if self._offscreen is None or self._offscreen[0] != size:
            self._offscreen = (size, RendererAgg(*size))
        off = self._offscreen[1]
        off.clear()
        plain_draw(off)
        buf = np.asarray(off.buffer_rgba())
        rows = np.flatnonzero(buf[..., 3].any(axis=1))
        if rows.size == 0:
            return None, 0, 0
        cols = np.flatnonzero(buf[rows[0] : rows[-1] + 1, :, 3].any(axis=0))
        y_top, y_end = rows[0], rows[-1] + 1
        x0, x_end = cols[0], cols[-1] + 1
        image = np.ascontiguousarray(buf[y_top:y_end, x0:x_end][::-1])
        return image, int(x0), int(renderer.height - y_end)

    @staticmethod
    def _key(axis, renderer):
        """Mọi thứ quyết định ảnh của trục. Tính vạch chia (``_update_ticks``) như lúc vẽ."""
        ax = axis.axes
        ticks = axis._update_ticks()
        tick_state = tuple(
            (
                float(t.get_loc()),
                t.label1.get_text(),
                t.label2.get_text(),
                t.label1.get_visible(),
                t.label2.get_visible(),
                t.tick1line.get_visible(),
                t.tick2line.get_visible(),
                t.gridline.get_visible(),
            )
            for t in ticks
        )
        label, offset = axis.label, axis.offsetText
        return (
            renderer.width,
            renderer.height,
            renderer.dpi,
            tuple(ax.bbox.bounds),
            tuple(float(v) for v in axis.get_view_interval()),
            axis.get_scale(),
            axis.get_visible(),
            tick_state,
            repr(axis._major_tick_kw),
            repr(axis._minor_tick_kw),
            label.get_text(),
            label.get_visible(),
            tuple(label.get_transform().transform(label.get_position())),
            hash(label.get_fontproperties()),
            str(label.get_color()),
            label.get_rotation(),
            offset.get_text(),
            tuple(offset.get_position()),
        )
