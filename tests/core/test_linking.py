"""chesseval.core.linking: a calibrated suite's linking error, read from its manifest and added
to a headline's interval when it is compared with another suite."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chesseval.core.curve import fit_curve
from chesseval.core.linking import (
    LinkingError,
    against_other_suites_text,
    cross_suite_difference,
    interval_against_other_suites,
    linking_error_of_run,
    scale_error_of_run,
)
from chesseval.core.suites import resolve_suite

ROOT = Path(__file__).resolve().parents[2]


def _row(player: str, rating: float | None, *, used: bool = True, held_out: bool = False) -> dict[str, object]:
    return {"player": player, "used": used, "held_out": held_out, "curve": {"suite": {"rating": rating}}}


def test_read_from_the_calibration_record_and_interpolated() -> None:
    calibration = {
        "validation": [_row("a", 1000.0), _row("b", 2000.0, used=False, held_out=True),
                       _row("c", 3500.0, used=False), _row("d", None)],
        "linking": {"replicates": 20, "se": {"a": 40.0, "b": 20.0, "c": 95.0, "d": 10.0}},
    }
    link = LinkingError.from_calibration(calibration)
    assert link is not None and link.replicates == 20
    assert link.points == ((1000.0, 40.0), (2000.0, 20.0))  # out of range (c) and unplaced (d) left out
    assert link.se_at(1500.0) == pytest.approx(30.0)
    assert link.se_at(500.0) == 40.0 and link.se_at(2600.0) == 20.0  # the nearest player outside them
    low, high = link.widen(1500.0, 1450.0, 1580.0)
    z = 1.959964 * 30.0
    assert low == pytest.approx(1500.0 - math.hypot(50.0, z), rel=1e-5)
    assert high == pytest.approx(1500.0 + math.hypot(80.0, z), rel=1e-5)
    assert LinkingError.from_calibration({"validation": calibration["validation"]}) is None  # not measured


def test_held_out_players_say_how_the_suite_did_near_a_rating() -> None:
    held = {**_row("h1", 1200.0, used=False, held_out=True), "curve": {"suite": {"rating": 1200.0}, "diff": -57}}
    held2 = {**_row("h2", 2300.0, used=False, held_out=True), "curve": {"suite": {"rating": 2300.0}, "diff": -84}}
    used = {**_row("u", 1250.0), "curve": {"suite": {"rating": 1250.0}, "diff": 35}}  # in sample: not evidence
    link = LinkingError.from_calibration({"validation": [held, held2, used], "linking": {"se": {"u": 30.0}}})
    assert link is not None and link.held_out == ((1200.0, -57.0), (2300.0, -84.0))
    assert link.held_out_near(1300.0) == (-57.0,) and link.held_out_near(1700.0) == ()
    assert eval(repr(link), {"LinkingError": LinkingError}) == link


def test_the_report_line_names_the_held_out_players_near_the_headline() -> None:
    suite = resolve_suite("default")
    link = LinkingError.from_calibration(suite.extra.get("calibration") or {})
    if link is None or not link.held_out:
        pytest.skip("this default suite has no held-out players")
    header = {"suite": {"name": "default", "sha256": suite.sha256}}
    estimated, _ = _records("estimated")
    at, diff = link.held_out[0]
    near = against_other_suites_text(header, estimated, at, at - 60, at + 60)
    assert "held-out reference players within 200 of this rating read" in near and f"{diff:+.0f}" in near
    far = max(r for r, _ in link.points) + 1000.0
    assert "held-out" not in against_other_suites_text(header, estimated, far, far - 60, far + 60)


def test_found_for_runs_on_the_calibrated_default_suite_only() -> None:
    suite = resolve_suite("default")
    if "linking" not in (suite.extra.get("calibration") or {}):
        pytest.skip("this default suite has no linking error")
    header = {"suite": {"name": "default", "path": "/elsewhere/default.csv", "sha256": suite.sha256}}
    link = linking_error_of_run(header)  # the recorded path is gone: found by name and sha256
    assert link is not None and len(link.points) >= 5 and all(0 < se < 200 for _, se in link.points)
    assert linking_error_of_run({"suite": {**header["suite"], "sha256": "0" * 64}}) is None  # an edited suite
    starter = resolve_suite("starter")
    assert linking_error_of_run({"suite": {"name": "starter", "sha256": starter.sha256}}) is None  # uncalibrated
    assert linking_error_of_run({}) is None
    got = interval_against_other_suites(header, 1500.0, 1450.0, 1560.0)
    assert got is not None and got[0] < 1450.0 and got[1] > 1560.0 and got[2] == link.se_at(1500.0)
    assert interval_against_other_suites(header, 1500.0, float("-inf"), 1560.0) is None  # censored: nothing to widen
    assert interval_against_other_suites(header, None, None, None) is None


def test_the_report_of_a_reference_run_gives_the_widened_interval() -> None:
    from chesseval.analysis.report import report_run
    from chesseval.core.records import list_runs

    runs = list_runs(ROOT / "runs" / "reference")
    if not runs:
        pytest.skip("no reference runs")
    text = report_run(runs[0].path)
    head = next(line for line in text.splitlines() if line.startswith("puzzle rating:"))
    other = next(line for line in text.splitlines() if line.startswith("against another suite:"))
    lo, hi = (float(x) for x in head.split("[")[1].split("]")[0].split(", "))
    lo2, hi2 = (float(x) for x in other.split("[")[1].split("]")[0].split(", "))
    assert lo2 < lo and hi2 > hi  # wider on both sides


def _records(source: str, n: int = 300, level: float = 1500.0, seed: int = 0) -> tuple[list[dict[str, object]], object]:
    import random

    rng = random.Random(seed)
    recs, solved, ratings = [], [], []
    for i in range(n):
        r = 600 + 2000 * i / n
        s = rng.random() < 1 / (1 + 10 ** ((r - level) / 700))
        recs.append({"puzzle_id": f"p{i}", "rating": r, "rating_source": source, "verdict": "correct" if s else "wrong"})
        solved.append(s)
        ratings.append(r)
    return recs, fit_curve(solved, ratings, [75.0] * n, gof_boot=0)


def test_the_scale_error_of_a_run_depends_on_where_its_ratings_come_from() -> None:
    lichess, _ = _records("lichess")
    assert scale_error_of_run({}, lichess, 1500.0) == 0.0  # real Lichess ratings are the scale
    assert scale_error_of_run({}, [{**r, "rating_source": None} for r in lichess], 1500.0) == 0.0  # older records
    estimated, _ = _records("estimated")
    assert scale_error_of_run({"suite": {"name": "mined", "sha256": "0" * 64}}, estimated, 1500.0) is None  # not linked
    suite = resolve_suite("default")
    link = LinkingError.from_calibration(suite.extra.get("calibration") or {})
    if link is None:
        pytest.skip("this default suite has no linking error")
    header = {"suite": {"name": "default", "sha256": suite.sha256}}
    assert scale_error_of_run(header, estimated, 1500.0) == link.se_at(1500.0)


def test_cross_suite_difference_adds_both_linking_errors_or_gives_no_z() -> None:
    a_recs, a_fit = _records("lichess", level=1500.0, seed=1)
    b_recs, b_fit = _records("estimated", level=1800.0, seed=2)
    suite = resolve_suite("default")
    header_b = {"suite": {"name": "default", "sha256": suite.sha256}}
    d = cross_suite_difference(({}, a_recs, a_fit), (header_b, b_recs, b_fit), label_a="real", label_b="mined")
    assert d is not None and d.difference == pytest.approx(b_fit.rating - a_fit.rating)
    if d.linking_se_b:  # a calibrated default suite: its linking error shrinks z
        plain = cross_suite_difference(({}, a_recs, a_fit), ({}, [{**r, "rating_source": "lichess"} for r in b_recs], b_fit))
        assert plain is not None and plain.z is not None and d.z is not None and 0 < d.z < plain.z
        assert d.linking_se_a == 0.0 and "z = +" in d.summary() and "mined vs real across suites" in d.summary()
    unlinked = cross_suite_difference(({}, a_recs, a_fit), ({"suite": {"name": "x"}}, b_recs, b_fit), label_b="mined")
    assert unlinked is not None and unlinked.z is None and unlinked.linking_se_b is None
    assert "no z" in unlinked.summary() and "mined" in unlinked.summary()
    assert unlinked.to_dict()["text"] == unlinked.summary()


def test_the_report_line_on_other_suites_by_where_the_ratings_come_from() -> None:
    lichess, fit = _records("lichess")
    estimated, _ = _records("estimated")
    args = (fit.rating, fit.low, fit.high)
    assert against_other_suites_text({}, lichess, *args) == ""  # its own interval already compares
    assert against_other_suites_text({}, estimated, None, None, None) == ""  # no headline
    unlinked = against_other_suites_text({"suite": {"name": "mined", "sha256": "0" * 64}}, estimated, *args)
    assert unlinked.startswith("against another suite: not comparable") and "calibrate_suite.py" in unlinked
    suite = resolve_suite("default")
    if LinkingError.from_calibration(suite.extra.get("calibration") or {}) is None:
        pytest.skip("this default suite has no linking error")
    linked = against_other_suites_text({"suite": {"name": "default", "sha256": suite.sha256}}, estimated, *args)
    assert linked.startswith(f"against another suite: {fit.rating:.0f} [") and "calibration error added" in linked
