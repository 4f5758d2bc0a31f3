"""Medallion lakehouse on Apache Iceberg: ingestion, reads, time travel, maintenance.

Layers ``bronze``, ``silver``, ``gold`` and ``platinum`` are Iceberg namespaces; tables
are named ``layer.name``. Start from a workspace::

    import odg_workbench as odg
    wb = odg.open("~/lake")
    wb.ingest("customers.csv", "bronze.customers")
    wb.table("bronze.customers").to_polars()
"""

from odg_workbench.lakehouse.lakehouse import INGEST_COLUMNS, Lakehouse, WriteMode
from odg_workbench.lakehouse.names import LAYERS, Layer, TableName
from odg_workbench.lakehouse.results import (
    CompactionReport,
    ExpireReport,
    IngestResult,
    RollbackResult,
    SnapshotInfo,
    TableInfo,
)
from odg_workbench.lakehouse.table import LakeTable
from odg_workbench.lakehouse.timetravel import AsOf

__all__ = [
    "INGEST_COLUMNS",
    "LAYERS",
    "AsOf",
    "CompactionReport",
    "ExpireReport",
    "IngestResult",
    "LakeTable",
    "Lakehouse",
    "Layer",
    "RollbackResult",
    "SnapshotInfo",
    "TableInfo",
    "TableName",
    "WriteMode",
]
