"""Reading tables back: Arrow, polars, pandas, DuckDB, ibis, and SQL over layer.name."""

from __future__ import annotations

import pyarrow as pa
import pytest

import odg_workbench as odg


@pytest.fixture
def shop(ws: odg.Workbench) -> odg.Workbench:
    ws.ingest(
        pa.table({"customer_id": [1, 2, 3], "name": ["Ana", "Bia", "Caio"], "city": ["Recife", "Natal", "Recife"]}),
        "customers",
    )
    ws.ingest(
        pa.table({"order_id": [10, 11, 12, 13], "customer_id": [1, 1, 2, 3], "amount": [10.0, 5.0, 7.5, 1.0]}), "orders"
    )
    return ws


def test_every_read_format_returns_the_same_rows(shop: odg.Workbench) -> None:
    table = shop.table("bronze.orders")
    cols = ["order_id", "customer_id", "amount"]
    expected = sorted(table.to_arrow(columns=cols).to_pylist(), key=lambda r: r["order_id"])
    assert len(expected) == 4
    assert sorted(table.to_polars(columns=cols).to_dicts(), key=lambda r: r["order_id"]) == expected
    assert sorted(table.to_pandas(columns=cols).to_dict("records"), key=lambda r: r["order_id"]) == expected
    duck = table.to_duckdb().select(", ".join(cols)).order("order_id").fetchall()
    assert [dict(zip(cols, r)) for r in duck] == expected
    ib = table.to_ibis().select(*cols).order_by("order_id").to_pyarrow().to_pylist()
    assert ib == expected
    assert shop.ibis("bronze.orders").amount.sum().execute() == 23.5


def test_scan_filters_columns_and_limits(shop: odg.Workbench) -> None:
    table = shop.table("bronze.orders")
    got = table.to_arrow(columns=["order_id"], where="amount >= 5.0")
    assert got.column_names == ["order_id"]
    assert sorted(got.column("order_id").to_pylist()) == [10, 11, 12]
    assert table.to_arrow(limit=2).num_rows == 2


def test_sql_joins_aliases_and_qualified_columns(shop: odg.Workbench) -> None:
    rows = shop.sql(
        """
        WITH spend AS (SELECT customer_id, sum(amount) AS total FROM bronze.orders GROUP BY 1)
        SELECT c.name, c.city, s.total
        FROM bronze.customers c JOIN spend s USING (customer_id)
        WHERE s.total > (SELECT min(amount) FROM bronze.orders)
        ORDER BY s.total DESC
        """
    ).fetchall()
    assert rows == [("Ana", "Recife", 15.0), ("Bia", "Natal", 7.5)]


def test_fully_qualified_columns(shop: odg.Workbench) -> None:
    rows = shop.sql("SELECT bronze.customers.name FROM bronze.customers WHERE bronze.customers.city = 'Natal'")
    assert rows.fetchall() == [("Bia",)]


def test_sql_result_converts(shop: odg.Workbench) -> None:
    rel = shop.sql("SELECT city, count(*) AS n FROM bronze.customers GROUP BY city ORDER BY city")
    assert rel.pl().to_dicts() == [{"city": "Natal", "n": 1}, {"city": "Recife", "n": 2}]


def test_sql_on_an_empty_table(ws: odg.Workbench) -> None:
    ws.lakehouse.create_table("bronze.empty", pa.schema([("a", pa.int64()), ("b", pa.string())]))
    assert ws.sql("SELECT count(*), max(a) FROM bronze.empty").fetchall() == [(0, None)]
    assert ws.table("bronze.empty").to_arrow().num_rows == 0
    assert ws.table("bronze.empty").count() == 0


def test_unknown_table_suggests_close_names(shop: odg.Workbench) -> None:
    with pytest.raises(odg.TableNotFoundError, match=r"did you mean bronze\.orders") as err:
        shop.sql("SELECT * FROM bronze.order")
    assert err.value.details["suggestions"] == ["bronze.orders"]
    assert isinstance(err.value, LookupError)


def test_bare_table_name_gets_a_hint(shop: odg.Workbench) -> None:
    with pytest.raises(odg.QueryError, match=r"layer\.name"):
        shop.sql("SELECT * FROM orders").fetchall()


def test_sql_parse_error_has_position(shop: odg.Workbench) -> None:
    with pytest.raises(odg.QueryError) as err:
        shop.sql("SELECT *\nFROM bronze.orders\nWHERE (amount > 1")
    assert err.value.details["line"] == 3


def test_sql_refuses_writes(shop: odg.Workbench) -> None:
    with pytest.raises(odg.QueryError, match="only queries"):
        shop.sql("DELETE FROM bronze.orders")
    with pytest.raises(odg.QueryError, match="one SQL statement"):
        shop.sql("SELECT 1; SELECT 2")
    assert shop.table("bronze.orders").count() == 4


def test_describe_and_summarize(shop: odg.Workbench) -> None:
    described = {r[0] for r in shop.sql("DESCRIBE bronze.orders").fetchall()}
    assert {"order_id", "amount", "_odg_batch_id"} <= described
    assert len(shop.sql("SUMMARIZE bronze.orders").fetchall()) == len(described)


def test_table_info(shop: odg.Workbench) -> None:
    infos = {t.table: t for t in shop.tables()}
    assert set(infos) == {"bronze.customers", "bronze.orders"}
    orders = infos["bronze.orders"]
    assert orders.rows == 4 and orders.snapshots == 1 and orders.data_files == 1
    assert orders.metadata_location.endswith(".metadata.json")
    assert orders.current_snapshot_id == shop.table("bronze.orders").current_snapshot_id
    assert [t.table for t in shop.tables("silver")] == []
