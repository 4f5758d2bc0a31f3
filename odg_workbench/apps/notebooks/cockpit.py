"""Governance cockpit: the decisions inbox, approve / reject / veto, the audit chain.

Run it alone with ``marimo run odg_workbench/apps/notebooks/cockpit.py`` (workspace from
``$ODG_HOME``) or with every app: ``odg apps``.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Governance cockpit")


@app.cell
def _():
    import os

    import marimo as mo

    from odg_workbench.apps import views

    return mo, os, views


@app.cell
def _(mo, views):
    with views.workspace() as _wb:
        _empty = views.is_empty(_wb)
        _name = _wb.name
    mo.stop(_empty, mo.callout(mo.md(views.EMPTY_HINT), kind="warn"))
    mo.md(f"# Governance cockpit\n\nWorkspace **{_name}**: decisions waiting for you, and the audit chain.")
    return


@app.cell
def _(mo, os):
    get_version, set_version = mo.state(0)
    get_message, set_message = mo.state(None)
    status = mo.ui.dropdown(
        options=["open", "approved", "rejected", "vetoed", "expired", "all"],
        value="open",
        label="Status",
    )
    domain = mo.ui.text(value="", label="Domain", placeholder="any")
    actor = mo.ui.text(value=os.environ.get("ODG_USER", ""), label="Acting as", placeholder="your user name")
    mo.hstack([status, domain, actor], justify="start", gap=2)
    return actor, domain, get_message, get_version, set_message, set_version, status


@app.cell
def _(domain, get_version, mo, status, views):
    get_version()
    with views.workspace() as _wb:
        inbox = views.decisions_inbox(
            _wb, status=None if status.value == "all" else status.value, domain=domain.value.strip() or None
        )
    mo.vstack(
        [
            mo.md(f"## Inbox: {len(inbox)} decision{'s' if len(inbox) != 1 else ''}"),
            mo.ui.table(views.frame(inbox), selection=None, label="Decisions")
            if inbox
            else mo.md("_No decision matches these filters._"),
        ]
    )
    return (inbox,)


@app.cell
def _(inbox, mo):
    choice = mo.ui.dropdown(options=[d["id"] for d in inbox], value=inbox[0]["id"] if inbox else None, label="Decision")
    action = mo.ui.dropdown(options=["approve", "reject", "veto"], value="approve", label="Action")
    comment = mo.ui.text_area(label="Comment (a reason is required to reject or veto)", full_width=True)
    submit = mo.ui.run_button(label="Submit", kind="success")
    mo.vstack([mo.md("## Act on a decision"), mo.hstack([choice, action], justify="start"), comment, submit])
    return action, choice, comment, submit


@app.cell
def _(choice, get_version, mo, views):
    get_version()
    mo.stop(not choice.value, mo.md("_Nothing to act on._"))
    with views.workspace() as _wb:
        detail = views.decision_detail(_wb, choice.value)
    _report = detail["quality_report"]
    _rec = detail["recommendation"] or {}
    _parts = [
        mo.md(
            f"### {detail['title']}\n\n"
            f"**Status** {detail['status']} · **requested by** {detail['requester']} · "
            f"**dataset** {detail['dataset'] or '-'} · **waiting for** "
            + (", ".join(f"{k}: {', '.join(v)}" for k, v in detail["waiting_for"].items()) or "-")
        )
    ]
    if _rec:
        _parts.append(
            mo.callout(
                mo.md(f"**Recommendation: {_rec.get('action', '?')}**. " + " ".join(_rec.get("reasons", []))),
                kind="info",
            )
        )
    if _report:
        _parts.append(mo.ui.altair_chart(views.dimension_chart(_report)))
        _parts.append(mo.ui.table(views.frame(views.rule_results(_report)), selection=None, label="Quality rules"))
    _parts.append(mo.ui.table(views.frame(detail.get("history", [])), selection=None, label="History"))
    mo.vstack(_parts)
    return


@app.cell
def _(action, actor, choice, comment, get_version, mo, set_message, set_version, submit, views):
    mo.stop(not submit.value)
    try:
        with views.workspace(user=actor.value.strip() or None) as _wb:
            _after = views.act_on_decision(_wb, choice.value, action.value, comment.value)
        set_message(("success", f"Decision **{_after['id']}** is now **{_after['status']}**."))
    except Exception as _exc:  # the policy engine's refusal, a missing reason ...: shown, not raised
        set_message(("danger", f"**Refused**: {_exc}"))
    set_version(get_version() + 1)
    return


@app.cell
def _(get_message, mo):
    _message = get_message()
    mo.callout(mo.md(_message[1]), kind=_message[0]) if _message else mo.md("")
    return


@app.cell
def _(get_version, mo, views):
    get_version()
    with views.workspace() as _wb:
        _audit = views.audit_status(_wb)
    mo.callout(
        mo.md(
            f"**Audit chain {'verified' if _audit['ok'] else 'BROKEN'}**: {_audit['events']} events, "
            f"head `{_audit['head'][:16]}...`"
            + ("" if _audit["ok"] else f" · {_audit.get('error') or _audit.get('reason') or ''}")
        ),
        kind="success" if _audit["ok"] else "danger",
    )
    return


if __name__ == "__main__":
    app.run()
