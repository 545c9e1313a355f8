"""Giới hạn tài nguyên của một bài nộp (cấu hình được bằng biến môi trường)."""

from __future__ import annotations

import dataclasses
import os

_LIMIT_ENV = {
    "memory_mb": "GRADING_SANDBOX_MEMORY_MB",
    "max_processes": "GRADING_SANDBOX_NPROC",
    "notebook_timeout": "GRADING_NOTEBOOK_TIMEOUT",
    "max_output_chars": "GRADING_MAX_OUTPUT_CHARS",
    "max_notebook_output_chars": "GRADING_MAX_NOTEBOOK_OUTPUT_CHARS",
    "max_file_mb": "GRADING_SANDBOX_FILE_MB",
    "disk_mb": "GRADING_SANDBOX_DISK_MB",
    "max_files": "GRADING_SANDBOX_MAX_FILES",
    "extra_files_mb": "GRADING_EXTRA_FILES_MB",
    "max_extra_files": "GRADING_MAX_EXTRA_FILES",
}


@dataclasses.dataclass(frozen=True)
class SandboxLimits:
    """Giới hạn áp cho tiến trình chạy bài nộp và cho những gì bài nộp mang theo."""

    memory_mb: int = 2048  # không gian địa chỉ của mỗi tiến trình (RLIMIT_AS)
    max_processes: int = 64  # tiến trình + luồng của uid hộp cát (RLIMIT_NPROC)
    cell_timeout: int = 60  # giây cho mỗi ô của học viên và mỗi lần bộ chấm gọi hàm
    notebook_timeout: int = 600  # giây cho cả bài nộp (đồng hồ thực)
    max_output_chars: int = 20_000  # output giữ lại cho mỗi ô
    max_notebook_output_chars: int = 400_000  # output giữ lại cho cả notebook (kể cả lỗi, hình)
    max_file_mb: int = 64  # kích thước một tệp được ghi (RLIMIT_FSIZE)
    disk_mb: int = 128  # dung lượng tmpfs riêng của bài nộp (thư mục làm việc, /tmp, /dev/shm)
    max_files: int = 4096  # số tệp/thư mục tối đa trên tmpfs đó
    extra_files_mb: int = 20  # tổng dung lượng tệp đi kèm bài nộp được nhận
    max_extra_files: int = 100  # số tệp đi kèm bài nộp được nhận
    enabled: bool = True  # False: chạy không có hộp cát (chỉ để gỡ lỗi)

    @classmethod
    def from_env(cls, **overrides) -> SandboxLimits:
        values: dict = {}
        for key, env in _LIMIT_ENV.items():
            if os.environ.get(env):
                values[key] = int(os.environ[env])
        if os.environ.get("GRADING_SANDBOX", "").lower() in ("0", "off", "false", "no"):
            values["enabled"] = False
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
