"""Chấm trên một cluster Dask thật: một `dask scheduler` và hai `dask worker` (tiến trình riêng) trên
localhost, 12 bài nộp, một worker bị giết giữa lần chấm. Mọi điểm phải có mặt và bằng lần chấm tuần
tự; chấm tiếp (`--resume`) không chấm lại bài đã ghi điểm."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import run_grading_cli

from grading.cluster import parse
from grading.config import REPO_ROOT
from grading.synthetic import answer_ids, make_submission

A = "bt02_ham_kich_hoat"
EX = REPO_ROOT / "exercises" / A / f"{A}.ipynb"
SOL = REPO_ROOT / "solutions" / A / f"{A}.ipynb"
BIN = pathlib.Path(sys.executable).parent


def test_parse_cluster_spec():
    assert parse("local:3") == ("local", 3)
    assert parse("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "local:x", "may-chu"):
        with pytest.raises(ValueError):
            parse(bad)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_class(root: pathlib.Path, n: int = 12) -> None:
    import nbformat

    ids = answer_ids(nbformat.read(str(SOL), as_version=4))
    for i in range(n):
        out = root / f"sv{i:02d}" / A / f"{A}.ipynb"
        make_submission(EX, SOL, out, solved=ids[: i % (len(ids) + 1)], marker=f"sv{i:02d}")


def _scores(stdout: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r"^(sv\d\d)\s+\S+\s+(\S+/\S+)\s+đã chấm", stdout, re.M)
    }


@pytest.fixture
def dask_cluster(tmp_path):
    port = _free_port()
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "2"}
    procs = []
    sched = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    procs.append(sched)
    address = f"tcp://127.0.0.1:{port}"
    workers = []
    for k in range(2):
        w = subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
             "--name", f"w{k}", "--no-dashboard", "--local-directory", str(tmp_path / f"w{k}")],
            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        workers.append(w)
        procs.append(w)
    from distributed import Client

    with Client(address, timeout=60) as c:
        c.wait_for_workers(2, timeout=120)
    try:
        yield address, workers
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait(timeout=30)


@pytest.mark.slow
def test_cluster_grades_equal_sequential_with_a_worker_killed(tmp_path, dask_cluster):
    address, workers = dask_cluster
    subs = tmp_path / "bai_nop"
    _make_class(subs)
    seq = run_grading_cli("--workspace", str(tmp_path / "ws1"), "autograde", str(subs),
                          "--workers", "1")  # fmt: skip
    expected = _scores(seq.stdout)
    assert len(expected) == 12, seq.stdout + seq.stderr

    def kill_one():
        time.sleep(4)  # giữa lần chấm (đã khởi động xong, còn việc đang chạy)
        workers[0].send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_one)
    killer.start()
    ws2 = tmp_path / "ws2"
    res = run_grading_cli("--workspace", str(ws2), "autograde", str(subs), "--cluster", address)
    killer.join()
    assert workers[0].poll() is not None, "worker chưa bị giết trong lúc chấm"
    got = _scores(res.stdout)
    assert got == expected, res.stdout + res.stderr
    assert f"Chấm 12 bài nộp với cluster {address}" in res.stdout

    # chấm tiếp: không chấm lại gì, điểm giữ nguyên
    again = run_grading_cli("--workspace", str(ws2), "autograde", str(subs), "--cluster", address,
                            "--resume")  # fmt: skip
    assert "12 bài đã được chấm ở lần chạy trước" in again.stdout, again.stdout + again.stderr
    assert _scores(again.stdout) == expected
    lines = (ws2 / "autograde-journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12  # không ghi hai lần
