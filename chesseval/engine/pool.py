"""A pool of Stockfish processes driven from one event loop, with restart-and-retry and a disk cache.

Each process runs one search at a time (python-chess's async API over ``popen_uci``), so the pool
scales with cores. Every search carries a time cap; an engine that has not answered ``margin_s``
seconds after it is taken as hung, killed (SIGKILL also ends a stopped process) and restarted,
and the position is searched again, up to ``max_retries`` times. A crash
(``EngineTerminatedError``) is handled the same way.

Results are cached on disk by (FEN, root move, limit, engine id) in append-only JSON-lines files,
one per (engine id, limit), so re-scoring a run is free. A torn last line (the process was killed
while writing) is skipped when the file is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import chess
import chess.engine

from chesseval.engine.stockfish import AnalysisLimit, EngineConfig, Score, find_stockfish, load_engine_config
from chesseval.errors import EngineError, EngineNotFoundError

__all__ = ["AnalysisResult", "AnalysisCache", "EnginePool", "PoolStats"]


@dataclasses.dataclass(frozen=True)
class AnalysisResult:
    """One search of one position (optionally restricted to one root move)."""

    fen: str
    root_move: str | None
    """The only move searched (UCI), or None for a free search."""
    best_move: str | None
    """The engine's move (UCI): the first move of its PV."""
    score: Score
    """From the side to move's point of view."""
    depth: int | None = None
    nodes: int | None = None
    pv: tuple[str, ...] = ()
    engine_id: str = ""
    limit_key: str = ""
    cached: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_move": self.best_move,
            "score": self.score.to_dict(),
            "depth": self.depth,
            "nodes": self.nodes,
            "pv": list(self.pv),
            "seconds": round(self.seconds, 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, fen: str, root_move: str | None, engine_id: str, limit_key: str) -> AnalysisResult:
        return cls(
            fen=fen,
            root_move=root_move,
            best_move=data["best_move"],
            score=Score.from_dict(data["score"]),
            depth=data.get("depth"),
            nodes=data.get("nodes"),
            pv=tuple(data.get("pv") or ()),
            engine_id=engine_id,
            limit_key=limit_key,
            cached=True,
            seconds=float(data.get("seconds") or 0.0),
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_") or "_"


class AnalysisCache:
    """Append-only JSON-lines files under ``root``: ``<engine id>/<limit key>.jsonl``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._tables: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._torn: set[tuple[str, str]] = set()

    def _file(self, engine_id: str, limit_key: str) -> Path:
        return self.root / _slug(engine_id) / f"{_slug(limit_key)}.jsonl"

    def _table(self, engine_id: str, limit_key: str) -> dict[str, dict[str, Any]]:
        key = (engine_id, limit_key)
        table = self._tables.get(key)
        if table is None:
            table = {}
            path = self._file(engine_id, limit_key)
            if path.exists():
                with open(path, encoding="utf-8") as fh:
                    for line in fh:
                        if not line.endswith("\n"):
                            self._torn.add(key)
                        try:
                            entry = json.loads(line)
                            table[entry["k"]] = entry["r"]
                        except (ValueError, KeyError, TypeError):
                            continue  # a torn line from a killed writer
            self._tables[key] = table
        return table

    @staticmethod
    def entry_key(fen: str, root_move: str | None) -> str:
        return f"{fen}|{root_move or '*'}"

    def get(self, fen: str, root_move: str | None, engine_id: str, limit_key: str) -> AnalysisResult | None:
        data = self._table(engine_id, limit_key).get(self.entry_key(fen, root_move))
        if data is None:
            return None
        return AnalysisResult.from_dict(data, fen=fen, root_move=root_move, engine_id=engine_id, limit_key=limit_key)

    def put(self, result: AnalysisResult) -> None:
        table = self._table(result.engine_id, result.limit_key)
        key = self.entry_key(result.fen, result.root_move)
        data = result.to_dict()
        table[key] = data
        path = self._file(result.engine_id, result.limit_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"k": key, "r": data}, separators=(",", ":")) + "\n"
        if (result.engine_id, result.limit_key) in self._torn:
            # End a killed writer's torn line first, or this entry would be glued onto it.
            line = "\n" + line
            self._torn.discard((result.engine_id, result.limit_key))
        # One write() on an O_APPEND descriptor: concurrent writers never interleave inside a line.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)


@dataclasses.dataclass
class PoolStats:
    searches: int = 0
    cache_hits: int = 0
    restarts: int = 0
    crashes: int = 0
    hangs: int = 0


class _Slot:
    """One engine process (started lazily)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.transport: asyncio.SubprocessTransport | None = None
        self.protocol: chess.engine.UciProtocol | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.transport.get_pid() if self.transport is not None else None

    def kill(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                self.transport.kill()
            self.transport.close()
        self.transport = None
        self.protocol = None


class EnginePool:
    """``processes`` Stockfish engines sharing one queue of searches.

    Use as ``async with EnginePool(config) as pool: await pool.analyse(board, limit)``. Engines
    start on first use, so a pool whose searches all hit the cache starts only one engine (to
    learn the engine id that keys the cache).
    """

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        processes: int | None = None,
        cache: AnalysisCache | bool = True,
        binary: str | None = None,
    ) -> None:
        self.config = config or load_engine_config()
        self.binary = binary or find_stockfish(self.config)
        self.processes = processes if processes is not None else self.config.n_processes
        if self.processes < 1:
            raise ValueError(f"an engine pool needs at least one process, got {self.processes!r}")
        if cache is True:
            self.cache: AnalysisCache | None = AnalysisCache(self.config.cache_path())
        elif cache is False:
            self.cache = None
        else:
            self.cache = cache
        self.stats = PoolStats()
        self.engine_name: str | None = None
        self._slots = [_Slot(i) for i in range(self.processes)]
        self._idle: asyncio.Queue[_Slot] | None = None
        self._id_lock: asyncio.Lock | None = None
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> EnginePool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _queue(self) -> asyncio.Queue[_Slot]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for slot in self._slots:
                self._idle.put_nowait(slot)
            self._id_lock = asyncio.Lock()
        return self._idle

    async def _start(self, slot: _Slot) -> None:
        try:
            transport, protocol = await asyncio.wait_for(chess.engine.popen_uci(self.binary), timeout=30.0)
        except FileNotFoundError as exc:
            raise EngineNotFoundError(f"Stockfish binary {self.binary!r} cannot be run: {exc}") from exc
        except (chess.engine.EngineError, TimeoutError, OSError) as exc:
            raise EngineError(f"Stockfish {self.binary!r} did not start: {exc!r}") from exc
        try:
            for name, value in self.config.options.items():  # Threads before Hash
                await asyncio.wait_for(protocol.configure({name: value}), timeout=30.0)
        except (chess.engine.EngineError, TimeoutError) as exc:
            transport.close()
            raise EngineError(f"Stockfish {self.binary!r} rejected its options {self.config.options!r}: {exc!r}") from exc
        slot.transport, slot.protocol = transport, protocol
        slot.starts += 1
        if slot.starts > 1:
            self.stats.restarts += 1
        name = protocol.id.get("name", "unknown engine")
        if self.engine_name is None:
            self.engine_name = name

    @property
    def engine_id(self) -> str | None:
        """The engine's name plus the options that change its results; None until one engine ran."""
        if self.engine_name is None:
            return None
        return f"{self.engine_name} threads={self.config.threads} hash={self.config.hash_mb}"

    async def ensure_started(self) -> str:
        """Start one engine (if none ran yet) and return the engine id."""
        queue = self._queue()
        assert self._id_lock is not None
        async with self._id_lock:
            if self.engine_name is None:
                slot = await queue.get()
                try:
                    if slot.protocol is None:
                        await self._start(slot)
                finally:
                    queue.put_nowait(slot)
        assert self.engine_id is not None
        return self.engine_id

    async def aclose(self) -> None:
        self._closed = True
        for slot in self._slots:
            if slot.protocol is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(slot.protocol.quit(), timeout=2.0)
            slot.kill()

    def pids(self) -> list[int]:
        """Process ids of the running engines (for tests that kill or stop one)."""
        return [pid for slot in self._slots if (pid := slot.pid) is not None]

    # -- searching ----------------------------------------------------------------------------

    async def analyse(self, board: chess.Board, limit: AnalysisLimit, *, root_move: chess.Move | None = None, use_cache: bool = True,
                      game: object = None) -> AnalysisResult:
        """Search ``board`` (its move history is dropped: the FEN is the key) within ``limit``.

        ``game``: searches with the same (hashable) game key on the same engine keep its hash, as an
        engine playing a game does; by default every search starts afresh (ucinewgame), so that
        with one thread and a node limit the result depends only on the position.

        Raises :class:`~chesseval.errors.EngineError` when the engine failed on this position
        ``max_retries + 1`` times in a row, and ``ValueError`` for a position that is invalid or
        already over (engines are not safe on invalid positions).
        """
        if self._closed:
            raise EngineError("the engine pool is closed")
        position = board.copy(stack=False)
        fen = position.fen()
        if not position.is_valid():
            raise ValueError(f"refusing to search an invalid position {fen!r}")
        if position.is_game_over(claim_draw=False):
            raise ValueError(f"position {fen!r} is already over; there is nothing to search")
        if root_move is not None and root_move not in position.legal_moves:
            raise ValueError(f"root move {root_move.uci()!r} is not legal in {fen!r}")
        root = root_move.uci() if root_move is not None else None
        engine_id = await self.ensure_started()
        if use_cache and self.cache is not None:
            hit = self.cache.get(fen, root, engine_id, limit.key)
            if hit is not None:
                self.stats.cache_hits += 1
                return hit
        result = await self._search(position, limit, root_move, engine_id, game)
        if use_cache and self.cache is not None and not limit.is_timed:
            self.cache.put(result)
        return result

    async def _search(self, position: chess.Board, limit: AnalysisLimit, root_move: chess.Move | None, engine_id: str,
                      game: object = None) -> AnalysisResult:
        queue = self._queue()
        deadline = float(limit.time) + self.config.margin_s
        failures: list[str] = []
        for _attempt in range(self.config.max_retries + 1):
            slot = await queue.get()
            try:
                if slot.transport is not None and slot.transport.get_returncode() is not None:
                    # Died while idle: restart now, since a command sent to a dead engine can go
                    # unanswered instead of failing (then only the deadline would notice).
                    self.stats.crashes += 1
                    slot.kill()
                if slot.protocol is None:
                    try:
                        await self._start(slot)
                    except EngineNotFoundError:
                        raise
                    except EngineError as exc:
                        failures.append(str(exc))
                        slot.kill()
                        continue
                assert slot.protocol is not None
                started = time.perf_counter()
                # A fresh `game` per search sends ucinewgame (clears the hash): with one thread and
                # a node limit the result then depends only on the position, as a cache needs.
                task = asyncio.ensure_future(
                    slot.protocol.analyse(
                        position,
                        limit.to_chess(),
                        root_moves=[root_move] if root_move is not None else None,
                        game=object() if game is None else game,
                    )
                )
                done, _ = await asyncio.wait({task}, timeout=deadline)
                if not done:
                    self.stats.hangs += 1
                    failures.append(f"no answer within {deadline:g}s")
                    slot.kill()  # SIGKILL ends even a SIGSTOPped engine; the task then fails
                    task.cancel()
                    await asyncio.wait({task}, timeout=1.0)
                    _retrieve(task)
                    continue
                try:
                    info = task.result()
                except chess.engine.EngineTerminatedError as exc:
                    self.stats.crashes += 1
                    failures.append(str(exc))
                    slot.kill()
                    continue
                except chess.engine.EngineError as exc:
                    failures.append(repr(exc))
                    slot.kill()
                    continue
                self.stats.searches += 1
                return _to_result(position, root_move, info, engine_id, limit, time.perf_counter() - started)
            finally:
                queue.put_nowait(slot)
        raise EngineError(f"Stockfish failed {len(failures)} times on {position.fen()!r} ({limit.label}): {'; '.join(failures)}")


def _retrieve(task: asyncio.Future[Any]) -> None:
    # Read a dead task's exception so asyncio does not log "exception was never retrieved".
    if task.done() and not task.cancelled():
        task.exception()


def _to_result(position: chess.Board, root_move: chess.Move | None, info: chess.engine.InfoDict, engine_id: str, limit: AnalysisLimit, seconds: float) -> AnalysisResult:
    pv = tuple(m.uci() for m in info.get("pv", ()))
    score = info.get("score")
    if score is None:
        raise EngineError(f"Stockfish gave no score for {position.fen()!r}")
    best = pv[0] if pv else (root_move.uci() if root_move is not None else None)
    return AnalysisResult(
        fen=position.fen(),
        root_move=root_move.uci() if root_move is not None else None,
        best_move=best,
        score=Score.from_pov(score),
        depth=info.get("depth"),
        nodes=info.get("nodes"),
        pv=pv,
        engine_id=engine_id,
        limit_key=limit.key,
        seconds=seconds,
    )
