"""Các thuật toán tối ưu, theo kiểu CS231n: ``update(w, dw, state) → (w, state)``.

``state`` là dict chứa siêu tham số (ví dụ ``"lr"`` là tốc độ học α) và bộ nhớ của thuật toán
(vận tốc, trung bình trượt…); thiếu khoá nào thì dùng giá trị mặc định. Hàm trả về một dict mới,
không sửa dict được truyền vào.
"""

from __future__ import annotations

import math

from . import argcheck, backend


def _state(state, **defaults):
    s = dict(defaults)
    s.update(state or {})
    if type(s["lr"]) is not float or not s["lr"] > 0:  # đường tắt cho trường hợp thường gặp
        argcheck.positive("lr (tốc độ học α)", s["lr"])
    return s


def sgd(w, dw, state=None):
    """Hạ gradient thường: w ← w − α·dw."""
    s = _state(state, lr=1e-2)
    return w - s["lr"] * dw, s


def momentum(w, dw, state=None):
    """Động lượng như trong ghi chú: v ← γ·v + α·dw; w ← w − v (γ = 0,9; v⁽⁰⁾ = 0)."""
    s = _state(state, lr=1e-2, gamma=0.9)
    v = s.get("v")
    if v is None:
        v = backend.namespace(w).zeros_like(w)
    v = s["gamma"] * v + s["lr"] * dw
    s["v"] = v
    return w - v, s


def rmsprop(w, dw, state=None):
    """RMSprop: s ← β·s + (1 − β)·dw²; w ← w − α·dw/(√s + ε)."""
    s = _state(state, lr=1e-3, beta=0.9, eps=1e-8)
    xp = backend.namespace(w)
    sq = s.get("s")
    if sq is None:
        sq = xp.zeros_like(w)
    sq = s["beta"] * sq + (1 - s["beta"]) * dw * dw
    s["s"] = sq
    return w - s["lr"] * dw / (xp.sqrt(sq) + s["eps"]), s


def adam(w, dw, state=None):
    """Adam có hiệu chỉnh độ chệch; t đếm số bước (bắt đầu từ 1).

    m ← β₁·m + (1 − β₁)·dw; v ← β₂·v + (1 − β₂)·dw²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ);
    w ← w − α·m̂/(√v̂ + ε).
    """
    s = _state(state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
    xp = backend.namespace(w)
    m = s.get("m")
    v = s.get("v")
    if m is None:
        m, v = xp.zeros_like(w), xp.zeros_like(w)
    t = s.get("t", 0) + 1
    m = s["beta1"] * m + (1 - s["beta1"]) * dw
    v = s["beta2"] * v + (1 - s["beta2"]) * dw * dw
    m_hat = m / (1 - s["beta1"] ** t)
    v_hat = v / (1 - s["beta2"] ** t)
    s.update(m=m, v=v, t=t)
    return w - s["lr"] * m_hat / (xp.sqrt(v_hat) + s["eps"]), s


OPTIMIZERS = {"sgd": sgd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}


def get(name):
    """Hàm cập nhật theo tên ("sgd", "momentum", "rmsprop", "adam")."""
    argcheck.choice("optimizer (thuật toán tối ưu)", name, tuple(OPTIMIZERS))
    return OPTIMIZERS[name]


def step_decay(lr0, epoch, drop=0.5, every=10):
    """Giảm theo bậc: α = α₀·drop^⌊epoch/every⌋."""
    return lr0 * drop ** math.floor(epoch / every)


def inverse_time_decay(lr0, epoch, k=1.0):
    """Giảm theo 1/t: α = α₀/(1 + k·epoch)."""
    return lr0 / (1.0 + k * epoch)


def exponential_decay(lr0, epoch, k=0.1):
    """Giảm theo hàm mũ: α = α₀·e^(−k·epoch)."""
    return lr0 * math.exp(-k * epoch)
