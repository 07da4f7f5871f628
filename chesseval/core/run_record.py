"""The typed run record: one line of ``records.jsonl`` as a :class:`RunRecord` with its
:class:`TurnRecord` list.

:meth:`RunRecord.from_json` reads every schema written so far and :meth:`RunRecord.to_json` writes
the same shape back; keys this version does not know ride along in ``.other``. Files are read and
written by :mod:`chesseval.core.records`, the run folder's owner.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["RECORD_SCHEMA", "RunRecord", "TurnRecord", "as_record"]

RECORD_SCHEMA = 1


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
