"""Các hình vẽ dùng chung, nhãn tiếng Việt. Mỗi hàm nhận một ``matplotlib.axes.Axes`` và trả về
các đối tượng vẽ (artist) để có thể cập nhật tại chỗ trong các bản demo."""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib import ticker

from .. import backend
from ..numfmt import comma, fmt, percent  # noqa: F401 — bài giảng nhập từ đây

# ----- phong cách chung của khoá học -----

# Bảng màu Okabe–Ito: phân biệt được với mọi dạng mù màu phổ biến; mỗi lớp còn có dấu riêng (MARKERS)
# để không phụ thuộc màu (in đen trắng, máy chiếu nhạt).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def presenting():
    """True khi đang trình chiếu (``make demo`` đặt NBLIB_PRESENT=1): chữ to hơn một bậc."""
    return os.environ.get("NBLIB_PRESENT") == "1"


def style():
    """rcParams của khoá học: cỡ chữ đọc được ở cỡ hình hiển thị (nhãn 12–13 pt, vạch chia 11–12 pt, chú
    thích 11 pt; khi trình chiếu +1 pt), bảng màu PALETTE, lưới nhạt."""
    from cycler import cycler

    bump = 1 if presenting() else 0
    return {
        "font.size": 12 + bump,
        "axes.titlesize": 13 + bump,
        "axes.labelsize": 12 + bump,
        "xtick.labelsize": 11 + bump,
        "ytick.labelsize": 11 + bump,
        "legend.fontsize": 11 + bump,
        "figure.titlesize": 14 + bump,
        "axes.prop_cycle": cycler(color=PALETTE),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "lines.linewidth": 2.0,
        "lines.markersize": 6,
        "axes.formatter.use_mathtext": True,
    }


def _comma(text):
    return text.replace(".", "{,}") if "$" in text else text.replace(".", ",")


class CommaFormatter(ticker.ScalarFormatter):
    """Nhãn vạch chia với dấu phẩy thập phân (0,25 thay cho 0.25), theo glossary.md."""

    def __call__(self, x, pos=None):
        return _comma(super().__call__(x, pos))

    def format_data_short(self, value):
        return _comma(super().format_data_short(value))


class CommaLogFormatter(ticker.LogFormatterSciNotation):
    """Nhãn trục log (10⁻², 3×10⁻¹) với dấu phẩy thập phân ở phần hệ số."""

    def __call__(self, x, pos=None):
        return _comma(super().__call__(x, pos))


def style_axes(ax):
    """Áp dấu phẩy thập phân và đủ vạch chia cho một trục (gọi sau khi đặt thang log/tuyến tính)."""
    for axis in (ax.xaxis, ax.yaxis):
        major = axis.get_major_formatter()
        # Chỉ thay định dạng mặc định của matplotlib; định dạng riêng mà bài giảng đã đặt được giữ.
        if type(major) not in (ticker.ScalarFormatter, ticker.LogFormatterSciNotation):
            continue
        if axis.get_scale() == "log":
            # Đủ vạch chia trên trục log: vạch chính mỗi thập phân, vạch phụ 2 và 5 có nhãn khi trục
            # hẹp (ít hơn khoảng hai thập phân), để trục không chỉ có hai nhãn.
            axis.set_major_locator(ticker.LogLocator(base=10, numticks=12))
            axis.set_minor_locator(ticker.LogLocator(base=10, subs=(2.0, 5.0), numticks=12))
            axis.set_major_formatter(CommaLogFormatter())
            axis.set_minor_formatter(
                CommaLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5))
            )
        elif axis.get_scale() == "linear":
            axis.set_major_formatter(CommaFormatter(useMathText=True))


def style_figure(fig):
    for ax in fig.axes:
        if getattr(ax, "name", "") == "rectilinear":
            style_axes(ax)


def flat_limits(lo, hi, min_span):
    """Giới hạn trục không phóng đại dữ liệu phẳng: khoảng ít nhất ``min_span`` quanh dữ liệu (ví dụ
    0,9816–0,9822 vẽ trên một khoảng rộng 0,05 thay vì trông như nhiễu lớn)."""
    lo, hi = float(lo), float(hi)
    if hi - lo >= min_span:
        pad = 0.05 * (hi - lo)
        return lo - pad, hi + pad
    mid = 0.5 * (lo + hi)
    return mid - min_span / 2, mid + min_span / 2


def snap_limits(lo, hi, log=False):
    """Giới hạn trục làm tròn ra ngoài tới mốc "đẹp": thang log tới luỹ thừa của 10 (1, 10, 100…),
    thang tuyến tính tới bội của bước 1–2–5. Trục của demo chỉ nhảy khi dữ liệu vượt qua một mốc
    thay vì đổi ở mỗi lần kéo: lớp dễ theo dõi hơn, và ảnh trục vẽ sẵn được dùng lại
    (``nblib.presentation.fastdraw``)."""
    lo, hi = float(lo), float(hi)
    if log:
        lo, hi = max(lo, 1e-300), max(hi, 1e-300)
        a, b = math.floor(math.log10(lo) + 1e-9), math.ceil(math.log10(hi) - 1e-9)
        if b <= a:
            b = a + 1
        return 10.0**a, 10.0**b
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / 5
    step = 10 ** math.floor(math.log10(raw))
    step *= next(k for k in (1, 2, 5, 10) if k * step >= raw - 1e-12)
    return round(math.floor(lo / step + 1e-9) * step, 12), round(
        math.ceil(hi / step - 1e-9) * step, 12
    )


def scatter_classes(ax, X, y, s=22, **kwargs):
    """Điểm dữ liệu theo lớp: mỗi lớp một màu của PALETTE và một dấu riêng, viền trắng."""
    x = backend.to_numpy(X)
    labels = np.asarray(backend.to_numpy(y)).ravel()
    out = []
    for k, c in enumerate(np.unique(labels)):
        m = labels == c
        out.append(
            ax.scatter(
                x[0, m],
                x[1, m],
                s=s,
                c=PALETTE[k % len(PALETTE)],
                marker=MARKERS[k % len(MARKERS)],
                edgecolors="white",
                linewidths=0.5,
                label=f"lớp {fmt(c)}",
                **kwargs,
            )
        )
    return out


# Các vị trí thử cho nhãn của một điểm (điểm ảnh × 1/72 inch, căn lề tương ứng), theo thứ tự ưu tiên.
_LABEL_SPOTS = [
    ((4, 4), "left", "bottom"),
    ((4, -4), "left", "top"),
    ((-4, 4), "right", "bottom"),
    ((-4, -4), "right", "top"),
    ((0, 7), "center", "bottom"),
    ((0, -7), "center", "top"),
    ((7, 0), "left", "center"),
    ((-7, 0), "right", "center"),
]
# Vòng thứ hai, xa điểm hơn (khi các điểm quá sát nhau).
_LABEL_SPOTS += [((3 * dx, 3 * dy), ha, va) for (dx, dy), ha, va in _LABEL_SPOTS]


def label_points(ax, points, labels, **text_kw):
    """Ghi nhãn cho các điểm ``points`` (2, n) mà các nhãn không đè lên nhau: mỗi nhãn thử lần lượt
    mười sáu vị trí quanh điểm của nó (tám vị trí sát điểm, rồi tám vị trí xa hơn) và lấy vị trí đầu
    tiên không chồng lên nhãn đã đặt (không có thì lấy vị trí chồng ít nhất). Gọi khi giới hạn trục và
    bố cục hình đã cố định. Trả về danh sách các ``Annotation``."""
    renderer = ax.figure.canvas.get_renderer()
    pts = np.asarray(points, dtype=float)
    placed, out = [], []
    for (x, y), text in zip(pts.T, labels):
        best = None
        for offset, ha, va in _LABEL_SPOTS:
            ann = ax.annotate(
                text, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va, **text_kw
            )
            box = ann.get_window_extent(renderer)
            clash = sum(box.overlaps(other) for other in placed)
            if best is None or clash < best[0]:
                if best is not None:
                    best[1].remove()
                best = (clash, ann, box)
            else:
                ann.remove()
            if clash == 0:
                break
        placed.append(best[2])
        out.append(best[1])
    return out


def grid_points(X, resolution=200, margin=0.5):
    """Lưới điểm phủ dữ liệu 2D ``X`` (2, m): trả về (xx, yy, điểm (2, resolution²))."""
    x = backend.to_numpy(X)
    x0 = np.linspace(x[0].min() - margin, x[0].max() + margin, resolution)
    x1 = np.linspace(x[1].min() - margin, x[1].max() + margin, resolution)
    xx, yy = np.meshgrid(x0, x1)
    return xx, yy, np.stack([xx.ravel(), yy.ravel()])


def decision_boundary(ax, predict_fn, X, y, resolution=200, cmap="coolwarm", alpha=0.3):
    """Tô màu vùng quyết định của ``predict_fn`` (nhận (2, k), trả về nhãn) và vẽ các điểm dữ liệu."""
    xx, yy, pts = grid_points(X, resolution)
    zz = backend.to_numpy(predict_fn(pts)).reshape(xx.shape)
    mesh = ax.pcolormesh(xx, yy, zz, cmap=cmap, alpha=alpha, shading="auto")
    x = backend.to_numpy(X)
    pts_artist = ax.scatter(
        x[0], x[1], c=backend.to_numpy(y), cmap=cmap, s=12, edgecolors="k", linewidths=0.3
    )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("Ranh giới quyết định")
    return mesh, pts_artist


def accuracy_curves(ax, history):
    """Độ chính xác trên tập huấn luyện và tập kiểm định theo epoch."""
    lines = []
    epochs = np.arange(1, len(history["train_acc"]) + 1)
    lines += ax.plot(epochs, history["train_acc"], label="huấn luyện")
    if history.get("val_acc"):
        lines += ax.plot(epochs, history["val_acc"], label="kiểm định")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Độ chính xác")
    ax.set_title("Độ chính xác theo epoch")
    ax.legend()
    return lines


def loss_surface(ax, f, xlim=(-2, 2), ylim=(-2, 2), levels=30, resolution=200):
    """Đường đồng mức của hàm hai biến ``f(w1, w2)`` (nhận lưới numpy)."""
    w1, w2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    cs = ax.contour(w1, w2, f(w1, w2), levels=levels, cmap="viridis", linewidths=0.7)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title("Mặt hàm mất mát")
    return cs


def trajectory(ax, path, label=None, **kwargs):
    """Quỹ đạo tham số (danh sách điểm 2D) của một thuật toán tối ưu."""
    p = np.asarray([backend.to_numpy(q) for q in path]).reshape(len(path), -1)
    (line,) = ax.plot(p[:, 0], p[:, 1], marker="o", markersize=2, label=label, **kwargs)
    return line


def show(fig=None):
    """Hiện hình theo phong cách của khoá học (dấu phẩy thập phân ở nhãn vạch chia, đủ vạch chia trên
    trục log: ``style_figure``), rồi ``plt.show()``."""
    import matplotlib.pyplot as plt

    style_figure(plt.gcf() if fig is None else fig)
    plt.show()
