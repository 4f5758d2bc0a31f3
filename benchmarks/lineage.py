"""Benchmark of lineage queries on a synthetic graph of 100k datasets and 300k edges.

Run ``.venv/bin/python benchmarks/lineage.py`` (``--datasets 100000 --edges 300000
--starts 500`` by default; ``--datasets 10000 --edges 30000 --starts 100`` for a smoke
check). Work files go to ``benchmarks/.work/lineage/`` (git-ignored, wiped at the start);
figures to stdout and to ``benchmarks/results/lineage.json``.

The graph: datasets in domains of 100 (40 bronze, 30 silver, 20 gold, 10 platinum by
position), each ``DERIVED_FROM`` up to 10 positions earlier in its domain, and 1% of the
edges from an earlier domain (shared dimensions), so walks cross domains. It is written
with ``executemany`` into the workbench's own lineage tables (``lineage_vertices``,
``lineage_graph_edges``) of a real workspace's state database (SQLite, WAL); queries go
through the public API (``wb.lineage.upstream/downstream/impact``).

========================  ===================================================  =================================================
case                      ours                                                 peer (same run, same start vertices)
========================  ===================================================  =================================================
upstream / downstream 5   ``wb.lineage.upstream(id, depth=5)``: version check,  networkx 3 ``single_source_shortest_path_length``
                          walk, vertex properties and edge rows read back       (cutoff 5) on a ``DiGraph`` of the same edges
                          (memory engine; and ``lineage.query_engine = "sql"``  (ids and depths only), and a plain Python BFS over
                          = recursive CTEs)                                      dict-of-lists adjacency
impact                    ``wb.lineage.impact(id, change="schema")``: the whole  networkx ``descendants`` (reach only, no severity)
                          downstream reach to ``lineage.max_depth`` (50),
                          severity, affected lists
========================  ===================================================  =================================================

Start vertices are drawn at random (seeded) among all datasets; each case reports P50,
P95 and P99 in milliseconds over the starts, and the sizes of the results. Cases are
interleaved per start vertex (ours, peer, then peer, ours) on a shared, noisy machine.

Target: P95 under 50 ms for depth-5 upstream/downstream and impact.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from run import log, machine

import odg_workbench as odg
from odg_workbench.lineage.graph import _Adjacency, _tables

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work" / "lineage"
OUTPUT = ROOT / "results" / "lineage.json"
TARGET_P95_MS = 50.0
SEED = 20261129
DOMAIN = 100
LAYERS = [("bronze", 40), ("silver", 30), ("gold", 20), ("platinum", 10)]


def layer_of(position: int) -> str:
    edge = 0
    for name, size in LAYERS:
        edge += size
        if position < edge:
            return name
    return "platinum"


def synthetic(n: int, m: int, seed: int = SEED) -> tuple[list[str], list[tuple[int, int]]]:
    """Dataset names (index = vertex number) and ``m`` unique (source, derived) pairs, acyclic."""
    rng = random.Random(seed)
    names = [f"{layer_of(i % DOMAIN)}.d{i // DOMAIN:05d}_{i % DOMAIN:02d}" for i in range(n)]
    domains = n // DOMAIN
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < m:
        d = rng.randrange(domains)
        j = rng.randrange(1, DOMAIN)
        derived = d * DOMAIN + j
        if rng.random() < 0.01 and d > 0:
            source = rng.randrange(d) * DOMAIN + rng.randrange(DOMAIN)
        else:
            source = d * DOMAIN + rng.randrange(max(0, j - 10), j)
        pairs.add((source, derived))
    return names, sorted(pairs, key=lambda p: (p[1], p[0]))


def load(wb: odg.Workbench, names: list[str], pairs: list[tuple[int, int]]) -> float:
    """Write the graph into the workspace's lineage tables (vids = index + 1); seconds taken."""
    import sqlalchemy as sa

    t = _tables()
    wb.state.ensure(*t.values())
    started = time.perf_counter()
    now = datetime.now(UTC)
    with wb.state.begin() as conn:
        conn.execute(
            t["vertices"].insert(),
            [
                {
                    "vid": i + 1,
                    "id": f"dataset:{name}",
                    "kind": "Dataset",
                    "name": name,
                    "props": json.dumps({"layer": name.split(".", 1)[0]}),
                    "created_at": now,
                    "updated_at": now,
                }
                for i, name in enumerate(names)
            ],
        )
        batch: list[dict[str, Any]] = []
        for k, (source, derived) in enumerate(pairs):
            batch.append(
                {
                    "src": derived + 1,
                    "dst": source + 1,
                    "kind": "DERIVED_FROM",
                    "up": source + 1,
                    "down": derived + 1,
                    "src_snapshot": str(1_000_000 + k),
                    "dst_snapshot": str(2_000_000 + k),
                    "run_id": f"run-{k}",
                    "props": None,
                    "created_at": now,
                }
            )
            if len(batch) == 50_000:
                conn.execute(t["edges"].insert(), batch)
                batch = []
        if batch:
            conn.execute(t["edges"].insert(), batch)
        conn.execute(sa.insert(t["meta"]).values(key="version", value=1))
    with wb.state.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def pct(samples: list[float]) -> dict[str, Any]:
    import numpy as np

    arr = np.asarray(samples, dtype=float) * 1000
    return {
        "n": len(samples),
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "p99_ms": round(float(np.percentile(arr, 99)), 3),
        "max_ms": round(float(arr.max()), 3),
    }


def measure(
    starts: list[str], cases: dict[str, Callable[[str], Any]]
) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Each case on each start, alternating the order per start; times and result sizes."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    sizes: dict[str, list[int]] = {k: [] for k in cases}
    names = list(cases)
    gc.collect()
    gc.disable()
    try:
        for i, start in enumerate(starts):
            for name in names if i % 2 == 0 else names[::-1]:
                began = time.perf_counter()
                size = cases[name](start)
                times[name].append(time.perf_counter() - began)
                sizes[name].append(int(size))
    finally:
        gc.enable()
    return times, sizes


def sizes_summary(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": ordered[len(ordered) // 2],
        "p95": ordered[int(len(ordered) * 0.95) - 1] if len(ordered) > 1 else ordered[0],
        "max": ordered[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=300_000)
    parser.add_argument("--starts", type=int, default=500)
    parser.add_argument("--sql-starts", type=int, default=100, help="starts for the (slower) recursive-CTE engine")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    results: dict[str, Any] = {
        "benchmark": "lineage",
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "graph": {"datasets": args.datasets, "edges": args.edges, "domain_size": DOMAIN, "cross_domain": 0.01},
        "target_p95_ms": TARGET_P95_MS,
    }
    log(f"generating {args.datasets:,} datasets and {args.edges:,} edges")
    names, pairs = synthetic(args.datasets, args.edges)
    wb = odg.open(WORK / "ws", user="bench")
    results["graph"]["load_s"] = round(load(wb, names, pairs), 3)
    results["graph"]["state_db_mb"] = round((WORK / "ws" / "state.db").stat().st_size / 1e6, 1)
    log(f"written in {results['graph']['load_s']} s")
    graph = wb.lineage

    # first query: the adjacency is read from the database (once per process)
    tracemalloc.start()
    t0 = time.perf_counter()
    graph.upstream(f"dataset:{names[-1]}", depth=1)
    first = time.perf_counter() - t0
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    graph.invalidate()
    t0 = time.perf_counter()
    graph.upstream(f"dataset:{names[-1]}", depth=1)
    first_untraced = time.perf_counter() - t0
    results["cold"] = {
        "first_query_s": round(first_untraced, 3),
        "first_query_traced_s": round(first, 3),
        "adjacency_mb": round(current / 1e6, 1),
    }
    # a change made elsewhere: the next query reads only the new rows
    other = odg.open(WORK / "ws", user="other")
    other.lineage.record_run("late", inputs=[(names[-1], 1)], outputs=[("platinum.late_arrival", 2)])
    other.close()
    t0 = time.perf_counter()
    late = graph.downstream(f"dataset:{names[-1]}", depth=2)
    results["cold"]["refresh_after_one_run_ms"] = round((time.perf_counter() - t0) * 1000, 3)
    assert "dataset:platinum.late_arrival" in late.ids(), "the cache missed a change"
    log(f"first query {first_untraced:.2f} s (adjacency {results['cold']['adjacency_mb']} MB)")

    # peers: networkx (the named peer) and a plain Python BFS, over the same edges
    import networkx as nx

    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(f"dataset:{n}" for n in names)
    g.add_edges_from((f"dataset:{names[s]}", f"dataset:{names[d]}") for s, d in pairs)
    rev = g.reverse(copy=False)
    results["networkx"] = {"version": nx.__version__, "build_s": round(time.perf_counter() - t0, 3)}
    down_lists: dict[str, list[str]] = {}
    up_lists: dict[str, list[str]] = {}
    for s, d in pairs:
        down_lists.setdefault(f"dataset:{names[s]}", []).append(f"dataset:{names[d]}")
        up_lists.setdefault(f"dataset:{names[d]}", []).append(f"dataset:{names[s]}")

    def bfs(adj: dict[str, list[str]], start: str, depth: int) -> int:
        seen = {start: 0}
        frontier = [start]
        for level in range(1, depth + 1):
            nxt = []
            for v in frontier:
                for w in adj.get(v, ()):
                    if w not in seen:
                        seen[w] = level
                        nxt.append(w)
            frontier = nxt
        return len(seen) - 1

    rng = random.Random(SEED + 1)
    starts = [f"dataset:{names[rng.randrange(len(names))]}" for _ in range(args.starts)]
    adj: _Adjacency = graph._adj  # type: ignore[assignment]

    def walk_only(direction: str) -> Callable[[str], int]:
        return lambda s: len(adj.walk(adj.vid[s], direction, 5)[0]) - 1

    cases: dict[str, dict[str, Callable[[str], Any]]] = {
        "upstream_depth5": {
            "ours": lambda s: len(graph.upstream(s, depth=5).nodes) - 1,
            "ours_walk_only": walk_only("upstream"),
            "networkx": lambda s: len(nx.single_source_shortest_path_length(rev, s, cutoff=5)) - 1,
            "python_bfs": lambda s: bfs(up_lists, s, 5),
        },
        "downstream_depth5": {
            "ours": lambda s: len(graph.downstream(s, depth=5).nodes) - 1,
            "ours_walk_only": walk_only("downstream"),
            "networkx": lambda s: len(nx.single_source_shortest_path_length(g, s, cutoff=5)) - 1,
            "python_bfs": lambda s: bfs(down_lists, s, 5),
        },
        "impact_schema": {
            "ours": lambda s: len(graph.impact(s, change="schema").datasets),
            "networkx_descendants": lambda s: len(nx.descendants(g, s)),
            "python_bfs": lambda s: bfs(down_lists, s, 50),
        },
    }
    for case, impls in cases.items():
        log(f"{case}: {len(starts)} starts")
        times, sizes = measure(starts, impls)
        results[case] = {name: {**pct(times[name]), "result_size": sizes_summary(sizes[name])} for name in impls}
        ours, peer = results[case]["ours"], results[case].get("networkx") or results[case]["networkx_descendants"]
        results[case]["meets_target"] = ours["p95_ms"] < TARGET_P95_MS
        results[case]["ratio_p50_to_networkx"] = round(ours["p50_ms"] / peer["p50_ms"], 2) if peer["p50_ms"] else None
        log(f"  ours P50 {ours['p50_ms']} ms, P95 {ours['p95_ms']} ms; networkx P50 {peer['p50_ms']} ms")

    # the same queries with recursive CTEs in SQLite
    wb.config.set("lineage.query_engine", "sql")
    sql_starts = starts[: args.sql_starts]
    sql_cases: dict[str, Callable[[str], Any]] = {
        "upstream_depth5": lambda s: len(graph.upstream(s, depth=5).nodes) - 1,
        "downstream_depth5": lambda s: len(graph.downstream(s, depth=5).nodes) - 1,
        "impact_schema": lambda s: len(graph.impact(s, change="schema").datasets),
    }
    results["sql_engine"] = {}
    for case, fn in sql_cases.items():
        log(f"sql engine {case}: {len(sql_starts)} starts")
        times, sizes = measure(sql_starts, {"ours_sql": fn})
        results["sql_engine"][case] = {**pct(times["ours_sql"]), "result_size": sizes_summary(sizes["ours_sql"])}
        log(f"  P50 {results['sql_engine'][case]['p50_ms']} ms, P95 {results['sql_engine'][case]['p95_ms']} ms")
    wb.config.set("lineage.query_engine", "memory")
    wb.close()
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["total_s"] = round(time.perf_counter() - began, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2))
    log(f"done in {results['total_s']} s; results in {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
