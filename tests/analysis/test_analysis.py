"""Breakdowns, partial credit and paired comparisons on synthetic record lists."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chesseval.analysis.breakdown import (
    by_phase,
    by_prompt_format,
    by_rating_bucket,
    by_side_to_move,
    by_solution_length,
    by_theme,
    comparability_problems,
    mcnemar_exact,
    paired_comparison,
    partial_credit,
    rating_bucket,
    wilson_interval,
)
from chesseval.core.rating import expected_score


def rec(pid: str, verdict: str, rating: int | None = 1500, themes: tuple[str, ...] = ("fork", "middlegame"),
        n_moves: int = 2, found: int | None = None, **extra: object) -> dict[str, object]:
    if found is None:
        found = n_moves if verdict == "correct" else 0
    return {"schema": 1, "puzzle_id": pid, "rating": rating, "rating_deviation": 80, "themes": list(themes),
            "n_solver_moves": n_moves, "verdict": verdict, "solver_moves_found": found, **extra}


def test_wilson_reference_values() -> None:
    # Reference values (Wilson 1927 / Newcombe 1998 table): 5 of 10 -> 0.2366-0.7634; 0 of 10 -> 0-0.2775.
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="got 11"):
        wilson_interval(11, 10)


def test_mcnemar_exact_reference_values() -> None:
    assert mcnemar_exact(1, 6) == pytest.approx(2 * (1 + 7) / 2**7)  # 0.125
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(0, 0) == 1.0
    # Large counts stay finite and small: 100 vs 200 discordant pairs.
    assert 0 < mcnemar_exact(100, 200) < 1e-7


def test_rating_bucket_labels_and_order() -> None:
    assert rating_bucket(1450) == "1400-1599" and rating_bucket(1600) == "1600-1799"
    assert rating_bucket(799, 100) == "700-799" and rating_bucket(None) == "unrated"
    records = [rec("a", "correct", 1850), rec("b", "wrong", 650), rec("c", "correct", 1999), rec("d", "wrong", None)]
    bd = by_rating_bucket(records)
    assert bd.keys() == ["600-799", "1800-1999", "unrated"]
    assert (bd["1800-1999"].n, bd["1800-1999"].k) == (2, 2)


def test_theme_breakdown_counts_each_theme_and_skips_errors() -> None:
    records = [
        rec("a", "correct", themes=("fork", "endgame")),
        rec("b", "wrong", themes=("fork", "pin", "middlegame")),
        rec("c", "illegal", themes=("pin",)),
        rec("d", "error", themes=("fork",)),
    ]
    bd = by_theme(records)
    assert (bd["fork"].n, bd["fork"].k) == (2, 1)
    assert (bd["pin"].n, bd["pin"].k) == (2, 0)
    assert bd.excluded == 1
    assert bd.groups[0].n >= bd.groups[-1].n
    lo, hi = bd["fork"].low, bd["fork"].high
    assert (lo, hi) == pytest.approx(wilson_interval(1, 2))
    assert "| fork | 2 | 1 | 50.0% |" in bd.to_markdown()
    assert by_theme(records, min_n=2).keys() == ["fork", "pin"]


def test_phase_length_format_and_side_breakdowns() -> None:
    records = [
        rec("a", "correct", themes=("endgame",), n_moves=1, prompt_format="fen", side_to_move="white"),
        rec("b", "wrong", themes=("opening", "fork"), n_moves=3, prompt_format="pgn", side_to_move="black"),
        rec("c", "correct", themes=("fork",), n_moves=3, prompt_format="fen", board_fen="8/8/8/8/8/8/8/K1k5 b - - 0 1"),
    ]
    assert by_phase(records).keys() == ["opening", "endgame", "unknown"]
    assert by_solution_length(records).keys() == ["1", "3"] and by_solution_length(records)["3"].k == 1
    assert by_prompt_format(records)["fen"].k == 2
    side = by_side_to_move(records)
    assert (side["white"].n, side["black"].n) == (1, 2)


def test_side_to_move_from_the_suite(lichess_sample) -> None:  # type: ignore[no-untyped-def]
    from chesseval.core.puzzles import load_puzzles

    puzzles = {p.id: p for p in load_puzzles(lichess_sample, limit=50)}
    records = [rec(pid, "correct") for pid in puzzles]
    side = by_side_to_move(records, puzzles)
    expected_white = sum(p.board().turn for p in puzzles.values())
    assert side["white"].n == expected_white and side["black"].n == 50 - expected_white


def test_partial_credit_distribution() -> None:
    records = [
        rec("a", "correct", n_moves=3),            # found 3
        rec("b", "wrong", n_moves=3, found=2),     # loses the thread on move three
        rec("c", "wrong", n_moves=3, found=0),     # cannot see the first move
        rec("d", "illegal", n_moves=1, found=0),
        rec("e", "error", n_moves=1, found=0),     # no answer: not counted
    ]
    pc = partial_credit(records)
    assert pc.n == 4
    assert pc.overall == {0: 2, 2: 1, 3: 1}
    assert pc.by_length == {1: {0: 1}, 3: {0: 1, 2: 1, 3: 1}}
    assert pc.share(2, 3) == pytest.approx(1 / 3)
    table = pc.to_markdown()
    assert "| 3 | 3 | 33% | 0% | 33% | 33% |" in table


def _pair_runs(n: int, ra: float, rb: float, seed: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = np.random.default_rng(seed)
    ratings = rng.uniform(800, 2400, n).round()
    pa, pb = expected_score(ra, ratings, 80), expected_score(rb, ratings, 80)
    u = rng.random(n)  # shared noise: the runs are positively correlated, as real paired runs are
    a = [rec(f"p{i}", "correct" if u[i] < pa[i] else "wrong", int(ratings[i])) for i in range(n)]
    b = [rec(f"p{i}", "correct" if u[i] < pb[i] else "wrong", int(ratings[i])) for i in range(n)]
    return a, b


def test_paired_comparison_counts_and_tests() -> None:
    a = [rec("1", "correct"), rec("2", "correct"), rec("3", "wrong"), rec("4", "wrong"), rec("5", "error"), rec("6", "wrong")]
    b = [rec("1", "correct"), rec("2", "wrong"), rec("3", "correct"), rec("4", "correct"), rec("5", "correct"), rec("7", "correct")]
    pc = paired_comparison(a, b, label_a="old", label_b="new", n_boot=500)
    assert pc.n == 4  # 5 is an error in A, 6 and 7 are not shared
    assert (pc.both, pc.only_a, pc.only_b, pc.neither) == (1, 1, 2, 0)
    assert pc.p_value == pytest.approx(mcnemar_exact(1, 2))
    assert pc.diff == pytest.approx(0.25)
    assert pc.diff_low <= pc.diff <= pc.diff_high
    assert "new vs old on 4 shared puzzles" in pc.summary()


def test_paired_comparison_detects_a_real_difference_and_not_a_null_one() -> None:
    a, b = _pair_runs(600, 1400, 1600, seed=4)
    pc = paired_comparison(a, b, n_boot=1000, rating_boot=400)
    assert pc.p_value < 1e-6 and pc.diff_low > 0
    assert pc.rating_diff is not None and pc.rating_diff_low is not None and pc.rating_diff_high is not None
    assert pc.rating_diff_low < 200 < pc.rating_diff_high
    assert pc.rating_diff_low > 0
    a, b = _pair_runs(600, 1500, 1500, seed=5)
    same = paired_comparison(a, b, n_boot=1000, rating_boot=0)
    assert same.only_a == same.only_b == 0 and same.p_value == 1.0
    assert same.diff_low <= 0 <= same.diff_high


def test_paired_bootstrap_interval_matches_the_normal_approximation() -> None:
    a, b = _pair_runs(800, 1500, 1650, seed=9)
    pc = paired_comparison(a, b, n_boot=4000, rating_boot=0, seed=3)
    # Var of the mean paired difference: (b + c)/n^2 - diff^2/n.
    se = math.sqrt((pc.only_a + pc.only_b) / pc.n**2 - pc.diff**2 / pc.n)
    assert pc.diff_low == pytest.approx(pc.diff - 1.96 * se, abs=0.006)
    assert pc.diff_high == pytest.approx(pc.diff + 1.96 * se, abs=0.006)


def _header(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"suite": {"name": "s", "sha256": "a" * 64}, "template": "chesseval-v1", "format": "fen",
                               "prompt_options": {"legal_moves": False}, "limit": None}
    return {**base, **changes}


def test_comparability_problems() -> None:
    assert comparability_problems(_header(), _header()) == []
    probs = comparability_problems(_header(), _header(suite={"name": "t", "sha256": "b" * 64}), label_a="r1", label_b="r2")
    assert [p.severity for p in probs] == ["refuse"]
    assert "different puzzle suites: r1 ran 's'" in probs[0].message and "bbbbbbbbbbbb" in probs[0].message
    probs = comparability_problems(_header(), _header(format="pgn"), label_b="r2")
    assert [p.severity for p in probs] == ["warn"] and "'chesseval-v1/pgn" in probs[0].message
    probs = comparability_problems(_header(), _header(prompt_options={"legal_moves": True}))
    assert [p.severity for p in probs] == ["warn"] and "legal_moves=True" in probs[0].message
    probs = comparability_problems(_header(), _header(limit=100))
    assert [p.severity for p in probs] == ["warn"] and "subsets" in probs[0].message
    probs = comparability_problems(_header(), {"model": "x"}, label_b="old")
    assert {p.severity for p in probs} == {"warn"} and any("suite of old is unknown" in p.message for p in probs)


def test_paired_rating_difference_ignores_unrated_shared_puzzles() -> None:
    a, b = _pair_runs(300, 1400, 1700, seed=12)
    a.append(rec("unrated", "wrong", None))
    b.append(rec("unrated", "correct", None))
    pc = paired_comparison(a, b, n_boot=300, rating_boot=200)
    assert pc.n == 301 and pc.only_b >= 1
    assert pc.rating_diff is not None and pc.rating_diff_low is not None and 0 < pc.rating_diff_low < pc.rating_diff
