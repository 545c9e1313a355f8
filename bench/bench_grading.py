"""Đo tốc độ chấm: `python -m grading autograde` (song song, trong hộp cát) so với
`python -m grading autograde --cluster local:N` (cluster Dask) và `nbgrader autograde` gốc
(tuần tự), trên cùng một lớp bài nộp giả lập, trong cùng một lần chạy.

    python bench/bench_grading.py [--students 40] [--assignment bt02_ham_kich_hoat] [--workers N]

In ra thời gian của hai cách, dòng `grading_vs_nbgrader: …×` (mục tiêu ≥ 1,8× trên 2 lõi) và
việc điểm của MỌI học viên có trùng nhau giữa hai cách hay không.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grading.config import load_config  # noqa: E402
from grading.course import generate  # noqa: E402
from grading.nbgrader_hooks import make_api  # noqa: E402
from grading.synthetic import answer_ids, make_submission  # noqa: E402


def make_class(subs: pathlib.Path, assignment: str, n: int) -> dict[str, str]:
    """n bài nộp: đúng hết / đúng một phần / sai (hàm trả về 0). Trả về student → loại."""
    import nbformat

    ex = REPO / "exercises" / assignment / f"{assignment}.ipynb"
    sol = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    ids = answer_ids(nbformat.read(str(sol), as_version=4))
    kinds = {}
    for i in range(n):
        student = f"sv{i:03d}"
        out = subs / student / assignment / f"{assignment}.ipynb"
        kind = ("dung", "mot_phan", "sai")[i % 3]
        if kind == "dung":
            make_submission(ex, sol, out, solved="all", marker=student)
        elif kind == "mot_phan":
            k = 1 + (i // 3) % max(1, len(ids) - 1)
            make_submission(ex, sol, out, solved=ids[:k], marker=student)
        else:
            make_submission(
                ex,
                sol,
                out,
                solved="all",
                overrides={gid: f"def {gid}(*args, **kwargs):\n    return 0\n" for gid in ids},
                marker=student,
            )
        kinds[student] = kind
    return kinds


def scores(db: pathlib.Path, course_id: str, assignment: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    gb = Gradebook(f"sqlite:///{db}", course_id)
    try:
        return {
            s.student.id: float(s.score or 0.0) for s in gb.find_assignment(assignment).submissions
        }
    finally:
        gb.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=40)
    p.add_argument("--assignment", default="bt02_ham_kich_hoat")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--keep", action="store_true", help="giữ thư mục tạm để xem lại")
    args = p.parse_args(argv)
    a = args.assignment
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        subs = tmp / "bai_nop"
        kinds = make_class(subs, a, args.students)
        print(
            f"{args.students} bài nộp giả lập của {a}: "
            + ", ".join(f"{k} {list(kinds.values()).count(k)}" for k in ("dung", "mot_phan", "sai"))
        )

        # --- chuẩn bị (không tính giờ): sinh bài tập trong hai workspace riêng
        ours = load_config(workspace=tmp / "ws_grading")
        base = load_config(workspace=tmp / "ws_nbgrader")
        for cfg in (ours, base):
            generate(cfg, make_api(cfg), a)
        for s in kinds:
            dst = base.workspace / "submitted" / s / a
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(subs / s / a, dst)

        # --- 1. bộ chấm của khoá học: pool tiến trình cục bộ, rồi cluster Dask 2 worker
        def run_ours(ws: pathlib.Path, *extra: str) -> float:
            t = time.perf_counter()
            res = subprocess.run(
                [sys.executable, "-m", "grading", "--workspace", str(ws), "autograde", str(subs),
                 *extra],
                cwd=REPO, env=env, capture_output=True, text=True,
            )  # fmt: skip
            elapsed = time.perf_counter() - t
            if os.environ.get("BENCH_VERBOSE"):
                print(res.stdout)
            if res.returncode not in (0, 1):
                print(res.stdout[-3000:], res.stderr[-3000:])
                raise SystemExit(2)
            return elapsed

        dask_ws = tmp / "ws_dask"
        generate(load_config(workspace=dask_ws), make_api(load_config(workspace=dask_ws)), a)
        t_ours = run_ours(ours.workspace, "--workers", str(args.workers))
        t_dask = run_ours(dask_ws, "--cluster", f"local:{args.workers}")

        # --- 2. nbgrader autograde gốc, tuần tự, cùng nbgrader_config.py
        t = time.perf_counter()
        res_nb = subprocess.run(
            [os.path.join(bindir, "nbgrader"), "autograde", a, "--force"],
            cwd=base.workspace,
            env=env,
            capture_output=True,
            text=True,
        )
        t_nb = time.perf_counter() - t
        if res_nb.returncode != 0:
            print(res_nb.stdout[-3000:], res_nb.stderr[-3000:])
            return 2

        got = scores(ours.workspace / "gradebook.db", ours.course_id, a)
        got_dask = scores(dask_ws / "gradebook.db", ours.course_id, a)
        ref = scores(base.workspace / "gradebook.db", base.course_id, a)
        same = [s for s in kinds if s in got and s in ref and got[s] == ref[s] == got_dask.get(s)]
        diff = [s for s in kinds if s not in same]
        ratio = t_nb / t_ours
        print(
            f"grading_seconds: {t_ours:.1f} (autograde --workers {args.workers}, hộp cát + phán quyết)"
        )
        print(f"nbgrader_seconds: {t_nb:.1f} (nbgrader autograde gốc, tuần tự, không hộp cát)")
        print(f"grading_dask_seconds: {t_dask:.1f} (autograde --cluster local:{args.workers})")
        print(f"grading_vs_nbgrader: {ratio:.2f}× (mục tiêu ≥ 1,8× trên 2 lõi)")
        print(f"grading_dask_vs_nbgrader: {t_nb / t_dask:.2f}× (mục tiêu ≥ 1,8× trên 2 lõi)")
        print(
            f"scores_match: {not diff} ({len(same)}/{len(kinds)} học viên cùng điểm"
            + (
                f"; khác: {', '.join(f'{s} {got.get(s)}/{got_dask.get(s)}≠{ref.get(s)}' for s in diff)}"
                if diff
                else ""
            )
            + ")"
        )
        return 0 if not diff else 1
    finally:
        if args.keep:
            print(f"Thư mục tạm: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
