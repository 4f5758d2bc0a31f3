"""Contract diff, table schema diff and contract lint: classification, lines, CLI exit codes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import typer
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import odg_workbench as odg
from odg_workbench.errors import ContractError
from odg_workbench.quality.diff import Change, diff_contracts, diff_schemas, lint, summarize
from odg_workbench.quality.rules import OPERATORS, Threshold
from tests.conftest import REPO

ORDERS_CONTRACT = REPO / "data" / "contracts" / "orders.odcs.yaml"

BASE: dict[str, Any] = {
    "apiVersion": "v3.0.2",
    "kind": "DataContract",
    "id": "urn:test:orders",
    "version": "1.0.0",
    "status": "active",
    "description": {"purpose": "Orders."},
    "team": {"name": "sales-data"},
    "tags": ["sales"],
    "slaProperties": [
        {"property": "freshness", "value": 30, "unit": "d", "element": "orders.ts"},
        {"property": "retention", "value": 1, "unit": "y"},
    ],
    "schema": [
        {
            "name": "orders",
            "physicalName": "orders",
            "properties": [
                {"name": "order_id", "logicalType": "string", "required": True, "primaryKey": True},
                {"name": "customer", "logicalType": "string", "logicalTypeOptions": {"maxLength": 20}},
                {"name": "quantity", "logicalType": "integer", "logicalTypeOptions": {"minimum": 1, "maximum": 30}},
                {
                    "name": "status",
                    "logicalType": "string",
                    "quality": [
                        {
                            "id": "status_known",
                            "metric": "invalidValues",
                            "arguments": {"validValues": ["placed", "shipped"]},
                            "mustBe": 0,
                        },
                        {"metric": "nullValues", "mustBeLessOrEqualTo": 1, "unit": "percent"},
                    ],
                },
                {"name": "code", "logicalType": "string", "logicalTypeOptions": {"pattern": "^[A-Z]{3}$"}},
                {"name": "ts", "logicalType": "timestamp"},
            ],
            "quality": [{"id": "enough", "metric": "rowCount", "mustBeGreaterThan": 10}],
        },
        {"name": "customers", "properties": [{"name": "id", "logicalType": "string"}]},
    ],
}

OBJ = "schema.orders"
PROPS = f"{OBJ}.properties"


def edited(edit: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    new = copy.deepcopy(BASE)
    edit(new)
    return new


def prop(c: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in c["schema"][0]["properties"] if p["name"] == name)


def rules(c: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return prop(c, name)["quality"]  # type: ignore[no-any-return]


def only(changes: list[Change], path: str) -> Change:
    """The one change at ``path`` (the version-bump warning aside)."""
    found = [c for c in changes if c.path == path]
    assert len(found) == 1, f"expected one change at {path}, got {[str(c) for c in changes]}"
    return found[0]


def set_threshold(rule: dict[str, Any], **operator: Any) -> None:
    for op in OPERATORS:
        rule.pop(op, None)
    rule.update(operator)


def apply(**ops: Any) -> Callable[[dict[str, Any]], None]:
    """An edit from ``{"<property>.<key>": value}`` (value None deletes the key)."""

    def edit(c: dict[str, Any]) -> None:
        for dotted, value in ops.items():
            name, *keys = dotted.split("__")
            target = prop(c, name)
            for k in keys[:-1]:
                target = target.setdefault(k, {})
            if value is None:
                target.pop(keys[-1], None)
            else:
                target[keys[-1]] = value

    return edit


CASES = [
    # removals, renames, additions
    pytest.param(lambda c: c["schema"].pop(1), "breaking", "schema.customers", id="object-removed"),
    pytest.param(
        lambda c: c["schema"].append({"name": "items", "properties": []}), "info", "schema.items", id="object-added"
    ),
    pytest.param(lambda c: c["schema"][0]["properties"].pop(5), "breaking", f"{PROPS}.ts", id="property-removed"),
    pytest.param(
        lambda c: c["schema"][0]["properties"].append({"name": "note", "logicalType": "string"}),
        "info",
        f"{PROPS}.note",
        id="optional-property-added",
    ),
    pytest.param(
        lambda c: c["schema"][0]["properties"].append({"name": "note", "logicalType": "string", "required": True}),
        "breaking",
        f"{PROPS}.note",
        id="required-property-added",
    ),
    # types
    pytest.param(apply(quantity__logicalType="number"), "warning", f"{PROPS}.quantity.logicalType", id="int-to-number"),
    pytest.param(
        apply(quantity__logicalType="string", quantity__logicalTypeOptions=None),
        "breaking",
        f"{PROPS}.quantity.logicalType",
        id="int-to-str",
    ),
    pytest.param(apply(ts__logicalType="date"), "breaking", f"{PROPS}.ts.logicalType", id="timestamp-to-date"),
    # flags
    pytest.param(apply(customer__required=True), "breaking", f"{PROPS}.customer.required", id="becomes-required"),
    pytest.param(apply(customer__unique=True), "breaking", f"{PROPS}.customer.unique", id="becomes-unique"),
    pytest.param(apply(customer__primaryKey=True), "breaking", f"{PROPS}.customer.primaryKey", id="becomes-key"),
    pytest.param(apply(order_id__required=False), "info", f"{PROPS}.order_id.required", id="becomes-optional"),
    pytest.param(apply(order_id__unique=True), "info", f"{PROPS}.order_id.unique", id="unique-explicit-on-key"),
    # logicalTypeOptions
    pytest.param(
        apply(quantity__logicalTypeOptions__minimum=2),
        "breaking",
        f"{PROPS}.quantity.logicalTypeOptions.minimum",
        id="minimum-up",
    ),
    pytest.param(
        apply(quantity__logicalTypeOptions__minimum=0),
        "info",
        f"{PROPS}.quantity.logicalTypeOptions.minimum",
        id="minimum-down",
    ),
    pytest.param(
        apply(quantity__logicalTypeOptions__maximum=20),
        "breaking",
        f"{PROPS}.quantity.logicalTypeOptions.maximum",
        id="maximum-down",
    ),
    pytest.param(
        apply(quantity__logicalTypeOptions__maximum=None),
        "info",
        f"{PROPS}.quantity.logicalTypeOptions.maximum",
        id="maximum-removed",
    ),
    pytest.param(
        apply(customer__logicalTypeOptions__minLength=2),
        "breaking",
        f"{PROPS}.customer.logicalTypeOptions.minLength",
        id="minLength-added",
    ),
    pytest.param(
        apply(customer__logicalTypeOptions__maxLength=10),
        "breaking",
        f"{PROPS}.customer.logicalTypeOptions.maxLength",
        id="maxLength-down",
    ),
    pytest.param(
        apply(customer__logicalTypeOptions__maxLength=40),
        "info",
        f"{PROPS}.customer.logicalTypeOptions.maxLength",
        id="maxLength-up",
    ),
    pytest.param(
        apply(customer__logicalTypeOptions__pattern="^C"),
        "breaking",
        f"{PROPS}.customer.logicalTypeOptions.pattern",
        id="pattern-added",
    ),
    pytest.param(
        apply(code__logicalTypeOptions__pattern="^[A-Z]{2}$"),
        "breaking",
        f"{PROPS}.code.logicalTypeOptions.pattern",
        id="pattern-changed",
    ),
    pytest.param(
        apply(code__logicalTypeOptions__pattern=None),
        "info",
        f"{PROPS}.code.logicalTypeOptions.pattern",
        id="pattern-removed",
    ),
    # quality rules
    pytest.param(
        lambda c: rules(c, "status")[0]["arguments"].update(validValues=["placed"]),
        "breaking",
        f"{PROPS}.status.quality.status_known.arguments.validValues",
        id="validValues-reduced",
    ),
    pytest.param(
        lambda c: rules(c, "status")[0]["arguments"].update(validValues=["placed", "shipped", "lost"]),
        "info",
        f"{PROPS}.status.quality.status_known.arguments.validValues",
        id="validValues-extended",
    ),
    pytest.param(
        lambda c: c["schema"][0]["quality"][0].update(mustBeGreaterThan=100),
        "breaking",
        f"{OBJ}.quality.enough.threshold",
        id="rowCount-threshold-up",
    ),
    pytest.param(
        lambda c: c["schema"][0]["quality"][0].update(mustBeGreaterThan=5),
        "info",
        f"{OBJ}.quality.enough.threshold",
        id="rowCount-threshold-down",
    ),
    pytest.param(
        lambda c: rules(c, "status")[1].update(mustBeLessOrEqualTo=0.5),
        "breaking",
        f"{PROPS}.status.quality.nullValues.threshold",
        id="percent-threshold-stricter-matched-by-metric",
    ),
    pytest.param(
        lambda c: rules(c, "status")[1].update(mustBeLessOrEqualTo=5),
        "info",
        f"{PROPS}.status.quality.nullValues.threshold",
        id="percent-threshold-looser",
    ),
    pytest.param(
        lambda c: set_threshold(rules(c, "status")[0], mustBeLessThan=3),
        "info",
        f"{PROPS}.status.quality.status_known.threshold",
        id="operator-changed-looser",
    ),
    pytest.param(
        lambda c: prop(c, "ts").update(quality=[{"id": "ts_present", "metric": "nullValues", "mustBe": 0}]),
        "breaking",
        f"{PROPS}.ts.quality.ts_present",
        id="quality-rule-added",
    ),
    pytest.param(
        lambda c: rules(c, "status").pop(0),
        "warning",
        f"{PROPS}.status.quality.status_known",
        id="quality-rule-removed",
    ),
    # metadata
    pytest.param(lambda c: c["description"].update(purpose="All orders."), "info", "description.purpose", id="desc"),
    pytest.param(lambda c: c.update(tags=["sales", "pii"]), "info", "tags", id="tags"),
    pytest.param(lambda c: c["team"].update(name="finance"), "info", "team.name", id="owner"),
    pytest.param(lambda c: c.update(status="deprecated"), "info", "status", id="status"),
    pytest.param(lambda c: c.update(version="1.0.1"), "info", "version", id="version"),
    pytest.param(apply(quantity__businessName="Units"), "info", f"{PROPS}.quantity.businessName", id="businessName"),
    pytest.param(
        lambda c: c.update(customProperties=[{"property": "costCenter", "value": "42"}]),
        "info",
        "customProperties",
        id="customProperties",
    ),
    pytest.param(apply(quantity__description="Units ordered"), "info", f"{PROPS}.quantity.description", id="prop-doc"),
    # SLAs
    pytest.param(
        lambda c: c["slaProperties"][0].update(value=1), "breaking", "slaProperties.freshness.value", id="fresher"
    ),
    pytest.param(
        lambda c: c["slaProperties"][0].update(value=2, unit="h"),
        "breaking",
        "slaProperties.freshness.value",
        id="fresher-in-other-unit",
    ),
    pytest.param(
        lambda c: c["slaProperties"][0].update(value=60), "info", "slaProperties.freshness.value", id="less-fresh"
    ),
    pytest.param(
        lambda c: c["slaProperties"][1].update(value=2), "info", "slaProperties.retention.value", id="other-sla"
    ),
]


@pytest.mark.parametrize(("edit", "kind", "path"), CASES)
def test_classification(edit: Callable[[dict[str, Any]], Any], kind: str, path: str) -> None:
    change = only(diff_contracts(BASE, edited(edit)), path)
    assert change.kind == kind, str(change)


def test_an_unchanged_contract_has_no_changes() -> None:
    assert diff_contracts(BASE, copy.deepcopy(BASE)) == []
    assert diff_contracts(ORDERS_CONTRACT, ORDERS_CONTRACT) == []
    assert summarize([]) == {"breaking": 0, "warning": 0, "info": 0, "total": 0, "highest": None}


def test_a_removed_and_added_property_at_the_same_place_with_the_same_type_is_a_rename() -> None:
    new = edited(apply(customer__name="client"))
    changes = diff_contracts(BASE, new)
    rename = only(changes, f"{PROPS}.customer")
    assert (rename.kind, rename.code, rename.old, rename.new) == ("breaking", "property.renamed", "customer", "client")
    assert not [c for c in changes if c.path == f"{PROPS}.client"]  # not also reported as an addition
    # Another type, or another position, makes it a removal plus an addition.
    retyped = diff_contracts(
        BASE, edited(apply(customer__logicalType="integer", customer__logicalTypeOptions=None, customer__name="client"))
    )
    assert only(retyped, f"{PROPS}.customer").code == "property.removed"
    assert only(retyped, f"{PROPS}.client").kind == "info"

    def move_and_rename(c: dict[str, Any]) -> None:
        props = c["schema"][0]["properties"]
        props.append(dict(props.pop(1), name="client"))

    moved = diff_contracts(BASE, edited(move_and_rename))
    assert only(moved, f"{PROPS}.customer").code == "property.removed"
    # Reordering alone changes nothing: properties are matched by name.
    reordered = edited(lambda c: c["schema"][0]["properties"].reverse())
    assert diff_contracts(BASE, reordered) == []


def test_the_changes_of_a_renamed_property_are_reported_too() -> None:
    new = edited(apply(quantity__logicalTypeOptions__maximum=10, quantity__name="qty"))
    changes = diff_contracts(BASE, new)
    assert only(changes, f"{PROPS}.quantity").code == "property.renamed"
    assert only(changes, f"{PROPS}.qty.logicalTypeOptions.maximum").kind == "breaking"


def test_integer_thresholds_compare_over_integers() -> None:
    # "> 10 rows" and ">= 11 rows" accept the same row counts: nothing is stricter.
    new = edited(lambda c: set_threshold(c["schema"][0]["quality"][0], mustBeGreaterOrEqualTo=11))
    assert only(diff_contracts(BASE, new), f"{OBJ}.quality.enough.threshold").kind == "info"
    stricter = edited(lambda c: set_threshold(c["schema"][0]["quality"][0], mustBeBetween=[11, 1000]))
    assert only(diff_contracts(BASE, stricter), f"{OBJ}.quality.enough.threshold").kind == "breaking"


@given(
    old_op=st.sampled_from(OPERATORS),
    new_op=st.sampled_from(OPERATORS),
    values=st.lists(st.integers(-20, 20), min_size=4, max_size=4),
)
def test_a_stricter_threshold_is_one_that_refuses_a_count_it_accepted(
    old_op: str, new_op: str, values: list[int]
) -> None:
    from odg_workbench.quality.diff import _stricter

    def threshold(op: str, a: int, b: int) -> Threshold:
        return Threshold(op, sorted([a, b]) if op.endswith("Between") else a)

    old, new = threshold(old_op, *values[:2]), threshold(new_op, *values[2:])
    refused = [x for x in range(-60, 61) if old.check(x) and not new.check(x)]
    assert _stricter(old, new, integral=True) == bool(refused), (old, new, refused)


@pytest.mark.parametrize(
    ("version", "warned"),
    [
        pytest.param("1.1.0", True, id="minor-bump"),
        pytest.param("1.0.0", True, id="no-bump"),
        pytest.param("2.0.0", False, id="major-bump"),
        pytest.param("v2.0.0-rc.1", False, id="major-prerelease"),
    ],
)
def test_breaking_changes_need_a_major_version(version: str, warned: bool) -> None:
    new = edited(lambda c: (c["schema"][0]["properties"].pop(5), c.update(version=version)))
    warnings = [c for c in diff_contracts(BASE, new) if c.code == "version.not_bumped"]
    assert [(c.kind, c.path) for c in warnings] == ([("warning", "version")] if warned else [])
    assert not [c for c in diff_contracts(BASE, edited(apply(customer__description="x"))) if c.path == "version"]


def test_a_version_that_is_not_semver_cannot_be_checked() -> None:
    new = edited(lambda c: (c["schema"][0]["properties"].pop(5), c.update(version="2024-06")))
    change = next(c for c in diff_contracts(BASE, new) if c.code == "version.unchecked")
    assert change.kind == "warning" and "2024-06" in change.message


def test_summary_counts_each_kind_and_names_the_highest() -> None:
    new = edited(lambda c: (c["schema"][0]["properties"].pop(5), c.update(status="retired"), rules(c, "status").pop(0)))
    summary = summarize(diff_contracts(BASE, new))
    assert summary == {"breaking": 1, "warning": 2, "info": 1, "total": 4, "highest": "breaking"}
    info_only = summarize(diff_contracts(BASE, edited(lambda c: c.update(status="retired"))))
    assert info_only["highest"] == "info"


def test_changes_carry_the_line_in_the_new_file(tmp_path: Path) -> None:
    text = ORDERS_CONTRACT.read_text()
    new_text = text.replace("maximum: 30", "maximum: 20").replace("name: quantity", "name: qty")
    new_file = tmp_path / "orders.v2.yaml"
    new_file.write_text(new_text)
    lines = new_text.splitlines()
    changes = diff_contracts(ORDERS_CONTRACT, new_file)
    rename = only(changes, f"{PROPS}.quantity")
    assert rename.kind == "breaking" and lines[rename.line - 1].strip() == "- name: qty"  # type: ignore[operator]
    tightened = only(changes, f"{PROPS}.qty.logicalTypeOptions.maximum")
    assert lines[tightened.line - 1].strip() == "maximum: 20"  # type: ignore[operator]
    # A removed element points at its parent that is still there.
    removed = only(diff_contracts(ORDERS_CONTRACT, _without_currency(text, tmp_path)), f"{PROPS}.currency")
    assert removed.kind == "breaking" and removed.line is not None
    assert (tmp_path / "no-currency.yaml").read_text().splitlines()[removed.line - 1].strip() == "properties:"


def _without_currency(text: str, tmp_path: Path) -> Path:
    data = yaml.safe_load(text)
    data["schema"][0]["properties"] = [p for p in data["schema"][0]["properties"] if p["name"] != "currency"]
    out = tmp_path / "no-currency.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def test_an_invalid_contract_is_an_error_not_a_diff() -> None:
    with pytest.raises(ContractError):
        diff_contracts(BASE, edited(apply(quantity__logicalType="int")))


def test_changes_are_json_ready() -> None:
    new = edited(lambda c: (rules(c, "status").pop(0), c.update(version="2.0.0")))
    for change in diff_contracts(BASE, new):
        assert json.loads(json.dumps(change.to_dict()))["kind"] == change.kind


# -- table schemas ------------------------------------------------------------------------


def _items(**columns: pa.Array) -> pa.Table:
    return pa.table(columns)


def test_schema_diff_between_two_snapshots(ws: odg.Workbench) -> None:
    from pyiceberg.types import LongType

    ws.ingest(
        _items(id=pa.array([1, 2], pa.int32()), name=pa.array(["a", "b"]), price=pa.array([1.5, 2.5], pa.float32())),
        "bronze.items",
    )
    first = ws.table("bronze.items").current_snapshot_id
    assert first is not None
    with ws.table("bronze.items").iceberg.update_schema() as update:
        update.update_column("id", field_type=LongType())
        update.rename_column("name", "label")
        update.delete_column("price")
    ws.ingest(_items(id=pa.array([3], pa.int64()), label=pa.array(["c"]), extra=pa.array(["x"])), "bronze.items")
    table = ws.table("bronze.items")
    table.tag("v2")

    changes = diff_schemas(table, first, "v2")
    got = {(c.kind, c.path, c.code) for c in changes}
    assert got == {
        ("warning", "id.type", "column.promoted"),
        ("breaking", "name", "column.renamed"),
        ("breaking", "price", "column.removed"),
        ("info", "extra", "column.added"),
    }
    assert only(changes, "id.type").old == "int" and only(changes, "id.type").new == "long"
    assert diff_schemas(table, first, first) == []
    assert diff_schemas(table, "v2") == []  # the current schema is v2's


def test_schema_diff_sees_a_column_made_required_and_a_non_promotion(ws: odg.Workbench) -> None:
    ws.ingest(_items(id=pa.array([1, 2], pa.int64()), flag=pa.array(["y", "n"])), "bronze.flags")
    table = ws.table("bronze.flags")
    first = table.current_snapshot_id
    assert first is not None
    with table.iceberg.update_schema(allow_incompatible_changes=True) as update:
        update.update_column("id", required=True)
    changes = diff_schemas(ws.table("bronze.flags"), first)  # to the current schema
    assert [(c.kind, c.path) for c in changes] == [("breaking", "id.required")]

    from pyiceberg.schema import Schema
    from pyiceberg.types import DecimalType, DoubleType, FloatType, IntegerType, NestedField, StringType

    from odg_workbench.quality.diff import _diff_iceberg

    def schema(*types: Any, required: bool = False) -> Schema:
        return Schema(*[NestedField(i + 1, f"c{i}", t, required=required) for i, t in enumerate(types)])

    before = schema(IntegerType(), FloatType(), DecimalType(10, 2), DecimalType(10, 2), StringType())
    after = schema(DoubleType(), DoubleType(), DecimalType(12, 2), DecimalType(12, 3), IntegerType())
    kinds = {c.path: c.kind for c in _diff_iceberg(before, after)}
    assert kinds == {
        "c0.type": "breaking",  # int -> double is not an Iceberg promotion
        "c1.type": "warning",
        "c2.type": "warning",
        "c3.type": "breaking",  # a scale change
        "c4.type": "breaking",
    }
    optional = _diff_iceberg(schema(StringType(), required=True), schema(StringType()))
    assert [(c.kind, c.path) for c in optional] == [("info", "c0.required")]
    added_required = _diff_iceberg(schema(StringType()), schema(StringType(), StringType(), required=False))
    assert [(c.kind, c.code) for c in added_required] == [("info", "column.added")]
    added_required = _diff_iceberg(
        Schema(NestedField(1, "a", StringType())),
        Schema(NestedField(1, "a", StringType()), NestedField(2, "b", StringType(), required=True)),
    )
    assert [(c.kind, c.code) for c in added_required] == [("breaking", "column.added_required")]


def test_schema_diff_of_an_unknown_snapshot_is_an_error(ws: odg.Workbench) -> None:
    ws.ingest(_items(id=pa.array([1])), "bronze.one")
    with pytest.raises(odg.SnapshotNotFoundError):
        diff_schemas(ws.table("bronze.one"), "no-such-tag")


# -- lint -----------------------------------------------------------------------------------

DEFECTS = """\
apiVersion: v3.0.2
kind: DataContract
id: urn:test:defects
version: "1.0"
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: string
        primaryKey: true
      - name: amount
        logicalType: number
      - name: order_id
        logicalType: string
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: []
            mustBe: 0
"""


def test_lint_reports_each_defect_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "defects.yaml"
    path.write_text(DEFECTS)
    got = [(f.level, f.line, f.path) for f in lint(path)]
    assert got == [
        ("warning", 1, "team"),
        ("warning", 1, "status"),
        ("warning", 4, "version"),
        ("warning", 10, "schema[0].properties[0].primaryKey"),
        ("warning", 13, "schema[0].properties[2].name"),
        ("warning", 18, "schema[0].properties[3].quality[0]"),
        ("warning", 20, "schema[0].properties[3].quality[0].arguments.validValues"),
    ]
    messages = {f.path: f.message for f in lint(path)}
    assert "first at line 8" in messages["schema[0].properties[2].name"]
    assert "id, dimension, severity" in messages["schema[0].properties[3].quality[0]"]


def test_lint_reports_schema_and_compile_errors_as_findings(tmp_path: Path) -> None:
    no_type = tmp_path / "no-type.yaml"
    no_type.write_text(DEFECTS.replace("      - name: amount\n        logicalType: number\n", "      - name: amount\n"))
    errors = [f for f in lint(no_type) if f.level == "error"]
    assert [(f.line, f.path) for f in errors] == [(11, "schema[0].properties[1].logicalType")]
    assert not [f for f in lint(no_type) if f.level == "warning" and "logicalType" in f.message]  # said once

    bad_enum = tmp_path / "bad-enum.yaml"
    bad_enum.write_text(DEFECTS.replace("logicalType: number", "logicalType: decimal"))
    assert [(f.level, f.line) for f in lint(bad_enum) if f.level == "error"] == [("error", 12)]

    bad_unit = tmp_path / "bad-unit.yaml"
    bad_unit.write_text(DEFECTS.replace("            mustBe: 0\n", "            mustBe: 0\n            unit: pct\n"))
    (error,) = [f for f in lint(bad_unit) if f.level == "error"]
    assert error.line == 18 and "unit must be rows or percent" in error.message
    assert not error.message.startswith(str(bad_unit))  # Finding.format adds file and line itself


def test_lint_of_a_clean_contract_has_no_errors_and_says_when_there_are_no_rules(tmp_path: Path) -> None:
    assert not [f for f in lint(ORDERS_CONTRACT) if f.level == "error"]
    bare = copy.deepcopy(BASE)
    bare["schema"][0].pop("quality")
    bare.pop("slaProperties")
    bare["schema"][0]["properties"] = [{"name": "id", "logicalType": "string"}]
    path = tmp_path / "bare.yaml"
    path.write_text(yaml.safe_dump(bare, sort_keys=False))
    assert [(f.level, f.path) for f in lint(path)] == [("info", "schema")]


def test_lint_warns_about_repeated_yaml_keys(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(ORDERS_CONTRACT.read_text().replace("status: active\n", "status: active\nstatus: draft\n"))
    (finding,) = [f for f in lint(path) if "repeated" in f.message]
    assert (finding.level, finding.line, finding.path) == ("warning", 7, "status")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\x00\x01\xff\xfe binary", id="binary"),
        pytest.param(b"a: [1, 2\n", id="broken-yaml"),
        pytest.param(b"- just\n- a list\n", id="a-list"),
        pytest.param(b"", id="empty"),
        pytest.param(b"apiVersion: v3.0.2\nkind: DataContract\nid: x\nversion: 1.0.0\nschema: 5\n", id="schema-int"),
        pytest.param(
            b"apiVersion: v3.0.2\nkind: DataContract\nid: x\nversion: 1.0.0\nschema:\n  - name: o\n    properties: 5\n",
            id="properties-int",
        ),
        pytest.param(
            b"apiVersion: v3.0.2\nkind: DataContract\nid: x\nversion: 1.0.0\nschema:\n  - name: o\n"
            b"    quality:\n      - 1: x\n        metric: rowCount\n        mustBe: 1\n",
            id="integer-key-in-a-rule",
        ),
    ],
)
def test_lint_never_raises_on_a_bad_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    findings = lint(path)
    assert [f for f in findings if f.level == "error"], findings
    for f in findings:
        assert f.format(path).startswith(f"{path}")


def test_lint_of_a_missing_file_or_a_folder_reports_it(tmp_path: Path) -> None:
    (missing,) = lint(tmp_path / "nope.yaml")
    assert missing.level == "error" and "not found" in missing.message
    (folder,) = lint(tmp_path)
    assert folder.level == "error"


# -- CLI ------------------------------------------------------------------------------------


@pytest.fixture
def cli() -> Callable[..., Any]:
    from odg_workbench.cli.contract import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    runner = CliRunner(env={"ODG_USER": "cli-tester"})

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_cli_diff_exit_status_and_json(cli: Callable[..., Any], tmp_path: Path) -> None:
    old = _write(tmp_path, "v1.yaml", BASE)
    compatible = _write(tmp_path, "v1.1.yaml", edited(lambda c: c.update(version="1.1.0", status="deprecated")))
    breaking = _write(tmp_path, "v2.yaml", edited(lambda c: c["schema"][0]["properties"].pop(5)))

    ok = cli("contract", "diff", str(old), str(compatible), "--json")
    assert ok.exit_code == 0
    doc = json.loads(ok.stdout)
    assert doc["summary"] == {"breaking": 0, "warning": 0, "info": 2, "total": 2, "highest": "info"}
    assert doc["old"] == str(old) and doc["new"] == str(compatible)
    assert set(doc["changes"][0]) == {"kind", "code", "path", "message", "old", "new", "line"}

    bad = cli("contract", "diff", str(old), str(breaking), "--json")
    assert bad.exit_code == 3
    doc = json.loads(bad.stdout)
    assert doc["summary"]["breaking"] == 1 and doc["summary"]["highest"] == "breaking"
    removed = next(c for c in doc["changes"] if c["kind"] == "breaking")
    assert removed["path"] == f"{PROPS}.ts" and isinstance(removed["line"], int)

    human = cli("contract", "diff", str(old), str(breaking))
    assert human.exit_code == 3
    assert f"breaking {PROPS}.ts: property ts removed" in human.stdout
    assert "2 changes (1 breaking, 1 warning, 0 info): breaking" in human.stdout
    same = cli("contract", "diff", str(old), str(old))
    assert same.exit_code == 0 and "no changes" in same.stdout


def test_cli_diff_of_an_invalid_contract_is_an_error(cli: Callable[..., Any], tmp_path: Path) -> None:
    old = _write(tmp_path, "v1.yaml", BASE)
    result = cli("contract", "diff", str(old), str(tmp_path / "missing.yaml"), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["type"] == "ContractError"


def test_cli_lint_exit_status_and_output(cli: Callable[..., Any], tmp_path: Path) -> None:
    defects = tmp_path / "defects.yaml"
    defects.write_text(DEFECTS)
    warned = cli("contract", "lint", str(defects))
    assert warned.exit_code == 0  # warnings do not fail
    assert f"{defects}:20: warning: validValues is empty" in warned.stdout
    assert f"{defects}: 0 errors, 7 warnings, 0 info" in warned.stdout

    broken = tmp_path / "broken.yaml"
    broken.write_text(DEFECTS.replace("logicalType: number", "logicalType: decimal"))
    failed = cli("contract", "lint", str(broken), "--json")
    assert failed.exit_code == 1
    doc = json.loads(failed.stdout)
    assert (doc["ok"], doc["file"]) == (False, str(broken))
    assert doc["summary"] == {"error": 1, "warning": 7, "info": 0}
    assert doc["findings"][0] == {
        "level": "warning",
        "path": "team",
        "line": 1,
        "message": "no owner: add team (name and members) so consumers know whom to ask",
    }
    not_yaml = tmp_path / "image.png"
    not_yaml.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert cli("contract", "lint", str(not_yaml)).exit_code == 1


def test_cli_schema_diff(cli: Callable[..., Any], ws: odg.Workbench) -> None:
    ws.ingest(_items(id=pa.array([1, 2], pa.int32()), name=pa.array(["a", "b"])), "bronze.items")
    ws.table("bronze.items").tag("v1")
    ws.ingest(_items(id=pa.array([3], pa.int64()), note=pa.array(["x"])), "bronze.items")  # promotes id, adds note
    ws.table("bronze.items").tag("v2")
    root = str(ws.root)

    widened = cli("schema-diff", "bronze.items", "--from", "v1", "--to", "v2", "--workspace", root, "--json")
    assert widened.exit_code == 0
    doc = json.loads(widened.stdout)
    assert doc["from_snapshot_id"] == ws.table("bronze.items").tags()["v1"]
    assert doc["to_snapshot_id"] == ws.table("bronze.items").tags()["v2"]
    assert [(c["kind"], c["path"]) for c in doc["changes"]] == [("warning", "id.type"), ("info", "note")]

    with ws.table("bronze.items").iceberg.update_schema() as update:
        update.rename_column("name", "label")
    renamed = cli("schema-diff", "bronze.items", "--from", "v1", "--workspace", root)
    assert renamed.exit_code == 3
    assert "breaking name: column name renamed to label" in renamed.stdout
    missing = cli("schema-diff", "bronze.items", "--from", "v9", "--workspace", root, "--json")
    assert missing.exit_code == 1 and json.loads(missing.stdout)["error"]["type"] == "SnapshotNotFoundError"
