"""Vòng đầy đủ qua exchange thật của nbgrader, trong thư mục tạm.

Giảng viên phát hành bt01, bt02; bốn học viên (mỗi người một HOME và tên đăng nhập riêng) lấy bài,
làm bài (đúng hết / đúng một phần / sai / không làm gì), nộp; giảng viên thu, chấm, sinh và gửi phản
hồi; mỗi học viên chỉ lấy được phản hồi của mình; CSV xuất ra có đúng điểm của từng người.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

from grading.config import REPO_ROOT

pytestmark = pytest.mark.slow

PY = sys.executable
COURSE = "mang-no-ron"
B1, B2 = "bt01_lan_truyen_thuan", "bt02_ham_kich_hoat"
MAX = {B1: 16, B2: 13}

WRONG = {
    B1: {
        "sigmoid": "def sigmoid(z):\n    return np.tanh(z)\n",
        "dense_forward": "def dense_forward(A_prev, W, b):\n    return W @ A_prev\n",
        "forward_pass": "def forward_pass(X, params):\n    return [X]\n",
        "update_params": "def update_params(params, activations, Y, alpha):\n    return dict(params)\n",
        "y_target": "y_target = np.array([1.0, 0.0])\n",
        "part1_outputs": "def part1_outputs(X, params, y, alpha, n_forward=3):\n    return [X]\n",
        "collapse_linear": "def collapse_linear(params):\n    return params['W1'], params['b1']\n",
    },
    B2: {
        "tanh": "def tanh(z):\n    return np.zeros_like(z)\n\n\ndef tanh_grad(z):\n    return np.ones_like(z)\n",
        "relu": "def relu(z):\n    return z\n\n\ndef relu_grad(z):\n    return np.ones_like(z)\n",
        "leaky_relu": (
            "def leaky_relu(z, alpha=0.01):\n    return z\n\n\n"
            "def leaky_relu_grad(z, alpha=0.01):\n    return np.ones_like(z)\n"
        ),
        "elu": (
            "def elu(z, alpha=1.0):\n    return z\n\n\n"
            "def elu_grad(z, alpha=1.0):\n    return np.ones_like(z)\n"
        ),
        "softmax": "def softmax(Z):\n    return Z\n",
        "softmax_jacobian": "def softmax_jacobian(z):\n    return np.eye(len(z))\n",
    },
}

# học viên → bài tập → (cách làm, điểm mong đợi)
STUDENTS = {
    "sv01_dung": {B1: ({"solved": "all"}, 16), B2: ({"solved": "all"}, 13)},
    "sv02_mot_phan": {
        B1: ({"solved": ["sigmoid", "dense_forward", "forward_pass"]}, 7),
        # leaky_relu gọi lại nblib: qua kiểm thử công khai nhưng trượt kiểm thử ẩn
        B2: (
            {
                "solved": ["tanh", "relu"],
                "overrides": {
                    "leaky_relu": "from nblib.activations import leaky_relu, leaky_relu_grad\n"
                },
            },
            4,
        ),
    },
    "sv03_sai": {B1: ({"overrides": WRONG[B1]}, 0), B2: ({"overrides": WRONG[B2]}, 0)},
    "sv04_chua_lam": {B1: (None, 0), B2: (None, 0)},
}

# một dòng của phần kiểm thử công khai (phải xuất hiện trong phản hồi)
PUBLIC_TEST_LINE = {
    B1: "_z = np.array([[-1.0, 0.0, 4.1]])",
    B2: "_S = softmax(_Z)",
}

STUDENT_SCRIPT = r"""
import json, os, pathlib, sys
from traitlets.config import Config
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange import ExchangeFactory

args = json.loads(sys.argv[1])
c = Config()
c.Exchange.root = args["exchange"]
c.CourseDirectory.course_id = args["course"]
c.CourseDirectory.root = os.getcwd()


def run(kind, assignment):
    cd = CourseDirectory(config=c)
    cd.assignment_id = assignment
    # Các học viên giả lập cùng một tài khoản hệ điều hành, nên mã học viên được truyền tường minh
    # (như `nbgrader submit --student=<mã>`); còn lại (HOME, bộ đệm nộp bài) là của riêng từng người.
    cd.student_id = args["student"]
    factory = ExchangeFactory(config=c)
    app = getattr(factory, kind)(coursedir=cd, authenticator=Authenticator(config=c), config=c)
    app.start()


report = {}
if args["phase"] == "submit":
    from grading.synthetic import make_submission
    for a, plan in args["plans"].items():
        run("FetchAssignment", a)
        nb = pathlib.Path(a) / f"{a}.ipynb"
        assert nb.is_file(), f"không lấy được {nb}"
        if plan is not None:
            make_submission(nb, args["solutions"][a], nb, solved=plan.get("solved", ()),
                            overrides=plan.get("overrides"), marker=args["marker"])
        run("Submit", a)
else:
    for a in args["plans"]:
        run("FetchFeedback", a)
        files = sorted(pathlib.Path(a, "feedback").glob("*/*.html"))
        report[a] = [f.read_text(encoding="utf-8") for f in files]
print("__REPORT__" + json.dumps(report))
"""


def _student(name, home, exchange, phase):
    plans = {a: plan for a, (plan, _) in STUDENTS[name].items()}
    args = {
        "phase": phase,
        "student": name,
        "exchange": str(exchange),
        "course": COURSE,
        "plans": plans,
        "marker": f"bài làm của {name}",
        "solutions": {a: str(REPO_ROOT / "solutions" / a / f"{a}.ipynb") for a in plans},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "GRADING"))}
    env.update(HOME=str(home), USER=name, LOGNAME=name)
    res = subprocess.run(
        [PY, "-c", STUDENT_SCRIPT, json.dumps(args)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, f"{name} ({phase}):\n{res.stdout}\n{res.stderr}"
    return json.loads(res.stdout.split("__REPORT__", 1)[1])


def _instructor(cfg_args, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADING")}
    res = subprocess.run(
        [PY, "-m", "grading", *cfg_args, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return res


def _hidden_lines(assignment):
    nb = nbformat.read(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    lines = []
    for cell in nb.cells:
        inside = False
        for ln in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in ln:
                inside = True
            elif "END HIDDEN TESTS" in ln:
                inside = False
            elif inside and len(ln.strip()) >= 12:
                lines.append(ln.strip())
    # bỏ những dòng cũng có trong phần công khai (ví dụ vòng lặp tạo tham số giống nhau)
    public = nbformat.read(
        REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4
    )
    public_lines = {ln.strip() for c in public.cells for ln in c.source.split("\n")}
    lines = [ln for ln in lines if ln not in public_lines]
    assert len(lines) > 10
    return lines


def _visible_text(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_exchange_round_trip(tmp_path):
    exchange = tmp_path / "exchange"
    ws = tmp_path / "giang_vien"
    cfg_args = ["--workspace", str(ws), "--exchange", str(exchange), "--course-id", COURSE]

    res = _instructor(cfg_args, "release", B1, B2)
    assert res.returncode == 0, res.stdout + res.stderr
    for a in (B1, B2):
        assert (exchange / COURSE / "outbound" / a / f"{a}.ipynb").is_file()

    homes = {}
    for name in STUDENTS:
        homes[name] = tmp_path / "home" / name
        homes[name].mkdir(parents=True)
        _student(name, homes[name], exchange, "submit")
    inbound = sorted(p.name.split("+")[0] for p in (exchange / COURSE / "inbound").iterdir())
    assert inbound == sorted([n for n in STUDENTS for _ in (B1, B2)])

    res = _instructor(cfg_args, "collect", B1, B2)
    assert res.returncode == 0, res.stdout + res.stderr
    res = _instructor(cfg_args, "autograde")
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    for name, plan in STUDENTS.items():
        for a, (_, score) in plan.items():
            line = next(ln for ln in out.splitlines() if ln.startswith(name) and a in ln)
            assert f"{score}/{MAX[a]}" in line and "đã chấm" in line, line
    assert "Tổng kết: 8 bài nộp, 8 đã chấm, 0 lỗi/thiếu bài." in out

    res = _instructor(cfg_args, "feedback")
    assert res.returncode == 0, res.stdout + res.stderr
    res = _instructor(cfg_args, "release-feedback")
    assert res.returncode == 0, res.stdout + res.stderr

    hidden = {a: _hidden_lines(a) for a in (B1, B2)}
    for name, plan in STUDENTS.items():
        report = _student(name, homes[name], exchange, "feedback")
        for a, (how, score) in plan.items():
            pages = report[a]
            assert len(pages) == 1, f"{name} nhận {len(pages)} tệp phản hồi cho {a}"
            text = _visible_text(pages[0])
            assert f"(Điểm: {float(score)} / {float(MAX[a])})" in text
            if how is not None:
                assert f"bài làm của {name}" in text
            for other in STUDENTS:
                if other != name:
                    assert f"bài làm của {other}" not in text, f"{name} thấy bài của {other}"
            # phần công khai của ô kiểm thử vẫn hiện, phần ẩn thì không
            assert "check_true(" in text or "check(" in text
            text_lines = {ln.strip() for ln in text.splitlines()}
            assert PUBLIC_TEST_LINE[a] in text_lines  # cách dò tìm này thấy được mã kiểm thử
            leaked = [ln for ln in hidden[a] if ln in text_lines]
            assert not leaked, f"phản hồi của {name} ({a}) lộ kiểm thử ẩn: {leaked[:3]}"
            assert "BEGIN HIDDEN TESTS" not in pages[0]

    csv_path = tmp_path / "diem.csv"
    res = _instructor(cfg_args, "export", str(csv_path))
    assert res.returncode == 0, res.stdout + res.stderr
    with open(csv_path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    got = {(r["student_id"], r["assignment"]): float(r["score"]) for r in rows}
    expected = {(n, a): float(s) for n, plan in STUDENTS.items() for a, (_, s) in plan.items()}
    assert got == expected
    assert {r["max_score"] for r in rows if r["assignment"] == B1} == {"16"}
