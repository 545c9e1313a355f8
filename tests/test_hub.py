"""JupyterHub thật của khoá học (docs/jupyterhub/jupyterhub_config.py) với tài khoản hệ điều hành thật.

Kiểm thử tạo ba học viên và một giảng viên (useradd, mật khẩu qua chpasswd, nhóm học viên và nhóm
giảng viên), một exchange ở chế độ nhiều tài khoản, rồi chạy JupyterHub cùng proxy
configurable-http-proxy trên 127.0.0.1 (cổng trống ngẫu nhiên). Mỗi học viên đăng nhập bằng mật khẩu
(PAM), tự mở server của mình (chạy bằng tài khoản của mình), lấy bài bt02, làm bài qua API nội dung,
tự kiểm tra bằng `python -m grading validate` trong terminal của server, và nộp qua phần mở rộng của
nbgrader trên server đó. Giảng viên (root) thu, chấm, sinh và gửi phản hồi; mỗi học viên lấy được
đúng phản hồi của mình. Kiểm tra bằng chính tài khoản học viên (`runuser`) rằng không ai đọc, sửa,
xoá hay đổi tên được bài nộp hoặc phản hồi của người khác, và bài nộp mạo danh bị bỏ khi thu.
Tài khoản, tiến trình và tệp được dọn cả khi kiểm thử thất bại.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import grp
import html
import json
import os
import pathlib
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from grading.config import REPO_ROOT

HUB_DIR = REPO_ROOT / "docs" / "jupyterhub"
VENV = pathlib.Path(sys.prefix)
CHP = VENV / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE = "mang-no-ron"
A = "bt02_ham_kich_hoat"
MAX = 13
# học viên thứ i → (các ô được giải, điểm mong đợi)
PLANS = [("all", 13), (["tanh", "relu"], 4), ((), 0)]
STUDENT_PLUGINS = {
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:validate-assignment",
    "@jupyter/nbgrader:menu",
}


def test_student_plugins_match_make_lab():
    """Giao diện nbgrader bị tắt cho học viên trên hub đúng như `make lab` (ROLE=hoc-vien)."""
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    block = re.search(r"^INSTRUCTOR_PLUGINS := (.*?)\n(?!  )", text, re.S | re.M).group(1)
    make_plugins = set(re.findall(r"@jupyter/nbgrader:[a-z-]+", block))
    page = json.loads((HUB_DIR / "hoc-vien" / "labconfig" / "page_config.json").read_text())
    assert make_plugins == STUDENT_PLUGINS
    assert {k for k, v in page["disabledExtensions"].items() if v} == STUDENT_PLUGINS


# ---------------------------------------------------------------------------------------------
# tiện ích


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd, timeout=60, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def _as(user, *cmd, timeout=60):
    """Chạy lệnh bằng tài khoản `user` (không phải root)."""
    return _run(["runuser", "-u", user, "--", *cmd], timeout=timeout)


def _wait(pred, timeout, what, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"quá {timeout} s mà chưa {what}")


def _requirements() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "cần root (tạo tài khoản hệ điều hành, JupyterHub chạy server bằng tài khoản khác)"
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "chpasswd", "runuser"):
        if shutil.which(tool) is None:
            return f"thiếu lệnh {tool} (gói passwd/util-linux)"
    if not pathlib.Path("/etc/pam.d").is_dir():
        return "không có PAM (/etc/pam.d)"
    try:
        import pamela  # noqa: F401
        import requests  # noqa: F401
        import tornado.websocket  # noqa: F401
    except ImportError as exc:
        return f"thiếu gói Python {exc.name} (chạy `make setup`)"
    if not (VENV / "bin" / "jupyterhub").is_file():
        return "thiếu jupyterhub trong môi trường (chạy `make setup`)"
    if not CHP.is_file():
        return f"thiếu proxy {CHP} (chạy `make setup`, cần npm)"
    return None


class Hub:
    """Tài khoản, thư mục và tiến trình của một lần kiểm thử; `close()` dọn tất cả."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.students = [f"mnrsv{i}{tag}" for i in (1, 2, 3)]
        self.instructor = f"mnrgv{tag}"
        self.group_students = f"mnrhv{tag}"
        self.group_instructors = f"mnrnhomgv{tag}"
        self.passwords = {u: secrets.token_urlsafe(12) for u in self.students}
        self.users: list[str] = []
        self.groups: list[str] = []
        self.proc = None
        self.opened: list[tuple[pathlib.Path, int]] = []
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="mnr-hub-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        self.exchange = self.base / "exchange"
        self.workspace = self.base / "giang-vien"
        self.state = self.base / "hub"
        self.log = self.base / "hub.log"

    # -- tài khoản
    def create_accounts(self):
        for g in (self.group_students, self.group_instructors):
            res = _run(["groupadd", g])
            assert res.returncode == 0, res.stderr
            self.groups.append(g)
        for u in [*self.students, self.instructor]:
            group = self.group_instructors if u == self.instructor else self.group_students
            # HOME 0700 như docs/jupyterhub.md khuyên; nhóm chính riêng của mỗi tài khoản
            res = _run(["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", "-G", group, u])
            assert res.returncode == 0, res.stderr
            self.users.append(u)
        lines = "".join(f"{u}:{p}\n" for u, p in self.passwords.items())
        res = _run(["chpasswd"], input=lines)
        assert res.returncode == 0, res.stderr

    # -- exchange ở chế độ nhiều tài khoản (như docs/jupyterhub.md)
    def create_exchange(self):
        res = _run(
            ["install", "-d", "-o", "root", "-g", self.group_instructors, "-m", "2775"]
            + [str(self.exchange)]
        )
        assert res.returncode == 0, res.stderr
        self.workspace.mkdir(mode=0o700)
        self.state.mkdir(mode=0o700)

    def open_python(self):
        """Python gốc của .venv có thể nằm trong thư mục riêng của root (ví dụ pyenv trong /root):
        chỉ trong lúc kiểm thử, cho hai nhóm của kiểm thử đi qua (x) các thư mục đó bằng ACL POSIX;
        `close()` trả lại như cũ. Trên máy chủ thật, dựng .venv từ Python mà mọi người chạy được."""
        from grading.exchange import posix_acl

        gids = {grp.getgrnam(g).gr_gid: 1 for g in self.groups}
        # cả repo và .venv: một bản clone trong `mktemp -d` (0700) thì học viên không đi qua được
        targets = {
            pathlib.Path(os.path.realpath(sys.executable)),
            pathlib.Path(sys.base_prefix),
            pathlib.Path(sys.prefix) / "bin",
            REPO_ROOT / "grading",
        }
        blocked = sorted({d for t in targets for d in t.parents if not os.stat(d).st_mode & 0o001})
        for d in blocked:
            with contextlib.suppress(OSError):
                os.getxattr(d, "system.posix_acl_access")
                pytest.fail(f"{d} đã có ACL riêng: kiểm thử không sửa nó")
            mode = stat.S_IMODE(os.stat(d).st_mode)
            os.setxattr(
                d,
                "system.posix_acl_access",
                posix_acl(mode >> 6 & 7, mode >> 3 & 7, mode & 7, groups=gids),
            )
            self.opened.append((d, mode))

    # -- hub
    def start(self):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "GRADING"))}
        env.update(
            MNR_VENV=str(VENV),
            MNR_EXCHANGE=str(self.exchange),
            MNR_COURSE_ID=COURSE,
            MNR_NHOM_HOC_VIEN=self.group_students,
            MNR_NHOM_GIANG_VIEN=self.group_instructors,
            MNR_HUB_STATE=str(self.state),
            MNR_HUB_URL=self.url,
            MNR_HUB_API_PORT=str(_free_port()),
            MNR_PROXY_API_PORT=str(_free_port()),
        )
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [str(VENV / "bin" / "jupyterhub"), "-f", str(HUB_DIR / "jupyterhub_config.py")],
                cwd=self.state,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        import requests

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"JupyterHub dừng sớm:\n{self.log_tail()}")
            try:
                return requests.get(f"{self.url}/hub/api", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        _wait(up, 90, "JupyterHub trả lời")

    def log_tail(self, n=60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            # SIGTERM: hub dừng server của người dùng (cleanup_servers) và proxy
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        for u in self.users:
            # tiến trình còn sót của tài khoản kiểm thử (server, kernel, terminal)
            _run(["pkill", "-KILL", "-u", u], timeout=10)
        for d, mode in self.opened:
            with contextlib.suppress(OSError):
                os.removexattr(d, "system.posix_acl_access")
            os.chmod(d, mode)
        for u in self.users:
            _run(["userdel", "-r", u], timeout=30)
        for g in self.groups:
            _run(["groupdel", g], timeout=30)
        shutil.rmtree(self.base, ignore_errors=True)


class Student:
    """Một học viên dùng hub qua HTTP: đăng nhập, token của chính mình, server của mình."""

    def __init__(self, hub: Hub, name: str):
        import requests

        self.hub, self.name = hub, name
        self.http = requests.Session()
        self.token = None

    def login(self, password) -> bool:
        r = self.http.get(f"{self.hub.url}/hub/login", timeout=30)
        assert r.status_code == 200, r.text[:500]
        xsrf = self.http.cookies.get("_xsrf", "")
        r = self.http.post(
            f"{self.hub.url}/hub/login",
            data={"username": self.name, "password": password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=60,
        )
        return r.status_code == 302 and "jupyterhub-hub-login" in self.http.cookies

    def create_token(self):
        r = self.http.post(
            f"{self.hub.url}/hub/api/users/{self.name}/tokens",
            json={"note": "kiểm thử", "expires_in": 3600},
            headers={"X-XSRFToken": self.http.cookies.get("_xsrf", "")},
            timeout=30,
        )
        assert r.status_code in (200, 201), r.text[:500]
        self.token = r.json()["token"]

    @property
    def headers(self):
        return {"Authorization": f"token {self.token}"}

    def api(self, method, path, **kw):
        import requests

        return requests.request(
            method,
            f"{self.hub.url}{path}",
            headers=self.headers,
            timeout=kw.pop("timeout", 120),
            **kw,
        )

    def start_server(self):
        r = self.api("POST", f"/hub/api/users/{self.name}/server")
        assert r.status_code in (201, 202), r.text[:500]

        def ready():
            info = self.api("GET", f"/hub/api/users/{self.name}").json()
            server = info.get("servers", {}).get("", {})
            return server.get("ready")

        _wait(ready, 150, f"server của {self.name} sẵn sàng", interval=1)

    def server(self, method, path, **kw):
        return self.api(method, f"/user/{self.name}/{path}", **kw)

    def assignments(self, action, **kw):
        r = self.server(
            "POST", f"assignments/{action}", data={"course_id": COURSE, "assignment_id": A}, **kw
        )
        assert r.status_code == 200, r.text[:1000]
        res = r.json()
        assert res["success"], f"{self.name} {action}:\n{res.get('value')}"
        return res["value"]

    def terminal(self, command, timeout=240) -> tuple[int, str]:
        """Chạy `command` trong một terminal của server (websocket), trả về (mã thoát, output)."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        name = self.server("POST", "api/terminals").json()["name"]
        url = f"ws://127.0.0.1:{self.hub.port}/user/{self.name}/terminals/websocket/{name}"

        async def talk():
            ws = await asyncio.wait_for(
                websocket_connect(HTTPRequest(url, headers=self.headers)), 30
            )
            # dấu kết thúc ghép lúc chạy, để dòng lệnh được terminal lặp lại không khớp nó
            ws.write_message(json.dumps(["stdin", f'{command}; echo "__XO""NG__$?"\r']))
            out = ""
            deadline = time.monotonic() + timeout
            while not re.search(r"__XONG__(\d+)", out):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"terminal của {self.name} quá {timeout} s:\n{out}")
                msg = await asyncio.wait_for(ws.read_message(), left)
                if msg is None:
                    break
                kind, *rest = json.loads(msg)
                if kind == "stdout":
                    out += rest[0]
            ws.close()
            return out

        try:
            # vòng sự kiện riêng trong một luồng khác: luồng chính có thể đang giữ vòng lặp của
            # Playwright (kiểm thử trình duyệt chạy trước trong cùng tiến trình pytest)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                out = pool.submit(asyncio.run, talk()).result()
        finally:
            self.server("DELETE", f"api/terminals/{name}")
        out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "", out)
        m = re.search(r"__XONG__(\d+)", out)
        assert m, out
        return int(m.group(1)), out


def _instructor(hub: Hub, *args, timeout=900):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADING", "JUPYTER"))}
    cfg = ["--workspace", str(hub.workspace), "--exchange", str(hub.exchange)]
    res = _run(
        [sys.executable, "-m", "grading", *cfg, "--course-id", COURSE, *args],
        timeout=timeout,
        cwd=REPO_ROOT,
        env=env,
    )
    assert res.returncode == 0, f"grading {args}:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def _visible(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture
def hub():
    reason = _requirements()
    if reason:
        pytest.skip(reason)
    h = Hub()
    try:
        yield h
    finally:
        h.close()


# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_jupyterhub_course_round_trip(hub, tmp_path):
    from grading.synthetic import make_submission

    hub.create_accounts()
    hub.create_exchange()
    hub.open_python()
    # server của học viên nạp grading.exchange từ repo: repo phải đọc được với tài khoản khác
    res = _as(hub.students[0], str(VENV / "bin" / "python"), "-c", "import grading.exchange")
    assert res.returncode == 0, f"tài khoản học viên không nạp được grading từ repo:\n{res.stderr}"

    out = _instructor(hub, "release", A)
    assert f"✅ {A}: đã phát hành" in out
    course = hub.exchange / COURSE
    inbound = course / "inbound"
    gid = grp.getgrnam(hub.group_instructors).gr_gid
    assert stat.S_IMODE(os.stat(inbound).st_mode) == 0o3773
    assert os.stat(inbound).st_gid == gid
    assert stat.S_IMODE(os.stat(course).st_mode) == 0o2775

    hub.start()
    students = [Student(hub, name) for name in hub.students]

    # đăng nhập thật qua PAM: sai mật khẩu bị từ chối, đúng thì vào được
    assert not Student(hub, hub.students[0]).login("sai-mat-khau")
    for s in students:
        assert s.login(hub.passwords[s.name]), f"{s.name} không đăng nhập được"
        s.create_token()
        s.start_server()

    first = students[0]
    # giao diện của học viên: danh sách bài tập có, giao diện giảng viên bị tắt
    page = first.server("GET", "lab").text
    config = json.loads(
        re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1)
    )
    assert STUDENT_PLUGINS <= set(config["disabledExtensions"])
    assert "@jupyter/nbgrader:assignment-list" not in config["disabledExtensions"]
    assert first.server("GET", "formgrader").status_code == 404
    # server chạy bằng tài khoản của học viên, với python của môi trường khoá học
    code, out = first.terminal('id -un; python -c "import sys; print(sys.prefix)"')
    assert code == 0 and first.name in out.split() and str(VENV) in out.split(), out

    solution = REPO_ROOT / "solutions" / A / f"{A}.ipynb"
    nb_path = f"{A}/{A}.ipynb"
    for s, (solved, _) in zip(students, PLANS):
        if s is students[-1]:
            # lệnh trong terminal, đúng như docs/jupyterhub.md (mã học viên lấy từ cấu hình)
            code, out = s.terminal(f"nbgrader fetch_assignment {A}")
            assert code == 0, out
        else:
            listing = s.assignments("fetch")
            assert any(x["assignment_id"] == A and x["status"] == "fetched" for x in listing)
        fetched = s.server("GET", f"api/contents/{nb_path}?content=1").json()
        assert fetched["type"] == "notebook"
        assert (
            pwd.getpwuid(os.stat(pathlib.Path(pwd.getpwnam(s.name).pw_dir, nb_path)).st_uid).pw_name
            == s.name
        )
        # học viên làm bài: tính nội dung ở đây, ghi qua API nội dung của server của mình
        local = tmp_path / f"{s.name}.ipynb"
        local.write_text(json.dumps(fetched["content"]), encoding="utf-8")
        make_submission(local, solution, local, solved=solved, marker=f"bài làm của {s.name}")
        body = {"type": "notebook", "format": "json", "content": json.loads(local.read_text())}
        r = s.server("PUT", f"api/contents/{nb_path}", json=body)
        assert r.status_code == 200, r.text[:500]

    # đường tự kiểm tra tiếng Việt, trong terminal của học viên
    code, out = first.terminal(f"python -m grading validate {nb_path}")
    assert f"Kết quả kiểm thử công khai: {MAX}/{MAX} điểm" in out, out
    assert code == 0, out

    for s in students:
        if s is students[-1]:
            code, out = s.terminal(f"nbgrader submit {A}")
            assert code == 0 and "Submitted as" in out, out
        else:
            listing = s.assignments("submit")
            assert any(x["assignment_id"] == A and x["status"] == "submitted" for x in listing)

    subs = {p.name.split("+")[0]: p for p in inbound.iterdir()}
    assert sorted(subs) == sorted(hub.students)
    for name, sub in subs.items():
        st = os.stat(sub)
        assert pwd.getpwuid(st.st_uid).pw_name == name and st.st_gid == gid
        assert stat.S_IMODE(st.st_mode) & 0o777 == 0o770
        nb = sub / f"{A}.ipynb"
        assert stat.S_IMODE(os.stat(nb).st_mode) == 0o640 and os.stat(nb).st_gid == gid

    sv1, sv2, sv3 = hub.students
    victim = subs[sv1]
    # học viên khác: không liệt kê, đọc, ghi, đổi tên, xoá được bài nộp của sv1
    assert _as(sv2, "ls", str(inbound)).returncode != 0
    assert _as(sv2, "cat", str(victim / f"{A}.ipynb")).returncode != 0
    assert _as(sv2, "cat", str(victim / "submission_secret.txt")).returncode != 0
    assert _as(sv2, "touch", str(victim / "x")).returncode != 0
    assert _as(sv2, "mv", str(victim), str(inbound / "da-doi-ten")).returncode != 0
    assert _as(sv2, "rm", "-rf", str(victim)).returncode != 0
    assert (victim / f"{A}.ipynb").is_file()
    # … cũng không đụng được exchange và khoá học
    assert _as(sv2, "mv", str(course), str(hub.exchange / "khoa-gia")).returncode != 0
    assert _as(sv2, "mkdir", str(hub.exchange / "khoa-gia")).returncode != 0
    assert _as(sv2, "touch", str(course / "outbound" / A / "x")).returncode != 0
    cache = pathlib.Path(pwd.getpwnam(sv1).pw_dir, ".local/share/jupyter/nbgrader_cache")
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    # giảng viên không phải root (trong nhóm giảng viên) đọc được bài nộp
    assert _as(hub.instructor, "ls", str(inbound)).returncode == 0
    assert _as(hub.instructor, "cat", str(victim / f"{A}.ipynb")).returncode == 0

    # sv3 mạo danh sv1: tự tạo một bài nộp mang tên sv1, mới hơn
    fake = inbound / f"{sv1}+{A}+2099-01-01 00:00:00.000000 UTC+gia"
    home3 = pwd.getpwnam(sv3).pw_dir
    res = _as(sv3, "cp", "-r", f"{home3}/{A}", str(fake))
    assert res.returncode == 0, res.stderr

    out = _instructor(hub, "collect", A)
    assert f"✅ {A}: 3 bài nộp đã thu" in out
    assert f"Bỏ bài nộp {fake.name}: mang tên học viên '{sv1}' nhưng do tài khoản '{sv3}'" in out
    out = _instructor(hub, "autograde")
    for name, (_, score) in zip(hub.students, PLANS):
        line = next(ln for ln in out.splitlines() if ln.startswith(name))
        assert f"{score}/{MAX}" in line and "đã chấm" in line, line
    _instructor(hub, "feedback")
    _instructor(hub, "release-feedback")

    feedback_dir = course / "feedback"
    assert stat.S_IMODE(os.stat(feedback_dir).st_mode) == 0o2771
    released = sorted(feedback_dir.iterdir())
    assert len(released) == 3
    owners = {}
    for f in released:
        st = os.stat(f)
        assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == gid
        owners[pwd.getpwuid(st.st_uid).pw_name] = f
    assert sorted(owners) == sorted(hub.students)

    for s, (_, score) in zip(students, PLANS):
        s.assignments("fetch_feedback")
        root = s.server("GET", f"api/contents/{A}/feedback").json()
        stamps = [x["path"] for x in root["content"] if x["type"] == "directory"]
        assert len(stamps) == 1, root
        files = s.server("GET", f"api/contents/{stamps[0]}").json()["content"]
        assert [x["name"] for x in files] == [f"{A}.html"]
        page = s.server("GET", f"api/contents/{stamps[0]}/{A}.html?format=text").json()
        text = _visible(page["content"])
        assert f"(Điểm: {float(score)} / {float(MAX)})" in text
        assert f"bài làm của {s.name}" in text
        for other in hub.students:
            if other != s.name:
                assert f"bài làm của {other}" not in text, f"{s.name} thấy bài của {other}"

    # phản hồi của sv1 trong exchange: sv1 đọc được, học viên khác không đọc, không ghi được
    mine = owners[sv1]
    assert _as(sv1, "cat", str(mine)).returncode == 0
    for other in (sv2, sv3):
        assert _as(other, "cat", str(mine)).returncode != 0
        assert _as(other, "ls", str(feedback_dir)).returncode != 0
        assert _as(other, "cp", "/dev/null", str(mine)).returncode != 0
        assert _as(other, "touch", str(feedback_dir / "x.html")).returncode != 0
    assert not (feedback_dir / "x.html").exists()

    # giảng viên không phải root: gán quyền đọc cho đúng một học viên bằng ACL POSIX
    probe = pathlib.Path(pwd.getpwnam(hub.instructor).pw_dir) / "phan-hoi.html"
    script = (
        "import os, pwd, sys; from grading.exchange import grant_read; p = sys.argv[1]; "
        "open(p, 'w').write('phản hồi'); os.chmod(p, 0o640); "
        "grant_read(p, pwd.getpwnam(sys.argv[2]).pw_uid)"
    )
    res = _as(hub.instructor, str(VENV / "bin" / "python"), "-c", script, str(probe), sv1)
    assert res.returncode == 0, res.stderr
    os.chmod(probe.parent, 0o711)
    assert _as(sv1, "cat", str(probe)).stdout == "phản hồi"
    assert _as(sv2, "cat", str(probe)).returncode != 0
