"""Estimating a puzzle's Lichess rating from its position and solution line.

The features are cheap board facts (no engine): line length, mate, checks / captures / quiet moves
among the solver's moves, what the first move does (piece, distance, backwards, into an attack,
recapture), material swings along the line, legal-move counts, phase and the cheap themes of
:mod:`chesseval.mining.themes`. The model is a small gradient-boosted tree ensemble fitted by
``scripts/train_difficulty.py`` on the shared Lichess sample; only its parameters are shipped
(``difficulty_model.json``). Prediction is plain Python, no NumPy needed.

The raw boosted prediction regresses towards the mean rating (as any least-squares fit does); the
model file also holds a monotone quantile map, fitted on out-of-fold predictions, that spreads the
estimates back over the range of real ratings. The map keeps the ranking (Spearman is unchanged) at
some cost in RMSE; both figures are in the model file.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import chess

from chesseval.core.puzzles import Puzzle, RatingSource
from chesseval.mining.themes import VALUES, derive_themes, material_balance

__all__ = ["FEATURES", "features", "feature_vector", "Model", "load_model", "estimate", "rate_puzzles", "MODEL_PATH"]

MODEL_PATH = Path(__file__).with_name("difficulty_model.json")

THEME_FEATURES = (
    "fork", "hangingPiece", "quietMove", "advancedPawn", "promotion", "underPromotion", "castling", "enPassant",
    "backRankMate", "smotheredMate", "crushing", "advantage", "opening", "middlegame", "endgame",
    "pawnEndgame", "rookEndgame", "queenEndgame", "bishopEndgame", "knightEndgame", "queenRookEndgame",
)

FEATURES = (
    "n_solver", "is_mate", "mate_n",
    "n_checks", "n_captures", "n_quiet", "n_promotions", "frac_checks", "frac_captures", "frac_quiet",
    "first_check", "first_capture", "first_quiet", "first_promotion", "last_check", "last_capture",
    "first_piece_p", "first_piece_n", "first_piece_b", "first_piece_r", "first_piece_q", "first_piece_k",
    "first_distance", "first_backward", "first_en_prise", "first_captured_value", "first_recapture",
    "first_takes_best", "first_rank_in_forcing",
    "setup_capture", "setup_check", "in_check",
    "material_start", "material_end", "material_gain", "max_deficit", "sac_value",
    "legal_start", "legal_mean", "legal_opp_mean", "checks_available", "captures_available",
    "n_pieces", "non_pawn_material", "solver_king_rank", "opp_king_rank", "opp_king_exposed",
    "any_quiet_not_last", "n_long_moves", "n_backward",
    *(f"theme_{t}" for t in THEME_FEATURES),
)


def _en_prise(board: chess.Board, square: chess.Square) -> bool:
    """The piece on ``square`` can be won: attacked and undefended, or attacked by something cheaper."""
    piece = board.piece_at(square)
    if piece is None or piece.piece_type == chess.KING:
        return False
    attackers = board.attackers(not piece.color, square)
    if not attackers:
        return False
    if not board.attackers(piece.color, square):
        return True
    return any(VALUES[board.piece_at(a).piece_type] < VALUES[piece.piece_type] for a in attackers)  # type: ignore[union-attr]


def features(puzzle: Puzzle, themes: Sequence[str] | None = None) -> dict[str, float]:
    """Numeric features of a Lichess-style puzzle (setup move first)."""
    board = chess.Board(puzzle.fen)
    setup = chess.Move.from_uci(puzzle.moves[0])
    f: dict[str, float] = dict.fromkeys(FEATURES, 0.0)
    f["setup_capture"] = float(board.is_capture(setup))
    f["setup_check"] = float(board.gives_check(setup))
    board.push(setup)
    solver = board.turn
    line = [chess.Move.from_uci(u) for u in puzzle.moves[1:]]
    n_solver = (len(line) + 1) // 2
    f["n_solver"] = n_solver
    f["in_check"] = float(board.is_check())
    legal = list(board.legal_moves)
    f["legal_start"] = len(legal)
    f["checks_available"] = sum(board.gives_check(m) for m in legal)
    f["captures_available"] = sum(board.is_capture(m) for m in legal)
    f["n_pieces"] = len(board.piece_map())
    f["non_pawn_material"] = sum(VALUES[p.piece_type] for p in board.piece_map().values() if p.piece_type not in (chess.PAWN, chess.KING))
    start_balance = material_balance(board, solver)
    f["material_start"] = start_balance
    own_king, opp_king = board.king(solver), board.king(not solver)
    if own_king is not None:
        f["solver_king_rank"] = chess.square_rank(own_king) if solver else 7 - chess.square_rank(own_king)
    if opp_king is not None:
        f["opp_king_rank"] = chess.square_rank(opp_king) if not solver else 7 - chess.square_rank(opp_king)
        shield = chess.SquareSet(chess.BB_KING_ATTACKS[opp_king])
        f["opp_king_exposed"] = float(not any(board.piece_at(s) == chess.Piece(chess.PAWN, not solver) for s in shield))
    legal_counts: list[int] = []
    opp_counts: list[int] = []
    max_deficit = 0
    for i, move in enumerate(line):
        mine = i % 2 == 0
        if mine:
            legal_counts.append(board.legal_moves.count())
            check, capture = board.gives_check(move), board.is_capture(move)
            piece = board.piece_at(move.from_square)
            dist = chess.square_distance(move.from_square, move.to_square)
            dr = chess.square_rank(move.to_square) - chess.square_rank(move.from_square)
            backward = (dr < 0) if solver == chess.WHITE else (dr > 0)
            f["n_checks"] += check
            f["n_captures"] += capture
            f["n_promotions"] += bool(move.promotion)
            quiet = not check and not capture and not move.promotion
            f["n_quiet"] += quiet
            f["n_long_moves"] += dist >= 4
            f["n_backward"] += backward and piece is not None and piece.piece_type != chess.PAWN
            if quiet and i < len(line) - 1:
                f["any_quiet_not_last"] = 1.0
            if i == 0:
                f["first_check"], f["first_capture"], f["first_quiet"] = float(check), float(capture), float(quiet)
                f["first_promotion"] = float(bool(move.promotion))
                if piece is not None:
                    f["first_piece_" + chess.piece_symbol(piece.piece_type)] = 1.0
                f["first_distance"] = dist
                f["first_backward"] = float(backward)
                victim = board.piece_at(move.to_square)
                f["first_captured_value"] = VALUES[victim.piece_type] if victim else (1.0 if board.is_en_passant(move) else 0.0)
                f["first_recapture"] = float(capture and move.to_square == setup.to_square)
                values = [VALUES[v.piece_type] for m in legal if board.is_capture(m) and (v := board.piece_at(m.to_square))]
                f["first_takes_best"] = float(bool(victim) and bool(values) and VALUES[victim.piece_type] >= max(values))  # type: ignore[union-attr]
                forcing = sorted(legal, key=lambda m: (not board.gives_check(m), not board.is_capture(m), m.uci()))
                n_forcing = sum(1 for m in legal if board.gives_check(m) or board.is_capture(m))
                f["first_rank_in_forcing"] = forcing.index(move) if check or capture else n_forcing + 1
            if i == len(line) - 1:
                f["last_check"], f["last_capture"] = float(check), float(capture)
        else:
            opp_counts.append(board.legal_moves.count())
        board.push(move)
        if mine and i == 0:
            f["first_en_prise"] = float(_en_prise(board, move.to_square))
        balance = material_balance(board, solver)
        max_deficit = max(max_deficit, start_balance - balance)
    end_balance = material_balance(board, solver)
    f["material_end"] = end_balance
    f["material_gain"] = end_balance - start_balance
    f["max_deficit"] = max_deficit
    f["sac_value"] = max(0, max_deficit)
    f["legal_mean"] = sum(legal_counts) / len(legal_counts) if legal_counts else 0.0
    f["legal_opp_mean"] = sum(opp_counts) / len(opp_counts) if opp_counts else 0.0
    if board.is_checkmate():
        f["is_mate"] = 1.0
        f["mate_n"] = n_solver
    if n_solver:
        f["frac_checks"] = f["n_checks"] / n_solver
        f["frac_captures"] = f["n_captures"] / n_solver
        f["frac_quiet"] = f["n_quiet"] / n_solver
    tags = set(themes if themes is not None else puzzle.themes)
    for t in THEME_FEATURES:
        f[f"theme_{t}"] = float(t in tags)
    return f


def puzzle_themes_for_model(puzzle: Puzzle) -> tuple[str, ...]:
    """Our own cheap themes, plus crushing/advantage from the puzzle (they need the engine's cp)."""
    own = set(derive_themes(puzzle.fen, puzzle.moves))
    own |= {t for t in puzzle.themes if t in ("crushing", "advantage")}
    return tuple(sorted(own))


def feature_vector(puzzle: Puzzle) -> list[float]:
    f = features(puzzle, puzzle_themes_for_model(puzzle))
    return [f[name] for name in FEATURES]


@dataclasses.dataclass(frozen=True)
class Model:
    features: tuple[str, ...]
    base: float
    learning_rate: float
    trees: tuple[tuple[tuple[int, float, int, int, float], ...], ...]
    """Each tree is a node list: (feature index, threshold, left child, right child, leaf value);
    feature index −1 marks a leaf. Go left when value <= threshold."""
    calibration: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    meta: dict[str, object] = dataclasses.field(default_factory=dict)

    def predict_raw(self, x: Sequence[float]) -> float:
        total = self.base
        for tree in self.trees:
            node = 0
            while True:
                feat, thr, left, right, value = tree[node]
                if feat < 0:
                    total += self.learning_rate * value
                    break
                node = left if x[feat] <= thr else right
        return total

    def calibrate(self, raw: float) -> float:
        if not self.calibration:
            return raw
        xs, ys = self.calibration
        if raw <= xs[0]:
            return ys[0]
        if raw >= xs[-1]:
            return ys[-1]
        j = bisect.bisect_right(xs, raw)
        x0, x1, y0, y1 = xs[j - 1], xs[j], ys[j - 1], ys[j]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)

    def predict(self, x: Sequence[float]) -> float:
        return self.calibrate(self.predict_raw(x))

    def to_json(self) -> dict[str, object]:
        return {
            "kind": "gradient-boosted-trees",
            "features": list(self.features),
            "base": self.base,
            "learning_rate": self.learning_rate,
            "trees": [[list(n) for n in t] for t in self.trees],
            "calibration": [list(self.calibration[0]), list(self.calibration[1])] if self.calibration else None,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Model:
        cal = data.get("calibration")
        return cls(
            features=tuple(data["features"]),  # type: ignore[arg-type]
            base=float(data["base"]),  # type: ignore[arg-type]
            learning_rate=float(data["learning_rate"]),  # type: ignore[arg-type]
            trees=tuple(tuple((int(n[0]), float(n[1]), int(n[2]), int(n[3]), float(n[4])) for n in t) for t in data["trees"]),  # type: ignore[union-attr]
            calibration=(tuple(cal[0]), tuple(cal[1])) if cal else None,  # type: ignore[index]
            meta=dict(data.get("meta") or {}),  # type: ignore[arg-type]
        )


@lru_cache(maxsize=4)
def load_model(path: str | Path = MODEL_PATH) -> Model:
    model = Model.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    if tuple(model.features) != FEATURES:
        raise ValueError(f"{path}: model features do not match this chesseval version; retrain with scripts/train_difficulty.py")
    return model


def estimate(puzzle: Puzzle, model: Model | None = None) -> int:
    """Estimated Lichess rating, rounded to an integer."""
    model = model or load_model()
    return int(round(model.predict(feature_vector(puzzle))))


def rate_puzzles(puzzles: Iterable[Puzzle], model: Model | None = None) -> list[Puzzle]:
    """The puzzles with ``rating`` set to the estimate and ``rating_source = estimated``."""
    model = model or load_model()
    return [dataclasses.replace(p, rating=estimate(p, model), rating_source=RatingSource.ESTIMATED) for p in puzzles]
