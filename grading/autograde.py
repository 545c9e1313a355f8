"""Chấm tự động: nhận bài → chạy trong hộp cát và phán quyết → ghi sổ điểm → tổng kết.

1. `stage`: chép bài nộp vào `<workspace>/submitted/` (bỏ symlink; giới hạn số và dung lượng tệp
   đi kèm; notebook quá lớn bị từ chối).
2. Tiến trình điều phối làm sạch từng notebook bằng đúng các preprocessor làm sạch của nbgrader
   (chỉ ĐỌC sổ điểm) và gửi cho pool.
3. Mỗi tiến trình con của pool phán quyết (`grading.judge`): mã học viên trong hộp cát, kiểm thử
   trong tiến trình con (tin cậy). Nó không bao giờ mở sổ điểm.
4. Tiến trình điều phối, theo đúng thứ tự bài nộp, chạy `nbgrader autograde` với `JudgedExecute`
   thay cho `Execute`: nbgrader ghi điểm từ output đã phán quyết. Vì vậy điểm giống hệt khi chạy
   tuần tự (`--workers 1`), và một bài không phán quyết được thì KHÔNG được ghi điểm.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
import os
import pathlib
import shutil
import sys
import tempfile
import time

from grading import gradebook, nbgrader_hooks
from grading.cluster import WorkerKilled
from grading.config import GradingConfig
from grading.course import ensure_generated, generate
from grading.gradebook import ERROR, MISSING, SubmissionResult
from grading.jobs import Job, embed_files, run_job
from grading.sandbox import isolation, pool
from grading.sandbox.limits import SandboxLimits

LOG = logging.getLogger("grading")
IGNORE = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")
MAX_NOTEBOOK_MB = 20


# ---------------------------------------------------------------------------
# 1. nhận bài
# ---------------------------------------------------------------------------


def _walk_files(root: pathlib.Path):
    """Các tệp thường dưới `root` (không đi theo symlink), theo thứ tự."""
    for dirpath, dirnames, fnames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not any(fnmatch.fnmatch(d, p) for p in IGNORE)
            and not os.path.islink(os.path.join(dirpath, d))
        )
        for n in sorted(fnames):
            p = os.path.join(dirpath, n)
            if any(fnmatch.fnmatch(n, pat) for pat in IGNORE) or os.path.islink(p):
                continue
            if os.path.isfile(p):
                yield pathlib.Path(p)


def extra_files(root: pathlib.Path, limits: SandboxLimits):
    """Tệp đi kèm một bài nộp (mọi tệp trừ notebook ở cấp đầu), trong giới hạn số tệp và tổng dung
    lượng. Trả về (các tệp được nhận, số tệp bị bỏ)."""
    kept, total, skipped = [], 0, 0
    for p in _walk_files(root):
        rel = p.relative_to(root)
        if p.suffix == ".ipynb" and len(rel.parts) == 1:
            continue
        size = p.stat().st_size
        if len(kept) + 1 > limits.max_extra_files or total + size > limits.extra_files_mb * 2**20:
            skipped += 1
            continue
        kept.append(p)
        total += size
    return kept, skipped


def stage_one(src: pathlib.Path, dst: pathlib.Path, limits: SandboxLimits) -> list[str]:
    """Chép một bài nộp; trả về lý do gắn cờ (tệp bị bỏ)."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    flags = []
    notebooks = [p for p in sorted(src.glob("*.ipynb")) if p.is_file() and not p.is_symlink()]
    for p in notebooks:
        size = p.stat().st_size
        if size > MAX_NOTEBOOK_MB * 1024 * 1024:
            flags.append(f"notebook {p.name} quá lớn ({size // 2**20} MiB), không chấm")
            continue
        shutil.copyfile(p, dst / p.name)
    kept, skipped = extra_files(src, limits)
    for p in kept:
        rel = p.relative_to(src)
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst / rel)
    if skipped:
        flags.append(
            f"{skipped} tệp đi kèm bị bỏ (giới hạn {limits.max_extra_files} tệp,"
            f" {limits.extra_files_mb} MiB)"
        )
    return flags


def stage(cfg: GradingConfig, submissions_dir: pathlib.Path, limits: SandboxLimits):
    """Chép `<dir>/<student>/<assignment>/*` vào `<workspace>/submitted/`; trả về (cặp, cờ)."""
    pairs, flags = [], {}
    known = set(cfg.assignments())
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"Không có thư mục bài nộp: {submissions_dir}")
    for sdir in sorted(p for p in submissions_dir.iterdir() if p.is_dir() and not p.is_symlink()):
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.is_symlink()):
            if adir.name not in known:
                LOG.warning("Bỏ qua %s: không có bài tập tên %s", adir, adir.name)
                continue
            dst = cfg.workspace / "submitted" / sdir.name / adir.name
            flags[(sdir.name, adir.name)] = stage_one(adir, dst, limits)
            pairs.append((sdir.name, adir.name))
    return pairs, flags


def submitted_pairs(cfg: GradingConfig, assignments=None) -> list[tuple[str, str]]:
    """Các bài nộp đã có trong `<workspace>/submitted/` (ví dụ sau `collect`)."""
    root = cfg.workspace / "submitted"
    wanted = set(assignments or cfg.assignments())
    pairs = []
    if root.is_dir():
        for sdir in sorted(p for p in root.iterdir() if p.is_dir()):
            for adir in sorted(p for p in sdir.iterdir() if p.is_dir()):
                if adir.name in wanted:
                    pairs.append((sdir.name, adir.name))
    return pairs


def workdir_files(cfg: GradingConfig, student: str, assignment: str, limits: SandboxLimits):
    """(nguồn, đường dẫn tương đối) chép vào thư mục làm việc của hộp cát: tệp học viên nộp (trong
    giới hạn, kể cả bài thu qua exchange không đi qua `stage`), rồi tệp gốc của bài tập đè lên."""
    files: dict[str, pathlib.Path] = {}
    for root in (
        cfg.workspace / "submitted" / student / assignment,
        cfg.workspace / "source" / assignment,
    ):
        if root.is_dir():
            for p in extra_files(root, limits)[0]:
                files[str(p.relative_to(root))] = p
    return sorted((str(src), rel) for rel, src in files.items())


def source_facts(cfg: GradingConfig, assignment: str, notebook: str):
    """Từ notebook GỐC của giảng viên: (hàm tham chiếu bị ẩn — metadata `grading.withheld`,
    mã các ô khoá không phải ô kiểm thử — ô chuẩn bị, ô dữ liệu — theo thứ tự)."""
    import nbformat

    path = cfg.workspace / "source" / assignment / f"{notebook}.ipynb"
    try:
        nb = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError):
        return [], None
    withheld = [str(x) for x in nb.metadata.get("grading", {}).get("withheld", [])]
    locked = []
    for c in nb.cells:
        m = c.get("metadata", {}).get("nbgrader", {})
        if (
            c.cell_type == "code"
            and m.get("locked")
            and not m.get("grade")
            and not m.get("solution")
        ):
            locked.append(c.source)
    return withheld, tuple(locked)


# ---------------------------------------------------------------------------
# dấu hiệu sửa notebook (so với bản phát hành)
# ---------------------------------------------------------------------------

_META_KEYS = ("grade", "solution", "locked", "points", "task")


def tamper_flags(submitted: pathlib.Path, released: pathlib.Path) -> list[str]:
    """Lý do gắn cờ khi ô khoá/kiểm thử bị xoá, bị sửa hay bị đổi metadata."""
    import nbformat
    from nbgrader import utils

    try:
        sub = nbformat.read(str(submitted), as_version=4)
    except Exception as exc:  # noqa: BLE001
        return [
            f"notebook `{submitted.name}` không đọc được (không phải JSON notebook hợp lệ hoặc "
            f"tệp rỗng: {type(exc).__name__})"
        ]
    try:
        rel = nbformat.read(str(released), as_version=4)
    except Exception:  # noqa: BLE001
        return []
    flags = []
    sub_cells = {}
    for c in sub.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid:
            sub_cells.setdefault(gid, c)
    for c in rel.cells:
        meta = c.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if not gid or not (meta.get("locked") or meta.get("grade")):
            continue
        what = "ô kiểm thử" if meta.get("grade") else "ô khoá"
        s = sub_cells.get(gid)
        if s is None:
            flags.append(f"{what} `{gid}` đã bị xoá")
            continue
        smeta = s.metadata.get("nbgrader", {})
        changed = [k for k in _META_KEYS if smeta.get(k) != meta.get(k)]
        if changed:
            flags.append(f"metadata của {what} `{gid}` đã bị sửa ({', '.join(changed)})")
        elif s.source != c.source or (
            "checksum" in smeta and utils.compute_checksum(s) != smeta["checksum"]
        ):
            flags.append(f"{what} `{gid}` đã bị sửa (đã khôi phục bản gốc)")
    return flags


# ---------------------------------------------------------------------------
# 3. phán quyết (trong tiến trình con của pool)
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# 2 + 4. điều phối và ghi sổ điểm
# ---------------------------------------------------------------------------


def _progress(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'█' * filled}{'░' * (width - filled)}] {done}/{total} bài nộp"


def _notebooks(cfg: GradingConfig, student: str, assignment: str):
    release = cfg.workspace / "release" / assignment
    folder = cfg.workspace / "submitted" / student / assignment
    return [(folder / p.name, p) for p in sorted(release.glob("*.ipynb"))]


# ---------------------------------------------------------------------------
# nhật ký: chấm tiếp sau khi bị ngắt mà không chấm lại bài đã ghi điểm
# ---------------------------------------------------------------------------


def journal_path(cfg: GradingConfig) -> pathlib.Path:
    return cfg.workspace / "autograde-journal.jsonl"


def submission_digest(cfg: GradingConfig, student: str, assignment: str) -> str:
    """Dấu vân tay của bài nộp đã nhận và của bài tập gốc: đổi một trong hai thì chấm lại."""
    import hashlib

    h = hashlib.sha256()
    for root in (
        cfg.workspace / "submitted" / student / assignment,
        cfg.workspace / "source" / assignment,
    ):
        if root.is_dir():
            for p in _walk_files(root):
                h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def read_journal(cfg: GradingConfig) -> dict[tuple[str, str], str]:
    import json

    done = {}
    path = journal_path(cfg)
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                done[(row["student"], row["assignment"])] = row["digest"]
            except (ValueError, KeyError, TypeError):
                continue  # dòng cuối bị cắt dở khi bị ngắt
    return done


def append_journal(cfg: GradingConfig, student: str, assignment: str, digest: str) -> None:
    import json

    with open(journal_path(cfg), "a", encoding="utf-8") as f:
        f.write(json.dumps({"student": student, "assignment": assignment, "digest": digest}) + "\n")
        f.flush()
        os.fsync(f.fileno())


def grade_pairs(
    cfg,
    api,
    pairs,
    workers=None,
    limits=None,
    stage_flags=None,
    echo=print,
    cluster=None,
    resume=False,
):
    """Chấm các cặp (student, assignment) đã nằm trong `<workspace>/submitted/`; trả về danh
    sách `SubmissionResult` theo thứ tự `pairs`.

    cluster: None (pool tiến trình cục bộ `workers`), hoặc "local:N" / "tcp://…" (Dask);
    resume: bỏ qua bài đã ghi điểm trong nhật ký với đúng bài nộp đó.
    """
    import nbformat

    workers = max(1, int(workers or pool.default_workers()))
    digests = {p: submission_digest(cfg, *p) for p in pairs}
    done = read_journal(cfg) if resume else {}
    skipped = [p for p in pairs if done.get(p) == digests[p]]
    if skipped:
        echo(f"↷ {len(skipped)} bài đã được chấm ở lần chạy trước (nhật ký): không chấm lại.")
    limits = limits or SandboxLimits.from_env(cell_timeout=cfg.cell_timeout)
    stage_flags = stage_flags or {}
    iso = isolation.probe()
    if not limits.enabled:
        echo(
            "⚠️  Hộp cát đã bị TẮT (GRADING_SANDBOX=0): mã của học viên chạy với quyền của bộ chấm,"
            " có mạng và đọc được mọi tệp. Chỉ dùng để gỡ lỗi."
        )
    elif iso.missing:
        echo(iso.message())
    from grading.sandbox.selftest import ensure_working

    ensure_working()
    lib_root = cfg.workspace / "sandbox-lib"
    lib_root.mkdir(parents=True, exist_ok=True)
    verdicts = pathlib.Path(tempfile.mkdtemp(prefix="phan-quyet-", dir=cfg.workspace))
    api.config.JudgedExecute.verdicts_dir = str(verdicts)

    jobs: dict = {}
    unreadable: dict = {}
    for student, assignment in pairs:
        if (student, assignment) in skipped:
            continue
        for sub_path, _rel in _notebooks(cfg, student, assignment):
            if not sub_path.is_file():
                continue
            nb, dup_flags, why = nbgrader_hooks.sanitize(
                api.config, cfg, student, assignment, sub_path
            )
            stage_flags.setdefault((student, assignment), []).extend(dup_flags)
            if nb is None:
                unreadable[(student, assignment, sub_path.stem)] = why
                continue
            withheld, trusted_cells = source_facts(cfg, assignment, sub_path.stem)
            jobs[(student, assignment, sub_path.stem)] = Job(
                nbformat.writes(nb),
                tuple(workdir_files(cfg, student, assignment, limits)),
                limits,
                tuple(withheld),
                str(lib_root),
                trusted_cells,
            )
    executor, futures = None, {}
    if cluster:
        from grading import cluster as dask_cluster

        executor = dask_cluster.connect(cluster)
        for k, j in jobs.items():
            key = "cham-" + "-".join(k) + "-" + os.urandom(4).hex()
            futures[k] = executor.submit(embed_files(j), key=key)
        workers_text = f"cluster {cluster}"
    else:
        if workers > 1 and len(jobs) > 1:
            executor = pool.make_pool(workers)
            futures = {k: executor.submit(run_job, j) for k, j in jobs.items()}
        workers_text = f"{workers} luồng"

    tty = sys.stderr.isatty()
    results = []
    t0 = time.monotonic()
    try:
        for i, (student, assignment) in enumerate(pairs, 1):
            if (student, assignment) in skipped:
                r = gradebook.read_result(cfg, assignment, student)
                r.message = "đã chấm ở lần chạy trước"
            else:
                r = _record(
                    cfg, api, student, assignment, jobs, futures, verdicts, stage_flags, unreadable
                )
                if r.ok:
                    append_journal(cfg, student, assignment, digests[(student, assignment)])
            results.append(r)
            if tty:
                sys.stderr.write("\r\033[K")
            echo(r.line())
            bar = _progress(i, len(pairs))
            if tty:
                sys.stderr.write(bar)
                sys.stderr.flush()
            elif i == len(pairs) or i % max(1, len(pairs) // 10) == 0:
                print(bar, file=sys.stderr)
    finally:
        if tty:
            sys.stderr.write("\n")
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(verdicts, ignore_errors=True)
    elapsed = time.monotonic() - t0
    flagged = sum(bool(r.flags) for r in results)
    echo(
        f"Chấm {len(results)} bài nộp với {workers_text} trong {elapsed:.1f} giây"
        + (f"; {flagged} bài bị gắn cờ (xem lý do ở từng dòng)." if flagged else ".")
    )
    return results


def _record(cfg, api, student, assignment, jobs, futures, verdicts, stage_flags, unreadable):
    """Lấy phán quyết của một bài (từ pool, hoặc tính tại chỗ) rồi để nbgrader ghi điểm."""

    flags = list(stage_flags.get((student, assignment), []))
    notebooks = _notebooks(cfg, student, assignment)
    present = [s for s, _ in notebooks if s.is_file()]
    if not present or len(present) < len(notebooks):
        missing = [s.name for s, _ in notebooks if not s.is_file()]
        return SubmissionResult(
            student, assignment, status=MISSING, message="không tìm thấy " + ", ".join(missing)
        )
    failed_to_judge = []
    for sub_path, rel_path in notebooks:
        flags += tamper_flags(sub_path, rel_path)
        key = (student, assignment, sub_path.stem)
        if key not in jobs:
            failed_to_judge.append(f"{sub_path.name}: {unreadable.get(key, 'không đọc được')}")
            continue
        try:
            nb_json, judge_flags = futures[key].result() if key in futures else run_job(jobs[key])
        except WorkerKilled as exc:  # bài nộp làm chết worker: không chạy lại tại chỗ
            failed_to_judge.append(f"{sub_path.name}: {exc}")
            flags.append(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001  (tiến trình con chết: thử lại tại chỗ một lần)
            try:
                nb_json, judge_flags = run_job(jobs[key])
            except Exception as exc2:  # noqa: BLE001
                failed_to_judge.append(f"{sub_path.name}: {type(exc2).__name__} ({exc})")
                continue
        flags += judge_flags
        out = nbgrader_hooks.verdict_path(verdicts, student, assignment, sub_path.stem)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(nb_json, encoding="utf-8")
    flags = list(dict.fromkeys(flags))
    if failed_to_judge:
        return SubmissionResult(
            student,
            assignment,
            status=ERROR,
            message="không chấm được, KHÔNG ghi điểm: " + "; ".join(failed_to_judge),
            flags=flags,
        )
    res = nbgrader_hooks.call(api.autograde, assignment, student, force=True, create=True)
    result = gradebook.read_result(cfg, assignment, student)
    if not res.get("success"):
        result.status = ERROR
        err = (res.get("error") or res.get("log") or "").strip().splitlines()
        result.message = "nbgrader báo lỗi: " + (err[-1] if err else "không rõ")
    result.flags = flags
    return result


def autograde(
    cfg: GradingConfig,
    api,
    submissions_dir=None,
    assignments=None,
    echo=print,
    workers=None,
    limits=None,
    cluster=None,
    resume=False,
):
    """Chấm mọi bài nộp (từ `submissions_dir` hoặc từ `<workspace>/submitted/`)."""
    limits = limits or SandboxLimits.from_env(cell_timeout=cfg.cell_timeout)
    stage_flags = {}
    if submissions_dir is not None:
        pairs, stage_flags = stage(cfg, pathlib.Path(submissions_dir), limits)
        if assignments:
            pairs = [p for p in pairs if p[1] in set(assignments)]
    else:
        pairs = submitted_pairs(cfg, assignments)
    for a in sorted({a for _, a in pairs}):
        ensure_generated(cfg, api, a)
    results = grade_pairs(cfg, api, pairs, workers, limits, stage_flags, echo, cluster, resume)
    echo(gradebook.summary(results))
    return results


# ---------------------------------------------------------------------------
# check: lời giải đạt điểm tối đa, bài tập chưa làm được 0 — qua đúng đường chấm thật
# ---------------------------------------------------------------------------


def check(cfg: GradingConfig, make_api, assignments=None, echo=print, workers=None) -> list[dict]:
    """Chấm lời giải và bài chưa làm (hộp cát + phán quyết như `autograde`) trong một workspace
    tạm (không đụng sổ điểm thật)."""
    names = list(assignments or cfg.assignments())
    rows = []
    with tempfile.TemporaryDirectory(prefix="grading-check-") as tmp:
        tcfg = dataclasses.replace(
            cfg,
            workspace=pathlib.Path(tmp),
            db_url=f"sqlite:///{pathlib.Path(tmp) / 'gradebook.db'}",
            exchange=pathlib.Path(tmp) / "exchange",
        )
        api = make_api(tcfg)
        pairs = []
        for a in names:
            release = generate(tcfg, api, a)
            for student, src_dir in (
                (gradebook.SOLUTION_STUDENT, tcfg.workspace / "source" / a),
                (gradebook.EXERCISE_STUDENT, release),
            ):
                dst = tcfg.workspace / "submitted" / student / a
                dst.mkdir(parents=True, exist_ok=True)
                for nb in src_dir.glob("*.ipynb"):
                    shutil.copy2(nb, dst / nb.name)
                pairs.append((student, a))
        results = grade_pairs(tcfg, api, pairs, workers=workers, echo=lambda *_: None)
        by = {(r.student, r.assignment): r for r in results}
        for a in names:
            sol = by[(gradebook.SOLUTION_STUDENT, a)]
            exe = by[(gradebook.EXERCISE_STUDENT, a)]
            ok = (
                sol.ok
                and exe.ok
                and sol.max_score > 0
                and sol.score == sol.max_score
                and exe.score == 0
            )
            rows.append(
                {
                    "assignment": a,
                    "max_score": sol.max_score,
                    "solution": sol.score,
                    "exercise": exe.score,
                    "ok": ok,
                    "solution_failed": sol.failed,
                    "exercise_passed": gradebook.passed_cells(tcfg, a, gradebook.EXERCISE_STUDENT),
                    "message": "; ".join(m for m in (sol.message, exe.message) if m),
                    "flags": [f for f in sol.flags if "đã bị sửa" not in f],
                }
            )
            echo(check_row(rows[-1]))
    n_bad = sum(not r["ok"] for r in rows)
    echo(
        "Tất cả bài tập đạt yêu cầu."
        if n_bad == 0
        else f"{n_bad}/{len(rows)} bài tập KHÔNG đạt yêu cầu."
    )
    return rows


def check_row(r: dict) -> str:
    fmt = gradebook.fmt
    mark = "✅" if r["ok"] else "❌"
    text = (
        f"{mark} {r['assignment']:<26} lời giải {fmt(r['solution']):>5}/{fmt(r['max_score']):<5}"
        f" bài chưa làm {fmt(r['exercise']):>5}/{fmt(r['max_score'])}"
    )
    if r["solution_failed"]:
        text += f"\n     lời giải trượt: {', '.join(r['solution_failed'])}"
    if r["exercise_passed"]:
        text += f"\n     bài chưa làm vẫn được điểm ở: {', '.join(r['exercise_passed'])}"
    if r["message"]:
        text += f"\n     {r['message']}"
    if r.get("flags"):
        text += f"\n     lời giải bị gắn cờ: {'; '.join(r['flags'])}"
    return text
