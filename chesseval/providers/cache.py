"""The on-disk response cache: a paid answer is never paid for twice.

An entry is keyed by the SHA-256 of everything that determines the answer: provider, model, base
URL (redacted), endpoint, the full request body (messages and generation settings) and the run's
seed/epoch. It stores the reply only: no request headers, so never a key. Files are written
atomically (temporary file + rename), so a crash leaves either the whole entry or none.

Layout: ``<cache_dir>/responses/<provider>/<key[:2]>/<key>.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chesseval.errors import ConfigError

__all__ = ["ResponseCache", "default_cache_dir", "cache_key", "CACHE_DIR_ENV", "CACHE_SCHEMA"]

LOGGER = logging.getLogger(__name__)
CACHE_DIR_ENV = "CHESSEVAL_CACHE_DIR"
CACHE_SCHEMA = 1


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$CHESSEVAL_CACHE_DIR``, else ``$XDG_CACHE_HOME/chesseval``, else ``~/.cache/chesseval``."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "chesseval"


def cache_key(parts: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``parts``."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _slug(provider: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", provider) or "_"


class ResponseCache:
    """Replies on disk, one JSON file per request."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.root = self.directory / "responses"

    def _path(self, provider: str, key: str) -> Path:
        return self.root / _slug(provider) / key[:2] / f"{key}.json"

    def get(self, provider: str, key: str) -> dict[str, Any] | None:
        """The stored entry, or None (a missing or unreadable entry is a miss, never an error)."""
        path = self._path(provider, key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            LOGGER.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None
        if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA or not isinstance(data.get("reply"), dict):
            return None
        return data

    def put(self, provider: str, key: str, entry: Mapping[str, Any]) -> None:
        path = self._path(provider, key)
        record = {"schema": CACHE_SCHEMA, "key": key, "created_at": time.time(), **entry}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except OSError as exc:
            # A cache that cannot be written must not lose the answer we already paid for.
            LOGGER.warning("could not write cache entry %s: %s", path, exc)

    def entries(self, provider: str | None = None) -> list[Path]:
        base = self.root / _slug(provider) if provider else self.root
        if not base.is_dir():
            return []
        return sorted(base.rglob("*.json"))

    def clear(self, *, provider: str | None = None, older_than_s: float | None = None) -> int:
        """Delete entries (all, one provider's, or those older than ``older_than_s``); returns how many."""
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"cache path {str(self.root)!r} is not a directory")
        cutoff = None if older_than_s is None else time.time() - older_than_s
        removed = 0
        for path in self.entries(provider):
            try:
                if cutoff is not None and path.stat().st_mtime >= cutoff:
                    continue
                path.unlink()
                removed += 1
            except FileNotFoundError:
                continue
        for directory in sorted((p for p in self.root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                directory.rmdir()
            except OSError:
                pass
        return removed

    def size(self, provider: str | None = None) -> tuple[int, int]:
        """(number of entries, total bytes)."""
        files = self.entries(provider)
        total = 0
        for f in files:
            try:
                total += f.stat().st_size
            except FileNotFoundError:
                pass
        return len(files), total
