"""Version comparison: snapshot diffs (schema and data, checked against an independent count), pipelines, CLI."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from conftest import run_odg

import odg_workbench as odg
from odg_workbench.errors import SnapshotNotFoundError
from odg_workbench.lineage.compare import CompareError, compare_pipelines, compare_snapshots

VALUE_COLUMNS = ("amount", "status", "note")


def _rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "id": i,
            "amount": round(rng.uniform(0, 1000), 2),
            "status": rng.choice(["new", "paid", "shipped"]),
            "note": None if i % 11 == 0 else f"note {i}",
        }
        for i in range(n)
    ]


def _mutate(rows: list[dict[str, Any]], seed: int = 11) -> list[dict[str, Any]]:
    """Change some rows (one or two columns, NULLs in and out), drop some, add some."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        r = dict(row)
        roll = rng.random()
        if roll < 0.05:
            continue  # removed
        if roll < 0.15:
            r["amount"] = round(r["amount"] + 1.5, 2)
        elif roll < 0.20:
            r["status"] = "cancelled"
            r["note"] = None if r["note"] is not None else "now set"
        out.append(r)
    top = max(r["id"] for r in rows)
    out += [{"id": top + i, "amount": 1.0 * i, "status": "new", "note": None} for i in range(1, 26)]
    rng.shuffle(out)
    return out


def _expected(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """The diff by key, computed independently in plain Python."""
    a, b = {r["id"]: r for r in before}, {r["id"]: r for r in after}
    changed = {k: [c for c in VALUE_COLUMNS if a[k][c] != b[k][c]] for k in a.keys() & b.keys()}
    changed = {k: cols for k, cols in changed.items() if cols}
    return {
        "added": sorted(b.keys() - a.keys()),
        "removed": sorted(a.keys() - b.keys()),
        "changed": changed,
        "per_column": Counter(c for cols in changed.values() for c in cols),
    }


@pytest.fixture
def orders(ws: odg.Workbench) -> tuple[odg.Workbench, list[dict[str, Any]], list[dict[str, Any]], int, int]:
    before = _rows(400)
    after = _mutate(before)
    ws.ingest(pa.Table.from_pylist(before), "bronze.orders")
    first = ws.table("bronze.orders").current_snapshot_id
    ws.table("bronze.orders").tag("v1")
    ws.ingest(pa.Table.from_pylist(after), "bronze.orders", mode="overwrite")
    second = ws.table("bronze.orders").refresh().current_snapshot_id
    assert first is not None and second is not None
    return ws, before, after, first, second


def test_keyed_diff_matches_an_independent_count(orders: Any) -> None:
    wb, before, after, first, second = orders
    expected = _expected(before, after)
    diff = compare_snapshots(wb, "bronze.orders", first, second, key="id", samples=3)

    assert (diff.from_snapshot, diff.to_snapshot) == (first, second)
    assert diff.key == ["id"] and diff.key_source == "argument"
    assert diff.added == len(expected["added"]) == 25
    assert diff.removed == len(expected["removed"]) > 0
    assert diff.changed == len(expected["changed"]) > 0
    assert diff.changed_columns == dict(expected["per_column"])
    assert (diff.rows_from, diff.rows_to) == (len(before), len(after))
    assert diff.unchanged == len(after) - diff.added - diff.changed
    # the ingestion columns differ on every re-ingested row and are left out
    assert "_odg_batch_id" in diff.skipped_columns and "_odg_batch_id" not in diff.compared_columns
    assert not diff.schema_changed

    samples = diff.samples
    assert [r["id"] for r in samples["added"]] == expected["added"][:3]
    assert [r["id"] for r in samples["removed"]] == expected["removed"][:3]
    old = {r["id"]: r for r in before}
    for row in samples["removed"]:
        assert row == old[row["id"]]
    new = {r["id"]: r for r in after}
    for row in samples["changed"]:
        k = row["key"]["id"]
        assert row["columns"] == expected["changed"][k]
        assert row["from"] == {c: old[k][c] for c in row["columns"]}
        assert row["to"] == {c: new[k][c] for c in row["columns"]}

    data = json.loads(json.dumps(diff.to_dict(), default=str))
    assert data["data_diff"]["mode"] == "key"
    assert data["data_diff"]["changed"] == diff.changed


def test_same_snapshot_has_no_differences(orders: Any) -> None:
    wb, _, after, _, second = orders
    diff = compare_snapshots(wb, "bronze.orders", second, second, key="id")
    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == (0, 0, 0, len(after))
    assert not diff.data_changed and diff.samples["added"] == []


def test_snapshots_by_tag_and_time_default_to_current(orders: Any) -> None:
    wb, _, _, first, second = orders
    by_tag = compare_snapshots(wb, "bronze.orders", "v1", key="id")
    assert (by_tag.from_snapshot, by_tag.to_snapshot) == (first, second)
    snaps = wb.table("bronze.orders").snapshots()
    between = datetime.fromtimestamp(snaps[0].timestamp_ms / 1000 + 0.0005, tz=UTC).isoformat()
    by_time = compare_snapshots(wb, "bronze.orders", between, str(second), key="id")
    assert by_time.from_snapshot == first
    assert by_time.added == by_tag.added and by_time.changed == by_tag.changed


def test_multiset_diff_without_key_counts_duplicates(ws: odg.Workbench) -> None:
    before = [{"a": 1, "b": "x"}, {"a": 1, "b": "x"}, {"a": 2, "b": None}, {"a": 3, "b": "z"}]
    after = [{"a": 1, "b": "x"}, {"a": 2, "b": None}, {"a": 3, "b": "zz"}, {"a": 4, "b": "w"}, {"a": 4, "b": "w"}]
    ws.ingest(pa.Table.from_pylist(before), "bronze.events")
    first = ws.table("bronze.events").current_snapshot_id
    ws.ingest(pa.Table.from_pylist(after), "bronze.events", mode="overwrite")
    diff = compare_snapshots(ws, "bronze.events", first)

    ca, cb = Counter((r["a"], r["b"]) for r in before), Counter((r["a"], r["b"]) for r in after)
    assert diff.key is None and diff.changed is None
    assert diff.added == sum((cb - ca).values()) == 3
    assert diff.removed == sum((ca - cb).values()) == 2
    assert sorted((r["a"], r["b"]) for r in diff.samples["added"]) == sorted((cb - ca).elements())
    assert diff.to_dict()["data_diff"]["mode"] == "multiset"


def test_schema_change_between_snapshots(ws: odg.Workbench) -> None:
    from pyiceberg.types import StringType

    ws.ingest(pa.table({"id": [1, 2, 3], "x": [1.0, 2.0, 3.0]}), "bronze.m")
    first = ws.table("bronze.m").current_snapshot_id
    table = ws.table("bronze.m")
    with table.iceberg.update_schema() as update:
        update.rename_column("x", "y")
        update.add_column("z", StringType())
    ws.ingest(pa.table({"id": [1, 2, 4], "y": [1.0, 2.5, 4.0], "z": ["a", "b", "c"]}), "bronze.m", mode="overwrite")

    diff = compare_snapshots(ws, "bronze.m", first, key="id")
    codes = {c.code for c in diff.schema_changes}
    assert {"column.renamed", "column.added"} <= codes
    # the renamed column is compared with its old self, under its new name
    assert "y" in diff.compared_columns and diff.changed_columns == {"y": 1}
    assert diff.skipped_columns["z"].endswith("(added)")
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 1)
    assert diff.samples["changed"][0] == {"key": {"id": 2}, "columns": ["y"], "from": {"y": 2.0}, "to": {"y": 2.5}}


def test_key_from_the_contract_primary_key(ws: odg.Workbench, tmp_path: Path) -> None:
    ws.ingest(pa.table({"code": ["a", "b"], "v": [1, 2]}), "bronze.k")
    first = ws.table("bronze.k").current_snapshot_id
    ws.ingest(pa.table({"code": ["a", "c"], "v": [5, 3]}), "bronze.k", mode="overwrite")
    assert compare_snapshots(ws, "bronze.k", first).key is None  # nothing says what the key is yet
    contract = tmp_path / "k.odcs.yaml"
    contract.write_text(
        "apiVersion: v3.0.2\nkind: DataContract\nid: k\nversion: 1.0.0\nstatus: active\n"
        "schema:\n  - name: k\n    properties:\n"
        "      - name: code\n        logicalType: string\n        primaryKey: true\n"
        "      - name: v\n        logicalType: integer\n"
    )
    ws.quality.check("bronze.k", contract)
    diff = compare_snapshots(ws, "bronze.k", first)
    assert diff.key == ["code"] and diff.key_source == "contract"
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        pytest.param({"from_snapshot": 12345}, SnapshotNotFoundError, ["no snapshot 12345"], id="unknown-snapshot"),
        pytest.param({"from_snapshot": "nope"}, SnapshotNotFoundError, ["'nope'", "v1"], id="unknown-tag"),
        pytest.param({"key": "ammount"}, CompareError, ["unknown key column 'ammount'", "amount"], id="unknown-key"),
        pytest.param({"key": "status"}, CompareError, ["not unique", "multiset"], id="key-not-unique"),
        pytest.param({"key": "_odg_batch_id"}, CompareError, ["_odg_batch_id", "bookkeeping"], id="ignored-key"),
        pytest.param({"samples": -1}, CompareError, ["samples"], id="negative-samples"),
    ],
)
def test_bad_input(orders: Any, kwargs: dict[str, Any], error: type[Exception], words: list[str]) -> None:
    wb = orders[0]
    args = {"from_snapshot": "v1", **kwargs}
    with pytest.raises(error) as info:
        compare_snapshots(wb, "bronze.orders", **args)
    for word in words:
        assert word in str(info.value)


def test_unknown_table(ws: odg.Workbench) -> None:
    with pytest.raises(LookupError, match=r"bronze\.nope"):
        compare_snapshots(ws, "bronze.nope", 1)


def test_pipeline_versions_diff(ws: odg.Workbench) -> None:
    v1 = "select id, amount from bronze.orders where amount > 10"
    v2 = "SELECT id, amount * 2 AS amount FROM bronze.orders WHERE amount > 10"
    ws.lineage.record_run("daily_orders", version="a" * 16, sql=v1, type="sql")
    time.sleep(0.01)
    ws.lineage.record_run("daily_orders", version="b" * 16, sql=v2, type="sql")

    diff = compare_pipelines(ws, "daily_orders", "aaaa", "bbbb")
    assert diff.kind == "sql" and not diff.same
    assert any(line.startswith("-") and "amount" in line for line in diff.text_diff[2:])
    assert any(line.startswith("+") and "amount * 2" in line for line in diff.text_diff[2:])
    assert any(e["edit"] in ("insert", "update") and "2" in json.dumps(e) for e in diff.edits)

    with pytest.raises(CompareError, match="no recorded version 'cccc'"):
        compare_pipelines(ws, "daily_orders", "cccc", "bbbb")
    with pytest.raises(CompareError, match="daily_orders"):
        compare_pipelines(ws, "daily_order", "a", "b")


def test_cli_compare_table(orders: Any) -> None:
    wb, before, after, first, second = orders
    expected = _expected(before, after)
    proc = run_odg("compare", "table", "bronze.orders", "--from", "v1", "--key", "id", "--json", workspace=wb.root)
    data = json.loads(proc.stdout)
    d = data["data_diff"]
    assert (data["from_snapshot"], data["to_snapshot"]) == (first, second)
    assert (d["added"], d["removed"], d["changed"]) == (
        len(expected["added"]),
        len(expected["removed"]),
        len(expected["changed"]),
    )
    proc = run_odg("compare", "table", "bronze.orders", "--from", "v1", "--key", "none", "--json", workspace=wb.root)
    assert json.loads(proc.stdout)["data_diff"]["mode"] == "multiset"
    human = run_odg("compare", "table", "bronze.orders", "--from", "v1", "--key", "id", workspace=wb.root)
    assert "added" in human.stdout and "amount" in human.stdout

    bad = run_odg(
        "compare",
        "table",
        "bronze.orders",
        "--from",
        "v1",
        "--key",
        "ammount",
        "--json",
        workspace=wb.root,
        check=False,
    )
    assert bad.returncode == 1
    err = json.loads(bad.stdout)["error"]
    assert err["type"] == "CompareError" and err["column"] == "ammount"


def test_null_keys_match_and_repeats_among_new_rows_are_refused(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"id": [None, 1, 2], "v": ["n", "a", "b"]}), "bronze.nk")
    first = ws.table("bronze.nk").current_snapshot_id
    ws.ingest(pa.table({"id": [None, 1, 3], "v": ["n2", "a", "c"]}), "bronze.nk", mode="overwrite")
    diff = compare_snapshots(ws, "bronze.nk", first, key="id")
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 1)
    assert diff.samples["changed"] == [{"key": {"id": None}, "columns": ["v"], "from": {"v": "n"}, "to": {"v": "n2"}}]

    second = ws.table("bronze.nk").current_snapshot_id
    # only the new rows repeat a key: still not a key
    ws.ingest(pa.table({"id": [None, 1, 3, 9, 9], "v": ["n2", "a", "c", "x", "y"]}), "bronze.nk", mode="overwrite")
    with pytest.raises(CompareError, match=r"not unique in snapshot \d+ \(to\).*e\.g\. \{'id': 9\}"):
        compare_snapshots(ws, "bronze.nk", second, key="id")


def test_samples_are_masked_for_the_reader(ws: odg.Workbench, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODG_MASKING_KEY", raising=False)
    ws.ingest(pa.table({"id": [1, 2, 3], "email": ["ana@example.com", "bo@example.com", "cy@example.com"]}), "bronze.p")
    first = ws.table("bronze.p").current_snapshot_id
    new = pa.table({"id": [1, 2, 4], "email": ["ana@example.com", "bob@example.org", "dee@example.com"]})
    ws.ingest(new, "bronze.p", mode="overwrite")
    assert ws.masking.plan("bronze.p") == {"email": "hash"}

    diff = compare_snapshots(ws, "bronze.p", first, key="id")
    assert diff.masked_columns == ["email"]
    shown = json.dumps(diff.to_dict())
    assert "example" not in shown  # no address, old or new, appears anywhere
    assert diff.samples["changed"][0]["columns"] == ["email"]  # the counts still see the real change
    raw = compare_snapshots(ws, "bronze.p", first, key="id", mask=False)
    assert raw.samples["added"] == [{"id": 4, "email": "dee@example.com"}] and raw.masked_columns == []


def test_versioned_query_and_pipeline_runs_compare(orders: Any) -> None:
    import polars as pl

    from odg_workbench.lineage.versioned import VersionedPipeline, VersionedQuery

    wb = orders[0]
    q1 = VersionedQuery(
        "select status, count(*) as n from bronze.orders group by status", name="by_status", workbench=wb
    )
    q1b = VersionedQuery(
        "SELECT status,\n  COUNT(*) AS n\nFROM bronze.orders GROUP BY status", name="by_status", workbench=wb
    )
    q2 = VersionedQuery(
        "select status, count(*) as n from bronze.orders where amount > 100 group by status",
        name="by_status",
        workbench=wb,
    )
    r1, r2 = q1.run(output="silver.by_status"), q2.run(output="silver.by_status")
    assert q1.version == q1b.version != q2.version  # formatting is not a new version
    diff = compare_pipelines(wb, "by_status", r1.version, r2.version)
    assert diff.kind == "sql" and not diff.same
    assert any(line.startswith("+") and "amount > 100" in line for line in diff.text_diff)
    assert any("amount > 100" in json.dumps(e) for e in diff.edits)
    assert diff.runs["from"]["run_id"] == r1.run_id and diff.runs["to"]["run_id"] == r2.run_id

    def paid(orders: pl.LazyFrame) -> pl.LazyFrame:
        return orders.filter(pl.col("status") == "paid").select("id", "amount")

    def paid_big(orders: pl.LazyFrame) -> pl.LazyFrame:
        return orders.filter((pl.col("status") == "paid") & (pl.col("amount") > 500)).select("id", "amount")

    p1 = VersionedPipeline(paid, name="paid", inputs={"orders": "bronze.orders"}, workbench=wb).run("silver.paid")
    p2 = VersionedPipeline(paid_big, name="paid", inputs={"orders": "bronze.orders"}, workbench=wb).run("silver.paid")
    plan_diff = compare_pipelines(wb, "paid", p1.version, p2.version)
    assert plan_diff.kind == "plan" and not plan_diff.same
    assert any(line.startswith("+") and "500" in line for line in plan_diff.text_diff)

    proc = run_odg("compare", "pipeline", "paid", p1.version[:8], p2.version[:8], "--json", workspace=wb.root)
    assert json.loads(proc.stdout)["text_diff"] == plan_diff.text_diff
