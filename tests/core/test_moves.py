"""parse_move: the committed move in realistic answers, every notation, never a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import chess
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chesseval.core.moves import MoveKind, ParsedMove, parse_move


def _after(*sans: str, fen: str = chess.STARTING_FEN) -> str:
    board = chess.Board(fen)
    for san in sans:
        board.push_san(san)
    return board.fen()


START = chess.STARTING_FEN
OPEN = _after("e4", "e5", "Nf3", "Nc6")  # white to move, Bb5/Bc4/d4 natural
TWO_KNIGHTS = _after("d4", "d5", "Nf3", "Nf6")  # Nd2 fits Nb1 and Nf3
FOOL = _after("f3", "e5", "g4")  # black mates with Qh4#
EP = _after("e4", "a6", "e5", "d5")  # exd6 en passant
CASTLE_W = "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"
CASTLE_B = "r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1"
PROMO = "3r4/4P3/8/8/8/8/k7/4K3 w - - 0 1"  # e8=Q, exd8=N, ...
BXC3_BOTH = "4k3/8/8/8/8/2n5/1P1B4/4K3 w - - 0 1"  # b-pawn and bishop both take c3
BXC3_BISHOP = "4k3/8/8/8/8/2n5/3B4/4K3 w - - 0 1"
BXC3_PAWN = "4k3/8/8/8/8/2n5/1P6/4K3 w - - 0 1"
CHECKED = "4k3/8/8/8/8/8/3PPq2/3QK1N1 w - - 0 1"  # white king in check from f2 queen

M, I, A, N = MoveKind.MOVE, MoveKind.ILLEGAL, MoveKind.AMBIGUOUS, MoveKind.NONE

# (position, answer, kind, expected UCI or None)
CASES: list[tuple[str, str, MoveKind, str | None]] = [
    # --- markers: the LAST one wins, decoys before it are ignored
    (OPEN, "Nxe5 looks tempting, but it fails.\n\nAnswer: Bb5", M, "f1b5"),
    (OPEN, "ANSWER: d4", M, "d2d4"),
    (OPEN, "Answer: Nxe5\n\nHmm, wait. That drops a piece.\n\nFinal answer: Bc4", M, "f1c4"),
    (OPEN, "Final Answer: The best move is **Bb5**, pinning nothing yet but pressuring c6.", M, "f1b5"),
    (OPEN, "Best move: d4", M, "d2d4"),
    (OPEN, "Move: Bc4", M, "f1c4"),
    (OPEN, "Let me think about Nxe5 and d3.\n[RESULT] Bb5", M, "f1b5"),
    (OPEN, "Considering d3 and Nc3, the answer is clear: $\\boxed{Bc4}$", M, "f1c4"),
    (OPEN, "$\\boxed{\\text{Bb5}}$", M, "f1b5"),
    (OPEN, "**Answer:**\n\nd4", M, "d2d4"),
    (OPEN, "**Answer:** `f1c4`", M, "f1c4"),
    (OPEN, "<answer>Bb5</answer>", M, "f1b5"),
    (OPEN, '{"move": "Nc3"}', M, "b1c3"),
    (OPEN, '```json\n{"reasoning": "d3 is solid but Bb5 pins more", "move": "Bb5"}\n```', M, "f1b5"),
    (OPEN, "The opponent's last move: Nc6\nMy move: d4", M, "d2d4"),
    (OPEN, "Answer: 3. Bb5", M, "f1b5"),
    (OPEN, "Answer: 3... Bb5", M, "f1b5"),  # a move number for the wrong side does not matter
    (PROMO, "I'd rather promote to a knight here.\nAnswer: e8=Q", M, "e7e8q"),
    # --- formatting without a marker: the last bold / code span
    (OPEN, "I looked at **d3**, which is slow. The critical try is **Bb5**. It keeps the tension", M, "f1b5"),
    (OPEN, "Options: `d3`, `Nc3`. Going with `Bc4` since it eyes f7", M, "f1c4"),
    # --- the last line that is nothing but a move
    (OPEN, "Nxe5 fails to Nxe5. Bc4 is natural. d4 opens the centre.\n\nBb5", M, "f1b5"),
    (OPEN, "Qg8# ... no, wait.\n\n3. d4", M, "d2d4"),
    (OPEN, "Many moves work.\n\n**Bc4!**", M, "f1c4"),
    # --- the committed move first, explanation after
    (OPEN, "f1b5\n\nThis pins nothing yet, but after a6 Ba4 b5 Bb3 the bishop stays active; Nxe5 would be worse.", M, "f1b5"),
    (OPEN, "d2d4\nBecause after exd4 Nxd4 White gets a fine centre, while d3 is passive.", M, "d2d4"),
    (OPEN, "Bb5 - the Ruy Lopez, pinning nothing yet.\n\nAfter a6 Ba4 Nf6 O-O the bishop stays; d4 comes later.", M, "f1b5"),
    (OPEN, "3. d4: the Scotch.\nIt opens the centre while Bc4 waits.", M, "d2d4"),
    # --- prose in the last line
    (OPEN, "After careful thought I play Bb5.", M, "f1b5"),
    (OPEN, "Black just played Nc6, so Bc4 is natural.", M, "f1c4"),
    (OPEN, "After Nxe5 Nxe5, d4 wins nothing, so I choose Bb5.", M, "f1b5"),
    (OPEN, "Qg8# ... no, Bg7# ... with fresh eyes: Bc4", M, "f1c4"),
    (OPEN, "White should castle? No, castling isn't possible yet (f1 bishop). So Bc4 first, then O-O.", M, "f1c4"),
    (OPEN, "I play Bb5", M, "f1b5"),
    (OPEN, "Answer: <move>\n\nI think Bb5 is best.", M, "f1b5"),  # the template echoed
    (OPEN, "Candidate move: Nxe5 (loses a piece)\nCandidate move: d3 (slow)\n\nI'll go with Bb5.", M, "f1b5"),
    (OPEN, "Black's move: Nc6 defended e5.\nMy choice: **Bb5**", M, "f1b5"),
    (OPEN, "I'll play Bc4.\n\nGood luck!", M, "f1c4"),
    (OPEN, "```\nBb5\n```", M, "f1b5"),
    (OPEN, "Bb5\n\n---", M, "f1b5"),
    (OPEN, "答案：Bb5", M, "f1b5"),
    (OPEN, "1. Bb5 a6 2. Ba4 Nf6 3. O-O", M, "f1b5"),  # a whole line: its first move
    (OPEN, "Bb5 (or Bc4) keeps an edge.", M, "f1b5"),
    # --- no commitment
    (OPEN, "The knight on c6 defends e5 and d4.", N, None),
    (OPEN, "Black's move: Nc6", N, None),
    (OPEN, "Black's last move was Nc6.", N, None),
    (OPEN, "Black's Nc6 defended e5.", N, None),
    (OPEN, "Candidates: Bb5, Bc4, d4 and Nc3.", N, None),
    (OPEN, "The knight on f3 and the pawn on e4 work together. Candidates: Bb5, Bc4. Let me check Bb5 first: after a6", N, None),

    (OPEN, "", N, None),
    (OPEN, "   \n\n  ", N, None),
    (OPEN, "I don't know.", N, None),
    (OPEN, "The opponent just played Nc6.", N, None),
    (
        OPEN,
        "Let me look at the position. White has played e4 and Nf3, Black answered e5 and Nc6. "
        "Candidate moves are Bb5, Bc4 and d4. If Bb5 then a6 and if Bc4 then Nf6 with Ng5 ideas, so the",
        N,
        None,
    ),
    (OPEN, "Let me consider Bb5. After a6 the bishop must decide whether to take on c6 or retreat to", N, None),
    # --- SAN variants
    (OPEN, "Bb5+", M, "f1b5"),
    (OPEN, "Bb5!?", M, "f1b5"),
    (OPEN, "Answer: \"Bb5\".", M, "f1b5"),
    (OPEN, "Answer: Nxe5", M, "f3e5"),
    (OPEN, "Answer: N×e5", M, "f3e5"),
    (OPEN, "Answer: N:e5", M, "f3e5"),
    (OPEN, "Answer: nxe5", M, "f3e5"),
    (OPEN, "Answer: Ng1", M, "f3g1"),
    (OPEN, "Answer: N-e5", M, "f3e5"),
    (OPEN, "Answer: ♗b5", M, "f1b5"),
    (OPEN, "Answer: ♝b5", M, "f1b5"),
    (OPEN, "Answer: ♗\ufe0fb5", M, "f1b5"),
    (OPEN, "Answer: ♙d4", M, "d2d4"),
    (OPEN, "Answer: Pd4", M, "d2d4"),
    (OPEN, "Answer: pd4", M, "d2d4"),
    (OPEN, "Answer: Knight takes e5", M, "f3e5"),
    (OPEN, "Answer: bishop to b5", M, "f1b5"),
    (OPEN, "Answer: Knight g5", M, "f3g5"),
    (START, "1. e4", M, "e2e4"),
    (START, "1.e4", M, "e2e4"),
    (START, "1.\u2009Nf3", M, "g1f3"),
    (FOOL, "2... Qh4#", M, "d8h4"),
    (FOOL, "2…Qh4#", M, "d8h4"),
    (FOOL, "Answer: Qh4‡", M, "d8h4"),
    (FOOL, "Answer: qh4", M, "d8h4"),
    (FOOL, "Answer: Qd8-h4#", M, "d8h4"),
    (FOOL, "Answer: d8h4", M, "d8h4"),
    (EP, "Answer: exd6 e.p.", M, "e5d6"),
    (EP, "Answer: exd6ep", M, "e5d6"),
    (EP, "Answer: exd6", M, "e5d6"),
    (EP, "Answer: e5xd6", M, "e5d6"),
    (CASTLE_W, "Answer: O-O", M, "e1g1"),
    (CASTLE_W, "Answer: 0-0", M, "e1g1"),
    (CASTLE_W, "Answer: o-o-o", M, "e1c1"),
    (CASTLE_W, "Answer: 0-0-0+", M, "e1c1"),
    (CASTLE_W, "Answer: O–O", M, "e1g1"),
    (CASTLE_W, "Answer: O-O!", M, "e1g1"),
    (CASTLE_W, "Answer: e1g1", M, "e1g1"),
    (CASTLE_W, "Answer: e1h1", M, "e1g1"),
    (CASTLE_W, "Answer: E1A1", M, "e1c1"),
    (CASTLE_W, "Answer: Ke1-g1", M, "e1g1"),
    (CASTLE_B, "Answer: ...O-O", M, "e8g8"),
    (CASTLE_B, "Answer: e8h8", M, "e8g8"),
    (CASTLE_W, "Answer: rh1h7", M, "h1h7"),
    (CASTLE_W, "Answer: Rh1h7", M, "h1h7"),
    (CASTLE_W, "Answer: Rh1xh8+", M, "h1h8"),
    (CASTLE_W, "Answer: Rxh8+", M, "h1h8"),
    (CASTLE_W, "Answer: Rh1-h8ch", M, "h1h8"),
    (PROMO, "Answer: e8=Q", M, "e7e8q"),
    (PROMO, "Answer: e8Q", M, "e7e8q"),
    (PROMO, "Answer: e8q", M, "e7e8q"),
    (PROMO, "Answer: e8(Q)", M, "e7e8q"),
    (PROMO, "Answer: e8/Q", M, "e7e8q"),
    (PROMO, "Answer: e7e8q", M, "e7e8q"),
    (PROMO, "Answer: e7e8Q", M, "e7e8q"),
    (PROMO, "Answer: e7-e8=N", M, "e7e8n"),
    (PROMO, "Answer: exd8=N+", M, "e7d8n"),
    (PROMO, "Answer: exd8Q+", M, "e7d8q"),
    (PROMO, "Answer: e7d8r", M, "e7d8r"),
    # --- b-pawn or bishop
    (BXC3_PAWN, "Answer: bxc3", M, "b2c3"),
    (BXC3_BISHOP, "Answer: bxc3", M, "d2c3"),
    (BXC3_BOTH, "Answer: bxc3", A, None),
    (BXC3_BOTH, "Answer: Bxc3", M, "d2c3"),
    (BXC3_BOTH, "Answer: b2xc3", M, "b2c3"),
    # --- ambiguous
    (TWO_KNIGHTS, "Answer: Nd2", A, None),
    (TWO_KNIGHTS, "Answer: Nbd2", M, "b1d2"),
    (TWO_KNIGHTS, "Answer: Nfd2", M, "f3d2"),
    (TWO_KNIGHTS, "Answer: Nf3d2", M, "f3d2"),
    (TWO_KNIGHTS, "Answer: N1d2", M, "b1d2"),
    # --- illegal: specific moves that cannot be played
    (START, "Answer: e5", I, None),  # the other side's move
    (START, "Answer: e7e5", I, None),
    (START, "Answer: Ke2", I, None),
    (START, "Answer: Nd2", I, None),
    (START, "Answer: e2e5", I, None),
    (START, "Answer: Bb1c3", I, None),  # the piece on b1 is a knight
    (START, "Answer: O-O", I, None),
    (START, "Answer: e4e5", I, None),
    (PROMO, "Answer: e8", I, None),  # promotion piece missing
    (PROMO, "Answer: e7e8", I, None),
    (CHECKED, "Answer: Nh3", I, None),  # ignores the check
    (CHECKED, "Answer: Kxf2", M, "e1f2"),
    (OPEN, "Answer: Nc6", I, None),  # repeats the opponent's last move
    # --- null moves are never moves
    (START, "Answer: --", I, None),
    (START, "Answer: 0000", I, None),
    (START, "Answer: Z0", I, None),
    (START, "@@@@", I, None),
]


@pytest.mark.parametrize(("fen", "answer", "kind", "uci"), CASES)
def test_realistic_answers(fen: str, answer: str, kind: MoveKind, uci: str | None) -> None:
    board = chess.Board(fen)
    before = board.fen()
    parsed = parse_move(answer, board)
    assert parsed.kind == kind, parsed
    assert board.fen() == before
    if kind == MoveKind.MOVE:
        assert parsed.move == chess.Move.from_uci(uci)
        assert parsed.move in board.legal_moves
    else:
        assert parsed.move is None
        assert parsed.detail


def test_illegal_detail_names_the_reason() -> None:
    assert "for Black" in parse_move("Answer: e5", chess.Board()).detail
    assert "promotion" in parse_move("Answer: e8", chess.Board(PROMO)).detail
    assert "check" in parse_move("Answer: Nh3", chess.Board(CHECKED)).detail
    assert "no piece on e3" in parse_move("Answer: e3e4", chess.Board()).detail
    assert "null" in parse_move("Answer: --", chess.Board()).detail
    parsed = parse_move("Answer: Nd2", chess.Board(TWO_KNIGHTS))
    assert parsed.text == "Nd2" and "knight" in parsed.detail


def test_text_and_notation_are_reported() -> None:
    board = chess.Board(OPEN)
    assert parse_move("Answer: **Bb5+!**", board).text == "Bb5+!"
    assert parse_move("Answer: Bb5", board).notation == "san"
    assert parse_move("Answer: f1b5", board).notation == "uci"
    assert parse_move("Answer: Bf1-b5", board).notation == "lan"


def test_lenient_readings_are_flagged() -> None:
    board = chess.Board(OPEN)
    assert not parse_move("Nxe5", board).lenient
    assert parse_move("nxe5", board).lenient
    assert parse_move("Pd4", board).lenient
    assert parse_move("knight takes e5", board).lenient
    assert parse_move("bxc3", chess.Board(BXC3_BISHOP)).lenient
    assert not parse_move("bxc3", chess.Board(BXC3_PAWN)).lenient


def test_claimed_mate_is_a_diagnostic_not_a_failure() -> None:
    mate = parse_move("Qh4#", chess.Board(FOOL))
    assert mate.kind == MoveKind.MOVE and not mate.claimed_mate
    fake = parse_move("Answer: Bb5#", chess.Board(OPEN))
    assert fake.kind == MoveKind.MOVE and fake.claimed_mate and "mate" in fake.detail


def test_cut_off_reasoning_says_why() -> None:
    parsed = parse_move("I will look at Bb5 first, then consider whether d4 is better because", chess.Board(OPEN))
    assert parsed.kind == MoveKind.NONE and "mid-sentence" in parsed.detail


# --- properties ------------------------------------------------------------------------------

FENS = [
    chess.STARTING_FEN,
    "r3k2r/pP3ppp/8/2pP4/8/8/P1p2PPP/R3K2R w KQkq c6 0 2",  # promotions (with capture), ep, castling
    "r3k2r/pP3ppp/8/8/2Pp4/8/P4PpP/R3K2R b KQkq c3 0 2",  # the same for Black
    "r3k2r/1P6/8/3pP3/8/8/6p1/R3K2R w KQkq d6 0 2",
    BXC3_BOTH,
    TWO_KNIGHTS,
]


@st.composite
def positions(draw: st.DrawFn) -> chess.Board:
    board = chess.Board(draw(st.sampled_from(FENS)))
    for _ in range(draw(st.integers(0, 30))):
        moves = list(board.legal_moves)
        if not moves:
            break
        board.push(moves[draw(st.integers(0, len(moves) - 1))])
    return board


def _bishop_reading_legal(board: chess.Board, san: str) -> bool:
    """The issue's rule: a lowercase b-pawn capture that a bishop could also play is ambiguous."""
    if not san.startswith("b") or len(san) < 3:
        return False
    try:
        board.parse_san("B" + san[1:].rstrip("+#"))
    except ValueError:
        return False
    return True


PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(positions())
def test_every_legal_move_in_every_notation_parses_back(board: chess.Board) -> None:
    fen = board.fen()
    for move in board.legal_moves:
        san, uci, lan = board.san(move), move.uci(), board.lan(move)
        for written in (san, uci, lan):
            for text in (written, f"After careful thought I play {written}.", f"Answer: {written}"):
                parsed = parse_move(text, board)
                if written == san and _bishop_reading_legal(board, san):
                    assert parsed.kind == MoveKind.AMBIGUOUS, (fen, text, parsed)
                    continue
                assert parsed.kind == MoveKind.MOVE and parsed.move == move, (fen, text, parsed)
    assert board.fen() == fen


@PROPERTY
@given(positions(), st.data())
def test_decoys_before_the_answer_do_not_win(board: chess.Board, data: st.DataObject) -> None:
    moves = list(board.legal_moves)
    if len(moves) < 2:
        return
    decoy, move = data.draw(st.permutations(moves))[:2]
    text = f"First I considered {board.san(decoy)}, but it fails.\n\nAnswer: {move.uci()}"
    assert parse_move(text, board).move == move


MOVEISH = st.lists(
    st.sampled_from(list("abcdefgh12345678KQRBNPkqrbnpxX=+#!?-Oo0.:…() \n*`\"'{}\\/♔♞♙\ufe0f–×@Z")
                    + ["Answer:", "**", "\\boxed{", "e.p.", "O-O", "<answer>", '"move": ', "0000", "--"]),
    max_size=40,
).map("".join)


def _check_invariants(parsed: ParsedMove, board: chess.Board) -> None:
    assert isinstance(parsed, ParsedMove)
    assert not (parsed.detail or "").startswith("parser error"), parsed
    if parsed.kind == MoveKind.MOVE:
        assert parsed.move is not None and parsed.move in board.legal_moves
    else:
        assert parsed.move is None


@PROPERTY
@given(st.one_of(st.text(max_size=300), MOVEISH), positions())
def test_arbitrary_text_never_raises(text: str, board: chess.Board) -> None:
    fen = board.fen()
    _check_invariants(parse_move(text, board), board)
    assert board.fen() == fen


def test_non_string_input_is_no_move() -> None:
    assert parse_move(None, chess.Board()).kind == MoveKind.NONE  # type: ignore[arg-type]


# --- the built-in oracle, end to end on real puzzles -----------------------------------------


class _Pick:
    """Stands in for the oracle's random generator to choose each answer shape in turn."""

    def __init__(self, *indices: int) -> None:
        self.indices = list(indices)

    def choice(self, seq):  # type: ignore[no-untyped-def]
        return seq[self.indices.pop(0) % len(seq)]


def test_every_oracle_notation_parses_back(lichess_sample: Path) -> None:
    from chesseval.core.players import Turn
    from chesseval.providers.builtin import OraclePlayer, _notations, _wrap
    from chesseval.core.puzzles import load_puzzles

    puzzles = load_puzzles(lichess_sample, limit=2000)
    assert len(puzzles) == 2000
    turns: list[tuple[str, chess.Board, chess.Move, Turn]] = []
    for puzzle in puzzles:
        board = puzzle.board()
        for ply, uci in enumerate(puzzle.line):
            move = board.parse_uci(uci)
            if ply % 2 == 0:
                turn = Turn(messages=(), board=board.copy(stack=1), puzzle=puzzle, index=ply // 2)
                turns.append((puzzle.id, turn.board, move, turn))
            board.push(move)

    oracle = OraclePlayer(seed=0)

    async def replies() -> list[str]:
        # The player as the runner calls it, on every 4th turn (the loop below covers the rest).
        return [(await oracle.play(turn)).text if k % 4 == 0 else "" for k, (*_, turn) in enumerate(turns)]

    checked, misread = 0, []
    for (puzzle_id, board, move, turn), reply in zip(turns, asyncio.run(replies()), strict=True):
        # Every notation the oracle can write, each put in a different answer shape in turn
        # (decoy first, the opponent's last move quoted).
        texts = [reply] if reply else []
        prev = board.copy(stack=1)
        prev.pop()
        last_san = prev.san(board.peek())
        decoy = next((board.san(m) for m in board.legal_moves if m != move), None)
        for j, form in enumerate(_notations(board, move)):
            pick = _Pick(j, j + turn.index) if decoy else _Pick(j + turn.index)
            texts.append(_wrap(pick, board, form, decoy, last_san))
        for text in texts:
            parsed = parse_move(text, board)
            checked += 1
            if parsed.kind != MoveKind.MOVE or parsed.move != move:
                misread.append((puzzle_id, text, parsed))
    assert checked > 40_000
    assert misread == []
