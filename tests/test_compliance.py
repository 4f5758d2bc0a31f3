"""The compliance engine: findings follow the workspace, plugins plug in, reports and CLI, AI risk."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import odg_workbench as odg
from odg_workbench import compliance
from odg_workbench.compliance import (
    Checker,
    ComplianceError,
    Finding,
    ModelFacts,
    Outcome,
    Requirement,
    Status,
    UnknownFrameworkError,
)
from odg_workbench.compliance.facts import sensitive_category
from tests.conftest import REPO, SAMPLES, run_odg

CONTRACT = REPO / "data" / "contracts" / "customers.odcs.yaml"
KEY = "compliance-test-masking-key-0123456789"
BUILTINS = ["lgpd", "gdpr", "eu_ai_act", "sox", "nist_ai_rmf", "iso_42001", "dama_dmbok"]


def _open(root: Path) -> odg.Workbench:
    return odg.open(root, user="tester")


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[odg.Workbench]:
    """A workspace whose admin is the acting user, with the sample customers in Bronze."""
    monkeypatch.setenv("ODG_MASKING_KEY", KEY)
    setup = _open(tmp_path / "ws")
    setup.config.set("governance.admins", "tester")
    setup.config.save()
    setup.close()
    wb = _open(tmp_path / "ws")
    wb.ingest(SAMPLES / "customers.csv", "bronze.customers")
    yield wb
    wb.close()


def _clean_customers() -> Any:
    """The sample customers without the duplicate ids and bad e-mails (passes its contract's gate)."""
    import duckdb

    query = f"""SELECT DISTINCT ON (customer_id) * FROM read_csv('{SAMPLES / "customers.csv"}')
                WHERE email LIKE '%@%.%' ORDER BY customer_id"""
    return duckdb.sql(query).arrow().read_all()


def _status(report: compliance.ComplianceReport, requirement: str) -> Status:
    return report.finding(requirement).status


# -- the registry --------------------------------------------------------------------------------


def test_the_seven_frameworks_are_built_in_with_distinct_requirements() -> None:
    assert compliance.frameworks()[:7] == BUILTINS
    for name in BUILTINS:
        checker = compliance.get_checker(name)
        ids = [r.id for r in checker.requirements]
        assert len(ids) >= 6, name
        assert len(set(ids)) == len(ids), name
        assert checker.title and checker.version and checker.jurisdictions
    lgpd = {r.id for r in compliance.get_checker("lgpd").requirements}
    assert {"LGPD Art. 6, I", "LGPD Art. 11", "LGPD Art. 37", "LGPD Art. 46"} <= lgpd
    gdpr = {r.id for r in compliance.get_checker("gdpr").requirements}
    assert {"GDPR Art. 5(1)(c)", "GDPR Art. 5(1)(e)", "GDPR Art. 25", "GDPR Art. 30", "GDPR Art. 32"} <= gdpr
    ai_act = {r.id for r in compliance.get_checker("EU AI Act").requirements}  # spelled as people write it
    assert {f"AI Act Art. {n}" for n in range(9, 16)} <= ai_act


def test_an_unknown_framework_lists_the_known_ones_and_the_closest(ws: odg.Workbench) -> None:
    with pytest.raises(UnknownFrameworkError) as err:
        compliance.check("lgdp", "bronze.customers", workbench=ws)
    message = err.value.message
    assert "unknown compliance framework 'lgdp' (did you mean lgpd?)" in message
    for name in BUILTINS:
        assert name in message
    assert err.value.details["known"][:7] == BUILTINS
    assert isinstance(err.value, LookupError)
    # through the CLI: exit status 1 and the same error as JSON
    proc = run_odg(
        "compliance", "check", "bronze.customers", "--framework", "hipaa", "--json", workspace=ws.root, check=False
    )
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "UnknownFrameworkError" and error["known"][:7] == BUILTINS


def test_a_target_that_is_not_a_table_is_a_clear_error(ws: odg.Workbench) -> None:
    ws.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    with pytest.raises(odg.TableNotFoundError, match=r"no table bronze.order .*did you mean bronze.orders"):
        compliance.check("lgpd", "bronze.order", workbench=ws)
    with pytest.raises(ComplianceError, match=r"neither a table .* nor .workspace."):
        compliance.check("lgpd", "customers", workbench=ws)


def test_register_adds_a_framework_and_refuses_a_duplicate(ws: odg.Workbench) -> None:
    ws.ingest(SAMPLES / "orders.parquet", "bronze.orders")

    def has_rows(facts: compliance.Facts) -> Outcome:
        t = facts.tables[0]
        return Outcome.passed(f"{t.rows} rows") if t.rows else Outcome.failed("empty", "load data")

    rule = Requirement("ACME-1", "Tables are not empty", "Every table holds rows.", has_rows)
    compliance.register(Checker("acme_runtime", "ACME runtime policy", "2026", ["GLOBAL"], [rule]))
    try:
        assert "acme_runtime" in compliance.frameworks()
        report = compliance.check("acme_runtime", "bronze.orders", workbench=ws)
        assert report.finding("ACME-1").evidence == "20000 rows"
        with pytest.raises(ComplianceError, match="already registered; pass replace=True"):
            compliance.register(Checker("acme_runtime", "again", "1", ["GLOBAL"], [rule]))
        with pytest.raises(ComplianceError, match="already registered"):
            compliance.register(Checker("lgpd", "my LGPD", "1", ["BR"], [rule]))
        with pytest.raises(ComplianceError, match="must be lower case"):
            compliance.register(Checker("Bad Name", "x", "1", ["GLOBAL"], [rule]))
    finally:
        compliance.unregister("acme_runtime")
    assert "acme_runtime" not in compliance.frameworks()


PLUGIN = """
from odg_workbench.compliance import Checker, Outcome, Requirement


def _documented(facts):
    missing = [t.table for t in facts.tables if not (t.contract and t.contract.purpose)]
    if missing:
        return Outcome.failed("no purpose: " + ", ".join(missing), "write <description.purpose>")
    return Outcome.passed("every table states its purpose")


CHECKER = Checker(
    "acme_policy", "ACME data policy", "2026.1", ["GLOBAL"],
    [Requirement("ACME-7", "Purpose <documented>", "Tables state why they exist.", _documented)],
)
"""


def _install_plugin(site: Path, module: str, source: str, entry_points: str) -> None:
    """A real installed distribution: a module and its .dist-info folder with entry_points.txt."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    (info / "RECORD").write_text("")


def test_a_plugin_adds_a_framework_through_its_entry_point(
    lake: odg.Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    site = tmp_path / "site"
    _install_plugin(
        site, "acme_compliance", PLUGIN, "[odg_workbench.compliance]\nacme_policy = acme_compliance:CHECKER\n"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()

    assert "acme_policy" in compliance.frameworks()
    report = compliance.check("acme_policy", "bronze.customers", workbench=lake)
    finding = report.finding("ACME-7")
    assert finding.status is Status.FAIL and finding.framework == "acme_policy"
    assert finding.evidence == "no purpose: bronze.customers"
    # the plugin sees the same facts as the built-ins: a contract with a purpose makes it pass
    lake.quality.check("bronze.customers", CONTRACT)
    assert _status(compliance.check("acme_policy", "bronze.customers", workbench=lake), "ACME-7") is Status.PASS
    # and it is listed (and escaped) by the CLI and the HTML report
    listed = json.loads(run_odg("compliance", "frameworks", "--json").stdout)
    assert {"name": "acme_policy", "title": "ACME data policy", "version": "2026.1"}.items() <= next(
        f for f in listed if f["name"] == "acme_policy"
    ).items()
    assert "Purpose &lt;documented&gt;" in report.to_html()


def test_a_broken_plugin_is_named_and_does_not_break_the_others(
    lake: odg.Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    site = tmp_path / "site"
    source = "raise RuntimeError('plugin bug')\n"
    _install_plugin(site, "broken_plugin", source, "[odg_workbench.compliance]\nbroken = broken_plugin:CHECKER\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    assert "broken" in compliance.frameworks()
    with pytest.raises(ComplianceError, match=r"plugin 'broken' \(broken_plugin:CHECKER.*RuntimeError: plugin bug"):
        compliance.check("broken", "bronze.customers", workbench=lake)
    assert compliance.check("lgpd", "bronze.customers", workbench=lake).findings


# -- findings follow the workspace ---------------------------------------------------------------------


def test_lgpd_on_the_sample_customers_names_columns_and_what_to_run(lake: odg.Workbench) -> None:
    report = compliance.check("lgpd", "bronze.customers", workbench=lake)
    assert report.frameworks == ["lgpd"] and report.target == "bronze.customers"
    assert len(report.findings) == len(compliance.get_checker("lgpd").requirements)
    # the PII scan found the CPF, e-mail and phone columns; the purpose is not documented
    purpose = report.finding("LGPD Art. 6, I")
    assert purpose.status is Status.FAIL
    for column in ("cpf (BR_CPF)", "email (EMAIL)", "phone (PHONE)"):
        assert column in purpose.evidence
    assert "description.purpose" in (purpose.remediation or "")
    # consent is recorded per customer: a legal basis
    basis = report.finding("LGPD Art. 7")
    assert basis.status is Status.PASS and "consent_marketing" in basis.evidence
    # nobody is accountable yet: the remediation is the command to run
    raci = report.finding("LGPD Art. 6, X")
    assert raci.status is Status.FAIL
    assert "odg raci set dataset:bronze.customers --accountable NAME --responsible NAME" in (raci.remediation or "")
    # bronze is the landing layer: minimisation is checked on promotion
    assert _status(report, "LGPD Art. 6, III") is Status.NOT_APPLICABLE
    assert report.score == round(report.summary["pass"] / (report.summary["pass"] + report.summary["fail"]), 4)


def test_a_tampered_audit_chain_fails_the_records_of_processing(lake: odg.Workbench) -> None:
    before = compliance.check("lgpd", "bronze.customers", workbench=lake).finding("LGPD Art. 37")
    assert before.status is Status.PASS
    assert "audit events record its processing" in before.evidence and "audit chain intact" in before.evidence
    con = sqlite3.connect(lake.root / "state.db", isolation_level=None)
    try:
        con.execute("UPDATE audit_events SET actor = 'mallory' WHERE position = 0")
    finally:
        con.close()
    after = compliance.check("lgpd", "bronze.customers", workbench=lake).finding("LGPD Art. 37")
    assert after.status is Status.FAIL
    assert after.evidence.startswith("the audit chain is broken at position 0")
    assert "odg audit verify" in (after.remediation or "")
    sox = compliance.check("sox", "bronze.customers", workbench=lake)
    assert _status(sox, "SOX 404 (audit trail)") is Status.FAIL


def test_setting_the_raci_makes_accountability_pass(lake: odg.Workbench) -> None:
    assert _status(compliance.check("gdpr", "bronze.customers", workbench=lake), "GDPR Art. 5(2)") is Status.FAIL
    lake.raci.set("domain:sales", accountable="bia")
    lake.raci.set("dataset:bronze.customers", responsible="ana", domain="sales")
    finding = compliance.check("gdpr", "bronze.customers", workbench=lake).finding("GDPR Art. 5(2)")
    assert finding.status is Status.PASS
    assert finding.evidence == "accountable: bia (domain:sales), responsible: ana (dataset:bronze.customers)"


def test_classification_drives_masking_and_the_security_findings(lake: odg.Workbench) -> None:
    # Internal is below privacy.mask_level: readers without unmasked access would see the CPFs
    lake.classifications.set("bronze.customers", "Internal", ["BR"])
    report = compliance.check("lgpd", "bronze.customers", workbench=lake)
    security = report.finding("LGPD Art. 46")
    assert security.status is Status.FAIL
    assert "cpf (BR_CPF)" in security.evidence and "readable in clear" in security.evidence
    assert "odg privacy classify bronze.customers --set Confidential" in (security.remediation or "")
    level = report.finding("LGPD Art. 6, VIII")
    assert level.status is Status.FAIL and "below RESTRICTED" in level.evidence
    # Restricted (what the CPF calls for): masked by policy, classification consistent
    lake.classifications.set("bronze.customers", "Restricted", ["BR"])
    report = compliance.check("lgpd", "bronze.customers", workbench=lake)
    security = report.finding("LGPD Art. 46")
    assert security.status is Status.PASS
    assert "cpf: hash" in security.evidence and "email: hash" in security.evidence
    assert _status(report, "LGPD Art. 6, VIII") is Status.PASS


def test_check_all_follows_the_jurisdictions_of_the_classification(lake: odg.Workbench) -> None:
    unclassified = compliance.check_all("bronze.customers", workbench=lake)
    assert unclassified.frameworks == BUILTINS and unclassified.jurisdictions is None
    lake.classifications.set("bronze.customers", "Restricted", ["BR"])
    report = compliance.check_all("bronze.customers", workbench=lake)
    assert report.frameworks == ["lgpd", "iso_42001", "dama_dmbok"]
    assert report.jurisdictions == ["BR"]
    assert set(report.skipped) == {"gdpr", "eu_ai_act", "sox", "nist_ai_rmf"}
    assert "classified for BR" in report.skipped["gdpr"]
    # the same frameworks as the classification says apply
    assert report.frameworks == lake.classifications.get("bronze.customers").frameworks  # type: ignore[union-attr]
    # named explicitly, a framework is checked whatever the jurisdictions
    both = compliance.check_all("bronze.customers", workbench=lake, frameworks=["lgpd", "gdpr"], applicable_only=False)
    assert both.frameworks == ["lgpd", "gdpr"] and not both.skipped
    data = json.loads(
        run_odg(
            "compliance", "check", "bronze.customers", "-f", "gdpr", "-f", "sox", "--json",
            workspace=lake.root, check=False,
        ).stdout
    )  # fmt: skip
    assert data["frameworks"] == ["gdpr", "sox"]


def test_quality_purpose_and_staleness(lake: odg.Workbench) -> None:
    assert _status(compliance.check("dama_dmbok", "bronze.customers", workbench=lake), "DMBOK2 ch. 13") is Status.FAIL
    run = lake.quality.check("bronze.customers", CONTRACT)
    report = compliance.check("lgpd", "bronze.customers", workbench=lake)
    # the sample customers fail their contract (duplicates, missing e-mails): the score is shown
    quality = report.finding("LGPD Art. 6, V")
    assert quality.status is Status.FAIL
    assert f"failed the bronze gate (score {run.score:.4f}, threshold 0.70): rule customers" in quality.evidence
    assert f"odg quality show {run.run_id}" in (quality.remediation or "")
    purpose = report.finding("LGPD Art. 6, I")
    assert purpose.status is Status.PASS and "urn:odg:contract:customers" in purpose.evidence
    # measured is not passed: NIST MEASURE 2.1 passes on the same run
    assert _status(compliance.check("nist_ai_rmf", "bronze.customers", workbench=lake), "MEASURE 2.1") is Status.PASS

    lake.ingest(_clean_customers(), "bronze.clean")
    lake.quality.check("bronze.clean", CONTRACT)
    assert _status(compliance.check("gdpr", "bronze.clean", workbench=lake), "GDPR Art. 5(1)(d)") is Status.PASS
    lake.ingest(SAMPLES / "customers.csv", "bronze.clean")  # new data, not checked yet
    stale = compliance.check("gdpr", "bronze.clean", workbench=lake).finding("GDPR Art. 5(1)(d)")
    assert stale.status is Status.FAIL and "the table is now at" in stale.evidence


def test_retention_finds_snapshots_to_expire_until_expire_runs(lake: odg.Workbench) -> None:
    lake.config.set("lakehouse.retention_keep_last", 1)
    lake.config.set("lakehouse.retention_max_age_days", 0)
    lake.config.save()
    lake.ingest(_clean_customers(), "bronze.customers", mode="append")
    lake.ingest(_clean_customers().slice(0, 10), "bronze.customers", mode="append")
    finding = compliance.check("gdpr", "bronze.customers", workbench=lake).finding("GDPR Art. 5(1)(e)")
    assert finding.status is Status.FAIL
    assert finding.evidence.startswith("2 of 3 snapshots are past the retention policy")
    assert finding.remediation == "`odg expire bronze.customers` (add --dry-run first to see what goes)"
    lake.table("bronze.customers").expire()
    assert _status(compliance.check("gdpr", "bronze.customers", workbench=lake), "GDPR Art. 5(1)(e)") is Status.PASS


def test_promotion_lineage_change_control_and_minimisation(lake: odg.Workbench) -> None:
    lake.ingest(_clean_customers(), "bronze.clean")
    result = lake.promote("bronze.clean", "silver", contract=CONTRACT)
    assert result.status == "promoted"
    report = compliance.check_all("silver.clean", workbench=lake, frameworks=["lgpd", "sox", "dama_dmbok"])
    lineage = report.finding("DMBOK2 ch. 8")
    assert lineage.status is Status.PASS
    assert f"promoted from bronze.clean@{result.source_snapshot_id}" in lineage.evidence
    assert _status(report, "SOX 404 (change management)") is Status.PASS
    # the promotion gate's run counts for the promoted copy
    accuracy = report.finding("SOX 404 (data accuracy)")
    assert accuracy.status is Status.PASS and "the promotion gate on bronze.clean@" in accuracy.evidence
    # not classified: promotion copied the CPFs as they were
    minimise = report.finding("LGPD Art. 6, III")
    assert minimise.status is Status.FAIL and "cpf (BR_CPF)" in minimise.evidence

    lake.classifications.set("bronze.clean", "Restricted", ["BR"])
    lake.promote("bronze.clean", "silver", contract=CONTRACT)
    minimise = compliance.check("lgpd", "silver.clean", workbench=lake).finding("LGPD Art. 6, III")
    assert minimise.status is Status.PASS and "cpf" in minimise.evidence

    # a direct write to Silver bypasses change control
    lake.lakehouse.write("silver.clean", lake.table("silver.clean").to_arrow().slice(0, 5), mode="append")
    sox = compliance.check("sox", "silver.clean", workbench=lake)
    change = sox.finding("SOX 404 (change management)")
    assert change.status is Status.FAIL and "was not written by a promotion" in change.evidence
    assert _status(sox, "SOX 404 (segregation of duties)") is Status.NOT_APPLICABLE


def test_special_category_columns_need_restriction_and_a_legal_basis(lake: odg.Workbench) -> None:
    import pyarrow as pa

    patients = pa.table(
        {
            "patient_id": ["P1", "P2", "P3"],
            "cpf": ["448.450.115-57", "064.283.176-99", "529.982.247-25"],
            "diagnostico_saude": ["diabetes", "asma", "hipertensão"],
            "religion": ["a", "b", "c"],
        }
    )
    lake.ingest(patients, "bronze.patients")
    finding = compliance.check("lgpd", "bronze.patients", workbench=lake).finding("LGPD Art. 11")
    assert finding.status is Status.FAIL
    assert "diagnostico_saude (health)" in finding.evidence and "religion (religious belief)" in finding.evidence
    assert "no legal basis declared" in finding.evidence
    assert (
        _status(compliance.check("lgpd", "bronze.customers", workbench=lake), "LGPD Art. 11") is Status.NOT_APPLICABLE
    )


@pytest.mark.parametrize(
    ("column", "category"),
    [
        pytest.param("diagnostico_saude", "health", id="pt-health"),
        pytest.param("HealthPlanId", "health", id="camel-case"),
        pytest.param("wealth", None, id="not-a-word-inside"),
        pytest.param("religião", "religious belief", id="accents"),
        pytest.param("union_id", None, id="union-alone"),
        pytest.param("trade_union_member", "trade union membership", id="trade-union"),
        pytest.param("orientacao_sexual", "sex life or sexual orientation", id="pt-orientation"),
        pytest.param("customer_id", None, id="plain"),
    ],
)
def test_special_categories_are_recognised_by_whole_words(column: str, category: str | None) -> None:
    assert sensitive_category(column) == category


def test_differential_privacy_budgets_are_reported(lake: odg.Workbench) -> None:
    lake.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    assert _status(compliance.check("lgpd", "bronze.orders", workbench=lake), "LGPD Art. 12") is Status.NOT_APPLICABLE
    lake.dp.set_budget("bronze.orders", "analyst", 1.0)
    lake.dp.count("bronze.orders", epsilon=0.25, consumer="analyst")
    finding = compliance.check("gdpr", "bronze.orders", workbench=lake).finding("GDPR Art. 89(1)")
    assert finding.status is Status.PASS
    assert finding.evidence == "every consumer within budget: analyst: epsilon 0.25 of 1 in 1 queries (set)"


def test_workspace_target_names_the_failing_tables(lake: odg.Workbench) -> None:
    lake.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    lake.raci.set("dataset:bronze.orders", accountable="bia", responsible="ana")
    finding = compliance.check("dama_dmbok", "workspace", workbench=lake).finding("DMBOK2 ch. 3")
    assert finding.status is Status.FAIL
    assert finding.evidence.startswith("bronze.customers: no accountable and no responsible")
    assert "(1 other table(s) pass)" in finding.evidence
    assert set(finding.details["tables"]) == {"bronze.customers", "bronze.orders"}


# -- models (the hook the model registry fills) ----------------------------------------------------------


def test_without_models_the_ai_act_is_not_applicable(lake: odg.Workbench) -> None:
    report = compliance.check("eu_ai_act", "workspace", workbench=lake)
    assert {f.status for f in report.findings} == {Status.NOT_APPLICABLE}
    assert report.finding("AI Act Art. 10").evidence == "no model registered in this workspace"
    assert report.score is None


def test_registered_models_are_checked_against_their_cards(lake: odg.Workbench) -> None:
    snapshot = lake.table("bronze.customers").current_snapshot_id
    card = {
        "intended_purpose": "credit scoring of consumers applying for a loan",
        "training_dataset_id": "bronze.customers",
        "metrics": {"auc": 0.81},
        "training_environment": {"python": "3.11"},
        "limitations": "not validated for business customers",
    }

    def models(wb: odg.Workbench) -> list[ModelFacts]:
        return [
            ModelFacts("credit_risk", "3", card, [("bronze.customers", snapshot)], source="test registry"),
            ModelFacts("faq_bot", "1", {"intended_purpose": "chatbot answering questions about orders"}),
        ]

    remove = compliance.register_model_source(models)
    try:
        report = compliance.check("eu_ai_act", "workspace", workbench=lake)
        assert report.finding("AI Act Art. 6").evidence == "risk levels: credit_risk v3: high; faq_bot v1: limited"
        assert _status(report, "AI Act Art. 5") is Status.PASS
        assert _status(report, "AI Act Art. 11") is Status.PASS
        oversight = report.finding("AI Act Art. 14")
        assert oversight.status is Status.FAIL and "credit_risk v3: no human oversight" in oversight.evidence
        data = report.finding("AI Act Art. 10")
        assert data.status is Status.FAIL and "never checked against a data contract" in data.evidence
        assert _status(report, "AI Act Art. 50") is Status.FAIL  # the chatbot does not disclose it is AI
        # a table target sees only the models trained on it
        on_table = compliance.check("nist_ai_rmf", "bronze.customers", workbench=lake)
        assert on_table.finding("GOVERN 1.6").evidence == "1 model(s) inventoried: credit_risk v3 (test registry)"
    finally:
        remove()


def test_models_of_the_model_registry_are_checked(lake: odg.Workbench, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workbench's own model registry (MLflow + model cards) is a built-in model source."""
    models = pytest.importorskip("odg_workbench.lineage.models")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    lake.models.register(
        models.ModelCard(
            name="loan_scoring",
            intended_use="credit scoring of consumers applying for a loan",
            training_datasets=["bronze.customers"],
            metrics={"auc": 0.8},
            limitations=["not validated for business customers"],
            human_oversight="an analyst reviews every refusal",
            owner="tester",
        )
    )
    report = compliance.check("eu_ai_act", "bronze.customers", workbench=lake)
    assert report.finding("AI Act Art. 6").evidence == "risk levels: loan_scoring v1: high"
    assert _status(report, "AI Act Art. 14") is Status.PASS
    assert _status(report, "AI Act Art. 11") is Status.PASS  # purpose, data, metrics, captured environment
    risk = report.finding("AI Act Art. 9")
    assert risk.status is Status.FAIL and "loan_scoring v1: no risk management" in risk.evidence
    # Art. 10: the training table has never passed a quality check
    assert "loan_scoring v1 <- bronze.customers: never checked" in report.finding("AI Act Art. 10").evidence
    # a table the model was not trained on has no model
    lake.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    other = compliance.check("eu_ai_act", "bronze.orders", workbench=lake)
    assert other.finding("AI Act Art. 6").evidence == "no model registered in this workspace trained on bronze.orders"


def test_a_failing_model_source_is_reported_not_hidden(lake: odg.Workbench) -> None:
    def broken(wb: odg.Workbench) -> list[ModelFacts]:
        raise RuntimeError("registry offline")

    remove = compliance.register_model_source(broken)
    try:
        report = compliance.check("eu_ai_act", "workspace", workbench=lake)
        assert report.unknown == {"models:broken": "a model source failed: RuntimeError: registry offline"}
        assert "registry offline" in report.to_html()
    finally:
        remove()


# -- reports --------------------------------------------------------------------------------------------


def test_the_html_report_is_self_contained_escaped_and_lists_the_findings(lake: odg.Workbench, tmp_path: Path) -> None:
    def evil(facts: compliance.Facts) -> Outcome:
        return Outcome.failed('<script>alert("x")</script> & <b>', "run `odg <fix>`")

    rule = Requirement("X-1", "<img src=x onerror=alert(1)>", "", evil)
    compliance.register(Checker("evil_fw", "Evil <framework>", "1", ["GLOBAL"], [rule]))
    try:
        report = compliance.check_all("bronze.customers", workbench=lake, frameworks=["lgpd", "evil_fw"])
    finally:
        compliance.unregister("evil_fw")
    page = report.to_html()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert "Evil &lt;framework&gt;" in page and "run `odg &lt;fix&gt;`" in page
    for finding in report.findings_of("lgpd"):
        assert f"<b>{finding.requirement_id}</b>" in page
    assert page.count('class="badge fail"') == report.summary["fail"]
    assert "http://" not in page and "https://" not in page and "<link" not in page
    written = report.write_html(tmp_path / "out" / "report.html")
    assert written.read_text(encoding="utf-8") == page


def test_report_json_shape(lake: odg.Workbench) -> None:
    data = compliance.check_all("bronze.customers", workbench=lake, frameworks=["lgpd", "gdpr"]).to_dict()
    assert data["frameworks"] == ["lgpd", "gdpr"]
    assert (
        data["summary"]["total"]
        == len(data["findings"])
        == sum(len(compliance.get_checker(n).requirements) for n in ("lgpd", "gdpr"))
    )
    first = data["findings"][0]
    assert set(first) >= {"framework", "requirement_id", "name", "status", "evidence", "remediation"}
    assert data["by_framework"]["lgpd"]["summary"]["total"] == 11
    json.dumps(data)  # plain JSON


def test_cli_check_json_html_and_exit_status(lake: odg.Workbench, tmp_path: Path) -> None:
    html = tmp_path / "lgpd.html"
    proc = run_odg(
        "compliance", "check", "bronze.customers", "--framework", "lgpd", "--json", "--html", str(html),
        workspace=lake.root, check=False,
    )  # fmt: skip
    assert proc.returncode == 3  # a requirement fails
    data = json.loads(proc.stdout)
    assert data["target"] == "bronze.customers" and data["frameworks"] == ["lgpd"]
    art46 = next(f for f in data["findings"] if f["requirement_id"] == "LGPD Art. 46")
    assert art46["status"] in ("pass", "fail") and "cpf" in art46["evidence"]
    assert "LGPD Art. 46" in html.read_text(encoding="utf-8")
    # human output
    text = run_odg("compliance", "check", "bronze.customers", "-f", "lgpd", workspace=lake.root, check=False).stdout
    assert "LGPD Art. 37" in text and "bronze.customers:" in text


def test_cli_frameworks_and_ai_risk() -> None:
    listed = json.loads(run_odg("compliance", "frameworks", "--json").stdout)
    assert [f["name"] for f in listed][:7] == BUILTINS
    assert listed[0]["jurisdictions"] == ["BR"] and listed[0]["requirement_list"][0]["id"] == "LGPD Art. 6, I"
    out = json.loads(run_odg("compliance", "ai-risk", "Social scoring of citizens by their behaviour", "--json").stdout)
    assert out["level"] == "unacceptable" and out["articles"] == ["Art. 5(1)(c)"]
    out = json.loads(run_odg("compliance", "ai-risk", "weekly sales dashboard", "--domain", "credit", "--json").stdout)
    assert out["level"] == "high" and "Annex III(5)(b)" in out["articles"]
    bad = run_odg("compliance", "ai-risk", "x", "--domain", "employmnt", "--json", check=False)
    assert bad.returncode == 1 and "did you mean employment?" in json.loads(bad.stdout)["error"]["message"]


# -- the EU AI Act risk classifier -------------------------------------------------------------------------

# Written before the rules were tuned (the development set) ...
CASES = [
    (
        "Social scoring system that rates citizens by their online behaviour and limits their access to public services",
        "unacceptable",
    ),
    ("Sistema de pontuação social de cidadãos com base no comportamento nas redes sociais", "unacceptable"),
    ("Emotion recognition of employees through webcams to measure engagement at work", "unacceptable"),
    ("Reconhecimento de emoções dos alunos em sala de aula por câmeras", "unacceptable"),
    (
        "Scraping facial images from the internet and CCTV footage to build a facial recognition database",
        "unacceptable",
    ),
    ("Real-time facial recognition of people in public spaces so the police can find suspects", "unacceptable"),
    ("Reconhecimento facial em tempo real nas ruas para a polícia identificar suspeitos", "unacceptable"),
    ("App that plays subliminal audio cues to push users into buying more", "unacceptable"),
    (
        "Toy with a voice assistant that exploits children's vulnerability to encourage dangerous behaviour",
        "unacceptable",
    ),
    (
        "Predict whether a person will commit a crime based only on profiling of their personality traits",
        "unacceptable",
    ),
    ("Categorização biométrica que deduz a orientação sexual das pessoas a partir de imagens faciais", "unacceptable"),
    ("Screening CVs and ranking job applicants for interviews", "high"),
    ("Credit scoring model that decides loan approvals for consumers", "high"),
    ("Modelo de análise de crédito para concessão de empréstimos a pessoas físicas", "high"),
    ("Automated grading of university entrance exams", "high"),
    ("Correção automática de redações do vestibular", "high"),
    ("AI that controls the traffic lights of the city's road traffic network", "high"),
    ("Gestão da rede elétrica com IA para balancear a carga entre subestações", "high"),
    ("Pricing of life insurance premiums from applicants' health records", "high"),
    ("Triage of emergency calls and dispatch of ambulances", "high"),
    ("Assess the eligibility of applicants for unemployment benefits", "high"),
    ("Risk assessment of visa applications at the border", "high"),
    ("Tool that assists judges in researching and interpreting facts and the law", "high"),
    ("Recidivism risk score used by the police and probation officers", "high"),
    ("Monitoring employee productivity and performance to decide promotions", "high"),
    ("Sistema de recrutamento que faz triagem de currículos de candidatos", "high"),
    ("Facial recognition that identifies known shoplifters entering a store", "high"),
    ("Chatbot that interviews and screens job applicants", "high"),
    ("Customer service chatbot answering questions about orders", "limited"),
    ("Assistente virtual que responde dúvidas de clientes no site", "limited"),
    ("Generates marketing images from text prompts", "limited"),
    ("Deepfake video generation for a comedy show", "limited"),
    ("Ferramenta de IA generativa que gera textos para redes sociais", "limited"),
    ("Voice cloning for audiobook narration", "limited"),
    ("Spam filter for the company e-mail", "minimal"),
    ("Demand forecasting for warehouse inventory", "minimal"),
    ("Recommendation of products in an online store", "minimal"),
    ("Previsão de demanda de energia para planejamento de compras", "minimal"),
    ("Detecção de fraude em transações de cartão de crédito", "minimal"),
    ("Fraud detection on credit card payments", "minimal"),
    ("Predictive maintenance of factory machines from sensor data", "minimal"),
    ("Classificação de tickets de suporte por assunto", "minimal"),
    ("Face unlock that lets users verify their own identity on their phone", "minimal"),
    ("Otimização de rotas de entrega de uma transportadora", "minimal"),
]
# ... and written after, never used to tune them (two are known misses, see docs/compliance.md).
HELD_OUT = [
    ("Proctoring software that flags students cheating during online exams", "high"),
    ("Bot de WhatsApp que agenda consultas médicas", "limited"),
    ("AI that sets the credit limit of each cardholder", "high"),
    ("Sistema que decide a concessão de auxílio emergencial a famílias", "high"),
    ("Image generator for product photos", "limited"),
    ("Churn prediction for telecom subscribers", "minimal"),
    ("Detecting manipulative dark patterns in websites for a consumer protection agency", "minimal"),
    ("Lie detector used at airport border checks", "high"),
]


def _accuracy(cases: list[tuple[str, str]]) -> tuple[float, list[str]]:
    misses = []
    for description, expected in cases:
        got = compliance.classify_ai_use_case(description).level
        if got != expected:
            misses.append(f"{description!r}: expected {expected}, got {got}")
    return (len(cases) - len(misses)) / len(cases), misses


def test_ai_risk_classifier_accuracy_on_described_use_cases() -> None:
    assert len(CASES) + len(HELD_OUT) >= 30
    levels = {expected for _, expected in CASES}
    assert levels == {"unacceptable", "high", "limited", "minimal"}
    dev, dev_misses = _accuracy(CASES)
    held, held_misses = _accuracy(HELD_OUT)
    overall, _ = _accuracy(CASES + HELD_OUT)
    print(
        f"AI risk accuracy: development {dev:.3f} ({len(CASES)} cases), held-out {held:.3f} ({len(HELD_OUT)}), overall {overall:.3f}"
    )
    assert dev == 1.0, dev_misses
    assert held >= 0.75, held_misses
    assert overall >= 0.95


def test_ai_risk_result_names_articles_and_what_matched() -> None:
    r = compliance.classify_ai_use_case("Chatbot that interviews and screens job applicants")
    assert r.level == "high"
    assert r.articles[:2] == ["Annex III(4)", "Art. 6(2)"] and "Art. 14" in r.articles and "Art. 50(1)" in r.articles
    assert "chatbot" in r.matched and "screens job applicants" in r.matched
    assert r.rules == ["annex3-4-employment", "art50-1-interaction"]
    minimal = compliance.classify_ai_use_case("Demand forecasting for warehouse inventory")
    assert minimal.level == "minimal" and minimal.articles == ["Art. 4", "Art. 95"] and minimal.matched == []
    # fraud detection is carved out of Annex III(5)(b), credit decisions are not
    assert compliance.classify_ai_use_case("credit scoring to detect fraud").level == "minimal"
    with pytest.raises(ComplianceError, match="describe the AI use case in words"):
        compliance.classify_ai_use_case("   ")


def test_findings_are_plain_data() -> None:
    f = Finding("R-1", "name", Status.PASS, "evidence", None, "fw", {"k": [1]})
    assert f.to_dict() == {
        "framework": "fw",
        "requirement_id": "R-1",
        "name": "name",
        "status": "pass",
        "evidence": "evidence",
        "remediation": None,
        "details": {"k": [1]},
    }


def test_public_names_resolve_and_importing_is_light() -> None:
    import subprocess
    import sys

    for name in compliance.__all__:
        assert getattr(compliance, name) is not None, name
    code = (
        "import odg_workbench.compliance as c, odg_workbench.compliance.ai_risk\n"
        "from odg_workbench.compliance import check  # loads the registry and the built-in checkers\n"
        "assert c.frameworks()[0] == 'lgpd', c.frameworks\n"
        "import sys; sys.argv = ['odg', 'compliance', '--help']\n"
        "from odg_workbench.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = {m.split(".")[0] for m in out.split()}
    heavy = {"pyiceberg", "duckdb", "pyarrow", "polars", "pandas", "ibis", "sqlalchemy", "opendp", "presidio_analyzer"}
    assert not loaded & heavy
