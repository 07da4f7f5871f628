"""Re-verify every puzzle of a suite with the miner's only-move test at a large budget.

    python scripts/verify_suite.py [--suite puzzles/default.csv] [--nodes 1000000] [--workers 1]
                                   [--cache build/verify] [--limit N] [--apply]

At every solver move of every puzzle (the position after each opponent move of the line), Stockfish
searches with MultiPV 2 at ``--nodes`` and the miner's own test decides: ``LineBuilder.is_only_move``
of :mod:`chesseval.mining.miner` on the miner's cp scale (``MiningConfig.cp_scale``, Stockfish 15.1 cp ×
361/208): the best move's win chances beat the second's by more than 0.7, or, for a mate in one,
every non-mating move is at most 0.6. The solution move must also be the engine's best move (any
mating move counts on a move that mates, as Lichess accepts every mate). A puzzle passes when every
solver move passes.

Each verdict is appended to ``<cache>/<suite>-nodes<N>.jsonl`` as soon as it is known, so an
interrupted run resumes where it stopped (verdicts of another budget, scale or engine are ignored).
The search is node-limited (the time cap is only a safety net far above any 1M-node search), with
one thread, 16 MB hash and a fresh ``ucinewgame`` per puzzle, so verdicts do not depend on the
machine's load or on the number of workers.

``--apply`` (after a complete run) drops the failed puzzles from the suite file and rewrites its
manifest with the project's suite code, recording the verification (budget, MultiPV, engine, date,
counts passed and failed).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import chess  # noqa: E402
import chess.engine  # noqa: E402

from chesseval.core.puzzles import Puzzle, load_puzzles  # noqa: E402
from chesseval.mining.miner import LineBuilder, MiningConfig, open_engine, win_chances  # noqa: E402

DEFAULT_NODES = 1_000_000
MULTIPV = 2
TIME_CAP_S = 3600.0
"""Far above any 1M-node search on a loaded core: the node limit, not the clock, ends the search."""


@dataclasses.dataclass(frozen=True)
class MoveCheck:
    """The only-move test at one solver move."""

    ply: int
    """Index of the solver move in ``Puzzle.moves``."""
    solution: str
    best: str | None
    best_score: str | None
    second_score: str | None
    gap: float | None
    """Win-chance gap best − second on the miner's cp scale (None: one legal move or no second)."""
    only_move: bool
    """The miner's ``is_only_move`` verdict."""
    best_is_solution: bool

    @property
    def passed(self) -> bool:
        return self.only_move and self.best_is_solution


def _gives_mate(board: chess.Board, uci: str) -> bool:
    board.push_uci(uci)
    try:
        return board.is_checkmate()
    finally:
        board.pop()


def verify_puzzle(builder: LineBuilder, puzzle: Puzzle) -> list[MoveCheck]:
    """The miner's only-move test at every solver move of ``puzzle`` at ``builder``'s budget."""
    board = puzzle.start_board()
    checks: list[MoveCheck] = []
    solver = puzzle.solver
    for ply, uci in enumerate(puzzle.moves):
        if board.turn == solver:
            pair = builder.analyse(board, solver, multipv=MULTIPV)
            only = builder.is_only_move(board, pair)
            best = pair[0].move.uci() if pair else None
            gap = None
            if len(pair) == 2:
                gap = round(win_chances(pair[0].score) - win_chances(pair[1].score), 4)
            best_ok = best == uci or (_gives_mate(board, uci) and best is not None and _gives_mate(board, best))
            checks.append(MoveCheck(
                ply=ply, solution=uci, best=best,
                best_score=str(pair[0].score) if pair else None,
                second_score=str(pair[1].score) if len(pair) == 2 else None,
                gap=gap, only_move=only, best_is_solution=best_ok,
            ))
        board.push_uci(uci)
    return checks


def cache_key(nodes: int, config: MiningConfig, engine_name: str) -> dict[str, object]:
    return {"nodes": nodes, "multipv": MULTIPV, "cp_scale": config.cp_scale, "hash_mb": config.hash_mb,
            "threads": config.threads, "engine": engine_name}


# -- worker processes ----------------------------------------------------------------------------

_W: dict[str, object] = {}


def _init(nodes: int, nice: int) -> None:
    if nice:
        os.nice(nice)  # the engine started below inherits it
    config = MiningConfig(nodes=nodes, time_cap=TIME_CAP_S)
    engine = open_engine(config.engine_path, threads=config.threads, hash_mb=config.hash_mb)
    _W.update(engine=engine, config=config)


def _verify(puzzle: Puzzle) -> dict[str, object]:
    engine, config = _W["engine"], _W["config"]
    assert isinstance(engine, chess.engine.SimpleEngine) and isinstance(config, MiningConfig)
    t0 = time.monotonic()
    builder = LineBuilder(engine, config, game_key=("verify", puzzle.id))
    checks = verify_puzzle(builder, puzzle)
    return {
        "id": puzzle.id,
        "passed": all(c.passed for c in checks),
        "seconds": round(time.monotonic() - t0, 2),
        "checks": [dataclasses.asdict(c) for c in checks],
    }


def engine_name() -> str:
    engine = open_engine()
    try:
        return str(engine.id.get("name", "unknown"))
    finally:
        engine.quit()


# -- cache ---------------------------------------------------------------------------------------


def cache_path(cache_dir: Path, suite: Path, nodes: int) -> Path:
    return cache_dir / f"{suite.stem}-nodes{nodes}.jsonl"


def read_verdicts(path: Path, key: dict[str, object]) -> dict[str, dict[str, object]]:
    """Verdicts cached under ``key`` (the first line of the file); other keys are ignored."""
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    if not lines or json.loads(lines[0]) != {"key": key}:
        return {}
    out: dict[str, dict[str, object]] = {}
    for line in lines[1:]:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupted run
        out[str(rec["id"])] = rec
    return out


def run(puzzles: list[Puzzle], path: Path, key: dict[str, object], *, nodes: int, workers: int,
        nice: int) -> Iterator[dict[str, object]]:
    """Verify the puzzles not yet in the cache, appending each verdict; yields the new verdicts."""
    done = read_verdicts(path, key)
    todo = [p for p in puzzles if p.id not in done]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not done:
        path.write_text(json.dumps({"key": key}) + "\n")
    if not todo:
        return
    with path.open("a") as fh:
        if workers <= 1:
            _init(nodes, nice)
            try:
                for p in todo:
                    rec = _verify(p)
                    fh.write(json.dumps(rec) + "\n")
                    fh.flush()
                    yield rec
            finally:
                engine = _W.pop("engine")
                assert isinstance(engine, chess.engine.SimpleEngine)
                engine.quit()
        else:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(workers, initializer=_init, initargs=(nodes, nice)) as pool:
                for rec in pool.imap_unordered(_verify, todo, chunksize=1):
                    fh.write(json.dumps(rec) + "\n")
                    fh.flush()
                    yield rec


def summary(puzzles: list[Puzzle], verdicts: dict[str, dict[str, object]]) -> dict[str, object]:
    checked = [p for p in puzzles if p.id in verdicts]
    failed = sorted(p.id for p in checked if not verdicts[p.id]["passed"])
    return {"checked": len(checked), "passed": len(checked) - len(failed), "failed": len(failed),
            "failed_ids": failed, "unchecked": len(puzzles) - len(checked)}


RULE = ("at every solver move, Stockfish with MultiPV 2: chesseval.mining.miner.LineBuilder.is_only_move on the miner's "
        "cp scale (best beats second by > 0.7 win chances; a mate in one needs every non-mating move <= 0.6), and "
        "the solution move is the engine's best (any mate where the solution mates)")


def apply_verdicts(suite: Path, puzzles: list[Puzzle], verdicts: dict[str, dict[str, object]],
                   key: dict[str, object]) -> None:
    """Drop the failed puzzles from ``suite`` and record the verification in its manifest.

    Figures are cumulative over applications at the same budget: puzzles an earlier ``--apply``
    dropped (its ``dropped_ids``) still count as checked and failed."""
    from chesseval.core.suites import rewrite_suite

    manifest = suite.with_suffix(".json")
    old = json.loads(manifest.read_text()) if manifest.exists() else {}
    previous = old.get("verification") or {}
    earlier = set(previous.get("dropped_ids", [])) if previous.get("nodes") == key["nodes"] else set()
    considered = [pid for pid in sorted({p.id for p in puzzles} | earlier) if pid in verdicts]
    failed = sorted(pid for pid in considered if not verdicts[pid]["passed"])
    unchecked = sum(p.id not in verdicts for p in puzzles)
    kept = [p for p in puzzles if p.id not in verdicts or verdicts[p.id]["passed"]]
    record = {
        "command": f"python scripts/verify_suite.py --nodes {key['nodes']} --apply" + (" --partial" if unchecked else ""),
        "rule": RULE,
        **key,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "checked": len(considered),
        "passed": len(considered) - len(failed),
        "failed": len(failed),
        "unchecked": unchecked,
        "complete": not unchecked,
        "dropped_ids": failed,
        "engine_seconds": round(sum(float(verdicts[pid]["seconds"]) for pid in considered)),
    }
    desc = str(old.get("description", "")).split(" Re-verified")[0]
    desc = desc.replace(f"{len(puzzles)} puzzles", f"{len(kept)} puzzles", 1)
    desc += (f" Re-verified at {key['nodes']:,} nodes, MultiPV {key['multipv']}, at every solver move: "
             f"{record['passed']} of {record['checked']} passed, {record['failed']} dropped")
    desc += f"; {unchecked} not verified yet." if unchecked else "."
    rewrite_suite(manifest, kept, description=desc, extra={"verification": record})
    print(f"{suite}: kept {len(kept)} puzzles, dropped {len(puzzles) - len(kept)} now "
          f"({record['failed']} of {record['checked']} checked in all, {unchecked} unchecked); manifest {manifest} updated")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "puzzles" / "default.csv")
    ap.add_argument("--nodes", type=int, default=DEFAULT_NODES)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--nice", type=int, default=10, help="niceness of the workers and their engines (0: none)")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "verify")
    ap.add_argument("--limit", type=int, default=None, help="verify only the first N puzzles (for a timing)")
    ap.add_argument("--apply", action="store_true", help="drop failed puzzles and rewrite the manifest")
    ap.add_argument("--partial", action="store_true",
                    help="with --apply: search nothing, apply the verdicts cached so far (the rest recorded as unchecked)")
    args = ap.parse_args(argv)
    if args.apply and args.limit is not None:
        ap.error("--apply needs the whole suite verified; drop --limit")
    if args.partial and not args.apply:
        ap.error("--partial goes with --apply")
    if args.nodes < 1 or args.workers < 1:
        ap.error(f"--nodes and --workers must be >= 1, got {args.nodes!r} and {args.workers!r}")

    puzzles = load_puzzles(args.suite)
    if args.limit is not None:
        puzzles = puzzles[: args.limit]
    name = engine_name()
    key = cache_key(args.nodes, MiningConfig(nodes=args.nodes), name)
    path = cache_path(args.cache, args.suite, args.nodes)
    t0 = time.monotonic()
    n_new = 0
    n_prev = len(read_verdicts(path, key))
    searching = () if args.partial else run(puzzles, path, key, nodes=args.nodes, workers=args.workers, nice=args.nice)
    for rec in searching:
        n_new += 1
        done = n_prev + n_new
        rate = (time.monotonic() - t0) / n_new
        eta = rate * (len(puzzles) - done) / 60
        print(f"[{done}/{len(puzzles)}] {rec['id']} {'pass' if rec['passed'] else 'FAIL'} "
              f"{rec['seconds']}s  eta {eta:.0f} min", flush=True)
    verdicts = read_verdicts(path, key)
    s = summary(puzzles, verdicts)
    print(f"{name}, {args.nodes} nodes, MultiPV {MULTIPV}: {s['passed']} passed, {s['failed']} failed, "
          f"{s['unchecked']} unchecked; failed: {' '.join(s['failed_ids'])}")
    if args.apply:
        if s["unchecked"] and not args.partial:
            print(f"error: {s['unchecked']} puzzles of {args.suite} are not verified yet; not applying "
                  "(--partial drops the failures found so far and records the rest as unchecked)", file=sys.stderr)
            return 1
        apply_verdicts(args.suite, puzzles, verdicts, key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
