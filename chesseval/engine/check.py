"""Engine checking of played moves, and re-scoring a finished run without any model call.

For each move a solver played, Stockfish searches the position freely (the engine's best move and
score) and, when the played move differs, restricted to the played move (``searchmoves``). Both
scores are turned into Lichess win chances; the *drop* is how much the played move gives away.

The **engine-lenient rule** (an extra metric; the strict Lichess verdict stays the headline) —
a played move is *engine-accepted* when any of these holds:

1. it checkmates at once;
2. the engine's best move mates in n (moves) and the played move mates in m with 0 < m <= n
   ("mates no slower");
3. the engine's best move does not mate, and the played move mates or keeps a decisive win:
   win chances >= 0.6 (about +377 Lichess cp, +217 Stockfish 15.1 cp;
   :data:`chesseval.engine.stockfish.WINNING_WC`).

Scores are stored as the engine reports them and read on Lichess's cp scale (×
:data:`chesseval.engine.stockfish.LICHESS_CP_SCALE`, the miner's scale) whenever a win chance or
threshold is applied, so the lenient rule, the blunder rule and the miner's only-move test read one
scale. Each line records the ``cp_scale`` it was judged on; the report re-judges stored scores on
the current scale, so runs re-scored before the scale existed are read consistently.

A puzzle is solved engine-leniently when it is solved strictly, or when the first solver move
that broke the strict line was a legal move that is engine-accepted: the puzzle is judged at its
first deviation, since the scripted replies no longer apply after it. A move is a **blunder** when
it drops at least 0.3 win chances against the best move (Lichess's analysis rule).

Results go to ``engine.jsonl`` in the run folder, one line per (puzzle, turn, limit), appended and
flushed as they are made: ``records.jsonl`` is never rewritten, a killed re-score loses at most the
line being written (a torn tail is cut off on the next start), and a second re-score skips
everything already checked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import chess

from chesseval.core.puzzles import Puzzle, load_puzzles
from chesseval.core.records import RunDir, RunRecord, TurnRecord, as_record
from chesseval.engine.lines import ENGINE_FILE, MoveCheck, is_engine_accepted, read_engine_lines, read_jsonl, records_by_puzzle
from chesseval.engine.pool import EnginePool
from chesseval.engine.stockfish import AnalysisLimit, EngineConfig, Score, load_engine_config, parse_limit
from chesseval.errors import EngineError, RunError

__all__ = [
    "ENGINE_FILE",
    "ENGINE_SCHEMA",
    "MoveCheck",
    "RescoreStats",
    "check_move",
    "is_engine_accepted",
    "rescore_run",
    "rescore_run_async",
    "read_jsonl",
    "records_by_puzzle",
    "read_engine_lines",
    "position_at_turn",
]

ENGINE_SCHEMA = 1


async def check_move(pool: EnginePool, board: chess.Board, move: chess.Move, limit: AnalysisLimit) -> MoveCheck:
    """Search ``board`` for the best move and score ``move`` against it."""
    if move not in board.legal_moves:
        raise ValueError(f"move {move.uci()!r} is not legal in {board.fen()!r}")
    best = await pool.analyse(board, limit)
    after = board.copy(stack=False)
    after.push(move)
    mates_now = after.is_checkmate()
    if mates_now:
        played_score = Score(mate=1)
    elif best.best_move == move.uci():
        played_score = best.score
    else:
        played_score = (await pool.analyse(board, limit, root_move=move)).score
    return MoveCheck(fen=board.fen(), played=move.uci(), best=best.best_move, best_score=best.score, played_score=played_score, mates_now=mates_now)


# -- reading run files ------------------------------------------------------------------------


def _cut_torn_tail(path: Path) -> None:
    # A kill -9 mid-write leaves a line without its newline; appending after it would glue the
    # next line onto it, so cut it off first (we are the file's only writer).
    if not path.exists():
        return
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def _run_puzzles(run_dir: Path) -> dict[str, Puzzle]:
    """The puzzles of a run, from the suite file named in its ``run.json`` (hash checked)."""
    from chesseval.core.suites import file_sha256

    rundir = RunDir(run_dir)
    meta_path = rundir.header_path
    if not meta_path.exists():
        raise RunError(f"{str(meta_path)!r} does not exist; pass the puzzle file explicitly")
    meta = rundir.read_header()
    suite = meta.get("suite")
    raw = suite.get("path") if isinstance(suite, dict) else None
    if not raw:
        raise RunError(f"{str(meta_path)!r} names no puzzle file (suite.path); pass the puzzle file explicitly")
    # A relative path was relative to where the run started: try there, then beside runs/.
    candidates = [Path(raw)] if Path(raw).is_absolute() else [Path(raw), run_dir.resolve().parent.parent / raw]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise RunError(f"the run's puzzle file {raw!r} (from {str(meta_path)!r}) does not exist; pass it explicitly")
    want = suite.get("sha256")
    if want and file_sha256(path) != want:
        raise RunError(f"puzzle file {str(path)!r} changed since the run (sha256 differs from {str(meta_path)!r}); pass the original explicitly")
    return {p.id: p for p in load_puzzles(path)}


def _record_puzzle(rec: RunRecord) -> Puzzle | None:
    if not rec.fen or not rec.moves:
        return None  # records from before the puzzle was stored in them
    return Puzzle(id=rec.puzzle_id, fen=rec.fen, moves=rec.moves, has_setup_move=rec.has_setup_move, rating=rec.rating)


def position_at_turn(puzzle: Puzzle, index: int, record: RunRecord | Mapping[str, Any] | None = None) -> chess.Board:
    """The board the solver saw at solver move ``index``.

    With the run's ``record``, earlier solver moves are the ones actually played (an accepted
    alternative can differ from the solution); the replies always come from the solution line.
    """
    board = puzzle.board()
    played = {t.index: t.played_uci for t in as_record(record).turns} if record is not None else {}
    for i in range(index):
        board.push(board.parse_uci(played.get(i) or puzzle.line[2 * i]))
        board.push(chess.Move.from_uci(puzzle.line[2 * i + 1]))
    return board


# -- re-scoring -------------------------------------------------------------------------------


@dataclasses.dataclass
class RescoreStats:
    run_dir: str
    limit: str
    moves: int = 0
    """Played moves in the run's records."""
    checked: int = 0
    """Checked now (the rest were already in engine.jsonl)."""
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    engine_id: str | None = None
    cache_hits: int = 0
    searches: int = 0
    restarts: int = 0


def _jobs(records: Iterable[RunRecord]) -> list[tuple[RunRecord, TurnRecord]]:
    return [(rec, turn) for rec in records for turn in rec.turns if turn.played_uci]


def _line(rec: RunRecord, turn: TurnRecord, limit: AnalysisLimit, engine_id: str | None) -> dict[str, Any]:
    return {
        "schema": ENGINE_SCHEMA,
        "puzzle_id": rec.puzzle_id,
        "turn": turn.index,
        "limit": limit.label,
        "limit_key": limit.key,
        "engine": engine_id,
        "expected_uci": turn.expected_uci,
        "strict_outcome": turn.outcome,
    }


async def _check_turn(pool: EnginePool, puzzle: Puzzle | None, rec: RunRecord, turn: TurnRecord, limit: AnalysisLimit) -> dict[str, Any]:
    line = _line(rec, turn, limit, pool.engine_id)
    index = line["turn"]
    try:
        if puzzle is None:
            raise ValueError(f"puzzle {line['puzzle_id']!r} is not in the run's puzzle file")
        if index >= puzzle.n_solver_moves:
            raise ValueError(f"turn {index!r} is past the end of puzzle {puzzle.id!r}")
        board = position_at_turn(puzzle, index, rec)
        try:
            move = board.parse_uci(turn.played_uci or "")
        except ValueError:
            raise ValueError(f"played move {turn.played_uci!r} is not legal in {board.fen()!r}") from None
        result = await check_move(pool, board, move, limit)
        line["engine"] = pool.engine_id
        line.update(result.to_dict())
        line["error"] = None
    except (ValueError, EngineError) as exc:
        line["played_uci"] = turn.played_uci
        line["error"] = f"{type(exc).__name__}: {exc}"
    line["checked_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return line


async def rescore_run_async(
    run_dir: str | os.PathLike[str],
    limit: str | AnalysisLimit = "standard",
    *,
    config: EngineConfig | None = None,
    puzzles: Mapping[str, Puzzle] | str | os.PathLike[str] | None = None,
    pool: EnginePool | None = None,
    processes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RescoreStats:
    """Check every played move of a finished run with Stockfish; append results to engine.jsonl.

    No model is called. ``puzzles`` defaults to the puzzles stored in the records (else the
    puzzle file named in ``run.json``). Moves
    already checked at this limit (without error) are skipped, so this resumes after a kill.
    """
    started = time.perf_counter()
    run = Path(run_dir)
    config = config or (pool.config if pool is not None else load_engine_config())
    lim = parse_limit(limit, config)
    records = records_by_puzzle(run)
    if puzzles is None:
        # Records carry their puzzle (FEN and moves); the suite file is needed only for older ones.
        by_id = {pid: p for pid, rec in records.items() if (p := _record_puzzle(rec)) is not None}
        if len(by_id) < len(records):
            by_id = {**_run_puzzles(run), **by_id}
    elif isinstance(puzzles, Mapping):
        by_id = dict(puzzles)
    else:
        by_id = {p.id: p for p in load_puzzles(puzzles)}
    out_path = run / ENGINE_FILE
    _cut_torn_tail(out_path)
    done = {(ln.get("puzzle_id"), ln.get("turn")) for ln in read_engine_lines(run, lim.label) if ln.get("limit_key") == lim.key and not ln.get("error")}
    jobs = _jobs(records.values())
    todo = [(rec, turn) for rec, turn in jobs if (rec.puzzle_id, turn.index) not in done]
    stats = RescoreStats(run_dir=str(run), limit=lim.label, moves=len(jobs), skipped=len(jobs) - len(todo))
    own_pool = pool is None
    if pool is None:
        pool = EnginePool(config, processes=processes)
    try:
        if todo:
            stats.engine_id = await pool.ensure_started()
            queue: asyncio.Queue[tuple[RunRecord, TurnRecord]] = asyncio.Queue()
            for job in todo:
                queue.put_nowait(job)
            with open(out_path, "a", encoding="utf-8") as fh:

                async def worker() -> None:
                    while True:
                        try:
                            rec, turn = queue.get_nowait()
                        except asyncio.QueueEmpty:
                            return
                        line = await _check_turn(pool, by_id.get(rec.puzzle_id), rec, turn, lim)
                        fh.write(json.dumps(line, separators=(",", ":")) + "\n")
                        fh.flush()
                        stats.checked += 1
                        stats.errors += line["error"] is not None
                        if progress is not None:
                            progress(stats.skipped + stats.checked, stats.moves)

                # Two searches in flight per engine keep every process busy while results are written.
                await asyncio.gather(*(worker() for _ in range(2 * pool.processes)))
        else:
            stats.engine_id = None
    finally:
        stats.cache_hits = pool.stats.cache_hits
        stats.searches = pool.stats.searches
        stats.restarts = pool.stats.restarts
        if own_pool:
            await pool.aclose()
    _add_to_results(run, lim)
    stats.seconds = time.perf_counter() - started
    return stats


def _add_to_results(run: Path, limit: AnalysisLimit) -> None:
    # results.json holds derived aggregates only: the engine summary goes beside the strict
    # numbers under "engine" (keyed by limit), so `run --engine` reports both from one file.
    from chesseval.engine.report import engine_summary

    rundir = RunDir(run)
    results = rundir.read_results()
    if results is None:
        return
    try:
        width = int(rundir.read_header().get("band_width") or 200)
    except (RunError, ValueError):
        width = 200
    rows = engine_summary(run, width, limit=limit.key)
    previous = results.get("engine")
    engine: dict[str, Any] = previous if isinstance(previous, dict) else {}
    engine[limit.label] = {"limit_key": limit.key, "buckets": [r.to_dict() for r in rows]}
    results["engine"] = engine
    rundir.write_results(results)


def rescore_run(run_dir: str | os.PathLike[str], limit: str | AnalysisLimit = "standard", **kwargs: Any) -> RescoreStats:
    """Synchronous facade of :func:`rescore_run_async`."""
    return asyncio.run(rescore_run_async(run_dir, limit, **kwargs))
