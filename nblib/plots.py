"""Các hình vẽ dùng chung, nhãn tiếng Việt. Mỗi hàm nhận một ``matplotlib.axes.Axes`` và trả về
các đối tượng vẽ (artist) để có thể cập nhật tại chỗ trong các bản demo."""

from __future__ import annotations

import numpy as np

from . import backend


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


def loss_curve(ax, history, label=None, per="bước"):
    """Đường chi phí theo từng bước (``per="bước"``) hoặc theo epoch (``per="epoch"``)."""
    values = history["loss"] if per == "bước" else history["epoch_loss"]
    (line,) = ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel("Bước cập nhật" if per == "bước" else "Epoch")
    ax.set_ylabel("Chi phí")
    ax.set_title("Đường cong hàm mất mát")
    return line


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


def layer_histograms(axes, activations, bins=50, range_=None):
    """Histogram kích hoạt của từng tầng trên các ``axes`` (một trục mỗi tầng)."""
    out = []
    for i, (ax, a) in enumerate(zip(axes, activations)):
        a = backend.to_numpy(a).ravel()
        out.append(ax.hist(a, bins=bins, range=range_)[2])
        ax.set_title(f"Tầng {i + 1}")
        ax.set_yticks([])
    return out


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
