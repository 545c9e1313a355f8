"""Mạng nơ-ron nhiều tầng (MLP) ghép từ các tầng của ``nblib.layers``.

Mỗi tầng ẩn: dense → (batch norm) → kích hoạt → (dropout). Tầng ra: dense → softmax / sigmoid / tuyến
tính, với hàm mất mát tương ứng: entropy chéo, entropy chéo nhị phân, MSE. Điều chuẩn L2 thêm
λ/(2m)·Σ‖W[l]‖²_F vào chi phí và (λ/m)·W[l] vào gradient.
"""

from __future__ import annotations

import copy

import numpy as np

from . import activations, argcheck, backend, layers, losses
from . import init as init_mod

OUTPUTS = ("softmax", "sigmoid", "linear")


class MLP:
    """MLP với ``layer_dims`` = [n_x, n1, …, n_y].

    Tham số: ``activation`` (tên hoặc danh sách cho từng tầng ẩn), ``output`` ("softmax", "sigmoid",
    "linear"), ``init`` ("he", "xavier", "zeros" hoặc hệ số scale), ``lambd`` (λ của L2),
    ``keep_prob`` (dropout trên các tầng ẩn), ``batchnorm`` (chuẩn hoá theo batch trước kích hoạt),
    ``seed``. Trọng số nằm trong ``self.params`` ("W1", "b1", …, và "gamma1", "beta1" khi có batch norm);
    trung bình trượt của batch norm trong ``self.bn_state``.

    Dùng từ bên ngoài: ``forward``, ``scores``, ``loss``, ``loss_from_scores``, ``loss_and_grads``,
    ``predict_proba``, ``predict``, ``accuracy``, ``hidden_activations``, ``as_input``. Các phương thức
    bắt đầu bằng ``_`` là chi tiết bên trong.
    """

    def __init__(
        self,
        layer_dims,
        activation="relu",
        output="softmax",
        init="he",
        lambd=0.0,
        keep_prob=1.0,
        batchnorm=False,
        seed=0,
    ):
        self.layer_dims = [int(n) for n in layer_dims]
        self.L = len(self.layer_dims) - 1
        hidden = self.L - 1
        acts = [activation] * hidden if isinstance(activation, str) else list(activation)
        if len(acts) != hidden:
            raise ValueError(
                f"Cần {hidden} hàm kích hoạt cho {hidden} tầng ẩn, nhận được {len(acts)}: {acts}."
            )
        for a in acts:
            activations.get(a)
        self.activations = acts
        self.output = argcheck.choice("output (tầng đầu ra)", output, OUTPUTS)
        if output == "sigmoid" and self.layer_dims[-1] != 1:
            raise ValueError(
                f"Đầu ra sigmoid cần đúng 1 nơ-ron ở tầng ra, nhận được {self.layer_dims[-1]}."
            )
        self.lambd = argcheck.non_negative("lambd (λ của điều chuẩn L2)", lambd)
        self.keep_prob = argcheck.keep_prob(keep_prob)
        self.batchnorm = bool(batchnorm)
        self.params = init_mod.init_params(self.layer_dims, init, seed)
        if self.batchnorm:
            for l in range(1, self.L):
                n = self.layer_dims[l]
                self.params[f"gamma{l}"] = backend.asarray(np.ones((n, 1)))
                self.params[f"beta{l}"] = backend.asarray(np.zeros((n, 1)))
        self.bn_state = {l: {} for l in range(1, self.L)}
        self._rng = backend.rng(seed + 1)

    # ----- đầu vào -----
    def as_input(self, X):
        """Kiểm tra ``X`` (hai chiều, ``n_x`` hàng, không NaN/vô cực) và chuyển sang cùng loại mảng,
        thiết bị và kiểu số với tham số của mạng."""
        argcheck.array("X", X, ndim=2)
        X = backend.asarray(X, like=self.params["W1"])
        if X.shape[0] != self.layer_dims[0]:
            raise ValueError(
                f"Hình dạng không khớp: X có hình dạng {tuple(X.shape)} nhưng mạng cần "
                f"{self.layer_dims[0]} đặc trưng ở tầng đầu vào (X phải có hình dạng "
                f"({self.layer_dims[0]}, m), mỗi cột là một mẫu)."
            )
        return argcheck.finite("X", X)

    # ----- truyền thuận (riêng) -----
    def _forward_pass(self, X, batch_stats, update_stats, dropout_rng):
        """Điểm số Z[L] của tầng ra và caches của từng tầng.

        - ``batch_stats``: batch norm dùng thống kê của chính batch (lúc huấn luyện) hay trung bình
          trượt (lúc kiểm tra);
        - ``update_stats``: có cập nhật trung bình trượt trong ``self.bn_state`` không;
        - ``dropout_rng``: bộ sinh số ngẫu nhiên cho mặt nạ dropout; ``None`` là không dropout.
        """
        p = self.params
        A, caches = X, []
        for l in range(1, self.L):
            Z, c_dense = layers.dense_forward(A, p[f"W{l}"], p[f"b{l}"])
            c_bn = None
            if self.batchnorm:
                # bản sao nông: batchnorm_forward gán mảng mới vào dict, nên bản gốc giữ nguyên
                state = self.bn_state[l] if update_stats else dict(self.bn_state[l])
                Z, c_bn = layers.batchnorm_forward(
                    Z, p[f"gamma{l}"], p[f"beta{l}"], state, train=batch_stats
                )
            A, c_act = layers.activation_forward(Z, self.activations[l - 1])
            c_drop = None
            if dropout_rng is not None and self.keep_prob < 1.0:
                A, c_drop = layers.dropout_forward(A, self.keep_prob, train=True, rng=dropout_rng)
            caches.append((c_dense, c_bn, c_act, c_drop))
        ZL, c_out = layers.dense_forward(A, p[f"W{self.L}"], p[f"b{self.L}"])
        caches.append(c_out)
        return ZL, caches

    def _training_scores(self, X, dropout=True):
        """Truyền thuận như lúc huấn luyện: thống kê của batch, cập nhật trung bình trượt, dropout."""
        return self._forward_pass(X, True, True, self._rng if dropout else None)

    def _test_scores(self, X):
        """Truyền thuận lúc kiểm tra: trung bình trượt của batch norm (tạo mới nếu chưa có), không
        dropout."""
        return self._forward_pass(X, False, True, None)

    def _output(self, scores):
        if self.output == "softmax":
            return activations.softmax(scores, axis=0)
        if self.output == "sigmoid":
            return activations.sigmoid(scores)
        return scores

    def _backward(self, dZ, caches, m):
        """Lan truyền ngược từ dJ/dZ[L] qua mọi tầng; thêm (λ/m)·W[l] của L2 vào gradient."""
        p, grads = self.params, {}
        dA, grads[f"W{self.L}"], grads[f"b{self.L}"] = layers.dense_backward(
            dZ, caches[-1], input_grad=self.L > 1
        )
        for l in range(self.L - 1, 0, -1):
            c_dense, c_bn, c_act, c_drop = caches[l - 1]
            if c_drop is not None:  # không có dropout (keep_prob = 1 hoặc chế độ kiểm tra)
                dA = layers.dropout_backward(dA, c_drop)
            dZ = layers.activation_backward(dA, c_act)
            if self.batchnorm:
                dZ, grads[f"gamma{l}"], grads[f"beta{l}"] = layers.batchnorm_backward(dZ, c_bn)
            dA, grads[f"W{l}"], grads[f"b{l}"] = layers.dense_backward(
                dZ, c_dense, input_grad=l > 1
            )
        if self.lambd:
            for l in range(1, self.L + 1):
                grads[f"W{l}"] = grads[f"W{l}"] + (self.lambd / m) * p[f"W{l}"]
        return grads

    def _cost(self, scores, y):
        """Chi phí (kể cả số hạng L2) và dJ/dZ[L] từ điểm số của tầng ra."""
        if self.output == "softmax":
            loss, dZ = losses.softmax_cross_entropy(scores, y)
        elif self.output == "sigmoid":
            loss, dZ = losses.sigmoid_cross_entropy(scores, y)
        else:
            loss, dZ = losses.mse(scores, y)
        if self.lambd:
            xp = backend.namespace(scores)
            p, m = self.params, scores.shape[-1]
            sq = sum(backend.to_float(xp.sum(p[f"W{l}"] ** 2)) for l in range(1, self.L + 1))
            loss += self.lambd / (2 * m) * sq
        return loss, dZ

    # ----- truyền thuận -----
    def forward(self, X, train=False):
        """Truyền thuận. Trả về (đầu ra: xác suất hoặc giá trị tuyến tính, caches).

        ``train=True``: như lúc huấn luyện (dropout, thống kê của batch cho batch norm, trung bình
        trượt được cập nhật); ``train=False``: chế độ kiểm tra.
        """
        X = self.as_input(X)
        scores, caches = self._training_scores(X) if train else self._test_scores(X)
        return self._output(scores), caches

    def scores(self, X, train=False):
        """Điểm số Z[L] của tầng ra (trước softmax/sigmoid) và caches của từng tầng.

        ``train`` như ở ``forward``. Dùng khi cần cả điểm số lẫn chi phí (``loss_from_scores``) hay
        nhãn (``labels_from_scores``) mà chỉ truyền thuận một lần.
        """
        X = self.as_input(X)
        return self._training_scores(X) if train else self._test_scores(X)

    # ----- mất mát và gradient -----
    def loss_from_scores(self, scores, y):
        """Chi phí J (kể cả số hạng L2) từ điểm số Z[L] của tầng ra (xem ``scores``)."""
        return self._cost(scores, y)[0]

    def loss(self, X, y, train=False):
        """Chi phí J (kể cả số hạng L2) trên ``(X, y)``, chỉ truyền thuận, không tính gradient.

        ``train=True``: tính như lúc huấn luyện (dropout, thống kê của batch cho batch norm) nhưng KHÔNG
        đổi trạng thái của mạng: trung bình trượt của batch norm giữ nguyên, và mặt nạ dropout lấy từ
        một bản sao của bộ sinh số ngẫu nhiên (các bước huấn luyện sau vẫn nhận đúng mặt nạ như khi
        không gọi hàm này). ``nblib.train`` dùng nó làm mốc chi phí ban đầu.
        """
        X = self.as_input(X)
        if train:
            scores, _ = self._forward_pass(X, True, False, copy.deepcopy(self._rng))
        else:
            scores, _ = self._test_scores(X)
        return self._cost(scores, y)[0]

    def loss_and_grads(self, X, y, train=True, dropout=True, return_scores=False):
        """Chi phí (kể cả số hạng L2) và gradient theo mọi tham số (cùng khoá với ``self.params``).

        ``train=True`` (mặc định): truyền thuận như lúc huấn luyện (cập nhật trung bình trượt của batch
        norm). ``dropout=False``: không dropout (ví dụ khi kiểm tra gradient, vì mặt nạ ngẫu nhiên làm
        chi phí không tất định). ``return_scores=True``: trả thêm điểm số Z[L] của tầng ra (để đếm dự
        đoán đúng trên mini-batch mà không truyền thuận lần nữa): ``(loss, grads, scores)``.
        """
        X = self.as_input(X)
        scores, caches = self._training_scores(X, dropout) if train else self._test_scores(X)
        loss, dZ = self._cost(scores, y)
        grads = self._backward(dZ, caches, X.shape[1])
        return (loss, grads, scores) if return_scores else (loss, grads)

    # ----- dự đoán -----
    def predict_proba(self, X):
        """Xác suất dự đoán (chế độ kiểm tra: không dropout, batch norm dùng trung bình trượt)."""
        return self.forward(X, train=False)[0]

    def predict(self, X):
        """Nhãn dự đoán (m,) cho phân loại, hoặc giá trị dự đoán cho đầu ra tuyến tính."""
        return labels_from_scores(self._test_scores(self.as_input(X))[0], self.output)

    def accuracy(self, X, y):
        """Tỉ lệ dự đoán đúng, số thực trong [0, 1]."""
        pred = backend.to_numpy(self.predict(X))
        return float(np.mean(pred == backend.to_numpy(y).reshape(pred.shape)))

    def hidden_activations(self, X, batch_stats=False):
        """Kích hoạt (sau hàm kích hoạt) của từng tầng ẩn, dạng mảng numpy, không dropout.

        ``batch_stats=True``: batch norm dùng thống kê của chính batch ``X`` như lúc huấn luyện (cần khi
        xem mạng lúc khởi tạo, trước khi có trung bình trượt), và trung bình trượt không bị thay đổi.
        """
        X = self.as_input(X)
        _, caches = self._forward_pass(X, batch_stats, False, None)
        out = [backend.to_numpy(c_dense[0]) for c_dense, _, _, _ in caches[1:-1]]
        out.append(backend.to_numpy(caches[-1][0]))
        return out

    def __repr__(self):
        return (
            f"MLP(layer_dims={self.layer_dims}, activation={self.activations}, "
            f"output={self.output!r}, lambd={self.lambd}, keep_prob={self.keep_prob}, "
            f"batchnorm={self.batchnorm})"
        )


def labels_from_scores(scores, output):
    """Nhãn từ điểm số của tầng ra: argmax (softmax), ngưỡng 0 của logit (sigmoid)."""
    xp = backend.namespace(scores)
    if output == "softmax":
        return xp.argmax(scores, axis=0)
    if output == "sigmoid":
        return xp.astype(scores[0, :] > 0, xp.int64)
    return scores
