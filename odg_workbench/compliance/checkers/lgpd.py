"""LGPD, Lei Geral de Proteção de Dados Pessoais (Lei nº 13.709/2018), Brazil.

Articles checked: the principles of Art. 6 (finalidade I, necessidade III, qualidade dos
dados V, prevenção VIII, responsabilização e prestação de contas X), the legal bases of
Art. 7, sensitive personal data (Art. 11), anonymised data (Art. 12), the end of
processing (Art. 15 and 16), records of processing operations (Art. 37) and security
measures (Art. 46).
"""

from __future__ import annotations

from odg_workbench.compliance import controls as c
from odg_workbench.compliance.base import Checker, Requirement

__all__ = ["LGPD"]

_LAW = "Lei nº 13.709/2018"

LGPD = Checker(
    name="lgpd",
    title="LGPD - Lei Geral de Proteção de Dados Pessoais",
    version="Lei nº 13.709/2018 (as amended by Lei nº 13.853/2019)",
    jurisdictions=("BR",),
    requirements=(
        Requirement(
            "LGPD Art. 6, I",
            "Finalidade (purpose)",
            "Processing of personal data serves legitimate, specific and explicit purposes made known "
            "to the data subject: the table's data contract states its purpose.",
            c.purpose_documented,
            f"{_LAW}, art. 6º, I",
        ),
        Requirement(
            "LGPD Art. 6, III",
            "Necessidade (necessity, data minimisation)",
            "Processing is limited to the minimum necessary: personal data reaching curated layers "
            "(silver and above) is masked or dropped on promotion.",
            c.minimisation,
            f"{_LAW}, art. 6º, III",
        ),
        Requirement(
            "LGPD Art. 6, V",
            "Qualidade dos dados (data quality)",
            "Data is accurate, clear, relevant and up to date: the last quality check of the current "
            "snapshot passed its layer's gate.",
            c.personal_data_only(c.quality_passed),
            f"{_LAW}, art. 6º, V",
        ),
        Requirement(
            "LGPD Art. 6, VIII",
            "Prevenção (prevention): classification",
            "Measures prevent damage from processing: tables with personal data are classified "
            "at the level their personal data calls for (RESTRICTED for CPF/CNPJ and sensitive data, "
            "CONFIDENTIAL for e-mail, phone, name ...) with their jurisdictions, so "
            "policies apply.",
            c.classified(personal_only=True),
            f"{_LAW}, art. 6º, VIII",
        ),
        Requirement(
            "LGPD Art. 6, X",
            "Responsabilização e prestação de contas (accountability)",
            "The agent demonstrates the measures taken: someone is Accountable and Responsible for "
            "the table in the RACI.",
            c.personal_data_only(c.accountable()),
            f"{_LAW}, art. 6º, X",
        ),
        Requirement(
            "LGPD Art. 7",
            "Bases legais (legal basis)",
            "Personal data is processed only under one of the legal bases of Art. 7: declared in the "
            "data contract (customProperties legalBasis) or consent recorded per data subject.",
            c.legal_basis,
            f"{_LAW}, art. 7º",
        ),
        Requirement(
            "LGPD Art. 11",
            "Dados pessoais sensíveis (sensitive personal data)",
            "Sensitive data (racial or ethnic origin, religion, political opinion, union membership, "
            "health, sex life, genetic, biometric) is RESTRICTED, masked, and has a declared legal basis.",
            c.sensitive_data,
            f"{_LAW}, art. 11 (and art. 5º, II)",
        ),
        Requirement(
            "LGPD Art. 12",
            "Dados anonimizados (anonymised data)",
            "Aggregates released as anonymised data are protected: differentially private releases "
            "stay within each consumer's privacy budget.",
            c.dp_budgets,
            f"{_LAW}, art. 12",
        ),
        Requirement(
            "LGPD Art. 16",
            "Eliminação após o término do tratamento (deletion after processing)",
            "Personal data is deleted when processing ends: no snapshot outlives the retention policy.",
            c.retention_applied(personal_only=True),
            f"{_LAW}, arts. 15 e 16",
        ),
        Requirement(
            "LGPD Art. 37",
            "Registro das operações de tratamento (records of processing)",
            "Controller and processor keep records of processing operations: every operation on the "
            "table is in the audit trail, and the hash chain verifies.",
            c.records_of_processing,
            f"{_LAW}, art. 37",
        ),
        Requirement(
            "LGPD Art. 46",
            "Segurança (security measures)",
            "Technical measures protect personal data from unauthorised access: every personal column "
            "(CPF, e-mail, phone ...) is masked for readers without unmasked access.",
            c.masked_for_readers,
            f"{_LAW}, art. 46",
        ),
    ),
)
