"""Benchmarks of the quality engine against Great Expectations, DuckDB and polars, in one run.

Run ``python benchmarks/quality.py``; ``--quick`` uses 500,000 suite rows and a 5,000,000-row
big table as a smoke check. Work files go to ``benchmarks/.work/quality/`` (git-ignored;
the big Parquet file is kept there and reused by later runs when its rows and generator
version match, ``--regenerate`` to rebuild it); figures go to stdout and to
``benchmarks/results/quality.json``.

As in ``run.py``, the machine may be shared and noisy: the figures that matter are the
**ratios** to peers measured in the same run, with repetitions interleaved (A, B, C, ...,
then ..., C, B, A) and summarised as the median and the 95th percentile.

The suite: five checks of an orders table,

===========  =========================================  ===================================
check        contract (ODCS, built as a dict)           meaning
===========  =========================================  ===================================
not_null     customer_id ``nullValues`` mustBe 0        rows where customer_id is null
unique       order_id ``duplicateValues`` mustBe 0      non-null rows - distinct non-null
between      amount ``logicalTypeOptions``              non-null, non-NaN amounts outside
             minimum 0, maximum 10000                   [0, 10000] (two rules: below, above)
regex        status ``invalidValues`` pattern           non-null statuses not matching
             ``^[a-z]+$``                               ``^[a-z]+$``
allowed      city ``invalidValues`` validValues         non-null cities not in the list of
             (the 32 cities)                            32
===========  =========================================  ===================================

NaN counts as null (the contract semantics of ``odg_workbench.quality.rules`` and of Great
Expectations on pandas), so every hand-written peer excludes NaN amounts explicitly.

Data: ``--rows`` (default 5,000,000) deterministic rows (numpy generator, seed per 1M-row
chunk, derived from ``run.py``'s seed; ``run.py``'s status and city vocabularies), with a few
percent of nulls, NaN, duplicates and out-of-range, badly formed or unknown values in every
checked column, plus amounts exactly on the bounds 0 and 10000 (valid: bounds are inclusive).
The generator also counts, per chunk, what every check must find (duplicates only ever
repeat an id of the same chunk, so the counts add up); that is the ``generator`` column of
the correctness table. The data is written once as zstd Parquet (one row group per 1M-row
chunk) and also held in memory as an Arrow table.

1. Suite, in one process, on the Parquet file and on the in-memory data:

   * ours: ``odg_workbench.quality.check(<path or Arrow table>, contract, save=False)``
     (ibis engine on DuckDB; default samples, i.e. 5 failing rows per failing rule, as a
     user gets them), plus ``samples=0`` on the Parquet file to show what the samples cost,
     plus ``engine="array"`` on the Arrow table when ``odg_workbench/quality/engine_array.py``
     exists;
   * DuckDB: one hand-written aggregate computing the five counts, over ``read_parquet``
     and over the Arrow table (a fresh in-memory connection per repetition, as ours opens
     one per check); written the obvious way (``regexp_matches(status, '^[a-z]+$')``,
     ``city NOT IN (...)``), which is also the SQL ours generates. A "tuned" variant over
     ``read_parquet`` (``regexp_full_match``, ``list_contains``; same counts) shows what
     the same aggregate costs when written the way DuckDB 1.5 runs fastest;
   * polars: the same five counts as one ``select`` over ``pl.scan_parquet`` and over a
     ``pl.DataFrame`` of the Arrow table (conversion not timed);
   * Great Expectations 1.x: an ephemeral context, a pandas datasource, a whole-dataframe
     batch and a suite of the five equivalent expectations (``not_be_null``, ``be_unique``,
     ``be_between``, ``match_regex``, ``be_in_set``), validated with
     ``result_format="BASIC"`` (counts plus up to 20 unexpected values per expectation, the
     nearest to our 5 samples). Only ``batch.validate`` is timed; loading the Parquet file
     into pandas (``pd.read_parquet``) is timed as a separate case.

   Correctness: every engine's counts are compared; a disagreement between ours and the
   hand-written DuckDB aborts the run (exit status 2, after the results are written). GX
   counts uniqueness differently by definition: every row whose value occurs more than
   once (2 for a pair), not rows minus distinct values (1 for a pair); both are shown, with
   the GX definition recomputed by DuckDB.

   Ratios: GX / ours (target >= 20x) and ours / min(DuckDB, polars) on the same input
   (target <= 1.5x), and ours / the hand-written DuckDB query. A breakdown of one check
   (contract load, target resolution, rule compilation and schema check, the one-pass
   query, each rule's samples; median of 3) and a cProfile of one check (time inside
   DuckDB's native calls vs Python) show where the time goes.

2. Big table, larger than the memory allowed: ``--big-rows`` (default 50,000,000) rows
   written chunk by chunk with ``pyarrow.parquet.ParquetWriter`` (never all in memory; in
   a child process), then checked by ours with ``memory_limit=--memory-limit`` (default
   1GB, passed to DuckDB), once as a user would (with samples) and once with
   ``samples=0``, each in a fresh child process started before the suite runs, so that
   its ``ru_maxrss`` is the check's own (Linux carries ``ru_maxrss`` over fork and exec,
   so a child of a big parent would report the parent's peak). A background thread
   samples ``VmRSS`` every 50 ms during the check, and the size of DuckDB's spill
   directory (``.tmp`` under the current directory: DuckDB's default for an in-memory
   database; the child runs in ``benchmarks/.work/quality/big-child``). Compared with the
   file size and the Arrow in-memory size of the same data. One run per setting.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.metadata
import importlib.util
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from run import CITIES, SEED, STATUSES, log, machine, ms, ratio, summary, timed

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work" / "quality"
RESULTS = ROOT / "benchmarks" / "results"
PYTHON = sys.executable

GENERATOR = "quality-v1"  # bump when the data changes: the cached big file is rebuilt
CHUNK = 1_000_000  # rows per generated chunk and per Parquet row group
PATTERN = "^[a-z]+$"
LOW, HIGH = 0, 10_000
CHECKS = ("not_null", "unique", "between", "regex", "allowed")
# Values that break the rules; each must fail them (asserted below).
BAD_STATUSES = ["Paid", "on-hold", "SHIPPED", "", "new1", "d\u00e9clin\u00e9"]
BAD_CITIES = ["Gotham", "paris", "Berlin ", "Atlantis", "ZURICH"]
# Fractions of rows (independent draws).
P_NULL = {"order_id": 0.005, "customer_id": 0.02, "amount": 0.005, "status": 0.005, "city": 0.005}
P_DUP, P_OUT, P_NAN, P_EDGE, P_BAD_STATUS, P_BAD_CITY = 0.01, 0.01, 0.002, 0.001, 0.01, 0.015

assert not any(re.search(PATTERN, s) for s in BAD_STATUSES)
assert all(re.search(PATTERN, s) for s in STATUSES)
assert not set(BAD_CITIES) & set(CITIES)

# Rule ids of the contract -> the check they implement (between is two rules).
RULE_CHECK = {
    "customer_id_not_null": "not_null",
    "order_id_unique": "unique",
    "orders.amount.minimum": "between",
    "orders.amount.maximum": "between",
    "status_pattern": "regex",
    "city_known": "allowed",
}


# -- data ---------------------------------------------------------------------------------


def generate_chunk(index: int, n: int) -> tuple[pa.Table, dict[str, int]]:
    """Rows ``index * CHUNK ..`` of the orders table, and what each check must find in them."""
    rng = np.random.default_rng([SEED, index])
    start = index * CHUNK

    def mask(p: float) -> np.ndarray:
        return rng.random(n) < p

    order_id = np.arange(start, start + n, dtype=np.int64)
    dup = mask(P_DUP)
    order_id[dup] = np.maximum(order_id[dup] - rng.integers(1, 1_000, int(dup.sum())), start)  # same chunk only
    order_null = mask(P_NULL["order_id"])

    customer_id = rng.integers(1, 250_000, n, dtype=np.int32)
    customer_null = mask(P_NULL["customer_id"])

    amount = np.round(rng.gamma(2.0, 250.0, n), 2)
    out = mask(P_OUT)
    below = out & (rng.random(n) < 0.5)
    above = out & ~below
    amount[below] = -np.round(rng.uniform(0.01, 100.0, int(below.sum())), 2)
    amount[above] = np.round(rng.uniform(HIGH + 0.01, 50_000.0, int(above.sum())), 2)
    edge = mask(P_EDGE)
    amount[edge] = np.where(rng.random(int(edge.sum())) < 0.5, float(LOW), float(HIGH))
    nan = mask(P_NAN)
    amount[nan] = np.nan
    amount_null = mask(P_NULL["amount"])

    def strings(vocab: list[str], bad: list[str], p_bad: float, null: np.ndarray) -> tuple[pa.Array, int]:
        idx = rng.integers(0, len(vocab), n)
        is_bad = mask(p_bad)
        idx[is_bad] = len(vocab) + rng.integers(0, len(bad), int(is_bad.sum()))
        arr = pc.take(pa.array(vocab + bad), pa.array(idx, mask=null))
        return arr, int((is_bad & ~null).sum())

    status_null, city_null = mask(P_NULL["status"]), mask(P_NULL["city"])
    status, bad_status = strings(STATUSES, BAD_STATUSES, P_BAD_STATUS, status_null)
    city, bad_city = strings(CITIES, BAD_CITIES, P_BAD_CITY, city_null)

    start_us = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
    ts = start_us + rng.integers(0, 366 * 86_400 * 1_000_000, n, dtype=np.int64)
    table = pa.table(
        {
            "order_id": pa.array(order_id, mask=order_null),
            "customer_id": pa.array(customer_id, mask=customer_null),
            "amount": pa.array(amount, mask=amount_null),
            "status": status,
            "city": city,
            "order_ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "flag": pa.array(rng.random(n) < 0.1),
            "day": pa.array((ts // (86_400 * 1_000_000)).astype(np.int32), pa.date32()),
        }
    )
    valid_amount = ~amount_null & ~np.isnan(amount)
    ids = table.column("order_id")
    nonnull_ids = n - ids.null_count
    distinct = pc.count_distinct(ids, mode="only_valid").as_py()
    # GX's definition: rows whose (non-null) value occurs more than once.
    counts = np.bincount(order_id[~order_null] - start, minlength=n)
    expected = {
        "rows": n,
        "not_null": int(customer_null.sum()),
        "unique": nonnull_ids - distinct,
        "unique_gx": int(counts[counts > 1].sum()),
        "between": int((valid_amount & ((amount < LOW) | (amount > HIGH))).sum()),
        "between_below": int((valid_amount & (amount < LOW)).sum()),
        "between_above": int((valid_amount & (amount > HIGH)).sum()),
        "regex": bad_status,
        "allowed": bad_city,
    }
    return table, expected


def write_dataset(path: Path, rows: int, keep: bool) -> tuple[dict[str, Any], pa.Table | None]:
    """Generate ``rows`` rows chunk by chunk into a zstd Parquet file (one row group each).

    With ``keep`` the chunks are also returned as one Arrow table; without it at most one
    chunk is in memory at a time.
    """
    expected: dict[str, int] = {}
    kept: list[pa.Table] = []
    arrow_bytes = 0
    start = time.perf_counter()
    tmp = path.with_suffix(".partial")
    writer: pq.ParquetWriter | None = None
    try:
        for index in range((rows + CHUNK - 1) // CHUNK):
            n = min(CHUNK, rows - index * CHUNK)
            chunk, counts = generate_chunk(index, n)
            if writer is None:
                schema = chunk.schema.with_metadata({"odg_bench_generator": GENERATOR})
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_table(chunk.replace_schema_metadata(schema.metadata), row_group_size=CHUNK)
            arrow_bytes += chunk.nbytes
            for key, value in counts.items():
                expected[key] = expected.get(key, 0) + value
            if keep:
                kept.append(chunk)
            del chunk
            if (index + 1) % 10 == 0:
                log(f"  generated {(index + 1) * CHUNK:,} rows, {time.perf_counter() - start:.0f}s")
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    info = {
        "path": str(path.relative_to(ROOT)),
        "rows": rows,
        "file_bytes": path.stat().st_size,
        "arrow_bytes": arrow_bytes,
        "row_groups": pq.ParquetFile(path).metadata.num_row_groups,
        "generate_write_s": time.perf_counter() - start,
        "reused": False,
        "expected": expected,
    }
    path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    table = pa.concat_tables(kept) if keep else None
    return info, table


def cached_dataset(path: Path, rows: int) -> dict[str, Any] | None:
    """The description of an already written file of ``rows`` rows of this generator, if any."""
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        return None
    try:
        info: dict[str, Any] = json.loads(meta.read_text())
        md = pq.ParquetFile(path).metadata
        tag = (md.metadata or {}).get(b"odg_bench_generator", b"").decode()
    except (OSError, ValueError):
        return None
    if md.num_rows != rows or tag != GENERATOR or info.get("file_bytes") != path.stat().st_size:
        return None
    return {**info, "reused": True}


# -- the suite, per engine ----------------------------------------------------------------


def contract() -> dict[str, Any]:
    """The five checks as an ODCS v3 contract."""
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:odg:contract:bench-orders",
        "name": "Benchmark orders",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "orders",
                "physicalName": "orders",
                "physicalType": "table",
                "properties": [
                    {
                        "name": "order_id",
                        "logicalType": "integer",
                        "quality": [{"id": "order_id_unique", "metric": "duplicateValues", "mustBe": 0}],
                    },
                    {
                        "name": "customer_id",
                        "logicalType": "integer",
                        "quality": [{"id": "customer_id_not_null", "metric": "nullValues", "mustBe": 0}],
                    },
                    {
                        "name": "amount",
                        "logicalType": "number",
                        "logicalTypeOptions": {"minimum": LOW, "maximum": HIGH},
                    },
                    {
                        "name": "status",
                        "logicalType": "string",
                        "quality": [
                            {
                                "id": "status_pattern",
                                "metric": "invalidValues",
                                "arguments": {"pattern": PATTERN},
                                "mustBe": 0,
                            }
                        ],
                    },
                    {
                        "name": "city",
                        "logicalType": "string",
                        "quality": [
                            {
                                "id": "city_known",
                                "metric": "invalidValues",
                                "arguments": {"validValues": CITIES},
                                "mustBe": 0,
                            }
                        ],
                    },
                    {"name": "order_ts", "logicalType": "timestamp"},
                ],
            }
        ],
    }


def ours_counts(report: Any) -> dict[str, int]:
    """The five counts (plus rows, and between split in two) of a QualityReport."""
    out: dict[str, int] = {"rows": int(report.rows)}
    for outcome in report.outcomes:
        key = RULE_CHECK.get(outcome.rule.id)
        if key is None:
            raise RuntimeError(f"unexpected rule {outcome.rule.id} in the report")
        out[key] = out.get(key, 0) + int(outcome.failed)
        if key == "between":
            out["between_" + ("below" if outcome.rule.id.endswith("minimum") else "above")] = int(outcome.failed)
    return out


def run_ours(data: Any, engine: str = "auto", samples: int | None = None) -> dict[str, int]:
    from odg_workbench.quality import check

    kwargs: dict[str, Any] = {} if samples is None else {"samples": samples}
    return ours_counts(check(data, contract(), engine=engine, save=False, **kwargs))  # type: ignore[arg-type]


def sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def duckdb_sql(source: str, tuned: bool = False) -> str:
    """The hand-written aggregate: the five counts in one pass over ``source``.

    ``tuned`` writes the regex and the allowed values the way DuckDB 1.5 runs fastest
    (``regexp_full_match`` without anchors instead of an anchored ``regexp_matches``,
    ``list_contains`` on a list literal instead of ``NOT IN (<32 strings>)``, which DuckDB
    evaluates as one comparison per list element); same counts.
    """
    assert PATTERN.startswith("^")
    assert PATTERN.endswith("$")
    if tuned:
        regex = f"NOT regexp_full_match(status, '{PATTERN[1:-1]}')"
        allowed = f"NOT list_contains([{sql_list(CITIES)}], city)"
    else:
        regex = f"NOT regexp_matches(status, '{PATTERN}')"
        allowed = f"city NOT IN ({sql_list(CITIES)})"
    return f"""
        SELECT
            count(*) AS rows,
            count(*) FILTER (WHERE customer_id IS NULL) AS not_null,
            count(order_id) - count(DISTINCT order_id) AS "unique",
            count(*) FILTER (WHERE NOT isnan(amount) AND amount NOT BETWEEN {LOW} AND {HIGH}) AS between,
            count(*) FILTER (WHERE {regex}) AS regex,
            count(*) FILTER (WHERE {allowed}) AS allowed
        FROM {source}
    """


def parquet_source(path: Path) -> str:
    return "read_parquet('" + str(path).replace("'", "''") + "')"


def run_duckdb(source: str, arrow: pa.Table | None = None, tuned: bool = False) -> dict[str, int]:
    """One fresh in-memory connection (ours opens one per check too), one query."""
    import duckdb

    con = duckdb.connect()
    try:
        if arrow is not None:
            con.register("orders_arrow", arrow)
        cur = con.execute(duckdb_sql(source, tuned))
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        assert row is not None
        return dict(zip(names, map(int, row), strict=True))
    finally:
        con.close()


def duckdb_gx_unique(source: str, arrow: pa.Table | None = None) -> int:
    """GX's uniqueness count: rows whose non-null order_id occurs more than once."""
    import duckdb

    con = duckdb.connect()
    try:
        if arrow is not None:
            con.register("orders_arrow", arrow)
        sql = (
            f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {source} "
            "WHERE order_id IS NOT NULL GROUP BY order_id HAVING count(*) > 1)"
        )
        row = con.sql(sql).fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


def polars_exprs() -> list[Any]:
    import polars as pl

    amount, ids = pl.col("amount"), pl.col("order_id")
    return [
        pl.len().alias("rows"),
        pl.col("customer_id").null_count().alias("not_null"),
        (ids.count() - ids.drop_nulls().n_unique()).alias("unique"),
        (~amount.is_nan() & ~amount.is_between(LOW, HIGH)).sum().alias("between"),
        (~pl.col("status").str.contains(PATTERN)).sum().alias("regex"),
        (~pl.col("city").is_in(CITIES)).sum().alias("allowed"),
    ]


def run_polars(frame: Any) -> dict[str, int]:
    """``frame`` is a LazyFrame (``scan_parquet``) or a DataFrame."""
    import polars as pl

    out = frame.select(polars_exprs())
    if isinstance(out, pl.LazyFrame):
        out = out.collect()
    return {k: int(v) for k, v in out.row(0, named=True).items()}


class GreatExpectations:
    """An ephemeral GX context with a pandas whole-dataframe batch and the five expectations."""

    RESULT_FORMAT = "BASIC"
    CHECK_OF: ClassVar[dict[str, str]] = {
        "expect_column_values_to_not_be_null": "not_null",
        "expect_column_values_to_be_unique": "unique_gx",
        "expect_column_values_to_be_between": "between",
        "expect_column_values_to_match_regex": "regex",
        "expect_column_values_to_be_in_set": "allowed",
    }

    def __init__(self, frame: Any) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("bench").add_dataframe_asset("orders")
        definition = asset.add_batch_definition_whole_dataframe("all")
        suite = context.suites.add(gx.ExpectationSuite(name="orders"))
        e = gx.expectations
        for expectation in (
            e.ExpectColumnValuesToNotBeNull(column="customer_id"),
            e.ExpectColumnValuesToBeUnique(column="order_id"),
            e.ExpectColumnValuesToBeBetween(column="amount", min_value=LOW, max_value=HIGH),
            e.ExpectColumnValuesToMatchRegex(column="status", regex=PATTERN),
            e.ExpectColumnValuesToBeInSet(column="city", value_set=CITIES),
        ):
            suite.add_expectation(expectation)
        self.suite = suite
        self.batch = definition.get_batch(batch_parameters={"dataframe": frame})
        self.rows = len(frame)

    def validate(self) -> dict[str, int]:
        result = self.batch.validate(self.suite, result_format=self.RESULT_FORMAT)
        out = {"rows": self.rows}
        for r in result.results:
            out[self.CHECK_OF[r.expectation_config.type]] = int(r.result["unexpected_count"])
        return out


def engine_array_available() -> bool:
    return importlib.util.find_spec("odg_workbench.quality.engine_array") is not None


# -- 1. the suite --------------------------------------------------------------------------


def interleaved_reps(reps: dict[str, int], cases: dict[str, Callable[[], Any]]) -> dict[str, list[float]]:
    """Like ``run.interleaved``, with a repetition count per case (a case runs in the first
    ``reps[case]`` rounds; the order alternates from round to round)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for rnd in range(max(reps.values())):
        order = names if rnd % 2 == 0 else list(reversed(names))
        for name in order:
            if rnd < reps[name]:
                elapsed, _ = timed(cases[name])
                times[name].append(elapsed)
        done = ", ".join(f"{n} {times[n][-1]:.2f}s" for n in names if rnd < reps[n])
        log(f"  round {rnd + 1}: {done}")
    return times


def bench_suite(rows: int, reps: int, gx_reps: int, with_gx: bool) -> tuple[dict[str, Any], bool]:
    """Times, counts, ratios and a breakdown; the flag is False when ours disagrees with DuckDB."""
    import pandas as pd
    import polars as pl

    path = WORK / f"orders-{rows}.parquet"
    log(f"generating {rows:,} rows -> {path.relative_to(ROOT)}")
    info, table = write_dataset(path, rows, keep=True)
    assert table is not None
    log(
        f"  {info['generate_write_s']:.1f}s, {info['file_bytes'] / 1e6:.1f} MB on disk, {table.nbytes / 1e6:.0f} MB Arrow"
    )
    src_parquet = parquet_source(path)
    src_arrow = "orders_arrow"
    convert_s, frame = timed(lambda: pl.from_arrow(table))
    lazy = lambda: pl.scan_parquet(path)  # noqa: E731

    array = engine_array_available()
    cases: dict[str, Callable[[], Any]] = {
        "ours_parquet": lambda: run_ours(str(path)),
        "ours_parquet_nosamples": lambda: run_ours(str(path), samples=0),
        "ours_arrow": lambda: run_ours(table),
        "ours_frame": lambda: run_ours(frame),
        **({"ours_array": lambda: run_ours(table, engine="array")} if array else {}),
        "duckdb_parquet": lambda: run_duckdb(src_parquet),
        "duckdb_parquet_tuned": lambda: run_duckdb(src_parquet, tuned=True),
        "duckdb_arrow": lambda: run_duckdb(src_arrow, table),
        "polars_parquet": lambda: run_polars(lazy()),
        "polars_frame": lambda: run_polars(frame),
    }
    if not array:
        log("  odg_workbench/quality/engine_array.py not found: engine='array' skipped")

    # Warm-up, untimed (imports, page cache), and the counts of every engine.
    counts: dict[str, dict[str, int]] = {"generator": info["expected"]}
    errors: dict[str, str] = {}
    for name, fn in list(cases.items()):
        try:
            counts[name] = fn()
        except Exception as exc:  # an engine that fails is reported, not timed
            errors[name] = f"{type(exc).__name__}: {exc}"
            log(f"  {name} FAILED: {errors[name][:300]}")
            del cases[name]
    counts["duckdb_gx_definition"] = {"unique_gx": duckdb_gx_unique(src_parquet)}

    gx: GreatExpectations | None = None
    load_s: float | None = None
    if with_gx:
        log("Great Expectations: import, pandas load, context")
        import_s, _ = timed(lambda: __import__("great_expectations"))
        load_s, pdf = timed(lambda: pd.read_parquet(path))
        setup_s, gx = timed(lambda: GreatExpectations(pdf))
        assert gx is not None
        counts["gx_pandas"] = gx.validate()  # warm-up
        cases["gx_pandas"] = gx.validate
        cases["pandas_load"] = lambda: len(pd.read_parquet(path))

    rep_of = {name: (gx_reps if name in ("gx_pandas", "pandas_load") else reps) for name in cases}
    log(f"timing: {', '.join(f'{k} x{v}' for k, v in rep_of.items())}")
    times = interleaved_reps(rep_of, cases)
    s = {k: summary(v) for k, v in times.items()}

    agree = all(counts.get("ours_parquet", {}).get(k) == counts["duckdb_parquet"].get(k) for k in CHECKS)
    agree &= all(counts.get("ours_arrow", {}).get(k) == counts["duckdb_arrow"].get(k) for k in CHECKS)
    agree &= all(counts.get("ours_frame", {}).get(k) == counts["duckdb_arrow"].get(k) for k in CHECKS)
    if "ours_array" in counts:
        agree &= all(counts["ours_array"].get(k) == counts["duckdb_arrow"].get(k) for k in CHECKS)

    def best_peer(*names: str) -> str:
        return min(names, key=lambda n: s[n]["median_s"])

    peer_parquet = best_peer("duckdb_parquet", "polars_parquet")
    peer_memory = best_peer("duckdb_arrow", "polars_frame")
    ratios: dict[str, Any] = {
        "peer_parquet": peer_parquet,
        "peer_memory": peer_memory,
    }
    for ours_case, peer, duck in (
        ("ours_parquet", peer_parquet, "duckdb_parquet"),
        ("ours_parquet_nosamples", peer_parquet, "duckdb_parquet"),
        ("ours_arrow", peer_memory, "duckdb_arrow"),
        ("ours_frame", peer_memory, "duckdb_arrow"),
        ("ours_array", peer_memory, "duckdb_arrow"),
    ):
        if ours_case in s:
            ratios[f"{ours_case}_over_best_peer"] = ratio(s[ours_case], s[peer])
            ratios[f"{ours_case}_over_best_peer_p95"] = ratio(s[ours_case], s[peer], "p95_s")
            ratios[f"{ours_case}_over_duckdb"] = ratio(s[ours_case], s[duck])
    if "duckdb_parquet_tuned" in s:
        ratios["ours_parquet_over_duckdb_tuned"] = ratio(s["ours_parquet"], s["duckdb_parquet_tuned"])
        ratios["duckdb_parquet_over_tuned"] = ratio(s["duckdb_parquet"], s["duckdb_parquet_tuned"])
    if "gx_pandas" in s:
        for ours_case in ("ours_parquet", "ours_arrow", "ours_frame", "ours_array"):
            if ours_case in s:
                ratios[f"gx_over_{ours_case}"] = ratio(s["gx_pandas"], s[ours_case])
                ratios[f"gx_over_{ours_case}_p95"] = ratio(s["gx_pandas"], s[ours_case], "p95_s")

    log("breakdown of one check")
    result: dict[str, Any] = {
        "data": info,
        "arrow_bytes_in_memory": table.nbytes,
        "polars_from_arrow_s": convert_s,
        "engine_array_available": array,
        "gx": None
        if gx is None
        else {
            "version": importlib.metadata.version("great_expectations"),
            "result_format": GreatExpectations.RESULT_FORMAT,
            "import_s": import_s,
            "pandas_load_first_s": load_s,
            "context_setup_s": setup_s,
        },
        "counts": counts,
        "errors": errors,
        "ours_agrees_with_duckdb": agree,
        "times": s,
        "ratios": ratios,
        "breakdown": {"parquet": breakdown(str(path)), "arrow": breakdown(table)},
        "profile_parquet": profile_check(str(path)),
        "duckdb_sql": " ".join(duckdb_sql("<source>").split()),
        "duckdb_sql_tuned": " ".join(duckdb_sql("<source>", tuned=True).split()),
    }
    return result, agree


def profile_check(data: Any) -> dict[str, Any]:
    """One check under cProfile: the time spent inside DuckDB's native calls vs in Python,
    and the top functions by cumulative time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    run_ours(data)
    profiler.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    native = sum(
        row[2]  # tottime
        for (_, _, func), row in stats.stats.items()  # type: ignore[attr-defined]
        if "_duckdb" in func
    )
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(20)
    return {"total_s": total, "duckdb_native_s": native, "python_s": total - native, "top": text.getvalue()}


def breakdown(data: Any, reps: int = 3) -> dict[str, float]:
    """Median time of each phase of ``check`` on ``data``: the steps check() takes, called
    one by one through the quality modules' functions."""
    phases: dict[str, list[float]] = {}

    def phase(name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = fn()
        phases.setdefault(name, []).append(time.perf_counter() - start)
        return value

    for _ in range(reps):
        gc.collect()
        breakdown_once(data, phase)
    total = {k: float(np.median(v)) for k, v in phases.items()}
    total["samples_total"] = sum(v for k, v in total.items() if k.startswith("samples:"))
    total["sum_of_phases"] = sum(v for k, v in total.items() if k != "samples_total" and not k.startswith("of which"))
    return total


def breakdown_once(data: Any, phase: Callable[[str, Callable[[], Any]], Any]) -> None:
    from odg_workbench.quality import engine_ibis
    from odg_workbench.quality.check import check_schema, resolve_target
    from odg_workbench.quality.contract import compile_rules, load_contract

    c = phase("load_contract", lambda: load_contract(contract()))
    target = phase("resolve_target", lambda: resolve_target(data, engine="ibis"))
    try:
        t = target.table

        def compile_and_schema() -> list[Any]:
            rules = compile_rules(c, "orders")
            check_schema(c, "orders", dict(t.schema().items()), target.name)
            return rules

        rules = phase("compile_rules_schema", compile_and_schema)
        plan, _ = engine_ibis._build(t, rules)
        phase("of which ibis_compile", lambda: t.aggregate(**plan.aggs).compile())
        outcomes, _ = phase("one_pass_query", lambda: engine_ibis.evaluate(t, rules, samples=0))
        for out in outcomes:
            if not out.passed and out.failed:
                phase(f"samples:{out.rule.id}", lambda rule=out.rule: engine_ibis._samples(t, rule, 5, None))
    finally:
        phase("close", target.close)


# -- 2. the big table ---------------------------------------------------------------------


class RssSampler(threading.Thread):
    """Peak VmRSS of this process (and size of a spill directory) every ``interval`` seconds."""

    def __init__(self, interval: float = 0.05, spill_dir: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.spill_dir = spill_dir
        self.peak_rss = 0
        self.peak_spill = 0
        self.samples = 0
        self.timeline: list[tuple[float, int]] = []  # (seconds, MB) every 0.5 s
        self._done = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def spill_bytes(self) -> int:
        if self.spill_dir is None or not self.spill_dir.exists():
            return 0
        total = 0
        for entry in os.scandir(self.spill_dir):
            with contextlib.suppress(OSError):
                total += entry.stat().st_size
        return total

    def run(self) -> None:
        start = time.perf_counter()
        while True:
            rss = self.rss()
            self.peak_rss = max(self.peak_rss, rss)
            if self.samples % 10 == 0:
                self.timeline.append((round(time.perf_counter() - start, 2), rss // 1_000_000))
            if self.samples % 4 == 0:
                self.peak_spill = max(self.peak_spill, self.spill_bytes())
            self.samples += 1
            if self._done.wait(self.interval):
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


def big_child(path: Path, memory_limit: str, samples: int | None, output: Path) -> int:
    """In a fresh process: check ``path`` once with ``memory_limit``; write the figures."""
    import odg_workbench.quality as quality

    spill = Path.cwd() / ".tmp"  # DuckDB's default temp_directory for an in-memory database
    rss_before = RssSampler.rss()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sampler = RssSampler(spill_dir=spill)
    sampler.start()
    start = time.perf_counter()
    error, counts, duration = None, None, None
    try:
        kwargs: dict[str, Any] = {} if samples is None else {"samples": samples}
        report = quality.check(str(path), contract(), save=False, memory_limit=memory_limit, **kwargs)
        counts, duration = ours_counts(report), report.duration_s
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - start
    sampler.stop()
    figures = {
        "samples": "default (5)" if samples is None else samples,
        "wall_s": wall,
        "report_duration_s": duration,
        "error": error,
        "counts": counts,
        "rss_before_check_bytes": rss_before,
        "ru_maxrss_before_check_bytes": maxrss_before,
        "peak_rss_during_check_bytes": sampler.peak_rss,
        "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_samples": sampler.samples,
        "rss_timeline_mb": sampler.timeline,
        "peak_spill_bytes": sampler.peak_spill,
        "spill_dir": str(spill),
        "spill_left_after_check": spill.exists() and any(spill.iterdir()),
    }
    output.write_text(json.dumps(figures))
    return 0


def child(args: list[str], cwd: Path) -> float:
    """Run this script with ``args`` in a fresh process; its wall time."""
    start = time.perf_counter()
    proc = subprocess.run([PYTHON, __file__, *args], cwd=cwd, stdout=sys.stderr, check=False)  # stdout: progress bars
    if proc.returncode != 0:
        raise RuntimeError(f"child process {' '.join(args[:2])} failed ({proc.returncode})")
    return time.perf_counter() - start


def bench_big(rows: int, memory_limit: str, regenerate: bool) -> dict[str, Any]:
    """Generate (in a child process, so that this one stays small: a child inherits its
    parent's ru_maxrss), then check twice in fresh child processes: as a user would (with
    samples) and with samples=0 (the one-pass query alone)."""
    path = WORK / f"big-{rows}.parquet"
    info = None if regenerate else cached_dataset(path, rows)
    if info is None:
        log(f"generating {rows:,} rows in {CHUNK:,}-row chunks -> {path.relative_to(ROOT)} (child process)")
        child(["--big-generate", str(path), "--big-rows", str(rows)], WORK)
        info = cached_dataset(path, rows)
        assert info is not None
        info["reused"] = False
        log(f"  {info['generate_write_s']:.0f}s, {info['file_bytes'] / 1e6:.0f} MB on disk")
    else:
        log(f"reusing {path.relative_to(ROOT)} (generated in {info['generate_write_s']:.0f}s by an earlier run)")
    parent_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out: dict[str, Any] = {"data": info, "memory_limit": memory_limit, "parent_ru_maxrss_bytes": parent_maxrss}
    for key, samples in (("check", None), ("check_samples0", 0)):
        child_dir = WORK / "big-child"
        shutil.rmtree(child_dir, ignore_errors=True)
        child_dir.mkdir(parents=True)
        output = child_dir / "result.json"
        log(
            f"checking it (samples={samples if samples is not None else 'default'}, memory_limit={memory_limit}) "
            f"in a child process, cwd {child_dir.relative_to(ROOT)}"
        )
        args = ["--big-child", str(path), "--memory-limit", memory_limit, "--child-output", str(output)]
        process_s = child([*args, "--child-samples", str(samples)] if samples is not None else args, child_dir)
        figures = json.loads(output.read_text())
        figures["process_s"] = process_s
        figures["agrees_with_generator"] = figures["counts"] is not None and all(
            figures["counts"].get(k) == info["expected"][k] for k in CHECKS
        )
        out[key] = figures
        log(f"  {figures['wall_s']:.1f}s, peak RSS {figures['peak_rss_during_check_bytes'] / 1e6:.0f} MB")
    shutil.rmtree(WORK / "big-child", ignore_errors=True)
    return out


# -- report --------------------------------------------------------------------------------


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def fmt(x: Any) -> str:
    return "-" if x is None else f"{x:,}" if isinstance(x, int) else str(x)


def table_print(header: tuple[str, ...], lines: list[tuple[str, ...]]) -> None:
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))


LABELS = {
    "ours_parquet": "ours, check(parquet path)",
    "ours_parquet_nosamples": "ours, check(parquet path, samples=0)",
    "ours_arrow": "ours, check(Arrow table)",
    "ours_frame": "ours, check(polars DataFrame)",
    "ours_array": "ours, check(Arrow table, engine='array')",
    "duckdb_parquet": "DuckDB SQL over read_parquet",
    "duckdb_parquet_tuned": "DuckDB SQL over read_parquet, tuned",
    "duckdb_arrow": "DuckDB SQL over the Arrow table",
    "polars_parquet": "polars scan_parquet().select()",
    "polars_frame": "polars DataFrame.select()",
    "gx_pandas": "GX 1.x validate (pandas, BASIC)",
    "pandas_load": "pd.read_parquet (GX's load)",
}


def print_report(r: dict[str, Any]) -> None:
    suite = r.get("suite")
    if suite:
        rows = suite["data"]["rows"]
        s, ra = suite["times"], suite["ratios"]
        print(
            f"\n1. Suite: five checks on {rows:,} rows ({suite['data']['file_bytes'] / 1e6:.0f} MB zstd Parquet, "
            f"{suite['arrow_bytes_in_memory'] / 1e6:.0f} MB Arrow)\n"
        )
        lines = []
        for name, label in LABELS.items():
            if name not in s:
                continue
            peer = ""
            if name.startswith("ours"):
                p = ra["peer_parquet"] if "parquet" in name else ra["peer_memory"]
                peer = (
                    f"{ra[f'{name}_over_best_peer']:.2f}x / {ra[f'{name}_over_best_peer_p95']:.2f}x vs {p}; "
                    f"{ra[f'{name}_over_duckdb']:.2f}x vs {'duckdb_parquet' if 'parquet' in name else 'duckdb_arrow'}"
                )
            elif name == "duckdb_parquet_tuned":
                peer = f"ours_parquet / this: {ra['ours_parquet_over_duckdb_tuned']:.2f}x"
            elif name == "gx_pandas":
                peer = ", ".join(
                    f"{ra[f'gx_over_{o}']:.1f}x {o}"
                    for o in ("ours_parquet", "ours_arrow", "ours_frame", "ours_array")
                    if f"gx_over_{o}" in ra
                )
            lines.append(
                (
                    label,
                    f"{s[name]['n']}",
                    ms(s[name]["median_s"]),
                    ms(s[name]["p95_s"]),
                    f"{rows / s[name]['median_s']:,.0f}",
                    peer,
                )
            )
        table_print(("engine", "n", "median", "p95", "rows/s", "ratio median / p95"), lines)
        print(
            "\n   ratio for ours: ours / the faster of DuckDB and polars on the same input, and ours / the\n"
            "   hand-written DuckDB query (the same SQL ours generates); for GX: GX validate / ours"
        )
        targets = [
            ("GX / ours >= 20x", f"gx_over_{o}", lambda x: x >= 20)
            for o in ("ours_parquet", "ours_arrow", "ours_frame")
        ]
        targets += [
            ("ours / min(duckdb, polars) <= 1.5x", f"{o}_over_best_peer", lambda x: x <= 1.5)
            for o in ("ours_parquet", "ours_arrow", "ours_frame", "ours_array")
        ]
        print("\n   Targets (medians):")
        for text, key, ok in targets:
            if key in ra:
                print(f"     {text:36s} {key:34s} {ra[key]:6.2f}x  {'met' if ok(ra[key]) else 'MISSED'}")

        print("\n   Correctness (failed counts; 'unique' = non-null rows - distinct; GX: rows in duplicates)\n")
        c = suite["counts"]
        cols = [k for k in ("generator", *LABELS, "duckdb_gx_definition") if k in c]
        short = {"generator": "generator", "duckdb_gx_definition": "duckdb_gx_def"}
        header = ("check", *[short.get(k, k) for k in cols])
        lines = []
        for key in ("rows", *CHECKS, "unique_gx", "between_below", "between_above"):
            cells = [fmt(c[k].get(key)) for k in cols]
            if any(cell != "-" for cell in cells):
                lines.append((key, *cells))
        table_print(header, lines)
        verdict = "AGREE" if suite["ours_agrees_with_duckdb"] else "DISAGREE  <-- FAILURE"
        print(f"\n   ours vs hand-written DuckDB: {verdict}")
        for name, err in suite["errors"].items():
            print(f"   {name} failed: {err[:300]}")

        print("\n   Breakdown of one check (median of 3, phases called one by one)\n")
        b = suite["breakdown"]
        names = list(dict.fromkeys([*b["parquet"], *b["arrow"]]))
        table_print(
            ("phase", "parquet path", "Arrow table"),
            [
                (n, ms(b["parquet"][n]) if n in b["parquet"] else "-", ms(b["arrow"][n]) if n in b["arrow"] else "-")
                for n in names
            ],
        )
        prof = suite["profile_parquet"]
        print(
            f"\n   cProfile of one check(parquet path): {ms(prof['total_s'])}, of which inside DuckDB's native calls "
            f"{ms(prof['duckdb_native_s'])}, Python (ibis, contract, report) {ms(prof['python_s'])}"
        )
        if suite["gx"]:
            g = suite["gx"]
            print(
                f"\n   GX {g['version']}, result_format={g['result_format']}: import {g['import_s']:.1f} s, "
                f"context+batch setup {g['context_setup_s']:.2f} s, first pandas load {g['pandas_load_first_s']:.2f} s"
            )

    big = r.get("big")
    if big:
        d = big["data"]
        print(f"\n2. Big table: {d['rows']:,} rows, check(parquet path, memory_limit={big['memory_limit']!r})\n")
        gen = f"{d['generate_write_s']:.0f} s" + (" (by an earlier run; file reused)" if d["reused"] else "")
        print(
            f"   generate + write in 1M-row chunks: {gen}; Parquet on disk {mb(d['file_bytes'])} "
            f"({d['row_groups']} row groups); Arrow in-memory size {mb(d['arrow_bytes'])}\n"
        )
        runs = [(k, big[k]) for k in ("check", "check_samples0") if k in big]
        lines = []
        for label, fn in (
            (
                "check wall time",
                lambda c: (
                    "FAILED: " + str(c["error"])[:120]
                    if c["error"]
                    else f"{c['wall_s']:.1f} s ({d['rows'] / c['wall_s']:,.0f} rows/s)"
                ),
            ),
            ("RSS before the check (imports)", lambda c: mb(c["rss_before_check_bytes"])),
            ("peak RSS during the check (VmRSS, 50 ms)", lambda c: mb(c["peak_rss_during_check_bytes"])),
            ("peak RSS of the process (ru_maxrss)", lambda c: mb(c["ru_maxrss_bytes"])),
            ("  peak RSS / file size", lambda c: f"{c['peak_rss_during_check_bytes'] / d['file_bytes']:.2f}x"),
            ("  peak RSS / Arrow size", lambda c: f"{c['peak_rss_during_check_bytes'] / d['arrow_bytes']:.2f}x"),
            ("peak DuckDB spill (<cwd>/.tmp)", lambda c: mb(c["peak_spill_bytes"])),
            ("counts agree with the generator", lambda c: "yes" if c["agrees_with_generator"] else "NO"),
        ):
            lines.append((label, *[fn(c) for _, c in runs]))
        table_print(("", *["with samples (default)" if k == "check" else "samples=0" for k, _ in runs]), lines)
        c = big["check"]
        if c["counts"]:
            print(
                "\n   "
                + ", ".join(f"{k} {c['counts'].get(k, 0):,}" for k in ("rows", *CHECKS))
                + (
                    " (= generator)"
                    if c["agrees_with_generator"]
                    else " (generator: " + ", ".join(f"{k} {d['expected'][k]:,}" for k in ("rows", *CHECKS)) + ")"
                )
            )

    m = r["machine"]
    v = m["versions"]
    print(
        f"\n{m['date']}  {m['cpu_count']} CPUs  Python {m['python']}  duckdb {v['duckdb']}  ibis {v.get('ibis-framework')}  "
        f"polars {v.get('polars')}  pandas {v.get('pandas')}  great_expectations {v.get('great-expectations')}  "
        f"total {r['total_s']:.0f} s  load {m['loadavg_start']} -> {m['loadavg_end']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500k suite rows, 5M big rows, fewer repetitions")
    parser.add_argument("--rows", type=int, help="rows of the suite table (default 5,000,000)")
    parser.add_argument("--big-rows", type=int, help="rows of the big table (default 50,000,000)")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit of the big check (default 1GB)")
    parser.add_argument("--only", nargs="+", choices=["suite", "big"], help="run only these benchmarks")
    parser.add_argument("--reps", type=int, help="repetitions per engine (default 5; quick 3)")
    parser.add_argument("--gx-reps", type=int, help="repetitions of GX and of the pandas load (default 3; quick 2)")
    parser.add_argument("--no-gx", action="store_true", help="skip Great Expectations")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the big Parquet file even if cached")
    parser.add_argument("--output", type=Path, default=RESULTS / "quality.json", help="where to write the JSON")
    parser.add_argument("--big-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--big-generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-samples", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.big_child:
        return big_child(args.big_child, args.memory_limit, args.child_samples, args.child_output)
    if args.big_generate:
        write_dataset(args.big_generate, args.big_rows, keep=False)
        return 0

    rows = args.rows or (500_000 if args.quick else 5_000_000)
    big_rows = args.big_rows or (5_000_000 if args.quick else 50_000_000)
    reps = args.reps or (3 if args.quick else 5)
    gx_reps = args.gx_reps or (2 if args.quick else 3)
    only = set(args.only or ["suite", "big"])

    start = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    for stale in WORK.glob("orders-*"):
        stale.unlink()
    info = machine()
    for pkg in ("ibis-framework", "polars", "pandas", "great-expectations"):
        try:
            info["versions"][pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            info["versions"][pkg] = None
    results: dict[str, Any] = {
        "machine": info,
        "config": {
            "quick": args.quick,
            "rows": rows,
            "big_rows": big_rows,
            "memory_limit": args.memory_limit,
            "reps": reps,
            "gx_reps": gx_reps,
            "generator": GENERATOR,
            "contract": contract(),
        },
    }
    ok = True
    if "big" in only:  # first, while this process is small (children inherit its ru_maxrss)
        log(f"2. big table, {big_rows:,} rows")
        results["big"] = bench_big(big_rows, args.memory_limit, args.regenerate)
    if "suite" in only:
        log(f"1. suite on {rows:,} rows")
        results["suite"], ok = bench_suite(rows, reps, gx_reps, not args.no_gx)

    results["total_s"] = time.perf_counter() - start
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_report(results)
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    if not ok:
        print("\nFAILURE: our engine's counts differ from the hand-written DuckDB query", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
