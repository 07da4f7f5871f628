"""Reading a run folder for the engine stage: its records by puzzle (through
:mod:`chesseval.core.records`, the run folder's owner) and ``engine.jsonl`` (written by :mod:`chesseval.engine.check`, summarised by
:mod:`chesseval.engine.report`). Kept apart from both so that they do not import each other.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chesseval.core.records import RunDir, RunRecord
from chesseval.errors import RunError

__all__ = ["ENGINE_FILE", "read_jsonl", "records_by_puzzle", "read_engine_lines"]

ENGINE_FILE = "engine.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every whole JSON object line of ``path``; a torn or garbled line is skipped."""
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break  # the tail of a killed writer
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def records_by_puzzle(run_dir: str | os.PathLike[str]) -> dict[str, RunRecord]:
    """The run's records by puzzle id (the last line wins, as a resumed run may repeat one)."""
    run = RunDir(run_dir)
    if not run.records_path.exists():
        raise RunError(f"{str(run.records_path)!r} does not exist: not a run folder")
    return {rec.puzzle_id: rec for rec in run.records()}


def read_engine_lines(run_dir: str | os.PathLike[str], limit: str | None = None) -> list[dict[str, Any]]:
    """The lines of ``engine.jsonl``, optionally only those of one limit (label or key)."""
    lines = read_jsonl(Path(run_dir) / ENGINE_FILE)
    if limit is None:
        return lines
    return [ln for ln in lines if limit in (ln.get("limit"), ln.get("limit_key"))]
