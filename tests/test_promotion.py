"""Promotion up the medallion layers: gates, one commit, idempotence, lineage, events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.governance.promotion import PromotionError, recommend
from tests.conftest import REPO, SAMPLES, run_odg

ORDERS_CONTRACT = REPO / "data" / "contracts" / "orders.odcs.yaml"


def small_contract(name: str = "items", **quality: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": f"urn:test:{name}",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": name,
                "properties": [
                    {"name": "id", "logicalType": "integer", "required": True, "unique": True},
                    {"name": "qty", "logicalType": "integer", "logicalTypeOptions": {"minimum": 0}},
                ],
            }
        ],
    }


@pytest.fixture
def orders(ws: odg.Workbench) -> odg.Workbench:
    ws.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    return ws


def test_bronze_to_silver_is_automatic_when_the_gate_passes(orders: odg.Workbench) -> None:
    events: list[Any] = []
    orders.events.subscribe(events.append, "promotion.")
    source_snapshot = orders.table("bronze.orders").current_snapshot_id
    result = orders.promote("bronze.orders", "silver", contract=ORDERS_CONTRACT)
    assert result.status == "promoted" and result.target == "silver.orders"
    assert result.source_snapshot_id == source_snapshot and result.rows == 20000
    silver = orders.table("silver.orders")
    assert silver.count() == 20000 and silver.current_snapshot_id == result.target_snapshot_id
    summary = silver.snapshots()[-1].summary
    assert summary["odg.source"] == "bronze.orders" and summary["odg.source-snapshot-id"] == str(source_snapshot)
    assert [e.type for e in events] == ["promotion.completed"]
    edges = orders.promotions.history("silver.orders")
    assert (edges[0]["source_snapshot_id"], edges[0]["target_snapshot_id"]) == (
        source_snapshot,
        result.target_snapshot_id,
    )
    runs = orders.quality.history("bronze.orders")
    assert runs[0]["run_id"] == result.quality_run_id and runs[0]["snapshot_id"] == source_snapshot


def test_the_same_promotion_twice_does_not_duplicate_data(orders: odg.Workbench) -> None:
    first = orders.promote("bronze.orders", "silver", contract=ORDERS_CONTRACT)
    again = orders.promote("bronze.orders", "silver", contract=ORDERS_CONTRACT)
    assert again.status == "already_promoted" and again.target_snapshot_id == first.target_snapshot_id
    assert orders.table("silver.orders").count() == 20000
    assert len(orders.table("silver.orders").snapshots()) == 1


def test_a_failing_gate_blocks_and_leaves_the_target_untouched(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"id": [1, 2, 3], "qty": [1, 2, 3]}), "bronze.items")
    assert ws.promote("bronze.items", "silver", contract=small_contract()).status == "promoted"
    before = ws.table("silver.items").current_snapshot_id
    ws.ingest(
        pa.table({"id": [3, None], "qty": [-1, -2]}, schema=pa.schema([("id", pa.int64()), ("qty", pa.int64())])),
        "bronze.items",
    )
    blocked = ws.promote("bronze.items", "silver", contract=small_contract())
    assert blocked.status == "blocked"
    assert any("items.id.required" in r for r in blocked.reasons)
    assert ws.table("silver.items").current_snapshot_id == before and ws.table("silver.items").count() == 3


def test_transformations_in_sql_and_python(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"id": [1, 2, 3], "qty": [1, 0, 5]}), "bronze.items")
    by_sql = ws.promote(
        "bronze.items",
        "silver",
        contract=small_contract(),
        transform="SELECT id, qty * 10 AS qty FROM {source} WHERE qty > 0",
    )
    assert by_sql.rows == 2
    assert sorted(ws.sql("SELECT qty FROM silver.items").fetchall()) == [(10,), (50,)]
    assert "_odg_batch_id" not in ws.table("silver.items").schema.names

    def keep_ids(t: pa.Table) -> pa.Table:
        return t.select(["id", "qty"])

    by_python = ws.promote("bronze.items", "silver", contract=small_contract(), transform=keep_ids)
    assert by_python.status == "promoted"  # another transformation of the same snapshot is a new promotion
    assert ws.table("silver.items").count() == 3


def test_a_crash_before_the_commit_leaves_no_partial_target_and_a_rerun_completes(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"id": [1, 2], "qty": [1, 2]}), "bronze.items")

    calls = {"n": 0}

    def flaky(t: pa.Table) -> pa.Table:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker died")
        return t.select(["id", "qty"])

    with pytest.raises(RuntimeError, match="worker died"):
        ws.promote("bronze.items", "silver", contract=small_contract(), transform=flaky)
    assert not ws.lakehouse.exists("silver.items")
    assert ws.promote("bronze.items", "silver", contract=small_contract(), transform=flaky).status == "promoted"
    assert ws.table("silver.items").count() == 2


def test_wrong_layer_order_and_missing_contract_are_clear_errors(orders: odg.Workbench) -> None:
    with pytest.raises(PromotionError, match="can be promoted to silver, not gold"):
        orders.promote("bronze.orders", "gold", contract=ORDERS_CONTRACT)
    with pytest.raises(PromotionError, match=r"no contract for bronze\.orders"):
        orders.promote("bronze.orders", "silver")
    (orders.root / "contracts").mkdir()
    (orders.root / "contracts" / "orders.odcs.yaml").write_text(ORDERS_CONTRACT.read_text())
    assert orders.promote("bronze.orders", "silver").status == "promoted"


def test_default_recommender_is_deterministic(orders: odg.Workbench) -> None:
    report = orders.quality.check("bronze.orders", ORDERS_CONTRACT, layer="silver", save=False)
    advice = recommend(report)
    assert advice.action == "reject" and advice == recommend(report)
    assert any("does not meet the silver gate" in r for r in advice.reasoning)
    good = orders.quality.check(pa.table({"id": [1, 2], "qty": [1, 2]}), small_contract(), layer="silver", save=False)
    assert recommend(good).action == "approve" and recommend(good).confidence > 0.7


def test_cli_promote_json_and_exit_codes(orders: odg.Workbench, tmp_path: Path) -> None:
    import json

    out = json.loads(
        run_odg(
            "promote", "bronze.orders", "--to", "silver", "-c", str(ORDERS_CONTRACT), "--json", workspace=orders.root
        ).stdout
    )
    assert out["status"] == "promoted" and out["target"] == "silver.orders"
    bad = run_odg(
        "promote",
        "bronze.orders",
        "--to",
        "platinum",
        "-c",
        str(ORDERS_CONTRACT),
        "--json",
        workspace=orders.root,
        check=False,
    )
    assert bad.returncode == 1 and "can be promoted to silver" in json.loads(bad.stdout)["error"]["message"]


def test_silver_to_gold_waits_for_an_approved_decision_then_promotes(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with odg.open(root, user="root") as admin:
        admin.config.set("governance.admins", "root")
        admin.config.save()
        admin.raci.set("dataset:silver.items", responsible="rita", accountable="ann", veto="vic")
        admin.ingest(pa.table({"id": [1, 2, 3], "qty": [1, 2, 3]}), "bronze.items")
        assert admin.promote("bronze.items", "silver", contract=small_contract()).status == "promoted"
    with odg.open(root, user="rita") as rita:
        pending = rita.promote(
            "silver.items", "gold", contract=small_contract(), transform="SELECT id, qty FROM {source}"
        )
        assert pending.status == "pending_decision" and pending.decision_id
        assert pending.recommendation is not None and pending.recommendation["action"] == "approve"
        assert not rita.lakehouse.exists("gold.items")
        decision = rita.decisions.get(pending.decision_id)
        assert decision.type == "data_promotion" and decision.payload["quality_report"]["verdict"] == "pass"
    with odg.open(root, user="ann") as ann:
        approved = ann.decisions.approve(pending.decision_id)
        assert approved.status.value == "APPROVED"  # ann (Accountable) + rita requested: rule met
        gold = ann.table("gold.items")
        assert gold.count() == 3
        assert gold.snapshots()[-1].summary["odg.decision-id"] == str(pending.decision_id)
        assert gold.schema.names == ["id", "qty"]
        # the same promotion again: nothing new
        assert ann.promotions.execute_decision(approved).status == "already_promoted"


def test_a_rejected_promotion_leaves_the_target_untouched(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with odg.open(root, user="root") as admin:
        admin.config.set("governance.admins", "root")
        admin.config.save()
        admin.raci.set("dataset:silver.items", responsible="rita", accountable="ann")
        admin.ingest(pa.table({"id": [1, 2], "qty": [1, 2]}), "bronze.items")
        admin.promote("bronze.items", "silver", contract=small_contract())
    with odg.open(root, user="rita") as rita:
        pending = rita.promote("silver.items", "gold", contract=small_contract())
    with odg.open(root, user="ann") as ann:
        assert ann.decisions.reject(pending.decision_id, "not this quarter").status.value == "REJECTED"
        assert not ann.lakehouse.exists("gold.items")


def test_every_step_of_a_promotion_is_on_the_audit_trail(orders: odg.Workbench) -> None:
    with orders.trace("release-42"):
        result = orders.promote("bronze.orders", "silver", contract=ORDERS_CONTRACT)
    trail = orders.audit.records()
    types = [r.type for r in trail]
    assert types[0] == "lakehouse.ingest"  # the fixture's ingest
    assert types[-3:] == ["quality.report", "promotion.completed", "lineage.edge"]
    assert {r.trace_id for r in trail[-3:]} == {"release-42"}
    assert trail[-2].payload["target_snapshot_id"] == result.target_snapshot_id
    check = orders.audit.verify()
    assert check.ok and check.events == len(trail)
    audit_topic = orders.eventlog.read("odg.audit.events", limit=1000)
    assert [m.payload["hash"] for m in audit_topic] == [r.hash for r in trail]
