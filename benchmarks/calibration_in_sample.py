"""Which rows of the calibration's held-out table are evidence? In-sample players against held-out ones, simulated.

``scripts/calibrate_suite.py`` prints every ladder player's headline on the anchors and on the
calibrated suite. For a player used in the calibration the comparison is in sample: its own
answers placed the puzzles. This simulates the default suite's calibration at its sizes (710
anchors of known rating, 895 suite puzzles whose feature estimate is off by N(0, 300), every
player's curve 1.35 times steeper on the suite) in worlds where the model is true up to a
*family effect*: every puzzle is a little easier or harder for one family of players (search,
Stockfish) than its one difficulty says, the same on the anchors and on the suite, so the suite
agrees with the anchors and every difference is the method's or noise. The ladder mirrors the
real one: used players at 950 and 1720 (search-like) and 2100, 2290 and 2900 (Stockfish-like);
held out, one search-like player at 1230, four Stockfish-like at 2040–2550, and three
players of families of their own (independent) at 1500, 2000 and 2300.

    python benchmarks/calibration_in_sample.py [--seeds 8] [--family-sd 250] [--slope 0.7]

It prints each player's mean difference (suite minus anchors) over the worlds, its SD, and the
SE of the mean. About 7 s per world.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # calibrate_suite, the model these benchmarks exercise

USED = {"search 950": ("search", 950.0), "search 1720": ("search", 1720.0), "stockfish 2100": ("stockfish", 2100.0),
        "stockfish 2290": ("stockfish", 2290.0), "stockfish 2900": ("stockfish", 2900.0)}
HELD = {"search 1230": ("search", 1230.0), "stockfish 2040": ("stockfish", 2040.0),
        "stockfish 2190": ("stockfish", 2190.0), "stockfish 2400": ("stockfish", 2400.0),
        "stockfish 2550": ("stockfish", 2550.0), "independent 1500": ("own-1", 1500.0),
        "independent 2000": ("own-2", 2000.0), "independent 2300": ("own-3", 2300.0)}
SHARPNESS = 1.35
"""The suite's discrimination fitted on the default suite: every curve that much steeper there."""
LAPSE = 0.01



def world(cs, seed: int, family_sd: float, slope: float) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    """One simulated world: every player's headline on the calibrated suite minus on the anchors."""
    from chesseval.core.puzzles import Puzzle

    rng = np.random.default_rng(seed)
    n_anchors, n_suite = 710, 895
    a_rating = rng.uniform(400, 2900, n_anchors).round()
    b_true = rng.uniform(300, 2700, n_suite)
    features = b_true + rng.normal(0, 300, n_suite)
    players = {**USED, **HELD}
    families = sorted({fam for fam, _ in players.values()})
    effect = {fam: (rng.normal(0, family_sd, n_anchors), rng.normal(0, family_sd, n_suite)) for fam in families}
    dummy = Puzzle(id="x", fen="rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", moves=("e2e4", "e7e5"))
    anchors = [dataclasses.replace(dummy, id=f"a{i}", rating=int(r), rating_deviation=75) for i, r in enumerate(a_rating)]
    suite = [dataclasses.replace(dummy, id=f"s{i}", rating=0) for i in range(n_suite)]

    def answers(theta: float, b: np.ndarray, eff: np.ndarray, sharp: float) -> np.ndarray:
        p = (1 - LAPSE) / (1 + 10 ** (-slope * sharp * (theta - b - eff) / 400))
        return rng.random(b.size) < p

    on_a = {k: dict(zip([p.id for p in anchors], answers(t, a_rating, effect[f][0], 1.0), strict=True))
            for k, (f, t) in players.items()}
    on_s = {k: dict(zip([p.id for p in suite], answers(t, b_true, effect[f][1], SHARPNESS), strict=True))
            for k, (f, t) in players.items()}
    rds = [75.0] * n_anchors
    used = [cs.fit_player_curve(k, [on_a[k][p.id] for p in anchors], a_rating, rds) for k in USED]
    responses = np.array([[float(on_s[f.label][p.id]) for f in used] for p in suite])
    fit = cs.fit_suite(responses, used, features)
    out: dict[str, int | None] = {}
    for k in players:
        on_anchors = cs._curve([on_a[k][p.id] for p in anchors], a_rating, rds)
        on_suite = cs._curve([on_s[k][p.id] for p in suite], [float(x) for x in fit.mean], [float(x) for x in fit.sd])
        out[k] = cs._diff(on_suite, on_anchors)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--family-sd", type=float, default=250.0,
                    help="SD of a puzzle's family effect in rating points (0: one difficulty for every player)")
    ap.add_argument("--slope", type=float, default=0.7, help="every player's slope on the anchors, relative to Elo's")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error(f"--seeds {args.seeds!r}: at least 2 worlds are needed for an SD")
    import calibrate_suite as cs  # scripts/ is on the path (above)
    diffs: dict[str, list[float]] = {k: [] for k in {**USED, **HELD}}
    for seed in range(args.seeds):
        got = world(cs, seed, args.family_sd, args.slope)
        print(f"world {seed}: " + ", ".join(f"{k} {d:+d}" for k, d in got.items() if d is not None), flush=True)
        for k, d in got.items():
            if d is not None:
                diffs[k].append(float(d))
    print(f"\nfamily effect SD {args.family_sd:g}, slope {args.slope:g}, suite sharpness {SHARPNESS}, {args.seeds} worlds")
    print(f"{'player':18} {'role':9} {'mean diff':>9} {'SD':>5} {'SE of mean':>10}")
    for k, v in diffs.items():
        arr = np.array(v)
        role = "in sample" if k in USED else "held out"
        if arr.size >= 2:
            sd = float(arr.std(ddof=1))
            print(f"{k:18} {role:9} {arr.mean():+9.0f} {sd:5.0f} {sd / math.sqrt(arr.size):10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
