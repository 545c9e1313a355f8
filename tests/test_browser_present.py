"""Chế độ giảng viên (``make demo``) và những điều học viên thấy, trên chromium thật.

- Bản trình chiếu chỉ hiện ô có thẻ ``trinh-chieu`` (tiêu đề, hình chính, demo), không hiện mã, chữ
  thân bài ≥ 16 px ở 1280×720, hình co theo cửa sổ khi phóng to 150 % (không bị cắt);
- không yêu cầu nào rời máy khi mở trang và kéo thanh trượt (Voilà; JupyterLab: tests/test_browser.py);
- sau khi kéo thanh trượt, nhãn trục không đè lên nhãn vạch chia (hộp bao lấy từ chính hình matplotlib);
- quay lại một giá trị đã xem thì trình duyệt tự đổi hình (bộ đệm khung hình), chữ và hình cùng khung.

Chạy riêng: ``.venv/bin/pytest -m browser tests/test_browser_present.py``.
"""

from __future__ import annotations

import json
import pathlib

import browser_utils as bu
import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = bu.ROOT
LECTURE = "lectures/06_khoi_tao_trong_so.ipynb"


@pytest.fixture(scope="module")
def present_server(browser):
    server = bu.start_present(ROOT / LECTURE, preheat=True)  # như make demo: kernel hâm nóng sẵn
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
    page.wait_for_selector(bu.FIGURE, state="visible", timeout=300_000)
    bu.wait_figures_painted(page)
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
            # Tiêu đề của mọi ô markdown có thẻ đều hiện (lấy từ chính bài: lời bài có thể đổi).
            heads = [
                c.source.splitlines()[0].lstrip("#").strip()
                for c in tagged
                if c.cell_type == "markdown" and c.source.startswith("#")
            ]
            assert heads and all(h in text for h in heads), (heads, text[:300])
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
                  const c = (el.tagName === 'CANVAS' ? el : el.querySelector('canvas'))
                    .getBoundingClientRect();
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
    page, urls, _ = _open(browser, present_server.url + "/", 1280, 720)
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
                handle = sliders.nth(s).locator(".noUi-handle").first
                now = 10 ** float(handle.get_attribute("aria-valuenow"))
                values = json.loads(diag.get_attribute("data-values"))
                # Số đo là của đúng khung hình đang hiện (giá trị hệ số của khung = giá trị thanh trượt).
                assert any(isinstance(v, float) and abs(v - now) <= 0.05 * now for v in values), (
                    values,
                    now,
                )
                seen.append(
                    (
                        tuple(values),
                        int(diag.get_attribute("data-overlaps")),
                        diag.get_attribute("data-detail"),
                    )
                )
            assert len({v for v, _, _ in seen}) == 3, seen
            assert all(n == 0 for _, n, _ in seen), seen
            # Mở trang và kéo thanh trượt: không yêu cầu nào rời máy.
            assert bu.remote_requests(urls) == [], bu.remote_requests(urls)
    finally:
        page.close()


def test_value_already_shown_is_swapped_in_by_the_browser(browser, present_server):
    page, urls, errors = _open(browser, present_server.url + "/", 1280, 720)
    try:
        with bu.screenshot_on_failure(page, "present_06_cache"):
            demo = page.locator(bu.DEMO_ROOT).first
            sliders = demo.locator(".widget-slider")
            labels = [sliders.nth(i).inner_text() for i in range(sliders.count())]
            s = next(i for i, t in enumerate(labels) if "hệ số" in t.lower())
            figure = demo.locator(".nblib-figure").first
            shown = []
            for key in ("ArrowRight", "ArrowLeft"):
                before = bu.wait_settled(page, 0)
                bu.move_slider(page, 0, s, key=key)
                bu.wait_canvas_changed(page, 0, before, timeout=120)
                bu.wait_settled(page, 0)
                shown.append(figure.get_attribute("data-local"))
            # Về lại giá trị ban đầu: khung hình có sẵn trong trình duyệt, hiện không chờ kernel; và
            # dòng trạng thái là của đúng khung hình đó (cùng một phần tử với hình).
            assert shown[-1] == "1", shown
            state = page.evaluate(
                """(el) => ({shown: el._nblib.shown, frames: el._nblib.frames.size,
                             local: el._nblib.stats.local,
                             status: el.querySelector('.nblib-status').textContent,
                             cached: Object.assign(document.createElement('div'),
                               {innerHTML: el._nblib.frames.get(el._nblib.shown).status}).textContent})""",
                figure.element_handle(),
            )
            assert state["frames"] >= 2 and state["local"] >= 1, state
            assert state["status"] == state["cached"], state
            assert bu.remote_requests(urls) == []
            assert not errors, errors
    finally:
        page.close()
