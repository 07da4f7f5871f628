"""Solve curves of real language models: the chess-bench answers in ``../shared/data/llm_answers.jsonl``.

The vorahardik7/chess-bench source asked 14 current models the same Lichess puzzles in three
rating buckets (800-1200, 1200-1600, 1600-2000) and stored each raw answer. Here the first move
of each answer is judged (a UCI line is read token by token, anything else by chesseval's answer
parser; any mating move counts where the solution mates at once, as on Lichess), each puzzle is
placed at its bucket's midpoint with a deviation that covers the bucket (sqrt(75^2 + 400^2/12)
= 138), and every model's curve is fitted every way :class:`chesseval.core.rating.CurveModel` offers.

Prints per model: solve rate per bucket, the maximum log-likelihood and AIC of each model (no
priors), the likelihood-ratio statistic of the free slope against Elo's, and the default fit
(slope + lapse, weak priors): headline, interval, scale, lapse and the goodness-of-fit p.
With three buckets and three parameters the goodness-of-fit test has little power; the
likelihood comparison is the stronger evidence.

    python scripts/llm_curves.py [--answers ../shared/data/llm_answers.jsonl] [--boot 500]

The answers are third-party text: read them from ../shared, never copy them into the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

import chess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chesseval.core.moves import MoveKind, parse_move  # noqa: E402
from chesseval.core.rating import CurveModel, compare_models, fit_curve  # noqa: E402

SOURCE = "vorahardik7/chess-bench:"
BUCKET_RD = math.sqrt(75.0**2 + 400.0**2 / 12.0)
_UCI = re.compile(r"^[a-h][1-8][a-h][1-8][qrbn]?$")


def first_move(raw: str, board: chess.Board) -> chess.Move | None:
    """The answer's first move: the first token of a bare UCI line, else what the parser commits to."""
    tokens = raw.strip().strip("`").split()
    if tokens and all(_UCI.match(t.lower()) for t in tokens):
        try:
            move = chess.Move.from_uci(tokens[0].lower())
        except ValueError:
            return None
        return move if move in board.legal_moves else None
    parsed = parse_move(raw, board)
    return parsed.move if parsed.kind is MoveKind.MOVE else None


def is_correct(move: chess.Move | None, expected: str, board: chess.Board) -> bool:
    if move is None:
        return False
    if move.uci() == expected:
        return True
    board.push(expected_move := chess.Move.from_uci(expected))
    mates_at_once = board.is_checkmate()
    board.pop()
    del expected_move
    if not mates_at_once:
        return False
    board.push(move)
    try:
        return board.is_checkmate()
    finally:
        board.pop()


def load(path: Path) -> dict[str, tuple[list[bool], list[float]]]:
    per: dict[str, tuple[list[bool], list[float]]] = defaultdict(lambda: ([], []))
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if not str(rec.get("source", "")).startswith(SOURCE) or not rec.get("expected"):
                continue
            lo, hi = (int(x) for x in rec["meta"]["rating_bucket"].split("-"))
            board = chess.Board(rec["fen"])
            solved, ratings = per[rec["model"]]
            solved.append(is_correct(first_move(rec["raw_response"], board), rec["expected"], board))
            ratings.append((lo + hi) / 2)
    return dict(per)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=Path, default=ROOT.parent / "shared" / "data" / "llm_answers.jsonl")
    ap.add_argument("--boot", type=int, default=500, help="parametric-bootstrap replicates of the fit test")
    args = ap.parse_args()
    if not args.answers.is_file():
        print(f"{str(args.answers)!r} not found (it lives in ../shared/data)", file=sys.stderr)
        return 2
    data = load(args.answers)
    models = list(CurveModel)
    print(f"{'model':<38} {'n':>4} {'800-1200':>9} {'1200-1600':>9} {'1600-2000':>9}  "
          + " ".join(f"{'AIC ' + str(m):>17}" for m in models) + f" {'LR slope':>8}  headline (slope+lapse)")  # fmt: skip
    fitted = 0
    best = defaultdict(int)
    for name in sorted(data):
        solved, ratings = data[name]
        rd = [BUCKET_RD] * len(ratings)
        rates = []
        for mid in (1000.0, 1400.0, 1800.0):
            outcomes = [s for s, r in zip(solved, ratings) if r == mid]
            rates.append(f"{100 * sum(outcomes) / len(outcomes):.0f}% /{len(outcomes)}" if outcomes else "-")
        cmp = compare_models(solved, ratings, rd)
        best[min(cmp, key=lambda m: cmp[m]["aic"])] += 1
        lr = 2 * (cmp[CurveModel.SLOPE]["loglik"] - cmp[CurveModel.ELO]["loglik"])
        fit = fit_curve(solved, ratings, rd, gof_boot=args.boot)
        p = fit.gof.p_value if fit.gof else float("nan")
        fitted += p > 0.05
        print(f"{name:<38} {len(solved):4d} " + " ".join(f"{x:>9}" for x in rates) + "  "
              + " ".join(f"{cmp[m]['aic']:17.1f}" for m in models) + f" {lr:8.1f}  "
              + f"{fit.format()}; scale {fit.scale or float('nan'):.0f}, lapse {100 * (fit.lapse or 0):.0f}%, "
              + f"Elo {fit.elo.format()}, fit p = {p:.2f}")  # fmt: skip
    print(f"\n{len(data)} models; lowest AIC: " + ", ".join(f"{m} {k}" for m, k in best.items())
          + f"; goodness of fit p > 0.05 for {fitted} of {len(data)} (slope + lapse, weak priors)")  # fmt: skip
    print("LR slope = 2 (l_slope - l_elo), chi-square with 1 df under Elo's slope (3.84 at 5%).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
