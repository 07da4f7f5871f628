"""One self-contained HTML file per run: headline numbers, plots, tables, and failed puzzles.

Everything is inline — the plots are base64 PNGs, each board is python-chess's SVG as a
``data:`` image (so the pieces' ``id``s of different boards never clash) — and a Content Security
Policy forbids loading anything else, so the file opens the same from a mail attachment as from
disk. Every piece of text that comes from a run (model answers, names, metadata) is escaped.

Boards need the puzzle positions, which records do not carry: they are read from the suite file
named in ``run.json``. When that file is gone the gallery still lists the failures, without boards.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import chess
import chess.svg

from chesseval.analysis.breakdown import (
    Breakdown,
    by_phase,
    by_rating_bucket,
    by_side_to_move,
    by_solution_length,
    by_theme,
    field,
    partial_credit,
)
from chesseval.analysis.leaderboard import RunSummary
from chesseval.core.puzzles import Puzzle

__all__ = ["render_html", "write_html_report", "load_suite_puzzles", "failure_position", "board_svg", "FailurePosition"]

PLAYED_COLOUR = "#d32f2fcc"
ILLEGAL_COLOUR = "#f57c00cc"
SOLUTION_COLOUR = "#2e7d32cc"
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_ANSWER_LIMIT = 2000

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1180px;padding:24px;color:#222}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:150px}
.card .v{font-size:22px;font-weight:600}.card .l{color:#666;font-size:13px}
table{border-collapse:collapse;margin:6px 0 14px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.tables{display:flex;flex-wrap:wrap;gap:28px;align-items:flex-start}
img.plot{max-width:100%;height:auto}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:18px}
.fail{display:flex;gap:12px;border:1px solid #ddd;border-radius:8px;padding:10px}
.fail img.board{width:260px;height:260px;flex:none}
.fail pre{white-space:pre-wrap;word-break:break-word;max-height:210px;overflow:auto;background:#fafafa;border:1px solid #eee;padding:6px;font-size:12px;margin:6px 0 0}
.key span{display:inline-block;width:18px;height:4px;margin:0 4px 3px 10px;vertical-align:middle}
.note{color:#555;font-size:13px}
.warn{color:#8a4b00}
"""


@dataclasses.dataclass(frozen=True)
class FailurePosition:
    """Where a failed puzzle went wrong: the board, the move played, the move expected."""

    board: chess.Board
    """The position the failing answer was given in (solver to move)."""
    expected: chess.Move
    played: chess.Move | None
    """The move played; for an illegal answer written as coordinates, those squares; else None."""
    played_legal: bool
    last_move: chess.Move | None
    """The opponent's move that led to ``board`` (highlighted)."""
    turn_index: int


def failure_position(puzzle: Puzzle, record: Mapping[str, Any]) -> FailurePosition:
    """Replay the solution up to the turn the record failed on."""
    turns = record.get("turns") or [{}]
    last = turns[-1]
    i = int(last.get("index", len(turns) - 1))
    board = puzzle.board()
    line = puzzle.line
    last_move = chess.Move.from_uci(puzzle.moves[0]) if puzzle.has_setup_move else None
    for j in range(i):
        board.push_uci(line[2 * j])
        last_move = chess.Move.from_uci(line[2 * j + 1])
        board.push(last_move)
    expected = chess.Move.from_uci(line[2 * i])
    played, legal = None, False
    if last.get("played_uci"):
        played, legal = chess.Move.from_uci(last["played_uci"]), True
    elif last.get("parsed_text"):
        # An illegal move still has squares worth drawing when it was written as coordinates.
        try:
            played = chess.Move.from_uci(str(last["parsed_text"]).strip().lower())
        except ValueError:
            played = None
    return FailurePosition(board, expected, played, legal, last_move, i)


def board_svg(pos: FailurePosition, *, size: int = 260) -> str:
    arrows = [chess.svg.Arrow(pos.expected.from_square, pos.expected.to_square, color=SOLUTION_COLOUR)]
    if pos.played is not None and pos.played != pos.expected and pos.played.from_square != pos.played.to_square:
        colour = PLAYED_COLOUR if pos.played_legal else ILLEGAL_COLOUR
        arrows.append(chess.svg.Arrow(pos.played.from_square, pos.played.to_square, color=colour))
    return chess.svg.board(pos.board, orientation=pos.board.turn, lastmove=pos.last_move, arrows=arrows, size=size)


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pct(x: float) -> str:
    return "–" if x != x else f"{x:.1%}"


def _table(bd: Breakdown, title: str, *, limit: int | None = None) -> str:
    rows = bd.groups[:limit] if limit else bd.groups
    body = "".join(
        f"<tr><td>{_e(g.key)}</td><td>{g.n}</td><td>{g.k}</td><td>{_pct(g.rate)}</td>"
        f"<td>{_pct(g.low)}–{_pct(g.high)}</td></tr>"
        for g in rows
    )
    more = f'<div class="note">{len(bd.groups) - len(rows)} more not shown</div>' if len(rows) < len(bd.groups) else ""
    return (f'<div><h3>{_e(title)}</h3><table><tr><th>{_e(bd.name)}</th><th>n</th><th>solved</th><th>rate</th>'
            f"<th>95% CI</th></tr>{body}</table>{more}</div>")  # fmt: skip


def _cards(s: RunSummary, records: Sequence[Any]) -> str:
    first = sum(bool(field(r, "first_move_correct")) for r in records if field(r, "verdict") != "error")
    cards = [
        ("puzzle rating (95% CI)", s.headline.format()),
        ("Elo-slope rating", s.rating.format()),
        ("solve rate", f"{_pct(s.solve_rate)}"),
        ("95% CI", f"{_pct(s.solve_low)}–{_pct(s.solve_high)}"),
        ("solved", f"{s.solved} / {s.n}"),
        ("first move right", _pct(first / s.n if s.n else float("nan"))),
        ("illegal answers", _pct(s.illegal_rate)),
        ("tokens per solve", "–" if s.tokens_per_solved is None else f"{s.tokens_per_solved:,.0f}"),
        ("$ per solve", "–" if s.cost_per_solved is None else f"{s.cost_per_solved:.4f}"),
    ]
    if s.errors:
        cards.append(("calls failed (excluded)", str(s.errors)))
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{_e(v)}</div><div class="l">{_e(label)}</div></div>' for label, v in cards
    ) + "</div>"


def _themes_note(s: RunSummary, records: Sequence[Any]) -> str:
    """The themes off the fitted curve (chesseval.core.theme_fit), as the text report prints them."""
    from chesseval.core.theme_fit import flagged, format_flagged, theme_fits

    line = format_flagged(flagged(theme_fits(records, s.curve))) if s.curve is not None else ""
    return f'<p class="note warn">{_e(line)}</p>' if line else ""


def _linking_note(header: Mapping[str, Any], s: RunSummary, records: Sequence[Any]) -> str:
    """The line on comparing the headline with a rating on another suite, as the text report
    prints it (chesseval.core.linking.against_other_suites_text)."""
    from chesseval.core.linking import NOT_COMPARABLE, against_other_suites_text

    c = s.curve
    line = "" if c is None else against_other_suites_text(header, records, c.rating, c.low, c.high, level=c.level)
    if not line:
        return ""
    return f'<p class="note{" warn" if line.startswith(NOT_COMPARABLE) else ""}">{_e(line[0].upper() + line[1:])}.</p>'


def _partial_table(records: Sequence[Any]) -> str:
    pc = partial_credit(records)
    if not pc.by_length:
        return ""
    width = max(pc.by_length)
    head = "".join(f"<th>{i} found</th>" for i in range(width + 1))
    rows = []
    for length, counts in pc.by_length.items():
        total = sum(counts.values())
        cells = "".join(f"<td>{_pct(counts.get(i, 0) / total)}</td>" if i <= length else "<td></td>" for i in range(width + 1))
        rows.append(f"<tr><td>{length}</td><td>{total}</td>{cells}</tr>")
    return ("<div><h3>Solver moves found before the first failure</h3>"
            f"<table><tr><th>solution length</th><th>n</th>{head}</tr>{''.join(rows)}</table>"
            '<div class="note">Found 0 = the first move was already wrong; found = length = solved.</div></div>')  # fmt: skip


def _gallery_item(rec: Mapping[str, Any], puzzle: Puzzle | None) -> str:
    turns = rec.get("turns") or [{}]
    last = turns[-1]
    pid = str(rec.get("puzzle_id"))
    board_html = ""
    played_txt = last.get("played_san") or last.get("played_uci") or last.get("parsed_text") or "—"
    expected_txt = last.get("expected_uci") or "?"
    # Which reading rule found the move (marker, continuation, bold ...), so a verdict can be audited.
    rule_txt = f' <span class="note">(read by {_e(last["parse_rule"])})</span>' if last.get("parse_rule") else ""
    if puzzle is not None:
        try:
            pos = failure_position(puzzle, rec)
            expected_txt = pos.board.san(pos.expected)
            board_html = f'<img class="board" alt="board of puzzle {_e(pid)}" src="{_data_uri("image/svg+xml", board_svg(pos).encode())}">'
        except (ValueError, IndexError, AssertionError):
            board_html = '<div class="note">position could not be replayed</div>'
    answer = str(last.get("answer") or "")
    cut = len(answer) > _ANSWER_LIMIT
    answer = answer[:_ANSWER_LIMIT] + ("\n[…]" if cut else "")
    themes = ", ".join(str(t) for t in rec.get("themes") or [])
    link = f"https://lichess.org/training/{pid}" if rec.get("rating_source") in (None, "lichess") else None
    title = f'<a href="{_e(link)}">{_e(pid)}</a>' if link else _e(pid)
    return (
        f'<div class="fail" id="fail-{_e(pid)}">{board_html}<div><b>{title}</b> · rating {_e(rec.get("rating"))} · '
        f'<b>{_e(rec.get("verdict"))}</b> on solver move {int(last.get("index", 0)) + 1} of {_e(rec.get("n_solver_moves"))}'
        f'<div>played <b>{_e(played_txt)}</b>{rule_txt}, solution <b>{_e(expected_txt)}</b></div>'
        f'<div class="note">{_e(themes)}</div><pre>{_e(answer) or "(empty answer)"}</pre></div></div>'
    )


def _plot_img(png: bytes, alt: str) -> str:
    return f'<img class="plot" alt="{_e(alt)}" src="{_data_uri("image/png", png)}">'


def render_html(
    header: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    puzzles: Mapping[str, Puzzle] | None = None,
    *,
    gallery: int = 30,
    band_width: int = 200,
) -> str:
    """The report as one HTML string. ``puzzles`` (by id) are needed to draw the boards."""
    from chesseval.analysis.plots import plot_solve_rate_by_bucket

    model = str(header.get("model") or "?")
    suite = header.get("suite") or {}
    label = str((header.get("meta") or {}).get("label") or model)
    summary = RunSummary.from_records(records, label=label, run_id=str(header.get("run_id") or ""), model=model,
                                      suite=suite.get("sha256"), meta=header.get("meta") or {})  # fmt: skip
    plot = plot_solve_rate_by_bucket([(label, records)], width=band_width, ratings=[summary.rating])
    failed = [r for r in records if r.get("verdict") not in ("correct", "error")]
    failed.sort(key=lambda r: (r.get("rating") is None, r.get("rating") or 0, str(r.get("puzzle_id"))))
    shown = failed[:gallery]
    meta = header.get("meta") or {}
    meta_txt = " · ".join(f"{_e(k)}: {_e(v)}" for k, v in sorted(meta.items()))
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    pieces = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>chesseval: {_e(label)} on {_e(suite.get('name'))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(label)} on {_e(suite.get('name'))}</h1>",
        f'<div class="sub">model {_e(model)} · format {_e(header.get("format"))} · template {_e(header.get("template"))} · '
        f'run {_e(header.get("run_id"))} · status {_e(header.get("status"))} · started {_e(header.get("started_at"))}'
        + (f"<br>{meta_txt}" if meta_txt else "") + "</div>",
        _cards(summary, records),
        '<p class="note">Puzzle rating: the 50%-solve point of the fitted solve curve (slope and lapse) on the Lichess '
        "<i>puzzle</i>-rating scale, with a profile 95% interval that includes the slope's and the lapse's uncertainty; "
        "the Elo-slope rating (Elo's fixed 400-point curve) is the secondary figure. Not FIDE or game Elo. "
        "A puzzle counts as solved only when every solver move is right (first attempt, whole line; any mate wins). "
        "Solve rates carry Wilson 95% intervals.</p>",
        _themes_note(summary, records),
        _linking_note(header, summary, records),
        "<h2>Solve rate by puzzle rating</h2>",
        _plot_img(plot, "solve rate by puzzle rating"),
        '<div class="tables">',
        _table(by_rating_bucket(records, width=band_width), "By rating"),
        _table(by_solution_length(records), "By solution length"),
        _table(by_phase(records), "By game phase"),
        _table(by_side_to_move(records, puzzles), "By side to move"),
        _partial_table(records),
        "</div>",
        "<h2>By theme</h2>",
        '<div class="tables">' + _table(by_theme(records, min_n=3), "Lichess themes with at least 3 puzzles", limit=40) + "</div>",
        f"<h2>Failed puzzles ({len(shown)} of {len(failed)}, easiest first)</h2>",
        f'<div class="key note">arrows:<span style="background:{SOLUTION_COLOUR}"></span>solution'
        f'<span style="background:{PLAYED_COLOUR}"></span>move played'
        f'<span style="background:{ILLEGAL_COLOUR}"></span>illegal move written</div>',
        "" if puzzles else '<p class="note">The suite file was not found, so boards are not drawn.</p>',
        '<div class="gallery">' + "".join(_gallery_item(r, (puzzles or {}).get(str(r.get("puzzle_id")))) for r in shown) + "</div>",
        f'<p class="note">Generated by chesseval {_e((header.get("versions") or {}).get("chesseval"))} on {generated}.</p>',
        "</body></html>",
    ]
    return "\n".join(pieces)


def load_suite_puzzles(header: Mapping[str, Any], ids: set[str] | None = None) -> dict[str, Puzzle] | None:
    """The run's puzzles by id (only ``ids`` if given), from the suite file ``run.json`` names.

    None when the file is gone. A suite file edited since the run is detected by its sha256
    and not used, since its positions may no longer match the records.
    """
    from chesseval.core.puzzles import iter_puzzles
    from chesseval.core.suites import file_sha256

    suite = header.get("suite") or {}
    path = suite.get("path")
    if not path or not Path(path).is_file():
        return None
    if suite.get("sha256") and file_sha256(path) != suite["sha256"]:
        return None
    if ids is not None and _kind(path) == "csv":
        return _load_csv_subset(Path(path), ids)
    # Rows a --skip-invalid run left out are not drawn: skip them here too.
    return {p.id: p for p in iter_puzzles(path, errors=[]) if ids is None or p.id in ids}


def _kind(path: str | os.PathLike[str]) -> str:
    name = Path(path).name.lower().removesuffix(".zst")
    return name.rsplit(".", 1)[-1]


def _load_csv_subset(path: Path, ids: set[str]) -> dict[str, Puzzle]:
    # Parsing (and validating) every row of a 20k-puzzle suite to draw 30 boards takes seconds:
    # keep the rows whose first field is a wanted id, then parse only those with the real loader.
    import csv
    import tempfile

    from chesseval.core.puzzles import iter_puzzles, open_text

    with open_text(path) as src, tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.csv"
        with open(subset, "w", encoding="utf-8", newline="") as dst:
            writer = csv.writer(dst)
            for i, row in enumerate(csv.reader(src)):
                if row and ((i == 0 and row[0] == "PuzzleId") or row[0] in ids):
                    writer.writerow(row)
        return {p.id: p for p in iter_puzzles(subset, errors=[])}


def write_html_report(run_path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *, gallery: int = 30) -> Path:
    """Write ``report.html`` (or ``out``) for the run folder ``run_path``; returns the file written."""
    from chesseval.core.records import load_run
    from chesseval.errors import RunError

    run = load_run(run_path)
    text = render_html(run.header, run.records, load_suite_puzzles(run.header, {r.puzzle_id for r in run.records}),
                       gallery=gallery, band_width=run.band_width)  # fmt: skip
    target = Path(out) if out else run.path / "report.html"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:  # e.g. a read-only run folder: the report goes elsewhere, the run is fine
        raise RunError(f"cannot write {str(target)!r} ({exc.strerror or exc}); write the report elsewhere with -o DIR or --html FILE") from exc
    return target
