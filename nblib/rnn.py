"""Mạng nơ-ron hồi tiếp từ đầu: ô RNN, lan truyền ngược theo thời gian (BPTT), cắt gradient, GRU, LSTM.

Ký hiệu như bài giảng: mỗi cột là một mẫu, x⟨t⟩ có hình dạng (n_x, m), trạng thái ẩn a⟨t⟩ có hình dạng
(n_a, m); cả chuỗi X có hình dạng (n_x, m, T).

- Ô RNN: a⟨t⟩ = tanh(W_aa·a⟨t−1⟩ + W_ax·x⟨t⟩ + b_a), tham số trong dict {"W_ax", "W_aa", "b_a"}.
- GRU, LSTM: tham số xếp **đúng như PyTorch** để so được với ``nn.GRUCell``/``nn.LSTMCell``:
  ``W_ih`` (k·n_a, n_x), ``W_hh`` (k·n_a, n_a), ``b_ih``, ``b_hh`` (k·n_a, 1), với các khối theo thứ tự
  [r, z, n] (GRU, k = 3) và [i, f, g, o] (LSTM, k = 4). Tên trong bài: r → cổng đặt lại Γ_r,
  z → 1 − Γ_u (Γ_u là cổng cập nhật), n → ứng viên c̃; i → cổng vào Γ_i, f → cổng quên Γ_f,
  g → ứng viên c̃, o → cổng ra Γ_o.
"""

from __future__ import annotations

from . import activations, backend

__all__ = [
    "rnn_cell_forward",
    "rnn_cell_backward",
    "rnn_forward",
    "rnn_backward",
    "clip_by_value",
    "clip_by_norm",
    "global_norm",
    "gru_cell_forward",
    "gru_cell_backward",
    "lstm_cell_forward",
    "lstm_cell_backward",
]


def rnn_cell_forward(x, a_prev, params):
    """Một bước RNN: a⟨t⟩ = tanh(W_aa·a⟨t−1⟩ + W_ax·x⟨t⟩ + b_a). Trả về (a_next, cache)."""
    W_ax, W_aa, b_a = params["W_ax"], params["W_aa"], params["b_a"]
    if W_ax.shape[1] != x.shape[0] or W_aa.shape[1] != a_prev.shape[0]:
        raise ValueError(
            f"Hình dạng không khớp: W_ax {tuple(W_ax.shape)} với x {tuple(x.shape)}, "
            f"W_aa {tuple(W_aa.shape)} với a_prev {tuple(a_prev.shape)}."
        )
    a_next = activations.tanh(W_aa @ a_prev + W_ax @ x + b_a)
    return a_next, (a_next, a_prev, x, params)


def rnn_cell_backward(da_next, cache):
    """Lan truyền ngược qua một bước RNN. Trả về dict dx, da_prev, dW_ax, dW_aa, db_a.

    dz = da_next ⊙ (1 − a⟨t⟩²); dW_ax = dz·xᵀ; dW_aa = dz·a⟨t−1⟩ᵀ; db_a = Σ_cột dz;
    dx = W_axᵀ·dz; da_prev = W_aaᵀ·dz.
    """
    a_next, a_prev, x, params = cache
    xp = backend.namespace(da_next)
    dz = da_next * (1 - a_next**2)
    return {
        "dx": params["W_ax"].T @ dz,
        "da_prev": params["W_aa"].T @ dz,
        "dW_ax": dz @ x.T,
        "dW_aa": dz @ a_prev.T,
        "db_a": xp.sum(dz, axis=1, keepdims=True),
    }


def rnn_forward(X, a0, params):
    """Chạy ô RNN trên cả chuỗi X (n_x, m, T) từ trạng thái a0 (n_a, m).

    Trả về (A (n_a, m, T) gồm a⟨1⟩ … a⟨T⟩, caches — list cache của từng bước).
    """
    xp = backend.namespace(X)
    a, states, caches = a0, [], []
    for t in range(X.shape[2]):
        a, cache = rnn_cell_forward(X[:, :, t], a, params)
        states.append(a)
        caches.append(cache)
    return xp.stack(states, axis=2), caches


def rnn_backward(dA, caches):
    """Lan truyền ngược theo thời gian (BPTT).

    dA (n_a, m, T): gradient của hàm mất mát theo từng a⟨t⟩ *đến từ đầu ra ở bước t* (ví dụ qua
    W_ya). Đi từ t = T về 1: gradient tổng theo a⟨t⟩ = dA[:, :, t] + gradient chảy về từ bước t + 1;
    gradient theo tham số là **tổng** các đóng góp của mọi bước (tham số dùng chung theo thời gian).
    Trả về dict dX (n_x, m, T), da0, dW_ax, dW_aa, db_a.
    """
    xp = backend.namespace(dA)
    T = dA.shape[2]
    _, a0, x1, params = caches[0]
    grads = {k: xp.zeros_like(params[k[1:]]) for k in ("dW_ax", "dW_aa", "db_a")}
    dxs = [None] * T
    da_prev = xp.zeros_like(a0)
    for t in reversed(range(T)):
        g = rnn_cell_backward(dA[:, :, t] + da_prev, caches[t])
        dxs[t], da_prev = g["dx"], g["da_prev"]
        for k in grads:
            grads[k] = grads[k] + g[k]
    grads["dX"] = xp.stack(dxs, axis=2)
    grads["da0"] = da_prev
    return grads


def clip_by_value(grads, c):
    """Cắt theo giá trị: mỗi phần tử của mỗi gradient bị kẹp vào [−c, c] (có thể đổi hướng gradient).

    ``grads``: dict tên → mảng. Trả về dict mới (không sửa tại chỗ).
    """
    if c <= 0:
        raise ValueError(f"Ngưỡng cắt c phải dương, nhận được {c}.")
    return {k: backend.namespace(g).clip(g, -c, c) for k, g in grads.items()}


def global_norm(grads):
    """Chuẩn Euclid của mọi gradient ghép lại thành một vector: √(Σ_k ‖g_k‖²)."""
    total = 0.0
    for g in grads.values():
        total = total + float(backend.namespace(g).sum(g * g))
    return total**0.5


def clip_by_norm(grads, c):
    """Cắt theo chuẩn: nếu ‖g‖ > c (chuẩn của mọi gradient ghép lại) thì nhân mọi gradient với c/‖g‖.

    Giữ nguyên hướng (như ``torch.nn.utils.clip_grad_norm_``). Trả về (dict mới, chuẩn trước khi cắt).
    """
    if c <= 0:
        raise ValueError(f"Ngưỡng cắt c phải dương, nhận được {c}.")
    norm = global_norm(grads)
    scale = c / norm if norm > c else 1.0
    return {k: g * scale for k, g in grads.items()}, norm


def _blocks(M, k):
    n = M.shape[0] // k
    return [M[i * n : (i + 1) * n] for i in range(k)]


def gru_cell_forward(x, a_prev, params):
    """Một bước GRU theo cách của ``nn.GRUCell`` (khối [r, z, n]):

    Γ_r = σ(W_ir x + b_ir + W_hr a + b_hr)            (cổng đặt lại)
    Γ_u = 1 − σ(W_iz x + b_iz + W_hz a + b_hz)        (cổng cập nhật; z của PyTorch = 1 − Γ_u)
    c̃  = tanh(W_in x + b_in + Γ_r ⊙ (W_hn a + b_hn))  (ứng viên)
    a⟨t⟩ = Γ_u ⊙ c̃ + (1 − Γ_u) ⊙ a⟨t−1⟩

    Trả về (a_next, cache).
    """
    gx = _blocks(params["W_ih"] @ x + params["b_ih"], 3)
    ga = _blocks(params["W_hh"] @ a_prev + params["b_hh"], 3)
    G_r = activations.sigmoid(gx[0] + ga[0])
    G_u = 1 - activations.sigmoid(gx[1] + ga[1])
    c_tilde = activations.tanh(gx[2] + G_r * ga[2])
    a_next = G_u * c_tilde + (1 - G_u) * a_prev
    return a_next, (x, a_prev, G_r, G_u, c_tilde, ga[2], params)


def gru_cell_backward(da_next, cache):
    """Lan truyền ngược qua một bước GRU. Trả về dict dx, da_prev, dW_ih, dW_hh, db_ih, db_hh."""
    x, a_prev, G_r, G_u, c_tilde, hn, params = cache
    xp = backend.namespace(da_next)
    dc = da_next * G_u
    dGu = da_next * (c_tilde - a_prev)
    dn = dc * (1 - c_tilde**2)  # gradient theo tiền kích hoạt của ứng viên
    dr = dn * hn * G_r * (1 - G_r)
    dz = -dGu * (1 - G_u) * G_u  # z = 1 − Γ_u = σ(·): dz_pre = −dΓ_u · z(1 − z)
    d_ix = xp.concat([dr, dz, dn], axis=0)
    d_ha = xp.concat([dr, dz, dn * G_r], axis=0)
    return {
        "dx": params["W_ih"].T @ d_ix,
        "da_prev": params["W_hh"].T @ d_ha + da_next * (1 - G_u),
        "dW_ih": d_ix @ x.T,
        "dW_hh": d_ha @ a_prev.T,
        "db_ih": xp.sum(d_ix, axis=1, keepdims=True),
        "db_hh": xp.sum(d_ha, axis=1, keepdims=True),
    }


def lstm_cell_forward(x, a_prev, c_prev, params):
    """Một bước LSTM theo cách của ``nn.LSTMCell`` (khối [i, f, g, o]):

    Γ_i = σ(·), Γ_f = σ(·), c̃ = tanh(·), Γ_o = σ(·) với (·) = W_ih x + b_ih + W_hh a⟨t−1⟩ + b_hh;
    c⟨t⟩ = Γ_i ⊙ c̃ + Γ_f ⊙ c⟨t−1⟩;  a⟨t⟩ = Γ_o ⊙ tanh(c⟨t⟩).

    Trả về (a_next, c_next, cache).
    """
    pre = _blocks(params["W_ih"] @ x + params["b_ih"] + params["W_hh"] @ a_prev + params["b_hh"], 4)
    G_i, G_f = activations.sigmoid(pre[0]), activations.sigmoid(pre[1])
    c_tilde, G_o = activations.tanh(pre[2]), activations.sigmoid(pre[3])
    c_next = G_i * c_tilde + G_f * c_prev
    tc = activations.tanh(c_next)
    a_next = G_o * tc
    return a_next, c_next, (x, a_prev, c_prev, G_i, G_f, c_tilde, G_o, tc, params)


def lstm_cell_backward(da_next, dc_next, cache):
    """Lan truyền ngược qua một bước LSTM. Trả về dict dx, da_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh.

    Đường đi cộng của ô nhớ: dc⟨t−1⟩ = dc⟨t⟩ ⊙ Γ_f (cộng thêm phần đến từ a⟨t⟩).
    """
    x, a_prev, c_prev, G_i, G_f, c_tilde, G_o, tc, params = cache
    xp = backend.namespace(da_next)
    dc = dc_next + da_next * G_o * (1 - tc**2)
    d_pre = xp.concat(
        [
            dc * c_tilde * G_i * (1 - G_i),
            dc * c_prev * G_f * (1 - G_f),
            dc * G_i * (1 - c_tilde**2),
            da_next * tc * G_o * (1 - G_o),
        ],
        axis=0,
    )
    db = xp.sum(d_pre, axis=1, keepdims=True)
    return {
        "dx": params["W_ih"].T @ d_pre,
        "da_prev": params["W_hh"].T @ d_pre,
        "dc_prev": dc * G_f,
        "dW_ih": d_pre @ x.T,
        "dW_hh": d_pre @ a_prev.T,
        "db_ih": db,
        "db_hh": db,
    }
