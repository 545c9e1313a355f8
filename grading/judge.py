"""Phán quyết: chạy bài nộp trong hộp cát, chạy kiểm thử ở bộ chấm, ghi kết quả vào notebook.

Với một notebook đã được nbgrader làm sạch (ô khoá và ô kiểm thử là bản gốc của giảng viên):

1. Mọi ô mã KHÔNG phải ô kiểm thử (ô chuẩn bị, ô dữ liệu khoá, ô trả lời, ô minh hoạ) chạy trong
   hộp cát, theo thứ tự; output của chúng (đã cắt giới hạn) là output của bài làm trong phản hồi.
2. Ô chuẩn bị, ô khoá và ô kiểm thử chạy ở ĐÂY, trong tiến trình bộ chấm (tin cậy), với numpy và
   nblib thật. Tên do học viên định nghĩa (`relu`, `y_target`, …) được hỏi từ hộp cát: dữ liệu
   đến dưới dạng dữ liệu thuần, hàm/đối tượng đến dưới dạng `RemoteObject` gọi qua kênh. Phép so
   sánh (`check`) và giá trị mong đợi (hàm tham chiếu) đều ở đây: bài nộp chỉ cung cấp kết quả.
3. Phần công khai của MỌI ô kiểm thử chạy trước, rồi mới tới các phần ẩn: khi đầu vào ẩn đầu tiên
   được gửi vào hộp cát thì mọi output mà học viên sẽ thấy đã được ghi xong. Của phần ẩn chỉ còn
   lại một bit: đạt hay không.

Kết quả là output của từng ô (ô đạt: không có lỗi; ô chưa đạt: một output lỗi tiếng Việt), đúng dạng
mà `SaveAutoGrades` của nbgrader đọc để ghi điểm.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import io
import re

import numpy as np

from grading import rules
from grading.sandbox.session import RemoteError, RemoteObject, Session, SessionDead

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
HIDDEN_FAILED = "KiemThuAn"
NOT_RUN = "KhongChayDuoc"
MAX_RESTARTS = 2
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_trusted(cell) -> bool:
    """Ô chạy ở bộ chấm: ô kiểm thử, và ô khoá không phải ô trả lời (ô chuẩn bị, ô dữ liệu).

    Chỉ tin ô còn `grade_id` và bị khoá sau lượt làm sạch của nbgrader (nbgrader xoá grade_id lạ
    hoặc trùng, khôi phục trạng thái khoá và nội dung ô khoá từ sổ điểm): một ô học viên tự thêm
    với metadata giả không bao giờ chạy ở đây."""
    m = _meta(cell)
    return (
        cell.cell_type == "code"
        and bool(m.get("grade_id"))
        and bool(m.get("locked"))
        and not m.get("solution")
    )


def is_test(cell) -> bool:
    return is_trusted(cell) and bool(_meta(cell).get("grade"))


def split_hidden(source: str) -> tuple[str, str]:
    """(phần công khai, phần ẩn) của một ô kiểm thử."""
    public, hidden, inside = [], [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
            continue
        if END_HIDDEN in line:
            inside = False
            continue
        (hidden if inside else public).append(line)
    return "\n".join(public), "\n".join(hidden)


@dataclasses.dataclass
class Verdict:
    grade_id: str
    passed: bool = False
    public_ok: bool = False
    hidden_ok: bool = True
    text: str = ""  # output của phần công khai
    ename: str = ""
    evalue: str = ""


# ---------------------------------------------------------------------------
# output của bài làm: làm sạch, giới hạn
# ---------------------------------------------------------------------------


class OutputBudget:
    def __init__(self, per_cell: int, total: int):
        self.per_cell, self.left = per_cell, total
        self.truncated = False

    def text(self, s, limit=None) -> str:
        s = _ANSI.sub("", s if isinstance(s, str) else str(s))
        limit = min(limit or self.per_cell, self.left)
        if len(s) > limit:
            s = s[: max(0, limit)] + "\n… (output quá dài, phần sau đã bị cắt bớt khi chấm)\n"
            self.truncated = True
        self.left -= len(s)
        return s


def clean_outputs(raw, budget: OutputBudget):
    """Output (không tin cậy) từ hộp cát → output nbformat hợp lệ, có giới hạn kích thước."""
    from nbformat.v4 import new_output

    outs = []
    for o in raw[:50] if isinstance(raw, list) else []:
        if not isinstance(o, dict) or budget.left <= 0:
            budget.truncated = budget.truncated or budget.left <= 0
            continue
        kind = o.get("output_type")
        if kind == "stream" and o.get("name") in ("stdout", "stderr"):
            outs.append(new_output("stream", name=o["name"], text=budget.text(o.get("text", ""))))
        elif kind == "display_data" and isinstance(o.get("data"), dict):
            data = {}
            txt = o["data"].get("text/plain")
            if isinstance(txt, str):
                data["text/plain"] = budget.text(txt)
            png = o["data"].get("image/png")
            if isinstance(png, str) and re.fullmatch(r"[A-Za-z0-9+/=\s]*", png):
                if len(png) <= budget.left:
                    data["image/png"] = png
                    budget.left -= len(png)
                else:
                    budget.truncated = True
            if data:
                outs.append(new_output("display_data", data=data))
        elif kind == "error":
            ename = budget.text(o.get("ename", "Lỗi"), 100)
            evalue = budget.text(o.get("evalue", ""), 2000)
            tb = o.get("traceback") if isinstance(o.get("traceback"), list) else []
            tb = [budget.text(t, 2000) for t in tb[:40]]
            outs.append(new_output("error", ename=ename, evalue=evalue, traceback=tb or [ename]))
    return outs


def error_output(ename: str, evalue: str):
    from nbformat.v4 import new_output

    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


# ---------------------------------------------------------------------------
# luật tĩnh, gọi từ nblib.assessment.checks qua RemoteObject
# ---------------------------------------------------------------------------


class Rules:
    def __init__(self, code: rules.StudentCode):
        self.code = code

    def check_no_reference(self, fn: RemoteObject, name, *args, **kwargs):
        from nblib.assessment.checks import _fail

        why = self.code.no_reference(fn._name) if fn._name else "không rõ hàm được nộp"
        if why:
            _fail(name, [why + "."])
        # Đáp án tham chiếu thường được tính SAU lời gọi, trên chính các mảng đầu vào: một hàm ghi
        # đè lên đầu vào (ví dụ `z[...] = 0; return z`) sẽ "khớp" đáp án. Mảng đầu vào bị sửa tại
        # chỗ được khôi phục và kiểm thử chưa đạt.
        result = fn(*args, **kwargs)
        changed = list(fn._session.last_mutated)  # Session đã khôi phục các mảng này
        if changed:
            _fail(
                name,
                [
                    "hàm đã sửa tại chỗ mảng đầu vào (đối số "
                    + ", ".join(changed)
                    + "): hãy trả về một mảng mới, không ghi đè lên đầu vào."
                ],
            )
        print(f"✓ {name}: tự cài đặt, không gọi nblib")
        return result

    def check_no_loops(self, fn: RemoteObject, name):
        from nblib.assessment.checks import _fail

        why = self.code.no_loops(fn._name) if fn._name else "không rõ hàm được nộp"
        if why:
            _fail(name, [why + "."])
        print(f"✓ {name}: không dùng vòng lặp")
        return True


# ---------------------------------------------------------------------------
# chạy
# ---------------------------------------------------------------------------


def _free_names(source: str) -> list[str]:
    """Tên được đọc mà ô không tự gán và không phải builtin, theo thứ tự xuất hiện."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    stores = _stored_names(source)
    seen, out = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            n = node.id
            if n not in stores and n not in seen and not hasattr(builtins, n):
                seen.add(n)
                out.append(n)
    return out


def _stored_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                out.add((a.asname or a.name).split(".")[0])
    return out


def _trusted_namespace() -> dict:
    """Không gian tên của kiểm thử, có sẵn numpy, nblib và các hàm kiểm tra THẬT của bộ chấm (ô
    chuẩn bị bị xoá hay bị dời chỗ thì `check` vẫn không đến từ bài nộp)."""
    import nblib
    import nblib.assessment.checks

    ns = {"__name__": "__kiem_thu__", "__builtins__": builtins, "np": np, "nblib": nblib}
    for name in getattr(nblib.assessment.checks, "__all__", ()):
        if hasattr(nblib.assessment.checks, name):
            ns[name] = getattr(nblib.assessment.checks, name)
    return ns


class Judge:
    """Chấm một notebook đã làm sạch. Dùng: `nb, flags = Judge(...).run(nb)`."""

    def __init__(self, lib, files, limits, slot=0, references=None, trusted_cells=None):
        self.lib, self.files, self.limits, self.slot = lib, files, limits, slot
        self.trusted_cells = None if trusted_cells is None else list(trusted_cells)
        self.references = references or {}
        self.flags: list[str] = []
        self.restarts = 0
        self.dead_cells: set[int] = set()
        self.remote_names: set[str] = set()  # tên trong không gian kiểm thử lấy từ hộp cát
        self.trusted_names: set[str] = set()

    # ---- hộp cát ---------------------------------------------------------------------

    def _flag(self, text: str) -> None:
        if text not in self.flags:
            self.flags.append(text)

    def _replay(self, upto: int | None = None) -> None:
        """Khởi động lại hộp cát và chạy lại (im lặng) các ô của học viên chưa từng làm chết nó
        (chỉ các ô đứng trước ô `upto` nếu có)."""
        self.session.restart()
        for index in self.student_cells:
            if upto is not None and index >= upto:
                break
            if index in self.dead_cells:
                continue
            try:
                self.session.run(self.cells[index].source)
            except SessionDead:
                self.dead_cells.add(index)
                self.session.restart()

    def _on_dead(self, exc: SessionDead, where: str) -> bool:
        """Ghi cờ; khởi động lại nếu còn lượt. Trả về True nếu hộp cát chạy lại được."""
        self._flag(f"{where}: {exc.flag}")
        if self.restarts >= MAX_RESTARTS or self.session.deadline_passed():
            return False
        self.restarts += 1
        # Giá trị/tham chiếu đã hỏi từ lần chạy cũ không còn dùng được: hỏi lại từ hộp cát mới.
        for name in self.remote_names:
            getattr(self, "ns", {}).pop(name, None)
        self.remote_names.clear()
        try:
            self._replay()
            return True
        except SessionDead as again:
            self._flag(f"khởi động lại hộp cát thất bại: {again.flag}")
            return False

    # ---- kiểm thử tin cậy ---------------------------------------------------------------

    def _resolve_names(self, source: str) -> None:
        for name in _free_names(source):
            if name in self.ns or name in self.trusted_names or self.session.proc is None:
                continue
            try:
                self.ns[name] = self.session.get(name)
                self.remote_names.add(name)
            except RemoteError:
                continue

    def _exec(self, source: str, label: str) -> tuple[str, BaseException | None]:
        """Chạy mã tin cậy trong không gian tên kiểm thử; trả về (stdout, lỗi hoặc None)."""
        buf = io.StringIO()
        error = None
        try:
            self._resolve_names(source)
            code = compile(source, label, "exec")
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                exec(code, self.ns)  # noqa: S102  (mã của giảng viên)
        except SessionDead as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001
            error = exc
        return buf.getvalue(), error

    @staticmethod
    def _describe(exc: BaseException) -> tuple[str, str]:
        if isinstance(exc, SessionDead):
            return NOT_RUN, f"bài làm không trả lời được kiểm thử ({exc.flag})."
        if isinstance(exc, RemoteError):
            if exc.ename == "NotImplementedError":
                return exc.ename, "hàm còn `raise NotImplementedError()`: bạn chưa làm phần này."
            return exc.ename, f"hàm của bạn báo lỗi: {exc}"
        if isinstance(exc, NameError):
            return "NameError", f"{exc} (hãy hoàn thành và chạy ô trả lời phía trên)."
        if isinstance(
            exc, AssertionError
        ):  # check(…) chưa đạt: thông điệp đã đủ, không tên lỗi Python
            return "Chưa đạt", str(exc)
        return type(exc).__name__, str(exc)

    def _run_trusted(self, index: int | None, source: str, label: str):
        """Chạy mã tin cậy của ô `index` (None: ô lấy từ notebook gốc); hộp cát chết thì ghi cờ."""
        out, err = self._exec(source, label)
        if isinstance(err, SessionDead):
            self._on_dead(err, f"ô {index + 1}" if index is not None else "ô chuẩn bị gốc")
        return out, err

    # ---- toàn bộ ---------------------------------------------------------------------------

    def run(self, nb):
        self.cells = nb.cells
        code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        self.student_cells = [i for i in code_cells if not is_test(nb.cells[i])]
        student_sources = [
            nb.cells[i].source for i in self.student_cells if not is_trusted(nb.cells[i])
        ]
        code = rules.StudentCode(student_sources)
        budget = OutputBudget(self.limits.max_output_chars, self.limits.max_notebook_output_chars)
        for i in code_cells:
            nb.cells[i].outputs = []
            nb.cells[i].execution_count = None
        self.session = Session(self.lib, self.files, self.limits, self.slot, rules=Rules(code))
        verdicts: dict[int, Verdict] = {}
        try:
            try:
                self.session.start()
            except SessionDead as exc:
                self._flag(f"không khởi động được hộp cát ({exc})")
                self.session.kill()
            # 1. các ô của bài làm, trong hộp cát
            for n, i in enumerate(self.student_cells, 1):
                cell = nb.cells[i]
                cell.execution_count = n
                if self.session.proc is None:
                    cell.outputs = [error_output(NOT_RUN, "ô không được chạy (hộp cát đã dừng).")]
                    continue
                try:
                    cell.outputs = clean_outputs(self.session.run(cell.source), budget)
                except SessionDead as exc:
                    self.dead_cells.add(i)
                    cell.outputs = [error_output(NOT_RUN, f"ô này làm bài dừng: {exc.flag}.")]
                    self._flag(f"ô {i + 1}: {exc.flag}")
                    if self.restarts < MAX_RESTARTS and not self.session.deadline_passed():
                        self.restarts += 1
                        try:
                            # các ô sau cần trạng thái của các ô trước (import, hàm đã định nghĩa)
                            self._replay(upto=i)
                        except SessionDead:
                            self.session.kill()
                        else:
                            continue
                    self.session.kill()
            # 2. phần công khai (và ô chuẩn bị/ô khoá) ở bộ chấm, theo thứ tự
            self.ns = _trusted_namespace()
            # Tên mà ô chuẩn bị/ô khoá/ô kiểm thử tự gán (check, nblib, dữ liệu…) không bao giờ lấy
            # từ hộp cát, kể cả khi học viên chuyển ô chuẩn bị xuống dưới hay xoá nó.
            self.trusted_names = set()
            for i in code_cells:
                if is_trusted(nb.cells[i]):
                    self.trusted_names |= _stored_names(nb.cells[i].source)
            # Ô chuẩn bị/ô dữ liệu lấy từ notebook GỐC của giảng viên khi có: bài nộp xoá, dời hay
            # sửa chúng thì đầu vào của kiểm thử vẫn là dữ liệu của giảng viên.
            for k, src in enumerate(self.trusted_cells or ()):
                self.trusted_names |= _stored_names(src)
                self._run_trusted(None, src, f"<ô gốc {k + 1}>")
            for i in code_cells:
                cell = nb.cells[i]
                if not is_trusted(cell):
                    continue
                gid = _meta(cell).get("grade_id") or f"o_{i + 1}"
                if not is_test(cell):
                    if self.trusted_cells is None:
                        _, err = self._run_trusted(i, cell.source, f"<ô {gid}>")
                    continue
                public, _hidden = split_hidden(cell.source)
                v = verdicts[i] = Verdict(gid)
                out, err = self._run_trusted(i, public, f"<kiểm thử {gid}>")
                v.text = out
                v.public_ok = err is None
                if err is not None:
                    v.ename, v.evalue = self._describe(err)
            # 3. phần ẩn: chỉ một bit đạt/không cho mỗi ô
            for i, v in verdicts.items():
                _public, hidden = split_hidden(nb.cells[i].source)
                if v.public_ok and hidden.strip():
                    _, err = self._run_trusted(i, hidden, f"<kiểm thử ẩn {v.grade_id}>")
                    v.hidden_ok = err is None
                    if err is not None:
                        ename, _ = self._describe(err)
                        v.ename = HIDDEN_FAILED
                        v.evalue = "✗ Chưa đạt phần kiểm thử ẩn của ô này (phần công khai đã đạt)"
                        if ename in ("NotImplementedError", "NameError", NOT_RUN):
                            v.evalue += f"; lỗi: {ename}"
                        v.evalue += "."
                v.passed = v.public_ok and v.hidden_ok
        finally:
            self.session.close()
        # 4. output của ô kiểm thử: văn bản phần công khai + lỗi nếu chưa đạt
        for i, v in verdicts.items():
            cell = nb.cells[i]
            outs = []
            if v.text:
                outs.extend(
                    clean_outputs(
                        [{"output_type": "stream", "name": "stdout", "text": v.text}], budget
                    )
                )
            if not v.passed:
                outs.append(error_output(v.ename or "AssertionError", budget.text(v.evalue, 4000)))
            cell.outputs = outs
        if budget.truncated:
            self._flag("output quá dài, đã cắt bớt")
        odd = code.suspicious()
        if odd:
            self._flag(
                f"mã dùng cơ chế nội bộ/động của Python ({', '.join(odd[:6])}): giảng viên nên xem lại"
            )
        for text in rules.similar_to_reference(code, self.references):
            self._flag(text)
        return nb, list(self.flags)
