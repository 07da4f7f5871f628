"""HTTP provider overhead: chesseval's calls/s against a bare asyncio + httpx loop, same requests.

Both clients talk to the scripted OpenAI-compatible server (tests/llm_server.py), run in its own
process so that it does not share the GIL with the clients being measured.

1. Zero latency, ``--concurrency`` connections, ``--calls`` calls: calls per second of
   - chesseval (``openai-api/bench/m`` player: retry policy, slots, parsing, usage, accounting),
   - a bare loop: one ``httpx.AsyncClient`` shared by N workers (what most code does),
   - a bare loop with one client per connection (the same trick chesseval uses; the fair floor).
   Ratios are chesseval / bare (aim: >= 0.7). Rounds are interleaved; the best of each is kept,
   because other processes on the machine only ever slow a round down.
2. 0.5 s simulated latency, 64 connections, 1,000 calls: wall time against the ideal
   ``ceil(1000 / 64) * 0.5 s`` (aim: <= 1.1x).

Run: ``python benchmarks/bench_http.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.core.players import Turn  # noqa: E402
from chesseval.providers import create_player  # noqa: E402
from chesseval.core.puzzles import Puzzle  # noqa: E402

PUZZLE = Puzzle(id="00008", fen="r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7K b - - 0 24", moves=("f2g3", "e6e7", "b2b1", "b3c1", "b1c1", "h6c1"))
SYSTEM = "You are solving a chess puzzle. End your reply with a final line of the form: Answer: <move>"


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Puzzle {i}. Position (FEN): {PUZZLE.fen}. Find the best move."}]


class Server:
    """tests/llm_server.py in a subprocess."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "llm_server.py"), "--latency", str(latency)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def run_workers(n: int, concurrency: int, call: Callable[[int], Awaitable[str]]) -> float:
    """Seconds for ``n`` calls made by ``concurrency`` workers."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            text = await call(i)
            assert text, "empty answer"

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def bench_chesseval(url: str, n: int, concurrency: int) -> float:
    player = create_player(
        "openai-api/bench/m",
        {"base_url": url + "/v1", "max_connections": concurrency, "cache": False, "attempt_timeout": 60, "max_retries": 0},
    )

    board = PUZZLE.board()  # the player does not read it; build it once, not per call

    async def call(i: int) -> str:
        turn = Turn(messages=tuple(messages(i)), board=board, puzzle=PUZZLE, index=0)  # type: ignore[arg-type]
        return (await player.play(turn)).text

    try:
        await run_workers(min(n, concurrency * 2), concurrency, call)  # warm up connections
        return await run_workers(n, concurrency, call)
    finally:
        await player.aclose()


async def bench_bare_shared(url: str, n: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url + "/v1", limits=limits, timeout=60, headers={"authorization": "Bearer x"}) as client:

        async def call(i: int) -> str:
            r = await client.post("chat/completions", json={"model": "m", "messages": messages(i)})
            r.raise_for_status()
            return str(r.json()["choices"][0]["message"]["content"])

        await run_workers(min(n, concurrency * 2), concurrency, call)
        return await run_workers(n, concurrency, call)


async def bench_bare_per_connection(url: str, n: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=url + "/v1", limits=limits, timeout=60, headers={"authorization": "Bearer x"}) for _ in range(concurrency)]
    idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
    for c in clients:
        idle.put_nowait(c)

    async def call(i: int) -> str:
        client = await idle.get()
        try:
            r = await client.post("chat/completions", json={"model": "m", "messages": messages(i)})
        finally:
            idle.put_nowait(client)
        r.raise_for_status()
        return str(r.json()["choices"][0]["message"]["content"])

    try:
        await run_workers(min(n, concurrency * 2), concurrency, call)
        return await run_workers(n, concurrency, call)
    finally:
        for c in clients:
            await c.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per round at zero latency (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections at zero latency (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; best kept (default: %(default)s)")
    parser.add_argument("--latency-calls", type=int, default=1000)
    parser.add_argument("--latency-connections", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--only", choices=["zero", "latency"], help="run one part only")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds, args.latency_calls, args.latency = 300, 1, 256, 0.2
    os.environ.setdefault("CHESSEVAL_RETRY_WAIT_SCALE", "1")

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}, httpx {httpx.__version__}")
    if args.only != "latency":
        server = Server(latency=0.0)
        try:
            best = {"chesseval": math.inf, "bare (shared client)": math.inf, "bare (client per connection)": math.inf}
            benches = {"chesseval": bench_chesseval, "bare (shared client)": bench_bare_shared, "bare (client per connection)": bench_bare_per_connection}
            for _ in range(args.rounds):
                for name, bench in benches.items():
                    best[name] = min(best[name], asyncio.run(bench(server.url, args.calls, args.concurrency)))
        finally:
            server.close()
        print(f"\n1. zero latency, {args.concurrency} connections, {args.calls} calls (best of {args.rounds})")
        for name, seconds in best.items():
            print(f"   {name:30s} {args.calls / seconds:8.0f} calls/s")
        ours = args.calls / best["chesseval"]
        for name in ("bare (shared client)", "bare (client per connection)"):
            print(f"   ratio chesseval / {name:30s} {ours / (args.calls / best[name]):5.2f}   (aim >= 0.7)")

    if args.only != "zero":
        server = Server(latency=args.latency)
        try:
            wall = asyncio.run(bench_chesseval(server.url, args.latency_calls, args.latency_connections))
            bare = asyncio.run(bench_bare_per_connection(server.url, args.latency_calls, args.latency_connections))
        finally:
            server.close()
        ideal = math.ceil(args.latency_calls / args.latency_connections) * args.latency
        print(f"\n2. {args.latency:g} s latency, {args.latency_connections} connections, {args.latency_calls} calls")
        print(f"   ideal {ideal:.2f}s   chesseval {wall:.2f}s   bare {bare:.2f}s")
        print(f"   ratio chesseval / ideal {wall / ideal:5.3f}   (aim <= 1.1)")
        print(f"   ratio bare / ideal      {bare / ideal:5.3f}   (the machine's own floor in this run)")
        print(f"   ratio chesseval / bare  {wall / bare:5.3f}")
        load = os.getloadavg()[0]
        starved = f" (more than the {os.cpu_count()} CPUs: these numbers are CPU-starved)" if load > (os.cpu_count() or 1) else ""
        print(f"\nload average now {load:.2f}{starved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
