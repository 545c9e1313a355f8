"""Quy trình của giảng viên qua nbgrader: sinh bài tập, phát hành, thu bài, phản hồi."""

from __future__ import annotations

import os
import pathlib
import shutil

from grading.config import GradingConfig
from grading.gradebook import known_assignments
from grading.nbgrader_hooks import call


def sync_source(cfg: GradingConfig, assignment: str) -> pathlib.Path:
    """Chép `solutions/<id>/` sang `<workspace>/source/<id>/` (nguồn của nbgrader)."""
    src = cfg.solutions / assignment
    dst = cfg.workspace / "source" / assignment
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(
        src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")
    )
    return dst


def generate(cfg: GradingConfig, api, assignment: str) -> pathlib.Path:
    """Sinh bản học viên (nbgrader generate_assignment) trong workspace; trả về thư mục release."""
    sync_source(cfg, assignment)
    res = call(api.generate_assignment, assignment, force=True, create=True)
    if not res.get("success"):
        raise RuntimeError(
            f"Không sinh được bài tập {assignment}:\n{res.get('error', '')}\n{res.get('log', '')}"
        )
    return cfg.workspace / "release" / assignment


def ensure_generated(cfg: GradingConfig, api, assignment: str) -> None:
    """Đảm bảo sổ điểm biết bài tập (sinh lại trong workspace nếu chưa có)."""
    release = cfg.workspace / "release" / assignment
    if assignment not in known_assignments(cfg) or not release.is_dir():
        generate(cfg, api, assignment)


def build(cfg: GradingConfig, api, assignments=None, update_exercises=True, echo=print):
    """Sinh lại `exercises/` từ `solutions/`. Trả về danh sách bài đã sinh."""
    names = list(assignments or cfg.assignments())
    for a in names:
        release = generate(cfg, api, a)
        if update_exercises:
            dst = cfg.exercises / a
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(release, dst)
        echo(
            f"✅ {a}: đã sinh bản bài tập" + (f" → {cfg.exercises / a}" if update_exercises else "")
        )
    if update_exercises and cfg.exercises.is_dir():
        known = set(cfg.assignments())
        for d in cfg.exercises.iterdir():
            if d.is_dir() and d.name not in known:
                shutil.rmtree(d)
                echo(f"🗑  {d.name}: đã xoá (không còn trong solutions/)")
    return names


def use_course_exchange(api) -> None:
    """Các bước qua exchange dùng lớp của `grading.exchange` (quyền chặt hơn nbgrader gốc)."""
    from grading import exchange

    api.exchange = exchange.factory(api)


def _untraversable_parents(path: pathlib.Path) -> list[pathlib.Path]:
    """Các thư mục cha mà tài khoản khác không đi qua được (thiếu quyền o+x)."""
    return [p for p in path.parents if p.is_dir() and not os.stat(p).st_mode & 0o001]


def release(cfg: GradingConfig, api, assignments=None, echo=print) -> None:
    """Phát hành bài tập qua exchange của nbgrader (sinh lại từ solutions/ trước).

    Gốc exchange có bit setgid (nhóm giảng viên, xem docs/jupyterhub.md) thì giữ nguyên quyền của
    nó; không thì gốc được tạo nếu cần và đặt 1777 (ai cũng ghi được, không ai xoá được của người khác).
    """
    cfg.exchange.mkdir(parents=True, exist_ok=True)
    use_course_exchange(api)
    blocked = _untraversable_parents(cfg.exchange)
    if blocked:
        echo(
            f"⚠️  Học viên dùng tài khoản khác sẽ không tới được exchange {cfg.exchange}: "
            f"{blocked[0]} thiếu quyền o+x. Đặt exchange ở nơi mọi người đi qua được, ví dụ "
            "--exchange /srv/nbgrader/exchange (xem docs/jupyterhub.md)."
        )
    for a in list(assignments or cfg.assignments()):
        generate(cfg, api, a)
        res = call(api.release_assignment, a)
        if not res.get("success"):
            raise RuntimeError(f"Không phát hành được {a}:\n{res.get('error', '')}")
        echo(f"✅ {a}: đã phát hành vào {cfg.exchange / cfg.course_id / 'outbound' / a}")


def released(cfg: GradingConfig) -> list[str]:
    """Các bài tập đã phát hành (có trong outbound của exchange)."""
    outbound = cfg.exchange / cfg.course_id / "outbound"
    return sorted(d.name for d in outbound.iterdir() if d.is_dir()) if outbound.is_dir() else []


def collect(cfg: GradingConfig, api, assignments=None, echo=print) -> None:
    """Thu bài nộp từ exchange vào `<workspace>/submitted/` (mặc định: các bài đã phát hành)."""
    names = list(assignments or released(cfg))
    if not names:
        echo("Chưa có bài tập nào được phát hành: không có gì để thu.")
    use_course_exchange(api)
    for a in names:
        res = call(api.collect, a)
        if not res.get("success"):
            raise RuntimeError(f"Không thu được bài {a}:\n{res.get('error', '')}")
        for line in res.get("log", "").splitlines():
            if "Bỏ bài nộp" in line:
                echo("⚠️  " + line.split("] ", 1)[-1])
        n = len(list((cfg.workspace / "submitted").glob(f"*/{a}")))
        echo(f"✅ {a}: {n} bài nộp đã thu")


def feedback(cfg: GradingConfig, api, assignments=None, echo=print) -> list[pathlib.Path]:
    """Sinh phản hồi HTML (không chứa mã kiểm thử ẩn) cho mọi bài đã chấm."""
    root = cfg.workspace / "autograded"
    done = []
    for a in list(assignments or cfg.assignments()):
        if not any(root.glob(f"*/{a}")):
            continue
        res = call(api.generate_feedback, a)
        if not res.get("success"):
            raise RuntimeError(f"Không sinh được phản hồi cho {a}:\n{res.get('error', '')}")
        files = sorted((cfg.workspace / "feedback").glob(f"*/{a}/*.html"))
        done.extend(files)
        echo(f"✅ {a}: {len(files)} tệp phản hồi trong {cfg.workspace / 'feedback'}")
    return done


def release_feedback(cfg: GradingConfig, api, assignments=None, echo=print) -> None:
    """Gửi phản hồi HTML qua exchange (mỗi học viên chỉ lấy được phản hồi của mình)."""
    sent = 0
    use_course_exchange(api)
    for a in list(assignments or cfg.assignments()):
        if not any((cfg.workspace / "feedback").glob(f"*/{a}")):
            if assignments:
                echo(
                    f"ℹ️  {a}: chưa có phản hồi nào để gửi (chạy `python -m grading feedback` trước)."
                )
            continue
        sent += 1
        res = call(api.release_feedback, a)
        if not res.get("success"):
            raise RuntimeError(f"Không gửi được phản hồi {a}:\n{res.get('error', '')}")
        echo(f"✅ {a}: đã gửi phản hồi")
    if not sent and not assignments:
        echo("ℹ️  Chưa có phản hồi nào để gửi (chạy `python -m grading feedback` trước).")
