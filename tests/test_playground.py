"""Sân chơi huấn luyện (``nblib.presentation.playground``) không cần trình duyệt: cùng chi phí với ``nblib.train``,
chuỗi trạng thái, phát hiện phân kỳ, đổi α giữa chừng, điều kiện dừng, tác vụ nền asyncio."""

from __future__ import annotations

import asyncio
import math
import pathlib
import re
import tomllib
import warnings

import numpy as np
import pytest

from nblib import backend, optim
from nblib.model import MLP
from nblib.presentation.playground import (
    DATASETS,
    DEFAULTS,
    FEATURES,
    Playground,
    build_data,
    decode_state,
    encode_state,
    grid_images,
    normalize_config,
)
from nblib.training import minibatches, train

ROOT = pathlib.Path(__file__).resolve().parents[1]

SCENARIOS = [
    dict(dataset="spiral", hidden=[8, 8], activation="relu", optimizer="adam", lr=0.01, seed=3),
    dict(dataset="xor", hidden=[4], activation="tanh", optimizer="momentum", lr=0.1, momentum=0.8),
    dict(dataset="circles", hidden=[6, 6], lambd=0.03, keep_prob=0.8, batch_size=20, seed=2),
    dict(dataset="moons", hidden=[5], batchnorm=True, optimizer="sgd", lr=0.05, init="he"),
    dict(dataset="gauss", hidden=[], features=["x1", "x2", "x1^2", "sin_x2"], init=0.01, lr=0.3),
]


def _reference(cfg, epochs):
    """Cùng cấu hình, huấn luyện bằng ``nblib.train`` với mô hình dựng trực tiếp từ ``MLP``."""
    cfg = normalize_config(**cfg)
    d = build_data(cfg)
    init = cfg["init"] if cfg["init"] != "scale" else cfg["init_scale"]
    model = MLP(
        [len(cfg["features"]), *cfg["hidden"], 1],
        activation=cfg["activation"],
        output="sigmoid",
        init=init,
        lambd=cfg["lambd"],
        keep_prob=cfg["keep_prob"],
        batchnorm=cfg["batchnorm"],
        seed=cfg["seed"],
    )
    extra = {"momentum": {"gamma": cfg["momentum"]}, "adam": {}, "sgd": {}}[cfg["optimizer"]]
    hist = train(
        model,
        d["X_train"],
        d["y_train"],
        optimizer=cfg["optimizer"],
        lr=cfg["lr"],
        epochs=epochs,
        batch_size=cfg["batch_size"],
        optim_params=extra,
        seed=cfg["seed"],
        explode_factor=1e9,
    )
    return hist, model


@pytest.mark.parametrize("cfg", SCENARIOS, ids=[s["dataset"] for s in SCENARIOS])
def test_same_losses_as_nblib_train(cfg):
    hist, model = _reference(cfg, epochs=4)
    pg = Playground(**cfg)
    pg.step(len(hist["loss"]))
    np.testing.assert_allclose(pg.history["loss"], hist["loss"], rtol=0, atol=1e-12)
    assert pg.history["epochs"] == 4
    for k, w in model.params.items():
        np.testing.assert_allclose(
            backend.to_numpy(pg.run.model.params[k]), backend.to_numpy(w), atol=1e-12
        )


def test_same_losses_with_torch_backend():
    cfg = SCENARIOS[0]
    previous = backend.get_backend()
    try:
        backend.set_backend("torch")
        hist, _ = _reference(cfg, epochs=2)
        pg = Playground(**cfg)
        assert "torch" in type(pg.run.model.params["W1"]).__module__
        pg.step(len(hist["loss"]))
        torch_losses = pg.history["loss"]
    finally:
        backend.set_backend(previous)
    np.testing.assert_allclose(torch_losses, hist["loss"], atol=1e-12)
    pg_np = Playground(**cfg)
    pg_np.step(len(hist["loss"]))
    np.testing.assert_allclose(torch_losses, pg_np.history["loss"], atol=1e-10)


def test_frames_do_not_change_training():
    """Khung hình (đánh giá ở chế độ kiểm tra) không làm đổi số ngẫu nhiên của dropout hay batch norm."""
    cfg = dict(hidden=[6, 6], keep_prob=0.7, batchnorm=True, seed=5)
    a, b = Playground(**cfg), Playground(**cfg)
    for _ in range(30):
        a.step(3)  # mỗi lần gửi một khung hình
    b._train(90)
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], atol=0)


def _manual_sgd_losses(cfg, lrs):
    """Chạy thẳng các hàm của nblib, bước thứ i dùng α = lrs[i]."""
    cfg = normalize_config(**cfg)
    d = build_data(cfg)
    model = MLP(
        [2, *cfg["hidden"], 1], activation=cfg["activation"], output="sigmoid", init="xavier"
    )
    X, y = backend.asarray(d["X_train"]), backend.asarray_labels(d["y_train"])
    gen, losses, batches = backend.rng(cfg["seed"]), [], []
    for lr in lrs:
        if not batches:
            batches = list(minibatches(X, y, cfg["batch_size"], gen))
        Xb, yb = batches.pop(0)
        loss, grads = model.loss_and_grads(Xb, yb)
        losses.append(loss)
        for k in model.params:
            model.params[k], _ = optim.sgd(model.params[k], grads[k], {"lr": lr})
    return losses, model


def test_changing_lr_mid_run_affects_next_step_only():
    cfg = dict(hidden=[4, 2], lr=0.03)
    pg = Playground(**cfg)
    pg.step(5)
    before = {k: backend.to_numpy(v).copy() for k, v in pg.run.model.params.items()}
    pg.lr = 0.5  # như khi kéo thanh trượt trong lúc chạy
    assert pg.run.steps == 5 and pg.history["loss"] == pg.history["loss"][:5]
    for k, v in pg.run.model.params.items():  # đổi α không đụng tới tham số đã học
        np.testing.assert_array_equal(backend.to_numpy(v), before[k])
    pg.step(3)
    expected, model = _manual_sgd_losses(cfg, [0.03] * 5 + [0.5] * 3)
    np.testing.assert_allclose(pg.history["loss"], expected, atol=1e-12)
    for k, w in model.params.items():
        np.testing.assert_allclose(backend.to_numpy(pg.run.model.params[k]), w, atol=1e-12)
    unchanged, _ = _manual_sgd_losses(cfg, [0.03] * 8)
    assert pg.history["loss"][:6] == pytest.approx(
        unchanged[:6], abs=1e-12
    )  # bước 6 tính trước cập nhật
    assert abs(pg.history["loss"][6] - unchanged[6]) > 1e-6


def test_live_hyperparameters_and_reset_keys():
    pg = Playground(hidden=[4], optimizer="adam", lr=0.01)
    pg.step(20)
    pg.keep_prob, pg.lambd, pg.beta1 = 0.5, 0.1, 0.8
    assert pg.run.steps == 20
    assert pg.run.model.keep_prob == 0.5 and pg.run.model.lambd == 0.1
    assert (
        pg.run.opt_state["beta1"] == 0.8 and pg.run.opt_state["t"] == 20
    )  # bộ nhớ Adam giữ nguyên
    pg.optimizer = "momentum"
    assert pg.run.steps == 20 and "m" not in pg.run.opt_state
    for key, value in [("hidden", [3, 3]), ("dataset", "xor"), ("seed", 7), ("activation", "relu")]:
        pg.step(5)
        setattr(pg, key, value)
        assert pg.run.steps == 0 and pg.history["loss"] == [], key
    assert pg.run.model.layer_dims == [2, 3, 3, 1]


def test_state_string_round_trips():
    for cfg in SCENARIOS:
        pg = Playground(**cfg)
        s = pg.state
        assert s.startswith("v1;") and len(s) < 120, s
        again = Playground.from_state(s)
        assert again.config == pg.config and again.state == s
        assert decode_state(encode_state(pg.config)) == pg.config
    assert Playground().state == "v1"
    pg = Playground()
    pg.load_state("v1;ds=xor;h=0;lr=3")
    assert pg.dataset == "xor" and pg.hidden == [] and pg.lr == 3.0
    with pytest.raises(ValueError, match="chuỗi trạng thái"):
        decode_state("v1;xx=1")
    with pytest.raises(ValueError, match="bắt đầu bằng"):
        decode_state("ds=xor")


def test_init_shortcuts_and_validation():
    assert Playground(init=0).config["init_scale"] == 0.0
    assert Playground(init="zeros").config["init"] == "scale"
    assert Playground(init=0.01).state == "v1;init=scale;is=0.01"
    with pytest.raises(ValueError, match="tầng ẩn"):
        Playground(hidden=[8] * 7)
    with pytest.raises(ValueError, match="nơ-ron"):
        Playground(hidden=[9])
    with pytest.raises(ValueError, match="Không có điều khiển"):
        Playground(learning_rate=0.1)
    assert set(DATASETS) == {"circles", "xor", "gauss", "spiral", "moons"}
    assert len(FEATURES) == 7 and list(DEFAULTS)[:2] == ["dataset", "noise"]


def test_divergence_pauses_with_vietnamese_message_and_no_warnings():
    pg = Playground(lr=10.0, hidden=[8, 8])
    pg.playing = True  # ngoài vòng lặp sự kiện: chỉ đặt cờ
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pg.step(500)
    assert not caught, [str(w.message) for w in caught]
    assert pg.status == "phân kỳ" and not pg.playing
    assert pg.message.startswith("Phân kỳ") and "tốc độ học α" in pg.message
    assert re.search(r"\d,\d", pg.message), pg.message  # dấu phẩy thập phân
    steps = pg.run.steps
    assert pg.step(10) == 0 and pg.run.steps == steps  # đã phân kỳ: không chạy tiếp
    for v in pg.run.model.params.values():
        assert np.all(np.isfinite(backend.to_numpy(v)))
    pg.playing = True
    assert not pg.playing  # phải đặt lại trước khi chạy tiếp
    pg.lr = 0.03
    pg.reset()
    assert pg.status == "ok" and pg.message == "" and pg.step(5) == 5


def test_nan_loss_is_divergence():
    pg = Playground(lr=10.0, activation="linear", hidden=[8, 8], batch_size=500)
    pg.step(50)
    assert pg.status == "phân kỳ"
    assert not math.isfinite(pg.history["loss"][-1]) or pg.history["loss"][-1] > 2


def test_stop_conditions():
    pg = Playground(stop_epochs=2, batch_size=50)
    pg.step(10_000)
    assert pg.run.epoch == 2 and pg.status == "dừng" and "điều kiện dừng" in pg.message
    pg = Playground(dataset="gauss", hidden=[2], lr=0.3, stop_loss=0.2)
    pg.step(100_000)
    assert pg.status == "dừng" and pg.run.smooth < 0.2 and pg.run.epoch < 1000


def test_frames_are_small_and_describe_the_network():
    pg = Playground(hidden=[8, 8], n_points=500)
    sent = []
    pg.send = lambda content, buffers=None: sent.append((content, buffers))
    pg.step(10)
    frame, buffers = sent[-1]
    assert frame["type"] == "frame" and frame["step"] == 10 and frame["dims"] == [2, 8, 8, 1]
    # một bộ đệm: mọi W[l], b[l] (float64), rồi bản đồ nhiệt uint8 trên lưới thô do kernel tính:
    # xác suất đầu ra và một bản đồ cho mỗi nơ-ron ẩn (grid_images)
    n_params = 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1
    assert len(buffers) == 1 and frame["n_params"] == n_params and frame["maps"] is True
    assert len(buffers[0]) == 8 * n_params + 17 * frame["grid"] ** 2 < 40_000
    params = np.frombuffer(buffers[0][: 8 * n_params], dtype=np.float64)
    np.testing.assert_array_equal(params[:16], backend.to_numpy(pg.run.model.params["W1"]).ravel())
    np.testing.assert_array_equal(params[-1:], backend.to_numpy(pg.run.model.params["b3"]).ravel())
    out, hidden = grid_images(pg.run)
    assert buffers[0][8 * n_params :] == out.tobytes() + hidden.tobytes()
    # trình duyệt tự tính bản đồ nhiệt (netMaps): khung hình chỉ còn tham số
    pg.maps_in_kernel = False
    pg.step(1)
    frame, buffers = sent[-1]
    assert frame["maps"] is False and len(buffers[0]) == 8 * n_params
    assert frame["features"] == ["x1", "x2"] and frame["activation"] == "tanh"
    assert frame["grid"] == 40 and frame["radius"] == 3.0 and frame["batchnorm"] is False
    assert len(frame["act"]) == 2 and len(frame["grad"]) == 3 and frame["grad"][0] > 0
    assert 0 <= frame["train_acc"] <= 1 and frame["train_loss"] > 0


def test_play_runs_as_asyncio_task_without_blocking():
    async def scenario():
        pg = Playground(hidden=[8, 8])
        pg.play()
        assert pg._task is not None
        ticks = 0
        for _ in range(20):  # vòng lặp sự kiện vẫn chạy các việc khác trong lúc huấn luyện
            await asyncio.sleep(0.02)
            ticks += 1
        steps_playing = pg.run.steps
        pg.lr = 0.2
        await asyncio.sleep(0.1)
        pg.pause()
        await asyncio.sleep(0.1)
        return pg, ticks, steps_playing

    pg, ticks, steps_playing = asyncio.run(scenario())
    assert ticks == 20 and steps_playing > 0 and pg.frames_sent > 3
    assert pg._task is None and not pg.playing
    assert pg.run.opt_state["lr"] == 0.2


def test_js_and_css_are_shipped_in_the_package_and_offline():
    js = (ROOT / "nblib" / "presentation" / "playground.js").read_text(encoding="utf-8")
    css = (ROOT / "nblib" / "presentation" / "playground.css").read_text(encoding="utf-8")
    assert "export default" in js
    assert not re.search(r"https?://", js + css), "không tải gì từ mạng (CDN)"
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {"playground.js", "playground.css"} <= set(data["package-data"]["nblib.presentation"])
    for label in ("Đặt lại", "Chạy", "Một bước", "Tốc độ học α", "Chuẩn hoá theo batch"):
        assert label in js, label


# --------------------------------------------------------------------------- bản đồ nhiệt tính trong JS

MAPS_SCENARIOS = [
    dict(hidden=[8, 8], activation="tanh", dataset="spiral", optimizer="adam", lr=0.01),
    dict(hidden=[5, 3], activation="relu", features=["x1", "x2", "x1^2", "sin_x2"], seed=4),
    dict(hidden=[4], activation="sigmoid", features=["x1x2", "x2^2", "sin_x1"], lr=0.3),
    dict(hidden=[6, 6, 6], activation="linear", init="he"),
    dict(hidden=[6, 4], batchnorm=True, activation="relu", keep_prob=0.8, seed=2),
    dict(hidden=[], dataset="xor", lr=0.3),
]

_NODE_DRIVER = """
import { netMaps } from "./playground.mjs";
import { readFileSync } from "node:fs";
const cases = JSON.parse(readFileSync(0, "utf-8"));
const res = cases.map(([spec, params]) => {
  const m = netMaps(spec, Float64Array.from(params));
  return { out: Array.from(m.out), hidden: Array.from(m.hidden), offsets: m.weightOffsets };
});
process.stdout.write(JSON.stringify(res));
"""


def test_js_heatmaps_equal_python_grid_images(tmp_path):
    """Trình duyệt tính bản đồ nhiệt (đầu ra, từng nơ-ron ẩn) từ vector tham số của khung hình:
    hàm ``netMaps`` của playground.js, chạy bằng node, cho đúng các giá trị uint8 của ``grid_images``
    (truyền thuận của nblib ở chế độ kiểm tra, kể cả batch norm với trung bình trượt)."""
    import json
    import shutil
    import subprocess

    from nblib.presentation.playground import BN_EPS, GRID, RADIUS, params_vector

    node = shutil.which("node")
    if node is None:
        pytest.skip("cần node để chạy playground.js ngoài trình duyệt")
    shutil.copy(ROOT / "nblib" / "presentation" / "playground.js", tmp_path / "playground.mjs")
    (tmp_path / "driver.mjs").write_text(_NODE_DRIVER, encoding="utf-8")
    cases, expected = [], []
    for cfg in MAPS_SCENARIOS:
        pg = Playground(**cfg)
        pg.step(37)
        r = pg.run
        spec = {
            "grid": GRID,
            "radius": RADIUS,
            "dims": r.model.layer_dims,
            "features": normalize_config(**cfg)["features"],
            "activation": r.model.activations[0] if r.model.activations else "linear",
            "batchnorm": r.model.batchnorm,
            "bn_eps": BN_EPS,
        }
        cases.append([spec, params_vector(r).tolist()])
        expected.append(grid_images(r))
    proc = subprocess.run(
        [node, str(tmp_path / "driver.mjs")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    results = json.loads(proc.stdout)
    for cfg, (out, hidden), res in zip(MAPS_SCENARIOS, expected, results, strict=True):
        js_out, js_hidden = np.array(res["out"]), np.array(res["hidden"])
        assert js_out.shape == out.shape and js_hidden.shape == hidden.shape, cfg
        # cùng công thức; chỉ có thể lệch 1 ở một giá trị nằm đúng ranh giới làm tròn
        # (thứ tự cộng của BLAS, tanh/exp của JS và numpy khác nhau ở chữ số cuối)
        for js, py in ((js_out, out), (js_hidden, hidden)):
            diff = np.abs(js.astype(int) - py.astype(int))
            assert diff.max(initial=0) <= 1 and np.count_nonzero(diff) <= 0.001 * diff.size, cfg
        assert len(np.unique(out)) > 5, cfg  # bản đồ không phẳng: so sánh có ý nghĩa
    # vị trí của W[l] trong vector tham số: các cạnh của mạng vẽ đúng trọng số
    pg = Playground(**MAPS_SCENARIOS[0])
    pg.step(5)
    vec = params_vector(pg.run)
    for l, off in enumerate(results[0]["offsets"], start=1):
        W = backend.to_numpy(pg.run.model.params[f"W{l}"])
        assert off == sum(
            math.prod(pg.run.model.params[k].shape) for k in (f"W{i}" for i in range(1, l))
        ) + sum(pg.run.model.layer_dims[i] for i in range(1, l))
        np.testing.assert_array_equal(vec[off : off + W.size], W.ravel())
