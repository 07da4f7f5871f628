"""Puzzle-rating estimation: exact properties, a brute-force cross-check, and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chesseval.core.rating import (
    Censoring,
    bootstrap_interval,
    chi2_half_quantile,
    estimate_rating,
    expected_score,
    fit_many,
    glicko_g,
    log_likelihood,
    outcomes_from_records,
    rating_from_records,
)

N_PLAYERS = 800
N_PUZZLES = 1000


def _suite(rng: np.random.Generator, n: int = N_PUZZLES, rd_high: float = 120.0) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(500, 2700, n), rng.uniform(60, rd_high, n)


def test_glicko_g_reference_values() -> None:
    # Values from domain-rules.md section 6.1 (g(75) ~ 0.973, g(200) ~ 0.844, g(500) ~ 0.533).
    assert glicko_g(0.0) == pytest.approx(1.0)
    assert glicko_g(75.0) == pytest.approx(0.973, abs=1e-3)
    assert glicko_g(200.0) == pytest.approx(0.844, abs=1e-3)
    assert glicko_g(500.0) == pytest.approx(0.533, abs=1e-3)
    assert chi2_half_quantile(0.95) == pytest.approx(1.9207, abs=1e-4)


def test_half_solved_at_one_rating_is_that_rating() -> None:
    est = estimate_rating([1, 0] * 10, [1700] * 20, [80] * 20)
    assert est.rating == pytest.approx(1700, abs=0.01)
    assert 1700 - est.low == pytest.approx(est.high - 1700, abs=0.01)  # symmetric likelihood
    assert est.censored is None and est.n == 20 and est.solved == 10


def test_mle_is_the_performance_rating_when_rd_is_zero() -> None:
    # With g = 1 the score equation says: expected solves = actual solves.
    rng = np.random.default_rng(3)
    r = rng.uniform(900, 2300, 60)
    s = rng.random(60) < 0.4
    est = estimate_rating(s, r, np.zeros(60))
    assert float(np.sum(expected_score(est.rating, r))) == pytest.approx(s.sum(), abs=1e-3)


def test_matches_brute_force_grid() -> None:
    rng = np.random.default_rng(11)
    r = rng.uniform(800, 2400, 40)
    rd = rng.uniform(50, 300, 40)
    s = rng.random(40) < expected_score(1500, r, rd)
    est = estimate_rating(s, r, rd)
    grid = np.arange(500.0, 2800.0, 0.01)
    ll = np.array([log_likelihood(x, s, r, rd) for x in grid[::100]])  # coarse pass
    fine_centre = grid[::100][int(np.argmax(ll))]
    fine = np.arange(fine_centre - 2, fine_centre + 2, 0.001)
    ll_fine = np.array([log_likelihood(x, s, r, rd) for x in fine])
    assert est.rating == pytest.approx(fine[int(np.argmax(ll_fine))], abs=0.01)
    peak = log_likelihood(est.rating, s, r, rd)
    assert log_likelihood(est.low, s, r, rd) == pytest.approx(peak - 1.9207, abs=1e-3)
    assert log_likelihood(est.high, s, r, rd) == pytest.approx(peak - 1.9207, abs=1e-3)
    assert est.low < est.rating < est.high
    # The Wald interval is close to the profile one when nothing is near 0% or 100%.
    assert est.high - est.low == pytest.approx(2 * 1.96 * est.se, rel=0.1)


def test_order_of_puzzles_does_not_matter() -> None:
    rng = np.random.default_rng(5)
    r, rd = _suite(rng, 200)
    s = rng.random(200) < expected_score(1800, r, rd)
    perm = rng.permutation(200)
    a, b = estimate_rating(s, r, rd), estimate_rating(s[perm], r[perm], rd[perm])
    assert (a.rating, a.low, a.high) == pytest.approx((b.rating, b.low, b.high), abs=1e-6)


def test_all_solved_gives_a_one_sided_lower_bound() -> None:
    est = estimate_rating([True] * 30, [1500] * 30, [80] * 30)
    assert est.rating is None and est.censored is Censoring.ALL_SOLVED
    assert est.high == math.inf and math.isfinite(est.low)
    # The bound is where the likelihood has dropped 1.92 below its supremum (0, at +inf).
    assert log_likelihood(est.low, [1] * 30, [1500] * 30, [80] * 30) == pytest.approx(-1.9207, abs=1e-3)
    assert est.format().startswith(">= ") and "all 30 solved" in est.format()
    assert est.to_dict()["high"] is None


def test_none_solved_gives_a_one_sided_upper_bound() -> None:
    est = estimate_rating([False] * 30, [1500] * 30, [80] * 30)
    assert est.rating is None and est.censored is Censoring.NONE_SOLVED
    assert est.low == -math.inf and est.high < 1500
    assert est.format().startswith("<= ")


def test_prior_gives_a_finite_map_estimate_when_all_solved() -> None:
    est = estimate_rating([True] * 30, [1500] * 30, [80] * 30, prior=(1500, 350))
    assert est.censored is None and est.method == "map(1500,350)"
    assert est.rating is not None and 1500 < est.rating < 3000
    assert est.low < est.rating < est.high < math.inf


def test_fewer_puzzles_give_wider_intervals() -> None:
    rng = np.random.default_rng(8)
    r, rd = _suite(rng, 1000)
    s = rng.random(1000) < expected_score(1500, r, rd)
    wide, narrow = estimate_rating(s[:100], r[:100], rd[:100]), estimate_rating(s, r, rd)
    assert (wide.high - wide.low) > 2.5 * (narrow.high - narrow.low)


def test_bootstrap_interval_agrees_with_profile_interval() -> None:
    rng = np.random.default_rng(21)
    r, rd = _suite(rng, 500)
    s = rng.random(500) < expected_score(1900, r, rd)
    prof = estimate_rating(s, r, rd)
    lo, hi = bootstrap_interval(s, r, rd, n_boot=400, seed=1, jitter=False)
    assert lo < prof.rating < hi
    assert lo == pytest.approx(prof.low, abs=20) and hi == pytest.approx(prof.high, abs=20)
    lo_j, hi_j = bootstrap_interval(s, r, rd, n_boot=400, seed=1, jitter=True)
    assert hi_j - lo_j >= (hi - lo) * 0.95  # jittered puzzle ratings add (a little) spread


def test_bad_input_is_rejected_with_the_value() -> None:
    with pytest.raises(ValueError, match="differ in length: 2 != 3"):
        estimate_rating([1, 0], [1500, 1600, 1700])
    with pytest.raises(ValueError, match=r"0/1"):
        estimate_rating([2, 0], [1500, 1600])
    with pytest.raises(ValueError, match="level"):
        estimate_rating([1, 0], [1500, 1600], level=1.5)


def test_records_error_verdicts_and_unrated_puzzles_are_excluded() -> None:
    records = [
        {"puzzle_id": "a", "rating": 1500, "rating_deviation": 80, "verdict": "correct"},
        {"puzzle_id": "b", "rating": 1600, "rating_deviation": None, "verdict": "illegal"},
        {"puzzle_id": "c", "rating": 1700, "rating_deviation": 80, "verdict": "error"},
        {"puzzle_id": "d", "rating": None, "rating_deviation": None, "verdict": "correct"},
        {"puzzle_id": "e", "rating": 1400, "rating_deviation": 90, "verdict": "no_move"},
    ]
    solved, ratings, rds, excluded = outcomes_from_records(records)
    assert solved == [True, False, False] and ratings == [1500, 1600, 1400] and excluded == 2
    est = rating_from_records(records)
    assert est.n == 3 and est.solved == 1 and est.excluded == 2


def _simulate(true_jitter: bool, rd_high: float, n_players: int, seed: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    r, rd = _suite(rng, N_PUZZLES, rd_high)
    truth = rng.uniform(800, 2400, n_players)
    # Either outcomes drawn from the fitted model itself, or from the plain Elo curve against
    # each puzzle's *true* rating drawn from N(r_i, RD_i^2), which the g factor approximates.
    if true_jitter:
        r_true = r + rng.normal(size=(n_players, N_PUZZLES)) * rd
        p = expected_score(truth[:, None], r_true)
    else:
        p = expected_score(truth[:, None], r, rd)
    solved = rng.random(p.shape) < p
    est, low, high = fit_many(solved, r, rd)
    mae = float(np.mean(np.abs(est - truth)))
    coverage = float(np.mean((low <= truth) & (truth <= high)))
    width = float(np.mean(high - low))
    return mae, coverage, width


def test_simulation_recovers_known_ratings_with_nominal_coverage() -> None:
    mae, coverage, width = _simulate(False, 120.0, N_PLAYERS, seed=2026)
    print(f"\nsimulation: {N_PLAYERS} players 800-2400, {N_PUZZLES} puzzles: MAE {mae:.1f}, "
          f"95% profile coverage {coverage:.1%}, mean width {width:.0f}")
    assert mae < 50
    assert 0.90 <= coverage <= 0.98


def test_simulation_with_uncertain_puzzle_ratings() -> None:
    # Puzzle ratings off by N(0, RD^2) with RD up to 250: g(RD) keeps the interval honest.
    mae, coverage, width = _simulate(True, 250.0, 400, seed=7)
    print(f"\nsimulation (jittered true puzzle ratings, RD 60-250): MAE {mae:.1f}, "
          f"coverage {coverage:.1%}, mean width {width:.0f}")
    assert mae < 50
    assert 0.90 <= coverage <= 0.98
