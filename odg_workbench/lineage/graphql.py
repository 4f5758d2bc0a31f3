"""GraphQL over the workbench: the origin design's queries as a strawberry schema.

Queries (the origin design's names and arguments, plus a few filters)::

    decision(id)                                  a governance decision, its approvals and history
    decisions(domain, status, type, dataset, limit, offset)
    dataset(id)                                   a lakehouse table: layer, rows, snapshots, schema,
                                                  tags, last quality score and verdict, classification,
                                                  its lineage and decisions
    datasets(domain, layer, limit, offset)
    lineage(datasetId, depth, direction)          nodes and edges up, down or both ways
    qualityReport(datasetId, runId)               the latest (or one) quality run: rules, dimensions, gate
    datasetLineage(datasetId, depth)              upstream datasets, consuming models ...
    modelLineage(modelName, modelVersion)         isReproducible, training datasets and snapshots
    impactAnalysis(datasetId, column, changeType) severity, affected datasets, pipelines and models
    models(name), model(name, version)            model cards of the registry

Every resolver calls the library (``wb.lineage``, ``wb.decisions``, ``wb.tables()`` ...):
GraphQL is a surface over it, with no logic of its own beyond shaping the answer.
``execute(wb, query)`` runs a query in-process; ``asgi_app(workspace)`` is the same
schema as an ASGI app for the web surfaces; ``odg graphql QUERY`` runs one from the shell.

Conventions: snapshot ids are strings (Iceberg's 64-bit ids do not fit GraphQL's 32-bit
``Int``, and lineage snapshots may be model or external versions); row counts and sizes
are ``Long`` (a 64-bit integer, a JSON number); times are ISO-8601 ``DateTime``; dataset
ids are accepted as ``silver.orders``, ``silver/orders`` (the origin design's form) or
``dataset:silver.orders``. A library error comes back in the response's ``errors`` with
its message (close names suggested for unknown datasets) and, under ``extensions``, its
type and structured fields (``suggestions``, ``field`` ...).

Why strawberry: typed Python classes give the schema, its SDL and validation; graphql-core
underneath executes. Nothing here is imported by ``import odg_workbench``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, NewType, TypeVar, cast

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext, Info

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    from strawberry.asgi import GraphQL

    from odg_workbench.governance.decisions import Decision as LibDecision
    from odg_workbench.lakehouse import LakeTable, TableInfo
    from odg_workbench.lineage.graph import LineageEdge as LibEdge
    from odg_workbench.lineage.graph import LineageNode as LibNode
    from odg_workbench.lineage.graph import LineageResult
    from odg_workbench.lineage.models import ModelCard as LibModelCard
    from odg_workbench.workspace import Workbench

    Long = int
else:
    Long = NewType("Long", int)

__all__ = ["GraphQLInputError", "asgi_app", "coerce_variables", "execute", "schema", "sdl"]

log = logging.getLogger("odg_workbench.graphql")

_F = TypeVar("_F", bound=Callable[..., Any])

_LAYERS = ("bronze", "silver", "gold", "platinum")


class GraphQLInputError(OdgError, ValueError):
    """A GraphQL argument or variable the workbench cannot use (a negative limit, an undeclared variable ...)."""


# -- helpers -------------------------------------------------------------------------------------


def _resolver(description: str) -> Callable[[_F], _F]:
    """``strawberry.field(description=...)`` as a typed decorator (strawberry's overload returns Any)."""
    return cast("Callable[[_F], _F]", strawberry.field(description=description))


def _wb(info: Info) -> Workbench:
    context = info.context
    wb = context.get("wb") if isinstance(context, dict) else getattr(context, "wb", None)
    if wb is None:  # pragma: no cover - the schema is always run through execute() or asgi_app()
        raise GraphQLInputError("no workspace in the GraphQL context: run queries through execute() or asgi_app()")
    return wb  # type: ignore[no-any-return]


def _snap(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _when(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _table_ref(ref: str) -> str:
    """``silver/orders`` or ``dataset:silver.orders`` -> ``silver.orders`` (other text unchanged)."""
    text = str(ref).strip().removeprefix("dataset:")
    head, sep, tail = text.partition("/")
    if sep and head.lower() in _LAYERS and tail and "/" not in tail:
        return f"{head.lower()}.{tail}"
    return text


def _vertex_ref(ref: str) -> str:
    """A lineage id: the origin design's ``gold/customers`` becomes ``gold.customers``; others kept."""
    text = str(ref).strip()
    if text.startswith("dataset:") or ":" not in text:
        return _table_ref(text) if "://" not in text else text
    return text


def _page(items: list[Any], limit: int | None, offset: int) -> list[Any]:
    if limit is not None and limit < 0:
        raise GraphQLInputError(f"limit must be 0 or more, found {limit}", field="limit", found=limit)
    if offset < 0:
        raise GraphQLInputError(f"offset must be 0 or more, found {offset}", field="offset", found=offset)
    return items[offset:] if limit is None else items[offset : offset + limit]


# -- lineage types ----------------------------------------------------------------------------------


@strawberry.enum(description="Which way a lineage walk goes from its start.")
class LineageDirection(Enum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


@strawberry.enum(description="The severity impact analysis gives a change (rule: docs/lineage.md).")
class Severity(Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


@strawberry.type(description="A vertex of the lineage graph: a dataset, pipeline, model or feature view.")
class LineageNode:
    id: str = strawberry.field(description='The graph id, e.g. "dataset:silver.orders", "model:churn".')
    kind: str = strawberry.field(description="Dataset, Pipeline, Model or Feature.")
    name: str = strawberry.field(description='The id without its kind prefix, e.g. "silver.orders".')
    depth: int = strawberry.field(
        description="Hops from the start (in a BOTH walk: negative upstream, positive downstream)."
    )
    layer: str | None = strawberry.field(description="bronze, silver, gold, platinum or external (datasets).")
    props: JSON = strawberry.field(description="The vertex's properties (type, version, framework ...).")

    @classmethod
    def of(cls, node: LibNode, depth: int | None = None) -> LineageNode:
        return cls(
            id=node.id,
            kind=node.kind,
            name=node.name,
            depth=node.depth if depth is None else depth,
            layer=node.layer,
            props=JSON(dict(node.props)),
        )


@strawberry.type(description="An edge as stored: src -[kind]-> dst, with the snapshots and run that made it.")
class LineageEdge:
    src: str
    dst: str
    kind: str = strawberry.field(description="DERIVED_FROM, GENERATED_BY, TRAINED_ON, CONSUMES or PRODUCES.")
    src_snapshot: str | None
    dst_snapshot: str | None
    run_id: str | None
    props: JSON
    created_at: datetime | None

    @classmethod
    def of(cls, edge: LibEdge) -> LineageEdge:
        return cls(
            src=edge.src,
            dst=edge.dst,
            kind=edge.kind,
            src_snapshot=_snap(edge.src_snapshot),
            dst_snapshot=_snap(edge.dst_snapshot),
            run_id=edge.run_id,
            props=JSON(dict(edge.props)),
            created_at=_when(edge.created_at),
        )


@strawberry.type(description="What a lineage walk found: the start, the nodes with their depth, the edges.")
class Lineage:
    root: str
    direction: LineageDirection
    depth: int
    truncated: bool = strawberry.field(description="More vertices lie beyond depth.")
    duration_ms: float
    edges: list[LineageEdge]
    all_nodes: strawberry.Private[list[LineageNode]]

    @_resolver("The nodes found (the start included, at depth 0), optionally of one kind.")
    def nodes(self, kind: str | None = None) -> list[LineageNode]:
        if kind is None:
            return self.all_nodes
        return [n for n in self.all_nodes if n.kind.lower() == kind.lower()]

    @classmethod
    def of(cls, result: LineageResult) -> Lineage:
        return cls(
            root=result.root,
            direction=LineageDirection(result.direction),
            depth=result.depth,
            truncated=result.truncated,
            duration_ms=round(result.duration_ms, 3),
            edges=[LineageEdge.of(e) for e in result.edges],
            all_nodes=[LineageNode.of(n) for n in result.nodes],
        )


def _lineage(wb: Workbench, ref: str, direction: LineageDirection, depth: int | None) -> Lineage:
    """One walk, or both merged the way ``LineageGraph.export`` merges them (upstream depths negative)."""
    vertex = _vertex_ref(ref)
    if direction is LineageDirection.UPSTREAM:
        return Lineage.of(wb.lineage.upstream(vertex, depth))
    if direction is LineageDirection.DOWNSTREAM:
        return Lineage.of(wb.lineage.downstream(vertex, depth))
    up, down = wb.lineage.upstream(vertex, depth), wb.lineage.downstream(vertex, depth)
    nodes: dict[str, LineageNode] = {}
    for result, sign in ((up, -1), (down, 1)):
        for node in result.nodes:
            if node.id not in nodes:
                nodes[node.id] = LineageNode.of(node, sign * node.depth)
    edges: dict[tuple[Any, ...], LineageEdge] = {}
    for edge in [*up.edges, *down.edges]:
        edges[(edge.src, edge.dst, edge.kind, edge.run_id, edge.created_at)] = LineageEdge.of(edge)
    return Lineage(
        root=up.root,
        direction=LineageDirection.BOTH,
        depth=up.depth,
        truncated=up.truncated or down.truncated,
        duration_ms=round(up.duration_ms + down.duration_ms, 3),
        edges=list(edges.values()),
        all_nodes=sorted(nodes.values(), key=lambda n: (n.depth, n.id)),
    )


@strawberry.type(description="Upstream and downstream of one dataset, grouped by kind (origin design: datasetLineage).")
class DatasetLineage:
    dataset: str = strawberry.field(description='The graph id of the dataset, e.g. "dataset:gold.customers".')
    depth: int
    upstream: Lineage
    downstream: Lineage

    @_resolver("Datasets the data comes from.")
    def upstream_datasets(self) -> list[LineageNode]:
        return [n for n in self.upstream.all_nodes if n.kind == "Dataset" and n.id != self.dataset]

    @_resolver("Pipelines that produced the data or its sources.")
    def upstream_pipelines(self) -> list[LineageNode]:
        return [n for n in self.upstream.all_nodes if n.kind == "Pipeline"]

    @_resolver("Datasets fed by this one.")
    def downstream_datasets(self) -> list[LineageNode]:
        return [n for n in self.downstream.all_nodes if n.kind == "Dataset" and n.id != self.dataset]

    @_resolver("Pipelines that read this dataset or what it feeds.")
    def downstream_pipelines(self) -> list[LineageNode]:
        return [n for n in self.downstream.all_nodes if n.kind == "Pipeline"]

    @_resolver("Models trained on this dataset or on data derived from it.")
    def consuming_models(self) -> list[LineageNode]:
        return [n for n in self.downstream.all_nodes if n.kind == "Model"]

    @_resolver("Feature views produced from this dataset.")
    def features(self) -> list[LineageNode]:
        return [n for n in self.downstream.all_nodes if n.kind == "Feature"]

    @_resolver("More vertices lie beyond depth, up or down.")
    def truncated(self) -> bool:
        return self.upstream.truncated or self.downstream.truncated


@strawberry.type(description="A vertex named in an answer: id, kind and name.")
class VertexRef:
    id: str
    kind: str
    name: str

    @classmethod
    def of(cls, vertex: str) -> VertexRef:
        from odg_workbench.lineage.graph import kind_of

        return cls(id=vertex, kind=kind_of(vertex) or "", name=vertex.split(":", 1)[-1])


@strawberry.type(description="A dataset a change reaches, with the columns affected (null: all of them).")
class AffectedDataset:
    id: str
    name: str
    depth: int
    layer: str | None
    columns: list[str] | None
    column_lineage_known: bool
    reason: str


@strawberry.type(description="What a change of a dataset (or one column) affects downstream, and how bad it is.")
class ImpactAnalysis:
    dataset: str
    column: str | None
    change_type: str = strawberry.field(description="schema, data or deprecation.")
    severity: Severity
    rule: str = strawberry.field(description="The sentence of the severity rule that gave the severity.")
    affected_datasets: list[AffectedDataset]
    affected_pipelines: list[VertexRef]
    affected_models: list[VertexRef]
    affected_features: list[VertexRef]
    unknown_column_lineage: list[str] = strawberry.field(
        description="Datasets assumed affected whole because their column lineage is unknown."
    )
    depth: int
    truncated: bool
    duration_ms: float


# -- models ---------------------------------------------------------------------------------------------


@strawberry.type(description="A model card as registered (MLflow registry of the workspace).")
class ModelCard:
    name: str
    version: int | None
    intended_use: str
    framework: str
    risk_level: str | None
    owner: str
    description: str
    parent_model: str | None
    limitations: list[str]
    training_datasets: list[str]
    training_snapshots: JSON = strawberry.field(description="{dataset: snapshot id} pinned at registration.")
    metrics: JSON
    parameters: JSON
    training_environment: JSON
    tags: JSON
    mlflow_run_id: str | None
    model_uri: str | None
    registered_at: datetime | None
    registered_by: str | None

    @classmethod
    def of(cls, card: LibModelCard) -> ModelCard:
        return cls(
            name=card.name,
            version=card.version,
            intended_use=card.intended_use,
            framework=card.framework,
            risk_level=card.risk_level,
            owner=card.owner,
            description=card.description,
            parent_model=card.parent_model,
            limitations=list(card.limitations),
            training_datasets=list(card.training_datasets),
            training_snapshots=JSON({k: _snap(v) for k, v in card.training_snapshots.items()}),
            metrics=JSON(dict(card.metrics)),
            parameters=JSON(dict(card.parameters)),
            training_environment=JSON(dict(card.training_environment)),
            tags=JSON(dict(card.tags)),
            mlflow_run_id=card.mlflow_run_id,
            model_uri=card.model_uri,
            registered_at=_when(card.registered_at),
            registered_by=card.registered_by,
        )


@strawberry.type(description="A dataset a model version was trained on, the snapshot it pins, whether it still exists.")
class TrainingDataset:
    id: str
    name: str
    snapshot_id: str | None
    exists: bool
    reason: str


@strawberry.type(description="The training data of a model version and whether the model can be reproduced from it.")
class ModelLineage:
    model: str = strawberry.field(description='The graph id, e.g. "model:churn".')
    name: str
    version: str | None
    versions: list[str | None]
    is_reproducible: bool = strawberry.field(
        description="Every training dataset is pinned to a snapshot that still exists."
    )
    reasons: list[str]
    training_datasets: list[TrainingDataset]
    as_of: JSON = strawberry.field(
        description="{table: snapshot id} to time-travel to the training data (wb.sql as_of)."
    )
    upstream: Lineage | None

    @_resolver("The snapshot ids of the training datasets (to time-travel to).")
    def dataset_snapshots(self) -> list[str]:
        return [t.snapshot_id for t in self.training_datasets if t.snapshot_id is not None]

    @_resolver("The model card of this version, when the model is in the registry.")
    def card(self, info: Info) -> ModelCard | None:
        from odg_workbench.lineage.models import ModelNotFoundError

        try:
            return ModelCard.of(_wb(info).models.get(self.name, self.version))
        except ModelNotFoundError:
            return None


# -- decisions --------------------------------------------------------------------------------------------


@strawberry.type(description="One line of a decision's history: who did what, when, status before and after.")
class DecisionHistoryEntry:
    at: datetime
    actor: str
    action: str = strawberry.field(description="create, approve, reject, veto, comment, escalate or expire.")
    from_status: str | None
    to_status: str
    comment: str | None
    roles: list[str]


@strawberry.type(description="An approval counted on a decision.")
class Approval:
    actor: str
    roles: list[str]
    at: datetime
    comment: str | None


@strawberry.type(description="A governance decision: a request its RACI approves, rejects or vetoes.")
class Decision:
    id: strawberry.ID
    type: str
    title: str
    status: str = strawberry.field(description="PENDING, ESCALATED, APPROVED, REJECTED, VETOED or EXPIRED.")
    is_open: bool
    requester: str
    created_by: str
    dataset: str | None
    domain: str | None
    payload: JSON
    created_at: datetime
    updated_at: datetime
    deadline: datetime | None
    escalation_level: int
    escalated_to: list[str]
    closed_at: datetime | None
    resolution: str | None
    approvals: list[Approval]
    waiting_for: JSON = strawberry.field(description="Who still has to approve, by role.")
    loaded_history: strawberry.Private[list[DecisionHistoryEntry] | None]

    @_resolver("Every action on the decision, oldest first.")
    def history(self, info: Info) -> list[DecisionHistoryEntry]:
        if self.loaded_history is None:
            self.loaded_history = Decision.of(_wb(info).decisions.get(str(self.id)), with_history=True).loaded_history
        return list(self.loaded_history or [])

    @classmethod
    def of(cls, d: LibDecision, *, with_history: bool) -> Decision:
        return cls(
            id=strawberry.ID(d.id),
            type=d.type,
            title=d.title,
            status=d.status.value,
            is_open=d.is_open,
            requester=d.requester,
            created_by=d.created_by,
            dataset=d.dataset,
            domain=d.domain,
            payload=JSON(d.payload),
            created_at=d.created_at,
            updated_at=d.updated_at,
            deadline=d.deadline,
            escalation_level=d.escalation_level,
            escalated_to=list(d.escalated_to),
            closed_at=d.closed_at,
            resolution=d.resolution,
            approvals=[
                Approval(
                    actor=a["actor"], roles=list(a["roles"]), at=_when(a["at"]) or d.created_at, comment=a["comment"]
                )
                for a in d.approvals
            ],
            waiting_for=JSON(dict(d.waiting_for)),
            loaded_history=[
                DecisionHistoryEntry(
                    at=h.at,
                    actor=h.actor,
                    action=h.action,
                    from_status=h.from_status,
                    to_status=h.to_status,
                    comment=h.comment,
                    roles=list(h.roles),
                )
                for h in d.history
            ]
            if with_history
            else None,
        )


def _decisions(
    wb: Workbench,
    *,
    domain: str | None,
    status: str | None,
    type: str | None,
    dataset: str | None,
    limit: int | None,
    offset: int,
) -> list[Decision]:
    found = wb.decisions.list(domain=domain, status=status, type=type, dataset=_table_ref(dataset) if dataset else None)
    return [Decision.of(d, with_history=False) for d in _page(found, limit, offset)]


# -- quality -----------------------------------------------------------------------------------------------


@strawberry.type(description="One rule of a quality run and what it measured.")
class QualityRule:
    id: str
    name: str | None
    metric: str
    property: str | None = strawberry.field(description="The contract property (column) checked, if any.")
    dimension: str = strawberry.field(description="The DAMA dimension the rule scores.")
    severity: str
    value: JSON
    unit: str | None
    percent: float | None
    evaluated: Long
    failed: Long
    passed: bool
    threshold: JSON
    duration_s: float | None
    samples: JSON
    error: str | None


@strawberry.type(description="The score of one DAMA dimension and the rules it is made of.")
class QualityDimension:
    dimension: str
    score: float | None
    evaluated: Long
    failed: Long
    weight: float
    rules: list[str]


@strawberry.type(description="Pass or fail at the gate of a layer, and why.")
class QualityGate:
    status: str
    passed: bool
    layer: str
    threshold: float
    score: float | None
    reasons: list[str]
    blocking_rules: list[str]


@strawberry.type(description="One quality run over one dataset with one ODCS contract (origin design: qualityReport).")
class QualityReport:
    run_id: str
    dataset: str
    snapshot_id: str | None
    contract_id: str
    contract_version: str
    contract_path: str | None
    object: str
    engine: str
    backend: str
    rows: Long
    empty: bool
    score: float | None
    verdict: str = strawberry.field(description="pass or fail.")
    gate: QualityGate
    dimensions: list[QualityDimension]
    started_at: datetime
    duration_s: float
    actor: str
    notes: list[str]
    all_rules: strawberry.Private[list[QualityRule]]

    @_resolver("The rules with their outcome; failedOnly keeps the failed ones.")
    def rules(self, failed_only: bool = False) -> list[QualityRule]:
        return [r for r in self.all_rules if not (failed_only and r.passed)]

    @classmethod
    def of(cls, d: dict[str, Any]) -> QualityReport:
        contract = d.get("contract") or {}
        gate = d["gate"]
        return cls(
            run_id=d["run_id"],
            dataset=d["dataset"],
            snapshot_id=_snap(d.get("snapshot_id")),
            contract_id=contract.get("id", ""),
            contract_version=contract.get("version", ""),
            contract_path=contract.get("path"),
            object=contract.get("object", ""),
            engine=d["engine"],
            backend=d["backend"],
            rows=int(d["rows"]),
            empty=bool(d.get("empty", d["rows"] == 0)),
            score=d.get("score"),
            verdict=d["verdict"],
            gate=QualityGate(
                status=gate["status"],
                passed=gate["passed"],
                layer=gate["layer"],
                threshold=gate["threshold"],
                score=gate.get("score"),
                reasons=list(gate.get("reasons", [])),
                blocking_rules=list(gate.get("blocking_rules", [])),
            ),
            dimensions=[
                QualityDimension(
                    dimension=name,
                    score=s.get("score"),
                    evaluated=int(s.get("evaluated", 0)),
                    failed=int(s.get("failed", 0)),
                    weight=float(s.get("weight", 1.0)),
                    rules=list(s.get("rules", [])),
                )
                for name, s in d.get("dimensions", {}).items()
            ],
            started_at=_when(d["started_at"]) or datetime.fromtimestamp(0),
            duration_s=float(d.get("duration_s", 0.0)),
            actor=d.get("actor", ""),
            notes=list(d.get("notes", [])),
            all_rules=[
                QualityRule(
                    id=r["id"],
                    name=r.get("name"),
                    metric=r["metric"],
                    property=r.get("property"),
                    dimension=r["dimension"],
                    severity=r["severity"],
                    value=JSON(r.get("value")),
                    unit=r.get("unit"),
                    percent=r.get("percent"),
                    evaluated=int(r.get("evaluated", 0)),
                    failed=int(r.get("failed", 0)),
                    passed=bool(r["passed"]),
                    threshold=JSON(r.get("threshold")),
                    duration_s=r.get("duration_s"),
                    samples=JSON(r.get("samples")),
                    error=r.get("error"),
                )
                for r in d.get("rules", [])
            ],
        )


def _latest_run(wb: Workbench, dataset: str) -> dict[str, Any] | None:
    from odg_workbench.quality.history import history

    runs = history(wb.state, dataset, limit=1)
    return runs[0] if runs else None


def _quality_report(wb: Workbench, dataset: str, run_id: str | None) -> QualityReport:
    from odg_workbench.quality.history import report_json

    name = _table_ref(dataset)
    if run_id is None:
        run = _latest_run(wb, name) or (_latest_run(wb, dataset) if name != dataset else None)
        if run is None:
            wb.table(name)  # an unknown table raises with close names
            raise GraphQLInputError(
                f"{name} has no quality run yet: check it first (odg quality check {name} --contract FILE)",
                field="datasetId",
                found=name,
            )
        run_id = str(run["run_id"])
    report = report_json(wb.state, run_id)
    if report is None:
        raise GraphQLInputError(f"no quality run {run_id!r}", field="runId", found=run_id)
    if report["dataset"] not in (name, dataset):
        raise GraphQLInputError(
            f"quality run {run_id} checked {report['dataset']}, not {name}", field="runId", found=run_id
        )
    return QualityReport.of(report)


# -- datasets ---------------------------------------------------------------------------------------------


@strawberry.type(description="A column of a table's current schema.")
class SchemaField:
    name: str
    type: str = strawberry.field(description="The Iceberg type, e.g. long, string, timestamptz, decimal(12, 2).")
    required: bool
    field_id: int
    doc: str | None


@strawberry.type(description="One Iceberg snapshot of a table.")
class Snapshot:
    snapshot_id: str
    parent_id: str | None
    timestamp: datetime
    operation: str
    tags: list[str]
    branches: list[str]
    is_current: bool
    schema_id: int | None
    added_rows: Long
    deleted_rows: Long
    total_rows: Long
    total_data_files: int
    summary: JSON


@strawberry.type(description="A tag naming a snapshot.")
class Tag:
    name: str
    snapshot_id: str


@strawberry.type(description="A personal-data column and the entity types found in it.")
class PiiColumn:
    column: str
    entities: list[str]


@strawberry.type(description="A table's classification level and jurisdictions, as its owner set them.")
class Classification:
    table: str
    level: str = strawberry.field(description="Public, Internal, Confidential, Restricted or Top Secret.")
    level_value: int
    jurisdictions: list[str]
    frameworks: list[str]
    pii_columns: list[PiiColumn]
    source: str
    set_by: str | None
    set_at: datetime | None
    reason: str | None


@strawberry.type(description="A lakehouse table (origin design: dataset).")
class Dataset:
    id: str = strawberry.field(description='The lineage graph id, e.g. "dataset:silver.orders".')
    name: str = strawberry.field(description='The table, written layer.name (e.g. "silver.orders").')
    layer: str
    rows: Long
    current_snapshot_id: str | None
    snapshot_count: int
    data_files: int
    size_bytes: Long
    last_updated: datetime | None
    metadata_location: str
    cache: strawberry.Private[dict[str, Any]]

    @classmethod
    def of(cls, info: TableInfo) -> Dataset:
        return cls(
            id=f"dataset:{info.table}",
            name=info.table,
            layer=info.layer,
            rows=info.rows,
            current_snapshot_id=_snap(info.current_snapshot_id),
            snapshot_count=info.snapshots,
            data_files=info.data_files,
            size_bytes=info.size_bytes,
            last_updated=_when(info.last_updated),
            metadata_location=info.metadata_location,
            cache={},
        )

    def _table(self, wb: Workbench) -> LakeTable:
        if "table" not in self.cache:
            self.cache["table"] = wb.table(self.name)
        table: LakeTable = self.cache["table"]
        return table

    def _run(self, wb: Workbench) -> dict[str, Any] | None:
        if "run" not in self.cache:
            self.cache["run"] = _latest_run(wb, self.name)
        run: dict[str, Any] | None = self.cache["run"]
        return run

    @_resolver("The domain the dataset belongs to (its RACI assignment), if any.")
    def domain(self, info: Info) -> str | None:
        if "domain" not in self.cache:
            assignment = _wb(info).raci.get(f"dataset:{self.name}")
            self.cache["domain"] = assignment.domain if assignment is not None else None
        domain: str | None = self.cache["domain"]
        return domain

    @_resolver("The columns of the current schema.")
    def schema(self, info: Info) -> list[SchemaField]:
        return [
            SchemaField(name=f.name, type=str(f.field_type), required=f.required, field_id=f.field_id, doc=f.doc)
            for f in self._table(_wb(info)).iceberg.schema().fields
        ]

    def _snapshots(self, wb: Workbench) -> list[Snapshot]:
        if "snapshots" not in self.cache:
            self.cache["snapshots"] = [
                Snapshot(
                    snapshot_id=str(s.snapshot_id),
                    parent_id=_snap(s.parent_id),
                    timestamp=_when(s.timestamp) or datetime.fromtimestamp(s.timestamp_ms / 1000),
                    operation=s.operation,
                    tags=list(s.tags),
                    branches=list(s.branches),
                    is_current=s.is_current,
                    schema_id=s.schema_id,
                    added_rows=s.added_rows,
                    deleted_rows=s.deleted_rows,
                    total_rows=s.total_rows,
                    total_data_files=s.total_data_files,
                    summary=JSON(dict(s.summary)),
                )
                for s in self._table(wb).snapshots()
            ]
        snaps: list[Snapshot] = self.cache["snapshots"]
        return snaps

    @_resolver("Snapshots, oldest first; last keeps the newest ones.")
    def snapshots(self, info: Info, last: int | None = None) -> list[Snapshot]:
        if last is not None and last < 0:
            raise GraphQLInputError(f"last must be 0 or more, found {last}", field="last", found=last)
        snaps = self._snapshots(_wb(info))
        return snaps if last is None else (snaps[-last:] if last else [])

    @_resolver("The current snapshot (null for a table never written).")
    def current_snapshot(self, info: Info) -> Snapshot | None:
        current = [s for s in self._snapshots(_wb(info)) if s.is_current]
        return current[0] if current else None

    @_resolver("Tags naming snapshots of the table.")
    def tags(self, info: Info) -> list[Tag]:
        return [Tag(name=n, snapshot_id=str(s)) for n, s in self._table(_wb(info)).tags().items()]

    @_resolver("The overall score of the latest quality run (null: never checked).")
    def quality_score(self, info: Info) -> float | None:
        run = self._run(_wb(info))
        return None if run is None else run["score"]

    @_resolver("pass or fail at the layer's gate in the latest quality run (null: never checked).")
    def quality_verdict(self, info: Info) -> str | None:
        run = self._run(_wb(info))
        return None if run is None else str(run["verdict"])

    @_resolver("When the latest quality run started (null: never checked).")
    def quality_checked_at(self, info: Info) -> datetime | None:
        run = self._run(_wb(info))
        return None if run is None else _when(run["started_at"])

    @_resolver("The full latest quality report (null: never checked).")
    def quality_report(self, info: Info) -> QualityReport | None:
        run = self._run(_wb(info))
        return None if run is None else _quality_report(_wb(info), self.name, str(run["run_id"]))

    @_resolver("The classification its owner set (null: not classified yet).")
    def classification(self, info: Info) -> Classification | None:
        found = _wb(info).classifications.get(self.name)
        if found is None:
            return None
        return Classification(
            table=found.table,
            level=found.level.label,
            level_value=int(found.level),
            jurisdictions=[j.value for j in found.jurisdictions],
            frameworks=list(found.frameworks),
            pii_columns=[PiiColumn(column=c, entities=list(e)) for c, e in found.pii_columns.items()],
            source=found.source,
            set_by=found.set_by,
            set_at=found.set_at,
            reason=found.reason,
        )

    @_resolver("The dataset's lineage (default: both ways, lineage.default_depth hops).")
    def lineage(
        self, info: Info, depth: int | None = None, direction: LineageDirection = LineageDirection.BOTH
    ) -> Lineage:
        return _lineage(_wb(info), self.id, direction, depth)

    @_resolver("Governance decisions about this dataset, newest first.")
    def decisions(self, info: Info, status: str | None = None, limit: int | None = None) -> list[Decision]:
        return _decisions(_wb(info), domain=None, status=status, type=None, dataset=self.name, limit=limit, offset=0)


# -- the query root --------------------------------------------------------------------------------------------


@strawberry.type
class Query:
    """The root fields are nullable: a field that fails is null with its error, the others still answer."""

    @_resolver("A governance decision by id, with its approvals and history.")
    def decision(self, info: Info, id: strawberry.ID) -> Decision | None:
        return Decision.of(_wb(info).decisions.get(str(id)), with_history=True)

    @_resolver('Decisions, newest first; status "open" means PENDING or ESCALATED.')
    def decisions(
        self,
        info: Info,
        domain: str | None = None,
        status: str | None = None,
        type: str | None = None,
        dataset: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Decision]:
        return _decisions(
            _wb(info), domain=domain, status=status, type=type, dataset=dataset, limit=limit, offset=offset
        )

    @_resolver('A lakehouse table by id ("silver.orders", "silver/orders" or "dataset:silver.orders").')
    def dataset(self, info: Info, id: str) -> Dataset | None:
        return Dataset.of(_wb(info).table(_table_ref(id)).info())

    @_resolver("Lakehouse tables, by layer then name; filter by layer and RACI domain.")
    def datasets(
        self,
        info: Info,
        domain: str | None = None,
        layer: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Dataset]:
        wb = _wb(info)
        found = [Dataset.of(t) for t in wb.tables(layer)]
        if domain is not None:
            domains = {a.dataset: a.domain for a in wb.raci.assignments() if a.dataset}
            found = [d for d in found if domains.get(d.name) == domain]
            for d in found:
                d.cache["domain"] = domain
        return _page(found, limit, offset)

    @_resolver("The lineage graph around a vertex: upstream, downstream or both ways.")
    def lineage(
        self,
        info: Info,
        dataset_id: str,
        depth: int | None = None,
        direction: LineageDirection = LineageDirection.BOTH,
    ) -> Lineage | None:
        return _lineage(_wb(info), dataset_id, direction, depth)

    @_resolver("The latest quality report of a dataset (or the run runId).")
    def quality_report(self, info: Info, dataset_id: str, run_id: str | None = None) -> QualityReport | None:
        return _quality_report(_wb(info), dataset_id, run_id)

    @_resolver("Upstream and downstream of a dataset, grouped by kind.")
    def dataset_lineage(self, info: Info, dataset_id: str, depth: int | None = None) -> DatasetLineage | None:
        from odg_workbench.lineage.graph import LineageError, kind_of

        wb = _wb(info)
        root = wb.lineage.resolve(_vertex_ref(dataset_id))
        if kind_of(root) != "Dataset":
            raise LineageError(
                f"datasetLineage starts at a dataset, not {root} (use lineage or modelLineage)",
                field="datasetId",
                found=root,
            )
        up, down = wb.lineage.upstream(root, depth), wb.lineage.downstream(root, depth)
        return DatasetLineage(dataset=root, depth=up.depth, upstream=Lineage.of(up), downstream=Lineage.of(down))

    @_resolver("The training data of a model version (default: the newest) and reproducibility.")
    def model_lineage(
        self, info: Info, model_name: str, model_version: strawberry.ID | None = None
    ) -> ModelLineage | None:
        ml = _wb(info).lineage.model_lineage(model_name, None if model_version is None else str(model_version))
        return ModelLineage(
            model=ml.model,
            name=ml.model.removeprefix("model:"),
            version=ml.version,
            versions=list(ml.versions),
            is_reproducible=ml.is_reproducible,
            reasons=list(ml.reasons),
            training_datasets=[
                TrainingDataset(
                    id=t.dataset, name=t.table, snapshot_id=_snap(t.snapshot_id), exists=t.exists, reason=t.reason
                )
                for t in ml.training
            ],
            as_of=JSON({table: str(snap) for table, snap in ml.as_of.items()}),
            upstream=Lineage.of(ml.upstream) if ml.upstream is not None else None,
        )

    @_resolver('What a change of a dataset (or column) affects; changeType "schema", "data" or "deprecation".')
    def impact_analysis(
        self,
        info: Info,
        dataset_id: str,
        column: str | None = None,
        change_type: str = "schema",
        depth: int | None = None,
    ) -> ImpactAnalysis | None:
        report = _wb(info).lineage.impact(_vertex_ref(dataset_id), column=column, change=change_type, depth=depth)
        return ImpactAnalysis(
            dataset=report.dataset,
            column=report.column,
            change_type=report.change,
            severity=Severity(report.severity),
            rule=report.rule,
            affected_datasets=[
                AffectedDataset(
                    id=d.id,
                    name=d.id.removeprefix("dataset:"),
                    depth=d.depth,
                    layer=d.layer,
                    columns=None if d.columns is None else list(d.columns),
                    column_lineage_known=d.column_lineage_known,
                    reason=d.reason,
                )
                for d in report.datasets
            ],
            affected_pipelines=[VertexRef.of(p) for p in report.pipelines],
            affected_models=[VertexRef.of(m) for m in report.models],
            affected_features=[VertexRef.of(f) for f in report.features],
            unknown_column_lineage=list(report.unknown_column_lineage),
            depth=report.depth,
            truncated=report.truncated,
            duration_ms=round(report.duration_ms, 3),
        )

    @_resolver("Registered models (latest version of each, or every version with allVersions).")
    def models(self, info: Info, name: str | None = None, all_versions: bool = False) -> list[ModelCard]:
        return [ModelCard.of(c) for c in _wb(info).models.list(name, all_versions=all_versions)]

    @_resolver("One registered model card (default: the latest version).")
    def model(self, info: Info, name: str, version: strawberry.ID | None = None) -> ModelCard | None:
        return ModelCard.of(_wb(info).models.get(name, None if version is None else str(version)))


# -- running it ----------------------------------------------------------------------------------------------


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # library errors (unknown dataset, bad depth ...) and bad queries are the caller's to read
        # in the response; only unexpected failures are logged with their traceback
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, OdgError):
                log.debug("GraphQL error: %s", error.message)
            else:
                super().process_errors([error], execution_context)


@functools.cache
def schema() -> strawberry.Schema:
    """The workbench's GraphQL schema (built once per process)."""
    from strawberry.schema.config import StrawberryConfig

    long = strawberry.scalar(
        name="Long",
        serialize=int,
        parse_value=int,
        description="A 64-bit integer (row counts, sizes in bytes), written as a JSON number.",
    )
    return _Schema(query=Query, config=StrawberryConfig(scalar_map={Long: long}))


def sdl() -> str:
    """The schema in GraphQL SDL."""
    return schema().as_str()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _format_error(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, OdgError):
        details = {k: v for k, v in original.to_dict().items() if k != "message"}
        out["extensions"] = {**(out.get("extensions") or {}), **_jsonable(details)}
    return out


def _result(data: Any, errors: list[GraphQLError] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"data": data}
    if errors:
        out["errors"] = [_format_error(e) for e in errors]
    return out


def execute(
    wb: Workbench,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    operation_name: str | None = None,
) -> dict[str, Any]:
    """Run a GraphQL query against ``wb`` in-process; ``{"data": ..., "errors": [...]}`` (errors only when any).

    Errors do not raise: they come back as GraphQL errors, each with ``message``, ``path``,
    ``locations`` and, for a library error, ``extensions`` (its ``type`` and fields such
    as ``suggestions``), next to the data the other fields resolved.
    """
    result = schema().execute_sync(
        query, variable_values=variables, context_value={"wb": wb}, operation_name=operation_name
    )
    return _result(result.data, result.errors)


def coerce_variables(query: str, raw: dict[str, str]) -> dict[str, Any]:
    """Command-line ``name=value`` text as the types the query declares for its variables.

    ``String`` and ``ID`` variables keep the text; others (``Int``, ``Float``, ``Boolean``,
    enums, lists, ``JSON``) are read as JSON when the text is JSON (an enum value such as
    ``UPSTREAM`` stays text). A name the query does not declare is an error.
    """
    from graphql import GraphQLSyntaxError, ListTypeNode, NonNullTypeNode, OperationDefinitionNode, parse

    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise GraphQLInputError(f"the query is not valid GraphQL: {exc.message}", field="query") from exc
    declared: dict[str, str] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for var in definition.variable_definitions or ():
                node: Any = var.type
                if isinstance(node, NonNullTypeNode):
                    node = node.type
                declared[var.variable.name.value] = "[list]" if isinstance(node, ListTypeNode) else node.name.value
    out: dict[str, Any] = {}
    for name, text in raw.items():
        if name not in declared:
            known = ", ".join(f"${n}" for n in declared) or "none"
            raise GraphQLInputError(
                f"the query declares no variable ${name} (it declares: {known})",
                field="var",
                found=name,
                expected=list(declared),
            )
        if declared[name] in ("String", "ID"):
            out[name] = text
            continue
        try:
            out[name] = json.loads(text)
        except ValueError:
            out[name] = text
    return out


def asgi_app(
    workspace: Workbench | str | os.PathLike[str] | None = None, *, graphql_ide: str | None = "graphiql"
) -> GraphQL[dict[str, Any], None]:
    """The schema as a strawberry ASGI app over one workspace (a Workbench or its folder).

    Mount it in a web surface (Starlette ``Mount("/api/v1/graphql", app)``) or serve it with
    uvicorn. Responses carry the same error ``extensions`` as :func:`execute`.
    """
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send
    from starlette.websockets import WebSocket
    from strawberry.asgi import GraphQL as _GraphQL
    from strawberry.http import GraphQLHTTPResponse
    from strawberry.types import ExecutionResult

    from odg_workbench.workspace import Workbench

    owned = not isinstance(workspace, Workbench)
    wb = workspace if isinstance(workspace, Workbench) else Workbench.open(workspace, create=False)

    class WorkbenchGraphQL(_GraphQL[dict[str, Any], None]):
        workbench: Workbench

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "lifespan":  # served alone (uvicorn), the app answers the lifespan protocol
                await super().__call__(scope, receive, send)
                return
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if owned:
                        self.workbench.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

        async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> dict[str, Any]:
            return {"request": request, "response": response, "wb": self.workbench}

        async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
            return cast("GraphQLHTTPResponse", _result(result.data, result.errors))

    app = WorkbenchGraphQL(schema(), graphql_ide=graphql_ide)  # type: ignore[arg-type]
    app.workbench = wb
    return app
