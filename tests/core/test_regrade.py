"""chesseval parse / chesseval.regrade: re-grading stored answers of other benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

import chess
import pytest

from chesseval.cli import main
from chesseval.core.regrade import AnswerFileError, agreement, board_of, regrade_file

FOOL_FEN = "rnbqkbnr/pppp1ppp/8/4p3/6P1/5P2/PPPPP2P/RNBQKBNR b KQkq - 0 2"
ITALIAN_MOVETEXT = "1. e4 e5 2. Nf3 Nc6 3. Bc4 Bc5 4. c3 Nf6"
ITALIAN_FEN = "r1bqk2r/pppp1ppp/2n2n2/2b1p3/2B1P3/2P2N2/PP1P1PPP/RNBQK2R w KQkq - 1 5"

RECORDS = [
    {"fen": FOOL_FEN, "raw_response": "d8h4 g2g3 h4g3", "label": "move", "intended_uci": "d8h4", "difficulty": "easy"},
    {"fen": ITALIAN_FEN, "moves_before": ITALIAN_MOVETEXT, "raw_response": ITALIAN_MOVETEXT + " 5. d4 exd4",
     "label": "move", "intended_uci": "d2d4", "difficulty": "medium"},
    {"fen": ITALIAN_FEN, "moves_before": ITALIAN_MOVETEXT, "raw_response": ITALIAN_MOVETEXT + " 5. Nc6",
     "label": "illegal", "intended_text": "Nc6", "difficulty": "medium"},
    {"fen": FOOL_FEN, "raw_response": "Let me look at the queen check on h4 and whether", "label": "none",
     "difficulty": "hard"},
    # a label the parser does not share, to show a disagreement
    {"fen": FOOL_FEN, "raw_response": "Answer: Qh4#", "label": "move", "intended_uci": "e5e4", "difficulty": "hard"},
]


def _write(path: Path, records: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_board_of_replays_the_game_onto_the_stack() -> None:
    board = board_of({"fen": ITALIAN_FEN, "moves_before": ITALIAN_MOVETEXT})
    assert len(board.move_stack) == 8 and board.board_fen() == chess.Board(ITALIAN_FEN).board_fen()
    with pytest.raises(ValueError, match="does not lead to fen"):
        board_of({"fen": FOOL_FEN, "moves_before": ITALIAN_MOVETEXT})


def test_regrade_file_and_agreement(tmp_path: Path) -> None:
    rows = regrade_file(_write(tmp_path / "a.jsonl", RECORDS))
    assert [r.agrees for r in rows] == [True, True, True, True, False]
    assert agreement(rows) == {"easy": (1, 1), "medium": (2, 2), "hard": (1, 2)}
    assert rows[1].parsed.rule == "continuation"


def test_cli_parse_prints_moves_agreement_and_disagreements(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(_write(tmp_path / "a.jsonl", RECORDS))]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "1: move Qh4# (d8h4) [line-of-play]  ok"
    assert lines[1] == "2: move d4 (d2d4) [continuation]  ok"
    assert lines[2] == "3: illegal 'Nc6' [continuation]  ok"
    assert lines[3] == "4: none [uncommitted]  ok"
    assert "  hard          1/2     50.0%" in out and "  medium        2/2    100.0%" in out
    assert "1 disagreement(s):" in out
    assert "line 5 (hard): label move; parsed move Qh4# (d8h4) [marker]" in out


def test_cli_parse_without_labels_prints_one_move_per_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = [{"fen": r["fen"], "raw_response": r["raw_response"]} for r in RECORDS[:1]]
    assert main(["parse", str(_write(tmp_path / "u.jsonl", records))]) == 0
    assert capsys.readouterr().out == "1: move Qh4# (d8h4) [line-of-play]\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f'{{"fen": "{FOOL_FEN}", "raw_response": 3}}', "raw_response must be a string, got 3"),
        ('{"fen": "not a fen", "raw_response": "e4"}', "bad fen 'not a fen'"),
        (f'{{"fen": "{FOOL_FEN}", "raw_response": "e4", "label": "maybe"}}', "label must be one of"),
        (f'{{"fen": "{FOOL_FEN}", "moves_before": "1. e4 e5 2. Ke3", "raw_response": "e4"}}', "'Ke3' cannot be played"),
        ("[1, 2]", "not a JSON object"),
        ("{oops", "not a JSON object"),
    ],
)
def test_bad_records_are_one_line_errors_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n\n" + line + "\n")
    with pytest.raises(AnswerFileError, match=f"bad.jsonl:3: .*{message[:20]}"):
        regrade_file(path)
    assert main(["parse", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("chesseval: error: ") and f"{path}:3: " in err and "\n" not in err
