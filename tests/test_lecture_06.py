"""Kiểm thử bài 06 (khởi tạo trọng số): chạy notebook, so số liệu với ghi chú *Training Neural
Networks, Part I*, thử demo."""

import nbformat
import pytest
from conftest import ROOT
from lecture_helpers import (
    assert_demo_ok,
    assert_fastdraw_matches,
    assert_lecture_structure,
    assert_runs_cleanly,
    decimal_point_readouts,
    demo_check_cells,
    executed_fixture,
)

pytestmark = pytest.mark.slow

PATH = "lectures/06_khoi_tao_trong_so.ipynb"

# Bảng độ lệch chuẩn theo tầng trong ghi chú Training Neural Networks, Part I (10 tầng × 500 nơ-ron).
NOTES_STD = {
    "small_tanh": [0.213081, 0.047551, 0.010630, 0.002378, 0.000532,
                   0.000119, 0.000026, 0.000006, 0.000001, 0.000000],
    "large_tanh": [0.981879, 0.981649, 0.981601, 0.981755, 0.981614,
                   0.981560, 0.981520, 0.981913, 0.981728, 0.981736],
    "xavier_tanh": [0.627953, 0.486051, 0.407723, 0.357108, 0.320917,
                    0.292116, 0.273387, 0.254935, 0.239266, 0.228008],
}  # fmt: skip

VALUES_CELL = """
__test_results__["std"] = {
    "small_tanh": stats_small["std"],
    "large_tanh": stats_large["std"],
    "xavier_tanh": stats_xavier_tanh["std"],
    "xavier_relu": stats_xavier_relu["std"],
    "he_relu": stats_he_relu["std"],
}
__test_results__["saturated"] = saturated
__test_results__["sym"] = {
    "row_spread": sym_row_spread,
    "act_spread": sym_act_spread,
    "w1_change": sym_w1_change,
}
__test_results__["zero"] = zero_results
__test_results__["rand_spread"] = rand_spread
__test_results__["grad"] = grad_stats
__test_results__["dA_growth"] = dA_growth
__test_results__["dW_spread"] = dW_spread
__test_results__["large_growth_pred"] = large_growth_pred
__test_results__["tanh_grad_mean"] = tanh_grad_mean
__test_results__["small_vs_xavier_dW"] = small_vs_xavier_dW
__test_results__["randn_tuple_error"] = randn_tuple_error
__test_results__["W_demo_shape"] = list(W_demo.shape)
__test_results__["circle_acc"] = {k: list(v) for k, v in circle_acc.items()}
"""

# Hình histogram nhỏ của mục 2: vẽ lại (không hiện) rồi đọc cỡ chữ tiêu đề và nhãn vạch chia.
FIGURE_CELL = """
import matplotlib.pyplot as _plt
_show, _plt.show = _plt.show, lambda *a, **k: None
plot_distributions(stats_small, "kiểm thử")
_fig = _plt.gcf()
_small = [ax for ax in _fig.axes if ax.get_title().startswith("tầng")]
__test_results__["hist_titles"] = [
    (ax.get_title(), ax.title.get_fontsize(), min(t.get_fontsize() for t in ax.get_xticklabels()))
    for ax in _small
]
__test_results__["suptitle"] = _fig._suptitle.get_text() if _fig._suptitle else None
_plt.close(_fig)
plot_distributions(stats_large, "kiểm thử")
_fig = _plt.gcf()
__test_results__["flat_ylim"] = {
    ax.get_title(): [float(v) for v in ax.get_ylim()] for ax in _fig.axes[:2]
}
_plt.close(_fig)
_plt.show = _show
"""

DEMOS = {"demo": dict(scale=1.0, method="scale", activation="tanh")}


executed = executed_fixture(PATH, [VALUES_CELL, FIGURE_CELL, *demo_check_cells(DEMOS)])


def test_runs_cleanly(executed):
    assert_runs_cleanly(executed[0], printed=True)


@pytest.mark.parametrize("key", sorted(NOTES_STD))
def test_tanh_std_matches_notes(executed, key):
    _, res = executed
    ours = res["std"][key]
    assert len(ours) == 10
    compared = 0
    for layer, (got, want) in enumerate(zip(ours, NOTES_STD[key]), start=1):
        if want > 1e-3:
            compared += 1
            assert abs(got / want - 1) < 0.10, f"{key} tầng {layer}: {got} vs {want}"
    assert compared >= 3
    if key == "small_tanh":
        assert ours[-1] < 1e-5  # "… → 0"


def test_large_init_saturates(executed):
    _, res = executed
    assert all(s > 0.85 for s in res["saturated"])


def test_relu_rows(executed):
    _, res = executed
    xr, he = res["std"]["xavier_relu"], res["std"]["he_relu"]
    assert xr[-1] < 0.1 * xr[0]  # Xavier + ReLU sụp dần
    assert abs(xr[1] / xr[0] - 2**-0.5) < 0.05
    assert all(0.6 < s < 1.1 for s in he)  # He + ReLU ổn định
    assert he[-1] / he[0] > 0.8


def test_symmetry(executed):
    _, res = executed
    sym = res["sym"]
    assert sym["w1_change"] > 1e-3  # trọng số có thay đổi…
    assert sym["row_spread"] < 1e-10  # …nhưng các nơ-ron ẩn vẫn giống hệt nhau
    assert sym["act_spread"] < 1e-10
    for act, r in res["zero"].items():
        assert r["act_spread"] < 1e-12, act
        assert r["acc"] <= 0.55, act
    assert res["rand_spread"] > 0.1


def test_gradients_per_layer(executed):
    _, res = executed
    g = res["grad"]
    small, large = g["0,01·randn + tanh"], g["1,0·randn + tanh"]
    assert small["dA"][0] < 1e-4 * small["dA"][-1]  # tiêu biến khi đi xuống
    assert large["dA"][0] > 1e3 * large["dA"][-1]  # bùng nổ khi đi xuống
    for name in ("Xavier + tanh", "He + ReLU"):
        assert 0.2 < g[name]["dA"][0] / g[name]["dA"][-1] < 5, name


def test_large_init_gradient_grows_although_tanh_prime_is_small(executed):
    """Mục 5 và tóm tắt: với 1,0·randn + tanh, tanh' cục bộ ≈ 0 nhưng dA lớn dần ~3,5 lần mỗi tầng."""
    _, res = executed
    assert max(res["tanh_grad_mean"]) < 0.05  # đạo hàm cục bộ gần 0 (nơ-ron bão hoà)
    growth = res["dA_growth"]["1,0·randn + tanh"]
    assert 3.0 < growth < 4.0, growth
    assert abs(growth / res["large_growth_pred"] - 1) < 0.1  # khớp √(500·E[tanh'²])
    dW = res["grad"]["1,0·randn + tanh"]["dW"]
    assert dW[0] > 1e4 * dW[-1]  # dW tầng 1 lớn hơn tầng 10 hàng chục nghìn lần
    nb = nbformat.read(ROOT / PATH, as_version=4)
    summary = next(c.source for c in nb.cells if c.source.startswith("## Tóm tắt"))
    summary = " ".join(summary.split())
    assert "gradient bằng 0" not in summary
    assert "lớn dần" in summary


def test_small_init_dA_vanishes_but_dW_is_flat_and_tiny(executed):
    """Câu hỏi 3: dA tiêu biến theo tầng, dW gần như bằng nhau ở mọi tầng nhưng đều rất nhỏ."""
    _, res = executed
    small = res["grad"]["0,01·randn + tanh"]
    assert small["dA"][0] < 1e-5 * small["dA"][-1]
    assert abs(res["dA_growth"]["0,01·randn + tanh"] - 0.22) < 0.02
    assert res["dW_spread"]["0,01·randn + tanh"] < 1.1
    assert 1e-6 < res["small_vs_xavier_dW"] < 1e-5  # "khoảng 2·10⁵ lần" nhỏ hơn Xavier


def test_notes_randn_tuple_raises(executed):
    """Sửa lỗi ghi chú: np.random.randn((2, 2)) báo TypeError; standard_normal((2, 2)) thì chạy."""
    _, res = executed
    assert res["randn_tuple_error"] == "TypeError"
    assert res["W_demo_shape"] == [2, 2]


def test_circles_accuracy(executed):
    _, res = executed
    acc = res["circle_acc"]
    assert acc["khởi tạo 0"][0] <= 0.55
    assert acc["He"][0] >= 0.95
    assert acc["He"][0] >= acc["ngẫu nhiên lớn (×10)"][0]


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_updates(executed, name):
    _, res = executed
    assert_demo_ok(res[name], kinds=("lines", "collections"))


def test_markdown_is_nfc_and_structured():
    assert_lecture_structure(PATH, min_answers=5, first_code=None)


def test_central_experiment_is_plain_numpy_and_checked_against_nblib():
    """Thí nghiệm H = g(W·H) qua 10 tầng nằm trong notebook, viết bằng numpy (không gọi nblib), và
    notebook tự đối chiếu với nblib.init.activation_stats bằng np.testing.assert_allclose (ô đó chạy
    không lỗi trong test_runs_cleanly)."""
    import ast

    nb = nbformat.read(ROOT / PATH, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    exp = next(s for s in code if s.startswith("def layer_activations("))
    assert "H = g(W @ H)" in exp and "np.tanh" in exp and "standard_normal" in exp
    called = {
        n.func.value.id
        for n in ast.walk(ast.parse(exp))
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
    }
    assert called <= {"np", "rng", "acts", "a", "X"}, called  # chỉ numpy, không nblib
    check = next(s for s in code if "init.activation_stats(" in s and "assert_allclose" in s)
    assert 'np.testing.assert_allclose(ours["std"], reference["std"]' in check
    stats_cells = [s for s in code if "layer_activations(" in s and "stats_" in s]
    assert len(stats_cells) >= 3  # mọi bảng của mục 2–4 tính bằng hàm numpy của bài


def test_small_histogram_titles_are_readable(executed):
    """Tiêu đề các histogram nhỏ dùng cỡ chữ của phong cách chung (không 6–8 pt như trước)."""
    from nblib.presentation.plots import style

    _, res = executed
    titles = res["hist_titles"]
    assert [t[0] for t in titles] == [f"tầng {i}" for i in range(1, 11)]
    assert all(size >= style()["axes.titlesize"] for _, size, _ in titles), titles
    assert all(tick >= style()["xtick.labelsize"] for _, _, tick in titles), titles


def test_flat_layer_statistics_are_not_exaggerated(executed):
    """1,0·randn + tanh: độ lệch chuẩn 0,9816–0,9822 và trung bình ≈ 0 theo tầng gần như phẳng; trục
    tung phải rộng ít nhất 0,2 để không phóng đại dao động nhỏ thành nhiễu lớn."""
    _, res = executed
    lims = res["flat_ylim"]
    std_lo, std_hi = lims["Độ lệch chuẩn kích hoạt theo tầng"]
    mean_lo, mean_hi = lims["Trung bình kích hoạt theo tầng"]
    assert std_hi - std_lo >= 0.2 - 1e-12 and std_lo < 0.9816 and std_hi > 0.9822
    assert mean_hi - mean_lo >= 0.2 - 1e-12 and mean_lo < 0 < mean_hi


def test_tick_labels_use_decimal_comma(executed):
    """Nhãn vạch chia của mọi hình dùng dấu phẩy thập phân (show() của bài áp style_figure)."""
    assert executed[1]["dot_tick_labels"] == []


def test_printed_numbers_use_decimal_comma(executed):
    """Số in ra cho người học dùng dấu phẩy thập phân (glossary.md)."""
    assert decimal_point_readouts(executed[0]) == []


def test_fast_redraw_matches_plain_draw(executed):
    # Mọi demo của bài: khung hình vẽ nhanh (ảnh trục dán lại) giống một lần vẽ thường (lệch ≤ 1/255).
    assert_fastdraw_matches(executed[1])
