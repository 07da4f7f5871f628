"""compare, history, export and report --html on real runs of the built-in players."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from chesseval import cli

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lichess_sample.csv"
N = 60


def _run(runs_dir: Path, model: str, *extra: str, suite: Path = SAMPLE) -> Path:
    before = set(runs_dir.iterdir()) if runs_dir.exists() else set()
    args = ["run", "--model", model, "--suite", str(suite), "--limit", str(N), "--runs-dir", str(runs_dir), "--quiet", "--new", *extra]
    assert cli.main(args) == 0
    (new,) = set(runs_dir.iterdir()) - before
    return new


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not SAMPLE.is_file():
        pytest.skip(f"shared test data not found at {SAMPLE}")
    base = tmp_path_factory.mktemp("analysis_runs")
    family = base / "family"
    other = base / "other"
    # A different suite: the first rows of the sample in a file of its own (another sha256).
    subset = base / "subset.csv"
    with open(SAMPLE, encoding="utf-8") as src:
        subset.write_text("".join(line for _, line in zip(range(N + 1), src, strict=False)), encoding="utf-8")
    return {
        # Made out of release order on purpose: history must sort by release date.
        "d2": _run(family, "builtin/search", "-M", "depth=2", "--meta", "family=demo", "--meta", "release_date=2025-09-15", "--meta", "label=search-d2"),
        "random": _run(family, "builtin/random", "--meta", "family=demo", "--meta", "release_date=2024-03-01", "--meta", "label=random"),
        "d1": _run(family, "builtin/search", "-M", "depth=1", "--meta", "family=demo", "--meta", "release_date=2025-01-01", "--meta", "label=search-d1"),
        "other_family": _run(family, "builtin/search", "-M", "depth=1", "--meta", "family=else", "--meta", "release_date=2023-01-01"),
        "subset": _run(other, "builtin/search", "-M", "depth=1", suite=subset),
        "pgn": _run(other, "builtin/search", "-M", "depth=1", "--format", "pgn", "--meta", "label=pgn"),
    }


def test_compare_prints_leaderboard_and_paired_test(runs: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plot = tmp_path / "cmp.png"
    rc = cli.main(["compare", str(runs["random"]), str(runs["d1"]), str(runs["d2"]), "--boot", "400", "--plot", str(plot)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["#", "run", "rating"]  # one suite: no suite column
    # Ranked by rating: depth 2 above depth 1 above random.
    ranked = [line.split()[1] for line in lines[2:5]]
    assert ranked == ["search-d2", "search-d1", "random"]
    assert "search-d1 vs random on 60 shared puzzles" in out and "exact McNemar p =" in out
    assert out.count("shared puzzles") == 3  # every pair
    assert "WARNING" not in err
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_compare_markdown(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(runs["random"]), str(runs["d1"]), "--markdown", "--boot", "200"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| # | run | rating (95% CI) |") and "| 1 | search-d1 |" in out


def test_compare_refuses_different_suites_unless_forced(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(runs["d1"]), str(runs["subset"]), "--boot", "200"]) == 2  # a ConfigError: bad input, exit 2
    out, err = capsys.readouterr()
    assert out == "" and "different puzzle suites" in err and "refusing" in err and "--force" in err
    assert cli.main(["compare", str(runs["d1"]), str(runs["subset"]), "--boot", "200", "--force"]) == 0
    out, err = capsys.readouterr()
    assert "WARNING: different puzzle suites" in err
    assert "[different suites: paired on the puzzle ids both contain]" in out
    # Both suites are real Lichess puzzles, on the Lichess scale by definition: no linking error.
    assert "Ratings across suites" in out and "across suites: headline rating" in out
    head = out.splitlines()[0].split()
    assert head[:3] == ["#", "run", "suite"]  # rows on two suites say which
    assert "subset (" in out and "lichess_sample (" in out
    across = next(line for line in out.splitlines() if "across suites: headline rating" in line)
    assert across.endswith("(sampling errors and the linking errors, builtin/search 0, search-d1 0)")


def test_compare_warns_on_different_prompts(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(runs["d1"]), str(runs["pgn"]), "--boot", "200"]) == 0
    out, err = capsys.readouterr()
    assert "WARNING: different prompts" in err and "chesseval-v1/pgn" in err
    assert "pgn vs search-d1 on 60 shared puzzles" in out


def test_compare_needs_two_runs(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(runs["d1"])]) == 2
    assert "at least two runs, got 1" in capsys.readouterr().err


def test_history_lists_a_family_in_release_order_and_plots(runs: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plot = tmp_path / "history.png"
    runs_dir = runs["d1"].parent
    assert cli.main(["history", str(runs_dir), "--family", "demo", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    labels = [line.split()[1] for line in out.splitlines()[2:] if line[:1].isdigit()]
    assert labels == ["random", "search-d1", "search-d2"]
    assert f"plot: {plot}" in out and plot.read_bytes().startswith(b"\x89PNG")
    # Without --family every family is listed (the "else" run is the oldest); default plot path.
    assert cli.main(["history", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines()[2:] if line[:1].isdigit()][0] == "builtin/search"
    assert (runs_dir / "history.png").is_file()
    assert cli.main(["history", str(runs_dir), "--family", "nope"]) == 2
    assert "no runs of family 'nope'" in capsys.readouterr().err
    # A runs folder that mixes suites says what its rows can and cannot be compared on.
    assert cli.main(["history", str(runs["subset"].parent), "--plot", str(tmp_path / "other.png")]) == 0
    err = capsys.readouterr().err
    assert "2 different puzzle suites" in err and "linking errors" in err and "compare --force" in err


def test_export_csv(runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.csv"
    assert cli.main(["export", str(runs["d1"]), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == N
    assert {"puzzle_id", "verdict", "rating", "themes", "input_tokens", "solver", "last_answer", "model"} <= set(rows[0])
    assert rows[0]["puzzle_id"] == "00008" and rows[0]["model"] == "builtin/search"


def test_export_parquet(runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.parquet"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        have_pyarrow = False
    else:
        have_pyarrow = True
    if have_pyarrow:
        import pandas as pd

        assert cli.main(["export", str(runs["d1"]), "--format", "parquet", "-o", str(out)]) == 0
        df = pd.read_parquet(out)
        assert len(df) == N and df["puzzle_id"].iloc[0] == "00008"
    # Without pyarrow: a one-line error naming the optional dependency, exit 2 (a ConfigError).
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert cli.main(["export", str(runs["d1"]), "--format", "parquet", "-o", str(tmp_path / "x.parquet")]) == 2
    assert "pip install 'chesseval[parquet]'" in capsys.readouterr().err


def test_report_html_default_path(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(runs["d1"]), "--html"]) == 0
    out = capsys.readouterr().out
    target = runs["d1"] / "report.html"
    assert f"html report: {target}" in out and "rating" in out  # the text report is printed too
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "search-d1 on lichess_sample" in text


def test_breakdown_by_format_pools_runs(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["breakdown", str(runs["d1"]), str(runs["pgn"]), "--by", "format"]) == 0
    out = capsys.readouterr().out
    assert "| fen | 60 |" in out and "| pgn | 60 |" in out


@pytest.mark.parametrize("by, expect", [("theme", "| mateIn1 |"), ("rating", "| 1600-1799 |"), ("length", "| 1 |"),
                                        ("side", "| white |"), ("phase", "| endgame |"), ("partial", "found 0")])
def test_breakdown_dimensions(runs: dict[str, Path], capsys: pytest.CaptureFixture[str], by: str, expect: str) -> None:
    assert cli.main(["breakdown", str(runs["d1"]), "--by", by]) == 0
    assert expect in capsys.readouterr().out


def test_report_text_gains_the_rating_line_but_json_does_not(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(runs["d1"])]) == 0
    assert "puzzle rating: " in capsys.readouterr().out
    assert cli.main(["report", str(runs["d1"]), "--format", "json"]) == 0
    import json

    json.loads(capsys.readouterr().out)  # still pure JSON
