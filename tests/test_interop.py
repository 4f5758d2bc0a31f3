"""Tables written here read the same with an independent Iceberg reader (DuckDB's iceberg extension)."""

from __future__ import annotations

import pyarrow as pa

import odg_workbench as odg
from tests.conftest import IcebergReader


def _same(ws: odg.Workbench, reader: IcebergReader, columns: list[str]) -> list[tuple[object, ...]]:
    table = ws.table("bronze.t")
    ours = sorted(tuple(r[c] for c in columns) for r in table.to_arrow(columns=columns).to_pylist())
    theirs = sorted(reader.rows(table.metadata_location, columns=", ".join(columns)))
    assert theirs == ours
    return ours


def test_every_kind_of_write_reads_the_same_elsewhere(ws: odg.Workbench, iceberg_reader: IcebergReader) -> None:
    ws.ingest(pa.table({"id": pa.array([1, 2], pa.int32()), "name": ["a", "b"]}), "t")
    assert _same(ws, iceberg_reader, ["id", "name"]) == [(1, "a"), (2, "b")]

    ws.ingest(pa.table({"id": pa.array([3], pa.int64()), "name": ["c"], "score": [0.5]}), "t")  # promote + add
    assert _same(ws, iceberg_reader, ["id", "name", "score"]) == [(1, "a", None), (2, "b", None), (3, "c", 0.5)]
    assert iceberg_reader.con.sql(
        f"SELECT typeof(id) FROM iceberg_scan('{ws.table('bronze.t').metadata_location}') LIMIT 1"
    ).fetchone() == ("BIGINT",)

    ws.table("bronze.t").compact()
    assert len(_same(ws, iceberg_reader, ["id", "name", "score"])) == 3

    ws.ingest(pa.table({"id": [9], "name": ["z"], "score": [1.0]}), "t", mode="overwrite")
    assert _same(ws, iceberg_reader, ["id", "name", "score"]) == [(9, "z", 1.0)]

    first = ws.table("bronze.t").snapshots()[0].snapshot_id
    ws.table("bronze.t").rollback(first)
    assert _same(ws, iceberg_reader, ["id", "name"]) == [(1, "a"), (2, "b")]


def test_ingest_metadata_is_visible_to_other_readers(ws: odg.Workbench, iceberg_reader: IcebergReader) -> None:
    result = ws.ingest(pa.table({"x": [1]}), "t")
    rows = iceberg_reader.rows(ws.table("bronze.t").metadata_location, columns="_odg_batch_id, _odg_source")
    assert rows == [(result.batch_id, "pyarrow.Table")]
