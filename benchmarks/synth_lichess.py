"""A synthetic Lichess-format puzzle database for benchmarks (not real puzzles, valid chess).

Rows have the real column set and realistic field sizes and distributions (about 180 bytes a
row, ratings around 1500 with a long tail, most RDs near 75, opening tags on about a quarter of
the rows). Every FEN and move line is legal, taken from a pool of random-play positions, so a
build that validates its selection sees only good rows. Generated once into a cache directory.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import chess
import numpy as np
import zstandard

HEADER = b"PuzzleId,FEN,Moves,Rating,RatingDeviation,Popularity,NbPlays,Themes,GameUrl,OpeningTags\n"
ALPHABET = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)

GOALS = ["crushing", "advantage", "equality", "mate mateIn1", "mate mateIn2", "mate mateIn3", "mate mateIn4"]
LENGTHS = ["oneMove", "short", "long", "veryLong"]
PHASES = ["opening", "middlegame", "endgame"]
MOTIFS = [
    "advancedPawn", "attackingF2F7", "attraction", "capturingDefender", "clearance", "defensiveMove",
    "deflection", "discoveredAttack", "doubleCheck", "exposedKing", "fork", "hangingPiece",
    "interference", "intermezzo", "kingsideAttack", "queensideAttack", "pin", "quietMove",
    "sacrifice", "skewer", "trappedPiece", "xRayAttack", "zugzwang", "backRankMate", "promotion",
    "rookEndgame", "pawnEndgame", "master", "smotheredMate", "enPassant",
]
OPENINGS = [
    "Sicilian_Defense", "French_Defense", "Caro-Kann_Defense", "Italian_Game", "Ruy_Lopez",
    "Queens_Gambit_Declined", "Kings_Indian_Defense", "Scandinavian_Defense", "English_Opening",
    "Scotch_Game", "Philidor_Defense", "Pirc_Defense", "Queens_Pawn_Game", "Vienna_Game",
]
VARIATIONS = ["Main_Line", "Other_variations", "Exchange_Variation", "Classical_Variation", "Advance_Variation", "Najdorf_Variation"]


def _position_pool(n: int, rng: random.Random) -> list[tuple[bytes, bytes]]:
    """(FEN, Moves) pairs by random play: the FEN, then 2-8 legal moves from it."""
    pool: list[tuple[bytes, bytes]] = []
    while len(pool) < n:
        board = chess.Board()
        for _ in range(rng.randint(8, 70)):
            legal = list(board.legal_moves)
            if not legal:
                break
            board.push(rng.choice(legal))
        if board.is_game_over():
            continue
        fen = board.fen()
        line = []
        for _ in range(rng.choice([2, 2, 4, 4, 4, 6, 6, 8])):
            legal = list(board.legal_moves)
            if not legal:
                break
            move = rng.choice(legal)
            line.append(move.uci())
            board.push(move)
        if len(line) >= 2:
            pool.append((fen.encode(), " ".join(line).encode()))
    return pool


def _theme_pool(n: int, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(n):
        themes = set(rng.choice(GOALS).split()) | {rng.choice(LENGTHS), rng.choice(PHASES)}
        themes |= set(rng.sample(MOTIFS, rng.randint(0, 3)))
        out.append(" ".join(sorted(themes)).encode())
    return out


def _opening_pool(n: int, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(n):
        family = rng.choice(OPENINGS)
        out.append(f"{family} {family}_{rng.choice(VARIATIONS)}".encode())
    return out


def _random_strings(rng: np.random.Generator, n: int, width: int) -> list[bytes]:
    codes = ALPHABET[rng.integers(0, len(ALPHABET), size=(n, width))]
    return codes.view(f"S{width}").ravel().tolist()


def _ids(start: int, n: int, total: int) -> list[bytes]:
    """Sorted, unique 5-character base-62 ids spread over the id space, like the real file."""
    step = 62**5 // total
    values = (np.arange(start, start + n, dtype=np.int64) * step)
    digits = np.empty((n, 5), dtype=np.uint8)
    for i in range(4, -1, -1):
        digits[:, i] = ALPHABET[values % 62]
        values //= 62
    return digits.view("S5").ravel().tolist()


def generate(path: Path, rows: int, seed: int = 0, chunk: int = 200_000) -> None:
    """Write ``rows`` synthetic puzzles to ``path`` (.csv.zst), atomically."""
    rnd = random.Random(seed)
    rng = np.random.default_rng(seed)
    positions = _position_pool(2000, rnd)
    themes = _theme_pool(5000, rnd)
    openings = _opening_pool(400, rnd)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    cctx = zstandard.ZstdCompressor(level=3, threads=2)
    with open(tmp, "wb") as raw, cctx.stream_writer(raw, closefd=False) as out:
        out.write(HEADER)
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = _ids(start, n, rows)
            pos = rng.integers(0, len(positions), size=n).tolist()
            rating = np.clip(rng.normal(1500, 480, size=n), 399, 3300).astype(int).tolist()
            rd = np.where(rng.random(n) < 0.06, rng.integers(90, 501, size=n), 73 + rng.exponential(6, size=n)).astype(int).tolist()
            popularity = np.clip(100 - rng.exponential(14, size=n), -100, 100).astype(int).tolist()
            plays = np.maximum(rng.lognormal(6.0, 1.9, size=n), 1).astype(int).tolist()
            theme = rng.integers(0, len(themes), size=n).tolist()
            games = _random_strings(rng, n, 8)
            black = (rng.random(n) < 0.5).tolist()
            ply = rng.integers(10, 120, size=n).tolist()
            has_opening = (rng.random(n) < 0.23).tolist()
            opening = rng.integers(0, len(openings), size=n).tolist()
            lines = []
            for i in range(n):
                fen, moves = positions[pos[i]]
                lines.append(
                    b"%s,%s,%s,%d,%d,%d,%d,%s,https://lichess.org/%s%s#%d,%s\n"
                    % (
                        ids[i], fen, moves, rating[i], rd[i], popularity[i], plays[i], themes[theme[i]],
                        games[i], b"/black" if black[i] else b"", ply[i],
                        openings[opening[i]] if has_opening[i] else b"",
                    )
                )
            out.write(b"".join(lines))
    os.replace(tmp, path)


def cached_database(rows: int = 5_800_000, seed: int = 0, cache_dir: Path | None = None) -> Path:
    """The synthetic database, generated on first use into ``$XDG_CACHE_HOME/chesseval-bench``."""
    base = cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chesseval-bench"
    path = base / f"lichess_synth_{rows}_s{seed}.csv.zst"
    if not path.exists():
        t0 = time.perf_counter()
        print(f"generating {rows:,} synthetic rows into {path} ...", flush=True)
        generate(path, rows, seed)
        print(f"  generated in {time.perf_counter() - t0:.1f}s, {path.stat().st_size / 1e6:.0f} MB compressed", flush=True)
    return path


if __name__ == "__main__":
    import sys

    cached_database(int(sys.argv[1]) if len(sys.argv) > 1 else 5_800_000)
