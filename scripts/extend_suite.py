"""Add the hard puzzles of a further mined build to a mined suite (the bands its build left short).

    python scripts/extend_suite.py EXTRA.csv [--suite puzzles/default.csv] [--min-estimate 2200]

``EXTRA.csv`` is the output of another ``chesseval puzzles build-suite`` run (another seed, so
other games; its command and generator stay in its own manifest, ``EXTRA.json``). Every puzzle of
it whose feature estimate (its Rating there, ``chesseval.mining.difficulty``) is at least
``--min-estimate`` and whose starting position is not already in the suite is added.

The selection reads the feature estimate only, as the suite's own selection did, never a
reference player's answers: choosing puzzles because the ladder failed them would pick the ones
it failed by chance, make them look harder than they are, and bias the calibration's
leave-one-player-out check (winner's curse).

Added puzzles carry their feature estimate until the suite is re-verified and recalibrated:

    python scripts/verify_suite.py --apply        # only the new puzzles are searched (cache)
    python scripts/calibrate_suite.py --write     # every rating again, the new ones included

The manifest records each extension under ``extensions`` (source build and its command, seed,
games, threshold, ids added, date).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.core.puzzles import Puzzle, load_puzzles  # noqa: E402


def select_extension(suite: list[Puzzle], extra: list[Puzzle], min_estimate: int,
                     dropped: frozenset[str] = frozenset()) -> list[Puzzle]:
    """Puzzles of ``extra`` rated at least ``min_estimate`` whose id and starting position are new
    to ``suite`` (one puzzle per position, as the suite's own selection keeps), lowest ids first;
    ids in ``dropped`` (failed a verification already) never come back."""
    seen_fen = {p.fen for p in suite}
    seen_id = {p.id for p in suite} | set(dropped)
    out = []
    for p in sorted(extra, key=lambda p: p.id):
        if p.rating is None or p.rating < min_estimate or p.fen in seen_fen or p.id in seen_id:
            continue
        seen_fen.add(p.fen)
        seen_id.add(p.id)
        out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    from chesseval.core.suites import rewrite_suite

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("extra", type=Path, help="puzzle CSV of another `chesseval puzzles build-suite` run (its manifest beside it)")
    ap.add_argument("--suite", type=Path, default=ROOT / "puzzles" / "default.csv")
    ap.add_argument("--min-estimate", type=int, default=2200)
    ap.add_argument("--drop", nargs=2, action="append", metavar=("ID", "WHY"), default=[],
                    help="remove an added puzzle that a later check failed, recording why (repeatable); nothing is added")
    args = ap.parse_args(argv)
    if args.drop:
        return drop(args.suite, dict(args.drop))
    extra_manifest = args.extra.with_suffix(".json")
    if not extra_manifest.is_file():
        ap.error(f"{str(extra_manifest)!r}: the extra build's manifest is missing (it holds the command that made it)")
    source = json.loads(extra_manifest.read_text())
    suite, extra = load_puzzles(args.suite), load_puzzles(args.extra)
    manifest = args.suite.with_suffix(".json")
    old = json.loads(manifest.read_text())
    dropped = frozenset((old.get("verification") or {}).get("dropped_ids") or ())
    added = select_extension(suite, extra, args.min_estimate, dropped)
    gen = source.get("generator") or {}
    record = {
        "command": f"python scripts/extend_suite.py {args.extra.name} --min-estimate {args.min_estimate}",
        "source_command": source.get("command"),
        "source_sha256": source.get("sha256"),
        "games": gen.get("games"),
        "seed": gen.get("seed"),
        "mined_histogram": gen.get("mined_histogram"),
        "min_estimate": args.min_estimate,
        "added": len(added),
        "added_ids": [p.id for p in added],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
    }
    desc = str(old.get("description", ""))
    desc = desc.replace(f"{len(suite)} puzzles", f"{len(suite) + len(added)} puzzles", 1)
    head, sep, tail = desc.partition(" Re-verified")
    head += (f" Extended by {len(added)} puzzles with a feature estimate of {args.min_estimate}+ from "
             f"{gen.get('games')} further games (seed {gen.get('seed')}); see extensions.")
    rewrite_suite(manifest, sorted([*suite, *added], key=lambda p: p.id), description=head + sep + tail,
                  extra={"extensions": [*(old.get("extensions") or []), record]})
    print(f"{args.suite}: added {len(added)} of {len(extra)} puzzles from {args.extra} "
          f"(estimate >= {args.min_estimate}, new positions); now {len(suite) + len(added)}")
    return 0


def drop(suite_path: Path, why: dict[str, str]) -> int:
    """Remove puzzles an extension added and a later check failed; the manifest keeps each id and
    its reason under ``extensions_removed``."""
    from chesseval.core.suites import rewrite_suite

    manifest = suite_path.with_suffix(".json")
    old = json.loads(manifest.read_text())
    added = {pid for ext in old.get("extensions") or [] for pid in ext.get("added_ids", [])}
    suite = load_puzzles(suite_path)
    unknown = sorted(set(why) - added)
    if unknown:
        raise SystemExit(f"error: {unknown[0]!r} was not added by an extension of {str(suite_path)!r}; not dropping")
    kept = [p for p in suite if p.id not in why]
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    removed = [*(old.get("extensions_removed") or []), *({"id": k, "why": v, "date": date} for k, v in sorted(why.items()))]
    desc = str(old.get("description", "")).replace(f"{len(suite)} puzzles", f"{len(kept)} puzzles", 1)
    rewrite_suite(manifest, kept, description=desc, extra={"extensions_removed": removed})
    print(f"{suite_path}: dropped {len(suite) - len(kept)}; now {len(kept)} (recalibrate: scripts/calibrate_suite.py --write)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
