"""Chương trình chạy BÊN TRONG hộp cát: chạy các ô của học viên rồi trả lời câu hỏi của bộ chấm.

Tệp này được chép vào thư mục thư viện của hộp cát cùng `channel.py` (và bản `nblib` đã ẩn hàm tham
chiếu) rồi chạy bằng `python -E -s -B inside.py`. Nó không biết gì về kiểm thử: bộ chấm chỉ gửi
"chạy ô này", "giá trị của tên này", "gọi hàm này với các đối số này", và nhận lại DỮ LIỆU qua
`channel`. Bài nộp kiểm soát toàn bộ tiến trình này (có thể sửa cả tệp này trong bộ nhớ), nên không
gì ở đây là một lớp bảo vệ: mọi câu trả lời đều được bộ chấm coi là dữ liệu không tin cậy.
"""

from __future__ import annotations

import io
import os
import sys


def _open_channel():
    """Giữ stdin/stdout gốc làm kênh, rồi nối fd 0/1/2 vào /dev/null (print của học viên không
    lẫn vào kênh; output của ô được bắt ở tầng Python)."""
    chan_in = os.fdopen(os.dup(0), "rb", buffering=0)
    chan_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115  (input() → EOFError)
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), encoding="utf-8")  # noqa: SIM115
    sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), encoding="utf-8")  # noqa: SIM115
    return chan_in, chan_out


CHAN_IN, CHAN_OUT = _open_channel()

import channel  # noqa: E402  (cùng thư mục)

MAX_TEXT = 100_000  # ký tự output văn bản giữ lại cho mỗi ô (bộ chấm cắt lại lần nữa)
MAX_IMAGE = 400_000  # ký tự base64 cho mỗi hình


def _make_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    c = Config()
    c.HistoryManager.enabled = False
    c.HistoryManager.hist_file = ":memory:"
    c.InteractiveShell.colors = "nocolor"
    c.InteractiveShell.autocall = 0
    shell = InteractiveShell.instance(config=c)
    shell.user_ns["__name__"] = "__main__"
    return shell


SHELL = _make_shell()
_last_error: list = []


def _record_traceback(etype, evalue, stb):
    _last_error.append(
        {
            "output_type": "error",
            "ename": getattr(etype, "__name__", str(etype)),
            "evalue": str(evalue)[:2000],
            "traceback": [str(line)[:2000] for line in list(stb)[:40]],
        }
    )


SHELL._showtraceback = _record_traceback


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "\n… (output quá dài, đã cắt bớt)\n"


def run_cell(source: str) -> list[dict]:
    from IPython.utils.capture import capture_output

    _last_error.clear()
    with capture_output(display=True) as cap:
        SHELL.run_cell(source, store_history=False, silent=False)
    outputs = []
    if cap.stdout:
        outputs.append(
            {"output_type": "stream", "name": "stdout", "text": _cut(cap.stdout, MAX_TEXT)}
        )
    if cap.stderr:
        outputs.append(
            {"output_type": "stream", "name": "stderr", "text": _cut(cap.stderr, MAX_TEXT)}
        )
    for rich in cap.outputs[:20]:
        data = {}
        for mime, value in (rich.data or {}).items():
            if mime == "text/plain" and isinstance(value, str):
                data[mime] = _cut(value, MAX_TEXT)
            elif mime == "image/png" and isinstance(value, str) and len(value) <= MAX_IMAGE:
                data[mime] = value
        if data:
            outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
    outputs.extend(_last_error[:1])
    return outputs


# ---------------------------------------------------------------------------
# tham chiếu: đối tượng ở lại trong hộp cát (handle), hàm ở lại bộ chấm (callback)
# ---------------------------------------------------------------------------

_HANDLES: dict[int, object] = {}


def _reference(obj):
    hid = id(obj)
    _HANDLES[hid] = obj
    return channel.Handle(hid, "handle", callable(obj), type(obj).__name__)


_ACTIVE: list = []  # đối số của các lời gọi đang chạy (để bộ chấm thấy thay đổi tại chỗ)


def _callback(cid: int):
    def call_grader(*args, **kwargs):
        channel.write_frame(
            CHAN_OUT,
            {
                "op": "callback",
                "id": cid,
                "args": [channel.encode(a, _reference) for a in args],
                "kwargs": {str(k): channel.encode(v, _reference) for k, v in kwargs.items()},
                "changed": channel.changed_state(*_ACTIVE[-1], _encode) if _ACTIVE else {},
            },
        )
        while True:  # trong lúc chờ, bộ chấm có thể gọi lại hàm của bài làm (lồng nhau)
            reply = channel.read_frame(CHAN_IN)
            if reply.get("op") == "return":
                break
            _serve(reply)
        if not reply.get("ok"):
            raise RuntimeError(str(reply.get("evalue", "hàm của bộ chấm báo lỗi")))
        channel.apply_changes(args, kwargs, reply.get("changed"), _decode)
        return channel.decode(reply.get("value"), _resolve)

    return call_grader


def _resolve(kind, id_, callable_, type_name):
    if kind == "handle":
        if id_ not in _HANDLES:
            raise channel.ChannelError("tham chiếu không tồn tại")
        return _HANDLES[id_]
    return _callback(id_)


def _encode(value):
    return channel.encode(value, _reference)


def _decode(obj):
    return channel.decode(obj, _resolve)


def _target(msg):
    target = msg.get("target")
    if isinstance(target, dict) and isinstance(target.get("handle"), int):
        return _resolve("handle", target["handle"], False, "")
    name = msg.get("name")
    if not isinstance(name, str):
        raise channel.ChannelError("thiếu tên")
    if name not in SHELL.user_ns:
        raise NameError(f"name '{name}' is not defined")
    return SHELL.user_ns[name]


def handle(msg: dict) -> dict:
    from IPython.utils.capture import capture_output

    op = msg.get("op")
    if op == "run":
        return {"ok": True, "outputs": run_cell(str(msg.get("source", "")))}
    if op == "get":
        return {"ok": True, "value": channel.encode(_target(msg), _reference)}
    if op == "getattr":
        obj = _target(msg)
        return {"ok": True, "value": channel.encode(getattr(obj, str(msg.get("attr"))), _reference)}
    if op == "call":
        fn = _target(msg)
        args = [channel.decode(a, _resolve) for a in msg.get("args", [])]
        kwargs = {str(k): channel.decode(v, _resolve) for k, v in msg.get("kwargs", {}).items()}
        _ACTIVE.append((args, kwargs))
        try:
            with capture_output(display=True):
                value = fn(*args, **kwargs)
        finally:
            _ACTIVE.pop()
        return {
            "ok": True,
            "value": channel.encode(value, _reference),
            "changed": channel.changed_state(args, kwargs, _encode),
        }
    raise channel.ChannelError(f"không biết lệnh {op!r}")


def _serve(msg: dict) -> None:
    """Trả lời một yêu cầu của bộ chấm."""
    try:
        reply = handle(msg)
    except BaseException as exc:  # noqa: BLE001  (mọi lỗi của bài làm đều thành câu trả lời)
        reply = {"ok": False, "ename": type(exc).__name__, "evalue": str(exc)[:2000]}
    reply["op"] = "reply"
    reply["rid"] = msg.get("rid")  # bộ chấm chỉ nhận câu trả lời nhắc lại đúng số của yêu cầu
    try:
        channel.write_frame(CHAN_OUT, reply)
    except (channel.ChannelError, ValueError, UnicodeError) as exc:
        channel.write_frame(
            CHAN_OUT,
            {
                "op": "reply",
                "rid": msg.get("rid"),
                "ok": False,
                "ename": "ChannelError",
                "evalue": str(exc),
            },
        )


def main() -> None:
    channel.write_frame(CHAN_OUT, {"op": "ready"})
    while True:
        try:
            msg = channel.read_frame(CHAN_IN)
        except channel.ChannelError:
            return
        if msg.get("op") == "bye":
            return
        _serve(msg)


if __name__ == "__main__":
    main()
