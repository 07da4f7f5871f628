"""Move parsing: find the move an answer commits to, and read it with python-chess.

A model's answer is prose with move-like tokens everywhere (candidates it rejected, the
opponent's last move, squares it describes). :func:`parse_move` first picks the *commitment*:

1. the last answer marker that is followed by a move (``Answer:``, ``Final answer:``,
   ``Move:``, ``[RESULT]``, ``\\boxed{}``, ``<answer>``, a JSON ``"move":`` key);
2. else a last line that is nothing but a move (``Nf3``, ``**12... Qh4#**``);
3. else a first line that is nothing but a move (answers that commit first, explain after);
4. else the last bold or code-formatted span holding a move;
5. else a move in the last line, when that line is a finished sentence (cut-off reasoning
   commits to nothing) — a move after "play"/"is"/":" first, never one after "played"/"not".

It then reads that one token leniently as SAN, UCI or long algebraic and says whether it is a
legal move, a specific illegal move, ambiguous, or nothing. It never raises and never mutates
the board it is given.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata

import chess

__all__ = ["MoveKind", "ParsedMove", "parse_move"]


class MoveKind(enum.StrEnum):
    MOVE = "move"
    """A legal move in the position."""
    ILLEGAL = "illegal"
    """A specific move that cannot be played in the position."""
    AMBIGUOUS = "ambiguous"
    """A move text that fits more than one legal move."""
    NONE = "none"
    """No move found in the text."""


@dataclasses.dataclass(frozen=True)
class ParsedMove:
    kind: MoveKind
    move: chess.Move | None = None
    """The legal move (kind MOVE), else None."""
    text: str | None = None
    """The move text the answer committed to, as found."""
    notation: str | None = None
    """'san', 'uci' or 'lan' for a parsed move."""
    detail: str | None = None
    """Why it is illegal/ambiguous/none, for the record."""
    lenient: bool = False
    """True when reading the move needed a non-standard reading (``nf3``, ``Pe4``, ``bxc3`` as a
    bishop move, a piece word), so strict and lenient scores can be told apart."""
    claimed_mate: bool = False
    """True when the text marks the move as mate (``#``) but it does not mate: a diagnostic only."""


# --- normalisation -----------------------------------------------------------------------------

_FIGURINES = {
    "♔": "K", "♕": "Q", "♖": "R", "♗": "B", "♘": "N", "♙": "",
    "♚": "K", "♛": "Q", "♜": "R", "♝": "B", "♞": "N", "♟": "",
}
_TRANSLATE = str.maketrans(
    {
        **{c: (v or None) for c, v in _FIGURINES.items()},
        # Zero-width characters and variation selectors (emoji figurines) are invisible.
        **dict.fromkeys(map(chr, [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0xFE0E, 0xFE0F, 0x00AD])),
        **dict.fromkeys(map(chr, [*range(0x2010, 0x2016), 0x2212, 0x2043, 0xFE58, 0xFE63]), "-"),
        "×": "x",
        "†": "+",
        "‡": "#",
        "\u00a0": " ",
    }
)


def _normalise(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    if "\\" in text:
        text = text.replace("\\#", "#").replace("\\_", "_")
    return text


# --- finding move-like tokens ------------------------------------------------------------------

_PROMO = r"(?:=?[QRBNqrbn]|\([QRBNqrbn]\)|/[QRBNqrbn])"
_SUFFIX = r"(?:[+#!?]|ch(?![A-Za-z0-9]))*"
_EP = r"(?:\s?e\.\s?p\.?|ep(?![A-Za-z0-9]))?"
# Squares are lowercase except in four-character UCI (E2E4), where an uppercase file is
# unambiguous; a lone "E4" or "B4" in prose is not read as a move.
_TOKEN_RE = re.compile(
    r"(?<![A-Za-z0-9@])(?:"
    r"(?P<castle>[O0o]-[O0o](?:-[O0o])?)"
    r"|(?P<coord>[KQRBNPkqrbnp]?[a-h][1-8][-x:]?[a-h][1-8]" + _PROMO + r"?)"
    r"|(?P<ucu>[A-H][1-8][A-H][1-8][QRBNqrbn]?)"
    r"|(?P<san>[KQRBNPkqrbnp]?[a-h]?[1-8]?[x:-]?[a-h][1-8]" + _PROMO + r"?)"
    r")(?P<suffix>" + _SUFFIX + r")" + _EP + r"(?![A-Za-z0-9])"
)
_COORD_RE = re.compile(
    r"(?P<piece>[KQRBNPkqrbnp])?(?P<src>[a-h][1-8])(?P<sep>[-x:])?(?P<dst>[a-h][1-8])"
    r"(?:=?(?P<p1>[QRBNqrbn])|\((?P<p2>[QRBNqrbn])\)|/(?P<p3>[QRBNqrbn]))?"
)
_SAN_RE = re.compile(
    r"(?P<piece>[KQRBNPkqrbnp])?(?P<dis>[a-h]?[1-8]?)(?P<sep>[x:-])?(?P<dst>[a-h][1-8])"
    r"(?:=?(?P<p1>[QRBNqrbn])|\((?P<p2>[QRBNqrbn])\)|/(?P<p3>[QRBNqrbn]))?"
)
_NULL_TOKENS = frozenset({"--", "z0", "0000", "@@@@", "null", "pass"})

# Piece names in prose ("knight to f3", "Queen takes h7") read as the piece move.
_PIECE_WORDS_RE = re.compile(
    r"\b(knight|bishop|rook|queen|king)\s+(to|takes|captures|x)\s+(?:on\s+)?([a-h][1-8])\b",
    re.IGNORECASE,
)
_PIECE_LETTER = {"knight": "N", "bishop": "B", "rook": "R", "queen": "Q", "king": "K"}


@dataclasses.dataclass(frozen=True)
class _Token:
    text: str
    kind: str  # castle | coord | san
    start: int
    end: int
    suffix: str
    raw: str
    """The whole match (with check marks and annotations), reported as ``ParsedMove.text``."""
    lenient: bool = False


def _tokens(segment: str) -> list[_Token]:
    found = []
    for m in _TOKEN_RE.finditer(segment):
        kind = next(name for name in ("castle", "coord", "ucu", "san") if m.group(name))
        text = m.group(kind)
        if kind == "ucu":
            kind, text = "coord", text.lower()
        found.append(_Token(text, kind, m.start(), m.end(), m.group("suffix") or "", m.group(0)))
    words = list(_PIECE_WORDS_RE.finditer(segment))
    if words:
        for w in words:
            found = [t for t in found if not (w.start() <= t.start < w.end())]
            capture = "x" if w.group(2).lower() != "to" else ""
            text = _PIECE_LETTER[w.group(1).lower()] + capture + w.group(3)
            found.append(_Token(text, "san", w.start(), w.end(), "", w.group(0), lenient=True))
        found.sort(key=lambda t: t.start)
    return found


# --- choosing the committed token --------------------------------------------------------------

_MARKER_RE = re.compile(
    r"(?:\b(?:final\s+answer|answer|best\s+move|(?<!last\s)(?<!previous\s)(?<!opponent's\s)(?<!opponent\s)move"
    r"|solution|result)\b[\"'*_\s]*[:=]"
    r"|\bfinal\s+answer\s+is\b"
    r"|\[result\]"
    r"|\\boxed\{"
    r"|<(?:answer|move|final_answer)>)",
    re.IGNORECASE,
)
_SPAN_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|```[a-z]*\n?(.*?)```|`([^`\n]+)`|<(?:b|strong|code)>(.*?)</", re.DOTALL)
_RESIDUE_RE = re.compile(r"\d+\s*\.+|<[^>]*>|\\[A-Za-z]+|[\s*_`\"'“”‘’>\[\](){}$.,;:!?\-#+|]")
_CUE_WORDS = frozenset({"play", "plays", "playing", "choose", "chose", "pick", "with", "is", "recommend", "select", "go", "answer"})
_NEGATIVE_WORDS = frozenset(
    {"played", "after", "if", "not", "than", "avoid", "allows", "allow", "threatens", "threat", "threatening",
     "of", "vs", "versus", "against", "prevents", "prevent", "stop", "stops", "answered", "moved"}
)
_PREV_WORD_RE = re.compile(r"([A-Za-z']+)[\s*_`\"'(]*$")
_MAX_FINAL_LINE_WORDS = 60


def _prev_word(segment: str, start: int) -> str:
    before = segment[max(0, start - 40) : start]
    if before.rstrip(" *_`\"'").endswith(":"):
        return ":"
    m = _PREV_WORD_RE.search(before)
    return m.group(1).lower() if m else ""


def _is_bare_move(line: str) -> _Token | None:
    toks = _tokens(line)
    if len(toks) != 1:
        return None
    tok = toks[0]
    if _RESIDUE_RE.sub("", line[: tok.start] + " " + line[tok.end :]):
        return None
    return tok


def _marker_segment(text: str, m: re.Match[str]) -> str:
    rest = text[m.end() :]
    if m.group(0).lower().startswith("\\boxed"):
        depth, i = 1, 0
        while i < len(rest) and depth:
            depth += {"{": 1, "}": -1}.get(rest[i], 0)
            i += 1
        return rest[: i - 1 if depth == 0 else i]
    if m.group(0).startswith("<"):
        end = rest.find("</")
        return rest if end < 0 else rest[:end]
    line, _, after = rest.partition("\n")
    if _RESIDUE_RE.sub("", line) or line.strip().strip("*_`\"'.").lower() in _NULL_TOKENS:
        return line
    # "Answer:" alone on its line, the move on the next non-empty one.
    for nxt in after.split("\n"):
        if nxt.strip():
            return nxt
    return ""


def _pick(segment: str, *, first: bool) -> _Token | None:
    toks = _tokens(segment)
    if not toks:
        return None
    return toks[0] if first else toks[-1]


_BETWEEN_MOVES_RE = re.compile(r"\s*(?:\d+\s*\.+\s*)?")


def _pick_in_prose(line: str) -> _Token | None:
    """A move in a prose line: the last one after a cue ("I play", "is", ":"), else the first one
    that is not quoted as the past, a threat or a rejected idea, nor a reply inside a line."""
    cued = None
    plain = None
    prev_end = -1
    for tok in _tokens(line):
        continues_line = prev_end >= 0 and _BETWEEN_MOVES_RE.fullmatch(line, prev_end, tok.start) is not None
        prev_end = tok.end
        if continues_line:
            continue
        word = _prev_word(line, tok.start)
        if word in _NEGATIVE_WORDS:
            continue
        if word in _CUE_WORDS or word == ":":
            cued = tok
        elif plain is None:
            plain = tok
    return cued or plain


def _looks_cut_off(line: str) -> bool:
    stripped = line.rstrip()
    if not stripped:
        return True
    if stripped[-1] in ".!?)]}\"'`*>”’$":
        return False
    tail = _tokens(stripped)
    if tail and tail[-1].end == len(stripped):
        # Ends on a move: a short line ("I play Nf3") commits; a long one was likely cut.
        return len(stripped.split()) > _MAX_FINAL_LINE_WORDS
    return True


def _commitment(text: str) -> tuple[_Token | None, str, str]:
    """(token, segment it was found in, how it was found)."""
    for m in reversed(list(_MARKER_RE.finditer(text))):
        segment = _marker_segment(text, m)
        spans = [next(g for g in s.groups() if g is not None) for s in _SPAN_RE.finditer(segment)]
        for span in spans:
            tok = _pick(span, first=True)
            if tok is not None:
                return tok, span, "marker"
        tok = _pick(segment, first=True)
        if tok is not None:
            return tok, segment, "marker"
        if segment.strip().strip("*_`\"'.").lower() in _NULL_TOKENS:
            return None, segment.strip().strip("*_`\"'."), "null"
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        return None, "", "empty"
    last = lines[-1]
    tok = _is_bare_move(last)
    if tok is not None:
        return tok, last, "last line"
    if len(lines) > 1:
        tok = _is_bare_move(lines[0])
        if tok is not None:
            return tok, lines[0], "first line"
    spans = [next(g for g in s.groups() if g is not None) for s in _SPAN_RE.finditer(text)]
    for span in reversed(spans):
        if len(span) <= 120:
            tok = _pick(span, first=True)
            if tok is not None:
                return tok, span, "formatted"
    bare = last.strip().strip("*_`\"'.").lower()
    if bare in _NULL_TOKENS:
        return None, bare, "null"
    if _looks_cut_off(last):
        return None, last, "cut off"
    tok = _pick_in_prose(last)
    if tok is not None:
        return tok, last, "last line"
    return None, last, "no move"


# --- reading one token -------------------------------------------------------------------------

_PIECE_NAMES = {chess.PAWN: "pawn", chess.KNIGHT: "knight", chess.BISHOP: "bishop", chess.ROOK: "rook", chess.QUEEN: "queen", chess.KING: "king"}


def _promo(m: re.Match[str]) -> str | None:
    p = m.group("p1") or m.group("p2") or m.group("p3")
    return p.upper() if p else None


def _other_side_legal(board: chess.Board, parse) -> bool:  # type: ignore[no-untyped-def]
    flipped = board.copy(stack=False)
    flipped.turn = not board.turn
    flipped.ep_square = None
    try:
        return bool(parse(flipped))
    except ValueError:
        return False


def _illegal(board: chess.Board, tok: _Token, notation: str, why: str, parse=None) -> ParsedMove:  # type: ignore[no-untyped-def]
    if parse is not None and _other_side_legal(board, parse):
        side = "White" if board.turn == chess.BLACK else "Black"
        why = f"{why}; it is a legal move for {side}, not the side to move"
    return ParsedMove(MoveKind.ILLEGAL, None, tok.raw, notation, why, tok.lenient)


def _result(board: chess.Board, tok: _Token, move: chess.Move, notation: str, lenient: bool) -> ParsedMove:
    claimed = False
    if "#" in tok.suffix:
        after = board.copy(stack=False)
        after.push(move)
        claimed = not after.is_checkmate()
    detail = "marked as mate but it is not mate" if claimed else None
    return ParsedMove(MoveKind.MOVE, move, tok.raw, notation, detail, lenient or tok.lenient, claimed)


def _read_castle(board: chess.Board, tok: _Token) -> ParsedMove:
    san = "O-O-O" if tok.text.count("-") == 2 else "O-O"
    try:
        move = board.parse_san(san)
    except ValueError:
        return _illegal(board, tok, "san", f"{san} is not possible here", lambda b: b.parse_san(san))
    return _result(board, tok, move, "san", tok.text[0] == "o")


def _read_coord(board: chess.Board, tok: _Token) -> ParsedMove:
    m = _COORD_RE.fullmatch(tok.text)
    if m is None:  # pragma: no cover - the token regex guarantees the shape
        return ParsedMove(MoveKind.NONE, text=tok.text, detail="unreadable move text")
    piece, src, dst, promo = m.group("piece"), m.group("src"), m.group("dst"), _promo(m)
    notation = "lan" if piece or m.group("sep") else "uci"
    uci = src + dst + (promo.lower() if promo else "")
    if src == dst:
        return _illegal(board, tok, notation, f"{tok.text!r} does not move")
    src_sq = chess.parse_square(src)
    on_src = board.piece_at(src_sq)
    if on_src is None:
        return _illegal(board, tok, notation, f"there is no piece on {src}", lambda b: b.parse_uci(uci))
    if piece is not None:
        want = chess.PIECE_SYMBOLS.index(piece.lower())
        if on_src.piece_type != want:
            return _illegal(
                board, tok, notation,
                f"the piece on {src} is a {_PIECE_NAMES[on_src.piece_type]}, not a {_PIECE_NAMES[want]}",
            )
    if on_src.color != board.turn:
        return _illegal(board, tok, notation, f"the {_PIECE_NAMES[on_src.piece_type]} on {src} belongs to the side not to move", lambda b: b.parse_uci(uci))
    try:
        move = board.parse_uci(uci)
    except ValueError:
        move = chess.Move(src_sq, chess.parse_square(dst), chess.Piece.from_symbol(promo).piece_type if promo else None)
        return _illegal(board, tok, notation, _why_illegal(board, move))
    if not move:
        return _illegal(board, tok, notation, "a null move is not a move")
    return _result(board, tok, move, notation, bool(piece and piece.islower()))


def _why_illegal(board: chess.Board, move: chess.Move) -> str:
    piece = board.piece_at(move.from_square)
    if piece and piece.piece_type == chess.PAWN and chess.square_rank(move.to_square) in (0, 7) and not move.promotion:
        if board.is_legal(chess.Move(move.from_square, move.to_square, chess.QUEEN)):
            return "a pawn reaching the last rank needs a promotion piece"
    if move.promotion and board.is_legal(chess.Move(move.from_square, move.to_square)):
        return "only a pawn reaching the last rank promotes"
    if board.is_pseudo_legal(move):
        return "it would leave the king in check" if not board.is_check() else "it does not get the king out of check"
    name = _PIECE_NAMES[piece.piece_type] if piece else "piece"
    return f"the {name} on {chess.square_name(move.from_square)} cannot move to {chess.square_name(move.to_square)}"


def _try_san(board: chess.Board, san: str) -> chess.Move | Exception:
    try:
        return board.parse_san(san)
    except ValueError as exc:
        return exc


def _san_pseudo_matches(board: chess.Board, piece_type: int, dst: str) -> bool:
    to_mask = chess.BB_SQUARES[chess.parse_square(dst)]
    from_mask = board.pieces_mask(piece_type, board.turn)
    return any(True for _ in board.generate_pseudo_legal_moves(from_mask, to_mask))


def _read_san(board: chess.Board, tok: _Token) -> ParsedMove:
    m = _SAN_RE.fullmatch(tok.text)
    if m is None:  # pragma: no cover - the token regex guarantees the shape
        return ParsedMove(MoveKind.NONE, text=tok.text, detail="unreadable move text")
    piece, dis, dst, promo = m.group("piece"), m.group("dis"), m.group("dst"), _promo(m)
    capture = "x" if m.group("sep") in ("x", ":") else ""
    tail = dis + capture + dst + (f"={promo}" if promo else "")
    lenient = False
    if piece == "b":
        # "bxc3" is the b-pawn in strict SAN, but models write bishops in lowercase too:
        # accept only when exactly one reading is legal.
        pawn, bishop = _try_san(board, "b" + tail), _try_san(board, "B" + tail)
        if isinstance(pawn, chess.Move) and isinstance(bishop, chess.Move):
            return ParsedMove(
                MoveKind.AMBIGUOUS, None, tok.raw, "san",
                f"{tok.text!r} could be the b-pawn ({board.san(pawn)}) or a bishop ({board.san(bishop)})", True,
            )
        if isinstance(pawn, chess.Move):
            return _result(board, tok, pawn, "san", False) if pawn else _illegal(board, tok, "san", "a null move is not a move")
        if isinstance(bishop, chess.Move):
            return _result(board, tok, bishop, "san", True)
        if isinstance(bishop, chess.AmbiguousMoveError):
            return ParsedMove(MoveKind.AMBIGUOUS, None, tok.raw, "san", f"more than one bishop can play {tok.text!r}", True)
        return _illegal(board, tok, "san", f"neither a b-pawn nor a bishop can play {tok.text!r}", lambda b: b.parse_san("b" + tail) or b.parse_san("B" + tail))
    if piece in ("P", "p"):
        san, lenient, piece_type = tail, True, chess.PAWN
    elif piece is not None:
        san, lenient, piece_type = piece.upper() + tail, piece.islower(), chess.PIECE_SYMBOLS.index(piece.lower())
    else:
        san, piece_type = tail, chess.PAWN
    result = _try_san(board, san)
    if isinstance(result, chess.Move):
        if not result:
            return _illegal(board, tok, "san", "a null move is not a move")
        return _result(board, tok, result, "san", lenient)
    if isinstance(result, chess.AmbiguousMoveError):
        return ParsedMove(MoveKind.AMBIGUOUS, None, tok.raw, "san", f"more than one {_PIECE_NAMES[piece_type]} can play {san!r}", lenient)
    if piece_type == chess.PAWN and not promo and dst[1] in "18" and isinstance(_try_san(board, san + "=Q"), chess.Move):
        why = "a pawn reaching the last rank needs a promotion piece"
    elif _san_pseudo_matches(board, piece_type, dst):
        why = "it would leave the king in check" if not board.is_check() else "it does not get the king out of check"
    else:
        why = f"no {_PIECE_NAMES[piece_type]} can play {san!r}"
    return _illegal(board, tok, "san", why, lambda b: b.parse_san(san))


def _read(board: chess.Board, tok: _Token) -> ParsedMove:
    if tok.kind == "castle":
        return _read_castle(board, tok)
    if tok.kind == "coord":
        return _read_coord(board, tok)
    return _read_san(board, tok)


# --- public entry point ------------------------------------------------------------------------


def parse_move(text: str, board: chess.Board) -> ParsedMove:
    """The move ``text`` commits to, read in ``board``; never raises, never mutates ``board``."""
    try:
        return _parse(text, board)
    except Exception as exc:  # noqa: BLE001 - a model's answer is data: never crash the run on it
        return ParsedMove(MoveKind.NONE, detail=f"parser error: {type(exc).__name__}: {exc}")


def _parse(text: str, board: chess.Board) -> ParsedMove:
    if not isinstance(text, str) or not text.strip():
        return ParsedMove(MoveKind.NONE, detail="empty answer")
    norm = _normalise(text)
    tok, segment, how = _commitment(norm)
    if how == "null":
        return ParsedMove(MoveKind.ILLEGAL, None, segment, None, "a null move (pass) is not a move")
    if tok is None:
        if how == "cut off":
            return ParsedMove(MoveKind.NONE, detail="no committed move: the answer ends mid-sentence")
        return ParsedMove(MoveKind.NONE, detail="no move found")
    return _read(board, tok)
