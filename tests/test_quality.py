"""The quality engine: contracts, rule semantics, backends, scores, gates, history, CLI."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.errors import ContractError, QualityError
from odg_workbench.quality import check, compile_rules, load_contract
from odg_workbench.quality.rules import Threshold
from tests.conftest import REPO, SAMPLES, new_pg_database, run_odg

ORDERS_CONTRACT = REPO / "data" / "contracts" / "orders.odcs.yaml"
NOW = datetime(2026, 11, 15, tzinfo=UTC)


def contract(
    properties: list[dict[str, Any]], quality: list[dict[str, Any]] | None = None, **top: Any
) -> dict[str, Any]:
    # ODCS v3's schema needs a logicalType on every property; the tests name their types here.
    types = {
        "a": "integer",
        "b": "string",
        "x": "number",
        "s": "string",
        "city": "string",
        "qty": "integer",
        "score": "integer",
    }
    properties = [{"logicalType": types.get(p["name"], "string"), **p} for p in properties]
    obj: dict[str, Any] = {"name": "t", "properties": properties}
    if quality:
        obj["quality"] = quality
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "c",
        "version": "1.0.0",
        "status": "active",
        "schema": [obj],
        **top,
    }


def outcomes(data: Any, c: dict[str, Any], **kw: Any) -> dict[str, dict[str, Any]]:
    report = check(data, c, now=NOW, **kw)
    return {r["id"]: r for r in report.to_dict()["rules"]}


# -- contracts: loading and errors -------------------------------------------------------


def test_sample_contract_compiles_to_rules_that_keep_their_ids() -> None:
    rules = compile_rules(load_contract(ORDERS_CONTRACT))
    ids = [r.id for r in rules]
    assert {"product_id_present", "currency_known", "status_known", "enough_orders", "positive_totals"} <= set(ids)
    assert "orders.order_id.required" in ids and "orders.order_id.unique" in ids  # primaryKey shorthand
    assert "orders.quantity.minimum" in ids and "orders.order_ts.freshness" in ids
    assert len(ids) == len(set(ids))
    status = next(r for r in rules if r.id == "status_known")
    assert (status.metric, status.column, status.severity, status.dimension) == (
        "invalidValues",
        "status",
        "error",
        "validity",
    )
    currency = next(r for r in rules if r.id == "currency_known")
    assert currency.dimension == "validity" and currency.odcs_dimension == "conformity"
    assert status.line is not None and "status_known" in ORDERS_CONTRACT.read_text().splitlines()[status.line - 1]


def test_schema_violation_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = ORDERS_CONTRACT.read_text().replace("mustBeLessOrEqualTo: 1", "mustBeBetween: [1]")
    bad.write_text(text)
    with pytest.raises(ContractError) as err:
        load_contract(bad)
    msg = str(err.value)
    line = text.splitlines().index("            mustBeBetween: [1]") + 1
    assert "[1] is too short" in msg
    assert f"bad.yaml:{line}:" in msg and "mustBeBetween" in msg, msg
    assert err.value.details["line"] == line


def test_invalid_yaml_gives_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("apiVersion: v3.0.2\nkind: DataContract\nschema:\n  - name: [unclosed\n")
    with pytest.raises(ContractError, match=r"broken\.yaml:\d+:\d+: invalid YAML"):
        load_contract(bad)


def test_missing_contract_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match=r"contract file not found: .*nope\.yaml"):
        load_contract(tmp_path / "nope.yaml")


def test_property_without_logical_type_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "apiVersion: v3.0.2\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n      - name: a\n"
    )
    with pytest.raises(ContractError, match=r"c\.yaml:9: schema\[0\]\.properties\[0\] \(a\): logicalType is missing"):
        load_contract(path)


def test_unknown_metric_suggests_the_closest() -> None:
    c = contract([{"name": "a", "logicalType": "integer", "quality": [{"metric": "nulValues", "mustBe": 0}]}])
    with pytest.raises(ContractError, match="unknown metric 'nulValues'; did you mean nullValues"):
        compile_rules(load_contract(c))


def test_a_rule_without_operator_is_explained() -> None:
    c = contract([{"name": "a", "quality": [{"metric": "nullValues"}]}])
    with pytest.raises(ContractError, match="needs an operator"):
        load_contract(c)


def test_two_operators_on_one_rule_are_refused() -> None:
    c = contract([{"name": "a", "quality": [{"metric": "nullValues", "mustBe": 0, "mustBeLessThan": 3}]}])
    with pytest.raises(ContractError, match="one operator, found mustBe, mustBeLessThan"):
        compile_rules(load_contract(c))


def test_unknown_column_suggests_close_names() -> None:
    c = contract([{"name": "custmer_id", "quality": [{"metric": "nullValues", "mustBe": 0}]}])
    with pytest.raises(ContractError, match=r"'custmer_id' is not a column of the data \(did you mean customer_id"):
        check(pa.table({"customer_id": [1]}), c, save=False)


def test_contract_type_disagreeing_with_the_data_is_an_error() -> None:
    c = contract([{"name": "a", "logicalType": "integer"}, {"name": "b", "logicalType": "date"}])
    with pytest.raises(ContractError) as err:
        check(pa.table({"a": ["x"], "b": [1.5]}), c)
    assert "contract says integer, the data has string" in str(err.value)
    assert "contract says date" in str(err.value)


# -- semantics --------------------------------------------------------------------------


def test_nan_counts_as_null_and_percent_is_over_all_rows() -> None:
    data = pa.table({"x": [1.0, float("nan"), None, 4.0]})
    c = contract(
        [{"name": "x", "quality": [{"id": "n", "metric": "nullValues", "unit": "percent", "mustBeLessThan": 60}]}]
    )
    r = outcomes(data, c)["n"]
    assert (r["evaluated"], r["failed"], r["value"], r["passed"]) == (4, 2, 50.0, True)


def test_invalid_and_duplicate_values_look_only_at_non_null_values() -> None:
    data = pa.table({"s": ["a", "a", None, None, "b", "zz", float("nan") and None]})
    c = contract(
        [
            {
                "name": "s",
                "quality": [
                    {
                        "id": "inv",
                        "metric": "invalidValues",
                        "arguments": {"validValues": ["a", "b"]},
                        "unit": "percent",
                        "mustBeLessThan": 50,
                    },
                    {"id": "dup", "metric": "duplicateValues", "mustBe": 0},
                ],
            }
        ]
    )
    res = outcomes(data, c)
    # 4 non-null values: a, a, b, zz -> one invalid (25 %), one duplicate (4 - 3 distinct)
    assert (res["inv"]["evaluated"], res["inv"]["failed"], res["inv"]["value"]) == (4, 1, 25.0)
    assert (res["dup"]["evaluated"], res["dup"]["failed"], res["dup"]["passed"]) == (4, 1, False)
    assert res["dup"]["samples"] == [{"s": "a", "occurrences": 2}]


def test_schema_level_duplicates_count_rows_whose_keys_are_all_present() -> None:
    data = pa.table({"a": [1, 1, 1, None, None], "b": ["x", "x", "y", "x", "x"]})
    c = contract(
        [{"name": "a"}, {"name": "b"}],
        quality=[{"id": "pk", "metric": "duplicateValues", "arguments": {"properties": ["a", "b"]}, "mustBe": 0}],
    )
    r = outcomes(data, c)["pk"]
    assert (r["evaluated"], r["failed"]) == (3, 1)


def test_missing_values_count_nulls_and_listed_values_over_all_rows() -> None:
    data = pa.table({"city": ["SP", "", "N/A", None, "RJ"]})
    c = contract(
        [
            {
                "name": "city",
                "quality": [
                    {
                        "id": "m",
                        "metric": "missingValues",
                        "arguments": {"missingValues": [None, "", "N/A"]},
                        "unit": "percent",
                        "mustBeLessOrEqualTo": 50,
                    }
                ],
            }
        ]
    )
    r = outcomes(data, c)["m"]
    assert (r["evaluated"], r["failed"], r["value"], r["passed"]) == (5, 3, 60.0, False)


def test_logical_type_options_and_shorthands() -> None:
    data = pa.table(
        {
            "id": [1, 2, 2, None],
            "code": ["AB-1", "ab-2", "AB-33", "AB-4"],
            "amount": [0.0, 5.0, 10.0, 11.0],
        }
    )
    c = contract(
        [
            {"name": "id", "logicalType": "integer", "required": True, "unique": True},
            {"name": "code", "logicalType": "string", "logicalTypeOptions": {"pattern": "^AB-[0-9]+$", "maxLength": 4}},
            {"name": "amount", "logicalType": "number", "logicalTypeOptions": {"exclusiveMinimum": 0, "maximum": 10}},
        ]
    )
    res = outcomes(data, c)
    assert res["t.id.required"]["failed"] == 1 and res["t.id.required"]["severity"] == "error"
    assert res["t.id.unique"]["failed"] == 1
    assert res["t.code.pattern"]["failed"] == 1  # ab-2
    assert res["t.code.maxLength"]["failed"] == 1  # AB-33
    assert res["t.amount.exclusiveMinimum"]["failed"] == 1  # 0.0
    assert res["t.amount.maximum"]["failed"] == 1  # 11.0


@pytest.mark.parametrize(
    ("operator", "value", "metric_value", "passed"),
    [
        ("mustBe", 0, 0, True),
        ("mustBe", 0, 1, False),
        ("mustNotBe", 0, 0, False),
        ("mustBeGreaterThan", 5, 5, False),
        ("mustBeGreaterOrEqualTo", 5, 5, True),
        ("mustBeLessThan", 5, 5, False),
        ("mustBeLessOrEqualTo", 5, 5, True),
        ("mustBeBetween", [2, 5], 5, True),
        ("mustBeBetween", [2, 5], 6, False),
        ("mustNotBeBetween", [2, 5], 2, False),
        ("mustNotBeBetween", [2, 5], 1, True),
    ],
)
def test_every_operator_through_row_count(operator: str, value: Any, metric_value: int, passed: bool) -> None:
    data = pa.table({"a": list(range(metric_value))}, schema=pa.schema([("a", pa.int64())]))
    c = contract([{"name": "a"}], quality=[{"id": "rc", "metric": "rowCount", operator: value}])
    r = outcomes(data, c)["rc"]
    assert r["value"] == metric_value and r["passed"] is passed
    assert (r["evaluated"], r["failed"]) == (1, 0 if passed else 1)
    assert Threshold(operator, value).check(metric_value) is passed


def test_sql_rule_with_placeholders() -> None:
    data = pa.table({"qty": [1, -2, 3, -4]})
    c = contract(
        [
            {
                "name": "qty",
                "quality": [
                    {
                        "id": "neg",
                        "type": "sql",
                        "query": "SELECT count(*) FROM {object} WHERE {property} < 0",
                        "mustBe": 0,
                    }
                ],
            }
        ]
    )
    r = outcomes(data, c)["neg"]
    assert (r["value"], r["passed"], r["dimension"]) == (2, False, "consistency")


def test_sql_rule_that_fails_to_run_names_the_rule_and_stores_nothing(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"qty": [1, 2]}), "bronze.items")
    c = contract(
        [{"name": "qty"}],
        quality=[{"id": "broken", "type": "sql", "query": "SELECT count(*) FROM {object} WHERE nope > 0", "mustBe": 0}],
    )
    c["schema"][0]["name"] = "items"
    with pytest.raises(QualityError, match=r"sql rule broken .*failed"):
        ws.quality.check("bronze.items", c)
    assert ws.quality.history("bronze.items") == []


def test_freshness_from_the_sla_properties() -> None:
    data = pa.table({"ts": pa.array([NOW - timedelta(days=3), NOW - timedelta(days=1)], pa.timestamp("us", tz="UTC"))})
    props = [{"name": "ts", "logicalType": "timestamp"}]
    fresh = contract(props, slaProperties=[{"property": "freshness", "value": 2, "unit": "d", "element": "t.ts"}])
    stale = contract(props, slaProperties=[{"property": "freshness", "value": 12, "unit": "h", "element": "t.ts"}])
    ok = outcomes(data, fresh)["t.ts.freshness"]
    assert ok["passed"] and ok["value"] == pytest.approx(86400) and ok["dimension"] == "timeliness"
    assert not outcomes(data, stale)["t.ts.freshness"]["passed"]


def test_empty_table_is_valid_and_says_so() -> None:
    data = pa.table({"a": pa.array([], pa.int64())})
    c = contract(
        [{"name": "a", "required": True, "unique": True}],
        quality=[{"id": "rc", "metric": "rowCount", "mustBeGreaterThan": 0}],
    )
    report = check(data, c)
    assert report.rows == 0 and report.empty
    assert report.outcome("t.a.required").passed and report.outcome("t.a.required").evaluated == 0
    assert not report.outcome("rc").passed
    assert "empty" in " ".join(report.notes)
    assert report.dimensions["uniqueness"].score is None


def test_failing_samples_mask_personal_data() -> None:
    data = pa.table({"email": ["ana@example.com", "bad-address"], "cpf": ["448.450.115-57", "x"], "score": [1, 200]})
    c = contract([{"name": "email"}, {"name": "cpf"}, {"name": "score", "logicalTypeOptions": {"maximum": 100}}])
    sample = outcomes(data, c)["t.score.maximum"]["samples"]
    assert sample == [{"score": 200, "email": "***", "cpf": "***"}]


# -- inputs and backends -------------------------------------------------------------------


def _orders_results(report: Any) -> dict[str, tuple[int, int, bool]]:
    return {o.rule.id: (o.evaluated, o.failed, o.passed) for o in report.outcomes}


def test_file_frame_and_workspace_table_give_the_same_results(ws: odg.Workbench) -> None:
    import polars as pl

    path = SAMPLES / "orders.parquet"
    from_file = check(path, ORDERS_CONTRACT, now=NOW)
    frame = pl.read_parquet(path)
    from_polars = check(frame, ORDERS_CONTRACT, now=NOW)
    from_pandas = check(frame.to_pandas(), ORDERS_CONTRACT, now=NOW)
    ws.ingest(path, "bronze.orders")
    from_table = ws.quality.check("bronze.orders", ORDERS_CONTRACT, now=NOW)
    expected = _orders_results(from_file)
    assert _orders_results(from_polars) == expected
    assert _orders_results(from_pandas) == expected
    assert _orders_results(from_table) == expected
    # the defects documented in data/samples/README.md
    assert expected["product_id_present"] == (20000, 45, True)
    assert expected["orders.quantity.minimum"][1] == 12
    assert (
        from_table.dataset == "bronze.orders"
        and from_table.snapshot_id == ws.table("bronze.orders").current_snapshot_id
    )


def test_any_snapshot_of_a_table(ws: odg.Workbench) -> None:
    c = contract([{"name": "a", "required": True}])
    c["schema"][0]["name"] = "snaps"
    ws.ingest(pa.table({"a": [1, 2]}), "bronze.snaps")
    ws.table("bronze.snaps").tag("clean")
    ws.ingest(pa.table({"a": [None, None]}, schema=pa.schema([("a", pa.int64())])), "bronze.snaps")
    now = ws.quality.check("bronze.snaps", c)
    before = ws.quality.check("bronze.snaps", c, as_of="clean")
    assert not now.passed and now.outcome("t.a.required" if False else "snaps.a.required").failed == 2
    assert before.passed and before.snapshot_id == ws.table("bronze.snaps").tags()["clean"]


def test_polars_ibis_backend_agrees_with_duckdb() -> None:
    import ibis
    import polars as pl

    frame = pl.read_parquet(SAMPLES / "orders.parquet")
    con = ibis.polars.connect()
    t = con.create_table("orders", frame)
    on_polars = check(t, ORDERS_CONTRACT, now=NOW)
    on_duckdb = check(SAMPLES / "orders.parquet", ORDERS_CONTRACT, now=NOW)
    assert on_polars.backend == "polars" and on_duckdb.backend == "duckdb"
    assert _orders_results(on_polars) == _orders_results(on_duckdb)


@pytest.mark.postgres
def test_postgresql_ibis_backend_agrees_with_duckdb(postgres_url: str) -> None:
    import ibis
    import polars as pl
    import sqlalchemy as sa

    url = sa.make_url(new_pg_database(postgres_url, f"q_{uuid.uuid4().hex[:8]}"))
    con = ibis.postgres.connect(host=url.host, port=url.port, user=url.username, database=url.database)
    frame = pl.read_parquet(SAMPLES / "orders.parquet").with_columns(
        pl.col("unit_price").cast(pl.Float64), pl.col("total_amount").cast(pl.Float64)
    )
    t = con.create_table("orders", frame.to_arrow())
    try:
        on_pg = check(t, ORDERS_CONTRACT, now=NOW)
    finally:
        con.disconnect()
    on_duckdb = check(frame, ORDERS_CONTRACT, now=NOW)
    assert on_pg.backend == "postgres"
    assert _orders_results(on_pg) == _orders_results(on_duckdb)


def test_compiled_sql_for_trino_and_spark() -> None:
    from odg_workbench.quality.engine_ibis import compiled_queries

    trino = compiled_queries(ORDERS_CONTRACT, "trino")
    spark = compiled_queries(ORDERS_CONTRACT, "databricks")
    assert trino[0]["purpose"].startswith("one pass") and spark[0]["purpose"].startswith("one pass")
    assert "REGEXP_LIKE" in trino[0]["sql"] and 'FROM "orders"' in trino[0]["sql"]
    assert "RLIKE" in spark[0]["sql"] or "REGEXP" in spark[0]["sql"]
    assert "FROM `orders`" in spark[0]["sql"]
    # one aggregate holds every row-level rule: a single FROM
    assert trino[0]["sql"].count("FROM") == 1


# -- scores and gates ----------------------------------------------------------------------


def test_dimension_scores_follow_the_documented_formula() -> None:
    data = pa.table({"a": [1, None, 3, 3], "b": ["x", "y", "bad", None]})
    c = contract(
        [
            {
                "name": "a",
                "quality": [
                    {"id": "a_null", "metric": "nullValues", "mustBe": 0},
                    {"id": "a_dup", "metric": "duplicateValues", "mustBe": 0},
                ],
            },
            {
                "name": "b",
                "quality": [
                    {"id": "b_null", "metric": "nullValues", "mustBe": 0},
                    {"id": "b_inv", "metric": "invalidValues", "arguments": {"validValues": ["x", "y"]}, "mustBe": 0},
                ],
            },
        ],
        quality=[{"id": "rc", "metric": "rowCount", "mustBeGreaterThan": 10}],
    )
    report = check(data, c)
    dims = report.dimensions
    # completeness: a_null 1/4, b_null 1/4, rowCount 1/1 -> 1 - 3/9
    assert dims["completeness"].score == pytest.approx(1 - 3 / 9)
    assert dims["uniqueness"].score == pytest.approx(1 - 1 / 3)
    assert dims["validity"].score == pytest.approx(1 - 1 / 3)
    assert report.score == pytest.approx(((1 - 3 / 9) + (1 - 1 / 3) + (1 - 1 / 3)) / 3)
    weighted = check(data, c, weights="completeness=2")
    assert weighted.score == pytest.approx((2 * (1 - 3 / 9) + 2 * (1 - 1 / 3)) / 4)


def test_gates_per_layer_and_contract_override(ws: odg.Workbench) -> None:
    data = pa.table({"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, None]})  # completeness 0.9
    c = contract([{"name": "a", "quality": [{"id": "n", "metric": "nullValues", "mustBe": 0}]}])
    assert check(data, c, layer="bronze").passed
    assert check(data, c, layer="silver").passed
    gold = check(data, c, layer="gold")
    assert not gold.passed and "below the gold gate 0.95" in " ".join(gold.verdict.reasons)
    assert "completeness 0.9000: n (1/10 failed)" in gold.verdict.reasons
    strict = dict(c, customProperties=[{"property": "odg.gate.bronze", "value": 0.95}])
    assert not check(data, strict, layer="bronze").passed
    ws.config.set("quality.gate_bronze", 0.99)
    assert not ws.quality.check(data, c, save=False).passed


def test_a_failing_error_rule_blocks_whatever_the_score() -> None:
    data = pa.table({"a": [*range(999), None]})
    c = contract(
        [{"name": "a", "required": True}], quality=[{"id": "rc", "metric": "rowCount", "mustBeGreaterThan": 0}]
    )
    report = check(data, c)
    assert report.score is not None and report.score > 0.99
    assert not report.passed and report.verdict.blocking_rules == ["t.a.required"]


# -- history -----------------------------------------------------------------------------------


def test_runs_are_stored_and_queryable_over_time(ws: odg.Workbench) -> None:
    c = contract(
        [{"name": "a", "quality": [{"id": "n", "metric": "nullValues", "unit": "percent", "mustBeLessThan": 40}]}]
    )
    c["schema"][0]["name"] = "hist"
    ws.ingest(pa.table({"a": [1, 2, 3]}), "bronze.hist")
    first = ws.quality.check("bronze.hist", c)
    ws.ingest(pa.table({"a": [None, None, None]}, schema=pa.schema([("a", pa.int64())])), "bronze.hist")
    second = ws.quality.check("bronze.hist", c)
    runs = ws.quality.history("bronze.hist")
    assert [r["run_id"] for r in runs] == [second.run_id, first.run_id]
    assert runs[0]["dimensions"]["completeness"] == pytest.approx(0.5) and runs[1]["dimensions"]["completeness"] == 1.0
    assert runs[0]["snapshot_id"] != runs[1]["snapshot_id"]
    frame = ws.quality.history_frame("bronze.hist")
    assert frame.height == 2 and frame["completeness"].to_list() == pytest.approx([0.5, 1.0])
    rules = ws.quality.rule_history("bronze.hist", "n")
    assert [r["value"] for r in rules] == pytest.approx([50.0, 0.0])
    stored = ws.quality.report(first.run_id)
    assert stored is not None and stored["rules"][0]["id"] == "n"
    events = [e for e in ws.events.history() if e.type == "quality.report"] if hasattr(ws.events, "history") else []
    assert all(e.resource == "bronze.hist" for e in events)


# -- CLI ----------------------------------------------------------------------------------------


def test_cli_check_json_shape_exit_codes_and_history(ws: odg.Workbench, tmp_path: Path) -> None:
    ws.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    proc = run_odg("quality", "check", "bronze.orders", "--contract", str(ORDERS_CONTRACT), "--json", workspace=ws.root)
    doc = json.loads(proc.stdout)
    assert {"dataset", "rows", "rules", "dimensions", "score", "verdict"} <= set(doc)
    assert doc["dataset"] == "bronze.orders" and doc["rows"] == 20000 and doc["verdict"] == "pass"
    rule = next(r for r in doc["rules"] if r["id"] == "product_id_present")
    assert {"id", "metric", "dimension", "value", "unit", "percent", "evaluated", "failed", "passed"} <= set(rule)
    assert math.isclose(rule["percent"], 0.225)
    failing = run_odg(
        "quality",
        "check",
        "bronze.orders",
        "--contract",
        str(ORDERS_CONTRACT),
        "--layer",
        "gold",
        "--json",
        workspace=ws.root,
        check=False,
    )
    assert failing.returncode == 3 and json.loads(failing.stdout)["verdict"] == "fail"
    hist = json.loads(run_odg("quality", "history", "bronze.orders", "--json", workspace=ws.root).stdout)
    assert [h["layer"] for h in hist] == ["gold", "bronze"]
    bad = run_odg(
        "quality",
        "check",
        "bronze.orders",
        "--contract",
        str(tmp_path / "missing.yaml"),
        "--json",
        workspace=ws.root,
        check=False,
    )
    assert bad.returncode == 1 and "contract file not found" in json.loads(bad.stdout)["error"]["message"]


def test_cli_sql_shows_the_compiled_query() -> None:
    proc = run_odg("quality", "sql", "--contract", str(ORDERS_CONTRACT), "--dialect", "trino")
    assert "-- one pass: 11 rules" in proc.stdout and "REGEXP_LIKE" in proc.stdout


def test_valid_values_no_row_can_equal_are_ignored_not_truncated() -> None:
    from decimal import Decimal

    def allowed(logical: str, values: list[Any]) -> dict[str, Any]:
        rule = {"id": "v", "metric": "invalidValues", "arguments": {"validValues": values}, "mustBe": 0}
        return contract([{"name": "a", "logicalType": logical, "quality": [rule]}])

    ints = pa.table({"a": [1, 2, 3]})
    assert outcomes(ints, allowed("integer", [1, 2.5]))["v"]["failed"] == 2  # 2.5 is not 2
    assert outcomes(ints, allowed("integer", [1e20, 3]))["v"]["failed"] == 2  # out of range: no error
    money = pa.table({"a": pa.array([Decimal("0.12"), Decimal("1.00")], pa.decimal128(10, 2))})
    assert outcomes(money, allowed("number", [0.125, 1]))["v"]["failed"] == 1


def test_sql_rules_on_a_frame_see_nan_as_duckdb_does() -> None:
    data = pa.table({"amount": [float("nan"), 0.5, 2.0, None]})
    c = contract(
        [{"name": "amount", "logicalType": "number"}],
        quality=[{"id": "q", "type": "sql", "query": "SELECT count(*) FROM {object} WHERE amount > 1", "mustBe": 0}],
    )
    assert outcomes(data, c)["q"]["value"] == 2  # DuckDB orders NaN above every number, as in a file
