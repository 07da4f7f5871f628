"""Read-only run folders (issue #16 item 6): report, compare and ``report --html -o DIR`` work on
them and leave them byte for byte as they were; a resume, or an HTML report into the run folder,
says in one line that it cannot write (exit 2).

Two ways, because CI runs as root and root writes through ``chmod a-w``:

* for real: the CLI in a child process whose capability bounding set lacks ``CAP_DAC_OVERRIDE``
  (dropped with ``prctl`` before ``exec``), so even root gets ``EACCES`` on the read-only folder.
  A probe checks that first; where the capability cannot be dropped the test skips and says so.
* simulated at the OS boundary, in-process, everywhere: ``open``/``os.open``/``os.replace`` refuse
  any write under the run folder with the same ``PermissionError`` the kernel raises.
"""

from __future__ import annotations

import builtins
import ctypes
import errno
import io
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chesseval.cli import main

ROOT = Path(__file__).resolve().parents[2]
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1


def _drop_dac_override() -> None:
    """Runs in the child before exec: without CAP_DAC_OVERRIDE in the bounding set, root obeys file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _preexec() -> Callable[[], None] | None:
    return _drop_dac_override if os.name == "posix" and os.geteuid() == 0 else None


def _set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        mode = mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        path.chmod(mode)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """``read_only(folder)`` makes a folder tree read-only; undone after the test for cleanup."""
    done: list[Path] = []

    def make(folder: Path) -> None:
        _set_writable(folder, False)
        done.append(folder)

    yield make
    for folder in done:
        _set_writable(folder, True)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "chesseval", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          preexec_fn=_preexec(), timeout=120, check=False)  # fmt: skip


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def _make_runs(runs: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, list[str]]:
    paths = []
    for model, extra in (("builtin/random", []), ("builtin/search", ["-M", "depth=1"])):
        args = ["run", "--model", model, *extra, "--suite", "starter", "--limit", "12", "--runs-dir", str(runs), "--quiet"]
        assert main(args) == 0
        paths.append(Path(capsys.readouterr().out.strip().splitlines()[-1]))
    return paths[0], paths[1], args


def test_read_only_run_folder_for_real(tmp_path: Path, capsys: pytest.CaptureFixture[str], read_only: Callable[[Path], None]) -> None:
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    read_only(probe_dir)
    probe = _cli("--version", cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    code = f"open({str(probe_dir / 'x')!r}, 'w')"
    writes = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, preexec_fn=_preexec(), check=False)
    if writes.returncode == 0:
        pytest.skip("this process can write into a chmod a-w folder and cannot drop CAP_DAC_OVERRIDE: covered by the simulated test only")

    runs = tmp_path / "runs"
    a, b, last_args = _make_runs(runs, capsys)
    read_only(runs)
    before = _snapshot(runs)
    out_dir = tmp_path / "elsewhere"

    report = _cli("report", str(a), cwd=tmp_path)
    assert report.returncode == 0 and "solve rate" in report.stdout, report.stderr
    html = _cli("report", str(a), "--html", "-o", str(out_dir), cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    assert (out_dir / "report.html").read_text().startswith("<!DOCTYPE html>")
    compare = _cli("compare", str(a), str(b), "--boot", "50", cwd=tmp_path)
    assert compare.returncode == 0 and "builtin/search" in compare.stdout, compare.stderr

    into_run = _cli("report", str(a), "--html", cwd=tmp_path)
    assert into_run.returncode == 2
    assert into_run.stderr.count("\n") == 1 and "cannot write" in into_run.stderr and "-o DIR" in into_run.stderr, into_run.stderr
    resume = _cli(*last_args, cwd=tmp_path)
    assert resume.returncode == 2
    assert resume.stderr.count("\n") == 1 and f"{b}: cannot resume, the run folder is not writable" in resume.stderr, resume.stderr
    assert _snapshot(runs) == before  # not one byte, not one timestamp changed


# -- simulated at the OS boundary --------------------------------------------------------------------


def _is_write(mode: str) -> bool:
    return any(c in mode for c in "wax+")


@pytest.fixture
def deny_writes(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """``deny_writes(folder)``: every write under ``folder`` fails as on a read-only file system."""
    denied: list[Path] = []

    def blocked(path: Any) -> bool:
        try:
            p = Path(os.fsdecode(path)).absolute()
        except TypeError:  # a file descriptor
            return False
        return any(p == d or d in p.parents for d in denied)

    def refuse(path: Any) -> OSError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

    real_open, real_os_open, real_replace = builtins.open, os.open, os.replace

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if _is_write(mode) and blocked(file):
            raise refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC) and blocked(path):
            raise refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def fake_replace(src: Any, dst: Any, **kwargs: Any) -> None:
        if blocked(dst) or blocked(src):
            raise refuse(dst)
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "replace", fake_replace)
    return lambda folder: denied.append(folder.absolute())


def test_read_only_run_folder_simulated(tmp_path: Path, capsys: pytest.CaptureFixture[str], deny_writes: Callable[[Path], None]) -> None:
    runs = tmp_path / "runs"
    a, b, last_args = _make_runs(runs, capsys)
    # A run killed mid-write has a half line: report reads around it, and must not cut it here.
    with open(a / "records.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"puzzle_id": "half')
    before = _snapshot(runs)
    deny_writes(runs)

    assert main(["report", str(a)]) == 0
    assert main(["report", str(a), "--html", "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "report.html").is_file()
    assert main(["compare", str(a), str(b), "--boot", "50"]) == 0
    assert main(["breakdown", str(a), str(b), "--by", "rating"]) == 0
    capsys.readouterr()

    assert main(["report", str(b), "--html"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "Permission denied" in err
    assert main(last_args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{b}: cannot resume, the run folder is not writable (Permission denied)" in err
    assert _snapshot(runs) == before


def test_resume_with_read_only_records_stops_before_any_call(tmp_path: Path, capsys: pytest.CaptureFixture[str], deny_writes: Callable[[Path], None]) -> None:
    runs = tmp_path / "runs"
    args = ["run", "--model", "builtin/random", "--suite", "starter", "--limit", "3", "--runs-dir", str(runs), "--quiet"]
    assert main(args) == 0
    run = Path(capsys.readouterr().out.strip().splitlines()[-1])
    before = _snapshot(runs)
    deny_writes(run / "records.jsonl")  # the header could be written, the records could not
    assert main([*args[:-5], "--limit", "4", "--runs-dir", str(runs), "--quiet"]) == 0  # another config: a new run
    capsys.readouterr()
    assert main(args) == 2
    assert "cannot resume, the run folder is not writable" in capsys.readouterr().err
    # run.lock is the lock's own file (the holder's PID), rewritten by every process that takes it
    def mine(snapshot: dict[str, tuple[bytes, int]]) -> dict[str, tuple[bytes, int]]:
        return {k: v for k, v in snapshot.items() if k.startswith(run.name) and not k.endswith("run.lock")}

    assert mine(_snapshot(runs)) == mine(before)
