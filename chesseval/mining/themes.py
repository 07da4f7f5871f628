"""Cheap theme tags for a puzzle line, in the Lichess vocabulary.

Only tags that a few board tests can decide are derived: the goal (mate, mateInN, crushing,
advantage, equality), the length (oneMove, short, long, veryLong), the phase and endgame type, and
a handful of motifs (fork, hangingPiece, promotion, underPromotion, castling, enPassant,
advancedPawn, backRankMate, smotheredMate, quietMove, sacrifice, attraction). They are simplified versions of the tagger's
rules described in the project's domain notes; they are meant for filtering and for the difficulty
model, not as a faithful copy of Lichess's tagger.
"""

from __future__ import annotations

from collections.abc import Sequence

import chess

__all__ = ["derive_themes", "phase", "material_balance", "VALUES"]

VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 100}


def phase(board: chess.Board) -> str:
    """opening / middlegame / endgame from move number and remaining non-pawn material."""
    pieces = sum(VALUES[p.piece_type] for p in board.piece_map().values() if p.piece_type not in (chess.PAWN, chess.KING))
    if pieces <= 26:  # e.g. two rooks and a minor each, or less
        return "endgame"
    if board.fullmove_number <= 12:
        return "opening"
    return "middlegame"


def _endgame_type(board: chess.Board) -> str | None:
    kinds = {p.piece_type for p in board.piece_map().values()} - {chess.KING, chess.PAWN}
    if not kinds:
        return "pawnEndgame"
    if len(kinds) == 1:
        return {chess.ROOK: "rookEndgame", chess.QUEEN: "queenEndgame", chess.BISHOP: "bishopEndgame",
                chess.KNIGHT: "knightEndgame"}[kinds.pop()]
    if kinds == {chess.QUEEN, chess.ROOK}:
        return "queenRookEndgame"
    return None


def _is_fork(board: chess.Board, move: chess.Move) -> bool:
    """After ``move`` (already pushed), the moved non-king piece attacks two worthwhile targets."""
    sq = move.to_square
    piece = board.piece_at(sq)
    if piece is None or piece.piece_type == chess.KING:
        return False
    mover = piece.color
    # The forking piece must not simply be taken by something cheaper.
    for att in board.attackers(not mover, sq):
        attacker = board.piece_at(att)
        if attacker and VALUES[attacker.piece_type] < VALUES[piece.piece_type]:
            return False
    targets = 0
    for t in board.attacks(sq):
        victim = board.piece_at(t)
        if victim is None or victim.color == mover or victim.piece_type == chess.PAWN:
            continue
        if victim.piece_type == chess.KING or VALUES[victim.piece_type] > VALUES[piece.piece_type] or not board.attackers(not mover, t):
            targets += 1
    return targets >= 2


def _hanging_capture(board: chess.Board, move: chess.Move, setup: chess.Move) -> bool:
    """The move (not yet pushed) takes an undefended non-pawn piece that was not just a recapture."""
    victim = board.piece_at(move.to_square)
    if victim is None or victim.piece_type in (chess.PAWN, chess.KING):
        return False
    if board.is_capture(setup) and setup.to_square == move.to_square:
        return False  # a recapture, not a hanging piece
    return not board.attackers(victim.color, move.to_square)


def _back_rank_mate(board: chess.Board) -> bool:
    """``board`` is checkmate; the mated king is on its back rank, boxed in by its own pieces."""
    loser = board.turn
    king = board.king(loser)
    if king is None:
        return False
    back = 0 if loser == chess.WHITE else 7
    if chess.square_rank(king) != back:
        return False
    checkers = board.checkers()
    if not checkers or any(chess.square_rank(c) != back for c in checkers):
        return False
    if any(board.piece_at(c).piece_type not in (chess.ROOK, chess.QUEEN) for c in checkers):  # type: ignore[union-attr]
        return False
    forward = 1 if loser == chess.WHITE else -1
    for df in (-1, 0, 1):
        f = chess.square_file(king) + df
        if 0 <= f <= 7:
            p = board.piece_at(chess.square(f, back + forward))
            if p is None or p.color != loser:
                return False
    return True


def _smothered_mate(board: chess.Board) -> bool:
    loser = board.turn
    king = board.king(loser)
    checkers = board.checkers()
    if king is None or len(checkers) != 1 or board.piece_at(next(iter(checkers))).piece_type != chess.KNIGHT:  # type: ignore[union-attr]
        return False
    return all((p := board.piece_at(sq)) is not None and p.color == loser for sq in chess.SquareSet(chess.BB_KING_ATTACKS[king]))


def material_balance(board: chess.Board, color: chess.Color) -> int:
    """The side's material minus the other's, in pawns (kings not counted)."""
    return sum(VALUES[p.piece_type] * (1 if p.color == color else -1)
               for p in board.piece_map().values() if p.piece_type != chess.KING)  # fmt: skip


SACRIFICE_DEFICIT = 2
"""Material (pawns) the solver is down against the puzzle's start, after a later solver move, for
a ``sacrifice``: the domain notes' rule for Lichess's tag."""


def _attraction(board: chess.Board, moves: Sequence[chess.Move]) -> bool:
    """``board`` is the puzzle's start (setup move played), ``moves`` the line from the solver's
    first move. A solver move is taken on its square by the opponent's king, queen or rook (the
    piece is lured there); the solver's next move brings a piece that attacks that square, and
    either the lured piece is the king or the solver captures on the square with its move after."""
    positions = []
    board = board.copy(stack=False)
    for move in moves:
        positions.append(board.copy(stack=False))
        board.push(move)
    positions.append(board)
    solver = positions[0].turn
    for k in range(0, len(moves) - 2, 2):
        lure, reply, follow = moves[k], moves[k + 1], moves[k + 2]
        lured = positions[k + 1].piece_at(reply.from_square)
        if reply.to_square != lure.to_square or lured is None or lured.piece_type not in (chess.KING, chess.QUEEN, chess.ROOK):
            continue
        if follow.to_square not in positions[k + 3].attackers(solver, reply.to_square):
            continue
        if lured.piece_type == chess.KING or (k + 4 < len(moves) and moves[k + 4].to_square == reply.to_square):
            return True
    return False


def derive_themes(fen: str, moves: Sequence[str], *, cp: int | None = None) -> tuple[str, ...]:
    """Themes of a Lichess-style line (``moves[0]`` is the setup move), sorted."""
    board = chess.Board(fen)
    setup = chess.Move.from_uci(moves[0])
    board.push(setup)
    start = board.copy(stack=False)
    solver = board.turn
    material_start = material_balance(board, solver)
    tags: set[str] = set()
    n_solver = (len(moves)) // 2
    for i, uci in enumerate(moves[1:]):
        move = chess.Move.from_uci(uci)
        mine = i % 2 == 0
        if mine:
            if i == 0 and _hanging_capture(board, move, setup):
                tags.add("hangingPiece")
            if board.is_castling(move):
                tags.add("castling")
            if board.is_en_passant(move):
                tags.add("enPassant")
            if move.promotion:
                tags.add("promotion")
                if move.promotion != chess.QUEEN:
                    tags.add("underPromotion")
            piece = board.piece_at(move.from_square)
            if piece and piece.piece_type == chess.PAWN:
                rank = chess.square_rank(move.to_square) if solver == chess.WHITE else 7 - chess.square_rank(move.to_square)
                if rank >= 5:
                    tags.add("advancedPawn")
            quiet = not board.is_capture(move) and not board.gives_check(move) and not move.promotion
        board.push(move)
        if mine:
            # After the solver's second or later move: the opponent has taken what was offered,
            # and the solver has not yet won it back.
            if i >= 2 and not move.promotion and material_balance(board, solver) - material_start <= -SACRIFICE_DEFICIT:
                tags.add("sacrifice")
            if _is_fork(board, move):
                tags.add("fork")
            if quiet and i + 1 < len(moves) - 1 and not board.is_check():
                tags.add("quietMove")
    if _attraction(start, [chess.Move.from_uci(u) for u in moves[1:]]):
        tags.add("attraction")
    if board.is_checkmate():
        tags.add("mate")
        tags.add(f"mateIn{min(n_solver, 5)}")
        if _back_rank_mate(board):
            tags.add("backRankMate")
        if _smothered_mate(board):
            tags.add("smotheredMate")
    elif cp is not None:
        tags.add("crushing" if cp > 600 else "advantage" if cp > 200 else "equality")
    tags.add({1: "oneMove", 2: "short", 3: "long"}.get(n_solver, "veryLong"))
    tags.add(phase(start))
    eg = _endgame_type(start)
    if eg and phase(start) == "endgame":
        tags.add(eg)
    return tuple(sorted(tags))
