"""Automatic lineage capture: ingestion, promotion, VersionedQuery, VersionedPipeline, SQL column lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.lineage import LineageCycleError, VersionedPipeline, VersionedQuery
from odg_workbench.lineage.capture import normalized_sql, sql_lineage, sql_version
from tests.test_promotion import small_contract


@pytest.fixture
def items(ws: odg.Workbench, tmp_path: Path) -> odg.Workbench:
    path = tmp_path / "items.csv"
    path.write_text("id,qty,status\n1,5,ok\n2,0,ok\n3,7,void\n")
    ws.ingest(path, "bronze.items")
    return ws


def test_ingest_records_the_file_and_the_bronze_snapshot_column_for_column(items: odg.Workbench) -> None:
    (run,) = items.lineage.runs(dataset="bronze.items")
    snapshot = items.table("bronze.items").current_snapshot_id
    assert run.type == "ingestion" and run.status == "COMPLETE"
    assert run.outputs[0].dataset == "dataset:bronze.items" and run.outputs[0].snapshot == snapshot
    source = run.inputs[0].dataset
    assert source.startswith("dataset:file://") and source.endswith("items.csv")
    lineage = run.column_lineage["dataset:bronze.items"]  # type: ignore[index]
    assert lineage["qty"] == [[source, "qty"]] and lineage["_odg_batch_id"] == []
    assert items.lineage.upstream("bronze.items", depth=2).ids("Dataset") == [source]


def test_promotion_records_a_run_and_history_reads_it(items: odg.Workbench) -> None:
    source_snapshot = items.table("bronze.items").current_snapshot_id
    result = items.promote("bronze.items", "silver", contract=small_contract())
    (edge,) = items.promotions.history("silver.items")
    assert (edge["source"], edge["source_snapshot_id"]) == ("bronze.items", source_snapshot)
    assert (edge["target"], edge["target_snapshot_id"]) == ("silver.items", result.target_snapshot_id)
    assert edge["actor"] == "tester" and edge["operation"] == "promotion"
    (run,) = items.lineage.runs("promote.silver.items")
    assert run.column_lineage["dataset:silver.items"]["qty"] == [["dataset:bronze.items", "qty"]]  # type: ignore[index]
    down = items.lineage.downstream("bronze.items")
    assert {"pipeline:promote.silver.items", "dataset:silver.items"} <= set(down.ids())


def test_a_sql_promotion_carries_sqlglot_column_lineage(items: odg.Workbench) -> None:
    sql = "SELECT id, qty * 2 AS qty, status FROM {source} WHERE status = 'ok'"
    items.promote("bronze.items", "silver", contract=small_contract(), transform=sql)
    (run,) = items.lineage.runs("promote.silver.items")
    assert run.sql == sql.replace("{source}", "bronze.items")
    assert run.column_lineage_status == "complete"
    assert run.props["columns_read"] == {"dataset:bronze.items": ["id", "qty", "status"]}
    assert items.promotions.history("silver.items")[0]["transform"] == sql


def test_a_python_promotion_says_why_it_has_no_column_lineage(items: odg.Workbench) -> None:
    def keep(table: pa.Table) -> pa.Table:
        return table

    items.promote("bronze.items", "silver", contract=small_contract(), transform=keep)
    (run,) = items.lineage.runs("promote.silver.items")
    assert run.column_lineage is None and run.column_lineage_status == "unavailable"
    assert "Python transformation" in (run.column_lineage_reason or "")


def test_query_version_ignores_formatting_and_comments() -> None:
    a = "select id,  QTY from bronze.items -- the items\nwhere qty > 0"
    b = "SELECT id, qty\nFROM bronze.items\nWHERE qty > 0"
    assert sql_version(a) == sql_version(b) and normalized_sql(a) == normalized_sql(b)
    assert sql_version(b) != sql_version(b.replace("> 0", ">= 0"))


def test_versioned_query_records_version_columns_git_and_snapshots(items: odg.Workbench) -> None:
    query = VersionedQuery(
        "SELECT id, qty * 2 AS double_qty FROM bronze.items WHERE status = 'ok'", name="doubled", workbench=items
    )
    run = query.run(output="silver.doubled")
    assert run.status == "COMPLETE" and run.version == query.version and run.props["rows"] == 2
    assert items.table("silver.doubled").count() == 2
    assert run.inputs[0].snapshot == items.table("bronze.items").current_snapshot_id
    assert run.outputs[0].snapshot == items.table("silver.doubled").current_snapshot_id
    assert run.column_lineage == {
        "dataset:silver.doubled": {
            "id": [["dataset:bronze.items", "id"]],
            "double_qty": [["dataset:bronze.items", "qty"]],
        }
    }
    assert run.git_commit is None or len(run.git_commit) == 40
    assert run.duration_s is not None and run.duration_s > 0
    reformatted = VersionedQuery(
        "select ID, QTY*2 as double_qty\nfrom bronze.items where status='ok' -- same", name="doubled", workbench=items
    )
    assert reformatted.version == query.version
    impact = items.lineage.impact("bronze.items", column="status", change="schema")
    assert [(d.id, d.columns) for d in impact.datasets] == [("dataset:silver.doubled", None)]


def test_a_run_inside_a_git_repository_records_the_commit(
    items: odg.Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "job.sql").write_text("select 1")
    subprocess.run([*git, "add", "job.sql"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "job"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.chdir(repo)
    run = VersionedQuery("SELECT id FROM bronze.items", name="ids", workbench=items).run(output="silver.ids")
    assert run.git_commit == head and run.git_dirty is False
    monkeypatch.chdir(tmp_path)
    outside = VersionedQuery("SELECT id FROM bronze.items", name="ids2", workbench=items).run(output="silver.ids2")
    assert outside.git_commit is None


def test_a_failing_query_is_recorded_as_failed_and_raises(items: odg.Workbench) -> None:
    events: list[str] = []
    items.lineage.listeners.append(lambda event, run: events.append(event))
    query = VersionedQuery("SELECT id, no_such_column FROM bronze.items", name="broken", workbench=items)
    with pytest.raises(odg.errors.QueryError):
        query.run(output="silver.broken")
    (run,) = items.lineage.runs("broken")
    assert run.status == "FAIL" and "no_such_column" in (run.error or "")
    assert events == ["START", "FAIL"]
    assert not items.lakehouse.exists("silver.broken")
    assert items.lineage.edges("pipeline:broken") == []  # a failed run adds no edge


def test_a_query_writing_into_its_own_upstream_is_refused_before_writing(items: odg.Workbench) -> None:
    VersionedQuery("SELECT * FROM bronze.items", name="copy", workbench=items).run(output="silver.copy")
    rows = items.table("bronze.items").count()
    with pytest.raises(LineageCycleError) as err:
        VersionedQuery("SELECT * FROM silver.copy", name="back", workbench=items).run(output="bronze.items")
    assert err.value.path[0] == err.value.path[-1] and "dataset:silver.copy" in err.value.path
    assert items.table("bronze.items").count() == rows


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        pytest.param("SELEC id FROM bronze.items JOIN silver.x ON 1 = 1", "sqlglot cannot parse", id="unparseable"),
        pytest.param("SELECT * FROM bronze.items", "schema is not known", id="star-without-schema"),
    ],
)
def test_sql_that_cannot_be_traced_keeps_tables_and_drops_columns(sql: str, reason: str) -> None:
    found = sql_lineage(sql)
    assert "bronze.items" in found.tables
    assert found.columns is None and reason in (found.reason or "")


def test_an_untraceable_column_drops_all_column_lineage_not_some() -> None:
    schema = {"bronze.items": {"id": "int", "qty": "int", "status": "text"}}
    found = sql_lineage("SELECT id, qty FROM bronze.items PIVOT (sum(qty) FOR status IN ('ok'))", schema)
    assert found.columns is None and "could not trace" in (found.reason or "")


def test_recorded_sql_that_sqlglot_cannot_parse_keeps_table_lineage(
    ws: odg.Workbench, caplog: pytest.LogCaptureFixture
) -> None:
    sql = "INSERT OVERWRITE TABLE gold.x SELECT TRANSFORM(a) USING 'cat' FROM silver.y"
    found = sql_lineage(sql)
    run = ws.lineage.record_run(
        "spark_job",
        inputs=[(t, None) for t in found.tables if t != "gold.x"],
        outputs=[("gold.x", 1)],
        sql=sql,
        column_lineage_reason=found.reason,
    )
    assert ws.lineage.upstream("gold.x", depth=1).ids("Dataset") == ["dataset:silver.y"]
    stored = ws.lineage.run(run.run_id)
    assert stored.column_lineage is None and stored.column_lineage_status == "unavailable"
    assert stored.column_lineage_reason == found.reason
    assert "column lineage left out" in caplog.text


def test_versioned_pipeline_version_follows_the_plan_not_the_data(items: odg.Workbench) -> None:
    def positive(items: pl.LazyFrame) -> pl.LazyFrame:
        return items.filter(pl.col("qty") > 0).select("id", "qty")

    def non_negative(items: pl.LazyFrame) -> pl.LazyFrame:
        return items.filter(pl.col("qty") >= 0).select("id", "qty")

    pipe = VersionedPipeline(positive, inputs={"items": "bronze.items"}, workbench=items)
    first = pipe.run(output="silver.positive")
    assert first.status == "COMPLETE" and first.props["rows"] == 2 and first.type == "polars"
    assert items.table("silver.positive").count() == 2
    assert "FILTER" in first.props["plan"]
    items.ingest(pa.table({"id": [4], "qty": [9], "status": ["ok"]}), "bronze.items")
    second = pipe.run(output="silver.positive")
    assert second.version == first.version == pipe.version  # new data, same plan
    assert second.inputs[0].snapshot != first.inputs[0].snapshot
    other = VersionedPipeline(non_negative, name="positive", inputs={"items": "bronze.items"}, workbench=items)
    assert other.version != pipe.version
    assert first.column_lineage is None and "polars" in (first.column_lineage_reason or "")


def test_versioned_pipeline_bad_input_is_named(items: odg.Workbench) -> None:
    def collected(items: pl.LazyFrame) -> Any:
        return items.collect()

    with pytest.raises(odg.lineage.LineageError, match="returned a polars DataFrame"):
        VersionedPipeline(collected, inputs={"items": "bronze.items"}, workbench=items).run(output="silver.x")
    with pytest.raises(odg.lineage.LineageError, match="which the function does not take"):
        VersionedPipeline(collected, inputs={"orders": "bronze.items"}, workbench=items)
