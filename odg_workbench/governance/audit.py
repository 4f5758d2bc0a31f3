"""The audit trail: an append-only, SHA-256 hash-chained log of every state change.

Each event has a position (0, 1, 2, ... without gaps), a type (``lakehouse.ingest``), an
actor, a resource, a UTC time, an optional trace id and a JSON payload; its hash chains
it to the event before::

    GENESIS  = "0" * 64
    hash[n]  = sha256(hash[n-1] as its 64 ASCII hex digits + canonical JSON of event n)

The canonical JSON (``json.dumps(event, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`` in UTF-8, over the keys ``actor, payload,
position, resource, time, trace_id, type``), the export format and a verifier that needs
only the standard library are in :mod:`odg_workbench.governance.verify_audit`; a copy of
that one file verifies an export without the workbench. ``docs/audit.md`` has a ten-line
re-implementation.

Storage: one table, ``audit_events`` (position primary key, type, actor, resource, time,
trace_id, payload, hash). ``time`` holds the canonical time string
(``2026-01-02T03:04:05.000006Z``: UTC, microseconds, ``Z``) and ``payload`` the payload's
canonical JSON, so what is hashed is exactly what is stored; :meth:`AuditLog.verify`
rebuilds every event's canonical bytes from these columns and recomputes each hash, the
stored hash is only compared.

Concurrency: appends are serialised by the database, so positions stay contiguous and the
chain never forks, across threads and processes. On SQLite the state store starts every
transaction with ``BEGIN IMMEDIATE`` (one writer at a time); on PostgreSQL an append takes
the transaction-level advisory lock :data:`LOCK_KEY` first; on any other database the
position's primary key turns a race into a conflict (``append`` retries,
``append_many`` raises :class:`~odg_workbench.errors.CommitConflictError`).

Payload values are JSON values (``dict`` with ``str`` keys, ``list``, ``str``, ``int``,
finite ``float``, ``bool``, ``None``). A few common types are converted, deterministically,
before hashing: an aware ``datetime`` to the canonical time string (UTC), ``date`` and
``time`` to ``isoformat()``, ``Decimal`` to ``str``, a path to its POSIX form, ``UUID`` to
``str``, an ``Enum`` to its value, a ``tuple`` to a list. Anything else (sets, bytes,
NumPy scalars, naive datetimes, NaN, infinities, non-string keys) is refused with
:class:`AuditError`, which names where in the payload the value is.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from json.encoder import encode_basestring
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from odg_workbench.errors import CommitConflictError, OdgError
from odg_workbench.governance.verify_audit import (
    GENESIS,
    VerifyResult,
    canonical_event,
    canonical_json,
    canonical_text,
    parse_head,
    verify_lines,
    verify_rows,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odg_workbench.events import Event
    from odg_workbench.state import StateStore

__all__ = [
    "GENESIS",
    "LOCK_KEY",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "ExportResult",
    "VerifyResult",
    "format_time",
]

TABLE = "audit_events"

LOCK_KEY = int.from_bytes(hashlib.sha256(b"odg_workbench.audit_events").digest()[:8], "big", signed=True)
"""The PostgreSQL advisory lock (``pg_advisory_xact_lock``) that serialises appends."""

_READ_BATCH = 50_000  # rows per query when streaming the table (verify, export)
_INSERT_CHUNK = 5_000  # rows per executemany in append_many
_APPEND_RETRIES = 10  # only databases without a lock (neither SQLite nor PostgreSQL) can race


class AuditError(OdgError, ValueError):
    """An audit event that cannot be recorded (a payload value that is not JSON, a naive
    time ...), an unreadable export, or a malformed head."""


def format_time(value: datetime) -> str:
    """The canonical time string of an aware datetime: UTC, microseconds, ``Z``."""
    if value.tzinfo is UTC:  # the common case, a third of the cost
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    if value.tzinfo is None or value.utcoffset() is None:
        raise AuditError(
            f"time {value.isoformat()} has no time zone: pass an aware datetime (e.g. datetime.now(UTC))",
            field="time",
            found=value.isoformat(),
        )
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True)
class AuditRecord:
    """One event of the chain, as stored."""

    position: int
    type: str
    actor: str
    resource: str
    time: datetime
    trace_id: str | None
    payload: dict[str, Any]
    hash: str

    def event(self) -> dict[str, Any]:
        """The seven hashed fields, with ``time`` as its canonical string."""
        return {
            "position": self.position,
            "type": self.type,
            "actor": self.actor,
            "resource": self.resource,
            "time": format_time(self.time),
            "trace_id": self.trace_id,
            "payload": self.payload,
        }

    def canonical(self) -> bytes:
        """The bytes that were hashed (after the previous hash)."""
        return canonical_event(self.event())

    def to_dict(self) -> dict[str, Any]:
        """The event and its hash: one line of an export."""
        return {**self.event(), "hash": self.hash}


@dataclass(frozen=True)
class ExportResult:
    """What :meth:`AuditLog.export` wrote: the file, how many events, the last hash."""

    path: Path
    events: int
    head: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "events": self.events, "head": self.head}


class _Entry(NamedTuple):
    type: str
    actor: str
    resource: str
    time: datetime
    time_text: str
    trace_id: str | None
    payload: dict[str, Any]
    payload_json: str


def _table() -> sa.Table:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if TABLE in md.tables:
        return md.tables[TABLE]
    return sa.Table(
        TABLE,
        md,
        # INTEGER on SQLite makes the position the rowid: scans in position order read the table itself.
        sa.Column(
            "position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False
        ),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("resource", sa.Text, nullable=False, index=True),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("trace_id", sa.Text),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


class AuditLog:
    """The audit trail in a state database.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from odg_workbench.state import StateStore
    >>> log = AuditLog(StateStore("sqlite://"))
    >>> rec = log.append("lakehouse.ingest", "alice", "bronze.orders", {"rows": 3},
    ...                  time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    >>> rec.position, rec.hash[:16]
    (0, '77b2578259ca3827')
    >>> log.verify().ok
    True
    """

    def __init__(self, state: StateStore) -> None:
        self.state = state

    # -- writing -----------------------------------------------------------------------

    def append(
        self,
        type: str,
        actor: str,
        resource: str,
        payload: Mapping[str, Any] | None = None,
        *,
        trace_id: str | None = None,
        time: datetime | None = None,
    ) -> AuditRecord:
        """Append one event (``time`` defaults to now) and return it with its position and hash."""
        entry = _prepare(type, actor, resource, payload, trace_id, time)
        import sqlalchemy as sa

        for attempt in range(_APPEND_RETRIES):
            try:
                return self._append([entry])[0]
            except sa.exc.IntegrityError as exc:
                if attempt == _APPEND_RETRIES - 1:
                    raise _conflict(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def append_many(self, records: Iterable[Mapping[str, Any] | Event]) -> list[AuditRecord]:
        """Append a batch in one transaction: all of it, at consecutive positions, or nothing.

        Each item is a mapping with the arguments of :meth:`append` (``type``, ``actor``,
        ``resource``, and optionally ``payload``, ``trace_id``, ``time``) or an
        :class:`odg_workbench.events.Event`. A bad item anywhere rolls the whole batch back.
        """
        import sqlalchemy as sa

        try:
            return self._append(_prepare_item(item, i) for i, item in enumerate(records))
        except sa.exc.IntegrityError as exc:
            raise _conflict(exc) from exc

    def _append(self, entries: Iterable[_Entry]) -> list[AuditRecord]:
        import sqlalchemy as sa

        table = self._ensure()
        out: list[AuditRecord] = []
        sha = hashlib.sha256
        with self.state.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
            last = conn.execute(
                sa.select(table.c.position, table.c.hash).order_by(table.c.position.desc()).limit(1)
            ).first()
            position, prev = (int(last[0]) + 1, str(last[1])) if last is not None else (0, GENESIS)
            insert = _inserter(conn, table)
            rows: list[tuple[Any, ...]] = []
            for e in entries:
                text = canonical_text(position, e.type, e.actor, e.resource, e.time_text, e.trace_id, e.payload_json)
                digest = sha((prev + text).encode("utf-8")).hexdigest()
                rows.append((position, e.type, e.actor, e.resource, e.time_text, e.trace_id, e.payload_json, digest))
                out.append(AuditRecord(position, e.type, e.actor, e.resource, e.time, e.trace_id, e.payload, digest))
                prev = digest
                position += 1
                if len(rows) >= _INSERT_CHUNK:
                    insert(rows)
                    rows = []
            if rows:
                insert(rows)
        return out

    # -- reading -----------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """``(position, hash)`` of the last event; ``(-1, GENESIS)`` when the log is empty.

        Publish ``f"{position}:{hash}"`` somewhere else to detect a truncated log later
        (``verify(expected_head=...)``, ``odg audit verify --head``).
        """
        import sqlalchemy as sa

        table = self._ensure()
        with self.state.begin() as conn:
            last = conn.execute(
                sa.select(table.c.position, table.c.hash).order_by(table.c.position.desc()).limit(1)
            ).first()
        return (int(last[0]), str(last[1])) if last is not None else (-1, GENESIS)

    def records(
        self,
        since: int = 0,
        limit: int | None = None,
        type_prefix: str | None = None,
        resource: str | None = None,
        *,
        newest_first: bool = False,
    ) -> list[AuditRecord]:
        """Events from position ``since`` on, in position order (``newest_first`` reverses it).

        ``type_prefix`` keeps the types that start with it (case-sensitive), ``resource`` one
        resource exactly, ``limit`` the first ``limit`` in the chosen order.
        """
        import sqlalchemy as sa

        if limit is not None and limit < 0:
            raise AuditError(f"limit must be 0 or more, found {limit}", field="limit", found=limit)
        table = self._ensure()
        query = sa.select(table).where(table.c.position >= since)
        if type_prefix:
            query = query.where(sa.func.substr(table.c.type, 1, len(type_prefix)) == type_prefix)
        if resource is not None:
            query = query.where(table.c.resource == resource)
        query = query.order_by(table.c.position.desc() if newest_first else table.c.position)
        if limit is not None:
            query = query.limit(limit)
        with self.state.begin() as conn:
            rows = conn.execute(query).all()
        return [_record(tuple(r)) for r in rows]

    # -- verification and export ------------------------------------------------------

    def verify(
        self, expected_head: str | None = None, *, progress: Callable[[int, int], None] | None = None
    ) -> VerifyResult:
        """Check the whole chain, streaming the table in batches; stop at the first bad event.

        Detects modified, deleted, inserted and reordered events (positions must run
        0, 1, 2, ... and every hash must chain). Events removed from the *end* leave an
        intact, shorter chain: pass ``expected_head`` (``"POSITION:HASH"`` from
        :meth:`head`, or just the hash) recorded earlier to detect that too. ``progress``
        is called after each batch with ``(events checked, events in the table)``.
        """
        if expected_head is not None:
            _check_head(expected_head)
        callback: Callable[[int], None] | None = None
        if progress is not None:
            total, report = self._count(), progress
            callback = lambda done: report(done, total)  # noqa: E731
        with contextlib.closing(self._row_batches()) as batches:
            return verify_rows(batches, expected_head, progress=callback)

    @staticmethod
    def verify_file(path: str | os.PathLike[str], expected_head: str | None = None) -> VerifyResult:
        """Verify an export (JSON Lines) with the stdlib verifier; no state database needed."""
        if expected_head is not None:
            _check_head(expected_head)
        try:
            with open(path, "rb") as f:
                return verify_lines(f, expected_head)
        except OSError as exc:
            raise AuditError(f"cannot read the audit export {path}: {exc.strerror or exc}", path=str(path)) from exc

    def export_lines(self) -> Iterator[str]:
        """The export, one canonical event with its hash per line (each ends with ``\\n``)."""
        with contextlib.closing(self._row_batches()) as batches:
            for batch in batches:
                yield "".join([_export_line(row) for row in batch])

    def export(self, path: str | os.PathLike[str], format: str = "jsonl") -> ExportResult:
        """Write every event, as stored, to ``path`` (JSON Lines), atomically.

        The file appears complete or not at all (a temporary file in the same folder,
        then a rename). Each line is the canonical event plus its ``hash``, keys sorted:
        ``verify_audit.py`` checks it without the workbench.
        """
        if format != "jsonl":
            raise AuditError(f"unknown export format {format!r}: use 'jsonl'", field="format", found=format)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        events, head = 0, GENESIS
        try:
            with (
                os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f,
                contextlib.closing(self._row_batches()) as batches,
            ):
                for batch in batches:
                    f.write("".join([_export_line(row) for row in batch]))
                    events += len(batch)
                    head = str(batch[-1][7])
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return ExportResult(target, events, head)

    # -- internals ---------------------------------------------------------------------

    def _ensure(self) -> sa.Table:
        table = _table()
        self.state.ensure(table)
        return table

    def _count(self) -> int:
        import sqlalchemy as sa

        table = self._ensure()
        with self.state.begin() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    def _row_batches(self) -> Generator[Sequence[Any], None, None]:
        """The table's rows in position order, ``_READ_BATCH`` at a time.

        Through the raw DBAPI connection, outside ``BEGIN IMMEDIATE``: on SQLite every query
        is its own read transaction, so a verification of a million events never holds the
        write lock (appends go on meanwhile). Keyset pagination keeps memory bounded on
        every driver, without server-side cursors.
        """
        import sqlalchemy as sa

        table = self._ensure()
        engine = self.state.engine
        cols = [table.c[name] for name in ("position", "type", "actor", "resource", "time", "trace_id", "payload")]
        base = sa.select(*cols, table.c.hash).order_by(table.c.position).limit(_READ_BATCH)

        def sql(after: int | None) -> str:  # literal ints only: nothing user-supplied reaches the SQL
            query = base if after is None else base.where(table.c.position > int(after))
            return str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))

        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(sql(None))
            while True:
                rows = cur.fetchall()
                if not rows:
                    return
                yield rows
                if len(rows) < _READ_BATCH:
                    return
                cur.execute(sql(rows[-1][0]))
        finally:
            with contextlib.suppress(Exception):
                raw.rollback()
            raw.close()


# -- helpers ---------------------------------------------------------------------------

_COLUMNS = ("position", "type", "actor", "resource", "time", "trace_id", "payload", "hash")


def _inserter(conn: sa.Connection, table: sa.Table) -> Callable[[list[tuple[Any, ...]]], None]:
    """A function inserting rows (tuples in ``_COLUMNS`` order) on this connection."""
    if conn.dialect.name == "sqlite":
        # the driver's executemany with tuples: a third of the cost of SQLAlchemy's per-row dict processing
        columns = ", ".join(f'"{c}"' for c in _COLUMNS)
        sql = f"INSERT INTO {TABLE} ({columns}) VALUES ({', '.join('?' * len(_COLUMNS))})"

        def insert_sqlite(rows: list[tuple[Any, ...]]) -> None:
            conn.exec_driver_sql(sql, rows)

        return insert_sqlite

    def insert_any(rows: list[tuple[Any, ...]]) -> None:  # SQLAlchemy batches these (insertmanyvalues)
        conn.execute(table.insert(), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])

    return insert_any


def _conflict(exc: Exception) -> CommitConflictError:
    return CommitConflictError(
        "another writer appended to the audit trail at the same position; nothing was written: try again",
        table=TABLE,
    )


def _check_head(text: str) -> None:
    try:
        parse_head(text)
    except ValueError as exc:
        raise AuditError(str(exc), field="head", found=text) from None


def _check_text(name: str, value: Any, *, optional: bool = False, empty: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise AuditError(
            f"{name} must be a string, found {type(value).__name__}", field=name, found=type(value).__name__
        )
    if not value and not empty:
        raise AuditError(f"{name} must not be empty", field=name)
    if "\x00" in value:
        raise AuditError(f"{name} contains a NUL character, which databases cannot store", field=name)
    _check_utf8(name, value)


def _check_utf8(name: str, value: str) -> None:
    try:
        value.isascii() or value.encode("utf-8")
    except UnicodeEncodeError:
        raise AuditError(f"{name} contains a lone surrogate, which is not valid UTF-8 text", field=name) from None


def _prepare(type: Any, actor: Any, resource: Any, payload: Any, trace_id: Any, time: datetime | None) -> _Entry:
    _check_text("type", type)
    _check_text("actor", actor)
    _check_text("resource", resource, empty=True)
    _check_text("trace_id", trace_id, optional=True)
    if time is None:
        time = datetime.now(UTC)
    elif not isinstance(time, datetime):
        raise AuditError(f"time must be a datetime, found {time.__class__.__name__}", field="time")
    time_text = format_time(time)
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise AuditError(
            f"payload must be a dict, found {payload.__class__.__name__}",
            field="payload",
            found=payload.__class__.__name__,
        )
    clean = _clean_payload(payload)
    text = canonical_json(clean)
    _check_utf8("payload", text)
    utc = time if time.tzinfo is UTC else time.astimezone(UTC)
    return _Entry(type, actor, resource, utc, time_text, trace_id, clean, text)


def _prepare_item(item: Any, index: int) -> _Entry:
    if isinstance(item, Mapping):
        unknown = set(item) - {"type", "actor", "resource", "payload", "trace_id", "time"}
        if unknown:
            raise AuditError(
                f"item {index} of the batch has unknown keys {sorted(unknown)}: "
                "use type, actor, resource, payload, trace_id, time",
                field="records",
                found=sorted(unknown),
            )
        missing = [k for k in ("type", "actor", "resource") if k not in item]
        if missing:
            raise AuditError(f"item {index} of the batch lacks {', '.join(missing)}", field="records", found=missing)
        get = item.get
        return _prepare(get("type"), get("actor"), get("resource"), get("payload"), get("trace_id"), get("time"))
    if all(hasattr(item, k) for k in ("type", "actor", "resource", "payload", "time")):
        trace_id = getattr(item, "trace_id", None)
        return _prepare(item.type, item.actor, item.resource, item.payload, trace_id, item.time)
    raise AuditError(
        f"item {index} of the batch is a {type(item).__name__}: expected a dict of append()'s arguments or an Event",
        field="records",
    )


class _NotJson(Exception):
    """A payload value that cannot be recorded; ``path`` is filled in while unwinding."""

    def __init__(self, problem: str, found: str) -> None:
        super().__init__(problem)
        self.problem, self.found = problem, found
        self.path: list[str] = []


def _clean_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return _jsonable(payload)  # type: ignore[no-any-return]
    except _NotJson as exc:
        where = "payload" + "".join(reversed(exc.path))
        raise AuditError(f"{where} {exc.problem}", field=where, found=exc.found) from None
    except RecursionError:
        raise AuditError("payload is nested too deeply, or contains itself", field="payload") from None


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON types, converting the documented types; refuse anything else."""
    kind = value.__class__
    if kind is str or kind is int or kind is bool or value is None:  # the common case, first
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k.__class__ is not str and not isinstance(k, str):
                raise _NotJson(f"has the key {k!r} ({type(k).__name__}): JSON object keys must be strings", repr(k))
            try:
                out[k] = _jsonable(v)
            except _NotJson as exc:
                exc.path.append(f".{k}")
                raise
        return out
    if isinstance(value, (list, tuple)):
        items = []
        for i, v in enumerate(value):
            try:
                items.append(_jsonable(v))
            except _NotJson as exc:
                exc.path.append(f"[{i}]")
                raise
        return items
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotJson(f"is {value}, which JSON cannot represent", repr(value))
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _NotJson("is a datetime without a time zone: pass an aware datetime", value.isoformat())
        return format_time(value)
    if isinstance(value, (date, dtime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _NotJson(f"is {value}, which JSON cannot represent", str(value))
        return str(value)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, UUID):
        return str(value)
    raise _NotJson(
        f"is a {type(value).__module__}.{type(value).__qualname__}, not a JSON value: convert it to "
        "str, int, float, bool, None, a list or a dict before recording it",
        type(value).__qualname__,
    )


def _record(row: tuple[Any, ...]) -> AuditRecord:
    position, type_, actor, resource, time_text, trace_id, payload, digest = row
    try:
        return AuditRecord(
            int(position), type_, actor, resource, _parse_time(time_text), trace_id, json.loads(payload), digest
        )
    except (TypeError, ValueError) as exc:
        raise AuditError(
            f"audit event {position} is malformed ({exc}): run `odg audit verify` to see where the chain breaks",
            position=position,
        ) from exc


def _enc_any(value: Any) -> str:
    if isinstance(value, str):
        return str(encode_basestring(value))
    if isinstance(value, bytes):
        value = value.hex()
    return json.dumps(value, ensure_ascii=False, default=repr)


def _export_line(row: Any) -> str:
    """One export line: the event with its stored hash, keys sorted, payload text as stored."""
    position, type_, actor, resource, time_text, trace_id, payload, digest = row
    enc = encode_basestring
    try:
        line: str = (
            f'{{"actor":{enc(actor)},"hash":{enc(digest)},"payload":{payload},"position":{position:d},'
            f'"resource":{enc(resource)},"time":{enc(time_text)},'
            f'"trace_id":{"null" if trace_id is None else enc(trace_id)},"type":{enc(type_)}}}\n'
        )
        return line
    except (TypeError, ValueError):  # a value of the wrong type, written behind the workbench's back: keep it visible
        payload_text = payload if isinstance(payload, str) else _enc_any(payload)
        return (
            '{"actor":'
            + _enc_any(actor)
            + ',"hash":'
            + _enc_any(digest)
            + ',"payload":'
            + payload_text
            + ',"position":'
            + _enc_any(position)
            + ',"resource":'
            + _enc_any(resource)
            + ',"time":'
            + _enc_any(time_text)
            + ',"trace_id":'
            + _enc_any(trace_id)
            + ',"type":'
            + _enc_any(type_)
            + "}\n"
        )
