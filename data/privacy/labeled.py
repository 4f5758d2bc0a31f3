"""The labeled evaluation set of the PII detector: positives in many formats, and look-alikes.

Run ``python data/privacy/labeled.py`` to write ``labeled.parquet`` (the table) and
``labels.json`` (the truth) beside this file; the output is the same on every run (seed
``SEED``). :func:`evaluate` scores a scan of the table against the truth, and is what
``tests/test_privacy_detect.py`` and ``benchmarks/privacy.py`` use.

Truth, at two levels:

* **column level**: each column's set of entity types (empty for look-alike columns);
  a column counts once per entity type (true positive, false positive or false negative);
* **cell (value) level**: each cell's set of entity types (one for structured columns, the
  entities inside the text for free-text columns, none for nulls and look-alikes). A
  detector predicts entity E for a cell when it reports E for the cell's column and the
  cell's value holds E (validated like a scan validates it: the whole value, or a span of a
  free text). Each (cell, entity) pair counts once.

Names of people are drawn from lists kept here, apart from the detector's package lists:
about one in six first names is not in the detector's list (so recall on names measures the
list's coverage, not a copy of it).
"""

from __future__ import annotations

import json
import random
import string
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20260701
ROWS = 400
HERE = Path(__file__).resolve().parent
TODAY = date(2026, 7, 1)  # birth dates are generated relative to this day

# -- generators of valid values ---------------------------------------------------------------


def _mod11(total: int) -> int:
    r = total % 11
    return 0 if r < 2 else 11 - r


def cpf(rng: random.Random) -> str:
    while True:
        base = [rng.randrange(10) for _ in range(9)]
        if len(set(base)) > 1:
            break
    d1 = _mod11(sum(d * w for d, w in zip(base, range(10, 1, -1))))
    d2 = _mod11(sum(d * w for d, w in zip([*base, d1], range(11, 1, -1))))
    return "".join(map(str, [*base, d1, d2]))


def cnpj(rng: random.Random, alpha: bool = False) -> str:
    chars = string.digits + (string.ascii_uppercase if alpha else "")
    base = "".join(rng.choice(chars) for _ in range(8)) + rng.choice(["0001", "0002", "0003"])
    base += rng.choice(string.digits)
    base = base[:12]
    vals = [ord(c) - 48 for c in base]
    w1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
    w2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
    d1 = _mod11(sum(v * w for v, w in zip(vals, w1)))
    d2 = _mod11(sum(v * w for v, w in zip([*vals, d1], w2)))
    return f"{base}{d1}{d2}"


def fmt_cpf(d: str) -> str:
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def fmt_cnpj(v: str) -> str:
    return f"{v[:2]}.{v[2:5]}.{v[5:8]}/{v[8:12]}-{v[12:]}"


def _luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _luhn_ok(d: str) -> bool:
    return _luhn_digit(d[:-1]) == d[-1]


_CARD_PREFIXES = [("4", 16), ("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15)]
_CARD_PREFIXES += [("6011", 16), ("65", 16), ("3530", 16), ("36", 14), ("4", 13), ("636368", 16), ("606282", 16)]


def card(rng: random.Random) -> str:
    prefix, n = rng.choice(_CARD_PREFIXES)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(n - len(prefix) - 1))
    return body + _luhn_digit(body)


def fmt_card(d: str, rng: random.Random) -> str:
    style = rng.randrange(3)
    if style == 0 or len(d) != 16:
        return d
    sep = " " if style == 1 else "-"
    return sep.join(d[i : i + 4] for i in range(0, 16, 4))


_IBAN_COUNTRIES = {"DE": 22, "GB": 22, "FR": 27, "ES": 24, "PT": 25, "IT": 27, "NL": 18, "BR": 29, "BE": 16}


def iban(rng: random.Random, valid: bool = True) -> str:
    cc = rng.choice(sorted(_IBAN_COUNTRIES))
    n = _IBAN_COUNTRIES[cc]
    if cc in ("GB", "NL"):
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
        bban += "".join(rng.choice(string.digits) for _ in range(n - 8))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(n - 4))
    num = int("".join(str(int(c, 36)) for c in bban + cc + "00"))
    check = 98 - num % 97
    if not valid:
        check = rng.choice([c for c in range(2, 99) if c != check])
    v = f"{cc}{check:02d}{bban}"
    return " ".join(v[i : i + 4] for i in range(0, len(v), 4)) if rng.random() < 0.5 else v


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randrange(1, 900)
        if area != 666:
            break
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


_DDD = [11, 21, 31, 41, 51, 61, 71, 81, 85, 92, 19, 27, 48, 62, 98]


def br_phone(rng: random.Random, bare_ok: bool = True) -> str:
    ddd = rng.choice(_DDD)
    mobile = rng.random() < 0.7
    sub = (
        f"9{rng.randrange(6, 10)}{rng.randrange(100, 1000)}{rng.randrange(1000, 10000)}"
        if mobile
        else f"{rng.randrange(2, 6)}{rng.randrange(100, 1000)}{rng.randrange(1000, 10000)}"
    )
    style = rng.randrange(5 if bare_ok else 4)
    head, tail = sub[:-4], sub[-4:]
    if style == 0:
        return f"({ddd}) {head}-{tail}"
    if style == 1:
        return f"+55 {ddd} {head}-{tail}"
    if style == 2:
        return f"{ddd} {head}-{tail}"
    if style == 3:
        return f"+55 ({ddd}) {head}-{tail}"
    return f"{ddd}{sub}" if mobile else f"({ddd}) {head}-{tail}"


def us_phone(rng: random.Random) -> str:
    area = f"{rng.randrange(2, 10)}{rng.randrange(0, 10)}{rng.randrange(2, 10)}"
    exch = f"{rng.randrange(2, 10)}{rng.randrange(0, 10)}{rng.randrange(2, 10)}"
    line = f"{rng.randrange(0, 10000):04d}"
    style = rng.randrange(4)
    return [f"({area}) {exch}-{line}", f"{area}-{exch}-{line}", f"{area}.{exch}.{line}", f"+1 {area} {exch} {line}"][
        style
    ]


def intl_phone(rng: random.Random) -> str:
    return rng.choice(
        [
            f"+44 20 {rng.randrange(7000, 8000)} {rng.randrange(1000, 10000)}",
            f"+33 1 {rng.randrange(10, 100)} {rng.randrange(10, 100)} {rng.randrange(10, 100)} {rng.randrange(10, 100)}",
            f"+49151{rng.randrange(10000000, 100000000)}",
            f"+351 21 {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}",
            f"+34 91 {rng.randrange(100, 1000)} {rng.randrange(10, 100)} {rng.randrange(10, 100)}",
            f"+5511{rng.randrange(960000000, 1000000000)}",
        ]
    )


# First names: mostly common ones, one in six outside the detector's list.
FIRST = [
    "Maria",
    "Ana",
    "Francisca",
    "Antônia",
    "Adriana",
    "Juliana",
    "Márcia",
    "Fernanda",
    "Patrícia",
    "Aline",
    "José",
    "João",
    "Antônio",
    "Francisco",
    "Carlos",
    "Paulo",
    "Pedro",
    "Lucas",
    "Luiz",
    "Marcos",
    "Gabriel",
    "Rafael",
    "Daniel",
    "Marcelo",
    "Bruno",
    "Eduardo",
    "Felipe",
    "Rodrigo",
    "James",
    "Robert",
    "Michael",
    "William",
    "David",
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Juan",
    "Carmen",
    "Javier",
    "Lucía",
    "Alejandro",
    "Sofía",
    "Manuel",
    "Pilar",
    "Diego",
    "Valentina",
]
FIRST_UNLISTED = [
    "Kauã",
    "Ayla",
    "Thaís",
    "Cauã",
    "Iara",
    "Jandira",
    "Moacir",
    "Nádia",
    "Osvaldo",
    "Wendel",
    "Zuleica",
    "Hiroshi",
    "Yuki",
]
LAST = [
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Anderson",
    "García",
    "Martínez",
    "López",
    "González",
    "Hernández",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
]
LAST_UNLISTED = ["Tanaka", "Nakamura", "Kowalski", "Novak", "Okafor", "Mbeki", "Haddad"]


def person(rng: random.Random, parts: int | None = None) -> str:
    first = rng.choice(FIRST_UNLISTED) if rng.random() < 1 / 6 else rng.choice(FIRST)
    n = parts or rng.choice([2, 2, 3])
    lasts = [rng.choice(LAST_UNLISTED) if rng.random() < 0.1 else rng.choice(LAST) for _ in range(n - 1)]
    if n == 3 and rng.random() < 0.3:
        lasts.insert(1, rng.choice(["da", "de", "dos"]))
    name = " ".join([first, *lasts])
    style = rng.random()
    if style < 0.1:
        return name.upper()
    if style < 0.15 and lasts:
        return f"{lasts[-1]}, {first}"
    return name


def birth_date(rng: random.Random) -> date:
    return TODAY - timedelta(days=rng.randrange(18 * 365, 90 * 365))


_PT_STREETS = "Augusta|Paulista|Brasil|das Flores|São João|Sete de Setembro|XV de Novembro|Rio Branco|Getúlio Vargas"
_EN_STREETS = "Baker|Main|Oak|Maple|Pennsylvania|Sunset|Elm|Washington|Park|Lake"
_CITIES = ["São Paulo - SP", "Rio de Janeiro - RJ", "Belo Horizonte - MG", "Curitiba - PR", "Recife - PE"]


def pt_address(rng: random.Random) -> str:
    kind = rng.choice(["Rua", "Av.", "Avenida", "Alameda", "Travessa", "Praça", "R."])
    street = rng.choice(_PT_STREETS.split("|"))
    num = rng.randrange(1, 5000)
    cep = f"{rng.randrange(10000, 99999):05d}-{rng.randrange(0, 1000):03d}"
    return rng.choice(
        [
            f"{kind} {street}, {num}",
            f"{kind} {street}, {num} - {rng.choice(_CITIES)}",
            f"{kind} {street} {num}, apto {rng.randrange(1, 300)}, CEP {cep}",
            f"{kind} {street}, nº {num}",
        ]
    )


def en_address(rng: random.Random) -> str:
    kind = rng.choice(["Street", "St.", "Avenue", "Ave", "Road", "Rd.", "Boulevard", "Lane", "Drive"])
    street = rng.choice(_EN_STREETS.split("|"))
    num = rng.randrange(1, 9999)
    zip5 = f"{rng.randrange(10000, 99999)}"
    return rng.choice(
        [
            f"{num} {street} {kind}",
            f"{num} {street} {kind}, Springfield, IL {zip5}",
            f"{num} {street} {kind} Apt {rng.randrange(1, 40)}",
        ]
    )


# -- look-alikes --------------------------------------------------------------------------------


def bad_cpf_digits(rng: random.Random) -> str:
    while True:
        d = "".join(rng.choice(string.digits) for _ in range(11))
        from_gen = d[:9]
        valid = len(set(from_gen)) > 1 and cpf_check(d)
        if not valid:
            return d


def cpf_check(d: str) -> bool:
    base = [int(c) for c in d[:9]]
    d1 = _mod11(sum(x * w for x, w in zip(base, range(10, 1, -1))))
    d2 = _mod11(sum(x * w for x, w in zip([*base, d1], range(11, 1, -1))))
    return d[9:] == f"{d1}{d2}"


def bad_cnpj(rng: random.Random, alpha: bool = False) -> str:
    while True:
        good = cnpj(rng, alpha)
        wrong = good[:12] + f"{(int(good[12:]) + rng.randrange(1, 99)) % 100:02d}"
        if wrong != good:
            return wrong


def bad_card(rng: random.Random) -> str:
    while True:
        d = rng.choice(["4", "5", "3", "6"]) + "".join(rng.choice(string.digits) for _ in range(15))
        if not _luhn_ok(d):
            return d


WORDS = [
    "casa",
    "mesa",
    "azul",
    "verde",
    "rápido",
    "lento",
    "pedido",
    "entrega",
    "produto",
    "cliente",
    "venda",
    "compra",
    "preço",
    "estoque",
    "caixa",
    "blue",
    "green",
    "fast",
    "slow",
    "order",
    "delivery",
    "product",
    "price",
    "stock",
    "box",
    "table",
    "window",
    "river",
    "cloud",
    "paper",
]
PRODUCTS = [
    "Caneta Azul",
    "Notebook Pro 15",
    "Cadeira Gamer",
    "Mesa de Escritório",
    "Teclado Mecânico",
    "Mouse sem fio",
]
PRODUCTS += ["Monitor 27 polegadas", "Garrafa Térmica", "Mochila Executiva", "Fone Bluetooth", "Cabo USB-C 2m"]
COMPANIES = ["Acme Ltda", "Padaria São Jorge", "Tech Solutions S.A.", "Mercado Bom Preço", "Globex Corporation"]
COMPANIES += ["Distribuidora Norte ME", "Initech LLC", "Construtora Horizonte", "Farmácia Popular do Centro"]
CITIES = ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Porto Alegre", "Salvador", "Recife", "Madrid"]
CITIES += ["London", "New York", "Lisboa", "Buenos Aires", "Santa Maria", "São José dos Campos"]


# -- the table ------------------------------------------------------------------------------------


def _with_nulls(values: list[Any], rng: random.Random, share: float = 0.05) -> list[Any]:
    return [None if rng.random() < share else v for v in values]


def build(rows: int = ROWS, seed: int = SEED) -> tuple[dict[str, list[Any]], dict[str, dict[str, Any]]]:
    """``(columns, truth)``: the columns as Python lists, and per column its entity types
    (``"entities"``) and each cell's (``"cells"``, lists of entity types)."""
    rng = random.Random(seed)
    cols: dict[str, list[Any]] = {}
    truth: dict[str, dict[str, Any]] = {}

    def structured(name: str, entity: str | None, make: Any, nulls: float = 0.05) -> None:
        values = _with_nulls([make() for _ in range(rows)], rng, nulls)
        cols[name] = values
        truth[name] = {
            "entities": [entity] if entity else [],
            "cells": [[entity] if (entity and v is not None) else [] for v in values],
        }

    r = rng
    # positives ------------------------------------------------------------------------
    structured(
        "email", "EMAIL", lambda: f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}{r.randrange(1, 999)}@example.com"
    )
    structured(
        "col_e",
        "EMAIL",
        lambda: (
            f"{r.choice(WORDS)}_{r.randrange(10, 99)}@{r.choice(['gmail.com', 'empresa.com.br', 'uol.com.br', 'mail.co.uk'])}"
        ),
    )
    structured("telefone", "PHONE", lambda: br_phone(r))
    structured("phone", "PHONE", lambda: us_phone(r))
    structured("mobile_e164", "PHONE", lambda: intl_phone(r))
    structured("col_p", "PHONE", lambda: br_phone(r, bare_ok=False))
    structured("cpf", "BR_CPF", lambda: fmt_cpf(cpf(r)))
    structured("documento", "BR_CPF", lambda: cpf(r))
    structured("col_f", "BR_CPF", lambda: fmt_cpf(cpf(r)) if r.random() < 0.5 else cpf(r))
    structured("cnpj", "BR_CNPJ", lambda: fmt_cnpj(cnpj(r)))
    structured(
        "cnpj_alfa", "BR_CNPJ", lambda: fmt_cnpj(cnpj(r, alpha=True)) if r.random() < 0.5 else cnpj(r, alpha=True)
    )
    structured("col_c", "BR_CNPJ", lambda: cnpj(r))
    structured("card_number", "CREDIT_CARD", lambda: fmt_card(card(r), r))
    structured("col_k", "CREDIT_CARD", lambda: card(r))
    structured("iban", "IBAN", lambda: iban(r))
    structured("col_i", "IBAN", lambda: iban(r))
    structured("ssn", "US_SSN", lambda: ssn(r))
    structured("col_s", "US_SSN", lambda: ssn(r))
    structured(
        "ip_address",
        "IP_ADDRESS",
        lambda: f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
    )
    structured(
        "origem",
        "IP_ADDRESS",
        lambda: (
            f"2001:db8:{r.randrange(65536):x}::{r.randrange(65536):x}"
            if r.random() < 0.5
            else f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"
        ),
    )
    structured("nome", "PERSON_NAME", lambda: person(r))
    structured("cliente", "PERSON_NAME", lambda: person(r))
    structured("first_name", "PERSON_NAME", lambda: person(r, 1))
    structured("data_nascimento", "DATE_OF_BIRTH", lambda: birth_date(r))
    structured("dob", "DATE_OF_BIRTH", lambda: birth_date(r).strftime("%d/%m/%Y"))
    structured("col_d", "DATE_OF_BIRTH", lambda: birth_date(r).isoformat())
    structured("endereco", "ADDRESS", lambda: pt_address(r))
    structured("address", "ADDRESS", lambda: en_address(r))
    structured("col_a", "ADDRESS", lambda: pt_address(r) if r.random() < 0.5 else en_address(r))
    structured("cep", "ADDRESS", lambda: f"{r.randrange(10000, 99999):05d}-{r.randrange(0, 1000):03d}")

    # free text with PII inside ---------------------------------------------------------
    texts: list[Any] = []
    cells: list[list[str]] = []
    for _ in range(rows):
        kind = r.randrange(6)
        if kind == 0:
            texts.append(f"Cliente pediu retorno pelo e-mail {r.choice(WORDS)}.{r.randrange(9)}@example.org amanhã")
            cells.append(["EMAIL"])
        elif kind == 1:
            texts.append(f"Ligar para {br_phone(r, bare_ok=False)} depois das 14h, falar do pedido")
            cells.append(["PHONE"])
        elif kind == 2:
            texts.append(f"Nota fiscal emitida para o CPF {fmt_cpf(cpf(r))} conforme solicitado")
            cells.append(["BR_CPF"])
        elif kind == 3:
            first = r.choice(FIRST)
            texts.append(f"Atendido por {first} {r.choice(LAST)} na loja, tudo resolvido")
            cells.append(["PERSON_NAME"])
        else:
            texts.append(
                f"Pedido {r.randrange(10**10, 10**11)} entregue em {r.randrange(1, 28)}/0{r.randrange(1, 9)}/2025 sem problemas"
            )
            cells.append([])
    cols["comentario"] = texts
    truth["comentario"] = {"entities": ["EMAIL", "PHONE", "BR_CPF", "PERSON_NAME"], "cells": cells}

    # look-alikes (no personal data) -----------------------------------------------------
    structured("order_id", None, lambda: bad_cpf_digits(r))
    structured("codigo_barras", None, lambda: bad_cnpj(r))
    structured("produto_cod", None, lambda: bad_cnpj(r, alpha=True))
    structured("ref_num", None, lambda: bad_card(r))
    structured("iban_like", None, lambda: iban(r, valid=False))
    structured(
        "ssn_like",
        None,
        lambda: f"{r.choice(['000', '666', '900', '987'])}-{r.randrange(1, 100):02d}-{r.randrange(1, 10000):04d}",
    )
    base = datetime(2024, 1, 1, 8, 0, 0)
    structured(
        "created_at",
        None,
        lambda: (base + timedelta(seconds=r.randrange(0, 60 * 86400))).isoformat(sep=" ", timespec="seconds"),
    )
    structured(
        "evento",
        None,
        lambda: (datetime(1970, 1, 1) + timedelta(seconds=r.randrange(0, 55 * 365 * 86400) | 1)).isoformat(),
    )
    structured("order_date", None, lambda: date(2023, 1, 1) + timedelta(days=r.randrange(0, 900)))
    structured("col_t", None, lambda: (date(2024, 1, 1) + timedelta(days=r.randrange(0, 500))).isoformat())
    structured("sku", None, lambda: f"SKU-{r.randrange(10000, 99999)}-{r.choice(['BR', 'US', 'PT'])}")
    structured("produto", None, lambda: r.choice(PRODUCTS))
    structured("empresa", None, lambda: r.choice(COMPANIES))
    structured("cidade", None, lambda: r.choice(CITIES))
    structured("status", None, lambda: r.choice(["ativo", "inativo", "pendente", "cancelado"]))
    structured("palavras", None, lambda: " ".join(r.choice(WORDS) for _ in range(r.randrange(1, 4))))
    structured(
        "versao",
        None,
        lambda: r.choice(
            [
                f"{r.randrange(1, 12)}.{r.randrange(20)}.{r.randrange(50)}",
                f"10.0.{r.randrange(10000, 30000)}.{r.randrange(1, 999)}",
            ]
        ),
    )
    structured(
        "uuid",
        None,
        lambda: "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}".format(*tuple(r.getrandbits(b) for b in (32, 16, 12, 16, 48))),
    )
    structured("sha1", None, lambda: f"{r.getrandbits(160):040x}")
    structured("amount_txt", None, lambda: f"R$ {r.randrange(1, 99999)},{r.randrange(100):02d}")
    structured("codigo_postal_interno", None, lambda: f"{r.randrange(100, 999)}-{r.randrange(10, 99)}")
    structured(
        "nota",
        None,
        lambda: " ".join(r.choice(WORDS) for _ in range(r.randrange(4, 12))) + f" lote {r.randrange(1000, 99999)}",
    )
    structured("quantity", None, lambda: r.randrange(1, 500))
    structured("amount", None, lambda: round(r.uniform(1, 5000), 2))
    return cols, truth


def to_arrow(cols: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    return pa.table({k: pa.array(v) for k, v in cols.items()})


def write(folder: Path = HERE) -> tuple[Path, Path]:
    import pyarrow.parquet as pq

    cols, truth = build()
    table_path, labels_path = folder / "labeled.parquet", folder / "labels.json"
    pq.write_table(to_arrow(cols), table_path, compression="zstd")
    labels = {"seed": SEED, "rows": ROWS, "today": TODAY.isoformat(), "columns": truth}
    labels_path.write_text(json.dumps(labels, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return table_path, labels_path


# -- scoring --------------------------------------------------------------------------------------


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), "tp": tp, "fp": fp, "fn": fn}


def score(
    truth: dict[str, dict[str, Any]],
    column_pred: dict[str, set[str]],
    cell_pred: dict[str, list[set[str]]],
    entities: tuple[str, ...],
) -> dict[str, dict[str, dict[str, Any]]]:
    """Precision and recall per entity type, at the column and at the cell level."""
    col = {e: [0, 0, 0] for e in entities}
    cell = {e: [0, 0, 0] for e in entities}
    for name, t in truth.items():
        want = set(t["entities"])
        got = column_pred.get(name, set())
        for e in entities:
            col[e][0] += e in want and e in got
            col[e][1] += e not in want and e in got
            col[e][2] += e in want and e not in got
        for want_cell, got_cell in zip(t["cells"], cell_pred.get(name, [set()] * len(t["cells"]))):
            w = set(want_cell)
            for e in entities:
                cell[e][0] += e in w and e in got_cell
                cell[e][1] += e not in w and e in got_cell
                cell[e][2] += e in w and e not in got_cell
    return {
        "column": {e: _prf(*v) for e, v in col.items()},
        "cell": {e: _prf(*v) for e, v in cell.items()},
    }


def evaluate_ours(table: Any, truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Scan ``table`` with every row read and score it (see the module docstring)."""
    from odg_workbench.privacy import recognizers as rec
    from odg_workbench.privacy.detect import cell_entities, scan

    report = scan(table, sample_rows=max(table.num_rows, 1))
    column_pred = {c: {f.entity for f in fs} for c, fs in report.columns.items()}
    cell_pred: dict[str, list[set[str]]] = {}
    for c in table.column_names:
        hints = rec.name_evidence(c)
        cell_pred[c] = [cell_entities(v, column_pred[c], hints) for v in table.column(c).to_pylist()]
    return {"report": report, "scores": score(truth, column_pred, cell_pred, rec.ENTITY_TYPES)}


def load(folder: Path = HERE) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The committed table (Arrow) and its truth."""
    import pyarrow.parquet as pq

    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return pq.read_table(folder / "labeled.parquet"), labels["columns"]


def summary(scores: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [f"{'entity':<14} {'col P':>6} {'col R':>6} {'cell P':>7} {'cell R':>7}"]
    for e, c in scores["column"].items():
        x = scores["cell"][e]
        lines.append(f"{e:<14} {c['precision']:>6.3f} {c['recall']:>6.3f} {x['precision']:>7.3f} {x['recall']:>7.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    t, lab = write()
    print(f"wrote {t} and {lab}")
    table, truth = load()
    result = evaluate_ours(table, truth)
    print(summary(result["scores"]))
    bad: dict[str, list[str]] = defaultdict(list)
    for c, fs in result["report"].columns.items():
        want = set(truth[c]["entities"])
        got = {f.entity for f in fs}
        if want != got:
            bad[c] = [f"want {sorted(want)} got {sorted(got)}"]
    for c, msg in bad.items():
        print(c, *msg)
