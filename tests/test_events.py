"""In-process events: other capabilities learn what the lakehouse changed, and who did it."""

from __future__ import annotations

import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.events import Event


def test_lakehouse_changes_are_published(ws: odg.Workbench) -> None:
    seen: list[Event] = []
    unsubscribe = ws.events.subscribe(seen.append, prefix="lakehouse.")
    results = [ws.ingest(pa.table({"a": [i]}), "t") for i in range(3)]
    table = ws.table("bronze.t")
    table.tag("v1")
    table.rollback(results[1].snapshot_id)
    table.compact()
    table.expire(keep_last=1, older_than_days=0)
    assert [e.type for e in seen] == [
        "lakehouse.ingest",
        "lakehouse.ingest",
        "lakehouse.ingest",
        "lakehouse.tag",
        "lakehouse.rollback",
        "lakehouse.compact",
        "lakehouse.expire",
    ]
    assert all(e.actor == "tester" and e.resource == "bronze.t" for e in seen)
    assert seen[0].payload["batch_id"] == results[0].batch_id and seen[0].payload["rows"] == 1
    assert seen[4].payload["to_snapshot_id"] == results[1].snapshot_id
    assert sorted(seen[6].payload["expired_snapshot_ids"]) == sorted(r.snapshot_id for r in results[:2])
    unsubscribe()
    ws.ingest(pa.table({"a": [3]}), "t")
    assert len(seen) == 7


def test_compaction_event(ws: odg.Workbench) -> None:
    for i in range(3):
        ws.ingest(pa.table({"a": [i]}), "t")
    seen: list[Event] = []
    ws.events.subscribe(seen.append, prefix="lakehouse.compact")
    report = ws.table("bronze.t").compact()
    assert [e.payload["snapshot_id"] for e in seen] == [report.snapshot_id]


def test_a_failing_subscriber_is_not_silent(ws: odg.Workbench) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("audit sink down")

    ws.events.subscribe(broken)
    with pytest.raises(RuntimeError, match="audit sink down"):
        ws.ingest(pa.table({"a": [1]}), "t")


def test_payloads_that_are_not_plain_json_are_recorded_as_plain_values(ws: odg.Workbench) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    import numpy as np

    ws.publish("test.values", "bronze.x", n=np.int64(3), when=datetime(2026, 1, 2, tzinfo=UTC), amount=Decimal("1.50"))
    (record,) = ws.audit.records(type_prefix="test.")
    assert record.payload == {"n": 3, "when": "2026-01-02T00:00:00+00:00", "amount": "1.50"}
    assert ws.audit.verify().ok
