"""What parse_move costs per answer, next to a bare python-chess parse_san of the same move.

    python benchmarks/bench_moves.py [--puzzles ../shared/data/lichess_sample.csv] [--limit N]

For the solver positions of the first N puzzles, prints the median and p90 µs per call of:
- baseline: ``board.parse_san(san)`` on the clean SAN (what a parser cannot do cheaper);
- parse_move on ``Answer: <san>``, on the built-in oracle's answers (notation variants, decoys),
  on ~2 kB and ~20 kB of reasoning ending in an answer, and on ~20 kB cut off mid-sentence;
and each median as a ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import chess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.core.moves import MoveKind, parse_move  # noqa: E402
from chesseval.core.players import Turn  # noqa: E402
from chesseval.providers.builtin import OraclePlayer  # noqa: E402
from chesseval.core.puzzles import load_puzzles  # noqa: E402

PARAGRAPH = (
    "Let me look at the candidate moves. {a} is natural, but after the reply the knight on f3 is "
    "pinned and e5 is weak; {b} keeps more tension, and if Black answers with a quiet move the "
    "bishop on c4 eyes f7. The pawn on d4 controls e5 and c5.\n"
)


def timed(calls: list[Callable[[], object]]) -> list[float]:
    out = []
    for call in calls:
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--puzzles", default=str(ROOT.parent / "shared" / "data" / "lichess_sample.csv"))
    ap.add_argument("--limit", type=int, default=2000)
    args = ap.parse_args()
    puzzles = load_puzzles(args.puzzles, limit=args.limit)

    cases: list[tuple[chess.Board, chess.Move, str, Turn]] = []
    for p in puzzles:
        board = p.board()
        move = board.parse_uci(p.solution[0])
        cases.append((board, move, board.san(move), Turn(messages=(), board=board, puzzle=p, index=0)))
    oracle = OraclePlayer(seed=0)

    async def oracle_texts() -> list[str]:
        return [(await oracle.play(turn)).text for *_, turn in cases]

    answers = asyncio.run(oracle_texts())

    def reasoning(board: chess.Board, san: str, repeats: int) -> str:
        legal = [board.san(m) for m in list(board.legal_moves)[:2]] + ["Nf3", "Bc4"]
        return PARAGRAPH.format(a=legal[0], b=legal[1]) * repeats + f"\n**Answer:** {san}"

    long_cases = cases[:300]  # 20 kB answers: fewer, they cost more
    suites: dict[str, list[Callable[[], object]]] = {
        "baseline: board.parse_san(san)": [lambda b=b, s=s: b.parse_san(s) for b, _, s, _ in cases],
        "parse_move('Answer: <san>')": [lambda b=b, t=f"Answer: {s}": parse_move(t, b) for b, _, s, _ in cases],
        "parse_move(oracle answer)": [lambda b=b, t=t: parse_move(t, b) for (b, *_), t in zip(cases, answers)],
        "parse_move(~2 kB reasoning + answer)": [lambda b=b, t=reasoning(b, s, 7): parse_move(t, b) for b, _, s, _ in cases],
        "parse_move(~20 kB reasoning + answer)": [lambda b=b, t=reasoning(b, s, 70): parse_move(t, b) for b, _, s, _ in long_cases],
        "parse_move(~20 kB cut off)": [lambda b=b, t=reasoning(b, s, 70)[:-40]: parse_move(t, b) for b, _, s, _ in long_cases],
    }
    # Correctness first: the numbers mean nothing if the parses are wrong.
    wrong = sum(parse_move(t, b).move != m for (b, m, _, _), t in zip(cases, answers))
    cut = sum(parse_move(reasoning(b, s, 70)[:-40], b).kind != MoveKind.NONE for b, _, s, _ in long_cases)
    print(f"{len(cases)} positions from {args.puzzles}; oracle answers misread: {wrong}; cut-off answers read as a move: {cut}")

    base = None
    for name, calls in suites.items():
        timed(calls[:50])  # warm up
        times = timed(calls)
        med = statistics.median(times) * 1e6
        p90 = statistics.quantiles(times, n=10)[-1] * 1e6
        base = base or med
        print(f"{name:40s} median {med:8.1f} µs   p90 {p90:8.1f} µs   ×{med / base:6.1f} baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
