"""Where a fitted solve curve misses: observed against expected solves, theme by theme.

The band goodness-of-fit test (:mod:`chesseval.core.curve`) says *whether* one curve describes a
run; this says *where* it does not. One rating per player assumes that a puzzle's difficulty is
the same for every player. A player that solves one theme at any rating breaks that: engine-free
search solves every mate in one (all 108 of 108 real Lichess puzzles tagged ``mateIn1`` on the
calibration anchors, at every depth), and mates in one are half of Lichess's 600-799 puzzles but
almost none above 1400. Its solve rate then follows the suite's share of the theme rather than
difficulty, its curve misfits, and its rating moves with the suite's theme mix. Language models
may have such themes too; this table names them.

For each theme tagged on at least ``min_n`` of the run's rated puzzles: the puzzles solved, the
number the fitted curve expects (the sum of its solve probabilities at each puzzle's rating and
RD), and z = (solved - expected) / sqrt(sum p (1 - p)). With some 30 themes per suite, |z| >= 3
(:data:`FLAG_Z`) keeps the chance of flagging any theme of a player the curve does describe
near 5-10%; themes overlap and the curve was fitted to the same answers, so z is a screen, not a
test. For each flagged theme the headline is also fitted again without that theme's puzzles
(:attr:`ThemeFit.without`): how far the theme mix moves this run's rating, in rating points.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chesseval.core.curve import CurveFit, curve_from_records
from chesseval.core.rating import is_rated_outcome, outcomes_from_records

__all__ = ["FLAG_Z", "MIN_N", "ThemeFit", "theme_fits", "flagged", "format_flagged"]

FLAG_Z = 3.0
"""|z| from which a theme is reported as off the curve."""
MIN_N = 20
"""Fewest rated puzzles of a theme for it to be tested."""


@dataclasses.dataclass(frozen=True, slots=True)
class ThemeFit:
    """Observed against expected solves on the puzzles of one theme."""

    theme: str
    n: int
    solved: int
    expected: float
    variance: float
    """Sum of p (1 - p) over the theme's puzzles: the binomial variance of ``solved`` under the curve."""
    without: tuple[float | None, float, float] | None = None
    """The headline and its interval fitted without this theme's puzzles (flagged themes only;
    rating None when that fit has no 50% point)."""

    @property
    def z(self) -> float:
        return (self.solved - self.expected) / math.sqrt(self.variance) if self.variance > 0 else 0.0

    def format(self) -> str:
        """``mateIn1 107/107 solved, 57.4 expected (z +9.9)``, and for a flagged theme
        ``...; headline without them 1055 [934, 1154])``."""
        text = f"{self.theme} {self.solved}/{self.n} solved, {self.expected:.1f} expected (z {self.z:+.1f}"
        if self.without is not None:
            rating, low, high = self.without
            text += "; headline without them " + ("n/a" if rating is None else f"{rating:.0f} [{_bound(low)}, {_bound(high)}]")
        return text + ")"

    def to_dict(self) -> dict[str, Any]:
        d = {**dataclasses.asdict(self), "z": round(self.z, 2)}
        if self.without is not None:
            rating, low, high = self.without
            d["without"] = {"rating": rating, "low": low if math.isfinite(low) else None, "high": high if math.isfinite(high) else None}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ThemeFit:
        """Back from :meth:`to_dict` (as ``results.json`` stores it; ``z`` is derived, not read)."""
        w = d.get("without")
        without = None if not w else (None if w.get("rating") is None else float(w["rating"]),
                                      -math.inf if w.get("low") is None else float(w["low"]),
                                      math.inf if w.get("high") is None else float(w["high"]))  # fmt: skip
        return cls(str(d["theme"]), int(d["n"]), int(d["solved"]), float(d["expected"]), float(d["variance"]), without)


def _bound(x: float) -> str:
    return f"{x:.0f}" if math.isfinite(x) else ("-inf" if x < 0 else "inf")


def _themes(record: Any) -> Sequence[str]:
    themes = record.get("themes") if isinstance(record, dict) else getattr(record, "themes", None)
    return tuple(themes or ())


def theme_fits(records: Iterable[Any], fit: CurveFit, *, min_n: int = MIN_N, refit: bool = True) -> tuple[ThemeFit, ...]:
    """Every theme on at least ``min_n`` of the rated records, largest |z| first.

    ``fit`` is the run's curve (:func:`chesseval.core.curve.curve_from_records` over the same
    records); records count as they do in that fit (:func:`chesseval.core.rating.is_rated_outcome`).
    With ``refit``, every flagged theme (|z| >= :data:`FLAG_Z`) also gets the headline fitted
    without its puzzles (same curve model, no goodness-of-fit bootstrap).
    Empty when the fit has no curve (nothing or everything solved)."""
    if fit.theta is None:
        return ()
    records = list(records)
    rated = [r for r in records if is_rated_outcome(r)]
    solved, ratings, rds, _ = outcomes_from_records(rated)
    if not rated:
        return ()
    p = fit.p_solve(ratings, rds)
    by_theme: dict[str, list[int]] = {}
    for i, rec in enumerate(rated):
        for theme in set(_themes(rec)):
            by_theme.setdefault(theme, []).append(i)
    out = []
    for theme, idx in by_theme.items():
        if len(idx) < min_n:
            continue
        expected = float(sum(p[i] for i in idx))
        variance = float(sum(p[i] * (1.0 - p[i]) for i in idx))
        tf = ThemeFit(theme, len(idx), sum(bool(solved[i]) for i in idx), expected, variance)
        if refit and abs(tf.z) >= FLAG_Z:
            other = curve_from_records([r for r in records if theme not in _themes(r)], model=fit.model, gof_boot=0)
            tf = dataclasses.replace(tf, without=(other.rating, other.low, other.high))
        out.append(tf)
    return tuple(sorted(out, key=lambda t: (-abs(t.z), t.theme)))


def flagged(fits: Iterable[ThemeFit], *, z: float = FLAG_Z) -> tuple[ThemeFit, ...]:
    """The themes at least ``z`` away from the curve, largest |z| first."""
    return tuple(t for t in fits if abs(t.z) >= z)


def format_flagged(fits: Sequence[ThemeFit], *, limit: int = 3) -> str:
    """One line for a report, or ``""`` when no theme is off the curve."""
    if not fits:
        return ""
    shown = "; ".join(t.format() for t in fits[:limit])
    more = f"; and {len(fits) - limit} more" if len(fits) > limit else ""
    return (f"themes off the curve (|z| >= {FLAG_Z:g}): {shown}{more}. The rating then depends on the suite's "
            "share of these themes (`chesseval breakdown RUN --by theme`)")
