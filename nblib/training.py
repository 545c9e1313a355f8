"""Huấn luyện bằng hạ gradient theo mini-batch, có ghi lại lịch sử và tự dừng khi phân kỳ.

Theo dáng ``Solver`` của CS231n. Đọc từ trên xuống:

- ``minibatches``: xáo trộn các mẫu rồi chia thành mini-batch;
- ``step``: một bước tối ưu, cập nhật từng tham số bằng ``update(w, dw, state)`` với bộ nhớ riêng
  (``FusedStep``: cùng kết quả, nhanh hơn trên mạng nhỏ; chỉ sân chơi trực tiếp dùng nó, để đủ
  khung hình mỗi giây);
- ``update_ratio``: tỉ lệ cập nhật/trọng số ‖ΔW‖/‖W‖ của một bước;
- ``count_correct``: số dự đoán đúng trên một mini-batch;
- ``is_diverging`` và ``DivergenceMonitor``: phân kỳ khi chi phí là NaN/vô cực, hoặc trung bình trượt
  của chi phí lớn hơn 3 lần chi phí ban đầu;
- ``EarlyStopping``: nhớ tham số tốt nhất trên tập kiểm định, báo dừng khi hết kiên nhẫn;
- ``train``: ghép các phần trên thành vòng lặp epoch → mini-batch.
"""

from __future__ import annotations

import math

import numpy as np

from . import argcheck, backend, optim
from .model import labels_from_scores
from .numfmt import comma


def minibatches(X, y, batch_size, rng=0):
    """Xáo trộn các cột (mẫu) rồi chia thành các mini-batch ``(X_b, y_b)``.

    ``batch_size=None`` là cả tập (batch gradient descent); ``batch_size=1`` là SGD. ``rng`` là seed
    hoặc ``numpy.random.Generator``: thứ tự là ``rng.permutation(m)``, mỗi lần gọi một thứ tự mới.
    """
    m = X.shape[1]
    batch_size = m if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size phải là số nguyên dương, nhận được {batch_size}.")
    perm = backend.asarray_indices(backend.rng(rng).permutation(m), like=X)
    # Xáo trộn một lần mỗi epoch (chỉ số mảng nguyên: nhanh hơn take gấp 5 lần khi X không liền bộ
    # nhớ theo hàng, ví dụ X = dữ_liệu.T), rồi cắt các khối cột liên tiếp.
    Xs = X[:, perm]
    ys = y[..., perm] if y is not None else None
    for start in range(0, m, batch_size):
        end = start + batch_size
        yield Xs[:, start:end], (ys[..., start:end] if ys is not None else None)


def step(params, grads, states, update, lr):
    """Một bước tối ưu: với mỗi tham số, ``w, state ← update(w, dw, state)``.

    Mỗi tham số có bộ nhớ riêng ``states[k]`` (vận tốc, trung bình trượt, số bước t…). Sửa ``params``
    và ``states`` tại chỗ: ai đang giữ tham chiếu tới ``params`` vẫn thấy giá trị mới.
    """
    for k in params:
        states[k]["lr"] = lr
        params[k], states[k] = update(params[k], grads[k], states[k])


class FusedStep:
    """Đường nhanh của ``step``, cho đúng cùng kết quả (kiểm thử ``test_fused_step_equals_step``).

    Thay vì gọi ``update`` cho từng tham số, nối mọi tham số thành MỘT vector và gọi ``update`` một lần
    mỗi bước. Đúng vì mọi thuật toán của ``nblib.optim`` tính theo từng phần tử; nhanh hơn vì với mạng
    cỡ bài giảng, mỗi phép tính numpy tốn chừng 1 µs dù mảng lớn hay nhỏ (như ``foreach=True`` của
    ``torch.optim``). Bộ nhớ của thuật toán (``self.state``) là của cả vector, và các giá trị trong
    ``params`` là các view vào vector đó. Chỉ để chạy nhanh: công thức cần đọc là ``step``.
    """

    def __init__(self, params, update, optim_params=None):
        self.xp = backend.namespace(*params.values())
        self.keys = list(params)
        self.shapes = [tuple(params[k].shape) for k in self.keys]
        sizes = [math.prod(shape) for shape in self.shapes]
        self.bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
        self.update, self.state = update, dict(optim_params or {})
        self.flat = self._concat(params)
        self._write_views(params)

    def _concat(self, arrays):
        return self.xp.concat([self.xp.reshape(arrays[k], (-1,)) for k in self.keys])

    def _write_views(self, params):
        for k, a, b, shape in zip(self.keys, self.bounds, self.bounds[1:], self.shapes):
            params[k] = self.xp.reshape(self.flat[a:b], shape)

    def __call__(self, params, grads, lr):
        """Một bước, như ``step(params, grads, states, update, lr)`` cho mọi tham số."""
        self.state["lr"] = lr
        self.flat, self.state = self.update(self.flat, self._concat(grads), self.state)
        self._write_views(params)


def _norm(a):
    xp = backend.namespace(a)
    return math.sqrt(backend.to_float(xp.sum(a * a)))


def update_ratio(w_old, w_new):
    """Tỉ lệ cập nhật/trọng số ‖ΔW‖/‖W‖ của một bước (nên cỡ 10⁻³, theo ghi chú «Training Neural Networks, Part I»)."""
    return _norm(w_new - w_old) / max(_norm(w_old), 1e-12)


def count_correct(scores, y, output):
    """Số dự đoán đúng (mảng 0 chiều, còn trên thiết bị của ``scores``) từ điểm số của tầng ra."""
    return backend.namespace(scores).count_nonzero(labels_from_scores(scores, output) == y)


def is_diverging(loss, smooth, initial, factor=3.0):
    """Phân kỳ: chi phí NaN/vô cực, hoặc chi phí (làm trơn) lớn hơn ``factor`` × chi phí ban đầu."""
    return not math.isfinite(loss) or smooth > factor * max(initial, 1e-12)


class DivergenceMonitor:
    """Theo dõi chi phí từng bước để phát hiện phân kỳ (``is_diverging``).

    Chi phí của MỘT mini-batch rất nhiễu (SGD: một mẫu có thể gấp 5 lần trung bình), nên mốc
    ``initial`` là chi phí trên toàn tập và phép so sánh dùng trung bình trượt của chi phí, hệ số
    β = 1 − 1/min(số batch, 20) (β = 0 khi chỉ có một batch).
    """

    def __init__(self, initial, n_batches, factor):
        self.initial = self.smooth = initial
        self.beta = 0.0 if n_batches == 1 else 1.0 - 1.0 / min(n_batches, 20)
        self.factor = factor

    def diverged(self, loss):
        self.smooth = self.beta * self.smooth + (1.0 - self.beta) * loss
        return is_diverging(loss, self.smooth, self.initial, self.factor)

    def message(self, epoch, i, loss, lr):
        return (
            f"Phân kỳ ở epoch {epoch + 1}, bước {i + 1}: chi phí = {comma(loss):.4g} "
            f"(ban đầu {comma(self.initial):.4g}). Hãy giảm tốc độ học α (đang là {comma(lr):g})."
        )


class EarlyStopping:
    """Nhớ tham số có độ chính xác kiểm định cao nhất; ``patience`` epoch liền không tăng thì dừng
    (``patience=None``: chỉ nhớ, không dừng)."""

    def __init__(self, patience):
        self.patience = patience
        self.best_acc, self.best_params, self.best_epoch, self.since_best = -1.0, None, 0, 0

    def should_stop(self, acc, params, epoch):
        """Ghi nhận độ chính xác kiểm định ``acc`` sau ``epoch`` (đếm từ 1); True khi nên dừng."""
        if acc > self.best_acc:
            # bản sao nông là đủ: mỗi bước tối ưu tạo mảng mới, không sửa mảng cũ tại chỗ
            self.best_acc, self.best_params, self.best_epoch = acc, dict(params), epoch
            self.since_best = 0
        else:
            self.since_best += 1
        return self.patience is not None and self.since_best >= self.patience

    def message(self, epoch):
        return (
            f"Dừng sớm ở epoch {epoch}: độ chính xác kiểm định không tăng trong {self.patience} "
            f"epoch; khôi phục tham số của epoch {self.best_epoch} (độ chính xác kiểm định "
            f"{comma(self.best_acc):.2%})."
        )


def _targets(model, X, y):
    """Nhãn int64 (phân loại) hoặc giá trị thực (đầu ra tuyến tính), cùng backend với ``X``."""
    if model.output == "linear":
        y = backend.asarray(y, like=X)
    else:
        y = backend.asarray_labels(y, like=X)
    if y.shape[-1] != X.shape[1]:
        raise ValueError(
            f"Số nhãn ({y.shape[-1]}) khác số mẫu của X ({X.shape[1]}, X có hình dạng "
            f"{tuple(X.shape)})."
        )
    return y


def _new_history(model):
    return {
        "loss": [],
        "epoch_loss": [],
        "train_acc": [],
        "val_acc": [],
        "update_ratio": {k: [] for k in model.params if k.startswith("W")},
        "status": "ok",
        "message": "",
        "epochs_run": 0,
        "best_epoch": 0,
    }


def _epoch_range(epochs, progress):
    if not progress:
        return range(int(epochs))
    from tqdm.auto import tqdm

    return tqdm(range(int(epochs)), desc="Huấn luyện", unit="epoch", leave=False)


def train(
    model,
    X,
    y,
    X_val=None,
    y_val=None,
    optimizer="adam",
    lr=1e-3,
    epochs=10,
    batch_size=64,
    optim_params=None,
    schedule=None,
    early_stopping=None,
    seed=0,
    explode_factor=3.0,
    progress=False,
    record_ratio=True,
    exact_train_acc=False,
):
    """Huấn luyện ``model`` (một ``nblib.model.MLP``) và trả về lịch sử (dict).

    - ``optimizer``: "sgd", "momentum", "rmsprop", "adam"; ``lr``: tốc độ học α;
      ``optim_params``: siêu tham số khác, ví dụ ``{"gamma": 0.9}``.
    - ``schedule``: hàm ``epoch → α`` (xem ``nblib.optim.step_decay``…), thay cho ``lr`` cố định.
    - ``early_stopping``: số epoch kiên nhẫn; dừng khi độ chính xác kiểm định không tăng và khôi phục
      tham số tốt nhất.
    - Khi chi phí là NaN/vô cực hoặc (làm trơn) lớn hơn ``explode_factor`` × chi phí ban đầu, dừng với
      trạng thái "phân kỳ" (không ném ngoại lệ, không in cảnh báo).
    - ``exact_train_acc``: tính độ chính xác huấn luyện trên toàn tập sau mỗi epoch (chậm hơn);
      mặc định lấy trung bình trên các mini-batch trong epoch.
    - ``seed``: quyết định thứ tự các mini-batch.

    Lịch sử: "loss" (mỗi bước), "epoch_loss", "train_acc", "val_acc" (mỗi epoch), "update_ratio"
    (‖ΔW‖/‖W‖ mỗi tầng, đo ở bước cuối mỗi epoch), "status" ("ok", "phân kỳ", "dừng sớm"),
    "message", "epochs_run", "best_epoch".
    """
    update = optim.get(optimizer)
    argcheck.positive("lr (tốc độ học α)", lr)
    if int(epochs) < 1:
        raise ValueError(f"epochs phải là số nguyên dương, nhận được {epochs}.")
    X = model.as_input(X)
    y = _targets(model, X, y)
    classify = model.output != "linear"
    has_val = X_val is not None and y_val is not None
    states = {k: dict(optim_params or {}) for k in model.params}  # bộ nhớ riêng của từng tham số
    hist, gen = _new_history(model), backend.rng(seed)  # gen: thứ tự các mini-batch
    monitor, stopper = None, EarlyStopping(early_stopping)
    for epoch in _epoch_range(epochs, progress):
        lr_e = schedule(epoch) if schedule is not None else lr
        batches = list(minibatches(X, y, batch_size, gen))
        batch_losses, correct, seen = [], 0, 0
        for i, (Xb, yb) in enumerate(batches):
            loss, grads, scores = model.loss_and_grads(Xb, yb, return_scores=True)
            if monitor is None:  # mốc: chi phí trên toàn tập, không đổi trạng thái của mô hình
                initial = loss if len(batches) == 1 else model.loss(X, y, train=True)
                monitor = DivergenceMonitor(initial, len(batches), explode_factor)
            hist["loss"].append(loss)
            if monitor.diverged(loss):
                hist.update(status="phân kỳ", message=monitor.message(epoch, i, loss, lr_e))
                hist["epochs_run"] = epoch + 1
                return hist
            batch_losses.append(loss)
            if classify and not exact_train_acc:  # cộng dồn trên thiết bị, đổi sang số cuối epoch
                correct = correct + count_correct(scores, yb, model.output)
                seen += Xb.shape[1]
            before = dict(model.params) if record_ratio and i == len(batches) - 1 else None
            step(model.params, grads, states, update, lr_e)
            if before is not None:
                for k, ratios in hist["update_ratio"].items():
                    ratios.append(update_ratio(before[k], model.params[k]))
        hist["epoch_loss"].append(float(np.mean(batch_losses)))
        hist["epochs_run"] = epoch + 1
        if classify:
            acc = model.accuracy(X, y) if exact_train_acc else int(correct) / max(seen, 1)
            hist["train_acc"].append(acc)
        if classify and has_val:
            hist["val_acc"].append(model.accuracy(X_val, y_val))
            stop = stopper.should_stop(hist["val_acc"][-1], model.params, epoch + 1)
            hist["best_epoch"] = stopper.best_epoch
            if stop:
                model.params.update(stopper.best_params)
                hist.update(status="dừng sớm", message=stopper.message(epoch + 1))
                return hist
    final = hist["epoch_loss"][-1]
    hist["message"] = f"Hoàn tất {hist['epochs_run']} epoch, chi phí cuối {comma(final):.4f}."
    return hist
