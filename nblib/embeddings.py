"""Vector nhúng từ (word embedding): độ tương đồng cosine, skip-gram (softmax và lấy mẫu âm), GloVe.

Ký hiệu như bảng tóm tắt của khoá học: V là tập từ vựng, |V| là kích thước của nó; ma trận nhúng E có
hình dạng (d, |V|) — cột e_w = E·o_w là vector nhúng của từ w (o_w là vector one-hot); θ_t là tham số
"đầu ra" của từ đích t. Một batch gồm m cặp (ngữ cảnh c, đích t), mỗi cột là một cặp.

- ``skipgram_softmax_loss(e_c, Theta, t)``: −log P(t | c), P(t | c) = exp(θ_tᵀe_c) / Σ_j exp(θ_jᵀe_c);
- ``negative_sampling_loss(e_c, theta_t, theta_neg)``: −log σ(θ_tᵀe_c) − Σ_k log σ(−θ_kᵀe_c);
- ``glove_loss(E, Theta, b, b_tilde, X)``: J = ½ Σ_ij f(X_ij)(θ_iᵀe_j + b_i + b̃_j − log X_ij)².
Mỗi hàm mất mát trả về (giá trị, gradient) và lấy trung bình trên m cặp (GloVe: tổng, như công thức).
"""

from __future__ import annotations

from . import activations, backend

__all__ = [
    "cosine_similarity",
    "log_sigmoid",
    "skipgram_softmax_loss",
    "negative_sampling_loss",
    "glove_weight",
    "glove_loss",
]


def cosine_similarity(u, v):
    """cos(θ) = u·v / (‖u‖ ‖v‖) giữa hai vector (cùng độ dài); 0 nếu một vector bằng 0."""
    xp = backend.namespace(u, v)
    den = xp.sqrt(xp.sum(u * u)) * xp.sqrt(xp.sum(v * v))
    return xp.sum(u * v) / xp.where(den > 0, den, xp.ones_like(den))


def log_sigmoid(x):
    """log σ(x) tính ổn định: −(log(1 + e^(−|x|)) + max(−x, 0))."""
    xp = backend.namespace(x)
    return -(xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0.0))


def skipgram_softmax_loss(e_c, Theta, t):
    """Skip-gram với softmax đầy đủ trên |V| từ.

    e_c (d, m): vector nhúng của các từ ngữ cảnh; Theta (|V|, d): hàng j là θ_j; t (m,): chỉ số từ đích.
    J = (1/m) Σ −log softmax(Theta·e_c)[t]. Với Ŷ = softmax (|V|, m) và Y one-hot của t:
    dJ/de_c = Thetaᵀ(Ŷ − Y)/m, dJ/dTheta = (Ŷ − Y)·e_cᵀ/m.
    Trả về (J, (de_c, dTheta)). Mẫu số cộng trên cả |V| từ: tốn kém khi từ vựng lớn.
    """
    xp = backend.namespace(e_c, Theta)
    m, V = e_c.shape[1], Theta.shape[0]
    t = backend.asarray_labels(t, like=e_c)
    scores = Theta @ e_c  # (|V|, m)
    log_p = scores - xp.max(scores, axis=0, keepdims=True)
    log_p = log_p - xp.log(xp.sum(xp.exp(log_p), axis=0, keepdims=True))
    Y = xp.astype(xp.arange(V, device=getattr(t, "device", None))[:, None] == t[None, :], e_c.dtype)
    loss = -xp.sum(Y * log_p) / m
    dS = (xp.exp(log_p) - Y) / m
    return loss, (Theta.T @ dS, dS @ e_c.T)


def negative_sampling_loss(e_c, theta_t, theta_neg):
    """Skip-gram với lấy mẫu âm: mỗi cặp là một bài toán phân loại nhị phân, P(y = 1 | c, t) = σ(θ_tᵀe_c).

    e_c (d, m) ngữ cảnh; theta_t (d, m) tham số của từ đích đúng (mẫu dương); theta_neg (d, m, k)
    tham số của k từ lấy ngẫu nhiên (mẫu âm).
    J = (1/m) Σ [−log σ(θ_tᵀe_c) − Σ_k log σ(−θ_kᵀe_c)].
    Với s⁺ = θ_tᵀe_c, s⁻_k = θ_kᵀe_c: de_c = [(σ(s⁺) − 1)θ_t + Σ_k σ(s⁻_k)θ_k]/m,
    dθ_t = (σ(s⁺) − 1)e_c/m, dθ_k = σ(s⁻_k)e_c/m. Trả về (J, (de_c, dtheta_t, dtheta_neg)).
    """
    xp = backend.namespace(e_c, theta_t, theta_neg)
    if theta_t.shape != e_c.shape or theta_neg.shape[:2] != e_c.shape or theta_neg.ndim != 3:
        raise ValueError(
            "Cần e_c (d, m), theta_t (d, m), theta_neg (d, m, k); nhận được "
            f"{tuple(e_c.shape)}, {tuple(theta_t.shape)}, {tuple(theta_neg.shape)}."
        )
    m = e_c.shape[1]
    s_pos = xp.sum(theta_t * e_c, axis=0)  # (m,)
    s_neg = xp.sum(theta_neg * e_c[:, :, None], axis=0)  # (m, k)
    loss = -(xp.sum(log_sigmoid(s_pos)) + xp.sum(log_sigmoid(-s_neg))) / m
    g_pos = (activations.sigmoid(s_pos) - 1) / m  # (m,)
    g_neg = activations.sigmoid(s_neg) / m  # (m, k)
    de_c = g_pos[None, :] * theta_t + xp.sum(g_neg[None] * theta_neg, axis=2)
    return loss, (de_c, g_pos[None, :] * e_c, g_neg[None] * e_c[:, :, None])


def glove_weight(X, x_max=100.0, alpha=0.75):
    """Hàm trọng số của GloVe: f(x) = (x/x_max)^α nếu x < x_max, ngược lại 1; f(0) = 0."""
    xp = backend.namespace(X)
    return xp.where(X < x_max, (X / x_max) ** alpha, xp.ones_like(X))


def glove_loss(E, Theta, b, b_tilde, X, x_max=100.0, alpha=0.75):
    """Hàm mục tiêu của GloVe trên ma trận đồng xuất hiện X (|V|, |V|).

    X_ij = số lần từ i xuất hiện trong ngữ cảnh của từ j; Theta (|V|, d) hàng i là θ_i; E (d, |V|)
    cột j là e_j; b (|V|, 1), b_tilde (1, |V|). J = ½ Σ_{X_ij > 0} f(X_ij)·D_ij² với
    D_ij = θ_iᵀe_j + b_i + b̃_j − log X_ij. Gradient: với R = f ⊙ D, dTheta = R·Eᵀ, dE = Thetaᵀ·R,
    db = Σ_j R_ij, db̃ = Σ_i R_ij. Trả về (J, dict dE, dTheta, db, db_tilde).
    """
    xp = backend.namespace(E, Theta, X)
    present = X > 0
    log_X = xp.log(xp.where(present, X, xp.ones_like(X)))
    f = xp.where(present, glove_weight(X, x_max, alpha), xp.zeros_like(X))
    D = Theta @ E + b + b_tilde - log_X
    R = f * D
    grads = {
        "dE": Theta.T @ R,
        "dTheta": R @ E.T,
        "db": xp.sum(R, axis=1, keepdims=True),
        "db_tilde": xp.sum(R, axis=0, keepdims=True),
    }
    return 0.5 * xp.sum(f * D * D), grads
