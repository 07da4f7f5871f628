"""Shared fixtures: where the shared test data is, and where Stockfish is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
LICHESS_SAMPLE = SHARED_DATA / "lichess_sample.csv"


def _stockfish() -> str | None:
    return shutil.which("stockfish") or (
        "/usr/games/stockfish" if Path("/usr/games/stockfish").exists() else None
    )


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def lichess_sample(shared_data: Path) -> Path:
    return shared_data / "lichess_sample.csv"


@pytest.fixture
def stockfish_path() -> str:
    path = _stockfish()
    if path is None:
        pytest.skip("need stockfish (apt-get install stockfish)")
    return path
