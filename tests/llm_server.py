"""A scripted LLM server on a real loopback socket (stdlib asyncio), for testing the HTTP providers.

It speaks four wire formats, chosen by the request path:

- OpenAI Chat Completions: ``POST .../chat/completions``
- OpenAI Responses: ``POST .../responses``
- Anthropic Messages: ``POST .../messages``
- Gemini: ``POST .../models/<model>:generateContent``

A request that asks for a stream (``"stream": true``, or Gemini's ``:streamGenerateContent?alt=sse``)
gets the same answer as server-sent events in the provider's own wire format, sent with chunked
transfer encoding one event per chunk (see :func:`sse_events`). Stream faults: ``stream_drop``
(half the events, then the connection is cut), ``stream_truncated`` (half the events, then a clean
end), ``stream_error`` (half the events, then the provider's error event; ``body`` overrides it),
``stream_stall`` (half the events, ``delay`` seconds of silence, then the rest), ``stream_slow``
(``delay`` seconds before every event, as a slow model writes).

Each request takes the next :class:`Fault` from the script queue (``enqueue_*``), else asks the
``fault_plan`` callable (for randomised fault injection), else answers normally. A normal answer's
text comes from ``answer(messages)``, a function of the request's messages normalised to
``[{"role", "content"}]`` (so a test can answer puzzles correctly). Every request is recorded
(path, headers, JSON, messages) for assertions.

Run it as a script for the benchmarks: ``python tests/llm_server.py --latency 0.5`` prints its URL.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from llm_sse import STREAM_FAULTS, SseItem, sse_chunk, sse_events, stream_error_event, wants_stream

__all__ = ["Fault", "Recorded", "ScriptedLLMServer", "wire_format"]


@dataclasses.dataclass(frozen=True)
class Fault:
    """What to do with one request.

    kind: ``answer`` (normal, optionally with ``text``), ``status`` (``status``, ``headers``,
    ``body``), ``drop`` (close the connection without answering), ``slow`` (wait ``delay`` then
    answer), ``malformed`` (200 with a body that is not JSON), ``missing`` (200 JSON without the
    answer field), ``trickle`` (answer one byte every ``delay`` seconds), ``quota``, ``auth``, ``empty`` (no content, the token budget spent on
    reasoning), ``refusal``, ``filtered``.
    """

    kind: str = "answer"
    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    text: str | None = None


@dataclasses.dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    json: Any
    format: str
    messages: list[dict[str, str]]
    fault: str
    """The fault kind applied (``status:<code>`` for scripted statuses)."""


def wire_format(path: str) -> str:
    if path.endswith("/chat/completions"):
        return "openai"
    if path.endswith("/responses"):
        return "responses"
    if path.endswith("/messages"):
        return "anthropic"
    if ":generateContent" in path or ":streamGenerateContent" in path:
        return "google"
    return "unknown"


def _messages(fmt: str, body: Any) -> list[dict[str, str]]:
    if not isinstance(body, dict):
        return []
    if fmt == "openai":
        return [{"role": m.get("role", ""), "content": m.get("content", "")} for m in body.get("messages", [])]
    if fmt == "responses":
        return [{"role": m.get("role", ""), "content": m.get("content", "")} for m in body.get("input", [])]
    if fmt == "anthropic":
        out = [{"role": "system", "content": body["system"]}] if body.get("system") else []
        return out + [{"role": m.get("role", ""), "content": m.get("content", "")} for m in body.get("messages", [])]
    if fmt == "google":
        out = []
        system = body.get("systemInstruction")
        if system:
            out.append({"role": "system", "content": "".join(p.get("text", "") for p in system.get("parts", []))})
        for c in body.get("contents", []):
            role = "assistant" if c.get("role") == "model" else "user"
            out.append({"role": role, "content": "".join(p.get("text", "") for p in c.get("parts", []))})
        return out
    return []


def _tokens(messages: list[dict[str, str]]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in messages) + 3 * len(messages)


def _max_tokens(fmt: str, body: dict[str, Any]) -> int:
    if fmt == "openai":
        return int(body.get("max_completion_tokens") or body.get("max_tokens") or 1000)
    if fmt == "responses":
        return int(body.get("max_output_tokens") or 1000)
    if fmt == "anthropic":
        return int(body.get("max_tokens") or 1000)
    if fmt == "google":
        return int((body.get("generationConfig") or {}).get("maxOutputTokens") or 1000)
    return 1000


def _answer_body(fmt: str, body: dict[str, Any], text: str | None, *, stop: str, prompt_tokens: int, reasoning: int = 0, refusal: str | None = None) -> dict[str, Any]:
    """A successful answer in ``fmt``. ``stop`` is one of stop / max_tokens / refusal / filtered."""
    out_tokens = len((text or "").split()) + reasoning
    model = body.get("model", "scripted-model")
    if fmt == "openai":
        finish = {"stop": "stop", "max_tokens": "length", "refusal": "stop", "filtered": "content_filter"}[stop]
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_scripted",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text, "refusal": refusal}, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": out_tokens,
                "total_tokens": prompt_tokens + out_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": reasoning},
            },
        }
    if fmt == "responses":
        content: list[dict[str, Any]] = []
        if text:
            content.append({"type": "output_text", "text": text, "annotations": []})
        if refusal:
            content.append({"type": "refusal", "refusal": refusal})
        output: list[dict[str, Any]] = [{"id": "rs_1", "type": "reasoning", "summary": []}] if reasoning else []
        if content:
            output.append({"id": "msg_1", "type": "message", "role": "assistant", "status": "completed", "content": content})
        incomplete = {"max_tokens": {"reason": "max_output_tokens"}, "filtered": {"reason": "content_filter"}}.get(stop)
        return {
            "id": "resp_scripted",
            "object": "response",
            "model": model,
            "status": "incomplete" if incomplete else "completed",
            "incomplete_details": incomplete,
            "output": output,
            "usage": {
                "input_tokens": prompt_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": out_tokens,
                "output_tokens_details": {"reasoning_tokens": reasoning},
                "total_tokens": prompt_tokens + out_tokens,
            },
        }
    if fmt == "anthropic":
        blocks: list[dict[str, Any]] = []
        if reasoning:
            blocks.append({"type": "thinking", "thinking": "hmm " * reasoning, "signature": "sig"})
        if text or refusal:
            blocks.append({"type": "text", "text": text or refusal or ""})
        stop_reason = {"stop": "end_turn", "max_tokens": "max_tokens", "refusal": "refusal", "filtered": "refusal"}[stop]
        return {
            "id": "msg_scripted",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "output_tokens": out_tokens},
        }
    if fmt == "google":
        finish = {"stop": "STOP", "max_tokens": "MAX_TOKENS", "refusal": "SAFETY", "filtered": "SAFETY"}[stop]
        candidate: dict[str, Any] = {"finishReason": finish, "index": 0}
        if text:
            candidate["content"] = {"role": "model", "parts": [{"text": text}]}
        else:
            candidate["content"] = {"role": "model"}  # what Gemini sends when thinking took the whole budget
        usage = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": len((text or "").split()), "totalTokenCount": prompt_tokens + out_tokens}
        if reasoning:
            usage["thoughtsTokenCount"] = reasoning
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-scripted", "responseId": "resp-scripted"}
    return {"error": "unknown wire format"}


def _error_body(fmt: str, status: int, kind: str) -> tuple[int, dict[str, Any]]:
    """(status, body) for an error of ``kind`` (status/quota/auth) in ``fmt``."""
    if kind == "quota":
        if fmt in ("openai", "responses"):
            return 429, {"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}
        if fmt == "anthropic":
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}
        return 429, {
            "error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan and billing details.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3600s"},
                ],
            }
        }
    if kind == "auth":
        if fmt in ("openai", "responses"):
            return 401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
        if fmt == "anthropic":
            return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
        return 400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}
    message = {429: "Rate limit reached; please try again later.", 500: "The server had an error.", 503: "Service unavailable.", 529: "Overloaded", 400: "Invalid request.", 404: "The model does not exist."}.get(status, f"HTTP {status}")
    if fmt in ("openai", "responses"):
        kinds = {429: "rate_limit_exceeded", 500: "server_error", 503: "server_error"}
        return status, {"error": {"message": message, "type": kinds.get(status, "invalid_request_error"), "param": None, "code": kinds.get(status)}}
    if fmt == "anthropic":
        kinds = {429: "rate_limit_error", 500: "api_error", 529: "overloaded_error", 404: "not_found_error"}
        return status, {"type": "error", "error": {"type": kinds.get(status, "invalid_request_error"), "message": message}}
    statuses = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 404: "NOT_FOUND"}
    details: list[dict[str, Any]] = []
    if status == 429:
        details = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]}]
    return status, {"error": {"code": status, "message": message, "status": statuses.get(status, "INVALID_ARGUMENT"), "details": details}}


def _missing_body(fmt: str) -> dict[str, Any]:
    if fmt in ("openai",):
        return {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop"}]}
    if fmt == "responses":
        return {"id": "x", "object": "response", "status": "completed"}
    if fmt == "anthropic":
        return {"id": "x", "type": "message", "role": "assistant", "stop_reason": "end_turn"}
    return {"usageMetadata": {"promptTokenCount": 1}}


@dataclasses.dataclass(frozen=True)
class _Streamed:
    """A streamed answer to send: its events and the fault to apply on the way."""

    events: list[SseItem]
    headers: dict[str, str]
    fault: str = "answer"
    delay: float = 0.0
    error: SseItem | None = None


def _http_response(status: int, payload: Any, headers: dict[str, str] | None = None, *, close: bool = False) -> bytes:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else 'Status'}"]
    lines.append("content-type: application/json")
    lines.append(f"content-length: {len(data)}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if close:
        lines.append("connection: close")
    # Headers and body leave in one write: split writes meet Nagle and delayed ACKs (~40 ms).
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


class ScriptedLLMServer:
    """See the module docstring. Use as a context manager, or call :meth:`start` / :meth:`stop`.

    The server is one asyncio event loop in a background thread: one thread per connection would
    make 64 concurrent slow answers a GIL convoy, and the benchmarks need it fast.
    """

    def __init__(
        self,
        answer: Callable[[list[dict[str, str]]], str] | None = None,
        *,
        fault_plan: Callable[[int, list[dict[str, str]]], Fault | None] | None = None,
        latency: float = 0.0,
        record: bool = True,
        port: int = 0,
    ) -> None:
        self.answer = answer or (lambda messages: "Answer: e4")
        self.fault_plan = fault_plan
        self.latency = latency
        self.keep_records = record
        self.script: collections.deque[Fault] = collections.deque()
        self.requests: list[Recorded] = []
        self.count = 0
        self.connections = 0
        """Connections accepted (keep-alive reuse keeps this far below the request count)."""
        self._lock = threading.Lock()
        self._port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._trickle_next = 0.0
        self._address: tuple[str, int] = ("127.0.0.1", port)

    # -- scripting ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def enqueue(self, *faults: Fault) -> None:
        with self._lock:
            self.script.extend(faults)

    def enqueue_answer(self, text: str, headers: dict[str, str] | None = None) -> None:
        self.enqueue(Fault("answer", text=text, headers=headers or {}))

    def enqueue_status(self, status: int, *, retry_after: str | float | None = None, headers: dict[str, str] | None = None, body: Any = None) -> None:
        h = dict(headers or {})
        if retry_after is not None:
            h["retry-after"] = str(retry_after)
        self.enqueue(Fault("status", status=status, headers=h, body=body))

    def enqueue_retry_after_date(self, seconds: float) -> None:
        self.enqueue_status(429, retry_after=formatdate(time.time() + seconds, usegmt=True))

    def enqueue_drop(self) -> None:
        self.enqueue(Fault("drop"))

    def enqueue_slow(self, delay: float, text: str | None = None) -> None:
        self.enqueue(Fault("slow", delay=delay, text=text))

    def enqueue_raw(self, body: bytes) -> None:
        self.enqueue(Fault("malformed", body=body))

    def enqueue_kind(self, kind: str) -> None:
        self.enqueue(Fault(kind))

    def next_fault(self, messages: list[dict[str, str]]) -> Fault:
        with self._lock:
            index = self.count
            self.count += 1
            if self.script:
                return self.script.popleft()
        if self.fault_plan is not None:
            fault = self.fault_plan(index, messages)
            if fault is not None:
                return fault
        return Fault("answer")

    def record(self, entry: Recorded) -> None:
        if self.keep_records:
            with self._lock:
                self.requests.append(entry)

    def reset(self) -> None:
        with self._lock:
            self.script.clear()
            self.requests.clear()
            self.count = 0

    # -- serving --------------------------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve_requests(reader, writer)
        except asyncio.CancelledError:
            pass  # stopping; finishing normally keeps asyncio's stream callback quiet

    async def _serve_requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    _method, path, _version = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                try:
                    raw = await reader.readexactly(length) if length else b""
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                response, keep_open, trickle = await self._respond(path, headers, raw)
                if response is None:  # drop: close without a word
                    writer.transport.abort()
                    return
                if isinstance(response, _Streamed):
                    if not await self._send_stream(writer, response):
                        return
                    if headers.get("connection", "").lower() == "close":
                        return
                    continue
                if trickle:  # a byte at a time: never silent long enough for a read timeout
                    for i in range(len(response)):
                        writer.write(response[i : i + 1])
                        await writer.drain()
                        await asyncio.sleep(trickle)
                writer.write(response)
                try:
                    await writer.drain()
                except ConnectionError:
                    return  # the client gave up (attempt timeout); fine
                if not keep_open or headers.get("connection", "").lower() == "close":
                    return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _send_stream(self, writer: asyncio.StreamWriter, stream: _Streamed) -> bool:
        """Send ``stream``; False when the connection was cut (the ``stream_drop`` fault)."""
        lines = ["HTTP/1.1 200 OK", "content-type: text/event-stream", "cache-control: no-cache", "transfer-encoding: chunked"]
        lines += [f"{k}: {v}" for k, v in stream.headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        events = [sse_chunk(e) for e in stream.events]
        end = b"0\r\n\r\n"
        try:
            if stream.fault not in STREAM_FAULTS:
                writer.write(b"".join(events) + end)
                await writer.drain()
                return True
            if stream.fault == "stream_slow":
                for event in events:
                    await asyncio.sleep(stream.delay)
                    writer.write(event)
                    await writer.drain()
                writer.write(end)
                await writer.drain()
                return True
            half = max(1, len(events) // 2)
            writer.write(b"".join(events[:half]))
            await writer.drain()
            if stream.fault == "stream_drop":
                writer.transport.abort()
                return False
            if stream.fault == "stream_stall":
                await asyncio.sleep(stream.delay)
                writer.write(b"".join(events[half:]))
            elif stream.fault == "stream_error" and stream.error is not None:
                writer.write(sse_chunk(stream.error))
            writer.write(end)
            await writer.drain()
        except ConnectionError:
            return False  # the client gave up (idle or total timeout)
        return True

    async def _respond(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[bytes | _Streamed | None, bool, float]:
        response, keep_open = await self._respond_body(path, headers, raw)
        return response, keep_open, self._trickle_next

    async def _respond_body(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[bytes | _Streamed | None, bool]:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        fmt = wire_format(path)
        messages = _messages(fmt, body)
        fault = self.next_fault(messages)
        self._trickle_next = fault.delay if fault.kind == "trickle" else 0.0
        label = f"status:{fault.status}" if fault.kind == "status" else fault.kind
        self.record(Recorded(path, headers, body, fmt, messages, label))
        if self.latency:
            await asyncio.sleep(self.latency)
        if fmt == "unknown" or not isinstance(body, dict):
            return _http_response(404, {"error": {"message": f"no route for {path}"}}), True
        kind = fault.kind
        close = fault.headers.get("connection", "").lower() == "close"
        extra = {k: v for k, v in fault.headers.items() if k.lower() != "connection"}
        if kind == "drop":
            return None, False
        if kind == "slow":
            await asyncio.sleep(fault.delay)
            kind = "answer"
        if kind == "trickle":
            kind = "answer"
        prompt_tokens = _tokens(messages)
        streamed = wants_stream(fmt, path, body)
        stream_fault = kind if kind in STREAM_FAULTS else "answer"
        if kind in STREAM_FAULTS:
            kind = "answer"  # an unstreamed request just gets its answer
        if kind in ("answer", "empty", "refusal", "filtered"):
            full = self._full_answer(kind, fmt, body, fault, messages, prompt_tokens)
            if streamed:
                return _Streamed(sse_events(fmt, full, body), extra, stream_fault, fault.delay, stream_error_event(fmt, fault.body)), True
            return _http_response(200, full, extra, close=close), not close
        if kind == "status":
            status, default = _error_body(fmt, fault.status, "status")
            return _http_response(status, fault.body if fault.body is not None else default, extra), True
        if kind in ("quota", "auth"):
            status, payload = _error_body(fmt, 0, kind)
            return _http_response(status, payload, extra), True
        if kind == "malformed":
            return _http_response(200, fault.body if fault.body is not None else b'{"choices": [{"message": '), True
        if kind == "missing":
            return _http_response(200, _missing_body(fmt)), True
        return _http_response(500, {"error": {"message": f"unknown scripted fault {kind!r}"}}), True

    def _full_answer(self, kind: str, fmt: str, body: dict[str, Any], fault: Fault, messages: list[dict[str, str]], prompt_tokens: int) -> dict[str, Any]:
        """The unstreamed answer a successful ``kind`` would get (a stream sends the same answer)."""
        if kind == "empty":
            return _answer_body(fmt, body, None if fmt == "openai" else "", stop="max_tokens", prompt_tokens=prompt_tokens, reasoning=_max_tokens(fmt, body))
        if kind == "refusal":
            return _answer_body(fmt, body, None, stop="refusal", prompt_tokens=prompt_tokens, refusal="I can't help with that.")
        if kind == "filtered":
            return _answer_body(fmt, body, None, stop="filtered", prompt_tokens=prompt_tokens)
        text = fault.text if fault.text is not None else self.answer(messages)
        return _answer_body(fmt, body, text, stop="stop", prompt_tokens=prompt_tokens)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ScriptedLLMServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve_connection, "127.0.0.1", self._port, backlog=1024)
                )
                self._address = self._server.sockets[0].getsockname()[:2]
            except BaseException as exc:  # report to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="scripted-llm-server")
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop listening and close every connection (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(close(), loop)
        thread.join(timeout=10)

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="scripted LLM server (for benchmarks)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    server = ScriptedLLMServer(latency=args.latency, record=False, port=args.port).start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
