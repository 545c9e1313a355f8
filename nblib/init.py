"""Khởi tạo trọng số và thí nghiệm thống kê kích hoạt qua một mạng sâu (ghi chú
«Training Neural Networks, Part I»).

Phương pháp ``init``: ``"zeros"``; một số thực ``scale`` (W = randn·scale, ví dụ 0.01 hay 1.0);
``"xavier"`` (W = randn/√n_in, Glorot 2010, như trong ghi chú); ``"he"`` (W = randn·√(2/n_in), He 2015).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import activations, argcheck, backend

METHODS = ("zeros", "xavier", "he", "<số thực scale>")


def _check_method(init):
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        if not np.isfinite(init) or init < 0:
            raise ValueError(f"Hệ số khởi tạo (scale) phải là số thực không âm, nhận được {init}.")
        return
    argcheck.choice("init (phương pháp khởi tạo)", init, METHODS)


def initialize(init, n_out, n_in, rng=0):
    """Ma trận trọng số W có hình dạng (n_out, n_in) theo phương pháp ``init`` (mảng numpy float64)."""
    _check_method(init)
    gen = backend.rng(rng)
    if init == "zeros":
        return np.zeros((n_out, n_in))
    if init == "xavier":
        scale = 1.0 / np.sqrt(n_in)
    elif init == "he":
        scale = np.sqrt(2.0 / n_in)
    else:
        scale = float(init)
    return gen.standard_normal((n_out, n_in)) * scale


def init_params(layer_dims, init="he", seed=0):
    """Tham số {"W1", "b1", …, "WL", "bL"} cho mạng có số nơ-ron mỗi tầng ``layer_dims`` = [n0, n1, …, nL].

    W[l] có hình dạng (n[l], n[l−1]); b[l] = 0 có hình dạng (n[l], 1). Mảng nằm trên backend hiện tại.
    """
    if len(layer_dims) < 2:
        raise ValueError(
            f"layer_dims phải có ít nhất 2 phần tử [n_x, …, n_y], nhận được {list(layer_dims)}."
        )
    gen = backend.rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = backend.asarray(initialize(init, layer_dims[l], layer_dims[l - 1], gen))
        params[f"b{l}"] = backend.asarray(np.zeros((layer_dims[l], 1)))
    return params


def activation_stats(init, activation, layers=10, width=500, n=1000, seed=0):
    """Thí nghiệm của ghi chú «Training Neural Networks, Part I»: đưa ``n`` mẫu ngẫu nhiên N(0, 1) qua ``layers`` tầng ``width`` nơ-ron.

    Không có hệ số điều chỉnh; mỗi tầng H = g(W·H_trước). Trả về dict gồm "mean" và "std" (danh sách
    độ dài ``layers``), "activations" (mảng numpy của từng tầng, để vẽ histogram), "input_mean",
    "input_std".
    """
    f, _ = activations.get(activation)
    gen = backend.rng(seed)
    X = backend.asarray(gen.standard_normal((width, n)))
    H = X
    acts, means, stds = [], [], []
    for _ in range(layers):
        W = backend.asarray(initialize(init, width, H.shape[0], gen))
        H = f(W @ H)
        a = backend.to_numpy(H)
        acts.append(a)
        means.append(float(a.mean()))
        stds.append(float(a.std()))
    x = backend.to_numpy(X)
    return {
        "mean": means,
        "std": stds,
        "activations": acts,
        "input_mean": float(x.mean()),
        "input_std": float(x.std()),
    }
