"""The array engine (NumPy, CuPy on a GPU) gives the ibis engine's results, rule by rule."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odg_workbench.errors import QualityError
from odg_workbench.quality import check, engine_array, engine_ibis
from odg_workbench.quality.contract import compile_rules, load_contract
from odg_workbench.quality.rules import OPERATORS, Outcome, Rule
from tests.conftest import REPO, SAMPLES

ORDERS = SAMPLES / "orders.parquet"
ORDERS_CONTRACT = REPO / "data" / "contracts" / "orders.odcs.yaml"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def duck() -> Iterator[Any]:
    con = ibis.duckdb.connect()
    yield con
    con.disconnect()


@pytest.fixture
def numpy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engine_array.ARRAY_MODULE_ENV, "numpy")


def _plain(value: Any) -> Any:
    """Comparable values: NaN equals NaN, -0.0 equals 0.0 (DuckDB keeps either in a group)."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else value + 0.0
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _summary(o: Outcome) -> dict[str, Any]:
    return _plain(
        {
            "id": o.rule.id,
            "evaluated": o.evaluated,
            "failed": o.failed,
            "value": o.value,
            "passed": o.passed,
            "percent": o.percent,
            "samples": o.samples,
            "error": o.error,
        }
    )


def assert_same_outcomes(array: list[Outcome], reference: list[Outcome]) -> None:
    assert [o.rule.id for o in array] == [o.rule.id for o in reference]
    for a, r in zip(array, reference, strict=True):
        assert _summary(a) == _summary(r), f"rule {a.rule.id} ({a.rule.metric} {a.rule.arguments})"


def run_both(duck: Any, table: pa.Table, rules: list[Rule], samples: int = 3) -> tuple[list[Outcome], list[Outcome]]:
    expr = duck.create_table("t", table, temp=True, overwrite=True)
    reference, ref_rows = engine_ibis.evaluate(expr, rules, samples=samples, now=NOW)
    array, rows = engine_array.evaluate(table, rules, samples=samples, now=NOW)
    assert rows == ref_rows == table.num_rows
    return array, reference


# -- random tables and contracts -------------------------------------------------------------

_CHARS = ["a", "b", "A", "0", "7", " ", "\n", "é", "e\u0301", "'", "-"]
_DAYS = [date(2023, 12, 31), date(2024, 1, 1), date(2024, 1, 2), date(2024, 3, 1)]
_MOMENTS = [
    datetime(2024, 1, 1, 0, 0),
    datetime(2024, 1, 1, 10, 30, 0, 250000),
    datetime(2024, 1, 2, 6, 0),
    datetime(2025, 12, 31, 23, 59, 59),
]

# column -> (Arrow type, ODCS logicalType, kind, value strategy)
_COLUMNS: dict[str, tuple[pa.DataType, str, str, st.SearchStrategy[Any]]] = {
    "qty": (
        pa.int64(),
        "integer",
        "number",
        st.one_of(st.integers(-3, 5), st.sampled_from([2**53 + 1, 2**63 - 1, -(2**63), 10**6])),
    ),
    "amount": (
        pa.float64(),
        "number",
        "number",
        st.sampled_from([0.0, -0.0, 0.1, 1.5, -2.0, 3.0, 2.5, 100.0, 1e20, math.inf, -math.inf, math.nan]),
    ),
    "ratio": (pa.float32(), "number", "number", st.sampled_from([0.1, 0.5, 1.0, -0.0, 16777217.0, math.nan])),
    "price": (
        pa.decimal128(10, 2),
        "number",
        "number",
        st.sampled_from([Decimal("0.10"), Decimal("1.50"), Decimal("2.00"), Decimal("-3.25"), Decimal("100.00")]),
    ),
    "code": (pa.string(), "string", "string", st.lists(st.sampled_from(_CHARS), max_size=3).map("".join)),
    "flag": (pa.bool_(), "boolean", "bool", st.booleans()),
    "day": (pa.date32(), "date", "temporal", st.sampled_from(_DAYS)),
    "ts": (
        pa.timestamp("us", tz="UTC"),
        "timestamp",
        "temporal",
        st.sampled_from([m.replace(tzinfo=UTC) for m in _MOMENTS]),
    ),
    "logged": (pa.timestamp("us"), "timestamp", "temporal", st.sampled_from(_MOMENTS)),
}

_LITERALS = {
    "number": [0, 1, -1, 2, 2.5, 3.0, 0.1, 1.5, -0.0, 1e20, 1e-05, 100, 2**53 + 1, 2**63 - 1, True, "1", None],
    "string": ["a", "", "b", "ab", "é", "e\u0301", " ", "0", "'", 0, 1.5, True, None],
    "bool": [True, False, 1, "true", None],
    "temporal": ["2024-01-01", "2024-01-02", "2024-01-02 06:00:00", "2024-01-01 10:30:00.25", "2023-12-31T00:00:00Z"],
}
# The ibis engine on DuckDB types a validValues list as the column's type, which truncates
# 2.5 to 2 on an integer column and raises TypeError on a decimal column for 0.125 or 1e20
# (test_valid_values_compare_exactly): those lists are compared where it is right.
_VALID_VALUES = {
    "qty": [0, 1, -1, 2, 3.0, -0.0, 100, 2**53 + 1, 2**63 - 1, True, "1", None],
    "price": [0, 1, -1, 2, 2.5, 3.0, 0.1, 1.5, -0.0, 100, True, "1", None],
}
_BOUND_VALUES = {
    "number": [0, 1, -1, 2, 2.5, 0.1, 1.5, 3.0, 1e20, 1e-05, 100, 2**53, -(2**63)],
    "string": ["a", "b", "", "é", "0"],
    "temporal": ["2024-01-01", "2024-01-02 06:00:00", "2023-12-31", "2024-01-01 10:30:00"],
}
_PATTERNS = [
    "^a",
    "a$",
    "^[0-9]+$",
    "\\d",
    "^$",
    ".",
    "é",
    "(?i)a",
    "^.{2}$",
    "'",
    "\\n",
    "^\\s",
    "b|7",
    "^-",
    "\\.0$",
    "e\\+",
    "^true$",
    "^2024-01-0[12]",
    "\\+00$",
    "[[:alpha:]]",
    "e\u0301",
    "^(?:a|ab)$",
    "1",
]
# DuckDB 1.5.5 gets "^$" wrong on a timestamptz column (test_empty_pattern_on_timestamptz_column):
# the reference engine is compared where it is right.
_TSTZ_PATTERNS = [p for p in _PATTERNS if p != "^$"]
_DIMENSIONS = ["accuracy", "completeness", "conformity", "consistency", "coverage", "timeliness", "uniqueness"]


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 24))
    arrays = {}
    for name, (arrow_type, _, _, values) in _COLUMNS.items():
        # a few distinct values repeated: duplicates, ties and shared samples are common
        pool = draw(st.lists(st.one_of(st.none(), values), min_size=1, max_size=5))
        arrays[name] = pa.array(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)), arrow_type)
    return pa.table(arrays)


@st.composite
def thresholds(draw: st.DrawFn, unit: str) -> dict[str, Any]:
    op = draw(st.sampled_from(OPERATORS))
    number = st.integers(0, 12) if unit == "rows" else st.sampled_from([0, 0.0, 5, 12.5, 50, 100.0, 100 / 3])
    if op in ("mustBeBetween", "mustNotBeBetween"):
        lo, hi = sorted(draw(st.lists(number, min_size=2, max_size=2, unique=True)))
        return {op: [lo, hi]}
    return {op: draw(number)}


@st.composite
def property_rules(draw: st.DrawFn, name: str, kind: str) -> list[dict[str, Any]]:
    rules = []
    for _ in range(draw(st.integers(0, 2))):
        metric = draw(st.sampled_from(["nullValues", "missingValues", "invalidValues", "duplicateValues", "sql"]))
        unit = draw(st.sampled_from(["rows", "percent"]))
        rule: dict[str, Any] = {"metric": metric, "unit": unit, **draw(thresholds(unit))}
        if draw(st.booleans()):
            rule["dimension"] = draw(st.sampled_from(_DIMENSIONS))
        pool = _LITERALS[kind]
        if metric == "missingValues" and draw(st.booleans()):
            rule["arguments"] = {"missingValues": draw(st.lists(st.sampled_from(pool), max_size=4))}
        elif metric == "invalidValues":
            args: dict[str, Any] = {}
            if draw(st.booleans()):
                args["validValues"] = draw(st.lists(st.sampled_from(_VALID_VALUES.get(name, pool)), max_size=4))
            if "validValues" not in args or draw(st.booleans()):
                args["pattern"] = draw(st.sampled_from(_TSTZ_PATTERNS if name == "ts" else _PATTERNS))
            if kind in _BOUND_VALUES and draw(st.booleans()):
                args[draw(st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]))] = draw(
                    st.sampled_from(_BOUND_VALUES[kind])
                )
            if draw(st.booleans()):
                args[draw(st.sampled_from(["minLength", "maxLength"]))] = draw(st.integers(0, 4))
            rule["arguments"] = args
        elif metric == "sql":
            rule = {"type": "sql", "query": "SELECT count(*) FROM {object} WHERE {property} IS NULL", **rule}
            rule.pop("metric")
            rule.pop("unit")
        rules.append(rule)
    return rules


@st.composite
def properties(draw: st.DrawFn, name: str) -> dict[str, Any]:
    _, logical, kind, _ = _COLUMNS[name]
    prop: dict[str, Any] = {"name": name, "logicalType": logical}
    for flag in ("required", "unique", "primaryKey"):
        if draw(st.integers(0, 3)) == 0:
            prop[flag] = True
    # logicalTypeOptions as the ODCS schema allows them per logicalType (the quality
    # arguments of property_rules cross the lines: patterns on numbers, bounds on text ...)
    options: dict[str, Any] = {}
    if kind == "string" and draw(st.booleans()):
        options["pattern"] = draw(st.sampled_from(_PATTERNS))
    if kind == "string" and draw(st.booleans()):
        options[draw(st.sampled_from(["minLength", "maxLength"]))] = draw(st.integers(0, 4))
    if kind in ("number", "temporal") and draw(st.booleans()):
        for key in draw(
            st.lists(st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]), max_size=2)
        ):
            options[key] = draw(st.sampled_from(_BOUND_VALUES[kind]))
    if options:
        prop["logicalTypeOptions"] = options
    quality = draw(property_rules(name, kind))
    if quality:
        prop["quality"] = quality
    return prop


_SQL = [
    "SELECT count(*) FROM {object} WHERE amount > 1",
    "SELECT max(qty) FROM {object}",
    "SELECT count(DISTINCT code) FROM {object}",
    "SELECT sum(price) FROM {object}",
]


@st.composite
def contracts(draw: st.DrawFn) -> dict[str, Any]:
    names = list(_COLUMNS)
    schema_quality: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["rowCount", "duplicateValues", "sql", "text"]))
        if kind == "rowCount":
            schema_quality.append({"metric": "rowCount", **draw(thresholds("rows"))})
        elif kind == "duplicateValues":
            unit = draw(st.sampled_from(["rows", "percent"]))
            keys = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
            schema_quality.append(
                {"metric": "duplicateValues", "arguments": {"properties": keys}, "unit": unit, **draw(thresholds(unit))}
            )
        elif kind == "sql":
            schema_quality.append({"type": "sql", "query": draw(st.sampled_from(_SQL)), **draw(thresholds("rows"))})
        else:
            schema_quality.append({"type": "text", "description": "orders are plausible"})
    obj: dict[str, Any] = {
        "name": "orders",
        "physicalName": "orders",
        "physicalType": "table",
        "properties": [draw(properties(n)) for n in names],
    }
    if schema_quality:
        obj["quality"] = schema_quality
    contract: dict[str, Any] = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:test:orders",
        "version": "1.0.0",
        "status": "active",
        "schema": [obj],
    }
    if draw(st.booleans()):
        contract["slaProperties"] = [
            {
                "property": "freshness",
                "value": draw(st.sampled_from([1, 30, 800])),
                "unit": draw(st.sampled_from(["d", "h"])),
                "element": f"orders.{draw(st.sampled_from(['day', 'ts', 'logged']))}",
            }
        ]
    return contract


# numpy_only only sets an environment variable, the same for every example
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(table=tables(), contract=contracts())
def test_array_engine_matches_ibis_engine(
    duck: Any, numpy_only: None, table: pa.Table, contract: dict[str, Any]
) -> None:
    rules = compile_rules(load_contract(contract))
    array, reference = run_both(duck, table, rules)
    assert_same_outcomes(array, reference)


# -- the sample data through check() -------------------------------------------------------


def _report_view(report: Any) -> dict[str, Any]:
    d = report.to_dict()
    for rule in d["rules"]:
        rule.pop("duration_s")
        rule.pop("scan")
    return {k: d[k] for k in ("rows", "rules", "dimensions", "score", "verdict", "gate")}


def test_sample_orders_check_is_the_same_on_both_engines(numpy_only: None) -> None:
    array = check(str(ORDERS), str(ORDERS_CONTRACT), engine="array", now=NOW)
    reference = check(str(ORDERS), str(ORDERS_CONTRACT), engine="ibis", now=NOW)
    assert array.engine == "numpy"
    assert array.backend == "arrow"
    assert reference.engine == "ibis"
    assert _report_view(array) == _report_view(reference)
    # the comparison is not vacuous: the sample data fails rules and carries failing rows
    assert {o.rule.id for o in array.failed_rules} >= {"orders.quantity.minimum", "positive_totals"}
    assert array.outcome("orders.quantity.minimum").samples


def test_sample_orders_with_more_rules(duck: Any, numpy_only: None) -> None:
    """Patterns, lengths, lists, duplicate keys and bounds on real data, with failing-row samples."""
    table = pq.read_table(ORDERS)
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:test:orders-more",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "orders",
                "properties": [
                    {
                        "name": "order_id",
                        "logicalType": "string",
                        "unique": True,
                        "logicalTypeOptions": {"pattern": "^O0000[0-4]"},
                    },
                    {"name": "customer_id", "logicalType": "string", "unique": True},
                    {
                        "name": "unit_price",
                        "logicalType": "number",
                        "logicalTypeOptions": {"minimum": 20, "exclusiveMaximum": 999.9},
                    },
                    {
                        "name": "order_ts",
                        "logicalType": "timestamp",
                        "logicalTypeOptions": {"minimum": "2025-11-15"},
                        "quality": [
                            {"metric": "invalidValues", "arguments": {"pattern": ":00\\+00$"}, "mustBeLessThan": 100}
                        ],
                    },
                    {
                        "name": "payment_method",
                        "logicalType": "string",
                        "logicalTypeOptions": {"maxLength": 6},
                        "quality": [
                            {"metric": "missingValues", "arguments": {"missingValues": ["pix", ""]}, "mustBe": 0}
                        ],
                    },
                    {"name": "installments", "logicalType": "integer", "logicalTypeOptions": {"maximum": 3}},
                ],
                "quality": [
                    {
                        "metric": "duplicateValues",
                        "arguments": {"properties": ["customer_id", "product_id"]},
                        "unit": "percent",
                        "mustBeLessThan": 0.01,
                    }
                ],
            }
        ],
    }
    rules = compile_rules(load_contract(contract))
    array, reference = run_both(duck, table, rules, samples=5)
    assert_same_outcomes(array, reference)
    failed = {o.rule.id for o in array if not o.passed}
    assert "orders.customer_id.unique" in failed
    assert all(o.samples for o in array if not o.passed and o.rule.row_level)


# -- corner cases a user meets -----------------------------------------------------------------


def test_pattern_means_what_duckdb_means(duck: Any, numpy_only: None) -> None:
    """RE2 semantics: '$' does not match before a trailing newline, \\d is ASCII (Python's re differs)."""
    table = pa.table({"code": ["O000001", "O000002\n", "O٠٠٠٠٠3", None]})
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:test:re",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "t",
                "properties": [
                    {"name": "code", "logicalType": "string", "logicalTypeOptions": {"pattern": "^O\\d{6}$"}}
                ],
            }
        ],
    }
    rules = compile_rules(load_contract(contract))
    array, reference = run_both(duck, table, rules)
    assert_same_outcomes(array, reference)
    assert (array[0].evaluated, array[0].failed) == (3, 2)
    assert [s["code"] for s in array[0].samples] == ["O000002\n", "O٠٠٠٠٠3"]


def _contract(properties: list[dict[str, Any]], quality: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": "t", "properties": properties}
    if quality:
        obj["quality"] = quality
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:test:t",
        "version": "1.0.0",
        "status": "active",
        "schema": [obj],
    }


def test_valid_values_compare_exactly(numpy_only: None) -> None:
    """2 is not one of [1, 2.5]; 0.125 and 1e20 are numbers a decimal column is compared with.

    (The ibis engine on DuckDB currently accepts 2 here and raises TypeError for the decimal
    lists: it types the list as the column's type.)
    """
    table = pa.table(
        {
            "n": pa.array([1, 2, 3, None], pa.int64()),
            "p": pa.array([Decimal("0.13"), Decimal("1.50"), None, None], pa.decimal128(10, 2)),
        }
    )
    in_list = {"metric": "invalidValues", "mustBe": 0}
    contract = _contract(
        [
            {"name": "n", "logicalType": "integer", "quality": [{**in_list, "arguments": {"validValues": [1, 2.5]}}]},
            {
                "name": "p",
                "logicalType": "number",
                "quality": [{**in_list, "arguments": {"validValues": [0.125, 1e20, 1.5]}}],
            },
        ]
    )
    outcomes, _ = engine_array.evaluate(table, compile_rules(load_contract(contract)), samples=5)
    assert [(o.evaluated, o.failed) for o in outcomes] == [(3, 2), (2, 1)]
    assert [s["n"] for s in outcomes[0].samples] == [2, 3]
    assert [s["p"] for s in outcomes[1].samples] == ["0.13"]


def test_empty_pattern_on_timestamptz_column(duck: Any, numpy_only: None) -> None:
    """No timestamp reads as the empty string: every value fails "^$".

    (DuckDB 1.5.5, and so the ibis engine, reports none: it folds CAST(ts AS VARCHAR) = ''
    into a cast of '' to TIMESTAMPTZ, which is NULL; naive timestamps and dates are right.)
    """
    moment = datetime(2024, 1, 2, 6, 0)
    table = pa.table(
        {
            "ts": pa.array([moment.replace(tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC")),
            "naive": pa.array([moment] * 3, pa.timestamp("us")),
        }
    )
    empty = {"metric": "invalidValues", "arguments": {"pattern": "^$"}, "mustBe": 0}
    contract = _contract(
        [
            {"name": "ts", "logicalType": "timestamp", "quality": [empty]},
            {"name": "naive", "logicalType": "timestamp", "quality": [empty]},
        ]
    )
    array, reference = run_both(duck, table, compile_rules(load_contract(contract)))
    assert [o.failed for o in array] == [3, 3]
    assert _summary(array[1]) == _summary(reference[1])


def test_duplicate_keys_over_many_wide_columns(duck: Any, numpy_only: None) -> None:
    """Seven key columns of ~300 values each: the combined key is renumbered to stay in int64."""
    import random

    rng = random.Random(7)
    rows = 600
    base = [[rng.randrange(-(2**62), 2**62) for _ in range(300)] for _ in range(7)]
    columns = {f"k{i}": pa.array([rng.choice(base[i]) for _ in range(rows)], pa.int64()) for i in range(7)}
    table = pa.table(columns)
    table = pa.concat_tables([table, table.slice(0, 40), table.slice(10, 5)])  # 45 repeated keys, 5 of them twice
    keys = list(columns)
    contract = _contract(
        [{"name": k, "logicalType": "integer"} for k in keys],
        [{"metric": "duplicateValues", "arguments": {"properties": keys}, "mustBe": 0}],
    )
    array, reference = run_both(duck, table, compile_rules(load_contract(contract)), samples=6)
    assert_same_outcomes(array, reference)
    assert (array[0].evaluated, array[0].failed) == (645, 45)
    assert [s["occurrences"] for s in array[0].samples] == [3, 3, 3, 3, 3, 2]


def test_yaml_dates_in_arguments(duck: Any, numpy_only: None) -> None:
    """Unquoted YAML dates and timestamps (Python date/datetime values) mean what they mean to DuckDB."""
    table = pa.table(
        {
            "day": pa.array([date(2024, 1, 1), date(2024, 1, 2), date(2024, 3, 1), None]),
            "ts": pa.array(
                [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, 6, tzinfo=UTC), None, None],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    contract = load_contract(
        """
apiVersion: v3.0.2
kind: DataContract
id: urn:test:dates
version: 1.0.0
status: active
schema:
  - name: t
    properties:
      - name: day
        logicalType: date
        quality:
          - metric: invalidValues
            arguments: {validValues: [2024-01-01, 2024-01-02 00:00:00], maximum: 2024-01-02}
            mustBe: 0
          - metric: missingValues
            arguments: {missingValues: [2024-03-01]}
            mustBe: 0
      - name: ts
        logicalType: timestamp
        quality:
          - metric: invalidValues
            arguments: {validValues: [2024-01-01, 2024-01-02 06:00:00+00:00], exclusiveMinimum: 2023-12-31 23:00:00}
            mustBe: 0
"""
    )
    array, reference = run_both(duck, table, compile_rules(contract))
    assert_same_outcomes(array, reference)
    assert [o.failed for o in array] == [1, 2, 0]


def test_failing_sql_rule_raises_a_quality_error(duck: Any, numpy_only: None) -> None:
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:test:sql",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "t",
                "quality": [{"type": "sql", "query": "SELECT count(*) FROM {object} WHERE nope > 0", "mustBe": 0}],
            }
        ],
    }
    rules = compile_rules(load_contract(contract))
    with pytest.raises(QualityError, match=r"sql rule t\.sql.* failed: .*nope"):
        engine_array.evaluate(pa.table({"x": [1]}), rules, where="frame")


def test_forcing_cupy_without_a_gpu_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import cupy

        if cupy.cuda.is_available():
            pytest.skip("a GPU is present: forcing CuPy works here")
    except ImportError:
        pass
    monkeypatch.setenv(engine_array.ARRAY_MODULE_ENV, "cupy")
    with pytest.raises(QualityError, match=r"odg-workbench\[gpu\]"):
        engine_array.array_module_name()
    monkeypatch.delenv(engine_array.ARRAY_MODULE_ENV)
    assert engine_array.array_module_name() == "numpy"


# -- the GPU ---------------------------------------------------------------------------------


def test_cupy_gives_the_numpy_results(monkeypatch: pytest.MonkeyPatch) -> None:
    cupy = pytest.importorskip("cupy")
    if not cupy.cuda.is_available():
        pytest.skip("CuPy is installed but sees no CUDA device")
    table = pq.read_table(ORDERS)
    rules = compile_rules(load_contract(ORDERS_CONTRACT))
    monkeypatch.setenv(engine_array.ARRAY_MODULE_ENV, "cupy")
    assert engine_array.array_module_name() == "cupy"
    on_gpu, rows = engine_array.evaluate(table, rules, samples=5, now=NOW)
    assert all(o.scan in ("array (cupy)", "sql") for o in on_gpu if o.rule.executable)
    monkeypatch.setenv(engine_array.ARRAY_MODULE_ENV, "numpy")
    on_cpu, cpu_rows = engine_array.evaluate(table, rules, samples=5, now=NOW)
    assert rows == cpu_rows
    assert_same_outcomes(on_gpu, on_cpu)
    monkeypatch.delenv(engine_array.ARRAY_MODULE_ENV)
    report = check(str(ORDERS), str(ORDERS_CONTRACT), engine="array", now=NOW)
    assert report.engine == "cupy"
