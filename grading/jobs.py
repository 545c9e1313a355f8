"""Một việc phán quyết (`Job`) và hàm chạy nó: gửi được tới tiến trình con của pool hay tới worker
của cluster (tự đủ: notebook đã làm sạch, tệp đi kèm, giới hạn, danh sách hàm tham chiếu bị ẩn)."""

from __future__ import annotations

import dataclasses
import pathlib
import tempfile

from grading.sandbox import pool
from grading.sandbox.limits import SandboxLimits


@dataclasses.dataclass(frozen=True)
class Job:
    """Một việc phán quyết, tự đủ: gửi được tới tiến trình con hay worker của cluster."""

    nb_json: str  # notebook đã làm sạch (có kiểm thử ẩn: chỉ đi tới máy chấm, không tới hộp cát)
    files: tuple  # (nguồn, đường dẫn tương đối); nguồn là đường dẫn hoặc nội dung (bytes)
    limits: SandboxLimits
    withheld: tuple[str, ...]
    lib_root: str | None = None  # None: thư mục tạm của máy chạy việc
    trusted_cells: tuple[str, ...] | None = None  # ô khoá (không kiểm thử) của notebook GỐC


def embed_files(job: Job) -> Job:
    """Bản của `job` mang theo nội dung tệp (cho worker ở máy khác)."""
    files = tuple(
        (src if isinstance(src, bytes) else pathlib.Path(src).read_bytes(), rel)
        for src, rel in job.files
    )
    return dataclasses.replace(job, files=files, lib_root=None)


def run_job(job: Job) -> tuple[str, list[str]]:
    """Phán quyết một notebook đã làm sạch; trả về (notebook JSON có output, cờ)."""
    import nbformat

    from grading import rules
    from grading.judge import Judge
    from grading.sandbox import library

    nb = nbformat.reads(job.nb_json, as_version=4)
    lib = library.build(job.withheld, pathlib.Path(job.lib_root) if job.lib_root else None)
    with tempfile.TemporaryDirectory(prefix="tep-di-kem-") as tmp:
        files = []
        for i, (src, rel) in enumerate(job.files):
            if isinstance(src, bytes):
                path = pathlib.Path(tmp) / f"{i}"
                path.write_bytes(src)
                src = str(path)
            files.append((src, rel))
        judge = Judge(
            lib,
            files,
            job.limits,
            slot=pool.slot(),
            references=rules.reference_tokens(job.withheld),
            trusted_cells=job.trusted_cells,
        )
        nb, flags = judge.run(nb)
    return nbformat.writes(nb), flags
