"""The one place model providers touch the network.

(The other network user is :mod:`chesseval.lichessdb.download`, a synchronous streaming download with HTTP
Range resumption; it translates httpx errors at its own single boundary, ``map_httpx_errors``.
Folding it into this module is a known follow-up.)

Every provider sends its requests through :class:`HttpSession`. It owns the ``httpx.AsyncClient``
(connection pool sized to ``max_connections``, explicit timeouts, no redirects) and translates
every httpx exception into the :mod:`chesseval.errors` tree with ``raise ... from exc``, so no
foreign exception crosses this boundary. What an HTTP *status* means (retry, quota, bad key) is
the provider's business; the seam only reports it.

Secrets: the key travels in the session's default headers; credentials in a base URL
(``https://user:pass@host``) are moved into HTTP basic auth so that neither httpx's request log
nor an error message can show them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from chesseval.providers.credentials import redact_text, redact_url, split_url_credentials
from chesseval.errors import ModelError, ModelFatalError, ModelResponseError, ModelTransportError

__all__ = ["HttpResponse", "HttpSession", "translate_httpx_error"]


@dataclasses.dataclass(frozen=True)
class HttpResponse:
    """A complete answer from the server, whatever its status."""

    status_code: int
    headers: Mapping[str, str]
    """Header names lowercased."""
    content: bytes
    elapsed_s: float

    def json(self, provider: str) -> Any:
        """The body as JSON; a body that is not JSON is a :class:`ModelResponseError`."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            excerpt = self.content[:80].decode("utf-8", "replace")
            raise ModelResponseError(
                f"{provider}: the server answered HTTP {self.status_code} with a body that is not JSON: {excerpt!r}",
                provider=provider,
                status_code=self.status_code,
            ) from exc


@functools.cache
def _ssl_context() -> ssl.SSLContext | bool:
    """One TLS context per process: building one loads the CA bundle (~0.1 s), per client otherwise."""
    factory = getattr(httpx, "create_ssl_context", None)
    return factory() if factory is not None else True


def translate_httpx_error(exc: Exception, *, provider: str, timeout: float | None, secrets: Iterable[str | None] = ()) -> ModelError:
    """The chesseval error for an httpx (or timeout) exception; most specific cases first."""
    detail = redact_text(str(exc) or type(exc).__name__, secrets)
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        limit = f" of {timeout:g}s" if timeout is not None else ""
        return ModelTransportError(f"{provider}: no answer within the attempt timeout{limit}", provider=provider)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError)):
        # The request could not even be formed: every call would fail the same way.
        return ModelFatalError(f"{provider}: cannot send the request ({detail}); check the base URL and options", provider=provider)
    if isinstance(exc, httpx.TooManyRedirects):
        return ModelFatalError(f"{provider}: too many redirects; check the base URL", provider=provider)
    if isinstance(exc, (httpx.StreamError, httpx.CookieConflict, httpx.HTTPStatusError)):
        # Misuse of httpx inside chesseval, not a server problem: do not retry it.
        return ModelFatalError(f"{provider}: internal HTTP client error ({type(exc).__name__}: {detail})", provider=provider)
    if isinstance(exc, httpx.DecodingError):
        return ModelResponseError(f"{provider}: could not decode the response body ({detail})", provider=provider)
    if isinstance(exc, httpx.ConnectError):
        return ModelTransportError(f"{provider}: cannot connect ({detail})", provider=provider)
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)):
        return ModelTransportError(f"{provider}: connection dropped ({type(exc).__name__}: {detail})", provider=provider)
    return ModelTransportError(f"{provider}: request failed ({type(exc).__name__}: {detail})", provider=provider)


class HttpSession:
    """An async HTTP client for one provider endpoint, with ``max_connections`` connection slots.

    Each slot is its own ``httpx.AsyncClient`` limited to one connection, handed out through a
    queue, so at most ``max_connections`` requests are in flight and none ever waits inside httpx's
    shared pool: httpcore 1.0's pool hands a freed connection to every queued request and makes the
    losers retry, which collapses throughput at 32+ concurrent requests (encode/httpx#3215).
    Clients are made on demand.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        max_connections: int = 16,
        attempt_timeout: float | None = 300.0,
        secrets: Iterable[str | None] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        clean_url, userinfo = split_url_credentials(base_url)
        self.base_url = redact_url(base_url)
        """The base URL as it may be recorded."""
        self.attempt_timeout = attempt_timeout
        self.max_connections = max_connections
        self._secrets = [s for s in secrets if s] + ([userinfo[1]] if userinfo and userinfo[1] else [])
        self._client_kwargs: dict[str, Any] = dict(
            base_url=clean_url,
            headers={"content-type": "application/json", **dict(headers or {})},
            # URL credentials become HTTP basic auth, unless the key already claims Authorization.
            auth=httpx.BasicAuth(*userinfo) if userinfo and not any(k.lower() == "authorization" for k in (headers or {})) else None,
            timeout=httpx.Timeout(attempt_timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=False,
            verify=_ssl_context(),
            transport=transport,
        )
        self._clients: list[httpx.AsyncClient] = []
        self._idle: asyncio.Queue[httpx.AsyncClient] | None = None
        self._closed = False

    @property
    def headers(self) -> httpx.Headers:
        """The default request headers (for tests; they hold the key)."""
        return httpx.Headers(self._client_kwargs["headers"])

    def redact(self, text: str) -> str:
        """``text`` with this session's secrets removed (for messages built from server output)."""
        return redact_text(text, self._secrets)

    async def _acquire(self) -> httpx.AsyncClient:
        if self._idle is None:
            self._idle = asyncio.Queue()
        if self._idle.empty() and len(self._clients) < self.max_connections:
            client = httpx.AsyncClient(**self._client_kwargs)
            self._clients.append(client)
            return client
        return await self._idle.get()

    async def post_json(self, path: str, payload: Any, *, params: Mapping[str, str] | None = None) -> HttpResponse:
        """POST ``payload`` as JSON; returns the response of any status, or raises a :class:`ModelError`.

        Waits for a free connection slot first; the attempt timeout starts once it has one.
        """
        if self._closed:
            raise ModelFatalError(f"{self.provider}: the HTTP session is closed", provider=self.provider)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        client = await self._acquire()
        start = time.perf_counter()
        healthy = True
        try:
            # httpx's own timeouts end a silent server cleanly; this wall-clock bound (a little
            # later) catches one that trickles bytes, which httpx's per-read timeout never would.
            async with asyncio.timeout(None if self.attempt_timeout is None else self.attempt_timeout * 1.25 + 0.05):
                try:
                    response = await client.post(path, content=body, params=params)
                except asyncio.CancelledError:
                    healthy = False  # httpcore may leave a cancelled connection reserved: never reuse it
                    raise
        except (TimeoutError, httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, httpx.CookieConflict) as exc:
            raise translate_httpx_error(exc, provider=self.provider, timeout=self.attempt_timeout, secrets=self._secrets) from exc
        finally:
            await self._release(client, healthy)
        return HttpResponse(
            status_code=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            content=response.content,
            elapsed_s=time.perf_counter() - start,
        )

    async def _release(self, client: httpx.AsyncClient, healthy: bool) -> None:
        assert self._idle is not None
        if healthy:
            self._idle.put_nowait(client)
            return
        # Replace it, so that requests already waiting for a slot are not left waiting forever.
        if client in self._clients:
            self._clients.remove(client)
        if not self._closed:
            fresh = httpx.AsyncClient(**self._client_kwargs)
            self._clients.append(fresh)
            self._idle.put_nowait(fresh)
        try:
            await client.aclose()
        except Exception:  # noqa: BLE001 - closing a broken client must not hide the real error
            pass

    async def aclose(self) -> None:
        self._closed = True
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()
