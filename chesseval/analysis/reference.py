"""Placing a run on the reference ladder: "solves like something between a 2-ply and a 3-ply search".

Reference runs are ordinary runs of the look-ahead players (``builtin/search -M depth=N``,
``engine/stockfish -M nodes=N``) on a bundled suite; the project commits them under
``runs/reference/`` with the command that made them. A run is placed only among reference runs on
the same suite (same sha256) with the same prompt template, by its strict solve rate.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from chesseval.core.records import list_runs
from chesseval.data import REFERENCE_DIR

__all__ = ["ReferencePoint", "reference_points", "place", "DEFAULT_REFERENCE_DIR"]

DEFAULT_REFERENCE_DIR = REFERENCE_DIR


@dataclasses.dataclass(frozen=True)
class ReferencePoint:
    label: str
    """e.g. ``builtin/search depth=2`` or ``engine/stockfish nodes=1000``."""
    solve_rate: float
    n: int
    path: Path


def _label(header: dict[str, Any]) -> str:
    options = header.get("model_options") or {}
    shown = " ".join(f"{k}={v}" for k, v in sorted(options.items()) if k in ("depth", "nodes", "movetime"))
    return f"{header.get('model')} {shown}".strip()


def reference_points(reference_dir: str | os.PathLike[str], *, suite_sha256: str, template: str | None) -> list[ReferencePoint]:
    """Finished reference runs on the same suite and template, weakest first."""
    points = []
    for run in list_runs(reference_dir):
        header = run.read_header()
        results = run.read_results() or {}
        overall = results.get("overall") or {}
        if header.get("status") != "success" or (header.get("suite") or {}).get("sha256") != suite_sha256:
            continue
        if template is not None and header.get("template") != template:
            continue
        if overall.get("solve_rate") is None:
            continue
        points.append(ReferencePoint(_label(header), float(overall["solve_rate"]), int(overall["n"]), run.path))
    return sorted(points, key=lambda p: (p.solve_rate, p.label))


def place(solve_rate: float, points: list[ReferencePoint]) -> str:
    """One sentence placing ``solve_rate`` among the reference points."""
    if not points:
        return "no reference runs on this suite"
    below = [p for p in points if p.solve_rate < solve_rate]
    same = [p for p in points if p.solve_rate == solve_rate]
    above = [p for p in points if p.solve_rate > solve_rate]
    pct = f"{100 * solve_rate:.1f}%"
    if same:
        return f"solves {pct}, like {' and '.join(p.label for p in same)}"
    if not below:
        return f"solves {pct}, below the weakest reference ({above[0].label}, {100 * above[0].solve_rate:.1f}%)"
    if not above:
        return f"solves {pct}, above the strongest reference ({below[-1].label}, {100 * below[-1].solve_rate:.1f}%)"
    lo, hi = below[-1], above[0]
    return f"solves {pct}, between {lo.label} ({100 * lo.solve_rate:.1f}%) and {hi.label} ({100 * hi.solve_rate:.1f}%)"
