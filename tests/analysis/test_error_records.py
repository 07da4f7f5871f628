"""One rule for ``error`` records (no answer obtained): out of every solve rate's denominator and
counted apart, so ``report`` and ``compare`` give the same rate and interval for the same run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chesseval.analysis.compare import compare_runs
from chesseval.api import evaluate
from chesseval.cli import main
from chesseval.core.players import Reply, Turn
from chesseval.core.runner import RunConfig
from chesseval.errors import ModelTransportError


class _Flaky:
    """Solves every puzzle, but the call for every third puzzle fails after its retries."""

    def __init__(self, fail_every: int) -> None:
        self.fail_every = fail_every

    @property
    def name(self) -> str:
        return "flaky"

    async def play(self, turn: Turn) -> Reply:
        if turn.index == 0 and sum(map(ord, turn.puzzle.id)) % self.fail_every == 0:
            raise ModelTransportError("connection reset (after 3 retries)")
        if turn.index == 0 and sum(map(ord, turn.puzzle.id)) % 2 == 0:
            return Reply(text="Answer: " + turn.board.san(next(iter(turn.board.legal_moves))))  # mostly wrong
        return Reply(text="Answer: " + turn.board.san(turn.board.parse_uci(turn.puzzle.solution[turn.index])))

    def describe(self) -> dict[str, str]:
        return {"kind": "flaky"}

    async def aclose(self) -> None:
        pass


def _run(runs: Path, fail_every: int) -> Path:
    config = RunConfig(model=f"test/flaky-{fail_every}", suite="starter", limit=40, runs_dir=runs)
    return evaluate(config, player=_Flaky(fail_every)).path


def test_report_and_compare_agree_on_a_run_with_error_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flaky, steady = _run(tmp_path / "runs", 3), _run(tmp_path / "runs", 10_000)
    capsys.readouterr()
    assert main(["report", str(flaky), "--format", "json"]) == 0
    overall = json.loads(capsys.readouterr().out)["overall"]
    errors = overall["verdicts"]["error"]
    assert 0 < errors < 40 and overall["n"] == 40 - errors  # errors are out of the denominator...
    assert overall["error_rate"] == pytest.approx(errors / 40)  # ...and shown
    assert main(["compare", str(flaky), str(steady), "--boot", "100", "--json", str(tmp_path / "c.json")]) == 0
    row = next(r for r in json.loads((tmp_path / "c.json").read_text())["runs"] if r["model"] == "test/flaky-3")
    assert (row["n"], row["solved"], row["errors"]) == (overall["n"], overall["solved"], errors)
    assert (row["solve_rate"], row["solve_low"], row["solve_high"]) == (overall["solve_rate"], overall["ci_low"], overall["ci_high"])
    # The Python functions behind the commands agree too (the leaderboard text shows the same rate).
    summary = compare_runs([flaky, steady], boot=100).rows[0]
    assert summary.solve_rate == overall["solve_rate"] and summary.solve_low == overall["ci_low"]
    assert f"{overall['solve_rate']:.1%}" in capsys.readouterr().out
