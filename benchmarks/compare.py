"""Benchmark of the snapshot data diff: two 1M-row snapshots of one table, ours against two peers.

Run ``.venv/bin/python benchmarks/compare.py`` (``--rows 1000000`` by default, about two
minutes here; ``--rows 100000`` for a smoke check). Work files go to
``benchmarks/.work/compare/`` (git-ignored, wiped at the start); figures to stdout and to
``benchmarks/results/compare.json``.

The table (int64 ``id``, int32 ``customer_id``, float64 ``amount``, string ``status``,
timestamp ``order_ts``, string ``note`` with nulls; numpy generator, fixed seed) is
ingested, then overwritten with a second version where 1% of the rows are changed (half
in ``amount``, half in ``status`` and ``note``), 0.5% removed and 0.5% added (new ids):
two snapshots of ``--rows`` rows each. Every case must report the same counts as the
construction (checked, the run fails otherwise).

==================  ==================================================  ===================================================
case                ours                                                peer
==================  ==================================================  ===================================================
keyed diff          ``compare_snapshots(wb, t, A, B, key="id")``:        (a) DuckDB, hand-written: one ``FULL OUTER JOIN`` of
                    schema diff, key uniqueness checks on both sides,   the two ``iceberg_scan`` snapshots on ``id`` with
                    the join into a temporary table of differing rows,  ``count_if`` aggregates (counts only, no samples,
                    counts per kind and per column, 5 samples of each   no uniqueness check): the floor for this engine;
                    kind                                                (b) polars: ``pl.scan_iceberg`` of both snapshots,
                                                                        full join on ``id``, the same counts
multiset diff       ``compare_snapshots(..., infer_key=False)``:        DuckDB, hand-written: ``count(*)`` of ``EXCEPT ALL``
                    ``EXCEPT ALL`` both ways into temporary tables,     both ways
                    counts and samples
==================  ==================================================  ===================================================

Repetitions are interleaved (A, B, C, then C, B, A); the machine is shared and noisy, so
the ratios matter more than the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import interleaved, log, machine, ratio, summary

import odg_workbench as odg
from odg_workbench.lakehouse.duck import ScanTarget, scan_sql
from odg_workbench.lineage.compare import compare_snapshots

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work" / "compare"
OUTPUT = ROOT / "results" / "compare.json"
SEED = 20261129
TABLE = "bronze.orders_diff"


def versions(rows: int) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    """Version A, version B (1% changed, 0.5% removed, 0.5% added) and the expected counts."""
    rng = np.random.default_rng(SEED)
    start_us = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
    ids = np.arange(rows, dtype=np.int64)
    statuses = np.array(["new", "paid", "shipped", "delivered", "returned"])
    note = np.array([None if i % 13 == 0 else f"note {i % 1000}" for i in range(rows)], dtype=object)
    a = {
        "id": ids,
        "customer_id": rng.integers(0, 50_000, rows, dtype=np.int32),
        "amount": np.round(rng.uniform(1, 1000, rows), 2),
        "status": statuses[rng.integers(0, len(statuses), rows)],
        "order_ts": start_us + rng.integers(0, 365 * 86_400 * 1_000_000, rows, dtype=np.int64),
        "note": note,
    }
    n_changed, n_removed, n_added = rows // 100, rows // 200, rows // 200
    picked = rng.permutation(rows)
    changed, removed = picked[:n_changed], picked[n_changed : n_changed + n_removed]
    b = {k: v.copy() for k, v in a.items()}
    half = n_changed // 2
    b["amount"][changed[:half]] += 0.5
    b["status"][changed[half:]] = "cancelled"
    b["note"][changed[half:]] = None
    b["note"][changed[half:][a["note"][changed[half:]] == None]] = "was empty"  # noqa: E711 (numpy elementwise)
    keep = np.ones(rows, dtype=bool)
    keep[removed] = False
    b = {k: v[keep] for k, v in b.items()}
    new_ids = np.arange(rows, rows + n_added, dtype=np.int64)
    added = {
        "id": new_ids,
        "customer_id": rng.integers(0, 50_000, n_added, dtype=np.int32),
        "amount": np.round(rng.uniform(1, 1000, n_added), 2),
        "status": statuses[rng.integers(0, len(statuses), n_added)],
        "order_ts": start_us + rng.integers(0, 365 * 86_400 * 1_000_000, n_added, dtype=np.int64),
        "note": np.array([f"new {i}" for i in range(n_added)], dtype=object),
    }
    b = {k: np.concatenate([b[k], added[k]]) for k in b}

    def table(cols: dict[str, Any]) -> pa.Table:
        return pa.table(
            {
                "id": pa.array(cols["id"], pa.int64()),
                "customer_id": pa.array(cols["customer_id"], pa.int32()),
                "amount": pa.array(cols["amount"], pa.float64()),
                "status": pa.array(cols["status"].astype(str), pa.string()),
                "order_ts": pa.array(cols["order_ts"], pa.timestamp("us", tz="UTC")),
                "note": pa.array(cols["note"], pa.string()),
            }
        )

    expected = {"added": n_added, "removed": n_removed, "changed": n_changed, "rows_to": rows}
    return table(a), table(b), expected


def duckdb_peer(wb: odg.Workbench, snap_a: int, snap_b: int) -> dict[str, int]:
    lake = wb.table(TABLE)
    sa = scan_sql(ScanTarget(lake.metadata_location, snap_a))
    sb = scan_sql(ScanTarget(lake.metadata_location, snap_b))
    values = ("customer_id", "amount", "status", "order_ts", "note")
    differs = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in values)
    con = wb.lakehouse.duck.connection()
    try:
        row = con.execute(
            f"SELECT count_if(a.id IS NULL), count_if(b.id IS NULL), "
            f"count_if(a.id IS NOT NULL AND b.id IS NOT NULL AND ({differs})) "
            f"FROM {sa} a FULL OUTER JOIN {sb} b ON a.id = b.id"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return {"added": int(row[0]), "removed": int(row[1]), "changed": int(row[2])}


def polars_peer(wb: odg.Workbench, snap_a: int, snap_b: int) -> dict[str, int]:
    import polars as pl

    ice = wb.table(TABLE).iceberg
    values = ["customer_id", "amount", "status", "order_ts", "note"]
    cols = ["id", *values]
    a = pl.scan_iceberg(ice, snapshot_id=snap_a).select(cols)
    b = pl.scan_iceberg(ice, snapshot_id=snap_b).select(cols).with_columns(pl.lit(True).alias("_in_b"))
    a = a.with_columns(pl.lit(True).alias("_in_a"))
    joined = a.join(b, on="id", how="full", suffix="_b", coalesce=True)
    differs = pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_b")) for c in values])
    out = joined.select(
        added=pl.col("_in_a").is_null().sum(),
        removed=pl.col("_in_b").is_null().sum(),
        changed=(pl.col("_in_a").is_not_null() & pl.col("_in_b").is_not_null() & differs).sum(),
    ).collect()
    return {k: int(out[k][0]) for k in ("added", "removed", "changed")}


def duckdb_multiset_peer(wb: odg.Workbench, snap_a: int, snap_b: int) -> dict[str, int]:
    lake = wb.table(TABLE)
    sa = scan_sql(ScanTarget(lake.metadata_location, snap_a))
    sb = scan_sql(ScanTarget(lake.metadata_location, snap_b))
    cols = "id, customer_id, amount, status, order_ts, note"
    con = wb.lakehouse.duck.connection()
    try:
        added = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {sb} EXCEPT ALL SELECT {cols} FROM {sa})")
        n_added = int(added.fetchone()[0])  # type: ignore[index]
        removed = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {sa} EXCEPT ALL SELECT {cols} FROM {sb})")
        n_removed = int(removed.fetchone()[0])  # type: ignore[index]
    finally:
        con.close()
    return {"added": n_added, "removed": n_removed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of each snapshot")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions of each case")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started = time.perf_counter()

    log(f"generating two versions of {args.rows:,} rows")
    a, b, expected = versions(args.rows)
    wb = odg.open(WORK / "ws", user="bench")
    t0 = time.perf_counter()
    wb.ingest(a, TABLE)
    snap_a = wb.table(TABLE).current_snapshot_id
    wb.ingest(b, TABLE, mode="overwrite")
    snap_b = wb.table(TABLE).refresh().current_snapshot_id
    assert snap_a is not None
    assert snap_b is not None
    log(f"two snapshots written in {time.perf_counter() - t0:.1f} s")

    results: dict[str, Any] = {"machine": machine(), "args": vars(args) | {"output": str(args.output)}}
    results["expected"] = expected

    def ours() -> dict[str, int]:
        d = compare_snapshots(wb, TABLE, snap_a, snap_b, key="id", samples=5)
        assert d.changed is not None
        return {"added": d.added, "removed": d.removed, "changed": d.changed}

    def ours_unmasked() -> dict[str, int]:
        d = compare_snapshots(wb, TABLE, snap_a, snap_b, key="id", samples=5, mask=False)
        assert d.changed is not None
        return {"added": d.added, "removed": d.removed, "changed": d.changed}

    def ours_multiset() -> dict[str, int]:
        d = compare_snapshots(wb, TABLE, snap_a, snap_b, infer_key=False, samples=5)
        return {"added": d.added, "removed": d.removed}

    # correctness first: every case must agree with the construction
    first = compare_snapshots(wb, TABLE, snap_a, snap_b, key="id", samples=5)
    want = {k: expected[k] for k in ("added", "removed", "changed")}
    got = {"ours": ours(), "duckdb": duckdb_peer(wb, snap_a, snap_b), "polars": polars_peer(wb, snap_a, snap_b)}
    for name, counts in got.items():
        if counts != want:
            raise SystemExit(f"{name} counts {counts} differ from the construction {want}")
    # multiset: a changed row is one removed and one added row
    multiset_want = {"added": want["added"] + want["changed"], "removed": want["removed"] + want["changed"]}
    for name, counts in (("ours", ours_multiset()), ("duckdb", duckdb_multiset_peer(wb, snap_a, snap_b))):
        if counts != multiset_want:
            raise SystemExit(f"multiset {name} counts {counts} differ from {multiset_want}")
    results["counts"] = {**got, "changed_columns": first.changed_columns}
    log("counts agree; timing")

    keyed = interleaved(
        args.reps,
        ours=ours,
        ours_unmasked=ours_unmasked,
        duckdb=lambda: duckdb_peer(wb, snap_a, snap_b),
        polars=lambda: polars_peer(wb, snap_a, snap_b),
    )
    multiset = interleaved(args.reps, ours=ours_multiset, duckdb=lambda: duckdb_multiset_peer(wb, snap_a, snap_b))
    k = {name: summary(times) for name, times in keyed.items()}
    m = {name: summary(times) for name, times in multiset.items()}
    results["keyed"] = {
        **k,
        "ratio_to_duckdb": ratio(k["ours"], k["duckdb"]),
        "ratio_to_polars": ratio(k["ours"], k["polars"]),
        "unmasked_ratio_to_duckdb": ratio(k["ours_unmasked"], k["duckdb"]),
    }
    results["multiset"] = {**m, "ratio_to_duckdb": ratio(m["ours"], m["duckdb"])}
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    wb.close()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")

    print(f"data diff of two {args.rows:,}-row snapshots ({want}):")
    rows = [
        ("keyed: ours", k["ours"]["median_s"], ""),
        (
            "keyed: ours, samples not masked",
            k["ours_unmasked"]["median_s"],
            f"ours {results['keyed']['unmasked_ratio_to_duckdb']:.2f}x",
        ),
        ("keyed: DuckDB FULL OUTER JOIN", k["duckdb"]["median_s"], f"ours {results['keyed']['ratio_to_duckdb']:.2f}x"),
        ("keyed: polars full join", k["polars"]["median_s"], f"ours {results['keyed']['ratio_to_polars']:.2f}x"),
        ("multiset: ours", m["ours"]["median_s"], ""),
        ("multiset: DuckDB EXCEPT ALL", m["duckdb"]["median_s"], f"ours {results['multiset']['ratio_to_duckdb']:.2f}x"),
    ]
    for name, median, note in rows:
        print(f"  {name:<32} {median:7.3f} s  {note}")
    log(f"done in {results['total_s']:.0f} s; results in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
