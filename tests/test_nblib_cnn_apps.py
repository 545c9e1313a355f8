"""nblib.cnn (tầng tích chập/gộp), nblib.detection, nblib.vision: so với torch và gradient số."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from nblib import cnn, detection, vision  # noqa: E402
from nblib.gradcheck import numeric_gradient, rel_error  # noqa: E402

BACKENDS = ["numpy", "torch"]


def _as(backend, x):
    return torch.tensor(x) if backend == "torch" else np.asarray(x, dtype=float)


def _np(x):
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _conv_torch(X, W, b, S, P, dout):
    Xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    out = F.conv2d(Xt, Wt, bt, stride=S, padding=P)
    (out * torch.tensor(dout)).sum().backward()
    return out.detach().numpy(), Xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("impl", ["naive", "im2col"])
@pytest.mark.parametrize("S,P", [(1, 0), (2, 1), (1, 2), (3, 1)])
def test_conv_forward_backward_match_torch(backend, impl, S, P):
    rng = np.random.default_rng(S * 10 + P)
    X, W, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    fwd, bwd = (
        (cnn.conv_forward_naive, cnn.conv_backward_naive)
        if impl == "naive"
        else (cnn.conv_forward, cnn.conv_backward)
    )
    out, cache = fwd(_as(backend, X), _as(backend, W), _as(backend, b), S, P)
    dout = rng.normal(size=tuple(out.shape))
    ref_out, *ref_grads = _conv_torch(X, W, b, S, P, dout)
    assert type(out) is type(_as(backend, X))
    np.testing.assert_allclose(_np(out), ref_out, atol=1e-12)
    for got, ref in zip(bwd(_as(backend, dout), cache), ref_grads):
        np.testing.assert_allclose(_np(got), ref, atol=1e-12)


def test_conv_backward_numeric_gradient():
    rng = np.random.default_rng(3)
    X, W, b = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    dout = rng.normal(size=(2, 3, 3, 3))
    _, cache = cnn.conv_forward(X, W, b, 2, 1)
    dX, dW, db = cnn.conv_backward(dout, cache)

    def J():
        return float(np.sum(cnn.conv_forward(X, W, b, 2, 1)[0] * dout))

    assert rel_error(dX, numeric_gradient(J, X)) < 1e-7
    assert rel_error(dW, numeric_gradient(J, W)) < 1e-7
    assert rel_error(db, numeric_gradient(J, b)) < 1e-7


def test_im2col_col2im_adjoint():
    """⟨im2col(X), C⟩ = ⟨X, col2im(C)⟩: col2im là phép liên hợp của im2col (cộng dồn vùng chồng nhau)."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2, 3, 6, 5))
    cols = cnn.im2col(X, 3, 2, 1)
    C = rng.normal(size=cols.shape)
    assert cols.shape == (27, 2 * 3 * 3)
    assert np.sum(cols * C) == pytest.approx(np.sum(X * cnn.col2im(C, X.shape, 3, 2, 1)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("Fk,S", [(2, 2), (3, 1), (3, 2)])
def test_pool_match_torch(backend, mode, Fk, S):
    rng = np.random.default_rng(Fk * 10 + S)
    X = rng.normal(size=(2, 3, 7, 6))
    Xt = torch.tensor(X, requires_grad=True)
    ref = (F.max_pool2d if mode == "max" else F.avg_pool2d)(Xt, Fk, S)
    dout = rng.normal(size=tuple(ref.shape))
    (ref * torch.tensor(dout)).sum().backward()
    for fwd, bwd in [
        (cnn.pool_forward_naive, cnn.pool_backward_naive),
        (cnn.pool_forward, cnn.pool_backward),
    ]:
        out, cache = fwd(_as(backend, X), Fk, S, mode)
        np.testing.assert_allclose(_np(out), ref.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(_np(bwd(_as(backend, dout), cache)), Xt.grad.numpy(), atol=1e-12)


def test_max_pool_tie_goes_to_first():
    X = np.ones((1, 1, 2, 2))
    out, cache = cnn.pool_forward(X, 2)
    dX = cnn.pool_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dX[0, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_conv_errors_in_vietnamese():
    with pytest.raises(ValueError, match="kênh"):
        cnn.conv_forward(np.zeros((1, 2, 4, 4)), np.zeros((1, 3, 3, 3)), np.zeros(1))
    with pytest.raises(ValueError, match="Kiểu gộp"):
        cnn.pool_forward(np.zeros((1, 1, 4, 4)), 2, mode="min")


# --------------------------------------------------------------------------- phát hiện vật thể


def _box_iou_torch(a, b):
    """IoU viết bằng các phép toán cơ bản của torch (torchvision không có trong môi trường)."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None] - inter)


@pytest.mark.parametrize("backend", BACKENDS)
def test_iou_values(backend):
    a = _as(backend, [[0, 0, 4, 4], [1, 1, 3, 3]])
    b = _as(backend, [[2, 2, 6, 6], [0, 0, 4, 4], [5, 5, 6, 6]])
    got = _np(detection.iou(a, b))
    # hai hộp 4×4 lệch (2, 2): giao 4, hợp 28; hộp trong nằm gọn trong hộp ngoài: 4/16
    np.testing.assert_allclose(got, [[4 / 28, 1.0, 0.0], [1 / 19, 0.25, 0.0]])
    assert ((got >= 0) & (got <= 1)).all()


def test_iou_random_against_torch_formula_and_symmetry():
    rng = np.random.default_rng(0)
    xy = rng.random((30, 2)) * 10
    boxes = np.concatenate([xy, xy + rng.random((30, 2)) * 5 + 0.1], axis=1)
    got = detection.iou(boxes[:12], boxes[12:])
    ref = _box_iou_torch(torch.tensor(boxes[:12]), torch.tensor(boxes[12:])).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)
    np.testing.assert_allclose(detection.iou(boxes, boxes), detection.iou(boxes, boxes).T)
    np.testing.assert_allclose(np.diag(detection.iou(boxes, boxes)), 1.0)


def test_center_corners_roundtrip():
    c = np.array([[0.5, 0.4, 0.2, 0.6], [0.1, 0.9, 0.1, 0.1]])
    corners = detection.center_to_corners(c)
    np.testing.assert_allclose(corners[0], [0.2, 0.3, 0.8, 0.5])
    np.testing.assert_allclose(detection.corners_to_center(corners), c)


def _nms_reference(boxes, scores, thr):
    order = list(np.argsort(-scores))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        order = [j for j in order if _box_iou_torch(boxes[[i]], boxes[[j]]).item() < thr]
    return keep


@pytest.mark.parametrize("backend", BACKENDS)
def test_nms(backend):
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 19, 31, 29], [0, 0, 2, 2]]
    scores = [0.9, 0.75, 0.8, 0.95, 0.5]
    keep = detection.nms(_as(backend, boxes), _as(backend, scores), 0.5)
    assert keep == [3, 0, 4]
    assert detection.nms(_as(backend, boxes), _as(backend, scores), 0.5, score_threshold=0.6) == [
        3,
        0,
    ]
    rng = np.random.default_rng(1)
    xy = rng.random((40, 2)) * 20
    b = np.concatenate([xy, xy + rng.random((40, 2)) * 8 + 1], axis=1)
    s = rng.random(40)
    for thr in (0.3, 0.5, 0.7):
        assert detection.nms(b, s, thr) == _nms_reference(torch.tensor(b), s, thr)


def test_yolo_encode_decode_roundtrip():
    anchors = [(0.3, 0.1), (0.1, 0.3)]  # (h, w): hộp nằm ngang và hộp đứng
    boxes = np.array([[0.3, 0.6, 0.25, 0.08], [0.32, 0.62, 0.08, 0.3], [0.85, 0.1, 0.1, 0.1]])
    y = detection.yolo_encode(boxes, [0, 1, 2], 3, anchors, 3)
    assert y.shape == (3, 3, 2, 8)
    assert y[..., 0].sum() == 3
    assert y[1, 0, 0, 0] == 1 and y[1, 0, 1, 0] == 1  # hai vật thể cùng ô, khác hộp neo
    np.testing.assert_allclose(y[1, 0, 0, :5], [1, 0.9, 0.8, 0.75, 0.24])
    got, scores, cls = detection.yolo_decode(y, 0.5)
    order = np.argsort(cls)
    np.testing.assert_allclose(got[order], boxes)
    np.testing.assert_array_equal(cls[order], [0, 1, 2])
    np.testing.assert_allclose(scores, 1.0)


# --------------------------------------------------------------------------- triplet, phong cách, phần dư


@pytest.mark.parametrize("backend", BACKENDS)
def test_triplet_loss_value_and_grad(backend):
    rng = np.random.default_rng(5)
    fA, fP, fN = (rng.normal(size=(4, 6)) for _ in range(3))
    loss, grads = vision.triplet_loss(*(_as(backend, v) for v in (fA, fP, fN)), alpha=0.5)
    ts = [torch.tensor(v, requires_grad=True) for v in (fA, fP, fN)]
    margin = ((ts[0] - ts[1]) ** 2).sum(0) - ((ts[0] - ts[2]) ** 2).sum(0) + 0.5
    ref = margin.clamp(min=0).mean()
    ref.backward()
    assert float(loss) == pytest.approx(ref.item())
    assert 0 < (margin > 0).sum() < 6  # có cả bộ ba vi phạm lề lẫn bộ ba đã thoả
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(_np(g), t.grad.numpy(), atol=1e-12)


def test_triplet_loss_numeric_gradient():
    rng = np.random.default_rng(6)
    fA, fP, fN = (rng.normal(size=(3, 5)) for _ in range(3))
    _, (dA, dP, dN) = vision.triplet_loss(fA, fP, fN, 1.0)
    for g, x in [(dA, fA), (dP, fP), (dN, fN)]:
        num = numeric_gradient(lambda: vision.triplet_loss(fA, fP, fN, 1.0)[0], x)
        assert rel_error(g, num) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_gram_content_style(backend):
    rng = np.random.default_rng(7)
    a_C, a_S, a_G = (rng.normal(size=(3, 4, 5)) for _ in range(3))
    G = _np(vision.gram_matrix(_as(backend, a_S)))
    np.testing.assert_allclose(G, np.einsum("kij,lij->kl", a_S, a_S))
    np.testing.assert_allclose(G, G.T)
    tG = torch.tensor(a_G, requires_grad=True)
    Jc, dc = vision.content_cost(_as(backend, a_C), _as(backend, a_G))
    ref_c = 0.5 * ((torch.tensor(a_C) - tG) ** 2).sum()
    ref_c.backward()
    assert float(Jc) == pytest.approx(ref_c.item())
    np.testing.assert_allclose(_np(dc), tG.grad.numpy())
    tG.grad = None
    Js, ds = vision.style_cost(_as(backend, a_S), _as(backend, a_G))
    A_S, A_G = torch.tensor(a_S).reshape(3, -1), tG.reshape(3, -1)
    ref_s = ((A_S @ A_S.T - A_G @ A_G.T) ** 2).sum() / (2 * 3 * 4 * 5) ** 2
    ref_s.backward()
    assert float(Js) == pytest.approx(ref_s.item())
    np.testing.assert_allclose(_np(ds), tG.grad.numpy(), atol=1e-12)
    assert float(vision.style_cost(_as(backend, a_S), _as(backend, a_S))[0]) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_residual_block_against_autograd(backend):
    rng = np.random.default_rng(8)
    n, m = 5, 7
    vals = [rng.normal(size=(n, m)), rng.normal(size=(n, n)), rng.normal(size=(n, 1))]
    vals += [rng.normal(size=(n, n)), rng.normal(size=(n, 1))]
    out, cache = vision.residual_forward(*(_as(backend, v) for v in vals))
    dA = rng.normal(size=(n, m))
    grads = vision.residual_backward(_as(backend, dA), cache)
    ts = [torch.tensor(v, requires_grad=True) for v in vals]
    ref = torch.relu(ts[0] + ts[3] @ torch.relu(ts[1] @ ts[0] + ts[2]) + ts[4])
    (ref * torch.tensor(dA)).sum().backward()
    np.testing.assert_allclose(_np(out), ref.detach().numpy())
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(_np(g), t.grad.numpy(), atol=1e-12)


def test_residual_with_zero_weights_is_identity_for_positive_input():
    """W = 0, b = 0: khối phần dư là hàm đồng nhất (trên đầu vào không âm) — lý do nó dễ tối ưu."""
    A = np.abs(np.random.default_rng(9).normal(size=(4, 3)))
    z = np.zeros((4, 4))
    out, cache = vision.residual_forward(A, z, np.zeros((4, 1)), z, np.zeros((4, 1)))
    np.testing.assert_allclose(out, A)
    np.testing.assert_allclose(vision.residual_backward(np.ones_like(A), cache)[0], 1.0)
