"""Các công thức kích thước của mạng nơ-ron tích chập (CNN), theo bảng tóm tắt (cheatsheet) của khoá học.

Mọi hàm làm việc trên một chiều không gian (chiều cao hoặc chiều rộng); với ảnh vuông I × I thì
áp dụng như nhau cho cả hai chiều.

- ``conv_output_size(I, F, S, P_start, P_end)``: kích thước đầu ra
  O = ⌊(I − F + P_start + P_end) / S⌋ + 1 của tầng tích chập hoặc tầng gộp.
- ``padding(mode, F, S, I)``: cặp (P_start, P_end) cho ba kiểu đệm "valid", "same", "full".
- ``conv_params(F, C, K)``: số tham số (F·F·C + 1)·K của tầng tích chập.
- ``fc_params(n_in, n_out)``: số tham số (N_in + 1)·N_out của tầng kết nối đầy đủ.
- ``receptive_field(kernel_sizes, strides)``: trường tiếp nhận
  R_k = 1 + Σ_j (F_j − 1) · Π_{i<j} S_i (với S_0 = 1).

Các tầng tích chập và gộp (kiểu ``forward → (out, cache)``, ``backward(dout, cache)``), trên ảnh có
hình dạng (m, C, H, W) như PyTorch — với ảnh, mỗi *phần tử theo trục 0* là một mẫu; bộ lọc W có hình
dạng (K, C, F, F), hệ số điều chỉnh b có hình dạng (K,):

- ``conv_forward_naive`` / ``conv_backward_naive``: vòng lặp trên các vị trí đầu ra (dễ đọc);
- ``conv_forward`` / ``conv_backward``: vector hoá bằng im2col (``im2col``, ``col2im``);
- ``pool_forward`` / ``pool_backward``: gộp cực đại hoặc gộp trung bình (có bản ``_naive``).
"""

from __future__ import annotations

import math
import numbers

from . import backend

__all__ = [
    "conv_output_size",
    "padding",
    "conv_params",
    "fc_params",
    "receptive_field",
    "PADDING_MODES",
    "pad",
    "conv_forward_naive",
    "conv_backward_naive",
    "im2col",
    "col2im",
    "conv_forward",
    "conv_backward",
    "pool_forward_naive",
    "pool_backward_naive",
    "pool_forward",
    "pool_backward",
]

PADDING_MODES = ("valid", "same", "full")


def _check_int(name, value, minimum):
    """Kiểm tra `value` là số nguyên (không phải bool) và không nhỏ hơn `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} phải là số nguyên, nhận được {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} phải lớn hơn hoặc bằng {minimum}, nhận được {value}.")
    return int(value)


def conv_output_size(I, F, S=1, P_start=0, P_end=None):
    """Kích thước đầu ra (theo một chiều) của tầng tích chập hoặc tầng gộp.

    Công thức: O = ⌊(I − F + P_start + P_end) / S⌋ + 1. Khi phép chia không chẵn, cửa sổ cuối cùng
    không vừa sẽ bị bỏ (đây cũng là cách PyTorch làm).

    Tham số
    -------
    I : int — kích thước đầu vào (≥ 1).
    F : int — kích thước bộ lọc / cửa sổ gộp (≥ 1).
    S : int — độ trượt (stride, ≥ 1).
    P_start, P_end : int — số ô đệm 0 ở đầu và ở cuối; nếu bỏ trống `P_end` thì lấy bằng `P_start`
        (đệm đối xứng P, tức P_start + P_end = 2P).

    Trả về
    ------
    int — kích thước đầu ra O.
    """
    I = _check_int("Kích thước đầu vào I", I, 1)
    F = _check_int("Kích thước bộ lọc F", F, 1)
    S = _check_int("Độ trượt S", S, 1)
    P_start = _check_int("Số ô đệm P_start", P_start, 0)
    P_end = P_start if P_end is None else _check_int("Số ô đệm P_end", P_end, 0)
    span = I + P_start + P_end
    if F > span:
        raise ValueError(
            f"Bộ lọc F = {F} lớn hơn đầu vào sau khi đệm (I + P_start + P_end = {span}): "
            "không có vị trí nào để đặt bộ lọc."
        )
    return (span - F) // S + 1


def padding(mode, F, S=1, I=None):
    """Cặp (P_start, P_end) cho các kiểu đệm "valid", "same" và "full".

    - "valid": không đệm, P_start = P_end = 0.
    - "same": P_start = ⌊(S⌈I/S⌉ − I + F − S)/2⌋, P_end = ⌈(S⌈I/S⌉ − I + F − S)/2⌉, để đầu ra có
      kích thước ⌈I/S⌉ (tổng âm, chỉ gặp khi S > F, được thay bằng 0). Khi S = 1 tổng đệm là F − 1
      và không phụ thuộc I; khi S > 1 cần biết `I`.
    - "full": đệm tối đa P_start = P_end = F − 1, để mọi vị trí bộ lọc còn chạm ít nhất một ô của
      đầu vào (với S = 1, đầu ra có kích thước I + F − 1).

    Trả về
    ------
    tuple (P_start, P_end) các số nguyên ≥ 0.
    """
    if mode not in PADDING_MODES:
        raise ValueError(
            f"Kiểu đệm không hợp lệ: {mode!r}. Chỉ chấp nhận một trong {', '.join(PADDING_MODES)}."
        )
    F = _check_int("Kích thước bộ lọc F", F, 1)
    S = _check_int("Độ trượt S", S, 1)
    if mode == "valid":
        return (0, 0)
    if mode == "full":
        return (F - 1, F - 1)
    # mode == "same"
    if I is None:
        if S != 1:
            raise ValueError(
                "Kiểu đệm 'same' với độ trượt S > 1 cần biết kích thước đầu vào I (tham số I)."
            )
        total = F - 1
    else:
        I = _check_int("Kích thước đầu vào I", I, 1)
        total = S * math.ceil(I / S) - I + F - S
    # Khi S > F tổng có thể âm: không cần đệm, đầu ra đã có kích thước ⌈I/S⌉ (giống TensorFlow).
    total = max(total, 0)
    return (total // 2, total - total // 2)


def conv_params(F, C, K):
    """Số tham số của một tầng tích chập: K bộ lọc F × F × C, mỗi bộ lọc có một hệ số điều chỉnh.

    Công thức: (F·F·C + 1)·K.
    """
    F = _check_int("Kích thước bộ lọc F", F, 1)
    C = _check_int("Số kênh đầu vào C", C, 1)
    K = _check_int("Số bộ lọc K", K, 1)
    return (F * F * C + 1) * K


def fc_params(n_in, n_out):
    """Số tham số của một tầng kết nối đầy đủ: ma trận trọng số n_out × n_in và n_out hệ số điều chỉnh.

    Công thức: (N_in + 1)·N_out.
    """
    n_in = _check_int("Số đầu vào n_in", n_in, 1)
    n_out = _check_int("Số đầu ra n_out", n_out, 1)
    return (n_in + 1) * n_out


def receptive_field(kernel_sizes, strides=None):
    """Trường tiếp nhận R_k của một điểm ở tầng thứ k (k = số tầng đã cho).

    Công thức: R_k = 1 + Σ_{j=1..k} (F_j − 1) · Π_{i=0..j−1} S_i, với quy ước S_0 = 1.
    Ví dụ trong ghi chú: F_1 = F_2 = 3, S_1 = S_2 = 1 cho R_2 = 1 + 2 + 2 = 5.

    Tham số
    -------
    kernel_sizes : dãy số nguyên F_1, ..., F_k.
    strides : dãy số nguyên S_1, ..., S_k cùng độ dài (mặc định toàn 1).

    Trả về
    ------
    int — R_k (đầu vào nhìn thấy là một vùng R_k × R_k).
    """
    try:
        kernel_sizes = list(kernel_sizes)
    except TypeError:
        raise ValueError(
            f"kernel_sizes phải là một dãy kích thước bộ lọc, nhận được {kernel_sizes!r}."
        ) from None
    if strides is None:
        strides = [1] * len(kernel_sizes)
    else:
        try:
            strides = list(strides)
        except TypeError:
            raise ValueError(f"strides phải là một dãy độ trượt, nhận được {strides!r}.") from None
    if len(strides) != len(kernel_sizes):
        raise ValueError(
            f"kernel_sizes có {len(kernel_sizes)} phần tử nhưng strides có {len(strides)}: "
            "hai dãy phải dài bằng nhau."
        )
    R = 1
    jump = 1  # Π_{i<j} S_i, với S_0 = 1
    for j, (F, S) in enumerate(zip(kernel_sizes, strides), start=1):
        F = _check_int(f"Kích thước bộ lọc F_{j}", F, 1)
        S = _check_int(f"Độ trượt S_{j}", S, 1)
        R += (F - 1) * jump
        jump *= S
    return R


# --------------------------------------------------------------------------- tầng tích chập và gộp


def _check_images(name, X, ndim=4):
    if getattr(X, "ndim", None) != ndim:
        raise ValueError(
            f"{name} phải là mảng {ndim} chiều (m, C, H, W), nhận được hình dạng "
            f"{tuple(getattr(X, 'shape', ()))}."
        )


def pad(X, P):
    """Đệm P số 0 vào hai đầu của hai trục không gian (trục 2 và 3) của X (m, C, H, W)."""
    if P == 0:
        return X
    xp = backend.namespace(X)
    m, C, H, W = X.shape
    out = xp.zeros((m, C, H + 2 * P, W + 2 * P), dtype=X.dtype, device=getattr(X, "device", None))
    out[:, :, P : P + H, P : P + W] = X
    return out


def _out_hw(X, F, S, P):
    return conv_output_size(X.shape[2], F, S, P), conv_output_size(X.shape[3], F, S, P)


def _check_conv(X, W, b):
    _check_images("X", X)
    _check_images("W", W)
    if W.shape[1] != X.shape[1]:
        raise ValueError(
            f"Hình dạng không khớp: W có hình dạng {tuple(W.shape)} (C = {W.shape[1]} kênh) nhưng X "
            f"có hình dạng {tuple(X.shape)} (C = {X.shape[1]} kênh)."
        )
    if W.shape[2] != W.shape[3]:
        raise ValueError(f"Bộ lọc phải vuông F × F, nhận được hình dạng {tuple(W.shape)}.")
    if tuple(b.shape) != (W.shape[0],):
        raise ValueError(
            f"Hình dạng không khớp: b có hình dạng {tuple(b.shape)}, cần ({W.shape[0]},) "
            "— mỗi bộ lọc một hệ số điều chỉnh."
        )


def conv_forward_naive(X, W, b, S=1, P=0):
    """Tầng tích chập, bản vòng lặp: với mỗi vị trí (i, j) của đầu ra,

    out[n, k, i, j] = Σ_{c,u,v} W[k, c, u, v] · Xp[n, c, i·S + u, j·S + v] + b[k]

    (Xp là X đã đệm P số 0; đây là tương quan chéo, giống ``torch.nn.functional.conv2d``).
    X: (m, C, H, W); W: (K, C, F, F); b: (K,). Trả về (out (m, K, O_h, O_w), cache).
    """
    _check_conv(X, W, b)
    xp = backend.namespace(X)
    K, _, F, _ = W.shape
    Oh, Ow = _out_hw(X, F, S, P)
    Xp = pad(X, P)
    out = xp.zeros((X.shape[0], K, Oh, Ow), dtype=X.dtype, device=getattr(X, "device", None))
    for i in range(Oh):
        for j in range(Ow):
            window = Xp[:, None, :, i * S : i * S + F, j * S : j * S + F]  # (m, 1, C, F, F)
            out[:, :, i, j] = xp.sum(window * W[None], axis=(2, 3, 4)) + b
    return out, (X, W, S, P)


def conv_backward_naive(dout, cache):
    """Lan truyền ngược qua tầng tích chập, bản vòng lặp. Trả về (dX, dW, db).

    Mỗi phần tử đầu ra out[n, k, i, j] nhận gradient dout[n, k, i, j] và "trả lại" nó cho đúng vùng
    F × F đã tạo ra nó: dW[k] += dout · vùng, dXp[vùng] += dout · W[k]; db[k] = Σ dout[:, k].
    """
    X, W, S, P = cache
    xp = backend.namespace(dout)
    F = W.shape[2]
    _, _, Oh, Ow = dout.shape
    Xp = pad(X, P)
    dXp = xp.zeros_like(Xp)
    dW = xp.zeros_like(W)
    for i in range(Oh):
        for j in range(Ow):
            window = Xp[:, None, :, i * S : i * S + F, j * S : j * S + F]  # (m, 1, C, F, F)
            g = dout[:, :, i, j][:, :, None, None, None]  # (m, K, 1, 1, 1)
            dW = dW + xp.sum(g * window, axis=0)
            dXp[:, :, i * S : i * S + F, j * S : j * S + F] += xp.sum(g * W[None], axis=1)
    H, Wd = X.shape[2], X.shape[3]
    dX = dXp[:, :, P : P + H, P : P + Wd]
    return dX, dW, xp.sum(dout, axis=(0, 2, 3))


def im2col(X, F, S=1, P=0):
    """Sắp mọi vùng F × F của X (m, C, H, W) thành các cột của một ma trận (C·F·F, m·O_h·O_w).

    Hàng theo thứ tự (c, u, v) — đúng thứ tự của ``W.reshape(K, C·F·F)`` — nên tích chập trở thành
    một phép nhân ma trận: out = W_col · cols + b. Chỉ cần F·F lát cắt có bước nhảy S, không vòng lặp
    theo vị trí đầu ra.
    """
    _check_images("X", X)
    xp = backend.namespace(X)
    m, C = X.shape[0], X.shape[1]
    Oh, Ow = _out_hw(X, F, S, P)
    Xp = pad(X, P)
    patches = [
        Xp[:, :, u : u + S * (Oh - 1) + 1 : S, v : v + S * (Ow - 1) + 1 : S]
        for u in range(F)
        for v in range(F)
    ]  # F·F mảng (m, C, O_h, O_w)
    cols = xp.reshape(xp.stack(patches, axis=0), (F, F, m, C, Oh, Ow))
    cols = xp.permute_dims(cols, (3, 0, 1, 2, 4, 5))  # (C, F, F, m, O_h, O_w)
    return xp.reshape(cols, (C * F * F, m * Oh * Ow))


def col2im(cols, X_shape, F, S=1, P=0):
    """Phép ngược (theo nghĩa gradient) của ``im2col``: cộng dồn mỗi cột về đúng vùng của nó.

    Các vùng chồng lên nhau (S < F) thì gradient được cộng lại. Trả về mảng hình dạng ``X_shape``.
    """
    xp = backend.namespace(cols)
    m, C, H, W = X_shape
    Oh, Ow = conv_output_size(H, F, S, P), conv_output_size(W, F, S, P)
    c6 = xp.reshape(cols, (C, F, F, m, Oh, Ow))
    dXp = xp.zeros(
        (m, C, H + 2 * P, W + 2 * P), dtype=cols.dtype, device=getattr(cols, "device", None)
    )
    for u in range(F):
        for v in range(F):
            dXp[:, :, u : u + S * (Oh - 1) + 1 : S, v : v + S * (Ow - 1) + 1 : S] += (
                xp.permute_dims(c6[:, u, v], (1, 0, 2, 3))
            )
    return dXp[:, :, P : P + H, P : P + W]


def conv_forward(X, W, b, S=1, P=0):
    """Tầng tích chập vector hoá (im2col): out = W_col · cols + b. Cùng kết quả với bản vòng lặp.

    X: (m, C, H, W); W: (K, C, F, F); b: (K,). Trả về (out (m, K, O_h, O_w), cache).
    """
    _check_conv(X, W, b)
    xp = backend.namespace(X)
    K, _, F, _ = W.shape
    Oh, Ow = _out_hw(X, F, S, P)
    cols = im2col(X, F, S, P)
    out = xp.reshape(W, (K, -1)) @ cols + b[:, None]  # (K, m·O_h·O_w)
    out = xp.permute_dims(xp.reshape(out, (K, X.shape[0], Oh, Ow)), (1, 0, 2, 3))
    return out, (tuple(X.shape), W, cols, S, P)


def conv_backward(dout, cache):
    """Lan truyền ngược qua tầng tích chập vector hoá. Trả về (dX, dW, db).

    Với dout_col (K, m·O_h·O_w): dW = dout_col · colsᵀ, db = Σ dout, dcols = W_colᵀ · dout_col, rồi
    ``col2im`` cộng dồn dcols về dX.
    """
    X_shape, W, cols, S, P = cache
    xp = backend.namespace(dout)
    K, _, F, _ = W.shape
    dout_col = xp.reshape(xp.permute_dims(dout, (1, 0, 2, 3)), (K, -1))
    dW = xp.reshape(dout_col @ cols.T, W.shape)
    db = xp.sum(dout_col, axis=1)
    dX = col2im(xp.reshape(W, (K, -1)).T @ dout_col, X_shape, F, S, P)
    return dX, dW, db


_POOL_MODES = ("max", "avg")


def _check_pool_mode(mode):
    if mode not in _POOL_MODES:
        raise ValueError(
            f"Kiểu gộp không hợp lệ: {mode!r}. Chỉ chấp nhận 'max' (cực đại) hoặc 'avg' (trung bình)."
        )


def pool_forward_naive(X, F=2, S=None, mode="max"):
    """Tầng gộp, bản vòng lặp: mỗi cửa sổ F × F của từng kênh cho một số (max hoặc trung bình).

    X: (m, C, H, W); S mặc định bằng F (cửa sổ không chồng nhau). Không có tham số.
    Trả về (out (m, C, O_h, O_w), cache).
    """
    _check_images("X", X)
    _check_pool_mode(mode)
    S = F if S is None else S
    xp = backend.namespace(X)
    Oh, Ow = _out_hw(X, F, S, 0)
    out = xp.zeros(
        (X.shape[0], X.shape[1], Oh, Ow), dtype=X.dtype, device=getattr(X, "device", None)
    )
    for i in range(Oh):
        for j in range(Ow):
            window = X[:, :, i * S : i * S + F, j * S : j * S + F]
            red = xp.max if mode == "max" else xp.mean
            out[:, :, i, j] = red(window, axis=(2, 3))
    return out, (X, F, S, mode)


def pool_backward_naive(dout, cache):
    """Lan truyền ngược qua tầng gộp, bản vòng lặp. Trả về dX.

    Gộp cực đại: gradient của mỗi cửa sổ chỉ về ô lớn nhất (ô đầu tiên nếu có nhiều ô bằng nhau,
    như PyTorch). Gộp trung bình: chia đều dout/(F·F) cho mọi ô của cửa sổ.
    """
    X, F, S, mode = cache
    xp = backend.namespace(dout)
    dX = xp.zeros_like(X)
    _, _, Oh, Ow = dout.shape
    pos = xp.reshape(xp.arange(F * F, device=getattr(X, "device", None)), (F, F))
    for i in range(Oh):
        for j in range(Ow):
            g = dout[:, :, i, j][:, :, None, None]
            if mode == "avg":
                dX[:, :, i * S : i * S + F, j * S : j * S + F] += g / (F * F)
                continue
            window = X[:, :, i * S : i * S + F, j * S : j * S + F]
            first = xp.argmax(xp.reshape(window, (X.shape[0], X.shape[1], F * F)), axis=2)
            mask = xp.astype(pos[None, None] == first[:, :, None, None], dout.dtype)
            dX[:, :, i * S : i * S + F, j * S : j * S + F] += g * mask
    return dX


def _pool_patches(X, F, S):
    """Các ô của mọi cửa sổ: mảng (m, C, F·F, O_h, O_w) (F·F lát cắt có bước nhảy S)."""
    xp = backend.namespace(X)
    Oh, Ow = _out_hw(X, F, S, 0)
    patches = [
        X[:, :, u : u + S * (Oh - 1) + 1 : S, v : v + S * (Ow - 1) + 1 : S]
        for u in range(F)
        for v in range(F)
    ]
    return xp.stack(patches, axis=2)


def pool_forward(X, F=2, S=None, mode="max"):
    """Tầng gộp vector hoá: lấy max (hoặc trung bình) trên trục F·F của ``_pool_patches``.

    Cùng kết quả với ``pool_forward_naive``. Trả về (out (m, C, O_h, O_w), cache).
    """
    _check_images("X", X)
    _check_pool_mode(mode)
    S = F if S is None else S
    xp = backend.namespace(X)
    patches = _pool_patches(X, F, S)
    if mode == "avg":
        return xp.mean(patches, axis=2), (tuple(X.shape), F, S, mode, None)
    first = xp.argmax(patches, axis=2)  # (m, C, O_h, O_w): vị trí ô lớn nhất trong cửa sổ
    return xp.max(patches, axis=2), (tuple(X.shape), F, S, mode, first)


def pool_backward(dout, cache):
    """Lan truyền ngược qua tầng gộp vector hoá. Trả về dX (cùng kết quả với bản vòng lặp)."""
    X_shape, F, S, mode, first = cache
    xp = backend.namespace(dout)
    m, C, H, W = X_shape
    Oh, Ow = dout.shape[2], dout.shape[3]
    if mode == "avg":
        share = xp.stack([dout / (F * F)] * (F * F), axis=2)
    else:
        pos = xp.arange(F * F, device=getattr(dout, "device", None))[None, None, :, None, None]
        share = xp.astype(pos == first[:, :, None], dout.dtype) * dout[:, :, None]
    dX = xp.zeros((m, C, H, W), dtype=dout.dtype, device=getattr(dout, "device", None))
    for k in range(F * F):
        u, v = divmod(k, F)
        dX[:, :, u : u + S * (Oh - 1) + 1 : S, v : v + S * (Ow - 1) + 1 : S] += share[:, :, k]
    return dX
