"""Tiện ích cho kiểm thử trên trình duyệt thật: khởi động JupyterLab/Voilà, điều khiển chromium.

Dùng bởi ``tests/test_browser.py``. Không phụ thuộc pytest để có thể thử tay:

    .venv/bin/python -c "import sys; sys.path.insert(0, 'tests'); import browser_utils as b; ..."
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Thanh trượt "chính" của các bản demo: tốc độ học, hệ số khởi tạo, keep_prob, λ.
MAIN_SLIDER = re.compile(r"tốc độ học|\bα\b|hệ số|keep_prob|λ|lambda", re.IGNORECASE)

# Thiết lập JupyterLab riêng cho kiểm thử: không hiện tin tức/cập nhật, vẽ mọi ô của notebook
# (không ảo hoá danh sách ô) để mọi widget đều có trong DOM.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # Giao diện tiếng Anh cố định (kể cả khi đã cài gói ngôn ngữ tiếng Việt): kiểm thử bấm menu theo tên.
    "@jupyterlab/translation-extension/plugin.jupyterlab-settings": {"locale": "en"},
    # Không bao giờ tự lưu: notebook trong repo phải giữ nguyên, không có output.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def chromium_available():
    return pathlib.Path(CHROMIUM).exists()


def must_have_browser():
    """True khi thiếu trình duyệt phải là lỗi (CI hoặc root — `make test` tự cài được) thay vì bỏ qua."""
    return bool(os.environ.get("CI")) or (hasattr(os, "getuid") and os.getuid() == 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env.pop("MPLBACKEND", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _wait_http(url, proc, log_path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"Máy chủ dừng sớm (mã {proc.returncode}):\n{pathlib.Path(log_path).read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Máy chủ không trả lời sau {timeout} s: {url}")


class Server:
    """Một tiến trình máy chủ (JupyterLab hoặc Voilà) chạy nền, ghi log vào tệp."""

    def __init__(self, cmd, url, token="", cwd=ROOT, env=None, tmpdir=None, ready_path=""):
        self.url = url.rstrip("/")
        self.token = token
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="nb-browser-")
        self.log_path = pathlib.Path(self.tmpdir) / "server.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (đóng trong stop())
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env or _env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_http(self.url + ready_path, self.proc, self.log_path)
        except Exception:
            self.stop()
            raise

    def api(self, method, path, data=None):
        req = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if data is None else json.dumps(data).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        """Tắt mọi kernel đang chạy (giải phóng CPU/bộ nhớ giữa hai notebook)."""
        with contextlib.suppress(Exception):
            for s in self.api("GET", "/api/sessions"):
                with contextlib.suppress(Exception):
                    self.api("DELETE", f"/api/sessions/{s['id']}")
            for k in self.api("GET", "/api/kernels"):
                with contextlib.suppress(Exception):
                    self.api("DELETE", f"/api/kernels/{k['id']}")

    def log_tail(self, n=3000):
        with contextlib.suppress(OSError):
            return self.log_path.read_text()[-n:]
        return ""

    def stop(self):
        if self.proc.poll() is None:
            # Chỉ dừng nhóm tiến trình do chính kiểm thử này tạo ra (start_new_session=True).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        self._log.close()


def start_lab(root=ROOT, settings_overrides=None):
    """JupyterLab trên 127.0.0.1, cổng ngẫu nhiên, có token, gốc là ``root`` (mặc định: repo), thiết
    lập người dùng tạm (LAB_SETTINGS, cộng ``settings_overrides``: tệp → dict thay thế)."""
    tmpdir = tempfile.mkdtemp(prefix="nb-lab-")
    settings = pathlib.Path(tmpdir) / "settings"
    for rel, value in {**LAB_SETTINGS, **(settings_overrides or {})}.items():
        p = settings / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))
    (pathlib.Path(tmpdir) / "workspaces").mkdir()
    port = free_port()
    token = secrets.token_hex(16)
    cmd = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={pathlib.Path(tmpdir) / 'workspaces'}",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    return Server(cmd, f"http://127.0.0.1:{port}", token=token, tmpdir=tmpdir, ready_path="/api")


def start_voila(notebook):
    """Voilà phục vụ cả một notebook trên 127.0.0.1 (giống `make demo-full NB=...`): khuôn trang
    ``khoa-hoc`` (lab của Voilà, Font Awesome cục bộ thay cho CDN)."""
    sys.path.insert(0, str(ROOT))
    from nblib.presentation import present

    present.write_templates()
    port = free_port()
    cmd = [
        str(BIN / "voila"),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        f"--template={present.FULL_TEMPLATE}",
        str(notebook),
    ]
    env = {**present.voila_env(), "PATH": _env()["PATH"]}
    env.pop("NBLIB_PRESENT", None)
    return Server(cmd, f"http://127.0.0.1:{port}", env=env, ready_path="/")


def launch_browser(playwright):
    """Chromium của Debian, chạy headless với một thư mục hồ sơ mới."""
    profile = tempfile.mkdtemp(prefix="nb-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
        locale="vi-VN",
    )
    context.set_default_timeout(30_000)
    return context, profile


def save_failure(page, name):
    """Lưu ảnh chụp toàn trang (và HTML) vào test-artifacts/ để xem lại khi kiểm thử hỏng."""
    ARTIFACTS.mkdir(exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    path = ARTIFACTS / f"{safe}.png"
    with contextlib.suppress(Exception):
        page.screenshot(path=str(path), full_page=True, timeout=20_000)
    with contextlib.suppress(Exception):
        (ARTIFACTS / f"{safe}.html").write_text(page.content())
    return path


@contextlib.contextmanager
def screenshot_on_failure(page, name):
    try:
        yield
    except BaseException:
        save_failure(page, name)
        raise


def png_pixels(png_bytes):
    """Ảnh PNG → mảng numpy (H, W, 4) để so sánh hai ảnh chụp."""
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGBA"))


def images_differ(a, b, min_fraction=1e-4):
    """True nếu hai ảnh PNG khác nhau ở ít nhất ``min_fraction`` số điểm ảnh."""
    pa, pb = png_pixels(a), png_pixels(b)
    if pa.shape != pb.shape:
        return True
    changed = (pa != pb).any(axis=-1).mean()
    return changed > 0 and changed >= min_fraction


def cleanup_dir(path):
    shutil.rmtree(path, ignore_errors=True)


# ----- thao tác trên trang -----

# Hộp của một Demo (nblib.presentation.widgets.Demo.widget() thêm lớp nblib-demo) và phần tử hình của
# nó: canvas của FigureView (mặc định) hoặc hộp canvas ipympl (NBLIB_RENDERER=ipympl, chỉ để so sánh).
DEMO_ROOT = ".nblib-demo"
IPYMPL = ".jupyter-matplotlib-canvas-div"
FIGURE = f".nblib-figure-canvas, {IPYMPL}"
CANVAS = FIGURE  # tên cũ
# Dòng trạng thái của demo (trong FigureView; với ipympl là widget HTML cuối hộp).
STATUS = ".nblib-status"
# Những phần tử widget phải nhìn thấy được (bỏ qua thanh công cụ ipympl cố ý ẩn và dòng trạng thái rỗng).
VISIBLE_WIDGETS = (
    ".widget-slider, .widget-dropdown, .widget-button, .widget-checkbox, .widget-toggle-buttons, "
    f".widget-text, {FIGURE}, .widget-output"
)
ERROR_TEXTS = ("Error displaying widget", "Traceback (most recent call last)")

_PROMPTS_JS = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => {
    const p = c.querySelector('.jp-InputArea-prompt');
    return p ? p.textContent.trim() : '';
  });
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {prompts, status: ind ? ind.getAttribute('data-status') : null};
}"""


def wait_kernel_ready(page, server=None, notebook=None, timeout=180):
    """Chờ notebook mở xong và kernel sẵn sàng: chỉ báo thực thi ở trạng thái idle, và (nếu biết máy
    chủ) kernel của phiên notebook đã báo idle qua REST API."""
    t0 = time.monotonic()
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=timeout * 1000)
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout * 1000
    )
    if server is not None and notebook is not None:
        while time.monotonic() - t0 < timeout:
            with contextlib.suppress(Exception):
                sessions = server.api("GET", "/api/sessions")
                if any(
                    s.get("path") == notebook
                    and (s.get("kernel") or {}).get("execution_state") == "idle"
                    for s in sessions
                ):
                    break
            time.sleep(0.5)
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout * 1000
    )


def _click_run_all(page):
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")


def run_all_cells(page, timeout=600, attempts=3):
    """Menu Run → Run All Cells, rồi chờ mọi ô chạy xong và kernel về idle.

    Nếu sau 30 s chưa ô nào bắt đầu chạy (kernel vừa khởi động chưa nhận lệnh) thì bấm lại.
    Trả về danh sách prompt của các ô code (ví dụ ``["[1]:", "[2]:", ...]``) và thời gian chạy.
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    state = {}
    for attempt in range(attempts):
        _click_run_all(page)
        t_click = time.monotonic()
        idle_polls = 0
        started = False
        while time.monotonic() < deadline:
            state = page.evaluate(_PROMPTS_JS)
            running = any("*" in p for p in state["prompts"])
            numbered = any(re.search(r"\[\d+\]", p) for p in state["prompts"])
            started = started or running or numbered
            if started and not running and state["status"] == "idle":
                idle_polls += 1
                if idle_polls >= 3:
                    return state["prompts"], time.monotonic() - t0
            else:
                idle_polls = 0
            if not started and time.monotonic() - t_click > 30 and attempt + 1 < attempts:
                break  # chưa chạy gì: bấm lại
            time.sleep(0.5)
        if started:
            break
    raise TimeoutError(
        f"Notebook chưa chạy xong sau {time.monotonic() - t0:.0f} s; trạng thái kernel: "
        f"{state.get('status')}, prompt: {state.get('prompts')}"
    )


def page_problems(page, root=".jp-Notebook"):
    """Các vấn đề nhìn thấy trên trang: output lỗi (stderr/traceback) và "Error displaying widget"."""
    problems = page.evaluate(
        """([root, errorTexts]) => {
      const out = [];
      const scope = document.querySelector(root) || document.body;
      for (const el of scope.querySelectorAll(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')) {
        const t = el.textContent || '';
        if (/Error|Traceback|Warning|Exception/.test(t)) out.push('stderr/lỗi: ' + t.slice(0, 600));
      }
      const text = scope.innerText || '';
      for (const e of errorTexts) if (text.includes(e)) out.push('trang chứa: ' + e);
      return out;
    }""",
        [root, list(ERROR_TEXTS)],
    )
    return problems


def invisible_widgets(page, root="body"):
    """Mô tả các widget có trong DOM nhưng không nhìn thấy (kích thước 0 hoặc bị ẩn)."""
    bad = []
    loc = page.locator(f"{root} :is({VISIBLE_WIDGETS})")
    n = loc.count()
    for i in range(n):
        el = loc.nth(i)
        with contextlib.suppress(Exception):
            el.scroll_into_view_if_needed(timeout=5000)
        box = el.bounding_box()
        if not el.is_visible() or box is None or box["width"] < 2 or box["height"] < 2:
            cls = el.get_attribute("class") or ""
            label = ""
            with contextlib.suppress(Exception):
                label = el.inner_text(timeout=1000)[:60]
            bad.append(f"{cls.split()[-1] if cls else '?'} «{label}» box={box}")
    return bad, n


def demo_sliders(page):
    """Danh sách (chỉ số demo, chỉ số thanh trượt, nhãn) cho các thanh trượt sẽ kéo.

    Trong mỗi bản demo (hộp có hình ipympl): các thanh trượt chính (tốc độ học, hệ số khởi tạo,
    keep_prob, λ); nếu demo không có thanh trượt chính nào thì lấy thanh trượt đầu tiên.
    """
    chosen = []
    demos = page.locator(DEMO_ROOT)
    for d in range(demos.count()):
        sliders = demos.nth(d).locator(".widget-slider")
        labels = [
            sliders.nth(i).locator(".widget-label").first.inner_text()
            for i in range(sliders.count())
        ]
        main = [i for i, lab in enumerate(labels) if MAIN_SLIDER.search(lab)]
        if not main and labels:
            main = [0]
        chosen.extend((d, i, labels[i]) for i in main)
    return chosen


def wait_figures_painted(page, timeout=300):
    """Chờ mọi hình FigureView đã vẽ khung hình đầu tiên (canvas hết trống)."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('.nblib-figure')].every(
            el => el._nblib && el._nblib.shown !== null)""",
        timeout=timeout * 1000,
    )


def canvas_png(page, demo_index):
    canvas = page.locator(DEMO_ROOT).nth(demo_index).locator(FIGURE).first
    canvas.scroll_into_view_if_needed()
    return canvas.screenshot(animations="disabled")


def move_slider(page, demo_index, slider_index, key="ArrowRight", presses=1):
    """Kéo thanh trượt bằng bàn phím: focus núm kéo rồi nhấn phím; trả về (giá trị cũ, giá trị mới).

    Nếu núm đã ở đầu phải thì đi sang trái.
    """
    slider = page.locator(DEMO_ROOT).nth(demo_index).locator(".widget-slider").nth(slider_index)
    handle = slider.locator(".noUi-handle").first
    readout = slider.locator(".widget-readout").first
    handle.scroll_into_view_if_needed()
    before = readout.inner_text()
    now = float(handle.get_attribute("aria-valuenow"))
    vmax = float(handle.get_attribute("aria-valuemax"))
    vmin = float(handle.get_attribute("aria-valuemin"))
    if key == "ArrowRight" and now >= vmax - 1e-9:
        key = "ArrowLeft"
    elif key == "ArrowLeft" and now <= vmin + 1e-9:
        key = "ArrowRight"
    handle.focus()
    for _ in range(presses):
        handle.press(key)
    page.wait_for_function(
        "([el, before]) => el.textContent !== before", arg=[readout.element_handle(), before]
    )
    return before, readout.inner_text()


def wait_canvas_changed(page, demo_index, before_png, timeout=60):
    """Chờ tới khi ảnh chụp hình ipympl khác ảnh trước; trả về (ảnh mới, số giây)."""
    t0 = time.monotonic()
    png = before_png
    while time.monotonic() - t0 < timeout:
        png = canvas_png(page, demo_index)
        if images_differ(before_png, png):
            return png, time.monotonic() - t0
        time.sleep(0.25)
    raise AssertionError(
        f"Hình của demo #{demo_index} không đổi sau {timeout} s kể từ khi kéo thanh trượt."
    )


def clipped_figures(page):
    """Các hình ipympl rộng hơn vùng output chứa chúng (bị cắt, phải cuộn ngang mới thấy hết)."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].map(el => {
          const out = el.closest('.jp-OutputArea-output') || el.parentElement;
          return {fig: Math.round(el.getBoundingClientRect().width), area: out.clientWidth};
        }).filter(r => r.fig > r.area + 1)""",
        FIGURE,
    )


def resize_handles(page):
    """Số canvas ipympl đang vẽ góc kéo đổi cỡ (tam giác ở góc dưới phải của lớp canvas trên cùng).

    Các demo đặt ``resizable = False``: lớp trên cùng phải trong suốt ở góc đó."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].filter(div => {
          const cs = div.querySelectorAll('canvas');
          if (cs.length < 2) return false;
          const top = cs[cs.length - 1];
          if (!top.width || !top.height) return false;
          const px = top.getContext('2d').getImageData(top.width - 3, top.height - 3, 1, 1).data;
          return px[3] > 0;
        }).length""",
        IPYMPL,
    )


def assert_widgets_shown(page, scope, where):
    """Mọi widget trong ``scope`` nhìn thấy được; không hình nào bị cắt hay còn góc kéo đổi cỡ.

    Trả về số widget đã kiểm tra."""
    bad, n = invisible_widgets(page, scope)
    assert not bad, f"{where}: {len(bad)}/{n} widget không nhìn thấy: {bad[:5]}"
    clipped = clipped_figures(page)
    assert not clipped, f"{where}: hình rộng hơn chỗ chứa, bị cắt (px): {clipped}"
    handles = resize_handles(page)
    assert not handles, f"{where}: {handles} hình còn góc kéo đổi cỡ của ipympl"
    return n


_BUSY_JS = """(d) => {
  const el = document.querySelector('.jp-Notebook-ExecutionIndicator');
  if (el && el.getAttribute('data-status') !== 'idle') return true;
  // FigureView: hình chưa là khung hình của giá trị hiện tại của các điều khiển (kernel đang tính).
  const fig = document.querySelectorAll('.nblib-demo')[d]?.querySelector('.nblib-figure');
  return !!(fig && fig._nblib && fig._nblib.shown !== fig._nblib.want);
}"""


def wait_settled(page, demo_index, timeout=120):
    """Chờ demo "lắng": kernel rảnh (nếu trang có chỉ báo kernel, như JupyterLab), hình là khung hình
    của giá trị hiện tại của các điều khiển (FigureView) và không đổi trong 0,5 s. Trả về ảnh chụp
    hình lúc đó (dùng làm mốc "trước" cho lần kéo kế tiếp)."""
    t0 = time.monotonic()
    last = canvas_png(page, demo_index)
    while time.monotonic() - t0 < timeout:
        busy = page.evaluate(_BUSY_JS, demo_index)
        time.sleep(0.5)
        png = canvas_png(page, demo_index)
        if not busy and not images_differ(last, png, min_fraction=0):
            return png
        last = png
    raise AssertionError(
        f"Demo #{demo_index} chưa ổn định sau {timeout} s (kernel bận hoặc hình còn đổi)."
    )


def start_present(notebook, preheat=False, diagnostics=True, extra=(), env_extra=None):
    """Chế độ giảng viên (như `make demo NB=...`): bản trình chiếu + khuôn trang trinh-chieu + Voilà.

    Chờ bằng tệp CSS tĩnh của khuôn trang, không mở trang notebook (mở trang sẽ dùng mất kernel đã
    hâm nóng). ``extra``: tham số thêm cho ``nblib.presentation.present`` (ví dụ ``--all-demos``);
    ``env_extra``: biến môi trường thêm (ví dụ ``NBLIB_RENDERER=ipympl``)."""
    port = free_port()
    cmd = [sys.executable, "-m", "nblib.presentation.present", str(notebook), f"--port={port}"]
    cmd.append("--preheat" if preheat else "--no-preheat")
    cmd += list(extra)
    env = {**_env(), **(env_extra or {})}
    if diagnostics:
        env["NBLIB_DIAGNOSTICS"] = (
            "1"  # nblib.presentation.widgets.Demo ghi số nhãn chồng nhau vào trang
        )
    return Server(
        cmd,
        f"http://127.0.0.1:{port}",
        env=env,
        ready_path="/voila/templates/trinh-chieu/static/trinh-chieu.css",
    )


def record_requests(page):
    """Danh sách URL mọi yêu cầu mạng của trang (kể cả yêu cầu hỏng), để kiểm tra không rời máy."""
    urls = []
    page.on("request", lambda req: urls.append(req.url))
    return urls


def remote_requests(urls):
    """Các URL không tới máy cục bộ (127.0.0.1/localhost) và không phải data:/blob:."""
    import urllib.parse

    bad = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome-extension"):
            continue
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            bad.append(url)
    return bad
