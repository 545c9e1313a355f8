"""Gửi việc phán quyết tới một cluster Dask (`dask.distributed`) thay cho pool tiến trình cục bộ.

    python -m grading autograde bai_nop/ --cluster local:4              # cluster Dask trên máy này
    python -m grading autograde bai_nop/ --cluster tcp://scheduler:8786 # scheduler đang chạy

Mỗi notebook là một task `run_on_worker(job)`: worker dựng hộp cát và phán quyết như pool cục bộ
(worker cần môi trường của khoá học và bubblewrap, KHÔNG cần sổ điểm hay `solutions/`: task mang
theo notebook đã làm sạch và tệp đi kèm). Tiến trình điều phối một mình ghi sổ điểm, theo thứ tự bài
nộp, nên điểm giống hệt `--workers 1`.

Worker chết giữa chừng: scheduler giao lại task cho worker khác. Một bài nộp làm chết mọi worker
mà nó chạm tới thì sau `allowed-failures` lần, task báo `KilledWorker`: bài được ghi trạng thái lỗi
kèm cờ, không chấm lại mãi và không ghi điểm.
"""

from __future__ import annotations

import contextlib
import hashlib

ALLOWED_FAILURES = 2  # số worker được phép chết vì một task trước khi bỏ cuộc


class WorkerKilled(RuntimeError):
    """Task làm chết quá nhiều worker."""


def parse(spec: str) -> tuple[str, object]:
    if spec.startswith("local:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"--cluster local:N cần N ≥ 1 (nhận được {spec!r})")
        return "local", n
    if "://" in spec:
        return "address", spec
    raise ValueError(
        f"--cluster không hiểu {spec!r}: dùng local:N hoặc địa chỉ scheduler như tcp://host:8786"
    )


def run_on_worker(job):
    """Chạy trên worker Dask: mỗi worker có một số thứ tự riêng (→ uid hộp cát riêng)."""
    from distributed import get_worker

    from grading.jobs import run_job
    from grading.sandbox import pool

    address = get_worker().address
    pool.set_slot(100 + int(hashlib.sha256(address.encode()).hexdigest(), 16) % 800)
    return run_job(job)


class DaskExecutor:
    """Bọc `distributed.Client` với giao diện `submit(fn, job) → future` như pool cục bộ."""

    def __init__(self, client, cluster=None):
        self.client, self.cluster = client, cluster

    def submit(self, job, key: str):
        return _Future(self.client.submit(run_on_worker, job, key=key, pure=False))

    def shutdown(self, wait=True, cancel_futures=True):
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


class _Future:
    def __init__(self, fut):
        self.fut = fut

    def result(self):
        from distributed import KilledWorker

        try:
            return self.fut.result()
        except KilledWorker as exc:
            raise WorkerKilled(
                f"bài nộp làm chết {ALLOWED_FAILURES + 1} worker liên tiếp, không chấm lại nữa"
            ) from exc


def connect(spec: str) -> DaskExecutor:
    import dask

    kind, value = parse(spec)
    dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES})
    from distributed import Client, LocalCluster

    if kind == "local":
        cluster = LocalCluster(
            n_workers=int(value),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_port=0,
        )
        return DaskExecutor(Client(cluster), cluster)
    return DaskExecutor(Client(str(value), timeout=30))
