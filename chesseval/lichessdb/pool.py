"""Worker processes for the database scan, and reading the database in blocks of whole lines.

The main process decompresses straight into a ring of slots in anonymous shared memory
(inherited on fork) and passes slot numbers through queues; each worker scans its slot in place
with a :class:`~chesseval.lichessdb.scan.Selector` and sends back its heaps at the end. Where fork is
missing, workers are spawned and blocks are pickled instead.
"""

from __future__ import annotations

import queue
import traceback
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from chesseval.lichessdb.scan import Selector, Window
from chesseval.errors import ChessEvalError, PuzzleFormatError

if TYPE_CHECKING:
    from chesseval.lichessdb.spec import BuildSpec

__all__ = ["run_workers", "read_blocks", "peak_rss_kb"]


def read_blocks(raw: IO[bytes], block_bytes: int, rest: bytes, name: str) -> Iterator[bytes]:
    """Blocks of whole lines; the last line gets a newline if the file lacks one."""
    while True:
        data = raw.read(block_bytes)
        if not data:
            break
        data = rest + data if rest else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > block_bytes:
                raise PuzzleFormatError(name, None, f"a line longer than {block_bytes} bytes: not a puzzle CSV")
            rest = data
            continue
        rest = data[cut:]
        yield data[:cut]
    if rest:
        yield rest + b"\n"


def _worker(
    spec: BuildSpec, columns: dict[str, int], name: str, eager: bool, ring: Any, slot_bytes: int, tasks: Any, free: Any, results: Any
) -> None:
    try:
        selector = Selector(spec, columns, name, eager=eager)
        while True:
            item = tasks.get()
            if item is None:
                break
            index, slot, payload = item
            if slot is None:
                selector.scan(payload, index)
            else:
                selector.scan(Window(ring, slot * slot_bytes, payload), index)  # no copy
                free.put(slot)
        out = selector.result()
        out["peak_rss_kb"] = peak_rss_kb()
        results.put(("ok", out))
    except BaseException as exc:  # reported to the parent, which raises
        results.put(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))


def peak_rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run_workers(
    spec: BuildSpec,
    columns: dict[str, int],
    name: str,
    eager: bool,
    stream: IO[bytes],
    carry: bytes,
    jobs: int,
    block_bytes: int,
) -> list[dict[str, Any]]:
    """Scan blocks in ``jobs`` worker processes; returns each worker's result.

    Blocks go through a ring of slots in anonymous shared memory (inherited on fork) and only
    slot numbers go through the queues: pushing a gigabyte through a pipe costs more than the
    scan itself on a busy machine. Where fork is unavailable the blocks are pickled instead.
    """
    import mmap
    import multiprocessing

    fork = "fork" in multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if fork else "spawn")
    n_slots = jobs + 2
    slot_bytes = 2 * block_bytes + (1 << 16)
    ring = mmap.mmap(-1, n_slots * slot_bytes) if fork else None
    tasks = ctx.Queue(maxsize=n_slots)  # bounds memory: a few blocks in flight
    free = ctx.Queue()
    for slot in range(n_slots):
        free.put(slot)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(spec, columns, name, eager, ring, slot_bytes, tasks, free, results), daemon=True)
        for _ in range(jobs)
    ]
    for p in procs:
        p.start()
    outs: list[dict[str, Any]] = []

    def check_alive() -> None:
        while not results.empty():  # a worker that failed says why
            take(0.1)
        dead = [p for p in procs if p.exitcode not in (None, 0)]
        if dead:
            raise ChessEvalError(f"{name}: a suite-build worker died (exit code {dead[0].exitcode})")

    def take(timeout: float) -> None:
        msg = results.get(timeout=timeout)
        if msg[0] == "error":
            raise ChessEvalError(f"{name}: suite-build worker failed: {msg[1]}\n{msg[2]}")
        outs.append(msg[1])

    def wait(op: Callable[[], Any]) -> Any:
        while True:
            try:
                return op()
            except (queue.Full, queue.Empty):
                check_alive()

    try:
        if ring is None:
            for index, block in enumerate(read_blocks(stream, block_bytes, carry, name)):
                wait(lambda: tasks.put((index, None, block), timeout=1.0))
        else:
            _fill_ring(stream, carry, ring, slot_bytes, block_bytes, name, lambda: wait(lambda: free.get(timeout=1.0)),
                       lambda item: wait(lambda: tasks.put(item, timeout=1.0)))
        for _ in procs:
            wait(lambda: tasks.put(None, timeout=1.0))
        while len(outs) < jobs:
            wait(lambda: take(1.0))
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join()
        if ring is not None:
            try:
                ring.close()
            except BufferError:  # a traceback still holds a view of it; freed with the traceback
                pass
    return outs


def _fill_ring(
    stream: IO[bytes],
    carry: bytes,
    ring: Any,
    slot_bytes: int,
    block_bytes: int,
    name: str,
    get_slot: Callable[[], int],
    send: Callable[[tuple[int, int, int]], None],
) -> None:
    """Decompress straight into free ring slots, each cut after its last whole line."""
    index = 0
    eof = False
    while carry or not eof:
        slot = get_slot()
        base = slot * slot_bytes
        with memoryview(ring) as whole, whole[base:base + slot_bytes] as view:
            n = len(carry)
            view[:n] = carry
            while n < block_bytes and not eof:
                got = stream.readinto(view[n:block_bytes])
                if got:
                    n += got
                else:
                    eof = True
            if eof:
                if n and view[n - 1] != 10:
                    view[n] = 10  # the last line lacked its newline
                    n += 1
                cut = n
            else:
                cut = ring.rfind(b"\n", base, base + n) - base + 1
                if cut <= 0:
                    raise PuzzleFormatError(name, None, f"a line longer than {block_bytes} bytes: not a puzzle CSV")
            carry = bytes(view[cut:n])
        if cut:
            send((index, slot, cut))
            index += 1
