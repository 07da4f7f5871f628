"""Find the move text an answer commits to: normalise the answer, pick the committing span,
and return the one move-like token in it. Reading that token against a board is
:mod:`chesseval.core.moves`' job.

The order, first match wins (:class:`Rule` names each step):

1. ``marker``: the last answer marker that is followed by a move (``Answer:``, ``Final answer:``,
   ``Move:``, ``[RESULT]``, ``\\boxed{}``, ``<answer>``, a JSON ``"move":`` key); a marker cut off
   before its move (``[RESULT]g``) is passed over;
2. ``continuation``: on a board with history, an answer that repeats the game's movetext commits
   to the first move after the game's last move (or, without a copy, to the move numbered as the
   next move of the game);
3. ``last-line`` / ``line-of-play``: a last line that is nothing but a move, or a line of moves
   (``Nf3``, ``**12... Qh4#**``, ``e8e4 f2f4``, ``1. Qxd2 Qxf7+ 2. Kh8``): the first move;
4. ``first-line`` / ``line-of-play``: the same for the first line (commit first, explain after);
5. ``sentence``: a clear statement of the move ("the best move is **Kd7**", "I play ...") that
   nothing later retracts;
6. ``bold``: the last bold or code-formatted span holding a move — not a list of squares or
   candidates, nor one in a sentence that is still weighing it ("is an option", "let me verify");
7. ``first-line``: a first line that opens with a move and explains it ("Bb5 - pins the knight");
8. ``sentence``: a move in the last line, when that line is a finished sentence (cut-off reasoning
   commits to nothing) — a move after "play"/"is"/"so"/":" first, never one after "played",
   "not", "after", "on", nor one in a list of candidates.

Whatever step decides, a line of moves counts by its first move: :attr:`Commitment.line` holds
the tokens of the whole line for :func:`chesseval.core.moves.parse_line`. The tokens themselves
are found by :mod:`chesseval.core.answer_tokens`, copies of the game by
:mod:`chesseval.core.continuation`.
"""

from __future__ import annotations

import dataclasses
import re

import chess

from chesseval.core.answer_tokens import (
    _NULL_TOKENS,
    _RESIDUE_RE,
    COORD_RE,
    SAN_RE,
    Commitment,
    Rule,
    Token,
    _line_at,
    _run,
    _tokens,
    normalise,
)
from chesseval.core.continuation import find_continuation

__all__ = ["COORD_RE", "SAN_RE", "Commitment", "Rule", "Token", "find_commitment", "normalise"]


# --- choosing the committed token --------------------------------------------------------------

# Markers are found with str.find on the lowercased text and checked in place: a regex scan of a
# 20 kB reasoning trace costs milliseconds, the finds cost microseconds.
_MARKER_WORDS = ("answer", "move", "solution", "result")
# ("The move is:" with its colon labels the answer as "Move:" does; "the move is Nf3" is a sentence)
_MARKER_TAIL_RE = re.compile(
    r"[\"'*_\s]*(?:[:=]|(?<=answer)\s*is\b|(?<=answer\*\*)\s*is\b|(?<=move)\s+is[\"'*_\s]*:)|\](?:\s*:)?"
)
# "Candidate move:", "Last move:" and the like label moves that are not the answer.
_NOT_MINE = frozenset({"last", "previous", "opponent's", "opponent", "their", "prior", "candidate", "alternative", "threat",
                       "threatened", "other", "another", "bad", "losing", "rejected", "wrong"})
_SPAN_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|```[a-z]*\n?((?s:.*?))```|`([^`\n]+)`|<(?:b|strong|code)>(.*?)</")
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


# "Move:" labels the answer after these words only; "each move:", "strategic move:" introduce lists.
_MOVE_LABELS = frozenset({"my", "best", "final", "chosen", "selected", "recommended", "suggested", "next", "the",
                          "your", "winning", "correct", "strongest", "first", "white's", "black's", "engine", "our",
                          "proposed", "solution", "answer", "new", "optimal", "preferred"})


def _labels_my_move(low: str, at: int, opponent: str) -> bool:
    if at > 0 and low[at - 1] in "\"'":
        return True  # a JSON key or a quoted label: {"move": "Nf3"}
    before = low[max(0, at - 24) : at]
    words = [w.strip("*_#>`'\"-:") for w in before[before.rfind("\n") + 1 :].split()]
    words = [w for w in words if w]
    if not words:
        return True
    last = words[-1]
    if last in _NOT_MINE or last == opponent:
        return False
    return last in _MOVE_LABELS or last.rstrip(".)").isdigit()


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
                    if word != "move" or _labels_my_move(low, i, opponent):
                        found.append((i, tail.end(), "move" if word == "move" else "line"))
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


def _marker_segment(text: str, end: int, kind: str) -> tuple[str, int]:
    """The text a marker labels, and where it starts when it is the next line (else -1)."""
    # The committed move follows its marker closely; a bound keeps many markers in one huge
    # line from costing quadratic time.
    rest = text[end : end + _MAX_SEGMENT]
    if kind == "boxed":
        depth, i = 1, 0
        while i < len(rest) and depth:
            depth += {"{": 1, "}": -1}.get(rest[i], 0)
            i += 1
        return rest[: i - 1 if depth == 0 else i], -1
    if kind == "tag":
        close = rest.find("</")
        return (rest if close < 0 else rest[:close]), -1
    line, _, after = rest.partition("\n")
    if _CONTENT_RE.search(line) or _is_null(line):
        return line, -1
    # "Answer:" alone on its line, the move on the next non-empty one.
    at = end + len(line) + 1
    for nxt in after.split("\n", 3)[:3]:
        if nxt.strip():
            return nxt, at
        at += len(nxt) + 1
    return "", -1


_BULLET_ONLY_RE = re.compile(r"[ \t]*[-*•+][ \t]+")
_BULLET_RE = re.compile(r"[ \t]*(?:[-*•+]|\d+[.)])[ \t]+")


def _opens_with_move(segment: str) -> bool:
    toks = _tokens(segment[:_MAX_BARE_LINE])
    return bool(toks) and not _RESIDUE_RE.sub("", segment[: toks[0].start])


def _heading_move(text: str, segment: str, at: int, board: chess.Board, opponent: str) -> Token | None:
    """The move of a marker that stands alone on its line ("**Best move:**", "Answer:"), read from
    the next line. That line answers only when it opens with the move ("**Ke6**", "1. Nf3"): a
    heading followed by a paragraph ("The priority is to get the king off g7 ...") labels the
    discussion, and the later rules read it. A bullet list of moves after the label ("choosing
    the strongest move:\n- **Ka6** is risky\n- **Kc6** ...") introduces the candidates, not the
    answer; so does a numbered one, unless its first two moves replay as one line of play."""
    toks = _tokens(segment)
    if not toks:
        return None
    head = toks[0]
    if _RESIDUE_RE.sub("", segment[: head.start]):
        return None
    bullet = _BULLET_RE.match(segment)
    if bullet is None:
        return head
    # The next item of the list: another move there makes the list a set of candidates.
    after = text[at + len(segment) + 1 : at + len(segment) + 1 + _MAX_SEGMENT]
    nxt = next((ln for ln in after.split("\n") if ln.strip()), "")
    nxt_toks = _tokens(nxt) if _BULLET_RE.match(nxt) else []
    if not nxt_toks:
        return head
    if not bullet.group().strip()[0].isdigit():
        return None
    # A numbered list may be the steps of one line ("1. Qh5 ... 2. Nf6 ..."): it is a list of
    # candidates only when its first two moves do not replay in order.
    first = _legal(board, head)
    if first is None:
        return head
    after_board = board.copy(stack=False)
    after_board.push(first)
    return head if _legal(after_board, nxt_toks[0]) is not None else None


def _pick(segment: str) -> Token | None:
    toks = _tokens(segment)
    return toks[0] if toks else None


_BETWEEN_MOVES_RE = re.compile(r"\s*(?:\d+\s*\.+\s*)?")


# (quotes too: "['Kd8', 'Kb8']" echoes a legal-move list)
_LIST_GAP_RE = re.compile(r"[\s'\"]*(?:[,;/]|and|or)[\s'\"]*(?:and\s+|or\s+)?")


def _roles(line: str, opponent: str) -> list[tuple[Token, str]]:
    """Each move token of a prose line with its role: "cued" (after "I play", "is", ":"),
    "plain", "negative" (the past, a threat, a rejected idea, a square, a list of candidates),
    "supposed" (after "if", "when") or "reply" (a later move of a line such as "Nxe5 Nxe5 d4")."""
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
        elif _supposed(line, tok.start):
            roles.append((tok, "supposed"))  # "If Black plays Bf5, ...": not chosen, still weighed
        elif word in _CUE_WORDS or word == ":":
            roles.append((tok, "cued"))
        else:
            roles.append((tok, "plain"))
    return roles


def _pick_in_prose(line: str, opponent: str) -> Token | None:
    """The last cued move of a prose line, else its first plain one (positions in ``line``)."""
    shift = 0
    if len(line) > _PROSE_WINDOW:
        # A long paragraph: only its closing sentences can hold the conclusion.
        tail = line[-_PROSE_WINDOW:]
        cut = tail.find(". ")
        shift = len(line) - len(tail) + (cut + 2 if cut >= 0 else 0)
    roles = _roles(line[shift:], opponent)
    cued = [tok for tok, role in roles if role == "cued"]
    tok = cued[-1] if cued else next((tok for tok, role in roles if role == "plain"), None)
    return dataclasses.replace(tok, start=tok.start + shift, end=tok.end + shift) if tok and shift else tok


def _looks_cut_off(line: str, opponent: str) -> bool:
    stripped = line.rstrip()
    if not stripped:
        return True
    if stripped.count("(") > stripped.count(")"):
        return True  # stopped inside a parenthesis: "Move 1: g2f1 (Bg2"
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
        # A move named right after doubt ("Let me reconsider. Nh5") is the next try, cut off.
        doubted = _RETRACT_RE.search(tail, 0, head.start) is not None
        return not (role == "cued" or (role == "plain" and words_before < _MAX_SIGN_OFF_WORDS and not doubted))
    return True


_EMPTY_ITEM_RE = re.compile(r"\n[ \t]*(?:[*\-•]|\d+\.|\*\*)[ \t]*$")
# A list item, then a new line begun with its indentation and nothing more.
_OPEN_INDENT_RE = re.compile(r"\n[ \t]*(?:[*\-•+]|\d+\.)[ \t][^\n]*\n[ \t]+\Z")


def _ends_mid_list(text: str) -> bool:
    """Text that stops on an empty list item, an opened bold or the indentation of the next item
    was cut off, whatever came before."""
    tail = text[-400:]
    return _EMPTY_ITEM_RE.search(tail[-40:].rstrip("\n")) is not None or _OPEN_INDENT_RE.search(tail) is not None


def _spans(text: str) -> list[str]:
    return [next(g for g in s.groups() if g is not None) for s in _SPAN_RE.finditer(text)]


_CONTENT_RE = re.compile(r"[^\W_]")


def _has_content(line: str) -> bool:
    """Lines that are only markup (``---``, a code fence) are not the last line of an answer."""
    return _CONTENT_RE.search(line) is not None or _is_null(line)


# --- lines of play ------------------------------------------------------------------------------

_MAX_BARE_LINE_OF_PLAY = 400


def _bare_line(line: str) -> tuple[Token, ...]:
    """The moves of a line that holds nothing but one move or a line of moves (with move numbers,
    check marks and markup): ``Nf3``, ``**12... Qh4#**``, ``e8e4 f2f4``, ``1. Qxd2 Qxf7+ 2. Kh8``."""
    if len(line) > _MAX_BARE_LINE_OF_PLAY:
        return ()
    toks = _tokens(line)
    if not toks or (len(toks) == 1 and len(line) > _MAX_BARE_LINE):
        return ()
    if _RESIDUE_RE.sub("", line[: toks[0].start] + " " + line[toks[-1].end :]):
        return ()
    run = _run(line, toks, 0)
    return run if len(run) == len(toks) else ()


# --- commitments in sentences ------------------------------------------------------------------

# A statement of the move: an adjective before one of these nouns and "is" (or ":") after it
# ("the best move is", "my final answer:", "the selected move from the list is"), the noun and
# "I've chosen is", or the first person choosing ("I play", "I'll go with", "I am certain the move").
# Found from anchor words with plain string tests: a regex over 20 kB of reasoning costs milliseconds.
# (two patterns: one alternation of both costs ten times more)
# (one pattern per noun, each opening with its literal, and "i" tested before its lookbehind:
# the regex engine then skips ahead by the literal, ten times faster on long texts)
_NOUN_ANCHOR_RES = tuple(re.compile(w + r"\b") for w in ("move", "answer", "solution", "choice", "continuation", "reply"))
_I_ANCHOR_RE = re.compile(r"i(?<![a-z]i)(?=['\s])")
_STATEMENT_ADJECTIVES = frozenset(
    {"best", "winning", "finishing", "correct", "right", "strongest", "only", "key", "final", "mating", "decisive", "my",
     "chosen", "forcing", "selected", "recommended", "suggested", "optimal", "proposed", "preferred", "ideal"}
)
_AFTER_NOUN_RE = re.compile(r"(?:\s+[\w']+){0,5}?[\s*_`\"']*(?:is|would\s+be|will\s+be|:)(?![\w])")
_CHOSEN_AFTER_NOUN_RE = re.compile(r"\s+i(?:'ve|\s+have)?\s+(?:selected|chosen|picked)\s+is\b")
_FIRST_PERSON_RE = re.compile(
    r"i(?:'ll|\s+will|\s+would|\s+am\s+going\s+to)?\s+(?:play|choose|select|pick|go\s+with|recommend)\b"
    r"|i(?:'m|\s+am)\s+(?:going\s+with|playing|choosing|selecting|picking|sticking\s+with)\b"
    r"|i\s+am\s+(?:certain|sure|confident)\s+(?:that\s+)?(?:the\s+move\b)?"
)


def _statement_end(low: str, a: re.Match[str]) -> int | None:
    """Where the statement anchored at ``a`` ends (the move follows), or None."""
    if a.group() == "i":
        m = _FIRST_PERSON_RE.match(low, a.start())
        return m.end() if m else None
    chosen = _CHOSEN_AFTER_NOUN_RE.match(low, a.end())
    if chosen:
        return chosen.end()
    words = [w.strip("*_`\"'") for w in low[max(0, a.start() - 40) : a.start()].split()[-2:]]
    if not words or not (
        words[-1] in _STATEMENT_ADJECTIVES
        or (len(words) == 2 and words[0] in _STATEMENT_ADJECTIVES and words[1] in ("first", "next", "winning", "mating"))
    ):
        return None
    m = _AFTER_NOUN_RE.match(low, a.end())
    return m.end() if m else None


# Doubt after a statement withdraws it ("Qd7+ is mate! Wait, the king escapes to e6 ...").
_RETRACT_RE = re.compile(
    r"\b(?:wait|hmm+|reconsider|re-?check|re-?evaluate|recalculate|actually|on\s+second\s+thought"
    r"|scratch\s+that|not\s+(?:check)?mate|isn't\s+(?:check)?mate|let\s+me\s+(?:check|verify|think|look|see|double))\b",
    re.IGNORECASE,
)
# Still weighing a move: "So Qd6+ is an option", "a likely mate-in-1 candidate", "next, I'll verify".
_HEDGE_RE = re.compile(
    r"\b(?:(?:an|another|one)\s+(?:[\w-]+\s+)?option|candidate|candidates|possibility|possible|possibly|might|maybe|perhaps|could|likely"
    r"|consider|considering|verify|verifying|test|testing|whether|seems?|wondering|contemplating|exploring"
    r"|need\s+to|trying|appears?|promising|interesting|re-?assess\w*|assessing|examining|analy[sz]ing|exploring"
    r"|evaluating|investigating|focusing|comparing)\b",
    re.IGNORECASE,
)
# The closing paragraph of reasoning that is still at work ("I am now evaluating ...",
# "next, I'll verify ...", "I need to make sure ...") has not concluded, unless it says it has.
_TESTING_RE = re.compile(
    r"\b(?:I\s*(?:'m|am)\s+(?:now\s+|currently\s+|still\s+|also\s+|carefully\s+|meticulously\s+)*"
    r"(?!going\b|playing\b|choosing\b|selecting\b|picking\b|sticking\b)(?:\w+ing|focused)"
    r"|next,?\s+I(?:'ll|\s+will)|I(?:'ll|\s+will)?\s+need\s+to|I\s+just\s+need\s+to|let\s+me|keep\s+analy[sz]ing"
    r"|my\s+(?:plan|next\s+step|goal|aim|focus)\s+is)\b",
    re.IGNORECASE,
)
_CONCLUDED_RE = re.compile(
    r"\b(?:confident|certain|definitive|definitively|irrefutable|conclusion|concluded|solution|confirmed|final)\b",
    re.IGNORECASE,
)
# Declining to choose after naming moves ("I cannot definitively choose the single best move",
# "it is impossible to determine the best move") commits to none of them.
_DECLINE_VERBS = r"(?:choose|select|pick|determine|decide|recommend|provide|give|name|suggest|commit\s+to)"
_REFUSAL_RE = re.compile(
    r"\b(?:I|we)\s*(?:cannot|can't|can\s+not|(?:am|'m|are)\s+(?:unable|not\s+able)\s+to)\s+(?:\w+\s+){0,2}?"
    + _DECLINE_VERBS
    + r"(?:\s+[\w'-]+){0,4}?\s+(?:move|answer)s?\b"
    r"|\bimpossible\s+to\s+(?:[\w,]+\s+){0,6}?" + _DECLINE_VERBS + r"(?:\s+[\w'-]+){0,4}?\s+(?:move|answer)s?\b",
    re.IGNORECASE,
)
_REFUSAL_WINDOW = 2000


def _refuses(text: str, after: int) -> bool:
    """Whether the answer declines to choose after position ``after`` (in its closing part)."""
    return _REFUSAL_RE.search(text, max(after, len(text) - _REFUSAL_WINDOW)) is not None


_HYPOTHETICAL = frozenset({"if", "when", "whether", "suppose", "unless", "should"})
_SENTENCE_END_RE = re.compile(r"[.!?\n](?=\s|$)")


_BOUNDARY_RE = re.compile(r"(?<![\d.])[.!?]\s")


def _last_sentence(text: str) -> str:
    body = text.rstrip(" .!\n")
    ends = [m.end() for m in _BOUNDARY_RE.finditer(body)]
    return body[ends[-1] if ends else 0 :]


def _supposed(text: str, start: int) -> bool:
    return bool(set(text[max(0, start - 30) : start].lower().split()[-3:]) & _HYPOTHETICAL)


def _sentence_around(text: str, start: int, end: int) -> str:
    lo = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), text.rfind("! ", 0, start), start - 300)
    m = _SENTENCE_END_RE.search(text, end, end + 300)
    return text[lo + 1 : m.end() if m else end + 300]


def _statement(text: str, board: chess.Board, opponent: str) -> tuple[Commitment, int] | None:
    """The last clear statement of a move ("the best move is **Kd7**", "I play Nf3") that no
    doubt follows; None when there is none or the last one was retracted."""
    found = None
    low = text.lower()
    if len(low) != len(text):  # a few non-ASCII letters change length when lowercased
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    # Only the last statement counts: scanned from the end, the first one found decides (a
    # forward scan tested every anchor of a long reasoning trace).
    anchors = sorted([m for r in (*_NOUN_ANCHOR_RES, _I_ANCHOR_RE) for m in r.finditer(low)], key=lambda m: m.start())
    for a in reversed(anchors):
        end = _statement_end(low, a)
        if end is None or _supposed(text, a.start()):
            continue
        window = text[end : end + 60]
        toks = _tokens(window)
        if not toks or _CONTENT_RE.search(_RESIDUE_RE.sub("", window[: toks[0].start]).replace("the", "").replace("move", "")):
            continue
        found = (end, toks[0], window)
        break
    if found is None:
        return None
    end, tok, window = found
    if _RETRACT_RE.search(text, end + tok.end):
        return None
    if _is_square(tok, board):
        return None
    return Commitment(tok, window, Rule.SENTENCE, _line_at(window, tok)), end


def _is_square(tok: Token, board: chess.Board) -> bool:
    """A bare square in prose ("covers g1 and h1") is a pawn move only if a pawn could go there."""
    if tok.kind != "san" or len(tok.text) != 2:
        return False
    to = chess.parse_square(tok.text)
    pawns = board.pieces_mask(chess.PAWN, board.turn)
    return not any(True for _ in board.generate_pseudo_legal_moves(pawns, chess.BB_SQUARES[to]))


def _quiet_after(text: str, end: int, opponent: str) -> bool:
    """Cut-off text keeps its last bold move only if what follows it is a short tail with no
    other move and no doubt or question ("Threatens mate on h1? No."): reasoning that goes on
    testing moves has not committed."""
    tail = text[end:]
    return (
        len(tail) < _PROSE_WINDOW
        and "?" not in tail
        and all(role == "negative" for _, role in _roles(tail, opponent))
        and _RETRACT_RE.search(tail) is None
    )


_ITEM_HEAD_RE = re.compile(r"[ \t]*(?:[-*•+]|\d+[.)])[ \t]*")


def _opens_item(text: str, at: int) -> bool:
    return _ITEM_HEAD_RE.fullmatch(text, text.rfind("\n", 0, at) + 1, at) is not None


def _is_list(span: str) -> bool:
    toks = _tokens(span)
    return len(toks) >= 2 and any(_LIST_GAP_RE.fullmatch(span, a.end, b.start) for a, b in zip(toks, toks[1:], strict=False))


def _formatted(text: str, board: chess.Board) -> tuple[Commitment, int, int] | None:
    """The last bold or code span holding a move that is neither a list of squares or candidates
    nor weighed in its sentence."""
    for s in reversed(list(_SPAN_RE.finditer(text))):
        span = next(g for g in s.groups() if g is not None)
        if len(span) > 120 or _is_list(span):
            continue
        tok = _pick(span)
        if tok is None:
            continue
        if _is_square(tok, board) or _prev_word(text, s.start()) in _NEGATIVE_WORDS:
            continue
        # "**Assessing Qg2+ as a check**" titles a reasoning summary; "If White plays **Nh7+**" supposes.
        if span.lstrip(" *_").split(" ", 1)[0].lower().endswith("ing") or _supposed(text, s.start()):
            continue
        sentence = _sentence_around(text, s.start(), s.end())
        if "?" in sentence or _HEDGE_RE.search(sentence):
            continue
        first = _list_line_start(text, s.start(), board)
        if first is not None:
            return first, s.end(), s.start()
        return Commitment(tok, span, Rule.BOLD, _line_at(span, tok)), s.end(), s.start()
    return None


_ITEM_RE = re.compile(r"[ \t]*\d+[.)][ \t]*(?:\*\*|__|`)")
_MAX_ITEMS = 40


def _legal(board: chess.Board, tok: Token) -> chess.Move | None:
    for parse in (board.parse_san, board.parse_uci):
        try:
            return parse(tok.text)
        except ValueError:
            continue
    return None


def _list_line_start(text: str, at: int, board: chess.Board) -> Commitment | None:
    """A bold move that opens the last item of a numbered list ("1. **Qh5** ... 2. **Nf6** ...
    3. **Qxf7#**") may be the end of a line of play for both sides: then the line's first move
    counts. The items are a line when their first two moves replay legally from the position."""
    start = text.rfind("\n", 0, at) + 1
    head = _ITEM_RE.match(text, start)
    if head is None or head.end() < at:
        return None
    items: list[int] = [start]
    pos = start
    while pos > 0 and len(items) < _MAX_ITEMS:
        prev = text.rfind("\n", 0, pos - 1) + 1
        line = text[prev : pos - 1]
        if _ITEM_RE.match(text, prev):
            items.append(prev)
        elif line.strip() and not line[:1].isspace() and not line.lstrip().startswith(("-", "*", "•")):
            break
        pos = prev
    if len(items) < 2:
        return None
    spans = []
    for item in reversed(items):
        end = _ITEM_RE.match(text, item).end()  # type: ignore[union-attr]
        m = _SPAN_RE.match(text, end - (1 if text[end - 1] == "`" else 2))
        span = next((g for g in m.groups() if g is not None), "") if m else ""
        tok = _pick(span)
        if tok is None:
            return None
        spans.append((tok, span))
    first = _legal(board, spans[0][0])
    if first is None:
        return None
    after = board.copy(stack=False)
    after.push(first)
    if _legal(after, spans[1][0]) is None:
        return None  # a list of alternatives for one side, not a line
    return Commitment(spans[0][0], spans[0][1], Rule.LINE_OF_PLAY, tuple(tok for tok, _ in spans))


# --- the order of the rules --------------------------------------------------------------------


def find_commitment(text: str, board: chess.Board, *, history: bool = True) -> Commitment:
    """What ``text`` (normalised) commits to in ``board``'s position; with ``history`` the board's
    move stack enables the continuation rule. Reads the board, never changes it."""
    turn = board.turn
    opponent = "black's" if turn == chess.WHITE else "white's"
    for _, end, kind in _markers(text, opponent):
        segment, at = _marker_segment(text, end, kind)
        if at >= 0 and not _is_null(segment):
            tok = _heading_move(text, segment, at, board, opponent)
            if tok is not None:
                return Commitment(tok, segment, Rule.MARKER, _line_at(segment, tok))
            continue
        if kind == "move" and not _opens_with_move(segment):
            continue  # "... before the move: let's see the board" labels no move
        for span in _spans(segment):
            tok = _pick(span)
            if tok is not None:
                return Commitment(tok, span, Rule.MARKER, _line_at(span, tok))
        tok = _pick(segment)
        if tok is not None:
            return Commitment(tok, segment, Rule.MARKER, _line_at(segment, tok))
        if _is_null(segment):
            return Commitment(None, segment.strip().strip("*_`\"'."), Rule.NULL)
    found = find_continuation(text, board) if history else None
    if found is not None:
        if isinstance(found, Commitment):
            return found
        if isinstance(found, int):
            # The game was copied and nothing follows it as movetext: the rest may still commit.
            rest = find_commitment(text[found:], board, history=False)
            if rest.token is None and rest.rule in (Rule.EMPTY, Rule.NO_MOVE, Rule.CUT_OFF):
                return Commitment(None, "", Rule.REPEAT_ONLY)
            return rest
    lines = [ln for ln in text.split("\n") if _has_content(ln)]
    if not lines:
        return Commitment(None, "", Rule.EMPTY)
    last = lines[-1]
    # A move alone on the last item of a bullet list is the next item of that list (a candidate
    # reviewed, or reasoning cut off mid-list), not a closing answer: the text was cut off.
    run = _bare_line(last)
    in_list = bool(run) and len(lines) > 1 and all(_BULLET_ONLY_RE.match(ln) for ln in lines[-2:])
    if run and not in_list:
        return Commitment(run[0], last, Rule.LAST_LINE if len(run) == 1 else Rule.LINE_OF_PLAY, run)
    if _is_null(last):
        return Commitment(None, last.strip().strip("*_`\"'."), Rule.NULL)
    if len(lines) > 1:
        run = _bare_line(lines[0])
        # A first line the answer then doubts ("Wait, let me reconsider.") is no commitment.
        if run and _RETRACT_RE.search(text, text.find(lines[0]) + len(lines[0])) is None:
            return Commitment(run[0], lines[0], Rule.FIRST_LINE if len(run) == 1 else Rule.LINE_OF_PLAY, run)
    # A closing "..." trails off: the thought was not finished.
    mid_list = in_list or _ends_mid_list(text)
    cut_off = mid_list or _looks_cut_off(last, opponent) or last.rstrip().endswith(("...", "…"))
    formatted = _formatted(text, board)
    # A list of tries cut off keeps none of them; other cut-off text keeps a bold move that only a
    # short remark follows.
    if formatted is not None and cut_off and (mid_list or not _quiet_after(text, formatted[1], opponent)):
        formatted = None
    stated = _statement(text, board, opponent)
    if (formatted is not None or stated is not None) and _refuses(
        text, max(formatted[1] if formatted else -1, stated[1] if stated else -1)
    ):
        return Commitment(None, last, Rule.UNCOMMITTED)
    if stated is not None:
        # The last commitment counts: a bold move in the closing line, written after the statement,
        # replaces it, unless it opens an item of a list (the alternatives reviewed after "the best
        # move is **Kd7**").
        if formatted is None or formatted[2] < max(stated[1], text.rfind(last)) or _opens_item(text, formatted[2]):
            return stated[0]
        return formatted[0]
    closing = last[-_PROSE_WINDOW:]
    if _TESTING_RE.search(_last_sentence(closing)) and not _CONCLUDED_RE.search(closing):
        return Commitment(None, last, Rule.UNCOMMITTED)
    if formatted is not None:
        return formatted[0]
    if len(lines) > 1:
        tok = _leading_move(lines[0])
        if tok is not None:
            return Commitment(tok, lines[0], Rule.FIRST_LINE, _line_at(lines[0], tok))
    if cut_off:
        return Commitment(None, last, Rule.CUT_OFF)
    # A short closing line without a move ("Good luck!") does not hide the conclusion before it.
    for line in reversed(lines[-3:]):
        tok = _pick_in_prose(line, opponent)
        if tok is not None and not _is_square(tok, board):
            # A closing paragraph that still weighs moves ("I am trying to determine the candidate
            # checks"), or a question about the move, has not chosen one.
            # (the window is the move's sentence and what follows it)
            window = line[-_PROSE_WINDOW:]
            at = tok.start - (len(line) - len(window))
            sentence = _sentence_around(window, at, at + len(tok.raw))
            closing = window[window.find(sentence) :]
            if (_HEDGE_RE.search(closing) and not _CONCLUDED_RE.search(closing)) or "?" in sentence or (
                _RETRACT_RE.search(closing)
            ):
                return Commitment(None, line, Rule.UNCOMMITTED)
            return Commitment(tok, line, Rule.SENTENCE, _line_at(line, tok))
        if line.count(" ") >= _MAX_SIGN_OFF_WORDS or _tokens(line):
            break
    return Commitment(None, last, Rule.NO_MOVE)
