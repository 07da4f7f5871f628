"""The player seam: one async interface for built-in players, engines and HTTP model providers.

A player gets a :class:`Turn` (the whole conversation so far, plus the board for players that
read it directly) and returns a :class:`Reply`. A reply is *data*: an empty answer, a refusal or a
truncated answer are replies with a ``stop_reason``; only a call that failed after every retry
raises :class:`~chesseval.errors.ModelError`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import time
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

import chess

from chesseval.core.puzzles import Puzzle

__all__ = ["Message", "Turn", "Usage", "Reply", "Player", "StopReason", "player_name", "describe_player", "close_player", "CallMonitor", "CALL_MONITOR"]


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
    """Anything that can answer a puzzle turn: built-in players, engines, HTTP providers.

    Only ``async play(turn) -> Reply`` is required. A player may also have ``name`` (``provider/model``;
    default: its class name), ``describe()`` (settings for ``run.json``, never a secret; default:
    ``{"name": name, "class": module.Class}``) and ``async aclose()`` (release connections or
    processes; default: nothing). The runner reaches them only through :func:`player_name`,
    :func:`describe_player` and :func:`close_player`, which supply those defaults.
    """

    async def play(self, turn: Turn) -> Reply:
        """Answer one turn. Raises :class:`~chesseval.errors.ModelError` only when the call failed;
        any other exception is a bug in the player: recorded as ``Type: message``, and the run stops."""
        ...


def player_name(player: Player) -> str:
    name = getattr(player, "name", None)
    return name if isinstance(name, str) and name else type(player).__name__


def describe_player(player: Player) -> dict[str, Any]:
    describe = getattr(player, "describe", None)
    if callable(describe):
        return dict(describe())
    return {"name": player_name(player), "class": f"{type(player).__module__}.{type(player).__qualname__}"}


async def close_player(player: Player) -> None:
    aclose = getattr(player, "aclose", None)
    if callable(aclose):
        await aclose()


@dataclasses.dataclass
class CallMonitor:
    """Live counts of a run's model calls while they happen, for the progress line.

    The run loop puts one in :data:`CALL_MONITOR` for its tasks; the providers' retry policy
    reports each attempt and each backoff to it (an event per step, so the display never parses
    logs). Counters are only changed on the event loop's thread; a display thread just reads them.
    """

    attempts_in_flight: int = 0
    waiting: int = 0
    """Calls asleep in backoff before their next attempt."""
    attempts: int = 0
    retries: int = 0
    waited_s: float = 0.0
    last_error: str | None = None
    last_error_at: float | None = None
    """``time.monotonic()`` of the last failed attempt."""

    def attempt_started(self) -> None:
        self.attempts += 1
        self.attempts_in_flight += 1

    def attempt_ended(self, error: BaseException | None) -> None:
        self.attempts_in_flight -= 1
        if error is not None:
            self.last_error = str(error) or type(error).__name__
            self.last_error_at = time.monotonic()

    def backoff_started(self, seconds: float) -> None:
        self.retries += 1
        self.waited_s += seconds
        self.waiting += 1

    def backoff_ended(self) -> None:
        self.waiting -= 1


CALL_MONITOR: contextvars.ContextVar[CallMonitor | None] = contextvars.ContextVar("chesseval_call_monitor", default=None)
"""The monitor of the run whose task is current (None outside a run)."""
