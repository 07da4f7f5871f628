"""PNG plots: solve rate against puzzle rating, rating over release dates, cost against rating.

matplotlib is imported inside each function (never when ``chesseval`` is imported), and figures
are drawn on their own Agg canvas without pyplot: no global backend switch, no display needed,
nothing left open. Each function returns the PNG bytes and also writes them when given a path.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chesseval.analysis.breakdown import by_rating_bucket
from chesseval.analysis.leaderboard import RunSummary, order_by_release
from chesseval.core.rating import DEFAULT_RD, RatingEstimate, expected_score

__all__ = ["plot_solve_rate_by_bucket", "plot_rating_history", "plot_cost_vs_rating"]

_DPI = 110


def _figure(width: float = 7.5, height: float = 4.5) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str] | None) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def plot_solve_rate_by_bucket(
    runs: Sequence[tuple[str, Sequence[Any]]],
    path: str | os.PathLike[str] | None = None,
    *,
    width: int = 200,
    ratings: Sequence[RatingEstimate | None] | None = None,
    title: str = "Solve rate by puzzle rating",
) -> bytes:
    """One line per ``(label, records)`` with its Wilson 95% band, buckets of ``width`` points.

    With ``ratings`` (one per run), the fitted model's expected solve rate is drawn dashed, so
    the curve and the estimate can be checked against each other.
    """
    fig = _figure()
    ax = fig.add_subplot()
    for i, (label, records) in enumerate(runs):
        groups = [g for g in by_rating_bucket(records, width=width).groups if g.key != "unrated"]
        if not groups:
            continue
        x = [int(g.key.split("-")[0]) + width / 2 for g in groups]
        colour = f"C{i % 10}"
        ax.plot(x, [g.rate for g in groups], "o-", color=colour, label=f"{label}", markersize=4)
        ax.fill_between(x, [g.low for g in groups], [g.high for g in groups], color=colour, alpha=0.18, linewidth=0)
        est = ratings[i] if ratings is not None and i < len(ratings) else None
        if est is not None and est.rating is not None:
            xs = [x[0] - width / 2 + k * (x[-1] - x[0] + width) / 100 for k in range(101)]
            ax.plot(xs, expected_score(est.rating, xs, DEFAULT_RD), "--", color=colour, linewidth=1,
                    label=f"{label}: model at {est.rating:.0f}")  # fmt: skip
    ax.set_xlabel("Lichess puzzle rating")
    ax.set_ylabel("solve rate (95% Wilson band)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return _save(fig, path)


def _rating_point(est: RatingEstimate) -> tuple[float, float, float] | None:
    """(y, down, up) for an error bar; censored estimates become a bar from the finite bound."""
    if est.n == 0:
        return None
    if est.rating is not None:
        return est.rating, est.rating - est.low, est.high - est.rating
    if math.isfinite(est.low):
        return est.low, 0.0, 0.0
    return est.high, 0.0, 0.0


def plot_rating_history(
    rows: Sequence[RunSummary], path: str | os.PathLike[str] | None = None, *, title: str | None = None
) -> bytes:
    """Rating (with its interval) and solve rate over release dates, one colour per model family.

    Runs without a release date are skipped; a censored rating is drawn as a triangle at its bound.
    """
    rows = [r for r in order_by_release(rows) if r.release_date is not None]
    families = sorted({r.family or "" for r in rows})
    fig = _figure(8.0, 4.8)
    ax = fig.add_subplot()
    ax2 = ax.twinx()
    for f_i, family in enumerate(families):
        colour = f"C{f_i % 10}"
        series = [r for r in rows if (r.family or "") == family]
        name = family or "(no family)"
        for r in series:
            point = _rating_point(r.rating)
            if point is None:
                continue
            y, down, up = point
            if r.rating.rating is None:  # a one-sided bound
                marker = "^" if r.rating.censored == "all_solved" else "v"
                ax.plot([r.release_date], [y], marker, color=colour, markersize=9)
            else:
                ax.errorbar([r.release_date], [y], yerr=[[down], [up]], fmt="o", color=colour, capsize=4)
            ax.annotate(r.label, (r.release_date, y), textcoords="offset points", xytext=(6, 6), fontsize="small")
        finite = [(r.release_date, r.rating.rating) for r in series if r.rating.rating is not None]
        if finite:
            ax.plot([d for d, _ in finite], [y for _, y in finite], "-", color=colour, alpha=0.6,
                    label=f"{name}: rating (95% CI)")  # fmt: skip
        ax2.plot([r.release_date for r in series], [r.solve_rate for r in series], "s:", color=colour, alpha=0.6,
                 markerfacecolor="white", label=f"{name}: solve rate")  # fmt: skip
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("solve rate (hollow squares)")
    ax.set_ylabel("puzzle rating (95% CI)")
    ax.set_xlabel("release date")
    ax.margins(x=0.1)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    if handles or h2:
        ax.legend(handles + h2, labels + l2, fontsize="small", loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    named = [f for f in families if f]
    ax.set_title(title or ("Rating over releases" + (f": {', '.join(named)}" if named else "")))
    return _save(fig, path)


def plot_cost_vs_rating(
    rows: Sequence[RunSummary], path: str | os.PathLike[str] | None = None, *, title: str = "Cost against rating"
) -> bytes:
    """Cost per solved puzzle (log scale) against rating; runs without costs fall back to tokens."""
    use_cost = any(r.cost_per_solved is not None for r in rows)
    fig = _figure()
    ax = fig.add_subplot()
    plotted = 0
    for r in rows:
        x = r.cost_per_solved if use_cost else r.tokens_per_solved
        point = _rating_point(r.rating)
        if x is None or x <= 0 or point is None:
            continue
        y, down, up = point
        ax.errorbar([x], [y], yerr=[[down], [up]], fmt="o", capsize=4)
        ax.annotate(r.label, (x, y), textcoords="offset points", xytext=(6, 6), fontsize="small")
        plotted += 1
    if plotted:
        ax.set_xscale("log")
        ax.margins(x=0.15)
    else:
        ax.text(0.5, 0.5, "no run reports cost or tokens", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("US$ per solved puzzle" if use_cost else "tokens per solved puzzle")
    ax.set_ylabel("puzzle rating (95% CI)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path)
