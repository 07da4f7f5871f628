"""Stockfish configuration, discovery, analysis limits, scores and win chances.

This module starts no process: it only says *which* binary to run and *how* to search. The pool
that runs engines is :mod:`chesseval.engine.pool`; checking answers is :mod:`chesseval.engine.check`.

Win chances use Lichess's curve, ``wc(cp) = 2 / (1 + exp(-0.00368208 * cp)) - 1`` on [-1, 1], with
any mate exactly ±1 and no clamping of cp (as lichess-puzzler does). Differences of win chances,
not of centipawns, are what the engine metrics compare.

One cp scale. Lichess's curve and lichess-puzzler's thresholds were set on Stockfish's older UCI
cp, where 100 cp was one endgame pawn of internal eval (``PawnValueEg`` = 208). Stockfish 15.1
(Debian's version, the one this project runs) reports cp normalised to its win-rate model instead
(``NormalizeToPawnValue`` = 361), so the same position reads 208/361 ≈ 0.58 times as large. Every
cp an engine reports is therefore put on Lichess's scale, ``LICHESS_CP_SCALE`` = 361/208, before
any Lichess threshold or win chance is read from it: :meth:`Score.to_lichess` here, and
``chesseval.mining.scale_score`` for python-chess scores in the miner. :func:`win_chances` and
:func:`is_winning` read Lichess cp. Stored scores (caches, ``engine.jsonl``) stay the engine's own
cp, so the scale can be changed without searching again.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import chess
import chess.engine

from chesseval.data import STOCKFISH_CONFIG, default_cache_dir
from chesseval.errors import ConfigError, EngineNotFoundError

__all__ = [
    "DEBIAN_STOCKFISH",
    "INSTALL_HINT",
    "FORBIDDEN_OPTIONS",
    "AnalysisLimit",
    "EngineConfig",
    "Score",
    "find_stockfish",
    "load_engine_config",
    "default_config_path",
    "parse_limit",
    "LICHESS_CP_SCALE",
    "LICHESS_CP_SCALE_ENGINE",
    "LICHESS_WC_K",
    "win_chances",
    "is_winning",
    "WINNING_WC",
    "BLUNDER_DROP",
]

DEBIAN_STOCKFISH = "/usr/games/stockfish"
INSTALL_HINT = "install it with 'apt-get install stockfish' or set CHESSEVAL_STOCKFISH=/path/to/stockfish"

# Strength limiting swaps the engine's weaker choice into PV slot 1 and seeds its randomness from
# the clock, so its analysis is not its best line: never allowed for checking or reference play.
FORBIDDEN_OPTIONS = frozenset({"uci_limitstrength", "uci_elo", "skill level"})

LICHESS_CP_SCALE = 361 / 208
"""Engine cp → Lichess cp: Stockfish 15.1's ``NormalizeToPawnValue`` (361) over the older
``PawnValueEg`` (208) that Lichess's curve and thresholds assume. Valid for
:data:`LICHESS_CP_SCALE_ENGINE` only: another Stockfish normalises differently."""

LICHESS_CP_SCALE_ENGINE = "Stockfish 15.1"
"""The engine version :data:`LICHESS_CP_SCALE` was derived for."""

LICHESS_WC_K = 0.00368208
"""Slope of Lichess's win-chance curve, per Lichess cp."""

WINNING_WC = 0.6
"""A decisive win: win chances of at least 0.6 (about +377 Lichess cp, +217 Stockfish 15.1 cp),
lichess-puzzler's bar for "the second-best move still wins" in its mate-in-one test."""

BLUNDER_DROP = 0.3
"""A blunder: losing at least 0.3 win chances against the best move (Lichess's analysis rule)."""


@dataclasses.dataclass(frozen=True)
class Score:
    """An evaluation from the side to move's point of view: centipawns or a mate distance.

    ``mate`` is in moves (UCI convention): positive when the side to move mates, negative when it
    is mated. Positions that are already over are never searched, so ``mate`` is never 0.
    """

    cp: int | None = None
    mate: int | None = None

    def __post_init__(self) -> None:
        if (self.cp is None) == (self.mate is None):
            raise ValueError(f"a Score needs exactly one of cp or mate, got cp={self.cp!r} mate={self.mate!r}")

    @classmethod
    def from_pov(cls, score: chess.engine.PovScore | chess.engine.Score) -> Score:
        rel = score.relative if isinstance(score, chess.engine.PovScore) else score
        mate = rel.mate()
        if mate is not None:
            # Mate(-0) (side to move is mated) and MateGiven both report 0; keep the sign.
            return cls(mate=mate if mate != 0 else (1 if rel > chess.engine.Cp(0) else -1))
        cp = rel.score()
        assert cp is not None
        return cls(cp=cp)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Score:
        if "mate" in data:
            return cls(mate=int(data["mate"]))
        return cls(cp=int(data["cp"]))

    def to_dict(self) -> dict[str, int]:
        return {"mate": self.mate} if self.mate is not None else {"cp": self.cp}  # type: ignore[dict-item]

    def __neg__(self) -> Score:
        return Score(mate=-self.mate) if self.mate is not None else Score(cp=-self.cp)  # type: ignore[operator]

    def to_lichess(self, scale: float = LICHESS_CP_SCALE) -> Score:
        """This engine score on Lichess's cp scale (cp × ``scale``, rounded); mates unchanged."""
        if self.cp is None or scale == 1.0:
            return self
        return Score(cp=round(self.cp * scale))

    @property
    def win_chances(self) -> float:
        """Lichess win chances of this *engine* score (put on Lichess's cp scale first)."""
        return win_chances(self.to_lichess())

    def __str__(self) -> str:
        return f"#{self.mate}" if self.mate is not None else f"{self.cp:+d}cp"


def win_chances(score: Score | chess.engine.Score | int) -> float:
    """Lichess win chances in [-1, 1] for the side to move, of a score in *Lichess* cp (convert an
    engine's score with :meth:`Score.to_lichess` first): wc(cp) = 2/(1+exp(−0.00368208·cp)) − 1;
    mates are exactly ±1 (no cp clamp, as lichess-puzzler). Takes this module's :class:`Score`,
    python-chess's ``chess.engine.Score`` (the miner's, already scaled) or centipawns."""
    if isinstance(score, Score):
        if score.mate is not None:
            return 1.0 if score.mate > 0 else -1.0
        cp = score.cp
    elif isinstance(score, chess.engine.Score):
        mate = score.mate()
        if mate is not None:
            return 1.0 if mate > 0 or score == chess.engine.MateGiven else -1.0
        cp = score.score()
    else:
        cp = score
    assert cp is not None
    x = -LICHESS_WC_K * cp
    if x > 700:  # exp overflow; the limit is exactly -1
        return -1.0
    return 2.0 / (1.0 + math.exp(x)) - 1.0


def is_winning(score: Score) -> bool:
    """A decisive win for the side to move: a mate, or win chances of at least :data:`WINNING_WC`
    (``score`` in Lichess cp)."""
    if score.mate is not None:
        return score.mate > 0
    return win_chances(score) >= WINNING_WC


@dataclasses.dataclass(frozen=True)
class AnalysisLimit:
    """One search budget. ``time`` is always set: a cap for node/depth searches, or the search time."""

    nodes: int | None = None
    depth: int | None = None
    time: float = 10.0
    """Seconds: the cap on a node/depth search, or the fixed search time when neither is set."""
    name: str | None = None
    """The name in the config (``standard``), or None for an ad-hoc ``nodes=5000`` limit."""

    def __post_init__(self) -> None:
        for field in ("nodes", "depth"):
            value = getattr(self, field)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"engine limit {field} must be a whole number >= 1, got {value!r}")
        if isinstance(self.time, bool) or not isinstance(self.time, int | float) or not self.time > 0:
            raise ConfigError(f"engine limit time must be a number of seconds > 0, got {self.time!r}")

    @property
    def key(self) -> str:
        """Canonical text of the budget (``nodes=200000,time=5.0``): part of every cache key."""
        parts = []
        if self.nodes is not None:
            parts.append(f"nodes={self.nodes}")
        if self.depth is not None:
            parts.append(f"depth={self.depth}")
        parts.append(f"time={float(self.time)!r}")
        return ",".join(parts)

    @property
    def label(self) -> str:
        return self.name or self.key

    @property
    def is_timed(self) -> bool:
        """True when the time, not nodes or depth, decides the search: results are not reproducible."""
        return self.nodes is None and self.depth is None

    def to_chess(self) -> chess.engine.Limit:
        return chess.engine.Limit(nodes=self.nodes, depth=self.depth, time=float(self.time))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "nodes": self.nodes, "depth": self.depth, "time": float(self.time)}


_BUILTIN_LIMITS = {
    "quick": AnalysisLimit(nodes=20_000, time=1.0, name="quick"),
    "standard": AnalysisLimit(nodes=200_000, time=5.0, name="standard"),
    "deep": AnalysisLimit(nodes=2_000_000, time=30.0, name="deep"),
}


@dataclasses.dataclass(frozen=True)
class EngineConfig:
    """How to find and run Stockfish; the values of ``stockfish_config/default.toml``."""

    path: str | None = None
    threads: int = 1
    hash_mb: int = 16
    processes: int = 0
    """Engine processes in a pool; 0 means one per core."""
    margin_s: float = 5.0
    """Seconds past a search's time cap after which a silent engine counts as hung."""
    max_retries: int = 2
    cache_dir: str | None = None
    limits: Mapping[str, AnalysisLimit] = dataclasses.field(default_factory=lambda: dict(_BUILTIN_LIMITS))
    source: str | None = None
    """The TOML file this came from (None: built-in defaults)."""

    @property
    def n_processes(self) -> int:
        if self.processes > 0:
            return self.processes
        # The cores this process may run on (a container's CPU set), not the host's count.
        affinity = getattr(os, "sched_getaffinity", None)
        return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)

    @property
    def options(self) -> dict[str, int]:
        """UCI options, in the order they must be sent (Hash after Threads)."""
        return {"Threads": self.threads, "Hash": self.hash_mb}

    def cache_path(self) -> Path:
        if self.cache_dir:
            return Path(self.cache_dir).expanduser()
        return default_cache_dir() / "engine"

    def limit(self, spec: str | AnalysisLimit) -> AnalysisLimit:
        return parse_limit(spec, self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "threads": self.threads,
            "hash_mb": self.hash_mb,
            "processes": self.processes,
            "margin_s": self.margin_s,
            "max_retries": self.max_retries,
            "source": self.source,
        }


def default_config_path() -> Path | None:
    """$CHESSEVAL_ENGINE_CONFIG, else ``stockfish_config/default.toml`` in the working directory or
    bundled with the package (:mod:`chesseval.data`); None when there is none (built-in defaults apply)."""
    env = os.environ.get("CHESSEVAL_ENGINE_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path.cwd() / "stockfish_config" / "default.toml", STOCKFISH_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def _typed(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where}: {key} = {value!r} has the wrong type")
    return value


def load_engine_config(path: str | os.PathLike[str] | None = None) -> EngineConfig:
    """Read an engine config (TOML); ``path=None`` uses :func:`default_config_path`."""
    chosen = Path(path) if path is not None else default_config_path()
    if chosen is None:
        return EngineConfig()
    where = str(chosen)
    try:
        with open(chosen, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"engine config {where!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"engine", "limits"}
    if unknown:
        raise ConfigError(f"{where}: unknown table(s) {sorted(unknown)!r}")
    eng = data.get("engine", {})
    known = {"path", "threads", "hash_mb", "processes", "margin_s", "max_retries", "cache_dir"}
    unknown = set(eng) - known
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in [engine]: {sorted(unknown)!r}")
    threads = _typed(eng, "threads", int, where, 1)
    hash_mb = _typed(eng, "hash_mb", int, where, 16)
    processes = _typed(eng, "processes", int, where, 0)
    margin = float(_typed(eng, "margin_s", (int, float), where, 5.0))
    retries = _typed(eng, "max_retries", int, where, 2)
    if threads < 1 or hash_mb < 1 or processes < 0 or margin <= 0 or retries < 0:
        raise ConfigError(
            f"{where}: [engine] values out of range: threads={threads!r} hash_mb={hash_mb!r} "
            f"processes={processes!r} margin_s={margin!r} max_retries={retries!r}"
        )
    limits: dict[str, AnalysisLimit] = {}
    for name, table in data.get("limits", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: limits.{name} must be a table, got {table!r}")
        bad = set(table) - {"nodes", "depth", "time"}
        if bad:
            raise ConfigError(f"{where}: unknown key(s) in [limits.{name}]: {sorted(bad)!r}")
        if "time" not in table:
            raise ConfigError(f"{where}: [limits.{name}] needs a time cap in seconds (time = ...)")
        try:
            limits[name] = AnalysisLimit(nodes=table.get("nodes"), depth=table.get("depth"), time=table["time"], name=name)
        except ConfigError as exc:
            raise ConfigError(f"{where}: [limits.{name}]: {exc}") from None
    return EngineConfig(
        path=_typed(eng, "path", str, where, "") or None,
        threads=threads,
        hash_mb=hash_mb,
        processes=processes,
        margin_s=margin,
        max_retries=retries,
        cache_dir=_typed(eng, "cache_dir", str, where, "") or None,
        limits=limits or dict(_BUILTIN_LIMITS),
        source=where,
    )


def parse_limit(spec: str | AnalysisLimit, config: EngineConfig | None = None) -> AnalysisLimit:
    """A named limit (``standard``) or an ad-hoc one (``nodes=5000``, ``depth=12,time=3``,
    ``movetime=0.05``). Ad-hoc node/depth limits get a 10 s cap unless ``time=`` is given."""
    if isinstance(spec, AnalysisLimit):
        return spec
    config = config or EngineConfig()
    text = spec.strip()
    if text in config.limits:
        return config.limits[text]
    if "=" not in text:
        raise ConfigError(f"unknown engine limit {spec!r}; named limits: {sorted(config.limits)!r}, or e.g. 'nodes=5000'")
    values: dict[str, Any] = {}
    for part in text.split(","):
        key, _, raw = part.partition("=")
        key = key.strip()
        try:
            if key in ("nodes", "depth"):
                values[key] = int(raw)
            elif key in ("time", "movetime"):
                values["time"] = float(raw)
            else:
                raise ConfigError(f"unknown engine limit key {key!r} in {spec!r}; use nodes, depth, time or movetime")
        except ValueError:
            raise ConfigError(f"engine limit {part.strip()!r} in {spec!r} is not a number") from None
    if "nodes" not in values and "depth" not in values and "time" not in values:
        raise ConfigError(f"engine limit {spec!r} sets no budget")
    return AnalysisLimit(**values)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_stockfish(config: EngineConfig | None = None) -> str:
    """The Stockfish binary: the config's ``path``, then $CHESSEVAL_STOCKFISH, then ``stockfish`` on
    PATH, then /usr/games/stockfish. An explicit setting that is wrong is an error, not skipped."""
    explicit = [("engine config path", config.path if config else None), ("CHESSEVAL_STOCKFISH", os.environ.get("CHESSEVAL_STOCKFISH"))]
    for what, value in explicit:
        if value:
            resolved = shutil.which(value) if os.sep not in value else value
            if resolved and _executable(resolved):
                return resolved
            raise EngineNotFoundError(f"Stockfish not found: {what} = {value!r} is not an executable file; {INSTALL_HINT}")
    found = shutil.which("stockfish")
    if found:
        return found
    if _executable(DEBIAN_STOCKFISH):
        return DEBIAN_STOCKFISH
    raise EngineNotFoundError(f"Stockfish not found on PATH or at {DEBIAN_STOCKFISH}; {INSTALL_HINT}")


def build_settings(binary: str, *, timeout: float = 10.0) -> tuple[str, ...] | None:
    """What the binary says it was compiled with (``stockfish compiler``), e.g. ``("64bit", "SSE2")``.

    None when the binary does not answer the ``compiler`` command (older or other engines).
    """
    import subprocess

    try:
        out = subprocess.run([binary, "compiler"], capture_output=True, text=True, timeout=timeout, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_build_settings(out)


def parse_build_settings(text: str) -> tuple[str, ...] | None:
    for line in text.splitlines():
        if line.strip().lower().startswith("compilation settings include:"):
            return tuple(line.split(":", 1)[1].split())
    return None


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's instruction-set flags (Linux); empty where they cannot be read."""
    try:
        with open(cpuinfo, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def unused_isas(settings: tuple[str, ...], flags: frozenset[str]) -> tuple[str, ...]:
    """Fast instruction sets the CPU has but the build does not use (e.g. ``("avx2", "bmi2")``).

    NNUE evaluation is vectorised, so a generic SSE2 build (Debian's package) searches far fewer
    nodes per second than a build for the CPU; that matters whenever a limit is in seconds.
    """
    built = {s.lower() for s in settings}
    return tuple(isa for isa in ("avx2", "bmi2") if isa in flags and isa not in built)

