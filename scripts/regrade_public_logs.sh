#!/usr/bin/env bash
# Re-grade the public benchmark answers in ../shared/data/llm_answers.jsonl with chesseval and
# print aggregates only (the answers are third-party text and are never committed).
# Output: the README's "Real models, re-graded" section. Usage: scripts/regrade_public_logs.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/llm_answers.jsonl
if [[ ! -f $data ]]; then
    echo "regrade_public_logs: $data not found (the shared test data sits beside the checkout)" >&2
    exit 1
fi
out=${1:-$(mktemp -d)}
mkdir -p "$out"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
python -m chesseval import jsonl "$data" --out "$out" > "$out/import.txt"
head -1 "$out/import.txt" >&2   # "imported N answers into M runs in S s"
python scripts/regrade_public_logs.py "$out"
