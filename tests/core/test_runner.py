"""The run loop: the interactive protocol, verdicts as data, records, resume, kill -9 and Ctrl-C."""

from __future__ import annotations

import asyncio
import datetime
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

from chesseval.api import evaluate
from chesseval.core.judge import Verdict
from chesseval.core.players import Reply, StopReason, Turn
from chesseval.core.puzzles import Puzzle, iter_puzzles, write_lichess_csv
from chesseval.core.records import RunDir
from chesseval.core.runner import RunConfig, play_puzzle
from chesseval.errors import ModelFatalError, ModelTransportError

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


@pytest.mark.parametrize(
    ("answer", "verdict", "found", "rules"),
    [
        ("The bishop check first.\n\nAnswer: Be6+ Kd8 Qf8#", "correct", 2, ["marker", "marker"]),
        ("a2e6 d7d8 f7f8", "correct", 2, ["line-of-play", "line-of-play"]),
        ("Answer: Be6+ Kd8 Qxg7", "wrong", 1, ["marker", "marker"]),
        # a reply that cannot be played ends the line: the next solver move is missing
        ("Answer: Be6+ Ke8 Qf8#", "no_move", 1, ["marker", "marker"]),
        ("Answer: Be6+", "no_move", 1, ["marker", "marker"]),  # the line stops early
        ("Answer: Qxg7", "wrong", 0, ["marker"]),
    ],
)
def test_whole_line_mode_asks_once_and_judges_move_by_move(answer: str, verdict: str, found: int, rules: list[str]) -> None:
    from chesseval.core.prompts import LINE_TEMPLATE_ID, PromptOptions

    player = Scripted(lambda t: Reply(text=answer))
    rec = asyncio.run(play_puzzle(P, player, options=PromptOptions(expects="line")))
    assert len(player.turns) == 1 and "whole solution line" in player.turns[0].messages[0]["content"]
    assert rec["verdict"] == verdict and rec["solver_moves_found"] == found
    assert [t["parse_rule"] for t in rec["turns"]] == rules
    assert [bool(t.get("from_line")) for t in rec["turns"]] == [False] + [True] * (len(rules) - 1)
    assert LINE_TEMPLATE_ID == "chesseval-line-v1"


@pytest.mark.parametrize(("answer", "verdict", "played"), [("Answer: Qh5 g6 Qxf7#", "correct", "h5f7"),
                                                         ("Answer: Qh5 g6 Qf3", "wrong", "h5f3")])
def test_whole_line_moves_are_read_again_after_the_real_reply(answer: str, verdict: str, played: str) -> None:
    """The model expected ...g6, the puzzle replies ...Nf6: its next move is judged where it lands."""
    from chesseval.core.prompts import PromptOptions

    scholar = Puzzle(id="sch", fen="r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/8/PPPP1PPP/RNBQK1NR w KQkq - 2 3",
                     moves=("d1h5", "g8f6", "h5f7"), has_setup_move=False)
    rec = asyncio.run(play_puzzle(scholar, Scripted(lambda t: Reply(text=answer)), options=PromptOptions(expects="line")))
    assert rec["verdict"] == verdict and rec["turns"][1]["played_uci"] == played and rec["turns"][1]["from_line"]


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
    puzzles = [p for _, p in zip(range(60), iter_puzzles(lichess_sample), strict=False)]
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


def _wait_for_records(runs: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> Path:
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
    puzzles = [p for _, p in zip(range(150), iter_puzzles(lichess_sample), strict=False)]
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


def _search_suite(tmp_path: Path, lichess_sample: Path, n: int) -> Path:
    puzzles = [p for _, p in zip(range(n), iter_puzzles(lichess_sample), strict=False)]
    suite = tmp_path / "s.csv"
    with open(suite, "w", encoding="utf-8") as fh:
        write_lichess_csv(puzzles, fh)
    return suite


def _stopped_after(run_dir: Path, sent_at: float) -> float:
    """Seconds from ``sent_at`` (``time.time()``) to the moment the run wrote its final status.

    The run's own clock, not the process exit: on a loaded machine a niced interpreter can take
    another second to tear down after the run has stopped, which is not the run's doing (the exit
    itself is bounded separately and generously)."""
    finished = json.loads((run_dir / "run.json").read_text())["finished_at"]
    return datetime.datetime.fromisoformat(finished.replace("Z", "+00:00")).timestamp() - sent_at


def _interrupt_after_records(tmp_path: Path, suite: Path, depth: int, n_records: int, signals: int = 1) -> tuple[subprocess.Popen[str], Path, float]:
    """Start a real ``chesseval run`` of builtin/search, wait for ``n_records`` records, send SIGINT
    ``signals`` times; return the process, its run folder and the seconds from the first SIGINT to
    the run's end (its status written; with two signals, to the process exit)."""
    proc = cli("run", "--model", "builtin/search", "-M", f"depth={depth}", "--suite", str(suite), "--runs-dir", "runs", "--quiet", cwd=tmp_path)
    # Waiting for records (not for a fixed time) keeps this honest on a loaded machine: the signal
    # lands while the search is busy, whatever the start-up took.
    run_dir = _wait_for_records(tmp_path / "runs", n_records, proc, timeout=180)
    sent, sent_at = time.monotonic(), time.time()
    proc.send_signal(signal.SIGINT)
    for _ in range(signals - 1):
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the run did not stop within 60 s of SIGINT")
    exited = time.monotonic() - sent
    assert exited < 10, f"the process took {exited:.1f}s to exit"
    return proc, run_dir, exited if signals > 1 else _stopped_after(run_dir, sent_at)


@pytest.mark.slow
def test_ctrl_c_marks_cancelled_and_reports(tmp_path: Path, lichess_sample: Path) -> None:
    # Enough puzzles that the run cannot finish before the signal lands, even on a loaded machine.
    suite = _search_suite(tmp_path, lichess_sample, 1500)
    proc, run_dir, _ = _interrupt_after_records(tmp_path, suite, depth=2, n_records=10)
    out, err = proc.communicate()
    assert proc.returncode == 130, err
    header = json.loads((run_dir / "run.json").read_text())
    assert header["status"] == "cancelled"
    results = json.loads((run_dir / "results.json").read_text())
    n = len(RunDir(run_dir).records())
    assert results["overall"]["n"] == n >= 10
    assert n < 1500
    assert "solve rate" in out and "cancelled" in out
    assert "Traceback" not in err


@pytest.mark.slow
def test_ctrl_c_stops_a_cpu_bound_search_within_2_s(tmp_path: Path, lichess_sample: Path) -> None:
    # builtin/search depth=3 spends its time in Python code, never awaiting: before the search ran
    # in a cancellable worker thread, SIGINT waited for every puzzle to be done.
    suite = _search_suite(tmp_path, lichess_sample, 400)
    proc, run_dir, took = _interrupt_after_records(tmp_path, suite, depth=3, n_records=1)
    out, err = proc.communicate()
    assert proc.returncode == 130, err
    assert took < 2.0, f"took {took:.2f}s to stop"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "cancelled"
    n = len(RunDir(run_dir).records())
    assert 1 <= n < 400
    assert json.loads((run_dir / "results.json").read_text())["overall"]["n"] == n
    assert "cancelled" in out and "Traceback" not in err


@pytest.mark.slow
def test_second_ctrl_c_exits_at_once_without_traceback(tmp_path: Path, lichess_sample: Path) -> None:
    suite = _search_suite(tmp_path, lichess_sample, 400)
    proc, run_dir, took = _interrupt_after_records(tmp_path, suite, depth=3, n_records=1, signals=2)
    out, err = proc.communicate()
    assert proc.returncode == 130, err
    assert took < 2.0, f"took {took:.2f}s to stop"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    # Whatever the second signal cut short, every finished record is whole and the run resumes.
    assert all(r["verdict"] for r in RunDir(run_dir).records())


@pytest.mark.slow
def test_a_second_process_on_a_running_folder_stops_at_once_naming_the_holder(tmp_path: Path, lichess_sample: Path) -> None:
    suite = _search_suite(tmp_path, lichess_sample, 1500)
    args = ["run", "--model", "builtin/search", "-M", "depth=2", "--suite", str(suite), "--runs-dir", "runs", "--quiet"]
    first = cli(*args, cwd=tmp_path)
    try:
        run_dir = _wait_for_records(tmp_path / "runs", 1, first)
        second = cli(*args, cwd=tmp_path)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 5, err
        (line,) = err.strip().splitlines()
        assert f"in use by process {first.pid}" in line and run_dir.name in line
        assert first.poll() is None  # the holder runs on
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    records = RunDir(run_dir).records()
    assert len({r["puzzle_id"] for r in records}) == len(records)
    assert [d.name for d in (tmp_path / "runs").iterdir()] == [run_dir.name]


@pytest.mark.slow
def test_two_copies_started_together_ask_each_puzzle_once(tmp_path: Path, lichess_sample: Path) -> None:
    # Started at the same instant, both find no run: finding-or-creating is one locked step, so the
    # second finds the first's new folder locked (before: two folders, every puzzle paid twice).
    suite = _search_suite(tmp_path, lichess_sample, 300)
    args = ["run", "--model", "builtin/search", "-M", "depth=2", "--suite", str(suite), "--runs-dir", "runs", "--quiet"]
    procs = [cli(*args, cwd=tmp_path) for _ in range(2)]
    codes = sorted(p.wait(timeout=300) for p in procs)
    for p in procs:
        p.communicate()
    assert codes == [0, 5], codes
    (run_dir,) = (tmp_path / "runs").iterdir()
    records = RunDir(run_dir).records()
    assert len(records) == 300 == len({r["puzzle_id"] for r in records})


@pytest.mark.slow
def test_a_lock_left_by_kill_9_does_not_block_the_resume(tmp_path: Path, lichess_sample: Path) -> None:
    suite = _search_suite(tmp_path, lichess_sample, 300)
    args = ["run", "--model", "builtin/search", "-M", "depth=1", "--suite", str(suite), "--runs-dir", "runs", "--quiet"]
    killed = cli(*args, cwd=tmp_path)
    run_dir = _wait_for_records(tmp_path / "runs", 1, killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert (run_dir / "run.lock").read_text().split() == [str(killed.pid)]  # stale: its holder is dead
    again = cli(*args, cwd=tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert len(RunDir(run_dir).records()) == 300


@pytest.mark.slow
def test_ctrl_c_from_a_terminal_stops_an_engine_run(tmp_path: Path, lichess_sample: Path, stockfish_path: str) -> None:
    # A terminal sends SIGINT to the whole process group, the engines included. They run in their
    # own group, so none dies under a search (which printed asyncio tracebacks), and the run stops.
    suite = _search_suite(tmp_path, lichess_sample, 300)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHESSEVAL_CACHE_DIR": str(tmp_path / "cache")}
    args = ["run", "--model", "engine/stockfish", "-M", "nodes=300000", "-M", "processes=1", "--suite", str(suite), "--runs-dir", "runs", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "chesseval", *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    run_dir = _wait_for_records(tmp_path / "runs", 1, proc, timeout=180)
    sent, sent_at = time.monotonic(), time.time()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 10
    assert proc.returncode == 130, err
    took = _stopped_after(run_dir, sent_at)
    assert took < 2.0, f"took {took:.2f}s to stop"
    assert "Traceback" not in err and "ERROR" not in err, err
    assert json.loads((run_dir / "run.json").read_text())["status"] == "cancelled"
    assert 1 <= len(RunDir(run_dir).records()) < 300
