"""Benchmarks of the audit trail: appends, verification of a million events, the stdlib verifier.

Run ``.venv/bin/python benchmarks/audit.py`` (``--events 1000000`` by default, about three
minutes here; ``--events 100000`` for a smoke check). Work files go to
``benchmarks/.work/audit/`` (git-ignored, wiped at the start); figures to stdout and to
``benchmarks/results/audit.json``.

Every figure is paired with a peer measured in the same run on the same rows, and
repetitions are interleaved (A, B, then B, A); the machine is shared and noisy, so the
ratios matter more than the absolute times.

===========================  ==============================================  ==============================================
case                         ours                                            peer
===========================  ==============================================  ==============================================
single appends               ``AuditLog.append`` x ``--single``, each its     plain ``sqlite3``: ``BEGIN IMMEDIATE``, one
                             own transaction (lock, read the head, hash,      ``INSERT`` of the same row (hash precomputed),
                             insert)                                          ``COMMIT``; same table, same PRAGMAs
batched appends              ``AuditLog.append_many`` of ``--events`` events  plain ``sqlite3`` ``executemany`` of the same
                             in batches of ``--batch`` (one transaction       rows (hashes precomputed) in the same batches
                             each), validation and hashing included           into the same table
verify (state DB)            ``AuditLog.verify()`` of the ``--events`` chain  (a) the raw scan: ``sqlite3`` fetching the same
                                                                              8 columns in position order; (b) ``hashlib``:
                                                                              one ``sha256`` per event over the same bytes
                                                                              (previous hash + canonical event), precomputed
                                                                              in memory; (a) + (b) is the floor
export                       ``AuditLog.export(path)``                        the raw scan (a)
verify_lines (export)        ``verify_lines(open(export, "rb"))``, the        reading the file and ``json.loads`` of each
                             stdlib verifier                                  line (the parse alone)
===========================  ==============================================  ==============================================

Target: ``verify`` of 1,000,000 events in under 5 s on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import interleaved, log, machine, ratio, summary

from odg_workbench.governance.audit import AuditLog
from odg_workbench.governance.verify_audit import GENESIS, VerifyResult, canonical_text, verify_lines
from odg_workbench.state import StateStore

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work" / "audit"
OUTPUT = ROOT / "results" / "audit.json"
TARGET_VERIFY_S = 5.0

TYPES = ["lakehouse.ingest", "lakehouse.tag", "quality.report", "decision.approve", "promotion.done"]
ACTORS = ["alice", "bob", "carol", "dave", "scheduler"]
COLUMNS = "position, type, actor, resource, time, trace_id, payload, hash"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def event(i: int) -> dict[str, Any]:
    """Event ``i`` of the deterministic workload (about 270 bytes canonical)."""
    return {
        "type": TYPES[i % len(TYPES)],
        "actor": ACTORS[(i // 7) % len(ACTORS)],
        "resource": f"bronze.table_{i % 97}",
        "payload": {"rows": (i * 7919) % 100_000, "snapshot_id": 10**15 + i, "table": f"bronze.table_{i % 97}"},
        "trace_id": f"{i:032x}",
        "time": T0 + timedelta(microseconds=i * 1013),
    }


def events(start: int, stop: int) -> Iterator[dict[str, Any]]:
    return (event(i) for i in range(start, stop))


def plain_db(path: Path) -> sqlite3.Connection:
    """A bare sqlite3 connection with the state store's PRAGMAs and the audit table's schema."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE audit_events (position INTEGER NOT NULL PRIMARY KEY, type TEXT NOT NULL, actor TEXT NOT NULL, "
        "resource TEXT NOT NULL, time VARCHAR(32) NOT NULL, trace_id TEXT, payload TEXT NOT NULL, "
        "hash VARCHAR(64) NOT NULL)"
    )
    con.execute("CREATE INDEX ix_audit_events_resource ON audit_events (resource)")
    return con


def rows_of(db: Path, limit: int | None = None) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        sql = f"SELECT {COLUMNS} FROM audit_events ORDER BY position" + (f" LIMIT {limit}" if limit else "")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def expect(result: VerifyResult, n: int, head: str) -> None:
    if not (result.ok and result.events == n and result.head == head):
        raise RuntimeError(f"verification disagrees with the chain that was written: {result}")


def fresh(name: str) -> Path:
    folder = WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


# -- cases ----------------------------------------------------------------------------------


def bench_single(n: int, reps: int) -> dict[str, Any]:
    log(f"single appends: {n:,} per repetition, {reps} repetitions")
    template = rows_of(WORK / "batched" / "state.db", n)

    def ours() -> None:
        folder = fresh("single")
        state = StateStore(f"sqlite:///{folder}/state.db")
        audit = AuditLog(state)
        audit.head()  # create the table and connect: not part of the appends
        for e in events(0, n):
            audit.append(e["type"], e["actor"], e["resource"], e["payload"], trace_id=e["trace_id"], time=e["time"])
        state.dispose()

    def peer() -> None:
        con = plain_db(fresh("single-peer") / "plain.db")
        for row in template:
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            con.execute("COMMIT")
        con.close()

    times = interleaved(reps, ours=ours, peer=peer)
    out = {"events": n, "ours": summary(times["ours"]), "plain_sqlite_insert": summary(times["peer"])}
    out["ours"]["events_per_s"] = n / out["ours"]["median_s"]
    out["plain_sqlite_insert"]["events_per_s"] = n / out["plain_sqlite_insert"]["median_s"]
    out["ratio_ours_to_plain"] = ratio(out["ours"], out["plain_sqlite_insert"])
    return out


def bench_batched(n: int, batch: int) -> dict[str, Any]:
    """One run each (a million events take a while): ours builds the chain the others read."""
    log(f"append_many: {n:,} events in batches of {batch:,}")
    folder = fresh("batched")
    state = StateStore(f"sqlite:///{folder}/state.db")
    audit = AuditLog(state)
    audit.head()
    start = time.perf_counter()
    for k in range(0, n, batch):
        audit.append_many(events(k, min(n, k + batch)))
    ours_s = time.perf_counter() - start
    state.dispose()

    log("plain sqlite3 executemany of the same rows")
    rows = rows_of(folder / "state.db")
    con = plain_db(fresh("batched-peer") / "plain.db")
    start = time.perf_counter()
    for k in range(0, n, batch):
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows[k : k + batch])
        con.execute("COMMIT")
    peer_s = time.perf_counter() - start
    con.close()
    return {
        "events": n,
        "batch": batch,
        "ours": {"seconds": ours_s, "events_per_s": n / ours_s},
        "plain_sqlite_executemany": {"seconds": peer_s, "events_per_s": n / peer_s},
        "ratio_ours_to_plain": ours_s / peer_s,
        "db_bytes": (folder / "state.db").stat().st_size,
    }


def bench_verify(n: int, reps: int) -> dict[str, Any]:
    db = WORK / "batched" / "state.db"
    log(f"verify {n:,} events: {reps} repetitions, interleaved with the raw scan and raw hashing")
    # The peer's input, built once outside the timing: exactly the bytes ours hashes.
    rows = rows_of(db)
    hash_inputs = []
    prev = GENESIS
    for position, type_, actor, resource, time_, trace_id, payload, digest in rows:
        hash_inputs.append((prev + canonical_text(position, type_, actor, resource, time_, trace_id, payload)).encode())
        prev = digest
    head = rows[-1][7]
    del rows
    state = StateStore(f"sqlite:///{db}")
    audit = AuditLog(state)

    def ours() -> None:
        expect(audit.verify(), n, head)

    def scan() -> None:
        con = sqlite3.connect(db, isolation_level=None)
        cur = con.execute(f"SELECT {COLUMNS} FROM audit_events ORDER BY position")
        count = 0
        while batch := cur.fetchmany(50_000):
            count += len(batch)
        con.close()
        assert count == n

    def sha() -> None:
        sha256 = hashlib.sha256
        for data in hash_inputs:
            sha256(data).hexdigest()

    times = interleaved(reps, ours=ours, scan=scan, sha=sha)
    out: dict[str, Any] = {
        "events": n,
        "ours": summary(times["ours"]),
        "raw_scan": summary(times["scan"]),
        "raw_sha256": summary(times["sha"]),
        "hashed_bytes": sum(len(b) for b in hash_inputs),
    }
    floor = out["raw_scan"]["median_s"] + out["raw_sha256"]["median_s"]
    out["floor_s"] = floor
    out["ratio_to_sha256"] = ratio(out["ours"], out["raw_sha256"])
    out["ratio_to_scan"] = ratio(out["ours"], out["raw_scan"])
    out["ratio_to_floor"] = out["ours"]["median_s"] / floor
    out["events_per_s"] = n / out["ours"]["median_s"]
    out["target_s"] = TARGET_VERIFY_S
    out["meets_target"] = out["ours"]["median_s"] < TARGET_VERIFY_S if n == 1_000_000 else None

    log("export")
    export_path = WORK / "export" / "audit.jsonl"
    export_path.parent.mkdir(parents=True, exist_ok=True)
    export_times = interleaved(2, ours=lambda: audit.export(export_path), scan=scan)
    out["export"] = {
        "ours": summary(export_times["ours"]),
        "raw_scan": summary(export_times["scan"]),
        "bytes": export_path.stat().st_size,
    }
    out["export"]["ratio_to_scan"] = ratio(out["export"]["ours"], out["export"]["raw_scan"])
    state.dispose()

    log("verify_lines on the export (stdlib verifier)")

    def lines() -> None:
        with open(export_path, "rb") as f:
            expect(verify_lines(f), n, head)

    def parse() -> None:
        loads = json.loads
        with open(export_path, "rb") as f:
            for line in f:
                loads(line)

    line_times = interleaved(2, ours=lines, parse=parse)
    out["verify_lines"] = {"ours": summary(line_times["ours"]), "json_loads_only": summary(line_times["parse"])}
    out["verify_lines"]["ratio_to_parse"] = ratio(out["verify_lines"]["ours"], out["verify_lines"]["json_loads_only"])
    out["verify_lines"]["ratio_to_db_verify"] = ratio(out["verify_lines"]["ours"], out["ours"])
    return out


def report(r: dict[str, Any]) -> None:
    s, b, v = r["single"], r["batched"], r["verify"]
    rows = [
        (
            f"single appends ({s['events']:,})",
            f"{s['ours']['events_per_s']:,.0f} ev/s",
            f"{s['plain_sqlite_insert']['events_per_s']:,.0f} ev/s plain sqlite3",
            f"{s['ratio_ours_to_plain']:.2f}x",
        ),
        (
            f"append_many ({b['events']:,}, batches of {b['batch']:,})",
            f"{b['ours']['events_per_s']:,.0f} ev/s ({b['ours']['seconds']:.1f} s)",
            f"{b['plain_sqlite_executemany']['events_per_s']:,.0f} ev/s plain executemany",
            f"{b['ratio_ours_to_plain']:.2f}x",
        ),
        (
            f"verify ({v['events']:,})",
            f"{v['ours']['median_s']:.2f} s (p95 {v['ours']['p95_s']:.2f})",
            f"scan {v['raw_scan']['median_s']:.2f} s + sha256 {v['raw_sha256']['median_s']:.2f} s",
            f"{v['ratio_to_floor']:.2f}x floor, {v['ratio_to_sha256']:.2f}x sha256",
        ),
        (
            "export",
            f"{v['export']['ours']['median_s']:.2f} s ({v['export']['bytes'] / 1e6:,.0f} MB)",
            f"scan {v['export']['raw_scan']['median_s']:.2f} s",
            f"{v['export']['ratio_to_scan']:.2f}x",
        ),
        (
            "verify_lines (export)",
            f"{v['verify_lines']['ours']['median_s']:.2f} s",
            f"json.loads {v['verify_lines']['json_loads_only']['median_s']:.2f} s",
            f"{v['verify_lines']['ratio_to_parse']:.2f}x",
        ),
    ]
    widths = [max(len(r[i]) for r in [("case", "ours", "peer", "ratio"), *rows]) for i in range(4)]
    for line in [("case", "ours", "peer", "ratio"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
    if v["meets_target"] is not None:
        verdict = "meets" if v["meets_target"] else "MISSES"
        print(
            f"verify of 1,000,000 events: {v['ours']['median_s']:.2f} s, {verdict} the {TARGET_VERIFY_S:.0f} s target"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="chain length for append_many and verify")
    parser.add_argument("--batch", type=int, default=10_000, help="events per append_many call")
    parser.add_argument("--single", type=int, default=2_000, help="single appends per repetition")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of verify and of single appends")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": machine(),
        "sqlite": sqlite3.sqlite_version,
        "args": vars(args) | {"output": str(args.output)},
    }
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("batched", lambda: bench_batched(args.events, args.batch)),
        ("single", lambda: bench_single(min(args.single, args.events), args.reps)),
        ("verify", lambda: bench_verify(args.events, args.reps)),
    ]
    for name, step in steps:
        results[name] = step()
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["total_s"] = time.perf_counter() - started
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    log(f"done in {results['total_s']:.0f} s; results in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
