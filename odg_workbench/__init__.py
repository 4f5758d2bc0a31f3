"""OpenDataGov Workbench: a governed Iceberg lakehouse on a laptop.

Start from a workspace::

    import odg_workbench as odg
    wb = odg.open("~/lake")                       # created on first use
    wb.ingest("customers.csv", "bronze.customers")
    wb.sql("SELECT count(*) FROM bronze.customers").fetchall()

Importing this package is cheap: pyiceberg, DuckDB, pyarrow, polars and the rest load
on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CommitConflictError",
    "Config",
    "ConfigError",
    "OdgError",
    "QueryError",
    "SchemaMismatchError",
    "SnapshotNotFoundError",
    "SourceError",
    "SourceReadError",
    "TableExistsError",
    "TableNameError",
    "TableNotFoundError",
    "TagExistsError",
    "UnsupportedFormatError",
    "Workbench",
    "WorkspaceError",
    "__version__",
    "default_workspace",
    "init",
    "open",
]

from odg_workbench.errors import (
    CommitConflictError,
    ConfigError,
    OdgError,
    QueryError,
    SchemaMismatchError,
    SnapshotNotFoundError,
    SourceError,
    SourceReadError,
    TableExistsError,
    TableNameError,
    TableNotFoundError,
    TagExistsError,
    UnsupportedFormatError,
    WorkspaceError,
)

if TYPE_CHECKING:
    from odg_workbench.config import Config
    from odg_workbench.workspace import Workbench, default_workspace, init, open  # noqa: A004

_LAZY = {
    "Workbench": "odg_workbench.workspace",
    "open": "odg_workbench.workspace",
    "init": "odg_workbench.workspace",
    "default_workspace": "odg_workbench.workspace",
    "Config": "odg_workbench.config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'odg_workbench' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
