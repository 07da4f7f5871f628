"""Re-grading one foreign answer: read it again with chesseval's parser, judge it by the Lichess rule.

A foreign log is turned into :class:`ForeignAnswer` values by a format reader (``jsonl``,
``inspect_log``); :func:`judge_answer` makes the same record ``chesseval run`` writes for a puzzle
(``verdict``, ``first_move_correct``, ``solver_moves_found``, ``turns``), plus what only an
import has: how it was judged and why (``judging``), where it came from (``origin``) and what the
source harness itself concluded (``source_grading``).

Three judging modes, chosen per answer and written into the record with the reason:

- ``line``: the prompt asked for the whole solution in one reply. The answer is played by the
  runner's own whole-line mode (:func:`chesseval.core.runner.play_puzzle` with
  ``expects="line"``, through :class:`ReplayPlayer`): the solver's moves of the expected line are
  judged one by one, each read in the real position after the solution's replies (not the ones the
  answer predicted), and the first wrong move fails, as on Lichess. First-move accuracy is kept
  beside it.
- ``single``: the prompt asked for one move; it is judged on the solution's first solver move
  (by ``play_puzzle`` too, except answers that repeat the game before their move: those need the
  game on the board's move stack, which the runner's boards do not carry).
- ``unjudged``: the position has no solution in the log (a game move). The answer is read, and an
  answer without a legal move still gets its verdict (``illegal``, ``no_move``, ``empty``), but a
  legal move is ``unjudged``, left out of every rate.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import chess

from chesseval.core.judge import Step, Verdict, judge_move, verdict_of_reply
from chesseval.core.moves import ParsedMove, parse_move
from chesseval.core.players import Reply, StopReason, Turn, Usage
from chesseval.core.prompts import PromptFormat, PromptOptions
from chesseval.core.puzzles import Puzzle
from chesseval.core.records import RECORD_SCHEMA
from chesseval.core.regrade import board_of
from chesseval.core.runner import play_puzzle
from chesseval.errors import ChessEvalError

__all__ = ["ForeignAnswer", "JudgingMode", "ReplayPlayer", "judge_answer", "position_board", "ImportFormatError"]


class ImportFormatError(ChessEvalError, ValueError):
    """A foreign log that cannot be read: ``file:line: reason`` (or ``file:sample id: reason``)."""

    def __init__(self, path: str, where: int | str | None, reason: str) -> None:
        self.path, self.where, self.reason = path, where, reason
        loc = f"{path}:{where}" if where is not None else path
        super().__init__(f"{loc}: {reason}")


class JudgingMode(enum.StrEnum):
    LINE = "line"
    """The prompt asked for the whole solution line in one reply."""
    SINGLE = "single"
    """One move asked, judged on the solution's first solver move."""
    UNJUDGED = "unjudged"
    """No solution in the log (a game move)."""


@dataclasses.dataclass(frozen=True)
class ForeignAnswer:
    """One answer from a foreign log, in the shape every format reader produces."""

    where: int | str
    """Line number (JSONL) or sample id (Inspect): cited in errors and kept in the record."""
    source: str
    """The harness or task the answer comes from (``owner/name`` for the JSONL sources)."""
    source_file: str | None
    model: str
    style: str
    """What the prompt asked for; answers of one (source, model, style) make one run."""
    fen: str
    """The position the model was asked about (its side to move is the one answering)."""
    text: str
    expected_line: tuple[str, ...] | None
    """The solution from ``fen`` in UCI (solver, reply, solver, …), or None for a game move."""
    puzzle_id: str | None = None
    moves_before: str | None = None
    """The game movetext (SAN) shown before ``fen``, when the prompt showed the game."""
    rating: int | None = None
    rating_deviation: int | None = None
    rating_source: str = "lichess"
    themes: tuple[str, ...] = ()
    mode: JudgingMode = JudgingMode.SINGLE
    mode_why: str = ""
    source_grading: dict[str, Any] | None = None
    """What the source harness concluded, where its log says: ``extracted_move`` (its reading of
    the answer), ``correct`` (its verdict), ``score`` (raw)."""
    stop_reason: str = StopReason.STOP
    usage: Usage = dataclasses.field(default_factory=Usage)
    messages: tuple[dict[str, str], ...] = ()
    """The prompt as the log stores it (Inspect keeps it; the JSONL does not)."""

    def puzzle(self, puzzle_id: str) -> Puzzle | None:
        """The suite entry for this answer's position (None for a game move)."""
        if self.expected_line is None:
            return None
        return Puzzle(
            id=puzzle_id,
            fen=self.fen,
            moves=self.expected_line,
            has_setup_move=False,
            rating=self.rating,
            rating_deviation=self.rating_deviation,
            themes=self.themes,
            rating_source=self.rating_source if self.rating is not None else "none",
        )


def position_board(answer: ForeignAnswer) -> chess.Board:
    """The position, with the game that led to it on the move stack when the prompt showed one
    (the parser reads a reply that repeats the game and adds one move by that stack)."""
    return board_of({"fen": answer.fen, "moves_before": answer.moves_before})


class ReplayPlayer:
    """A player that gives the stored answer: the runner's own judging then applies unchanged."""

    def __init__(self, answer: ForeignAnswer) -> None:
        self.answer = answer
        self.asked = 0

    @property
    def name(self) -> str:
        return f"replay/{self.answer.model}"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "replay", "source": self.answer.source}

    async def play(self, turn: Turn) -> Reply:
        self.asked += 1
        if self.asked > 1:  # pragma: no cover - the puzzles given to play_puzzle make this impossible
            raise AssertionError("a stored answer is one reply; play_puzzle asked for a second")
        return Reply(text=self.answer.text, stop_reason=self.answer.stop_reason, usage=self.answer.usage)

    async def aclose(self) -> None:
        return None


def _judged_puzzle(answer: ForeignAnswer, puzzle: Puzzle) -> tuple[Puzzle, PromptOptions]:
    """The puzzle as the runner should play it from one stored reply, and the template that fits.

    A whole-line answer is played in the runner's line mode (one reply, every solver move judged);
    a one-move answer on the first solver move only, since nobody asked the model for the rest.
    """
    if answer.mode == JudgingMode.LINE:
        return puzzle, PromptOptions(expects="line")
    return dataclasses.replace(puzzle, moves=puzzle.line[:1], has_setup_move=False, alternatives=()), PromptOptions()


def _reading(parsed: ParsedMove, board: chess.Board) -> dict[str, Any]:
    out: dict[str, Any] = {
        "parse_kind": str(parsed.kind),
        "parsed_text": parsed.text,
        "parse_detail": parsed.detail,
        "parse_rule": str(parsed.rule),
        "played_uci": parsed.move.uci() if parsed.move else None,
    }
    if parsed.move is not None and board.is_legal(parsed.move):
        out["played_san"] = board.san(parsed.move)
    return out


def _one_move(answer: ForeignAnswer, puzzle: Puzzle | None) -> dict[str, Any]:
    """A one-move answer read with the game on the move stack (or a game move with no solution).

    The runner's boards carry no game history, so answers that repeat the game before their move
    are judged here, with the same parser, verdict rules and record keys.
    """
    board = position_board(answer)
    reply = Reply(text=answer.text, stop_reason=answer.stop_reason, usage=answer.usage)
    parsed = parse_move(answer.text, board)
    turn: dict[str, Any] = {"index": 0, "prompt_sha256": None, "messages": list(answer.messages),
                            "expected_uci": puzzle.solution[0] if puzzle else None, "answer": answer.text,
                            "stop_reason": answer.stop_reason, "refusal": None, **_reading(parsed, board),
                            "latency_s": 0.0, "usage": answer.usage.to_dict(), "retries": 0, "cost_usd": None,
                            "cached": False, "error": None}  # fmt: skip
    verdict = verdict_of_reply(reply, parsed)
    if verdict is None:
        assert parsed.move is not None
        if puzzle is None:
            verdict = Verdict.UNJUDGED
        else:
            step = judge_move(board, parsed.move, puzzle.solution[0], is_last=True)
            verdict = Verdict.CORRECT if step is Step.SOLVED else Verdict.WRONG
    turn["outcome"] = verdict.value
    found = int(verdict is Verdict.CORRECT)
    return {
        "schema": RECORD_SCHEMA,
        "puzzle_id": puzzle.id if puzzle else None,
        "rating": answer.rating,
        "rating_deviation": answer.rating_deviation,
        "rating_source": answer.rating_source if answer.rating is not None else "none",
        "themes": list(answer.themes),
        "fen": answer.fen,
        "moves": list(puzzle.solution[:1]) if puzzle else [],
        "has_setup_move": False,
        "n_solver_moves": 1 if puzzle else 0,
        "solver": "white" if board.turn == chess.WHITE else "black",
        "verdict": verdict.value,
        "first_move_correct": found >= 1,
        "solver_moves_found": found,
        "turns": [turn],
        "latency_s": 0.0,
        "usage": answer.usage.to_dict(),
        "cost_usd": None,
        "retries": 0,
        "retry_wait_s": 0.0,
        "error": None,
    }


async def judge_answer(answer: ForeignAnswer, puzzle: Puzzle | None) -> dict[str, Any]:
    """The run record of one foreign answer (see the module docstring for the judging modes)."""
    if puzzle is None or answer.moves_before:
        record = _one_move(answer, puzzle)
    else:
        judged, options = _judged_puzzle(answer, puzzle)
        # The record's JSON form: the importer edits it before RunDir.append types it again.
        record = (await play_puzzle(judged, ReplayPlayer(answer), PromptFormat.FEN, options)).to_json()
        # The prompt was the source's, not chesseval's: keep what the log holds of it.
        for turn in record["turns"]:
            turn["prompt_sha256"] = None
            turn["messages"] = list(answer.messages) if turn["index"] == 0 else []
    mode = answer.mode if puzzle is not None else JudgingMode.UNJUDGED
    why = answer.mode_why if puzzle is not None else "the log has no solution for this position (a game move): read, not judged"
    record.update(
        format=answer.style,
        started_at=None,
        finished_at=None,
        judging={"mode": mode, "why": why},
        source_grading=answer.source_grading,
        origin={"source": answer.source, "file": answer.source_file, "where": answer.where, "model": answer.model},
    )
    return record
