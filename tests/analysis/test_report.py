"""Report aggregates: Wilson intervals, buckets, unrated puzzles, formats."""

from __future__ import annotations

import csv
import io
import json

import pytest

from chesseval.analysis.report import render_results, summarize, wilson


def test_wilson_known_values() -> None:
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 0) == (None, None)
    lo, hi = wilson(0, 20)
    assert lo == 0.0 and 0.13 < hi < 0.17
    lo, hi = wilson(20, 20)
    assert hi == 1.0 and 0.83 < lo < 0.87


def rec(pid: str, rating: int | None, verdict: str, first: bool = False, **kw: object) -> dict[str, object]:
    return {"puzzle_id": pid, "rating": rating, "verdict": verdict, "first_move_correct": first or verdict == "correct", "solver_moves_found": int(verdict == "correct"), **kw}


def test_buckets_and_rates() -> None:
    records = [
        rec("a", 610, "correct"),
        rec("b", 799, "wrong"),
        rec("c", 800, "illegal"),
        rec("d", 1450, "no_move"),
        rec("e", None, "correct"),
        rec("f", 1410, "error"),
    ]
    res = summarize(records)
    labels = [b["label"] for b in res["buckets"]]
    assert labels == ["600-799", "800-999", "1400-1599", "unrated"]
    b600 = res["buckets"][0]
    assert (b600["lo"], b600["hi"], b600["n"], b600["solved"], b600["solve_rate"]) == (600, 799, 2, 1, 0.5)
    assert res["overall"]["n"] == 6 and res["overall"]["solved"] == 2
    assert res["overall"]["illegal_rate"] == pytest.approx(1 / 6)
    assert res["overall"]["verdicts"]["error"] == 1
    assert res["buckets"][-1]["lo"] is None
    wide = summarize(records, band_width=500)
    assert [b["label"] for b in wide["buckets"]] == ["500-999", "1000-1499", "unrated"]


def test_cost_unknown_is_not_zero() -> None:
    res = summarize([rec("a", 1000, "correct", cost_usd=0.01), rec("b", 1000, "wrong", cost_usd=None)])
    assert res["accounting"]["cost_usd"] is None
    res = summarize([rec("a", 1000, "correct", cost_usd=0.01), rec("b", 1000, "wrong", cost_usd=0.03)])
    assert res["accounting"]["cost_usd"] == pytest.approx(0.04) and res["accounting"]["cost_per_solved"] == pytest.approx(0.04)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_formats(fmt: str) -> None:
    res = summarize([rec("a", 610, "correct"), rec("b", 1200, "wrong")])
    text = render_results(res, fmt)
    if fmt == "json":
        assert json.loads(text)["overall"]["n"] == 2
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][0] == "rating" and rows[-1][0] == "all"
    else:
        assert "600-799" in text and "50.0%" in text


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="'html'"):
        render_results(summarize([]), "html")


def test_render_failures_lists_unsolved_hardest_first_with_expected_san() -> None:
    from chesseval.analysis.report import render_failures

    fen = "r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/5Q2/PPPP1PPP/RNB1K1NR b KQkq - 3 3"
    base = {"fen": fen, "moves": ["g8f6", "f3f7"], "has_setup_move": True, "themes": ["mateIn1"]}
    records = [
        {**base, "puzzle_id": "ok", "rating": 2500, "verdict": "correct", "turns": [{"played_san": "Qxf7#"}]},
        {**base, "puzzle_id": "easy", "rating": 900, "verdict": "wrong", "turns": [{"played_san": "Qb3", "expected_uci": "f3f7"}]},
        {**base, "puzzle_id": "hard", "rating": 1900, "verdict": "illegal", "turns": [{"parsed_text": "Qxf8", "expected_uci": "f3f7"}]},
    ]
    text = render_failures(records)
    lines = text.splitlines()
    assert lines[0] == "2 unsolved puzzle(s):"
    assert lines[1].split()[0] == "hard" and lines[2].split()[0] == "easy"
    assert "expected Qxf7#, played Qxf8" in lines[1] and "illegal" in lines[1]
    assert "ok" not in text.split()
    assert render_failures(records, 1).splitlines()[0] == "2 unsolved puzzle(s); the 1 hardest:"
    errored = render_failures([{**base, "puzzle_id": "err", "rating": 1000, "verdict": "error", "turns": []}])
    assert "err" in errored and "expected ?" in errored and "Qxf7#" not in errored
