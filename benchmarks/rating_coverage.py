"""Rating estimator: interval coverage by simulation, and the speed of the vectorised fit.

Too slow for the test suite (tests/test_rating.py runs the headline case). Prints, per scenario,
the mean absolute error and how often each 95% interval covers the true rating:

- profile likelihood (chesseval's default), Wald (estimate +/- 1.96 SE), and the puzzle bootstrap
  with and without jittered puzzle ratings;
- censored runs (everything or nothing solved) count as covered when the one-sided bound holds.

The fitted curve (free slope and lapse, :func:`chesseval.core.rating.fit_curve`): players whose true
curves are flatter than Elo's and players who lapse, on several suites; coverage of the
50%-solve point by the curve's profile interval and by the Elo interval, mean absolute error,
median interval width.

Speed: fitting many players in one vectorised call, against a baseline measured in the same run
(one ``estimate_rating`` call per player).

    python benchmarks/rating_coverage.py [--players 2000] [--curve-players 400] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chesseval.core.rating import Q, bootstrap_interval, curve_interval_many, estimate_rating, expected_score, fit_curve_many, fit_many


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


def curve_coverage(rng: np.random.Generator, players: int) -> None:
    """Coverage of the 50%-solve point for players with flat and lapsing curves."""
    # name, puzzles, rating range (or bucket midpoints), RD, slope a, lapse, player range
    scenarios = [
        ("Elo-shaped players, 400 puzzles 600-2600", 400, (600, 2600), 75, 1.0, 0.0, (1000, 2200)),
        ("flat (scale 800), 400 puzzles 600-2600", 400, (600, 2600), 75, 0.5, 0.0, (1000, 2200)),
        ("flat + lapse 15%, 400 puzzles 600-2600", 400, (600, 2600), 75, 0.6, 0.15, (1000, 2200)),
        ("very flat (1300) + lapse 30%, 400 puzzles", 400, (600, 2600), 75, 0.3, 0.3, (1200, 2200)),
        ("flat + lapse 10%, 150 puzzles 600-2600", 150, (600, 2600), 75, 0.55, 0.1, (1000, 2200)),
        ("flat + lapse 10%, RD 345 (estimated ratings)", 400, (600, 2600), 345, 0.55, 0.1, (1000, 2200)),
        ("flat, 300 puzzles 1400-2199 only", 300, (1400, 2199), 75, 0.55, 0.0, (1400, 2200)),
        ("LLM-like: 3 buckets (1000/1400/1800, RD 138), 140 puzzles", 140, None, 138, 0.4, 0.1, (1100, 1900)),
    ]
    print(f"\ncurve fit (slope + lapse, default priors), {players} players per scenario: coverage of the true 50% point")
    print(f"{'scenario':<60} {'MAE':>6} {'curve':>7} {'Elo':>7} {'width':>6} {'s':>5}")
    for name, n, span, rd0, a, lapse, (plo, phi) in scenarios:
        start = time.perf_counter()
        r = rng.choice([1000.0, 1400.0, 1800.0], n) if span is None else rng.uniform(*span, n)
        rd = np.full(n, float(rd0))
        theta = rng.uniform(plo, phi, players)
        h = 1.0 / np.sqrt(1.0 + 3.0 * (a * Q * rd) ** 2 / np.pi**2)
        # Small RDs enter through Glicko's attenuation; large ones and buckets as real puzzle
        # ratings drawn around the listed one (N(r, RD^2), or uniform over the 400-point bucket).
        if span is None:
            r_true, h = r + rng.uniform(-200, 200, (players, n)), 1.0
        elif rd0 > 100:
            r_true, h = r + rng.normal(size=(players, n)) * rd, 1.0
        else:
            r_true = r
        p = (1.0 - lapse) / (1.0 + np.exp(-a * h * Q * (theta[:, None] - r_true)))
        solved = (rng.random(p.shape) < p).astype(float)
        truth = theta + np.log(1.0 - 2.0 * lapse) / (a * Q)
        fit = fit_curve_many(solved, r, rd)
        low, high = curve_interval_many(solved, r, rd, fit)
        _, elo_low, elo_high = fit_many(solved, r, rd)
        ok = np.isfinite(fit["r50"])
        cover = np.mean((low <= truth) & (truth <= high))
        elo_cover = np.mean((elo_low <= truth) & (truth <= elo_high))
        print(f"{name:<60} {np.mean(np.abs(fit['r50'][ok] - truth[ok])):6.0f} {cover:7.1%} {elo_cover:7.1%} "
              f"{np.median((high - low)[ok]):6.0f} {time.perf_counter() - start:5.1f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--players", type=int, default=2000)
    ap.add_argument("--boot-players", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--curve-players", type=int, default=400, help="players per curve scenario (0 skips them)")
    ap.add_argument("--only-curve", action="store_true", help="only the curve scenarios")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.curve_players:
        curve_coverage(rng, args.curve_players)
    if args.only_curve:
        return

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
