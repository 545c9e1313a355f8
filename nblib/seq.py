"""Mô hình chuỗi: lấy mẫu theo nhiệt độ, độ hỗn tạp (perplexity), tìm kiếm chùm, BLEU, trọng số chú ý.

- ``softmax_temperature(logits, T)``: softmax(logits / T) — T < 1 làm phân phối "nhọn" hơn, T > 1 làm
  phẳng hơn; ``sample(probs, rng)`` lấy một chỉ số theo phân phối đó.
- ``perplexity(probs, y)``: PP = Π_t (1 / ŷ⟨t⟩[y⟨t⟩])^(1/T) = exp(−(1/T) Σ_t log ŷ⟨t⟩[y⟨t⟩]).
- ``beam_search(step_log_probs, start, beam_width, max_len, end, alpha)``: giữ B chuỗi tốt nhất ở mỗi
  bước; xếp hạng cuối bằng mục tiêu chuẩn hoá độ dài (1/T_y^α) Σ log p.
- ``ngram_precision``, ``bleu``: độ chính xác n-gram có cắt và điểm BLEU = BP·exp(Σ_n w_n log p_n).
- ``attention_weights(e)``, ``attention_context(alpha, A)``: α⟨t,t'⟩ = softmax theo t' của e⟨t,t'⟩,
  c⟨t⟩ = Σ_t' α⟨t,t'⟩ a⟨t'⟩.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from . import activations, backend

__all__ = [
    "softmax_temperature",
    "sample",
    "perplexity",
    "length_normalized_score",
    "beam_search",
    "ngrams",
    "ngram_precision",
    "brevity_penalty",
    "bleu",
    "attention_weights",
    "attention_context",
]


def softmax_temperature(logits, T=1.0, axis=0):
    """softmax(logits / T). T → 0: gần như luôn chọn chỉ số lớn nhất; T lớn: gần phân phối đều."""
    if T <= 0:
        raise ValueError(f"Nhiệt độ T phải dương, nhận được {T}.")
    return activations.softmax(logits / T, axis=axis)


def sample(probs, rng=None):
    """Lấy một chỉ số theo phân phối xác suất ``probs`` (vector), dùng bộ sinh numpy ``rng``."""
    p = np.asarray(backend.to_numpy(probs), dtype=float).ravel()
    p = p / p.sum()
    return int(backend.rng(rng).choice(p.shape[0], p=p))


def perplexity(probs, y):
    """Độ hỗn tạp của một chuỗi: probs (|V|, T) là ŷ⟨t⟩ ở từng bước, y (T,) là chỉ số đúng.

    PP = exp(−(1/T) Σ_t log ŷ⟨t⟩[y⟨t⟩]) — bằng |V| với mô hình đoán đều, bằng 1 khi đoán chắc chắn đúng.
    """
    xp = backend.namespace(probs)
    y = backend.asarray_labels(y, like=probs)
    V, T = probs.shape
    Y = xp.astype(
        xp.arange(V, device=getattr(y, "device", None))[:, None] == y[None, :], probs.dtype
    )
    p_true = xp.sum(probs * Y, axis=0)
    return xp.exp(-xp.mean(xp.log(p_true)))


def length_normalized_score(log_probs, alpha=0.7):
    """Mục tiêu chuẩn hoá độ dài: (1 / T_y^α) Σ_t log p(y⟨t⟩ | x, y⟨1⟩, …, y⟨t−1⟩)."""
    log_probs = list(log_probs)
    return sum(log_probs) / (len(log_probs) ** alpha)


def beam_search(step_log_probs, start, beam_width=3, max_len=10, end=None, alpha=0.7):
    """Tìm kiếm chùm (beam search) với độ rộng chùm B = ``beam_width``.

    ``step_log_probs(prefix)`` nhận tuple các token đã sinh (bắt đầu bằng ``start``) và trả về mảng
    log-xác suất của token kế tiếp (độ dài |V|). Mỗi bước mở rộng mọi chuỗi trong chùm bằng mọi token,
    giữ B chuỗi có tổng log p lớn nhất; chuỗi gặp ``end`` được coi là xong. Kết quả: list các cặp
    (chuỗi không kèm ``start``, điểm chuẩn hoá độ dài), xếp theo điểm giảm dần. B = 1 là tìm kiếm tham lam.
    """
    if beam_width < 1:
        raise ValueError(f"Độ rộng chùm phải ≥ 1, nhận được {beam_width}.")
    beams = [((start,), [])]  # (chuỗi, các log p)
    done = []
    for _ in range(max_len):
        candidates = []
        for seq, lps in beams:
            logp = np.asarray(backend.to_numpy(step_log_probs(seq)), dtype=float)
            for tok in np.argsort(-logp, kind="stable")[:beam_width]:
                candidates.append((seq + (int(tok),), lps + [float(logp[tok])]))
        candidates.sort(key=lambda c: -sum(c[1]))
        beams = []
        for seq, lps in candidates[:beam_width]:
            (done if end is not None and seq[-1] == end else beams).append((seq, lps))
        if not beams:
            break
    done.extend(beams)
    scored = [(seq[1:], length_normalized_score(lps, alpha)) for seq, lps in done]
    return sorted(scored, key=lambda s: -s[1])


def ngrams(tokens, n):
    """Counter các n-gram (tuple) của dãy token."""
    tokens = list(tokens)
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def ngram_precision(candidate, references, n):
    """Độ chính xác n-gram có cắt: p_n = Σ min(count, max count trong các câu tham chiếu) / Σ count.

    Cắt (clip) để một bản dịch lặp một từ đúng nhiều lần không được điểm cao. 0 nếu câu quá ngắn.
    """
    cand = ngrams(candidate, n)
    total = sum(cand.values())
    if total == 0:
        return 0.0
    max_ref = Counter()
    for ref in references:
        for g, c in ngrams(ref, n).items():
            max_ref[g] = max(max_ref[g], c)
    return sum(min(c, max_ref[g]) for g, c in cand.items()) / total


def brevity_penalty(candidate, references):
    """Phạt câu ngắn: BP = 1 nếu c > r, ngược lại exp(1 − r/c); r là độ dài câu tham chiếu gần c nhất."""
    c = len(list(candidate))
    if c == 0:
        return 0.0
    r = min((abs(len(ref) - c), len(ref)) for ref in references)[1]
    return 1.0 if c > r else math.exp(1 - r / c)


def bleu(candidate, references, max_n=4):
    """Điểm BLEU = BP · exp((1/N) Σ_{n=1..N} log p_n) (trung bình *nhân* của p_1…p_N).

    Bằng 0 nếu có một p_n = 0 (log 0 = −∞). ``candidate``: list token; ``references``: list các list.
    """
    ps = [ngram_precision(candidate, references, n) for n in range(1, max_n + 1)]
    if min(ps) == 0:
        return 0.0
    return brevity_penalty(candidate, references) * math.exp(sum(math.log(p) for p in ps) / max_n)


def attention_weights(e, axis=-1):
    """α⟨t,t'⟩ = exp(e⟨t,t'⟩) / Σ_t'' exp(e⟨t,t''⟩): softmax theo trục của t' (mặc định trục cuối).

    e có hình dạng (T_y, T_x); mỗi hàng của kết quả cộng lại bằng 1.
    """
    return activations.softmax(e, axis=axis)


def attention_context(alpha, A):
    """Vector ngữ cảnh c⟨t⟩ = Σ_t' α⟨t,t'⟩ a⟨t'⟩. alpha (T_y, T_x), A (n_a, T_x) → C (n_a, T_y)."""
    return A @ alpha.T
