"""From records to conclusions: breakdowns with intervals, partial credit, paired comparisons.

Everything here works on run records (the dicts of ``records.jsonl``, or any object with the same
attributes). A puzzle counts as solved when its verdict is ``"correct"`` (Lichess's first-attempt,
whole-line rule). Records whose verdict is ``"error"`` — the call never produced an answer — are
left out of every rate and counted separately, as the rating fit does (:mod:`chesseval.core.rating`).

Proportions carry Wilson score intervals; paired comparisons of two runs use the puzzles both
runs answered: the exact McNemar test on the discordant pairs, and a paired bootstrap of the
difference in solve rate (and in rating).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from chesseval.core.rating import fit_many, outcomes_from_records
from chesseval.core.suites import band_label

__all__ = [
    "field",
    "Group",
    "Breakdown",
    "PartialCredit",
    "PairedComparison",
    "wilson_interval",
    "is_solved",
    "answered",
    "breakdown",
    "by_theme",
    "by_rating_bucket",
    "by_prompt_format",
    "by_solution_length",
    "by_side_to_move",
    "by_phase",
    "rating_bucket",
    "partial_credit",
    "mcnemar_exact",
    "paired_comparison",
    "comparability_problems",
    "Problem",
    "side_to_move",
]

PHASES = ("opening", "middlegame", "endgame")


def field(record: Any, key: str, default: Any = None) -> Any:
    """``record[key]`` for dicts, ``record.key`` for objects."""
    if isinstance(record, Mapping):
        return record.get(key, default)
    return getattr(record, key, default)


def is_solved(record: Any) -> bool:
    return str(field(record, "verdict")) == "correct"


def answered(records: Iterable[Any]) -> list[Any]:
    """The records that count for rates: every verdict except ``"error"``."""
    return [r for r in records if str(field(r, "verdict")) != "error"]


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (``(0, 1)`` when ``n == 0``)."""
    if n == 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"successes must be between 0 and n={n!r}, got {k!r}")
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2.0)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Exact ends at k = 0 and k = n (the formula gives them only up to rounding).
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


@dataclasses.dataclass(frozen=True, slots=True)
class Group:
    """One row of a breakdown: ``k`` of ``n`` solved, with a Wilson interval."""

    key: str
    n: int
    k: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "n": self.n, "solved": self.k, "rate": self.rate, "low": self.low, "high": self.high}


@dataclasses.dataclass(frozen=True, slots=True)
class Breakdown:
    """Solve rates of the groups of one dimension (theme, rating bucket, ...)."""

    name: str
    groups: tuple[Group, ...]
    excluded: int = 0
    """Records left out (infrastructure errors)."""

    def __getitem__(self, key: str) -> Group:
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(key)

    def keys(self) -> list[str]:
        return [g.key for g in self.groups]

    def to_rows(self) -> list[dict[str, Any]]:
        return [g.to_dict() for g in self.groups]

    def to_markdown(self, *, title: str | None = None) -> str:
        lines = [f"| {title or self.name} | n | solved | rate | 95% CI |", "|---|---:|---:|---:|---|"]
        for g in self.groups:
            lines.append(f"| {g.key} | {g.n} | {g.k} | {g.rate:.1%} | {g.low:.1%}–{g.high:.1%} |")
        return "\n".join(lines)


def breakdown(
    records: Iterable[Any],
    keys_of: Callable[[Any], Iterable[str] | str],
    name: str,
    *,
    order: Callable[[str], Any] | None = None,
    min_n: int = 1,
    level: float = 0.95,
) -> Breakdown:
    """Group records by ``keys_of(record)`` (one key, or several: a puzzle has many themes)."""
    records = list(records)
    kept = answered(records)
    n: Counter[str] = Counter()
    k: Counter[str] = Counter()
    for rec in kept:
        keys = keys_of(rec)
        for key in [keys] if isinstance(keys, str) else set(keys):
            n[key] += 1
            k[key] += is_solved(rec)
    sort_key = order or (lambda key: (-n[key], key))
    groups = [Group(key, n[key], k[key], *wilson_interval(k[key], n[key], level)) for key in n if n[key] >= min_n]
    return Breakdown(name, tuple(sorted(groups, key=lambda g: sort_key(g.key))), len(records) - len(kept))


def rating_bucket(rating: float | None, width: int = 200) -> str:
    """``"1400-1599"`` for 1450 with width 200; ``"unrated"`` for None (as ``chesseval report``)."""
    return band_label(None if rating is None else int(math.floor(float(rating))), width)


def _bucket_order(key: str) -> Any:
    return (1, 0) if key == "unrated" else (0, int(key.split("-")[0]))


def by_rating_bucket(records: Iterable[Any], *, width: int = 200, level: float = 0.95) -> Breakdown:
    return breakdown(
        records, lambda r: rating_bucket(field(r, "rating"), width), "rating", order=_bucket_order, level=level
    )


def by_theme(records: Iterable[Any], *, min_n: int = 1, level: float = 0.95) -> Breakdown:
    """Per Lichess theme tag; a puzzle counts once in each of its themes. Sorted by n, largest first."""
    return breakdown(records, lambda r: tuple(field(r, "themes") or ("(none)",)), "theme", min_n=min_n, level=level)


def by_prompt_format(records: Iterable[Any], *, default: str = "default", level: float = 0.95) -> Breakdown:
    """Per prompt format, for records that carry one (``prompt_format`` or ``format``)."""

    def key(r: Any) -> str:
        return str(field(r, "prompt_format") or field(r, "format") or default)

    return breakdown(records, key, "prompt format", order=lambda k: k, level=level)


def by_solution_length(records: Iterable[Any], *, level: float = 0.95) -> Breakdown:
    """Per number of solver moves in the solution (1 = one move, 2 = short, ...)."""

    def key(r: Any) -> str:
        n = field(r, "n_solver_moves")
        return "?" if n is None else str(n)

    return breakdown(records, key, "solver moves", order=lambda k: (k == "?", int(k) if k.isdigit() else 0), level=level)


def side_to_move(record: Any, puzzles: Mapping[str, Any] | None = None) -> str:
    """``"white"``/``"black"``: the solver's colour, from the record, its FEN or the suite."""
    side = field(record, "side_to_move") or field(record, "solver")
    if side in ("white", "black"):
        return str(side)
    fen = field(record, "board_fen") or field(record, "solver_fen")
    if fen:
        return "white" if str(fen).split()[1] == "w" else "black"
    puzzle = (puzzles or {}).get(str(field(record, "puzzle_id")))
    if puzzle is not None:
        return "white" if puzzle.solver else "black"
    return "unknown"


def by_side_to_move(records: Iterable[Any], puzzles: Mapping[str, Any] | None = None, *, level: float = 0.95) -> Breakdown:
    """Per solver colour. Needs the colour in the record, or the suite's puzzles by id."""
    return breakdown(records, lambda r: side_to_move(r, puzzles), "side to move", order=lambda k: k, level=level)


def by_phase(records: Iterable[Any], *, level: float = 0.95) -> Breakdown:
    """Per game phase, from Lichess's phase themes (opening, middlegame, endgame)."""

    def key(r: Any) -> str:
        themes = set(field(r, "themes") or ())
        return next((p for p in PHASES if p in themes), "unknown")

    order = {p: i for i, p in enumerate((*PHASES, "unknown"))}
    return breakdown(records, key, "phase", order=lambda k: order.get(k, 99), level=level)


# -- partial credit ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class PartialCredit:
    """How far into the line a run got: solver moves found before the first failure."""

    overall: dict[int, int]
    """moves found -> number of puzzles."""
    by_length: dict[int, dict[int, int]]
    """solution length (solver moves) -> moves found -> number of puzzles."""
    n: int

    def share(self, found: int, length: int | None = None) -> float:
        counts = self.overall if length is None else self.by_length.get(length, {})
        total = sum(counts.values())
        return counts.get(found, 0) / total if total else float("nan")

    def to_markdown(self) -> str:
        width = max([*self.by_length.keys(), 1])
        head = "| solver moves | n | " + " | ".join(f"found {i}" for i in range(width + 1)) + " |"
        lines = [head, "|---:|---:|" + "---:|" * (width + 1)]
        for length in sorted(self.by_length):
            counts = self.by_length[length]
            total = sum(counts.values())
            cells = [f"{counts.get(i, 0) / total:.0%}" if i <= length else "" for i in range(width + 1)]
            lines.append(f"| {length} | {total} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def partial_credit(records: Iterable[Any]) -> PartialCredit:
    """Distribution of ``solver_moves_found``: "cannot see the first move" (0) apart from
    "loses the thread on move three" (2), overall and per solution length."""
    overall: Counter[int] = Counter()
    by_length: dict[int, Counter[int]] = defaultdict(Counter)
    n = 0
    for rec in answered(records):
        found = int(field(rec, "solver_moves_found") or 0)
        length = field(rec, "n_solver_moves")
        overall[found] += 1
        if length is not None:
            by_length[int(length)][found] += 1
        n += 1
    return PartialCredit(dict(sorted(overall.items())), {k: dict(sorted(v.items())) for k, v in sorted(by_length.items())}, n)


# -- paired comparison ---------------------------------------------------------------------------


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for ``b`` and ``c`` discordant pairs (binomial, p = 1/2)."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got {(b, c)!r}")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / (1 << n))


@dataclasses.dataclass(frozen=True, slots=True)
class PairedComparison:
    """Run B against run A on the puzzles both answered (B minus A)."""

    label_a: str
    label_b: str
    n: int
    """Shared puzzles (neither verdict an error)."""
    both: int
    only_a: int
    only_b: int
    neither: int
    p_value: float
    """Exact McNemar on ``only_a`` and ``only_b``."""
    diff: float
    """Solve rate of B minus solve rate of A."""
    diff_low: float
    diff_high: float
    rating_diff: float | None
    """Rating of B minus rating of A on the shared puzzles (None when either is censored)."""
    rating_diff_low: float | None
    rating_diff_high: float | None
    n_boot: int
    level: float

    def summary(self) -> str:
        lines = [
            f"{self.label_b} vs {self.label_a} on {self.n} shared puzzles: "
            f"solve rate {self.diff:+.1%} [{self.diff_low:+.1%}, {self.diff_high:+.1%}] (paired bootstrap, {self.n_boot} resamples)",
            f"  solved by both {self.both}, only {self.label_a} {self.only_a}, only {self.label_b} {self.only_b}, "
            f"neither {self.neither}; exact McNemar p = {self.p_value:.3g}",
        ]
        if self.rating_diff is not None:
            lines.append(
                f"  rating {self.rating_diff:+.0f} [{_fmt(self.rating_diff_low)}, {_fmt(self.rating_diff_high)}] (paired bootstrap)"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:+.0f}" if math.isfinite(x) else ("+inf" if x > 0 else "-inf")


def paired_comparison(
    records_a: Sequence[Any],
    records_b: Sequence[Any],
    *,
    label_a: str = "A",
    label_b: str = "B",
    n_boot: int = 2000,
    rating_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> PairedComparison:
    """Compare two runs on the puzzles both answered (matched by ``puzzle_id``).

    The solve-rate difference is bootstrapped ``n_boot`` times; the rating difference (both
    runs refitted on the same resampled puzzles) ``rating_boot`` times, 0 to skip it.
    """
    a = {str(field(r, "puzzle_id")): r for r in answered(records_a)}
    b = {str(field(r, "puzzle_id")): r for r in answered(records_b)}
    shared = sorted(a.keys() & b.keys())
    sa = np.array([is_solved(a[i]) for i in shared], dtype=float)
    sb = np.array([is_solved(b[i]) for i in shared], dtype=float)
    n = len(shared)
    both = int(np.sum((sa == 1) & (sb == 1)))
    only_a = int(np.sum((sa == 1) & (sb == 0)))
    only_b = int(np.sum((sa == 0) & (sb == 1)))
    alpha = (1 - level) / 2
    if n == 0:
        nan = float("nan")
        return PairedComparison(label_a, label_b, 0, 0, 0, 0, 0, 1.0, nan, nan, nan, None, None, None, n_boot, level)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    diffs = (sb[idx] - sa[idx]).mean(axis=1)
    d_low, d_high = (float(x) for x in np.quantile(diffs, [alpha, 1 - alpha]))

    rating_diff = r_low = r_high = None
    # The rating difference uses the shared puzzles that have a rating.
    rated = np.array([field(a[i], "rating") is not None for i in shared], dtype=bool)
    _, ratings, rds, _ = outcomes_from_records([a[i] for i in shared])
    sa_r, sb_r = sa[rated], sb[rated]
    m = int(rated.sum())
    if m and 0 < sa_r.sum() < m and 0 < sb_r.sum() < m:
        r, rd = np.array(ratings), np.array(rds)
        est, _, _ = fit_many(np.vstack([sa_r, sb_r]), r, rd, interval=False)
        rating_diff = float(est[1] - est[0])
    if rating_diff is not None and rating_boot > 0:
        ridx = rng.integers(0, m, size=(rating_boot, m))
        ea, _, _ = fit_many(sa_r[ridx], r[ridx], rd[ridx], interval=False)
        eb, _, _ = fit_many(sb_r[ridx], r[ridx], rd[ridx], interval=False)
        # A resample where one run solved everything (or nothing) has an infinite estimate: it is
        # kept as +/-inf, which is what percentiles need. Where both did, the difference is
        # undefined; a few such resamples are dropped, more make the interval unknowable.
        with np.errstate(invalid="ignore"):
            boot = np.sort(eb - ea)
        defined = boot[~np.isnan(boot)]
        if defined.size >= 0.99 * boot.size:
            lo_i = max(0, math.floor(alpha * defined.size))
            hi_i = min(defined.size - 1, math.ceil((1 - alpha) * defined.size) - 1)
            r_low, r_high = float(defined[lo_i]), float(defined[hi_i])
    return PairedComparison(
        label_a, label_b, n, both, only_a, only_b, n - both - only_a - only_b,
        mcnemar_exact(only_a, only_b), float(sb.mean() - sa.mean()), d_low, d_high,
        rating_diff, r_low, r_high, n_boot, level,
    )  # fmt: skip


# -- can two runs be compared? -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """Why two runs may not compare like with like. ``refuse`` problems stop ``compare``."""

    severity: str
    """``"refuse"`` (different puzzle suites) or ``"warn"``."""
    message: str


def _prompt_identity(header: Mapping[str, Any]) -> str | None:
    if header.get("template") is None and header.get("format") is None:
        return None
    options = header.get("prompt_options") or {}
    opts = ",".join(f"{k}={v}" for k, v in sorted(options.items()))
    return f"{header.get('template')}/{header.get('format')}" + (f" [{opts}]" if opts else "")


def comparability_problems(
    header_a: Mapping[str, Any], header_b: Mapping[str, Any], *, label_a: str = "A", label_b: str = "B"
) -> list[Problem]:
    """What differs between two runs (their ``run.json``) that matters for a comparison.

    Different puzzle suites (by sha256) are a ``refuse`` problem: neither a leaderboard nor a
    paired test compares like with like. Different prompts (template, format, prompt options)
    and different puzzle subsets (``limit``) are warnings: comparing prompts on the same puzzles
    is legitimate, but the difference then belongs to model and prompt together.
    """
    problems: list[Problem] = []
    sa, sb = header_a.get("suite") or {}, header_b.get("suite") or {}
    ha, hb = sa.get("sha256"), sb.get("sha256")
    if ha is None or hb is None:
        who = label_a if ha is None else label_b
        problems.append(Problem("warn", f"the puzzle suite of {who} is unknown (no suite sha256 in run.json)"))
    elif ha != hb:
        problems.append(Problem("refuse", (
            f"different puzzle suites: {label_a} ran {sa.get('name')!r} (sha256 {ha[:12]}…), "
            f"{label_b} ran {sb.get('name')!r} (sha256 {hb[:12]}…)")))
    pa, pb = _prompt_identity(header_a), _prompt_identity(header_b)
    if pa is None or pb is None:
        who = label_a if pa is None else label_b
        problems.append(Problem("warn", f"the prompt template of {who} is unknown (no template in run.json)"))
    elif pa != pb:
        problems.append(Problem("warn", (
            f"different prompts: {label_a} used {pa!r}, {label_b} used {pb!r}; "
            "differences belong to model and prompt together")))
    if header_a.get("limit") != header_b.get("limit") and ha == hb:
        problems.append(Problem("warn", (
            f"different puzzle subsets: limit {header_a.get('limit')!r} vs {header_b.get('limit')!r}; "
            "paired tests use the shared puzzles only")))
    return problems
