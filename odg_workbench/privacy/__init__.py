"""Privacy toolkit: Brazilian document validation (more capabilities arrive with the privacy issue)."""

from odg_workbench.privacy.detect import (  # light: pyarrow/duckdb are imported when a scan runs
    ENTITY_TYPES,
    Finding,
    ScanError,
    ScanReport,
    Span,
    detect_text,
    pii_masker,
    scan,
)
from odg_workbench.privacy.documents import (
    cnpj_check_digits,
    cpf_check_digits,
    format_cnpj,
    format_cpf,
    is_valid_cnpj,
    is_valid_cpf,
)

__all__ = [
    "ENTITY_TYPES",
    "Finding",
    "ScanError",
    "ScanReport",
    "Span",
    "detect_text",
    "pii_masker",
    "scan",
    "cnpj_check_digits",
    "cpf_check_digits",
    "format_cnpj",
    "format_cpf",
    "is_valid_cnpj",
    "is_valid_cpf",
]
