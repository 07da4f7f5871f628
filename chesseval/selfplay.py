"""Engine self-play games to mine puzzles from, with no download.

Play is deliberately imperfect so that tactics arise at many levels: each game gets its own
random opening (a few sampled moves), each side gets its own node budget range and "sloppiness",
and every move is sampled from the engine's top moves (MultiPV) with a softmax over win chances,
plus an occasional outright blunder (a uniformly chosen move from the top list). Every move's
search also gives the eval of the position it was played from, which is written as a Lichess-style
``[%eval …]`` comment so that the miner does not have to scan the game again.

Reproducible from the seed: game ``i`` uses ``random.Random(f"{seed}:{i}")``, one engine thread,
node limits and a fresh hash per game, so games do not depend on each other or on the worker count.
"""

from __future__ import annotations

import dataclasses
import io
import math
import random
from collections.abc import Callable

import chess
import chess.engine
import chess.pgn

from chesseval.mining import open_engine, win_chances

__all__ = ["SelfPlayConfig", "play_game", "play_games"]


@dataclasses.dataclass(frozen=True)
class SelfPlayConfig:
    min_nodes: int = 8_000
    max_nodes: int = 60_000
    multipv: int = 3
    max_blunder_rate: float = 0.05
    """Per side, a blunder rate is drawn from [0, this]: a blunder is a uniformly random legal move."""
    oversight_rate: tuple[float, float] = (0.1, 0.4)
    """Per side, the share of moves chosen by a shallow search (range to draw from)."""
    oversight_depth: tuple[int, int] = (1, 4)
    max_plies: int = 160
    opening_plies: tuple[int, int] = (2, 8)
    resign_cp: int = 1500
    """Adjudicate once the eval stays beyond this many plies in a row: won games yield no puzzles."""
    resign_plies: int = 10
    threads: int = 1
    hash_mb: int = 16
    time_cap: float = 30.0
    engine_path: str | None = None


def _choose(rng: random.Random, board: chess.Board, cands: list[tuple[chess.Move, chess.engine.Score]], tau: float, blunder: float) -> chess.Move:
    if rng.random() < blunder:
        return rng.choice(sorted(board.legal_moves, key=chess.Move.uci))
    best = win_chances(cands[0][1])
    weights = [math.exp(-(best - win_chances(s)) * 50.0 / tau) for _, s in cands]
    return rng.choices([m for m, _ in cands], weights=weights)[0]


def play_game(engine: chess.engine.SimpleEngine, config: SelfPlayConfig, seed: int, index: int) -> chess.pgn.Game:
    rng = random.Random(f"{seed}:{index}")
    key = ("selfplay", seed, index)
    board = chess.Board()
    game = chess.pgn.Game()
    game.headers["Event"] = "chesseval self-play"
    game.headers["Site"] = f"chesseval:selfplay/seed{seed}/game{index + 1}"
    game.headers["Round"] = str(index + 1)
    # Each side's style for the whole game: a node range (log-uniform), a softmax temperature in
    # win-percentage points, and a blunder rate.
    style = {}
    for color in (chess.WHITE, chess.BLACK):
        lo = math.exp(rng.uniform(math.log(config.min_nodes), math.log(config.max_nodes)))
        style[color] = (lo, rng.uniform(1.0, 10.0), rng.uniform(0.0, config.max_blunder_rate),
                        rng.uniform(*config.oversight_rate))
        name = "White" if color else "Black"
        game.headers[name] = (f"stockfish nodes~{int(lo)} tau={style[color][1]:.1f} blunder={style[color][2]:.2f} "
                              f"oversight={style[color][3]:.2f}")
    n_open = rng.randint(*config.opening_plies)
    node: chess.pgn.GameNode = game
    lopsided = 0
    result = "*"
    for ply in range(config.max_plies):
        if board.is_game_over(claim_draw=True):
            result = board.result(claim_draw=True)
            break
        lo, tau, blunder, oversight = style[board.turn]
        nodes = int(lo * math.exp(rng.uniform(-0.7, 0.7)))
        opening = ply < n_open
        infos = engine.analyse(board, chess.engine.Limit(nodes=max(nodes, 500), time=config.time_cap),
                               multipv=5 if opening else config.multipv, game=key)
        cands = [(i["pv"][0], i["score"].relative) for i in infos if i.get("pv")]
        evaluation = infos[0]["score"]
        if node is not game:
            node.set_eval(evaluation)  # eval of the position after this node's move
        if opening:
            move = rng.choice(cands)[0]
        elif rng.random() < oversight:
            # A shallow look, as a hurried player would: it walks into tactics deeper than its depth.
            depth = rng.randint(*config.oversight_depth)
            # A fresh hash (new game key): otherwise the deep search just done would answer for it.
            shallow = engine.analyse(board, chess.engine.Limit(depth=depth, nodes=5_000, time=config.time_cap),
                                     game=("shallow", seed, index, ply))
            move = shallow["pv"][0] if shallow.get("pv") else cands[0][0]
        else:
            move = _choose(rng, board, cands, tau, blunder)
        rel = evaluation.relative
        if rel.mate() is not None or abs(rel.score() or 0) >= config.resign_cp:
            lopsided += 1
        else:
            lopsided = 0
        if lopsided >= config.resign_plies and ply > n_open:
            winning = rel > chess.engine.Cp(0)
            result = "1-0" if (board.turn == chess.WHITE) == winning else "0-1"
            break
        node = node.add_variation(move)
        board.push(move)
    else:
        result = "1/2-1/2"
    game.headers["Result"] = result
    return game


def _export(game: chess.pgn.Game) -> str:
    return game.accept(chess.pgn.StringExporter(headers=True, variations=False, comments=True))


_WORKER: dict[str, object] = {}


def _init(config: SelfPlayConfig) -> None:
    _WORKER["engine"] = open_engine(config.engine_path, threads=config.threads, hash_mb=config.hash_mb)
    _WORKER["config"] = config


def _play(job: tuple[int, int]) -> str:
    seed, index = job
    engine, config = _WORKER["engine"], _WORKER["config"]
    assert isinstance(engine, chess.engine.SimpleEngine) and isinstance(config, SelfPlayConfig)
    return _export(play_game(engine, config, seed, index))


def play_games(n: int, seed: int, config: SelfPlayConfig, *, workers: int = 1, start: int = 0,
               progress: Callable[[int, int], object] | None = None) -> list[str]:
    """PGN texts of games ``start`` … ``start + n - 1`` for ``seed``, in order."""
    jobs = [(seed, i) for i in range(start, start + n)]
    out: list[str] = []
    if workers <= 1:
        _init(config)
        try:
            for k, job in enumerate(jobs):
                out.append(_play(job))
                if progress:
                    progress(k + 1, n)
        finally:
            engine = _WORKER.pop("engine")
            assert isinstance(engine, chess.engine.SimpleEngine)
            engine.quit()
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers, initializer=_init, initargs=(config,)) as pool:
            for k, text in enumerate(pool.imap(_play, jobs, chunksize=1)):
                out.append(text)
                if progress:
                    progress(k + 1, n)
    return out


def read_pgn_text(text: str) -> chess.pgn.Game | None:
    return chess.pgn.read_game(io.StringIO(text))
