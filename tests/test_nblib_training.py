"""Kiểm thử huấn luyện, dữ liệu, khởi tạo, tiền xử lý, tìm kiếm, hình vẽ và widget của nblib."""

import math
import warnings

import matplotlib
import numpy as np
import pytest

import nblib
from nblib import data, init, preprocess, search
from nblib.presentation import widgets
from nblib.training import minibatches

matplotlib.use("Agg")


def test_digits_reaches_97_percent_test_accuracy():
    d = data.digits()
    assert d["X_train"].shape[0] == 64 and d["X_train"].shape[1] > 1000
    m = nblib.MLP([64, 128, 10], seed=0)
    h = nblib.train(m, d["X_train"], d["y_train"], d["X_val"], d["y_val"], lr=3e-3, epochs=30)
    assert h["status"] == "ok"
    assert m.accuracy(d["X_test"], d["y_test"]) >= 0.97
    assert len(h["val_acc"]) == 30 and h["val_acc"][-1] > 0.95
    # tỉ lệ cập nhật/trọng số được ghi cho mọi tầng, cỡ 1e-3 như ghi chú
    for k in ("W1", "W2"):
        r = np.array(h["update_ratio"][k])
        assert len(r) == 30 and 1e-5 < np.median(r) < 1e-1


def test_fits_xor_and_spiral():
    X, y = data.xor()
    m = nblib.MLP([2, 8, 1], activation="tanh", output="sigmoid", seed=1)
    h = nblib.train(m, X, y, lr=0.05, epochs=2000, batch_size=None)
    p = nblib.backend.to_numpy(m.predict_proba(X)).ravel()
    assert h["status"] == "ok" and np.all(np.abs(p - y) < 0.06)
    X, y = data.spiral()
    m = nblib.MLP([2, 64, 3], seed=0)
    nblib.train(m, X, y, lr=1e-2, epochs=300, batch_size=None)
    assert m.accuracy(X, y) >= 0.95


def test_explosion_stops_with_status_and_no_warning():
    d = data.digits()
    m = nblib.MLP([64, 32, 10], activation="tanh", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = nblib.train(m, d["X_train"], d["y_train"], optimizer="sgd", lr=1e3, epochs=5)
    assert h["status"] == "phân kỳ"
    assert "Phân kỳ" in h["message"] and "giảm tốc độ học" in h["message"]
    assert h["epochs_run"] == 1


def test_early_stopping_restores_best_parameters():
    X, y = data.moons(n=400, noise=0.35, seed=0)
    d = data.split(X, y, val=0.3, test=0.0, seed=0)
    m = nblib.MLP([2, 128, 128, 2], seed=0)
    h = nblib.train(
        m,
        d["X_train"],
        d["y_train"],
        d["X_val"],
        d["y_val"],
        lr=1e-2,
        epochs=300,
        batch_size=16,
        early_stopping=10,
    )
    assert h["status"] == "dừng sớm" and h["epochs_run"] < 300
    assert m.accuracy(d["X_val"], d["y_val"]) == pytest.approx(max(h["val_acc"]))
    assert h["best_epoch"] == int(np.argmax(h["val_acc"])) + 1


def test_minibatch_sizes_and_schedule():
    X, y = data.blobs(n=100, seed=0)
    sizes = [xb.shape[1] for xb, _ in minibatches(X, y, 32, 0)]
    assert sizes == [32, 32, 32, 4]
    assert [xb.shape[1] for xb, _ in minibatches(X, y, None, 0)] == [100]
    m = nblib.MLP([2, 8, 3], seed=0)
    h = nblib.train(
        m,
        X,
        y,
        lr=0.1,
        epochs=3,
        batch_size=1,
        optimizer="sgd",
        schedule=lambda e: nblib.optim.step_decay(0.05, e, every=1),
    )
    assert len(h["loss"]) == 300 and h["status"] == "ok"


def test_minibatches_shuffle_every_epoch_and_keep_pairs():
    m = 50
    X = np.vstack([np.arange(m, dtype=float), -10.0 * np.arange(m)])  # cột i mã hoá chỉ số i
    y = np.arange(m)
    gen = np.random.default_rng(7)
    expected_gen = np.random.default_rng(7)
    orders = []
    for _ in range(3):  # ba epoch, cùng một bộ sinh
        batches = list(minibatches(X, y, 16, gen))
        assert [xb.shape[1] for xb, _ in batches] == [16, 16, 16, 2]
        Xc = np.concatenate([xb for xb, _ in batches], axis=1)
        yc = np.concatenate([yb for _, yb in batches])
        assert sorted(yc.tolist()) == list(range(m))  # mỗi mẫu xuất hiện đúng một lần
        np.testing.assert_array_equal(Xc, X[:, yc])  # cột X và nhãn y đi cùng nhau
        # thứ tự là hoán vị của Generator (bench_train dựa vào điều này để dùng cùng thứ tự)
        np.testing.assert_array_equal(yc, expected_gen.permutation(m))
        orders.append(yc.tolist())
    assert orders[0] != list(range(m))  # đã xáo trộn
    assert orders[0] != orders[1] and orders[1] != orders[2]  # mỗi epoch một thứ tự mới
    again = np.concatenate([yb for _, yb in minibatches(X, y, 16, 7)])
    assert again.tolist() == orders[0]  # cùng seed, cùng thứ tự
    # seed của train quyết định thứ tự mini-batch, nên đổi seed thì đổi đường chi phí
    Xb, yb = data.blobs(n=60, seed=0)
    runs = []
    for seed in (0, 0, 1):
        model = nblib.MLP([2, 6, 3], seed=0)
        runs.append(nblib.train(model, Xb, yb, lr=0.05, epochs=2, batch_size=8, seed=seed)["loss"])
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert runs[0][0] != runs[2][0]  # khác ngay từ batch đầu tiên


def test_update_ratio_is_the_measured_step_over_the_weight_norm():
    """‖ΔW‖/‖W‖ được đo thật: với SGD trên cả tập, ΔW = −α·dW nên tỉ lệ tỉ lệ thuận với α."""
    X, y = data.blobs(n=60, seed=0)
    measured = {}
    for lr in (0.01, 0.04):
        m = nblib.MLP([2, 8, 3], seed=0)
        before = {k: v.copy() for k, v in m.params.items()}
        _, grads = m.loss_and_grads(X, y)
        h = nblib.train(m, X, y, optimizer="sgd", lr=lr, epochs=1, batch_size=None)
        for k in ("W1", "W2"):
            step = m.params[k] - before[k]
            np.testing.assert_allclose(step, -lr * grads[k], rtol=1e-9, atol=1e-15)
            expected = np.linalg.norm(step) / np.linalg.norm(before[k])
            assert h["update_ratio"][k] == [pytest.approx(expected, rel=1e-12)]
            measured[lr, k] = h["update_ratio"][k][0]
    for k in ("W1", "W2"):
        assert measured[0.04, k] == pytest.approx(4 * measured[0.01, k], rel=1e-9)
    # nhiều bước mỗi epoch: ghi tỉ lệ của bước cuối mỗi epoch, khác nhau giữa các epoch
    m = nblib.MLP([2, 8, 3], seed=0)
    h = nblib.train(m, X, y, optimizer="sgd", lr=0.05, epochs=3, batch_size=16)
    r = h["update_ratio"]["W1"]
    assert len(r) == 3 and len(set(r)) == 3 and all(0 < x < 1 for x in r)


# tanh: bảng độ lệch chuẩn theo tầng trong ghi chú 002
NOTES_STD = {
    0.01: [0.213081, 0.047551, 0.010630, 0.002378],
    1.0: [0.981879, 0.981649, 0.981601, 0.981755, 0.981614, 0.981560, 0.981520, 0.981913],
    "xavier": [
        0.627953,
        0.486051,
        0.407723,
        0.357108,
        0.320917,
        0.292116,
        0.273387,
        0.254935,
        0.239266,
        0.228008,
    ],
}


@pytest.mark.parametrize("scale", list(NOTES_STD))
def test_activation_stats_reproduce_the_notes(scale):
    s = init.activation_stats(scale, "tanh", layers=10, width=500, n=1000, seed=0)
    assert len(s["std"]) == 10 and len(s["activations"]) == 10
    assert s["activations"][0].shape == (500, 1000)
    assert abs(s["input_std"] - 1.0) < 0.01
    ours = np.array(s["std"][: len(NOTES_STD[scale])])
    np.testing.assert_allclose(ours, NOTES_STD[scale], rtol=0.05)
    assert np.all(np.abs(s["mean"]) < 0.01)
    if scale == 0.01:
        assert s["std"][-1] < 1e-6


def test_relu_xavier_collapses_but_he_is_stable():
    xr = init.activation_stats("xavier", "relu")["std"]
    he = init.activation_stats("he", "relu")["std"]
    assert xr[-1] < 0.1 * xr[0]
    assert 0.5 < he[-1] / he[0] < 2.0


def test_zero_init_keeps_hidden_units_identical():
    X, y = data.circles(n=200, seed=0)
    m = nblib.MLP([2, 10, 5, 2], init="zeros", seed=0)
    nblib.train(m, X, y, lr=1e-2, epochs=20)
    W1 = m.params["W1"]
    assert np.allclose(W1, W1[0:1, :])
    assert m.accuracy(X, y) == pytest.approx(0.5, abs=0.05)


def test_preprocess_fit_on_train_only():
    gen = np.random.default_rng(0)
    A = np.array([[3.0, 0.0], [1.5, 0.5]])
    X = A @ gen.standard_normal((2, 2000)) + np.array([[5.0], [-2.0]])
    Xt = A @ gen.standard_normal((2, 500)) + np.array([[5.0], [-2.0]])
    for method in preprocess.METHODS:
        out, st = preprocess.fit_transform(method, X)
        assert out.shape == X.shape
        test_out = preprocess.transform(st, Xt)
        assert test_out.shape == Xt.shape
    z, st = preprocess.fit_transform("zscore", X)
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=1), 1, atol=1e-12)
    assert not np.allclose(preprocess.transform(st, Xt).mean(axis=1), 0, atol=1e-6)
    w, _ = preprocess.fit_transform("whiten", X)
    np.testing.assert_allclose(w @ w.T / X.shape[1], np.eye(2), atol=1e-6)
    p, _ = preprocess.fit_transform("pca", X)
    cov = p @ p.T / X.shape[1]
    assert abs(cov[0, 1]) < 1e-8 and cov[0, 0] > cov[1, 1]
    mm, _ = preprocess.fit_transform("minmax", X)
    assert mm.min() == pytest.approx(0) and mm.max() == pytest.approx(1)
    Xo = X.copy()
    Xo[0, :10] = 1e4  # ngoại lai
    r, _ = preprocess.fit_transform("robust", Xo)
    zo, _ = preprocess.fit_transform("zscore", Xo)
    assert np.median(np.abs(r[0, 10:])) > 5 * np.median(np.abs(zo[0, 10:]))
    with pytest.raises(ValueError, match="được khớp với 2 đặc trưng"):
        preprocess.transform(st, np.ones((3, 4)))


def test_random_and_grid_search():
    def objective(lr, reg):
        return {"score": -((math.log10(lr) + 2) ** 2), "reg": reg}

    rows = search.random_search(
        objective, {"lr": ("log", 1e-4, 1.0), "reg": ("uniform", 0, 1)}, n_trials=30, seed=0
    )
    assert len(rows) == 30
    assert all(1e-4 <= r["lr"] <= 1.0 for r in rows)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert abs(math.log10(rows[0]["lr"]) + 2) < 0.3
    # log-uniform: khoảng một nửa số lần thử nằm dưới 1e-2
    assert 8 <= sum(r["lr"] < 1e-2 for r in rows) <= 22
    again = search.random_search(
        objective, {"lr": ("log", 1e-4, 1.0), "reg": ("uniform", 0, 1)}, n_trials=30, seed=0
    )
    assert again == rows
    g = search.grid_search(objective, {"lr": [1e-3, 1e-2, 1e-1], "reg": [0.0, 0.5]})
    assert len(g) == 6 and g[0]["lr"] == 1e-2
    table = search.format_table(g, ["lr", "reg", "score"])
    assert table.splitlines()[0].split() == ["lr", "reg", "score"] and len(table.splitlines()) == 8


def test_demo_updates_in_place_caches_and_reports_divergence():
    X, y = data.moons(n=120, seed=0)
    calls = []

    def compute(lr):
        calls.append(lr)
        m = nblib.MLP([2, 8, 2], seed=0)
        return nblib.train(m, X, y, optimizer="sgd", lr=lr, epochs=5, batch_size=None)

    def setup(demo):
        (demo.line,) = demo.axes[0].plot([], [])

    def draw(demo, hist, values):
        demo.line.set_data(np.arange(len(hist["loss"])), hist["loss"])
        return hist["message"] if hist["status"] != "ok" else ""

    d = widgets.Demo(
        {"lr": widgets.log_slider("Tốc độ học α", 1e-4, 1e4, 0.1)}, compute, draw, setup
    )
    first = d.line.get_ydata().copy()
    n_lines = len(d.axes[0].lines)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d.update(lr=1.0)
        assert not np.array_equal(first, d.line.get_ydata())
        d.update(lr=0.1)
        assert calls == [0.1, 1.0]  # 0.1 lấy từ bộ đệm
        np.testing.assert_array_equal(first, d.line.get_ydata())
        res = d.update(lr=1e4)
    assert res["status"] == "phân kỳ" and "phân kỳ" in d.status.value.lower()
    assert len(d.axes[0].lines) == n_lines and d.redraws == 4
    assert d.controls["lr"].value == pytest.approx(1e4)
    with pytest.raises(ValueError, match="Không có điều khiển tên"):
        d.update(alpha=1)

    def broken(demo, result, values):
        raise RuntimeError("hỏng")

    d2 = widgets.Demo({"k": widgets.slider("k", 0, 1, 0.5)}, lambda k: k, broken)
    assert "Lỗi: hỏng" in d2.status.value and d2.last_error is not None


def test_hidden_activations_with_batch_statistics_leave_state_untouched():
    X, _ = data.spiral(n_per_class=50, seed=0)
    m = nblib.MLP([2, 20, 20, 3], init=0.01, batchnorm=True, keep_prob=0.5, seed=0)
    plain = nblib.MLP([2, 20, 20, 3], init=0.01, seed=0)
    acts = m.hidden_activations(X, batch_stats=True)
    assert [a.shape for a in acts] == [(20, 150), (20, 150)]
    assert all(0.3 < a.std() < 1.0 for a in acts)  # batch norm giữ tín hiệu
    assert plain.hidden_activations(X)[-1].std() < 1e-3  # không có batch norm: tín hiệu tắt dần
    assert m.bn_state == {1: {}, 2: {}} and m.keep_prob == 0.5


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_trainer_equals_a_plain_per_parameter_loop(optimizer):
    """Trình huấn luyện cập nhật một vector nối mọi tham số; kết quả phải trùng vòng lặp từng tham số."""
    from nblib import backend, optim

    X, y = data.spiral(n_per_class=30, seed=3)
    kw = dict(activation="tanh", lambd=0.01, batchnorm=True, seed=4)
    a, b = nblib.MLP([2, 9, 7, 3], **kw), nblib.MLP([2, 9, 7, 3], **kw)
    params_dict = a.params
    h = nblib.train(a, X, y, optimizer=optimizer, lr=0.01, epochs=3, batch_size=16, seed=5)
    assert a.params is params_dict  # cùng một dict, được cập nhật (ai giữ tham chiếu vẫn thấy)
    gen, states, losses = backend.rng(5), {k: {"lr": 0.01} for k in b.params}, []
    for _ in range(3):
        for Xb, yb in minibatches(X, y, 16, gen):
            loss, grads = b.loss_and_grads(Xb, yb)
            losses.append(loss)
            for k in b.params:
                b.params[k], states[k] = optim.get(optimizer)(b.params[k], grads[k], states[k])
    np.testing.assert_allclose(h["loss"], losses, rtol=1e-12)
    assert set(a.params) == set(b.params)
    for k in a.params:
        assert a.params[k].shape == b.params[k].shape
        np.testing.assert_allclose(a.params[k], b.params[k], rtol=1e-12, atol=1e-15)
