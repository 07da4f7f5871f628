"""Speed of ``chesseval import jsonl`` on ../shared/data/llm_answers.jsonl, against a baseline
measured in the same run: only reading each answer with ``parse_move`` (no judging, no run folders).

    python benchmarks/bench_import.py [PATH]

The import does the parse too (``parse_line`` for whole-line answers), plus the judging by the
runner's ``play_puzzle``, the suites and 74 run folders; the ratio says what all that costs on
top of reading the answers.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.core.moves import parse_move  # noqa: E402
from chesseval.importers import import_logs, read_log  # noqa: E402
from chesseval.importers.judging import position_board  # noqa: E402


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else ROOT.parent / "shared" / "data" / "llm_answers.jsonl"
    if not path.is_file():
        print(f"bench_import: {path} not found", file=sys.stderr)
        return 1
    answers = read_log("jsonl", path)
    t0 = time.perf_counter()
    for a in answers:
        parse_move(a.text, position_board(a))
    baseline = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = import_logs("jsonl", path, out=tmp)
        full = time.perf_counter() - t0
    print(f"{len(answers)} answers; parse_move only: {baseline:.2f} s; chesseval import: {full:.2f} s "
          f"({len(result.runs)} runs); ratio {full / baseline:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
