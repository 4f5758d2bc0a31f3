"""Verify an exported audit chain with the Python standard library alone.

This file imports nothing but the standard library (Python 3.7 or later): copy it next to an
export and run ::

    python verify_audit.py audit.jsonl --head 41:9f2c...e07a

It prints one JSON document, ``{"ok", "events", "head"}`` plus ``"first_bad"`` and
``"reason"`` when the chain is broken, and exits with status 0 when the chain is intact,
4 when it is broken, 2 on a usage error and 1 when the file cannot be read. Inside the
workbench it is ``python -m odg_workbench.governance.verify_audit``, and
:func:`verify_lines` is what ``AuditLog.verify_file`` and ``odg audit verify --file`` run.

The format
----------

An export is UTF-8 text with one event per line, positions ``0, 1, 2, ...`` in order.
Each line is a JSON object with eight keys::

    position   int        0 for the first event, then +1 for each event, no gaps
    type       str        e.g. "lakehouse.ingest"
    actor      str        who did it
    resource   str        what it was done to (may be "")
    time       str        UTC, ISO 8601 with microseconds and "Z": "2026-01-02T03:04:05.000006Z"
    trace_id   str|null   correlates the events of one operation
    payload    object     details; JSON values only
    hash       str        64 lowercase hex digits, see below

The *canonical event* is the object of the first seven keys (every key but ``hash``)
serialised as ::

    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False).encode("utf-8")

and the chain is ::

    GENESIS = "0" * 64
    hash[0] = sha256(GENESIS.encode("ascii") + canonical[0]).hexdigest()
    hash[n] = sha256(hash[n - 1].encode("ascii") + canonical[n]).hexdigest()

that is, the previous hash *as its 64 hex characters* followed by the canonical bytes.
Floats are written as Python's ``repr`` writes them (shortest round-trip form); NaN and
infinities are not allowed.

What verification proves: a modified, deleted, inserted or reordered event breaks the
chain at the first position it touches (``first_bad``). Removing events from the *end*
leaves a shorter chain that is intact; it is detected only against a head recorded
earlier (``--head``, either ``POSITION:HASH`` or just ``HASH``). A chain rewritten from
some position on, with every later hash recomputed, is likewise detected only against a
recorded head: publish the head (``odg audit head``) somewhere the writer of the log
cannot change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses for a str
from typing import Any

__all__ = [
    "BROKEN",
    "EVENT_FIELDS",
    "GENESIS",
    "VerifyResult",
    "canonical_event",
    "canonical_json",
    "canonical_text",
    "chain_hash",
    "main",
    "parse_head",
    "verify_lines",
    "verify_rows",
]

GENESIS = "0" * 64
"""The hash that precedes event 0."""

EVENT_FIELDS = ("actor", "payload", "position", "resource", "time", "trace_id", "type")
"""The keys of a canonical event, in their sorted (serialised) order."""

BROKEN = 4
"""Exit status of the command line when the chain is broken."""

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of a verification.

    ``events`` counts the events found intact before the first bad one (all of them when
    ``ok``); ``head`` is the hash of the last intact event (``GENESIS`` when none);
    ``first_bad`` is the first position that is wrong (for a truncated tail: the first
    missing position) and ``reason`` says why.
    """

    ok: bool
    events: int
    head: str
    first_bad: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "events", "head"}``, plus ``"first_bad"`` and ``"reason"`` when broken."""
        out: dict[str, Any] = {"ok": self.ok, "events": self.events, "head": self.head}
        if not self.ok:
            out["first_bad"] = self.first_bad
            out["reason"] = self.reason
        return out


def canonical_event(event: dict[str, Any]) -> bytes:
    """The canonical bytes of an event (a dict with at least the seven event keys).

    The reference definition; :func:`canonical_text` builds the same text faster.
    """
    return json.dumps(
        {k: event[k] for k in EVENT_FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_text(
    position: int, type: str, actor: str, resource: str, time: str, trace_id: str | None, payload_json: str
) -> str:
    """The canonical event as text, given the payload already serialised canonically.

    Equal to ``canonical_event(...).decode()`` (a test checks it on generated events).
    """
    enc = encode_basestring
    trace = "null" if trace_id is None else enc(trace_id)
    return (
        f'{{"actor":{enc(actor)},"payload":{payload_json},"position":{position},"resource":{enc(resource)},'
        f'"time":{enc(time)},"trace_id":{trace},"type":{enc(type)}}}'
    )


def _reference_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _fast_json() -> Callable[[Any], str]:
    """``_reference_json`` through one C encoder built once (json.dumps builds one per call).

    Without circular-reference checks: a value parsed from JSON, or rebuilt by the audit
    log's payload cleaning, has no cycles. Falls back to json.dumps where the C accelerator
    is missing.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return _reference_json
    # markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan
    encode = make(None, _refuse, encode_basestring, None, ":", ",", True, False, False)

    def canonical(value: Any) -> str:
        return "".join(encode(value, 0))

    return canonical


canonical_json: Callable[[Any], str] = _fast_json()
"""A JSON value serialised the canonical way (how a payload is stored and hashed): equal to
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``."""


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """``sha256(prev_hash as ASCII hex + canonical bytes)``, as 64 lowercase hex digits."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def parse_head(text: str) -> tuple[int | None, str]:
    """Split an anchored head, ``"POSITION:HASH"`` or ``"HASH"``, into (position or None, hash)."""
    position: int | None = None
    value = text.strip()
    if ":" in value:
        pos_text, value = value.split(":", 1)
        try:
            position = int(pos_text)
        except ValueError:
            raise ValueError(f"head {text!r}: expected POSITION:HASH with an integer position") from None
        if position < -1:
            raise ValueError(f"head {text!r}: position must be -1 (empty chain) or more")
    value = value.lower()
    if len(value) != 64 or not _HEX.issuperset(value):
        raise ValueError(f"head {text!r}: expected 64 hex digits (optionally preceded by POSITION:)")
    if position == -1 and value != GENESIS:
        raise ValueError(f"head {text!r}: position -1 is the empty chain, whose hash is {GENESIS}")
    return position, value


class _Malformed(Exception):
    """An event that cannot even be hashed (bad JSON, missing key, wrong type)."""


def verify_rows(
    batches: Iterable[Sequence[Sequence[Any]]],
    expected_head: str | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Check a chain given as batches of rows in position order; stop at the first bad event.

    A row is ``(position, type, actor, resource, time, trace_id, payload_json, hash)`` with
    the payload already serialised (canonically, or the hash will not match). The hash is
    recomputed from these fields; a stored hash is only compared, never trusted.
    ``progress(events_checked)`` is called after each batch.
    """
    anchor_pos, anchor_hash = (None, None) if expected_head is None else parse_head(expected_head)
    anchor_seen = anchor_hash == GENESIS and anchor_pos in (None, -1)
    expected = 0
    prev = GENESIS
    sha = hashlib.sha256
    enc = encode_basestring

    def bad(reason: str, at: int | None = None) -> VerifyResult:
        return VerifyResult(False, expected, prev, expected if at is None else at, reason)

    try:
        for batch in batches:
            for position, type_, actor, resource, time, trace_id, payload, stored in batch:
                if position != expected or position.__class__ is not int:
                    return bad(_position_reason(expected, position))
                text = (
                    f'{{"actor":{enc(actor)},"payload":{payload},"position":{position},"resource":{enc(resource)},'
                    f'"time":{enc(time)},"trace_id":{"null" if trace_id is None else enc(trace_id)},'
                    f'"type":{enc(type_)}}}'
                )
                digest = sha((prev + text).encode("utf-8")).hexdigest()
                if digest != stored:
                    return bad(f"event {position} does not match its hash: it was modified, inserted or moved")
                if anchor_hash is not None and not anchor_seen:
                    if anchor_pos is None:
                        anchor_seen = digest == anchor_hash
                    elif position == anchor_pos:
                        if digest != anchor_hash:
                            return bad(
                                f"event {position} has hash {digest}, the recorded head says {anchor_hash}: "
                                f"the chain was rewritten at or before position {position}",
                                at=position,
                            )
                        anchor_seen = True
                prev = digest
                expected += 1
            if progress is not None:
                progress(expected)
    except _Malformed as exc:
        return bad(f"event {expected} is malformed: {exc}")
    except (TypeError, ValueError, AttributeError, UnicodeError) as exc:
        return bad(f"event {expected} is malformed: {type(exc).__name__}: {exc}")
    if anchor_hash is not None and not anchor_seen:
        if anchor_pos is None:
            return bad(
                f"the recorded head {anchor_hash} is not in the chain: events were removed from the end "
                f"(or the chain was rewritten); the chain now ends at position {expected - 1}"
            )
        missing = anchor_pos - expected + 1
        return bad(
            f"the chain ends at position {expected - 1} but the recorded head is at position {anchor_pos}: "
            f"{missing} event{'s' if missing != 1 else ''} removed from the end"
        )
    return VerifyResult(True, expected, prev)


def _position_reason(expected: int, found: Any) -> str:
    if found.__class__ is not int:
        return f"event {expected} has position {found!r}, not an integer"
    if found > expected:
        return f"expected position {expected}, found {found}: events are missing or out of order"
    return f"expected position {expected}, found {found}: an event was inserted, duplicated or moved"


_KEYS = frozenset((*EVENT_FIELDS, "hash"))
_decode = json.JSONDecoder().decode  # json.loads without its per-call dispatch


def _parse_line(line: str | bytes) -> tuple[Any, ...]:
    try:
        # decoded here, not by json.loads: given bytes, it would guess UTF-16 or UTF-32 too
        d = _decode(line.decode("utf-8") if isinstance(line, bytes) else line)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise _Malformed(f"not a JSON object ({exc})") from None
    if d.__class__ is not dict:
        raise _Malformed("not a JSON object")
    if d.keys() != _KEYS:
        problems = [f"missing {k}" for k in sorted(_KEYS - d.keys())]
        problems += [f"unexpected key {k!r}" for k in sorted(d.keys() - _KEYS)]
        raise _Malformed(", ".join(problems))
    payload = d["payload"]
    if payload.__class__ is not dict:
        raise _Malformed("payload is not a JSON object")
    for key in ("type", "actor", "resource", "time", "hash"):
        if d[key].__class__ is not str:
            raise _Malformed(f"{key} is not a string")
    if d["trace_id"] is not None and d["trace_id"].__class__ is not str:
        raise _Malformed("trace_id is neither a string nor null")
    return (
        d["position"],
        d["type"],
        d["actor"],
        d["resource"],
        d["time"],
        d["trace_id"],
        canonical_json(payload),
        d["hash"],
    )


def _line_batches(lines: Iterable[str | bytes], size: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for line in lines:
        try:
            batch.append(_parse_line(line))
        except _Malformed as exc:
            if batch:  # the events before it are checked first: one of them may be the first bad one
                yield batch
            raise exc from None
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def verify_lines(lines: Iterable[str | bytes], expected_head: str | None = None) -> VerifyResult:
    """Verify an export given as lines (an open file works: text or binary).

    Every line must be one event; the first line is position 0. Each event is re-serialised
    canonically from its parsed fields and its hash recomputed (see the module docstring).
    """
    return verify_rows(_line_batches(lines), expected_head)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="verify_audit",
        description="Verify an exported audit chain (JSON Lines); standard library only.",
        epilog="Exit status: 0 intact, 4 broken, 2 usage error, 1 unreadable file.",
    )
    parser.add_argument("export", help="the export (.jsonl), or - for standard input")
    parser.add_argument("--head", help="a head recorded earlier: POSITION:HASH or HASH (detects a truncated end)")
    args = parser.parse_args(argv)
    if args.head is not None:
        try:
            parse_head(args.head)
        except ValueError as exc:
            parser.error(str(exc))
    try:
        if args.export == "-":
            result = verify_lines(sys.stdin.buffer, args.head)
        else:
            with open(args.export, "rb") as f:
                result = verify_lines(f, args.head)
    except OSError as exc:
        print(json.dumps({"error": {"type": type(exc).__name__, "message": str(exc)}}))
        print(f"error: cannot read {args.export}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0 if result.ok else BROKEN


if __name__ == "__main__":
    sys.exit(main())
