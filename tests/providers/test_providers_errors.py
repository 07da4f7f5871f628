"""Error bodies as servers and proxies really send them: unpacked, classified by code fields first,
and a 404 on an endpoint the server may lack answered with the specific fix. Over loopback sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from llm_server import Fault, ScriptedLLMServer
from provider_helpers import FAKE_KEY, fmt, play_once, player_for, run, server  # noqa: F401 (server, fmt: fixtures)

from chesseval.errors import ModelFatalError, ModelTransportError
from chesseval.providers.error_body import parse_error_body

# What LiteLLM's proxy answers when the upstream OpenAI key has no quota left: its own
# throttling_error, the upstream body kept only as text inside the message.
LITELLM_QUOTA = {
    "error": {
        "message": "litellm.RateLimitError: RateLimitError: OpenAIException - Error code: 429 - {'error': {'message': "
        "'Your organization has run out of funds for this month.', 'type': 'insufficient_quota', 'param': None, 'code': 'insufficient_quota'}}",
        "type": "throttling_error",
        "param": None,
        "code": "429",
    }
}


def fatal(server: ScriptedLLMServer, fmt: str, **options: Any) -> str:
    with pytest.raises(ModelFatalError) as info:
        run(play_once(player_for(fmt, server, **options)))
    assert len(server.requests) == 1, "a fatal error must not be retried"
    return str(info.value)


# -- the shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"detail": "Not Found"}, "Not Found"),
        ({"detail": [{"loc": ["body", "messages", 0, "role"], "msg": "field required", "type": "value_error.missing"}]}, "body.messages.0.role: field required"),
        ({"detail": {"error": {"message": "upstream said no", "type": "invalid_request_error"}}}, "upstream said no"),
        ({"error": "model overloaded"}, "model overloaded"),
        ({"message": "Invalid model name"}, "Invalid model name"),
        ({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "Overloaded"),
        ([{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}], "The model is overloaded."),
        ({"error": {"message": "Provider returned error", "code": 402, "metadata": {"raw": "credit exhausted"}}}, "Provider returned error (credit exhausted)"),
    ],
)
def test_error_body_shapes_give_their_message(body: Any, message: str) -> None:
    assert parse_error_body(json.dumps(body).encode()).message == message


def test_error_body_codes_include_rewrapped_upstream_codes() -> None:
    codes = parse_error_body(json.dumps(LITELLM_QUOTA).encode()).codes
    assert {"throttling_error", "insufficient_quota"} <= codes
    assert "429" not in codes  # numbers are statuses, not codes
    plain = parse_error_body(b"<html><body>502 Bad Gateway</body></html>")
    assert plain.message == "<html><body>502 Bad Gateway</body></html>" and plain.codes == frozenset()


# -- unpacked over the wire -------------------------------------------------------------------


def test_fastapi_detail_is_unpacked_and_a_5xx_still_retried(server: ScriptedLLMServer, fmt: str) -> None:
    for _ in range(4):
        server.enqueue_status(503, body={"detail": "Model worker overloaded"})
    with pytest.raises(ModelTransportError) as info:
        run(play_once(player_for(fmt, server)))
    assert "HTTP 503: Model worker overloaded)" in str(info.value)
    assert "{" not in str(info.value)
    assert len(server.requests) == 4


def test_fastapi_validation_error_is_unpacked_and_fatal(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_status(422, body={"detail": [{"loc": ["body", "temperature"], "msg": "Input should be less than or equal to 2", "type": "less_than_equal"}]})
    message = fatal(server, fmt)
    assert "HTTP 422: body.temperature: Input should be less than or equal to 2)" in message
    assert "detail" not in message


@pytest.mark.parametrize("body", [{"error": "bad gateway upstream"}, {"message": "bad gateway upstream"}])
def test_string_error_and_bare_message_bodies_are_unpacked(server: ScriptedLLMServer, body: dict[str, Any]) -> None:
    server.enqueue_status(502, body=body)
    server.enqueue_answer("e4")
    player = player_for("chat", server)
    messages: list[str] = []
    player._on_retry = lambda exc, wait: messages.append(str(exc))  # type: ignore[method-assign]
    assert run(play_once(player)).retries == 1
    assert messages == ["openai (HTTP 502: bad gateway upstream)"]


# -- quota by code fields first ---------------------------------------------------------------


def test_upstream_quota_rewrapped_by_a_proxy_as_throttling_is_fatal(server: ScriptedLLMServer, fmt: str) -> None:
    # The proxy says 429 throttling_error (retryable); the upstream code inside says no money.
    server.enqueue_status(429, body=LITELLM_QUOTA)
    message = fatal(server, fmt)
    assert "quota, credit or billing limit reached" in message and "Fix:" in message
    assert FAKE_KEY not in message


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, {"detail": {"error": {"type": "insufficient_quota", "message": "no funds"}}}),
        (402, {"detail": "Payment required"}),
        (400, {"error": {"message": "Request denied", "type": "billing_error"}}),
        (500, {"error": {"message": "upstream error: {\"code\": \"insufficient_quota\"}", "type": "server_error"}}),
    ],
)
def test_quota_codes_are_fatal_in_any_shape_and_status(server: ScriptedLLMServer, status: int, body: dict[str, Any]) -> None:
    server.enqueue_status(status, body=body)
    assert "quota, credit or billing" in fatal(server, "chat")


def test_quota_wording_under_a_rate_limit_code_is_retried(server: ScriptedLLMServer) -> None:
    # Gemini words its per-minute limits like OpenAI's out-of-money error; the code decides.
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "You exceeded your current quota, please check your plan and billing details."}}
    server.enqueue_status(429, body=body, retry_after=0)
    server.enqueue_answer("e4")
    assert run(play_once(player_for("chat", server))).retries == 1


def test_quota_wording_without_any_code_is_still_fatal(server: ScriptedLLMServer) -> None:
    server.enqueue_status(403, body={"detail": "Your credit balance is too low to access this model."})
    assert "quota, credit or billing" in fatal(server, "chat")


def test_auth_error_rewrapped_as_a_5xx_is_fatal(server: ScriptedLLMServer) -> None:
    body = {"error": {"message": "Upstream error: {'type': 'authentication_error', 'message': 'invalid x-api-key'}", "type": "api_error"}}
    server.enqueue_status(500, body=body)
    assert "the API key was rejected" in fatal(server, "anthropic")


# -- 404: the endpoint, or the model? ----------------------------------------------------------


@pytest.mark.parametrize("body", [{"detail": "Not Found"}, b"404 page not found", {"error": {"message": "Unknown request URL: POST /v1/responses.", "type": "invalid_request_error"}}])
def test_404_on_responses_says_use_api_chat(server: ScriptedLLMServer, body: Any) -> None:
    if isinstance(body, bytes):
        server.enqueue(Fault("status", status=404, body=body))
    else:
        server.enqueue_status(404, body=body)
    message = fatal(server, "responses")
    assert "no Responses API" in message and "Fix: use -M api=chat" in message
    assert "model name" not in message


def test_404_for_an_unknown_model_still_says_check_the_model(server: ScriptedLLMServer, fmt: str) -> None:
    server.enqueue_status(404)  # the server's own "The model does not exist."
    message = fatal(server, fmt)
    assert "check the model name" in message


def test_openai_model_not_found_code_on_responses_is_about_the_model(server: ScriptedLLMServer) -> None:
    server.enqueue_status(404, body={"error": {"message": "The requested resource does not exist.", "type": "invalid_request_error", "code": "model_not_found"}})
    assert "check the model name" in fatal(server, "responses")


def test_404_on_chat_completions_says_check_the_base_url(server: ScriptedLLMServer) -> None:
    server.enqueue_status(404, body={"detail": "Not Found"})
    message = fatal(server, "chat")
    assert "no Chat Completions endpoint" in message and "/v1" in message


def test_chat_for_a_responses_only_model_says_use_api_responses(server: ScriptedLLMServer) -> None:
    body = {"error": {"message": "This model is only supported in v1/responses and not in v1/chat/completions.", "type": "invalid_request_error", "code": None}}
    server.enqueue_status(404, body=body)
    assert "Fix: use -M api=responses" in fatal(server, "chat")


def test_404_on_anthropic_messages_says_check_the_base_url(server: ScriptedLLMServer) -> None:
    server.enqueue_status(404, body={"type": "error", "error": {"type": "not_found_error", "message": "Not Found"}})
    message = fatal(server, "anthropic")
    assert "no Anthropic Messages API" in message and "ANTHROPIC_BASE_URL" in message


def test_404_on_gemini_stream_endpoint_says_use_stream_false(server: ScriptedLLMServer) -> None:
    server.enqueue_status(404, body={"detail": "Not Found"})
    message = fatal(server, "google", stream="true")
    assert "no streamGenerateContent" in message and "Fix: use -M stream=false" in message
    assert server.requests[0].path.endswith(":streamGenerateContent?alt=sse")


def test_a_server_that_rejects_the_stream_flag_says_use_stream_false(server: ScriptedLLMServer) -> None:
    server.enqueue_status(422, body={"detail": [{"loc": ["body", "stream"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}]})
    assert "Fix: use -M stream=false" in fatal(server, "chat", stream="true")
