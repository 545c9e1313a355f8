"""nblib.presentation.fastdraw: dán lại ảnh trục phải cho cùng ảnh như một lần vẽ thường (lệch ≤ 1/255)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nblib.presentation.fastdraw import AxisLayers
from nblib.presentation.widgets import Demo, _freeze_label_positions, log_slider


def _figure():
    fig = Figure(figsize=(8, 3), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(1, 2)
    (line,) = ax.semilogy(np.arange(10), np.exp(np.arange(10)), label="đường")
    ax.legend()
    ax.grid(True)
    ax.set_xlabel("bước lặp")
    ax.set_ylabel("độ lệch chuẩn")
    mesh = ax2.pcolormesh(np.random.default_rng(0).random((4, 4)))
    ax2.grid(True)  # lưới đè lên lưới màu: chỗ duy nhất hai cách làm tròn khác nhau
    twin = ax2.twinx()
    twin.plot([0, 4], [0, 1], color="k")
    twin.set_ylabel("tỉ lệ")
    ax2.set_title("lưới màu")
    # Như Demo: bố cục tính một lần rồi giữ nguyên, vị trí nhãn trục cố định.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    _freeze_label_positions(fig)
    return fig, line, mesh


def _pixels(fig):
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def _same(a, b):
    """Giống nhau tới 1/255 ở mỗi kênh (trộn lớp và vẽ thẳng làm tròn khác nhau ở chỗ lưới đè lên
    dữ liệu màu), và phần lớn điểm ảnh giống hệt."""
    diff = np.abs(a.astype(int) - b.astype(int))
    return diff.max() <= 1 and (diff > 0).mean() < 0.01


def _changes(fig, line, mesh):
    """Các thay đổi như khi kéo thanh trượt: dữ liệu, giới hạn trục (vạch chia đổi), nhãn."""
    ax, ax2, twin = fig.axes
    yield lambda: line.set_ydata(np.exp(np.arange(10) * 0.5))
    yield lambda: mesh.set_array(np.random.default_rng(1).random(16))
    yield lambda: ax.set_ylim(1e-3, 1e5)
    yield lambda: ax.set_ylabel("nhãn mới")
    yield lambda: twin.set_ylim(-1, 2)
    yield lambda: ax.tick_params(axis="x", labelcolor="tab:red")
    yield lambda: ax2.set_xlim(1, 3)
    yield lambda: line.set_ydata(np.exp(np.arange(10) * 0.2))


def test_fast_draw_matches_plain_draw_after_every_change():
    fig_fast, line_f, mesh_f = _figure()
    fig_plain, line_p, mesh_p = _figure()
    layers = AxisLayers(fig_fast)
    layers.draw()
    fig_plain.canvas.draw()
    assert _same(_pixels(fig_fast), _pixels(fig_plain))
    for change_f, change_p in zip(
        _changes(fig_fast, line_f, mesh_f), _changes(fig_plain, line_p, mesh_p)
    ):
        change_f()
        change_p()
        layers.draw()
        fig_plain.canvas.draw()
        assert _same(_pixels(fig_fast), _pixels(fig_plain))
    assert layers.hits > 0  # dữ liệu đổi mà trục không đổi: ảnh trục được dán lại
    assert (
        layers.misses > 6
    )  # mỗi trục vẽ lần đầu, và vẽ lại khi giới hạn, nhãn, kiểu vạch chia đổi


def test_only_draw_uses_layers():
    fig, line, _ = _figure()
    layers = AxisLayers(fig)
    fig.canvas.draw()
    fig.draw_without_rendering()
    assert layers.hits == layers.misses == 0


def _demo():
    def setup(d):
        (d.line,) = d.axes[0].semilogy([1, 2], [1, 2], label="std")
        d.axes[0].set_ylabel("độ lệch chuẩn")
        d.axes[0].set_xlabel("tầng")
        d.axes[0].legend()

    def draw(d, r, v):
        d.line.set_data(np.arange(1, 11), r * np.linspace(0.6, 0.65, 10))
        d.axes[0].relim()
        d.axes[0].autoscale_view()

    return Demo({"s": log_slider("hệ số", 1e-3, 10, 1)}, lambda s: s, draw, setup)


@pytest.mark.parametrize("values", [(1.0, 1.02, 1.05, 1e-3, 3.0, 1.0)])
def test_demo_png_uses_fast_draw_and_matches(values, monkeypatch):
    d = _demo()
    assert d._layers is not None
    for v in values:
        d.update(s=v)
        d._render_png()
        fast = _pixels(d.fig)
        d.fig.canvas.draw()
        assert _same(fast, _pixels(d.fig)), v
    assert d._layers.hits > 0


def test_fast_draw_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("NBLIB_FASTDRAW", "0")
    assert _demo()._layers is None
