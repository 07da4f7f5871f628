"""Re-grading one foreign answer: read it again with chesseval's parser, judge it by the Lichess rule.

A foreign log is turned into :class:`ForeignAnswer` values by a format reader (``jsonl``,
``inspect_log``); :func:`regrade` makes the same record ``chesseval run`` writes for a puzzle
(``verdict``, ``first_move_correct``, ``solver_moves_found``, ``turns``), plus what only an
import has: how it was judged and why (``judging``), where it came from (``origin``) and what the
source harness itself concluded (``source_grading``).

Three judging modes, chosen per answer and written into the record with the reason:

- ``line``: the prompt asked for the whole solution in one reply. The solver's moves of the
  expected line are judged one by one, each in the position the expected line reaches (the
  opponent's replies are the solution's, not the ones the answer predicted), and the first wrong
  move fails, as on Lichess. First-move accuracy is kept beside it.
- ``single``: the prompt asked for one move; the log holds the solution's move for that position.
- ``unjudged``: the position has no solution in the log (a game move). The answer is read, and an
  answer without a legal move still gets its verdict (``illegal``, ``no_move``, ``empty``), but a
  legal move is ``unjudged``, left out of every rate.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import chess

from chesseval.errors import ChessEvalError
from chesseval.core.judge import Step, Verdict, judge_move, verdict_of_reply
from chesseval.core.moves import MoveKind, ParsedMove, parse_line, parse_move
from chesseval.core.players import Reply, StopReason, Usage
from chesseval.core.puzzles import Puzzle
from chesseval.core.records import RECORD_SCHEMA
from chesseval.regrade import board_of

__all__ = ["ForeignAnswer", "JudgingMode", "regrade", "position_board", "ImportFormatError"]


class ImportFormatError(ChessEvalError, ValueError):
    """A foreign log that cannot be read: ``file:line: reason`` (or ``file:sample id: reason``)."""

    def __init__(self, path: str, where: int | str | None, reason: str) -> None:
        self.path, self.where, self.reason = path, where, reason
        loc = f"{path}:{where}" if where is not None else path
        super().__init__(f"{loc}: {reason}")


class JudgingMode:
    LINE = "line"
    SINGLE = "single"
    UNJUDGED = "unjudged"


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
    mode: str = JudgingMode.SINGLE
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


def _reading(parsed: ParsedMove, board: chess.Board) -> dict[str, Any]:
    out: dict[str, Any] = {
        "parse_kind": str(parsed.kind),
        "parsed_text": parsed.text,
        "parse_detail": parsed.detail,
        "played_uci": parsed.move.uci() if parsed.move else None,
    }
    if parsed.rule:
        out["parse_rule"] = str(parsed.rule)
    if parsed.move is not None and board.is_legal(parsed.move):
        out["played_san"] = board.san(parsed.move)
    return out


def regrade(answer: ForeignAnswer, puzzle: Puzzle | None) -> dict[str, Any]:
    """The run record of one foreign answer (see the module docstring for the judging modes)."""
    board = position_board(answer)
    reply = Reply(text=answer.text, stop_reason=answer.stop_reason, usage=answer.usage)
    base_turn: dict[str, Any] = {
        "index": 0,
        "prompt_sha256": None,
        "messages": list(answer.messages),
        "answer": answer.text,
        "stop_reason": answer.stop_reason,
        "refusal": None,
        "latency_s": 0.0,
        "usage": answer.usage.to_dict(),
        "retries": 0,
        "cost_usd": None,
        "cached": False,
        "error": None,
    }
    mode = answer.mode if puzzle is not None else JudgingMode.UNJUDGED
    turns: list[dict[str, Any]] = []
    found = 0
    if mode == JudgingMode.LINE:
        assert puzzle is not None
        verdict, found = _judge_line(answer.text, board, reply, puzzle, base_turn, turns)
    else:
        parsed = parse_move(answer.text, board)
        turn = {**base_turn, **_reading(parsed, board)}
        if puzzle is not None:
            turn["expected_uci"] = puzzle.solution[0]
        turns.append(turn)
        failed = verdict_of_reply(reply, parsed)
        if failed is not None:
            verdict = failed
        elif puzzle is None:
            verdict = Verdict.UNJUDGED
        else:
            assert parsed.move is not None
            step = judge_move(board, parsed.move, puzzle.solution[0], is_last=True)
            verdict = Verdict.CORRECT if step is Step.SOLVED else Verdict.WRONG
            found = int(verdict is Verdict.CORRECT)
        turn["outcome"] = verdict.value
    solver = "white" if chess.Board(answer.fen).turn == chess.WHITE else "black"
    return {
        "schema": RECORD_SCHEMA,
        "puzzle_id": puzzle.id if puzzle else None,
        "rating": answer.rating,
        "rating_deviation": answer.rating_deviation,
        "rating_source": answer.rating_source if answer.rating is not None else "none",
        "themes": list(answer.themes),
        "fen": answer.fen,
        "moves": list(answer.expected_line or ()),
        "has_setup_move": False,
        "format": answer.style,
        "n_solver_moves": len(puzzle.solution) if puzzle else 0,
        "solver": solver,
        "verdict": verdict.value,
        "first_move_correct": found >= 1,
        "solver_moves_found": found,
        "judging": {"mode": mode, "why": answer.mode_why if puzzle is not None else "the log has no solution for this position (a game move): read, not judged"},
        "source_grading": answer.source_grading,
        "origin": {"source": answer.source, "file": answer.source_file, "where": answer.where, "model": answer.model},
        "turns": turns,
        "latency_s": 0.0,
        "usage": answer.usage.to_dict(),
        "cost_usd": None,
        "retries": 0,
        "retry_wait_s": 0.0,
        "error": None,
        "started_at": None,
        "finished_at": None,
    }


def _judge_line(text: str, board: chess.Board, reply: Reply, puzzle: Puzzle, base_turn: dict[str, Any], turns: list[dict[str, Any]]) -> tuple[Verdict, int]:
    """Judge a whole-line answer move by move; returns (verdict, solver moves found)."""
    readings = parse_line(text, board)
    line = puzzle.line
    solution = puzzle.solution
    found = 0
    expected_board = board.copy()
    for i, expected in enumerate(solution):
        turn: dict[str, Any] = {**base_turn, "index": i, "expected_uci": expected}
        if i:
            turn["answer"] = None  # the answer is in turn 0; later turns are its later moves
            turn["messages"] = []
        turns.append(turn)
        model_index = 2 * i
        parsed = readings[model_index] if model_index < len(readings) else None
        if parsed is None:
            # The line stops before the solution does: no move committed for this turn.
            turn.update(parse_kind=str(MoveKind.NONE), parsed_text=None, played_uci=None,
                        parse_detail="the answer's line ends before this solver move")  # fmt: skip
            verdict = Verdict.NO_MOVE if i == 0 else Verdict.WRONG
            if i:
                turn["parse_detail"] += " (counted as a miss: the line was asked for in full)"
            turn["outcome"] = verdict.value
            return verdict, found
        turn.update(_reading(parsed, expected_board))
        if i == 0:
            failed = verdict_of_reply(reply, parsed)
            if failed is not None:
                turn["outcome"] = failed.value
                return failed, found
        if parsed.kind is not MoveKind.MOVE or parsed.move is None:
            turn["outcome"] = Verdict.WRONG.value
            turn["parse_detail"] = f"{parsed.detail or 'no move'} (a later move of the line: counted as a miss)"
            return Verdict.WRONG, found
        move = parsed.move
        if not expected_board.is_legal(move):
            # Read in the answer's own line (after the reply it predicted), but not playable after
            # the solution's reply: the answer expected another defence.
            turn["outcome"] = Verdict.WRONG.value
            turn["parse_detail"] = "not playable after the solution's reply (the answer predicted another reply)"
            return Verdict.WRONG, found
        step = judge_move(expected_board, move, expected, is_last=i == len(solution) - 1)
        turn["played_san"] = expected_board.san(move)
        if step is Step.WRONG:
            turn["outcome"] = Verdict.WRONG.value
            return Verdict.WRONG, found
        found += 1
        if step is Step.SOLVED:
            turn["outcome"] = Verdict.CORRECT.value
            return Verdict.CORRECT, found
        turn["outcome"] = "continue"
        predicted = readings[model_index + 1] if model_index + 1 < len(readings) else None
        solution_reply = line[2 * i + 1]
        if predicted is not None and predicted.move is not None:
            turn["predicted_reply_uci"] = predicted.move.uci()
            turn["predicted_reply_matches"] = predicted.move.uci() == solution_reply
        expected_board.push(move)
        expected_board.push(chess.Move.from_uci(solution_reply))
    return Verdict.CORRECT, found  # pragma: no cover - the loop always returns on the last move
