"""The player seam: one async interface for built-in players, engines and HTTP model providers.

A player gets a :class:`Turn` (the whole conversation so far, plus the board for players that
read it directly) and returns a :class:`Reply`. A reply is *data*: an empty answer, a refusal or a
truncated answer are replies with a ``stop_reason``; only a call that failed after every retry
raises :class:`~chesseval.errors.ModelError`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

import chess

from chesseval.core.puzzles import Puzzle

__all__ = ["Message", "Turn", "Usage", "Reply", "Player", "StopReason"]


class Message(TypedDict):
    """One chat message, in the wire shape every provider maps from."""

    role: Literal["system", "user", "assistant"]
    content: str


class StopReason:
    """Why generation ended (plain strings so records stay JSON)."""

    STOP = "stop"
    MAX_TOKENS = "max_tokens"
    """The token budget ran out (often all spent on reasoning): an ``empty`` verdict if no text."""
    CONTENT_FILTER = "content_filter"
    REFUSAL = "refusal"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True)
class Turn:
    """What a player is asked: the conversation so far and, for local players, the position."""

    messages: tuple[Message, ...]
    board: chess.Board
    """A copy of the position the answer must be a move in (the player may not keep it)."""
    puzzle: Puzzle
    index: int
    """Which solver move is asked for: 0 for the first."""
    seed: int = 0
    """Per-run seed; players that sample derive their randomness from (seed, puzzle, index)."""


@dataclasses.dataclass(frozen=True)
class Usage:
    """Token counts of one call; None where the provider did not say."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None

    def __add__(self, other: Usage) -> Usage:
        def add(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return Usage(
            add(self.input_tokens, other.input_tokens),
            add(self.output_tokens, other.output_tokens),
            add(self.reasoning_tokens, other.reasoning_tokens),
            add(self.cached_tokens, other.cached_tokens),
        )

    def to_dict(self) -> dict[str, int | None]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Reply:
    """A player's answer to one turn."""

    text: str
    """The answer text ('' when the model returned no content)."""
    stop_reason: str = StopReason.STOP
    usage: Usage = dataclasses.field(default_factory=Usage)
    latency_s: float = 0.0
    retries: int = 0
    """How many failed attempts preceded this answer."""
    cost_usd: float | None = None
    cached: bool = False
    """Served from the response cache: no call was made."""
    refusal: str | None = None
    """The provider's refusal text, when it returned one instead of content."""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Provider-specific details worth keeping in the record (e.g. the response id)."""


@runtime_checkable
class Player(Protocol):
    """Anything that can answer a puzzle turn: built-in players, engines, HTTP providers."""

    @property
    def name(self) -> str:
        """``provider/model``, as given on the command line."""
        ...

    def describe(self) -> dict[str, Any]:
        """Settings to record in ``run.json``; never a secret."""
        ...

    async def play(self, turn: Turn) -> Reply:
        """Answer one turn. Raises :class:`~chesseval.errors.ModelError` only when the call failed."""
        ...

    async def aclose(self) -> None:
        """Release connections or processes."""
        ...
