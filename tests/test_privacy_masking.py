"""Masking: the five methods, the key, masking by policy on reads and on promotion, the CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import odg_workbench as odg
from odg_workbench.governance.policy import PermissionDeniedError
from odg_workbench.privacy.masking import (
    MaskingError,
    MaskingKey,
    MaskingKeyError,
    MaskSpec,
    detokenize,
    generalize,
    hash_value,
    load_key,
    mask_table,
    partial,
    redact,
    tokenize,
)
from tests.conftest import SAMPLES, run_odg

KEY = "test-masking-key-0123456789abcdef"
OTHER_KEY = "another-masking-key-fedcba9876543210"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.0.2",
    "kind": "DataContract",
    "id": "urn:test:customers",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {"name": "customers", "properties": [{"name": "customer_id", "logicalType": "string", "required": True}]}
    ],
}


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> MaskingKey:
    monkeypatch.setenv("ODG_MASKING_KEY", KEY)
    return load_key()


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODG_MASKING_KEY", raising=False)


# -- the methods ---------------------------------------------------------------------------------


def test_hash_is_keyed_deterministic_and_keeps_nulls(key: MaskingKey) -> None:
    values = pa.chunked_array([["448.450.115-57", None, "a@b.com"], ["448.450.115-57"]])
    out = hash_value(values, key).to_pylist()
    assert out[1] is None and all(HEX64.match(v) for v in (out[0], out[2], out[3]))
    assert out[0] == out[3] != out[2]  # equal values keep joining
    assert out[0] == hmac.new(key.hash_key, b"448.450.115-57", hashlib.sha256).hexdigest()  # RFC 2104
    assert hash_value(values, MaskingKey(OTHER_KEY)).to_pylist()[0] != out[0]
    assert "448" not in "".join(v for v in out if v)
    # numbers hash by their text: the int 42 and the text "42" meet
    assert hash_value(pa.array([42]), key).to_pylist() == hash_value(pa.array(["42"]), key).to_pylist()


def test_redact_keeps_nulls_and_types() -> None:
    assert redact(pa.array(["Ana Lima", None, ""])).to_pylist() == ["***", None, "***"]
    out = redact(pa.array([1.5, 2.0]))
    assert out.type == pa.float64() and out.to_pylist() == [None, None]
    assert redact(pa.array(["x"], pa.large_string())).type == pa.large_string()


@pytest.mark.parametrize(
    ("value", "keep", "expected"),
    [
        pytest.param("448.450.115-57", 4, "***.***.**5-57", id="cpf"),
        pytest.param("4111 1111 1111 1111", 4, "**** **** **** 1111", id="card"),
        pytest.param("+55 81 99175-0803", 4, "+** ** *****-0803", id="phone"),
        pytest.param("ana@mail.com", 4, "***@****.com", id="email"),
        pytest.param("abc", 4, "abc", id="shorter-than-keep"),
        pytest.param("Ação 12", 2, "**** 12", id="unicode"),
        pytest.param("123-45-6789", 0, "***-**-****", id="keep-none"),
    ],
)
def test_partial_keeps_the_last_characters_and_the_punctuation(value: str, keep: int, expected: str) -> None:
    assert partial(pa.array([value, None]), keep).to_pylist() == [expected, None]


def test_partial_masks_numbers_as_text_and_rejects_bad_arguments() -> None:
    assert partial(pa.array([12345678901]), 2).to_pylist() == ["*********01"]
    with pytest.raises(MaskingError, match="partial keeps a number of characters >= 0"):
        partial(pa.array(["x"]), -1)


def test_tokens_reverse_with_the_key_only(key: MaskingKey) -> None:
    values = pa.array(["448.450.115-57", None, "448.450.115-57", "ana@mail.com"])
    tokens = tokenize(values, key)
    out = tokens.to_pylist()
    assert out[0] == out[2] and out[0].startswith("tok_") and out[1] is None
    assert "448" not in out[0]
    assert detokenize(tokens, key).to_pylist() == values.to_pylist()
    with pytest.raises(MaskingKeyError, match=r"cannot be decrypted with the masking key .*made with another key"):
        detokenize(tokens, MaskingKey(OTHER_KEY))
    with pytest.raises(MaskingError, match=r"'448.450.115-57' is not a token"):
        detokenize(pa.array(["448.450.115-57"]), key)
    forged = out[0][:-3] + ("AAA" if not out[0].endswith("AAA") else "BBB")
    with pytest.raises(MaskingKeyError):
        detokenize(pa.array([forged]), key)
    ints = tokenize(pa.array([7, 8]), key)
    assert detokenize(ints, key, type=pa.int64()).to_pylist() == [7, 8]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=20))
def test_tokenize_round_trips_any_text(values: list[str | None]) -> None:
    k = MaskingKey(KEY)
    arr = pa.array(values, type=pa.string())
    assert detokenize(tokenize(arr, k), k).to_pylist() == values
    hashed = hash_value(arr, k).to_pylist()
    assert [h is None for h in hashed] == [v is None for v in values]


def test_generalize_dates_timestamps_text_and_numbers() -> None:
    dates = generalize(pa.array([date(1979, 12, 13), None]))
    assert dates.type == pa.date32() and dates.to_pylist() == [date(1979, 1, 1), None]
    ts = pa.array([datetime(2020, 5, 3, 10, 0, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
    assert generalize(ts).to_pylist() == [datetime(2020, 1, 1, tzinfo=UTC)]
    assert generalize(pa.array(["1979-12-13", "13/12/1979", None])).to_pylist() == ["1979", None, None]
    assert generalize(pa.array([37, 40, -3, None])).to_pylist() == ["[30, 40)", "[40, 50)", "[-10, 0)", None]
    assert generalize(pa.array([37.5, 2.25]), 2.5).to_pylist() == ["[37.5, 40)", "[0, 2.5)"]
    with pytest.raises(MaskingError, match="generalize takes dates, timestamps, numbers or ISO date text"):
        generalize(pa.array([True]))
    with pytest.raises(MaskingError, match="width > 0"):
        generalize(pa.array([1]), 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "hashh", "unknown masking method 'hashh'; known: hash, redact, partial, tokenize, generalize", id="typo"
        ),
        pytest.param("hash:3", "hash takes no argument", id="arg"),
        pytest.param("partial:x", "partial takes a number", id="nan"),
        pytest.param("partial:2.5", "partial keeps a whole number", id="fraction"),
    ],
)
def test_bad_method_specs_say_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(MaskingError, match=re.escape(message)):
        MaskSpec.parse(text)


def test_mask_table_masks_named_columns_and_checks_them(key: MaskingKey) -> None:
    t = pa.table({"cpf": ["448.450.115-57"], "dob": [date(1990, 5, 1)], "n": [1]})
    out = mask_table(t, {"cpf": "partial:2", "dob": "generalize"}, key)
    assert out.to_pylist() == [{"cpf": "***.***.***-57", "dob": date(1990, 1, 1), "n": 1}]
    with pytest.raises(MaskingError, match=r"names column\(s\) cpf_number that the table does not have"):
        mask_table(t, {"cpf_number": "hash"}, key)
    with pytest.raises(MaskingError, match=r"column n: generalize"):
        mask_table(pa.table({"n": [True]}), {"n": "generalize"}, key)


# -- the key ------------------------------------------------------------------------------------------


def test_a_missing_key_is_a_clear_error(no_key: None) -> None:
    with pytest.raises(MaskingKeyError) as err:
        hash_value(pa.array(["x"]), lambda: load_key())
    assert "no masking key" in err.value.message and "ODG_MASKING_KEY" in err.value.message
    with pytest.raises(MaskingKeyError, match="is 5 characters long; use at least 16"):
        MaskingKey("short")
    assert repr(MaskingKey(KEY)) == "MaskingKey(source='a key given in code')"


def test_the_key_comes_from_the_configured_variable_or_file(
    ws: odg.Workbench, no_key: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ws.config.set("privacy.masking_key_env", "TEAM_PII_KEY")
    with pytest.raises(MaskingKeyError, match="the environment variable TEAM_PII_KEY"):
        load_key(ws)
    secret = tmp_path / "key.txt"
    secret.write_text(KEY + "\n")
    ws.config.set("privacy.masking_key_file", str(secret))
    from_file = load_key(ws)
    assert (
        hash_value(pa.array(["x"]), from_file).to_pylist() == hash_value(pa.array(["x"]), MaskingKey(KEY)).to_pylist()
    )
    monkeypatch.setenv("TEAM_PII_KEY", OTHER_KEY)
    assert load_key(ws).source == "$TEAM_PII_KEY"


# -- masking by policy ----------------------------------------------------------------------------


class Lake:
    """The sample customers; root is an admin; ana Responsible, bia Accountable, caio Informed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, odg.Workbench] = {}

    def as_(self, user: str) -> odg.Workbench:
        if user not in self._open:
            self._open[user] = odg.open(self.root, user=user)
        return self._open[user]

    def close(self) -> None:
        for wb in self._open.values():
            wb.close()


@pytest.fixture
def lake(tmp_path: Path, key: MaskingKey) -> Iterator[Lake]:
    root = tmp_path / "ws"
    setup = odg.open(root, user="root")
    setup.config.set("governance.admins", "root")
    setup.config.save()
    setup.close()
    lk = Lake(root)
    wb = lk.as_("root")
    wb.ingest(SAMPLES / "customers.csv", "bronze.customers")
    wb.raci.set("dataset:bronze.customers", responsible="ana", accountable="bia", informed="caio")
    yield lk
    lk.close()


def first(wb: odg.Workbench, table: pa.Table, customer: str = "C00001") -> dict[str, Any]:
    """The first row of ``customer`` (the sample has a few duplicated customers)."""
    rows: list[dict[str, Any]] = [r for r in table.to_pylist() if r["customer_id"] == customer]
    return rows[0]


def test_non_owners_read_personal_data_masked(lake: Lake) -> None:
    lake.as_("root").classifications.set("bronze.customers", "restricted", "BR")
    caio = lake.as_("caio")
    plan = caio.masking.plan("bronze.customers")
    assert plan == {
        "address": "redact",
        "birth_date": "generalize",
        "cnpj": "hash",
        "cpf": "hash",
        "email": "hash",
        "full_name": "redact",
        "phone": "partial:4",
        "postal_code": "redact",
    }
    row = first(caio, caio.masking.read("bronze.customers"))
    assert row["full_name"] == "***" and row["address"] == "***"
    assert HEX64.match(row["cpf"]) and HEX64.match(row["email"])
    assert row["phone"] == "+* ***-***-0115" and row["birth_date"] == date(1979, 1, 1)
    assert row["city"] == "Uberlândia" and row["segment"] == "retail"  # not personal data
    explained = caio.masking.explain("bronze.customers")
    assert not explained.unmasked and "caio holds informed" in " ".join(explained.reasons)


@pytest.mark.parametrize("user", ["ana", "bia", "root"])
def test_owners_and_admins_read_unmasked_and_are_audited(lake: Lake, user: str) -> None:
    lake.as_("root").classifications.set("bronze.customers", "restricted", "BR")
    wb = lake.as_(user)
    assert wb.masking.plan("bronze.customers") == {}
    row = first(wb, wb.masking.read("bronze.customers", columns=["customer_id", "cpf", "email", "city"]))
    assert (row["cpf"], row["email"]) == ("448.450.115-57", "rafaela.monteiro@gmail.com")
    [record] = wb.audit.records(type_prefix="privacy.unmasked_read")
    assert record.payload["reader"] == user and record.payload["columns"] == ["cpf", "email"]


def test_unknown_users_read_masked(lake: Lake) -> None:
    lake.as_("root").classifications.set("bronze.customers", "confidential", "BR")
    wb = lake.as_("mallory")
    assert wb.masking.plan("bronze.customers")["cpf"] == "hash"
    assert "holds no role in any RACI assignment" in " ".join(wb.masking.explain("bronze.customers").reasons)


def test_unclassified_tables_are_masked_by_their_suggestion(lake: Lake) -> None:
    caio = lake.as_("caio")
    plan = caio.masking.explain("bronze.customers")
    assert plan.classification is not None and plan.classification.source == "suggested"
    assert plan.columns["cpf"] == "hash" and plan.columns["email"] == "hash"


def test_level_and_jurisdiction_scope_come_from_settings(lake: Lake) -> None:
    root = lake.as_("root")
    root.classifications.set("bronze.customers", "confidential", "BR")
    caio = lake.as_("caio")
    caio.config.set("privacy.mask_level", "Restricted")
    assert caio.masking.plan("bronze.customers") == {}
    assert "below privacy.mask_level" in caio.masking.explain("bronze.customers").reasons[0]
    caio.config.set("privacy.mask_level", "Confidential")
    caio.config.set("privacy.mask_jurisdictions", "EU,US")
    assert caio.masking.plan("bronze.customers") == {}
    caio.config.set("privacy.mask_jurisdictions", "BR")
    caio.config.set("privacy.masking_methods", "EMAIL=partial:4, br_cpf=tokenize, DATE_OF_BIRTH=generalize")
    plan = caio.masking.plan("bronze.customers")
    assert (plan["email"], plan["cpf"]) == ("partial:4", "tokenize")
    caio.config.set("privacy.masking_methods", "EMAIL")
    with pytest.raises(MaskingError, match=r"privacy.masking_methods: 'EMAIL' is not ENTITY=METHOD"):
        caio.masking.plan("bronze.customers")


# -- masking on promotion -------------------------------------------------------------------------------


def test_promotion_of_a_classified_table_writes_masked_data(lake: Lake) -> None:
    root = lake.as_("root")
    root.classifications.set("bronze.customers", "restricted", "BR")
    events: list[Any] = []
    root.events.subscribe(events.append, "promotion.completed")
    result = root.promote("bronze.customers", "silver", contract=CONTRACT)
    assert result.status == "promoted" and result.rows == 2010
    silver = root.table("silver.customers")
    props = silver.snapshots()[-1].summary
    masked = json.loads(props["odg.masked-columns"])
    assert masked["cpf"] == "hash" and masked["full_name"] == "redact" and masked["phone"] == "partial:4"
    assert events[0].payload["masked_columns"] == masked
    row = first(root, silver.to_arrow())  # stored masked: even an admin reads pseudonyms from Silver
    assert HEX64.match(row["cpf"]) and row["full_name"] == "***" and row["birth_date"] == date(1979, 1, 1)
    bronze_cpfs = set(root.table("bronze.customers").to_arrow(columns=["cpf"]).column(0).to_pylist())
    assert not bronze_cpfs & set(silver.to_arrow(columns=["cpf"]).column(0).to_pylist())
    # pseudonyms still join: the same CPF hashes the same in a non-owner's masked read of Bronze
    caio_row = first(lake.as_("caio"), lake.as_("caio").masking.read("bronze.customers"))
    assert caio_row["cpf"] == row["cpf"]
    # the stored masked columns are not masked twice on read
    silver_plan = lake.as_("caio").masking.explain("silver.customers")
    assert "cpf" not in silver_plan.columns and silver_plan.stored["cpf"] == "hash"


def test_unclassified_promotions_are_unchanged(lake: Lake) -> None:
    root = lake.as_("root")
    root.promote("bronze.customers", "silver", contract=CONTRACT)
    summary = root.table("silver.customers").snapshots()[-1].summary
    assert "odg.masked-columns" not in summary
    assert first(root, root.table("silver.customers").to_arrow())["cpf"] == "448.450.115-57"


def test_a_missing_key_aborts_the_promotion_and_writes_nothing(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    root = lake.as_("root")
    root.promote("bronze.customers", "silver", contract=CONTRACT)  # before classification: plain copy
    snapshots_before = len(root.table("silver.customers").snapshots())
    root.classifications.set("bronze.customers", "restricted", "BR")
    monkeypatch.delenv("ODG_MASKING_KEY")
    with pytest.raises(MaskingKeyError, match="no masking key"):
        root.promote("bronze.customers", "silver", contract=CONTRACT)
    silver = root.table("silver.customers").refresh()
    assert len(silver.snapshots()) == snapshots_before
    assert root.audit.records(type_prefix="promotion.completed", resource="silver.customers").__len__() == 1
    # with the key, the same source snapshot is promoted again, now masked (the plan changed)
    monkeypatch.setenv("ODG_MASKING_KEY", KEY)
    again = root.promote("bronze.customers", "silver", contract=CONTRACT)
    assert again.status == "promoted"
    assert HEX64.match(first(root, root.table("silver.customers").to_arrow())["cpf"])
    assert root.promote("bronze.customers", "silver", contract=CONTRACT).status == "already_promoted"


def test_a_renamed_personal_column_is_still_masked(lake: Lake) -> None:
    root = lake.as_("root")
    root.classifications.set("bronze.customers", "restricted", "BR")
    sql = "SELECT customer_id, cpf AS tax_id, city FROM {source}"
    root.promote("bronze.customers", "silver", contract=CONTRACT, transform=sql)
    silver = root.table("silver.customers")
    masked = json.loads(silver.snapshots()[-1].summary["odg.masked-columns"])
    assert masked == {"tax_id": "hash"}
    assert all(HEX64.match(v) for v in silver.to_arrow(columns=["tax_id"]).column(0).to_pylist() if v)


def test_tokenized_columns_are_revealed_to_owners_only(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    root = lake.as_("root")
    root.config.set("privacy.masking_methods", "BR_CPF=tokenize")
    root.config.save()
    root.classifications.set("bronze.customers", "restricted", "BR")
    root.promote("bronze.customers", "silver", contract=CONTRACT)
    root.raci.set("dataset:silver.customers", responsible="ana", informed="caio")
    ana, caio = lake.as_("ana"), lake.as_("caio")
    stored = first(ana, ana.table("silver.customers").to_arrow())["cpf"]
    assert stored.startswith("tok_")
    revealed = first(ana, ana.masking.read("silver.customers", reveal=True))
    assert revealed["cpf"] == "448.450.115-57"
    assert ana.masking.detokenize("silver.customers", [stored]) == ["448.450.115-57"]
    assert ana.audit.records(type_prefix="privacy.detokenized")[0].payload == {"reader": "ana", "count": 1}
    with pytest.raises(PermissionDeniedError, match="read_unmasked_needs_owner"):
        caio.masking.read("silver.customers", reveal=True)
    with pytest.raises(PermissionDeniedError):
        caio.masking.detokenize("silver.customers", [stored])
    assert first(caio, caio.masking.read("silver.customers"))["cpf"] == stored  # still the token
    monkeypatch.setenv("ODG_MASKING_KEY", OTHER_KEY)
    with pytest.raises(MaskingKeyError, match="made with another key"):
        ana.masking.detokenize("silver.customers", [stored])


def test_the_key_never_reaches_audit_events_or_errors(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    root = lake.as_("root")
    root.config.set("privacy.masking_methods", "BR_CPF=tokenize")
    root.classifications.set("bronze.customers", "restricted", "BR")
    root.promote("bronze.customers", "silver", contract=CONTRACT)
    lake.as_("caio").masking.read("bronze.customers")
    monkeypatch.setenv("ODG_MASKING_KEY", OTHER_KEY)
    with pytest.raises(MaskingKeyError) as err:
        root.masking.read("silver.customers", reveal=True)
    text = json.dumps([r.to_dict() for r in root.audit.records()]) + json.dumps(err.value.to_dict())
    assert KEY not in text and OTHER_KEY not in text and "masked_columns" in text


# -- CLI --------------------------------------------------------------------------------------------------


def test_cli_mask_plan_and_read_follow_the_acting_user(lake: Lake) -> None:
    lake.as_("root").classifications.set("bronze.customers", "restricted", "BR")
    env = {"ODG_MASKING_KEY": KEY}
    plan = json.loads(
        run_odg(
            "privacy", "mask-plan", "bronze.customers", "--as", "caio", "--json", workspace=lake.root, env=env
        ).stdout
    )
    assert plan["plan"]["cpf"] == "hash" and plan["entities"]["cpf"] == "BR_CPF" and plan["unmasked"] is False
    assert plan["classification"]["level"] == "Restricted"
    read = json.loads(
        run_odg(
            "privacy",
            "read",
            "bronze.customers",
            "--as",
            "caio",
            "--limit",
            "3",
            "--json",
            workspace=lake.root,
            env=env,
        ).stdout
    )
    assert len(read["rows"]) == 3 and read["masked"]["cpf"] == "hash"
    assert all(HEX64.match(r["cpf"]) and r["full_name"] == "***" for r in read["rows"])
    owner = json.loads(
        run_odg("privacy", "read", "bronze.customers", "--as", "bia", "-n", "1", "--json", workspace=lake.root).stdout
    )
    assert owner["masked"] == {} and owner["rows"][0]["cpf"] == "448.450.115-57"


def test_cli_missing_key_and_detokenize(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    root = lake.as_("root")
    root.config.set("privacy.masking_methods", "BR_CPF=tokenize")
    root.config.save()
    root.classifications.set("bronze.customers", "restricted", "BR")
    monkeypatch.delenv("ODG_MASKING_KEY")
    proc = run_odg("privacy", "read", "bronze.customers", "--as", "caio", "--json", workspace=lake.root, check=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["error"]["type"] == "MaskingKeyError"
    monkeypatch.setenv("ODG_MASKING_KEY", KEY)
    root.promote("bronze.customers", "silver", contract=CONTRACT)
    token = first(root, root.table("silver.customers").to_arrow())["cpf"]
    out = json.loads(
        run_odg(
            "privacy", "detokenize", "silver.customers", token, "--as", "root", "--json", workspace=lake.root
        ).stdout
    )
    assert out["values"] == {token: "448.450.115-57"}
    denied = run_odg(
        "privacy", "detokenize", "silver.customers", token, "--as", "caio", "--json", workspace=lake.root, check=False
    )
    assert denied.returncode == 1 and json.loads(denied.stdout)["error"]["type"] == "PermissionDeniedError"
