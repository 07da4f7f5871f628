"""``-M stream=``: every wire format streamed over a real loopback socket gives the reply the
unstreamed call gives; a stream cut, truncated, stalled or failing mid-way is retried (once
recorded) or stopped as its error event says."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from llm_server import Fault, ScriptedLLMServer
from provider_helpers import fmt, play_once, player_for, run, server, turn  # noqa: F401 (server, fmt: fixtures)

from chesseval.core.players import Reply, StopReason
from chesseval.errors import ConfigError, ModelFatalError, ModelTransportError
from chesseval.providers import create_player
from chesseval.providers.http import _read_events
from chesseval.providers.retry import RetryPolicy

ANSWER = "The rook takes on e7 and the queen follows.\nAnswer: Rxe7"


def comparable(reply: Reply) -> tuple[Any, ...]:
    extra = {k: v for k, v in reply.extra.items() if k not in ("streamed", "attempts", "retry_wait_s")}
    return reply.text, reply.stop_reason, reply.usage, reply.refusal, reply.cost_usd, extra


# -- the same reply both ways -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["answer", "empty", "refusal", "filtered"])
def test_streamed_reply_is_identical_to_the_unstreamed_one(server: ScriptedLLMServer, fmt: str, kind: str) -> None:
    replies = []
    for stream in ("false", "true"):
        server.enqueue(Fault(kind, text=ANSWER) if kind == "answer" else Fault(kind))
        replies.append(run(play_once(player_for(fmt, server, stream=stream, max_tokens=64))))
    plain, streamed = replies
    assert comparable(streamed) == comparable(plain)
    assert "streamed" not in plain.extra and streamed.extra["streamed"] is True
    if kind == "answer":
        assert streamed.text == ANSWER and streamed.stop_reason == StopReason.STOP
    if kind == "empty" and fmt != "anthropic":  # reasoning tokens arrive only in the final usage
        assert streamed.usage.reasoning_tokens == 64
    first, second = server.requests
    if fmt == "google":
        assert first.path.endswith(":generateContent") and second.path.endswith(":streamGenerateContent?alt=sse")
    else:
        assert second.json["stream"] is True and first.json.get("stream") is None
    if fmt == "chat":
        assert second.json["stream_options"] == {"include_usage": True}


def test_stream_and_plain_share_the_cache(server: ScriptedLLMServer, tmp_path: Path) -> None:
    server.enqueue_answer(ANSWER)
    plain = run(play_once(player_for("anthropic", server, cache=True, cache_dir=str(tmp_path))))
    again = run(play_once(player_for("anthropic", server, cache=True, cache_dir=str(tmp_path), stream="true")))
    assert again.cached and again.text == plain.text
    assert len(server.requests) == 1


def test_a_server_that_ignores_the_stream_flag_is_still_read(server: ScriptedLLMServer) -> None:
    server.enqueue(Fault("malformed", body=b'{"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 9}}'))
    reply = run(play_once(player_for("google", server, stream="true")))
    assert reply.refusal == "prompt blocked: SAFETY" and reply.usage.input_tokens == 9
    assert "streamed" in reply.extra  # asked for a stream, got (and read) one JSON answer


# -- when to stream ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "options", "expected"),
    [
        ("openai/gpt-test", {}, False),
        ("openai/gpt-test", {"max_tokens": 15999}, False),
        ("openai/gpt-test", {"max_tokens": 16000}, True),
        ("openai/gpt-test", {"reasoning_effort": "medium"}, False),
        ("openai/gpt-test", {"reasoning_effort": "high"}, True),
        ("openai/gpt-test", {"reasoning_effort": "xhigh", "api": "responses"}, True),
        ("openai/gpt-test", {"reasoning_effort": "high", "stream": "false"}, False),
        ("openai/gpt-test", {"stream": "true"}, True),
        ("openai/gpt-test", {"stream": True}, True),
        ("anthropic/claude-test", {}, False),
        ("anthropic/claude-test", {"reasoning_effort": "medium"}, False),  # 8k budget + 4k = 12k
        ("anthropic/claude-test", {"thinking_budget": 16000}, True),
        ("anthropic/claude-test", {"max_tokens": 32000}, True),
        ("google/gemini-2.5-test", {"thinking_budget": -1}, True),  # dynamic: as long as it likes
        ("google/gemini-2.5-test", {"thinking_budget": 8192}, False),
        ("google/gemini-2.5-test", {"reasoning_effort": "max"}, True),
    ],
)
def test_stream_auto_rule(model: str, options: dict[str, Any], expected: bool) -> None:
    player = create_player(model, {"api_key": "k", "base_url": "http://127.0.0.1:9", "cache": False, **options})
    assert player.streaming is expected  # type: ignore[attr-defined]
    described = player.describe()
    assert described["streaming"] is expected and described["stream"] in ("auto", "true", "false")
    run(player.aclose())  # type: ignore[attr-defined]


def test_bad_stream_value_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError, match=r"option stream='sometimes' is not auto, true or false"):
        create_player("openai/gpt-test", {"api_key": "k", "stream": "sometimes"})


# -- faults mid-stream ------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["stream_drop", "stream_truncated"])
def test_a_stream_cut_midway_is_retried_and_counted(server: ScriptedLLMServer, fmt: str, fault: str) -> None:
    server.enqueue(Fault(fault, text=ANSWER))
    server.enqueue_answer(ANSWER)
    reply = run(play_once(player_for(fmt, server, stream="true")))
    assert reply.text == ANSWER and reply.retries == 1 and reply.extra["attempts"] == 2
    assert [r.fault for r in server.requests] == [fault, "answer"]


def test_a_cut_stream_says_what_happened(server: ScriptedLLMServer) -> None:
    for _ in range(2):
        server.enqueue(Fault("stream_truncated"))
    with pytest.raises(ModelTransportError, match=r"the stream ended before message_stop .*gave up after 2 attempt"):
        run(play_once(player_for("anthropic", server, stream="true", policy=RetryPolicy.no_wait(max_retries=1))))


def test_an_overloaded_error_event_midstream_is_retried(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue(Fault("stream_error"))  # overloaded_error / server_error / UNAVAILABLE
    server.enqueue_answer(ANSWER)
    messages: list[str] = []
    player = player_for(fmt, server, stream="true")
    player._on_retry = lambda exc, wait: messages.append(str(exc))  # type: ignore[method-assign]
    reply = run(play_once(player))
    assert reply.text == ANSWER and reply.retries == 1
    assert len(messages) == 1 and "error event in the stream" in messages[0]


def _failed(code: str) -> dict[str, Any]:
    """A Responses API ``response.failed`` event."""
    return {"type": "response.failed", "sequence_number": 9, "response": {"id": "resp_x", "object": "response", "status": "failed", "output": [], "error": {"code": code, "message": f"failed: {code}"}}}


@pytest.mark.parametrize(
    ("fmt_", "body", "expected"),
    [
        ("anthropic", {"type": "error", "error": {"type": "billing_error", "message": "Your credit balance is too low."}}, "quota, credit or billing"),
        ("anthropic", {"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}}, "the request was refused"),
        ("chat", {"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota", "code": "insufficient_quota"}}, "quota, credit or billing"),
        ("responses", _failed("invalid_prompt"), r"as HTTP 400: failed: invalid_prompt\).*request was refused"),
        ("google", {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT", "details": [{"reason": "API_KEY_INVALID"}]}}, "the API key was rejected"),
    ],
)
def test_a_fatal_error_event_midstream_stops_at_once(server: ScriptedLLMServer, fmt_: str, body: dict[str, Any], expected: str) -> None:
    server.enqueue(Fault("stream_error", body=body))
    with pytest.raises(ModelFatalError, match=expected):
        run(play_once(player_for(fmt_, server, stream="true")))
    assert len(server.requests) == 1


def test_a_failed_response_for_a_passing_reason_is_retried(server: ScriptedLLMServer) -> None:
    server.enqueue(Fault("stream_error", body=_failed("server_error")))
    server.enqueue_answer(ANSWER)
    reply = run(play_once(player_for("responses", server, stream="true")))
    assert reply.text == ANSWER and reply.retries == 1


def test_a_stream_silent_longer_than_the_attempt_timeout_is_retried(server: ScriptedLLMServer) -> None:
    server.enqueue(Fault("stream_stall", delay=1.0))
    server.enqueue_answer(ANSWER)
    messages: list[str] = []
    player = player_for("chat", server, stream="true", attempt_timeout=0.3)
    player._on_retry = lambda exc, wait: messages.append(str(exc))  # type: ignore[method-assign]
    reply = run(play_once(player))
    assert reply.text == ANSWER and reply.retries == 1
    assert messages == ["openai: the stream sent nothing for 0.3s (the attempt timeout)"]


def test_a_stream_longer_than_the_attempt_timeout_is_fine_while_it_keeps_sending(server: ScriptedLLMServer) -> None:
    # The attempt timeout bounds each silence, not the whole stream: ~20 events 0.1 s apart take
    # 2 s, four times the 0.5 s attempt timeout, and arrive whole.
    server.enqueue(Fault("stream_slow", delay=0.1, text=ANSWER))
    reply = run(play_once(player_for("responses", server, stream="true", attempt_timeout=0.5)))
    assert reply.text == ANSWER and reply.retries == 0
    assert reply.latency_s > 1.0


def test_the_total_timeout_caps_a_stream(server: ScriptedLLMServer) -> None:
    server.enqueue(Fault("stream_stall", delay=1.5))
    with pytest.raises(ModelTransportError, match=r"did not finish within its total timeout of 0.4s"):
        run(play_once(player_for("google", server, stream="true", attempt_timeout=5, timeout=0.4, policy=RetryPolicy.no_wait(max_retries=0))))


def test_one_connection_slot_survives_cut_streams(server: ScriptedLLMServer) -> None:
    player = player_for("chat", server, stream="true", max_connections=1)
    server.enqueue(Fault("stream_drop"), Fault("stream_stall", delay=1.0))

    async def scenario() -> list[int]:
        try:
            results = await asyncio.gather(*(player.play(turn(f"q{i}")) for i in range(4)))
            return sorted(r.retries for r in results)
        finally:
            await player.aclose()

    # The 1 s stall is within make_player's 2 s attempt timeout: only the cut stream is retried.
    assert run(scenario()) == [0, 0, 0, 1]


# -- the SSE reader ---------------------------------------------------------------------------


def test_sse_reader_follows_the_event_stream_rules() -> None:
    raw = b": keep-alive comment\r\n\r\nevent: ping\r\ndata: {}\r\n\r\ndata: line one\ndata:line two\n\nid: 7\nretry: 10\ndata: last without blank line"

    async def read() -> list[tuple[str, str]]:
        response = httpx.Response(200, content=raw)
        return [(e.event, e.data) for e in await _read_events(response)]

    assert run(read()) == [("ping", "{}"), ("message", "line one\nline two"), ("message", "last without blank line")]


# -- through the run loop: a cut stream is one record ------------------------------------------


def test_run_with_streams_cut_midway_records_each_puzzle_once_and_resumes_unstreamed(tmp_path: Path, lichess_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from itertools import islice

    from chesseval.cli import main
    from chesseval.core.puzzles import iter_puzzles, write_lichess_csv
    from chesseval.core.records import read_records

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHESSEVAL_RETRY_WAIT_SCALE", "0")
    monkeypatch.setenv("LOCAL_API_KEY", "sk-local-FAKE")
    puzzles = list(islice(iter_puzzles(lichess_sample), 6))
    suite = tmp_path / "six.csv"
    with open(suite, "w", encoding="utf-8") as fh:
        write_lichess_csv(puzzles, fh)
    cut = {"n": 0}

    def plan(index: int, messages: list[dict[str, str]]) -> Fault | None:
        cut["n"] += index % 3 == 0
        return Fault("stream_drop") if index % 3 == 0 else None  # every third request dies mid-stream

    with ScriptedLLMServer(lambda m: "Answer: e4", fault_plan=plan) as server:
        args = ["run", "--model", "openai-api/local/test", "--base-url", server.url + "/v1", "--suite", str(suite), "--runs-dir", str(tmp_path / "runs"), "--quiet", "--no-cache", "--max-connections", "2", "-M", "stream=true"]
        main(args)
        requests = len(server.requests)
        (header,) = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*/run.json")]
        assert header["player"]["streaming"] is True
        # Streaming is transport, not the answer: the same run unstreamed resumes this folder.
        main([*args[:-1], "stream=false"])
        assert len(server.requests) == requests
    (run_dir,) = [d for d in (tmp_path / "runs").iterdir() if d.is_dir()]
    records = list(read_records(run_dir / "records.jsonl"))
    assert sorted(r["puzzle_id"] for r in records) == sorted(p.id for p in puzzles)
    turns = sum(len(r["turns"]) for r in records)
    assert sum(int(r["retries"]) for r in records) == requests - turns == cut["n"] > 0
    assert all(t["extra"].get("streamed") for r in records for t in r["turns"])
