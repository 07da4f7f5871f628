"""Run folders: ``run.json`` (header), ``records.jsonl`` (one line per puzzle), ``results.json``.

``records.jsonl`` is append-only. Each record is written as one line and flushed as soon as its
puzzle finishes, so a ``kill -9`` loses at most the puzzles in flight; a half-written last line is
cut off when the run is opened again. Records carry ``schema`` so readers can tell formats apart.

Layout::

    runs/<UTC time>_<suite>_<model slug>_<short id>/
        run.json        status, full config (no secrets), versions, suite hash, template id
        records.jsonl   one JSON object per finished puzzle
        results.json    aggregates (see chesseval.core.results.summarize)
        run.lock        the OS lock a running process holds (its PID inside, for the message only)

This module is the run folder's only reader and writer: every other module goes through
:class:`RunDir` (or :func:`load_run` / :func:`read_records`), and a record is a typed
:class:`RunRecord` (with its :class:`TurnRecord` list) rather than a bare dict.

One process at a time: a run holds an exclusive ``flock`` on ``run.lock`` for its whole life, so a
second copy of the same command stops at once instead of asking (and paying for) the same puzzles
again. The OS drops the lock when its holder dies, so a folder left by ``kill -9`` resumes freely.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chesseval.core.run_record import RECORD_SCHEMA, RunRecord, TurnRecord, as_record
from chesseval.errors import RunError, RunLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: runs are not locked there
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RECORD_SCHEMA",
    "RUN_SCHEMA",
    "HEADER_FILE",
    "RECORDS_FILE",
    "RESULTS_FILE",
    "RunStatus",
    "RunRecord",
    "TurnRecord",
    "as_record",
    "RunDir",
    "RunData",
    "open_run",
    "load_run",
    "utc_now",
    "slug",
    "find_run",
    "read_records",
    "read_run",
    "list_runs",
    "runs_dir_lock",
    "LOCK_FILE",
]

LOCK_FILE = "run.lock"
RUN_SCHEMA = 1
HEADER_FILE = "run.json"
RECORDS_FILE = "records.jsonl"
RESULTS_FILE = "results.json"


class RunStatus:
    STARTED = "started"
    SUCCESS = "success"
    CANCELLED = "cancelled"
    ERROR = "error"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        self._lock_fd: int | None = None

    @property
    def header_path(self) -> Path:
        return self.path / HEADER_FILE

    @property
    def records_path(self) -> Path:
        return self.path / RECORDS_FILE

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS_FILE

    @classmethod
    def create(cls, runs_dir: str | os.PathLike[str], *, suite: str, model: str, header: dict[str, Any]) -> RunDir:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
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
        try:
            data = json.loads(self.results_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RunError(f"{self.results_path}: unreadable results ({exc})") from exc
        return data if isinstance(data, dict) else None

    # -- the lock --------------------------------------------------------------------------------

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_FILE

    def lock(self) -> None:
        """Hold this folder's lock until :meth:`unlock` (or until the process dies).

        Raises :class:`RunLockedError` naming the holder's PID when another live process holds it.
        A folder that cannot be written (read-only) is not locked: nothing will be written to it.
        """
        if self._lock_fd is not None:
            return
        fd = _try_flock(self.lock_path)
        if fd is None:
            pid = _read_pid(self.lock_path)
            holder = f"process {pid}" if pid else "another process"
            raise RunLockedError(
                f"run folder {str(self.path)!r} is in use by {holder}; wait for it to finish or stop it, then run the same command again",
                pid=pid,
            )
        if fd >= 0:
            # Informational only: the flock itself says whether the holder is alive.
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

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
        # Read-only until there is something to cut: a read-only run folder with whole records stays usable.
        with open(path, "rb") as fh:
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
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

    def records(self) -> list[RunRecord]:
        return list(read_records(self.records_path))

    def append(self, record: RunRecord | Mapping[str, Any]) -> None:
        """Append one record as one line and flush it to the OS (survives a killed process)."""
        if self._fh is None:
            self._fh = open(self.records_path, "a", encoding="utf-8")
        self._fh.write(as_record(record).to_line() + "\n")
        self._fh.flush()

    def rewrite_records(self, records: Iterable[RunRecord | Mapping[str, Any]]) -> None:
        """Replace ``records.jsonl`` with ``records`` in one atomic rename (``--retry-errors`` drops records)."""
        self.close()
        tmp = self.records_path.with_name(self.records_path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for r in records:
                fh.write(as_record(r).to_line() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.records_path)

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


def _try_flock(path: Path, *, blocking: bool = False) -> int | None:
    """An open descriptor holding an exclusive flock on ``path``; None when another process holds
    it; -1 when locking is impossible here (no fcntl, or the folder cannot be written)."""
    if fcntl is None:
        return -1
    try:
        fd = os.open(path, os.O_RDONLY) if path.is_dir() else os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:
        os.close(fd)
        return -1
    return fd


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def runs_dir_lock(runs_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Serialise finding-or-creating a run among processes sharing ``runs_dir`` (held briefly).

    Two copies of one command started at the same instant would otherwise both find no run and
    create two folders, asking every puzzle twice; under this lock the second finds the first's
    (locked) folder and stops.
    """
    base = Path(runs_dir)
    with contextlib.suppress(OSError):
        base.mkdir(parents=True, exist_ok=True)
    fd = _try_flock(base, blocking=True)  # the folder itself: no lock file among the runs
    try:
        yield
    finally:
        if fd is not None and fd >= 0:
            os.close(fd)


def read_records(path: str | os.PathLike[str]) -> Iterator[RunRecord]:
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
                yield RunRecord.from_json(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RunError(f"{p}:{line_no}: corrupt record ({exc.msg})") from exc
            except (ValueError, TypeError) as exc:
                raise RunError(f"{p}:{line_no}: bad record ({exc})") from exc


def find_run(runs_dir: str | os.PathLike[str], config_hash: str) -> RunDir | None:
    """The newest run in ``runs_dir`` made with the same configuration, to resume into."""
    for run in reversed(list_runs(runs_dir)):
        try:
            header = run.read_header()
        except RunError:
            continue
        if header.get("config_hash") == config_hash:
            return run
    return None


def list_runs(runs_dir: str | os.PathLike[str]) -> list[RunDir]:
    base = Path(runs_dir)
    if not base.is_dir():
        return []
    return [RunDir(p) for p in sorted(base.iterdir()) if (p / HEADER_FILE).is_file()]


def open_run(path: str | os.PathLike[str]) -> RunDir:
    """The run folder at ``path`` (or the folder of its ``run.json``/``records.jsonl``/``results.json``)."""
    p = Path(path)
    if p.is_file() and p.name in (HEADER_FILE, RECORDS_FILE, RESULTS_FILE):
        p = p.parent
    if not (p / HEADER_FILE).is_file():
        raise RunError(f"{str(path)!r} is not a run folder (no {HEADER_FILE})")
    return RunDir(p)


@dataclasses.dataclass(frozen=True)
class RunData:
    """A run folder read into memory: the header (``run.json``) and the records."""

    path: Path
    header: dict[str, Any]
    records: list[RunRecord]

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.header.get("meta") or {})

    @property
    def run_id(self) -> str:
        return str(self.header.get("run_id") or self.path.name)

    @property
    def label(self) -> str:
        """``--meta label=...`` if given, else the model name."""
        return str(self.meta.get("label") or self.header.get("model") or self.path.name)

    @property
    def band_width(self) -> int:
        return int(self.header.get("band_width") or 200)


def load_run(path: str | os.PathLike[str]) -> RunData:
    """Read a run folder (or its ``run.json``/``records.jsonl``) into memory."""
    run = open_run(path)
    return RunData(run.path, run.read_header(), run.records())


def read_run(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A run's records as a pandas DataFrame, one row per puzzle.

    Columns include puzzle_id, rating, verdict, first_move_correct, solver_moves_found,
    n_solver_moves, latency_s, input/output/reasoning tokens, cost_usd, plus the run's model,
    suite and format. The full per-turn detail stays in the ``turns`` column.
    """
    import pandas as pd  # heavy: imported only when a DataFrame is asked for

    run = open_run(path)
    header = run.read_header()
    rows = []
    for rec in run.records():
        usage = rec.usage
        rows.append(
            {
                **{k: v for k, v in rec.to_json().items() if k not in ("usage",)},
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
