"""Analysis subcommands: ``compare``, ``history``, ``breakdown``, ``export``, and ``report --html``.

``report --html`` is added here to the ``report`` command that :mod:`chesseval.cli.core` defines
(this module is registered after it), so the HTML report lives with the other analysis code;
the text report also gains a ``puzzle rating:`` line (table and markdown formats only).
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

from chesseval.errors import ConfigError, RunError

__all__ = ["register", "cmd_compare", "cmd_history", "cmd_export", "cmd_breakdown", "export_records"]


def _warn(message: str) -> None:
    print(f"chesseval: WARNING: {message}", file=sys.stderr)


# -- compare -------------------------------------------------------------------------------------


def cmd_compare(args: argparse.Namespace) -> int:
    from chesseval.analysis.breakdown import comparability_problems, paired_comparison
    from chesseval.analysis.leaderboard import distinct_labels, leaderboard_markdown, leaderboard_text, load_run, summarize_run

    if len(args.runs) < 2:
        raise ConfigError(f"compare needs at least two runs, got {len(args.runs)!r}")
    runs = [load_run(p) for p in args.runs]
    labels = distinct_labels(runs)
    problems = {}
    for (i, a), (j, b) in combinations(enumerate(runs), 2):
        problems[i, j] = comparability_problems(a.header, b.header, label_a=labels[i], label_b=labels[j])
    refusals = [p for ps in problems.values() for p in ps if p.severity == "refuse"]
    if refusals and not args.force:
        for p in refusals:
            print(f"chesseval: {p.message}", file=sys.stderr)
        print("chesseval: error: refusing to compare runs on different puzzle suites (their solve rates and paired "
              "tests do not compare like with like); pass --force to compare anyway", file=sys.stderr)  # fmt: skip
        return 1
    for run, label in zip(runs, labels):
        status = run.header.get("status")
        if status != "success":
            _warn(f"run {label} has status {status!r} ({len(run.records)} of {run.header.get('n_puzzles', '?')} puzzles recorded)")
    seen: set[str] = set()
    for ps in problems.values():
        for p in ps:
            if p.message not in seen:
                seen.add(p.message)
                _warn(p.message)

    rows = [summarize_run(run, label) for run, label in zip(runs, labels)]
    out = [leaderboard_markdown(rows) if args.markdown else leaderboard_text(rows), ""]
    pairs: list[dict[str, Any]] = []
    for (i, j), ps in problems.items():
        different_suite = any(p.severity == "refuse" for p in ps)
        pc = paired_comparison(runs[i].records, runs[j].records, label_a=labels[i], label_b=labels[j],
                               n_boot=args.boot, rating_boot=args.boot // 2, seed=args.seed)  # fmt: skip
        if pc.n == 0:
            out.append(f"{labels[j]} vs {labels[i]}: no shared puzzles, no paired test")
            continue
        text = pc.summary()
        if different_suite:
            text = "[different suites: paired on the puzzle ids both contain]\n" + text
        out.append(("    " + text.replace("\n", "\n    ")) if args.markdown else text)
        pairs.append(pc.to_dict())
    if args.markdown:
        out.insert(2, "Paired comparisons (B vs A on shared puzzles; exact McNemar, paired bootstrap 95% CI):\n")
    print("\n".join(out).rstrip())
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": [r.to_dict() for r in rows], "pairs": pairs}, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    if args.plot:
        from chesseval.analysis.plots import plot_solve_rate_by_bucket

        plot_solve_rate_by_bucket([(lab, run.records) for lab, run in zip(labels, runs)], args.plot,
                                  ratings=[r.rating for r in rows])  # fmt: skip
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.cost_plot:
        from chesseval.analysis.plots import plot_cost_vs_rating

        plot_cost_vs_rating(rows, args.cost_plot)
        print(f"wrote {args.cost_plot}", file=sys.stderr)
    return 0


# -- history -------------------------------------------------------------------------------------


def cmd_history(args: argparse.Namespace) -> int:
    from chesseval.analysis.leaderboard import distinct_labels, leaderboard_markdown, leaderboard_text, load_runs_dir, order_by_release, summarize_run

    runs = load_runs_dir(args.runs_dir)
    if args.family:
        runs = [r for r in runs if str(r.meta.get("family")) == args.family]
    if not runs:
        which = f" of family {args.family!r}" if args.family else ""
        raise RunError(f"no runs{which} in {args.runs_dir!r} (give runs metadata with: chesseval run ... --meta family=F --meta release_date=YYYY-MM-DD)")
    rows = order_by_release([summarize_run(run, lab) for run, lab in zip(runs, distinct_labels(runs))])
    undated = [r.label for r in rows if r.release_date is None]
    if undated:
        _warn(f"{len(undated)} run(s) have no release_date (listed last, not plotted): {', '.join(undated)}")
    suites = {r.suite for r in rows}
    if len(suites) > 1:
        _warn(f"these runs used {len(suites)} different puzzle suites; solve rates are not comparable across them")
    print((leaderboard_markdown if args.markdown else leaderboard_text)(rows, rank=False))
    dated = [r for r in rows if r.release_date is not None]
    if dated:
        plot_path = Path(args.plot) if args.plot else Path(args.runs_dir) / f"history{'_' + args.family if args.family else ''}.png"
        from chesseval.analysis.plots import plot_rating_history

        plot_rating_history(dated, plot_path)
        print(f"plot: {plot_path}")
    return 0


# -- export --------------------------------------------------------------------------------------

_FLAT_DROP = ("turns",)


def _flatten(header: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"run_id": header.get("run_id"), "model": header.get("model"),
                           "suite": (header.get("suite") or {}).get("name"), "format": header.get("format")}  # fmt: skip
    for k, v in rec.items():
        if k in _FLAT_DROP:
            continue
        if k == "usage" and isinstance(v, dict):
            row.update({f"{uk}": uv for uk, uv in v.items()})
        elif k == "themes" and isinstance(v, list):
            row[k] = " ".join(str(t) for t in v)
        elif isinstance(v, (dict, list)):
            row[k] = json.dumps(v, ensure_ascii=False)
        else:
            row[k] = v
    turns = rec.get("turns") or []
    row["n_turns"] = len(turns)
    if turns:
        last = turns[-1]
        row["failed_turn"] = last.get("index") if rec.get("verdict") != "correct" else None
        row["last_answer"] = last.get("answer")
        row["last_played_uci"] = last.get("played_uci")
        row["last_expected_uci"] = last.get("expected_uci")
    return row


def export_records(run_path: str, fmt: str, out: str | None = None) -> Path:
    """Write a run's records as one flat table (CSV or Parquet); the full turns stay in records.jsonl."""
    from chesseval.analysis.leaderboard import load_run

    run = load_run(run_path)
    rows = [_flatten(run.header, r) for r in run.records]
    target = Path(out) if out else run.path / f"records.{fmt}"
    if fmt == "csv":
        import csv

        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        with open(target, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return target
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401  (pandas needs it for Parquet)
        except ImportError as exc:
            raise ConfigError("Parquet export needs pyarrow, an optional dependency: pip install 'chesseval[parquet]'") from exc
        import pandas as pd

        pd.DataFrame(rows).to_parquet(target, index=False)
        return target
    raise ConfigError(f"unknown export format {fmt!r}; choose csv or parquet")


def cmd_export(args: argparse.Namespace) -> int:
    target = export_records(args.run, args.format, args.output)
    print(target)
    return 0


# -- breakdown -----------------------------------------------------------------------------------

BREAKDOWNS = ("theme", "rating", "format", "length", "side", "phase", "partial")


def cmd_breakdown(args: argparse.Namespace) -> int:
    from chesseval.analysis import breakdown as analysis
    from chesseval.analysis.leaderboard import load_run

    records: list[dict[str, Any]] = []
    for path in args.runs:
        run = load_run(path)
        # Records do not repeat the run's prompt format; tag them so runs can be pooled by format.
        fmt = str(run.header.get("format") or "?")
        records += [{**r, "prompt_format": fmt} for r in run.records]
    if args.by == "partial":
        pc = analysis.partial_credit(records)
        print(pc.to_markdown())
        print(f"\n{pc.n} puzzles; found 0 = the first move was already wrong, found = length = solved")
        return 0
    bd = {
        "theme": lambda: analysis.by_theme(records, min_n=args.min_n),
        "rating": lambda: analysis.by_rating_bucket(records, width=args.band_width),
        "format": lambda: analysis.by_prompt_format(records),
        "length": lambda: analysis.by_solution_length(records),
        "side": lambda: analysis.by_side_to_move(records),
        "phase": lambda: analysis.by_phase(records),
    }[args.by]()
    print(bd.to_markdown())
    if bd.excluded:
        print(f"\n{bd.excluded} record(s) with verdict 'error' left out")
    return 0


# -- report --html -------------------------------------------------------------------------------


def _wrap_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", nargs="?", const="", default=None, metavar="FILE",
                        help="also write a self-contained HTML report (default FILE: RUN/report.html)")  # fmt: skip
    parser.add_argument("--gallery", type=int, default=30, metavar="N", help="failed puzzles drawn in the HTML report (default: %(default)s)")
    text_report = parser.get_default("handler")

    def handler(args: argparse.Namespace) -> int:
        status = int(text_report(args)) if text_report else 0
        if status:
            return status
        if args.html is None:
            return 0
        from chesseval.analysis.html_report import write_html_report

        path = write_html_report(args.run, args.html or None, gallery=args.gallery)
        print(f"html report: {path}")
        return 0

    parser.set_defaults(handler=handler)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.choices.get("report")
    if report is not None:
        _wrap_report(report)

    p = sub.add_parser("compare", help="leaderboard of runs and paired tests on shared puzzles")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (two or more)")
    p.add_argument("--markdown", action="store_true", help="print the leaderboard as Markdown")
    p.add_argument("--force", action="store_true", help="compare even runs on different puzzle suites (with warnings)")
    p.add_argument("--boot", type=int, default=2000, help="bootstrap resamples for paired intervals (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: %(default)s)")
    p.add_argument("--plot", metavar="PNG", help="also draw solve rate by rating bucket for every run")
    p.add_argument("--cost-plot", metavar="PNG", help="also draw cost (or tokens) per solved puzzle against rating")
    p.add_argument("--json", metavar="FILE", help="also write the leaderboard and paired tests as JSON")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("history", help="runs of a model family in release order, with a rating plot")
    p.add_argument("runs_dir", nargs="?", default="runs", metavar="RUNS_DIR", help="folder of run folders (default: %(default)s)")
    p.add_argument("--family", help="only runs with --meta family=FAMILY")
    p.add_argument("--plot", metavar="PNG", help="where to draw the plot (default: RUNS_DIR/history[_FAMILY].png)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("breakdown", help="solve rates by theme, rating, prompt format, length, side or phase (with n and 95%% CI)")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (records are pooled)")
    p.add_argument("--by", default="theme", choices=BREAKDOWNS, help="dimension (default: %(default)s); 'partial' = moves found before the first failure")
    p.add_argument("--min-n", type=int, default=1, help="themes with fewer puzzles are left out (default: %(default)s)")
    p.add_argument("--band-width", type=int, default=200, help="rating bucket width (default: %(default)s)")
    p.set_defaults(handler=cmd_breakdown)

    p = sub.add_parser("export", help="write a run's records as CSV or Parquet")
    p.add_argument("run", metavar="RUN", help="run folder")
    p.add_argument("--format", default="csv", choices=["csv", "parquet"])
    p.add_argument("-o", "--output", metavar="FILE", help="default: RUN/records.csv or RUN/records.parquet")
    p.set_defaults(handler=cmd_export)
