"""Cài đặt chạy trong kernel khi chấm điểm: đưa cảnh báo Python ra stdout.

nbgrader coi mọi output stderr của ô kiểm thử là lỗi (0 điểm). Cảnh báo (RuntimeWarning của numpy,
DeprecationWarning, …) không phải lỗi của bài làm, nên ta in chúng ra stdout kèm ghi chú
"không trừ điểm". Module này được nạp bằng `--IPKernelApp.exec_lines=import grading.kernel_setup`.
"""

from __future__ import annotations

import os
import sys
import warnings

PREFIX = "⚠️ Cảnh báo (không trừ điểm)"


def _showwarning(message, category, filename, lineno, file=None, line=None):
    try:
        name = category.__name__
    except AttributeError:  # pragma: no cover
        name = str(category)
    sys.stdout.write(f"{PREFIX} {name}: {message}\n")


def install() -> None:
    """Chuyển mọi cảnh báo của module `warnings` sang stdout (idempotent)."""
    warnings.showwarning = _showwarning


# Chấm điểm luôn trên numpy/CPU float64: kết quả tái lập được, và không phải nạp torch (chậm vài giây).
os.environ["NBLIB_BACKEND"] = "numpy"
install()
