"""The ``odg`` executable: JSON on stdout and nothing else, clear errors, every command."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import odg_json, run_odg


@pytest.fixture
def cli_ws(tmp_path: Path) -> Path:
    root = tmp_path / "cli-ws"
    out = odg_json("init", str(root))
    assert out == {"workspace": str(root), "created": True, "layers": ["bronze", "silver", "gold", "platinum"]}
    return root


@pytest.fixture
def orders_file(tmp_path: Path) -> Path:
    path = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"order_id": [1, 2, 3], "amount": [9.5, 1.0, 3.25]}), path)
    return path


def test_init_is_idempotent(cli_ws: Path) -> None:
    again = odg_json("init", str(cli_ws))
    assert again["created"] is False
    human = run_odg("init", str(cli_ws)).stdout
    assert "Reopened existing workspace" in human


def test_ingest_tables_snapshots_sql(cli_ws: Path, orders_file: Path) -> None:
    result = odg_json("ingest", str(orders_file), "--table", "bronze.orders", workspace=cli_ws)
    assert result["rows"] == 3 and result["table"] == "bronze.orders" and result["created_table"] is True
    tables = odg_json("tables", workspace=cli_ws)
    assert [(t["table"], t["rows"], t["current_snapshot_id"]) for t in tables] == [
        ("bronze.orders", 3, result["snapshot_id"])
    ]
    assert tables[0]["metadata_location"].endswith(".metadata.json")
    snaps = odg_json("snapshots", "bronze.orders", workspace=cli_ws)
    assert [(s["snapshot_id"], s["operation"], s["tags"]) for s in snaps] == [(result["snapshot_id"], "append", [])]
    assert snaps[0]["summary"]["odg.actor"] == "cli-tester"
    rows = odg_json("sql", "SELECT order_id, amount FROM bronze.orders ORDER BY order_id", workspace=cli_ws)
    assert rows == [{"order_id": 1, "amount": 9.5}, {"order_id": 2, "amount": 1.0}, {"order_id": 3, "amount": 3.25}]


def test_time_travel_tag_and_rollback(cli_ws: Path, orders_file: Path) -> None:
    first = odg_json("ingest", str(orders_file), "--table", "bronze.orders", workspace=cli_ws)
    odg_json("ingest", str(orders_file), "--table", "orders", workspace=cli_ws)
    count = "SELECT count(*) AS n FROM bronze.orders"
    assert odg_json("sql", count, workspace=cli_ws) == [{"n": 6}]
    assert odg_json("sql", count, "--as-of", str(first["snapshot_id"]), workspace=cli_ws) == [{"n": 3}]
    tagged = odg_json("tag", "bronze.orders", "v1", "--snapshot", str(first["snapshot_id"]), workspace=cli_ws)
    assert tagged == {"table": "bronze.orders", "tag": "v1", "snapshot_id": first["snapshot_id"]}
    assert odg_json("sql", count, "--as-of", "v1", workspace=cli_ws) == [{"n": 3}]
    snaps = odg_json("snapshots", "bronze.orders", workspace=cli_ws)
    moment = snaps[0]["timestamp"]
    assert odg_json("sql", count, "--as-of", moment, workspace=cli_ws) == [{"n": 3}]
    back = odg_json("rollback", "bronze.orders", "--to", "v1", workspace=cli_ws)
    assert back["to_snapshot_id"] == first["snapshot_id"] and back["changed"] is True
    assert odg_json("sql", count, workspace=cli_ws) == [{"n": 3}]


def test_compact_and_expire(cli_ws: Path, orders_file: Path) -> None:
    for _ in range(4):
        run_odg("ingest", str(orders_file), "--table", "bronze.orders", workspace=cli_ws)
    report = odg_json("compact", "bronze.orders", workspace=cli_ws)
    assert (report["files_before"], report["files_after"], report["rows"]) == (4, 1, 12)
    dry = odg_json("expire", "bronze.orders", "--keep-last", "1", "--older-than", "0", "--dry-run", workspace=cli_ws)
    assert dry["dry_run"] is True and len(dry["expired_snapshot_ids"]) == 4
    done = odg_json("expire", "bronze.orders", "--keep-last", "1", "--older-than", "0", workspace=cli_ws)
    assert done["snapshots_after"] == 1 and done["files_deleted"] > 0
    assert odg_json("sql", "SELECT count(*) AS n FROM bronze.orders", workspace=cli_ws) == [{"n": 12}]


def test_schema_history_and_batches(cli_ws: Path, tmp_path: Path, orders_file: Path) -> None:
    odg_json("ingest", str(orders_file), "--table", "bronze.orders", workspace=cli_ws)
    wider = tmp_path / "more.csv"
    wider.write_text("order_id,amount,channel\n4,2.5,web\n")
    out = odg_json("ingest", str(wider), "--table", "bronze.orders", workspace=cli_ws)
    assert out["schema_changes"] == [
        {"kind": "add_column", "column": "channel", "from_type": None, "to_type": "string"}
    ]
    columns = odg_json("schema", "bronze.orders", workspace=cli_ws)
    assert [c["name"] for c in columns][-1] == "channel"
    history = odg_json("schema", "bronze.orders", "--history", workspace=cli_ws)
    assert [len(v["changes"]) for v in history] == [0, 1]
    human = run_odg("schema", "bronze.orders", "--history", workspace=cli_ws).stdout
    assert "add column: channel" in human
    batches = odg_json("batches", "bronze.orders", workspace=cli_ws)
    assert [b["rows"] for b in batches] == [1, 3]


def test_real_executable_prints_only_json(cli_ws: Path, orders_file: Path) -> None:
    proc = run_odg("ingest", str(orders_file), "--table", "bronze.orders", "--json", workspace=cli_ws, process=True)
    assert json.loads(proc.stdout)["rows"] == 3
    tables = json.loads(run_odg("tables", "--json", workspace=cli_ws, process=True).stdout)
    assert [t["table"] for t in tables] == ["bronze.orders"]


def test_errors_are_json_on_stdout_and_a_message_on_stderr(cli_ws: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4,5\n")
    proc = run_odg("ingest", str(bad), "--table", "bronze.t", "--json", workspace=cli_ws, check=False, process=True)
    assert proc.returncode == 1
    err = json.loads(proc.stdout)["error"]
    assert err["type"] == "SourceReadError" and err["line"] == 3 and err["path"] == str(bad)
    assert "bad.csv line 3" in proc.stderr
    assert odg_json("tables", workspace=cli_ws) == []

    missing = run_odg("sql", "SELECT * FROM bronze.nope", workspace=cli_ws, check=False, process=True)
    assert missing.returncode == 1 and "no table bronze.nope" in missing.stderr and missing.stdout == ""


def test_commands_on_a_missing_workspace_say_how_to_start(tmp_path: Path) -> None:
    proc = run_odg("tables", workspace=tmp_path / "nothing-here", check=False, process=True)
    assert proc.returncode == 1
    assert "odg init" in proc.stderr
    assert not (tmp_path / "nothing-here").exists()


def test_bad_mode_is_a_usage_error(cli_ws: Path, orders_file: Path) -> None:
    proc = run_odg(
        "ingest", str(orders_file), "--table", "t", "--mode", "merge", workspace=cli_ws, check=False, process=True
    )
    assert proc.returncode == 2 and "append or overwrite" in proc.stderr


def test_workspace_from_odg_home(cli_ws: Path, orders_file: Path) -> None:
    proc = run_odg("ingest", str(orders_file), "--table", "t", "--json", env={"ODG_HOME": str(cli_ws)}, process=True)
    assert json.loads(proc.stdout)["table"] == "bronze.t"


def test_identity_flag(cli_ws: Path, orders_file: Path) -> None:
    odg_json("ingest", str(orders_file), "--table", "t", "--as", "maria", workspace=cli_ws)
    assert odg_json("snapshots", "bronze.t", workspace=cli_ws)[0]["summary"]["odg.actor"] == "maria"


def test_info_and_config(cli_ws: Path) -> None:
    info = odg_json("info", workspace=cli_ws)
    assert info["catalog"]["type"] == "sql" and info["tables"] == 0
    run_odg("config", "set", "lakehouse.retention_keep_last", "7", workspace=cli_ws)
    assert odg_json("config", "get", "lakehouse.retention_keep_last", workspace=cli_ws)["value"] == 7
    listed = {row["key"]: row for row in odg_json("config", "list", workspace=cli_ws)}
    assert listed["lakehouse.retention_keep_last"]["origin"] == "file"
    assert listed["catalog.uri"]["origin"] == "default"
    bad = run_odg("config", "set", "lakehouse.retention_keep_lst", "7", workspace=cli_ws, check=False)
    assert bad.returncode == 1 and "did you mean lakehouse.retention_keep_last" in bad.stderr


def test_human_output(cli_ws: Path, orders_file: Path) -> None:
    out = run_odg("ingest", str(orders_file), "--table", "bronze.orders", workspace=cli_ws).stdout
    assert "created bronze.orders: 3 rows" in out
    table = run_odg("tables", workspace=cli_ws).stdout
    assert "bronze.orders" in table
    sql = run_odg("sql", "SELECT order_id FROM bronze.orders ORDER BY 1", "--limit", "2", workspace=cli_ws)
    assert "first 2 rows shown" in sql.stderr


def test_help_lists_commands() -> None:
    out = run_odg("--help", process=True).stdout
    for command in ("init", "ingest", "tables", "snapshots", "sql", "tag", "rollback", "compact", "expire", "demo"):
        assert command in out
