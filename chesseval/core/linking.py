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
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

__all__ = ["LinkingError", "linking_error_of_run", "interval_against_other_suites"]


@dataclasses.dataclass(frozen=True, slots=True)
class LinkingError:
    """SE of the suite's calibration at each reference player's headline on the suite."""

    points: tuple[tuple[float, float], ...]
    """``(headline on the suite, linking SE)``, by headline."""
    replicates: int

    @classmethod
    def from_calibration(cls, calibration: Mapping[str, Any]) -> LinkingError | None:
        """From a manifest's ``calibration`` record; None when it has no linking error. Only
        players whose level is inside the anchors' range (used or held out) count: an
        out-of-range player's headline is an extrapolation."""
        linking = calibration.get("linking") or {}
        se = linking.get("se") or {}
        points = []
        for row in calibration.get("validation") or ():
            if not (row.get("used") or row.get("held_out")) or row.get("player") not in se:
                continue
            rating = ((row.get("curve") or {}).get("suite") or {}).get("rating")
            if rating is not None and math.isfinite(float(rating)):
                points.append((float(rating), float(se[row["player"]])))
        if not points:
            return None
        return cls(tuple(sorted(points)), int(linking.get("replicates") or 0))

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
    if rating is None or low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    link = linking_error_of_run(header)
    if link is None:
        return None
    lo, hi = link.widen(rating, low, high, level=level)
    return lo, hi, link.se_at(rating)
