"""Pool tiến trình chấm song song. Mỗi tiến trình con có một số thứ tự riêng (→ uid hộp cát riêng,
nên giới hạn số tiến trình của một bài nộp không đụng bài khác) và không bao giờ mở sổ điểm."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os

_SLOT = 0


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def slot() -> int:
    return _SLOT


def set_slot(value: int) -> None:
    """Số thứ tự của tiến trình chấm này (worker của cluster tự đặt)."""
    global _SLOT
    _SLOT = int(value)


def _init_worker(counter) -> None:
    import signal

    global _SLOT
    with counter.get_lock():
        counter.value += 1
        _SLOT = counter.value
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C do tiến trình chính xử lý


def make_pool(workers: int) -> cf.ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(ctx.Value("i", 0),),
    )
