"""How close can a calibrated suite come to real puzzles? The noise floor of the leave-one-player-out check.

``scripts/calibrate_suite.py`` validates the default suite's calibration by leaving each ladder
player out in turn and comparing its headline (the 50%-solve point) on the calibrated suite
with its headline on the real Lichess anchors. This simulates the same check at the same sizes
(700 anchors of known rating, 800 suite puzzles whose feature estimate is off by 300, five flat,
lapsing players like the ladder: scale 700-900, lapse 1-2%) in a world where one difficulty per
puzzle is true for every player, so every difference is noise. It prints the RMS difference,
the share within +/-50 and the share of |z| > 2: what the real table should be compared with.

    python benchmarks/calibration_noise_floor.py [--seeds 20] [--drift 0]

``--drift D`` adds a sixth player D points stronger on the suite than on the anchors (a
family's blind spot) to show what a real misfit looks like. About 3 s per seed.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.core.puzzles import Puzzle  # noqa: E402

PLAYERS = {"p900": (900, 0.45, 0.02), "p1300": (1300, 0.5, 0.02), "p1700": (1700, 0.55, 0.01),
           "p2000": (2000, 0.5, 0.01), "p2300": (2300, 0.5, 0.01)}  # fmt: skip
"""theta, slope (relative to Elo's: scale 400 / slope), lapse."""


def _load_calibration():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("calibrate_suite", ROOT / "scripts" / "calibrate_suite.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["calibrate_suite"] = module
    spec.loader.exec_module(module)
    return module


def _solve(rng: np.random.Generator, theta: float, slope: float, lapse: float, b: np.ndarray) -> np.ndarray:
    return rng.random(b.size) < (1.0 - lapse) / (1.0 + 10.0 ** (-slope * (theta - b) / 400.0))


def one_world(cal, seed: int, drift: float, n_anchors: int = 700, n_suite: int = 800) -> list[dict]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    a_r = rng.uniform(400, 2900, n_anchors).round()
    b_true = rng.uniform(300, 2700, n_suite)
    features = b_true + rng.normal(0, 300, n_suite)
    dummy = Puzzle(id="x", fen="rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", moves=("e2e4", "e7e5"))
    anchors = [dataclasses.replace(dummy, id=f"a{i}", rating=int(r), rating_deviation=75) for i, r in enumerate(a_r)]
    suite = [dataclasses.replace(dummy, id=f"s{i}", rating=0) for i in range(n_suite)]
    truth = {k: (*v, 0.0) for k, v in PLAYERS.items()}
    if drift:
        truth["drift"] = (1500, 0.5, 0.02, drift)
    on_a = {k: dict(zip([p.id for p in anchors], _solve(rng, t, a, lp, a_r), strict=True)) for k, (t, a, lp, _) in truth.items()}
    on_s = {k: dict(zip([p.id for p in suite], _solve(rng, t + d, a, lp, b_true), strict=True))
            for k, (t, a, lp, d) in truth.items()}  # fmt: skip
    fits = {k: cal.fit_player_curve(k, [on_a[k][p.id] for p in anchors], a_r, [75.0] * n_anchors) for k in truth}

    def calibrate(players):  # type: ignore[no-untyped-def]
        resp = np.array([[float(on_s[f.label][p.id]) for f in players] for p in suite])
        ll = cal.response_loglik(resp, players)
        prior = cal.fit_prior(ll, features)
        mean, sd, _ = cal.posterior(ll, prior.intercept + prior.slope * features, prior.sd)
        return mean, sd, prior

    return list(cal.leave_one_player_out(anchors, suite, on_a, on_s, fits, set(truth), calibrate))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--drift", type=float, default=0.0)
    args = ap.parse_args()
    cal = _load_calibration()
    diffs, zs = [], []
    for seed in range(args.seeds):
        rows = one_world(cal, seed, args.drift)
        print(f"seed {seed:2d}: " + " ".join(f"{r['player']} {r['diff']:+d} (z {r['z']:+.1f})" for r in rows), flush=True)
        diffs += [r["diff"] for r in rows if r["player"] != "drift"]
        zs += [r["z"] for r in rows if r["player"] != "drift"]
    d, z = np.array(diffs, dtype=float), np.array(zs, dtype=float)
    print(f"\n{d.size} consistent players over {args.seeds} worlds: RMS difference {np.sqrt(np.mean(d**2)):.0f}, "
          f"within +/-50 {100 * np.mean(np.abs(d) <= 50):.0f}%, |z| > 2 {100 * np.mean(np.abs(z) > 2):.0f}%, "
          f"SD of z {z.std():.2f}, largest |diff| {np.abs(d).max():.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
