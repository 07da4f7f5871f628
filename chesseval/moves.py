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
from collections.abc import Callable

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
    r"\b(knight|bishop|rook|queen|king)\s+(?:(to|takes|captures|x)\s+(?:on\s+)?)?([a-h][1-8])\b",
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
        castle, coord, ucu, san = m.group("castle", "coord", "ucu", "san")
        kind, text = (
            ("castle", castle) if castle else ("coord", coord) if coord else ("ucu", ucu) if ucu else ("san", san)
        )
        if kind == "ucu":
            kind, text = "coord", text.lower()
        found.append(_Token(text, kind, m.start(), m.end(), m.group("suffix") or "", m.group(0)))
    words = list(_PIECE_WORDS_RE.finditer(segment)) if len(segment) <= 200 else []
    if words:
        for w in words:
            found = [t for t in found if not (w.start() <= t.start < w.end())]
            capture = "x" if (w.group(2) or "to").lower() != "to" else ""
            text = _PIECE_LETTER[w.group(1).lower()] + capture + w.group(3)
            found.append(_Token(text, "san", w.start(), w.end(), "", w.group(0), lenient=True))
        found.sort(key=lambda t: t.start)
    return found


# --- choosing the committed token --------------------------------------------------------------

# Markers are found with str.find on the lowercased text and checked in place: a regex scan of a
# 20 kB reasoning trace costs milliseconds, the finds cost microseconds.
_MARKER_WORDS = ("answer", "move", "solution", "result")
_MARKER_TAIL_RE = re.compile(r"[\"'*_\s]*(?:[:=]|(?<=answer)\s*is\b|(?<=answer\*\*)\s*is\b)|\](?:\s*:)?")
# "Candidate move:", "Last move:" and the like label moves that are not the answer.
_NOT_MINE = frozenset({"last", "previous", "opponent's", "opponent", "their", "prior", "candidate", "alternative", "threat",
                       "threatened", "other", "another", "bad", "losing", "rejected", "wrong"})
_SPAN_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|```[a-z]*\n?((?s:.*?))```|`([^`\n]+)`|<(?:b|strong|code)>(.*?)</")
_RESIDUE_RE = re.compile(r"\d+\s*\.+|<[^>]*>|\\[A-Za-z]+|[\s*_`\"'“”‘’>\[\](){}$.,;:!?\-#+|]")
_CUE_WORDS = frozenset(
    {"play", "plays", "playing", "choose", "chose", "pick", "with", "is", "recommend", "select", "go", "answer"}
)
_NEGATIVE_WORDS = frozenset(
    {"played", "after", "if", "not", "than", "avoid", "allows", "allow", "threatens", "threat", "threatening",
     "of", "vs", "versus", "against", "prevents", "prevent", "stop", "stops", "answered", "moved",
     # the past: the opponent's last move quoted from the prompt
     "was", "were", "had", "replied", "responded", "captured", "defended", "attacked", "protected", "blocked",
     "covered", "controlled", "protects", "protecting",
     # squares named while describing the position, not moves
     "on", "at", "from", "attacks", "attacking", "defends", "defending", "controls", "covers", "covering",
     "square", "squares", "toward", "towards", "pinned", "blocks", "guards", "guarding", "eyes", "eyeing"}
)
_PREV_WORD_RE = re.compile(r"([A-Za-z']+)[\s*_`\"'(]*$")
_MAX_FINAL_LINE_WORDS = 60
_MAX_SIGN_OFF_WORDS = 12
_MAX_BARE_LINE = 80
_PROSE_WINDOW = 400
_MAX_SEGMENT = 300
_MAX_MARKERS = 16
_MAX_OCCURRENCES = 2000


def _markers(text: str, opponent: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the last answer markers, last first; ``opponent`` is "white's" or
    "black's". Scanned backwards and bounded, so pathological texts stay fast."""
    low = text.lower()
    if len(low) != len(text):  # a few non-ASCII letters change length when lowercased
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    found: list[tuple[int, int, str]] = []
    for word in _MARKER_WORDS:
        i, seen, kept = low.rfind(word), 0, 0
        while i >= 0 and seen < _MAX_OCCURRENCES and kept < _MAX_MARKERS:
            j = i + len(word)
            if (i == 0 or not low[i - 1].isalnum()) and (j == len(low) or not low[j].isalnum()):
                tail = _MARKER_TAIL_RE.match(low, j)
                if tail is not None and tail.group(0).startswith("]") == (word == "result" and i > 0 and low[i - 1] == "["):
                    prev = low[max(0, i - 12) : i].split() if word == "move" else None
                    if not prev or (prev[-1] not in _NOT_MINE and prev[-1] != opponent):
                        found.append((i, tail.end(), "line"))
                        kept += 1
            i, seen = low.rfind(word, 0, i), seen + 1
    if "\\boxed{" in low:
        i = low.rfind("\\boxed{")
        while i >= 0 and len(found) < 2 * _MAX_MARKERS:
            found.append((i, i + 7, "boxed"))
            i = low.rfind("\\boxed{", 0, i)
    if "</" in low:
        for tag in ("<answer>", "<move>", "<final_answer>"):
            # Only a closed tag: "Answer: <move>" echoed from a prompt template is not an answer.
            last_close = low.rfind("</" + tag[1:])
            i = low.rfind(tag, 0, max(last_close, 0))
            while i >= 0 and len(found) < 3 * _MAX_MARKERS:
                found.append((i, i + len(tag), "tag"))
                i = low.rfind(tag, 0, i)
    found.sort(reverse=True)
    return found[:_MAX_MARKERS]


def _prev_word(segment: str, start: int, opponent: str = "") -> str:
    before = segment[max(0, start - 40) : start]
    label = before.rstrip(" *_`\"'")
    if label.endswith(":"):
        words = label[:-1].rstrip(" *_`\"'").lower().split()
        if len(words) >= 2 and words[-1] == "move" and (words[-2] in _NOT_MINE or words[-2] == opponent):
            return "played"  # "Black's move: Nc6" quotes the other side
        return ":"
    m = _PREV_WORD_RE.search(before)
    return m.group(1).lower() if m else ""


def _is_bare_move(line: str) -> _Token | None:
    if len(line) > _MAX_BARE_LINE:
        return None
    toks = _tokens(line)
    if len(toks) != 1:
        return None
    tok = toks[0]
    if _RESIDUE_RE.sub("", line[: tok.start] + " " + line[tok.end :]):
        return None
    return tok


def _is_null(segment: str) -> bool:
    return len(segment) < 20 and segment.strip().strip("*_`\"'.").lower() in _NULL_TOKENS


def _marker_segment(text: str, end: int, kind: str) -> str:
    # The committed move follows its marker closely; a bound keeps many markers in one huge
    # line from costing quadratic time.
    rest = text[end : end + _MAX_SEGMENT]
    if kind == "boxed":
        depth, i = 1, 0
        while i < len(rest) and depth:
            depth += {"{": 1, "}": -1}.get(rest[i], 0)
            i += 1
        return rest[: i - 1 if depth == 0 else i]
    if kind == "tag":
        close = rest.find("</")
        return rest if close < 0 else rest[:close]
    line, _, after = rest.partition("\n")
    if _CONTENT_RE.search(line) or _is_null(line):
        return line
    # "Answer:" alone on its line, the move on the next non-empty one.
    for nxt in after.split("\n", 3)[:3]:
        if nxt.strip():
            return nxt
    return ""


def _pick(segment: str) -> _Token | None:
    toks = _tokens(segment)
    return toks[0] if toks else None


_BETWEEN_MOVES_RE = re.compile(r"\s*(?:\d+\s*\.+\s*)?")


def _pick_in_prose(line: str, opponent: str) -> _Token | None:
    """A move in a prose line: the last one after a cue ("I play", "is", ":"), else the first one
    that is not quoted as the past, a threat or a rejected idea, nor a reply inside a line."""
    if len(line) > _PROSE_WINDOW:
        # A long paragraph: only its closing sentences can hold the conclusion.
        tail = line[-_PROSE_WINDOW:]
        cut = tail.find(". ")
        line = tail[cut + 2 :] if cut >= 0 else tail
    cued = None
    plain = None
    prev_end = -1
    prev_negative = False
    for tok in _tokens(line):
        continues_line = prev_end >= 0 and _BETWEEN_MOVES_RE.fullmatch(line, prev_end, tok.start) is not None
        prev_end = tok.end
        if continues_line:
            continue
        word = _prev_word(line, tok.start, opponent)
        # "defends e5 and d4": a list goes on in the same role.
        negative = word in _NEGATIVE_WORDS or word == opponent or (word in ("and", "or", "nor") and prev_negative)
        prev_negative = negative
        if negative:
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
    if stripped[-1] in ".!?)]}\"'`*>”’$。":
        return False
    tail = stripped[-30:]
    toks = _tokens(tail)
    if toks and toks[-1].end == len(tail):
        # Ends on a move: a short line ("I play Nf3") commits; a long one was likely cut.
        return stripped.count(" ") >= _MAX_FINAL_LINE_WORDS
    return True


def _spans(text: str) -> list[str]:
    return [next(g for g in s.groups() if g is not None) for s in _SPAN_RE.finditer(text)]


_CONTENT_RE = re.compile(r"[^\W_]")


def _has_content(line: str) -> bool:
    """Lines that are only markup (``---``, a code fence) are not the last line of an answer."""
    return _CONTENT_RE.search(line) is not None or _is_null(line)


def _commitment(text: str, turn: chess.Color) -> tuple[_Token | None, str, str]:
    """(token, segment it was found in, how it was found)."""
    opponent = "black's" if turn == chess.WHITE else "white's"
    for _, end, kind in _markers(text, opponent):
        segment = _marker_segment(text, end, kind)
        for span in _spans(segment):
            tok = _pick(span)
            if tok is not None:
                return tok, span, "marker"
        tok = _pick(segment)
        if tok is not None:
            return tok, segment, "marker"
        if _is_null(segment):
            return None, segment.strip().strip("*_`\"'."), "null"
    lines = [ln for ln in text.split("\n") if _has_content(ln)]
    if not lines:
        return None, "", "empty"
    last = lines[-1]
    tok = _is_bare_move(last)
    if tok is not None:
        return tok, last, "last line"
    if _is_null(last):
        return None, last.strip().strip("*_`\"'."), "null"
    if len(lines) > 1:
        tok = _is_bare_move(lines[0])
        if tok is not None:
            return tok, lines[0], "first line"
    for span in reversed(_spans(text)):
        if len(span) <= 120:
            tok = _pick(span)
            if tok is not None:
                return tok, span, "formatted"
    if _looks_cut_off(last):
        return None, last, "cut off"
    # A short closing line without a move ("Good luck!") does not hide the conclusion before it.
    for line in reversed(lines[-3:]):
        tok = _pick_in_prose(line, opponent)
        if tok is not None:
            return tok, line, "last line"
        if line.count(" ") >= _MAX_SIGN_OFF_WORDS or _tokens(line):
            break
    return None, last, "no move"


# --- reading one token -------------------------------------------------------------------------

_PIECE_NAMES = dict(zip(chess.PIECE_TYPES, chess.PIECE_NAMES[1:], strict=True))


def _promo(m: re.Match[str]) -> str | None:
    p = m.group("p1") or m.group("p2") or m.group("p3")
    return p.upper() if p else None


_Reading = Callable[[chess.Board], chess.Move]


def _other_side_legal(board: chess.Board, parse: _Reading) -> bool:
    flipped = board.copy(stack=False)
    flipped.turn = not board.turn
    flipped.ep_square = None
    try:
        return bool(parse(flipped))
    except ValueError:
        return False


def _illegal(board: chess.Board, tok: _Token, notation: str, why: str, parse: _Reading | None = None) -> ParsedMove:
    """An illegal move; ``parse`` re-reads it on a board with the other side to move, to say so."""
    if parse is not None and _other_side_legal(board, parse):
        side = "White" if board.turn == chess.BLACK else "Black"
        why = f"{why}; it is a legal move for {side}, not the side to move"
    return ParsedMove(MoveKind.ILLEGAL, None, tok.raw, notation, why, tok.lenient)


def _result(board: chess.Board, tok: _Token, move: chess.Move, notation: str, lenient: bool) -> ParsedMove:
    claimed = False
    if "#" in tok.suffix:
        if board.gives_check(move):
            after = board.copy(stack=False)
            after.push(move)
            claimed = not after.is_checkmate()
        else:
            claimed = True
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
        name = _PIECE_NAMES[on_src.piece_type]
        return _illegal(board, tok, notation, f"the {name} on {src} belongs to the side not to move", lambda b: b.parse_uci(uci))
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
        def either(b: chess.Board) -> chess.Move:
            pawn = _try_san(b, "b" + tail)
            return pawn if isinstance(pawn, chess.Move) else b.parse_san("B" + tail)

        return _illegal(board, tok, "san", f"neither a b-pawn nor a bishop can play {tok.text!r}", either)
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
        why = f"more than one {_PIECE_NAMES[piece_type]} can play {san!r}"
        return ParsedMove(MoveKind.AMBIGUOUS, None, tok.raw, "san", why, lenient)
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
    tok, segment, how = _commitment(norm, board.turn)
    if how == "null":
        return ParsedMove(MoveKind.ILLEGAL, None, segment, None, "a null move (pass) is not a move")
    if tok is None:
        if how == "cut off":
            return ParsedMove(MoveKind.NONE, detail="no committed move: the answer ends mid-sentence")
        return ParsedMove(MoveKind.NONE, detail="no move found")
    return _read(board, tok)
