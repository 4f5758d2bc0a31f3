"""Classification levels and jurisdictions: suggestions from real detection, owners only, audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import odg_workbench as odg
from odg_workbench.errors import TableNotFoundError
from odg_workbench.governance.policy import PermissionDeniedError
from odg_workbench.privacy.classification import (
    ClassificationError,
    Jurisdiction,
    Level,
    frameworks_for,
    suggest_from_entities,
)
from tests.conftest import SAMPLES, run_odg


class Lake:
    """One workspace with the sample customers, seen by several users.

    root is an admin; on bronze.customers ana is Responsible, bia Accountable, caio Informed.
    """

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
def lake(tmp_path: Path) -> Iterator[Lake]:
    root = tmp_path / "ws"
    setup = odg.open(root, user="root")
    setup.config.set("governance.admins", "root")
    setup.config.save()
    setup.close()
    lk = Lake(root)
    root_wb = lk.as_("root")
    root_wb.ingest(SAMPLES / "customers.csv", "bronze.customers")
    root_wb.raci.set("dataset:bronze.customers", responsible="ana", accountable="bia", informed="caio")
    yield lk
    lk.close()


# -- levels, jurisdictions, frameworks --------------------------------------------------------


def test_levels_are_ordered_and_parse_from_names_and_numbers() -> None:
    assert Level.PUBLIC < Level.INTERNAL < Level.CONFIDENTIAL < Level.RESTRICTED < Level.TOP_SECRET
    assert [lv.label for lv in Level] == ["Public", "Internal", "Confidential", "Restricted", "Top Secret"]
    for text in ("Top Secret", "top_secret", "TOP-SECRET", "4", 4):
        assert Level.parse(text) is Level.TOP_SECRET
    assert Level.parse(" confidential ") is Level.CONFIDENTIAL


@pytest.mark.parametrize("bad", ["secret", "7", 9, "", "publik"])
def test_an_unknown_level_lists_the_levels(bad: object) -> None:
    with pytest.raises(ClassificationError) as err:
        Level.parse(bad)  # type: ignore[arg-type]
    assert "Public, Internal, Confidential, Restricted, Top Secret" in err.value.message
    assert err.value.details["found"] == str(bad)


def test_jurisdictions_parse_dedupe_and_reject_unknown_ones() -> None:
    assert Jurisdiction.parse_many("eu, br,EU") == (Jurisdiction.BR, Jurisdiction.EU)
    assert Jurisdiction.parse_many(["global", Jurisdiction.US]) == (Jurisdiction.US, Jurisdiction.GLOBAL)
    with pytest.raises(ClassificationError, match=r"unknown jurisdiction 'UK'; use one of BR, EU, US, GLOBAL"):
        Jurisdiction.parse_many("BR,UK")


@pytest.mark.parametrize(
    ("jurisdictions", "frameworks"),
    [
        pytest.param("BR", ["lgpd", "iso_42001", "dama_dmbok"], id="br"),
        pytest.param("EU", ["gdpr", "eu_ai_act", "iso_42001", "dama_dmbok"], id="eu"),
        pytest.param("US", ["sox", "nist_ai_rmf", "iso_42001", "dama_dmbok"], id="us"),
        pytest.param("GLOBAL", ["iso_42001", "dama_dmbok"], id="global"),
        pytest.param("", ["iso_42001", "dama_dmbok"], id="none"),
        pytest.param(
            "US,BR,EU",
            ["lgpd", "gdpr", "eu_ai_act", "sox", "nist_ai_rmf", "iso_42001", "dama_dmbok"],
            id="all-three",
        ),
    ],
)
def test_frameworks_follow_the_jurisdictions(jurisdictions: str, frameworks: list[str]) -> None:
    assert frameworks_for(jurisdictions) == frameworks


@pytest.mark.parametrize(
    ("columns", "level", "jurisdictions"),
    [
        pytest.param({}, Level.INTERNAL, ("GLOBAL",), id="no-pii"),
        pytest.param({"mail": ["EMAIL"]}, Level.CONFIDENTIAL, ("GLOBAL",), id="email"),
        pytest.param({"dob": ["DATE_OF_BIRTH"], "ip": ["IP_ADDRESS"]}, Level.CONFIDENTIAL, ("GLOBAL",), id="dob-ip"),
        pytest.param({"doc": ["BR_CPF"], "mail": ["EMAIL"]}, Level.RESTRICTED, ("BR",), id="cpf"),
        pytest.param({"acct": ["IBAN"], "ssn": ["US_SSN"]}, Level.RESTRICTED, ("EU", "US"), id="iban-ssn"),
        pytest.param({"card": ["CREDIT_CARD"]}, Level.RESTRICTED, ("GLOBAL",), id="card"),
        pytest.param({"co": ["BR_CNPJ"]}, Level.RESTRICTED, ("BR",), id="cnpj"),
    ],
)
def test_suggestion_rules(columns: dict[str, list[str]], level: Level, jurisdictions: tuple[str, ...]) -> None:
    s = suggest_from_entities("bronze.t", columns)
    assert s.level is level
    assert tuple(j.value for j in s.jurisdictions) == jurisdictions
    assert s.pii_columns == columns and s.source == "suggested"


# -- suggestions from real detection --------------------------------------------------------


def test_sample_customers_are_suggested_restricted_in_brazil(lake: Lake) -> None:
    wb = lake.as_("caio")  # anyone may ask for a suggestion; nothing is stored
    s = wb.classifications.suggest("bronze.customers")
    assert s.level is Level.RESTRICTED and s.jurisdictions == (Jurisdiction.BR,)
    assert s.frameworks == ["lgpd", "iso_42001", "dama_dmbok"]
    pii = s.pii_columns
    assert "BR_CPF" in pii["cpf"] and "EMAIL" in pii["email"] and "PHONE" in pii["phone"]
    assert "BR_CNPJ" in pii["cnpj"] and "DATE_OF_BIRTH" in pii["birth_date"]
    for clean in ("customer_id", "segment", "consent_marketing", "created_at", "state"):
        assert clean not in pii
    assert not any(c.startswith("_odg_") for c in pii)
    assert wb.classifications.get("bronze.customers") is None


def test_tables_without_personal_data_are_suggested_internal(ws: odg.Workbench) -> None:
    ws.ingest(SAMPLES / "orders.parquet", "bronze.orders")
    s = ws.classifications.suggest("bronze.orders")
    assert (s.level, s.pii_columns) == (Level.INTERNAL, {})


# -- setting: owners only, audited ------------------------------------------------------------


def test_an_admin_sets_a_classification_that_is_stored_and_audited(lake: Lake) -> None:
    wb = lake.as_("root")
    c = wb.classifications.set("bronze.customers", "Restricted", "BR,EU", reason="CPF and e-mail")
    assert (c.level, c.jurisdictions, c.source, c.set_by) == (
        Level.RESTRICTED,
        (Jurisdiction.BR, Jurisdiction.EU),
        "owner",
        "root",
    )
    # the personal-data columns come from a scan when none are given
    assert "BR_CPF" in c.pii_columns["cpf"]
    again = lake.as_("caio").classifications.get("bronze.customers")
    assert again is not None and again.to_dict() == c.to_dict()
    assert [x.table for x in wb.classifications.all()] == ["bronze.customers"]
    [record] = wb.audit.records(type_prefix="classification.set")
    assert (record.actor, record.resource) == ("root", "bronze.customers")
    assert record.payload["level"] == "Restricted" and record.payload["previous_level"] is None
    assert record.payload["frameworks"] == ["lgpd", "gdpr", "eu_ai_act", "iso_42001", "dama_dmbok"]
    assert record.payload["reason"] == "CPF and e-mail"
    assert wb.audit.verify().ok


@pytest.mark.parametrize("user", ["ana", "bia"])
def test_the_responsible_and_the_accountable_may_classify(lake: Lake, user: str) -> None:
    c = lake.as_(user).classifications.set("bronze.customers", "confidential", "BR")
    assert c.set_by == user and c.level is Level.CONFIDENTIAL


@pytest.mark.parametrize(
    ("user", "rule"),
    [
        pytest.param("caio", "classification_set_needs_owner", id="informed"),
        pytest.param("stranger", "unknown_user", id="unknown"),
    ],
)
def test_others_may_not_classify(lake: Lake, user: str, rule: str) -> None:
    with pytest.raises(PermissionDeniedError) as err:
        lake.as_(user).classifications.set("bronze.customers", "public", "GLOBAL")
    assert err.value.details["rule"] == rule
    assert f"{user} may not classification.set on dataset bronze.customers" in err.value.message
    assert lake.as_("root").classifications.get("bronze.customers") is None
    assert lake.as_("root").audit.records(type_prefix="classification.") == []


def test_lowering_a_level_needs_the_accountable(lake: Lake) -> None:
    lake.as_("ana").classifications.set("bronze.customers", "restricted", "BR")
    lake.as_("ana").classifications.set("bronze.customers", "top secret")  # raising is fine
    with pytest.raises(PermissionDeniedError) as err:
        lake.as_("ana").classifications.set("bronze.customers", "internal")
    assert err.value.details["rule"] == "classification_lower_needs_accountable"
    assert "from Top Secret to Internal needs its Accountable or an admin; ana holds responsible" in err.value.message
    stored = lake.as_("root").classifications.get("bronze.customers")
    assert stored is not None and stored.level is Level.TOP_SECRET
    with pytest.raises(PermissionDeniedError) as not_owner:  # a non-owner is refused as a non-owner
        lake.as_("caio").classifications.set("bronze.customers", "public")
    assert not_owner.value.details["rule"] == "classification_set_needs_owner"
    lowered = lake.as_("bia").classifications.set("bronze.customers", "internal", reason="aggregated")
    assert lowered.level is Level.INTERNAL and lowered.jurisdictions == (Jurisdiction.BR,)  # kept


def test_owner_chosen_columns_and_bad_input(lake: Lake) -> None:
    wb = lake.as_("root")
    c = wb.classifications.set("bronze.customers", 3, ["BR"], pii_columns={"cpf": "br_cpf", "city": ["ADDRESS"]})
    assert c.pii_columns == {"cpf": ["BR_CPF"], "city": ["ADDRESS"]}
    kept = wb.classifications.set("bronze.customers", "top secret")
    assert kept.pii_columns == c.pii_columns and kept.jurisdictions == (Jurisdiction.BR,)
    with pytest.raises(ClassificationError, match=r"pii_columns of bronze.customers: no column cpf_number"):
        wb.classifications.set("bronze.customers", 3, pii_columns={"cpf_number": ["BR_CPF"]})
    with pytest.raises(ClassificationError, match=r"unknown jurisdiction 'BRA'"):
        wb.classifications.set("bronze.customers", 3, "BRA")
    with pytest.raises(TableNotFoundError):
        wb.classifications.set("bronze.clients", 3, "BR")


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_classify_shows_suggestion_then_sets(lake: Lake) -> None:
    out = json.loads(run_odg("privacy", "classify", "bronze.customers", "--json", workspace=lake.root).stdout)
    assert out["classification"] is None
    assert out["suggestion"]["level"] == "Restricted" and out["suggestion"]["jurisdictions"] == ["BR"]
    assert "BR_CPF" in out["suggestion"]["pii_columns"]["cpf"]

    set_out = json.loads(
        run_odg(
            "privacy",
            "classify",
            "bronze.customers",
            "--set",
            "Top Secret",
            "--jurisdiction",
            "BR,EU",
            "--reason",
            "board decision",
            "--as",
            "bia",
            "--json",
            workspace=lake.root,
        ).stdout
    )
    assert (set_out["level"], set_out["level_value"], set_out["set_by"]) == ("Top Secret", 4, "bia")
    assert set_out["frameworks"] == ["lgpd", "gdpr", "eu_ai_act", "iso_42001", "dama_dmbok"]
    listed = json.loads(run_odg("privacy", "classifications", "--json", workspace=lake.root).stdout)
    assert [(c["table"], c["level"], c["reason"]) for c in listed] == [
        ("bronze.customers", "Top Secret", "board decision")
    ]


def test_cli_refuses_a_non_owner_with_the_rule(lake: Lake) -> None:
    proc = run_odg(
        "privacy",
        "classify",
        "bronze.customers",
        "--set",
        "public",
        "--as",
        "caio",
        "--json",
        workspace=lake.root,
        check=False,
    )
    assert proc.returncode == 1
    err = json.loads(proc.stdout)["error"]
    assert err["type"] == "PermissionDeniedError" and err["rule"] == "classification_set_needs_owner"
    bad = run_odg(
        "privacy", "classify", "bronze.customers", "--set", "secret", "--as", "bia", workspace=lake.root, check=False
    )
    assert bad.returncode == 1 and "is not a level" in bad.stderr
