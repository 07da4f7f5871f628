"""Aggregates for the README's "Real models, re-graded" section (run by regrade_public_logs.sh).

Reads run folders made by ``chesseval import jsonl ../shared/data/llm_answers.jsonl`` and prints
aggregates only, never an answer: per model on the chess-bench puzzles every compared model
answered, whole-line and first-move solve rates with Wilson intervals and the puzzle rating;
paired release comparisons (exact McNemar, paired bootstrap); and how often chesseval's reading
of an answer differs from the source harness's extracted move.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from chesseval.analysis.breakdown import paired_comparison
from chesseval.analysis.leaderboard import load_runs_dir
from chesseval.core.rating import rating_from_records
from chesseval.core.records import RunData
from chesseval.core.results import wilson
from chesseval.importers.agreement import harness_move_uci, source_agreement

CHESS_BENCH = "vorahardik7/chess-bench"
RELEASES = [
    ("anthropic/claude-opus-4.6", "anthropic/claude-opus-4.7"),
    ("google/gemini-3-flash-preview", "google/gemini-3.1-pro-preview"),
    ("x-ai/grok-4.1-fast", "x-ai/grok-4.20-beta"),
]


def _pct(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{100 * k / n:5.1f}% [{100 * lo:4.1f}, {100 * hi:4.1f}]"


def _first_move(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with 'solved' meaning the first solver move was right."""
    return [{**r, "verdict": "correct" if r.get("first_move_correct") else "wrong"} for r in records]


def _model(run: RunData) -> str:
    return str(run.header["import"]["source_model"])


def main(runs_dir: str) -> int:
    runs = load_runs_dir(runs_dir)
    total = Counter(r["verdict"] for run in runs for r in run.records)
    modes = Counter(r["judging"]["mode"] for run in runs for r in run.records)
    print(f"## Import accounting\n\n{sum(total.values())} answers in {len(runs)} runs; by verdict: "
          + ", ".join(f"{k} {v}" for k, v in total.most_common()) + "; by judging mode: "
          + ", ".join(f"{k} {v}" for k, v in sorted(modes.items())) + ".\n")  # fmt: skip

    bench = {_model(r): r for r in runs if r.header["import"]["source"] == CHESS_BENCH}
    compared = sorted({m for pair in RELEASES for m in pair})
    missing = [m for m in compared if m not in bench]
    if missing:
        print(f"missing chess-bench models: {missing}", file=sys.stderr)
        return 1
    answered = [{str(r["puzzle_id"]) for r in bench[m].records if r["verdict"] != "error"} for m in compared]
    common = set.intersection(*answered)
    print(f"## {CHESS_BENCH}: the {len(common)} puzzles all {len(compared)} compared models answered\n")
    print("Whole line = every solver move of the Lichess line (strict rule, mate in one counts); first move = the first solver move.\n")
    print("| model | n | whole line (95% CI) | first move (95% CI) | puzzle rating (95% CI) |")
    print("|---|---:|---|---|---|")
    for m in compared:
        recs = [r for r in bench[m].records if str(r["puzzle_id"]) in common]
        n = len(recs)
        solved = sum(r["verdict"] == "correct" for r in recs)
        first = sum(bool(r["first_move_correct"]) for r in recs)
        print(f"| {m} | {n} | {_pct(solved, n)} | {_pct(first, n)} | {rating_from_records(recs).format().split(' (')[0]} |")
    print("\nRatings come from the source's 400-point rating buckets (midpoint, deviation 115), so they are coarse.\n")

    print(f"## Release comparisons on the same {len(common)} puzzles (new minus old; paired bootstrap 95% CI, exact McNemar)\n")
    print("| release | solved by | whole line | McNemar p | first move | McNemar p | rating (whole line) |")
    print("|---|---|---|---:|---|---:|---|")
    for old, new in RELEASES:
        a = [r for r in bench[old].records if str(r["puzzle_id"]) in common]
        b = [r for r in bench[new].records if str(r["puzzle_id"]) in common]
        line = paired_comparison(a, b, label_a=old, label_b=new, n_boot=4000, rating_boot=1000, seed=1)
        first = paired_comparison(_first_move(a), _first_move(b), label_a=old, label_b=new, n_boot=4000, rating_boot=0, seed=1)
        rating = "n/a" if line.rating_diff is None else f"{line.rating_diff:+.0f} [{line.rating_diff_low:+.0f}, {line.rating_diff_high:+.0f}]"
        print(f"| {old.split('/')[1]} → {new.split('/')[1]} | only old {line.only_a}, only new {line.only_b}, both {line.both} "
              f"| {line.diff:+.1%} [{line.diff_low:+.1%}, {line.diff_high:+.1%}] | {line.p_value:.3g} "
              f"| {first.diff:+.1%} [{first.diff_low:+.1%}, {first.diff_high:+.1%}] | {first.p_value:.3g} | {rating} |")  # fmt: skip
    print()

    print("## chesseval's reading against the source harness's extracted move\n")
    graded = [run for run in runs if any((r.get("source_grading") or {}).get("extracted_move") is not None for r in run.records)]
    kinds: Counter[str] = Counter()
    compared_n = differ_n = named_late = 0
    for run in graded:
        agreement = source_agreement(run.records)
        compared_n += agreement.moves_compared
        differ_n += agreement.moves_differ
        for rec in run.records:
            grading = rec.get("source_grading") or {}
            if grading.get("extracted_move") is None:
                continue
            theirs = harness_move_uci(str(grading["extracted_move"]), rec["fen"])
            turn = rec["turns"][0]
            mine = turn.get("played_uci")
            if theirs == mine:
                continue
            extracted = str(grading["extracted_move"]).replace(" ", "")
            named_late += extracted in str(turn.get("answer") or "")[-300:].replace(" ", "")
            if theirs is None and mine is None:
                kinds["both found no legal move, but not the same written move"] += 1
            elif mine is None:
                kinds[f"harness took a legal move, chesseval read {turn['parse_kind']}"] += 1
            elif theirs is None:
                kinds["chesseval read a legal move, the harness's extraction is not a legal move"] += 1
            else:
                kinds["both legal, different moves"] += 1
    sources = sorted({run.header["import"]["source"] for run in graded})
    print(f"Sources with an extracted move: {', '.join(sources)}. chesseval's reading differs on {differ_n} of {compared_n} "
          f"answers ({differ_n / max(compared_n, 1):.1%}):\n")  # fmt: skip
    for kind, n in kinds.most_common():
        print(f"- {kind}: {n}")
    print(f"- the harness's move is written in the answer's last 300 characters: {named_late} of {differ_n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
