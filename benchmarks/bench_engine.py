"""Positions checked per second: one Stockfish process vs the engine pool, in one run.

Each "check" is what re-scoring does for one played move: a free search of the puzzle position
plus, when the played move is not the engine's choice, a search restricted to it (the played move
is the puzzle's first solution move). The cache is off, so every check really searches. The two
set-ups alternate (1, pool, 1, pool, ...) so that load from other processes hits both alike;
the ratio of total throughputs is printed, with the CPU the engines actually got (from /proc),
since other processes on the machine can keep the pool from getting all cores.

    python benchmarks/bench_engine.py [--puzzles FILE] [-n 60] [--nodes 200000] [--rounds 2] [--processes N]
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

from chesseval.engine.stockfish import AnalysisLimit, load_engine_config  # noqa: E402
from chesseval.engine.check import check_move  # noqa: E402
from chesseval.engine.pool import EnginePool  # noqa: E402
from chesseval.core.puzzles import load_puzzles  # noqa: E402


def _cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (Linux /proc), to see how much CPU the engines got."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _bench(positions: list[tuple[chess.Board, chess.Move]], processes: int, limit: AnalysisLimit) -> tuple[float, int, float, float]:
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

        pids = pool.pids()
        cpu0 = sum(_cpu_seconds(pid) for pid in pids)
        own0 = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(2 * processes)))
        wall = time.perf_counter() - start
        cores = (sum(_cpu_seconds(pid) for pid in pids) - cpu0) / wall
        harness = (time.process_time() - own0) / wall
        return wall, pool.stats.searches, cores, harness


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--puzzles", default=str(ROOT.parent / "shared" / "data" / "lichess_sample.csv"))
    parser.add_argument("-n", type=int, default=60, help="positions (default 60)")
    parser.add_argument("--nodes", type=int, default=200_000, help="node budget per search (default 200000, the standard limit)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="pool size (default: cores)")
    args = parser.parse_args()

    puzzles = load_puzzles(args.puzzles, limit=args.n)
    positions = [(p.board(), chess.Move.from_uci(p.solution[0])) for p in puzzles]
    limit = AnalysisLimit(nodes=args.nodes, time=30.0)
    print(f"{len(positions)} positions from {args.puzzles}, {limit.key}, pool of {args.processes}, cores={os.cpu_count()}, loadavg={os.getloadavg()[0]:.2f}")
    totals = {1: [0.0, 0], args.processes: [0.0, 0]}
    cpu = {1: 0.0, args.processes: 0.0}
    for r in range(args.rounds):
        for procs in (1, args.processes):
            seconds, searches, cores, harness = asyncio.run(_bench(positions, procs, limit))
            totals[procs][0] += seconds
            totals[procs][1] += len(positions)
            cpu[procs] += cores * seconds
            print(
                f"round {r + 1}: {procs} engine(s): {len(positions) / seconds:7.1f} positions/s ({searches} searches, {seconds:.2f}s; "
                f"the engines got {cores:.2f} cores of CPU, this Python process {harness:.2f})"
            )
    single = totals[1][1] / totals[1][0]
    pool = totals[args.processes][1] / totals[args.processes][0]
    print(f"1 engine: {single:.1f} positions/s; pool of {args.processes}: {pool:.1f} positions/s; ratio {pool / single:.2f}x")
    # Throughput per CPU-second the engines received: the pool's own efficiency, whatever share
    # of the machine the scheduler gave this session.
    eff1 = totals[1][1] / cpu[1] if cpu[1] else float("nan")
    effn = totals[args.processes][1] / cpu[args.processes] if cpu[args.processes] else float("nan")
    print(f"per engine CPU-second: 1 engine {eff1:.1f}, pool {effn:.1f} positions (pool efficiency {effn / eff1:.2f})")
    print(
        f"loadavg after: {os.getloadavg()[0]:.2f}. When other processes load the machine the pool cannot get "
        f"{args.processes} cores: compare the 'cores of CPU' figures to see how much it got."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
