"""RACI assignments per domain and per dataset, with veto holders and an escalation chain.

A scope is ``domain:<name>`` or ``dataset:<layer.name>``. Each assignment lists user
names per role: Responsible, Accountable, Consulted, Informed, veto holders, and an
escalation chain (level 1, level 2, ...). A dataset assignment overrides its domain's
role by role: a role the dataset never set is inherited from the domain (the dataset's
domain is remembered when ``domain=`` is given to :meth:`Raci.set`).

An escalation level is a user name, ``role:admin`` (the workspace admins) or
``role:<raci role>`` (the holders of that role in the domain-level assignment, e.g.
``role:accountable``).

Changing an assignment is the ``raci.change`` action (policy: an admin, or the
Accountable of the domain); every change publishes ``raci.changed``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError
from odg_workbench.governance.policy import (
    RACI_ROLES,
    PolicyDecision,
    PolicyEngine,
    denied_error,
    workspace_admins,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odg_workbench.workspace import Workbench

__all__ = [
    "FIELDS",
    "GovernanceInputError",
    "Raci",
    "RaciAssignment",
    "RaciNotFoundError",
    "parse_scope",
]

#: The stored lists of an assignment, in display order.
FIELDS: tuple[str, ...] = (*RACI_ROLES, "escalation")
_SCOPE_KINDS = ("domain", "dataset")


class GovernanceInputError(OdgError, ValueError):
    """A malformed governance argument: a RACI scope, a user list, a decision type, a deadline."""


class RaciNotFoundError(OdgError, LookupError):
    """No RACI assignment is stored for that scope."""


def parse_scope(scope: str) -> tuple[str, str]:
    """``"domain:sales"`` -> ``("domain", "sales")``; ``"dataset:bronze.orders"`` likewise."""
    kind, sep, name = str(scope).partition(":")
    kind, name = kind.strip().lower(), name.strip()
    if not sep or kind not in _SCOPE_KINDS or not name:
        raise GovernanceInputError(
            f"RACI scope {scope!r} is not domain:NAME or dataset:NAME (e.g. domain:sales, dataset:silver.orders)",
            found=str(scope),
        )
    if any(c.isspace() for c in name) or "," in name:
        raise GovernanceInputError(f"RACI scope {scope!r}: a name has no spaces or commas", found=str(scope))
    return kind, name


@dataclass(frozen=True)
class RaciAssignment:
    """Who is Responsible, Accountable, Consulted, Informed, who holds a veto, and where it escalates.

    ``sources`` says, for an effective assignment, which scope each role came from.
    """

    scope: str
    responsible: tuple[str, ...] = ()
    accountable: tuple[str, ...] = ()
    consulted: tuple[str, ...] = ()
    informed: tuple[str, ...] = ()
    veto: tuple[str, ...] = ()
    escalation: tuple[str, ...] = ()
    domain: str | None = None
    dataset: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    updated_at: datetime | None = None
    updated_by: str | None = None

    def roles_of(self, user: str) -> list[str]:
        """The roles ``user`` holds here (escalation entries are not roles)."""
        return [role for role in RACI_ROLES if user in getattr(self, role)]

    def users(self) -> set[str]:
        """Everyone named in a role or as a user in the escalation chain."""
        names = {u for role in RACI_ROLES for u in getattr(self, role)}
        return names | {e for e in self.escalation if not e.startswith("role:")}

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "domain": self.domain,
            "dataset": self.dataset,
            **{f: list(getattr(self, f)) for f in FIELDS},
            "sources": dict(self.sources),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "updated_by": self.updated_by,
        }


def _table() -> sa.Table:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if "governance_raci" in md.tables:
        return md.tables["governance_raci"]
    return sa.Table(
        "governance_raci",
        md,
        sa.Column("scope", sa.String(1100), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(1000), nullable=False),
        sa.Column("domain", sa.String(255), index=True),
        # JSON lists; NULL means "not set here" (a dataset then inherits its domain's)
        *[sa.Column(f, sa.Text) for f in FIELDS],
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
    )


def _users(value: Iterable[str] | str, what: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise GovernanceInputError(f"{what}: user names are strings, found {item!r}", field=what)
        for part in item.split(","):
            name = part.strip()
            if not name:
                continue
            if any(c.isspace() for c in name):
                raise GovernanceInputError(f"{what}: {name!r} is not a user name (no spaces)", field=what)
            if what == "escalation" and name.startswith("role:"):
                role = name.removeprefix("role:")
                if role not in (*RACI_ROLES, "admin"):
                    raise GovernanceInputError(
                        f"escalation level {name!r}: role:NAME takes one of admin, {', '.join(RACI_ROLES)}",
                        field=what,
                        found=name,
                    )
            if name not in out:
                out.append(name)
    return tuple(out)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Raci:
    """RACI assignments of a workspace, stored in its state database.

    ``admins`` overrides the ``governance.admins`` setting; ``policy`` the policy engine.
    """

    def __init__(
        self, workbench: Workbench, *, admins: Iterable[str] | None = None, policy: PolicyEngine | None = None
    ) -> None:
        self._wb = workbench
        self.admins = workspace_admins(workbench, admins)
        self.policy = policy or PolicyEngine(workbench.root, admins=self.admins)

    # -- reading ---------------------------------------------------------------------------

    def _ensure(self) -> sa.Table:
        tbl = _table()
        self._wb.state.ensure(tbl)
        return tbl

    def _row(self, conn: sa.Connection, scope: str) -> dict[str, Any] | None:
        import sqlalchemy as sa

        tbl = _table()
        row = conn.execute(sa.select(tbl).where(tbl.c.scope == scope)).first()
        return dict(row._mapping) if row is not None else None

    @staticmethod
    def _assignment(row: Mapping[str, Any]) -> RaciAssignment:
        values: dict[str, Any] = {f: tuple(json.loads(row[f])) if row[f] is not None else () for f in FIELDS}
        kind = row["kind"]
        return RaciAssignment(
            scope=row["scope"],
            domain=row["name"] if kind == "domain" else row["domain"],
            dataset=row["name"] if kind == "dataset" else None,
            sources={f: row["scope"] for f in FIELDS if row[f] is not None},
            updated_at=_aware(row["updated_at"]),
            updated_by=row["updated_by"],
            **values,
        )

    def get(self, scope: str) -> RaciAssignment | None:
        """The assignment stored for ``scope`` (nothing inherited), or ``None``."""
        kind, name = parse_scope(scope)
        self._ensure()
        with self._wb.state.begin() as conn:
            row = self._row(conn, f"{kind}:{name}")
        return self._assignment(row) if row is not None else None

    def assignments(self) -> list[RaciAssignment]:
        """Every stored assignment, domains first."""
        import sqlalchemy as sa

        tbl = self._ensure()
        with self._wb.state.begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(sa.select(tbl).order_by(tbl.c.kind.desc(), tbl.c.name))]
        return [self._assignment(r) for r in rows]

    def effective(self, dataset: str | None = None, domain: str | None = None) -> RaciAssignment:
        """The assignment in force for a dataset and/or domain: the dataset's roles over the domain's."""
        self._ensure()
        with self._wb.state.begin() as conn:
            return self.effective_in(conn, dataset, domain)

    def effective_in(self, conn: sa.Connection, dataset: str | None, domain: str | None) -> RaciAssignment:
        """:meth:`effective` on an open connection (inside the caller's transaction)."""
        ds_row = self._row(conn, f"dataset:{dataset}") if dataset else None
        if domain is None and ds_row is not None:
            domain = ds_row["domain"]
        dom_row = self._row(conn, f"domain:{domain}") if domain else None
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for f in FIELDS:
            for row in (ds_row, dom_row):
                if row is not None and row[f] is not None:
                    values[f] = tuple(json.loads(row[f]))
                    sources[f] = row["scope"]
                    break
            else:
                values[f] = ()
        scope = f"dataset:{dataset}" if dataset else f"domain:{domain}" if domain else "workspace"
        return RaciAssignment(scope=scope, domain=domain, dataset=dataset, sources=sources, **values)

    def roles_of(self, user: str, dataset: str | None = None, domain: str | None = None) -> list[str]:
        """The roles ``user`` holds on a dataset (its own assignment over its domain's)."""
        return self.effective(dataset, domain).roles_of(user)

    def known_users(self) -> set[str]:
        """Everyone in any assignment (any role, or a user in an escalation chain), and the admins."""
        self._ensure()
        with self._wb.state.begin() as conn:
            return self.known_users_in(conn)

    def known_users_in(self, conn: sa.Connection) -> set[str]:
        import sqlalchemy as sa

        tbl = _table()
        names = set(self.admins)
        for row in conn.execute(sa.select(tbl)):
            names |= self._assignment(dict(row._mapping)).users()
        return names

    def resolve_escalation(self, entry: str, domain: str | None) -> list[str]:
        """The users of one escalation level: a user name, ``role:admin`` or ``role:<raci role>``."""
        self._ensure()
        with self._wb.state.begin() as conn:
            return self.resolve_escalation_in(conn, entry, domain)

    def resolve_escalation_in(self, conn: sa.Connection, entry: str, domain: str | None) -> list[str]:
        """:meth:`resolve_escalation` on an open connection."""
        if not entry.startswith("role:"):
            return [entry]
        role = entry.removeprefix("role:")
        if role == "admin":
            return list(self.admins)
        if domain is None:
            return []
        return list(getattr(self.effective_in(conn, None, domain), role, ()))

    # -- authorisation -----------------------------------------------------------------------

    def authorize(
        self,
        action: str,
        *,
        dataset: str | None = None,
        domain: str | None = None,
        resource: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        actor: str | None = None,
        extra_roles: Iterable[str] = (),
    ) -> PolicyDecision:
        """Evaluate ``action`` for ``actor`` (default: the workspace user) with their RACI roles.

        The resource defaults to the dataset (else the domain); ``context`` is passed as it is.
        """
        self._ensure()
        actor = actor or self._wb.user
        with self._wb.state.begin() as conn:
            assignment = self.effective_in(conn, dataset, domain)
            known = actor in self.known_users_in(conn)
        res = dict(resource or {})
        if not res:
            res = {"type": "dataset", "id": dataset} if dataset else {"type": "domain", "id": assignment.domain}
        res.setdefault("dataset", dataset)
        res.setdefault("domain", assignment.domain)
        return self.policy.evaluate(
            action,
            actor,
            res,
            [*assignment.roles_of(actor), *extra_roles],
            context,
            admin=actor in self.admins,
            known=known,
        )

    def require(self, action: str, **kwargs: Any) -> PolicyDecision:
        """:meth:`authorize`, raising :class:`~odg_workbench.governance.policy.PermissionDeniedError` when denied."""
        decision = self.authorize(action, **kwargs)
        if not decision.allowed:
            raise denied_error(decision)
        return decision

    # -- writing -------------------------------------------------------------------------------

    def set(
        self,
        scope: str,
        *,
        responsible: Iterable[str] | str | None = None,
        accountable: Iterable[str] | str | None = None,
        consulted: Iterable[str] | str | None = None,
        informed: Iterable[str] | str | None = None,
        veto: Iterable[str] | str | None = None,
        escalation: Iterable[str] | str | None = None,
        domain: str | None = None,
    ) -> RaciAssignment:
        """Set roles of ``scope``; roles not given keep their value (an empty list clears one).

        ``domain`` (dataset scopes) records the dataset's domain: roles the dataset does
        not set are inherited from it, and its Accountable may change the dataset's RACI.
        Checked against the ``raci.change`` policy; publishes ``raci.changed``.
        """
        kind, name = parse_scope(scope)
        scope = f"{kind}:{name}"
        given = {
            "responsible": responsible,
            "accountable": accountable,
            "consulted": consulted,
            "informed": informed,
            "veto": veto,
            "escalation": escalation,
        }
        changes = {f: _users(v, f) for f, v in given.items() if v is not None}
        if kind == "domain" and domain is not None and domain != name:
            raise GovernanceInputError(f"{scope}: domain= is for dataset scopes (found domain={domain!r})")
        if domain is not None:
            parse_scope(f"domain:{domain}")
        tbl = self._ensure()
        actor = self._wb.user
        now = datetime.now(UTC)
        with self._wb.state.begin() as conn:
            row = self._row(conn, scope)
            the_domain = name if kind == "domain" else (domain or (row["domain"] if row else None))
            # raci.change: an admin, or the Accountable of the domain-level assignment; moving
            # a dataset to another domain needs the old domain's consent too
            domains = [the_domain]
            if kind == "dataset" and row is not None and row["domain"] and row["domain"] != the_domain:
                domains.append(row["domain"])
            known = actor in self.known_users_in(conn)
            for dom_name in domains:
                dom = self.effective_in(conn, None, dom_name) if dom_name else RaciAssignment("workspace")
                decision = self.policy.evaluate(
                    "raci.change",
                    actor,
                    {"type": "raci", "id": scope, "domain": dom_name, "dataset": name if kind == "dataset" else None},
                    dom.roles_of(actor),
                    {"changes": sorted(changes)},
                    admin=actor in self.admins,
                    known=known,
                )
                if not decision.allowed:
                    raise denied_error(decision)
            before = self._assignment(row) if row is not None else None
            values = {f: (row[f] if row is not None else None) for f in FIELDS}
            for f, users in changes.items():
                values[f] = json.dumps(list(users))
            record = {
                "kind": kind,
                "name": name,
                "domain": the_domain if kind == "dataset" else None,
                **values,
                "updated_at": now,
                "updated_by": actor,
            }
            if row is None:
                conn.execute(tbl.insert().values(scope=scope, **record))
            else:
                conn.execute(tbl.update().where(tbl.c.scope == scope).values(**record))
            after = self._assignment({"scope": scope, **record})
        self._wb.publish(
            "raci.changed",
            scope,
            scope=scope,
            domain=after.domain,
            changed=sorted(changes),
            before=before.to_dict() if before else None,
            after=after.to_dict(),
        )
        return after
