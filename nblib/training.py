"""Huấn luyện bằng hạ gradient theo mini-batch, có ghi lại lịch sử và tự dừng khi phân kỳ."""

from __future__ import annotations

import copy
import math

import numpy as np

from . import argcheck, backend, optim
from .backend import namespace as array_namespace
from .model import labels_from_scores


def minibatches(X, y, batch_size, rng=0):
    """Xáo trộn các cột (mẫu) rồi chia thành các mini-batch ``(X_b, y_b)``.

    ``batch_size=None`` là cả tập (batch gradient descent); ``batch_size=1`` là SGD.
    """
    m = X.shape[1]
    if batch_size is None:
        batch_size = m
    if int(batch_size) < 1:
        raise ValueError(f"batch_size phải là số nguyên dương, nhận được {batch_size}.")
    perm = backend.asarray_labels(backend.rng(rng).permutation(m), like=X)
    # Xáo trộn một lần mỗi epoch (chỉ số mảng nguyên: nhanh hơn take gấp 5 lần khi X không liền bộ
    # nhớ theo hàng, ví dụ X = dữ_liệu.T), rồi cắt các khối cột liên tiếp.
    Xs = X[:, perm]
    ys = y[..., perm] if y is not None else None
    for start in range(0, m, int(batch_size)):
        end = start + int(batch_size)
        yield Xs[:, start:end], (ys[..., start:end] if ys is not None else None)


def _reference_loss(model, X, y):
    """Chi phí trên toàn tập trước khi huấn luyện, không làm đổi trạng thái ngẫu nhiên/batch norm."""
    rng_state = model._rng.bit_generator.state
    bn_state = copy.deepcopy(model.bn_state)
    loss = model.loss(X, y, train=True)
    model._rng.bit_generator.state = rng_state
    model.bn_state = bn_state
    return loss


def _norm(xp, a):
    return math.sqrt(backend.to_float(xp.sum(a * a)))


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
    - Khi chi phí là NaN/vô cực hoặc lớn hơn ``explode_factor`` × chi phí ban đầu, dừng với trạng thái
      "phân kỳ" (không ném ngoại lệ, không in cảnh báo).
    - ``exact_train_acc``: tính độ chính xác huấn luyện trên toàn tập sau mỗi epoch (chậm hơn);
      mặc định lấy trung bình trên các mini-batch trong epoch.

    Lịch sử: "loss" (mỗi bước), "epoch_loss", "train_acc", "val_acc" (mỗi epoch), "update_ratio"
    (‖ΔW‖/‖W‖ mỗi tầng, đo ở bước cuối mỗi epoch), "status" ("ok", "phân kỳ", "dừng sớm"),
    "message", "epochs_run", "best_epoch".
    """
    update = optim.get(optimizer)
    argcheck.positive("lr (tốc độ học α)", lr)
    if int(epochs) < 1:
        raise ValueError(f"epochs phải là số nguyên dương, nhận được {epochs}.")
    X = model._input(X)
    xp = array_namespace(X)
    classify = model.output != "linear"
    y_arr = backend.asarray_labels(y, like=X) if classify else backend.asarray(y, like=X)
    if y_arr.shape[-1] != X.shape[1]:
        raise ValueError(
            f"Số nhãn ({y_arr.shape[-1]}) khác số mẫu của X ({X.shape[1]}, X có hình dạng "
            f"{tuple(X.shape)})."
        )
    has_val = X_val is not None and y_val is not None
    # Mọi thuật toán tối ưu của nblib tính theo từng phần tử, nên cập nhật từng tham số hay cập nhật
    # một vector nối mọi tham số cho cùng kết quả; nối lại thì mỗi bước chỉ gọi update một lần
    # (giống torch.optim với foreach=True). model.params là các view vào vector này.
    keys = list(model.params)
    shapes = [tuple(model.params[k].shape) for k in keys]
    bounds = np.cumsum([0] + [math.prod(sh) for sh in shapes]).tolist()
    flat_w = xp.concat([xp.reshape(model.params[k], (-1,)) for k in keys])
    state = dict(optim_params or {}, lr=lr)

    def unflatten(flat):
        return {
            k: xp.reshape(flat[a:b], sh) for k, a, b, sh in zip(keys, bounds, bounds[1:], shapes)
        }

    model.params.update(unflatten(flat_w))
    weight_keys = [k for k in model.params if k.startswith("W")]
    hist = {
        "loss": [],
        "epoch_loss": [],
        "train_acc": [],
        "val_acc": [],
        "update_ratio": {k: [] for k in weight_keys},
        "status": "ok",
        "message": "",
        "epochs_run": 0,
        "best_epoch": 0,
    }
    gen = backend.rng(seed)
    initial = None
    best = (-1.0, None)
    patience = early_stopping
    since_best = 0
    epoch_iter = range(int(epochs))
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="Huấn luyện", unit="epoch", leave=False)
    with np.errstate(all="ignore"):
        for epoch in epoch_iter:
            lr_e = schedule(epoch) if schedule is not None else lr
            batch_losses, correct, seen = [], 0, 0
            batches = list(minibatches(X, y_arr, batch_size, gen))
            for i, (Xb, yb) in enumerate(batches):
                loss, grads, scores = model._loss_grads_scores(Xb, yb, train=True, checked=True)
                if initial is None:
                    # Mốc so sánh: với nhiều batch, chi phí của MỘT batch rất nhiễu (SGD: một mẫu có
                    # thể gấp 5 lần trung bình) nên dùng chi phí trên toàn tập và trung bình trượt.
                    initial = loss if len(batches) == 1 else _reference_loss(model, X, y_arr)
                    smooth = initial
                beta = 0.0 if len(batches) == 1 else 1.0 - 1.0 / min(len(batches), 20)
                smooth = beta * smooth + (1.0 - beta) * loss
                if not math.isfinite(loss) or smooth > explode_factor * max(initial, 1e-12):
                    hist["status"] = "phân kỳ"
                    hist["message"] = (
                        f"Phân kỳ ở epoch {epoch + 1}, bước {i + 1}: chi phí = {loss:.4g} "
                        f"(ban đầu {initial:.4g}). Hãy giảm tốc độ học α (đang là {lr_e:g})."
                    )
                    hist["loss"].append(loss)
                    hist["epochs_run"] = epoch + 1
                    return hist
                hist["loss"].append(loss)
                batch_losses.append(loss)
                if classify and not exact_train_acc:
                    # cộng dồn trên thiết bị của mảng, chỉ đổi sang số Python cuối epoch
                    correct = correct + xp.count_nonzero(
                        labels_from_scores(scores, model.output) == yb
                    )
                    seen += Xb.shape[1]
                state["lr"] = lr_e
                flat_dw = xp.concat([xp.reshape(grads[k], (-1,)) for k in keys])
                flat_w, state = update(flat_w, flat_dw, state)
                record = record_ratio and i == len(batches) - 1
                old_params = dict(model.params) if record else None
                # cập nhật chính dict model.params: ai đang giữ tham chiếu tới nó vẫn thấy giá trị mới
                model.params.update(unflatten(flat_w))
                if record:
                    for k in weight_keys:
                        w, new_w = old_params[k], model.params[k]
                        ratio = _norm(xp, new_w - w) / max(_norm(xp, w), 1e-12)
                        hist["update_ratio"][k].append(ratio)
            hist["epoch_loss"].append(float(np.mean(batch_losses)))
            hist["epochs_run"] = epoch + 1
            if classify:
                hist["train_acc"].append(
                    model.accuracy(X, y_arr) if exact_train_acc else int(correct) / max(seen, 1)
                )
                if has_val:
                    acc = model.accuracy(X_val, y_val)
                    hist["val_acc"].append(acc)
                    if acc > best[0]:
                        best = (acc, {k: v for k, v in model.params.items()})
                        hist["best_epoch"] = epoch + 1
                        since_best = 0
                    else:
                        since_best += 1
                    if patience is not None and since_best >= patience:
                        model.params.update(best[1])
                        hist["status"] = "dừng sớm"
                        hist["message"] = (
                            f"Dừng sớm ở epoch {epoch + 1}: độ chính xác kiểm định không tăng "
                            f"trong {patience} epoch; khôi phục tham số của epoch "
                            f"{hist['best_epoch']} (độ chính xác kiểm định {best[0]:.2%})."
                        )
                        return hist
    final = hist["epoch_loss"][-1]
    hist["message"] = f"Hoàn tất {hist['epochs_run']} epoch, chi phí cuối {final:.4f}."
    return hist
