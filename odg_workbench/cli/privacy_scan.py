"""``odg privacy scan``: personal data per column of a workspace table or a file."""

from __future__ import annotations

from pathlib import Path
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
    status,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    from odg_workbench.privacy.detect import ScanReport
    from odg_workbench.workspace import Workbench


def register(group: typer.Typer) -> None:
    """Add this module's commands to the ``odg privacy`` group."""
    group.command("scan")(scan)


def _workspace_for(target: str, workspace: Path | None, user: str | None) -> Workbench | None:
    """The workspace; a file can be scanned without one."""
    from odg_workbench.errors import WorkspaceError

    try:
        return open_workspace(workspace, user)
    except WorkspaceError:
        if workspace is None and Path(target).expanduser().exists():
            return None
        raise


@handle_errors
def scan(
    target: Annotated[
        str, typer.Argument(help="A workspace table (layer.name) or a Parquet/CSV/JSON file.", show_default=False)
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Snapshot id, tag or ISO timestamp of the table.")
    ] = None,
    sample_rows: Annotated[
        int | None,
        typer.Option("--sample-rows", "-n", help="Rows sampled (default: the setting privacy.scan_sample_rows)."),
    ] = None,
    columns: Annotated[
        list[str] | None, typer.Option("--column", "-c", help="Scan only this column (repeatable).")
    ] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Detect personal data (CPF, CNPJ, e-mail, phone, card, IBAN, SSN, IP, name, birth date, address) per column."""
    from odg_workbench.privacy.detect import scan as run_scan

    wb = _workspace_for(target, workspace, user)
    try:
        with status(f"scanning {target}"):
            report = run_scan(
                target,
                workbench=wb,
                as_of=_as_of(as_of),
                sample_rows=sample_rows,
                columns=columns or None,
            )
    finally:
        if wb is not None:
            wb.close()
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def _as_of(value: str | None) -> Any:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _print_report(report: ScanReport) -> None:
    rows: list[dict[str, Any]] = []
    for column, findings in report.columns.items():
        if not findings:
            rows.append({"column": column, "entity": "-", "confidence": "", "evidence": report.skipped.get(column, "")})
        for f in findings:
            ev = f.evidence
            parts = []
            if ev.get("name_match"):
                parts.append(f"name ({ev['name_match']})")
            if ev.get("matched"):
                parts.append(f"{ev['matched']}/{ev['sampled']} values")
            if ev.get("in_text"):
                parts.append(f"in {ev['in_text']}/{ev['sampled']} texts")
            rows.append(
                {
                    "column": column,
                    "entity": f.entity,
                    "confidence": f"{f.confidence:.2f}",
                    "evidence": ", ".join(parts),
                }
            )
    title = f"{report.source}: {report.rows_scanned:,} of {report.rows_total:,} rows scanned"
    print_table(rows, ["column", "entity", "confidence", "evidence"], title=title)
    pii = report.pii_columns
    if pii:
        stdout().print(f"{len(pii)} of {len(report.columns)} columns hold personal data")
    else:
        stderr().print("[green]no personal data found[/green]")
