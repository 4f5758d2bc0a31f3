"""Recognizers of personal data: one per entity type, from a column's name and from values.

Each entity type has

* name rules: tokens of a column name (Portuguese, English and Spanish) that say the
  column holds the entity (strong: ``cpf``, ``email``, ``data_nascimento``; weak:
  ``name``, ``contato``) or that it does not (``product_name`` is not a person's name,
  ``order_date`` is not a birth date);
* a value rule: does one whole value (a cell) hold the entity? Checksums where one exists
  (CPF and CNPJ mod 11, cards Luhn, IBAN mod 97), structure rules elsewhere (SSN areas,
  NANP and Brazilian area codes, ``ipaddress``), a name list for people;
* a text rule: spans of the entity inside free text (:func:`find_spans`).

Written by hand because no library does this offline for these types: Presidio (the
reference) has no Brazilian recognizers, needs a spaCy model for names and addresses and
works on text, not columns; ``phonenumbers`` and ``python-stdnum`` are not dependencies of
the workbench, and the rules needed here (Brazilian, NANP and E.164 phones; SSN areas; IBAN
lengths) are short. CPF and CNPJ checksums come from :mod:`odg_workbench.privacy.documents`,
IP addresses from the standard library's :mod:`ipaddress`.

The value rules come in two strengths: ``loose=True`` when the column's name already says
what it holds (a bare 10-digit number in a ``telefone`` column is a phone; in ``order_id``
it is not).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources

from odg_workbench.privacy.documents import is_valid_cnpj, is_valid_cpf

__all__ = [
    "ENTITY_TYPES",
    "Span",
    "classify_value",
    "find_spans",
    "is_valid_card",
    "is_valid_iban",
    "is_valid_ssn",
    "luhn_ok",
    "name_evidence",
    "name_tokens",
    "name_vetoes",
    "parse_date",
    "plausible_birth_date",
    "value_matches",
]

ENTITY_TYPES: tuple[str, ...] = (
    "EMAIL",
    "PHONE",
    "BR_CPF",
    "BR_CNPJ",
    "CREDIT_CARD",
    "IBAN",
    "US_SSN",
    "IP_ADDRESS",
    "PERSON_NAME",
    "DATE_OF_BIRTH",
    "ADDRESS",
)

# How much a validated value says, per entity: checksums say most.
VALUE_STRENGTH: dict[str, float] = {
    "EMAIL": 0.97,
    "PHONE": 0.9,
    "BR_CPF": 0.99,
    "BR_CNPJ": 0.99,
    "CREDIT_CARD": 0.98,
    "IBAN": 0.99,
    "US_SSN": 0.9,
    "IP_ADDRESS": 0.95,
    "PERSON_NAME": 0.85,
    "DATE_OF_BIRTH": 0.8,
    "ADDRESS": 0.85,
}

# -- column names ---------------------------------------------------------------------------


def _unaccent(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_tokens(column: str) -> str:
    """``"DataNascimento"``, ``"data-de-nascimento"`` -> ``"data_nascimento"`` (unaccented,
    lower case, camelCase split, Portuguese/Spanish connectives dropped)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", _unaccent(column))
    parts = [p for p in re.split(r"[^a-z0-9]+", text.lower()) if p and p not in ("de", "do", "da", "del", "of", "the")]
    return "_".join(parts)


def _names(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|_)(?:{pattern})(?:_|$)")


_STRONG: dict[str, re.Pattern[str]] = {
    "EMAIL": _names(r"e_?mail|email_?address|correio_eletronico|mail"),
    "PHONE": _names(
        r"phone|telephone|telefone|telefono|tel|fone|celular|cel|mobile|cellphone|whatsapp|"
        r"fax|telemovel|movil|phone_?number|contact_number"
    ),
    "BR_CPF": _names(r"cpf|cpf_cnpj|cnpj_cpf"),
    "BR_CNPJ": _names(r"cnpj|cpf_cnpj|cnpj_cpf"),
    "CREDIT_CARD": _names(
        r"card_?(?:number|num|no|nr|numero)|credit_?card|cc_?(?:number|num)|cartao(?:_credito)?|"
        r"numero_cartao|num_cartao|tarjeta|pan"
    ),
    "IBAN": _names(r"iban|iban_?code"),
    "US_SSN": _names(r"ssn|social_security(?:_number)?"),
    "IP_ADDRESS": _names(
        r"ip|ip_?address|ip_?addr|ipv4|ipv6|endereco_ip|remote_addr|client_ip|source_ip|src_ip|dst_ip|host_ip"
    ),
    "PERSON_NAME": _names(
        r"nome|nome_completo|full_?name|first_?name|last_?name|surname|sobrenome|given_?name|family_?name|"
        r"nombre|apellidos?|primeiro_nome|ultimo_nome|(?:customer|client|patient|employee|contact|"
        r"person|holder|cliente|paciente|funcionario|titular)_?name|nome_(?:cliente|paciente|funcionario|"
        r"titular|mae|pai|contato|responsavel)|titular|responsavel|pessoa"
    ),
    "DATE_OF_BIRTH": _names(
        r"dob|birth|birthday|birthdate|birth_?date|date_?birth|data_?nascimento|dt_?nascimento|nascimento|"
        r"data_?nasc|dt_?nasc|nasc|fecha_?nacimiento|nacimiento|aniversario"
    ),
    "ADDRESS": _names(
        r"address|endereco|logradouro|street|rua|addr|direccion|domicilio|morada|residencia|address_?line\d?|"
        r"cep|zip|zipcode|zip_?code|postal|postal_?code|postcode|codigo_postal"
    ),
}
_WEAK: dict[str, re.Pattern[str]] = {
    "PHONE": _names(r"contato|contact"),
    "BR_CPF": _names(r"documento|doc|nr_documento|num_documento"),
    "BR_CNPJ": _names(r"documento|doc|nr_documento|num_documento"),
    "CREDIT_CARD": _names(r"card|cc"),
    "IBAN": _names(r"bank_?account|conta|account_?number"),
    "PERSON_NAME": _names(r"name|names|nomes|autor|author"),
}
# Tokens that rule a name match out (the column names something else).
_NOT: dict[str, re.Pattern[str]] = {
    "PERSON_NAME": _names(
        r"product|produto|company|empresa|razao|fantasia|file|arquivo|table|tabela|column|coluna|host|"
        r"domain|dominio|user_?name|username|login|brand|marca|city|cidade|state|estado|country|pais|"
        r"category|categoria|street|rua|bairro|app|project|projeto|model|modelo|field|campo|bucket|"
        r"schema|dataset|metric|event|evento|store|loja|bank|banco|item|sku|tag|label|key|chave"
    ),
    "DATE_OF_BIRTH": _names(
        r"order|pedido|created|updated|modified|ship|shipped|delivery|entrega|due|paid|pagamento|compra|"
        r"emissao|vencimento|admissao|hire|start|end|inicio|fim|expir\w*|valid\w*|event|evento|log|ts|"
        r"timestamp|time|hora|registro|cadastro|signup|login|last"
    ),
    "ADDRESS": _names(r"e_?mail|ip|mac|web|url|site|ipv4|ipv6"),
    "EMAIL": _names(r"domain|dominio|server|servidor|provider|host"),
    "PHONE": _names(r"model|modelo|brand|marca|plan|plano"),
}


@functools.lru_cache(maxsize=4096)
def name_evidence(column: str) -> dict[str, float]:
    """What a column's name says: entity -> 1.0 (strong), 0.5 (weak); absent when silent."""
    tokens = name_tokens(column)
    found: dict[str, float] = {}
    for entity in ENTITY_TYPES:
        veto = _NOT.get(entity)
        if veto is not None and veto.search(tokens):
            continue
        if _STRONG[entity].search(tokens):
            found[entity] = 1.0
        elif entity in _WEAK and _WEAK[entity].search(tokens):
            found[entity] = 0.5
    # A CPF/CNPJ column named for one of them says nothing of the other unless both are named.
    if "cpf" in tokens.split("_") and "cnpj" not in tokens.split("_"):
        found.pop("BR_CNPJ", None)
    if "cnpj" in tokens.split("_") and "cpf" not in tokens.split("_"):
        found.pop("BR_CPF", None)
    return found


def name_vetoes(column: str) -> set[str]:
    """Entity types a column's name rules out (``order_date`` is not a birth date)."""
    tokens = name_tokens(column)
    return {e for e, p in _NOT.items() if p.search(tokens)}


# -- checksums and structure ------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of a digit string."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_issuer(d: str) -> str | None:
    """The card scheme whose prefix and length fit ``d`` (digits only), else None."""
    n = len(d)
    p2, p3, p4, p6 = int(d[:2]), int(d[:3]), int(d[:4]), int(d[:6])
    if d[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "discover"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if p6 in (606282, 384100, 384140, 384160) and n in (13, 16, 19):
        return "hipercard"
    if (p2 == 50 or 56 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro/elo/unionpay"
    return None


_CARD_SEP = re.compile(r"[ \-]")


def is_valid_card(value: str) -> bool:
    """A payment card number: 12-19 digits (spaces or dashes between groups), a known
    issuer prefix for its length, and the Luhn check."""
    d = _CARD_SEP.sub("", value)
    if not (12 <= len(d) <= 19) or not d.isdigit() or len(set(d)) == 1:
        return False
    return _card_issuer(d) is not None and luhn_ok(d)


# IBAN lengths per country (ISO 13616 registry, SWIFT release).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def is_valid_iban(value: str) -> bool:
    """An IBAN: the country's length and the ISO 7064 mod 97-10 check (remainder 1)."""
    v = value.replace(" ", "").replace("-", "").upper()
    if not _IBAN_SHAPE.match(v) or _IBAN_LENGTHS.get(v[:2]) != len(v):
        return False
    moved = v[4:] + v[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


_SSN = re.compile(r"^(\d{3})[- ]?(\d{2})[- ]?(\d{4})$")
_SSN_PUBLICISED = {"078051120", "219099999", "123456789"}


def is_valid_ssn(value: str) -> bool:
    """A US Social Security number by the SSA's rules: area not 000, 666 or 900-999, group
    not 00, serial not 0000, and not one of the numbers published in advertising."""
    m = _SSN.match(value)
    if m is None:
        return False
    area, group, serial = m.groups()
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return area + group + serial not in _SSN_PUBLICISED


# Brazilian area codes (DDD) in use.
_BR_DDD = frozenset(
    {
        11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, 41, 42, 43, 44, 45, 46,
        47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69, 71, 73, 74, 75, 77, 79, 81, 82, 83, 84,
        85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
    }
)  # fmt: skip
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-]{7,24}$")
_PHONE_STRIP = re.compile(r"[\s().\-]")
_IPV4_SHAPE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def _br_national(d: str, *, loose: bool) -> bool:
    """Brazilian national number (area code + subscriber): mobile DD 9XXXX-XXXX, landline
    DD [2-5]XXX-XXXX."""
    if len(d) == 11:
        return int(d[:2]) in _BR_DDD and d[2] == "9" and d[3] != "0"
    if len(d) == 10:
        return int(d[:2]) in _BR_DDD and d[2] in "2345"
    return False


def _nanp(d: str) -> bool:
    """North American number: NXX-NXX-XXXX, area code not N11."""
    return len(d) == 10 and d[0] in "23456789" and d[1:3] != "11" and d[3] in "23456789" and d[4:6] != "11"


def is_phone(value: str, *, loose: bool = False) -> bool:
    """A phone number: E.164 (``+`` and 8-15 digits), Brazilian (with or without +55, area code
    in use) or North American, written with the usual separators. Bare digit runs count only
    when they cannot be much else (an 11-digit Brazilian mobile, +55/1 prefixed), or with
    ``loose`` (the column is named for phones)."""
    v = value.strip()
    if not _PHONE_CHARS.match(v) or _IPV4_SHAPE.match(v):
        return False
    d = _PHONE_STRIP.sub("", v)
    if d.startswith("+"):
        digits = d[1:]
        if not digits.isdigit() or not (8 <= len(digits) <= 15) or digits[0] == "0":
            return False
        if digits.startswith("55"):
            return _br_national(digits[2:], loose=True)
        if digits.startswith("1"):
            return _nanp(digits[1:])
        return True
    if not d.isdigit():
        return False
    formatted = d != v
    if d.startswith("0") and len(d) in (12, 13):  # 0 + carrier/area code (Brazil: 0xx11 ...)
        return _br_national(d[-11:] if len(d) == 13 else d[-10:], loose=loose) and (formatted or loose)
    if len(d) in (12, 13) and d.startswith("55"):
        return _br_national(d[2:], loose=loose)
    if len(d) == 11 and d[0] == "1" and (formatted or loose) and _nanp(d[1:]):
        return True
    if len(d) == 11:
        return _br_national(d, loose=loose)
    if len(d) == 10:
        if not (formatted or loose):
            return False
        return _nanp(d) or _br_national(d, loose=loose)
    # a local number without its area code, in a column named for phones
    return loose and 8 <= len(d) <= 9 and d[0] in "2345689"


_EMAIL = re.compile(
    r"^[\w.!#$%&'*+/=?^`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$",
)


def is_email(value: str) -> bool:
    v = value.strip()
    if not _EMAIL.match(v) or len(v) > 254:
        return False
    local = v.split("@", 1)[0]
    return not (local.startswith(".") or local.endswith(".") or ".." in local)


def is_ip(value: str) -> bool:
    v = value.strip()
    if not v or len(v) > 45 or not (v[0].isalnum() or v[0] == ":"):
        return False
    if "." in v and ":" not in v and v.count(".") != 3:
        return False
    try:
        ipaddress.ip_address(v.split("%", 1)[0])
    except ValueError:
        return False
    return True


# -- dates ------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_TIME_PART = re.compile(r"\d{1,2}:\d{2}")


def _mkdate(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def parse_date(value: object) -> date | None:
    """A calendar date without a time of day, else None. Strings: ISO ``1985-03-14``,
    ``1985/03/14``, day first ``14/03/1985`` (or month first when the day-first reading is
    impossible). Datetimes count only at midnight: a timestamp is not a birth date."""
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
            return None
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    v = value.strip()
    if len(v) > 10 or _TIME_PART.search(v):
        return None
    m = _ISO_DATE.match(v) or _YMD_SLASH.match(v)
    if m:
        return _mkdate(int(m[1]), int(m[2]), int(m[3]))
    m = _DMY.match(v)
    if m:
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        return _mkdate(y, b, a) or _mkdate(y, a, b)
    return None


def plausible_birth_date(value: object, today: date | None = None) -> bool:
    """A date-only value in the past within the last 120 years."""
    d = parse_date(value)
    if d is None:
        return False
    today = today or date.today()
    return d <= today and (today.year - d.year) <= 120


# -- names of people --------------------------------------------------------------------------


def _load_names(file: str) -> frozenset[str]:
    text = resources.files("odg_workbench.privacy").joinpath("data", file).read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


@functools.cache
def first_names() -> frozenset[str]:
    """Common first names (pt, en, es) shipped in ``privacy/data/first_names.txt``."""
    return _load_names("first_names.txt")


@functools.cache
def surnames() -> frozenset[str]:
    """Common surnames (pt, en, es) shipped in ``privacy/data/surnames.txt``."""
    return _load_names("surnames.txt")


_PARTICLES = frozenset(["da", "de", "do", "das", "dos", "e", "y", "del", "la", "van", "von", "der", "di", "du", "le"])
_NAME_TOKEN = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*\.?$")


def is_person_name(value: str, *, loose: bool = False) -> bool:
    """A person's name: 1 to 5 words of letters, capitalised (or all upper case), where the
    first word is a known first name (``Maria Silva``, ``SILVA, Maria``, ``José da Silva``),
    or the last one a known surname (``Kauã Silva``). ``loose``: any capitalised words (the
    column is named for names)."""
    v = value.strip()
    if not v or len(v) > 80 or any(ch.isdigit() for ch in v):
        return False
    if v.count(",") == 1:  # "Silva, Maria"
        last, first = (p.strip() for p in v.split(","))
        v = f"{first} {last}"
    words = v.split()
    if not 1 <= len(words) <= 6 or not all(_NAME_TOKEN.match(w) for w in words):
        return False
    if not all(w[0].isupper() or w.lower() in _PARTICLES for w in words):
        return False
    core = [_unaccent(w).lower().rstrip(".") for w in words if w.lower() not in _PARTICLES]
    if not core:
        return False
    if loose:
        return True
    first, rest = core[0], core[1:]
    if first not in first_names():
        # an unlisted first name with a listed surname last: "Kauã Silva"
        return 1 <= len(rest) <= 3 and rest[-1] in surnames()
    return len(rest) <= 4


# -- addresses --------------------------------------------------------------------------------

_PT_STREET = (
    r"(?:Rua|R\.|Avenida|Av\.?|Alameda|Al\.|Travessa|Tv\.|Trav\.|Pra[çc]a|P[çc]a\.|Rodovia|Rod\.|Estrada|"
    r"Estr\.|Largo|Viela|Beco|Ladeira|Calle|Carrera|Paseo|Plaza|Camino|Avda\.?|C/)"
)
_EN_STREET = (
    r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Court|Ct\.?|"
    r"Place|Pl\.?|Way|Terrace|Highway|Hwy\.?|Parkway|Pkwy\.?|Square|Sq\.?|Circle|Cir\.?)"
)
_WORD = r"[A-ZÀ-Ý0-9][\wÀ-ÿ'’.\-]*"
_ADDRESS_TEXT = re.compile(
    # pt/es: street word, a name, then a number: "Rua Augusta, 1500", "Av. Paulista 1000", "Calle Mayor 5"
    rf"\b{_PT_STREET}\s+(?:{_WORD}|d[aeo]s?|del|de la|de)(?:\s+(?:{_WORD}|d[aeo]s?|del|la|de)){{0,5}}"
    r",?\s*(?:n[º°o]\.?\s*)?\d{1,5}[A-Za-z]?\b"
    # en: number, a name, then a street word: "221B Baker Street", "1600 Pennsylvania Avenue NW"
    rf"|\b\d{{1,6}}[A-Za-z]?\s+(?:{_WORD}\s+){{1,4}}{_EN_STREET}(?=$|[\s,.;])"
)
_CEP = re.compile(r"^\d{5}-\d{3}$")
_ZIP4 = re.compile(r"^\d{5}-\d{4}$")
_CEP_TEXT = re.compile(r"\b(?:CEP|cep|Cep)[:\s]*(\d{5}-?\d{3})\b")
_US_CITY_ZIP = re.compile(r"\b[A-Z][a-zA-Z .]+,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")


def is_address(value: str, *, loose: bool = False) -> bool:
    """A postal address or a postal code: a street type word with a house number (pt, es, en
    orders), a formatted CEP (01310-100), ZIP+4, "City, ST 12345"; with ``loose`` also bare
    5-digit ZIP codes and 8-digit CEPs."""
    v = value.strip()
    if not v or len(v) > 300:
        return False
    if _CEP.match(v) or _ZIP4.match(v):
        return True
    if loose and v.isdigit() and len(v) in (5, 8):
        return True
    return bool(_ADDRESS_TEXT.search(v) or _US_CITY_ZIP.search(v))


# -- one value ---------------------------------------------------------------------------------

_CPF_SHAPE = re.compile(r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$")
_CNPJ_SHAPE = re.compile(r"^[0-9A-Za-z]{2}\.?[0-9A-Za-z]{3}\.?[0-9A-Za-z]{3}/?[0-9A-Za-z]{4}-?\d{2}$")
_CARD_SHAPE = re.compile(r"^\d{4}(?:[ \-]?\d{2,7}){1,4}$|^\d{12,19}$")


def value_matches(entity: str, value: str, *, loose: bool = False) -> bool:
    """Whether one whole value (surrounding spaces ignored) holds ``entity``."""
    v = value.strip()
    if entity == "EMAIL":
        return "@" in v and is_email(v)
    if entity == "PHONE":
        return is_phone(v, loose=loose)
    if entity == "BR_CPF":
        return bool(_CPF_SHAPE.match(v)) and is_valid_cpf(v)
    if entity == "BR_CNPJ":
        return bool(_CNPJ_SHAPE.match(v)) and any(c.isdigit() for c in v[:12]) and is_valid_cnpj(v)
    if entity == "CREDIT_CARD":
        return bool(_CARD_SHAPE.match(v)) and is_valid_card(v)
    if entity == "IBAN":
        return len(v) >= 15 and v[:2].isalpha() and is_valid_iban(v)
    if entity == "US_SSN":
        if not loose and not re.match(r"^\d{3}[- ]\d{2}[- ]\d{4}$", v):
            return False
        return is_valid_ssn(v)
    if entity == "IP_ADDRESS":
        return is_ip(v)
    if entity == "PERSON_NAME":
        return is_person_name(v, loose=loose)
    if entity == "DATE_OF_BIRTH":
        return plausible_birth_date(v)
    if entity == "ADDRESS":
        return is_address(v, loose=loose)
    raise ValueError(f"unknown entity type {entity!r}; expected one of {', '.join(ENTITY_TYPES)}")


# Checksum-validated types win over the others when one value fits several (a bare 11-digit
# number can be a CPF and a Brazilian mobile number: the checksum decides).
_FIRST = ("BR_CPF", "BR_CNPJ", "CREDIT_CARD", "IBAN", "EMAIL", "IP_ADDRESS", "US_SSN", "PHONE")
_PRIORITY: tuple[str, ...] = (*_FIRST, *(e for e in ENTITY_TYPES if e not in _FIRST))


def classify_value(value: str, *, hints: dict[str, float] | None = None) -> str | None:
    """The one entity a whole value holds (checksum-validated types first), else None.
    ``hints``: a column's :func:`name_evidence`, which loosens the rules of named types."""
    hints = hints or {}
    for entity in _PRIORITY:
        if entity == "DATE_OF_BIRTH" and entity not in hints:
            continue  # a date alone is not a birth date; the column decides (see detect)
        if value_matches(entity, value, loose=hints.get(entity, 0) >= 1.0):
            return entity
    return None


# -- free text ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """An entity found inside a text: ``text[start:end]``."""

    entity: str
    start: int
    end: int
    confidence: float

    def to_dict(self) -> dict[str, object]:
        return {"entity": self.entity, "start": self.start, "end": self.end, "confidence": self.confidence}


_B = r"(?<![\w@.+\-])"  # not glued to a word, an address or a longer number
_E = r"(?![\w@]|[.\-]\w)"
_TEXT_RULES: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("EMAIL", re.compile(r"(?<![\w.+\-])[\w.+\-']+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b"), 0.95),
    ("BR_CNPJ", re.compile(_B + r"[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-\d{2}" + _E), 0.97),
    ("BR_CPF", re.compile(_B + r"\d{3}\.\d{3}\.\d{3}-\d{2}" + _E), 0.97),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), 0.95),
    ("CREDIT_CARD", re.compile(_B + r"(?:\d{4}[ \-]){2,3}\d{3,4}(?:[ \-]\d{1,3})?" + _E + r"|" + _B + r"\d{13,19}" + _E), 0.9),
    ("US_SSN", re.compile(_B + r"\d{3}-\d{2}-\d{4}" + _E), 0.85),
    ("IP_ADDRESS", re.compile(_B + r"(?:\d{1,3}\.){3}\d{1,3}" + _E + r"|(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"), 0.9),
    ("PHONE", re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{2,3}\)|\d{2,3})[\s.\-]?\d{4,5}[\s.\-]?\d{4}(?!\w)"
        r"|(?<![\w+])\+\d[\d\s.\-]{7,16}\d(?!\w)"
    ), 0.85),
)  # fmt: skip
# Bare numbers are CPFs/CNPJs in text only next to the word: "CPF 52998224725".
_CONTEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("BR_CPF", re.compile(r"\b(?:CPF|cpf|Cpf)\b\D{0,12}(\d{11}|\d{3}\.?\d{3}\.?\d{3}-?\d{2})(?!\d)")),
    ("BR_CNPJ", re.compile(r"\b(?:CNPJ|cnpj|Cnpj)\b\W{0,12}([0-9A-Z]{12}\d{2})(?![\w])")),
    ("US_SSN", re.compile(r"\b(?:SSN|ssn|social security(?: number)?)\b\W{0,12}(\d{9})(?!\d)", re.IGNORECASE)),
)
_DATE_IN_TEXT = re.compile(
    r"\b(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2})\b(?!\s*(?:T|às|at)?\s*\d{1,2}:\d{2})"
)
_BIRTH_WORDS = re.compile(
    r"(?:nascid[oa]s?|nascimento|nasceu|nasc\.|born|birth|birthday|d\.?o\.?b\.?|nacid[oa]|nacimiento)\W{0,3}"
    r"(?:\w+\W{1,3}){0,3}$",
    re.IGNORECASE,
)
_CAP_RUN = re.compile(
    r"\b(?:(?:Sr|Sra|Dr|Dra|Mr|Mrs|Ms|Srta)\.?\s+)?"
    r"([A-ZÀ-Ý][a-zà-ÿ'’\-]+(?:\s+(?:d[aeo]s?\s+|del\s+|de\s+la\s+|van\s+|von\s+)?[A-ZÀ-Ý][a-zà-ÿ'’\-]+){1,4})"
)
_TITLE = re.compile(r"\b(?:Sr|Sra|Dr|Dra|Mr|Mrs|Ms|Srta)\.?\s+$")

_VALIDATORS = {
    "EMAIL": is_email,
    "BR_CNPJ": is_valid_cnpj,
    "BR_CPF": is_valid_cpf,
    "IBAN": is_valid_iban,
    "CREDIT_CARD": is_valid_card,
    "US_SSN": is_valid_ssn,
    "IP_ADDRESS": is_ip,
    "PHONE": is_phone,
}


def find_spans(text: str) -> list[Span]:
    """Entities inside free text, validated like single values (checksums included); bare
    digit runs count as CPF/CNPJ/SSN only next to their name, dates as birth dates only
    after a birth word, people's names as a capitalised run that starts with a known first
    name (or a title such as Sr./Mrs.). Overlapping spans: the first, longest, strongest wins."""
    spans: list[Span] = []
    for entity, pattern, conf in _TEXT_RULES:
        for m in pattern.finditer(text):
            piece = m.group(0)
            if entity == "IP_ADDRESS" and ":" in piece and piece.count(":") < 2:
                continue
            if entity == "PHONE" and piece.isdigit():
                continue  # a bare digit run in text is an order number as often as a phone
            if _VALIDATORS[entity](piece):
                spans.append(Span(entity, m.start(), m.end(), conf))
    for entity, pattern in _CONTEXT_RULES:
        for m in pattern.finditer(text):
            if _VALIDATORS[entity](m.group(1)):
                spans.append(Span(entity, m.start(1), m.end(1), 0.9))
    for m in _DATE_IN_TEXT.finditer(text):
        if _BIRTH_WORDS.search(text[max(0, m.start() - 40) : m.start()]) and plausible_birth_date(m.group(1)):
            spans.append(Span("DATE_OF_BIRTH", m.start(1), m.end(1), 0.85))
    for m in _ADDRESS_TEXT.finditer(text):
        spans.append(Span("ADDRESS", m.start(), m.end(), 0.8))
    for m in _CEP_TEXT.finditer(text):
        spans.append(Span("ADDRESS", m.start(1), m.end(1), 0.8))
    for m in _CAP_RUN.finditer(text):
        words = m.group(1).split()
        titled = bool(_TITLE.search(text[max(0, m.start(1) - 6) : m.start(1)]))
        if titled or (_unaccent(words[0]).lower() in first_names() and is_person_name(m.group(1))):
            spans.append(Span("PERSON_NAME", m.start(1), m.end(1), 0.8 if titled else 0.75))
    return _resolve_overlaps(spans)


def _resolve_overlaps(spans: list[Span]) -> list[Span]:
    spans.sort(key=lambda s: (s.start, -(s.end - s.start), -s.confidence))
    kept: list[Span] = []
    for s in spans:
        if kept and s.start < kept[-1].end:
            continue
        kept.append(s)
    return kept
