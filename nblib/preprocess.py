"""Tiền xử lý dữ liệu: mỗi phương pháp được *khớp* (fit) trên tập huấn luyện rồi *áp dụng* cho mọi tập.

X có hình dạng (n_đặc_trưng, m), mỗi cột là một mẫu. ``fit(method, X)`` trả về trạng thái (dict);
``transform(state, X)`` áp dụng đúng phép biến đổi đó (không bao giờ tính lại thống kê trên X mới).

Phương pháp: "center" (trừ trung bình), "minmax" (về [0, 1]), "zscore" (trung bình 0, độ lệch chuẩn 1),
"robust" (trừ trung vị, chia khoảng tứ phân vị: ít nhạy với ngoại lai), "pca" (khử tương quan: xoay
theo các vector riêng của ma trận hiệp phương sai), "whiten" (khử tương quan rồi chia căn phương sai:
hiệp phương sai thành ma trận đơn vị).
"""

from __future__ import annotations

import numpy as np

from . import argcheck, backend

METHODS = ("center", "minmax", "zscore", "robust", "pca", "whiten")
_EPS = 1e-8


def fit(method, X):
    """Khớp phương pháp ``method`` trên dữ liệu huấn luyện ``X`` (n, m)."""
    argcheck.choice("method (phương pháp tiền xử lý)", method, METHODS)
    argcheck.array("X", X, ndim=2)
    argcheck.finite("X", X)
    x = backend.to_numpy(X).astype(float)
    state = {"method": method, "n_features": x.shape[0]}
    if method in ("center", "zscore", "pca", "whiten"):
        state["mean"] = x.mean(axis=1, keepdims=True)
    if method == "minmax":
        state["min"] = x.min(axis=1, keepdims=True)
        state["range"] = np.maximum(x.max(axis=1, keepdims=True) - state["min"], _EPS)
    elif method == "zscore":
        state["std"] = np.maximum(x.std(axis=1, keepdims=True), _EPS)
    elif method == "robust":
        q1, med, q3 = np.percentile(x, [25, 50, 75], axis=1, keepdims=True)
        state["median"], state["iqr"] = med, np.maximum(q3 - q1, _EPS)
    elif method in ("pca", "whiten"):
        xc = x - state["mean"]
        cov = xc @ xc.T / x.shape[1]
        eigval, eigvec = np.linalg.eigh(cov)
        order = np.argsort(eigval)[::-1]
        state["eigval"], state["U"] = eigval[order], eigvec[:, order]
    return state


def transform(state, X):
    """Áp dụng phép biến đổi đã khớp cho ``X`` (huấn luyện, kiểm định hay kiểm tra).

    Kết quả cùng loại mảng (numpy/torch) và thiết bị với ``X``; kiểu số thực của ``X`` (float64 nếu
    ``X`` là mảng số nguyên).
    """
    argcheck.array("X", X, ndim=2)
    if X.shape[0] != state["n_features"]:
        raise ValueError(
            f"Hình dạng không khớp: X có {X.shape[0]} đặc trưng (hình dạng {tuple(X.shape)}), "
            f"nhưng phép biến đổi được khớp với {state['n_features']} đặc trưng."
        )
    x = backend.to_numpy(X).astype(float)
    method = state["method"]
    if method == "center":
        out = x - state["mean"]
    elif method == "minmax":
        out = (x - state["min"]) / state["range"]
    elif method == "zscore":
        out = (x - state["mean"]) / state["std"]
    elif method == "robust":
        out = (x - state["median"]) / state["iqr"]
    else:
        out = state["U"].T @ (x - state["mean"])
        if method == "whiten":
            out = out / np.sqrt(state["eigval"][:, None] + _EPS)
    return backend.asarray(out, like=X)  # cùng loại mảng và thiết bị với X


def fit_transform(method, X):
    """Khớp trên ``X`` rồi biến đổi chính ``X``. Trả về (X_mới, state)."""
    state = fit(method, X)
    return transform(state, X), state
