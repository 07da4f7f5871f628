"""chesseval.lichessdb.build: stratified, seeded suites from a Lichess-format database.

Selections are checked against an independent oracle: csv.DictReader, plain Python filters and
``sorted(sha256(seed:id))`` per band, with none of the builder's vectorised code.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from chesseval import cli
from chesseval.core.puzzles import load_puzzles
from chesseval.core.suites import file_sha256, resolve_suite
from chesseval.errors import ConfigError, PuzzleFormatError
from chesseval.lichessdb.build import BuildSpec, build_suite, select_puzzles


def oracle(path: Path, spec: BuildSpec, keep: Callable[[dict[str, str]], bool] = lambda r: True) -> tuple[list[str], dict[str, int]]:
    """(selected ids in file order, available per band label) by the definition, slowly."""
    bands: dict[int, list[tuple[bytes, str]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            try:
                rating, plays, rd, pop = (int(float(r[c])) for c in ("Rating", "NbPlays", "RatingDeviation", "Popularity"))
            except ValueError:
                continue
            themes, openings = set(r["Themes"].split()), set(r["OpeningTags"].split())
            solver_moves = len(r["Moves"].split()) // 2
            if spec.min_plays is not None and plays < spec.min_plays:
                continue
            if spec.max_rating_deviation is not None and rd > spec.max_rating_deviation:
                continue
            if spec.min_popularity is not None and pop < spec.min_popularity:
                continue
            if (spec.min_rating is not None and rating < spec.min_rating) or (spec.max_rating is not None and rating > spec.max_rating):
                continue
            if (spec.min_moves is not None and solver_moves < spec.min_moves) or (spec.max_moves is not None and solver_moves > spec.max_moves):
                continue
            if not set(spec.themes) <= themes or set(spec.exclude_themes) & themes:
                continue
            if spec.openings and not set(spec.openings) & openings:
                continue
            if not keep(r):
                continue
            key = hashlib.sha256(f"{spec.seed}:{r['PuzzleId']}".encode()).digest()
            bands.setdefault(rating // spec.band_width, []).append((key, r["PuzzleId"]))
    chosen = sorted(x for b in bands.values() for x in sorted(b)[: spec.per_band])
    lo = lambda b: b * spec.band_width  # noqa: E731
    return [pid for _, pid in chosen], {f"{lo(b)}-{lo(b) + spec.band_width - 1}": len(v) for b, v in bands.items()}


@pytest.fixture
def small_db(lichess_sample: Path, tmp_path: Path) -> Path:
    """Every sixth row of the shared sample (about 3,500 puzzles): quick to build from."""
    out = tmp_path / "small.csv"
    lines = lichess_sample.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join([lines[0]] + lines[1::6]), encoding="utf-8")
    return out


def _spec(source: Path, **kw: Any) -> BuildSpec:
    return BuildSpec(source=str(source), name=kw.pop("name", "t"), **kw)


def test_same_file_twice_gives_byte_identical_suite(small_db: Path, tmp_path: Path) -> None:
    spec = _spec(small_db, per_band=20, seed="s1")
    a = build_suite(spec, tmp_path / "a", jobs=1).suite
    first = (a.path.read_bytes(), a.manifest.read_bytes())  # type: ignore[union-attr]
    build_suite(spec, tmp_path / "a", jobs=1)
    assert (a.path.read_bytes(), a.manifest.read_bytes()) == first  # type: ignore[union-attr]
    # Worker processes and block size change the speed only, never a byte of the result.
    b = build_suite(spec, tmp_path / "b", jobs=2, block_bytes=50_000).suite
    assert (b.path.read_bytes(), b.manifest.read_bytes()) == first  # type: ignore[union-attr]
    # The manifest remembers its source, so a cache of suites is never reused for another file.
    assert resolve_suite(a.path).is_built_from(small_db) is True
    other = tmp_path / "other.csv"
    other.write_bytes(small_db.read_bytes()[:-200])
    assert resolve_suite(a.path).is_built_from(other) is False
    assert resolve_suite("starter").is_built_from(small_db) is None  # not cut from a Lichess file


def test_different_seed_changes_selection_not_band_counts(small_db: Path, tmp_path: Path) -> None:
    one = build_suite(_spec(small_db, per_band=20, seed="1"), tmp_path / "1", jobs=1)
    two = build_suite(_spec(small_db, per_band=20, seed="2"), tmp_path / "2", jobs=1)
    ids1, ids2 = {p.id for p in one.selection.puzzles}, {p.id for p in two.selection.puzzles}
    assert ids1 != ids2
    assert [(b.label, b.selected) for b in one.selection.bands] == [(b.label, b.selected) for b in two.selection.bands]
    assert one.suite.histogram == two.suite.histogram
    # Bands with no more candidates than asked for hold the same puzzles whatever the seed.
    for b1 in one.selection.bands:
        if b1.available <= 20:
            assert not b1.enough or b1.available == 20


def test_sample_50_per_band_has_exact_counts_and_names_short_bands(lichess_sample: Path, tmp_path: Path) -> None:
    spec = _spec(lichess_sample, name="sample50", per_band=50, seed="2026")
    result = build_suite(spec, tmp_path, jobs=2)
    expected_ids, available = oracle(lichess_sample, spec)
    assert [p.id for p in result.selection.puzzles] == expected_ids

    bands = {b.label: b for b in result.selection.bands}
    assert {k: v for k, v in available.items()} == {k: b.available for k, b in bands.items() if b.available}
    for label, band in bands.items():
        assert band.selected == min(50, band.available), label
        assert band.enough == (band.available >= 50)
    short = [b.label for b in result.short_bands]
    assert short and all(available.get(label, 0) < 50 for label in short)
    assert any(b.enough for b in bands.values())

    manifest = json.loads(result.suite.manifest.read_text())  # type: ignore[union-attr]
    build = manifest["build"]
    assert build["short_bands"] == short
    assert {b["band"]: b["selected"] for b in build["bands"]} == {k: b.selected for k, b in bands.items()}
    assert build["source"]["sha256"] == file_sha256(lichess_sample)
    assert build["source"]["rows"] == 20857
    assert build["seed"] == "2026" and build["filters"]["per_band"] == 50
    assert manifest["command"].startswith("chesseval suite build ") and "--seed 2026" in manifest["command"]
    assert manifest["count"] == len(expected_ids) == sum(manifest["rating_histogram"].values())
    assert manifest["sha256"] == file_sha256(result.suite.path)
    # The suite is an ordinary suite: it resolves and loads.
    assert [p.id for p in load_puzzles(resolve_suite(result.suite.manifest).path)] == expected_ids  # type: ignore[arg-type]


def test_selection_filters_match_the_oracle(small_db: Path) -> None:
    spec = _spec(small_db, per_band=15, seed="x", min_rating=1000, max_rating=2199, min_plays=500,
                 max_rating_deviation=80, min_popularity=80, themes=("middlegame",), exclude_themes=("mateIn1",),
                 min_moves=2, max_moves=3)
    sel = select_puzzles(spec, jobs=1)
    expected, available = oracle(small_db, spec)
    assert [p.id for p in sel.puzzles] == expected and expected
    assert [b.label for b in sel.bands] == ["1000-1199", "1200-1399", "1400-1599", "1600-1799", "1800-1999", "2000-2199"]
    for p in sel.puzzles:
        assert "middlegame" in p.themes and "mateIn1" not in p.themes and 2 <= p.n_solver_moves <= 3
        assert 1000 <= p.rating <= 2199 and p.nb_plays >= 500 and p.rating_deviation <= 80 and p.popularity >= 80  # type: ignore[operator]


def test_opening_filter(small_db: Path) -> None:
    spec = _spec(small_db, per_band=10, openings=("Sicilian_Defense", "French_Defense"), min_plays=None,
                 max_rating_deviation=None, min_popularity=None)
    sel = select_puzzles(spec, jobs=1)
    expected, _ = oracle(small_db, spec)
    assert [p.id for p in sel.puzzles] == expected and expected
    assert all({"Sicilian_Defense", "French_Defense"} & set(p.opening_tags) for p in sel.puzzles)


def test_zst_source_gives_the_same_selection(small_db: Path, tmp_path: Path) -> None:
    zst = tmp_path / "small.csv.zst"
    zst.write_bytes(zstandard.ZstdCompressor(level=3).compress(small_db.read_bytes()))
    a = select_puzzles(_spec(small_db, per_band=10), jobs=1)
    b = select_puzzles(_spec(zst, per_band=10), jobs=2, block_bytes=30_000)
    assert a.puzzles == b.puzzles and a.bands == b.bands
    assert b.source_sha256 == hashlib.sha256(zst.read_bytes()).hexdigest() != a.source_sha256


def test_odd_rows_take_the_slow_path_with_the_same_result(small_db: Path, tmp_path: Path) -> None:
    """Quoted fields, floats in NbPlays, CRLF, blank lines, no final newline: same selection."""
    rows = list(csv.reader(small_db.open(newline="", encoding="utf-8")))
    odd = tmp_path / "odd.csv"
    with open(odd, "w", newline="", encoding="utf-8") as fh:
        plain, quoted = csv.writer(fh, lineterminator="\r\n"), csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
        for i, row in enumerate(rows):
            if i and i % 11 == 0:
                row = row[:6] + [row[6] + ".0"] + row[7:]
            (quoted if i and i % 7 == 0 else plain).writerow(row)
            if i % 500 == 0:
                fh.write("\r\n")
    odd.write_bytes(odd.read_bytes().rstrip(b"\r\n"))
    spec = dict(per_band=10, seed="odd", min_moves=2)
    a = select_puzzles(_spec(small_db, **spec), jobs=1)
    b = select_puzzles(_spec(odd, **spec), jobs=1, block_bytes=20_000)
    assert [p.id for p in a.puzzles] == [p.id for p in b.puzzles]
    assert a.bands == b.bands and a.rows == b.rows and b.bad_rows == 0


def test_invalid_rows_are_never_selected_and_are_reported(small_db: Path, tmp_path: Path) -> None:
    """Break the moves of most rows in one band (more than the kept margin) and a Rating."""
    lines = small_db.read_text(encoding="utf-8").splitlines(keepends=True)
    broken_ids: set[str] = set()
    out = [lines[0]]
    for n, line in enumerate(lines[1:], start=2):
        f = line.rstrip("\n").split(",")
        if 1200 <= int(f[3]) < 1400 and n % 5:
            f[2] = "a1a1 " + f[2]  # an illegal first move
            broken_ids.add(f[0])
        if n == 40:
            f[3] = "12x4"
        out.append(",".join(f) + "\n")
    bad_db = tmp_path / "bad.csv"
    bad_db.write_text("".join(out), encoding="utf-8")
    spec = _spec(bad_db, per_band=40, min_plays=None, max_rating_deviation=None, min_popularity=None)
    one = select_puzzles(spec, jobs=1)
    two = select_puzzles(spec, jobs=2, block_bytes=20_000)
    assert one == dataclasses_replace_rss(two, one)
    assert not broken_ids & {p.id for p in one.puzzles}
    band = next(b for b in one.bands if b.label == "1200-1399")
    assert [p.id for p in one.puzzles] == oracle(bad_db, spec, keep=lambda r: r["PuzzleId"] not in broken_ids)[0]
    assert band.selected < band.available and band.rejected > 0
    assert one.rejected_examples[0].startswith(f"{bad_db}:") and "'a1a1' (move 1) in Moves" in one.rejected_examples[0]
    assert one.bad_rows == 1 and one.bad_examples == [f"{bad_db}:40: puzzle {out[39].split(',')[0]!r}: Rating '12x4' is not a number"]


def dataclasses_replace_rss(sel: Any, like: Any) -> Any:
    import dataclasses

    return dataclasses.replace(sel, worker_peak_rss_kb=like.worker_peak_rss_kb)


def test_bad_configuration_is_reported_before_reading(small_db: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="per_band must be at least 1, got 0"):
        select_puzzles(_spec(small_db, per_band=0))
    with pytest.raises(ConfigError, match="min rating 2000 is above max rating 1000"):
        select_puzzles(_spec(small_db, min_rating=2000, max_rating=1000))
    with pytest.raises(ConfigError, match="not found"):
        select_puzzles(_spec(tmp_path / "missing.csv.zst"))
    old = tmp_path / "old.csv"  # a 9-column dump without OpeningTags
    old.write_text("".join(row.rsplit(",", 1)[0] + "\n" for row in small_db.read_text().splitlines()))
    with pytest.raises(ConfigError, match="OpeningTags"):
        select_puzzles(_spec(old, openings=("Sicilian_Defense",)), jobs=2)
    assert select_puzzles(_spec(old, per_band=5), jobs=2).puzzles
    junk = tmp_path / "junk.csv.zst"
    junk.write_bytes(b"not zstd at all" * 10)
    with pytest.raises(PuzzleFormatError, match="junk.csv.zst: cannot decompress"):
        select_puzzles(_spec(junk))
    whole = zstandard.ZstdCompressor(level=3).compress(small_db.read_bytes())
    cut = tmp_path / "cut.csv.zst"  # an interrupted download must not pass for a smaller database
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(PuzzleFormatError, match="cut.csv.zst: truncated .zst file"):
        select_puzzles(_spec(cut), jobs=2)


def test_cli_suite_build_list_show(small_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "suites"
    argv = ["suite", "build", str(small_db), "--name", "cli10", "--out-dir", str(out_dir), "--per-band", "10",
            "--seed", "abc", "--theme", "endgame", "--max-rd", "none", "--no-progress", "--jobs", "1"]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "cli10.csv" in text and "SHORT" in text
    manifest = json.loads((out_dir / "cli10.json").read_text())
    assert manifest["command"] == (
        f"chesseval suite build {small_db} --name cli10 --seed abc --per-band 10 --band-width 200 "
        "--min-plays 100 --max-rd none --min-popularity 0 --theme endgame --suite-version 1"
    )
    assert manifest["build"]["filters"]["max_rating_deviation"] is None
    # The recorded command rebuilds the same bytes.
    before = (out_dir / "cli10.csv").read_bytes()
    import shlex

    assert cli.main(shlex.split(manifest["command"])[1:] + ["--out-dir", str(out_dir), "--no-progress"]) == 0
    assert (out_dir / "cli10.csv").read_bytes() == before
    capsys.readouterr()

    monkeypatch.setenv("CHESSEVAL_SUITES_DIR", str(out_dir))
    assert cli.main(["suite", "list"]) == 0
    assert "cli10" in capsys.readouterr().out
    assert cli.main(["suite", "show", "cli10"]) == 0
    assert json.loads(capsys.readouterr().out)["build"]["seed"] == "abc"


def test_cli_build_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["suite", "build", str(tmp_path / "nope.csv.zst"), "--name", "x", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("chesseval: error: puzzle database") and "\n" not in err


def test_zstd_reader_reads_every_frame_and_rejects_a_cut_one() -> None:
    """pzstd (which makes the Lichess file) writes many frames, some of them skippable."""
    import io
    import struct

    from chesseval.core.zstream import ZstdFramesReader

    c = zstandard.ZstdCompressor(level=3)
    skippable = struct.pack("<II", 0x184D2A50, 4) + b"pzst"
    data = skippable + c.compress(b"a,b\n" * 50_000) + skippable + c.compress(b"c,d\n" * 50_000)
    assert ZstdFramesReader(io.BytesIO(data), "db.zst").read() == b"a,b\n" * 50_000 + b"c,d\n" * 50_000
    with pytest.raises(PuzzleFormatError, match=r"^db.zst: truncated .zst file"):
        ZstdFramesReader(io.BytesIO(data[:-5]), "db.zst").read()


@pytest.mark.parametrize("tags", [dict(themes=("mate",)), dict(exclude_themes=("mate", "long")), dict(openings=("Sicilian_Defense",))])
def test_tags_match_whole_words_only(small_db: Path, tags: dict[str, tuple[str, ...]]) -> None:
    """'mate' must not match 'mateIn2', nor 'Sicilian_Defense' 'Sicilian_Defense_Najdorf_Variation'."""
    spec = _spec(small_db, per_band=1000, min_plays=None, max_rating_deviation=None, min_popularity=None, **tags)
    assert [p.id for p in select_puzzles(spec, jobs=1).puzzles] == oracle(small_db, spec)[0]


def test_without_fork_blocks_are_sent_through_the_queue(small_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where fork is missing (macOS, Windows) workers are spawned and blocks pickled: same result."""
    import multiprocessing

    spec = _spec(small_db, per_band=10, seed="nofork")
    expected = select_puzzles(spec, jobs=1).puzzles
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert select_puzzles(spec, jobs=2, block_bytes=40_000).puzzles == expected
