"""Bad puzzle files and flags: one line naming file and line, exit 2, before any call (issue #16 item 6).

Every case runs through ``validate`` and ``run`` in-process (``main(argv) -> int``), and through
the Python API with a player that counts its calls, so "before any call" is measured, not assumed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import chesseval
from chesseval.cli import main
from chesseval.core.players import Reply, Turn
from chesseval.core.puzzles import load_puzzles
from chesseval.core.suites import resolve_suite
from chesseval.errors import ConfigError, PuzzleFormatError

FEN = "8/8/8/8/8/8/8/K6k w - - 0 1"


def starter_rows(n: int) -> list[str]:
    """The first ``n`` data rows of the bundled starter suite, and its header first."""
    lines = resolve_suite("starter").path.read_text(encoding="utf-8").splitlines()
    return lines[: n + 1]


class CountingPlayer:
    """A player with only ``play`` that answers the solution and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def play(self, turn: Turn) -> Reply:
        self.calls += 1
        return Reply(text=f"Answer: {turn.puzzle.line[2 * turn.index]}")


def _zst(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (path, expected 'file:line' prefix, a word of the reason)."""
    rows = starter_rows(3)
    out: dict[str, tuple[Path, str, str]] = {}

    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 8)  # 0x0a ends line 1; 0x80 is the first non-UTF-8 byte
    out["binary"] = (binary, f"{binary}:2:", "not UTF-8 text: byte 0x80 at column 118")

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(("\n".join(rows[:3]) + "\n").encode() + "x1,caf\u00e9,e2e4 e7e5\n".encode("latin-1") + b"\xff\xfe\n" * 5000)
    out["latin-1 at line 4"] = (latin1, f"{latin1}:4:", "byte 0xe9 at column")

    zst = tmp_path / "binary.csv.zst"
    zst.write_bytes(_zst(("\n".join(rows) + "\n").encode() + b"\x00\xff\xfe garbage\n"))
    out["zst with binary line 5"] = (zst, f"{zst}:5:", "not UTF-8")

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    out["empty csv"] = (empty, f"{empty}:1:", "empty file")

    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n  \n")
    out["blank csv"] = (blank, f"{blank}:1:", "empty file")

    header = tmp_path / "header.csv"
    header.write_text("\n" + rows[0] + "\n")
    out["header only"] = (header, f"{header}:2:", "header only")

    folder = tmp_path / "folder.csv"
    folder.mkdir()
    out["directory"] = (folder, f"{folder}:", "is a directory")

    epd = tmp_path / "empty.epd"
    epd.write_text("# only a comment\n")
    out["epd only comments"] = (epd, f"{epd}:1:", "no EPD lines")

    pgn = tmp_path / "empty.pgn"
    pgn.write_text("")
    out["empty pgn"] = (pgn, f"{pgn}:1:", "no PGN games")

    epd_bin = tmp_path / "bin.epd"
    epd_bin.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xff")
    out["png named .epd"] = (epd_bin, f"{epd_bin}:", "not UTF-8")

    pgn_bin = tmp_path / "bin.pgn"
    pgn_bin.write_bytes(b'[Event "x"]\n[FEN "' + FEN.encode() + b'"]\n\n1. Ka2 \xe9 *\n')
    out["pgn latin-1 line 4"] = (pgn_bin, f"{pgn_bin}:4:", "not UTF-8")
    return out


CASES = ["binary", "latin-1 at line 4", "zst with binary line 5", "empty csv", "blank csv", "header only", "directory",
         "epd only comments", "empty pgn", "png named .epd", "pgn latin-1 line 4"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_one_line_exit_2_in_validate_run_and_api(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    path, where, reason = _bad_files(tmp_path)[case]

    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(where) and reason in out[0], out
    assert len(out[0]) < 300

    runs = tmp_path / "runs"
    assert main(["run", "--model", "builtin/oracle", "--suite", str(path), "--runs-dir", str(runs), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"chesseval: error: {where}") and reason in err, err
    assert not runs.exists()  # nothing started

    player = CountingPlayer()
    with pytest.raises(PuzzleFormatError, match=reason):
        chesseval.evaluate(chesseval.RunConfig(model="custom/counting", suite=str(path), runs_dir=runs), player=player)
    assert player.calls == 0 and not runs.exists()


def test_a_3kb_row_is_named_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = starter_rows(2)
    junk = "Z" * 3000
    bad = tmp_path / "long.csv"
    bad.write_text("\n".join([*rows, f"p3,{FEN} {junk},a1a2 h1h2", f"p4,{FEN},a1a2 {junk}", f"{junk}"]) + "\n")
    assert main(["validate", str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in out[:3]] == [f"{bad}:4", f"{bad}:5", f"{bad}:6"]
    for line in out[:3]:
        assert len(line) < 300, line
        assert "…" in line and "chars)" in line, line  # shortened, and says by how much
    assert "(3000 chars)" in out[2]  # the row has one field: the whole row is that field


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_limit_below_one_is_refused_before_any_call(tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: str) -> None:
    runs = tmp_path / "runs"
    assert main(["run", "--model", "builtin/oracle", "--suite", "starter", "--limit", limit, "--runs-dir", str(runs), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"got {limit}" in err and "--limit" in err
    assert not runs.exists()
    with pytest.raises(ConfigError, match="at least 1"):
        chesseval.RunConfig(model="builtin/oracle", suite="starter", limit=int(limit))


def _file_with_bad_rows(tmp_path: Path) -> Path:
    rows = starter_rows(5)
    bad = tmp_path / "mixed.csv"
    # line 3: a bad FEN; line 6: a 3 kB junk row; line 8: a repeated id
    lines = [rows[0], rows[1], f"bad1,{FEN.replace('K', 'X')},a1a2 h1h2", rows[2], rows[3], "J" * 3000, rows[4], rows[1], rows[5]]
    bad.write_text("\n".join(lines) + "\n")
    return bad


def test_one_bad_row_stops_the_run_without_skip_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _file_with_bad_rows(tmp_path)
    runs = tmp_path / "runs"
    assert main(["run", "--model", "builtin/oracle", "--suite", str(bad), "--runs-dir", str(runs), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:3: puzzle 'bad1': invalid FEN" in err
    assert not runs.exists()


def test_skip_invalid_runs_the_valid_puzzles_and_lists_the_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _file_with_bad_rows(tmp_path)
    runs = tmp_path / "runs"
    assert main(["run", "--model", "builtin/oracle", "--suite", str(bad), "--runs-dir", str(runs), "--quiet", "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    run = Path(captured.out.strip().splitlines()[-1])
    header = json.loads((run / "run.json").read_text())
    assert header["skip_invalid"] is True and header["n_skipped"] == 3 and header["n_puzzles"] == 5
    skipped = header["skipped"]
    assert skipped[0].startswith(f"{bad}:3: puzzle 'bad1': invalid FEN")
    assert skipped[1].startswith(f"{bad}:6: row has 1 field(s)") and "(3000 chars)" in skipped[1] and len(skipped[1]) < 300
    assert "duplicate puzzle id" in skipped[2]
    assert "skipped 3 invalid puzzle row(s)" in captured.err
    assert json.loads((run / "results.json").read_text())["overall"]["n"] == 5

    # The Python API: the same option, the same list; the run is the same configuration, so it resumes.
    player = CountingPlayer()
    result = chesseval.evaluate(chesseval.RunConfig(model="builtin/oracle", suite=str(bad), runs_dir=runs, skip_invalid=True), player=player)
    assert result.path == run and result.asked == 0 and player.calls == 0
    assert json.loads((run / "run.json").read_text())["skipped"] == skipped


def test_skip_invalid_with_no_valid_puzzle_still_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "allbad.csv"
    bad.write_text(f"PuzzleId,FEN,Moves\na,{FEN},a1a9 h1h2\nb,{FEN},zz\n")
    assert main(["run", "--model", "builtin/oracle", "--suite", str(bad), "--runs-dir", str(tmp_path / "runs"), "--skip-invalid"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no valid puzzle: all 2 are invalid (first, line 2:" in err
    with pytest.raises(PuzzleFormatError, match="empty file"):
        load_puzzles(_bad_files(tmp_path)["empty csv"][0], skipped=[])
