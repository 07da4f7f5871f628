"""Reading a run folder's JSON-lines files for the engine stage: ``records.jsonl`` by puzzle and
``engine.jsonl`` (written by :mod:`chesseval.engine.check`, summarised by
:mod:`chesseval.engine.report`). Kept apart from both so that they do not import each other.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chesseval.errors import RunError

__all__ = ["ENGINE_FILE", "read_jsonl", "read_records", "read_engine_lines"]

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


def read_records(run_dir: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The run's records by puzzle id (the last line wins, as a resumed run may repeat one)."""
    path = Path(run_dir) / "records.jsonl"
    if not path.exists():
        raise RunError(f"{str(path)!r} does not exist: not a run folder")
    return {str(rec["puzzle_id"]): rec for rec in read_jsonl(path) if "puzzle_id" in rec}


def read_engine_lines(run_dir: str | os.PathLike[str], limit: str | None = None) -> list[dict[str, Any]]:
    """The lines of ``engine.jsonl``, optionally only those of one limit (label or key)."""
    lines = read_jsonl(Path(run_dir) / ENGINE_FILE)
    if limit is None:
        return lines
    return [ln for ln in lines if limit in (ln.get("limit"), ln.get("limit_key"))]
