"""The ``engine/stockfish`` reference player, against the real Stockfish."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chesseval.errors import ConfigError
from chesseval.core.players import Player, Turn
from chesseval.providers import create_player
from chesseval.core.puzzles import Puzzle

MATE_IN_1 = Puzzle(id="m1", fen="6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", moves=("a1a8",), has_setup_move=False)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "exactly one of"),
        ({"nodes": "10", "depth": "2"}, "exactly one of"),
        ({"nodes": "ten"}, "nodes='ten'"),
        ({"movetime": "0"}, "movetime='0'"),
        ({"UCI_LimitStrength": "true", "nodes": "10"}, "refuses"),
        ({"Skill Level": "3", "nodes": "10"}, "refuses"),
        ({"uci_elo": "1500", "nodes": "10"}, "refuses"),
        ({"ponder": "1", "nodes": "10"}, "'ponder'"),
    ],
)
def test_bad_options_fail_before_any_engine_starts(options: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        create_player("engine/stockfish", options)


def test_unknown_engine_name() -> None:
    with pytest.raises(ConfigError, match="'komodo'"):
        create_player("engine/komodo", {"nodes": "1"})


@pytest.mark.stockfish
@pytest.mark.parametrize("options", [{"nodes": "1000"}, {"depth": "3"}, {"movetime": "0.05"}])
def test_player_answers_in_san(stockfish_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, str]) -> None:
    monkeypatch.setenv("CHESSEVAL_STOCKFISH", stockfish_path)
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path))
    player = create_player("engine/stockfish", {**options, "processes": "1", "temperature": "0"})
    assert isinstance(player, Player) and player.name == "engine/stockfish"

    async def go() -> str:
        try:
            reply = await player.play(Turn(messages=(), board=MATE_IN_1.board(), puzzle=MATE_IN_1, index=0))
            return reply.text
        finally:
            await player.aclose()

    assert asyncio.run(go()) == "Answer: Ra8#"
    described = player.describe()
    assert described["engine_id"].startswith("Stockfish") and described["limit"]["time"] > 0


@pytest.mark.stockfish
@pytest.mark.parametrize(("options", "newgames"), [({"movetime": "0.02"}, 2), ({"nodes": "2000"}, 4)])
def test_timed_play_keeps_the_hash_within_a_puzzle(stockfish_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   options: dict[str, str], newgames: int) -> None:
    # A wrapper logs what the engine is told: a timed player keeps one game per puzzle (one
    # ucinewgame per puzzle, the hash carries over between its moves); a node limit starts every
    # search afresh so that its results stay cacheable.
    log = tmp_path / "uci.log"
    wrapper = tmp_path / "stockfish.sh"
    wrapper.write_text(f'#!/bin/bash\nexec "{stockfish_path}" < <(tee -a "{log}")\n', encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setenv("CHESSEVAL_STOCKFISH", str(wrapper))
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path / "cache"))
    player = create_player("engine/stockfish", {**options, "processes": "1"})
    a = Puzzle(id="a", fen="r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/5Q2/PPPP1PPP/RNB1K1NR w KQkq - 2 3", moves=("f3f7",), has_setup_move=False)
    b = Puzzle(id="b", fen="rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2", moves=("g1f3",), has_setup_move=False)

    async def go() -> None:
        try:
            for puzzle in (a, b):
                board = puzzle.board()
                for index in range(2):  # two solver moves of one puzzle
                    await player.play(Turn(messages=(), board=board.copy(), puzzle=puzzle, index=index))
                    board.push(next(iter(board.legal_moves)))
                    board.push(next(iter(board.legal_moves)))
        finally:
            await player.aclose()

    asyncio.run(go())
    sent = log.read_text(encoding="utf-8").splitlines()
    assert sum(line == "ucinewgame" for line in sent) == newgames
    assert sum(line.startswith("go ") for line in sent) == 4
