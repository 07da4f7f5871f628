"""Every exception chesseval raises, in one tree.

A model's *mistake* is never an exception: wrong, illegal, unparseable, empty and refused answers
are verdicts (see :mod:`chesseval.core.judge`). Exceptions are for things that stop work: bad input
found before any paid call, a provider that cannot be used at all, a missing engine.

::

    ChessEvalError
     ├─ ConfigError(ChessEvalError, ValueError)          bad option, missing key, unknown suite
     │   └─ UnknownModelError(ConfigError, KeyError)     "unknown provider 'foo' in 'foo/bar'"
     ├─ PuzzleFormatError(ChessEvalError, ValueError)    "puzzles.csv:12: illegal move 'e2e5' in Moves"
     ├─ RunError                                         a run folder that cannot be resumed or written
     ├─ DownloadError                                    HTTP error, dropped connection after retries, size/sha256 mismatch
     ├─ ModelError                                       a model call failed (carries .provider)
     │   ├─ ModelTransportError                          connection dropped, timeout, 408/429/5xx (.retry_after)
     │   ├─ ModelResponseError                           malformed JSON / missing fields
     │   └─ ModelFatalError                              stops the whole run: auth, quota, billing, 4xx
     └─ EngineError                                      Stockfish missing, crashed or hung
         └─ EngineNotFoundError(EngineError, FileNotFoundError)

Transport-level exceptions from httpx are translated at one boundary (``chesseval.providers.http``) with
``raise ... from exc``, so callers only ever see this tree.
"""

from __future__ import annotations

__all__ = [
    "ChessEvalError",
    "ConfigError",
    "UnknownModelError",
    "PuzzleFormatError",
    "RunError",
    "DownloadError",
    "ModelError",
    "ModelTransportError",
    "ModelResponseError",
    "ModelFatalError",
    "EngineError",
    "EngineNotFoundError",
]


class ChessEvalError(Exception):
    """Base class of every chesseval exception."""


class ConfigError(ChessEvalError, ValueError):
    """A bad option, a missing API key, an unknown suite: found before any call is made."""


class UnknownModelError(ConfigError, KeyError):
    """A model name whose provider is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class PuzzleFormatError(ChessEvalError, ValueError):
    """A puzzle file with a bad row. The message is ``file:line: reason``."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class RunError(ChessEvalError):
    """A run folder that cannot be created, read or resumed."""


class DownloadError(ChessEvalError):
    """A file could not be downloaded whole: HTTP error, connection lost after every retry, or
    the result's size or sha256 is not the expected one. A partial download is kept as ``.part``
    so the next attempt resumes it."""


class ModelError(ChessEvalError):
    """A model call failed. ``provider`` names who failed; the message never holds a secret."""

    retries: int | None = None
    """Failed attempts retried before giving up (set by the provider; None if unknown)."""

    def __init__(self, message: str, *, provider: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code


class ModelTransportError(ModelError):
    """The call did not complete: connection error, timeout, 408/429/5xx.

    Inside the retry loop these are the retryable failures; one that escapes the loop means every
    retry was spent. ``retry_after`` is the wait (seconds) the server asked for, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code)
        self.retry_after = retry_after


class ModelResponseError(ModelError):
    """The server answered, but not in its documented format (malformed JSON, missing fields)."""


class ModelFatalError(ModelError):
    """An error no retry can fix (bad key, no quota, bad request): the run stops at once."""


class EngineError(ChessEvalError):
    """The chess engine is missing, crashed or did not answer in time."""


class EngineNotFoundError(EngineError, FileNotFoundError):
    """No Stockfish binary was found where chesseval looks for one."""
