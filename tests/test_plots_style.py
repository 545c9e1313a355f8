"""Phong cách hình chung (nblib.presentation.plots): dấu phẩy thập phân, bảng màu/dấu theo lớp, trục không phóng đại
dữ liệu phẳng, và Demo đặt lại nhãn trục khi nhãn vạch chia đổi (không chồng nhãn)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from nblib.presentation import plots
from nblib.presentation.widgets import Demo, log_slider


def test_number_format_uses_decimal_comma():
    assert plots.fmt(0.0251) == "0,0251"
    assert plots.fmt(68.9) == "68,9"
    assert plots.fmt(-1.5) == "-1,5"
    assert plots.fmt(2.51e-5) == "2,51·10⁻⁵"
    assert plots.percent(0.689) == "68,9 %"
    assert plots.fmt(float("nan")) == "—"


def test_tick_formatters_use_decimal_comma():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0.2, 0.25])
    plots.style_axes(ax)
    fig.draw_without_rendering()
    labels = [t.get_text() for t in ax.yaxis.get_ticklabels()]
    assert labels and all("." not in t for t in labels)
    assert any("{,}" in t for t in labels), labels


def test_custom_formatter_is_kept():
    from matplotlib import ticker

    fig = Figure()
    ax = fig.subplots()
    pct = ticker.PercentFormatter(1.0)
    ax.yaxis.set_major_formatter(pct)
    plots.style_axes(ax)
    assert ax.yaxis.get_major_formatter() is pct


def test_flat_data_is_not_exaggerated():
    lo, hi = plots.flat_limits(0.9816, 0.9822, min_span=0.05)
    assert np.isclose(hi - lo, 0.05)
    assert lo < 0.9816 < 0.9822 < hi
    lo, hi = plots.flat_limits(0.0, 1.0, min_span=0.05)
    assert np.isclose(lo, -0.05) and np.isclose(hi, 1.05)


def test_classes_get_distinct_colours_and_markers():
    fig = Figure()
    ax = fig.subplots()
    X = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 0.0, 1.0]])
    y = np.array([0, 1, 0, 1])
    a, b = plots.scatter_classes(ax, X, y)
    assert a.get_label() == "lớp 0" and b.get_label() == "lớp 1"
    assert not np.allclose(a.get_facecolor(), b.get_facecolor())
    assert a.get_paths()[0] != b.get_paths()[0] or plots.MARKERS[0] != plots.MARKERS[1]
    assert len(set(plots.PALETTE)) == len(plots.PALETTE) >= 8


def _log_demo():
    def setup(d):
        (d.line,) = d.axes[0].semilogy([1, 2], [1, 2])
        d.axes[0].set_ylabel("độ lệch chuẩn")
        d.axes[0].set_xlabel("tầng")

    def draw(d, r, v):
        d.line.set_data(np.arange(1, 11), r * np.linspace(0.6, 0.65, 10))
        d.axes[0].relim()
        d.axes[0].autoscale_view()

    return Demo({"s": log_slider("hệ số", 1e-3, 10, 1)}, lambda s: s, draw, setup)


def test_demo_replaces_labels_when_tick_labels_change():
    d = _log_demo()
    positions = set()
    for v in (0.5, 1e-3, 3.0, 0.02):
        d.update(s=v)
        d.fig.canvas.draw()
        assert d.label_overlaps() == [], v
        positions.add(round(float(d.axes[0].yaxis.label.get_position()[0]), 4))
    assert len(positions) > 1  # nhãn trục dời theo độ rộng nhãn vạch chia


def test_frozen_labels_would_overlap_without_relayout():
    # Đối chứng: giữ nguyên vị trí của lần vẽ đầu thì nhãn trục đè lên nhãn vạch chia rộng hơn.
    d = _log_demo()
    d._layout_is_stale = lambda: False
    overlaps = []
    for v in (0.5, 1e-3, 3.0):
        d.update(s=v)
        d.fig.canvas.draw()
        overlaps += d.label_overlaps()
    assert overlaps


def test_demo_text_sizes_follow_course_style():
    d = _log_demo()
    ax = d.axes[0]
    assert ax.yaxis.label.get_fontsize() >= 12
    assert ax.yaxis.get_ticklabels(which="both")[0].get_fontsize() >= 11


def test_snap_limits_round_out_to_nice_values():
    assert plots.snap_limits(0.0123, 0.87, log=True) == (0.01, 1.0)
    assert plots.snap_limits(1e-3, 1e-3, log=True) == (1e-3, 1e-2)
    assert plots.snap_limits(0, 0.123) == (0.0, 0.15)
    assert plots.snap_limits(0, 4.3) == (0.0, 5.0)
    assert plots.snap_limits(-0.3, 2.7) == (-1.0, 3.0)
    # Dữ liệu đổi chút ít giữa hai lần kéo: giới hạn không đổi (trục không nhảy).
    assert plots.snap_limits(0, 0.118) == plots.snap_limits(0, 0.131)
    lo, hi = plots.snap_limits(0.37, 0.42)
    assert lo <= 0.37 and hi >= 0.42


def _overlapping_pairs(fig, texts):
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    return sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def _scatter_axes(pts):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(5, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.scatter(*pts)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    return fig, ax


def test_label_points_places_labels_without_overlap():
    pts = np.random.default_rng(0).normal(scale=0.15, size=(2, 12))
    words = ["ông", "bà", "bố", "mẹ", "anh", "chị", "chú", "cô", "cậu", "mợ", "mèo", "chó"]
    naive, ax = _scatter_axes(pts)
    plain = [
        ax.annotate(w, p, xytext=(3, 3), textcoords="offset points") for w, p in zip(words, pts.T)
    ]
    assert _overlapping_pairs(naive, plain) > 0  # đối chứng: đặt cùng một phía thì nhãn chồng nhau

    fig, ax = _scatter_axes(pts)
    texts = plots.label_points(ax, pts, words)
    assert [t.get_text() for t in texts] == words
    assert _overlapping_pairs(fig, texts) == 0


def test_prefetched_frame_leaves_labels_right_for_current_value():
    # Vẽ sẵn một nấc có nhãn vạch chia rộng hơn rồi trả hình về giá trị đang hiện: nhãn trục cũng về
    # đúng chỗ của giá trị đang hiện (như một Demo chỉ vẽ giá trị đó).
    d, ref = _log_demo(), _log_demo()
    d.update(s=0.5)
    ref.update(s=0.5)
    frame = d._render_other({"s": 1e-3}, 1e-3)
    assert frame["png"][:4] == b"\x89PNG"
    d.fig.canvas.draw()
    ref.fig.canvas.draw()
    assert d.label_overlaps() == []
    pos = d.axes[0].yaxis.label.get_position()
    assert np.allclose(pos, ref.axes[0].yaxis.label.get_position(), atol=1e-3), pos
