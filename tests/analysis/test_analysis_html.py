"""The HTML report: positions of failures, escaping, self-containment, and a real headless Chromium."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import chess
import numpy as np
import pytest
from chromium import Chromium, find_chromium

from chesseval import cli
from chesseval.analysis.html_report import PLAYED_COLOUR, SOLUTION_COLOUR, board_svg, failure_position, render_html
from chesseval.core.puzzles import Puzzle

# Lichess puzzle 00008 (https://lichess.org/training/00008).
P00008 = Puzzle(
    id="00008",
    fen="r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7K b - - 0 24",
    moves=("f2g3", "e6e7", "b2b1", "b3c1", "b1c1", "h6c1"),
    rating=1784,
    rating_deviation=77,
    themes=("crushing", "hangingPiece", "long", "middlegame"),
)


def _record(verdict: str, turns: list[dict[str, object]], **extra: object) -> dict[str, object]:
    return {"puzzle_id": "00008", "rating": 1784, "rating_deviation": 77, "rating_source": "lichess",
            "themes": list(P00008.themes), "n_solver_moves": 3, "solver": "white", "verdict": verdict,
            "first_move_correct": len(turns) > 1, "solver_moves_found": len(turns) - 1, "turns": turns,
            "usage": {}, "cost_usd": None, **extra}


def test_failure_position_replays_to_the_failed_turn() -> None:
    rec = _record("wrong", [
        {"index": 0, "played_uci": "e6e7", "expected_uci": "e6e7", "outcome": "continue"},
        {"index": 1, "played_uci": "h6f8", "expected_uci": "b3c1", "answer": "Qf8+", "outcome": "wrong"},
    ])
    pos = failure_position(P00008, rec)
    board = P00008.board()
    for uci in ("e6e7", "b2b1"):
        board.push_uci(uci)
    assert pos.board.fen() == board.fen() and pos.board.turn == chess.WHITE
    assert pos.expected.uci() == "b3c1" and pos.played is not None and pos.played.uci() == "h6f8"
    assert pos.played_legal and pos.last_move == chess.Move.from_uci("b2b1") and pos.turn_index == 1
    svg = board_svg(pos)
    assert SOLUTION_COLOUR in svg and PLAYED_COLOUR in svg  # both arrows drawn


def test_failure_position_of_an_illegal_first_move() -> None:
    rec = _record("illegal", [{"index": 0, "played_uci": None, "parsed_text": "e6e1", "expected_uci": "e6e7", "outcome": "illegal"}])
    pos = failure_position(P00008, rec)
    assert pos.board.fen() == P00008.board().fen() and pos.last_move == chess.Move.from_uci("f2g3")
    assert pos.played == chess.Move.from_uci("e6e1") and not pos.played_legal


def test_html_escapes_answers_and_loads_nothing_from_outside() -> None:
    evil = '<script>alert("x")</script> & <img src="https://evil.example/x.png"> Qf8+'
    rec = _record("wrong", [{"index": 0, "played_uci": "h6f8", "expected_uci": "e6e7", "answer": evil, "outcome": "wrong"}])
    header = {"model": "test/<b>m</b>", "run_id": "abc", "suite": {"name": "s", "sha256": "0" * 64},
              "format": "fen", "template": "chesseval-v1", "meta": {"label": "L<i>", "release_date": "2025-01-01"}}
    html = render_html(header, [rec, _record("correct", [{"index": 0}], puzzle_id="x1")], {"00008": P00008})
    assert "<script" not in html.lower() and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "test/&lt;b&gt;m&lt;/b&gt;" in html and "L&lt;i&gt;" in html
    sources = re.findall(r'\ssrc="([^"]*)"', html)
    assert sources and all(s.startswith("data:") for s in sources)
    assert "default-src 'none'" in html  # the CSP keeps it that way in the browser
    # The board is an SVG data URI holding both arrows.
    board_src = next(s for s in sources if s.startswith("data:image/svg+xml;base64,"))
    svg = base64.b64decode(board_src.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and SOLUTION_COLOUR in svg and PLAYED_COLOUR in svg


def test_html_without_suite_positions_still_lists_failures() -> None:
    rec = _record("wrong", [{"index": 0, "played_uci": "h6f8", "expected_uci": "e6e7", "answer": "Qf8+", "outcome": "wrong",
                             "parse_rule": "last-line"}])
    html = render_html({"model": "m", "suite": {"name": "s"}}, [rec], None)
    assert "boards are not drawn" in html and 'id="fail-00008"' in html and "image/svg+xml" not in html
    assert "(read by last-line)" in html  # which reading rule found the move, for auditing


# -- in a real browser ---------------------------------------------------------------------------

LIGHT_SQUARE = (0xFF / 255, 0xCE / 255, 0x9E / 255)  # python-chess's default light square colour


def _share(img: np.ndarray, rgb: tuple[float, float, float], tol: float = 0.03) -> float:
    return float(np.mean(np.all(np.abs(img[..., :3] - np.array(rgb)) < tol, axis=-1)))


@pytest.fixture
def chromium_binary() -> str:
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium not found: apt-get install -y chromium (or set CHESSEVAL_CHROMIUM)")
    return binary


def test_report_in_headless_chromium(
    chromium_binary: str, lichess_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    record_property: pytest.RecordProperty,
) -> None:
    import matplotlib.image

    runs_dir = tmp_path / "runs"
    assert cli.main(["run", "--model", "builtin/search", "-M", "depth=1", "--suite", str(lichess_sample),
                     "--limit", "60", "--runs-dir", str(runs_dir), "--quiet", "--meta", "label=search-d1"]) == 0
    (run_dir,) = runs_dir.iterdir()
    report = tmp_path / "report.html"
    assert cli.main(["report", str(run_dir), "--html", str(report), "--gallery", "12"]) == 0
    capsys.readouterr()

    with Chromium(chromium_binary, tmp_path) as browser:
        page = browser.page()
        page.load(report.as_uri())
        state = page.evaluate("""(() => {
            const boards = [...document.querySelectorAll('img.board')];
            const plots = [...document.querySelectorAll('img.plot')];
            const ok = i => i.complete && i.naturalWidth > 0;
            return {boards: boards.length, boardsLoaded: boards.filter(ok).length,
                    plots: plots.length, plotsLoaded: plots.filter(ok).length,
                    failures: document.querySelectorAll('.fail').length, title: document.title};
        })()""")
        problems = page.problems()
        shot = page.screenshot(tmp_path / "report.png")

        # The detector itself must see errors where there are some (so "no errors" means something).
        bad = tmp_path / "bad.html"
        bad.write_text('<!DOCTYPE html><html><body><img src="missing.png"><script>console.error("boom");'
                       "undefined_function();</script></body></html>", encoding="utf-8")
        page.load(bad.as_uri())
        bad_problems = page.problems()

    with capsys.disabled():
        print(f"\n[chromium] report screenshot: {shot}  (page: {report})")
    record_property("screenshot", str(shot))
    assert problems["errors"] == [], problems
    assert problems["external_requests"] == []
    assert state["title"].startswith("chesseval: search-d1 on lichess_sample")
    assert state["failures"] == 12 and state["boards"] == 12 and state["boardsLoaded"] == 12
    assert state["plots"] == 1 and state["plotsLoaded"] == 1
    # The boards really were painted: the screenshot holds a board's worth of light squares per board.
    img = matplotlib.image.imread(shot)
    assert img.shape[1] >= 1200 and img.shape[0] > 2000
    light_pixels = _share(img, LIGHT_SQUARE) * img.shape[0] * img.shape[1]
    assert light_pixels > 12 * 8000, light_pixels
    assert len(bad_problems["errors"]) >= 3, bad_problems  # console.error, exception, failed image


def test_html_names_the_themes_off_the_curve() -> None:
    """The HTML report carries the same theme screen as the text report: a player who solves every
    mate in one at any rating, and otherwise follows a flat curve, gets the line; without that
    theme, it does not."""
    rng = np.random.default_rng(5)
    recs = []
    for i in range(400):
        rating = float(rng.uniform(600, 2600))
        mate = rng.random() < 0.15
        solved = mate or rng.random() < 0.97 / (1 + 10 ** (-(1500 - rating) / 800))
        recs.append(_record("correct" if solved else "wrong", [{"index": 0}], puzzle_id=f"p{i}", rating=rating,
                            themes=["mateIn1"] if mate else ["middlegame"]))
    header = {"model": "m", "suite": {"name": "s"}}
    html = render_html(header, recs, None)
    assert "themes off the curve" in html and "mateIn1" in html
    plain = [{**r, "themes": ["middlegame"]} for r in recs]
    assert "themes off the curve" not in render_html(header, plain, None)


def test_html_on_the_calibrated_default_suite_gives_the_interval_against_another_suite() -> None:
    from chesseval.core.records import RunDir, list_runs

    runs = list_runs(Path(__file__).resolve().parents[2] / "runs" / "reference")
    if not runs:
        pytest.skip("no reference runs")
    run = runs[0]
    html = render_html(run.read_header(), list(RunDir(run.path).records()), None)
    assert "Against another suite:" in html and "calibration error added" in html
    # The same estimated ratings with no calibration to find: the report says they do not compare.
    unlinked = render_html({**run.read_header(), "suite": {"name": "x", "sha256": "0"}}, list(RunDir(run.path).records()), None)
    assert "calibration error added" not in unlinked
    assert '<p class="note warn">Against another suite: not comparable' in unlinked
