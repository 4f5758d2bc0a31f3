"""NIST AI RMF, the AI Risk Management Framework 1.0 (NIST AI 100-1, January 2023), United States.

Subcategories of its four functions checked on what the workbench records. GOVERN: legal
requirements identified (GV 1.1), transparent controls and their outcomes (GV 1.4), AI
system inventory (GV 1.6), roles and responsibilities (GV 2.1). MAP: intended purpose
documented (MAP 1.1), data provenance mapped (MAP 4.1). MEASURE: measurement of data
quality documented (MS 2.1), privacy risk examined (MS 2.10). MANAGE: deployed models
monitored (MG 4.1).
"""

from __future__ import annotations

from odg_workbench.compliance import controls as c
from odg_workbench.compliance.base import Checker, Requirement

__all__ = ["NIST_AI_RMF"]

_DOC = "NIST AI 100-1, AI Risk Management Framework 1.0"

NIST_AI_RMF = Checker(
    name="nist_ai_rmf",
    title="NIST AI RMF - AI Risk Management Framework",
    version="1.0 (NIST AI 100-1, 2023)",
    jurisdictions=("US",),
    requirements=(
        Requirement(
            "GOVERN 1.1",
            "Legal and regulatory requirements are understood and documented",
            "Tables with personal data carry their jurisdictions (classification), which name the laws that apply.",
            c.classified(personal_only=True),
            f"{_DOC}, GOVERN 1.1",
        ),
        Requirement(
            "GOVERN 1.4",
            "Transparent risk management controls and outcomes",
            "The outcomes of governance (decisions, promotions, changes) are in an audit trail that verifies.",
            c.audit_integrity,
            f"{_DOC}, GOVERN 1.4",
        ),
        Requirement(
            "GOVERN 1.6",
            "Inventory of AI systems",
            "Mechanisms inventory the AI systems: models are registered with their cards.",
            c.ai_system_inventory,
            f"{_DOC}, GOVERN 1.6",
        ),
        Requirement(
            "GOVERN 2.1",
            "Roles and responsibilities are documented",
            "An Accountable and a Responsible are named for the data.",
            c.accountable(),
            f"{_DOC}, GOVERN 2.1",
        ),
        Requirement(
            "MAP 1.1",
            "Intended purposes are understood and documented",
            "The data contract states the purpose of the data; model cards state the intended purpose.",
            c.all_of(c.purpose_documented, c.ai_risk_classified),
            f"{_DOC}, MAP 1.1",
        ),
        Requirement(
            "MAP 4.1",
            "Approaches to map data risks, including provenance",
            "Where the data comes from is recorded: ingest sources and promotion lineage.",
            c.lineage_recorded,
            f"{_DOC}, MAP 4.1",
        ),
        Requirement(
            "MEASURE 2.1",
            "Measurements and the tools used are documented",
            "Data quality is measured against a contract and kept in the quality history.",
            c.quality_measured,
            f"{_DOC}, MEASURE 2.1",
        ),
        Requirement(
            "MEASURE 2.10",
            "Privacy risk is examined and documented",
            "Personal data found by the PII scan is masked for readers without unmasked access, and "
            "differentially private releases stay within budget.",
            c.all_of(c.masked_for_readers, c.dp_budgets),
            f"{_DOC}, MEASURE 2.10",
        ),
        Requirement(
            "MANAGE 4.1",
            "Post-deployment monitoring",
            "Deployed models have a monitoring plan (drift, performance) in their card.",
            c.model_card_fields(
                [("monitoring plan", ("monitoring", "monitoring_plan", "drift_monitoring"))], high_risk_only=False
            ),
            f"{_DOC}, MANAGE 4.1",
        ),
    ),
)
