"""``odg privacy`` commands for classification and masking: classify, classifications,
mask-plan, read, detokenize. Thin adapters over :mod:`odg_workbench.privacy.classification`
and :mod:`odg_workbench.privacy.masking`.
"""

from __future__ import annotations

from typing import Annotated, Any

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

TableArg = Annotated[str, typer.Argument(help="A workspace table, layer.name.", show_default=False)]


def register(group: typer.Typer) -> None:
    """Add this module's commands to the ``odg privacy`` group."""
    group.command("classify")(classify)
    group.command("classifications")(classifications)
    group.command("mask-plan")(mask_plan)
    group.command("read")(read)
    group.command("detokenize")(detokenize)


def _as_of(value: str | None) -> Any:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _show_classification(title: str, c: dict[str, Any] | None) -> None:
    console = stdout()
    if c is None:
        console.print(f"[dim]{title}: none[/dim]")
        return
    who = f" by {c['set_by']} at {c['set_at']}" if c.get("set_by") else ""
    console.print(
        f"[bold]{title}[/bold]: {c['level']} ({', '.join(c['jurisdictions']) or 'no jurisdiction'}){who}",
        highlight=False,
    )
    console.print(f"  frameworks: {', '.join(c['frameworks'])}", highlight=False)
    if c.get("reason"):
        console.print(f"  reason: {c['reason']}", highlight=False)
    rows = [{"column": col, "entities": ", ".join(ents)} for col, ents in c["pii_columns"].items()]
    if rows:
        print_table(rows, title="personal data columns")


@handle_errors
def classify(
    table: TableArg,
    set_level: Annotated[
        str | None,
        typer.Option(
            "--set", help="Set the level: Public, Internal, Confidential, Restricted, Top Secret (owners only)."
        ),
    ] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option("--jurisdiction", help="Comma-separated jurisdictions with --set: BR, EU, US, GLOBAL."),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, recorded with --set.")] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a table's classification and the one suggested by a PII scan, or set it (--set)."""
    from odg_workbench.privacy.classification import ClassificationError

    wb = open_workspace(workspace, user)
    try:
        if set_level is None:
            if jurisdiction is not None or reason is not None:
                raise ClassificationError("--jurisdiction and --reason go with --set LEVEL")
            stored = wb.classifications.get(table)
            suggestion = wb.classifications.suggest(table)
            out: dict[str, Any] = {
                "table": suggestion.table,
                "classification": stored.to_dict() if stored else None,
                "suggestion": suggestion.to_dict(),
            }
            if as_json:
                print_json(out)
            else:
                _show_classification("classification", out["classification"])
                _show_classification("suggested", out["suggestion"])
            return
        result = wb.classifications.set(table, set_level, jurisdiction, reason=reason)
    finally:
        wb.close()
    if as_json:
        print_json(result.to_dict())
    else:
        _show_classification(f"{result.table} classified", result.to_dict())


@handle_errors
def classifications(workspace: WorkspaceOpt = None, user: UserOpt = None, as_json: JsonOpt = False) -> None:
    """Every table's classification set by its owners."""
    wb = open_workspace(workspace, user)
    try:
        items = [c.to_dict() for c in wb.classifications.all()]
    finally:
        wb.close()
    if as_json:
        print_json(items)
        return
    rows = [
        {
            "table": c["table"],
            "level": c["level"],
            "jurisdictions": ", ".join(c["jurisdictions"]),
            "pii columns": ", ".join(c["pii_columns"]),
            "set by": c["set_by"],
            "set at": c["set_at"],
        }
        for c in items
    ]
    print_table(rows, title="classifications")


@handle_errors
def mask_plan(table: TableArg, workspace: WorkspaceOpt = None, user: UserOpt = None, as_json: JsonOpt = False) -> None:
    """Which columns the acting user (--as) would see masked, with which method, and why."""
    wb = open_workspace(workspace, user)
    try:
        plan = wb.masking.explain(table).to_dict()
    finally:
        wb.close()
    if as_json:
        print_json(plan)
        return
    console = stdout()
    verdict = "unmasked" if plan["unmasked"] else "masked" if plan["plan"] else "nothing to mask"
    console.print(f"[bold]{plan['table']}[/bold] for {plan['actor']}: {verdict}", highlight=False)
    for reason in plan["reasons"]:
        console.print(f"  {reason}", highlight=False)
    rows = [{"column": c, "entity": plan["entities"].get(c, ""), "method": m} for c, m in plan["plan"].items()]
    if rows:
        print_table(rows, title="masking plan")


@handle_errors
def read(
    table: TableArg,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Rows to show.")] = 20,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot id, tag or ISO timestamp.")] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Decrypt tokenized columns (needs unmasked access and the key).")
    ] = False,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read a table as the acting user (--as) may see it: personal data masked by policy."""
    wb = open_workspace(workspace, user)
    try:
        data, plan = wb.masking.read_with_plan(table, as_of=_as_of(as_of), limit=limit, reveal=reveal)
    finally:
        wb.close()
    rows = data.to_pylist()
    if as_json:
        print_json(
            {
                "table": plan.table,
                "actor": plan.actor,
                "masked": plan.columns,
                "stored_masked": plan.stored,
                "rows": rows,
            }
        )
        return
    masked = {**plan.stored, **plan.columns}
    print_table(rows, title=f"{plan.table} as {plan.actor}" + (f" (masked: {', '.join(masked)})" if masked else ""))


@handle_errors
def detokenize(
    table: TableArg,
    tokens: Annotated[list[str], typer.Argument(help="Tokens (tok_...) read from the table.", show_default=False)],
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The values behind tokens of a table (needs unmasked access to it and the masking key)."""
    wb = open_workspace(workspace, user)
    try:
        values = wb.masking.detokenize(table, tokens)
    finally:
        wb.close()
    out = dict(zip(tokens, values, strict=True))
    if as_json:
        print_json({"table": table, "values": out})
        return
    print_table([{"token": t, "value": v} for t, v in out.items()], title=f"{table} tokens")
