"""OpenLineage commands: ingest events from other tools, export and resend the workbench's, validate.

Exit status of ``odg openlineage validate``: 0 when every event validates, 5 when some do
not (each problem printed with its file line and JSON path), 1 on an error (unreadable
file, malformed JSON).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from odg_workbench.cli._common import (
    JsonOpt,
    WorkspaceOpt,
    handle_errors,
    open_workspace,
    print_json,
    print_table,
    stderr,
    stdout,
)

INVALID = 5

openlineage_app = typer.Typer(
    name="openlineage",
    help="OpenLineage events: ingest them from Airflow, Spark, dbt ...; export or resend the workbench's; validate.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(openlineage_app)


@openlineage_app.command("ingest")
@handle_errors
def ingest(
    source: Annotated[
        Path,
        typer.Argument(
            help="JSON-lines file, JSON array, or a folder of event files (FileTransport output).", show_default=False
        ),
    ],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate OpenLineage events and add their runs, jobs and datasets to the lineage graph."""
    from odg_workbench.lineage.openlineage import ingest_openlineage

    wb = open_workspace(workspace)
    report = ingest_openlineage(wb, source)
    if as_json:
        print_json(report.to_dict())
        return
    out = stdout()
    out.print(
        f"{report.events} events: {len(report.runs)} runs, {len(report.pipelines)} pipelines, "
        f"{len(report.datasets)} datasets, {report.column_edges} column edges recorded",
        highlight=False,
    )
    for item in report.skipped:
        out.print(f"[dim]skipped {item['where']}: {item['reason']}[/dim]", highlight=False)


@openlineage_app.command("export")
@handle_errors
def export(
    since: Annotated[
        str | None, typer.Option("--since", help="Only runs started at or after this ISO date or time (UTC).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the events (JSON lines) here instead of stdout.")
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Send them through the configured transport (openlineage.transport).")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The workspace's runs as OpenLineage RunEvents (START and final), rebuilt from the lineage graph."""
    from openlineage.client.serde import Serde

    from odg_workbench.errors import OdgError

    moment = None
    if since is not None:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            raise OdgError(
                f"--since must be an ISO date or time (2026-01-31 or 2026-01-31T08:00:00Z), found {since!r}",
                field="since",
                found=since,
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    wb = open_workspace(workspace)
    events = wb.openlineage.export(since=moment)
    lines = [Serde.to_json(e) for e in events]
    sent = failed = 0
    if send:
        for event in events:
            if wb.openlineage.emit(event):
                sent += 1
            else:
                failed += 1
    if output is not None:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        tmp.replace(output)
    if as_json:
        print_json(
            {
                "events": len(lines),
                "output": None if output is None else str(output),
                "sent": sent,
                "failed": failed,
                "transport": wb.openlineage.transport_kind if send else None,
            }
        )
        return
    if output is None and not send:
        sys.stdout.write("".join(line + "\n" for line in lines))
        return
    message = f"{len(lines)} events"
    if output is not None:
        message += f" written to {output}"
    if send:
        message += f"; {sent} sent through {wb.openlineage.transport_kind}"
        if failed:
            message += f", {failed} kept for `odg openlineage resend`"
    stderr().print(message, highlight=False)


@openlineage_app.command("resend")
@handle_errors
def resend(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Deliver the events kept after failed deliveries (e.g. the endpoint was down)."""
    wb = open_workspace(workspace)
    delivered, pending = wb.openlineage.resend()
    if as_json:
        print_json({"delivered": delivered, "pending": pending})
        return
    stdout().print(f"{delivered} delivered, {pending} still pending", highlight=False)
    if pending:
        raise typer.Exit(1)


@openlineage_app.command("validate")
@handle_errors
def validate(
    source: Annotated[Path, typer.Argument(help="JSON-lines file, JSON array, or folder of events.")],
    schema_dir: Annotated[
        Path | None,
        typer.Option("--schema-dir", help="Folder of the official OpenLineage JSON schema files to validate with."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check events against the OpenLineage JSON schema and their facets' schemas (no workspace needed)."""
    from odg_workbench.lineage.openlineage import load_events, validate_event

    loaded = load_events(source)
    issues = [i for where, event in loaded for i in validate_event(event, schema_dir=schema_dir, where=where)]
    bad = len({i.where for i in issues})
    if as_json:
        print_json({"events": len(loaded), "invalid": bad, "issues": [i.to_dict() for i in issues]})
    else:
        if issues:
            print_table(
                [{"where": i.where, "path": i.path, "problem": i.message} for i in issues], title="schema problems"
            )
        stdout().print(f"{len(loaded)} events, {bad} invalid", highlight=False)
    if issues:
        raise typer.Exit(INVALID)
