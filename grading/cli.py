"""Dòng lệnh `python -m grading …` (công cụ của giảng viên; `validate` dành cho học viên)."""

from __future__ import annotations

import argparse
import sys

from grading.config import load_config, write_nbgrader_config

DESCRIPTION = """Chấm điểm bài tập của khoá học bằng nbgrader.

Lệnh:
  build              sinh lại exercises/ từ solutions/
  check              lời giải phải đạt điểm tối đa, bài chưa làm phải được 0
  release            phát hành bài tập qua exchange của nbgrader
  collect            thu bài nộp từ exchange
  autograde [DIR]    chấm DIR/<học viên>/<bài tập>/*.ipynb (hoặc bài đã thu)
  feedback           sinh phản hồi HTML (không chứa kiểm thử ẩn)
  release-feedback   gửi phản hồi qua exchange
  export FILE.csv    xuất điểm ra CSV
  validate NB ...    học viên tự kiểm tra notebook trước khi nộp
  config             in đường dẫn nbgrader_config.py đã sinh
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grading",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--workspace", help="thư mục làm việc (mặc định .grading-workspace)")
    p.add_argument("--db-url", help="URL SQLAlchemy của gradebook (mặc định SQLite)")
    p.add_argument("--exchange", help="thư mục exchange của nbgrader")
    p.add_argument("--course-id", help="mã khoá học trong nbgrader")
    p.add_argument("--timeout", type=int, help="giới hạn thời gian mỗi ô (giây)")
    sub = p.add_subparsers(dest="command", required=True, metavar="LỆNH")

    def with_assignments(name, help_):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("assignments", nargs="*", help="mã bài tập (mặc định: tất cả)")
        return sp

    with_assignments("build", "sinh lại exercises/ từ solutions/")
    with_assignments("check", "kiểm tra lời giải/bài chưa làm")
    with_assignments("release", "phát hành bài tập qua exchange")
    with_assignments("collect", "thu bài nộp từ exchange")
    sp = sub.add_parser("autograde", help="chấm bài nộp")
    sp.add_argument("directory", nargs="?", help="DIR/<học viên>/<bài tập>/*.ipynb")
    sp.add_argument("-a", "--assignment", action="append", help="chỉ chấm bài tập này")
    sp.add_argument(
        "-j",
        "--workers",
        type=int,
        default=None,
        help="số bài chấm song song (mặc định: số CPU); mỗi bài chạy trong hộp cát",
    )
    sp.add_argument(
        "--cluster",
        help="gửi việc tới cluster Dask: local:N (cluster trên máy này) hoặc tcp://host:8786",
    )
    sp.add_argument(
        "--resume",
        action="store_true",
        help="chấm tiếp sau khi bị ngắt: bỏ qua bài đã ghi điểm (theo nhật ký trong workspace)",
    )
    with_assignments("feedback", "sinh phản hồi HTML")
    with_assignments("release-feedback", "gửi phản hồi qua exchange")
    sp = sub.add_parser("export", help="xuất điểm ra CSV")
    sp.add_argument("file", help="tệp CSV đầu ra")
    sp = sub.add_parser("validate", help="học viên tự kiểm tra notebook")
    sp.add_argument("notebooks", nargs="+")
    sub.add_parser("config", help="in đường dẫn nbgrader_config.py")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    cfg = load_config(
        workspace=args.workspace,
        db_url=args.db_url,
        exchange=args.exchange,
        course_id=args.course_id,
        cell_timeout=args.timeout,
    )
    cmd = args.command
    if cmd == "config":
        print(write_nbgrader_config(cfg))
        return 0
    if cmd == "validate":
        from grading.validate import validate

        ok = all([validate(nb, cfg) for nb in args.notebooks])
        return 0 if ok else 1
    from grading import autograde, course, gradebook
    from grading.nbgrader_hooks import make_api
    from grading.sandbox.selftest import SandboxBroken

    if cmd == "export":
        gradebook.export_csv(cfg, args.file)
        return 0
    if cmd == "check":
        try:
            rows = autograde.check(cfg, make_api, args.assignments)
        except SandboxBroken as exc:
            print(f"❌ {exc}", file=sys.stderr)
            return 2
        return 0 if rows and all(r["ok"] for r in rows) else 1
    api = make_api(cfg)
    simple = {
        "build": course.build,
        "release": course.release,
        "collect": course.collect,
        "feedback": course.feedback,
        "release-feedback": course.release_feedback,
    }
    if cmd in simple:
        simple[cmd](cfg, api, args.assignments)
        return 0
    if cmd == "autograde":
        try:
            results = autograde.autograde(
                cfg,
                api,
                args.directory,
                args.assignment,
                workers=args.workers,
                cluster=args.cluster,
                resume=args.resume,
            )
        except (SandboxBroken, ValueError) as exc:
            print(f"❌ {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"❌ Không kết nối được cluster hoặc đọc được bài nộp: {exc}", file=sys.stderr)
            return 2
        return 0 if all(r.ok for r in results) else 1
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
