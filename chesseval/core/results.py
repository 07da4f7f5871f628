"""A run's aggregates: solve rates by puzzle-rating band with Wilson 95% intervals, from its records.

Pure Python on purpose: ``results.json`` is written by the runner at the end of every run (and on
Ctrl-C), and that must not wait for pandas to import. Moved here from ``chesseval.analysis.report``
(which formats these numbers) because the runner needs them and core sits below analysis.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from chesseval.core.judge import Verdict
from chesseval.core.records import RunRecord, as_record

__all__ = ["wilson", "summarize", "summarize_group", "answered"]

_R = TypeVar("_R")
# The 95% quantile as results.json files have always been computed with (inv_cdf(0.975) differs
# in the last bit, which would change every stored interval in its 16th digit).
_Z95 = 1.959963984540054
_FAILURE_KINDS = (Verdict.ILLEGAL, Verdict.NO_MOVE, Verdict.EMPTY, Verdict.REFUSED)
_NOT_COUNTED = frozenset({Verdict.ERROR.value, Verdict.UNJUDGED.value})


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (``(0, 1)`` when ``n == 0``)."""
    if n == 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"successes must be between 0 and n={n!r}, got {k!r}")
    z = _Z95 if level == 0.95 else statistics.NormalDist().inv_cdf(0.5 + level / 2.0)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 and k = n the ends are 0 and 1 up to rounding (3e-18, 0.9999999999999999); they are
    # left so, as every stored results.json has them.
    return max(0.0, centre - half), min(1.0, centre + half)


def answered(records: Iterable[_R]) -> list[_R]:
    """The records that count for rates: every verdict except ``error`` and ``unjudged`` (the same
    objects, in order).

    An ``error`` record means no answer was obtained (the call failed after every retry): it says
    nothing about the model, so it is left out of every rate's denominator and shown as a count,
    as the rating fit does; ``--retry-errors`` asks those puzzles again. An ``unjudged`` record (an
    imported game move with no solution to judge it by) is neither a solve nor a miss.
    """
    return [r for r in records if str(r.get("verdict") if isinstance(r, Mapping) else getattr(r, "verdict", None)) not in _NOT_COUNTED]


def summarize_group(records: Iterable[RunRecord | Mapping[str, Any]]) -> dict[str, Any]:
    """Solve rate of a group of records with its Wilson 95% interval, first-move accuracy and verdict counts.

    ``n`` counts the answered records (``error`` and ``unjudged`` excluded, see :func:`answered`);
    the error count is ``verdicts["error"]`` and ``error_rate`` is its share of all records.
    """
    recs = [as_record(r) for r in records]
    kept = answered(recs)
    n = len(kept)
    verdicts = Counter(r.verdict for r in recs)
    solved = verdicts.get(Verdict.CORRECT.value, 0)
    lo, hi = wilson(solved, n) if n else (None, None)
    first = sum(1 for r in kept if r.first_move_correct)
    out: dict[str, Any] = {
        "n": n,
        "solved": solved,
        "solve_rate": solved / n if n else None,
        "ci_low": lo,
        "ci_high": hi,
        "first_move_correct": first,
        "first_move_accuracy": first / n if n else None,
        "verdicts": {v.value: verdicts.get(v.value, 0) for v in Verdict},
    }
    for kind in _FAILURE_KINDS:
        out[f"{kind.value}_rate"] = verdicts.get(kind.value, 0) / n if n else None
    errors = verdicts.get(Verdict.ERROR.value, 0)
    out["error_rate"] = errors / len(recs) if recs else None
    return out


def _bucket_key(rating: Any, width: int) -> tuple[int, int] | None:
    if rating is None:
        return None
    lo = (int(rating) // width) * width
    return lo, lo + width - 1


def summarize(records: Iterable[RunRecord | Mapping[str, Any]], *, band_width: int = 200) -> dict[str, Any]:
    """Aggregates of a run (``results.json``): ``overall`` and ``buckets`` (lo, hi, n, solved, rate, interval, …).

    Rates are over answered records (``error`` left out, see :func:`answered`). Unrated puzzles
    (no rating) are reported in a bucket with ``lo`` and ``hi`` None and ``label`` ``"unrated"``.
    """
    recs = [as_record(r) for r in records]
    overall = summarize_group(recs)
    groups: dict[tuple[int, int] | None, list[RunRecord]] = {}
    for r in recs:
        groups.setdefault(_bucket_key(r.rating, band_width), []).append(r)
    buckets = []
    for key in sorted(groups, key=lambda k: (k is None, k or (0, 0))):
        g = summarize_group(groups[key])
        lo, hi = key if key is not None else (None, None)
        buckets.append({"label": f"{lo}-{hi}" if key is not None else "unrated", "lo": lo, "hi": hi, **g})
    # Tokens, cost and latency: totals and per puzzle / per solved puzzle. Unknown stays unknown.
    def total(field: str) -> int | None:
        vals = [r.usage.get(field) for r in recs]
        known = [v for v in vals if v is not None]
        return sum(known) if known else None

    costs = [r.cost_usd for r in recs]
    cost_known = bool(recs) and all(c is not None for c in costs)
    cost_total = sum(c for c in costs if c is not None) if cost_known else None
    solved = overall["solved"]
    usage = {f: total(f) for f in ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens")}
    tokens = None if usage["input_tokens"] is None and usage["output_tokens"] is None else (usage["input_tokens"] or 0) + (usage["output_tokens"] or 0)
    latencies = sorted(float(r.latency_s or 0.0) for r in recs)
    accounting = {
        **usage,
        "tokens_per_puzzle": tokens / len(recs) if tokens is not None and recs else None,
        "tokens_per_solved": tokens / solved if tokens is not None and solved else None,
        "cost_usd": cost_total,
        "cost_per_puzzle": cost_total / len(recs) if cost_total is not None and recs else None,
        "cost_per_solved": cost_total / solved if cost_total is not None and solved else None,
        "latency_median_s": latencies[len(latencies) // 2] if latencies else None,
        "retries": sum(int(r.retries or 0) for r in recs),
        "retry_wait_s": round(sum(float(r.retry_wait_s or 0.0) for r in recs), 3),
        "cached_calls": sum(1 for r in recs for t in r.turns if t.cached),
    }
    partial = Counter(int(r.solver_moves_found or 0) for r in recs)
    return {
        "overall": overall,
        "rating": _rating(recs),
        "curve": _curve(recs),
        "buckets": buckets,
        "band_width": band_width,
        "accounting": accounting,
        "solver_moves_found": {str(k): partial[k] for k in sorted(partial)},
    }


def _rating(recs: list[RunRecord]) -> dict[str, Any] | None:
    """The run's maximum-likelihood puzzle rating with its 95% interval (None without rated puzzles)."""
    if not any(r.rating is not None for r in recs):
        return None
    from chesseval.core.rating import rating_from_records  # numpy: only when there is something to fit

    est = rating_from_records(recs)
    return {**est.to_dict(), "text": est.format()}


def _curve(recs: list[RunRecord]) -> dict[str, Any] | None:
    """The fitted solve curve (free slope and lapse): the headline 50%-solve point, its interval,
    the curve's scale and lapse, and the goodness-of-fit test (None without rated puzzles)."""
    if not any(r.rating is not None for r in recs):
        return None
    from numpy.linalg import LinAlgError

    from chesseval.core.curve import curve_from_records

    try:
        fit = curve_from_records(recs)
    except (ValueError, LinAlgError):  # a degenerate fit must not cost the run its results.json
        return None
    from chesseval.core.theme_fit import theme_fits

    themes = [t.to_dict() for t in theme_fits(recs, fit)]  # where the curve misses, theme by theme
    return {**fit.to_dict(), "line": fit.describe(), "gof_line": fit.gof.format() if fit.gof else None, "themes": themes}
