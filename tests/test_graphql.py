"""GraphQL: the origin design's queries answer what the library answers, with variables, errors and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import odg_workbench as odg
from odg_workbench.lineage.graphql import GraphQLInputError, coerce_variables, execute, sdl
from odg_workbench.lineage.models import ModelCard
from odg_workbench.lineage.versioned import VersionedQuery
from odg_workbench.quality.history import history, report_json
from odg_workbench.samples import check_samples, ingest_samples
from tests.conftest import REPO, run_odg

ORDERS_CONTRACT = REPO / "data" / "contracts" / "orders.odcs.yaml"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[odg.Workbench]:
    """Samples ingested and checked, bronze.orders promoted, a SQL step to gold, a model, decisions."""
    root = tmp_path_factory.mktemp("graphql") / "lake"
    wb = odg.open(root, user="root")
    wb.config.set("governance.admins", "root")
    wb.config.save()
    ingest_samples(wb)
    check_samples(wb)
    assert wb.promote("bronze.orders", "silver", contract=ORDERS_CONTRACT).status == "promoted"
    wb.raci.set("dataset:silver.orders", responsible="rita,ron", accountable="ann,abe", domain="sales")
    wb.raci.set("dataset:bronze.customers", accountable="bia", domain="crm")
    VersionedQuery(
        "SELECT CAST(order_ts AS DATE) AS day, sum(total_amount) AS revenue FROM silver.orders "
        "WHERE status = 'delivered' GROUP BY 1",
        name="daily_revenue",
        workbench=wb,
    ).run(output="gold.daily")
    wb.table("gold.daily").tag("v1")
    wb.models.register(
        ModelCard(name="forecast", intended_use="daily revenue forecast", training_datasets=["gold.daily"], owner="ann")
    )
    wb.classifications.set(
        "bronze.customers", "confidential", ["BR"], reason="CPF and e-mail", pii_columns={"email": ["EMAIL_ADDRESS"]}
    )
    with odg.open(root, user="rita") as rita:
        rita.decisions.create("schema_change", "Drop channel from silver.orders", dataset="silver.orders")
        rita.decisions.create("access_request", "Read customers", dataset="bronze.customers")
    with odg.open(root, user="ann") as ann:
        ann.decisions.approve("1", comment="fine by me")
    yield wb
    wb.close()


def q(wb: odg.Workbench, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data of a query that must succeed."""
    result = execute(wb, query, variables)
    assert "errors" not in result, result["errors"]
    data: dict[str, Any] = result["data"]
    return data


def errors_of(wb: odg.Workbench, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    result = execute(wb, query, variables)
    assert result.get("errors"), result
    errors: list[dict[str, Any]] = result["errors"]
    return errors


# -- the schema ---------------------------------------------------------------------------------------


def test_the_schema_has_the_origin_designs_queries_and_arguments() -> None:
    text = sdl()
    query_type = text[text.index("type Query {") :]
    query_type = query_type[: query_type.index("\n}")]
    for signature in (
        "decision(id: ID!)",
        "decisions(domain: String = null, status: String = null",
        "dataset(id: String!)",
        "datasets(domain: String = null, layer: String = null",
        "lineage(datasetId: String!, depth: Int = null",
        "qualityReport(datasetId: String!",
        "datasetLineage(datasetId: String!, depth: Int = null)",
        "modelLineage(modelName: String!, modelVersion: ID = null)",
        'impactAnalysis(datasetId: String!, column: String = null, changeType: String! = "schema"',
    ):
        assert signature in query_type, signature
    for field in ("upstreamDatasets", "consumingModels", "isReproducible", "trainingDatasets", "datasetSnapshots"):
        assert f"  {field}:" in text
    assert "affectedModels: [VertexRef!]!" in text and "severity: Severity!" in text


def test_the_origin_designs_example_query_runs(lake: odg.Workbench) -> None:
    # the origin design's example, with this workspace's names (its "layer/name" form kept)
    data = q(
        lake,
        """
        query {
          datasetLineage(datasetId: "silver/orders", depth: 5) {
            upstreamDatasets { name }
            consumingModels { name }
          }
          modelLineage(modelName: "forecast", modelVersion: 1) {
            isReproducible
            trainingDatasets { name }
            datasetSnapshots
          }
          impactAnalysis(datasetId: "silver/orders", changeType: "schema") {
            severity
            affectedModels { name }
            affectedPipelines { name }
          }
        }
        """,
    )
    up = lake.lineage.upstream("silver.orders", 5)
    down = lake.lineage.downstream("silver.orders", 5)
    assert [d["name"] for d in data["datasetLineage"]["upstreamDatasets"]] == [
        n.name for n in up.nodes if n.kind == "Dataset" and n.id != up.root
    ]
    assert [m["name"] for m in data["datasetLineage"]["consumingModels"]] == ["forecast"]
    assert [n.name for n in down.nodes if n.kind == "Model"] == ["forecast"]
    ml = lake.lineage.model_lineage("forecast", 1)
    assert data["modelLineage"]["isReproducible"] is ml.is_reproducible is True
    assert data["modelLineage"]["trainingDatasets"] == [{"name": t.table} for t in ml.training]
    assert data["modelLineage"]["datasetSnapshots"] == [str(t.snapshot_id) for t in ml.training]
    impact = lake.lineage.impact("silver.orders", change="schema")
    assert data["impactAnalysis"]["severity"] == impact.severity == "HIGH"
    assert [m["name"] for m in data["impactAnalysis"]["affectedModels"]] == [
        m.removeprefix("model:") for m in impact.models
    ]
    assert [p["name"] for p in data["impactAnalysis"]["affectedPipelines"]] == [
        p.removeprefix("pipeline:") for p in impact.pipelines
    ]


# -- decisions ----------------------------------------------------------------------------------------------


def test_decision_has_its_history_and_approvals(lake: odg.Workbench) -> None:
    data = q(
        lake,
        """{ decision(id: "1") { id type title status isOpen requester dataset domain createdAt
             approvals { actor roles at comment } waitingFor
             history { at actor action fromStatus toStatus comment roles } } }""",
    )["decision"]
    lib = lake.decisions.get("1")
    assert data["id"] == lib.id and data["status"] == lib.status.value == "PENDING" and data["isOpen"]
    assert (data["type"], data["title"], data["requester"]) == (lib.type, lib.title, "rita")
    assert (data["dataset"], data["domain"]) == ("silver.orders", "sales")
    assert data["createdAt"] == lib.created_at.isoformat()
    assert data["approvals"] == [
        {"actor": a["actor"], "roles": a["roles"], "at": a["at"], "comment": a["comment"]} for a in lib.approvals
    ]
    assert [a["actor"] for a in data["approvals"]] == ["ann"]
    # ann (Accountable) approved; abe (Accountable) and one Responsible other than the requester remain
    assert data["waitingFor"] == lib.waiting_for == {"accountable": ["abe"], "responsible_any_of": ["ron"]}
    assert data["history"] == [
        {
            "at": h.at.isoformat(),
            "actor": h.actor,
            "action": h.action,
            "fromStatus": h.from_status,
            "toStatus": h.to_status,
            "comment": h.comment,
            "roles": list(h.roles),
        }
        for h in lib.history
    ]
    assert [h["action"] for h in data["history"]] == ["create", "approve"]


def test_decisions_filter_by_domain_and_status_and_page(lake: odg.Workbench) -> None:
    everything = q(lake, "{ decisions { id title dataset history { action } } }")["decisions"]
    assert [d["id"] for d in everything] == [d.id for d in lake.decisions.list()] == ["2", "1"]
    # listed decisions load their history on demand
    assert [h["action"] for h in everything[1]["history"]] == ["create", "approve"]
    sales = q(lake, '{ decisions(domain: "sales", status: "open") { id } }')["decisions"]
    assert [d["id"] for d in sales] == [d.id for d in lake.decisions.list(domain="sales", status="open")] == ["1"]
    assert q(lake, '{ decisions(status: "approved") { id } }')["decisions"] == []
    page = q(lake, "{ decisions(limit: 1, offset: 1) { id } }")["decisions"]
    assert page == [{"id": "1"}]
    (err,) = errors_of(lake, "{ decisions(limit: -1) { id } }")
    assert "limit must be 0 or more" in err["message"] and err["extensions"]["field"] == "limit"
    (err,) = errors_of(lake, '{ decisions(status: "done") { id } }')
    assert "unknown status 'done'" in err["message"]


# -- datasets ------------------------------------------------------------------------------------------------


def test_dataset_answers_what_the_lakehouse_and_quality_history_say(lake: odg.Workbench) -> None:
    data = q(
        lake,
        """query($id: String!) { dataset(id: $id) {
            id name layer rows currentSnapshotId snapshotCount sizeBytes domain
            schema { name type required }
            snapshots { snapshotId operation totalRows isCurrent }
            currentSnapshot { snapshotId }
            tags { name snapshotId }
            qualityScore qualityVerdict classification { level } } }""",
        {"id": "gold/daily"},
    )["dataset"]
    table = lake.table("gold.daily")
    info = table.info()
    assert (data["id"], data["name"], data["layer"]) == ("dataset:gold.daily", "gold.daily", "gold")
    assert data["rows"] == info.rows == table.count()
    assert data["currentSnapshotId"] == str(table.current_snapshot_id)
    assert data["snapshotCount"] == info.snapshots and data["sizeBytes"] == info.size_bytes
    assert [f["name"] for f in data["schema"]] == table.schema.names == ["day", "revenue"]
    assert [s["snapshotId"] for s in data["snapshots"]] == [str(s.snapshot_id) for s in table.snapshots()]
    assert data["currentSnapshot"] == {"snapshotId": str(table.current_snapshot_id)}
    assert data["tags"] == [{"name": "v1", "snapshotId": str(table.tags()["v1"])}]
    # never checked, not classified, no RACI domain
    assert (data["qualityScore"], data["qualityVerdict"], data["classification"], data["domain"]) == (
        None,
        None,
        None,
        None,
    )


def test_dataset_quality_and_classification_come_from_the_library(lake: odg.Workbench) -> None:
    data = q(
        lake,
        """{ dataset(id: "dataset:bronze.customers") { domain qualityScore qualityVerdict qualityCheckedAt
             qualityReport { runId }
             classification { level levelValue jurisdictions frameworks piiColumns { column entities } setBy reason } } }""",
    )["dataset"]
    (run,) = history(lake.state, "bronze.customers", limit=1)
    assert data["qualityScore"] == run["score"] and data["qualityVerdict"] == run["verdict"]
    assert data["qualityCheckedAt"] == run["started_at"] and data["qualityReport"] == {"runId": run["run_id"]}
    cls = lake.classifications.get("bronze.customers")
    assert cls is not None
    assert data["classification"] == {
        "level": cls.level.label,
        "levelValue": int(cls.level),
        "jurisdictions": [j.value for j in cls.jurisdictions],
        "frameworks": cls.frameworks,
        "piiColumns": [{"column": "email", "entities": ["EMAIL_ADDRESS"]}],
        "setBy": "root",
        "reason": "CPF and e-mail",
    }
    assert data["domain"] == "crm"


def test_datasets_filter_by_layer_and_domain_and_page(lake: odg.Workbench) -> None:
    every = q(lake, "{ datasets { name layer rows } }")["datasets"]
    assert [(d["name"], d["rows"]) for d in every] == [(t.table, t.rows) for t in lake.tables()]
    bronze = q(lake, '{ datasets(layer: "bronze") { name } }')["datasets"]
    assert [d["name"] for d in bronze] == [t.table for t in lake.tables("bronze")]
    assert q(lake, '{ datasets(domain: "sales") { name domain } }')["datasets"] == [
        {"name": "silver.orders", "domain": "sales"}
    ]
    page = q(lake, '{ datasets(layer: "bronze", limit: 2, offset: 1) { name } }')["datasets"]
    assert [d["name"] for d in page] == [t.table for t in lake.tables("bronze")][1:3]
    (err,) = errors_of(lake, '{ datasets(layer: "diamond") { name } }')
    assert "unknown layer 'diamond'" in err["message"]


# -- lineage ---------------------------------------------------------------------------------------------------


def _nodes(result: Any) -> list[dict[str, Any]]:
    return [{"id": n.id, "kind": n.kind, "name": n.name, "depth": n.depth, "layer": n.layer} for n in result.nodes]


def test_lineage_one_way_matches_the_graph(lake: odg.Workbench) -> None:
    data = q(
        lake,
        """query($id: String!, $depth: Int) {
             up: lineage(datasetId: $id, depth: $depth, direction: UPSTREAM) {
               root direction depth truncated nodes { id kind name depth layer }
               edges { src dst kind srcSnapshot dstSnapshot runId } }
             down: lineage(datasetId: $id, depth: $depth, direction: DOWNSTREAM) { nodes(kind: "Model") { id } } }""",
        {"id": "gold.daily", "depth": 2},
    )
    lib = lake.lineage.upstream("gold.daily", 2)
    up = data["up"]
    assert (up["root"], up["direction"], up["depth"], up["truncated"]) == (lib.root, "UPSTREAM", 2, lib.truncated)
    assert up["truncated"] is True  # the sample file lies 3 hops up
    assert up["nodes"] == _nodes(lib)
    assert up["edges"] == [
        {
            "src": e.src,
            "dst": e.dst,
            "kind": e.kind,
            "srcSnapshot": None if e.src_snapshot is None else str(e.src_snapshot),
            "dstSnapshot": None if e.dst_snapshot is None else str(e.dst_snapshot),
            "runId": e.run_id,
        }
        for e in lib.edges
    ]
    assert data["down"]["nodes"] == [{"id": "model:forecast"}]


def test_lineage_both_ways_matches_the_export(lake: odg.Workbench) -> None:
    data = q(lake, '{ lineage(datasetId: "silver.orders", depth: 3) { nodes { id depth } edges { src dst kind } } }')
    export = lake.lineage.export("silver.orders", depth=3)
    assert data["lineage"]["nodes"] == [{"id": v["id"], "depth": v["depth"]} for v in export["vertices"]]
    assert sorted((e["src"], e["dst"], e["kind"]) for e in data["lineage"]["edges"]) == sorted(
        (e["src"], e["dst"], e["kind"]) for e in export["edges"]
    )
    nested = q(lake, '{ dataset(id: "silver.orders") { lineage(depth: 3) { nodes { id depth } } } }')
    assert nested["dataset"]["lineage"]["nodes"] == data["lineage"]["nodes"]


def test_dataset_lineage_groups_the_walks_by_kind(lake: odg.Workbench) -> None:
    data = q(
        lake,
        """{ datasetLineage(datasetId: "bronze.orders") { dataset depth truncated
             upstreamDatasets { id } upstreamPipelines { id } downstreamDatasets { id depth }
             downstreamPipelines { id } consumingModels { id } features { id } } }""",
    )["datasetLineage"]
    up, down = lake.lineage.upstream("bronze.orders"), lake.lineage.downstream("bronze.orders")
    assert (data["dataset"], data["depth"]) == ("dataset:bronze.orders", 5)
    assert [n["id"] for n in data["upstreamDatasets"]] == up.ids("Dataset")
    assert [n["id"] for n in data["upstreamPipelines"]] == up.ids("Pipeline") == ["pipeline:ingest.bronze.orders"]
    assert [(n["id"], n["depth"]) for n in data["downstreamDatasets"]] == [
        ("dataset:silver.orders", 1),
        ("dataset:gold.daily", 2),
    ]
    assert [n["id"] for n in data["downstreamPipelines"]] == down.ids("Pipeline")
    assert [n["id"] for n in data["consumingModels"]] == down.ids("Model") == ["model:forecast"]
    assert data["features"] == [] and data["truncated"] is False


def test_model_lineage_and_its_card(lake: odg.Workbench) -> None:
    data = q(
        lake,
        """query($v: ID) { modelLineage(modelName: "forecast", modelVersion: $v) {
             model name version versions isReproducible reasons asOf datasetSnapshots
             trainingDatasets { id name snapshotId exists reason }
             upstream { nodes { id } }
             card { name version intendedUse owner trainingDatasets trainingSnapshots riskLevel } } }""",
        {"v": "1"},
    )["modelLineage"]
    ml = lake.lineage.model_lineage("forecast", "1")
    card = lake.models.get("forecast", 1)
    assert (data["model"], data["name"], data["version"], data["versions"]) == (
        "model:forecast",
        "forecast",
        "1",
        ["1"],
    )
    assert data["isReproducible"] is True and data["reasons"] == ml.reasons == []
    assert data["asOf"] == {t: str(s) for t, s in ml.as_of.items()}
    snapshot = lake.table("gold.daily").current_snapshot_id
    assert data["trainingDatasets"] == [
        {
            "id": "dataset:gold.daily",
            "name": "gold.daily",
            "snapshotId": str(snapshot),
            "exists": True,
            "reason": f"snapshot {snapshot} exists",
        }
    ]
    assert ml.upstream is not None and [n["id"] for n in data["upstream"]["nodes"]] == [n.id for n in ml.upstream.nodes]
    assert data["card"] == {
        "name": "forecast",
        "version": 1,
        "intendedUse": "daily revenue forecast",
        "owner": "ann",
        "trainingDatasets": ["gold.daily"],
        "trainingSnapshots": {"gold.daily": str(card.training_snapshots["gold.daily"])},
        "riskLevel": card.risk_level,
    }
    models = q(lake, "{ models { name version framework } }")["models"]
    assert models == [{"name": c.name, "version": c.version, "framework": c.framework} for c in lake.models.list()]
    (err,) = errors_of(lake, '{ modelLineage(modelName: "forecast", modelVersion: 7) { isReproducible } }')
    assert "has no version 7" in err["message"] and err["extensions"]["suggestions"] == ["1"]


@pytest.mark.parametrize(
    ("dataset", "column", "change"),
    [
        pytest.param("silver.orders", None, "schema", id="schema"),
        pytest.param("silver.orders", None, "data", id="data"),
        pytest.param("bronze.orders", None, "deprecation", id="deprecation"),
        pytest.param("silver.orders", "total_amount", "schema", id="column"),
        pytest.param("gold.daily", None, "data", id="gold"),
    ],
)
def test_impact_analysis_matches_the_library(
    lake: odg.Workbench, dataset: str, column: str | None, change: str
) -> None:
    data = q(
        lake,
        """query($d: String!, $c: String, $t: String!) { impactAnalysis(datasetId: $d, column: $c, changeType: $t) {
             dataset column changeType severity rule depth truncated unknownColumnLineage
             affectedDatasets { id name depth layer columns columnLineageKnown reason }
             affectedPipelines { id kind name } affectedModels { id kind name } affectedFeatures { id } } }""",
        {"d": dataset, "c": column, "t": change},
    )["impactAnalysis"]
    lib = lake.lineage.impact(dataset, column=column, change=change)
    assert (data["dataset"], data["column"], data["changeType"]) == (lib.dataset, lib.column, lib.change)
    assert (data["severity"], data["rule"], data["depth"]) == (lib.severity, lib.rule, lib.depth)
    assert data["unknownColumnLineage"] == lib.unknown_column_lineage
    assert data["affectedDatasets"] == [
        {
            "id": d.id,
            "name": d.id.removeprefix("dataset:"),
            "depth": d.depth,
            "layer": d.layer,
            "columns": d.columns,
            "columnLineageKnown": d.column_lineage_known,
            "reason": d.reason,
        }
        for d in lib.datasets
    ]
    assert [p["id"] for p in data["affectedPipelines"]] == lib.pipelines
    assert [m["id"] for m in data["affectedModels"]] == lib.models
    assert all(m["kind"] == "Model" for m in data["affectedModels"])
    assert [f["id"] for f in data["affectedFeatures"]] == lib.features


# -- quality ------------------------------------------------------------------------------------------------


def test_quality_report_is_the_stored_report(lake: odg.Workbench) -> None:
    data = q(
        lake,
        """{ qualityReport(datasetId: "bronze.orders") { runId dataset snapshotId contractId rows score verdict
             gate { layer threshold passed blockingRules } dimensions { dimension score evaluated failed }
             rules { id passed failed } failed: rules(failedOnly: true) { id metric dimension value } } }""",
    )["qualityReport"]
    (run,) = history(lake.state, "bronze.orders", limit=1)
    stored = report_json(lake.state, run["run_id"])
    assert stored is not None
    assert (data["runId"], data["dataset"], data["rows"]) == (stored["run_id"], "bronze.orders", stored["rows"])
    assert data["snapshotId"] == str(stored["snapshot_id"]) and data["contractId"] == stored["contract"]["id"]
    assert (data["score"], data["verdict"]) == (stored["score"], stored["verdict"])
    assert data["gate"] == {
        "layer": "bronze",
        "threshold": stored["gate"]["threshold"],
        "passed": stored["gate"]["passed"],
        "blockingRules": stored["gate"]["blocking_rules"],
    }
    assert data["dimensions"] == [
        {"dimension": k, "score": v["score"], "evaluated": v["evaluated"], "failed": v["failed"]}
        for k, v in stored["dimensions"].items()
    ]
    assert [r["id"] for r in data["rules"]] == [r["id"] for r in stored["rules"]]
    failed = [r for r in stored["rules"] if not r["passed"]]
    assert failed and [r["id"] for r in data["failed"]] == [r["id"] for r in failed]
    assert [r["value"] for r in data["failed"]] == [r["value"] for r in failed]
    by_id = q(lake, f'{{ qualityReport(datasetId: "bronze.orders", runId: "{run["run_id"]}") {{ runId }} }}')
    assert by_id["qualityReport"]["runId"] == run["run_id"]


def test_quality_report_errors_name_the_problem(lake: odg.Workbench) -> None:
    (err,) = errors_of(lake, '{ qualityReport(datasetId: "bronze.products") { runId } }')
    assert "bronze.products has no quality run yet" in err["message"]
    (err,) = errors_of(lake, '{ qualityReport(datasetId: "bronze.ordrs") { runId } }')
    assert "did you mean bronze.orders" in err["message"]
    (run,) = history(lake.state, "bronze.orders", limit=1)
    (err,) = errors_of(
        lake, f'{{ qualityReport(datasetId: "bronze.customers", runId: "{run["run_id"]}") {{ runId }} }}'
    )
    assert "checked bronze.orders, not bronze.customers" in err["message"]


# -- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message", "suggestion"),
    [
        pytest.param(
            '{ dataset(id: "silver.ordrs") { name } }', "no table silver.ordrs", "silver.orders", id="dataset"
        ),
        pytest.param(
            '{ lineage(datasetId: "silver.ordrs") { root } }',
            "no lineage vertex",
            "dataset:silver.orders",
            id="lineage",
        ),
        pytest.param(
            '{ datasetLineage(datasetId: "gold/dayly") { dataset } }',
            "no lineage vertex gold.dayly",
            "dataset:gold.daily",
            id="datasetLineage",
        ),
        pytest.param(
            '{ impactAnalysis(datasetId: "silver.ordrs") { severity } }',
            "no lineage vertex",
            "dataset:silver.orders",
            id="impactAnalysis",
        ),
        pytest.param(
            '{ modelLineage(modelName: "forcast") { isReproducible } }',
            "no lineage vertex",
            "model:forecast",
            id="model",
        ),
    ],
)
def test_unknown_ids_come_back_as_errors_with_close_names(
    lake: odg.Workbench, query: str, message: str, suggestion: str
) -> None:
    result = execute(lake, query)
    assert list(result["data"].values()) == [None]
    (err,) = result["errors"]
    assert message in err["message"] and f"did you mean {suggestion}" in err["message"]
    assert suggestion in err["extensions"]["suggestions"]
    assert err["extensions"]["type"] in ("TableNotFoundError", "LineageNotFoundError")


def test_bad_arguments_and_partial_answers(lake: odg.Workbench) -> None:
    (err,) = errors_of(lake, '{ lineage(datasetId: "silver.orders", depth: 0) { root } }')
    assert "depth must be a whole number from 1 to 50" in err["message"] and err["extensions"]["field"] == "depth"
    (err,) = errors_of(lake, '{ impactAnalysis(datasetId: "silver.orders", changeType: "rename") { severity } }')
    assert "unknown change type 'rename'" in err["message"]
    (err,) = errors_of(lake, '{ datasetLineage(datasetId: "model:forecast") { dataset } }')
    assert "datasetLineage starts at a dataset, not model:forecast" in err["message"]
    (err,) = errors_of(lake, '{ decision(id: "99") { id } }')
    assert "no decision 99" in err["message"] and err["extensions"]["type"] == "DecisionNotFoundError"
    (err,) = errors_of(lake, "{ datasets { nme } }")
    assert "Cannot query field 'nme' on type 'Dataset'. Did you mean 'name'?" in err["message"]
    # one bad field does not hide the others
    result = execute(lake, '{ ok: dataset(id: "gold.daily") { name } bad: dataset(id: "gold.nope") { name } }')
    assert result["data"] == {"ok": {"name": "gold.daily"}, "bad": None}
    assert [e["path"] for e in result["errors"]] == [["bad"]]


# -- variables, the CLI, the ASGI app ----------------------------------------------------------------------


def test_coerce_variables_types_text_as_the_query_declares() -> None:
    query = "query($id: String!, $d: Int, $dir: LineageDirection, $v: ID) { lineage(datasetId: $id) { root } }"
    assert coerce_variables(query, {"id": "123", "d": "3", "dir": "UPSTREAM", "v": "2"}) == {
        "id": "123",
        "d": 3,
        "dir": "UPSTREAM",
        "v": "2",
    }
    with pytest.raises(GraphQLInputError, match=r"declares no variable \$depth \(it declares: \$id, \$d, \$dir, \$v\)"):
        coerce_variables(query, {"depth": "3"})
    with pytest.raises(GraphQLInputError, match="not valid GraphQL"):
        coerce_variables("{ lineage(", {})


def test_cli_runs_queries_with_variables_and_files(lake: odg.Workbench, tmp_path: Path) -> None:
    query = "query($id: String!, $depth: Int) { lineage(datasetId: $id, depth: $depth, direction: UPSTREAM) { nodes { id } } }"
    out = run_odg("graphql", query, "--var", "id=gold.daily", "--var", "depth=1", workspace=lake.root)
    assert [n["id"] for n in json.loads(out.stdout)["lineage"]["nodes"]] == [
        n.id for n in lake.lineage.upstream("gold.daily", 1).nodes
    ]
    (tmp_path / "q.graphql").write_text('{ dataset(id: "gold.daily") { name rows } }')
    full = json.loads(run_odg("graphql", str(tmp_path / "q.graphql"), "--json", workspace=lake.root).stdout)
    assert full == {"data": {"dataset": {"name": "gold.daily", "rows": lake.table("gold.daily").count()}}}


def test_cli_errors_exit_1(lake: odg.Workbench) -> None:
    bad = run_odg("graphql", '{ dataset(id: "gold.dayly") { name } }', workspace=lake.root, check=False)
    assert bad.returncode == 1 and "did you mean gold.daily" in bad.stderr
    as_json = run_odg("graphql", '{ dataset(id: "gold.dayly") { name } }', "--json", workspace=lake.root, check=False)
    doc = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and doc["data"] == {"dataset": None}
    assert doc["errors"][0]["extensions"]["suggestions"] == ["gold.daily"]
    undeclared = run_odg("graphql", "{ datasets { name } }", "--var", "x=1", workspace=lake.root, check=False)
    assert undeclared.returncode == 1 and "declares no variable $x" in undeclared.stderr
    missing = run_odg("graphql", "nothing-here.graphql", workspace=lake.root, check=False)
    assert missing.returncode == 1 and "cannot read the query file nothing-here.graphql" in missing.stderr


def test_cli_prints_the_schema_without_a_workspace(tmp_path: Path) -> None:
    out = run_odg("graphql", "schema", workspace=tmp_path / "none")
    assert out.stdout.strip() == sdl().strip()
    assert not (tmp_path / "none").exists()


def test_asgi_app_serves_the_same_answers(lake: odg.Workbench) -> None:
    from starlette.testclient import TestClient

    from odg_workbench.lineage.graphql import asgi_app

    client = TestClient(asgi_app(lake))
    ok = client.post(
        "/", json={"query": "query($id: String!) { dataset(id: $id) { rows } }", "variables": {"id": "silver.orders"}}
    )
    assert ok.status_code == 200 and ok.json() == {"data": {"dataset": {"rows": lake.table("silver.orders").count()}}}
    bad = client.post("/", json={"query": '{ dataset(id: "silver.ordrs") { rows } }'}).json()
    assert bad["errors"][0]["extensions"]["suggestions"] == ["silver.orders", "bronze.orders"]


def test_importing_the_workbench_does_not_import_strawberry() -> None:
    code = "import sys, odg_workbench, odg_workbench.cli, odg_workbench.lineage; print('strawberry' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
