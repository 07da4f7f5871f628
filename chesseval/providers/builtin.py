"""Built-in players that need no network and no key: ``builtin/oracle``, ``builtin/random``,
``builtin/search``.

They sit *above* the client boundary (they read the board from the :class:`Turn`), so they test
the harness, not the HTTP clients. The oracle writes the solution in many notations and wraps it
in prose with decoy moves, so a perfect score proves the parser reads the committed move.
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

import chess

from chesseval.errors import ConfigError
from chesseval.core.players import Reply, Turn
from chesseval.providers.search import search

__all__ = ["OraclePlayer", "RandomPlayer", "SearchPlayer", "create", "turn_rng", "answer_move"]


def turn_rng(seed: int, puzzle_id: str, index: int) -> random.Random:
    """A random generator that depends only on (seed, puzzle, turn): resumable and order-free."""
    digest = hashlib.sha256(f"{seed}:{puzzle_id}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


_FIGURINES = {"K": "♔", "Q": "♕", "R": "♖", "B": "♗", "N": "♘"}


def _figurine(san: str) -> str:
    return "".join(_FIGURINES.get(c, c) for c in san[:1]) + san[1:]


def _move_number(board: chess.Board) -> str:
    return f"{board.fullmove_number}." if board.turn == chess.WHITE else f"{board.fullmove_number}..."


def _notations(board: chess.Board, move: chess.Move) -> list[str]:
    """Ways people and models write one move; each must parse back to ``move``."""
    san = board.san(move)
    lan = board.lan(move)
    uci = move.uci()
    forms = [san, uci, lan, f"{_move_number(board)} {san}", f"{_move_number(board)}{san}", _figurine(san)]
    bare = san.rstrip("+#")
    forms.append(bare)
    forms.append(san + "!")
    if "x" in san:
        forms.append(san.replace("x", "×"))
    if board.is_castling(move):
        forms.append(san.replace("O", "0"))
    if move.promotion:
        piece = chess.piece_symbol(move.promotion).upper()
        forms.append(san.replace(f"={piece}", f"({piece})"))
        forms.append(san.replace(f"={piece}", piece))
        forms.append(uci[:-1] + piece)
    if board.is_en_passant(move):
        forms.append(bare + " e.p.")
    if _b_pawn_clash(board, move):
        # "bxc3" also reads as a bishop capture when one is legal; chesseval calls that ambiguous
        # (issue #2: resolve a lowercase b only when one reading is legal), so write the file too.
        forms = [f for f in forms if not f.lstrip("0123456789. ").startswith("b")] or [lan, uci]
    return forms


def answer_move(board: chess.Board, move: chess.Move) -> str:
    """How reference players write their move: SAN, or long algebraic for a b-pawn capture that
    a bishop could also make (``bxc3`` is ambiguous by chesseval's reading rule)."""
    return board.lan(move) if _b_pawn_clash(board, move) else board.san(move)


def _b_pawn_clash(board: chess.Board, move: chess.Move) -> bool:
    if board.piece_type_at(move.from_square) != chess.PAWN or chess.square_file(move.from_square) != 1:
        return False
    return any(
        m.to_square == move.to_square and board.piece_type_at(m.from_square) == chess.BISHOP
        for m in board.legal_moves
    )


def _decoy(board: chess.Board, rng: random.Random, avoid: chess.Move) -> str | None:
    others = [m for m in board.legal_moves if m != avoid]
    return board.san(rng.choice(others)) if others else None


def _wrap(rng: random.Random, board: chess.Board, move_text: str, decoy: str | None, last: str | None) -> str:
    """Put the committed move in one of several answer shapes, with decoys before it."""
    lead = []
    if last:
        lead.append(f"The opponent just played {last}.")
    if decoy:
        lead.append(rng.choice([f"At first {decoy} looks tempting, but it fails.", f"Not {decoy}: that lets the opponent off the hook."]))
    prose = " ".join(lead)
    shapes = [
        f"{prose}\n\nAnswer: {move_text}",
        f"{prose}\nThe winning move is **{move_text}**.",
        f"{prose}\n\nFinal answer: `{move_text}`",
        f"{move_text}\n\n{prose}" if not decoy else f"{prose}\n{move_text}",
        f"{prose}\n\nMove: {move_text}",
        f"{prose}\nANSWER: {move_text}",
    ]
    return rng.choice(shapes).strip()


class OraclePlayer:
    """Plays the solution, written in varied notation inside prose. Solves 100% if parsing is right."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    @property
    def name(self) -> str:
        return "builtin/oracle"

    def describe(self) -> dict[str, Any]:
        return {"seed": self.seed}

    async def play(self, turn: Turn) -> Reply:
        start = time.perf_counter()
        board = turn.board
        move = board.parse_uci(turn.puzzle.solution[turn.index])
        rng = turn_rng(self.seed + turn.seed, turn.puzzle.id, turn.index)
        text = rng.choice(_notations(board, move))
        last = board.peek() if board.move_stack else None
        last_san = None
        if last is not None:
            prev = board.copy()
            prev.pop()
            last_san = prev.san(last)
        answer = _wrap(rng, board, text, _decoy(board, rng, move), last_san)
        return Reply(text=answer, latency_s=time.perf_counter() - start)

    async def aclose(self) -> None:
        return None


class RandomPlayer:
    """A uniformly random legal move, seeded per (seed, puzzle, turn): the floor of any table."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    @property
    def name(self) -> str:
        return "builtin/random"

    def describe(self) -> dict[str, Any]:
        return {"seed": self.seed}

    async def play(self, turn: Turn) -> Reply:
        start = time.perf_counter()
        rng = turn_rng(self.seed + turn.seed, turn.puzzle.id, turn.index)
        moves = sorted(turn.board.legal_moves, key=lambda m: m.uci())
        move = rng.choice(moves)
        return Reply(text=f"Answer: {answer_move(turn.board, move)}", latency_s=time.perf_counter() - start)

    async def aclose(self) -> None:
        return None


class SearchPlayer:
    """A fixed-depth alpha-beta search (material + mate), no engine binary: a look-ahead ladder."""

    def __init__(self, depth: int = 2) -> None:
        if not 1 <= depth <= 5:
            raise ConfigError(f"builtin/search depth must be 1..5, got {depth!r}")
        self.depth = depth

    @property
    def name(self) -> str:
        return "builtin/search"

    def describe(self) -> dict[str, Any]:
        return {"depth": self.depth}

    async def play(self, turn: Turn) -> Reply:
        start = time.perf_counter()
        move, score, nodes = search(turn.board, self.depth)
        if move is None:
            return Reply(text="", latency_s=time.perf_counter() - start)
        return Reply(
            text=f"Answer: {answer_move(turn.board, move)}",
            latency_s=time.perf_counter() - start,
            extra={"nodes": nodes, "score_cp": score},
        )

    async def aclose(self) -> None:
        return None


def _int_option(options: dict[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"model option {key}={value!r} is not a whole number") from None


_KNOWN = {"oracle": {"seed"}, "random": {"seed"}, "search": {"depth"}}
# Generation settings the CLI passes to every player; built-in players ignore them.
_IGNORED = {"temperature", "max_tokens", "reasoning_effort", "max_connections", "max_retries", "timeout", "attempt_timeout", "cache", "base_url"}


def create(name: str, options: dict[str, Any]) -> OraclePlayer | RandomPlayer | SearchPlayer:
    if name not in _KNOWN:
        raise ConfigError(f"unknown built-in player {name!r}; choose one of {sorted(_KNOWN)}")
    unknown = set(options) - _KNOWN[name] - _IGNORED - {"seed"}
    if unknown:
        raise ConfigError(f"builtin/{name} does not take option(s) {sorted(unknown)!r}")
    if name == "oracle":
        return OraclePlayer(seed=_int_option(options, "seed", 0))
    if name == "random":
        return RandomPlayer(seed=_int_option(options, "seed", 0))
    return SearchPlayer(depth=_int_option(options, "depth", 2))
