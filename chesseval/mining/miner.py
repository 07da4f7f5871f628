"""Mining puzzles from games with Stockfish, following the published lichess-puzzler method.

Written from a description of the method (its code is AGPL and was not consulted):

* walk a game; where the opponent's move swings the win chances of the side to move ("the
  winner") sharply, try to build a line for the winner;
* every winner move must be an *only move*: with MultiPV 2 the best beats the second by more than
  0.7 on the −1…1 win-chance scale, or it is a mate in one and every non-mating move is at most 0.6;
* opponent replies are the engine's best move;
* mate puzzles run to checkmate; advantage puzzles end at the first winner move that is not an
  only move, are trimmed to end on a winner move that had an alternative, and one-movers are
  rejected;
* positions that repeat, positions already won before the blunder, and FENs whose castling rights
  are less than the king/rook placement allows (they would hint at history) are skipped.

Centipawn scale: lichess-puzzler's thresholds (+200 / +300 / +400 cp, and the win-chance curve the
0.6 / 0.7 margins are read on) were set on Stockfish's older UCI scale; Stockfish 15.1 reports cp
about 0.58 times as large (see :mod:`chesseval.engine.stockfish`, "One cp scale"). The miner therefore
multiplies every cp score it reads (engine searches and the games' ``%eval``) by
``MiningConfig.cp_scale`` = :data:`chesseval.engine.stockfish.LICHESS_CP_SCALE` (361/208) before applying
them; mates are not scaled. Engine-lenient scoring reads the same scale.
``scripts/check_miner_rules.py --cp-scale`` measures the effect on real Lichess puzzles.

Reproducibility: one thread, a fixed hash, node limits (a time cap is only a safety net against
a hung engine) and a fresh ``ucinewgame`` per game, so the output is the same for any number of
workers or shards. Output order is by puzzle id, which is a hash of the line.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import chess
import chess.engine
import chess.pgn

from chesseval.core.puzzles import Puzzle, RatingSource
from chesseval.engine.stockfish import LICHESS_CP_SCALE, find_stockfish, win_chances
from chesseval.errors import EngineError, EngineNotFoundError
from chesseval.mining.workers import engine_workers

__all__ = [
    "MiningConfig",
    "Line",
    "LineBuilder",
    "win_chances",
    "is_swing",
    "scale_score",
    "SF15_1_CP_SCALE",
    "find_stockfish",
    "open_engine",
    "mine_game",
    "mine_pgn",
    "parse_shard",
    "puzzle_id",
    "max_castling_rights",
]

# Lichess's win-chance curve is chesseval.engine.stockfish.win_chances (mates exactly ±1, no cp clamp).
ONLY_MOVE_MARGIN = 0.7
MATE_IN_ONE_ALT_MAX = 0.6
MATE_HORIZON = 15
SF15_1_CP_SCALE = LICHESS_CP_SCALE
"""The one cp scale, :data:`chesseval.engine.stockfish.LICHESS_CP_SCALE` (kept under this name for callers)."""
PIECE_VALUES = {chess.PAWN: 1, chess.KNIGHT: 3, chess.BISHOP: 3, chess.ROOK: 5, chess.QUEEN: 9, chess.KING: 0}


# -- engine seam ---------------------------------------------------------------------------------
# Discovery is the shared chesseval.engine.stockfish.find_stockfish. The miner drives one SimpleEngine per
# worker process (not the async pool): each game is a long sequential conversation with one engine.


def scale_score(score: chess.engine.Score, factor: float) -> chess.engine.Score:
    """``score`` with its cp multiplied by ``factor`` (rounded); mates unchanged."""
    cp = score.score()
    if factor == 1.0 or cp is None:
        return score
    return chess.engine.Cp(round(cp * factor))


def _scale_pov(score: chess.engine.PovScore | None, factor: float) -> chess.engine.PovScore | None:
    if score is None or factor == 1.0:
        return score
    return chess.engine.PovScore(scale_score(score.white(), factor), chess.WHITE)


def is_swing(before: chess.engine.Score, after: chess.engine.Score) -> bool:
    """The miner's blunder test (both scores for the side that may punish): the move between them
    left that side at least +200 cp or a mate, and raised its win chances by more than 0.6."""
    return after >= chess.engine.Cp(200) and win_chances(after) > win_chances(before) + 0.6


def open_engine(path: str | None = None, *, threads: int = 1, hash_mb: int = 16) -> chess.engine.SimpleEngine:
    path = path or find_stockfish()
    try:
        engine = chess.engine.SimpleEngine.popen_uci(path)
    except (FileNotFoundError, PermissionError) as exc:
        raise EngineNotFoundError(f"cannot start Stockfish at {path!r} ({exc})") from exc
    # Threads before Hash, as Stockfish's README advises.
    engine.configure({"Threads": threads})
    engine.configure({"Hash": hash_mb})
    return engine


@dataclasses.dataclass(frozen=True)
class MiningConfig:
    """Engine budget of the miner. Recorded with every output."""

    nodes: int = 200_000
    """Node limit of each MultiPV-2 search while building a line."""
    scan_nodes: int = 40_000
    """Node limit per ply when a game has no %eval comments and must be scanned first."""
    threads: int = 1
    hash_mb: int = 16
    time_cap: float = 30.0
    """Seconds; a safety net only (SimpleEngine has no timeout without a time limit)."""
    max_solver_moves: int = 10
    cp_scale: float = SF15_1_CP_SCALE
    """Multiplies the engine's cp before the Lichess thresholds (see the module docstring); 1.0 reads
    the engine's cp as Lichess cp."""
    engine_path: str | None = None

    def limit(self, nodes: int | None = None) -> chess.engine.Limit:
        return chess.engine.Limit(nodes=nodes or self.nodes, time=self.time_cap)

    def to_dict(self) -> dict[str, object]:
        d = dataclasses.asdict(self)
        d.pop("engine_path")
        return d


@dataclasses.dataclass(frozen=True)
class Line:
    """A solution line from the puzzle position: winner, reply, winner, …"""

    moves: tuple[chess.Move, ...]
    kind: str
    """``mate`` or ``advantage``."""
    cp: int | None
    """Best score (winner's view) at the last winner move; None for mates."""

    @property
    def uci(self) -> tuple[str, ...]:
        return tuple(m.uci() for m in self.moves)


@dataclasses.dataclass(frozen=True)
class _Cand:
    move: chess.Move
    score: chess.engine.Score  # from the winner's point of view


class LineBuilder:
    """Builds solution lines with the only-move test on one engine."""

    def __init__(self, engine: chess.engine.SimpleEngine, config: MiningConfig, *, game_key: object = None) -> None:
        self.engine = engine
        self.config = config
        self.game_key = game_key if game_key is not None else object()
        self.reason = ""
        """Why the last build gave no line (for diagnostics and tests)."""

    def analyse(self, board: chess.Board, pov: chess.Color, *, multipv: int = 1, nodes: int | None = None,
                root_moves: Sequence[chess.Move] | None = None) -> list[_Cand]:
        try:
            infos = self.engine.analyse(board, self.config.limit(nodes), multipv=multipv, game=self.game_key,
                                        root_moves=list(root_moves) if root_moves else None)
        except (chess.engine.EngineError, TimeoutError) as exc:
            raise EngineError(f"Stockfish failed on {board.fen()!r}: {exc}") from exc
        out = []
        for info in infos:
            pv = info.get("pv")
            if pv and "score" in info:
                out.append(_Cand(pv[0], scale_score(info["score"].pov(pov), self.config.cp_scale)))
        return out

    def is_only_move(self, board: chess.Board, pair: list[_Cand]) -> bool:
        """The valid-attack test for the winner to move in ``board`` (pair from its point of view)."""
        if not pair:
            return False
        if len(pair) == 1 or board.legal_moves.count() == 1:
            return True
        best, second = pair[0], pair[1]
        if best.score.mate() == 1:
            if second.score.mate() != 1:
                return win_chances(second.score) <= MATE_IN_ONE_ALT_MAX
            # Several mates in one: every one is accepted, so judge the best non-mating move.
            others = [m for m in board.legal_moves if not _gives_mate(board, m)]
            if not others:
                return True
            alt = self.analyse(board, board.turn, root_moves=others)
            return not alt or win_chances(alt[0].score) <= MATE_IN_ONE_ALT_MAX
        return win_chances(best.score) > win_chances(second.score) + ONLY_MOVE_MARGIN

    def build_mate(self, board: chess.Board) -> Line | None:
        self.reason = ""
        board = board.copy()
        winner = board.turn
        moves: list[chess.Move] = []
        for _ in range(2 * MATE_HORIZON + 2):
            if board.is_checkmate():
                return Line(tuple(moves), "mate", None) if moves else None
            if board.is_game_over(claim_draw=False):
                return None
            if board.turn == winner:
                pair = self.analyse(board, winner, multipv=2)
                if not pair:
                    return None
                mate = pair[0].score.mate()
                if mate is None or not (0 < mate <= MATE_HORIZON):
                    self.reason = "no mate found"
                    return None
                if not self.is_only_move(board, pair):
                    self.reason = "not an only move"
                    return None
                move = pair[0].move
            else:
                reply = self.analyse(board, winner)
                if not reply:
                    return None
                move = reply[0].move
            moves.append(move)
            board.push(move)
        return None

    def build_advantage(self, board: chess.Board) -> Line | None:
        self.reason = ""
        board = board.copy()
        winner = board.turn
        moves: list[chess.Move] = []
        forced: list[bool] = []  # per move: was it the only legal move?
        scores: list[chess.engine.Score | None] = []
        while True:
            if board.is_game_over(claim_draw=False):
                break
            pair = self.analyse(board, winner, multipv=2)
            if not pair:
                break
            if pair[0].score < chess.engine.Cp(200):
                self.reason = "advantage below +200 cp"
                return None  # the advantage evaporated: not a puzzle at all
            if board.turn == winner:
                if len(moves) // 2 >= self.config.max_solver_moves or not self.is_only_move(board, pair):
                    break
            forced.append(board.legal_moves.count() == 1)
            scores.append(pair[0].score)
            moves.append(pair[0].move)
            board.push(pair[0].move)
            if board.is_repetition(2):
                self.reason = "repetition"
                return None
        # Trim: end on a winner move (even index) that had an alternative.
        while moves and (len(moves) % 2 == 0 or forced[len(moves) - 1]):
            moves.pop()
        if len(moves) < 3:  # one winner move only: rejected
            self.reason = "one-move advantage puzzle" if moves else "not an only move"
            return None
        if board.is_checkmate() and len(moves) == len(scores):
            return Line(tuple(moves), "mate", None)
        last = scores[len(moves) - 1]
        cp = last.score(mate_score=100_000) if last is not None else None
        return Line(tuple(moves), "advantage", cp)

    def build(self, board: chess.Board, *, mate_on_board: bool = True) -> Line | None:
        """A line for the side to move: mate first when one is on the board, else advantage."""
        if mate_on_board:
            line = self.build_mate(board)
            if line is not None:
                return line
        return self.build_advantage(board)


def _gives_mate(board: chess.Board, move: chess.Move) -> bool:
    board.push(move)
    try:
        return board.is_checkmate()
    finally:
        board.pop()


def material(board: chess.Board, color: chess.Color) -> int:
    return sum(PIECE_VALUES[p.piece_type] for p in board.piece_map().values() if p.color == color)


def max_castling_rights(board: chess.Board) -> int:
    """The castling rights the king and rook placement allows (standard chess)."""
    rights = 0
    for color, king_sq, rooks in ((chess.WHITE, chess.E1, (chess.A1, chess.H1)), (chess.BLACK, chess.E8, (chess.A8, chess.H8))):
        if board.piece_at(king_sq) != chess.Piece(chess.KING, color):
            continue
        for sq in rooks:
            if board.piece_at(sq) == chess.Piece(chess.ROOK, color):
                rights |= chess.BB_SQUARES[sq]
    return rights


def honest_castling(board: chess.Board) -> bool:
    return board.castling_rights == max_castling_rights(board)


# -- ids and shards ------------------------------------------------------------------------------


def puzzle_id(fen: str, moves: Sequence[str]) -> str:
    """A stable 8-character id from the content of a puzzle."""
    digest = hashlib.sha256((fen + "|" + " ".join(moves)).encode()).digest()
    return base64.b32encode(digest).decode()[:8].lower()


_SHARD = re.compile(r"^(\d+)/(\d+)$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/8"`` -> (2, 8): this process mines games whose 0-based index ≡ 2 (mod 8)."""
    m = _SHARD.match(text.strip())
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise ValueError(f"shard {text!r} is not i/n with 0 <= i < n")
    return int(m.group(1)), int(m.group(2))


# -- mining one game -----------------------------------------------------------------------------


def _pgn_evals(game: chess.pgn.Game) -> list[chess.engine.PovScore | None] | None:
    """Evals (from %eval comments) of each position after move k; None unless all but the last are there."""
    out: list[chess.engine.PovScore | None] = [None]
    for node in game.mainline():
        out.append(node.eval())
    if len(out) < 2 or any(e is None for e in out[1:-1]):
        return None
    return out


def _scan(builder: LineBuilder, game: chess.pgn.Game) -> list[chess.engine.PovScore | None]:
    board = game.board()
    out: list[chess.engine.PovScore | None] = []
    nodes = builder.config.scan_nodes
    for move in [None, *game.mainline_moves()]:
        if move is not None:
            board.push(move)
        if board.is_game_over(claim_draw=False):
            out.append(None)
            continue
        info = builder.engine.analyse(board, builder.config.limit(nodes), game=builder.game_key)
        out.append(info.get("score"))
    return out


def mine_game(
    engine: chess.engine.SimpleEngine,
    game: chess.pgn.Game,
    config: MiningConfig,
    *,
    source: str,
    game_key: object,
) -> list[tuple[Puzzle, dict[str, object]]]:
    """Every puzzle found in one game, with per-puzzle facts (kind, cp, ply) for the caller."""
    from chesseval.mining.themes import derive_themes  # local: themes imports this module's helpers

    builder = LineBuilder(engine, config, game_key=game_key)
    moves = list(game.mainline_moves())
    evals = _pgn_evals(game)
    if evals is None:
        evals = _scan(builder, game)
    evals = [_scale_pov(e, config.cp_scale) for e in evals]
    board = game.board()
    if board.chess960 or game.headers.get("Variant", "Standard").lower() not in ("standard", "from position"):
        return []
    found: list[tuple[Puzzle, dict[str, object]]] = []
    seen: set[str] = {board.epd()}
    repeating = False
    resume_at = 0  # skip candidates inside a puzzle just found
    for ply, move in enumerate(moves, start=1):
        before_board = board.copy(stack=False)
        zeroing = board.is_zeroing(move)
        board.push(move)
        epd = board.epd()
        if zeroing:
            seen = set()
            repeating = False
        if epd in seen:
            repeating = True
        seen.add(epd)
        if repeating or ply < resume_at:
            continue
        before, after = evals[ply - 1], evals[ply]
        if before is None or after is None or board.is_game_over(claim_draw=False):
            continue
        if board.legal_moves.count() < 2:
            continue
        if not (honest_castling(before_board) and honest_castling(board)):
            continue
        winner = board.turn
        s_before, s_after = before.pov(winner), after.pov(winner)
        mate_after = s_after.mate()
        mate_on_board = mate_after is not None and 0 < mate_after < MATE_HORIZON
        if s_before.mate() is not None and s_before.mate() > 0:
            continue  # was already mating: no blunder here
        if s_before > chess.engine.Cp(300) and not mate_on_board:
            continue  # already winning
        line: Line | None = None
        if mate_on_board:
            line = builder.build_mate(board)
        if line is None:
            if not is_swing(s_before, s_after):
                continue
            if s_after < chess.engine.Cp(400) and material(board, winner) - material(board, not winner) > -1:
                continue  # a small plus must be a tactic that wins material back
            line = builder.build_advantage(board)
        if line is None:
            continue
        fen = before_board.fen()
        uci = (move.uci(), *line.uci)
        themes = derive_themes(fen, uci, cp=line.cp)
        pz = Puzzle(
            id=puzzle_id(fen, uci),
            fen=fen,
            moves=uci,
            themes=themes,
            game_url=f"{source}#{ply}",
            rating_source=RatingSource.NONE,
        )
        found.append((pz, {"kind": line.kind, "cp": line.cp, "ply": ply}))
        resume_at = ply + len(line.moves) + 1
    return found


# -- many games, many workers --------------------------------------------------------------------


def iter_games(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """(0-based index, PGN text) of each game in a file, without parsing the moves."""
    from chesseval.core.puzzles import open_text

    with open_text(path) as fh:
        index = 0
        while True:
            game = chess.pgn.read_game(fh)
            if game is None:
                return
            exporter = chess.pgn.StringExporter(headers=True, variations=False, comments=True)
            yield index, game.accept(exporter)
            index += 1


def _source(game: chess.pgn.Game, pgn_name: str, index: int) -> str:
    site = game.headers.get("Site", "")
    if site.startswith(("http://", "https://", "chesseval:")):
        return site.replace(" ", "")
    return f"{pgn_name}:game{index + 1}"


_WORKER: dict[str, object] = {}


def _worker_init(config: MiningConfig) -> None:
    _WORKER["engine"] = open_engine(config.engine_path, threads=config.threads, hash_mb=config.hash_mb)
    _WORKER["config"] = config


def _worker_mine(job: tuple[int, str, str]) -> list[Puzzle]:
    index, pgn_text, pgn_name = job
    engine = _WORKER["engine"]
    config = _WORKER["config"]
    assert isinstance(engine, chess.engine.SimpleEngine) and isinstance(config, MiningConfig)
    game = chess.pgn.read_game(io.StringIO(pgn_text))
    if game is None:
        return []
    return [p for p, _ in mine_game(engine, game, config, source=_source(game, pgn_name, index), game_key=("game", pgn_name, index))]


def mine_pgn(
    path: str | os.PathLike[str],
    config: MiningConfig,
    *,
    workers: int = 1,
    shard: tuple[int, int] = (0, 1),
    limit: int | None = None,
    progress: object = None,
) -> list[Puzzle]:
    """Mine every game of a PGN file (this shard's games only); puzzles sorted by id."""
    pgn_name = Path(path).name
    i, n = shard
    jobs = [(idx, text, pgn_name) for idx, text in iter_games(path) if idx % n == i]
    if limit is not None:
        jobs = jobs[:limit]
    results: list[Puzzle] = []
    with engine_workers(_worker_init, (config,), workers, _WORKER) as run:
        # chunksize 1: games differ a lot in cost, so hand them out one by one.
        for k, found in enumerate(run(_worker_mine, jobs, chunksize=1)):
            results.extend(found)
            if callable(progress):
                progress(k + 1, len(jobs), len(results))
    return merge_puzzles([results])


def merge_puzzles(parts: Iterable[Iterable[Puzzle]]) -> list[Puzzle]:
    """Union of puzzle lists (e.g. shards), deduplicated by id and sorted by id."""
    by_id: dict[str, Puzzle] = {}
    for part in parts:
        for p in part:
            by_id.setdefault(p.id, p)
    return [by_id[k] for k in sorted(by_id)]
