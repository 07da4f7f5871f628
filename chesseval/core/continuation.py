"""Game continuations: an answer to a prompt that showed the game's movetext often writes the
game out again and appends its move (``… 27. Nd4 Rxf1+ 28. Kxf1 Qd6``), with slips, a ``*``,
extra moves or a long loop after it. :func:`find_continuation` finds the first move written after
the game's last move, or says that nothing follows the copy."""

from __future__ import annotations

import dataclasses
import itertools
import re

import chess

from chesseval.core.answer_tokens import (
    _LINE_GAP_RE,
    _NUMBER_RE,
    _RESIDUE_RE,
    _TOKEN_RE,
    Commitment,
    Rule,
    _run,
    _token_of,
)

__all__ = ["GameTail", "find_continuation", "game_tail", "move_key"]


@dataclasses.dataclass(frozen=True)
class GameTail:
    """The ends of a board's history, as :func:`move_key` keys, for the continuation rule."""

    first: tuple[str, ...]
    """The game's first (up to) two moves: a copy followed by these starts the game over."""
    last: tuple[str, ...]
    """Its last (up to) two moves, in order."""
    last_number: int
    """The move number of the last move."""
    last_white: bool
    """Whether White played the last move."""
    last_text: str = ""
    """The last move in SAN without check marks: an answer without it holds no copy of the game."""
    prev_text: str = ""
    """The move before it, likewise."""


_KEY_DROP = str.maketrans("", "", "x:-+#!?=()/ ")
_KEY_RE = re.compile(r"([KQRBNkqrn])?([a-h])?[1-8]?([a-h][1-8])([QRBNqrbn])?")


def move_key(text: str) -> str:
    """A loose identity of a written move (piece, target, promotion) for matching copied movetext:
    ``Nxe5+``, ``Ne5`` and ``Nge5`` all give ``Ne5``; ``exd5`` gives ``ed5``; castling ``OO``/``OOO``."""
    t = text.translate(_KEY_DROP)
    if t and set(t) <= {"O", "0", "o"}:
        return "O" * len(t)
    m = _KEY_RE.fullmatch(t)
    if m is None:
        return t
    piece, file, dst, promo = m.groups()
    # A pawn capture keeps its file: "gxh5" and "gxh5" by the other side's pawn differ from "h5".
    head = piece.upper() if piece else (file if file and file != dst[0] else "")
    return head + dst + (promo.upper() if promo else "")


_MAX_CONTINUATION_SCAN = 60_000


def _may_copy_the_end(head: str, game: GameTail) -> bool:
    """A cheap test before tokenising a long answer: does the game's last move stand anywhere
    right after the move before it or after its move number?"""
    number = f"{game.last_number}." if game.last_white else ""
    for needle in {game.last_text, game.last_text.replace("x", "")}:
        at = head.find(needle)
        while at >= 0:
            before = head[max(0, at - 24) : at]
            if (game.prev_text and (game.prev_text in before or game.prev_text.replace("x", "") in before)) or (
                number and number in before
            ):
                return True
            at = head.find(needle, at + 1)
    return False


def _continuation(text: str, game: GameTail) -> Commitment | int | None:
    """The first move written after a copy of the game's movetext; or the offset where a copy
    ends that no move follows; or None when the answer holds no copy of the game."""
    head = text[:_MAX_CONTINUATION_SCAN]
    if game.last_text and not _may_copy_the_end(head, game):
        # No copy of the game's end: only an answer opening with the next move number (or a copy of
        # the game cut off before its end) is about the game.
        toks = [_token_of(m) for m in itertools.islice(_TOKEN_RE.finditer(head), 5)]
    else:
        toks = [_token_of(m) for m in _TOKEN_RE.finditer(head)]
    if not toks:
        return None
    keys = [move_key(t.text) for t in toks]
    k_last = game.last[-1]
    k_prev = game.last[0] if len(game.last) == 2 else None

    def number(i: int) -> tuple[int, str] | None:
        m = _NUMBER_RE.search(head, toks[i - 1].end if i else max(0, toks[i].start - 12), toks[i].start)
        return (int(m.group(1)), "." if m.group(2) == "." else "...") if m else None

    def restarts(j: int) -> bool:
        return all(j + k < len(keys) and keys[j + k] == key for k, key in enumerate(game.first))

    def is_copy(i: int) -> bool:
        """Movetext, not moves named in a sentence ("if Be6+ Kd8 Qxg7 then ..."): a run of four
        moves or more, or one that opens its line (after a label such as "Game:" at most)."""
        r = i
        while r > 0 and i - r < 4 and _LINE_GAP_RE.fullmatch(head, toks[r - 1].end, toks[r].start):
            r -= 1
        if i - r >= 3:
            return True
        prefix = head[head.rfind("\n", 0, toks[r].start) + 1 : toks[r].start]
        return not _RESIDUE_RE.sub("", prefix) or prefix.rstrip(" *_`").endswith(":")

    ends_any = ends_numbered = restarted = None
    for i, key in enumerate(keys):
        if key != k_last or not is_copy(i):
            continue
        if len(game.first) == 2 and restarts(i + 1):
            restarted = i
            continue
        white_at = i if game.last_white else i - 1
        num = number(white_at) if white_at >= 0 else None
        paired = i > 0 and keys[i - 1] == k_prev and _LINE_GAP_RE.fullmatch(head, toks[i - 1].end, toks[i].start)
        # The move number stands before White's move of the pair: "28. Kxf1" or "27... Rxf1+ 28. Kxf1".
        if num is not None and num == (game.last_number, ".") and (paired or game.last_white):
            ends_numbered = i
            break
        if paired and ends_any is None:
            ends_any = i
    end = ends_numbered if ends_numbered is not None else ends_any
    if end is None and (restarted is not None or (len(game.first) == 2 and restarts(0) and len(toks) > 4)):
        # The game written out (again) and cut off before its end: nothing was added to it.
        return len(head)
    if end is None:
        # No copy: an answer that goes straight on from the current move number.
        n = game.last_number + (1 if not game.last_white else 0)
        num = number(0)
        # Black to move: "17... Kh8"; White to move: "18. Rg7+".
        if num is not None and num == (n, "..." if game.last_white else "."):
            return Commitment(toks[0], head[toks[0].start : toks[0].end], Rule.CONTINUATION, _run(head, toks, 0))
        # Or without its own number, when the first number written in its line is the one the
        # next moves carry from the current position: "Nxd5 12. Bxd8 ..." with Black to move at 11.
        run = _run(head, toks, 0)
        for j in range(1, len(run)):
            num = number(j)
            if num is None:
                continue
            white = (j % 2 == 0) != game.last_white  # the side to move now is the other one
            if num == (n + (j + (1 if game.last_white else 0)) // 2, "." if white else "..."):
                return Commitment(toks[0], head[toks[0].start : toks[0].end], Rule.CONTINUATION, run)
            break
        return None
    nxt = end + 1
    if nxt < len(toks) and _LINE_GAP_RE.fullmatch(head, toks[end].end, toks[nxt].start):
        return Commitment(toks[nxt], head[toks[nxt].start : toks[nxt].end], Rule.CONTINUATION, _run(head, toks, nxt))
    return toks[end].end


def game_tail(board: chess.Board) -> GameTail | None:
    """The keys of a board's first and last moves, or None without history."""
    stack = board.move_stack
    if not stack:
        return None
    before = board.copy()
    last = [before.pop()]
    if len(stack) > 1:
        last.insert(0, before.pop())
    last_number, last_white = before.fullmove_number, before.turn == chess.WHITE
    last_keys, texts = [], []
    for move in last:
        texts.append(before.san(move).rstrip("+#"))
        last_keys.append(move_key(texts[-1]))
        before.push(move)
    root = board.root()
    first_keys = []
    for move in stack[:2]:
        first_keys.append(move_key(root.san(move)))
        root.push(move)
    if len(last) == 2:
        last_number, last_white = (last_number, False) if last_white else (last_number + 1, True)
    prev_text = texts[0] if len(texts) == 2 else ""
    return GameTail(tuple(first_keys), tuple(last_keys), last_number, last_white, texts[-1], prev_text)

def find_continuation(text: str, board: chess.Board) -> Commitment | int | None:
    """The first move written after a copy of the game of ``board`` (its move stack) in ``text``;
    or the offset where a copy ends that no move follows; or None (no history, no copy)."""
    game = game_tail(board)
    return None if game is None else _continuation(text, game)
