"""Độ trễ thật của các demo trong chromium: từ lúc đổi thanh trượt tới khi điểm ảnh của hình đổi.

Với mỗi bài ``lectures/NN_*.ipynb``: chạy chế độ giảng viên (``nblib.presentation.present``, Voilà, kernel hâm
nóng), mở trang trong chromium không giao diện (1280×720), đo thời gian tới widget tương tác đầu tiên,
rồi với mỗi demo (hình ipympl) chọn thanh trượt chính và:

- **chưa lưu đệm**: tiến ``k`` nấc, mỗi nấc là một giá trị mới (demo phải tính lại);
- **đã lưu đệm**: lùi ``k`` nấc về các giá trị vừa xem.

Mỗi lần đổi: JavaScript trong trang ghi ``performance.now()``, gửi phím mũi tên tới núm kéo, rồi theo dõi
từng khung hình (requestAnimationFrame) tới khi điểm ảnh của canvas đổi; cũng ghi lúc dòng trạng thái
dưới hình đổi (nếu có) để đo độ lệch chữ/hình. In các dòng ``tên: giá trị (mục tiêu …)``.

Chạy: ``.venv/bin/python bench/bench_demos_browser.py [lectures/06_khoi_tao_trong_so.ipynb ...] [--steps 5]``
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import browser_utils as bu  # noqa: E402

MEASURE_JS = """
async ([demoIndex, sliderIndex, key]) => {
  const demo = document.querySelectorAll('.widget-vbox:has(> .jupyter-matplotlib)')[demoIndex];
  const canvas = demo.querySelector('.jupyter-matplotlib-canvas-div canvas');
  const status = [...demo.children].at(-1);
  const handle = demo.querySelectorAll('.widget-slider')[sliderIndex].querySelector('.noUi-handle');
  const ctx = canvas.getContext('2d');
  const hash = () => {
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 28) h = (h * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) | 0;
    return h;
  };
  const h0 = hash(), s0 = status.innerHTML;
  let tText = null;
  const obs = new MutationObserver(() => {
    if (tText === null && status.innerHTML !== s0) tText = performance.now();
  });
  obs.observe(status, {subtree: true, childList: true, characterData: true});
  const t0 = performance.now();
  handle.focus();
  handle.dispatchEvent(new KeyboardEvent('keydown', {key, keyCode: key === 'ArrowRight' ? 39 : 37,
                                                     bubbles: true}));
  return await new Promise(resolve => {
    const tick = () => {
      const now = performance.now();
      if (hash() !== h0) {
        obs.disconnect();
        resolve({fig: now - t0, text: tText === null ? null : tText - t0});
      } else if (now - t0 > 60000) {
        obs.disconnect();
        resolve({fig: null, text: tText === null ? null : tText - t0});
      } else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
"""


def _median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return float("nan")
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def _settle(page, d):
    bu.wait_settled(page, d, timeout=120)


def bench_lecture(context, path, steps, warm, preheat):
    server = bu.start_present(path, preheat=preheat, diagnostics=False)
    rows = []
    try:
        time.sleep(warm)  # kernel hâm nóng (như giảng viên chạy make demo trước giờ học)
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 720})
        t0 = time.monotonic()
        page.goto(server.url + "/", wait_until="domcontentloaded", timeout=300_000)
        page.wait_for_selector(f"{bu.CANVAS} canvas", state="visible", timeout=300_000)
        page.wait_for_selector(".widget-slider .noUi-handle", state="visible", timeout=300_000)
        first = time.monotonic() - t0
        for d, s, label in bu.demo_sliders(page):
            _settle(page, d)
            handle = page.locator(bu.DEMO_ROOT).nth(d).locator(".widget-slider").nth(s)
            handle = handle.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            now = float(handle.get_attribute("aria-valuenow"))
            vmax = float(handle.get_attribute("aria-valuemax"))
            fwd, back = ("ArrowRight", "ArrowLeft")
            if now >= vmax - 1e-9:
                fwd, back = back, fwd
            fresh, cached, skew = [], [], []
            for key, bucket in [(fwd, fresh)] * steps + [(back, cached)] * steps:
                r = page.evaluate(MEASURE_JS, [d, s, key])
                bucket.append(r["fig"])
                if r["text"] is not None and r["fig"] is not None:
                    skew.append(r["fig"] - r["text"])
                _settle(page, d)
            rows.append((label, fresh, cached, skew))
        page.close()
    finally:
        server.stop()
        bu.cleanup_dir(server.tmpdir)
    return first, rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--steps", type=int, default=5, help="số giá trị mới (và số lần quay lại)")
    ap.add_argument(
        "--warm", type=float, default=0, help="giây chờ sau khi máy chủ lên rồi mới mở trang"
    )
    ap.add_argument("--preheat", action="store_true", help="kernel hâm nóng của Voilà (thử nghiệm)")
    args = ap.parse_args(argv)
    paths = [ROOT / p for p in args.notebooks] or sorted(
        p for p in (ROOT / "lectures").glob("[0-9]*.ipynb") if p.name[:2] <= "12"
    )
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()[0]
    print(f"# {os.cpu_count()} lõi CPU, tải trung bình 1 phút khi bắt đầu = {load:.1f}", flush=True)
    with sync_playwright() as p:
        context, profile = bu.launch_browser(p)
        try:
            for path in paths:
                stem = path.stem[:2]
                try:
                    first, rows = bench_lecture(context, path, args.steps, args.warm, args.preheat)
                except Exception as exc:
                    print(f"bai{stem}: LỖI {type(exc).__name__}: {exc}"[:300], flush=True)
                    continue
                print(f"bai{stem}.voila_first_widget_s: {first:.1f} (target ≤ 10)", flush=True)
                for label, fresh, cached, skew in rows:
                    slug = "_".join(label.strip().lower().split()) or "thanh_truot"
                    name = f"bai{stem}.{slug}"
                    worst = max((x for x in fresh if x is not None), default=float("nan"))
                    cworst = max((x for x in cached if x is not None), default=float("nan"))
                    print(
                        f"{name}.uncached_median_ms: {_median(fresh):.0f} (target ≤ 300)\n"
                        f"{name}.uncached_worst_ms: {worst:.0f}\n"
                        f"{name}.cached_median_ms: {_median(cached):.0f} (target ≤ 100)\n"
                        f"{name}.cached_worst_ms: {cworst:.0f}\n"
                        f"{name}.text_before_figure_ms: {_median(skew):.0f} (target ≈ 0)",
                        flush=True,
                    )
        finally:
            context.close()
            bu.cleanup_dir(profile)
    print(f"# tải trung bình 1 phút khi kết thúc = {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
