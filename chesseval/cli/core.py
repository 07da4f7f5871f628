"""Core subcommands: ``run``, ``report``, ``show``, ``validate``, ``list``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from chesseval.errors import ConfigError, ModelFatalError, RunError

__all__ = ["register", "DEFAULT_SUITE"]

DEFAULT_SUITE = "default"
"""The bundled rated suite; until it exists, ``default`` falls back to the starter suite."""


def _add_run_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="run a model through a puzzle suite (resumes an identical earlier run)")
    p.add_argument("--model", required=True, help="provider/model, e.g. builtin/oracle, builtin/search, openai/gpt-4o")
    p.add_argument("--suite", default=DEFAULT_SUITE, help="suite name or puzzle file (.csv, .csv.zst, .epd, .pgn); default: %(default)s")
    p.add_argument("-M", dest="model_args", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable), e.g. -M depth=2")
    p.add_argument("--format", default="fen", choices=["fen", "pgn", "board"], help="how the position is shown (default: %(default)s)")
    p.add_argument("--legal-moves", action="store_true", help="list the legal moves in the prompt")
    p.add_argument("--limit", type=int, default=None, help="only the first N puzzles of the suite")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling players and providers that take one")
    p.add_argument("--runs-dir", default="runs", help="where run folders go (default: %(default)s)")
    p.add_argument("--max-connections", type=int, default=8, help="puzzles in flight at once (default: %(default)s)")
    p.add_argument("--band-width", type=int, default=200, help="rating bucket width (default: %(default)s)")
    p.add_argument("--new", action="store_true", help="start a new run even if an identical one exists")
    p.add_argument("--retry-errors", action="store_true", help="on resume, ask again puzzles whose call failed")
    p.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE", help="run metadata, e.g. --meta family=gpt --meta release_date=2025-08-07")
    p.add_argument("--engine", default=None, metavar="LIMIT", help="check every played move with Stockfish at a named limit (quick|standard|deep)")
    g = p.add_argument_group("generation (HTTP providers)")
    g.add_argument("--base-url", default=None)
    g.add_argument("--temperature", type=float, default=None)
    g.add_argument("--max-tokens", type=int, default=None)
    g.add_argument("--reasoning-effort", default=None, choices=["none", "minimal", "low", "medium", "high", "xhigh", "max"])
    g.add_argument("--max-retries", type=int, default=None)
    g.add_argument("--timeout", type=float, default=None, help="total seconds per call including retries")
    g.add_argument("--attempt-timeout", type=float, default=None, help="seconds before one attempt is abandoned and retried")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    g.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(handler=cmd_run)


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    from chesseval.providers import parse_model_options

    options: dict[str, Any] = parse_model_options(args.model_args)
    for key in ("base_url", "temperature", "max_tokens", "reasoning_effort", "max_retries", "timeout", "attempt_timeout"):
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    if args.no_cache:
        options["cache"] = False
    if args.seed and "seed" not in options:
        options["seed"] = args.seed
    return options


def cmd_run(args: argparse.Namespace) -> int:
    from chesseval.providers import parse_model_options
    from chesseval.core.prompts import PromptFormat, PromptOptions
    from chesseval.analysis.report import render_results
    from chesseval.api import evaluate
    from chesseval.core.runner import RunConfig

    config = RunConfig(
        model=args.model,
        suite=args.suite,
        format=PromptFormat(args.format),
        model_options=_model_options(args),
        prompt_options=PromptOptions(legal_moves=args.legal_moves),
        limit=args.limit,
        seed=args.seed,
        max_connections=args.max_connections,
        runs_dir=Path(args.runs_dir),
        band_width=args.band_width,
        meta=parse_model_options(args.meta),
        resume=not args.new,
        retry_errors=args.retry_errors,
        engine=args.engine,
    )
    holder: dict[str, Any] = {}
    try:
        result = evaluate(config, progress=not args.quiet, on_run_dir=lambda r: holder.setdefault("run", r))
    except KeyboardInterrupt:
        run = holder.get("run")
        if run is not None:
            results = run.read_results()
            if results:
                print(render_results(results, "table", title=f"{args.model} on {args.suite} (cancelled)"))
            print(run.path)
        print("chesseval: run cancelled; run the same command again to resume", file=sys.stderr)
        return 130
    except ModelFatalError as exc:
        run = holder.get("run")
        print(f"chesseval: error: {exc}", file=sys.stderr)
        if run is not None:
            print(f"chesseval: the run is kept in {run.path}; fix the problem and run the same command again to resume", file=sys.stderr)
        return 1
    if result.resumed and result.asked == 0:
        print("chesseval: every puzzle was already recorded in this run; nothing asked", file=sys.stderr)
    _warn_empty(result.results)
    print(render_results(result.results, "table", title=f"{args.model} on {args.suite} ({args.format})"))
    if args.engine:
        _print_engine_summary(result.path, args.band_width)
    print(result.path)
    return 0


def _warn_empty(results: dict[str, Any]) -> None:
    v = results["overall"]["verdicts"]
    if v.get("empty"):
        print(f"chesseval: warning: {v['empty']} puzzle(s) got an empty or cut-off answer (token budget spent before a move); see stop_reason in records.jsonl", file=sys.stderr)
    if v.get("error"):
        print(f"chesseval: warning: {v['error']} puzzle(s) failed after every retry (verdict 'error'); rerun with --retry-errors to ask them again", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    from chesseval.core.records import RunDir
    from chesseval.analysis.report import render_results, summarize

    run = RunDir(args.run)
    if not run.header_path.exists():
        raise RunError(f"{args.run!r} is not a run folder (no run.json)")
    header = run.read_header()
    width = args.band_width or int(header.get("band_width") or 200)
    results = summarize(run.records(), band_width=width)
    title = f"{header.get('model')} on {(header.get('suite') or {}).get('name')} ({header.get('format')}, status {header.get('status')})"
    print(render_results(results, args.format, title=title), end="")
    if args.format in ("table", "markdown"):
        # The rating belongs next to the bucket table (summarize fitted it); machine formats stay untouched.
        from chesseval.analysis.report import render_rating_lines

        print(render_rating_lines(results), end="")
        _print_engine_summary(run.path, width)
        _print_placement(run.path, header, results, args.reference)
        if getattr(args, "failures", 0):
            from chesseval.analysis.report import render_failures

            print(render_failures(run.records(), None if args.failures < 0 else args.failures), end="")
    return 0


def _print_placement(run_path: Path, header: dict[str, Any], results: dict[str, Any], reference_dir: str | None) -> None:
    """Where the run sits on the look-ahead ladder of reference runs on the same suite."""
    from chesseval.analysis.reference import DEFAULT_REFERENCE_DIR, place, reference_points

    rate = results["overall"]["solve_rate"]
    if rate is None:
        return
    points = reference_points(reference_dir or DEFAULT_REFERENCE_DIR, suite_sha256=(header.get("suite") or {}).get("sha256", ""), template=header.get("template"))
    points = [p for p in points if p.path.resolve() != run_path.resolve()]  # not against itself
    if points:
        print(f"look-ahead ladder: {place(rate, points)}")


def _print_engine_summary(run_path: Path, width: int) -> None:
    """The engine's view beside the strict Lichess numbers, when the run was checked by Stockfish."""
    from chesseval.engine.check import ENGINE_FILE

    if not (run_path / ENGINE_FILE).exists():
        return
    from chesseval.engine.report import engine_summary, format_engine_summary

    rows = engine_summary(run_path, width)
    if rows:
        print("\nengine check (extra metric; the strict Lichess solve rate above is the headline):")
        print(format_engine_summary(rows))


def cmd_show(args: argparse.Namespace) -> int:
    from chesseval.core.prompts import PromptFormat, PromptOptions, render_prompt
    from chesseval.core.puzzles import iter_puzzles
    from chesseval.core.suites import resolve_suite

    suite = resolve_suite(args.suite)
    for puzzle in iter_puzzles(suite.path):
        if puzzle.id == args.puzzle_id:
            prompt = render_prompt(puzzle, PromptFormat(args.format), PromptOptions(legal_moves=args.legal_moves))
            for m in prompt.messages:
                print(f"--- {m['role']} ---")
                print(m["content"])
            print(f"--- template {prompt.template_id}, sha256 {prompt.sha256[:16]}; solution {' '.join(puzzle.solution)} ---")
            return 0
    raise ConfigError(f"puzzle {args.puzzle_id!r} is not in suite {suite.name!r} ({suite.path})")


def cmd_validate(args: argparse.Namespace) -> int:
    from chesseval.core.puzzles import validate_puzzles
    from chesseval.core.suites import resolve_suite

    status = 0
    for spec in args.files:
        path = Path(spec) if Path(spec).exists() else resolve_suite(spec).path
        n, errors = validate_puzzles(path)
        for e in errors[: args.max_errors]:
            print(e)
        if len(errors) > args.max_errors:
            print(f"... and {len(errors) - args.max_errors} more")
        print(f"{path}: {n} puzzle(s) valid, {len(errors)} problem(s)")
        status = status or (1 if errors else 0)
    return status


def cmd_list(args: argparse.Namespace) -> int:
    from chesseval.providers import PROVIDERS
    from chesseval.core.records import list_runs
    from chesseval.core.suites import list_suites

    print("suites:")
    for s in list_suites():
        print(f"  {s.name:<20} {s.count or '?':>6} puzzles  v{s.version}  {s.description}")
    print("providers: " + ", ".join(sorted(PROVIDERS)) + "   (built-in players: builtin/oracle, builtin/random, builtin/search)")
    runs = list_runs(args.runs_dir)
    print(f"runs in {args.runs_dir}:" + ("" if runs else " none"))
    for run in runs:
        h = run.read_header()
        res = run.read_results() or {}
        rate = (res.get("overall") or {}).get("solve_rate")
        rate_s = "-" if rate is None else f"{100 * rate:.1f}%"
        print(f"  {run.path.name}  {h.get('status'):<9} {rate_s:>6}")
    return 0


def cmd_starter(args: argparse.Namespace) -> int:
    from chesseval.mining.starter import build_starter
    from chesseval.core.suites import write_suite

    puzzles = build_starter(args.count, seed=args.seed)
    command = f"chesseval puzzles starter --count {args.count} --seed {args.seed} --name {args.name} --out-dir {args.out_dir}"
    suite = write_suite(
        args.name,
        puzzles,
        args.out_dir,
        version="1",
        description="Mates in one and two with proved unique solutions, from chesseval self-play games (unrated).",
        command=command,
        extra={"seed": args.seed},
    )
    print(f"{suite.path}: {len(puzzles)} puzzles, sha256 {suite.sha256[:16]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from chesseval.cli.common import command_group

    _add_run_parser(sub)

    puzzles = command_group(sub, "puzzles", "make and fetch puzzles")
    p = puzzles.add_parser("starter", help="build the starter suite: proved mates in 1 and 2 from self-play")
    p.add_argument("--count", type=int, default=120)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--name", default="starter")
    p.add_argument("--out-dir", default="puzzles")
    p.set_defaults(handler=cmd_starter)

    p = sub.add_parser("report", help="print a run's solve rates by rating bucket")
    p.add_argument("run", help="run folder")
    p.add_argument("--format", default="table", choices=["table", "markdown", "csv", "json"])
    p.add_argument("--band-width", type=int, default=None)
    p.add_argument("--reference", default=None, metavar="DIR", help="reference runs to place this run among (default: the project's runs/reference)")
    p.add_argument("--failures", type=int, default=0, metavar="N", help="also list the N hardest unsolved puzzles (-1: all)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("show", help="print the exact messages a puzzle is asked with")
    p.add_argument("puzzle_id")
    p.add_argument("--suite", default=DEFAULT_SUITE)
    p.add_argument("--format", default="fen", choices=["fen", "pgn", "board"])
    p.add_argument("--legal-moves", action="store_true")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("validate", help="check puzzle files; prints file:line: reason for every problem")
    p.add_argument("files", nargs="+", help="puzzle files or suite names")
    p.add_argument("--max-errors", type=int, default=50)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("list", help="list suites, providers and runs")
    p.add_argument("--runs-dir", default="runs")
    p.set_defaults(handler=cmd_list)
