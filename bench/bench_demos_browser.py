"""Độ trễ thật của các demo trong chromium: từ lúc đổi thanh trượt tới khi điểm ảnh của hình đổi.

Với mỗi bài ``lectures/NN_*.ipynb`` (cả 13 bài):

- **Mở trang**: thời gian từ ``page.goto`` tới widget tương tác đầu tiên (thanh trượt hiện và hình đã có
  khung hình đầu tiên) của đúng trang ``make demo`` (các ô có thẻ trình chiếu), hai cách: kernel hâm nóng
  sẵn (mặc định của ``make demo``; trang mở khi máy chủ đã rảnh, như giảng viên mở trang trước giờ học)
  và ``--no-preheat`` (mỗi lần mở trang mới chạy bản trình chiếu).
- **Độ trễ**: chạy ``nblib.presentation.present --all-demos --no-preheat`` (mọi ô tạo ``Demo(``, kể cả ô
  chưa gắn thẻ; không hâm nóng để việc chạy sẵn kernel kế tiếp không lẫn vào số đo), rồi với mỗi demo
  chọn các thanh trượt chính (tốc độ học, hệ số, keep_prob, λ; nếu không có thì thanh trượt đầu tiên) và
  đo ba trường hợp, tách riêng:

- **(a) tính mới**: trang mở với ``window.nblibNoPrefetch`` (kernel không tính sẵn gì); tiến ``k`` nấc,
  mỗi nấc là một giá trị chưa từng tính (kernel tính + vẽ Agg + PNG + gửi);
- **(c) bộ đệm trình duyệt**: lùi ``k`` nấc về các giá trị vừa xem (trình duyệt tự đổi hình);
- **(b) tính sẵn**: bật lại tính sẵn, rồi ``k`` lần: để demo rảnh ``--idle`` giây rồi đi một nấc mới
  (về phía chưa xem). Mỗi mẫu ghi nguồn của khung hình hiện ra (``tính sẵn`` hay ``tính mới`` nếu
  kernel chưa kịp tính sẵn trong lúc rảnh): số lần trúng được in ra.

Cùng lần chạy đo cách cũ (canvas ipympl, ``NBLIB_RENDERER=ipympl``): giá trị mới và giá trị đã xem (bộ
đệm kết quả của kernel, vẫn phải vẽ Agg + gửi ảnh), và in tỉ lệ cũ/mới.

Mỗi lần đổi: JavaScript trong trang ghi ``performance.now()``, gửi phím mũi tên tới núm kéo, rồi theo dõi
từng khung hình (requestAnimationFrame) tới khi điểm ảnh của canvas đổi; cũng ghi lúc dòng trạng thái
đổi để đo độ lệch chữ/hình. In các dòng ``tên: giá trị (target …)``.

Chạy: ``.venv/bin/python bench/bench_demos_browser.py [lectures/06_khoi_tao_trong_so.ipynb ...]
[--steps 4] [--idle 3] [--no-old]``
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
async ([demoIndex, sliderIndex, key, figSel]) => {
  const demo = document.querySelectorAll('.nblib-demo')[demoIndex];
  const fig = demo.querySelector(figSel);
  const canvas = fig.tagName === 'CANVAS' ? fig : fig.querySelector('canvas');
  const status = demo.querySelector('.nblib-status') || [...demo.children].at(-1);
  const root = demo.querySelector('.nblib-figure');
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
    const done = (figT) => {
      obs.disconnect();
      resolve({fig: figT, text: tText === null ? null : tText - t0,
               origin: root ? root.dataset.origin : 'ipympl',
               local: root ? root.dataset.local === '1' : false});
    };
    const tick = () => {
      const now = performance.now();
      if (hash() !== h0) done(now - t0);
      else if (now - t0 > 60000) done(null);
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
"""

SET_PREFETCH_JS = """
([demoIndex, on]) => {
  const root = document.querySelectorAll('.nblib-demo')[demoIndex].querySelector('.nblib-figure');
  root._nblib.model.set('prefetch', on);
  root._nblib.model.save_changes();
}
"""


def _median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return float("nan")
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def _worst(xs):
    return max((x for x in xs if x is not None), default=float("nan"))


def _open(context, server, no_prefetch):
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 720})
    if no_prefetch:
        page.add_init_script("window.nblibNoPrefetch = true;")
    t0 = time.monotonic()
    page.goto(server.url + "/", wait_until="domcontentloaded", timeout=300_000)
    page.wait_for_selector(f"{bu.DEMO_ROOT} :is({bu.FIGURE})", state="visible", timeout=300_000)
    page.wait_for_selector(".widget-slider .noUi-handle", state="visible", timeout=300_000)
    if page.locator(".nblib-figure").count():
        bu.wait_figures_painted(page)
    return page, time.monotonic() - t0


def _slider(page, d, s):
    handle = page.locator(bu.DEMO_ROOT).nth(d).locator(".widget-slider").nth(s)
    handle = handle.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    now = float(handle.get_attribute("aria-valuenow"))
    vmax = float(handle.get_attribute("aria-valuemax"))
    vmin = float(handle.get_attribute("aria-valuemin"))
    return now, vmin, vmax


def _directions(page, d, s):
    """(phím tiến, phím lùi): tiến về phía thanh trượt còn nhiều chỗ hơn (đủ k giá trị mới)."""
    now, vmin, vmax = _slider(page, d, s)
    if now - vmin > vmax - now:
        return "ArrowLeft", "ArrowRight"
    return "ArrowRight", "ArrowLeft"


def _measure(page, d, s, key, skew):
    r = page.evaluate(MEASURE_JS, [d, s, key, bu.FIGURE])
    if r["text"] is not None and r["fig"] is not None:
        skew.append(r["fig"] - r["text"])
    return r


def _tree_cpu_ticks(pid):
    """Tổng thời gian CPU (tick) của tiến trình ``pid`` và mọi tiến trình con cháu (Linux, /proc)."""
    parents, ticks = {}, {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
        ticks[int(stat.parent.name)] = int(fields[11]) + int(fields[12])
    tree, grew = {pid}, True
    while grew:
        new = {p for p, pp in parents.items() if pp in tree} - tree
        grew, tree = bool(new), tree | new
    return sum(ticks.get(p, 0) for p in tree)


def _wait_idle(server, min_s=3.0, max_s=180.0):
    """Chờ máy chủ Voilà (và kernel hâm nóng của nó) rảnh: như giảng viên mở trang trước giờ học."""
    t0 = time.monotonic()
    last = _tree_cpu_ticks(server.proc.pid)
    while time.monotonic() - t0 < max_s:
        time.sleep(1.0)
        now = _tree_cpu_ticks(server.proc.pid)
        if now - last <= 3 and time.monotonic() - t0 >= min_s:
            return time.monotonic() - t0
        last = now
    return time.monotonic() - t0


def bench_first_widget(context, path):
    """Thời gian tới widget tương tác đầu tiên của đúng trang ``make demo`` (ô có thẻ): kernel hâm nóng
    sẵn (mặc định; mở trang khi máy chủ đã rảnh), và không hâm nóng (``--no-preheat``)."""
    out = {}
    for preheat in (True, False):
        server = bu.start_present(path, preheat=preheat, diagnostics=False)
        try:
            if preheat:
                out["ready_s"] = _wait_idle(server)
            page, out[preheat] = _open(context, server, no_prefetch=False)
            page.close()
        finally:
            server.stop()
            bu.cleanup_dir(server.tmpdir)
    return out


def bench_new(context, path, steps, idle):
    """Renderer mặc định (khung hình + bộ đệm trình duyệt + tính sẵn)."""
    server = bu.start_present(path, diagnostics=False, extra=["--all-demos"])
    rows = []
    try:
        page, first = _open(context, server, no_prefetch=True)
        for d, s, label in bu.demo_sliders(page):
            bu.wait_settled(page, d, timeout=180)
            fwd, back = _directions(page, d, s)
            cold, cached, pre, skew, origins = [], [], [], [], []
            moves = 0
            while len(cold) < steps and moves < steps + 3:  # (a) giá trị mới, không tính sẵn
                r = _measure(page, d, s, fwd, skew)
                moves += 1
                # Nấc đã được tính sẵn lúc đo thanh trượt trước của cùng demo: không tính là (a).
                if r["origin"] != "tính sẵn":
                    cold.append(r["fig"])
                origins.append(("a", r["origin"] + ("/trình duyệt" if r["local"] else "")))
                bu.wait_settled(page, d, timeout=180)
            chits = 0
            for _ in range(moves):  # (c) quay lại giá trị đã hiện
                r = _measure(page, d, s, back, skew)
                cached.append(r["fig"])
                # Giá trị ban đầu không nằm trên lưới của thanh trượt (ví dụ α = 0,5 trên lưới 10^(k/10))
                # thì nấc cuối là một giá trị mới: không tính là trúng bộ đệm trình duyệt.
                chits += bool(r["local"]) and r["fig"] is not None
                origins.append(("c", r["origin"] + ("/trình duyệt" if r["local"] else "")))
                bu.wait_settled(page, d, timeout=180)
            page.evaluate(SET_PREFETCH_JS, [d, True])
            now2, vmin2, vmax2 = _slider(page, d, s)
            if (back == "ArrowLeft" and now2 <= vmin2 + 1e-9) or (
                back == "ArrowRight" and now2 >= vmax2 - 1e-9
            ):
                # Đang ở đầu thanh trượt: đi qua các giá trị đã xem ở (a) rồi mới tới giá trị mới.
                back = fwd
                for _ in range(moves):
                    page.evaluate(MEASURE_JS, [d, s, fwd, bu.FIGURE])
                    bu.wait_settled(page, d, timeout=180)
            hits = 0
            for _ in range(steps):  # (b) nấc mới ngay cạnh sau khi rảnh vài giây
                time.sleep(idle)
                r = _measure(page, d, s, back, skew)
                pre.append(r["fig"])
                hits += r["origin"] == "tính sẵn" and bool(r["local"]) and r["fig"] is not None
                origins.append(("b", r["origin"] + ("/trình duyệt" if r["local"] else "")))
                bu.wait_settled(page, d, timeout=180)
            page.evaluate(SET_PREFETCH_JS, [d, False])
            rows.append(
                {
                    "label": label,
                    "cold": cold,
                    "cached": cached,
                    "pre": pre,
                    "hits": hits,
                    "chits": chits,
                    "skew": skew,
                    "origins": origins,
                }
            )
        page.close()
    finally:
        server.stop()
        bu.cleanup_dir(server.tmpdir)
    return first, rows


def bench_old(context, path, steps):
    """Cách cũ (canvas ipympl): giá trị mới rồi quay lại giá trị đã xem."""
    server = bu.start_present(
        path, diagnostics=False, extra=["--all-demos"], env_extra={"NBLIB_RENDERER": "ipympl"}
    )
    rows = []
    try:
        page, first = _open(context, server, no_prefetch=False)
        for d, s, label in bu.demo_sliders(page):
            bu.wait_settled(page, d, timeout=180)
            fwd, back = _directions(page, d, s)
            fresh, cached, skew = [], [], []
            for key, bucket in [(fwd, fresh)] * steps + [(back, cached)] * steps:
                bucket.append(_measure(page, d, s, key, skew)["fig"])
                bu.wait_settled(page, d, timeout=180)
            rows.append({"label": label, "fresh": fresh, "cached": cached, "skew": skew})
        page.close()
    finally:
        server.stop()
        bu.cleanup_dir(server.tmpdir)
    return first, rows


def _ratio(a, b):
    return f"{a / b:.1f}×" if b and b == b and a == a and b > 0 else "—"


def report(stem, first, rows, old, startup):
    print(
        f"bai{stem}.voila_first_widget_s: {startup[True]:.1f} (target ≤ 10; make demo, kernel hâm nóng "
        f"sẵn, trang mở khi máy chủ rảnh sau {startup['ready_s']:.0f} s)",
        flush=True,
    )
    print(f"bai{stem}.voila_first_widget_no_preheat_s: {startup[False]:.1f}", flush=True)
    print(f"bai{stem}.voila_first_widget_all_demos_no_preheat_s: {first:.1f}", flush=True)
    old_rows = {}
    if old is not None:
        print(f"bai{stem}.old_ipympl.voila_first_widget_s: {old[0]:.1f}", flush=True)
        old_rows = {r["label"]: r for r in old[1]}
    for r in rows:
        slug = "_".join(r["label"].strip().lower().split()) or "thanh_truot"
        n = f"bai{stem}.{slug}"
        lines = [
            f"{n}.a_cold_median_ms: {_median(r['cold']):.0f} (target ≤ 300)",
            f"{n}.a_cold_worst_ms: {_worst(r['cold']):.0f}",
            f"{n}.b_prefetched_median_ms: {_median(r['pre']):.0f} (target ≤ 300)",
            f"{n}.b_prefetched_worst_ms: {_worst(r['pre']):.0f}",
            f"{n}.b_prefetched_hits: {r['hits']}/{len(r['pre'])}",
            f"{n}.c_browser_cache_median_ms: {_median(r['cached']):.0f} (target ≤ 100)",
            f"{n}.c_browser_cache_worst_ms: {_worst(r['cached']):.0f}",
            f"{n}.c_browser_cache_hits: {r['chits']}/{len(r['cached'])}",
            f"{n}.text_before_figure_ms: {_median(r['skew']):.0f} (target ≈ 0)",
            f"{n}.origins: {' '.join(f'{k}:{o}' for k, o in r['origins'])}",
        ]
        o = old_rows.get(r["label"])
        if o is not None:
            of, oc = _median(o["fresh"]), _median(o["cached"])
            lines += [
                f"{n}.old_ipympl.new_value_median_ms: {of:.0f}",
                f"{n}.old_ipympl.new_value_worst_ms: {_worst(o['fresh']):.0f}",
                f"{n}.old_ipympl.cached_median_ms: {oc:.0f}",
                f"{n}.old_ipympl.cached_worst_ms: {_worst(o['cached']):.0f}",
                f"{n}.old_ipympl.text_before_figure_ms: {_median(o['skew']):.0f}",
                f"{n}.ratio_old_new_value_to_a_cold: {_ratio(of, _median(r['cold']))}",
                f"{n}.ratio_old_new_value_to_b_prefetched: {_ratio(of, _median(r['pre']))}",
                f"{n}.ratio_old_cached_to_c_browser_cache: {_ratio(oc, _median(r['cached']))}",
            ]
        print("\n".join(lines), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--steps", type=int, default=4, help="số giá trị cho mỗi trường hợp")
    ap.add_argument("--idle", type=float, default=3.0, help="giây rảnh trước mỗi mẫu (b)")
    ap.add_argument("--no-old", action="store_true", help="không đo cách cũ (ipympl)")
    args = ap.parse_args(argv)
    paths = [ROOT / p for p in args.notebooks] or sorted((ROOT / "lectures").glob("[0-9]*.ipynb"))
    from playwright.sync_api import sync_playwright

    print(
        f"# {os.cpu_count()} lõi CPU, tải trung bình 1 phút khi bắt đầu = {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with sync_playwright() as p:
        context, profile = bu.launch_browser(p)
        try:
            for path in paths:
                stem = path.stem[:2]
                t0 = time.monotonic()
                try:
                    startup = bench_first_widget(context, path)
                    first, rows = bench_new(context, path, args.steps, args.idle)
                    old = None if args.no_old else bench_old(context, path, args.steps)
                except Exception as exc:
                    print(f"bai{stem}: LỖI {type(exc).__name__}: {exc}"[:400], flush=True)
                    continue
                report(stem, first, rows, old, startup)
                print(
                    f"# bài {stem}: {time.monotonic() - t0:.0f} s, tải 1 phút = "
                    f"{os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        finally:
            context.close()
            bu.cleanup_dir(profile)
    print(f"# tải trung bình 1 phút khi kết thúc = {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
