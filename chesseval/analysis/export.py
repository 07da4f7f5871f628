"""A run's records as one flat table (CSV or Parquet), one row per puzzle, for spreadsheets and
notebooks: the run's model, suite and format on every row, usage spread into columns, nested
values as JSON text and the last turn's answer and moves; the full turns stay in ``records.jsonl``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chesseval.core.records import RunRecord, load_run
from chesseval.errors import ConfigError

__all__ = ["export_records", "EXPORT_FORMATS"]

EXPORT_FORMATS = ("csv", "parquet")

_FLAT_DROP = ("turns",)


def _flatten(header: dict[str, Any], record: RunRecord) -> dict[str, Any]:
    rec = record.to_json()
    row: dict[str, Any] = {"run_id": header.get("run_id"), "model": header.get("model"),
                           "suite": (header.get("suite") or {}).get("name"), "format": header.get("format")}  # fmt: skip
    for k, v in rec.items():
        if k in _FLAT_DROP:
            continue
        if k == "usage" and isinstance(v, dict):
            row.update({f"{uk}": uv for uk, uv in v.items()})
        elif k == "themes" and isinstance(v, list):
            row[k] = " ".join(str(t) for t in v)
        elif isinstance(v, (dict, list)):
            row[k] = json.dumps(v, ensure_ascii=False)
        else:
            row[k] = v
    turns = rec.get("turns") or []
    row["n_turns"] = len(turns)
    if turns:
        last = turns[-1]
        row["failed_turn"] = last.get("index") if rec.get("verdict") != "correct" else None
        row["last_answer"] = last.get("answer")
        row["last_played_uci"] = last.get("played_uci")
        row["last_expected_uci"] = last.get("expected_uci")
    return row


def export_records(run_path: str | os.PathLike[str], fmt: str = "csv", out: str | os.PathLike[str] | None = None) -> Path:
    """Write a run's records as one flat table (CSV or Parquet) and return the file written
    (default ``RUN/records.csv`` or ``RUN/records.parquet``); the full turns stay in records.jsonl.

    Rows are sorted by puzzle id: records.jsonl is in the order puzzles finished, which
    concurrency shuffles, and two exports of the same run should be the same file."""
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {EXPORT_FORMATS}")
    run = load_run(run_path)
    rows = [_flatten(run.header, r) for r in sorted(run.records, key=lambda r: r.puzzle_id)]
    target = Path(out) if out else run.path / f"records.{fmt}"
    if fmt == "csv":
        import csv

        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        with open(target, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return target
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401  (pandas needs it for Parquet)
        except ImportError as exc:
            raise ConfigError("Parquet export needs pyarrow, an optional dependency: pip install 'chesseval[parquet]'") from exc
        import pandas as pd

        pd.DataFrame(rows).to_parquet(target, index=False)
        return target
    raise ConfigError(f"unknown export format {fmt!r}; choose csv or parquet")
