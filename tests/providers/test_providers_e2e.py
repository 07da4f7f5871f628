"""``chesseval run`` against the scripted server: faults, kill -9 and resume, fatal errors, secrets.

The server answers puzzle turns from a table built from the puzzles themselves (most answers right,
a fixed quarter of first moves wrong), so a run's solve rate is known and must not depend on the
faults injected on the way.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import chess
import pytest
from llm_server import Fault, ScriptedLLMServer

from chesseval.api import evaluate
from chesseval.cli import main
from chesseval.core.players import Reply
from chesseval.core.puzzles import Puzzle, iter_puzzles, write_lichess_csv
from chesseval.core.records import read_records
from chesseval.core.runner import RunConfig
from chesseval.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
FAKE_KEY = "sk-chesseval-FAKE-KEY-7d1f3a9c42"
FAKE_PASSWORD = "pw-FAKE-b64e19"
FEN_RE = re.compile(r"Position \(FEN\): (\S+ [wb] \S+ \S+ \d+ \d+)")


# -- the puzzles and an answer function that knows them ---------------------------------------


def make_puzzles(sample: Path, n: int) -> list[Puzzle]:
    return list(islice(iter_puzzles(sample), n))


def write_suite(puzzles: list[Puzzle], path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        write_lichess_csv(puzzles, fh)
    return path


def is_wrong_puzzle(puzzle: Puzzle) -> bool:
    return zlib.crc32(puzzle.id.encode()) % 4 == 0


def build_answerer(puzzles: list[Puzzle]) -> tuple[Callable[[list[dict[str, str]]], str], dict[str, str]]:
    """(answer function, first-position FEN -> puzzle id)."""
    table: dict[str, str] = {}
    first: dict[str, str] = {}
    for p in puzzles:
        board = p.board()
        first[board.fen()] = p.id
        line = p.line
        for i in range(0, len(line), 2):
            move = board.parse_uci(line[i])
            answer = move
            if i == 0 and is_wrong_puzzle(p):
                answer = min((m for m in board.legal_moves if m != move), key=lambda m: m.uci(), default=move)
            table[board.fen()] = f"Looking ahead a few moves, the key idea is clear.\nAnswer: {board.san(answer)}"
            board.push(move)
            if i + 1 < len(line):
                board.push(chess.Move.from_uci(line[i + 1]))

    def answer(messages: list[dict[str, str]]) -> str:
        m = FEN_RE.search(messages[-1]["content"])
        return table.get(m.group(1), "I do not know.") if m else "No position given."

    return answer, first


def puzzle_of_request(messages: list[dict[str, str]], first: dict[str, str]) -> str | None:
    user = [m for m in messages if m["role"] == "user"]
    m = FEN_RE.search(user[0]["content"]) if user else None
    return first.get(m.group(1)) if m else None


def fault_pattern(seed: int, *, slow: float) -> Callable[[int, list[dict[str, str]]], Fault | None]:
    """Per block of 100 requests: 23 x 429 + Retry-After, 11 x 5xx, 6 drops, 6 slow, 54 answers."""
    rng = random.Random(seed)
    faults: list[Fault | None] = (
        [Fault("status", status=429, headers={"retry-after": "1"})] * 23
        + [Fault("status", status=s) for s in (500, 502, 503, 504, 500, 503, 502, 500, 503, 500, 503)]
        + [Fault("drop")] * 6
        + [Fault("slow", delay=slow)] * 6
        + [None] * 54
    )
    blocks: list[list[Fault | None]] = []
    lock = threading.Lock()

    def plan(index: int, messages: list[dict[str, str]]) -> Fault | None:
        block = index // 100
        with lock:
            while len(blocks) <= block:
                shuffled = faults[:]
                rng.shuffle(shuffled)
                blocks.append(shuffled)
            return blocks[block][index % 100]

    return plan


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOCAL_API_KEY", FAKE_KEY)
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CHESSEVAL_RETRY_WAIT_SCALE", "0.001")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("LOCAL_BASE_URL", raising=False)
    return tmp_path


def run_args(url: str, suite: Path, runs: Path, *extra: str) -> list[str]:
    return ["run", "--model", "openai-api/local/test", "--base-url", url + "/v1", "--suite", str(suite), "--runs-dir", str(runs), "--quiet", *extra]


def only_run(runs: Path) -> Path:
    dirs = [d for d in runs.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def verdicts(run: Path) -> dict[str, str]:
    return {str(r["puzzle_id"]): str(r["verdict"]) for r in read_records(run / "records.jsonl")}


# -- 1,000 puzzles through a faulty server ------------------------------------------------------


class ScriptedModel:
    """The server's answer function as an in-process player: the fault-free reference run."""

    def __init__(self, answer: Callable[[list[dict[str, str]]], str]) -> None:
        self.answer = answer

    @property
    def name(self) -> str:
        return "scripted/reference"

    def describe(self) -> dict[str, Any]:
        return {}

    async def play(self, turn: Any) -> Reply:
        return Reply(text=self.answer([dict(m) for m in turn.messages]))

    async def aclose(self) -> None:
        return None


def test_thousand_puzzles_through_faults_match_a_fault_free_run(env: Path, lichess_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    puzzles = make_puzzles(lichess_sample, 1000)
    suite = write_suite(puzzles, env / "thousand.csv")
    answer, _ = build_answerer(puzzles)
    expected_solved = sum(not is_wrong_puzzle(p) for p in puzzles)

    # Fault-free reference: the same answers, no transport at all.
    reference = evaluate(RunConfig(model="scripted/reference", suite=str(suite), runs_dir=env / "runs-clean", max_connections=32), player=ScriptedModel(answer))
    clean_run = reference.path
    clean_calls = sum(len(r["turns"]) for r in read_records(clean_run / "records.jsonl"))

    with ScriptedLLMServer(answer, fault_plan=fault_pattern(7, slow=0.6)) as faulty:
        started = time.monotonic()
        args = run_args(faulty.url, suite, env / "runs-faulty", "--max-connections", "32", "--no-cache", "--max-retries", "40", "--attempt-timeout", "0.3")
        assert main(args) == 0
        elapsed = time.monotonic() - started
        kinds = collections.Counter(r.fault for r in faulty.requests)
    err = capsys.readouterr().err
    faulty_run = only_run(env / "runs-faulty")

    total = len(faulty.requests)
    assert kinds["status:429"] / total >= 0.20
    assert sum(kinds[f"status:{s}"] for s in (500, 502, 503, 504)) / total >= 0.10
    assert kinds["drop"] / total >= 0.05 and kinds["slow"] / total >= 0.05
    assert kinds["answer"] >= clean_calls  # every turn was answered at least once

    records = list(read_records(faulty_run / "records.jsonl"))
    ids = [str(r["puzzle_id"]) for r in records]
    assert len(ids) == 1000 and len(set(ids)) == 1000 == len({p.id for p in puzzles})
    assert all(r["verdict"] in {"correct", "wrong"} for r in records), collections.Counter(r["verdict"] for r in records)
    # Retries are counted per record: every failed request shows up as a retry somewhere (an
    # attempt abandoned before the server saw it is a retry too, hence >=).
    failed_requests = total - sum(len(r["turns"]) for r in records)
    assert failed_requests <= sum(int(r["retries"]) for r in records) <= failed_requests * 1.1 + 10
    assert verdicts(faulty_run) == verdicts(clean_run)
    results = json.loads((faulty_run / "results.json").read_text())
    assert results["overall"]["solved"] == expected_solved == reference.results["overall"]["solved"]
    assert "failed after every retry" not in err
    print(f"\n1000 puzzles: {clean_calls} turns; {total} requests with faults {dict(kinds)}; {elapsed:.1f}s")


# -- kill -9 and resume -----------------------------------------------------------------------


def test_kill_9_then_rerun_asks_nothing_already_recorded(env: Path, lichess_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    puzzles = make_puzzles(lichess_sample, 120)
    suite = write_suite(puzzles, env / "kill.csv")
    answer, first = build_answerer(puzzles)

    with ScriptedLLMServer(answer) as server:
        # The uninterrupted reference run (its own runs and cache dirs).
        monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(env / "cache-ref"))
        assert main(run_args(server.url, suite, env / "runs-ref")) == 0
        monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(env / "cache"))
        calls_per_puzzle = collections.Counter(puzzle_of_request(r.messages, first) for r in server.requests)
        server.reset()

        server.latency = 0.02  # slow enough to kill it half-way
        records = env / "runs"
        proc = subprocess.Popen(
            [sys.executable, "-m", "chesseval", *run_args(server.url, suite, records, "--max-connections", "4")],
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
            cwd=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                files = list(records.glob("*/records.jsonl"))
                if files and sum(1 for _ in open(files[0])) >= 40:
                    break
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        run = only_run(records)
        recorded_before = set(verdicts(run))  # complete lines only; a torn last line is repaired away
        assert 40 <= len(recorded_before) < len(puzzles)
        requested_before = collections.Counter(puzzle_of_request(r.messages, first) for r in server.requests)

        server.reset()
        server.latency = 0.0
        assert main(run_args(server.url, suite, records, "--max-connections", "4")) == 0
        asked_again = {puzzle_of_request(r.messages, first) for r in server.requests}

    assert only_run(records) == run  # resumed the same folder
    assert not asked_again & recorded_before  # no call for any puzzle already recorded
    todo = {p.id for p in puzzles} - recorded_before
    # Only the calls in flight at the kill are paid twice; the rest come from the response cache.
    in_flight = sum(requested_before[pid] for pid in todo)
    assert len(server.requests) <= sum(calls_per_puzzle[pid] for pid in todo)
    assert len(server.requests) + in_flight <= sum(calls_per_puzzle[pid] for pid in todo) + 4  # 4 connections
    final = {str(r["puzzle_id"]): r for r in read_records(run / "records.jsonl")}
    reference = {str(r["puzzle_id"]): r for r in read_records(only_run(env / "runs-ref") / "records.jsonl")}
    assert set(final) == set(reference) == {p.id for p in puzzles}

    def essence(r: dict[str, Any]) -> Any:
        return (r["verdict"], r["solver_moves_found"], [(t.get("answer"), t.get("played_uci"), t.get("outcome")) for t in r["turns"]])

    assert {k: essence(v) for k, v in final.items()} == {k: essence(v) for k, v in reference.items()}


# -- fatal answers stop the run --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["quota", "auth"])
def test_quota_and_auth_errors_stop_the_run_within_seconds(env: Path, lichess_sample: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    puzzles = make_puzzles(lichess_sample, 1000)
    suite = write_suite(puzzles, env / "fatal.csv")
    with ScriptedLLMServer(fault_plan=lambda i, m: Fault(kind)) as server:
        started = time.monotonic()
        code = main(run_args(server.url, suite, env / "runs", "--max-connections", "16"))
        elapsed = time.monotonic() - started
        calls = len(server.requests)
    err = capsys.readouterr().err
    assert code == ExitCode.PROVIDER
    assert elapsed < 5
    assert calls <= 16  # one failed call per connection at most, never retried
    assert "openai-api/local" in err and "Fix:" in err
    assert ("quota" in err) if kind == "quota" else ("LOCAL_API_KEY" in err)
    assert FAKE_KEY not in err
    header = json.loads((only_run(env / "runs") / "run.json").read_text())
    assert header["status"] == "error" and "Fix:" in header["error"]


# -- secrets ----------------------------------------------------------------------------------


def all_text_under(*roots: Path) -> Iterator[tuple[Path, bytes]]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                yield path, path.read_bytes()


def test_fake_key_is_nowhere_on_disk_or_in_output(env: Path, lichess_sample: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    puzzles = make_puzzles(lichess_sample, 40)
    suite = write_suite(puzzles, env / "secret.csv")
    answer, _ = build_answerer(puzzles)
    caplog.set_level(logging.DEBUG)  # httpx/httpcore debug logs included
    # 46 % of calls fail here; enough retries that no call runs out of them (exit 0 needs every
    # puzzle answered: a puzzle whose retries ran out would end the run with exit 3).
    retries = ("--max-retries", "30")
    with ScriptedLLMServer(answer, fault_plan=fault_pattern(3, slow=0.0)) as server:
        url = server.url.replace("http://", f"http://alice:{FAKE_PASSWORD}@")
        assert main(["-vv", *run_args(url, suite, env / "runs", "-M", "seed=3", *retries)]) == 0
        # The key did travel where it belongs: in the Authorization header of every request.
        assert all(r.headers.get("authorization") == f"Bearer {FAKE_KEY}" for r in server.requests)
        assert main(["-vv", *run_args(server.url, suite, env / "runs2", "-M", f"api_key={FAKE_KEY}x", *retries)]) == 0
        server.fault_plan = lambda i, m: Fault("auth")
        assert main(["-vv", *run_args(server.url, suite, env / "runs3", "--no-cache")]) == ExitCode.PROVIDER
    out = capsys.readouterr()
    written = list(all_text_under(env / "runs", env / "runs2", env / "runs3", env / "cache"))
    assert any(p.name == "records.jsonl" for p, _ in written) and any(p.suffix == ".json" and "cache" in p.parts for p, _ in written)
    for secret in (FAKE_KEY, FAKE_PASSWORD):
        leaks = [str(p) for p, data in written if secret.encode() in data]
        assert leaks == [], f"{secret} written to {leaks}"
        assert secret not in out.out and secret not in out.err
        assert secret not in caplog.text


# -- the other wire formats end to end ---------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "variable", "suffix"),
    [("anthropic/claude-test", "ANTHROPIC_API_KEY", ""), ("google/gemini-2.5-test", "GEMINI_API_KEY", ""), ("openai/gpt-test", "OPENAI_API_KEY", "/v1")],
)
def test_hosted_formats_end_to_end(env: Path, lichess_sample: Path, monkeypatch: pytest.MonkeyPatch, model: str, variable: str, suffix: str) -> None:
    puzzles = make_puzzles(lichess_sample, 40)
    suite = write_suite(puzzles, env / "formats.csv")
    answer, _ = build_answerer(puzzles)
    monkeypatch.setenv(variable, FAKE_KEY)
    with ScriptedLLMServer(answer) as server:
        server.enqueue_status(529 if model.startswith("anthropic") else 503)
        args = ["run", "--model", model, "--base-url", server.url + suffix, "--suite", str(suite), "--runs-dir", str(env / "runs"), "--quiet", "--reasoning-effort", "low"]
        assert main(args) == 0
    run = only_run(env / "runs")
    assert set(verdicts(run).values()) <= {"correct", "wrong"}
    assert sum(v == "correct" for v in verdicts(run).values()) == sum(not is_wrong_puzzle(p) for p in puzzles)
    header = json.loads((run / "run.json").read_text())
    assert header["player"]["provider"] == model.split("/")[0]
    assert header["player"]["generation"]["reasoning_effort"] == "low"


# -- failures that are data: error, empty and refused verdicts ---------------------------------


def test_exhausted_retries_malformed_answers_empty_budget_and_refusals_become_verdicts(env: Path, lichess_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    puzzles = make_puzzles(lichess_sample, 30)
    suite = write_suite(puzzles, env / "verdicts.csv")
    answer, first = build_answerer(puzzles)
    plan_for = {puzzles[0].id: Fault("status", status=503), puzzles[1].id: Fault("malformed"), puzzles[2].id: Fault("empty"), puzzles[3].id: Fault("refusal")}

    def plan(index: int, messages: list[dict[str, str]]) -> Fault | None:
        return plan_for.get(puzzle_of_request(messages, first) or "")

    with ScriptedLLMServer(answer, fault_plan=plan) as server:
        assert main(run_args(server.url, suite, env / "runs", "--max-retries", "2", "--max-tokens", "64")) == ExitCode.ANSWER_ERRORS
        asked = collections.Counter(puzzle_of_request(r.messages, first) for r in server.requests)
    err = capsys.readouterr().err
    records = {str(r["puzzle_id"]): r for r in read_records(only_run(env / "runs") / "records.jsonl")}
    assert len(records) == 30
    unavailable, malformed, empty, refused = (records[p.id] for p in puzzles[:4])
    assert unavailable["verdict"] == "error" and asked[puzzles[0].id] == 3  # 1 + 2 retries
    assert "HTTP 503" in unavailable["error"] and "gave up after 3 attempt(s)" in unavailable["error"]
    assert unavailable["turns"][0]["retries"] == 2
    # The retries of the call that finally failed are counted in the record and in results.json
    # (they were lost: the error path left the loop before adding them).
    assert unavailable["retries"] == 2 and unavailable["retry_wait_s"] == unavailable["turns"][0]["retry_wait_s"] > 0
    assert (unavailable["turns"][0]["error_type"], unavailable["turns"][0]["status_code"]) == ("ModelTransportError", 503)
    results = json.loads((only_run(env / "runs") / "results.json").read_text())
    assert sum(r["retries"] for r in records.values()) == 2
    assert results["accounting"]["retries"] == 2
    assert results["accounting"]["retry_wait_s"] == pytest.approx(sum(r["retry_wait_s"] for r in records.values()), abs=0.01)
    assert malformed["verdict"] == "error" and "not JSON" in malformed["error"] and asked[puzzles[1].id] == 1
    assert empty["verdict"] == "empty" and empty["turns"][0]["stop_reason"] == "max_tokens"
    assert empty["turns"][0]["usage"]["reasoning_tokens"] == 64
    assert refused["verdict"] == "refused" and refused["turns"][0]["refusal"]
    assert all(r["verdict"] in {"correct", "wrong"} for pid, r in records.items() if pid not in plan_for)
    assert "1 puzzle(s) got an empty or cut-off answer" in err
    assert "2 puzzle(s) failed after every retry" in err
