"""Benchmarks of the lakehouse foundation, each against a named peer measured in the same run.

Run ``python benchmarks/run.py`` (``make bench``); ``--quick`` uses 10x smaller data and
fewer repetitions as a smoke check. Work files go to ``benchmarks/.work/`` (git-ignored,
wiped at start); figures go to stdout and to ``benchmarks/results/latest.json``.

The machine this runs on may be shared and noisy, so absolute times are reported only as
context: the figure that matters is the **ratio** to a peer that does comparable work in
the same run. Workbench and peer repetitions are interleaved (A, B, A, B, ...) so that a
burst of background load hits both sides. Latencies are summarised as the median and
the 95th percentile (linear interpolation; with 10 samples p95 is close to the maximum).

1. Ingest throughput
   A deterministic Parquet file (``--rows``, default 5,000,000 rows; numpy generator with
   a fixed seed; int64 id, int32 customer_id, float64 amount, string status and city
   from small vocabularies, timestamp[us, UTC] order_ts, bool flag, date32 day; zstd)
   is ingested with ``wb.ingest(file, "bronze.big")`` into a fresh workspace each
   repetition. Peer (the floor): pyarrow alone, ``pq.read_table`` + ``pq.write_table``
   with zstd, i.e. read and rewrite the same data without any catalog, metadata or
   lineage columns. Ratio = workbench time / pyarrow time.

2. Query latency on that table
   ``SELECT count(*) FROM bronze.big`` through the library on a warm Workbench
   (``wb.sql(...).fetchone()``), through the library cold (a new Workbench object per
   query: catalog engine, DuckDB connection and iceberg extension load included), and
   through the CLI (``odg sql ... --json`` as a subprocess, Python start-up included).
   Peers: DuckDB ``SELECT count(*) FROM read_parquet([<the table's data files>])`` on a
   fresh in-memory connection (for warm/cold library), a reused connection (for warm),
   and ``python -c "import duckdb; ..."`` as a subprocess (for the CLI). The same for a
   filtered aggregate ``SELECT status, sum(amount) ... WHERE amount > 500 GROUP BY status``.

3. Compaction effect
   A table built from many small appends (``--appends`` x ``--append-rows``, default
   200 x 25,000 = 5M rows; each append is a ``wb.ingest`` of an Arrow slice, so one
   Iceberg commit and one data file each). Full scans, before and after ``t.compact()``
   (default target size): DuckDB ``SELECT sum(amount), count(DISTINCT customer_id)``
   via ``wb.sql`` and pyiceberg ``t.to_arrow()``. Peer: the same table before
   compaction. Reports files before/after, compaction time and speedups.

4. Start-up
   ``python -c "import odg_workbench"`` and ``odg --help`` as subprocesses; peer:
   ``python -c "pass"`` (the interpreter alone).

Subprocesses (CLI and start-up) run with a warm bytecode cache kept in
``benchmarks/.work/pycache`` (``PYTHONPYCACHEPREFIX``; the virtual environment is never
written to). When the installed packages have no ``.pyc`` files, they are also timed
with ``PYTHONDONTWRITEBYTECODE=1``, i.e. compiling every imported module on each start,
which is what a ``uv sync`` environment without ``--compile-bytecode`` does when it
cannot or may not write ``__pycache__``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
RESULTS = ROOT / "benchmarks" / "results"
PYTHON = sys.executable
ODG = str(Path(sys.executable).with_name("odg"))

SEED = 20250101
STATUSES = ["new", "paid", "shipped", "delivered", "cancelled", "refunded"]
CITIES = [
    "Amsterdam", "Athens", "Barcelona", "Berlin", "Bratislava", "Brussels", "Bucharest", "Budapest",
    "Copenhagen", "Dublin", "Helsinki", "Lisbon", "Ljubljana", "London", "Luxembourg", "Madrid",
    "Milan", "Munich", "Oslo", "Paris", "Porto", "Prague", "Riga", "Rome", "Sofia", "Stockholm",
    "Tallinn", "Vienna", "Vilnius", "Warsaw", "Zagreb", "Zurich",
]  # fmt: skip

COUNT_SQL = "SELECT count(*) FROM bronze.big"
AGG_SQL = "SELECT status, sum(amount) AS total FROM bronze.big WHERE amount > 500 GROUP BY status ORDER BY status"
SCAN_SQL = "SELECT sum(amount), count(DISTINCT customer_id) FROM bronze.t"


# -- measurement helpers -------------------------------------------------------------------


def summary(samples: list[float]) -> dict[str, Any]:
    """Median, p95, min and max of timings in seconds (the raw samples are kept too)."""
    arr = np.asarray(samples, dtype=float)
    return {
        "n": len(samples),
        "median_s": float(np.median(arr)),
        "p95_s": float(np.percentile(arr, 95)),
        "min_s": float(arr.min()),
        "max_s": float(arr.max()),
        "samples_s": [round(s, 6) for s in samples],
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def interleaved(reps: int, **cases: Callable[[], Any]) -> dict[str, list[float]]:
    """Run each case once per repetition, alternating the order, and collect the times."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            times[name].append(timed(cases[name])[0])
    return times


def ratio(a: dict[str, Any], b: dict[str, Any], key: str = "median_s") -> float:
    return float(a[key] / b[key]) if b[key] else float("nan")


def subprocess_env(bytecode_cache: bool) -> dict[str, str]:
    """Environment for timed subprocesses, with or without a (warm) bytecode cache.

    With the cache, ``.pyc`` files go to ``benchmarks/.work/pycache`` (``PYTHONPYCACHEPREFIX``)
    so the virtual environment is never written to; an untimed first run fills it. Without
    it, ``PYTHONDONTWRITEBYTECODE=1``: a virtual environment installed without ``.pyc``
    files (``uv sync`` does not compile by default) then compiles every module it imports
    on every start.
    """
    env = dict(os.environ)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    else:
        env.pop("PYTHONPYCACHEPREFIX", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def venv_has_bytecode() -> bool:
    """Whether the installed packages ship compiled ``.pyc`` files next to their sources."""
    import pyiceberg

    return (Path(pyiceberg.__file__).parent / "__pycache__").is_dir()


def run_cmd(args: list[str], *, bytecode_cache: bool = True) -> str:
    proc = subprocess.run(
        args, capture_output=True, text=True, check=False, cwd=WORK, env=subprocess_env(bytecode_cache)
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} ... failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- data ---------------------------------------------------------------------------------


def generate(rows: int, seed: int = SEED) -> pa.Table:
    """The deterministic orders table used by every benchmark."""
    rng = np.random.default_rng(seed)
    start_us = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
    ts = start_us + rng.integers(0, 366 * 86_400 * 1_000_000, rows, dtype=np.int64)
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "customer_id": pa.array(rng.integers(1, 250_000, rows, dtype=np.int32)),
            "amount": pa.array(np.round(rng.gamma(2.0, 250.0, rows), 2)),
            "status": pc.take(pa.array(STATUSES), pa.array(rng.integers(0, len(STATUSES), rows))),
            "city": pc.take(pa.array(CITIES), pa.array(rng.integers(0, len(CITIES), rows))),
            "order_ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "flag": pa.array(rng.random(rows) < 0.1),
            "day": pa.array((ts // (86_400 * 1_000_000)).astype(np.int32), pa.date32()),
        }
    )


def file_paths(wb: Any, table: str) -> list[str]:
    return [f["path"].removeprefix("file://") for f in wb.table(table).files()]


def parquet_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


# -- 1. ingest -----------------------------------------------------------------------------


def bench_ingest(source: Path, reps: int) -> tuple[dict[str, Any], Path]:
    import odg_workbench as odg

    rows = pq.ParquetFile(source).metadata.num_rows
    floor_out = WORK / "floor.parquet"

    # Warm-up (imports, pyiceberg's first write), untimed.
    small = pq.read_table(source).slice(0, 1000)
    with odg.open(WORK / "warmup") as wb:
        wb.ingest(small, "bronze.warmup")
    pq.write_table(small, floor_out, compression="zstd")

    lake_times: list[float] = []
    floor_times: list[float] = []
    reported: list[float] = []
    lake = WORK / "lake"
    for rep in range(reps):
        # The last repetition's workspace is kept for the query benchmarks. (It cannot be
        # renamed afterwards: the catalog stores absolute metadata locations.)
        target = lake if rep == reps - 1 else WORK / f"ingest-{rep}"

        def floor() -> None:
            pq.write_table(pq.read_table(source), floor_out, compression="zstd")

        def workbench(target: Path = target) -> None:
            wb = odg.open(target)  # workspace creation is not timed
            try:
                elapsed, res = timed(lambda: wb.ingest(str(source), "bronze.big"))
            finally:
                wb.close()
            assert res.rows == rows, res
            lake_times.append(elapsed)
            reported.append(res.duration_s)

        order = [floor, workbench] if rep % 2 == 0 else [workbench, floor]
        for case in order:
            if case is floor:
                floor_times.append(timed(floor)[0])
            else:
                workbench()
        log(f"ingest rep {rep + 1}/{reps}: workbench {lake_times[-1]:.2f}s, pyarrow {floor_times[-1]:.2f}s")
        if target != lake:
            shutil.rmtree(target)

    wb_s, floor_s = summary(lake_times), summary(floor_times)
    result = {
        "rows": rows,
        "source_bytes": source.stat().st_size,
        "workbench": {**wb_s, "rows_per_s": rows / wb_s["median_s"], "reported_duration_s": reported},
        "pyarrow_floor": {**floor_s, "rows_per_s": rows / floor_s["median_s"]},
        "ratio_workbench_over_pyarrow": ratio(wb_s, floor_s),
    }
    return result, lake


# -- 2. query latency ----------------------------------------------------------------------


def bench_queries(lake: Path, rows: int, warm_reps: int, cold_reps: int, cli_reps: int) -> dict[str, Any]:
    import duckdb

    import odg_workbench as odg

    wb = odg.open(lake)
    files = parquet_list(file_paths(wb, "bronze.big"))
    peer_count = f"SELECT count(*) FROM read_parquet({files})"
    peer_agg = AGG_SQL.replace("bronze.big", f"read_parquet({files})")
    reused = duckdb.connect()

    def fresh(sql: str) -> Callable[[], Any]:
        def run() -> Any:
            con = duckdb.connect()
            try:
                return con.sql(sql).fetchall()
            finally:
                con.close()

        return run

    # Correctness, and warm-up of both sides.
    for _ in range(2):
        assert wb.sql(COUNT_SQL).fetchone() == (rows,)
        assert reused.sql(peer_count).fetchone() == (rows,)
    lib_agg = wb.sql(AGG_SQL).fetchall()
    peer_agg_rows = reused.sql(peer_agg).fetchall()
    assert [r[0] for r in lib_agg] == [r[0] for r in peer_agg_rows]
    assert all(abs(a[1] - b[1]) < 1e-6 * abs(b[1]) + 1e-6 for a, b in zip(lib_agg, peer_agg_rows, strict=True))

    out: dict[str, Any] = {"data_files": len(files.split(", "))}

    log(f"count, warm library x{warm_reps}")
    t = interleaved(
        warm_reps,
        library=lambda: wb.sql(COUNT_SQL).fetchone(),
        duckdb_fresh=fresh(peer_count),
        duckdb_reused=lambda: reused.sql(peer_count).fetchone(),
    )
    s = {k: summary(v) for k, v in t.items()}
    out["count_warm"] = {
        **s,
        "ratio_vs_fresh_median": ratio(s["library"], s["duckdb_fresh"]),
        "ratio_vs_fresh_p95": ratio(s["library"], s["duckdb_fresh"], "p95_s"),
        "ratio_vs_reused_median": ratio(s["library"], s["duckdb_reused"]),
    }

    log(f"count, cold library x{cold_reps}")

    def cold() -> Any:
        with odg.open(lake) as cold_wb:
            return cold_wb.sql(COUNT_SQL).fetchone()

    t = interleaved(cold_reps, library=cold, duckdb_fresh=fresh(peer_count))
    s = {k: summary(v) for k, v in t.items()}
    out["count_cold"] = {
        **s,
        "ratio_vs_fresh_median": ratio(s["library"], s["duckdb_fresh"]),
        "ratio_vs_fresh_p95": ratio(s["library"], s["duckdb_fresh"], "p95_s"),
    }

    log(f"count, CLI x{cli_reps}")
    cli = [ODG, "sql", COUNT_SQL.replace("count(*)", "count(*) AS n"), "--workspace", str(lake), "--json"]
    assert json.loads(run_cmd(cli)) == [{"n": rows}]
    peer_script = "import duckdb, sys; print(duckdb.connect().sql(sys.argv[1]).fetchall())"
    peer_cli = [PYTHON, "-c", peer_script, peer_count]
    assert run_cmd(peer_cli).strip() == f"[({rows},)]"
    t = interleaved(cli_reps, cli=lambda: run_cmd(cli), python_duckdb=lambda: run_cmd(peer_cli))
    s = {k: summary(v) for k, v in t.items()}
    out["count_cli"] = {
        **s,
        "ratio_median": ratio(s["cli"], s["python_duckdb"]),
        "ratio_p95": ratio(s["cli"], s["python_duckdb"], "p95_s"),
    }
    if not venv_has_bytecode():
        reps = max(2, cli_reps // 2)
        log(f"count, CLI without bytecode cache x{reps}")
        t = interleaved(
            reps,
            cli=lambda: run_cmd(cli, bytecode_cache=False),
            python_duckdb=lambda: run_cmd(peer_cli, bytecode_cache=False),
        )
        s = {k: summary(v) for k, v in t.items()}
        out["count_cli_no_bytecode"] = {**s, "ratio_median": ratio(s["cli"], s["python_duckdb"])}

    log(f"filtered aggregate, warm library x{warm_reps}")
    t = interleaved(
        warm_reps,
        library=lambda: wb.sql(AGG_SQL).fetchall(),
        duckdb_fresh=fresh(peer_agg),
        duckdb_reused=lambda: reused.sql(peer_agg).fetchall(),
    )
    s = {k: summary(v) for k, v in t.items()}
    out["agg_warm"] = {
        **s,
        "ratio_vs_fresh_median": ratio(s["library"], s["duckdb_fresh"]),
        "ratio_vs_fresh_p95": ratio(s["library"], s["duckdb_fresh"], "p95_s"),
        "ratio_vs_reused_median": ratio(s["library"], s["duckdb_reused"]),
    }

    # Where the library's fixed cost per query goes (one warm query, split in two).
    t_prepare = []
    for _ in range(warm_reps):
        t_prepare.append(timed(lambda: wb.lakehouse._prepare(COUNT_SQL, None))[0])
    out["library_prepare_only"] = summary(t_prepare)

    reused.close()
    wb.close()
    return out


# -- 3. compaction -------------------------------------------------------------------------


def bench_compaction(data: pa.Table, appends: int, append_rows: int, reps: int) -> dict[str, Any]:
    import odg_workbench as odg

    rows = appends * append_rows
    assert rows <= data.num_rows
    path = WORK / "compaction"
    wb = odg.open(path)
    commit_times: list[float] = []
    start = time.perf_counter()
    for i in range(appends):
        chunk = data.slice(i * append_rows, append_rows)
        commit_times.append(timed(lambda chunk=chunk: wb.ingest(chunk, "bronze.t"))[0])
        if (i + 1) % 25 == 0:
            log(f"append {i + 1}/{appends}: last {commit_times[-1]:.2f}s, total {time.perf_counter() - start:.0f}s")
    build_s = time.perf_counter() - start

    def scans(label: str) -> dict[str, Any]:
        table = wb.table("bronze.t")
        assert wb.sql("SELECT count(*) FROM bronze.t").fetchone() == (rows,)
        assert table.to_arrow().num_rows == rows  # also warms the page cache
        log(f"scans {label} compaction x{reps}")
        t = interleaved(
            reps,
            duckdb=lambda: wb.sql(SCAN_SQL).fetchone(),
            pyiceberg=lambda: wb.table("bronze.t").to_arrow(),
        )
        return {k: summary(v) for k, v in t.items()}

    files_before = len(wb.table("bronze.t").files())
    before = scans("before")
    log("compacting")
    compact_s, report = timed(lambda: wb.table("bronze.t").compact())
    files_after = len(wb.table("bronze.t").files())
    after = scans("after")
    wb.close()
    return {
        "appends": appends,
        "append_rows": append_rows,
        "rows": rows,
        "build_s": build_s,
        "commit": summary(commit_times),
        "commit_first_10_median_s": float(np.median(commit_times[:10])),
        "commit_last_10_median_s": float(np.median(commit_times[-10:])),
        "files_before": files_before,
        "files_after": files_after,
        "compaction_s": compact_s,
        "compaction_report": report.to_dict(),
        "before": before,
        "after": after,
        "speedup_duckdb": ratio(before["duckdb"], after["duckdb"]),
        "speedup_pyiceberg": ratio(before["pyiceberg"], after["pyiceberg"]),
    }


# -- 4. start-up ---------------------------------------------------------------------------


def bench_startup(reps: int) -> dict[str, Any]:
    cases = {
        "python_pass": [PYTHON, "-c", "pass"],
        "import_odg_workbench": [PYTHON, "-c", "import odg_workbench"],
        "odg_help": [ODG, "--help"],
    }
    out: dict[str, Any] = {}
    modes = [True] if venv_has_bytecode() else [True, False]
    for cache in modes:
        for args in cases.values():
            run_cmd(args, bytecode_cache=cache)  # fills the bytecode cache and the page cache
        t = interleaved(
            reps,
            **{
                name: (lambda args=args, cache=cache: run_cmd(args, bytecode_cache=cache))
                for name, args in cases.items()
            },
        )
        s = {k: summary(v) for k, v in t.items()}
        out["bytecode_cache" if cache else "no_bytecode_cache"] = {
            **s,
            "ratio_import_over_pass": ratio(s["import_odg_workbench"], s["python_pass"]),
            "ratio_help_over_pass": ratio(s["odg_help"], s["python_pass"]),
            "import_extra_ms": (s["import_odg_workbench"]["median_s"] - s["python_pass"]["median_s"]) * 1000,
            "help_extra_ms": (s["odg_help"]["median_s"] - s["python_pass"]["median_s"]) * 1000,
        }
    return out


# -- report --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    versions = {}
    for pkg in ("duckdb", "pyiceberg", "pyarrow", "numpy", "odg-workbench"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    mem_gib = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as fh:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), None)
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": mem_gib,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "loadavg_start": list(os.getloadavg()),
        "venv_has_bytecode": venv_has_bytecode(),
        "env_PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def print_report(r: dict[str, Any]) -> None:
    lines: list[tuple[str, str, str, str]] = []

    def row(name: str, ours: str, peer: str, rat: str) -> None:
        lines.append((name, ours, peer, rat))

    ing = r.get("ingest")
    if ing:
        row(
            f"ingest {ing['rows']:,} rows (median of {ing['workbench']['n']})",
            f"{ing['workbench']['rows_per_s']:,.0f} rows/s ({ing['workbench']['median_s']:.2f} s)",
            f"pyarrow {ing['pyarrow_floor']['rows_per_s']:,.0f} rows/s ({ing['pyarrow_floor']['median_s']:.2f} s)",
            f"{ing['ratio_workbench_over_pyarrow']:.2f}x time",
        )
    q = r.get("queries")
    if q:
        for key, label in (("count_warm", "count(*) warm"), ("agg_warm", "filtered aggregate warm")):
            c = q[key]
            row(
                f"{label} median / p95",
                f"{ms(c['library']['median_s'])} / {ms(c['library']['p95_s'])}",
                f"duckdb fresh {ms(c['duckdb_fresh']['median_s'])} / {ms(c['duckdb_fresh']['p95_s'])}",
                f"{c['ratio_vs_fresh_median']:.2f}x / {c['ratio_vs_fresh_p95']:.2f}x",
            )
            row(
                "  vs reused connection (median)",
                ms(c["library"]["median_s"]),
                f"duckdb reused {ms(c['duckdb_reused']['median_s'])}",
                f"{c['ratio_vs_reused_median']:.2f}x",
            )
        c = q["count_cold"]
        row(
            "count(*) cold Workbench median / p95",
            f"{ms(c['library']['median_s'])} / {ms(c['library']['p95_s'])}",
            f"duckdb fresh {ms(c['duckdb_fresh']['median_s'])} / {ms(c['duckdb_fresh']['p95_s'])}",
            f"{c['ratio_vs_fresh_median']:.2f}x / {c['ratio_vs_fresh_p95']:.2f}x",
        )
        c = q["count_cli"]
        row(
            "count(*) via `odg sql --json` median / p95",
            f"{ms(c['cli']['median_s'])} / {ms(c['cli']['p95_s'])}",
            f"python+duckdb {ms(c['python_duckdb']['median_s'])} / {ms(c['python_duckdb']['p95_s'])}",
            f"{c['ratio_median']:.2f}x / {c['ratio_p95']:.2f}x",
        )
        c = q.get("count_cli_no_bytecode")
        if c:
            row(
                "  same without bytecode cache (median)",
                ms(c["cli"]["median_s"]),
                f"python+duckdb {ms(c['python_duckdb']['median_s'])}",
                f"{c['ratio_median']:.2f}x",
            )
        row(
            "  fixed cost per wb.sql (sqlglot + catalog)",
            f"{ms(q['library_prepare_only']['median_s'])} median",
            "",
            "",
        )
    cp = r.get("compaction")
    if cp:
        row(
            f"build {cp['appends']} x {cp['append_rows']:,} appends",
            f"{cp['build_s']:.1f} s (commit median {ms(cp['commit']['median_s'])})",
            f"first 10 {ms(cp['commit_first_10_median_s'])}, last 10 {ms(cp['commit_last_10_median_s'])}",
            "",
        )
        row(
            "compaction",
            f"{cp['files_before']} -> {cp['files_after']} files",
            f"{cp['compaction_s']:.1f} s",
            "",
        )
        for key in ("duckdb", "pyiceberg"):
            row(
                f"full scan {key} after / before compaction",
                ms(cp["after"][key]["median_s"]),
                ms(cp["before"][key]["median_s"]),
                f"{cp[f'speedup_{key}']:.2f}x faster",
            )
    for mode, suffix in (("bytecode_cache", ""), ("no_bytecode_cache", " (no bytecode cache)")):
        st = r.get("startup", {}).get(mode)
        if not st:
            continue
        for key, label, rkey in (
            ("import_odg_workbench", "python -c 'import odg_workbench'", "ratio_import_over_pass"),
            ("odg_help", "odg --help", "ratio_help_over_pass"),
        ):
            row(
                label + suffix,
                ms(st[key]["median_s"]),
                f"python -c pass {ms(st['python_pass']['median_s'])}",
                f"{st[rkey]:.2f}x",
            )

    widths = [max(len(line[i]) for line in [*lines, ("benchmark", "workbench", "peer", "ratio")]) for i in range(4)]
    header = ("benchmark", "workbench", "peer", "ratio")
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
    m = r["machine"]
    print(
        f"\n{m['date']}  {m['cpu_count']} CPUs  Python {m['python']}  duckdb {m['versions']['duckdb']}  "
        f"pyiceberg {m['versions']['pyiceberg']}  pyarrow {m['versions']['pyarrow']}  "
        f"total {r['total_s']:.0f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller data, fewer repetitions (smoke check)")
    parser.add_argument("--rows", type=int, help="rows of the ingest/query table (default 5,000,000)")
    parser.add_argument("--appends", type=int, help="small appends for the compaction table (default 200)")
    parser.add_argument("--append-rows", type=int, help="rows per small append (default 25,000)")
    parser.add_argument(
        "--only", nargs="+", choices=["ingest", "queries", "compaction", "startup"], help="run only these benchmarks"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json", help="where to write the JSON")
    args = parser.parse_args(argv)

    div = 10 if args.quick else 1
    rows = args.rows or 5_000_000 // div
    appends = args.appends or 200
    append_rows = args.append_rows or 25_000 // div
    reps = {
        "ingest": 2 if args.quick else 3,
        "warm": 5 if args.quick else 20,
        "cold": 3 if args.quick else 10,
        "cli": 3 if args.quick else 10,
        "scan": 2 if args.quick else 5,
        "startup": 3 if args.quick else 10,
    }
    only = set(args.only or ["ingest", "queries", "compaction", "startup"])
    if "queries" in only:
        only.add("ingest")  # the queries run on the ingested table

    start = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    results: dict[str, Any] = {
        "machine": machine(),
        "config": {"quick": args.quick, "rows": rows, "appends": appends, "append_rows": append_rows, "reps": reps},
    }

    log(f"generating {max(rows, appends * append_rows):,} rows")
    data = generate(max(rows, appends * append_rows))
    source = WORK / "orders.parquet"
    pq.write_table(data.slice(0, rows), source, compression="zstd")

    if "ingest" in only:
        log("1. ingest")
        results["ingest"], lake = bench_ingest(source, reps["ingest"])
        if "queries" in only:
            log("2. queries")
            results["queries"] = bench_queries(lake, rows, reps["warm"], reps["cold"], reps["cli"])
    if "compaction" in only:
        log(f"3. compaction ({appends} x {append_rows:,})")
        results["compaction"] = bench_compaction(data, appends, append_rows, reps["scan"])
    del data
    if "startup" in only:
        log("4. start-up")
        results["startup"] = bench_startup(reps["startup"])

    results["total_s"] = time.perf_counter() - start
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_report(results)
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
