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
    Expect(score=11, zero=("test_relu",), flag="đã bị ngắt"),
)
def _(out, ctx):
    _nb(out, before="while True:\n    pass\n")


@case("sys_exit", "sys.exit() trong ô relu", Expect(score=11, zero=("test_relu",), flag="sys.exit"))
def _(out, ctx):
    _nb(out, before="import sys\nsys.exit(3)\n")


@case(
    "os_exit",
    "os._exit() trong ô elu: kernel dừng, các ô sau không chạy",
    Expect(score=6, zero=("test_elu", "test_softmax", "test_softmax_jacobian"), flag="kernel dừng"),
)
def _(out, ctx):
    _nb(out, elu="import os\nos._exit(0)\n" + _solution_source("elu"))


@case(
    "segfault",
    "segfault bằng ctypes trong ô softmax",
    Expect(score=8, zero=("test_softmax", "test_softmax_jacobian"), flag="kernel dừng"),
)
def _(out, ctx):
    _nb(out, softmax="import ctypes\nctypes.string_at(0)\n" + _solution_source("softmax"))


@case(
    "bom_bo_nho",
    "xin 8 GiB bộ nhớ (vượt giới hạn 2 GiB → MemoryError)",
    Expect(score=11, zero=("test_relu",), flag="vượt giới hạn bộ nhớ"),
)
def _(out, ctx):
    _nb(out, before="_khoi = bytearray(8 * 1024**3)\n")


@case(
    "bom_tien_trinh",
    "fork bomb: sinh tiến trình tới khi bị chặn bởi giới hạn số tiến trình",
    Expect(score=None, zero=("test_relu",), flag="vượt giới hạn số tiến trình"),
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
    Expect(score=11, zero=("test_relu",), flag="gọi mạng"),
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
    Expect(score=11, zero=("test_relu",), flag="input()"),
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
    Expect(score=11, zero=("test_relu",), flag="numpy."),
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
    "monkeypatch nblib.checks.check và tên `check` trong notebook + relu sai",
    Expect(score=11, zero=("test_relu",), flag="check"),
)
def _(out, ctx):
    _nb(
        out,
        after="import nblib.checks\n"
        "nblib.checks.check = lambda *a, **k: None\n"
        "check = lambda *a, **k: None\n" + WRONG_RELU,
    )


@case(
    "bien_doi_dau_vao",
    "bộ biến đổi đầu vào IPython xoá trắng mọi ô sau nó + relu sai",
    Expect(score=11, zero=("test_relu",), flag="biến đổi mã"),
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
