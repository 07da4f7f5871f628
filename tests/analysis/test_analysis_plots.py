"""Leaderboard rows and PNG plots from synthetic runs."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chesseval.analysis.leaderboard import (
    leaderboard_markdown,
    leaderboard_text,
    order_by_release,
    parse_release_date,
    record_tokens,
    summarize,
)
from chesseval.core.rating import expected_score

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_run(true_rating: float, n: int = 300, seed: int = 0, cost: float | None = 0.002) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    ratings = rng.uniform(600, 2600, n).round()
    solved = rng.random(n) < expected_score(true_rating, ratings, 80)
    out = []
    for i in range(n):
        verdict = "correct" if solved[i] else ("illegal" if i % 5 == 0 else "wrong")
        out.append({"puzzle_id": f"p{i}", "rating": int(ratings[i]), "rating_deviation": 80, "verdict": verdict,
                    "themes": ["fork"], "n_solver_moves": 2, "solver_moves_found": 2 if solved[i] else 0,
                    "usage": {"input_tokens": 400, "output_tokens": 100}, "cost_usd": cost})
    return out


def test_summary_numbers() -> None:
    records = make_run(1500, 200) + [{"puzzle_id": "x", "rating": 1500, "verdict": "error", "usage": None, "cost_usd": None}]
    s = summarize(records, label="m1", meta={"release_date": "2025-01-02", "family": "m"})
    assert s.n == 200 and s.errors == 1
    assert s.solved == sum(r["verdict"] == "correct" for r in records)
    assert s.illegal_rate == pytest.approx(sum(r["verdict"] == "illegal" for r in records) / 200)
    assert s.tokens == 200 * 500 and s.tokens_per_solved == pytest.approx(200 * 500 / s.solved)
    assert s.cost_per_solved == pytest.approx(200 * 0.002 / s.solved)
    assert s.release_date == dt.date(2025, 1, 2) and s.family == "m"
    assert s.rating.rating is not None and s.rating.low < 1500 < s.rating.high
    assert s.to_dict()["rating"]["n"] == 200


def test_tokens_and_dates_parsing() -> None:
    assert record_tokens({"usage": {"total_tokens": 7, "input_tokens": 1}}) == 7
    assert record_tokens({"usage": {"input_tokens": 3, "output_tokens": None}}) == 3
    assert record_tokens({"usage": {}}) is None and record_tokens({}) is None
    assert parse_release_date("2024-05-13T10:00:00Z") == dt.date(2024, 5, 13)
    assert parse_release_date("soon") is None and parse_release_date(None) is None


def test_leaderboard_orders_by_rating_and_renders() -> None:
    rows = [summarize(make_run(r, seed=i), label=f"m{r}") for i, r in enumerate((1200, 1900, 1500))]
    md = leaderboard_markdown(rows)
    lines = [line for line in md.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [line.split("|")[2].strip() for line in lines] == ["m1900", "m1500", "m1200"]
    assert "±" in md and "%" in md
    text = leaderboard_text(rows)
    assert text.splitlines()[2].split()[1] == "m1900"
    no_cost = summarize(make_run(1500, cost=None), label="free")
    assert no_cost.cost_per_solved is None and "—" in leaderboard_markdown([no_cost])


def test_release_order_puts_undated_last() -> None:
    rows = [summarize(make_run(1500, 20), label=l, meta={"release_date": d}) for l, d in
            (("b", "2025-03-01"), ("none", None), ("a", "2024-01-01"))]
    assert [r.label for r in order_by_release(rows)] == ["a", "b", "none"]


def _pixels(png: bytes) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")


def _colour_share(img: np.ndarray, rgb: tuple[float, float, float], tol: float = 0.08) -> float:
    return float(np.mean(np.all(np.abs(img[..., :3] - np.array(rgb)) < tol, axis=-1)))


C0 = (0x1F / 255, 0x77 / 255, 0xB4 / 255)  # matplotlib's first cycle colour
C1 = (0xFF / 255, 0x7F / 255, 0x0E / 255)


def test_bucket_plot_draws_each_run(tmp_path: Path) -> None:
    from chesseval.analysis.plots import plot_solve_rate_by_bucket

    a, b = make_run(1200, seed=1), make_run(1800, seed=2)
    path = tmp_path / "buckets.png"
    one = plot_solve_rate_by_bucket([("a", a)], path)
    assert path.read_bytes() == one and one.startswith(PNG_MAGIC)
    two = plot_solve_rate_by_bucket([("a", a), ("b", b)], ratings=[summarize(a, label="a").rating, None])
    img1, img2 = _pixels(one), _pixels(two)
    assert img1.shape[1] > 600 and img1.shape[0] > 300
    assert _colour_share(img1, C0) > 0.002 and _colour_share(img1, C1) < 0.0005  # one run: one colour
    assert _colour_share(img2, C1) > 0.002  # second run drawn


def test_history_and_cost_plots(tmp_path: Path) -> None:
    from chesseval.analysis.plots import plot_cost_vs_rating, plot_rating_history

    rows = [summarize(make_run(r, seed=i, cost=c), label=f"v{i}", meta={"family": "m", "release_date": d})
            for i, (r, d, c) in enumerate(((1300, "2024-02-01", 0.001), (1600, "2024-09-01", 0.003), (1700, "2025-04-01", 0.01)))]
    hist = plot_rating_history(rows, tmp_path / "h.png")
    cost = plot_cost_vs_rating(rows, tmp_path / "c.png")
    assert hist.startswith(PNG_MAGIC) and cost.startswith(PNG_MAGIC)
    assert _colour_share(_pixels(hist), C0) > 0.001 and _colour_share(_pixels(hist), C1) < 0.0001
    assert all(_colour_share(_pixels(cost), c) > 0.0002 for c in (C0, C1))  # one marker per run
    # A second family gets its own colour; a censored run (everything solved) is drawn as a bound.
    all_solved = [dict(r, verdict="correct") for r in make_run(1500, 30)]
    rows.append(summarize(all_solved, label="n1", meta={"family": "n", "release_date": "2025-09-01"}))
    rows.append(summarize(make_run(1400, seed=9), label="n0", meta={"family": "n", "release_date": "2024-06-01"}))
    two = plot_rating_history(rows)
    assert two.startswith(PNG_MAGIC) and _colour_share(_pixels(two), C1) > 0.0002


def test_importing_chesseval_modules_does_not_import_matplotlib() -> None:
    code = ("import sys, chesseval, chesseval.analysis.breakdown, chesseval.core.rating, chesseval.analysis.leaderboard, chesseval.analysis.plots; "
            "bad = [m for m in ('matplotlib', 'pandas') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
