"""Reading a run folder for the engine stage: its records by puzzle (through
:mod:`chesseval.core.records`, the run folder's owner) and ``engine.jsonl`` (written by
:mod:`chesseval.engine.check`, summarised by :mod:`chesseval.engine.report`), and the verdict of
one ``engine.jsonl`` line (:class:`MoveCheck`: the engine-lenient rule, win-chance drop and
blunder, on the one cp scale). Kept apart from both so that they do not import each other.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chesseval.core.records import RunDir, RunRecord
from chesseval.engine.stockfish import BLUNDER_DROP, LICHESS_CP_SCALE, Score, is_winning, win_chances
from chesseval.errors import RunError

__all__ = ["ENGINE_FILE", "MoveCheck", "is_engine_accepted", "read_jsonl", "records_by_puzzle", "read_engine_lines"]

ENGINE_FILE = "engine.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every whole JSON object line of ``path``; a torn or garbled line is skipped."""
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break  # the tail of a killed writer
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def records_by_puzzle(run_dir: str | os.PathLike[str]) -> dict[str, RunRecord]:
    """The run's records by puzzle id (the last line wins, as a resumed run may repeat one)."""
    run = RunDir(run_dir)
    if not run.records_path.exists():
        raise RunError(f"{str(run.records_path)!r} does not exist: not a run folder")
    return {rec.puzzle_id: rec for rec in run.records()}


def read_engine_lines(run_dir: str | os.PathLike[str], limit: str | None = None) -> list[dict[str, Any]]:
    """The lines of ``engine.jsonl``, optionally only those of one limit (label or key)."""
    lines = read_jsonl(Path(run_dir) / ENGINE_FILE)
    if limit is None:
        return lines
    return [ln for ln in lines if limit in (ln.get("limit"), ln.get("limit_key"))]


@dataclasses.dataclass(frozen=True)
class MoveCheck:
    """The engine's view of one played move."""

    fen: str
    played: str
    best: str | None
    best_score: Score
    """The best move's score, for the side that played."""
    played_score: Score
    mates_now: bool
    """The played move checkmates at once."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MoveCheck:
        """A check back from its ``engine.jsonl`` line (the derived fields are recomputed)."""
        return cls(fen=str(data["fen"]), played=str(data["played_uci"]), best=data.get("best_uci"),
                   best_score=Score.from_dict(data["best_score"]), played_score=Score.from_dict(data["played_score"]),
                   mates_now=bool(data["mates_now"]))

    @property
    def wc_best(self) -> float:
        return win_chances(self.best_score.to_lichess())

    @property
    def wc_played(self) -> float:
        return 1.0 if self.mates_now else win_chances(self.played_score.to_lichess())

    @property
    def wc_drop(self) -> float:
        """Win chances given away (>= 0; a restricted search can score a move above the free one)."""
        return max(0.0, self.wc_best - self.wc_played)

    @property
    def played_wins(self) -> bool:
        return self.mates_now or is_winning(self.played_score.to_lichess())

    @property
    def accepted(self) -> bool:
        return is_engine_accepted(self.best_score, self.played_score, mates_now=self.mates_now)

    @property
    def blunder(self) -> bool:
        return self.wc_drop >= BLUNDER_DROP

    def to_dict(self) -> dict[str, Any]:
        return {
            "fen": self.fen,
            "played_uci": self.played,
            "best_uci": self.best,
            "cp_scale": LICHESS_CP_SCALE,
            "best_score": self.best_score.to_dict(),
            "played_score": self.played_score.to_dict(),
            "mates_now": self.mates_now,
            "wc_best": round(self.wc_best, 4),
            "wc_played": round(self.wc_played, 4),
            "wc_drop": round(self.wc_drop, 4),
            "played_wins": self.played_wins,
            "engine_accepted": self.accepted,
            "blunder": self.blunder,
        }


def is_engine_accepted(best: Score, played: Score, *, mates_now: bool = False) -> bool:
    """The engine-lenient rule for one move (see the module docstring); engine scores."""
    if mates_now:
        return True
    if best.mate is not None and best.mate > 0:
        return played.mate is not None and 0 < played.mate <= best.mate
    return is_winning(played.to_lichess())
