"""Kiểm thử huấn luyện, dữ liệu, khởi tạo, tiền xử lý, tìm kiếm, hình vẽ và widget của nblib."""

import math
import re
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
    """``train`` phải cho đúng kết quả của vòng lặp từng tham số viết tay (như ``training.step``)."""
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


# ---------------------------------------------------------------- trình huấn luyện cũ ≡ trình mới
# Số của trình huấn luyện trước khi viết lại theo dáng Solver (vector nối mọi tham số, _reference_loss
# lưu/khôi phục bộ sinh ngẫu nhiên và trạng thái batch norm), đo một lần bằng mã cũ với cùng seed.
PREVIOUS_TRAINER = {
    "sgd": {
        "status": "ok",
        "message": "Hoàn tất 4 epoch, chi phí cuối 0.3724.",
        "epochs_run": 4,
        "best_epoch": 1,
        "n_loss": 20,
        "loss_last": 0.5723835134486855,
        "loss_sum": 8.151059321558963,
        "epoch_loss": [
            0.5017442250707977,
            0.38958590149906563,
            0.36652721634170826,
            0.37235452140022113,
        ],
        "train_acc": [0.7, 0.8333333333333334, 0.8266666666666667, 0.8266666666666667],
        "val_acc": [0.8, 0.8, 0.8, 0.8],
        "ratio_sum": 0.1264992622791286,
        "n_ratio": [4, 4],
        "params_sum": 32.11911487568813,
        "bn_sum": 0.0,
    },
    "momentum": {
        "status": "ok",
        "message": "Hoàn tất 4 epoch, chi phí cuối 0.3668.",
        "epochs_run": 4,
        "best_epoch": 3,
        "n_loss": 24,
        "loss_last": 0.24392061510168603,
        "loss_sum": 13.080718736378687,
        "epoch_loss": [
            0.8665026245442299,
            0.5184973025944285,
            0.4283104800816661,
            0.36680938217612336,
        ],
        "train_acc": [0.825, 0.9333333333333333, 0.9166666666666666, 0.9],
        "val_acc": [0.7333333333333333, 0.8666666666666667, 0.9, 0.8666666666666667],
        "ratio_sum": 0.16485691696673624,
        "n_ratio": [4, 4, 4],
        "params_sum": 59.94554274015098,
        "bn_sum": 0.0,
    },
    "adam": {
        "status": "ok",
        "message": "Hoàn tất 4 epoch, chi phí cuối 0.8382.",
        "epochs_run": 4,
        "best_epoch": 4,
        "n_loss": 16,
        "loss_last": 0.7403459045915968,
        "loss_sum": 19.268468904811133,
        "epoch_loss": [
            1.7804072453176845,
            1.2493818498529627,
            0.9491221242690866,
            0.8382060067630492,
        ],
        "train_acc": [0.23958333333333334, 0.34375, 0.4895833333333333, 0.6145833333333334],
        "val_acc": [0.3333333333333333, 0.5, 0.5, 0.5416666666666666],
        "ratio_sum": 0.1564799449845231,
        "n_ratio": [4, 4, 4],
        "params_sum": 192.439722915908,
        "bn_sum": 41.41709275150268,
    },
    "early": {
        "status": "dừng sớm",
        "message": "Dừng sớm ở epoch 4: độ chính xác kiểm định không tăng trong 3 epoch; khôi "
        "phục tham số của epoch 1 (độ chính xác kiểm định 83.33%).",
        "epochs_run": 4,
        "best_epoch": 1,
        "n_loss": 56,
        "loss_last": 0.8118595123426428,
        "loss_sum": 20.6530430853046,
        "epoch_loss": [
            0.4820044483383044,
            0.32495332112960434,
            0.32152238458423843,
            0.3467372091838956,
        ],
        "train_acc": [
            0.7380952380952381,
            0.819047619047619,
            0.8333333333333334,
            0.8571428571428571,
        ],
        "val_acc": [0.8333333333333334, 0.8111111111111111, 0.8222222222222222, 0.8222222222222222],
        "ratio_sum": 0.0940119576614651,
        "n_ratio": [4, 4],
        "params_sum": 67.60653831363092,
        "bn_sum": 0.0,
    },
    "diverge": {
        "status": "phân kỳ",
        "message": "Phân kỳ ở epoch 1, bước 3: chi phí = 2711 (ban đầu 0.9214). Hãy giảm tốc "
        "độ học α (đang là 30).",
        "epochs_run": 1,
        "best_epoch": 0,
        "n_loss": 3,
        "loss_last": 2711.172146489119,
        "loss_sum": 2730.795263443219,
        "epoch_loss": [],
        "train_acc": [],
        "val_acc": [],
        "ratio_sum": 0.0,
        "n_ratio": [0, 0],
        "params_sum": 2265.9236114163673,
        "bn_sum": 10766.982951218084,
    },
    "diverge_full_batch": {
        "status": "phân kỳ",
        "message": "Phân kỳ ở epoch 2, bước 1: chi phí = 4.025 (ban đầu 0.7557). "
        "Hãy giảm tốc độ học α (đang là 500).",
        "epochs_run": 2,
        "best_epoch": 0,
        "n_loss": 2,
        "loss_last": 4.0249308696751775,
        "loss_sum": 4.780678419741782,
        "epoch_loss": [0.7557475500666039],
        "train_acc": [0.75],
        "val_acc": [],
        "ratio_sum": 104.83009903843302,
        "n_ratio": [1, 1],
        "params_sum": 401.86168342629065,
        "bn_sum": 0.0,
    },
    "linear": {
        "status": "ok",
        "message": "Hoàn tất 3 epoch, chi phí cuối 0.0439.",
        "epochs_run": 3,
        "best_epoch": 0,
        "n_loss": 9,
        "loss_last": 0.051024409328126165,
        "loss_sum": 0.7697822694029954,
        "epoch_loss": [0.14435173690572914, 0.06830094832110621, 0.043941404574163144],
        "train_acc": [],
        "val_acc": [],
        "ratio_sum": 0.14341091638721057,
        "n_ratio": [3, 3],
        "params_sum": 21.334542178236244,
        "bn_sum": 0.0,
    },
}


def _previous_trainer_case(name):
    """Cấu hình của từng trường hợp: SGD, momentum (lịch α, λ, độ chính xác trên toàn tập), Adam
    (batch norm, dropout), dừng sớm, phân kỳ (nhiều batch, có dropout và batch norm: mốc ban đầu là
    chi phí trên toàn tập), phân kỳ với một batch, hồi quy tuyến tính (RMSprop)."""
    if name == "sgd":
        X, y = data.moons(n=200, noise=0.3, seed=0)
        d = data.split(X, y, val=0.25, test=0.0, seed=0)
        m = nblib.MLP([2, 16, 2], seed=0)
        kw = dict(optimizer="sgd", lr=0.2, epochs=4, batch_size=32, seed=1)
    elif name == "momentum":
        X, y = data.blobs(n=150, seed=0)
        d = data.split(X, y, val=0.2, test=0.0, seed=1)
        m = nblib.MLP([2, 12, 8, 3], activation="tanh", lambd=0.05, seed=2)
        kw = dict(
            optimizer="momentum",
            optim_params={"gamma": 0.8},
            epochs=4,
            batch_size=20,
            schedule=lambda e: nblib.optim.step_decay(0.05, e, every=2),
            exact_train_acc=True,
        )
    elif name == "adam":
        X, y = data.spiral(n_per_class=40, seed=1)
        d = data.split(X, y, val=0.2, test=0.0, seed=2)
        m = nblib.MLP([2, 20, 20, 3], batchnorm=True, keep_prob=0.8, seed=3)
        kw = dict(optimizer="adam", lr=1e-2, epochs=4, batch_size=25, seed=4)
    elif name == "early":
        X, y = data.moons(n=300, noise=0.35, seed=0)
        d = data.split(X, y, val=0.3, test=0.0, seed=0)
        m = nblib.MLP([2, 32, 2], seed=0)
        kw = dict(optimizer="adam", lr=3e-2, epochs=60, batch_size=16, early_stopping=3)
    elif name == "diverge":
        X, y = data.blobs(n=120, seed=0)
        d = {"X_train": X, "y_train": y, "X_val": None, "y_val": None}
        m = nblib.MLP([2, 16, 3], keep_prob=0.7, batchnorm=True, seed=0)
        kw = dict(optimizer="sgd", lr=30.0, epochs=5, batch_size=10, seed=2)
    elif name == "diverge_full_batch":
        X, y = data.xor()
        d = {"X_train": X, "y_train": y, "X_val": None, "y_val": None}
        m = nblib.MLP([2, 8, 1], activation="tanh", output="sigmoid", seed=1)
        kw = dict(optimizer="sgd", lr=500.0, epochs=20, batch_size=None)
    else:
        gen = np.random.default_rng(0)
        X = gen.standard_normal((3, 90))
        y = np.sin(X[:1]) + 0.5 * X[1:2]
        d = {"X_train": X, "y_train": y, "X_val": None, "y_val": None}
        m = nblib.MLP([3, 10, 1], activation="tanh", output="linear", seed=5)
        kw = dict(optimizer="rmsprop", lr=1e-2, epochs=3, batch_size=30, seed=3)
    h = nblib.train(m, d["X_train"], d["y_train"], d["X_val"], d["y_val"], **kw)
    return h, m


@pytest.mark.parametrize("name", list(PREVIOUS_TRAINER))
def test_train_reproduces_the_previous_trainer(name):
    h, m = _previous_trainer_case(name)
    ref = PREVIOUS_TRAINER[name]
    for key in ("status", "epochs_run", "best_epoch"):
        assert h[key] == ref[key], key
    # cùng thông điệp, nay in số theo quy ước của khoá học (dấu phẩy thập phân, "83,33 %")
    old = re.sub(r"(\d)%", r"\1 %", re.sub(r"(\d)\.(\d)", r"\1,\2", ref["message"]))
    assert h["message"] == old
    assert len(h["loss"]) == ref["n_loss"]
    assert h["loss"][-1] == pytest.approx(ref["loss_last"], rel=1e-12)
    assert math.fsum(h["loss"]) == pytest.approx(ref["loss_sum"], rel=1e-12)
    for key in ("epoch_loss", "train_acc", "val_acc"):
        np.testing.assert_allclose(h[key], ref[key], rtol=1e-12, err_msg=key)
    assert [len(r) for r in h["update_ratio"].values()] == ref["n_ratio"]
    ratio_sum = math.fsum(r for rs in h["update_ratio"].values() for r in rs)
    assert ratio_sum == pytest.approx(ref["ratio_sum"], rel=1e-10)
    abs_sum = lambda arrays: math.fsum(float(np.abs(np.asarray(a)).sum()) for a in arrays)  # noqa: E731
    assert abs_sum(m.params.values()) == pytest.approx(ref["params_sum"], rel=1e-12)
    running = [v for st in m.bn_state.values() for v in st.values()]
    assert abs_sum(running) == pytest.approx(ref["bn_sum"], rel=1e-12, abs=1e-300)


# ---------------------------------------------------------------- các phần nhỏ của trình huấn luyện
def test_training_module_and_train_function_are_separate_names():
    import inspect

    import nblib.training

    assert inspect.isfunction(nblib.train) and nblib.train is nblib.training.train
    assert nblib.training.minibatches is minibatches
    for name in ("step", "update_ratio", "is_diverging", "DivergenceMonitor", "EarlyStopping"):
        assert callable(getattr(nblib.training, name)), name


def test_step_updates_each_parameter_with_its_own_optimizer_state():
    from nblib import optim
    from nblib.training import step

    gen = np.random.default_rng(0)
    params = {"W1": gen.standard_normal((3, 2)), "b1": gen.standard_normal((3, 1))}
    grads = [{k: gen.standard_normal(v.shape) for k, v in params.items()} for _ in range(3)]
    states = {k: {"gamma": 0.5} for k in params}
    same_dict = params
    expected = {k: v.copy() for k, v in params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    for g in grads:
        step(params, g, states, optim.momentum, lr=0.1)
        for k in expected:  # v ← γ·v + α·dw; w ← w − v, riêng cho từng tham số
            velocity[k] = 0.5 * velocity[k] + 0.1 * g[k]
            expected[k] = expected[k] - velocity[k]
    assert params is same_dict
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-14)
        np.testing.assert_allclose(states[k]["v"], velocity[k], rtol=1e-14)
        assert states[k]["lr"] == 0.1 and states[k]["gamma"] == 0.5


def test_update_ratio_is_the_norm_of_the_step_over_the_norm_of_the_weights():
    from nblib.training import update_ratio

    gen = np.random.default_rng(1)
    W = gen.standard_normal((5, 4))
    for scale in (1e-6, 1e-3, 0.5):
        dW = scale * gen.standard_normal(W.shape)
        expected = np.linalg.norm(dW) / np.linalg.norm(W)
        assert update_ratio(W, W + dW) == pytest.approx(expected, rel=1e-9)
    assert update_ratio(W, W) == 0.0
    assert update_ratio(np.zeros((2, 2)), np.ones((2, 2))) == pytest.approx(2.0 / 1e-12)


def test_divergence_rule_three_times_the_smoothed_initial_cost_or_nan():
    from nblib.training import DivergenceMonitor, is_diverging

    assert is_diverging(float("nan"), 1.0, 1.0) and is_diverging(float("inf"), 1.0, 1.0)
    assert is_diverging(1.0, 3.01, 1.0) and not is_diverging(1.0, 3.0, 1.0)
    one = DivergenceMonitor(initial=1.0, n_batches=1, factor=3.0)  # một batch: không làm trơn
    assert one.beta == 0.0 and not one.diverged(2.9) and one.diverged(3.1)
    many = DivergenceMonitor(initial=1.0, n_batches=50, factor=3.0)
    assert many.beta == pytest.approx(1 - 1 / 20)
    assert not many.diverged(30.0)  # một batch nhiễu: trung bình trượt 0,95 + 1,5 = 2,45
    assert many.smooth == pytest.approx(0.95 * 1.0 + 0.05 * 30.0)
    assert many.diverged(30.0)  # hai batch liền: 0,95·2,45 + 1,5 > 3
    assert many.diverged(float("nan"))
    msg = many.message(epoch=1, i=4, loss=12345.0, lr=0.5)
    assert msg == (
        "Phân kỳ ở epoch 2, bước 5: chi phí = 1,234·10⁴ (ban đầu 1). "
        "Hãy giảm tốc độ học α (đang là 0,5)."
    )


def test_early_stopping_keeps_the_best_parameters_and_counts_patience():
    from nblib.training import EarlyStopping

    stopper = EarlyStopping(patience=2)
    accs = [0.5, 0.7, 0.6, 0.7, 0.65]
    stops = [stopper.should_stop(a, {"W1": np.full(1, i)}, i + 1) for i, a in enumerate(accs)]
    assert stops == [False, False, False, True, True]
    assert stopper.best_epoch == 2 and stopper.best_acc == 0.7
    assert stopper.best_params["W1"].tolist() == [1]
    never = EarlyStopping(patience=None)
    assert not any(never.should_stop(0.1, {}, e) for e in range(1, 20))


def test_loss_in_training_mode_changes_no_model_state():
    """``MLP.loss(train=True)`` (mốc chi phí ban đầu của ``train``) dùng dropout và thống kê của batch
    nhưng không đổi trung bình trượt của batch norm, cũng không dùng bộ sinh ngẫu nhiên của dropout."""
    import copy

    X, y = data.spiral(n_per_class=20, seed=0)
    kw = dict(batchnorm=True, keep_prob=0.6, seed=3)
    a, b = nblib.MLP([2, 10, 10, 3], **kw), nblib.MLP([2, 10, 10, 3], **kw)
    a.loss_and_grads(X[:, :30], y[:30])  # có trung bình trượt để so sánh
    b.loss_and_grads(X[:, :30], y[:30])
    saved = copy.deepcopy(a.bn_state)
    J = a.loss(X, y, train=True)
    for l in saved:
        for k in saved[l]:
            np.testing.assert_array_equal(a.bn_state[l][k], saved[l][k])
    # mặt nạ dropout là mặt nạ mà bước huấn luyện kế tiếp sẽ dùng
    J_b, grads_b = b.loss_and_grads(X, y)
    assert J == J_b
    J_a, grads_a = a.loss_and_grads(X, y)
    assert J_a == J_b  # bước kế tiếp của a không bị lệch bởi lần gọi loss
    for k in grads_a:
        np.testing.assert_array_equal(grads_a[k], grads_b[k])
    assert a.loss(X, y, train=True) != a.loss(X, y)  # chế độ huấn luyện ≠ chế độ kiểm tra


def test_gradient_check_turns_dropout_off_without_touching_keep_prob():
    from nblib import gradcheck

    gen = np.random.default_rng(2)
    X, y = gen.standard_normal((3, 6)), gen.integers(0, 2, 6)
    m = nblib.MLP([3, 4, 2], activation="tanh", keep_prob=0.5, seed=0)
    errors = gradcheck.check_model_gradients(m, X, y)
    assert max(errors.values()) < 1e-7 and m.keep_prob == 0.5
    J1, _ = m.loss_and_grads(X, y, dropout=False)
    J2, _ = m.loss_and_grads(X, y, dropout=False)
    assert J1 == J2 != m.loss_and_grads(X, y)[0]  # có dropout: mặt nạ ngẫu nhiên


def test_minibatches_of_torch_data_stay_on_torch_in_the_same_order():
    torch = pytest.importorskip("torch")
    X = np.vstack([np.arange(20.0), np.arange(20.0) ** 2])
    y = np.arange(20)
    ref = list(minibatches(X, y, 6, 3))
    got = list(minibatches(torch.as_tensor(X), torch.as_tensor(y), 6, 3))
    assert len(got) == len(ref) == 4
    for (xr, yr), (xg, yg) in zip(ref, got):
        assert isinstance(xg, torch.Tensor) and yg.dtype == torch.int64
        np.testing.assert_array_equal(xg.numpy(), xr)
        np.testing.assert_array_equal(yg.numpy(), yr)


def test_has_nonfinite_sees_nan_and_inf_in_torch_tensors():
    torch = pytest.importorskip("torch")
    assert widgets.has_nonfinite(torch.tensor([1.0, float("nan")]))
    assert widgets.has_nonfinite({"loss": [torch.tensor(float("inf"))]})
    assert not widgets.has_nonfinite(torch.tensor([1.0, 2.0]))
    assert widgets.has_nonfinite(np.array([np.nan])) and widgets.has_nonfinite(float("inf"))
    assert not widgets.has_nonfinite({"status": "ok", "loss": [0.5, 0.25], "name": "x"})
    assert widgets.has_nonfinite({"status": "phân kỳ"})


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_fused_step_equals_step(optimizer, library):
    """Đường nhanh ``FusedStep`` (một vector nối mọi tham số) cho đúng từng bit kết quả của ``step``
    (từng tham số, bộ nhớ riêng), với mọi thuật toán tối ưu, trên numpy lẫn torch."""
    from nblib import backend, optim
    from nblib.training import FusedStep, step

    gen = np.random.default_rng(4)
    shapes = {"W1": (5, 3), "b1": (5, 1), "W2": (2, 5), "b2": (2, 1)}
    if library == "torch":
        torch = pytest.importorskip("torch")
        convert = lambda a: torch.as_tensor(a)  # noqa: E731
    else:
        convert = lambda a: a  # noqa: E731
    start = {k: convert(gen.standard_normal(s)) for k, s in shapes.items()}
    grads = [{k: convert(gen.standard_normal(s)) for k, s in shapes.items()} for _ in range(4)]
    extra = {"momentum": {"gamma": 0.7}, "adam": {"beta1": 0.8}}.get(optimizer, {})
    update = optim.get(optimizer)
    plain, states = dict(start), {k: dict(extra) for k in start}
    fast = dict(start)
    fused = FusedStep(fast, update, extra)
    for i, g in enumerate(grads):
        lr = 0.1 / (i + 1)
        step(plain, g, states, update, lr)
        fused(fast, g, lr)
        for k in start:
            assert tuple(fast[k].shape) == shapes[k]
            np.testing.assert_array_equal(backend.to_numpy(fast[k]), backend.to_numpy(plain[k]))
    assert set(fast) == set(start)
