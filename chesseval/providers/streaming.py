"""Streamed answers: each provider's server-sent events, assembled into the JSON the same call
answers unstreamed, so that one parser (the provider's ``parse_response``) reads both and a
streamed answer, its usage, finish reason and refusal are the unstreamed ones.

Wire formats (per each provider's API reference):

- OpenAI Chat Completions (``"stream": true, "stream_options": {"include_usage": true}``):
  ``data: {chat.completion.chunk}`` events with ``choices[0].delta`` (``content``, ``refusal``,
  ``reasoning_content``/``reasoning`` on compatible servers) and ``finish_reason`` on the last; with
  ``include_usage`` a final chunk with ``choices: []`` and the whole ``usage``; then ``data: [DONE]``.
  An error mid-stream is a chunk ``{"error": {...}}`` (or an ``event: error``).
- OpenAI Responses (``"stream": true``): typed events (``response.created``,
  ``response.output_item.added``, ``response.output_text.delta``, ``response.output_item.done``,
  ...) ending with ``response.completed``, ``response.incomplete`` or ``response.failed``, whose
  ``response`` is the whole response object; ``error`` events carry ``code`` and ``message``. No
  ``[DONE]``.
- Anthropic Messages (``"stream": true``): ``message_start`` (the message, empty content, input
  usage), ``content_block_start``/``content_block_delta`` (``text_delta``, ``thinking_delta``,
  ``signature_delta``)/``content_block_stop``, ``message_delta`` (``stop_reason``, cumulative
  ``usage``), ``message_stop``; ``ping`` keep-alives; ``error`` events (``overloaded_error``, ...).
- Gemini (``:streamGenerateContent?alt=sse``): each event a whole ``GenerateContentResponse``
  holding the next parts; the last has ``finishReason`` and the final ``usageMetadata``. No end
  marker: the finish reason (or a prompt ``blockReason``) is the end.

A stream that ends before its last event (a proxy closed it cleanly, a server crashed between
chunks) is a :class:`StreamFailure` without an error: the caller retries it like a dropped
connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chesseval.providers.error_body import AUTH_CODES, QUOTA_CODES, RATE_LIMIT_CODES, ErrorBody, parse_error_body
from chesseval.providers.http import SseEvent

__all__ = [
    "StreamFailure",
    "status_for_codes",
    "assemble_chat",
    "assemble_responses",
    "assemble_anthropic",
    "assemble_gemini",
]


class StreamFailure(Exception):
    """A stream that did not deliver an answer: an error event (``error``), or cut short (``error`` None)."""

    def __init__(self, reason: str, error: ErrorBody | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.status = status


_CLIENT_ERROR_CODES = {
    "invalid_request_error": 400,
    "invalid_argument": 400,
    "invalid_prompt": 400,
    "bad_request": 400,
    "failed_precondition": 400,
    "permission_error": 403,
    "permission_denied": 403,
    "not_found_error": 404,
    "not_found": 404,
    "request_too_large": 413,
}


def status_for_codes(codes: Iterable[str]) -> int:
    """The HTTP status an error event would have had as a response (events carry only codes).

    Unknown codes count as a server error (500, retried): once a stream has started, the request
    itself was accepted, so a failure is most often the server's (``overloaded_error``,
    ``server_error``, ``api_error``).
    """
    found = set(codes)
    if found & QUOTA_CODES:
        return 402
    if found & AUTH_CODES:
        return 401
    if found & RATE_LIMIT_CODES:
        return 429
    if "overloaded_error" in found:
        return 529
    for code in sorted(found):
        if code in _CLIENT_ERROR_CODES:
            return _CLIENT_ERROR_CODES[code]
    return 500


def _load(event: SseEvent) -> Any:
    try:
        return json.loads(event.data)
    except ValueError:
        raise StreamFailure(f"the stream sent an event that is not JSON: {event.data[:80]!r}") from None


def _error_event(data: Any, where: str) -> StreamFailure:
    err = data.get("error") if isinstance(data, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    # Gemini's error events carry the HTTP status the error would have had.
    status = code if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599 else None
    return StreamFailure(f"error event in the stream ({where})", error=parse_error_body(None, data), status=status)


def _cut(what: str, events: list[SseEvent]) -> StreamFailure:
    return StreamFailure(f"the stream ended before {what} ({len(events)} event(s) received); the answer is incomplete")


# -- OpenAI Chat Completions ------------------------------------------------------------------


def assemble_chat(events: list[SseEvent]) -> dict[str, Any]:
    head: dict[str, Any] = {}
    usage: Any = None
    content: list[str] = []
    refusal: list[str] = []
    reasoning: list[str] = []
    saw_content = False
    finish: str | None = None
    for event in events:
        if event.data == "[DONE]" or event.data.strip() == "[DONE]":
            break
        data = _load(event)
        if event.event == "error" or type(data) is not dict or data.get("error"):
            raise _error_event(data, "chat.completion.chunk")
        if not head:
            head = {k: data[k] for k in ("id", "created", "model", "system_fingerprint") if k in data}
        if type(data.get("usage")) is dict:
            usage = data["usage"]
        for choice in data.get("choices") or ():
            if type(choice) is not dict or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if type(delta) is dict:
                piece = delta.get("content")
                if type(piece) is str:
                    saw_content = True
                    content.append(piece)
                piece = delta.get("refusal")
                if type(piece) is str:
                    refusal.append(piece)
                piece = delta.get("reasoning_content") or delta.get("reasoning")
                if type(piece) is str:
                    reasoning.append(piece)
            if type(choice.get("finish_reason")) is str:
                finish = choice["finish_reason"]
    if finish is None:
        raise _cut("a finish_reason", events)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) if saw_content else None, "refusal": "".join(refusal) or None}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    out: dict[str, Any] = {**head, "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": finish}]}
    if usage is not None:
        out["usage"] = usage
    return out


# -- OpenAI Responses -------------------------------------------------------------------------

_RESPONSES_END = ("response.completed", "response.incomplete", "response.failed")


def assemble_responses(events: list[SseEvent]) -> dict[str, Any]:
    items: dict[int, Any] = {}
    for event in events:
        data = _load(event)
        kind = data.get("type", event.event) if isinstance(data, dict) else event.event
        if kind == "error" or not isinstance(data, dict):
            raise _error_event(data, "error")
        if kind == "response.output_item.done" and isinstance(data.get("item"), dict):
            items[int(data.get("output_index", len(items)))] = data["item"]
        if kind in _RESPONSES_END:
            response = data.get("response")
            if not isinstance(response, dict):
                raise StreamFailure(f"the stream's {kind} event has no response object")
            if kind == "response.failed":
                # Unstreamed, this failure would have been an error status: classify it as one.
                raise StreamFailure("response.failed", error=parse_error_body(None, response.get("error") or response))
            if not response.get("output") and items:
                response = {**response, "output": [items[i] for i in sorted(items)]}
            return response
    raise _cut("response.completed", events)


# -- Anthropic Messages -----------------------------------------------------------------------


def assemble_anthropic(events: list[SseEvent]) -> dict[str, Any]:
    message: dict[str, Any] | None = None
    blocks: dict[int, dict[str, Any]] = {}
    for event in events:
        data = _load(event)
        kind = data.get("type", event.event) if isinstance(data, dict) else event.event
        if kind == "ping":
            continue
        if kind == "error" or not isinstance(data, dict):
            raise _error_event(data, "error")
        if kind == "message_start" and isinstance(data.get("message"), dict):
            message = {**data["message"], "content": []}
            message["usage"] = dict(message.get("usage") or {})
        elif kind == "content_block_start" and isinstance(data.get("content_block"), dict):
            blocks[int(data.get("index", len(blocks)))] = dict(data["content_block"])
        elif kind == "content_block_delta" and isinstance(data.get("delta"), dict):
            block = blocks.setdefault(int(data.get("index", 0)), {"type": "text", "text": ""})
            delta = data["delta"]
            if delta.get("type") == "text_delta":
                block["text"] = block.get("text", "") + str(delta.get("text", ""))
            elif delta.get("type") == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + str(delta.get("thinking", ""))
            elif delta.get("type") == "signature_delta":
                block["signature"] = delta.get("signature")
            elif delta.get("type") == "input_json_delta":
                block["partial_json"] = block.get("partial_json", "") + str(delta.get("partial_json", ""))
        elif kind == "message_delta" and message is not None:
            delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
            message.update({k: v for k, v in delta.items() if k in ("stop_reason", "stop_sequence")})
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            # The counts are cumulative: the last one is the total.
            message["usage"].update({k: v for k, v in usage.items() if v is not None})
        elif kind == "message_stop":
            if message is None:
                raise StreamFailure("the stream's message_stop came without a message_start")
            message["content"] = [blocks[i] for i in sorted(blocks)]
            return message
    raise _cut("message_stop", events)


# -- Gemini -----------------------------------------------------------------------------------


def assemble_gemini(events: list[SseEvent]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    parts: list[dict[str, Any]] = []
    candidate: dict[str, Any] = {}
    for event in events:
        data = _load(event)
        if isinstance(data, list) and len(data) == 1:  # a server that wraps each chunk in an array
            data = data[0]
        if not isinstance(data, dict) or "error" in data:
            raise _error_event(data, "error")
        for field in ("responseId", "modelVersion", "usageMetadata", "promptFeedback"):
            if field in data:
                out[field] = data[field]  # usageMetadata: the last chunk's is the total
        candidates = data.get("candidates")
        if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
            continue
        chunk = candidates[0]
        for key, value in chunk.items():
            if key != "content":
                candidate[key] = value
        content = chunk.get("content") if isinstance(chunk.get("content"), dict) else {}
        for part in content.get("parts") or []:
            if not isinstance(part, dict):
                continue
            last = parts[-1] if parts else None
            if last is not None and set(part) <= {"text", "thought"} and set(last) <= {"text", "thought"} and "text" in part and "text" in last and bool(part.get("thought")) == bool(last.get("thought")):
                last["text"] += part["text"]
            else:
                parts.append(dict(part))
    feedback = out.get("promptFeedback")
    blocked = isinstance(feedback, dict) and feedback.get("blockReason")
    if "finishReason" not in candidate and not blocked:
        raise _cut("a finishReason", events)
    if candidate:
        candidate["content"] = {"role": "model", "parts": parts} if parts else {"role": "model"}
        out["candidates"] = [candidate]
    return out
