"""Phát hiện vật thể: hộp giới hạn, IoU, triệt tiêu không cực đại (NMS), hộp neo và tensor đầu ra YOLO.

Quy ước toạ độ: một hộp viết theo **góc** là (x1, y1, x2, y2) với x1 ≤ x2, y1 ≤ y2 (trục y hướng xuống
như trong ảnh); viết theo **tâm** là (b_x, b_y, b_h, b_w) như trong bảng tóm tắt của khoá học — tâm
(b_x, b_y), chiều cao b_h, chiều rộng b_w. Mỗi *hàng* là một hộp: mảng (N, 4).

- ``center_to_corners``, ``corners_to_center``: đổi qua lại hai cách viết;
- ``box_area``, ``iou``: diện tích và ma trận IoU giữa hai tập hộp (cùng giá trị ``torchvision.ops.box_iou``);
- ``nms``: giữ hộp có điểm cao nhất, bỏ các hộp chồng lên nó với IoU ≥ ngưỡng, lặp lại;
- ``best_anchor``, ``yolo_encode``, ``yolo_decode``: gán vật thể cho ô lưới và hộp neo, tensor nhãn
  G × G × k × (5 + p) = [p_o, b_x, b_y, b_h, b_w, c_1, …, c_p] và đọc ngược lại.
"""

from __future__ import annotations

import numpy as np

from . import backend

__all__ = [
    "center_to_corners",
    "corners_to_center",
    "box_area",
    "iou",
    "nms",
    "best_anchor",
    "yolo_encode",
    "yolo_decode",
]


def _check_boxes(name, boxes):
    if getattr(boxes, "ndim", None) != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"{name} phải có hình dạng (N, 4) — mỗi hàng một hộp — nhận được "
            f"{tuple(getattr(boxes, 'shape', ()))}."
        )


def center_to_corners(boxes):
    """(b_x, b_y, b_h, b_w) → (x1, y1, x2, y2): x1 = b_x − b_w/2, y1 = b_y − b_h/2, …"""
    _check_boxes("boxes", boxes)
    xp = backend.namespace(boxes)
    bx, by, bh, bw = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    return xp.stack([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2], axis=1)


def corners_to_center(boxes):
    """(x1, y1, x2, y2) → (b_x, b_y, b_h, b_w)."""
    _check_boxes("boxes", boxes)
    xp = backend.namespace(boxes)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    return xp.stack([(x1 + x2) / 2, (y1 + y2) / 2, y2 - y1, x2 - x1], axis=1)


def box_area(boxes):
    """Diện tích (x2 − x1)·(y2 − y1) của từng hộp (N, 4) viết theo góc."""
    _check_boxes("boxes", boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def iou(boxes_a, boxes_b):
    """Ma trận IoU (N, M): IoU[i, j] = |A_i ∩ B_j| / |A_i ∪ B_j|, hộp viết theo góc.

    Phần giao là hình chữ nhật [max(x1), min(x2)] × [max(y1), min(y2)], bằng 0 nếu hai hộp không
    chạm nhau; phần hợp = |A| + |B| − |A ∩ B|. Luôn có 0 ≤ IoU ≤ 1.
    """
    _check_boxes("boxes_a", boxes_a)
    _check_boxes("boxes_b", boxes_b)
    xp = backend.namespace(boxes_a, boxes_b)
    a, b = boxes_a[:, None, :], boxes_b[None, :, :]
    w = xp.clip(xp.minimum(a[..., 2], b[..., 2]) - xp.maximum(a[..., 0], b[..., 0]), min=0)
    h = xp.clip(xp.minimum(a[..., 3], b[..., 3]) - xp.maximum(a[..., 1], b[..., 1]), min=0)
    inter = w * h
    union = box_area(boxes_a)[:, None] + box_area(boxes_b)[None, :] - inter
    return inter / xp.where(union > 0, union, xp.ones_like(union))


def nms(boxes, scores, iou_threshold=0.5, score_threshold=None):
    """Triệt tiêu không cực đại (non-max suppression). Trả về list chỉ số các hộp được giữ.

    1. (tuỳ chọn) bỏ các hộp có điểm < ``score_threshold`` (bảng tóm tắt dùng 0,6);
    2. chọn hộp còn lại có điểm cao nhất, giữ nó;
    3. bỏ mọi hộp còn lại có IoU ≥ ``iou_threshold`` với hộp vừa giữ; quay lại bước 2.

    Chỉ số trả về xếp theo điểm giảm dần (như ``torchvision.ops.nms``). Áp dụng riêng cho từng lớp.
    """
    _check_boxes("boxes", boxes)
    s = backend.to_numpy(scores).astype(float)
    if s.shape != (boxes.shape[0],):
        raise ValueError(
            f"scores phải có hình dạng ({boxes.shape[0]},) — một điểm cho mỗi hộp — nhận được {s.shape}."
        )
    overlaps = backend.to_numpy(iou(boxes, boxes))
    order = [int(i) for i in np.argsort(-s, kind="stable")]
    if score_threshold is not None:
        order = [i for i in order if s[i] >= score_threshold]
    keep = []
    while order:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if overlaps[best, i] < iou_threshold]
    return keep


def best_anchor(h, w, anchors):
    """Chỉ số hộp neo (h_k, w_k) khớp nhất với hộp cao h, rộng w: IoU lớn nhất khi đặt chung tâm."""
    anchors = np.asarray(anchors, dtype=float)
    inter = np.minimum(anchors[:, 0], h) * np.minimum(anchors[:, 1], w)
    return int(np.argmax(inter / (anchors[:, 0] * anchors[:, 1] + h * w - inter)))


def yolo_encode(boxes, classes, G, anchors, n_classes):
    """Tensor nhãn YOLO y có hình dạng (G, G, k, 5 + p) cho một ảnh.

    ``boxes`` (N, 4) viết theo tâm (b_x, b_y, b_h, b_w), toạ độ chuẩn hoá về [0, 1] theo kích thước
    ảnh; ``classes`` (N,) nhãn nguyên; ``anchors`` (k, 2) các cặp (h, w) cũng chuẩn hoá.
    Vật thể thuộc ô lưới chứa tâm của nó (hàng ⌊b_y·G⌋, cột ⌊b_x·G⌋) và hộp neo có IoU lớn nhất với
    nó; tại đó y = [1, b_x, b_y, b_h, b_w, one-hot lớp] với b_x, b_y tính *trong ô* (∈ [0, 1)) và
    b_h, b_w tính theo đơn vị ô (có thể > 1). Mọi chỗ khác bằng 0 (p_o = 0: không có vật thể, các số
    còn lại bị bỏ qua).
    """
    boxes = np.asarray(backend.to_numpy(boxes), dtype=float).reshape(-1, 4)
    classes = np.asarray(backend.to_numpy(classes)).astype(int).reshape(-1)
    anchors = np.asarray(anchors, dtype=float).reshape(-1, 2)
    y = np.zeros((G, G, len(anchors), 5 + n_classes))
    for (bx, by, bh, bw), c in zip(boxes, classes):
        col, row = min(int(bx * G), G - 1), min(int(by * G), G - 1)
        k = best_anchor(bh, bw, anchors)
        y[row, col, k, :5] = [1.0, bx * G - col, by * G - row, bh * G, bw * G]
        y[row, col, k, 5 + c] = 1.0
    return y


def yolo_decode(y, threshold=0.6):
    """Đọc tensor (G, G, k, 5 + p) thành các hộp: trả về (boxes (N, 4) theo tâm, chuẩn hoá về [0, 1],
    scores (N,) = p_o · max c, classes (N,)), chỉ giữ các dự đoán có điểm ≥ ``threshold``."""
    y = np.asarray(backend.to_numpy(y), dtype=float)
    G = y.shape[0]
    rows, cols, ks = np.nonzero(y[..., 0] * y[..., 5:].max(axis=-1) >= threshold)
    out = y[rows, cols, ks]
    boxes = np.stack(
        [(cols + out[:, 1]) / G, (rows + out[:, 2]) / G, out[:, 3] / G, out[:, 4] / G], axis=1
    )
    return boxes, out[:, 0] * out[:, 5:].max(axis=1), out[:, 5:].argmax(axis=1)
