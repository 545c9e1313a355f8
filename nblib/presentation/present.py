"""Chế độ giảng viên: trình chiếu một bài giảng bằng Voilà, chỉ gồm các ô được gắn thẻ trình chiếu.

``make demo NB=lectures/06_khoi_tao_trong_so.ipynb`` gọi ``python -m nblib.presentation.present NB``:

1. Dựng *bản trình chiếu* của bài (``.trinh-chieu/<bài>.ipynb``, git bỏ qua): các ô có thẻ
   ``trinh-chieu`` (tiêu đề, hình chính, demo) cùng những ô mã mà chúng cần (tìm theo tên biến: ô định
   nghĩa hàm/biến mà ô trình chiếu dùng, đệ quy). Các ô cần thiết này chạy nhưng không hiện; mọi ô
   khác (bài tập, tự kiểm tra, các thí nghiệm dài) bị bỏ, nên kernel sẵn sàng sau vài giây thay vì vài phút.
2. Khuôn trang Voilà ``trinh-chieu`` (kế thừa ``lab``): ẩn mã, chỉ hiện ô có thẻ, chữ to cho máy chiếu,
   hình co theo bề rộng cửa sổ, Font Awesome lấy từ gói ``fontawesomefree`` cài cục bộ (không CDN).
3. Kernel *hâm nóng sẵn* (mặc định; Voilà ``--preheat_kernel``, hồ một kernel): Voilà chạy bản trình
   chiếu ngay khi khởi động, trước khi ai mở trang, nên mở trang là có demo dùng được sau 1–3 s thay vì
   chờ chạy lại bản trình chiếu (đo: bài 01 1,7 s thay vì 9,3 s). Sau mỗi lần mở trang, Voilà chạy sẵn
   bản trình chiếu trong một kernel mới cho lần mở sau (vài giây trên một lõi, trong lúc demo đang
   chiếu vẫn dùng được lõi kia). ``--no-preheat`` tắt hâm nóng.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import os
import pathlib
import shutil
import sys

TAG = "trinh-chieu"
ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / ".trinh-chieu"
TEMPLATE = "trinh-chieu"
FULL_TEMPLATE = "khoa-hoc"
_BUILTINS = set(dir(builtins)) | {"display", "get_ipython", "__file__"}

# Cỡ chữ cho máy chiếu: chữ thân bài và nhãn widget ≥ 16 px ở 1280×720; hình ipympl không bao giờ
# rộng hơn cột chứa (co theo cửa sổ, kể cả khi phóng to 150 %), giữ nguyên tỉ lệ.
PRESENT_CSS = """
:root {
  --jp-content-font-size1: 20px;
  --jp-ui-font-size1: 18px;
  --jp-widgets-font-size: 18px;
  --jp-widgets-inline-height: 34px;
  --jp-widgets-inline-label-width: 140px;
  --jp-code-font-family: 'DejaVu Sans Mono', 'Noto Sans Mono', monospace;
  --jp-content-font-family: 'DejaVu Sans', 'Noto Sans', system-ui, sans-serif;
  --jp-ui-font-family: 'DejaVu Sans', 'Noto Sans', system-ui, sans-serif;
}
body, .jp-RenderedHTMLCommon { font-size: 20px; line-height: 1.5; }
.jp-RenderedHTMLCommon h1 { font-size: 36px; }
.jp-RenderedHTMLCommon h2 { font-size: 30px; }
.jp-RenderedHTMLCommon h3 { font-size: 25px; }
.widget-label, .widget-readout, .widget-html-content, .widget-dropdown select,
.widget-button, .widget-toggle-button { font-size: 18px !important; }
.jp-OutputArea-output pre { font-size: 18px; }
#rendered_cells { padding: 0 2vw; box-sizing: border-box; }
#rendered_cells > div { max-width: 1240px; margin: 0 auto; }
.jp-OutputArea-output, .jupyter-widgets, .widget-vbox { max-width: 100%; min-width: 0; }
.widget-slider { max-width: 100%; }
.jupyter-matplotlib, .jupyter-matplotlib-figure { max-width: 100%; }
.jupyter-matplotlib-canvas-div { max-width: 100% !important; height: auto !important; }
.jupyter-matplotlib-canvas-div canvas:first-child {
  position: relative !important; width: 100% !important; height: auto !important;
}
.jupyter-matplotlib-canvas-div canvas + canvas { width: 100% !important; height: 100% !important; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
.nblib-figure, .nblib-demo { max-width: 100%; min-width: 0; }
.nblib-figure-canvas { max-width: 100% !important; height: auto !important; }
.nblib-status { font-size: 18px !important; }
"""

# Dòng chờ tiếng Việt thay cho "Executing 9 of 32" của Voilà; và giữ tỉ lệ hình khi co theo cửa sổ
# (ipympl đặt bề rộng/chiều cao cố định cho hộp chứa canvas).
PRESENT_JS = """
window.update_loading_text = function(cell_index, cell_count, text) {
  var el = document.getElementById('loading_text');
  if (el) el.textContent = text || ('Đang chuẩn bị bài trình chiếu… ' + cell_index + '/' + cell_count);
};
window.voila_process = window.update_loading_text;
"""

# Bổ sung vào khuôn trang lab của Voilà: liên kết CSS cục bộ, và chỉ hiện ô có thẻ (ô khác vẫn chạy).
_LOCAL_CSS = """
  <link rel="stylesheet" href="{{ resources.base_url }}voila/templates/@T@/static/fontawesome/css/all.min.css" type="text/css" />
  <link rel="stylesheet" href="{{ resources.base_url }}voila/templates/@T@/static/fontawesome/css/v4-shims.min.css" type="text/css" />
"""
_PRESENT_LINKS = """
  <link rel="stylesheet" href="{{ resources.base_url }}voila/templates/@T@/static/trinh-chieu.css" type="text/css" />
  <script src="{{ resources.base_url }}voila/templates/@T@/static/trinh-chieu.js"></script>
"""
_ANY_CELL = """
      {%- block any_cell scoped -%}
        <div cell-index="{{cellloop.index}}">
          <script>
            voila_process({{ cellloop.index }}, {{ cell_count }})
          </script>
          {%- if 'trinh-chieu' in cell.metadata.get('tags', []) -%}
          {{ super() }}
          {%- endif -%}
        </div>
      {%- endblock any_cell -%}
"""


def index_template(name=TEMPLATE, present=True):
    """Khuôn trang index.html.j2 của ``lab`` (Voilà đã cài) với Font Awesome cục bộ thay cho CDN.

    ``present``: thêm CSS máy chiếu và chỉ hiện các ô có thẻ trình chiếu."""
    import re

    import voila.paths

    lab = None
    for base in voila.paths.collect_template_paths(["voila"], "lab"):
        if pathlib.Path(base, "index.html.j2").is_file() and "voila" in str(base):
            lab = pathlib.Path(base, "index.html.j2").read_text()
            break
    if lab is None:
        raise RuntimeError("Không tìm thấy khuôn trang lab của Voilà")
    text, n = re.subn(r"\s*<link[^>]+https?://[^>]+>", "", lab)
    links = (_LOCAL_CSS + (_PRESENT_LINKS if present else "")).replace("@T@", name)
    text = text.replace(
        "  {{ super() }}\n{%- endblock notebook_css -%}",
        "  {{ super() }}\n" + links + "{%- endblock notebook_css -%}",
        1,
    )
    k = 1
    if present:
        text, k = re.subn(
            r"\s*\{%- block any_cell scoped -%\}.*?\{%- endblock any_cell -%\}",
            _ANY_CELL,
            text,
            flags=re.S,
        )
    if "https://" in text.split("{%- block html_head_js_mathjax")[0] or k != 1 or links not in text:
        raise RuntimeError(
            "Khuôn trang lab của Voilà đã đổi: cần cập nhật nblib/presentation/present.py"
        )
    return text


# ----- chọn ô -----


def _parse(source):
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def cell_names(source):
    """(tên được gán/định nghĩa hoặc bị sửa tại chỗ ở mức ô, tên được dùng) của một ô mã."""
    tree = _parse(source)
    if tree is None:
        return set(), set()
    defined = set()

    def top_level(node):
        # Duyệt câu lệnh ở mức ô (kể cả trong for/if/with/try), không đi vào thân hàm/lớp.
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(child.name)
                continue
            if isinstance(child, ast.Lambda):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for a in child.names:
                    defined.add((a.asname or a.name).split(".")[0])
            elif isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                defined.add(child.id)
            elif isinstance(child, (ast.Subscript, ast.Attribute)) and isinstance(
                child.ctx, ast.Store
            ):
                base = child.value
                while isinstance(base, (ast.Subscript, ast.Attribute)):
                    base = base.value
                if isinstance(base, ast.Name):
                    defined.add(base.id)  # d[k] = …, obj.x = …: sửa đối tượng tại chỗ
            top_level(child)

    top_level(tree)
    used = _free_names(tree.body, set()) - defined
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            defined.update(node.names)
    return defined, used - _BUILTINS


def _stored(nodes):
    """Tên được gán trong một thân hàm (không đi vào hàm/lớp lồng bên trong), cùng tên hàm con."""
    out = set()
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        stack.extend(ast.iter_child_nodes(n))
    return out


def _free_names(nodes, bound):
    """Tên được đọc trong ``nodes`` mà không gán trong phạm vi (hàm, lambda, comprehension) chứa nó."""
    free = set()
    for n in nodes:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = n.args
            decorators = getattr(n, "decorator_list", [])
            free |= _free_names(list(args.defaults) + list(args.kw_defaults or []), bound)
            free |= _free_names([d for d in decorators if d is not None], bound)
            params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
            params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
            body = n.body if isinstance(n.body, list) else [n.body]
            inner = bound | params | _stored(body)
            free |= _free_names(body, inner)
        elif isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            targets = set()
            for g in n.generators:
                targets |= {t.id for t in ast.walk(g.target) if isinstance(t, ast.Name)}
            free |= _free_names([n.generators[0].iter], bound)
            rest = [g.target for g in n.generators]
            rest += [x for g in n.generators[1:] for x in [g.iter]] + [
                c for g in n.generators for c in g.ifs
            ]
            rest += [n.key, n.value] if isinstance(n, ast.DictComp) else [n.elt]
            free |= _free_names(rest, bound | targets)
        elif isinstance(n, ast.ClassDef):
            free |= _free_names(n.bases + n.decorator_list, bound)
            free |= _free_names(n.body, bound)
        elif isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Load) and n.id not in bound:
                free.add(n.id)
        else:
            free |= _free_names(list(ast.iter_child_nodes(n)), bound)
    return free


def tagged(cell, tag=TAG):
    return tag in cell.get("metadata", {}).get("tags", [])


def needed_code_cells(cells, tag=TAG):
    """Chỉ số các ô mã phải chạy: ô mã có thẻ và mọi ô mã trước đó định nghĩa tên mà chúng dùng."""
    names = [cell_names(c.source) if c.cell_type == "code" else (set(), set()) for c in cells]
    need = set()
    todo = [i for i, c in enumerate(cells) if c.cell_type == "code" and tagged(c, tag)]
    while todo:
        i = todo.pop()
        if i in need:
            continue
        need.add(i)
        for name in names[i][1]:
            # Ô gần nhất trước i định nghĩa tên này, cùng mọi ô trước i sửa nó sau lần gán đó.
            for j in range(i - 1, -1, -1):
                if name in names[j][0]:
                    todo.append(j)
                    if _rebinds(cells[j].source, name):
                        break
    return sorted(need)


def _rebinds(source, name):
    """True nếu ô gán lại hẳn ``name`` (không chỉ sửa tại chỗ ``name[k] = …``)."""
    tree = _parse(source)
    if tree is None:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name).split(".")[0] == name for a in node.names):
                return True
    return False


def _has_demo(cell):
    return cell.cell_type == "code" and "Demo(" in cell.source


def build_demo_notebook(nb, tag=TAG, all_demos=False):
    """Bản trình chiếu: ô markdown có thẻ, ô mã có thẻ và các ô mã chúng cần (không hiện), không output.

    ``all_demos``: coi mọi ô mã tạo ``Demo(`` như có thẻ (bench đo mọi demo, kể cả demo chưa gắn thẻ)."""
    if all_demos:
        nb = copy.deepcopy(nb)
        for c in nb.cells:
            if _has_demo(c) and not tagged(c, tag):
                c.metadata.setdefault("tags", []).append(tag)
    need = set(needed_code_cells(nb.cells, tag))
    out = copy.deepcopy(nb)
    cells = []
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and i in need:
            c = copy.deepcopy(c)
            c.outputs, c.execution_count = [], None
            cells.append(c)
        elif c.cell_type == "markdown" and tagged(c, tag):
            cells.append(copy.deepcopy(c))
    out.cells = cells
    out.metadata.setdefault("nblib", {})["trinh_chieu_tu"] = len(nb.cells)
    return out


# ----- khuôn trang Voilà -----


def fontawesome_dir():
    """Thư mục CSS + phông Font Awesome của gói ``fontawesomefree`` (cài trong .venv)."""
    import fontawesomefree

    return pathlib.Path(fontawesomefree.__file__).parent / "static" / "fontawesomefree"


def write_template(share=BUILD / "share" / "jupyter", name=TEMPLATE, present=True):
    """Ghi khuôn trang vào ``share/voila/templates/<name>`` (Voilà tìm thấy qua JUPYTER_PATH).

    ``trinh-chieu``: chế độ giảng viên; ``khoa-hoc`` (``present=False``): cả bài, chỉ thay CDN."""
    tpl = pathlib.Path(share) / "voila" / "templates" / name
    static = tpl / "static"
    static.mkdir(parents=True, exist_ok=True)
    (tpl / "conf.json").write_text('{"base_template": "lab"}\n')
    (tpl / "index.html.j2").write_text(index_template(name, present))
    (static / "trinh-chieu.css").write_text(PRESENT_CSS)
    (static / "trinh-chieu.js").write_text(PRESENT_JS)
    fa = static / "fontawesome"
    if not (fa / "webfonts").is_dir():
        src = fontawesome_dir()
        (fa / "css").mkdir(parents=True, exist_ok=True)
        for name in ("all.min.css", "v4-shims.min.css"):
            shutil.copy2(src / "css" / name, fa / "css" / name)
        shutil.copytree(src / "webfonts", fa / "webfonts", dirs_exist_ok=True)
    return tpl


def prepare(notebook, build=BUILD, all_demos=False):
    """Dựng bản trình chiếu và khuôn trang; trả về đường dẫn notebook đã dựng."""
    import nbformat

    notebook = pathlib.Path(notebook).resolve()
    nb = nbformat.read(notebook, as_version=4)
    demo = build_demo_notebook(nb, all_demos=all_demos)
    # Cùng thư mục cha với bài gốc (kernel chạy trong thư mục của notebook, như khi mở bài gốc).
    target = notebook.parent / build.name / notebook.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(demo, target)
    write_templates(build)
    return target


def write_templates(build=BUILD):
    share = build / "share" / "jupyter"
    write_template(share, TEMPLATE, present=True)
    write_template(share, FULL_TEMPLATE, present=False)


def voila_command(target, port=8866, ip="127.0.0.1", preheat=False, extra=()):
    bin_dir = pathlib.Path(sys.executable).parent
    cmd = [
        str(bin_dir / "voila"),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={ip}",
        f"--template={TEMPLATE}",
        "--theme=light",
    ]
    if preheat:
        cmd += ["--preheat_kernel=True", "--pool_size=1", "--VoilaKernelManager.fill_delay=2"]
    cmd += list(extra)
    cmd.append(str(target))
    return cmd


def voila_env(build=BUILD):
    env = dict(os.environ)
    share = str(build / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (share, env.get("JUPYTER_PATH")) if p)
    env["NBLIB_PRESENT"] = "1"  # nblib.presentation.plots: cỡ chữ và bề rộng hình cho máy chiếu
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env.pop("MPLBACKEND", None)
    return env


def main(argv=None):
    ap = argparse.ArgumentParser(description="Trình chiếu một bài giảng (chế độ giảng viên).")
    ap.add_argument("notebook")
    ap.add_argument("--port", type=int, default=8866)
    ap.add_argument(
        "--preheat",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="hâm nóng kernel trước khi mở trang (mặc định; --no-preheat: mỗi lần mở trang mới chạy)",
    )
    ap.add_argument("--build-only", action="store_true", help="chỉ dựng bản trình chiếu")
    ap.add_argument(
        "--all-demos",
        action="store_true",
        help="chiếu cả các demo chưa gắn thẻ trinh-chieu (bench đo mọi demo)",
    )
    ap.add_argument(
        "--full", action="store_true", help="cả bài (không lọc theo thẻ), tài nguyên cục bộ"
    )
    args = ap.parse_args(argv)
    if args.full:
        write_templates()
        cmd = voila_command(args.notebook, port=args.port, preheat=False)
        cmd[cmd.index(f"--template={TEMPLATE}")] = f"--template={FULL_TEMPLATE}"
        os.execvpe(cmd[0], cmd, voila_env())
    target = prepare(args.notebook, all_demos=args.all_demos)
    kept = len(__import__("nbformat").read(target, as_version=4).cells)
    print(f"Bản trình chiếu: {target} ({kept} ô)", flush=True)
    if args.build_only:
        return 0
    cmd = voila_command(target, port=args.port, preheat=args.preheat)
    ready = (
        "vài giây nữa kernel hâm nóng sẵn xong" if args.preheat else "mỗi lần mở trang chạy lại bài"
    )
    print(f"Mở http://127.0.0.1:{args.port}/ ({ready}; Ctrl+C để dừng)", flush=True)
    os.execvpe(cmd[0], cmd, voila_env())


if __name__ == "__main__":
    sys.exit(main())
