"""Placing a run among reference runs of the look-ahead ladder."""

from __future__ import annotations

from pathlib import Path

import pytest

from chesseval.cli import main
from chesseval.analysis.reference import ReferencePoint, place, reference_points


def test_place_sentences() -> None:
    pts = [ReferencePoint("search depth=1", 0.3, 100, Path()), ReferencePoint("search depth=2", 0.5, 100, Path())]
    assert place(0.4, pts) == "solves 40.0%, between search depth=1 (30.0%) and search depth=2 (50.0%)"
    assert place(0.1, pts).startswith("solves 10.0%, below the weakest reference (search depth=1")
    assert place(0.9, pts).startswith("solves 90.0%, above the strongest reference (search depth=2")
    assert place(0.5, pts) == "solves 50.0%, like search depth=2"
    assert place(0.5, []) == "no reference runs on this suite"


def test_report_places_run_on_ladder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = tmp_path / "ref"
    for depth in ("1", "3"):
        assert main(["run", "--model", "builtin/search", "-M", f"depth={depth}", "--suite", "starter", "--limit", "40", "--runs-dir", str(ref), "--quiet"]) == 0
    assert main(["run", "--model", "builtin/random", "--suite", "starter", "--limit", "40", "--runs-dir", str(tmp_path / "x"), "--quiet"]) == 0
    path = capsys.readouterr().out.strip().splitlines()[-1]
    points = reference_points(ref, suite_sha256=__import__("chesseval").resolve_suite("starter").sha256, template="chesseval-v1")
    assert [p.label for p in points] == ["builtin/search depth=1", "builtin/search depth=3"]
    assert main(["report", path, "--reference", str(ref)]) == 0
    out = capsys.readouterr().out
    assert "look-ahead ladder: solves" in out and "below the weakest reference (builtin/search depth=1" in out
