"""A model's puzzle rating: the fitted solve curve (headline) and the Elo/Glicko rating.

The headline (:mod:`chesseval.core.curve`: :func:`~chesseval.core.curve.fit_curve`) fits the
player's curve with a free slope and a lapse rate and reports its 50%-solve point. The
fixed-slope Elo rating described here is kept as the secondary figure.

Each attempt is one game between the solver (rating ``R``) and a puzzle (rating ``r_i``, rating
deviation ``RD_i``). The solver wins (solves) with probability

    E_i(R) = 1 / (1 + 10^(-(R - r_i) * g(RD_i) / 400)),   g(RD) = 1 / sqrt(1 + 3 q^2 RD^2 / pi^2),

with ``q = ln 10 / 400`` — Glicko's expected score, which damps puzzles whose rating is uncertain.
The rating is fitted over all puzzles at once (no sequential updates, so the order of puzzles
does not matter): the log-likelihood is concave in ``R`` and has one maximum when some puzzles
were solved and some failed.

Interval (default): profile likelihood, ``{R : l(R) >= l(R_hat) - chi2_1(level)/2}`` (1.92 at
95%). It stays sensible near 0% and 100% where a Wald interval does not. A puzzle bootstrap
(:func:`bootstrap_interval`, optionally jittering each puzzle rating by ``N(0, RD_i^2)``) also
captures which puzzles happened to be drawn.

All solved / none solved: the maximum-likelihood estimate does not exist (it is +/- infinity).
By default chesseval then reports no point estimate and a **one-sided bound**: the same profile
rule with the supremum of the likelihood (0, approached at infinity), i.e. the ``R`` where
``l(R) = -1.92``. For all solved that is a lower bound ("at least 2310"; one-sided confidence
97.5%), for none solved an upper bound. Callers who prefer a number can pass a weak normal
``prior=(mean, sd)``, e.g. ``(1500, 350)``: the estimate is then the posterior mode (MAP) and
the interval is the profile of the log posterior; the estimate says so in ``method``.

Outcomes follow Lichess's first-attempt, whole-line rule: only ``verdict == "correct"`` is a
win; wrong, illegal, unparseable, empty and refused answers are losses. Records whose
``verdict`` is ``"error"`` (the call never completed) and puzzles without a rating are left
out of the fit and counted in ``excluded``.

The result is on the Lichess *puzzle-rating* scale, not FIDE or game Elo.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Censoring",
    "RatingEstimate",
    "glicko_g",
    "expected_score",
    "log_likelihood",
    "estimate_rating",
    "bootstrap_interval",
    "fit_many",
    "outcomes_from_records",
    "rating_from_records",
    "chi2_half_quantile",
    "ESTIMATED_RD",
]

Q = math.log(10) / 400.0
DEFAULT_RD = 75.0
"""RD assumed for a puzzle with a rating but no deviation (a typical well-played Lichess puzzle)."""
ESTIMATED_RD = 345.0
"""RD assumed for a puzzle whose rating was estimated from features and carries no deviation:
the feature model's error on real Lichess puzzles (RMSE about 345)."""
_SPAN = 6000.0
"""How far outside the puzzle ratings the search brackets reach (where E is ~1e-8 even at RD 500)."""
_TOL = 1e-3


class Censoring(enum.StrEnum):
    """Why the maximum-likelihood estimate does not exist."""

    ALL_SOLVED = "all_solved"
    NONE_SOLVED = "none_solved"


@dataclasses.dataclass(frozen=True, slots=True)
class RatingEstimate:
    """A fitted puzzle rating with its interval."""

    rating: float | None
    """The estimate; None when everything or nothing was solved and no prior was given."""
    low: float
    """Lower end of the interval (``-inf`` when nothing was solved)."""
    high: float
    """Upper end of the interval (``+inf`` when everything was solved)."""
    n: int
    """Puzzles in the fit."""
    solved: int
    se: float | None
    """Wald standard error from the observed information at the estimate (None when censored)."""
    censored: Censoring | None = None
    method: str = "mle"
    """``"mle"`` or ``"map(1500,350)"``; the interval is always a profile of the same objective."""
    level: float = 0.95
    excluded: int = 0
    """Records left out: no puzzle rating, or an infrastructure error instead of an answer."""

    @property
    def is_bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def sort_key(self) -> float:
        """A number to rank by: the estimate, or the finite bound when censored."""
        if self.rating is not None:
            return self.rating
        return self.low if math.isfinite(self.low) else self.high

    def format(self) -> str:
        """``1834 [1790, 1880]``, ``>= 2310 (all 40 solved)`` or ``<= 610 (none of 40 solved)``."""
        if self.n == 0:
            return "n/a (no rated puzzles)"
        if self.rating is None:
            if self.censored is Censoring.ALL_SOLVED:
                return f">= {self.low:.0f} (all {self.n} solved)"
            return f"<= {self.high:.0f} (none of {self.n} solved)"
        return f"{self.rating:.0f} [{_fmt_bound(self.low)}, {_fmt_bound(self.high)}]"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (infinite bounds become None)."""
        d = dataclasses.asdict(self)
        for key in ("low", "high"):
            if not math.isfinite(d[key]):
                d[key] = None
        d["censored"] = str(self.censored) if self.censored else None
        return d


def _fmt_bound(x: float) -> str:
    return f"{x:.0f}" if math.isfinite(x) else ("-inf" if x < 0 else "+inf")


# -- the model -----------------------------------------------------------------------------------


def glicko_g(rd: Any) -> Any:
    """Glicko's attenuation factor ``g(RD)`` on the rating scale (1 for RD 0, 0.533 for RD 500)."""
    rd = np.asarray(rd, dtype=float)
    return 1.0 / np.sqrt(1.0 + 3.0 * (Q * rd) ** 2 / math.pi**2)


def expected_score(rating: float, puzzle_ratings: Any, rds: Any = None) -> Any:
    """Probability that a solver of ``rating`` solves each puzzle."""
    r = np.asarray(puzzle_ratings, dtype=float)
    g = 1.0 if rds is None else glicko_g(rds)
    return 1.0 / (1.0 + np.power(10.0, -(rating - r) * g / 400.0))


def log_likelihood(rating: float, solved: Any, puzzle_ratings: Any, rds: Any = None) -> float:
    """``l(R) = sum s_i ln E_i + (1 - s_i) ln(1 - E_i)``."""
    s = np.asarray(solved, dtype=float)
    r = np.asarray(puzzle_ratings, dtype=float)
    g = np.ones_like(r) if rds is None else glicko_g(rds)
    return float(_objective(np.asarray(float(rating)), s, r, g, None)[0])


def chi2_half_quantile(level: float) -> float:
    """Half the ``level`` quantile of chi-square with 1 df (1.9207 at 0.95): the profile drop."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be between 0 and 1, got {level!r}")
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2.0)
    return z * z / 2.0


# -- fitting many rows at once -------------------------------------------------------------------


def _objective(R: Any, s: Any, r: Any, g: Any, prior: tuple[float, float] | None) -> tuple[Any, Any]:
    """Log-likelihood (or log posterior) per row, and its derivative in ``R``."""
    a = Q * g * (R[..., None] - r)
    # ln E = -log(1 + e^-a), ln(1 - E) = -log(1 + e^a): stable for any a.
    val = -(s * np.logaddexp(0.0, -a) + (1.0 - s) * np.logaddexp(0.0, a)).sum(axis=-1)
    e = 0.5 * (1.0 + np.tanh(a / 2.0))  # the logistic, without overflow
    grad = Q * (g * (s - e)).sum(axis=-1)
    if prior is not None:
        mu, sd = prior
        val = val - 0.5 * ((R - mu) / sd) ** 2
        grad = grad - (R - mu) / sd**2
    return val, grad


def _score(R: Any, s: Any, r: Any, g: Any, prior: tuple[float, float] | None) -> tuple[Any, Any]:
    """Derivative of the objective per row, and the second derivative (minus the information)."""
    a = Q * g * (R[..., None] - r)
    e = 0.5 * (1.0 + np.tanh(a / 2.0))
    val = Q * (g * (s - e)).sum(axis=-1)
    d2 = -(Q**2) * (g * g * e * (1.0 - e)).sum(axis=-1)
    if prior is not None:
        mu, sd = prior
        val = val - (R - mu) / sd**2
        d2 = d2 - 1.0 / sd**2
    return val, d2


def _solve(f: Any, lo: Any, hi: Any, x0: Any, tol: float = _TOL) -> Any:
    """Root per row of a decreasing ``f`` (returning value and slope) on ``[lo, hi]``.

    Safeguarded Newton: a Newton step when it lands inside the bracket, else bisection; fast
    near the root and never outside the bracket (``f(lo) > 0 >= f(hi)``).
    """
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    x = np.clip(np.array(x0, dtype=float), lo, hi)
    for _ in range(200):
        val, slope = f(x)
        pos = val > 0
        lo = np.where(pos, x, lo)
        hi = np.where(pos, hi, x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = x - val / slope
        inside = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
        x_new = np.where(inside, newton, (lo + hi) / 2.0)
        done = (inside & (np.abs(newton - x) < tol)) | (hi - lo < tol)
        x = x_new
        if np.all(done):
            break
    return x


def fit_many(
    solved: Any,
    puzzle_ratings: Any,
    rds: Any = None,
    *,
    level: float = 0.95,
    prior: tuple[float, float] | None = None,
    interval: bool = True,
) -> tuple[Any, Any, Any]:
    """Fit every row of ``solved`` (shape ``(m, n)``) at once: ``(estimate, low, high)`` arrays.

    ``puzzle_ratings`` and ``rds`` broadcast against ``solved`` (one suite for every row, or a
    resampled suite per row, as in a bootstrap). Censored rows (all or none solved, no prior)
    get ``+inf`` / ``-inf`` as the estimate and a one-sided bound. With ``interval=False`` the
    bounds are NaN (the bootstrap only needs the estimates).
    """
    s = np.atleast_2d(np.asarray(solved, dtype=float))
    r = np.broadcast_to(np.asarray(puzzle_ratings, dtype=float), s.shape)
    g = np.broadcast_to(np.ones(1) if rds is None else glicko_g(rds), s.shape)
    m = s.shape[0]
    lo0 = np.full(m, float(np.min(r)) - _SPAN if r.size else -_SPAN)
    hi0 = np.full(m, float(np.max(r)) + _SPAN if r.size else _SPAN)
    if prior is not None:
        lo0 = np.minimum(lo0, prior[0] - 20 * prior[1])
        hi0 = np.maximum(hi0, prior[0] + 20 * prior[1])

    n_solved = s.sum(axis=1)
    all_solved = (n_solved == s.shape[1]) if prior is None else np.zeros(m, bool)
    none_solved = (n_solved == 0) if prior is None else np.zeros(m, bool)
    censored = all_solved | none_solved

    start = r.mean(axis=1) if r.size else np.zeros(m)
    est = _solve(lambda R: _score(R, s, r, g, prior), lo0, hi0, start)
    info = -_score(est, s, r, g, prior)[1]
    est = np.where(all_solved, np.inf, np.where(none_solved, -np.inf, est))
    if not interval:
        nan = np.full(m, np.nan)
        return est, nan, nan

    drop = chi2_half_quantile(level)
    safe_est = np.where(censored, 0.0, est)
    peak = np.where(censored, 0.0, _objective(safe_est, s, r, g, prior)[0])
    target = peak - drop
    with np.errstate(divide="ignore"):
        wald = np.where(info > 0, np.sqrt(2 * drop / info), _SPAN)

    def below(R: Any) -> tuple[Any, Any]:  # decreasing left of the peak
        val, grad = _objective(R, s, r, g, prior)
        return target - val, -grad

    def above(R: Any) -> tuple[Any, Any]:  # decreasing right of the peak
        val, grad = _objective(R, s, r, g, prior)
        return val - target, grad

    mid = (lo0 + hi0) / 2.0
    low = _solve(below, lo0, np.where(censored, hi0, safe_est), np.where(censored, mid, safe_est - wald))
    high = _solve(above, np.where(censored, lo0, safe_est), hi0, np.where(censored, mid, safe_est + wald))
    low = np.where(none_solved, -np.inf, low)
    high = np.where(all_solved, np.inf, high)
    return est, low, high


# -- one run -------------------------------------------------------------------------------------


def _arrays(solved: Any, puzzle_ratings: Any, rds: Any) -> tuple[Any, Any, Any]:
    s = np.asarray(solved, dtype=float).ravel()
    r = np.asarray(puzzle_ratings, dtype=float).ravel()
    if s.shape != r.shape:
        raise ValueError(f"solved and puzzle_ratings differ in length: {s.size!r} != {r.size!r}")
    if rds is None:
        rd = np.full_like(r, DEFAULT_RD)
    else:
        rd = np.asarray(rds, dtype=float).ravel()
        if rd.shape != r.shape:
            raise ValueError(f"rds and puzzle_ratings differ in length: {rd.size!r} != {r.size!r}")
    if not np.all(np.isin(s, (0.0, 1.0))):
        raise ValueError(f"solved must hold 0/1 or booleans, got {sorted(set(s.tolist()))[:5]!r}")
    if not np.all(np.isfinite(r)):
        raise ValueError("puzzle_ratings must be finite numbers")
    if np.any(~np.isfinite(rd) | (rd < 0)):
        raise ValueError("rds must be finite and non-negative")
    return s, r, rd


def estimate_rating(
    solved: Sequence[bool] | Any,
    puzzle_ratings: Sequence[float] | Any,
    rds: Sequence[float] | Any | None = None,
    *,
    level: float = 0.95,
    prior: tuple[float, float] | None = None,
    excluded: int = 0,
) -> RatingEstimate:
    """Maximum-likelihood puzzle rating with a profile-likelihood interval.

    ``rds=None`` assumes :data:`DEFAULT_RD` for every puzzle. See the module docstring for the
    censored cases and ``prior``.
    """
    s, r, rd = _arrays(solved, puzzle_ratings, rds)
    n, k = int(s.size), int(s.sum())
    method = "mle" if prior is None else f"map({prior[0]:g},{prior[1]:g})"
    if prior is not None and not prior[1] > 0:
        raise ValueError(f"prior sd must be positive, got {prior[1]!r}")
    if n == 0:
        return RatingEstimate(None, -math.inf, math.inf, 0, 0, None, None, method, level, excluded)
    est, low, high = (float(x[0]) for x in fit_many(s, r, rd, level=level, prior=prior))
    censored = None
    if prior is None and k == n:
        censored = Censoring.ALL_SOLVED
    elif prior is None and k == 0:
        censored = Censoring.NONE_SOLVED
    se = None
    if censored is None:
        e = expected_score(est, r, rd)
        info = Q**2 * float(np.sum(glicko_g(rd) ** 2 * e * (1 - e)))
        if prior is not None:
            info += 1.0 / prior[1] ** 2
        se = 1.0 / math.sqrt(info) if info > 0 else None
    return RatingEstimate(
        rating=None if censored else est,
        low=low,
        high=high,
        n=n,
        solved=k,
        se=se,
        censored=censored,
        method=method,
        level=level,
        excluded=excluded,
    )


def bootstrap_interval(
    solved: Any,
    puzzle_ratings: Any,
    rds: Any = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    jitter: bool = True,
    prior: tuple[float, float] | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval: resample puzzles with replacement and refit.

    With ``jitter`` each replicate also draws every puzzle's rating from ``N(r_i, RD_i^2)``, so the
    interval includes the uncertainty of the puzzle ratings. Replicates where everything (nothing)
    was solved count as ``+inf`` (``-inf``), so a bound can be infinite.
    """
    s, r, rd = _arrays(solved, puzzle_ratings, rds)
    if s.size == 0:
        return -math.inf, math.inf
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, s.size, size=(n_boot, s.size))
    rb = r[idx]
    if jitter:
        rb = rb + rng.normal(0.0, 1.0, size=rb.shape) * rd[idx]
    est, _, _ = fit_many(s[idx], rb, rd[idx], prior=prior, interval=False)
    est = np.sort(est)
    alpha = (1.0 - level) / 2.0
    lo_i = max(0, math.floor(alpha * n_boot))
    hi_i = min(n_boot - 1, math.ceil((1.0 - alpha) * n_boot) - 1)
    return float(est[lo_i]), float(est[hi_i])


# -- from run records ----------------------------------------------------------------------------


def _field(record: Any, key: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(key)
    return getattr(record, key, None)


def is_rated_outcome(record: Any) -> bool:
    """Whether a run record counts in a rating fit: it has a rating, and its verdict is neither
    ``"error"`` (no answer was obtained) nor ``"unjudged"`` (no solution to judge by)."""
    return _field(record, "rating") is not None and str(_field(record, "verdict")) not in ("error", "unjudged")


def outcomes_from_records(records: Iterable[Any]) -> tuple[list[bool], list[float], list[float], int]:
    """``(solved, ratings, rds, excluded)`` from run records (dicts or objects).

    Records without a rating, and records whose verdict is ``"error"`` (no answer was obtained)
    or ``"unjudged"`` (no solution to judge by), are excluded; every other verdict but ``"correct"``
    is a failure. A record without a rating deviation gets :data:`DEFAULT_RD`, or
    :data:`ESTIMATED_RD` when its rating was estimated.
    """
    solved: list[bool] = []
    ratings: list[float] = []
    rds: list[float] = []
    excluded = 0
    for rec in records:
        if not is_rated_outcome(rec):
            excluded += 1
            continue
        rating = _field(rec, "rating")
        verdict = str(_field(rec, "verdict"))
        rd = _field(rec, "rating_deviation")
        if rd is None:  # an estimated rating is far less certain than a played-in Lichess one
            rd = ESTIMATED_RD if _field(rec, "rating_source") == "estimated" else DEFAULT_RD
        solved.append(verdict == "correct")
        ratings.append(float(rating))
        rds.append(float(rd))
    return solved, ratings, rds, excluded


def rating_from_records(
    records: Iterable[Any], *, level: float = 0.95, prior: tuple[float, float] | None = None
) -> RatingEstimate:
    """:func:`estimate_rating` over the records of one run."""
    solved, ratings, rds, excluded = outcomes_from_records(records)
    return estimate_rating(solved, ratings, rds, level=level, prior=prior, excluded=excluded)
