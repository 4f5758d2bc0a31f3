"""SOX, the Sarbanes-Oxley Act of 2002 (United States), for data that feeds financial reports.

Sections checked: 302 (officers certify the reports: a named Accountable for the data),
404 (management's assessment of internal control over financial reporting: the IT general
controls of change management, segregation of duties, logging, and data accuracy) and
802 (records retention: financial records are not destroyed before their time).
"""

from __future__ import annotations

from odg_workbench.compliance import controls as c
from odg_workbench.compliance.base import Checker, Requirement

__all__ = ["SOX"]

_ACT = "Sarbanes-Oxley Act of 2002, Pub. L. 107-204"

SOX = Checker(
    name="sox",
    title="SOX - Sarbanes-Oxley Act",
    version="Pub. L. 107-204 (2002)",
    jurisdictions=("US",),
    requirements=(
        Requirement(
            "SOX 302",
            "Corporate responsibility for financial reports",
            "An officer certifies the reports and the controls behind them: the data has a named "
            "Accountable in the RACI.",
            c.accountable(responsible=False),
            f"{_ACT}, section 302",
        ),
        Requirement(
            "SOX 404 (change management)",
            "Change control of reported data",
            "Curated data changes only through gated promotions; gold and platinum only through "
            "approved decisions. No direct writes.",
            c.change_control,
            f"{_ACT}, section 404; PCAOB AS 2201 (IT general controls)",
        ),
        Requirement(
            "SOX 404 (segregation of duties)",
            "Segregation of duties",
            "Whoever requests a promotion does not approve it alone.",
            c.segregation_of_duties,
            f"{_ACT}, section 404; PCAOB AS 2201",
        ),
        Requirement(
            "SOX 404 (audit trail)",
            "Integrity of the audit trail",
            "Changes are logged in a tamper-evident trail: the audit hash chain verifies.",
            c.audit_integrity,
            f"{_ACT}, section 404",
        ),
        Requirement(
            "SOX 404 (data accuracy)",
            "Accuracy of reported data",
            "Controls over the accuracy of the data: the current snapshot passed its quality gate.",
            c.quality_passed,
            f"{_ACT}, section 404",
        ),
        Requirement(
            "SOX 802",
            "Retention of records",
            "Records stay recoverable for the retention period (compliance.sox_retention_days, 7 years "
            "by default): retention keeps them that long, or period-end snapshots are tagged.",
            c.sox_record_retention,
            f"{_ACT}, section 802; 17 CFR 210.2-06",
        ),
    ),
)
