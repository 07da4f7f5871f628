"""Puzzle loading: Lichess semantics, formats, and bad input reported as file:line: reason."""

from __future__ import annotations

import io
from pathlib import Path

import chess
import pytest
import zstandard

from chesseval.errors import PuzzleFormatError
from chesseval.core.puzzles import Puzzle, iter_puzzles, load_puzzles, validate_puzzles, write_lichess_csv

HEADER = "PuzzleId,FEN,Moves,Rating,RatingDeviation,Popularity,NbPlays,Themes,GameUrl,OpeningTags\n"
# Lichess puzzle 00sHx as on the database page: Black sets up with Kd7, White mates in 2.
ROW_00sHx = "00sHx,q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17,e8d7 a2e6 d7d8 f7f8,1760,80,83,72,mate mateIn2 middlegame short,https://lichess.org/yyznGmXs/black#34,Italian_Game Italian_Game_Classical_Variation\n"


def write(tmp_path: Path, text: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lichess_semantics(tmp_path: Path) -> None:
    (p,) = load_puzzles(write(tmp_path, HEADER + ROW_00sHx))
    assert p.id == "00sHx"
    assert p.fen.split()[1] == "b"  # stored FEN: the opponent (Black) to move
    assert p.setup_move == "e8d7"
    assert p.solver == chess.WHITE  # opposite of the FEN's side to move
    assert p.board().turn == chess.WHITE
    assert p.solution == ("a2e6", "f7f8")
    assert p.line == ("a2e6", "d7d8", "f7f8")
    assert p.rating == 1760 and p.nb_plays == 72
    assert "mateIn2" in p.themes
    assert p.opening_tags == ("Italian_Game", "Italian_Game_Classical_Variation")


def test_ids_stay_strings_and_no_header(tmp_path: Path) -> None:
    row = "00008,r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7K b - - 0 24,f2g3 e6e7 b2b1 b3c1 b1c1 h6c1,1784,77,95,9822,crushing hangingPiece long middlegame,https://lichess.org/787zsVup/black#48\n"
    (p,) = load_puzzles(write(tmp_path, row))  # no header, 9 columns (older dump)
    assert p.id == "00008"
    assert p.opening_tags == ()


def test_columns_by_header_name_and_extra_columns(tmp_path: Path) -> None:
    text = "Moves,PuzzleId,Extra,FEN,Rating\ne8d7 a2e6 d7d8 f7f8,00sHx,zzz,q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17,1760\n"
    (p,) = load_puzzles(write(tmp_path, text))
    assert p.id == "00sHx" and p.rating == 1760 and p.solution == ("a2e6", "f7f8")


def test_zst(tmp_path: Path) -> None:
    path = tmp_path / "p.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress((HEADER + ROW_00sHx).encode()))
    (p,) = load_puzzles(path)
    assert p.id == "00sHx"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("bad01,not a fen,e2e4 e7e5,1500,80,90,100,,,\n", "invalid FEN 'not a fen'"),
        ("bad02,q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17,e8d7 a2e7,1500,80,90,100,,,\n", "illegal move 'a2e7' (move 2)"),
        ("bad03,q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17,e8d7 a2e6,abc,80,90,100,,,\n", "Rating 'abc' is not a number"),
        ("bad04,q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17,e8d7,1500,80,90,100,,,\n", "need at least 2"),
        ("bad05,q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17,e8d7 0000,1500,80,90,100,,,\n", "'0000'"),
        ("bad06,q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17,e8d7 zz99,1500,80,90,100,,,\n", "invalid UCI move 'zz99'"),
    ],
)
def test_bad_rows_name_file_line_and_value(tmp_path: Path, row: str, needle: str) -> None:
    path = write(tmp_path, HEADER + ROW_00sHx + row)
    with pytest.raises(PuzzleFormatError) as info:
        load_puzzles(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3: ")
    assert needle in message
    assert "\n" not in message
    assert isinstance(info.value, ValueError)


def test_validate_collects_every_problem(tmp_path: Path) -> None:
    text = HEADER + ROW_00sHx + "x1,bad fen,e2e4 e7e5,1,1,1,1,,,\n" + ROW_00sHx.replace("00sHx", "ok2") + "x3,8/8/8/8/8/8/8/K6k w - - 0 1,a1a2 h1h2,zz,1,1,1,,,\n"
    n, errors = validate_puzzles(write(tmp_path, text))
    assert n == 2
    assert [e.line for e in errors] == [3, 5]


def test_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(PuzzleFormatError, match="duplicate puzzle id '00sHx'"):
        load_puzzles(write(tmp_path, HEADER + ROW_00sHx + ROW_00sHx))


def test_epd(tmp_path: Path) -> None:
    path = write(tmp_path, '# comment\n2rr3k/pp3pp1/1nnqbN1p/3pN3/2pP4/2P3Q1/PPB4P/R4RK1 w - - bm Qg6; id "WAC.001";\nr1b1k2r/pp3ppp/8/8/8/8/PP3PPP/R3K2R w KQkq - bm O-O Rd1; id "X.2"; elo 1500;\n', "t.epd")
    a, b = load_puzzles(path)
    assert a.id == "WAC.001" and not a.has_setup_move and a.solver == chess.WHITE
    assert a.solution == ("g3g6",) and a.setup_move is None and a.rating is None
    assert b.solution == ("e1g1",) and b.alternatives == ("a1d1",) and b.rating == 1500


def test_epd_without_bm(tmp_path: Path) -> None:
    with pytest.raises(PuzzleFormatError, match=r"t\.epd:1: .*no 'bm'"):
        load_puzzles(write(tmp_path, "8/8/8/8/8/8/8/K6k w - - id \"a\";\n", "t.epd"))


def test_pgn(tmp_path: Path) -> None:
    pgn = '[Event "x"]\n[FEN "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"]\n[SetUp "1"]\n[PuzzleId "br1"]\n\n1. Ra8# *\n\n'
    pgn += '[Event "y"]\n[FEN "q3k1nr/1pp1nQpp/3p4/1P2p3/4P3/B1PP1b2/B5PP/5K2 b k - 0 17"]\n[SetUp "1"]\n[PuzzleSetup "1"]\n\n17... Kd7 18. Be6+ Kd8 19. Qf8# *\n'
    a, b = load_puzzles(write(tmp_path, pgn, "t.pgn"))
    assert a.id == "br1" and a.solution == ("a1a8",) and a.solver == chess.WHITE
    assert b.setup_move == "e8d7" and b.solution == ("a2e6", "f7f8")


def test_pgn_without_fen(tmp_path: Path) -> None:
    with pytest.raises(PuzzleFormatError, match="no FEN header"):
        load_puzzles(write(tmp_path, '[Event "x"]\n\n1. e4 e5 *\n', "t.pgn"))


def test_round_trip(tmp_path: Path) -> None:
    puzzles = load_puzzles(write(tmp_path, HEADER + ROW_00sHx))
    buf = io.StringIO()
    write_lichess_csv(puzzles, buf)
    assert load_puzzles(write(tmp_path, buf.getvalue(), "back.csv")) == puzzles


def test_shared_sample_all_valid(lichess_sample: Path) -> None:
    n, errors = validate_puzzles(lichess_sample)
    assert errors == []
    assert n == 20857


def test_shared_sample_solver_colour(lichess_sample: Path) -> None:
    for i, p in enumerate(iter_puzzles(lichess_sample)):
        start = chess.Board(p.fen)
        assert p.solver != start.turn
        assert p.board().turn == p.solver
        if i > 500:
            break


def test_pgn_samples_are_not_puzzles(shared_data: Path) -> None:
    # Ordinary games have no FEN header: each is reported, none is silently taken as a puzzle.
    n, errors = validate_puzzles(shared_data / "pgn" / "molinari-bordais-1979.pgn")
    assert n == 0 and len(errors) == 1 and "no FEN header" in str(errors[0])


def test_puzzle_repr_evaluates() -> None:
    p = Puzzle(id="a", fen=chess.STARTING_FEN, moves=("e2e4", "e7e5"))
    assert eval(repr(p)) == p  # noqa: S307


def test_pgn_errors_name_the_line(tmp_path: Path) -> None:
    pgn = '[Event "ok"]\n[FEN "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"]\n\n1. Ra8# *\n\n\n[Event "bad"]\n[FEN "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"]\n\n1. Ra9 *\n'
    n, errors = validate_puzzles(write(tmp_path, pgn, "t.pgn"))
    assert n == 1 and len(errors) == 1
    assert str(errors[0]).startswith(f"{tmp_path / 't.pgn'}:7: game 2")


def test_truncated_zst_is_an_error(tmp_path: Path) -> None:
    data = zstandard.ZstdCompressor().compress((HEADER + ROW_00sHx * 1).encode() * 1)
    path = tmp_path / "p.csv.zst"
    path.write_bytes(data[: len(data) - 5])
    with pytest.raises(PuzzleFormatError, match="p.csv.zst"):
        load_puzzles(path)
