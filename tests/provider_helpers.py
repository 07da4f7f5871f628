"""Shared helpers for the provider tests: a puzzle turn, a player wired to the scripted server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from chesseval.core.players import Turn
from chesseval.providers import create_player
from chesseval.providers.base import HttpPlayer
from chesseval.core.puzzles import Puzzle
from chesseval.providers.retry import RetryPolicy

T = TypeVar("T")

# Lichess puzzle 00008 (https://lichess.org/training/00008).
PUZZLE = Puzzle(
    id="00008",
    fen="r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7K b - - 0 24",
    moves=("f2g3", "e6e7", "b2b1", "b3c1", "b1c1", "h6c1"),
    rating=1913,
)

FAKE_KEY = "sk-test-FAKEKEY-0123456789abcdef"


def turn(text: str = "Find the best move.", *, system: str | None = "You solve chess puzzles.", seed: int = 0) -> Turn:
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": text})
    return Turn(messages=tuple(messages), board=PUZZLE.board(), puzzle=PUZZLE, index=0, seed=seed)  # type: ignore[arg-type]


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def make_player(model: str, server_url: str, *, policy: RetryPolicy | None = None, **options: Any) -> HttpPlayer:
    """A provider player pointed at the scripted server, with a no-sleep retry policy."""
    opts: dict[str, Any] = {"cache": False, "attempt_timeout": 2.0, "api_key": FAKE_KEY}
    provider = model.split("/", 1)[0]
    if provider in ("openai", "openai-api", "ollama", "vllm", "llamacpp", "openrouter"):
        opts["base_url"] = server_url + "/v1"
    else:
        opts["base_url"] = server_url
    opts.update(options)
    player = create_player(model, opts)
    assert isinstance(player, HttpPlayer)
    player.retry_policy = policy or RetryPolicy.no_wait(max_retries=3, timeout=30.0)
    return player


async def play_once(player: HttpPlayer, t: Turn | None = None):  # type: ignore[no-untyped-def]
    try:
        return await player.play(t or turn())
    finally:
        await player.aclose()
