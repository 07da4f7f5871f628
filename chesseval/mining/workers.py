"""The mining stage's one engine-worker pool: self-play, the miner and the suite build all hand
out jobs (a game to play or to mine) to processes that each hold one Stockfish.

With one worker the jobs run in this process (no spawn, easy to debug and profile); with more, a
``spawn`` pool (a fork would copy a running engine's pipes) whose initializer opens each worker's
engine. Either way a job function finds its engine in the module's worker ``state`` dict, which the
initializer fills. (The engine check's :class:`chesseval.engine.pool.EnginePool` is another
thing: async UCI searches from one process; the database scan's pool shares memory blocks.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["engine_workers", "JobMap"]

J = TypeVar("J")
R = TypeVar("R")
JobMap = Callable[..., Iterator[Any]]
"""``run(fn, jobs, *, ordered=True, chunksize=1)``: the results of ``fn`` over ``jobs``, lazily."""


@contextmanager
def engine_workers(init: Callable[..., None], initargs: tuple[Any, ...], workers: int,
                   state: MutableMapping[str, object]) -> Iterator[JobMap]:  # fmt: skip
    """Workers whose engines ``init(*initargs)`` opens into ``state["engine"]``; yields ``run``.

    ``ordered=False`` hands results back as they finish (chunksize 1 suits games of very different
    cost). In this process the engine is quit on exit; a pool's workers end with the pool.
    """
    if workers <= 1:
        init(*initargs)

        def run_here(fn: Callable[[J], R], jobs: Iterable[J], *, ordered: bool = True, chunksize: int = 1) -> Iterator[R]:
            return map(fn, jobs)

        try:
            yield run_here
        finally:
            engine = state.pop("engine", None)
            if engine is not None:
                engine.quit()  # type: ignore[attr-defined]
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers, initializer=init, initargs=initargs) as pool:

        def run_pool(fn: Callable[[J], R], jobs: Iterable[J], *, ordered: bool = True, chunksize: int = 1) -> Iterator[R]:
            return (pool.imap if ordered else pool.imap_unordered)(fn, jobs, chunksize=chunksize)

        yield run_pool
