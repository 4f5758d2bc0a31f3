"""One lakehouse table: reads in every format, snapshots, tags, rollback, maintenance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import SnapshotNotFoundError, TagExistsError
from odg_workbench.lakehouse import maintenance
from odg_workbench.lakehouse.evolution import schema_history
from odg_workbench.lakehouse.names import TableName
from odg_workbench.lakehouse.results import (
    CompactionReport,
    ExpireReport,
    RollbackResult,
    SnapshotInfo,
    TableInfo,
    iso_ms,
)
from odg_workbench.lakehouse.timetravel import AsOf, resolve_snapshot

if TYPE_CHECKING:
    import duckdb
    import ibis
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    from pyiceberg.table import DataScan, Table
    from pyiceberg.table.snapshots import Snapshot

    from odg_workbench.lakehouse.lakehouse import Lakehouse

__all__ = ["LakeTable"]


class LakeTable:
    """A handle on one Iceberg table of the lakehouse.

    Reads take ``as_of`` (snapshot id, tag, or timestamp; see
    :mod:`odg_workbench.lakehouse.timetravel`) and default to the current snapshot.
    """

    def __init__(self, lakehouse: Lakehouse, name: TableName, iceberg: Table) -> None:
        self._lakehouse = lakehouse
        self.name = name
        self.iceberg = iceberg

    def __repr__(self) -> str:
        return f"LakeTable({str(self.name)!r}, snapshot={self.current_snapshot_id})"

    def refresh(self) -> LakeTable:
        self.iceberg.refresh()
        return self

    # -- metadata ----------------------------------------------------------------------

    @property
    def metadata_location(self) -> str:
        return str(self.iceberg.metadata_location)

    @property
    def current_snapshot_id(self) -> int | None:
        snap = self.iceberg.current_snapshot()
        return snap.snapshot_id if snap else None

    @property
    def schema(self) -> pa.Schema:
        """The current schema as Arrow."""
        from pyiceberg.io.pyarrow import schema_to_pyarrow

        return schema_to_pyarrow(self.iceberg.schema(), include_field_ids=False)

    def info(self) -> TableInfo:
        md = self.iceberg.metadata
        snap = self.iceberg.current_snapshot()
        summary = snap.summary if snap is not None and snap.summary is not None else None
        return TableInfo(
            table=str(self.name),
            layer=self.name.layer.value,
            metadata_location=self.metadata_location,
            rows=maintenance._live_rows(self.iceberg),
            current_snapshot_id=snap.snapshot_id if snap else None,
            snapshots=len(md.snapshots),
            data_files=int(summary.get("total-data-files", "0")) if summary else 0,
            size_bytes=int(summary.get("total-files-size", "0")) if summary else 0,
            last_updated=iso_ms(md.last_updated_ms),
        )

    def _snapshot_info(self, snap: Snapshot, refs: dict[int, tuple[list[str], list[str]]]) -> SnapshotInfo:
        summary = dict(snap.summary.additional_properties) if snap.summary else {}
        tags, branches = refs.get(snap.snapshot_id, ([], []))
        return SnapshotInfo(
            snapshot_id=snap.snapshot_id,
            parent_id=snap.parent_snapshot_id,
            timestamp=iso_ms(snap.timestamp_ms) or "",
            timestamp_ms=snap.timestamp_ms,
            operation=snap.summary.operation.value if snap.summary else "unknown",
            tags=tags,
            branches=branches,
            is_current=snap.snapshot_id == self.current_snapshot_id,
            schema_id=snap.schema_id,
            added_rows=int(summary.get("added-records", "0")),
            deleted_rows=int(summary.get("deleted-records", "0")),
            total_rows=int(summary.get("total-records", "0")),
            total_data_files=int(summary.get("total-data-files", "0")),
            summary=summary,
        )

    def _refs_by_snapshot(self) -> dict[int, tuple[list[str], list[str]]]:
        from pyiceberg.table.refs import SnapshotRefType

        out: dict[int, tuple[list[str], list[str]]] = {}
        for ref_name, ref in sorted(self.iceberg.metadata.refs.items()):
            tags, branches = out.setdefault(ref.snapshot_id, ([], []))
            (tags if ref.snapshot_ref_type == SnapshotRefType.TAG else branches).append(ref_name)
        return out

    def snapshots(self) -> list[SnapshotInfo]:
        """Every snapshot, oldest first, with operation, tags and row counts."""
        refs = self._refs_by_snapshot()
        return [self._snapshot_info(s, refs) for s in sorted(self.iceberg.snapshots(), key=lambda s: s.timestamp_ms)]

    def snapshot(self, as_of: AsOf | None = None) -> SnapshotInfo:
        """The snapshot ``as_of`` designates (the current one by default)."""
        snap = self._resolve(as_of)
        if snap is None:
            raise SnapshotNotFoundError(f"{self.name}: the table has no snapshots yet", table=str(self.name))
        return self._snapshot_info(snap, self._refs_by_snapshot())

    def _resolve(self, as_of: AsOf | None) -> Snapshot | None:
        if as_of is None:
            return self.iceberg.current_snapshot()
        return resolve_snapshot(self.iceberg, as_of, name=str(self.name))

    def history(self) -> list[dict[str, Any]]:
        """When each snapshot became current (rollbacks show as a return to an older id)."""
        return [
            {"snapshot_id": h.snapshot_id, "timestamp": iso_ms(h.timestamp_ms), "timestamp_ms": h.timestamp_ms}
            for h in self.iceberg.history()
        ]

    def schema_history(self) -> list[dict[str, Any]]:
        """Every schema version with the changes from the previous one and when it was first used."""
        return schema_history(self.iceberg)

    def tags(self) -> dict[str, int]:
        from pyiceberg.table.refs import SnapshotRefType

        return {
            name: ref.snapshot_id
            for name, ref in sorted(self.iceberg.metadata.refs.items())
            if ref.snapshot_ref_type == SnapshotRefType.TAG
        }

    def files(self, as_of: AsOf | None = None) -> list[dict[str, Any]]:
        """The data files of a snapshot: path, rows, bytes."""
        snap = self._resolve(as_of)
        if snap is None:
            return []
        return [
            {
                "path": t.file.file_path,
                "rows": t.file.record_count,
                "size_bytes": t.file.file_size_in_bytes,
                "delete_files": len(t.delete_files),
            }
            for t in self.iceberg.scan(snapshot_id=snap.snapshot_id).plan_files()
        ]

    # -- reads -------------------------------------------------------------------------

    def scan(
        self,
        as_of: AsOf | None = None,
        *,
        columns: Sequence[str] | None = None,
        where: str | None = None,
        limit: int | None = None,
    ) -> DataScan:
        """A pyiceberg scan; ``where`` uses pyiceberg's filter syntax (``"amount > 10"``)."""
        from pyiceberg.expressions import AlwaysTrue

        snap = self._resolve(as_of)
        return self.iceberg.scan(
            row_filter=where or AlwaysTrue(),
            selected_fields=tuple(columns) if columns else ("*",),
            snapshot_id=snap.snapshot_id if snap is not None and as_of is not None else None,
            limit=limit,
        )

    def to_arrow(
        self,
        as_of: AsOf | None = None,
        *,
        columns: Sequence[str] | None = None,
        where: str | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        return self.scan(as_of, columns=columns, where=where, limit=limit).to_arrow()

    def to_polars(self, as_of: AsOf | None = None, **kwargs: Any) -> pl.DataFrame:
        import polars as pl

        frame = pl.from_arrow(self.to_arrow(as_of, **kwargs))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def to_pandas(self, as_of: AsOf | None = None, **kwargs: Any) -> pd.DataFrame:
        return self.to_arrow(as_of, **kwargs).to_pandas()

    def to_duckdb(self, as_of: AsOf | None = None) -> duckdb.DuckDBPyRelation:
        """A lazy DuckDB relation over the table (read by DuckDB's iceberg extension)."""
        return self._lakehouse.sql(f"SELECT * FROM {self.name}", as_of=as_of)

    def to_ibis(self, as_of: AsOf | None = None) -> ibis.Table:
        """An ibis table expression (DuckDB backend) over the table."""
        return self._lakehouse.ibis_sql(f"SELECT * FROM {self.name}", as_of=as_of)

    def count(self, as_of: AsOf | None = None) -> int:
        row = self.to_duckdb(as_of).aggregate("count(*)").fetchone()
        return int(row[0]) if row else 0

    # -- versioning --------------------------------------------------------------------

    def tag(self, tag: str, snapshot: AsOf | None = None, *, replace: bool = False) -> SnapshotInfo:
        """Name a snapshot (default: the current one). Tagged snapshots survive retention."""
        tag = tag.strip()
        if not tag or tag == "main":
            raise TagExistsError(f"{self.name}: {tag!r} cannot be a tag name", table=str(self.name), found=tag)
        snap = self._resolve(snapshot)
        if snap is None:
            raise SnapshotNotFoundError(f"{self.name}: the table has no snapshot to tag", table=str(self.name))
        existing = self.iceberg.metadata.refs.get(tag)
        if existing is not None and not replace:
            raise TagExistsError(
                f"{self.name}: tag {tag!r} already names snapshot {existing.snapshot_id}; "
                "pass replace=True (--force) to move it",
                table=str(self.name),
                tag=tag,
                snapshot_id=existing.snapshot_id,
            )
        manage = self.iceberg.manage_snapshots()
        if existing is not None:
            manage = manage.remove_tag(tag)
        manage.create_tag(snapshot_id=snap.snapshot_id, tag_name=tag).commit()
        self._lakehouse._published("lakehouse.tag", self.name, tag=tag, snapshot_id=snap.snapshot_id)
        return self.snapshot(snap.snapshot_id)

    def untag(self, tag: str) -> None:
        if tag not in self.tags():
            raise SnapshotNotFoundError(f"{self.name}: no tag {tag!r}", table=str(self.name), found=tag)
        self.iceberg.manage_snapshots().remove_tag(tag).commit()
        self._lakehouse._published("lakehouse.untag", self.name, tag=tag)

    def rollback(self, to: AsOf) -> RollbackResult:
        """Make an earlier snapshot (id, tag or timestamp) current again; later ones stay for time travel."""
        target = self._resolve(to)
        assert target is not None
        before = self.current_snapshot_id
        if before == target.snapshot_id:
            return RollbackResult(str(self.name), before, target.snapshot_id, changed=False)
        self.iceberg.manage_snapshots().set_current_snapshot(snapshot_id=target.snapshot_id).commit()
        self._lakehouse._published(
            "lakehouse.rollback", self.name, from_snapshot_id=before, to_snapshot_id=target.snapshot_id
        )
        return RollbackResult(str(self.name), before, target.snapshot_id, changed=True)

    # -- maintenance -------------------------------------------------------------------

    def compact(
        self,
        *,
        target_file_size_mb: float | None = None,
        min_input_files: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> CompactionReport:
        """Rewrite small files into files of about the target size in one ``replace`` snapshot."""
        cfg = self._lakehouse.config
        target_mb = (
            target_file_size_mb
            if target_file_size_mb is not None
            else cfg.get("lakehouse.compaction_target_file_size_mb")
        )
        report = maintenance.compact(
            self.iceberg,
            name=str(self.name),
            target_bytes=int(float(target_mb) * 1024 * 1024),
            min_input_files=min_input_files or cfg.get("lakehouse.compaction_min_input_files"),
            snapshot_properties={"odg.actor": self._lakehouse.user},
            progress=progress,
        )
        if report.snapshot_id is not None:
            self._lakehouse._published("lakehouse.compact", self.name, **report.to_dict())
        return report

    def needs_compaction(self, target_file_size_mb: float | None = None) -> bool:
        cfg = self._lakehouse.config
        target_mb = target_file_size_mb or cfg.get("lakehouse.compaction_target_file_size_mb")
        return maintenance.needs_compaction(
            self.iceberg, int(float(target_mb) * 1024 * 1024), cfg.get("lakehouse.compaction_min_input_files")
        )

    def expire(
        self,
        *,
        keep_last: int | None = None,
        older_than_days: float | None = None,
        dry_run: bool = False,
        now: datetime | None = None,
    ) -> ExpireReport:
        """Apply the retention policy (defaults from the workspace settings); see :mod:`.maintenance`.

        ``now`` evaluates the age rules as of another moment (default: the current time).
        """
        cfg = self._lakehouse.config
        report = maintenance.expire(
            self.iceberg,
            name=str(self.name),
            keep_last=keep_last if keep_last is not None else cfg.get("lakehouse.retention_keep_last"),
            max_age_days=older_than_days
            if older_than_days is not None
            else cfg.get("lakehouse.retention_max_age_days"),
            orphan_min_age_hours=cfg.get("lakehouse.orphan_min_age_hours"),
            dry_run=dry_run,
            now=now,
        )
        if not dry_run and (report.expired_snapshot_ids or report.orphan_files_deleted):
            payload = report.to_dict()
            payload.pop("deleted_paths")
            self._lakehouse._published("lakehouse.expire", self.name, **payload)
        return report
