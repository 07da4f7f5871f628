"""Model options typed once (issue #16 item 7) and the Player protocol as documented (item 8)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import chesseval
from chesseval.cli import main
from chesseval.core.players import Reply, Turn
from chesseval.core.runner import RunConfig, config_hash, parse_option_value
from chesseval.errors import PlayerError


@pytest.mark.parametrize(
    ("text", "value"),
    [("2", 2), ("-3", -3), ("0.5", 0.5), ("1e3", 1000.0), ("true", True), ("false", False), ("null", None),
     ("[1, 2]", [1, 2]), ('{"a": 1}', {"a": 1}), ('"2"', '"2"'), ("chat", "chat"), ("high", "high"),
     ("http://x:1/v1", "http://x:1/v1"), ("NaN", "NaN"), ("007", "007"), ("", ""), ("True", "True")],
)  # fmt: skip
def test_parse_option_value(text: str, value: Any) -> None:
    parsed = parse_option_value(text)
    assert parsed == value and type(parsed) is type(value)
    assert parse_option_value(parsed) == parsed  # typing twice changes nothing


def test_cli_string_and_python_number_are_one_config() -> None:
    cli = RunConfig(model="builtin/search", suite="starter", model_options={"depth": "2", "temperature": "1.0", "api_key": "123"})
    py = RunConfig(model="builtin/search", suite="starter", model_options={"depth": 2, "temperature": 1, "api_key": "123"})
    assert cli.model_options == {"depth": 2, "temperature": 1.0, "api_key": "123"}  # secrets stay as given
    assert config_hash(cli.answer_config("x")) == config_hash(py.answer_config("x"))


def _only_run(runs: Path) -> Path:
    (run,) = list(runs.iterdir())
    return run


def test_cli_run_and_evaluate_resume_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    args = ["run", "--model", "builtin/search", "-M", "depth=1", "--suite", "starter", "--limit", "6", "--runs-dir", str(runs), "--quiet"]
    assert main(args) == 0
    first = Path(capsys.readouterr().out.strip().splitlines()[-1])
    config = RunConfig(model="builtin/search", suite="starter", model_options={"depth": 1}, limit=6, runs_dir=runs)
    result = chesseval.evaluate(config)
    assert result.resumed and result.asked == 0 and result.path == first
    assert json.loads((first / "run.json").read_text())["model_options"] == {"depth": 1}

    # And the other way round: Python first (a bigger limit is another config), then the CLI.
    config = RunConfig(model="builtin/search", suite="starter", model_options={"depth": 1}, limit=8, runs_dir=runs)
    second = chesseval.evaluate(config)
    assert not second.resumed and second.asked == 8
    assert main([*args[:-5], "--limit", "8", "--runs-dir", str(runs), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert Path(captured.out.strip().splitlines()[-1]) == second.path and "already recorded" in captured.err
    assert len(list(runs.iterdir())) == 2


def _old_hash(header: dict[str, Any]) -> str:
    """The hash as chesseval computed it before options were typed (the CLI stored strings)."""
    answer = {
        "model": header["model"],
        "model_options": dict(sorted(header["model_options"].items())),
        "suite_sha256": header["suite"]["sha256"],
        "format": header["format"],
        "prompt_options": header["prompt_options"],
        "template": header["template"],
        "limit": header["limit"],
        "seed": header["seed"],
    }
    return hashlib.sha256(json.dumps(answer, sort_keys=True, default=str).encode()).hexdigest()[:16]


def test_an_old_cli_run_with_string_options_still_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "runs"
    args = ["run", "--model", "builtin/search", "-M", "depth=1", "--suite", "starter", "--limit", "4", "--runs-dir", str(runs), "--quiet"]
    assert main(args) == 0
    run = _only_run(runs)
    # Make it look as an older chesseval left it: the option as a string, the hash of that string.
    header = json.loads((run / "run.json").read_text())
    header["model_options"] = {"depth": "1"}
    header["config_hash"] = _old_hash(header)
    same = RunConfig(model="builtin/search", suite="starter", model_options={"depth": 1}, limit=4)
    new_hash = config_hash(same.answer_config(header["suite"]["sha256"]))
    assert header["config_hash"] != new_hash  # the old hash really differs
    (run / "run.json").write_text(json.dumps(header))
    capsys.readouterr()
    assert main(args) == 0
    captured = capsys.readouterr()
    assert Path(captured.out.strip().splitlines()[-1]) == run and "already recorded" in captured.err
    assert _only_run(runs) == run
    assert json.loads((run / "run.json").read_text())["config_hash"] == new_hash  # found by the fast path next time


# -- the Player protocol ---------------------------------------------------------------------------


class OnlyPlay:
    """What the README describes: a class with ``async play(turn)`` and nothing else."""

    async def play(self, turn: Turn) -> Reply:
        return Reply(text=f"I play {turn.puzzle.line[2 * turn.index]}")


def test_a_player_with_only_play_works(tmp_path: Path) -> None:
    config = RunConfig(model="custom/only-play", suite="starter", limit=5, runs_dir=tmp_path)
    result = chesseval.evaluate(config, player=OnlyPlay())
    assert result.status == "success" and result.results["overall"]["n"] == 5
    assert result.results["overall"]["solve_rate"] == 1.0
    header = json.loads((result.path / "run.json").read_text())
    assert header["player"] == {"name": "OnlyPlay", "class": f"{__name__}.OnlyPlay"}


class Boom(OnlyPlay):
    """Answers two puzzles, then its own bug raises."""

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    async def play(self, turn: Turn) -> Reply:
        self.calls += 1
        if self.calls == 3:
            raise KeyError("no such square")
        return await super().play(turn)

    async def aclose(self) -> None:
        self.closed = True


def test_a_player_exception_is_recorded_with_type_and_message(tmp_path: Path) -> None:
    player = Boom()
    config = RunConfig(model="custom/boom", suite="starter", limit=10, runs_dir=tmp_path, max_connections=1)
    with pytest.raises(PlayerError, match=r"raised on puzzle .*: KeyError: 'no such square'") as info:
        chesseval.evaluate(config, player=player)
    assert isinstance(info.value.__cause__, KeyError)  # the player's own traceback is kept
    assert info.value.record is not None and info.value.record["verdict"] == "error"
    assert player.closed
    run = _only_run(tmp_path)
    header = json.loads((run / "run.json").read_text())
    assert header["status"] == "error" and "KeyError: 'no such square'" in header["error"]
    records = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in records] == ["correct", "correct", "error"]
    assert records[2]["error"] == "KeyError: 'no such square'" and records[2]["turns"][-1]["error"] == records[2]["error"]


def test_a_player_exception_from_the_cli_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import chesseval.api

    monkeypatch.setattr(chesseval.api, "create_player", lambda model, options: Boom())
    code = main(["run", "--model", "builtin/oracle", "--suite", "starter", "--limit", "5", "--runs-dir", str(tmp_path), "--quiet", "--max-connections", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "KeyError: 'no such square'" in err
