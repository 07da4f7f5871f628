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
from pathlib import Path
from typing import Any

from chesseval.analysis.breakdown import field
from chesseval.core.curve import CurveFit, curve_from_records
from chesseval.core.rating import RatingEstimate, rating_from_records
from chesseval.core.records import RunData, list_runs, load_run
from chesseval.core.results import answered, summarize_group
from chesseval.errors import RunError

__all__ = [
    "load_runs_dir",
    "history_rows",
    "distinct_labels",
    "summarize_run",
    "RunSummary",
    "record_tokens",
    "parse_release_date",
    "order_by_release",
    "leaderboard_markdown",
    "leaderboard_text",
]


def load_runs_dir(runs_dir: str | os.PathLike[str]) -> list[RunData]:
    """Every run folder directly inside ``runs_dir``, oldest first."""
    if not Path(runs_dir).is_dir():
        raise RunError(f"runs folder {str(runs_dir)!r} does not exist")
    return [load_run(r.path) for r in list_runs(runs_dir)]


def history_rows(runs_dir: str | os.PathLike[str], *, family: str | None = None) -> list[RunSummary]:
    """The runs of ``runs_dir`` (only those with ``--meta family=FAMILY`` if given) in release
    order, as ``chesseval history`` lists them; runs without a release date go last."""
    runs = load_runs_dir(runs_dir)
    if family:
        runs = [r for r in runs if str(r.meta.get("family")) == family]
    if not runs:
        which = f" of family {family!r}" if family else ""
        raise RunError(f"no runs{which} in {str(runs_dir)!r} (give runs metadata with: chesseval run ... --meta family=F --meta release_date=YYYY-MM-DD)")
    return order_by_release([summarize_run(run, lab) for run, lab in zip(runs, distinct_labels(runs), strict=True)])


def distinct_labels(runs: Sequence[RunData]) -> list[str]:
    """Each run's label, with ``#run_id`` appended where two runs would share one."""
    labels = [r.label for r in runs]
    return [f"{lab}#{r.run_id}" if labels.count(lab) > 1 else lab for lab, r in zip(labels, runs, strict=True)]


def summarize_run(run: RunData, label: str | None = None) -> RunSummary:
    """The leaderboard line of a loaded run."""
    return RunSummary.from_records(run.records, label=label or run.label, run_id=run.run_id,
                                   model=str(run.header.get("model") or ""),
                                   suite=(run.header.get("suite") or {}).get("sha256"), meta=run.meta,
                                   suite_name=(run.header.get("suite") or {}).get("name"))  # fmt: skip


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
    """The suite's sha256."""
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    curve: CurveFit | None = None
    """The fitted curve (headline: its 50%-solve point); ``rating`` is the fixed-slope Elo figure."""
    suite_name: str | None = None

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

    @classmethod
    def from_records(
        cls,
        records: Iterable[Any],
        *,
        label: str,
        run_id: str = "",
        model: str = "",
        suite: str | None = None,
        meta: Mapping[str, Any] | None = None,
        suite_name: str | None = None,
    ) -> RunSummary:
        """The headline numbers of ``records``: solve rate and interval from
        :func:`chesseval.core.results.summarize_group` (the numbers ``report`` prints), the rating fit,
        tokens and cost over the answered records."""
        records = list(records)
        group = summarize_group(records)
        kept = answered(records)
        tokens = [record_tokens(r) for r in kept]
        costs = [field(r, "cost_usd") for r in kept]
        n = group["n"]
        return cls(
            label=label,
            run_id=run_id,
            model=model,
            n=n,
            solved=group["solved"],
            errors=group["verdicts"]["error"],
            illegal=group["verdicts"]["illegal"],
            # n == 0: nothing answered, every rate possible (the interval report leaves blank).
            solve_low=group["ci_low"] if n else 0.0,
            solve_high=group["ci_high"] if n else 1.0,
            rating=rating_from_records(records),
            curve=curve_from_records(records, gof_boot=0),
            tokens=None if all(t is None for t in tokens) else sum(t or 0 for t in tokens),
            cost_usd=None if all(c is None for c in costs) else math.fsum(float(c or 0.0) for c in costs),
            suite=suite,
            meta=dict(meta or {}),
            suite_name=suite_name,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "run_id": self.run_id, "model": self.model, "suite": self.suite, "suite_name": self.suite_name,
            "n": self.n, "solved": self.solved, "solve_rate": self.solve_rate,
            "solve_low": self.solve_low, "solve_high": self.solve_high, "errors": self.errors,
            "illegal_rate": self.illegal_rate, "rating": self.rating.to_dict(),
            "curve": self.curve.to_dict() if self.curve is not None else None,
            "tokens_per_solved": self.tokens_per_solved, "cost_per_solved": self.cost_per_solved,
            "meta": dict(self.meta),
        }  # fmt: skip


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


def _suite_cell(row: RunSummary) -> str:
    return f"{row.suite_name or '?'} ({row.suite[:8] if row.suite else 'unknown'})"


def _with_suite(rows: Sequence[RunSummary]) -> bool:
    """A suite column only when the rows are on more than one suite: their solve rates do not
    compare, their ratings only within the suites' linking errors (``compare --force``)."""
    return len({r.suite for r in rows}) > 1


def _columns(row: RunSummary, with_suite: bool = False) -> list[str]:
    return [
        row.label,
        *([_suite_cell(row)] if with_suite else []),
        _pm(row.headline),
        _pm(row.rating),
        f"{row.solve_rate:.1%} [{row.solve_low:.1%}, {row.solve_high:.1%}]",
        f"{row.solved}/{row.n}",
        f"{row.illegal_rate:.1%}",
        _num(row.tokens_per_solved, ",.0f"),
        _num(row.cost_per_solved, ".4f"),
    ]


HEADERS = ["run", "rating (95% CI)", "Elo-slope rating", "solve rate (95% CI)", "solved", "illegal", "tokens/solved", "$/solved"]


def _headers(with_suite: bool) -> list[str]:
    return [HEADERS[0], "suite", *HEADERS[1:]] if with_suite else list(HEADERS)


def _ranked(rows: Sequence[RunSummary]) -> list[RunSummary]:
    return sorted(rows, key=lambda r: -r.headline.sort_key if r.n else math.inf)


def leaderboard_markdown(rows: Sequence[RunSummary], *, rank: bool = True) -> str:
    """A Markdown table for pasting, best rating first."""
    rows = _ranked(rows) if rank else list(rows)
    suite = _with_suite(rows)
    headers = _headers(suite)
    lines = ["| # | " + " | ".join(headers) + " |", "|---:|" + "|".join(["---"] * (1 + suite) + ["---:"] * (len(headers) - 1 - suite)) + "|"]
    for i, row in enumerate(rows, 1):
        cells = [c.replace("|", "\\|") for c in _columns(row, suite)]
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Rating: the 50%-solve point of the fitted curve (free slope and lapse) on the Lichess "
                 "puzzle-rating scale, profile-likelihood 95% CI; Elo-slope rating: the same fit with Elo's "
                 "fixed 400-point logistic; solve rate with Wilson 95% CI.")  # fmt: skip
    return "\n".join(lines)


def leaderboard_text(rows: Sequence[RunSummary], *, rank: bool = True) -> str:
    """The same table aligned for a terminal."""
    rows = _ranked(rows) if rank else list(rows)
    suite = _with_suite(rows)
    table = [["#", *_headers(suite)]] + [[str(i), *_columns(r, suite)] for i, r in enumerate(rows, 1)]
    widths = [max(len(line[c]) for line in table) for c in range(len(table[0]))]
    out = []
    for j, line in enumerate(table):
        cells = [cell.ljust(w) if c in ((1, 2) if suite else (1,)) else cell.rjust(w) for c, (cell, w) in enumerate(zip(line, widths, strict=True))]
        out.append("  ".join(cells).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
