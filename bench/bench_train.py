"""Benchmark: huấn luyện cùng một MLP trên bộ chữ số (digits) bằng ba cách, trong cùng một lần chạy.

1. nblib (``nblib.MLP`` + ``nblib.train``, Adam);
2. torch.nn + autograd + torch.optim (cùng thiết bị với backend của nblib);
3. vòng lặp numpy viết tay (cùng công thức, không qua thư viện).

Cùng kiến trúc, số epoch, kích thước batch, seed và thứ tự mini-batch. In thời gian, độ chính xác kiểm
tra và các tỉ lệ ``nblib_vs_torch_nn: ratio=… (target >= 5)`` (thời gian torch.nn / thời gian nblib),
``nblib_vs_numpy_loop: ratio=… (target <= 1.3)`` (thời gian nblib / thời gian vòng lặp viết tay),
``accuracy_gap_points: …`` (chênh lệch lớn nhất, target <= 1).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import nblib
from nblib import data

DIMS = [64, 128, 10]
LR, EPOCHS, BATCH, SEED = 3e-3, 30, 64, 0


def batches_order(m, epochs, seed):
    gen = np.random.default_rng(seed)
    return [gen.permutation(m) for _ in range(epochs)]


def run_nblib(d):
    model = nblib.MLP(DIMS, seed=SEED)
    t0 = time.perf_counter()
    nblib.train(
        model, d["X_train"], d["y_train"], lr=LR, epochs=EPOCHS, batch_size=BATCH, seed=SEED
    )
    elapsed = time.perf_counter() - t0
    return elapsed, model.accuracy(d["X_test"], d["y_test"])


def run_numpy_loop(d):
    """Vòng lặp numpy viết tay: dense-ReLU-dense-softmax, entropy chéo, Adam."""
    X, y = d["X_train"], d["y_train"]
    gen = np.random.default_rng(SEED)
    params = {}
    for l in range(1, len(DIMS)):
        params[f"W{l}"] = gen.standard_normal((DIMS[l], DIMS[l - 1])) * np.sqrt(2.0 / DIMS[l - 1])
        params[f"b{l}"] = np.zeros((DIMS[l], 1))
    m_state = {k: np.zeros_like(v) for k, v in params.items()}
    v_state = {k: np.zeros_like(v) for k, v in params.items()}
    t, losses = 0, []
    t0 = time.perf_counter()
    for perm in batches_order(X.shape[1], EPOCHS, SEED):
        for s in range(0, X.shape[1], BATCH):
            idx = perm[s : s + BATCH]
            Xb, yb = X[:, idx], y[idx]
            mb = Xb.shape[1]
            Z1 = params["W1"] @ Xb + params["b1"]
            A1 = np.maximum(Z1, 0)
            Z2 = params["W2"] @ A1 + params["b2"]
            e = np.exp(Z2 - Z2.max(axis=0, keepdims=True))
            P = e / e.sum(axis=0, keepdims=True)
            cols = np.arange(mb)
            losses.append(-np.mean(np.log(P[yb, cols])))  # ghi lại chi phí như nblib
            P[yb, cols] -= 1
            dZ2 = P / mb
            g = {"W2": dZ2 @ A1.T, "b2": dZ2.sum(axis=1, keepdims=True)}
            dZ1 = (params["W2"].T @ dZ2) * (Z1 > 0)
            g["W1"], g["b1"] = dZ1 @ Xb.T, dZ1.sum(axis=1, keepdims=True)
            t += 1
            for k in params:
                m_state[k] = 0.9 * m_state[k] + 0.1 * g[k]
                v_state[k] = 0.999 * v_state[k] + 0.001 * g[k] ** 2
                mh = m_state[k] / (1 - 0.9**t)
                vh = v_state[k] / (1 - 0.999**t)
                params[k] = params[k] - LR * mh / (np.sqrt(vh) + 1e-8)
    elapsed = time.perf_counter() - t0
    Z1 = params["W1"] @ d["X_test"] + params["b1"]
    Z2 = params["W2"] @ np.maximum(Z1, 0) + params["b2"]
    return elapsed, float(np.mean(Z2.argmax(axis=0) == d["y_test"]))


def run_torch_nn(d, device, dtype):
    torch.manual_seed(SEED)
    net = torch.nn.Sequential(
        torch.nn.Linear(DIMS[0], DIMS[1]), torch.nn.ReLU(), torch.nn.Linear(DIMS[1], DIMS[2])
    ).to(device=device, dtype=dtype)
    opt = torch.optim.Adam(net.parameters(), lr=LR, eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.as_tensor(d["X_train"].T, dtype=dtype, device=device)  # torch.nn: mỗi hàng một mẫu
    y = torch.as_tensor(d["y_train"], device=device)
    t0 = time.perf_counter()
    for perm in batches_order(X.shape[0], EPOCHS, SEED):
        perm_t = torch.as_tensor(perm, device=device)
        for s in range(0, X.shape[0], BATCH):
            idx = perm_t[s : s + BATCH]
            opt.zero_grad()
            loss = loss_fn(net(X[idx]), y[idx])
            loss.backward()
            opt.step()
    if device != "cpu":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - t0
    with torch.no_grad():
        Xt = torch.as_tensor(d["X_test"].T, dtype=dtype, device=device)
        pred = net(Xt).argmax(dim=1).cpu().numpy()
    return elapsed, float(np.mean(pred == d["y_test"]))


def interleaved(runners, repeat):
    """Chạy xen kẽ các cách (vòng 1: A, B, C; vòng 2: A, B, C; …) rồi lấy thời gian nhỏ nhất của mỗi
    cách: máy bận lên hay rảnh đi giữa chừng thì mọi cách đều chịu như nhau."""
    times = {name: [] for name in runners}
    accs = {}
    for _ in range(repeat):
        for name, fn in runners.items():
            sec, accs[name] = fn()
            times[name].append(sec)
    return {name: (min(times[name]), accs[name]) for name in runners}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--repeat", type=int, default=7, help="số vòng chạy xen kẽ, lấy thời gian nhỏ nhất"
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="số luồng của torch; mặc định 1, bằng số luồng BLAS mà nblib dùng (so sánh công bằng)",
    )
    args = parser.parse_args()
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    nblib.print_backend()
    device = "cuda" if nblib.get_backend() == "cuda" else "cpu"
    dtype = torch.float32 if device == "cuda" else torch.float64
    print(
        f"torch {torch.__version__}, số luồng torch: {torch.get_num_threads()}, thiết bị: {device}, "
        f"kiểu số: {str(dtype).replace('torch.', '')}; MLP {DIMS}, Adam α={LR}, {EPOCHS} epoch, "
        f"batch {BATCH}"
    )
    d = data.digits(seed=SEED)
    results = interleaved(
        {
            "nblib": lambda: run_nblib(d),
            "numpy_loop": lambda: run_numpy_loop(d),
            "torch_nn": lambda: run_torch_nn(d, device, dtype),
        },
        args.repeat,
    )
    for name, (sec, acc) in results.items():
        print(f"{name:<11} time_s={sec:.3f} test_accuracy={acc:.4f}")
    t_nb, t_np, t_tn = (results[k][0] for k in ("nblib", "numpy_loop", "torch_nn"))
    accs = [r[1] for r in results.values()]
    print(f"nblib_vs_torch_nn: ratio={t_tn / t_nb:.2f} (target >= 5)")
    print(f"nblib_vs_numpy_loop: ratio={t_nb / t_np:.2f} (target <= 1.3)")
    # Trần của tỉ lệ đầu tiên: nblib chạy trên numpy nên không thể nhanh hơn vòng lặp numpy viết tay.
    print(f"numpy_loop_vs_torch_nn: ratio={t_tn / t_np:.2f} (giới hạn trên của nblib_vs_torch_nn)")
    print(f"accuracy_gap_points: {100 * (max(accs) - min(accs)):.2f} (target <= 1)")


if __name__ == "__main__":
    main()
