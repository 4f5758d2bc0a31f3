"""Table maintenance: compaction of small files, snapshot retention, orphan-file removal.

Compaction (bin-packing, like Iceberg's ``RewriteDataFiles``)
    Files smaller than 75% of the target size are candidates. Per partition, when at
    least ``min_input_files`` candidates exist, they are packed first-fit-decreasing
    into bins of at most the target size; each bin is read (deletes applied) and
    written back as one file. All bins land in a single ``replace`` snapshot: readers
    see the same rows before and after, and time travel to older snapshots still works.

Retention
    A snapshot is kept when it is among the ``keep_last`` most recent, younger than
    ``max_age_days``, the current snapshot, or referenced by any tag or branch. The
    others are expired, and the files only they reached (manifest lists, manifests,
    data and delete files) are deleted after the commit. Files that no snapshot
    references at all (left by failed writes) are deleted when older than
    ``orphan_min_age_hours``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import CommitConflictError
from odg_workbench.lakehouse.results import CompactionReport, ExpireReport

if TYPE_CHECKING:
    from pyiceberg.manifest import ManifestFile
    from pyiceberg.table import FileScanTask, Table
    from pyiceberg.table.snapshots import Snapshot

__all__ = ["compact", "expire", "needs_compaction", "reachable_files"]

Progress = Callable[[int, int], None]
_MIN_FRACTION = 0.75


@dataclass
class _Bin:
    tasks: list[FileScanTask]
    size: int = 0


def _plan_bins(tasks: list[FileScanTask], target: int, min_input_files: int) -> list[_Bin]:
    groups: dict[tuple[int, Any], list[FileScanTask]] = {}
    for task in tasks:
        small = task.file.file_size_in_bytes < target * _MIN_FRACTION
        if small or task.delete_files:
            key = (task.file.spec_id, repr(task.file.partition))
            groups.setdefault(key, []).append(task)
    bins: list[_Bin] = []
    for group in groups.values():
        has_deletes = any(t.delete_files for t in group)
        if len(group) < min_input_files and not has_deletes:
            continue
        group_bins: list[_Bin] = []
        for task in sorted(group, key=lambda t: -t.file.file_size_in_bytes):
            size = task.file.file_size_in_bytes
            for b in group_bins:
                if b.size + size <= target:
                    b.tasks.append(task)
                    b.size += size
                    break
            else:
                group_bins.append(_Bin([task], size))
        bins.extend(b for b in group_bins if len(b.tasks) > 1 or any(t.delete_files for t in b.tasks))
    return bins


def needs_compaction(table: Table, target_bytes: int, min_input_files: int = 2) -> bool:
    """True when a compaction of ``table`` would rewrite something (for alerts and schedules)."""
    if table.current_snapshot() is None:
        return False
    return bool(_plan_bins(list(table.scan().plan_files()), target_bytes, min_input_files))


def compact(
    table: Table,
    *,
    name: str,
    target_bytes: int,
    min_input_files: int = 2,
    snapshot_properties: dict[str, str] | None = None,
    progress: Progress | None = None,
    attempts: int = 5,
) -> CompactionReport:
    """Rewrite the small files of ``table`` into files of about ``target_bytes`` (see module docs)."""
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    start = time.perf_counter()
    for attempt in range(attempts):
        try:
            return _compact_once(table, name, target_bytes, min_input_files, snapshot_properties or {}, progress, start)
        except (CommitFailedException, ValidationException):
            if attempt == attempts - 1:
                raise CommitConflictError(
                    f"{name}: compaction kept conflicting with concurrent writes after {attempts} attempts; "
                    "the table is unchanged, run it again when writers are idle",
                    table=name,
                ) from None
            time.sleep(0.2 * (2**attempt))
            table.refresh()
    raise AssertionError("unreachable")


def _compact_once(
    table: Table,
    name: str,
    target_bytes: int,
    min_input_files: int,
    snapshot_properties: dict[str, str],
    progress: Progress | None,
    start: float,
) -> CompactionReport:
    import pyarrow as pa
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files
    from pyiceberg.table.refs import MAIN_BRANCH
    from pyiceberg.table.snapshots import Operation

    tasks = list(table.scan().plan_files()) if table.current_snapshot() is not None else []
    bytes_before = sum(t.file.file_size_in_bytes for t in tasks)
    bins = _plan_bins(tasks, target_bytes, min_input_files)
    if not bins:
        if progress:
            progress(0, 0)
        return CompactionReport(
            table=name,
            files_before=len(tasks),
            files_after=len(tasks),
            rows=_live_rows(table),
            bytes_before=bytes_before,
            bytes_after=bytes_before,
            rewritten_files=0,
            added_files=0,
            target_file_size_bytes=target_bytes,
            snapshot_id=None,
            duration_s=round(time.perf_counter() - start, 3),
        )

    metadata = table.metadata
    schema = metadata.schema()
    unpartitioned = metadata.spec().is_unpartitioned()
    counter = itertools.count(0)
    added = 0
    with table.transaction() as tx:
        producer = _replace_producer()(
            operation=Operation.OVERWRITE,
            transaction=tx,
            io=table.io,
            branch=MAIN_BRANCH,
            snapshot_properties={"odg.operation": "compact", **snapshot_properties},
        )
        for done, b in enumerate(bins, start=1):
            scan = ArrowScan(metadata, table.io, schema, AlwaysTrue())
            disk = sum(t.file.file_size_in_bytes for t in b.tasks)
            if unpartitioned:
                batches = scan.to_record_batches(b.tasks)
                data: pa.Table | pa.RecordBatchReader = pa.RecordBatchReader.from_batches(
                    _arrow_schema(schema), batches
                )
                # One output file per bin: the writer's size budget is in Arrow bytes, so give
                # it ample room (a bin is at most the on-disk target already).
                write_target = max(disk * 64, 1 << 20)
            else:
                data = scan.to_table(b.tasks)
                write_target = max(int(data.nbytes * 1.05), 1 << 20)
            md = metadata.model_copy(
                update={"properties": {**metadata.properties, "write.target-file-size-bytes": str(write_target)}}
            )
            for data_file in _dataframe_to_data_files(
                table_metadata=md, df=data, io=table.io, write_uuid=producer.commit_uuid, counter=counter
            ):
                producer.append_data_file(data_file)
                added += 1
            for task in b.tasks:
                producer.delete_data_file(task.file)
            if progress:
                progress(done, len(bins))
        producer.commit()
    table.refresh()
    after = list(table.scan().plan_files())
    snap = table.current_snapshot()
    return CompactionReport(
        table=name,
        files_before=len(tasks),
        files_after=len(after),
        rows=_live_rows(table),
        bytes_before=bytes_before,
        bytes_after=sum(t.file.file_size_in_bytes for t in after),
        rewritten_files=sum(len(b.tasks) for b in bins),
        added_files=added,
        target_file_size_bytes=target_bytes,
        snapshot_id=snap.snapshot_id if snap else None,
        duration_s=round(time.perf_counter() - start, 3),
    )


@functools.cache
def _replace_producer() -> type:
    """pyiceberg's file-overwrite producer, recording the snapshot as ``replace``.

    Iceberg's ``replace`` operation says "files changed, data did not" (readers and
    incremental consumers may skip it). pyiceberg 0.12 computes summaries only for
    append/overwrite/delete, so the summary is computed as an overwrite (the totals are
    the same) and then relabelled.
    """
    from pyiceberg.table.snapshots import Operation, Summary
    from pyiceberg.table.update.snapshot import _OverwriteFiles

    class _ReplaceFiles(_OverwriteFiles):
        def _summary(self, snapshot_properties: dict[str, str] = {}) -> Summary:  # noqa: B006
            summary = super()._summary(snapshot_properties)
            return Summary(Operation.REPLACE, **summary.additional_properties)

    return _ReplaceFiles


def _arrow_schema(schema: Any) -> Any:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    return schema_to_pyarrow(schema, include_field_ids=False)


def _live_rows(table: Table) -> int:
    snap = table.current_snapshot()
    if snap is None or snap.summary is None:
        return 0
    summary = snap.summary
    total = int(summary.get("total-records", "0"))
    if int(summary.get("total-equality-deletes", "0") or 0) > 0:
        return int(table.scan().count())
    return total - int(summary.get("total-position-deletes", "0") or 0)


# -- retention ---------------------------------------------------------------------------


class _Reach:
    """Files reachable from snapshots, reading each manifest once."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._entries: dict[str, dict[str, int]] = {}

    def files(self, snapshot: Snapshot) -> dict[str, int]:
        """Every file ``snapshot`` needs, with its size when known (0 otherwise)."""
        out: dict[str, int] = {snapshot.manifest_list: 0}
        for manifest in snapshot.manifests(self.table.io):
            out[manifest.manifest_path] = manifest.manifest_length
            out.update(self._live_files(manifest))
        return out

    def _live_files(self, manifest: ManifestFile) -> dict[str, int]:
        cached = self._entries.get(manifest.manifest_path)
        if cached is None:
            cached = {
                entry.data_file.file_path: entry.data_file.file_size_in_bytes
                for entry in manifest.fetch_manifest_entry(self.table.io, discard_deleted=True)
            }
            self._entries[manifest.manifest_path] = cached
        return cached


def reachable_files(table: Table, snapshots: Iterable[Snapshot] | None = None) -> dict[str, int]:
    """Paths (and sizes) of every file the given snapshots (default: all) need."""
    reach = _Reach(table)
    out: dict[str, int] = {}
    for snap in snapshots if snapshots is not None else table.snapshots():
        out.update(reach.files(snap))
    for stats in table.metadata.statistics:
        out[stats.statistics_path] = stats.file_size_in_bytes
    return out


def expire(
    table: Table,
    *,
    name: str,
    keep_last: int,
    max_age_days: float,
    orphan_min_age_hours: float,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ExpireReport:
    """Expire snapshots outside the retention policy and delete the files only they needed."""
    start = time.perf_counter()
    now = now or datetime.now(UTC)
    table.refresh()
    snapshots = sorted(table.snapshots(), key=lambda s: s.timestamp_ms, reverse=True)
    current = table.current_snapshot()
    reasons: dict[str, list[int]] = {"current": [], "tagged": [], "recent": [], "young": []}
    if current is not None:
        reasons["current"].append(current.snapshot_id)
    reasons["tagged"] = sorted({ref.snapshot_id for ref in table.metadata.refs.values()} - set(reasons["current"]))
    reasons["recent"] = [s.snapshot_id for s in snapshots[:keep_last]]
    cutoff_ms = int((now - timedelta(days=max_age_days)).timestamp() * 1000)
    reasons["young"] = [s.snapshot_id for s in snapshots if s.timestamp_ms >= cutoff_ms]
    keep = set(itertools.chain.from_iterable(reasons.values()))
    expired = [s for s in snapshots if s.snapshot_id not in keep]

    deleted: dict[str, int] = {}
    if expired:
        reach = _Reach(table)
        kept_files: dict[str, int] = {}
        for snap in snapshots:
            if snap.snapshot_id in keep:
                kept_files.update(reach.files(snap))
        expired_files: dict[str, int] = {}
        for snap in expired:
            expired_files.update(reach.files(snap))
        deleted = {p: s for p, s in expired_files.items() if p not in kept_files}
        if not dry_run:
            table.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in expired]).commit()
            table.refresh()
            # Re-check against what is reachable now: a concurrent commit may reuse files.
            still_needed = reachable_files(table)
            deleted = {p: s for p, s in deleted.items() if p not in still_needed}
            for path in deleted:
                with contextlib.suppress(FileNotFoundError):
                    table.io.delete(path)

    orphans = _orphan_files(table, min_age_hours=orphan_min_age_hours, now=now)
    if not dry_run:
        for path in orphans:
            with contextlib.suppress(FileNotFoundError):
                table.io.delete(path)

    return ExpireReport(
        table=name,
        dry_run=dry_run,
        snapshots_before=len(snapshots),
        snapshots_after=len(snapshots) - len(expired),
        expired_snapshot_ids=[s.snapshot_id for s in expired],
        kept_reasons={k: sorted(set(v)) for k, v in reasons.items()},
        files_deleted=len(deleted),
        bytes_deleted=sum(deleted.values()),
        orphan_files_deleted=len(orphans),
        deleted_paths=sorted(deleted) + sorted(orphans),
        duration_s=round(time.perf_counter() - start, 3),
    )


def _orphan_files(table: Table, *, min_age_hours: float, now: datetime) -> list[str]:
    """Files under the table's location that no snapshot or metadata version references."""
    from pyarrow import fs

    location = table.location()
    try:
        filesystem, root = fs.FileSystem.from_uri(location)
    except Exception:
        return []  # a storage pyarrow cannot list; orphans there are left alone
    referenced = set(reachable_files(table))
    referenced.add(table.metadata_location)
    referenced.update(entry.metadata_file for entry in table.metadata.metadata_log)
    referenced_norm = {_strip_scheme(p) for p in referenced}
    cutoff = now - timedelta(hours=min_age_hours)
    try:
        infos = filesystem.get_file_info(fs.FileSelector(root, recursive=True, allow_not_found=True))
    except OSError:
        return []
    scheme = location.split("://", 1)[0] + "://" if "://" in location else ""
    orphans = []
    for info in infos:
        if info.type != fs.FileType.File:
            continue
        if _strip_scheme(info.path) in referenced_norm:
            continue
        mtime = info.mtime
        if mtime is not None and mtime.replace(tzinfo=mtime.tzinfo or UTC) > cutoff:
            continue
        orphans.append(scheme + info.path if scheme == "file://" else f"{scheme}{info.path}")
    return orphans


def _strip_scheme(path: str) -> str:
    return path.split("://", 1)[1] if "://" in path else path
