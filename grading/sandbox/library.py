"""Thư mục thư viện của hộp cát: `inside.py`, `channel.py` và một bản `nblib` đã ẩn hàm tham chiếu.

Hàm tham chiếu của bài tập (danh sách `withheld` trong metadata của notebook lời giải, xem
`solutions/FORMAT.md`) bị thay thân hàm bằng một lệnh báo lỗi tiếng Việt NGAY TRONG MÃ NGUỒN được
chép vào hộp cát: mã tham chiếu không có mặt bên trong, nên bài nộp không thể lấy lại nó dù kiểm
soát cả tiến trình. Các phần khác của nblib (dữ liệu, mô hình, vẽ hình) vẫn dùng được.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pathlib
import shutil
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
NBLIB = pathlib.Path(__import__("nblib").__file__).resolve().parent


def _stub(name: str, node: ast.FunctionDef) -> ast.FunctionDef:
    msg = (
        f"{name} là hàm tham chiếu của bài tập này nên không dùng được khi chấm: "
        "hãy tự cài đặt (xem đề bài)."
    )
    node.body = ast.parse(f"raise RuntimeError({msg!r})").body
    node.decorator_list = []
    return node


def withhold(source: str, module: str, names: set[str] | None) -> str:
    """Mã nguồn của `module` với các hàm trong `names` (None: mọi hàm cấp module) bị thay thân."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
            names is None or node.name in names
        ):
            _stub(f"{module}.{node.name}", node)
    return ast.unparse(tree) + "\n"


def _plan(withheld) -> dict[str, set[str] | None]:
    plan: dict[str, set[str] | None] = {}
    for item in withheld:
        parts = str(item).split(".")
        if parts[0] != "nblib" or len(parts) < 2:
            raise ValueError(f"tên hàm tham chiếu không hợp lệ: {item!r} (phải là nblib.<module>…)")
        module = parts[1]
        if len(parts) == 2:
            plan[module] = None
        elif plan.get(module, set()) is not None:
            plan.setdefault(module, set()).add(parts[2])
    return plan


def build(withheld, dest_root: pathlib.Path | None = None) -> pathlib.Path:
    """Dựng (một lần cho mỗi danh sách `withheld`) thư mục thư viện chỉ đọc; trả về đường dẫn."""
    plan = _plan(withheld)
    h = hashlib.sha256()
    sources = [HERE / "inside.py", HERE.parent / "channel.py", *sorted(NBLIB.rglob("*.py"))]
    for f in sources:
        h.update(f.as_posix().encode() + f.read_bytes())
    h.update(repr(sorted((k, sorted(v) if v else None) for k, v in plan.items())).encode())
    root = dest_root or pathlib.Path(tempfile.gettempdir())
    dest = root / f"grading-lib-{h.hexdigest()[:16]}"
    if (dest / "inside.py").is_file():
        return dest
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="grading-lib-", dir=root))
    shutil.copyfile(HERE / "inside.py", tmp / "inside.py")
    shutil.copyfile(HERE.parent / "channel.py", tmp / "channel.py")
    (tmp / "nblib").mkdir()
    for f in sorted(NBLIB.rglob("*.py")):
        rel = f.relative_to(NBLIB)
        text = f.read_text(encoding="utf-8")
        if (
            rel.parent == pathlib.Path(".") and f.stem in plan
        ):  # hàm tham chiếu: module toán ở nblib/
            text = withhold(text, f"nblib.{f.stem}", plan[f.stem])
        (tmp / "nblib" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "nblib" / rel).write_text(text, encoding="utf-8")
    for dirpath, _dirnames, filenames in os.walk(tmp):
        os.chmod(dirpath, 0o755)
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o644)
    try:
        os.rename(tmp, dest)
    except OSError:  # một tiến trình khác vừa dựng xong
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
