"""Sân chơi huấn luyện trực tiếp: xem mạng nơ-ron học *trong lúc* nó học (như TensorFlow Playground).

``Playground`` là một widget (anywidget): trình duyệt vẽ mọi thứ lên canvas (mã JavaScript nằm ngay
trong gói, tệp ``playground.js``: không CDN, chạy được khi không có mạng), còn kernel chỉ huấn luyện và
gửi các mảng nhỏ (lưới thô các giá trị đầu ra, chi phí mới nhất). Việc huấn luyện là một tác vụ asyncio
trên vòng lặp sự kiện của kernel, nên các điều khiển vẫn trả lời trong lúc mạng đang học.

Mọi công thức là của nblib: ``nblib.model.MLP`` (truyền thuận, lan truyền ngược, L2, dropout, batch
norm), ``nblib.optim`` (SGD, động lượng, Adam) và ``nblib.train.minibatches``; mỗi bước huấn luyện giống
hệt một bước của ``nblib.train`` (cùng seed thì cùng chi phí).

Ví dụ::

    from nblib.presentation.playground import Playground
    Playground(dataset="xor", hidden=[], lr=0.3)          # XOR không có tầng ẩn: không học được
    pg = Playground.from_state("v1;ds=spiral;h=8-8;act=relu;opt=adam;lr=0.01")
    pg.step(100)                                           # huấn luyện 100 bước, không cần giao diện
    pg.state                                               # chuỗi trạng thái để dán lại

α, λ, keep_prob và siêu tham số của thuật toán tối ưu có hiệu lực từ bước kế tiếp, kể cả khi đang
chạy; đổi dữ liệu, kiến trúc, khởi tạo hay seed thì huấn luyện lại từ đầu.
"""

from __future__ import annotations

import asyncio
import math
import pathlib
import time
import warnings

import anywidget
import numpy as np
import traitlets as T

from .. import backend, optim
from ..activations import sigmoid
from ..model import MLP, labels_from_scores
from ..numfmt import comma
from ..training import FusedStep, is_diverging, minibatches

_HERE = pathlib.Path(__file__).parent

DATASETS = ("circles", "xor", "gauss", "spiral", "moons")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "momentum", "adam")
INITS = ("xavier", "he", "scale")
MAX_LAYERS, MAX_NEURONS = 6, 8
RADIUS = 3.0  # mặt phẳng đầu vào là hình vuông [−3, 3]²
GRID = 40  # số ô mỗi chiều của lưới thô trên đó trình duyệt vẽ bản đồ nhiệt
FPS = 60.0  # nhịp gửi khung hình tối đa khi đang chạy (bằng nhịp vẽ của trình duyệt)
MAX_IN_FLIGHT = 24  # số khung hình tối đa đã gửi mà trình duyệt chưa báo nhận (≈ 0,4 s)

# Giá trị mặc định của mọi điều khiển (cũng là thứ tự trong chuỗi trạng thái).
DEFAULTS = {
    "dataset": "circles",
    "noise": 0.1,
    "n_points": 500,
    "train_frac": 0.7,
    "features": ["x1", "x2"],
    "hidden": [4, 2],
    "activation": "tanh",
    "optimizer": "sgd",
    "lr": 0.03,
    "momentum": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "batch_size": 10,
    "init": "xavier",
    "init_scale": 1.0,
    "keep_prob": 1.0,
    "lambd": 0.0,
    "batchnorm": False,
    "seed": 0,
    "stop_loss": 0.0,
    "stop_epochs": 0,
    "steps_per_frame": 10,
}
# Đổi các giá trị này thì huấn luyện lại từ đầu; các giá trị còn lại có hiệu lực từ bước kế tiếp.
RESET_KEYS = (
    "dataset",
    "noise",
    "n_points",
    "train_frac",
    "features",
    "hidden",
    "activation",
    "init",
    "init_scale",
    "batchnorm",
    "seed",
)
_SHORT = {
    "dataset": "ds",
    "noise": "nz",
    "n_points": "n",
    "train_frac": "tr",
    "features": "f",
    "hidden": "h",
    "activation": "act",
    "optimizer": "opt",
    "lr": "lr",
    "momentum": "mu",
    "beta1": "b1",
    "beta2": "b2",
    "batch_size": "bs",
    "init": "init",
    "init_scale": "is",
    "keep_prob": "kp",
    "lambd": "l2",
    "batchnorm": "bn",
    "seed": "s",
    "stop_loss": "sl",
    "stop_epochs": "se",
    "steps_per_frame": "spf",
}
_LONG = {v: k for k, v in _SHORT.items()}
STATE_VERSION = "v1"


# --------------------------------------------------------------------------- dữ liệu


def make_dataset(name, n=500, noise=0.1, seed=0):
    """Bộ dữ liệu 2D hai lớp trên mặt phẳng [−3, 3]²: X (2, n), nhãn y (n,) ∈ {0, 1}.

    ``noise`` trong [0, 0,5]: độ lệch chuẩn của nhiễu, tính theo bán kính của mặt phẳng (``RADIUS``).
    """
    if name not in DATASETS:
        raise ValueError(f"Bộ dữ liệu không hợp lệ: {name!r}. Các giá trị hợp lệ: {DATASETS}.")
    gen = backend.rng(seed)
    n = int(n)
    y = np.arange(n) % 2
    eps = gen.standard_normal((2, n)) * noise * RADIUS
    if name == "circles":
        r = np.where(y == 1, gen.uniform(0.0, 0.4, n), gen.uniform(0.7, 1.0, n)) * 0.9 * RADIUS
        t = gen.uniform(0.0, 2 * np.pi, n)
        X = np.stack([r * np.cos(t), r * np.sin(t)]) + eps
    elif name == "xor":
        X = gen.uniform(-1.0, 1.0, (2, n)) * 0.9 * RADIUS
        X += np.sign(X) * 0.1  # chừa một khe nhỏ quanh hai trục
        y = (X[0] * X[1] > 0).astype(np.int64)
        X = X + eps
    elif name == "gauss":
        centers = np.where(y == 1, 1.0, -1.0) * 0.45 * RADIUS
        X = np.stack([centers, centers]) + gen.standard_normal((2, n)) * 0.3 + eps
    elif name == "spiral":
        r = np.linspace(0.05, 1.0, n) * 0.9 * RADIUS
        t = np.linspace(0.0, 1.0, n) * 1.75 * 2 * np.pi + np.pi * y
        X = np.stack([r * np.sin(t), r * np.cos(t)]) + eps
    else:  # moons
        t = gen.uniform(0.0, np.pi, n)
        X = np.where(
            y == 1,
            np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)]),
            np.stack([np.cos(t), np.sin(t)]),
        )
        X = (X - np.array([[0.5], [0.25]])) * 0.45 * RADIUS * 1.3 + eps
    return np.clip(X, -RADIUS, RADIUS), y.astype(np.int64)


def split_train_test(X, y, train_frac=0.7, seed=0):
    """Chia ngẫu nhiên các cột thành (X_train, y_train, X_test, y_test)."""
    perm = backend.rng(seed).permutation(X.shape[1])
    k = int(round(X.shape[1] * float(train_frac)))
    tr, te = perm[:k], perm[k:]
    return X[:, tr], y[tr], X[:, te], y[te]


def feature_matrix(X, names):
    """Các đặc trưng đầu vào tính từ toạ độ X (2, m): x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂."""
    x1, x2 = X[0], X[1]
    table = {
        "x1": lambda: x1,
        "x2": lambda: x2,
        "x1^2": lambda: x1 * x1,
        "x2^2": lambda: x2 * x2,
        "x1x2": lambda: x1 * x2,
        "sin_x1": lambda: np.sin(x1),
        "sin_x2": lambda: np.sin(x2),
    }
    return np.stack([table[f]() for f in names])


def plane_grid(n=GRID):
    """Tâm các ô của lưới n×n phủ [−3, 3]², hình dạng (2, n²); hàng 0 ở trên cùng (x₂ lớn nhất)."""
    c = (np.arange(n) + 0.5) / n * 2 * RADIUS - RADIUS
    x1, x2 = np.meshgrid(c, c[::-1])
    return np.stack([x1.ravel(), x2.ravel()])


# --------------------------------------------------------------------------- cấu hình và chuỗi trạng thái


def normalize_config(**values):
    """Cấu hình đầy đủ (dict) từ các giá trị truyền vào, kiểm tra và báo lỗi bằng tiếng Việt.

    ``init`` nhận "xavier", "he", "zeros" (= hệ số 0) hoặc một số (hệ số của randn).
    """
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise ValueError(
            f"Không có điều khiển tên {sorted(unknown)}; các tên hợp lệ: {list(DEFAULTS)}."
        )
    cfg = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULTS.items()}
    cfg.update(values)
    init = cfg["init"]
    if init == "zeros":
        cfg["init"], cfg["init_scale"] = "scale", 0.0
    elif isinstance(init, (int, float)) and not isinstance(init, bool):
        cfg["init"], cfg["init_scale"] = "scale", float(init)
    for key, valid in (
        ("dataset", DATASETS),
        ("activation", ACTIVATIONS),
        ("optimizer", OPTIMIZERS),
        ("init", INITS),
    ):
        if cfg[key] not in valid:
            raise ValueError(f"Giá trị không hợp lệ cho '{key}': {cfg[key]!r}; hợp lệ: {valid}.")
    cfg["features"] = [f for f in FEATURES if f in set(cfg["features"])]
    bad = set(values.get("features", [])) - set(FEATURES)
    if bad or not cfg["features"]:
        raise ValueError(f"Đặc trưng không hợp lệ {sorted(bad)}; cần ít nhất một trong {FEATURES}.")
    cfg["hidden"] = [int(h) for h in cfg["hidden"]]
    if len(cfg["hidden"]) > MAX_LAYERS or any(not 1 <= h <= MAX_NEURONS for h in cfg["hidden"]):
        raise ValueError(
            f"Tối đa {MAX_LAYERS} tầng ẩn, mỗi tầng 1–{MAX_NEURONS} nơ-ron; nhận được {cfg['hidden']}."
        )
    for key in ("noise", "train_frac", "lr", "momentum", "beta1", "beta2", "init_scale"):
        cfg[key] = float(cfg[key])
    for key in ("keep_prob", "lambd", "stop_loss"):
        cfg[key] = float(cfg[key])
    for key in ("n_points", "batch_size", "seed", "stop_epochs", "steps_per_frame"):
        cfg[key] = int(cfg[key])
    cfg["batchnorm"] = bool(cfg["batchnorm"])
    if not cfg["lr"] > 0 or not 0 < cfg["keep_prob"] <= 1 or cfg["lambd"] < 0:
        raise ValueError("Cần α > 0, 0 < keep_prob ≤ 1 và λ ≥ 0.")
    if not 0.1 <= cfg["train_frac"] <= 0.9 or cfg["n_points"] < 10 or cfg["batch_size"] < 1:
        raise ValueError("Cần tỉ lệ huấn luyện trong [0,1; 0,9], ít nhất 10 điểm và batch ≥ 1.")
    cfg["steps_per_frame"] = min(max(cfg["steps_per_frame"], 1), 200)
    return cfg


def _fmt(key, v):
    if key == "features":
        return ",".join(v)
    if key == "hidden":
        return "-".join(map(str, v)) or "0"
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return format(v, ".6g")
    return str(v)


def _parse(key, s):
    kind = DEFAULTS[key]
    if key == "features":
        return [f for f in s.split(",") if f]
    if key == "hidden":
        return [] if s in ("", "0") else [int(h) for h in s.split("-")]
    if isinstance(kind, bool):
        return s not in ("0", "false", "False")
    if isinstance(kind, int):
        return int(s)
    if isinstance(kind, float):
        return float(s)
    return s


def encode_state(cfg):
    """Chuỗi trạng thái ngắn: chỉ các giá trị khác mặc định, ví dụ ``v1;ds=xor;h=0;lr=3``."""
    parts = [STATE_VERSION]
    for key, default in DEFAULTS.items():
        if _fmt(key, cfg[key]) != _fmt(key, default):
            parts.append(f"{_SHORT[key]}={_fmt(key, cfg[key])}")
    return ";".join(parts)


def decode_state(s):
    """Ngược lại của ``encode_state``: chuỗi trạng thái → cấu hình đầy đủ (dict)."""
    parts = [p.strip() for p in str(s).strip().split(";") if p.strip()]
    if not parts or parts[0] != STATE_VERSION:
        raise ValueError(f"Chuỗi trạng thái phải bắt đầu bằng '{STATE_VERSION};', nhận được {s!r}.")
    values = {}
    for p in parts[1:]:
        short, sep, raw = p.partition("=")
        if not sep or short not in _LONG:
            raise ValueError(f"Không hiểu phần {p!r} của chuỗi trạng thái.")
        values[_LONG[short]] = _parse(_LONG[short], raw)
    return normalize_config(**values)


# --------------------------------------------------------------------------- một lượt huấn luyện


def build_model(cfg):
    """MLP của cấu hình: [số đặc trưng, *tầng ẩn, 1], đầu ra sigmoid (entropy chéo nhị phân)."""
    init = cfg["init"] if cfg["init"] != "scale" else float(cfg["init_scale"])
    return MLP(
        [len(cfg["features"]), *cfg["hidden"], 1],
        activation=cfg["activation"],
        output="sigmoid",
        init=init,
        lambd=cfg["lambd"],
        keep_prob=cfg["keep_prob"],
        batchnorm=cfg["batchnorm"],
        seed=cfg["seed"],
    )


def build_data(cfg):
    """Dữ liệu của cấu hình (mảng numpy): dict với X_train, y_train, X_test, y_test (đã qua đặc trưng),
    P_train, P_test (toạ độ trên mặt phẳng) và G (đặc trưng của lưới thô)."""
    P, y = make_dataset(cfg["dataset"], cfg["n_points"], cfg["noise"], cfg["seed"])
    P_tr, y_tr, P_te, y_te = split_train_test(P, y, cfg["train_frac"], cfg["seed"])
    f = cfg["features"]
    return {
        "P_train": P_tr,
        "P_test": P_te,
        "X_train": feature_matrix(P_tr, f),
        "y_train": y_tr,
        "X_test": feature_matrix(P_te, f),
        "y_test": y_te,
        "G": feature_matrix(plane_grid(), f),
    }


def optimizer_state(cfg):
    """Siêu tham số của thuật toán tối ưu (dict ``state`` của ``nblib.optim``), không có bộ nhớ."""
    extra = {
        "sgd": {},
        "momentum": {"gamma": cfg["momentum"]},
        "adam": {"beta1": cfg["beta1"], "beta2": cfg["beta2"]},
    }
    return dict(extra[cfg["optimizer"]], lr=cfg["lr"])


class Run:
    """Trạng thái của một lượt huấn luyện: mô hình, bước tối ưu (``nblib.training.FusedStep``: cùng
    kết quả với ``nblib.training.step``, đủ nhanh cho vài chục khung hình mỗi giây), bộ nhớ của thuật
    toán tối ưu, các mini-batch của epoch đang chạy và lịch sử chi phí."""

    def __init__(self, cfg):
        self.model = build_model(cfg)
        data = build_data(cfg)
        W1 = self.model.params["W1"]
        self.data = data
        self.X = backend.asarray(data["X_train"], like=W1)
        self.y = backend.asarray_labels(data["y_train"], like=W1)
        self.X_test = backend.asarray(data["X_test"], like=W1)
        self.y_test = backend.asarray_labels(data["y_test"], like=W1)
        self.G = backend.asarray(data["G"], like=W1)
        self.xp = backend.namespace(W1)
        self.optimizer = cfg["optimizer"]
        self.fused = FusedStep(self.model.params, optim.get(self.optimizer), optimizer_state(cfg))
        self.gen = backend.rng(cfg["seed"])  # xáo trộn mini-batch: như nblib.train(seed=seed)
        self.batches, self.batch_index = [], 0
        self.epoch, self.steps = 0, 0
        self.losses = []
        self.initial = None
        self.smooth = None
        self.grads = None
        self.status, self.message = "ok", ""

    @property
    def opt_state(self):
        """Siêu tham số và bộ nhớ của thuật toán tối ưu (``lr``, ``beta1``, ``m``, ``t``…)."""
        return self.fused.state

    @opt_state.setter
    def opt_state(self, state):
        self.fused.state = state


def apply_hyperparameters(run, cfg):
    """Đặt α, λ, keep_prob và siêu tham số tối ưu mới; có hiệu lực từ bước kế tiếp.

    Đổi thuật toán tối ưu thì bộ nhớ của thuật toán (vận tốc, trung bình trượt) bắt đầu lại từ 0."""
    run.model.lambd = float(cfg["lambd"])
    run.model.keep_prob = float(cfg["keep_prob"])
    memory = {k: v for k, v in run.opt_state.items() if k in ("v", "m", "t", "s")}
    if cfg["optimizer"] != run.optimizer:
        run.optimizer, memory = cfg["optimizer"], {}
        run.fused.update = optim.get(run.optimizer)
    run.opt_state = dict(memory, **optimizer_state(cfg))


def train_step(run, batch_size):
    """Một bước hạ gradient trên mini-batch kế tiếp, đúng như một bước của ``nblib.train``.

    Trả về chi phí của mini-batch. Khi phân kỳ: ``run.status = "phân kỳ"`` và tham số không đổi."""
    model = run.model
    if run.batch_index >= len(run.batches):
        run.batches = list(minibatches(run.X, run.y, batch_size, run.gen))
        run.batch_index = 0
    Xb, yb = run.batches[run.batch_index]
    loss, grads = model.loss_and_grads(Xb, yb)
    n_batches = len(run.batches)
    if run.initial is None:
        run.initial = loss if n_batches == 1 else model.loss(run.X, run.y)
        run.smooth = run.initial
    beta = 0.0 if n_batches == 1 else 1.0 - 1.0 / min(n_batches, 20)
    run.smooth = beta * run.smooth + (1.0 - beta) * loss
    run.losses.append(loss)
    if is_diverging(loss, run.smooth, run.initial):
        run.status = "phân kỳ"
        run.message = (
            f"Phân kỳ ở epoch {run.epoch + 1}, bước {run.steps + 1}: chi phí = {_vi(loss)} "
            f"(ban đầu {_vi(run.initial)}). Đã tạm dừng; hãy giảm tốc độ học α "
            f"(đang là {_vi(run.opt_state['lr'])}) rồi bấm «Đặt lại»."
        )
        return loss
    run.fused(model.params, grads, run.opt_state["lr"])
    run.grads = grads
    run.steps += 1
    run.batch_index += 1
    if run.batch_index >= n_batches:
        run.epoch += 1
    return loss


def _vi(x, digits=4):
    """Số thực theo kiểu Việt Nam (dấu phẩy thập phân), ví dụ 0,6931."""
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("+∞" if x > 0 else "−∞")
    return f"{comma(x):.{digits}g}"


def _rms(xp, a):
    return math.sqrt(backend.to_float(xp.mean(a * a))) if a is not None else 0.0


def _to_u8(a, lo, hi):
    scaled = (np.nan_to_num(a, nan=0.0, posinf=hi, neginf=lo) - lo) / max(hi - lo, 1e-12)
    return np.clip(np.round(scaled * 255.0), 0, 255).astype(np.uint8)


def hidden_activations(caches):
    """Kích hoạt của từng tầng ẩn lấy từ caches của ``MLP.scores``: đầu vào của tầng kế tiếp."""
    if len(caches) < 2:
        return []
    return [c_dense[0] for c_dense, _, _, _ in caches[1:-1]] + [caches[-1][0]]


def evaluate(run):
    """Chi phí và độ chính xác trên tập huấn luyện và tập kiểm tra (chế độ kiểm tra), cùng độ lớn
    (RMS) của kích hoạt từng tầng ẩn trên tập huấn luyện và của gradient dW từng tầng ở bước cuối."""
    model, xp = run.model, run.xp
    out = {}
    for name, X, y in (("train", run.X, run.y), ("test", run.X_test, run.y_test)):
        scores, caches = model.scores(X)
        out[f"{name}_loss"] = model.loss_from_scores(scores, y) if X.shape[1] else float("nan")
        pred = labels_from_scores(scores, "sigmoid")
        out[f"{name}_acc"] = float(backend.to_float(xp.mean(xp.astype(pred == y, xp.float64))))
        if name == "train":
            out["act"] = [_rms(xp, a) for a in hidden_activations(caches)]
    L = model.L
    out["grad"] = [_rms(xp, run.grads[f"W{l}"]) if run.grads else 0.0 for l in range(1, L + 1)]
    return out


def grid_images(run):
    """Lưới thô gửi sang trình duyệt: xác suất đầu ra (uint8, GRID²) và kích hoạt của từng nơ-ron ẩn
    (uint8, chuẩn hoá theo max |a| của nơ-ron đó trên mặt phẳng, 128 là 0)."""
    scores, caches = run.model.scores(run.G)
    p = backend.to_numpy(sigmoid(scores))[0]
    out = _to_u8(p, 0.0, 1.0)
    neurons = []
    for A in hidden_activations(caches):
        A = backend.to_numpy(A)
        scale = np.nanmax(np.abs(np.nan_to_num(A)), axis=1, keepdims=True)
        neurons.append(_to_u8(A / np.maximum(scale, 1e-12), -1.0, 1.0))
    hidden = np.concatenate(neurons).ravel() if neurons else np.zeros(0, np.uint8)
    return out, hidden


BN_EPS = 1e-5  # ε của ``nblib.layers.batchnorm_forward`` (mặc định)


def params_vector(run):
    """Mọi tham số của mạng nối thành một vector float64, bộ đệm duy nhất của một khung hình.

    Thứ tự: với l = 1…L: W[l] (theo hàng), b[l]; rồi nếu có batch norm, với mỗi tầng ẩn l: γ[l],
    β[l], trung bình trượt, phương sai trượt. Trình duyệt (``netMaps`` trong ``playground.js``) tính
    lại từ vector này, trên lưới thô ``GRID``², đúng lượt truyền thuận ở chế độ kiểm tra của
    ``MLP.scores``: xác suất đầu ra và kích hoạt của từng nơ-ron ẩn (như ``grid_images``), và vẽ các
    cạnh theo W[l]. Vài trăm số thay cho vài chục nghìn byte ảnh mỗi khung hình."""
    model = run.model
    p, L = model.params, model.L
    parts = []
    for l in range(1, L + 1):
        parts += [p[f"W{l}"], p[f"b{l}"]]
    if model.batchnorm:
        for l in range(1, L):
            st = model.bn_state[l]
            mean = st.get("running_mean", np.zeros(model.layer_dims[l]))
            var = st.get("running_var", np.ones(model.layer_dims[l]))
            parts += [p[f"gamma{l}"], p[f"beta{l}"], mean, var]
    return np.concatenate([backend.to_numpy(a).astype(np.float64).ravel() for a in parts])


# --------------------------------------------------------------------------- widget


def _trait(value):
    if isinstance(value, bool):
        return T.Bool(value)
    if isinstance(value, int):
        return T.Int(value)
    if isinstance(value, float):
        return T.Float(value)
    if isinstance(value, list):
        return T.List(list(value))
    return T.Unicode(value)


class Playground(anywidget.AnyWidget):
    """Sân chơi huấn luyện trực tiếp (xem docstring của mô-đun). Tham số: tên các điều khiển trong
    ``DEFAULTS`` (ví dụ ``dataset="xor", hidden=[8, 8], lr=3.0, init="he"``), cùng ``title`` (tiêu đề
    hiện trên widget) và ``compact`` (chỉ hiện nút bấm, ranh giới quyết định và đường chi phí)."""

    _esm = _HERE / "playground.js"
    _css = _HERE / "playground.css"
    # Bản đồ nhiệt (đầu ra, từng nơ-ron ẩn): mặc định kernel tính bằng numpy (``grid_images``, ít thời
    # gian CPU hơn) và gửi kèm khung hình, nên trình duyệt (luồng chính của JupyterLab) nhẹ hơn; False:
    # khung hình chỉ có tham số, trình duyệt tự tính (``netMaps`` trong playground.js, chỉ cho các khung
    # thật sự được vẽ), có ích khi kernel là nơi chậm (nhiều sân chơi cùng chạy trong một kernel).
    maps_in_kernel = True

    locals().update({k: _trait(v).tag(sync=True) for k, v in DEFAULTS.items()})
    playing = T.Bool(False).tag(sync=True)
    status = T.Unicode("ok").tag(sync=True)
    message = T.Unicode("").tag(sync=True)
    state = T.Unicode("").tag(sync=True)
    rev = T.Int(0).tag(
        sync=True
    )  # số hiệu lần đổi điều khiển (trình duyệt tăng, khung hình gửi lại)
    title = T.Unicode("").tag(sync=True)
    compact = T.Bool(False).tag(sync=True)

    def __init__(self, title="", compact=False, **values):
        cfg = normalize_config(**values)
        self._ready = False
        super().__init__(title=title, compact=compact, **cfg)
        self._task = None
        self._in_flight, self._last_ack = 0, 0.0
        self.frames_sent = 0
        self.evals = []  # mỗi khung hình: (bước, chi phí huấn luyện, chi phí kiểm tra, …)
        self._ready = True
        self.reset()
        self.observe(self._on_config, names=list(DEFAULTS))
        self.observe(self._on_playing, names="playing")
        self.on_msg(self._on_custom)

    # ----- cấu hình -----
    @classmethod
    def from_state(cls, s, **kw):
        """Dựng lại một sân chơi từ chuỗi trạng thái (``pg.state``)."""
        return cls(**kw, **decode_state(s))

    @property
    def config(self):
        """Cấu hình hiện tại (dict), cùng khoá với ``DEFAULTS``."""
        return normalize_config(**{k: getattr(self, k) for k in DEFAULTS})

    def load_state(self, s):
        """Nạp chuỗi trạng thái vào sân chơi đang hiện (huấn luyện lại từ đầu)."""
        cfg = decode_state(s)
        with self.hold_trait_notifications():
            for k, v in cfg.items():
                setattr(self, k, v)
        self.reset()

    def _on_config(self, change):
        if not self._ready:
            return
        if change["name"] in RESET_KEYS:
            self.reset()
            return
        try:
            cfg = self.config
        except ValueError as exc:
            self._set_message("lỗi", f"Giá trị không hợp lệ: {exc}")
            return
        apply_hyperparameters(self.run, cfg)
        self.state = encode_state(cfg)
        if self.playing:  # đang chạy: một bước với giá trị mới rồi gửi ngay khung hình phản ánh nó
            self._train(1)
        self._send_frame()

    # ----- huấn luyện -----
    def reset(self):
        """Khởi tạo lại mạng và dữ liệu theo cấu hình hiện tại (giữ nguyên trạng thái chạy/dừng)."""
        try:
            cfg = self.config
        except ValueError as exc:
            self._set_message("lỗi", f"Giá trị không hợp lệ: {exc}")
            self.playing = False
            return
        with warnings.catch_warnings(), backend.ignore_float_errors():
            warnings.simplefilter("ignore")
            self.run = Run(cfg)
        self.evals = []
        self.state = encode_state(cfg)
        self._set_message("ok", "")
        self._send_data()
        self._send_frame()

    @property
    def history(self):
        """Lịch sử: "loss" (chi phí mỗi bước, như ``nblib.train``), "steps", "epochs", "status"."""
        r = self.run
        return {"loss": list(r.losses), "steps": r.steps, "epochs": r.epoch, "status": r.status}

    def _train(self, n, budget=None):
        """Huấn luyện tối đa ``n`` bước (hoặc tới khi hết ``budget`` giây); dừng khi phân kỳ hay khi
        đạt điều kiện dừng. Trả về số bước đã chạy."""
        r, done = self.run, 0
        if r.status != "ok":
            return 0
        t0 = time.perf_counter()
        bs = self.batch_size
        with warnings.catch_warnings(), backend.ignore_float_errors():
            warnings.simplefilter("ignore")
            while done < n:
                epoch = r.epoch
                train_step(r, bs)
                if r.status != "ok":
                    self._set_message(r.status, r.message)
                    self.playing = False
                    break
                done += 1
                if self._stop_reached(epoch):
                    break
                if budget is not None and time.perf_counter() - t0 > budget:
                    break
        return done

    def _stop_reached(self, epoch_before):
        r = self.run
        if self.stop_epochs and r.epoch >= self.stop_epochs:
            self._set_message("dừng", f"Đã dừng: đủ {r.epoch} epoch (điều kiện dừng).")
        elif self.stop_loss and r.epoch > epoch_before and r.smooth < self.stop_loss:
            self._set_message(
                "dừng",
                f"Đã dừng ở epoch {r.epoch}: chi phí {_vi(r.smooth)} < {_vi(self.stop_loss)} "
                "(điều kiện dừng).",
            )
        else:
            return False
        self.playing = False
        return True

    def step(self, n=1):
        """Huấn luyện ``n`` bước ngay (không cần giao diện), gửi một khung hình, trả về số bước."""
        done = self._train(int(n))
        self._send_frame()
        return done

    def play(self):
        """Bắt đầu huấn luyện liên tục (tác vụ nền trên vòng lặp sự kiện của kernel)."""
        self.playing = True

    def pause(self):
        """Tạm dừng."""
        self.playing = False

    def _on_playing(self, change):
        if change["new"] and self.run.status != "ok":
            self.playing = False  # đã phân kỳ hay đã dừng: phải đặt lại trước
            return
        if change["new"] and self._task is None:
            self.message = "" if self.status == "ok" else self.message
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = asyncio.get_event_loop()
            self._task = loop.create_task(self._loop())
        elif not change["new"]:
            self._send_frame()

    async def _loop(self, fps=None):
        period = 1.0 / (fps or FPS)
        deadline = time.perf_counter()
        try:
            while self.playing:
                # Lịch cố định (mỗi khung một hạn chót): khi máy bận, kernel thức dậy trễ vài ms thì
                # lần ngủ sau ngắn lại, nhịp khung hình vẫn giữ; trễ quá một khung thì bắt đầu lịch mới
                # (không gửi dồn một loạt khung mà trình duyệt sẽ bỏ).
                deadline += period
                self._train(self.steps_per_frame, budget=0.6 * period)
                now = time.perf_counter()
                # Trình duyệt báo đã nhận bao nhiêu khung ("ack", gộp lại vài lần mỗi giây): không dồn
                # quá MAX_IN_FLIGHT khung khi trình duyệt chậm hay không vẽ (thẻ bị ẩn, widget chưa
                # hiện); khi đó vẫn gửi một khung mỗi giây để trình duyệt vẽ lại được là tiếp tục.
                if self._in_flight < MAX_IN_FLIGHT:
                    self._send_frame()
                elif now - self._last_ack > 1.0:
                    self._last_ack = now  # lần gửi bắt buộc kế tiếp: sau một giây nữa
                    self._send_frame()
                delay = deadline - time.perf_counter()
                if delay < -period:
                    deadline, delay = time.perf_counter(), 0.0
                await asyncio.sleep(max(0.001, delay))
        finally:
            self._task = None

    # ----- gửi sang trình duyệt -----
    def _set_message(self, status, text):
        self.run.status = status if status in ("ok", "phân kỳ", "dừng") else self.run.status
        self.status, self.message = status, text

    def _on_custom(self, _widget, content, _buffers):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ack":
            self._in_flight = max(0, self._in_flight - int(content.get("n", 1)))
            self._last_ack = time.perf_counter()
        elif kind == "step":
            self.playing = False
            self.step(int(content.get("n", 1)))
        elif kind == "reset":
            self.reset()
        elif kind == "hello":
            self._in_flight = 0
            self._send_data()
            self._send_frame()
        elif kind == "load_state":
            try:
                self.load_state(content.get("state", ""))
            except ValueError as exc:
                self.message = f"Không nạp được chuỗi trạng thái: {exc}"

    def _send_data(self):
        d = self.run.data
        pts = np.concatenate([d["P_train"], d["P_test"]], axis=1).astype(np.float32)
        labels = np.concatenate([d["y_train"], d["y_test"] + 2]).astype(np.uint8)
        self.send(
            {"type": "data", "n_train": int(d["P_train"].shape[1]), "radius": RADIUS},
            buffers=[pts.tobytes(), labels.tobytes()],
        )

    def _send_frame(self):
        r = self.run
        with warnings.catch_warnings(), backend.ignore_float_errors():
            warnings.simplefilter("ignore")
            ev = evaluate(r)
            params = params_vector(r)
            # một bộ đệm duy nhất: tham số (float64), rồi nếu kernel tính bản đồ nhiệt thì thêm xác
            # suất đầu ra và kích hoạt từng nơ-ron ẩn trên lưới thô (uint8)
            parts = [params.tobytes()]
            if self.maps_in_kernel:
                parts += [a.tobytes() for a in grid_images(r)]
        self.evals.append((r.steps, ev["train_loss"], ev["test_loss"]))
        chosen = set(self.features)
        msg = {
            "type": "frame",
            "rev": self.rev,
            "step": r.steps,
            "epoch": r.epoch,
            "grid": GRID,
            "radius": RADIUS,
            "dims": r.model.layer_dims,
            "features": [f for f in FEATURES if f in chosen],
            "activation": r.model.activations[0] if r.model.activations else "linear",
            "batchnorm": r.model.batchnorm,
            "bn_eps": BN_EPS,
            "n_params": int(params.size),
            "maps": bool(self.maps_in_kernel),
            "status": self.status,
            "message": self.message,
            "lr": r.opt_state["lr"],
            **{
                k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in ev.items()
            },
        }
        msg["act"] = [a if math.isfinite(a) else None for a in ev["act"]]
        msg["grad"] = [g if math.isfinite(g) else None for g in ev["grad"]]
        self.send(msg, buffers=[b"".join(parts)])
        self.frames_sent += 1
        self._in_flight += 1


def side_by_side(playgrounds, columns=2):
    """Đặt nhiều sân chơi cạnh nhau (``columns`` cột), với nút chạy/dừng và đặt lại tất cả cùng lúc."""
    import ipywidgets as W

    playgrounds = list(playgrounds)
    button = W.ToggleButton(value=False, description="▶ Chạy tất cả")

    def toggle(change):
        for pg in playgrounds:
            if change["new"]:
                pg.play()
            else:
                pg.pause()
        button.description = "‖ Dừng tất cả" if change["new"] else "▶ Chạy tất cả"

    button.observe(toggle, names="value")
    reset = W.Button(description="⟲ Đặt lại tất cả")

    def reset_all(_button):
        button.value = False
        for pg in playgrounds:
            pg.reset()

    reset.on_click(reset_all)
    grid = W.GridBox(
        playgrounds,
        layout=W.Layout(grid_template_columns=f"repeat({int(columns)}, max-content)", gap="8px"),
    )
    return W.VBox([W.HBox([button, reset]), grid])
