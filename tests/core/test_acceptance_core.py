"""Issue #2 acceptance on the shared Lichess sample: oracle 100%, random under 5%, real spread."""

from __future__ import annotations

from pathlib import Path

import pytest

from chesseval.api import evaluate

from chesseval.core.runner import RunConfig


@pytest.mark.slow
def test_oracle_solves_everything(tmp_path: Path, lichess_sample: Path) -> None:
    result = evaluate(RunConfig(model="builtin/oracle", suite=str(lichess_sample), runs_dir=tmp_path))
    overall = result.results["overall"]
    assert overall["n"] == 20857
    failed = overall["n"] - overall["solved"]
    assert failed == 0, f"{failed} puzzles not solved by the oracle: see {result.path}/records.jsonl"
    labels = [b["label"] for b in result.results["buckets"]]
    assert labels[0] == "200-399" and labels[-1] == "3200-3399" and len(labels) == 16


@pytest.mark.slow
def test_random_solves_under_5_percent(tmp_path: Path, lichess_sample: Path) -> None:
    result = evaluate(RunConfig(model="builtin/random", suite=str(lichess_sample), runs_dir=tmp_path, seed=7))
    overall = result.results["overall"]
    assert overall["n"] == 20857
    assert overall["solve_rate"] < 0.05
    # Random play solves easy (short, often mate-in-one) puzzles more often than hard ones.
    rates = {b["label"]: b["solve_rate"] for b in result.results["buckets"]}
    assert rates["400-599"] > rates["2000-2199"]
