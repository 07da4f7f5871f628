"""From re-graded answers to ordinary run folders and suites.

Answers are grouped into one run per (source, model, prompt style), under the player name
``replay/<model>``. The positions with a solution become the source's suite (written with
:func:`chesseval.suites.write_suite`, hashed like any other), so every model of one source shares
a suite hash and ``compare`` pairs them on the puzzle ids. Nothing is dropped: an answer whose
puzzle the same run already holds goes to a second run of the same key (``attempt`` 2, …), so a
run never holds a puzzle twice and every input answer is in exactly one record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import chess

from chesseval.core.puzzles import Puzzle
from chesseval.core.records import HEADER_FILE, RECORDS_FILE, RESULTS_FILE, RunDir, RunStatus, list_runs, slug, utc_now
from chesseval.core.results import summarize
from chesseval.core.suites import Suite, write_suite
from chesseval.importers.judging import ForeignAnswer, ImportFormatError, judge_answer
from chesseval.version import __version__

__all__ = ["ImportedRun", "write_import"]


@dataclasses.dataclass(frozen=True)
class ImportedRun:
    path: Path
    source: str
    model: str
    style: str
    attempt: int
    n: int
    verdicts: dict[str, int]


def _puzzle_ids(answers: Sequence[ForeignAnswer]) -> list[str | None]:
    """Puzzle ids per answer: the log's id, with ``@<move><w|b>`` where one id has several positions.

    Some harnesses ask one puzzle step by step (one answer per position on the solution line);
    each position is then its own suite entry. Game moves get an id from their file and position.
    """
    fens: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in answers:
        if a.puzzle_id is not None and a.expected_line is not None:
            fens[a.source, a.puzzle_id].add(a.fen)
    out: list[str | None] = []
    for a in answers:
        if a.expected_line is None:
            stem = Path(a.source_file or a.source).stem
            board = chess.Board(a.fen)
            out.append(f"{stem}@{board.fullmove_number}{'w' if board.turn else 'b'}")
        elif a.puzzle_id is None:
            out.append("pos-" + hashlib.sha256(" ".join((a.fen, *a.expected_line)).encode()).hexdigest()[:10])
        elif len(fens[a.source, a.puzzle_id]) > 1:
            board = chess.Board(a.fen)
            out.append(f"{a.puzzle_id}@{board.fullmove_number}{'w' if board.turn else 'b'}")
        else:
            out.append(a.puzzle_id)
    return out


def _suite_puzzles(answers: Sequence[ForeignAnswer], ids: Sequence[str | None], path: str) -> list[Puzzle]:
    seen: dict[str, Puzzle] = {}
    for a, pid in zip(answers, ids, strict=True):
        p = a.puzzle(pid) if pid is not None else None
        if p is None:
            continue
        prev = seen.get(p.id)
        if prev is None:
            seen[p.id] = p
        elif (prev.fen, prev.moves) != (p.fen, p.moves):
            raise ImportFormatError(path, a.where, f"puzzle {p.id!r} has another position or solution than earlier in the log ({' '.join(p.moves)!r} vs {' '.join(prev.moves)!r})")
    return sorted(seen.values(), key=lambda p: p.id)


def _write_suite(name: str, puzzles: list[Puzzle], suite_dir: Path, *, source: str, log: str, log_sha256: str, command: str) -> Suite:
    return write_suite(
        name, puzzles, suite_dir, version="import", command=command,
        description=f"the positions with a solution in {source}'s log, imported by chesseval",
        extra={"source": {"harness": source, "log": log, "log_sha256": log_sha256}},
    )  # fmt: skip


def _positions_suite(name: str, answers: Sequence[ForeignAnswer], ids: Sequence[str | None]) -> dict[str, Any]:
    """What a run of game moves (no solutions) records as its suite: the positions, hashed."""
    items = sorted({(pid, a.fen) for a, pid in zip(answers, ids, strict=True) if pid is not None})
    digest = hashlib.sha256("\n".join(f"{i} {f}" for i, f in items).encode()).hexdigest()
    return {"name": name, "version": "import", "path": None, "sha256": digest, "count": len(items), "kind": "positions without solutions"}


def write_import(
    answers: Sequence[ForeignAnswer],
    *,
    fmt: str,
    log_path: str,
    out: str | os.PathLike[str],
    suite_dir: str | os.PathLike[str] | None = None,
    suite_name: str | None = None,
) -> list[ImportedRun]:
    """Regrade ``answers`` and write their runs (and suites); returns the runs written."""
    log_sha256 = _file_sha256(log_path)
    out_dir = Path(out)
    suites_at = Path(suite_dir) if suite_dir is not None else out_dir / "suites"
    ids = _puzzle_ids(answers)
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(answers):
        by_source[a.source].append(i)
    command = f"chesseval import {fmt} {log_path}" + (f" --suite-name {suite_name}" if suite_name else "")
    suites: dict[str, dict[str, Any]] = {}
    for source, idx in by_source.items():
        name = suite_name if suite_name and len(by_source) == 1 else (f"{suite_name}-{slug(source)}" if suite_name else slug(source))
        judged = [answers[i] for i in idx]
        puzzles = _suite_puzzles(judged, [ids[i] for i in idx], log_path)
        if puzzles:
            suite = _write_suite(name, puzzles, suites_at, source=source, log=str(log_path), log_sha256=log_sha256, command=command)
            suites[source] = {**suite.to_dict(), "manifest": str(suite.manifest)}
        else:
            suites[source] = _positions_suite(name, judged, [ids[i] for i in idx])

    # One run per (source, model, style); a puzzle already in a run starts the next attempt.
    groups: dict[tuple[str, str, str, int], list[dict[str, Any]]] = defaultdict(list)
    held: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    records = asyncio.run(_regrade_all(answers, ids))
    for a, pid, record in zip(answers, ids, records, strict=True):
        key3 = (a.source, a.model, a.style)
        attempt = held[key3].get(str(pid), 0) + 1
        held[key3][str(pid)] = attempt
        record["puzzle_id"] = pid
        groups[(*key3, attempt)].append(record)

    runs: list[ImportedRun] = []
    for (source, model, style, attempt), run_records in groups.items():
        run = _write_run(out_dir, source=source, model=model, style=style, attempt=attempt, records=run_records,
                         suite=suites[source], fmt=fmt, log_path=str(log_path), log_sha256=log_sha256)  # fmt: skip
        runs.append(ImportedRun(run.path, source, model, style, attempt, len(run_records), dict(Counter(r["verdict"] for r in run_records))))
    return runs


async def _regrade_all(answers: Sequence[ForeignAnswer], ids: Sequence[str | None]) -> list[dict[str, Any]]:
    # One event loop for the whole log: the replayed answers need no network, only the runner's code.
    return [await judge_answer(a, a.puzzle(pid) if pid is not None else None) for a, pid in zip(answers, ids, strict=True)]


def _file_sha256(path: str | os.PathLike[str]) -> str:
    from chesseval.core.suites import file_sha256

    return file_sha256(path)


def _write_run(out_dir: Path, *, source: str, model: str, style: str, attempt: int, records: list[dict[str, Any]],
               suite: dict[str, Any], fmt: str, log_path: str, log_sha256: str) -> RunDir:  # fmt: skip
    identity = {"import": fmt, "log_sha256": log_sha256, "source": source, "model": model, "style": style, "attempt": attempt,
                "suite_sha256": suite["sha256"], "chesseval": __version__}  # fmt: skip
    config_hash = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    player = f"replay/{model}"
    header = {
        "config_hash": config_hash,
        "model": player,
        "model_options": {},
        "player": {"name": player, "kind": "replay", "source": source, "source_model": model},
        "suite": {k: v for k, v in suite.items() if k != "manifest"},
        "format": style,
        "template": f"import:{source}",
        "prompt_options": {},
        "limit": None,
        "seed": 0,
        "max_connections": 0,
        "band_width": 200,
        "meta": {"source": source, "import_format": fmt, "attempt": str(attempt), "label": player + (f"#{attempt}" if attempt > 1 else "")},
        "engine": None,
        "versions": {"chesseval": __version__, "python-chess": chess.__version__},
        "n_puzzles": len(records),
        "import": {"format": fmt, "log": log_path, "log_sha256": log_sha256, "source": source, "source_model": model,
                   "style": style, "attempt": attempt},  # fmt: skip
    }
    # Importing the same log again replaces its runs instead of adding copies.
    for old in list_runs(out_dir):
        try:
            if old.read_header().get("config_hash") == config_hash:
                _remove_run(old.path)
        except Exception:  # noqa: BLE001 - an unreadable foreign folder is not ours to judge
            continue
    run = RunDir.create(out_dir, suite=str(suite["name"]), model=player, header={**header, "status": RunStatus.STARTED, "started_at": utc_now()})
    try:
        for rec in records:
            run.append(rec)
    finally:
        run.close()
    run.write_results(summarize(records))
    run.update_header(status=RunStatus.SUCCESS, finished_at=utc_now())
    return run


def _remove_run(path: Path) -> None:
    for name in (HEADER_FILE, RECORDS_FILE, RESULTS_FILE, "report.html"):
        (path / name).unlink(missing_ok=True)
    try:
        path.rmdir()
    except OSError:
        pass  # something else lives there: leave it
