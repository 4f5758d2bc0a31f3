"""``odg promote``: move a table up the medallion layers through its quality gate.

Exit status: 0 when promoted (or already promoted), 3 when blocked by the gate, 0 with
``status: pending_decision`` when a decision must approve it first, 1 on an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from odg_workbench.cli._common import (
    JsonOpt,
    UserOpt,
    WorkspaceOpt,
    handle_errors,
    open_workspace,
    print_json,
    status,
    stdout,
)

BLOCKED = 3


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)


@handle_errors
def promote(
    table: Annotated[str, typer.Argument(help="Source table, layer.name (e.g. bronze.orders).", show_default=False)],
    to: Annotated[str, typer.Option("--to", help="Target layer: the next one up.", show_default=False)],
    contract: Annotated[
        Path | None,
        typer.Option("--contract", "-c", help="ODCS contract (default: WORKSPACE/contracts/NAME.odcs.yaml)."),
    ] = None,
    sql: Annotated[
        str | None,
        typer.Option("--sql", help="Transformation: DuckDB SQL over {source}, e.g. 'SELECT ... FROM {source}'."),
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Source snapshot id, tag or timestamp.")] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Target table (default: same name, next layer).")
    ] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Domain of the decision (RACI).")] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Promote a table: promoted, pending_decision (with the decision id) or blocked (with reasons)."""
    with open_workspace(workspace, user) as wb, status(f"promoting {table} to {to}"):
        result = wb.promotions.promote(
            table,
            to,
            contract=contract,
            transform=sql,
            as_of=int(as_of) if as_of and as_of.isdigit() else as_of,
            target=target,
            domain=domain,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        colour = {"promoted": "green", "already_promoted": "green", "pending_decision": "yellow"}.get(
            result.status, "red"
        )
        stdout().print(
            f"[bold {colour}]{result.status}[/bold {colour}]: {result.source} -> {result.target}", highlight=False
        )
        if result.decision_id:
            stdout().print(f"  decision {result.decision_id} (odg decision show {result.decision_id})", highlight=False)
        for reason in result.reasons:
            stdout().print(f"  - {reason}", highlight=False)
    if result.status == "blocked":
        raise typer.Exit(BLOCKED)
