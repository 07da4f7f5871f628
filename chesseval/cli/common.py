"""What the command modules of :mod:`chesseval.cli` share (kept apart from the entry point, which
imports every command module, so that they never import it back)."""

from __future__ import annotations

import argparse

__all__ = ["command_group"]


def command_group(sub: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """The subcommands of group ``name`` (e.g. ``puzzles``), created once and shared by modules.

    Several areas add commands to one group (``puzzles download`` and ``puzzles mine``), so a
    module asks for the group instead of creating it. The group is kept on ``sub`` itself: a
    module-level cache keyed by ``id(sub)`` handed a new parser the filled group of a collected
    one whenever CPython reused the id.
    """
    groups: dict[str, argparse._SubParsersAction] = sub.__dict__.setdefault("_chesseval_groups", {})  # type: ignore[type-arg]
    if name not in groups:
        parser = sub.add_parser(name, help=help)
        groups[name] = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
        parser.set_defaults(handler=lambda args, p=parser: (p.print_help(), 2)[1])
    return groups[name]
