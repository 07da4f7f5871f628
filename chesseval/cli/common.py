"""What the command modules of :mod:`chesseval.cli` share (kept apart from the entry point, which
imports every command module, so that they never import it back): the command groups, each
registered once with one help text, and the options several commands take, defined once."""

from __future__ import annotations

import argparse

__all__ = [
    "GROUPS",
    "command_group",
    "add_runs_dir",
    "add_band_width",
    "add_prompt_format",
    "add_report_format",
    "add_no_progress",
]

GROUPS: dict[str, str] = {
    "puzzles": "puzzle files: download, make (starter, mine, self-play, merge, build-suite)",
    "suite": "build, list and show puzzle suites",
    "engine": "Stockfish: check the installation",
    "cache": "inspect or clear the response cache",
}
"""Every command group and its one help text; command modules add their subcommands to them."""


def command_group(sub: argparse._SubParsersAction, name: str) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """The subcommands of group ``name`` (one of :data:`GROUPS`), created once and shared by modules.

    Several areas add commands to one group (``puzzles download`` and ``puzzles mine``), so a
    module asks for the group instead of creating it. The group is kept on ``sub`` itself: a
    module-level cache keyed by ``id(sub)`` handed a new parser the filled group of a collected
    one whenever CPython reused the id.
    """
    groups: dict[str, argparse._SubParsersAction] = sub.__dict__.setdefault("_chesseval_groups", {})  # type: ignore[type-arg]
    if name not in groups:
        parser = sub.add_parser(name, help=GROUPS[name])
        groups[name] = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
        parser.set_defaults(handler=lambda args, p=parser: (p.print_help(), 2)[1])
    return groups[name]


def add_runs_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs-dir", default="runs", help="where run folders are (default: %(default)s)")


def add_band_width(p: argparse.ArgumentParser, default: int | None = 200) -> None:
    what = "the run's own" if default is None else str(default)
    p.add_argument("--band-width", type=int, default=default, metavar="W", help=f"rating band width (default: {what})")


def add_prompt_format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="fen", choices=["fen", "pgn", "board"], help="how the position is shown (default: %(default)s)")


def add_report_format(p: argparse.ArgumentParser) -> None:
    from chesseval.analysis.report import REPORT_FORMATS

    p.add_argument("--format", default="table", choices=REPORT_FORMATS, help="output format (default: %(default)s)")


def add_no_progress(p: argparse.ArgumentParser, *aliases: str) -> None:
    p.add_argument("--no-progress", *aliases, dest="no_progress", action="store_true", help="no progress display")
