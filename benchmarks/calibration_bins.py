"""Where does a ladder player miss the calibrated default suite? Solved against expected, by calibrated rating.

A posterior predictive check of ``scripts/calibrate_suite.py``: the suite is calibrated again
from the cached runs (the calibration players, as shipped), and each ladder player's expected
solves are summed over the puzzles of each calibrated-rating bin, every puzzle's difficulty
integrated over its posterior and the player's curve fitted on the anchors (slope times the
suite's discrimination k). Held-out and check players are out of sample; for the calibration
players it is in sample.

    python benchmarks/calibration_bins.py [PLAYER ...]

PLAYER is a ladder label such as "engine/stockfish depth=3" (default: every ladder player). It
needs the ladder's runs (``python scripts/calibrate_suite.py --runs-only`` makes them) and the
anchors in ``build/calibration``. About 40 s.
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

EDGES = (-math.inf, 1000.0, 1400.0, 1800.0, 2000.0, 2200.0, 2400.0, math.inf)



def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("players", nargs="*", help="ladder labels (default: all)")
    ap.add_argument("--anchors", type=Path, default=ROOT / "build" / "calibration" / "anchors.csv")
    ap.add_argument("--suite", type=Path, default=ROOT / "puzzles" / "default.csv")
    ap.add_argument("--runs-dir", type=Path, default=ROOT / "build" / "calibration" / "runs")
    args = ap.parse_args(argv)
    import calibrate_suite as cs  # scripts/ is on the path (above)
    labels = [p.label for p in cs.LADDER]
    try:
        wanted = [cs.LadderPlayer.parse(t).label for t in args.players] or labels
    except ValueError as exc:
        ap.error(str(exc))
    unknown = [w for w in wanted if w not in labels]
    if unknown:
        ap.error(f"{unknown[0]!r} is not a ladder player; one of {labels!r}")
    if not args.anchors.exists():
        ap.error(f"no anchors at {str(args.anchors)!r}: run python scripts/calibrate_suite.py --runs-only first")

    from chesseval.core.puzzles import load_puzzles
    from chesseval.mining.difficulty import estimate, load_model

    anchors, suite = load_puzzles(args.anchors), load_puzzles(args.suite)
    dirs = [args.runs_dir, ROOT / "runs" / "reference"]
    on_a = {p.label: cs.outcomes(p, args.anchors, anchors, dirs, args.runs_dir, may_run=False) for p in cs.LADDER}
    on_s = {p.label: cs.outcomes(p, args.suite, suite, dirs, args.runs_dir, may_run=False) for p in cs.LADDER}
    a_rating, a_rd = cs.anchor_ratings(anchors)
    fits = {label: cs.fit_player_curve(label, [on_a[label][p.id] for p in anchors], a_rating, a_rd) for label in on_a}
    held = set(cs.HOLDOUT) | set(cs.CHECK_ONLY)
    used = [f for label, f in fits.items() if label not in held and cs.MIN_RATE <= f.solved / f.n <= cs.MAX_RATE]
    features = np.array([float(estimate(p, load_model())) for p in suite])
    responses = np.array([[float(on_s[f.label][p.id]) for f in used] for p in suite])
    fit = cs.fit_suite(responses, used, features)
    k = fit.discrimination
    # Each puzzle's posterior over the grid, as the calibration has it.
    loglik = cs.response_loglik(responses, [dataclasses.replace(f, slope=f.slope * k) for f in used])
    centre = fit.prior.intercept + fit.prior.slope * features
    logpost = loglik - 0.5 * ((cs.B_GRID[None, :] - centre[:, None]) / fit.prior.sd) ** 2
    weights = np.exp(logpost - logpost.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    bins = [(lo, hi, (fit.mean >= lo) & (fit.mean < hi)) for lo, hi in zip(EDGES, EDGES[1:], strict=False)]
    names = [f"<{hi:.0f}" if lo == -math.inf else f"{lo:.0f}+" if hi == math.inf else f"{lo:.0f}-{hi - 1:.0f}"
             for lo, hi, _ in bins]
    print(f"suite discrimination k = {k:.3f}; puzzles per bin: "
          + ", ".join(f"{n} {int(m.sum())}" for n, (_, _, m) in zip(names, bins, strict=True)))
    print(f"{'player':42} {'role':8} " + " ".join(f"{n:>14}" for n in names) + f" {'all':>14}")
    for label in wanted:
        expected = weights @ dataclasses.replace(fits[label], slope=fits[label].slope * k).p_solve(cs.B_GRID)
        observed = np.array([float(on_s[label][p.id]) for p in suite])
        role = "used" if label in {f.label for f in used} else "held out" if label in held else "not used"
        cells = [f"{observed[m].sum():.0f} / {expected[m].sum():.1f}" for _, _, m in bins]
        total = f"{observed.sum():.0f} / {expected.sum():.1f}"
        print(f"{label:42} {role:8} " + " ".join(f"{c:>14}" for c in cells) + f" {total:>14}")
    print("cells: solved / expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
