"""Kiểm thử bài 03 (lan truyền ngược): bài tập đạo hàm, công thức δ, bảng XOR, kiểm tra gradient và hai demo."""

import unicodedata
from datetime import datetime

import nbformat
import numpy as np
import pytest
from conftest import ROOT, all_output_text, error_outputs, run_notebook

NB = "lectures/03_lan_truyen_nguoc.ipynb"

# Ô bổ sung dùng chung (giống test_lecture_01.py): chụp dữ liệu các đối tượng vẽ, gọi demo.update(...)
# với cảnh báo bị biến thành lỗi, ghi lại hình có đổi không, lỗi, cảnh báo và dòng trạng thái.
DEMO_HELPER = """
import warnings as _warnings
import numpy as _np


def _artist_data(fig):
    data = []
    for ax in fig.axes:
        for ln in ax.lines:
            data.append(_np.asarray(ln.get_xydata(), dtype=float))
        for im in ax.images:
            data.append(_np.asarray(im.get_array(), dtype=float))
        for coll in ax.collections:
            data.append(_np.asarray(coll.get_offsets(), dtype=float))
        for p in ax.patches:
            data.append(_np.asarray(p.get_verts(), dtype=float))
        for t in ax.texts:
            data.append(t.get_text())
    return data


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.shape == b.shape and bool(_np.array_equal(a, b, equal_nan=True))


def _check_demo(d, **values):
    fig_id = id(d.fig)
    counts = [len(ax.get_children()) for ax in d.fig.axes]
    before = _artist_data(d.fig)
    redraws = d.redraws
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("error")
        d.update(**values)
    after = _artist_data(d.fig)
    return {
        "changed": len(before) != len(after) or not all(_same(a, b) for a, b in zip(before, after)),
        "same_figure": id(d.fig) == fig_id,
        "same_artist_count": counts == [len(ax.get_children()) for ax in d.fig.axes],
        "redraws": d.redraws - redraws,
        "last_error": None if d.last_error is None else repr(d.last_error),
        "status": d.status.value,
        "warnings": [str(w.message) for w in caught],
    }
"""

EXTRA = (
    """
__test_results__["drill_errors"] = drill_errors
__test_results__["delta_rule_errors"] = delta_rule_errors
__test_results__["scratch_vs_nblib"] = scratch_vs_nblib
__test_results__["costs"] = [cost_scratch, cost_layers, cost_mlp]
__test_results__["xor_table"] = xor_table
__test_results__["xor_epochs"] = xor_result["epochs"]
__test_results__["gradcheck_ok"] = gradcheck_ok
__test_results__["mlp_errors"] = mlp_errors
__test_results__["gradcheck_bugs"] = gradcheck_bugs
__test_results__["best_h"] = best_h
__test_results__["h_curve"] = h_curve
""",
    DEMO_HELPER,
    """
__test_results__["demo"] = _check_demo(demo, alpha=2.0, n_hidden=3, seed=1)
__test_results__["demo_stuck"] = _check_demo(demo, alpha=2.0, n_hidden=2, seed=1)
__test_results__["demo_gradcheck"] = _check_demo(demo_gradcheck, version="tanh", h=1e-4)
__test_results__["demo_gradcheck_ok"] = _check_demo(demo_gradcheck, version="đúng", h=1e-6)
""",
)


@pytest.fixture(scope="module")
def executed():
    return run_notebook(NB, extra_cells=EXTRA)


def test_notebook_runs_without_errors(executed):
    nb, _ = executed
    assert error_outputs(nb) == []


def test_runs_under_60_seconds(executed):
    nb, _ = executed
    total = 0.0
    for c in nb.cells:
        ex = c.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            start = datetime.fromisoformat(ex["iopub.execute_input"])
            end = datetime.fromisoformat(ex["shell.execute_reply"])
            total += (end - start).total_seconds()
    assert 0 < total < 60, f"các ô của notebook chạy mất {total:.1f} s (giới hạn 60 s)"


def test_derivative_drills_match_numeric(executed):
    _, r = executed
    assert len(r["drill_errors"]) == 6
    for name, err in r["drill_errors"].items():
        assert err < 1e-7, name


def test_delta_rule_matches_numeric(executed):
    _, r = executed
    assert set(r["delta_rule_errors"]) == {"W1", "b1", "W2", "b2"}
    assert max(r["delta_rule_errors"].values()) < 1e-7


def test_vectorized_backprop_matches_nblib(executed):
    _, r = executed
    assert max(r["scratch_vs_nblib"].values()) < 1e-10
    c = r["costs"]
    assert c[0] == pytest.approx(c[1], rel=1e-12) and c[0] == pytest.approx(c[2], rel=1e-12)


def test_xor_table(executed):
    nb, r = executed
    table = r["xor_table"]
    # thứ tự dòng như ghi chú: (1,1), (0,1), (1,0), (0,0)
    assert [row[:3] for row in table] == [[1, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 0]]
    for _x1, _x2, y, yhat, e in table:
        assert e == pytest.approx(y - yhat, abs=1e-12)
        assert abs(e) < 0.06
    assert r["xor_epochs"] < 20000
    text = all_output_text(nb)
    assert "e = y − ŷ" in text


def test_gradient_checking(executed):
    _, r = executed
    assert max(r["gradcheck_ok"].values()) < 1e-7
    assert max(r["mlp_errors"].values()) < 1e-7
    bugs = r["gradcheck_bugs"]
    assert max(bugs["đúng"].values()) < 1e-7
    tanh_bug = bugs["quên đạo hàm tanh ở dZ1"]
    assert tanh_bug["W1"] > 1e-2 and tanh_bug["W2"] < 1e-7  # chỉ đúng tham số bị sai
    m_bug = bugs["quên chia m ở dW2"]
    assert m_bug["W2"] == pytest.approx(7 / 9, rel=1e-6)  # (m − 1)/(m + 1) với m = 8
    assert m_bug["W1"] < 1e-7
    # đường cong chữ U theo h: tốt ở giữa, tệ ở hai đầu
    curve = np.array(r["h_curve"])
    assert 1e-8 <= r["best_h"] <= 1e-3
    assert curve.min() < 1e-8 and curve[0] > 1e-6 and curve[-1] > 1e-4


def _assert_demo_ok(d):
    assert d["changed"], "hình của demo không thay đổi sau update"
    assert d["same_figure"] and d["same_artist_count"]
    assert d["redraws"] == 1
    assert d["last_error"] is None
    assert d["warnings"] == []
    assert "Lỗi" not in d["status"]


def test_xor_demo(executed):
    _, r = executed
    _assert_demo_ok(r["demo"])
    assert "Hội tụ" in r["demo"]["status"]
    _assert_demo_ok(r["demo_stuck"])
    assert "Chưa hội tụ" in r["demo_stuck"]["status"]


def test_gradcheck_demo(executed):
    _, r = executed
    _assert_demo_ok(r["demo_gradcheck"])
    assert "báo lỗi ở: W1" in r["demo_gradcheck"]["status"]
    _assert_demo_ok(r["demo_gradcheck_ok"])
    assert r["demo_gradcheck_ok"]["status"].count("Đạt") == 1


def test_markdown_is_nfc_and_structured():
    nb = nbformat.read(ROOT / NB, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert unicodedata.normalize("NFC", md) == md
    for heading in ("## Mục tiêu", "## Câu hỏi", "## Tóm tắt", "## Tài liệu tham khảo"):
        assert heading in md
    assert md.count("<summary>Đáp án</summary>") >= 6
    first_code = next(c.source for c in nb.cells if c.cell_type == "code")
    assert first_code.startswith("import nblib\n\nnblib.print_backend()")
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None
