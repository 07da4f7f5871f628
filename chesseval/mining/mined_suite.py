"""Building a rated suite from scratch: self-play → mine → rate → select → write_suite.

One worker job plays game ``i`` of the seed and mines it at once, so the two engine-heavy stages
share one pool with no barrier between them.

Only the first ``trap_games`` games look for traps. Trap branches fill the easy bands quickly (most
traps are a piece left hanging or a mate in one), but they rarely give a hard puzzle; a plain game
(no trap search, blunders taken back) is about three times faster, and its blunders, made by a
depth-limited search that walks into tactics deeper than it can see, are rarer but harder. Once
the easy bands are full, the cheap games are the better use of the engine
(``benchmarks/bench_suite_mix.py`` measures both from one build's cache).

Finished games are appended to a cache file in the work directory (in game order), so an
interrupted build resumes where it stopped, and a build with more games reuses the games already
made. The result does not depend on the worker count.

Playing a game costs several times more than mining it, so when only the mining settings change
(the node budget, the cp scale), the cached games are kept and only mined again from their stored
PGN. The old cache is set aside as ``games.previous.jsonl`` until every game in it has been mined
again, so an interrupted re-mine loses no game either.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import chess.engine
import chess.pgn

from chesseval.errors import ConfigError
from chesseval.mining.miner import MiningConfig, merge_puzzles, mine_game, open_engine
from chesseval.core.puzzles import Puzzle
from chesseval.mining.selfplay import SelfPlayConfig, play_game

__all__ = ["SuitePlan", "build_suite", "play_and_mine", "select_by_band", "shortfall", "BANDS", "MIN_PER_BAND"]

BANDS = tuple(range(600, 2600, 200))
MIN_PER_BAND = 40
"""The default suite's target: at least this many puzzles in every band."""


@dataclasses.dataclass(frozen=True)
class SuitePlan:
    games: int
    seed: int = 0
    nodes: int = 200_000
    workers: int = 1
    per_band: int = 100
    name: str = "default"
    trap_games: int | None = None
    """Games with an index below this look for traps; None means every game does."""

    def uses_traps(self, index: int) -> bool:
        return self.trap_games is None or index < self.trap_games

    def cache_key(self) -> dict[str, object]:
        """What the cached games depend on (not the game count, the workers or the selection).

        Which kind of game a record holds is kept in the record itself, so changing ``trap_games``
        redoes only the games it moves across the line."""
        return {
            "seed": self.seed,
            "selfplay": _selfplay_key(),
            "mining": MiningConfig(nodes=self.nodes).to_dict(),
        }


def selfplay_config(traps: bool) -> SelfPlayConfig:
    """Trap games use the defaults; plain games search no traps but take back their blunders."""
    config = SelfPlayConfig()
    return config if traps else dataclasses.replace(config, trap_rate=(0.0, 0.0), take_back=True)


def _design_of(traps: bool) -> str:
    return "traps" if traps else "plain-take-back"


def _design(record: dict[str, object]) -> str:
    """A record's kind of game; records older than the field were all trap games."""
    return str(record.get("design") or ("traps" if record.get("traps", True) else "plain"))


def _selfplay_key() -> dict[str, object]:
    key = dataclasses.asdict(SelfPlayConfig())
    # Left out at its default so that caches made before the option existed stay valid; a game's
    # own record says whether it was a trap game.
    if key.get("take_back") is False:
        del key["take_back"]
    return key


CACHE_FILE = "games.jsonl"
PREVIOUS_CACHE_FILE = "games.previous.jsonl"
"""Where a cache made with other mining settings waits until its games are mined again."""

_WORKER: dict[str, object] = {}


def _init(nodes: int) -> None:
    _WORKER["engine"] = open_engine(None, threads=1, hash_mb=16)
    _WORKER["mining"] = MiningConfig(nodes=nodes)


def play_and_mine(engine: chess.engine.SimpleEngine, selfplay: SelfPlayConfig, mining: MiningConfig, seed: int,
                  index: int) -> tuple[list[chess.pgn.Game], list[tuple[Puzzle, dict[str, object]]]]:
    """Self-play game ``index`` of ``seed`` with its branch games, and every puzzle mined from them."""
    games = play_game(engine, selfplay, seed, index)
    found: list[tuple[Puzzle, dict[str, object]]] = []
    for k, game in enumerate(games):
        found.extend(mine_game(engine, game, mining, source=game.headers["Site"], game_key=("mine", seed, index, k)))
    return games, found


def remine(engine: chess.engine.SimpleEngine, mining: MiningConfig, seed: int, index: int, pgn: str
           ) -> list[tuple[Puzzle, dict[str, object]]]:
    """The puzzles of game ``index`` and its branch games, mined again from their stored PGN.

    Same games, same order and same engine keys as :func:`play_and_mine`, so the result is what
    playing the game again with these mining settings would give (``%eval`` keeps whole cp)."""
    import io

    found: list[tuple[Puzzle, dict[str, object]]] = []
    text = io.StringIO(pgn)
    k = 0
    while (game := chess.pgn.read_game(text)) is not None:
        found.extend(mine_game(engine, game, mining, source=game.headers["Site"], game_key=("mine", seed, index, k)))
        k += 1
    return found


def _puzzle_dicts(found: list[tuple[Puzzle, dict[str, object]]]) -> list[dict[str, object]]:
    return [{"id": p.id, "fen": p.fen, "moves": list(p.moves), "themes": list(p.themes), "game_url": p.game_url, **facts}
            for p, facts in found]


def _remine_job(job: tuple[int, dict[str, object]]) -> dict[str, object]:
    seed, old = job
    engine = _WORKER["engine"]
    mining = _WORKER["mining"]
    assert isinstance(engine, chess.engine.SimpleEngine) and isinstance(mining, MiningConfig)
    start = time.perf_counter()
    found = remine(engine, mining, seed, int(old["index"]), str(old["pgn"]))  # type: ignore[call-overload]
    # ``seconds`` stays the engine time of playing and first mining the game (what a fresh game
    # costs); the new mining time is kept beside it.
    return {**old, "puzzles": _puzzle_dicts(found), "remined_seconds": round(time.perf_counter() - start, 2)}


def _job(job: tuple[int, int, bool]) -> dict[str, object]:
    seed, index, traps = job
    engine = _WORKER["engine"]
    mining = _WORKER["mining"]
    assert isinstance(engine, chess.engine.SimpleEngine) and isinstance(mining, MiningConfig)
    selfplay = selfplay_config(traps)
    start = time.perf_counter()
    games, found = play_and_mine(engine, selfplay, mining, seed, index)
    return {
        "index": index,
        "design": _design_of(traps),
        "seconds": round(time.perf_counter() - start, 2),  # one engine thread: this is the game's engine time
        "pgn": "\n\n".join(g.accept(chess.pgn.StringExporter(headers=True, variations=False, comments=True)) for g in games),
        "puzzles": _puzzle_dicts(found),
    }


def _read_cache(path: Path) -> tuple[object, dict[int, dict[str, object]]]:
    """The header key and the records of a cache file (a cut-short last line is dropped)."""
    done: dict[int, dict[str, object]] = {}
    with open(path, encoding="utf-8") as fh:
        header = json.loads(fh.readline() or "null")
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut short by an interrupted build: redo from there
            done[int(rec["index"])] = rec
    return header.get("key") if isinstance(header, dict) else None, done


def _same_games(a: object, b: dict[str, object]) -> bool:
    """Both keys make the same games (they may mine them differently)."""
    return isinstance(a, dict) and all(a.get(k) == b.get(k) for k in ("seed", "selfplay"))


def _load_cache(work_dir: Path, key: dict[str, object]) -> tuple[dict[int, dict[str, object]], dict[int, dict[str, object]]]:
    """Records usable as they are, and records whose games are usable but must be mined again."""
    cache, previous = work_dir / CACHE_FILE, work_dir / PREVIOUS_CACHE_FILE
    done: dict[int, dict[str, object]] = {}
    if cache.exists():
        old_key, records = _read_cache(cache)
        if old_key == key:
            done = records
        elif _same_games(old_key, key) and not previous.exists():
            cache.replace(previous)  # kept until each of its games is mined again
        else:
            raise ConfigError(f"{cache}: made with other settings ({old_key!r}); use another --work-dir")
    to_remine: dict[int, dict[str, object]] = {}
    if previous.exists():
        old_key, records = _read_cache(previous)
        if _same_games(old_key, key):
            to_remine = {i: r for i, r in records.items() if i not in done}
    return done, to_remine


def run_games(plan: SuitePlan, work_dir: Path, progress=None) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every game's record (pgn + mined puzzles), making the missing ones."""
    work_dir.mkdir(parents=True, exist_ok=True)
    cache = work_dir / CACHE_FILE
    key = json.loads(json.dumps(plan.cache_key()))
    cached, previous = _load_cache(work_dir, key)
    done = {i: rec for i, rec in cached.items() if _design(rec) == _design_of(plan.uses_traps(i))}
    reusable = {i for i in range(plan.games)
                if i not in done and i in previous and _design(previous[i]) == _design_of(plan.uses_traps(i))}
    remine_todo = [(plan.seed, previous[i]) for i in sorted(reusable)]
    todo = [(plan.seed, i, plan.uses_traps(i)) for i in range(plan.games) if i not in done and i not in reusable]
    if not cache.exists() or not done:  # (a record the plan no longer wants is dropped here too)
        cache.write_text(json.dumps({"key": key}) + "\n", encoding="utf-8")
    else:  # rewrite without any cut-short tail
        with open(cache, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key}) + "\n")
            for i in sorted(done):
                fh.write(json.dumps(done[i]) + "\n")
    with open(cache, "a", encoding="utf-8") as fh:
        def save(rec: dict[str, object]) -> None:
            done[int(rec["index"])] = rec  # type: ignore[call-overload]
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            if progress:
                progress(len(done), plan.games, sum(len(r["puzzles"]) for r in done.values()))  # type: ignore[arg-type]

        if plan.workers <= 1:
            _init(plan.nodes)
            try:
                for rjob in remine_todo:
                    save(_remine_job(rjob))
                for job in todo:
                    save(_job(job))
            finally:
                engine = _WORKER.pop("engine")
                assert isinstance(engine, chess.engine.SimpleEngine)
                engine.quit()
        elif todo or remine_todo:
            import multiprocessing

            with multiprocessing.get_context("spawn").Pool(plan.workers, initializer=_init, initargs=(plan.nodes,)) as pool:
                for rec in pool.imap_unordered(_remine_job, remine_todo, chunksize=4):
                    save(rec)
                for rec in pool.imap_unordered(_job, todo, chunksize=1):
                    save(rec)
    if all(i in done for i in previous):
        (work_dir / PREVIOUS_CACHE_FILE).unlink(missing_ok=True)  # every game in it has been mined again
    return [done[i] for i in range(plan.games)]


def _histogram(puzzles: list[Puzzle]) -> dict[str, int]:
    return {f"{lo}-{lo + 199}": sum(1 for p in puzzles if p.rating is not None and lo <= p.rating < lo + 200) for lo in BANDS}


def shortfall(histogram: dict[str, int], games: int, minimum: int = MIN_PER_BAND) -> list[tuple[str, int, int | None]]:
    """Bands holding fewer than ``minimum`` puzzles, each with a rough count of further games that
    would fill it at this build's yield per game (None: the band is empty, no yield to go by)."""
    out: list[tuple[str, int, int | None]] = []
    for lo in BANDS:
        band = f"{lo}-{lo + 199}"
        have = histogram.get(band, 0)
        if have < minimum:
            out.append((band, have, math.ceil((minimum - have) * games / have) if have and games else None))
    return out


def select_by_band(puzzles: list[Puzzle], per_band: int) -> list[Puzzle]:
    """Rated puzzles in 600–2599, at most ``per_band`` per 200-point band (lowest ids first), and at
    most one per starting position (several trap moves in one position often allow the same tactic;
    the hardest bands choose first, since they are the scarcest)."""
    out: list[Puzzle] = []
    used: set[str] = set()
    for lo in reversed(BANDS):
        band = sorted((p for p in puzzles if p.rating is not None and lo <= p.rating < lo + 200), key=lambda p: p.id)
        taken = 0
        for p in band:
            if taken >= per_band:
                break
            if p.fen in used:
                continue
            used.add(p.fen)
            out.append(p)
            taken += 1
    return sorted(out, key=lambda p: p.id)


def build_suite(plan: SuitePlan, *, out_dir: Path, work_dir: Path, command: str, progress=None):  # type: ignore[no-untyped-def]
    from chesseval.mining.difficulty import MODEL_PATH, rate_puzzles
    from chesseval.core.suites import write_suite

    records = run_games(plan, work_dir, progress)
    raw = [
        Puzzle(id=str(d["id"]), fen=str(d["fen"]), moves=tuple(d["moves"]), themes=tuple(d["themes"]),  # type: ignore[arg-type]
               game_url=str(d["game_url"]), rating_source="none")
        for rec in records for d in rec["puzzles"]  # type: ignore[attr-defined]
    ]
    rated = rate_puzzles(merge_puzzles([raw]))
    chosen = select_by_band(rated, plan.per_band)
    games_pgn = work_dir / "games.pgn"
    games_pgn.write_text("\n\n".join(str(r["pgn"]) for r in records) + "\n", encoding="utf-8")
    return write_suite(
        plan.name,
        chosen,
        out_dir,
        version="1",
        description=(f"{len(chosen)} puzzles mined by chesseval from {plan.games} Stockfish self-play games "
                     f"(seed {plan.seed}); ratings are estimates of the Lichess rating (rating_source=estimated)."),
        command=command,
        extra={
            "generator": {
                "games": plan.games,
                "trap_games": plan.games if plan.trap_games is None else min(plan.trap_games, plan.games),
                "seed": plan.seed,
                "selfplay": dataclasses.asdict(selfplay_config(True)),
                "plain_selfplay": dataclasses.asdict(selfplay_config(False)),
                "mining": MiningConfig(nodes=plan.nodes).to_dict(),
                "engine": "Stockfish (Threads=1, Hash=16, node limits)",
                "difficulty_model": MODEL_PATH.name,
                "mined_total": len(rated),
                "mined_histogram": _histogram(rated),
                "per_band_cap": plan.per_band,
            }
        },
    )
