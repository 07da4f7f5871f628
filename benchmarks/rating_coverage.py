"""Rating estimator: interval coverage by simulation, and the speed of the vectorised fit.

Too slow for the test suite (tests/test_rating.py runs the headline case). Prints, per scenario,
the mean absolute error and how often each 95% interval covers the true rating:

- profile likelihood (chesseval's default), Wald (estimate +/- 1.96 SE), and the puzzle bootstrap
  with and without jittered puzzle ratings;
- censored runs (everything or nothing solved) count as covered when the one-sided bound holds.

Speed: fitting many players in one vectorised call, against a baseline measured in the same run
(one ``estimate_rating`` call per player).

    python benchmarks/rating_coverage.py [--players 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chesseval.core.rating import bootstrap_interval, estimate_rating, expected_score, fit_many


def simulate(rng: np.random.Generator, n_puzzles: int, lo: float, hi: float, players: np.ndarray,
             rd_high: float = 120.0, jitter_truth: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    r = rng.uniform(lo, hi, n_puzzles)
    rd = rng.uniform(60, rd_high, n_puzzles)
    if jitter_truth:
        p = expected_score(players[:, None], r + rng.normal(size=(players.size, n_puzzles)) * rd)
    else:
        p = expected_score(players[:, None], r, rd)
    return rng.random(p.shape) < p, r, rd


def profile_and_wald(solved: np.ndarray, r: np.ndarray, rd: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    est, low, high = fit_many(solved, r, rd)
    finite = np.isfinite(est)
    cover = (low <= truth) & (truth <= high)
    # Wald: SE from the observed information at the estimate (finite rows only).
    g = 1.0 / np.sqrt(1.0 + 3.0 * (np.log(10) / 400 * rd) ** 2 / np.pi**2)
    e = expected_score(np.where(finite, est, 0.0)[:, None], r, rd)
    info = (np.log(10) / 400) ** 2 * (g**2 * e * (1 - e)).sum(axis=1)
    se = 1 / np.sqrt(info)
    wald = finite & (est - 1.96 * se <= truth) & (truth <= est + 1.96 * se)
    return {
        "mae": float(np.mean(np.abs(est[finite] - truth[finite]))) if finite.any() else float("nan"),
        "profile": float(np.mean(cover)),
        "wald": float(np.mean(wald[finite])) if finite.any() else float("nan"),
        "censored": float(np.mean(~finite)),
        "width": float(np.mean((high - low)[finite])) if finite.any() else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--players", type=int, default=2000)
    ap.add_argument("--boot-players", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    scenarios = [
        ("1000 puzzles 500-2700, players 800-2400", 1000, 500, 2700, (800, 2400), False, 120),
        ("200 puzzles 500-2700, players 800-2400", 200, 500, 2700, (800, 2400), False, 120),
        ("50 puzzles 500-2700, players 800-2400", 50, 500, 2700, (800, 2400), False, 120),
        ("30 puzzles 600-1400, players 1800-2400 (near all solved)", 30, 600, 1400, (1800, 2400), False, 120),
        ("1000 puzzles, true puzzle ratings off by N(0, RD^2), RD 60-250", 1000, 500, 2700, (800, 2400), True, 250),
    ]
    print(f"{'scenario':<66} {'MAE':>6} {'profile':>8} {'Wald':>6} {'censored':>9} {'width':>6}")
    for name, n, lo, hi, (plo, phi), jitter, rd_high in scenarios:
        truth = rng.uniform(plo, phi, args.players)
        solved, r, rd = simulate(rng, n, lo, hi, truth, rd_high, jitter)
        m = profile_and_wald(solved, r, rd, truth)
        print(f"{name:<66} {m['mae']:6.1f} {m['profile']:8.1%} {m['wald']:6.1%} {m['censored']:9.1%} {m['width']:6.0f}")

    print(f"\nbootstrap (1000 resamples), {args.boot_players} players, 200 puzzles, true ratings jittered by N(0, RD^2), RD 60-250:")
    truth = rng.uniform(800, 2400, args.boot_players)
    solved, r, rd = simulate(rng, 200, 500, 2700, truth, 250, True)
    hits = {"plain": 0, "jittered": 0}
    for i in range(args.boot_players):
        for mode, jitter in (("plain", False), ("jittered", True)):
            lo_b, hi_b = bootstrap_interval(solved[i], r, rd, n_boot=1000, seed=i, jitter=jitter)
            hits[mode] += lo_b <= truth[i] <= hi_b
    for mode, k in hits.items():
        print(f"  {mode:<9} coverage {k / args.boot_players:.1%}")

    m = 300
    truth = rng.uniform(800, 2400, m)
    solved, r, rd = simulate(rng, 1000, 500, 2700, truth)
    t0 = time.perf_counter()
    for i in range(m):
        estimate_rating(solved[i], r, rd)
    loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit_many(solved, r, rd)
    vec = time.perf_counter() - t0
    print(f"\nspeed, {m} players x 1000 puzzles with profile intervals: one call per player {loop:.2f} s "
          f"(baseline), one vectorised call {vec:.2f} s: {loop / vec:.1f}x")


if __name__ == "__main__":
    main()
