"""Nội dung bài tập: các phát biểu trong đề khớp với số máy tính ra, một quy tắc kiểm tra gradient,
câu hỏi có đúng một đáp án, luật "không vòng lặp" của bt02 được chấm thật.

Không chạy cả bộ chấm: notebook lời giải được đọc bằng nbformat, các ô cần thiết chạy trong tiến
trình kiểm thử, còn luật vòng lặp được kiểm bằng phán quyết thật (hộp cát) của `grading`.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from conftest import ROOT as REPO

from nblib import gradcheck, init

SOLUTIONS = REPO / "solutions"


def _nb(assignment: str):
    return nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _judged_errors(nb):
    """Chấm ``nb`` bằng bộ chấm thật (hộp cát, hàm tham chiếu bị ẩn); grade_id → các output lỗi."""
    from grading.judge import Judge
    from grading.sandbox import library
    from grading.sandbox.limits import SandboxLimits

    lib = library.build(nb.metadata["grading"]["withheld"])
    judged, _flags = Judge(lib, [], SandboxLimits(cell_timeout=20, notebook_timeout=120)).run(nb)
    return {
        c.metadata["nbgrader"]["grade_id"]: [o for o in c.outputs if o.output_type == "error"]
        for c in judged.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


# ---------------------------------------------------------------------------
# một quy tắc kiểm tra gradient
# ---------------------------------------------------------------------------


def test_gradcheck_rule_has_three_verdicts_at_the_stated_thresholds():
    assert (gradcheck.GOOD_REL_ERROR, gradcheck.BAD_REL_ERROR) == (1e-7, 1e-4)
    assert gradcheck.verdict(0.0) == "tốt"
    assert gradcheck.verdict(9.9e-8) == "tốt"
    assert gradcheck.verdict(1e-7) == "cần xem lại"
    assert gradcheck.verdict(1e-5) == "cần xem lại"
    assert gradcheck.verdict(1e-4) == "cần xem lại"
    assert gradcheck.verdict(1.01e-4) == "có lỗi"
    assert gradcheck.verdict(float("nan")) == "có lỗi"
    doc = gradcheck.__doc__
    assert "1e-7" in doc and "1e-4" in doc and "verdict" in doc


def _thresholds_in(text: str) -> set[str]:
    return set(re.findall(r"10\^\{(-\d+)\}", text))


def test_lecture_03_states_the_rule_once_and_uses_the_constants():
    nb = nbformat.read(REPO / "lectures" / "03_lan_truyen_nguoc.ipynb", as_version=4)
    rule_cells = [
        c for c in nb.cells if c.cell_type == "markdown" and "Quy tắc đọc sai số" in c.source
    ]
    assert len(rule_cells) == 1
    assert {"-7", "-4"} <= _thresholds_in(rule_cells[0].source)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    # mọi ngưỡng trong mã lấy từ nblib.gradcheck, không viết lại số
    assert "GOOD_REL_ERROR" in code and "BAD_REL_ERROR" in code and "verdict(" in code
    assert not re.search(r"[<>]\s*1e-[347]\b", code)
    assert "(1e-7," not in code and "axhline(1e-" not in code


def test_bt03_uses_the_same_rule():
    nb = _nb("bt03_lan_truyen_nguoc")
    text = _markdown(nb)
    assert "quy tắc của Bài 03" in text
    verdict_lines = [ln for ln in text.splitlines() if "xem lại" in ln or "có lỗi" in ln]
    assert verdict_lines
    for line in verdict_lines:  # quy tắc cũ "10⁻⁵ cần xem lại, trên 10⁻³ có lỗi"
        assert not _thresholds_in(line) - {"-7", "-4"}, line
    test = _cell(nb, "test_gradient_check").source
    assert "GOOD_REL_ERROR" in test and "BAD_REL_ERROR" in test
    assert not re.search(r"[<>]\s*1e-\d", test)


def test_bt06_states_no_other_threshold():
    text = _markdown(_nb("bt06_batch_norm"))
    for line in text.splitlines():
        if "sai số tương đối" in line and re.search(r"10\^\{-\d+\}", line):
            assert _thresholds_in(line) <= {"-7", "-4", "-8"}, line


# ---------------------------------------------------------------------------
# bt01: σ(4,1)
# ---------------------------------------------------------------------------


def test_bt01_sigmoid_example_matches_printed_value_and_lecture_01():
    nb = _nb("bt01_lan_truyen_thuan")
    text = _markdown(nb)
    a = 1 / (1 + np.exp(-4.1))
    rounded = f"{a:.3f}".replace(".", "{,}")
    truncated = f"{np.floor(a * 1000) / 1000:.3f}".replace(".", "{,}")
    assert (rounded, truncated) == ("0{,}984", "0{,}983")
    assert "\\approx 0{,}983" not in text and "khoảng $0{,}983$" not in text
    assert f"làm tròn đến ba chữ số là ${rounded}$" in text
    assert "cắt bớt" in text  # cùng giải thích với bài 01
    lecture = nbformat.read(
        REPO / "lectures" / "01_mang_no_ron_lan_truyen_thuan.ipynb", as_version=4
    )
    assert "cắt bớt" in "\n".join(c.source for c in lecture.cells)


# ---------------------------------------------------------------------------
# bt05 bài 4b: đúng một đáp án cho mỗi câu
# ---------------------------------------------------------------------------

CHOICES = ("zeros", "0.01", "1.0", "xavier", "he")


def _arg(name):
    return name if name in ("zeros", "xavier", "he") else float(name)


@pytest.fixture(scope="module")
def bt05_runs():
    return {
        (c, act): init.activation_stats(_arg(c), act, seed=0)
        for c in CHOICES
        for act in ("tanh", "relu")
    }


def test_bt05_4b_each_question_has_exactly_one_right_answer(bt05_runs):
    saturating = [
        c for c in CHOICES if np.mean(np.abs(bt05_runs[c, "tanh"]["activations"][-1]) > 0.99) > 0.5
    ]
    stable = []
    for c in CHOICES:
        s = bt05_runs[c, "relu"]["std"]
        if s[0] > 0 and 0.5 <= s[-1] / s[0] <= 2.0:
            stable.append(c)
    assert saturating == ["1.0"]
    assert stable == ["he"]
    nb = _nb("bt05_khoi_tao")
    answer = _cell(nb, "best_init").source
    assert 'saturating_init_tanh = "1.0"' in answer and 'best_init_relu = "he"' in answer


def _run_public_test(nb, answers: dict) -> str | None:
    """Chạy phần công khai của test_best_init với đáp án cho trước; trả về thông điệp lỗi (None: đạt)."""
    from grading.judge import split_hidden

    public, _hidden = split_hidden(_cell(nb, "test_best_init").source)
    import nblib
    from nblib.assessment.checks import check, check_true

    ns = {"np": np, "nblib": nblib, "check": check, "check_true": check_true, **answers}
    try:
        exec(compile(public, "test_best_init", "exec"), ns)
    except AssertionError as e:
        return str(e)
    return None


@pytest.mark.parametrize("wrong", [c for c in CHOICES if c != "1.0"])
def test_bt05_public_test_explains_a_wrong_tanh_answer(wrong, capsys):
    msg = _run_public_test(
        _nb("bt05_khoi_tao"), {"saturating_init_tanh": wrong, "best_init_relu": "he"}
    )
    assert msg is not None and "bão hoà" in msg and "cần hơn 50%" in msg


@pytest.mark.parametrize(
    "wrong, why",
    [("zeros", "bằng 0"), ("0.01", "tắt dần"), ("1.0", "bùng nổ"), ("xavier", "tắt dần")],
)
def test_bt05_public_test_explains_a_wrong_relu_answer(wrong, why, capsys):
    msg = _run_public_test(
        _nb("bt05_khoi_tao"), {"saturating_init_tanh": "1.0", "best_init_relu": wrong}
    )
    assert msg is not None and why in msg


def test_bt05_public_test_passes_the_right_answers(capsys):
    answers = {"saturating_init_tanh": "1.0", "best_init_relu": "he"}
    assert _run_public_test(_nb("bt05_khoi_tao"), answers) is None


# ---------------------------------------------------------------------------
# bt02: luật "không vòng lặp" được chấm thật
# ---------------------------------------------------------------------------

B2 = "bt02_ham_kich_hoat"
BT02_FUNCTIONS = {
    "test_tanh": ["tanh", "tanh_grad"],
    "test_relu": ["relu", "relu_grad"],
    "test_leaky_relu": ["leaky_relu", "leaky_relu_grad"],
    "test_elu": ["elu", "elu_grad"],
    "test_softmax": ["softmax"],
    "test_softmax_jacobian": ["softmax_jacobian"],
}


def test_bt02_every_test_cell_checks_no_loops_in_its_hidden_part():
    from grading.judge import split_hidden

    nb = _nb(B2)
    for gid, fns in BT02_FUNCTIONS.items():
        public, hidden = split_hidden(_cell(nb, gid).source)
        assert "check_no_loops" not in public
        assert "from nblib.assessment.checks import check_no_loops" in hidden
        for fn in fns:
            assert f'check_no_loops("{fn} ' in hidden and f", {fn})" in hidden, (gid, fn)
    assert "Không dùng vòng lặp" in nb.cells[0].source


def test_check_no_loops_message_is_vietnamese():
    from nblib.assessment.checks import check_no_loops

    def relu(z):
        return np.array([max(x, 0.0) for x in z])

    with pytest.raises(AssertionError, match="vector hoá"):
        check_no_loops("relu", relu)


@pytest.mark.slow
def test_bt02_loop_submission_loses_only_that_part():
    from grading.config import REPO_ROOT

    nb = nbformat.read(REPO_ROOT / "solutions" / B2 / f"{B2}.ipynb", as_version=4)
    loop_relu = """
import numpy as np


def relu(z):
    out = np.array(z, dtype=float)
    for i in np.ndindex(out.shape):
        out[i] = max(out[i], 0.0)
    return out


def relu_grad(z):
    return (z > 0).astype(float)
"""
    _cell(nb, "relu").source = loop_relu
    errors = _judged_errors(nb)
    assert errors["test_relu"], "relu có vòng lặp mà vẫn đạt"
    assert all(not errors[g] for g in BT02_FUNCTIONS if g != "test_relu"), errors


# ---------------------------------------------------------------------------
# bt06: lan truyền ngược tự suy ra trên đồ thị tính toán
# ---------------------------------------------------------------------------

B6 = "bt06_batch_norm"
BT06_NODES = [  # (ô trả lời, ô kiểm thử), đi ngược từ nút 6 về nút 1
    "scale_shift_backward",
    "divide_backward",
    "sqrt_backward",
    "mean_square_backward",
    "subtract_mean_backward",
    "mean_backward",
]
BT06_ANSWERS = [*BT06_NODES, "batchnorm_backward_graph", "dvar_from_z_hat", "dmu_from_z_hat"]
COMPACT = r"m\, d\hat z - \sum_{j=1}^{m} d\hat z^{(j)}"


def _bt06_namespace(replace: dict[str, tuple[str, str]] | None = None) -> dict:
    """Không gian tên như sau khi chạy notebook lời giải: ô chuẩn bị, ô khoá, các ô trả lời."""
    import nblib
    from nblib.assessment.checks import check, check_no_reference, check_true

    nb = _nb(B6)
    ns = {"np": np, "nblib": nblib, "check": check, "check_true": check_true}
    ns["check_no_reference"] = check_no_reference
    for c in nb.cells:
        m = c.metadata.get("nbgrader", {})
        if c.cell_type != "code" or m.get("grade") or m.get("grade_id") == "setup":
            continue
        source = c.source
        if m.get("grade_id") in (replace or {}):
            old, new = replace[m["grade_id"]]
            assert old in source
            source = source.replace(old, new)
        exec(compile(source, m.get("grade_id", "ô"), "exec"), ns)
    return ns


def _bt06_public(grade_id: str, ns: dict) -> str | None:
    from grading.judge import split_hidden

    public, _hidden = split_hidden(_cell(_nb(B6), grade_id).source)
    try:
        exec(compile(public, grade_id, "exec"), dict(ns))
    except AssertionError as e:
        return str(e)
    return None


def test_bt06_scaffold_is_locked_and_matches_the_reference_forward():
    from nblib import layers

    nb = _nb(B6)
    meta = _cell(nb, "batchnorm_nodes").metadata["nbgrader"]
    assert meta["locked"] and not meta["solution"] and not meta["grade"]
    ns = _bt06_namespace()
    rng = np.random.default_rng(0)
    Z, g, b = 2 + 3 * rng.standard_normal((4, 9)), rng.standard_normal((4, 1)), rng.random((4, 1))
    nodes = ns["batchnorm_nodes"](Z, g, b, eps=1e-3)
    out, (z_hat, _g, inv_std) = layers.batchnorm_forward(Z, g, b, {}, train=True, eps=1e-3)
    np.testing.assert_allclose(nodes["out"], out)
    np.testing.assert_allclose(nodes["z_hat"], z_hat)
    np.testing.assert_allclose(nodes["std"], 1 / inv_std)
    assert set(nodes) == {"Z", "mu", "zc", "var", "std", "z_hat", "gamma", "out"}


def test_bt06_every_backward_node_is_an_answer_checked_numerically():
    from grading.judge import split_hidden

    nb = _nb(B6)
    for gid in BT06_ANSWERS + ["batchnorm_backward"]:
        assert _cell(nb, gid).metadata["nbgrader"]["solution"], gid
        public, hidden = split_hidden(_cell(nb, f"test_{gid}").source)
        assert "numeric_node_gradient(" in public, gid  # sai phân trung tâm, thấy được
        assert f'check_no_reference("{gid}", {gid},' in hidden, gid
    # chuỗi ghép thật sự đi qua sáu nút của học viên
    chain = _cell(nb, "batchnorm_backward_graph").source
    assert all(f"{name}(" in chain for name in BT06_NODES)


def test_bt06_compact_formula_is_derived_not_given():
    """Công thức gọn của dZ chỉ xuất hiện SAU ô kiểm thử của batchnorm_backward."""
    nb = _nb(B6)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    after = ids.index("test_batchnorm_backward")
    where = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and COMPACT in c.source]
    assert where and min(where) > after
    before = "\n".join(c.source for c in nb.cells[:after] if c.cell_type == "markdown")
    assert r"\sum_{i=1}^{m} d\hat{z}^{(i)}" not in before and "m\\, d\\hat" not in before
    exercise = nbformat.read(REPO / "exercises" / B6 / f"{B6}.ipynb", as_version=4)
    for gid in ["batchnorm_backward", *BT06_ANSWERS]:
        assert "raise NotImplementedError()" in _cell(exercise, gid).source, gid


def test_bt06_solution_passes_every_public_test():
    ns = _bt06_namespace()
    for gid in ["batchnorm_backward", *BT06_ANSWERS]:
        assert _bt06_public(f"test_{gid}", ns) is None, gid


@pytest.mark.parametrize(
    "drop, why",
    [
        ('    dzc = dzc + mean_square_backward(dvar, nodes["zc"])\n', "nhánh qua nút 3"),
        ("    dZ = dZ + mean_backward(dmu, dout.shape[1])\n", "nhánh qua nút 1"),
    ],
)
def test_bt06_public_test_names_the_forgotten_branch(drop, why, capsys):
    ns = _bt06_namespace({"batchnorm_backward_graph": (drop, "")})
    msg = _bt06_public("test_batchnorm_backward_graph", ns)
    assert msg is not None and why in msg and "cộng lại" in msg


@pytest.mark.parametrize(
    "gid, old, new, why",
    [
        (
            "scale_shift_backward",
            "(dout * z_hat).sum(axis=1, keepdims=True)",
            "dout * z_hat",
            "tổng",
        ),
        ("divide_backward", "(dz_hat * zc).sum(axis=1, keepdims=True)", "(dz_hat * zc)", "tổng"),
        ("mean_backward", "np.repeat(dmu / m, m, axis=1)", "dmu / m", "(3, 5)"),
        ("sqrt_backward", "dstd / (2.0 * std)", "dstd / std", "gấp 2 lần"),
    ],
)
def test_bt06_public_node_tests_explain_common_mistakes(gid, old, new, why, capsys):
    msg = _bt06_public(f"test_{gid}", _bt06_namespace({gid: (old, new)}))
    assert msg is not None and why in msg


def test_bt06_second_sum_vanishes_only_without_eps():
    """Đề nói Σ dZ ⊙ ẑ = 0 khi ε = 0, và với ε > 0 bằng ε/(σ² + ε) · (1/s) Σ dẑ ⊙ ẑ."""
    from nblib import layers

    rng = np.random.default_rng(3)
    Z, g, b = rng.standard_normal((3, 6)), rng.standard_normal((3, 1)), rng.standard_normal((3, 1))
    dout = rng.standard_normal((3, 6))
    for eps in (0.0, 0.1):
        _, cache = layers.batchnorm_forward(Z, g, b, {}, train=True, eps=eps)
        dZ = layers.batchnorm_backward(dout, cache)[0]
        z_hat, var = cache[0], Z.var(axis=1, keepdims=True)
        s = np.sqrt(var + eps)
        stated = eps / (var + eps) / s * np.sum(dout * g * z_hat, axis=1, keepdims=True)
        np.testing.assert_allclose(np.sum(dZ * z_hat, axis=1, keepdims=True), stated, atol=1e-12)
        np.testing.assert_allclose(np.sum(dZ, axis=1), 0, atol=1e-12)
    text = _markdown(_nb(B6))
    assert r"\frac{\varepsilon}{\sigma_B^2 + \varepsilon}" in text


@pytest.mark.slow
def test_bt06_node_computed_numerically_loses_only_that_node():
    """Một nút "giải" bằng numeric_node_gradient của ô khoá (nblib.gradcheck bị ẩn trong hộp cát) không
    được điểm; các nút khác vẫn đạt."""
    from grading.config import REPO_ROOT

    nb = nbformat.read(REPO_ROOT / "solutions" / B6 / f"{B6}.ipynb", as_version=4)
    _cell(nb, "mean_backward").source = """
def mean_backward(dmu, m):
    Z = np.zeros((dmu.shape[0], m))
    node = lambda Z: Z.mean(axis=1, keepdims=True)
    return numeric_node_gradient(node, {"Z": Z}, "Z", dmu)
"""
    assert "nblib.gradcheck" in nb.metadata["grading"]["withheld"]
    errors = _judged_errors(nb)
    assert errors["test_mean_backward"], "nút tính bằng gradient số mà vẫn đạt"
    passing = [
        g for g in errors if g not in ("test_mean_backward", "test_batchnorm_backward_graph")
    ]
    assert all(not errors[g] for g in passing), {g: errors[g] for g in passing if errors[g]}


def test_homework_intros_show_the_symbols_the_checks_print():
    """Đề nói ✓/✗ đúng như `check` in ra (không phải ✅/❌ của `grading validate`)."""
    from nblib.assessment import checks

    for path in sorted(SOLUTIONS.glob("bt*/bt*.ipynb")):
        text = _markdown(nbformat.read(path, as_version=4))
        assert "✅" not in text and "❌" not in text, path.name
        if "là đúng" in text:
            assert f"{checks.OK} là đúng, {checks.FAIL} kèm giải thích" in text, path.name
