"""Real processes writing to the same table at once: every row lands exactly once."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

import odg_workbench as odg

# Each writer warms up (imports, catalog connection), then waits for a common start
# moment so that the two really write at the same time.
WRITER = textwrap.dedent(
    """
    import sys, time, pyarrow as pa, odg_workbench as odg
    root, who, n, evolve, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", float(sys.argv[5])
    wb = odg.open(root, user=who)
    wb.lakehouse.table_names()
    import pyiceberg.io.pyarrow, pyiceberg.table   # the write path's imports, before the start
    while time.time() < start:
        time.sleep(0.001)
    for i in range(n):
        cols = {"writer": [who] * 5, "seq": [i] * 5, "row": list(range(5))}
        if evolve and i == n // 2:
            cols["note"] = [f"{who}-{i}"] * 5   # both writers evolve the schema mid-run
        wb.ingest(pa.table(cols), "shared")
        time.sleep(0.15)   # a producer between two batches: longer than SQLite's longest busy-wait step (100 ms), or one writer can starve the other
    """
)


def _run_writers(root: Path, n: int, evolve: bool) -> None:
    start = time.time() + 6
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), who, str(n), "1" if evolve else "0", str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("alice", "bob")
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err


def _check(ws: odg.Workbench, n: int, extra_rows: int = 0) -> list[str]:
    table = ws.table("bronze.shared")
    rows = table.to_arrow(columns=["writer", "seq", "row"]).to_pylist()
    keys = [(r["writer"], r["seq"], r["row"]) for r in rows if r["writer"] in ("alice", "bob")]
    assert len(rows) == 2 * n * 5 + extra_rows
    assert len(keys) == 2 * n * 5, "rows were lost"
    assert len(set(keys)) == len(keys), "rows were duplicated"
    assert len({b["batch_id"] for b in ws.lakehouse.batches("bronze.shared")}) == 2 * n + (1 if extra_rows else 0)
    return [s.summary["odg.actor"] for s in table.snapshots() if s.summary["odg.actor"] in ("alice", "bob")]


@pytest.mark.slow
@pytest.mark.parametrize("evolve", [pytest.param(False, id="appends"), pytest.param(True, id="appends+schema-change")])
def test_concurrent_appends_from_two_processes(ws: odg.Workbench, evolve: bool) -> None:
    ws.ingest(pa.table({"writer": ["setup"], "seq": [0], "row": [0]}), "shared")
    n = 20
    _run_writers(ws.root, n, evolve)
    actors = _check(ws, n, extra_rows=1)
    switches = sum(a != b for a, b in itertools.pairwise(actors))
    assert switches >= 2, f"the writers did not overlap ({actors}); the test proves nothing"
    if evolve:
        notes = {r["note"] for r in ws.table("bronze.shared").to_arrow(columns=["note"]).to_pylist()} - {None}
        assert notes == {f"alice-{n // 2}", f"bob-{n // 2}"}


@pytest.mark.slow
def test_two_processes_creating_the_same_table(ws: odg.Workbench) -> None:
    _run_writers(ws.root, 3, evolve=False)
    _check(ws, 3)
