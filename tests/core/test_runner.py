"""The run loop: the interactive protocol, verdicts as data, records, resume, kill -9 and Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chesseval.errors import ModelFatalError, ModelTransportError
from chesseval.core.judge import Verdict
from chesseval.core.players import Reply, StopReason, Turn
from chesseval.core.puzzles import Puzzle, iter_puzzles, write_lichess_csv
from chesseval.core.records import RunDir
from chesseval.api import evaluate
from chesseval.core.runner import RunConfig, play_puzzle

ROOT = Path(__file__).resolve().parents[2]
P = Puzzle(
    id="00sHx",
    fen="q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17",
    moves=("e8d7", "a2e6", "d7d8", "f7f8"),
    rating=1760,
)


class Scripted:
    """A player above the client boundary: answers from a function of the turn."""

    def __init__(self, answer: Callable[[Turn], Reply | Exception]) -> None:
        self.answer = answer
        self.turns: list[Turn] = []
        self.closed = False

    @property
    def name(self) -> str:
        return "test/scripted"

    def describe(self) -> dict[str, Any]:
        return {}

    async def play(self, turn: Turn) -> Reply:
        self.turns.append(turn)
        out = self.answer(turn)
        if isinstance(out, Exception):
            raise out
        return out

    async def aclose(self) -> None:
        self.closed = True


def run(player: Scripted, puzzle: Puzzle = P) -> dict[str, Any]:
    return asyncio.run(play_puzzle(puzzle, player))


def test_two_move_puzzle_played_interactively() -> None:
    player = Scripted(lambda t: Reply(text=["Answer: Be6+", "Qf8#"][t.index]))
    rec = run(player)
    assert rec["verdict"] == "correct" and rec["solver_moves_found"] == 2 and rec["first_move_correct"]
    second = player.turns[1]
    assert [m["role"] for m in second.messages] == ["system", "user", "assistant", "user"]
    assert "Kd8" in second.messages[-1]["content"]
    assert second.board.fen() == "q2k2nr/1pp1nQpp/3pB3/1P2p3/4P3/B1PP1b2/6PP/5K2 w - - 3 19"
    assert rec["turns"][1]["messages"] == [second.messages[-1]]  # only new messages are stored


def test_first_wrong_move_fails() -> None:
    rec = run(Scripted(lambda t: Reply(text=["Answer: Be6+", "Qxg7"][t.index])))
    assert rec["verdict"] == "wrong" and rec["solver_moves_found"] == 1 and rec["first_move_correct"]
    assert rec["turns"][1]["played_uci"] == "f7g7"


def test_wrong_first_move() -> None:
    rec = run(Scripted(lambda t: Reply(text="Qxg7")))
    assert rec["verdict"] == "wrong" and not rec["first_move_correct"] and len(rec["turns"]) == 1


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        (Reply(text="Answer: Ke3"), Verdict.ILLEGAL),
        (Reply(text="I resign from this task."), Verdict.NO_MOVE),
        (Reply(text="", stop_reason=StopReason.MAX_TOKENS), Verdict.EMPTY),
        (Reply(text="", refusal="no"), Verdict.REFUSED),
        (ModelTransportError("503 after 5 attempts", provider="x"), Verdict.ERROR),
    ],
)
def test_failures_are_verdicts(reply: Reply | Exception, verdict: Verdict) -> None:
    rec = run(Scripted(lambda t: reply))
    assert rec["verdict"] == verdict.value


def test_usage_and_cost_accounting() -> None:
    from chesseval.core.players import Usage

    rec = run(Scripted(lambda t: Reply(text=["Be6+", "Qf8#"][t.index], usage=Usage(10, 5, 2), cost_usd=0.5, retries=1)))
    assert rec["usage"] == {"input_tokens": 20, "output_tokens": 10, "reasoning_tokens": 4, "cached_tokens": None}
    assert rec["cost_usd"] == 1.0 and rec["retries"] == 2
    rec = run(Scripted(lambda t: Reply(text=["Be6+", "Qf8#"][t.index], cost_usd=0.5 if t.index == 0 else None)))
    assert rec["cost_usd"] is None  # one unknown price makes the total unknown, never a partial sum


@pytest.fixture
def small_suite(tmp_path: Path, lichess_sample: Path) -> Path:
    puzzles = [p for _, p in zip(range(60), iter_puzzles(lichess_sample))]
    path = tmp_path / "small.csv"
    with open(path, "w", encoding="utf-8") as fh:
        write_lichess_csv(puzzles, fh)
    return path


def test_fatal_error_stops_and_keeps_records(tmp_path: Path, small_suite: Path) -> None:
    calls = []

    def answer(t: Turn) -> Reply | Exception:
        calls.append(t.puzzle.id)
        if len(calls) > 10:
            return ModelFatalError("test: insufficient_quota; add credit", provider="test")
        return Reply(text="Answer: ???")

    config = RunConfig(model="test/scripted", suite=str(small_suite), runs_dir=tmp_path / "runs", max_connections=1)
    with pytest.raises(ModelFatalError):
        evaluate(config, player=Scripted(answer))
    (run_dir,) = (tmp_path / "runs").iterdir()
    header = json.loads((run_dir / "run.json").read_text())
    assert header["status"] == "error" and "insufficient_quota" in header["error"]
    assert len(RunDir(run_dir).records()) == 10
    # Resuming asks only what is missing.
    calls.clear()
    result = evaluate(config, player=Scripted(lambda t: (calls.append(t.puzzle.id), Reply(text="Answer: ???"))[1]))
    assert result.resumed and result.asked == 50 and len(calls) == 50
    assert len({r["puzzle_id"] for r in RunDir(run_dir).records()}) == 60 == len(RunDir(run_dir).records())
    assert json.loads((run_dir / "run.json").read_text())["status"] == "success"


def test_retry_errors_on_resume(tmp_path: Path, small_suite: Path) -> None:
    flaky = Scripted(lambda t: ModelTransportError("down", provider="x") if t.puzzle.id < "0005" else Reply(text="Answer: ???"))
    config = RunConfig(model="test/scripted", suite=str(small_suite), runs_dir=tmp_path / "runs")
    first = evaluate(config, player=flaky)
    n_err = first.results["overall"]["verdicts"]["error"]
    assert n_err > 0
    again = evaluate(RunConfig(**{**config.__dict__, "retry_errors": True}), player=Scripted(lambda t: Reply(text="Answer: ???")))
    assert again.asked == n_err and again.results["overall"]["verdicts"]["error"] == 0
    assert again.results["overall"]["n"] == 60


def cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "chesseval", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_records(runs: Path, n: int, proc: subprocess.Popen[str], timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in runs.glob("*/records.jsonl"):
            if d.read_bytes().count(b"\n") >= n:
                return d.parent
        if proc.poll() is not None:
            pytest.fail(f"run ended before {n} records: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail("no progress")


def _verdicts(run_dir: Path) -> dict[str, tuple[str, int]]:
    return {r["puzzle_id"]: (r["verdict"], r["solver_moves_found"]) for r in RunDir(run_dir).records()}


@pytest.mark.slow
def test_kill_9_then_resume_equals_uninterrupted(tmp_path: Path, lichess_sample: Path) -> None:
    puzzles = [p for _, p in zip(range(150), iter_puzzles(lichess_sample))]
    suite = tmp_path / "s.csv"
    with open(suite, "w", encoding="utf-8") as fh:
        write_lichess_csv(puzzles, fh)
    args = ["run", "--model", "builtin/search", "-M", "depth=2", "--suite", str(suite), "--runs-dir", "runs", "--max-connections", "4", "--quiet"]
    proc = cli(*args, cwd=tmp_path)
    run_dir = _wait_for_records(tmp_path / "runs", 20, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = len(RunDir(run_dir).records())
    assert 20 <= killed_at < 150
    done = cli(*args, cwd=tmp_path)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert out.strip().splitlines()[-1].endswith(run_dir.name)
    records = RunDir(run_dir).records()
    assert len(records) == 150 and len({r["puzzle_id"] for r in records}) == 150
    fresh = cli(*args, "--new", "--runs-dir", "fresh", cwd=tmp_path)
    out2, err2 = fresh.communicate(timeout=300)
    assert fresh.returncode == 0, err2
    fresh_dir = Path(tmp_path / out2.strip().splitlines()[-1]) if not Path(out2.strip().splitlines()[-1]).is_absolute() else Path(out2.strip().splitlines()[-1])
    assert _verdicts(run_dir) == _verdicts(fresh_dir)
    a = json.loads((run_dir / "results.json").read_text())
    b = json.loads((fresh_dir / "results.json").read_text())
    assert a["overall"] == b["overall"] and a["buckets"] == b["buckets"]


@pytest.mark.slow
def test_ctrl_c_marks_cancelled_and_reports(tmp_path: Path, lichess_sample: Path) -> None:
    # Enough puzzles that the run cannot finish before the signal lands, even on a loaded machine.
    puzzles = [p for _, p in zip(range(1500), iter_puzzles(lichess_sample))]
    suite = tmp_path / "s.csv"
    with open(suite, "w", encoding="utf-8") as fh:
        write_lichess_csv(puzzles, fh)
    proc = cli("run", "--model", "builtin/search", "-M", "depth=2", "--suite", str(suite), "--runs-dir", "runs", "--quiet", cwd=tmp_path)
    run_dir = _wait_for_records(tmp_path / "runs", 10, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    header = json.loads((run_dir / "run.json").read_text())
    assert header["status"] == "cancelled"
    results = json.loads((run_dir / "results.json").read_text())
    n = len(RunDir(run_dir).records())
    assert results["overall"]["n"] == n >= 10
    assert "solve rate" in out and "cancelled" in out
