"""Luật tĩnh trên MÃ NGUỒN bài làm, kiểm tra ở bộ chấm (ngoài hộp cát).

- `no_reference`: hàm (và các hàm phụ của học viên mà nó gọi) không dùng nblib ngoài
  `nblib.assessment.checks`, `nblib.backend`, `nblib.data`;
- `no_loops`: không có vòng lặp `for`/`while`, comprehension hay `np.vectorize`…;
- `suspicious`: dấu hiệu dùng cơ chế nội bộ/động của Python (exec, gc, sys.settrace…): gắn cờ;
- `similar_to_reference`: hàm gần giống hệt mã của hàm tham chiếu: gắn cờ cho người xem lại.

Mã nguồn được đọc từ notebook (dữ liệu), không từ tiến trình của bài nộp.
"""

from __future__ import annotations

import ast
import difflib
import io
import pathlib
import tokenize

from nblib.assessment.checks import ALLOWED_MODULES, loop_in

ALLOWED_NBLIB = {m.split(".")[1] for m in ALLOWED_MODULES}
SUSPICIOUS_NAMES = {
    "exec",
    "eval",
    "compile",
    "__import__",
    "globals",
    "vars",
    "breakpoint",
    "settrace",
    "setprofile",
    "get_referrers",
    "get_referents",
    "_getframe",
    "ctypes",
    "gc",
    "importlib",
    "inspect",
    "linecache",
    "subprocess",
    "socket",
    "builtins",
    "get_ipython",
    "__code__",
    "__globals__",
    "__class__",
    "__subclasses__",
    "__builtins__",
    "__dict__",
    "f_back",
    "f_globals",
    "modules",
    "environ",
}


def _parse(source: str) -> ast.Module | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001
        pass
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


class StudentCode:
    """Các ô mã do học viên kiểm soát (ô trả lời và ô không khoá), đã phân tích cú pháp."""

    def __init__(self, sources: list[str]):
        self.sources = list(sources)
        self.modules = [m for m in (_parse(s) for s in self.sources) if m is not None]

    def definition(self, name: str):
        """Định nghĩa cuối cùng của `name` (def hoặc `name = lambda …`) ở cấp cao nhất."""
        found = None
        for mod in self.modules:
            for node in mod.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                    found = node
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                    if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                        found = node
        return found

    def _closure(self, name: str) -> list:
        """Định nghĩa của `name` và của mọi hàm học viên mà nó gọi (bắc cầu)."""
        seen, order, todo = set(), [], [name]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            node = self.definition(n)
            if node is None:
                continue
            order.append(node)
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                    todo.append(sub.id)
        return order

    def _tainted(self) -> set[str]:
        """Tên cấp cao nhất trong mã học viên trỏ tới nblib ngoài các module được phép."""
        tainted: set[str] = set()
        for mod in self.modules:
            for node in mod.body:
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nblib"):
                    parts = (node.module or "").split(".")
                    for alias in node.names:
                        sub = parts[1] if len(parts) > 1 else alias.name
                        if sub not in ALLOWED_NBLIB:
                            tainted.add(alias.asname or alias.name)
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        parts = alias.name.split(".")
                        if parts[0] == "nblib" and alias.asname and len(parts) > 1:
                            if parts[1] not in ALLOWED_NBLIB:
                                tainted.add(alias.asname)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                    if _mentions_nblib(node.value, tainted):
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        for t in targets:
                            for n in ast.walk(t):
                                if isinstance(n, ast.Name):
                                    tainted.add(n.id)
        return tainted

    def no_reference(self, name: str) -> str | None:
        """None nếu đạt; ngược lại là lý do (tiếng Việt)."""
        nodes = self._closure(name)
        if not nodes:
            return (
                f"không tìm thấy định nghĩa `{name}` trong các ô của bài làm (hàm phải được định"
                " nghĩa bằng `def` trong ô trả lời)"
            )
        tainted = self._tainted()
        for node in nodes:
            if _mentions_nblib(node, tainted):
                return (
                    f"`{name}` dùng hàm có sẵn của nblib (dòng {node.lineno} trong ô định nghĩa"
                    " nó): hãy tự cài đặt theo công thức"
                )
        return None

    def no_loops(self, name: str) -> str | None:
        nodes = self._closure(name)
        if not nodes:
            return f"không tìm thấy định nghĩa `{name}` trong các ô của bài làm"
        for node in nodes:
            found = loop_in(node)
            if found:
                what, line = found
                return (
                    f"`{name}` dùng {what} ở dòng {line}: hãy viết bằng phép toán trên cả mảng"
                    " numpy (vector hoá)"
                )
        return None

    def suspicious(self) -> list[str]:
        found = set()
        for mod in self.modules:
            for sub in ast.walk(mod):
                name = None
                if isinstance(sub, ast.Name):
                    name = sub.id
                elif isinstance(sub, ast.Attribute):
                    name = sub.attr
                elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                    mods = [a.name for a in sub.names] + [getattr(sub, "module", None) or ""]
                    for m in mods:
                        if m.split(".")[0] in SUSPICIOUS_NAMES:
                            found.add(m.split(".")[0])
                if name in SUSPICIOUS_NAMES:
                    found.add(name)
        return sorted(found)

    def functions(self):
        for mod in self.modules:
            for node in mod.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node


def _mentions_nblib(node, tainted: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return True
        if isinstance(sub, ast.Attribute):
            chain = []
            cur = sub
            while isinstance(cur, ast.Attribute):
                chain.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id == "nblib" and chain:
                if chain[-1] not in ALLOWED_NBLIB:
                    return True
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            if sub.value.startswith("nblib.") and sub.value.split(".")[1] not in ALLOWED_NBLIB:
                return True
    return False


# ---------------------------------------------------------------------------
# giống mã tham chiếu
# ---------------------------------------------------------------------------

MIN_TOKENS = 30
SIMILARITY = 0.9


def _tokens(source: str) -> list[str]:
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    try:
        return [
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in skip and t.string
        ]
    except (tokenize.TokenError, IndentationError):
        return []


def _body_tokens(node, source: str) -> list[str]:
    seg = ast.get_source_segment(source, node) or ""
    toks = _tokens(seg)
    # bỏ dòng `def name(...)`: chỉ so thân hàm
    if ":" in toks:
        toks = toks[toks.index(":") + 1 :]
    return toks


def reference_tokens(withheld) -> dict[str, list[str]]:
    """Token thân hàm của các hàm tham chiếu (đọc từ mã nguồn nblib của bộ chấm)."""
    import nblib

    root = pathlib.Path(nblib.__file__).resolve().parent
    out = {}
    for item in withheld:
        parts = str(item).split(".")
        if len(parts) < 2:
            continue
        path = root / f"{parts[1]}.py"
        if not path.is_file():
            continue
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and (len(parts) == 2 or node.name == parts[2]):
                out[f"nblib.{parts[1]}.{node.name}"] = _body_tokens(node, src)
    return out


def similar_to_reference(code: StudentCode, references: dict[str, list[str]]) -> list[str]:
    flags = []
    for src in code.sources:
        mod = _parse(src)
        if mod is None:
            continue
        for node in mod.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            mine = _body_tokens(node, src)
            if len(mine) < MIN_TOKENS:
                continue
            for ref_name, ref in references.items():
                if len(ref) < MIN_TOKENS:
                    continue
                sm = difflib.SequenceMatcher(None, mine, ref, autojunk=False)
                if sm.real_quick_ratio() < SIMILARITY or sm.quick_ratio() < SIMILARITY:
                    continue
                ratio = sm.ratio()
                if ratio >= SIMILARITY:
                    flags.append(
                        f"`{node.name}` gần giống hệt mã của {ref_name} ({round(100 * ratio)}%)"
                    )
    return flags
