"""GDPR, the General Data Protection Regulation (Regulation (EU) 2016/679).

Articles checked: the principles of Art. 5(1) (purpose limitation (b), data minimisation
(c), accuracy (d), storage limitation (e)) and accountability (Art. 5(2)), lawfulness
(Art. 6(1)), special categories (Art. 9), data protection by design and by default
(Art. 25), records of processing activities (Art. 30), security of processing (Art. 32)
and safeguards for statistical processing (Art. 89(1)).
"""

from __future__ import annotations

from odg_workbench.compliance import controls as c
from odg_workbench.compliance.base import Checker, Requirement

__all__ = ["GDPR"]

_REG = "Regulation (EU) 2016/679"

GDPR = Checker(
    name="gdpr",
    title="GDPR - General Data Protection Regulation",
    version="Regulation (EU) 2016/679",
    jurisdictions=("EU",),
    requirements=(
        Requirement(
            "GDPR Art. 5(1)(b)",
            "Purpose limitation",
            "Personal data is collected for specified, explicit and legitimate purposes: the data "
            "contract states the purpose.",
            c.purpose_documented,
            f"{_REG}, Art. 5(1)(b)",
        ),
        Requirement(
            "GDPR Art. 5(1)(c)",
            "Data minimisation",
            "Personal data is adequate, relevant and limited to what is necessary: curated layers "
            "(silver and above) hold it only masked or not at all.",
            c.minimisation,
            f"{_REG}, Art. 5(1)(c)",
        ),
        Requirement(
            "GDPR Art. 5(1)(d)",
            "Accuracy",
            "Personal data is accurate and kept up to date: the current snapshot passed its quality gate.",
            c.personal_data_only(c.quality_passed),
            f"{_REG}, Art. 5(1)(d)",
        ),
        Requirement(
            "GDPR Art. 5(1)(e)",
            "Storage limitation",
            "Personal data is kept no longer than necessary: retention is set and no snapshot outlives it.",
            c.retention_applied(personal_only=True),
            f"{_REG}, Art. 5(1)(e)",
        ),
        Requirement(
            "GDPR Art. 5(2)",
            "Accountability",
            "The controller is responsible for, and able to demonstrate, compliance: an Accountable "
            "and a Responsible are named for the table.",
            c.personal_data_only(c.accountable()),
            f"{_REG}, Art. 5(2)",
        ),
        Requirement(
            "GDPR Art. 6(1)",
            "Lawfulness of processing",
            "Processing has a legal basis of Art. 6(1): declared in the data contract "
            "(customProperties legalBasis) or consent recorded per data subject.",
            c.legal_basis,
            f"{_REG}, Art. 6(1) and 7",
        ),
        Requirement(
            "GDPR Art. 9",
            "Special categories of personal data",
            "Data revealing racial or ethnic origin, political opinions, religious beliefs, union "
            "membership, genetic, biometric, health or sex-life data is RESTRICTED, masked and has an "
            "Art. 9(2) basis.",
            c.sensitive_data,
            f"{_REG}, Art. 9",
        ),
        Requirement(
            "GDPR Art. 25",
            "Data protection by design and by default",
            "Protection is built in: tables with personal data are classified, with their jurisdictions, "
            "so masking and access policies apply by default.",
            c.classified(personal_only=True),
            f"{_REG}, Art. 25",
        ),
        Requirement(
            "GDPR Art. 30",
            "Records of processing activities",
            "Each controller keeps a record of processing activities: every operation on the table is "
            "in the audit trail, and the hash chain verifies.",
            c.records_of_processing,
            f"{_REG}, Art. 30",
        ),
        Requirement(
            "GDPR Art. 32",
            "Security of processing",
            "Appropriate technical measures, including pseudonymisation: every personal column is masked "
            "for readers without unmasked access.",
            c.masked_for_readers,
            f"{_REG}, Art. 32(1)(a)",
        ),
        Requirement(
            "GDPR Art. 89(1)",
            "Safeguards for statistical purposes",
            "Statistical releases respect data minimisation: differentially private answers stay within "
            "each consumer's privacy budget.",
            c.dp_budgets,
            f"{_REG}, Art. 89(1)",
        ),
    ),
)
