"""API keys and other secrets: where they are read from, and how they are kept out of everything else.

Keys come from the process environment or from a ``.env`` file in the current directory (the
environment wins). They are handed to the HTTP seam as request headers and nowhere else: never to
``describe()``, records, the response cache, log lines or error messages. Anything that may echo a
secret back (a server's error message, a base URL with ``user:password@``) goes through
:func:`redact_text` / :func:`redact_url` first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chesseval.errors import ConfigError

__all__ = [
    "read_dotenv",
    "lookup_env",
    "env_name",
    "redact_text",
    "redact_url",
    "split_url_credentials",
    "is_credential_name",
    "is_loopback_url",
    "REDACTED",
]

REDACTED = "***"

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_CREDENTIAL_WORDS = ("key", "token", "secret", "password", "passwd", "auth", "signature", "credential", "sig")


def read_dotenv(path: str | os.PathLike[str]) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file (``export``, quotes and ``#`` comments allowed).

    A missing file is an empty mapping. The values are returned, never printed: a malformed line is
    reported by number only, since it may hold a key.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {str(p)!r}: {exc.strerror}") from None
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ConfigError(f"{str(p)!r}:{number}: not a KEY=value line")
        name, value = m.group(1), m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        out[name] = value
    return out


def lookup_env(
    names: Sequence[str],
    *,
    environ: Mapping[str, str] | None = None,
    dotenv: str | os.PathLike[str] | None = ".env",
) -> tuple[str, str] | None:
    """The first of ``names`` that is set (non-empty), as ``(name, value)``; environment before ``.env``."""
    env = os.environ if environ is None else environ
    for name in names:
        value = env.get(name)
        if value:
            return name, value
    if dotenv is not None:
        file_values = read_dotenv(dotenv)
        for name in names:
            value = file_values.get(name)
            if value:
                return name, value
    return None


def env_name(prefix: str, suffix: str) -> str:
    """``("my-server", "API_KEY")`` -> ``"MY_SERVER_API_KEY"`` (inspect_ai's openai-api convention)."""
    return re.sub(r"[^A-Za-z0-9]", "_", prefix).upper() + "_" + suffix


def redact_text(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret (4+ characters) replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def is_credential_name(name: str) -> bool:
    """Does an option or query parameter name look like it carries a credential?"""
    lowered = name.lower().replace("-", "_")
    return any(word in lowered for word in _CREDENTIAL_WORDS)


def split_url_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://u:p@host/v1`` -> (``https://host/v1``, ``("u", "p")``); the pair is None without userinfo."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (parts.username or "", parts.password or "")


def redact_url(url: str) -> str:
    """A URL safe to record: userinfo and credential-like query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if is_credential_name(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def is_loopback_url(url: str) -> bool:
    """Is the URL's host this machine (where a local server needs no key)?"""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return host in {"localhost", "::1"} or host.startswith("127.") or host == "0.0.0.0"
