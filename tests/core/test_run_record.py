"""The typed run record: every line ever written reads back and writes out byte for byte, keys
this version does not know survive a rewrite, and a bad line is reported with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chesseval.core.records import RECORD_SCHEMA, RunDir, RunRecord, TurnRecord, read_records
from chesseval.errors import RunError

REFERENCE = Path(__file__).resolve().parents[2] / "runs" / "reference"


def test_reference_records_round_trip_byte_for_byte() -> None:
    files = sorted(REFERENCE.glob("*/records.jsonl"))
    if not files:
        pytest.skip("no reference runs in this checkout")
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        records = list(read_records(path))
        assert len(records) == len(lines)
        for line, rec in zip(lines, records, strict=True):
            assert rec.to_line() == line
            assert rec == json.loads(line)  # the read-only mapping view equals the JSON object


def test_typed_fields_and_mapping_view() -> None:
    rec = RunRecord.from_json({"puzzle_id": 7, "verdict": "wrong", "rating": 1500, "themes": ["fork"],
                               "turns": [{"index": 0, "outcome": "wrong", "played_uci": "e2e4"}]})  # fmt: skip
    assert rec.puzzle_id == "7" and rec.themes == ("fork",) and isinstance(rec.turns[0], TurnRecord)
    assert rec.turns[0].played_uci == "e2e4" and rec["turns"][0]["played_uci"] == "e2e4"
    assert rec.get("fen") is None and "fen" not in rec.to_json()  # absent stays absent
    assert not rec.is_solved and not rec.is_error
    with pytest.raises(AttributeError):
        rec.verdict = "correct"  # type: ignore[misc]


def test_unknown_keys_survive_a_rewrite(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    new = {"schema": RECORD_SCHEMA, "puzzle_id": "a", "verdict": "error", "source_grading": {"by": "import"},
           "turns": [{"index": 0, "outcome": "error", "error": "E", "rule": "san", "attempts": [{"cost_usd": 0.01}]}]}  # fmt: skip
    run.append(new)
    run.append({"puzzle_id": "b", "verdict": "correct"})  # a record from before "schema"
    run.close()
    records = run.records()
    assert records[0].other == {"source_grading": {"by": "import"}} and records[0].turns[0].other["rule"] == "san"
    run.rewrite_records(records)
    assert [json.loads(line) for line in run.records_path.read_text().splitlines()] == [new, {"puzzle_id": "b", "verdict": "correct"}]


def test_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text('{"puzzle_id": "a", "verdict": "correct"}\n{"puzzle_id": "b"}\n', encoding="utf-8")
    with pytest.raises(RunError, match=r"records.jsonl:2: bad record \(record has no 'verdict'\)"):
        list(read_records(path))
    path.write_text(json.dumps({"schema": RECORD_SCHEMA + 1, "puzzle_id": "a", "verdict": "correct"}) + "\n", encoding="utf-8")
    with pytest.raises(RunError, match=r":1: bad record \(record schema .* is newer"):
        list(read_records(path))
