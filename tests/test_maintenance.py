"""Compaction of small files, snapshot retention and removal of unneeded files."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import odg_workbench as odg
from tests.conftest import IcebergReader


def _local(path: str) -> Path:
    return Path(path.removeprefix("file://"))


@pytest.fixture
def fragmented(ws: odg.Workbench) -> odg.Workbench:
    """A table built from 12 small appends (one data file each)."""
    for i in range(12):
        ws.ingest(pa.table({"id": list(range(i * 100, i * 100 + 100)), "part": [i] * 100}), "events")
    return ws


def test_compaction_rewrites_small_files_into_one(fragmented: odg.Workbench, iceberg_reader: IcebergReader) -> None:
    table = fragmented.table("bronze.events")
    before_rows = sorted(table.to_arrow(columns=["id"]).column("id").to_pylist())
    before_snapshot = table.current_snapshot_id
    report = table.compact()
    assert (report.files_before, report.files_after) == (12, 1)
    assert report.rewritten_files == 12 and report.added_files == 1
    assert report.rows == 1200
    assert report.target_file_size_bytes == 512 * 1024 * 1024
    table.refresh()
    assert len(table.files()) == 1
    assert table.snapshot().operation == "replace"
    assert table.snapshot().summary["odg.operation"] == "compact"
    assert sorted(table.to_arrow(columns=["id"]).column("id").to_pylist()) == before_rows
    assert table.count(as_of=before_snapshot) == 1200  # time travel before the compaction still works
    assert len(table.files(as_of=before_snapshot)) == 12
    assert iceberg_reader.count(table.metadata_location) == 1200
    assert fragmented.tables()[0].data_files == 1


def test_compaction_respects_the_target_size(fragmented: odg.Workbench) -> None:
    table = fragmented.table("bronze.events")
    file_size = table.files()[0]["size_bytes"]
    target_mb = (file_size * 4.5) / (1024 * 1024)  # room for four files per bin
    report = table.compact(target_file_size_mb=target_mb)
    assert report.files_before == 12
    assert report.files_after == 3
    assert table.count() == 1200


def test_nothing_to_compact_makes_no_snapshot(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"a": [1, 2]}), "t")
    table = ws.table("bronze.t")
    report = table.compact()
    assert report.snapshot_id is None and report.files_before == report.files_after == 1
    assert len(table.snapshots()) == 1
    assert not table.needs_compaction()


def test_needs_compaction(fragmented: odg.Workbench) -> None:
    table = fragmented.table("bronze.events")
    assert table.needs_compaction()
    table.compact()
    assert not table.refresh().needs_compaction()


def test_compaction_progress_is_reported(fragmented: odg.Workbench) -> None:
    table = fragmented.table("bronze.events")
    seen: list[tuple[int, int]] = []
    table.compact(
        target_file_size_mb=table.files()[0]["size_bytes"] * 2.5 / 2**20, progress=lambda d, t: seen.append((d, t))
    )
    assert seen and seen[-1][0] == seen[-1][1] and len(seen) == seen[-1][1] > 1


def test_compaction_after_overwrite_and_schema_change(ws: odg.Workbench) -> None:
    for i in range(3):
        ws.ingest(pa.table({"a": [i]}), "t")
    ws.ingest(pa.table({"a": [10], "b": ["x"]}), "t")
    ws.table("bronze.t").compact()
    rows = sorted(ws.table("bronze.t").to_arrow(columns=["a", "b"]).to_pylist(), key=lambda r: r["a"])
    assert rows == [{"a": 0, "b": None}, {"a": 1, "b": None}, {"a": 2, "b": None}, {"a": 10, "b": "x"}]


# -- retention ---------------------------------------------------------------------------


@pytest.fixture
def overwritten(ws: odg.Workbench) -> odg.Workbench:
    """Five overwrites: each snapshot has its own data file, older ones unreachable from the current."""
    for i in range(5):
        ws.ingest(pa.table({"v": [i] * 10}), "t", mode="overwrite")
    return ws


def test_expire_removes_old_snapshots_and_their_files(
    overwritten: odg.Workbench, iceberg_reader: IcebergReader
) -> None:
    table = overwritten.table("bronze.t")
    snaps = table.snapshots()
    all_files = {f["path"] for s in snaps for f in table.files(as_of=s.snapshot_id)}
    assert len(all_files) == 5
    table.tag("audit-2026", snaps[1].snapshot_id)
    report = table.expire(keep_last=2, older_than_days=0)
    kept = {snaps[1].snapshot_id, snaps[3].snapshot_id, snaps[4].snapshot_id}
    assert set(report.expired_snapshot_ids) == {snaps[0].snapshot_id, snaps[2].snapshot_id}
    assert report.kept_reasons["tagged"] == [snaps[1].snapshot_id]
    assert {s.snapshot_id for s in table.refresh().snapshots()} == kept
    remaining = {f["path"] for s in table.snapshots() for f in table.files(as_of=s.snapshot_id)}
    for path in all_files - remaining:
        assert not _local(path).exists(), f"{path} should have been deleted"
    for path in remaining:
        assert _local(path).exists()
    assert report.files_deleted >= 2 and report.bytes_deleted > 0
    assert table.to_arrow().column("v").to_pylist() == [4] * 10
    assert table.count(as_of="audit-2026") == 10
    assert iceberg_reader.count(table.metadata_location) == 10


def test_expire_default_policy_keeps_young_snapshots(overwritten: odg.Workbench) -> None:
    table = overwritten.table("bronze.t")
    report = table.expire()  # keep 30 most recent and everything younger than 90 days
    assert report.expired_snapshot_ids == []
    later = table.expire(keep_last=2, now=datetime.now(UTC) + timedelta(days=91))
    assert len(later.expired_snapshot_ids) == 3
    assert len(table.refresh().snapshots()) == 2


def test_expire_dry_run_changes_nothing(overwritten: odg.Workbench) -> None:
    table = overwritten.table("bronze.t")
    report = table.expire(keep_last=1, older_than_days=0, dry_run=True)
    assert len(report.expired_snapshot_ids) == 4 and report.dry_run
    assert len(table.refresh().snapshots()) == 5
    assert all(_local(p).exists() for p in report.deleted_paths)


def test_orphan_files_older_than_the_grace_period_are_removed(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"a": [1]}), "t")
    table = ws.table("bronze.t")
    data_dir = _local(table.files()[0]["path"]).parent
    old, young = data_dir / "00000-failed-write.parquet", data_dir / "00001-in-flight.parquet"
    old.write_bytes(b"x" * 100)
    young.write_bytes(b"y" * 100)
    two_days_ago = time.time() - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    report = table.expire()
    assert report.orphan_files_deleted == 1
    assert not old.exists() and young.exists()
    assert table.count() == 1
