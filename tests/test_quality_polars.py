"""The polars engine gives the ibis engine's results, rule by rule (property-based)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings

from odg_workbench.errors import QualityError
from odg_workbench.quality import check, compile_rules, engine_ibis, engine_polars, load_contract
from tests.test_quality_array import _summary, contracts, tables

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _without_sample_order(summary: dict[str, Any]) -> dict[str, Any]:
    # Failing-row samples are "some failing rows": compare them as sets of rows.
    rows = summary.pop("samples")
    summary["samples"] = sorted(map(repr, rows))
    return summary


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(table=tables(), contract=contracts())
def test_polars_engine_matches_ibis_engine(table: pa.Table, contract: dict[str, Any]) -> None:
    lazy = pl.from_arrow(table).lazy()  # type: ignore[union-attr]
    schema = dict(lazy.collect_schema().items())
    # the rules the polars engine takes (check() sends the others to the ibis engine)
    rules = [r for r in compile_rules(load_contract(contract)) if engine_polars.supports([r], schema)]
    assume(rules)
    con = ibis.duckdb.connect()
    try:
        reference, ref_rows = engine_ibis.evaluate(con.create_table("t", table, temp=True), rules, samples=3, now=NOW)
    finally:
        con.disconnect()
    ours, rows = engine_polars.evaluate(lazy, rules, samples=3, now=NOW)
    assert rows == ref_rows
    assert [o.rule.id for o in ours] == [o.rule.id for o in reference]
    for a, r in zip(ours, reference, strict=True):
        got, want = _summary(a), _summary(r)
        if a.rule.metric != "duplicateValues":  # duplicate samples are ordered (most repeated first)
            got, want = _without_sample_order(got), _without_sample_order(want)
        assert got == want, f"rule {a.rule.id} ({a.rule.metric} {a.rule.arguments})"


def _contract(**quality: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "c",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "t",
                "properties": [
                    {"name": "id", "logicalType": "integer", "required": True, "unique": True},
                    {"name": "code", "logicalType": "string", "logicalTypeOptions": {"pattern": "^[A-Z]+$"}},
                ],
                **quality,
            }
        ],
    }


def test_auto_picks_polars_for_frames_and_small_parquet_files(tmp_path: Path) -> None:
    table = pa.table({"id": [1, 2, 2, None], "code": ["AB", "ab", "C", None]})
    path = tmp_path / "t.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    on_frame = check(table, _contract())
    on_file = check(path, _contract())
    on_sql = check(path, _contract(), engine="ibis")
    assert (on_frame.engine, on_file.engine, on_sql.engine) == ("polars", "polars", "ibis")
    view = [(o.rule.id, o.evaluated, o.failed) for o in on_sql.outcomes]
    assert [(o.rule.id, o.evaluated, o.failed) for o in on_frame.outcomes] == view
    assert [(o.rule.id, o.evaluated, o.failed) for o in on_file.outcomes] == view


def test_large_files_and_sql_rules_stay_on_duckdb(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from odg_workbench import open as open_ws

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1, 2], "code": ["A", "B"]}), path)
    sql = _contract(quality=[{"id": "q", "type": "sql", "query": "SELECT count(*) FROM {object}", "mustBe": 2}])
    assert check(path, sql).engine == "ibis"
    with open_ws(tmp_path / "ws") as wb:
        wb.config.set("quality.polars_max_file_mb", 0.0)
        assert wb.quality.check(path, _contract(), save=False).engine == "ibis"
    with pytest.raises(QualityError, match="use engine='ibis'"):
        check(path, sql, engine="polars")


def test_duplicate_samples_agree_across_engines_for_signed_zeros_and_nan() -> None:
    """-0.0 and 0.0 are one key (shown as 0.0 by every engine); NaN is missing, not a duplicate."""
    frame = pl.DataFrame({"a": [1.0, 1.0, 2.0, None, float("nan"), float("nan"), -0.0, 0.0, 3.0, 3.0, 3.0]})
    contract = _contract()
    contract["schema"][0]["properties"] = [
        {"name": "a", "logicalType": "number", "quality": [{"id": "dup", "metric": "duplicateValues", "mustBe": 0}]}
    ]
    seen = {}
    for engine in ("polars", "ibis", "array"):
        (outcome,) = check(frame, contract, save=False, engine=engine).outcomes  # type: ignore[arg-type]
        seen[engine] = (outcome.evaluated, outcome.failed, outcome.samples)
    assert seen["polars"] == seen["ibis"] == seen["array"]
    assert seen["polars"] == (
        8,
        4,
        [{"a": 3.0, "occurrences": 3}, {"a": 0.0, "occurrences": 2}, {"a": 1.0, "occurrences": 2}],
    )
    assert str(seen["polars"][2][1]["a"]) == "0.0"
