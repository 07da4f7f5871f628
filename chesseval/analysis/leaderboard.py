"""One line per run: rating with interval, solve rate, illegal rate, tokens and cost per solve.

A :class:`RunSummary` is what ``chesseval compare`` ranks, ``chesseval history`` orders by release
date, and the plots draw. It is computed from a run's records plus a few facts about the run
(label, model, suite hash, metadata such as ``family`` and ``release_date``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pathlib import Path

from chesseval.analysis.breakdown import answered, field, is_solved, wilson_interval
from chesseval.errors import RunError
from chesseval.core.rating import CurveFit, RatingEstimate, curve_from_records, rating_from_records

__all__ = [
    "RunData",
    "load_run",
    "load_runs_dir",
    "distinct_labels",
    "summarize_run",
    "RunSummary",
    "summarize",
    "record_tokens",
    "parse_release_date",
    "order_by_release",
    "leaderboard_markdown",
    "leaderboard_text",
]


@dataclasses.dataclass(frozen=True)
class RunData:
    """A run folder read into memory: ``run.json`` and the records."""

    path: Path
    header: dict[str, Any]
    records: list[dict[str, Any]]

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.header.get("meta") or {})

    @property
    def run_id(self) -> str:
        return str(self.header.get("run_id") or self.path.name)

    @property
    def label(self) -> str:
        """``--meta label=...`` if given, else the model name."""
        return str(self.meta.get("label") or self.header.get("model") or self.path.name)


def load_run(path: str | os.PathLike[str]) -> RunData:
    """Read a run folder (or its ``run.json``/``records.jsonl``)."""
    from chesseval.core.records import RunDir

    p = Path(path)
    if p.is_file() and p.name in ("run.json", "records.jsonl", "results.json"):
        p = p.parent
    run = RunDir(p)
    if not run.header_path.is_file():
        raise RunError(f"{str(path)!r} is not a run folder (no run.json)")
    return RunData(p, run.read_header(), run.records())


def load_runs_dir(runs_dir: str | os.PathLike[str]) -> list[RunData]:
    """Every run folder directly inside ``runs_dir``, oldest first."""
    from chesseval.core.records import list_runs

    if not Path(runs_dir).is_dir():
        raise RunError(f"runs folder {str(runs_dir)!r} does not exist")
    return [load_run(r.path) for r in list_runs(runs_dir)]


def distinct_labels(runs: Sequence[RunData]) -> list[str]:
    """Each run's label, with ``#run_id`` appended where two runs would share one."""
    labels = [r.label for r in runs]
    return [f"{lab}#{r.run_id}" if labels.count(lab) > 1 else lab for lab, r in zip(labels, runs)]


def summarize_run(run: RunData, label: str | None = None) -> RunSummary:
    return summarize(run.records, label=label or run.label, run_id=run.run_id,
                     model=str(run.header.get("model") or ""),
                     suite=(run.header.get("suite") or {}).get("sha256"), meta=run.meta)  # fmt: skip


def record_tokens(record: Any) -> int | None:
    """Tokens a record used (input + output; reasoning is part of output), or None if unknown."""
    usage = field(record, "usage")
    if not isinstance(usage, Mapping):
        return None
    if usage.get("total_tokens") is not None:
        return int(usage["total_tokens"])
    parts = [usage.get(k) for k in ("input_tokens", "output_tokens")]
    if all(p is None for p in parts):
        return None
    return sum(int(p) for p in parts if p is not None)


def parse_release_date(value: Any) -> dt.date | None:
    """``2025-08-07`` (or a date/datetime) -> date; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class RunSummary:
    """The headline numbers of one run."""

    label: str
    run_id: str
    model: str
    n: int
    """Puzzles answered (infrastructure errors excluded)."""
    solved: int
    errors: int
    illegal: int
    solve_low: float
    solve_high: float
    rating: RatingEstimate
    tokens: int | None
    """Total tokens over answered puzzles; None when no record reports usage."""
    cost_usd: float | None
    """Total cost; None when no record reports a cost."""
    suite: str | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    curve: CurveFit | None = None
    """The fitted curve (headline: its 50%-solve point); ``rating`` is the fixed-slope Elo figure."""

    @property
    def headline(self) -> CurveFit | RatingEstimate:
        """What the table shows and ranks by: the curve's 50% point, else the Elo figure."""
        return self.curve if self.curve is not None and self.curve.rating is not None else self.rating

    @property
    def solve_rate(self) -> float:
        return self.solved / self.n if self.n else float("nan")

    @property
    def illegal_rate(self) -> float:
        return self.illegal / self.n if self.n else float("nan")

    @property
    def tokens_per_solved(self) -> float | None:
        return self.tokens / self.solved if self.tokens is not None and self.solved else None

    @property
    def cost_per_solved(self) -> float | None:
        return self.cost_usd / self.solved if self.cost_usd is not None and self.solved else None

    @property
    def release_date(self) -> dt.date | None:
        return parse_release_date(self.meta.get("release_date"))

    @property
    def family(self) -> str | None:
        value = self.meta.get("family")
        return None if value is None else str(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "run_id": self.run_id, "model": self.model, "suite": self.suite,
            "n": self.n, "solved": self.solved, "solve_rate": self.solve_rate,
            "solve_low": self.solve_low, "solve_high": self.solve_high, "errors": self.errors,
            "illegal_rate": self.illegal_rate, "rating": self.rating.to_dict(),
            "curve": self.curve.to_dict() if self.curve is not None else None,
            "tokens_per_solved": self.tokens_per_solved, "cost_per_solved": self.cost_per_solved,
            "meta": dict(self.meta),
        }  # fmt: skip


def summarize(
    records: Iterable[Any],
    *,
    label: str,
    run_id: str = "",
    model: str = "",
    suite: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> RunSummary:
    records = list(records)
    kept = answered(records)
    solved = sum(is_solved(r) for r in kept)
    tokens = [record_tokens(r) for r in kept]
    costs = [field(r, "cost_usd") for r in kept]
    return RunSummary(
        label=label,
        run_id=run_id,
        model=model,
        n=len(kept),
        solved=solved,
        errors=len(records) - len(kept),
        illegal=sum(str(field(r, "verdict")) == "illegal" for r in kept),
        solve_low=wilson_interval(solved, len(kept))[0],
        solve_high=wilson_interval(solved, len(kept))[1],
        rating=rating_from_records(records),
        curve=curve_from_records(records, gof_boot=0),
        tokens=None if all(t is None for t in tokens) else sum(t or 0 for t in tokens),
        cost_usd=None if all(c is None for c in costs) else math.fsum(float(c or 0.0) for c in costs),
        suite=suite,
        meta=dict(meta or {}),
    )


def order_by_release(rows: Sequence[RunSummary]) -> list[RunSummary]:
    """Release order; runs without a release date go last, in label order."""
    return sorted(rows, key=lambda r: (r.release_date is None, r.release_date or dt.date.min, r.label))


def _pm(est: RatingEstimate | CurveFit) -> str:
    if est.rating is None:
        return est.format()
    if math.isfinite(est.low) and math.isfinite(est.high):
        down, up = est.rating - est.low, est.high - est.rating
        if round(down) == round(up):
            return f"{est.rating:.0f} ± {down:.0f}"
        return f"{est.rating:.0f} (−{down:.0f}/+{up:.0f})"
    return est.format()


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def _columns(row: RunSummary) -> list[str]:
    return [
        row.label,
        _pm(row.headline),
        _pm(row.rating),
        f"{row.solve_rate:.1%} [{row.solve_low:.1%}, {row.solve_high:.1%}]",
        f"{row.solved}/{row.n}",
        f"{row.illegal_rate:.1%}",
        _num(row.tokens_per_solved, ",.0f"),
        _num(row.cost_per_solved, ".4f"),
    ]


HEADERS = ["run", "rating (95% CI)", "Elo-slope rating", "solve rate (95% CI)", "solved", "illegal", "tokens/solved", "$/solved"]


def _ranked(rows: Sequence[RunSummary]) -> list[RunSummary]:
    return sorted(rows, key=lambda r: -r.headline.sort_key if r.n else math.inf)


def leaderboard_markdown(rows: Sequence[RunSummary], *, rank: bool = True) -> str:
    """A Markdown table for pasting, best rating first."""
    rows = _ranked(rows) if rank else list(rows)
    lines = ["| # | " + " | ".join(HEADERS) + " |", "|---:|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|"]
    for i, row in enumerate(rows, 1):
        cells = [c.replace("|", "\\|") for c in _columns(row)]
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Rating: the 50%-solve point of the fitted curve (free slope and lapse) on the Lichess "
                 "puzzle-rating scale, profile-likelihood 95% CI; Elo-slope rating: the same fit with Elo's "
                 "fixed 400-point logistic; solve rate with Wilson 95% CI.")  # fmt: skip
    return "\n".join(lines)


def leaderboard_text(rows: Sequence[RunSummary], *, rank: bool = True) -> str:
    """The same table aligned for a terminal."""
    rows = _ranked(rows) if rank else list(rows)
    table = [["#", *HEADERS]] + [[str(i), *_columns(r)] for i, r in enumerate(rows, 1)]
    widths = [max(len(line[c]) for line in table) for c in range(len(table[0]))]
    out = []
    for j, line in enumerate(table):
        cells = [cell.ljust(w) if c in (1,) else cell.rjust(w) for c, (cell, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
