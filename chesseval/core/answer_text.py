"""Find the move text an answer commits to: normalise the answer, pick the committing span,
and return the one move-like token in it. Reading that token against a board is
:mod:`chesseval.core.moves`' job.

The order, first match wins:

1. the last answer marker that is followed by a move (``Answer:``, ``Final answer:``,
   ``Move:``, ``[RESULT]``, ``\\boxed{}``, ``<answer>``, a JSON ``"move":`` key);
2. else a last line that is nothing but a move (``Nf3``, ``**12... Qh4#**``);
3. else a first line that is nothing but a move (answers that commit first, explain after);
4. else the last bold or code-formatted span holding a move;
5. else a first line that opens with a move and explains it ("Bb5 - pins the knight");
6. else a move in the last line, when that line is a finished sentence (cut-off reasoning
   commits to nothing) — a move after "play"/"is"/"so"/":" first, never one after "played",
   "not", "after", "on", nor one in a list of candidates.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import chess

__all__ = ["COORD_RE", "SAN_RE", "Token", "find_commitment", "normalise"]


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


def normalise(text: str) -> str:
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
COORD_RE = re.compile(
    r"(?P<piece>[KQRBNPkqrbnp])?(?P<src>[a-h][1-8])(?P<sep>[-x:])?(?P<dst>[a-h][1-8])"
    r"(?:=?(?P<p1>[QRBNqrbn])|\((?P<p2>[QRBNqrbn])\)|/(?P<p3>[QRBNqrbn]))?"
)
SAN_RE = re.compile(
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
class Token:
    text: str
    kind: str  # castle | coord | san
    start: int
    end: int
    suffix: str
    raw: str
    """The whole match (with check marks and annotations), reported as ``ParsedMove.text``."""
    lenient: bool = False


def _tokens(segment: str) -> list[Token]:
    found = []
    for m in _TOKEN_RE.finditer(segment):
        castle, coord, ucu, san = m.group("castle", "coord", "ucu", "san")
        kind, text = (
            ("castle", castle) if castle else ("coord", coord) if coord else ("ucu", ucu) if ucu else ("san", san)
        )
        if kind == "ucu":
            kind, text = "coord", text.lower()
        found.append(Token(text, kind, m.start(), m.end(), m.group("suffix") or "", m.group(0)))
    words = list(_PIECE_WORDS_RE.finditer(segment)) if len(segment) <= 200 else []
    if words:
        for w in words:
            found = [t for t in found if not (w.start() <= t.start < w.end())]
            capture = "x" if (w.group(2) or "to").lower() != "to" else ""
            text = _PIECE_LETTER[w.group(1).lower()] + capture + w.group(3)
            found.append(Token(text, "san", w.start(), w.end(), "", w.group(0), lenient=True))
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
    {"play", "plays", "playing", "choose", "chose", "pick", "with", "is", "recommend", "select", "go", "answer",
     "so", "thus", "therefore", "hence", "respond", "reply"}
)
# "Candidates: Bb5, Bc4, d4" lists ideas, it does not choose one.
_LIST_LABELS = frozenset(
    {"candidates", "candidate", "options", "option", "ideas", "alternatives", "consider", "considering", "threats",
     "lines", "moves", "tries", "possibilities", "choices", "include", "including"}
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
        if words and words[-1] in _LIST_LABELS:
            return "candidates"
        return ":"
    m = _PREV_WORD_RE.search(before)
    return m.group(1).lower() if m else ""


def _is_bare_move(line: str) -> Token | None:
    if len(line) > _MAX_BARE_LINE:
        return None
    toks = _tokens(line)
    if len(toks) != 1:
        return None
    tok = toks[0]
    if _RESIDUE_RE.sub("", line[: tok.start] + " " + line[tok.end :]):
        return None
    return tok


def _leading_move(line: str) -> Token | None:
    """The move a line opens with and then explains: "Bb5 - pins the knight", "e2e4: opens lines"."""
    head = line[:60]
    toks = _tokens(head)
    if not toks or _RESIDUE_RE.sub("", head[: toks[0].start]):
        return None
    after = head[toks[0].end :].lstrip()
    return toks[0] if after[:1] in ("-", ":", ",", "(") else None


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


def _pick(segment: str) -> Token | None:
    toks = _tokens(segment)
    return toks[0] if toks else None


_BETWEEN_MOVES_RE = re.compile(r"\s*(?:\d+\s*\.+\s*)?")


_LIST_GAP_RE = re.compile(r"\s*(?:[,;/]|and|or)\s*(?:and\s+|or\s+)?")


def _roles(line: str, opponent: str) -> list[tuple[Token, str]]:
    """Each move token of a prose line with its role: "cued" (after "I play", "is", ":"),
    "plain", "negative" (the past, a threat, a rejected idea, a square, a list of candidates)
    or "reply" (a later move of a line such as "Nxe5 Nxe5 d4")."""
    roles = []
    prev_end = -1
    prev_negative = in_list = False
    for tok in _tokens(line):
        gap = line[prev_end : tok.start] if prev_end >= 0 else None
        prev_end = tok.end
        if gap is not None and _BETWEEN_MOVES_RE.fullmatch(gap):
            roles.append((tok, "reply"))
            continue
        word = _prev_word(line, tok.start, opponent)
        in_list = word == "candidates" or (in_list and gap is not None and _LIST_GAP_RE.fullmatch(gap) is not None)
        # "defends e5 and d4": a list goes on in the same role.
        negative = (
            in_list
            or word in _NEGATIVE_WORDS
            or word == opponent
            or (word in ("and", "or", "nor") and prev_negative)
        )
        prev_negative = negative
        if negative:
            roles.append((tok, "negative"))
        elif word in _CUE_WORDS or word == ":":
            roles.append((tok, "cued"))
        else:
            roles.append((tok, "plain"))
    return roles


def _pick_in_prose(line: str, opponent: str) -> Token | None:
    """The last cued move of a prose line, else its first plain one."""
    if len(line) > _PROSE_WINDOW:
        # A long paragraph: only its closing sentences can hold the conclusion.
        tail = line[-_PROSE_WINDOW:]
        cut = tail.find(". ")
        line = tail[cut + 2 :] if cut >= 0 else tail
    roles = _roles(line, opponent)
    cued = [tok for tok, role in roles if role == "cued"]
    if cued:
        return cued[-1]
    return next((tok for tok, role in roles if role == "plain"), None)


def _looks_cut_off(line: str, opponent: str) -> bool:
    stripped = line.rstrip()
    if not stripped:
        return True
    if stripped[-1] in ".!?)]}\"'`*>”’$。":
        return False
    tail = stripped[-_PROSE_WINDOW:]
    roles = _roles(tail, opponent)
    if roles and roles[-1][0].end == len(tail):
        # Ends on a move without a full stop: "I play Nf3" commits; "...let me check Bb5 first:
        # after a6" was cut off, and so is a long line ending on a move in passing.
        # A line of moves ("1. Bb5 a6 2. Ba4") is judged by its first move.
        head, role = next((tok, role) for tok, role in reversed(roles) if role != "reply" or tok is roles[0][0])
        words_before = tail[: head.start].count(" ")
        return not (role == "cued" or (role == "plain" and words_before < _MAX_SIGN_OFF_WORDS))
    return True


def _spans(text: str) -> list[str]:
    return [next(g for g in s.groups() if g is not None) for s in _SPAN_RE.finditer(text)]


_CONTENT_RE = re.compile(r"[^\W_]")


def _has_content(line: str) -> bool:
    """Lines that are only markup (``---``, a code fence) are not the last line of an answer."""
    return _CONTENT_RE.search(line) is not None or _is_null(line)


def find_commitment(text: str, turn: chess.Color) -> tuple[Token | None, str, str]:
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
    if len(lines) > 1:
        tok = _leading_move(lines[0])
        if tok is not None:
            return tok, lines[0], "first line"
    if _looks_cut_off(last, opponent):
        return None, last, "cut off"
    # A short closing line without a move ("Good luck!") does not hide the conclusion before it.
    for line in reversed(lines[-3:]):
        tok = _pick_in_prose(line, opponent)
        if tok is not None:
            return tok, line, "last line"
        if line.count(" ") >= _MAX_SIGN_OFF_WORDS or _tokens(line):
            break
    return None, last, "no move"
