"""Một phiên hộp cát: khởi động `inside.py` đã cô lập và nói chuyện với nó qua `channel`.

Phía bộ chấm chỉ gửi yêu cầu và nhận DỮ LIỆU; mọi câu trả lời được giải mã chặt chẽ (giới hạn kích
thước, độ sâu, kiểu), mọi lần chờ đều có hạn giờ. Một đối tượng không phải dữ liệu (hàm, lớp, mô
hình của học viên) đến dưới dạng `RemoteObject`: chỉ gọi được và đọc được thuộc tính, qua kênh.
"""

from __future__ import annotations

import os
import pathlib
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time

import numpy as np

from grading import channel
from grading.sandbox import isolation


class SessionDead(Exception):
    """Tiến trình của bài nộp đã dừng, hết giờ, hoặc nói sai giao thức."""

    def __init__(self, reason: str, flag: str):
        super().__init__(reason)
        self.flag = flag


class RemoteError(Exception):
    """Mã của học viên ném lỗi khi được gọi (tên lỗi và thông điệp là dữ liệu của bài nộp)."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(f"{ename}: {evalue}" if evalue else ename)
        self.ename, self.evalue = ename, evalue


class RemoteObject:
    """Một đối tượng nằm trong hộp cát. Không có giao thức đặc biệt nào (`__array__`, `__eq__`…)
    đi qua kênh: so sánh một `RemoteObject` với một mảng luôn thất bại."""

    __slots__ = ("_session", "_id", "_callable", "_type", "_name", "_generation")

    def __init__(self, session, id_: int, callable_: bool, type_name: str, name=None):
        self._session, self._id, self._callable = session, id_, callable_
        self._type, self._name = type_name, name
        self._generation = session.generation

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"đối tượng kiểu {self._type} của bài làm không gọi được")
        return self._session.call({"handle": self._id}, self, args, kwargs)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._session.getattr(self, attr)

    def __repr__(self):
        label = f" `{self._name}`" if self._name else ""
        return f"<đối tượng{label} kiểu {self._type} của bài làm>"

    # nblib.assessment.checks gọi các hook này thay cho phép kiểm tra trong tiến trình (xem judge.py)
    def __check_no_reference__(self, name, *args, **kwargs):
        return self._session.rules.check_no_reference(self, name, *args, **kwargs)

    def __check_no_loops__(self, name):
        return self._session.rules.check_no_loops(self, name)


class Session:
    """Tiến trình `inside.py` của một bài nộp (dùng với `with`)."""

    def __init__(self, lib: pathlib.Path, files, limits, slot: int = 0, rules=None):
        self.lib, self.files, self.limits, self.slot = lib, list(files), limits, slot
        self.rules = rules
        self.generation = 0
        self.proc = None
        self.box = None
        self.root = None
        self.mounted = False
        self.deadline = time.monotonic() + limits.notebook_timeout
        self._callbacks: dict[int, object] = {}
        self._active: list = []
        self.last_mutated: list[
            str
        ] = []  # đối số mảng mà lời gọi vừa rồi đã sửa tại chỗ  # (args, kwargs) của các lời gọi đang chạy trong hộp cát
        self._buf = b""

    # ---- vòng đời ----------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self) -> None:
        iso = isolation.probe()
        uid = isolation.UID_BASE + self.slot if (iso.setpriv and self.limits.enabled) else None
        self.box = pathlib.Path(tempfile.mkdtemp(prefix="grd-"))
        os.chmod(self.box, 0o711)
        self.root = self.box / "root"
        self.root.mkdir()
        self.mounted = self.limits.enabled and isolation.mount_private_tmpfs(self.root, self.limits)
        for sub in ("home", "tmp", "shm"):
            (self.root / sub).mkdir(mode=0o1777 if sub != "home" else 0o755)
            os.chmod(self.root / sub, 0o1777 if sub != "home" else 0o755)
        self._copy_files(self.root / "home")
        if uid is not None:
            for dirpath, _dirnames, filenames in os.walk(self.root):
                os.chown(dirpath, uid, uid)
                for n in filenames:
                    os.chown(os.path.join(dirpath, n), uid, uid, follow_symlinks=False)
        self.generation += 1
        self._buf = b""
        self.stderr_path = self.box / "stderr.log"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                isolation.command(self.root, self.lib, uid, self.limits),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=isolation.environment(self.root, self.limits),
                cwd=str(self.root / "home"),
                start_new_session=True,
            )
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stdin.fileno(), False)
        hello = self._receive(min(self.deadline, time.monotonic() + 60))
        if hello.get("op") != "ready":
            raise SessionDead("hộp cát không khởi động được", "không khởi động được hộp cát")

    def _copy_files(self, home: pathlib.Path) -> None:
        for src, rel in self.files:
            dst = home / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(src, dst)
            except OSError:  # tmpfs đầy: phần còn lại không được chép
                break

    def startup_error(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        self.proc = None

    def close(self) -> None:
        self.kill()
        if self.mounted:
            isolation.unmount(self.root)
            self.mounted = False
        if self.box is not None:
            shutil.rmtree(self.box, ignore_errors=True)
            self.box = None

    def deadline_passed(self) -> bool:
        return time.monotonic() >= self.deadline

    def restart(self) -> None:
        self.close()
        self.start()

    # ---- vào/ra có hạn giờ ---------------------------------------------------------------

    def _dead(self, reason: str, flag: str):
        self.kill()
        return SessionDead(reason, flag)

    def _send(self, message: dict, deadline: float) -> None:
        data = channel.frame(message)
        fd = self.proc.stdin.fileno()
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._dead("hết thời gian khi gửi yêu cầu", "không nhận yêu cầu (treo)")
            _, w, _ = select.select([], [fd], [], left)
            if not w:
                continue
            try:
                n = os.write(fd, data)
            except (BrokenPipeError, OSError):
                raise self._dead("tiến trình của bài làm đã dừng", "dừng đột ngột") from None
            data = data[n:]

    def _read_some(self, deadline: float) -> None:
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._dead(
                "hết thời gian", f"chạy quá {self.limits.cell_timeout} giây, đã bị dừng"
            )
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            raise self._dead("tiến trình của bài làm đã dừng", "dừng đột ngột")
        self._buf += chunk

    def _receive(self, deadline: float) -> dict:
        size = channel.HEADER_SIZE
        while len(self._buf) < size:
            self._read_some(deadline)
        try:
            n = channel.frame_length(self._buf[:size])
        except channel.ChannelError:
            raise self._dead(
                "câu trả lời quá lớn", "câu trả lời vượt giới hạn kích thước"
            ) from None
        while len(self._buf) < size + n:
            self._read_some(deadline)
        raw, self._buf = self._buf[size : size + n], self._buf[size + n :]
        try:
            return channel.parse_frame(raw)
        except channel.ChannelError:
            raise self._dead("câu trả lời sai dạng", "nói sai giao thức với bộ chấm") from None

    # ---- yêu cầu ------------------------------------------------------------------------

    def _request(self, message: dict, timeout: float | None = None) -> dict:
        if self.proc is None:
            raise SessionDead("tiến trình của bài làm đã dừng", "dừng đột ngột")
        if time.monotonic() >= self.deadline:
            raise self._dead(
                "hết thời gian cho cả bài", f"chạy quá {self.limits.notebook_timeout} giây"
            )
        limit = self.limits.cell_timeout if timeout is None else timeout
        deadline = min(self.deadline, time.monotonic() + limit)
        # Mỗi yêu cầu có một số ngẫu nhiên mà câu trả lời phải nhắc lại: bài nộp ghi thẳng khung
        # giả vào kênh thì câu trả lời lệch khỏi yêu cầu của nó (câu trả lời cũ bị lấy làm câu trả
        # lời cho yêu cầu sau) → phiên bị dừng thay vì lệch pha.
        rid = secrets.randbits(62)
        self._send({**message, "rid": rid}, deadline)
        while True:
            reply = self._receive(deadline)
            if reply.get("op") == "callback":
                self._answer_callback(reply, deadline)
                continue
            if reply.get("op") != "reply" or reply.get("rid") != rid:
                raise self._dead("câu trả lời sai dạng", "nói sai giao thức với bộ chấm")
            return reply

    def _answer_callback(self, msg: dict, deadline: float) -> None:
        fn = self._callbacks.get(msg.get("id"))
        try:
            if fn is None:
                raise channel.ChannelError("callback không tồn tại")
            if self._active:  # hàm kiểm thử thấy đúng trạng thái mà bài làm vừa sửa tại chỗ
                channel.apply_changes(*self._active[-1], msg.get("changed"), self._decode_plain)
            args = [self.decode(a) for a in msg.get("args", [])]
            kwargs = {str(k): self.decode(v) for k, v in dict(msg.get("kwargs", {})).items()}
            value = fn(*args, **kwargs)
            reply = {
                "op": "return",
                "ok": True,
                "value": self.encode(value),
                "changed": channel.changed_state(args, kwargs, self.encode),
            }
        except SessionDead:
            raise
        except Exception as exc:  # noqa: BLE001  (lỗi của hàm kiểm thử: báo cho bên kia)
            reply = {"op": "return", "ok": False, "evalue": f"{type(exc).__name__}: {exc}"}
        self._send(reply, deadline)

    def encode(self, value):
        def reference(obj):
            if isinstance(obj, RemoteObject):
                if obj._session is not self or obj._generation != self.generation:
                    return None
                return channel.Handle(obj._id, "handle", obj._callable, obj._type)
            if callable(obj):
                cid = len(self._callbacks) + 1
                self._callbacks[cid] = obj
                return channel.Handle(cid, "callback", True, type(obj).__name__)
            return None

        return channel.encode(value, reference)

    def _resolver(self, name=None):
        def resolve(kind, id_, callable_, type_name):
            if kind != "handle":
                return None
            return RemoteObject(self, id_, callable_, type_name, name)

        return resolve

    def decode(self, obj, name=None):
        try:
            return channel.decode(obj, self._resolver(name))
        except channel.ChannelError as exc:
            raise RemoteError(
                "DuLieuKhongHopLe", f"bài làm trả về dữ liệu không hợp lệ: {exc}"
            ) from None

    def _decode_plain(self, obj):
        """Như `decode` nhưng để lỗi ở dạng ChannelError (cho `channel.apply_changes`)."""
        return channel.decode(obj, self._resolver())

    def _value(self, reply: dict, name=None):
        if not reply.get("ok"):
            raise RemoteError(
                str(reply.get("ename", "Lỗi"))[:100], str(reply.get("evalue", ""))[:2000]
            )
        return self.decode(reply.get("value"), name)

    def run(self, source: str) -> list[dict]:
        """Chạy một ô của học viên; trả về các output (chưa tin cậy: được làm sạch ở judge)."""
        reply = self._request({"op": "run", "source": source})
        outs = reply.get("outputs")
        if not reply.get("ok") or not isinstance(outs, list):
            raise self._dead("câu trả lời sai dạng", "nói sai giao thức với bộ chấm")
        return outs

    def get(self, name: str):
        return self._value(self._request({"op": "get", "name": name}), name)

    def getattr(self, obj: RemoteObject, attr: str):
        self._check_generation(obj)
        return self._value(
            self._request({"op": "getattr", "target": {"handle": obj._id}, "attr": attr})
        )

    def call(self, target: dict, obj: RemoteObject, args, kwargs):
        self._check_generation(obj)
        msg = {
            "op": "call",
            "target": target,
            "args": [self.encode(a) for a in args],
            "kwargs": {str(k): self.encode(v) for k, v in kwargs.items()},
        }
        # Lời gọi từ kiểm thử (không lồng trong callback): mảng numpy của bộ chấm KHÔNG bao giờ bị
        # bài làm sửa tại chỗ (nếu không, đáp án tham chiếu tính sau đó trên chính mảng ấy sẽ bị
        # đầu độc). Thay đổi được khôi phục và ghi lại trong `last_mutated`.
        top = not self._active
        slots = [*enumerate(args), *kwargs.items()]
        before = (
            [(str(k), a, a.copy()) for k, a in slots if isinstance(a, np.ndarray)] if top else []
        )
        self._active.append((args, kwargs))
        try:
            reply = self._request(msg)
            value = self._value(reply, None)
            channel.apply_changes(args, kwargs, reply.get("changed"), self._decode_plain)
        finally:
            self._active.pop()
            if top:
                self.last_mutated = []
                for key, a, old in before:
                    if not np.array_equal(a, old, equal_nan=True):
                        self.last_mutated.append(key)
                        np.copyto(a, old)
        return value

    def _check_generation(self, obj: RemoteObject) -> None:
        if obj._session is not self or obj._generation != self.generation:
            raise RemoteError("PhienCu", "đối tượng thuộc về một lần chạy trước của bài làm")
