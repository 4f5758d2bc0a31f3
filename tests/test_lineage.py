"""The lineage graph: vertices, edges, runs, walks, cycles, unknown ids, depth limits, impact."""

from __future__ import annotations

from typing import Any

import pytest

import odg_workbench as odg
from odg_workbench.lineage import (
    LineageCycleError,
    LineageError,
    LineageNotFoundError,
    dataset_id,
    model_id,
    pipeline_id,
)


def _chain(wb: odg.Workbench) -> None:
    """bronze.orders -> silver.orders -> gold.revenue (joined with bronze.fx) -> model churn."""
    g = wb.lineage
    g.record_run("promote.silver.orders", inputs=[("bronze.orders", 1)], outputs=[("silver.orders", 2)])
    g.record_run(
        "revenue",
        inputs=[("silver.orders", 2), ("bronze.fx", 9)],
        outputs=[("gold.revenue", 3)],
        column_lineage={
            "amount_eur": [("silver.orders", "amount"), ("bronze.fx", "rate")],
            "day": [("silver.orders", "day")],
        },
        columns_read={"dataset:silver.orders": ["amount", "day", "status"], "dataset:bronze.fx": ["rate", "day"]},
    )
    g.add_edge(model_id("churn"), "gold.revenue", "TRAINED_ON", dst_snapshot=3, version="1")


def test_ids_are_prefixed_and_lakehouse_names_lowercased() -> None:
    assert dataset_id("Silver.Orders") == "dataset:silver.orders"
    assert dataset_id("dataset:gold.x") == "dataset:gold.x"
    assert dataset_id("s3://bucket/raw.csv") == "dataset:s3://bucket/raw.csv"
    assert pipeline_id("daily") == "pipeline:daily" and model_id("churn") == "model:churn"


def test_record_run_adds_snapshot_edges_and_walks_both_ways(ws: odg.Workbench) -> None:
    _chain(ws)
    up = ws.lineage.upstream("model:churn", depth=5)
    depths = {n.id: n.depth for n in up.nodes}
    assert depths["dataset:gold.revenue"] == 1
    assert depths["dataset:silver.orders"] == 2 and depths["pipeline:revenue"] == 2
    assert depths["dataset:bronze.orders"] == 3
    derived = [e for e in up.edges if e.kind == "DERIVED_FROM" and e.src == "dataset:gold.revenue"]
    assert {(e.dst, e.src_snapshot, e.dst_snapshot) for e in derived} == {
        ("dataset:silver.orders", 3, 2),
        ("dataset:bronze.fx", 3, 9),
    }
    down = ws.lineage.downstream("bronze.orders", depth=2)
    assert set(down.ids()) == {
        "pipeline:promote.silver.orders",
        "dataset:silver.orders",
        "pipeline:revenue",
        "dataset:gold.revenue",
    }
    assert down.truncated  # the model lies one hop further
    assert not ws.lineage.downstream("bronze.orders", depth=10).truncated
    assert "model:churn" in ws.lineage.downstream("bronze.orders", depth=10).ids("Model")


def test_depth_is_limited_and_validated(ws: odg.Workbench) -> None:
    _chain(ws)
    assert ws.lineage.upstream("model:churn", depth=1).ids() == ["dataset:gold.revenue"]
    for bad in (0, -1, 51, 2.5, True, "3"):
        with pytest.raises(LineageError, match="depth must be a whole number from 1 to 50") as err:
            ws.lineage.upstream("model:churn", depth=bad)  # type: ignore[arg-type]
        assert err.value.details["field"] == "depth"


def test_cycles_are_refused_with_the_path_and_nothing_is_written(ws: odg.Workbench) -> None:
    _chain(ws)
    before = len(ws.lineage.edges())
    with pytest.raises(LineageCycleError) as err:
        ws.lineage.record_run("backfill", inputs=[("gold.revenue", 3)], outputs=[("bronze.orders", 5)])
    path = err.value.path
    assert path[0] == path[-1]
    assert "dataset:gold.revenue" in path and "dataset:bronze.orders" in path
    assert " -> ".join(path) in str(err.value)
    with pytest.raises(LineageCycleError):
        ws.lineage.add_edge("silver.orders", "silver.orders", "DERIVED_FROM")
    assert len(ws.lineage.edges()) == before
    assert ws.lineage.runs("backfill") == []
    with pytest.raises(LineageNotFoundError):
        ws.lineage.vertex("pipeline:backfill")


def test_unknown_ids_suggest_close_ones(ws: odg.Workbench) -> None:
    _chain(ws)
    with pytest.raises(LineageNotFoundError, match=r"did you mean dataset:silver\.orders") as err:
        ws.lineage.downstream("silver.ordrs")
    assert "dataset:silver.orders" in err.value.details["suggestions"]
    with pytest.raises(LookupError):
        ws.lineage.upstream("model:nothing_like_it")


def test_bad_kinds_and_mismatched_ids_are_named(ws: odg.Workbench) -> None:
    with pytest.raises(LineageError, match="unknown edge kind 'FEEDS'"):
        ws.lineage.add_edge("bronze.a", "bronze.b", "FEEDS")
    with pytest.raises(LineageError, match="model:m is a Model, expected a Dataset"):
        ws.lineage.add_edge("bronze.a", "model:m", "DERIVED_FROM")
    with pytest.raises(LineageError, match="unknown vertex kind"):
        ws.lineage.add_vertex("Table", "bronze.a")


def test_listeners_get_start_then_the_final_event(ws: odg.Workbench) -> None:
    seen: list[tuple[str, str]] = []
    ws.lineage.listeners.append(lambda event, run: seen.append((event, run.status)))
    ws.lineage.record_run("p", inputs=["bronze.a"], outputs=[("silver.a", 1)])
    assert seen == [("START", "COMPLETE"), ("COMPLETE", "COMPLETE")]
    seen.clear()
    started = ws.lineage.record_run("p", inputs=["bronze.a"], outputs=[], status="START")
    ws.lineage.record_run("p", inputs=["bronze.a"], outputs=[], status="FAIL", run_id=started.run_id, error="boom")
    assert seen == [("START", "START"), ("FAIL", "FAIL")]
    failed = ws.lineage.run(started.run_id)
    assert failed.status == "FAIL" and failed.error == "boom" and failed.duration_s is not None
    with pytest.raises(LineageError, match="already ended"):
        ws.lineage.record_run("p", status="COMPLETE", run_id=started.run_id)


def test_a_failing_listener_does_not_undo_the_run(ws: odg.Workbench, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: str, run: Any) -> None:
        raise ConnectionError("endpoint down")

    ws.lineage.listeners.append(broken)
    run = ws.lineage.record_run("p", inputs=["bronze.a"], outputs=[("silver.a", 1)])
    assert ws.lineage.run(run.run_id).status == "COMPLETE"
    assert "endpoint down" in caplog.text


def test_column_lineage_must_name_inputs_of_the_run(ws: odg.Workbench) -> None:
    with pytest.raises(LineageError, match="not an input of the run"):
        ws.lineage.record_run(
            "p", inputs=["bronze.a"], outputs=["silver.a"], column_lineage={"x": [("bronze.zz", "x")]}
        )


def test_sql_engine_walks_like_the_memory_engine(ws: odg.Workbench) -> None:
    _chain(ws)
    memory = ws.lineage.upstream("model:churn", depth=3).to_dict()
    ws.config.set("lineage.query_engine", "sql")
    sql = ws.lineage.upstream("model:churn", depth=3).to_dict()
    for key in ("nodes", "edges", "truncated"):
        assert sql[key] == memory[key]


def test_the_cache_sees_changes_made_by_another_process(ws: odg.Workbench) -> None:
    _chain(ws)
    assert "dataset:platinum.kpis" not in ws.lineage.downstream("gold.revenue").ids()
    other = odg.open(ws.root, user="other")
    try:
        other.lineage.record_run("kpis", inputs=[("gold.revenue", 3)], outputs=[("platinum.kpis", 4)])
    finally:
        other.close()
    assert "dataset:platinum.kpis" in ws.lineage.downstream("gold.revenue").ids()


def test_impact_severity_follows_the_rule(ws: odg.Workbench) -> None:
    _chain(ws)
    report = ws.lineage.impact("bronze.orders", change="schema")
    assert report.severity == "HIGH"  # reaches gold.revenue and model churn
    assert report.models == ["model:churn"]
    assert {d.id for d in report.datasets} == {"dataset:silver.orders", "dataset:gold.revenue"}
    assert "pipeline:revenue" in report.pipelines
    assert ws.lineage.impact("bronze.orders", change="data").severity == "MEDIUM"
    ws.lineage.record_run("copy", inputs=[("bronze.fx", 9)], outputs=[("silver.fx", 1)])
    assert ws.lineage.impact("silver.fx", change="deprecation").severity == "LOW"  # nothing downstream
    ws.lineage.record_run("copy2", inputs=[("silver.fx", 1)], outputs=[("silver.fx2", 1)])
    assert ws.lineage.impact("silver.fx", change="schema").severity == "MEDIUM"
    assert ws.lineage.impact("silver.fx", change="deprecation").severity == "HIGH"
    assert ws.lineage.impact("silver.fx", change="data").severity == "LOW"
    with pytest.raises(LineageError, match="unknown change type 'rename'"):
        ws.lineage.impact("silver.fx", change="rename")


def test_column_impact_follows_column_lineage(ws: odg.Workbench) -> None:
    _chain(ws)
    g = ws.lineage
    g.record_run(
        "promote.silver.fx",
        inputs=[("bronze.fx", 9)],
        outputs=[("silver.fx", 1)],
        column_lineage={"rate": [("bronze.fx", "rate")], "day": [("bronze.fx", "day")]},
    )
    rate = g.impact("bronze.fx", column="rate", change="schema")
    assert {d.id: d.columns for d in rate.datasets} == {
        "dataset:gold.revenue": ["amount_eur"],
        "dataset:silver.fx": ["rate"],
    }
    assert rate.severity == "HIGH" and rate.models == ["model:churn"]
    # status is read in a filter: gold.revenue depends on it whole, though no column derives from it
    status = g.impact("silver.orders", column="status", change="data")
    assert [(d.id, d.columns) for d in status.datasets] == [("dataset:gold.revenue", None)]
    assert "reads silver.orders.status" in status.datasets[0].reason
    # no column lineage was recorded for the promotion: assumed affected, and said so
    unknown = g.impact("bronze.orders", column="amount", change="schema")
    assert "dataset:silver.orders" in unknown.unknown_column_lineage
    assert unknown.datasets[0].column_lineage_known is False


def test_model_lineage_is_reproducible_only_when_snapshots_exist(ws: odg.Workbench) -> None:
    import pyarrow as pa

    first = ws.ingest(pa.table({"x": [1, 2, 3]}), "bronze.train")
    ws.lineage.add_edge("model:m", "bronze.train", "TRAINED_ON", dst_snapshot=first.snapshot_id, version="1")
    ws.lineage.add_edge("model:m", "bronze.gone", "TRAINED_ON", dst_snapshot=123, version="2")
    ws.lineage.add_edge("model:m", "bronze.train", "TRAINED_ON", dst_snapshot=first.snapshot_id, version="2")
    v1 = ws.lineage.model_lineage("m", version="1")
    assert v1.is_reproducible and v1.as_of == {"bronze.train": first.snapshot_id}
    latest = ws.lineage.model_lineage("model:m")
    assert latest.version == "2" and latest.versions == ["1", "2"]
    assert not latest.is_reproducible
    assert latest.reasons == ["bronze.gone: the table no longer exists"]
    with pytest.raises(LineageNotFoundError, match="no version 7"):
        ws.lineage.model_lineage("m", version=7)
