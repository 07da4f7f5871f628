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


def _lopo_world(load_script, seed: int, drift: float, **kw):  # type: ignore[no-untyped-def]
    """scripts/calibrate_suite.py's simulated world (flat, lapsing players; ``drift``: one more
    player that much stronger on the suite than on the anchors), rows by player."""
    cal = load_script("calibrate_suite")
    rows, fits = cal.simulate_leave_one_player_out(seed, drift, **kw)
    truth = {**cal.SIM_PLAYERS, **({"drift": (1500.0, 0.5, 0.02)} if drift else {})}
    for k, (_, a, _) in truth.items():
        assert abs(fits[k].slope - a) < 0.2
    return {r["player"]: r for r in rows}


def test_leave_one_player_out_gives_back_consistent_players(load_script) -> None:
    """When one difficulty per puzzle is true for every player, each held-out player's headline
    on the calibrated suite matches its headline on the anchors within its noise: flat curves
    on several hundred puzzles know a 50% point to about +/-45, so the differences run up to
    about 150 points (why the check reads z, not a fixed number of points)."""
    rows = _lopo_world(load_script, seed=0, drift=0.0)
    diffs = np.array([r["diff"] for r in rows.values()], dtype=float)
    assert all(abs(r["z"]) < 3.0 for r in rows.values()), rows
    assert np.sqrt(np.mean(diffs**2)) < 110
    # The suite separates players exactly as the anchors do here, and the fitted discrimination says so.
    assert all(0.8 <= r["discrimination"] <= 1.25 for r in rows.values()), rows


def test_a_suite_that_separates_players_more_sharply_is_calibrated_with_its_discrimination(load_script) -> None:
    """Every player's curve 1.6 times steeper on the suite than on the anchors (mined puzzles,
    each checked to have one winning move, separate the ladder more sharply than real puzzles:
    about 1.35 times on the default suite). The fitted discrimination finds the factor in every
    fold and the held-out players agree; the plain model (k = 1) reads the steep answers with the
    anchors' flat curves and misplaces some player far beyond its noise."""
    fitted = _lopo_world(load_script, seed=0, drift=0.0, sharpness=1.6)
    assert all(1.35 <= r["discrimination"] <= 2.0 for r in fitted.values()), fitted
    plain = _lopo_world(load_script, seed=0, drift=0.0, sharpness=1.6, discrimination=1.0)
    rms = {name: float(np.sqrt(np.mean([float(r["diff"]) ** 2 for r in rows.values()]))) for name, rows in
           (("fitted", fitted), ("plain", plain))}
    assert max(abs(r["z"]) for r in plain.values()) > 3.0, plain
    assert max(abs(r["z"]) for r in fitted.values()) < 3.0, fitted
    assert rms["fitted"] < 0.7 * rms["plain"], rms


def test_the_discrimination_maximises_the_marginal_likelihood(load_script) -> None:
    """fit_suite's k is the maximum of the marginal likelihood (not a tuned constant): nudging it
    either way lowers the likelihood, and a fixed k is used as given."""
    cal = load_script("calibrate_suite")
    rng = np.random.default_rng(3)
    players = [cal.PlayerFit(f"p{i}", t, 0.5, 0, 0, 0.01) for i, t in enumerate((900.0, 1400.0, 1900.0, 2400.0))]
    b = rng.uniform(400, 2800, 500)
    features = b + rng.normal(0, 300, b.size)
    resp = np.column_stack([rng.random(b.size) < f.p_solve(b) for f in
                            (cal.PlayerFit(f.label, f.theta, 2.0 * f.slope, 0, 0, f.lapse) for f in players)]).astype(float)
    fit = cal.fit_suite(resp, players, features, interval=True)
    assert 1.5 <= fit.discrimination <= 2.6 and fit.interval[0] < fit.discrimination < fit.interval[1], fit.interval
    for k in (fit.discrimination * 0.9, fit.discrimination * 1.1):
        assert cal.fit_suite(resp, players, features, discrimination=k).prior.log_marginal < fit.prior.log_marginal
    assert cal.fit_suite(resp, players, features, discrimination=1.0).discrimination == 1.0
    with pytest.raises(ValueError, match="suite discrimination -1 "):
        cal.fit_suite(resp, players, features, discrimination=-1)


def test_leave_one_player_out_flags_a_player_the_suite_favours(load_script) -> None:
    """A player 400 points stronger on the suite than on the anchors stands out (z > 4), and,
    used in the calibration of the others, pulls them down: one family's blind spot moves the
    whole scale, which is what the per-player table is there to show."""
    rows = _lopo_world(load_script, seed=1, drift=400.0)
    assert rows["drift"]["diff"] >= 250 and rows["drift"]["z"] > 4.0, rows["drift"]
    others = [r["diff"] for k, r in rows.items() if k != "drift"]
    assert float(np.mean(others)) < 0


def test_shipped_ratings_are_the_calibration_recomputed_from_scratch(lichess_sample: Path, stockfish_path: str, tmp_path: Path) -> None:
    """The default suite's Rating and RatingDeviation are this project's output: the anchors are
    cut again from the Lichess sample, the ladder plays them (and the suite, where
    runs/reference lacks a player), and the calibration gives every shipped number back exactly,
    with the leave-one-player-out table the manifest records. About 220 s on 2 cores."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    manifest = json.loads((root / "puzzles" / "default.json").read_text())
    if "calibration" not in manifest:
        pytest.skip("this default suite is not calibrated")
    proc = subprocess.run(
        [sys.executable, str(root / "scripts" / "calibrate_suite.py"), "--anchors", str(tmp_path / "anchors.csv"),
         "--runs-dir", str(tmp_path / "runs"), "--source", str(lichess_sample), "--check"],
        capture_output=True, text=True, cwd=root, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    n = manifest["count"]
    assert f"check: {n} of {n} puzzles carry exactly the recomputed rating and deviation" in proc.stdout
    for row in manifest["calibration"]["leave_one_player_out"]:
        assert any(line.startswith(row["player"]) and line.split()[-3] == f"{row['diff']:+d}"
                   for line in proc.stdout.splitlines()), row


def test_a_bad_discrimination_or_replicate_count_is_refused_before_anything_is_loaded(load_script, capsys) -> None:  # type: ignore[no-untyped-def]
    cal = load_script("calibrate_suite")
    for bad in ("abc", "0", "-1.5"):
        with pytest.raises(SystemExit) as exc:
            cal.main(["--discrimination", bad, "--anchors", "/nonexistent/anchors.csv"])
        assert exc.value.code == 2
        assert f"--discrimination: {bad!r} is neither 'fit' nor a positive number" in capsys.readouterr().err
    for bad in ("-3", "2.5", "many"):
        with pytest.raises(SystemExit) as exc:
            cal.main(["--linking-boot", bad, "--anchors", "/nonexistent/anchors.csv"])
        assert exc.value.code == 2
        assert f"--linking-boot: {bad!r} is not a whole number of replicates (0 or more)" in capsys.readouterr().err


def test_linking_error_is_the_spread_over_anchor_replicates(load_script) -> None:
    """The calibration's linking error: refit the players on bootstrap replicates of the anchors,
    recalibrate, read each player's headline again. It is positive and shrinks with more anchors
    (the error of the scale, not of the player's own puzzles)."""
    cal = load_script("calibrate_suite")
    rng = np.random.default_rng(11)
    truth = {"p1000": (1000.0, 0.5), "p1600": (1600.0, 0.5), "p2200": (2200.0, 0.5)}
    b_suite = rng.uniform(600, 2600, 300)
    features = b_suite + rng.normal(0, 300, b_suite.size)
    suite = [Puzzle(id=f"s{i}", fen=_pz("x").fen, moves=("e2e4", "e7e5"), rating=0) for i in range(b_suite.size)]
    on_suite = {k: dict(zip([p.id for p in suite], _solve(rng, t, a, b_suite), strict=True)) for k, (t, a) in truth.items()}

    def world(n_anchors: int, seed: int) -> dict[str, float]:
        r = rng.uniform(400, 2900, n_anchors).round()
        anchors = [Puzzle(id=f"a{i}", fen=_pz("x").fen, moves=("e2e4", "e7e5"), rating=int(x), rating_deviation=75)
                   for i, x in enumerate(r)]
        on_anchors = {k: dict(zip([p.id for p in anchors], _solve(rng, t, a, r), strict=True)) for k, (t, a) in truth.items()}

        def calibrate(players):  # type: ignore[no-untyped-def]
            resp = np.array([[float(on_suite[f.label][p.id]) for f in players] for p in suite])
            return cal.fit_suite(resp, players, features, discrimination=1.0)

        return cal.linking_errors(anchors, suite, on_anchors, on_suite, list(truth), cal.fit_player_curve, calibrate,
                                  reps=6, seed=seed)

    few, many = world(150, 0), world(1200, 0)
    assert set(few) == set(truth) and all(v > 0 for v in few.values()), few
    assert np.mean(list(many.values())) < np.mean(list(few.values())), (few, many)


def test_check_players_are_held_out_of_every_calibration_and_summarised(load_script) -> None:
    """The check players (Stockfish by depth) are never calibration players: held out of the main
    calibration, absent from the leave-one-player-out folds, and counted in the held-out line."""
    cal = load_script("calibrate_suite")
    labels = {p.label for p in cal.LADDER}
    assert set(cal.CHECK_ONLY) <= labels and not set(cal.CHECK_ONLY) & set(cal.HOLDOUT)
    manifest = json.loads((Path(__file__).resolve().parents[2] / "puzzles" / "default.json").read_text())
    calibration = manifest.get("calibration")
    if calibration is None:
        pytest.skip("this default suite is not calibrated")
    held = {r["player"] for r in calibration["validation"] if r["held_out"]}
    assert set(cal.CHECK_ONLY) <= held
    assert not {r["player"] for r in calibration["leave_one_player_out"]} & set(cal.CHECK_ONLY)
    assert not {p["player"] for p in calibration["players"] if p["used"]} & held

    def row(player: str, diff: int, z: float | None, z_linking: float | None = None) -> dict[str, object]:
        return {"player": player, "held_out": True, "curve": {"diff": diff}, "z": z, "z_linking": z_linking}

    rows = [row("a", -60, -1.2, -1.0), row("b", 30, 2.5, 1.9), row("c", 10, None),
            {"player": "used", "held_out": False, "curve": {"diff": 500}, "z": 9.0}]
    (line,) = [x for x in cal.held_out_summary(rows) if x]
    assert line.startswith("held-out players (2, never in the calibration): mean diff -15, root mean square 47, "
                           "1 of 2 within +/-50; |z| <= 2 for 1 of 2 (2 of 2 including the linking error)"), line
    assert cal.held_out_summary([rows[-1]]) == []
