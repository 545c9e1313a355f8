"""Tìm kiếm siêu tham số: ngẫu nhiên (thang log) và theo lưới; trả về bảng kết quả."""

from __future__ import annotations

import itertools
import math

from . import argcheck, backend
from .numfmt import comma


def sample(space, gen):
    """Lấy một bộ siêu tham số từ ``space``.

    ``space``: {"tên": ("log", a, b)} (đều theo thang log10 trong [a, b]), ("uniform", a, b),
    ("int", a, b) (số nguyên trong [a, b]) hoặc ("choice", [các giá trị]).
    """
    out = {}
    for name, spec in space.items():
        kind = argcheck.choice(
            f"kiểu phân phối của '{name}'", spec[0], ("log", "uniform", "int", "choice")
        )
        if kind == "log":
            lo, hi = spec[1], spec[2]
            if lo <= 0 or hi <= 0:
                raise ValueError(
                    f"Khoảng thang log của '{name}' phải dương, nhận được [{lo}, {hi}]."
                )
            out[name] = float(10 ** gen.uniform(math.log10(lo), math.log10(hi)))
        elif kind == "uniform":
            out[name] = float(gen.uniform(spec[1], spec[2]))
        elif kind == "int":
            out[name] = int(gen.integers(spec[1], spec[2] + 1))
        else:
            out[name] = spec[1][int(gen.integers(len(spec[1])))]
    return out


def _row(params, result):
    row = dict(params)
    row.update(result if isinstance(result, dict) else {"score": float(result)})
    return row


def _sorted(rows):
    def key(r):
        s = r.get("score", float("-inf"))
        return -s if isinstance(s, (int, float)) and math.isfinite(s) else math.inf

    return sorted(rows, key=key)


def random_search(objective, space, n_trials=20, seed=0, progress=False):
    """Thử ``n_trials`` bộ siêu tham số ngẫu nhiên; ``objective(**params)`` trả về số (điểm, càng lớn
    càng tốt) hoặc dict có khoá "score". Trả về danh sách dòng, tốt nhất trước."""
    gen = backend.rng(seed)
    trials = range(int(n_trials))
    if progress:
        from tqdm.auto import tqdm

        trials = tqdm(trials, desc="Tìm kiếm ngẫu nhiên", unit="lần thử")
    rows = []
    for _ in trials:
        params = sample(space, gen)
        rows.append(_row(params, objective(**params)))
    return _sorted(rows)


def grid_search(objective, grid, progress=False):
    """Thử mọi tổ hợp trong ``grid`` = {"tên": [các giá trị]}. Trả về danh sách dòng, tốt nhất trước."""
    names = list(grid)
    combos = list(itertools.product(*(grid[n] for n in names)))
    if progress:
        from tqdm.auto import tqdm

        combos = tqdm(combos, desc="Tìm kiếm lưới", unit="lần thử")
    rows = [_row(dict(zip(names, c)), objective(**dict(zip(names, c)))) for c in combos]
    return _sorted(rows)


def format_table(rows, columns=None, limit=None):
    """Bảng văn bản căn cột từ danh sách dòng (dict)."""
    if not rows:
        return "(không có kết quả)"
    columns = columns or list(rows[0])
    rows = rows[:limit] if limit else rows

    def fmt(v):
        if isinstance(v, float):
            return f"{comma(v):.4g}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)
