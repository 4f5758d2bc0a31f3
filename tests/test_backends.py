"""Team-scale backends by configuration only: PostgreSQL catalog and state, S3-compatible storage."""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.config import Config
from tests.conftest import new_pg_database


def _configure(root: Path, settings: dict[str, str]) -> odg.Workbench:
    """A workspace whose odg.toml points elsewhere from the start (as a team would write it)."""
    root.mkdir(parents=True)
    config = Config(root)
    for key, value in settings.items():
        config.set(key, value)
    config.save()
    return odg.open(root, user="team")


@pytest.mark.postgres
def test_postgresql_catalog_and_state(tmp_path: Path, postgres_url: str) -> None:
    name = f"odg_{uuid.uuid4().hex[:8]}"
    catalog_url = new_pg_database(postgres_url, f"{name}_catalog")
    state_url = new_pg_database(postgres_url, f"{name}_state")
    with _configure(tmp_path / "pg-ws", {"catalog.uri": catalog_url, "state.url": state_url}) as wb:
        wb.lakehouse.ensure_layers()
        result = wb.ingest(pa.table({"id": [1, 2, 3]}), "bronze.pg_orders")
        wb.table("bronze.pg_orders").tag("v1")
        assert wb.sql("SELECT sum(id) FROM bronze.pg_orders").fetchone() == (6,)
        assert [b["batch_id"] for b in wb.lakehouse.batches()] == [result.batch_id]
    assert not (tmp_path / "pg-ws" / "catalog.db").exists()
    assert not (tmp_path / "pg-ws" / "state.db").exists()

    import sqlalchemy as sa

    engine = sa.create_engine(catalog_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT table_namespace, table_name FROM iceberg_tables")).fetchall()
    engine.dispose()
    assert rows == [("bronze", "pg_orders")]

    # A second workspace folder pointed at the same PostgreSQL databases sees the same lakehouse.
    with _configure(tmp_path / "teammate", {"catalog.uri": catalog_url, "state.url": state_url}) as mate:
        assert mate.table("bronze.pg_orders").tags() == {"v1": result.snapshot_id}
        assert [b["actor"] for b in mate.lakehouse.batches()] == ["team"]


@pytest.mark.postgres
def test_lineage_graph_on_a_postgresql_state(tmp_path: Path, postgres_url: str) -> None:
    """Ingestion and a promotion record their runs in PostgreSQL; both query engines walk them."""
    from tests.test_promotion import small_contract

    name = f"odg_{uuid.uuid4().hex[:8]}"
    state_url = new_pg_database(postgres_url, f"{name}_state")
    with _configure(tmp_path / "pg-lineage", {"state.url": state_url}) as wb:
        wb.ingest(pa.table({"id": [1, 2, 3], "qty": [1, 2, 3]}), "bronze.items")
        assert wb.promote("bronze.items", "silver", contract=small_contract()).status == "promoted"
        up = wb.lineage.upstream("silver.items")
        assert {"dataset:bronze.items", "pipeline:promote.silver.items"} <= set(up.ids())
        wb.config.set("lineage.query_engine", "sql")  # the recursive CTE on PostgreSQL
        from odg_workbench.lineage.graph import LineageGraph

        by_sql = LineageGraph(wb).upstream("silver.items")
        assert sorted(by_sql.ids()) == sorted(up.ids())
        assert wb.lineage.impact("bronze.items").severity in ("MEDIUM", "HIGH")
        assert [h["target"] for h in wb.promotions.history()] == ["silver.items"]
    assert not (tmp_path / "pg-lineage" / "state.db").exists()
    # a teammate's workspace on the same state database sees the same graph
    with _configure(tmp_path / "mate", {"state.url": state_url}) as mate:
        assert "dataset:bronze.items" in mate.lineage.upstream("silver.items").ids()


@pytest.mark.s3
def test_s3_compatible_warehouse(tmp_path: Path, s3_endpoint: str) -> None:
    settings = {
        "catalog.warehouse": "s3://lake/warehouse",
        "catalog.s3.endpoint": s3_endpoint,
        "catalog.s3.access-key-id": "${TEST_S3_KEY}",
        "catalog.s3.secret-access-key": "${TEST_S3_SECRET}",
        "catalog.s3.region": "us-east-1",
    }
    mp = pytest.MonkeyPatch()
    mp.setenv("TEST_S3_KEY", "test")
    mp.setenv("TEST_S3_SECRET", "test")
    try:
        with _configure(tmp_path / "s3-ws", settings) as wb:
            wb.ingest(pa.table({"id": [1, 2, 3]}), "orders")
            wb.ingest(pa.table({"id": [4]}), "orders")
            table = wb.table("bronze.orders")
            assert table.metadata_location.startswith("s3://lake/warehouse/bronze/orders/")
            assert table.count() == 4
            assert wb.sql("SELECT max(id) FROM bronze.orders").fetchone() == (4,)
            assert table.compact().files_after == 1
            assert wb.sql("SELECT count(*) FROM bronze.orders", as_of=table.snapshots()[0].snapshot_id).fetchone() == (
                3,
            )
        assert not any((tmp_path / "s3-ws" / "warehouse").glob("**/*.parquet"))
    finally:
        mp.undo()
