"""OpenLineage: events out for recorded runs (file and HTTP transports), validation, ingestion."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest

import odg_workbench as odg
from odg_workbench.lineage.openlineage import (
    OpenLineageValidationError,
    enable_openlineage,
    ingest_openlineage,
    load_events,
    validate_event,
)
from tests.conftest import REPO, SAMPLES, free_port, run_odg

DATA = Path(__file__).parent / "data" / "openlineage"
CONTRACT = REPO / "data" / "contracts" / "orders.odcs.yaml"


def events_of(wb: odg.Workbench) -> list[dict[str, Any]]:
    return [e for _, e in load_events(wb.openlineage.events_file)]


def record_totals(wb: odg.Workbench, status: str = "COMPLETE", **kw: Any) -> Any:
    """A real SQL transformation: bronze.orders -> silver.totals, recorded in the graph."""
    src = wb.table("bronze.orders")
    frame = wb.sql("select id, amount * 2 as total from bronze.orders").pl()
    snap, _, _ = wb.lakehouse.write("silver.totals", frame.to_arrow())
    return wb.lineage.record_run(
        "totals",
        inputs=[("bronze.orders", src.current_snapshot_id)],
        outputs=[("silver.totals", snap)] if status == "COMPLETE" else [("silver.totals", None)],
        status=status,
        type="sql",
        version="v1",
        sql="select id, amount * 2 as total from bronze.orders",
        **kw,
    )


@pytest.fixture
def orders(ws: odg.Workbench) -> odg.Workbench:
    ws.ingest(pl.DataFrame({"id": [1, 2, 3], "amount": [10.0, None, 30.0]}), "bronze.orders")
    # every workspace emits (the ingestion just did); each test looks at its own runs only
    assert [e["eventType"] for e in events_of(ws)] == ["START", "COMPLETE"]
    ws.openlineage.events_file.unlink()
    assert enable_openlineage(ws) is ws.openlineage  # already attached: attaching again is a no-op
    assert ws.lineage.listeners.count(ws.openlineage) == 1
    return ws


# -- events out ---------------------------------------------------------------------------------


def test_run_emits_start_and_complete_that_validate(orders: odg.Workbench) -> None:
    run = record_totals(
        orders, column_lineage={"id": [("bronze.orders", "id")], "total": [("bronze.orders", "amount")]}
    )
    events = events_of(orders)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for e in events:
        assert validate_event(e) == []
    start, done = events
    assert start["run"]["runId"] == done["run"]["runId"] == str(__import__("uuid").UUID(run.run_id))
    assert done["job"] == {**done["job"], "namespace": "odg://ws", "name": "totals"}
    assert done["job"]["facets"]["sql"]["query"].startswith("select id, amount * 2")
    assert done["job"]["facets"]["jobType"]["jobType"] == "SQL"
    assert done["run"]["facets"]["processing_engine"]["name"] == "odg-workbench"
    (inp,) = done["inputs"]
    assert (inp["namespace"], inp["name"]) == ("odg://ws", "bronze.orders")
    snapshot = orders.table("bronze.orders").current_snapshot_id
    assert inp["facets"]["version"]["datasetVersion"] == str(snapshot)
    assert [f["name"] for f in inp["facets"]["schema"]["fields"]][:2] == ["id", "amount"]
    assert inp["facets"]["schema"]["fields"][1]["type"] == "double"
    (out,) = done["outputs"]
    assert out["name"] == "silver.totals"
    assert out["facets"]["columnLineage"]["fields"]["total"]["inputFields"] == [
        {"namespace": "odg://ws", "name": "bronze.orders", "field": "amount", "transformations": []}
    ]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 3


def test_promotion_emits_events_with_quality_and_column_lineage(ws: odg.Workbench) -> None:
    ws.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    enable_openlineage(ws)
    result = ws.promote("bronze.orders", "silver", contract=CONTRACT)
    assert result.status == "promoted"
    events = [e for e in events_of(ws) if e["job"]["name"] == "promote.silver.orders"]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert all(validate_event(e) == [] for e in events)
    done = events[-1]
    (inp,) = done["inputs"]
    (out,) = done["outputs"]
    assert (inp["name"], out["name"]) == ("bronze.orders", "silver.orders")
    assert out["facets"]["version"]["datasetVersion"] == str(ws.table("silver.orders").current_snapshot_id)
    lineage = out["facets"]["columnLineage"]["fields"]
    assert lineage["product_id"]["inputFields"][0]["name"] == "bronze.orders"
    assert lineage["product_id"]["inputFields"][0]["field"] == "product_id"
    assert inp["inputFacets"]["dataQualityMetrics"]["rowCount"] == 20000  # the gate's quality report


def test_schema_facet_is_the_schema_at_the_snapshot_read(orders: odg.Workbench) -> None:
    old = orders.table("bronze.orders").current_snapshot_id
    orders.ingest(pl.DataFrame({"id": [4], "amount": [1.0], "region": ["EU"]}), "bronze.orders")
    orders.lineage.record_run("audit_old", inputs=[("bronze.orders", old)], outputs=[], type="python")
    done = events_of(orders)[-1]
    names = [f["name"] for f in done["inputs"][0]["facets"]["schema"]["fields"]]
    assert "region" not in names  # the column came later than the snapshot read


def test_unknown_column_lineage_is_left_out(orders: odg.Workbench) -> None:
    record_totals(orders, column_lineage_reason="sqlglot could not parse the query")
    done = events_of(orders)[-1]
    assert "columnLineage" not in done["outputs"][0]["facets"]
    assert validate_event(done) == []


def test_failed_run_emits_fail_with_the_error(orders: odg.Workbench) -> None:
    orders.lineage.record_run(
        "totals", inputs=[("bronze.orders", None)], status="FAIL", error="Binder Error: column amout not found"
    )
    events = events_of(orders)
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    fail = events[-1]
    assert fail["run"]["facets"]["errorMessage"]["message"] == "Binder Error: column amout not found"
    assert validate_event(fail) == []


def test_quality_report_becomes_data_quality_facets(ws: odg.Workbench) -> None:
    ws.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    report = ws.quality.check("bronze.orders", CONTRACT)
    enable_openlineage(ws)
    ws.lineage.record_run("read_orders", inputs=[("bronze.orders", report.snapshot_id)], outputs=[])
    done = events_of(ws)[-1]
    facets = done["inputs"][0]["inputFacets"]
    metrics = facets["dataQualityMetrics"]
    assert metrics["rowCount"] == report.rows
    nulls = [o for o in report.outcomes if o.rule.metric == "nullValues" and o.rule.column]
    assert nulls, "the sample contract has nullValues rules"
    assert metrics["columnMetrics"][nulls[0].rule.column]["nullCount"] == nulls[0].failed
    assertions = {a["name"]: a for a in facets["dataQualityAssertions"]["assertions"]}
    assert assertions[nulls[0].rule.id]["success"] is nulls[0].passed
    assert validate_event(done) == []


def test_parent_run_from_the_scheduler(orders: odg.Workbench, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OPENLINEAGE_PARENT_ID", "airflow-prod/shop_daily.transform/01958d3c-3b1a-7a5e-9a3e-5a0f2e8c1d99"
    )
    record_totals(orders)
    parent = events_of(orders)[-1]["run"]["facets"]["parent"]
    assert (parent["job"]["namespace"], parent["job"]["name"]) == ("airflow-prod", "shop_daily.transform")
    assert parent["run"]["runId"] == "01958d3c-3b1a-7a5e-9a3e-5a0f2e8c1d99"


def test_export_rebuilds_the_events_of_recorded_runs(orders: odg.Workbench, tmp_path: Path) -> None:
    record_totals(orders)
    out = tmp_path / "export.jsonl"
    run_odg("openlineage", "export", "--output", str(out), workspace=orders.root)
    exported = [e for _, e in load_events(out)]
    assert all(validate_event(e) == [] for e in exported)
    jobs = [(e["job"]["name"], e["eventType"]) for e in exported]
    assert ("ingest.bronze.orders", "COMPLETE") in jobs  # the ingestion is a recorded run too
    totals = [e for e in exported if e["job"]["name"] == "totals"]
    assert [e["eventType"] for e in totals] == ["START", "COMPLETE"]
    assert totals[1]["outputs"][0]["name"] == "silver.totals"
    later = run_odg("openlineage", "export", "--since", "2999-01-01", "--json", workspace=orders.root)
    assert json.loads(later.stdout)["events"] == 0


# -- HTTP transport against a real server -------------------------------------------------------------


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, str], dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers), json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def lineage_server() -> Iterator[tuple[str, list[tuple[str, dict[str, str], dict[str, Any]]]]]:
    received: ClassVar[list[tuple[str, dict[str, str], dict[str, Any]]]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_transport_posts_events_to_the_endpoint(
    ws: odg.Workbench, lineage_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = lineage_server
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "s3cr3t")
    ws.config.set("openlineage.transport", "http")
    ws.config.set("openlineage.url", url)
    ws.ingest(pl.DataFrame({"id": [1], "amount": [1.0]}), "bronze.orders")
    enable_openlineage(ws)
    record_totals(ws)
    assert {path for path, _, _ in received} == {"/api/v1/lineage"}
    # the ingestion's run, then the transformation's
    assert [body["eventType"] for _, _, body in received] == ["START", "COMPLETE"] * 2
    assert received[-1][2]["job"]["name"] == "totals"
    assert all(headers["Authorization"] == "Bearer s3cr3t" for _, headers, _ in received)
    assert all(validate_event(body) == [] for _, _, body in received)
    assert not ws.openlineage.events_file.exists()


def test_endpoint_down_keeps_events_for_resend(ws: odg.Workbench, lineage_server: Any) -> None:
    url, received = lineage_server
    ws.config.set("openlineage.transport", "http")
    ws.config.set("openlineage.url", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    ws.config.set("openlineage.timeout_s", 1.0)
    ws.ingest(pl.DataFrame({"id": [1], "amount": [1.0]}), "bronze.orders")
    enable_openlineage(ws)
    run = record_totals(ws)
    assert ws.lineage.run(run.run_id).status == "COMPLETE"  # the run itself is recorded
    kept = load_events(ws.openlineage.undelivered_file)
    assert [e["eventType"] for _, e in kept] == ["START", "COMPLETE"] * 2  # the ingestion's and the run's
    ws.config.set("openlineage.url", url)
    ws.config.save()
    result = run_odg("openlineage", "resend", "--json", workspace=ws.root)
    assert json.loads(result.stdout) == {"delivered": 4, "pending": 0}
    assert [body["eventType"] for _, _, body in received] == ["START", "COMPLETE"] * 2
    assert not ws.openlineage.undelivered_file.exists()


# -- validation and ingestion -----------------------------------------------------------------------


def test_fixtures_of_airflow_and_spark_validate() -> None:
    for name in ("airflow_events.jsonl", "spark_events.json"):
        loaded = load_events(DATA / name)
        assert len(loaded) == 2
        assert all(validate_event(e, where=w) == [] for w, e in loaded)


def test_bad_events_are_rejected_with_line_and_path(ws: odg.Workbench) -> None:
    with pytest.raises(OpenLineageValidationError) as info:
        ingest_openlineage(ws, DATA / "invalid_events.jsonl")
    found = {(i.where, i.path) for i in info.value.issues}
    assert ("invalid_events.jsonl line 2", "$.run.runId") in found
    assert ("invalid_events.jsonl line 2", "$.eventType") in found
    assert ("invalid_events.jsonl line 2", "$.job") in found
    assert ("invalid_events.jsonl line 3", "$.outputs[0].facets.schema.fields[0]") in found
    assert "line 2" in info.value.message
    assert ws.lineage.runs() == []  # nothing ingested, not even the valid first event


def test_malformed_json_names_line_and_column(ws: odg.Workbench, tmp_path: Path) -> None:
    bad = tmp_path / "events.jsonl"
    good = (DATA / "airflow_events.jsonl").read_text().splitlines()[0]
    bad.write_text(good + "\n" + '{"eventType": "START", "run": {\n')
    result = run_odg("openlineage", "ingest", str(bad), "--json", workspace=ws.root, check=False)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["line"] == 2 and error["type"] == "OpenLineageError"


def test_ingest_airflow_and_spark_events_into_the_graph(ws: odg.Workbench) -> None:
    airflow = ingest_openlineage(ws, DATA / "airflow_events.jsonl")
    spark = ingest_openlineage(ws, DATA / "spark_events.json")
    assert len(airflow.runs) == len(spark.runs) == 1
    enriched = "hdfs://namenode:8020/warehouse/enriched_orders"
    up = ws.lineage.upstream(enriched, depth=4)
    assert "dataset:s3://datalake/raw/orders" in up.ids("Dataset")
    assert "dataset:postgres://shop-db.internal:5432/shop.public.orders" in up.ids("Dataset")
    assert (
        "pipeline:spark-prod/orders_enrichment.execute_insert_into_hadoop_fs_relation_command.warehouse_enriched_orders"
        in up.ids("Pipeline")
    )
    down = ws.lineage.downstream("postgres://shop-db.internal:5432/shop.public.orders", depth=4)
    assert f"dataset:{enriched}" in down.ids("Dataset")
    vertex = ws.lineage.vertex("s3://datalake/raw/orders")
    assert vertex.props["namespace"] == "s3://datalake" and vertex.props["name"] == "raw/orders"
    run = ws.lineage.run(airflow.runs[0])
    assert run.status == "COMPLETE"
    assert run.sql is not None and run.sql.startswith("COPY (SELECT order_id")
    assert run.props["parent_pipeline"] == "shop_daily"
    assert [(d.dataset, d.snapshot) for d in run.outputs] == [("dataset:s3://datalake/raw/orders", "2026-03-02")]
    cols = ws.lineage.column_edges(f"dataset:{enriched}", "amount_eur", direction="upstream")
    assert {(c["src"], c["src_column"]) for c in cols} == {
        ("dataset:s3://datalake/raw/orders", "amount"),
        ("dataset:s3://datalake/ref/fx_rates", "rate"),
    }
    # ingesting the same file again adds nothing
    again = ingest_openlineage(ws, DATA / "spark_events.json")
    assert again.runs == [] and "already recorded" in again.skipped[0]["reason"]


def test_ingested_runs_are_not_echoed_out(ws: odg.Workbench) -> None:
    enable_openlineage(ws)
    ingest_openlineage(ws, DATA / "airflow_events.jsonl")
    assert not ws.openlineage.events_file.exists()


def test_events_in_the_workspace_namespace_map_to_its_tables(orders: odg.Workbench) -> None:
    snapshot = orders.table("bronze.orders").current_snapshot_id
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-03-02T07:00:00Z",
        "producer": "https://example.com/dbt",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0195aaaa-0000-7000-8000-0000000000aa"},
        "job": {"namespace": "dbt", "name": "shop.marts.orders_summary"},
        "inputs": [{"namespace": "odg://ws", "name": "bronze.orders"}],
        "outputs": [{"namespace": "snowflake://acme", "name": "analytics.marts.orders_summary"}],
    }
    ingest_openlineage(orders, [event])
    down = orders.lineage.downstream("bronze.orders", depth=2)
    assert "dataset:snowflake://acme/analytics.marts.orders_summary" in down.ids("Dataset")
    assert snapshot is not None


def test_cli_validate_and_ingest(ws: odg.Workbench) -> None:
    bad = run_odg("openlineage", "validate", str(DATA / "invalid_events.jsonl"), "--json", check=False)
    assert bad.returncode == 5
    assert json.loads(bad.stdout)["invalid"] == 2
    ok = run_odg("openlineage", "validate", str(DATA / "spark_events.json"))
    assert "2 events, 0 invalid" in ok.stdout
    result = run_odg("openlineage", "ingest", str(DATA / "airflow_events.jsonl"), "--json", workspace=ws.root)
    report = json.loads(result.stdout)
    assert report["events"] == 2 and len(report["runs"]) == 1 and report["column_edges"] == 2
