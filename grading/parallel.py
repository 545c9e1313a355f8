"""Chấm song song và an toàn: nbgrader lo phần sổ điểm, hộp cát lo phần chạy mã học viên.

Với mỗi bài nộp, nbgrader autograde làm hai lượt: làm sạch notebook (khôi phục ô khoá/kiểm thử
theo sổ điểm…) rồi thực thi và lưu điểm. Ở đây:

1. Tiến trình chấm (tiến trình chính) làm sạch trước mọi notebook bằng đúng các preprocessor làm
   sạch của nbgrader (chỉ ĐỌC sổ điểm) và gửi chúng cho một pool tiến trình con.
2. Mỗi tiến trình con chỉ chạy notebook trong hộp cát (`grading.sandbox`) và trả về notebook đã
   chạy; nó không bao giờ mở sổ điểm.
3. Tiến trình chính, theo đúng thứ tự bài nộp, chạy `nbgrader autograde` thật; preprocessor
   `SandboxExecute` (thay cho `Execute`) lấy output đã tính sẵn nếu notebook đã làm sạch khớp
   từng ô, nếu không thì tự chạy notebook trong hộp cát. Mọi thao tác GHI sổ điểm vì vậy đều
   nằm trong tiến trình chính, và điểm giống hệt một lần chạy tuần tự (`--workers 1`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import fnmatch
import hashlib
import json
import multiprocessing
import os
import pathlib
import sys
import time

from nbgrader.preprocessors import Execute

from grading import sandbox

IGNORE = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")
MAX_EXTRA_FILE = 50 * 1024 * 1024


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------------
# trạng thái dùng chung trong tiến trình chính
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Context:
    cfg: object = None
    limits: sandbox.SandboxLimits | None = None
    extra: tuple = ()
    precomputed: dict = dataclasses.field(default_factory=dict)  # key → (chữ ký, nb, flags)
    flags: dict = dataclasses.field(default_factory=dict)  # key → flags của lần chạy


_CTX = _Context()


def _key(student: str, assignment: str, notebook: str) -> tuple[str, str, str]:
    return (student, assignment, notebook)


def signature(nb) -> str:
    """Chữ ký của phần được thực thi: loại ô và mã nguồn, theo thứ tự."""
    h = hashlib.sha256()
    for c in nb.cells:
        h.update(json.dumps([c.cell_type, c.source if c.cell_type == "code" else ""]).encode())
    return h.hexdigest()


def kernel_arguments(cfg) -> tuple[str, ...]:
    """Tham số kernel lấy từ `Execute.extra_arguments` của cấu hình nbgrader (cùng nguồn với
    nbgrader autograde)."""
    from grading.config import traitlets_config

    return tuple(traitlets_config(cfg).Execute.get("extra_arguments", []))


def workdir_files(cfg, student: str, assignment: str) -> list[tuple[str, str]]:
    """Tệp đi kèm trong thư mục làm việc của kernel, giống thư mục autograded của nbgrader:
    tệp học viên nộp (trừ notebook), rồi tệp gốc của bài tập đè lên. Bỏ symlink (không để bài nộp
    trỏ tới tệp của bộ chấm) và tệp quá lớn."""
    files: dict[str, str] = {}
    for root in (
        cfg.workspace / "submitted" / student / assignment,
        cfg.workspace / "source" / assignment,
    ):
        if not root.is_dir():
            continue
        for dirpath, dirnames, fnames in os.walk(root, followlinks=False):
            dirnames[:] = [
                d
                for d in dirnames
                if not any(fnmatch.fnmatch(d, p) for p in IGNORE)
                and not os.path.islink(os.path.join(dirpath, d))
            ]
            for n in fnames:
                p = os.path.join(dirpath, n)
                if n.endswith(".ipynb") or any(fnmatch.fnmatch(n, pat) for pat in IGNORE):
                    continue
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                if os.path.getsize(p) > MAX_EXTRA_FILE:
                    continue
                files[os.path.relpath(p, root)] = p
    return sorted((src, rel) for rel, src in files.items())


# ---------------------------------------------------------------------------
# preprocessor thay cho nbgrader Execute
# ---------------------------------------------------------------------------


class SandboxExecute(Execute):
    """Thực thi trong hộp cát; dùng kết quả tính sẵn (song song) khi notebook khớp từng ô."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        key = _key(info["student"], info["assignment"], info["notebook"])
        pre = _CTX.precomputed.pop(key, None)
        if pre is not None and pre[0] == signature(nb) and len(pre[1].cells) == len(nb.cells):
            done, flags = pre[1], pre[2]
            for cell, ran in zip(nb.cells, done.cells, strict=True):
                if cell.cell_type == "code":
                    cell.outputs = ran.outputs
                    cell.execution_count = ran.get("execution_count")
        else:
            limits = _CTX.limits or sandbox.SandboxLimits.from_env(
                cell_timeout=int(self.timeout or 60)
            )
            extra = _CTX.extra or tuple(self.extra_arguments)
            files = workdir_files(_CTX.cfg, *key[:2]) if _CTX.cfg is not None else []
            nb, flags = sandbox.execute_notebook(nb, files, limits, slot=0, extra=extra)
        _CTX.flags[key] = list(flags)
        return nb, resources


def _cache_engines() -> None:
    """nbgrader mở `Gradebook` (tạo engine SQLAlchemy mới) hàng chục lần cho mỗi bài nộp, nên mọi
    câu SQL bị biên dịch lại từ đầu. Dùng lại một engine cho mỗi URL (giữ bộ nhớ đệm câu lệnh đã
    biên dịch); với SQLite không giữ kết nối mở (NullPool), nên luôn thấy đúng tệp trên đĩa."""
    import nbgrader.api as nbapi

    if getattr(nbapi.create_engine, "_grading_cached", False):
        return
    from sqlalchemy.pool import NullPool

    original = nbapi.create_engine
    engines: dict = {}

    def create_engine(url, *args, **kwargs):
        key = (str(url), tuple(args), tuple(sorted(kwargs.items())))
        if key not in engines:
            extra = {"poolclass": NullPool} if str(url).startswith("sqlite") else {}
            engines[key] = original(url, *args, **kwargs, **extra)
        return engines[key]

    create_engine._grading_cached = True
    nbapi.create_engine = create_engine


def install(api, cfg, limits, extra) -> None:
    """Cho `api` (NbGraderAPI) dùng `SandboxExecute` thay `Execute` khi autograde."""
    from nbgrader.converters import Autograde

    _CTX.cfg, _CTX.limits, _CTX.extra = cfg, limits, tuple(extra)
    _cache_engines()
    current = api.config.Autograde.get("autograde_preprocessors")
    if not current:
        current = list(Autograde.class_traits()["autograde_preprocessors"].default())
    api.config.Autograde.autograde_preprocessors = [
        SandboxExecute if p is Execute or p == "nbgrader.preprocessors.Execute" else p
        for p in current
    ]


# ---------------------------------------------------------------------------
# làm sạch trước (tiến trình chính, chỉ đọc sổ điểm)
# ---------------------------------------------------------------------------


def presanitize(cfg, config, student: str, assignment: str, path: pathlib.Path):
    """Notebook như nbgrader sẽ thấy sau lượt làm sạch; None nếu không làm sạch được (nbgrader
    sẽ tự báo lỗi ở bước chấm thật)."""
    import nbformat
    from nbgrader.converters import Autograde

    try:
        nb = nbformat.read(str(path), as_version=4)
        resources = {
            "unique_key": path.stem,
            "nbgrader": {
                "student": student,
                "assignment": assignment,
                "notebook": path.stem,
                "db_url": cfg.db_url,
            },
        }
        for cls in Autograde.class_traits()["sanitize_preprocessors"].default():
            nb, resources = cls(config=config).preprocess(nb, resources)
        return nb
    except Exception:  # noqa: BLE001
        return None


# ---------------------------------------------------------------------------
# dấu hiệu gian lận / sửa notebook (so với bản phát hành)
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
# pool tiến trình chạy hộp cát
# ---------------------------------------------------------------------------


def _progress(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'█' * filled}{'░' * (width - filled)}] {done}/{total} bài nộp"


def grade_pairs(cfg, api, pairs, workers=None, limits=None, echo=print, progress=True):
    """Chấm các cặp (student, assignment) đã nằm trong `<workspace>/submitted/`.

    Trả về danh sách `SubmissionResult` theo thứ tự `pairs`.
    """
    import nbformat

    from grading import pipeline

    workers = max(1, int(workers or default_workers()))
    limits = limits or sandbox.SandboxLimits.from_env(cell_timeout=cfg.cell_timeout)
    if limits.enabled:
        sandbox.warn_once(echo)
    else:
        echo(
            "⚠️  Hộp cát đã bị TẮT (GRADING_SANDBOX=0): mã của học viên chạy với quyền của bộ chấm,"
            " có mạng và đọc được mọi tệp. Chỉ dùng để gỡ lỗi."
        )
    extra = kernel_arguments(cfg)
    install(api, cfg, limits, extra)
    _CTX.precomputed.clear()
    _CTX.flags.clear()

    def notebooks(student, assignment):
        release = cfg.workspace / "release" / assignment
        folder = cfg.workspace / "submitted" / student / assignment
        names = sorted(p.name for p in release.glob("*.ipynb"))
        return [(folder / n, release / n) for n in names]

    pool = None
    futures: dict = {}
    if workers > 1 and len(pairs) > 1:
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=sandbox.init_worker,
            initargs=(ctx.Value("i", 0),),
        )
        for student, assignment in pairs:
            for sub_path, _rel in notebooks(student, assignment):
                if not sub_path.is_file():
                    continue
                nb = presanitize(cfg, api.config, student, assignment, sub_path)
                if nb is None:
                    continue
                key = _key(student, assignment, sub_path.stem)
                fut = pool.submit(
                    sandbox.run_job,
                    nbformat.writes(nb),
                    workdir_files(cfg, student, assignment),
                    limits,
                    extra,
                )
                futures[key] = (signature(nb), fut)

    tty = progress and sys.stderr.isatty()
    results = []
    t0 = time.monotonic()
    try:
        for i, (student, assignment) in enumerate(pairs, 1):
            keys = [_key(student, assignment, p.stem) for p, _ in notebooks(student, assignment)]
            for key in keys:
                if key in futures:
                    sig, fut = futures.pop(key)
                    try:
                        nb_json, flags = fut.result()
                        _CTX.precomputed[key] = (sig, nbformat.reads(nb_json, as_version=4), flags)
                    except Exception:  # noqa: BLE001  (pool hỏng: chạy lại trong tiến trình này)
                        pass
            r = pipeline.grade_submission(cfg, assignment, student, api=api)
            flags = []
            for sub_path, rel_path in notebooks(student, assignment):
                if sub_path.is_file():
                    flags += tamper_flags(sub_path, rel_path)
                flags += _CTX.flags.pop(_key(student, assignment, sub_path.stem), [])
            if any("không chạy được kernel" in f for f in flags):
                sandbox.ensure_working()  # lỗi của máy chấm, không phải của bài nộp: dừng hẳn
            _attach_flags(r, flags)
            results.append(r)
            if tty:
                sys.stderr.write("\r\033[K")
            echo(r.line())
            if progress:
                bar = _progress(i, len(pairs))
                if tty:
                    sys.stderr.write(bar)
                    sys.stderr.flush()
                elif i == len(pairs) or i % max(1, len(pairs) // 10) == 0:
                    print(bar, file=sys.stderr)
    finally:
        if tty:
            sys.stderr.write("\n")
        if pool is not None:
            for _sig, fut in futures.values():
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        _CTX.precomputed.clear()
    elapsed = time.monotonic() - t0
    flagged = sum(bool(getattr(r, "flags", None)) for r in results)
    echo(
        f"Chấm {len(results)} bài nộp với {workers} luồng trong {elapsed:.1f} giây"
        + (f"; {flagged} bài bị gắn cờ (xem lý do ở từng dòng)." if flagged else ".")
    )
    return results


def _attach_flags(result, flags: list[str]) -> None:
    seen = []
    for f in flags:
        if f not in seen:
            seen.append(f)
    if hasattr(result, "flags"):
        result.flags = seen
    elif seen:
        result.message = "; ".join(x for x in [result.message, "gắn cờ: " + "; ".join(seen)] if x)
