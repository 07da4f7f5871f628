#!/usr/bin/env bash
# The reference ladder on the bundled default suite, committed under runs/reference/:
# engine-free alpha-beta at depths 1-3 and Stockfish at node budgets 1..10k (never
# UCI_LimitStrength / Skill Level). `chesseval report RUN` places any run on this ladder.
set -euo pipefail
cd "$(dirname "$0")/.."
for depth in 1 2 3; do
  python -m chesseval run --model builtin/search -M depth=$depth --suite default --runs-dir runs/reference --quiet
done
for nodes in 1 10 100 1000 10000; do
  python -m chesseval run --model engine/stockfish -M nodes=$nodes --suite default --runs-dir runs/reference --max-connections 2 --quiet
done
