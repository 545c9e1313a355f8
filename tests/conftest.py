"""Tiện ích kiểm thử dùng chung: thực thi notebook (một lần cho mỗi bộ ô bổ sung) và lấy kết quả."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import warnings

import browser_utils
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

_CACHE: dict = {}

_DUMP = """
import json as _json
def _tojson(v):
    try:
        import numpy as _np
        if isinstance(v, _np.ndarray):
            return v.tolist()
        if isinstance(v, _np.generic):
            return v.item()
    except Exception:
        pass
    if hasattr(v, "detach"):
        return v.detach().cpu().tolist()
    if isinstance(v, dict):
        return {str(k): _tojson(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_tojson(x) for x in v]
    return v
print("__TEST_RESULTS__" + _json.dumps(_tojson(globals().get("__test_results__", {}))))
"""


def run_notebook(path, extra_cells=(), timeout=600):
    """Thực thi notebook `path` (tương đối với gốc repo) bằng nbclient, rồi các ô `extra_cells`.

    Các ô bổ sung có thể ghi vào dict `__test_results__` (đã có sẵn, rỗng); hàm trả về
    `(nb, results)` với `results` là dict đó sau khi chuyển sang JSON (mảng -> list).
    Kết quả được lưu đệm theo (path, extra_cells) trong một phiên pytest.
    """
    import nbformat
    from nbclient import NotebookClient

    key = (str(path), tuple(extra_cells))
    if key in _CACHE:
        return _CACHE[key]
    full = ROOT / path
    nb = nbformat.read(full, as_version=4)
    n_orig = len(nb.cells)
    nb.cells.insert(0, nbformat.v4.new_code_cell("__test_results__ = {}"))
    for src in extra_cells:
        nb.cells.append(nbformat.v4.new_code_cell(src))
    nb.cells.append(nbformat.v4.new_code_cell(_DUMP))
    env_backup = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client = NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(full.parent)}},
            )
            client.execute()
    finally:
        if env_backup is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backup
    results = {}
    for out in nb.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if "__TEST_RESULTS__" in text:
            results = json.loads(text.split("__TEST_RESULTS__", 1)[1])
    nb.cells = nb.cells[1 : 1 + n_orig]
    _CACHE[key] = (nb, results)
    return nb, results


def error_outputs(nb):
    """Danh sách các output lỗi (error hoặc stderr có 'Traceback'/'Warning') trong notebook đã chạy."""
    bad = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                bad.append((i, out.get("ename"), out.get("evalue")))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                if "Traceback" in text or "Warning" in text or "Error" in text:
                    bad.append((i, "stderr", text[:500]))
    return bad


def all_output_text(nb):
    """Toàn bộ văn bản output (stream + text/plain) của notebook đã chạy, để tìm số liệu."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append(out["text"])
            data = out.get("data", {})
            if "text/plain" in data:
                parts.append(data["text/plain"])
    return "\n".join(parts)


def run_grading_cli(*args, env=None, cwd=None, timeout=900):
    """Chạy ``python -m grading <args>`` như giảng viên gõ lệnh; ``env`` bổ sung vào môi trường hiện tại."""
    return subprocess.run(
        [sys.executable, "-m", "grading", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd or ROOT,
        timeout=timeout,
    )


@pytest.fixture
def notebook_runner():
    return run_notebook


# ---------------------------------------------------------------------------
# trình duyệt thật (Playwright + chromium), MỘT phiên cho mọi mô-đun kiểm thử trình duyệt: hai
# `sync_playwright` trong cùng luồng thì cái sau báo lỗi "Sync API inside the asyncio loop".
# ---------------------------------------------------------------------------


def _require_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if browser_utils.must_have_browser():
            pytest.fail("Thiếu gói Python playwright: hãy chạy `make setup`.")
        pytest.skip("Thiếu gói Python playwright (cài bằng `make setup`).")
    if not browser_utils.chromium_available():
        if browser_utils.must_have_browser():
            pytest.fail(
                f"Không thấy chromium ở {browser_utils.CHROMIUM}: hãy chạy `make sysdeps` "
                "(apt-get install chromium) — đang chạy với quyền root/CI nên không được bỏ qua."
            )
        pytest.skip(
            f"Không thấy chromium ở {browser_utils.CHROMIUM} và không có quyền root để cài: "
            "hãy chạy `sudo apt-get install chromium` rồi chạy lại."
        )


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"tín hiệu {signum}")


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    # Bị dừng bằng SIGTERM (ví dụ `timeout`): vẫn chạy phần dọn dẹp, không bỏ lại máy chủ/trình duyệt.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with sync_playwright() as p:
            context, profile = browser_utils.launch_browser(p)
            try:
                yield context
            finally:
                context.close()
                browser_utils.cleanup_dir(profile)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------------
# Bốn tầng kiểm thử, gán theo tệp: `pytest -m unit` (vài chục giây), `-m notebooks` (thực thi bài giảng
# và bài tập), `-m grading` (chấm đầu-cuối: hộp cát, exchange, Dask, JupyterHub), `-m browser`
# (JupyterLab/Voilà trong chromium). `make test` chạy cả bốn trong một lần; các tầng nặng được xếp
# trước để hai tiến trình pytest-xdist (--dist loadfile) không phải chờ một tệp dài bắt đầu sau cùng.
# ---------------------------------------------------------------------------

TIERS = ("browser", "grading", "notebooks", "unit")
GRADING_FILES = {
    "test_cluster.py",
    "test_exchange.py",
    "test_grading.py",
    "test_hub.py",
    "test_sandbox.py",
    "test_verdict.py",
}
NOTEBOOK_FILES = {"test_homework.py", "test_quiz.py"}


def tier_of(filename: str) -> str:
    """Tầng của một tệp kiểm thử (theo tên tệp)."""
    if filename.startswith("test_browser"):
        return "browser"
    if filename in GRADING_FILES:
        return "grading"
    if filename.startswith("test_lecture_") or filename in NOTEBOOK_FILES:
        return "notebooks"
    return "unit"


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(item.path.name)))
    # sắp xếp ổn định: tầng nặng trước, trong mỗi tầng giữ thứ tự tệp và thứ tự trong tệp
    items.sort(key=lambda it: TIERS.index(tier_of(it.path.name)))
