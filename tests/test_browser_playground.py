"""Sân chơi huấn luyện (``nblib.presentation.playground.Playground``) trên trình duyệt thật: JupyterLab và Voilà.

Một notebook nhỏ chỉ có một sân chơi. Trong mỗi môi trường:

- bấm «Chạy» vài giây: bộ đếm bước tăng và điểm ảnh của canvas ranh giới quyết định thay đổi;
- tạm dừng, đổi tốc độ học α bằng bàn phím, bấm «Một bước»: khung hình mới báo bước đó dùng α mới,
  và bản đồ nhiệt trình duyệt tự tính từ tham số của khung (netMaps) trùng với bản đồ của Python;
- kéo α lên tận cùng (10) rồi chạy: widget báo «Phân kỳ…» bằng tiếng Việt và tự tạm dừng;
- không có output lỗi, không có "Error displaying widget", không lỗi JavaScript, và trang không gửi yêu
  cầu nào tới địa chỉ ngoài máy (JavaScript của widget nằm trong gói, không CDN).

Chạy riêng: ``.venv/bin/pytest -m browser tests/test_browser_playground.py``.
"""

from __future__ import annotations

import math
import pathlib
import time
import urllib.parse

import browser_utils as bu
import pytest

pytestmark = pytest.mark.browser

NB_DIR = bu.ARTIFACTS / "playground"
ROOT_SEL = ".nblib-pg"
NOTEBOOK_CODE = (
    "from nblib.presentation.playground import Playground\n\n"
    'pg = Playground(hidden=[8, 8], seed=1, title="Sân chơi kiểm thử")\n'
    "pg"
)


def _write_notebook():
    import nbformat

    NB_DIR.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Sân chơi"),
        nbformat.v4.new_code_cell(NOTEBOOK_CODE),
    ]
    path = NB_DIR / "san_choi.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def notebook():
    return _write_notebook()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.errors_seen = []
    page.remote_requests = []
    page.on("pageerror", lambda exc: page.errors_seen.append(f"lỗi JavaScript: {exc}"))

    def on_request(req):
        url = urllib.parse.urlparse(req.url)
        if url.scheme in ("data", "blob", "about"):
            return
        if url.hostname not in ("127.0.0.1", "localhost"):
            page.remote_requests.append(req.url)

    page.on("request", on_request)
    yield page
    page.close()


def _step(page):
    return int(page.locator(ROOT_SEL).first.get_attribute("data-step") or "0")


def _playing(page):
    return page.locator(ROOT_SEL).first.get_attribute("data-playing") == "1"


def _output_png(page):
    canvas = page.locator(f"{ROOT_SEL} canvas.pg-output").first
    canvas.scroll_into_view_if_needed()
    return canvas.screenshot(animations="disabled")


def _wait(predicate, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if predicate():
            return time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError(f"Quá {timeout} s mà chưa thấy: {what}")


def _exercise(page, where, allowed_remote=()):
    """Các bước kiểm thử chung cho JupyterLab và Voilà (trang đã hiện sân chơi)."""
    root = page.locator(ROOT_SEL).first
    root.wait_for(timeout=120_000)
    _wait(lambda: root.get_attribute("data-frames") is not None, 60, "khung hình đầu tiên")
    assert not _playing(page), f"{where}: sân chơi không được tự chạy khi notebook vừa chạy xong"

    # 1. chạy vài giây: bộ đếm bước tăng, canvas đổi
    before_png, step0 = _output_png(page), _step(page)
    root.locator("button.pg-play").click()
    _wait(lambda: _playing(page), 10, "trạng thái đang chạy")
    time.sleep(3)
    step1 = _step(page)
    assert step1 > step0 + 20, f"{where}: bộ đếm bước chỉ từ {step0} lên {step1} sau 3 s chạy"
    assert bu.images_differ(before_png, _output_png(page), min_fraction=0.01), (
        f"{where}: canvas ranh giới quyết định không đổi sau 3 s chạy"
    )

    # 2. tạm dừng, đổi α, một bước → α mới có hiệu lực ở bước đó
    root.locator("button.pg-play").click()
    _wait(lambda: not _playing(page), 10, "trạng thái tạm dừng")
    time.sleep(0.5)
    paused_step = _step(page)
    slider = root.locator("input.pg-lr")
    slider.focus()
    for _ in range(4):
        slider.press("ArrowLeft")
    new_lr = round(10 ** float(slider.input_value()), 12)
    lr_before = root.evaluate("e => e.parentElement.__pg.lastLr")
    assert not math.isclose(new_lr, lr_before, rel_tol=1e-3), (new_lr, lr_before)
    time.sleep(0.5)
    assert _step(page) == paused_step, f"{where}: đang tạm dừng mà bộ đếm bước vẫn tăng"
    root.locator("button.pg-step").click()
    _wait(lambda: _step(page) == paused_step + 1, 20, "bộ đếm tăng đúng một bước")
    frame_lr = root.evaluate("e => e.parentElement.__pg.lastLr")
    assert math.isclose(frame_lr, float(f"{new_lr:.3g}"), rel_tol=1e-6), (
        f"{where}: bước vừa chạy dùng α = {frame_lr}, thanh trượt là {new_lr:.3g}"
    )
    readout = root.locator(".pg-readout").inner_text()
    assert "α = " in readout and "," in readout, readout
    # bản đồ nhiệt tính trong trình duyệt (netMaps) từ tham số của khung hình trùng với bản đồ kernel
    # gửi (grid_images của Python): đầu ra và 16 nơ-ron ẩn trên lưới 40 × 40
    cmp = root.evaluate("e => e.parentElement.__pg.compareMaps()")
    assert cmp["n"] == 17 * 40 * 40 and cmp["worst"] <= 1 and cmp["differ"] <= 0.001 * cmp["n"], cmp

    # 3. α cực lớn → thông báo phân kỳ tiếng Việt, tự tạm dừng
    slider.focus()
    slider.press("End")
    root.locator("button.pg-play").click()
    _wait(
        lambda: "Phân kỳ" in root.locator(".pg-message").inner_text() and not _playing(page),
        60,
        "thông báo «Phân kỳ» và trạng thái tạm dừng",
    )
    msg = root.locator(".pg-message").inner_text()
    assert "tốc độ học α" in msg, msg
    step_div = _step(page)
    time.sleep(1.0)
    assert _step(page) == step_div and not _playing(page), f"{where}: vẫn chạy sau khi phân kỳ"

    problems = bu.page_problems(page, "body")
    assert not problems, f"{where}: {problems}"
    assert "Error displaying widget" not in page.inner_text("body")
    assert not page.errors_seen, page.errors_seen
    remote = [u for u in page.remote_requests if u not in allowed_remote]
    assert not remote, f"{where}: yêu cầu ra ngoài máy: {remote[:5]}"


def test_playground_in_jupyterlab(browser, page, notebook):
    server = bu.start_lab()
    rel = notebook.relative_to(bu.ROOT).as_posix()
    try:
        with bu.screenshot_on_failure(page, "playground_lab"):
            page.goto(f"{server.url}/lab/workspaces/pg/tree/{rel}?reset&token={server.token}")
            bu.wait_kernel_ready(page, server, rel)
            prompts, _ = bu.run_all_cells(page, timeout=300)
            assert all("[" in p and "*" not in p for p in prompts), prompts
            _exercise(page, "JupyterLab")
    finally:
        server.shutdown_kernels()
        server.stop()
        bu.cleanup_dir(server.tmpdir)


def test_playground_in_voila(browser, page, notebook):
    server = bu.start_voila(notebook.relative_to(bu.ROOT))
    try:
        with bu.screenshot_on_failure(page, "playground_voila"):
            page.goto(server.url + "/", timeout=300_000, wait_until="domcontentloaded")
            page.wait_for_selector(ROOT_SEL, timeout=300_000)
            assert page.locator(".jp-InputArea-editor:visible").count() == 0
            _exercise(page, "Voilà")
    finally:
        server.stop()
        bu.cleanup_dir(server.tmpdir)


def test_notebook_is_outside_the_repo_tree():
    # notebook kiểm thử nằm trong test-artifacts/ (bị git bỏ qua), không làm bẩn repo
    assert "test-artifacts" in (bu.ROOT / ".gitignore").read_text()
    assert pathlib.Path(NB_DIR).is_relative_to(bu.ROOT)
