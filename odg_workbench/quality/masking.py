"""Masking of personal data in the failing-row samples of quality reports.

Reports keep a few failing rows so a person can see what went wrong, and reports are
stored and shared: personal data must not travel with them. The default masker is the
privacy detector's :func:`odg_workbench.privacy.detect.pii_masker`: every value of a column
named for personal data (``cpf``, ``email``, ``telefone``, ``nome``, ``data_nascimento``,
``salary`` ...), every value that is personal data (a CPF or CNPJ with valid check digits, a
card passing Luhn, an e-mail, a phone, an IBAN, a name from the name lists ...), and the
personal data inside free text (the rest of the text is kept) become ``***``.

Pass ``masker=`` (any callable ``(column, value) -> value``) to a check to use another rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MASK", "Masker", "looks_personal", "mask_rows", "mask_value"]

Masker = Callable[[str, Any], Any]

MASK = "***"


def mask_value(column: str, value: Any) -> Any:
    """``***`` for personal data (see :func:`odg_workbench.privacy.detect.pii_masker`); others unchanged."""
    from odg_workbench.privacy.detect import pii_masker

    return pii_masker(column, value)


def looks_personal(column: str, value: Any = None) -> bool:
    """Whether a column name, or a value, holds personal data (the default masker would mask it)."""
    from odg_workbench.privacy.detect import is_personal_column

    if is_personal_column(column):
        return True
    return value is not None and mask_value(column, value) != value


def mask_rows(rows: list[dict[str, Any]], masker: Masker | None = None) -> list[dict[str, Any]]:
    fn = masker or mask_value
    return [{k: _plain(fn(k, v)) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """JSON-friendly sample values (dates and decimals as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
