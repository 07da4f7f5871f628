"""Puzzles: the :class:`Puzzle` value type and loaders for Lichess CSV, EPD and PGN files.

The Lichess convention is kept exactly: a row's FEN is the position *before* the opponent's move,
``Moves[0]`` is that opponent's move, the solver plays ``Moves[1]``, ``Moves[3]``, … and so the
solver's colour is the opposite of the FEN's side to move. EPD and PGN puzzles have no such setup
move: the side to move in their FEN is the solver.

Every loader reports bad input as :class:`~chesseval.errors.PuzzleFormatError` with
``file:line: reason`` and the offending value in ``repr`` form.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

import chess
import chess.pgn

from chesseval.errors import PuzzleFormatError, short_repr

__all__ = [
    "Puzzle",
    "RatingSource",
    "LICHESS_COLUMNS",
    "load_puzzles",
    "iter_puzzles",
    "validate_puzzles",
    "open_text",
    "write_lichess_csv",
    "write_puzzle_pgn",
    "parse_lichess_row",
    "parse_int_field",
]

LICHESS_COLUMNS = (
    "PuzzleId",
    "FEN",
    "Moves",
    "Rating",
    "RatingDeviation",
    "Popularity",
    "NbPlays",
    "Themes",
    "GameUrl",
    "OpeningTags",
)


class RatingSource:
    """Where a puzzle's rating comes from (plain strings so records stay JSON)."""

    LICHESS = "lichess"
    BUCKET = "bucket"
    """A Lichess rating known only to lie in a range (an imported log's rating bucket): the
    range's midpoint, its spread in the deviation."""
    ESTIMATED = "estimated"
    NONE = "none"


@dataclasses.dataclass(frozen=True, slots=True)
class Puzzle:
    """One puzzle: a start position and the forced line that solves it."""

    id: str
    """Puzzle id, always a string (Lichess ids like ``00008`` keep their zeros)."""
    fen: str
    """The position as stored: before the opponent's setup move when :attr:`has_setup_move`."""
    moves: tuple[str, ...]
    """The whole line in UCI. With a setup move, ``moves[0]`` is the opponent's move."""
    has_setup_move: bool = True
    """Lichess convention (True) or a position where the side to move is the solver (EPD, PGN)."""
    rating: int | None = None
    rating_deviation: int | None = None
    popularity: int | None = None
    nb_plays: int | None = None
    themes: tuple[str, ...] = ()
    game_url: str | None = None
    opening_tags: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    """Other first solver moves (UCI) a suite accepts, e.g. EPD ``bm`` with several moves."""
    rating_source: str = RatingSource.LICHESS

    # -- derived views -------------------------------------------------------------------------

    def start_board(self) -> chess.Board:
        """The board as stored (before the setup move, if there is one)."""
        return chess.Board(self.fen)

    def board(self) -> chess.Board:
        """The position shown to the solver: after the opponent's setup move."""
        board = chess.Board(self.fen)
        if self.has_setup_move:
            board.push(chess.Move.from_uci(self.moves[0]))
        return board

    @property
    def solver(self) -> chess.Color:
        """The solver's colour: opposite of the stored FEN's side to move, when there is a setup."""
        turn = self.fen.split()[1] == "w"
        return (not turn) if self.has_setup_move else turn

    @property
    def setup_move(self) -> str | None:
        """The opponent's move that leads to the puzzle position, in UCI, or None."""
        return self.moves[0] if self.has_setup_move else None

    @property
    def line(self) -> tuple[str, ...]:
        """The solution line from the solver's position: solver, reply, solver, …"""
        return self.moves[1:] if self.has_setup_move else self.moves

    @property
    def solution(self) -> tuple[str, ...]:
        """The solver's moves only."""
        return self.line[0::2]

    @property
    def n_solver_moves(self) -> int:
        return len(self.solution)

    @property
    def is_rated(self) -> bool:
        return self.rating is not None


# -- opening files -------------------------------------------------------------------------------


def _open_bytes(path: Path) -> IO[bytes]:
    if path.suffix == ".zst":
        from chesseval.core.zstream import ZstdFramesReader  # notices a truncated (half-downloaded) file

        return io.BufferedReader(ZstdFramesReader(open(path, "rb"), str(path)))
    return open(path, "rb")


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """Open a text file, decompressing ``.zst`` on the fly (streamed, never read whole)."""
    p = Path(path)
    return io.TextIOWrapper(_open_bytes(p), encoding="utf-8-sig", newline="")


def _decode_error(path: Path) -> PuzzleFormatError:
    """Where a file stops being UTF-8: the text reader decodes in 8 kB blocks, so its error has no line.

    UTF-8 never uses the byte of ``\\n`` inside a character, so decoding line by line finds the line.
    """
    with _open_bytes(path) as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return PuzzleFormatError(
                    str(path), line_no,
                    f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {exc.start + 1} (a binary file, or another encoding? "
                    "puzzle files are UTF-8 .csv, .epd or .pgn)",
                )  # fmt: skip
    return PuzzleFormatError(str(path), None, "not UTF-8 text (puzzle files are UTF-8 .csv, .epd or .pgn)")


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".zst"):
        name = name[: -len(".zst")]
    for ext, kind in ((".csv", "csv"), (".epd", "epd"), (".pgn", "pgn")):
        if name.endswith(ext):
            return kind
    raise PuzzleFormatError(str(path), None, f"unknown puzzle file type {path.suffix!r}: expected .csv, .csv.zst, .epd or .pgn")


def iter_puzzles(
    path: str | os.PathLike[str], *, errors: list[PuzzleFormatError] | None = None
) -> Iterator[Puzzle]:
    """Yield the puzzles of a file, streamed.

    With ``errors`` given, bad rows are appended to it and skipped; otherwise the first bad row
    raises :class:`PuzzleFormatError`.
    """
    p = Path(path)
    if not p.exists():
        raise PuzzleFormatError(str(p), None, "no such file")
    if p.is_dir():
        raise PuzzleFormatError(str(p), None, "is a directory, not a puzzle file (.csv, .csv.zst, .epd or .pgn)")
    kind = _kind(p)
    reader: Callable[[Path], Iterator[Puzzle | PuzzleFormatError]] = {"csv": _iter_csv, "epd": _iter_epd, "pgn": _iter_pgn}[kind]
    items = reader(p)
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise _decode_error(p) from None
        except OSError as exc:  # unreadable file; a truncated .zst is a PuzzleFormatError already
            raise PuzzleFormatError(str(p), None, f"cannot read ({exc.strerror or exc})") from None
        if isinstance(item, PuzzleFormatError):
            if errors is None:
                raise item
            errors.append(item)
        else:
            yield item


def load_puzzles(
    path: str | os.PathLike[str], *, limit: int | None = None, skipped: list[PuzzleFormatError] | None = None
) -> list[Puzzle]:
    """Load every puzzle of a Lichess CSV (``.csv``/``.csv.zst``), EPD or PGN file.

    Raises :class:`PuzzleFormatError` on the first bad row, and on duplicate ids. With ``skipped``
    given, bad rows and repeated ids are appended to it instead and the good puzzles returned;
    a file that cannot be read at all, or holds no good puzzle, still raises.
    """
    out: list[Puzzle] = []
    seen: set[str] = set()
    for puzzle in iter_puzzles(path, errors=skipped):
        if puzzle.id in seen:
            error = PuzzleFormatError(str(path), None, f"duplicate puzzle id {short_repr(puzzle.id)}")
            if skipped is None:
                raise error
            skipped.append(error)
            continue
        seen.add(puzzle.id)
        out.append(puzzle)
        if limit is not None and len(out) >= limit:
            break
    if not out and skipped:
        if len(skipped) == 1:
            raise skipped[0]
        raise PuzzleFormatError(str(path), None, f"no valid puzzle: all {len(skipped)} are invalid (first, line {skipped[0].line}: {skipped[0].reason})")
    return out


def validate_puzzles(path: str | os.PathLike[str]) -> tuple[int, list[PuzzleFormatError]]:
    """Read a whole file and return (number of good puzzles, every problem found)."""
    errors: list[PuzzleFormatError] = []
    seen: set[str] = set()
    n = 0
    try:
        for puzzle in iter_puzzles(path, errors=errors):
            if puzzle.id in seen:
                errors.append(PuzzleFormatError(str(path), None, f"duplicate puzzle id {short_repr(puzzle.id)}"))
                continue
            seen.add(puzzle.id)
            n += 1
    except PuzzleFormatError as exc:  # the file itself is unreadable
        errors.append(exc)
    return n, errors


# -- Lichess CSV ---------------------------------------------------------------------------------


def _check_line(fen: str, moves: tuple[str, ...], *, need: int) -> str | None:
    """Replay a line; return a reason if the FEN or any move is bad, else None."""
    try:
        board = chess.Board(fen)
    except ValueError as exc:
        # python-chess's message quotes the FEN again; only its reason is kept.
        return f"invalid FEN {short_repr(fen)} ({str(exc).split(':')[0]})"
    status = board.status()
    if status != chess.STATUS_VALID:
        return f"invalid position in FEN {short_repr(fen)} ({status!r})"
    if len(moves) < need:
        return f"Moves {short_repr(' '.join(moves))} has {len(moves)} move(s), need at least {need}"
    for i, uci in enumerate(moves):
        try:
            move = chess.Move.from_uci(uci)
        except ValueError:
            return f"invalid UCI move {short_repr(uci)} (move {i + 1}) in Moves"
        if not move or not board.is_legal(move):
            return f"illegal move {short_repr(uci)} (move {i + 1}) in Moves from FEN {short_repr(fen)}"
        board.push(move)
    return None


def parse_int_field(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        try:
            f = float(value)  # some copies store NbPlays as 6608.0
        except ValueError:
            raise ValueError(f"{name} {short_repr(value)} is not a number") from None
        if not f.is_integer():
            raise ValueError(f"{name} {short_repr(value)} is not a whole number") from None
        return int(f)


def _iter_csv(path: Path) -> Iterator[Puzzle | PuzzleFormatError]:
    name = str(path)
    with open_text(path) as fh:
        reader = csv.reader(fh)
        columns: dict[str, int] | None = None
        header_line: int | None = None
        rows = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # e.g. a field over 128 kB: a binary or mangled file
                yield PuzzleFormatError(name, reader.line_num, f"unreadable CSV ({exc})")
                return
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if columns is None:
                if "PuzzleId" in (c.strip() for c in row):
                    columns = {c.strip(): i for i, c in enumerate(row)}
                    header_line = line
                    missing = [c for c in ("PuzzleId", "FEN", "Moves") if c not in columns]
                    if missing:
                        yield PuzzleFormatError(name, line, f"header lacks column(s) {missing!r}")
                        return
                    continue
                # No header: the Lichess column order (older dumps have 9 columns, no OpeningTags).
                columns = {c: i for i, c in enumerate(LICHESS_COLUMNS)}
            rows += 1
            yield parse_lichess_row(row, columns, name, line)
        if not rows:
            if header_line is not None:
                yield PuzzleFormatError(name, header_line, "header only: the file has no puzzle rows")
            else:
                yield PuzzleFormatError(name, 1, "empty file: no header and no puzzle rows")


def parse_lichess_row(row: list[str], columns: dict[str, int], name: str, line: int) -> Puzzle | PuzzleFormatError:
    """One Lichess CSV row (columns by header name) as a Puzzle, or the error naming ``name:line``.

    Public so the database scanner validates rows by exactly the loader's rules.
    """
    def get(col: str) -> str:
        i = columns.get(col)
        return row[i].strip() if i is not None and i < len(row) else ""

    if len(row) < 3:
        return PuzzleFormatError(name, line, f"row has {len(row)} field(s), need at least PuzzleId,FEN,Moves: {short_repr(','.join(row))}")
    pid = get("PuzzleId")
    if not pid:
        return PuzzleFormatError(name, line, "empty PuzzleId")
    fen = get("FEN")
    moves = tuple(get("Moves").split())
    reason = _check_line(fen, moves, need=2)
    if reason:
        return PuzzleFormatError(name, line, f"puzzle {short_repr(pid)}: {reason}")
    try:
        rating = parse_int_field(get("Rating"), "Rating")
        rd = parse_int_field(get("RatingDeviation"), "RatingDeviation")
        popularity = parse_int_field(get("Popularity"), "Popularity")
        plays = parse_int_field(get("NbPlays"), "NbPlays")
    except ValueError as exc:
        return PuzzleFormatError(name, line, f"puzzle {short_repr(pid)}: {exc}")
    source = get("RatingSource") or (RatingSource.LICHESS if rating is not None else RatingSource.NONE)
    return Puzzle(
        id=pid,
        fen=fen,
        moves=moves,
        has_setup_move=True,
        rating=rating,
        rating_deviation=rd,
        popularity=popularity,
        nb_plays=plays,
        themes=tuple(get("Themes").split()),
        game_url=get("GameUrl") or None,
        opening_tags=tuple(get("OpeningTags").split()),
        rating_source=source,
    )


def write_lichess_csv(puzzles: Iterable[Puzzle], fh: IO[str], *, rating_source: bool = False) -> int:
    """Write puzzles in the Lichess CSV layout (with header). Returns the number written.

    With ``rating_source`` an extra ``RatingSource`` column is added; Lichess readers that look
    columns up by name ignore it.
    """
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(LICHESS_COLUMNS + (("RatingSource",) if rating_source else ()))
    n = 0
    for p in puzzles:
        if not p.has_setup_move:
            raise ValueError(f"puzzle {p.id!r} has no setup move and cannot be written as a Lichess row")
        row = [
            p.id,
            p.fen,
            " ".join(p.moves),
            "" if p.rating is None else str(p.rating),
            "" if p.rating_deviation is None else str(p.rating_deviation),
            "" if p.popularity is None else str(p.popularity),
            "" if p.nb_plays is None else str(p.nb_plays),
            " ".join(p.themes),
            p.game_url or "",
            " ".join(p.opening_tags),
        ]
        if rating_source:
            row.append(p.rating_source)
        writer.writerow(row)
        n += 1
    return n


def write_puzzle_pgn(puzzles: Iterable[Puzzle], fh: IO[str]) -> int:
    """Write puzzles as PGN games that :func:`load_puzzles` reads back (returns the number written).

    Unlike the Lichess CSV this keeps puzzles that start at the solver's move (no setup move),
    such as positions imported from other benchmarks' logs.
    """
    n = 0
    for p in puzzles:
        board = chess.Board(p.fen)
        game = chess.pgn.Game.from_board(board)
        game.headers.pop("Result", None)
        game.headers["PuzzleId"] = p.id
        game.headers["PuzzleSetup"] = "1" if p.has_setup_move else "0"
        if p.rating is not None:
            game.headers["PuzzleRating"] = str(p.rating)
        if p.rating_deviation is not None:
            game.headers["PuzzleRatingDeviation"] = str(p.rating_deviation)
        if p.rating_source != RatingSource.LICHESS:
            game.headers["RatingSource"] = p.rating_source
        if p.themes:
            game.headers["Themes"] = " ".join(p.themes)
        node: chess.pgn.GameNode = game
        for uci in p.moves:
            node = node.add_variation(chess.Move.from_uci(uci))
        fh.write(str(game) + "\n\n")
        n += 1
    return n


# -- EPD -----------------------------------------------------------------------------------------


def _iter_epd(path: Path) -> Iterator[Puzzle | PuzzleFormatError]:
    name = str(path)
    lines = 0
    with open_text(path) as fh:
        for line_no, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            lines += 1
            board = chess.Board()
            try:
                ops = board.set_epd(text)
            except ValueError as exc:
                yield PuzzleFormatError(name, line_no, f"invalid EPD {short_repr(text)} ({str(exc).split(':')[0]})")
                continue
            if board.status() != chess.STATUS_VALID:
                yield PuzzleFormatError(name, line_no, f"invalid position in EPD {short_repr(text)}")
                continue
            best = ops.get("bm")
            if not best:
                yield PuzzleFormatError(name, line_no, f"EPD {short_repr(text)} has no 'bm' operation")
                continue
            bms = [m for m in best if isinstance(m, chess.Move)] if isinstance(best, list) else []
            if not bms:
                yield PuzzleFormatError(name, line_no, f"EPD 'bm' {short_repr(best)} holds no move")
                continue
            pid = str(ops.get("id") or f"{path.stem}.{line_no}")
            rating = None
            for key in ("rating", "elo"):
                if key in ops:
                    try:
                        rating = int(float(ops[key]))  # type: ignore[arg-type]
                    except (TypeError, ValueError):
                        yield PuzzleFormatError(name, line_no, f"{key} {short_repr(ops[key])} is not a number")
                        rating = -1
            if rating == -1:
                continue
            yield Puzzle(
                id=pid,
                fen=board.fen(),
                moves=(bms[0].uci(),),
                has_setup_move=False,
                rating=rating,
                alternatives=tuple(m.uci() for m in bms[1:]),
                rating_source=RatingSource.LICHESS if rating is not None else RatingSource.NONE,
            )
    if not lines:
        yield PuzzleFormatError(name, 1, "empty file: no EPD lines (only blank lines or # comments)")


# -- PGN -----------------------------------------------------------------------------------------


def _iter_pgn(path: Path) -> Iterator[Puzzle | PuzzleFormatError]:
    """PGN puzzles: a game with a ``FEN`` header whose mainline is the solution for the side to move.

    A ``[PuzzleSetup "1"]`` header says the first mainline move is the opponent's setup move
    (the Lichess convention), which is how chesseval writes puzzles back to PGN.
    """
    name = str(path)
    with open_text(path) as fh:
        text = fh.read()  # puzzle PGNs are small; reading whole lets errors name the line
    sio = io.StringIO(text)
    index = 0
    while True:
        pos = sio.tell()
        skipped = len(text[pos:]) - len(text[pos:].lstrip())
        line_no = text.count("\n", 0, pos + skipped) + 1
        try:
            game = chess.pgn.read_game(sio)
        except (ValueError, UnicodeDecodeError) as exc:
            yield PuzzleFormatError(name, line_no, f"unreadable PGN ({exc})")
            return
        if game is None:
            if not index:
                what = "empty file: no PGN games" if not text.strip() else "no PGN game found (is this a PGN file?)"
                yield PuzzleFormatError(name, 1, what)
            return
        index += 1
        headers = game.headers
        if game.errors:
            yield PuzzleFormatError(name, line_no, f"game {index}: {game.errors[0]}")
            continue
        fen = headers.get("FEN")
        if not fen:
            yield PuzzleFormatError(name, line_no, f"game {index} has no FEN header (a puzzle starts from a position)")
            continue
        moves = tuple(m.uci() for m in game.mainline_moves())
        setup = headers.get("PuzzleSetup", "0") == "1"
        reason = _check_line(fen, moves, need=2 if setup else 1)
        if reason:
            yield PuzzleFormatError(name, line_no, f"game {index}: {reason}")
            continue
        try:
            rating = parse_int_field(headers.get("PuzzleRating", headers.get("Rating", "")), "PuzzleRating")
        except ValueError as exc:
            yield PuzzleFormatError(name, line_no, f"game {index}: {exc}")
            continue
        try:
            rd = parse_int_field(headers.get("PuzzleRatingDeviation", ""), "PuzzleRatingDeviation")
        except ValueError as exc:
            yield PuzzleFormatError(name, line_no, f"game {index}: {exc}")
            continue
        yield Puzzle(
            id=headers.get("PuzzleId") or f"{path.stem}.{index}",
            fen=fen,
            moves=moves,
            has_setup_move=setup,
            rating=rating,
            rating_deviation=rd,
            themes=tuple(headers.get("Themes", "").split()),
            game_url=headers.get("Site") if headers.get("Site", "?") not in ("?", "") else None,
            rating_source=headers.get("RatingSource") or (RatingSource.LICHESS if rating is not None else RatingSource.NONE),
        )
