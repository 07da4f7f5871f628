"""Puzzles per CPU-minute of the self-play → mine pipeline: branch games against the earlier design.

    python benchmarks/bench_selfplay.py [--games 24] [--seed 11] [--nodes 100000] [--workers 2]

Both designs play the same games (same seed and indices) and mine them at the same budget, in one
run on one machine:

* baseline: a side plays the first trap it finds into the game itself (20 random tries, no
  prefilter), as the suite builder did before branch games;
* current: the default :class:`chesseval.mining.selfplay.SelfPlayConfig` (a quick MultiPV-2 prefilter,
  every trap written as its own branch game while the main game goes on).

Prints, per design: wall time, puzzles mined, distinct starting positions, puzzles per CPU-minute
and the estimated-rating bands they fall in; then the ratio current / baseline of puzzles per
CPU-minute. The ratio only means something on an otherwise idle machine (the load is printed).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.mining.difficulty import rate_puzzles  # noqa: E402
from chesseval.mining.mined_suite import BANDS, play_and_mine  # noqa: E402
from chesseval.mining.miner import MiningConfig, merge_puzzles, open_engine  # noqa: E402
from chesseval.mining.selfplay import SelfPlayConfig  # noqa: E402

BASELINE = SelfPlayConfig(branch_traps=False, trap_prefilter_nodes=0, trap_tries=20, trap_rate=(0.3, 0.8), traps_per_position=1)
CURRENT = SelfPlayConfig()

_W: dict[str, object] = {}


def _init(nodes: int) -> None:
    _W["engine"] = open_engine(None, threads=1, hash_mb=16)
    _W["mining"] = MiningConfig(nodes=nodes)


def _job(job: tuple[SelfPlayConfig, int, int]):  # type: ignore[no-untyped-def]
    config, seed, index = job
    _, found = play_and_mine(_W["engine"], config, _W["mining"], seed, index)  # type: ignore[arg-type]
    return [p for p, _ in found]


def _measure(name: str, config: SelfPlayConfig, args: argparse.Namespace) -> float:
    jobs = [(config, args.seed, i) for i in range(args.games)]
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers, initializer=_init, initargs=(args.nodes,)) as pool:
        parts = pool.map(_job, jobs, chunksize=1)
    wall = time.perf_counter() - start
    puzzles = rate_puzzles(merge_puzzles(parts))
    positions = len({p.fen for p in puzzles})
    per_min = len(puzzles) / (wall * args.workers / 60)
    bands = collections.Counter(next((lo for lo in BANDS if lo <= (p.rating or 0) < lo + 200), None) for p in puzzles)
    hist = " ".join(f"{lo}:{bands.get(lo, 0)}" for lo in BANDS)
    print(f"{name:<9} {wall:7.1f}s  {len(puzzles):4d} puzzles  {positions:4d} positions  {per_min:6.2f} puzzles/CPU-min  "
          f"<600:{bands.get(None, 0)} {hist}  load {os.getloadavg()[0]:.2f}", flush=True)
    return per_min


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--games", type=int, default=24)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    print(f"{args.games} games per design, seed {args.seed}, mining nodes={args.nodes}, workers={args.workers}, "
          f"cpus={os.cpu_count()}, load before {os.getloadavg()[0]:.2f}")
    print(f"baseline: {dataclasses.asdict(BASELINE)}")
    base = _measure("baseline", BASELINE, args)
    cur = _measure("current", CURRENT, args)
    print(f"ratio current/baseline (puzzles per CPU-minute): {cur / base:.2f}x" if base else "baseline found no puzzle: no ratio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
