"""Subcommands for the puzzle database and suites.

``chesseval puzzles download`` fetches the Lichess puzzle database into the cache;
``chesseval suite build`` cuts a stratified suite from it; ``chesseval suite list|show`` lists
suites and prints a manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chesseval.cli.common import command_group
from chesseval.errors import ConfigError

__all__ = ["register"]


def _opt_int(text: str) -> int | None:
    """An integer, or ``none`` to switch a filter off."""
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'none', got {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from chesseval.lichessdb.download import DEFAULT_URL

    puzzles = command_group(sub, "puzzles", "get and inspect puzzle files")
    dl = puzzles.add_parser("download", help="download the Lichess puzzle database (resumable)")
    dl.add_argument("--url", default=DEFAULT_URL, help="where to download from (default: %(default)s)")
    dl.add_argument("--out", metavar="PATH", help="destination file (default: the cache dir, $CHESSEVAL_CACHE_DIR or ~/.cache/chesseval)")
    dl.add_argument("--sha256", metavar="HEX", help="expected sha256 of the file; a mismatch is an error")
    dl.add_argument("--retries", type=int, default=5, help="retries after a dropped connection or 5xx (default: %(default)s)")
    dl.add_argument("--force", action="store_true", help="download again even if the file exists")
    dl.add_argument("--no-progress", action="store_true", help="no progress bar")
    dl.set_defaults(handler=_download)

    suite = command_group(sub, "suite", "build, list and show puzzle suites")
    b = suite.add_parser("build", help="cut a stratified suite from the Lichess puzzle database")
    b.add_argument("source", nargs="?", help="lichess_db_puzzle.csv.zst or .csv (default: the downloaded database)")
    b.add_argument("--name", required=True, help="suite name: writes NAME.csv and NAME.json")
    b.add_argument("--out-dir", default="puzzles", help="where to write the suite (default: %(default)s)")
    b.add_argument("--seed", default="0", help="selection seed (any string; default: %(default)s)")
    b.add_argument("--per-band", type=int, default=50, help="puzzles per rating band (default: %(default)s)")
    b.add_argument("--band-width", type=int, default=200, help="rating band width (default: %(default)s)")
    b.add_argument("--min-rating", type=int, help="lowest puzzle rating (inclusive)")
    b.add_argument("--max-rating", type=int, help="highest puzzle rating (inclusive)")
    b.add_argument("--min-plays", type=_opt_int, default=100, help="minimum NbPlays, or 'none' (default: %(default)s)")
    b.add_argument("--max-rd", type=_opt_int, default=90, help="maximum RatingDeviation, or 'none' (default: %(default)s)")
    b.add_argument("--min-popularity", type=_opt_int, default=0, help="minimum Popularity, or 'none' (default: %(default)s)")
    b.add_argument("--theme", action="append", default=[], help="required theme (repeat: all are required)")
    b.add_argument("--exclude-theme", action="append", default=[], help="excluded theme (repeatable)")
    b.add_argument("--min-moves", type=int, help="minimum number of solver moves")
    b.add_argument("--max-moves", type=int, help="maximum number of solver moves")
    b.add_argument("--opening", action="append", default=[], help="opening tag (repeat: any of them)")
    b.add_argument("--suite-version", default="1", help="version string recorded in the manifest (default: %(default)s)")
    b.add_argument("--description", help="description recorded in the manifest")
    b.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default: %(default)s)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(handler=_build)

    ls = suite.add_parser("list", help="list suites (./puzzles, $CHESSEVAL_SUITES_DIR, the project's puzzles/)")
    ls.set_defaults(handler=_list)
    show = suite.add_parser("show", help="print a suite's manifest")
    show.add_argument("suite", help="suite name, manifest or puzzle file")
    show.set_defaults(handler=_show)


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A rich progress bar on stderr, only when stderr is a terminal.

    Refreshed from the caller's thread (no rich refresh thread), because the suite build forks
    worker processes and forking a multi-threaded process is unsafe.
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    import time

    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), transient=True, auto_refresh=False) as bar:
        task = bar.add_task(label, total=None)
        last = 0.0

        def update(done: int, total: int | None) -> None:
            nonlocal last
            bar.update(task, completed=done, total=total)
            now = time.monotonic()
            if now - last > 0.1 or (total is not None and done >= total):
                last = now
                bar.refresh()

        yield update


def _download(args: argparse.Namespace) -> int:
    from chesseval.lichessdb.download import download

    with _progress(not args.no_progress, "downloading") as update:
        result = download(args.url, args.out, sha256=args.sha256, retries=args.retries, force=args.force, on_progress=update)
    state = "already present" if result.cached else ("resumed and completed" if result.resumed_from else "downloaded")
    print(f"{result.path}: {state}, {result.size} bytes, sha256 {result.sha256}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from chesseval.lichessdb.download import DEFAULT_URL, default_destination
    from chesseval.lichessdb.build import BuildSpec, build_suite

    source = args.source or str(default_destination(DEFAULT_URL))
    spec = BuildSpec(
        source=source,
        name=args.name,
        per_band=args.per_band,
        seed=args.seed,
        band_width=args.band_width,
        min_rating=args.min_rating,
        max_rating=args.max_rating,
        min_plays=args.min_plays,
        max_rating_deviation=args.max_rd,
        min_popularity=args.min_popularity,
        themes=tuple(args.theme),
        exclude_themes=tuple(args.exclude_theme),
        min_moves=args.min_moves,
        max_moves=args.max_moves,
        openings=tuple(args.opening),
    )
    if args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs!r}")
    with _progress(not args.no_progress, "reading") as update:
        result = build_suite(spec, args.out_dir, version=args.suite_version, description=args.description, jobs=args.jobs, on_progress=update)
    sel = result.selection
    print(f"{result.suite.path}: {len(sel.puzzles)} puzzles from {sel.rows} rows (sha256 {result.suite.sha256[:12]}…)")
    for band in sel.bands:
        mark = "" if band.enough else f"  SHORT: only {band.selected} of {spec.per_band}"
        print(f"  {band.label:>11}  {band.selected:>5} selected of {band.available:>8} available{mark}")
    if sel.bad_rows:
        print(f"  {sel.bad_rows} malformed row(s) skipped, e.g. {sel.bad_examples[0]}", file=sys.stderr)
    rejected = sum(b.rejected for b in sel.bands)
    if rejected:
        print(f"  {rejected} invalid puzzle(s) passed over, e.g. {sel.rejected_examples[0]}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from chesseval.core.suites import list_suites

    suites = list_suites()
    if not suites:
        print("no suites found (looked in ./puzzles, $CHESSEVAL_SUITES_DIR and the project's puzzles/)")
        return 0
    for s in suites:
        print(f"{s.name:<28} {s.count if s.count is not None else '?':>6} puzzles  v{s.version or '?':<6} {s.sha256[:12]}  {s.path}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from chesseval.core.suites import resolve_suite

    suite = resolve_suite(args.suite)
    data: dict[str, Any]
    if suite.manifest is not None:
        data = json.loads(suite.manifest.read_text(encoding="utf-8"))
    else:
        data = {"name": suite.name, "puzzle_file": str(suite.path), "sha256": suite.sha256, "manifest": None}
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0
