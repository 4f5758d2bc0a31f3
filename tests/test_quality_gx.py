"""The Great Expectations bridge: contracts to suites and back, and GX as a second opinion."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from odg_workbench.errors import ContractError
from odg_workbench.quality import compile_rules, load_contract
from odg_workbench.quality import gx as odg_gx
from odg_workbench.quality.rules import Rule
from tests.conftest import REPO, SAMPLES

ORDERS = SAMPLES / "orders.parquet"
CUSTOMERS = SAMPLES / "customers.csv"
ORDERS_CONTRACT = REPO / "data" / "contracts" / "orders.odcs.yaml"
CUSTOMERS_CONTRACT = REPO / "data" / "contracts" / "customers.odcs.yaml"
NOW = datetime(2026, 11, 1, tzinfo=UTC)  # the samples' "now"

# Rows of customers.csv, and its non-null e-mails (README: 40 null e-mails).
CUSTOMER_ROWS = 2010
CUSTOMER_EMAILS = 1970


def rule_key(rule: Rule) -> tuple[Any, ...]:
    """What a round trip must keep: metric, column, arguments, threshold, unit ..."""
    return (
        rule.id,
        rule.metric,
        rule.column,
        json.dumps(rule.arguments, sort_keys=True),
        rule.threshold.operator,
        json.dumps(rule.threshold.value),
        rule.unit,
        rule.severity,
        rule.odcs_dimension,
    )


def gx_rules(contract_path: Path) -> list[Rule]:
    """The rules a suite can hold (freshness is an SLA of the contract, not a GX rule)."""
    return [r for r in compile_rules(load_contract(contract_path)) if r.metric != "freshness"]


def contract_doc(properties: list[dict[str, Any]], quality: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": "t", "properties": properties}
    if quality:
        obj["quality"] = quality
    return {"apiVersion": "v3.0.2", "kind": "DataContract", "id": "t", "version": "1.0.0", "schema": [obj]}


# -- no GX needed -------------------------------------------------------------------------


def test_importing_the_bridge_does_not_import_great_expectations() -> None:
    code = "import sys, odg_workbench.quality.gx; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


FOREIGN_SUITE: dict[str, Any] = {
    "name": "orders_suite",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "order_id"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "product_id", "mostly": 0.95}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "currency", "value_set": ["BRL", "USD"]}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "order_id", "regex": "^O[0-9]{6}$"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "quantity", "min_value": 1, "max_value": 30, "strict_max": True},
            "severity": "warning",
        },
        {"type": "expect_column_value_lengths_to_be_between", "kwargs": {"column": "status", "max_value": 9}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "order_id"}, "severity": "critical"},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["order_id", "product_id"]}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1000, "max_value": 50000}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "quantity", "min_value": 1, "max_value": 5}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "customer_id", "mostly": 0.5}},
    ],
    "meta": {"great_expectations_version": "1.24.1"},
}


def test_a_foreign_suite_imports_as_odcs_rules() -> None:
    contract = odg_gx.from_expectation_suite(
        FOREIGN_SUITE, name="Orders from GX", object_name="orders", logical_types={"product_id": "string"}
    )
    rules = {(r.metric, r.column, json.dumps(r.arguments, sort_keys=True)): r for r in compile_rules(contract)}

    not_null = rules[("nullValues", "order_id", "{}")]
    assert (not_null.threshold.operator, not_null.threshold.value, not_null.unit) == ("mustBe", 0, "rows")
    mostly = rules[("nullValues", "product_id", "{}")]
    assert (mostly.threshold.operator, mostly.threshold.value, mostly.unit) == ("mustBeLessOrEqualTo", 5, "percent")
    assert rules[("invalidValues", "currency", '{"validValues": ["BRL", "USD"]}')].threshold.value == 0
    assert ("invalidValues", "order_id", '{"pattern": "^O[0-9]{6}$"}') in rules
    assert ("invalidValues", "quantity", '{"minimum": 1}') in rules
    assert ("invalidValues", "quantity", '{"exclusiveMaximum": 30}') in rules
    assert ("invalidValues", "status", '{"maxLength": 9}') in rules
    assert rules[("duplicateValues", "order_id", "{}")].severity == "error"  # GX critical
    assert ("duplicateValues", None, '{"properties": ["order_id", "product_id"]}') in rules
    row_count = rules[("rowCount", None, "{}")]
    assert (row_count.threshold.operator, row_count.threshold.value) == ("mustBeBetween", [1000, 50000])

    # Unsupported expectations survive as custom rules holding the expectation.
    custom = {r.column: r for r in compile_rules(contract) if r.metric == "custom"}
    assert set(custom) == {"quantity", "customer_id"}
    raw = contract.raw["schema"][0]
    quantity = next(p for p in raw["properties"] if p["name"] == "quantity")
    entry = next(q for q in quantity["quality"] if q.get("type") == "custom")
    assert entry["engine"] == "greatExpectations"
    assert entry["implementation"] == {
        "type": "expect_column_mean_to_be_between",
        "kwargs": {"column": "quantity", "min_value": 1, "max_value": 5},
    }
    customer = next(p for p in raw["properties"] if p["name"] == "customer_id")
    assert "mostly < 1 does not translate" in customer["quality"][0]["description"]
    # logicalTypes: given, inferred from the bounds, or assumed (and said so)
    types = {p["name"]: p["logicalType"] for p in raw["properties"]}
    assert types["product_id"] == "string"
    assert types["quantity"] == "integer"
    assert "assumed" in customer["description"]


def test_import_writes_a_yaml_contract_that_loads(tmp_path: Path) -> None:
    suite_path = tmp_path / "suite.json"
    suite_path.write_text(json.dumps(FOREIGN_SUITE), encoding="utf-8")
    target = tmp_path / "orders.odcs.yaml"
    contract = odg_gx.from_expectation_suite(suite_path, name="Orders", object_name="orders", path=target)
    assert contract.path == target
    again = load_contract(target)
    assert [rule_key(r) for r in compile_rules(again)] == [rule_key(r) for r in compile_rules(contract)]


def test_import_takes_logical_types_from_the_data() -> None:
    suite = {"name": "s", "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}}]}
    data = pa.table({"x": pa.array([1, 2], pa.int32())})
    contract = odg_gx.from_expectation_suite(suite, name="T", object_name="t", data=data)
    assert contract.raw["schema"][0]["properties"][0]["logicalType"] == "integer"


@pytest.mark.parametrize(
    ("content", "message", "field"),
    [
        pytest.param("{not json", r"suite\.json:1:2: not a JSON expectation suite", None, id="not-json"),
        pytest.param("[1, 2]", r"suite\.json: an expectation suite is a JSON object", None, id="not-an-object"),
        pytest.param(
            '{"name": "s"}', r"suite\.json: expectations: .*'expectations' list", "expectations", id="no-list"
        ),
        pytest.param(
            '{"expectations": [{"kwargs": {}}]}',
            r"expectations\[0\]\.type: missing",
            "expectations[0].type",
            id="no-type",
        ),
        pytest.param(
            '{"expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {}}]}',
            r"expectations\[0\]\.kwargs\.column: .*needs a column name",
            "expectations[0].kwargs.column",
            id="no-column",
        ),
    ],
)
def test_a_bad_suite_file_is_named_with_the_field(
    tmp_path: Path, content: str, message: str, field: str | None
) -> None:
    path = tmp_path / "suite.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ContractError, match=message) as err:
        odg_gx.from_expectation_suite(path, name="S", object_name="t")
    assert str(path) in str(err.value)
    if field:
        assert err.value.details["field"] == field


def test_a_missing_suite_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match=r"expectation suite file not found: .*nope\.json"):
        odg_gx.from_expectation_suite(tmp_path / "nope.json", name="S", object_name="t")


# -- with GX --------------------------------------------------------------------------------


@pytest.mark.slow
def test_orders_engines_agree_rule_by_rule() -> None:
    result = odg_gx.compare(ORDERS, ORDERS_CONTRACT, now=NOW)
    assert result.data_rows == 20_000
    assert result.agree, result.to_text()
    by_id = {r.rule_id: r for r in result.rows}
    assert {r.rule_id for r in result.rows} == {r.id for r in compile_rules(load_contract(ORDERS_CONTRACT))}

    # README: 12 negative quantities, 45 null product ids (0.225% <= 1%)
    qty = by_id["orders.quantity.minimum"]
    assert (qty.odg_passed, qty.gx_passed, qty.odg_failed, qty.gx_failed) == (False, False, 12, 12)
    present = by_id["product_id_present"]
    assert (present.odg_passed, present.gx_passed, present.odg_failed, present.gx_failed) == (True, True, 45, 45)
    assert by_id["enough_orders"].gx_value == by_id["enough_orders"].odg_value == 20_000
    unique = by_id["orders.order_id.unique"]
    assert (unique.gx_passed, unique.gx_failed, unique.same_unit) == (True, 0, False)
    # GX cannot run these; they are listed with the reason, not dropped
    assert by_id["positive_totals"].gx_passed is None
    assert "sql" in by_id["positive_totals"].note
    assert by_id["orders.order_ts.freshness"].agree is None
    assert "freshness" in by_id["orders.order_ts.freshness"].note


@pytest.mark.slow
def test_customers_engines_agree_rule_by_rule() -> None:
    result = odg_gx.compare(CUSTOMERS, CUSTOMERS_CONTRACT, now=NOW)
    assert result.data_rows == CUSTOMER_ROWS
    assert result.agree, result.to_text()
    by_id = {r.rule_id: r for r in result.rows}
    counts = {
        rid: (by_id[rid].odg_passed, by_id[rid].gx_passed, by_id[rid].odg_failed, by_id[rid].gx_failed)
        for rid in by_id
        if by_id[rid].same_unit and by_id[rid].metric != "rowCount"
    }
    assert counts == {
        "customers.customer_id.required": (True, True, 0, 0),
        "customers.customer_id.pattern": (True, True, 0, 0),
        "customers.email.required": (False, False, 40, 40),
        "email_format": (False, False, 20, 20),
        "email_mostly_present": (True, True, 40, 40),  # 1.99% <= 2%
        "email_null_budget": (True, True, 40, 40),  # <= 40 rows: on the boundary
        "email_format_budget": (False, False, 20, 20),  # < 20 rows: on the boundary
        "cpf_format": (True, True, 0, 0),
        "customers.birth_date.minimum": (True, True, 0, 0),
        "customers.birth_date.maximum": (False, False, 5, 5),
        "state_is_uf": (True, True, 0, 0),
        "segment_present": (True, True, 0, 0),
        "customers.created_at.minimum": (True, True, 0, 0),
    }
    # Duplicates: 10 duplicated ids. We count the 10 extra rows, GX all 20 rows that share an id.
    for rid in ("customers.customer_id.unique", "one_row_per_customer_and_cpf"):
        row = by_id[rid]
        assert (row.odg_passed, row.gx_passed, row.odg_failed, row.gx_failed, row.same_unit) == (
            False,
            False,
            10,
            20,
            False,
        )
    assert by_id["customer_rows"].gx_value == CUSTOMER_ROWS
    assert "| customers.customer_id.unique | duplicateValues |" in result.to_text()


@pytest.mark.slow
def test_the_suite_carries_rule_ids_and_lists_what_it_skips() -> None:
    suite = odg_gx.to_expectation_suite(ORDERS_CONTRACT)
    exps = suite.to_json_dict()["expectations"]
    ids = {r.id for r in compile_rules(load_contract(ORDERS_CONTRACT))}
    carried = {e["meta"]["odg_rule_id"] for e in exps}
    skipped = {s.rule_id: s.reason for s in odg_gx.suite_skipped(suite)}
    assert carried | set(skipped) == ids  # never silently dropped
    assert not carried & set(skipped)
    assert "sql" in skipped["positive_totals"]
    assert "freshness" in skipped["orders.order_ts.freshness"]
    by_rule = {e["meta"]["odg_rule_id"]: e for e in exps}
    assert by_rule["product_id_present"]["type"] == "expect_column_values_to_not_be_null"
    assert by_rule["product_id_present"]["kwargs"]["mostly"] == 0.99  # <= 1 percent
    assert by_rule["orders.quantity.minimum"]["type"] == "expect_column_values_to_be_between"
    assert by_rule["enough_orders"]["kwargs"] == {"min_value": 1001}  # > 1000 rows
    assert by_rule["status_known"]["severity"] == "critical"  # severity: error


@pytest.mark.slow
def test_rows_thresholds_need_the_row_counts() -> None:
    suite = odg_gx.to_expectation_suite(CUSTOMERS_CONTRACT)
    skipped = {s.rule_id: s.reason for s in odg_gx.suite_skipped(suite)}
    assert set(skipped) == {"email_null_budget", "email_format_budget"}
    assert "rows=" in skipped["email_null_budget"]
    assert "non_null=" in skipped["email_format_budget"]

    suite = odg_gx.to_expectation_suite(CUSTOMERS_CONTRACT, rows=CUSTOMER_ROWS, non_null={"email": CUSTOMER_EMAILS})
    assert odg_gx.suite_skipped(suite) == []
    by_rule = {e["meta"]["odg_rule_id"]: e for e in suite.to_json_dict()["expectations"]}
    assert by_rule["email_null_budget"]["kwargs"]["mostly"] == (CUSTOMER_ROWS - 40) / CUSTOMER_ROWS
    assert by_rule["email_format_budget"]["kwargs"]["mostly"] == (CUSTOMER_EMAILS - 19) / CUSTOMER_EMAILS  # < 20
    assert by_rule["email_mostly_present"]["kwargs"]["mostly"] == 0.98
    segment = [e for e in suite.to_json_dict()["expectations"] if e["meta"]["odg_rule_id"] == "segment_present"]
    assert sorted(e["type"] for e in segment) == [
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_not_be_null",
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("contract_path", "counts"),
    [
        pytest.param(ORDERS_CONTRACT, {}, id="orders"),
        pytest.param(
            CUSTOMERS_CONTRACT, {"rows": CUSTOMER_ROWS, "non_null": {"email": CUSTOMER_EMAILS}}, id="customers"
        ),
    ],
)
def test_export_then_import_round_trips_the_rules(tmp_path: Path, contract_path: Path, counts: dict[str, Any]) -> None:
    suite = odg_gx.to_expectation_suite(contract_path, **counts)
    suite_path = tmp_path / "suite.json"
    suite_path.write_text(json.dumps(suite.to_json_dict(), default=str), encoding="utf-8")
    original = load_contract(contract_path)
    back = odg_gx.from_expectation_suite(
        suite_path, name=original.name, object_name=original.objects[0].name or "", path=tmp_path / "back.odcs.yaml"
    )
    assert sorted(map(rule_key, compile_rules(back))) == sorted(map(rule_key, gx_rules(contract_path)))
    types = {p.name: p.logicalType for p in original.objects[0].properties or []}
    assert {p.name: p.logicalType for p in back.objects[0].properties or []} == types


@pytest.mark.slow
def test_an_edited_suite_is_read_as_written(tmp_path: Path) -> None:
    doc = odg_gx.to_expectation_suite(ORDERS_CONTRACT).to_json_dict()
    for exp in doc["expectations"]:
        if exp["meta"]["odg_rule_id"] == "product_id_present":
            exp["kwargs"]["mostly"] = 0.9  # edited in GX after export
    back = odg_gx.from_expectation_suite(json.loads(json.dumps(doc, default=str)), name="O", object_name="orders")
    rule = next(r for r in compile_rules(back) if r.column == "product_id")
    assert (rule.threshold.operator, rule.threshold.value, rule.unit) == ("mustBeLessOrEqualTo", 10, "percent")


@pytest.mark.slow
def test_a_custom_gx_rule_runs_in_gx_after_import() -> None:
    contract = odg_gx.from_expectation_suite(FOREIGN_SUITE, name="Orders", object_name="orders", data=ORDERS)
    suite = odg_gx.to_expectation_suite(contract)
    mean = [e for e in suite.to_json_dict()["expectations"] if e["type"] == "expect_column_mean_to_be_between"]
    assert len(mean) == 1
    assert mean[0]["kwargs"] == {"column": "quantity", "min_value": 1, "max_value": 5}
    run = odg_gx.run_suite(ORDERS, contract)
    rule_id = mean[0]["meta"]["odg_rule_id"]
    assert run[rule_id].success is True
    assert 1 <= run[rule_id].observed_value <= 5
    comparison = odg_gx.compare(ORDERS, contract, now=NOW)
    row = comparison.row(rule_id)
    assert (row.odg_passed, row.gx_passed, row.agree) == (None, True, None)
    assert comparison.agree, comparison.to_text()


@pytest.mark.slow
def test_run_suite_gives_gx_numbers_keyed_by_rule_id() -> None:
    suite = odg_gx.to_expectation_suite(ORDERS_CONTRACT)
    run = odg_gx.run_suite(ORDERS, suite)
    assert run.rows == 20_000
    assert not run.success
    result = run["product_id_present"]
    assert (result.success, result.element_count, result.unexpected_count) == (True, 20_000, 45)
    assert result.unexpected_percent == pytest.approx(0.225)
    assert run["orders.quantity.minimum"].unexpected_count == 12
    assert run["enough_orders"].observed_value == 20_000
    assert {s.rule_id for s in run.skipped} == {"positive_totals", "orders.order_ts.freshness"}
    with pytest.raises(KeyError, match="no GX result for 'nope'"):
        run["nope"]


@pytest.mark.slow
def test_run_suite_reads_frames_of_every_kind() -> None:
    import pandas as pd
    import polars as pl

    contract = contract_doc(
        [
            {"name": "amount", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}},
            {
                "name": "n",
                "logicalType": "integer",
                "quality": [
                    {"id": "n_digits", "metric": "invalidValues", "arguments": {"pattern": "^[12]$"}, "mustBe": 0}
                ],
            },
        ]
    )
    arrow = pa.table(
        {
            "amount": pa.array([Decimal("1.50"), Decimal("-2.00"), None], pa.decimal128(10, 2)),
            "n": pa.array([1, 3, None], pa.int64()),
        }
    )
    frames = {
        "arrow": arrow,
        "polars": pl.from_arrow(arrow),
        "pandas": pd.DataFrame(
            {"amount": [Decimal("1.50"), Decimal("-2.00"), None], "n": pd.array([1, 3, None], dtype="Int64")}
        ),
    }
    for kind, frame in frames.items():
        run = odg_gx.run_suite(frame, contract)
        assert run["t.amount.minimum"].unexpected_count == 1, kind
        # an integer column with nulls is matched as "1", not "1.0"
        assert run["n_digits"].unexpected_count == 1, kind


@pytest.mark.slow
def test_nan_counts_as_null_in_both_engines() -> None:
    data = pa.table({"x": pa.array([1.0, float("nan"), None, 4.0])})
    assert data.column("x").null_count == 1  # in Arrow, NaN is a value
    contract = contract_doc(
        [
            {
                "name": "x",
                "logicalType": "number",
                "required": True,
                "quality": [
                    {"id": "x_known", "metric": "invalidValues", "arguments": {"validValues": [1.0, 4.0]}, "mustBe": 0}
                ],
            }
        ]
    )
    result = odg_gx.compare(data, contract, now=NOW)
    row = result.row("t.x.required")
    assert (row.odg_failed, row.gx_failed, row.agree) == (2, 2, True)
    # NaN is null, so not an invalid value either
    row = result.row("x_known")
    assert (row.odg_passed, row.gx_passed, row.odg_failed, row.gx_failed) == (True, True, 0, 0)


@pytest.mark.slow
def test_thresholds_gx_cannot_say_are_skipped_with_the_reason() -> None:
    contract = contract_doc(
        [
            {
                "name": "a",
                "logicalType": "string",
                "quality": [
                    {"id": "some_nulls", "metric": "nullValues", "mustBeGreaterThan": 0},
                    {"id": "few_dups", "metric": "duplicateValues", "mustBeLessOrEqualTo": 3},
                    {
                        "id": "two_checks",
                        "metric": "invalidValues",
                        "arguments": {"validValues": ["x"], "pattern": "^x$"},
                        "mustBeLessOrEqualTo": 5,
                        "unit": "percent",
                    },
                ],
            }
        ],
        [{"id": "not_ten", "metric": "rowCount", "mustNotBe": 10}],
    )
    suite = odg_gx.to_expectation_suite(contract)
    assert suite.to_json_dict()["expectations"] == []
    skipped = {s.rule_id: s.reason for s in odg_gx.suite_skipped(suite)}
    assert "not an upper bound on failures" in skipped["some_nulls"]
    assert "only a zero allowance translates" in skipped["few_dups"]
    assert "not to their union" in skipped["two_checks"]
    assert "not a range" in skipped["not_ten"]


@pytest.mark.slow
def test_an_unknown_column_is_named() -> None:
    suite = {
        "name": "s",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "custmer_id"}},
        ],
    }
    with pytest.raises(
        ContractError, match=r"expectations\[0\] .*unknown column 'custmer_id' \(did you mean customer_id"
    ):
        odg_gx.run_suite(ORDERS, suite)
    contract = contract_doc([{"name": "custmer_id", "logicalType": "string", "required": True}])
    with pytest.raises(ContractError, match=r"rule t\.custmer_id\.required.*unknown column 'custmer_id'"):
        odg_gx.run_suite(ORDERS, contract)


@pytest.mark.slow
def test_cli_exports_imports_and_compares(tmp_path: Path) -> None:
    from tests.conftest import run_odg

    suite = tmp_path / "suite.json"
    out = run_odg("contract", "to-gx", str(ORDERS_CONTRACT), "-o", str(suite))
    doc = json.loads(suite.read_text())
    ids = {e["meta"]["odg_rule_id"] for e in doc["expectations"]}
    assert "product_id_present" in ids and "positive_totals" not in ids
    assert "skipped positive_totals" in out.stderr
    contract = tmp_path / "orders.yaml"
    run_odg(
        "contract",
        "from-gx",
        str(suite),
        "--name",
        "Orders",
        "--object",
        "orders",
        "-o",
        str(contract),
        "--data",
        str(ORDERS),
    )
    back = {r.id for r in compile_rules(load_contract(contract))}
    assert ids <= back
    cmp = run_odg("contract", "compare-gx", str(CUSTOMERS), "-c", str(CUSTOMERS_CONTRACT), "--json")
    result = json.loads(cmp.stdout)
    assert result["agree"] is True and result["rows"] == CUSTOMER_ROWS
    unique = next(r for r in result["rules"] if r["rule_id"] == "customers.customer_id.unique")
    assert (unique["odg_failed"], unique["gx_failed"]) == (10, 20)
