"""Kiểm thử nblib.assessment.checks: phản hồi tiếng Việt, AssertionError khi sai, phát hiện gọi nblib."""

from __future__ import annotations

import numpy as np
import pytest

import nblib
import nblib.activations
from nblib.assessment import checks
from nblib.assessment.checks import check, check_no_reference, check_true, no_reference


def _message(got, expected, **kw):
    with pytest.raises(AssertionError) as exc:
        check("phép thử", got, expected, **kw)
    return str(exc.value)


def test_correct_prints_and_returns_true(capsys):
    assert check("sigmoid", np.array([0.5, 0.25]), np.array([0.5, 0.25])) is True
    assert "✓ sigmoid: đúng" in capsys.readouterr().out


def test_scalar_and_containers():
    assert check("số", np.float64(0.5), 0.5)
    assert check("mảng 1x1 so với số", np.array([[2.0]]), 2.0)
    assert check("tuple", (np.ones(2), 3.0), (np.ones(2), 3.0))
    assert check(
        "dict",
        {"W1": np.zeros((2, 2)), "b1": np.ones((2, 1))},
        {"W1": np.zeros((2, 2)), "b1": np.ones((2, 1))},
    )
    assert check("shape", (3, 4), (3, 4))
    assert check("tensor torch", _torch_tensor([1.0, 2.0]), np.array([1.0, 2.0]))


def _torch_tensor(values):
    torch = pytest.importorskip("torch")
    return torch.tensor(values, dtype=torch.float64)


def test_none_says_missing_return():
    msg = _message(None, np.ones((2, 3)))
    assert "None" in msg and "return" in msg and "(2, 3)" in msg


def test_shape_mismatch_transposed():
    msg = _message(np.ones((3, 2)), np.ones((2, 3)))
    assert "sai kích thước (shape)" in msg
    assert "Mong đợi: shape (2, 3)" in msg and "Nhận được: shape (3, 2)" in msg
    assert "chuyển vị" in msg


def test_shape_mismatch_keepdims_hint():
    msg = _message(np.ones(3), np.ones((3, 1)))
    assert "keepdims" in msg


def test_dtype_mismatch():
    msg = _message(np.array([1, 2]), np.array([1.0, 2.0]))
    assert "sai kiểu dữ liệu (dtype)" in msg and "số nguyên" in msg and "số thực" in msg
    msg = _message(np.array([True, False]), np.array([1.0, 0.0]))
    assert "bool" in msg


def test_value_mismatch_reports_position_and_values():
    exp = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = exp.copy()
    got[1, 0] = 3.5
    msg = _message(got, exp)
    assert "sai giá trị ở 1/4 phần tử" in msg
    assert "(1, 0)" in msg and "mong đợi 3" in msg and "nhận được 3,5" in msg
    assert "lớn nhất: 0,5 " in msg  # sai lệch lớn nhất, dấu phẩy thập phân
    assert "rtol = 1·10⁻⁵" in msg and "[1; 2; 3,5; 4]" in msg


def test_sign_hint_and_nan():
    assert "ngược dấu" in _message(-np.arange(1.0, 4.0), np.arange(1.0, 4.0))
    msg = _message(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert "NaN" in msg and "(1,)" in msg


def test_tolerance_is_respected():
    assert check("gần đúng", np.array([1.0 + 1e-9]), np.array([1.0]))
    with pytest.raises(AssertionError):
        check("quá xa", np.array([1.001]), np.array([1.0]))
    assert check("dung sai lớn", np.array([1.001]), np.array([1.0]), rtol=1e-2)


def test_dict_missing_key_and_list_length():
    msg = _message({"W1": np.zeros(2)}, {"W1": np.zeros(2), "b1": np.zeros(1)})
    assert "thiếu khoá 'b1'" in msg
    msg = _message([np.zeros(2)], [np.zeros(2), np.zeros(2)])
    assert "mong đợi 2 giá trị trả về, nhận được 1" in msg


def test_messages_are_nfc_vietnamese():
    import unicodedata

    msg = _message(np.ones((3, 2)), np.ones((2, 3)))
    assert unicodedata.normalize("NFC", msg) == msg
    assert msg.startswith("✗ phép thử:")


def test_object_with_lying_eq_is_not_accepted():
    class Liar:
        def __eq__(self, other):
            return True

    with pytest.raises(AssertionError):
        check("đối tượng lạ", Liar(), np.ones(2))


def test_check_true():
    assert check_true("điều kiện", 1 + 1 == 2)
    with pytest.raises(AssertionError, match="lý do"):
        check_true("điều kiện", False, "lý do cụ thể")


# ---------------------------------------------------------------------------
# phát hiện bài làm gọi lại nblib
# ---------------------------------------------------------------------------


def _own_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _calls_module(z):
    return nblib.activations.sigmoid(z)


_alias = nblib.activations.sigmoid


def _calls_alias(z):
    return _alias(z)


def _helper(z):
    return _alias(z)


def _calls_helper(z):
    return _helper(z) * 1.0


def _imports_inside(z):
    import nblib.activations as act

    return act.relu(z)


def test_own_implementation_passes():
    z = np.array([0.0, 1.0])
    out = check_no_reference("sigmoid", _own_sigmoid, z)
    np.testing.assert_allclose(out, [0.5, 1 / (1 + np.exp(-1))])


@pytest.mark.parametrize("fn", [_calls_module, _calls_alias, _calls_helper, _imports_inside])
def test_reference_use_is_detected(fn):
    with pytest.raises(AssertionError) as exc:
        check_no_reference("bài làm", fn, np.array([0.5]))
    assert "nblib" in str(exc.value)
    assert "tự cài đặt" in str(exc.value)


def test_reference_names_static():
    assert checks.reference_names(_own_sigmoid) == []
    assert any("nblib.activations.sigmoid" in r for r in checks.reference_names(_calls_alias))
    assert any("nblib" in r for r in checks.reference_names(_calls_module))


def test_no_reference_restores_everything():
    original = nblib.activations.sigmoid
    table = nblib.activations.ACTIVATIONS
    with no_reference():
        assert nblib.activations.sigmoid is not original
        with pytest.raises(checks.ReferenceUsedError):
            nblib.activations.sigmoid(np.zeros(1))
        with pytest.raises(checks.ReferenceUsedError):
            nblib.activations.ACTIVATIONS["relu"][0](np.zeros(1))
        # nblib.assessment.checks vẫn dùng được bên trong
        assert check("trong khối", np.ones(1), np.ones(1))
    assert nblib.activations.sigmoid is original
    assert nblib.activations.ACTIVATIONS is table
    np.testing.assert_allclose(nblib.activations.sigmoid(np.zeros(1)), [0.5])


def test_no_reference_restores_after_exception():
    original = nblib.activations.relu
    with pytest.raises(ZeroDivisionError), no_reference():
        1 / 0  # noqa: B018
    assert nblib.activations.relu is original


def test_submitting_the_reference_function_itself_is_detected():
    from nblib.activations import leaky_relu

    with pytest.raises(AssertionError, match="nblib.activations.leaky_relu"):
        check_no_reference("leaky_relu", leaky_relu, np.array([-1.0, 1.0]))


# ---------------------------------------------------------------------------
# phản hồi cho học viên: mọi vấn đề một lần, gợi ý lỗi thường gặp, không traceback của thư viện
# ---------------------------------------------------------------------------


def test_every_wrong_key_and_shape_is_reported_at_once(capsys):
    got = {"W1": np.zeros((3, 2)), "b1": np.zeros(3), "W2": np.ones((1, 3))}
    exp = {"W1": np.zeros((2, 3)), "b1": np.zeros((3, 1)), "W2": np.zeros((1, 3)), "b2": 0.0}
    with pytest.raises(AssertionError) as info:
        check("tham số", got, exp)
    msg = str(info.value)
    assert msg.startswith("4 vấn đề:")
    for part in ("thiếu khoá 'b2'", "tham số['W1']", "tham số['b1']", "tham số['W2']"):
        assert part in msg, msg
    assert capsys.readouterr().out == ""  # thông điệp chỉ hiện một lần (qua ngoại lệ)


@pytest.mark.parametrize(
    "got, hint",
    [
        (np.array([[2.0, 4.0, 6.0]]) * 5, "lớn gấp 5 lần"),
        (np.array([[2.0, 4.0, 6.0]]) / 4, "nhỏ hơn 4 lần"),
        (-np.array([[2.0, 4.0, 6.0]]), "ngược dấu"),
        (np.array([2.0, 4.0, 6.0]), "keepdims=True"),
        (np.array([[2.0], [4.0], [6.0]]), "chuyển vị"),
    ],
)
def test_hints_for_common_mistakes(got, hint):
    with pytest.raises(AssertionError, match=hint):
        check("dZ", got, np.array([[2.0, 4.0, 6.0]]))


def test_failure_renders_without_library_frames():
    with pytest.raises(AssertionError) as info:
        check("A", np.zeros(2), np.ones(2))
    lines = info.value._render_traceback_()
    assert lines[0].startswith("✗ A:")
    assert not any("checks.py" in ln or "Traceback" in ln for ln in lines)


def test_torch_tensors_are_compared_like_numpy_arrays():
    """Tensor torch (không nhánh riêng trong checks: backend.to_numpy_if_tensor) được so như mảng
    numpy: NaN, sai shape, sai giá trị được báo như nhau, không kèm cảnh báo số học."""
    import warnings

    nan_msg = _message(_torch_tensor([1.0, float("nan")]), np.array([1.0, 2.0]))
    assert "kết quả chứa NaN ở 1 vị trí" in nan_msg
    assert nan_msg == _message(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    msg = _message(_torch_tensor([[1.0, 2.0]]), np.array([[1.0], [2.0]]))
    assert "sai kích thước (shape)" in msg and "chuyển vị" in msg
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ∞ − ∞, tràn số: không cảnh báo, vẫn báo sai giá trị
        msg = _message(_torch_tensor([float("inf"), 1e308]), np.array([-np.inf, -1e308]))
    assert "sai giá trị ở 2/2 phần tử" in msg
