"""The ``chesseval`` command: a thin layer over the Python API.

Each area of the tool registers its subcommands from its own module ``chesseval/cli/<group>.py``
(listed in :data:`COMMAND_MODULES`), which exposes ``register(subparsers)``; a subcommand's handler takes the
parsed arguments and returns the exit code. Modules are imported only when the CLI starts.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from chesseval.cli.common import command_group
from chesseval.errors import ChessEvalError
from chesseval.version import __version__

__all__ = ["main", "COMMAND_MODULES", "command_group"]

COMMAND_MODULES: list[str] = [
    "chesseval.cli.core",
    "chesseval.cli.cache",
    "chesseval.cli.engine",
    "chesseval.cli.suites",
    "chesseval.cli.analysis",
    "chesseval.cli.mining",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chesseval", description="Evaluate look-ahead reasoning of language models with chess puzzles.")
    parser.add_argument("--version", action="version", version=f"chesseval {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except ChessEvalError as exc:
        print(f"chesseval: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chesseval: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`chesseval report RUN | head`): stop quietly, as Unix tools do.
        # stdout is pointed at /dev/null so that the flush at exit does not fail a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
