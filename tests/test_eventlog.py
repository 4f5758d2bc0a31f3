"""Durable events: topic mapping, gap-free offsets under concurrent processes, at-least-once
consumer groups, NATS JetStream against a real nats-server, Kafka where a broker is given,
and the ``odg events`` commands."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import odg_workbench as odg
from odg_workbench.cli.events import register
from odg_workbench.errors import ConfigError, OdgError
from odg_workbench.events import Event
from odg_workbench.governance.eventlog import (
    AUDIT_TOPIC,
    TOPICS,
    EmbeddedTransport,
    EventLog,
    EventLogError,
    EventTransport,
    Message,
    TransportError,
    make_transport,
    topic_for,
)
from odg_workbench.governance.transports import KafkaTransport, NatsTransport
from odg_workbench.state import StateStore
from tests.conftest import free_port, new_pg_database

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield EventLog(store)
    store.dispose()


def _topic() -> str:
    """A topic no other test uses (tests share one nats-server)."""
    return f"odg.test.t{uuid.uuid4().hex[:12]}"


# -- topics ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        pytest.param("audit.record", "odg.audit.events", id="audit"),
        pytest.param("decision.approve", "odg.governance.decisions", id="decision"),
        pytest.param("decision.veto", "odg.governance.decisions", id="decision-veto"),
        pytest.param("raci.assign", "odg.governance.raci", id="raci"),
        pytest.param("policy.update", "odg.governance.policies", id="policy"),
        pytest.param("quality.report", "odg.quality.reports", id="quality"),
        pytest.param("lineage.edge", "odg.lineage.updates", id="lineage"),
        pytest.param("promotion.completed", "odg.lakehouse.promotion", id="promotion"),
        pytest.param("drift.detected", "odg.drift.detected", id="drift"),
        pytest.param("lakehouse.ingest", "odg.lakehouse.changes", id="lakehouse-ingest"),
        pytest.param("lakehouse.rollback", "odg.lakehouse.changes", id="lakehouse-rollback"),
        pytest.param("privacy.mask", "odg.privacy.events", id="unmapped-family"),
    ],
)
def test_topic_for(event_type: str, topic: str) -> None:
    assert topic_for(event_type) == topic


@pytest.mark.parametrize("bad", ["", "lakehouse", "Lakehouse.ingest", "lakehouse.", ".ingest", "a b.c", "x.>"])
def test_malformed_event_types_are_refused(bad: str) -> None:
    with pytest.raises(EventLogError, match=r"family\.action") as info:
        topic_for(bad)
    assert isinstance(info.value, ValueError)


def test_every_topic_mapping_is_documented() -> None:
    doc = (REPO / "docs" / "events.md").read_text()
    rows = set(re.findall(r"^\|\s*`([a-z]+)\.\*`\s*\|\s*`(odg\.[a-z.]+)`", doc, re.MULTILINE))
    assert rows == {(prefix.rstrip("."), topic) for prefix, topic in TOPICS}
    assert AUDIT_TOPIC == "odg.audit.events"


# -- messages -------------------------------------------------------------------------------


def test_message_json_round_trip_and_payload_normalisation() -> None:
    when = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    m = Message.new(
        "odg.quality.reports",
        "quality.report",
        "bronze.orders",
        "alice",
        {"score": math.nan, "at": when, "rules": ("a", "b"), "n": 3},
        time=when,
    )
    assert len(m.id) == 32 and int(m.id, 16) >= 0  # uuid4 hex
    assert m.payload == {"score": None, "at": "2026-05-01T12:30:00+00:00", "rules": ["a", "b"], "n": 3}
    assert m.key == "bronze.orders" and m.offset is None
    assert Message.from_json(m.to_json()) == m
    assert json.loads(m.to_json())["time"] == "2026-05-01T12:30:00+00:00"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"topic": "lakehouse.changes"}, "topic", id="topic-without-odg"),
        pytest.param({"topic": "odg.*"}, "topic", id="wildcard-topic"),
        pytest.param({"id": "has space"}, "id", id="bad-id"),
        pytest.param({"payload": {"x": object()}}, "payload", id="not-json"),
    ],
)
def test_invalid_messages_are_refused(log: EventLog, kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"topic": "odg.x.y", "type": "x.y", "resource": "r", "actor": "a", **kwargs}
    with pytest.raises(EventLogError) as info:
        log.publish(**args)
    assert info.value.details["field"] == field


# -- the embedded log -----------------------------------------------------------------------


def test_offsets_are_per_topic_and_reads_page_by_offset(log: EventLog) -> None:
    a = [log.publish("odg.a.x", "a.x", f"r{i}", "alice", {"i": i}).offset for i in range(5)]
    b = [log.publish("odg.b.x", "b.x", "r", "bob").offset for _ in range(2)]
    assert a == [0, 1, 2, 3, 4] and b == [0, 1]
    assert [m.payload["i"] for m in log.read("odg.a.x", after_offset=2)] == [3, 4]
    assert [m.offset for m in log.read("odg.a.x", limit=2)] == [0, 1]
    assert [m.offset for m in log.tail("odg.a.x", 2)] == [3, 4]
    assert [(t.topic, t.messages, t.first_offset, t.last_offset) for t in log.topics()] == [
        ("odg.a.x", 5, 0, 4),
        ("odg.b.x", 2, 0, 1),
    ]
    assert log.topics()[0].last_time is not None


def test_publishing_an_id_twice_stores_it_once(log: EventLog) -> None:
    first = log.publish("odg.a.x", "a.x", "r", "alice", {"v": 1}, id="order-42")
    again = log.publish("odg.a.x", "a.x", "r", "alice", {"v": 2}, id="order-42")
    assert again == first and again.payload == {"v": 1}
    assert log.topics()[0].messages == 1
    assert log.get("order-42") == first


def test_what_is_read_equals_what_was_published(log: EventLog) -> None:
    sent = log.publish("odg.a.x", "a.x", "bronze.t", "alice", {"nested": {"k": [1, 2.5, None]}})
    (read,) = log.read("odg.a.x")
    assert read == sent and read.time.tzinfo is not None


def test_workspace_events_reach_their_topics(ws: odg.Workbench) -> None:
    import pyarrow as pa

    log = EventLog(ws.state)  # the workspace publishes to its log: read it from another handle
    result = ws.ingest(pa.table({"a": [1, 2]}), "t")
    ws.publish("quality.report", "bronze.t", score=0.91, verdict="pass")
    (change,) = log.read("odg.lakehouse.changes")
    assert (change.type, change.resource, change.actor) == ("lakehouse.ingest", "bronze.t", "tester")
    assert change.payload["batch_id"] == result.batch_id and change.payload["rows"] == 2
    (report,) = log.read("odg.quality.reports")
    assert report.payload == {"score": 0.91, "verdict": "pass"}


def test_publish_event_keeps_the_event_time(log: EventLog) -> None:
    event = Event(
        "decision.approve", "silver.orders", "carol", {"decision": "d1"}, time=datetime(2026, 1, 2, tzinfo=UTC)
    )
    m = log.publish_event(event)
    assert (m.topic, m.time, m.offset) == ("odg.governance.decisions", event.time, 0)


# -- consumer groups: at-least-once -----------------------------------------------------------


def test_poll_redelivers_until_commit(log: EventLog, tmp_path: Path) -> None:
    for i in range(5):
        log.publish("odg.a.x", "a.x", "r", "alice", {"i": i})
    first = log.poll("sink", "odg.a.x", limit=3)
    assert [m.offset for m in first] == [0, 1, 2]
    # The consumer "crashes" before committing: a new connection sees the same messages.
    other = EventLog(StateStore(f"sqlite:///{tmp_path / 'state.db'}"))
    assert [m.id for m in other.poll("sink", "odg.a.x", limit=3)] == [m.id for m in first]
    assert other.lag("sink", "odg.a.x") == 5
    other.commit("sink", "odg.a.x", 2)
    assert [m.offset for m in log.poll("sink", "odg.a.x")] == [3, 4]
    assert log.lag("sink", "odg.a.x") == 2
    log.commit("sink", "odg.a.x", 4)
    assert log.poll("sink", "odg.a.x") == [] and log.lag("sink", "odg.a.x") == 0
    other.state.dispose()


def test_consumer_groups_are_independent(log: EventLog) -> None:
    for _ in range(4):
        log.publish("odg.a.x", "a.x", "r", "alice")
    log.commit("audit", "odg.a.x", 3)
    log.commit("lineage", "odg.a.x", 0)
    assert log.lag("audit", "odg.a.x") == 0
    assert log.lag("lineage", "odg.a.x") == 3
    assert log.lag("never-polled", "odg.a.x") == 4
    assert [m.offset for m in log.poll("lineage", "odg.a.x")] == [1, 2, 3]
    log.publish("odg.a.x", "a.x", "r", "alice")
    assert log.lag("audit", "odg.a.x") == 1 and log.lag("lineage", "odg.a.x") == 4
    assert log.consumers() == ["audit", "lineage"]
    (pos,) = log.positions("lineage")
    assert (pos.topic, pos.committed, pos.last_offset, pos.lag) == ("odg.a.x", 0, 4, 4)


def test_commit_rewinds_but_never_beyond_the_end(log: EventLog) -> None:
    for _ in range(3):
        log.publish("odg.a.x", "a.x", "r", "alice")
    log.commit("c", "odg.a.x", 2)
    log.commit("c", "odg.a.x", -1)  # replay from the start
    assert [m.offset for m in log.poll("c", "odg.a.x")] == [0, 1, 2]
    with pytest.raises(EventLogError, match="offsets run from 0 to 2"):
        log.commit("c", "odg.a.x", 3)
    with pytest.raises(EventLogError, match="no messages"):
        log.commit("c", "odg.empty.topic", 0)


# -- gap-free offsets with concurrent writer processes -------------------------------------------

WRITER = textwrap.dedent(
    """
    import json, sys, time
    from odg_workbench.state import StateStore
    from odg_workbench.governance.eventlog import EventLog
    url, who, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    log = EventLog(StateStore(url))
    log.last_offset("odg.test.main")   # connection and tables ready before the start
    while time.time() < start:
        time.sleep(0.001)
    out = []
    for i in range(n):
        m = log.publish("odg.test.main", "test.write", who, who, {"seq": i})
        out.append(m.offset)
        if i % 4 == 0:
            log.publish("odg.test.side", "test.write", who, who, {"seq": i})
        time.sleep(0.001)   # a producer between two events; lets the other writer in
    print(json.dumps(out))
    """
)


def _publish_concurrently(url: str, n: int) -> None:
    log = EventLog(StateStore(url))
    log.topics()  # create the tables before the writers race
    start = time.time() + 4
    procs = {
        who: subprocess.Popen(
            [sys.executable, "-c", WRITER, url, who, str(n), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("alice", "bob")
    }
    returned: dict[str, list[int]] = {}
    for who, p in procs.items():
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        returned[who] = json.loads(out)

    main = log.read("odg.test.main", limit=10 * n)
    assert [m.offset for m in main] == list(range(2 * n)), "offsets have gaps or duplicates"
    for who in ("alice", "bob"):
        mine = [m for m in main if m.actor == who]
        assert [m.payload["seq"] for m in mine] == list(range(n)), f"{who}'s messages are out of order"
        assert [m.offset for m in mine] == returned[who], "publish returned another offset than was stored"
    switches = sum(a.actor != b.actor for a, b in itertools.pairwise(main))
    assert switches >= 2, "the writers did not overlap; the test proves nothing"
    side = log.read("odg.test.side", limit=10 * n)
    assert [m.offset for m in side] == list(range(2 * len(range(0, n, 4))))
    log.state.dispose()


@pytest.mark.slow
def test_offsets_are_gap_free_with_two_writer_processes_sqlite(tmp_path: Path) -> None:
    _publish_concurrently(f"sqlite:///{tmp_path / 'state.db'}", 150)


@pytest.mark.slow
@pytest.mark.postgres
def test_offsets_are_gap_free_with_two_writer_processes_postgres(postgres_url: str) -> None:
    _publish_concurrently(new_pg_database(postgres_url, f"events_{uuid.uuid4().hex[:8]}"), 150)


@pytest.mark.postgres
def test_consumer_groups_on_postgres(postgres_url: str) -> None:
    store = StateStore(new_pg_database(postgres_url, f"events_{uuid.uuid4().hex[:8]}"))
    log = EventLog(store)
    sent = [log.publish("odg.a.x", "a.x", "r", "alice", {"i": i}) for i in range(3)]
    assert log.read("odg.a.x") == sent
    assert [m.offset for m in log.poll("c", "odg.a.x")] == [0, 1, 2]
    assert [m.offset for m in log.poll("c", "odg.a.x")] == [0, 1, 2]
    log.commit("c", "odg.a.x", 1)
    assert [m.offset for m in log.poll("c", "odg.a.x")] == [2] and log.lag("c", "odg.a.x") == 1
    assert log.publish("odg.a.x", "a.x", "r", "alice", id=sent[0].id) == sent[0]
    (info,) = log.topics()
    assert (info.messages, info.last_offset) == (3, 2)
    store.dispose()


# -- transports -----------------------------------------------------------------------------


def test_make_transport(log: EventLog) -> None:
    embedded = make_transport("embedded", "", log.state)
    assert isinstance(embedded, EmbeddedTransport) and isinstance(embedded, EventTransport)
    nats = make_transport("NATS", "nats://example:4222", None, stream="S", timeout=2)
    assert isinstance(nats, NatsTransport) and (nats.url, nats.stream, nats.timeout) == ("nats://example:4222", "S", 2)
    kafka = make_transport("kafka", "", None)
    assert isinstance(kafka, KafkaTransport) and kafka.bootstrap_servers == "localhost:9092"
    assert isinstance(nats, EventTransport) and isinstance(kafka, EventTransport)
    with pytest.raises(ConfigError, match="embedded, nats, kafka") as info:
        make_transport("rabbitmq", "", None)
    assert info.value.details["setting"] == "events.backend"


def test_embedded_transport_and_relay(log: EventLog, tmp_path: Path) -> None:
    other = EventLog(StateStore(f"sqlite:///{tmp_path / 'mirror.db'}"))
    for i in range(3):
        log.publish("odg.a.x", "a.x", "r", "alice", {"i": i})
    mirror = EmbeddedTransport(other)
    assert log.relay(mirror, "mirror") == 3
    assert log.relay(mirror, "mirror") == 0  # committed: nothing left
    log.commit("mirror", "odg.a.x", -1)
    assert log.relay(mirror, "mirror") == 3  # re-sent, and de-duplicated by id
    assert [m.id for m in other.read("odg.a.x")] == [m.id for m in log.read("odg.a.x")]
    other.state.dispose()


class _FlakyTransport:
    def __init__(self, fail_at: int) -> None:
        self.sent: list[str] = []
        self.fail_at = fail_at

    def publish(self, message: Message) -> None:
        if len(self.sent) == self.fail_at:
            raise TransportError("broker down")
        self.sent.append(message.id)

    def close(self) -> None:
        pass


def test_relay_commits_only_what_the_broker_acknowledged(log: EventLog) -> None:
    for _ in range(4):
        log.publish("odg.a.x", "a.x", "r", "alice")
    flaky = _FlakyTransport(fail_at=2)
    with pytest.raises(TransportError):
        log.relay(flaky, "broker")
    assert log.committed("broker", "odg.a.x") == 1 and log.lag("broker", "odg.a.x") == 2
    flaky.fail_at = 99
    assert log.relay(flaky, "broker") == 2
    assert flaky.sent == [m.id for m in log.read("odg.a.x")]


# -- NATS JetStream against a real nats-server ---------------------------------------------------


def _nats_binary() -> str:
    found = shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if os.access(p, os.X_OK)), None
    )
    if found is None:
        if os.environ.get("ODG_REQUIRE_SERVERS"):
            pytest.fail("nats-server is required (ODG_REQUIRE_SERVERS=1) but was not found")
        pytest.skip("nats-server not installed (apt-get install nats-server)")
    return found


class NatsServer:
    """``nats-server -js`` on a free port with its own store folder."""

    def __init__(self, store: Path, *, jetstream: bool = True) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.log = store / "nats.log"
        cmd = [_nats_binary(), "-a", "127.0.0.1", "-p", str(self.port)]
        if jetstream:
            cmd += ["-js", "-sd", str(store / "js")]
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 20
        while True:  # accepts connections and speaks NATS (its greeting starts with INFO)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(4) == b"INFO":
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"nats-server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JetStream-enabled nats-server for the whole session."""
    server = NatsServer(tmp_path_factory.mktemp("nats"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def nats(nats_url: str) -> Iterator[NatsTransport]:
    transport = NatsTransport(nats_url, timeout=5)
    yield transport
    transport.close()


def _nats_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("odg-nats-")]


def test_nats_round_trip_through_the_relay(log: EventLog, nats: NatsTransport) -> None:
    topic = _topic()
    sent = [log.publish(topic, "test.write", f"bronze.t{i}", "alice", {"i": i}) for i in range(3)]
    assert log.relay(nats, "nats", topics=[topic]) == 3
    got = nats.read(topic)
    assert [(m.id, m.type, m.resource, m.payload, m.offset) for m in got] == [
        (m.id, m.type, m.resource, m.payload, m.offset) for m in sent
    ]
    assert got[0].time == sent[0].time
    info = nats.stream_info()
    assert info["stream"] == "ODG" and "odg.>" in info["subjects"]


def test_nats_drops_duplicate_message_ids(log: EventLog, nats: NatsTransport) -> None:
    topic = _topic()
    m = Message.new(topic, "test.write", "r", "alice", {"v": 1})
    nats.publish(m)
    nats.publish(m)  # a producer retry: acknowledged, not stored again
    nats.publish(Message.new(topic, "test.write", "r", "alice", {"v": 1}))  # same content, new id
    assert [x.payload for x in nats.read(topic, timeout=0.5)] == [{"v": 1}, {"v": 1}]
    assert nats.read(topic, limit=1)[0].id == m.id
    # a relay that crashed before committing re-sends; JetStream keeps one copy of each
    for _ in range(2):
        log.publish(topic, "test.write", "r", "alice")
    log.relay(nats, "nats", topics=[topic])
    log.commit("nats", topic, -1)
    assert log.relay(nats, "nats", topics=[topic]) == 2
    assert len(nats.read(topic, timeout=0.5)) == 4


def test_nats_durable_pull_consumer_continues_after_acks(nats: NatsTransport) -> None:
    topic = _topic()
    for i in range(3):
        nats.publish(Message.new(topic, "test.write", "r", "alice", {"i": i}))
    durable = f"reader_{uuid.uuid4().hex[:8]}"
    assert [m.payload["i"] for m in nats.read(topic, durable=durable, limit=2)] == [0, 1]
    assert [m.payload["i"] for m in nats.read(topic, durable=durable)] == [2]
    assert nats.read(topic, durable=durable, timeout=0.3) == []


def test_nats_creates_or_extends_the_stream(tmp_path: Path) -> None:
    import asyncio

    import nats as nats_py

    server = NatsServer(tmp_path)
    try:

        async def legacy_stream() -> None:
            nc = await nats_py.connect(server.url)
            await nc.jetstream().add_stream(name="ODG", subjects=["legacy.>"])
            await nc.close()

        asyncio.run(legacy_stream())
        with NatsTransport(server.url) as transport:
            transport.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
            assert transport.stream_info()["subjects"] == ["legacy.>", "odg.>"]
        other = NatsTransport(server.url, stream="OTHER")  # a second stream may not take odg.> too
        with pytest.raises(TransportError, match="overlap") as info:
            other.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
        other.close()
        assert info.value.details["url"] == server.url
    finally:
        server.stop()


def test_nats_server_without_jetstream(tmp_path: Path) -> None:
    server = NatsServer(tmp_path, jetstream=False)
    try:
        with NatsTransport(server.url, timeout=2) as transport, pytest.raises(TransportError) as info:
            transport.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
        assert "JetStream is not enabled on this server; start it with nats-server -js" in info.value.message
    finally:
        server.stop()


def test_nats_unreachable_server_fails_clearly_within_the_timeout() -> None:
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    transport = NatsTransport(url, timeout=2)
    t0 = time.monotonic()
    with pytest.raises(TransportError, match=re.escape(f"NATS at {url}")) as info:
        transport.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
    assert time.monotonic() - t0 < 3.5
    assert "connection refused" in info.value.message and "nats-server -js" in info.value.message
    assert isinstance(info.value, OdgError) and isinstance(info.value, ConnectionError)
    transport.close()
    assert _nats_threads() == []


def test_nats_silent_server_times_out() -> None:
    # accepts TCP connections but never speaks NATS
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"nats://127.0.0.1:{listener.getsockname()[1]}"
        transport = NatsTransport(url, timeout=1.5)
        t0 = time.monotonic()
        with pytest.raises(TransportError, match=r"no answer within 1\.5 s"):
            transport.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
        assert time.monotonic() - t0 < 3.5
        transport.close()


def test_nats_server_stopped_after_connecting(tmp_path: Path) -> None:
    server = NatsServer(tmp_path)
    transport = NatsTransport(server.url, timeout=2)
    try:
        transport.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
        server.stop()
        t0 = time.monotonic()
        with pytest.raises(TransportError, match=re.escape(server.url)):
            transport.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
        assert time.monotonic() - t0 < 3.5
    finally:
        transport.close()
        server.stop()
    assert _nats_threads() == []


# -- Kafka ------------------------------------------------------------------------------------


def test_kafka_unreachable_broker_fails_clearly() -> None:
    servers = f"127.0.0.1:{free_port()}"
    transport = KafkaTransport(servers, timeout=2)
    t0 = time.monotonic()
    with pytest.raises(TransportError, match=re.escape(f"Kafka at {servers}: no bootstrap server reachable")):
        transport.publish(Message.new("odg.a.x", "a.x", "r", "alice"))
    assert time.monotonic() - t0 < 3.5
    transport.close()


@pytest.mark.skipif(
    not os.environ.get("ODG_KAFKA_BOOTSTRAP"),
    reason="no Kafka broker: set ODG_KAFKA_BOOTSTRAP=host:9092 to run (auto.create.topics.enable needed)",
)
def test_kafka_round_trip() -> None:
    topic = _topic()
    with KafkaTransport(os.environ["ODG_KAFKA_BOOTSTRAP"], timeout=10) as kafka:
        sent = [Message.new(topic, "test.write", f"bronze.t{i}", "alice", {"i": i}) for i in range(3)]
        for m in sent:
            kafka.publish(m)
        got = kafka.read(topic, limit=3, timeout=10)
    assert sorted(m.id for m in got) == sorted(m.id for m in sent)
    assert {m.id: m.payload for m in got} == {m.id: m.payload for m in sent}


# -- CLI ------------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test app."""

    register(app)
    return app


def _run(app: typer.Typer, *args: str, code: int = 0) -> Any:
    # wide enough that rich does not fold the human tables' cells (xdist workers set COLUMNS)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.stdout + result.stderr
    return result


def test_cli_topics_tail_and_lag(cli: typer.Typer, ws: odg.Workbench) -> None:
    log = EventLog(ws.state)
    for i in range(3):
        log.publish("odg.lakehouse.changes", "lakehouse.ingest", "bronze.t", "alice", {"rows": i})
    log.publish("odg.quality.reports", "quality.report", "bronze.t", "bob", {"score": 0.9})
    w = ("-w", str(ws.root))

    topics = json.loads(_run(cli, "events", "topics", "--json", *w).stdout)
    assert [{k: t[k] for k in ("topic", "messages", "first_offset", "last_offset")} for t in topics] == [
        {"topic": "odg.lakehouse.changes", "messages": 3, "first_offset": 0, "last_offset": 2},
        {"topic": "odg.quality.reports", "messages": 1, "first_offset": 0, "last_offset": 0},
    ]
    assert datetime.fromisoformat(topics[0]["last_time"]).tzinfo is not None

    tail = json.loads(_run(cli, "events", "tail", "odg.lakehouse.changes", "-n", "2", "--json", *w).stdout)
    assert set(tail) == {"topic", "consumer", "messages", "committed", "lag"}
    assert (tail["consumer"], tail["committed"], tail["lag"]) == (None, None, None)
    assert [m["offset"] for m in tail["messages"]] == [1, 2]
    assert set(tail["messages"][0]) == {"id", "topic", "type", "resource", "actor", "time", "payload", "offset"}

    args = ("events", "tail", "odg.lakehouse.changes", "--consumer", "audit", "-n", "2", "--json", *w)
    polled = json.loads(_run(cli, *args).stdout)
    assert [m["offset"] for m in polled["messages"]] == [0, 1] and (polled["committed"], polled["lag"]) == (-1, 3)
    again = json.loads(_run(cli, *args).stdout)
    assert [m["id"] for m in again["messages"]] == [m["id"] for m in polled["messages"]]  # not committed
    committed = json.loads(_run(cli, *args, "--commit").stdout)
    assert (committed["committed"], committed["lag"]) == (1, 1)
    rest = json.loads(_run(cli, *args, "--commit").stdout)
    assert [m["offset"] for m in rest["messages"]] == [2] and rest["lag"] == 0

    lag = json.loads(_run(cli, "events", "lag", "audit", "--json", *w).stdout)
    assert lag["consumer"] == "audit" and lag["lag"] == 0
    assert [{k: p[k] for k in ("topic", "committed", "last_offset", "lag")} for p in lag["topics"]] == [
        {"topic": "odg.lakehouse.changes", "committed": 2, "last_offset": 2, "lag": 0}
    ]

    human = _run(cli, "events", "topics", *w).stdout
    assert "odg.lakehouse.changes" in human and "0..2" in human
    assert "lakehouse.ingest" in _run(cli, "events", "tail", "odg.lakehouse.changes", *w).stdout


def test_cli_errors(cli: typer.Typer, ws: odg.Workbench) -> None:
    w = ("-w", str(ws.root))
    missing = _run(cli, "events", "lag", "nobody", "--json", *w, code=1)
    error = json.loads(missing.stdout)["error"]
    assert error["type"] == "EventLogError" and "has not read any topic" in error["message"]
    assert "error:" in _run(cli, "events", "lag", "nobody", *w, code=1).stderr
    usage = _run(cli, "events", "tail", "odg.a.x", "--commit", *w, code=2)
    assert "--commit needs --consumer" in usage.stderr
    bad = _run(cli, "events", "tail", "not-a-topic", "--json", *w, code=1)
    assert json.loads(bad.stdout)["error"]["field"] == "topic"
    empty = _run(cli, "events", "tail", "odg.nothing.here", *w)
    assert "no messages on odg.nothing.here" in empty.stderr


# -- the workspace publishes every state change on its topic -------------------------------


def test_workspace_state_changes_land_on_their_topics(ws: Any) -> None:
    import pyarrow as pa

    ws.ingest(pa.table({"a": [1]}), "bronze.t")
    ws.table("bronze.t").tag("v1")
    topics = {t.topic: t.messages for t in ws.eventlog.topics()}
    assert topics["odg.lakehouse.changes"] == 2
    messages = ws.eventlog.read("odg.lakehouse.changes")
    assert [m.type for m in messages] == ["lakehouse.ingest", "lakehouse.tag"]
    assert messages[0].resource == "bronze.t" and messages[0].actor == "tester"


def test_workspace_relays_to_nats_when_configured(ws: Any, nats_url: str) -> None:
    import pyarrow as pa

    ws.config.set("events.backend", "nats")
    ws.config.set("events.url", nats_url)
    ws.ingest(pa.table({"a": [1]}), "bronze.relayed")
    transport = NatsTransport(nats_url, timeout=5)
    try:
        got = [m for m in transport.read("odg.lakehouse.changes") if m.resource == "bronze.relayed"]
    finally:
        transport.close()
    assert [m.type for m in got] == ["lakehouse.ingest"]
    assert ws.relay_events() == 0  # nothing left undelivered
