"""Kho bài nộp "xấu" cho bộ chấm: mỗi trường hợp là một hàm sinh bài nộp và kết quả mong đợi.

Mọi bài nộp đều của bài tập `bt02_ham_kich_hoat` (13 điểm: tanh 2, relu 2, leaky_relu 2, elu 2,
softmax 3, softmax_jacobian 2). Trừ khi nói khác, bài nộp điền đúng mọi ô trả lời rồi cài "trò
xấu" vào ô `relu` (hoặc ô ghi trong mô tả). Khi trò xấu là gian lận, hàm `relu` của bài nộp là
SAI (trả về z), nên gian lận bị chặn thì `test_relu` được 0.

`Expect`:
- status: trạng thái dòng chấm ("đã chấm", "lỗi", "thiếu bài");
- score: điểm chính xác (None: không khẳng định, ví dụ bom tiến trình);
- zero: các ô kiểm thử phải được 0 (ô bị tấn công);
- flag: chuỗi con phải có trong lý do gắn cờ (None: không được gắn cờ).
"""

from __future__ import annotations

import dataclasses
import pathlib
import uuid

import nbformat

from grading.synthetic import make_submission, student_source

ASSIGNMENT = "bt02_ham_kich_hoat"
MAX_SCORE = 13
REPO = pathlib.Path(__file__).resolve().parents[2]
EXERCISE = REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
NB_NAME = f"{ASSIGNMENT}.ipynb"

WRONG_RELU = "\n\ndef relu(z):\n    return z\n"
ALL_TESTS = (
    "test_tanh",
    "test_relu",
    "test_leaky_relu",
    "test_elu",
    "test_softmax",
    "test_softmax_jacobian",
)


@dataclasses.dataclass
class Expect:
    status: str = "đã chấm"
    score: float | None = MAX_SCORE
    zero: tuple[str, ...] = ()
    flag: str | None = None


@dataclasses.dataclass
class Context:
    """Đường dẫn mà bài nộp gian lận thử đọc/ghi (biết trước, như một học viên đoán được)."""

    workspace: pathlib.Path
    markers: list = dataclasses.field(default_factory=list)  # tệp KHÔNG được xuất hiện
    # chuỗi riêng của lần chạy: tiến trình nào mang chuỗi này trong dòng lệnh là đã sống sót
    token: str = dataclasses.field(default_factory=lambda: f"song_sot_{uuid.uuid4().hex[:12]}")

    def marker(self, where: pathlib.Path) -> pathlib.Path:
        p = where / f"da_ghi_{uuid.uuid4().hex[:8]}.txt"
        self.markers.append(p)
        return p


CASES: dict[str, tuple[str, Expect, object]] = {}


def case(name: str, description: str, expect: Expect):
    def deco(fn):
        CASES[name] = (description, expect, fn)
        return fn

    return deco


def _solution_source(grade_id: str) -> str:
    """Mã lời giải của một ô trả lời như học viên viết (ô `relu` có cả `relu` và `relu_grad`)."""
    nb = nbformat.read(str(SOLUTION), as_version=4)
    return student_source(_cell(nb, grade_id).source)


def _nb(out: pathlib.Path, before: str = "", after: str = "", **overrides) -> pathlib.Path:
    """Bài nộp đúng hết; ô `relu` = `before` + lời giải + `after` (`after` có thể định nghĩa lại
    `relu` cho sai); `overrides` thay hẳn các ô khác (grade_id → mã)."""
    overrides.setdefault("relu", before + _solution_source("relu") + "\n" + after)
    return make_submission(EXERCISE, SOLUTION, out / NB_NAME, solved="all", overrides=overrides)


def _edit(path: pathlib.Path, fn) -> None:
    nb = nbformat.read(str(path), as_version=4)
    fn(nb)
    nbformat.write(nb, str(path))


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# ---------------------------------------------------------------------------
# bài nộp bình thường (để kiểm tra không bài xấu nào ảnh hưởng bài khác)
# ---------------------------------------------------------------------------


@case("aa_dung_het", "bài làm đúng hết (chấm trước các bài xấu)", Expect())
def _(out, ctx):
    _nb(out)


@case("zz_dung_het", "bài làm đúng hết (chấm sau các bài xấu)", Expect())
def _(out, ctx):
    _nb(out)


@case(
    "zz_mot_phan",
    "đúng tanh và relu, chưa làm phần còn lại",
    Expect(score=4, zero=("test_leaky_relu", "test_elu", "test_softmax")),
)
def _(out, ctx):
    make_submission(EXERCISE, SOLUTION, out / NB_NAME, solved=["tanh", "relu"])


# ---------------------------------------------------------------------------
# tài nguyên: vòng lặp, thoát, segfault, bộ nhớ, tiến trình, mạng, output, input
# ---------------------------------------------------------------------------


@case(
    "vong_lap_vo_han",
    "vòng lặp vô hạn trước khi định nghĩa relu (bị ngắt khi hết giờ của ô)",
    Expect(score=11, zero=("test_relu",), flag="chạy quá 5 giây, đã bị dừng"),
)
def _(out, ctx):
    _nb(out, before="while True:\n    pass\n")


@case("sys_exit", "sys.exit() trong ô relu", Expect(score=11, zero=("test_relu",)))
def _(out, ctx):
    _nb(out, before="import sys\nsys.exit(3)\n")


@case(
    "os_exit",
    "os._exit() trong ô elu: hộp cát dừng, được khởi động lại và chạy lại các ô trước; các ô sau vẫn chạy",
    Expect(score=11, zero=("test_elu",), flag="dừng đột ngột"),
)
def _(out, ctx):
    _nb(out, elu="import os\nos._exit(0)\n" + _solution_source("elu"))


@case(
    "segfault",
    "segfault bằng ctypes trong ô softmax",
    Expect(score=8, zero=("test_softmax", "test_softmax_jacobian"), flag="dừng đột ngột"),
)
def _(out, ctx):
    _nb(out, softmax="import ctypes\nctypes.string_at(0)\n" + _solution_source("softmax"))


@case(
    "bom_bo_nho",
    "xin 8 GiB bộ nhớ (vượt giới hạn 2 GiB → MemoryError)",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    _nb(out, before="_khoi = bytearray(8 * 1024**3)\n")


@case(
    "bom_tien_trinh",
    "fork bomb: sinh tiến trình tới khi bị chặn bởi giới hạn số tiến trình",
    Expect(score=None, zero=("test_relu",)),
)
def _(out, ctx):
    _nb(
        out,
        before="import os, time\n"
        "while True:\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(600)\n"
        "        os._exit(0)\n",
    )


@case(
    "goi_mang",
    "gọi mạng (không có mạng trong hộp cát → lỗi trước khi định nghĩa relu)",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    _nb(
        out,
        before="import urllib.request\n"
        "urllib.request.urlopen('https://pypi.org/simple/', timeout=5).read()\n",
    )


@case("in_200k_dong", "in 200.000 dòng", Expect(flag="output quá dài"))
def _(out, ctx):
    _nb(
        out,
        before="import sys\n"
        "for _k in range(200):  # 200 lần ghi, mỗi lần 1.000 dòng\n"
        "    sys.stdout.write(''.join(f'dòng {_k * 1000 + _i}\\n' for _i in range(1000)))\n",
    )


@case(
    "goi_input",
    "gọi input() (không có stdin khi chấm)",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    _nb(out, before="_ten = input('Tên bạn? ')\n")


@case("canh_bao", "mã đúng nhưng ghi cảnh báo (RuntimeWarning, DeprecationWarning)", Expect())
def _(out, ctx):
    _nb(
        out,
        tanh=_solution_source("tanh")
        + (
            "\n\nimport warnings\n\n"
            "def tanh(z):\n"
            "    warnings.warn('hàm cũ', DeprecationWarning)\n"
            "    e = np.exp(-2.0 * z)  # tràn số khi z rất âm: RuntimeWarning\n"
            "    return np.where(np.isinf(e), -1.0, (1.0 - e) / (1.0 + e))\n"
        ),
    )


# ---------------------------------------------------------------------------
# notebook hỏng hoặc thiếu
# ---------------------------------------------------------------------------


@case(
    "json_hong",
    "tệp .ipynb không phải JSON hợp lệ",
    Expect(status="lỗi", score=0, flag="không đọc được"),
)
def _(out, ctx):
    out.mkdir(parents=True, exist_ok=True)
    (out / NB_NAME).write_text('{"cells": [ {"cell_type": "code", ', encoding="utf-8")


@case("tep_rong", "tệp .ipynb rỗng", Expect(status="lỗi", score=0, flag="không đọc được"))
def _(out, ctx):
    out.mkdir(parents=True, exist_ok=True)
    (out / NB_NAME).write_bytes(b"")


@case(
    "khong_co_o",
    "notebook hợp lệ nhưng không có ô nào",
    Expect(score=0, zero=("test_tanh", "test_relu"), flag="đã bị xoá"),
)
def _(out, ctx):
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(str(EXERCISE), as_version=4)
    nb.cells = []
    nbformat.write(nb, str(out / NB_NAME))


@case(
    "doi_ten",
    "notebook bị đổi tên",
    Expect(status="thiếu bài", score=0),
)
def _(out, ctx):
    _nb(out)
    (out / NB_NAME).rename(out / "bai_lam_cua_em.ipynb")


@case("thieu_notebook", "chỉ nộp một tệp ghi chú, không có notebook", Expect("thiếu bài", 0))
def _(out, ctx):
    out.mkdir(parents=True, exist_ok=True)
    (out / "ghi_chu.txt").write_text("Em nộp sau ạ.\n", encoding="utf-8")


@case(
    "tep_thua",
    "tệp thừa: module helper.py được import, tệp lớn, symlink tới lời giải (không được chép)",
    Expect(),
)
def _(out, ctx):
    _nb(
        out,
        after="from helper import relu\n",
        tanh=_solution_source("tanh")
        + (
            "\n\nimport os\n\n"
            "def tanh(z):\n"
            "    # chỉ đúng khi symlink tới lời giải KHÔNG có trong thư mục làm việc\n"
            "    return None if os.path.lexists('loi_giai.ipynb.txt') else np.tanh(z)\n"
        ),
    )
    (out / "helper.py").write_text(
        "import numpy as np\n\n\ndef relu(z):\n    return np.maximum(z, 0.0)\n", encoding="utf-8"
    )
    (out / "du_lieu.bin").write_bytes(b"\0" * 1_000_000)
    (out / "loi_giai.ipynb.txt").symlink_to(SOLUTION)


# ---------------------------------------------------------------------------
# sửa ô kiểm thử / metadata
# ---------------------------------------------------------------------------


@case(
    "xoa_o_kiem_thu",
    "xoá ô test_relu",
    Expect(score=11, zero=("test_relu",), flag="`test_relu` đã bị xoá"),
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU)
    _edit(p, lambda nb: nb.cells.remove(_cell(nb, "test_relu")))


@case(
    "sua_o_kiem_thu",
    "sửa ô test_relu thành `pass` (relu sai)",
    Expect(score=11, zero=("test_relu",), flag="`test_relu` đã bị sửa"),
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU)

    def edit(nb):
        _cell(nb, "test_relu").source = "pass\n"

    _edit(p, edit)


@case(
    "o_kiem_thu_thanh_o_tra_loi",
    "đổi metadata ô test_relu thành ô trả lời và xoá nội dung (relu sai); nbgrader từ chối chấm",
    Expect(status="lỗi", score=0, zero=("test_relu",), flag="metadata"),
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU)

    def edit(nb):
        c = _cell(nb, "test_relu")
        c.metadata["nbgrader"].update(grade=False, solution=True, locked=False)
        c.metadata["nbgrader"].pop("points", None)
        c.source = "pass\n"

    _edit(p, edit)


@case(
    "sua_diem",
    "sửa points của test_relu thành 100",
    Expect(flag="metadata"),
)
def _(out, ctx):
    p = _nb(out)
    _edit(p, lambda nb: _cell(nb, "test_relu").metadata["nbgrader"].update(points=100))


@case(
    "schema_tuong_lai",
    "schema_version của nbgrader từ tương lai (99)",
    Expect(status="lỗi", score=0),
)
def _(out, ctx):
    p = _nb(out)

    def edit(nb):
        for c in nb.cells:
            if "nbgrader" in c.metadata:
                c.metadata["nbgrader"]["schema_version"] = 99

    _edit(p, edit)


# ---------------------------------------------------------------------------
# gian lận trong kernel
# ---------------------------------------------------------------------------


@case(
    "eq_luon_dung",
    "relu trả về đối tượng có __eq__ luôn True",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    _nb(
        out,
        after="class _LuonBang:\n"
        "    shape = (1, 5)\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    def __ne__(self, other):\n"
        "        return False\n"
        "    __hash__ = object.__hash__\n\n"
        "def relu(z):\n"
        "    return _LuonBang()\n",
    )


@case(
    "va_numpy",
    "monkeypatch numpy (allclose, isclose, array_equal, all, testing) + relu sai",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    _nb(
        out,
        after="import numpy\n"
        "for _n in ['allclose', 'isclose', 'array_equal', 'all', 'any']:\n"
        "    setattr(numpy, _n, lambda *a, **k: True)\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n" + WRONG_RELU,
    )


@case(
    "va_checks",
    "monkeypatch nblib.assessment.checks.check và tên `check` trong notebook + relu sai",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    _nb(
        out,
        after="import nblib.assessment.checks\n"
        "nblib.assessment.checks.check = lambda *a, **k: None\n"
        "check = lambda *a, **k: None\n" + WRONG_RELU,
    )


@case(
    "bien_doi_dau_vao",
    "bộ biến đổi đầu vào IPython xoá trắng mọi ô sau nó (chỉ trong hộp cát: các ô trả lời sau"
    " không còn gì) + relu sai",
    Expect(
        score=2,
        zero=("test_relu", "test_leaky_relu", "test_elu", "test_softmax", "test_softmax_jacobian"),
        flag="cơ chế nội bộ/động",
    ),
)
def _(out, ctx):
    _nb(
        out,
        after="get_ipython().input_transformers_cleanup.append(lambda lines: [])\n" + WRONG_RELU,
    )


@case(
    "doc_loi_giai",
    "đọc lời giải / sổ điểm / bài người khác từ đĩa để lấy relu đúng",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    ws = ctx.workspace
    paths = [
        SOLUTION,
        ws / "source" / ASSIGNMENT / NB_NAME,
        ws / "gradebook.db",
        ws / "submitted" / "aa_dung_het" / ASSIGNMENT / NB_NAME,
        ws / "autograded" / "aa_dung_het" / ASSIGNMENT / NB_NAME,
        REPO / ".git" / "HEAD",
    ]
    code = (
        WRONG_RELU + "\n\nimport glob\n"
        f"_duong_dan = {[str(p) for p in paths]!r}\n"
        "_duong_dan += glob.glob('/tmp/**/gradebook.db', recursive=True)\n"
        "_duong_dan += glob.glob('/work/*/*') + glob.glob('/root/*')\n"
        "_doc_duoc = []\n"
        "for _p in _duong_dan:\n"
        "    try:\n"
        "        with open(_p, 'rb') as _f:\n"
        "            _f.read(10)\n"
        "        _doc_duoc.append(_p)\n"
        "    except OSError:\n"
        "        pass\n"
        "if _doc_duoc:  # 'gian lận thành công' nếu đọc được tệp của bộ chấm: relu đúng\n"
        "    def relu(z):\n"
        "        return np.maximum(z, 0.0)\n"
    )
    _nb(out, after=code)


@case(
    "ghi_ngoai",
    "ghi tệp ra ngoài thư mục bài nộp (repo, workspace, /tmp, HOME của bộ chấm)",
    Expect(),
)
def _(out, ctx):
    targets = [
        ctx.marker(REPO / "grading"),
        ctx.marker(ctx.workspace),
        ctx.marker(ctx.workspace / "submitted"),
        ctx.marker(pathlib.Path("/tmp")),
        ctx.marker(pathlib.Path("/root")),
    ]
    code = (
        f"for _p in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        with open(_p, 'w') as _f:\n"
        "            _f.write('đã vượt rào')\n"
        "    except OSError:\n"
        "        pass\n"
    )
    _nb(out, after=code)


# ---------------------------------------------------------------------------
# tấn công của issue 11: gian lận trong tiến trình của bài nộp (relu luôn SAI: trả về z)
# Trong thiết kế mới bài nộp chỉ tính trong hộp cát; kiểm thử và phép so sánh ở bộ chấm, nên
# mọi trò dưới đây chỉ sửa được tiến trình của chính nó: test_relu phải được 0.
# ---------------------------------------------------------------------------

_CHEAT = Expect(score=11, zero=("test_relu",), flag="cơ chế nội bộ/động")
_CHEAT_QUIET = Expect(score=11, zero=("test_relu",))


def _cheat(out, code: str, **overrides):
    """Bài nộp đúng mọi ô trừ relu (sai); `code` chạy trong ô relu, sau định nghĩa relu sai."""
    _nb(out, after=WRONG_RELU + "\n" + code, **overrides)


@case("doi_code_check", "thay `__code__` của check/_check/check_no_reference", _CHEAT)
def _(out, ctx):
    _cheat(
        out,
        "import nblib.assessment.checks\n\n"
        "def _luon_dung(*a, **k):\n"
        "    return True\n\n"
        "for _f in (nblib.assessment.checks.check, nblib.assessment.checks._check, nblib.assessment.checks.check_no_reference,\n"
        "           nblib.assessment.checks.check_true):\n"
        "    _f.__code__ = _luon_dung.__code__\n",
    )


@case("dau_doc_gc", "đầu độc mọi nơi giữ check qua gc.get_referrers", _CHEAT)
def _(out, ctx):
    _cheat(
        out,
        "import gc\nimport nblib.assessment.checks\n"
        "_that = nblib.assessment.checks.check\n"
        "for _o in gc.get_referrers(_that):\n"
        "    if isinstance(_o, dict):\n"
        "        for _k, _v in list(_o.items()):\n"
        "            if _v is _that:\n"
        "                _o[_k] = lambda *a, **k: True\n",
    )


@case("xoa_trang_thai", "xoá trạng thái của bộ chấm cũ và của các module nblib", _CHEAT)
def _(out, ctx):
    _cheat(
        out,
        "import sys\n"
        "try:\n"
        "    import grading.sandbox\n"
        "    grading.sandbox._STATE.clear()\n"
        "except Exception as _e:\n"
        "    print('không có bộ chấm ở đây:', type(_e).__name__)\n"
        "for _n, _m in list(sys.modules.items()):\n"
        "    if _n.startswith(('nblib', 'grading')) and _m is not None:\n"
        "        _m.__dict__.clear()\n",
    )


@case("che_import", "che `__import__` (builtins và không gian tên) trả về numpy/nblib giả", _CHEAT)
def _(out, ctx):
    _cheat(
        out,
        "import builtins, types\n"
        "_that = builtins.__import__\n\n"
        "class _Gia(types.ModuleType):\n"
        "    def __getattr__(self, name):\n"
        "        return lambda *a, **k: True\n\n"
        "def __import__(name, *a, **k):\n"
        "    if name.split('.')[0] in ('numpy', 'nblib'):\n"
        "        return _Gia(name)\n"
        "    return _that(name, *a, **k)\n\n"
        "builtins.__import__ = __import__\n",
    )


@case("va_numpy_noi_bo", "vá hàm nội bộ numpy mà isclose/allclose dùng (less_equal, …)", _CHEAT)
def _(out, ctx):
    _cheat(
        out,
        "import importlib\nimport numpy\n"
        "for _name in ('numpy._core.numeric', 'numpy.core.numeric', 'numpy._core.umath'):\n"
        "    try:\n"
        "        _m = importlib.import_module(_name)\n"
        "    except ImportError:\n"
        "        continue\n"
        "    for _f in ('less_equal', 'isclose', 'all', 'isfinite', 'abs'):\n"
        "        try:\n"
        "            setattr(_m, _f, lambda *a, **k: numpy.True_)\n"
        "        except (AttributeError, TypeError):\n"
        "            pass\n"
        "numpy.isclose = numpy.allclose = lambda *a, **k: numpy.True_\n",
    )


@case(
    "lop_con_ndarray",
    "relu trả về lớp con của ndarray có __array_function__/__array_ufunc__/__eq__ gian lận",
    _CHEAT_QUIET,
)
def _(out, ctx):
    _nb(
        out,
        after="class _MangGia(np.ndarray):\n"
        "    def __array_function__(self, func, types, args, kwargs):\n"
        "        return True\n"
        "    def __array_ufunc__(self, ufunc, method, *args, **kwargs):\n"
        "        return True\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __hash__ = None\n\n"
        "def relu(z):\n"
        "    return np.asarray(z, dtype=float).view(_MangGia)\n",
    )


@case("settrace", "sys.settrace nhảy qua dòng so sánh của check", _CHEAT)
def _(out, ctx):
    _cheat(
        out,
        "import sys, threading\n\n"
        "def _vet(frame, event, arg):\n"
        "    if event == 'line' and frame.f_code.co_name in ('_check', 'check', 'isclose'):\n"
        "        try:\n"
        "            frame.f_lineno = frame.f_code.co_firstlineno + 1\n"
        "        except ValueError:\n"
        "            pass\n"
        "    return _vet\n\n"
        "sys.settrace(_vet)\n"
        "threading.settrace(_vet)\n",
    )


@case("luong_va_lai", "luồng nền vá lại check và numpy mỗi mili giây", _CHEAT_QUIET)
def _(out, ctx):
    _cheat(
        out,
        "import threading, time\nimport numpy\nimport nblib.assessment.checks\n\n"
        "def _va_mai():\n"
        "    while True:\n"
        "        nblib.assessment.checks.check = lambda *a, **k: True\n"
        "        numpy.allclose = numpy.isclose = lambda *a, **k: True\n"
        "        time.sleep(0.001)\n\n"
        "threading.Thread(target=_va_mai, daemon=True).start()\n",
    )


@case(
    "su_kien_ipython",
    "sự kiện IPython pre/post_run_cell in '✅ đúng' và một execute_result giả; output giả của ô",
    _CHEAT,
)
def _(out, ctx):
    _cheat(
        out,
        "import sys\nfrom IPython.display import display\n"
        "_ip = get_ipython()\n\n"
        "def _gia(*a, **k):\n"
        "    print('✅ relu(z): đúng')\n"
        "    display({'text/plain': '✅ đúng'}, raw=True)\n\n"
        "for _ev in ('pre_run_cell', 'post_run_cell', 'pre_execute', 'post_execute'):\n"
        "    _ip.events.register(_ev, _gia)\n"
        "import gc\n"
        "_g = next((o for o in gc.get_objects() if isinstance(o, dict) and 'CHAN_OUT' in o\n"
        "           and 'handle' in o), None)  # không gian tên của chương trình trong hộp cát\n"
        "if _g is not None:  # mọi ô trả về execute_result giả\n"
        "    _goc = _g['run_cell']\n"
        "    _g['run_cell'] = lambda src: _goc(src) + [{'output_type': 'execute_result',\n"
        "        'execution_count': 1, 'data': {'text/plain': '2'}, 'metadata': {}}]\n",
    )


@case(
    "ast_parse_pass",
    "thay get_ipython().compile.ast_parse và các bộ biến đổi (ô cuối của bài) → mọi ô sau là `pass`",
    _CHEAT,
)
def _(out, ctx):
    _nb(
        out,
        after=WRONG_RELU,
        softmax_jacobian=_solution_source("softmax_jacobian") + "\n\nimport ast\n"
        "_ip = get_ipython()\n"
        "_ip.compile.ast_parse = lambda *a, **k: ast.parse('pass')\n"
        "_ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n"
        "class _Xoa(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        return ast.parse('pass')\n"
        "_ip.ast_transformers.append(_Xoa())\n",
    )


@case("doi_class_module", "đổi `__class__` của module nblib.assessment.checks và numpy", _CHEAT)
def _(out, ctx):
    _cheat(
        out,
        "import sys, types\nimport nblib.assessment.checks\n\n"
        "class _M(types.ModuleType):\n"
        "    def __getattribute__(self, name):\n"
        "        if name.startswith(('check', 'allclose', 'isclose')):\n"
        "            return lambda *a, **k: True\n"
        "        return types.ModuleType.__getattribute__(self, name)\n\n"
        "nblib.assessment.checks.__class__ = _M\n"
        "sys.modules['numpy'].__class__ = _M\n",
    )


@case(
    "boc_kenh_gui",
    "bọc kernel.session.send (không còn kernel) và hàm trả lời của hộp cát: mọi lời gọi trả 'đạt'"
    " (True) thay cho kết quả thật → mọi ô kiểm thử đều chưa đạt",
    Expect(score=0, zero=ALL_TESTS, flag="cơ chế nội bộ/động"),
)
def _(out, ctx):
    _cheat(
        out,
        "import sys\n"
        "try:\n"
        "    _k = get_ipython().kernel\n"
        "    _k.session.send = lambda *a, **k: None\n"
        "except AttributeError:\n"
        "    print('không có kernel Jupyter')\n"
        "import gc\n"
        "_g = next((o for o in gc.get_objects() if isinstance(o, dict) and 'CHAN_OUT' in o\n"
        "           and 'handle' in o), None)  # không gian tên của chương trình trong hộp cát\n"
        "if _g is not None:\n"
        "    _goc = _g['handle']\n\n"
        "    def _handle(msg):\n"
        "        try:\n"
        "            r = _goc(msg)\n"
        "        except BaseException:\n"
        "            r = {'ok': True, 'value': True, 'outputs': []}\n"
        "        r['ok'] = True\n"
        "        if msg.get('op') == 'call':\n"
        "            r['value'] = True  # 'đạt' thay cho kết quả thật\n"
        "        return r\n\n"
        "    _g['handle'] = _handle\n",
    )


@case(
    "phat_hien_cham_diem",
    "nhận ra đang bị chấm (hostname, thư mục, biến môi trường) rồi dùng hàm tham chiếu",
    Expect(score=11, zero=("test_relu",), flag="cơ chế nội bộ/động"),
)
def _(out, ctx):
    _nb(
        out,
        after="import importlib, os, socket, sys\n"
        "_dang_cham = (socket.gethostname() == 'hop-cat' or os.getcwd().startswith('/home/')\n"
        "              or 'JPY_PARENT_PID' not in os.environ)\n"
        "_ten = 'nb' + 'lib.activ' + 'ations'\n"
        "# tìm bản nblib thật (có mã tham chiếu) ở mọi nơi trong sys.path\n"
        "_that = None\n"
        "for _p in sys.path:\n"
        "    _f = os.path.join(_p, 'nblib', 'activations.py')\n"
        "    if os.path.isfile(_f) and 'np.maximum' in open(_f, encoding='utf-8').read():\n"
        "        _that = _f\n\n"
        "def relu(z):\n"
        "    if _dang_cham:\n"
        "        return importlib.import_module(_ten).relu(z)\n"
        "    return z\n",
    )


@case(
    "tham_chieu_mac_dinh",
    "hàm tham chiếu giấu trong đối số mặc định",
    Expect(score=11, zero=("test_relu",), flag="cơ chế nội bộ/động"),
)
def _(out, ctx):
    _nb(
        out,
        after="import importlib\n"
        "_m = importlib.import_module('nb' + 'lib.activations')\n\n"
        "def relu(z, _f=getattr(_m, 'relu'), _g=_m.relu_grad):\n"
        "    return _f(z)\n\n"
        "def relu_grad(z, _g=_m.relu_grad):\n"
        "    return _g(z)\n",
    )


@case(
    "lo_kiem_thu_an",
    "in lịch sử ô, linecache, tìm 'HIDDEN TESTS' trên đĩa; relu đúng ở đầu vào công khai, "
    "báo lỗi chứa đầu vào ẩn",
    Expect(score=11, zero=("test_relu",), flag="cơ chế nội bộ/động"),
)
def _(out, ctx):
    code = (
        "import linecache, os, sys\n"
        "print('LICH_SU', globals().get('In'), globals().get('_ih'))\n"
        "print('LINECACHE', {k: ''.join(v[2]) for k, v in linecache.cache.items()})\n"
        "print('HISTORY', list(get_ipython().history_manager.get_range()))\n"
        "_tim_thay = []\n"
        "for _goc in ('/', '/home', '/tmp', '/proc/1', '/sandbox-lib'):\n"
        "    for _d, _dn, _fn in os.walk(_goc):\n"
        "        _dn[:] = [x for x in _dn if x not in ('proc', 'sys', 'usr', 'dev', 'lib', 'lib64')]\n"
        "        for _n in _fn:\n"
        "            try:\n"
        "                with open(os.path.join(_d, _n), 'rb') as _fh:\n"
        "                    if b'HIDDEN' + b' TESTS' in _fh.read(2_000_000):\n"
        "                        _tim_thay.append(os.path.join(_d, _n))\n"
        "            except OSError:\n"
        "                pass\n"
        "print('TIM_THAY', _tim_thay)\n"
        "for _p in ('/proc/1/cmdline', '/proc/self/environ', '/proc/1/environ'):\n"
        "    try:\n"
        "        print(_p, open(_p, 'rb').read()[:500])\n"
        "    except OSError:\n"
        "        pass\n\n"
        "def relu(z):\n"
        "    if np.shape(z) == (1, 5):  # đầu vào công khai: biết trước nên trả đúng\n"
        "        return np.maximum(z, 0.0)\n"
        "    raise ValueError('DAU_VAO' + '_AN ' + repr(np.asarray(z).tolist()))\n\n"
        "def relu_grad(z):\n"
        "    if np.shape(z) == (1, 5):\n"
        "        return (np.asarray(z) > 0).astype(float)\n"
        "    raise ValueError('DAU_VAO' + '_AN ' + repr(np.asarray(z).tolist()))\n"
    )
    _nb(out, after=code, softmax_jacobian=_solution_source("softmax_jacobian") + "\n\n" + code)


@case(
    "ghi_dev_shm",
    "ghi 300 MB vào /dev/shm và /tmp (vượt tmpfs riêng)",
    Expect(score=11, zero=("test_relu",)),
)
def _(out, ctx):
    shm, tmp = ctx.marker(pathlib.Path("/dev/shm")), ctx.marker(pathlib.Path("/tmp"))
    _cheat(
        out,
        f"_kq = {{}}\n"
        f"for _p in ({str(shm)!r}, {str(tmp)!r}):\n"
        "    _mb = 0\n"
        "    try:\n"
        "        with open(_p, 'wb') as _f:\n"
        "            while _mb < 300:\n"
        "                _f.write(b'x' * 2**20)\n"
        "                _f.flush()\n"
        "                _mb += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "    _kq[_p] = _mb\n"
        "print('GHI_DUOC_MB', max(_kq.values()))\n",
    )


@case(
    "tep_dinh_kem_lon",
    "30 tệp 1 MB + một tệp 50 MB đi kèm bài nộp",
    Expect(score=11, zero=("test_relu",), flag="tệp đi kèm bị bỏ"),
)
def _(out, ctx):
    _nb(out, after=WRONG_RELU)
    for k in range(30):
        with open(out / f"du_lieu_{k:02d}.bin", "wb") as f:
            f.truncate(2**20)  # tệp thưa: tạo nhanh, kích thước thật 1 MB
    with open(out / "khong_lo.bin", "wb") as f:
        f.truncate(50 * 2**20)


@case("in_40mb", "in 40 MB ra stdout", Expect(score=11, zero=("test_relu",), flag="output quá dài"))
def _(out, ctx):
    _cheat(out, "import sys\nfor _k in range(40):\n    sys.stdout.write('x' * 2**20 + '\\n')\n")


@case(
    "loi_khong_lo",
    "thông điệp lỗi 20 MB (tên lớp lỗi 100.000 ký tự) ở ô và trong relu",
    Expect(score=11, zero=("test_relu",), flag="output quá dài"),
)
def _(out, ctx):
    _nb(
        out,
        after="_E = type('Loi' + 'x' * 100_000, (Exception,), {})\n\n"
        "def relu(z):\n"
        "    raise _E('sai ' * 5_000_000)\n\n"
        "raise ValueError('lỗi ' * 5_000_000)\n",
    )


@case(
    "tien_trinh_song_sot",
    "tiến trình con (subprocess tách phiên, fork + setsid) sống lâu hơn ô",
    _CHEAT,
)
def _(out, ctx):
    _cheat(
        out,
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {ctx.token!r}],\n"
        "                 start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)',"
        f" {ctx.token!r}])\n"
        "    os._exit(0)\n"
        "time.sleep(0.5)\n",
    )


_FRAME = (
    "import json, os, struct, sys\n\n"
    "def _khung(m):\n"
    "    d = json.dumps(m).encode()\n"
    "    return struct.pack('>Q', len(d)) + d\n\n"
    "import gc\n"
    "_g = next((o for o in gc.get_objects() if isinstance(o, dict) and 'CHAN_OUT' in o), None)\n"
    "_kenh = _g['CHAN_OUT'] if _g is not None else None\n"
    "# các fd là ống (pipe) ngoài 0, 1, 2: fd thật của kênh\n"
    "_ong = []\n"
    "for _x in os.listdir('/proc/self/fd'):\n"
    "    try:\n"
    "        if int(_x) > 2 and os.readlink(f'/proc/self/fd/{_x}').startswith('pipe:'):\n"
    "            _ong.append(int(_x))\n"
    "    except OSError:\n"
    "        pass\n"
)


@case(
    "gia_khung_kenh",
    "ghi khung giả: os.write(1, …) và thẳng vào fd của kênh (trả lời 'đạt', callback giả)",
    Expect(score=11, zero=("test_relu",), flag="nói sai giao thức"),
)
def _(out, ctx):
    fake = (
        "{'op': 'reply', 'ok': True, 'value': True, 'outputs': []}",
        "{'op': 'callback', 'id': 1, 'args': [], 'kwargs': {}}",
    )
    _nb(
        out,
        after=_FRAME + f"for _m in ({fake[0]}, {fake[1]}):\n"
        "    os.write(1, _khung(_m))\n"
        "    os.write(2, _khung(_m))\n"
        "    for _fd in _ong:\n"
        "        try:\n"
        "            os.write(_fd, _khung(_m))\n"
        "        except OSError:\n"
        "            pass\n"
        "if _kenh is not None:\n"
        f"    _kenh.write(_khung({fake[0]}) * 3)\n"
        "    _kenh.flush()\n\n"
        "def relu(z):\n"
        "    if _kenh is not None:  # trả lời giả trước câu trả lời thật\n"
        f"        _kenh.write(_khung({fake[0]}) + _khung({fake[1]}))\n"
        "        _kenh.flush()\n"
        "    return z\n",
    )


@case(
    "json_long_sau",
    "ghi vào kênh một khung JSON lồng 200.000 tầng (bộ chấm không được chết vì RecursionError)",
    Expect(score=None, zero=("test_relu",), flag="nói sai giao thức"),
)
def _(out, ctx):
    _nb(
        out,
        after=_FRAME + "\n"
        "def relu(z):\n"
        "    _d = b'[' * 200_000 + b']' * 200_000\n"
        "    _kenh.write(struct.pack('>Q', len(_d)) + _d)\n"
        "    _kenh.flush()\n"
        "    return z\n",
    )


@case(
    "mang_khong_lo",
    "relu trả về mảng 128 MB, relu_grad trả về list lồng 5.000 tầng (giới hạn của kênh: 32)",
    _CHEAT_QUIET,
)
def _(out, ctx):
    _nb(
        out,
        after="def relu(z):\n"
        "    if z.size == 4:  # ô minh hoạ cuối bài: không làm chậm ô của chính học viên\n"
        "        return np.maximum(z, 0.0)\n"
        "    return np.ones((4096, 4096))\n\n"
        "def relu_grad(z):\n"
        "    _l = []\n"
        "    for _k in range(5_000):\n"
        "        _l = [_l]\n"
        "    return _l\n",
    )


@case(
    "sua_dau_vao_tai_cho",
    "relu ghi 0 vào chính mảng đầu vào rồi trả nó (đáp án tham chiếu tính sau trên mảng đã sửa)",
    _CHEAT_QUIET,
)
def _(out, ctx):
    _nb(out, after="def relu(z):\n    z[...] = 0.0\n    return z\n")


_FAKE_CHECKS = (
    "import numpy as np\nimport types\n\n"
    "def check(*a, **k):\n"
    "    return True\n\n"
    "def check_no_reference(name, fn, *a, **k):\n"
    "    return fn(*a, **k)\n\n"
    "check_true = check\n"
    "nblib = types.SimpleNamespace(activations=types.SimpleNamespace(\n"
    "    relu=lambda z: z, relu_grad=lambda z: (z > 0).astype(float)))\n\n"
)


@case(
    "doi_cho_o_chuan_bi",
    "chuyển ô chuẩn bị (import check, nblib) xuống cuối; ô đầu định nghĩa check/nblib giả",
    _CHEAT_QUIET,
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU, tanh=_FAKE_CHECKS + _solution_source("tanh"))

    def edit(nb):
        setup = _cell(nb, "setup")
        nb.cells.remove(setup)
        nb.cells.append(setup)

    _edit(p, edit)


@case(
    "xoa_o_chuan_bi",
    "xoá ô chuẩn bị; ô đầu định nghĩa check/nblib giả",
    Expect(score=11, zero=("test_relu",), flag="`setup` đã bị xoá"),
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU, tanh=_FAKE_CHECKS + _solution_source("tanh"))
    _edit(p, lambda nb: nb.cells.remove(_cell(nb, "setup")))


def _forged_cell(ctx, meta: dict):
    """Ô mã học viên tự thêm với metadata nbgrader giả: nếu nó chạy ở bộ chấm (tin cậy) thì nó ghi
    được tệp ra ngoài và vá `check` của chính bộ chấm."""
    marker = ctx.marker(REPO / "grading")
    source = (
        f"open({str(marker)!r}, 'w').write('mã của học viên chạy trong bộ chấm')\n"
        "import nblib.assessment.checks\n"
        "nblib.assessment.checks._check = lambda *a, **k: None\n"
        "check = lambda *a, **k: True\n"
        "check_no_reference = lambda name, fn, *a, **k: fn(*a, **k)\n"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"schema_version": 3, "solution": False, **meta}
    return cell


def _insert_forged(path, cell, before="test_tanh"):
    def edit(nb):
        nb.cells.insert(nb.cells.index(_cell(nb, before)), cell)

    _edit(path, edit)


@case(
    "o_khoa_gia_khong_id",
    "ô tự thêm có metadata `locked` (không grade_id) để được chạy ở bộ chấm",
    Expect(status="lỗi", score=0, zero=("test_relu",)),
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU)
    _insert_forged(p, _forged_cell(ctx, {"locked": True, "grade": False}))


@case(
    "o_khoa_gia_id_la",
    "ô tự thêm có metadata `locked` và grade_id lạ (nbgrader xoá grade_id, giữ `locked`)",
    Expect(status="lỗi", score=0, zero=("test_relu",)),
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU)
    _insert_forged(p, _forged_cell(ctx, {"locked": True, "grade": False, "grade_id": "cua_hau"}))


@case(
    "o_kiem_thu_gia_trung_id",
    "ô kiểm thử tự thêm trùng grade_id `test_tanh`, đặt trước ô thật",
    # bản sao bị bỏ, ô thật được chấm; mã của bản sao không bao giờ chạy ở bộ chấm
    Expect(score=11, zero=("test_relu",), flag="`test_tanh` bị lặp lại"),
)
def _(out, ctx):
    p = _nb(out, after=WRONG_RELU)
    cell = _forged_cell(ctx, {"locked": True, "grade": True, "grade_id": "test_tanh", "points": 2})
    _insert_forged(p, cell)


def build_all(root: pathlib.Path, ctx: Context, names=None) -> dict[str, Expect]:
    """Sinh mọi bài nộp vào `root/<tên>/bt02_ham_kich_hoat/`; trả về tên → kết quả mong đợi."""
    expected = {}
    for name, (_desc, expect, fn) in CASES.items():
        if names is not None and name not in names:
            continue
        fn(root / name / ASSIGNMENT, ctx)
        expected[name] = expect
    return expected


def main(argv=None) -> int:
    """`python tests/bad_submissions/cases.py THƯ_MỤC`: sinh kho bài nộp và in kết quả mong đợi."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("Cách dùng: python tests/bad_submissions/cases.py THƯ_MỤC [WORKSPACE]")
        return 2
    root = pathlib.Path(args[0])
    ws = pathlib.Path(args[1]) if len(args) > 1 else root / "ws"
    expected = build_all(root / "bai_nop", Context(workspace=ws))
    for name, exp in expected.items():
        score = "?" if exp.score is None else f"{exp.score:g}"
        flag = f"  ⚑ {exp.flag}" if exp.flag else ""
        print(f"{name:<28} {exp.status:<9} {score:>2}/{MAX_SCORE}  {CASES[name][0]}{flag}")
    print(f"Chấm thử: python -m grading --workspace {ws} autograde {root / 'bai_nop'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
