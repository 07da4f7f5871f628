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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import chess

from chesseval.core.judge import Step, Verdict, judge_move, verdict_of_reply
from chesseval.core.moves import MoveKind, ParsedMove, parse_line, parse_move
from chesseval.core.players import CALL_MONITOR, CallMonitor, Message, Player, Reply, Turn, Usage, close_player, describe_player, player_name
from chesseval.core.prompts import PromptFormat, PromptOptions, messages_sha256, render_follow_up, render_prompt
from chesseval.core.puzzles import Puzzle, load_puzzles
from chesseval.core.records import RECORD_SCHEMA, RunDir, RunRecord, RunStatus, find_run, list_runs, runs_dir_lock, utc_now
from chesseval.core.results import summarize
from chesseval.core.suites import Suite, resolve_suite
from chesseval.errors import ConfigError, ModelError, ModelFatalError, ModelTransportError, PlayerError, PuzzleFormatError, RunError
from chesseval.version import __version__

__all__ = ["RunConfig", "RunResult", "run_async", "play_puzzle", "parse_option_value", "config_hash", "load_run_puzzles"]

# Options that change how calls are made, not what is answered: changing them still resumes.
_TRANSPORT_OPTIONS = {"max_connections", "max_retries", "timeout", "attempt_timeout", "cache", "cache_dir", "prices", "stream"}
_MAX_SKIPPED_LISTED = 1000
"""Skipped rows listed in ``run.json`` (all are counted in ``n_skipped``)."""


def parse_option_value(value: Any) -> Any:
    """The one typing rule for model options: a string that is a JSON literal becomes its value.

    ``"2"`` -> 2, ``"0.5"`` -> 0.5, ``"true"`` -> True, ``"null"`` -> None, ``'[1, 2]'`` -> [1, 2];
    anything else (``"chat"``, ``"http://…"``) stays a string, as it was given (a quoted JSON
    string too: typing a value twice must not change it). ``-M depth=2`` and Python's
    ``{"depth": 2}`` are therefore the same option, and hash the same. Non-strings are returned as given.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or text[0] not in "-0123456789tfn[{":
        return value
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return value


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity stay strings: they are not JSON


def _canonical(value: Any) -> Any:
    """A value in the form it is hashed in: 1.0 and 1 are the same temperature."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def _keeps_text(key: str) -> bool:
    """A credential-like option stays byte for byte as given (a key "1e5" is not a number).

    The words of :func:`chesseval.providers.credentials.is_credential_name`, which the core may not import.
    """
    lowered = key.lower().replace("-", "_")
    return not lowered.endswith("_tokens") and any(w in lowered for w in ("key", "token", "secret", "password", "auth", "credential"))


def config_hash(answer_config: Mapping[str, Any]) -> str:
    """The short id of an answer configuration (see :meth:`RunConfig.answer_config`).

    Option values are typed by :func:`parse_option_value` and numbers canonicalised first, so a
    run stored with ``{"depth": "2"}`` (the CLI before options were typed) resumes as ``{"depth": 2}``.
    """
    options = {
        k: v if _keeps_text(k) else _canonical(parse_option_value(v))
        for k, v in sorted((answer_config.get("model_options") or {}).items())
        if k not in _TRANSPORT_OPTIONS
    }
    data = {**answer_config, "model_options": options}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything a run needs. ``model_options`` go to the player (``-M`` and generation flags).

    The runner writes ``model_options`` into ``run.json`` as given: :func:`chesseval.api.evaluate`
    builds the player from the real options and hands the runner a copy redacted by
    :func:`chesseval.providers.credentials.redact_options`, so the core never sees a secret.
    """

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
    breaker_calls: int = 10
    """Stop the run when the first this-many calls (or all in flight, if fewer) fail with the same
    transport error or 5xx after every retry; 0 turns the breaker off. Does not change the answers."""
    skip_invalid: bool = False
    """Run the valid puzzles of a file with bad rows; the skipped rows are listed in ``run.json``.
    Without it, the first bad row stops the run before any call."""

    def __post_init__(self) -> None:
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1):
            raise ConfigError(f"limit (--limit) must be a whole number of at least 1, got {self.limit!r}")
        # Typed here, once, for the CLI's strings and Python's values alike (credentials stay as given).
        typed = {k: v if _keeps_text(k) else parse_option_value(v) for k, v in self.model_options.items()}
        object.__setattr__(self, "model_options", typed)

    def answer_config(self, suite_sha256: str) -> dict[str, Any]:
        """The part of the configuration that decides the answers (hashed to find a run to resume)."""
        return {
            "model": self.model,
            "model_options": {k: v for k, v in sorted(self.model_options.items()) if k not in _TRANSPORT_OPTIONS},
            "suite_sha256": suite_sha256,
            "format": str(self.format),
            "prompt_options": self.prompt_options.to_dict(),
            "template": self.prompt_options.template_id,
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


def _parse_fields(parsed: ParsedMove) -> dict[str, Any]:
    """How an answer was read, as a turn record stores it."""
    return {
        "parse_kind": str(parsed.kind),
        "parsed_text": parsed.text,
        "parse_detail": parsed.detail,
        "parse_rule": str(parsed.rule),
        "played_uci": parsed.move.uci() if parsed.move else None,
    }


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def play_puzzle(
    puzzle: Puzzle,
    player: Player,
    fmt: PromptFormat = PromptFormat.FEN,
    options: PromptOptions | None = None,
    *,
    seed: int = 0,
) -> RunRecord:
    """Play one puzzle by the Lichess protocol and return its record.

    With ``options.expects == "line"`` the model is asked once for the whole solution line; its
    solver moves are then judged one by one, each read in the real position after the puzzle's
    replies (turns after the first record ``from_line``).

    Raises :class:`ModelFatalError` (the run must stop); a model error is an ``error`` verdict. Any
    other exception from the player is a bug in it: the record says ``Type: message`` and
    :class:`~chesseval.errors.PlayerError` is raised from the original, carrying the record, so
    the run can write it down and stop.
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
    crash: BaseException | None = None
    solution = puzzle.solution
    line_mode = options.expects == "line"
    line: list[ParsedMove] = []
    reply: Reply | None = None
    for i, expected in enumerate(solution):
        turn: dict[str, Any] = {
            "index": i,
            "prompt_sha256": messages_sha256(messages),
            "messages": new_messages,
            "expected_uci": board.parse_uci(expected).uci(),
        }
        turns.append(turn)
        if line_mode and i > 0 and reply is not None:
            # The one answer's line: its move 2i, read again in the real position (the model may
            # have expected another reply).
            written = line[2 * i].text if 2 * i < len(line) else None
            parsed = dataclasses.replace(
                parse_move(written, board) if written else ParsedMove(MoveKind.NONE, detail="the answer's line ends before this move"),
                rule=line[0].rule,
            )
            turn.update(messages=[], from_line=True, **_parse_fields(parsed))
        else:
            try:
                reply = await player.play(Turn(tuple(messages), board.copy(), puzzle, i, seed))
            except ModelFatalError:
                raise
            except ModelError as exc:
                error = _error_text(exc)
                # A call that finally failed still spent retries, waits and maybe tokens: count them.
                failed_wait = float(exc.retry_wait_s or 0.0)
                retries += int(exc.retries or 0)
                waited += failed_wait
                if isinstance(exc.usage, Usage):
                    usage = usage + exc.usage
                if exc.cost_usd is not None:
                    cost = None if cost is None else cost + exc.cost_usd
                turn.update(
                    outcome=Verdict.ERROR.value,
                    error=error,
                    error_type=type(exc).__name__,
                    status_code=exc.status_code,
                    retries=exc.retries,
                    retry_wait_s=round(failed_wait, 3),
                    usage=exc.usage.to_dict() if isinstance(exc.usage, Usage) else None,
                    cost_usd=exc.cost_usd,
                )
                verdict = Verdict.ERROR
                break
            except Exception as exc:  # noqa: BLE001 - not a model's failure but the player's own bug: recorded, then the run stops
                error = _error_text(exc)
                turn.update(outcome=Verdict.ERROR.value, error=error, error_type=type(exc).__name__, retries=None)
                verdict = Verdict.ERROR
                crash = exc
                break
            usage = usage + reply.usage
            latency += reply.latency_s
            retries += reply.retries
            waited += float(reply.extra.get("retry_wait_s") or 0.0)
            cost = None if cost is None or reply.cost_usd is None else cost + reply.cost_usd
            line = parse_line(reply.text, board) if line_mode else []
            parsed = line[0] if line else parse_move(reply.text, board)
            turn.update(
                answer=reply.text,
                stop_reason=reply.stop_reason,
                refusal=reply.refusal,
                **_parse_fields(parsed),
                latency_s=round(reply.latency_s, 6),
                usage=reply.usage.to_dict(),
                retries=reply.retries,
                cost_usd=reply.cost_usd,
                cached=reply.cached,
                error=None,
            )
            if reply.extra:
                turn["extra"] = reply.extra
        assert reply is not None
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
        if line_mode:
            board.push(reply_move)
            continue
        follow = render_follow_up(puzzle, board, reply_move, fmt, options)
        board.push(reply_move)
        assistant: Message = {"role": "assistant", "content": reply.text}
        messages += [assistant, follow]
        new_messages = [follow]
    if cost == 0.0 and not any(t.get("cost_usd") is not None for t in turns):
        cost = None
    record = RunRecord.from_json({
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
    })  # fmt: skip
    if crash is not None:
        raise PlayerError(f"player {player_name(player)!r} raised on puzzle {puzzle.id!r}: {error}", record=record) from crash
    return record


class _Progress:
    """The live progress line on stderr (a terminal only), redrawn four times a second from the
    first second on: finished puzzles, calls in flight and asleep in backoff, retries and the last
    transport error, so a dead endpoint is visible while its retries run rather than after."""

    def __init__(self, total: int, done: int, enabled: bool, monitor: CallMonitor) -> None:
        self.total = total
        self.done = done
        self.solved = 0
        self.errors = 0
        self.asked = 0
        self.in_flight = 0
        """Puzzles being played now."""
        self.monitor = monitor
        self.enabled = enabled and sys.stderr.isatty()
        self._t0 = time.monotonic()
        self._live: Any = None

    def start(self) -> None:
        if not self.enabled:
            return
        from rich.console import Console  # imported only for a terminal that shows it
        from rich.live import Live

        # Redrawn by rich's own thread, so the line moves even while the loop waits on sockets.
        from rich.text import Text

        # Plain text (no markup or highlighting: an error message may hold brackets).
        self._live = Live(get_renderable=lambda: Text(self.render()), console=Console(stderr=True), refresh_per_second=4, transient=False, redirect_stdout=False, redirect_stderr=False)
        self._live.start()

    def update(self, record: RunRecord) -> None:
        self.done += 1
        self.asked += 1
        self.solved += record["verdict"] == Verdict.CORRECT.value
        self.errors += record["verdict"] == Verdict.ERROR.value

    def render(self) -> str:
        m = self.monitor
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        parts = [f"[{self.done}/{self.total}] {elapsed:.0f}s"]
        if self.asked:
            parts.append(f"solved {100 * self.solved / self.asked:.1f}%  errors {100 * self.errors / self.asked:.1f}%  {self.asked / elapsed:.1f} puzzles/s")
        parts.append(f"in flight {self.in_flight} ({m.waiting} waiting to retry)")
        parts.append(f"retries {m.retries} (waited {m.waited_s:.0f}s)")
        if m.last_error:
            ago = time.monotonic() - (m.last_error_at or 0.0)
            parts.append(f"last error {ago:.0f}s ago: {m.last_error[:120]}")
        return "  ".join(parts)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


class _Breaker:
    """Stops a run whose first calls all fail the same way (a transport error or the same 5xx).

    A server that answers 500 to everything, or cannot be reached, would otherwise spend every
    puzzle's retries and end "successfully" with all-``error`` verdicts. The first ``threshold``
    finished calls decide: while they all fail alike their records are held back; one call that
    gets an answer (or fails differently) closes the question and the held records are written. If
    all ``threshold`` fail alike the run stops, and the held puzzles stay unasked, so the same
    command asks them again once the cause is fixed.
    """

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.deciding = threshold > 0
        self.held: list[RunRecord] = []
        self.decided = asyncio.Event()
        if not self.deciding:
            self.decided.set()

    @staticmethod
    def signature(record: RunRecord) -> tuple[Any, ...] | None:
        if record.get("verdict") != Verdict.ERROR.value or not record.get("turns"):
            return None
        turn = record["turns"][-1]
        if turn.get("error_type") != ModelTransportError.__name__:
            return None
        return (turn.get("error_type"), turn.get("status_code"))

    def admit(self, record: RunRecord) -> list[RunRecord]:
        """The records to write now (none while undecided); raises ModelFatalError when tripped."""
        if not self.deciding:
            return [record]
        sig = self.signature(record)
        if sig is None or (self.held and sig != self.signature(self.held[0])):
            self.deciding = False
            self.decided.set()
            out, self.held = [*self.held, record], []
            return out
        self.held.append(record)
        if len(self.held) >= self.threshold:
            self.deciding = False
            self.decided.set()
            raise ModelFatalError(self._message(record, sig[1]))
        return []

    def _message(self, record: RunRecord, status: int | None) -> str:
        error = str(record.get("error") or "").removeprefix(f"{ModelTransportError.__name__}: ")
        if status is not None and 500 <= status <= 599:
            fix = (
                "the server fails every request; check its log (a proxy such as LiteLLM answers 500 "
                "when its upstream key or model name is wrong) and the model name"
            )
        elif status == 429:
            fix = "the rate limit is spent; lower --max-connections or wait for the limit to reset"
        else:
            fix = "check the base URL and that the server is up and answering, or raise --attempt-timeout"
        n = len(self.held)
        return f"the first {n} call(s) all failed with the same error after every retry: {error}. Fix: {fix}"


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
    skipped: Sequence[PuzzleFormatError] = (),
    progress: bool = False,
    on_run_dir: Callable[[RunDir], None] | None = None,
) -> RunResult:
    """Run (or resume) ``config`` with ``player`` and return where the run is and what it found.

    ``suite`` and ``puzzles`` default to those ``config.suite`` names (the caller passes them when
    it has already loaded them, and ``skipped``: the bad rows :attr:`RunConfig.skip_invalid` left
    out). Turning a model name into a player and the engine check after the run belong to :func:`chesseval.api.evaluate_async`, which calls this. Raises
    :class:`ConfigError`/:class:`PuzzleFormatError` before any call, and :class:`ModelFatalError`
    when a provider refuses all further work (the run is kept, status ``error``). The player is
    closed at the end.
    """
    if config.max_connections < 1:
        raise ConfigError(f"max_connections must be at least 1, got {config.max_connections!r}")
    if suite is None:
        suite = resolve_suite(config.suite)
    if puzzles is None:
        puzzles, skipped = load_run_puzzles(config, suite)
    run_hash = config_hash(config.answer_config(suite.sha256))

    header_common = {
        "config_hash": run_hash,
        "model": config.model,
        "model_options": dict(config.model_options),
        "player": describe_player(player),
        "suite": suite.to_dict(),
        "format": str(config.format),
        "template": config.prompt_options.template_id,
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
    if config.skip_invalid:
        header_common.update(skip_invalid=True, n_skipped=len(skipped), skipped=[str(e) for e in skipped[:_MAX_SKIPPED_LISTED]])
    # Find-or-create and lock as one step among processes, so that a second copy of this command
    # finds this run's folder locked and stops instead of asking the same puzzles again.
    try:
        with runs_dir_lock(config.runs_dir):
            existing = _find_run(config.runs_dir, run_hash) if config.resume else None
            if existing is not None:
                existing.lock()
                run = existing
            else:
                run = RunDir.create(config.runs_dir, suite=suite.name, model=config.model, header={**header_common, "status": RunStatus.STARTED, "started_at": utc_now()})
                run.lock()
    except BaseException:
        await close_player(player)
        raise
    try:
        return await _run_locked(config, player, run, existing is not None, puzzles, header_common, progress, on_run_dir)
    finally:
        run.unlock()


async def _run_locked(
    config: RunConfig,
    player: Player,
    run: RunDir,
    resumed: bool,
    puzzles: list[Puzzle],
    header_common: dict[str, Any],
    progress: bool,
    on_run_dir: Callable[[RunDir], None] | None,
) -> RunResult:
    if resumed:
        try:
            with open(run.records_path, "a", encoding="utf-8"):
                pass  # records must take appends: found now, not after the first paid answer
            run.repair()
            records = run.records()
            if config.retry_errors and any(r.is_error for r in records):
                records = [r for r in records if not r.is_error]
                run.rewrite_records(records)
            run.update_header(**header_common, status=RunStatus.STARTED, resumed_at=utc_now(), resumes=int(run.read_header().get("resumes", 0)) + 1)
        except OSError as exc:  # a read-only copy of a run: report and compare work on it, resuming cannot
            await close_player(player)
            raise RunError(
                f"{run.path}: cannot resume, the run folder is not writable ({exc.strerror or exc}); "
                "fix its permissions, or copy it and resume with --runs-dir pointing at the copy's parent"
            ) from exc
    else:
        records = []
    if on_run_dir is not None:
        on_run_dir(run)
    done = {str(r["puzzle_id"]) for r in records}
    todo = [p for p in puzzles if p.id not in done]
    monitor = CallMonitor()
    bar = _Progress(len(puzzles), len(puzzles) - len(todo), progress, monitor)
    queue: asyncio.Queue[Puzzle] = asyncio.Queue()
    for p in todo:
        queue.put_nowait(p)
    fatal: list[BaseException] = []
    n_workers = min(config.max_connections, max(1, len(todo)))
    # The first N calls, or all that are in flight at once when fewer.
    breaker = _Breaker(min(config.breaker_calls, n_workers))
    tasks: list[asyncio.Task[None]] = []

    def stop_all(exc: BaseException) -> None:
        fatal.append(exc)
        for t in tasks:
            if t is not asyncio.current_task():
                t.cancel()

    async def worker() -> None:
        while not fatal:
            try:
                puzzle = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            bar.in_flight += 1
            try:
                record = await play_puzzle(puzzle, player, config.format, config.prompt_options, seed=config.seed)
            except ModelFatalError as exc:
                fatal.append(exc)
                breaker.decided.set()  # nobody waits for a decision that will not come
                return
            except PlayerError as exc:
                if isinstance(exc.record, RunRecord):
                    bar.update(exc.record)
                    run.append(exc.record)
                fatal.append(exc)
                breaker.decided.set()
                return
            finally:
                bar.in_flight -= 1
            bar.update(record)
            try:
                admitted = breaker.admit(record)
            except ModelFatalError as exc:
                stop_all(exc)
                return
            for r in admitted:
                run.append(r)
            if not admitted:
                # Held: start no new call (and pay for none) until the first calls have decided.
                await breaker.decided.wait()

    status = RunStatus.ERROR
    failure: BaseException | None = None
    try:
        token = CALL_MONITOR.set(monitor)  # the workers' tasks copy it: the retry policy reports there
        try:
            tasks += [asyncio.create_task(worker()) for _ in range(n_workers)]
        finally:
            CALL_MONITOR.reset(token)
        bar.start()
        try:
            # return_exceptions: the breaker cancels the other workers, which is not a cancelled run.
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                    raise outcome
        finally:
            for t in tasks:
                t.cancel()
        status = RunStatus.ERROR if fatal else RunStatus.SUCCESS
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = RunStatus.CANCELLED
        raise
    except Exception as exc:  # whatever stopped the run is written down, not just "error"
        failure = exc
        raise
    finally:
        bar.close()
        run.close()
        await close_player(player)
        results = summarize(run.records(), band_width=config.band_width)
        run.write_results(results)
        changes: dict[str, Any] = {"status": status, "finished_at": utc_now()}
        if fatal:
            changes["error"] = str(fatal[0])
        elif failure is not None:
            changes["error"] = _error_text(failure)
        run.update_header(**changes)
    if fatal:
        raise fatal[0]
    return RunResult(path=run.path, status=status, results=results, asked=bar.asked, resumed=resumed)


def load_run_puzzles(config: RunConfig, suite: Suite) -> tuple[list[Puzzle], list[PuzzleFormatError]]:
    """The puzzles ``config`` asks, and the bad rows left out (only with ``skip_invalid``)."""
    skipped: list[PuzzleFormatError] | None = [] if config.skip_invalid else None
    puzzles = load_puzzles(suite.path, limit=config.limit, skipped=skipped)
    return puzzles, skipped or []


def _find_run(runs_dir: Path, run_hash: str) -> RunDir | None:
    """The newest run with this configuration, also among runs whose stored hash predates typed options."""
    found = find_run(runs_dir, run_hash)
    if found is not None:
        return found
    # Before options were typed, `-M depth=2` was hashed as the string "2": such a run's stored
    # hash differs, but the configuration in its header hashes to today's value.
    for run in reversed(list_runs(runs_dir)):
        try:
            header = run.read_header()
        except RunError:
            continue
        if _header_hash(header) == run_hash:
            return run
    return None


def _header_hash(header: Mapping[str, Any]) -> str:
    answer = {
        "model": header.get("model"),
        "model_options": header.get("model_options") or {},
        "suite_sha256": (header.get("suite") or {}).get("sha256"),
        "format": header.get("format"),
        "prompt_options": header.get("prompt_options"),
        "template": header.get("template"),
        "limit": header.get("limit"),
        "seed": header.get("seed"),
    }
    return config_hash(answer)
