"""Plain result records returned by lakehouse operations (JSON-ready via ``to_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "CompactionReport",
    "ExpireReport",
    "IngestResult",
    "RollbackResult",
    "SnapshotInfo",
    "TableInfo",
]


def iso_ms(ms: int | None) -> str | None:
    """Epoch milliseconds as an ISO-8601 UTC string."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Record:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True)
class TableInfo(_Record):
    """A table at a glance, from its current metadata (no data is read)."""

    table: str
    layer: str
    metadata_location: str
    rows: int
    current_snapshot_id: int | None
    snapshots: int
    data_files: int
    size_bytes: int
    last_updated: str | None


@dataclass(frozen=True)
class SnapshotInfo(_Record):
    """One snapshot: what operation made it, when, and what it holds."""

    snapshot_id: int
    parent_id: int | None
    timestamp: str
    timestamp_ms: int
    operation: str
    tags: list[str]
    branches: list[str]
    is_current: bool
    schema_id: int | None
    added_rows: int
    deleted_rows: int
    total_rows: int
    total_data_files: int
    summary: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestResult(_Record):
    """What an ingest wrote."""

    table: str
    batch_id: str
    source: str
    format: str
    mode: str
    rows: int
    snapshot_id: int | None
    created_table: bool
    schema_changes: list[dict[str, Any]]
    skipped: bool = False
    duration_s: float = 0.0


@dataclass(frozen=True)
class RollbackResult(_Record):
    table: str
    from_snapshot_id: int | None
    to_snapshot_id: int
    changed: bool


@dataclass(frozen=True)
class CompactionReport(_Record):
    """Files before and after a compaction, and what was rewritten."""

    table: str
    files_before: int
    files_after: int
    rows: int
    bytes_before: int
    bytes_after: int
    rewritten_files: int
    added_files: int
    target_file_size_bytes: int
    snapshot_id: int | None
    duration_s: float


@dataclass(frozen=True)
class ExpireReport(_Record):
    """Snapshots expired and files removed by retention."""

    table: str
    dry_run: bool
    snapshots_before: int
    snapshots_after: int
    expired_snapshot_ids: list[int]
    kept_reasons: dict[str, list[int]]
    files_deleted: int
    bytes_deleted: int
    orphan_files_deleted: int
    deleted_paths: list[str]
    duration_s: float
