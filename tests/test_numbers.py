"""Một quy ước số cho người đọc (glossary.md, mục Quy ước viết): dấu phẩy thập phân, "68,9 %",
"2,5·10⁻³"; ``comma`` (dùng trong f-string của bài giảng) và ``fmt``/``percent`` cho cùng một kết quả."""

from __future__ import annotations

import pytest

from nblib.presentation.plots import comma, fmt, percent


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (0.98372, ".3f", "0,984"),
        (2.5e-3, ".1e", "2,5·10⁻³"),
        (1.5e12, ".2e", "1,50·10¹²"),
        (0.689, ".1%", "68,9 %"),
        (-1.5, "+.1f", "-1,5"),
        (3.14159, ">8.2f", "    3,14"),
        (3.14159, "<6.1f", "3,1   "),
        (12, ".0f", "12"),
    ],
)
def test_comma_formats_like_format_with_a_decimal_comma(value, spec, expected):
    assert f"{comma(value):{spec}}" == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (1000.0, 3, "1000"),
        (999.6, 3, "1000"),
        (10.0, 1, "10"),
        (68.93, 3, "68,9"),
        (0.0123, 3, "0,0123"),
        (2.5e-4, 2, "2,5·10⁻⁴"),
        (123456.0, 3, "1,23·10⁵"),
        (float("nan"), 3, "—"),
        (None, 3, "—"),
    ],
)
def test_fmt_never_prints_python_exponents(value, digits, expected):
    out = fmt(value, digits)
    assert out == expected
    assert "e+" not in out and "e-" not in out and "." not in out


def test_percent_and_comma_agree():
    assert percent(0.689) == f"{comma(0.689):.1%}" == "68,9 %"
