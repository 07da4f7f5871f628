"""Engine self-play games to mine puzzles from, with no download.

Play is deliberately imperfect so that tactics arise at many levels, the way they do in club games:
most moves come from a *shallow* Stockfish search (depth 1 to a per-side maximum of 1–5), which
walks into tactics deeper than it can see; some moves come from the full evaluation search (the
side plays well for a while); a few are uniformly random blunders; and in balanced positions a side
sometimes sets a *trap* for itself: it tries legal moves in a seeded random order and plays the
first one after which the opponent has a puzzle by the miner's own rules at the small evaluation
budget (engine games rarely blunder into forced tactics on their own, so without this almost no
game yields a puzzle). Each game starts with a random opening (a few plies sampled from the top
moves), and each side gets its own style.

Every position is also searched at a fixed node budget (``eval_nodes``); that evaluation is written
as a Lichess-style ``[%eval …]`` comment, so the miner finds the swings without scanning the game
again. Games are adjudicated once one side is clearly winning for a few plies: a won position
yields few puzzles, and a new game gives a new opening.

Reproducible from the seed: game ``i`` uses ``random.Random(f"{seed}:{i}")``, one engine thread,
node or depth limits and a fresh hash for every search, so games do not depend on each other or on
the worker count.
"""

from __future__ import annotations

import dataclasses
import io
import random
from collections.abc import Callable

import chess
import chess.engine
import chess.pgn

from chesseval.mining import LineBuilder, MiningConfig, open_engine

__all__ = ["SelfPlayConfig", "play_game", "play_games"]


@dataclasses.dataclass(frozen=True)
class SelfPlayConfig:
    eval_nodes: int = 8_000
    """Node limit of the evaluation search made in every position (recorded as %eval)."""
    max_depth: tuple[int, int] = (1, 5)
    """Per side, the deepest shallow search is drawn from this range."""
    strong_rate: tuple[float, float] = (0.1, 0.5)
    """Per side, the share of moves taken from the full evaluation search."""
    blunder_rate: tuple[float, float] = (0.0, 0.05)
    """Per side, the share of uniformly random legal moves."""
    trap_rate: tuple[float, float] = (0.3, 0.8)
    """Per side, the share of moves in a balanced position that walk into a tactic on purpose."""
    trap_tries: int = 20
    """Legal moves tried per trap (in a seeded random order)."""
    max_plies: int = 160
    opening_plies: tuple[int, int] = (2, 8)
    resign_cp: int = 800
    """Adjudicate once the eval stays beyond this for ``resign_plies`` plies in a row."""
    resign_plies: int = 8
    threads: int = 1
    hash_mb: int = 16
    time_cap: float = 30.0
    engine_path: str | None = None


def _trap(engine: chess.engine.SimpleEngine, board: chess.Board, rng: random.Random, config: SelfPlayConfig,
          key: object) -> chess.Move | None:
    """A move after which the opponent has a puzzle by the miner's own rules, at a small budget.

    This is how a human blunder looks: a natural-looking move that allows a forced tactic. The
    miner later checks the same thing at its own, larger budget, so a trap found here is only a
    candidate, and the game goes on normally afterwards.
    """
    builder = LineBuilder(engine, MiningConfig(nodes=config.eval_nodes, time_cap=config.time_cap), game_key=key)
    legal = sorted(board.legal_moves, key=chess.Move.uci)
    rng.shuffle(legal)
    for move in legal[: config.trap_tries]:
        board.push(move)
        try:
            if board.is_game_over():
                continue
            pair = builder.analyse(board, board.turn, multipv=2)
            if not pair or pair[0].score < chess.engine.Cp(200) or not builder.is_only_move(board, pair):
                continue
            mate = pair[0].score.mate()
            line = builder.build_mate(board) if mate is not None and mate > 0 else builder.build_advantage(board)
            if line is not None:
                return move
        finally:
            board.pop()
    return None


def play_game(engine: chess.engine.SimpleEngine, config: SelfPlayConfig, seed: int, index: int) -> chess.pgn.Game:
    rng = random.Random(f"{seed}:{index}")
    board = chess.Board()
    game = chess.pgn.Game()
    game.headers["Event"] = "chesseval self-play"
    game.headers["Site"] = f"chesseval:selfplay/seed{seed}/game{index + 1}"
    game.headers["Round"] = str(index + 1)
    style = {}
    for color in (chess.WHITE, chess.BLACK):
        style[color] = (rng.randint(*config.max_depth), rng.uniform(*config.strong_rate), rng.uniform(*config.blunder_rate),
                        rng.uniform(*config.trap_rate))
        game.headers["White" if color else "Black"] = (
            f"stockfish depth<={style[color][0]} strong={style[color][1]:.2f} blunder={style[color][2]:.2f} "
            f"trap={style[color][3]:.2f}")
    n_open = rng.randint(*config.opening_plies)
    node: chess.pgn.GameNode = game
    lopsided = 0
    result = "*"
    for ply in range(config.max_plies):
        if board.is_game_over(claim_draw=True):
            result = board.result(claim_draw=True)
            break
        max_depth, strong, blunder, trap = style[board.turn]
        opening = ply < n_open
        # Every search gets its own key, hence a fresh hash: the shallow player must not read the
        # deeper evaluation search out of the transposition table.
        infos = engine.analyse(board, chess.engine.Limit(nodes=config.eval_nodes, time=config.time_cap),
                               multipv=4 if opening else 1, game=("eval", seed, index, ply))
        evaluation = infos[0]["score"]
        if node is not game:
            node.set_eval(evaluation)  # eval of the position after this node's move
        roll = rng.random()
        rel = evaluation.relative
        trap_move = None
        if not opening and rel.mate() is None and abs(rel.score() or 0) < 200 and rng.random() < trap:
            trap_move = _trap(engine, board, rng, config, ("trap", seed, index, ply))
        if opening:
            move = rng.choice([i["pv"][0] for i in infos if i.get("pv")])
        elif trap_move is not None:
            move = trap_move
        elif roll < blunder:
            move = rng.choice(sorted(board.legal_moves, key=chess.Move.uci))
        elif roll < blunder + strong:
            move = infos[0]["pv"][0]
        else:
            depth = rng.randint(1, max_depth)
            shallow = engine.analyse(board, chess.engine.Limit(depth=depth, nodes=20_000, time=config.time_cap),
                                     game=("move", seed, index, ply))
            move = shallow["pv"][0] if shallow.get("pv") else infos[0]["pv"][0]
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
