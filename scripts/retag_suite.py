"""Re-derive the theme tags of a mined suite with the current tagger (chesseval.mining.themes).

A suite mined before a tag existed lacks it, and the theme screen of a report
(chesseval.core.theme_fit) can only test the themes a suite tags. This recomputes every puzzle's
board-derived tags from its FEN and moves, keeps the engine-judged goal tags it was mined with
(crushing / advantage / equality need the miner's cp, which the suite does not store), and prints
what would change. With ``--write`` it rewrites the suite (ratings, deviations, ids, FENs and
moves untouched) and records the retagging in the manifest under ``retagged``.

Only tags are added or removed here, so a suite's calibration (matched by puzzle id, FEN and
moves) and every run's verdicts stay valid; the suite's sha256 changes, so runs that must name
it (``runs/reference``) are made again with ``scripts/reference_runs.sh``.

    python scripts/retag_suite.py [--suite puzzles/default.csv] [--write]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.core.puzzles import Puzzle, load_puzzles  # noqa: E402
from chesseval.core.suites import resolve_suite, rewrite_suite  # noqa: E402
from chesseval.errors import ChessEvalError  # noqa: E402
from chesseval.mining.themes import derive_themes  # noqa: E402
from chesseval.version import __version__  # noqa: E402

GOAL_TAGS = frozenset({"crushing", "advantage", "equality"})
"""Tags the miner decides from the engine's cp: kept as mined."""


def retag(puzzle: Puzzle) -> Puzzle:
    """The puzzle with its board-derived tags recomputed and its goal tags kept."""
    themes = set(derive_themes(puzzle.fen, puzzle.moves)) | (set(puzzle.themes) & GOAL_TAGS)
    return dataclasses.replace(puzzle, themes=tuple(sorted(themes)))


def changes(old: list[Puzzle], new: list[Puzzle]) -> tuple[Counter[str], Counter[str]]:
    """Tags added and removed, counted over the puzzles."""
    added: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    for a, b in zip(old, new, strict=True):
        added.update(set(b.themes) - set(a.themes))
        removed.update(set(a.themes) - set(b.themes))
    return added, removed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "puzzles" / "default.csv")
    ap.add_argument("--write", action="store_true", help="rewrite the suite and record the retagging in its manifest")
    args = ap.parse_args(argv)
    try:  # an unknown suite or a broken row: one line naming it, before anything is written
        suite = resolve_suite(args.suite)
        old = load_puzzles(suite.path)
    except (ChessEvalError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from None
    if suite.manifest is None:
        raise SystemExit(f"error: {str(args.suite)!r} has no manifest to record the retagging in")
    new = [retag(p) for p in old]
    added, removed = changes(old, new)
    fmt = lambda c: ", ".join(f"{t} {n}" for t, n in sorted(c.items())) or "none"  # noqa: E731
    print(f"{suite.name}: {len(old)} puzzles; tags added: {fmt(added)}; removed: {fmt(removed)}")
    if not args.write or not (added or removed):
        return 0
    record = {
        "date": dt.date.today().isoformat(),
        "command": "python scripts/retag_suite.py --suite " + str(args.suite) + " --write",
        "tagger": f"chesseval {__version__} (chesseval.mining.themes)",
        "added": dict(sorted(added.items())),
        "removed": dict(sorted(removed.items())),
    }
    history = list(suite.extra.get("retagged") or [])
    written = rewrite_suite(suite.manifest, new, extra={"retagged": history + [record]})
    print(f"wrote {written.path} (sha256 {written.sha256[:12]}…) and {written.manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
