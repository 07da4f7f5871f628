"""Reports: solve rates by puzzle-rating bucket with Wilson 95% intervals, from run records.

The numbers are computed by :func:`chesseval.core.results.summarize`, which the runner calls at the
end of every run; this module formats them. ``chesseval.core.records.read_run``
gives the DataFrame for scripting.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from chesseval.core.records import load_run
from chesseval.core.results import summarize

__all__ = ["render_results", "render_rating_lines", "render_failures", "report_run", "engine_text", "linking_text", "REPORT_FORMATS"]

REPORT_FORMATS = ("table", "markdown", "csv", "json")


def render_rating_lines(results: dict[str, Any]) -> str:
    """The ``puzzle rating:`` lines under the bucket table: headline, curve shape and fit, Elo figure."""
    lines = []
    curve = results.get("curve")
    if curve and curve.get("theta") is not None:
        where = f"EXTRAPOLATED beyond the suite's {curve['span'][0]:.0f}-{curve['span'][1]:.0f}; " if curve.get("extrapolated") else ""
        lines.append(f"puzzle rating: {curve['text']} ({where}50%-solve point of the fitted curve on the Lichess puzzle-rating "
                     f"scale, 95% profile interval incl. slope and lapse; scale {curve['scale']:.0f} (Elo: 400), "
                     f"lapse {100 * curve['lapse']:.1f}%)")  # fmt: skip
        if curve.get("gof_line"):
            verdict = "no significant misfit" if curve["gof"]["p_value"] > 0.05 else "MISFIT: the curve does not describe this run"
            lines.append(f"curve fit: {curve['gof_line']}: {verdict}")
        if off := _themes_off_curve(curve):
            lines.append(off)
        if results.get("rating"):
            lines.append(f"Elo-slope rating: {results['rating']['text']} (fixed 400-point logistic, secondary figure)")
    elif results.get("rating"):
        lines.append(f"puzzle rating: {results['rating']['text']} (maximum likelihood on the Lichess puzzle-rating scale, 95% profile interval)")
    return "".join(line + "\n" for line in lines)


def linking_text(header: dict[str, Any], results: dict[str, Any], records: Sequence[Any]) -> str:
    """The line on comparing the headline with a rating on another suite
    (:func:`chesseval.core.linking.against_other_suites_text`), ``""`` when there is none."""
    from chesseval.core.linking import against_other_suites_text

    curve = results.get("curve") or {}
    line = against_other_suites_text(header, records, curve.get("rating"), curve.get("low"), curve.get("high"),
                                     level=curve.get("level") or 0.95)
    return line + "\n" if line else ""


def _themes_off_curve(curve: dict[str, Any]) -> str:
    from chesseval.core.theme_fit import ThemeFit, flagged, format_flagged

    return format_flagged(flagged(ThemeFit.from_dict(t) for t in curve.get("themes") or ()))


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
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
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


def report_run(
    run_path: str | os.PathLike[str],
    fmt: str = "table",
    *,
    band_width: int | None = None,
    reference: str | os.PathLike[str] | None = None,
    failures: int = 0,
) -> str:
    """What ``chesseval report RUN`` prints: the solve rates by rating band (``fmt``: table,
    markdown, csv or json), and for table and markdown also the rating, the engine check when the
    run has one, the run's place on the reference ladder and the ``failures`` hardest unsolved
    puzzles (-1: all). ``band_width`` defaults to the run's own."""
    run = load_run(run_path)
    header = run.header
    width = band_width or run.band_width
    results = summarize(run.records, band_width=width)
    title = f"{header.get('model')} on {(header.get('suite') or {}).get('name')} ({header.get('format')}, status {header.get('status')})"
    out = [render_results(results, fmt, title=title)]
    if fmt in ("table", "markdown"):
        # The rating belongs next to the bucket table (summarize fitted it); machine formats stay untouched.
        out.append(render_rating_lines(results))
        out.append(linking_text(header, results, run.records))
        out.append(engine_text(run.path, width))
        out.append(_placement(run.path, header, results, reference))
        if failures:
            out.append(render_failures(run.records, None if failures < 0 else failures))
    return "".join(out)


def _placement(run_path: Path, header: dict[str, Any], results: dict[str, Any], reference_dir: str | os.PathLike[str] | None) -> str:
    """Where the run sits on the look-ahead ladder of reference runs on the same suite."""
    from chesseval.analysis.reference import DEFAULT_REFERENCE_DIR, place, reference_points

    rate = results["overall"]["solve_rate"]
    if rate is None:
        return ""
    points = reference_points(reference_dir or DEFAULT_REFERENCE_DIR, suite_sha256=(header.get("suite") or {}).get("sha256", ""), template=header.get("template"))
    points = [p for p in points if p.path.resolve() != run_path.resolve()]  # not against itself
    return f"look-ahead ladder: {place(rate, points)}\n" if points else ""


def engine_text(run_path: str | os.PathLike[str], width: int) -> str:
    """The engine's view beside the strict Lichess numbers, when the run was checked by Stockfish ("" if not)."""
    from chesseval.engine.check import ENGINE_FILE

    if not (Path(run_path) / ENGINE_FILE).exists():
        return ""
    from chesseval.engine.report import engine_summary, format_engine_summary

    rows = engine_summary(run_path, width)
    if not rows:
        return ""
    return "\nengine check (extra metric; the strict Lichess solve rate above is the headline):\n" + format_engine_summary(rows) + "\n"


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
    from chesseval.analysis.html_report import failure_position  # the gallery's replay; heavy imports only when asked
    from chesseval.core.puzzles import Puzzle

    try:
        puzzle = Puzzle(id=str(rec["puzzle_id"]), fen=rec["fen"], moves=tuple(rec["moves"]), has_setup_move=rec.get("has_setup_move", True))
        pos = failure_position(puzzle, rec)
        return pos.board.san(pos.expected)
    except (KeyError, IndexError, ValueError, TypeError, AssertionError):
        return None
