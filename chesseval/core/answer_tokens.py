"""The words of an answer: normalising it, finding the move-like tokens in it and the runs of
moves that form a line of play, and the :class:`Rule` and :class:`Commitment` that
:mod:`chesseval.core.answer_text` decides with."""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata

__all__ = ["COORD_RE", "SAN_RE", "Commitment", "Rule", "Token", "normalise"]


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
    # A piece letter spaced from its square ("K g7", "N xe5") is the piece move, read leniently.
    r"|(?P<spaced>[KQRBN] x?[a-h][1-8])"
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


class Rule(enum.StrEnum):
    """Which step of the reading decided, reported as ``ParsedMove.rule`` so a verdict can be audited."""

    MARKER = "marker"
    CONTINUATION = "continuation"
    LAST_LINE = "last-line"
    FIRST_LINE = "first-line"
    LINE_OF_PLAY = "line-of-play"
    SENTENCE = "sentence"
    BOLD = "bold"
    # Nothing committed, and why:
    NULL = "null"
    """A null move (``--``, ``0000``): committed, but not a move."""
    REPEAT_ONLY = "repeat-only"
    """The answer repeats the game and adds no move."""
    CUT_OFF = "cut-off"
    UNCOMMITTED = "uncommitted"
    """Moves are only weighed ("is an option", "let me verify"), or every one is retracted."""
    NO_MOVE = "no-move"
    EMPTY = "empty"


@dataclasses.dataclass(frozen=True)
class Commitment:
    """What an answer commits to: the token (None when nothing), where it was found and by which rule."""

    token: Token | None
    segment: str
    rule: Rule
    line: tuple[Token, ...] = ()
    """The committed token and the moves written after it in the same line of play."""


def _token_of(m: re.Match[str]) -> Token:
    spaced = m.group("spaced")
    if spaced:
        return Token(spaced.replace(" ", ""), "san", m.start(), m.end(), m.group("suffix") or "", m.group(0), lenient=True)
    castle, coord, ucu, san = m.group("castle", "coord", "ucu", "san")
    kind, text = ("castle", castle) if castle else ("coord", coord) if coord else ("ucu", ucu) if ucu else ("san", san)
    if kind == "ucu":
        kind, text = "coord", text.lower()
    return Token(text, kind, m.start(), m.end(), m.group("suffix") or "", m.group(0))


def _tokens(segment: str) -> list[Token]:
    found = [_token_of(m) for m in _TOKEN_RE.finditer(segment)]
    words = list(_PIECE_WORDS_RE.finditer(segment)) if len(segment) <= 200 else []
    if words:
        for w in words:
            found = [t for t in found if not (w.start() <= t.start < w.end())]
            capture = "x" if (w.group(2) or "to").lower() != "to" else ""
            text = _PIECE_LETTER[w.group(1).lower()] + capture + w.group(3)
            found.append(Token(text, "san", w.start(), w.end(), "", w.group(0), lenient=True))
        found.sort(key=lambda t: t.start)
    return found


# Text around moves that commits to nothing by itself: move numbers, markup, punctuation.
_RESIDUE_RE = re.compile(r"\d+\s*\.+|<[^>]*>|\\[A-Za-z]+|[\s*_`\"'“”‘’>\[\](){}$.,;:!?\-#+|]")


# --- lines of play ------------------------------------------------------------------------------

# What may stand between two moves of one line: spaces, move numbers ("12.", "12...", "…"),
# arrows, the game-end star and markup. Commas and "or" make a list of candidates, not a line.
_LINE_GAP_RE = re.compile(r"(?:\s|[*_`'\"]|->|→|=>|\.\.\.|…|\d+\s*(?:\.+|…)|1-0|0-1|1/2-1/2)*")
_NUMBER_RE = re.compile(r"(\d+)\s*(\.+|…)\s*$")
_MAX_LINE = 60


def _run(text: str, toks: list[Token], i: int) -> tuple[Token, ...]:
    """toks[i] and the moves that follow it in the same line of play."""
    j = i + 1
    while j < len(toks) and j - i < _MAX_LINE and _LINE_GAP_RE.fullmatch(text, toks[j - 1].end, toks[j].start):
        j += 1
    return tuple(toks[i:j])


def _line_at(segment: str, tok: Token) -> tuple[Token, ...]:
    toks = _tokens(segment)
    i = next((k for k, t in enumerate(toks) if t.start == tok.start), None)
    return (tok,) if i is None else _run(segment, toks, i)
