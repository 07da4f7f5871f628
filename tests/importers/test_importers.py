"""``chesseval import jsonl``: foreign answers re-parsed, re-judged, written as ordinary runs.

Answers here are written by the tests (no third-party text in the repo); the test over
``../shared/data/llm_answers.jsonl`` checks the accounting and the time on the real file.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import chess
import pytest

from chesseval.analysis.leaderboard import load_runs_dir
from chesseval.cli import main
from chesseval.core.puzzles import load_puzzles
from chesseval.core.records import load_run
from chesseval.core.results import summarize
from chesseval.core.suites import resolve_suite
from chesseval.importers import ImportFormatError, import_logs
from chesseval.importers.agreement import source_agreement

# A mate in 2 from the bundled starter suite (position after the setup move): Rf8, Ka6 forced, Ra8#.
MATE2_FEN = "8/k7/3N2P1/2Pp4/3P4/4P3/8/3K1R2 w - - 5 46"
MATE2_LINE = "f1f8 a7a6 f8a8"
# Another: Qb3+ Ka5 Ra2#; after Ka6 instead, Ra2 mates too.
ALT_FEN = "8/8/4Q3/1k6/8/8/2R5/6K1 w - - 21 74"
ALT_LINE = "e6b3 b5a5 c2a2"
# Fool's mate: after 1. f3 e5 2. g4, Black mates with Qh4#.
FOOL_BEFORE = "1. f3 e5 2. g4"
FOOL_FEN = "rnbqkbnr/pppp1ppp/8/4p3/6P1/5P2/PPPPP2P/RNBQKBNR b KQkq - 0 2"
START = chess.STARTING_FEN
BENCH = "someone/line-bench"
GAMES = "someone/game-harness"
PGN_BENCH = "someone/pgn-bench"


def _line(model: str, text: str, pid: str = "M2", **meta: object) -> dict[str, object]:
    return {"fen": MATE2_FEN, "raw_response": text, "expected": "f1f8", "model": model, "source": f"{BENCH}:results/{model}.json",
            "meta": {"puzzle_id": pid, "expected_line": MATE2_LINE, "rating_bucket": "1200-1600", "track": "mateIn2", "prompt_asks": "UCI move line", **meta}}  # fmt: skip


def _records() -> list[dict[str, object]]:
    return [
        _line("a/one", "f1f8 a7a6 f8a8"),                         # correct, both moves
        {**_line("a/two", "Qb3+ and if Ka6 then Ra2#: e6b3 b5a6 c2a2", pid="ALT"), "fen": ALT_FEN, "expected": "e6b3",
         "meta": {"puzzle_id": "ALT", "expected_line": ALT_LINE, "prompt_asks": "UCI move line"}},  # predicted another reply, still mates
        _line("a/three", "f1f8"),                                 # the line stops after the first move
        _line("a/four", "f1f2 a7a6 f2a2"),                        # wrong first move
        _line("a/one", "Answer: z9z9 is not a move, I give up"),  # a second puzzle for a/one: no move
        {"fen": FOOL_FEN, "moves_before": FOOL_BEFORE, "raw_response": f"{FOOL_BEFORE} Qh4#", "expected": "d8h4", "model": "a/one",
         "source": f"{PGN_BENCH}:x.csv", "meta": {"puzzle_id": "FOOL", "rating": 650, "prompt_asks": "repeat game PGN then one new SAN move"}},  # fmt: skip
        {"fen": FOOL_FEN, "moves_before": FOOL_BEFORE, "raw_response": "Qg5", "expected": "d8h4", "model": "a/two",
         "source": f"{PGN_BENCH}:x.csv", "meta": {"puzzle_id": "FOOL", "rating": 650, "prompt_asks": "repeat game PGN then one new SAN move"}},  # fmt: skip
        {"fen": START, "raw_response": "I choose Nf3.", "model": "g/one", "source": f"{GAMES}:game_1.json",
         "meta": {"kind": "game_move", "harness_extracted_move": "Nf3", "prompt_asks": "choose a move"}},  # fmt: skip
        {"fen": START, "raw_response": "e4 is tempting, but the answer is d4", "model": "g/one", "source": f"{GAMES}:game_2.json",
         "meta": {"kind": "game_move", "harness_extracted_move": "e4", "prompt_asks": "choose a move"}},  # fmt: skip
        {"fen": START, "raw_response": "Qxf7", "model": "g/one", "source": f"{GAMES}:game_3.json",
         "meta": {"kind": "game_move", "harness_extracted_move": "Qxf7", "prompt_asks": "choose a move"}},  # fmt: skip
    ]


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def imported(tmp_path: Path):  # type: ignore[no-untyped-def]
    records = _records()
    # The second a/one answer on the line bench is another puzzle id at the same position.
    records[4]["meta"]["puzzle_id"] = "M2b"  # type: ignore[index]
    log = _write(tmp_path / "answers.jsonl", records)
    return import_logs("jsonl", log, out=tmp_path / "runs"), tmp_path


def _by_model(result, source: str) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[dict]] = {}
    for run in result.runs:
        if run.source == source:
            out[run.model] = load_run(run.path).records
    return out


def test_every_answer_is_in_exactly_one_record(imported) -> None:  # type: ignore[no-untyped-def]
    result, _ = imported
    assert result.n_input == 10 and result.n_records == 10
    wheres = [r["origin"]["where"] for run in result.runs for r in load_run(run.path).records]
    assert sorted(wheres) == list(range(1, 11))
    assert sum(result.verdicts.values()) == 10
    assert result.modes == {"line": 5, "single": 2, "unjudged": 3}
    # One run per (source, model, prompt style), each named replay/<model>.
    keys = Counter((r.source, r.model, r.style) for r in result.runs)
    assert all(v == 1 for v in keys.values()) and len(keys) == 7
    assert {load_run(r.path).header["model"] for r in result.runs} >= {"replay/a/one", "replay/g/one"}


def test_whole_line_answers_are_judged_move_by_move(imported) -> None:  # type: ignore[no-untyped-def]
    result, _ = imported
    line = {m: {r["puzzle_id"]: r for r in recs} for m, recs in _by_model(result, BENCH).items()}
    one = line["a/one"]["M2"]
    assert (one["verdict"], one["solver_moves_found"], one["first_move_correct"]) == ("correct", 2, True)
    assert one["judging"]["mode"] == "line" and "whole solution line" in one["judging"]["why"]
    assert [t["outcome"] for t in one["turns"]] == ["continue", "correct"]
    # The opponent's reply is the solution's: a wrong predicted reply does not matter when the
    # solver's next move still works after the real one.
    two = line["a/two"]["ALT"]
    assert two["verdict"] == "correct" and two["turns"][1]["played_uci"] == "c2a2"
    assert two["turns"][1]["from_line"] is True  # judged by the runner's own whole-line mode
    three = line["a/three"]["M2"]
    # As in a whole-line run: the line ends before the second solver move, which is then no move.
    assert (three["verdict"], three["solver_moves_found"], three["first_move_correct"]) == ("no_move", 1, True)
    assert "ends before" in three["turns"][1]["parse_detail"]
    four = line["a/four"]["M2"]
    assert (four["verdict"], four["solver_moves_found"], four["first_move_correct"]) == ("wrong", 0, False)
    assert line["a/one"]["M2b"]["verdict"] in ("no_move", "illegal")
    # First-move accuracy beside the strict solve rate.
    overall = summarize([three, four, one])["overall"]  # solved: one; first move right: one, three
    assert (overall["solved"], overall["first_move_correct"]) == (1, 2)


def test_game_continuation_is_read_with_the_game_on_the_stack(imported) -> None:  # type: ignore[no-untyped-def]
    result, _ = imported
    pgn = {m: recs[0] for m, recs in _by_model(result, PGN_BENCH).items()}
    assert pgn["a/one"]["verdict"] == "correct" and pgn["a/one"]["turns"][0]["played_uci"] == "d8h4"
    assert pgn["a/two"]["verdict"] == "wrong" and pgn["a/two"]["judging"]["mode"] == "single"
    assert pgn["a/one"]["rating"] == 650 and pgn["a/one"]["rating_source"] == "lichess"


def test_game_moves_are_unjudged_and_compared_with_the_harness(imported, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    result, tmp = imported
    [games] = [r for r in result.runs if r.source == GAMES]
    records = load_run(games.path).records
    assert Counter(r["verdict"] for r in records) == {"unjudged": 2, "illegal": 1}
    results = json.loads((games.path / "results.json").read_text())
    assert results["overall"]["n"] == 1  # unjudged answers are neither solves nor misses
    agreement = source_agreement(records)
    # Both read the illegal Qxf7 as no legal move: that is agreement.
    assert (agreement.moves_compared, agreement.moves_differ) == (3, 1)
    assert [d.source for d in agreement.disagreements] == ["'e4'"]
    # compare shows the same, with the disagreements listed.
    line_runs = [r for r in result.runs if r.source == BENCH]
    assert main(["compare", str(games.path), str(line_runs[0].path), "--force"]) == 0
    out = capsys.readouterr().out
    assert "against its source harness: move read differs on 1 of 3" in out
    assert "source move 'e4', chesseval d4" in out


def test_suite_per_source_with_hash_and_pairwise_compare(imported, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    result, tmp = imported
    manifest = tmp / "runs" / "suites" / "someone-line-bench.json"
    data = json.loads(manifest.read_text())
    assert data["source"]["harness"] == BENCH and len(data["source"]["log_sha256"]) == 64
    suite = resolve_suite(manifest)
    puzzles = {p.id: p for p in load_puzzles(suite.path)}
    assert set(puzzles) == {"M2", "M2b", "ALT"}
    assert puzzles["M2"].line == tuple(MATE2_LINE.split()) and not puzzles["M2"].has_setup_move
    assert (puzzles["M2"].rating, puzzles["M2"].rating_deviation, puzzles["M2"].rating_source) == (1400, 115, "bucket")
    runs = {r.model: r for r in result.runs if r.source == BENCH}
    headers = [load_run(r.path).header for r in runs.values()]
    assert {h["suite"]["sha256"] for h in headers} == {suite.sha256}
    assert main(["compare", str(runs["a/one"].path), str(runs["a/four"].path)]) == 0
    out = capsys.readouterr().out
    assert "on 1 shared puzzles" in out and "exact McNemar p = 1" in out
    assert "different puzzle suites" not in out


def test_report_breakdown_history_html_work_on_imported_runs(imported, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    result, tmp = imported
    run = next(r for r in result.runs if r.source == BENCH and r.model == "a/one")
    assert main(["report", str(run.path)]) == 0
    assert "replay/a/one" in capsys.readouterr().out
    assert main(["breakdown", str(run.path), "--by", "theme"]) == 0
    assert "mateIn2" in capsys.readouterr().out
    assert main(["history", str(tmp / "runs"), "--plot", str(tmp / "h.png")]) == 0
    assert "replay/g/one" in capsys.readouterr().out
    html = tmp / "r.html"
    assert main(["report", str(run.path), "--html", str(html)]) == 0
    assert "<svg" in html.read_text() or "data:image/svg" in html.read_text()


def test_importing_again_replaces_the_runs(imported) -> None:  # type: ignore[no-untyped-def]
    result, tmp = imported
    again = import_logs("jsonl", tmp / "answers.jsonl", out=tmp / "runs")
    assert len(load_runs_dir(tmp / "runs")) == len(again.runs) == len(result.runs)


def test_same_puzzle_twice_for_one_model_goes_to_a_second_attempt(tmp_path: Path) -> None:
    records = [_line("a/one", "f1f8 a7a6 f8a8"), _line("a/one", "f1f2")]
    result = import_logs("jsonl", _write(tmp_path / "a.jsonl", records), out=tmp_path / "runs")
    assert sorted((r.attempt, r.n) for r in result.runs) == [(1, 1), (2, 1)]
    assert result.n_records == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", ":1: not JSON"),
        (json.dumps({"fen": "bad fen", "raw_response": "e4"}), ":1: invalid FEN 'bad fen'"),
        (json.dumps({"fen": START, "raw_response": None}), ":1: missing or non-string 'raw_response': None"),
        (json.dumps({"fen": START, "raw_response": "e4", "expected": "e2e5"}), ":1: expected move 'e2e5' is not legal"),
        (json.dumps({"fen": START, "raw_response": "e4", "expected": "e2e4", "meta": {"rating_bucket": "hard"}}), ":1: meta.rating_bucket 'hard'"),
        (json.dumps({"fen": FOOL_FEN, "raw_response": "Qh4#", "moves_before": "1. e4 e5"}), ":1: moves_before does not lead to fen"),
    ],
)
def test_bad_lines_are_one_line_errors_before_anything_is_written(tmp_path: Path, line: str, message: str) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        import_logs("jsonl", log, out=tmp_path / "runs")
    assert message in str(info.value) and str(log) in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "runs").exists()


def test_cli_import_prints_the_accounting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _write(tmp_path / "a.jsonl", _records()[:4])
    assert main(["import", "jsonl", str(log), "--out", str(tmp_path / "runs"), "--suite-name", "mine", "--json", str(tmp_path / "acc.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("imported 4 answers into 4 runs")
    assert (tmp_path / "runs" / "suites" / "mine.json").is_file()
    assert json.loads((tmp_path / "acc.json").read_text())["n_records"] == 4
    assert main(["import", "jsonl", str(tmp_path / "missing.jsonl")]) == 1


@pytest.mark.shared
def test_all_of_llm_answers_is_accounted_for_in_under_a_minute(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "llm_answers.jsonl"
    n_lines = sum(1 for line in path.open(encoding="utf-8") if line.strip())
    t0 = time.perf_counter()
    result = import_logs("jsonl", path, out=tmp_path / "runs")
    elapsed = time.perf_counter() - t0
    assert elapsed < 60, f"import took {elapsed:.1f} s"
    assert result.n_input == result.n_records == n_lines
    seen = Counter()
    for run in result.runs:
        records = load_run(run.path).records
        assert len({r["puzzle_id"] for r in records}) == len(records)  # no puzzle twice in a run
        seen.update(r["origin"]["where"] for r in records)
    assert len(seen) == n_lines and set(seen.values()) == {1}
    assert {r.source for r in result.runs} == {"vorahardik7/chess-bench", "vorahardik7/chessbench", "AllenJue/LLM-Chess-Puzzles", "hunterchen7/chessbench-llm"}


# -- Inspect logs written by hand in the documented shape (no inspect_ai needed) ------------------
# The real round trip, with a log Inspect itself wrote, is tests/importers/test_importers_inspect.py.


def _inspect_log(samples: list[dict[str, object]]) -> dict[str, object]:
    return {"version": 2, "status": "success", "eval": {"task": "mates", "model": "openai/some-model"}, "samples": samples}


def _sample(sid: str, completion: str, value: str, **metadata: object) -> dict[str, object]:
    return {"id": sid, "epoch": 1, "input": "...", "target": "f1f8", "metadata": metadata,
            "messages": [{"role": "user", "content": "Find the mate."}, {"role": "assistant", "content": completion}],
            "output": {"completion": completion, "choices": [{"message": {"role": "assistant", "content": completion}, "stop_reason": "stop"}],
                       "usage": {"input_tokens": 10, "output_tokens": 3}},
            "scores": {"match": {"value": value, "answer": completion}}}  # fmt: skip


def test_inspect_json_and_eval_archive_in_the_documented_shape(tmp_path: Path) -> None:
    import zipfile

    samples = [
        _sample("a", "Answer: f1f8 a7a6 f8a8", "I", fen=MATE2_FEN, expected_line=MATE2_LINE, whole_line=True, rating=1500),
        _sample("b", "Rf8", "C", fen=MATE2_FEN, expected_line=MATE2_LINE),
    ]
    log = _inspect_log(samples)
    json_path = tmp_path / "log.json"
    json_path.write_text(json.dumps(log), encoding="utf-8")
    eval_path = tmp_path / "log.eval"
    with zipfile.ZipFile(eval_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("header.json", json.dumps({k: v for k, v in log.items() if k != "samples"}))
        for s in samples:
            zf.writestr(f"samples/{s['id']}_epoch_1.json", json.dumps(s))
    for path in (json_path, eval_path):
        result = import_logs("inspect", path, out=tmp_path / f"runs_{path.suffix[1:]}")
        [run] = result.runs
        records = {r["puzzle_id"]: r for r in load_run(run.path).records}
        assert (records["a"]["verdict"], records["a"]["judging"]["mode"], records["a"]["solver_moves_found"]) == ("correct", "line", 2)
        assert (records["b"]["verdict"], records["b"]["judging"]["mode"]) == ("correct", "single")
        assert records["a"]["turns"][0]["messages"] == [{"role": "user", "content": "Find the mate."}]
        assert records["a"]["usage"]["output_tokens"] == 3
        # The match scorer said 'I' for a right answer: compare lists it.
        agreement = source_agreement(load_run(run.path).records)
        assert (agreement.verdicts_compared, agreement.verdicts_differ) == (2, 1)
        assert agreement.disagreements[0].puzzle_id == "a"


def test_inspect_log_errors_name_the_sample(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_inspect_log([_sample("s7", "Rf8", "C")])), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"bad\.json:s7: sample metadata has no 'fen' string: None"):
        import_logs("inspect", bad, out=tmp_path / "runs")
    bad.write_text(json.dumps(_inspect_log([_sample("s8", "Rf8", "C", fen=START, moves=["e2e5", "e7e5"])])), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"bad\.json:s8: setup move 'e2e5' is not legal"):
        import_logs("inspect", bad, out=tmp_path / "runs")
    bad.write_text(json.dumps({"not": "a log"}), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"not an Inspect log"):
        import_logs("inspect", bad, out=tmp_path / "runs")
    (tmp_path / "x.eval").write_bytes(b"not a zip")
    with pytest.raises(ImportFormatError, match=r"unreadable \.eval archive"):
        import_logs("inspect", tmp_path / "x.eval", out=tmp_path / "runs")
