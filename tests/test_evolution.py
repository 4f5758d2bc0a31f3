"""Schema evolution on append: additions and promotions land, conflicts are refused."""

from __future__ import annotations

import pyarrow as pa
import pytest

import odg_workbench as odg


@pytest.fixture
def base(ws: odg.Workbench) -> odg.Workbench:
    ws.ingest(
        pa.table({"id": pa.array([1, 2], pa.int32()), "price": pa.array([1.5, 2.5], pa.float32()), "name": ["a", "b"]}),
        "t",
    )
    return ws


def _types(ws: odg.Workbench) -> dict[str, str]:
    return {f.name: str(f.field_type) for f in ws.table("bronze.t").iceberg.schema().fields}


def test_new_column_is_added_and_old_rows_read_null(base: odg.Workbench) -> None:
    result = base.ingest(pa.table({"id": pa.array([3], pa.int32()), "name": ["c"], "country": ["BR"]}), "t")
    assert result.schema_changes == [
        {"kind": "add_column", "column": "country", "from_type": None, "to_type": "string"}
    ]
    rows = base.table("bronze.t").to_arrow().sort_by("id").to_pylist()
    assert [r["country"] for r in rows] == [None, None, "BR"]
    assert [r["price"] for r in rows] == [1.5, 2.5, None]  # missing column filled with nulls


def test_wider_types_promote_the_table(base: odg.Workbench) -> None:
    result = base.ingest(pa.table({"id": pa.array([2**40], pa.int64()), "price": pa.array([0.1], pa.float64())}), "t")
    kinds = {(c["column"], c["from_type"], c["to_type"]) for c in result.schema_changes}
    assert kinds == {("id", "int", "long"), ("price", "float", "double")}
    assert _types(base)["id"] == "long" and _types(base)["price"] == "double"
    assert sorted(base.table("bronze.t").to_arrow().column("id").to_pylist()) == [1, 2, 2**40]


def test_narrower_types_are_widened_on_write(base: odg.Workbench) -> None:
    base.ingest(pa.table({"id": pa.array([2**40], pa.int64())}), "t")
    result = base.ingest(pa.table({"id": pa.array([7], pa.int16())}), "t")
    assert result.schema_changes == []
    assert _types(base)["id"] == "long"
    assert 7 in base.table("bronze.t").to_arrow().column("id").to_pylist()


def test_incompatible_type_is_refused_with_names_and_nothing_written(base: odg.Workbench) -> None:
    before = base.table("bronze.t").current_snapshot_id
    with pytest.raises(odg.SchemaMismatchError) as err:
        base.ingest(pa.table({"id": pa.array([3], pa.int32()), "price": ["cheap"]}), "t", source_name="prices.csv")
    assert err.value.details == {
        "table": "bronze.t",
        "source": "prices.csv",
        "column": "price",
        "expected": "float",
        "found": "string",
    }
    assert "prices.csv" in err.value.message and "'price'" in err.value.message
    assert isinstance(err.value, TypeError)
    table = base.table("bronze.t")
    assert table.current_snapshot_id == before
    assert len(table.iceberg.schemas()) == 1  # no schema change committed either


def test_nested_struct_gains_a_field(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"id": [1], "addr": [{"city": "Recife"}]}), "t")
    result = ws.ingest(pa.table({"id": [2], "addr": [{"city": "Natal", "zip": "59000-000"}]}), "t")
    assert [c["column"] for c in result.schema_changes] == ["addr.zip"]
    rows = ws.table("bronze.t").to_arrow().sort_by("id").to_pylist()
    assert rows[0]["addr"] == {"city": "Recife", "zip": None}
    assert rows[1]["addr"] == {"city": "Natal", "zip": "59000-000"}


def test_all_null_column_fits_any_existing_type(base: odg.Workbench) -> None:
    base.ingest(pa.table({"id": pa.array([9], pa.int32()), "price": pa.nulls(1)}), "t")
    assert _types(base)["price"] == "float"
    assert base.table("bronze.t").count() == 3


def test_schema_history_shows_each_version(base: odg.Workbench) -> None:
    base.ingest(pa.table({"id": pa.array([3], pa.int32()), "country": ["BR"]}), "t")
    base.ingest(pa.table({"id": pa.array([2**40], pa.int64())}), "t")
    history = base.table("bronze.t").schema_history()
    assert [v["schema_id"] for v in history] == [0, 1, 2]
    assert history[0]["changes"] == []
    assert history[1]["changes"] == [{"kind": "add_column", "column": "country", "to_type": "string"}]
    assert history[2]["changes"] == [{"kind": "promote_type", "column": "id", "from_type": "int", "to_type": "long"}]
    assert [v["current"] for v in history] == [False, False, True]
    snaps = base.table("bronze.t").snapshots()
    assert [v["first_snapshot_id"] for v in history] == [s.snapshot_id for s in snaps]
