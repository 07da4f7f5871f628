"""The CLI is a thin layer: groups registered once with one help text, shared options spelled
the same everywhere, and the commands' work done by public functions."""

from __future__ import annotations

import argparse

from chesseval.cli import build_parser
from chesseval.cli.common import GROUPS


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _help_of(parser: argparse.ArgumentParser, name: str) -> str:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(c.help for c in action._choices_actions if c.dest == name)


def test_each_group_is_registered_once_with_its_one_help_text() -> None:
    parser = build_parser()
    commands = _subcommands(parser)
    for name, text in GROUPS.items():
        assert _help_of(parser, name) == text
    # puzzles gathers the download (lichessdb) and the making of puzzles (mining) in one group
    assert {"download", "starter", "mine", "selfplay", "merge", "build-suite"} <= set(_subcommands(commands["puzzles"]))


def test_shared_options_have_one_name() -> None:
    commands = _subcommands(build_parser())
    for name in ("run", "report", "rescore", "breakdown"):
        options = {o for a in commands[name]._actions for o in a.option_strings}
        assert "--band-width" in options and "--bucket-width" not in options, name
    for name in ("run", "list"):
        assert any("--runs-dir" in a.option_strings for a in commands[name]._actions), name
    run_options = {o for a in commands["run"]._actions for o in a.option_strings}
    assert {"--no-progress", "--quiet"} <= run_options  # --quiet kept as the old spelling
    report = {o for a in commands["report"]._actions for o in a.option_strings}
    assert {"--html", "--gallery", "--failures"} <= report  # defined by report itself, not patched in
