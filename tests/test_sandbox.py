"""Kiểm thử hộp cát chấm điểm và kho bài nộp xấu (`tests/bad_submissions/`).

Cả kho được chấm trong MỘT lần `python -m grading autograde --workers 2`; các kiểm thử khẳng định
trên kết quả đó: lần chạy kết thúc, mỗi bài có trạng thái rõ ràng (đã chấm / lỗi / thiếu bài, kèm lý
do gắn cờ), gian lận được 0 ở ô bị tấn công, bài bình thường không bị ảnh hưởng, sổ điểm nhất quán,
không tệp nào bị ghi ra ngoài, và chấm lại (tuần tự, `--workers 1`) cho đúng cùng điểm.
"""

from __future__ import annotations

import csv
import pathlib
import shutil
import sys

import nbformat
import pytest
from conftest import run_grading_cli

from grading import sandbox
from grading.config import REPO_ROOT

sys.path.insert(0, str(pathlib.Path(__file__).parent / "bad_submissions"))
import cases  # noqa: E402

A = cases.ASSIGNMENT
CELL_TIMEOUT = 5
# Các bài chấm lại (tuần tự) để so với lần chạy song song: bài thường và bài dễ "bất định" nhất.
RERUN = (
    "aa_dung_het",
    "zz_mot_phan",
    "os_exit",
    "bom_tien_trinh",
    "vong_lap_vo_han",
    "va_numpy",
    "bien_doi_dau_vao",
    "json_hong",
    "khong_co_o",
)


def _cli(*args, env=None, timeout=1200):
    return run_grading_cli(*args, env=env, timeout=timeout)


def _grades(db: pathlib.Path) -> dict:
    """student → {"score", "max_score", "cells": {grade_id: điểm}} đọc thẳng từ sổ điểm."""
    from nbgrader.api import Gradebook

    gb = Gradebook(f"sqlite:///{db}", "mang-no-ron")
    out = {}
    try:
        for sub in gb.find_assignment(A).submissions:
            cells = {g.name: float(g.score or 0.0) for nb in sub.notebooks for g in nb.grades}
            out[sub.student.id] = {
                "score": float(sub.score or 0.0),
                "max_score": float(sub.max_score or 0.0),
                "cells": cells,
            }
    finally:
        gb.close()
    return out


def _lines(stdout: str, names) -> dict[str, str]:
    return {
        ln.split()[0]: ln for ln in stdout.splitlines() if ln.split() and ln.split()[0] in names
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bai_nop_xau")
    ws = root / "ws"
    ctx = cases.Context(workspace=ws)
    expected = cases.build_all(root / "bai_nop", ctx)
    common = ["--workspace", str(ws), "--timeout", str(CELL_TIMEOUT)]
    env = {"GRADING_NOTEBOOK_TIMEOUT": "120"}
    first = _cli(*common, "autograde", str(root / "bai_nop"), "--workers", "2", env=env)
    grades1 = _grades(ws / "gradebook.db")

    # chấm lại một phần, tuần tự, vào cùng workspace và sổ điểm
    again = root / "cham_lai"
    for name in RERUN:
        shutil.copytree(root / "bai_nop" / name / A, again / name / A, symlinks=True)
    second = _cli(*common, "autograde", str(again), "--workers", "1", env=env)
    grades2 = _grades(ws / "gradebook.db")
    export = _cli(*common, "export", str(root / "diem.csv"))
    with open(root / "diem.csv", encoding="utf-8") as f:
        csv_rows = list(csv.DictReader(f))
    return {
        "root": root,
        "ws": ws,
        "ctx": ctx,
        "expected": expected,
        "first": first,
        "second": second,
        "lines1": _lines(first.stdout, expected),
        "lines2": _lines(second.stdout, expected),
        "grades1": grades1,
        "grades2": grades2,
        "export": export,
        "csv": csv_rows,
    }


# ---------------------------------------------------------------------------
# cả lần chạy
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_run_finishes_with_a_line_per_student(corpus):
    out = corpus["first"].stdout
    assert corpus["first"].returncode == 1, out + corpus["first"].stderr  # có bài lỗi/thiếu
    assert "Traceback" not in out
    assert set(corpus["lines1"]) == set(corpus["expected"]), out
    n = len(corpus["expected"])
    assert f"Tổng kết: {n} bài nộp," in out
    assert "bị gắn cờ cần giảng viên xem lại" in out
    assert f"Chấm {n} bài nộp với 2 luồng" in out


@pytest.mark.slow
@pytest.mark.parametrize("name", list(cases.CASES))
def test_case_outcome(corpus, name):
    exp = corpus["expected"][name]
    line = corpus["lines1"][name]
    g = corpus["grades1"].get(name, {"score": 0.0, "max_score": 0.0, "cells": {}})
    assert f" {exp.status}" in line, line
    if exp.score is not None:
        assert g["score"] == exp.score, line
    for test in exp.zero:
        assert g["cells"].get(test, 0.0) == 0.0, f"{test} phải được 0: {line}"
    if exp.flag is None:
        assert "gắn cờ" not in line, line
    else:
        assert "gắn cờ" in line and exp.flag in line, line


@pytest.mark.slow
def test_normal_students_unaffected(corpus):
    g = corpus["grades1"]
    assert g["aa_dung_het"]["score"] == g["zz_dung_het"]["score"] == cases.MAX_SCORE
    assert g["zz_mot_phan"]["score"] == 4


@pytest.mark.slow
def test_nothing_written_outside_the_sandbox(corpus):
    leaked = [str(p) for p in corpus["ctx"].markers if p.exists()]
    assert not leaked, f"bài nộp đã ghi được ra ngoài: {leaked}"
    assert not list((REPO_ROOT / "grading").glob("da_ghi_*"))


@pytest.mark.slow
def test_symlink_in_submission_is_not_followed(corpus):
    staged = corpus["ws"] / "submitted" / "tep_thua" / A
    assert (staged / "helper.py").is_file()
    assert not (staged / "loi_giai.ipynb.txt").exists()


@pytest.mark.slow
def test_gradebook_consistent(corpus):
    g = corpus["grades1"]
    graded = {n for n, e in corpus["expected"].items() if e.status != "thiếu bài"}
    assert graded <= set(g)
    for student, r in g.items():
        assert r["max_score"] == cases.MAX_SCORE, student
        assert 0 <= r["score"] <= r["max_score"], student
        assert r["score"] == pytest.approx(sum(r["cells"].values())), student
        assert set(r["cells"]) >= {"test_tanh", "test_relu", "test_softmax"}, student
    assert corpus["export"].returncode == 0, corpus["export"].stderr
    rows = {r["student_id"]: float(r["score"]) for r in corpus["csv"] if r["assignment"] == A}
    for student, r in corpus["grades2"].items():
        assert rows[student] == r["score"], student


@pytest.mark.slow
def test_rerun_sequential_gives_same_grades(corpus):
    assert set(corpus["lines2"]) == set(RERUN), corpus["second"].stdout
    assert "với 1 luồng" in corpus["second"].stdout
    for name in corpus["grades1"]:
        assert corpus["grades2"][name] == corpus["grades1"][name], name
    for name in RERUN:
        # cùng trạng thái, cùng lý do gắn cờ
        assert corpus["lines2"][name] == corpus["lines1"][name]


@pytest.mark.slow
def test_flags_are_vietnamese_and_hidden_tests_stay_hidden(corpus):
    for line in corpus["lines1"].values():
        assert "BEGIN HIDDEN TESTS" not in line
    assert "kernel dừng đột ngột" in corpus["lines1"]["segfault"]
    assert "đã khôi phục trước khi chạy kiểm thử" in corpus["lines1"]["va_checks"]


# ---------------------------------------------------------------------------
# hộp cát, gọi trực tiếp (nhanh)
# ---------------------------------------------------------------------------

PROBE = r"""
import json, os, resource, socket
_r = {"uid": os.getuid(), "cwd": os.getcwd()}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    _r["net"] = True
except OSError:
    _r["net"] = False
_r["see"] = {p: os.path.exists(p) for p in _PATHS}
_r["env"] = sorted(k for k in os.environ if k.startswith("GRADING"))
_r["as"] = resource.getrlimit(resource.RLIMIT_AS)[0]
_r["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
with open("ghi_duoc.txt", "w") as _f:
    _f.write("ok")
_r["write_cwd"] = True
try:
    open("/etc/da_ghi.txt", "w")
    _r["write_etc"] = True
except OSError:
    _r["write_etc"] = False
print("KQ" + json.dumps(_r))
"""


def _run_cells(sources, limits, files=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return sandbox.execute_notebook(nb, files, limits)


def _probe_result(nb):
    import json

    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return json.loads(text.split("KQ", 1)[1])


@pytest.mark.slow
def test_sandbox_isolation(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADING_DB_URL", "sqlite:////bi/mat.db")
    secret = [
        str(REPO_ROOT / "solutions"),
        str(REPO_ROOT / ".git"),
        str(REPO_ROOT / "tests"),
        str(tmp_path),
        "/root/.bash_history",
    ]
    limits = sandbox.SandboxLimits(memory_mb=1024, max_processes=48, cell_timeout=30)
    nb, flags = _run_cells([f"_PATHS = {secret!r}", PROBE], limits)
    assert flags == []
    r = _probe_result(nb)
    assert r["env"] == []  # biến môi trường của bộ chấm không lọt vào kernel
    assert r["write_cwd"] and not r["write_etc"]
    iso = sandbox.probe()
    if iso.prlimit:
        assert r["as"] == 1024 * 1024 * 1024
    if iso.bwrap:
        assert r["net"] is False
        assert not any(r["see"].values()), r["see"]
    if iso.setpriv:
        assert r["uid"] >= sandbox.UID_BASE
        assert r["nproc"] == 48


@pytest.mark.slow
def test_notebook_wall_clock_limit():
    limits = sandbox.SandboxLimits(cell_timeout=10, notebook_timeout=4)
    cells = ["import time\ntime.sleep(2)"] * 2 + ["x = 1", "y = 2"]
    nb, flags = _run_cells(cells, limits)
    assert any("hết thời gian cho cả notebook (4 giây)" in f for f in flags), flags
    last = nb.cells[-1].outputs
    assert last and last[0]["output_type"] == "error"  # ô không được chạy → lỗi, 0 điểm


@pytest.mark.slow
def test_cell_timeout_interrupts_and_continues():
    limits = sandbox.SandboxLimits(cell_timeout=2, notebook_timeout=60)
    nb, flags = _run_cells(["while True:\n    pass", "print('vẫn chạy tiếp')"], limits)
    assert any(o.get("output_type") == "error" for o in nb.cells[0].outputs)
    assert "vẫn chạy tiếp" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert flags == ["ô 1: chạy quá 2 giây, đã bị ngắt"]


@pytest.mark.slow
def test_degraded_mode_still_grades_and_warns_once(monkeypatch):
    """Không có bubblewrap/root: vẫn chạy được (chỉ còn giới hạn thời gian, bộ nhớ) và báo một lần."""
    real = sandbox.probe()
    fake = sandbox.Isolation(
        None,
        real.prlimit,
        None,
        ("bubblewrap (không chặn mạng, không ẩn sổ điểm/lời giải/bài của người khác)",),
    )
    monkeypatch.setattr(sandbox, "probe", lambda: fake)
    monkeypatch.setattr(sandbox, "_warned", False)
    said = []
    sandbox.warn_once(said.append)
    sandbox.warn_once(said.append)
    assert len(said) == 1
    assert "KHÔNG đầy đủ" in said[0] and "bubblewrap" in said[0]
    nb, flags = _run_cells(["print(6 * 7)"], sandbox.SandboxLimits(cell_timeout=30))
    assert flags == []
    assert "42" in nb.cells[0].outputs[0]["text"]


def test_full_isolation_message_is_empty():
    iso = sandbox.Isolation("/usr/bin/bwrap", "/usr/bin/prlimit", "/usr/bin/setpriv", ())
    assert iso.full and iso.message() == ""


def test_limits_from_env(monkeypatch):
    monkeypatch.setenv("GRADING_SANDBOX_MEMORY_MB", "512")
    monkeypatch.setenv("GRADING_NOTEBOOK_TIMEOUT", "33")
    lim = sandbox.SandboxLimits.from_env(cell_timeout=7)
    assert (lim.memory_mb, lim.notebook_timeout, lim.cell_timeout) == (512, 33, 7)
    assert sandbox.SandboxLimits().memory_mb == 2048


@pytest.mark.slow
def test_self_test_passes_on_this_machine():
    assert sandbox.self_test() == ""


def test_broken_sandbox_stops_the_run(monkeypatch):
    monkeypatch.setattr(sandbox, "self_test", lambda: "kernel chết ngay khi khởi động")
    with pytest.raises(sandbox.SandboxBroken, match="Dừng chấm để không cho mọi bài 0 điểm"):
        sandbox.ensure_working()
