"""Move parsing: find the move an answer commits to, and read it with python-chess.

A model's answer is prose with move-like tokens everywhere (candidates it rejected, the
opponent's last move, squares it describes). :mod:`chesseval.core.answer_text` picks the one token the
answer *commits to* (a final ``Answer:`` marker, a bare last line, a bold move, ... — see there);
:func:`parse_move` then reads that token leniently as SAN, UCI or long algebraic and says whether
it is a legal move, a specific illegal move, ambiguous, or nothing. It never raises and never
mutates the board it is given.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable

import chess

from chesseval.core.answer_text import COORD_RE, SAN_RE, Token, find_commitment, normalise

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
    lenient: bool = False
    """True when reading the move needed a non-standard reading (``nf3``, ``Pe4``, ``bxc3`` as a
    bishop move, a piece word), so strict and lenient scores can be told apart."""
    claimed_mate: bool = False
    """True when the text marks the move as mate (``#``) but it does not mate: a diagnostic only."""


# --- reading one token -------------------------------------------------------------------------

_PIECE_NAMES = dict(zip(chess.PIECE_TYPES, chess.PIECE_NAMES[1:], strict=True))


def _promo(m: re.Match[str]) -> str | None:
    p = m.group("p1") or m.group("p2") or m.group("p3")
    return p.upper() if p else None


_Reading = Callable[[chess.Board], chess.Move]


def _other_side_legal(board: chess.Board, parse: _Reading) -> bool:
    flipped = board.copy(stack=False)
    flipped.turn = not board.turn
    flipped.ep_square = None
    try:
        return bool(parse(flipped))
    except ValueError:
        return False


def _illegal(board: chess.Board, tok: Token, notation: str, why: str, parse: _Reading | None = None) -> ParsedMove:
    """An illegal move; ``parse`` re-reads it on a board with the other side to move, to say so."""
    if parse is not None and _other_side_legal(board, parse):
        side = "White" if board.turn == chess.BLACK else "Black"
        why = f"{why}; it is a legal move for {side}, not the side to move"
    return ParsedMove(MoveKind.ILLEGAL, None, tok.raw, notation, why, tok.lenient)


def _result(board: chess.Board, tok: Token, move: chess.Move, notation: str, lenient: bool) -> ParsedMove:
    claimed = False
    if "#" in tok.suffix:
        if board.gives_check(move):
            after = board.copy(stack=False)
            after.push(move)
            claimed = not after.is_checkmate()
        else:
            claimed = True
    detail = "marked as mate but it is not mate" if claimed else None
    return ParsedMove(MoveKind.MOVE, move, tok.raw, notation, detail, lenient or tok.lenient, claimed)


def _read_castle(board: chess.Board, tok: Token) -> ParsedMove:
    san = "O-O-O" if tok.text.count("-") == 2 else "O-O"
    try:
        move = board.parse_san(san)
    except ValueError:
        return _illegal(board, tok, "san", f"{san} is not possible here", lambda b: b.parse_san(san))
    return _result(board, tok, move, "san", tok.text[0] == "o")


def _read_coord(board: chess.Board, tok: Token) -> ParsedMove:
    m = COORD_RE.fullmatch(tok.text)
    if m is None:  # pragma: no cover - the token regex guarantees the shape
        return ParsedMove(MoveKind.NONE, text=tok.text, detail="unreadable move text")
    piece, src, dst, promo = m.group("piece"), m.group("src"), m.group("dst"), _promo(m)
    notation = "lan" if piece or m.group("sep") else "uci"
    uci = src + dst + (promo.lower() if promo else "")
    if src == dst:
        return _illegal(board, tok, notation, f"{tok.text!r} does not move")
    src_sq = chess.parse_square(src)
    on_src = board.piece_at(src_sq)
    if on_src is None:
        return _illegal(board, tok, notation, f"there is no piece on {src}", lambda b: b.parse_uci(uci))
    if piece is not None:
        want = chess.PIECE_SYMBOLS.index(piece.lower())
        if on_src.piece_type != want:
            return _illegal(
                board, tok, notation,
                f"the piece on {src} is a {_PIECE_NAMES[on_src.piece_type]}, not a {_PIECE_NAMES[want]}",
            )
    if on_src.color != board.turn:
        name = _PIECE_NAMES[on_src.piece_type]
        return _illegal(board, tok, notation, f"the {name} on {src} belongs to the side not to move", lambda b: b.parse_uci(uci))
    try:
        move = board.parse_uci(uci)
    except ValueError:
        move = chess.Move(src_sq, chess.parse_square(dst), chess.Piece.from_symbol(promo).piece_type if promo else None)
        return _illegal(board, tok, notation, _why_illegal(board, move))
    if not move:
        return _illegal(board, tok, notation, "a null move is not a move")
    return _result(board, tok, move, notation, bool(piece and piece.islower()))


def _why_illegal(board: chess.Board, move: chess.Move) -> str:
    piece = board.piece_at(move.from_square)
    if piece and piece.piece_type == chess.PAWN and chess.square_rank(move.to_square) in (0, 7) and not move.promotion:
        if board.is_legal(chess.Move(move.from_square, move.to_square, chess.QUEEN)):
            return "a pawn reaching the last rank needs a promotion piece"
    if move.promotion and board.is_legal(chess.Move(move.from_square, move.to_square)):
        return "only a pawn reaching the last rank promotes"
    if board.is_pseudo_legal(move):
        return "it would leave the king in check" if not board.is_check() else "it does not get the king out of check"
    name = _PIECE_NAMES[piece.piece_type] if piece else "piece"
    return f"the {name} on {chess.square_name(move.from_square)} cannot move to {chess.square_name(move.to_square)}"


def _try_san(board: chess.Board, san: str) -> chess.Move | Exception:
    try:
        return board.parse_san(san)
    except ValueError as exc:
        return exc


def _san_pseudo_matches(board: chess.Board, piece_type: int, dst: str) -> bool:
    to_mask = chess.BB_SQUARES[chess.parse_square(dst)]
    from_mask = board.pieces_mask(piece_type, board.turn)
    return any(True for _ in board.generate_pseudo_legal_moves(from_mask, to_mask))


def _read_san(board: chess.Board, tok: Token) -> ParsedMove:
    m = SAN_RE.fullmatch(tok.text)
    if m is None:  # pragma: no cover - the token regex guarantees the shape
        return ParsedMove(MoveKind.NONE, text=tok.text, detail="unreadable move text")
    piece, dis, dst, promo = m.group("piece"), m.group("dis"), m.group("dst"), _promo(m)
    capture = "x" if m.group("sep") in ("x", ":") else ""
    tail = dis + capture + dst + (f"={promo}" if promo else "")
    lenient = False
    if piece == "b":
        # "bxc3" is the b-pawn in strict SAN, but models write bishops in lowercase too:
        # accept only when exactly one reading is legal.
        pawn, bishop = _try_san(board, "b" + tail), _try_san(board, "B" + tail)
        if isinstance(pawn, chess.Move) and isinstance(bishop, chess.Move):
            return ParsedMove(
                MoveKind.AMBIGUOUS, None, tok.raw, "san",
                f"{tok.text!r} could be the b-pawn ({board.san(pawn)}) or a bishop ({board.san(bishop)})", True,
            )
        if isinstance(pawn, chess.Move):
            return _result(board, tok, pawn, "san", False) if pawn else _illegal(board, tok, "san", "a null move is not a move")
        if isinstance(bishop, chess.Move):
            return _result(board, tok, bishop, "san", True)
        if isinstance(bishop, chess.AmbiguousMoveError):
            return ParsedMove(MoveKind.AMBIGUOUS, None, tok.raw, "san", f"more than one bishop can play {tok.text!r}", True)
        def either(b: chess.Board) -> chess.Move:
            pawn = _try_san(b, "b" + tail)
            return pawn if isinstance(pawn, chess.Move) else b.parse_san("B" + tail)

        return _illegal(board, tok, "san", f"neither a b-pawn nor a bishop can play {tok.text!r}", either)
    if piece in ("P", "p"):
        san, lenient, piece_type = tail, True, chess.PAWN
    elif piece is not None:
        san, lenient, piece_type = piece.upper() + tail, piece.islower(), chess.PIECE_SYMBOLS.index(piece.lower())
    else:
        san, piece_type = tail, chess.PAWN
    result = _try_san(board, san)
    if isinstance(result, chess.Move):
        if not result:
            return _illegal(board, tok, "san", "a null move is not a move")
        return _result(board, tok, result, "san", lenient)
    if isinstance(result, chess.AmbiguousMoveError):
        why = f"more than one {_PIECE_NAMES[piece_type]} can play {san!r}"
        return ParsedMove(MoveKind.AMBIGUOUS, None, tok.raw, "san", why, lenient)
    if piece_type == chess.PAWN and not promo and dst[1] in "18" and isinstance(_try_san(board, san + "=Q"), chess.Move):
        why = "a pawn reaching the last rank needs a promotion piece"
    elif _san_pseudo_matches(board, piece_type, dst):
        why = "it would leave the king in check" if not board.is_check() else "it does not get the king out of check"
    else:
        why = f"no {_PIECE_NAMES[piece_type]} can play {san!r}"
    return _illegal(board, tok, "san", why, lambda b: b.parse_san(san))


def _read(board: chess.Board, tok: Token) -> ParsedMove:
    if tok.kind == "castle":
        return _read_castle(board, tok)
    if tok.kind == "coord":
        return _read_coord(board, tok)
    return _read_san(board, tok)


# --- public entry point ------------------------------------------------------------------------


def parse_move(text: str, board: chess.Board) -> ParsedMove:
    """The move ``text`` commits to, read in ``board``; never raises, never mutates ``board``."""
    try:
        return _parse(text, board)
    except Exception as exc:  # noqa: BLE001 - a model's answer is data: never crash the run on it
        return ParsedMove(MoveKind.NONE, detail=f"parser error: {type(exc).__name__}: {exc}")


def _parse(text: str, board: chess.Board) -> ParsedMove:
    if not isinstance(text, str) or not text.strip():
        return ParsedMove(MoveKind.NONE, detail="empty answer")
    norm = normalise(text)
    tok, segment, how = find_commitment(norm, board.turn)
    if how == "null":
        return ParsedMove(MoveKind.ILLEGAL, None, segment, None, "a null move (pass) is not a move")
    if tok is None:
        if how == "cut off":
            return ParsedMove(MoveKind.NONE, detail="no committed move: the answer ends mid-sentence")
        return ParsedMove(MoveKind.NONE, detail="no move found")
    return _read(board, tok)
