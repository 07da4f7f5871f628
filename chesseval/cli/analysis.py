"""Analysis subcommands: ``compare``, ``history``, ``breakdown``, ``export``.

Each handler parses its arguments, calls one public function of :mod:`chesseval.analysis`
(:func:`~chesseval.analysis.compare.compare_runs`, :func:`~chesseval.analysis.leaderboard.history_rows`,
:func:`~chesseval.analysis.breakdown.breakdown_runs`, :func:`~chesseval.analysis.export.export_records`)
and prints what it returns.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chesseval.cli.common import add_band_width

__all__ = ["register", "cmd_compare", "cmd_history", "cmd_export", "cmd_breakdown"]


def _warn(message: str) -> None:
    print(f"chesseval: WARNING: {message}", file=sys.stderr)


# -- compare -------------------------------------------------------------------------------------


def cmd_compare(args: argparse.Namespace) -> int:
    from chesseval.analysis.compare import compare_runs

    comparison = compare_runs(args.runs, force=args.force, boot=args.boot, seed=args.seed)
    for message in comparison.warnings:
        _warn(message)
    out = [comparison.text(markdown=args.markdown)]
    from chesseval.importers.agreement import source_agreement

    for run, label in zip(comparison.runs, comparison.labels, strict=True):
        agreement = source_agreement(run.records)  # imported runs: chesseval against the source's grading
        if agreement.any:
            out += ["", agreement.summary(label)]
    print("\n".join(out).rstrip())
    if args.json:
        Path(args.json).write_text(json.dumps(comparison.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    if args.plot:
        from chesseval.analysis.plots import plot_solve_rate_by_bucket

        plot_solve_rate_by_bucket([(lab, run.records) for lab, run in zip(comparison.labels, comparison.runs, strict=True)], args.plot,
                                  ratings=[r.rating for r in comparison.rows])  # fmt: skip
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.cost_plot:
        from chesseval.analysis.plots import plot_cost_vs_rating

        plot_cost_vs_rating(list(comparison.rows), args.cost_plot)
        print(f"wrote {args.cost_plot}", file=sys.stderr)
    return 0


# -- history -------------------------------------------------------------------------------------


def cmd_history(args: argparse.Namespace) -> int:
    from chesseval.analysis.leaderboard import history_rows, leaderboard_markdown, leaderboard_text

    rows = history_rows(args.runs_dir, family=args.family)
    undated = [r.label for r in rows if r.release_date is None]
    if undated:
        _warn(f"{len(undated)} run(s) have no release_date (listed last, not plotted): {', '.join(undated)}")
    suites = {r.suite for r in rows}
    if len(suites) > 1:
        _warn(f"these runs used {len(suites)} different puzzle suites; solve rates are not comparable across them, "
              "ratings only within the suites' linking errors (chesseval compare --force RUN_A RUN_B gives the z)")
    print((leaderboard_markdown if args.markdown else leaderboard_text)(rows, rank=False))
    dated = [r for r in rows if r.release_date is not None]
    if dated:
        plot_path = Path(args.plot) if args.plot else Path(args.runs_dir) / f"history{'_' + args.family if args.family else ''}.png"
        from chesseval.analysis.plots import plot_rating_history

        plot_rating_history(dated, plot_path)
        print(f"plot: {plot_path}")
    return 0


# -- export --------------------------------------------------------------------------------------

def cmd_export(args: argparse.Namespace) -> int:
    from chesseval.analysis.export import export_records

    target = export_records(args.run, args.format, args.output)
    print(target)
    return 0


# -- breakdown -----------------------------------------------------------------------------------

def cmd_breakdown(args: argparse.Namespace) -> int:
    from chesseval.analysis.breakdown import PartialCredit, breakdown_runs

    result = breakdown_runs(args.runs, args.by, min_n=args.min_n, band_width=args.band_width)
    print(result.to_markdown())
    if isinstance(result, PartialCredit):
        print(f"\n{result.n} puzzles; found 0 = the first move was already wrong, found = length = solved")
    elif result.excluded:
        print(f"\n{result.excluded} record(s) with verdict 'error' left out")
    return 0


def _breakdowns() -> tuple[str, ...]:
    from chesseval.analysis.breakdown import BREAKDOWNS

    return BREAKDOWNS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    p.add_argument("--by", default="theme", choices=_breakdowns(), help="dimension (default: %(default)s); 'partial' = moves found before the first failure")
    p.add_argument("--min-n", type=int, default=1, help="themes with fewer puzzles are left out (default: %(default)s)")
    add_band_width(p)
    p.set_defaults(handler=cmd_breakdown)

    p = sub.add_parser("export", help="write a run's records as CSV or Parquet")
    p.add_argument("run", metavar="RUN", help="run folder")
    p.add_argument("--format", default="csv", choices=["csv", "parquet"])
    p.add_argument("-o", "--output", metavar="FILE", help="default: RUN/records.csv or RUN/records.parquet")
    p.set_defaults(handler=cmd_export)
