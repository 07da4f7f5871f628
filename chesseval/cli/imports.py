"""``chesseval import FORMAT PATH``: foreign answer logs as ordinary run folders (a thin layer)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "cmd_import"]


def cmd_import(args: argparse.Namespace) -> int:
    from chesseval.importers import import_logs

    result = import_logs(args.format, args.path, out=args.out, suite_name=args.suite_name, suite_dir=args.suite_dir)
    print(result.summary())
    for run in result.runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.verdicts.items(), key=lambda kv: -kv[1]))
        print(f"  {run.path}  ({run.n}: {counts})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result.to_dict(), fh, indent=2, default=str)
            fh.write("\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from chesseval.importers import FORMATS

    p = sub.add_parser("import", help="import another benchmark's answer log as chesseval runs (re-parsed, re-judged)")
    p.add_argument("format", choices=FORMATS, help="jsonl (fen, raw_response, expected, model, source, meta) or inspect (Inspect AI .eval/.json log)")
    p.add_argument("path", help="the log file")
    p.add_argument("--out", default="runs", help="where the run folders go (default: %(default)s)")
    p.add_argument("--suite-name", help="name of the suite made from the log's puzzles (default: after each source)")
    p.add_argument("--suite-dir", help="where the suites go (default: OUT/suites)")
    p.add_argument("--json", metavar="FILE", help="also write the accounting (runs, counts by verdict and mode) as JSON")
    p.set_defaults(handler=cmd_import)
