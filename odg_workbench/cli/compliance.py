"""``odg compliance``: check a table or the workspace against compliance frameworks, classify AI use cases.

Exit status of ``odg compliance check``: 0 when no requirement fails, 3 when one does,
1 on an error (unknown framework or table, unusable workspace ...).
"""

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
    from odg_workbench.compliance.report import ComplianceReport

REQUIREMENTS_FAILED = 3

compliance_app = typer.Typer(
    name="compliance",
    help="Compliance with LGPD, GDPR, EU AI Act, SOX, NIST AI RMF, ISO 42001, DAMA-DMBOK (and plugins).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(compliance_app)


@compliance_app.command("check")
@handle_errors
def check(
    target: Annotated[
        str, typer.Argument(help="A table (layer.name) or 'workspace' for every table.", show_default=False)
    ],
    framework: Annotated[
        list[str] | None,
        typer.Option(
            "--framework",
            "-f",
            help="Framework to check (repeatable); default: every framework that applies to the target's jurisdictions.",
            show_default=False,
        ),
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report to this file.")
    ] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check TARGET; findings with evidence and remediation. Exit status 3 when a requirement fails."""
    from odg_workbench.compliance import check as check_one
    from odg_workbench.compliance import check_all, get_checker

    for name in framework or ():
        get_checker(name)  # an unknown name fails before any work
    with open_workspace(workspace, user) as wb, status(f"checking {target}"):
        if framework and len(framework) == 1:
            report = check_one(framework[0], target, workbench=wb)
        elif framework:  # named explicitly: checked whatever the target's jurisdictions
            report = check_all(target, workbench=wb, frameworks=framework, applicable_only=False)
        else:
            report = check_all(target, workbench=wb)
    if html is not None:
        written = report.write_html(html)
        stderr().print(f"[dim]HTML report written to {written}[/dim]", highlight=False)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.passed:
        raise typer.Exit(REQUIREMENTS_FAILED)


def _print_report(report: ComplianceReport) -> None:
    from rich.table import Table

    console = stdout()
    labels = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]", "not_applicable": "[dim]n/a[/dim]"}
    for name in report.frameworks:
        table = Table(title=report.titles.get(name, name), show_lines=True)
        for col in ("requirement", "status", "evidence", "remediation"):
            table.add_column(col, overflow="fold")
        for f in report.findings_of(name):
            table.add_row(f"{f.requirement_id}\n{f.name}", labels[f.status.value], f.evidence, f.remediation or "")
        console.print(table)
    s = report.summary
    score = "n/a" if report.score is None else f"{report.score:.0%}"
    colour = "green" if report.passed else "red"
    console.print(
        f"[bold {colour}]{report.target}: {s['pass']} passed, {s['fail']} failed, {s['not_applicable']} not applicable "
        f"(score {score})[/bold {colour}]",
        highlight=False,
    )
    for name, why in sorted(report.skipped.items()):
        console.print(f"  [dim]{name} not checked: {why}[/dim]", highlight=False)
    for key, why in sorted(report.unknown.items()):
        console.print(f"  [yellow]unknown {key}: {why}[/yellow]", highlight=False)


@compliance_app.command("frameworks")
@handle_errors
def frameworks(
    details: Annotated[bool, typer.Option("--requirements", help="List each framework's requirements.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The frameworks known (built-in and plugins): name, title, version, jurisdictions."""
    from odg_workbench.compliance import frameworks as names
    from odg_workbench.compliance import get_checker

    rows: list[dict[str, Any]] = []
    for name in names():
        c = get_checker(name)
        row: dict[str, Any] = {
            "name": c.name,
            "title": c.title,
            "version": c.version,
            "jurisdictions": list(c.jurisdictions),
            "requirements": len(c.requirements),
        }
        if details or as_json:
            row["requirement_list"] = [
                {"id": r.id, "name": r.name, "description": r.description, "reference": r.reference}
                for r in c.requirements
            ]
        rows.append(row)
    if as_json:
        print_json(rows)
        return
    print_table(
        [{**r, "jurisdictions": ", ".join(r["jurisdictions"])} for r in rows],
        ["name", "title", "version", "jurisdictions", "requirements"],
        title="compliance frameworks",
    )
    if details:
        for r in rows:
            print_table(r["requirement_list"], ["id", "name", "description"], title=r["title"])


@compliance_app.command("ai-risk")
@handle_errors
def ai_risk(
    description: Annotated[str, typer.Argument(help="What the AI system does, for whom, where.", show_default=False)],
    domain: Annotated[
        str | None,
        typer.Option("--domain", help="Annex III area it is used in: employment, credit, education, biometrics, ..."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The EU AI Act risk level of a described use case (unacceptable, high, limited, minimal) and its articles."""
    from odg_workbench.compliance import classify_ai_use_case

    result = classify_ai_use_case(description, domain=domain)
    if as_json:
        print_json(result.to_dict())
        return
    colour = {"unacceptable": "red", "high": "yellow", "limited": "cyan", "minimal": "green"}[result.level]
    console = stdout()
    console.print(f"[bold {colour}]{result.level}[/bold {colour}]: {', '.join(result.articles)}", highlight=False)
    for reason in result.reasons:
        console.print(f"  - {reason}", highlight=False)
    if result.matched:
        console.print(f"  [dim]matched: {'; '.join(result.matched)}[/dim]", highlight=False)
