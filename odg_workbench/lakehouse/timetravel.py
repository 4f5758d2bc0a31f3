"""Time travel: turn "as of" (a snapshot id, a tag, or a point in time) into a snapshot.

``as_of`` accepts

* an ``int``: a snapshot id;
* a ``datetime`` (naive means local time, like git) or an ISO-8601 string
  (``2026-11-29T10:00:00Z``, ``2026-11-29``): the snapshot that was current at that
  moment, following the table's history, so rollbacks are respected;
* any other string: a tag (or branch) name; a string of digits is a snapshot id when the
  table has such a snapshot, else a tag of that name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from odg_workbench.errors import SnapshotNotFoundError

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

__all__ = ["AsOf", "parse_timestamp", "resolve_snapshot"]

AsOf = int | str | datetime | date


def parse_timestamp(text: str) -> datetime | None:
    """An ISO-8601 date or date-time, or ``None`` when ``text`` is not one."""
    candidate = text.strip()
    if not candidate or candidate.isdigit():
        return None
    try:
        return datetime.fromisoformat(candidate.replace("z", "Z"))
    except ValueError:
        return None


def _ms(moment: datetime | date) -> int:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return int(moment.timestamp() * 1000)


def resolve_snapshot(table: Table, as_of: AsOf, *, name: str = "") -> Snapshot:
    """The snapshot of ``table`` that ``as_of`` designates (see module docs)."""
    label = name or ".".join(table.name()[-2:])
    if isinstance(as_of, bool):
        raise SnapshotNotFoundError(f"{label}: as_of must be a snapshot id, tag or timestamp, found {as_of!r}")
    if isinstance(as_of, int):
        return _by_id(table, as_of, label)
    if isinstance(as_of, (datetime, date)):
        return _by_time(table, as_of, label)
    text = str(as_of).strip()
    if text.isdigit():
        snap = table.snapshot_by_id(int(text))
        if snap is not None:
            return snap
        ref = table.snapshot_by_name(text)
        if ref is not None:
            return ref
        return _by_id(table, int(text), label)
    ref = table.snapshot_by_name(text)
    if ref is not None:
        return ref
    moment = parse_timestamp(text)
    if moment is not None:
        return _by_time(table, moment, label)
    tags = sorted(table.metadata.refs)
    raise SnapshotNotFoundError(
        f"{label}: {text!r} is neither a tag of the table nor a timestamp; "
        + (f"tags and branches: {', '.join(tags)}" if tags else "the table has no tags"),
        table=label,
        found=text,
        expected=tags,
    )


def _by_id(table: Table, snapshot_id: int, label: str) -> Snapshot:
    snap = table.snapshot_by_id(snapshot_id)
    if snap is None:
        recent = [s.snapshot_id for s in sorted(table.snapshots(), key=lambda s: -s.timestamp_ms)[:5]]
        raise SnapshotNotFoundError(
            f"{label}: no snapshot {snapshot_id}"
            + (
                f"; most recent: {', '.join(map(str, recent))} (odg snapshots {label})"
                if recent
                else "; the table has no snapshots"
            ),
            table=label,
            found=snapshot_id,
            expected=recent,
        )
    return snap


def _by_time(table: Table, moment: datetime | date, label: str) -> Snapshot:
    ms = _ms(moment)
    snap = table.snapshot_as_of_timestamp(ms)
    if snap is None:
        history = table.history()
        first = min((h.timestamp_ms for h in history), default=None)
        when = datetime.fromtimestamp(first / 1000).astimezone().isoformat() if first is not None else None
        raise SnapshotNotFoundError(
            f"{label}: no snapshot at or before {moment.isoformat()}"
            + (f"; the first snapshot is from {when}" if when else "; the table has no snapshots"),
            table=label,
            found=moment.isoformat(),
            expected=when,
        )
    return snap
