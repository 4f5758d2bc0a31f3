"""Audit trail commands: verify the hash chain, export it, list events, show the head to anchor.

Exit status of ``odg audit verify``: 0 when the chain is intact, 4 when it is broken (a
modified, deleted, inserted or reordered event, or a tail shorter than ``--head``), 1 on
an error (no workspace, unreadable export, malformed ``--head``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from odg_workbench.cli._common import (
    JsonOpt,
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
    from odg_workbench.governance.audit import AuditLog
    from odg_workbench.workspace import Workbench

CHAIN_BROKEN = 4

audit_app = typer.Typer(
    name="audit",
    help="The hash-chained audit trail: verify, export, list events, show the head to anchor.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app)


def _log(wb: Workbench) -> AuditLog:
    from odg_workbench.governance.audit import AuditLog

    return AuditLog(wb.state)


@audit_app.command("verify")
@handle_errors
def verify(
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Verify this export (JSON Lines) instead of the workspace's trail."),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option("--head", help="A head recorded earlier (POSITION:HASH or HASH): also detects a cut-off end."),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every hash of the chain; exit status 4 when it is broken."""
    from odg_workbench.governance.audit import AuditLog

    if file is not None:
        with status(f"verifying {file}", not as_json):
            result = AuditLog.verify_file(file, head)
    else:
        with open_workspace(workspace) as wb, status("verifying the audit trail", not as_json):
            result = _log(wb).verify(head)
    if as_json:
        print_json(result.to_dict())
    elif result.ok:
        anchored = " and reaches the recorded head" if head else ""
        stdout().print(
            f"[green]ok[/green]: {_events(result.events)}, the chain is intact{anchored}; "
            f"head {result.events - 1}:{result.head}",
            highlight=False,
        )
    else:
        stdout().print(f"[bold red]BROKEN[/bold red] at position {result.first_bad}: {result.reason}", highlight=False)
        stdout().print(
            f"{result.events:,} events before it are intact; last intact hash {result.head}", highlight=False
        )
    if not result.ok:
        raise typer.Exit(CHAIN_BROKEN)


@audit_app.command("export")
@handle_errors
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (atomically); default: standard output.")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="Export format (jsonl: one event per line).")] = "jsonl",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export every event with its hash, as stored; verify it anywhere with verify_audit.py."""
    from odg_workbench.governance.audit import AuditError

    if output is None:
        if as_json:
            raise AuditError("--json needs --output: without it the export itself goes to standard output")
        if format != "jsonl":
            raise AuditError(f"unknown export format {format!r}: use 'jsonl'", field="format", found=format)
        with open_workspace(workspace) as wb:
            for chunk in _log(wb).export_lines():
                sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    with open_workspace(workspace) as wb, status(f"exporting to {output}", not as_json):
        result = _log(wb).export(output, format=format)
    if as_json:
        print_json(result.to_dict())
    else:
        stderr().print(f"exported {_events(result.events)} to {result.path}; last hash {result.head}", highlight=False)


@audit_app.command("log")
@handle_errors
def log(
    limit: Annotated[int, typer.Option("--limit", "-n", help="The most recent N events only (0: all).")] = 20,
    type_prefix: Annotated[
        str | None, typer.Option("--type", help="Event types starting with this, e.g. lakehouse. or quality.report")
    ] = None,
    resource: Annotated[str | None, typer.Option("--resource", help="Events on this resource only.")] = None,
    since: Annotated[int, typer.Option("--since", help="From this position on.")] = 0,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Audit events, newest first."""
    with open_workspace(workspace) as wb:
        records = _log(wb).records(since, limit or None, type_prefix, resource, newest_first=True)
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    rows = [
        {
            "position": r.position,
            "time (UTC)": f"{r.time:%Y-%m-%d %H:%M:%S}",
            "type": r.type,
            "actor": r.actor,
            "resource": r.resource,
            "payload": _short(r.payload),
            "hash": r.hash[:12],
        }
        for r in records
    ]
    print_table(rows, title="audit trail")


def _events(n: int) -> str:
    return f"{n:,} event{'' if n == 1 else 's'}"


def _short(payload: object, width: int = 60) -> str:
    import json

    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


@audit_app.command("head")
@handle_errors
def head(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """The last position and hash: publish ``POSITION:HASH`` elsewhere, verify later with --head."""
    with open_workspace(workspace) as wb:
        position, digest = _log(wb).head()
    anchor = f"{position}:{digest}"
    if as_json:
        print_json({"events": position + 1, "position": position, "hash": digest, "anchor": anchor})
    else:
        sys.stdout.write(anchor + "\n")
