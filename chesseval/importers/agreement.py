"""chesseval's reading and verdict against the source harness's own, for imported runs.

An imported record keeps what the source harness concluded (``source_grading``): the move its
extractor read from the answer (``extracted_move``) and/or its verdict (``correct``). This module
counts where chesseval agrees and lists where it does not, for ``chesseval compare`` and the
re-grading script.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import chess

from chesseval.core.continuation import move_key

__all__ = ["Disagreement", "SourceAgreement", "source_agreement", "harness_move_uci"]


@dataclasses.dataclass(frozen=True)
class Disagreement:
    puzzle_id: str
    kind: str
    """``move`` (the two readings differ) or ``verdict`` (correct according to one only)."""
    source: str
    chesseval: str
    detail: str = ""

    def line(self) -> str:
        text = f"{self.puzzle_id}: source {self.kind} {self.source}, chesseval {self.chesseval}"
        return text + (f" ({self.detail})" if self.detail else "")


@dataclasses.dataclass(frozen=True)
class SourceAgreement:
    moves_compared: int
    """Records with a source reading of the answer's move."""
    moves_differ: int
    verdicts_compared: int
    """Records with a source verdict."""
    verdicts_differ: int
    disagreements: tuple[Disagreement, ...]

    @property
    def any(self) -> bool:
        return bool(self.moves_compared or self.verdicts_compared)

    def summary(self, label: str, limit: int = 10) -> str:
        parts = []
        if self.moves_compared:
            parts.append(f"move read differs on {self.moves_differ} of {self.moves_compared} ({self.moves_differ / self.moves_compared:.1%})")
        if self.verdicts_compared:
            parts.append(f"verdict differs on {self.verdicts_differ} of {self.verdicts_compared} ({self.verdicts_differ / self.verdicts_compared:.1%})")
        lines = [f"{label} against its source harness: " + "; ".join(parts)]
        lines += ["  " + d.line() for d in self.disagreements[:limit]]
        if len(self.disagreements) > limit:
            lines.append(f"  … and {len(self.disagreements) - limit} more")
        return "\n".join(lines)


def harness_move_uci(text: str, fen: str) -> str | None:
    """The harness's extracted move (SAN or UCI) as UCI in ``fen``; None when it is no legal move."""
    board = chess.Board(fen)
    cleaned = text.strip().rstrip(".")
    for parse in (board.parse_san, board.parse_uci):
        try:
            move = parse(cleaned)
        except ValueError:
            continue
        if move:
            return move.uci()
    return None


def _no_move(turn: dict[str, Any]) -> str:
    kind, text, detail = turn.get("parse_kind"), turn.get("parsed_text"), turn.get("parse_detail")
    head = f"{kind} {text!r}" if text else str(kind)
    return head + (f" ({detail})" if detail else "")


def _chesseval_reading(record: dict[str, Any]) -> str | None:
    turns = record.get("turns") or []
    return turns[0].get("played_uci") if turns else None


def source_agreement(records: Iterable[dict[str, Any]]) -> SourceAgreement:
    moves_n = moves_diff = verdicts_n = verdicts_diff = 0
    out: list[Disagreement] = []
    for rec in records:
        grading = rec.get("source_grading") or {}
        pid = str(rec.get("puzzle_id"))
        mine = _chesseval_reading(rec)
        turn0 = (rec.get("turns") or [{}])[0]
        if grading.get("extracted_move") is not None:
            raw = str(grading["extracted_move"])
            theirs = harness_move_uci(raw, rec["fen"]) if raw.strip() else None
            moves_n += 1
            differ = theirs != mine
            if theirs is None and mine is None and raw.strip():
                # Neither is a legal move: the same written move (e.g. the same illegal Qxf7) agrees.
                differ = move_key(raw.strip()) != move_key(str(turn0.get("parsed_text") or ""))
            if differ:
                moves_diff += 1
                shown_mine = turn0.get("played_san") or mine or _no_move(turn0)
                out.append(Disagreement(pid, "move", repr(raw) + ("" if theirs else " (not a legal move)"), str(shown_mine)))
        if isinstance(grading.get("correct"), bool):
            verdicts_n += 1
            ours = rec.get("verdict") == "correct"
            if ours != grading["correct"]:
                verdicts_diff += 1
                out.append(Disagreement(pid, "verdict", "correct" if grading["correct"] else "incorrect", str(rec.get("verdict")),
                                        f"chesseval read {turn0.get('played_san') or turn0.get('parsed_text') or 'no move'}"))  # fmt: skip
    return SourceAgreement(moves_n, moves_diff, verdicts_n, verdicts_diff, tuple(out))
