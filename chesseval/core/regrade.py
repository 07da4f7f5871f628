"""Re-grade other benchmarks' logs: read the move each stored answer commits to, and compare it
with hand labels where a file has them.

A record is one JSON object per line with ``fen``, an optional ``moves_before`` (the game's SAN
movetext from the initial position, as PGN prompts show it: the parser then reads game
continuations) and ``raw_response``. Labelled files (``../shared/data/parser_dev.jsonl``'s
format) add ``label`` (``move`` / ``illegal`` / ``none``), ``intended_uci``, ``intended_text`` and
``difficulty``::

    from chesseval.core.regrade import regrade_file, agreement
    rows = regrade_file("answers.jsonl")
    for difficulty, (agree, total) in agreement(rows).items(): ...

``chesseval parse FILE.jsonl`` prints the same.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import chess

from chesseval.core.continuation import move_key
from chesseval.core.moves import MoveKind, ParsedMove, parse_move
from chesseval.errors import ChessEvalError

__all__ = ["AnswerFileError", "Regraded", "agreement", "agrees", "board_of", "describe", "read_answers", "regrade_file"]

LABELS = ("move", "illegal", "none")
_MOVE_NUMBER_RE = re.compile(r"^\d+\.+")
_RESULTS = frozenset({"*", "1-0", "0-1", "1/2-1/2"})


class AnswerFileError(ChessEvalError, ValueError):
    """A bad record in an answers file. The message is ``file:line: reason``."""


@dataclasses.dataclass(frozen=True)
class Regraded:
    line: int
    """The record's line number in its file (from 1)."""
    parsed: ParsedMove
    record: Mapping[str, Any]

    @property
    def label(self) -> str | None:
        return self.record.get("label")

    @property
    def difficulty(self) -> str:
        return str(self.record.get("difficulty") or "unlabelled")

    @property
    def agrees(self) -> bool | None:
        """Whether the parse agrees with the record's label; None for an unlabelled record."""
        return None if self.label is None else agrees(self.parsed, self.record)


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def board_of(record: Mapping[str, Any]) -> chess.Board:
    """The record's position, with the game's history on its move stack when ``moves_before`` is
    given (so the parser can read game continuations). Raises ValueError naming the bad value."""
    fen = record.get("fen")
    if not isinstance(fen, str):
        raise ValueError(f"fen must be a string, got {_short(fen)}")
    try:
        target = chess.Board(fen)
    except ValueError as exc:
        raise ValueError(f"bad fen {_short(fen)}: {exc}") from exc
    movetext = record.get("moves_before")
    if not movetext:
        return target
    if not isinstance(movetext, str):
        raise ValueError(f"moves_before must be SAN movetext, got {_short(movetext)}")
    board = chess.Board()
    for word in movetext.split():
        san = _MOVE_NUMBER_RE.sub("", word)
        if not san or san in _RESULTS:
            continue
        try:
            board.push_san(san)
        except ValueError as exc:
            raise ValueError(f"moves_before: {san!r} cannot be played after {len(board.move_stack)} moves") from exc
    if board.board_fen() != target.board_fen() or board.turn != target.turn:
        raise ValueError(f"moves_before does not lead to fen {_short(fen)}")
    return board


def read_answers(path: str | Path) -> Iterator[tuple[int, dict[str, Any], chess.Board]]:
    """(line number, record, board) for each non-empty line; AnswerFileError names file, line and value."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise AnswerFileError(f"{path}:{n}: not a JSON object: {exc.msg} in {_short(raw.strip())}") from exc
            if not isinstance(record, dict):
                raise AnswerFileError(f"{path}:{n}: not a JSON object: {_short(record)}")
            if not isinstance(record.get("raw_response"), str):
                raise AnswerFileError(f"{path}:{n}: raw_response must be a string, got {_short(record.get('raw_response'))}")
            label = record.get("label")
            if label is not None and label not in LABELS:
                raise AnswerFileError(f"{path}:{n}: label must be one of {LABELS}, got {_short(label)}")
            try:
                board = board_of(record)
            except ValueError as exc:
                raise AnswerFileError(f"{path}:{n}: {exc}") from exc
            yield n, record, board


def agrees(parsed: ParsedMove, record: Mapping[str, Any]) -> bool:
    """The comparison the parser is measured by: same label and, for ``move``, the same move
    (``intended_uci``); for ``illegal``, the parser reports an illegal or ambiguous move and it
    is the same written move (same piece, target square and promotion as ``intended_text``)."""
    label = record.get("label")
    if label == "move":
        return parsed.kind is MoveKind.MOVE and parsed.move is not None and parsed.move.uci() == record.get("intended_uci")
    if label == "illegal":
        return parsed.kind in (MoveKind.ILLEGAL, MoveKind.AMBIGUOUS) and move_key(parsed.text or "") == move_key(
            str(record.get("intended_text") or "")
        )
    return parsed.kind is MoveKind.NONE


def regrade_file(path: str | Path) -> list[Regraded]:
    """Every record of ``path`` parsed with :func:`chesseval.core.moves.parse_move`. The whole file
    is checked first: a bad record raises before anything is parsed."""
    rows = list(read_answers(path))
    return [Regraded(n, parse_move(record["raw_response"], board), record) for n, record, board in rows]


def agreement(rows: Iterable[Regraded]) -> dict[str, tuple[int, int]]:
    """(agreeing, labelled) per difficulty, in the order easy, medium, hard, then any other."""
    out: dict[str, list[int]] = {}
    for row in rows:
        if row.agrees is None:
            continue
        cell = out.setdefault(row.difficulty, [0, 0])
        cell[0] += row.agrees
        cell[1] += 1
    order = {"easy": 0, "medium": 1, "hard": 2}
    return {k: (v[0], v[1]) for k, v in sorted(out.items(), key=lambda kv: (order.get(kv[0], 3), kv[0]))}


def describe(parsed: ParsedMove, board: chess.Board) -> str:
    """One short line: ``move Nf3 (g1f3) [marker]``, ``illegal 'Qxh2+' [continuation]``, ``none [cut-off]``."""
    if parsed.kind is MoveKind.MOVE and parsed.move is not None:
        what = f"move {board.san(parsed.move)} ({parsed.move.uci()})"
    elif parsed.kind is MoveKind.NONE:
        what = "none"
    else:
        what = f"{parsed.kind.value} {parsed.text!r}"
    return f"{what} [{parsed.rule or '-'}]"
