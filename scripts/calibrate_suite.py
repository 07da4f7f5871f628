"""Put the mined default suite on the Lichess puzzle scale from evidence (anchor-based equating).

    python scripts/calibrate_suite.py [--suite puzzles/default.csv] [--runs-only] [--write | --check]

Design ("common persons", see ../shared/docs/measurement-notes.md §3):

1. **Anchors**: real Lichess puzzles with well-measured ratings (NbPlays ≥ 100, RD ≤ 90), 60 per
   200-point band from 400 to 2999 (fewer above 2600, where the sample has fewer), cut by
   ``chesseval suite build`` from the shared Lichess sample into ``build/calibration/anchors.csv``
   (none of them is committed).
2. **A ladder of reference players**, two families that fail differently: engine-free alpha-beta
   search at depth 1–3 and Stockfish at 100 to 10k nodes. Each answers the anchors and the suite
   with ``chesseval run``; runs are resumed, or reused from ``runs/reference`` when one holds the
   same puzzles.
3. **Players on the anchors**: each player's curve is fitted on the anchors, their Lichess
   ratings taken as known, with the model the headline is reported with
   (``chesseval.core.curve``: level, slope and lapse, anchor RD through Glicko's g), so that a
   player's 50% point means the same on the anchors and on the calibrated suite (``--curve elo``
   assumes Elo's fixed curve instead; by the leave-one-player-out check below it is worse:
   RMS 124 against 73 on 2026-12-03). Players solving more than 95% or fewer than 5% of the
   anchors are outside the anchors' range and are not used (Stockfish at 10k nodes).
4. **Puzzles from the players**: with the players' θ fixed, each suite puzzle's difficulty b gets
   a posterior from which players solved it and a normal prior around the feature model's
   estimate (``chesseval.mining.difficulty``), mapped linearly: b ~ N(c + k·estimate, s²), with c, k and s
   fitted by marginal likelihood (EM), because mined puzzles sit off the feature model's scale
   (issue 18). Rating = posterior mean, RatingDeviation = posterior SD.
5. **Held-out players** (depth 2 and Stockfish 1k by default, and the check players: Stockfish
   with a depth limit of 1–8, :data:`CHECK_ONLY`) are never used in steps 3–4: their rating on
   the calibrated suite is compared with their rating on the anchors. Then every in-range
   ladder player but the check players is left out in turn (leave-one-player-out), which
   validates the method rather than players picked in advance. Both tables go into the
   manifest. A player used in the calibration is compared in sample: its own answers placed
   the puzzles, which biases its headline on the suite by up to about 60 points even where the
   model is true (``benchmarks/calibration_in_sample.py``), so read the held-out and
   leave-one-player-out figures, not the used players' rows.

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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from chesseval.core.puzzles import Puzzle, load_puzzles  # noqa: E402
from chesseval.core.suites import resolve_suite  # noqa: E402

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


CHECK_ONLY = tuple(f"engine/stockfish depth={d}" for d in (1, 2, 3, 4, 6, 8))
"""Check players: never in any calibration (the main one, the leave-one-player-out folds, the linking
bootstrap), only compared on the anchors and the suite. Stockfish with a depth limit instead of a
node limit: more held-out players than the two of :data:`HOLDOUT`, in the rating range where the
suite has the fewest players, at about 10 s per run. They are one engine's variants, so they tell
whether the held-out agreement is more than two players' luck, not how another family fares."""

LADDER = tuple(LadderPlayer.parse(t) for t in (
    "builtin/search depth=1", "builtin/search depth=2", "builtin/search depth=3",
    "engine/stockfish nodes=100",
    "engine/stockfish nodes=300", "engine/stockfish nodes=1000", "engine/stockfish nodes=3000",
    "engine/stockfish nodes=10000",
    *CHECK_ONLY,
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
    lapse: float = 0.0
    """Share of puzzles failed at any rating (a ceiling of 1 − lapse), as chesseval.core.rating fits it."""

    def p_solve(self, b: np.ndarray) -> np.ndarray:
        return (1.0 - self.lapse) / (1.0 + np.exp(-self.slope * Q * (self.theta - b)))


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


def fit_player_curve(label: str, solved: Sequence[bool], ratings: Sequence[float], rds: Sequence[float]) -> PlayerFit:
    """The player's curve as chesseval.core.rating's headline model fits it (slope and lapse, with
    its priors), so that the suite is calibrated on the curve the ratings are reported with."""
    from chesseval.core.curve import fit_curve

    fit = fit_curve(list(solved), list(ratings), list(rds), gof_boot=0)
    if fit.theta is None or fit.scale is None:
        raise ValueError(f"player {label!r}: no curve (solved {fit.solved} of {fit.n})")
    return PlayerFit(label, float(fit.theta), 400.0 / float(fit.scale), fit.n, fit.solved, float(fit.lapse or 0.0))


def response_loglik(responses: np.ndarray, players: Sequence[PlayerFit], *, weigh_families: bool = False) -> np.ndarray:
    """log P(responses | b) for every puzzle (rows of ``responses``: puzzles, columns: players,
    1 solved / 0 failed) at every point of :data:`B_GRID`, the players' curves fixed."""
    theta = np.array([p.theta for p in players])
    slope = np.array([p.slope for p in players])
    lapse = np.array([p.lapse for p in players])
    z = slope[None, :] * Q * (theta[None, :] - B_GRID[:, None])  # grid x players
    log_p = np.log1p(-lapse)[None, :] + _log_sigmoid(z)
    log_q = np.log1p(-np.exp(log_p).clip(max=1 - 1e-12))
    w = family_weights([p.label for p in players]) if weigh_families else np.ones(len(players))
    return (responses * w) @ log_p.T + ((1 - responses) * w) @ log_q.T


def family_weights(labels: Sequence[str]) -> np.ndarray:
    """Weights that give each family of players (its model: builtin/search, engine/stockfish) the
    same total weight, keeping the total: players of one family fail alike, so without this the
    family with more rungs would decide every puzzle (measurement-notes §3: the players must
    differ in *how* they fail, or the calibration learns one family's blind spots)."""
    fam = [label.split()[0] for label in labels]
    n_fam = len(set(fam))
    return np.array([len(fam) / (n_fam * fam.count(f)) for f in fam])


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


def fit_prior(loglik: np.ndarray, features: np.ndarray, *, iters: int = 200, min_sd: float = 50.0,
              shift_only: bool = False, start: Prior | None = None) -> Prior:
    """Empirical-Bayes prior: EM over (intercept, slope, sd) of the feature model's linear map.

    The feature model was trained on real Lichess puzzles; mined puzzles may sit off its scale
    (issue 18: the easy mined bands are far easier than real puzzles of the same estimate), so the
    map and its spread are learnt from the ladder's answers instead of assumed."""
    x = np.column_stack([np.ones_like(features), features])
    coef, sd = (np.array([0.0, 1.0]), PRIOR_SD) if start is None else (np.array([start.intercept, start.slope]), start.sd)
    last = -math.inf
    for _ in range(iters):
        mean, post_sd, marginal = posterior(loglik, x @ coef, sd)
        coef = np.array([float(np.mean(mean - features)), 1.0]) if shift_only else np.linalg.lstsq(x, mean, rcond=None)[0]
        resid = mean - x @ coef
        sd = max(min_sd, float(np.sqrt(np.mean(resid**2 + post_sd**2))))
        total = float(marginal.sum())
        if abs(total - last) < 1e-4:
            break
        last = total
    return Prior(float(coef[0]), float(coef[1]), sd, float(posterior(loglik, x @ coef, sd)[2].sum()))


@dataclasses.dataclass(frozen=True)
class SuiteFit:
    """The suite's puzzles given the players: posterior mean and SD of each b, the prior, and the
    suite's discrimination k (every player's slope on the suite is k times its slope on the anchors)."""

    mean: np.ndarray
    sd: np.ndarray
    prior: Prior
    discrimination: float
    interval: tuple[float, float] | None = None
    """Profile-likelihood 95% interval of k (marginal likelihood within 1.92 of its maximum)."""


K_RANGE = (0.5, 4.0)
"""Search range of the suite discrimination k."""


def fit_suite(responses: np.ndarray, players: Sequence[PlayerFit], features: np.ndarray, *,
              discrimination: float | None = None, prior_sd: float = 0.0, shift_only: bool = False,
              weigh_families: bool = False, interval: bool = False) -> SuiteFit:
    """Each suite puzzle's difficulty from which ``players`` solved it (rows of ``responses``).

    ``discrimination=None`` fits the suite's discrimination k by marginal likelihood: mined
    puzzles, each checked to have one winning move at 1M nodes, separate the same players more
    sharply than real Lichess puzzles do (on the default suite k is 1.35 with the calibration
    players, 1.5 with the whole ladder), so a player's anchor curve, read unchanged on
    the suite, spreads each puzzle's b too wide. k scales every player's slope on the suite (the
    players keep their θ and lapse); k = 1 is the plain common-persons model. A number fixes k."""

    cache: dict[float, tuple[np.ndarray, Prior]] = {}

    def at(k: float) -> tuple[np.ndarray, Prior]:
        scaled = [dataclasses.replace(f, slope=f.slope * k) for f in players]
        loglik = response_loglik(responses, scaled, weigh_families=weigh_families)
        if prior_sd > 0:  # the feature estimate itself, with a fixed spread
            return loglik, Prior(0.0, 1.0, prior_sd, float(posterior(loglik, features, prior_sd)[2].sum()))
        # Warm start from the nearest k already fitted: the same optimum is reached in far fewer EM steps.
        near = min(cache, key=lambda key: abs(key - k), default=None)
        return loglik, fit_prior(loglik, features, shift_only=shift_only, start=None if near is None else cache[near][1])

    def marginal(log_k: float) -> float:
        k = round(math.exp(log_k), 3)  # to 0.001: the shipped ratings are recomputed exactly (--check)
        if k not in cache:
            cache[k] = at(k)
        return cache[k][1].log_marginal

    if discrimination is None:
        # Golden-section search on log k: the profile is unimodal in practice (one sharpness fits best).
        lo, hi = math.log(K_RANGE[0]), math.log(K_RANGE[1])
        r = (math.sqrt(5) - 1) / 2
        c, d = hi - r * (hi - lo), lo + r * (hi - lo)
        while hi - lo > 0.01:
            if marginal(c) > marginal(d):
                hi, d = d, c
                c = hi - r * (hi - lo)
            else:
                lo, c = c, d
                d = lo + r * (hi - lo)
        k = max(cache, key=lambda key: cache[key][1].log_marginal)
    else:
        k = round(float(discrimination), 3)
        if k <= 0:
            raise ValueError(f"suite discrimination {discrimination!r} is not positive")
        cache[k] = at(k)
    loglik, prior = cache[k]
    mean, sd, _ = posterior(loglik, prior.intercept + prior.slope * features, prior.sd)
    band = None
    if interval:
        top = prior.log_marginal

        def edge(inside: float, outside: float) -> float:
            for _ in range(8):
                mid = (inside + outside) / 2
                inside, outside = (mid, outside) if marginal(mid) > top - 1.92 else (inside, mid)
            return round(math.exp((inside + outside) / 2), 2)

        band = (edge(math.log(k), math.log(K_RANGE[0])), edge(math.log(k), math.log(K_RANGE[1])))
    return SuiteFit(mean, sd, prior, k, band)


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


def ensure_anchors(path: Path, source: Path = SHARED_SAMPLE) -> None:
    if path.exists():
        if source.exists() and resolve_suite(path).is_built_from(source) is False:
            raise SystemExit(f"error: {path} was cut from another file than --source {str(source)!r}; "
                             "give another --anchors (and --runs-dir) for this source")
        return
    if not source.exists():
        raise SystemExit(f"error: {path} is missing and the Lichess puzzle file {str(source)!r} is not there to cut it from")
    cmd = [sys.executable, "-m", "chesseval", "suite", "build", str(source), "--name", path.stem,
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
    ap.add_argument("--curve", choices=("elo", "headline"), default="headline",
                    help="players' curves: the headline model the ratings are reported with (chesseval.core.curve: "
                         "slope and lapse; the default) or Elo's fixed curve")
    ap.add_argument("--prior-map", choices=("linear", "shift"), default="linear",
                    help="fitted prior mean: c + k x estimate (linear) or c + estimate (shift)")
    ap.add_argument("--weigh-families", action="store_true", help="each family of players gets the same total weight")
    ap.add_argument("--discrimination", default=None, type=_discrimination,
                    help="the suite's discrimination k (players' slopes on the suite = k x on the anchors): 'fit' "
                         "(by marginal likelihood; the default) or a number (1: the plain common-persons model)")
    ap.add_argument("--linking-boot", type=_replicates, default=20, metavar="N",
                    help="bootstrap replicates of the anchors for the calibration's linking error (default: "
                         "%(default)s, about 5 s each; 0: skip; --check skips it, it is not a shipped number)")
    ap.add_argument("--runs-only", action="store_true", help="only make sure every ladder run exists")
    ap.add_argument("--write", action="store_true", help="store the calibrated ratings in the suite and its manifest")
    ap.add_argument("--check", action="store_true",
                    help="recompute the calibration and compare it with the ratings and deviations in the suite file; "
                         "exit 1 if any differs (the shipped ratings are this script's output)")
    ap.add_argument("--source", type=Path, default=SHARED_SAMPLE,
                    help="Lichess puzzle CSV the anchors are cut from when --anchors does not exist (default: %(default)s)")
    args = ap.parse_args(argv)
    holdout = tuple(LadderPlayer.parse(h).label for h in (args.holdout or HOLDOUT))
    unknown = [h for h in holdout if h not in {p.label for p in LADDER}]
    if unknown:
        ap.error(f"--holdout {unknown[0]!r} is not a ladder player")
    holdout += tuple(label for label in CHECK_ONLY if label not in holdout)
    ensure_anchors(args.anchors, args.source)
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
    result = fit_and_validate(anchors, suite, on_anchors, on_suite, holdout, prior_sd=args.prior_sd, curve=args.curve,
                              prior_map=args.prior_map, weigh_families=args.weigh_families,
                              discrimination=args.discrimination, linking_boot=0 if args.check else args.linking_boot)
    print(result.report)
    if args.check:
        differ = [(p.id, (p.rating, p.rating_deviation), (result.ratings[p.id], result.deviations[p.id])) for p in suite
                  if (p.rating, p.rating_deviation) != (result.ratings[p.id], result.deviations[p.id])]
        for pid, shipped, again in differ[:10]:
            print(f"{args.suite}: puzzle {pid!r}: shipped (Rating, RatingDeviation) {shipped}, recomputed {again}")
        print(f"check: {len(suite) - len(differ)} of {len(suite)} puzzles carry exactly the recomputed rating and deviation")
        if differ:
            return 1
    if args.write:
        write_calibration(args.suite, suite, result, holdout, prior_sd=args.prior_sd, anchors=args.anchors)
    return 0


def _replicates(text: str) -> int:
    """``--linking-boot``: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of replicates (0 or more)")
    return value


def _discrimination(text: str) -> float | None:
    """``--discrimination``: None for 'fit', else a positive number."""
    if text == "fit":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is neither 'fit' nor a positive number")
    return value


@dataclasses.dataclass(frozen=True)
class Calibration:
    ratings: dict[str, int]
    deviations: dict[str, int]
    players: tuple[PlayerFit, ...]
    used: tuple[str, ...]
    prior: Prior
    options: dict[str, object]
    validation: tuple[dict[str, object], ...]
    report: str
    lopo: tuple[dict[str, object], ...] = ()
    discrimination: float = 1.0
    discrimination_interval: tuple[float, float] | None = None
    linking: dict[str, float] = dataclasses.field(default_factory=dict)
    """Each player's linking error on the suite (SD over bootstrap replicates of the anchors)."""
    linking_boot: int = 0


def band_counts(ratings: Iterable[int], width: int = 200) -> dict[str, int]:
    """Counts per band, with everything below 600 and from 2600 up in one band each."""
    out: dict[str, int] = {"<600": 0, **{f"{lo}-{lo + width - 1}": 0 for lo in range(600, 2600, width)}, "2600+": 0}
    for r in ratings:
        key = "<600" if r < 600 else "2600+" if r >= 2600 else f"{(r // width) * width}-{(r // width) * width + width - 1}"
        out[key] += 1
    return out


def _estimated_rd() -> float:
    from chesseval.core import rating

    return float(getattr(rating, "ESTIMATED_RD", rating.DEFAULT_RD))


def _curve(solved: Sequence[bool], ratings: Sequence[float], rds: Sequence[float]) -> dict[str, float | None] | None:
    """chesseval.core.curve's headline: the fitted curve's 50%-solve point, its interval, scale and lapse."""
    from chesseval.core.curve import fit_curve

    fit = fit_curve(list(solved), list(ratings), list(rds), gof_boot=0)
    def num(x: float | None, digits: int = 0) -> float | None:
        return None if x is None or not math.isfinite(x) else round(float(x), digits)

    return {"rating": num(fit.rating), "low": num(fit.low), "high": num(fit.high), "scale": num(fit.scale),
            "lapse": num(fit.lapse, 3)}


def _text(c: dict[str, float | None] | None, *, short: bool = False) -> str:
    if c is None or c["rating"] is None:
        return "-"
    if short:
        return f"{c['rating']:.0f}"
    lo = "-inf" if c["low"] is None else f"{c['low']:.0f}"
    hi = "inf" if c["high"] is None else f"{c['high']:.0f}"
    return f"{c['rating']:.0f} [{lo}, {hi}]"


def _diff(a: object, b: object) -> int | None:
    if isinstance(a, dict):
        a = a.get("rating")
    if isinstance(b, dict):
        b = b.get("rating")
    if a is None or b is None:
        return None
    return round(float(a) - float(b))  # type: ignore[arg-type]


def _rating(solved: Sequence[bool], ratings: Sequence[float], rds: Sequence[float]) -> object:
    from chesseval.core.rating import estimate_rating

    return estimate_rating(list(solved), list(ratings), list(rds))


def anchor_ratings(anchors: Sequence[Puzzle]) -> tuple[np.ndarray, np.ndarray]:
    """The anchors' Lichess ratings and deviations (DEFAULT_RD where a row has none), as the
    players' curves are fitted on them."""
    from chesseval.core.rating import DEFAULT_RD

    return (np.array([float(p.rating or 0) for p in anchors]),
            np.array([float(p.rating_deviation if p.rating_deviation is not None else DEFAULT_RD) for p in anchors]))


def fit_and_validate(anchors: Sequence[Puzzle], suite: Sequence[Puzzle], on_anchors: dict[str, dict[str, bool]],
                     on_suite: dict[str, dict[str, bool]], holdout: Sequence[str], *, prior_sd: float = 0.0,
                     curve: str = "headline", prior_map: str = "linear", weigh_families: bool = False,
                     lopo_check: bool = True, discrimination: float | None = None, linking_boot: int = 0) -> Calibration:
    from chesseval.mining.difficulty import estimate, load_model

    a_rating, a_rd = anchor_ratings(anchors)
    fitter = fit_player_curve if curve == "headline" else fit_player
    fits = {label: fitter(label, [res[p.id] for p in anchors], a_rating, a_rd) for label, res in on_anchors.items()}
    # A player who solves nearly every anchor (or none) has its level outside the anchors' range:
    # its θ is an extrapolation and would put the suite's top (or bottom) on a guessed scale.
    in_range = {label for label, f in fits.items() if MIN_RATE <= f.solved / f.n <= MAX_RATE}
    used = [fits[label] for label in on_anchors if label not in holdout and label in in_range]
    model = load_model()
    prior = np.array([float(estimate(p, model)) for p in suite])

    def calibrate(players: Sequence[PlayerFit], *, interval: bool = False) -> SuiteFit:
        responses = np.array([[float(on_suite[f.label][p.id]) for f in players] for p in suite])
        return fit_suite(responses, players, prior, discrimination=discrimination, prior_sd=prior_sd,
                         shift_only=prior_map == "shift", weigh_families=weigh_families, interval=interval)

    main_fit = calibrate(used, interval=True)
    mean, sd, fitted = main_fit.mean, main_fit.sd, main_fit.prior
    ratings = {p.id: int(round(m)) for p, m in zip(suite, mean, strict=True)}
    devs = {p.id: int(round(d)) for p, d in zip(suite, sd, strict=True)}

    lines = [f"calibration players ({len(used)}), curves fitted on {len(anchors)} anchors ({curve}): "
             "P = (1 - lapse) / (1 + 10^(-slope (theta - b) / 400))",
             f"{'player':40} {'theta':>6} {'slope':>5} {'lapse':>5} {'solved':>8}"]
    for f in fits.values():
        tag = " (held out)" if f.label in holdout else "" if f.label in in_range else " (out of range)"
        lines.append(f"{f.label + tag:40} {f.theta:6.0f} {f.slope:5.2f} {f.lapse:5.2f} {f.solved:4d}/{f.n}")
    k_text = (f"{main_fit.discrimination:.3f}" + (f" [{main_fit.interval[0]:.2f}, {main_fit.interval[1]:.2f}]"
                                                 if main_fit.interval else "")
              + (" (fitted by marginal likelihood, 95% profile interval)" if discrimination is None else " (fixed)"))
    lines += ["", f"suite discrimination k = {k_text}: each player's slope on the suite is k x its slope on the anchors",
              f"prior: b ~ N({fitted.intercept:.0f} + {fitted.slope:.3f} x feature estimate, {fitted.sd:.0f}^2)"
              + (" (fitted by marginal likelihood)" if prior_sd <= 0 else " (fixed)"),
              f"suite ratings: {len(suite)} puzzles; posterior sd median "
              f"{np.median(sd):.0f} (range {sd.min():.0f}-{sd.max():.0f}); mean shift from the feature estimate "
              f"{np.mean(mean - prior):+.0f}, correlation {np.corrcoef(mean, prior)[0, 1]:.2f}"]
    hist = band_counts(ratings.values())
    lines.append("calibrated histogram: " + ", ".join(f"{k}: {v}" for k, v in hist.items()))
    lines += ["", "held-out check: each player's rating on the real Lichess anchors vs on the calibrated suite "
              "(and on the suite with the feature estimates, as shipped before); 'curve' = chesseval.core.rating's "
              "headline (50%-solve point of the fitted curve), 'Elo' = its Elo-slope figure",
              f"{'player':40} {'curve: anchors':>20} {'suite':>20} {'diff':>5} {'features':>6} {'diff':>5}"
              f" {'Elo: anchors':>20} {'suite':>20} {'diff':>5}"]
    rows = []
    s_rating = [float(ratings[p.id]) for p in suite]
    s_rd = [float(devs[p.id]) for p in suite]
    f_rating = [float(x) for x in prior]  # the feature estimates, as the suite shipped before calibration
    f_rd = [_estimated_rd()] * len(suite)
    for label in on_anchors:
        solved_a = [on_anchors[label][p.id] for p in anchors]
        solved = [on_suite[label][p.id] for p in suite]
        ca, cs, cf = _curve(solved_a, a_rating, a_rd), _curve(solved, s_rating, s_rd), _curve(solved, f_rating, f_rd)
        ea, es = _rating(solved_a, a_rating, a_rd), _rating(solved, s_rating, s_rd)
        row = {"player": label, "held_out": label in holdout, "used": label in {f.label for f in used},
               "curve": {"anchors": ca, "suite": cs, "diff": _diff(cs, ca), "suite_features": cf, "diff_features": _diff(cf, ca)},
               "elo": {"anchors": ea.format(), "suite": es.format(), "diff": _diff(es.rating, ea.rating)}}  # type: ignore[attr-defined]
        rows.append(row)
        tag = " (held out)" if label in holdout else "" if row["used"] else " (not used)"
        fmt = lambda d: "-" if d is None else f"{d:+d}"  # noqa: E731
        lines.append(f"{label + tag:40} {_text(ca):>20} {_text(cs):>20} {fmt(_diff(cs, ca)):>5} {_text(cf, short=True):>6} "
                     f"{fmt(_diff(cf, ca)):>5} {ea.format():>20} {es.format():>20} {fmt(_diff(es.rating, ea.rating)):>5}")  # type: ignore[attr-defined]
    on_anchor_curves = {str(r["player"]): r["curve"]["anchors"] for r in rows}  # type: ignore[index]
    # Check players are not in the folds' pools either: they would be calibration players there.
    lopo = (leave_one_player_out(anchors, suite, on_anchors, on_suite, fits, in_range - set(CHECK_ONLY), calibrate,
                                 on_anchor_curves) if lopo_check else ())
    linking = (linking_errors(anchors, suite, on_anchors, on_suite, [f.label for f in used], fitter, calibrate,
                              reps=linking_boot) if linking_boot > 0 else {})
    if linking:
        lines += ["", f"linking error: SD of each player's headline on the suite over {linking_boot} bootstrap replicates "
                  "of the anchors (players refitted, suite recalibrated; not in the headline's interval)",
                  ", ".join(f"{label} {se:.0f}" for label, se in linking.items())]
        # Each fold's linking error is approximated by the full calibration's (a bootstrap per fold costs 7x).
        lopo = tuple({**r, "z_linking": _z(r["suite"], r["anchors"], extra_se=linking.get(str(r["player"]), 0.0))}  # type: ignore[arg-type]
                     for r in lopo)
    for row in rows:
        if row["held_out"] and row["player"] in in_range:
            on_s, on_a = row["curve"]["suite"], row["curve"]["anchors"]  # type: ignore[index]
            row["z"] = _z(on_s, on_a)
            if str(row["player"]) in linking:
                row["z_linking"] = _z(on_s, on_a, extra_se=linking[str(row["player"])])
    lines += held_out_summary(rows)
    if lopo:
        diffs = np.array([float(r["diff"]) for r in lopo if r["diff"] is not None])
        lines += ["", "leave-one-player-out check: every in-range ladder player in turn is left out of the calibration "
                  "(all others used), and its curve headline on the suite so calibrated is compared with its headline "
                  "on the anchors",
                  f"{'player':40} {'anchors':>20} {'suite':>20} {'diff':>5} {'z':>5} {'z incl. linking':>15}"]
        fz = lambda z: "-" if z is None else format(z, "+.1f")  # noqa: E731
        lines += [f"{r['player']:40} {_text(r['anchors']):>20} {_text(r['suite']):>20} {r['diff']:+5d} "  # type: ignore[arg-type]
                  f"{fz(r['z']):>5} {fz(r.get('z_linking')):>15}" for r in lopo if r["diff"] is not None]
        zs = np.array([float(r["z"]) for r in lopo if r["z"] is not None])
        lines.append(f"root mean square {np.sqrt(np.mean(diffs ** 2)):.0f}, largest |diff| {np.abs(diffs).max():.0f}, "
                     f"{int((np.abs(diffs) <= 50).sum())} of {diffs.size} within +/-50; "
                     f"|z| <= 2 for {int((np.abs(zs) <= 2).sum())} of {zs.size}"
                     + (f" ({sum(abs(float(r['z_linking'])) <= 2 for r in lopo if r.get('z_linking') is not None)} "
                        "including the linking error)" if linking else ""))
    options = {"curve": curve, "prior_map": prior_map if prior_sd <= 0 else "fixed", "prior_sd": prior_sd or None,
               "discrimination": "fitted" if discrimination is None else discrimination,
               "weigh_families": weigh_families, "holdout": list(holdout), "solve_rate_range": [MIN_RATE, MAX_RATE]}
    return Calibration(ratings, devs, tuple(fits.values()), tuple(f.label for f in used), fitted, options, tuple(rows),
                       "\n".join(lines), tuple(lopo), main_fit.discrimination, main_fit.interval, linking, linking_boot)


def held_out_summary(rows: Sequence[dict[str, object]]) -> list[str]:
    """The held-out players' agreement (in range and with a headline on both sides) in one line."""
    held = [r for r in rows if r["held_out"] and r.get("z") is not None]
    if not held:
        return []
    diffs = np.array([float(r["curve"]["diff"]) for r in held])  # type: ignore[index]
    zs = [abs(float(r["z"])) for r in held]  # type: ignore[arg-type]
    zl = [abs(float(r["z_linking"])) for r in held if r.get("z_linking") is not None]  # type: ignore[arg-type]
    return ["", f"held-out players ({len(held)}, never in the calibration): mean diff {diffs.mean():+.0f}, "
            f"root mean square {np.sqrt(np.mean(diffs ** 2)):.0f}, {int((np.abs(diffs) <= 50).sum())} of {len(held)} "
            f"within +/-50; |z| <= 2 for {sum(z <= 2 for z in zs)} of {len(zs)}"
            + (f" ({sum(z <= 2 for z in zl)} of {len(zl)} including the linking error)" if zl else "")]


def leave_one_player_out(anchors: Sequence[Puzzle], suite: Sequence[Puzzle], on_anchors: dict[str, dict[str, bool]],
                         on_suite: dict[str, dict[str, bool]], fits: dict[str, PlayerFit], in_range: set[str],
                         calibrate: Callable[[Sequence[PlayerFit]], SuiteFit],
                         anchor_curves: dict[str, dict[str, float | None] | None] | None = None) -> tuple[dict[str, object], ...]:
    """Every in-range player held out in turn: the validation of the whole method rather than of
    two players picked in advance (measurement-notes §3; a family's blind spots show up as a
    family's players all missing in the same direction)."""
    a_rating, a_rd = anchor_ratings(anchors)
    pool = [label for label in on_anchors if label in in_range]
    out = []
    for label in pool:
        fold = calibrate([fits[o] for o in pool if o != label])
        mean, sd = fold.mean, fold.sd
        on_a = (anchor_curves[label] if anchor_curves and label in anchor_curves  # already fitted by the caller
                else _curve([on_anchors[label][p.id] for p in anchors], a_rating, a_rd))
        on_s = _curve([on_suite[label][p.id] for p in suite], [float(x) for x in mean], [float(x) for x in sd])
        out.append({"player": label, "anchors": on_a, "suite": on_s, "diff": _diff(on_s, on_a), "z": _z(on_s, on_a),
                    "discrimination": fold.discrimination})
    return tuple(out)


def linking_errors(anchors: Sequence[Puzzle], suite: Sequence[Puzzle], on_anchors: dict[str, dict[str, bool]],
                   on_suite: dict[str, dict[str, bool]], used: Sequence[str],
                   fitter: Callable[[str, Sequence[bool], Sequence[float], Sequence[float]], PlayerFit],
                   calibrate: Callable[[Sequence[PlayerFit]], SuiteFit], *, reps: int, seed: int = 0) -> dict[str, float]:
    """The calibration's shared (linking) error of every player's headline on the suite: the SD
    over ``reps`` bootstrap replicates of the anchors (players' curves refitted on each, the suite
    calibrated again, the player's own suite answers fixed).

    A headline's profile interval covers its own puzzles' sampling noise, not the error of the
    scale they were put on; the two are about the same size on the default suite, and the latter
    is shared by every run on it (it cancels between two runs on the suite, not between the suite
    and real puzzles)."""
    rng = np.random.default_rng(seed)
    a_rating, a_rd = anchor_ratings(anchors)
    heads: dict[str, list[float]] = {label: [] for label in on_suite}
    for _ in range(reps):
        idx = rng.integers(0, len(anchors), len(anchors))
        players = [fitter(label, [on_anchors[label][anchors[i].id] for i in idx], a_rating[idx], a_rd[idx]) for label in used]
        fit = calibrate(players)
        for label, got in heads.items():
            c = _curve([on_suite[label][p.id] for p in suite], [float(x) for x in fit.mean], [float(x) for x in fit.sd])
            if c is not None and c["rating"] is not None:
                got.append(float(c["rating"]))
    return {label: round(float(np.std(v, ddof=1)), 1) for label, v in heads.items() if len(v) >= 2}


SIM_PLAYERS = {"p900": (900.0, 0.45, 0.02), "p1300": (1300.0, 0.5, 0.02), "p1700": (1700.0, 0.55, 0.01),
               "p2000": (2000.0, 0.5, 0.01), "p2300": (2300.0, 0.5, 0.01)}  # fmt: skip
"""Simulated ladder: theta, slope (relative to Elo's: scale 400 / slope), lapse; flat and lapsing
like engines and search on real puzzles."""


def simulate_leave_one_player_out(seed: int, drift: float = 0.0, n_anchors: int = 700, n_suite: int = 800, *,
                                  sharpness: float = 1.0, discrimination: float | None = None,
                                  ) -> tuple[tuple[dict[str, object], ...], dict[str, PlayerFit]]:
    """The leave-one-player-out check in a simulated world where one difficulty per puzzle is true
    for every player: anchors of known rating (RD 75), suite puzzles whose feature estimate is off
    by N(0, 300), the :data:`SIM_PLAYERS`, and with ``drift`` one more player that much stronger
    on the suite than on the anchors (a family's blind spot); ``sharpness``: every player's slope on
    the suite is that many times its slope on the anchors (a suite that separates players more
    sharply, as mined puzzles do), calibrated with ``discrimination`` (None: fitted; 1: the plain
    model). Returns the rows and the players' curves fitted on the anchors. The noise floor the real table is read against
    (benchmarks/calibration_noise_floor.py)."""
    rng = np.random.default_rng(seed)
    a_r = rng.uniform(400, 2900, n_anchors).round()
    b_true = rng.uniform(300, 2700, n_suite)
    features = b_true + rng.normal(0, 300, n_suite)
    dummy = Puzzle(id="x", fen="rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", moves=("e2e4", "e7e5"))
    anchors = [dataclasses.replace(dummy, id=f"a{i}", rating=int(r), rating_deviation=75) for i, r in enumerate(a_r)]
    suite = [dataclasses.replace(dummy, id=f"s{i}", rating=0) for i in range(n_suite)]
    truth = {k: (*v, 0.0) for k, v in SIM_PLAYERS.items()}
    if drift:
        truth["drift"] = (1500.0, 0.5, 0.02, drift)

    def solve(theta: float, slope: float, lapse: float, b: np.ndarray) -> np.ndarray:
        return rng.random(b.size) < (1.0 - lapse) / (1.0 + 10.0 ** (-slope * (theta - b) / 400.0))

    on_a = {k: dict(zip([p.id for p in anchors], solve(t, a, lp, a_r), strict=True)) for k, (t, a, lp, _) in truth.items()}
    on_s = {k: dict(zip([p.id for p in suite], solve(t + d, a * sharpness, lp, b_true), strict=True))
            for k, (t, a, lp, d) in truth.items()}  # fmt: skip
    fits = {k: fit_player_curve(k, [on_a[k][p.id] for p in anchors], a_r, [75.0] * n_anchors) for k in truth}

    def calibrate(players: Sequence[PlayerFit]) -> SuiteFit:
        resp = np.array([[float(on_s[f.label][p.id]) for f in players] for p in suite])
        return fit_suite(resp, players, features, discrimination=discrimination)

    return leave_one_player_out(anchors, suite, on_a, on_s, fits, set(truth), calibrate), fits


def _z(a: dict[str, float | None] | None, b: dict[str, float | None] | None, *, extra_se: float = 0.0) -> float | None:
    from chesseval.core.curve import headline_z

    z = headline_z(a, b, extra_se=extra_se)
    return None if z is None else round(z, 2)


def write_calibration(path: Path, suite: Sequence[Puzzle], result: Calibration, holdout: Sequence[str], *,
                      prior_sd: float, anchors: Path) -> None:
    import datetime as dt

    from chesseval.core.suites import rewrite_suite

    rated = [dataclasses.replace(p, rating=result.ratings[p.id], rating_deviation=result.deviations[p.id]) for p in suite]
    record = {
        "command": "python scripts/calibrate_suite.py --write",
        "method": ("anchor-based equating (common persons): a ladder of reference players answers the suite and real "
                   "Lichess anchors; each player's curve P(solve b) = (1 - lapse) / (1 + 10^(-slope (theta - b) / 400)) "
                   "is fitted on the anchors (their Lichess ratings known, RD through Glicko's g; curve 'elo': slope 1, "
                   "lapse 0, as chesseval.core.rating's Elo figure); each puzzle's Rating is the posterior mean of b given "
                   "which calibration players solved it, with a normal prior around the feature model's estimate mapped "
                   "by marginal likelihood, and its RatingDeviation the posterior SD"),
        "options": result.options,
        "anchors": {"source": "../shared/data/lichess_sample.csv", "build": ["chesseval suite build", *ANCHOR_ARGS],
                    "count": result.players[0].n},
        "prior": {"model": "chesseval/mining/difficulty_model.json", "intercept": round(result.prior.intercept, 1),
                  "slope": round(result.prior.slope, 4), "sd": round(result.prior.sd, 1)},
        "discrimination": {"k": result.discrimination,
                           "interval95": list(result.discrimination_interval) if result.discrimination_interval else None,
                           "meaning": "every player's slope on the suite is k x its slope on the anchors; fitted by "
                                      "marginal likelihood unless options.discrimination fixes it"},
        "players": [{"player": f.label, "theta": round(f.theta, 1), "slope": round(f.slope, 3), "lapse": round(f.lapse, 3),
                     "solved": f.solved, "n": f.n, "used": f.label in result.used, "held_out": f.label in holdout}
                    for f in result.players],
        "validation": list(result.validation),
        "leave_one_player_out": list(result.lopo),
        "linking": {"replicates": result.linking_boot, "seed": 0, "se": result.linking,
                    "meaning": "SD of each player's headline on the suite over bootstrap replicates of the anchors: "
                               "the calibration's shared error, not in a headline's interval; add it in quadrature "
                               "when comparing a rating on this suite with one on another suite"},
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
