"""``odg lineage show|impact|export|runs`` and the altair rendering of a subgraph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import odg_workbench as odg
from odg_workbench.lineage import render
from tests.conftest import odg_json, run_odg


@pytest.fixture
def graph(ws: odg.Workbench) -> odg.Workbench:
    g = ws.lineage
    g.record_run("promote.silver.orders", inputs=[("bronze.orders", 1)], outputs=[("silver.orders", 2)])
    g.record_run(
        "revenue",
        inputs=[("silver.orders", 2)],
        outputs=[("gold.revenue", 3)],
        column_lineage={"total": [("silver.orders", "amount")]},
    )
    g.add_edge("model:churn", "gold.revenue", "TRAINED_ON", dst_snapshot=3, version="1")
    return ws


def test_show_prints_both_directions_as_json(graph: odg.Workbench) -> None:
    doc = odg_json("lineage", "show", "silver.orders", workspace=graph.root)
    assert doc["upstream"]["root"] == "dataset:silver.orders"
    assert "dataset:bronze.orders" in {n["id"] for n in doc["upstream"]["nodes"]}
    assert "model:churn" in {n["id"] for n in doc["downstream"]["nodes"]}
    one = odg_json("lineage", "show", "model:churn", "--direction", "upstream", "--depth", "1", workspace=graph.root)
    assert [n["id"] for n in one["upstream"]["nodes"]] == ["model:churn", "dataset:gold.revenue"]
    assert one["upstream"]["truncated"] is True


def test_impact_reports_severity_and_affected(graph: odg.Workbench) -> None:
    doc = odg_json("lineage", "impact", "silver.orders", "--column", "amount", workspace=graph.root)
    assert doc["severity"] == "HIGH" and doc["models"] == ["model:churn"]
    assert doc["datasets"][0]["id"] == "dataset:gold.revenue" and doc["datasets"][0]["columns"] == ["total"]
    text = run_odg("lineage", "impact", "silver.orders", "--change", "data", workspace=graph.root).stdout
    assert "MEDIUM" in text and "model:churn" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("show", "silver.ordrs"), "did you mean dataset:silver.orders", id="unknown-id"),
        pytest.param(("show", "silver.orders", "--depth", "0"), "depth must be a whole number", id="depth"),
        pytest.param(("impact", "silver.orders", "--change", "rename"), "unknown change type", id="change"),
        pytest.param(("export", "silver.orders", "-f", "html"), "give --output", id="html-needs-file"),
    ],
)
def test_bad_input_exits_1_with_the_reason(graph: odg.Workbench, args: tuple[str, ...], message: str) -> None:
    proc = run_odg("lineage", *args, "--json", workspace=graph.root, check=False)
    assert proc.returncode == 1
    assert message in json.loads(proc.stdout)["error"]["message"]


def test_export_json_vega_and_html(graph: odg.Workbench, tmp_path: Path) -> None:
    whole = odg_json("lineage", "export", workspace=graph.root)
    assert len(whole["vertices"]) == 6 and {e["kind"] for e in whole["edges"]} == {
        "CONSUMES",
        "GENERATED_BY",
        "DERIVED_FROM",
        "TRAINED_ON",
    }
    sub = odg_json("lineage", "export", "gold.revenue", "--depth", "1", workspace=graph.root)
    depths = {v["id"]: v["depth"] for v in sub["vertices"]}
    assert depths["dataset:silver.orders"] == -1 and depths["model:churn"] == 1
    assert "dataset:bronze.orders" not in depths
    page = tmp_path / "lineage.html"
    run_odg("lineage", "export", "gold.revenue", "-f", "html", "-o", str(page), workspace=graph.root)
    assert "vega" in page.read_text() and "gold.revenue" in page.read_text()
    spec = tmp_path / "lineage.vl.json"
    run_odg("lineage", "export", "gold.revenue", "-f", "vega", "-o", str(spec), workspace=graph.root)
    assert json.loads(spec.read_text())["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_runs_lists_recorded_runs(graph: odg.Workbench) -> None:
    runs = odg_json("lineage", "runs", "revenue", workspace=graph.root)
    assert [r["pipeline"] for r in runs] == ["pipeline:revenue"]
    assert runs[0]["outputs"] == [{"dataset": "dataset:gold.revenue", "snapshot": 3}]


def test_render_lays_out_upstream_left_and_downstream_right(graph: odg.Workbench) -> None:
    up = graph.lineage.upstream("gold.revenue")
    down = graph.lineage.downstream("gold.revenue")
    report = graph.lineage.impact("silver.orders")
    chart = render(up, down, impact=report)
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    nodes = {n["id"]: n for layer in spec["layer"] for n in layer.get("data", {}).get("values", []) if "id" in n}
    assert nodes["dataset:gold.revenue"]["x"] == 0
    assert nodes["dataset:bronze.orders"]["x"] < nodes["dataset:silver.orders"]["x"] < 0 < nodes["model:churn"]["x"]
    assert nodes["model:churn"]["affected"] and not nodes["dataset:bronze.orders"]["affected"]
    assert "HIGH" in spec["title"]
    edges = list(spec["layer"][0]["data"]["values"])
    assert {e["kind"] for e in edges} >= {"DERIVED_FROM", "TRAINED_ON"}
    with pytest.raises(odg.lineage.LineageError):
        render()
