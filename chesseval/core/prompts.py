"""Prompts: a puzzle position rendered as FEN, PGN or a board diagram, in versioned templates.

Every prompt states whose move it is and the opponent's last move, and asks for the move in SAN on
a final ``Answer:`` line. Multi-move puzzles continue the same conversation: after a correct move
the opponent's reply is announced in a follow-up message (:func:`render_follow_up`).

The template id and a hash of the exact messages go into every record, so a change of wording is
never mistaken for a change of model.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Sequence

import chess
import chess.pgn

from chesseval.errors import ConfigError
from chesseval.core.players import Message
from chesseval.core.puzzles import Puzzle

__all__ = [
    "PromptFormat",
    "PromptOptions",
    "Prompt",
    "TEMPLATE_ID",
    "render_prompt",
    "render_follow_up",
    "render_board",
    "messages_sha256",
]

TEMPLATE_ID = "chesseval-v1"
"""Bump when any wording below changes: records of different templates are not comparable."""

SYSTEM = (
    "You are solving a chess puzzle. Think as far ahead as you need. "
    "Give exactly one move for your side per answer, in standard algebraic notation (SAN, e.g. Nf3, exd5, O-O, e8=Q). "
    "End your reply with a final line of the form: Answer: <move>"
)


class PromptFormat(enum.StrEnum):
    """How the position is shown to the model."""

    FEN = "fen"
    PGN = "pgn"
    BOARD = "board"


@dataclasses.dataclass(frozen=True)
class PromptOptions:
    """Context switches that are part of the template (recorded with every run)."""

    legal_moves: bool = False
    """List every legal move (SAN) in the prompt."""
    restate_position: bool = True
    """Show the new position again in follow-up turns (otherwise only the opponent's reply)."""

    def to_dict(self) -> dict[str, bool]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PromptOptions:
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown prompt option(s) {sorted(unknown)!r}")
        return cls(**{k: bool(v) for k, v in data.items()})


@dataclasses.dataclass(frozen=True)
class Prompt:
    """The opening messages of a puzzle conversation."""

    messages: tuple[Message, ...]
    format: PromptFormat
    template_id: str = TEMPLATE_ID

    @property
    def sha256(self) -> str:
        return messages_sha256(self.messages)


def messages_sha256(messages: Sequence[Message]) -> str:
    data = json.dumps([[m["role"], m["content"]] for m in messages], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _colour(color: chess.Color) -> str:
    return "White" if color == chess.WHITE else "Black"


def render_board(board: chess.Board) -> str:
    """An ASCII diagram from White's side with rank and file labels, uppercase = White."""
    lines = ["  +-----------------+"]
    for rank in range(7, -1, -1):
        row = []
        for file in range(8):
            piece = board.piece_at(chess.square(file, rank))
            row.append(piece.symbol() if piece else ".")
        lines.append(f"{rank + 1} | {' '.join(row)} |")
    lines.append("  +-----------------+")
    lines.append("    a b c d e f g h")
    return "\n".join(lines)


def _castling_text(board: chess.Board) -> str:
    parts = []
    for color in (chess.WHITE, chess.BLACK):
        sides = []
        if board.has_kingside_castling_rights(color):
            sides.append("O-O")
        if board.has_queenside_castling_rights(color):
            sides.append("O-O-O")
        parts.append(f"{_colour(color)}: {', '.join(sides) if sides else 'none'}")
    return "; ".join(parts)


def _position_text(board: chess.Board, fmt: PromptFormat, puzzle: Puzzle | None = None) -> str:
    if fmt is PromptFormat.FEN:
        return f"Position (FEN): {board.fen()}"
    if fmt is PromptFormat.BOARD:
        ep = chess.square_name(board.ep_square) if board.ep_square is not None and board.has_legal_en_passant() else "none"
        return (
            "Position (uppercase = White, lowercase = Black):\n"
            f"{render_board(board)}\n"
            f"Castling rights: {_castling_text(board)}. En passant square: {ep}."
        )
    # PGN: the game from the stored FEN, with the moves played so far in movetext.
    start = chess.Board(puzzle.fen) if puzzle is not None else board.root()
    game = chess.pgn.Game()
    game.headers.clear()
    game.headers["Event"] = "Puzzle"
    game.headers["FEN"] = start.fen()
    game.headers["SetUp"] = "1"
    game.setup(start)
    node: chess.pgn.GameNode = game
    # The puzzle board is the stored FEN plus pushed moves, so its stack is the game since then.
    for move in board.move_stack:
        node = node.add_main_variation(move)
    exporter = chess.pgn.StringExporter(headers=True, variations=False, comments=False)
    pgn = game.accept(exporter)
    return f"Game so far (PGN):\n{pgn.rstrip(' *').rstrip()}"


def _legal_moves_text(board: chess.Board) -> str:
    return "Legal moves: " + " ".join(sorted(board.san(m) for m in board.legal_moves))


def render_prompt(puzzle: Puzzle, fmt: PromptFormat | str = PromptFormat.FEN, options: PromptOptions | None = None) -> Prompt:
    """The opening messages for ``puzzle``: a system message and the position."""
    fmt = PromptFormat(fmt)
    options = options or PromptOptions()
    board = puzzle.board()
    solver = _colour(board.turn)
    parts = [f"You play {solver}. It is {solver}'s move."]
    if puzzle.setup_move is not None:
        before = puzzle.start_board()
        last = chess.Move.from_uci(puzzle.setup_move)
        parts.append(f"Your opponent ({_colour(not board.turn)}) has just played {before.san(last)} ({last.uci()}).")
    parts.append(_position_text(board, fmt, puzzle))
    if options.legal_moves:
        parts.append(_legal_moves_text(board))
    parts.append(f"Find the best move for {solver}. Give your move in SAN on the final line as: Answer: <move>")
    messages: tuple[Message, ...] = (
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n\n".join(parts)},
    )
    return Prompt(messages=messages, format=fmt)


def render_follow_up(
    puzzle: Puzzle,
    board: chess.Board,
    reply: chess.Move,
    fmt: PromptFormat | str,
    options: PromptOptions | None = None,
) -> Message:
    """The message after a correct move: the opponent's reply and the request for the next move.

    ``board`` is the position *before* the opponent's reply; it is not changed.
    """
    fmt = PromptFormat(fmt)
    options = options or PromptOptions()
    san = board.san(reply)
    after = board.copy()
    after.push(reply)
    solver = _colour(after.turn)
    parts = [f"Correct. Your opponent replied {san} ({reply.uci()}). It is {solver}'s move."]
    if options.restate_position:
        parts.append(_position_text(after, fmt, puzzle))
    if options.legal_moves:
        parts.append(_legal_moves_text(after))
    parts.append("Find your next move. Give it in SAN on the final line as: Answer: <move>")
    return {"role": "user", "content": "\n\n".join(parts)}
