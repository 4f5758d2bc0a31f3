"""Durable events: topics with per-topic offsets and consumer groups in the state database.

Every governance-relevant change becomes a :class:`Message` on a topic of the origin design
(see :data:`TOPICS` and :func:`topic_for`). The embedded default keeps them in the state
database (SQLite or PostgreSQL), one row per message::

    publish ──► event_log (topic, offset 0, 1, 2 ...) ──► poll(consumer) ──► commit(offset)
                                  │
                                  └── relay(transport) ──► NATS JetStream / Kafka

* Offsets are per topic, start at 0 and have no gaps, even with several processes
  publishing at once: SQLite serialises writers with ``BEGIN IMMEDIATE``, PostgreSQL with a
  transaction-scoped advisory lock per topic.
* Delivery is **at least once**: :meth:`EventLog.poll` returns the messages after the
  consumer's committed offset until :meth:`EventLog.commit` moves it, so a consumer that
  crashes in between sees them again. Consumers stay idempotent by :attr:`Message.id`.
* Publishing is idempotent by message id: publishing an id that is already stored returns
  the stored message and writes nothing (like JetStream's ``Nats-Msg-Id`` de-duplication).

Errors (both :class:`~odg_workbench.errors.OdgError`)::

    OdgError
    ├── EventLogError(ValueError)      malformed topic, event type, message id, offset, payload
    └── TransportError(ConnectionError) a broker unreachable, or a publish not acknowledged

See ``docs/events.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from odg_workbench.errors import ConfigError, OdgError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odg_workbench.events import Event
    from odg_workbench.state import StateStore

__all__ = [
    "AUDIT_TOPIC",
    "BACKENDS",
    "TOPICS",
    "ConsumerPosition",
    "EmbeddedTransport",
    "EventLog",
    "EventLogError",
    "EventTransport",
    "Message",
    "TopicInfo",
    "TransportError",
    "make_transport",
    "topic_for",
]

#: Where every audit record is published (the audit trail publishes there itself).
AUDIT_TOPIC = "odg.audit.events"

#: Event type prefix -> topic, first match wins. Families not listed go to ``odg.<family>.events``.
TOPICS: tuple[tuple[str, str], ...] = (
    ("audit.", AUDIT_TOPIC),
    ("decision.", "odg.governance.decisions"),
    ("raci.", "odg.governance.raci"),
    ("policy.", "odg.governance.policies"),
    ("quality.", "odg.quality.reports"),
    ("lineage.", "odg.lineage.updates"),
    ("promotion.", "odg.lakehouse.promotion"),
    ("drift.", "odg.drift.detected"),
    ("mlflow.", "odg.mlflow.model.registered"),
    ("lakehouse.", "odg.lakehouse.changes"),
)

#: The backends :func:`make_transport` knows.
BACKENDS = ("embedded", "nats", "kafka")

# A topic is a NATS subject without wildcards and a valid Kafka topic name: dotted tokens
# under "odg.", so one JetStream stream on "odg.>" covers every topic.
_TOPIC = re.compile(r"^odg(\.[A-Za-z0-9_-]+)+$")
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+)+$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_MAX_TOPIC = 249  # Kafka's limit on topic names
_PUBLISH_RETRIES = 20


class EventLogError(OdgError, ValueError):
    """A topic, event type, message id, offset or payload the event log cannot accept."""


class TransportError(OdgError, ConnectionError):
    """A broker (NATS, Kafka) is unreachable or did not acknowledge a publish in time."""


def topic_for(event_type: str) -> str:
    """The topic an event type is published on.

    >>> topic_for("lakehouse.ingest")
    'odg.lakehouse.changes'
    >>> topic_for("decision.approve")
    'odg.governance.decisions'
    >>> topic_for("privacy.mask")
    'odg.privacy.events'
    """
    _check_type(event_type)
    for prefix, topic in TOPICS:
        if event_type.startswith(prefix):
            return topic
    return f"odg.{event_type.split('.', 1)[0]}.events"


def _check_type(event_type: str) -> None:
    if not isinstance(event_type, str) or not _TYPE.match(event_type):
        raise EventLogError(
            f"event type {event_type!r} is not of the form family.action (e.g. lakehouse.ingest)",
            field="type",
            found=repr(event_type),
        )


def _check_topic(topic: str) -> None:
    if not isinstance(topic, str) or not _TOPIC.match(topic) or len(topic) > _MAX_TOPIC:
        raise EventLogError(
            f"topic {topic!r} is not valid: topics are dotted names under odg. "
            "(letters, digits, _ and -; no wildcards), e.g. odg.lakehouse.changes",
            field="topic",
            found=repr(topic),
        )


def _check_id(message_id: str) -> None:
    if not isinstance(message_id, str) or not _ID.match(message_id):
        raise EventLogError(
            f"message id {message_id!r} is not valid: 1 to 64 letters, digits, _ . : or - (the default is a uuid4 hex)",
            field="id",
            found=repr(message_id),
        )


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise EventLogError(f"{kind} name must be a non-empty string of at most 255 characters", field=kind)


# -- messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One message on a topic. ``offset`` is its position in the embedded log (None before)."""

    id: str
    topic: str
    type: str
    resource: str
    actor: str
    time: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    offset: int | None = None

    @property
    def key(self) -> str:
        """The partitioning key on brokers (Kafka's record key): the resource."""
        return self.resource

    @classmethod
    def new(
        cls,
        topic: str,
        type: str,
        resource: str,
        actor: str,
        payload: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        time: datetime | None = None,
    ) -> Message:
        """A message with a fresh uuid4 hex id (unless given) and the current UTC time.

        The payload is normalised to JSON values, so what is published equals what is read.
        """
        _check_topic(topic)
        _check_type(type)
        message_id = uuid.uuid4().hex if id is None else id
        _check_id(message_id)
        when = datetime.now(UTC) if time is None else _utc(time)
        return cls(
            id=message_id,
            topic=topic,
            type=type,
            resource=str(resource),
            actor=str(actor),
            time=when,
            payload=_normalise_payload(payload or {}, type),
        )

    @classmethod
    def from_event(cls, event: Event, *, topic: str | None = None, id: str | None = None) -> Message:
        """The message for an in-process :class:`~odg_workbench.events.Event` (topic by :func:`topic_for`)."""
        return cls.new(
            topic or topic_for(event.type),
            event.type,
            event.resource,
            event.actor,
            event.payload,
            id=id,
            time=event.time,
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire format (JSON-ready): the same on every backend."""
        return {
            "id": self.id,
            "topic": self.topic,
            "type": self.type,
            "resource": self.resource,
            "actor": self.actor,
            "time": self.time.isoformat(),
            "payload": self.payload,
            "offset": self.offset,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        try:
            return cls(
                id=str(data["id"]),
                topic=str(data["topic"]),
                type=str(data["type"]),
                resource=str(data["resource"]),
                actor=str(data["actor"]),
                time=_utc(datetime.fromisoformat(str(data["time"]))),
                payload=dict(data.get("payload") or {}),
                offset=None if data.get("offset") is None else int(data["offset"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EventLogError(f"not an event message: {exc!r}", found=repr(dict(data))[:200]) from exc

    @classmethod
    def from_json(cls, data: bytes | str) -> Message:
        try:
            decoded = json.loads(data)
        except ValueError as exc:
            raise EventLogError(f"not an event message (invalid JSON): {exc}") from exc
        if not isinstance(decoded, dict):
            raise EventLogError("not an event message: the JSON document is not an object")
        return cls.from_dict(decoded)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    import decimal
    import os

    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null (what other languages' parsers accept)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _normalise_payload(payload: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    try:
        text = json.dumps(dict(payload), default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise EventLogError(f"payload of {event_type} is not JSON-serialisable: {exc}", field="payload") from exc
    return _finite(json.loads(text))  # type: ignore[no-any-return]


# -- transports ----------------------------------------------------------------------------


@runtime_checkable
class EventTransport(Protocol):
    """Somewhere messages go: the embedded log, NATS JetStream or Kafka."""

    def publish(self, message: Message) -> None:
        """Store or send ``message``; returns once it is durable (acknowledged), else raises."""

    def close(self) -> None:
        """Flush what is pending and release connections."""


class EmbeddedTransport:
    """The embedded log as a transport: messages are stored in the state database."""

    def __init__(self, log: EventLog) -> None:
        self.log = log

    def publish(self, message: Message) -> None:
        self.log.publish_message(message)

    def close(self) -> None:
        """Nothing to release: the state store belongs to its workspace."""

    def __repr__(self) -> str:
        return f"EmbeddedTransport({self.log!r})"


def make_transport(
    backend: str,
    url: str,
    state: StateStore | None,
    *,
    stream: str = "ODG",
    timeout: float = 5.0,
) -> EventTransport:
    """The transport for the ``events.backend`` setting: ``embedded``, ``nats`` or ``kafka``.

    ``url`` is the NATS server URL (default ``nats://127.0.0.1:4222``) or the Kafka bootstrap
    servers (default ``localhost:9092``); the embedded backend ignores it and uses ``state``.
    """
    name = (backend or "").strip().lower()
    if name == "embedded":
        if state is None:
            raise ConfigError("events.backend embedded needs the state database", setting="events.backend")
        return EmbeddedTransport(EventLog(state))
    if name == "nats":
        from odg_workbench.governance.transports import NatsTransport

        return NatsTransport(url or "nats://127.0.0.1:4222", stream, timeout=timeout)
    if name == "kafka":
        from odg_workbench.governance.transports import KafkaTransport

        return KafkaTransport(url or "localhost:9092", timeout=timeout)
    raise ConfigError(
        f"events.backend {backend!r} is not one of {', '.join(BACKENDS)}",
        setting="events.backend",
        expected=", ".join(BACKENDS),
        found=repr(backend),
    )


# -- the embedded log ----------------------------------------------------------------------


@dataclass(frozen=True)
class TopicInfo:
    """A topic of the embedded log: how many messages, which offsets, the latest time."""

    topic: str
    messages: int
    first_offset: int
    last_offset: int
    last_time: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "messages": self.messages,
            "first_offset": self.first_offset,
            "last_offset": self.last_offset,
            "last_time": None if self.last_time is None else self.last_time.isoformat(),
        }


@dataclass(frozen=True)
class ConsumerPosition:
    """Where a consumer group stands on one topic. ``committed`` is -1 before its first commit."""

    consumer: str
    topic: str
    committed: int
    last_offset: int
    updated_at: datetime | None

    @property
    def lag(self) -> int:
        """Messages published after the committed offset (offsets have no gaps)."""
        return max(self.last_offset - self.committed, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "topic": self.topic,
            "committed": self.committed,
            "last_offset": self.last_offset,
            "lag": self.lag,
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
        }


@functools.cache
def _tables() -> tuple[sa.Table, sa.Table]:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if "event_log" in md.tables:
        return md.tables["event_log"], md.tables["event_consumer_offsets"]
    log = sa.Table(
        "event_log",
        md,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("topic_offset", sa.BigInteger, nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("resource", sa.String(1000), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        # also the index behind max(offset) per topic and reads by offset range
        sa.UniqueConstraint("topic", "topic_offset", name="uq_event_log_topic_offset"),
    )
    offsets = sa.Table(
        "event_consumer_offsets",
        md,
        sa.Column("consumer", sa.String(255), primary_key=True),
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("committed", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    return log, offsets


def _advisory_key(topic: str) -> int:
    """A stable signed 64-bit key per topic for ``pg_advisory_xact_lock``."""
    digest = hashlib.blake2b(f"odg.event_log:{topic}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class EventLog:
    """Durable topics with consumer offsets in the state database.

    Examples
    --------
    >>> from odg_workbench.state import StateStore
    >>> log = EventLog(StateStore("sqlite://"))
    >>> log.publish("odg.lakehouse.changes", "lakehouse.ingest", "bronze.t", "alice", {"rows": 3}).offset
    0
    >>> [m.payload for m in log.poll("audit-sink", "odg.lakehouse.changes")]
    [{'rows': 3}]
    """

    def __init__(self, state: StateStore) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"EventLog({self.state._safe_url()})"

    def _ready(self) -> tuple[sa.Table, sa.Table]:
        log, offsets = _tables()
        self.state.ensure(log, offsets)
        return log, offsets

    # -- publishing ------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        type: str,
        resource: str,
        actor: str,
        payload: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        time: datetime | None = None,
    ) -> Message:
        """Append a message to ``topic`` and return it with its offset.

        Publishing an ``id`` that is already stored returns the stored message unchanged.
        """
        return self.publish_message(Message.new(topic, type, resource, actor, payload, id=id, time=time))

    def publish_event(self, event: Event) -> Message:
        """Append an in-process event on its topic (:func:`topic_for`); subscribe this to a bus."""
        return self.publish_message(Message.from_event(event))

    def publish_message(self, message: Message) -> Message:
        """Append a prepared :class:`Message` (its ``offset`` is ignored and assigned here)."""
        import dataclasses

        import sqlalchemy as sa

        _check_topic(message.topic)
        _check_type(message.type)
        _check_id(message.id)
        message = dataclasses.replace(
            message, time=_utc(message.time), payload=_normalise_payload(message.payload, message.type), offset=None
        )
        log, _ = self._ready()
        dialect = self.state.engine.dialect.name
        for _attempt in range(_PUBLISH_RETRIES):
            try:
                with self.state.begin() as conn:
                    if dialect == "postgresql":
                        # released at commit, when the row becomes visible to the next writer
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _advisory_key(message.topic)})
                    existing = conn.execute(sa.select(log).where(log.c.id == message.id)).first()
                    if existing is not None:
                        return _message(existing)
                    last = conn.execute(
                        sa.select(sa.func.max(log.c.topic_offset)).where(log.c.topic == message.topic)
                    ).scalar()
                    offset = 0 if last is None else int(last) + 1
                    conn.execute(
                        log.insert().values(
                            id=message.id,
                            topic=message.topic,
                            topic_offset=offset,
                            type=message.type,
                            resource=message.resource,
                            actor=message.actor,
                            time=message.time,
                            stored_at=datetime.now(UTC),
                            payload=json.dumps(message.payload, ensure_ascii=False),
                        )
                    )
                return dataclasses.replace(message, offset=offset)
            except sa.exc.IntegrityError:
                # Another writer took this offset or this id (only without a lock, or the same
                # id published twice at once): look again.
                continue
        raise EventLogError(
            f"could not append to {message.topic} after {_PUBLISH_RETRIES} attempts (concurrent writers)",
            topic=message.topic,
        )

    # -- reading ---------------------------------------------------------------------

    def read(self, topic: str, after_offset: int = -1, limit: int = 100) -> list[Message]:
        """Messages of ``topic`` with an offset greater than ``after_offset``, oldest first."""
        import sqlalchemy as sa

        _check_topic(topic)
        _check_limit(limit)
        log, _ = self._ready()
        with self.state.begin() as conn:
            rows = conn.execute(
                sa.select(log)
                .where(log.c.topic == topic, log.c.topic_offset > after_offset)
                .order_by(log.c.topic_offset)
                .limit(limit)
            ).all()
        return [_message(r) for r in rows]

    def get(self, message_id: str) -> Message | None:
        """The stored message with this id, or None."""
        import sqlalchemy as sa

        log, _ = self._ready()
        with self.state.begin() as conn:
            row = conn.execute(sa.select(log).where(log.c.id == message_id)).first()
        return None if row is None else _message(row)

    def tail(self, topic: str, limit: int = 10) -> list[Message]:
        """The last ``limit`` messages of ``topic``, oldest first."""
        _check_topic(topic)
        _check_limit(limit)
        return self.read(topic, after_offset=self.last_offset(topic) - limit, limit=limit)

    def last_offset(self, topic: str) -> int:
        """The offset of the newest message of ``topic``; -1 when it has none."""
        import sqlalchemy as sa

        log, _ = self._ready()
        with self.state.begin() as conn:
            last = conn.execute(sa.select(sa.func.max(log.c.topic_offset)).where(log.c.topic == topic)).scalar()
        return -1 if last is None else int(last)

    def topics(self) -> list[TopicInfo]:
        """Every topic that has messages, with counts, sorted by name."""
        import sqlalchemy as sa

        log, _ = self._ready()
        with self.state.begin() as conn:
            rows = conn.execute(
                sa.select(
                    log.c.topic,
                    sa.func.count(),
                    sa.func.min(log.c.topic_offset),
                    sa.func.max(log.c.topic_offset),
                    sa.func.max(log.c.time),
                )
                .group_by(log.c.topic)
                .order_by(log.c.topic)
            ).all()
        return [
            TopicInfo(
                topic=r[0],
                messages=int(r[1]),
                first_offset=int(r[2]),
                last_offset=int(r[3]),
                last_time=None if r[4] is None else _utc(_as_datetime(r[4])),
            )
            for r in rows
        ]

    # -- consumer groups -------------------------------------------------------------

    def poll(self, consumer: str, topic: str, limit: int = 100) -> list[Message]:
        """The next messages for ``consumer`` on ``topic``: those after its committed offset.

        Nothing moves until :meth:`commit`: polling again without committing returns the same
        messages (at-least-once delivery). The first poll registers the consumer on the topic.
        """
        import sqlalchemy as sa

        _check_name("consumer", consumer)
        _check_topic(topic)
        _check_limit(limit)
        log, offsets = self._ready()
        with self.state.begin() as conn:
            committed = self._committed(conn, offsets, consumer, topic)
            if committed is None:
                _insert_ignore(
                    conn,
                    offsets,
                    {"consumer": consumer, "topic": topic, "committed": -1, "updated_at": datetime.now(UTC)},
                )
                committed = -1
            rows = conn.execute(
                sa.select(log)
                .where(log.c.topic == topic, log.c.topic_offset > committed)
                .order_by(log.c.topic_offset)
                .limit(limit)
            ).all()
        return [_message(r) for r in rows]

    def commit(self, consumer: str, topic: str, offset: int) -> None:
        """Record that ``consumer`` has processed ``topic`` up to and including ``offset``.

        Committing a smaller offset than before rewinds the consumer (it will see those
        messages again); -1 rewinds to the beginning.
        """
        import sqlalchemy as sa

        _check_name("consumer", consumer)
        _check_topic(topic)
        log, offsets = self._ready()
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise EventLogError(f"offset must be an integer, found {offset!r}", field="offset", found=repr(offset))
        with self.state.begin() as conn:
            last = conn.execute(sa.select(sa.func.max(log.c.topic_offset)).where(log.c.topic == topic)).scalar()
            last = -1 if last is None else int(last)
            if not -1 <= offset <= last:
                raise EventLogError(
                    f"cannot commit offset {offset} on {topic}: its offsets run from 0 to {last}"
                    + (" (it has no messages)" if last < 0 else "")
                    + "; commit the offset of the last message you processed",
                    topic=topic,
                    found=offset,
                    expected=f"-1..{last}",
                )
            values = {"committed": offset, "updated_at": datetime.now(UTC)}
            updated = conn.execute(
                offsets.update().where(offsets.c.consumer == consumer, offsets.c.topic == topic).values(**values)
            ).rowcount
            if not updated:
                _insert_ignore(conn, offsets, {"consumer": consumer, "topic": topic, **values})

    def committed(self, consumer: str, topic: str) -> int:
        """The consumer's committed offset on ``topic``; -1 when it has committed nothing."""
        _, offsets = self._ready()
        with self.state.begin() as conn:
            value = self._committed(conn, offsets, consumer, topic)
        return -1 if value is None else value

    def lag(self, consumer: str, topic: str) -> int:
        """How many messages of ``topic`` the consumer has not committed yet."""
        return max(self.last_offset(topic) - self.committed(consumer, topic), 0)

    def positions(self, consumer: str) -> list[ConsumerPosition]:
        """Where ``consumer`` stands on every topic it has polled or committed, by topic."""
        import sqlalchemy as sa

        log, offsets = self._ready()
        last = sa.select(log.c.topic, sa.func.max(log.c.topic_offset).label("last")).group_by(log.c.topic).subquery()
        with self.state.begin() as conn:
            rows = conn.execute(
                sa.select(offsets.c.topic, offsets.c.committed, offsets.c.updated_at, last.c.last)
                .select_from(offsets.outerjoin(last, last.c.topic == offsets.c.topic))
                .where(offsets.c.consumer == consumer)
                .order_by(offsets.c.topic)
            ).all()
        return [
            ConsumerPosition(
                consumer=consumer,
                topic=r[0],
                committed=int(r[1]),
                last_offset=-1 if r[3] is None else int(r[3]),
                updated_at=None if r[2] is None else _utc(_as_datetime(r[2])),
            )
            for r in rows
        ]

    def consumers(self) -> list[str]:
        """Every consumer group that has polled or committed, sorted."""
        import sqlalchemy as sa

        _, offsets = self._ready()
        with self.state.begin() as conn:
            return list(conn.execute(sa.select(offsets.c.consumer).distinct().order_by(offsets.c.consumer)).scalars())

    # -- forwarding ------------------------------------------------------------------

    def relay(
        self, transport: EventTransport, consumer: str, *, topics: Iterable[str] | None = None, limit: int = 1000
    ) -> int:
        """Forward what ``consumer`` has not committed yet to ``transport`` (the outbox pattern).

        Each topic's offset is committed after the transport acknowledged the messages, up to
        the last one that succeeded, so a broker outage loses nothing and a retry re-sends at
        most the unacknowledged tail (brokers drop those duplicates by message id). Returns
        the number of messages forwarded; the transport's error propagates.
        """
        names = list(topics) if topics is not None else [t.topic for t in self.topics()]
        sent = 0
        for topic in names:
            batch = self.poll(consumer, topic, limit)
            done: int | None = None
            try:
                for message in batch:
                    transport.publish(message)
                    done = message.offset
                    sent += 1
            finally:
                if done is not None:
                    self.commit(consumer, topic, done)
        return sent

    @staticmethod
    def _committed(conn: sa.Connection, offsets: sa.Table, consumer: str, topic: str) -> int | None:
        import sqlalchemy as sa

        value = conn.execute(
            sa.select(offsets.c.committed).where(offsets.c.consumer == consumer, offsets.c.topic == topic)
        ).scalar()
        return None if value is None else int(value)


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise EventLogError(f"limit must be a non-negative integer, found {limit!r}", field="limit")


def _insert_ignore(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    """INSERT that does nothing when the primary key exists (a concurrent poll registered it)."""
    import sqlalchemy as sa

    name = conn.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        conn.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing())
        return
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        conn.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing())
        return
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**values))
    except sa.exc.IntegrityError:
        pass


def _as_datetime(value: Any) -> datetime:
    # SQLite returns aggregates over DateTime columns (max(time)) as text
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _message(row: Any) -> Message:
    m = row._mapping
    return Message(
        id=m["id"],
        topic=m["topic"],
        type=m["type"],
        resource=m["resource"],
        actor=m["actor"],
        time=_utc(m["time"]),
        payload=json.loads(m["payload"]),
        offset=int(m["topic_offset"]),
    )
