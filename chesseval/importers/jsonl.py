"""The generic JSONL answer log (the shape of ``llm_answers.jsonl``), one answer per line.

Keys: ``fen`` (the position asked about), ``raw_response``, optional ``moves_before`` (SAN
movetext shown before ``fen``), ``expected`` (the solution's move for ``fen``, UCI), ``model``,
``source``, and ``meta`` with ``expected_line`` (the solution from ``fen``), ``puzzle_id``,
``rating`` or ``rating_bucket`` (``"800-1200"``), ``track``, ``prompt_asks``,
``harness_extracted_move`` (the source harness's own reading of the answer, SAN or UCI).

Every line is checked before anything is written: a bad line is a one-line error naming the file,
the line and the value.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chess

from chesseval.core.puzzles import RatingSource
from chesseval.core.regrade import board_of
from chesseval.importers.judging import ForeignAnswer, ImportFormatError, JudgingMode

__all__ = ["read_jsonl", "judging_mode"]

_BUCKET_RE = re.compile(r"^\s*(\d{3,4})\s*[-–]\s*(\d{3,4})\s*$")
_MATE_TRACK_RE = re.compile(r"mate[-_ ]?(?:in)?[-_ ]?(\d+)", re.IGNORECASE)

# Harnesses whose prompt asked for the whole solution in one reply, though their prompt_asks
# label does not say "line" (read from their prompts; see ../shared/data/README.md).
_LINE_PROMPTS = {
    "vorahardik7/chessbench": "the prompt asked for the mating line in UCI inside [RESULT] tags",
}


def _short(value: Any, n: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def judging_mode(source: str, meta: dict[str, Any], expected_line: tuple[str, ...] | None) -> tuple[JudgingMode, str]:
    """(mode, why) for one answer: ``line`` when the prompt asked for the whole solution."""
    if expected_line is None:
        return JudgingMode.UNJUDGED, "the log has no solution for this position"
    asks = str(meta.get("prompt_asks") or "")
    if re.search(r"\bline\b", asks, re.IGNORECASE):
        return JudgingMode.LINE, f"the prompt asked for the whole solution line ({asks!r}): solver moves judged one by one"
    if source in _LINE_PROMPTS:
        return JudgingMode.LINE, _LINE_PROMPTS[source] + ": solver moves judged one by one"
    if len(expected_line) > 1:
        return JudgingMode.SINGLE, f"the prompt asked for one move ({asks or 'prompt not described'!s}): judged on the solution's first move"
    return JudgingMode.SINGLE, f"one move asked ({asks or 'prompt not described'!s}) and the solution here is one move"


def _rating(meta: dict[str, Any], path: str, line_no: int) -> tuple[int | None, int | None, str]:
    """(rating, deviation, source): an exact rating, or a bucket's midpoint with its spread as RD."""
    raw = meta.get("rating")
    if raw is not None and raw != "":
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ImportFormatError(path, line_no, f"meta.rating {_short(raw)} is not a number") from None
        if not math.isfinite(value):
            raise ImportFormatError(path, line_no, f"meta.rating {_short(raw)} is not a finite number")
        return int(round(value)), None, "lichess"
    bucket = meta.get("rating_bucket")
    if bucket:
        m = _BUCKET_RE.match(str(bucket))
        if not m or int(m.group(1)) >= int(m.group(2)):
            raise ImportFormatError(path, line_no, f"meta.rating_bucket {_short(bucket)} is not 'LOW-HIGH'")
        lo, hi = int(m.group(1)), int(m.group(2))
        # A rating known only to lie in [lo, hi]: the midpoint, with the spread of a uniform
        # distribution over the bucket as its deviation, so the fit weighs it accordingly.
        return (lo + hi) // 2, round((hi - lo) / math.sqrt(12)), RatingSource.BUCKET
    return None, None, "none"


def _expected_line(obj: dict[str, Any], meta: dict[str, Any], board: chess.Board, path: str, line_no: int) -> tuple[tuple[str, ...] | None, str | None]:
    """(the solution from ``board`` in normalised UCI, or None; why it was cut short, or None).

    A line that turns illegal after its first move (a broken log) is cut to its first move and
    said so; an illegal first move is an error.
    """
    raw_line = meta.get("expected_line")
    expected = obj.get("expected")
    if raw_line:
        line = tuple(str(raw_line).split())
    elif expected:
        line = (str(expected),)
    else:
        return None, None
    b = board.copy(stack=False)
    normal: list[str] = []
    for i, uci in enumerate(line):
        try:
            move = b.parse_uci(uci)
        except ValueError:
            if i == 0:
                raise ImportFormatError(path, line_no, f"expected move {_short(uci)} is not legal in {b.fen()!r}") from None
            return (normal[0],), f"the log's expected line {' '.join(line)!r} is not legal at move {i + 1} ({uci!r}): judged on its first move only"
        normal.append(move.uci())  # king-takes-rook castling becomes e1g1
        b.push(move)
    if expected and raw_line:
        try:
            first = board.parse_uci(str(expected)).uci()
        except ValueError:
            raise ImportFormatError(path, line_no, f"expected {_short(expected)} is not legal in {board.fen()!r}") from None
        if first != normal[0]:
            raise ImportFormatError(path, line_no, f"expected {_short(expected)} differs from the first move of meta.expected_line {_short(raw_line)}")
    return tuple(normal), None


def _grading(meta: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for key in ("harness_extracted_move", "extracted_move", "parsed_move"):
        if meta.get(key) is not None:
            out["extracted_move"] = str(meta[key])
            break
    for key in ("correct", "is_correct", "solved"):
        value = meta.get(key, obj.get(key))
        if isinstance(value, bool):
            out["correct"] = value
            break
    return out or None


def _themes(meta: dict[str, Any]) -> tuple[str, ...]:
    track = meta.get("track")
    if not track:
        return ()
    m = _MATE_TRACK_RE.fullmatch(str(track))
    return (f"mateIn{m.group(1)}",) if m else (str(track),)


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[ForeignAnswer]:
    """The answers of a JSONL log, checked line by line (raises :class:`ImportFormatError`)."""
    name = str(path)
    try:
        fh = open(Path(path), encoding="utf-8")
    except OSError as exc:
        raise ImportFormatError(name, None, f"cannot open ({exc.strerror})") from exc
    with fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ImportFormatError(name, line_no, f"not JSON ({exc.msg}): {_short(raw.strip())}") from None
            if not isinstance(obj, dict):
                raise ImportFormatError(name, line_no, f"expected a JSON object, got {_short(obj)}")
            yield _answer(obj, name, line_no)


def _answer(obj: dict[str, Any], path: str, line_no: int) -> ForeignAnswer:
    fen = obj.get("fen")
    if not isinstance(fen, str):
        raise ImportFormatError(path, line_no, f"missing or non-string 'fen': {_short(fen)}")
    try:
        board = chess.Board(fen)
    except ValueError:
        raise ImportFormatError(path, line_no, f"invalid FEN {_short(fen)}") from None
    text = obj.get("raw_response")
    if not isinstance(text, str):
        raise ImportFormatError(path, line_no, f"missing or non-string 'raw_response': {_short(text)}")
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise ImportFormatError(path, line_no, f"'meta' is not an object: {_short(meta)}")
    source_full = str(obj.get("source") or "unknown")
    source, _, source_file = source_full.partition(":")
    expected_line, broken = _expected_line(obj, meta, board, path, line_no)
    rating, rd, rating_source = _rating(meta, path, line_no)
    mode, why = judging_mode(source, meta, expected_line) if broken is None else (JudgingMode.SINGLE, broken)
    moves_before = obj.get("moves_before")
    if moves_before:
        try:
            board_of({"fen": fen, "moves_before": moves_before})
        except ValueError as exc:
            raise ImportFormatError(path, line_no, str(exc)) from None
    style = str(meta.get("prompt_asks") or "unknown prompt")
    if meta.get("paradigm"):
        style += f" [{meta['paradigm']}]"
    pid = meta.get("puzzle_id")
    return ForeignAnswer(
        where=line_no,
        source=source,
        source_file=source_file or None,
        model=str(obj.get("model") or "unknown-model"),
        style=style,
        fen=board.fen(),
        text=text,
        expected_line=expected_line,
        puzzle_id=str(pid) if pid not in (None, "") else None,
        moves_before=str(moves_before) if moves_before else None,
        rating=rating,
        rating_deviation=rd,
        rating_source=rating_source,
        themes=_themes(meta),
        mode=mode,
        mode_why=why,
        source_grading=_grading(meta, obj),
    )
