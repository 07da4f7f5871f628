"""Engine subcommands: ``chesseval engine check`` and ``chesseval rescore RUN --engine LIMIT``."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import chess

from chesseval.cli.common import command_group

# A middlegame with real choices, so the test search does measurable work.
_TEST_FEN = "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    engine = command_group(sub, "engine", help="Stockfish: check the installation")
    check = engine.add_parser("check", help="print the Stockfish binary, its version and a timed test search")
    check.add_argument("--engine-config", metavar="PATH", help="engine config TOML (default: stockfish_config/default.toml)")
    check.add_argument("--limit", default="quick", help="limit of the test search (default: quick)")
    check.set_defaults(handler=_check)

    rescore = sub.add_parser("rescore", help="check every played move of a finished run with Stockfish (no model calls)")
    rescore.add_argument("run", metavar="RUN", help="run folder")
    rescore.add_argument("--engine", metavar="LIMIT", default="standard", help="named limit (quick/standard/deep) or e.g. nodes=50000 (default: standard)")
    rescore.add_argument("--puzzles", metavar="FILE", help="puzzle file of the run (default: the one named in run.json)")
    rescore.add_argument("--processes", type=int, metavar="N", help="engine processes (default: config, else one per core)")
    rescore.add_argument("--engine-config", metavar="PATH", help="engine config TOML")
    rescore.add_argument("--bucket-width", type=int, default=200, metavar="W", help="rating bucket width for the summary (default: 200)")
    rescore.set_defaults(handler=_rescore)


def _check(args: argparse.Namespace) -> int:
    from chesseval.engine.stockfish import build_settings, cpu_flags, load_engine_config, parse_limit, unused_isas
    from chesseval.engine.pool import EnginePool

    config = load_engine_config(args.engine_config)
    limit = parse_limit(args.limit, config)

    async def go() -> int:
        async with EnginePool(config, processes=1, cache=False) as pool:
            print(f"binary:  {pool.binary}")
            start = time.perf_counter()
            engine_id = await pool.ensure_started()
            print(f"engine:  {pool.engine_name} (started in {time.perf_counter() - start:.2f}s; id {engine_id!r})")
            settings = build_settings(pool.binary)
            if settings is not None:
                unused = unused_isas(settings, cpu_flags())
                hint = (f" -- this CPU also has {'/'.join(unused)}, which this build does not use; a build for "
                        "this CPU searches more nodes per second (matters for timed limits such as movetime)") if unused else ""
                print(f"build:   {' '.join(settings)}{hint}")
            print(f"config:  {config.source or 'built-in defaults'}; threads={config.threads} hash={config.hash_mb}MB processes={config.n_processes}")
            result = await pool.analyse(chess.Board(_TEST_FEN), limit, use_cache=False)
            nps = (result.nodes or 0) / result.seconds if result.seconds else 0.0
            print(
                f"search:  {limit.label} ({limit.key}): best {result.best_move} score {result.score} depth {result.depth} "
                f"nodes {result.nodes} in {result.seconds:.3f}s ({nps / 1000:.0f} knodes/s)"
            )
        return 0

    return asyncio.run(go())


def _rescore(args: argparse.Namespace) -> int:
    from chesseval.engine.stockfish import load_engine_config
    from chesseval.engine.check import rescore_run
    from chesseval.engine.report import engine_summary, format_engine_summary

    config = load_engine_config(args.engine_config)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 2 or done == total:
            last[0] = now
            print(f"\r{done}/{total} moves checked", end="", file=sys.stderr, flush=True)

    stats = rescore_run(args.run, args.engine, config=config, puzzles=args.puzzles, processes=args.processes, progress=progress)
    if stats.checked:
        print(file=sys.stderr)
    print(
        f"rescored {stats.run_dir} at {stats.limit}: {stats.moves} played moves, {stats.checked} checked now, "
        f"{stats.skipped} already done, {stats.errors} engine errors; {stats.searches} searches, "
        f"{stats.cache_hits} cache hits, {stats.restarts} engine restarts, {stats.seconds:.1f}s"
    )
    rows = engine_summary(args.run, args.bucket_width, limit=config.limit(args.engine).key)
    if rows:
        print(format_engine_summary(rows))
    return 1 if stats.errors else 0
