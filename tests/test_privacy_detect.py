"""PII detection: entity types, look-alikes, free text, sources, the CLI, bad input, the labeled set."""

from __future__ import annotations

import importlib.util
import json
import time
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.privacy import ENTITY_TYPES, detect_text, pii_masker, scan
from odg_workbench.privacy import recognizers as rec
from odg_workbench.privacy.detect import ScanError
from tests.conftest import REPO, run_odg

LABELED = REPO / "data" / "privacy"


def _labeled() -> ModuleType:
    spec = importlib.util.spec_from_file_location("odg_privacy_labeled", LABELED / "labeled.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entities(values: list[Any], column: str = "col_x", **kwargs: Any) -> set[str]:
    return scan(pa.table({column: values}), **kwargs).entities(column)


# -- one entity type at a time ------------------------------------------------------------------

POSITIVES = [
    pytest.param("EMAIL", "contato", ["ana@example.com", "joao.silva@empresa.com.br", "x_y+z@mail.co.uk"], id="email"),
    pytest.param(
        "PHONE", "col_x", ["(11) 98765-4321", "+55 21 3456-7890", "11987654321", "+55 (31) 99876-5432"], id="phone-br"
    ),
    pytest.param(
        "PHONE", "col_x", ["(415) 555-2671", "212-555-0188", "+1 646 555 0100", "303.555.0142"], id="phone-us"
    ),
    pytest.param(
        "PHONE",
        "col_x",
        ["+44 20 7946 0958", "+4915112345678", "+33 1 23 45 67 89", "+351 21 234 5678"],
        id="phone-e164",
    ),
    pytest.param(
        "BR_CPF", "col_x", ["529.982.247-25", "111.444.777-35", "390.533.447-05", "935.411.347-80"], id="cpf-formatted"
    ),
    pytest.param("BR_CPF", "col_x", ["52998224725", "11144477735", "39053344705", "93541134780"], id="cpf-bare"),
    pytest.param(
        "BR_CNPJ", "col_x", ["11.222.333/0001-81", "11222333000181", "45.723.174/0001-10", "45723174000110"], id="cnpj"
    ),
    pytest.param(
        "BR_CNPJ",
        "col_x",
        ["12.ABC.345/01DE-35", "12ABC34501DE35", "12.ABC.345/01DE-35", "12ABC34501DE35"],
        id="cnpj-alphanumeric",
    ),
    pytest.param(
        "CREDIT_CARD",
        "col_x",
        ["4111 1111 1111 1111", "5500-0000-0000-0004", "340000000000009", "6011000000000004"],
        id="card",
    ),
    pytest.param(
        "IBAN",
        "col_x",
        [
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "FR1420041010050500013M02606",
            "GB33BUKB20201555555555",
        ],
        id="iban",
    ),
    pytest.param("US_SSN", "col_x", ["536-22-1234", "123-45-6780", "219-09-9998", "001-01-0001"], id="ssn"),
    pytest.param(
        "IP_ADDRESS", "col_x", ["192.168.0.1", "2001:db8::1", "10.0.0.5", "fe80::1ff:fe23:4567:890a"], id="ip"
    ),
    pytest.param(
        "PERSON_NAME", "col_x", ["Maria Silva", "João da Silva", "John Smith", "GARCÍA LÓPEZ, Juan"], id="names"
    ),
    pytest.param(
        "PERSON_NAME",
        "nome",
        ["Hiroshi Tanaka", "Yuki Nakamura", "Maria Silva", "Kenji Sato"],
        id="names-by-column-name",
    ),
    pytest.param(
        "DATE_OF_BIRTH", "data_nascimento", [date(1980, 1, 2), date(1955, 3, 4), date(2001, 5, 6)], id="dob-dates"
    ),
    pytest.param("DATE_OF_BIRTH", "dob", ["14/03/1985", "02/11/1970", "30/06/1999"], id="dob-strings"),
    pytest.param(
        "ADDRESS",
        "col_x",
        ["Rua Augusta, 1500", "Av. Paulista, 1000 - Bela Vista", "221B Baker Street", "01310-100"],
        id="address",
    ),
]


@pytest.mark.parametrize(("entity", "column", "values"), POSITIVES)
def test_each_entity_type_is_detected(entity: str, column: str, values: list[Any]) -> None:
    report = scan(pa.table({column: values * 5}))
    found = report.columns[column]
    assert [f.entity for f in found][:1] == [entity]
    f = found[0]
    assert 0.5 <= f.confidence <= 1
    assert f.evidence["matched"] == len(values) * 5 and f.evidence["sampled"] == len(values) * 5
    assert f.evidence["match_share"] == 1.0
    # examples never show the values whole
    assert f.evidence["examples_masked"] and all("*" in e for e in f.evidence["examples_masked"])


def test_name_evidence_raises_confidence_and_reads_pt_en_names() -> None:
    values = ["529.982.247-25", "x", "y", "z", "w"]
    named = scan(pa.table({"cpf": values})).columns["cpf"]
    assert [f.entity for f in named] == ["BR_CPF"] and named[0].evidence["name_match"] == "strong"
    assert entities(values) == set()  # 1 in 5 without the name says little
    hints = {
        c: set(rec.name_evidence(c))
        for c in ["DataNascimento", "e-mail", "Telefone Celular", "endereço", "product_name", "order_date"]
    }
    assert hints["DataNascimento"] == {"DATE_OF_BIRTH"}
    assert hints["e-mail"] == {"EMAIL"}
    assert hints["Telefone Celular"] == {"PHONE"}
    assert hints["endereço"] == {"ADDRESS"}
    assert hints["product_name"] == set() and hints["order_date"] == set()


# -- look-alikes ------------------------------------------------------------------------------------


def test_look_alikes_are_not_flagged() -> None:
    lab = _labeled()
    import random

    r = random.Random(7)
    table = pa.table(
        {
            "codes_11": [lab.bad_cpf_digits(r) for _ in range(300)],
            "codes_14": [lab.bad_cnpj(r) for _ in range(300)],
            "numbers_16": [lab.bad_card(r) for _ in range(300)],
            "same_digit": ["111.111.111-11", "00000000000", "22222222222"] * 100,
            "timestamps": [f"2024-03-{d:02d} {h:02d}:15:00" for d in range(1, 31) for h in range(10)],
            "ts_typed": pa.array([datetime(2024, 1, 1, 9 + i % 8, i % 60) for i in range(300)], pa.timestamp("us")),
            "order_date": [date(2024, 1, 1 + i % 28) for i in range(300)],
            "sku": [f"SKU-{10000 + i}-BR" for i in range(300)],
            "words": [r.choice(["casa", "mesa", "blue", "river", "azul"]) for _ in range(300)],
            "versions": [f"{i % 9}.{i % 20}.{i % 7}" for i in range(300)],
        }
    )
    report = scan(table)
    assert report.pii_columns == {}
    assert all(v == [] for v in report.columns.values())


def test_a_timestamp_is_not_a_birth_date_but_a_midnight_date_of_birth_is() -> None:
    assert rec.parse_date("1985-03-14 10:22:33") is None
    assert rec.parse_date(datetime(1985, 3, 14, 10, 22)) is None
    assert rec.parse_date(datetime(1985, 3, 14)) == date(1985, 3, 14)
    assert not rec.plausible_birth_date("1850-01-01")  # older than 120 years
    assert not rec.plausible_birth_date(date(date.today().year + 1, 1, 1))  # in the future
    # birth-like dates found by their values alone, not when the name says otherwise
    births = [date(1950 + (i * 7) % 55, 1 + i % 12, 1 + i % 28) for i in range(200)]
    assert entities(births, "col_d") == {"DATE_OF_BIRTH"}
    assert entities(births, "created_at") == set()
    assert entities([date(2024, 1, 1 + i % 28) for i in range(200)], "col_d") == set()


def test_checksums_decide() -> None:
    assert rec.value_matches("BR_CPF", "529.982.247-25") and not rec.value_matches("BR_CPF", "529.982.247-24")
    assert not rec.value_matches("BR_CPF", "111.111.111-11")
    assert rec.value_matches("BR_CNPJ", "12.ABC.345/01DE-35") and not rec.value_matches("BR_CNPJ", "12.ABC.345/01DE-36")
    assert rec.is_valid_card("4111111111111111") and not rec.is_valid_card("4111111111111112")
    assert not rec.is_valid_card("9111111111111119")  # Luhn-valid, but no issuer starts with 9
    assert rec.is_valid_iban("DE89 3704 0044 0532 0130 00") and not rec.is_valid_iban("DE88 3704 0044 0532 0130 00")
    assert not rec.is_valid_iban("DE89 3704 0044 0532 0130")  # German IBANs have 22 characters
    assert rec.is_valid_ssn("536-22-1234")
    assert not any(
        rec.is_valid_ssn(v) for v in ["000-12-3456", "666-12-3456", "912-12-3456", "536-00-1234", "536-22-0000"]
    )
    assert rec.is_ip("2001:db8::1") and not rec.is_ip("12:30:45") and not rec.is_ip("1.2.3")
    # a bare 10-digit number is a phone only in a column named for phones
    assert not rec.is_phone("4155552671") and rec.is_phone("4155552671", loose=True)


def test_integers_lose_leading_zeros_and_are_still_cpfs() -> None:
    cpfs = [int(v) for v in ["01234567890", "52998224725", "11144477735", "03906838029"] if rec.is_valid_cpf(v)]
    assert entities(cpfs * 10) == {"BR_CPF"}
    assert entities(list(range(10**10, 10**10 + 400))) == set()


# -- free text -----------------------------------------------------------------------------------


def test_detect_text_finds_each_kind_of_span() -> None:
    text = (
        "Fale com Maria Souza pelo email maria@x.com ou (11) 98765-4321, CPF 52998224725, "
        "nascida em 14/03/1985, mora na Rua Augusta, 1500; cartão 4111 1111 1111 1111, IP 10.1.2.3"
    )
    spans = detect_text(text)
    found = {s.entity: text[s.start : s.end] for s in spans}
    assert found == {
        "PERSON_NAME": "Maria Souza",
        "EMAIL": "maria@x.com",
        "PHONE": "(11) 98765-4321",
        "BR_CPF": "52998224725",
        "DATE_OF_BIRTH": "14/03/1985",
        "ADDRESS": "Rua Augusta, 1500",
        "CREDIT_CARD": "4111 1111 1111 1111",
        "IP_ADDRESS": "10.1.2.3",
    }
    assert all(0 < s.confidence <= 1 for s in spans)


def test_detect_text_skips_look_alikes() -> None:
    text = "Pedido 47910882731 entregue em 12/03/2025 às 10:30, lote 4111111111111112, versão 1.2.3"
    assert detect_text(text) == []


def test_free_text_column_gets_the_entities_inside_it() -> None:
    texts = [
        "Cliente pediu retorno pelo e-mail ana@example.org amanhã",
        "Ligar para (21) 99876-5432 depois das 14h",
        "Nota fiscal emitida para o CPF 529.982.247-25 conforme solicitado",
        "Pedido entregue sem problemas, cliente satisfeito",
    ] * 25
    report = scan(pa.table({"comentario": texts}))
    assert report.entities("comentario") == {"EMAIL", "PHONE", "BR_CPF"}
    f = {x.entity: x for x in report.columns["comentario"]}["EMAIL"]
    assert f.evidence["mode"] == "text" and f.evidence["in_text"] == 25


def test_enormous_text_takes_bounded_time() -> None:
    huge = ("palavra " * 1_000_000) + " ana@example.com"  # 8 MB, the e-mail past the limit
    t0 = time.perf_counter()
    assert detect_text(huge) == []
    assert [s.entity for s in detect_text(huge, max_chars=0)] == ["EMAIL"]
    report = scan(pa.table({"texto": [huge] * 3 + ["ana@example.com está aqui agora"]}))
    assert time.perf_counter() - t0 < 20
    assert report.rows_scanned == 4


# -- sources --------------------------------------------------------------------------------------


def _people() -> pa.Table:
    return pa.table(
        {
            "cpf": ["529.982.247-25", "111.444.777-35", "390.533.447-05"] * 40,
            "email": ["ana@example.com", "bob@example.org", "carla@empresa.com.br"] * 40,
            "amount": [1.5, 2.25, 3.0] * 40,
        }
    )


def test_workspace_table_at_a_snapshot(ws: odg.Workbench) -> None:
    ws.ingest(pa.table({"code": ["A1", "B2", "C3"] * 40}), "bronze.people")
    first = ws.table("bronze.people").current_snapshot_id
    ws.ingest(_people(), "bronze.people", mode="overwrite")
    report = scan("bronze.people", workbench=ws)
    assert report.pii_columns == {"cpf": ["BR_CPF"], "email": ["EMAIL"]}
    assert report.rows_total == 120 and report.snapshot_id == ws.table("bronze.people").current_snapshot_id
    old = scan("bronze.people", workbench=ws, as_of=first)
    assert old.pii_columns == {} and old.snapshot_id == first and "cpf" not in old.columns


def test_samples_a_big_table_without_reading_every_row(ws: odg.Workbench) -> None:
    ws.ingest(
        pa.table({"email": [f"user{i}@example.com" for i in range(30_000)], "n": list(range(30_000))}), "bronze.big"
    )
    report = scan("bronze.big", workbench=ws, sample_rows=500)
    assert (report.rows_scanned, report.rows_total) == (500, 30_000)
    assert report.entities("email") == {"EMAIL"} and report.entities("n") == set()


def test_files_and_frames(tmp_path: Path) -> None:
    import polars as pl
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    data = _people()
    pq.write_table(data, tmp_path / "p.parquet")
    # CSV keeps the leading zeros of bare CPFs (read as text, never as numbers)
    pacsv.write_csv(pa.table({"doc": ["01234567890", "03906838029"] * 30}), tmp_path / "docs.csv")
    expected = {"cpf": ["BR_CPF"], "email": ["EMAIL"]}
    assert scan(tmp_path / "p.parquet").pii_columns == expected
    assert scan(str(tmp_path / "p.parquet"), columns=["email"]).pii_columns == {"email": ["EMAIL"]}
    assert scan(tmp_path / "docs.csv").pii_columns == {"doc": ["BR_CPF"]}
    assert scan(pl.from_arrow(data)).pii_columns == expected
    assert scan(data.to_pandas()).pii_columns == expected


# -- bad input ------------------------------------------------------------------------------------


def test_bad_columns_give_empty_findings() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "blob": [b"\x00\x01\xff", b"ana@example.com", None, b"x"] * 10,
            "empty": [None] * 40,
            "mixed": [1, "casa", 2.5, None, date(2020, 1, 1)] * 8,
            "flags": [True, False, True, None] * 10,
        }
    )
    report = scan(frame)
    assert report.columns == {"blob": [], "empty": [], "mixed": [], "flags": []}
    assert "binary" in report.skipped["blob"]
    # an empty table, and an all-null column named for personal data
    assert scan(pa.table({"email": pa.array([], pa.string())})).columns == {"email": []}
    assert scan(pa.table({"email": pa.array([None] * 5, pa.string())})).columns == {"email": []}
    # a mixed column with e-mails among its values is an e-mail column
    assert scan(pd.DataFrame({"m": ["a@b.com", 7, "c@d.org", 2.5, "e@f.net", None] * 5})).entities("m") == {"EMAIL"}


def test_bad_sources_name_what_is_wrong(ws: odg.Workbench, tmp_path: Path) -> None:
    with pytest.raises(ScanError, match="open a workspace"):
        scan("bronze.people")
    with pytest.raises(OSError, match="no such file or table"):
        scan(tmp_path / "missing.parquet")
    with pytest.raises(ScanError, match=r"no column 'nope'; columns: cpf, email, amount"):
        scan(_people(), columns=["nope"])
    with pytest.raises(ValueError, match="cannot scan a int"):
        scan(42)
    with pytest.raises(ScanError, match="sample_rows must be at least 1"):
        scan(_people(), sample_rows=0)


# -- masking of quality samples -------------------------------------------------------------------


def test_pii_masker() -> None:
    assert pii_masker("email", "not-an-email") == "***"  # the column says it
    assert pii_masker("valor", "529.982.247-25") == "***"  # the value says it
    assert pii_masker("valor", 52998224725) == "***"
    assert pii_masker("valor", "529.982.247-24") == "529.982.247-24"  # fails the checksum
    assert pii_masker("obs", "ligue (11) 98765-4321 hoje por favor") == "ligue *** hoje por favor"
    assert pii_masker("score", 200) == 200 and pii_masker("product_name", "Caneta Azul") == "Caneta Azul"
    assert pii_masker("salario", 1000) == "***" and pii_masker("x", None) is None


def test_quality_samples_are_masked_by_the_detector() -> None:
    from odg_workbench.quality import check

    data = pa.table(
        {
            "cliente": ["Maria Silva", "John Smith"],
            "ref": ["52998224725", "529.982.247-24"],
            "obs": ["email ana@x.com por favor obrigado", "sem dados pessoais aqui"],
            "score": [1, 200],
        }
    )
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "t",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "t",
                "properties": [
                    {"name": "cliente", "logicalType": "string"},
                    {"name": "ref", "logicalType": "string"},
                    {"name": "obs", "logicalType": "string"},
                    {"name": "score", "logicalTypeOptions": {"maximum": 100}, "logicalType": "integer"},
                ],
            }
        ],
    }
    report = check(data, contract, save=False)
    sample = next(o for o in report.outcomes if not o.passed).samples
    assert sample == [{"score": 200, "cliente": "***", "ref": "529.982.247-24", "obs": "sem dados pessoais aqui"}]


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_json_shape(ws: odg.Workbench, tmp_path: Path) -> None:
    ws.ingest(_people(), "bronze.people")
    out = run_odg("privacy", "scan", "bronze.people", "--json", workspace=ws.root)
    doc = json.loads(out.stdout)
    assert set(doc["columns"]) >= {"cpf", "email", "amount"}
    assert doc["columns"]["amount"] == []
    (cpf,) = doc["columns"]["cpf"]
    assert cpf["entity"] == "BR_CPF" and 0.5 <= cpf["confidence"] <= 1
    assert doc["rows_total"] == 120 and doc["rows_scanned"] == 120
    # a file, without a workspace, with a sample size; and the human table
    import pyarrow.parquet as pq

    pq.write_table(_people(), tmp_path / "p.parquet")
    doc = json.loads(run_odg("privacy", "scan", str(tmp_path / "p.parquet"), "--sample-rows", "10", "--json").stdout)
    assert doc["rows_scanned"] == 10 and [f["entity"] for f in doc["columns"]["email"]] == ["EMAIL"]
    text = run_odg("privacy", "scan", "bronze.people", workspace=ws.root).stdout
    assert "BR_CPF" in text and "EMAIL" in text and "120 of 120 rows" in text


def test_cli_errors(ws: odg.Workbench) -> None:
    out = run_odg("privacy", "scan", "bronze.nope", "--json", workspace=ws.root, check=False)
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["type"] == "TableNotFoundError"


# -- the labeled set ------------------------------------------------------------------------------


def test_labeled_set_is_reproducible() -> None:
    lab = _labeled()
    table, truth = lab.load()
    cols, built = lab.build()
    assert built == truth
    assert lab.to_arrow(cols).equals(table)


def test_precision_and_recall_on_the_labeled_set() -> None:
    lab = _labeled()
    table, truth = lab.load()
    scores = lab.evaluate_ours(table, truth)["scores"]
    for level in ("column", "cell"):
        for entity in ENTITY_TYPES:
            s = scores[level][entity]
            assert s["tp"] > 0, (level, entity)
            assert s["precision"] >= 0.95 and s["recall"] >= 0.95, (level, entity, s)
