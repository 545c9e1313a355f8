"""Kiểm tra các công thức CNN của nblib.cnn với kích thước đầu ra và số tham số thật của PyTorch."""

import itertools
import math

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from nblib import cnn  # noqa: E402

SIZES = [1, 4, 5, 7, 8, 12]
FILTERS = [1, 2, 3, 5]
STRIDES = [1, 2, 3]
PADS = [0, 1, 2]


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


@pytest.mark.parametrize("I,F,S,P", list(itertools.product(SIZES, FILTERS, STRIDES, PADS)))
def test_conv_output_size_symmetric_matches_torch(I, F, S, P):
    if I + 2 * P < F:
        with pytest.raises(ValueError):
            cnn.conv_output_size(I, F, S, P)
        return
    conv = nn.Conv2d(3, 4, F, stride=S, padding=P)
    with torch.no_grad():
        out = conv(torch.zeros(2, 3, I, I))
    assert out.shape == (2, 4, cnn.conv_output_size(I, F, S, P), cnn.conv_output_size(I, F, S, P))
    assert cnn.conv_output_size(I, F, S, P, P) == cnn.conv_output_size(I, F, S, P)


@pytest.mark.parametrize(
    "I,F,S,ps,pe",
    [
        (I, F, S, ps, pe)
        for I, F, S, ps, pe in itertools.product(
            [5, 8, 11], [2, 3, 4], [1, 2, 3], [0, 1, 2], [0, 3]
        )
        if I + ps + pe >= F
    ],
)
def test_conv_output_size_asymmetric_matches_torch(I, F, S, ps, pe):
    assert cnn.conv_output_size(I, F, S, ps, pe) == _conv_out(I, F, S, ps, pe)


@pytest.mark.parametrize("I,F,S", list(itertools.product([4, 6, 7, 9, 16], [1, 2, 3], [1, 2, 3])))
def test_maxpool_output_size_matches_torch(I, F, S):
    for P in range(0, F // 2 + 1):  # PyTorch chỉ cho phép P ≤ F/2 khi gộp
        if I + 2 * P < F:
            continue
        pool = nn.MaxPool2d(F, stride=S, padding=P)
        out = pool(torch.zeros(1, 2, I, I))
        O = cnn.conv_output_size(I, F, S, P)
        assert out.shape == (1, 2, O, O)


@pytest.mark.parametrize(
    "I,F,S", list(itertools.product([5, 7, 8, 12, 13], [1, 2, 3, 4, 5], [1, 2, 3]))
)
def test_same_padding_gives_ceil_I_over_S(I, F, S):
    ps, pe = cnn.padding("same", F, S, I)
    assert ps <= pe <= ps + 1
    assert cnn.conv_output_size(I, F, S, ps, pe) == math.ceil(I / S)
    assert _conv_out(I, F, S, ps, pe) == math.ceil(I / S)


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("I,F", list(itertools.product([5, 8, 10], [1, 2, 3, 4, 5])))
def test_padding_modes_stride_one_match_torch(I, F):
    # 'same' và 'valid' của PyTorch (chỉ hỗ trợ S = 1)
    for mode in ("same", "valid"):
        ps, pe = cnn.padding(mode, F)
        conv = nn.Conv2d(1, 1, F, padding=mode)
        with torch.no_grad():
            out = conv(torch.zeros(1, 1, I, I))
        assert out.shape[-1] == cnn.conv_output_size(I, F, 1, ps, pe)
    assert cnn.conv_output_size(I, F, 1, *cnn.padding("same", F)) == I
    assert cnn.conv_output_size(I, F, 1, *cnn.padding("valid", F)) == I - F + 1
    ps, pe = cnn.padding("full", F)
    assert (ps, pe) == (F - 1, F - 1)
    assert cnn.conv_output_size(I, F, 1, ps, pe) == I + F - 1 == _conv_out(I, F, 1, ps, pe)


@pytest.mark.parametrize("F,C,K", list(itertools.product([1, 3, 5], [1, 3, 16], [1, 8, 32])))
def test_conv_params_match_torch(F, C, K):
    conv = nn.Conv2d(C, K, F)
    assert cnn.conv_params(F, C, K) == sum(p.numel() for p in conv.parameters())
    assert cnn.conv_params(F, C, K) == (F * F * C + 1) * K


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (64, 10), (784, 128), (4096, 1000)])
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
        ([5, 3, 3], [1, 1, 1]),
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
    "call",
    [
        lambda: cnn.conv_output_size(0, 3),
        lambda: cnn.conv_output_size(5, 3, 0),
        lambda: cnn.conv_output_size(5, 3, 1, -1),
        lambda: cnn.conv_output_size(2, 5),
        lambda: cnn.conv_output_size(5.5, 3),
        lambda: cnn.conv_output_size(True, 3),
        lambda: cnn.padding("bogus", 3),
        lambda: cnn.padding("same", 3, 2),
        lambda: cnn.conv_params(0, 3, 8),
        lambda: cnn.fc_params(10, 0),
        lambda: cnn.receptive_field([3, 3], [1]),
        lambda: cnn.receptive_field(3),
        lambda: cnn.receptive_field([3, 0]),
    ],
)
def test_bad_input_raises_vietnamese_valueerror(call):
    with pytest.raises(ValueError) as exc:
        call()
    msg = str(exc.value)
    # thông báo bằng tiếng Việt: có ít nhất một chữ cái có dấu
    assert any(ch in msg for ch in "ảáàạãăâđêếềểệôơướờởợụủứừửữựíìỉịóòỏọõ")
