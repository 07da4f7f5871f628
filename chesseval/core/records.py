"""Run folders: ``run.json`` (header), ``records.jsonl`` (one line per puzzle), ``results.json``.

``records.jsonl`` is append-only. Each record is written as one line and flushed as soon as its
puzzle finishes, so a ``kill -9`` loses at most the puzzles in flight; a half-written last line is
cut off when the run is opened again. Records carry ``schema`` so readers can tell formats apart.

Layout::

    runs/<UTC time>_<suite>_<model slug>_<short id>/
        run.json        status, full config (no secrets), versions, suite hash, template id
        records.jsonl   one JSON object per finished puzzle
        results.json    aggregates (see chesseval.analysis.report.summarize)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chesseval.errors import RunError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RECORD_SCHEMA",
    "RUN_SCHEMA",
    "RunStatus",
    "RunDir",
    "utc_now",
    "slug",
    "find_run",
    "read_records",
    "read_run",
    "list_runs",
]

RECORD_SCHEMA = 1
RUN_SCHEMA = 1


class RunStatus:
    STARTED = "started"
    SUCCESS = "success"
    CANCELLED = "cancelled"
    ERROR = "error"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def slug(text: str) -> str:
    """A file-name-safe form of a model or suite name: ``openai/gpt-4o`` -> ``openai-gpt-4o``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "x"


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class RunDir:
    """One run's folder. Use :meth:`create` or :meth:`open`; append with :meth:`append`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh: IO[str] | None = None

    @property
    def header_path(self) -> Path:
        return self.path / "run.json"

    @property
    def records_path(self) -> Path:
        return self.path / "records.jsonl"

    @property
    def results_path(self) -> Path:
        return self.path / "results.json"

    @classmethod
    def create(cls, runs_dir: str | os.PathLike[str], *, suite: str, model: str, header: dict[str, Any]) -> RunDir:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
        run_id = secrets.token_hex(3)
        path = Path(runs_dir) / f"{stamp}_{slug(suite)}_{slug(model)}_{run_id}"
        try:
            path.mkdir(parents=True, exist_ok=False)
        except OSError as exc:
            raise RunError(f"cannot create run folder {str(path)!r}: {exc}") from exc
        run = cls(path)
        run.write_header({"schema": RUN_SCHEMA, "run_id": run_id, **header})
        run.records_path.touch()
        return run

    def read_header(self) -> dict[str, Any]:
        try:
            data = json.loads(self.header_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RunError(f"{self.header_path}: unreadable run header ({exc})") from exc
        if not isinstance(data, dict):
            raise RunError(f"{self.header_path}: run header is not a JSON object")
        return data

    def write_header(self, header: dict[str, Any]) -> None:
        _write_json_atomic(self.header_path, header)

    def update_header(self, **changes: Any) -> dict[str, Any]:
        header = self.read_header()
        header.update(changes)
        self.write_header(header)
        return header

    def write_results(self, results: dict[str, Any]) -> None:
        _write_json_atomic(self.results_path, results)

    def read_results(self) -> dict[str, Any] | None:
        if not self.results_path.exists():
            return None
        data: dict[str, Any] = json.loads(self.results_path.read_text(encoding="utf-8"))
        return data

    # -- records ---------------------------------------------------------------------------------

    def repair(self) -> int:
        """Cut a half-written last line (left by a kill); returns the number of bytes removed."""
        path = self.records_path
        if not path.exists():
            path.touch()
            return 0
        size = path.stat().st_size
        if size == 0:
            return 0
        with open(path, "rb+") as fh:
            # Scan back for the last newline; everything after it is an unfinished record.
            pos = size
            block = 4096
            while pos > 0:
                start = max(0, pos - block)
                fh.seek(start)
                chunk = fh.read(pos - start)
                idx = chunk.rfind(b"\n")
                if idx >= 0:
                    keep = start + idx + 1
                    break
                pos = start
            else:
                keep = 0
            if keep < size:
                fh.truncate(keep)
            return size - keep

    def records(self) -> list[dict[str, Any]]:
        return list(read_records(self.records_path))

    def append(self, record: dict[str, Any]) -> None:
        """Append one record as one line and flush it to the OS (survives a killed process)."""
        if self._fh is None:
            self._fh = open(self.records_path, "a", encoding="utf-8")
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        self._fh.write(line + "\n")
        self._fh.flush()

    def sync(self) -> None:
        """fsync the records (power-loss safety; a killed process loses nothing already flushed)."""
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self.sync()
            self._fh.close()
            self._fh = None


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records of a ``records.jsonl``; a half-written last line is skipped, not an error."""
    p = Path(path)
    if not p.exists():
        return
    with open(p, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.endswith("\n"):
                return  # unfinished last line of a killed run
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RunError(f"{p}:{line_no}: corrupt record ({exc.msg})") from exc
            yield record


def find_run(runs_dir: str | os.PathLike[str], config_hash: str) -> RunDir | None:
    """The newest run in ``runs_dir`` made with the same configuration, to resume into."""
    base = Path(runs_dir)
    if not base.is_dir():
        return None
    for path in sorted(base.iterdir(), reverse=True):
        header = path / "run.json"
        if not header.is_file():
            continue
        try:
            data = json.loads(header.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("config_hash") == config_hash:
            return RunDir(path)
    return None


def list_runs(runs_dir: str | os.PathLike[str]) -> list[RunDir]:
    base = Path(runs_dir)
    if not base.is_dir():
        return []
    return [RunDir(p) for p in sorted(base.iterdir()) if (p / "run.json").is_file()]


def _resolve_run(path: str | os.PathLike[str]) -> RunDir:
    p = Path(path)
    if p.is_file() and p.name in ("run.json", "records.jsonl", "results.json"):
        p = p.parent
    if not (p / "run.json").is_file():
        raise RunError(f"{str(p)!r} is not a run folder (no run.json)")
    return RunDir(p)


def read_run(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A run's records as a pandas DataFrame, one row per puzzle.

    Columns include puzzle_id, rating, verdict, first_move_correct, solver_moves_found,
    n_solver_moves, latency_s, input/output/reasoning tokens, cost_usd, plus the run's model,
    suite and format. The full per-turn detail stays in the ``turns`` column.
    """
    import pandas as pd  # heavy: imported only when a DataFrame is asked for

    run = _resolve_run(path)
    header = run.read_header()
    rows = []
    for rec in run.records():
        usage = rec.get("usage") or {}
        rows.append(
            {
                **{k: v for k, v in rec.items() if k not in ("usage",)},
                "input_tokens": usage.get("input_tokens"),
                "output_tokens": usage.get("output_tokens"),
                "reasoning_tokens": usage.get("reasoning_tokens"),
                "model": header.get("model"),
                "suite": (header.get("suite") or {}).get("name"),
                "format": header.get("format"),
                "run_id": header.get("run_id"),
            }
        )
    df = pd.DataFrame(rows)
    if "puzzle_id" in df:
        df["puzzle_id"] = df["puzzle_id"].astype(str)
    return df
