"""Câu hỏi tự kiểm tra trong bài giảng: trắc nghiệm, điền số (có dung sai), "dự đoán hình".

Học viên trả lời, bấm "Kiểm tra", nhận ✓ hoặc ✗ kèm một lời giải thích ngắn, và thử lại được bao
nhiêu lần cũng được. Không chấm điểm: chỉ để tự kiểm tra.

Đáp án và lời giải thích **không** nằm trong mã nguồn của notebook dưới dạng chữ thường: chúng được
mã hoá (XOR với một dòng khoá SHA-256 sinh từ muối ngẫu nhiên và chính câu hỏi, rồi base64) thành
tham số ``key``. Người soạn bài dùng ``encode`` để tạo ``key``, ``decode`` để đọc lại::

    from nblib.presentation.quiz import encode, quiz

    q = "σ(0) bằng bao nhiêu?"
    key = encode(q, 0.5, "σ(0) = 1 / (1 + e⁰) = 1/2.", tol=1e-3, hint="Thay z = 0 vào công thức.")
    quiz(q, key=key)  # ô hiển thị câu hỏi điền số; học viên gõ "0,5" hoặc "0.5"

    q2 = "Hàm nào bão hoà ở cả hai phía?"
    key2 = encode(q2, "tanh", "tanh tiến về ±1.", wrong={"ReLU": "ReLU không bão hoà khi z > 0."})
    quiz(q2, ["ReLU", "tanh"], key=key2)

``plot=fn`` (``fn(ax)`` vẽ lên một trục matplotlib) biến câu trắc nghiệm thành "dự đoán hình": hình
thật hiện ra sau lần kiểm tra đầu tiên. ``Quiz.check(giá_trị)`` chạy được cả khi không có giao diện
(kiểm thử); mọi câu hỏi đã tạo nằm trong ``QUIZZES``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import secrets
import unicodedata

__all__ = ["quiz", "Quiz", "encode", "decode", "parse_number", "QUIZZES", "RIGHT", "WRONG"]

RIGHT = "✓"
WRONG = "✗"
_PREFIX = "q1"
QUIZZES: list[Quiz] = []
"""Mọi câu hỏi đã tạo trong tiến trình này (theo thứ tự), để kiểm thử điều khiển chúng."""


def _normalize(question: str) -> str:
    return " ".join(unicodedata.normalize("NFC", question).split())


def _keystream(salt: str, question: str, n: int) -> bytes:
    seed = f"{salt}\0{_normalize(question)}".encode()
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:n]


def encode(question, answer, explain, *, wrong=None, hint=None, tol=None, salt=None) -> str:
    """Mã hoá đáp án của ``question`` thành chuỗi ``key`` cho ``quiz``.

    - ``answer``: chuỗi (một trong các lựa chọn) cho câu trắc nghiệm, hoặc số cho câu điền số;
    - ``explain``: giải thích hiện ra khi trả lời đúng (và sau dấu ✗, nếu không có gì cụ thể hơn
      thì ``hint`` được dùng);
    - ``wrong``: giải thích cho từng lựa chọn sai (dict lựa chọn → lời giải thích); với câu điền số
      là danh sách ``(giá_trị, dung_sai, lời giải thích)`` cho các lỗi hay gặp;
    - ``hint``: gợi ý chung khi sai (mặc định: "Hãy xem lại mục vừa học.");
    - ``tol``: dung sai tuyệt đối của câu điền số (mặc định 1% của |answer|, ít nhất 1e-9).
    """
    if isinstance(answer, bool) or not isinstance(answer, (str, int, float)):
        raise TypeError("answer phải là chuỗi (trắc nghiệm) hoặc số (điền số).")
    kind = "choice" if isinstance(answer, str) else "number"
    payload = {"kind": kind, "answer": answer, "explain": explain, "hint": hint}
    if kind == "number":
        answer = float(answer)
        payload["answer"] = answer
        payload["tol"] = float(tol) if tol is not None else max(1e-9, 0.01 * abs(answer))
        payload["wrong"] = [[float(v), float(t), str(m)] for v, t, m in (wrong or [])]
    else:
        payload["wrong"] = dict(wrong or {})
    salt = salt or secrets.token_hex(4)
    data = json.dumps(payload, ensure_ascii=False).encode()
    xored = bytes(a ^ b for a, b in zip(data, _keystream(salt, question, len(data))))
    return f"{_PREFIX}${salt}${base64.urlsafe_b64encode(xored).decode()}"


def decode(question, key) -> dict:
    """Nội dung của ``key`` (dict: kind, answer, explain, hint, wrong, tol). Cho người soạn bài."""
    try:
        prefix, salt, body = key.split("$")
        if prefix != _PREFIX:
            raise ValueError
        data = base64.urlsafe_b64decode(body.encode())
        plain = bytes(a ^ b for a, b in zip(data, _keystream(salt, question, len(data))))
        return json.loads(plain.decode())
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(
            "key không khớp với câu hỏi (câu hỏi đã bị sửa sau khi mã hoá?): hãy tạo lại bằng "
            "nblib.presentation.quiz.encode."
        ) from e


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def parse_number(text):
    """Đọc số học viên gõ: chấp nhận dấu phẩy thập phân ("0,5"), dấu trừ "−", "1e-3", "1/3".

    Trả về float, hoặc None nếu không đọc được.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = unicodedata.normalize("NFKC", str(text)).strip().replace("−", "-").replace(" ", "")
    s = s.replace("\u202f", "").replace("\xa0", "")
    if "/" in s:
        num, _, den = s.partition("/")
        a, b = parse_number(num), parse_number(den)
        return a / b if a is not None and b not in (None, 0.0) else None
    if not _NUMBER.match(s):
        return None
    return float(s.replace(",", "."))


class Quiz:
    """Một câu hỏi tự kiểm tra. Tạo bằng ``quiz(...)``; hiển thị như một widget."""

    def __init__(self, question, options=None, *, key, plot=None):
        self.question = question
        self.options = list(options) if options is not None else None
        self.key = key
        self.plot = plot
        self._payload = decode(question, key)
        kind = "choice" if self.options is not None else "number"
        if self._payload["kind"] != kind:
            raise ValueError(f"key là của câu {self._payload['kind']}, nhưng câu hỏi là {kind}.")
        if kind == "choice" and self._payload["answer"] not in self.options:
            raise ValueError("đáp án trong key không nằm trong các lựa chọn.")
        self.attempts = 0
        self.ok = None
        self.message = ""
        self.figure = None
        self._widget = None
        QUIZZES.append(self)

    @property
    def kind(self) -> str:
        return self._payload["kind"]

    # --- chấm ---------------------------------------------------------------------------------
    def _judge(self, value):
        p = self._payload
        hint = p.get("hint") or "Hãy xem lại mục vừa học."
        if self.kind == "choice":
            if isinstance(value, int) and not isinstance(value, bool):
                value = self.options[value]
            if value is None or value not in self.options:
                return None, "Hãy chọn một đáp án."
            if value == p["answer"]:
                return True, p["explain"]
            return False, p["wrong"].get(value) or hint
        x = parse_number(value)
        if x is None:
            return None, f"Không đọc được số từ {str(value)!r}: hãy gõ một số, ví dụ 0,5 hoặc 1e-3."
        if math.isfinite(x) and abs(x - p["answer"]) <= p["tol"]:
            return True, p["explain"]
        for v, t, msg in p["wrong"]:
            if math.isfinite(x) and abs(x - v) <= t:
                return False, msg
        return False, hint

    def check(self, value=None):
        """Kiểm tra ``value`` (hoặc giá trị đang chọn/gõ trong widget); trả về (đúng?, thông điệp)."""
        if value is None and self._widget is not None:
            value = self._input.value
        elif value is not None and self._widget is not None:
            self._input.value = str(value) if self.kind == "number" else self._as_option(value)
        ok, why = self._judge(value)
        if ok is None:
            self.ok, self.message = None, f"⚠ {why}"
        else:
            self.attempts += 1
            self.ok = ok
            head = f"{RIGHT} Đúng." if ok else f"{WRONG} Chưa đúng."
            tail = "" if ok else " Hãy thử lại."
            self.message = f"{head} {why}{tail}"
            if self.plot is not None and self.figure is None:
                self._reveal()
        if self._widget is not None:
            color = {True: "#1a7f37", False: "#cf222e", None: "#9a6700"}[self.ok]
            self._feedback.value = f'<span style="color:{color}">{html.escape(self.message)}</span>'
        return self.ok, self.message

    def _as_option(self, value):
        return self.options[value] if isinstance(value, int) else value

    def _reveal(self):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5, 3), layout="constrained")
        self.plot(fig.add_subplot())
        self.figure = fig
        if self._widget is not None and _in_kernel():
            from IPython.display import display

            self._out.clear_output()
            with self._out:
                display(fig)
            if self._out not in self._widget.children:  # chỉ thêm vùng hình khi đã có hình
                self._widget.children = (*self._widget.children, self._out)

    # --- giao diện ----------------------------------------------------------------------------
    def widget(self):
        if self._widget is None:
            import ipywidgets as W

            title = W.HTMLMath(f"<b>Tự kiểm tra.</b> {html.escape(self.question)}")
            if self.kind == "choice":
                self._input = W.RadioButtons(
                    options=self.options, value=None, layout=W.Layout(width="auto")
                )
            else:
                self._input = W.Text(placeholder="số, ví dụ 0,5", layout=W.Layout(width="180px"))
            button = W.Button(description="Kiểm tra", button_style="primary")
            button.on_click(lambda _: self.check())
            self._feedback = W.HTMLMath("")
            self._out = W.Output()
            parts = [title, self._input, W.HBox([button]), self._feedback]
            self._widget = W.VBox(parts, layout=W.Layout(border="1px solid #d0d7de", padding="6px"))
        return self._widget

    def _repr_mimebundle_(self, **kwargs):
        return self.widget()._repr_mimebundle_(**kwargs)


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def quiz(question, options=None, *, key, plot=None) -> Quiz:
    """Câu hỏi tự kiểm tra: trắc nghiệm nếu có ``options``, điền số nếu không; xem đầu module."""
    q = Quiz(question, options, key=key, plot=plot)
    q.widget()
    return q
