"""Move parsing: find the move an answer commits to, and read it with python-chess.

(Placeholder: the full parser is being written; this minimal version keeps the interface.)
"""

from __future__ import annotations

import dataclasses
import enum

import chess

__all__ = ["MoveKind", "ParsedMove", "parse_move"]


class MoveKind(enum.StrEnum):
    MOVE = "move"
    """A legal move in the position."""
    ILLEGAL = "illegal"
    """A specific move that cannot be played in the position."""
    AMBIGUOUS = "ambiguous"
    """A move text that fits more than one legal move."""
    NONE = "none"
    """No move found in the text."""


@dataclasses.dataclass(frozen=True)
class ParsedMove:
    kind: MoveKind
    move: chess.Move | None = None
    """The legal move (kind MOVE), else None."""
    text: str | None = None
    """The move text the answer committed to, as found."""
    notation: str | None = None
    """'san', 'uci' or 'lan' for a parsed move."""
    detail: str | None = None
    """Why it is illegal/ambiguous/none, for the record."""


def parse_move(text: str, board: chess.Board) -> ParsedMove:
    tokens = text.replace("*", " ").replace("`", " ").split()
    for tok in reversed(tokens):
        tok = tok.strip(".,;:!?()")
        try:
            move = board.parse_san(tok)
        except ValueError:
            try:
                move = board.parse_uci(tok.lower())
            except ValueError:
                continue
        if move:
            return ParsedMove(MoveKind.MOVE, move, tok, "san")
    return ParsedMove(MoveKind.NONE, detail="no move found")
