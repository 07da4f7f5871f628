"""Run folders: ``run.json`` (header), ``records.jsonl`` (one line per puzzle), ``results.json``.

``records.jsonl`` is append-only. Each record is written as one line and flushed as soon as its
puzzle finishes, so a ``kill -9`` loses at most the puzzles in flight; a half-written last line is
cut off when the run is opened again. Records carry ``schema`` so readers can tell formats apart.

Layout::

    runs/<UTC time>_<suite>_<model slug>_<short id>/
        run.json        status, full config (no secrets), versions, suite hash, template id
        records.jsonl   one JSON object per finished puzzle
        results.json    aggregates (see chesseval.core.results.summarize)

This module is the run folder's only reader and writer: every other module goes through
:class:`RunDir` (or :func:`load_run` / :func:`read_records`), and a record is a typed
:class:`RunRecord` (with its :class:`TurnRecord` list) rather than a bare dict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chesseval.errors import RunError

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
]

RECORD_SCHEMA = 1
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


# -- the typed record ----------------------------------------------------------------------------

class _JsonView(Mapping[str, Any]):
    """Read-only ``record["key"]`` / ``record.get("key")`` over a typed record's JSON form.

    Typed attributes are the way to read a record; this view keeps code written against the
    plain dicts of ``records.jsonl`` (scripts, notebooks, branches in flight) working unchanged,
    and lets :func:`dict` / ``{**record}`` give the JSON object back.
    """

    __slots__ = ()
    _KNOWN: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        if key in self._KNOWN and key not in self.absent:  # type: ignore[attr-defined]
            value = getattr(self, key)
            return list(value) if isinstance(value, tuple) else value  # JSON arrays read as lists
        other: dict[str, Any] = self.other  # type: ignore[attr-defined]
        return other[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())


def _split(data: Mapping[str, Any], known: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    mine: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for k, v in data.items():
        (mine if k in known else other)[k] = v
    return mine, other


@functools.cache
def _default(cls: type, name: str) -> Any:
    f = cls.__dataclass_fields__[name]  # type: ignore[attr-defined]
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def _absent(present: Iterable[str], known: frozenset[str]) -> frozenset[str]:
    """The known keys the JSON left out: written back as absent (not null), so a round trip keeps the shape."""
    return known.difference(present)


@dataclasses.dataclass(frozen=True, eq=False)
class TurnRecord(_JsonView):
    """One solver move of a puzzle attempt: what was asked, answered, parsed and judged."""

    index: int
    outcome: str | None = None
    """A :class:`~chesseval.core.judge.Verdict` value, or ``"continue"`` after a correct non-final move."""
    prompt_sha256: str | None = None
    messages: tuple[dict[str, Any], ...] = ()
    """The messages added at this turn (the whole conversation is the concatenation over turns)."""
    expected_uci: str | None = None
    answer: str | None = None
    stop_reason: str | None = None
    refusal: str | None = None
    parse_kind: str | None = None
    parsed_text: str | None = None
    parse_detail: str | None = None
    played_uci: str | None = None
    played_san: str | None = None
    latency_s: float | None = None
    usage: dict[str, Any] | None = None
    retries: int | None = None
    cost_usd: float | None = None
    cached: bool | None = None
    error: str | None = None
    extra: dict[str, Any] | None = None
    """What the player reported beyond the reply (engine nodes, provider ids, retry waits)."""
    other: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    """Keys this version does not know, kept as read so that a rewrite does not drop them."""
    absent: frozenset[str] = dataclasses.field(default=frozenset(), compare=False, repr=False)
    """Known keys the JSON left out (a failed turn has no answer); they stay out when written back."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TurnRecord:
        known, other = _split(data, _TURN_FIELDS)
        if "messages" in known:
            known["messages"] = tuple(known["messages"] or ())
        if "index" not in known:
            known["index"] = 0
        return cls(**known, other=other, absent=_absent(data.keys(), _TURN_FIELDS))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _TURN_ORDER:
            value = getattr(self, name)
            if name in self.absent and value == _default(TurnRecord, name):
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        out.update(self.other)
        return out


# The order keys have on disk (the order play_puzzle has always written them in).
_TURN_ORDER = ("index", "prompt_sha256", "messages", "expected_uci", "answer", "stop_reason", "refusal",
               "parse_kind", "parsed_text", "parse_detail", "played_uci", "latency_s", "usage", "retries",
               "cost_usd", "cached", "error", "extra", "played_san", "outcome")  # fmt: skip
_TURN_FIELDS = frozenset(_TURN_ORDER)
TurnRecord._KNOWN = _TURN_FIELDS


@dataclasses.dataclass(frozen=True, eq=False)
class RunRecord(_JsonView):
    """One puzzle's line of ``records.jsonl``: the puzzle, the verdict, the turns and the accounting.

    :meth:`from_json` reads every schema written so far (records from before ``schema`` existed
    included); :meth:`to_json` gives the line back in the same shape. Keys this version does not
    know are kept in :attr:`other` and written back, so records written by a newer chesseval (or
    with fields added by a branch) survive a rewrite.
    """

    puzzle_id: str
    verdict: str
    """A :class:`~chesseval.core.judge.Verdict` value (kept as text: imported runs may carry others)."""
    schema: int = RECORD_SCHEMA
    rating: int | None = None
    rating_deviation: int | None = None
    rating_source: str | None = None
    themes: tuple[str, ...] = ()
    fen: str | None = None
    moves: tuple[str, ...] = ()
    has_setup_move: bool = True
    format: str | None = None
    n_solver_moves: int | None = None
    solver: str | None = None
    first_move_correct: bool = False
    solver_moves_found: int = 0
    turns: tuple[TurnRecord, ...] = ()
    latency_s: float = 0.0
    usage: dict[str, Any] = dataclasses.field(default_factory=dict)
    cost_usd: float | None = None
    retries: int = 0
    retry_wait_s: float = 0.0
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    other: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    """Keys this version does not know, kept as read."""
    absent: frozenset[str] = dataclasses.field(default=frozenset(), compare=False, repr=False)
    """Known keys the JSON left out (older records have no ``fen``); they stay out when written back."""

    @property
    def is_solved(self) -> bool:
        return self.verdict == "correct"

    @property
    def is_error(self) -> bool:
        """No answer was obtained (the call failed after every retry): not a verdict on the model."""
        return self.verdict == "error"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        """A record from its JSON object; raises :class:`ValueError` on a record that cannot be one."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a record is a JSON object, got {type(data).__name__}")
        schema = data.get("schema", 1)  # the first records carried no schema; their shape is schema 1
        if not isinstance(schema, int) or schema < 1:
            raise ValueError(f"record schema {schema!r} is not a positive integer")
        if schema > RECORD_SCHEMA:
            raise ValueError(f"record schema {schema!r} is newer than this chesseval reads ({RECORD_SCHEMA}); upgrade chesseval")
        for key in ("puzzle_id", "verdict"):
            if data.get(key) is None:
                raise ValueError(f"record has no {key!r}")
        known, other = _split(data, _RECORD_FIELDS)
        known["schema"] = schema
        known["puzzle_id"] = str(known["puzzle_id"])
        known["verdict"] = str(known["verdict"])
        for key in ("themes", "moves"):
            if key in known:
                known[key] = tuple(known[key] or ())
        if "turns" in known:
            known["turns"] = tuple(TurnRecord.from_json(t) for t in known["turns"] or ())
        for key, default in (("usage", {}), ("latency_s", 0.0), ("retries", 0), ("retry_wait_s", 0.0),
                             ("solver_moves_found", 0), ("first_move_correct", False), ("has_setup_move", True)):  # fmt: skip
            if known.get(key) is None and key in known:
                known[key] = default
        return cls(**known, other=other, absent=_absent(data.keys(), _RECORD_FIELDS))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _RECORD_ORDER:
            value = getattr(self, name)
            if name in self.absent and value == _default(RunRecord, name):
                continue
            if name == "turns":
                value = [t.to_json() for t in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        out.update(self.other)
        return out

    def to_line(self) -> str:
        """The record as one line of ``records.jsonl`` (no newline)."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"), default=str)


_RECORD_ORDER = ("schema", "puzzle_id", "rating", "rating_deviation", "rating_source", "themes", "fen", "moves",
                 "has_setup_move", "format", "n_solver_moves", "solver", "verdict", "first_move_correct",
                 "solver_moves_found", "turns", "latency_s", "usage", "cost_usd", "retries", "retry_wait_s",
                 "error", "started_at", "finished_at")  # fmt: skip
_RECORD_FIELDS = frozenset(_RECORD_ORDER)
RunRecord._KNOWN = _RECORD_FIELDS


def as_record(record: RunRecord | Mapping[str, Any]) -> RunRecord:
    """``record`` as a :class:`RunRecord` (a plain dict, e.g. from a test or a script, is read)."""
    return record if isinstance(record, RunRecord) else RunRecord.from_json(record)


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
