"""The sample data: regenerable byte for byte, valid documents, and the main job over it."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

import odg_workbench as odg
from odg_workbench.privacy.documents import is_valid_cnpj, is_valid_cpf
from odg_workbench.samples import ingest_samples, sample_files
from tests.conftest import SAMPLES, odg_json


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SAMPLES / "generate.py"), "--out", str(tmp_path)], check=True, capture_output=True
    )
    committed = sample_files(SAMPLES)
    assert len(committed) == 7
    for path in committed:
        assert _sha(tmp_path / path.name) == _sha(path), f"{path.name} differs from its regenerated copy"


def test_samples_are_small() -> None:
    assert sum(p.stat().st_size for p in sample_files(SAMPLES)) < 5 * 1024 * 1024


def test_customer_documents_are_valid() -> None:
    with (SAMPLES / "customers.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["customer_id"] for r in rows}) == 2000
    assert all(is_valid_cpf(r["cpf"]) for r in rows)
    cnpjs = [r["cnpj"] for r in rows if r["cnpj"]]
    assert cnpjs and all(is_valid_cnpj(c) for c in cnpjs)
    assert any(any(ch.isalpha() for ch in c) for c in cnpjs), "the alphanumeric CNPJ format is represented"


def test_main_job_loads_every_sample_once(tmp_path: Path) -> None:
    with odg.open(tmp_path / "demo") as wb:
        first = ingest_samples(wb)
        assert {r.table for r in first} == {
            "bronze.customers",
            "bronze.orders",
            "bronze.products",
            "bronze.support_tickets",
            "bronze.cloud_costs_aws",
            "bronze.predictions_reference",
            "bronze.predictions_current",
        }
        assert not any(r.skipped for r in first)
        counts = {t.table: t.rows for t in wb.tables()}
        assert counts["bronze.orders"] == 20000 and counts["bronze.customers"] == 2010
        again = ingest_samples(wb)
        assert all(r.skipped for r in again)
        assert {t.table: t.rows for t in wb.tables()} == counts


def test_demo_command(tmp_path: Path) -> None:
    out = odg_json("demo", workspace=tmp_path / "demo-cli")
    assert out["workspace"] == str(tmp_path / "demo-cli")
    assert len(out["tables"]) == 7 and all(t["rows"] > 0 for t in out["tables"])
    again = odg_json("demo", workspace=tmp_path / "demo-cli")
    assert all(r["skipped"] for r in again["ingested"])
    quality = {q["dataset"]: q for q in out["quality"]}
    assert set(quality) == {"bronze.orders", "bronze.customers"}
    # orders pass the bronze gate; customers carry duplicate ids and missing e-mails
    # (data/samples/README.md), which break severity-error rules of their contract
    assert quality["bronze.orders"]["verdict"] == "pass"
    assert quality["bronze.customers"]["verdict"] == "fail"
    assert "customers.customer_id.unique" in quality["bronze.customers"]["failed_rules"]
    promotions = {p["source"]: p for p in out["promotions"]}
    assert promotions["bronze.orders"]["status"] == "promoted"
    assert promotions["bronze.customers"]["status"] == "blocked"
    assert out["audit"]["ok"] is True and out["audit"]["events"] > 10
    second = {p["source"]: p["status"] for p in again["promotions"]}
    assert second == {"bronze.orders": "already_promoted", "bronze.customers": "blocked"}
    tables = {t["table"]: t["rows"] for t in odg_json("tables", workspace=tmp_path / "demo-cli")}
    assert tables["silver.orders"] == 20000 and "silver.customers" not in tables
