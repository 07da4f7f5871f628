"""Server-sent events for the scripted server (:mod:`llm_server`): an unstreamed answer of each
wire format turned into the events its provider streams (per each provider's API reference; the
client side, which assembles them back, is :mod:`chesseval.providers.streaming`).

- Chat Completions: ``chat.completion.chunk`` deltas (role, content, refusal), the finish chunk,
  with ``stream_options.include_usage`` a last chunk with ``choices: []`` and the usage, ``[DONE]``;
- Responses: ``response.created`` ... ``response.output_text.delta`` ... ``response.completed``
  (or ``response.incomplete``) carrying the whole response, each with a ``sequence_number``;
- Anthropic: ``message_start``, ``ping``, ``content_block_start/delta/stop`` (text, thinking,
  signature), ``message_delta`` (stop reason, usage), ``message_stop``;
- Gemini (``alt=sse``): ``GenerateContentResponse`` chunks, the last with ``finishReason`` and the
  final ``usageMetadata``.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

__all__ = ["STREAM_FAULTS", "SseItem", "wants_stream", "sse_events", "stream_error_event", "sse_chunk"]

STREAM_FAULTS = frozenset({"stream_drop", "stream_truncated", "stream_error", "stream_stall", "stream_slow"})
SseItem = tuple[str | None, Any]
"""One server-sent event: its ``event:`` name (None: unnamed) and its data (JSON, or a raw string)."""


def wants_stream(fmt: str, path: str, body: Any) -> bool:
    if fmt == "google":
        return ":streamGenerateContent" in path
    return isinstance(body, dict) and body.get("stream") is True


def _pieces(text: str, most: int = 8) -> list[str]:
    """``text`` in up to ``most`` word-aligned pieces (as a model streams it, a few tokens at a time)."""
    words = re.findall(r"\S+\s*|\s+", text)
    if not words:
        return []
    size = -(-len(words) // most)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def sse_events(fmt: str, full: dict[str, Any], request: dict[str, Any]) -> list[SseItem]:
    """The events that stream ``full`` (the unstreamed answer), in ``fmt``'s wire format."""
    if fmt == "openai":
        return _chat_events(full, request)
    if fmt == "responses":
        return _responses_events(full)
    if fmt == "anthropic":
        return _anthropic_events(full)
    if fmt == "google":
        return _gemini_events(full)
    raise ValueError(f"no stream format for {fmt!r}")


def _chat_events(full: dict[str, Any], request: dict[str, Any]) -> list[SseItem]:
    head = {"id": full["id"], "object": "chat.completion.chunk", "created": full["created"], "model": full["model"], "system_fingerprint": full["system_fingerprint"]}
    with_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    choice = full["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> SseItem:
        data: dict[str, Any] = {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if with_usage:
            data["usage"] = None  # every chunk but the last carries a null usage
        return None, data

    events = [chunk({"role": "assistant", "content": "" if message.get("content") is not None else None, "refusal": None})]
    events += [chunk({"content": p}) for p in _pieces(message.get("content") or "")]
    events += [chunk({"refusal": p}) for p in _pieces(message.get("refusal") or "")]
    events.append(chunk({}, choice["finish_reason"]))
    if with_usage:
        events.append((None, {**head, "choices": [], "usage": full["usage"]}))
    events.append((None, "[DONE]"))
    return events


def _responses_events(full: dict[str, Any]) -> list[SseItem]:
    numbers = itertools.count()

    def event(kind: str, **fields: Any) -> SseItem:
        return kind, {"type": kind, "sequence_number": next(numbers), **fields}

    start = {**full, "status": "in_progress", "output": [], "incomplete_details": None, "usage": None}
    events = [event("response.created", response=start), event("response.in_progress", response=start)]
    for i, item in enumerate(full["output"]):
        if item["type"] != "message":
            events += [event("response.output_item.added", output_index=i, item=item), event("response.output_item.done", output_index=i, item=item)]
            continue
        events.append(event("response.output_item.added", output_index=i, item={**item, "status": "in_progress", "content": []}))
        for j, part in enumerate(item["content"]):
            where = {"item_id": item["id"], "output_index": i, "content_index": j}
            field, kind = ("text", "output_text") if part["type"] == "output_text" else ("refusal", "refusal")
            events.append(event("response.content_part.added", **where, part={**part, field: ""}))
            events += [event(f"response.{kind}.delta", **where, delta=p) for p in _pieces(part[field])]
            events.append(event(f"response.{kind}.done", **where, **{field: part[field]}))
            events.append(event("response.content_part.done", **where, part=part))
        events.append(event("response.output_item.done", output_index=i, item=item))
    events.append(event("response.incomplete" if full["status"] == "incomplete" else "response.completed", response=full))
    return events


def _anthropic_events(full: dict[str, Any]) -> list[SseItem]:
    start = {**full, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {**full["usage"], "output_tokens": 1}}
    events: list[SseItem] = [("message_start", {"type": "message_start", "message": start}), ("ping", {"type": "ping"})]
    for i, block in enumerate(full["content"]):
        if block["type"] == "thinking":
            events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
            events += [("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "thinking_delta", "thinking": p}}) for p in _pieces(block["thinking"])]
            events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "signature_delta", "signature": block["signature"]}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}))
            events += [("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": p}}) for p in _pieces(block["text"])]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    delta = {"stop_reason": full["stop_reason"], "stop_sequence": full["stop_sequence"]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": full["usage"]["output_tokens"]}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _gemini_events(full: dict[str, Any]) -> list[SseItem]:
    if not full.get("candidates"):
        return [(None, full)]  # a blocked prompt: one chunk, no candidates
    candidate = full["candidates"][0]
    meta = {"modelVersion": full["modelVersion"], "responseId": full["responseId"]}
    prompt = full["usageMetadata"]["promptTokenCount"]
    pieces = [p for part in candidate["content"].get("parts", []) for p in _pieces(part["text"])]
    events: list[SseItem] = []
    for piece in pieces[:-1]:
        partial = {"candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}], "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt}, **meta}
        events.append((None, partial))
    last = {"role": "model", "parts": [{"text": pieces[-1]}]} if pieces else {"role": "model"}
    events.append((None, {"candidates": [{"content": last, "finishReason": candidate["finishReason"], "index": 0}], "usageMetadata": full["usageMetadata"], **meta}))
    return events


_STREAM_ERROR_NAMES = {"responses": "error", "anthropic": "error"}
"""The ``event:`` name of an error event (unnamed on Chat Completions and Gemini)."""


def stream_error_event(fmt: str, body: Any = None) -> SseItem:
    """The provider's error event, with ``body`` as its data when given (default: an overload)."""
    name = _STREAM_ERROR_NAMES.get(fmt)
    if body is not None:
        return name, body
    if fmt == "openai":
        return name, {"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": None, "code": "server_error"}}
    if fmt == "responses":
        return name, {"type": "error", "code": "server_error", "message": "The server had an error while processing your request.", "param": None, "sequence_number": 99}
    if fmt == "anthropic":
        return name, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return name, {"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}


def sse_chunk(item: SseItem) -> bytes:
    """One event as one HTTP chunk (chunked transfer encoding)."""
    name, data = item
    text = (f"event: {name}\n" if name else "") + "data: " + (data if isinstance(data, str) else json.dumps(data)) + "\n\n"
    raw = text.encode("utf-8")
    return f"{len(raw):x}\r\n".encode("ascii") + raw + b"\r\n"
