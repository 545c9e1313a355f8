"""Chế độ giảng viên (``make demo``) và những điều học viên thấy, trên chromium thật.

- Bản trình chiếu chỉ hiện ô có thẻ ``trinh-chieu`` (tiêu đề, hình chính, demo), không hiện mã, chữ
  thân bài ≥ 16 px ở 1280×720, hình co theo cửa sổ khi phóng to 150 % (không bị cắt);
- không yêu cầu nào rời máy (Voilà và JupyterLab);
- sau khi kéo thanh trượt, nhãn trục không đè lên nhãn vạch chia (hộp bao lấy từ chính hình matplotlib).

Chạy riêng: ``.venv/bin/pytest -m browser tests/test_browser_present.py``.
"""

from __future__ import annotations

import pathlib

import browser_utils as bu
import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = bu.ROOT
LECTURE = "lectures/06_khoi_tao_trong_so.ipynb"


@pytest.fixture(scope="module")
def present_server(browser):
    server = bu.start_present(ROOT / LECTURE)
    try:
        yield server
    finally:
        server.stop()
        bu.cleanup_dir(server.tmpdir)


def _open(browser, url, width, height):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": height})
    urls = bu.record_requests(page)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url, wait_until="domcontentloaded", timeout=300_000)
    page.wait_for_selector(f"{bu.CANVAS} canvas", state="visible", timeout=300_000)
    page.wait_for_selector(".nblib-pg", timeout=120_000)
    return page, urls, errors


def test_demo_view_shows_only_tagged_cells_without_code(browser, present_server):
    page, urls, errors = _open(browser, present_server.url + "/", 1280, 720)
    try:
        with bu.screenshot_on_failure(page, "present_06"):
            nb = nbformat.read(ROOT / LECTURE, as_version=4)
            tagged = [c for c in nb.cells if "trinh-chieu" in c.metadata.get("tags", [])]
            shown = page.locator("#rendered_cells .jp-Cell").count()
            assert shown == len(tagged), (shown, len(tagged))
            assert page.locator(".jp-InputArea-editor").count() == 0
            assert page.locator(".jp-CodeCell .jp-InputArea:visible").count() == 0
            assert "demo_compute" not in page.inner_text("body")  # mã nguồn không hiện
            text = page.inner_text("#rendered_cells")
            assert "Bài 06" in text and "Thử nghiệm tương tác" in text
            # Ô không có thẻ (tự kiểm tra, bài tập, tài liệu tham khảo) không hiện.
            for hidden in ("Tự kiểm tra", "Bài tập", "Tài liệu tham khảo", "Executing"):
                assert hidden not in text, hidden
            # Chữ cho máy chiếu: thân bài và nhãn widget ≥ 16 px ở 1280×720.
            sizes = page.evaluate(
                """() => [...document.querySelectorAll(
                    '#rendered_cells .jp-RenderedHTMLCommon p, #rendered_cells .widget-label')]
                  .filter(e => e.offsetParent && e.textContent.trim())
                  .map(e => parseFloat(getComputedStyle(e).fontSize))"""
            )
            assert sizes and min(sizes) >= 16, sizes
            assert bu.remote_requests(urls) == []
            assert not errors, errors
    finally:
        page.close()


def test_demo_view_figures_follow_window_width_at_150_percent(browser, present_server):
    # Phóng to 150 % trên màn hình 1280×720 tương đương khung nhìn 853×480 điểm ảnh CSS.
    page, urls, _ = _open(browser, present_server.url + "/", 853, 480)
    try:
        with bu.screenshot_on_failure(page, "present_06_zoom150"):
            rows = page.evaluate(
                """(sel) => [...document.querySelectorAll(sel)].map(el => {
                  const r = el.getBoundingClientRect();
                  const c = el.querySelector('canvas').getBoundingClientRect();
                  return {fig: r.width, canvas: c.width, h: c.height,
                          page: document.documentElement.clientWidth};
                })""",
                bu.CANVAS,
            )
            assert rows
            for r in rows:
                assert r["canvas"] <= r["page"], r
                assert r["h"] > 50, r
            assert bu.clipped_figures(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= 853 + 1
            assert bu.remote_requests(urls) == []
    finally:
        page.close()


def test_demo_notebook_keeps_only_needed_cells():
    from nblib.presentation import present

    nb = nbformat.read(ROOT / LECTURE, as_version=4)
    demo = present.build_demo_notebook(nb)
    assert 0 < len(demo.cells) < len(nb.cells) // 2
    assert all(not c.get("outputs") for c in demo.cells if c.cell_type == "code")
    sources = "\n".join(c.source for c in demo.cells)
    assert "Demo(" in sources and "Playground(" in sources
    assert "quiz(" not in sources  # tự kiểm tra không chạy trong bản trình chiếu
    assert pathlib.Path(ROOT / ".gitignore").read_text().count(".trinh-chieu/") == 1


def test_axis_labels_do_not_overlap_tick_labels_after_slider_moves(browser, present_server):
    page, _, _ = _open(browser, present_server.url + "/", 1280, 720)
    try:
        with bu.screenshot_on_failure(page, "present_06_labels"):
            demo = page.locator(bu.DEMO_ROOT).first
            sliders = demo.locator(".widget-slider")
            labels = [sliders.nth(i).inner_text() for i in range(sliders.count())]
            s = next(i for i, t in enumerate(labels) if "hệ số" in t.lower())
            seen = []
            # Hệ số đi qua nhiều thập phân: nhãn vạch chia của trục log đổi độ rộng ("10⁻¹" → "10⁻⁵").
            for key, presses in (("ArrowLeft", 10), ("ArrowLeft", 10), ("ArrowRight", 25)):
                before = bu.wait_settled(page, 0)
                bu.move_slider(page, 0, s, key=key, presses=presses)
                bu.wait_canvas_changed(page, 0, before, timeout=120)
                bu.wait_settled(page, 0)
                diag = demo.locator(".nblib-diag").first
                seen.append(
                    (
                        int(diag.get_attribute("data-redraws")),
                        int(diag.get_attribute("data-overlaps")),
                        diag.get_attribute("data-detail"),
                    )
                )
            redraws = [r for r, _, _ in seen]
            assert redraws == sorted(redraws) and redraws[-1] > redraws[0], seen
            assert all(n == 0 for _, n, _ in seen), seen
    finally:
        page.close()
