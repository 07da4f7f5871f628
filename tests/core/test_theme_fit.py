"""chesseval.core.theme_fit: the themes a fitted curve misses are named, and a player the curve
describes gets (almost) none."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chesseval.core.curve import fit_curve
from chesseval.core.theme_fit import FLAG_Z, ThemeFit, flagged, format_flagged, theme_fits

THEMES = ("fork", "pin", "skewer", "endgame", "middlegame", "short", "long", "quietMove", "sacrifice", "deflection")


def _records(seed: int, always: str | None = None, n: int = 600) -> list[dict[str, object]]:
    """A flat, lapsing player (scale 800, lapse 3 %, 50 % point near 1500) on puzzles 600-2600,
    each tagged with two or three of :data:`THEMES`; with ``always``, a tenth of the puzzles
    (mostly easy ones, as mates in one are on Lichess) carry that theme and are always solved."""
    rng = np.random.default_rng(seed)
    ratings = rng.uniform(600, 2600, n).round()
    p = 0.97 / (1 + 10 ** (-(1500 - ratings) / 800))
    solved = rng.random(n) < p
    recs = []
    for i in range(n):
        themes = list(rng.choice(THEMES, size=int(rng.integers(2, 4)), replace=False))
        if always and rng.random() < 0.1 * 2 * (2600 - ratings[i]) / 2000:
            themes.append(always)
            solved[i] = True
        recs.append({"puzzle_id": f"p{i}", "rating": float(ratings[i]), "rating_deviation": 75.0,
                     "verdict": "correct" if solved[i] else "wrong", "themes": themes})
    return recs


def _fit(recs: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    return fit_curve([r["verdict"] == "correct" for r in recs], [r["rating"] for r in recs],
                     [r["rating_deviation"] for r in recs], gof_boot=0)


def test_a_theme_the_player_always_solves_is_named() -> None:
    recs = _records(1, always="mateIn1")
    fits = theme_fits(recs, _fit(recs))
    top = flagged(fits)
    assert top and top[0].theme == "mateIn1" and top[0].z > FLAG_Z and top[0].solved == top[0].n, fits[:3]
    assert ThemeFit.from_dict(top[0].to_dict()) == top[0]  # as results.json stores it and the report reads it
    line = format_flagged(top)
    assert line.startswith("themes off the curve") and "mateIn1" in line
    # The headline without the theme: the same fit over the other puzzles, and lower (the always-
    # solved puzzles pulled it up); unflagged themes are not refitted.
    rest = [r for r in recs if "mateIn1" not in r["themes"]]  # type: ignore[operator]
    again = _fit(rest)
    assert top[0].without is not None and top[0].without[0] == again.rating and top[0].without[1:] == (again.low, again.high)
    assert again.rating is not None and again.rating < _fit(recs).rating - 20  # type: ignore[operator]
    assert f"headline without them {again.rating:.0f} [" in line
    assert all(t.without is None for t in fits if abs(t.z) < FLAG_Z)
    assert all(t.without is None for t in theme_fits(recs, _fit(recs), refit=False))


def test_a_player_the_curve_describes_is_rarely_flagged() -> None:
    """Ten themes, answers drawn from the curve itself: across 40 players, a theme is flagged for
    few of them (the screen's false alarms), and z spreads like a standard normal."""
    flagged_players, zs = 0, []
    for seed in range(40):
        recs = _records(100 + seed)
        fits = theme_fits(recs, _fit(recs))
        zs += [t.z for t in fits]
        flagged_players += bool(flagged(fits))
    assert flagged_players <= 4, flagged_players
    assert 0.7 < float(np.std(zs)) < 1.2 and abs(float(np.mean(zs))) < 0.2


def test_records_count_as_in_the_rating_fit() -> None:
    """Unrated records and errors are left out, as in the fit; a theme under ``min_n`` is not tested."""
    recs = _records(2)
    extra = [{"puzzle_id": "e", "rating": 1000.0, "verdict": "error", "themes": ["rare"]},
             {"puzzle_id": "u", "rating": None, "verdict": "correct", "themes": ["rare"]}]
    fits = theme_fits(recs + extra, _fit(recs))
    assert sum(t.n for t in fits if t.theme == "fork") == sum("fork" in r["themes"] for r in recs)  # type: ignore[operator]
    assert not [t for t in fits if t.theme == "rare"]
    assert theme_fits(recs, _fit([{**r, "verdict": "correct"} for r in recs])) == ()  # no curve: nothing to test


def test_search_on_real_lichess_puzzles_is_flagged_on_mates_in_one(lichess_sample: Path, tmp_path: Path) -> None:
    """Engine-free search at depth 1 solves every mate in one at any rating: on real Lichess
    puzzles that theme is the first one off its curve, and the report says so."""
    from chesseval.analysis.report import report_run
    from chesseval.api import evaluate
    from chesseval.core.runner import RunConfig

    result = evaluate(RunConfig(model="builtin/search", suite=str(lichess_sample), model_options={"depth": "1"},
                                runs_dir=tmp_path, limit=800, max_connections=2))
    text = report_run(result.path)
    line = next(ln for ln in text.splitlines() if ln.startswith("themes off the curve"))
    assert "mateIn1" in line.split(";")[0] or "oneMove" in line.split(";")[0], line
    assert "mateIn1" in line
