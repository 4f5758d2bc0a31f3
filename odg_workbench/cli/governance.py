"""Governance commands: ``odg decision ...``, ``odg raci ...`` and ``odg policy ...``.

Exit status: 0 on success; 1 on an error, a refused action included (a policy denial, an
illegal transition); ``odg policy check`` exits 3 when the policy denies the action.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from odg_workbench.cli._common import (
    JsonOpt,
    UserOpt,
    WorkspaceOpt,
    handle_errors,
    open_workspace,
    print_json,
    print_table,
    stdout,
)

if TYPE_CHECKING:
    from odg_workbench.governance.decisions import Decision
    from odg_workbench.governance.raci import RaciAssignment

DENIED = 3

decision_app = typer.Typer(
    name="decision",
    help="Governance decisions: create, approve, reject, veto, comment, escalate.",
    no_args_is_help=True,
)
raci_app = typer.Typer(name="raci", help="RACI assignments per domain and dataset.", no_args_is_help=True)
policy_app = typer.Typer(name="policy", help="Rego policies: which rules are in force, and why.", no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="Decision id.", show_default=False)]
DatasetOpt = Annotated[str | None, typer.Option("--dataset", help="Dataset, e.g. silver.orders.")]
DomainOpt = Annotated[str | None, typer.Option("--domain", help="Domain, e.g. sales.")]


def _users(help: str) -> Any:
    return typer.Option(help=f"{help} (comma-separated user names; '' clears).", show_default=False)


def register(app: typer.Typer) -> None:
    app.add_typer(decision_app)
    app.add_typer(raci_app)
    app.add_typer(policy_app)


# -- output ---------------------------------------------------------------------------------------------


def _show_decision(decision: Decision, *, history: bool = False) -> None:
    console = stdout()
    colour = {"APPROVED": "green", "PENDING": "yellow", "ESCALATED": "magenta"}.get(decision.status.value, "red")
    where = ", ".join(x for x in (decision.dataset, f"domain {decision.domain}" if decision.domain else None) if x)
    console.print(
        f"decision {decision.id} [bold {colour}]{decision.status.value}[/bold {colour}] "
        f"{decision.type}: {decision.title} ({where}; requested by {decision.requester})",
        highlight=False,
    )
    if decision.deadline and decision.is_open:
        console.print(f"  deadline {decision.deadline.isoformat()}", highlight=False)
    if decision.escalated_to:
        console.print(
            f"  escalated to level {decision.escalation_level}: {', '.join(decision.escalated_to)}", highlight=False
        )
    if decision.approvals:
        console.print(f"  approved by {', '.join(a['actor'] for a in decision.approvals)}", highlight=False)
    for role, users in decision.waiting_for.items():
        console.print(f"  waiting for {role.replace('_', ' ')}: {', '.join(users)}", highlight=False)
    if decision.resolution and decision.status.value in ("REJECTED", "VETOED", "EXPIRED"):
        console.print(f"  {decision.resolution}", highlight=False)
    if history:
        print_table(
            [h.to_dict() for h in decision.history],
            ["at", "actor", "action", "from_status", "to_status", "comment"],
            title="history",
        )


def _show_raci(assignment: RaciAssignment) -> None:
    rows = [
        {
            "role": role,
            "users": ", ".join(getattr(assignment, role)),
            "from": assignment.sources.get(role, ""),
        }
        for role in ("responsible", "accountable", "consulted", "informed", "veto", "escalation")
    ]
    print_table(rows, ["role", "users", "from"], title=assignment.scope)


# -- decisions -------------------------------------------------------------------------------------------


@decision_app.command("create")
@handle_errors
def decision_create(
    type: Annotated[
        str, typer.Argument(help="data_promotion, schema_change, contract_change, ...", show_default=False)
    ],
    title: Annotated[str, typer.Option("--title", help="What is to be decided.", show_default=False)],
    dataset: DatasetOpt = None,
    domain: DomainOpt = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="When it escalates: 3d, 12h, 30m, 2w or an ISO date-time.")
    ] = None,
    payload: Annotated[str | None, typer.Option("--payload", help="Details as a JSON object.")] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a decision; its dataset's (or domain's) RACI decides who approves it."""
    from odg_workbench.governance.decisions import Decisions
    from odg_workbench.governance.raci import GovernanceInputError

    data: dict[str, Any] | None = None
    if payload is not None:
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise GovernanceInputError(f"--payload is not valid JSON: {exc}", field="payload") from exc
        if not isinstance(data, dict):
            raise GovernanceInputError("--payload must be a JSON object", field="payload")
    with open_workspace(workspace, user) as wb:
        decision = Decisions(wb).create(type, title, dataset=dataset, domain=domain, payload=data, deadline=deadline)
    if as_json:
        print_json(decision.to_dict())
    else:
        _show_decision(decision)


@decision_app.command("list")
@handle_errors
def decision_list(
    domain: DomainOpt = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, pending, escalated, approved, rejected, vetoed, expired.")
    ] = None,
    type: Annotated[str | None, typer.Option("--type", help="Decision type.")] = None,
    dataset: DatasetOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decisions, newest first."""
    from odg_workbench.governance.decisions import Decisions

    with open_workspace(workspace) as wb:
        decisions = Decisions(wb).list(domain=domain, status=status, type=type, dataset=dataset)
    if as_json:
        print_json([d.to_dict(history=False) for d in decisions])
        return
    print_table(
        [
            {
                "id": d.id,
                "status": d.status.value,
                "type": d.type,
                "title": d.title,
                "dataset": d.dataset,
                "domain": d.domain,
                "requester": d.requester,
                "waiting for": "; ".join(", ".join(v) for v in d.waiting_for.values()),
            }
            for d in decisions
        ],
        title="decisions",
    )


@decision_app.command("show")
@handle_errors
def decision_show(id: IdArg, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """A decision with its approvals, whom it waits for, and its full history."""
    from odg_workbench.governance.decisions import Decisions

    with open_workspace(workspace) as wb:
        decision = Decisions(wb).get(id)
    if as_json:
        print_json(decision.to_dict())
    else:
        _show_decision(decision, history=True)


def _act(action: str, id: str, text: str | None, workspace: Any, user: str | None, as_json: bool) -> None:
    from odg_workbench.governance.decisions import Decisions

    with open_workspace(workspace, user) as wb:
        decision = getattr(Decisions(wb), action)(id, text)
    if as_json:
        print_json(decision.to_dict())
    else:
        _show_decision(decision)


CommentOpt = Annotated[str | None, typer.Option("--comment", help="A comment kept in the history.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the history).", show_default=False)]


@decision_app.command("approve")
@handle_errors
def decision_approve(
    id: IdArg,
    comment: CommentOpt = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve (Responsible or Accountable, never your own request)."""
    _act("approve", id, comment, workspace, user, as_json)


@decision_app.command("reject")
@handle_errors
def decision_reject(
    id: IdArg, reason: ReasonOpt, workspace: WorkspaceOpt = None, user: UserOpt = None, as_json: JsonOpt = False
) -> None:
    """Reject (an Accountable)."""
    _act("reject", id, reason, workspace, user, as_json)


@decision_app.command("veto")
@handle_errors
def decision_veto(
    id: IdArg, reason: ReasonOpt, workspace: WorkspaceOpt = None, user: UserOpt = None, as_json: JsonOpt = False
) -> None:
    """Veto (a veto holder) while the decision is open."""
    _act("veto", id, reason, workspace, user, as_json)


@decision_app.command("comment")
@handle_errors
def decision_comment(
    id: IdArg,
    comment: Annotated[str, typer.Option("--comment", help="The comment.", show_default=False)],
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Comment (any RACI role, or the requester)."""
    _act("comment", id, comment, workspace, user, as_json)


@decision_app.command("tick")
@handle_errors
def decision_tick(
    now: Annotated[str | None, typer.Option("--now", help="Evaluate deadlines as of this ISO date-time.")] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Escalate or expire decisions past their deadline (run it from a scheduler)."""
    from datetime import datetime

    from odg_workbench.governance.decisions import Decisions
    from odg_workbench.governance.raci import GovernanceInputError

    when = None
    if now is not None:
        try:
            when = datetime.fromisoformat(now)
        except ValueError:
            raise GovernanceInputError(f"--now {now!r} is not an ISO date-time", field="now") from None
    with open_workspace(workspace, user) as wb:
        changed = Decisions(wb).tick(when)
    if as_json:
        print_json([d.to_dict(history=False) for d in changed])
        return
    if not changed:
        stdout().print("no decision is past its deadline", highlight=False)
    for d in changed:
        _show_decision(d)


# -- RACI ------------------------------------------------------------------------------------------------


@raci_app.command("set")
@handle_errors
def raci_set(
    scope: Annotated[str, typer.Argument(help="domain:NAME or dataset:NAME.", show_default=False)],
    responsible: Annotated[str | None, _users("Responsible")] = None,
    accountable: Annotated[str | None, _users("Accountable")] = None,
    consulted: Annotated[str | None, _users("Consulted")] = None,
    informed: Annotated[str | None, _users("Informed")] = None,
    veto: Annotated[str | None, _users("Veto holders")] = None,
    escalation: Annotated[
        str | None,
        typer.Option(help="Escalation chain, level 1 first: user names, role:admin or role:<raci role>."),
    ] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="The domain of a dataset scope.")] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set roles of a domain or dataset (roles not given keep their value)."""
    from odg_workbench.governance.raci import Raci

    with open_workspace(workspace, user) as wb:
        assignment = Raci(wb).set(
            scope,
            responsible=responsible,
            accountable=accountable,
            consulted=consulted,
            informed=informed,
            veto=veto,
            escalation=escalation,
            domain=domain,
        )
    if as_json:
        print_json(assignment.to_dict())
    else:
        _show_raci(assignment)


@raci_app.command("show")
@handle_errors
def raci_show(
    scope: Annotated[str | None, typer.Argument(help="domain:NAME or dataset:NAME (as stored).")] = None,
    dataset: DatasetOpt = None,
    domain: DomainOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A stored assignment (SCOPE), or the one in force for --dataset/--domain."""
    from odg_workbench.governance.raci import GovernanceInputError, Raci, RaciNotFoundError

    if scope is None and dataset is None and domain is None:
        raise GovernanceInputError("give a SCOPE (domain:NAME, dataset:NAME) or --dataset/--domain")
    with open_workspace(workspace) as wb:
        raci = Raci(wb)
        if scope is not None:
            found = raci.get(scope)
            if found is None:
                raise RaciNotFoundError(
                    f"no RACI assignment for {scope}; set one with `odg raci set {scope} --accountable ...`",
                    scope=scope,
                )
            assignment = found
        else:
            assignment = raci.effective(dataset, domain)
    if as_json:
        print_json(assignment.to_dict())
    else:
        _show_raci(assignment)


@raci_app.command("list")
@handle_errors
def raci_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Every stored assignment."""
    from odg_workbench.governance.raci import Raci

    with open_workspace(workspace) as wb:
        assignments = Raci(wb).assignments()
    if as_json:
        print_json([a.to_dict() for a in assignments])
        return
    print_table(
        [
            {"scope": a.scope, **{r: ", ".join(getattr(a, r)) for r in ("responsible", "accountable", "veto")}}
            for a in assignments
        ],
        title="RACI",
    )


# -- policies ------------------------------------------------------------------------------------------


@policy_app.command("check")
@handle_errors
def policy_check(
    action: Annotated[str, typer.Argument(help="decision.approve, promote, raci.change, ...", show_default=False)],
    resource: Annotated[
        str | None,
        typer.Option("--resource", help="dataset:NAME, domain:NAME or decision:ID."),
    ] = None,
    domain: DomainOpt = None,
    requester: Annotated[str | None, typer.Option("--requester", help="Who requested (context.requester).")] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Would the policies allow ACTION? Names the deciding rule and its file; exit 3 when denied."""
    from odg_workbench.governance.decisions import Decisions
    from odg_workbench.governance.raci import GovernanceInputError, Raci

    with open_workspace(workspace, user) as wb:
        raci = Raci(wb)
        kind, _, name = (resource or "").partition(":")
        context: dict[str, Any] = {"requester": requester}
        extra: list[str] = []
        if resource is None:
            if domain is None:
                raise GovernanceInputError("give --resource (dataset:NAME, domain:NAME, decision:ID) or --domain")
            decision = raci.authorize(action, domain=domain, context=context)
        elif kind == "decision":
            d = Decisions(wb, raci=raci).get(name)
            context = {
                "requester": requester or d.requester,
                "created_by": d.created_by,
                "status": d.status.value,
                "decision_type": d.type,
                "escalation_level": d.escalation_level,
                "approvals": [a["actor"] for a in d.approvals],
            }
            if d.status.value == "ESCALATED" and wb.user in d.escalated_to:
                extra.append("escalation")
            decision = raci.authorize(
                action,
                dataset=d.dataset,
                domain=domain or d.domain,
                resource={"type": "decision", "id": d.id, "decision_type": d.type},
                context=context,
                extra_roles=extra,
            )
        elif kind == "dataset" and name:
            decision = raci.authorize(action, dataset=name, domain=domain, context=context)
        elif kind == "domain" and name:
            decision = raci.authorize(action, domain=name, resource={"type": "domain", "id": name}, context=context)
        else:
            raise GovernanceInputError(
                f"--resource {resource!r} is not dataset:NAME, domain:NAME or decision:ID", found=resource
            )
    if as_json:
        print_json(decision.to_dict())
    else:
        colour = "green" if decision.allowed else "red"
        stdout().print(
            f"[bold {colour}]{'allowed' if decision.allowed else 'denied'}[/bold {colour}] "
            f"{decision.action} for {decision.actor} by rule {decision.rule}"
            + (f" ({decision.policy_file})" if decision.policy_file else ""),
            highlight=False,
        )
        for reason in decision.reasons:
            stdout().print(f"  - {reason}", highlight=False)
        stdout().print(f"  roles: {', '.join(decision.input['roles']) or 'none'}", highlight=False)
    if not decision.allowed:
        raise typer.Exit(DENIED)


@policy_app.command("list")
@handle_errors
def policy_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """The policy files in force: shipped ones and the workspace's overrides (WORKSPACE/policies)."""
    from odg_workbench.governance.policy import PolicyEngine

    with open_workspace(workspace) as wb:
        files = PolicyEngine.for_workspace(wb).policy_files()
    if as_json:
        print_json([f.to_dict() for f in files])
        return
    print_table([f.to_dict() for f in files], ["name", "origin", "package", "path"], title="policies")
