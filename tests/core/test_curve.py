"""The fitted solve curve (free slope and lapse): recovery, interval coverage, goodness of fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chesseval.analysis.report import render_rating_lines, summarize
from chesseval.core.curve import (
    CurveModel,
    compare_models,
    curve_from_records,
    curve_interval_many,
    fit_curve,
    fit_curve_many,
)
from chesseval.core.rating import (
    DEFAULT_RD,
    ESTIMATED_RD,
    Q,
    fit_many,
    outcomes_from_records,
)


def true_p(theta: np.ndarray, a: float, lapse: float, r: np.ndarray, rd: np.ndarray) -> np.ndarray:
    """The generating curve, written out independently of the module (rating units)."""
    h = 1.0 / np.sqrt(1.0 + 3.0 * (a * Q * rd) ** 2 / math.pi**2)
    return (1.0 - lapse) / (1.0 + np.exp(-a * h * Q * (theta[:, None] - r)))


def r50(theta: np.ndarray, a: float, lapse: float) -> np.ndarray:
    return theta + np.log(1.0 - 2.0 * lapse) / (a * Q)


def simulate(seed: int, players: int, puzzles: int, a: float, lapse: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    r = rng.uniform(600, 2600, puzzles)
    rd = rng.uniform(60, 120, puzzles)
    theta = rng.uniform(1100, 2100, players)
    solved = (rng.random((players, puzzles)) < true_p(theta, a, lapse, r, rd)).astype(float)
    return solved, r, rd, r50(theta, a, lapse)


@pytest.mark.parametrize(
    ("a", "lapse", "seed"),
    [(0.5, 0.0, 11), (0.6, 0.15, 12)],
    ids=["flat-scale-800", "scale-670-lapse-15pct"],
)
def test_interval_covers_flat_and_lapsing_players(a: float, lapse: float, seed: int) -> None:
    solved, r, rd, truth = simulate(seed, 120, 300, a, lapse)
    fit = fit_curve_many(solved, r, rd)
    low, high = curve_interval_many(solved, r, rd, fit)
    covered = np.mean((low <= truth) & (truth <= high))
    assert 0.90 <= covered <= 0.98, covered
    assert abs(np.median(fit["r50"] - truth)) < 40
    # The Elo fit of the same players: its interval ignores the curve's shape and misses often.
    _, elo_low, elo_high = fit_many(solved, r, rd)
    elo_covered = np.mean((elo_low <= truth) & (truth <= elo_high))
    print(f"coverage: curve {covered:.1%}, Elo {elo_covered:.1%}")
    assert elo_covered < covered - 0.10


def test_recovers_the_curve_shape() -> None:
    solved, r, rd, truth = simulate(3, 1, 2000, 0.5, 0.2)
    fit = fit_curve(solved[0], r, rd, gof_boot=0)
    assert fit.scale == pytest.approx(800, rel=0.2)
    assert fit.lapse == pytest.approx(0.2, abs=0.05)
    assert fit.low <= truth[0] <= fit.high
    assert fit.theta > fit.rating  # with a ceiling the 50% point lies below the midpoint


def test_goodness_of_fit_rejects_elo_for_a_flat_player_and_accepts_the_curve() -> None:
    solved, r, rd, _ = simulate(5, 1, 1000, 0.45, 0.1)
    elo = fit_curve(solved[0], r, rd, model=CurveModel.ELO, gof_boot=200)
    curve = fit_curve(solved[0], r, rd, gof_boot=200)
    assert elo.gof.p_value < 0.05
    assert curve.gof.p_value > 0.05
    assert sum(b.n for b in curve.gof.bands) == 1000
    cmp = compare_models(solved[0], r, rd)
    assert cmp[CurveModel.SLOPE_LAPSE]["aic"] < cmp[CurveModel.ELO]["aic"] - 10


def test_an_elo_player_keeps_his_elo_rating() -> None:
    solved, r, rd, truth = simulate(7, 1, 1000, 1.0, 0.0)
    fit = fit_curve(solved[0], r, rd, gof_boot=0)
    assert fit.rating == pytest.approx(fit.elo.rating, abs=40)
    assert fit.low <= truth[0] <= fit.high


def test_censored_runs_fall_back_to_the_elo_bound() -> None:
    fit = fit_curve([True] * 20, np.linspace(800, 1600, 20))
    assert fit.rating is None and fit.low == fit.elo.low and math.isinf(fit.high)
    assert fit.format().startswith(">= ")


def test_estimated_ratings_without_deviation_get_the_estimate_error() -> None:
    recs = [
        {"rating": 1000, "verdict": "correct", "rating_source": "estimated"},
        {"rating": 1200, "verdict": "wrong", "rating_source": "lichess"},
        {"rating": 1400, "verdict": "wrong", "rating_source": "estimated", "rating_deviation": 150},
    ]
    _, _, rds, _ = outcomes_from_records(recs)
    assert rds == [ESTIMATED_RD, DEFAULT_RD, 150.0]


def test_report_prints_headline_fit_and_elo() -> None:
    solved, r, _, _ = simulate(9, 1, 200, 0.6, 0.05)
    recs = [{"puzzle_id": str(i), "rating": float(x), "verdict": "correct" if s else "wrong"} for i, (s, x) in enumerate(zip(solved[0], r, strict=True))]
    results = summarize(recs)
    assert results["curve"]["rating"] == pytest.approx(curve_from_records(recs).rating)
    text = render_rating_lines(results)
    assert text.startswith("puzzle rating: ") and "curve fit: chi2" in text and "Elo-slope rating: " in text


def _llm_curves_module():  # scripts/ is not a package: load the script as a module
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "llm_curves.py"
    spec = importlib.util.spec_from_file_location("llm_curves", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_chess_bench_models_fit_the_curve_but_not_elo(shared_data) -> None:
    """The 14 chess-bench models: the curve fits most (band test), Elo's slope is rejected for most."""
    data = _llm_curves_module().load(shared_data / "llm_answers.jsonl")
    assert len(data) == 14
    fits_ok = rejects_elo = 0
    for solved, ratings in data.values():
        rd = [138.0] * len(ratings)
        fits_ok += fit_curve(solved, ratings, rd, gof_boot=100).gof.p_value > 0.05
        cmp = compare_models(solved, ratings, rd)
        rejects_elo += 2 * (cmp[CurveModel.SLOPE]["loglik"] - cmp[CurveModel.ELO]["loglik"]) > 3.84
    assert fits_ok >= 12 and rejects_elo >= 10, (fits_ok, rejects_elo)


def test_extrapolated_headline_is_flagged() -> None:
    rng = np.random.default_rng(13)
    theta = np.array([1500.0])
    for lo, hi, expect in ((600, 2600, False), (1900, 2300, True)):
        r = rng.uniform(lo, hi, 300)
        rd = np.full(300, 75.0)
        solved = rng.random(300) < true_p(theta, 0.6, 0.0, r, rd)[0]
        fit = fit_curve(solved, r, rd, gof_boot=0)
        assert fit.extrapolated is expect, (fit.rating, fit.span)
        assert fit.span == (r.min(), r.max())
    # The report says so.
    recs = [{"puzzle_id": f"p{i}", "rating": float(x), "verdict": "correct" if ok else "wrong"} for i, (ok, x) in enumerate(zip(solved, r, strict=True))]
    assert "EXTRAPOLATED beyond the suite's" in render_rating_lines(summarize(recs))


def test_floor_model_recovers_a_guessing_player() -> None:
    rng = np.random.default_rng(21)
    r = rng.uniform(600, 2600, 3000)
    rd = np.full(3000, 75.0)
    theta = np.array([1300.0])
    p = 0.1 + (1 - 0.05 - 0.1) * (true_p(theta, 0.7, 0.0, r, rd)[0])
    solved = rng.random(3000) < p
    fit = fit_curve(solved, r, rd, model=CurveModel.SLOPE_FLOOR_LAPSE, gof_boot=0)
    assert fit.floor == pytest.approx(0.1, abs=0.03) and fit.lapse == pytest.approx(0.05, abs=0.03)
    # The 50% point: floor + (1 - lapse - floor) sigma(z) = 1/2.
    z50 = math.log((0.5 - 0.1) / (1 - 0.05 - 0.1) / (1 - (0.5 - 0.1) / (1 - 0.05 - 0.1)))
    truth = 1300.0 - z50 / (0.7 * Q)
    assert fit.low <= truth <= fit.high


def test_headline_z_reads_each_standard_error_off_its_interval() -> None:
    from chesseval.core.curve import headline_z

    a = {"rating": 1100.0, "low": 1100.0 - 1.959964 * 40, "high": 1100.0 + 1.959964 * 40, "level": 0.95}
    b = {"rating": 1000.0, "low": 1000.0 - 1.959964 * 30, "high": 1000.0 + 1.959964 * 30}  # level defaults to 0.95
    assert headline_z(a, b) == pytest.approx(100 / 50, rel=1e-4)  # SE hypot(40, 30) = 50
    assert headline_z(b, a) == pytest.approx(-2.0, rel=1e-4)
    c = {"rating": 1000.0, "low": 1000.0 - 1.644854 * 30, "high": 1000.0 + 1.644854 * 30, "level": 0.90}
    assert headline_z(a, c) == pytest.approx(2.0, rel=1e-4)  # a 90% interval is narrower for the same SE
    assert headline_z(a, {"rating": 900.0, "low": None, "high": 1000.0}) is None  # censored: no z
    assert headline_z(a, {"rating": 900.0, "low": float("-inf"), "high": 1000.0}) is None
    assert headline_z(None, a) is None
    # A further independent error of the difference (a suite's linking error) joins in quadrature.
    assert headline_z(a, b, extra_se=math.sqrt(50**2 * 3)) == pytest.approx(1.0, rel=1e-4)  # SE sqrt(4 * 50^2) = 100
