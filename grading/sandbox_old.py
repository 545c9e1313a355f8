"""Chạy kernel của một bài nộp trong hộp cát (sandbox) dựng từ công cụ có sẵn của hệ điều hành.

Mỗi notebook được chạy trong một kernel IPython khởi động qua chuỗi lệnh:

    bwrap  (bubblewrap: namespace mạng/PID/IPC/UTS mới, cây thư mục tối thiểu chỉ đọc)
      → prlimit  (util-linux: giới hạn bộ nhớ, số tiến trình, kích thước tệp, core dump)
        → setpriv  (util-linux: đổi sang uid/gid không đặc quyền khi bộ chấm chạy bằng root)
          → python -m ipykernel_launcher

- Không có mạng: namespace mạng mới chỉ có loopback (tắt). Kernel nói chuyện với bộ chấm qua
  ZeroMQ trên socket Unix (`transport="ipc"`) nằm trong thư mục riêng của hộp cát.
- Hệ tệp: chỉ thấy /usr, /etc, môi trường Python và hai gói `nblib`, `grading` (chỉ đọc), một /tmp
  rỗng và thư mục làm việc riêng (đọc/ghi). Sổ điểm (gradebook), `solutions/`, workspace của bộ chấm (mã
  kiểm thử ẩn, bài của học viên khác), exchange, `.git` đều không tồn tại bên trong.
- Giới hạn: bộ nhớ (mặc định 2 GiB), số tiến trình, thời gian mỗi ô, thời gian cả notebook.
  Mỗi luồng chấm dùng một uid riêng nên giới hạn số tiến trình (tính theo uid) của một bài nộp
  không ảnh hưởng bài khác.

Nơi không cô lập được (không có bubblewrap/namespace, không phải root), việc chấm vẫn chạy với các
giới hạn áp dụng được và in MỘT lần một thông báo tiếng Việt nói rõ phần cô lập còn thiếu.

Phần cuối tệp (`_kernel_guard`) chạy BÊN TRONG kernel: chụp lại numpy, `nblib.checks`, builtins và
bộ biến đổi mã của IPython khi khởi động, rồi khôi phục chúng trước mỗi ô kiểm thử (bài nộp
monkeypatch `np.allclose` hay `check` không qua mặt được kiểm thử). Vì vậy phần đầu tệp chỉ nhập
thư viện chuẩn.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------------------
# giới hạn (cấu hình được bằng biến môi trường)
# ---------------------------------------------------------------------------

_LIMIT_ENV = {
    "memory_mb": "GRADING_SANDBOX_MEMORY_MB",
    "max_processes": "GRADING_SANDBOX_NPROC",
    "notebook_timeout": "GRADING_NOTEBOOK_TIMEOUT",
    "max_output_chars": "GRADING_MAX_OUTPUT_CHARS",
    "max_file_mb": "GRADING_SANDBOX_FILE_MB",
}


@dataclasses.dataclass(frozen=True)
class SandboxLimits:
    """Giới hạn áp cho kernel của một bài nộp."""

    memory_mb: int = 2048  # giới hạn không gian địa chỉ của mỗi tiến trình (RLIMIT_AS)
    max_processes: int = 64  # số tiến trình + luồng của uid hộp cát (RLIMIT_NPROC)
    cell_timeout: int = 60  # giây cho mỗi ô
    notebook_timeout: int = 600  # giây cho cả notebook (đồng hồ thực)
    max_output_chars: int = 100_000  # output văn bản tối đa giữ lại cho mỗi ô
    max_file_mb: int = 256  # kích thước tệp tối đa được ghi (RLIMIT_FSIZE)
    enabled: bool = True  # False: chạy kernel thường (chỉ để gỡ lỗi)

    @classmethod
    def from_env(cls, **overrides) -> SandboxLimits:
        values = {}
        for key, env in _LIMIT_ENV.items():
            if os.environ.get(env):
                values[key] = int(os.environ[env])
        if os.environ.get("GRADING_SANDBOX", "").lower() in ("0", "off", "false", "no"):
            values["enabled"] = False
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


# uid/gid của hộp cát: UID_BASE + số thứ tự luồng chấm (không cần có trong /etc/passwd).
UID_BASE = int(os.environ.get("GRADING_SANDBOX_UID_BASE", "62000"))

# ---------------------------------------------------------------------------
# dò khả năng cô lập của máy
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Isolation:
    bwrap: str | None  # đường dẫn bwrap nếu dùng được
    prlimit: str | None
    setpriv: str | None  # chỉ khi bộ chấm là root
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
            + ". Việc chấm vẫn tiếp tục với các giới hạn áp dụng được (thời gian mỗi ô và cả"
            " notebook"
            + (", bộ nhớ, số tiến trình" if self.prlimit else "")
            + "). Để cô lập đầy đủ: chạy bằng root trên Linux có bubblewrap"
            " (`apt-get install bubblewrap`) và user namespace."
        )


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Dò (một lần) những công cụ cô lập dùng được."""
    missing = []
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        missing.append("bubblewrap (không chặn mạng, không ẩn sổ điểm/lời giải/bài của người khác)")
    elif not _works(
        [bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    ):
        bwrap = None
        missing.append(
            "namespace của Linux (bwrap không chạy được: không chặn mạng, không ẩn tệp của bộ chấm)"
        )
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        missing.append("prlimit (không giới hạn bộ nhớ và số tiến trình)")
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0:
        setpriv = None
        missing.append(
            "quyền root (kernel chạy bằng chính người dùng của bộ chấm, không đổi sang uid riêng;"
            " giới hạn số tiến trình tính chung với người dùng này)"
        )
    elif setpriv is None:
        missing.append("setpriv (kernel chạy bằng root)")
    return Isolation(bwrap, prlimit, setpriv, tuple(missing))


_warned = False


def warn_once(echo=print) -> Isolation:
    """In (một lần cho cả tiến trình) phần cô lập còn thiếu; trả về kết quả dò."""
    global _warned
    iso = probe()
    if iso.missing and not _warned:
        _warned = True
        echo(iso.message())
    return iso


# ---------------------------------------------------------------------------
# dựng dòng lệnh kernel
# ---------------------------------------------------------------------------


def _python_roots() -> list[str]:
    """Các thư mục phải thấy (chỉ đọc) để chạy được Python của bộ chấm, nblib và grading."""
    import importlib.util

    roots = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    roots.add(os.path.dirname(os.path.realpath(sys.executable)))
    for entry in sys.path:
        if entry and os.path.isdir(entry) and "site-packages" in entry:
            roots.add(os.path.realpath(entry))
    for pkg in ("nblib", "grading"):
        spec = importlib.util.find_spec(pkg)
        if spec and spec.submodule_search_locations:
            for loc in spec.submodule_search_locations:
                roots.add(os.path.realpath(loc))
    # bỏ thư mục con của thư mục đã có
    out = []
    for r in sorted(roots, key=len):
        if not any(r == o or r.startswith(o + os.sep) for o in out):
            out.append(r)
    return out


SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")


def _under(path: str, dirs) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


def sandbox_prefix(box: pathlib.Path, workdir: pathlib.Path, uid: int | None, limits) -> list[str]:
    """Tiền tố dòng lệnh (bwrap … prlimit … setpriv …) đặt trước lệnh khởi động kernel."""
    iso = probe()
    argv: list[str] = []
    if not limits.enabled:
        return argv
    if iso.bwrap:
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
        argv += ["--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm"]
        made: set[str] = set()
        for d in [r for r in _python_roots() if not _under(r, SYSTEM_DIRS)] + [str(box)]:
            # thư mục cha do bwrap tạo phải đi qua được với uid không đặc quyền
            for anc in reversed(pathlib.Path(d).parents):
                a = str(anc)
                if a not in ("/", "/tmp") and a not in made and not _under(a, SYSTEM_DIRS):
                    made.add(a)
                    argv += ["--perms", "0755", "--dir", a]
            argv += ["--bind" if d == str(box) else "--ro-bind", d, d]
        argv += ["--chdir", str(workdir)]
    if iso.prlimit:
        mem = limits.memory_mb * 1024 * 1024
        argv += [
            iso.prlimit,
            f"--as={mem}",
            f"--fsize={limits.max_file_mb * 1024 * 1024}",
            "--core=0",
            "--nofile=1024",
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
    return argv


def kernel_env(box: pathlib.Path, workdir: pathlib.Path) -> dict[str, str]:
    """Biến môi trường tối thiểu của kernel (không kế thừa biến của bộ chấm: URL sổ điểm…)."""
    bindir = os.path.dirname(sys.executable)
    env = {
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "IPYTHONDIR": str(box / "ipython"),
        "MPLCONFIGDIR": str(box / "mpl"),
        "MPLBACKEND": "Agg",
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": str(box / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(box / "jupyter"),
        "NBGRADER_EXECUTION": "autograde",
        "TMPDIR": "/tmp",
    }
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = "1"
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    return env


# ---------------------------------------------------------------------------
# thực thi một notebook
# ---------------------------------------------------------------------------

ERROR_ENAME = "LoiChamDiem"  # tên lỗi (ASCII) ghi vào ô không chạy được


def _error_output(evalue: str):
    from nbformat import NotebookNode

    return NotebookNode(
        output_type="error",
        ename=ERROR_ENAME,
        evalue=evalue,
        traceback=[f"{ERROR_ENAME}: {evalue}"],
    )


def _is_grade(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def _is_locked_setup(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("locked")) and not meta.get("grade") and not meta.get("solution")


def _truncate_outputs(cell, max_chars: int) -> bool:
    """Cắt bớt output văn bản quá dài của một ô; trả về True nếu có cắt."""
    cut = False
    used = 0
    keep = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            room = max(0, max_chars - used)
            if len(text) > room:
                out["text"] = (
                    text[:room] + "\n… (output quá dài, phần sau đã bị cắt bớt khi chấm)\n"
                )
                cut = True
            used += len(out["text"])
            if room == 0 and cut and keep and keep[-1].get("output_type") == "stream":
                continue
        elif out.get("output_type") == "execute_result" or out.get("output_type") == "display_data":
            data = out.get("data", {})
            size = sum(len(str(v)) for v in data.values())
            if used + size > max_chars:
                out["data"] = {"text/plain": "… (output quá dài, đã bị lược bỏ khi chấm)"}
                cut = True
            used += min(size, max_chars)
        keep.append(out)
    cell["outputs"] = keep
    return cut


def _make_workdir(box: pathlib.Path, files, uid: int | None) -> pathlib.Path:
    """Thư mục làm việc riêng (bản sao tệp đi kèm bài nộp), chủ sở hữu là uid hộp cát."""
    work = box / "work"
    work.mkdir()
    for src, rel in files:
        dst = work / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    for sub in ("ipc", "ipython", "mpl", "jupyter"):
        (box / sub).mkdir()
    os.chmod(box, 0o755)
    if uid is not None and os.geteuid() == 0:
        for root, dirs, fnames in os.walk(box):
            os.chown(root, uid, uid)
            for n in dirs + fnames:
                os.chown(os.path.join(root, n), uid, uid, follow_symlinks=False)
    return work


def _kernel_manager_class():
    from jupyter_client.manager import AsyncKernelManager

    class SandboxKernelManager(AsyncKernelManager):
        """KernelManager khởi động kernel qua tiền tố hộp cát, giao tiếp qua socket Unix (ipc)."""

        sandbox_uid = None

        def write_connection_file(self, **kwargs):
            super().write_connection_file(**kwargs)
            if self.sandbox_uid is not None and os.geteuid() == 0:
                os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)

    return SandboxKernelManager


def _make_km(box: pathlib.Path, workdir: pathlib.Path, uid: int | None, limits):
    from jupyter_client.kernelspec import KernelSpec

    km = _kernel_manager_class()(transport="ipc", kernel_name="python3")
    km.cache_ports = False
    km.sandbox_uid = uid
    km.connection_file = str(box / "ipc" / "kernel.json")
    km.ip = str(box / "ipc" / "k")
    km._kernel_spec = KernelSpec(
        argv=[
            *sandbox_prefix(box, workdir, uid, limits),
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ],
        display_name="Python 3 (hộp cát chấm điểm)",
        language="python",
        interrupt_mode="message",
        env={},
    )
    return km


GUARD_EXPR = "__import__('grading.sandbox').sandbox._kernel_guard({!r})"


async def _guard(client, action: str) -> list[str]:
    """Gọi `_kernel_guard` trong kernel qua `user_expressions` (không đi qua bộ biến đổi mã của
    IPython nên bài nộp không chặn được); trả về danh sách thứ đã bị sửa."""
    import ast

    try:
        reply = await client.kc.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"g": GUARD_EXPR.format(action)},
            reply=True,
            timeout=30,
        )
        res = reply["content"].get("user_expressions", {}).get("g", {})
        if res.get("status") != "ok":
            return [f"không chạy được bộ bảo vệ ({res.get('ename', 'lỗi')})"]
        value = ast.literal_eval(res["data"]["text/plain"])
        return [str(v) for v in value]
    except Exception as exc:  # noqa: BLE001
        return [f"không chạy được bộ bảo vệ ({type(exc).__name__})"]


def _on_cell_executed(cell, cell_index, execute_reply, **_kw):
    """Như `nbgrader.preprocessors.Execute`: reply báo lỗi mà ô không có output lỗi (ví dụ bài
    nộp tắt traceback) thì vẫn ghi một output lỗi."""
    content = execute_reply.get("content", {})
    if content.get("status") == "error":
        if not any(
            o.get("output_type") == "error" and o.get("ename") == content.get("ename")
            for o in cell.outputs
        ):
            from nbformat import NotebookNode

            cell.outputs.append(
                NotebookNode(
                    output_type="error",
                    ename=content.get("ename", "Error"),
                    evalue=content.get("evalue", ""),
                    traceback=content.get("traceback") or [str(content.get("ename"))],
                )
            )


async def _shutdown(client, km) -> None:
    import atexit
    import contextlib

    with contextlib.suppress(Exception):
        if client.kc is not None:
            client.kc.stop_channels()
    with contextlib.suppress(Exception):
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    atexit.unregister(client._cleanup_kernel)


async def _execute_async(nb, box, workdir, uid, limits, extra_arguments):
    import asyncio
    import time

    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    flags: list[str] = []
    km = _make_km(box, workdir, uid, limits)
    client = NotebookClient(
        nb,
        km=km,
        timeout=limits.cell_timeout,
        startup_timeout=120,
        interrupt_on_timeout=True,
        allow_errors=True,
        record_timing=False,
        raise_on_iopub_timeout=True,
        iopub_timeout=10,
        shutdown_kernel="immediate",
        # Trong namespace PID mới, ipykernel không thấy tiến trình cha: tắt việc theo dõi tiến
        # trình cha (bwrap --die-with-parent đã lo việc dừng kernel khi bộ chấm dừng).
        extra_arguments=[*extra_arguments, "--IPKernelApp.parent_handle=0"],
        on_cell_executed=_on_cell_executed,
        error_on_timeout={
            "ename": "CellTimeoutError",
            "evalue": f"ô chạy quá {limits.cell_timeout} giây",
            "traceback": [f"CellTimeoutError: ô chạy quá {limits.cell_timeout} giây"],
        },
    )
    deadline = time.monotonic() + limits.notebook_timeout
    stop_at, reason = None, ""
    cells = nb.cells
    try:
        async with client.async_setup_kernel(
            cwd=str(workdir),
            env=kernel_env(box, workdir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ):
            await _guard(client, "init")
            for index, cell in enumerate(cells):
                if cell.cell_type != "code":
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 1:
                    stop_at = index
                    reason = (
                        f"hết thời gian cho cả notebook ({limits.notebook_timeout} giây); "
                        "các ô từ đây không được chạy"
                    )
                    break
                if _is_grade(cell):
                    for what in await _guard(client, "before"):
                        msg = f"bài nộp đã sửa {what} (đã khôi phục trước khi chạy kiểm thử)"
                        if msg not in flags:
                            flags.append(msg)
                client.timeout = int(max(1, min(limits.cell_timeout, remaining)))
                try:
                    await asyncio.wait_for(
                        client.async_execute_cell(cell, index), timeout=client.timeout + 30
                    )
                except DeadKernelError:
                    stop_at = index
                    reason = (
                        "kernel dừng đột ngột khi chạy ô này (sys.exit/os._exit, segfault, "
                        "vượt giới hạn bộ nhớ hoặc số tiến trình); các ô sau không được chạy"
                    )
                    break
                except (TimeoutError, CellTimeoutError):
                    stop_at = index
                    reason = (
                        f"ô chạy quá {limits.cell_timeout} giây và không ngắt được; "
                        "các ô sau không được chạy"
                    )
                    break
                if _truncate_outputs(cell, limits.max_output_chars):
                    msg = "output quá dài đã bị cắt bớt"
                    if msg not in flags:
                        flags.append(msg)
                if _is_locked_setup(cell):
                    await _guard(client, "record")
    except Exception as exc:  # noqa: BLE001  (kernel không khởi động được…)
        if stop_at is None:
            stop_at = 0
            reason = f"không chạy được kernel: {type(exc).__name__}: {exc}"
    finally:
        # NotebookClient không tự dừng kernel do ta tạo: dừng hẳn (giết bwrap → cả namespace PID).
        await _shutdown(client, km)
    if stop_at is not None:
        cell_no = stop_at + 1
        flags.append(f"ô {cell_no}: {reason}")
        first = True
        for cell in cells[stop_at:]:
            if cell.cell_type != "code":
                continue
            if first:
                _truncate_outputs(cell, limits.max_output_chars)
                cell.outputs.append(_error_output(reason))
                first = False
            else:
                cell.outputs = [_error_output(f"không được chạy: ô {cell_no} — {reason}")]
    for cell in cells:
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                # Lần chạy này có thể có output lỗi với traceback rất dài (đệ quy…): giới hạn.
                if out.get("output_type") == "error" and len(out.get("traceback", [])) > 60:
                    out["traceback"] = out["traceback"][:30] + ["…"] + out["traceback"][-29:]
    return nb, flags


_ERROR_REASONS = (
    (("CellTimeoutError",), "chạy quá {cell_timeout} giây, đã bị ngắt"),
    (("MemoryError",), "vượt giới hạn bộ nhớ ({memory_mb} MiB)"),
    (("BlockingIOError",), "vượt giới hạn số tiến trình ({max_processes})"),
    (
        ("URLError", "gaierror", "ConnectionError", "ConnectionRefusedError"),
        "gọi mạng (không có mạng khi chấm)",
    ),
    (("StdinNotImplementedError",), "gọi input() (không có bàn phím khi chấm)"),
    (("SystemExit",), "gọi sys.exit()"),
)


def resource_flags(nb, limits) -> list[str]:
    """Lý do gắn cờ đọc từ output lỗi: hết giờ, vượt bộ nhớ/số tiến trình, gọi mạng, input()…"""
    flags = []
    values = dataclasses.asdict(limits)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        names = {o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"}
        for enames, text in _ERROR_REASONS:
            if names & set(enames):
                flags.append(f"ô {index + 1}: " + text.format(**values))
    return flags


def execute_notebook(nb, files=(), limits: SandboxLimits | None = None, slot: int = 0, extra=()):
    """Chạy `nb` (NotebookNode, đã được nbgrader làm sạch) trong hộp cát; sửa tại chỗ và trả về
    `(nb, flags)` với `flags` là danh sách lý do gắn cờ (tiếng Việt).

    files: các cặp (đường dẫn nguồn, đường dẫn tương đối) chép vào thư mục làm việc;
    slot: số thứ tự luồng chấm (chọn uid riêng); extra: tham số thêm cho kernel.
    """
    import asyncio

    limits = limits or SandboxLimits.from_env()
    iso = probe()
    uid = UID_BASE + slot if (iso.setpriv and limits.enabled) else None
    box = pathlib.Path(tempfile.mkdtemp(prefix="grd-", dir="/tmp"))
    try:
        workdir = _make_workdir(box, files, uid)
        nb, flags = asyncio.run(_execute_async(nb, box, workdir, uid, limits, extra))
        return nb, resource_flags(nb, limits) + flags
    finally:
        shutil.rmtree(box, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def self_test() -> str:
    """Chạy thử một notebook một ô trong hộp cát; trả về "" nếu được, ngược lại là lý do."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nb, flags = execute_notebook(nb, limits=SandboxLimits.from_env(cell_timeout=60))
    text = "".join(o.get("text", "") for o in nb.cells[0].get("outputs", []))
    return "" if "42" in text and not flags else "; ".join(flags) or "không có output"


class SandboxBroken(RuntimeError):
    """Hộp cát không chạy được kernel nào: dừng chấm thay vì cho mọi bài 0 điểm."""


def ensure_working() -> None:
    reason = self_test()
    if reason:
        raise SandboxBroken(
            "Hộp cát không chạy được kernel trên máy này (" + reason + "). Dừng chấm để không cho"
            " mọi bài 0 điểm. Kiểm tra bubblewrap/namespace, hoặc (không an toàn) đặt"
            " GRADING_SANDBOX=0 để chạy kernel không có hộp cát."
        )


# Tiến trình con của pool chấm song song (chỉ nhập thư viện nhẹ; không bao giờ mở sổ điểm).
_SLOT = 0


def init_worker(counter) -> None:
    """Khởi tạo tiến trình con: nhận một số thứ tự riêng (→ uid hộp cát riêng)."""
    import signal

    global _SLOT
    with counter.get_lock():
        counter.value += 1
        _SLOT = counter.value
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C do tiến trình chính xử lý


def run_job(nb_json: str, files, limits, extra):
    """Chạy một notebook (JSON) trong hộp cát; trả về (JSON đã chạy, flags)."""
    import nbformat

    nb = nbformat.reads(nb_json, as_version=4)
    nb, flags = execute_notebook(nb, files, limits, slot=_SLOT, extra=extra)
    return nbformat.writes(nb), flags


# ---------------------------------------------------------------------------
# phần chạy BÊN TRONG kernel
# ---------------------------------------------------------------------------

_PROTECTED_PREFIXES = ("nblib",)
_PROTECTED_MODULES = ("builtins", "math", "numpy", "numpy.linalg", "numpy.testing", "numpy.random")
_SKIP_BUILTINS = {"_", "__", "___", "exit", "quit", "get_ipython", "display", "__IPYTHON__"}
_SHELL_METHODS = (
    "run_cell",
    "run_cell_async",
    "run_ast_nodes",
    "run_code",
    "transform_cell",
    "transform_ast",
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "should_run_async",
)
_STATE: dict = {}


def _protected_modules() -> dict:
    mods = {}
    for name, mod in list(sys.modules.items()):
        if mod is None:
            continue
        if name in _PROTECTED_MODULES or any(
            name == p or name.startswith(p + ".") for p in _PROTECTED_PREFIXES
        ):
            mods[name] = mod
    return mods


def _kernel_guard(action: str) -> list[str]:
    """Bộ bảo vệ trong kernel. action: "init" (chụp trạng thái), "record" (ghi nhớ các tên trong
    notebook trỏ tới hàm/module được bảo vệ, sau ô chuẩn bị), "before" (khôi phục trước ô kiểm thử;
    trả về danh sách thứ đã bị sửa)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:  # noqa: BLE001
        shell = None
    if action == "init":
        import numpy  # noqa: F401

        import nblib  # noqa: F401
        import nblib.checks  # noqa: F401

        mods = _protected_modules()
        snap = {}
        for name, mod in mods.items():
            d = vars(mod)
            snap[name] = {
                k: v
                for k, v in d.items()
                if not (name == "builtins" and k in _SKIP_BUILTINS)
                and (callable(v) or isinstance(v, type(sys)))
            }
        _STATE["mods"] = mods
        _STATE["snap"] = snap
        _STATE["ids"] = {id(v) for s in snap.values() for v in s.values()} | {
            id(m) for m in mods.values()
        }
        _STATE["names"] = {}
        if shell is not None:
            tm = shell.input_transformer_manager
            _STATE["shell"] = {
                "tm": tm,
                "cleanup": list(tm.cleanup_transforms),
                "line": list(tm.line_transforms),
                "token": list(tm.token_transformers),
                "post": list(shell.input_transformers_post),
                "ast": list(shell.ast_transformers),
                "cls": {
                    (c, m): c.__dict__[m]
                    for c in type(shell).__mro__
                    for m in _SHELL_METHODS
                    if m in c.__dict__
                },
                "inst": {m: vars(shell)[m] for m in _SHELL_METHODS if m in vars(shell)},
            }
        return []
    if "snap" not in _STATE:
        return []
    if action == "record" and shell is not None:
        for k, v in list(shell.user_ns.items()):
            if not k.startswith("_") and id(v) in _STATE["ids"]:
                _STATE["names"][k] = v
        return []
    changed: list[str] = []
    # 1. module numpy, nblib…, builtins
    for name, saved in _STATE["snap"].items():
        mod = _STATE["mods"][name]
        if sys.modules.get(name) is not mod:
            sys.modules[name] = mod
            changed.append(f"module {name}")
        d = vars(mod)
        for k, v in saved.items():
            if d.get(k, _STATE) is not v:  # _STATE: giá trị canh (thuộc tính bị xoá cũng khôi phục)
                try:
                    setattr(mod, k, v)
                except Exception:  # noqa: BLE001
                    d[k] = v
                changed.append(f"{name}.{k}")
    if shell is None:
        return changed
    # 2. tên trong notebook (np, nblib, check, …) do ô chuẩn bị tạo
    for k, v in _STATE["names"].items():
        if shell.user_ns.get(k) is not v:
            shell.user_ns[k] = v
            changed.append(f"tên `{k}` trong notebook")
    # 3. bộ biến đổi mã và phương thức chạy ô của IPython
    s = _STATE["shell"]
    if shell.input_transformer_manager is not s["tm"]:
        shell.input_transformer_manager = s["tm"]
        changed.append("bộ biến đổi mã của IPython")
    for key, current in (
        ("cleanup", s["tm"].cleanup_transforms),
        ("line", s["tm"].line_transforms),
        ("token", s["tm"].token_transformers),
        ("post", shell.input_transformers_post),
        ("ast", shell.ast_transformers),
    ):
        if list(current) != s[key]:
            current[:] = s[key]
            changed.append(f"bộ biến đổi mã của IPython ({key})")
    for (cls, m), v in s["cls"].items():
        if cls.__dict__.get(m) is not v:
            setattr(cls, m, v)
            changed.append(f"IPython {cls.__name__}.{m}")
    missing = object()
    for m in _SHELL_METHODS:
        saved = s["inst"].get(m, missing)
        if vars(shell).get(m, missing) is not saved:
            if saved is missing:
                delattr(shell, m)
            else:
                setattr(shell, m, saved)
            changed.append(f"IPython shell.{m}")
    return changed
