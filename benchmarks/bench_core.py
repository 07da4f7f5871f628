"""What the harness itself costs, next to plainly replaying the same lines with python-chess.

    python benchmarks/bench_core.py [--puzzles ../shared/data/lichess_sample.csv] [--limit N]

Prints, measured in this one run:
- baseline: puzzles/s for replaying every solution line with python-chess (Board(fen) + push);
- harness cost per player call (prompt + parse + judge + record, excluding the player's own time),
  median µs;
- builtin/oracle end to end through ``chesseval.evaluate`` (records, results): puzzles/s;
- the ratio of the two rates.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import chess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.providers.builtin import OraclePlayer  # noqa: E402
from chesseval.core.puzzles import load_puzzles  # noqa: E402
from chesseval.core.records import RunDir  # noqa: E402
from chesseval.api import evaluate  # noqa: E402
from chesseval.core.runner import RunConfig, play_puzzle  # noqa: E402


def replay(puzzles: list) -> float:
    t0 = time.perf_counter()
    for p in puzzles:
        board = chess.Board(p.fen)
        for uci in p.moves:
            board.push(board.parse_uci(uci))
    return time.perf_counter() - t0


async def per_call_costs(puzzles: list, out: Path) -> list[float]:
    player = OraclePlayer()
    run = RunDir.create(out, suite="bench", model="builtin/oracle", header={})
    costs = []
    for p in puzzles:
        t0 = time.perf_counter()
        rec = await play_puzzle(p, player)
        t1 = time.perf_counter()
        run.append(rec)
        t2 = time.perf_counter()
        player_time = sum(t.get("latency_s") or 0.0 for t in rec["turns"])
        costs.append(((t1 - t0) - player_time + (t2 - t1)) / len(rec["turns"]))
    run.close()
    return costs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--puzzles", default=str(ROOT.parent / "shared" / "data" / "lichess_sample.csv"))
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    puzzles = load_puzzles(args.puzzles, limit=args.limit)
    n = len(puzzles)
    turns = sum(len(p.solution) for p in puzzles)
    print(f"{n} puzzles, {turns} solver moves, from {args.puzzles}")

    base = replay(puzzles)
    print(f"baseline  python-chess replay of the lines: {n / base:10.0f} puzzles/s  ({base:.2f} s)")

    with tempfile.TemporaryDirectory() as tmp:
        costs = asyncio.run(per_call_costs(puzzles, Path(tmp) / "a"))
        med = statistics.median(costs) * 1e6
        print(f"harness   cost per player call (prompt+parse+judge+record): median {med:8.0f} µs, p90 {statistics.quantiles(costs, n=10)[-1] * 1e6:.0f} µs")
        t0 = time.perf_counter()
        result = evaluate(RunConfig(model="builtin/oracle", suite=args.puzzles, limit=args.limit, runs_dir=Path(tmp) / "b", max_connections=8))
        wall = time.perf_counter() - t0
    solved = result.results["overall"]["solve_rate"]
    print(f"oracle    end to end via chesseval.evaluate:   {n / wall:10.0f} puzzles/s  ({wall:.2f} s, solve rate {100 * solved:.2f}%)")
    print(f"ratio     oracle end-to-end / replay baseline: {base / wall:.3f}  (harness is {wall / base:.1f}x the cost of bare replay)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
