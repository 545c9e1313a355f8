"""Kiểm thử bộ chấm `grading`: check (lời giải đủ điểm, bài chưa làm 0 điểm), exercises/ khớp bản
build mới, autograde qua dòng lệnh (cảnh báo không bị trừ điểm, thiếu bài), xuất CSV, validate."""

from __future__ import annotations

import csv
import filecmp
import os

import nbformat
import pytest
from conftest import run_grading_cli

from grading import autograde, course
from grading.config import REPO_ROOT, load_config, nbgrader_config_text
from grading.nbgrader_hooks import make_api
from grading.synthetic import make_submission

ASSIGNMENTS = load_config().assignments()


def _quiet(*_args, **_kw):
    pass


_cli = run_grading_cli


# ---------------------------------------------------------------------------
# cấu hình (nhanh)
# ---------------------------------------------------------------------------


def test_assignments_discovered():
    assert "bt01_lan_truyen_thuan" in ASSIGNMENTS
    assert "bt02_ham_kich_hoat" in ASSIGNMENTS


def test_config_precedence_and_nbgrader_config(tmp_path, monkeypatch):
    toml = tmp_path / "grading.toml"
    toml.write_text('[grading]\ncourse_id = "tu-toml"\ncell_timeout = 17\n', encoding="utf-8")
    monkeypatch.setenv("GRADING_CONFIG", str(toml))
    monkeypatch.setenv("GRADING_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("GRADING_DB_URL", raising=False)
    cfg = load_config()
    assert cfg.workspace == (tmp_path / "ws").resolve()
    assert cfg.course_id == "tu-toml" and cfg.cell_timeout == 17
    assert cfg.db_url == f"sqlite:///{(tmp_path / 'ws' / 'gradebook.db').resolve()}"
    monkeypatch.setenv("GRADING_DB_URL", "postgresql://giangvien@db/khoahoc")
    cfg = load_config(course_id="tu-dong-lenh")
    assert cfg.db_url == "postgresql://giangvien@db/khoahoc"
    assert cfg.course_id == "tu-dong-lenh"
    text = nbgrader_config_text(cfg)
    assert "c.CourseDirectory.db_url = 'postgresql://giangvien@db/khoahoc'" in text
    assert "c.Execute.timeout = 17" in text
    assert "import grading.kernel_setup" in text
    assert "HideHiddenTests" in text
    compile(text, "nbgrader_config.py", "exec")


def test_default_workspace_is_outside_committed_folders():
    cfg = load_config()
    if os.environ.get("GRADING_WORKSPACE"):
        pytest.skip("GRADING_WORKSPACE được đặt")
    assert cfg.workspace == REPO_ROOT / ".grading-workspace"
    for committed in ("solutions", "exercises", "nblib", "grading", "lectures"):
        assert not cfg.workspace.is_relative_to(REPO_ROOT / committed)


# ---------------------------------------------------------------------------
# build: exercises/ phải đúng bằng một bản build mới
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_exercises_equal_fresh_build(tmp_path):
    cfg = load_config(workspace=tmp_path / "ws", exercises=tmp_path / "exercises")
    course.build(cfg, make_api(cfg), echo=_quiet)
    fresh = sorted(
        p.relative_to(tmp_path / "exercises")
        for p in (tmp_path / "exercises").rglob("*")
        if p.is_file()
    )
    committed_root = REPO_ROOT / "exercises"
    committed = sorted(
        p.relative_to(committed_root)
        for p in committed_root.rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    assert fresh == committed, "exercises/ khác bản build mới: chạy `python -m grading build`"
    for rel in fresh:
        assert filecmp.cmp(tmp_path / "exercises" / rel, committed_root / rel, shallow=False), (
            f"{rel} khác bản build mới: chạy `python -m grading build`"
        )
    # bản bài tập không chứa lời giải hay kiểm thử ẩn
    for rel in fresh:
        if rel.suffix == ".ipynb":
            text = (committed_root / rel).read_text(encoding="utf-8")
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
            assert "VIẾT MÃ CỦA BẠN Ở ĐÂY" in text


# ---------------------------------------------------------------------------
# check: mọi lời giải đủ điểm, mọi bài chưa làm 0 điểm
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def check_rows(tmp_path_factory):
    cfg = load_config(workspace=tmp_path_factory.mktemp("check-ws"))
    rows = autograde.check(cfg, make_api, echo=_quiet)
    return {r["assignment"]: r for r in rows}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_check_solution_full_exercise_zero(check_rows, assignment):
    r = check_rows[assignment]
    assert r["max_score"] > 0
    assert r["solution"] == r["max_score"], f"lời giải trượt: {r['solution_failed']} {r['message']}"
    assert r["exercise"] == 0, f"bài chưa làm vẫn được điểm ở: {r['exercise_passed']}"
    assert r["ok"]


@pytest.mark.slow
def test_check_flags_no_solution(check_rows):
    """Lời giải mẫu không bị gắn cờ (giống mã tham chiếu, mã động…): không có báo động giả."""
    for a, r in check_rows.items():
        assert r["flags"] == [], (a, r["flags"])


@pytest.mark.slow
def test_check_known_totals(check_rows):
    assert check_rows["bt01_lan_truyen_thuan"]["max_score"] == 16
    assert check_rows["bt02_ham_kich_hoat"]["max_score"] == 13


# ---------------------------------------------------------------------------
# autograde qua dòng lệnh: cảnh báo không bị trừ điểm, bài thiếu, xuất CSV
# ---------------------------------------------------------------------------

NAIVE_SIGMOID_WITH_WARNINGS = '''
import warnings


def sigmoid(z):
    """Công thức trực tiếp: tràn số (RuntimeWarning) khi z rất âm, nhưng kết quả vẫn đúng."""
    warnings.warn("đây là một DeprecationWarning thử nghiệm", DeprecationWarning)
    return 1.0 / (1.0 + np.exp(-z))
'''

LEAKY_CHEAT = """
from nblib.activations import leaky_relu, leaky_relu_grad
"""


def _ex(a):
    return REPO_ROOT / "exercises" / a / f"{a}.ipynb"


def _sol(a):
    return REPO_ROOT / "solutions" / a / f"{a}.ipynb"


B1, B2 = "bt01_lan_truyen_thuan", "bt02_ham_kich_hoat"


@pytest.mark.slow
def test_cli_autograde_warnings_missing_and_export(tmp_path):
    subs = tmp_path / "bai_nop"
    make_submission(
        _ex(B1),
        _sol(B1),
        subs / "sv_canh_bao" / B1 / f"{B1}.ipynb",
        solved="all",
        overrides={"sigmoid": NAIVE_SIGMOID_WITH_WARNINGS},
    )
    make_submission(
        _ex(B2),
        _sol(B2),
        subs / "sv_mot_phan" / B2 / f"{B2}.ipynb",
        solved=["tanh", "relu"],
        overrides={"leaky_relu": LEAKY_CHEAT},
    )
    (subs / "sv_thieu" / B1).mkdir(parents=True)
    make_submission(_ex(B1), _sol(B1), subs / "sv_thieu" / B1 / "ten_khac.ipynb", solved="all")

    ws = tmp_path / "ws"
    db = tmp_path / "so_diem" / "lop.db"
    db.parent.mkdir()
    common = ["--workspace", str(ws), "--db-url", f"sqlite:///{db}"]
    res = _cli(*common, "autograde", str(subs))
    out = res.stdout
    assert res.returncode == 1, out + res.stderr  # có một bài thiếu
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("sv_")}
    assert "16/16" in lines["sv_canh_bao"] and "đã chấm" in lines["sv_canh_bao"]
    assert "4/13" in lines["sv_mot_phan"] and "test_leaky_relu" in lines["sv_mot_phan"]
    assert "thiếu bài" in lines["sv_thieu"] and f"{B1}.ipynb" in lines["sv_thieu"]
    assert "Tổng kết: 3 bài nộp, 2 đã chấm, 1 lỗi/thiếu bài." in out
    assert db.is_file() and not (ws / "gradebook.db").exists()  # URL SQLAlchemy tuỳ chọn

    # cảnh báo trong hàm của học viên không làm mất điểm; ô kiểm thử chỉ chứa output của phần
    # công khai (chạy ở bộ chấm), không có stderr
    nb = nbformat.read(ws / "autograded" / "sv_canh_bao" / B1 / f"{B1}.ipynb", as_version=4)
    cell = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid"
    )
    assert not [o for o in cell.outputs if o.output_type == "error"]
    assert not [o for o in cell.outputs if o.get("name") == "stderr"]
    assert "✓ sigmoid(z) với z = (−1; 0; 4,1): đúng" in "".join(
        o.get("text", "") for o in cell.outputs
    )
    # cheat gọi hàm tham chiếu: bị luật tĩnh chặn, có lý do trong ô kiểm thử
    nb2 = nbformat.read(ws / "autograded" / "sv_mot_phan" / B2 / f"{B2}.ipynb", as_version=4)
    cell = next(
        c for c in nb2.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_leaky_relu"
    )
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert errors and "nblib" in errors[0].evalue, cell.outputs

    res = _cli(*common, "export", str(tmp_path / "diem.csv"))
    assert res.returncode == 0, res.stderr
    with open(tmp_path / "diem.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    got = {(r["student_id"], r["assignment"]): (r["score"], r["max_score"]) for r in rows}
    assert got == {
        ("sv_canh_bao", B1): ("16", "16"),
        ("sv_canh_bao", B2): ("0", "13"),
        ("sv_mot_phan", B1): ("0", "16"),
        ("sv_mot_phan", B2): ("4", "13"),
    }


# ---------------------------------------------------------------------------
# học viên tự kiểm tra
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_validate_vietnamese_output(tmp_path):
    todo = tmp_path / "chua_lam" / f"{B2}.ipynb"
    todo.parent.mkdir()
    todo.write_bytes(_ex(B2).read_bytes())
    res = _cli("--workspace", str(tmp_path / "ws"), "validate", str(todo))
    assert res.returncode == 1
    assert "❌ test_tanh: chưa đạt (0/2 điểm)" in res.stdout
    assert "chưa làm" in res.stdout
    assert "Kết quả kiểm thử công khai: 0/13 điểm." in res.stdout

    done = make_submission(_ex(B2), _sol(B2), tmp_path / "da_lam" / f"{B2}.ipynb", solved="all")
    res = _cli("--workspace", str(tmp_path / "ws"), "validate", str(done))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "✅ test_softmax: đạt (3/3 điểm)" in res.stdout
    assert "Kết quả kiểm thử công khai: 13/13 điểm." in res.stdout
    assert "🎉" in res.stdout
