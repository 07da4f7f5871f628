"""``chesseval puzzles mine | selfplay | merge | build-suite``: making puzzles with Stockfish."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from chesseval.cli.common import command_group
from chesseval.errors import ConfigError

__all__ = ["register"]


def _progress(label: str):  # type: ignore[no-untyped-def]
    start = time.monotonic()

    def report(done: int, total: int, found: int | None = None) -> None:
        extra = f", {found} puzzles" if found is not None else ""
        print(f"\r{label}: {done}/{total} games{extra}, {time.monotonic() - start:.0f}s", end="", file=sys.stderr, flush=True)
        if done == total:
            print(file=sys.stderr)

    return report


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so that the worker pools are shut down with the parent
    (multiprocessing leaves orphaned workers, each with its Stockfish, behind a plain SIGTERM)."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _shard(text: str) -> tuple[int, int]:
    from chesseval.mining.miner import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _at_least(low: int, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least {low}")
    return value


def _positive(text: str) -> int:
    return _at_least(1, text)


def _non_negative(text: str) -> int:
    return _at_least(0, text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def _mining_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from chesseval.mining.miner import SF15_1_CP_SCALE, MiningConfig

    return MiningConfig(nodes=args.nodes, scan_nodes=args.scan_nodes, threads=args.threads,
                        cp_scale=SF15_1_CP_SCALE if args.cp_scale is None else args.cp_scale)


def _write_csv(puzzles, out: str) -> None:  # type: ignore[no-untyped-def]
    from chesseval.core.puzzles import write_lichess_csv

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        write_lichess_csv(puzzles, fh, rating_source=True)
    tmp.replace(path)


def cmd_mine(args: argparse.Namespace) -> int:
    _stop_on_sigterm()
    from chesseval.mining.difficulty import rate_puzzles
    from chesseval.mining.miner import mine_pgn

    if not Path(args.games).is_file():
        raise ConfigError(f"no such PGN file: {args.games!r}")
    puzzles = mine_pgn(args.games, _mining_config(args), workers=args.workers, shard=args.shard,
                       progress=_progress("mining"))
    if not args.no_rating:
        puzzles = rate_puzzles(puzzles)
    _write_csv(puzzles, args.out)
    print(f"{len(puzzles)} puzzles -> {args.out}")
    return 0


def cmd_selfplay(args: argparse.Namespace) -> int:
    _stop_on_sigterm()
    from chesseval.mining.selfplay import SelfPlayConfig, play_games

    texts = play_games(args.games, args.seed, SelfPlayConfig(threads=args.threads), workers=args.workers,
                       progress=_progress("self-play"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    print(f"{len(texts)} games -> {out}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from chesseval.mining.miner import merge_puzzles
    from chesseval.core.puzzles import load_puzzles

    merged = merge_puzzles(load_puzzles(p) for p in args.inputs)
    _write_csv(merged, args.out)
    print(f"{len(merged)} puzzles -> {args.out}")
    return 0


def cmd_build_suite(args: argparse.Namespace) -> int:
    _stop_on_sigterm()
    from chesseval.mining.mined_suite import MIN_PER_BAND, SuitePlan, build_suite, shortfall

    plan = SuitePlan(games=args.games, seed=args.seed, nodes=args.nodes, workers=args.workers,
                     per_band=args.per_band, name=args.name, trap_games=args.trap_games)
    traps = "" if args.trap_games is None else f"--trap-games {args.trap_games} "
    command = (f"chesseval puzzles build-suite --games {args.games} {traps}--seed {args.seed} --nodes {args.nodes} "
               f"--workers {args.workers} --per-band {args.per_band} --name {shlex.quote(args.name)} "
               f"--out-dir {shlex.quote(args.out_dir)} --work-dir {shlex.quote(args.work_dir)}")
    suite = build_suite(plan, out_dir=Path(args.out_dir), work_dir=Path(args.work_dir), command=command)
    print(f"{suite.count} puzzles -> {suite.path}")
    for band, n in suite.histogram.items():
        print(f"  {band}: {n}")
    for band, have, more in shortfall(suite.histogram, args.games):
        guess = f"about {more} more games at this build's yield" if more is not None else "no puzzle found yet"
        print(f"  short: {band} has {have} of {MIN_PER_BAND} ({guess})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = command_group(sub, "puzzles", "puzzle files: download, mine, self-play")

    def engine_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--nodes", type=_positive, default=200_000, help="node limit per MultiPV-2 search (default 200000)")
        p.add_argument("--scan-nodes", type=_positive, default=40_000,
                       help="node limit per ply when a game has no %%eval comments (default 40000)")
        p.add_argument("--threads", type=_positive, default=1, help="Stockfish threads per engine (1 = reproducible)")
        p.add_argument("--workers", type=_positive, default=1, help="engine processes in parallel")

    p = group.add_parser("mine", help="find puzzles in games with Stockfish (lichess-puzzler method)")
    p.add_argument("games", help="PGN file (.pgn or .pgn.zst)")
    p.add_argument("--out", required=True, help="output Lichess CSV")
    engine_opts(p)
    p.add_argument("--shard", type=_shard, default=(0, 1), metavar="I/N", help="mine only games with index = I mod N")
    p.add_argument("--cp-scale", type=_positive_float, default=None,
                   help="multiply the engine's cp before the Lichess thresholds (default 361/208: Stockfish 15.1's "
                        "normalised cp back to the older scale Lichess's thresholds were set on; 1 = none)")
    p.add_argument("--no-rating", action="store_true", help="do not estimate ratings")
    p.set_defaults(handler=cmd_mine)

    p = group.add_parser("selfplay", help="engine games with imperfect play, to mine puzzles from")
    p.add_argument("--games", type=_positive, required=True)
    p.add_argument("--out", required=True, help="output PGN")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=_positive, default=1)
    p.add_argument("--workers", type=_positive, default=1)
    p.set_defaults(handler=cmd_selfplay)

    p = group.add_parser("merge", help="merge mined CSVs (e.g. shards) deterministically")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=cmd_merge)

    p = group.add_parser("build-suite", help="self-play, mine, rate and select a rated suite (resumable)")
    p.add_argument("--games", type=_positive, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nodes", type=_positive, default=200_000)
    p.add_argument("--workers", type=_positive, default=1)
    p.add_argument("--trap-games", type=_non_negative, default=None, metavar="K",
                   help="only games 0..K-1 look for traps; later games are plain, faster self-play (default: all)")
    p.add_argument("--per-band", type=_positive, default=100, help="at most this many puzzles per 200-point band")
    p.add_argument("--name", default="default")
    p.add_argument("--out-dir", default="puzzles")
    p.add_argument("--work-dir", default="build/suite", help="cached games and raw mined puzzles (resumable)")
    p.set_defaults(handler=cmd_build_suite)
