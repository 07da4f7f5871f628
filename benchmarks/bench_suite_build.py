"""Benchmark: chesseval's stratified suite build against DuckDB on the same 5.8 M-row .csv.zst.

    pip install duckdb            # or: pip install -e '.[bench]'
    python benchmarks/bench_suite_build.py [--rows 5800000] [--repeat 3] [--jobs 2]

The synthetic database (Lichess columns, realistic field sizes, legal FENs and moves) is
generated once into ``~/.cache/chesseval-bench``. Each run then alternates the two contenders,
each in a fresh subprocess so that wall time, CPU time (the process and all its children) and
peak memory are measured the same way:

* chesseval: ``build_suite`` (quality filters, rating range, 200-point bands, k per band by
  smallest ``sha256(seed:PuzzleId)``, full chess validation of the winners, the source file's
  sha256, the suite CSV and manifest written);
* DuckDB: the equivalent SQL over ``read_csv(... .csv.zst)`` with ``row_number() OVER
  (PARTITION BY band ORDER BY sha256(seed || ':' || PuzzleId))``, rows fetched into Python. It
  validates no chess and hashes no source file.

Both selections must be identical (checked). The ratio is chesseval / DuckDB, medians of the
runs. The load average is printed: on a shared machine wall times move with it, CPU times less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

SPEC = dict(per_band=50, seed="bench", band_width=200, min_rating=400, max_rating=2999,
            min_plays=100, max_rating_deviation=90, min_popularity=0)


def _vmhwm_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def child_chesseval(db: str, jobs: int, themes: list[str], exclude: list[str]) -> dict[str, object]:
    from chesseval.lichessdb.build import BuildSpec, build_suite

    spec = BuildSpec(source=db, name="bench", themes=tuple(themes), exclude_themes=tuple(exclude), **SPEC)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        result = build_suite(spec, out, jobs=jobs)
        wall = time.perf_counter() - t0
    sel = result.selection
    return {
        "wall_s": wall,
        "ids": [p.id for p in sel.puzzles],
        "rows": sel.rows,
        "short_bands": [b.label for b in sel.bands if not b.enough],
        "main_peak_kb": _vmhwm_kb(),
        "worker_peak_kb": sel.worker_peak_rss_kb,
    }


def child_duckdb(db: str, threads: int, themes: list[str], exclude: list[str]) -> dict[str, object]:
    import duckdb

    s = SPEC
    tags = "".join(f" AND list_contains(string_split(Themes, ' '), '{t}')" for t in themes)
    tags += "".join(f" AND NOT list_contains(string_split(Themes, ' '), '{t}')" for t in exclude)
    query = f"""
        WITH c AS (
            SELECT PuzzleId, Rating // {s['band_width']} AS band,
                   sha256('{s['seed']}:' || PuzzleId) AS key
            FROM read_csv('{db}', header = true, compression = 'zstd', delim = ',', quote = '"',
                columns = {{'PuzzleId': 'VARCHAR', 'FEN': 'VARCHAR', 'Moves': 'VARCHAR',
                            'Rating': 'INTEGER', 'RatingDeviation': 'INTEGER', 'Popularity': 'INTEGER',
                            'NbPlays': 'INTEGER', 'Themes': 'VARCHAR', 'GameUrl': 'VARCHAR',
                            'OpeningTags': 'VARCHAR'}})
            WHERE NbPlays >= {s['min_plays']} AND RatingDeviation <= {s['max_rating_deviation']}
              AND Popularity >= {s['min_popularity']}
              AND Rating BETWEEN {s['min_rating']} AND {s['max_rating']}{tags}
        )
        SELECT PuzzleId FROM c
        QUALIFY row_number() OVER (PARTITION BY band ORDER BY key) <= {s['per_band']}
        ORDER BY key
    """
    con = duckdb.connect(config={"threads": threads})
    t0 = time.perf_counter()
    ids = [r[0] for r in con.execute(query).fetchall()]
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "ids": ids, "main_peak_kb": _vmhwm_kb(), "version": duckdb.__version__}


def run_child(kind: str, db: Path, jobs: int, tag_args: list[str]) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", str(db), "--jobs", str(jobs), *tag_args],
        capture_output=True, text=True, check=False,
    )
    outer = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{proc.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = json.loads(proc.stdout)
    out["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out["process_s"] = outer
    out["load"] = os.getloadavg()[0]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_800_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each, alternating (default: %(default)s)")
    ap.add_argument("--jobs", type=int, default=2, help="chesseval worker processes and DuckDB threads")
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--theme", action="append", default=[], help="also require this theme (repeatable)")
    ap.add_argument("--exclude-theme", action="append", default=[], help="also exclude this theme (repeatable)")
    ap.add_argument("--child", choices=["chesseval", "duckdb"], help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        fn = child_chesseval if args.child == "chesseval" else child_duckdb
        print(json.dumps(fn(args.db, args.jobs, args.theme, args.exclude_theme)))
        return 0

    try:
        import duckdb  # noqa: F401
    except ImportError:
        print("this benchmark needs DuckDB: pip install duckdb  (or pip install -e '.[bench]')", file=sys.stderr)
        return 1
    from synth_lichess import cached_database

    db = cached_database(args.rows, cache_dir=args.cache_dir)
    print(f"database: {db} ({db.stat().st_size / 1e6:.0f} MB compressed, {args.rows:,} rows)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the runs")
    tag_args = [a for t in args.theme for a in ("--theme", t)] + [a for t in args.exclude_theme for a in ("--exclude-theme", t)]
    print(f"spec: {SPEC}, themes={args.theme}, exclude_themes={args.exclude_theme}, jobs/threads={args.jobs}\n")
    results: dict[str, list[dict[str, object]]] = {"chesseval": [], "duckdb": []}
    for i in range(args.repeat):
        for kind in ("chesseval", "duckdb"):
            r = run_child(kind, db, args.jobs, tag_args)
            results[kind].append(r)
            peak = r["main_peak_kb"] + sum(r.get("worker_peak_kb", []))  # type: ignore[operator, arg-type]
            print(f"run {i + 1} {kind:>9}: wall {r['wall_s']:6.2f} s  cpu {r['cpu_s']:6.2f} s  "
                  f"peak {peak / 1024:6.0f} MB  load {r['load']:.2f}", flush=True)

    a, b = results["chesseval"], results["duckdb"]
    same = all(r["ids"] == a[0]["ids"] for r in a + b)
    med = {k: {m: statistics.median(float(r[m]) for r in v) for m in ("wall_s", "cpu_s")} for k, v in results.items()}  # type: ignore[arg-type]
    peak_main = max(int(r["main_peak_kb"]) for r in a)  # type: ignore[call-overload]
    peak_workers = max(sum(r["worker_peak_kb"]) for r in a)  # type: ignore[arg-type]
    print()
    print(f"selections identical: {same} ({len(a[0]['ids'])} puzzles; short bands: {a[0]['short_bands']})")  # type: ignore[arg-type]
    print(f"chesseval median: wall {med['chesseval']['wall_s']:.2f} s, cpu {med['chesseval']['cpu_s']:.2f} s")
    print(f"duckdb {b[0]['version']} median: wall {med['duckdb']['wall_s']:.2f} s, cpu {med['duckdb']['cpu_s']:.2f} s")
    print(f"ratio chesseval/duckdb: wall {med['chesseval']['wall_s'] / med['duckdb']['wall_s']:.2f}x, "
          f"cpu {med['chesseval']['cpu_s'] / med['duckdb']['cpu_s']:.2f}x  (aim: <= 1.5x)")
    print(f"chesseval peak memory: main {peak_main / 1024:.0f} MB + workers {peak_workers / 1024:.0f} MB "
          f"= {(peak_main + peak_workers) / 1024:.0f} MB (sum of each process's VmHWM; aim: < 1.5 GB)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
