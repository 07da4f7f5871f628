"""Download the Lichess puzzle database (or any big file) into a local cache, resumably.

The file is streamed to ``NAME.part`` beside its destination and renamed into place only when it
is complete and verified, so the destination is never a half-written file. A ``.part`` left by a
broken download is resumed with an HTTP ``Range`` request; ``If-Range`` (the ETag or
Last-Modified the server sent first) makes a server whose file changed in between send the whole
new file instead of a mismatched tail. A server that ignores ``Range`` answers 200 with the
whole file, and the download starts over from byte 0.

Size is checked against ``Content-Length`` / ``Content-Range``; a sha256 is checked when the
caller knows it (Lichess publishes none). Every httpx exception is translated to
:class:`~chesseval.errors.DownloadError` in :func:`map_httpx_errors`, the one network boundary
of this module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from chesseval.errors import DownloadError

__all__ = [
    "DEFAULT_URL",
    "DEFAULT_TIMEOUT",
    "DownloadResult",
    "default_cache_dir",
    "default_destination",
    "download",
    "map_httpx_errors",
]

DEFAULT_URL = "https://database.lichess.org/lichess_db_puzzle.csv.zst"
DEFAULT_TIMEOUT = httpx.Timeout(connect=15.0, read=60.0, write=60.0, pool=15.0)
"""A stalled read for a minute counts as a dropped connection (and is resumed)."""

_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

ProgressCallback = Callable[[int, "int | None"], None]
"""Called as ``(bytes_on_disk, total_or_None)`` while downloading."""


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadResult:
    path: Path
    url: str
    size: int
    sha256: str
    resumed_from: int
    """Bytes already on disk (from an earlier ``.part``) when this call started."""
    attempts: int
    """HTTP requests made (0 when the file was already there)."""
    cached: bool = False
    """True when the destination already existed and nothing was downloaded."""


def default_cache_dir() -> Path:
    """``$CHESSEVAL_CACHE_DIR``, else ``$XDG_CACHE_HOME/chesseval``, else ``~/.cache/chesseval``."""
    env = os.environ.get("CHESSEVAL_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "chesseval"


def default_destination(url: str) -> Path:
    name = Path(urlsplit(url).path).name
    if not name:
        raise DownloadError(f"cannot name a file after URL {url!r}: give a destination")
    return default_cache_dir() / name


class _Retryable(Exception):
    """Internal: this attempt failed in a way the next attempt may fix."""


@contextlib.contextmanager
def map_httpx_errors(url: str) -> Iterator[None]:
    """Translate httpx exceptions: transport trouble is retryable, anything else is fatal."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise _Retryable(f"{url}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:  # connect/read errors, peer closed mid-body
        raise _Retryable(f"{url}: connection failed ({type(exc).__name__}: {exc})") from exc
    except httpx.InvalidURL as exc:
        raise DownloadError(f"invalid URL {url!r} ({exc})") from exc
    except httpx.HTTPError as exc:
        raise DownloadError(f"{url}: {type(exc).__name__}: {exc}") from exc


def _read_meta(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _backoff(attempt: int) -> float:
    return min(30.0, 0.5 * 2 ** (attempt - 1))


def download(
    url: str = DEFAULT_URL,
    dest: str | os.PathLike[str] | None = None,
    *,
    sha256: str | None = None,
    retries: int = 5,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    force: bool = False,
    on_progress: ProgressCallback | None = None,
    wait: Callable[[int], float] = _backoff,
    transport: httpx.BaseTransport | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest`` (default: the cache dir), resuming a ``.part`` if there is one.

    Transport errors, timeouts, 408/429/5xx and a body cut short are retried up to ``retries``
    times, each retry resuming where the file stops (``wait(attempt)`` seconds apart). Other HTTP
    errors and a size or sha256 mismatch raise :class:`DownloadError` at once. An existing
    ``dest`` is returned as it is unless ``force``; with ``sha256`` given it is checked first.
    """
    path = Path(dest) if dest is not None else default_destination(url)
    if path.is_dir():
        path = path / default_destination(url).name
    try:
        return _download(url, path, sha256.lower() if sha256 else None, retries, timeout, force, on_progress, wait, transport)
    except OSError as exc:  # disk full, permissions: one line naming the file, not a traceback
        raise DownloadError(f"{exc.filename or path}: {exc.strerror or exc}") from exc


def _download(
    url: str,
    path: Path,
    expected: str | None,
    retries: int,
    timeout: httpx.Timeout | float,
    force: bool,
    on_progress: ProgressCallback | None,
    wait: Callable[[int], float],
    transport: httpx.BaseTransport | None,
) -> DownloadResult:
    if path.exists() and not force:
        digest = _file_sha256(path)
        if expected and digest != expected:
            raise DownloadError(f"{path}: existing file has sha256 {digest}, expected {expected} (use --force to download again)")
        return DownloadResult(path, url, path.stat().st_size, digest, 0, 0, cached=True)

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    meta_path = path.with_name(path.name + ".part.json")
    meta = _read_meta(meta_path)
    if part.exists() and meta.get("url") != url:
        part.unlink()  # a .part of some other URL (or without a record) cannot be resumed safely
        meta = {}
    resumed_from = part.stat().st_size if part.exists() else 0

    headers = {"Accept-Encoding": "identity"}  # byte ranges must count bytes of the file itself
    attempts = 0
    with httpx.Client(timeout=timeout, follow_redirects=True, headers=headers, transport=transport) as client:
        while True:
            attempts += 1
            try:
                total = _attempt(client, url, part, meta_path, meta, on_progress)
                break
            except _Retryable as exc:
                if attempts > retries:
                    have = part.stat().st_size if part.exists() else 0
                    raise DownloadError(
                        f"{exc}; gave up after {attempts} attempt(s), {have} bytes kept in {str(part)!r} (run again to resume)"
                    ) from exc.__cause__
                meta = _read_meta(meta_path)
                time.sleep(wait(attempts))

    size = part.stat().st_size
    if total is not None and size != total:  # pragma: no cover - _attempt already guarantees it
        raise DownloadError(f"{url}: got {size} bytes, server announced {total}")
    digest = _file_sha256(part)
    if expected and digest != expected:
        part.unlink()
        meta_path.unlink(missing_ok=True)
        raise DownloadError(f"{url}: downloaded file has sha256 {digest}, expected {expected}; discarded")
    with open(part, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(part, path)  # atomic: readers see the old file or the whole new one
    meta_path.unlink(missing_ok=True)
    return DownloadResult(path, url, size, digest, resumed_from, attempts)


def _attempt(
    client: httpx.Client,
    url: str,
    part: Path,
    meta_path: Path,
    meta: dict[str, object],
    on_progress: ProgressCallback | None,
) -> int | None:
    """One request; returns the total size (if known) once ``part`` holds the whole file."""
    offset = part.stat().st_size if part.exists() else 0
    headers: dict[str, str] = {}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = meta.get("etag") or meta.get("last_modified")
        if isinstance(validator, str) and not validator.startswith("W/"):
            headers["If-Range"] = validator
    with map_httpx_errors(url):
        with client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status == 416 and offset:
                # Our .part is at or past the end of the server's file: if the sizes agree it is
                # complete, otherwise it is stale and must go.
                known = meta.get("total")
                if isinstance(known, int) and known == offset:
                    return known
                part.unlink()
                raise _Retryable(f"{url}: server refused range from byte {offset} (HTTP 416); restarting")
            if status in _RETRY_STATUS:
                raise _Retryable(f"{url}: HTTP {status}")
            if status not in (200, 206):
                raise DownloadError(f"{url}: HTTP {status} {response.reason_phrase}")

            total: int | None
            if status == 206:
                m = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
                if not m or int(m.group(1)) != offset:
                    part.unlink(missing_ok=True)
                    raise _Retryable(f"{url}: bad Content-Range {response.headers.get('content-range')!r} for a request from byte {offset}")
                total = None if m.group(3) == "*" else int(m.group(3))
                mode = "ab"
            else:
                # Either a fresh download, or the server ignored Range / the file changed (If-Range).
                offset = 0
                length = response.headers.get("content-length")
                total = int(length) if length and length.isdigit() else None
                mode = "wb"
            meta_path.write_text(
                json.dumps({
                    "url": url,
                    "total": total,
                    "etag": response.headers.get("etag"),
                    "last_modified": response.headers.get("last-modified"),
                }),
                encoding="utf-8",
            )
            done = offset
            if on_progress:
                on_progress(done, total)
            with open(part, mode) as fh:
                # No chunk_size: httpx would hold bytes back to fill a chunk and lose them when the
                # connection drops; every byte received must reach the .part to be resumable.
                for chunk in response.iter_raw():
                    fh.write(chunk)
                    done += len(chunk)
                    if on_progress:
                        on_progress(done, total)
    if total is not None:
        if done < total:
            raise _Retryable(f"{url}: body ended at byte {done} of {total}")
        if done > total:
            part.unlink()
            raise DownloadError(f"{url}: got {done} bytes, more than the announced {total}; discarded")
    return total
