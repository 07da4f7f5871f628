"""The run loop: puzzle → prompt → player → parsed move → verdict → record, concurrently, resumably.

Puzzles are played by the Lichess protocol: the player answers one solver move per turn; after a
correct move the solution's reply is played and the same conversation continues. Every input is
checked before the first call (suite, puzzles, model name, keys), so bad input never costs money.

A run is identified by a hash of everything that changes the answers (model, options, suite hash,
format, template, limit, seed). Running the same command again finds that run and resumes it:
finished puzzles are not asked again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import platform
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import chess

from chesseval.errors import ConfigError, ModelError, ModelFatalError
from chesseval.core.judge import Step, Verdict, judge_move, verdict_of_reply
from chesseval.core.moves import parse_move
from chesseval.core.players import Message, Player, Reply, Turn, Usage
from chesseval.core.prompts import TEMPLATE_ID, PromptFormat, PromptOptions, messages_sha256, render_follow_up, render_prompt
from chesseval.core.puzzles import Puzzle, load_puzzles
from chesseval.core.records import RECORD_SCHEMA, RunDir, RunStatus, find_run, utc_now
from chesseval.core.results import summarize
from chesseval.core.suites import Suite, resolve_suite
from chesseval.version import __version__

__all__ = ["RunConfig", "RunResult", "run_async", "play_puzzle", "redact_options"]

# Options that change how calls are made, not what is answered: changing them still resumes.
_TRANSPORT_OPTIONS = {"max_connections", "max_retries", "timeout", "attempt_timeout", "cache", "cache_dir", "prices"}
_SECRET_WORDS = ("key", "token", "secret", "password", "auth", "credential")


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options safe to write down: secret-like values hidden, credentials stripped from URLs."""
    out: dict[str, Any] = {}
    for k, v in options.items():
        if any(w in k.lower() for w in _SECRET_WORDS):
            out[k] = "<redacted>"
        elif isinstance(v, str) and "://" in v and "@" in v:
            parts = urlsplit(v)
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
            out[k] = urlunsplit((parts.scheme, f"<redacted>@{host}", parts.path, parts.query, parts.fragment))
        else:
            out[k] = v
    return out


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything a run needs. ``model_options`` go to the player (``-M`` and generation flags)."""

    model: str
    suite: str
    format: PromptFormat = PromptFormat.FEN
    model_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    prompt_options: PromptOptions = dataclasses.field(default_factory=PromptOptions)
    limit: int | None = None
    seed: int = 0
    max_connections: int = 8
    runs_dir: Path = Path("runs")
    band_width: int = 200
    meta: Mapping[str, str] = dataclasses.field(default_factory=dict)
    resume: bool = True
    """Resume the newest run with the same configuration (False: always start a new run)."""
    retry_errors: bool = False
    """On resume, ask again the puzzles whose record is an ``error`` verdict (their records are replaced)."""
    engine: str | None = None
    """Named engine limit for checking every played move after the run (needs Stockfish)."""

    def answer_config(self, suite_sha256: str) -> dict[str, Any]:
        """The part of the configuration that decides the answers (hashed to find a run to resume)."""
        return {
            "model": self.model,
            "model_options": {k: v for k, v in sorted(redact_options(self.model_options).items()) if k not in _TRANSPORT_OPTIONS},
            "suite_sha256": suite_sha256,
            "format": str(self.format),
            "prompt_options": self.prompt_options.to_dict(),
            "template": TEMPLATE_ID,
            "limit": self.limit,
            "seed": self.seed,
        }


@dataclasses.dataclass(frozen=True)
class RunResult:
    path: Path
    status: str
    results: dict[str, Any]
    asked: int
    """Puzzles asked in this invocation (0 when everything was already recorded)."""
    resumed: bool


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def play_puzzle(
    puzzle: Puzzle,
    player: Player,
    fmt: PromptFormat = PromptFormat.FEN,
    options: PromptOptions | None = None,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Play one puzzle by the Lichess protocol and return its record (a JSON-ready dict).

    Raises only :class:`ModelFatalError` (the run must stop); every other failure is a verdict.
    """
    started = utc_now()
    options = options or PromptOptions()
    board = puzzle.board()
    prompt = render_prompt(puzzle, fmt, options)
    messages: list[Message] = list(prompt.messages)
    new_messages: list[Message] = list(prompt.messages)
    turns: list[dict[str, Any]] = []
    verdict = Verdict.WRONG
    found = 0
    usage = Usage()
    cost: float | None = 0.0
    latency = 0.0
    retries = 0
    waited = 0.0
    error: str | None = None
    solution = puzzle.solution
    for i, expected in enumerate(solution):
        turn: dict[str, Any] = {
            "index": i,
            "prompt_sha256": messages_sha256(messages),
            "messages": new_messages,
            "expected_uci": board.parse_uci(expected).uci(),
        }
        turns.append(turn)
        try:
            reply = await player.play(Turn(tuple(messages), board.copy(), puzzle, i, seed))
        except ModelFatalError:
            raise
        except ModelError as exc:
            error = _error_text(exc)
            turn.update(outcome=Verdict.ERROR.value, error=error, retries=getattr(exc, "retries", None))
            verdict = Verdict.ERROR
            break
        usage = usage + reply.usage
        latency += reply.latency_s
        retries += reply.retries
        waited += float(reply.extra.get("retry_wait_s") or 0.0)
        cost = None if cost is None or reply.cost_usd is None else cost + reply.cost_usd
        parsed = parse_move(reply.text, board)
        turn.update(
            answer=reply.text,
            stop_reason=reply.stop_reason,
            refusal=reply.refusal,
            parse_kind=str(parsed.kind),
            parsed_text=parsed.text,
            parse_detail=parsed.detail,
            played_uci=parsed.move.uci() if parsed.move else None,
            latency_s=round(reply.latency_s, 6),
            usage=reply.usage.to_dict(),
            retries=reply.retries,
            cost_usd=reply.cost_usd,
            cached=reply.cached,
            error=None,
        )
        if reply.extra:
            turn["extra"] = reply.extra
        failed = verdict_of_reply(reply, parsed)
        if failed is not None:
            verdict = failed
            turn["outcome"] = failed.value
            break
        assert parsed.move is not None
        step = judge_move(
            board,
            parsed.move,
            expected,
            is_last=i == len(solution) - 1,
            alternatives=puzzle.alternatives if i == 0 else (),
        )
        turn["played_san"] = board.san(parsed.move)
        if step is Step.WRONG:
            verdict = Verdict.WRONG
            turn["outcome"] = Verdict.WRONG.value
            break
        found += 1
        if step is Step.SOLVED:
            verdict = Verdict.CORRECT
            turn["outcome"] = Verdict.CORRECT.value
            break
        turn["outcome"] = "continue"
        board.push(parsed.move)
        reply_move = chess.Move.from_uci(puzzle.line[2 * i + 1])
        follow = render_follow_up(puzzle, board, reply_move, fmt, options)
        board.push(reply_move)
        assistant: Message = {"role": "assistant", "content": reply.text}
        messages += [assistant, follow]
        new_messages = [follow]
    if cost == 0.0 and not any(t.get("cost_usd") is not None for t in turns):
        cost = None
    return {
        "schema": RECORD_SCHEMA,
        "puzzle_id": puzzle.id,
        "rating": puzzle.rating,
        "rating_deviation": puzzle.rating_deviation,
        "rating_source": puzzle.rating_source,
        "themes": list(puzzle.themes),
        # The puzzle itself, so a record can be audited and re-scored without the suite file.
        "fen": puzzle.fen,
        "moves": list(puzzle.moves),
        "has_setup_move": puzzle.has_setup_move,
        "format": str(fmt),
        "n_solver_moves": len(solution),
        "solver": "white" if puzzle.solver == chess.WHITE else "black",
        "verdict": verdict.value,
        "first_move_correct": found >= 1,
        "solver_moves_found": found,
        "turns": turns,
        "latency_s": round(latency, 6),
        "usage": usage.to_dict(),
        "cost_usd": cost,
        "retries": retries,
        "retry_wait_s": round(waited, 3),
        "error": error,
        "started_at": started,
        "finished_at": utc_now(),
    }


class _Progress:
    """A one-line live progress display on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total = total
        self.done = done
        self.solved = 0
        self.errors = 0
        self.retries = 0
        self.waited = 0.0
        self.asked = 0
        self.enabled = enabled and sys.stderr.isatty()
        self._last = 0.0
        self._t0 = time.monotonic()

    def update(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.asked += 1
        self.solved += record["verdict"] == Verdict.CORRECT.value
        self.errors += record["verdict"] == Verdict.ERROR.value
        self.retries += int(record.get("retries") or 0)
        self.waited += float(record.get("retry_wait_s") or 0.0)
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.2 or self.done == self.total):
            self._last = now
            rate = self.asked / max(now - self._t0, 1e-9)
            sys.stderr.write(
                f"\r[{self.done}/{self.total}] solved {100 * self.solved / self.asked:5.1f}%  "
                f"errors {100 * self.errors / self.asked:4.1f}%  retries {self.retries} (waited {self.waited:.0f}s)  {rate:6.1f} puzzles/s "
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.asked:
            sys.stderr.write("\n")


def _versions() -> dict[str, str]:
    return {
        "chesseval": __version__,
        "python-chess": chess.__version__,
        "python": platform.python_version(),
    }


async def run_async(
    config: RunConfig,
    player: Player,
    *,
    suite: Suite | None = None,
    puzzles: list[Puzzle] | None = None,
    progress: bool = False,
    on_run_dir: Callable[[RunDir], None] | None = None,
) -> RunResult:
    """Run (or resume) ``config`` with ``player`` and return where the run is and what it found.

    ``suite`` and ``puzzles`` default to those ``config.suite`` names (the caller passes them when
    it has already loaded them). Turning a model name into a player and the engine check after the
    run belong to :func:`chesseval.api.evaluate_async`, which calls this. Raises
    :class:`ConfigError`/:class:`PuzzleFormatError` before any call, and :class:`ModelFatalError`
    when a provider refuses all further work (the run is kept, status ``error``). The player is
    closed at the end.
    """
    if config.max_connections < 1:
        raise ConfigError(f"max_connections must be at least 1, got {config.max_connections!r}")
    if suite is None:
        suite = resolve_suite(config.suite)
    if puzzles is None:
        puzzles = load_puzzles(suite.path, limit=config.limit)
    answer_config = config.answer_config(suite.sha256)
    config_hash = hashlib.sha256(json.dumps(answer_config, sort_keys=True, default=str).encode()).hexdigest()[:16]

    existing = find_run(config.runs_dir, config_hash) if config.resume else None
    header_common = {
        "config_hash": config_hash,
        "model": config.model,
        "model_options": redact_options(config.model_options),
        "player": player.describe(),
        "suite": suite.to_dict(),
        "format": str(config.format),
        "template": TEMPLATE_ID,
        "prompt_options": config.prompt_options.to_dict(),
        "limit": config.limit,
        "seed": config.seed,
        "max_connections": config.max_connections,
        "band_width": config.band_width,
        "meta": dict(config.meta),
        "engine": config.engine,
        "versions": _versions(),
        "n_puzzles": len(puzzles),
    }
    if existing is not None:
        run = existing
        run.repair()
        records = run.records()
        if config.retry_errors and any(r.get("verdict") == Verdict.ERROR.value for r in records):
            records = [r for r in records if r.get("verdict") != Verdict.ERROR.value]
            _rewrite_records(run, records)
        run.update_header(**header_common, status=RunStatus.STARTED, resumed_at=utc_now(), resumes=int(run.read_header().get("resumes", 0)) + 1)
        resumed = True
    else:
        run = RunDir.create(config.runs_dir, suite=suite.name, model=config.model, header={**header_common, "status": RunStatus.STARTED, "started_at": utc_now()})
        records = []
        resumed = False
    if on_run_dir is not None:
        on_run_dir(run)
    done = {str(r["puzzle_id"]) for r in records}
    todo = [p for p in puzzles if p.id not in done]
    bar = _Progress(len(puzzles), len(puzzles) - len(todo), progress)
    queue: asyncio.Queue[Puzzle] = asyncio.Queue()
    for p in todo:
        queue.put_nowait(p)
    fatal: list[BaseException] = []

    async def worker() -> None:
        while not fatal:
            try:
                puzzle = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                record = await play_puzzle(puzzle, player, config.format, config.prompt_options, seed=config.seed)
            except ModelFatalError as exc:
                fatal.append(exc)
                return
            run.append(record)
            bar.update(record)

    status = RunStatus.ERROR
    try:
        tasks = [asyncio.create_task(worker()) for _ in range(min(config.max_connections, max(1, len(todo))))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
        status = RunStatus.ERROR if fatal else RunStatus.SUCCESS
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = RunStatus.CANCELLED
        raise
    finally:
        bar.close()
        run.close()
        await player.aclose()
        results = summarize(run.records(), band_width=config.band_width)
        run.write_results(results)
        changes: dict[str, Any] = {"status": status, "finished_at": utc_now()}
        if fatal:
            changes["error"] = str(fatal[0])
        run.update_header(**changes)
    if fatal:
        raise fatal[0]
    return RunResult(path=run.path, status=status, results=results, asked=bar.asked, resumed=resumed)


def _rewrite_records(run: RunDir, records: list[dict[str, Any]]) -> None:
    tmp = run.records_path.with_name("records.jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
    tmp.replace(run.records_path)
