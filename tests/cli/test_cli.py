"""The CLI end to end, in-process (main(argv) -> int)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chesseval.cli import build_parser, main
from chesseval.core.records import read_run


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_run_default_suite_prints_table_and_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "builtin/search", "-M", "depth=1", "--limit", "30", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    path = Path(last_line(out))
    assert path.parent == tmp_path
    assert {p.name for p in path.iterdir()} >= {"run.json", "records.jsonl", "results.json"}
    header = json.loads((path / "run.json").read_text())
    assert header["status"] == "success" and header["suite"]["sha256"] and header["template"]
    assert header["versions"]["python-chess"]
    results = json.loads((path / "results.json").read_text())
    assert results["overall"]["n"] == 30
    assert set(results["buckets"][0]) >= {"lo", "hi", "n", "solved", "solve_rate", "ci_low", "ci_high"}
    assert "solve rate" in out
    df = read_run(path)
    assert len(df) == 30 and df["puzzle_id"].map(type).eq(str).all()
    # Same command again: resumes, asks nothing, same folder.
    assert main(["run", "--model", "builtin/search", "-M", "depth=1", "--limit", "30", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert Path(last_line(captured.out)) == path
    assert "already recorded" in captured.err


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "json"])
def test_report_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    main(["run", "--model", "builtin/random", "--limit", "10", "--runs-dir", str(tmp_path), "--quiet"])
    path = last_line(capsys.readouterr().out)
    assert main(["report", path, "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["overall"]["n"] == 10
    else:
        labels = [b["label"] for b in json.loads((Path(path) / "results.json").read_text())["buckets"]]
        assert labels and all(label in out for label in labels)


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    from chesseval.core.puzzles import load_puzzles
    from chesseval.core.suites import resolve_suite

    pid = load_puzzles(resolve_suite("starter").path, limit=1)[0].id
    assert main(["show", pid, "--suite", "starter", "--format", "board"]) == 0
    out = capsys.readouterr().out
    assert "--- system ---" in out and "a b c d e f g h" in out and "template chesseval-v1" in out


def test_unknown_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "nope/x", "--runs-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown provider 'nope'" in err
    assert not any(tmp_path.iterdir())  # nothing started


def test_bad_model_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "builtin/search", "-M", "depth=deep", "--runs-dir", str(tmp_path)]) == 1
    assert "depth='deep'" in capsys.readouterr().err


def test_unknown_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "builtin/random", "--suite", "nosuch", "--runs-dir", str(tmp_path)]) == 1
    assert "unknown suite 'nosuch'" in capsys.readouterr().err


def test_bad_puzzle_file_fails_before_any_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("PuzzleId,FEN,Moves,Rating\nx,8/8/8/8/8/8/8/K6k w - - 0 1,a1a2 h1h2,1500\ny,8/8/8/8/8/8/8/K6k w - - 0 1,a1a3 h1h2,1500\n")
    assert main(["run", "--model", "builtin/random", "--suite", str(bad), "--runs-dir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: puzzle 'y': illegal move 'a1a3'" in err
    assert not (tmp_path / "runs").exists()


def test_validate_broken_copy_of_shared_sample(tmp_path: Path, lichess_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = lichess_sample.read_text(encoding="utf-8").splitlines(keepends=True)[:200]
    fields = [line.split(",") for line in lines]
    fields[10][1] = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP w KQkq - 0 1"  # broken FEN (7 ranks)
    moves = fields[20][2].split()
    moves[1] = "a1a1"
    fields[20][2] = " ".join(moves)  # illegal solution move
    fields[30][3] = "high"  # non-numeric rating
    broken = tmp_path / "broken.csv"
    broken.write_text("".join(",".join(f) for f in fields), encoding="utf-8")
    assert main(["validate", str(broken)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{broken}:11: ") and "invalid FEN" in out[0]
    assert out[1].startswith(f"{broken}:21: ") and "'a1a1'" in out[1]
    assert out[2].startswith(f"{broken}:31: ") and "Rating 'high' is not a number" in out[2]
    assert out[3] == f"{broken}: 196 puzzle(s) valid, 3 problem(s)"


def test_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["list", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "starter" in out and "builtin" in out


def test_help_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    # argparse formats help lazily: a stray '%' in any help text only fails when --help is asked.
    from chesseval.cli import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--help"])
    assert info.value.code == 0
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():  # type: ignore[attr-defined]
        p.format_help()
        for action in p._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                for child in action.choices.values():  # type: ignore[attr-defined]
                    child.format_help()
    assert "run" in capsys.readouterr().out


def test_closed_pipe_ends_quietly(tmp_path):
    import subprocess
    import sys

    # The reader is gone before chesseval writes a byte: no traceback, exit 141 (128 + SIGPIPE).
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "chesseval", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=root)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_each_parser_owns_its_command_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    # CPython reuses the id of a freed object; a group cache keyed by id() then handed a new parser
    # the filled group of an old one and CI failed with "conflicting subparser: starter". Giving
    # every object the same id makes that reuse happen on every call instead of by allocator luck.
    import chesseval.cli as cli_module

    monkeypatch.setattr(cli_module, "id", lambda obj: 0, raising=False)
    first, second = build_parser(), build_parser()
    for parser in (first, second):
        assert parser.parse_args(["puzzles", "starter", "--count", "3"]).count == 3
