"""A built wheel works on its own: installed into a fresh venv and run from a folder outside the
repository, the README's quick-start run finds the bundled default suite, and every data file the
package reads (suites, engine limits, reference runs, difficulty model) comes from inside it."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding the wheel built from this checkout (dependencies come from the running
    interpreter's site-packages, so nothing is downloaded)."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    # Built from a clean copy of what git tracks: a build/ folder left by an earlier in-tree build
    # would hand its files to the wheel even when package-data no longer lists them.
    source = base / "source"
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".venv", "records.jsonl", "engine.jsonl")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("chesseval", "puzzles", "stockfish_config", "runs/reference"):
        shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=skip)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(dist)],
        capture_output=True, text=True, cwd=base,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("chesseval-*.whl")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    # When the tests themselves run in a venv (CI), its packages are not the "system" ones. (Its
    # editable chesseval is visible too, hence --ignore-installed below.)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    (purelib / "_outer_deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", str(wheel)],
        capture_output=True, text=True, cwd=base,
    )
    assert install.returncode == 0, install.stderr
    return env_dir


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("CHESSEVAL_")}


def test_quick_start_runs_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import chesseval; print(chesseval.__file__)"],
        capture_output=True, text=True, cwd=elsewhere, env=_env(), check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed), f"imported {where}, not the installed wheel"

    run = subprocess.run(
        [str(installed / "bin" / "chesseval"), "run", "--model", "builtin/search", "-M", "depth=2", "--limit", "20"],
        capture_output=True, text=True, cwd=elsewhere, env=_env(), timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "builtin/search on default" in run.stdout
    (run_dir,) = (elsewhere / "runs").iterdir()
    header = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert header["suite"]["name"] == "default"
    assert Path(header["suite"]["path"]).resolve().is_relative_to(installed.resolve())
    assert header["suite"]["sha256"] == json.loads((ROOT / "puzzles" / "default.json").read_text(encoding="utf-8"))["sha256"]
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["overall"]["n"] == 20


def test_every_data_file_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    probe = """
import json
from chesseval.core.suites import list_suites
from chesseval.engine.stockfish import default_config_path
from chesseval.analysis.reference import DEFAULT_REFERENCE_DIR, reference_points
from chesseval.mining.difficulty import MODEL_PATH
from chesseval.core.suites import resolve_suite
suite = resolve_suite("default")
points = reference_points(DEFAULT_REFERENCE_DIR, suite_sha256=suite.sha256, template=None)
print(json.dumps({
    "suites": sorted(s.name for s in list_suites()),
    "engine_config": str(default_config_path()),
    "reference": [str(p.path) for p in points],
    "difficulty_model": str(MODEL_PATH) if MODEL_PATH.is_file() else None,
}))
"""
    out = subprocess.run([str(installed / "bin" / "python"), "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=_env())
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert {"default", "starter"} <= set(found["suites"])
    assert len(found["reference"]) == len(list((ROOT / "runs" / "reference").glob("*/run.json")))
    for path in [found["engine_config"], found["difficulty_model"], *found["reference"]]:
        assert path is not None and Path(path).resolve().is_relative_to(installed.resolve()), path
