"""Bộ dữ liệu nhỏ, sinh offline với seed cố định (không tải gì từ Internet).

Mọi hàm trả về mảng numpy: X có hình dạng (n_x, m) — mỗi cột là một mẫu — và nhãn nguyên y (m,).
Mô hình (``nblib.model.MLP``) tự chuyển dữ liệu sang backend khi huấn luyện.
"""

from __future__ import annotations

import numpy as np

from . import backend


def xor():
    """Bốn mẫu của bài toán XOR: X (2, 4), y (4,) = [0, 1, 1, 0]."""
    X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    return X, np.array([0, 1, 1, 0])


def spiral(n_per_class=100, classes=3, noise=0.2, seed=0):
    """Dữ liệu xoắn ốc (như CS231n): ``classes`` nhánh, mỗi nhánh ``n_per_class`` điểm 2D."""
    gen = backend.rng(seed)
    X, y = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = (
            np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class)
            + gen.standard_normal(n_per_class) * noise
        )
        X.append(np.stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, c))
    return np.concatenate(X, axis=1), np.concatenate(y)


def circles(n=300, noise=0.1, factor=0.5, seed=0):
    """Hai đường tròn đồng tâm (lớp 1 ở trong), dùng ``sklearn.datasets.make_circles``."""
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return X.T.copy(), y.astype(np.int64)


def moons(n=300, noise=0.2, seed=0):
    """Hai nửa vầng trăng đan vào nhau, dùng ``sklearn.datasets.make_moons``."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.T.copy(), y.astype(np.int64)


def blobs(n=300, centers=3, std=1.0, seed=0):
    """Các cụm Gauss 2D, dùng ``sklearn.datasets.make_blobs``."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, centers=centers, cluster_std=std, random_state=seed)
    return X.T.copy(), y.astype(np.int64)


def split(X, y, val=0.2, test=0.2, seed=0):
    """Chia ngẫu nhiên (theo cột) thành tập huấn luyện, kiểm định và kiểm tra."""
    m = X.shape[1]
    perm = backend.rng(seed).permutation(m)
    n_test, n_val = int(round(m * test)), int(round(m * val))
    idx = {
        "test": perm[:n_test],
        "val": perm[n_test : n_test + n_val],
        "train": perm[n_test + n_val :],
    }
    out = {}
    for name, ix in idx.items():
        out[f"X_{name}"], out[f"y_{name}"] = X[:, ix], y[ix]
    return out


def digits(seed=0):
    """Chữ số viết tay 8×8 của scikit-learn (1797 ảnh, 10 lớp), giá trị điểm ảnh đưa về [0, 1].

    Trả về dict: X_train, y_train, X_val, y_val, X_test, y_test (tỉ lệ 60/20/20), X có hình dạng (64, m).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    return split(d.data.T / 16.0, d.target.astype(np.int64), val=0.2, test=0.2, seed=seed)


def one_hot(y, C):
    """Nhãn nguyên (m,) → ma trận one-hot (C, m)."""
    y = np.asarray(backend.to_numpy(y)).astype(int)
    out = np.zeros((C, y.shape[0]))
    out[y, np.arange(y.shape[0])] = 1.0
    return out


# --------------------------------------------------------------------------- văn bản tiếng Việt

# Văn bản do khoá học tự viết (không lấy từ nguồn nào), dùng cho mô hình ngôn ngữ mức ký tự.
VIETNAMESE_TEXT = """\
Buổi sáng ở làng ven sông bắt đầu rất sớm. Khi trời còn mờ sương, tiếng gà gáy vang lên từ đầu \
xóm đến cuối xóm, và những chiếc thuyền nhỏ đã rời bến để đi đánh cá. Mặt sông phẳng lặng, chỉ gợn \
lên vài vòng sóng nhỏ mỗi khi có con cá quẫy đuôi. Bà cụ bán xôi ngồi ở đầu cầu, bên cạnh là nồi \
xôi nóng bốc hơi nghi ngút.
Mùa xuân, cây gạo đầu làng nở hoa đỏ rực. Trẻ con rủ nhau ra bãi cỏ thả diều, còn người lớn thì \
ra đồng cấy lúa. Mùa hè nắng gắt, ve kêu râm ran trên những hàng cây, và buổi trưa cả làng như \
ngủ thiếp đi. Mùa thu, gió heo may thổi nhẹ, lá vàng rơi đầy trên con đường đất dẫn ra chợ. Mùa \
đông, trời lạnh và mưa phùn, mọi người quây quần bên bếp lửa, kể cho nhau nghe chuyện ngày xưa.
Chợ làng họp vào buổi sáng. Người bán rau, người bán cá, người bán hoa quả, ai cũng gọi mời khách \
bằng giọng nói quen thuộc. Mẹ thường dắt em đi chợ, mua mớ rau muống, vài quả cà chua và một con \
cá rô còn tươi. Về đến nhà, mẹ nấu canh chua, bố pha ấm trà, và cả nhà ngồi ăn cơm trưa với nhau.
Ngôi trường nhỏ nằm cuối con đường làng. Mỗi sáng, học sinh đến lớp với chiếc cặp sách trên vai. \
Thầy giáo viết bài lên bảng, cả lớp chăm chú lắng nghe và ghi chép cẩn thận. Giờ ra chơi, sân \
trường rộn ràng tiếng cười nói, đứa nhảy dây, đứa đá cầu, đứa ngồi đọc truyện dưới gốc cây bàng.
Buổi tối, khi mặt trời đã lặn sau rặng tre, làng lại trở nên yên tĩnh. Ánh đèn vàng hắt ra từ \
những ô cửa sổ, tiếng ti vi, tiếng trẻ con học bài vọng ra ngoài ngõ. Trên trời, những vì sao \
lấp lánh, còn dưới sông, ánh trăng in bóng lung linh trên mặt nước.
Học một điều mới cũng giống như đi trên con đường làng ấy. Lúc đầu ta chưa quen, bước chân còn \
chậm và dễ vấp ngã. Nhưng mỗi ngày đi một đoạn, ta nhớ thêm một khúc quanh, một gốc cây, một cây \
cầu nhỏ. Dần dần, con đường trở nên quen thuộc, và ta có thể đi thật xa mà không sợ lạc.
Một mạng nơ-ron cũng học theo cách như vậy. Nó nhìn thấy rất nhiều ví dụ, mắc lỗi, rồi sửa lại \
trọng số của mình từng chút một theo hướng làm cho lỗi nhỏ đi. Sau nhiều lần như thế, mạng đoán \
đúng nhiều hơn, giống như người học trò chăm chỉ làm bài tập mỗi ngày.
"""

# Các nhóm từ cho kho câu sinh theo mẫu (từ ghép nối bằng dấu gạch dưới, như khi tách từ tiếng Việt).
_MEN = ("ông", "bố", "anh", "chú", "cậu")
_WOMEN = ("bà", "mẹ", "chị", "cô", "mợ")
_GENERATION = {
    "ông": "già",
    "bà": "già",
    "bố": "trung_niên",
    "mẹ": "trung_niên",
    "anh": "trẻ",
    "chị": "trẻ",
    "chú": "trung_niên",
    "cô": "trung_niên",
    "cậu": "trẻ",
    "mợ": "trẻ",
}
_ANIMALS = ("mèo", "chó", "gà", "vịt", "trâu", "bò")
_FRUITS = ("cam", "chuối", "xoài", "bưởi", "ổi", "mít")
_COLORS = ("đỏ", "xanh", "vàng", "trắng", "tím", "hồng")
_PLACES = ("chợ", "đồng", "trường", "sông", "vườn")


def vietnamese_text():
    """Đoạn văn tiếng Việt do khoá học tự viết (khoảng 2 000 ký tự), cho mô hình ngôn ngữ mức ký tự."""
    return VIETNAMESE_TEXT


def vietnamese_sentences(n=3000, seed=0):
    """Kho câu tiếng Việt sinh theo mẫu (tất định theo ``seed``), cho word2vec và GloVe.

    Mỗi câu là một list token; từ nhiều âm tiết được nối bằng "_" ("đàn_ông", "phụ_nữ", "trung_niên").
    Các mẫu câu gắn mỗi từ chỉ người với giới (đàn_ông / phụ_nữ) và thế hệ (già / trung_niên / trẻ),
    con vật với tiếng kêu và nơi ở, hoa quả với màu và vị, nên vector nhúng học được có cấu trúc để
    thử phép tương tự (ông − bà + mẹ ≈ bố).
    """
    gen = backend.rng(seed)

    def pick(xs):
        return xs[int(gen.integers(len(xs)))]

    templates = [
        lambda: [p := pick(_MEN), "là", "đàn_ông", _GENERATION[p]],
        lambda: [p := pick(_WOMEN), "là", "phụ_nữ", _GENERATION[p]],
        lambda: ["người", "đàn_ông", "ấy", "là", pick(_MEN), "của", "em"],
        lambda: ["người", "phụ_nữ", "ấy", "là", pick(_WOMEN), "của", "em"],
        lambda: [p := pick(_MEN + _WOMEN), "đã", _GENERATION[p], "và", "hay", "ra", pick(_PLACES)],
        lambda: [pick(_MEN), "và", pick(_WOMEN), "cùng", "ra", pick(_PLACES)],
        lambda: [pick(_MEN + _WOMEN), "cho", pick(_ANIMALS), "ăn", "ở", "sân"],
        lambda: [pick(_MEN + _WOMEN), "mua", "quả", pick(_FRUITS), "ở", "chợ"],
        lambda: ["con", pick(_ANIMALS), "chạy", "quanh", "sân", "nhà"],
        lambda: [
            "con",
            a := pick(_ANIMALS),
            "kêu",
            {
                "mèo": "meo",
                "chó": "gâu",
                "gà": "cục_tác",
                "vịt": "cạc",
                "trâu": "nghé_ọ",
                "bò": "ò",
            }[a],
        ],
        lambda: [
            "quả",
            f := pick(_FRUITS),
            "chín",
            "có",
            "màu",
            {
                "cam": "vàng",
                "chuối": "vàng",
                "xoài": "vàng",
                "bưởi": "xanh",
                "ổi": "xanh",
                "mít": "vàng",
            }[f],
            "và",
            "vị",
            "ngọt",
        ],
        lambda: ["bông", "hoa", "màu", pick(_COLORS), "nở", "trong", "vườn"],
        lambda: ["chiếc", "áo", "màu", pick(_COLORS), "rất", "đẹp"],
    ]
    return [templates[int(gen.integers(len(templates)))]() for _ in range(n)]
