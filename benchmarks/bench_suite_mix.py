"""Which self-play games give hard puzzles for the engine time: trap games against plain games.

    python benchmarks/bench_suite_mix.py [WORK_DIR]      # default build/suite2

Reads the cache a ``chesseval puzzles build-suite --trap-games K`` run leaves behind
(``WORK_DIR/games.jsonl``): every game record names its design (trap game or plain game) and how many
seconds its one-thread engine job took, so both designs are measured in the same build on the same
machine. Records from before the timing was kept are skipped. Each puzzle is rated with the shipped
difficulty model; per design, prints the games, engine-minutes, puzzles per engine-minute in all
bands and in the hard ones (estimated 1400+ and 1800+), then the ratio plain / traps.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.mining.difficulty import rate_puzzles  # noqa: E402
from chesseval.mining.mined_suite import BANDS, _design, _design_of  # noqa: E402
from chesseval.core.puzzles import Puzzle  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work_dir", nargs="?", default="build/suite2")
    args = ap.parse_args()
    path = Path(args.work_dir) / "games.jsonl"
    with open(path, encoding="utf-8") as fh:
        fh.readline()
        records = [json.loads(line) for line in fh if line.strip()]
    timed = [r for r in records if "seconds" in r]
    print(f"{path}: {len(records)} games, {len(timed)} with timings")
    rates: dict[str, dict[str, float]] = {}
    for name, traps in (("traps", True), ("plain", False)):
        games = [r for r in timed if _design(r) == _design_of(traps)]
        minutes = sum(float(r["seconds"]) for r in games) / 60
        puzzles = rate_puzzles([
            Puzzle(id=d["id"], fen=d["fen"], moves=tuple(d["moves"]), themes=tuple(d["themes"]), game_url=d["game_url"])
            for r in games for d in r["puzzles"]
        ])
        bands = collections.Counter(next((lo for lo in BANDS if lo <= (p.rating or 0) < lo + 200), None) for p in puzzles)
        hard14 = sum(1 for p in puzzles if (p.rating or 0) >= 1400)
        hard18 = sum(1 for p in puzzles if (p.rating or 0) >= 1800)
        if not games or minutes == 0:
            print(f"{name}: no timed game")
            continue
        rates[name] = {"all": len(puzzles) / minutes, "1400+": hard14 / minutes, "1800+": hard18 / minutes}
        hist = " ".join(f"{lo}:{bands.get(lo, 0)}" for lo in BANDS)
        print(f"{name}: {len(games)} games, {minutes:.1f} engine-min ({60 * minutes / len(games):.1f} s/game), "
              f"{len(puzzles)} puzzles = {rates[name]['all']:.2f}/min; 1400+: {hard14} = {rates[name]['1400+']:.3f}/min; "
              f"1800+: {hard18} = {rates[name]['1800+']:.3f}/min\n    {hist}")
    if len(rates) == 2:
        for key in ("all", "1400+", "1800+"):
            base = rates["traps"][key]
            print(f"ratio plain/traps, puzzles per engine-minute, {key}: "
                  + (f"{rates['plain'][key] / base:.2f}x" if base else "traps found none: no ratio"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
