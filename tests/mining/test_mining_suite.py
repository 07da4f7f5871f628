"""The shipped default suite: it validates, its manifest matches, and Stockfish re-verifies it.

Re-verification at a small budget (two engines, 8k nodes per solver move): after every solver
move the solver still has at least +150 cp (on the miner's cp scale, recorded in the manifest: Stockfish
15.1's cp times 361/208, see ``chesseval.mining.miner``) or a mate by Stockfish's own look, and every mate
puzzle's line ends in checkmate. The miner used 100k+ nodes and the only-move test, so this is a
cheap independent check that no line was corrupted or mis-ordered, not a re-run of the miner.
A puzzle that fails at 8k nodes is looked at again at the miner's 100k before it counts as a
problem: the hardest puzzles are the ones a shallow search misjudges (e.g. jxr7w4ri: +116 at 8k,
+555 at 100k).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import chess
import chess.engine
import pytest

from chesseval.core.puzzles import Puzzle, RatingSource, load_puzzles, validate_puzzles
from chesseval.core.suites import file_sha256
from chesseval.mining.miner import scale_score

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "puzzles" / "default.csv"
MANIFEST = ROOT / "puzzles" / "default.json"
VERIFY_NODES = 8_000
RECHECK_NODES = 100_000


def _suite() -> list[Puzzle]:
    if not MANIFEST.exists() or json.loads(MANIFEST.read_text()).get("generator") is None:
        pytest.skip("no mined default suite in this checkout")
    return load_puzzles(SUITE)


def test_default_suite_validates_and_matches_manifest():
    puzzles = _suite()
    n, errors = validate_puzzles(SUITE)
    assert not errors and n == len(puzzles)
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["sha256"] == file_sha256(SUITE)
    assert manifest["count"] == len(puzzles)
    assert manifest["command"].startswith("chesseval puzzles build-suite ")
    calibrated = "calibration" in manifest
    for p in puzzles:
        assert p.rating is not None and p.rating_source == RatingSource.ESTIMATED
        if calibrated:  # on the Lichess scale from the reference ladder, with the posterior SD as RD
            assert 0 < p.rating < 4000 and p.rating_deviation is not None and 50 <= p.rating_deviation <= 400
        else:
            assert 600 <= p.rating < 2600
        assert p.n_solver_moves >= 1
        assert p.game_url and p.game_url.startswith("chesseval:selfplay/")
        if p.n_solver_moves == 1:
            assert "mate" in p.themes  # one-move puzzles must be mates in one


def test_default_suite_records_its_1m_node_verification_and_calibration():
    puzzles = _suite()
    manifest = json.loads(MANIFEST.read_text())
    if "verification" not in manifest:
        pytest.skip("this default suite has not been re-verified (scripts/verify_suite.py)")
    v = manifest["verification"]
    assert v["nodes"] >= 1_000_000 and v["multipv"] == 2 and v["engine"].startswith("Stockfish") and v["date"]
    assert v["cp_scale"] == pytest.approx(361 / 208)
    assert v["checked"] == v["passed"] + v["failed"] == len(v["dropped_ids"]) + v["passed"]
    assert v["unchecked"] == (0 if v["complete"] else v["unchecked"]) and v["unchecked"] <= len(puzzles)
    assert not {p.id for p in puzzles} & set(v["dropped_ids"])  # every failure is gone
    assert len(puzzles) == v["passed"] + v["unchecked"]
    if "calibration" in manifest:
        c = manifest["calibration"]
        held = [row for row in c["validation"] if row["held_out"]]
        assert held and not any(row["used"] for row in held)
        assert {p["player"] for p in c["players"] if p["used"]}.isdisjoint(c["options"]["holdout"])


def test_default_suite_reverified_by_stockfish(stockfish_path):
    puzzles = _suite()
    cp_scale = float(json.loads(MANIFEST.read_text())["generator"]["mining"].get("cp_scale", 1.0))
    local = threading.local()
    engines: list[chess.engine.SimpleEngine] = []
    lock = threading.Lock()

    def engine() -> chess.engine.SimpleEngine:
        if not hasattr(local, "engine"):
            eng = chess.engine.SimpleEngine.popen_uci(stockfish_path)
            eng.configure({"Threads": 1, "Hash": 16})
            local.engine = eng
            with lock:
                engines.append(eng)
        return local.engine

    def problems(p: Puzzle, nodes: int = VERIFY_NODES) -> list[str]:
        eng = engine()
        board = p.board()
        out = []
        for i, uci in enumerate(p.line):
            move = chess.Move.from_uci(uci)
            board.push(move)
            if i % 2 == 1 or board.is_checkmate():
                continue
            info = eng.analyse(board, chess.engine.Limit(nodes=nodes, time=30), game=(p.id, nodes))
            score = scale_score(info["score"].pov(p.solver), cp_scale)
            if score < chess.engine.Cp(150):
                out.append(f"{p.id}: after solver move {uci} ({i // 2 + 1}) Stockfish gives {score}")
        if "mate" in p.themes and not board.is_checkmate():
            out.append(f"{p.id}: tagged mate but the line does not end in checkmate")
        return out

    try:
        with ThreadPoolExecutor(2) as pool:
            suspects = [p for p, msgs in zip(puzzles, pool.map(problems, puzzles), strict=True) if msgs]
            found = [msg for msgs in pool.map(lambda p: problems(p, RECHECK_NODES), suspects) for msg in msgs]
    finally:
        for eng in engines:
            eng.quit()
    assert not found, f"{len(found)} problem(s), e.g. {found[:5]}"
