"""Suites: a puzzle file plus a small manifest saying what it is and how it was made.

A suite named ``NAME`` is ``NAME.csv`` (Lichess layout) with ``NAME.json`` beside it. The manifest
holds the sha256 of the puzzle file; every run records it, so results on different suites (or on a
suite that was edited) are never compared by accident. Manifests carry no timestamps, so building
the same suite twice gives byte-identical files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from chesseval.core.puzzles import Puzzle, write_lichess_csv, write_puzzle_pgn
from chesseval.data import PUZZLES_DIR
from chesseval.errors import ConfigError, PuzzleFormatError
from chesseval.version import __version__

__all__ = [
    "Suite",
    "SUITE_SCHEMA",
    "suite_dirs",
    "resolve_suite",
    "list_suites",
    "write_suite",
    "rewrite_suite",
    "rating_histogram",
    "band_label",
    "file_sha256",
]

SUITE_SCHEMA = 1
PUZZLE_SUFFIXES = (".csv", ".csv.zst", ".epd", ".pgn")


@dataclasses.dataclass(frozen=True)
class Suite:
    """A named, hashed puzzle file."""

    name: str
    path: Path
    """The puzzle file."""
    sha256: str
    version: str | None = None
    description: str = ""
    command: str | None = None
    """The command that produced the puzzle file, when chesseval made it."""
    count: int | None = None
    histogram: dict[str, int] = dataclasses.field(default_factory=dict)
    manifest: Path | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def is_built_from(self, source: str | os.PathLike[str]) -> bool | None:
        """Whether ``chesseval suite build`` cut this suite from the file ``source`` (by sha256);
        None when the manifest does not say. A cache of suites cut from one Lichess file must not
        be reused for another."""
        recorded = ((self.extra.get("build") or {}).get("source") or {}).get("sha256")
        return None if not recorded else recorded == file_sha256(source)

    def to_dict(self) -> dict[str, Any]:
        """What a run records about its suite."""
        return {
            "name": self.name,
            "version": self.version,
            "path": str(self.path),
            "sha256": self.sha256,
            "count": self.count,
        }


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def band_label(rating: int | None, width: int = 200) -> str:
    """``1784`` -> ``"1600-1799"``; None -> ``"unrated"``."""
    if rating is None:
        return "unrated"
    lo = (rating // width) * width
    return f"{lo}-{lo + width - 1}"


def rating_histogram(puzzles: Iterable[Puzzle], width: int = 200) -> dict[str, int]:
    counts = Counter(band_label(p.rating, width) for p in puzzles)
    # Numeric order, 'unrated' last: the order people read a histogram in.
    return dict(sorted(counts.items(), key=lambda kv: (kv[0] == "unrated", int(kv[0].split("-")[0]) if kv[0] != "unrated" else 0)))


def suite_dirs() -> list[Path]:
    """Where suite names are looked up: $CHESSEVAL_SUITES_DIR, ./puzzles, the bundled puzzles/ (:mod:`chesseval.data`)."""
    dirs: list[Path] = []
    env = os.environ.get("CHESSEVAL_SUITES_DIR")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.append(Path.cwd() / "puzzles")
    dirs.append(PUZZLES_DIR)
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable suite manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: suite manifest is not a JSON object")
    return data


def _from_manifest(manifest: Path) -> Suite:
    data = _read_manifest(manifest)
    puzzle_file = manifest.parent / str(data.get("puzzle_file") or (manifest.stem + ".csv"))
    if not puzzle_file.exists():
        raise ConfigError(f"{manifest}: puzzle file {str(puzzle_file)!r} is missing")
    return Suite(
        name=str(data.get("name") or manifest.stem),
        path=puzzle_file,
        sha256=file_sha256(puzzle_file),
        version=data.get("version"),
        description=str(data.get("description") or ""),
        command=data.get("command"),
        count=data.get("count"),
        histogram=dict(data.get("rating_histogram") or {}),
        manifest=manifest,
        extra={k: v for k, v in data.items() if k not in {"name", "version", "description", "command", "count", "rating_histogram", "puzzle_file", "sha256", "schema"}},
    )


def resolve_suite(spec: str | os.PathLike[str]) -> Suite:
    """A suite from a name (looked up in :func:`suite_dirs`), a manifest, or a puzzle file path.

    The sha256 is always computed from the file on disk; a manifest whose recorded hash differs is
    an error, since the puzzles changed after the suite was made.
    """
    p = Path(spec)
    if p.suffix == ".json" and p.exists():
        suite = _from_manifest(p)
    elif p.exists() and p.is_file():
        name = p.name
        for suf in PUZZLE_SUFFIXES:
            if name.endswith(suf):
                name = name[: -len(suf)]
                break
        manifest = p.with_name(name + ".json")
        if manifest.exists():
            suite = _from_manifest(manifest)
            if suite.path.resolve() != p.resolve():
                suite = Suite(name=name, path=p, sha256=file_sha256(p))
        else:
            suite = Suite(name=name, path=p, sha256=file_sha256(p))
    else:
        # "default" is the bundled rated suite; until one is built, the starter suite stands in.
        names = [str(spec), "starter"] if str(spec) == "default" else [str(spec)]
        found = [d / f"{n}.json" for n in names for d in suite_dirs() if (d / f"{n}.json").exists()]
        if found:
            suite = _from_manifest(found[0])
        elif p.is_dir():
            raise PuzzleFormatError(str(p), None, "is a directory, not a puzzle file (.csv, .csv.zst, .epd or .pgn) or a suite name")
        else:
            known = ", ".join(s.name for s in list_suites()) or "none"
            raise ConfigError(f"unknown suite {str(spec)!r}: not a file, and no manifest of that name (known suites: {known})")
    if suite.manifest is not None:
        recorded = _read_manifest(suite.manifest).get("sha256")
        if recorded and recorded != suite.sha256:
            raise ConfigError(f"{suite.manifest}: puzzle file {str(suite.path)!r} has sha256 {suite.sha256[:12]}…, manifest says {str(recorded)[:12]}… (the file changed after the suite was built)")
    return suite


def list_suites() -> list[Suite]:
    out: list[Suite] = []
    seen: set[str] = set()
    for d in suite_dirs():
        for manifest in sorted(d.glob("*.json")):
            try:
                data = _read_manifest(manifest)
            except ConfigError:
                continue
            if data.get("schema") != SUITE_SCHEMA or manifest.stem in seen:
                continue
            seen.add(manifest.stem)
            try:
                out.append(_from_manifest(manifest))
            except ConfigError:
                continue
    return out


def write_suite(
    name: str,
    puzzles: Sequence[Puzzle],
    out_dir: str | os.PathLike[str],
    *,
    version: str,
    description: str,
    command: str,
    extra: dict[str, Any] | None = None,
    band_width: int = 200,
) -> Suite:
    """Write ``NAME.csv`` and ``NAME.json`` into ``out_dir`` and return the suite.

    The CSV has a ``RatingSource`` column so estimated ratings stay marked as such. Puzzles that
    start at the solver's move (no Lichess setup move) cannot be a Lichess row: when any puzzle is
    such, the suite is written as ``NAME.pgn`` instead.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    as_pgn = any(not p.has_setup_move for p in puzzles)
    csv_path = out / f"{name}.pgn" if as_pgn else out / f"{name}.csv"
    tmp = csv_path.with_name(csv_path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        if as_pgn:
            write_puzzle_pgn(puzzles, fh)
        else:
            write_lichess_csv(puzzles, fh, rating_source=True)
    os.replace(tmp, csv_path)
    digest = file_sha256(csv_path)
    manifest: dict[str, Any] = {
        "schema": SUITE_SCHEMA,
        "name": name,
        "version": version,
        "description": description,
        "command": command,
        "puzzle_file": csv_path.name,
        "sha256": digest,
        "count": len(puzzles),
        "rating_histogram": rating_histogram(puzzles, band_width),
        "rating_sources": dict(sorted(Counter(p.rating_source for p in puzzles).items())),
        "created_with": f"chesseval {__version__}",
    }
    if extra:
        manifest.update(extra)
    man_path = out / f"{name}.json"
    man_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return _from_manifest(man_path)


_MANIFEST_OWN = ("schema", "name", "puzzle_file", "sha256", "count", "rating_histogram", "rating_sources", "created_with")


def rewrite_suite(
    manifest_path: str | os.PathLike[str],
    puzzles: Sequence[Puzzle],
    *,
    version: str | None = None,
    description: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Suite:
    """Write ``puzzles`` over an existing suite, keeping its manifest's command, version,
    description and extra fields (each replaced when given; ``extra`` keys are added or replaced);
    the count, histogram, hash and sources are recomputed by :func:`write_suite`."""
    path = Path(manifest_path)
    old = _read_manifest(path)
    kept = {k: v for k, v in old.items() if k not in _MANIFEST_OWN and k not in ("version", "description", "command")}
    kept.update(extra or {})
    return write_suite(
        str(old["name"]),
        puzzles,
        path.parent,
        version=str(old.get("version", "1")) if version is None else version,
        description=str(old.get("description", "")) if description is None else description,
        command=str(old.get("command", "")),
        extra=kept,
    )
