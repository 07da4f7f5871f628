"""Engine self-play games to mine puzzles from, with no download.

Play is deliberately imperfect so that tactics arise at many levels, the way they do in club games:
most moves come from a *shallow* Stockfish search (depth 1 to a per-side maximum of 1–5), which
walks into tactics deeper than it can see; some moves come from the full evaluation search (the
side plays well for a while); and a few are uniformly random blunders.

Engine games rarely blunder into forced tactics on their own, so in balanced positions a side also
looks for *traps*: it tries legal moves in a seeded random order and keeps every one after which
the opponent has a puzzle by the miner's own rules at the small evaluation budget (a quick
MultiPV-2 search at ``trap_prefilter_nodes`` discards the many moves that leave no only-move first).
A trap is not played in the game: each one becomes a short *branch game* of its own (the position
one move before the trap, given as a FEN, then that move and the trap, with their evaluations),
and the main game goes on with its normal move. One balanced game thus yields many candidate
positions instead of ending, lopsided, after its first tactic. The miner treats branch games like
any other game and checks every candidate again at its own, larger budget.

Each game starts with a random opening (a few plies sampled from the top moves), and each side gets
its own style. Every position is also searched at a fixed node budget (``eval_nodes``); that
evaluation is written as a Lichess-style ``[%eval …]`` comment, so the miner finds the swings
without scanning the game again. Games are adjudicated once one side is clearly winning for a few
plies: a won position yields few puzzles, and a new game gives a new opening.

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

from chesseval.mining.miner import LineBuilder, MiningConfig, is_swing, open_engine

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
    trap_rate: tuple[float, float] = (0.5, 1.0)
    """Per side, the share of balanced positions in which the side looks for traps."""
    trap_tries: int = 40
    """Legal moves tried per trap search (in a seeded random order)."""
    trap_prefilter_nodes: int = 1_500
    """Node limit of the quick MultiPV-2 only-move test each tried move must pass first."""
    traps_per_position: int = 2
    """Stop a trap search after this many traps (several moves often allow the same tactic)."""
    branch_traps: bool = True
    """Traps become branch games; False plays the first trap found in the game itself (the
    earlier design, kept as the baseline of ``benchmarks/bench_selfplay.py``)."""
    take_back: bool = False
    """When a shallow or random move throws the game away (a swing the miner would look at), it
    becomes a branch game and is taken back, and the side plays its evaluation move instead: one
    game then yields every natural blunder its players make instead of ending after the first."""
    max_plies: int = 160
    opening_plies: tuple[int, int] = (2, 8)
    resign_cp: int = 800
    """Adjudicate once the eval stays beyond this for ``resign_plies`` plies in a row."""
    resign_plies: int = 8
    threads: int = 1
    hash_mb: int = 16
    time_cap: float = 30.0
    engine_path: str | None = None


def find_traps(engine: chess.engine.SimpleEngine, board: chess.Board, rng: random.Random, config: SelfPlayConfig,
               key: object) -> list[tuple[chess.Move, chess.engine.PovScore]]:
    """Moves after which the opponent has a puzzle by the miner's own rules, at a small budget, each
    with the evaluation of the position after it.

    This is how a human blunder looks: a natural-looking move that allows a forced tactic. The
    miner later checks the same thing at its own, larger budget, so a trap found here is only a
    candidate.
    """
    # Traps are read on the engine's own cp (cp_scale 1.0): the trap search only proposes branch
    # games, the miner judges them on its own scale, and the cached trap games of the default suite
    # were made this way (changing it would change every trap game).
    quick = LineBuilder(engine, MiningConfig(nodes=config.trap_prefilter_nodes, time_cap=config.time_cap, cp_scale=1.0),
                        game_key=key)
    builder = LineBuilder(engine, MiningConfig(nodes=config.eval_nodes, time_cap=config.time_cap, cp_scale=1.0),
                          game_key=key)
    legal = sorted(board.legal_moves, key=chess.Move.uci)
    rng.shuffle(legal)
    found: list[tuple[chess.Move, chess.engine.PovScore]] = []
    for move in legal[: config.trap_tries]:
        if len(found) >= config.traps_per_position:
            break
        board.push(move)
        try:
            if board.is_game_over():
                continue
            # Most moves leave the opponent no only-move at all; a search at a fraction of the
            # budget says so, and only the rest get the full test and a line.
            if config.trap_prefilter_nodes:
                first = quick.analyse(board, board.turn, multipv=2)
                if not first or first[0].score < chess.engine.Cp(200) or not quick.is_only_move(board, first):
                    continue
            pair = builder.analyse(board, board.turn, multipv=2)
            if not pair or pair[0].score < chess.engine.Cp(200) or not builder.is_only_move(board, pair):
                continue
            mate = pair[0].score.mate()
            line = builder.build_mate(board) if mate is not None and mate > 0 else builder.build_advantage(board)
            if line is not None:
                found.append((move, chess.engine.PovScore(pair[0].score, board.turn)))
        finally:
            board.pop()
    return found


def _swing(before: chess.engine.Score, after: chess.engine.Score) -> bool:
    """The move between these two scores (the opponent's point of view) is a blunder the miner
    would look at: the opponent was not already winning, and the miner's own swing test holds.

    Read on the engine's own cp (no ``cp_scale``), like the trap search: this only decides which
    blunders are taken back into branch games, and the default suite's cached games were made so.
    A swing the miner sees only on its scale stays in the main game, where the miner finds it too."""
    if before.mate() is not None and before.mate() > 0 or before > chess.engine.Cp(300):
        return False
    return is_swing(before, after)


def _branch(game: chess.pgn.Game, board: chess.Board, evaluation: chess.engine.PovScore, trap: chess.Move,
            after: chess.engine.PovScore, ply: int, *, kind: str = "trap") -> chess.pgn.Game:
    """A short game: the position before the last move played, that move, then the trap.

    The move before the trap is kept so that the miner sees the evaluation before the trap (it
    never mines the first move of a game, whose prior evaluation is unknown).
    """
    start = board.copy()
    last = start.pop()
    branch = chess.pgn.Game()
    for name in ("Event", "White", "Black"):
        branch.headers[name] = game.headers[name]
    branch.headers["Site"] = f"{game.headers['Site']}/{kind}{ply + 1}-{trap.uci()}"
    branch.headers["Round"] = game.headers["Round"]
    branch.headers["Result"] = "*"
    branch.setup(start)
    node = branch.add_variation(last)
    node.set_eval(evaluation)
    node = node.add_variation(trap)
    node.set_eval(after)
    return branch


def play_game(engine: chess.engine.SimpleEngine, config: SelfPlayConfig, seed: int, index: int) -> list[chess.pgn.Game]:
    """Game ``index`` of ``seed``, followed by one branch game per trap found in it."""
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
    branches: list[chess.pgn.Game] = []
    lopsided = 0
    result = "*"
    ahead: list[chess.engine.InfoDict] | None = None  # the next position's evaluation, made early by a take-back check
    for ply in range(config.max_plies):
        if board.is_game_over(claim_draw=True):
            result = board.result(claim_draw=True)
            break
        max_depth, strong, blunder, trap = style[board.turn]
        opening = ply < n_open
        # Every search gets its own key, hence a fresh hash: the shallow player must not read the
        # deeper evaluation search out of the transposition table.
        infos = ahead or engine.analyse(board, chess.engine.Limit(nodes=config.eval_nodes, time=config.time_cap),
                                        multipv=4 if opening else 1, game=("eval", seed, index, ply))
        ahead = None
        evaluation = infos[0]["score"]
        if node is not game:
            node.set_eval(evaluation)  # eval of the position after this node's move
        roll = rng.random()
        rel = evaluation.relative
        played_trap = None
        if not opening and node is not game and rel.mate() is None and abs(rel.score() or 0) < 200 and rng.random() < trap:
            traps = find_traps(engine, board, rng, config, ("trap", seed, index, ply))
            if config.branch_traps:
                branches.extend(_branch(game, board, evaluation, m, after, ply) for m, after in traps)
            elif traps:
                played_trap = traps[0][0]
        if opening:
            move = rng.choice([i["pv"][0] for i in infos if i.get("pv")])
        elif played_trap is not None:
            move = played_trap
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
        if config.take_back and not opening and node is not game and move != infos[0]["pv"][0]:
            board.push(move)
            if not board.is_game_over(claim_draw=True):
                ahead = engine.analyse(board, chess.engine.Limit(nodes=config.eval_nodes, time=config.time_cap),
                                       multipv=1, game=("eval", seed, index, ply + 1))
            board.pop()
            opponent = not board.turn
            if ahead and _swing(evaluation.pov(opponent), ahead[0]["score"].pov(opponent)):
                branches.append(_branch(game, board, evaluation, move, ahead[0]["score"], ply, kind="blunder"))
                move, ahead = infos[0]["pv"][0], None
        node = node.add_variation(move)
        board.push(move)
    else:
        result = "1/2-1/2"
    game.headers["Result"] = result
    return [game, *branches]


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
    return "\n\n".join(_export(g) for g in play_game(engine, config, seed, index))


def play_games(n: int, seed: int, config: SelfPlayConfig, *, workers: int = 1, start: int = 0,
               progress: Callable[[int, int], object] | None = None) -> list[str]:
    """PGN texts of games ``start`` … ``start + n - 1`` for ``seed``, in order (each text holds the
    game followed by its branch games)."""
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
