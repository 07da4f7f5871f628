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


@pytest.fixture
def load_script():  # type: ignore[no-untyped-def]
    """Import ``scripts/NAME.py`` as a module (scripts are not a package)."""
    import importlib.util
    import sys

    def load(name: str):  # type: ignore[no-untyped-def]
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load
