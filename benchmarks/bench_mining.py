"""Mining speed with 2 workers against 1, on the same 100 self-play games, in one run.

    python benchmarks/bench_mining.py [--pgn build/suite/games.pgn|build/suite/games.jsonl] [--games 100] [--nodes 100000]

Without --pgn (or if the file is missing) the games are made first with ``chesseval puzzles
selfplay`` settings (seed 7, which takes a while). Prints both wall times, the ratio, the machine
load before and after (the ratio is only meaningful on an otherwise idle machine), and checks that
both runs produce byte-identical CSV output.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.mining.miner import MiningConfig, iter_games, mine_pgn  # noqa: E402
from chesseval.core.puzzles import write_lichess_csv  # noqa: E402


def _csv(puzzles) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    write_lichess_csv(puzzles, buf, rating_source=True)
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pgn", default=str(ROOT / "build" / "suite" / "games.pgn"))
    ap.add_argument("--games", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=100_000)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_mining_"))
    src = Path(args.pgn)
    if src.suffix == ".jsonl" and src.exists():  # the suite builder's cache of games
        import json

        with open(src, encoding="utf-8") as fh:
            fh.readline()
            texts = [json.loads(line)["pgn"] for line in fh][: args.games]
    elif src.exists():
        texts = [t for _, t in iter_games(src)][: args.games]
    else:
        from chesseval.mining.selfplay import SelfPlayConfig, play_games

        print(f"{src} missing: playing {args.games} self-play games first (seed 7, 2 workers)")
        texts = play_games(args.games, 7, SelfPlayConfig(), workers=2)
    if len(texts) < args.games:
        print(f"warning: only {len(texts)} games available in {src}")
    pgn = tmp / "games.pgn"
    pgn.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    config = MiningConfig(nodes=args.nodes)
    print(f"{len(texts)} games, nodes={args.nodes}, cpus={os.cpu_count()}, load before {os.getloadavg()[0]:.2f}")
    times = {}
    outputs = {}
    for workers in (1, 2):
        t = time.perf_counter()
        puzzles = mine_pgn(pgn, config, workers=workers)
        times[workers] = time.perf_counter() - t
        outputs[workers] = _csv(puzzles)
        print(f"workers={workers}: {times[workers]:.1f}s, {len(puzzles)} puzzles, load {os.getloadavg()[0]:.2f}", flush=True)
    same = outputs[1] == outputs[2]
    print(f"speed-up 2 vs 1 workers: {times[1] / times[2]:.2f}x; identical output: {same}")
    if os.getloadavg()[0] > 1.5:
        print("note: the machine was busy with other work; the ratio is disturbed")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
