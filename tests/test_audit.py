"""The audit trail: the chain is what the documentation says, and any tampering is found where it happened.

Hashes are recomputed here with hashlib and json alone (``_ref_hash``), never with the
module under test, so a mistake in the library's canonical form cannot hide itself.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import itertools
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import odg_workbench as odg
from odg_workbench.cli.audit import CHAIN_BROKEN, register
from odg_workbench.errors import OdgError
from odg_workbench.events import Event
from odg_workbench.governance import verify_audit
from odg_workbench.governance.audit import GENESIS, AuditError, AuditLog, AuditRecord, format_time
from odg_workbench.governance.verify_audit import (
    VerifyResult,
    canonical_event,
    canonical_json,
    canonical_text,
    verify_lines,
)
from odg_workbench.state import StateStore
from tests.conftest import new_pg_database

UTF8 = st.characters(blacklist_categories=("Cs",))  # text that UTF-8 can encode (no lone surrogates)

VERIFIER = Path(verify_audit.__file__)
COLUMNS = ("position", "type", "actor", "resource", "time", "trace_id", "payload", "hash")

# -- an independent reference implementation of the documented format -------------------------


def _ref_canonical(event: dict[str, Any]) -> bytes:
    keys = ("position", "type", "actor", "resource", "time", "trace_id", "payload")
    return json.dumps({k: event[k] for k in keys}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _ref_hash(prev: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(prev.encode("ascii") + _ref_canonical(event)).hexdigest()


def _ref_chain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events with position 0.. and their hashes, chained from 64 zeros."""
    out, prev = [], "0" * 64
    for i, e in enumerate(events):
        full = {**e, "position": i}
        full["hash"] = prev = _ref_hash(prev, full)
        out.append(full)
    return out


T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

# Twelve events exercising what the canonical form must get right: non-ASCII text, quotes,
# backslashes and newlines, nested payloads, floats (2.0 too), null trace ids, empty resources.
BASE_INPUT: list[dict[str, Any]] = [
    {"type": "workspace.init", "actor": "alice", "resource": "", "payload": {}, "trace_id": None},
    {
        "type": "lakehouse.ingest",
        "actor": "alice",
        "resource": "bronze.orders",
        "payload": {"rows": 3, "snapshot_id": 912},
    },
    {
        "type": "lakehouse.ingest",
        "actor": "bob",
        "resource": "bronze.clientes",
        "payload": {"rows": 10, "note": "café ☕ 中文"},
    },
    {
        "type": "quality.report",
        "actor": "bob",
        "resource": "bronze.orders",
        "payload": {"score": 0.875, "ratio": 2.0, "ok": True},
    },
    {
        "type": "decision.create",
        "actor": "carol",
        "resource": "silver.orders",
        "payload": {"why": 'a "quoted"\nline \\ end'},
    },
    {
        "type": "decision.approve",
        "actor": "dave",
        "resource": "silver.orders",
        "payload": {"votes": [1, 2, {"x": None}]},
    },
    {
        "type": "promotion.done",
        "actor": "dave",
        "resource": "silver.orders",
        "payload": {"from": "bronze", "to": "silver"},
    },
    {
        "type": "lakehouse.tag",
        "actor": "ève",
        "resource": "silver.orders",
        "payload": {"tag": "v1", "nested": {"b": 1, "a": 2}},
    },
    {"type": "lakehouse.rollback", "actor": "alice", "resource": "bronze.orders", "payload": {"to": -5, "big": 2**60}},
    {
        "type": "policy.update",
        "actor": "root",
        "resource": "policies/pii.rego",
        "payload": {"lines": 42, "tiny": 1e-07},
    },
    {"type": "lakehouse.expire", "actor": "cron", "resource": "bronze.orders", "payload": {"kept": [], "empty": {}}},
    {"type": "audit.export", "actor": "auditor", "resource": "audit", "payload": {"emoji": "🎉", "tab": "a\tb"}},
]
TRACES = [None, "t-1", "t-1", None, "trace-ü", "t-2", "t-2", None, "t 5", "t-3", None, "t-4"]
TIMES = [T0 + timedelta(seconds=i, microseconds=7 * i) for i in range(len(BASE_INPUT))]


def _base_events() -> list[dict[str, Any]]:
    return [
        {**e, "trace_id": TRACES[i], "time": TIMES[i].strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        for i, e in enumerate(BASE_INPUT)
    ]


BASE = _ref_chain(_base_events())
N = len(BASE)
HEAD = f"{N - 1}:{BASE[-1]['hash']}"


def _append_base(log: AuditLog) -> list[AuditRecord]:
    return log.append_many({**e, "trace_id": TRACES[i], "time": TIMES[i]} for i, e in enumerate(BASE_INPUT))


def _line(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


BASE_LINES = [_line(e) for e in BASE]


def _state_path(state: StateStore) -> Path:
    assert state.url.startswith("sqlite:///")
    return Path(state.url.removeprefix("sqlite:///"))


def _db_rows(path: Path) -> list[dict[str, Any]]:
    con = sqlite3.connect(path)
    try:
        rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_events ORDER BY position").fetchall()
    finally:
        con.close()
    return [{**dict(zip(COLUMNS, r)), "payload": r[6]} for r in rows]


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    """An audit log on its own state database: the library needs no workspace."""
    state = StateStore(f"sqlite:///{tmp_path}/state.db")
    yield AuditLog(state)
    state.dispose()


@pytest.fixture
def ws_log(ws: odg.Workbench) -> AuditLog:
    """The audit log of a workspace, emptied (whatever opening the workspace recorded is gone)."""
    log = AuditLog(ws.state)
    log.head()
    with ws.state.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_events")
    return log


# -- appending ---------------------------------------------------------------------------------


def test_appends_chain_as_documented(log: AuditLog) -> None:
    assert log.head() == (-1, "0" * 64)
    assert log.verify() == VerifyResult(True, 0, GENESIS)
    records = [
        log.append(e["type"], e["actor"], e["resource"], e["payload"], trace_id=TRACES[i], time=TIMES[i])
        for i, e in enumerate(BASE_INPUT)
    ]
    assert [r.position for r in records] == list(range(N))
    assert [r.hash for r in records] == [e["hash"] for e in BASE]
    assert [r.to_dict() for r in records] == BASE
    assert records[3].canonical() == _ref_canonical(BASE[3])
    assert log.head() == (N - 1, BASE[-1]["hash"])
    # what is stored is exactly what was hashed: the time string and the payload's canonical JSON
    stored = _db_rows(_state_path(log.state))
    assert [r["time"] for r in stored] == [e["time"] for e in BASE]
    assert [r["payload"] for r in stored] == [
        json.dumps(e["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False) for e in BASE
    ]
    assert log.verify() == VerifyResult(True, N, BASE[-1]["hash"])
    assert log.verify(HEAD).ok and log.verify(BASE[-1]["hash"]).ok and log.verify(f"3:{BASE[3]['hash']}").ok


def test_append_many_is_one_transaction(log: AuditLog) -> None:
    assert [r.hash for r in _append_base(log)] == [e["hash"] for e in BASE]
    good = {"type": "t.x", "actor": "a", "resource": "r", "payload": {"i": 1}}
    with pytest.raises(AuditError, match=r"payload\.bad is a builtins\.set"):
        log.append_many([good, good, {**good, "payload": {"bad": {1, 2}}}])
    with pytest.raises(AuditError, match="item 1 of the batch lacks actor"):
        log.append_many([good, {"type": "t.x", "resource": "r"}])
    assert log.head() == (N - 1, BASE[-1]["hash"]), "a failed batch left events behind"
    assert log.append_many([]) == []

    more = log.append_many([good, Event("lakehouse.tag", "bronze.orders", "zoe", {"tag": "v2"}, T0)])
    assert [r.position for r in more] == [N, N + 1]
    assert more[1].actor == "zoe" and more[1].payload == {"tag": "v2"}
    assert log.verify().ok


def test_time_is_utc_with_microseconds_and_z(log: AuditLog) -> None:
    paris = timezone(timedelta(hours=1))
    rec = log.append("t", "a", "r", time=datetime(2026, 1, 1, 13, 0, 0, tzinfo=paris))
    assert rec.to_dict()["time"] == "2026-01-01T12:00:00.000000Z"
    assert rec.time == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert format_time(datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "0999-01-02T03:04:05.000006Z"
    with pytest.raises(AuditError, match="no time zone"):
        log.append("t", "a", "r", time=datetime(2026, 1, 1))
    before = datetime.now(UTC)
    assert before <= log.append("t", "a", "r").time <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        pytest.param(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "2026-01-02T03:04:05.000006Z", id="datetime"),
        pytest.param(date(2026, 1, 2), "2026-01-02", id="date"),
        pytest.param(Decimal("1.10"), "1.10", id="decimal"),
        pytest.param(PurePosixPath("data/x.csv"), "data/x.csv", id="path"),
        pytest.param(uuid.UUID(int=5), "00000000-0000-0000-0000-000000000005", id="uuid"),
        pytest.param((1, "a"), [1, "a"], id="tuple"),
    ],
)
def test_payload_conversions_are_deterministic(log: AuditLog, value: Any, stored: Any) -> None:
    rec = log.append("t", "a", "r", {"v": value})
    assert rec.payload == {"v": stored}
    assert log.records()[0].payload == {"v": stored}
    assert log.verify().ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"payload": {"v": {1}}}, r"payload\.v is a builtins\.set", id="set"),
        pytest.param({"payload": {"v": [0, b"x"]}}, r"payload\.v\[1\] is a builtins\.bytes", id="bytes"),
        pytest.param({"payload": {"v": float("nan")}}, "payload.v is nan", id="nan"),
        pytest.param({"payload": {"v": float("inf")}}, "payload.v is inf", id="inf"),
        pytest.param({"payload": {"v": Decimal("NaN")}}, "payload.v is NaN", id="decimal-nan"),
        pytest.param({"payload": {1: "x"}}, "keys must be strings", id="int-key"),
        pytest.param({"payload": {"v": datetime(2026, 1, 1)}}, "without a time zone", id="naive"),
        pytest.param({"payload": {"v": "\ud800"}}, "lone surrogate", id="surrogate"),
        pytest.param({"payload": ["not", "a", "dict"]}, "payload must be a dict", id="list"),
        pytest.param({"payload": (loop := {"a": []}, loop["a"].append(loop))[0]}, "contains itself", id="cycle"),
        pytest.param({"type": ""}, "type must not be empty", id="empty-type"),
        pytest.param({"actor": 5}, "actor must be a string", id="actor-int"),
        pytest.param({"resource": "a\x00b"}, "NUL", id="nul"),
        pytest.param({"trace_id": 7}, "trace_id must be a string", id="trace-int"),
    ],
)
def test_bad_events_are_refused_with_a_clear_error(log: AuditLog, kwargs: dict[str, Any], message: str) -> None:
    args = {"type": "t", "actor": "a", "resource": "r", "payload": None} | kwargs
    with pytest.raises(AuditError, match=message) as info:
        log.append(args.pop("type"), args.pop("actor"), args.pop("resource"), args.pop("payload"), **args)
    assert isinstance(info.value, ValueError) and isinstance(info.value, OdgError)
    assert log.head() == (-1, GENESIS)


def test_records_filters(log: AuditLog) -> None:
    _append_base(log)
    log.append("Lakehouse.ingest", "x", "bronze.orders")  # type prefixes are case-sensitive
    log.append("lake%_x", "x", "y")  # LIKE wildcards in a prefix are plain characters
    assert [r.position for r in log.records(type_prefix="lakehouse.")] == [1, 2, 7, 8, 10]
    assert [r.position for r in log.records(type_prefix="lake%")] == [N + 1]
    assert [r.position for r in log.records(resource="bronze.orders")] == [1, 3, 8, 10, N]
    assert [r.position for r in log.records(since=10, limit=2)] == [10, 11]
    assert [r.position for r in log.records(limit=3, newest_first=True)] == [N + 1, N, N - 1]
    assert [r.to_dict() for r in log.records(limit=N)] == BASE
    with pytest.raises(AuditError, match="limit"):
        log.records(limit=-1)


@settings(max_examples=150, deadline=None)
@given(
    position=st.integers(0, 2**62),
    type_=st.text(UTF8),
    actor=st.text(UTF8),
    resource=st.text(UTF8),
    time_=st.text(UTF8, max_size=30),
    trace_id=st.none() | st.text(UTF8),
    payload=st.dictionaries(
        st.text(UTF8),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(UTF8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(UTF8, max_size=5), inner, max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    ),
)
def test_fast_canonical_form_equals_the_reference(
    position: int, type_: str, actor: str, resource: str, time_: str, trace_id: str | None, payload: dict[str, Any]
) -> None:
    event = {"position": position, "type": type_, "actor": actor, "resource": resource, "time": time_}
    event |= {"trace_id": trace_id, "payload": payload}
    payload_json = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(payload) == payload_json
    text = canonical_text(position, type_, actor, resource, time_, trace_id, payload_json)
    assert text.encode("utf-8") == _ref_canonical(event) == canonical_event(event)
    # and the stdlib verifier accepts a one-event chain built by the reference
    line = _line({**event, "hash": _ref_hash(GENESIS, event)})
    assert verify_lines([line]).ok is (position == 0)


# -- tampering: one model of each kind, applied to the database and to an export --------------


@dataclass(frozen=True)
class Tamper:
    kind: str  # modify | delete | truncate | insert | reorder | flip (export only)
    index: int = 0
    field: str = ""
    value: Any = None
    chained: bool = False
    order: tuple[int, ...] = ()
    forged: tuple[Any, ...] = ()

    def expected_first_bad(self, where: str, anchor: str | None = None) -> int | None:
        """The first bad position, or None when the tampered chain is (legitimately) intact."""
        if self.kind == "modify":
            if where == "db" and self.field == "position" and self.value < 0:
                return 0  # a row moved before the genesis is the first row read
            return self.index
        if self.kind == "delete":
            return self.index if self.index < N - 1 else None
        if self.kind == "truncate":
            return None
        if self.kind == "insert":
            if not self.chained:
                return self.index
            if anchor == HEAD and self.index == N - 1:
                return self.index  # the forged event sits at the recorded head's position
            return self.index + 1 if self.index < N else None
        if self.kind == "reorder":
            return next(k for k, j in enumerate(self.order) if k != j)
        raise AssertionError(self.kind)

    def expected_length(self) -> int:
        """Events left after the tampering (for an intact result)."""
        return {"delete": N - 1, "truncate": N - self.index, "insert": N + 1}.get(self.kind, N)


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # no lone surrogates: not UTF-8


def _field_values(field: str, where: str) -> st.SearchStrategy[Any]:
    if field == "position":
        if where == "db":  # must not collide with the primary key of another row
            return st.integers(-(10**6), -1) | st.integers(N, 10**6)
        return st.integers(-5, N + 5) | st.sampled_from(["0", 1.0, True, None])
    if field == "hash":
        return st.text("0123456789abcdef", min_size=64, max_size=64) | TEXT
    if field == "payload":
        if where == "db":
            return TEXT | st.dictionaries(TEXT, st.integers() | TEXT, max_size=2).map(
                lambda d: json.dumps(d, sort_keys=True, separators=(",", ":"))
            )
        return st.dictionaries(TEXT, st.integers() | TEXT, max_size=2) | TEXT | st.integers()
    if field == "trace_id":
        return st.none() | TEXT
    return TEXT if where == "db" else TEXT | st.integers() | st.none()


@st.composite
def tampers(draw: st.DrawFn, where: str) -> Tamper:
    kinds = ["modify", "delete", "truncate", "insert", "reorder"] + (["flip"] if where == "file" else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "modify":
        i = draw(st.integers(0, N - 1))
        field = draw(st.sampled_from(COLUMNS))
        old = BASE[i][field] if field != "payload" or where == "file" else BASE_LINES_PAYLOAD[i]
        value = draw(_field_values(field, where).filter(lambda v: v != old or type(v) is not type(old)))
        return Tamper("modify", i, field, value)
    if kind == "delete":
        return Tamper("delete", draw(st.integers(0, N - 1)))
    if kind == "truncate":
        return Tamper("truncate", draw(st.integers(1, N)))
    if kind == "insert":
        forged = (
            draw(TEXT.filter(bool)),
            draw(TEXT),
            draw(TEXT),
            draw(TEXT),
            draw(st.none() | TEXT),
            draw(st.dictionaries(TEXT, st.integers(), max_size=2)),
        )
        return Tamper("insert", draw(st.integers(0, N)), chained=draw(st.booleans()), forged=forged)
    if kind == "reorder":
        order = draw(st.permutations(range(N)).filter(lambda p: list(p) != list(range(N))))
        return Tamper("reorder", order=tuple(order))
    line = draw(st.integers(0, N - 1))
    col = draw(st.integers(0, len(BASE_LINES[line]) - 1))
    return Tamper(
        "flip", line, value=(col, draw(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",))))
    )


BASE_LINES_PAYLOAD = [json.dumps(e["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False) for e in BASE]


def _forged_event(t: Tamper, prev_hash: str) -> dict[str, Any]:
    type_, actor, resource, time_, trace_id, payload = t.forged
    event = {"position": t.index, "type": type_, "actor": actor, "resource": resource, "time": time_}
    event |= {"trace_id": trace_id, "payload": payload}
    event["hash"] = _ref_hash(prev_hash, event) if t.chained else "f" * 63 + "0"
    return event


def _tamper_db(path: Path, t: Tamper) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        if t.kind == "modify":
            con.execute(f'UPDATE audit_events SET "{t.field}" = ? WHERE position = ?', (t.value, t.index))
        elif t.kind == "delete":
            con.execute("DELETE FROM audit_events WHERE position = ?", (t.index,))
        elif t.kind == "truncate":
            con.execute("DELETE FROM audit_events WHERE position >= ?", (N - t.index,))
        elif t.kind == "insert":
            con.execute("UPDATE audit_events SET position = position + 1000000 WHERE position >= ?", (t.index,))
            con.execute("UPDATE audit_events SET position = position - 999999 WHERE position >= 1000000")
            prev = BASE[t.index - 1]["hash"] if t.index else GENESIS
            e = _forged_event(t, prev)
            e["payload"] = json.dumps(e["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            con.execute(f"INSERT INTO audit_events VALUES ({', '.join('?' * 8)})", [e[c] for c in COLUMNS])
        elif t.kind == "reorder":
            rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_events ORDER BY position").fetchall()
            con.execute("DELETE FROM audit_events")
            for k, j in enumerate(t.order):
                con.execute(f"INSERT INTO audit_events VALUES ({', '.join('?' * 8)})", (k, *rows[j][1:]))
        else:
            raise AssertionError(t.kind)
    finally:
        con.close()


def _tamper_lines(t: Tamper) -> list[str]:
    events = [dict(e) for e in BASE]
    if t.kind == "modify":
        events[t.index][t.field] = t.value
    elif t.kind == "delete":
        del events[t.index]
    elif t.kind == "truncate":
        del events[N - t.index :]
    elif t.kind == "insert":
        events.insert(t.index, _forged_event(t, BASE[t.index - 1]["hash"] if t.index else GENESIS))
    elif t.kind == "reorder":
        events = [events[j] for j in t.order]
    elif t.kind == "flip":
        lines = list(BASE_LINES)
        col, char = t.value
        lines[t.index] = lines[t.index][:col] + char + lines[t.index][col + 1 :]
        return lines
    return [_line(e) for e in events]


def _flip_changes_the_event(t: Tamper, lines: list[str]) -> bool:
    try:
        return bool(json.loads(lines[t.index]) != BASE[t.index])
    except ValueError:
        return True


def _anchor(kind: str) -> str | None:
    return {"none": None, "position": HEAD, "hash": BASE[-1]["hash"]}[kind]


def _expected(t: Tamper, where: str, anchor: str | None) -> tuple[bool, int]:
    """(ok, events or first_bad)."""
    first_bad = t.expected_first_bad(where, anchor)
    if first_bad is not None:
        return False, first_bad
    if anchor is not None and t.kind in ("delete", "truncate"):
        return False, t.expected_length()  # the cut-off end is found against the recorded head
    return True, t.expected_length()


def _reason_hint(t: Tamper, ok: bool) -> str | None:
    if ok or t.kind not in ("delete", "truncate"):
        return None
    if t.kind == "delete" and t.index < N - 1:
        return "expected position"
    return "removed from the end"


def _check(result: VerifyResult, ok: bool, n: int, hashes: list[str], hint: str | None = None) -> None:
    assert hint is None or hint in (result.reason or ""), result
    assert result.ok is ok, result
    assert result.events == n, result
    if ok:
        assert result.first_bad is None and result.reason is None
    else:
        assert result.first_bad == n, result
        assert result.reason
    assert result.head == (hashes[n - 1] if n else GENESIS), result


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit-base") / "state.db"
    state = StateStore(f"sqlite:///{path}")
    assert [r.hash for r in _append_base(AuditLog(state))] == [e["hash"] for e in BASE]
    state.dispose()
    return path


@contextlib.contextmanager
def _copy_of(base: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        dst = Path(folder) / "state.db"
        src, out = sqlite3.connect(base), sqlite3.connect(dst)
        try:
            src.backup(out)
        finally:
            src.close()
            out.close()
        yield dst


ANCHORS = st.sampled_from(["none", "position", "hash"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tampers("db"), anchor=ANCHORS)
def test_tampering_the_table_is_found_where_it_happened(base_db: Path, t: Tamper, anchor: str) -> None:
    with _copy_of(base_db) as path:
        _tamper_db(path, t)
        state = StateStore(f"sqlite:///{path}")
        try:
            log = AuditLog(state)
            result = log.verify(_anchor(anchor))
            exported = log.export(path.parent / "audit.jsonl")
            from_file = AuditLog.verify_file(exported.path, _anchor(anchor))
        finally:
            state.dispose()
        hashes = [r["hash"] for r in _db_rows(path)]
    ok, n = _expected(t, "db", _anchor(anchor))
    _check(result, ok, n, hashes, _reason_hint(t, ok))
    # the export of the tampered table tells the same story
    assert (from_file.ok, from_file.events, from_file.first_bad, from_file.head) == (
        result.ok,
        result.events,
        result.first_bad,
        result.head,
    )


def _line_hashes(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        try:
            out.append(json.loads(line)["hash"])
        except (ValueError, KeyError, TypeError):
            out.append("<unreadable>")
    return out


@settings(max_examples=300, deadline=None)
@given(t=tampers("file"), anchor=ANCHORS)
def test_tampering_an_export_is_found_where_it_happened(t: Tamper, anchor: str) -> None:
    lines = _tamper_lines(t)
    result = verify_lines([line + "\n" for line in lines], _anchor(anchor))
    if t.kind == "flip":
        try:
            changed = _line(json.loads(lines[t.index])) != BASE_LINES[t.index]
        except ValueError:
            changed = True
        ok, n = (False, t.index) if changed else (True, N)
    else:
        ok, n = _expected(t, "file", _anchor(anchor))
    _check(result, ok, n, _line_hashes(lines), None if t.kind == "flip" else _reason_hint(t, ok))
    as_bytes = verify_lines([line.encode("utf-8") + b"\n" for line in lines], _anchor(anchor))
    assert as_bytes == result


def test_truncation_needs_a_recorded_head(log: AuditLog, tmp_path: Path) -> None:
    _append_base(log)
    position, digest = log.head()
    anchor = f"{position}:{digest}"
    full = log.export(tmp_path / "full.jsonl")
    con = sqlite3.connect(_state_path(log.state), isolation_level=None)
    con.execute("DELETE FROM audit_events WHERE position >= 9")
    con.close()
    # without a head, a shorter chain is a valid chain: nothing can tell it was longer
    assert log.verify() == VerifyResult(True, 9, BASE[8]["hash"])
    for head in (anchor, digest):
        cut = log.verify(head)
        assert (cut.ok, cut.events, cut.first_bad, cut.head) == (False, 9, 9, BASE[8]["hash"])
        assert "removed from the end" in (cut.reason or "")
    assert "3 events removed" in (log.verify(anchor).reason or "")
    short = log.export(tmp_path / "short.jsonl")
    assert AuditLog.verify_file(short.path).ok
    assert AuditLog.verify_file(short.path, anchor).first_bad == 9
    # an older head stays valid while the log grows
    assert AuditLog.verify_file(full.path, f"4:{BASE[4]['hash']}").ok
    # a chain rewritten from position 5 on, every later hash recomputed, only a head can catch
    events = [dict(e) for e in BASE]
    events[5]["actor"] = "mallory"
    forged = _ref_chain([{k: v for k, v in e.items() if k not in ("position", "hash")} for e in events])
    lines = [_line(e) + "\n" for e in forged]
    assert verify_lines(lines).ok
    rewritten = verify_lines(lines, anchor)
    assert (rewritten.ok, rewritten.first_bad) == (False, N - 1)
    assert "rewritten" in (rewritten.reason or "")
    assert verify_lines(lines, digest).first_bad == N
    with pytest.raises(AuditError, match="64 hex digits"):
        log.verify("11:abc")
    with pytest.raises(AuditError, match="integer position"):
        log.verify(f"x:{digest}")


def test_verify_streams_in_batches_and_reports_progress(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import odg_workbench.governance.audit as audit

    monkeypatch.setattr(audit, "_READ_BATCH", 5)
    _append_base(log)
    seen: list[tuple[int, int]] = []
    assert log.verify(progress=lambda done, total: seen.append((done, total))) == VerifyResult(
        True, N, BASE[-1]["hash"]
    )
    assert seen == [(5, N), (10, N), (12, N)]
    con = sqlite3.connect(_state_path(log.state), isolation_level=None)
    con.execute("DELETE FROM audit_events WHERE position = 5")  # a gap exactly at a batch boundary
    con.close()
    assert log.verify().first_bad == 5
    assert [r.position for r in log.records()] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert log.export(tmp_path / "x.jsonl").events == N - 1


def test_export_is_canonical_and_atomic(log: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _append_base(log)
    target = tmp_path / "out" / "audit.jsonl"
    result = log.export(target)
    assert (result.path, result.events, result.head) == (target, N, BASE[-1]["hash"])
    assert target.read_text(encoding="utf-8") == "".join(line + "\n" for line in BASE_LINES)
    assert "".join(log.export_lines()) == target.read_text(encoding="utf-8")
    with pytest.raises(AuditError, match="unknown export format"):
        log.export(target, format="csv")
    # a failure while writing leaves the previous file whole and no temporary file behind
    import odg_workbench.governance.audit as audit

    def boom(row: Any) -> str:
        raise RuntimeError("disk full")

    log.append("t", "a", "r")
    monkeypatch.setattr(audit, "_export_line", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        log.export(target)
    assert target.read_text(encoding="utf-8") == "".join(line + "\n" for line in BASE_LINES)
    assert sorted(p.name for p in target.parent.iterdir()) == ["audit.jsonl"]


# -- the stdlib verifier -------------------------------------------------------------------------


def test_verifier_imports_only_the_standard_library() -> None:
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            imported.add((node.module or "").split(".")[0])
    assert imported, "no imports found: the check is broken"
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(sys.stdlib_module_names)


def _isolated_verify(copy: Path, export: Path, *args: str) -> tuple[int, dict[str, Any]]:
    # -I: no user site, no PYTHON* variables, not the script's folder; -S: no site-packages at all
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(copy), str(export), *args],
        capture_output=True,
        text=True,
        cwd=copy.parent,
        timeout=60,
    )
    return proc.returncode, json.loads(proc.stdout)


def test_a_copy_of_the_verifier_agrees_with_the_workbench(log: AuditLog, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    copy = Path(shutil.copy(VERIFIER, elsewhere / "verify_audit.py"))
    no_workbench = subprocess.run(
        [sys.executable, "-I", "-S", "-c", "import odg_workbench"], capture_output=True, cwd=elsewhere
    )
    assert no_workbench.returncode != 0, "the isolated interpreter can import the workbench: the test proves nothing"

    _append_base(log)
    anchor = "{}:{}".format(*log.head())
    good = log.export(tmp_path / "good.jsonl").path
    assert _isolated_verify(copy, good) == (0, log.verify().to_dict())
    assert _isolated_verify(copy, good, "--head", anchor) == (0, log.verify(anchor).to_dict())

    con = sqlite3.connect(_state_path(log.state), isolation_level=None)
    con.execute("UPDATE audit_events SET actor = 'mallory' WHERE position = 6")
    con.close()
    tampered = log.export(tmp_path / "tampered.jsonl").path
    expected = log.verify().to_dict()
    assert expected["first_bad"] == 6
    assert _isolated_verify(copy, tampered) == (CHAIN_BROKEN, expected)
    assert AuditLog.verify_file(tampered).to_dict() == expected

    lines = good.read_text(encoding="utf-8").splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:7]), encoding="utf-8")
    code, out = _isolated_verify(copy, cut, "--head", anchor)
    assert code == CHAIN_BROKEN
    assert out == AuditLog.verify_file(cut, anchor).to_dict()
    assert (out["events"], out["first_bad"]) == (7, 7)
    assert _isolated_verify(copy, cut)[0] == 0


def test_verifier_module_command_line(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text("".join(line + "\n" for line in BASE_LINES), encoding="utf-8")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "odg_workbench.governance.verify_audit", *args]
        return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=60)

    ok = run(str(good))
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"ok": True, "events": N, "head": BASE[-1]["hash"]}
    piped = run("-", "--head", HEAD, stdin=good.read_text(encoding="utf-8"))
    assert piped.returncode == 0 and json.loads(piped.stdout)["ok"] is True
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(line + "\n" for line in [*BASE_LINES[:3], "not json", *BASE_LINES[4:]]), encoding="utf-8")
    broken = run(str(bad))
    assert broken.returncode == CHAIN_BROKEN
    assert json.loads(broken.stdout)["first_bad"] == 3 and "malformed" in json.loads(broken.stdout)["reason"]
    assert run(str(tmp_path / "missing.jsonl")).returncode == 1
    usage = run(str(good), "--head", "nothex")
    assert usage.returncode == 2 and "64 hex digits" in usage.stderr


# -- concurrency: real processes ---------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from odg_workbench.state import StateStore
    from odg_workbench.governance.audit import AuditLog
    url, who, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    log = AuditLog(StateStore(url))
    log.head()   # connect and import everything before the start
    while time.time() < start:
        time.sleep(0.001)
    for i in range(n):
        log.append("test.concurrent", who, "shared", {"seq": i}, trace_id=f"{who}-{i}")
        time.sleep(0.003)   # a producer between two changes; without it one SQLite writer can starve the other
    """
)


def _two_writers(url: str, n: int) -> None:
    start = time.time() + 5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, who, str(n), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("alice", "bob")
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err


def _check_concurrent(log: AuditLog, n: int) -> None:
    records = log.records()
    assert [r.position for r in records] == list(range(2 * n + 1)), "gaps or duplicate positions"
    for who in ("alice", "bob"):
        assert [r.payload["seq"] for r in records if r.actor == who] == list(range(n)), f"{who}'s events"
    prev = GENESIS  # no fork: every event chains on the one before it
    for r in records:
        assert r.hash == _ref_hash(prev, r.to_dict())
        prev = r.hash
    assert log.verify() == VerifyResult(True, 2 * n + 1, prev)
    actors = [r.actor for r in records[1:]]
    switches = sum(a != b for a, b in itertools.pairwise(actors))
    assert switches >= 2, f"the writers did not overlap ({switches} switches): the test proves nothing"


@pytest.mark.slow
def test_two_processes_append_to_one_sqlite_chain(ws_log: AuditLog, ws: odg.Workbench) -> None:
    ws_log.append("test.setup", "setup", "shared")
    _two_writers(ws.state.url, 200)
    _check_concurrent(ws_log, 200)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_append_to_one_postgres_chain(postgres_url: str, tmp_path: Path) -> None:
    url = new_pg_database(postgres_url, f"audit_{uuid.uuid4().hex[:12]}")
    state = StateStore(url)
    try:
        log = AuditLog(state)
        log.append("test.setup", "setup", "shared")
        _two_writers(url, 200)
        _check_concurrent(log, 200)
        # tampering on PostgreSQL is found too, and the export agrees
        anchor = "{}:{}".format(*log.head())
        with state.begin() as conn:
            conn.exec_driver_sql("UPDATE audit_events SET payload = '{\"seq\":99}' WHERE position = 17")
        assert (log.verify().ok, log.verify().first_bad) == (False, 17)
        exported = log.export(tmp_path / "pg.jsonl")
        assert AuditLog.verify_file(exported.path).to_dict() == log.verify().to_dict()
        with state.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_events WHERE position >= 17")
        assert log.verify().ok and log.verify(anchor).first_bad == 17
        assert [r.position for r in log.records(type_prefix="test.set")] == [0]
    finally:
        state.dispose()


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """A root like odg's, so that `audit` is a sub-command."""

    register(app)
    return app


def _odg(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"ODG_USER": "cli-tester", "COLUMNS": "250"}).invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_verify_head_and_exit_codes(cli: typer.Typer, ws_log: AuditLog, ws: odg.Workbench, tmp_path: Path) -> None:
    log = ws_log
    w = ("-w", str(ws.root))
    assert _odg(cli, "audit", "head", *w) == (0, f"-1:{GENESIS}\n", "")
    _append_base(log)
    code, out, _ = _odg(cli, "audit", "head", *w, "--json")
    assert code == 0
    assert json.loads(out) == {"events": N, "position": N - 1, "hash": BASE[-1]["hash"], "anchor": HEAD}
    code, out, _ = _odg(cli, "audit", "verify", *w, "--json")
    assert (code, json.loads(out)) == (0, {"ok": True, "events": N, "head": BASE[-1]["hash"]})
    code, out, _ = _odg(cli, "audit", "verify", *w)
    assert code == 0 and f"{N} events, the chain is intact" in out and HEAD in out

    code, out, err = _odg(cli, "audit", "export", *w, "-o", str(tmp_path / "a.jsonl"), "--json")
    assert code == 0 and err == ""
    assert json.loads(out) == {"path": str(tmp_path / "a.jsonl"), "events": N, "head": BASE[-1]["hash"]}
    code, out, _ = _odg(cli, "audit", "export", *w)
    assert code == 0 and out == (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    code, out, _ = _odg(cli, "audit", "verify", "--file", str(tmp_path / "a.jsonl"), "--head", HEAD, "--json")
    assert (code, json.loads(out)["ok"]) == (0, True)

    con = sqlite3.connect(_state_path(log.state), isolation_level=None)
    con.execute("UPDATE audit_events SET time = '2020-01-01T00:00:00.000000Z' WHERE position = 4")
    con.close()
    code, out, _ = _odg(cli, "audit", "verify", *w, "--json")
    broken = json.loads(out)
    assert code == CHAIN_BROKEN == 4
    assert broken == {
        "ok": False,
        "events": 4,
        "head": BASE[3]["hash"],
        "first_bad": 4,
        "reason": "event 4 does not match its hash: it was modified, inserted or moved",
    }
    code, out, _ = _odg(cli, "audit", "verify", *w)
    assert code == 4 and "BROKEN at position 4" in out
    # a cut-off export, caught only with --head
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "cut.jsonl").write_text("".join(lines[:10]), encoding="utf-8")
    assert _odg(cli, "audit", "verify", "-f", str(tmp_path / "cut.jsonl"), "--json")[0] == 0
    code, out, _ = _odg(cli, "audit", "verify", "-f", str(tmp_path / "cut.jsonl"), "--head", HEAD, "--json")
    assert code == 4 and json.loads(out)["first_bad"] == 10


def test_cli_log(cli: typer.Typer, ws_log: AuditLog, ws: odg.Workbench) -> None:
    _append_base(ws_log)
    w = ("-w", str(ws.root))
    code, out, _ = _odg(cli, "audit", "log", *w, "--json", "--limit", "3")
    assert code == 0 and json.loads(out) == BASE[-1:-4:-1]
    code, out, _ = _odg(cli, "audit", "log", *w, "--json", "--type", "lakehouse.", "--resource", "bronze.orders")
    assert [e["position"] for e in json.loads(out)] == [10, 8, 1]
    code, out, _ = _odg(cli, "audit", "log", *w, "--json", "-n", "0", "--since", "10")
    assert [e["position"] for e in json.loads(out)] == [11, 10]
    code, out, _ = _odg(cli, "audit", "log", *w)
    assert code == 0 and "audit trail" in out and "decision.approve" in out and BASE[5]["hash"][:12] in out


def test_cli_errors_exit_1(cli: typer.Typer, ws_log: AuditLog, ws: odg.Workbench, tmp_path: Path) -> None:
    code, out, err = _odg(cli, "audit", "verify", "-w", str(ws.root), "--head", "12:nothex", "--json")
    assert code == 1 and json.loads(out)["error"]["type"] == "AuditError" and "64 hex digits" in err
    code, out, _ = _odg(cli, "audit", "verify", "--file", str(tmp_path / "missing.jsonl"), "--json")
    assert code == 1 and json.loads(out)["error"]["path"] == str(tmp_path / "missing.jsonl")
    code, out, _ = _odg(cli, "audit", "head", "-w", str(tmp_path / "nowhere"), "--json")
    assert code == 1 and json.loads(out)["error"]["type"] == "WorkspaceError"
    code, out, _ = _odg(cli, "audit", "export", "-w", str(ws.root), "--json")
    assert code == 1 and "--json needs --output" in json.loads(out)["error"]["message"]
