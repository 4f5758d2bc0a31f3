"""DuckDB over the lakehouse: an in-memory connection that reads Iceberg tables directly.

No DuckDB database file is ever opened: queries run in an in-memory DuckDB whose
``iceberg_scan`` reads each table's metadata and Parquet files (streaming, with
predicate and projection push-down, larger than memory with spilling to the
workspace's ``.duckdb/tmp``). The iceberg and avro extensions come from the pinned
``duckdb-extension-*`` wheels and are loaded from their files, so nothing is downloaded.

SQL names lakehouse tables ``layer.name``; :func:`rewrite` replaces each such reference
with an ``iceberg_scan`` of the right metadata file and snapshot (parsed and rewritten
with sqlglot, so aliases, joins, CTEs and subqueries keep working).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import QueryError
from odg_workbench.lakehouse.names import LAYERS, TableName

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["DuckDB", "ScanTarget", "rewrite"]

_LAYER_NAMES = {layer.value for layer in LAYERS}


@dataclass(frozen=True)
class ScanTarget:
    """How to read one table reference: an Iceberg metadata file and snapshot, or an empty table."""

    metadata_location: str
    snapshot_id: int | None
    empty: pa.Table | None = None


def _extension_file(name: str) -> Path:
    import duckdb

    module = importlib.import_module(f"duckdb_extension_{name}")
    return Path(str(module.__file__)).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


class DuckDB:
    """One in-memory DuckDB per workspace with the Iceberg extension loaded; a cursor per query."""

    def __init__(
        self, root: Path, *, memory_limit: str = "", threads: int = 0, s3: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.memory_limit = memory_limit
        self.threads = threads
        self.s3 = s3 or {}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A new cursor (its own transaction and temporary objects) on the shared in-memory database."""
        if self._con is None:
            with self._lock:
                if self._con is None:
                    self._con = self._connect()
        return self._con.cursor()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        work = self.root / ".duckdb"
        (work / "tmp").mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "extension_directory": str(work / "extensions"),
            "temp_directory": str(work / "tmp"),
        }
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        con = duckdb.connect(":memory:", config=config)
        wanted = ["avro", "iceberg"] + (["httpfs"] if self.s3 else [])
        for name in wanted:
            path = _extension_file(name)
            if not path.exists():
                raise QueryError(
                    f"the DuckDB {name} extension for DuckDB {duckdb.__version__} is not installed "
                    f"(expected {path}); reinstall with `pip install duckdb-extension-{name}=={duckdb.__version__}`"
                )
            con.execute(f"LOAD '{_quote(str(path))}'")
        if self.s3:
            con.execute(_s3_secret_sql(self.s3))
        return con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _s3_secret_sql(props: dict[str, str]) -> str:
    """A DuckDB S3 secret from pyiceberg's ``s3.*`` catalog properties."""
    parts = ["TYPE s3"]
    if props.get("s3.access-key-id"):
        parts.append(f"KEY_ID '{_quote(props['s3.access-key-id'])}'")
    if props.get("s3.secret-access-key"):
        parts.append(f"SECRET '{_quote(props['s3.secret-access-key'])}'")
    if props.get("s3.session-token"):
        parts.append(f"SESSION_TOKEN '{_quote(props['s3.session-token'])}'")
    if props.get("s3.region"):
        parts.append(f"REGION '{_quote(props['s3.region'])}'")
    endpoint = props.get("s3.endpoint", "")
    if endpoint:
        use_ssl = not endpoint.startswith("http://")
        host = endpoint.split("://", 1)[-1].rstrip("/")
        parts += [f"ENDPOINT '{_quote(host)}'", "URL_STYLE 'path'", f"USE_SSL {str(use_ssl).lower()}"]
    return f"CREATE OR REPLACE SECRET odg_s3 ({', '.join(parts)})"


def scan_sql(target: ScanTarget) -> str:
    args = f"'{_quote(target.metadata_location)}'"
    if target.snapshot_id is not None:
        args += f", snapshot_from_id = {int(target.snapshot_id)}"
    return f"iceberg_scan({args})"


def rewrite(sql: str, resolve: Callable[[TableName], ScanTarget]) -> tuple[str, dict[str, pa.Table], list[TableName]]:
    """Replace every ``layer.name`` in ``sql`` by a scan of that table.

    Returns the rewritten SQL, the empty tables to register under their placeholder
    names (Iceberg tables without any snapshot), and the tables referenced.
    """
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise QueryError(
            f"cannot parse SQL at line {first.get('line')}, column {first.get('col')}: "
            f"{first.get('description', str(exc))}",
            line=first.get("line"),
            column=first.get("col"),
        ) from exc
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, found {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, (exp.Query, exp.Describe, exp.Summarize)):
        raise QueryError(
            f"only queries run here (SELECT, WITH, DESCRIBE, SUMMARIZE), found {tree.key.upper()}: "
            "lakehouse tables change through ingest, promotion and maintenance commands"
        )

    referenced: list[TableName] = []
    empties: dict[str, pa.Table] = {}
    replaced: set[tuple[str, str]] = set()
    for node in list(tree.find_all(exp.Table)):
        db, name = node.args.get("db"), node.name
        if not db or node.args.get("catalog") or not name or node.text("db").lower() not in _LAYER_NAMES:
            continue
        table = TableName.parse(f"{node.text('db')}.{name}")
        target = resolve(table)
        alias = node.alias or table.name
        if target.empty is not None:
            placeholder = f"__odg_empty_{len(empties)}"
            empties[placeholder] = target.empty
            source = placeholder
        else:
            source = scan_sql(target)
        new = sqlglot.parse_one(
            f"SELECT * FROM {source} AS {exp.to_identifier(alias).sql('duckdb')}", read="duckdb"
        ).find(exp.Table)
        assert new is not None
        node.replace(new)
        referenced.append(table)
        replaced.add((table.layer.value, table.name))
    for column in tree.find_all(exp.Column):
        if column.args.get("db") and (column.text("db").lower(), column.table) in replaced:
            column.set("db", None)
    if isinstance(tree, (exp.Describe, exp.Summarize)) and isinstance(tree.this, exp.Table):
        # DuckDB describes a table function only as a query: DESCRIBE SELECT * FROM f(...)
        keyword = "DESCRIBE" if isinstance(tree, exp.Describe) else "SUMMARIZE"
        described = tree.this.copy()
        described.set("alias", None)
        return f"{keyword} SELECT * FROM {described.sql(dialect='duckdb')}", empties, referenced
    return tree.sql(dialect="duckdb"), empties, referenced
