"""``chesseval cache info|clear`` over a cache filled by real calls."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from llm_server import ScriptedLLMServer
from provider_helpers import make_player, play_once, run, turn

from chesseval.cli import main


def fill(cache_dir: Path, n: int) -> None:
    with ScriptedLLMServer() as server:
        for i in range(n):
            run(play_once(make_player("openai/gpt", server.url, cache=True, cache_dir=str(cache_dir)), turn(f"question {i}")))


def test_cache_info_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(tmp_path, 3)
    assert main(["cache", "info", "--cache-dir", str(tmp_path)]) == 0
    assert "3 cached response(s)" in capsys.readouterr().out
    old = next(tmp_path.rglob("*.json"))
    os.utime(old, (time.time() - 10 * 86400,) * 2)
    assert main(["cache", "clear", "--cache-dir", str(tmp_path), "--older-than", "7d"]) == 0
    assert "removed 1 " in capsys.readouterr().out
    assert main(["cache", "clear", "--cache-dir", str(tmp_path), "--provider", "anthropic"]) == 0
    assert "removed 0 " in capsys.readouterr().out
    assert main(["cache", "clear", "--cache-dir", str(tmp_path)]) == 0
    assert "removed 2 " in capsys.readouterr().out
    assert list(tmp_path.rglob("*.json")) == []


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path))
    fill(tmp_path, 1)
    assert main(["cache", "clear"]) == 0
    assert f"removed 1 cached response(s) from {tmp_path}" in capsys.readouterr().out


def test_bad_age_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["cache", "clear", "--cache-dir", str(tmp_path), "--older-than", "soon"]) == 1
    assert "--older-than 'soon' is not an age" in capsys.readouterr().err
