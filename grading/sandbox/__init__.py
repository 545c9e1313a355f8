"""Hộp cát chấm điểm, chia theo việc: giới hạn (`limits`), cô lập (`isolation`), thư viện bên trong
(`library`), phiên chạy và kênh (`session`), pool tiến trình (`pool`), mã chạy bên trong (`inside`).
"""

from grading.sandbox.isolation import Isolation, probe
from grading.sandbox.limits import SandboxLimits

__all__ = ["Isolation", "SandboxLimits", "probe"]
