"""Scanning a Lichess-format database block by block: the per-process selection state.

:class:`Selector` holds, per rating band, a bounded heap of the rows with the smallest keys seen
so far (:mod:`chesseval.lichessdb.pool` runs several in worker processes). How rows are filtered cheaply
(numpy first, Python for the survivors) is explained in :mod:`chesseval.lichessdb.build`, which
owns the public API.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import re
from typing import TYPE_CHECKING, Any

from chesseval.errors import ConfigError, PuzzleFormatError
from chesseval.core.puzzles import parse_int_field, parse_lichess_row

if TYPE_CHECKING:
    from chesseval.lichessdb.spec import BuildSpec

__all__ = ["Selector", "Window", "NO_KEY", "MAX_EXAMPLES"]

try:  # CPython's own SHA-256 costs half of OpenSSL's per call on 7-byte inputs; same digests.
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found]  # 3.12+
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found,no-redef]  # 3.11
    except ImportError:  # pragma: no cover - other interpreters
        _sha256 = hashlib.sha256

NO_KEY = b"\xff" * 33  # sorts after every sha256 digest: "band not full yet"
MAX_EXAMPLES = 20
_FILTER_COLUMNS = {"min_plays": "NbPlays", "max_rating_deviation": "RatingDeviation", "min_popularity": "Popularity"}



class Selector:
    """Scans blocks and keeps, per band, the per_band smallest valid keys seen so far."""

    def __init__(self, spec: BuildSpec, columns: dict[str, int], name: str, *, eager: bool = False) -> None:
        self.spec = spec
        self.eager = eager
        # Lazy mode keeps a margin of unvalidated rows per band and validates only the winners at
        # the end; eager mode (the fallback when a band runs out of margin) validates every entrant.
        self.capacity = spec.per_band if eager else spec.per_band + spec.per_band // 2 + 10
        self.columns = columns
        self.ncols = max(columns.values()) + 1
        self.name = name
        self.prefix = f"{spec.seed}:".encode()
        self.heaps: dict[int, list[tuple[int, int, bytes, str]]] = {}
        self.thr: dict[int, bytes] = {}
        self.available: dict[int, int] = {}
        # Rows are named by position, ``block << 32 | line within block``: the main process
        # does not count lines (that would cost it a pass over the data); _merge turns positions
        # into line numbers from the per-block line counts.
        self.rejected: list[tuple[int, bytes, int, str]] = []  # band, key, position, row text
        self.block_lines: dict[int, int] = {}
        self._patterns: dict[str, re.Pattern[bytes]] = {}
        self.rows = 0
        self.bad: list[tuple[int, str]] = []
        self.n_bad = 0
        for opt, col in _FILTER_COLUMNS.items():
            if getattr(spec, opt) is not None and col not in columns:
                raise ConfigError(f"{name}: filter {opt} needs column {col!r}, which the file does not have")
        if spec.openings and "OpeningTags" not in columns:
            raise ConfigError(f"{name}: --opening needs column 'OpeningTags', which the file does not have (an older dump?)")
        if (spec.themes or spec.exclude_themes) and "Themes" not in columns:
            raise ConfigError(f"{name}: theme filters need column 'Themes', which the file does not have")

    # -- the exact rules, used by the slow path and mirrored by the vectorised one ----------------

    def _bad(self, pos: int, message: str) -> None:
        self.n_bad += 1
        if len(self.bad) < MAX_EXAMPLES:
            self.bad.append((pos, message))

    def _tags_ok(self, themes: bytes | None, openings: bytes | None) -> bool:
        spec = self.spec
        if spec.themes or spec.exclude_themes:
            have = set((themes or b"").decode("utf-8", "replace").split())
            if any(t not in have for t in spec.themes) or any(t in have for t in spec.exclude_themes):
                return False
        if spec.openings:
            have = set((openings or b"").decode("utf-8", "replace").split())
            if not any(t in have for t in spec.openings):
                return False
        return True

    def _slow_line(self, text: bytes, pos: int) -> None:
        stripped = text.strip()
        if not stripped:
            return
        self.rows += 1
        try:
            decoded = stripped.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._bad(pos, f"not UTF-8 ({exc})")
            return
        row = next(csv.reader([decoded])) if '"' in decoded else decoded.split(",")
        cols = self.columns

        def get(col: str) -> str:
            i = cols.get(col)
            return row[i].strip() if i is not None and i < len(row) else ""

        if len(row) < 3:
            self._bad(pos, f"row has {len(row)} field(s), need at least PuzzleId,FEN,Moves: {decoded!r}")
            return
        spec = self.spec
        try:
            rating = parse_int_field(get("Rating"), "Rating")
            values = {opt: parse_int_field(get(col), col) for opt, col in _FILTER_COLUMNS.items() if getattr(spec, opt) is not None}
        except ValueError as exc:
            self._bad(pos, f"puzzle {get('PuzzleId')!r}: {exc}")
            return
        if rating is None:
            return
        if not self._passes(rating, values, len(get("Moves").split())):
            return
        if not self._tags_ok(get("Themes").encode(), get("OpeningTags").encode()):
            return
        band = rating // spec.band_width
        self.available[band] = self.available.get(band, 0) + 1
        key = _sha256(self.prefix + get("PuzzleId").encode()).digest()
        if key < self.thr.get(band, NO_KEY):
            self._offer(band, key, pos, decoded)

    def _passes(self, rating: int, values: dict[str, int | None], n_moves: int) -> bool:
        spec = self.spec
        if spec.min_rating is not None and rating < spec.min_rating:
            return False
        if spec.max_rating is not None and rating > spec.max_rating:
            return False
        plays, rd, pop = values.get("min_plays"), values.get("max_rating_deviation"), values.get("min_popularity")
        if spec.min_plays is not None and (plays is None or plays < spec.min_plays):
            return False
        if spec.max_rating_deviation is not None and (rd is None or rd > spec.max_rating_deviation):
            return False
        if spec.min_popularity is not None and (pop is None or pop < spec.min_popularity):
            return False
        solver_moves = n_moves // 2
        if spec.min_moves is not None and solver_moves < spec.min_moves:
            return False
        if spec.max_moves is not None and solver_moves > spec.max_moves:
            return False
        return True

    def _offer(self, band: int, key: bytes, pos: int, text: str) -> None:
        """A row whose key beats the band's current worst kept key."""
        if self.eager:
            row = next(csv.reader([text])) if '"' in text else text.split(",")
            if isinstance(parse_lichess_row(row, self.columns, self.name, 0), PuzzleFormatError):
                self.rejected.append((band, key, pos, text))  # _merge words the message
                return
        heap = self.heaps.setdefault(band, [])
        entry = (-int.from_bytes(key, "big"), -pos, key, text)
        if len(heap) < self.capacity:
            heapq.heappush(heap, entry)
        else:
            heapq.heapreplace(heap, entry)
        if len(heap) == self.capacity:
            self.thr[band] = heap[0][2]

    # -- the fast path ---------------------------------------------------------------------------

    def scan(self, block: bytes | Window, index: int) -> None:
        import numpy as np  # only the builder needs numpy; keep `import chesseval` light

        spec = self.spec
        if isinstance(block, Window):
            buf = np.frombuffer(block.ring, dtype=np.uint8, count=block.size, offset=block.base)
        else:
            buf = np.frombuffer(block, dtype=np.uint8)
        nl = np.flatnonzero(buf == 10)
        n = len(nl)
        self.block_lines[index] = n
        if n == 0:
            return
        base = index << 32
        starts = np.empty(n, dtype=np.int64)
        starts[0] = 0
        starts[1:] = nl[:-1] + 1
        ends = nl.astype(np.int64)
        ends -= (buf[np.maximum(ends - 1, 0)] == 13) & (ends > starts)  # CRLF files
        commas = np.flatnonzero(buf == 44)
        upto = np.searchsorted(commas, nl)  # commas before each line's end
        first_comma = np.empty(n, dtype=np.int64)
        first_comma[0] = 0
        first_comma[1:] = upto[:-1]
        regular = (upto - first_comma) == self.ncols - 1
        for odd in (34, 9, 11, 12):  # a quote, or whitespace other than ' ' that split() would see
            if block.find(bytes([odd])) >= 0:
                regular[np.searchsorted(nl, np.flatnonzero(buf == odd))] = False
        reg = np.flatnonzero(regular)
        grid = commas[first_comma[reg][:, None] + np.arange(self.ncols - 1)]
        rs, re_ = starts[reg], ends[reg]

        def span(col: str) -> tuple[Any, Any]:
            j = self.columns[col]
            lo = rs if j == 0 else grid[:, j - 1] + 1
            hi = grid[:, j] if j < self.ncols - 1 else re_
            return lo, hi

        ok = np.ones(len(reg), dtype=bool)
        slow = np.zeros(len(reg), dtype=bool)
        rating, r_missing, r_bad = _parse_ints(np, buf, *span("Rating"))
        slow |= r_bad
        ok &= ~r_missing
        if spec.min_rating is not None:
            ok &= rating >= spec.min_rating
        if spec.max_rating is not None:
            ok &= rating <= spec.max_rating
        for opt, col in _FILTER_COLUMNS.items():
            limit = getattr(spec, opt)
            if limit is None:
                continue
            values, missing, bad = _parse_ints(np, buf, *span(col))
            slow |= bad
            ok &= ~missing
            ok &= (values <= limit) if opt == "max_rating_deviation" else (values >= limit)
        if spec.min_moves is not None or spec.max_moves is not None:
            m_lo, m_hi = span("Moves")
            spaces = np.flatnonzero(buf == 32)
            # Lichess writes exactly one space between moves; anything else goes the slow way.
            n_spaces = np.searchsorted(spaces, m_hi) - np.searchsorted(spaces, m_lo)
            odd = (m_hi > m_lo) & ((buf[m_lo] == 32) | (buf[np.maximum(m_hi - 1, 0)] == 32))
            slow |= odd
            solver = np.where(m_hi > m_lo, n_spaces + 1, 0) // 2
            if spec.min_moves is not None:
                ok &= solver >= spec.min_moves
            if spec.max_moves is not None:
                ok &= solver <= spec.max_moves
        ok &= ~slow
        self.rows += len(reg) - int(slow.sum())

        # Lines that are not plain Lichess rows: the exact, slow rules.
        irregular = np.flatnonzero(~regular).tolist()
        for i in np.flatnonzero(slow).tolist():
            irregular.append(int(reg[i]))
        if irregular:
            s_list, e_list = starts.tolist(), ends.tolist()
            for i in sorted(irregular):
                self._slow_line(block[s_list[i]:e_list[i]], base + i)

        if spec.themes or spec.exclude_themes:
            lo, hi = span("Themes")
            for tag in spec.themes:
                ok &= self._has_tag(np, block, buf, nl, reg, lo, hi, tag)
            for tag in spec.exclude_themes:
                ok &= ~self._has_tag(np, block, buf, nl, reg, lo, hi, tag)
        if spec.openings:
            lo, hi = span("OpeningTags")
            any_opening = np.zeros(len(reg), dtype=bool)
            for tag in spec.openings:
                any_opening |= self._has_tag(np, block, buf, nl, reg, lo, hi, tag)
            ok &= any_opening
        cand = np.flatnonzero(ok)
        if not len(cand):
            return
        bands = rating[cand] // spec.band_width
        low = int(bands.min())
        for band, count in enumerate(np.bincount(bands - low).tolist(), start=low):
            if count:
                self.available[band] = self.available.get(band, 0) + count
        keys = self._keys(np, buf, block, *(a[cand] for a in span("PuzzleId")))
        # Compare the first 8 bytes of each key with the band's threshold as arrays; only the few
        # that may beat it reach Python, which compares whole keys (the threshold only falls).
        table = np.full(int(bands.max()) - low + 1, np.iinfo(np.uint64).max, dtype=np.uint64)
        for band, key in self.thr.items():
            if low <= band < low + len(table):
                table[band - low] = int.from_bytes(key[:8], "big")
        head = np.frombuffer(b"".join(keys), dtype=">u8")[::4]
        hits = np.flatnonzero(head <= table[bands - low]).tolist()
        if not hits:
            return
        band_list, lines, lo_list, hi_list = bands.tolist(), reg[cand].tolist(), rs[cand].tolist(), re_[cand].tolist()
        for k in hits:
            band, key = band_list[k], keys[k]
            if key < self.thr.get(band, NO_KEY):
                pos = base + lines[k]
                try:
                    text = block[lo_list[k]:hi_list[k]].decode("utf-8")
                except UnicodeDecodeError as exc:
                    self._bad(pos, f"not UTF-8 ({exc})")
                    continue
                self._offer(band, key, pos, text)

    def _has_tag(self, np: Any, block: bytes | Window, buf: Any, nl: Any, reg: Any, lo: Any, hi: Any, tag: str) -> Any:
        """Which rows carry ``tag`` as a whole space-separated word in the field ``[lo, hi)``.

        A regex finds the tag's occurrences in the whole block (a few per row at most), and
        numpy keeps those that fall inside the field: no Python work per row.
        """
        pattern = self._patterns.get(tag)
        if pattern is None:  # a plain literal: re then searches with a fast skip loop
            pattern = self._patterns[tag] = re.compile(re.escape(tag.encode()))
        if isinstance(block, Window):
            base = block.base
            found = [m.start() - base for m in pattern.finditer(block.ring, base, base + block.size)]
        else:
            found = [m.start() for m in pattern.finditer(block)]
        has = np.zeros(len(reg), dtype=bool)
        if not found:
            return has
        at = np.array(found, dtype=np.int64)
        end = at + len(tag.encode())
        # Whole words only: the occurrence must start and end at a field or word boundary.
        ok = (at == 0) | np.isin(buf[np.maximum(at - 1, 0)], _WORD_BEFORE)
        ok &= (end >= len(buf)) | np.isin(buf[np.minimum(end, len(buf) - 1)], _WORD_AFTER)
        at, end = at[ok], end[ok]
        row_of_line = np.full(len(nl), -1, dtype=np.int64)
        row_of_line[reg] = np.arange(len(reg))
        rows = row_of_line[np.searchsorted(nl, at)]
        inside = rows >= 0
        rows, at, end = rows[inside], at[inside], end[inside]
        inside = (lo[rows] <= at) & (end <= hi[rows])
        has[rows[inside]] = True
        return has

    def _keys(self, np: Any, buf: Any, block: bytes | Window, lo: Any, hi: Any) -> list[bytes]:
        """``sha256(seed:PuzzleId)`` of each candidate."""
        sha, prefix = _sha256, self.prefix
        width = hi - lo
        w = int(width[0])
        if w > 0 and bool((width == w).all()):
            ids = buf[lo[:, None] + np.arange(w)]
            if int(ids.min()) > 32:  # no blanks to strip, no NULs (which a bytes view would drop)
                msgs = np.empty((len(lo), len(prefix) + w), dtype=np.uint8)
                msgs[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
                msgs[:, len(prefix):] = ids
                return [sha(m).digest() for m in msgs.view(f"S{msgs.shape[1]}").ravel().tolist()]
        return [sha(prefix + block[a:b].strip()).digest() for a, b in zip(lo.tolist(), hi.tolist())]

    def result(self) -> dict[str, Any]:
        return {
            "heaps": {b: [(e[2], -e[1], e[3]) for e in h] for b, h in self.heaps.items()},
            "available": self.available,
            "rejected": self.rejected,
            "rows": self.rows,
            "n_bad": self.n_bad,
            "bad": self.bad,
            "block_lines": self.block_lines,
        }


_WORD_BEFORE = (32, 44, 10)  # ' ' ',' '\n'
_WORD_AFTER = (32, 44, 13, 10)  # ' ' ',' '\r' '\n'


class Window:
    """A block that stays in the shared ring: slicing gives bytes, as slicing a bytes block does."""

    __slots__ = ("ring", "base", "size")

    def __init__(self, ring: Any, base: int, size: int) -> None:
        self.ring, self.base, self.size = ring, base, size

    def __getitem__(self, part: slice) -> bytes:
        return self.ring[self.base + part.start:self.base + part.stop]  # type: ignore[no-any-return]

    def find(self, sub: bytes) -> int:
        at = self.ring.find(sub, self.base, self.base + self.size)
        return at - self.base if at >= 0 else -1


def _parse_ints(np: Any, buf: Any, lo: Any, hi: Any) -> tuple[Any, Any, Any]:
    """Parse decimal integer fields ``buf[lo:hi]`` as arrays: (values, missing, needs_slow_path).

    Anything but ``-?[0-9]{1,9}`` (spaces, ``6608.0``, text) is flagged for the slow path, which
    applies the loader's exact rules and reports bad values with their line.
    """
    width = hi - lo
    missing = width == 0
    last = len(buf) - 1
    neg = (width > 0) & (buf[np.minimum(lo, last)] == 45)
    lo = lo + neg
    width = hi - lo
    bad = (~missing) & ((width <= 0) | (width > 9))
    value = np.zeros(len(lo), dtype=np.int64)
    max_width = int(min(width.max(initial=0), 9))
    clip = len(lo) > 0 and int(lo.max()) + max_width > last
    for i in range(max_width):
        active = width > i
        index = np.minimum(lo + i, last) if clip else lo + i
        digit = buf[index] - np.uint8(48)  # wraps below '0', so one test finds every non-digit
        bad |= active & (digit > 9)
        value = np.where(active, value * 10 + digit, value)
    value = np.where(neg, -value, value)
    return value, missing, bad
