"""A small fixed-depth alpha-beta search written with python-chess: a look-ahead reference.

It needs no engine binary, so "this model solves puzzles like a 2-ply search" can be said on any
machine. The evaluation is deliberately plain (material, plus mate distance) so that the depth is
the only thing that varies along the ladder.
"""

from __future__ import annotations

import chess

__all__ = ["PIECE_VALUES", "MATE_SCORE", "material", "search", "best_move"]

PIECE_VALUES = {chess.PAWN: 100, chess.KNIGHT: 300, chess.BISHOP: 300, chess.ROOK: 500, chess.QUEEN: 900, chess.KING: 0}
MATE_SCORE = 100_000


def material(board: chess.Board, color: chess.Color) -> int:
    """Material balance in centipawns from ``color``'s point of view."""
    score = 0
    for piece_type, value in PIECE_VALUES.items():
        score += value * (len(board.pieces(piece_type, color)) - len(board.pieces(piece_type, not color)))
    return score


def _ordered(board: chess.Board) -> list[chess.Move]:
    # Captures (most valuable victim first) and promotions before quiet moves: alpha-beta prunes
    # far more with a good order. Ties keep UCI order so the search is deterministic.
    def key(move: chess.Move) -> tuple[int, str]:
        victim = board.piece_type_at(move.to_square)
        gain = PIECE_VALUES.get(victim, 0) if victim else (100 if board.is_en_passant(move) else 0)
        if move.promotion:
            gain += PIECE_VALUES[move.promotion]
        if board.gives_check(move):
            gain += 50
        return (-gain, move.uci())

    return sorted(board.legal_moves, key=key)


def _negamax(board: chess.Board, depth: int, alpha: int, beta: int, ply: int, counter: list[int]) -> int:
    counter[0] += 1
    if board.is_checkmate():
        return -MATE_SCORE + ply
    if board.is_stalemate() or board.is_insufficient_material() or board.halfmove_clock >= 100:
        return 0
    if depth == 0:
        return material(board, board.turn)
    best = -MATE_SCORE - 1
    for move in _ordered(board):
        board.push(move)
        score = -_negamax(board, depth - 1, -beta, -alpha, ply + 1, counter)
        board.pop()
        if score > best:
            best = score
        if best > alpha:
            alpha = best
        if alpha >= beta:
            break
    return best


def search(board: chess.Board, depth: int) -> tuple[chess.Move | None, int, int]:
    """Search ``depth`` plies; return (best move, score in centipawns for the side to move, nodes)."""
    if depth < 1:
        raise ValueError(f"search depth must be at least 1, got {depth!r}")
    board = board.copy(stack=False)
    counter = [0]
    best_move: chess.Move | None = None
    alpha, beta = -MATE_SCORE - 1, MATE_SCORE + 1
    best = -MATE_SCORE - 1
    for move in _ordered(board):
        board.push(move)
        score = -_negamax(board, depth - 1, -beta, -alpha, 1, counter)
        board.pop()
        if score > best:
            best, best_move = score, move
        if best > alpha:
            alpha = best
    return best_move, best, counter[0]


def best_move(board: chess.Board, depth: int) -> chess.Move | None:
    """The move a ``depth``-ply search plays (None when there is no legal move)."""
    return search(board, depth)[0]
