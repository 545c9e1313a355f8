# Cấu hình JupyterHub của khoá học (hướng dẫn: docs/jupyterhub.md). Chạy bằng root:
#
#     cd /srv/jupyterhub && /srv/mang-no-ron/.venv/bin/jupyterhub -f /srv/mang-no-ron/docs/jupyterhub/jupyterhub_config.py
#
# - Đăng nhập: PAM, bằng tài khoản hệ điều hành trong nhóm học viên hoặc nhóm giảng viên.
# - Mỗi người dùng một server Jupyter chạy bằng chính tài khoản hệ điều hành đó (LocalProcessSpawner),
#   trong môi trường của khoá học (.venv của repo: kernel, nbgrader, `python -m grading`).
# - Học viên: tab Assignments của nbgrader để lấy bài, nộp bài và lấy phản hồi qua exchange; giao
#   diện của giảng viên (formgrader, tạo bài, …) bị tắt; tự kiểm tra bằng `python -m grading validate`.
# Mọi đường dẫn và cổng đổi được bằng biến môi trường MNR_* (kiểm thử tests/test_hub.py dùng chúng).
import grp
import os
import pathlib
import pwd

HERE = pathlib.Path(__file__).resolve().parent
REPO = pathlib.Path(os.environ.get("MNR_REPO", str(HERE.parents[1])))
VENV = pathlib.Path(os.environ.get("MNR_VENV", str(REPO / ".venv")))
EXCHANGE = os.environ.get("MNR_EXCHANGE", "/srv/nbgrader/exchange")
COURSE_ID = os.environ.get("MNR_COURSE_ID", "mang-no-ron")
STUDENTS = os.environ.get("MNR_NHOM_HOC_VIEN", "mnr-hocvien")
INSTRUCTORS = os.environ.get("MNR_NHOM_GIANG_VIEN", "mnr-giangvien")
STATE = pathlib.Path(os.environ.get("MNR_HUB_STATE", "/srv/jupyterhub"))
HUB_URL = os.environ.get("MNR_HUB_URL", "http://:8000")
HUB_API_PORT = int(os.environ.get("MNR_HUB_API_PORT", "8081"))
PROXY_API_PORT = int(os.environ.get("MNR_PROXY_API_PORT", "8001"))

c = get_config()  # noqa: F821

# ---- Hub và proxy (configurable-http-proxy do `make setup` cài vào .venv/node) ----
c.JupyterHub.bind_url = HUB_URL
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = HUB_API_PORT
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(VENV / "node/node_modules/.bin/configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# ---- Đăng nhập bằng tài khoản hệ điều hành (PAM) ----
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {STUDENTS, INSTRUCTORS}
c.PAMAuthenticator.admin_groups = {INSTRUCTORS}

# ---- Server của từng người: tiến trình cục bộ, chạy bằng tài khoản của người đó ----
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin/jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def _home(spawner) -> str:
    return pwd.getpwnam(spawner.user.name).pw_dir


def _is_instructor(name: str) -> bool:
    try:
        group = grp.getgrnam(INSTRUCTORS)
    except KeyError:
        return False
    return name in group.gr_mem or pwd.getpwnam(name).pw_gid == group.gr_gid


def _config_path(spawner) -> str:
    # Học viên: thêm thư mục hoc-vien/ (tắt giao diện nbgrader của giảng viên) trước chung/.
    dirs = [HERE / "chung"]
    if not _is_instructor(spawner.user.name):
        dirs.insert(0, HERE / "hoc-vien")
    return os.pathsep.join(str(d) for d in dirs)


def _student_workspace(spawner) -> str:
    # Học viên: tệp tạm của `python -m grading validate` trong HOME. Giảng viên: để trống (giữ
    # workspace của grading.toml).
    if _is_instructor(spawner.user.name):
        return ""
    return f"{_home(spawner)}/.grading-workspace"


c.Spawner.environment = {
    # môi trường của khoá học đứng đầu PATH: terminal và kernel dùng đúng python của .venv
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "JUPYTER_CONFIG_PATH": _config_path,
    "MNR_EXCHANGE": EXCHANGE,
    "MNR_COURSE_ID": COURSE_ID,
    # `python -m grading …` (validate của học viên) dùng cùng exchange/mã khoá học và ghi tệp
    # tạm của nó trong HOME của người dùng, không trong repo
    "GRADING_EXCHANGE": EXCHANGE,
    "GRADING_COURSE_ID": COURSE_ID,
    "GRADING_WORKSPACE": _student_workspace,
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
