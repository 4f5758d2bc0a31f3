"""The built-in frameworks, one module each; the registry imports a module when its framework is used."""

from __future__ import annotations

__all__ = ["BUILTINS"]

#: Framework name -> ``module:attribute`` of its checker, in display order.
BUILTINS: dict[str, str] = {
    "lgpd": "odg_workbench.compliance.checkers.lgpd:LGPD",
    "gdpr": "odg_workbench.compliance.checkers.gdpr:GDPR",
    "eu_ai_act": "odg_workbench.compliance.checkers.eu_ai_act:EU_AI_ACT",
    "sox": "odg_workbench.compliance.checkers.sox:SOX",
    "nist_ai_rmf": "odg_workbench.compliance.checkers.nist_ai_rmf:NIST_AI_RMF",
    "iso_42001": "odg_workbench.compliance.checkers.iso_42001:ISO_42001",
    "dama_dmbok": "odg_workbench.compliance.checkers.dama_dmbok:DAMA_DMBOK",
}
