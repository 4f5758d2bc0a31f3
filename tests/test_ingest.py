"""Ingestion of files and in-memory frames into Bronze, and what bad input does."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import odg_workbench as odg
from odg_workbench.lakehouse import INGEST_COLUMNS

ROWS = [
    {"id": 1, "name": "Ana", "amount": 10.5, "when": "2026-01-02"},
    {"id": 2, "name": "Bruno", "amount": 3.25, "when": "2026-01-03"},
    {"id": 3, "name": "Carla", "amount": None, "when": "2026-01-04"},
]


def _csv(path: Path, sep: str = ",") -> Path:
    lines = [sep.join(ROWS[0])]
    for r in ROWS:
        lines.append(sep.join("" if v is None else str(v) for v in r.values()))
    path.write_text("\n".join(lines) + "\n")
    return path


def _write(path: Path, kind: str) -> Path:
    if kind == "csv":
        return _csv(path)
    if kind == "tsv":
        return _csv(path, "\t")
    if kind == "csv.gz":
        plain = _csv(path.with_suffix(""))
        path.write_bytes(gzip.compress(plain.read_bytes()))
        return path
    if kind == "parquet":
        pq.write_table(pa.Table.from_pylist(ROWS), path)
        return path
    if kind == "json":
        path.write_text(json.dumps(ROWS, indent=2))
        return path
    if kind in ("ndjson", "jsonl"):
        path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
        return path
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        pytest.param("csv", "csv", id="csv"),
        pytest.param("tsv", "tsv", id="tsv"),
        pytest.param("csv.gz", "csv", id="csv-gzip"),
        pytest.param("parquet", "parquet", id="parquet"),
        pytest.param("json", "json", id="json-array"),
        pytest.param("ndjson", "ndjson", id="ndjson"),
        pytest.param("jsonl", "ndjson", id="jsonl"),
    ],
)
def test_files_land_in_bronze_with_ingest_metadata(ws: odg.Workbench, tmp_path: Path, kind: str, fmt: str) -> None:
    path = _write(tmp_path / f"people.{kind}", kind)
    result = ws.ingest(path, "bronze.people")
    assert result.rows == 3
    assert result.format == fmt
    assert result.created_table
    table = ws.table("bronze.people")
    data = table.to_arrow().sort_by("id").to_pylist()
    assert [r["name"] for r in data] == ["Ana", "Bruno", "Carla"]
    assert [r["amount"] for r in data] == [10.5, 3.25, None]
    assert set(INGEST_COLUMNS) <= set(data[0])
    assert {r["_odg_batch_id"] for r in data} == {result.batch_id}
    assert {r["_odg_source"] for r in data} == {str(path.resolve())}
    ingested = data[0]["_odg_ingested_at"]
    assert ingested.tzinfo is not None and abs((datetime.now(UTC) - ingested).total_seconds()) < 120
    snap = table.snapshot()
    assert snap.summary["odg.batch-id"] == result.batch_id
    assert snap.summary["odg.actor"] == "tester"
    assert snap.operation == "append"


def test_json_single_object_file(ws: odg.Workbench, tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"id": 7, "tags": ["a", "b"], "nested": {"k": 1}}))
    ws.ingest(path, "one")
    row = ws.table("bronze.one").to_arrow().to_pylist()[0]
    assert row["id"] == 7 and row["tags"] == ["a", "b"] and row["nested"] == {"k": 1}


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(lambda: pd.DataFrame(ROWS), id="pandas"),
        pytest.param(lambda: pl.DataFrame(ROWS), id="polars"),
        pytest.param(lambda: pl.DataFrame(ROWS).lazy(), id="polars-lazy"),
        pytest.param(lambda: pa.Table.from_pylist(ROWS), id="arrow-table"),
        pytest.param(lambda: pa.Table.from_pylist(ROWS).to_batches()[0], id="arrow-batch"),
        pytest.param(lambda: pa.Table.from_pylist(ROWS).to_reader(), id="arrow-reader"),
    ],
)
def test_in_memory_frames(ws: odg.Workbench, frame: object) -> None:
    result = ws.ingest(frame(), "frames")  # type: ignore[operator]
    assert result.rows == 3 and result.format == "memory"
    assert ws.table("bronze.frames").count() == 3


def test_types_iceberg_lacks_are_converted(ws: odg.Workbench) -> None:
    ts = pd.Timestamp("2026-03-01 12:00:00.123456789", tz="America/Sao_Paulo")
    df = pd.DataFrame(
        {
            "u8": pd.Series([1, 2], dtype="uint8"),
            "u64": pd.Series([2**63 + 5, 1], dtype="uint64"),
            "when": [ts, ts],
            "cat": pd.Categorical(["x", "y"]),
            "empty": [None, None],
            "half": pd.Series([1.5, 2.5], dtype="float16"),
        }
    )
    ws.ingest(df, "typed")
    table = ws.table("bronze.typed")
    types = {f.name: str(f.field_type) for f in table.iceberg.schema().fields}
    assert types["u8"] == "int"
    assert types["u64"] == "decimal(20, 0)"
    assert types["when"] == "timestamptz"
    assert types["cat"] == "string"
    assert types["empty"] == "string"
    assert types["half"] == "float"
    row = table.to_arrow().sort_by("u8").to_pylist()[0]
    assert row["u64"] == 2**63 + 5
    assert row["when"] == ts.floor("us").to_pydatetime().astimezone(UTC)
    assert row["cat"] == "x" and row["empty"] is None


def test_overwrite_replaces_rows(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"a": [1, 2, 3]}), "t")
    result = ws.ingest(pa.table({"a": [9]}), "t", mode="overwrite")
    table = ws.table("bronze.t")
    assert table.to_arrow().column("a").to_pylist() == [9]
    assert result.snapshot_id == table.current_snapshot_id
    assert table.snapshot().operation == "overwrite"
    assert len(table.snapshots()) == 2  # one snapshot per ingest, even when overwriting
    assert table.count(as_of=table.snapshots()[0].snapshot_id) == 3


def test_batch_id_makes_ingest_idempotent(ws: odg.Workbench) -> None:
    first = ws.ingest(pa.table({"a": [1, 2]}), "t", batch_id="daily-2026-11-28")
    again = ws.ingest(pa.table({"a": [1, 2]}), "t", batch_id="daily-2026-11-28")
    assert not first.skipped and again.skipped
    assert again.snapshot_id == first.snapshot_id
    assert ws.table("bronze.t").count() == 2
    assert len(ws.table("bronze.t").snapshots()) == 1


def test_batches_are_recorded_in_the_state_database(ws: odg.Workbench) -> None:
    r1 = ws.ingest(pa.table({"a": [1, 2]}), "t")
    r2 = ws.ingest(pa.table({"a": [3]}), "u")
    batches = ws.lakehouse.batches()
    assert [b["batch_id"] for b in batches] == [r2.batch_id, r1.batch_id]
    assert batches[1]["rows"] == 2 and batches[1]["actor"] == "tester"
    assert [b["batch_id"] for b in ws.lakehouse.batches("bronze.u")] == [r2.batch_id]


def test_ingest_only_into_bronze(ws: odg.Workbench) -> None:
    with pytest.raises(odg.TableNameError, match="promotion"):
        ws.ingest(pa.table({"a": [1]}), "silver.t")
    assert ws.tables() == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("diamond.t", "unknown layer", id="unknown-layer"),
        pytest.param("bronze.Bad-Name", "lowercase", id="bad-identifier"),
        pytest.param("bronze.", "lowercase", id="empty-name"),
    ],
)
def test_bad_table_names(ws: odg.Workbench, name: str, message: str) -> None:
    with pytest.raises(odg.TableNameError, match=message):
        ws.ingest(pa.table({"a": [1]}), name)


# -- bad input: clear errors, nothing written -----------------------------------------------


@pytest.fixture
def existing(ws: odg.Workbench) -> odg.Workbench:
    ws.ingest(pa.table({"id": [1, 2], "name": ["a", "b"]}), "t")
    return ws


def _unchanged(ws: odg.Workbench) -> None:
    table = ws.table("bronze.t")
    assert len(table.snapshots()) == 1
    assert table.count() == 2


def test_missing_file(existing: odg.Workbench, tmp_path: Path) -> None:
    with pytest.raises(odg.SourceReadError, match="no such file") as err:
        existing.ingest(tmp_path / "nope.csv", "t")
    assert err.value.details["path"] == str(tmp_path / "nope.csv")
    assert isinstance(err.value, OSError)
    _unchanged(existing)


def test_unknown_format(existing: odg.Workbench, tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(odg.UnsupportedFormatError, match=r"\.xlsx"):
        existing.ingest(path, "t")
    _unchanged(existing)


def test_unsupported_object(existing: odg.Workbench) -> None:
    with pytest.raises(odg.UnsupportedFormatError, match="dict"):
        existing.ingest({"a": 1}, "t")
    _unchanged(existing)


def test_csv_with_a_ragged_line_names_the_line(existing: odg.Workbench, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,name\n3,c\n4,d\n5,e,EXTRA\n6,f\n")
    with pytest.raises(odg.SourceReadError) as err:
        existing.ingest(path, "t")
    assert err.value.details["line"] == 4
    assert err.value.details["expected"] == 2 and err.value.details["found"] == 3
    assert "bad.csv line 4" in err.value.message
    _unchanged(existing)


def test_csv_header_problems(existing: odg.Workbench, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(odg.SourceReadError, match="empty file"):
        existing.ingest(empty, "t")
    dup = tmp_path / "dup.csv"
    dup.write_text("id,id\n1,2\n")
    with pytest.raises(odg.SourceReadError, match="duplicate column name 'id'") as err:
        existing.ingest(dup, "t")
    assert err.value.details["column"] == 2
    _unchanged(existing)


def test_json_syntax_error_names_line_and_column(existing: odg.Workbench, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"id": 3, "name": "c"},\n  {"id": 4 "name": "d"}\n]\n')
    with pytest.raises(odg.SourceReadError) as err:
        existing.ingest(path, "t")
    assert (err.value.details["line"], err.value.details["column"]) == (3, 12)
    _unchanged(existing)


def test_ndjson_syntax_error_names_line(existing: odg.Workbench, tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text('{"id": 3, "name": "c"}\n{"id": 4, "name": "d"}\n{"id" 5}\n')
    with pytest.raises(odg.SourceReadError) as err:
        existing.ingest(path, "t")
    assert err.value.details["line"] == 3
    _unchanged(existing)


def test_ndjson_type_change_names_line_and_field(existing: odg.Workbench, tmp_path: Path) -> None:
    path = tmp_path / "mixed.ndjson"
    path.write_text('{"id": 3, "name": "c"}\n{"id": 4, "name": "d"}\n{"id": "five", "name": "e"}\n')
    with pytest.raises(odg.SourceReadError) as err:
        existing.ingest(path, "t")
    assert err.value.details["line"] == 3
    assert err.value.details["field"] == "id"
    assert (err.value.details["expected"], err.value.details["found"]) == ("number", "string")
    _unchanged(existing)


def test_corrupt_parquet(existing: odg.Workbench, tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(odg.SourceReadError, match="Parquet"):
        existing.ingest(path, "t")
    _unchanged(existing)


def test_pandas_mixed_object_column_names_the_column(existing: odg.Workbench) -> None:
    df = pd.DataFrame({"id": [3, 4], "name": ["c", 5]})
    with pytest.raises(odg.SourceReadError, match="'name' mixes value types") as err:
        existing.ingest(df, "t")
    assert err.value.details["column"] == "name"
    _unchanged(existing)


def test_dotted_column_name_is_refused(existing: odg.Workbench) -> None:
    with pytest.raises(odg.SchemaMismatchError, match="a_b"):
        existing.ingest(pa.table({"a.b": [1]}), "t")
    _unchanged(existing)


def test_failed_first_ingest_creates_no_table(ws: odg.Workbench) -> None:
    with pytest.raises(odg.SchemaMismatchError):
        ws.ingest(pa.table({"d": pa.array([1], pa.duration("s"))}), "t")
    assert ws.tables() == []
    assert not ws.lakehouse.exists("bronze.t")
