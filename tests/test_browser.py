"""Kiểm thử trên trình duyệt thật: JupyterLab và Voilà, điều khiển bằng Playwright + chromium của Debian.

Với mỗi bài giảng trong ``lectures/``: mở trong JupyterLab, chạy mọi ô (menu Run → Run All Cells),
chờ kernel về idle, rồi kiểm tra:

- không ô nào bỏ sót, không có output lỗi (stderr/traceback) và không có "Error displaying widget";
- mọi widget (thanh trượt, danh sách chọn, hình ipympl…) đều nhìn thấy được;
- kéo các thanh trượt chính của từng demo (tốc độ học, hệ số khởi tạo, keep_prob, λ) bằng bàn phím
  thì hình vẽ đổi (so sánh ảnh chụp hình trước/sau);
- từ lúc mở bài tới sau khi kéo, không yêu cầu mạng nào rời máy (mọi URL là 127.0.0.1/localhost,
  data: hoặc blob:).

Thêm một kiểm thử phục vụ một bài bằng Voilà (như ``make demo``) và kéo một thanh trượt (cũng không
yêu cầu nào rời máy), và hai kiểm thử cho một phiên học viên trong JupyterLab (bản sao ``my-work/``
như ``make lab``): một ``check(...)`` sai hiện đúng một thông báo, một lần, không có khung của
``nblib/assessment/checks.py``; sau phiên học (chạy ô, tự lưu) các notebook của repo vẫn không có output.
Mỗi lần hỏng, ảnh chụp trang được lưu trong ``test-artifacts/``.

Chạy riêng: ``.venv/bin/pytest -m browser tests/test_browser.py``.
"""

from __future__ import annotations

import os
import pathlib
import re
import time

import browser_utils as bu
import numpy as np
import pytest

pytestmark = pytest.mark.browser

ROOT = bu.ROOT
LECTURES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "lectures").glob("[0-9]*.ipynb"))
RUN_TIMEOUT = int(os.environ.get("BROWSER_NB_TIMEOUT", "600"))  # giây cho mỗi notebook
# BROWSER_ARTIFACTS=all: lưu ảnh chụp cả khi kiểm thử qua (để xem widget hiện ra sao).
KEEP_ALL = os.environ.get("BROWSER_ARTIFACTS") == "all"


@pytest.fixture(scope="session")
def lab(browser):
    server = bu.start_lab()
    try:
        yield server
    finally:
        server.shutdown_kernels()
        server.stop()
        bu.cleanup_dir(server.tmpdir)


@pytest.fixture
def page(browser):
    page = browser.new_page()
    messages = []
    page.on("pageerror", lambda exc: messages.append(f"lỗi JavaScript: {exc}"))
    page.console_messages_seen = messages
    page.requests_seen = bu.record_requests(page)  # mọi yêu cầu mạng, từ lúc mở trang
    yield page
    page.close()


def _check_sliders_move_figure(page, name, where):
    """Kéo từng thanh trượt chính của mọi demo trên trang; mỗi lần hình phải đổi."""
    moved = []
    for d, s, label in bu.demo_sliders(page):
        before_png = bu.wait_settled(page, d)
        old, new = bu.move_slider(page, d, s)
        assert old != new, f"{where}: thanh trượt «{label}» không đổi giá trị khi nhấn phím."
        try:
            _, secs = bu.wait_canvas_changed(page, d, before_png, timeout=90)
        except AssertionError as exc:
            raise AssertionError(f"{where}: kéo «{label}» ({old} → {new}) nhưng {exc}") from None
        problems = bu.page_problems(page, "body")
        assert not problems, f"{where}: sau khi kéo «{label}»: {problems}"
        moved.append((label, old, new, round(secs, 2)))
    return moved


@pytest.mark.parametrize("notebook", LECTURES)
def test_lecture_runs_and_demos_respond_in_jupyterlab(lab, page, notebook):
    name = f"lab_{pathlib.Path(notebook).stem}"
    try:
        with bu.screenshot_on_failure(page, name):
            _run_lecture_in_lab(lab, page, notebook, name)
    finally:
        lab.shutdown_kernels()  # sau ảnh chụp lỗi: mỗi bài một kernel mới, không giữ CPU/bộ nhớ


def _run_lecture_in_lab(lab, page, notebook, name):
    # Một không gian làm việc mới cho mỗi bài (?reset): chỉ một notebook mở trong trang.
    workspace = re.sub(r"\W+", "-", pathlib.Path(notebook).stem)
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={lab.token}")
    bu.wait_kernel_ready(page, lab, notebook)
    prompts, secs = bu.run_all_cells(page, timeout=RUN_TIMEOUT)
    print(f"{notebook}: chạy mọi ô trong trình duyệt mất {secs:.1f} s")
    not_run = [i for i, p in enumerate(prompts) if not re.search(r"\[\d+\]", p)]
    assert not not_run, f"{notebook}: các ô code chưa chạy (có thể do lỗi trước đó): {not_run}"

    problems = bu.page_problems(page)
    assert not problems, f"{notebook}: {problems}"

    # Widget được vẽ bất đồng bộ: cho chúng thời gian rồi kiểm tra không còn "Loading widget".
    page.wait_for_function(
        "() => !document.querySelector('.jp-Notebook').innerText.includes('Loading widget')",
        timeout=60_000,
    )
    n_widgets = bu.assert_widgets_shown(page, ".jp-Notebook", notebook)
    n_demos = page.locator(bu.DEMO_ROOT).count()
    expected_demos = _count_demos_in_source(notebook)
    assert n_demos >= expected_demos, (
        f"{notebook}: mã tạo {expected_demos} demo nhưng trang chỉ hiện {n_demos} demo"
    )

    moved = _check_sliders_move_figure(page, name, notebook)
    print(f"{notebook}: {n_widgets} widget, {n_demos} demo, đã kéo {moved}")
    remote = bu.remote_requests(page.requests_seen)
    assert not remote, f"{notebook}: yêu cầu rời máy trong JupyterLab: {remote[:5]}"
    if KEEP_ALL:
        _save_demo_views(page, name)
    assert not page.console_messages_seen, page.console_messages_seen


def _save_demo_views(page, name):
    bu.ARTIFACTS.mkdir(exist_ok=True)
    demos = page.locator(bu.DEMO_ROOT)
    for d in range(demos.count()):
        bu.wait_settled(page, d)
        demos.nth(d).scroll_into_view_if_needed()
        demos.nth(d).screenshot(path=str(bu.ARTIFACTS / f"{name}_demo{d}.png"))
    page.screenshot(path=str(bu.ARTIFACTS / f"{name}_page.png"))


def _count_demos_in_source(notebook):
    """Số lời gọi ``Demo(`` trong các ô code của notebook (mỗi lời gọi là một demo hiển thị)."""
    import nbformat

    nb = nbformat.read(ROOT / notebook, as_version=4)
    return sum(
        len(re.findall(r"(?<![\w.])(?:\w+\.)?Demo\(", c.source))
        for c in nb.cells
        if c.cell_type == "code"
    )


def _voila_notebook():
    """Bài dùng cho Voilà: ưu tiên bài 04 (thanh trượt tốc độ học) hoặc 06 (hệ số khởi tạo)."""
    candidates = [nb for nb in LECTURES if _count_demos_in_source(nb)]
    if not candidates:
        return None
    preferred = [nb for nb in candidates if "06_" in nb or "04_" in nb]
    return (preferred or candidates)[0]


def test_voila_serves_lecture_and_slider_updates_figure(browser, page):
    notebook = _voila_notebook()
    if notebook is None:
        pytest.skip("Chưa có bài giảng nào có demo.")
    name = f"voila_{pathlib.Path(notebook).stem}"
    server = bu.start_voila(notebook)
    try:
        with bu.screenshot_on_failure(page, name):
            t0 = time.monotonic()
            page.goto(server.url + "/", timeout=RUN_TIMEOUT * 1000, wait_until="domcontentloaded")
            page.wait_for_selector(bu.CANVAS, timeout=RUN_TIMEOUT * 1000)
            # Voilà thực thi cả notebook; chờ tới khi trang báo xong (không còn ô đang chạy).
            page.wait_for_function(
                "() => !document.body.innerText.includes('Executing') "
                "&& !document.querySelector('.voila-spinner, #loading')",
                timeout=RUN_TIMEOUT * 1000,
            )
            print(f"Voilà hiện {notebook} sau {time.monotonic() - t0:.1f} s")
            # Voilà ẩn mã: không được thấy ô nhập mã nào.
            assert page.locator(".jp-InputArea-editor:visible").count() == 0
            problems = bu.page_problems(page, "body")
            assert not problems, f"Voilà {notebook}: {problems}"
            bu.assert_widgets_shown(page, "body", f"Voilà {notebook}")
            sliders = bu.demo_sliders(page)
            assert sliders, f"Voilà {notebook}: không tìm thấy thanh trượt nào trong demo"
            d, s, label = sliders[0]
            before_png = bu.wait_settled(page, d)
            old, new = bu.move_slider(page, d, s)
            try:
                _, secs = bu.wait_canvas_changed(page, d, before_png, timeout=90)
            except AssertionError as exc:
                raise AssertionError(f"Voilà: kéo «{label}» ({old} → {new}) nhưng {exc}") from None
            print(f"Voilà: kéo «{label}» {old} → {new}, hình đổi sau {secs:.2f} s")
            remote = bu.remote_requests(page.requests_seen)
            assert not remote, f"Voilà {notebook}: yêu cầu rời máy: {remote[:5]}"
            if KEEP_ALL:
                _save_demo_views(page, name)
            assert not bu.page_problems(page, "body")
            assert not page.console_messages_seen, page.console_messages_seen
    finally:
        server.stop()
        bu.cleanup_dir(server.tmpdir)


# ----- phiên học viên: bản sao my-work/ như `make lab` -----

STUDENT_LECTURE = "lectures/02_ham_kich_hoat.ipynb"
CHECK_CELL = """import numpy as np
from nblib.assessment.checks import check

check("grads", {"dW1": np.ones((2, 3)), "db1": np.zeros((2, 1))},
      {"dW1": np.ones((3, 2)), "db1": np.ones((2, 1))})
"""


@pytest.fixture(scope="module")
def student_lab(browser):
    """JupyterLab với gốc là một bản sao ``my-work/`` (như ``make lab``: chép lectures/ rồi mở bản
    sao), BẬT tự lưu mỗi 2 s như một học viên thật."""
    import shutil
    import tempfile

    import nbformat

    work = pathlib.Path(tempfile.mkdtemp(prefix="nb-my-work-"))
    shutil.copytree(
        ROOT / "lectures",
        work / "lectures",
        ignore=shutil.ignore_patterns(".trinh-chieu", ".ipynb_checkpoints"),
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CHECK_CELL)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, work / "kiem_tra_sai.ipynb")
    server = bu.start_lab(
        root=work,
        settings_overrides={
            "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
                "autosave": True,
                "autosaveInterval": 2,
            }
        },
    )
    try:
        yield server, work
    finally:
        server.shutdown_kernels()
        server.stop()
        bu.cleanup_dir(server.tmpdir)
        bu.cleanup_dir(work)


def _open_in_lab(server, page, notebook):
    workspace = re.sub(r"\W+", "-", pathlib.Path(notebook).stem)
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={server.token}")
    bu.wait_kernel_ready(page, server, notebook)


def test_failing_check_shows_one_clean_message_in_jupyterlab(student_lab, page):
    from nblib.assessment.checks import CheckFailed, check

    server, _ = student_lab
    try:
        check(
            "grads",
            {"dW1": np.ones((2, 3)), "db1": np.zeros((2, 1))},
            {"dW1": np.ones((3, 2)), "db1": np.ones((2, 1))},
        )
    except CheckFailed as exc:
        expected = [line.strip() for line in exc.message().splitlines() if line.strip()]
    else:  # pragma: no cover
        pytest.fail("check(...) phải báo sai cho ví dụ này")
    try:
        with bu.screenshot_on_failure(page, "lab_check_sai"):
            _open_in_lab(server, page, "kiem_tra_sai.ipynb")
            bu.run_all_cells(page, timeout=300)
            outputs = page.locator(".jp-Notebook .jp-OutputArea-output")
            texts = [outputs.nth(i).inner_text() for i in range(outputs.count())]
            text = "\n".join(texts)
            # Một output duy nhất, chứa thông báo tiếng Việt đúng một lần, kể đủ mọi khoá sai.
            assert len(texts) == 1, texts
            for line in expected:
                assert text.count(line) == 1, (line, text)
            assert "dW1" in text and "db1" in text, text
            for bad in ("checks.py", "Traceback", 'File "', "site-packages"):
                assert bad not in text, (bad, text)
    finally:
        server.shutdown_kernels()


def test_student_session_keeps_committed_notebooks_output_free(student_lab, page):
    import nbformat

    server, work = student_lab
    copy = work / STUDENT_LECTURE
    try:
        with bu.screenshot_on_failure(page, "lab_phien_hoc_vien"):
            _open_in_lab(server, page, STUDENT_LECTURE)
            bu.run_all_cells(page, timeout=RUN_TIMEOUT)
            # Tự lưu (mỗi 2 s) ghi output vào BẢN SAO của học viên...
            deadline = time.monotonic() + 90
            saved = False
            while time.monotonic() < deadline and not saved:
                time.sleep(2)
                nb = nbformat.read(copy, as_version=4)
                saved = any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
            assert saved, "tự lưu không ghi output vào bản sao my-work/ của học viên"
    finally:
        server.shutdown_kernels()
    # ...còn mọi notebook của repo vẫn không có output và không số thứ tự thực thi.
    dirty = []
    for path in sorted((ROOT / "lectures").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, c in enumerate(nb.cells):
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None):
                dirty.append((path.name, i))
    assert not dirty, f"notebook của repo bị ghi output sau phiên học viên: {dirty[:5]}"
