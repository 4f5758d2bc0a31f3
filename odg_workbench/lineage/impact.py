"""Impact analysis and model lineage over the lineage graph.

Impact: what a change of a dataset (or of one of its columns) reaches downstream, and how
bad that is. The **severity rule**:

=============  ===============================================  =============================  ================
change         a model, feature or gold/platinum dataset is     only other datasets or         nothing is
               affected                                         pipelines are affected         affected
=============  ===============================================  =============================  ================
schema         HIGH                                             MEDIUM                         LOW
deprecation    HIGH                                             HIGH                           LOW
data           MEDIUM                                           LOW                            LOW
=============  ===============================================  =============================  ================

Why: a schema change breaks the readers of what changed, and hurts most where models are
trained and curated (gold, platinum) data is served; a deprecation takes the input away
from every consumer, so anything downstream breaks; a data change breaks no reader but
changes values, which matters where models learn and curated figures are read.

For a column, the walk follows column-level lineage: an output column is affected when it
derives from an affected column; a dataset whose pipeline *reads* the column elsewhere
(a filter, join or grouping key) is affected whole (its rows depend on it). Where a run's
column lineage is not known (a Python or polars pipeline, SQL that sqlglot could not
analyse) the dataset is assumed affected whole and listed in ``unknown_column_lineage``:
the analysis errs towards reporting, never towards silence.

Model lineage: the ``TRAINED_ON`` edges of a model (version), the snapshots they pin and
whether every one still exists (``is_reproducible``), with the ``as_of`` mapping to time
travel to the training data.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from odg_workbench.lineage.graph import (
    LineageError,
    LineageNotFoundError,
    _layer,
    _loads,
    _snapshot_value,
    _tables,
    kind_of,
)

if TYPE_CHECKING:
    from odg_workbench.lineage.graph import LineageGraph, LineageResult

__all__ = ["CHANGES", "AffectedDataset", "ImpactReport", "ModelLineage", "TrainingDataset", "impact", "model_lineage"]

CHANGES = ("schema", "data", "deprecation")
CRITICAL_LAYERS = ("gold", "platinum")

SEVERITY_RULE: dict[str, tuple[str, str, str]] = {
    # change: (critical affected, only others affected, nothing affected)
    "schema": ("HIGH", "MEDIUM", "LOW"),
    "deprecation": ("HIGH", "HIGH", "LOW"),
    "data": ("MEDIUM", "LOW", "LOW"),
}


@dataclass
class AffectedDataset:
    """A dataset a change reaches: hops from the change, layer, affected columns (None: all)."""

    id: str
    depth: int
    layer: str | None
    columns: list[str] | None = None
    column_lineage_known: bool = True
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImpactReport:
    """What a change affects downstream, with the severity the rule gives it and why."""

    dataset: str
    column: str | None
    change: str
    severity: str
    rule: str
    datasets: list[AffectedDataset]
    pipelines: list[str]
    models: list[str]
    features: list[str]
    unknown_column_lineage: list[str] = field(default_factory=list)
    depth: int = 0
    truncated: bool = False
    duration_ms: float = 0.0

    @property
    def affected(self) -> list[str]:
        """Every affected vertex id."""
        return [d.id for d in self.datasets] + self.pipelines + self.models + self.features

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "column": self.column,
            "change": self.change,
            "severity": self.severity,
            "rule": self.rule,
            "datasets": [d.to_dict() for d in self.datasets],
            "pipelines": self.pipelines,
            "models": self.models,
            "features": self.features,
            "unknown_column_lineage": self.unknown_column_lineage,
            "depth": self.depth,
            "truncated": self.truncated,
            "duration_ms": round(self.duration_ms, 3),
        }


def severity(change: str, datasets: list[AffectedDataset], models: list[str], features: list[str]) -> tuple[str, str]:
    """The severity of a change and the sentence of the rule that gave it."""
    critical = [d.id for d in datasets if d.layer in CRITICAL_LAYERS] + models + features
    high, medium, low = SEVERITY_RULE[change]
    if critical:
        shown = ", ".join(critical[:3]) + (f" and {len(critical) - 3} more" if len(critical) > 3 else "")
        return high, f"{change} change reaching a model, feature or gold/platinum dataset ({shown}) -> {high}"
    if datasets:
        return (
            medium,
            f"{change} change reaching {len(datasets)} other dataset(s), no model or curated layer -> {medium}",
        )
    return low, f"{change} change reaching nothing downstream -> {low}"


def _validate_change(change: str) -> str:
    text = str(change).strip().lower()
    if text not in CHANGES:
        raise LineageError(
            f"unknown change type {change!r}: expected one of {', '.join(CHANGES)}",
            field="change",
            expected=list(CHANGES),
            found=change,
        )
    return text


def impact(
    graph: LineageGraph, dataset: str, *, column: str | None = None, change: str = "schema", depth: int | None = None
) -> ImpactReport:
    """See the module docstring; ``depth`` defaults to ``lineage.max_depth`` (the whole reach)."""
    began = time.perf_counter()
    kind = _validate_change(change)
    hops = graph.check_depth(depth) if depth is not None else int(graph._wb.config.get("lineage.max_depth"))
    root = graph.resolve(dataset)
    if kind_of(root) != "Dataset":
        raise LineageError(f"impact analysis starts at a dataset, not {root}", field="dataset", found=root)
    seen = graph.walk_ids(root, "downstream", hops)
    reach = {v: d for v, d in seen.items() if v != root}
    truncated = bool(reach) and max(reach.values()) >= hops
    unknown: list[str] = []
    if column is None:
        datasets = [
            AffectedDataset(v, d, _layer(v), None, True, f"{d} hop(s) downstream")
            for v, d in sorted(reach.items(), key=lambda x: (x[1], x[0]))
            if kind_of(v) == "Dataset"
        ]
        pipelines = sorted(v for v in reach if kind_of(v) == "Pipeline")
        models = sorted(v for v in reach if kind_of(v) == "Model")
        features = sorted(v for v in reach if kind_of(v) == "Feature")
    else:
        datasets, pipelines, models, features, unknown = _column_impact(graph, root, column, reach)
    level, rule = severity(kind, datasets, models, features)
    return ImpactReport(
        dataset=root,
        column=column,
        change=kind,
        severity=level,
        rule=rule,
        datasets=datasets,
        pipelines=pipelines,
        models=models,
        features=features,
        unknown_column_lineage=unknown,
        depth=hops,
        truncated=truncated,
        duration_ms=(time.perf_counter() - began) * 1000,
    )


def _column_impact(
    graph: LineageGraph, root: str, column: str, reach: dict[str, int]
) -> tuple[list[AffectedDataset], list[str], list[str], list[str], list[str]]:
    """Follow one column down the DERIVED_FROM edges (within ``reach``), run by run."""
    import sqlalchemy as sa

    t = _tables()
    e, v, r, c = t["edges"], t["vertices"], t["runs"], t["columns"]
    known_columns = _known_columns(graph, root)
    if known_columns is not None and column not in known_columns:
        import difflib

        close = difflib.get_close_matches(column, sorted(known_columns), n=3, cutoff=0.6)
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else f"; known columns: {', '.join(sorted(known_columns)[:20])}"
        )
        raise LineageNotFoundError(
            f"{root} has no column {column!r} in its recorded lineage{hint}",
            dataset=root,
            column=column,
            suggestions=close,
        )
    affected: dict[str, set[str] | None] = {root: {column}}
    info: dict[str, AffectedDataset] = {}
    runs_through: set[str] = set()
    unknown: list[str] = []
    frontier = [root]
    depth_of = {root: 0, **reach}
    with graph._wb.state.begin() as conn:
        vid_of = dict(conn.execute(sa.select(v.c.id, v.c.vid).where(v.c.kind == "Dataset")).all())
        id_of = {vid: vertex for vertex, vid in vid_of.items()}
        while frontier:
            nxt: list[str] = []
            for parent in frontier:
                cols = affected[parent]
                # newest DERIVED_FROM edge of each child of ``parent``
                rows = conn.execute(
                    sa.select(e.c.src, sa.func.max(e.c.eid))
                    .where(e.c.up == vid_of[parent], e.c.kind == "DERIVED_FROM")
                    .group_by(e.c.src)
                ).all()
                for child_vid, eid in rows:
                    child = id_of[child_vid]
                    if child not in reach:
                        continue
                    run_id = conn.execute(sa.select(e.c.run_id).where(e.c.eid == eid)).scalar()
                    run = (
                        conn.execute(
                            sa.select(
                                r.c.column_lineage_status, r.c.column_lineage_reason, r.c.props, r.c.pipeline
                            ).where(r.c.run_id == run_id)
                        ).first()
                        if run_id
                        else None
                    )
                    mapped = conn.execute(
                        sa.select(c.c.src_column, c.c.dst_column).where(
                            c.c.run_id == (run_id or ""), c.c.src == parent, c.c.dst == child
                        )
                    ).all()
                    status = run.column_lineage_status if run is not None else ("complete" if mapped else "none")
                    if status != "complete":
                        why = (run.column_lineage_reason if run is not None else None) or "no column lineage recorded"
                        hit: set[str] | None = None
                        reason = f"column lineage unknown ({why}): assumed affected"
                        if child not in unknown:
                            unknown.append(child)
                    else:
                        derived = {dst for src, dst in mapped if cols is None or src in cols}
                        reads = set(
                            _loads(run.props if run is not None else None).get("columns_read", {}).get(parent, [])
                        )
                        read_hit = reads if cols is None else reads & cols
                        if read_hit - {src for src, _ in mapped}:
                            hit = None
                            reason = f"its pipeline reads {parent.removeprefix('dataset:')}.{sorted(read_hit)[0]} (filter, join or key)"
                        elif derived:
                            hit = derived
                            reason = f"columns derived from {parent.removeprefix('dataset:')}.{'/'.join(sorted(cols or ['*']))}"
                        else:
                            continue
                    if run is not None:
                        runs_through.add(run.pipeline)
                    before = affected.get(child, set())
                    if child in affected and before is None:
                        continue
                    merged: set[str] | None = None if hit is None else (set(before or set()) | hit)
                    if child in affected and merged == before:
                        continue
                    affected[child] = merged
                    info[child] = AffectedDataset(
                        child,
                        depth_of.get(child, 0),
                        _layer(child),
                        None if merged is None else sorted(merged),
                        status == "complete",
                        reason,
                    )
                    nxt.append(child)
            frontier = nxt
        hit_ids = [vid_of[d] for d in info]
        models: list[str] = []
        features: list[str] = []
        if hit_ids:
            for (src_vid,) in conn.execute(
                sa.select(e.c.src).where(e.c.dst.in_(hit_ids), e.c.kind == "TRAINED_ON").distinct()
            ):
                models.append(str(conn.execute(sa.select(v.c.id).where(v.c.vid == src_vid)).scalar()))
    models += _models_of(graph, root)  # trained on the changed table itself
    pipelines = sorted(runs_through)
    feats = sorted(f for f in reach if kind_of(f) == "Feature" and any(p in pipelines for p in _producers(graph, f)))
    features += feats
    datasets = sorted(info.values(), key=lambda d: (d.depth, d.id))
    return datasets, pipelines, sorted(set(models)), sorted(set(features)), sorted(unknown)


def _known_columns(graph: LineageGraph, dataset: str) -> set[str] | None:
    """Columns of ``dataset`` its recorded lineage or table schema names (None: cannot tell)."""
    import sqlalchemy as sa

    name = dataset.removeprefix("dataset:")
    if _layer(dataset) not in (None, "external"):
        lake = graph._wb.lakehouse
        if lake.exists(name):
            return {f.name for f in lake.table(name).iceberg.schema().fields}
    t = _tables()
    c, io, r = t["columns"], t["run_io"], t["runs"]
    with graph._wb.state.begin() as conn:
        read = conn.execute(
            sa.select(r.c.props).where(
                r.c.run_id.in_(sa.select(io.c.run_id).where(io.c.dataset == dataset, io.c.role == "input")),
                r.c.props.is_not(None),
            )
        ).scalars()
        found = {str(col) for props in read for col in _loads(props).get("columns_read", {}).get(dataset, [])}
        found |= {
            str(x)
            for x in conn.execute(
                sa.union(
                    sa.select(c.c.src_column.label("col")).where(c.c.src == dataset),
                    sa.select(c.c.dst_column.label("col")).where(c.c.dst == dataset),
                )
            ).scalars()
        }
    return found or None


def _models_of(graph: LineageGraph, dataset: str) -> list[str]:
    """Models trained directly on ``dataset`` (affected by any change of its columns)."""
    return sorted({e.src for e in graph.edges(dataset, kind="TRAINED_ON") if e.dst == dataset})


def _producers(graph: LineageGraph, feature: str) -> list[str]:
    return [e.src for e in graph.edges(feature, kind="PRODUCES")]


# -- model lineage ------------------------------------------------------------------------------


@dataclass
class TrainingDataset:
    """A dataset a model version was trained on, the snapshot it pins, and whether that still exists."""

    dataset: str
    snapshot_id: int | str | None
    exists: bool
    reason: str = ""

    @property
    def table(self) -> str:
        return self.dataset.removeprefix("dataset:")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "table": self.table}


@dataclass
class ModelLineage:
    """The training data of one model version and whether the model can be reproduced from it."""

    model: str
    version: str | None
    versions: list[str | None]
    training: list[TrainingDataset]
    is_reproducible: bool
    reasons: list[str]
    upstream: LineageResult | None = None

    @property
    def as_of(self) -> dict[str, int | str]:
        """``{table: snapshot id}`` to pass as ``wb.sql(..., as_of=...)`` to read the training data."""
        return {t.table: t.snapshot_id for t in self.training if t.snapshot_id is not None and t.exists}

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "versions": self.versions,
            "training": [t.to_dict() for t in self.training],
            "is_reproducible": self.is_reproducible,
            "reasons": self.reasons,
            "as_of": self.as_of,
            "upstream": self.upstream.to_dict() if self.upstream is not None else None,
        }


def _version_of(props: dict[str, Any]) -> str | None:
    for key in ("version", "model_version"):
        if props.get(key) is not None:
            return str(props[key])
    return None


def model_lineage(graph: LineageGraph, model: str, *, version: str | int | None = None) -> ModelLineage:
    """The training datasets of ``model`` (its newest version unless ``version``) and reproducibility."""
    root = graph.resolve(model if kind_of(str(model)) else f"model:{model}")
    if kind_of(root) != "Model":
        raise LineageError(f"model lineage starts at a model, not {root}", field="model", found=root)
    edges = [e for e in graph.edges(root, kind="TRAINED_ON") if e.src == root]
    versions: list[str | None] = []
    for e in edges:  # oldest first: the last one seen is the newest version
        ver = _version_of(e.props)
        if ver in versions:
            versions.remove(ver)
        versions.append(ver)
    if version is not None:
        wanted: str | None = str(version)
        if wanted not in versions:
            raise LineageNotFoundError(
                f"{root} has no version {wanted} in the lineage graph; versions: "
                + (", ".join(str(v) for v in versions) or "none (no TRAINED_ON edge)"),
                model=root,
                version=wanted,
                suggestions=[str(v) for v in versions],
            )
    else:
        wanted = versions[-1] if versions else None
    chosen: dict[str, TrainingDataset] = {}
    for e in edges:
        if _version_of(e.props) != wanted:
            continue
        snap = e.dst_snapshot
        chosen[e.dst] = _training(graph, e.dst, snap)
    training = sorted(chosen.values(), key=lambda t: t.dataset)
    reasons = [f"{t.table}: {t.reason}" for t in training if not t.exists]
    if not training:
        reasons.append("no TRAINED_ON edge records the training data")
    upstream = graph.upstream(root, depth=int(graph._wb.config.get("lineage.default_depth")))
    return ModelLineage(
        model=root,
        version=wanted,
        versions=versions,
        training=training,
        is_reproducible=bool(training) and not reasons,
        reasons=reasons,
        upstream=upstream,
    )


def _training(graph: LineageGraph, dataset: str, snapshot: int | str | None) -> TrainingDataset:
    snap = _snapshot_value(None if snapshot is None else str(snapshot))
    if snap is None:
        return TrainingDataset(dataset, None, False, "not pinned to a snapshot")
    name = dataset.removeprefix("dataset:")
    if _layer(dataset) == "external":
        return TrainingDataset(dataset, snap, False, "an external dataset: its snapshot cannot be checked here")
    lake = graph._wb.lakehouse
    if not lake.exists(name):
        return TrainingDataset(dataset, snap, False, "the table no longer exists")
    if not isinstance(snap, int) or lake.table(name).iceberg.snapshot_by_id(snap) is None:
        return TrainingDataset(dataset, snap, False, f"snapshot {snap} no longer exists (expired or rolled away)")
    return TrainingDataset(dataset, snap, True, f"snapshot {snap} exists")
