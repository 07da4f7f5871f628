"""How close can a calibrated suite come to real puzzles? The noise floor of the leave-one-player-out check.

``scripts/calibrate_suite.py`` validates the default suite's calibration by leaving each ladder
player out in turn and comparing its headline (the 50%-solve point) on the calibrated suite
with its headline on the real Lichess anchors. This simulates the same check at the same sizes
(700 anchors of known rating, 800 suite puzzles whose feature estimate is off by 300, five flat,
lapsing players like the ladder: scale 700-900, lapse 1-2%) in a world where one difficulty per
puzzle is true for every player, so every difference is noise. It prints the RMS difference,
the share within +/-50 and the share of |z| > 2: what the real table should be compared with.

    python benchmarks/calibration_noise_floor.py [--seeds 20] [--drift 0] [--sharpness 1] [--discrimination K]
        [--anchors 700] [--suite-size 800]

``--drift D`` adds a sixth player D points stronger on the suite than on the anchors (a
family's blind spot) to show what a real misfit looks like. ``--sharpness S`` makes every
player's curve S times steeper on the suite than on the anchors (as on the mined default suite,
where the fitted suite discrimination is about 1.35); ``--discrimination 1`` then calibrates with
the plain model, which ignores that. ``--anchors`` and ``--suite-size`` change the sizes: how
many puzzles a check at +/-50 would need. About 30 s per seed at the default sizes (the discrimination is fitted in every
fold).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # calibrate_suite, the model these benchmarks exercise



def _size(text: str) -> int:
    """A puzzle count of at least 50: fewer cannot place a curve."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 50:
        raise argparse.ArgumentTypeError(f"a whole number of puzzles >= 50 expected, got {text!r}")
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--drift", type=float, default=0.0)
    ap.add_argument("--sharpness", type=float, default=1.0,
                    help="every player's slope on the suite is this many times its slope on the anchors (default 1)")
    ap.add_argument("--discrimination", type=float, default=None,
                    help="calibrate with this suite discrimination instead of fitting it (1: the plain model)")
    ap.add_argument("--anchors", type=_size, default=700, help="anchor puzzles per world (the real calibration has 710)")
    ap.add_argument("--suite-size", type=_size, default=800, help="suite puzzles per world (the default suite has 895)")
    args = ap.parse_args()
    import calibrate_suite as cal  # scripts/ is on the path (above)
    diffs, zs = [], []
    for seed in range(args.seeds):
        rows, _ = cal.simulate_leave_one_player_out(seed, args.drift, n_anchors=args.anchors, n_suite=args.suite_size,
                                                    sharpness=args.sharpness, discrimination=args.discrimination)
        print(f"seed {seed:2d}: " + " ".join(f"{r['player']} {r['diff']:+d} (z {r['z']:+.1f})" for r in rows)
              + f"; fitted k {min(r['discrimination'] for r in rows):.2f}-{max(r['discrimination'] for r in rows):.2f}",
              flush=True)
        diffs += [r["diff"] for r in rows if r["player"] != "drift"]
        zs += [r["z"] for r in rows if r["player"] != "drift"]
    d, z = np.array(diffs, dtype=float), np.array(zs, dtype=float)
    print(f"\n{d.size} consistent players over {args.seeds} worlds ({args.anchors} anchors, {args.suite_size} suite puzzles): RMS difference {np.sqrt(np.mean(d**2)):.0f}, "
          f"within +/-50 {100 * np.mean(np.abs(d) <= 50):.0f}%, |z| > 2 {100 * np.mean(np.abs(z) > 2):.0f}%, "
          f"SD of z {z.std():.2f}, largest |diff| {np.abs(d).max():.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
