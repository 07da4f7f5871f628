"""The public surface: exported names exist, and importing chesseval stays light."""

from __future__ import annotations

import subprocess
import sys

import chesseval


def test_all_names_exist() -> None:
    for name in chesseval.__all__:
        assert hasattr(chesseval, name), name


def test_import_does_not_load_heavy_modules() -> None:
    code = "import sys, chesseval; print(sorted(m for m in ('pandas', 'matplotlib', 'httpx', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_configures_no_logging() -> None:
    code = "import logging, chesseval; print(len(logging.getLogger().handlers))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
