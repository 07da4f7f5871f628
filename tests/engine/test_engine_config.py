"""Engine config, discovery, limits, scores and win chances (no engine process needed)."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import chess.engine
import pytest

from chesseval.engine.check import is_engine_accepted
from chesseval.engine.stockfish import (
    DEBIAN_STOCKFISH,
    AnalysisLimit,
    EngineConfig,
    Score,
    find_stockfish,
    is_winning,
    load_engine_config,
    parse_limit,
    win_chances,
)
from chesseval.errors import ConfigError, EngineNotFoundError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_matches_builtin_defaults() -> None:
    shipped = load_engine_config(ROOT / "stockfish_config" / "default.toml")
    builtin = EngineConfig()
    assert dict(shipped.limits) == dict(builtin.limits)
    assert (shipped.threads, shipped.hash_mb, shipped.processes, shipped.margin_s, shipped.max_retries) == (
        builtin.threads, builtin.hash_mb, builtin.processes, builtin.margin_s, builtin.max_retries)
    for limit in shipped.limits.values():
        assert limit.nodes and limit.time > 0  # every named limit is nodes WITH a time cap


def test_config_errors_name_file_and_value(tmp_path: Path) -> None:
    bad = tmp_path / "e.toml"
    bad.write_text("[engine]\nthreads = 'two'\n")
    with pytest.raises(ConfigError, match=r"e\.toml.*threads = 'two'"):
        load_engine_config(bad)
    bad.write_text("[limits.fast]\nnodes = 100\n")
    with pytest.raises(ConfigError, match=r"limits\.fast.*time cap"):
        load_engine_config(bad)
    bad.write_text("[engine]\nskill = 3\n")
    with pytest.raises(ConfigError, match=r"'skill'"):
        load_engine_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_engine_config(tmp_path / "missing.toml")


def test_parse_limit() -> None:
    cfg = EngineConfig()
    assert parse_limit("standard", cfg).nodes == 200_000
    assert parse_limit("nodes=5000", cfg) == AnalysisLimit(nodes=5000, time=10.0)
    assert parse_limit("depth=3,time=2", cfg).key == "depth=3,time=2.0"
    assert parse_limit("movetime=0.05", cfg).is_timed
    with pytest.raises(ConfigError, match="'fastest'"):
        parse_limit("fastest", cfg)
    with pytest.raises(ConfigError, match="'nodes=abc'"):
        parse_limit("nodes=abc", cfg)
    with pytest.raises(ConfigError, match="0"):
        parse_limit("nodes=0", cfg)
    assert chess.engine.Limit(nodes=5000, time=10.0) == parse_limit("nodes=5000").to_chess()


def _fake_exe(path: Path) -> str:
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_find_stockfish_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg_bin = _fake_exe(tmp_path / "cfg-sf")
    env_bin = _fake_exe(tmp_path / "env-sf")
    path_dir = tmp_path / "bin"
    path_dir.mkdir()
    path_bin = _fake_exe(path_dir / "stockfish")
    monkeypatch.setenv("PATH", str(path_dir))
    monkeypatch.setenv("CHESSEVAL_STOCKFISH", env_bin)
    assert find_stockfish(EngineConfig(path=cfg_bin)) == cfg_bin
    assert find_stockfish(EngineConfig()) == env_bin
    monkeypatch.delenv("CHESSEVAL_STOCKFISH")
    assert find_stockfish(EngineConfig()) == path_bin
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    if os.access(DEBIAN_STOCKFISH, os.X_OK):
        assert find_stockfish(EngineConfig()) == DEBIAN_STOCKFISH


def test_find_stockfish_missing_is_one_line_with_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHESSEVAL_STOCKFISH", str(tmp_path / "nope"))
    with pytest.raises(EngineNotFoundError) as info:
        find_stockfish(EngineConfig())
    msg = str(info.value)
    assert "\n" not in msg and "apt-get install stockfish" in msg and repr(str(tmp_path / "nope")) in msg
    assert isinstance(info.value, FileNotFoundError)


def test_win_chances_lichess_curve() -> None:
    assert win_chances(0) == 0.0
    assert win_chances(Score(cp=100)) == pytest.approx(2 / (1 + math.exp(-0.368208)) - 1)
    assert win_chances(Score(cp=-100)) == pytest.approx(-win_chances(Score(cp=100)))
    assert win_chances(Score(mate=7)) == 1.0 and win_chances(Score(mate=-1)) == -1.0
    assert win_chances(Score(cp=377)) == pytest.approx(0.6, abs=0.001)
    assert win_chances(Score(cp=-10**6)) == -1.0  # no overflow
    assert not is_winning(Score(cp=300)) and is_winning(Score(cp=400)) and is_winning(Score(mate=3))


def test_one_cp_scale_for_engine_scores_and_the_miner() -> None:
    from chesseval.engine.stockfish import LICHESS_CP_SCALE, LICHESS_CP_SCALE_ENGINE
    from chesseval.mining.miner import MiningConfig, scale_score
    from chesseval.mining.miner import win_chances as miner_wc

    assert LICHESS_CP_SCALE == pytest.approx(361 / 208) and LICHESS_CP_SCALE_ENGINE == "Stockfish 15.1"
    assert MiningConfig().cp_scale == LICHESS_CP_SCALE
    assert Score(cp=217).to_lichess() == Score(cp=377) and Score(mate=-2).to_lichess() == Score(mate=-2)
    # an engine score has the same win chances in the miner and in engine checking
    for cp in (-500, -217, 0, 100, 217, 1000):
        assert Score(cp=cp).win_chances == pytest.approx(miner_wc(scale_score(chess.engine.Cp(cp), LICHESS_CP_SCALE)))
    assert Score(cp=217).win_chances == pytest.approx(win_chances(Score(cp=377)))


def test_score_from_python_chess() -> None:
    pov = chess.engine.PovScore(chess.engine.Mate(-0), chess.BLACK)
    assert Score.from_pov(pov) == Score(mate=-1)
    assert Score.from_pov(chess.engine.PovScore(chess.engine.Cp(-42), chess.WHITE)) == Score(cp=-42)
    assert Score.from_dict(Score(mate=-3).to_dict()) == Score(mate=-3)
    with pytest.raises(ValueError):
        Score()


def test_engine_lenient_rule() -> None:
    # mates no slower
    assert is_engine_accepted(Score(mate=3), Score(mate=3))
    assert is_engine_accepted(Score(mate=3), Score(mate=2))
    assert not is_engine_accepted(Score(mate=3), Score(mate=4))
    assert not is_engine_accepted(Score(mate=3), Score(cp=2000))
    # keeps a decisive win (wc >= 0.6) on Lichess's cp scale: engine cp x 361/208, so the bar is
    # +217 Stockfish 15.1 cp (+377 Lichess cp), not +377 engine cp
    assert is_engine_accepted(Score(cp=900), Score(cp=218))
    assert not is_engine_accepted(Score(cp=900), Score(cp=216))
    assert is_engine_accepted(Score(cp=250), Score(mate=5))
    # an immediate mate is always accepted
    assert is_engine_accepted(Score(mate=1), Score(cp=0), mates_now=True)


def test_build_settings_are_parsed_and_unused_instruction_sets_named(tmp_path: Path) -> None:
    from chesseval.engine.stockfish import cpu_flags, parse_build_settings, unused_isas

    text = "Stockfish 15.1 by the Stockfish developers\n\nCompiled by g++ (GNUC) 12.2.0 on Linux\nCompilation settings include:  64bit SSE2\n"
    settings = parse_build_settings(text)
    assert settings == ("64bit", "SSE2")
    assert parse_build_settings("id name Foo\n") is None
    assert unused_isas(settings, frozenset({"sse2", "avx2", "bmi2"})) == ("avx2", "bmi2")
    assert unused_isas(("64bit", "AVX2", "BMI2", "POPCNT"), frozenset({"avx2", "bmi2"})) == ()
    assert unused_isas(settings, frozenset({"sse2"})) == ()
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2\n", encoding="utf-8")
    assert cpu_flags(str(info)) == frozenset({"fpu", "sse2", "avx2"})
    assert cpu_flags(str(tmp_path / "none")) == frozenset()


def test_build_settings_of_the_real_stockfish(stockfish_path: str) -> None:
    from chesseval.engine.stockfish import build_settings

    settings = build_settings(stockfish_path)
    # Stockfish >= 14 answers `compiler`; the settings always name the word size.
    assert settings is not None and any(s in ("64bit", "32bit") for s in settings), settings
