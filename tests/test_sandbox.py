"""Kiểm thử hộp cát chấm điểm và kho bài nộp xấu (`tests/bad_submissions/`).

Cả kho được chấm trong MỘT lần `python -m grading autograde --workers 2`; các kiểm thử khẳng định
trên kết quả đó: lần chạy kết thúc, mỗi bài có trạng thái rõ ràng (đã chấm / lỗi / thiếu bài, kèm lý
do gắn cờ), gian lận được 0 ở ô bị tấn công, bài bình thường không bị ảnh hưởng, sổ điểm nhất quán,
không tệp nào bị ghi ra ngoài, và chấm lại (tuần tự, `--workers 1`) cho đúng cùng điểm.
"""

from __future__ import annotations

import csv
import os
import pathlib
import shutil
import sys
import time

import numpy as np
import pytest
from conftest import run_grading_cli

from grading.config import REPO_ROOT
from grading.sandbox import isolation, library
from grading.sandbox.limits import SandboxLimits
from grading.sandbox.selftest import SandboxBroken, ensure_working, self_test
from grading.sandbox.session import Session

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
    "gia_khung_kenh",
    "sua_dau_vao_tai_cho",
    "doi_cho_o_chuan_bi",
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
    feedback = _cli(*common, "feedback", A)
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
        "feedback": feedback,
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
    graded = {n for n, e in corpus["expected"].items() if e.status == "đã chấm"}
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
    assert "dừng đột ngột" in corpus["lines1"]["segfault"]
    assert "nói sai giao thức với bộ chấm" in corpus["lines1"]["gia_khung_kenh"]


# ---------------------------------------------------------------------------
# phản hồi, kích thước, tiến trình (trên cùng lần chấm)
# ---------------------------------------------------------------------------


def _hidden_texts() -> list[str]:
    """Những chuỗi chỉ có trong phần ẩn của test_relu: dấu mốc, hạt giống, đầu vào ẩn."""
    rng = np.random.default_rng(1202)
    first = rng.normal(scale=3.0, size=(1, 1))[0, 0]
    return ["BEGIN HIDDEN TESTS", "1202", f"{first:.6f}"[:8], repr(float(first))]


def _autograded(corpus, name) -> pathlib.Path:
    return corpus["ws"] / "autograded" / name / A / cases.NB_NAME


@pytest.mark.slow
def test_feedback_has_no_hidden_tests(corpus):
    assert corpus["feedback"].returncode == 0, corpus["feedback"].stdout + corpus["feedback"].stderr
    pages = sorted((corpus["ws"] / "feedback").rglob("*.html"))
    graded = [n for n, e in corpus["expected"].items() if e.status == "đã chấm"]
    assert {p.parts[-3] for p in pages} >= set(graded)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for secret in _hidden_texts():
            assert secret not in text, f"{page}: lộ {secret!r}"
        assert page.stat().st_size < 2_000_000, page  # lỗi/output khổng lồ đã bị cắt


@pytest.mark.slow
def test_autograded_student_outputs_have_no_hidden_tests(corpus):
    import nbformat

    for name, exp in corpus["expected"].items():
        path = _autograded(corpus, name)
        if exp.status != "đã chấm":
            continue
        assert path.stat().st_size < 2_000_000, (name, path.stat().st_size)
        nb = nbformat.read(str(path), as_version=4)
        outputs = str([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
        for secret in _hidden_texts():
            assert secret not in outputs, f"{name}: output lộ {secret!r}"
    # bài đọc lịch sử/linecache/đĩa: không tìm thấy tệp nào chứa kiểm thử ẩn
    nb = nbformat.read(str(_autograded(corpus, "lo_kiem_thu_an")), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "TIM_THAY []" in text


@pytest.mark.slow
def test_tmpfs_cap_holds_and_nothing_left_on_host(corpus):
    import re

    import nbformat

    nb = nbformat.read(str(_autograded(corpus, "ghi_dev_shm")), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    written = int(re.search(r"GHI_DUOC_MB (\d+)", text).group(1))
    assert written <= SandboxLimits().disk_mb  # 300 MB không ghi được vào tmpfs 128 MB
    assert not [p for p in corpus["ctx"].markers if p.exists()]


@pytest.mark.slow
def test_big_extra_files_are_capped(corpus):
    staged = corpus["ws"] / "submitted" / "tep_dinh_kem_lon" / A
    extra = [p for p in staged.rglob("*") if p.is_file() and p.suffix != ".ipynb"]
    lim = SandboxLimits()
    assert len(extra) <= lim.max_extra_files
    assert sum(p.stat().st_size for p in extra) <= lim.extra_files_mb * 2**20
    assert not (staged / "khong_lo.bin").exists()


def _processes_with(token: str) -> list[str]:
    found = []
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if token in cmd:
            found.append(f"{d.name}: {cmd}")
    return found


@pytest.mark.slow
def test_no_process_outlives_the_run(corpus):
    assert _processes_with(corpus["ctx"].token) == []


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


def _text(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if isinstance(o, dict))


def _session(limits, files=()):
    s = Session(library.build([]), list(files), limits)
    s.start()
    return s


@pytest.mark.slow
def test_sandbox_isolation(tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("GRADING_DB_URL", "sqlite:////bi/mat.db")
    secret = [
        str(REPO_ROOT / "solutions"),
        str(REPO_ROOT / ".git"),
        str(REPO_ROOT / "tests"),
        str(tmp_path),
        "/root/.bash_history",
    ]
    limits = SandboxLimits(memory_mb=1024, max_processes=48, cell_timeout=30)
    s = _session(limits)
    try:
        s.run(f"_PATHS = {secret!r}")
        outs = s.run(PROBE)
        r = json.loads(_text(outs).split("KQ", 1)[1])
        assert s.get("_r") == r  # cùng kết quả, qua kênh dữ liệu
    finally:
        s.close()
    assert r["env"] == []  # biến môi trường của bộ chấm không lọt vào hộp cát
    assert r["write_cwd"] and not r["write_etc"]
    iso = isolation.probe()
    if iso.prlimit:
        assert r["as"] == 1024 * 1024 * 1024
    if iso.bwrap:
        assert r["net"] is False
        assert not any(r["see"].values()), r["see"]
    if iso.setpriv:
        assert r["uid"] >= isolation.UID_BASE
        assert r["nproc"] == 48


@pytest.mark.slow
def test_reference_is_withheld_inside():
    """Hàm tham chiếu trong `withheld` không có thân bên trong hộp cát: gọi là báo lỗi."""
    s = Session(library.build(["nblib.activations"]), [], SandboxLimits(cell_timeout=30))
    s.start()
    try:
        outs = s.run("import nblib.activations\nnblib.activations.relu([1.0])")
        err = [o for o in outs if o.get("output_type") == "error"]
        assert err and err[0]["ename"] == "RuntimeError", outs
        assert "hàm tham chiếu" in err[0]["evalue"]
    finally:
        s.close()


@pytest.mark.slow
def test_notebook_wall_clock_limit():
    from grading.sandbox.session import SessionDead

    s = _session(SandboxLimits(cell_timeout=10, notebook_timeout=4))
    try:
        s.run("import time\ntime.sleep(2)")
        with pytest.raises(SessionDead) as exc:
            s.run("time.sleep(2.5)")
            s.run("x = 1")
        assert "giây" in exc.value.flag
        assert s.proc is None  # đã bị dừng
    finally:
        s.close()


@pytest.mark.slow
def test_cell_timeout_kills_session():
    from grading.sandbox.session import SessionDead

    s = _session(SandboxLimits(cell_timeout=2, notebook_timeout=60))
    try:
        with pytest.raises(SessionDead) as exc:
            s.run("while True:\n    pass")
        assert exc.value.flag == "chạy quá 2 giây, đã bị dừng"
        s.restart()
        assert "vẫn chạy tiếp" in _text(s.run("print('vẫn chạy tiếp')"))
    finally:
        s.close()


@pytest.mark.slow
def test_tmpfs_caps_tmp_and_shm_and_leaves_nothing():
    """/tmp và /dev/shm của bài nộp là tmpfs riêng, giới hạn dung lượng; đóng phiên là mất hết."""
    if not isolation.probe().tmpfs or not isolation.probe().bwrap:
        pytest.skip("cần root và bubblewrap để có tmpfs riêng")
    limits = SandboxLimits(disk_mb=32, cell_timeout=30)
    name = f"da_ghi_{os.getpid()}_{time.time_ns()}.bin"
    s = _session(limits)
    try:
        code = (
            "import os\n_kq = {}\n"
            f"for _d in ('/tmp', '/dev/shm'):\n"
            f"    _p = os.path.join(_d, {name!r})\n"
            "    _mb = 0\n"
            "    try:\n"
            "        with open(_p, 'wb') as _f:\n"
            "            while _mb < 100:\n"
            "                _f.write(b'x' * 2**20)\n"
            "                _f.flush()\n"
            "                _mb += 1\n"
            "    except OSError:\n"
            "        pass\n"
            "    _kq[_d] = _mb\n"
            "    os.remove(_p)\n"
        )
        s.run(code)
        written = s.get("_kq")
        box = s.box
    finally:
        s.close()
    assert set(written) == {"/tmp", "/dev/shm"}
    assert all(mb <= 32 for mb in written.values()), written  # 100 MB không ghi được
    for d in ("/tmp", "/dev/shm"):
        assert not pathlib.Path(d, name).exists()
    assert not box.exists()


@pytest.mark.slow
def test_child_process_does_not_outlive_session():
    token = f"song_sot_{os.getpid()}_{time.time_ns()}"
    s = _session(SandboxLimits(cell_timeout=30))
    try:
        s.run(
            "import os, subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {token!r}],"
            " start_new_session=True)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            f"    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)',"
            f" {token!r}])\n"
        )
        deadline = time.monotonic() + 10
        while len(_processes_with(token)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_processes_with(token)) == 2  # hai tiến trình đã chạy thật
    finally:
        s.close()
    deadline = time.monotonic() + 10
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(token) == []


@pytest.mark.slow
def test_forged_frame_kills_session_instead_of_desync():
    from grading.sandbox.session import SessionDead

    s = _session(SandboxLimits(cell_timeout=20))
    try:
        s.run("x = 41")
        with pytest.raises(SessionDead) as exc:
            s.run(
                "import gc, json, struct\n"
                "_g = next(o for o in gc.get_objects() if isinstance(o, dict) and 'CHAN_OUT' in o)\n"
                "_d = json.dumps({'op': 'reply', 'ok': True, 'value': 42, 'outputs': []}).encode()\n"
                "_g['CHAN_OUT'].write(struct.pack('>Q', len(_d)) + _d)\n"
                "_g['CHAN_OUT'].flush()\n"
            )
        assert exc.value.flag == "nói sai giao thức với bộ chấm"
    finally:
        s.close()


@pytest.mark.slow
def test_degraded_mode_still_runs_and_says_what_is_missing(monkeypatch):
    """Không có bubblewrap/root: vẫn chạy được (chỉ còn giới hạn thời gian, bộ nhớ) và báo rõ."""
    real = isolation.probe()
    fake = isolation.Isolation(
        None,
        real.prlimit,
        None,
        False,
        ("bubblewrap (không chặn mạng, không ẩn sổ điểm/lời giải/bài của người khác)",),
    )
    monkeypatch.setattr(isolation, "probe", lambda: fake)
    msg = fake.message()
    assert "KHÔNG đầy đủ" in msg and "bubblewrap" in msg
    s = _session(SandboxLimits(cell_timeout=30))
    try:
        assert "42" in _text(s.run("print(6 * 7)"))
        assert s.get("__name__") == "__main__"
    finally:
        s.close()


def test_full_isolation_message_is_empty():
    iso = isolation.Isolation("/usr/bin/bwrap", "/usr/bin/prlimit", "/usr/bin/setpriv", True, ())
    assert iso.full and iso.message() == ""


def test_limits_from_env(monkeypatch):
    monkeypatch.setenv("GRADING_SANDBOX_MEMORY_MB", "512")
    monkeypatch.setenv("GRADING_NOTEBOOK_TIMEOUT", "33")
    lim = SandboxLimits.from_env(cell_timeout=7)
    assert (lim.memory_mb, lim.notebook_timeout, lim.cell_timeout) == (512, 33, 7)
    assert SandboxLimits().memory_mb == 2048


@pytest.mark.slow
def test_self_test_passes_on_this_machine():
    assert self_test() == ""


def test_broken_sandbox_stops_the_run(monkeypatch):
    from grading.sandbox import selftest

    monkeypatch.setattr(selftest, "self_test", lambda: "hộp cát chết ngay khi khởi động")
    with pytest.raises(SandboxBroken, match="Dừng chấm để không ghi điểm sai"):
        ensure_working()
