"""Kiểm tra các công thức CNN của nblib.cnn với kích thước đầu ra và số tham số thật của PyTorch."""

import itertools
import math

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from nblib import cnn  # noqa: E402


def _conv_out(I, F, S, p_start, p_end, C=2, K=3):
    """Chiều cao đầu ra thật của Conv2d (sau ZeroPad2d bất đối xứng) trên ảnh I × I."""
    x = torch.zeros(1, C, I, I)
    layers = nn.Sequential(
        nn.ZeroPad2d((p_start, p_end, p_start, p_end)), nn.Conv2d(C, K, F, stride=S)
    )
    with torch.no_grad():
        out = layers(x)
    assert out.shape[1] == K
    assert out.shape[2] == out.shape[3]
    return out.shape[2]


def _window_positions(span, F, S):
    """Đếm trực tiếp số vị trí đặt cửa sổ F trên đoạn dài ``span`` với bước S (không dùng công thức)."""
    return sum(1 for start in range(0, span, S) if start + F <= span)


def test_conv_output_size_counts_window_positions_on_the_whole_grid():
    """Lưới đầy đủ (I, F, S, P_start, P_end) so với phép đếm trực tiếp, trong một kiểm thử."""
    for I, F, S, ps, pe in itertools.product(
        range(1, 14), range(1, 7), range(1, 5), *[range(4)] * 2
    ):
        span = I + ps + pe
        if F > span:
            with pytest.raises(ValueError, match="không có vị trí nào"):
                cnn.conv_output_size(I, F, S, ps, pe)
            continue
        O = cnn.conv_output_size(I, F, S, ps, pe)
        assert O == _window_positions(span, F, S), (I, F, S, ps, pe)
        if ps == pe:
            assert cnn.conv_output_size(I, F, S, ps) == O  # bỏ trống P_end: đệm đối xứng


# Mỗi ca đại diện cho một loại: S = 1 hay S > 1, chia hết hay có dư (cửa sổ cuối bị bỏ), có đệm hay
# không, F = 1, đúng bằng đầu vào sau khi đệm (O = 1), đệm cứu được bộ lọc lớn hơn ảnh.
SYMMETRIC_CASES = [
    (1, 1, 1, 0),  # nhỏ nhất: O = 1
    (5, 3, 1, 0),
    (5, 3, 1, 1),  # đệm "same" khi S = 1
    (7, 3, 2, 0),  # (7 − 3)/2 chia hết
    (8, 3, 2, 0),  # có dư: cửa sổ cuối không vừa, bị bỏ
    (8, 5, 3, 2),  # có dư, có đệm
    (12, 2, 2, 0),  # cửa sổ không chồng nhau
    (7, 1, 3, 2),  # F = 1 < S: có ô bị bỏ qua
    (1, 3, 1, 1),  # I + 2P = F: đúng một vị trí
    (4, 5, 1, 1),  # F > I nhưng đệm đủ
]


@pytest.mark.parametrize("I,F,S,P", SYMMETRIC_CASES)
def test_conv_output_size_symmetric_matches_torch(I, F, S, P):
    conv = nn.Conv2d(3, 4, F, stride=S, padding=P)
    with torch.no_grad():
        out = conv(torch.zeros(2, 3, I, I))
    O = cnn.conv_output_size(I, F, S, P)
    assert out.shape == (2, 4, O, O)
    assert cnn.conv_output_size(I, F, S, P, P) == O


@pytest.mark.parametrize("I,F,S,P", [(4, 5, 1, 0), (1, 5, 2, 1), (2, 4, 1, 0)])
def test_filter_larger_than_padded_input_raises_like_torch(I, F, S, P):
    with pytest.raises(RuntimeError):
        nn.Conv2d(1, 1, F, stride=S, padding=P)(torch.zeros(1, 1, I, I))
    with pytest.raises(ValueError, match="không có vị trí nào"):
        cnn.conv_output_size(I, F, S, P)


@pytest.mark.parametrize(
    "I,F,S,ps,pe",
    [
        (5, 3, 1, 0, 3),  # chỉ đệm ở cuối
        (8, 4, 2, 2, 0),  # chỉ đệm ở đầu
        (11, 2, 3, 1, 3),  # có dư
        (5, 4, 3, 0, 3),
        (11, 4, 3, 2, 3),
        (1, 3, 1, 0, 2),  # I + P_start + P_end = F
    ],
)
def test_conv_output_size_asymmetric_matches_torch(I, F, S, ps, pe):
    assert cnn.conv_output_size(I, F, S, ps, pe) == _conv_out(I, F, S, ps, pe)


@pytest.mark.parametrize(
    "I,F,S", [(4, 1, 1), (4, 2, 2), (7, 2, 2), (9, 3, 2), (16, 3, 1), (6, 2, 3), (7, 3, 3)]
)
def test_maxpool_output_size_matches_torch(I, F, S):
    for P in range(0, F // 2 + 1):  # PyTorch chỉ cho phép P ≤ F/2 khi gộp
        pool = nn.MaxPool2d(F, stride=S, padding=P)
        out = pool(torch.zeros(1, 2, I, I))
        O = cnn.conv_output_size(I, F, S, P)
        assert out.shape == (1, 2, O, O)


def _minimal_same_padding(I, F, S):
    """Tổng số ô đệm nhỏ nhất để đầu ra có ⌈I/S⌉ vị trí (tìm bằng cách thử, không dùng công thức)."""
    return next(p for p in range(F + S) if _window_positions(I + p, F, S) == math.ceil(I / S))


@pytest.mark.parametrize(
    "I,F,S",
    [
        (5, 3, 1),  # S = 1: tổng đệm F − 1 chẵn, đối xứng
        (8, 2, 1),  # S = 1, F chẵn: thừa một ô ở cuối
        (8, 3, 2),  # I chia hết cho S: tổng đệm 1
        (7, 3, 2),  # I không chia hết cho S
        (7, 4, 2),  # tổng đệm lẻ khi S > 1
        (13, 5, 3),
        (12, 2, 3),  # S > F: tổng âm, thay bằng 0
        (12, 1, 2),  # F = 1 < S
        (8, 4, 4),  # S = F
    ],
)
def test_same_padding_gives_ceil_I_over_S(I, F, S):
    ps, pe = cnn.padding("same", F, S, I)
    assert ps <= pe <= ps + 1
    assert ps + pe == _minimal_same_padding(I, F, S)  # đệm ít nhất có thể (như TensorFlow)
    assert cnn.conv_output_size(I, F, S, ps, pe) == math.ceil(I / S)
    assert _conv_out(I, F, S, ps, pe) == math.ceil(I / S)


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("I,F", [(5, 1), (5, 2), (5, 3), (5, 4), (5, 5), (10, 4)])
def test_padding_modes_stride_one_match_torch(I, F):
    # 'same' và 'valid' của PyTorch (chỉ hỗ trợ S = 1)
    for mode in ("same", "valid"):
        ps, pe = cnn.padding(mode, F)
        conv = nn.Conv2d(1, 1, F, padding=mode)
        with torch.no_grad():
            out = conv(torch.zeros(1, 1, I, I))
        assert out.shape[-1] == cnn.conv_output_size(I, F, 1, ps, pe)
    assert cnn.padding("valid", F) == (0, 0)
    assert cnn.conv_output_size(I, F, 1, *cnn.padding("same", F)) == I
    assert cnn.conv_output_size(I, F, 1, *cnn.padding("valid", F)) == I - F + 1
    ps, pe = cnn.padding("full", F)
    assert (ps, pe) == (F - 1, F - 1)
    assert cnn.conv_output_size(I, F, 1, ps, pe) == I + F - 1 == _conv_out(I, F, 1, ps, pe)


# F = 1 (F² = F), C = 1, K = 1 và các giá trị lớn hơn: mỗi thừa số của (F·F·C + 1)·K đều thấy được
@pytest.mark.parametrize("F,C,K", [(1, 1, 1), (3, 3, 8), (5, 16, 32), (3, 1, 32), (1, 16, 8)])
def test_conv_params_match_torch(F, C, K):
    conv = nn.Conv2d(C, K, F)
    assert cnn.conv_params(F, C, K) == sum(p.numel() for p in conv.parameters())
    assert cnn.conv_params(F, C, K) == (F * F * C + 1) * K


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (64, 10), (784, 128)])
def test_fc_params_match_torch(n_in, n_out):
    assert cnn.fc_params(n_in, n_out) == sum(p.numel() for p in nn.Linear(n_in, n_out).parameters())


def test_pool_has_no_params():
    assert sum(p.numel() for p in nn.MaxPool2d(2).parameters()) == 0


def _measured_receptive_field(kernel_sizes, strides):
    """Đo trường tiếp nhận: gradient của điểm (0, 0) ở tầng cuối theo đầu vào khác 0 trên vùng R × R."""
    layers = []
    for F, S in zip(kernel_sizes, strides):
        conv = nn.Conv2d(1, 1, F, stride=S, bias=False)
        nn.init.ones_(conv.weight)
        layers.append(conv)
    net = nn.Sequential(*layers)
    size = 64
    x = torch.ones(1, 1, size, size, requires_grad=True)
    net(x)[0, 0, 0, 0].backward()
    g = x.grad[0, 0]
    rows = torch.nonzero(g.sum(dim=1)).flatten()
    cols = torch.nonzero(g.sum(dim=0)).flatten()
    assert rows.min() == 0 and cols.min() == 0
    return int(rows.max()) + 1, int(cols.max()) + 1


@pytest.mark.parametrize(
    "kernels,strides",
    [
        ([3, 3], [1, 1]),  # ví dụ của ghi chú: R_2 = 5
        ([3], [1]),
        ([3, 3, 3], [2, 2, 1]),
        ([7, 3, 3], [2, 1, 2]),
        ([2, 2, 2, 2], [2, 2, 2, 2]),
        ([3, 2, 3, 2, 3], [1, 2, 1, 2, 1]),
    ],
)
def test_receptive_field_matches_gradient_footprint(kernels, strides):
    R = cnn.receptive_field(kernels, strides)
    assert _measured_receptive_field(kernels, strides) == (R, R)


def test_receptive_field_notes_example():
    assert cnn.receptive_field([3, 3], [1, 1]) == 5
    assert cnn.receptive_field([3, 3]) == 5
    assert cnn.receptive_field([]) == 1


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: cnn.conv_output_size(0, 3), "I phải lớn hơn hoặc bằng 1"),
        (lambda: cnn.conv_output_size(5, 3, 0), "S phải lớn hơn hoặc bằng 1"),
        (lambda: cnn.conv_output_size(5, 3, 1, -1), "P_start phải lớn hơn hoặc bằng 0"),
        (lambda: cnn.conv_output_size(5, 3, 1, 0, -1), "P_end phải lớn hơn hoặc bằng 0"),
        (lambda: cnn.conv_output_size(2, 5), "không có vị trí nào để đặt bộ lọc"),
        (lambda: cnn.conv_output_size(5.5, 3), "I phải là số nguyên"),
        (lambda: cnn.conv_output_size(True, 1), "I phải là số nguyên"),  # bool không phải số
        (lambda: cnn.padding("bogus", 3), "Kiểu đệm không hợp lệ"),
        (lambda: cnn.padding("same", 3, 2), "cần biết kích thước đầu vào I"),
        (lambda: cnn.conv_params(0, 3, 8), "F phải lớn hơn hoặc bằng 1"),
        (lambda: cnn.fc_params(10, 0), "n_out phải lớn hơn hoặc bằng 1"),
        (lambda: cnn.receptive_field([3, 3], [1]), "hai dãy phải dài bằng nhau"),
        (lambda: cnn.receptive_field(3), "phải là một dãy kích thước bộ lọc"),
        (lambda: cnn.receptive_field([3, 0]), "F_2 phải lớn hơn hoặc bằng 1"),
    ],
)
def test_bad_input_raises_vietnamese_valueerror(call, message):
    with pytest.raises(ValueError, match=message):
        call()
