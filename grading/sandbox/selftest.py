"""Thử hộp cát trước khi chấm cả lớp: nếu nó không chạy được, dừng với nguyên nhân thật."""

from __future__ import annotations

import functools

from grading.sandbox import library
from grading.sandbox.limits import SandboxLimits
from grading.sandbox.session import RemoteError, Session, SessionDead


class SandboxBroken(RuntimeError):
    """Hộp cát không chạy được: dừng chấm thay vì cho mọi bài 0 điểm."""


@functools.lru_cache(maxsize=1)
def self_test() -> str:
    """ "" nếu hộp cát chạy được một ô và trả lời một câu hỏi; ngược lại là lý do."""
    session = Session(library.build([]), [], SandboxLimits.from_env(cell_timeout=60))
    try:
        session.start()
        outs = session.run("x = 6 * 7\nprint(x)")
        text = "".join(o.get("text", "") for o in outs if isinstance(o, dict))
        if "42" not in text or session.get("x") != 42:
            return "hộp cát chạy nhưng không trả đúng kết quả"
        return ""
    except (SessionDead, RemoteError, OSError) as exc:
        detail = session.startup_error().strip().splitlines()
        return f"{exc}" + (f" — {detail[-1]}" if detail else "")
    finally:
        session.close()


def ensure_working() -> None:
    reason = self_test()
    if reason:
        raise SandboxBroken(
            f"Hộp cát không chạy được trên máy này ({reason}). Dừng chấm để không ghi điểm sai cho"
            " bài nào. Kiểm tra bubblewrap/namespace và môi trường Python (đường dẫn trong lỗi trên)."
        )
