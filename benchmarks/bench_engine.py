"""Positions checked per second: one Stockfish process vs the engine pool, in one run.

Each "check" is what re-scoring does for one played move: a free search of the puzzle position
plus, when the played move is not the engine's choice, a search restricted to it (the played move
is the puzzle's first solution move). The cache is off, so every check really searches. The two
set-ups alternate (1, pool, 1, pool, ...) so that load from other processes hits both alike;
the ratio of total throughputs is printed.

    python benchmarks/bench_engine.py [--puzzles FILE] [-n 200] [--nodes 20000] [--rounds 2] [--processes N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import chess  # noqa: E402

from chesseval.engine import AnalysisLimit, load_engine_config  # noqa: E402
from chesseval.engine_check import check_move  # noqa: E402
from chesseval.engine_pool import EnginePool  # noqa: E402
from chesseval.puzzles import load_puzzles  # noqa: E402


async def _bench(positions: list[tuple[chess.Board, chess.Move]], processes: int, limit: AnalysisLimit) -> tuple[float, int]:
    config = load_engine_config()
    async with EnginePool(config, processes=processes, cache=False) as pool:
        # Start every engine before the clock runs: startup is not checking.
        await asyncio.gather(*(pool._start(slot) for slot in pool._slots))  # noqa: SLF001
        pool._queue()  # noqa: SLF001
        pool.engine_name = pool.engine_name or "?"
        queue: asyncio.Queue[tuple[chess.Board, chess.Move]] = asyncio.Queue()
        for item in positions:
            queue.put_nowait(item)

        async def worker() -> None:
            while not queue.empty():
                board, move = queue.get_nowait()
                await check_move(pool, board, move, limit)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(2 * processes)))
        return time.perf_counter() - start, pool.stats.searches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--puzzles", default=str(ROOT.parent / "shared" / "data" / "lichess_sample.csv"))
    parser.add_argument("-n", type=int, default=200, help="positions (default 200)")
    parser.add_argument("--nodes", type=int, default=20_000, help="node budget per search (default 20000)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="pool size (default: cores)")
    args = parser.parse_args()

    puzzles = load_puzzles(args.puzzles, limit=args.n)
    positions = [(p.board(), chess.Move.from_uci(p.solution[0])) for p in puzzles]
    limit = AnalysisLimit(nodes=args.nodes, time=30.0)
    print(f"{len(positions)} positions from {args.puzzles}, {limit.key}, pool of {args.processes}, cores={os.cpu_count()}, loadavg={os.getloadavg()[0]:.2f}")
    totals = {1: [0.0, 0], args.processes: [0.0, 0]}
    for r in range(args.rounds):
        for procs in (1, args.processes):
            seconds, searches = asyncio.run(_bench(positions, procs, limit))
            totals[procs][0] += seconds
            totals[procs][1] += len(positions)
            print(f"round {r + 1}: {procs} engine(s): {len(positions) / seconds:7.1f} positions/s ({searches} searches, {seconds:.2f}s)")
    single = totals[1][1] / totals[1][0]
    pool = totals[args.processes][1] / totals[args.processes][0]
    print(f"1 engine: {single:.1f} positions/s; pool of {args.processes}: {pool:.1f} positions/s; ratio {pool / single:.2f}x")
    print(f"loadavg after: {os.getloadavg()[0]:.2f} (other processes on the machine disturb the ratio when this is above the core count)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
