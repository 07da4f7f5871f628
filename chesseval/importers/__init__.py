"""Import other benchmarks' answer logs as ordinary chesseval runs, re-parsed and re-judged.

``import_logs("jsonl", path)`` or ``import_logs("inspect", path)`` reads a foreign log, checks
every answer before writing anything, re-reads each answer with :func:`chesseval.parse_move` /
``parse_line``, judges it by the Lichess rule (:mod:`chesseval.importers.judging`), and writes one
run folder per (source, model, prompt style) with the player ``replay/<model>``, plus a suite per
source (see :mod:`chesseval.importers.runs`). ``report``, ``compare``, ``history``, ``breakdown``
and ``--html`` then work on them like on any run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from chesseval.importers.judging import ForeignAnswer, ImportFormatError
from chesseval.importers.runs import ImportedRun

__all__ = ["FORMATS", "ImportResult", "import_logs", "read_log", "ImportFormatError", "ForeignAnswer"]

FORMATS = ("jsonl", "inspect")


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What an import wrote, and the accounting of every input answer."""

    runs: list[ImportedRun]
    n_input: int
    """Answers read from the log."""
    verdicts: dict[str, int]
    """Records written, by verdict; sums to ``n_input``."""
    modes: dict[str, int]
    """Records by judging mode (line, single, unjudged)."""
    seconds: float

    @property
    def n_records(self) -> int:
        return sum(r.n for r in self.runs)

    def summary(self) -> str:
        lines = [f"imported {self.n_input} answers into {len(self.runs)} runs in {self.seconds:.1f} s"]
        lines.append("  by verdict: " + ", ".join(f"{k} {v}" for k, v in sorted(self.verdicts.items(), key=lambda kv: -kv[1])))
        lines.append("  by judging mode: " + ", ".join(f"{k} {v}" for k, v in sorted(self.modes.items())))
        if self.n_records != self.n_input:  # pragma: no cover - a bug, said loudly
            lines.append(f"  MISMATCH: {self.n_records} records for {self.n_input} answers")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"n_input": self.n_input, "n_records": self.n_records, "verdicts": self.verdicts, "modes": self.modes,
                "seconds": self.seconds, "runs": [{**dataclasses.asdict(r), "path": str(r.path)} for r in self.runs]}  # fmt: skip


def read_log(fmt: str, path: str | os.PathLike[str]) -> list[ForeignAnswer]:
    """Every answer of a foreign log, checked (raises :class:`ImportFormatError` on the first bad one)."""
    if fmt == "jsonl":
        from chesseval.importers.jsonl import read_jsonl

        return list(read_jsonl(path))
    if fmt == "inspect":
        from chesseval.importers.inspect_log import read_inspect_log

        return list(read_inspect_log(path))
    raise ValueError(f"unknown import format {fmt!r}; choose one of {FORMATS}")


def import_logs(
    fmt: str,
    path: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] = "runs",
    suite_name: str | None = None,
    suite_dir: str | os.PathLike[str] | None = None,
) -> ImportResult:
    """Import the log at ``path`` (format ``jsonl`` or ``inspect``) as run folders in ``out``.

    Suites go to ``suite_dir`` (default ``OUT/suites``), named ``suite_name`` or after each source.
    Importing the same log again replaces the runs it made before.
    """
    from chesseval.importers.runs import write_import

    t0 = time.perf_counter()
    if not Path(path).exists():
        raise ImportFormatError(str(path), None, "no such file")
    answers = read_log(fmt, path)
    runs = write_import(answers, fmt=fmt, log_path=str(path), out=out, suite_dir=suite_dir, suite_name=suite_name)
    verdicts: Counter[str] = Counter()
    for r in runs:
        verdicts.update(r.verdicts)
    modes = Counter(a.mode if a.expected_line is not None else "unjudged" for a in answers)
    return ImportResult(runs, len(answers), dict(verdicts), dict(modes), time.perf_counter() - t0)
