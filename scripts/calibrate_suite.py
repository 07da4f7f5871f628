"""Put the mined default suite on the Lichess puzzle scale from evidence (anchor-based equating).

    python scripts/calibrate_suite.py [--suite puzzles/default.csv] [--runs-only] [--write]

Design ("common persons", see ../shared/docs/measurement-notes.md §3):

1. **Anchors**: real Lichess puzzles with well-measured ratings (NbPlays ≥ 100, RD ≤ 90), 60 per
   200-point band from 400 to 2999 (fewer above 2600, where the sample has fewer), cut by
   ``chesseval suite build`` from the shared Lichess sample into ``build/calibration/anchors.csv``
   (none of them is committed).
2. **A ladder of reference players**, two families that fail differently: engine-free alpha-beta
   search at depth 1–3 and Stockfish at 100 to 10k nodes. Each answers the anchors and the suite
   with ``chesseval run``; runs are resumed, or reused from ``runs/reference`` when one holds the
   same puzzles.
3. **Players on the anchors**: each player's level θ is fitted on the anchors, their Lichess
   ratings taken as known, with the curve ``chesseval.core.rating`` fits (Elo's, anchor RD through
   Glicko's g). Players solving more than 95% or fewer than 5% of the anchors are outside the
   anchors' range and are not used (Stockfish at 10k nodes).
4. **Puzzles from the players**: with the players' θ fixed, each suite puzzle's difficulty b gets
   a posterior from which players solved it and a normal prior around the feature model's
   estimate (``chesseval.mining.difficulty``), mapped linearly: b ~ N(c + k·estimate, s²), with c, k and s
   fitted by marginal likelihood (EM), because mined puzzles sit off the feature model's scale
   (issue 18). Rating = posterior mean, RatingDeviation = posterior SD.
5. **Held-out players** (depth 2 and Stockfish 1k by default) are never used in steps 3–4: their
   rating (``chesseval.core.rating``) on the calibrated suite is compared with their rating on the
   anchors. That table, and the same comparison for a curve with a free slope, is the validation.

``--write`` stores the calibrated Rating and RatingDeviation in the suite file and records the
method in its manifest (through ``chesseval.core.suites``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from chesseval.core.puzzles import Puzzle, load_puzzles  # noqa: E402

SHARED_SAMPLE = ROOT.parent / "shared" / "data" / "lichess_sample.csv"
WORK = ROOT / "build" / "calibration"
ANCHOR_ARGS = ["--per-band", "60", "--min-rating", "400", "--max-rating", "2999", "--seed", "calibration"]


@dataclasses.dataclass(frozen=True)
class LadderPlayer:
    model: str
    options: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> LadderPlayer:
        """``"builtin/search depth=2"`` -> the player."""
        model, *opts = text.split()
        pairs = []
        for opt in opts:
            key, sep, value = opt.partition("=")
            if not sep:
                raise ValueError(f"player option {opt!r} in {text!r} is not KEY=VALUE")
            pairs.append((key, value))
        return cls(model, tuple(sorted(pairs)))

    @property
    def label(self) -> str:
        return " ".join([self.model, *(f"{k}={v}" for k, v in self.options)])


LADDER = tuple(LadderPlayer.parse(t) for t in (
    "builtin/search depth=1", "builtin/search depth=2", "builtin/search depth=3",
    "engine/stockfish nodes=100",
    "engine/stockfish nodes=300", "engine/stockfish nodes=1000", "engine/stockfish nodes=3000",
    "engine/stockfish nodes=10000",
))
HOLDOUT = ("builtin/search depth=2", "engine/stockfish nodes=1000")
MIN_RATE, MAX_RATE = 0.05, 0.95
"""Calibration players must solve between 5% and 95% of the anchors (their level inside the anchors' range)."""
RESULT_FREE_OPTIONS = frozenset({"processes"})
"""Options that change how a run is spread over processes, not its answers (node-limited searches)."""


# -- the model -----------------------------------------------------------------------------------

Q = math.log(10) / 400.0
PRIOR_SD = 345.0
"""SD of the feature model's error on real puzzles (chesseval.mining.difficulty's out-of-fold RMSE)."""
THETA_GRID = np.arange(-1000.0, 5000.0, 5.0)
SLOPE_GRID = np.arange(0.05, 3.0, 0.025)
B_GRID = np.arange(-600.0, 4000.0, 5.0)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


@dataclasses.dataclass(frozen=True)
class PlayerFit:
    """A player's curve on the anchors: P(solve b) = σ(slope·Q·(theta − b))."""

    label: str
    theta: float
    slope: float
    n: int
    solved: int

    def p_solve(self, b: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.slope * Q * (self.theta - b)))


def _best_on_grid(y: np.ndarray, b: np.ndarray, g: np.ndarray, thetas: np.ndarray, slopes: np.ndarray) -> tuple[float, float, float]:
    best = (-math.inf, 0.0, 1.0)
    for a in slopes:
        z = a * Q * g[None, :] * (thetas[:, None] - b[None, :])
        ll = (y * _log_sigmoid(z) + (1 - y) * _log_sigmoid(-z)).sum(axis=1)
        i = int(np.argmax(ll))
        if ll[i] > best[0]:
            best = (float(ll[i]), float(thetas[i]), float(a))
    return best


def fit_player(label: str, solved: Sequence[bool], ratings: Sequence[float], rds: Sequence[float], *,
               free_slope: bool = False) -> PlayerFit:
    """Maximum likelihood θ (and the slope when ``free_slope``; else 1, Elo's curve), coarse grid
    then fine grid (θ to 1 point, slope to 0.005); each puzzle's RD flattens its term by Glicko's g,
    as in chesseval.core.rating."""
    from chesseval.core.rating import glicko_g

    y = np.asarray(solved, dtype=float)
    b = np.asarray(ratings, dtype=float)
    g = glicko_g(np.asarray(rds, dtype=float))
    slopes = SLOPE_GRID[::2] if free_slope else np.array([1.0])
    _, theta, a = _best_on_grid(y, b, g, THETA_GRID[::4], slopes)
    fine = np.arange(max(0.02, a - 0.05), a + 0.0525, 0.005) if free_slope else slopes
    _, theta, a = _best_on_grid(y, b, g, np.arange(theta - 25.0, theta + 25.5, 1.0), fine)
    return PlayerFit(label, theta, a, int(y.size), int(y.sum()))


def response_loglik(responses: np.ndarray, players: Sequence[PlayerFit]) -> np.ndarray:
    """log P(responses | b) for every puzzle (rows of ``responses``: puzzles, columns: players,
    1 solved / 0 failed) at every point of :data:`B_GRID`, the players' curves fixed."""
    theta = np.array([p.theta for p in players])
    slope = np.array([p.slope for p in players])
    z = slope[None, :] * Q * (theta[None, :] - B_GRID[:, None])  # grid x players
    return responses @ _log_sigmoid(z).T + (1 - responses) @ _log_sigmoid(-z).T


def posterior(loglik: np.ndarray, prior_mean: np.ndarray, prior_sd: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean, SD and log marginal likelihood of each puzzle's b under N(prior_mean, prior_sd²)."""
    logprior = -0.5 * ((B_GRID[None, :] - prior_mean[:, None]) / prior_sd) ** 2
    logprior -= np.log(np.exp(logprior).sum(axis=1, keepdims=True))  # normalised on the grid
    logpost = loglik + logprior
    top = logpost.max(axis=1, keepdims=True)
    w = np.exp(logpost - top)
    marginal = np.log(w.sum(axis=1)) + top[:, 0]
    w /= w.sum(axis=1, keepdims=True)
    mean = w @ B_GRID
    sd = np.sqrt(np.maximum(w @ B_GRID**2 - mean**2, 0.0))
    return mean, sd, marginal


@dataclasses.dataclass(frozen=True)
class Prior:
    """b ~ N(intercept + slope·feature_estimate, sd²), fitted by marginal likelihood (EM)."""

    intercept: float
    slope: float
    sd: float
    log_marginal: float


def fit_prior(loglik: np.ndarray, features: np.ndarray, *, iters: int = 200, min_sd: float = 50.0) -> Prior:
    """Empirical-Bayes prior: EM over (intercept, slope, sd) of the feature model's linear map.

    The feature model was trained on real Lichess puzzles; mined puzzles may sit off its scale
    (issue 18: the easy mined bands are far easier than real puzzles of the same estimate), so the
    map and its spread are learnt from the ladder's answers instead of assumed."""
    x = np.column_stack([np.ones_like(features), features])
    coef, sd = np.array([0.0, 1.0]), PRIOR_SD
    last = -math.inf
    for _ in range(iters):
        mean, post_sd, marginal = posterior(loglik, x @ coef, sd)
        coef = np.linalg.lstsq(x, mean, rcond=None)[0]
        resid = mean - x @ coef
        sd = max(min_sd, float(np.sqrt(np.mean(resid**2 + post_sd**2))))
        total = float(marginal.sum())
        if abs(total - last) < 1e-4:
            break
        last = total
    return Prior(float(coef[0]), float(coef[1]), sd, float(posterior(loglik, x @ coef, sd)[2].sum()))


# -- runs ----------------------------------------------------------------------------------------


def _run_records(run_dir: Path) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    path = run_dir / "records.jsonl"
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        out[str(rec["puzzle_id"])] = rec
    return out


def find_outcomes(player: LadderPlayer, puzzles: Sequence[Puzzle], dirs: Iterable[Path]) -> dict[str, bool] | None:
    """The player's verdicts on ``puzzles`` from any finished run folder in ``dirs`` that holds
    them all (same model and options; any suite file, matched by puzzle id, FEN and moves)."""
    want = {p.id: p for p in puzzles}
    for d in dirs:
        if not d.is_dir():
            continue
        for run in sorted(d.iterdir(), reverse=True):
            meta = run / "run.json"
            if not meta.exists():
                continue
            info = json.loads(meta.read_text())
            opts = tuple(sorted((str(k), str(v)) for k, v in (info.get("model_options") or {}).items()
                                if k not in RESULT_FREE_OPTIONS))
            if info.get("model") != player.model or opts != player.options or info.get("format", "fen") != "fen":
                continue
            recs = _run_records(run)
            hits = {pid: recs[pid] for pid in want if pid in recs}
            if len(hits) < len(want):
                continue
            if any(tuple(r.get("moves") or ()) != want[pid].moves or r.get("fen") != want[pid].fen for pid, r in hits.items()):
                continue
            if any(r.get("verdict") == "error" for r in hits.values()):
                continue
            return {pid: r.get("verdict") == "correct" for pid, r in hits.items()}
    return None


def run_player(player: LadderPlayer, suite: Path, runs_dir: Path) -> None:
    cmd = [sys.executable, "-m", "chesseval", "run", "--model", player.model, "--suite", str(suite),
           "--runs-dir", str(runs_dir), "--quiet", "--max-connections", "2"]
    for k, v in player.options:
        cmd += ["-M", f"{k}={v}"]
    if player.model == "engine/stockfish":
        cmd += ["-M", "processes=1"]
    print("running:", " ".join(cmd[1:]), flush=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(["nice", "-n", "10", *cmd], check=True, env=env, stdout=subprocess.DEVNULL)


def outcomes(player: LadderPlayer, suite: Path, puzzles: Sequence[Puzzle], dirs: Sequence[Path], runs_dir: Path,
             *, may_run: bool = True) -> dict[str, bool]:
    found = find_outcomes(player, puzzles, dirs)
    if found is None and may_run:
        run_player(player, suite, runs_dir)
        found = find_outcomes(player, puzzles, dirs)
    if found is None:
        raise SystemExit(f"error: no complete run of {player.label!r} on {suite}")
    return found


def ensure_anchors(path: Path) -> None:
    if path.exists():
        return
    if not SHARED_SAMPLE.exists():
        raise SystemExit(f"error: {path} is missing and the shared Lichess sample {SHARED_SAMPLE} is not there to cut it from")
    cmd = [sys.executable, "-m", "chesseval", "suite", "build", str(SHARED_SAMPLE), "--name", path.stem,
           "--out-dir", str(path.parent), *ANCHOR_ARGS, "--jobs", "1", "--no-progress"]
    subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "puzzles" / "default.csv")
    ap.add_argument("--anchors", type=Path, default=WORK / "anchors.csv")
    ap.add_argument("--runs-dir", type=Path, default=WORK / "runs")
    ap.add_argument("--reuse", type=Path, action="append", default=[ROOT / "runs" / "reference"])
    ap.add_argument("--holdout", action="append", default=None,
                    help=f"a ladder player left out of the calibration (repeatable; default: {', '.join(HOLDOUT)})")
    ap.add_argument("--prior-sd", type=float, default=0.0,
                    help=f"fixed prior SD around the feature estimate (e.g. its RMSE on real puzzles, {PRIOR_SD:g}); "
                         "default 0: fit the prior's map and SD by marginal likelihood")
    ap.add_argument("--runs-only", action="store_true", help="only make sure every ladder run exists")
    ap.add_argument("--write", action="store_true", help="store the calibrated ratings in the suite and its manifest")
    args = ap.parse_args(argv)
    holdout = tuple(LadderPlayer.parse(h).label for h in (args.holdout or HOLDOUT))
    unknown = [h for h in holdout if h not in {p.label for p in LADDER}]
    if unknown:
        ap.error(f"--holdout {unknown[0]!r} is not a ladder player")
    ensure_anchors(args.anchors)
    anchors, suite = load_puzzles(args.anchors), load_puzzles(args.suite)
    dirs = [args.runs_dir, *args.reuse]
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    on_anchors: dict[str, dict[str, bool]] = {}
    on_suite: dict[str, dict[str, bool]] = {}
    for player in LADDER:
        on_anchors[player.label] = outcomes(player, args.anchors, anchors, dirs, args.runs_dir)
        on_suite[player.label] = outcomes(player, args.suite, suite, dirs, args.runs_dir)
    if args.runs_only:
        return 0
    result = fit_and_validate(anchors, suite, on_anchors, on_suite, holdout, prior_sd=args.prior_sd)
    print(result.report)
    if args.write:
        write_calibration(args.suite, suite, result, holdout, prior_sd=args.prior_sd, anchors=args.anchors)
    return 0


@dataclasses.dataclass(frozen=True)
class Calibration:
    ratings: dict[str, int]
    deviations: dict[str, int]
    players: tuple[PlayerFit, ...]
    validation: tuple[dict[str, object], ...]
    report: str


def band_counts(ratings: Iterable[int], width: int = 200) -> dict[str, int]:
    """Counts per band, with everything below 600 and from 2600 up in one band each."""
    out: dict[str, int] = {"<600": 0, **{f"{lo}-{lo + width - 1}": 0 for lo in range(600, 2600, width)}, "2600+": 0}
    for r in ratings:
        key = "<600" if r < 600 else "2600+" if r >= 2600 else f"{(r // width) * width}-{(r // width) * width + width - 1}"
        out[key] += 1
    return out


def _rating(solved: Sequence[bool], ratings: Sequence[float], rds: Sequence[float]) -> object:
    from chesseval.core.rating import estimate_rating

    return estimate_rating(list(solved), list(ratings), list(rds))


def fit_and_validate(anchors: Sequence[Puzzle], suite: Sequence[Puzzle], on_anchors: dict[str, dict[str, bool]],
                     on_suite: dict[str, dict[str, bool]], holdout: Sequence[str], *, prior_sd: float = 0.0) -> Calibration:
    from chesseval.mining.difficulty import estimate, load_model
    from chesseval.core.rating import DEFAULT_RD

    a_rating = [float(p.rating or 0) for p in anchors]
    a_rd = [float(p.rating_deviation if p.rating_deviation is not None else DEFAULT_RD) for p in anchors]
    fits = {label: fit_player(label, [res[p.id] for p in anchors], a_rating, a_rd) for label, res in on_anchors.items()}
    # A player who solves nearly every anchor (or none) has its level outside the anchors' range:
    # its θ is an extrapolation and would put the suite's top (or bottom) on a guessed scale.
    in_range = {label for label, f in fits.items() if MIN_RATE <= f.solved / f.n <= MAX_RATE}
    used = [fits[label] for label in on_anchors if label not in holdout and label in in_range]
    responses = np.array([[float(on_suite[f.label][p.id]) for f in used] for p in suite])
    model = load_model()
    prior = np.array([float(estimate(p, model)) for p in suite])
    loglik = response_loglik(responses, used)
    fitted = fit_prior(loglik, prior) if prior_sd <= 0 else Prior(0.0, 1.0, prior_sd, math.nan)
    mean, sd, _ = posterior(loglik, fitted.intercept + fitted.slope * prior, fitted.sd)
    ratings = {p.id: int(round(m)) for p, m in zip(suite, mean)}
    devs = {p.id: int(round(d)) for p, d in zip(suite, sd)}

    lines = [f"calibration players ({len(used)}), fitted on {len(anchors)} anchors with Elo's curve (theta = 50% point)",
             f"{'player':40} {'theta':>6} {'solved':>8}"]
    for f in fits.values():
        tag = " (held out)" if f.label in holdout else "" if f.label in in_range else " (out of range)"
        lines.append(f"{f.label + tag:40} {f.theta:6.0f} {f.solved:4d}/{f.n}")
    lines += ["", f"prior: b ~ N({fitted.intercept:.0f} + {fitted.slope:.3f} x feature estimate, {fitted.sd:.0f}^2)"
              + (" (fitted by marginal likelihood)" if prior_sd <= 0 else " (fixed)"),
              f"suite ratings: {len(suite)} puzzles; posterior sd median "
              f"{np.median(sd):.0f} (range {sd.min():.0f}-{sd.max():.0f}); mean shift from the feature estimate "
              f"{np.mean(mean - prior):+.0f}, correlation {np.corrcoef(mean, prior)[0, 1]:.2f}"]
    hist = band_counts(ratings.values())
    lines.append("calibrated histogram: " + ", ".join(f"{k}: {v}" for k, v in hist.items()))
    lines += ["", "rating (chesseval.core.rating's fit) on real Lichess anchors vs on the suite; free-slope: the 50% point "
              "of a curve with its own slope",
              f"{'player':40} {'anchors':>20} {'suite, calibrated':>20} {'diff':>5} {'suite, features':>20} {'diff':>5}"
              f" {'free-slope 50% point: anchors, suite, diff':>20}"]
    rows = []
    for label in on_anchors:
        ra = _rating([on_anchors[label][p.id] for p in anchors], a_rating, a_rd)
        solved = [on_suite[label][p.id] for p in suite]
        rc = _rating(solved, [ratings[p.id] for p in suite], [devs[p.id] for p in suite])
        rf = _rating(solved, [float(p.rating or 0) for p in suite], [DEFAULT_RD] * len(suite))
        tag = " (held out)" if label in holdout else ""
        free_a = fit_player(label, [on_anchors[label][p.id] for p in anchors], a_rating, a_rd, free_slope=True)
        free_s = fit_player(label, solved, [ratings[p.id] for p in suite], [devs[p.id] for p in suite], free_slope=True)
        d1 = None if ra.rating is None or rc.rating is None else rc.rating - ra.rating  # type: ignore[attr-defined]
        d2 = None if ra.rating is None or rf.rating is None else rf.rating - ra.rating  # type: ignore[attr-defined]
        rows.append({"player": label, "held_out": bool(tag), "anchors": ra.format(), "suite": rc.format(),  # type: ignore[attr-defined]
                     "diff": None if d1 is None else round(d1), "suite_features": rf.format(),  # type: ignore[attr-defined]
                     "diff_features": None if d2 is None else round(d2),
                     "free_slope": {"anchors": round(free_a.theta), "suite": round(free_s.theta),
                                    "diff": round(free_s.theta - free_a.theta),
                                    "slope_anchors": free_a.slope, "slope_suite": free_s.slope}})
        fmt = lambda d: "-" if d is None else f"{d:+.0f}"  # noqa: E731
        lines.append(f"{label + tag:40} {ra.format():>20} {rc.format():>20} {fmt(d1):>5} {rf.format():>20} {fmt(d2):>5}"  # type: ignore[attr-defined]
                     f" {free_a.theta:6.0f} {free_s.theta:6.0f} {free_s.theta - free_a.theta:+5.0f}")
    return Calibration(ratings, devs, tuple(fits.values()), tuple(rows), "\n".join(lines))


def write_calibration(path: Path, suite: Sequence[Puzzle], result: Calibration, holdout: Sequence[str], *,
                      prior_sd: float, anchors: Path) -> None:
    import datetime as dt

    from chesseval.core.suites import rewrite_suite

    rated = [dataclasses.replace(p, rating=result.ratings[p.id], rating_deviation=result.deviations[p.id]) for p in suite]
    record = {
        "command": "python scripts/calibrate_suite.py --write",
        "method": ("anchor-based equating (common persons): a ladder of reference players answers the suite and real "
                   "Lichess anchors; each player's 50% point and slope are fitted on the anchors (P = 1/(1+10^(-slope*"
                   "(theta-b)/400)), anchor RD through Glicko's g); each puzzle's Rating is the posterior mean of b "
                   "given which calibration players solved it, with the feature model's estimate as a normal prior, "
                   "and its RatingDeviation the posterior SD"),
        "anchors": {"source": "../shared/data/lichess_sample.csv", "build": ["chesseval suite build", *ANCHOR_ARGS],
                    "count": result.players[0].n},
        "prior": {"model": "chesseval/mining/difficulty_model.json", "sd": prior_sd},
        "players": [{"player": f.label, "theta": f.theta, "slope": f.slope, "held_out": f.label in holdout}
                    for f in result.players],
        "validation": list(result.validation),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
    }
    manifest = path.with_suffix(".json")
    old = json.loads(manifest.read_text()).get("description", "")
    desc = old.replace("ratings are estimates of the Lichess rating (rating_source=estimated)",
                       "ratings are calibrated on the Lichess scale by reference players (see calibration; rating_source=estimated)")
    rewrite_suite(manifest, rated, description=desc, extra={"calibration": record})
    print(f"{path}: calibrated ratings and deviations written; manifest {manifest} records the method")


if __name__ == "__main__":
    sys.exit(main())
