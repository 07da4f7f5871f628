"""The Stockfish node ladder: strict solve rate by rating bucket for each node budget.

Plays ``engine/stockfish -M nodes=N`` for each N through the normal puzzle protocol (prompt,
answer in SAN, parser, strict Lichess judge) and prints one table: a row per rating bucket, a
column per budget. Runs resume, so a second call only prints.

    python benchmarks/engine_ladder.py --suite FILE [--sample 500 --seed 0] [--nodes 1,10,100,1000,10000]
        [--runs-dir /tmp/ladder] [--edges 0,1000,1500,2000,2500]

With ``--sample`` a seeded random subset of the suite is written to ``<runs-dir>/ladder_sample.csv``
and used as the suite; keep ``--runs-dir`` outside the repository when the suite is third-party data.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.engine.report import bucket_labeller  # noqa: E402
from chesseval.core.puzzles import load_puzzles, write_lichess_csv  # noqa: E402
from chesseval.core.records import RunDir  # noqa: E402
from chesseval.api import evaluate  # noqa: E402
from chesseval.core.runner import RunConfig  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", required=True)
    parser.add_argument("--sample", type=int, default=None, help="random subset of this many puzzles")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", default="1,10,100,1000,10000")
    parser.add_argument("--runs-dir", default="/tmp/chesseval-ladder")
    parser.add_argument("--edges", default="0,1000,1500,2000,2500", help="rating bucket edges")
    parser.add_argument("--max-connections", type=int, default=4)
    args = parser.parse_args()

    runs_dir = Path(args.runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    suite = args.suite
    if args.sample:
        puzzles = load_puzzles(args.suite)
        chosen = sorted(random.Random(args.seed).sample(puzzles, args.sample), key=lambda p: p.id)
        suite = str(runs_dir / "ladder_sample.csv")
        with open(suite, "w", encoding="utf-8", newline="") as fh:
            write_lichess_csv(chosen, fh)
    budgets = [int(n) for n in args.nodes.split(",")]
    label = bucket_labeller([int(e) for e in args.edges.split(",")])
    table: dict[int, dict[str, list[int]]] = {}
    for n in budgets:
        start = time.perf_counter()
        result = evaluate(
            RunConfig(model="engine/stockfish", suite=suite, model_options={"nodes": str(n)}, runs_dir=runs_dir, max_connections=args.max_connections)
        )
        per: dict[str, list[int]] = {}
        for rec in RunDir(result.path).records():
            for key in (label(rec.get("rating")), "all"):
                cell = per.setdefault(key, [0, 0])
                cell[0] += rec.get("verdict") == "correct"
                cell[1] += 1
        table[n] = per
        print(f"nodes={n}: {result.path} ({time.perf_counter() - start:.1f}s)", file=sys.stderr)

    keys = sorted({k for per in table.values() for k in per if k != "all"}, key=lambda k: int(k.split("-")[0].rstrip("+").lstrip("<")))
    keys.append("all")
    head = f"{'rating':>10} {'n':>5} " + " ".join(f"{'nodes=' + str(n):>12}" for n in budgets)
    print(head)
    for k in keys:
        n_puzzles = table[budgets[0]].get(k, [0, 0])[1]
        cells = []
        for n in budgets:
            solved, total = table[n].get(k, [0, 0])
            cells.append(f"{100 * solved / total:11.1f}%" if total else f"{'-':>12}")
        print(f"{k:>10} {n_puzzles:>5} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
