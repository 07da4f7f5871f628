"""scripts/calibrate_suite.py: the equating model recovers known players and puzzles (simulation),
and finds ladder runs by player and puzzle, whatever suite file they were made on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chesseval.core.puzzles import Puzzle


def _solve(rng: np.random.Generator, theta: float, slope: float, b: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + 10.0 ** (-slope * (theta - b) / 400.0))
    return rng.random(b.size) < p


def test_players_then_puzzles_are_recovered_from_simulated_answers(load_script) -> None:
    cal = load_script("calibrate_suite")
    rng = np.random.default_rng(7)
    anchors = rng.uniform(400, 2900, 800)
    truth = [(900.0, 0.5), (1300.0, 0.6), (1700.0, 0.5), (2000.0, 0.8), (2300.0, 0.7), (2700.0, 0.6)]
    fits = []
    for k, (theta, slope) in enumerate(truth):
        fit = cal.fit_player(f"p{k}", _solve(rng, theta, slope, anchors), anchors, np.zeros_like(anchors), free_slope=True)
        assert abs(fit.theta - theta) < 100 and abs(fit.slope - slope) < 0.2
        fits.append(cal.PlayerFit(f"p{k}", theta, slope, 0, 0))  # the truth, to test the puzzle step alone

    # Puzzles whose true b is a shifted, stretched feature estimate plus noise (as mined puzzles
    # off the feature model's scale would be), each answered 5 times by every player.
    n = 600
    features = rng.uniform(600, 2600, n)
    b_true = -300 + 1.2 * features + rng.normal(0, 200, n)
    reps = 5
    responses = np.hstack([np.column_stack([_solve(rng, f.theta, f.slope, b_true) for f in fits]) for _ in range(reps)]).astype(float)
    loglik = cal.response_loglik(responses, fits * reps)
    prior = cal.fit_prior(loglik, features)
    assert abs(prior.slope - 1.2) < 0.15 and abs(prior.intercept + 300) < 250 and abs(prior.sd - 200) < 60
    mean, sd, _ = cal.posterior(loglik, prior.intercept + prior.slope * features, prior.sd)
    inside = np.abs(mean - b_true) <= 1.96 * sd
    assert 0.90 <= inside.mean() <= 0.98  # the stored deviation is an honest uncertainty
    assert np.sqrt(np.mean((mean - b_true) ** 2)) < np.sqrt(np.mean((features - b_true) ** 2))


def _pz(pid: str) -> Puzzle:
    return Puzzle(id=pid, fen="rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", moves=("e2e4", "e7e5"), rating=1000)


def test_runs_are_found_by_player_and_puzzles(load_script, tmp_path: Path) -> None:
    cal = load_script("calibrate_suite")
    run = tmp_path / "runs" / "2026-01-01T00-00-00Z_x_builtin-search_abc"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"model": "builtin/search", "model_options": {"depth": "2"}, "format": "fen"}))
    recs = [{"puzzle_id": p, "fen": _pz(p).fen, "moves": ["e2e4", "e7e5"], "verdict": v} for p, v in (("a", "correct"), ("b", "wrong"))]
    (run / "records.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    player = cal.LadderPlayer.parse("builtin/search depth=2")
    assert cal.find_outcomes(player, [_pz("a"), _pz("b")], [tmp_path / "runs"]) == {"a": True, "b": False}
    assert cal.find_outcomes(player, [_pz("a")], [tmp_path / "runs"]) == {"a": True}  # a superset run serves
    assert cal.find_outcomes(player, [_pz("a"), _pz("c")], [tmp_path / "runs"]) is None  # not every puzzle
    assert cal.find_outcomes(cal.LadderPlayer.parse("builtin/search depth=3"), [_pz("a")], [tmp_path / "runs"]) is None
    with pytest.raises(ValueError, match="'depth'"):
        cal.LadderPlayer.parse("builtin/search depth")
