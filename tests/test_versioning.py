"""Snapshots, time travel by id / tag / timestamp, tags and rollback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

import odg_workbench as odg


@pytest.fixture
def history(ws: odg.Workbench) -> tuple[odg.Workbench, list[int], list[datetime]]:
    """Three appends of 1, 2 and 3 rows, with a moment recorded after each."""
    ids, moments = [], []
    for n in (1, 2, 3):
        ws.ingest(pa.table({"batch": [n] * n}), "t")
        ids.append(ws.table("bronze.t").current_snapshot_id)
        time.sleep(0.02)
        moments.append(datetime.now(UTC))
        time.sleep(0.02)
    return ws, ids, moments


def test_snapshots_list(history: tuple[odg.Workbench, list[int], list[datetime]]) -> None:
    ws, ids, _ = history
    snaps = ws.table("bronze.t").snapshots()
    assert [s.snapshot_id for s in snaps] == ids
    assert [s.added_rows for s in snaps] == [1, 2, 3]
    assert [s.total_rows for s in snaps] == [1, 3, 6]
    assert [s.is_current for s in snaps] == [False, False, True]
    assert snaps[1].parent_id == ids[0]
    assert all(s.operation == "append" for s in snaps)


def test_time_travel_by_id_tag_and_timestamp(history: tuple[odg.Workbench, list[int], list[datetime]]) -> None:
    ws, ids, moments = history
    t = ws.table("bronze.t")
    assert t.count(as_of=ids[0]) == 1
    assert t.count(as_of=str(ids[1])) == 3
    t.tag("month-end", ids[1])
    assert t.count(as_of="month-end") == 3
    assert t.to_arrow(as_of="month-end").num_rows == 3
    assert t.count(as_of=moments[0]) == 1
    assert t.count(as_of=moments[1].isoformat()) == 3
    assert t.count(as_of=moments[2].isoformat().replace("+00:00", "Z")) == 6
    assert ws.sql("SELECT count(*) FROM bronze.t", as_of="month-end").fetchone() == (3,)
    assert ws.sql("SELECT count(*) FROM bronze.t", as_of={"bronze.t": ids[0]}).fetchone() == (1,)


def test_time_travel_uses_the_schema_of_the_snapshot(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"a": [1]}), "t")
    first = ws.table("bronze.t").current_snapshot_id
    ws.ingest(pa.table({"a": [2], "b": ["new"]}), "t")
    old = ws.table("bronze.t").to_arrow(as_of=first)
    assert "b" not in old.column_names
    assert "b" not in ws.sql("SELECT * FROM bronze.t", as_of=first).columns


def test_unknown_as_of_values(history: tuple[odg.Workbench, list[int], list[datetime]]) -> None:
    ws, ids, _ = history
    t = ws.table("bronze.t")
    with pytest.raises(odg.SnapshotNotFoundError, match=str(ids[-1])) as err:
        t.count(as_of=12345)
    assert err.value.details["expected"][0] == ids[-1]
    with pytest.raises(odg.SnapshotNotFoundError, match="neither a tag"):
        t.count(as_of="no-such-tag")
    with pytest.raises(odg.SnapshotNotFoundError, match="first snapshot is from"):
        t.count(as_of=datetime.now(UTC) - timedelta(days=365))


def test_tags(history: tuple[odg.Workbench, list[int], list[datetime]]) -> None:
    ws, ids, _ = history
    t = ws.table("bronze.t")
    info = t.tag("v1", ids[0])
    assert info.snapshot_id == ids[0] and info.tags == ["v1"]
    with pytest.raises(odg.TagExistsError, match=str(ids[0])):
        t.tag("v1", ids[1])
    t.tag("v1", ids[1], replace=True)
    assert t.tags() == {"v1": ids[1]}
    t.tag("latest")
    assert t.tags()["latest"] == ids[2]
    t.untag("latest")
    assert "latest" not in t.tags()
    with pytest.raises(odg.SnapshotNotFoundError):
        t.untag("latest")
    with pytest.raises(odg.TagExistsError):
        t.tag("main")


def test_rollback_and_roll_forward(history: tuple[odg.Workbench, list[int], list[datetime]]) -> None:
    ws, ids, _ = history
    t = ws.table("bronze.t")
    t.tag("good", ids[0])
    result = t.rollback("good")
    assert result.changed and result.from_snapshot_id == ids[2] and result.to_snapshot_id == ids[0]
    assert ws.table("bronze.t").count() == 1
    assert ws.sql("SELECT count(*) FROM bronze.t").fetchone() == (1,)
    assert t.count(as_of=ids[2]) == 6  # later snapshots stay reachable
    again = t.rollback(ids[2])
    assert again.changed and ws.table("bronze.t").count() == 6
    assert not t.rollback(ids[2]).changed
    history_ids = [h["snapshot_id"] for h in t.history()]
    assert history_ids == [ids[0], ids[1], ids[2], ids[0], ids[2]]


def test_ingest_after_rollback_branches_from_the_restored_snapshot(
    history: tuple[odg.Workbench, list[int], list[datetime]],
) -> None:
    ws, ids, _ = history
    ws.table("bronze.t").rollback(ids[0])
    ws.ingest(pa.table({"batch": [9]}), "t")
    t = ws.table("bronze.t")
    assert sorted(t.to_arrow().column("batch").to_pylist()) == [1, 9]
    assert t.snapshot().parent_id == ids[0]
