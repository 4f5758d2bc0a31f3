"""The lakehouse of a workspace: medallion namespaces, ingestion, writes and SQL."""

from __future__ import annotations

import contextlib
import difflib
import functools
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from odg_workbench.errors import (
    CommitConflictError,
    QueryError,
    TableExistsError,
    TableNameError,
    TableNotFoundError,
)
from odg_workbench.lakehouse.arrow_compat import normalize_table
from odg_workbench.lakehouse.duck import DuckDB, ScanTarget, rewrite
from odg_workbench.lakehouse.evolution import (
    SchemaChange,
    align_to_schema,
    apply_changes,
    arrow_to_iceberg_schema,
    plan_changes,
)
from odg_workbench.lakehouse.names import LAYERS, Layer, TableName
from odg_workbench.lakehouse.results import IngestResult, TableInfo
from odg_workbench.lakehouse.sources import read_source
from odg_workbench.lakehouse.table import LakeTable
from odg_workbench.lakehouse.timetravel import AsOf, resolve_snapshot

if TYPE_CHECKING:
    import duckdb
    import ibis
    import pyarrow as pa
    import sqlalchemy as sa
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from odg_workbench.config import Config
    from odg_workbench.workspace import Workbench

__all__ = ["INGEST_COLUMNS", "Lakehouse", "WriteMode"]

WriteMode = Literal["append", "overwrite"]

#: Columns ingestion adds to every Bronze row.
INGEST_COLUMNS = ("_odg_ingested_at", "_odg_source", "_odg_batch_id")


@functools.cache
def _batches_table() -> sa.Table:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    return sa.Table(
        "lakehouse_ingest_batches",
        metadata.get(),
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Column("table_name", sa.String(255), nullable=False, index=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("snapshot_id", sa.BigInteger),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
    )


class Lakehouse:
    """Medallion tables of a workspace. Reach it as ``Workbench.lakehouse``."""

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench
        self._duck: DuckDB | None = None

    @property
    def catalog(self) -> Catalog:
        return self._wb.catalog

    @property
    def config(self) -> Config:
        return self._wb.config

    @property
    def user(self) -> str:
        return self._wb.user

    def _published(self, type: str, resource: TableName, /, **payload: Any) -> None:
        self._wb.publish(type, str(resource), **payload)

    # -- namespaces and tables ---------------------------------------------------------

    def ensure_layers(self) -> None:
        """Create the bronze, silver, gold and platinum namespaces where missing."""
        from pyiceberg.exceptions import NamespaceAlreadyExistsError

        existing = {ns[0] for ns in self.catalog.list_namespaces()}
        for layer in LAYERS:
            if layer.value not in existing:
                with contextlib.suppress(NamespaceAlreadyExistsError):
                    self.catalog.create_namespace(layer.value, {"odg.layer-rank": str(layer.rank)})

    def _load(self, name: TableName) -> Table | None:
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        try:
            return self.catalog.load_table(name.identifier)
        except (NoSuchTableError, NoSuchNamespaceError):
            return None

    def exists(self, name: str | TableName) -> bool:
        return self._load(TableName.parse(name)) is not None

    def table(self, name: str | TableName) -> LakeTable:
        """An existing table; unknown names get suggestions."""
        parsed = TableName.parse(name)
        table = self._load(parsed)
        if table is None:
            names = self.table_names()
            known = [str(t) for t in names]
            # Compare the table part (all names share a layer prefix), same layer first.
            close_names = difflib.get_close_matches(parsed.name, sorted({n.name for n in names}), n=3, cutoff=0.6)
            close = sorted(
                (str(n) for n in names if n.name in close_names),
                key=lambda full: (
                    not full.startswith(f"{parsed.layer.value}."),
                    close_names.index(full.split(".", 1)[1]),
                ),
            )[:3]
            hint = (
                f"; did you mean {', '.join(close)}?"
                if close
                else (
                    f"; tables: {', '.join(known[:10])}" if known else "; the workspace has no tables yet (odg ingest)"
                )
            )
            raise TableNotFoundError(f"no table {parsed}{hint}", table=str(parsed), suggestions=close)
        return LakeTable(self, parsed, table)

    def table_names(self, layer: str | Layer | None = None) -> list[TableName]:
        from pyiceberg.exceptions import NoSuchNamespaceError

        layers = [Layer.parse(layer)] if layer is not None else list(LAYERS)
        names: list[TableName] = []
        for lay in layers:
            try:
                identifiers = self.catalog.list_tables(lay.value)
            except NoSuchNamespaceError:
                continue
            names.extend(TableName(lay, ident[-1]) for ident in identifiers)
        return sorted(names, key=lambda n: (n.layer.rank, n.name))

    def tables(self, layer: str | Layer | None = None) -> list[TableInfo]:
        """Every table with row count, current snapshot and metadata location."""
        out = []
        for name in self.table_names(layer):
            table = self._load(name)
            if table is not None:
                out.append(LakeTable(self, name, table).info())
        return out

    def drop(self, name: str | TableName, *, purge: bool = True) -> None:
        """Remove a table from the catalog (and its files, with ``purge``)."""
        parsed = TableName.parse(name)
        table = self.table(parsed)
        location = table.iceberg.location()
        self.catalog.drop_table(parsed.identifier)
        if purge and location.startswith("file://"):
            import shutil

            shutil.rmtree(location.removeprefix("file://"), ignore_errors=True)
        self._published("lakehouse.drop", parsed, purge=purge)

    # -- writing -------------------------------------------------------------------------

    def _table_properties(self, layer: Layer) -> dict[str, str]:
        return {
            "format-version": "2",
            "write.parquet.compression-codec": "zstd",
            "commit.retry.num-retries": str(self.config.get("lakehouse.commit_retries")),
            "commit.retry.min-wait-ms": "50",
            "commit.retry.max-wait-ms": "2000",
            "write.metadata.delete-after-commit.enabled": "true",
            "write.metadata.previous-versions-max": "100",
            "odg.layer": layer.value,
            "odg.created-by": self.user,
        }

    def write(
        self,
        table: str | TableName,
        data: pa.Table,
        *,
        mode: WriteMode = "append",
        create: bool = True,
        snapshot_properties: dict[str, str] | None = None,
        source: str = "data",
    ) -> tuple[int | None, bool, list[SchemaChange]]:
        """Write Arrow data to a table in one Iceberg commit; create it if needed.

        New columns are added and Iceberg-legal type promotions applied in the same
        commit; anything else raises :class:`SchemaMismatchError` and writes nothing.
        Commits retry when another writer got there first.

        Returns ``(snapshot_id, created, schema_changes)``.
        """
        from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

        if mode not in ("append", "overwrite"):
            raise ValueError(f"mode must be 'append' or 'overwrite', found {mode!r}")
        name = TableName.parse(table)
        data = normalize_table(data)
        props = {"odg.actor": self.user, **(snapshot_properties or {})}
        attempts = max(1, int(self.config.get("lakehouse.commit_retries")))
        for attempt in range(attempts):
            try:
                iceberg = self._load(name)
                if iceberg is None:
                    if not create:
                        raise TableNotFoundError(f"no table {name}", table=str(name))
                    return self._create_and_write(name, data, props)
                plan = plan_changes(iceberg.schema(), data.schema, table=str(name), source=source)
                with iceberg.transaction() as tx:
                    if plan:
                        with tx.update_schema() as update:
                            apply_changes(update, plan)
                    aligned = align_to_schema(data, tx.table_metadata.schema())
                    if mode == "append":
                        tx.append(aligned, snapshot_properties=props)
                    else:
                        _replace_all(tx, iceberg, aligned, props)
                snap = iceberg.current_snapshot()
                return (snap.snapshot_id if snap else None), False, [c for c, _, _ in plan]
            except (CommitFailedException, TableAlreadyExistsError):
                time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
        raise CommitConflictError(
            f"{name}: other writers kept committing first ({attempts} attempts); nothing was written, retry later",
            table=str(name),
        )

    def _create_and_write(
        self, name: TableName, data: pa.Table, props: dict[str, str]
    ) -> tuple[int | None, bool, list[SchemaChange]]:
        from pyiceberg.exceptions import NoSuchNamespaceError

        schema = arrow_to_iceberg_schema(data.schema)
        try:
            tx = self.catalog.create_table_transaction(
                name.identifier, schema=schema, properties=self._table_properties(name.layer)
            )
        except NoSuchNamespaceError:
            self.ensure_layers()
            tx = self.catalog.create_table_transaction(
                name.identifier, schema=schema, properties=self._table_properties(name.layer)
            )
        aligned = align_to_schema(data, tx.table_metadata.schema())
        tx.append(aligned, snapshot_properties=props)
        created = tx.commit_transaction()
        snap = created.current_snapshot()
        return (snap.snapshot_id if snap else None), True, []

    def create_table(self, table: str | TableName, schema: pa.Schema) -> LakeTable:
        """Create an empty table with the given Arrow schema (all columns optional)."""
        from pyiceberg.exceptions import TableAlreadyExistsError

        name = TableName.parse(table)
        try:
            self.catalog.create_table(
                name.identifier,
                schema=arrow_to_iceberg_schema(normalize_table(schema.empty_table()).schema),
                properties=self._table_properties(name.layer),
            )
        except TableAlreadyExistsError:
            raise TableExistsError(f"table {name} already exists", table=str(name)) from None
        return self.table(name)

    def ingest(
        self,
        source: Any,
        table: str,
        *,
        mode: WriteMode = "append",
        format: str | None = None,
        batch_id: str | None = None,
        source_name: str | None = None,
    ) -> IngestResult:
        """Ingest a file (CSV, TSV, Parquet, JSON, NDJSON) or a pandas/polars/Arrow frame into Bronze.

        Every row gets ``_odg_ingested_at`` (UTC), ``_odg_source`` and ``_odg_batch_id``;
        the snapshot summary records the same batch id, source and actor. Giving a
        ``batch_id`` makes the ingest idempotent: if that batch already landed in the
        table's current history, nothing is written and ``skipped`` is true.

        A ``table`` without a layer (``"orders"``) means ``bronze.orders``; other layers
        are written by promotion, not ingestion.
        """
        import pyarrow as pa

        start = time.perf_counter()
        name = TableName.parse(table, default_layer=Layer.BRONZE)
        if name.layer is not Layer.BRONZE:
            raise TableNameError(
                f"ingestion writes to the bronze layer, not {name.layer.value} ({name}); "
                "higher layers are written by promotion",
                table=str(name),
                expected="bronze",
                found=name.layer.value,
            )
        if batch_id is not None:
            existing = self._find_batch(name, batch_id)
            if existing is not None:
                return existing
        src = read_source(source, format)
        description = source_name or (
            str(Path(src.description).resolve()) if src.format != "memory" else src.description
        )
        batch = batch_id or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        data = normalize_table(src.table)
        data = data.drop_columns([c for c in INGEST_COLUMNS if c in data.column_names])
        n = data.num_rows
        # Constant columns straight from Arrow scalars: building them from Python lists
        # took more than half of a 5M-row ingest (docs/benchmarks.md).
        ts = pa.timestamp("us", tz="UTC")
        data = (
            data.append_column(pa.field("_odg_ingested_at", ts), pa.repeat(pa.scalar(now, ts), n))
            .append_column(pa.field("_odg_source", pa.string()), pa.repeat(pa.scalar(description, pa.string()), n))
            .append_column(pa.field("_odg_batch_id", pa.string()), pa.repeat(pa.scalar(batch, pa.string()), n))
        )
        snapshot_id, created, changes = self.write(
            name,
            data,
            mode=mode,
            source=description,
            snapshot_properties={
                "odg.operation": "ingest",
                "odg.batch-id": batch,
                "odg.source": description[:1000],
                "odg.format": src.format,
            },
        )
        duration = round(time.perf_counter() - start, 3)
        result = IngestResult(
            table=str(name),
            batch_id=batch,
            source=description,
            format=src.format,
            mode=mode,
            rows=n,
            snapshot_id=snapshot_id,
            created_table=created,
            schema_changes=[c.to_dict() for c in changes],
            duration_s=duration,
        )
        self._record_batch(result, now)
        from odg_workbench.lineage.capture import record_ingest  # lineage through the workspace's graph

        record_ingest(self._wb, result, data.column_names)
        self._published("lakehouse.ingest", name, **result.to_dict())
        return result

    def _find_batch(self, name: TableName, batch_id: str) -> IngestResult | None:
        from pyiceberg.table.snapshots import ancestors_of

        table = self._load(name)
        if table is None:
            return None
        for snap in ancestors_of(table.current_snapshot(), table.metadata):
            summary = snap.summary.additional_properties if snap.summary else {}
            if summary.get("odg.batch-id") == batch_id:
                return IngestResult(
                    table=str(name),
                    batch_id=batch_id,
                    source=summary.get("odg.source", ""),
                    format=summary.get("odg.format", ""),
                    mode="append" if snap.summary and snap.summary.operation.value == "append" else "overwrite",
                    rows=int(summary.get("added-records", "0")),
                    snapshot_id=snap.snapshot_id,
                    created_table=False,
                    schema_changes=[],
                    skipped=True,
                )
        return None

    def _record_batch(self, result: IngestResult, when: datetime) -> None:
        table = _batches_table()
        state = self._wb.state
        state.ensure(table)
        with state.begin() as conn:
            conn.execute(
                table.insert().values(
                    batch_id=result.batch_id,
                    table_name=result.table,
                    source=result.source,
                    format=result.format,
                    mode=result.mode,
                    rows=result.rows,
                    snapshot_id=result.snapshot_id,
                    actor=self.user,
                    ingested_at=when,
                    duration_s=result.duration_s,
                )
            )

    def batches(self, table: str | None = None) -> list[dict[str, Any]]:
        """Ingest batches recorded in the state database, newest first."""
        import sqlalchemy as sa

        tbl = _batches_table()
        state = self._wb.state
        state.ensure(tbl)
        query = sa.select(tbl).order_by(tbl.c.ingested_at.desc())
        if table is not None:
            query = query.where(tbl.c.table_name == str(TableName.parse(table, default_layer=Layer.BRONZE)))
        with state.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**dict(r), "ingested_at": _iso_utc(r["ingested_at"])} for r in rows]

    # -- SQL -----------------------------------------------------------------------------

    @property
    def duck(self) -> DuckDB:
        if self._duck is None:
            props = self.config.catalog_properties()
            s3 = {k: v for k, v in props.items() if k.startswith("s3.")}
            if props.get("warehouse", "").startswith("s3://") and not s3:
                s3 = {"s3.region": props.get("s3.region", "")}
            self._duck = DuckDB(
                self._wb.root,
                memory_limit=str(self.config.get("duckdb.memory_limit")),
                threads=int(self.config.get("duckdb.threads")),
                s3=s3,
            )
        return self._duck

    def _scan_target(self, name: TableName, as_of: AsOf | dict[str, AsOf] | None) -> ScanTarget:
        table = self.table(name).iceberg
        wanted = as_of.get(str(name)) if isinstance(as_of, dict) else as_of
        snap = resolve_snapshot(table, wanted, name=str(name)) if wanted is not None else table.current_snapshot()
        if snap is None:
            from pyiceberg.io.pyarrow import schema_to_pyarrow

            return ScanTarget(
                table.metadata_location, None, schema_to_pyarrow(table.schema(), include_field_ids=False).empty_table()
            )
        return ScanTarget(table.metadata_location, snap.snapshot_id if wanted is not None else None)

    def _prepare(self, query: str, as_of: AsOf | dict[str, AsOf] | None) -> tuple[duckdb.DuckDBPyConnection, str]:
        sql, empties, _ = rewrite(query, lambda name: self._scan_target(name, as_of))
        con = self.duck.connection()
        for placeholder, empty in empties.items():
            con.register(placeholder, empty)
        return con, sql

    def sql(self, query: str, *, as_of: AsOf | dict[str, AsOf] | None = None) -> duckdb.DuckDBPyRelation:
        """Run DuckDB SQL where lakehouse tables are named ``layer.name``.

        ``as_of`` applies to every table of the query (a tag or snapshot id must exist
        in each), or give a dict ``{"bronze.orders": tag_or_id_or_time}`` per table.
        Returns a lazy DuckDB relation: ``.fetchall()``, ``.pl()``, ``.df()``, ``.arrow()``.
        """
        import duckdb

        con, sql = self._prepare(query, as_of)
        try:
            return con.sql(sql)
        except duckdb.Error as exc:
            raise _query_error(exc, query) from exc

    def ibis_sql(self, query: str, *, as_of: AsOf | dict[str, AsOf] | None = None) -> ibis.Table:
        """Like :meth:`sql`, as an ibis table expression on a DuckDB backend."""
        import ibis

        con, sql = self._prepare(query, as_of)
        backend = ibis.duckdb.from_connection(con)
        try:
            return backend.sql(sql)
        except Exception as exc:
            raise _query_error(exc, query) from exc

    def close(self) -> None:
        if self._duck is not None:
            self._duck.close()
            self._duck = None


def _replace_all(tx: Any, iceberg: Table, data: pa.Table, props: dict[str, str]) -> None:
    """Overwrite every row in one ``overwrite`` snapshot (pyiceberg's own overwrite makes two)."""
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    with tx.update_snapshot(snapshot_properties=props).overwrite() as producer:
        current = iceberg.current_snapshot()
        if current is not None:
            for task in iceberg.scan(snapshot_id=current.snapshot_id).plan_files():
                producer.delete_data_file(task.file)
        if data.num_rows:
            for data_file in _dataframe_to_data_files(
                table_metadata=tx.table_metadata, df=data, io=iceberg.io, write_uuid=producer.commit_uuid
            ):
                producer.append_data_file(data_file)


def _iso_utc(moment: datetime | None) -> str | None:
    """SQLite returns naive datetimes; everything the state DB stores is UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _query_error(exc: Exception, query: str) -> QueryError:
    message = str(exc).strip()
    hint = ""
    if "does not exist" in message and "Table" in message:
        hint = " (lakehouse tables are named layer.name, e.g. bronze.customers)"
    return QueryError(f"query failed: {message}{hint}", query=query)
