"""Inspect AI eval logs (``.eval`` and ``.json``), read without needing ``inspect_ai`` installed.

A ``.json`` log is one ``EvalLog`` object (``eval`` with ``task`` and ``model``, ``samples``).
A ``.eval`` log is a zip archive with ``header.json`` (the same ``eval``) and one
``samples/<id>_epoch_<n>.json`` per sample; Inspect compresses its members with zstd, which the
standard library's ``zipfile`` cannot read, so members are read from the archive directly.

What each sample must carry, in ``metadata``: ``fen`` — the position the model was asked about —
and the solution as either ``expected_line`` (UCI from ``fen``, a list or a space-separated
string) or ``moves`` in the Lichess layout (``fen`` is then before the opponent's setup move
``moves[0]`` unless ``has_setup_move`` is false); without either, the sample ``target`` (a UCI
move or list) is the solution from ``fen``. Optional: ``puzzle_id`` (else the sample id),
``rating``, ``rating_deviation``, ``themes``, ``whole_line`` (true when the prompt asked for the
whole solution in one reply). The answer is ``output.completion``; each scorer's ``value`` and
``answer`` are kept as the source's grading.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chess

from chesseval.core.players import StopReason, Usage
from chesseval.importers.judging import ForeignAnswer, ImportFormatError, JudgingMode

__all__ = ["read_inspect_log", "read_eval_archive"]

_ZSTD = 93
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")
_STOP_REASONS = {"max_tokens": StopReason.MAX_TOKENS, "model_length": StopReason.MAX_TOKENS,
                 "content_filter": StopReason.CONTENT_FILTER, "stop": StopReason.STOP}  # fmt: skip


def _member(fh: Any, info: zipfile.ZipInfo) -> bytes:
    fh.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
    if fields[0] != b"PK\x03\x04":
        raise ValueError(f"bad local header for {info.filename!r}")
    fh.seek(fields[-2] + fields[-1], os.SEEK_CUR)  # file name and extra field
    raw = fh.read(info.compress_size)
    if info.compress_type == zipfile.ZIP_STORED:
        return raw
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-15).decompress(raw)
    if info.compress_type == _ZSTD:
        import zstandard

        return zstandard.ZstdDecompressor().decompress(raw, max_output_size=info.file_size)
    raise ValueError(f"member {info.filename!r} uses zip compression method {info.compress_type!r}")


def read_eval_archive(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A ``.eval`` archive as the ``.json`` log shape: ``{"eval": ..., "samples": [...]}``."""
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
            infos = {i.filename: i for i in zf.infolist()}
            if "header.json" not in infos:
                raise ImportFormatError(name, None, "not an Inspect .eval log (no header.json in the archive)")
            header = json.loads(_member(fh, infos["header.json"]))
            samples = [json.loads(_member(fh, infos[n])) for n in sorted(infos) if n.startswith("samples/") and n.endswith(".json")]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        if isinstance(exc, ImportFormatError):
            raise
        raise ImportFormatError(name, None, f"unreadable .eval archive ({exc})") from exc
    return {**header, "samples": samples}


def _short(value: Any, n: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _uci_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _grading(scores: Any) -> dict[str, Any] | None:
    if not isinstance(scores, dict) or not scores:
        return None
    name, score = next(iter(scores.items()))
    if not isinstance(score, dict):
        return None
    value = score.get("value")
    out: dict[str, Any] = {"scorer": name, "score": value}
    if value in ("C", "I"):
        out["correct"] = value == "C"
    elif isinstance(value, bool):
        out["correct"] = value
    elif isinstance(value, (int, float)) and value in (0, 1):
        out["correct"] = bool(value)
    if score.get("answer") is not None:
        out["extracted_answer"] = str(score["answer"])
    return out


def _solution(meta: dict[str, Any], target: Any, path: str, where: str) -> tuple[str, tuple[str, ...]]:
    """(the position asked about, the solution line from it in UCI)."""
    fen = meta.get("fen")
    if not isinstance(fen, str):
        raise ImportFormatError(path, where, f"sample metadata has no 'fen' string: {_short(fen)}")
    try:
        chess.Board(fen)
    except ValueError:
        raise ImportFormatError(path, where, f"invalid FEN {_short(fen)}") from None
    if meta.get("moves"):
        moves = _uci_list(meta["moves"])
        if bool(meta.get("has_setup_move", True)):
            # Lichess layout: fen is before the opponent's setup move moves[0].
            board = chess.Board(fen)
            try:
                board.push(board.parse_uci(moves[0]))
            except ValueError:
                raise ImportFormatError(path, where, f"setup move {_short(moves[0])} is not legal in {fen!r}") from None
            fen, line = board.fen(), moves[1:]
        else:
            line = moves
    else:
        line = _uci_list(meta.get("expected_line")) or _uci_list(target)
    if not line:
        raise ImportFormatError(path, where, "no solution: give metadata 'expected_line' or 'moves', or a UCI target")
    board = chess.Board(fen)
    normal = []
    for uci in line:
        try:
            move = board.parse_uci(uci)
        except ValueError:
            raise ImportFormatError(path, where, f"solution move {_short(uci)} is not legal in {board.fen()!r}") from None
        normal.append(move.uci())
        board.push(move)
    return fen, tuple(normal)


def read_inspect_log(path: str | os.PathLike[str]) -> Iterator[ForeignAnswer]:
    """The answers of an Inspect log, checked sample by sample (raises :class:`ImportFormatError`)."""
    name = str(path)
    p = Path(path)
    if p.suffix == ".eval":
        log = read_eval_archive(p)
    else:
        try:
            log = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ImportFormatError(name, None, f"not an Inspect JSON log ({exc})") from exc
    if not isinstance(log, dict) or not isinstance(log.get("eval"), dict):
        raise ImportFormatError(name, None, "not an Inspect log (no 'eval' object)")
    spec = log["eval"]
    task = str(spec.get("task") or "inspect-task")
    model = str(spec.get("model") or "unknown-model")
    for sample in log.get("samples") or []:
        sid = str(sample.get("id"))
        where = sid if int(sample.get("epoch") or 1) == 1 else f"{sid}#epoch{sample.get('epoch')}"
        meta = sample.get("metadata") or {}
        fen, line = _solution(meta, sample.get("target"), name, where)
        output = sample.get("output") or {}
        text = output.get("completion")
        choices = output.get("choices") or []
        stop = _STOP_REASONS.get(str(choices[0].get("stop_reason")), StopReason.UNKNOWN) if choices else StopReason.UNKNOWN
        if not isinstance(text, str):
            text = ""
        usage = output.get("usage") or {}
        whole = bool(meta.get("whole_line"))
        mode = JudgingMode.LINE if whole else JudgingMode.SINGLE
        why = ("the sample's metadata says the prompt asked for the whole line: solver moves judged one by one" if whole else
               "one reply per sample: judged on the solution's first move" + (" (the rest of the line was never asked)" if len(line) > 1 else ""))  # fmt: skip
        rating = meta.get("rating")
        grading = _grading(sample.get("scores"))
        if grading and grading.get("extracted_answer") is not None:
            from chesseval.importers.agreement import harness_move_uci

            # A scorer that extracted a move (not just echoed the answer) is compared move for move.
            if harness_move_uci(grading["extracted_answer"], fen) is not None:
                grading["extracted_move"] = grading["extracted_answer"]
        messages = list(sample.get("messages") or [])
        if messages and messages[-1].get("role") == "assistant":
            messages = messages[:-1]  # the answer itself is kept once, as the turn's answer
        yield ForeignAnswer(
            where=where,
            source=f"inspect:{task}",
            source_file=name,
            model=model,
            style=f"inspect task {task}",
            fen=fen,
            text=text,
            expected_line=line,
            puzzle_id=str(meta.get("puzzle_id") or sid),
            rating=int(rating) if isinstance(rating, (int, float)) else None,
            rating_deviation=int(meta["rating_deviation"]) if isinstance(meta.get("rating_deviation"), (int, float)) else None,
            themes=tuple(_uci_list(meta.get("themes"))),
            mode=mode,
            mode_why=why,
            source_grading=grading,
            stop_reason=stop,
            usage=Usage(usage.get("input_tokens"), usage.get("output_tokens"), usage.get("reasoning_tokens") or None),
            messages=tuple({"role": str(m.get("role")), "content": m["content"] if isinstance(m.get("content"), str) else json.dumps(m.get("content"))}
                           for m in messages),  # fmt: skip
        )
