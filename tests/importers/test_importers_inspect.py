"""Inspect AI round trip: a tiny Inspect task against the loopback server, its log imported, the
same verdicts as ``chesseval run`` on the same puzzles against the same server.

Needs ``pip install 'chesseval[inspect]'`` (inspect_ai and openai); skips without it. The
puzzles are one-move puzzles, because an Inspect sample is one reply while ``chesseval run``
asks multi-move puzzles turn by turn.
"""

from __future__ import annotations

import re
from pathlib import Path

import chess
import pytest
from llm_server import ScriptedLLMServer

from chesseval.api import evaluate
from chesseval.core.prompts import PromptFormat, render_prompt
from chesseval.core.puzzles import Puzzle, load_puzzles, write_lichess_csv
from chesseval.core.records import load_run
from chesseval.core.runner import RunConfig
from chesseval.core.suites import resolve_suite
from chesseval.importers import import_logs

MODEL = "openai-api/local/scripted-model"


def _puzzles() -> list[Puzzle]:
    one_move = [p for p in load_puzzles(resolve_suite("starter").path) if p.n_solver_moves == 1]
    return one_move[:4]


def _answers(puzzles: list[Puzzle]) -> dict[str, str]:
    """Per FEN shown: a correct SAN answer in prose, a legal wrong move, an illegal move, no move."""
    out: dict[str, str] = {}
    for i, p in enumerate(puzzles):
        board = p.board()
        solution = board.parse_uci(p.solution[0])
        if i == 0:
            text = f"The queen check is decisive.\n\n**Answer: {board.san(solution)}**"
        elif i == 1:
            wrong = next(m for m in board.legal_moves if m != solution and not _mates(board, m))
            text = f"I'll keep it simple: {board.san(wrong)}."
        elif i == 2:
            empty = [s for s in chess.SQUARES if board.piece_at(s) is None]
            text = f"Answer: {chess.square_name(empty[0])}{chess.square_name(empty[1])}"
        else:
            text = "This position is too complicated for me to decide."
        out[board.fen()] = text
    return out


def _mates(board: chess.Board, move: chess.Move) -> bool:
    board.push(move)
    try:
        return board.is_checkmate()
    finally:
        board.pop()


def _answer_for(answers: dict[str, str]):  # type: ignore[no-untyped-def]
    def answer(messages: list[dict[str, str]]) -> str:
        text = "\n".join(m["content"] for m in messages)
        for fen, reply in answers.items():
            if fen.split()[0] in text:
                return reply
        raise AssertionError(f"no scripted answer for prompt {text[:200]!r}")

    return answer


def _inspect_task(puzzles: list[Puzzle]):  # type: ignore[no-untyped-def]
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ChatMessageSystem, ChatMessageUser
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    samples = []
    for p in puzzles:
        prompt = render_prompt(p, PromptFormat.FEN)
        messages = [ChatMessageSystem(content=m["content"]) if m["role"] == "system" else ChatMessageUser(content=m["content"]) for m in prompt.messages]
        samples.append(Sample(id=p.id, input=messages, target=p.solution[0],
                              metadata={"fen": p.fen, "moves": list(p.moves), "puzzle_id": p.id, "themes": list(p.themes)}))  # fmt: skip
    return Task(dataset=samples, solver=generate(), scorer=match(location="end"), name="chess_one_move")


@pytest.mark.slow
def test_inspect_log_round_trip_matches_chesseval_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("inspect_ai")
    pytest.importorskip("openai")
    from inspect_ai import eval as inspect_eval
    from inspect_ai.log import read_eval_log, write_eval_log

    puzzles = _puzzles()
    assert len(puzzles) == 4
    suite_csv = tmp_path / "one_move.csv"
    with open(suite_csv, "w", encoding="utf-8") as fh:
        write_lichess_csv(puzzles, fh)
    answers = _answers(puzzles)
    with ScriptedLLMServer(_answer_for(answers)) as server:
        # One OpenAI-compatible service name for both harnesses: Inspect's openai-api/<name>/<model>
        # and chesseval's provider of the same name read <NAME>_BASE_URL and <NAME>_API_KEY.
        monkeypatch.setenv("LOCAL_BASE_URL", server.url + "/v1")
        monkeypatch.setenv("LOCAL_API_KEY", "loopback-test-key")
        logs = inspect_eval(_inspect_task(puzzles), model=MODEL, log_dir=str(tmp_path / "inspect_logs"),
                            log_format="eval", display="none", max_connections=2)  # fmt: skip
        assert logs[0].status == "success", logs[0].error
        inspect_requests = [r.messages for r in server.requests]
        server.requests.clear()
        run = evaluate(RunConfig(model=MODEL, suite=str(suite_csv), runs_dir=tmp_path / "runs", max_connections=2))
        chesseval_requests = [r.messages for r in server.requests]

    # Both harnesses asked the same questions, so the answers are the same ones.
    key = lambda msgs: "\n".join(m["content"] for m in msgs)  # noqa: E731
    assert sorted(map(key, inspect_requests)) == sorted(map(key, chesseval_requests))

    # One Inspect run per test process: Inspect keeps its model client (and the dead server's
    # port) for the process, so the .json form of the same log is written by Inspect itself.
    eval_log = Path(logs[0].location)
    json_log = tmp_path / "same_log.json"
    write_eval_log(read_eval_log(str(eval_log)), str(json_log), format="json")
    for log_path in (eval_log, json_log):
        _check_import(log_path, tmp_path / f"imported_{log_path.suffix[1:]}", run.path, puzzles)


def _check_import(log_path: Path, out: Path, run_path: Path, puzzles: list[Puzzle]) -> None:
    result = import_logs("inspect", log_path, out=out)
    assert result.n_input == result.n_records == 4
    [imported] = result.runs
    direct = {r["puzzle_id"]: r for r in load_run(run_path).records}
    again = {r["puzzle_id"]: r for r in load_run(imported.path).records}
    assert set(direct) == set(again) == {p.id for p in puzzles}
    verdicts = {pid: (direct[pid]["verdict"], direct[pid]["turns"][0]["played_uci"]) for pid in direct}
    assert {pid: (again[pid]["verdict"], again[pid]["turns"][0]["played_uci"]) for pid in again} == verdicts
    assert sorted(v for v, _ in verdicts.values()) == ["correct", "illegal", "no_move", "wrong"]
    # The source's own grading (Inspect's match scorer) is kept beside chesseval's verdict.
    for rec in again.values():
        assert rec["source_grading"]["scorer"] == "match"
        assert isinstance(rec["source_grading"]["correct"], bool)
        assert rec["judging"]["mode"] == "single"
        assert rec["origin"]["model"] == MODEL
    header = load_run(imported.path).header
    assert header["model"] == f"replay/{MODEL}"
    assert re.fullmatch(r"[0-9a-f]{64}", header["suite"]["sha256"])
