"""Regenerate the sample datasets in ``data/samples/``.

    python data/samples/generate.py              # writes next to this script
    python data/samples/generate.py --out /tmp/x # writes somewhere else

The files are synthetic: every name, document number, address and amount is made up.
They look Brazilian (names, cities with their UF and CEP prefix, CPF/CNPJ with valid
check digits, Pix and boleto payments) and carry a few *intentional* data-quality defects
that are listed, with exact counts, in ``README.md`` next to this script.

Determinism: running the script twice produces byte-identical files.

* every dataset draws from its own ``random.Random(seed)`` with a fixed seed, so changing
  one dataset leaves the others untouched;
* "now" is the fixed instant 2026-11-01T00:00:00Z, never the clock;
* records are emitted in a stable order, no set or hash ordering is ever iterated;
* numbers are formatted explicitly, CSV lines end with ``\\n``, text is UTF-8;
* Parquet files are written by pyarrow with fixed settings (zstd, one row group,
  format 2.6, no pandas metadata), which is byte-stable for a given pyarrow version.

Only the standard library and pyarrow are used, plus the package's own CPF/CNPJ
check-digit helpers (the repository root is put on ``sys.path``, so no install is needed).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import json
import math
import random
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from odg_workbench.privacy.documents import (  # noqa: E402
    cnpj_check_digits,
    cpf_check_digits,
    format_cnpj,
    format_cpf,
)

T = TypeVar("T")

#: The fixed "now" of every dataset (no clock is ever read).
NOW = datetime(2026, 11, 1, tzinfo=UTC)
TODAY = NOW.date()

#: One seed per dataset.
SEEDS = {
    "customers": 20261101,
    "products": 20261102,
    "orders": 20261103,
    "support_tickets": 20261104,
    "cloud_costs": 20261105,
    "predictions": 20261106,
}

N_CUSTOMERS = 2000
N_PRODUCTS = 200
N_ORDERS = 20000
N_TICKETS = 1500
PREDICTION_RUN_SIZE = 1000  # customers scored per weekly run, 5 runs per period

USD_BRL = Decimal("5.40")  # fixed exchange rate for the international storefront

# -- reference lists -----------------------------------------------------------------------

FIRST_NAMES = [
    "Ana", "Maria", "João", "José", "Pedro", "Lucas", "Gabriel", "Rafael", "Matheus", "Gustavo",
    "Felipe", "Bruno", "Thiago", "Rodrigo", "Leonardo", "Carlos", "Paulo", "Marcos", "André",
    "Fernando", "Ricardo", "Eduardo", "Daniel", "Vinícius", "Diego", "Luiz", "Antônio",
    "Francisco", "Raimundo", "Sebastião", "Miguel", "Arthur", "Heitor", "Davi", "Bernardo",
    "Samuel", "Enzo", "Caio", "Murilo", "Otávio", "Juliana", "Fernanda", "Camila", "Beatriz",
    "Larissa", "Amanda", "Bruna", "Letícia", "Mariana", "Patrícia", "Aline", "Vanessa",
    "Jéssica", "Gabriela", "Carolina", "Luana", "Isabela", "Rafaela", "Natália", "Adriana",
    "Sandra", "Cláudia", "Francisca", "Antônia", "Luciana", "Renata", "Tatiane", "Débora",
    "Helena", "Alice", "Laura", "Valentina", "Sophia", "Lívia", "Manuela", "Giovanna", "Yasmin",
    "Raquel", "Simone", "Elaine", "Maria Eduarda", "João Pedro", "Ana Clara", "Ana Beatriz",
    "Maria Clara", "Luiz Fernando", "Carlos Eduardo", "João Vitor", "Maria Fernanda", "Ana Luíza",
]  # fmt: skip

SURNAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes",
    "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques",
    "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira",
    "Araújo", "Cavalcanti", "Correia", "Moura", "Monteiro", "Pinto", "Campos", "Batista",
    "Duarte", "Azevedo", "Reis", "Borges", "Castro", "Fonseca", "Medeiros", "Pires", "Brito",
    "Magalhães", "Siqueira", "Xavier", "Conceição", "Figueiredo", "Brandão", "Sampaio", "Queiroz",
    "Tavares", "Bezerra", "Farias", "Prado", "Coelho", "Assunção",
]  # fmt: skip

STREETS = [
    "Rua das Flores", "Rua XV de Novembro", "Avenida Paulista", "Rua Augusta", "Avenida Brasil",
    "Rua Sete de Setembro", "Rua Tiradentes", "Avenida Getúlio Vargas", "Rua Dom Pedro II",
    "Rua Barão do Rio Branco", "Avenida Presidente Vargas", "Rua São João", "Rua da Consolação",
    "Rua Voluntários da Pátria", "Avenida Santos Dumont", "Rua Marechal Deodoro",
    "Rua Duque de Caxias", "Rua Rui Barbosa", "Avenida Atlântica", "Rua Frei Caneca",
    "Rua José Bonifácio", "Avenida Afonso Pena", "Rua Padre Anchieta", "Travessa dos Pescadores",
    "Alameda Santos", "Rua das Palmeiras", "Rua dos Andradas", "Avenida Boa Viagem",
    "Rua Benjamin Constant", "Rua Quintino Bocaiúva", "Rua Monteiro Lobato", "Rua Cecília Meireles",
    "Avenida Beira-Mar", "Rua do Comércio", "Rua Floriano Peixoto", "Rua Santa Catarina",
    "Avenida Amazonas", "Rua Goiás", "Rua Bahia", "Rua das Acácias", "Rua dos Ipês",
    "Avenida Sete de Setembro", "Rua Carlos Gomes", "Praça da Liberdade", "Rua Anita Garibaldi",
]  # fmt: skip


@dataclass(frozen=True)
class City:
    name: str
    uf: str
    ddd: int
    cep_first: int  # first 5-digit CEP prefix of the city
    cep_last: int  # last 5-digit CEP prefix of the city
    weight: float  # share of customers


CITIES = [
    City("São Paulo", "SP", 11, 1000, 5999, 22.0),
    City("Guarulhos", "SP", 11, 7000, 7399, 2.0),
    City("Campinas", "SP", 19, 13000, 13139, 3.0),
    City("Santos", "SP", 13, 11000, 11249, 1.5),
    City("Ribeirão Preto", "SP", 16, 14000, 14114, 1.5),
    City("Rio de Janeiro", "RJ", 21, 20000, 23799, 12.0),
    City("Niterói", "RJ", 21, 24000, 24399, 2.0),
    City("Belo Horizonte", "MG", 31, 30000, 31999, 6.0),
    City("Uberlândia", "MG", 34, 38400, 38415, 1.5),
    City("Vitória", "ES", 27, 29000, 29099, 1.5),
    City("Porto Alegre", "RS", 51, 90000, 91999, 4.0),
    City("Caxias do Sul", "RS", 54, 95000, 95124, 1.0),
    City("Curitiba", "PR", 41, 80000, 82999, 4.0),
    City("Londrina", "PR", 43, 86000, 86099, 1.0),
    City("Florianópolis", "SC", 48, 88000, 88099, 2.0),
    City("Joinville", "SC", 47, 89200, 89239, 1.5),
    City("Salvador", "BA", 71, 40000, 42599, 5.0),
    City("Recife", "PE", 81, 50000, 52999, 4.0),
    City("Fortaleza", "CE", 85, 60000, 61599, 4.0),
    City("Natal", "RN", 84, 59000, 59161, 1.5),
    City("João Pessoa", "PB", 83, 58000, 58099, 1.5),
    City("Maceió", "AL", 82, 57000, 57099, 1.5),
    City("São Luís", "MA", 98, 65000, 65109, 1.5),
    City("Teresina", "PI", 86, 64000, 64099, 1.2),
    City("Aracaju", "SE", 79, 49000, 49099, 1.0),
    City("Belém", "PA", 91, 66000, 66999, 2.5),
    City("Manaus", "AM", 92, 69000, 69099, 3.0),
    City("Porto Velho", "RO", 69, 76800, 76834, 0.6),
    City("Palmas", "TO", 63, 77000, 77270, 0.5),
    City("Macapá", "AP", 96, 68900, 68914, 0.3),
    City("Boa Vista", "RR", 95, 69300, 69339, 0.3),
    City("Rio Branco", "AC", 68, 69900, 69923, 0.3),
    City("Goiânia", "GO", 62, 74000, 74894, 3.0),
    City("Brasília", "DF", 61, 70000, 72799, 4.0),
    City("Campo Grande", "MS", 67, 79000, 79124, 1.2),
    City("Cuiabá", "MT", 65, 78000, 78099, 1.2),
]

REGION_OF_UF = {
    **dict.fromkeys(["SP", "RJ", "MG", "ES"], "Sudeste"),
    **dict.fromkeys(["PR", "SC", "RS"], "Sul"),
    **dict.fromkeys(["BA", "PE", "CE", "RN", "PB", "AL", "MA", "PI", "SE"], "Nordeste"),
    **dict.fromkeys(["PA", "AM", "RO", "TO", "AP", "RR", "AC"], "Norte"),
    **dict.fromkeys(["GO", "DF", "MS", "MT"], "Centro-Oeste"),
}
REGIONS = ["Sudeste", "Sul", "Nordeste", "Norte", "Centro-Oeste"]

EMAIL_DOMAINS = [
    ("gmail.com", 45), ("hotmail.com", 14), ("outlook.com", 10), ("yahoo.com.br", 8),
    ("icloud.com", 5), ("uol.com.br", 5), ("bol.com.br", 4), ("terra.com.br", 3), ("globo.com", 3),
]  # fmt: skip

COMPANY_ACTIVITIES = [
    "Comércio de Alimentos", "Distribuidora", "Tecnologia", "Transportes", "Materiais de Construção",
    "Farmácia", "Papelaria", "Padaria", "Consultoria", "Engenharia", "Logística", "Confecções",
    "Serviços Médicos", "Autopeças", "Informática", "Móveis", "Eventos", "Turismo",
]  # fmt: skip
COMPANY_WORDS = [
    "Estrela", "Horizonte", "Aurora", "Ipê", "Atlântico", "Cerrado", "Pantanal", "Sol Nascente", "Jequitibá",
]  # fmt: skip

BRANDS = [
    "Arara", "Tucano", "Ipê", "Jandaia", "Sabiá", "Jequitibá", "Boto", "Capivara", "Guará",
    "Mandacaru", "Pitanga", "Caju", "Acerola", "Jabuti", "Quero-Quero", "Buriti",
]  # fmt: skip
COLORS = ["preto", "branco", "azul", "vermelho", "verde", "cinza", "rosa", "bege", "amarelo"]

SUPPORT_AGENTS = [
    "ana.ribeiro", "bruno.tavares", "carla.menezes", "diego.farias", "elisa.prado",
    "fabio.queiroz", "gisele.moura", "henrique.sampaio", "isabel.coelho", "jorge.batista",
    "karina.siqueira", "leandro.pires",
]  # fmt: skip
PRIVACY_AGENT = "privacidade.dpo"

# -- small helpers -------------------------------------------------------------------------


def iso_z(moment: datetime) -> str:
    """``2026-05-03T14:22:05Z`` (UTC, whole seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ascii_slug(text: str) -> str:
    """Lower case ASCII letters only: ``"Conceição"`` -> ``"conceicao"``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    values = [value for value, _ in options]
    weights = [w for _, w in options]
    return rng.choices(values, weights=weights)[0]


def money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def random_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A whole second in ``[start, end)``."""
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span))


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's algorithm; fine for the small rates used here."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Fixed writer settings: byte-identical output for a given pyarrow version."""
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=9,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        row_group_size=1 << 20,
        coerce_timestamps="us",
        store_schema=True,
    )


# -- customers.csv -------------------------------------------------------------------------


@dataclass
class Customer:
    customer_id: str
    full_name: str
    email: str | None
    phone: str
    cpf: str  # as written in the file
    birth_date: date
    address: str
    city: City
    postal_code: str
    segment: str
    created_at: datetime
    consent_marketing: bool
    company_name: str | None = None
    cnpj: str | None = None
    activity: float = 1.0  # relative ordering frequency (not written)

    @property
    def region(self) -> str:
        return REGION_OF_UF[self.city.uf]

    def row(self) -> list[str]:
        return [
            self.customer_id,
            self.full_name,
            self.email or "",
            self.phone,
            self.cpf,
            self.birth_date.isoformat(),
            self.address,
            self.city.name,
            self.city.uf,
            self.postal_code,
            self.segment,
            iso_z(self.created_at),
            "true" if self.consent_marketing else "false",
            self.company_name or "",
            self.cnpj or "",
        ]


CUSTOMER_COLUMNS = [
    "customer_id", "full_name", "email", "phone", "cpf", "birth_date", "address", "city", "state",
    "postal_code", "segment", "created_at", "consent_marketing", "company_name", "cnpj",
]  # fmt: skip


@dataclass
class CustomerDefects:
    null_email: list[str] = field(default_factory=list)
    malformed_email: list[str] = field(default_factory=list)
    future_birth_date: list[str] = field(default_factory=list)
    exact_duplicates: list[str] = field(default_factory=list)
    changed_duplicates: list[str] = field(default_factory=list)


def new_cpf(rng: random.Random, used: set[str]) -> str:
    while True:
        base = f"{rng.randrange(10**9):09d}"
        digits = base + cpf_check_digits(base)
        if len(set(digits)) > 1 and digits not in used:
            used.add(digits)
            return digits


def new_cnpj(rng: random.Random, used: set[str], *, alphanumeric: bool) -> str:
    """14 characters; alphanumeric ones use the 2026 format (letters in the 12-char base)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while True:
        if alphanumeric:
            chars = [rng.choice(alphabet[10:]) if rng.random() < 0.4 else rng.choice(alphabet[:10]) for _ in range(12)]
            if not any(c.isalpha() for c in chars):
                continue
            base = "".join(chars)
        else:
            branch = 1 if rng.random() < 0.85 else rng.randint(2, 9)
            base = f"{rng.randrange(10**8):08d}{branch:04d}"
        value = base + cnpj_check_digits(base)
        if len(set(value)) > 1 and value not in used:
            used.add(value)
            return value


def brazilian_mobile(rng: random.Random) -> tuple[str, str]:
    """The two halves of a mobile number: ``("91234", "5678")``."""
    return f"9{rng.randint(6, 9)}{rng.randrange(1000):03d}", f"{rng.randrange(10000):04d}"


def make_phone(rng: random.Random, ddd: int, *, landline: bool = False) -> str:
    if landline:
        first, last = f"{rng.randint(2, 5)}{rng.randrange(1000):03d}", f"{rng.randrange(10000):04d}"
    else:
        first, last = brazilian_mobile(rng)
    style = weighted(rng, [("intl", 35), ("national", 45), ("e164", 14), ("us", 4), ("us_e164", 2)])
    if style in ("us", "us_e164"):
        area = rng.choice([212, 305, 312, 415, 617, 646, 702])
        line = f"01{rng.randrange(100):02d}"  # 555-0100..555-0199 is reserved for fiction
        return f"+1 {area}-555-{line}" if style == "us" else f"+1{area}555{line}"
    if style == "intl":
        return f"+55 {ddd} {first}-{last}"
    if style == "national":
        return f"({ddd}) {first}-{last}"
    return f"+55{ddd}{first}{last}"


def make_email(rng: random.Random, first: str, last: str, used: set[str]) -> str:
    f, la = ascii_slug(first.split()[0]), ascii_slug(last)
    domain = weighted(rng, EMAIL_DOMAINS)
    local = weighted(
        rng,
        [
            (f"{f}.{la}", 40),
            (f"{f}{la}{rng.randint(1, 99)}", 20),
            (f"{f}_{la}", 10),
            (f"{f[0]}{la}{rng.randint(70, 99)}", 15),
            (f"{f}.{la}{rng.randint(1990, 2010)}", 15),
        ],
    )
    email, n = f"{local}@{domain}", 1
    while email in used:
        n += 1
        email = f"{local}{n}@{domain}"
    used.add(email)
    return email


def make_company(rng: random.Random, surnames: Sequence[str]) -> tuple[str, str]:
    """``(company name, email domain)``."""
    activity = rng.choice(COMPANY_ACTIVITIES)
    style = rng.randrange(4)
    if style == 0:
        name = f"{surnames[0]} & {rng.choice(SURNAMES)} {activity} Ltda"
    elif style == 1:
        name = f"{rng.choice(COMPANY_WORDS)} {activity} S.A."
    elif style == 2:
        name = f"{surnames[-1]} {activity} ME"
    else:
        name = f"{activity} {rng.choice(COMPANY_WORDS)} Ltda"
    domain_words = [w for w in name.replace("&", " ").split() if w not in ("Ltda", "S.A.", "ME", "de")]
    domain = ascii_slug("".join(domain_words[:2])) + ".com.br"
    return name, domain


def make_customers(rng: random.Random) -> tuple[list[Customer], list[list[str]], CustomerDefects]:
    """The clean customers (sorted by id) and the file rows, defects included."""
    start, end = datetime(2019, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    oldest, youngest = date(1935, 11, 2), date(2008, 11, 1)  # ages 90 and 18 on 2026-11-01
    used_cpf: set[str] = set()
    used_cnpj: set[str] = set()
    used_email: set[str] = set()
    profiles = []
    for _ in range(N_CUSTOMERS):
        age_days = int(min(max(rng.gauss(41, 13), 18.01), 90.9) * 365.25)
        birth = min(max(TODAY - timedelta(days=age_days), oldest), youngest)
        # Sign-ups grow over time (density rises towards 2026), never before the 18th birthday.
        created = start + (end - start) * (rng.random() ** 0.7)
        adult = datetime.combine(add_years(birth, 18), datetime.min.time(), UTC)
        if created < adult:
            created = random_moment(rng, adult, end)
        profiles.append((created.replace(microsecond=0), birth))
    profiles.sort()

    customers = []
    business_ids = []
    for i, (created, birth) in enumerate(profiles, start=1):
        first = rng.choice(FIRST_NAMES)
        surnames = rng.sample(SURNAMES, k=2 if rng.random() < 0.7 else 1)
        full_name = " ".join([first, *surnames])
        city = rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]
        segment = weighted(rng, [("retail", 74), ("business", 16), ("premium", 10)])
        street = rng.choice(STREETS)
        address = f"{street}, {rng.randint(1, 3500)}"
        if rng.random() < 0.3:
            address += f" - apto {rng.randint(1, 30)}{rng.randint(1, 8):02d}"
        company_name = None
        if segment == "business":
            company_name, domain = make_company(rng, surnames)
            local = rng.choice(["compras", "financeiro", "contato", ascii_slug(first.split()[0])])
            email = f"{local}@{domain}"
            n = 1
            while email in used_email:
                n += 1
                email = f"{local}{n}@{domain}"
            used_email.add(email)
            business_ids.append(i - 1)
        else:
            email = make_email(rng, first, surnames[-1], used_email)
        cpf_digits = new_cpf(rng, used_cpf)
        customers.append(
            Customer(
                customer_id=f"C{i:05d}",
                full_name=full_name,
                email=email,
                phone=make_phone(rng, city.ddd, landline=segment == "business" and rng.random() < 0.4),
                cpf=format_cpf(cpf_digits) if rng.random() < 0.9 else cpf_digits,
                birth_date=birth,
                address=address,
                city=city,
                postal_code=f"{rng.randint(city.cep_first, city.cep_last):05d}-{rng.randrange(1000):03d}",
                segment=segment,
                created_at=created,
                consent_marketing=rng.random() < 0.55,
                company_name=company_name,
                activity=rng.gammavariate(0.8, 1.25),
            )
        )
    # About 15% of the business customers already have a new alphanumeric CNPJ.
    alnum = set(rng.sample(business_ids, k=round(0.15 * len(business_ids))))
    for idx in business_ids:
        customers[idx].cnpj = format_cnpj(new_cnpj(rng, used_cnpj, alphanumeric=idx in alnum))

    # -- intentional defects, on disjoint customers --
    defects = CustomerDefects()
    n_null, n_malformed, n_future, n_exact, n_changed = 40, 20, 5, 6, 4
    picked = rng.sample(range(N_CUSTOMERS), k=n_null + n_malformed + n_future + n_exact + n_changed)
    rows_by_index = {i: c.row() for i, c in enumerate(customers)}
    email_col, phone_col, birth_col, address_col = (
        CUSTOMER_COLUMNS.index(c) for c in ("email", "phone", "birth_date", "address")
    )
    cursor = 0

    def take(k: int) -> list[int]:
        nonlocal cursor
        chosen = sorted(picked[cursor : cursor + k])
        cursor += k
        return chosen

    for i in take(n_null):
        rows_by_index[i][email_col] = ""
        defects.null_email.append(customers[i].customer_id)
    for i in take(n_malformed):
        email = rows_by_index[i][email_col]
        local, _, domain = email.partition("@")
        rows_by_index[i][email_col] = f"{local}.{domain}" if rng.random() < 0.5 else f"{local}{domain}"
        defects.malformed_email.append(customers[i].customer_id)
    for i in take(n_future):
        birth = customers[i].birth_date
        # Typing slips: 19xx keyed as 20xx, or a year in the near future.
        wrong = add_years(birth, 100) if birth.year < 1990 else date(2027, birth.month, min(birth.day, 28))
        rows_by_index[i][birth_col] = wrong.isoformat()
        defects.future_birth_date.append(customers[i].customer_id)
    rows = [rows_by_index[i] for i in range(N_CUSTOMERS)]
    duplicates: list[tuple[int, list[str]]] = []
    for i in take(n_exact):
        duplicates.append((i, list(rows_by_index[i])))
        defects.exact_duplicates.append(customers[i].customer_id)
    changed_fields = [phone_col, email_col, address_col, phone_col]
    for col, i in zip(changed_fields, take(n_changed)):
        dup = list(rows_by_index[i])
        c = customers[i]
        if col == phone_col:
            dup[col] = make_phone(rng, c.city.ddd)
        elif col == email_col:
            dup[col] = dup[col].upper()
        else:
            dup[col] = f"{rng.choice(STREETS)}, {rng.randint(1, 3500)}"
        duplicates.append((i, dup))
        defects.changed_duplicates.append(c.customer_id)
    # Re-exported records land later in the file, after their first occurrence.
    for original, dup in sorted(duplicates, key=lambda d: d[0]):
        first_pos = next(p for p, r in enumerate(rows) if r[0] == customers[original].customer_id)
        rows.insert(rng.randint(first_pos + 1, len(rows)), dup)
    for c in customers:
        if c.customer_id in defects.null_email:
            c.email = None
    return customers, rows, defects


# -- products.json -------------------------------------------------------------------------

BOOK_TITLES: dict[str, list[tuple[str, str | None]]] = {
    "fiction": [
        ("Dom Casmurro", "Machado de Assis"), ("Memórias Póstumas de Brás Cubas", "Machado de Assis"),
        ("Quincas Borba", "Machado de Assis"), ("O Cortiço", "Aluísio Azevedo"), ("Iracema", "José de Alencar"),
        ("Senhora", "José de Alencar"), ("Triste Fim de Policarpo Quaresma", "Lima Barreto"),
        ("Os Sertões", "Euclides da Cunha"), ("O Ateneu", "Raul Pompeia"), ("A Moreninha", "Joaquim Manuel de Macedo"),
    ],
    "technical": [
        ("Engenharia de Dados na Prática", None), ("Python para Análise de Dados", None),
        ("Governança de Dados e LGPD", None), ("Estatística Aplicada a Negócios", None),
        ("SQL do Básico ao Avançado", None), ("Lakehouse com Apache Iceberg", None),
    ],
    "children": [
        ("O Sítio da Capivara", None), ("A Turma do Tucano", None), ("Histórias do Boto Cor-de-Rosa", None),
        ("O Saci e a Lua", None),
    ],
}  # fmt: skip
BOOK_EDITIONS = ["", " (Edição de Bolso)", " (Capa Dura)", " (Edição Comentada)"]


@dataclass(frozen=True)
class Subcategory:
    category: str
    name: str
    templates: tuple[str, ...]
    price_range: tuple[float, float]
    kind: str  # which attributes the products carry
    weight: float = 1.0


SUBCATEGORIES = [
    Subcategory("electronics", "smartphones", ("Smartphone {brand} {model} 128GB", "Smartphone {brand} {model} 256GB"), (899, 4999), "device", 1.4),
    Subcategory("electronics", "headphones", ("Fone de Ouvido Bluetooth {brand} {model}", "Headset Gamer {brand} {model}"), (79, 899), "device"),
    Subcategory("electronics", "televisions", ("Smart TV 50 Polegadas 4K {brand} {model}", "Smart TV 43 Polegadas {brand} {model}"), (1799, 4599), "device", 0.7),
    Subcategory("electronics", "notebooks", ("Notebook {brand} {model} 16GB RAM", "Notebook {brand} {model} 8GB RAM"), (2499, 8999), "device", 0.8),
    Subcategory("electronics", "accessories", ("Carregador Turbo {brand} 30W", "Cabo USB-C {brand} 2m", "Power Bank {brand} 20000mAh"), (29, 249), "device", 1.2),
    Subcategory("home_kitchen", "small_appliances", ("Air Fryer {brand} 4L", "Liquidificador {brand} 1200W", "Cafeteira Elétrica {brand}", "Panela Elétrica de Arroz {brand}"), (129, 899), "appliance", 1.3),
    Subcategory("home_kitchen", "cookware", ("Jogo de Panelas Antiaderente {brand} 5 Peças", "Frigideira {brand} 24cm", "Panela de Pressão {brand} 4,5L"), (59, 699), "home"),
    Subcategory("home_kitchen", "bedding", ("Jogo de Cama Queen {brand} 200 Fios", "Travesseiro {brand} Viscoelástico", "Edredom Casal {brand}"), (49, 399), "textile"),
    Subcategory("home_kitchen", "furniture", ("Cadeira de Escritório {brand} {model}", "Rack para TV {brand}", "Mesa de Jantar {brand} 4 Lugares"), (199, 1999), "home", 0.8),
    Subcategory("fashion", "tshirts", ("Camiseta Básica {brand} Algodão", "Camisa Polo {brand}"), (39, 149), "apparel", 1.2),
    Subcategory("fashion", "sneakers", ("Tênis de Corrida {brand} {model}", "Tênis Casual {brand}"), (149, 699), "footwear"),
    Subcategory("fashion", "dresses", ("Vestido Midi {brand} Estampado", "Vestido Longo {brand}"), (89, 349), "apparel"),
    Subcategory("fashion", "bags", ("Mochila Executiva {brand}", "Bolsa Tiracolo {brand}"), (79, 459), "bag"),
    Subcategory("sports", "fitness", ("Halter Emborrachado {brand} 5kg", "Tapete de Yoga {brand}", "Corda de Pular {brand}"), (29, 299), "sport"),
    Subcategory("sports", "cycling", ("Bicicleta Aro 29 {brand} {model}", "Capacete de Ciclismo {brand}"), (129, 3499), "sport", 0.7),
    Subcategory("sports", "football", ("Bola de Futebol {brand} Oficial", "Chuteira Society {brand}", "Camisa Torcedor {brand}"), (69, 449), "sport"),
    Subcategory("beauty", "skincare", ("Protetor Solar FPS 50 {brand} 200ml", "Hidratante Facial {brand}"), (29, 189), "cosmetic"),
    Subcategory("beauty", "perfume", ("Perfume {brand} {model} 100ml",), (99, 599), "cosmetic", 0.8),
    Subcategory("beauty", "haircare", ("Shampoo {brand} Cachos 300ml", "Máscara Capilar {brand}"), (19, 129), "cosmetic"),
    Subcategory("books", "fiction", (), (24.9, 79.9), "book"),
    Subcategory("books", "technical", (), (69.9, 189.9), "book", 0.8),
    Subcategory("books", "children", (), (19.9, 59.9), "book", 0.6),
    Subcategory("toys", "educational", ("Blocos de Montar {brand} 500 Peças", "Quebra-Cabeça {brand} 1000 Peças"), (49, 299), "toy"),
    Subcategory("toys", "board_games", ("Jogo de Tabuleiro {brand} Estratégia", "Dominó {brand} Profissional"), (39, 249), "toy", 0.7),
    Subcategory("pet", "food", ("Ração Premium {brand} Cães Adultos 15kg", "Ração {brand} Gatos Castrados 10kg"), (89, 349), "pet"),
    Subcategory("pet", "accessories", ("Cama para Pet {brand} Tamanho M", "Coleira Ajustável {brand}"), (29, 199), "pet", 0.7),
]  # fmt: skip


def isbn13(rng: random.Random) -> str:
    body = f"97865{rng.randrange(10**7):07d}"
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
    return f"{body[:3]}-{body[3:5]}-{body[5:10]}-{body[10:12]}-{check}"


#: Typical shipping weight (kg) by subcategory, when the name does not say it.
WEIGHT_KG = {
    "smartphones": (0.15, 0.25), "headphones": (0.1, 0.4), "televisions": (7.0, 14.0), "notebooks": (1.2, 2.6),
    "accessories": (0.05, 0.6), "small_appliances": (1.0, 6.0), "cookware": (0.8, 6.0), "furniture": (8.0, 45.0),
    "sneakers": (0.5, 1.1), "bags": (0.3, 1.5), "fitness": (0.2, 2.0), "cycling": (0.3, 15.5), "football": (0.3, 0.9),
}  # fmt: skip


def _number_in(name: str, unit: str) -> int | None:
    """``_number_in("Shampoo Boto 300ml", "ml") == 300``."""
    match = re.search(rf"(\d+)\s?{unit}\b", name)
    return int(match.group(1)) if match else None


def product_attributes(
    rng: random.Random, sub: Subcategory, name: str, brand: str, author: str | None
) -> dict[str, Any]:
    """Nested attributes, consistent with the name; a key always has the same JSON type."""
    lo, hi = WEIGHT_KG.get(sub.name, (0.1, 2.0))
    stated_kg = _number_in(name, "kg")
    weight_kg = float(stated_kg) if stated_kg else round(rng.uniform(lo, hi), 2)
    color = rng.choice(COLORS)
    kind = sub.kind
    if kind == "device":
        return {
            "brand": brand,
            "color": color,
            "weight_kg": weight_kg,
            "voltage": "bivolt",
            "warranty_months": rng.choice([3, 12, 12, 24]),
        }
    if kind == "appliance":
        return {
            "brand": brand,
            "color": color,
            "weight_kg": weight_kg,
            "voltage": rng.choice(["110V", "220V", "bivolt"]),
            "warranty_months": 12,
        }
    if kind == "home":
        return {
            "brand": brand,
            "color": color,
            "weight_kg": weight_kg,
            "material": rng.choice(["alumínio", "inox", "madeira", "MDF", "aço"]),
        }
    if kind == "textile":
        size = (
            "queen"
            if "Queen" in name
            else "casal"
            if "Casal" in name
            else rng.choice(["solteiro", "casal", "queen", "king"])
        )
        return {
            "brand": brand,
            "color": color,
            "material": rng.choice(["algodão", "percal", "microfibra"]),
            "size": size,
        }
    if kind == "apparel":
        return {
            "brand": brand,
            "color": color,
            "size": rng.choice(["PP", "P", "M", "G", "GG"]),
            "material": rng.choice(["algodão", "viscose", "poliéster", "linho"]),
        }
    if kind == "footwear":
        return {"brand": brand, "color": color, "size": str(rng.randint(34, 44)), "weight_kg": weight_kg}
    if kind == "bag":
        return {
            "brand": brand,
            "color": color,
            "material": rng.choice(["couro", "nylon", "lona"]),
            "weight_kg": weight_kg,
        }
    if kind == "sport":
        return {"brand": brand, "color": color, "weight_kg": weight_kg}
    if kind == "cosmetic":
        return {"brand": brand, "volume_ml": _number_in(name, "ml") or rng.choice([30, 50, 100, 250])}
    if kind == "book":
        return {
            "author": author,
            "publisher": f"Editora {brand}",
            "pages": rng.randint(64, 720),
            "language": "pt-BR",
            "isbn": isbn13(rng),
        }
    if kind == "toy":
        return {
            "brand": brand,
            "age_range": rng.choice(["3+", "6+", "8+", "12+"]),
            "pieces": _number_in(name, "Peças") or rng.choice([28, 55, 120]),
        }
    if kind == "pet":
        pet_type = "gato" if "Gatos" in name else "cão" if "Cães" in name else rng.choice(["cão", "gato"])
        return {"brand": brand, "weight_kg": weight_kg, "pet_type": pet_type}
    raise ValueError(kind)


@dataclass(frozen=True)
class Product:
    product_id: str
    sku: str
    name: str
    category: str
    subcategory: str
    list_price: Decimal
    currency: str
    active: bool
    attributes: dict[str, Any]
    launched_on: date
    popularity: float

    def record(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "sku": self.sku,
            "name": self.name,
            "category": self.category,
            "subcategory": self.subcategory,
            "list_price": float(self.list_price),
            "currency": self.currency,
            "active": self.active,
            "attributes": self.attributes,
            "launched_on": self.launched_on.isoformat(),
        }


def make_products(rng: random.Random) -> list[Product]:
    first_launch, last_launch = date(2018, 1, 1), date(2026, 10, 15)
    span = (last_launch - first_launch).days
    used_sku: set[str] = set()
    products = []
    for i in range(1, N_PRODUCTS + 1):
        sub = rng.choices(SUBCATEGORIES, weights=[s.weight for s in SUBCATEGORIES])[0]
        brand = rng.choice(BRANDS)
        model = f"{rng.choice('AEGKMNPRSTVXZ')}{rng.randint(10, 99)}"
        author = None
        if sub.kind == "book":
            title, author = rng.choice(BOOK_TITLES[sub.name])
            author = author or f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            name = title + rng.choice(BOOK_EDITIONS)
        else:
            name = rng.choice(sub.templates).format(brand=brand, model=model)
        lo, hi = sub.price_range
        # Prices cluster towards the cheap end and end in ,90 like Brazilian shelf prices.
        price = money(math.floor(lo + (hi - lo) * rng.random() ** 1.8) + 0.9)
        launched = first_launch + timedelta(days=int(span * rng.random() ** 0.6))
        age_years = (TODAY - launched).days / 365.25
        sku = ""
        while not sku or sku in used_sku:
            sku = f"{sub.category[:3].upper()}-{sub.name[:3].upper()}-{rng.randrange(10000, 100000)}"
        used_sku.add(sku)
        products.append(
            Product(
                product_id=f"P{i:04d}",
                sku=sku,
                name=name,
                category=sub.category,
                subcategory=sub.name,
                list_price=price,
                currency="BRL",
                active=rng.random() > min(0.05 + 0.06 * age_years, 0.5),
                attributes=product_attributes(rng, sub, name, brand, author),
                launched_on=launched,
                popularity=rng.paretovariate(1.3),
            )
        )
    return products


# -- orders.parquet ------------------------------------------------------------------------


@dataclass
class Order:
    order_id: str
    customer_id: str
    product_id: str | None
    quantity: int
    unit_price: Decimal
    total_amount: Decimal
    currency: str
    status: str
    order_ts: datetime
    channel: str
    payment_method: str
    installments: int


@dataclass
class OrderDefects:
    orphan_customer: list[str] = field(default_factory=list)
    negative_quantity: list[str] = field(default_factory=list)
    null_product: list[str] = field(default_factory=list)
    total_mismatch: list[str] = field(default_factory=list)


ORDER_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("customer_id", pa.string()),
        ("product_id", pa.string()),
        ("quantity", pa.int32()),
        ("unit_price", pa.decimal128(10, 2)),
        ("total_amount", pa.decimal128(12, 2)),
        ("currency", pa.string()),
        ("status", pa.string()),
        ("order_ts", pa.timestamp("us", tz="UTC")),
        ("channel", pa.string()),
        ("payment_method", pa.string()),
        ("installments", pa.int32()),
    ]
)

# Relative order volume by local (UTC-3) hour of the day.
LOCAL_HOUR_WEIGHTS = [
    0.35, 0.2, 0.1, 0.06, 0.05, 0.1, 0.3, 0.6, 0.8, 1.0, 1.1, 1.2,
    1.3, 1.2, 1.1, 1.1, 1.2, 1.3, 1.5, 1.8, 2.1, 2.1, 1.7, 0.9,
]  # fmt: skip


def order_day_weight(day: date, index: int) -> float:
    """Growth over the year, quieter weekends and the Brazilian retail calendar."""
    w = 1.0 + 0.3 * index / 365
    if day.weekday() >= 5:
        w *= 0.85
    if day == date(2025, 11, 28):  # Black Friday
        w *= 6.0
    elif date(2025, 11, 24) <= day <= date(2025, 12, 1):
        w *= 2.5
    elif date(2025, 12, 8) <= day <= date(2025, 12, 23):
        w *= 1.6  # Christmas
    elif date(2026, 5, 3) <= day <= date(2026, 5, 9):
        w *= 1.6  # Mother's Day (10 May)
    elif date(2026, 6, 6) <= day <= date(2026, 6, 11):
        w *= 1.4  # Dia dos Namorados (12 June)
    return w


def order_status(rng: random.Random, ts: datetime) -> str:
    age_days = (NOW - ts).total_seconds() / 86400
    if rng.random() < (0.02 if age_days < 1 else 0.04):
        return "cancelled"
    if age_days < 1:
        return "placed" if rng.random() < 0.85 else "shipped"
    if age_days < 5:
        return weighted(rng, [("placed", 10), ("shipped", 70), ("delivered", 20)])
    if age_days > 7 and rng.random() < 0.03:
        return "returned"
    return "delivered"


def make_orders(
    rng: random.Random, customers: list[Customer], products: list[Product]
) -> tuple[list[Order], OrderDefects]:
    first_day = date(2025, 11, 1)
    days = [first_day + timedelta(days=i) for i in range(365)]
    day_picks = rng.choices(days, weights=[order_day_weight(d, i) for i, d in enumerate(days)], k=N_ORDERS)
    utc_hour_weights = [LOCAL_HOUR_WEIGHTS[(h - 3) % 24] for h in range(24)]
    stamps = sorted(
        datetime(d.year, d.month, d.day, tzinfo=UTC)
        + timedelta(hours=rng.choices(range(24), weights=utc_hour_weights)[0], seconds=rng.randrange(3600))
        for d in day_picks
    )

    created = [c.created_at for c in customers]  # customers are sorted by created_at
    cum_activity = []
    total = 0.0
    for c in customers:
        total += c.activity
        cum_activity.append(total)
    product_weights = [p.popularity for p in products]

    orders = []
    for n, ts in enumerate(stamps, start=1):
        eligible = bisect.bisect_left(created, ts)  # only customers who already signed up
        pick = bisect.bisect_right(cum_activity, rng.random() * cum_activity[eligible - 1])
        customer = customers[min(pick, eligible - 1)]
        product = rng.choices(products, weights=product_weights)[0]
        for _ in range(50):  # a product is sold only after its launch
            if product.launched_on <= ts.date():
                break
            product = rng.choices(products, weights=product_weights)[0]
        if customer.segment == "business":
            quantity = max(1, int(rng.triangular(1, 30, 4)))
        else:
            quantity = weighted(rng, [(1, 68), (2, 20), (3, 7), (4, 3), (5, 1), (6, 1)])
        black_friday = date(2025, 11, 24) <= ts.date() <= date(2025, 12, 1)
        discount = weighted(
            rng, [(0, 40), (10, 25), (20, 20), (30, 15)] if black_friday else [(0, 75), (5, 10), (10, 10), (15, 5)]
        )
        unit_price = money(product.list_price * (100 - discount) / 100)
        international = rng.random() < 0.03
        if international:
            currency, channel, payment = "USD", "web", "credit_card"
            unit_price = money(unit_price / USD_BRL)
        else:
            currency = "BRL"
            channel = weighted(rng, [("web", 40), ("mobile_app", 38), ("marketplace", 15), ("store", 4), ("phone", 3)])
            payment = weighted(rng, [("pix", 42), ("credit_card", 43), ("boleto", 9), ("debit_card", 6)])
        total_amount = unit_price * quantity
        installments = 1
        if payment == "credit_card" and currency == "BRL" and total_amount >= 100 and rng.random() < 0.55:
            installments = weighted(rng, [(2, 15), (3, 20), (4, 8), (5, 8), (6, 15), (10, 25), (12, 9)])
        orders.append(
            Order(
                order_id=f"O{n:06d}",
                customer_id=customer.customer_id,
                product_id=product.product_id,
                quantity=quantity,
                unit_price=unit_price,
                total_amount=total_amount,
                currency=currency,
                status=order_status(rng, ts),
                order_ts=ts,
                channel=channel,
                payment_method=payment,
                installments=installments,
            )
        )

    # -- intentional defects, on disjoint orders --
    defects = OrderDefects()
    n_orphan, n_negative, n_null_product, n_mismatch = 60, 12, 45, 25
    picked = rng.sample(range(N_ORDERS), k=n_orphan + n_negative + n_null_product + n_mismatch)
    existing = {c.customer_id for c in customers}
    for i in sorted(picked[:n_orphan]):
        orphan = ""
        while not orphan or orphan in existing:
            orphan = f"C{rng.randint(2101, 9999):05d}"
        orders[i].customer_id = orphan
        defects.orphan_customer.append(orders[i].order_id)
    for i in sorted(picked[n_orphan : n_orphan + n_negative]):
        o = orders[i]
        o.quantity = -o.quantity  # sign flipped upstream; the total follows the quantity
        o.total_amount = o.unit_price * o.quantity
        defects.negative_quantity.append(o.order_id)
    for i in sorted(picked[n_orphan + n_negative : n_orphan + n_negative + n_null_product]):
        orders[i].product_id = None
        defects.null_product.append(orders[i].order_id)
    for i in sorted(picked[n_orphan + n_negative + n_null_product :]):
        o = orders[i]
        if o.quantity > 1:
            o.total_amount = o.unit_price  # quantity ignored
        else:
            o.total_amount = o.unit_price + Decimal("19.90")  # freight added to the item total
        defects.total_mismatch.append(o.order_id)
    return orders, defects


def orders_table(orders: list[Order]) -> pa.Table:
    columns = {name: [getattr(o, name) for o in orders] for name in ORDER_SCHEMA.names}
    return pa.Table.from_pydict(columns, schema=ORDER_SCHEMA)


# -- support_tickets.ndjson ----------------------------------------------------------------

TICKET_TEXT: dict[str, list[tuple[str, str]]] = {
    "delivery": [
        ("Pedido não entregue", "Meu pedido {order} estava previsto para chegar há dias e até agora nada. O rastreamento não atualiza."),
        ("Atraso na entrega do pedido {order}", "Comprei no dia {day} e o prazo já venceu. Preciso do produto com urgência."),
        ("Entrega em endereço errado", "O sistema mostra o pedido {order} como entregue, mas não recebi. Acho que foi entregue no endereço errado."),
        ("Rastreamento parado", "O código de rastreio do pedido {order} está parado na transportadora há uma semana."),
    ],
    # billing texts depend on how the order was paid: see BILLING_TEXT
    "billing": [],
    "refund": [
        ("Estorno não recebido", "Cancelei o pedido {order} e o estorno ainda não apareceu na fatura do cartão."),
        ("Reembolso via Pix", "Devolvi o produto do pedido {order} e até agora não recebi o reembolso."),
    ],
    "product_defect": [
        ("Produto chegou com defeito", "O produto do pedido {order} chegou quebrado, a caixa estava amassada."),
        ("Produto diferente do anunciado", "Recebi um produto de outra cor/modelo do que comprei no pedido {order}."),
        ("Produto parou de funcionar", "Depois de duas semanas de uso o aparelho parou de ligar. Está na garantia."),
    ],
    "exchange_return": [
        ("Troca de tamanho", "Gostaria de trocar o tamanho do item do pedido {order}. Ficou pequeno."),
        ("Solicitação de devolução", "Quero devolver o pedido {order} dentro do prazo de 7 dias (direito de arrependimento)."),
    ],
    "account_access": [
        ("Não consigo acessar minha conta", "Tento entrar e aparece senha inválida, e o e-mail de recuperação não chega."),
        ("Alteração de e-mail cadastrado", "Preciso alterar o e-mail da minha conta, não uso mais o endereço antigo."),
        ("Código de verificação não chega", "O código por SMS não chega no meu celular."),
    ],
    "lgpd_request": [
        ("Solicitação de exclusão de dados (LGPD)", "Com base na LGPD, solicito a exclusão dos meus dados pessoais da base de vocês."),
        ("Acesso aos meus dados pessoais", "Quero saber quais dados pessoais meus vocês armazenam e com quem são compartilhados (art. 18 da LGPD)."),
        ("Revogar consentimento de marketing", "Não quero mais receber e-mails e mensagens promocionais. Revogo o consentimento."),
    ],
}  # fmt: skip

BILLING_TEXT = {
    "pix": (
        "Pix pago e pedido não confirmado",
        "Paguei via Pix no dia {day}, mas o pedido {order} continua aguardando pagamento.",
    ),
    "credit_card": (
        "Cobrança em duplicidade",
        "Fui cobrado duas vezes no cartão pela mesma compra, pedido {order}. Quero o estorno de uma das cobranças.",
    ),
    "debit_card": (
        "Débito sem confirmação do pedido",
        "O valor do pedido {order} foi debitado da minha conta, mas o pedido aparece como não pago.",
    ),
    "boleto": (
        "Boleto não compensado",
        "Paguei o boleto do pedido {order} no dia {day} e o pedido ainda não foi liberado.",
    ),
}

TICKET_TAGS = {
    "delivery": ["logistics"],
    "billing": ["billing", "payments"],
    "refund": ["billing", "refunds"],
    "product_defect": ["product_quality"],
    "exchange_return": ["logistics", "returns"],
    "account_access": ["accounts", "security"],
    "lgpd_request": ["lgpd", "privacy"],
}

# priority -> median minutes to first response, median minutes from response to resolution
TICKET_SLA = {"critical": (20, 360), "high": (90, 1440), "medium": (360, 2880), "low": (1200, 4320)}


@dataclass
class TicketStats:
    rows: int = 0
    with_email: int = 0
    with_phone: int = 0
    with_cpf: int = 0
    with_any_pii: int = 0
    unanswered_sla_breach: int = 0
    status: dict[str, int] = field(default_factory=dict)


def make_tickets(
    rng: random.Random, customers: list[Customer], orders: list[Order]
) -> tuple[list[dict[str, Any]], TicketStats]:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    by_id = {c.customer_id: c for c in customers}
    known_orders = [o for o in orders if o.customer_id in by_id]  # sorted by order_ts
    order_times = [o.order_ts for o in known_orders]
    created = [c.created_at for c in customers]
    # Support hours 08:00-22:00 local (11-01 UTC), busiest mid-morning and after lunch.
    utc_hour_weights = [LOCAL_HOUR_WEIGHTS[(h - 3) % 24] if h >= 11 or h < 1 else 0.05 for h in range(24)]

    opened = []
    for _ in range(N_TICKETS):
        day = start + timedelta(days=rng.randrange((NOW - start).days))
        opened.append(
            day + timedelta(hours=rng.choices(range(24), weights=utc_hour_weights)[0], seconds=rng.randrange(3600))
        )
    opened.sort()

    def recent_order(opened_at: datetime) -> Order:
        """An order placed in the 30 days before the ticket (its buyer opens the ticket)."""
        lo = bisect.bisect_left(order_times, opened_at - timedelta(days=30))
        return known_orders[rng.randrange(lo, bisect.bisect_left(order_times, opened_at))]

    stats = TicketStats()
    tickets = []
    for n, opened_at in enumerate(opened, start=1):
        category = weighted(
            rng,
            [
                ("delivery", 30),
                ("billing", 15),
                ("refund", 12),
                ("product_defect", 14),
                ("exchange_return", 12),
                ("account_access", 11),
                ("lgpd_request", 6),
            ],
        )
        priority = weighted(rng, [("critical", 4), ("high", 18), ("medium", 48), ("low", 30)])
        channel = weighted(
            rng, [("email", 30), ("chat", 25), ("whatsapp", 22), ("phone", 13), ("web_form", 7), ("reclame_aqui", 3)]
        )
        order: Order | None
        if category == "billing":
            order = recent_order(opened_at)
            subject, text = BILLING_TEXT[order.payment_method]
        else:
            subject, text = rng.choice(TICKET_TEXT[category])
            order = recent_order(opened_at) if "{order}" in subject + text else None
        if order is not None:
            customer = by_id[order.customer_id]
            subject = subject.format(order=order.order_id)
            description = text.format(order=order.order_id, day=order.order_ts.strftime("%d/%m"))
        else:
            customer = customers[rng.randrange(bisect.bisect_left(created, opened_at))]
            description = text

        # Customers often paste personal data into free text.
        pii = []
        email_p, phone_p, cpf_p = {"account_access": (0.35, 0.1, 0.05), "lgpd_request": (0.3, 0.1, 0.6)}.get(
            category, (0.06, 0.09, 0.04)
        )
        if customer.email and rng.random() < email_p:
            pii.append(
                rng.choice(["Meu e-mail é {}.", "Podem responder para {}", "E-mail cadastrado: {}"]).format(
                    customer.email
                )
            )
            stats.with_email += 1
        if rng.random() < phone_p:
            pii.append(
                rng.choice(["Podem me ligar no {}.", "Meu WhatsApp é {}", "Telefone para contato: {}."]).format(
                    customer.phone
                )
            )
            stats.with_phone += 1
        if rng.random() < cpf_p:
            cpf = customer.cpf if rng.random() < 0.6 else "".join(ch for ch in customer.cpf if ch.isdigit())
            pii.append(rng.choice(["Meu CPF é {}.", "CPF do titular: {}", "cpf {}"]).format(cpf))
            stats.with_cpf += 1
        if pii:
            stats.with_any_pii += 1
            description = " ".join([description, *pii])

        # Lifecycle, measured against the fixed "now".
        respond_median, resolve_median = TICKET_SLA[priority]
        responded = opened_at + timedelta(minutes=respond_median * rng.lognormvariate(0, 0.8))
        candidate = responded + timedelta(minutes=resolve_median * rng.lognormvariate(0, 0.9))
        first_response: datetime | None = responded
        resolved: datetime | None = None
        if responded > NOW or rng.random() < 0.01:
            status, first_response = "open", None
            if opened_at < NOW - timedelta(days=7):
                stats.unanswered_sla_breach += 1
        elif rng.random() < 0.05:
            status = "escalated"
        elif candidate > NOW:
            status = "in_progress"
        else:
            resolved = candidate
            status = "resolved" if resolved > NOW - timedelta(days=5) or rng.random() < 0.08 else "closed"
        if status == "open" and rng.random() < 0.7:
            assignee = None
        elif category == "lgpd_request":
            assignee = PRIVACY_AGENT
        else:
            assignee = rng.choice(SUPPORT_AGENTS)
        tags = set(TICKET_TAGS[category])
        if customer.segment == "business":
            tags.add("b2b")
        if customer.segment == "premium":
            tags.add("vip")
        if status == "escalated":
            tags.add("escalation")
        if channel == "reclame_aqui":
            tags.add("reputation")
        satisfaction = None
        if resolved is not None and rng.random() < 0.55:
            hours = (resolved - opened_at).total_seconds() / 3600
            mood = 4.5 - 0.6 * math.log1p(hours / 24) + rng.gauss(0, 1.0)
            satisfaction = min(5, max(1, round(mood)))
        stats.status[status] = stats.status.get(status, 0) + 1
        tickets.append(
            {
                "ticket_id": f"TCK-{n:06d}",
                "customer_id": customer.customer_id,
                "opened_at": iso_z(opened_at),
                "first_response_at": iso_z(first_response) if first_response else None,
                "resolved_at": iso_z(resolved) if resolved else None,
                "priority": priority,
                "status": status,
                "channel": channel,
                "category": category,
                "subject": subject,
                "description": description,
                "assignee": assignee,
                "skill_tags": sorted(tags),
                "satisfaction": satisfaction,
            }
        )
    stats.rows = len(tickets)
    return tickets, stats


# -- cloud_costs_aws.csv -------------------------------------------------------------------

PAYER_ACCOUNT = "384920117465"
ACCOUNTS = {"prod": "502938174620", "staging": "719264830157", "dev": "268401937582", "ml": "615037284916"}
COST_DAYS = [date(2026, 8, 3) + timedelta(days=i) for i in range(90)]  # 2026-08-03 .. 2026-10-31

COST_COLUMNS = [
    "bill/PayerAccountId", "lineItem/UsageAccountId", "lineItem/LineItemType", "lineItem/UsageStartDate",
    "lineItem/UsageEndDate", "lineItem/ProductCode", "lineItem/UsageType", "lineItem/Operation",
    "lineItem/ResourceId", "lineItem/UsageAmount", "pricing/unit", "lineItem/UnblendedRate",
    "lineItem/UnblendedCost", "lineItem/CurrencyCode", "product/region", "resourceTags/user:team",
    "resourceTags/user:environment",
]  # fmt: skip


@dataclass(frozen=True)
class CloudResource:
    team: str  # "" = untagged
    env: str
    account: str
    product: str
    usage_type: str
    operation: str
    unit: str
    rate: float  # USD per unit
    daily_usage: float
    resource_id: str  # "{date}" is replaced by the usage day (one SageMaker job per day)
    region: str = "sa-east-1"
    weekday_only: float = 0.0  # 0 = flat, 1 = nothing on weekends
    growth: float = 0.0  # relative growth over the 90 days
    noise: float = 0.05
    start: date = COST_DAYS[0]


def ec2(team: str, env: str, itype: str, rate: float, count: float, rid: str, **kw: Any) -> CloudResource:
    return CloudResource(
        team,
        env,
        ACCOUNTS[env],
        "AmazonEC2",
        f"SAE1-BoxUsage:{itype}",
        "RunInstances",
        "Hrs",
        rate,
        24 * count,
        rid,
        **kw,
    )


def s3(team: str, env: str, gb: float, bucket: str, **kw: Any) -> CloudResource:
    return CloudResource(
        team,
        env,
        ACCOUNTS[env],
        "AmazonS3",
        "SAE1-TimedStorage-ByteHrs",
        "StandardStorage",
        "GB-Mo",
        0.0405,
        gb / 30,
        bucket,
        **kw,
    )


def rds(team: str, env: str, itype: str, rate: float, name: str, **kw: Any) -> CloudResource:
    arn = f"arn:aws:rds:sa-east-1:{ACCOUNTS[env]}:db:{name}"
    return CloudResource(
        team,
        env,
        ACCOUNTS[env],
        "AmazonRDS",
        f"SAE1-InstanceUsage:{itype}",
        "CreateDBInstance:0014",
        "Hrs",
        rate,
        24,
        arn,
        noise=0.0,
        **kw,
    )


def lam(team: str, env: str, gb_seconds: float, name: str, **kw: Any) -> CloudResource:
    arn = f"arn:aws:lambda:sa-east-1:{ACCOUNTS[env]}:function:{name}"
    kw.setdefault("noise", 0.15)
    return CloudResource(
        team,
        env,
        ACCOUNTS[env],
        "AWSLambda",
        "SAE1-Lambda-GB-Second",
        "Invoke",
        "Lambda-GB-Second",
        0.0000166667,
        gb_seconds,
        arn,
        **kw,
    )


def sagemaker(usage: str, rate: float, hours: float, job: str, env: str = "prod", **kw: Any) -> CloudResource:
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNTS['ml']}:{job}"
    operation = {"Train": "CreateTrainingJob", "Host": "RunInstance", "Notebk": "RunInstance"}[usage.split(":")[0]]
    return CloudResource(
        "ml",
        env,
        ACCOUNTS["ml"],
        "AmazonSageMaker",
        f"USE1-{usage}",
        operation,
        "Hrs",
        rate,
        hours,
        arn,
        region="us-east-1",
        **kw,
    )


CLOUD_RESOURCES = [
    # data-platform: Spark workers that scale with weekday batch load, the lake and its catalog
    ec2("data-platform", "prod", "r6i.2xlarge", 0.8064, 4, "i-0c4a1f7e92b35d801", weekday_only=0.5, growth=0.15, noise=0.12),
    ec2("data-platform", "prod", "r6i.2xlarge", 0.8064, 4, "i-0c4a1f7e92b35d802", weekday_only=0.5, growth=0.15, noise=0.12),
    ec2("data-platform", "prod", "m6i.xlarge", 0.3072, 1, "i-07d2e6b1a9c40f3e5"),
    ec2("data-platform", "staging", "m6i.large", 0.1536, 1, "i-02b8f3c7d1e9a6054"),
    CloudResource("data-platform", "prod", ACCOUNTS["prod"], "AmazonEC2", "SAE1-EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo", 0.152, 2000 / 30, "vol-0f3a9c2e71b4d5e86", noise=0.0),
    s3("data-platform", "prod", 48000, "odg-lake-bronze", growth=0.2, noise=0.01),
    s3("data-platform", "prod", 21000, "odg-lake-silver", growth=0.15, noise=0.01),
    s3("data-platform", "prod", 6500, "odg-lake-gold", growth=0.1, noise=0.01),
    rds("data-platform", "prod", "db.m6g.large", 0.296, "iceberg-catalog"),
    CloudResource("data-platform", "prod", ACCOUNTS["prod"], "AWSGlue", "SAE1-ETL-DPU-Hour", "GlueJobRun", "DPU-Hour", 0.44, 40, f"arn:aws:glue:sa-east-1:{ACCOUNTS['prod']}:job/bronze-ingest", weekday_only=0.3, noise=0.2),
    lam("data-platform", "prod", 180000, "landing-file-trigger", noise=0.25),
    # ml: a nightly retraining job, two endpoints, notebooks, a GPU box and a feature bucket
    sagemaker("Train:ml.g5.2xlarge", 1.515, 3.0, "training-job/churn-retrain-{date}", noise=0.2),
    sagemaker("Host:ml.m5.large", 0.115, 48, "endpoint/churn-scoring"),
    sagemaker("Host:ml.g5.xlarge", 1.408, 24, "endpoint/recsys-ranker", start=date(2026, 9, 7)),
    sagemaker("Notebk:ml.t3.medium", 0.05, 10, "notebook-instance/ml-lab-ana", env="dev", weekday_only=0.9, noise=0.3),
    sagemaker("Notebk:ml.t3.medium", 0.05, 10, "notebook-instance/ml-lab-diego", env="dev", weekday_only=0.9, noise=0.3),
    ec2("ml", "dev", "g5.xlarge", 1.006, 0.4, "i-0e91b7c3f58d2a604", weekday_only=0.8, noise=0.3),
    s3("ml", "prod", 9000, "odg-ml-features", growth=0.3, noise=0.01),
    # analytics: BI servers, Athena scans and a reporting replica
    ec2("analytics", "prod", "m6i.2xlarge", 0.6144, 1, "i-0a5e2d9c8b71f4036"),
    ec2("analytics", "prod", "m6i.large", 0.1536, 1, "i-09c7b4e1d2a83f657"),
    CloudResource("analytics", "prod", ACCOUNTS["prod"], "AmazonAthena", "SAE1-DataScannedInTB", "RunQuery", "Terabytes", 7.0, 0.9, f"arn:aws:athena:sa-east-1:{ACCOUNTS['prod']}:workgroup/analytics", weekday_only=0.8, noise=0.35),
    rds("analytics", "prod", "db.r6g.large", 0.396, "reporting-replica"),
    s3("analytics", "prod", 3500, "odg-analytics-exports", growth=0.1, noise=0.01),
    # web: the storefront
    ec2("web", "prod", "c6i.xlarge", 0.2584, 1, "i-03f1a8d6c4e2b9071", noise=0.0),
    ec2("web", "prod", "c6i.xlarge", 0.2584, 1, "i-03f1a8d6c4e2b9072", noise=0.0),
    ec2("web", "prod", "c6i.xlarge", 0.2584, 0.6, "i-03f1a8d6c4e2b9073", weekday_only=0.3, noise=0.2),
    ec2("web", "staging", "c6i.large", 0.1292, 1, "i-0b2e7f9a1c6d3e548", noise=0.0),
    rds("web", "prod", "db.r6g.xlarge", 0.792, "storefront-orders"),
    rds("web", "staging", "db.t4g.medium", 0.104, "storefront-staging"),
    lam("web", "prod", 950000, "checkout-api", growth=0.1),
    lam("web", "prod", 420000, "catalog-search"),
    lam("web", "prod", 60000, "image-resizer"),
    s3("web", "prod", 1200, "odg-storefront-assets", noise=0.01),
    # nobody tagged this one (an intentional defect: unallocated spend)
    CloudResource("", "", ACCOUNTS["dev"], "AmazonEC2", "SAE1-BoxUsage:m5.2xlarge", "RunInstances", "Hrs", 0.612, 24, "i-0d6c3b8a2f91e7045", noise=0.0),
]  # fmt: skip

# The anomalies: extra SageMaker jobs of the ml team on four days.
COST_SPIKES = [
    (date(2026, 8, 21), sagemaker("Train:ml.g5.12xlarge", 7.09, 64, "hyper-parameter-tuning-job/churn-hpo-{date}")),
    (date(2026, 9, 15), sagemaker("Train:ml.p4d.24xlarge", 37.688, 48, "training-job/recsys-dist-train-{date}")),
    (date(2026, 9, 16), sagemaker("Train:ml.p4d.24xlarge", 37.688, 48, "training-job/recsys-dist-train-20260915")),
    (date(2026, 10, 8), sagemaker("Train:ml.g5.12xlarge", 7.09, 96, "hyper-parameter-tuning-job/recsys-hpo-{date}")),
]


def cost_row(res: CloudResource, day: date, usage: float) -> list[str]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [
        PAYER_ACCOUNT,
        res.account,
        "Usage",
        iso_z(start),
        iso_z(start + timedelta(days=1)),
        res.product,
        res.usage_type,
        res.operation,
        res.resource_id.replace("{date}", day.strftime("%Y%m%d")),
        f"{usage:.6f}",
        res.unit,
        f"{res.rate:.10f}",
        f"{usage * res.rate:.8f}",
        "USD",
        res.region,
        res.team,
        res.env,
    ]


def make_cloud_costs(rng: random.Random) -> list[list[str]]:
    rows = []
    for i, day in enumerate(COST_DAYS):
        weekend = day.weekday() >= 5
        for res in CLOUD_RESOURCES:
            if day < res.start:
                continue
            usage = res.daily_usage * (1 + res.growth * i / len(COST_DAYS))
            if weekend:
                usage *= 1 - res.weekday_only
            usage *= max(0.0, rng.gauss(1, res.noise))
            if res.unit == "Hrs":
                usage = min(usage, res.daily_usage * 2)
            if usage > 0:
                rows.append(cost_row(res, day, usage))
        for spike_day, res in COST_SPIKES:
            if spike_day == day:
                rows.append(cost_row(res, day, res.daily_usage))
    # Stable CUR-like order: day, account, service, usage type, resource.
    rows.sort(key=lambda r: (r[3], r[1], r[5], r[6], r[8]))
    return rows


# -- predictions_reference.parquet / predictions_current.parquet ---------------------------

PLAN_EFFECT = {"basic": 0.35, "standard": 0.0, "premium": -0.45}
REGION_EFFECT = {"Sudeste": 0.0, "Sul": -0.1, "Nordeste": 0.15, "Norte": 0.25, "Centro-Oeste": 0.05}
MODEL_VERSION = "churn-gbm-2026.07.2"

PREDICTION_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("scored_at", pa.timestamp("us", tz="UTC")),
        ("tenure_months", pa.int32()),
        ("monthly_spend", pa.float64()),
        ("support_tickets_90d", pa.int32()),
        ("avg_delivery_days", pa.float64()),
        ("region", pa.string()),
        ("plan", pa.string()),
        ("prediction_score", pa.float64()),
        ("predicted_label", pa.int32()),
        ("actual_label", pa.int32()),
        ("model_version", pa.string()),
    ]
)


@dataclass(frozen=True)
class Period:
    name: str
    runs: tuple[date, ...]  # weekly scoring runs (Mondays)
    region_mix: dict[str, float]
    spend_factor: float  # multiplies monthly_spend
    ticket_dispersion: float | None  # None = Poisson; else gamma shape of a negative binomial
    true_logit: Callable[[dict[str, Any]], float]


def model_logit(f: dict[str, Any]) -> float:
    """The deployed model, fitted on the reference period."""
    return float(
        -1.05
        + 0.55 * (f["support_tickets_90d"] - 1.2)
        - 0.03 * (f["tenure_months"] - 24)
        + 0.4 * (f["avg_delivery_days"] - 4.5)
        - 0.9 * math.log(f["monthly_spend"] / 180)
        + PLAN_EFFECT[f["plan"]]
        + REGION_EFFECT[f["region"]]
    )


def current_true_logit(f: dict[str, Any]) -> float:
    """October: a price rise makes big spenders leave; strike-driven tickets no longer predict churn."""
    return float(
        -1.05
        + 0.1 * (f["support_tickets_90d"] - 1.2)
        - 0.03 * (f["tenure_months"] - 24)
        + 0.4 * (f["avg_delivery_days"] - 4.5)
        + 1.2 * math.log(f["monthly_spend"] / 216)
        + PLAN_EFFECT[f["plan"]]
        + REGION_EFFECT[f["region"]]
    )


PERIODS = [
    Period(
        "reference",
        tuple(date(2026, 8, 3) + timedelta(weeks=w) for w in range(5)),
        {"Sudeste": 0.50, "Sul": 0.13, "Nordeste": 0.20, "Norte": 0.07, "Centro-Oeste": 0.10},
        1.0,
        None,
        model_logit,
    ),
    Period(
        "current",
        tuple(date(2026, 9, 28) + timedelta(weeks=w) for w in range(5)),
        {"Sudeste": 0.36, "Sul": 0.10, "Nordeste": 0.34, "Norte": 0.10, "Centro-Oeste": 0.10},
        1.2,
        0.5,
        current_true_logit,
    ),
]


def quotas(mix: dict[str, float], total: int) -> dict[str, int]:
    """Largest-remainder rounding of a mix to whole rows."""
    raw = {k: v * total for k, v in mix.items()}
    out = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (out[k] - raw[k], k))[: total - sum(out.values())]:
        out[k] += 1
    return out


@dataclass
class PredictionStats:
    rows: int = 0
    null_actual: int = 0
    accuracy: float = 0.0
    mean_spend: float = 0.0
    region_share: dict[str, float] = field(default_factory=dict)
    tickets_p99: int = 0


def make_predictions(rng: random.Random, customers: list[Customer], period: Period) -> tuple[pa.Table, PredictionStats]:
    by_region: dict[str, list[Customer]] = {r: [] for r in REGIONS}
    for c in customers:
        by_region[c.region].append(c)
    # The plan is a property of the customer, the same in both periods.
    plan_of = {
        c.customer_id: weighted(
            random.Random(f"plan:{c.customer_id}"), [("basic", 50), ("standard", 35), ("premium", 15)]
        )
        for c in customers
    }
    rows: list[dict[str, Any]] = []
    for run_index, run in enumerate(period.runs):
        started = datetime(run.year, run.month, run.day, 3, 0, tzinfo=UTC)
        scored = []
        for region, k in quotas(period.region_mix, PREDICTION_RUN_SIZE).items():
            scored.extend(rng.sample(by_region[region], k))
        scored.sort(key=lambda c: c.customer_id)
        for offset, c in enumerate(scored):
            if period.ticket_dispersion is None:
                tickets = poisson(rng, 1.2)
            else:
                shape = period.ticket_dispersion
                tickets = poisson(rng, rng.gammavariate(shape, 1.5 / shape))
            f: dict[str, Any] = {
                "customer_id": c.customer_id,
                "scored_at": started + timedelta(seconds=2 * offset),
                "tenure_months": min(120, int(rng.gammavariate(1.6, 15))),
                "monthly_spend": round(rng.lognormvariate(math.log(180), 0.55) * period.spend_factor, 2),
                "support_tickets_90d": tickets,
                "avg_delivery_days": round(max(1.0, rng.gammavariate(6, 0.75)), 1),
                "region": c.region,
                "plan": plan_of[c.customer_id],
            }
            score = sigmoid(model_logit(f))
            truth = sigmoid(period.true_logit(f) + rng.gauss(0, 0.3))
            actual: int | None = int(rng.random() < truth)
            # Churn labels need time to mature: the latest run has none yet, others miss a few.
            last_run = run_index == len(period.runs) - 1
            if period.name == "current" and (last_run or rng.random() < 0.03):
                actual = None
            f["prediction_score"] = round(score, 6)
            f["predicted_label"] = int(score >= 0.5)
            f["actual_label"] = actual
            f["model_version"] = MODEL_VERSION
            rows.append(f)
    labelled = [r for r in rows if r["actual_label"] is not None]
    ticket_counts = sorted(r["support_tickets_90d"] for r in rows)
    stats = PredictionStats(
        rows=len(rows),
        null_actual=len(rows) - len(labelled),
        accuracy=sum(r["predicted_label"] == r["actual_label"] for r in labelled) / len(labelled),
        mean_spend=sum(r["monthly_spend"] for r in rows) / len(rows),
        region_share={reg: sum(r["region"] == reg for r in rows) / len(rows) for reg in REGIONS},
        tickets_p99=ticket_counts[int(0.99 * len(ticket_counts))],
    )
    columns = {name: [r[name] for r in rows] for name in PREDICTION_SCHEMA.names}
    return pa.Table.from_pydict(columns, schema=PREDICTION_SCHEMA), stats


# -- main ----------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generate(out: Path) -> list[tuple[str, int, list[str]]]:
    """Write every file into ``out``; return (file name, rows, notes) per file."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, int, list[str]]] = []

    customers, customer_rows, cdef = make_customers(random.Random(SEEDS["customers"]))
    write_csv(out / "customers.csv", CUSTOMER_COLUMNS, customer_rows)
    n_alnum = sum(1 for c in customers if c.cnpj and any(ch.isalpha() for ch in c.cnpj))
    written.append(
        (
            "customers.csv",
            len(customer_rows),
            [
                f"{len(customers)} distinct customers, {sum(c.segment == 'business' for c in customers)} business ({n_alnum} alphanumeric CNPJ)",
                f"null email {len(cdef.null_email)}, malformed email {len(cdef.malformed_email)}, future birth_date {len(cdef.future_birth_date)}",
                f"duplicate rows {len(cdef.exact_duplicates) + len(cdef.changed_duplicates)} ({len(cdef.exact_duplicates)} exact, {len(cdef.changed_duplicates)} with one field changed)",
            ],
        )
    )

    products = make_products(random.Random(SEEDS["products"]))
    with (out / "products.json").open("w", encoding="utf-8", newline="\n") as fh:
        json.dump([p.record() for p in products], fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    written.append(("products.json", len(products), [f"{sum(p.active for p in products)} active"]))

    orders, odef = make_orders(random.Random(SEEDS["orders"]), customers, products)
    write_parquet(orders_table(orders), out / "orders.parquet")
    written.append(
        (
            "orders.parquet",
            len(orders),
            [
                f"orphan customer_id {len(odef.orphan_customer)}, negative quantity {len(odef.negative_quantity)}, "
                f"null product_id {len(odef.null_product)}, total_amount != quantity*unit_price {len(odef.total_mismatch)}",
                f"USD orders {sum(o.currency == 'USD' for o in orders)}",
            ],
        )
    )

    tickets, tstats = make_tickets(random.Random(SEEDS["support_tickets"]), customers, orders)
    with (out / "support_tickets.ndjson").open("w", encoding="utf-8", newline="\n") as fh:
        for ticket in tickets:
            fh.write(json.dumps(ticket, ensure_ascii=False, separators=(",", ":")) + "\n")
    written.append(
        (
            "support_tickets.ndjson",
            tstats.rows,
            [
                f"descriptions with PII: {tstats.with_any_pii} (email {tstats.with_email}, phone {tstats.with_phone}, CPF {tstats.with_cpf})",
                f"status {dict(sorted(tstats.status.items()))}, unanswered > 7 days {tstats.unanswered_sla_breach}",
            ],
        )
    )

    cost_rows = make_cloud_costs(random.Random(SEEDS["cloud_costs"]))
    write_csv(out / "cloud_costs_aws.csv", COST_COLUMNS, cost_rows)
    written.append(("cloud_costs_aws.csv", len(cost_rows), [f"{len(COST_SPIKES)} SageMaker cost spikes (team ml)"]))

    rng = random.Random(SEEDS["predictions"])
    for period in PERIODS:
        table, pstats = make_predictions(rng, customers, period)
        name = f"predictions_{period.name}.parquet"
        write_parquet(table, out / name)
        shares = ", ".join(f"{k} {v:.0%}" for k, v in pstats.region_share.items())
        written.append(
            (
                name,
                pstats.rows,
                [
                    f"accuracy {pstats.accuracy:.3f} on {pstats.rows - pstats.null_actual} labelled rows, null actual_label {pstats.null_actual}",
                    f"mean monthly_spend {pstats.mean_spend:.2f}, support_tickets_90d p99 {pstats.tickets_p99}; regions: {shares}",
                ],
            )
        )
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output folder (default: this script's folder)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    written = generate(out)
    total = 0
    print(f"wrote {len(written)} files to {out}")
    for name, rows, notes in written:
        path = out / name
        size = path.stat().st_size
        total += size
        print(f"  {name:<34} {rows:>7,} rows {size / 1024:>9,.1f} KiB  sha256 {sha256(path)[:16]}")
        for note in notes:
            print(f"      {note}")
    print(f"  total {total / 1024:,.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
