"""CPF and CNPJ (numeric and the alphanumeric CNPJ of July 2026) check digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odg_workbench.privacy.documents import (
    cnpj_check_digits,
    cpf_check_digits,
    format_cnpj,
    format_cpf,
    is_valid_cnpj,
    is_valid_cpf,
)

cpf_bases = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1)
cnpj_bases = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12).filter(
    lambda s: len(set(s)) > 1
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("529.982.247-25", True, id="formatted"),
        pytest.param("52998224725", True, id="bare"),
        pytest.param("529.982.247-26", False, id="wrong-check-digit"),
        pytest.param("111.111.111-11", False, id="repeated-digit"),
        pytest.param("5299822472", False, id="too-short"),
        pytest.param("52998224725X", False, id="not-digits"),
    ],
)
def test_cpf_examples(value: str, valid: bool) -> None:
    assert is_valid_cpf(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("11.222.333/0001-81", True, id="numeric"),
        pytest.param("11222333000181", True, id="numeric-bare"),
        pytest.param("12.ABC.345/01DE-35", True, id="alphanumeric-receita-example"),
        pytest.param("12abc34501de35", True, id="alphanumeric-lower-case"),
        pytest.param("12.ABC.345/01DE-36", False, id="wrong-check-digit"),
        pytest.param("12.ABC.345/01DE-3A", False, id="letter-in-check-digits"),
        pytest.param("00.000.000/0000-00", False, id="repeated"),
    ],
)
def test_cnpj_examples(value: str, valid: bool) -> None:
    assert is_valid_cnpj(value) is valid


@given(cpf_bases)
def test_generated_cpfs_validate_and_a_changed_check_digit_breaks_them(base: str) -> None:
    # (mod 11 with remainders 0 and 1 both giving 0 cannot catch every change in the base)
    cpf = base + cpf_check_digits(base)
    assert is_valid_cpf(cpf) and is_valid_cpf(format_cpf(cpf))
    for i in (9, 10):
        changed = cpf[:i] + str((int(cpf[i]) + 1) % 10) + cpf[i + 1 :]
        assert not is_valid_cpf(changed), changed


@given(cnpj_bases)
def test_generated_cnpjs_validate_and_a_changed_check_digit_breaks_them(base: str) -> None:
    cnpj = base + cnpj_check_digits(base)
    assert is_valid_cnpj(cnpj) and is_valid_cnpj(format_cnpj(cnpj))
    wrong = cnpj[:13] + str((int(cnpj[13]) + 1) % 10)
    assert not is_valid_cnpj(wrong)


def test_bad_bases_are_rejected() -> None:
    with pytest.raises(ValueError, match="9 digits"):
        cpf_check_digits("12345")
    with pytest.raises(ValueError, match="12 characters"):
        cnpj_check_digits("12.ABC")
