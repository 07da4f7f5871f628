"""A calibrated suite's linking error: the error of the scale its puzzles were put on.

A headline's interval covers the sampling noise of the run's own answers. On a suite whose
ratings were calibrated by reference players (``scripts/calibrate_suite.py``: the default
suite), every puzzle rating also carries the calibration's shared error, which moves all of
them together. It cancels between two runs on the same suite, so it does not belong in a
headline's interval, but it does when a rating on the suite is compared with one on real
Lichess puzzles or on another suite.

The calibration measures it by bootstrap (replicates of the anchors, players refitted, suite
recalibrated) for every reference player and records it in the suite's manifest under
``calibration.linking``; here it is read back and interpolated at a run's headline, between the
reference players' own headlines on the suite (nearest player's value outside them).

A suite of real Lichess puzzles is on the Lichess scale by definition: its linking error is 0.
So is one whose ratings are Lichess rating buckets (an imported log's ``800-1200``): each
puzzle's rating is somewhere in its bucket, and that spread is in its deviation.
A suite of estimated ratings that no calibration linked to that scale has no known linking
error, and a rating on it is not compared with one on another suite
(:func:`scale_error_of_run` is None, :class:`CrossSuiteDifference` gives no z).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from statistics import NormalDist
from typing import Any

from chesseval.core.puzzles import RatingSource

__all__ = [
    "LinkingError",
    "linking_error_of_run",
    "interval_against_other_suites",
    "against_other_suites_text",
    "NOT_COMPARABLE",
    "scale_error_of_run",
    "CrossSuiteDifference",
    "cross_suite_difference",
]


ON_LICHESS_SCALE = frozenset({RatingSource.LICHESS, RatingSource.BUCKET})
"""Rating sources that are Lichess ratings (exact, or a bucket with its spread in the deviation)."""


NEAR = 200.0
"""How far (rating points) a held-out player's headline may be from a run's to be cited beside it."""


@dataclasses.dataclass(frozen=True, slots=True)
class LinkingError:
    """SE of the suite's calibration at each reference player's headline on the suite."""

    points: tuple[tuple[float, float], ...]
    """``(headline on the suite, linking SE)``, by headline."""
    replicates: int
    held_out: tuple[tuple[float, float], ...] = ()
    """``(headline on the suite, suite minus real puzzles)`` of the calibration's held-out players
    (never used to calibrate), by headline: how the suite did against real puzzles, out of sample."""

    @classmethod
    def from_calibration(cls, calibration: Mapping[str, Any]) -> LinkingError | None:
        """From a manifest's ``calibration`` record; None when it has no linking error. Only
        players whose level is inside the anchors' range (used or held out) count: an
        out-of-range player's headline is an extrapolation."""
        linking = calibration.get("linking") or {}
        se = linking.get("se") or {}
        points, held = [], []
        for row in calibration.get("validation") or ():
            curve = row.get("curve") or {}
            rating = (curve.get("suite") or {}).get("rating")
            if not (row.get("used") or row.get("held_out")) or rating is None or not math.isfinite(float(rating)):
                continue
            if row.get("player") in se:
                points.append((float(rating), float(se[row["player"]])))
            if row.get("held_out") and curve.get("diff") is not None:
                held.append((float(rating), float(curve["diff"])))
        if not points:
            return None
        return cls(tuple(sorted(points)), int(linking.get("replicates") or 0), tuple(sorted(held)))

    def held_out_near(self, rating: float, *, within: float = NEAR) -> tuple[float, ...]:
        """Suite-minus-real differences of the held-out players whose headline on the suite is
        within ``within`` of ``rating``."""
        return tuple(diff for at, diff in self.held_out if abs(at - rating) <= within)

    def se_at(self, rating: float) -> float:
        """Linear between the reference players, the nearest one's value outside them."""
        pts = self.points
        if rating <= pts[0][0]:
            return pts[0][1]
        for (r0, s0), (r1, s1) in zip(pts, pts[1:], strict=False):
            if rating <= r1:
                return s0 + (s1 - s0) * (rating - r0) / (r1 - r0) if r1 > r0 else max(s0, s1)
        return pts[-1][1]

    def widen(self, rating: float, low: float, high: float, *, level: float = 0.95) -> tuple[float, float]:
        """The interval with the linking error added in quadrature to each side's half-width."""
        extra = NormalDist().inv_cdf(0.5 + level / 2) * self.se_at(rating)
        return rating - math.hypot(rating - low, extra), rating + math.hypot(high - rating, extra)


def linking_error_of_run(header: Mapping[str, Any]) -> LinkingError | None:
    """The linking error of the suite a run was made on, from its manifest: found by the path the
    run recorded, else by its name among the known suites, and only if its puzzle file still has
    the sha256 the run recorded (an edited suite's calibration is not this run's)."""
    from chesseval.core.suites import resolve_suite
    from chesseval.errors import ChessEvalError

    info = header.get("suite") or {}
    for spec in (info.get("path"), info.get("name")):
        if not spec:
            continue
        try:
            suite = resolve_suite(str(spec))
        except (ChessEvalError, OSError, ValueError):
            continue
        if suite.sha256 == info.get("sha256"):
            return LinkingError.from_calibration(suite.extra.get("calibration") or {})
    return None


def interval_against_other_suites(header: Mapping[str, Any], rating: float | None, low: float | None,
                                  high: float | None, *, level: float = 0.95) -> tuple[float, float, float] | None:
    """``(low, high, linking SE)``: a run's headline interval widened by its suite's linking error,
    for a comparison with a rating on another suite. None when the headline has no finite interval
    or the suite has no linking error (an uncalibrated suite, or one edited since the run)."""
    return _widened(linking_error_of_run(header), rating, low, high, level)


def _widened(link: LinkingError | None, rating: float | None, low: float | None, high: float | None,
             level: float) -> tuple[float, float, float] | None:
    if link is None or rating is None or low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    lo, hi = link.widen(rating, low, high, level=level)
    return lo, hi, link.se_at(rating)


NOT_COMPARABLE = "against another suite: not comparable"
"""How :func:`against_other_suites_text` starts on a suite whose ratings no calibration linked."""


def against_other_suites_text(header: Mapping[str, Any], records: Iterable[Mapping[str, Any]], rating: float | None,
                              low: float | None, high: float | None, *, level: float = 0.95) -> str:
    """The report's line on comparing this headline with a rating on another suite (no newline):
    the interval widened by the suite's linking error on a calibrated suite, a warning
    (:data:`NOT_COMPARABLE`) on a suite of estimated ratings that no calibration linked, ``""``
    on real Lichess puzzles (the headline's own interval is the one to use) or without a headline."""
    if rating is None or _rating_sources(records) <= ON_LICHESS_SCALE:
        return ""
    link = linking_error_of_run(header)
    if link is None:
        return (f"{NOT_COMPARABLE}: this suite's puzzle ratings are estimates that no calibration "
                "linked to the Lichess scale (scripts/calibrate_suite.py does); compare runs on this suite only")
    got = _widened(link, rating, low, high, level)
    if got is None:
        return ""
    lo, hi, se = got
    text = (f"against another suite: {rating:.0f} [{lo:.0f}, {hi:.0f}] (the interval with this suite's calibration "
            f"error added, SE {se:.0f} at this rating; it cancels between two runs on this suite)")
    near = link.held_out_near(rating)
    if near:
        span = f"{near[0]:+.0f}" if len(near) == 1 else f"{min(near):+.0f} to {max(near):+.0f}"
        text += (f"; held-out reference players within {NEAR:.0f} of this rating read {span} here against real Lichess "
                 f"puzzles ({len(near)} player{'s' if len(near) > 1 else ''}; README, calibration)")
    return text


def _rating_sources(records: Iterable[Mapping[str, Any]]) -> set[str]:
    # Records written before rating_source was recorded were all on Lichess puzzles.
    return {str(rec.get("rating_source") or RatingSource.LICHESS) for rec in records if rec.get("rating") is not None}


def scale_error_of_run(header: Mapping[str, Any], records: Iterable[Mapping[str, Any]], rating: float) -> float | None:
    """SE, at ``rating``, of the scale a run's puzzle ratings are on, against the Lichess scale:
    0 when every rated puzzle carries its Lichess rating (or bucket), the suite's linking error when a
    calibration put its estimated ratings on that scale, None when nothing did (feature
    estimates only, or a suite edited since the run)."""
    sources = _rating_sources(records)
    if sources <= ON_LICHESS_SCALE:
        return 0.0
    link = linking_error_of_run(header)
    return None if link is None else link.se_at(rating)


@dataclasses.dataclass(frozen=True, slots=True)
class CrossSuiteDifference:
    """Two runs' headlines on different suites: ``b - a``, and its z with both suites' linking
    errors added to the runs' own sampling errors (None when either linking error is unknown)."""

    label_a: str
    label_b: str
    difference: float
    z: float | None
    linking_se_a: float | None
    linking_se_b: float | None
    extrapolated: bool = False
    """Either headline lies outside its suite's puzzle ratings: its suite's curve shape places it."""

    def summary(self) -> str:
        head = f"{self.label_b} vs {self.label_a} across suites: headline rating {self.difference:+.0f}"
        unknown = [lab for lab, se in ((self.label_a, self.linking_se_a), (self.label_b, self.linking_se_b)) if se is None]
        if unknown:
            text = (f"{head}; no z: the puzzle ratings of {' and '.join(unknown)} are estimates that no "
                    "calibration linked to the Lichess scale")
        elif self.z is None:
            text = f"{head}; no z: a headline without a finite interval"
        else:
            text = (f"{head}, z = {self.z:+.1f} (sampling errors and the linking errors, "
                    f"{self.label_b} {self.linking_se_b:.0f}, {self.label_a} {self.linking_se_a:.0f})")
        return text + ("; extrapolated headline, read with care" if self.extrapolated else "")

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, "text": self.summary()}


def cross_suite_difference(a: tuple[Mapping[str, Any], Iterable[Any], Any], b: tuple[Mapping[str, Any], Iterable[Any], Any],
                           *, label_a: str = "A", label_b: str = "B") -> CrossSuiteDifference | None:
    """``a`` and ``b`` are ``(run header, records, CurveFit)``. None when either has no headline.

    The suites' linking errors are independent (each suite's calibration bootstrap is its own),
    so they add in quadrature to the two headlines' sampling errors."""
    from chesseval.core.curve import headline_z

    (ha, ra, ca), (hb, rb, cb) = a, b
    if ca is None or cb is None or ca.rating is None or cb.rating is None:
        return None
    se_a = scale_error_of_run(ha, ra, ca.rating)
    se_b = scale_error_of_run(hb, rb, cb.rating)
    z = None
    if se_a is not None and se_b is not None:
        z = headline_z(cb.to_dict(), ca.to_dict(), extra_se=math.hypot(se_a, se_b))
    return CrossSuiteDifference(label_a, label_b, cb.rating - ca.rating, z, se_a, se_b,
                                extrapolated=ca.extrapolated or cb.extrapolated)
