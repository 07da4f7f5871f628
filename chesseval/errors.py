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
     │   └─ RunLockedError                               the run folder is in use by another process (.pid)
     ├─ PlayerError                                      a player raised something else than ModelError (its bug)
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

import enum

__all__ = [
    "ExitCode",
    "ChessEvalError",
    "ConfigError",
    "UnknownModelError",
    "PuzzleFormatError",
    "RunError",
    "RunLockedError",
    "PlayerError",
    "DownloadError",
    "ModelError",
    "ModelTransportError",
    "ModelResponseError",
    "ModelFatalError",
    "EngineError",
    "EngineNotFoundError",
    "short_repr",
]

SHORT_VALUE = 60
"""Characters of an offending value an error message quotes: a 3 kB CSV row is named, not echoed."""


def short_repr(value: object, width: int = SHORT_VALUE) -> str:
    """``repr`` of ``value`` cut to about ``width`` characters, saying how long the whole was.

    ``short_repr("x" * 3000)`` -> ``'xxxx…' (3000 chars)``; repr keeps it on one line.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= width:
        return repr(text)
    return f"{text[:width] + '…'!r} ({len(text)} chars)"


class ChessEvalError(Exception):
    """Base class of every chesseval exception."""


class ConfigError(ChessEvalError, ValueError):
    """A bad option, a missing API key, an unknown suite: found before any call is made."""


class UnknownModelError(ConfigError, KeyError):
    """A model name whose provider is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


_MAX_REASON = 400


class PuzzleFormatError(ChessEvalError, ValueError):
    """A puzzle file with a bad row. The message is ``file:line: reason``."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        # One line, whatever a reason quoted (a foreign exception's text can hold newlines).
        reason = " ".join(reason.split()) if "\n" in reason or "\r" in reason else reason
        if len(reason) > _MAX_REASON:
            reason = reason[: _MAX_REASON - 1] + "…"
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class RunError(ChessEvalError):
    """A run folder that cannot be created, read or resumed."""


class RunLockedError(RunError):
    """The run folder is in use by another live process (its lock is held). ``pid`` is the holder."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class PlayerError(ChessEvalError):
    """A player's ``play`` raised something other than :class:`ModelError`: a bug in the player.

    The puzzle is recorded as ``Type: message``, the run stops (status ``error``, the message in
    ``run.json``), and this is raised from the original exception, whose traceback it keeps.
    ``record`` is that puzzle's record (a ``chesseval.core.records.RunRecord``), for whoever writes it down.
    """

    def __init__(self, message: str, *, record: object | None = None) -> None:
        super().__init__(message)
        self.record = record


class DownloadError(ChessEvalError):
    """A file could not be downloaded whole: HTTP error, connection lost after every retry, or
    the result's size or sha256 is not the expected one. A partial download is kept as ``.part``
    so the next attempt resumes it."""


class ModelError(ChessEvalError):
    """A model call failed. ``provider`` names who failed; the message never holds a secret."""

    retries: int | None = None
    """Failed attempts retried before giving up (set by the provider; None if unknown)."""
    retry_wait_s: float | None = None
    """Seconds spent waiting between those attempts (set by the provider; None if unknown)."""
    usage: object | None = None
    """Tokens the failed attempts were billed for, when a provider knows (a ``chesseval.core.players.Usage``)."""
    cost_usd: float | None = None
    """What the failed attempts cost, when a provider knows."""

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


class ExitCode(enum.IntEnum):
    """The exit codes of ``chesseval``, the one place they are defined (README: "Failure modes and
    exit codes"). A script may rely on them: 0 means every puzzle got an answer verdict."""

    OK = 0
    """Done, and every puzzle has an answer verdict (correct, wrong, illegal, ... but not ``error``)."""
    FAILURE = 1
    """Something else went wrong (a missing engine, a player's own exception, ...)."""
    USAGE = 2
    """Bad command line or bad input (options, puzzle files, run folder), found before any call."""
    ANSWER_ERRORS = 3
    """The run finished, but some puzzles have the verdict ``error`` (every retry failed);
    ``--retry-errors`` asks them again."""
    PROVIDER = 4
    """The run stopped on a fatal provider error (bad key, no quota, every call failing the same
    way); records are kept and the same command resumes once the cause is fixed."""
    RUN_LOCKED = 5
    """The run folder is in use by another chesseval process; nothing was asked."""
    CANCELLED = 130
    """Stopped by Ctrl-C (SIGINT), as shells report it; records are kept, the same command resumes."""
    BROKEN_PIPE = 141
    """The reader of stdout went away (``chesseval report RUN | head``)."""

