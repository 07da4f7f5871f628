"""Every scripted fault, for every wire format, through real httpx, tenacity and a loopback socket."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from llm_server import Fault, ScriptedLLMServer
from provider_helpers import FAKE_KEY, make_player, play_once, run, turn

from chesseval.errors import ModelFatalError, ModelResponseError, ModelTransportError
from chesseval.core.players import StopReason
from chesseval.providers.retry import RetryPolicy

# (model, extra options): one per wire format.
FORMATS = {
    "chat": ("openai/gpt-test", {}),
    "responses": ("openai/gpt-test", {"api": "responses"}),
    "anthropic": ("anthropic/claude-test", {}),
    "google": ("google/gemini-2.5-test", {}),
}


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer() as s:
        yield s


@pytest.fixture(params=sorted(FORMATS))
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class SleepRecorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def player_for(fmt: str, server: ScriptedLLMServer, *, policy: RetryPolicy | None = None, **options: Any):  # type: ignore[no-untyped-def]
    model, extra = FORMATS[fmt]
    return make_player(model, server.url, policy=policy, **{**extra, **options})


def test_answer(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_answer("Answer: Rxe7")
    reply = run(play_once(player_for(fmt, server)))
    assert reply.text == "Answer: Rxe7"
    assert reply.stop_reason == StopReason.STOP
    assert reply.retries == 0 and not reply.cached
    assert reply.usage.input_tokens and reply.usage.input_tokens > 0
    assert reply.usage.output_tokens == 2
    assert reply.latency_s > 0
    assert len(server.requests) == 1


def test_messages_reach_the_server_in_its_format(server: ScriptedLLMServer, fmt: str) -> None:
    run(play_once(player_for(fmt, server), turn("What is the best move?", system="Be brief.")))
    assert server.requests[0].format == {"chat": "openai"}.get(fmt, fmt)
    assert server.requests[0].messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the best move?"},
    ]


def test_429_with_retry_after_seconds_is_honoured(server: ScriptedLLMServer, fmt: str) -> None:
    sleeps = SleepRecorder()
    server.enqueue_status(429, retry_after=7)
    server.enqueue_answer("e4")
    reply = run(play_once(player_for(fmt, server, policy=RetryPolicy(max_retries=3, sleep=sleeps))))
    assert reply.text == "e4"
    assert reply.retries == 1
    assert sleeps.waits == [7.0]
    assert reply.extra["retry_wait_s"] == 7.0
    assert len(server.requests) == 2


def test_429_with_retry_after_http_date_is_honoured(server: ScriptedLLMServer, fmt: str) -> None:
    sleeps = SleepRecorder()
    server.enqueue_retry_after_date(30)
    run(play_once(player_for(fmt, server, policy=RetryPolicy(max_retries=3, sleep=sleeps))))
    assert len(sleeps.waits) == 1
    assert 27 <= sleeps.waits[0] <= 31  # HTTP-dates have one-second resolution


def test_reset_header_used_when_no_retry_after(server: ScriptedLLMServer) -> None:
    sleeps = SleepRecorder()
    server.enqueue_status(429, headers={"x-ratelimit-reset-requests": "1m30s", "x-ratelimit-reset-tokens": "250ms"})
    run(play_once(player_for("chat", server, policy=RetryPolicy(max_retries=3, sleep=sleeps))))
    assert sleeps.waits == [90.0]


def test_gemini_retry_info_in_body_is_honoured(server: ScriptedLLMServer) -> None:
    sleeps = SleepRecorder()
    body = {"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]}}
    server.enqueue_status(429, body=body)
    run(play_once(player_for("google", server, policy=RetryPolicy(max_retries=3, sleep=sleeps))))
    assert sleeps.waits == [12.0]


def test_backoff_is_exponential_with_jitter_without_retry_after(server: ScriptedLLMServer) -> None:
    sleeps = SleepRecorder()
    for _ in range(3):
        server.enqueue_status(503)
    policy = RetryPolicy(max_retries=5, initial_wait=1.0, max_wait=60.0, jitter=0.5, sleep=sleeps)
    reply = run(play_once(player_for("chat", server, policy=policy)))
    assert reply.retries == 3
    assert [int(w) for w in sleeps.waits] == [1, 2, 4]
    assert all(0 <= w - int(w) <= 0.5 for w in sleeps.waits)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retried(server: ScriptedLLMServer, status: int) -> None:
    server.enqueue_status(status, retry_after=0)
    server.enqueue_answer("e4")
    reply = run(play_once(player_for("chat", server)))
    assert reply.text == "e4" and reply.retries == 1
    assert len(server.requests) == 2


def test_retries_are_bounded(server: ScriptedLLMServer, fmt: str) -> None:
    for _ in range(10):
        server.enqueue_status(503)
    player = player_for(fmt, server, policy=RetryPolicy.no_wait(max_retries=3))
    with pytest.raises(ModelTransportError) as info:
        run(play_once(player))
    assert len(server.requests) == 4
    assert "gave up after 4 attempt(s)" in str(info.value)
    assert info.value.status_code == 503
    assert info.value.provider == player.provider


def test_total_timeout_stops_a_wait_that_would_overrun(server: ScriptedLLMServer) -> None:
    sleeps = SleepRecorder()
    server.enqueue_status(429, retry_after=3600)
    with pytest.raises(ModelTransportError, match="HTTP 429"):
        run(play_once(player_for("chat", server, policy=RetryPolicy(max_retries=10, timeout=60, sleep=sleeps))))
    assert sleeps.waits == []  # gave up at once instead of sleeping for an hour
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 413, 422])
def test_other_4xx_are_fatal_and_not_retried(server: ScriptedLLMServer, fmt: str, status: int) -> None:
    server.enqueue_status(status)
    with pytest.raises(ModelFatalError) as info:
        run(play_once(player_for(fmt, server)))
    assert len(server.requests) == 1
    assert info.value.status_code == status
    assert "Fix:" in str(info.value)


def test_slow_answer_past_attempt_timeout_is_retried(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_slow(1.5)
    server.enqueue_answer("e4")
    reply = run(play_once(player_for(fmt, server, attempt_timeout=0.5)))
    assert reply.text == "e4"
    assert reply.retries == 1
    assert len(server.requests) == 2


def test_always_slow_ends_in_transport_error(server: ScriptedLLMServer) -> None:
    for _ in range(3):
        server.enqueue_slow(0.6)
    with pytest.raises(ModelTransportError, match="attempt timeout of 0.2s"):
        run(play_once(player_for("chat", server, attempt_timeout=0.2, policy=RetryPolicy.no_wait(max_retries=2))))


def test_dropped_connection_is_retried(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_drop()
    server.enqueue_drop()
    server.enqueue_answer("e4")
    reply = run(play_once(player_for(fmt, server)))
    assert reply.text == "e4"
    assert reply.retries == 2


def test_malformed_json_is_a_response_error_not_retried(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_raw(b'{"choices": [{"message": ')
    with pytest.raises(ModelResponseError, match="not JSON"):
        run(play_once(player_for(fmt, server)))
    assert len(server.requests) == 1


def test_missing_fields_are_a_response_error(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_kind("missing")
    with pytest.raises(ModelResponseError, match="the response"):
        run(play_once(player_for(fmt, server)))
    assert len(server.requests) == 1


def test_quota_error_is_fatal_at_once_and_names_provider_and_fix(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_kind("quota")
    player = player_for(fmt, server)
    with pytest.raises(ModelFatalError) as info:
        run(play_once(player))
    message = str(info.value)
    assert len(server.requests) == 1
    assert message.startswith(player.provider)
    assert "quota, credit or billing" in message and "Fix:" in message
    assert FAKE_KEY not in message


def test_auth_error_is_fatal_and_names_the_key_variable_not_the_key(server: ScriptedLLMServer, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model, extra = FORMATS[fmt]
    variable = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "google": "GEMINI_API_KEY"}[model.split("/")[0]]
    monkeypatch.setenv(variable, FAKE_KEY)
    server.enqueue_kind("auth")
    player = player_for(fmt, server, api_key=None)
    with pytest.raises(ModelFatalError) as info:
        run(play_once(player))
    assert len(server.requests) == 1
    assert variable in str(info.value)
    assert FAKE_KEY not in str(info.value)


def test_key_echoed_in_an_error_body_is_redacted(server: ScriptedLLMServer) -> None:
    server.enqueue_status(400, body={"error": {"message": f"bad key {FAKE_KEY} for this org", "type": "invalid_request_error"}})
    with pytest.raises(ModelFatalError) as info:
        run(play_once(player_for("chat", server)))
    assert FAKE_KEY not in str(info.value)
    assert "bad key *** for this org" in str(info.value)


def test_budget_spent_on_reasoning_is_an_empty_max_tokens_reply(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_kind("empty")
    reply = run(play_once(player_for(fmt, server, max_tokens=64)))
    assert reply.text == ""
    assert reply.stop_reason == StopReason.MAX_TOKENS
    if fmt != "anthropic":  # Anthropic does not report thinking tokens separately
        assert reply.usage.reasoning_tokens == 64


def test_refusal_is_a_reply_with_refusal(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_kind("refusal")
    reply = run(play_once(player_for(fmt, server)))
    expected = StopReason.CONTENT_FILTER if fmt == "google" else StopReason.REFUSAL
    assert reply.stop_reason == expected
    assert reply.refusal


def test_content_filter_finish(server: ScriptedLLMServer) -> None:
    server.enqueue_kind("filtered")
    reply = run(play_once(player_for("chat", server)))
    assert reply.stop_reason == StopReason.CONTENT_FILTER and reply.text == ""


def test_gemini_blocked_prompt(server: ScriptedLLMServer) -> None:
    server.enqueue(Fault("malformed", body=b'{"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 9}}'))
    reply = run(play_once(player_for("google", server)))
    assert reply.stop_reason == StopReason.CONTENT_FILTER
    assert reply.refusal == "prompt blocked: SAFETY"
    assert reply.usage.input_tokens == 9


def test_gemini_per_minute_429_is_retried_but_per_day_quota_is_fatal(server: ScriptedLLMServer) -> None:
    server.enqueue_status(429)  # a per-minute quota violation (see llm_server)
    server.enqueue_answer("e4")
    assert run(play_once(player_for("google", server))).retries == 1
    server.reset()
    server.enqueue_kind("quota")
    with pytest.raises(ModelFatalError, match="quota"):
        run(play_once(player_for("google", server)))


def test_anthropic_529_overloaded_is_retried(server: ScriptedLLMServer) -> None:
    server.enqueue_status(529)
    server.enqueue_answer("e4")
    reply = run(play_once(player_for("anthropic", server)))
    assert reply.text == "e4" and reply.retries == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_is_fatal_after_retries(fmt: str) -> None:
    model, extra = FORMATS[fmt]
    url = f"http://127.0.0.1:{_closed_port()}"
    player = make_player(model, url, **extra)
    with pytest.raises(ModelFatalError, match="cannot connect") as info:
        run(play_once(player))
    assert "Fix:" in str(info.value)


def test_connection_refused_after_a_success_is_a_transport_error(server: ScriptedLLMServer) -> None:
    player = player_for("chat", server)
    server.enqueue_answer("e4", headers={"connection": "close"})  # so no kept-alive connection survives

    async def scenario() -> None:
        try:
            await player.play(turn())
            server.stop()
            with pytest.raises(ModelTransportError):
                await player.play(turn("another question"))
        finally:
            await player.aclose()

    run(scenario())


def test_stats_count_calls_attempts_and_retries(server: ScriptedLLMServer) -> None:
    server.enqueue_status(503)
    server.enqueue_answer("e4")
    player = player_for("chat", server)
    run(play_once(player))
    assert player.stats.snapshot() == {
        "calls": 1, "cache_hits": 0, "attempts": 2, "retries": 1, "retry_wait_s": player.stats.retry_wait_s, "in_flight": 0, "failures": 0
    }


def test_a_trickling_answer_is_cut_at_the_attempt_timeout_and_the_slot_still_works(server: ScriptedLLMServer) -> None:
    # httpx's read timeout never fires on a server that sends a byte every 50 ms; the wall-clock
    # bound does. With one connection slot, the abandoned slot must serve the next calls at once.
    player = player_for("chat", server, attempt_timeout=0.5, max_connections=1)
    server.enqueue(Fault("trickle", delay=0.05))  # never silent for 0.5 s: only the wall-clock bound ends it

    async def scenario() -> list[int]:
        try:
            return [(await player.play(turn(f"question {i}"))).retries for i in range(4)]
        finally:
            await player.aclose()

    assert run(scenario()) == [1, 0, 0, 0]
    assert len(server.requests) == 5


def test_a_fatal_error_stops_calls_asleep_in_backoff(server: ScriptedLLMServer) -> None:
    # Call A is told to wait 30 s; call B then hits the quota: A must not sleep on.
    server.enqueue_status(429, retry_after=30)
    server.enqueue_kind("quota")
    player = player_for("chat", server, policy=RetryPolicy(max_retries=3))

    async def scenario() -> tuple[BaseException | None, BaseException | None, float]:
        start = time.monotonic()
        a = asyncio.ensure_future(player.play(turn("a")))
        await asyncio.sleep(0.2)
        b = asyncio.ensure_future(player.play(turn("b")))
        results = await asyncio.gather(a, b, return_exceptions=True)
        await player.aclose()
        return results[0], results[1], time.monotonic() - start  # type: ignore[return-value]

    a, b, elapsed = run(scenario())
    assert isinstance(b, ModelFatalError) and "quota" in str(b)
    assert isinstance(a, ModelFatalError) and "stopped: an earlier call failed fatally" in str(a)
    assert elapsed < 5
    assert len(server.requests) == 2
