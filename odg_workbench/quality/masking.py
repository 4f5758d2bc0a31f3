"""Masking of personal data in the failing-row samples of quality reports.

Reports keep a few failing rows so a person can see what went wrong, and reports are
stored and shared: values that look like personal data must not travel with them. The
rule here is deliberately simple (a column-name pattern and a few value patterns, e-mail,
CPF, CNPJ, phone, card-like digit runs); the privacy module's detector replaces it by
being passed as ``masker=`` (any callable ``(column, value) -> value``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["MASK", "Masker", "looks_personal", "mask_rows", "mask_value"]

Masker = Callable[[str, Any], Any]

MASK = "***"

_NAME = re.compile(
    r"(^|_)(cpf|cnpj|rg|ssn|nif|passport|passaporte|e_?mail|phone|telefone|celular|mobile|"
    r"name|nome|first_?name|last_?name|full_?name|address|endereco|street|rua|zip|cep|postal|"
    r"birth|nascimento|dob|iban|card|cartao|salary|salario|ip_?address)(_|$)",
    re.IGNORECASE,
)
_VALUES = [
    re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"),  # e-mail
    re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b"),  # CPF
    re.compile(r"\b[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2}\b"),  # CNPJ (also alphanumeric)
    re.compile(r"(\+?\d{1,3}[\s-]?)?\(?\d{2,3}\)?[\s-]?\d{4,5}-?\d{4}\b"),  # phone
    re.compile(r"\b(?:\d[ -]?){13,19}\b"),  # card-like digit run
]


def looks_personal(column: str, value: Any = None) -> bool:
    """Whether a column name, or a string value, looks like personal data."""
    if _NAME.search(column.replace("-", "_").replace(" ", "_")):
        return True
    return isinstance(value, str) and any(p.search(value) for p in _VALUES)


def mask_value(column: str, value: Any) -> Any:
    """``***`` for values of personal-looking columns or values; others unchanged."""
    if value is None:
        return None
    return MASK if looks_personal(column, value) else value


def mask_rows(rows: list[dict[str, Any]], masker: Masker | None = None) -> list[dict[str, Any]]:
    fn = masker or mask_value
    return [{k: _plain(fn(k, v)) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """JSON-friendly sample values (dates and decimals as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
