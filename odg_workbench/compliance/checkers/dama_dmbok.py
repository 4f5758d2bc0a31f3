"""DAMA-DMBOK, the Data Management Body of Knowledge (2nd edition, DAMA International, 2017).

Not a law but the reference of data management practice; its knowledge areas are the
book's chapters. Checked: Data Governance (3), Data Storage and Operations (6), Data
Security (7), Data Integration and Interoperability (8), Metadata Management (12) and Data
Quality (13).
"""

from __future__ import annotations

from odg_workbench.compliance import controls as c
from odg_workbench.compliance.base import Checker, Requirement

__all__ = ["DAMA_DMBOK"]

_BOOK = "DAMA-DMBOK: Data Management Body of Knowledge, 2nd ed. (2017)"

DAMA_DMBOK = Checker(
    name="dama_dmbok",
    title="DAMA-DMBOK - Data Management Body of Knowledge",
    version="2nd edition (2017)",
    jurisdictions=("GLOBAL",),
    requirements=(
        Requirement(
            "DMBOK2 ch. 3",
            "Data Governance: stewardship",
            "Authority and accountability over data assets: the table has an Accountable and a Responsible.",
            c.accountable(),
            f"{_BOOK}, chapter 3",
        ),
        Requirement(
            "DMBOK2 ch. 6",
            "Data Storage and Operations: retention",
            "The data lifecycle is managed: snapshots past the retention policy are expired.",
            c.retention_applied(personal_only=False),
            f"{_BOOK}, chapter 6",
        ),
        Requirement(
            "DMBOK2 ch. 7 (classification)",
            "Data Security: classification",
            "Every table is classified by confidentiality, at a level its personal data calls for.",
            c.classified(personal_only=False),
            f"{_BOOK}, chapter 7",
        ),
        Requirement(
            "DMBOK2 ch. 7 (access)",
            "Data Security: protection of personal data",
            "Personal data is masked for readers without unmasked access.",
            c.masked_for_readers,
            f"{_BOOK}, chapter 7",
        ),
        Requirement(
            "DMBOK2 ch. 8",
            "Data Integration and Interoperability: lineage",
            "Where data comes from is recorded: ingest sources and promotion lineage.",
            c.lineage_recorded,
            f"{_BOOK}, chapter 8",
        ),
        Requirement(
            "DMBOK2 ch. 12",
            "Metadata Management",
            "Business metadata exists: a data contract stating the purpose, and a classification.",
            c.metadata_documented,
            f"{_BOOK}, chapter 12",
        ),
        Requirement(
            "DMBOK2 ch. 13",
            "Data Quality",
            "Quality is measured against a contract on the six DAMA dimensions and meets its layer's gate.",
            c.quality_passed,
            f"{_BOOK}, chapter 13",
        ),
    ),
)
