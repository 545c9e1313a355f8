"""Số cho người đọc theo quy ước của khoá học (glossary.md, mục Quy ước viết): dấu phẩy thập phân,
"68,9 %", "2,5·10⁻³". Dùng chung cho thông điệp của nblib (huấn luyện, kiểm tra bài làm, bảng tìm kiếm)
và cho hình, chữ in ra trong bài giảng (``nblib.presentation.plots`` nhập lại từ đây)."""

from __future__ import annotations

import math
import re

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class comma(float):  # noqa: N801 — dùng như một hàm trong f-string: f"{comma(x):.3f}"
    """Một số in cho người đọc theo quy ước của khoá học (dấu phẩy thập phân, glossary.md), với định
    dạng như thường: ``f"{comma(0.98372):.3f}"`` → "0,984", ``f"{comma(2.5e-3):.1e}"`` → "2,5·10⁻³",
    ``f"{comma(0.689):.1%}"`` → "68,9 %"."""

    def __format__(self, spec):
        text = format(float(self), spec).strip()
        mantissa, e, exponent = text.partition("e")
        if e:
            text = mantissa + "·10" + str(int(exponent)).translate(_SUPERSCRIPT)
        if text.endswith("%"):
            text = text[:-1] + " %"
        width = re.match(r"(?:.?[<>^=])?[-+ ]?#?0?(\d*)", spec).group(1)
        align = "<" if "<" in spec[:2] else "^" if "^" in spec[:2] else ">"
        return format(text.replace(".", ","), align + width)


def fmt(x, digits=3):
    """Số → chuỗi có dấu phẩy thập phân, ``digits`` chữ số có nghĩa (0,0123; 68,9; 1000; 2,5·10⁻²)."""
    if x is None or not math.isfinite(x):
        return "—"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{comma(x):.{max(digits - 1, 0)}e}"
    text = f"{comma(x):.{digits}g}"
    # số nguyên lớn hơn 10^digits (hoặc làm tròn lên thành như vậy): "1000", không phải "1·10³"
    return f"{comma(x):.0f}" if "·10" in text else text


def percent(x, digits=1):
    """Tỉ lệ → phần trăm có dấu phẩy (0,689 → "68,9 %")."""
    return f"{comma(x):.{digits}%}"
