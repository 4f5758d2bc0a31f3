"""Compliance engine: pluggable framework checkers evaluated on what the workbench knows.

Seven frameworks are built in (``lgpd``, ``gdpr``, ``eu_ai_act``, ``sox``,
``nist_ai_rmf``, ``iso_42001``, ``dama_dmbok``); a plugin adds one through the entry
point group ``odg_workbench.compliance`` or :func:`register`, without touching this
package. Checks read the facts of a target (a table or the whole workspace): PII and
classification, masking, retention, RACI, the audit chain, quality scores, lineage,
differential-privacy budgets and model cards::

    import odg_workbench as odg
    from odg_workbench import compliance

    wb = odg.open("lake")
    report = compliance.check("lgpd", "bronze.customers", workbench=wb)
    report.finding("LGPD Art. 46").status         # Status.FAIL: cpf readable in clear
    compliance.check_all("workspace", workbench=wb).to_html()

    compliance.classify_ai_use_case("credit scoring of loan applicants").level   # 'high'

Importing this package is cheap: the frameworks, facts and report load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odg_workbench.compliance.base import (
    Checker,
    ComplianceChecker,
    ComplianceError,
    Finding,
    Outcome,
    Requirement,
    Status,
    UnknownFrameworkError,
)

if TYPE_CHECKING:
    from odg_workbench.compliance.ai_risk import AIRiskAssessment, classify_ai_use_case
    from odg_workbench.compliance.facts import Facts, ModelFacts, TableFacts, gather, register_model_source
    from odg_workbench.compliance.registry import (
        ENTRY_POINT_GROUP,
        check,
        check_all,
        frameworks,
        get_checker,
        register,
        unregister,
    )
    from odg_workbench.compliance.report import ComplianceReport

__all__ = [
    "ENTRY_POINT_GROUP",
    "AIRiskAssessment",
    "Checker",
    "ComplianceChecker",
    "ComplianceError",
    "ComplianceReport",
    "Facts",
    "Finding",
    "ModelFacts",
    "Outcome",
    "Requirement",
    "Status",
    "TableFacts",
    "UnknownFrameworkError",
    "check",
    "check_all",
    "classify_ai_use_case",
    "frameworks",
    "gather",
    "get_checker",
    "register",
    "register_model_source",
    "unregister",
]

_LAZY = {
    "AIRiskAssessment": "odg_workbench.compliance.ai_risk",
    "classify_ai_use_case": "odg_workbench.compliance.ai_risk",
    "Facts": "odg_workbench.compliance.facts",
    "ModelFacts": "odg_workbench.compliance.facts",
    "TableFacts": "odg_workbench.compliance.facts",
    "gather": "odg_workbench.compliance.facts",
    "register_model_source": "odg_workbench.compliance.facts",
    "ENTRY_POINT_GROUP": "odg_workbench.compliance.registry",
    "check": "odg_workbench.compliance.registry",
    "check_all": "odg_workbench.compliance.registry",
    "frameworks": "odg_workbench.compliance.registry",
    "get_checker": "odg_workbench.compliance.registry",
    "register": "odg_workbench.compliance.registry",
    "unregister": "odg_workbench.compliance.registry",
    "ComplianceReport": "odg_workbench.compliance.report",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'odg_workbench.compliance' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
