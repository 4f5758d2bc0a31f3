"""Brazilian taxpayer documents: CPF (people) and CNPJ (companies), with check digits.

CPF: 9 digits + 2 check digits (mod 11, weights 10..2 then 11..2). Numbers made of one
repeated digit pass the arithmetic but are invalid by rule, and are rejected.

CNPJ: 12 characters + 2 numeric check digits (mod 11, weights 5..2,9..2 then 6..2,9..2).
Since July 2026 the 12 base characters may be letters A-Z as well as digits (Receita
Federal, Instrução Normativa RFB nº 2.229/2024): each character counts as its ASCII code
minus 48, so digits keep their value and 'A' counts 17. Check digits remain numeric.
"""

from __future__ import annotations

import re

__all__ = [
    "cnpj_check_digits",
    "cpf_check_digits",
    "format_cnpj",
    "format_cpf",
    "is_valid_cnpj",
    "is_valid_cpf",
    "normalize_cnpj",
    "normalize_cpf",
]

_CPF_STRIP = re.compile(r"[.\-\s]")
_CNPJ_STRIP = re.compile(r"[.\-/\s]")
_CNPJ_BASE = re.compile(r"^[0-9A-Z]{12}$")


def _mod11(total: int) -> int:
    r = total % 11
    return 0 if r < 2 else 11 - r


def cpf_check_digits(base: str) -> str:
    """The two check digits of a 9-digit CPF base."""
    if len(base) != 9 or not base.isdigit():
        raise ValueError(f"a CPF base is 9 digits, found {base!r}")
    digits = [int(c) for c in base]
    d1 = _mod11(sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)))
    d2 = _mod11(sum(d * w for d, w in zip([*digits, d1], range(11, 1, -1), strict=True)))
    return f"{d1}{d2}"


def normalize_cpf(value: str) -> str:
    """Digits only (punctuation and spaces removed)."""
    return _CPF_STRIP.sub("", value)


def is_valid_cpf(value: str) -> bool:
    """True for a CPF with correct check digits, formatted (123.456.789-09) or bare."""
    digits = normalize_cpf(value)
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    return cpf_check_digits(digits[:9]) == digits[9:]


def format_cpf(value: str) -> str:
    d = normalize_cpf(value)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


_CNPJ_W1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_W2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def cnpj_check_digits(base: str) -> str:
    """The two numeric check digits of a 12-character CNPJ base (digits or A-Z)."""
    base = base.upper()
    if not _CNPJ_BASE.match(base):
        raise ValueError(f"a CNPJ base is 12 characters 0-9/A-Z, found {base!r}")
    values = [ord(c) - 48 for c in base]
    d1 = _mod11(sum(v * w for v, w in zip(values, _CNPJ_W1, strict=True)))
    d2 = _mod11(sum(v * w for v, w in zip([*values, d1], _CNPJ_W2, strict=True)))
    return f"{d1}{d2}"


def normalize_cnpj(value: str) -> str:
    """Upper case, punctuation and spaces removed."""
    return _CNPJ_STRIP.sub("", value).upper()


def is_valid_cnpj(value: str) -> bool:
    """True for a CNPJ (numeric or alphanumeric) with correct check digits."""
    v = normalize_cnpj(value)
    if len(v) != 14 or not _CNPJ_BASE.match(v[:12]) or not v[12:].isdigit():
        return False
    if len(set(v)) == 1:
        return False
    return cnpj_check_digits(v[:12]) == v[12:]


def format_cnpj(value: str) -> str:
    v = normalize_cnpj(value)
    return f"{v[:2]}.{v[2:5]}.{v[5:8]}/{v[8:12]}-{v[12:]}"
