"""Governance decisions: requests that the RACI of a dataset or domain approves, rejects or vetoes.

The status machine::

    PENDING ──approve (all Accountable + one Responsible)──> APPROVED
       │  ├──reject (an Accountable)──> REJECTED
       │  ├──veto (a veto holder)─────> VETOED
       │  └──deadline passed, chain exhausted──> EXPIRED
       └──deadline passed──> ESCALATED ──(same four ways out)──> APPROVED | REJECTED | VETOED | EXPIRED
                               └──deadline passed again──> ESCALATED (next level)

Rules: a decision is APPROVED when every Accountable and at least one Responsible approved
(the requester, and whoever opened it for them, never counts: nobody approves their own request), or when the escalation
level it waits on approves; any Accountable may reject; a veto holder may veto while it
is open; an approval counts once. Who may do what is the policy's call
(:mod:`odg_workbench.governance.policy`), so a workspace can change it.

Each action is one transaction that re-reads the decision first (``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL): two people approving at the same moment
both count, and a transition happens once. Every action is kept in the decision's history
and published (``decision.created``, ``decision.approval_recorded``, ``decision.approved``,
``decision.rejected``, ``decision.vetoed``, ``decision.commented``, ``decision.escalated``,
``decision.expired``; ``decision.notified`` tells the Informed). Callbacks registered with
:func:`on_approved` run after an approval commits.
"""

from __future__ import annotations

import builtins
import difflib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError
from odg_workbench.governance.policy import PolicyEngine, denied_error
from odg_workbench.governance.raci import GovernanceInputError, Raci, RaciAssignment

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odg_workbench.workspace import Workbench

__all__ = [
    "DECISION_TYPES",
    "HOOK_MODULES",
    "OPEN_STATUSES",
    "Decision",
    "DecisionHookError",
    "DecisionNotFoundError",
    "DecisionStateError",
    "DecisionStatus",
    "Decisions",
    "HistoryEntry",
    "on_approved",
    "parse_deadline",
]

#: The kinds of decision the workbench knows.
DECISION_TYPES: tuple[str, ...] = (
    "data_promotion",
    "schema_change",
    "contract_change",
    "access_request",
    "model_release",
    "policy_exception",
)


class DecisionStatus(StrEnum):
    PENDING = "PENDING"
    ESCALATED = "ESCALATED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    VETOED = "VETOED"
    EXPIRED = "EXPIRED"


#: Statuses in which a decision can still be approved, rejected, vetoed or escalated.
OPEN_STATUSES = frozenset({DecisionStatus.PENDING, DecisionStatus.ESCALATED})


class DecisionStateError(OdgError):
    """The action is illegal in the decision's status (or repeats an approval)."""


class DecisionNotFoundError(OdgError, LookupError):
    """No decision has that id."""


class DecisionHookError(OdgError):
    """The decision is APPROVED, but a callback registered with :func:`on_approved` failed."""


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a decision's history: who did what, when, and the status before and after."""

    at: datetime
    actor: str
    action: str  # create | approve | reject | veto | comment | escalate | expire
    from_status: str | None
    to_status: str
    comment: str | None = None
    roles: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "comment": self.comment,
            "roles": list(self.roles),
        }


@dataclass
class Decision:
    """A decision and, from :meth:`Decisions.get`, its full history."""

    id: str
    type: str
    title: str
    status: DecisionStatus
    requester: str
    dataset: str | None
    domain: str | None
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    created_by: str = ""  # who opened it: the requester, or someone on the requester's behalf
    deadline: datetime | None = None
    escalation_level: int = 0
    escalated_to: list[str] = field(default_factory=list)
    closed_at: datetime | None = None
    resolution: str | None = None
    approvals: list[dict[str, Any]] = field(default_factory=list)
    waiting_for: dict[str, list[str]] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_dict(self, *, history: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "title": self.title,
            "status": self.status.value,
            "requester": self.requester,
            "created_by": self.created_by,
            "dataset": self.dataset,
            "domain": self.domain,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "escalation_level": self.escalation_level,
            "escalated_to": list(self.escalated_to),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "resolution": self.resolution,
            "approvals": list(self.approvals),
            "waiting_for": dict(self.waiting_for),
        }
        if history:
            out["history"] = [h.to_dict() for h in self.history]
        return out


# -- on_approved callbacks ------------------------------------------------------------------------

ApprovedCallback = Callable[["Workbench", Decision], Any]
_HOOKS: dict[str, list[ApprovedCallback]] = {}
_HOOKS_LOCK = threading.Lock()
# Modules that register callbacks when imported, loaded before the callbacks of their type
# run: an approval from `odg decision approve` then executes the promotion too, without
# this module importing the promotion module at import time.
HOOK_MODULES: dict[str, tuple[str, ...]] = {"data_promotion": ("odg_workbench.governance.promotion",)}


def on_approved(type: str, callback: ApprovedCallback) -> Callable[[], None]:
    """Call ``callback(workbench, decision)`` after a decision of ``type`` is APPROVED.

    Callbacks run in the process that made the approval, after its commit, in the order
    they were registered. If one raises, the decision stays APPROVED and
    :class:`DecisionHookError` propagates (run them again with :meth:`Decisions.run_hooks`).
    Returns a function that removes the callback.
    """
    _check_type(type)
    with _HOOKS_LOCK:
        callbacks = _HOOKS.setdefault(type, [])
        if callback not in callbacks:  # registering twice (a module imported twice) runs it once
            callbacks.append(callback)

    def remove() -> None:
        with _HOOKS_LOCK:
            if callback in _HOOKS.get(type, []):
                _HOOKS[type].remove(callback)

    return remove


# -- helpers ------------------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_deadline(value: str | timedelta | datetime, *, now: datetime | None = None) -> datetime:
    """A deadline from ``3d``/``12h``/``30m``/``2w``/``90s``, a timedelta, or a datetime (ISO text too)."""
    now = now or datetime.now(UTC)
    if isinstance(value, timedelta):
        when = now + value
    elif isinstance(value, datetime):
        when = _aware(value)
    else:
        m = _DURATION.match(str(value))
        if m:
            when = now + timedelta(**{_UNITS[m.group(2).lower()]: float(m.group(1))})
        else:
            try:
                when = _aware(datetime.fromisoformat(str(value).strip()))
            except ValueError:
                raise GovernanceInputError(
                    f"deadline {value!r} is neither a duration (3d, 12h, 30m, 2w) nor an ISO date-time",
                    field="deadline",
                    found=str(value),
                ) from None
    if when <= now:
        raise GovernanceInputError(
            f"deadline {when.isoformat()} is not in the future", field="deadline", found=when.isoformat()
        )
    return when


def _aware(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _maybe_aware(value: datetime | None) -> datetime | None:
    return _aware(value) if value is not None else None


def _check_type(type: str) -> None:
    if type not in DECISION_TYPES:
        close = difflib.get_close_matches(type, DECISION_TYPES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise GovernanceInputError(
            f"unknown decision type {type!r}{hint}; known: {', '.join(DECISION_TYPES)}",
            field="type",
            found=type,
        )


def _parse_id(value: str | int) -> int:
    text = str(value).strip().removeprefix("decision:")
    if not text.isdigit():
        raise DecisionNotFoundError(f"{value!r} is not a decision id (a number, e.g. 7)", decision_id=str(value))
    return int(text)


def _tables() -> tuple[sa.Table, sa.Table]:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if "governance_decisions" in md.tables:
        return md.tables["governance_decisions"], md.tables["governance_decision_history"]
    decisions = sa.Table(
        "governance_decisions",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(64), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("dataset", sa.String(1000), index=True),
        sa.Column("domain", sa.String(255), index=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True)),
        sa.Column("sla_s", sa.Float),  # the original deadline's duration, granted again at each escalation
        sa.Column("escalation_level", sa.Integer, nullable=False, default=0),
        sa.Column("escalated_to", sa.Text, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("resolution", sa.Text),
    )
    history = sa.Table(
        "governance_decision_history",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.Integer, sa.ForeignKey("governance_decisions.id"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("roles", sa.Text, nullable=False),
    )
    return decisions, history


@dataclass
class _Outcome:
    """What one action did, for the events published after its commit."""

    decision_id: int
    event: str
    payload: dict[str, Any]
    status_changed: bool
    informed: list[str]


# -- the capability -------------------------------------------------------------------------------------


class Decisions:
    """Decisions of a workspace. ``admins``/``policy``/``raci`` override the workspace's own."""

    def __init__(
        self,
        workbench: Workbench,
        *,
        admins: Iterable[str] | None = None,
        policy: PolicyEngine | None = None,
        raci: Raci | None = None,
    ) -> None:
        self._wb = workbench
        self.raci = raci or Raci(workbench, admins=admins, policy=policy)
        self.policy = policy or self.raci.policy

    on_approved = staticmethod(on_approved)

    def _ensure(self) -> tuple[sa.Table, sa.Table]:
        from odg_workbench.governance.raci import _table

        decisions, history = _tables()
        self._wb.state.ensure(_table(), decisions, history)
        return decisions, history

    # -- reading ----------------------------------------------------------------------------------

    def get(self, id: str | int) -> Decision:
        """The decision with its history, approvals and whom it waits for."""
        import sqlalchemy as sa

        did = _parse_id(id)
        dec_t, _ = self._ensure()
        with self._wb.state.begin() as conn:
            row = conn.execute(sa.select(dec_t).where(dec_t.c.id == did)).first()
            if row is None:
                raise DecisionNotFoundError(
                    f"no decision {did}: `odg decision list` shows the decisions", decision_id=str(did)
                )
            history = self._history_in(conn, did)
            decision = self._decision(dict(row._mapping), history)
            assignment = self.raci.effective_in(conn, decision.dataset, decision.domain)
        decision.waiting_for = _waiting_for(decision, assignment)
        return decision

    def list(
        self,
        *,
        domain: str | None = None,
        status: str | None = None,
        type: str | None = None,
        dataset: str | None = None,
        requester: str | None = None,
    ) -> builtins.list[Decision]:
        """Decisions, newest first (without their history). ``status="open"`` means PENDING or ESCALATED."""
        import sqlalchemy as sa

        dec_t, hist_t = self._ensure()
        query = sa.select(dec_t).order_by(dec_t.c.id.desc())
        if domain is not None:
            query = query.where(dec_t.c.domain == domain)
        if dataset is not None:
            query = query.where(dec_t.c.dataset == dataset)
        if type is not None:
            _check_type(type)
            query = query.where(dec_t.c.type == type)
        if requester is not None:
            query = query.where(dec_t.c.requester == requester)
        if status is not None:
            query = query.where(dec_t.c.status.in_(_statuses(status)))
        out: builtins.list[Decision] = []
        with self._wb.state.begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
            approvals: dict[int, builtins.list[HistoryEntry]] = {}
            if rows:
                hq = (
                    sa.select(hist_t)
                    .where(hist_t.c.decision_id.in_([r["id"] for r in rows]), hist_t.c.action == "approve")
                    .order_by(hist_t.c.id)
                )
                for h in conn.execute(hq):
                    approvals.setdefault(h.decision_id, []).append(_entry(dict(h._mapping)))
            cache: dict[tuple[str | None, str | None], RaciAssignment] = {}
            for row in rows:
                decision = self._decision(row, approvals.get(row["id"], []))
                decision.history = []
                key = (decision.dataset, decision.domain)
                if key not in cache:
                    cache[key] = self.raci.effective_in(conn, *key)
                decision.waiting_for = _waiting_for(decision, cache[key])
                out.append(decision)
        return out

    def _history_in(self, conn: sa.Connection, did: int) -> builtins.list[HistoryEntry]:
        import sqlalchemy as sa

        _, hist_t = _tables()
        rows = conn.execute(sa.select(hist_t).where(hist_t.c.decision_id == did).order_by(hist_t.c.id))
        return [_entry(dict(r._mapping)) for r in rows]

    @staticmethod
    def _decision(row: Mapping[str, Any], history: builtins.list[HistoryEntry]) -> Decision:
        approvals = [
            {"actor": h.actor, "roles": list(h.roles), "at": h.at.isoformat(), "comment": h.comment}
            for h in history
            if h.action == "approve"
        ]
        return Decision(
            id=str(row["id"]),
            type=row["type"],
            title=row["title"],
            status=DecisionStatus(row["status"]),
            requester=row["requester"],
            created_by=row["created_by"],
            dataset=row["dataset"],
            domain=row["domain"],
            payload=json.loads(row["payload"]),
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
            deadline=_maybe_aware(row["deadline"]),
            escalation_level=int(row["escalation_level"] or 0),
            escalated_to=json.loads(row["escalated_to"] or "[]"),
            closed_at=_maybe_aware(row["closed_at"]),
            resolution=row["resolution"],
            approvals=approvals,
            history=history,
        )

    # -- creating ----------------------------------------------------------------------------------

    def create(
        self,
        type: str,
        title: str,
        *,
        dataset: str | None = None,
        domain: str | None = None,
        payload: Mapping[str, Any] | None = None,
        deadline: timedelta | datetime | str | None = None,
        requester: str | None = None,
    ) -> Decision:
        """Open a PENDING decision on a dataset and/or domain (its RACI decides who approves).

        ``deadline`` (a timedelta, a datetime, or text such as ``3d``) is when it escalates
        to the next level of the RACI escalation chain; each escalation grants the same
        time again. The ``decision.create`` policy applies to the workspace user.
        """
        _check_type(type)
        if not str(title).strip():
            raise GovernanceInputError("a decision needs a title", field="title")
        if not dataset and not domain:
            raise GovernanceInputError(
                "a decision needs a dataset or a domain: its RACI decides who approves it", field="dataset"
            )
        now = datetime.now(UTC)
        due = parse_deadline(deadline, now=now) if deadline is not None else None
        try:
            payload_text = json.dumps(dict(payload or {}), default=str)
        except (TypeError, ValueError) as exc:
            raise GovernanceInputError(f"the payload is not JSON-serialisable: {exc}", field="payload") from exc
        actor = self._wb.user
        requester = requester or actor
        dec_t, hist_t = self._ensure()
        with self._wb.state.begin() as conn:
            assignment = self.raci.effective_in(conn, dataset, domain)
            domain = domain or assignment.domain
            decision = self.policy.evaluate(
                "decision.create",
                actor,
                {"type": "decision", "dataset": dataset, "domain": domain, "decision_type": type},
                assignment.roles_of(actor),
                {"requester": requester, "decision_type": type},
                admin=actor in self.raci.admins,
                known=actor in self.raci.known_users_in(conn),
            )
            if not decision.allowed:
                raise denied_error(decision)
            result = conn.execute(
                dec_t.insert().values(
                    type=type,
                    title=str(title).strip(),
                    status=DecisionStatus.PENDING.value,
                    requester=requester,
                    created_by=actor,
                    dataset=dataset,
                    domain=domain,
                    payload=payload_text,
                    created_at=now,
                    updated_at=now,
                    deadline=due,
                    sla_s=(due - now).total_seconds() if due else None,
                    escalation_level=0,
                    escalated_to="[]",
                )
            )
            did = int(next(iter(result.inserted_primary_key or ()), 0))
            conn.execute(
                hist_t.insert().values(
                    decision_id=did,
                    at=now,
                    actor=actor,
                    action="create",
                    from_status=None,
                    to_status=DecisionStatus.PENDING.value,
                    comment=None if requester == actor else f"on behalf of {requester}",
                    roles=json.dumps(assignment.roles_of(actor)),
                )
            )
        created = self.get(did)
        self._publish(
            _Outcome(
                did,
                "decision.created",
                {"deadline": created.deadline.isoformat() if created.deadline else None},
                True,
                list(assignment.informed),
            ),
            created,
        )
        return created

    # -- acting ------------------------------------------------------------------------------------

    def approve(self, id: str | int, comment: str | None = None) -> Decision:
        """Approve as the workspace user; the decision becomes APPROVED once its rule is met."""
        return self._act(id, "approve", comment)

    def reject(self, id: str | int, reason: str) -> Decision:
        """Reject (an Accountable, or the escalation level): REJECTED."""
        return self._act(id, "reject", _required(reason, "reason"))

    def veto(self, id: str | int, reason: str) -> Decision:
        """Veto (a veto holder) while open: VETOED."""
        return self._act(id, "veto", _required(reason, "reason"))

    def comment(self, id: str | int, text: str) -> Decision:
        """Add a comment (any RACI role on the decision, or its requester); the status does not change."""
        return self._act(id, "comment", _required(text, "comment"))

    def _lock(self, conn: sa.Connection, did: int) -> dict[str, Any]:
        import sqlalchemy as sa

        dec_t, _ = _tables()
        # FOR UPDATE serialises actions on one decision on PostgreSQL; SQLite's BEGIN
        # IMMEDIATE already holds the write lock
        row = conn.execute(sa.select(dec_t).where(dec_t.c.id == did).with_for_update()).first()
        if row is None:
            raise DecisionNotFoundError(
                f"no decision {did}: `odg decision list` shows the decisions", decision_id=str(did)
            )
        return dict(row._mapping)

    def _act(self, id: str | int, action: str, text: str | None) -> Decision:
        did = _parse_id(id)
        actor = self._wb.user
        dec_t, hist_t = self._ensure()
        now = datetime.now(UTC)
        with self._wb.state.begin() as conn:
            row = self._lock(conn, did)
            status = DecisionStatus(row["status"])
            if action != "comment" and status not in OPEN_STATUSES:
                raise DecisionStateError(
                    f"decision {did} ({row['title']}) is {status.value}: {actor} cannot {action} it; "
                    f"only PENDING or ESCALATED decisions can be approved, rejected or vetoed",
                    decision_id=str(did),
                    status=status.value,
                    action=action,
                )
            history = self._history_in(conn, did)
            decision = self._decision(row, history)
            assignment = self.raci.effective_in(conn, decision.dataset, decision.domain)
            roles = assignment.roles_of(actor)
            if status is DecisionStatus.ESCALATED and actor in decision.escalated_to:
                roles.append("escalation")
            approvers = [a["actor"] for a in decision.approvals]
            if action == "approve" and actor in approvers:
                when = next(a["at"] for a in decision.approvals if a["actor"] == actor)
                raise DecisionStateError(
                    f"{actor} already approved decision {did} ({when}); an approval counts once",
                    decision_id=str(did),
                    status=status.value,
                    action=action,
                )
            verdict = self.policy.evaluate(
                f"decision.{action}",
                actor,
                {
                    "type": "decision",
                    "id": str(did),
                    "dataset": decision.dataset,
                    "domain": decision.domain or assignment.domain,
                    "decision_type": decision.type,
                },
                roles,
                {
                    "requester": decision.requester,
                    "created_by": decision.created_by,
                    "status": status.value,
                    "decision_type": decision.type,
                    "escalation_level": decision.escalation_level,
                    "approvals": approvers,
                },
                admin=actor in self.raci.admins,
                known=actor in self.raci.known_users_in(conn),
            )
            if not verdict.allowed:
                raise denied_error(verdict)

            new_status = status
            event = {
                "approve": "decision.approval_recorded",
                "comment": "decision.commented",
                "reject": "decision.rejected",
                "veto": "decision.vetoed",
            }[action]
            if action == "approve":
                decision.approvals.append({"actor": actor, "roles": roles, "at": now.isoformat(), "comment": text})
                if "escalation" in roles or not _waiting_for(decision, assignment, open_only=False):
                    new_status = DecisionStatus.APPROVED
                    event = "decision.approved"
            elif action == "reject":
                new_status = DecisionStatus.REJECTED
            elif action == "veto":
                new_status = DecisionStatus.VETOED
            conn.execute(
                hist_t.insert().values(
                    decision_id=did,
                    at=now,
                    actor=actor,
                    action=action,
                    from_status=status.value,
                    to_status=new_status.value,
                    comment=text,
                    roles=json.dumps(roles),
                )
            )
            values: dict[str, Any] = {"updated_at": now, "status": new_status.value}
            if new_status is DecisionStatus.APPROVED:
                who = ", ".join(a["actor"] for a in decision.approvals)
                values |= {"closed_at": now, "resolution": f"approved by {who}"}
            elif new_status is not status:
                done = {"reject": "rejected", "veto": "vetoed"}[action]
                values |= {"closed_at": now, "resolution": f"{done} by {actor}: {text}"}
            conn.execute(dec_t.update().where(dec_t.c.id == did).values(**values))
        after = self.get(did)
        payload: dict[str, Any] = {"from_status": status.value, "roles": roles}
        if action in ("reject", "veto"):
            payload["reason"] = text
        else:
            payload["comment"] = text
        if action == "approve":
            payload["approvals"] = [a["actor"] for a in after.approvals]
            payload["waiting_for"] = after.waiting_for
        self._publish(_Outcome(did, event, payload, new_status is not status, list(assignment.informed)), after)
        if after.status is DecisionStatus.APPROVED and new_status is not status:
            self.run_hooks(after)
        return after

    def run_hooks(self, decision: Decision | str | int) -> Decision:
        """Run the :func:`on_approved` callbacks of an APPROVED decision (again, after a failure)."""
        if not isinstance(decision, Decision):
            decision = self.get(decision)
        if decision.status is not DecisionStatus.APPROVED:
            raise DecisionStateError(
                f"decision {decision.id} is {decision.status.value}: only an APPROVED decision runs its callbacks",
                decision_id=decision.id,
                status=decision.status.value,
                action="run_hooks",
            )
        _load_hook_modules(decision.type)
        with _HOOKS_LOCK:
            callbacks = builtins.list(_HOOKS.get(decision.type, []))
        for callback in callbacks:
            try:
                callback(self._wb, decision)
            except Exception as exc:
                name = f"{getattr(callback, '__module__', '?')}.{getattr(callback, '__qualname__', repr(callback))}"
                cause = exc.message if isinstance(exc, OdgError) else f"{type(exc).__name__}: {exc}"
                raise DecisionHookError(
                    f"decision {decision.id} ({decision.type}) is APPROVED, but its on_approved callback {name} "
                    f"failed: {cause}. The approval stands; fix the cause and run the callbacks again "
                    f"(Decisions.run_hooks({decision.id!r}))",
                    decision_id=decision.id,
                    status=decision.status.value,
                    hook=name,
                    cause=exc.to_dict() if isinstance(exc, OdgError) else {"type": type(exc).__name__},
                ) from exc
        return decision

    # -- deadlines -----------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> builtins.list[Decision]:
        """Escalate or expire open decisions past their deadline; the decisions changed.

        A PENDING or ESCALATED decision past its deadline moves to the next level of its
        RACI escalation chain (ESCALATED, with the original deadline's duration again), or
        becomes EXPIRED when the chain is exhausted. One level per decision per tick.
        """
        import sqlalchemy as sa

        now = _aware(now) if now is not None else datetime.now(UTC)
        dec_t, hist_t = self._ensure()
        with self._wb.state.begin() as conn:
            due = [
                int(r.id)
                for r in conn.execute(
                    sa.select(dec_t.c.id, dec_t.c.deadline).where(
                        dec_t.c.status.in_([s.value for s in OPEN_STATUSES]), dec_t.c.deadline.is_not(None)
                    )
                )
                if _aware(r.deadline) <= now
            ]
        changed: builtins.list[Decision] = []
        actor = self._wb.user
        for did in due:
            with self._wb.state.begin() as conn:
                row = self._lock(conn, did)
                status = DecisionStatus(row["status"])
                deadline = _maybe_aware(row["deadline"])
                if status not in OPEN_STATUSES or deadline is None or deadline > now:
                    continue  # another process got there first
                assignment = self.raci.effective_in(conn, row["dataset"], row["domain"])
                chain = assignment.escalation
                level = int(row["escalation_level"] or 0)
                targets: builtins.list[str] = []
                while level < len(chain) and not targets:
                    level += 1
                    targets = self.raci.resolve_escalation_in(conn, chain[level - 1], assignment.domain)
                if targets:
                    new_status = DecisionStatus.ESCALATED
                    sla = timedelta(seconds=float(row["sla_s"] or 0) or 86400)
                    values: dict[str, Any] = {
                        "status": new_status.value,
                        "escalation_level": level,
                        "escalated_to": json.dumps(targets),
                        "deadline": now + sla,
                        "updated_at": now,
                    }
                    action, event = "escalate", "decision.escalated"
                    note = f"deadline {deadline.isoformat()} passed: escalated to level {level} ({', '.join(targets)})"
                else:
                    new_status = DecisionStatus.EXPIRED
                    values = {"status": new_status.value, "updated_at": now, "closed_at": now}
                    action, event = "expire", "decision.expired"
                    note = f"deadline {deadline.isoformat()} passed and the escalation chain is exhausted"
                    values["resolution"] = note
                conn.execute(dec_t.update().where(dec_t.c.id == did).values(**values))
                conn.execute(
                    hist_t.insert().values(
                        decision_id=did,
                        at=now,
                        actor=actor,
                        action=action,
                        from_status=status.value,
                        to_status=new_status.value,
                        comment=note,
                        roles="[]",
                    )
                )
            after = self.get(did)
            payload: dict[str, Any] = {"from_status": status.value, "reason": note, "deadline": deadline.isoformat()}
            if targets:
                payload |= {"level": level, "to": targets, "new_deadline": values["deadline"].isoformat()}
            self._publish(_Outcome(did, event, payload, True, list(assignment.informed)), after)
            changed.append(after)
        return changed

    # -- events ---------------------------------------------------------------------------------------

    def _publish(self, outcome: _Outcome, decision: Decision) -> None:
        resource = f"decision:{decision.id}"
        base = {
            "id": decision.id,
            "type": decision.type,
            "title": decision.title,
            "status": decision.status.value,
            "dataset": decision.dataset,
            "domain": decision.domain,
            "requester": decision.requester,
        }
        self._wb.publish(outcome.event, resource, **base, **outcome.payload)
        if outcome.status_changed and outcome.informed:
            self._wb.publish(
                "decision.notified",
                resource,
                **base,
                event=outcome.event,
                informed=outcome.informed,
            )


def _load_hook_modules(type: str) -> None:
    import importlib

    for module in HOOK_MODULES.get(type, ()):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def _entry(row: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        at=_aware(row["at"]),
        actor=row["actor"],
        action=row["action"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        comment=row["comment"],
        roles=tuple(json.loads(row["roles"] or "[]")),
    )


def _waiting_for(decision: Decision, assignment: RaciAssignment, *, open_only: bool = True) -> dict[str, list[str]]:
    """Who still has to approve: each Accountable, one of the Responsible (never the requester)."""
    if open_only and not decision.is_open:
        return {}
    approved = {a["actor"] for a in decision.approvals}
    own = {decision.requester, decision.created_by}
    accountable = [a for a in assignment.accountable if a not in own]
    responsible = [r for r in assignment.responsible if r not in own]
    out: dict[str, list[str]] = {}
    missing = [a for a in accountable if a not in approved]
    if missing:
        out["accountable"] = missing
    if responsible and not approved.intersection(responsible):
        out["responsible_any_of"] = responsible
    if out and decision.status is DecisionStatus.ESCALATED and decision.escalated_to:
        out["or_escalation"] = list(decision.escalated_to)
    return out


def _statuses(status: str) -> list[str]:
    text = status.strip().upper()
    if text == "OPEN":
        return [s.value for s in OPEN_STATUSES]
    try:
        return [DecisionStatus(text).value]
    except ValueError:
        raise GovernanceInputError(
            f"unknown status {status!r}; known: open, {', '.join(s.value.lower() for s in DecisionStatus)}",
            field="status",
            found=status,
        ) from None


def _required(text: str | None, what: str) -> str:
    if text is None or not str(text).strip():
        raise GovernanceInputError(f"a {what} is required", field=what)
    return str(text).strip()
