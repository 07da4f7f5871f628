"""The starter suite: mates in one and two, found and *proved* by exhaustive search, in positions
from games chesseval plays against itself. No engine and no third-party data are needed.

Every puzzle's solution is unique: a mate in one has exactly one mating move; a mate in two has
exactly one first move after which every reply allows mate, and no mate in one exists. The
opponent's reply recorded in a mate in two is the one that leaves the fewest mating answers.

The puzzles are unrated (a later, mined and rated suite replaces this one as the default).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import chess

from chesseval.core.puzzles import Puzzle, RatingSource
from chesseval.providers.search import PIECE_VALUES, material

__all__ = ["selfplay_game", "mating_moves", "forced_mate_in_two", "find_puzzle", "build_starter"]


def mating_moves(board: chess.Board) -> list[chess.Move]:
    """Every legal move that checkmates at once."""
    out = []
    for move in board.legal_moves:
        if not board.gives_check(move):  # cheap filter: mate needs check
            continue
        board.push(move)
        if board.is_checkmate():
            out.append(move)
        board.pop()
    return out


def _forces_mate_in_one(board: chess.Board, move: chess.Move) -> tuple[bool, list[tuple[chess.Move, int]]]:
    """After ``move``, does every reply allow a mate in one? Returns (forced, [(reply, n mates)])."""
    board.push(move)
    try:
        if board.is_game_over():
            return False, []  # mate (then it's a mate in one) or stalemate/draw
        replies = []
        for reply in board.legal_moves:
            board.push(reply)
            n = len(mating_moves(board))
            board.pop()
            if n == 0:
                return False, []
            replies.append((reply, n))
        return True, replies
    finally:
        board.pop()


def forced_mate_in_two(board: chess.Board) -> list[tuple[chess.Move, list[tuple[chess.Move, int]]]]:
    """Every first move that forces mate on the next move (exhaustive over all replies)."""
    out = []
    for move in board.legal_moves:
        forced, replies = _forces_mate_in_one(board, move)
        if forced:
            out.append((move, replies))
    return out


def selfplay_game(rng: random.Random, max_plies: int = 160) -> list[chess.Move]:
    """A game between two noisy one-ply players: greedy on material, often random.

    Crude on purpose: blunders are what make mates appear.
    """
    board = chess.Board()
    moves: list[chess.Move] = []
    while not board.is_game_over() and len(moves) < max_plies:
        legal = sorted(board.legal_moves, key=lambda m: m.uci())
        if rng.random() < 0.35:
            move = rng.choice(legal)
        else:
            def gain(m: chess.Move) -> int:
                board.push(m)
                score = -material(board, board.turn) + (PIECE_VALUES[chess.QUEEN] * 10 if board.is_checkmate() else 0)
                board.pop()
                return score
            best = max(gain(m) for m in legal)
            move = rng.choice([m for m in legal if gain(m) == best])
        board.push(move)
        moves.append(move)
    return moves


def find_puzzle(before: chess.Board, setup: chess.Move, *, mate_in_two: bool = True) -> tuple[list[chess.Move], str] | None:
    """A proved unique mate puzzle after the opponent's ``setup`` move, or None.

    Returns (solution line after the setup move, theme).
    """
    board = before.copy()
    board.push(setup)
    if board.is_game_over():
        return None
    mates = mating_moves(board)
    if len(mates) == 1:
        return [mates[0]], "mateIn1"
    if mates or not mate_in_two:
        return None
    # Only positions with a check available are worth the exhaustive search: a quiet first move
    # that forces mate in two exists, but is rare in these games and very costly to prove.
    forced = forced_mate_in_two(board)
    if len(forced) != 1:
        return None
    first, replies = forced[0]
    reply = min(replies, key=lambda rn: (rn[1], rn[0].uci()))[0]
    after = board.copy()
    after.push(first)
    after.push(reply)
    finish = sorted(mating_moves(after), key=lambda m: m.uci())[0]
    return [first, reply, finish], "mateIn2"


def _positions(seed: int) -> Iterator[tuple[int, int, chess.Board, chess.Move]]:
    rng = random.Random(seed)
    game_no = 0
    while True:
        game_no += 1
        moves = selfplay_game(rng)
        board = chess.Board()
        for ply, move in enumerate(moves):
            yield game_no, ply, board.copy(stack=False), move
            board.push(move)


def build_starter(count: int = 120, *, seed: int = 1, mate_in_two_share: float = 0.5, max_games: int = 5000) -> list[Puzzle]:
    """Play games until ``count`` unique-solution mate puzzles are found (about half mates in two)."""
    want_two = int(count * mate_in_two_share)
    want_one = count - want_two
    ones: list[Puzzle] = []
    twos: list[Puzzle] = []
    seen: set[str] = set()
    for game_no, ply, before, setup in _positions(seed):
        if game_no > max_games or (len(ones) >= want_one and len(twos) >= want_two):
            break
        need_two = len(twos) < want_two
        found = find_puzzle(before, setup, mate_in_two=need_two)
        if found is None:
            continue
        line, theme = found
        bucket = ones if theme == "mateIn1" else twos
        if bucket is ones and len(ones) >= want_one:
            continue
        key = before.board_fen() + setup.uci()
        if key in seen:
            continue
        seen.add(key)
        length = "oneMove" if theme == "mateIn1" else "short"
        after = before.copy(stack=False)
        after.push(setup)
        bucket.append(
            Puzzle(
                id=f"s{seed}g{game_no}p{ply}",
                fen=before.fen(),
                moves=(setup.uci(), *(m.uci() for m in line)),
                themes=tuple(sorted({theme, "mate", length})),
                game_url=f"chesseval-selfplay:seed={seed}:game={game_no}#{ply + 1}",
                rating_source=RatingSource.NONE,
            )
        )
    return ones + twos
