"""Lineage: a graph of datasets, pipelines, models and features in the state database.

Modules::

    graph.py       LineageGraph (``wb.lineage``): vertices, edges, runs, upstream/downstream walks
    capture.py     automatic capture: ingestion, promotion, SQL column lineage (sqlglot)
    versioned.py   VersionedQuery (DuckDB SQL) and VersionedPipeline (polars lazy frames)
    impact.py      impact analysis with severities, model lineage and reproducibility
    visual.py      altair rendering of a lineage subgraph

Nothing heavy is imported here: ``import odg_workbench.lineage`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odg_workbench.lineage.graph import (
    EDGE_KINDS,
    VERTEX_KINDS,
    LineageCycleError,
    LineageEdge,
    LineageError,
    LineageGraph,
    LineageNode,
    LineageNotFoundError,
    LineageResult,
    RunDataset,
    RunRecord,
    dataset_id,
    feature_id,
    model_id,
    pipeline_id,
)

if TYPE_CHECKING:
    from odg_workbench.lineage.impact import ImpactReport, ModelLineage
    from odg_workbench.lineage.versioned import VersionedPipeline, VersionedQuery
    from odg_workbench.lineage.visual import render

__all__ = [
    "EDGE_KINDS",
    "VERTEX_KINDS",
    "ImpactReport",
    "LineageCycleError",
    "LineageEdge",
    "LineageError",
    "LineageGraph",
    "LineageNode",
    "LineageNotFoundError",
    "LineageResult",
    "ModelLineage",
    "RunDataset",
    "RunRecord",
    "VersionedPipeline",
    "VersionedQuery",
    "dataset_id",
    "feature_id",
    "model_id",
    "pipeline_id",
    "render",
]

_LAZY = {
    "ImpactReport": "odg_workbench.lineage.impact",
    "ModelLineage": "odg_workbench.lineage.impact",
    "VersionedPipeline": "odg_workbench.lineage.versioned",
    "VersionedQuery": "odg_workbench.lineage.versioned",
    "render": "odg_workbench.lineage.visual",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'odg_workbench.lineage' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
