"""The lineage graph: vertices, edges, runs and column lineage in the state database.

Data model (SQLAlchemy tables, SQLite by default, PostgreSQL when ``state.url`` says so)::

    lineage_vertices      vid, id ("dataset:silver.orders"), kind, name, props (JSON)
    lineage_graph_edges   eid, src, dst, kind, up, down, src_snapshot, dst_snapshot, run_id, props
    lineage_runs          run_id, pipeline, version, type, status, times, git commit, sql, error,
                          column-lineage status and reason
    lineage_run_io        run_id, dataset, role (input | output), snapshot
    lineage_column_edges  run_id, input dataset + column -> output dataset + column
    lineage_meta          version counter (bumped by every change: readers' caches check it)

Vertex kinds: ``Dataset``, ``Pipeline``, ``Model``, ``Feature``. Edge kinds, with the
direction data flows (``up`` -> ``down``, stored next to ``src``/``dst`` so traversals
never look at the kind):

=============  ====================  =================
kind           src -> dst            data flows
=============  ====================  =================
DERIVED_FROM   Dataset -> Dataset    dst -> src
GENERATED_BY   Dataset -> Pipeline   dst -> src
TRAINED_ON     Model -> Dataset      dst -> src
CONSUMES       Pipeline -> Dataset   dst -> src
PRODUCES       Pipeline -> Feature   src -> dst
=============  ====================  =================

Edges are append-only facts (one per run, with the snapshots it read and wrote); the
graph a query walks has one arc per (up, down) pair, carrying the newest edge. The data
flow graph must stay acyclic: an edge that would close a cycle is refused with
:class:`LineageCycleError` naming the path.

Queries walk an in-memory adjacency (vertex ids and arcs only, about 60 bytes an arc)
loaded once per process and brought up to date from the ``lineage_meta`` version counter:
a change made elsewhere (another process, the CLI) adds only the new rows. The
benchmark (``benchmarks/lineage.py``, docs/benchmarks.md) measured this against recursive
CTEs in SQL on 100k datasets and 300k edges; ``lineage.query_engine = "sql"`` selects the
CTEs (no memory held; slower). Why by hand: no embedded graph store speaks SQLAlchemy, and
networkx (the peer in the benchmark) is an in-memory library that must be rebuilt from the
tables and is slower for these walks.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import threading
import time
import uuid
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odg_workbench.lineage.impact import ImpactReport, ModelLineage
    from odg_workbench.workspace import Workbench

__all__ = [
    "EDGE_KINDS",
    "VERTEX_KINDS",
    "ColumnLineage",
    "LineageCycleError",
    "LineageEdge",
    "LineageError",
    "LineageGraph",
    "LineageNode",
    "LineageNotFoundError",
    "LineageResult",
    "RunDataset",
    "RunListener",
    "RunRecord",
    "dataset_id",
    "feature_id",
    "model_id",
    "pipeline_id",
]

log = logging.getLogger("odg_workbench.lineage")

VERTEX_KINDS: tuple[str, ...] = ("Dataset", "Pipeline", "Model", "Feature")
_PREFIX = {"Dataset": "dataset:", "Pipeline": "pipeline:", "Model": "model:", "Feature": "feature:"}
_KIND_OF_PREFIX = {v: k for k, v in _PREFIX.items()}


@dataclass(frozen=True)
class _EdgeSpec:
    src: str
    dst: str
    flows_to_src: bool  # data flows dst -> src (the edge points upstream)


EDGE_KINDS: dict[str, _EdgeSpec] = {
    "DERIVED_FROM": _EdgeSpec("Dataset", "Dataset", True),
    "GENERATED_BY": _EdgeSpec("Dataset", "Pipeline", True),
    "TRAINED_ON": _EdgeSpec("Model", "Dataset", True),
    "CONSUMES": _EdgeSpec("Pipeline", "Dataset", True),
    "PRODUCES": _EdgeSpec("Pipeline", "Feature", False),
}

RUN_STATES = ("START", "RUNNING", "COMPLETE", "FAIL", "ABORT")
_FINAL = {"COMPLETE", "FAIL", "ABORT"}

#: ``{output dataset: {output column: [(input dataset, input column), ...]}}``
ColumnLineage = Mapping[str, Mapping[str, Sequence[tuple[str, str]]]]
RunListener = Callable[[str, "RunRecord"], None]


# -- errors ------------------------------------------------------------------------------


class LineageError(OdgError, ValueError):
    """A lineage operation asked for something the graph cannot do (bad kind, bad depth ...)."""


class LineageCycleError(LineageError):
    """An edge would close a cycle in the data flow; ``path`` names the vertices of the cycle."""

    def __init__(self, message: str, *, path: list[str], **details: Any) -> None:
        super().__init__(message, path=path, **details)
        self.path = path


class LineageNotFoundError(OdgError, LookupError):
    """No vertex of that id in the graph; ``suggestions`` holds close ids."""


# -- ids -----------------------------------------------------------------------------------


def _ident(prefix: str, name: str) -> str:
    text = str(name).strip()
    if not text:
        raise LineageError(f"an empty name cannot be a {prefix.rstrip(':')} id", field="id", found=name)
    if text.startswith(prefix):
        return text
    return prefix + text


def dataset_id(name: str) -> str:
    """``"silver.orders"`` -> ``"dataset:silver.orders"`` (lakehouse names lowercased); others kept."""
    text = str(name).strip()
    if text.startswith("dataset:"):
        text = text.removeprefix("dataset:")
    head, dot, tail = text.partition(".")
    if dot and head.lower() in {"bronze", "silver", "gold", "platinum"} and "/" not in text:
        text = f"{head.lower()}.{tail.lower()}"
    return _ident("dataset:", text)


def pipeline_id(name: str) -> str:
    """``"daily_revenue"`` -> ``"pipeline:daily_revenue"``."""
    return _ident("pipeline:", name)


def model_id(name: str) -> str:
    """``"churn"`` -> ``"model:churn"``."""
    return _ident("model:", name)


def feature_id(view: str) -> str:
    """``"customer_features"`` -> ``"feature:customer_features"``."""
    return _ident("feature:", view)


_ID_OF_KIND: dict[str, Callable[[str], str]] = {
    "Dataset": dataset_id,
    "Pipeline": pipeline_id,
    "Model": model_id,
    "Feature": feature_id,
}


def kind_of(vertex: str) -> str | None:
    """The vertex kind an id's prefix names, or None."""
    prefix = vertex.split(":", 1)[0] + ":" if ":" in vertex else ""
    return _KIND_OF_PREFIX.get(prefix)


def _normalize(ref: str, kind: str) -> str:
    """An id for ``ref`` given the vertex kind expected there (a prefixed id must agree)."""
    text = str(ref).strip()
    found = kind_of(text)
    if found is not None and found != kind:
        raise LineageError(f"{text} is a {found}, expected a {kind} here", field="id", expected=kind, found=found)
    return _ID_OF_KIND[kind](text)


def _layer(vertex: str) -> str | None:
    if not vertex.startswith("dataset:"):
        return None
    head, dot, _ = vertex.removeprefix("dataset:").partition(".")
    return head if dot and head in {"bronze", "silver", "gold", "platinum"} else "external"


def _snapshot_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _snapshot_value(text: str | None) -> int | str | None:
    """Snapshots are stored as text (Iceberg ids, model or external versions); numbers come back as int."""
    if text is None:
        return None
    stripped = text.lstrip("-")
    return int(text) if stripped.isdigit() else text


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    m = _utc(moment)
    return None if m is None else m.isoformat().replace("+00:00", "Z")


def _dumps(props: Mapping[str, Any] | None) -> str | None:
    if not props:
        return None
    return json.dumps(dict(props), sort_keys=True, default=str)


def _loads(text: str | None) -> dict[str, Any]:
    return dict(json.loads(text)) if text else {}


# -- tables ----------------------------------------------------------------------------------


@functools.cache
def _tables() -> dict[str, sa.Table]:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    vertices = sa.Table(
        "lineage_vertices",
        md,
        sa.Column("vid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(1000), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("name", sa.String(1000), nullable=False),
        sa.Column("props", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    edges = sa.Table(
        "lineage_graph_edges",
        md,
        sa.Column("eid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("src", sa.Integer, nullable=False),
        sa.Column("dst", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("up", sa.Integer, nullable=False),
        sa.Column("down", sa.Integer, nullable=False),
        sa.Column("src_snapshot", sa.String(128)),
        sa.Column("dst_snapshot", sa.String(128)),
        sa.Column("run_id", sa.String(64), index=True),
        sa.Column("props", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # covering indexes for the recursive CTEs (walk up: by down; walk down: by up)
        sa.Index("ix_lineage_graph_edges_down_up", "down", "up"),
        sa.Index("ix_lineage_graph_edges_up_down", "up", "down"),
        sa.Index("ix_lineage_graph_edges_src_kind", "src", "kind"),
    )
    runs = sa.Table(
        "lineage_runs",
        md,
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(1000), nullable=False, index=True),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("sql", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("column_lineage_status", sa.String(16), nullable=False),
        sa.Column("column_lineage_reason", sa.Text),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("props", sa.Text),
    )
    run_io = sa.Table(
        "lineage_run_io",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, index=True),
        sa.Column("dataset", sa.String(1000), nullable=False, index=True),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("snapshot", sa.String(128)),
    )
    columns = sa.Table(
        "lineage_column_edges",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, index=True),
        sa.Column("src", sa.String(1000), nullable=False),
        sa.Column("src_column", sa.String(1000), nullable=False),
        sa.Column("dst", sa.String(1000), nullable=False),
        sa.Column("dst_column", sa.String(1000), nullable=False),
        sa.Index("ix_lineage_column_edges_src", "src", "src_column"),
        sa.Index("ix_lineage_column_edges_dst", "dst", "dst_column"),
    )
    meta = sa.Table(
        "lineage_meta",
        md,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    return {"vertices": vertices, "edges": edges, "runs": runs, "run_io": run_io, "columns": columns, "meta": meta}


# -- results ---------------------------------------------------------------------------------


@dataclass
class LineageNode:
    """A vertex of a query result, at ``depth`` hops from the start."""

    id: str
    kind: str
    name: str
    depth: int
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def layer(self) -> str | None:
        return _layer(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "layer": self.layer}


@dataclass
class LineageEdge:
    """An edge as stored: ``src -[kind]-> dst`` with the snapshots and run that made it."""

    src: str
    dst: str
    kind: str
    src_snapshot: int | str | None = None
    dst_snapshot: int | str | None = None
    run_id: str | None = None
    props: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LineageResult:
    """What an upstream or downstream walk found: the start, the nodes with their depth, the edges."""

    root: str
    direction: str
    depth: int
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = False  # more vertices lie beyond ``depth``
    duration_ms: float = 0.0

    def ids(self, kind: str | None = None) -> list[str]:
        """Ids of the nodes found (not the root), optionally of one kind."""
        return [n.id for n in self.nodes if n.id != self.root and (kind is None or n.kind == kind)]

    def node(self, vertex: str) -> LineageNode:
        for n in self.nodes:
            if n.id == vertex:
                return n
        raise KeyError(vertex)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "direction": self.direction,
            "depth": self.depth,
            "truncated": self.truncated,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(frozen=True)
class RunDataset:
    """A dataset a run read or wrote, at a snapshot (None when the source has none, e.g. a file)."""

    dataset: str
    snapshot: int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "snapshot": self.snapshot}


@dataclass
class RunRecord:
    """One run of a pipeline (ingestion, promotion, SQL, polars, external) as the graph records it.

    ``column_lineage`` is ``{output dataset id: {column: [[input dataset id, column], ...]}}``
    and is present only when it is complete (``column_lineage_status == "complete"``);
    ``"unavailable"`` carries the reason in ``column_lineage_reason``.
    """

    run_id: str
    pipeline: str
    version: str
    type: str
    status: str
    started_at: str
    ended_at: str | None
    duration_s: float | None
    inputs: list[RunDataset]
    outputs: list[RunDataset]
    actor: str
    git_commit: str | None = None
    git_dirty: bool | None = None
    sql: str | None = None
    error: str | None = None
    column_lineage: dict[str, dict[str, list[list[str]]]] | None = None
    column_lineage_status: str = "none"
    column_lineage_reason: str | None = None
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The pipeline's name (its id without ``pipeline:``)."""
        return self.pipeline.removeprefix("pipeline:")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["inputs"] = [d.to_dict() for d in self.inputs]
        out["outputs"] = [d.to_dict() for d in self.outputs]
        return out


# -- the in-memory adjacency ---------------------------------------------------------------


class _Adjacency:
    """Arcs of the data flow, one per (up, down) pair, with the newest edge id of the pair.

    Neighbour lists are ``array('q')`` of interleaved (vertex, edge) pairs: about 16 bytes an
    arc in each direction, against about 120 for lists of tuples.
    """

    def __init__(self) -> None:
        self.version = -1
        self.max_vid = 0
        self.max_eid = 0
        self.ids: dict[int, str] = {}
        self.kinds: dict[int, str] = {}
        self.vid: dict[str, int] = {}
        self.down: dict[int, array[int]] = {}
        self.up: dict[int, array[int]] = {}

    def add_vertex(self, vid: int, vertex: str, kind: str) -> None:
        self.ids[vid] = vertex
        self.kinds[vid] = kind
        self.vid[vertex] = vid
        self.max_vid = max(self.max_vid, vid)

    def add_arc(self, up: int, down: int, eid: int) -> None:
        for table, a, b in ((self.down, up, down), (self.up, down, up)):
            arcs = table.get(a)
            if arcs is None:
                table[a] = array("q", (b, eid))
                continue
            for i in range(0, len(arcs), 2):
                if arcs[i] == b:
                    arcs[i + 1] = max(arcs[i + 1], eid)
                    break
            else:
                arcs.append(b)
                arcs.append(eid)
        self.max_eid = max(self.max_eid, eid)

    def walk(self, start: int, direction: str, depth: int) -> tuple[dict[int, int], list[int], bool]:
        """Breadth-first walk: ``{vid: depth}``, the edge ids used, and whether anything lies beyond."""
        table = self.up if direction == "upstream" else self.down
        seen = {start: 0}
        frontier = [start]
        eids: list[int] = []
        for level in range(1, depth + 1):
            nxt: list[int] = []
            for v in frontier:
                arcs = table.get(v)
                if arcs is None:
                    continue
                for i in range(0, len(arcs), 2):
                    w = arcs[i]
                    eids.append(arcs[i + 1])
                    if w not in seen:
                        seen[w] = level
                        nxt.append(w)
            if not nxt:
                return seen, eids, False
            frontier = nxt
        truncated = any(table.get(v) for v in frontier)
        return seen, eids, truncated

    def path(self, start: int, goal: int, extra: Mapping[int, list[int]] | None = None) -> list[int] | None:
        """A downstream path ``start -> ... -> goal`` (arcs plus ``extra``), or None."""
        if start == goal:
            return [start]
        parent: dict[int, int] = {start: start}
        frontier = [start]
        while frontier:
            nxt: list[int] = []
            for v in frontier:
                arcs = self.down.get(v)
                neighbours = list(arcs[0::2]) if arcs is not None else []
                if extra and v in extra:
                    neighbours += extra[v]
                for w in neighbours:
                    if w in parent:
                        continue
                    parent[w] = v
                    if w == goal:
                        out = [w]
                        while out[-1] != start:
                            out.append(parent[out[-1]])
                        return out[::-1]
                    nxt.append(w)
            frontier = nxt
        return None


# -- the graph -------------------------------------------------------------------------------


class LineageGraph:
    """The lineage graph of a workspace. Reach it as ``Workbench.lineage``.

    Every automatic capture (ingestion, promotion, :class:`~odg_workbench.lineage.versioned.VersionedQuery`,
    :class:`~odg_workbench.lineage.versioned.VersionedPipeline`) goes through :meth:`record_run`;
    ``listeners`` (callables ``listener(event, run)``, event ``START``/``COMPLETE``/``FAIL``/``ABORT``)
    are called for each run, which is how the OpenLineage emitter plugs in.
    """

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench
        self.listeners: list[RunListener] = []
        self._adj: _Adjacency | None = None
        self._lock = threading.RLock()

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def engine(self) -> str:
        """``memory`` (adjacency cached in memory) or ``sql`` (recursive CTEs), from ``lineage.query_engine``."""
        return str(self._wb.config.get("lineage.query_engine"))

    def _t(self) -> dict[str, sa.Table]:
        tables = _tables()
        self._wb.state.ensure(*tables.values())
        return tables

    def _bump(self, conn: sa.Connection) -> None:
        import sqlalchemy as sa

        meta = _tables()["meta"]
        updated = conn.execute(sa.update(meta).where(meta.c.key == "version").values(value=meta.c.value + 1))
        if updated.rowcount == 0:
            conn.execute(sa.insert(meta).values(key="version", value=1))

    def _version(self, conn: sa.Connection) -> int:
        import sqlalchemy as sa

        meta = _tables()["meta"]
        value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "version")).scalar()
        return int(value or 0)

    def _sync(self, conn: sa.Connection) -> _Adjacency:
        """The adjacency, brought up to date with the database (only new rows are read)."""

        with self._lock:
            version = self._version(conn)
            adj = self._adj
            if adj is not None and adj.version == version:
                return adj
            if adj is None:
                adj = _Adjacency()
            # the DB-API cursor: SQLAlchemy rows cost 4x more on a 300k-edge first load
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(
                    f"SELECT vid, id, kind FROM lineage_vertices WHERE vid > {int(adj.max_vid)} ORDER BY vid"
                )
                for vid, vertex, kind in cursor.fetchall():
                    adj.add_vertex(vid, vertex, kind)
                cursor.execute(
                    f"SELECT eid, up, down FROM lineage_graph_edges WHERE eid > {int(adj.max_eid)} ORDER BY eid"
                )
                add_arc = adj.add_arc
                for eid, up, down in cursor.fetchall():
                    add_arc(up, down, eid)
            finally:
                cursor.close()
            adj.version = version
            self._adj = adj
            return adj

    def invalidate(self) -> None:
        """Drop the in-memory adjacency (the next query reloads it)."""
        with self._lock:
            self._adj = None

    # -- writing ----------------------------------------------------------------------------

    def add_vertex(self, kind: str, id: str, **props: Any) -> LineageNode:
        """Add a vertex (or merge ``props`` into an existing one); returns it.

        ``kind`` is one of ``Dataset``, ``Pipeline``, ``Model``, ``Feature``; ``id`` may be
        given with or without its prefix (``"silver.orders"`` or ``"dataset:silver.orders"``).
        """
        kind = self._vertex_kind(kind)
        vertex = _normalize(id, kind)
        t = self._t()
        with self._wb.state.begin() as conn:
            self._upsert(conn, t, vertex, kind, props)
            self._bump(conn)
        return LineageNode(vertex, kind, vertex.split(":", 1)[1], 0, self._props(vertex))

    def add_edge(
        self,
        src: str,
        dst: str,
        kind: str,
        *,
        src_snapshot: int | str | None = None,
        dst_snapshot: int | str | None = None,
        run_id: str | None = None,
        columns: Mapping[str, Sequence[str]] | None = None,
        **props: Any,
    ) -> LineageEdge:
        """Add an edge ``src -[kind]-> dst``; missing vertices are created from the ids.

        ``columns`` gives column-level lineage of a ``DERIVED_FROM`` edge:
        ``{src column: [dst columns it derives from]}``. An edge that would close a cycle
        in the data flow raises :class:`LineageCycleError` and nothing is written.
        """
        spec = self._edge_spec(kind)
        kind = kind.upper()
        s, d = _normalize(src, spec.src), _normalize(dst, spec.dst)
        if columns and kind != "DERIVED_FROM":
            raise LineageError(
                f"column lineage belongs on DERIVED_FROM edges (dataset to dataset), not {kind}",
                field="columns",
                expected="DERIVED_FROM",
                found=kind,
            )
        t = self._t()
        now = datetime.now(UTC)
        with self._wb.state.begin() as conn:
            adj = self._sync(conn)
            svid = self._upsert(conn, t, s, spec.src, {})
            dvid = self._upsert(conn, t, d, spec.dst, {})
            up, down = (dvid, svid) if spec.flows_to_src else (svid, dvid)
            self._check_acyclic(adj, [(up, down)], {svid: s, dvid: d})
            conn.execute(
                t["edges"]
                .insert()
                .values(
                    src=svid,
                    dst=dvid,
                    kind=kind,
                    up=up,
                    down=down,
                    src_snapshot=_snapshot_text(src_snapshot),
                    dst_snapshot=_snapshot_text(dst_snapshot),
                    run_id=run_id,
                    props=_dumps(props),
                    created_at=now,
                )
            )
            if columns:
                conn.execute(
                    t["columns"].insert(),
                    [
                        {"run_id": run_id or "", "src": d, "src_column": c_in, "dst": s, "dst_column": c_out}
                        for c_out, ins in columns.items()
                        for c_in in ins
                    ],
                )
            self._bump(conn)
        return LineageEdge(
            s,
            d,
            kind,
            _snapshot_value(_snapshot_text(src_snapshot)),
            _snapshot_value(_snapshot_text(dst_snapshot)),
            run_id,
            dict(props),
            _iso(now),
        )

    def record_run(
        self,
        pipeline: str,
        *,
        inputs: Iterable[tuple[str, int | str | None] | str] = (),
        outputs: Iterable[tuple[str, int | str | None] | str] = (),
        status: str = "COMPLETE",
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        run_id: str | None = None,
        version: str | None = None,
        type: str = "python",
        column_lineage: ColumnLineage | Mapping[str, Sequence[tuple[str, str]]] | None = None,
        column_lineage_reason: str | None = None,
        sql: str | None = None,
        error: str | None = None,
        git_commit: str | None = None,
        git_dirty: bool | None = None,
        **props: Any,
    ) -> RunRecord:
        """Record a run of ``pipeline``: its inputs and outputs at snapshot level, and its edges.

        Call it once when the run has ended (``status`` ``COMPLETE``/``FAIL``/``ABORT``; the
        listeners get ``START`` then the final event), or twice: with ``status="START"`` when
        it begins, then with the same ``run_id`` and the final status. A complete run adds
        ``pipeline CONSUMES input``, ``output GENERATED_BY pipeline`` and ``output DERIVED_FROM
        input`` edges with the snapshots; a failed run is kept with its inputs but adds no edge.

        ``column_lineage`` maps output columns to the input columns they derive from:
        ``{output: {column: [(input, column), ...]}}``, or ``{column: [...]}`` when the run has
        one output. Give it only when it is complete; when it could not be derived, give
        ``column_lineage_reason`` instead (stored with the run and logged).
        """
        status = status.upper()
        if status not in RUN_STATES:
            raise LineageError(
                f"run status {status!r} is not one of {', '.join(RUN_STATES)}",
                field="status",
                expected=list(RUN_STATES),
                found=status,
            )
        pid = _normalize(pipeline, "Pipeline")
        ins = [self._run_dataset(x) for x in inputs]
        outs = [self._run_dataset(x) for x in outputs]
        run_id = run_id or uuid.uuid4().hex
        final = status in _FINAL
        start = _utc(started_at) or datetime.now(UTC)
        end = (_utc(ended_at) or datetime.now(UTC)) if final else None
        columns, col_status, reason = self._column_lineage(column_lineage, column_lineage_reason, ins, outs)
        if reason and col_status == "unavailable":
            log.warning("run %s of %s: column lineage left out: %s", run_id, pid, reason)
        t = self._t()
        import sqlalchemy as sa

        runs = t["runs"]
        with self._wb.state.begin() as conn:
            existing = conn.execute(sa.select(runs.c.status).where(runs.c.run_id == run_id)).scalar()
            if existing is not None and existing in _FINAL:
                raise LineageError(
                    f"run {run_id} already ended ({existing}); a run is recorded once",
                    field="run_id",
                    found=run_id,
                )
            adj = self._sync(conn)
            pvid = self._upsert(conn, t, pid, "Pipeline", {"type": type, **({"version": version} if version else {})})
            dvids = {x.dataset: self._upsert(conn, t, x.dataset, "Dataset", {}) for x in [*ins, *outs]}
            edges: list[dict[str, Any]] = []
            if status == "COMPLETE":
                names = {pvid: pid, **{v: k for k, v in dvids.items()}}
                arcs = [(dvids[i.dataset], pvid) for i in ins] + [(pvid, dvids[o.dataset]) for o in outs]
                arcs += [(dvids[i.dataset], dvids[o.dataset]) for o in outs for i in ins]
                self._check_acyclic(adj, arcs, names)
                now = datetime.now(UTC)
                for i in ins:
                    edges.append(self._edge_row(pvid, dvids[i.dataset], "CONSUMES", None, i.snapshot, run_id, now))
                for o in outs:
                    edges.append(self._edge_row(dvids[o.dataset], pvid, "GENERATED_BY", o.snapshot, None, run_id, now))
                    for i in ins:
                        edges.append(
                            self._edge_row(
                                dvids[o.dataset], dvids[i.dataset], "DERIVED_FROM", o.snapshot, i.snapshot, run_id, now
                            )
                        )
            values = {
                "pipeline": pid,
                "version": version or "",
                "type": type,
                "status": status,
                "started_at": start,
                "ended_at": end,
                "duration_s": round((end - start).total_seconds(), 6) if end else None,
                "git_commit": git_commit,
                "git_dirty": git_dirty,
                "sql": sql,
                "error": error,
                "column_lineage_status": col_status,
                "column_lineage_reason": reason,
                "actor": self._wb.user,
                "props": _dumps(props),
            }
            if existing is None:
                conn.execute(runs.insert().values(run_id=run_id, **values))
            else:
                conn.execute(runs.update().where(runs.c.run_id == run_id).values(**{**values, "started_at": start}))
                conn.execute(t["run_io"].delete().where(t["run_io"].c.run_id == run_id))
            io = [
                {"run_id": run_id, "dataset": x.dataset, "role": role, "snapshot": _snapshot_text(x.snapshot)}
                for role, group in (("input", ins), ("output", outs))
                for x in group
            ]
            if io:
                conn.execute(t["run_io"].insert(), io)
            if edges:
                conn.execute(t["edges"].insert(), edges)
            if columns and status == "COMPLETE":
                conn.execute(
                    t["columns"].insert(),
                    [
                        {"run_id": run_id, "src": src, "src_column": sc, "dst": out, "dst_column": col}
                        for out, cols in columns.items()
                        for col, sources in cols.items()
                        for src, sc in (sources or [("", "")])  # ("", ""): derives from no input column
                    ],
                )
            self._bump(conn)
        record = RunRecord(
            run_id=run_id,
            pipeline=pid,
            version=version or "",
            type=type,
            status=status,
            started_at=_iso(start) or "",
            ended_at=_iso(end),
            duration_s=round((end - start).total_seconds(), 6) if end else None,
            inputs=ins,
            outputs=outs,
            actor=self._wb.user,
            git_commit=git_commit,
            git_dirty=git_dirty,
            sql=sql,
            error=error,
            column_lineage={o: {c: [list(p) for p in s] for c, s in cols.items()} for o, cols in columns.items()}
            if columns
            else None,
            column_lineage_status=col_status,
            column_lineage_reason=reason,
            props=dict(props),
        )
        events = []
        if existing is None:
            events.append("START")
        if final:
            events.append(status)
        for event in events:
            self._notify(event, record)
        return record

    def check_run(
        self,
        pipeline: str,
        *,
        inputs: Iterable[tuple[str, int | str | None] | str] = (),
        outputs: Iterable[tuple[str, int | str | None] | str] = (),
    ) -> None:
        """Raise :class:`LineageCycleError` if a complete run with these inputs and outputs would close a cycle.

        Nothing is written: capture code calls it before it writes data, so a refused run
        leaves no table changed.
        """
        pid = _normalize(pipeline, "Pipeline")
        ins = [self._run_dataset(x).dataset for x in inputs]
        outs = [self._run_dataset(x).dataset for x in outputs]
        self._t()
        with self._wb.state.begin() as conn:
            adj = self._sync(conn)
        fresh = -1
        vids: dict[str, int] = {}
        for vertex in [pid, *ins, *outs]:
            if vertex not in vids:
                known = adj.vid.get(vertex)
                if known is None:
                    known, fresh = fresh, fresh - 1
                vids[vertex] = known
        arcs = [(vids[i], vids[pid]) for i in ins] + [(vids[pid], vids[o]) for o in outs]
        arcs += [(vids[i], vids[o]) for o in outs for i in ins]
        self._check_acyclic(adj, arcs, {v: k for k, v in vids.items()})

    def _notify(self, event: str, record: RunRecord) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, record)
            except Exception as exc:  # the run is recorded; a listener (e.g. an HTTP endpoint) must not undo it
                log.warning(
                    "lineage listener %s failed on %s of run %s: %s",
                    getattr(listener, "__qualname__", repr(listener)),
                    event,
                    record.run_id,
                    exc,
                )

    # -- reading ------------------------------------------------------------------------------

    def upstream(self, id: str, depth: int | None = None) -> LineageResult:
        """Vertices the data of ``id`` comes from, to ``depth`` hops (default ``lineage.default_depth``)."""
        return self._walk(id, "upstream", depth)

    def downstream(self, id: str, depth: int | None = None) -> LineageResult:
        """Vertices fed by ``id``, to ``depth`` hops (default ``lineage.default_depth``)."""
        return self._walk(id, "downstream", depth)

    def vertex(self, id: str) -> LineageNode:
        """One vertex; unknown ids raise :class:`LineageNotFoundError` with close ids."""
        vertex = self.resolve(id)
        t = self._t()
        import sqlalchemy as sa

        v = t["vertices"]
        with self._wb.state.begin() as conn:
            row = conn.execute(sa.select(v.c.id, v.c.kind, v.c.name, v.c.props).where(v.c.id == vertex)).one()
        return LineageNode(row.id, row.kind, row.name, 0, _loads(row.props))

    def vertices(self, kind: str | None = None) -> list[LineageNode]:
        """Every vertex (of one kind), by id."""
        t = self._t()
        import sqlalchemy as sa

        v = t["vertices"]
        query = sa.select(v.c.id, v.c.kind, v.c.name, v.c.props).order_by(v.c.id)
        if kind is not None:
            query = query.where(v.c.kind == self._vertex_kind(kind))
        with self._wb.state.begin() as conn:
            return [LineageNode(r.id, r.kind, r.name, 0, _loads(r.props)) for r in conn.execute(query)]

    def edges(self, vertex: str | None = None, kind: str | None = None) -> list[LineageEdge]:
        """Stored edges (touching ``vertex``, of ``kind``), oldest first."""
        import sqlalchemy as sa

        t = self._t()
        e, v = t["edges"], t["vertices"]
        query = sa.select(e.c.eid)
        if kind is not None:
            query = query.where(e.c.kind == self._edge_kind(kind))
        found = self.resolve(vertex) if vertex is not None else None
        with self._wb.state.begin() as conn:
            if found is not None:
                vid = conn.execute(sa.select(v.c.vid).where(v.c.id == found)).scalar()
                query = query.where(sa.or_(e.c.src == vid, e.c.dst == vid))
            eids = [int(r[0]) for r in conn.execute(query.order_by(e.c.eid))]
            return self._edges_by_id(conn, eids)

    def runs(
        self, pipeline: str | None = None, *, dataset: str | None = None, type: str | None = None, limit: int = 100
    ) -> list[RunRecord]:
        """Recorded runs, newest first: of a pipeline, touching a dataset, of a type."""
        import sqlalchemy as sa

        t = self._t()
        r, io = t["runs"], t["run_io"]
        query = sa.select(r).order_by(r.c.started_at.desc(), r.c.run_id).limit(limit)
        if pipeline is not None:
            query = query.where(r.c.pipeline == pipeline_id(pipeline))
        if type is not None:
            query = query.where(r.c.type == type)
        if dataset is not None:
            query = query.where(r.c.run_id.in_(sa.select(io.c.run_id).where(io.c.dataset == dataset_id(dataset))))
        with self._wb.state.begin() as conn:
            rows = list(conn.execute(query).mappings())
            return self._runs_from_rows(conn, rows)

    def run(self, run_id: str) -> RunRecord:
        """One run by id."""
        import sqlalchemy as sa

        t = self._t()
        r = t["runs"]
        with self._wb.state.begin() as conn:
            rows = list(conn.execute(sa.select(r).where(r.c.run_id == run_id)).mappings())
            if not rows:
                raise LineageNotFoundError(f"no lineage run {run_id}", run_id=run_id)
            return self._runs_from_rows(conn, rows)[0]

    def column_edges(
        self, dataset: str, column: str | None = None, *, direction: str = "downstream"
    ) -> list[dict[str, Any]]:
        """Column-level edges from (``downstream``) or into (``upstream``) a dataset's column."""
        import sqlalchemy as sa

        t = self._t()
        c, r = t["columns"], t["runs"]
        ds = self.resolve(dataset)
        side, col = (c.c.src, c.c.src_column) if direction == "downstream" else (c.c.dst, c.c.dst_column)
        query = (
            sa.select(c.c.run_id, c.c.src, c.c.src_column, c.c.dst, c.c.dst_column, r.c.started_at)
            .join(r, r.c.run_id == c.c.run_id, isouter=True)
            .where(side == ds)
            .order_by(c.c.id)
        )
        if column is not None:
            query = query.where(col == column)
        with self._wb.state.begin() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def resolve(self, id: str) -> str:
        """The stored id for ``id`` (``"silver.orders"`` finds ``"dataset:silver.orders"``), or raise with suggestions."""
        self._t()
        with self._wb.state.begin() as conn:
            adj = self._sync(conn)
        return self._resolve(adj, id)

    def _resolve(self, adj: _Adjacency, ref: str) -> str:
        text = str(ref).strip()
        candidates = [text] if kind_of(text) else [f(text) for f in _ID_OF_KIND.values()]
        for c in candidates:
            if c in adj.vid:
                return c
        known = list(adj.vid)
        wanted = candidates[0]
        # close ids: same kind first, compared on the name part
        pool = [k for k in known if kind_of(k) == kind_of(wanted)] if kind_of(text) else known
        names = {k.split(":", 1)[1]: k for k in pool}
        close = [names[n] for n in difflib.get_close_matches(text.split(":", 1)[-1], list(names), n=3, cutoff=0.6)]
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else ("; the lineage graph is empty (ingest, promote or run a VersionedQuery first)" if not known else "")
        )
        raise LineageNotFoundError(f"no lineage vertex {text}{hint}", id=text, suggestions=close)

    def export(self, root: str | None = None, *, depth: int | None = None) -> dict[str, Any]:
        """The whole graph, or the subgraph ``depth`` hops up and down from ``root``, as plain JSON.

        ``{"root", "depth", "vertices": [...], "edges": [...]}``; a subgraph's vertices carry
        ``depth`` (negative upstream, positive downstream).
        """
        if root is None:
            return {
                "root": None,
                "depth": None,
                "vertices": [v.to_dict() for v in self.vertices()],
                "edges": [e.to_dict() for e in self.edges()],
            }
        up, down = self.upstream(root, depth), self.downstream(root, depth)
        vertices: dict[str, dict[str, Any]] = {}
        for result, sign in ((up, -1), (down, 1)):
            for node in result.nodes:
                if node.id not in vertices:
                    vertices[node.id] = {**node.to_dict(), "depth": sign * node.depth}
        edges: dict[tuple[Any, ...], dict[str, Any]] = {}
        for edge in [*up.edges, *down.edges]:
            edges[(edge.src, edge.dst, edge.kind, edge.run_id, edge.created_at)] = edge.to_dict()
        return {
            "root": up.root,
            "depth": up.depth,
            "vertices": sorted(vertices.values(), key=lambda v: (v["depth"], v["id"])),
            "edges": list(edges.values()),
        }

    # -- queries built on the walks (impact.py) ---------------------------------------------

    def impact(
        self,
        dataset: str,
        column: str | None = None,
        change: Literal["schema", "data", "deprecation"] | str = "schema",
        *,
        depth: int | None = None,
    ) -> ImpactReport:
        """What a change of ``dataset`` (or one ``column``) affects downstream, with a severity."""
        from odg_workbench.lineage.impact import impact

        return impact(self, dataset, column=column, change=change, depth=depth)

    def model_lineage(self, model: str, version: str | int | None = None) -> ModelLineage:
        """Training datasets of a model (version), their snapshots, and whether it can be reproduced."""
        from odg_workbench.lineage.impact import model_lineage

        return model_lineage(self, model, version=version)

    # -- internals --------------------------------------------------------------------------

    def check_depth(self, depth: int | None) -> int:
        """``depth`` validated against ``lineage.max_depth`` (None -> ``lineage.default_depth``)."""
        limit = int(self._wb.config.get("lineage.max_depth"))
        if depth is None:
            return int(self._wb.config.get("lineage.default_depth"))
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= limit:
            raise LineageError(
                f"depth must be a whole number from 1 to {limit} (lineage.max_depth), found {depth!r}",
                field="depth",
                expected=f"1..{limit}",
                found=repr(depth),
            )
        return depth

    def _walk(self, ref: str, direction: str, depth: int | None) -> LineageResult:
        began = time.perf_counter()
        hops = self.check_depth(depth)
        self._t()
        with self._wb.state.begin() as conn:
            adj = self._sync(conn)
            root = self._resolve(adj, ref)
            start = adj.vid[root]
            if self.engine == "sql":
                seen, eids, truncated = self._walk_sql(conn, start, direction, hops)
            else:
                seen, eids, truncated = adj.walk(start, direction, hops)
            nodes = self._nodes(conn, adj, seen)
            edges = self._edges_by_id(conn, sorted(set(eids)), adj)
        return LineageResult(
            root, direction, hops, nodes, edges, truncated, duration_ms=(time.perf_counter() - began) * 1000
        )

    def walk_ids(self, ref: str, direction: str, depth: int) -> dict[str, int]:
        """``{vertex id: depth}`` of a walk without loading properties or edges (impact analysis)."""
        self._t()
        with self._wb.state.begin() as conn:
            adj = self._sync(conn)
            start = adj.vid[self._resolve(adj, ref)]
            if self.engine == "sql":
                seen, _, _ = self._walk_sql(conn, start, direction, depth)
            else:
                seen, _, _ = adj.walk(start, direction, depth)
        return {adj.ids[v]: d for v, d in seen.items()}

    def _walk_sql(
        self, conn: sa.Connection, start: int, direction: str, depth: int
    ) -> tuple[dict[int, int], list[int], bool]:
        """The same walk as a recursive CTE (``lineage.query_engine = "sql"``)."""
        import sqlalchemy as sa

        near, far = ("down", "up") if direction == "upstream" else ("up", "down")
        query = sa.text(
            f"""
            WITH RECURSIVE walk(vid, depth) AS (
                SELECT :start, 0
                UNION
                SELECT e.{far}, w.depth + 1 FROM walk w
                JOIN lineage_graph_edges e ON e.{near} = w.vid
                WHERE w.depth < :depth
            )
            SELECT vid, MIN(depth) FROM walk GROUP BY vid
            """
        )
        seen = {int(v): int(d) for v, d in conn.execute(query, {"start": start, "depth": depth})}
        inner = [v for v, d in seen.items() if d < depth]
        eids: list[int] = []
        truncated = False
        for chunk in _chunks(inner, 500):
            eids += [
                int(r[0])
                for r in conn.execute(
                    sa.text(
                        f"SELECT MAX(eid) FROM lineage_graph_edges WHERE {near} IN ({','.join(map(str, chunk))}) "
                        f"GROUP BY {near}, {far}"
                    )
                )
            ]
        edge_vids = [v for v, d in seen.items() if d == depth]
        for chunk in _chunks(edge_vids, 500):
            hit = conn.execute(
                sa.text(f"SELECT 1 FROM lineage_graph_edges WHERE {near} IN ({','.join(map(str, chunk))}) LIMIT 1")
            ).first()
            if hit:
                truncated = True
                break
        return seen, eids, truncated

    def _nodes(self, conn: sa.Connection, adj: _Adjacency, seen: Mapping[int, int]) -> list[LineageNode]:
        import sqlalchemy as sa

        v = _tables()["vertices"]
        props: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(list(seen), 500):
            for vid, text in conn.execute(
                sa.select(v.c.vid, v.c.props).where(v.c.vid.in_(chunk), v.c.props.is_not(None))
            ):
                props[int(vid)] = _loads(text)
        nodes = [
            LineageNode(adj.ids[vid], adj.kinds[vid], adj.ids[vid].split(":", 1)[1], d, props.get(vid, {}))
            for vid, d in seen.items()
        ]
        nodes.sort(key=lambda n: (n.depth, n.id))
        return nodes

    def _edges_by_id(self, conn: sa.Connection, eids: list[int], adj: _Adjacency | None = None) -> list[LineageEdge]:
        import sqlalchemy as sa

        if adj is None:
            adj = self._sync(conn)
        e = _tables()["edges"]
        out: list[LineageEdge] = []
        for chunk in _chunks(eids, 500):
            for r in conn.execute(sa.select(e).where(e.c.eid.in_(chunk)).order_by(e.c.eid)):
                out.append(
                    LineageEdge(
                        adj.ids[r.src],
                        adj.ids[r.dst],
                        r.kind,
                        _snapshot_value(r.src_snapshot),
                        _snapshot_value(r.dst_snapshot),
                        r.run_id,
                        _loads(r.props),
                        _iso(r.created_at),
                    )
                )
        return out

    def _runs_from_rows(self, conn: sa.Connection, rows: list[Any]) -> list[RunRecord]:
        import sqlalchemy as sa

        t = _tables()
        io, c = t["run_io"], t["columns"]
        ids = [r["run_id"] for r in rows]
        ios: dict[str, list[Any]] = {}
        cols: dict[str, dict[str, dict[str, list[list[str]]]]] = {}
        for chunk in _chunks(ids, 500):
            for row in conn.execute(sa.select(io).where(io.c.run_id.in_(chunk)).order_by(io.c.id)):
                ios.setdefault(row.run_id, []).append(row)
            for row in conn.execute(sa.select(c).where(c.c.run_id.in_(chunk)).order_by(c.c.id)):
                sources = cols.setdefault(row.run_id, {}).setdefault(row.dst, {}).setdefault(row.dst_column, [])
                if row.src:
                    sources.append([row.src, row.src_column])
        out = []
        for r in rows:
            mine = ios.get(r["run_id"], [])
            complete = r["column_lineage_status"] == "complete"
            out.append(
                RunRecord(
                    run_id=r["run_id"],
                    pipeline=r["pipeline"],
                    version=r["version"],
                    type=r["type"],
                    status=r["status"],
                    started_at=_iso(r["started_at"]) or "",
                    ended_at=_iso(r["ended_at"]),
                    duration_s=r["duration_s"],
                    inputs=[RunDataset(x.dataset, _snapshot_value(x.snapshot)) for x in mine if x.role == "input"],
                    outputs=[RunDataset(x.dataset, _snapshot_value(x.snapshot)) for x in mine if x.role == "output"],
                    actor=r["actor"],
                    git_commit=r["git_commit"],
                    git_dirty=r["git_dirty"],
                    sql=r["sql"],
                    error=r["error"],
                    column_lineage=cols.get(r["run_id"], {}) if complete else None,
                    column_lineage_status=r["column_lineage_status"],
                    column_lineage_reason=r["column_lineage_reason"],
                    props=_loads(r["props"]),
                )
            )
        return out

    def _props(self, vertex: str) -> dict[str, Any]:
        import sqlalchemy as sa

        v = _tables()["vertices"]
        with self._wb.state.begin() as conn:
            return _loads(conn.execute(sa.select(v.c.props).where(v.c.id == vertex)).scalar())

    def _upsert(
        self, conn: sa.Connection, t: dict[str, sa.Table], vertex: str, kind: str, props: Mapping[str, Any]
    ) -> int:
        import sqlalchemy as sa

        v = t["vertices"]
        row = conn.execute(sa.select(v.c.vid, v.c.kind, v.c.props).where(v.c.id == vertex)).first()
        now = datetime.now(UTC)
        if row is None:
            base: dict[str, Any] = {}
            layer = _layer(vertex)
            if layer is not None:
                base["layer"] = layer
            result = conn.execute(
                v.insert().values(
                    id=vertex,
                    kind=kind,
                    name=vertex.split(":", 1)[1],
                    props=_dumps({**base, **props}),
                    created_at=now,
                    updated_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])
        if row.kind != kind:
            raise LineageError(f"{vertex} is a {row.kind}, not a {kind}", field="kind", expected=row.kind, found=kind)
        if props:
            merged = {**_loads(row.props), **props}
            if merged != _loads(row.props):
                conn.execute(v.update().where(v.c.vid == row.vid).values(props=_dumps(merged), updated_at=now))
        return int(row.vid)

    def _edge_row(
        self,
        src: int,
        dst: int,
        kind: str,
        src_snapshot: int | str | None,
        dst_snapshot: int | str | None,
        run_id: str,
        now: datetime,
    ) -> dict[str, Any]:
        up, down = (dst, src) if EDGE_KINDS[kind].flows_to_src else (src, dst)
        return {
            "src": src,
            "dst": dst,
            "kind": kind,
            "up": up,
            "down": down,
            "src_snapshot": _snapshot_text(src_snapshot),
            "dst_snapshot": _snapshot_text(dst_snapshot),
            "run_id": run_id,
            "props": None,
            "created_at": now,
        }

    def _check_acyclic(self, adj: _Adjacency, arcs: list[tuple[int, int]], names: Mapping[int, str]) -> None:
        """Refuse arcs (up, down) that close a cycle with the graph or with each other."""
        extra: dict[int, list[int]] = {}
        for up, down in arcs:
            path = adj.path(down, up, extra)
            if path is not None:
                ids = [names.get(v) or adj.ids.get(v, str(v)) for v in [up, *path]]
                raise LineageCycleError(
                    f"this lineage would close a cycle: {' -> '.join(ids)} (data cannot flow back into "
                    f"its own source; write to a new dataset instead)",
                    path=ids,
                )
            extra.setdefault(up, []).append(down)

    def _column_lineage(
        self,
        given: ColumnLineage | Mapping[str, Sequence[tuple[str, str]]] | None,
        reason: str | None,
        ins: list[RunDataset],
        outs: list[RunDataset],
    ) -> tuple[dict[str, dict[str, list[tuple[str, str]]]], str, str | None]:
        if given is None:
            return {}, ("unavailable" if reason else "none"), reason
        if reason:
            raise LineageError(
                "give either column_lineage (complete) or column_lineage_reason (why there is none), not both",
                field="column_lineage",
            )
        given_any: Any = given
        values = list(given_any.values())
        nested = bool(values) and all(isinstance(v, Mapping) for v in values)
        if not nested:
            if len(outs) != 1:
                raise LineageError(
                    f"column lineage without output names needs exactly one output, found {len(outs)}",
                    field="column_lineage",
                )
            given_any = {outs[0].dataset: given_any}
        out_ids = {o.dataset for o in outs}
        in_ids = {i.dataset for i in ins}
        result: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for out, cols in given_any.items():
            oid = dataset_id(out)
            if oid not in out_ids:
                raise LineageError(
                    f"column lineage names output {oid}, which is not an output of the run "
                    f"({', '.join(sorted(out_ids)) or 'none'})",
                    field="column_lineage",
                    found=oid,
                )
            mapped: dict[str, list[tuple[str, str]]] = {}
            for col, sources in dict(cols).items():
                pairs: list[tuple[str, str]] = []
                for src in sources:
                    src_ds, src_col = src
                    sid = dataset_id(src_ds)
                    if sid not in in_ids:
                        raise LineageError(
                            f"column {out}.{col} derives from {sid}, which is not an input of the run "
                            f"({', '.join(sorted(in_ids)) or 'none'})",
                            field="column_lineage",
                            found=sid,
                        )
                    pairs.append((sid, str(src_col)))
                mapped[str(col)] = pairs
            result[oid] = mapped
        return result, "complete", None

    @staticmethod
    def _run_dataset(item: tuple[str, int | str | None] | str | RunDataset) -> RunDataset:
        if isinstance(item, RunDataset):
            return RunDataset(dataset_id(item.dataset), item.snapshot)
        if isinstance(item, str):
            return RunDataset(dataset_id(item), None)
        name, snapshot = item
        return RunDataset(dataset_id(name), snapshot)

    @staticmethod
    def _vertex_kind(kind: str) -> str:
        for k in VERTEX_KINDS:
            if k.lower() == str(kind).lower():
                return k
        raise LineageError(
            f"unknown vertex kind {kind!r}: expected one of {', '.join(VERTEX_KINDS)}",
            field="kind",
            expected=list(VERTEX_KINDS),
            found=kind,
        )

    @staticmethod
    def _edge_kind(kind: str) -> str:
        k = str(kind).upper()
        if k not in EDGE_KINDS:
            raise LineageError(
                f"unknown edge kind {kind!r}: expected one of {', '.join(EDGE_KINDS)}",
                field="kind",
                expected=list(EDGE_KINDS),
                found=kind,
            )
        return k

    def _edge_spec(self, kind: str) -> _EdgeSpec:
        return EDGE_KINDS[self._edge_kind(kind)]


def _chunks(items: list[int] | list[str], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
