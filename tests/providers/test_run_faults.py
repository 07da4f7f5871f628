"""A run against a server that fails every call, or against nothing at all: the circuit breaker
stops it with the error and the fix, the progress line shows the retries from the first second."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import pytest
from llm_server import Fault, ScriptedLLMServer

from chesseval.cli import main
from chesseval.core.puzzles import iter_puzzles, write_lichess_csv
from chesseval.core.records import RunDir
from chesseval.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOCAL_API_KEY", "sk-FAKE-breaker")
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CHESSEVAL_RETRY_WAIT_SCALE", "0.001")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("LOCAL_BASE_URL", raising=False)
    return tmp_path


def suite_of(sample: Path, n: int, path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        write_lichess_csv(list(islice(iter_puzzles(sample), n)), fh)
    return path


def run_args(url: str, suite: Path, runs: Path, *extra: str) -> list[str]:
    return ["run", "--model", "openai-api/local/test", "--base-url", url + "/v1", "--suite", str(suite), "--runs-dir", str(runs), "--quiet", "--no-cache", *extra]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # bound and released: nothing listens there now


def test_a_server_answering_500_to_everything_trips_the_breaker(env: Path, lichess_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Before: 20/20 'error' verdicts after every retry, status success, exit 0.
    suite = suite_of(lichess_sample, 20, env / "s.csv")
    with ScriptedLLMServer(fault_plan=lambda i, m: Fault("status", status=500)) as server:
        started = time.monotonic()
        code = main(run_args(server.url, suite, env / "runs", "--max-retries", "2", "--max-connections", "4"))
        elapsed = time.monotonic() - started
        calls = len(server.requests)
        err = capsys.readouterr().err
        assert code == ExitCode.PROVIDER, err
        assert elapsed < 30
        assert calls == 4 * 3  # the first 4 calls (all in flight), 1 + 2 retries each; no more
        assert "the first 4 call(s) all failed with the same error" in err and "HTTP 500" in err and "Fix:" in err
        assert "run the same command again to resume" in err
        (run_dir,) = (env / "runs").iterdir()
        header = json.loads((run_dir / "run.json").read_text())
        assert header["status"] == "error" and "HTTP 500" in header["error"]
        # The failed puzzles are not recorded as answered, so fixing the server and resuming asks them.
        assert RunDir(run_dir).records() == []
        server.fault_plan = None
        assert main(run_args(server.url, suite, env / "runs", "--max-retries", "2", "--max-connections", "4")) == ExitCode.OK
    (again,) = (env / "runs").iterdir()
    assert again == run_dir and len(RunDir(run_dir).records()) == 20


def test_one_answer_among_the_first_calls_keeps_the_run_going(env: Path, lichess_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Only calls that *all* fail alike trip it: a server failing some puzzles is a run with error verdicts.
    suite = suite_of(lichess_sample, 12, env / "s.csv")
    answered = next(islice(iter_puzzles(suite), 1, None)).board().board_fen()  # the second puzzle, among the first in flight

    def plan(index: int, messages: list[dict[str, str]]) -> Fault | None:
        return None if answered in messages[-1]["content"] else Fault("status", status=503)

    with ScriptedLLMServer(fault_plan=plan) as server:
        code = main(run_args(server.url, suite, env / "runs", "--max-retries", "1", "--max-connections", "3"))
    assert code == ExitCode.ANSWER_ERRORS, capsys.readouterr().err
    (run_dir,) = (env / "runs").iterdir()
    records = RunDir(run_dir).records()
    assert len(records) == 12 and sum(r["verdict"] == "error" for r in records) == 11
    assert json.loads((run_dir / "results.json").read_text())["accounting"]["retries"] == 11


def test_a_closed_port_stops_with_the_fix(env: Path, lichess_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = suite_of(lichess_sample, 20, env / "s.csv")
    code = main(run_args(closed_port_url(), suite, env / "runs", "--max-retries", "2"))
    err = capsys.readouterr().err
    assert code == ExitCode.PROVIDER, err
    assert "cannot connect" in err and "Fix:" in err and "resume" in err


@pytest.mark.slow
def test_progress_line_shows_retries_and_the_last_error_while_waiting(tmp_path: Path, lichess_sample: Path) -> None:
    # A real terminal (a pty) on stderr, a real closed port and real backoff waits: before, nothing
    # was drawn until the first puzzle finished (two minutes of retries against a dead endpoint).
    suite = suite_of(lichess_sample, 5, tmp_path / "s.csv")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCAL_API_KEY": "sk-FAKE", "XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "300"}
    env.pop("CHESSEVAL_RETRY_WAIT_SCALE", None)
    master, slave = pty.openpty()
    args = run_args(closed_port_url(), suite, tmp_path / "runs")
    args.remove("--quiet")
    proc = subprocess.Popen([sys.executable, "-m", "chesseval", *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, text=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (b"waiting to retry" in seen and b"cannot connect" in seen and re.search(rb"retries [1-9]", seen)):
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            assert proc.poll() is None, seen.decode(errors="replace")
        text = seen.decode(errors="replace")
        assert "in flight" in text and "waiting to retry" in text, text[-1000:]
        assert "cannot connect" in text and re.search(r"retries [1-9]", text), text[-1000:]
        # Still retrying (the first backoff is 2 s or more), yet nothing has finished: the line came first.
        assert [p for p in (tmp_path / "runs").glob("*/records.jsonl") if p.read_text()] == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        os.close(master)
    assert proc.returncode == ExitCode.CANCELLED
