"""Reports: solve rates by puzzle-rating bucket with Wilson 95% intervals, from run records.

Pure Python on purpose: ``results.json`` is written at the end of every run (and on Ctrl-C), and
that must not wait for pandas to import. ``chesseval.records.read_run`` gives the DataFrame for
scripting.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from chesseval.judge import Verdict

__all__ = ["wilson", "summarize", "render_results", "render_failures", "REPORT_FORMATS"]

REPORT_FORMATS = ("table", "markdown", "csv", "json")
_FAILURE_KINDS = (Verdict.ILLEGAL, Verdict.NO_MOVE, Verdict.EMPTY, Verdict.REFUSED, Verdict.ERROR)


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float | None, float | None]:
    """Wilson score interval for k successes in n trials (None, None when n == 0)."""
    if n == 0:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _group(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    verdicts = Counter(r.get("verdict") for r in records)
    # Unjudged answers (imported game moves with no solution) are neither solves nor misses.
    n = len(records) - verdicts.get(Verdict.UNJUDGED.value, 0)
    solved = verdicts.get(Verdict.CORRECT.value, 0)
    lo, hi = wilson(solved, n)
    first = sum(1 for r in records if r.get("first_move_correct"))
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
    return out


def _bucket_key(rating: Any, width: int) -> tuple[int, int] | None:
    if rating is None:
        return None
    lo = (int(rating) // width) * width
    return lo, lo + width - 1


def summarize(records: Iterable[dict[str, Any]], *, band_width: int = 200) -> dict[str, Any]:
    """Aggregates of a run: ``overall`` and ``buckets`` (lo, hi, n, solved, rate, interval, …).

    Unrated puzzles (no rating) are reported in a bucket with ``lo`` and ``hi`` None and
    ``label`` ``"unrated"``.
    """
    recs = list(records)
    overall = _group(recs)
    groups: dict[tuple[int, int] | None, list[dict[str, Any]]] = {}
    for r in recs:
        groups.setdefault(_bucket_key(r.get("rating"), band_width), []).append(r)
    buckets = []
    for key in sorted(groups, key=lambda k: (k is None, k or (0, 0))):
        g = _group(groups[key])
        lo, hi = key if key is not None else (None, None)
        buckets.append({"label": f"{lo}-{hi}" if key is not None else "unrated", "lo": lo, "hi": hi, **g})
    # Tokens, cost and latency: totals and per puzzle / per solved puzzle. Unknown stays unknown.
    def total(field: str) -> int | None:
        vals = [((r.get("usage") or {}).get(field)) for r in recs]
        known = [v for v in vals if v is not None]
        return sum(known) if known else None

    costs = [r.get("cost_usd") for r in recs]
    cost_known = bool(recs) and all(c is not None for c in costs)
    cost_total = sum(c for c in costs if c is not None) if cost_known else None
    solved = overall["solved"]
    usage = {f: total(f) for f in ("input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens")}
    tokens = None if usage["input_tokens"] is None and usage["output_tokens"] is None else (usage["input_tokens"] or 0) + (usage["output_tokens"] or 0)
    latencies = sorted(float(r.get("latency_s") or 0.0) for r in recs)
    accounting = {
        **usage,
        "tokens_per_puzzle": tokens / len(recs) if tokens is not None and recs else None,
        "tokens_per_solved": tokens / solved if tokens is not None and solved else None,
        "cost_usd": cost_total,
        "cost_per_puzzle": cost_total / len(recs) if cost_total is not None and recs else None,
        "cost_per_solved": cost_total / solved if cost_total is not None and solved else None,
        "latency_median_s": latencies[len(latencies) // 2] if latencies else None,
        "retries": sum(int(r.get("retries") or 0) for r in recs),
        "retry_wait_s": round(sum(float(r.get("retry_wait_s") or 0.0) for r in recs), 3),
        "cached_calls": sum(1 for r in recs for t in r.get("turns", []) if t.get("cached")),
    }
    partial = Counter(int(r.get("solver_moves_found") or 0) for r in recs)
    return {
        "overall": overall,
        "rating": _rating(recs),
        "buckets": buckets,
        "band_width": band_width,
        "accounting": accounting,
        "solver_moves_found": {str(k): partial[k] for k in sorted(partial)},
    }


def _rating(recs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run's maximum-likelihood puzzle rating with its 95% interval (None without rated puzzles)."""
    if not any(r.get("rating") is not None for r in recs):
        return None
    from chesseval.rating import rating_from_records  # numpy: only when there is something to fit

    est = rating_from_records(recs)
    return {**est.to_dict(), "text": est.format()}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["rating", "n", "solved", "solve rate", "95% CI", "1st move", "illegal", "no move", "empty", "refused", "error"]
    rows = []
    for b in [*results["buckets"], {"label": "all", **results["overall"]}]:
        ci = "-" if b["ci_low"] is None else f"{100 * b['ci_low']:.1f}–{100 * b['ci_high']:.1f}"
        rows.append(
            [
                b["label"],
                str(b["n"]),
                str(b["solved"]),
                _pct(b["solve_rate"]),
                ci,
                _pct(b["first_move_accuracy"]),
                _pct(b["illegal_rate"]),
                _pct(b["no_move_rate"]),
                _pct(b["empty_rate"]),
                _pct(b["refused_rate"]),
                _pct(b["error_rate"]),
            ]
        )
    return head, rows


def render_results(results: dict[str, Any], fmt: str = "table", *, title: str | None = None) -> str:
    """Render ``results.json`` content as a text table, Markdown, CSV or JSON."""
    if fmt == "json":
        return json.dumps(results, indent=2, ensure_ascii=False)
    head, rows = _rows(results)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)
        return buf.getvalue()
    if fmt == "markdown":
        lines = [f"### {title}", ""] if title else []
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    if fmt != "table":
        raise ValueError(f"unknown report format {fmt!r}; choose one of {REPORT_FORMATS}")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    out = [title] if title else []
    out.append(line(head))
    out.append("  ".join("-" * w for w in widths))
    out += [line(r) for r in rows[:-1]]
    out.append("  ".join("-" * w for w in widths))
    out.append(line(rows[-1]))
    acc = results.get("accounting") or {}
    extras = []
    if acc.get("input_tokens") is not None or acc.get("output_tokens") is not None:
        extras.append(f"tokens in/out/reasoning: {acc.get('input_tokens')}/{acc.get('output_tokens')}/{acc.get('reasoning_tokens')}")
        if acc.get("tokens_per_solved") is not None:
            extras.append(f"tokens per solved puzzle: {acc['tokens_per_solved']:.0f}")
    if acc.get("cost_usd") is not None:
        per = acc.get("cost_per_solved")
        extras.append(f"cost: ${acc['cost_usd']:.4f}" + (f" (${per:.4f} per solved puzzle)" if per is not None else ""))
    elif acc.get("input_tokens") is not None:
        extras.append("cost: unknown (no price for this model)")
    if acc.get("retries"):
        extras.append(f"retries: {acc['retries']} (waited {acc.get('retry_wait_s') or 0:.1f} s)")
    return "\n".join(out + extras) + "\n"


def render_failures(records: Iterable[dict[str, Any]], limit: int | None = None) -> str:
    """One line per unsolved puzzle: id, rating, verdict, the solver move that broke the line, and
    what was expected versus what was played (hardest first, then by id)."""
    failed = [r for r in records if r.get("verdict") != "correct"]
    failed.sort(key=lambda r: (-(r.get("rating") or 0), str(r.get("puzzle_id"))))
    shown = failed if limit is None else failed[:limit]
    lines = [f"{len(failed)} unsolved puzzle(s)" + (f"; the {len(shown)} hardest:" if len(shown) < len(failed) else ":")]
    for rec in shown:
        turns = rec.get("turns") or []
        last = turns[-1] if turns else {}
        where = f"move {int(last.get('index', len(turns) - 1)) + 1}" if turns else "-"
        played = last.get("played_san") or last.get("parsed_text") or last.get("error") or ""
        if played and last.get("parse_rule") and not last.get("error"):
            played += f" (read by {last['parse_rule']})"
        expected = (_expected_san(rec) if turns else None) or last.get("expected_uci", "?")
        lines.append(
            f"  {rec.get('puzzle_id')}  rating {rec.get('rating') if rec.get('rating') is not None else '-':>4}  "
            f"{rec.get('verdict'):<8} {where}: expected {expected}, played {played or '(nothing)'}"
            f"  themes {' '.join(rec.get('themes') or [])}"
        )
    return "\n".join(lines) + "\n"


def _expected_san(rec: dict[str, Any]) -> str | None:
    """The solution move at the failing turn in SAN, replayed from the record's own puzzle."""
    from chesseval.html_report import failure_position  # the gallery's replay; heavy imports only when asked
    from chesseval.puzzles import Puzzle

    try:
        puzzle = Puzzle(id=str(rec["puzzle_id"]), fen=rec["fen"], moves=tuple(rec["moves"]), has_setup_move=rec.get("has_setup_move", True))
        pos = failure_position(puzzle, rec)
        return pos.board.san(pos.expected)
    except (KeyError, IndexError, ValueError, TypeError, AssertionError):
        return None
