"""Đo thời gian chạy từng bài giảng (mục tiêu: dưới 60 s trên máy 2 lõi), thay cho khẳng định thời
gian trong kiểm thử (máy dùng chung, ồn).

    python bench/bench_lectures.py [lectures/06_*.ipynb …]

In mỗi bài một dòng `lecture_NN_seconds: giá trị (mục tiêu < 60)` và dòng tổng kết.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def run(path: pathlib.Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["MPLBACKEND"] = "Agg"
    t = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return time.perf_counter() - t


def main(argv=None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    paths = [pathlib.Path(a) for a in args] or sorted(
        (REPO / "lectures").glob("[0-9][0-9]_*.ipynb")
    )
    ok = 0
    for p in paths:
        seconds = run(p)
        ok += seconds < 60
        print(f"lecture_{p.name[:2]}_seconds: {seconds:.1f} (mục tiêu < 60)", flush=True)
    print(f"lectures_under_60s: {ok}/{len(paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
