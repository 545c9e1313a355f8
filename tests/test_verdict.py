"""Kiểm thử phần phán quyết của bộ chấm: kênh dữ liệu thuần, luật tĩnh, hàm tham chiếu bị ẩn, và
phán quyết một notebook (hộp cát thật) — nhanh, không qua nbgrader."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from grading import channel, rules
from grading.config import REPO_ROOT, load_config
from grading.judge import HIDDEN_FAILED, Judge, split_hidden
from grading.sandbox import library
from grading.sandbox.limits import SandboxLimits
from grading.sandbox.session import RemoteError, RemoteObject, Session

ASSIGNMENTS = load_config().assignments()


# ---------------------------------------------------------------------------
# kênh
# ---------------------------------------------------------------------------


def _roundtrip(value):
    return channel.decode(json.loads(json.dumps(channel.encode(value), allow_nan=False)))


def test_channel_roundtrip_plain_values():
    rng = np.random.default_rng(5)
    value = {
        "a": np.arange(6.0).reshape(2, 3),
        "b": (1, 2.5, float("nan"), float("inf"), 2**70, 1 + 2j, None, True, "chữ"),
        "c": [np.float32(1.5), np.int64(3), np.array([True, False])],
        3: "khoá số",
    }
    got = _roundtrip(value)
    assert np.array_equal(got["a"], value["a"]) and got["a"].dtype == np.float64
    assert got["b"][0:2] == (1, 2.5) and np.isnan(got["b"][2]) and got["b"][3] == float("inf")
    assert got["b"][4] == 2**70 and got["b"][5] == 1 + 2j and got["b"][6:] == (None, True, "chữ")
    assert type(got["c"][0]) is np.float32 and got["c"][1] == 3
    assert got[3] == "khoá số"
    g2 = _roundtrip(rng)
    assert g2.standard_normal() == rng.standard_normal()


def test_channel_subclass_arrives_as_plain_ndarray():
    class Lies(np.ndarray):
        def __eq__(self, other):
            return True

        def __array_function__(self, func, types, args, kwargs):
            return True

    evil = np.zeros(3).view(Lies)
    got = _roundtrip(evil)
    assert type(got) is np.ndarray
    assert not np.allclose(got, np.ones(3))


@pytest.mark.parametrize(
    "bad",
    [
        {"__nd__": "object", "shape": [1], "b64": ""},
        {"__nd__": "float64", "shape": [2], "b64": "AAAA"},  # sai kích thước
        {"__nd__": "float64", "shape": [-1], "b64": ""},
        {"__pickle__": "gASV"},
        {"__ref__": "handle", "id": 1, "callable": True, "type": "x"},  # không có resolve
        {"__int__": "9" * 1000},
    ],
)
def test_channel_rejects_non_data(bad):
    with pytest.raises(channel.ChannelError):
        channel.decode(bad)


def test_channel_depth_and_size_limits():
    deep = []
    cur = deep
    for _ in range(channel.MAX_DEPTH + 5):
        cur.append([])
        cur = cur[0]
    with pytest.raises(channel.ChannelError):
        channel.decode(deep)
    with pytest.raises(channel.ChannelError):
        channel.encode(object())


# ---------------------------------------------------------------------------
# luật tĩnh trên mã nguồn
# ---------------------------------------------------------------------------

SRC_ALIAS = "from nblib.activations import relu as r\n\ndef relu(z):\n    return r(z)\n"
SRC_DEFAULT = "import nblib\n\ndef relu(z, f=nblib.activations.relu):\n    return f(z)\n"
SRC_HELPER = (
    "import nblib.activations as A\n\ndef _h(z):\n    return A.relu(z)\n\n"
    "def relu(z):\n    return _h(z)\n"
)
SRC_STRING = "import importlib\n\ndef relu(z):\n    return getattr(importlib.import_module('nblib.activations'), 'relu')(z)\n"
SRC_OK = "import numpy as np\n\ndef relu(z):\n    return np.maximum(z, 0.0)\n"


@pytest.mark.parametrize("src", [SRC_ALIAS, SRC_DEFAULT, SRC_HELPER, SRC_STRING])
def test_no_reference_rule_catches_aliases(src):
    assert rules.StudentCode([src]).no_reference("relu")


def test_no_reference_rule_accepts_own_code_and_flags_dynamic():
    assert rules.StudentCode([SRC_OK]).no_reference("relu") is None
    assert "không tìm thấy" in rules.StudentCode(["relu = eval('lambda z: z')"]).no_reference(
        "relu"
    )
    assert "importlib" in rules.StudentCode([SRC_STRING]).suspicious()
    assert rules.StudentCode([SRC_OK]).suspicious() == []


@pytest.mark.parametrize(
    "body, loop",
    [
        ("return np.array([max(x, 0) for x in z])", True),
        ("out = z.copy()\n    for i in range(len(z)):\n        out[i] = 0\n    return out", True),
        ("return np.vectorize(lambda x: x)(z)", True),
        ("return np.maximum(z, 0)", False),
    ],
)
def test_no_loops_rule(body, loop):
    code = rules.StudentCode([f"import numpy as np\n\ndef relu(z):\n    {body}\n"])
    assert bool(code.no_loops("relu")) is loop


def test_similarity_flags_copied_reference_only():
    import inspect

    import nblib.activations

    copied = inspect.getsource(nblib.activations.softmax)
    refs = rules.reference_tokens(["nblib.activations"])
    assert rules.similar_to_reference(rules.StudentCode([copied]), refs)
    own = (
        "def softmax(Z):\n    E = np.exp(Z - np.max(Z, axis=0, keepdims=True))\n"
        "    return E / np.sum(E, axis=0, keepdims=True)\n"
    )
    assert rules.similar_to_reference(rules.StudentCode([own]), refs) == []


# ---------------------------------------------------------------------------
# hàm tham chiếu bị ẩn trong hộp cát
# ---------------------------------------------------------------------------


def _withheld(a):
    nb = nbformat.read(REPO_ROOT / "solutions" / a / f"{a}.ipynb", as_version=4)
    return nb.metadata.get("grading", {}).get("withheld")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_declares_existing_withheld_references(assignment):
    import importlib

    withheld = _withheld(assignment)
    assert withheld, f"{assignment}: thiếu metadata grading.withheld"
    for item in withheld:
        parts = item.split(".")
        mod = importlib.import_module(".".join(parts[:2]))
        if len(parts) == 3:
            assert callable(getattr(mod, parts[2])), item


def test_withheld_source_is_not_in_the_sandbox_library(tmp_path):
    lib = library.build(["nblib.activations.relu", "nblib.layers"], tmp_path)
    act = (lib / "nblib" / "activations.py").read_text(encoding="utf-8")
    assert "np.maximum" not in act.split("def relu(")[1].split("def ")[0]
    assert "def sigmoid(" in act  # phần còn lại giữ nguyên
    layers = (lib / "nblib" / "layers.py").read_text(encoding="utf-8")
    assert layers.count("là hàm tham chiếu") >= 3


@pytest.mark.slow
def test_withheld_function_raises_inside_the_sandbox(tmp_path):
    lib = library.build(["nblib.activations.relu"], tmp_path)
    with Session(lib, [], SandboxLimits(cell_timeout=30)) as s:
        outs = s.run(
            "import numpy as np, nblib.activations as A\n"
            "x = float(A.sigmoid(np.zeros(2))[0])\ny = A.relu(np.ones(2))"
        )
        assert outs[-1]["output_type"] == "error" and "hàm tham chiếu" in outs[-1]["evalue"]
        assert s.get("x") == 0.5
        with pytest.raises(RemoteError):
            s.get("y")


# ---------------------------------------------------------------------------
# phán quyết một notebook (hộp cát thật, không nbgrader)
# ---------------------------------------------------------------------------

B2 = "bt02_ham_kich_hoat"


def _judge(student_sources: dict[str, str]):
    """bt02 với các ô trả lời thay bằng `student_sources` (grade_id → mã); ô kiểm thử là bản gốc."""
    nb = nbformat.read(REPO_ROOT / "solutions" / B2 / f"{B2}.ipynb", as_version=4)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in student_sources:
            c.source = student_sources[gid]
    lib = library.build(_withheld(B2))
    nb, flags = Judge(lib, [], SandboxLimits(cell_timeout=20, notebook_timeout=120)).run(nb)
    verdict = {}
    for c in nb.cells:
        m = c.metadata.get("nbgrader", {})
        if m.get("grade"):
            verdict[m["grade_id"]] = [o for o in c.outputs if o.output_type == "error"]
    return nb, verdict, flags


@pytest.mark.slow
def test_judge_wrong_relu_fails_even_when_it_patches_everything():
    cheat = """
import numpy as np, builtins, nblib.assessment.checks
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.array(True)
nblib.assessment.checks.check = lambda *a, **k: True
builtins.AssertionError = type("Khong", (Exception,), {})
def relu(z):
    return z
def relu_grad(z):
    return np.ones_like(z)
"""
    nb, verdict, flags = _judge({"relu": cheat})
    assert verdict["test_relu"], "relu sai mà vẫn đạt"
    assert verdict["test_tanh"] == []  # các ô khác không bị ảnh hưởng
    assert any("nội bộ/động" in f for f in flags), flags


@pytest.mark.slow
def test_judge_hidden_failure_reveals_nothing():
    # đúng trên đầu vào công khai (z có đúng 5 phần tử), sai trên mọi đầu vào khác
    sneaky = """
import numpy as np
def relu(z):
    if z.size == 5:
        return np.maximum(z, 0.0)
    return z
def relu_grad(z):
    return (z > 0).astype(float)
"""
    nb, verdict, flags = _judge({"relu": sneaky})
    errs = verdict["test_relu"]
    assert errs and errs[0].ename == HIDDEN_FAILED
    text = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    _public, hidden = split_hidden(
        next(
            c.source
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == "test_relu"
        )
    )
    for line in hidden.splitlines():
        if line.strip() and len(line.strip()) > 12:
            assert line.strip() not in text
    assert "1202" not in text  # hạt giống của phần ẩn


@pytest.mark.slow
def test_remote_object_has_no_protocols(tmp_path):
    with Session(library.build([]), [], SandboxLimits(cell_timeout=30)) as s:
        s.run("class M:\n    k = 3\n    def f(self, x):\n        return x * 2\nm = M()")
        m = s.get("m")
        assert isinstance(m, RemoteObject)
        assert m.k == 3 and np.array_equal(m.f(np.arange(3)), np.arange(3) * 2)
        assert not hasattr(m, "__array__")
        with pytest.raises(TypeError):
            m()


def test_grading_package_has_no_import_cycle():
    """Mỗi module của `grading` chỉ nhập các module "thấp hơn" (đồ thị nhập không có chu trình)."""
    import ast

    root = REPO_ROOT / "grading"
    names = {".".join(p.relative_to(REPO_ROOT).with_suffix("").parts) for p in root.rglob("*.py")}
    graph = {}
    for p in root.rglob("*.py"):
        mod = ".".join(p.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        deps = set()
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("grading"):
                deps.add(n.module)
                deps |= {f"{n.module}.{a.name}" for a in n.names} & names
            elif isinstance(n, ast.Import):
                deps |= {a.name for a in n.names if a.name.startswith("grading.")}
        graph[mod] = {d.removesuffix(".__init__") for d in deps} - {mod, "grading"}

    def visit(node, path):
        for dep in graph.get(node, ()):
            assert dep not in path, "chu trình nhập: " + " → ".join([*path, dep])
            visit(dep, [*path, dep])

    for mod in graph:
        visit(mod, [mod])
    assert "grading.judge" in graph and "grading.sandbox.session" in graph["grading.judge"]


@pytest.mark.slow
def test_sandbox_works_with_symlinked_venv_under_tmp(tmp_path):
    """`.venv` là symlink, và nằm dưới /tmp (như một bản clone của CI): hộp cát vẫn chạy được."""
    import subprocess
    import sys

    link = tmp_path / "venv-link"
    link.symlink_to(sys.prefix, target_is_directory=True)
    code = "from grading.sandbox.selftest import self_test; print(repr(self_test()))"
    res = subprocess.run(
        [str(link / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert res.stdout.strip() == "''", res.stdout + res.stderr
