"""Core subcommands: ``run``, ``report``, ``show``, ``validate``, ``list``, ``parse``."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chesseval.cli.common import add_band_width, add_no_progress, add_prompt_format, add_report_format, add_runs_dir
from chesseval.errors import ConfigError, ExitCode, ModelFatalError

if TYPE_CHECKING:
    from chesseval.core.records import RunDir
    from chesseval.core.runner import RunConfig, RunResult

__all__ = ["register", "DEFAULT_SUITE"]

DEFAULT_SUITE = "default"
"""The bundled rated suite; until it exists, ``default`` falls back to the starter suite."""


_EXIT_CODES_HELP = f"""exit codes:
  {ExitCode.OK:<4d} every puzzle got an answer verdict (correct, wrong, illegal, no_move, empty, refused)
  {ExitCode.FAILURE:<4d} another failure (e.g. a run folder that cannot be written, no Stockfish)
  {ExitCode.USAGE:<4d} bad command line or input, found before any call
  {ExitCode.ANSWER_ERRORS:<4d} finished, but some puzzles have verdict 'error' (every retry failed); --retry-errors asks them again
  {ExitCode.PROVIDER:<4d} stopped on a fatal provider error (key, quota, every call failing alike); the same command resumes
  {ExitCode.RUN_LOCKED:<4d} the run folder is in use by another chesseval process (its PID is named); nothing asked
  {ExitCode.CANCELLED:<4d} cancelled by Ctrl-C; finished puzzles are kept and the same command resumes
"""


def _add_run_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "run",
        help="run a model through a puzzle suite (resumes an identical earlier run)",
        description="Run a model through a puzzle suite. The same command again resumes the run: finished puzzles are not asked again.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help="provider/model, e.g. builtin/oracle, builtin/search, openai/gpt-4o")
    p.add_argument("--suite", default=DEFAULT_SUITE, help="suite name or puzzle file (.csv, .csv.zst, .epd, .pgn); default: %(default)s")
    p.add_argument("-M", dest="model_args", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable), e.g. -M depth=2")
    add_prompt_format(p)
    p.add_argument("--legal-moves", action="store_true", help="list the legal moves in the prompt")
    p.add_argument("--expects", default="move", choices=["move", "line"],
                   help="one move per answer, or the whole solution line in one answer (default: %(default)s)")
    p.add_argument("--limit", type=int, default=None, help="only the first N puzzles of the suite (N >= 1)")
    p.add_argument("--skip-invalid", action="store_true", help="run the valid puzzles of a file with bad rows; the skipped rows are listed in run.json")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling players and providers that take one")
    add_runs_dir(p)
    p.add_argument("--max-connections", type=int, default=8, help="puzzles in flight at once (default: %(default)s)")
    add_band_width(p)
    p.add_argument("--new", action="store_true", help="start a new run even if an identical one exists")
    p.add_argument("--retry-errors", action="store_true", help="on resume, ask again puzzles whose call failed")
    p.add_argument("--breaker-calls", type=int, default=10, metavar="N", help="stop when the first N calls (or all in flight, if fewer) fail alike after every retry; 0: never (default: %(default)s)")
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
    add_no_progress(g, "--quiet")
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
    from chesseval.analysis.report import render_results
    from chesseval.core.prompts import PromptFormat, PromptOptions
    from chesseval.core.runner import RunConfig
    from chesseval.providers import parse_model_options

    config = RunConfig(
        model=args.model,
        suite=args.suite,
        format=PromptFormat(args.format),
        model_options=_model_options(args),
        prompt_options=PromptOptions(legal_moves=args.legal_moves, expects=args.expects),
        limit=args.limit,
        seed=args.seed,
        max_connections=args.max_connections,
        runs_dir=Path(args.runs_dir),
        band_width=args.band_width,
        meta=parse_model_options(args.meta),
        resume=not args.new,
        retry_errors=args.retry_errors,
        engine=args.engine,
        breaker_calls=args.breaker_calls,
        skip_invalid=args.skip_invalid,
    )
    holder: dict[str, Any] = {}
    try:
        result = _evaluate_interruptibly(config, progress=not args.no_progress, on_run_dir=lambda r: holder.setdefault("run", r))
    except KeyboardInterrupt:
        run = holder.get("run")
        if run is not None:
            results = run.read_results()
            if results:
                print(render_results(results, "table", title=f"{args.model} on {args.suite} (cancelled)"))
            print(run.path)
        print("chesseval: run cancelled; run the same command again to resume", file=sys.stderr)
        return ExitCode.CANCELLED
    except ModelFatalError as exc:
        run = holder.get("run")
        print(f"chesseval: error: {exc}", file=sys.stderr)
        if run is not None:
            print(f"chesseval: the run is kept in {run.path}; fix the problem and run the same command again to resume", file=sys.stderr)
        return ExitCode.PROVIDER
    _warn_skipped(result.path)
    if result.resumed and result.asked == 0:
        print("chesseval: every puzzle was already recorded in this run; nothing asked", file=sys.stderr)
    _warn_empty(result.results)
    print(render_results(result.results, "table", title=f"{args.model} on {args.suite} ({args.format})"))
    if args.engine:
        from chesseval.analysis.report import engine_text

        print(engine_text(result.path, args.band_width), end="")
    print(result.path)
    return ExitCode.ANSWER_ERRORS if result.results["overall"]["verdicts"].get("error") else ExitCode.OK


def _evaluate_interruptibly(config: RunConfig, *, progress: bool, on_run_dir: Callable[[RunDir], None]) -> RunResult:
    """:func:`chesseval.api.evaluate`, where the first Ctrl-C cancels the run and a second quits at once.

    The first cancels the run's task: puzzles in flight are dropped (a CPU-bound player stops at
    its next cancel check), the run is marked ``cancelled`` and its results written, then
    KeyboardInterrupt is raised here. A second Ctrl-C while that happens exits the process at once
    with no traceback; every finished record is already flushed, so the same command resumes.
    """
    from chesseval.api import evaluate_async

    state: dict[str, Any] = {}

    def on_sigint(signum: int, frame: object) -> None:
        if state.get("interrupted"):
            os.write(2, b"\nchesseval: interrupted again: quitting now; finished puzzles are kept, the same command resumes\n")
            os._exit(ExitCode.CANCELLED)
        state["interrupted"] = True
        loop, task = state.get("loop"), state.get("task")
        if loop is None:
            raise KeyboardInterrupt  # nothing started yet
        os.write(2, b"\nchesseval: stopping (Ctrl-C again to quit at once)\n")
        try:
            loop.call_soon_threadsafe(task.cancel)
        except RuntimeError:
            pass  # the loop has just finished: the run ends by itself

    async def main() -> RunResult:
        state["task"] = asyncio.current_task()
        state["loop"] = asyncio.get_running_loop()
        return await evaluate_async(config, progress=progress, on_run_dir=on_run_dir)

    # Our handler instead of asyncio's: asyncio's second Ctrl-C raises KeyboardInterrupt wherever
    # the main thread is, which prints a traceback from the middle of the clean-up.
    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(evaluate_async(config, progress=progress, on_run_dir=on_run_dir))  # signals go to the main thread only
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if state.get("interrupted"):
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)


def _warn_skipped(run_path: Path) -> None:
    from chesseval.core.records import RunDir

    header = RunDir(run_path).read_header()
    if header.get("n_skipped"):
        print(f"chesseval: warning: skipped {header['n_skipped']} invalid puzzle row(s), listed in {run_path / 'run.json'} "
              f"(first: {header['skipped'][0]})", file=sys.stderr)  # fmt: skip


def _warn_empty(results: dict[str, Any]) -> None:
    v = results["overall"]["verdicts"]
    if v.get("empty"):
        print(f"chesseval: warning: {v['empty']} puzzle(s) got an empty or cut-off answer (token budget spent before a move); see stop_reason in records.jsonl", file=sys.stderr)
    if v.get("error"):
        print(f"chesseval: warning: {v['error']} puzzle(s) failed after every retry (verdict 'error'); rerun with --retry-errors to ask them again", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    from chesseval.analysis.report import report_run

    print(report_run(args.run, args.format, band_width=args.band_width, reference=args.reference, failures=args.failures), end="")
    if args.html is not None:
        from chesseval.analysis.html_report import write_html_report

        target = args.html or (Path(args.out_dir) / "report.html" if args.out_dir else None)
        path = write_html_report(args.run, target, gallery=args.gallery)
        print(f"html report: {path}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from chesseval.core.prompts import PromptFormat, PromptOptions, render_prompt
    from chesseval.core.puzzles import iter_puzzles
    from chesseval.core.suites import resolve_suite

    suite = resolve_suite(args.suite)
    for puzzle in iter_puzzles(suite.path):
        if puzzle.id == args.puzzle_id:
            options = PromptOptions(legal_moves=args.legal_moves, expects=args.expects)
            prompt = render_prompt(puzzle, PromptFormat(args.format), options)
            for m in prompt.messages:
                print(f"--- {m['role']} ---")
                print(m["content"])
            print(f"--- template {prompt.template_id}, sha256 {prompt.sha256[:16]}; solution {' '.join(puzzle.solution)} ---")
            return 0
    raise ConfigError(f"puzzle {args.puzzle_id!r} is not in suite {suite.name!r} ({suite.path})")


def cmd_parse(args: argparse.Namespace) -> int:
    from chesseval.core.regrade import agreement, board_of, describe, regrade_file

    rows = regrade_file(args.file)
    for row in rows:
        mark = "" if row.agrees is None else ("  ok" if row.agrees else "  DIFFERS")
        print(f"{row.line}: {describe(row.parsed, board_of(row.record))}{mark}")
    stats = agreement(rows)
    if not stats:
        return 0
    print("\nagreement with the labels:")
    for difficulty, (agree, total) in stats.items():
        print(f"  {difficulty:<10} {agree:>4}/{total:<4} {100 * agree / total:5.1f}%")
    differs = [row for row in rows if row.agrees is False]
    if differs:
        print(f"\n{len(differs)} disagreement(s):")
    for row in differs:
        rec = row.record
        want = rec.get("intended_san") or rec.get("intended_text") or ""
        print(f"  line {row.line} ({row.difficulty}): label {rec.get('label')} {want}".rstrip() + f"; parsed {describe(row.parsed, board_of(rec))}")
    return 0


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
        status = status or (2 if errors else 0)  # bad input: the exit code of every input error
    return status


def cmd_list(args: argparse.Namespace) -> int:
    from chesseval.core.records import list_runs
    from chesseval.core.suites import list_suites
    from chesseval.providers import PROVIDERS

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


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _add_run_parser(sub)

    p = sub.add_parser("report", help="print a run's solve rates by rating bucket")
    p.add_argument("run", help="run folder")
    add_report_format(p)
    add_band_width(p, None)
    p.add_argument("--reference", default=None, metavar="DIR", help="reference runs to place this run among (default: the project's runs/reference)")
    p.add_argument("--failures", type=int, default=0, metavar="N", help="also list the N hardest unsolved puzzles (-1: all)")
    p.add_argument("--html", nargs="?", const="", default=None, metavar="FILE",
                   help="also write a self-contained HTML report (default FILE: RUN/report.html)")
    p.add_argument("--gallery", type=int, default=30, metavar="N", help="failed puzzles drawn in the HTML report (default: %(default)s)")
    p.add_argument("-o", "--out-dir", default=None, metavar="DIR", help="write the HTML report into DIR instead of the run folder (for read-only runs)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("show", help="print the exact messages a puzzle is asked with")
    p.add_argument("puzzle_id")
    p.add_argument("--suite", default=DEFAULT_SUITE)
    add_prompt_format(p)
    p.add_argument("--legal-moves", action="store_true")
    p.add_argument("--expects", default="move", choices=["move", "line"], help="the one-move or the whole-line template")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("validate", help="check puzzle files; prints file:line: reason for every problem (exit 2 if any)")
    p.add_argument("files", nargs="+", help="puzzle files or suite names")
    p.add_argument("--max-errors", type=int, default=50)
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("parse", help="read the move each stored answer commits to (re-grade another benchmark's log)")
    p.add_argument("file", help="JSONL records with fen, optional moves_before (SAN from the start), raw_response, optional label")
    p.set_defaults(handler=cmd_parse)

    p = sub.add_parser("list", help="list suites, providers and runs")
    add_runs_dir(p)
    p.set_defaults(handler=cmd_list)
