"""A player's fitted solve curve: free slope, lapse (and optionally a floor), 50%-solve point.

A non-human solver need not follow Elo's 400-point logistic (:mod:`chesseval.core.rating`). The
curve fitted here is

    P_i = floor + (1 - lapse - floor) * sigma(a * h_i * Q * (theta - r_i)),   h_i = g(a * RD_i),

a 4PL whose floor is 0 unless :attr:`CurveModel.SLOPE_FLOOR_LAPSE` frees it. ``a`` is the
discrimination relative to Elo (the curve's scale is 400 / a rating points per factor 10 in the
odds), ``lapse`` the share of puzzles failed at any rating (illegal or unparsed answers, misread
boards). ``h_i`` is Glicko's attenuation for a puzzle whose rating is only known to +/- RD_i,
taken at the player's own slope (integrating the logistic over r_i ~ N(r_hat_i, RD_i^2)). The
headline is the 50%-solve point for a puzzle of exactly known rating (without a floor,
``R50 = theta + ln(1 - 2 lapse) / (a Q)``); it does not exist when lapse >= 1/2. Slope, lapse and
floor carry weak normal priors (:class:`CurvePriors`), so the estimate is a posterior mode and
small or narrow suites stay stable; the interval is the profile of the same objective over R50,
with the other parameters re-maximised at every point. The fixed-slope Elo rating of
:mod:`chesseval.core.rating` stays the secondary figure (``CurveFit.elo``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from chesseval.core.rating import (
    Q,
    RatingEstimate,
    _arrays,
    _fmt_bound,
    chi2_half_quantile,
    estimate_rating,
    outcomes_from_records,
)

__all__ = [
    "CurveModel",
    "CurvePriors",
    "CurveFit",
    "GoodnessOfFit",
    "BandFit",
    "DEFAULT_PRIORS",
    "fit_curve",
    "fit_curve_many",
    "curve_interval_many",
    "curve_from_records",
    "headline_z",
    "compare_models",
]


class CurveModel(enum.StrEnum):
    """Which parameters of the curve are free (``theta`` always is)."""

    ELO = "elo"
    """Elo's fixed 400-point slope, no lapse: the classic rating (1 parameter)."""
    SLOPE = "slope"
    """Free slope, no lapse (2PL; 2 parameters)."""
    LAPSE = "lapse"
    """Elo's slope with a lapse rate (2 parameters)."""
    SLOPE_LAPSE = "slope_lapse"
    """Free slope and a lapse rate (3 parameters): the default."""
    SLOPE_FLOOR_LAPSE = "slope_floor_lapse"
    """Free slope, a floor (puzzles solved at any rating, below 50%) and a lapse: the 4PL."""

    @property
    def free_slope(self) -> bool:
        return self in (CurveModel.SLOPE, CurveModel.SLOPE_LAPSE, CurveModel.SLOPE_FLOOR_LAPSE)

    @property
    def free_lapse(self) -> bool:
        return self in (CurveModel.LAPSE, CurveModel.SLOPE_LAPSE, CurveModel.SLOPE_FLOOR_LAPSE)

    @property
    def free_floor(self) -> bool:
        return self is CurveModel.SLOPE_FLOOR_LAPSE

    @property
    def n_params(self) -> int:
        return 1 + self.free_slope + self.free_lapse + self.free_floor


@dataclasses.dataclass(frozen=True, slots=True)
class CurvePriors:
    """Weak normal priors: ``ln a ~ N(slope_mean, slope_sd^2)``, ``logit lapse ~ N(lapse_mean, lapse_sd^2)``.

    The defaults are set from measurement: free-slope fits of engines and alpha-beta search on
    real Lichess puzzles give scales of 480-970 points, of language models (chess-bench) about
    700-2,300, so the slope prior is centred on a scale of 700 (a = 0.57) with 95% of its mass
    on 215-2,270. The lapse prior is centred on 4.7% (95% between 0.1% and 73%). They matter
    only where the suite cannot pin the curve down (few puzzles, or a narrow rating range).
    ``None`` means no prior (maximum likelihood, used for likelihood comparisons of the models).
    """

    slope_mean: float = -0.56
    slope_sd: float = 0.6
    lapse_mean: float = -3.0
    lapse_sd: float = 2.0
    floor_mean: float = -4.0
    """Prior centre of ``logit(2 floor)`` (the floor stays below 50%): a floor of 0.9%."""
    floor_sd: float = 2.0

    def describe(self) -> str:
        return (f"ln a ~ N({self.slope_mean:g}, {self.slope_sd:g}^2), "
                f"logit lapse ~ N({self.lapse_mean:g}, {self.lapse_sd:g}^2), "
                f"logit 2 floor ~ N({self.floor_mean:g}, {self.floor_sd:g}^2)")  # fmt: skip


DEFAULT_PRIORS = CurvePriors()
GOF_MIN_BAND = 15
"""Bands of the goodness-of-fit table hold at least this many puzzles (small bands are merged)."""


def _curve_p(theta: Any, a: Any, lapse: Any, r: Any, rd: Any, floor: Any = 0.0) -> Any:
    """P(solve) per row and puzzle; parameters have shape (m,), puzzles broadcast to (m, n)."""
    a_ = np.asarray(a, dtype=float)[..., None]
    c = 3.0 * (Q * rd) ** 2 / math.pi**2
    h = 1.0 / np.sqrt(1.0 + c * a_**2)
    z = a_ * h * Q * (np.asarray(theta, dtype=float)[..., None] - r)
    lo = np.asarray(floor, dtype=float)[..., None]
    return lo + (1.0 - np.asarray(lapse, dtype=float)[..., None] - lo) * 0.5 * (1.0 + np.tanh(z / 2.0))


def _curve_objective(theta: Any, a: Any, lapse: Any, floor: Any, s: Any, r: Any, rd: Any,
                     model: CurveModel, priors: CurvePriors | None) -> Any:  # fmt: skip
    """Log-likelihood (plus log prior of the free parameters) per row."""
    p = np.clip(_curve_p(theta, a, lapse, r, rd, floor), 1e-300, 1.0 - 1e-15)
    val = (s * np.log(p) + (1.0 - s) * np.log1p(-p)).sum(axis=-1)
    if priors is not None:
        if model.free_slope:
            val = val - 0.5 * ((np.log(a) - priors.slope_mean) / priors.slope_sd) ** 2
        if model.free_lapse:
            lap = np.clip(lapse, 1e-300, 1.0 - 1e-15)
            val = val - 0.5 * ((np.log(lap) - np.log1p(-lap) - priors.lapse_mean) / priors.lapse_sd) ** 2
        if model.free_floor:
            two = np.clip(2.0 * np.asarray(floor, dtype=float), 1e-300, 1.0 - 1e-15)
            val = val - 0.5 * ((np.log(two) - np.log1p(-two) - priors.floor_mean) / priors.floor_sd) ** 2
    return val


def _z50(lapse: Any, floor: Any) -> Any:
    """``a Q (theta - R50)``: where the curve crosses 1/2 (needs floor < 1/2 < 1 - lapse)."""
    frac = (0.5 - floor) / (1.0 - lapse - floor)
    return np.log(frac) - np.log1p(-frac)


def _sigmoid(x: Any) -> Any:
    return 0.5 * (1.0 + np.tanh(np.asarray(x, dtype=float) / 2.0))


def _unpack(x: Any, model: CurveModel, fixed_r50: Any | None) -> tuple[Any, Any, Any, Any]:
    """Parameter vector -> (theta, a, lapse, floor).

    Columns: [theta/Q-units], [ln a], [logit lapse], [logit 2 floor] (those the model frees).
    With ``fixed_r50`` (profile mode) the first column is absent and theta follows from the
    50% point; the lapse is then ``sigmoid(v) / 2`` so that the 50% point exists.
    """
    cols = list(np.moveaxis(np.asarray(x, dtype=float), -1, 0))
    theta_q = None if fixed_r50 is not None else cols.pop(0)
    a = np.exp(cols.pop(0)) if model.free_slope else np.ones(np.shape(x)[:-1])
    if model.free_lapse:
        v = cols.pop(0)
        lapse = _sigmoid(v) / 2.0 if fixed_r50 is not None else _sigmoid(v)
    else:
        lapse = np.zeros(np.shape(x)[:-1])
    floor = _sigmoid(cols.pop(0)) / 2.0 if model.free_floor else np.zeros(np.shape(x)[:-1])
    if fixed_r50 is not None:
        theta = fixed_r50 + _z50(lapse, floor) / (a * Q)
    else:
        theta = theta_q / Q
    return theta, a, lapse, floor


def _maximize(f: Any, x0: Any, steps: int = 60, tol: float = 1e-7) -> tuple[Any, Any]:
    """Maximise ``f`` (rows of parameter vectors -> value per row) by damped Newton steps.

    Gradient and Hessian by central differences (at most three parameters); a step that does
    not increase ``f`` is halved, and a Hessian that is not negative definite is shifted
    (Levenberg), so every row climbs monotonically.
    """
    x = np.array(x0, dtype=float)
    m, k = x.shape
    if k == 0:
        return x, f(x)
    eps = 1e-4
    eye = np.eye(k)
    fx = f(x)
    for _ in range(steps):
        grad = np.empty((m, k))
        hess = np.empty((m, k, k))
        fp = np.empty((m, k))
        fm = np.empty((m, k))
        for i in range(k):
            fp[:, i] = f(x + eps * eye[i])
            fm[:, i] = f(x - eps * eye[i])
            grad[:, i] = (fp[:, i] - fm[:, i]) / (2 * eps)
            hess[:, i, i] = (fp[:, i] - 2 * fx + fm[:, i]) / eps**2
        for i in range(k):
            for j in range(i + 1, k):
                e = eps * (eye[i] + eye[j])
                d = eps * (eye[i] - eye[j])
                hij = (f(x + e) - f(x + d) - f(x - d) + f(x - e)) / (4 * eps**2)
                hess[:, i, j] = hess[:, j, i] = hij
        # Levenberg shift: make -H positive definite.
        lam_min = np.linalg.eigvalsh(-hess)[:, 0]
        shift = np.where(lam_min < 1e-6, 1e-6 - lam_min + 1e-3 * np.abs(np.diagonal(hess, axis1=1, axis2=2)).max(axis=1), 0.0)
        step = np.linalg.solve(-hess + shift[:, None, None] * eye, grad[..., None])[..., 0]
        # Shrink long steps as a whole (clipping each coordinate would change the direction).
        step = step / np.maximum(1.0, np.abs(step).max(axis=1) / 3.0)[:, None]
        t = np.ones(m)
        x_new, f_new = x + step, f(x + step)
        for _ in range(30):
            bad = ~(f_new >= fx - 1e-12)
            if not bad.any():
                break
            t = np.where(bad, t / 2, t)
            x_try = x + t[:, None] * step
            f_try = f(x_try)
            x_new = np.where(bad[:, None], x_try, x_new)
            f_new = np.where(bad, f_try, f_new)
        bad = ~(f_new >= fx - 1e-12)
        x_new = np.where(bad[:, None], x, x_new)
        f_new = np.where(bad, fx, f_new)
        done = np.all(np.abs(f_new - fx) < tol) and np.all(np.abs(x_new - x).max(axis=1) < 1e-5)
        x, fx = x_new, f_new
        if done:
            break
    return x, fx


def _start(s: Any, r: Any, model: CurveModel, priors: CurvePriors | None) -> Any:
    """Starting points: theta at the mean puzzle rating shifted by the solve rate's logit."""
    rate = np.clip(s.mean(axis=-1), 0.02, 0.98)
    theta_q = Q * r.mean(axis=-1) + np.log(rate / (1 - rate))
    cols = [theta_q]
    if model.free_slope:
        cols.append(np.full_like(theta_q, priors.slope_mean if priors else 0.0))
    if model.free_lapse:
        cols.append(np.full_like(theta_q, priors.lapse_mean if priors else -3.0))
    if model.free_floor:
        cols.append(np.full_like(theta_q, priors.floor_mean if priors else -4.0))
    return np.stack(cols, axis=-1)


def fit_curve_many(solved: Any, puzzle_ratings: Any, rds: Any, *, model: CurveModel = CurveModel.SLOPE_LAPSE,
                   priors: CurvePriors | None = DEFAULT_PRIORS, x0: Any = None) -> dict[str, Any]:  # fmt: skip
    """Fit the curve to every row of ``solved`` (shape ``(m, n)``) at once.

    Returns arrays ``theta``, ``a``, ``lapse``, ``r50`` (NaN when lapse >= 1/2), ``objective``
    (log posterior, or log-likelihood without priors) and ``loglik``. Rows where everything or
    nothing was solved have no finite estimate under ``ELO``/``SLOPE``; they come back with
    whatever the (bounded) search reached and should be treated as censored by the caller.
    ``x0`` (one parameter row, as in the returned ``x``) starts every row there.
    """
    s = np.atleast_2d(np.asarray(solved, dtype=float))
    r = np.broadcast_to(np.asarray(puzzle_ratings, dtype=float), s.shape)
    rd = np.broadcast_to(np.asarray(rds, dtype=float), s.shape)

    def f(x: Any) -> Any:
        return _curve_objective(*_unpack(x, model, None), s, r, rd, model, priors)

    x, obj = _maximize(f, _start(s, r, model, priors) if x0 is None else np.broadcast_to(x0, (s.shape[0], model.n_params)))
    theta, a, lapse, floor = _unpack(x, model, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        r50 = np.where(lapse < 0.5, theta - _z50(np.minimum(lapse, 0.5 - 1e-12), floor) / (a * Q), np.nan)
    loglik = _curve_objective(theta, a, lapse, floor, s, r, rd, model, None)
    return {"theta": theta, "a": a, "lapse": lapse, "floor": floor, "r50": r50, "objective": obj, "loglik": loglik, "x": x}


def _profile(s: Any, r: Any, rd: Any, t: Any, model: CurveModel, priors: CurvePriors | None, x0: Any) -> tuple[Any, Any]:
    """Maximum of the objective per row with the 50% point fixed at ``t`` (slope, lapse free)."""
    def f(x: Any) -> Any:
        return _curve_objective(*_unpack(x, model, t), s, r, rd, model, priors)

    return _maximize(f, x0, steps=25)


def _profile_bound(s: Any, r: Any, rd: Any, fit: dict[str, Any], model: CurveModel, priors: CurvePriors | None,
                   drop: float, direction: int) -> Any:  # fmt: skip
    """Where the profile of R50 falls ``drop`` below the peak, on one side (``direction`` = +/-1).

    Brackets by doubling the distance from the estimate, then bisects, warm-starting the inner
    maximisation from the neighbouring point. Rows with no estimate get NaN.
    """
    m = s.shape[0]
    est = fit["r50"]
    ok = np.isfinite(est)
    est0 = np.where(ok, est, 0.0)
    target = fit["objective"] - drop
    x0 = fit["x"][:, 1:]
    if model.free_lapse:  # the lapse column is logit(lapse); profile mode uses logit(2 lapse)
        lap = np.clip(fit["lapse"], 1e-12, 0.5 - 1e-9)
        x0 = x0.copy()
        x0[:, 1 if model.free_slope else 0] = np.log(2 * lap) - np.log1p(-2 * lap)
    inner = x0.copy()
    near = np.zeros(m)
    far = np.full(m, 50.0)
    found = np.zeros(m, dtype=bool)
    for _ in range(12):  # bracket: 50, 100, ... 102,400 rating points away
        t = est0 + direction * far
        inner_far, val = _profile(s, r, rd, t, model, priors, inner)
        below = (val < target) | ~np.isfinite(val)
        found |= below
        near = np.where(~found, far, near)
        inner = np.where(~found[:, None], inner_far, inner)
        far = np.where(found, far, far * 2)
        if found.all():
            break
    for _ in range(22):
        mid = (near + far) / 2
        t = est0 + direction * mid
        x_mid, val = _profile(s, r, rd, t, model, priors, inner)
        below = (val < target) | ~np.isfinite(val)
        far = np.where(below, mid, far)
        near = np.where(below, near, mid)
        inner = np.where(below[:, None], inner, x_mid)
        if np.all(far - near < 0.5):
            break
    bound = est0 + direction * (near + far) / 2
    bound = np.where(found, bound, direction * np.inf)
    return np.where(ok, bound, np.nan)


def curve_interval_many(solved: Any, puzzle_ratings: Any, rds: Any, fit: dict[str, Any], *,
                        model: CurveModel = CurveModel.SLOPE_LAPSE, priors: CurvePriors | None = DEFAULT_PRIORS,
                        level: float = 0.95) -> tuple[Any, Any]:  # fmt: skip
    """Profile interval of R50 per row of a :func:`fit_curve_many` result (NaN where R50 is NaN)."""
    s = np.atleast_2d(np.asarray(solved, dtype=float))
    r = np.broadcast_to(np.asarray(puzzle_ratings, dtype=float), s.shape)
    rd = np.broadcast_to(np.asarray(rds, dtype=float), s.shape)
    drop = chi2_half_quantile(level)
    low = _profile_bound(s, r, rd, fit, model, priors, drop, -1)
    high = _profile_bound(s, r, rd, fit, model, priors, drop, +1)
    return low, high


def _bands(r: Any, width: int = 200, min_n: int = GOF_MIN_BAND) -> list[tuple[int, int, Any]]:
    """``(lo, hi, mask)`` per rating band, merging bands with fewer than ``min_n`` puzzles upward."""
    keys = np.floor(np.asarray(r, dtype=float) / width).astype(int)
    out: list[list[Any]] = []
    for k in np.unique(keys):
        mask = keys == k
        if out and out[-1][2].sum() < min_n:
            out[-1][1] = int(k * width + width - 1)
            out[-1][2] = out[-1][2] | mask
        else:
            out.append([int(k * width), int(k * width + width - 1), mask])
    if len(out) > 1 and out[-1][2].sum() < min_n:
        last = out.pop()
        out[-1][1] = last[1]
        out[-1][2] = out[-1][2] | last[2]
    return [(lo, hi, mask) for lo, hi, mask in out]


def _band_chi2(s: Any, p: Any, masks: list[Any]) -> Any:
    """Pearson chi-square over bands per row: sum (O - E)^2 / Var, Var = sum p (1 - p)."""
    total = np.zeros(np.shape(s)[:-1])
    for mask in masks:
        o = s[..., mask].sum(axis=-1)
        e = p[..., mask].sum(axis=-1)
        v = (p[..., mask] * (1 - p[..., mask])).sum(axis=-1)
        total = total + (o - e) ** 2 / np.maximum(v, 1e-9)
    return total


@dataclasses.dataclass(frozen=True, slots=True)
class BandFit:
    """Observed and fitted solves in one rating band."""

    lo: int
    hi: int
    n: int
    solved: int
    expected: float


@dataclasses.dataclass(frozen=True, slots=True)
class GoodnessOfFit:
    """Band chi-square of the fitted curve with a parametric-bootstrap p-value.

    The statistic is Hosmer-Lemeshow style with rating bands as groups. Its null distribution
    is simulated: ``n_boot`` data sets drawn from the fitted curve, each refitted with the same
    model, so the p-value accounts for the fitted parameters and priors whatever the number of
    bands (with as many bands as parameters the test has little power; see ``bands``).
    """

    statistic: float
    p_value: float
    n_boot: int
    bands: tuple[BandFit, ...]

    def format(self) -> str:
        cells = ", ".join(f"{b.lo}-{b.hi} {b.solved}/{b.n} vs {b.expected:.1f}" for b in self.bands)
        return f"chi2 {self.statistic:.1f} over {len(self.bands)} bands, p = {self.p_value:.2f} ({cells})"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class CurveFit:
    """A player's fitted solve curve: the headline 50%-solve point, the curve's shape, its fit."""

    model: CurveModel
    rating: float | None
    """The 50%-solve point (puzzle of exactly known rating); None when censored or lapse >= 1/2."""
    low: float
    high: float
    theta: float | None
    """The curve's midpoint (halfway to the ceiling); equals ``rating`` when there is no lapse."""
    scale: float | None
    """Rating points per factor 10 in the odds: 400 for Elo, larger for a flatter curve."""
    lapse: float | None
    """Share of puzzles failed at any rating (1 - ceiling)."""
    n: int
    solved: int
    loglik: float | None
    elo: RatingEstimate
    """The fixed-slope Elo rating (secondary figure)."""
    gof: GoodnessOfFit | None = None
    level: float = 0.95
    priors: str = ""
    excluded: int = 0
    span: tuple[float, float] | None = None
    """Lowest and highest puzzle rating in the fit."""
    floor: float | None = None
    """Share of puzzles solved at any rating (0 unless the model frees it)."""

    @property
    def extrapolated(self) -> bool:
        """The 50% point lies outside the suite's puzzle ratings: the curve's shape, not the data
        near that point, places it, and another suite can disagree far beyond the interval's
        sampling noise (the interval still includes the slope's uncertainty)."""
        return self.rating is not None and self.span is not None and not self.span[0] <= self.rating <= self.span[1]

    def p_solve(self, puzzle_ratings: Any, rds: Any = None) -> np.ndarray:
        """The fitted curve's solve probability for each puzzle (its RD flattening the curve as in the fit)."""
        if self.theta is None or self.scale is None:
            raise ValueError(f"no fitted curve to evaluate ({self.solved} of {self.n} solved)")
        _, r, rd = _arrays(np.zeros(len(puzzle_ratings)), puzzle_ratings, rds)
        one = np.ones(1)  # the curve's parameters as a batch of one, as _curve_p takes them
        return _curve_p(one * self.theta, one * 400.0 / self.scale, one * (self.lapse or 0.0), r, rd,
                        one * (self.floor or 0.0))[0]

    @property
    def aic(self) -> float | None:
        return None if self.loglik is None else 2 * self.model.n_params - 2 * self.loglik

    @property
    def sort_key(self) -> float:
        return self.rating if self.rating is not None else self.elo.sort_key

    def format(self) -> str:
        """``1834 [1790, 1880]``; a censored fit reads like the Elo one (``>= 2310 (all 40 solved)``)."""
        if self.n == 0 or self.theta is None:
            return self.elo.format()
        if self.rating is None:
            return f"n/a (under 50% at every rating: lapse {100 * (self.lapse or 0):.0f}%, midpoint {self.theta:.0f})"
        return f"{self.rating:.0f} [{_fmt_bound(self.low)}, {_fmt_bound(self.high)}]"

    def describe(self) -> str:
        """One line: headline, curve shape, Elo figure, goodness of fit."""
        parts = [self.format()]
        if self.extrapolated and self.span is not None:
            parts[0] += f" (extrapolated: outside the suite's {self.span[0]:.0f}-{self.span[1]:.0f})"
        if self.theta is not None:
            parts.append(f"scale {self.scale:.0f} (Elo 400), lapse {100 * (self.lapse or 0):.1f}%"
                         + (f", floor {100 * self.floor:.1f}%" if self.model.free_floor and self.floor is not None else ""))
        parts.append(f"Elo-slope rating {self.elo.format()}")
        if self.gof is not None:
            parts.append(f"fit p = {self.gof.p_value:.2f}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key in ("low", "high"):
            if d[key] is not None and not math.isfinite(d[key]):
                d[key] = None
        d["model"] = str(self.model)
        d["elo"] = {**self.elo.to_dict(), "text": self.elo.format()}
        d["gof"] = self.gof.to_dict() if self.gof else None
        d["aic"] = self.aic
        d["extrapolated"] = self.extrapolated
        d["text"] = self.format()
        return d


def fit_curve(
    solved: Sequence[bool] | Any,
    puzzle_ratings: Sequence[float] | Any,
    rds: Sequence[float] | Any | None = None,
    *,
    model: CurveModel | str = CurveModel.SLOPE_LAPSE,
    priors: CurvePriors | None = DEFAULT_PRIORS,
    level: float = 0.95,
    gof_boot: int = 200,
    seed: int = 0,
    excluded: int = 0,
) -> CurveFit:
    """Fit the solve curve of one run: headline, profile interval, Elo figure and goodness of fit.

    ``rds=None`` assumes :data:`chesseval.core.rating.DEFAULT_RD`. ``gof_boot=0`` skips the goodness-of-fit bootstrap.
    All solved or none solved: the 50% point is not estimable; the fit reports the Elo
    estimate's one-sided bound instead (``rating`` None).
    """
    model = CurveModel(model)
    s, r, rd = _arrays(solved, puzzle_ratings, rds)
    elo = estimate_rating(s, r, rd, level=level, excluded=excluded)
    n, k = int(s.size), int(s.sum())
    prior_text = priors.describe() if priors is not None and model is not CurveModel.ELO else "none"
    span = (float(r.min()), float(r.max())) if n else None
    if n == 0 or k in (0, n):
        return CurveFit(model, None, elo.low, elo.high, None, None, None, n, k, None, elo, None, level, prior_text, excluded, span)
    fit = fit_curve_many(s, r, rd, model=model, priors=priors)
    low, high = curve_interval_many(s, r, rd, fit, model=model, priors=priors, level=level)
    r50 = float(fit["r50"][0])
    if not math.isfinite(r50):  # lapse >= 1/2: no 50% point; theta and the lapse are the result
        low, high = np.array([-math.inf]), np.array([math.inf])
    gof = _goodness_of_fit(s, r, rd, fit, model, priors, gof_boot, seed) if gof_boot > 0 else None
    return CurveFit(
        model=model,
        rating=r50 if math.isfinite(r50) else None,
        low=float(low[0]),
        high=float(high[0]),
        theta=float(fit["theta"][0]),
        scale=400.0 / float(fit["a"][0]),
        lapse=float(fit["lapse"][0]),
        n=n,
        solved=k,
        loglik=float(fit["loglik"][0]),
        elo=elo,
        gof=gof,
        level=level,
        priors=prior_text,
        excluded=excluded,
        span=span,
        floor=float(fit["floor"][0]),
    )


def _goodness_of_fit(s: Any, r: Any, rd: Any, fit: dict[str, Any], model: CurveModel, priors: CurvePriors | None,
                     n_boot: int, seed: int) -> GoodnessOfFit:  # fmt: skip
    bands = _bands(r)
    masks = [mask for _, _, mask in bands]
    p = _curve_p(fit["theta"], fit["a"], fit["lapse"], r, rd, fit["floor"])[0]
    stat = float(_band_chi2(s, p, masks))
    rng = np.random.default_rng(seed)
    sim = (rng.random((n_boot, s.size)) < p).astype(float)
    refit = fit_curve_many(sim, r, rd, model=model, priors=priors, x0=fit["x"])  # warm start: the data's own curve
    p_sim = _curve_p(refit["theta"], refit["a"], refit["lapse"], r, rd, refit["floor"])
    stats = _band_chi2(sim, p_sim, masks)
    p_value = (1 + int(np.sum(stats >= stat - 1e-9))) / (n_boot + 1)
    table = tuple(BandFit(lo, hi, int(mask.sum()), int(s[mask].sum()), float(p[mask].sum())) for lo, hi, mask in bands)
    return GoodnessOfFit(stat, p_value, n_boot, table)


def compare_models(solved: Any, puzzle_ratings: Any, rds: Any = None) -> dict[CurveModel, dict[str, float]]:
    """Maximum likelihood (no priors) of every :class:`CurveModel`: ``loglik``, ``aic``, ``scale``, ``lapse``, ``r50``."""
    s, r, rd = _arrays(solved, puzzle_ratings, rds)
    out = {}
    for model in CurveModel:
        fit = fit_curve_many(s, r, rd, model=model, priors=None)
        ll = float(fit["loglik"][0])
        out[model] = {"loglik": ll, "aic": 2 * model.n_params - 2 * ll, "scale": 400.0 / float(fit["a"][0]),
                      "lapse": float(fit["lapse"][0]), "floor": float(fit["floor"][0]), "r50": float(fit["r50"][0])}  # fmt: skip
    return out


def curve_from_records(records: Iterable[Any], **kwargs: Any) -> CurveFit:
    """:func:`fit_curve` over the records of one run (same inclusion rules as :func:`rating_from_records`)."""
    solved, ratings, rds, excluded = outcomes_from_records(records)
    return fit_curve(solved, ratings, rds, excluded=excluded, **kwargs)


def headline_z(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None, *, extra_se: float = 0.0) -> float | None:
    """``(a - b) / SE`` for two headlines (``CurveFit.to_dict()`` or anything with ``rating``,
    ``low``, ``high`` and optionally ``level``), each SE read off its profile interval's width;
    ``extra_se`` is a further independent error of the difference (a calibrated suite's linking
    error), added in quadrature.

    A flat curve's 50% point is only known to about +/-45 on several hundred puzzles, so whether
    two suites (or a suite and its anchors) agree is a question of z, not of a fixed number of
    points. None when either side has no finite interval."""
    if not a or not b:
        return None
    ses = []
    for x in (a, b):
        if any(x.get(k) is None or not math.isfinite(x[k]) for k in ("rating", "low", "high")):
            return None
        width = NormalDist().inv_cdf(0.5 + float(x.get("level") or 0.95) / 2) * 2
        ses.append((float(x["high"]) - float(x["low"])) / width)
    se = math.hypot(*ses, extra_se)
    return (float(a["rating"]) - float(b["rating"])) / se if se > 0 else None
