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
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "conv_output_size",
    "padding",
    "conv_params",
    "fc_params",
    "receptive_field",
    "PADDING_MODES",
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
