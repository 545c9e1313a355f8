"""Đo sân chơi huấn luyện (``nblib.presentation.playground.Playground``) trên chromium thật, với CPU của máy này.

Một notebook có hai ô: sân chơi (mạng 2-8-8-1, 500 điểm, có bản đồ nhiệt từng nơ-ron) và cùng khung
nhìn đó viết "cách ngây thơ": một hình ipympl (ranh giới quyết định + 16 bản đồ nhiệt nơ-ron + đường
chi phí) được vẽ lại trong một vòng lặp (tác vụ asyncio: huấn luyện cùng số bước mỗi khung bằng cùng
hàm ``train_step``, cập nhật dữ liệu của hình, ``draw_idle``). Đo trong cùng một lần chạy:

- số khung hình trình duyệt thật sự vẽ mỗi giây khi đang chạy, trong JupyterLab và trong Voilà
  (sân chơi: bộ đếm khung của widget; ipympl: số ảnh PNG trình duyệt nhận và vẽ);
- số bước huấn luyện mỗi giây trong lúc đó;
- độ trễ từ lúc đổi α (bàn phím trên thanh trượt) tới khung hình đầu tiên phản ánh lần đổi đó;
- tỉ lệ khung/giây của sân chơi so với cách ngây thơ.

In các dòng ``tên: giá trị (mục tiêu …)``, rồi các dòng ``#`` cho biết thời gian một khung hình đi
đâu: số khung trình duyệt nhận mỗi giây (khác số khung vẽ: khung bị bỏ), thời gian vẽ một khung theo
từng phần (đo bằng ``performance.now()`` trong playground.js), và thời gian CPU phía kernel của từng
phần một khung (huấn luyện, ``evaluate``, ``grid_images``…). Không phải kiểm thử: chỉ in số liệu.

Chạy: ``.venv/bin/python bench/bench_playground.py [--seconds 8]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import browser_utils as bu  # noqa: E402

SCENARIO = dict(
    dataset="spiral",
    n_points=500,
    hidden=[8, 8],
    activation="tanh",
    optimizer="adam",
    lr=0.01,
    batch_size=10,
)

PLAYGROUND_CELL = f"""from nblib.presentation.playground import Playground
pg = Playground(**{SCENARIO!r}, title="Sân chơi (đo)")
pg"""

NAIVE_CELL = f"""import asyncio
import ipywidgets as W
import numpy as np
from ipympl.backend_nbagg import Canvas, FigureManager
from matplotlib.figure import Figure
from nblib.presentation.playground import GRID, Run, evaluate, grid_images, normalize_config, train_step

cfg = normalize_config(**{SCENARIO!r})
run = Run(cfg)
fig = Figure(figsize=(8, 4), dpi=80)
canvas = Canvas(fig)
canvas.header_visible = canvas.footer_visible = canvas.toolbar_visible = False
canvas.resizable = False
FigureManager(canvas, 0)
gs = fig.add_gridspec(4, 8)
ims = []
for k in range(16):
    ax = fig.add_subplot(gs[k // 4, k % 4])
    ax.set_axis_off()
    ims.append(ax.imshow(np.zeros((GRID, GRID)), cmap="RdBu", vmin=0, vmax=255))
ax_out = fig.add_subplot(gs[:3, 4:8])
im_out = ax_out.imshow(np.zeros((GRID, GRID)), cmap="RdBu", vmin=0, vmax=255,
                       extent=(-3, 3, -3, 3))
P, y = run.data["P_train"], run.data["y_train"]
ax_out.scatter(P[0], P[1], c=y, cmap="RdBu", s=6, edgecolors="w", linewidths=0.3)
ax_loss = fig.add_subplot(gs[3, 4:8])
(line,) = ax_loss.plot([], [])
hist = []
state = {{"on": False, "frames": 0}}
label = W.Label("bước 0")


async def naive_loop():
    while state["on"]:
        for _ in range(cfg["steps_per_frame"]):
            train_step(run, cfg["batch_size"])
        out, hidden = grid_images(run)
        ev = evaluate(run)
        im_out.set_data(out.reshape(GRID, GRID))
        for k, im in enumerate(ims):
            im.set_data(hidden[k * GRID * GRID:(k + 1) * GRID * GRID].reshape(GRID, GRID))
        hist.append(ev["train_loss"])
        line.set_data(range(len(hist)), hist)
        ax_loss.relim()
        ax_loss.autoscale_view()
        canvas.draw_idle()
        state["frames"] += 1
        if state["frames"] % 10 == 0:
            label.value = f"bước {{run.steps}}"
        await asyncio.sleep(0.001)


def toggle(change):
    state["on"] = change["new"]
    if change["new"]:
        asyncio.get_running_loop().create_task(naive_loop())
    else:
        label.value = f"bước {{run.steps}}"


button = W.ToggleButton(description="Chạy (ngây thơ)")
button.add_class("naive-play")
label.add_class("naive-steps")
button.observe(toggle, names="value")
W.VBox([button, label, canvas])"""

# Đếm ảnh ipympl: mỗi khung ipympl là một ảnh PNG được vẽ (drawImage từ HTMLImageElement).
COUNT_IMAGES_JS = """
(() => {
  const orig = CanvasRenderingContext2D.prototype.drawImage;
  window.__imageDraws = 0;
  CanvasRenderingContext2D.prototype.drawImage = function (src, ...rest) {
    if (src instanceof HTMLImageElement) window.__imageDraws++;
    return orig.call(this, src, ...rest);
  };
})();
"""


def _write_notebook(with_naive):
    import nbformat

    d = bu.ARTIFACTS / "playground"
    d.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(PLAYGROUND_CELL)]
    if with_naive:
        nb.cells.append(nbformat.v4.new_code_cell(NAIVE_CELL))
    path = d / ("bench_lab.ipynb" if with_naive else "bench_voila.ipynb")
    nbformat.write(nb, path)
    return path


def _pg(page, expr):
    return page.locator(".nblib-pg").first.evaluate(f"e => e.parentElement.__pg.{expr}")


def _step(page):
    return int(page.locator(".nblib-pg").first.get_attribute("data-step") or "0")


PROF_JS = """e => { const v = e.parentElement.__pg;
  return { frames: v.frames, received: v.received, drawMs: v.drawMs || 0, prof: { ...v.prof } }; }"""


def _draw_profile(a, b, dt):
    """Khung nhận/giây và thời gian vẽ trung bình mỗi khung (ms) theo từng phần, giữa hai lần đọc."""
    n = max(b["frames"] - a["frames"], 1)
    parts = {k: (b["prof"][k] - a["prof"].get(k, 0.0)) / n for k in b["prof"]}
    return {
        "received": (b["received"] - a["received"]) / dt,
        "draw_ms": (b["drawMs"] - a["drawMs"]) / n,
        "parts": parts,
    }


def measure_playground(page, seconds):
    """(khung/giây, bước/giây, danh sách độ trễ ms, hồ sơ vẽ) khi đang chạy."""
    root = page.locator(".nblib-pg").first
    root.scroll_into_view_if_needed()
    root.locator("button.pg-play").click()
    time.sleep(1.5)  # khởi động
    p0, s0, t0 = root.evaluate(PROF_JS), _step(page), time.monotonic()
    time.sleep(seconds)
    p1, s1, t1 = root.evaluate(PROF_JS), _step(page), time.monotonic()
    f0, f1 = p0["frames"], p1["frames"]
    fps, sps = (f1 - f0) / (t1 - t0), (s1 - s0) / (t1 - t0)
    profile = _draw_profile(p0, p1, t1 - t0)
    slider = root.locator("input.pg-lr")
    page.evaluate("() => 0")
    root.evaluate("e => { e.parentElement.__pg.latencies = []; }")
    for i in range(12):  # đổi α qua lại trong lúc chạy
        slider.focus()
        slider.press("ArrowLeft" if i % 2 == 0 else "ArrowRight")
        time.sleep(0.6)
    latencies = _pg(page, "latencies")
    root.locator("button.pg-play").click()
    time.sleep(0.5)
    return fps, sps, latencies, profile


def measure_naive(page, seconds):
    page.locator(".naive-play").first.scroll_into_view_if_needed()
    page.locator(".naive-play button, button.naive-play").first.click()
    time.sleep(1.5)

    def steps():
        return int(page.locator(".naive-steps").first.inner_text().split()[-1])

    i0, s0, t0 = page.evaluate("() => window.__imageDraws"), steps(), time.monotonic()
    time.sleep(seconds)
    i1, s1, t1 = page.evaluate("() => window.__imageDraws"), steps(), time.monotonic()
    page.locator(".naive-play button, button.naive-play").first.click()
    time.sleep(0.5)
    return (i1 - i0) / (t1 - t0), (s1 - s0) / (t1 - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="thời gian đo mỗi lần (giây)")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    load0 = os.getloadavg()[0]
    print(
        f"# máy: {os.cpu_count()} lõi, tải trung bình 1 phút lúc bắt đầu {load0:.2f}".replace(
            ".", ","
        )
    )
    print(f"# kịch bản: {SCENARIO}, {args.seconds:g} s mỗi lần đo, chromium {bu.CHROMIUM}")
    results = {}
    with sync_playwright() as p:
        context, profile = bu.launch_browser(p)
        context.add_init_script(COUNT_IMAGES_JS)
        try:
            nb = _write_notebook(with_naive=True)
            rel = nb.relative_to(bu.ROOT).as_posix()
            lab = bu.start_lab()
            try:
                page = context.new_page()
                page.goto(f"{lab.url}/lab/workspaces/bench-pg/tree/{rel}?reset&token={lab.token}")
                bu.wait_kernel_ready(page, lab, rel)
                bu.run_all_cells(page, timeout=300)
                page.wait_for_selector(".nblib-pg canvas.pg-output")
                page.wait_for_selector(".jupyter-matplotlib-canvas-div")
                time.sleep(2)
                results["lab"] = measure_playground(page, args.seconds)
                results["naive"] = measure_naive(page, args.seconds)
                page.close()
            finally:
                lab.shutdown_kernels()
                lab.stop()
                bu.cleanup_dir(lab.tmpdir)
            nb = _write_notebook(with_naive=False)
            voila = bu.start_voila(nb.relative_to(bu.ROOT))
            try:
                page = context.new_page()
                page.goto(voila.url + "/", wait_until="domcontentloaded", timeout=300_000)
                page.wait_for_selector(".nblib-pg canvas.pg-output", timeout=300_000)
                time.sleep(2)
                results["voila"] = measure_playground(page, args.seconds)
                page.close()
            finally:
                voila.stop()
                bu.cleanup_dir(voila.tmpdir)
        finally:
            context.close()
            bu.cleanup_dir(profile)

    def vi(x, d=1):
        return f"{x:.{d}f}".replace(".", ",")

    fps_lab, sps_lab, lat_lab, prof_lab = results["lab"]
    fps_voila, sps_voila, lat_voila, prof_voila = results["voila"]
    fps_naive, sps_naive = results["naive"]
    lat = lat_lab + lat_voila
    print(f"fps JupyterLab (sân chơi): {vi(fps_lab)} (mục tiêu ≥ 20)")
    print(f"fps Voilà (sân chơi): {vi(fps_voila)} (mục tiêu ≥ 20)")
    print(f"bước huấn luyện/giây JupyterLab: {vi(sps_lab, 0)} (mục tiêu ≥ 200)")
    print(f"bước huấn luyện/giây Voilà: {vi(sps_voila, 0)} (mục tiêu ≥ 200)")
    if lat:
        print(
            f"độ trễ đổi α → khung hình đầu tiên, trung vị ms: {vi(statistics.median(lat), 0)} "
            f"(mục tiêu ≤ 150; {len(lat)} lần đổi, lớn nhất {vi(max(lat), 0)} ms)"
        )
    else:
        print("độ trễ đổi α → khung hình đầu tiên, trung vị ms: không đo được (mục tiêu ≤ 150)")
    print(f"fps JupyterLab (ipympl vẽ lại trong vòng lặp, ngây thơ): {vi(fps_naive)} (tham chiếu)")
    print(f"bước huấn luyện/giây (ngây thơ): {vi(sps_naive, 0)} (tham chiếu)")
    ratio = fps_lab / fps_naive if fps_naive > 0 else float("inf")
    print(f"tỉ lệ fps sân chơi / ngây thơ (JupyterLab): {vi(ratio)}× (mục tiêu ≥ 5×)")
    for where, prof in (("JupyterLab", prof_lab), ("Voilà", prof_voila)):
        parts = ", ".join(f"{k} {vi(v, 2)}" for k, v in prof["parts"].items())
        print(
            f"# {where}: trình duyệt nhận {vi(prof['received'])} khung/giây; vẽ một khung "
            f"{vi(prof['draw_ms'], 2)} ms ({parts})"
        )
    print("# kernel, thời gian CPU mỗi khung (ms): " + kernel_profile())
    print(f"# tải trung bình 1 phút lúc kết thúc {os.getloadavg()[0]:.2f}".replace(".", ","))


def kernel_profile(n=200):
    """Thời gian CPU (không tính lúc chờ CPU) của từng phần một khung hình phía kernel, trong tiến
    trình này: các bước huấn luyện, đánh giá, vector tham số, và bản đồ nhiệt nếu kernel tự tính."""
    import warnings

    import numpy as np

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from nblib.presentation import playground as P

    pg = P.Playground(**SCENARIO)
    pg.send = lambda content, buffers=None: None
    r = pg.run

    def cpu_ms(f, k):
        t0 = time.thread_time()
        for _ in range(k):
            f()
        return (time.thread_time() - t0) / k * 1e3

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        pg._train(100)
        parts = {
            f"{pg.steps_per_frame} bước huấn luyện": cpu_ms(
                lambda: pg._train(pg.steps_per_frame), n // 4
            ),
            "evaluate": cpu_ms(lambda: P.evaluate(r), n),
            "params_vector": cpu_ms(lambda: P.params_vector(r), n),
            "grid_images (khi maps_in_kernel)": cpu_ms(lambda: P.grid_images(r), n),
            "_send_frame (không gửi)": cpu_ms(pg._send_frame, n),
        }
    return ", ".join(f"{k} {v:.2f}".replace(".", ",") for k, v in parts.items())


if __name__ == "__main__":
    main()
