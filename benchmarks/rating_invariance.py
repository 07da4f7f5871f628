"""Suite invariance of the puzzle rating: the reference ladder on four suites, one headline each.

A rating is only worth publishing if the same player gets the same number on another suite. This
plays the reference ladder (``builtin/search`` depth 1-3, ``engine/stockfish`` at 100 / 1k / 10k
nodes) on

  (a) ``uniform``  a stratified Lichess suite, ``--per-band`` (100) puzzles per 200-point band 600-2599;
  (b) ``natural``  10 x that many puzzles in Lichess's own rating mix (one band spanning every rating);
  (c) ``middle``   only 1400-2199 puzzles, 2 x ``--per-band`` per band;
  (d) ``default``  the bundled default suite (its runs are reused from ``runs/reference`` when
      that folder holds them for the current suite file).

Suites (a)-(c) are built at run time by ``chesseval suite build`` from
``../shared/data/lichess_sample.csv`` into ``build/rating_invariance/`` (derived third-party data:
never committed). Runs resume, so a second call only refits and prints. For each player it prints
the headline (the 50%-solve point of the fitted curve, :func:`chesseval.core.curve.fit_curve`) per
suite with its interval, the largest pairwise difference, whether every pair of intervals
overlaps, and the fixed-slope Elo figure's spread for comparison; then the goodness-of-fit p per
player and suite, and the themes off each curve (chesseval.core.theme_fit).

    nice -n 10 python benchmarks/rating_invariance.py [--source ../shared/data/lichess_sample.csv]
        [--build-dir build/rating_invariance] [--per-band 100] [--model slope_lapse]

Plays 2,800 puzzles per player the first time (about 10 minutes on 2 cores); then only refits.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.api import evaluate  # noqa: E402
from chesseval.core.curve import CurveModel, curve_from_records, headline_z  # noqa: E402
from chesseval.core.records import RunDir, list_runs  # noqa: E402
from chesseval.core.runner import RunConfig  # noqa: E402
from chesseval.core.suites import resolve_suite  # noqa: E402
from chesseval.core.theme_fit import flagged, theme_fits  # noqa: E402

PLAYERS: list[tuple[str, dict[str, str], str]] = [
    ("builtin/search", {"depth": "1"}, "search d1"),
    ("builtin/search", {"depth": "2"}, "search d2"),
    ("builtin/search", {"depth": "3"}, "search d3"),
    ("engine/stockfish", {"nodes": "100"}, "sf 100n"),
    ("engine/stockfish", {"nodes": "1000"}, "sf 1k n"),
    ("engine/stockfish", {"nodes": "10000"}, "sf 10k n"),
]

def suite_specs(per_band: int) -> dict[str, list[str]]:
    """name -> `chesseval suite build` options; distinct seeds so the suites share few puzzles."""
    return {
        "uniform": ["--per-band", str(per_band), "--min-rating", "600", "--max-rating", "2599", "--seed", "inv-a"],
        "natural": ["--band-width", "10000", "--per-band", str(10 * per_band), "--seed", "inv-b"],
        "middle": ["--per-band", str(2 * per_band), "--min-rating", "1400", "--max-rating", "2199", "--seed", "inv-c"],
    }


def build_suites(source: Path, out: Path, per_band: int) -> dict[str, Path]:
    paths = {}
    for name, opts in suite_specs(per_band).items():
        name = f"{name}{per_band}"  # the size is in the name: a rebuilt suite never reuses stale runs
        path = out / f"{name}.csv"
        if path.is_file() and resolve_suite(path).is_built_from(source) is False:
            raise SystemExit(f"error: {path} was cut from another file than --source {str(source)!r}; "
                             "give another --build-dir for this source")
        if not path.is_file():
            cmd = [sys.executable, "-m", "chesseval", "suite", "build", str(source), "--name", name,
                   "--out-dir", str(out), "--no-progress", "--jobs", "1", *opts]  # fmt: skip
            print("$", " ".join(cmd[1:]), flush=True)
            subprocess.run(cmd, check=True, cwd=ROOT)
        paths[name] = path
    paths["default"] = ROOT / "puzzles" / "default.csv"
    return paths


def _reference_run(suite: Path, model: str, options: dict[str, str]) -> Path | None:
    """A committed reference run of this player on exactly this suite file, if there is one."""
    import hashlib

    sha = hashlib.sha256(suite.read_bytes()).hexdigest()
    for run in list_runs(ROOT / "runs" / "reference"):
        head = run.read_header()
        got = {str(k): str(v) for k, v in (head.get("model_options") or {}).items()}  # the CLI stores typed values
        if (head.get("model") == model and got == options
                and (head.get("suite") or {}).get("sha256") == sha and head.get("status") == "success"):  # fmt: skip
            return run.path
    return None


def play(suite: Path, model: str, options: dict[str, str], runs_dir: Path) -> Path:
    if suite.resolve() == (ROOT / "puzzles" / "default.csv").resolve() and (ref := _reference_run(suite, model, options)):
        return ref
    start = time.perf_counter()
    result = evaluate(RunConfig(model=model, suite=str(suite), model_options=options, runs_dir=runs_dir, max_connections=2))
    print(f"  {model} {options} on {suite.stem}: {time.perf_counter() - start:.0f} s", flush=True)
    return Path(result.path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "lichess_sample.csv")
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build" / "rating_invariance")
    ap.add_argument("--per-band", type=int, default=100, help="uniform suite: puzzles per 200-point band "
                    "(natural: 10x, 1400-2199: 2x per band; default: %(default)s)")
    ap.add_argument("--model", default=str(CurveModel.SLOPE_LAPSE), choices=[str(m) for m in CurveModel])
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    args = ap.parse_args()
    if not args.source.is_file():
        print(f"source database {str(args.source)!r} not found (it lives in ../shared/data)", file=sys.stderr)
        return 2
    args.build_dir.mkdir(parents=True, exist_ok=True)
    suites = build_suites(args.source, args.build_dir, args.per_band)
    runs_dir = args.build_dir / "runs"
    model = CurveModel(args.model)

    table: dict[str, dict[str, dict]] = {}
    for mdl, opts, label in PLAYERS:
        for sname, spath in suites.items():
            recs = RunDir(play(spath, mdl, opts, runs_dir)).records()
            fit = curve_from_records(recs, model=model)
            themes = [t.to_dict() for t in flagged(theme_fits(recs, fit))]
            table.setdefault(label, {})[sname] = {**fit.to_dict(), "themes_off_curve": themes}

    names = list(suites)
    lichess = names[:3]
    print(f"\nheadline: 50%-solve point, model {model} (95% profile interval); last columns: largest "
          f"difference over the Lichess suites (a)-(c) and over all four, and the same for the Elo figure")  # fmt: skip
    print(f"{'player':<10} " + " ".join(f"{n:>21}" for n in names) + f" {'diff a-c':>8} {'overlap':>7} {'diff a-d':>8} {'overlap':>7}"
          f" {'Elo a-c':>7} {'Elo a-d':>7}")  # fmt: skip
    worst = {"a-c": 0.0, "a-d": 0.0}

    def spread(per: dict, keys: list[str], field: str | None = None, in_range: bool = False) -> tuple[float, bool]:
        got = [(per[k] if field is None else per[k][field]) for k in keys]
        if in_range:  # only suites whose puzzles reach the player's 50% point
            got = [g for g in got if not g.get("extrapolated")]
        pts = [g["rating"] for g in got if g["rating"] is not None]
        ivals = [(g["low"] if g["low"] is not None else -1e9, g["high"] if g["high"] is not None else 1e9) for g in got]
        overlap = all(a[0] <= b[1] and b[0] <= a[1] for a, b in itertools.combinations(ivals, 2))
        return (max(pts) - min(pts) if len(pts) > 1 else float("nan")), overlap

    def max_z(per: dict, keys: list[str]) -> float:
        """Largest |z| (chesseval.core.curve.headline_z) over pairs of suites that place the player:
        a fixed +/-50 is below these suites' resolution, z says whether two agree."""
        got = [per[k] for k in keys if not per[k].get("extrapolated")]
        zs = [abs(z) for a, b in itertools.combinations(got, 2) if (z := headline_z(a, b)) is not None]
        return max(zs) if zs else float("nan")

    in_range = {"a-c": 0.0, "a-d": 0.0}
    zmax: dict[str, float] = {}
    for label, per in table.items():
        zmax[label] = max_z(per, names)
        d_ac, o_ac = spread(per, lichess)
        d_ad, o_ad = spread(per, names)
        e_ac, _ = spread(per, lichess, "elo")
        e_ad, _ = spread(per, names, "elo")
        for key, keys in (("a-c", lichess), ("a-d", names)):
            d, _ = spread(per, keys, in_range=True)
            in_range[key] = max(in_range[key], 0.0 if math.isnan(d) else d)
        worst["a-c"] = max(worst["a-c"], d_ac)
        worst["a-d"] = max(worst["a-d"], d_ad)
        cells = [per[n]["text"] + ("*" if per[n].get("extrapolated") else " ") for n in names]
        print(f"{label:<10} " + " ".join(f"{c:>21}" for c in cells)
              + f" {d_ac:8.0f} {'yes' if o_ac else 'NO':>7} {d_ad:8.0f} {'yes' if o_ad else 'NO':>7} {e_ac:7.0f} {e_ad:7.0f}")  # fmt: skip
    print("* = extrapolated: the 50% point lies outside the suite's puzzle ratings")
    print(f"largest pairwise difference: {worst['a-c']:.0f} over (a)-(c), {worst['a-d']:.0f} over (a)-(d); "
          f"without extrapolated headlines {in_range['a-c']:.0f} and {in_range['a-d']:.0f} "
          f"(target: within +/-50, i.e. a spread of at most 100)")  # fmt: skip
    print("largest |z| of a pairwise difference over the suites that place the player (|z| > 2: the suites "
          "disagree beyond their noise): " + ", ".join(f"{k} {v:.1f}" for k, v in zmax.items()))
    print("\nElo figure (fixed 400 scale) per suite:")
    for label, per in table.items():
        print(f"{label:<10} " + " ".join(f"{per[n]['elo']['text']:>20}" for n in names))

    print("\ngoodness of fit per suite: p of the band chi-square (parametric bootstrap); slope scale / lapse")
    print(f"{'player':<10} " + " ".join(f"{n:>22}" for n in names))
    for label, per in table.items():
        cells = []
        for n in names:
            f = per[n]
            g = f.get("gof") or {}
            p = g.get("p_value")
            cells.append(f"{'-' if p is None else f'{p:.2f}':>5} {f['scale']:5.0f}/{100 * f['lapse']:4.1f}%".rjust(22))
        print(f"{label:<10} " + " ".join(cells))
    print("\nthemes off the curve (chesseval.core.theme_fit, |z| >= 3; at most two per suite), each with the headline "
          "without its puzzles in (): a player rated partly on a suite's theme mix")

    def _theme(t: dict) -> str:
        w = (t.get("without") or {}).get("rating")
        return f"{t['theme']} {t['z']:+.1f}" + ("" if w is None else f" ({w:.0f})")

    for label, per in table.items():
        cells = [f"{n}: " + (", ".join(_theme(t) for t in per[n]["themes_off_curve"][:2]) or "-") for n in names]
        print(f"{label:<10} " + "; ".join(cells))
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
