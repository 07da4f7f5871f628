"""Comparing runs: the leaderboard of two or more runs plus a paired test for every pair.

:func:`compare_runs` is what ``chesseval compare`` prints. It refuses runs on different puzzle
suites (their solve rates do not compare like with like) unless ``force`` is given, and lists
as warnings whatever else may make a comparison unfair (another prompt template or format, a run
that did not finish). Pairs are compared on the puzzles both runs answered: the exact McNemar test
on the discordant pairs and a paired bootstrap of the difference in solve rate and rating.
Runs on different suites (with ``force``) are also compared by their headline ratings, with each
suite's linking error (:func:`chesseval.core.linking.cross_suite_difference`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from chesseval.analysis.breakdown import PairedComparison, comparability_problems, paired_comparison
from chesseval.analysis.leaderboard import RunSummary, distinct_labels, leaderboard_markdown, leaderboard_text, summarize_run
from chesseval.core.linking import CrossSuiteDifference, cross_suite_difference
from chesseval.core.records import RunData, load_run
from chesseval.errors import ConfigError

__all__ = ["Comparison", "compare_runs"]


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare_runs`."""

    runs: tuple[RunData, ...]
    labels: tuple[str, ...]
    rows: tuple[RunSummary, ...]
    """One leaderboard line per run, in the order given."""
    pairs: tuple[tuple[int, int, PairedComparison | None, bool], ...]
    """``(i, j, comparison, different_suites)`` for every pair; the comparison is None without shared puzzles."""
    warnings: tuple[str, ...]
    across_suites: tuple[CrossSuiteDifference, ...] = ()
    """Headline differences of the pairs on different suites."""

    def text(self, *, markdown: bool = False) -> str:
        """The leaderboard (best rating first) and the paired tests, as ``compare`` prints them."""
        out = [leaderboard_markdown(self.rows) if markdown else leaderboard_text(self.rows), ""]
        for i, j, pc, different_suite in self.pairs:
            if pc is None:
                out.append(f"{self.labels[j]} vs {self.labels[i]}: no shared puzzles, no paired test")
                continue
            text = pc.summary()
            if different_suite:
                text = "[different suites: paired on the puzzle ids both contain]\n" + text
            out.append(("    " + text.replace("\n", "\n    ")) if markdown else text)
        if self.across_suites:
            out += ["", "Ratings across suites (B - A; a rating on one suite compared with one on another):"]
            out += [("    " if markdown else "") + d.summary() for d in self.across_suites]
        if markdown:
            out.insert(2, "Paired comparisons (B vs A on shared puzzles; exact McNemar, paired bootstrap 95% CI):\n")
        return "\n".join(out).rstrip()

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.rows], "pairs": [pc.to_dict() for _, _, pc, _ in self.pairs if pc is not None],
                "across_suites": [d.to_dict() for d in self.across_suites]}


def compare_runs(
    runs: Sequence[str | os.PathLike[str] | RunData],
    *,
    force: bool = False,
    boot: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Leaderboard and paired tests of two or more runs (folders or loaded runs).

    Raises :class:`ConfigError` for fewer than two runs, and for runs on different puzzle suites
    unless ``force`` (then they are paired on the puzzle ids both contain, with a warning).
    """
    if len(runs) < 2:
        raise ConfigError(f"compare needs at least two runs, got {len(runs)!r}")
    data = tuple(r if isinstance(r, RunData) else load_run(r) for r in runs)
    labels = tuple(distinct_labels(data))
    problems = {}
    for (i, a), (j, b) in combinations(enumerate(data), 2):
        problems[i, j] = comparability_problems(a.header, b.header, label_a=labels[i], label_b=labels[j])
    refusals = [p.message for ps in problems.values() for p in ps if p.severity == "refuse"]
    if refusals and not force:
        raise ConfigError("; ".join(dict.fromkeys(refusals)) + ": refusing to compare runs on different puzzle suites "
                          "(their solve rates and paired tests do not compare like with like); pass --force to compare anyway "
                          "(headline ratings are then also compared with each suite's linking error)")  # fmt: skip
    warnings: list[str] = []
    for run, label in zip(data, labels, strict=True):
        status = run.header.get("status")
        if status != "success":
            warnings.append(f"run {label} has status {status!r} ({len(run.records)} of {run.header.get('n_puzzles', '?')} puzzles recorded)")
    for ps in problems.values():
        warnings += [p.message for p in ps if p.message not in warnings]
    rows = tuple(summarize_run(run, label) for run, label in zip(data, labels, strict=True))
    pairs, across = [], []
    for (i, j), ps in problems.items():
        pc = paired_comparison(data[i].records, data[j].records, label_a=labels[i], label_b=labels[j],
                               n_boot=boot, rating_boot=boot // 2, seed=seed)  # fmt: skip
        different_suites = any(p.severity == "refuse" for p in ps)
        pairs.append((i, j, pc if pc.n else None, different_suites))
        if different_suites:
            d = cross_suite_difference((data[i].header, data[i].records, rows[i].curve),
                                       (data[j].header, data[j].records, rows[j].curve), label_a=labels[i], label_b=labels[j])
            if d is not None:
                across.append(d)
    return Comparison(data, labels, rows, tuple(pairs), tuple(warnings), tuple(across))
