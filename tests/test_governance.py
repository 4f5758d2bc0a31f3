"""Governance: RACI rules, the decision status machine, escalation, Rego policies, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import odg_workbench as odg
from odg_workbench.config import Config
from odg_workbench.events import Event
from odg_workbench.governance.decisions import (
    DECISION_TYPES,
    HOOK_MODULES,
    Decision,
    DecisionHookError,
    DecisionNotFoundError,
    Decisions,
    DecisionStateError,
    DecisionStatus,
    on_approved,
    parse_deadline,
)
from odg_workbench.governance.policy import (
    SHIPPED_POLICIES,
    PermissionDeniedError,
    PolicyEngine,
    PolicyError,
)
from odg_workbench.governance.raci import GovernanceInputError, Raci
from tests.conftest import new_pg_database

ADMINS = ["root"]
SALES = {
    "responsible": "rita,ron",
    "accountable": "ann,abe",
    "consulted": "carl",
    "informed": "ines",
    "veto": "vic",
    "escalation": "esc1,role:admin",
}


class Gov:
    """One workspace seen by several users: ``gov.as_("ann").approve(7)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events: list[Event] = []
        self._open: dict[str, odg.Workbench] = {}

    def wb(self, user: str) -> odg.Workbench:
        if user not in self._open:
            wb = odg.open(self.root, user=user)
            wb.events.subscribe(self.events.append, "")
            self._open[user] = wb
        return self._open[user]

    def as_(self, user: str) -> Decisions:
        return Decisions(self.wb(user), admins=ADMINS)

    def raci(self, user: str = "root") -> Raci:
        return Raci(self.wb(user), admins=ADMINS)

    def types(self, prefix: str = "decision.") -> list[str]:
        return [e.type for e in self.events if e.type.startswith(prefix)]

    def close(self) -> None:
        for wb in self._open.values():
            wb.close()


@pytest.fixture
def gov(ws: odg.Workbench) -> Iterator[Gov]:
    g = Gov(ws.root)
    g.raci().set("domain:sales", **SALES)
    yield g
    g.close()


def new(gov: Gov, requester: str = "carl", **kwargs: Any) -> Decision:
    kwargs.setdefault("domain", "sales")
    return gov.as_(requester).create("schema_change", "Add a discount column", **kwargs)


# -- the RACI rules ---------------------------------------------------------------------------------


def test_approved_when_every_accountable_and_one_responsible_approved(gov: Gov) -> None:
    d = new(gov)
    assert d.status is DecisionStatus.PENDING
    assert d.waiting_for == {"accountable": ["ann", "abe"], "responsible_any_of": ["rita", "ron"]}

    d = gov.as_("ann").approve(d.id, "fine by me")
    assert d.status is DecisionStatus.PENDING
    assert d.waiting_for == {"accountable": ["abe"], "responsible_any_of": ["rita", "ron"]}
    d = gov.as_("abe").approve(d.id)
    assert d.status is DecisionStatus.PENDING, "both Accountable approved, but no Responsible yet"
    assert d.waiting_for == {"responsible_any_of": ["rita", "ron"]}
    d = gov.as_("rita").approve(d.id)
    assert d.status is DecisionStatus.APPROVED
    assert d.waiting_for == {}
    assert [a["actor"] for a in d.approvals] == ["ann", "abe", "rita"]
    assert d.resolution == "approved by ann, abe, rita"
    assert d.closed_at is not None
    assert gov.types() == [
        "decision.created",
        "decision.notified",
        "decision.approval_recorded",
        "decision.approval_recorded",
        "decision.approved",
        "decision.notified",
    ]


def test_one_responsible_and_all_accountable_in_any_order(gov: Gov) -> None:
    d = new(gov)
    gov.as_("ron").approve(d.id)
    gov.as_("rita").approve(d.id)  # a second Responsible is welcome but not needed
    assert gov.as_("ann").approve(d.id).status is DecisionStatus.PENDING
    assert gov.as_("abe").approve(d.id).status is DecisionStatus.APPROVED


def test_the_requester_does_not_count_among_the_approvers(gov: Gov) -> None:
    # ron requests: he is Responsible, but his own approval can never be given, so rita's suffices
    d = new(gov, requester="ron")
    assert d.waiting_for == {"accountable": ["ann", "abe"], "responsible_any_of": ["rita"]}
    gov.as_("ann").approve(d.id)
    gov.as_("rita").approve(d.id)
    assert gov.as_("abe").approve(d.id).status is DecisionStatus.APPROVED


def test_any_accountable_rejects(gov: Gov) -> None:
    d = new(gov)
    gov.as_("ann").approve(d.id)
    d = gov.as_("abe").reject(d.id, "breaks the finance dashboard")
    assert d.status is DecisionStatus.REJECTED
    assert d.resolution == "rejected by abe: breaks the finance dashboard"
    assert gov.types()[-2:] == ["decision.rejected", "decision.notified"]
    rejected = next(e for e in gov.events if e.type == "decision.rejected")
    assert rejected.actor == "abe"
    assert rejected.payload["reason"] == "breaks the finance dashboard"


def test_a_responsible_cannot_reject(gov: Gov) -> None:
    d = new(gov)
    with pytest.raises(PermissionDeniedError, match="reject_needs_accountable") as err:
        gov.as_("rita").reject(d.id, "no")
    assert "rejecting needs the Accountable role on domain sales; rita holds responsible" in str(err.value)
    assert gov.as_("root").get(d.id).status is DecisionStatus.PENDING


def test_a_veto_ends_the_decision(gov: Gov) -> None:
    d = new(gov)
    gov.as_("ann").approve(d.id)
    gov.as_("abe").approve(d.id)
    d = gov.as_("vic").veto(d.id, "legal hold on this table")
    assert d.status is DecisionStatus.VETOED
    with pytest.raises(DecisionStateError):
        gov.as_("rita").approve(d.id)
    assert gov.as_("root").get(d.id).status is DecisionStatus.VETOED


def test_only_veto_holders_veto(gov: Gov) -> None:
    d = new(gov)
    with pytest.raises(PermissionDeniedError, match="veto_needs_veto_holder"):
        gov.as_("ann").veto(d.id, "I am only Accountable")


def test_nobody_approves_their_own_request(gov: Gov) -> None:
    d = new(gov, requester="ann")
    with pytest.raises(PermissionDeniedError) as err:
        gov.as_("ann").approve(d.id)
    assert err.value.details["rule"] == "approve_own_request"
    assert err.value.details["policy_file"] == str(SHIPPED_POLICIES / "decisions.rego")
    assert "ann requested this decision; nobody approves their own request" in err.value.message
    assert isinstance(err.value, PermissionError)
    assert gov.as_("root").get(d.id).approvals == []


def test_an_approval_counts_once(gov: Gov) -> None:
    d = new(gov)
    gov.as_("ann").approve(d.id)
    with pytest.raises(DecisionStateError, match=r"ann already approved decision .* an approval counts once"):
        gov.as_("ann").approve(d.id)
    assert [a["actor"] for a in gov.as_("root").get(d.id).approvals] == ["ann"]


def test_people_outside_the_raci_are_refused(gov: Gov) -> None:
    d = new(gov)
    with pytest.raises(PermissionDeniedError, match="unknown_user") as err:
        gov.as_("mallory").approve(d.id)
    assert "mallory holds no role in any RACI assignment" in err.value.message
    with pytest.raises(PermissionDeniedError, match="unknown_user"):
        gov.as_("mallory").create("schema_change", "sneak in", domain="sales")
    with pytest.raises(PermissionDeniedError, match="unknown_user"):
        gov.as_("mallory").comment(d.id, "hello")
    # known elsewhere (another domain) but holding no role on this one
    gov.raci().set("domain:hr", accountable="hank")
    with pytest.raises(PermissionDeniedError, match="approve_needs_responsible_or_accountable") as err:
        gov.as_("hank").approve(d.id)
    assert "hank holds no RACI role" in err.value.message


def test_consulted_comment_but_cannot_approve(gov: Gov) -> None:
    d = new(gov, requester="rita")
    d = gov.as_("carl").comment(d.id, "mind the nulls in discount")
    assert d.status is DecisionStatus.PENDING
    assert d.history[-1].action == "comment"
    assert d.history[-1].comment == "mind the nulls in discount"
    assert gov.types()[-1] == "decision.commented"
    with pytest.raises(PermissionDeniedError, match="approve_needs_responsible_or_accountable"):
        gov.as_("carl").approve(d.id)


def test_informed_are_notified_of_creation_and_outcome(gov: Gov) -> None:
    d = new(gov)
    gov.as_("ann").approve(d.id)  # a partial approval notifies nobody
    gov.as_("vic").veto(d.id, "no")
    notified = [e for e in gov.events if e.type == "decision.notified"]
    assert [(e.payload["event"], e.payload["informed"], e.payload["status"]) for e in notified] == [
        ("decision.created", ["ines"], "PENDING"),
        ("decision.vetoed", ["ines"], "VETOED"),
    ]
    assert all(e.resource == f"decision:{d.id}" for e in notified)


def test_dataset_raci_overrides_its_domain_role_by_role(gov: Gov) -> None:
    raci = gov.raci()
    raci.set("dataset:gold.revenue", accountable="fiona", domain="sales")
    eff = raci.effective("gold.revenue")
    assert eff.accountable == ("fiona",)
    assert eff.responsible == ("rita", "ron")  # inherited from the domain
    assert eff.sources["accountable"] == "dataset:gold.revenue"
    assert eff.sources["responsible"] == "domain:sales"
    assert raci.roles_of("ann", "gold.revenue") == []
    assert raci.roles_of("fiona", "gold.revenue") == ["accountable"]
    assert raci.roles_of("ann", domain="sales") == ["accountable"]
    # a decision on the dataset waits for the dataset's Accountable, not the domain's
    d = new(gov, dataset="gold.revenue", domain=None)
    assert d.domain == "sales"
    assert d.waiting_for == {"accountable": ["fiona"], "responsible_any_of": ["rita", "ron"]}
    with pytest.raises(PermissionDeniedError):
        gov.as_("ann").approve(d.id)


def test_raci_set_keeps_roles_not_given_and_clears_with_an_empty_list(gov: Gov) -> None:
    raci = gov.raci()
    after = raci.set("domain:sales", consulted=[])
    assert after.consulted == ()
    assert after.accountable == ("ann", "abe")
    assert after.updated_by == "root"
    stored = raci.get("domain:sales")
    assert stored is not None and stored.consulted == () and stored.veto == ("vic",)
    assert raci.get("domain:nowhere") is None
    assert "carl" not in raci.known_users()
    assert {"ann", "abe", "rita", "ron", "ines", "vic", "esc1", "root"} <= raci.known_users()


def test_raci_changes_need_an_admin_or_the_domain_accountable(gov: Gov) -> None:
    with pytest.raises(PermissionDeniedError, match="raci_change_needs_admin_or_accountable") as err:
        gov.raci("rita").set("domain:sales", responsible="rita")
    assert "needs a workspace admin (governance.admins) or the Accountable of its domain" in err.value.message
    assert gov.raci().get("domain:sales").responsible == ("rita", "ron")  # type: ignore[union-attr]
    # the domain's Accountable manages its RACI, and that of its datasets
    assert gov.raci("ann").set("domain:sales", consulted="carl,cleo").consulted == ("carl", "cleo")
    assert gov.raci("ann").set("dataset:silver.orders", domain="sales", veto="vera").veto == ("vera",)
    with pytest.raises(PermissionDeniedError):
        gov.raci("ann").set("domain:hr", accountable="ann")  # not hers
    gov.raci().set("domain:hr", accountable="hank")
    with pytest.raises(PermissionDeniedError, match="raci_change_needs_admin_or_accountable"):
        gov.raci("hank").set("dataset:silver.orders", domain="hr")  # taking a dataset needs its domain's consent
    assert gov.raci().effective("silver.orders").domain == "sales"


def test_a_decision_opened_for_someone_else_is_not_approved_by_who_opened_it(gov: Gov) -> None:
    d = gov.as_("ann").create("access_request", "Read orders", domain="sales", requester="carl")
    assert (d.requester, d.created_by) == ("carl", "ann")
    assert d.waiting_for == {"accountable": ["abe"], "responsible_any_of": ["rita", "ron"]}
    with pytest.raises(PermissionDeniedError, match="approve_own_request"):
        gov.as_("ann").approve(d.id)
    with pytest.raises(PermissionDeniedError, match="carl requested this decision; nobody approves their own request"):
        gov.as_("carl").approve(d.id)


def test_raci_changes_are_published(gov: Gov) -> None:
    gov.raci().set("domain:sales", informed="ines,ivan")
    event = [e for e in gov.events if e.type == "raci.changed"][-1]
    assert event.resource == "domain:sales"
    assert event.actor == "root"
    assert event.payload["changed"] == ["informed"]
    assert event.payload["before"]["informed"] == ["ines"]
    assert event.payload["after"]["informed"] == ["ines", "ivan"]


@pytest.mark.parametrize(
    ("scope", "kwargs", "message"),
    [
        pytest.param("sales", {}, "is not domain:NAME or dataset:NAME", id="no-kind"),
        pytest.param("team:sales", {}, "is not domain:NAME or dataset:NAME", id="unknown-kind"),
        pytest.param("domain:sales", {"escalation": "role:boss"}, "role:NAME takes one of admin", id="bad-role"),
        pytest.param("domain:sales", {"veto": ["a b"]}, "is not a user name", id="space"),
    ],
)
def test_malformed_raci_input_is_refused(gov: Gov, scope: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(GovernanceInputError, match=message):
        gov.raci().set(scope, **kwargs)


# -- the status machine -------------------------------------------------------------------------------


def _close(gov: Gov, d: Decision, status: DecisionStatus) -> None:
    if status is DecisionStatus.APPROVED:
        for user in ("ann", "abe", "rita"):
            gov.as_(user).approve(d.id)
    elif status is DecisionStatus.REJECTED:
        gov.as_("ann").reject(d.id, "no")
    elif status is DecisionStatus.VETOED:
        gov.as_("vic").veto(d.id, "no")
    elif status is DecisionStatus.EXPIRED:
        gov.raci().set("domain:sales", escalation=[])
        gov.as_("root").tick(now=datetime.now(UTC) + timedelta(days=2))


@pytest.mark.parametrize(
    "status", [DecisionStatus.APPROVED, DecisionStatus.REJECTED, DecisionStatus.VETOED, DecisionStatus.EXPIRED]
)
@pytest.mark.parametrize(("user", "action"), [("abe", "approve"), ("ann", "reject"), ("vic", "veto")])
def test_closed_decisions_refuse_every_transition(gov: Gov, status: DecisionStatus, user: str, action: str) -> None:
    d = new(gov, deadline=timedelta(days=1))
    _close(gov, d, status)
    assert gov.as_("root").get(d.id).status is status
    before = len(gov.as_("root").get(d.id).history)
    act = getattr(gov.as_(user), action)
    with pytest.raises(DecisionStateError) as err:
        act(d.id) if action == "approve" else act(d.id, "too late")
    assert err.value.message.startswith(
        f"decision {d.id} (Add a discount column) is {status.value}: {user} cannot {action} it"
    )
    assert err.value.details == {"decision_id": d.id, "status": status.value, "action": action}
    after = gov.as_("root").get(d.id)
    assert after.status is status and len(after.history) == before


def test_closed_decisions_still_take_comments(gov: Gov) -> None:
    d = new(gov)
    gov.as_("ann").reject(d.id, "no")
    d = gov.as_("rita").comment(d.id, "noted, will rework")
    assert d.status is DecisionStatus.REJECTED
    assert d.history[-1].to_status == "REJECTED"


def test_unknown_decisions_and_types(gov: Gov) -> None:
    with pytest.raises(DecisionNotFoundError, match="no decision 999"):
        gov.as_("ann").approve(999)
    with pytest.raises(GovernanceInputError, match="did you mean schema_change"):
        gov.as_("ann").create("schema_chnage", "x", domain="sales")
    with pytest.raises(GovernanceInputError, match="needs a dataset or a domain"):
        gov.as_("ann").create("schema_change", "x")
    with pytest.raises(GovernanceInputError, match="a reason is required"):
        gov.as_("ann").reject(new(gov).id, "  ")
    assert set(DECISION_TYPES) >= {
        "data_promotion",
        "schema_change",
        "contract_change",
        "access_request",
        "model_release",
        "policy_exception",
    }


def test_history_is_complete(gov: Gov) -> None:
    d = new(gov, requester="rita")
    gov.as_("carl").comment(d.id, "check nulls")
    gov.as_("ann").approve(d.id, "ok")
    gov.as_("abe").approve(d.id)
    gov.as_("ron").approve(d.id, "ship it")
    history = gov.as_("root").get(d.id).history
    assert [(h.actor, h.action, h.from_status, h.to_status, h.comment) for h in history] == [
        ("rita", "create", None, "PENDING", None),
        ("carl", "comment", "PENDING", "PENDING", "check nulls"),
        ("ann", "approve", "PENDING", "PENDING", "ok"),
        ("abe", "approve", "PENDING", "PENDING", None),
        ("ron", "approve", "PENDING", "APPROVED", "ship it"),
    ]
    assert [h.roles for h in history][1:] == [("consulted",), ("accountable",), ("accountable",), ("responsible",)]
    assert all(h.at.tzinfo is not None for h in history)
    assert [h.at for h in history] == sorted(h.at for h in history)


def test_list_filters(gov: Gov) -> None:
    a = new(gov)
    b = gov.as_("carl").create("access_request", "read orders", dataset="silver.orders", domain="sales")
    gov.as_("ann").reject(a.id, "no")
    lst = gov.as_("root").list
    assert [d.id for d in lst()] == [b.id, a.id]
    assert [d.id for d in lst(status="open")] == [b.id]
    assert [d.id for d in lst(status="rejected")] == [a.id]
    assert [d.id for d in lst(type="access_request")] == [b.id]
    assert [d.id for d in lst(dataset="silver.orders")] == [b.id]
    assert lst(domain="hr") == []
    with pytest.raises(GovernanceInputError, match="unknown status"):
        lst(status="done")


# -- escalation and expiry -----------------------------------------------------------------------------


def test_escalation_follows_the_chain_then_expires(gov: Gov) -> None:
    d = new(gov, deadline=timedelta(hours=4))
    assert d.deadline is not None
    deadline = d.deadline
    ops = gov.as_("ops")  # the scheduler's user: tick needs no RACI role

    assert ops.tick(now=deadline - timedelta(seconds=1)) == []
    [d] = ops.tick(now=deadline + timedelta(minutes=1))
    assert d.status is DecisionStatus.ESCALATED
    assert (d.escalation_level, d.escalated_to) == (1, ["esc1"])
    assert d.deadline == deadline + timedelta(minutes=1) + timedelta(hours=4)
    assert d.history[-1].action == "escalate" and d.history[-1].actor == "ops"
    escalated = [e for e in gov.events if e.type == "decision.escalated"][-1]
    assert escalated.payload["to"] == ["esc1"] and escalated.payload["level"] == 1

    assert ops.tick(now=d.deadline - timedelta(seconds=1)) == []
    [d] = ops.tick(now=d.deadline)
    assert (d.status, d.escalation_level, d.escalated_to) == (DecisionStatus.ESCALATED, 2, ["root"])  # role:admin

    assert d.deadline is not None
    [d] = ops.tick(now=d.deadline + timedelta(days=1))
    assert d.status is DecisionStatus.EXPIRED
    assert "escalation chain is exhausted" in (d.resolution or "")
    assert [h.to_status for h in d.history] == ["PENDING", "ESCALATED", "ESCALATED", "EXPIRED"]
    assert ops.tick(now=d.deadline + timedelta(days=30)) == []
    assert gov.types()[-2:] == ["decision.expired", "decision.notified"]


def test_the_escalation_level_may_decide(gov: Gov) -> None:
    d = new(gov, deadline="1h")
    gov.as_("ann").approve(d.id)
    assert d.deadline is not None
    [d] = gov.as_("root").tick(now=d.deadline + timedelta(seconds=1))
    assert d.waiting_for == {"accountable": ["abe"], "responsible_any_of": ["rita", "ron"], "or_escalation": ["esc1"]}
    d = gov.as_("esc1").approve(d.id, "decided at level 1")
    assert d.status is DecisionStatus.APPROVED
    assert d.approvals[-1]["roles"] == ["escalation"]


def test_decisions_without_deadline_never_escalate(gov: Gov) -> None:
    new(gov)
    assert gov.as_("root").tick(now=datetime.now(UTC) + timedelta(days=3650)) == []


def test_deadlines() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_deadline("3d", now=now) == now + timedelta(days=3)
    assert parse_deadline("12h", now=now) == now + timedelta(hours=12)
    assert parse_deadline("2026-01-02T09:00:00+01:00", now=now) == datetime(2026, 1, 2, 8, tzinfo=UTC)
    with pytest.raises(GovernanceInputError, match="neither a duration"):
        parse_deadline("soon", now=now)
    with pytest.raises(GovernanceInputError, match="not in the future"):
        parse_deadline("2025-12-31", now=now)


# -- on_approved callbacks -------------------------------------------------------------------------------


@pytest.fixture
def hooks() -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    removers: list[Callable[[], None]] = []
    yield lambda kind, cb: removers.append(on_approved(kind, cb))
    for remove in removers:
        remove()


def test_callbacks_run_after_approval(gov: Gov, hooks: Callable[[str, Callable[..., Any]], None]) -> None:
    seen: list[tuple[str, str, str]] = []
    hooks("schema_change", lambda wb, d: seen.append((wb.user, d.id, d.status.value)))
    hooks("data_promotion", lambda wb, d: seen.append(("wrong", "type", "")))
    d = new(gov)
    for user in ("ann", "abe"):
        gov.as_(user).approve(d.id)
    assert seen == []
    gov.as_("rita").approve(d.id)
    assert seen == [("rita", d.id, "APPROVED")]


def test_a_failing_callback_leaves_the_decision_approved(
    gov: Gov, hooks: Callable[[str, Callable[..., Any]], None]
) -> None:
    calls: list[str] = []

    def promote(wb: odg.Workbench, d: Decision) -> None:
        calls.append(d.id)
        if len(calls) == 1:
            raise RuntimeError("target table is locked")

    hooks("schema_change", promote)
    d = new(gov)
    gov.as_("ann").approve(d.id)
    gov.as_("abe").approve(d.id)
    with pytest.raises(DecisionHookError, match=r"is APPROVED, but its on_approved callback .*promote failed") as err:
        gov.as_("rita").approve(d.id)
    assert "RuntimeError: target table is locked" in err.value.message
    assert isinstance(err.value.__cause__, RuntimeError)
    assert gov.as_("root").get(d.id).status is DecisionStatus.APPROVED
    gov.as_("root").run_hooks(d.id)  # fixed: run again
    assert calls == [d.id, d.id]


def test_hook_modules_are_loaded_before_their_callbacks_run(
    gov: Gov, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # how `odg decision approve` (a fresh process) still runs the promotion of a data_promotion
    (tmp_path / "gov_hook_module.py").write_text(
        "from odg_workbench.governance.decisions import on_approved\n"
        "ran = []\n"
        "remove = on_approved('model_release', lambda wb, d: ran.append(d.id))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(HOOK_MODULES, "model_release", ("gov_hook_module",))
    d = gov.as_("carl").create("model_release", "churn v2", domain="sales")
    for user in ("ann", "abe"):
        gov.as_(user).approve(d.id)
    assert "gov_hook_module" not in sys.modules
    gov.as_("rita").approve(d.id)
    module = sys.modules.pop("gov_hook_module")
    module.remove()
    assert module.ran == [d.id]


# -- policies ---------------------------------------------------------------------------------------------


def test_policy_decisions_name_rule_file_and_reasons(tmp_path: Path) -> None:
    engine = PolicyEngine(None, admins=["root"])
    res = {"type": "dataset", "id": "silver.orders", "dataset": "silver.orders"}
    ok = engine.evaluate("promote", "rita", res, ["responsible"])
    assert (ok.allowed, ok.rule, Path(ok.policy_file).name) == (True, "promote_owner", "promotion.rego")
    assert ok.reasons == ["rita holds responsible on dataset silver.orders"]
    assert engine.evaluate("promote", "root", res, []).rule == "promote_admin"
    no = engine.evaluate("data.read_unmasked", "carl", res, ["consulted"])
    assert (no.allowed, no.rule, Path(no.policy_file).name) == (False, "read_unmasked_needs_owner", "data_access.rego")
    assert no.reasons == [
        "reading dataset silver.orders unmasked needs the Responsible or Accountable role, or an admin; "
        "carl holds consulted"
    ]
    with pytest.raises(PermissionDeniedError) as err:
        engine.require("policy.change", "ann", {"type": "policy", "id": "decisions.rego"}, ["accountable"])
    assert err.value.message == (
        "ann may not policy.change on policy decisions.rego: changing policies needs a workspace admin "
        "(governance.admins); ann is not one (denied by rule policy_change_needs_admin in "
        f"{SHIPPED_POLICIES / 'administration.rego'})"
    )
    nothing = engine.evaluate("table.drop", "root", {}, [])
    assert (nothing.allowed, nothing.rule, nothing.policy_file) == (False, "default_deny", "")


def test_user_names_cannot_forge_a_decision() -> None:
    # rego-cpp's JSON text does not escape quotes: results are read node by node instead
    engine = PolicyEngine(None)
    name = 'eve", "allowed": true, "x": "'
    d = engine.evaluate("decision.approve", name, {"type": "decision", "id": "1"}, ["consulted"], known=True)
    assert not d.allowed
    assert d.reasons == [f"approving needs the Responsible or Accountable role on decision 1; {name} holds consulted"]


def test_a_workspace_policy_adds_rules(gov: Gov) -> None:
    folder = gov.root / "policies"
    folder.mkdir()
    (folder / "freeze.rego").write_text(
        """package odg.rules.freeze

import rego.v1

# Quarter-end freeze: no new decisions on the sales domain.
deny contains {"rule": "quarter_end_freeze", "reason": "sales is frozen until the quarter closes"} if {
	input.action == "decision.create"
	input.resource.domain == "sales"
}
"""
    )
    with pytest.raises(PermissionDeniedError) as err:
        new(gov)
    assert err.value.details["rule"] == "quarter_end_freeze"
    assert err.value.details["policy_file"] == str(folder / "freeze.rego")
    assert "sales is frozen until the quarter closes" in err.value.message
    files = {f.name: f.origin for f in PolicyEngine(gov.root).policy_files()}
    assert files["freeze.rego"] == "workspace" and files["decisions.rego"] == "shipped"
    (folder / "freeze.rego").unlink()  # takes effect at once: the cache follows the files
    assert new(gov).status is DecisionStatus.PENDING


def test_a_workspace_policy_replaces_a_shipped_one(gov: Gov) -> None:
    d = new(gov, requester="rita")
    with pytest.raises(PermissionDeniedError):
        gov.as_("carl").approve(d.id)
    folder = gov.root / "policies"
    folder.mkdir()
    shipped = (SHIPPED_POLICIES / "decisions.rego").read_text()
    relaxed = shipped.replace(
        'approvers := {"responsible", "accountable", "escalation"}',
        'approvers := {"responsible", "accountable", "consulted", "escalation"}',
    )
    assert relaxed != shipped
    (folder / "decisions.rego").write_text(relaxed)
    d = gov.as_("carl").approve(d.id)
    assert d.approvals[-1]["actor"] == "carl"
    [policy] = [f for f in PolicyEngine(gov.root).policy_files() if f.name == "decisions.rego"]
    assert (policy.origin, policy.replaces) == ("workspace", SHIPPED_POLICIES / "decisions.rego")


def test_a_malformed_policy_names_its_file_and_line(gov: Gov, capfd: pytest.CaptureFixture[str]) -> None:
    folder = gov.root / "policies"
    folder.mkdir()
    bad = folder / "broken.rego"
    bad.write_text('package odg.rules.broken\n\nimport rego.v1\n\ndeny contains "x" if {\n\tinput.action ==\n}\n')
    with pytest.raises(PolicyError) as err:
        new(gov)
    assert err.value.details["path"] == str(bad)
    assert err.value.details["line"] == 6
    assert err.value.message.startswith(f"{bad}:6:")
    assert capfd.readouterr().out == "", "rego-cpp must not print on stdout (it would break --json)"
    bad.write_text("package sales.rules\n")
    with pytest.raises(PolicyError, match=r"broken.rego:1: package sales.rules: policy files declare"):
        new(gov)
    bad.write_text("package odg.rules.decisions\n")
    with pytest.raises(PolicyError, match="is also declared by"):
        new(gov)


def test_policy_evaluation_is_fast() -> None:
    engine = PolicyEngine(None, admins=["root"])
    res = {"type": "decision", "id": "7", "domain": "sales", "dataset": "silver.orders"}
    engine.evaluate("decision.approve", "ann", res, ["accountable"], {"requester": "rita"})  # compiles once
    n = 200
    start = time.perf_counter()
    for _ in range(n):
        engine.evaluate("decision.approve", "ann", res, ["accountable"], {"requester": "rita"})
    per_decision_ms = (time.perf_counter() - start) / n * 1000
    assert per_decision_ms < 25, f"{per_decision_ms:.2f} ms per decision (target: well under 5 ms)"


# -- concurrency -----------------------------------------------------------------------------------------

_APPROVER = """
import json, sys, time
from pathlib import Path
import odg_workbench as odg
from odg_workbench.governance.decisions import Decisions
root, user, did, go = sys.argv[1:5]
wb = odg.open(root, user=user, create=False)
decisions = Decisions(wb, admins=["root"])
decisions.get(did)  # warm up: imports, tables, compiled policies
Path(go + "." + user).touch()
while not Path(go).exists():
    time.sleep(0.001)
try:
    out = {"status": decisions.approve(did).status.value}
except Exception as exc:
    out = {"error": type(exc).__name__}
print(json.dumps(out))
"""


def _race(gov: Gov, did: str, users: list[str], tmp: Path) -> dict[str, dict[str, str]]:
    go = tmp / f"go-{did}"
    procs = {
        u: subprocess.Popen(
            [sys.executable, "-c", _APPROVER, str(gov.root), u, did, str(go)], stdout=subprocess.PIPE, text=True
        )
        for u in users
    }
    deadline = time.time() + 120
    while not all(Path(f"{go}.{u}").exists() for u in users):
        assert time.time() < deadline, "approver processes did not start"
        time.sleep(0.01)
    go.touch()
    out = {}
    for u, p in procs.items():
        stdout, _ = p.communicate(timeout=120)
        assert p.returncode == 0, stdout
        out[u] = json.loads(stdout.strip().splitlines()[-1])
    return out


def _approve_concurrently(gov: Gov, tmp_path: Path) -> None:
    # both Accountable approve at the same moment: neither approval is lost
    both = new(gov)
    gov.as_("rita").approve(both.id)
    # both Responsible race for the last missing approval: the transition happens once
    last = new(gov)
    gov.as_("ann").approve(last.id)
    gov.as_("abe").approve(last.id)

    first = _race(gov, both.id, ["ann", "abe"], tmp_path)
    second = _race(gov, last.id, ["rita", "ron"], tmp_path)

    d = gov.as_("root").get(both.id)
    assert d.status is DecisionStatus.APPROVED
    assert sorted(a["actor"] for a in d.approvals) == ["abe", "ann", "rita"]
    assert sorted(r.get("status", "") for r in first.values()) == ["APPROVED", "PENDING"]
    assert [h.to_status for h in d.history].count("APPROVED") == 1

    d = gov.as_("root").get(last.id)
    assert d.status is DecisionStatus.APPROVED
    assert sorted(json.dumps(r) for r in second.values()) == [
        json.dumps({"error": "DecisionStateError"}),
        json.dumps({"status": "APPROVED"}),
    ]
    assert [h.to_status for h in d.history].count("APPROVED") == 1
    assert len(d.approvals) == 3


@pytest.mark.slow
def test_two_processes_approving_at_once(gov: Gov, tmp_path: Path) -> None:
    _approve_concurrently(gov, tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_approving_at_once_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    # SELECT ... FOR UPDATE serialises the two approvals there
    root = tmp_path / "pg-ws"
    root.mkdir()
    config = Config(root)
    config.set("state.url", new_pg_database(postgres_url, f"gov_{uuid.uuid4().hex[:12]}"))
    config.save()
    gov = Gov(root)
    try:
        gov.raci().set("domain:sales", **SALES)
        _approve_concurrently(gov, tmp_path)
    finally:
        gov.close()


# -- the CLI -------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(gov: Gov) -> Callable[..., tuple[int, Any, str]]:
    from odg_workbench.cli.governance import register

    app = typer.Typer()
    register(app)
    runner = CliRunner(env={"ODG_GOVERNANCE_ADMINS": "root", "ODG_USER": "root"})

    def run(*args: str) -> tuple[int, Any, str]:
        result = runner.invoke(app, [*args, "--workspace", str(gov.root)], catch_exceptions=False)
        data = json.loads(result.stdout) if "--json" in args else result.stdout
        return result.exit_code, data, result.stderr

    return run


def test_cli_decision_lifecycle(cli: Callable[..., tuple[int, Any, str]]) -> None:
    code, d, _ = cli(
        "decision", "create", "access_request", "--title", "Read orders", "--domain", "sales",
        "--deadline", "3d", "--payload", '{"columns": ["email"]}', "--as", "carl", "--json",
    )  # fmt: skip
    assert code == 0
    assert d["status"] == "PENDING" and d["requester"] == "carl" and d["payload"] == {"columns": ["email"]}
    assert d["waiting_for"] == {"accountable": ["ann", "abe"], "responsible_any_of": ["rita", "ron"]}
    assert [h["action"] for h in d["history"]] == ["create"]
    did = d["id"]

    code, d, _ = cli("decision", "approve", did, "--comment", "ok", "--as", "ann", "--json")
    assert (code, d["status"], d["approvals"][0]["actor"]) == (0, "PENDING", "ann")
    code, d, _ = cli("decision", "comment", did, "--comment", "email is personal data", "--as", "carl", "--json")
    assert code == 0 and d["history"][-1]["comment"] == "email is personal data"
    code, d, _ = cli("decision", "veto", did, "--reason", "GDPR", "--as", "vic", "--json")
    assert (code, d["status"], d["resolution"]) == (0, "VETOED", "vetoed by vic: GDPR")

    code, shown, _ = cli("decision", "show", did, "--json")
    assert code == 0
    assert [(h["actor"], h["action"], h["to_status"]) for h in shown["history"]] == [
        ("carl", "create", "PENDING"),
        ("ann", "approve", "PENDING"),
        ("carl", "comment", "PENDING"),
        ("vic", "veto", "VETOED"),
    ]
    code, listed, _ = cli("decision", "list", "--status", "vetoed", "--json")
    assert code == 0 and [x["id"] for x in listed] == [did] and "history" not in listed[0]

    code, human, _ = cli("decision", "show", did)
    assert code == 0 and f"decision {did} VETOED access_request: Read orders" in human


def test_cli_refusals_exit_1_with_a_json_error(cli: Callable[..., tuple[int, Any, str]]) -> None:
    _, d, _ = cli("decision", "create", "schema_change", "--title", "t", "--domain", "sales", "--as", "rita", "--json")
    code, out, err = cli("decision", "approve", d["id"], "--as", "rita", "--json")
    assert code == 1
    assert out["error"]["type"] == "PermissionDeniedError"
    assert out["error"]["rule"] == "approve_own_request"
    assert out["error"]["policy_file"].endswith("decisions.rego")
    assert "nobody approves their own request" in err
    cli("decision", "reject", d["id"], "--reason", "no", "--as", "ann", "--json")
    code, out, _ = cli("decision", "reject", d["id"], "--reason", "again", "--as", "abe", "--json")
    assert code == 1
    assert out["error"] == {
        "type": "DecisionStateError",
        "message": f"decision {d['id']} (t) is REJECTED: abe cannot reject it; "
        "only PENDING or ESCALATED decisions can be approved, rejected or vetoed",
        "decision_id": d["id"],
        "status": "REJECTED",
        "action": "reject",
    }
    code, out, _ = cli(
        "decision", "create", "schema_change", "--title", "t", "--domain", "sales", "--payload", "[1]", "--json"
    )
    assert code == 1 and out["error"]["type"] == "GovernanceInputError"


def test_cli_tick(cli: Callable[..., tuple[int, Any, str]]) -> None:
    _, d, _ = cli(
        "decision",
        "create",
        "model_release",
        "--title",
        "v2",
        "--domain",
        "sales",
        "--deadline",
        "1h",
        "--as",
        "rita",
        "--json",
    )
    code, changed, _ = cli("decision", "tick", "--json")
    assert (code, changed) == (0, [])
    later = (datetime.fromisoformat(d["deadline"]) + timedelta(minutes=5)).isoformat()
    code, changed, _ = cli("decision", "tick", "--now", later, "--json")
    assert code == 0
    assert [(c["id"], c["status"], c["escalated_to"]) for c in changed] == [(d["id"], "ESCALATED", ["esc1"])]


def test_cli_raci(cli: Callable[..., tuple[int, Any, str]]) -> None:
    code, a, _ = cli(
        "raci", "set", "dataset:gold.revenue", "--domain", "sales", "--accountable", "fiona",
        "--escalation", "cfo,role:admin", "--json",
    )  # fmt: skip
    assert code == 0
    assert (a["scope"], a["accountable"], a["escalation"], a["domain"]) == (
        "dataset:gold.revenue",
        ["fiona"],
        ["cfo", "role:admin"],
        "sales",
    )
    code, eff, _ = cli("raci", "show", "--dataset", "gold.revenue", "--json")
    assert code == 0
    assert (eff["accountable"], eff["responsible"]) == (["fiona"], ["rita", "ron"])
    assert eff["sources"]["responsible"] == "domain:sales"
    code, stored, _ = cli("raci", "show", "domain:sales", "--json")
    assert code == 0 and stored["veto"] == ["vic"]
    code, out, _ = cli("raci", "show", "domain:hr", "--json")
    assert code == 1 and out["error"]["type"] == "RaciNotFoundError"
    code, out, _ = cli("raci", "set", "domain:sales", "--veto", "rita", "--as", "rita", "--json")
    assert code == 1 and out["error"]["rule"] == "raci_change_needs_admin_or_accountable"
    code, listed, _ = cli("raci", "list", "--json")
    assert code == 0 and [x["scope"] for x in listed] == ["domain:sales", "dataset:gold.revenue"]


def test_cli_policy_check(cli: Callable[..., tuple[int, Any, str]]) -> None:
    code, d, _ = cli(
        "policy",
        "check",
        "promote",
        "--resource",
        "dataset:silver.orders",
        "--domain",
        "sales",
        "--as",
        "rita",
        "--json",
    )
    assert code == 0
    assert (d["allowed"], d["rule"], d["input"]["roles"]) == (True, "promote_owner", ["responsible"])
    code, d, _ = cli("policy", "check", "data.read_unmasked", "--resource", "domain:sales", "--as", "carl", "--json")
    assert code == 3
    assert (d["allowed"], d["rule"]) == (False, "read_unmasked_needs_owner")
    assert d["policy_file"].endswith("data_access.rego")
    code, human, _ = cli("policy", "check", "raci.change", "--resource", "domain:sales", "--as", "ann")
    assert code == 0 and "allowed raci.change for ann by rule raci_change_domain_accountable" in human
    _, dec, _ = cli(
        "decision", "create", "schema_change", "--title", "t", "--domain", "sales", "--as", "rita", "--json"
    )
    code, d, _ = cli(
        "policy", "check", "decision.approve", "--resource", f"decision:{dec['id']}", "--as", "rita", "--json"
    )
    assert (code, d["rule"], d["input"]["context"]["requester"]) == (3, "approve_own_request", "rita")
    code, files, _ = cli("policy", "list", "--json")
    assert code == 0
    assert {f["name"] for f in files} >= {"base.rego", "decisions.rego", "promotion.rego", "administration.rego"}


def test_policies_then_duckdb_in_one_process_do_not_corrupt_the_heap(tmp_path: Path) -> None:
    """rego-cpp defines its own operator new/delete: loaded before DuckDB, the process aborted
    later with "free(): invalid size". A fresh process evaluates policies first, then queries."""
    import subprocess
    import sys

    script = (
        "import gc\n"
        "from odg_workbench.governance.policy import PolicyEngine\n"
        "pe = PolicyEngine(None, admins=['root'])\n"
        "for _ in range(300):\n"
        "    pe.evaluate('decision.create', 'carl', {'type': 'decision', 'id': '1', 'domain': 'sales'}, ['consulted'], {})\n"
        "gc.collect()\n"
        "import duckdb\n"
        "for _ in range(30):\n"
        "    con = duckdb.connect()\n"
        "    assert con.sql('SELECT count(*) FROM range(100000)').fetchone() == (100000,)\n"
        "    con.close()\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
