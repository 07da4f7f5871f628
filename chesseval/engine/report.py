"""Engine metrics of a run, per rating bucket, beside (never mixed into) the strict solve rate.

Reads ``records.jsonl`` (strict verdicts, ratings, turns) and ``engine.jsonl`` (written by
:func:`chesseval.engine.check.rescore_run`) and returns one :class:`EngineBucket` per rating
bucket plus an ``all`` row. Needs no engine and makes no call.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chesseval.core.records import RunRecord, TurnRecord
from chesseval.engine.lines import MoveCheck, read_engine_lines, records_by_puzzle

__all__ = ["EngineBucket", "engine_summary", "format_engine_summary", "bucket_labeller"]


@dataclasses.dataclass(frozen=True)
class EngineBucket:
    """Engine metrics of the puzzles in one rating bucket."""

    bucket: str
    puzzles: int
    strict_solved: int
    lenient_solved: int
    """Solved strictly, or the first deviation from the line was an engine-accepted move."""
    moves_checked: int
    """Played moves with an engine result at this limit."""
    moves_unchecked: int
    """Played moves without one (not re-scored yet, or the engine failed on them)."""
    wc_drop_sum: float
    blunders: int

    @property
    def strict_rate(self) -> float | None:
        return self.strict_solved / self.puzzles if self.puzzles else None

    @property
    def lenient_rate(self) -> float | None:
        return self.lenient_solved / self.puzzles if self.puzzles else None

    @property
    def mean_wc_drop(self) -> float | None:
        return self.wc_drop_sum / self.moves_checked if self.moves_checked else None

    @property
    def blunder_rate(self) -> float | None:
        return self.blunders / self.moves_checked if self.moves_checked else None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(
            strict_rate=self.strict_rate,
            lenient_rate=self.lenient_rate,
            mean_wc_drop=self.mean_wc_drop,
            blunder_rate=self.blunder_rate,
        )
        return out


def bucket_labeller(buckets: int | Sequence[int] | Callable[[int | None], str]) -> Callable[[int | None], str]:
    """A rating -> label function from a width (``200``), ascending edges (``[0, 1000, 1500, 2000]``:
    ``"1000-1499"``, the last bucket open: ``"2000+"``) or a function (e.g. the report's own)."""
    if callable(buckets):
        return buckets
    if isinstance(buckets, int):
        width = buckets
        if width < 1:
            raise ValueError(f"bucket width must be >= 1, got {width!r}")

        def by_width(rating: int | None) -> str:
            if rating is None:
                return "unrated"
            lo = (rating // width) * width
            return f"{lo}-{lo + width - 1}"

        return by_width
    edges = sorted(buckets)
    if not edges:
        raise ValueError(f"bucket edges must not be empty, got {buckets!r}")

    def by_edges(rating: int | None) -> str:
        if rating is None:
            return "unrated"
        if rating < edges[0]:
            return f"<{edges[0]}"
        for lo, hi in zip(edges, edges[1:], strict=False):
            if lo <= rating < hi:
                return f"{lo}-{hi - 1}"
        return f"{edges[-1]}+"

    return by_edges


# Turn outcomes of a solver move that kept to the line ("continue": correct, more moves to come).
_ON_LINE = {"correct", "continue"}


def _first_deviation(rec: RunRecord) -> TurnRecord | None:
    for turn in rec.turns:
        if turn.outcome not in _ON_LINE:
            return turn
    return None


def engine_summary(
    run_dir: str | os.PathLike[str],
    buckets: int | Sequence[int] | Callable[[int | None], str] = 200,
    *,
    limit: str | None = None,
) -> list[EngineBucket]:
    """Per-bucket engine metrics of a run, sorted by bucket, then an ``all`` row.

    ``limit`` picks the engine limit (label such as ``standard`` or key) when the run was re-scored
    at several; by default the one with most lines is used. Returns an empty list when the run has
    no engine results.
    """
    run = Path(run_dir)
    records = records_by_puzzle(run)
    lines = read_engine_lines(run, limit)
    if not lines:
        return []
    if limit is None:
        counts: dict[str, int] = {}
        for ln in lines:
            counts[ln.get("limit_key", "")] = counts.get(ln.get("limit_key", ""), 0) + 1
        chosen = max(counts, key=lambda k: counts[k])
        lines = [ln for ln in lines if ln.get("limit_key") == chosen]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for ln in lines:
        if not ln.get("error"):
            # Judged again from the stored scores: lines written before the one cp scale
            # (chesseval.engine.stockfish.LICHESS_CP_SCALE) read raw cp.
            check = MoveCheck.from_dict(ln)
            results[(str(ln["puzzle_id"]), int(ln["turn"]))] = {
                "engine_accepted": check.accepted, "wc_drop": check.wc_drop, "blunder": check.blunder}
    label = bucket_labeller(buckets)
    acc: dict[str, dict[str, Any]] = {}

    def add(key: str, rec: RunRecord) -> None:
        row = acc.setdefault(key, {"puzzles": 0, "strict": 0, "lenient": 0, "checked": 0, "unchecked": 0, "drop": 0.0, "blunders": 0, "lo": rec.rating})
        pid = rec.puzzle_id
        strict = rec.is_solved
        lenient = strict
        if not strict:
            dev = _first_deviation(rec)
            if dev is not None and dev.played_uci:
                hit = results.get((pid, dev.index))
                lenient = bool(hit and hit.get("engine_accepted"))
        row["puzzles"] += 1
        row["strict"] += strict
        row["lenient"] += lenient
        for turn in rec.turns:
            if not turn.played_uci:
                continue
            hit = results.get((pid, turn.index))
            if hit is None:
                row["unchecked"] += 1
                continue
            row["checked"] += 1
            row["drop"] += float(hit["wc_drop"])
            row["blunders"] += bool(hit["blunder"])
        rating = rec.rating
        if rating is not None and (row["lo"] is None or rating < row["lo"]):
            row["lo"] = rating

    for rec in records.values():
        add(label(rec.rating), rec)
        add("all", rec)

    def order(key: str) -> tuple[int, float]:
        if key == "all":
            return (2, 0)
        lo = acc[key]["lo"]
        return (1, 0) if lo is None else (0, lo)

    return [
        EngineBucket(
            bucket=key,
            puzzles=row["puzzles"],
            strict_solved=row["strict"],
            lenient_solved=row["lenient"],
            moves_checked=row["checked"],
            moves_unchecked=row["unchecked"],
            wc_drop_sum=row["drop"],
            blunders=row["blunders"],
        )
        for key, row in sorted(acc.items(), key=lambda kv: order(kv[0]))
    ]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:5.1f}%"


def format_engine_summary(rows: Sequence[EngineBucket]) -> str:
    """A plain-text table of :func:`engine_summary` rows."""
    head = f"{'bucket':>11} {'puzzles':>7} {'strict':>7} {'lenient':>7} {'moves':>6} {'wc drop':>8} {'blunder':>7}"
    out = [head]
    for r in rows:
        drop = "-" if r.mean_wc_drop is None else f"{r.mean_wc_drop:8.3f}"
        out.append(f"{r.bucket:>11} {r.puzzles:>7} {_pct(r.strict_rate):>7} {_pct(r.lenient_rate):>7} {r.moves_checked:>6} {drop:>8} {_pct(r.blunder_rate):>7}")
    return "\n".join(out)
