"""Cô lập tiến trình của bài nộp bằng công cụ có sẵn của hệ điều hành.

    bwrap     (bubblewrap: namespace mạng/PID/IPC/UTS mới, cây thư mục tối thiểu chỉ đọc)
      → prlimit   (bộ nhớ, số tiến trình, kích thước tệp, thời gian CPU, không core dump)
        → setpriv   (uid/gid riêng, không đặc quyền, khi bộ chấm chạy bằng root)
          → python inside.py

Bên trong chỉ thấy: /usr, /etc… (chỉ đọc), môi trường Python (chỉ đọc), thư mục thư viện của hộp
cát (`inside.py`, `channel.py`, bản `nblib` đã ẩn hàm tham chiếu; chỉ đọc) và một tmpfs RIÊNG có
giới hạn dung lượng và số tệp, gắn vào thư mục làm việc, /tmp và /dev/shm. Không có repo (lời giải,
kiểm thử ẩn), sổ điểm, workspace, exchange, mạng. Khi tiến trình bwrap kết thúc, namespace PID bị
huỷ cùng mọi tiến trình con: không gì sống sót sau lần chấm.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
import shutil
import subprocess
import sys

UID_BASE = int(os.environ.get("GRADING_SANDBOX_UID_BASE", "62000"))
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
HOME = "/home/hocvien"  # thư mục làm việc bên trong
LIB = "/sandbox-lib"  # thư viện của hộp cát bên trong


@dataclasses.dataclass(frozen=True)
class Isolation:
    bwrap: str | None
    prlimit: str | None
    setpriv: str | None  # chỉ khi bộ chấm là root
    tmpfs: bool  # gắn được tmpfs có giới hạn dung lượng (cần root)
    missing: tuple[str, ...]

    @property
    def full(self) -> bool:
        return not self.missing

    def message(self) -> str:
        if not self.missing:
            return ""
        return (
            "⚠️  Hộp cát chấm điểm KHÔNG đầy đủ trên máy này — thiếu: "
            + "; ".join(self.missing)
            + ". Việc chấm vẫn tiếp tục với các giới hạn áp dụng được. Để cô lập đầy đủ: chạy"
            " bằng root trên Linux có bubblewrap (`apt-get install bubblewrap`) và user namespace."
        )


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Dò (một lần mỗi tiến trình) những công cụ cô lập dùng được."""
    missing = []
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        missing.append("bubblewrap (không chặn mạng, không ẩn sổ điểm/lời giải/bài của người khác)")
    elif not _works(
        [bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    ):
        bwrap = None
        missing.append("namespace của Linux (bwrap không chạy được: không chặn mạng, không ẩn tệp)")
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        missing.append("prlimit (không giới hạn bộ nhớ và số tiến trình)")
    root = os.geteuid() == 0
    setpriv = shutil.which("setpriv") if root else None
    if not root:
        missing.append(
            "quyền root (bài nộp chạy bằng chính người dùng của bộ chấm; không có tmpfs riêng giới"
            " hạn dung lượng /tmp và /dev/shm)"
        )
    elif setpriv is None:
        missing.append("setpriv (bài nộp chạy bằng root)")
    tmpfs = root and shutil.which("mount") is not None
    return Isolation(bwrap, prlimit, setpriv, tmpfs, tuple(missing))


# ---------------------------------------------------------------------------
# tmpfs riêng của một bài nộp
# ---------------------------------------------------------------------------


def mount_private_tmpfs(path: pathlib.Path, limits) -> bool:
    """Gắn một tmpfs (dung lượng `disk_mb`, tối đa `max_files` inode) vào `path`."""
    if not probe().tmpfs:
        return False
    opts = f"size={limits.disk_mb}m,nr_inodes={limits.max_files},mode=0755"
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True
    )
    return res.returncode == 0


def unmount(path: pathlib.Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


# ---------------------------------------------------------------------------
# dòng lệnh
# ---------------------------------------------------------------------------


def _python_binds() -> list[tuple[str, str]]:
    """(nguồn thật, đường dẫn bên trong) của môi trường Python, giữ nguyên đường dẫn mà bộ chấm
    thấy (kể cả khi `.venv` là symlink) để `sys.executable` chạy được bên trong."""
    binds = {}
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        binds[os.path.abspath(p)] = os.path.realpath(p)
    for entry in sys.path:
        if entry and "site-packages" in entry and os.path.isdir(entry):
            binds.setdefault(os.path.abspath(entry), os.path.realpath(entry))
    out = []
    for dst in sorted(binds, key=len):
        if any(dst == d or dst.startswith(d.rstrip("/") + "/") for _, d in out):
            continue
        if any(dst == s or dst.startswith(s.rstrip("/") + "/") for s in SYSTEM_DIRS):
            continue
        out.append((binds[dst], dst))
    return out


def command(root: pathlib.Path, lib: pathlib.Path, uid: int | None, limits) -> list[str]:
    """Dòng lệnh đầy đủ chạy `inside.py` trong hộp cát.

    root: thư mục (tmpfs riêng) chứa `home/`, `tmp/`, `shm/` của bài nộp; lib: thư viện hộp cát.
    """
    python = sys.executable
    if not limits.enabled:
        return [python, "-E", "-s", "-B", str(lib / "inside.py")]
    iso = probe()
    argv: list[str] = []
    inside_lib = str(lib)
    if iso.bwrap:
        inside_lib = LIB
        argv += [
            iso.bwrap,
            "--die-with-parent",
            "--new-session",
            "--unshare-net",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "hop-cat",
        ]
        for d in SYSTEM_DIRS:
            if os.path.islink(d):
                argv += ["--symlink", os.readlink(d), d]
            elif os.path.isdir(d):
                argv += ["--ro-bind", d, d]
        argv += ["--proc", "/proc", "--dev", "/dev"]
        argv += ["--ro-bind", str(lib), LIB]
        argv += ["--bind", str(root / "home"), HOME]
        argv += ["--bind", str(root / "tmp"), "/tmp"]
        argv += ["--bind", str(root / "shm"), "/dev/shm"]
        # Môi trường Python gắn SAU /tmp: một repo (và `.venv`) nằm dưới /tmp vẫn thấy được bên
        # trong, gắn chỉ đọc đè lên tmpfs riêng.
        made: set[str] = {"/tmp", "/dev", "/dev/shm", HOME}
        for src, dst in _python_binds():
            for anc in reversed(pathlib.Path(dst).parents):
                a = str(anc)
                if a != "/" and a not in made:
                    made.add(a)
                    argv += ["--perms", "0755", "--dir", a]
            argv += ["--ro-bind", src, dst]
        argv += ["--chdir", HOME]
    if iso.prlimit:
        argv += [
            iso.prlimit,
            f"--as={limits.memory_mb * 1024 * 1024}",
            f"--fsize={limits.max_file_mb * 1024 * 1024}",
            f"--cpu={2 * limits.notebook_timeout + 30}",
            "--core=0",
            "--nofile=256",
        ]
        if uid is not None:  # RLIMIT_NPROC tính theo uid: chỉ có nghĩa với uid riêng
            argv.append(f"--nproc={limits.max_processes}")
        argv.append("--")
    if iso.setpriv and uid is not None:
        argv += [
            iso.setpriv,
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]
    return argv + [python, "-E", "-s", "-B", f"{inside_lib}/inside.py"]


def environment(root: pathlib.Path, limits) -> dict[str, str]:
    """Biến môi trường tối thiểu (không kế thừa biến của bộ chấm: URL sổ điểm, khoá bí mật…)."""
    inside = limits.enabled and probe().bwrap is not None
    home = HOME if inside else str(root / "home")
    tmp = "/tmp" if inside else str(root / "tmp")
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": f"{home}/.ipython",
        "MPLCONFIGDIR": f"{home}/.mpl",
        "MPLBACKEND": "Agg",
        "NBLIB_BACKEND": "numpy",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    return env
