"""Quality commands: check data against an ODCS contract, the run history, compiled SQL.

Exit status of ``odg quality check``: 0 when the data passes its layer's gate, 3 when it
does not (a failing ``severity: error`` rule or a score under the threshold), 1 on an
error (bad contract, unknown column, unreadable data ...).
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
    from odg_workbench.quality.report import QualityReport
    from odg_workbench.workspace import Workbench

GATE_FAILED = 3

ContractOpt = Annotated[
    Path, typer.Option("--contract", "-c", help="ODCS v3 contract (YAML or JSON).", show_default=False)
]
ObjectOpt = Annotated[str | None, typer.Option("--object", help="Schema object of a contract that describes several.")]

quality_app = typer.Typer(
    name="quality",
    help="Check data against ODCS contracts: DAMA scores, layer gates, history.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(quality_app)


def _workspace_for(target: str, workspace: Path | None, user: str | None) -> Workbench | None:
    """The workspace; a file can be checked without one (nothing is stored then)."""
    from odg_workbench.errors import WorkspaceError

    try:
        return open_workspace(workspace, user)
    except WorkspaceError:
        if workspace is None and Path(target).expanduser().exists():
            stderr().print("[dim]no workspace: the report is not stored in a history[/dim]")
            return None
        raise


@quality_app.command("check")
@handle_errors
def check(
    target: Annotated[
        str,
        typer.Argument(help="A workspace table (layer.name) or a Parquet/CSV/JSON file.", show_default=False),
    ],
    contract: ContractOpt,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Snapshot id, tag or ISO timestamp of the table.")
    ] = None,
    object_name: ObjectOpt = None,
    layer: Annotated[
        str | None, typer.Option("--layer", help="Gate to apply (default: the table's layer, else bronze).")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="auto (polars for small Parquet files, else DuckDB), ibis (one-pass SQL), polars, array (NumPy/CuPy).",
        ),
    ] = "auto",
    save: Annotated[bool, typer.Option("--save/--no-save", help="Store the run in the quality history.")] = True,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check data against a contract; exit status 3 when it fails its gate."""
    from odg_workbench.quality import check as run_check

    wb = _workspace_for(target, workspace, user)
    try:
        with status(f"checking {target}"):
            report = run_check(
                target,
                contract,
                workbench=wb,
                as_of=_as_of(as_of),
                object=object_name,
                layer=layer,
                engine=engine,  # type: ignore[arg-type]
                save=save,
            )
    finally:
        if wb is not None:
            wb.close()
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.passed:
        raise typer.Exit(GATE_FAILED)


def _as_of(value: str | None) -> Any:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _print_report(report: QualityReport) -> None:
    from rich.table import Table

    console = stdout()
    table = Table(title=f"{report.dataset} with {report.contract_id} {report.contract_version}".strip())
    for col in ("rule", "metric", "dimension", "severity", "value", "threshold", "evaluated", "failed", "result"):
        table.add_column(col, overflow="fold")
    for o in report.outcomes:
        d = o.to_dict()
        value = d["value"]
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        threshold = d["threshold"]["text"]
        if o.rule.unit == "percent" and value is not None:
            shown += " %"
        elif o.rule.metric == "freshness":
            shown = "no data" if value is None else f"{value / 86400:.1f} days old"
            threshold = f"<= {o.rule.arguments.get('sla', '')}"
        result = (
            "[green]pass[/green]"
            if o.passed
            else ("[red]FAIL[/red]" if o.rule.severity == "error" else "[yellow]fail[/yellow]")
        )
        if not o.rule.executable:
            result = "[dim]not run[/dim]"
        table.add_row(
            o.rule.id,
            o.rule.metric,
            o.rule.dimension,
            o.rule.severity,
            shown,
            threshold,
            f"{o.evaluated:,}",
            f"{o.failed:,}",
            result,
        )
    console.print(table)
    dims = [
        {
            "dimension": d,
            "score": "n/a" if s.score is None else f"{s.score:.4f}",
            "evaluated": s.evaluated,
            "failed": s.failed,
        }
        for d, s in report.dimensions.items()
    ]
    print_table(dims, title="DAMA dimensions")
    colour = "green" if report.passed else "red"
    console.print(f"[bold {colour}]{report.summary()}[/bold {colour}]", highlight=False)
    for reason in report.verdict.reasons:
        console.print(f"  - {reason}", highlight=False)
    for note in report.notes:
        console.print(f"  [dim]note: {note}[/dim]", highlight=False)
    for o in report.failed_rules:
        if o.samples:
            print_table(o.samples, title=f"sample of failing rows: {o.rule.id}")


@quality_app.command("history")
@handle_errors
def history(
    dataset: Annotated[
        str | None, typer.Argument(help="Table (layer.name) or file path; all datasets when omitted.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Most recent runs only.")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored quality runs, newest first: score per DAMA dimension, verdict, snapshot."""
    with open_workspace(workspace) as wb:
        runs = wb.quality.history(dataset, limit=limit)
    if as_json:
        print_json(runs)
        return
    rows = [
        {
            "started_at": r["started_at"][:19],
            "dataset": r["dataset"],
            "snapshot": r["snapshot_id"],
            "contract": f"{r['contract_id']} {r['contract_version']}".strip(),
            "rows": f"{r['rows']:,}",
            "score": "n/a" if r["score"] is None else f"{r['score']:.4f}",
            "verdict": r["verdict"],
            "layer": r["layer"],
            "failed rules": r["rules_failed"],
            "run": r["run_id"][:12],
        }
        for r in runs
    ]
    print_table(rows, title="quality history")


@quality_app.command("show")
@handle_errors
def show(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix) from `odg quality history`.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The full stored report of one run."""
    from odg_workbench.errors import QualityError

    with open_workspace(workspace) as wb:
        matches = [r["run_id"] for r in wb.quality.history() if r["run_id"].startswith(run_id)]
        if len(matches) != 1:
            raise QualityError(
                f"no quality run {run_id!r}" if not matches else f"run id prefix {run_id!r} is ambiguous",
                found=run_id,
            )
        report = wb.quality.report(matches[0])
    if as_json:
        print_json(report)
        return
    assert report is not None
    rows = [
        {k: r[k] for k in ("id", "metric", "dimension", "value", "unit", "evaluated", "failed", "passed")}
        for r in report["rules"]
    ]
    print_table(rows, title=f"{report['dataset']} run {report['run_id'][:12]} at {report['started_at'][:19]}")
    stdout().print(f"score {report['score']}  verdict {report['verdict']}  ({report['gate']['layer']} gate)")


@quality_app.command("sql")
@handle_errors
def sql(
    contract: ContractOpt,
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect", "-d", help="trino, databricks (Spark SQL), snowflake, bigquery, postgres, duckdb ..."
        ),
    ] = "duckdb",
    object_name: ObjectOpt = None,
    table: Annotated[
        str | None, typer.Option("--table", help="Table name to use in the SQL (default: the object's).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the queries the one-pass engine sends for a contract, in any SQL dialect."""
    from odg_workbench.quality.engine_ibis import compiled_queries

    queries = compiled_queries(contract, dialect, object_name=object_name, table=table)
    if as_json:
        print_json(queries)
        return
    for q in queries:
        stdout().print(f"-- {q['purpose']}: {q['rules']}", highlight=False, markup=False)
        stdout().print(q["sql"].rstrip() + ";\n", highlight=False, markup=False)
