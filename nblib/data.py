"""Bộ dữ liệu nhỏ, sinh offline với seed cố định (không tải gì từ Internet).

Mọi hàm trả về mảng numpy: X có hình dạng (n_x, m) — mỗi cột là một mẫu — và nhãn nguyên y (m,).
Mô hình (``nblib.model.MLP``) tự chuyển dữ liệu sang backend khi huấn luyện.
"""

from __future__ import annotations

import numpy as np

from . import backend


def xor():
    """Bốn mẫu của bài toán XOR: X (2, 4), y (4,) = [0, 1, 1, 0]."""
    X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def spiral(n_per_class=100, classes=3, noise=0.2, seed=0):
    """Dữ liệu xoắn ốc (như CS231n): ``classes`` nhánh, mỗi nhánh ``n_per_class`` điểm 2D."""
    gen = backend.rng(seed)
    X, y = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = (
            np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class)
            + gen.standard_normal(n_per_class) * noise
        )
        X.append(np.stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, c))
    return np.concatenate(X, axis=1), np.concatenate(y)


def circles(n=300, noise=0.1, factor=0.5, seed=0):
    """Hai đường tròn đồng tâm (lớp 1 ở trong), dùng ``sklearn.datasets.make_circles``."""
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return X.T.copy(), y.astype(np.int64)


def moons(n=300, noise=0.2, seed=0):
    """Hai nửa vầng trăng đan vào nhau, dùng ``sklearn.datasets.make_moons``."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.T.copy(), y.astype(np.int64)


def blobs(n=300, centers=3, std=1.0, seed=0):
    """Các cụm Gauss 2D, dùng ``sklearn.datasets.make_blobs``."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, centers=centers, cluster_std=std, random_state=seed)
    return X.T.copy(), y.astype(np.int64)


def split(X, y, val=0.2, test=0.2, seed=0):
    """Chia ngẫu nhiên (theo cột) thành tập huấn luyện, kiểm định và kiểm tra."""
    m = X.shape[1]
    perm = backend.rng(seed).permutation(m)
    n_test, n_val = int(round(m * test)), int(round(m * val))
    idx = {
        "test": perm[:n_test],
        "val": perm[n_test : n_test + n_val],
        "train": perm[n_test + n_val :],
    }
    out = {}
    for name, ix in idx.items():
        out[f"X_{name}"], out[f"y_{name}"] = X[:, ix], y[ix]
    return out


def digits(seed=0):
    """Chữ số viết tay 8×8 của scikit-learn (1797 ảnh, 10 lớp), giá trị điểm ảnh đưa về [0, 1].

    Trả về dict: X_train, y_train, X_val, y_val, X_test, y_test (tỉ lệ 60/20/20), X có hình dạng (64, m).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    return split(d.data.T / 16.0, d.target.astype(np.int64), val=0.2, test=0.2, seed=seed)


def one_hot(y, C):
    """Nhãn nguyên (m,) → ma trận one-hot (C, m)."""
    y = np.asarray(backend.to_numpy(y)).astype(int)
    out = np.zeros((C, y.shape[0]))
    out[y, np.arange(y.shape[0])] = 1.0
    return out
