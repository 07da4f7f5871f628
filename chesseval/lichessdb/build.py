"""Build a stratified, reproducible suite from the whole Lichess puzzle database.

The database (``.csv.zst`` or ``.csv``, ~5.8 M rows) is streamed in blocks; memory stays bounded
whatever its size. A row is selected in three steps, cheapest first:

1. **Plain fields, vectorised.** Each block is split into lines and fields with numpy (no field in
   the Lichess data holds a comma or a quote), and the integer columns are parsed as arrays; the
   quality filters (plays, rating deviation, popularity), the rating range and the puzzle length
   are array masks. Lines that do not fit that mould (a quote, another number of commas, a
   number written oddly) take the exact slow path: :mod:`csv` and the loader's rules.
2. **Per candidate.** Themes and opening tags are checked, and the candidate's key
   ``sha256(f"{seed}:{PuzzleId}")`` is computed. Only a key below the band's current k-th
   smallest can enter the band's bounded heap.
3. **The winners.** At the end, each band's kept rows are validated fully (FEN, every move
   legal, with the loader's own row parser) in key order until ``per_band`` valid ones are found;
   a margin of extra rows is kept for that. An invalid row is reported and never selected. Only
   if a band runs out of margin is the file read again, validating every heap entrant.

The selection is the ``per_band`` smallest keys of each rating band: it depends on the seed and
the rows, not on row order, block size or the number of worker processes. The suite file lists
the puzzles in key order, so any prefix of it is itself a random sample.

The main process decompresses (detecting a truncated ``.zst``) and hashes the source file as it
reads it; worker processes scan blocks placed in shared memory (:mod:`chesseval.lichessdb.pool`,
:mod:`chesseval.lichessdb.scan`).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from chesseval.lichessdb.spec import BuildSpec
from chesseval.lichessdb.pool import peak_rss_kb, read_blocks, run_workers
from chesseval.lichessdb.scan import MAX_EXAMPLES, NO_KEY, Selector
from chesseval.errors import ConfigError, PuzzleFormatError
from chesseval.core.puzzles import LICHESS_COLUMNS, Puzzle, parse_lichess_row
from chesseval.core.suites import Suite, band_label, write_suite
from chesseval.core.zstream import ZstdFramesReader

__all__ = ["BuildSpec", "BandReport", "BuildResult", "build_suite", "select_puzzles", "Selection"]

@dataclasses.dataclass(frozen=True, slots=True)
class BandReport:
    label: str
    available: int
    """Rows that passed every filter (before validation of the few that were drawn)."""
    selected: int
    rejected: int
    """Invalid rows that would have been selected (FEN or moves bad); reported, never used."""
    enough: bool

    def to_dict(self) -> dict[str, Any]:
        return {"band": self.label, "available": self.available, "selected": self.selected,
                "rejected": self.rejected, "enough": self.enough}


@dataclasses.dataclass(frozen=True)
class Selection:
    puzzles: list[Puzzle]
    bands: list[BandReport]
    source_sha256: str
    source_bytes: int
    rows: int
    bad_rows: int
    bad_examples: list[str]
    rejected_examples: list[str]
    worker_peak_rss_kb: list[int]


@dataclasses.dataclass(frozen=True)
class BuildResult:
    suite: Suite
    selection: Selection

    @property
    def short_bands(self) -> list[BandReport]:
        return [b for b in self.selection.bands if not b.enough]


# -- reading the source ----------------------------------------------------------------------------


class _HashingReader(io.RawIOBase):
    """Hashes the file's bytes as the decompressor pulls them: no second pass over 250 MB."""

    def __init__(self, fh: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self._fh = fh
        self.sha = hashlib.sha256()
        self.size = 0
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._fh.readinto(b)
        if n:
            view = memoryview(b)[:n]
            self.sha.update(view)
            self.size += n
            if self._progress:
                self._progress(self.size)
        return n or 0


def _read_first_line(raw: IO[bytes], name: str) -> bytes:
    """The start of the stream, up to and including at least its first newline (or EOF)."""
    data = b""
    while b"\n" not in data:
        more = raw.read(1 << 16)
        if not more:
            break
        data += more
        if len(data) > 1 << 20:
            raise PuzzleFormatError(name, 1, "first line is longer than 1 MB: not a puzzle CSV")
    return data


def _header(first: bytes, name: str) -> tuple[dict[str, int], bool]:
    """Column positions by name, and whether the first line was a header."""
    try:
        line = first.split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise PuzzleFormatError(name, 1, f"not UTF-8 text ({exc})") from exc
    row = next(csv.reader([line]), [])
    if row and row[0].strip() == "PuzzleId":
        columns = {c.strip(): i for i, c in enumerate(row)}
        missing = [c for c in ("PuzzleId", "FEN", "Moves", "Rating") if c not in columns]
        if missing:
            raise PuzzleFormatError(name, 1, f"header lacks column(s) {missing!r}: {line!r}")
        return columns, True
    return {c: i for i, c in enumerate(LICHESS_COLUMNS)}, False


# -- orchestration ---------------------------------------------------------------------------------


def _open_source(path: Path, progress: Callable[[int], None] | None) -> tuple[_HashingReader, IO[bytes]]:
    fh = open(path, "rb")
    hashing = _HashingReader(fh, progress)
    if path.name.lower().endswith(".zst"):
        return hashing, ZstdFramesReader(hashing, str(path))  # type: ignore[arg-type]
    return hashing, io.BufferedReader(hashing, buffer_size=1 << 20)


def select_puzzles(
    spec: BuildSpec,
    *,
    jobs: int = 2,
    block_bytes: int = 8 << 20,
    on_progress: Callable[[int, int], None] | None = None,
) -> Selection:
    """Stream ``spec.source`` and return the selection (nothing is written).

    Normally one pass. Only when a band has so many invalid rows among its best keys that the
    kept margin runs out is the file read a second time, validating every heap entrant.
    """
    spec.check()
    importlib.import_module("numpy")  # once here, so that forked workers do not each import it

    path = Path(spec.source)
    if not path.is_file():
        raise ConfigError(f"puzzle database {spec.source!r} not found (download it with: chesseval puzzles download)")
    selection = _select(spec, path, jobs, block_bytes, on_progress, eager=False)
    if selection is None:
        selection = _select(spec, path, jobs, block_bytes, on_progress, eager=True)
        assert selection is not None
    return selection


def _select(
    spec: BuildSpec,
    path: Path,
    jobs: int,
    block_bytes: int,
    on_progress: Callable[[int, int], None] | None,
    *,
    eager: bool,
) -> Selection | None:
    total = path.stat().st_size
    progress = (lambda done: on_progress(done, total)) if on_progress else None
    hashing, stream = _open_source(path, progress)
    name = str(spec.source)
    try:
        first = _read_first_line(stream, name)
        columns, has_header = _header(first, name)
        carry = first[first.index(b"\n") + 1:] if has_header else first
        if jobs <= 1:
            selector = Selector(spec, columns, name, eager=eager)
            for index, block in enumerate(read_blocks(stream, block_bytes, carry, name)):
                selector.scan(block, index)
            outs = [selector.result() | {"peak_rss_kb": peak_rss_kb()}]
        else:
            Selector(spec, columns, name)  # configuration errors surface here, not in a worker
            outs = run_workers(spec, columns, name, eager, stream, carry, jobs, block_bytes)
    finally:
        stream.close()
    return _merge(spec, outs, hashing.sha.hexdigest(), hashing.size, columns, name, 2 if has_header else 1, eager=eager)


def _pid(text: str) -> str:
    return text.split(",", 1)[0].strip().strip('"')


def _merge(
    spec: BuildSpec,
    outs: list[dict[str, Any]],
    sha: str,
    size: int,
    columns: dict[str, int],
    name: str,
    first_data_line: int,
    *,
    eager: bool,
) -> Selection | None:
    """Join the workers' heaps; validate the winners in key order. None: rerun eagerly."""
    k = spec.per_band
    counts: dict[int, int] = {}
    for out in outs:
        counts.update(out["block_lines"])
    block_start: dict[int, int] = {}
    line = first_data_line
    for index in sorted(counts):
        block_start[index] = line
        line += counts[index]

    def line_of(pos: int) -> int:
        return block_start[pos >> 32] + (pos & 0xFFFFFFFF)

    available: dict[int, int] = {}
    entries: dict[int, list[tuple[bytes, int, str]]] = {}
    for out in outs:
        for band, n in out["available"].items():
            available[band] = available.get(band, 0) + n
        for band, heap in out["heaps"].items():
            entries.setdefault(band, []).extend(heap)
    # A PuzzleId that occurs twice in the file keeps its first row only.
    first_line: dict[str, int] = {}
    for band_entries in entries.values():
        for _key, pos, text in band_entries:
            pid = _pid(text)
            if pos < first_line.get(pid, pos + 1):
                first_line[pid] = pos
    chosen: dict[int, list[tuple[bytes, Puzzle]]] = {}
    rejected: dict[int, list[tuple[int, str]]] = {}
    for band, band_entries in entries.items():
        band_entries.sort()
        picked: list[tuple[bytes, Puzzle]] = []
        for key, pos, text in band_entries:
            if len(picked) == k:
                break
            if first_line[_pid(text)] != pos:
                continue
            line = line_of(pos)
            row = next(csv.reader([text])) if '"' in text else text.split(",")
            got = parse_lichess_row(row, columns, name, line)
            if isinstance(got, PuzzleFormatError):
                rejected.setdefault(band, []).append((line, str(got)))
            else:
                picked.append((key, got))
        if len(picked) < k and len(band_entries) < available.get(band, 0) and not eager:
            return None  # the margin ran out: rows beyond it were not kept
        chosen[band] = picked
    if eager:
        # Entrants were validated in the workers; report only invalid rows that would have been
        # selected, a set that does not depend on how blocks were shared out between workers.
        threshold = {b: (c[-1][0] if len(c) == k else NO_KEY) for b, c in chosen.items()}
        for out in outs:
            for band, key, pos, text in out["rejected"]:
                if key < threshold.get(band, NO_KEY):
                    line = line_of(pos)
                    row = next(csv.reader([text])) if '"' in text else text.split(",")
                    rejected.setdefault(band, []).append((line, str(parse_lichess_row(row, columns, name, line))))
    if spec.min_rating is not None and spec.max_rating is not None:
        band_ids = list(range(spec.min_rating // spec.band_width, spec.max_rating // spec.band_width + 1))
    else:
        seen = sorted(available)
        lo = spec.min_rating // spec.band_width if spec.min_rating is not None else (seen[0] if seen else 0)
        hi = spec.max_rating // spec.band_width if spec.max_rating is not None else (seen[-1] if seen else -1)
        band_ids = list(range(lo, hi + 1))
    reports = [
        BandReport(
            label=band_label(b * spec.band_width, spec.band_width),
            available=available.get(b, 0),
            selected=len(chosen.get(b, [])),
            rejected=len(rejected.get(b, [])),
            enough=len(chosen.get(b, [])) == k,
        )
        for b in band_ids
    ]
    puzzles = sorted((kp for band in chosen.values() for kp in band), key=lambda kp: kp[0])
    bad = sorted((line_of(pos), f"{name}:{line_of(pos)}: {message}") for out in outs for pos, message in out["bad"])[:MAX_EXAMPLES]
    rej = sorted(r for rs in rejected.values() for r in rs)[:MAX_EXAMPLES]
    return Selection(
        puzzles=[p for _, p in puzzles],
        bands=reports,
        source_sha256=sha,
        source_bytes=size,
        rows=sum(o["rows"] for o in outs),
        bad_rows=sum(o["n_bad"] for o in outs),
        bad_examples=[m for _, m in bad],
        rejected_examples=[m for _, m in rej],
        worker_peak_rss_kb=[o["peak_rss_kb"] for o in outs],
    )


def build_suite(
    spec: BuildSpec,
    out_dir: str | os.PathLike[str] = "puzzles",
    *,
    version: str = "1",
    description: str | None = None,
    jobs: int = 2,
    block_bytes: int = 8 << 20,
    on_progress: Callable[[int, int], None] | None = None,
) -> BuildResult:
    """Select from ``spec.source`` and write ``NAME.csv`` + ``NAME.json`` into ``out_dir``.

    The manifest records the canonical build command, every filter, the seed, the source file's
    sha256 and size, and per band how many puzzles were available and selected. ``jobs`` and
    ``block_bytes`` change only the speed, never the result, so they are not recorded.
    """
    selection = select_puzzles(spec, jobs=jobs, block_bytes=block_bytes, on_progress=on_progress)
    if not selection.puzzles:
        raise ConfigError(f"{spec.source}: no puzzle passes the filters ({selection.rows} rows read); nothing written")
    short = [b.label for b in selection.bands if not b.enough]
    text = description if description is not None else (
        f"{spec.per_band} puzzles per {spec.band_width}-point rating band from {Path(spec.source).name}, seed {spec.seed!r}"
    )
    build = {
        "source": {
            "path": spec.source,
            "sha256": selection.source_sha256,
            "bytes": selection.source_bytes,
            "rows": selection.rows,
        },
        "seed": spec.seed,
        "selection": f"per band, the {spec.per_band} rows with the smallest sha256('{spec.seed}:' + PuzzleId) among those passing the filters; file order is by that hash",
        "filters": spec.filters(),
        "bands": [b.to_dict() for b in selection.bands],
        "short_bands": short,
        "bad_rows": {"count": selection.bad_rows, "examples": selection.bad_examples},
        "rejected_rows": {
            "count": sum(b.rejected for b in selection.bands),
            "examples": selection.rejected_examples,
        },
    }
    suite = write_suite(
        spec.name,
        selection.puzzles,
        out_dir,
        version=version,
        description=text,
        command=spec.command(version=version, description=description),
        extra={"build": build},
        band_width=spec.band_width,
    )
    return BuildResult(suite=suite, selection=selection)
