"""The miner's rules on a few known positions and games, against the real Stockfish, tiny budgets."""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path

import chess
import chess.engine
import chess.pgn
import pytest

from chesseval.core.puzzles import load_puzzles, validate_puzzles, write_lichess_csv
from chesseval.mining.miner import (
    LineBuilder,
    MiningConfig,
    honest_castling,
    merge_puzzles,
    mine_pgn,
    open_engine,
    parse_shard,
    puzzle_id,
    win_chances,
)
from chesseval.mining.themes import derive_themes

# Short games typed from well-known miniatures (public-domain game scores).
MINIATURES = """\
[Event "Legal trap"]
[Site "?"]
[Result "1-0"]

1. e4 e5 2. Nf3 d6 3. Bc4 Bg4 4. Nc3 g6 5. Nxe5 Bxd1 6. Bxf7+ Ke7 7. Nd5# 1-0

[Event "Fool's mate"]
[Site "?"]
[Result "0-1"]

1. f3 e5 2. g4 Qh4# 0-1

[Event "Scholar's mate"]
[Site "?"]
[Result "1-0"]

1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7# 1-0
"""

TINY = MiningConfig(nodes=30_000, scan_nodes=5_000)


@pytest.fixture(scope="module")
def engine():
    import shutil

    if not (shutil.which("stockfish") or Path("/usr/games/stockfish").exists()):
        pytest.skip("need stockfish (apt-get install stockfish)")
    eng = open_engine(threads=1, hash_mb=16)
    yield eng
    eng.quit()


def test_win_chances_scale():
    assert win_chances(chess.engine.Cp(0)) == 0.0
    assert win_chances(chess.engine.Mate(3)) == 1.0
    assert win_chances(chess.engine.Mate(-2)) == -1.0
    cp = 377  # wc ≈ 0.6, as in the domain notes
    assert abs(win_chances(chess.engine.Cp(cp)) - 0.6) < 0.002
    assert win_chances(chess.engine.Cp(-200)) == pytest.approx(2 / (1 + math.exp(0.00368208 * 200)) - 1)


def test_mate_in_two_found(engine):
    # Black's extra queen makes every non-mating move lose, so the mate is an only move on any cp
    # scale (without it, the second-best move keeps +1.2, which is +2.1 on Lichess's scale: no puzzle).
    board = chess.Board("3r2k1/5ppp/b7/n7/8/1q6/4RPPP/4R1K1 w - - 0 1")
    line = LineBuilder(engine, TINY).build_mate(board)
    assert line is not None and line.kind == "mate"
    assert [m.uci() for m in line.moves] == ["e2e8", "d8e8", "e1e8"]


def test_two_mating_plans_is_not_an_only_move(engine):
    # Ladder mate: Ra7 and Rb7 both mate in two, so neither is an only move.
    board = chess.Board("7k/8/8/8/8/8/1R6/R5K1 w - - 0 1")
    builder = LineBuilder(engine, TINY)
    assert builder.build_mate(board) is None
    assert builder.reason == "not an only move"


def test_winning_anyway_is_not_an_only_move(engine):
    # Two rooks against one: the mate is best, but quiet moves also keep a won game.
    board = chess.Board("3r2k1/5ppp/8/8/8/8/4RPPP/4R1K1 w - - 0 1")
    builder = LineBuilder(engine, TINY)
    assert builder.build_mate(board) is None
    assert builder.reason == "not an only move"


def test_one_move_advantage_rejected(engine):
    # Taking the queen is the only move, and then nothing else is forced: a one-mover.
    board = chess.Board("4k3/pp6/8/8/3q4/5N2/PPP5/4K3 w - - 0 1")
    builder = LineBuilder(engine, TINY)
    pair = builder.analyse(board, chess.WHITE, multipv=2)
    assert pair[0].move.uci() == "f3d4" and builder.is_only_move(board, pair)
    assert builder.build_advantage(board) is None
    assert builder.reason == "one-move advantage puzzle"


def test_castling_rights_hint():
    assert honest_castling(chess.Board())
    # Rights claimed for a rook that is not on h1.
    assert not honest_castling(chess.Board("r3k2r/8/8/8/8/8/8/R3K1R1 w KQkq - 0 1"))
    # Rights dropped although king and rooks are home: the FEN hints at history.
    assert not honest_castling(chess.Board("r3k2r/8/8/8/8/8/8/R3K2R w - - 0 1"))


def test_parse_shard():
    assert parse_shard("2/8") == (2, 8)
    for bad in ("8/8", "1/0", "x", "-1/2"):
        with pytest.raises(ValueError, match=repr(bad)):
            parse_shard(bad)


def test_puzzle_id_stable():
    assert puzzle_id("fen", ["e2e4"]) == puzzle_id("fen", ("e2e4",))
    assert puzzle_id("fen", ["e2e4"]) != puzzle_id("fen", ["e2e3"])


def test_themes_on_legal_trap():
    board = chess.Board()
    for san in "e4 e5 Nf3 d6 Bc4 Bg4 Nc3 g6 Nxe5".split():
        board.push_san(san)
    themes = derive_themes(board.fen(), ["g4d1", "c4f7", "e8e7", "c3d5"])
    assert {"mate", "mateIn2", "short", "opening"} <= set(themes)
    assert "crushing" not in themes
    assert "sacrifice" not in themes  # White is a pawn up on the start by the mate


@pytest.mark.parametrize("tag", ["sacrifice", "attraction"])
def test_motif_tags_agree_with_lichess_on_real_puzzles(lichess_sample: Path, tag: str) -> None:
    """Our rules against the tag Lichess gave 20,857 real puzzles (its tagger's output, less what
    players voted away): measured precision 0.986 / 0.987 and recall 1.000 for both."""
    from chesseval.core.puzzles import load_puzzles

    tp = fp = fn = 0
    for p in load_puzzles(lichess_sample):
        ours, theirs = tag in derive_themes(p.fen, p.moves), tag in p.themes
        tp, fp, fn = tp + (ours and theirs), fp + (ours and not theirs), fn + (theirs and not ours)
    assert tp > 500 and tp / (tp + fp) > 0.97 and tp / (tp + fn) > 0.97, (tp, fp, fn)


@pytest.fixture(scope="module")
def miniatures(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pgn") / "miniatures.pgn"
    path.write_text(MINIATURES, encoding="utf-8")
    return path


def test_mine_miniatures_and_determinism(miniatures, tmp_path, stockfish_path):
    one = mine_pgn(miniatures, TINY, workers=1)
    two = mine_pgn(miniatures, TINY, workers=2)
    assert one == two
    lines = {p.moves for p in one}
    # The Legal trap: after 5...Bxd1 White mates in two.
    assert ("g4d1", "c4f7", "e8e7", "c3d5") in lines
    # Fool's mate, 2.g4 Qh4#, is not a valid mate in one on Lichess's cp scale: Black's best other
    # move (...h5) keeps about +2.6 in Stockfish 15.1's cp, +4.6 on the older scale, above the
    # 0.6 win-chance cap on alternatives. Read as Lichess cp (cp_scale 1.0), it passes.
    assert ("g2g4", "d8h4") not in lines
    raw = mine_pgn(miniatures, dataclasses.replace(TINY, cp_scale=1.0), workers=1)
    assert ("g2g4", "d8h4") in {p.moves for p in raw}
    for p in one:
        assert "#" in p.game_url  # source game and ply
        assert p.solver == (p.fen.split()[1] == "b")
    # Shards merge back to the same output.
    shards = [mine_pgn(miniatures, TINY, shard=(i, 2)) for i in range(2)]
    assert merge_puzzles(shards) == one
    out = tmp_path / "mined.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        write_lichess_csv(one, fh, rating_source=True)
    n, errors = validate_puzzles(out)
    assert n == len(one) and not errors
    assert [p.id for p in load_puzzles(out)] == [p.id for p in one]


def test_selfplay_reproducible_from_seed(engine):
    from chesseval.mining.selfplay import SelfPlayConfig, play_game

    config = SelfPlayConfig(eval_nodes=1_000, max_plies=24, trap_tries=4)
    export = lambda gs: [g.accept(chess.pgn.StringExporter(headers=True, variations=False, comments=True)) for g in gs]  # noqa: E731
    a = export(play_game(engine, config, seed=3, index=1))
    b = export(play_game(engine, config, seed=3, index=1))
    c = export(play_game(engine, config, seed=3, index=2))
    assert a == b
    assert a != c  # another game of the same seed gets another opening and style
    assert "[%eval" in a[0] and "chesseval:selfplay/seed3/game2" in a[0]


def test_take_back_turns_blunders_into_branch_games_and_plays_on(engine):
    from chesseval.mining.selfplay import SelfPlayConfig, _swing, play_game

    # Random moves a third of the time: plenty of blunders in 40 plies.
    config = SelfPlayConfig(eval_nodes=2_000, max_plies=40, trap_rate=(0.0, 0.0), blunder_rate=(0.3, 0.3),
                            strong_rate=(0.0, 0.0), max_depth=(1, 1), take_back=True)
    main, *branches = play_game(engine, config, seed=2, index=0)
    assert branches and all("/blunder" in b.headers["Site"] for b in branches)
    played = list(main.mainline_moves())
    for branch in branches:
        (last, before), (blunder, after) = [(n.move, n.eval()) for n in branch.mainline()]
        ply = int(branch.headers["Site"].rsplit("/blunder", 1)[1].split("-")[0]) - 1
        assert played[ply - 1] == last and played[ply] != blunder  # taken back: the game went on otherwise
        board = branch.end().board()
        assert before is not None and after is not None and _swing(before.pov(board.turn), after.pov(board.turn))
    assert [b.headers["Site"] for b in play_game(engine, config, seed=2, index=0)[1:]] == [b.headers["Site"] for b in branches]
    # Without take-backs the same game has no branch games.
    assert play_game(engine, dataclasses.replace(config, take_back=False), seed=2, index=0)[1:] == []


def test_cli_mine_writes_rated_csv(miniatures, tmp_path, stockfish_path):
    from chesseval.cli import main

    out = tmp_path / "mined.csv"
    assert main(["puzzles", "mine", str(miniatures), "--out", str(out), "--nodes", "30000", "--scan-nodes", "5000"]) == 0
    puzzles = load_puzzles(out)
    assert puzzles and all(p.rating_source == "estimated" and p.rating is not None for p in puzzles)
    assert main(["puzzles", "mine", str(tmp_path / "missing.pgn"), "--out", str(out)]) == 2


def test_traps_become_branch_games_the_miner_turns_into_puzzles(engine):
    import random

    from chesseval.mining.miner import MiningConfig, mine_game
    from chesseval.mining.selfplay import SelfPlayConfig, _branch, find_traps

    board = chess.Board("r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/8/PPPP1PPP/RNBQK1NR w KQkq - 2 3")
    board.push_uci("d1f3")  # threatens Qxf7#: most Black moves walk into it
    config = SelfPlayConfig(eval_nodes=2_000, trap_tries=40, traps_per_position=3)
    traps = find_traps(engine, board, random.Random(1), config, ("t",))
    assert 1 <= len(traps) <= 3
    assert traps == find_traps(engine, board, random.Random(1), config, ("t",))  # reproducible
    game = chess.pgn.Game()
    game.headers.update(Event="e", Site="chesseval:selfplay/seed0/game1", White="w", Black="b", Round="1")
    evaluation = engine.analyse(board, chess.engine.Limit(nodes=2_000))["score"]
    for trap, after in traps:
        assert after.pov(chess.WHITE) > chess.engine.Cp(200)
        branch = _branch(game, board, evaluation, trap, after, board.ply())
        assert branch.headers["FEN"] == "r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/8/PPPP1PPP/RNBQK1NR w KQkq - 2 3"
        assert [m.uci() for m in branch.mainline_moves()] == ["d1f3", trap.uci()]
        # Round trip through PGN text, as the suite builder stores it.
        text = branch.accept(chess.pgn.StringExporter(headers=True, variations=False, comments=True))
        found = mine_game(engine, chess.pgn.read_game(io.StringIO(text)), MiningConfig(nodes=20_000), source="s", game_key=("b", trap.uci()))
        assert len(found) == 1
        puzzle, facts = found[0]
        assert puzzle.fen == board.fen() and puzzle.moves[0] == trap.uci() and facts["kind"] == "mate"


def test_select_by_band_caps_bands_and_keeps_one_puzzle_per_position():
    from chesseval.core.puzzles import Puzzle
    from chesseval.mining.mined_suite import select_by_band

    fens = [chess.Board().fen(), "r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/5Q2/PPPP1PPP/RNB1K1NR b KQkq - 3 3"]
    mk = lambda i, fen, rating: Puzzle(id=f"p{i:02d}", fen=fen, moves=("e2e4", "e7e5"), rating=rating)  # noqa: E731
    puzzles = [mk(1, fens[0], 700), mk(2, fens[0], 2500), mk(3, fens[1], 750), mk(4, fens[1], 720), mk(5, fens[1], 2650),
               mk(6, fens[1], 590), mk(7, fens[1] .replace("3 3", "3 4"), 610)]
    chosen = select_by_band(puzzles, per_band=5)
    # p02 (2400 band) takes the first position before the 600 band is filled; p05 and p06 are out of range.
    assert [p.id for p in chosen] == ["p02", "p03", "p07"]
    assert [p.id for p in select_by_band(puzzles, per_band=1)] == ["p02", "p03"]


def test_shortfall_projects_more_games_from_the_build_yield():
    from chesseval.mining.mined_suite import BANDS, shortfall

    hist = {f"{lo}-{lo + 199}": 100 for lo in BANDS}
    hist.update({"2200-2399": 4, "2400-2599": 0})
    assert shortfall(hist, games=800, minimum=40) == [("2200-2399", 4, 7200), ("2400-2599", 0, None)]
    del hist["2000-2199"]  # a band missing from the histogram is empty, hence short
    assert shortfall(hist, games=800)[0] == ("2000-2199", 0, None)


def test_build_suite_rejects_a_negative_trap_games(capsys):
    from chesseval.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["puzzles", "build-suite", "--games", "3", "--trap-games", "-1"])
    assert exc.value.code == 2
    assert "--trap-games: '-1' must be at least 0" in capsys.readouterr().err


def test_trap_games_only_the_first_games_look_for_traps_and_the_cache_follows_the_plan(tmp_path):
    import json

    from chesseval.mining.mined_suite import SuitePlan, run_games

    plan = SuitePlan(games=2, seed=5, nodes=3_000, trap_games=1)
    records = run_games(plan, tmp_path)
    assert [r["design"] for r in records] == ["traps", "plain-take-back"]
    assert all(float(r["seconds"]) > 0 for r in records)
    assert "/trap" not in records[1]["pgn"]  # a plain game has no branch games
    # Game 1 moves across the line: it is played again with traps; game 0 comes from the cache.
    again = run_games(dataclasses.replace(plan, trap_games=None), tmp_path)
    assert [r["design"] for r in again] == ["traps", "traps"]
    assert again[0] == records[0]
    lines = (tmp_path / "games.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["index"] for line in lines[1:]] == [0, 1]  # the unwanted record is gone


def test_changed_mining_settings_mine_the_cached_games_again_without_playing_them(tmp_path):
    import json

    from chesseval.errors import ConfigError
    from chesseval.mining.mined_suite import SuitePlan, run_games

    plan = SuitePlan(games=2, seed=5, nodes=3_000, trap_games=1)
    first = run_games(plan, tmp_path / "a")
    # A different node budget: the games are kept and mined again; first only game 0 ...
    deeper = dataclasses.replace(plan, nodes=6_000)
    part = run_games(dataclasses.replace(deeper, games=1), tmp_path / "a")
    assert (tmp_path / "a" / "games.previous.jsonl").exists()  # game 1 is not mined again yet: kept
    full = run_games(deeper, tmp_path / "a")
    assert not (tmp_path / "a" / "games.previous.jsonl").exists()
    assert full[0] == part[0]
    for old, new in zip(first, full, strict=False):
        assert new["pgn"] == old["pgn"] and new["seconds"] == old["seconds"]  # not played again
        assert float(new["remined_seconds"]) > 0
    # ... and the result is what playing the games afresh with the new budget gives.
    fresh = run_games(deeper, tmp_path / "b")
    assert [r["pgn"] for r in fresh] == [r["pgn"] for r in full]
    assert [r["puzzles"] for r in fresh] == [r["puzzles"] for r in full]
    header = json.loads((tmp_path / "a" / "games.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert header["key"]["mining"]["nodes"] == 6_000
    # Other games (another seed) are not reused: that is an error, not a silent replay.
    with pytest.raises(ConfigError, match="other settings"):
        run_games(dataclasses.replace(deeper, seed=6), tmp_path / "a")


def test_cp_scale_multiplies_engine_cp_but_not_mates(engine):
    # Distinct keys: each builder starts with a fresh hash, so both run the very same search.
    board = chess.Board("4k3/8/8/8/8/8/PPP5/1K2R3 w - - 0 1")  # White is a rook and pawns up
    raw = LineBuilder(engine, dataclasses.replace(TINY, cp_scale=1.0), game_key="scale-1").analyse(board, chess.WHITE)
    scaled = LineBuilder(engine, dataclasses.replace(TINY, cp_scale=2.0), game_key="scale-2").analyse(board, chess.WHITE)
    assert raw[0].score.score() is not None
    assert scaled[0].score.score() == 2 * raw[0].score.score()
    mate = chess.Board("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1")
    assert LineBuilder(engine, dataclasses.replace(TINY, cp_scale=2.0)).analyse(mate, chess.WHITE)[0].score == chess.engine.Mate(1)
    assert MiningConfig().cp_scale == pytest.approx(361 / 208)
    assert "cp_scale" in MiningConfig().to_dict()  # recorded with every output


@pytest.mark.parametrize("value, message", [("0", "'0' must be above 0"), ("abc", "'abc' is not a number")])
def test_mine_rejects_a_bad_cp_scale(value, message, tmp_path, capsys):
    from chesseval.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["puzzles", "mine", str(tmp_path / "g.pgn"), "--out", str(tmp_path / "o.csv"), "--cp-scale", value])
    assert exc.value.code == 2
    assert f"--cp-scale: {message}" in capsys.readouterr().err
