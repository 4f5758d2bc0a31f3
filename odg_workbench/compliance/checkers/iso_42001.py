"""ISO/IEC 42001:2023, Artificial intelligence - Management system.

Clauses of the management system (5.3 roles, 7.5 documented information, 9.1 monitoring
and measurement) and Annex A controls (A.5.2 impact assessment, A.6.2.7 technical
documentation, A.6.2.8 event logs, A.7.4 quality of data, A.7.5 data provenance) checked on
the data and models of the workspace.
"""

from __future__ import annotations

from odg_workbench.compliance import controls as c
from odg_workbench.compliance.base import Checker, Requirement

__all__ = ["ISO_42001"]

_STD = "ISO/IEC 42001:2023"

ISO_42001 = Checker(
    name="iso_42001",
    title="ISO/IEC 42001 - AI management system",
    version="ISO/IEC 42001:2023",
    jurisdictions=("GLOBAL",),
    requirements=(
        Requirement(
            "ISO 42001 5.3",
            "Roles, responsibilities and authorities",
            "Responsibilities for the data are assigned: Accountable and Responsible in the RACI.",
            c.accountable(),
            f"{_STD}, clause 5.3 and A.3.2",
        ),
        Requirement(
            "ISO 42001 7.5",
            "Documented information",
            "The data is documented: a contract stating its purpose, and a classification.",
            c.metadata_documented,
            f"{_STD}, clause 7.5",
        ),
        Requirement(
            "ISO 42001 9.1",
            "Monitoring, measurement, analysis and evaluation",
            "Data quality is measured and kept over time.",
            c.quality_measured,
            f"{_STD}, clause 9.1",
        ),
        Requirement(
            "ISO 42001 A.5.2",
            "AI system impact assessment",
            "Each model's intended purpose is documented and its risk assessed.",
            c.ai_risk_classified,
            f"{_STD}, Annex A.5.2",
        ),
        Requirement(
            "ISO 42001 A.6.2.7",
            "AI system technical documentation",
            "Model cards document purpose, training data and metrics.",
            c.model_card_fields(
                [
                    ("intended purpose", ("intended_purpose", "intended_use", "purpose")),
                    ("training data", ("training_datasets", "training_dataset_id", "training_data")),
                    ("metrics", ("metrics", "performance")),
                ],
                high_risk_only=False,
            ),
            f"{_STD}, Annex A.6.2.7",
        ),
        Requirement(
            "ISO 42001 A.6.2.8",
            "AI system recording of event logs",
            "Events are logged in a trail that verifies.",
            c.audit_integrity,
            f"{_STD}, Annex A.6.2.8",
        ),
        Requirement(
            "ISO 42001 A.7.4",
            "Quality of data for AI systems",
            "The data meets its quality gate on its current snapshot.",
            c.quality_passed,
            f"{_STD}, Annex A.7.4",
        ),
        Requirement(
            "ISO 42001 A.7.5",
            "Data provenance",
            "The provenance of the data is recorded: ingest sources and promotion lineage.",
            c.lineage_recorded,
            f"{_STD}, Annex A.7.5",
        ),
    ),
)
