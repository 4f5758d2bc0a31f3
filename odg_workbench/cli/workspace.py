"""``odg init``, ``odg info`` and ``odg config``."""

from __future__ import annotations

from pathlib import Path
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
    status,
    stdout,
)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("info")(info)
    app.command("demo")(demo)
    config_app = typer.Typer(help="Show and change workspace settings (odg.toml).", no_args_is_help=True)
    config_app.command("list")(config_list)
    config_app.command("get")(config_get)
    config_app.command("set")(config_set)
    config_app.command("unset")(config_unset)
    app.add_typer(config_app, name="config")


@handle_errors
def init(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Workspace folder to create (default: $ODG_HOME or ~/.local/share/odg-workbench).", show_default=False
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a workspace (Iceberg catalog, warehouse, state database, odg.toml), or reopen one."""
    from odg_workbench.config import CONFIG_FILE

    target = path or workspace
    from odg_workbench.workspace import default_workspace

    root = (target or default_workspace()).expanduser().absolute()
    existed = (root / CONFIG_FILE).exists()
    wb = open_workspace(root, create=True)
    with wb:
        wb.lakehouse.ensure_layers()
        data = {"workspace": str(wb.root), "created": not existed, "layers": ["bronze", "silver", "gold", "platinum"]}
    if as_json:
        print_json(data)
    else:
        verb = "Reopened existing" if existed else "Created"
        stdout().print(f"{verb} workspace [bold]{wb.root}[/bold] with layers bronze, silver, gold, platinum")
        if not existed:
            stdout().print(f"Next: odg ingest data.csv --table bronze.my_table -w {wb.root}")


@handle_errors
def info(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Where the workspace keeps its catalog, data and state, and what it holds."""
    with open_workspace(workspace) as wb:
        props = wb.config.catalog_properties()
        tables = wb.tables()
        data: dict[str, Any] = {
            "workspace": str(wb.root),
            "name": wb.name,
            "user": wb.user,
            "catalog": {
                "type": props.get("type"),
                "uri": _redact(props.get("uri", "")),
                "warehouse": props.get("warehouse"),
            },
            "state_url": _redact(str(wb.config.get("state.url"))),
            "tables": len(tables),
            "rows": sum(t.rows for t in tables),
            "layers": {
                layer: sum(1 for t in tables if t.layer == layer) for layer in ("bronze", "silver", "gold", "platinum")
            },
        }
    if as_json:
        print_json(data)
        return
    out = stdout()
    out.print(f"[bold]{data['name']}[/bold]  {data['workspace']}")
    out.print(f"catalog   {data['catalog']['type']}  {data['catalog']['uri']}")
    out.print(f"warehouse {data['catalog']['warehouse']}")
    out.print(f"state     {data['state_url']}")
    out.print(f"user      {data['user']}")
    out.print("tables    " + ", ".join(f"{k} {v}" for k, v in data["layers"].items()) + f"  ({data['rows']} rows)")


def _redact(url: str) -> str:
    from odg_workbench.workspace import _redact as redact

    return redact(url)


@handle_errors
def config_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Every setting with its effective value and where it comes from (env, file, default)."""
    from odg_workbench.config import SETTINGS

    helps = {s.key: s.help for s in SETTINGS}
    with open_workspace(workspace) as wb:
        rows = [
            {"key": k, "value": v, "origin": o, "help": helps.get(k, "pyiceberg catalog property")}
            for k, v, o in wb.config.items()
        ]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["key", "value", "origin"], title="settings")


@handle_errors
def config_get(key: str, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """The effective value of one setting (with {workspace} and ${ENV} substituted)."""
    with open_workspace(workspace) as wb:
        value = wb.config.get(key)
    if as_json:
        print_json({"key": key, "value": value})
    else:
        typer.echo(value)


@handle_errors
def config_set(key: str, value: str, workspace: WorkspaceOpt = None) -> None:
    """Set a setting in odg.toml (catalog.* accepts any pyiceberg catalog property)."""
    with open_workspace(workspace) as wb:
        wb.config.set(key, value)
        wb.config.save()
    stdout().print(f"{key} = {value!r} in {wb.config.path}")


@handle_errors
def config_unset(key: str, workspace: WorkspaceOpt = None) -> None:
    """Remove a setting from odg.toml (its default applies again)."""
    with open_workspace(workspace) as wb:
        wb.config.unset(key)
        wb.config.save()
    stdout().print(f"{key} reset to its default")


@handle_errors
def demo(workspace: WorkspaceOpt = None, user: UserOpt = None, as_json: JsonOpt = False) -> None:
    """The main job: ingest the sample data into Bronze and check it against its contracts (rerun-safe)."""
    from odg_workbench.samples import check_samples, ingest_samples, promote_samples

    with open_workspace(workspace, user, create=True) as wb:
        with status("ingesting samples into bronze"):
            results = ingest_samples(wb)
        infos = {t.table: t for t in wb.tables("bronze")}
        widths = {r.table: len(wb.table(r.table).schema) for r in results}
        with status("checking data contracts"):
            reports = check_samples(wb)
        with status("promoting to silver"):
            promotions = promote_samples(wb)
        audit = wb.audit.verify()
        root = str(wb.root)
    if as_json:
        print_json(
            {
                "workspace": root,
                "ingested": [r.to_dict() for r in results],
                "tables": [infos[r.table].to_dict() for r in results],
                "quality": [
                    {
                        "dataset": q.dataset,
                        "contract": q.contract_id,
                        "score": q.score,
                        "verdict": q.verdict.status,
                        "gate": q.verdict.layer,
                        "failed_rules": [o.rule.id for o in q.failed_rules],
                        "run_id": q.run_id,
                    }
                    for q in reports
                ],
                "promotions": [p.to_dict() for p in promotions],
                "audit": audit.to_dict(),
            }
        )
        return
    rows = [
        {
            "table": r.table,
            "rows": f"{infos[r.table].rows:,}",
            "columns": widths[r.table],
            "snapshot": infos[r.table].current_snapshot_id,
            "this run": "already loaded" if r.skipped else f"+{r.rows:,} rows",
            "source": r.source.rsplit("/", 1)[-1],
        }
        for r in results
    ]
    stdout().print(f"Workspace [bold]{root}[/bold]")
    print_table(rows, ["table", "rows", "columns", "snapshot", "this run", "source"], title="bronze layer")
    checks = [
        {
            "table": q.dataset,
            "contract": f"{q.contract_id} {q.contract_version}",
            "score": "n/a" if q.score is None else f"{q.score:.4f}",
            "gate": f"{q.verdict.layer} {q.verdict.threshold:.2f}",
            "verdict": q.verdict.status,
            "failed rules": ", ".join(o.rule.id for o in q.failed_rules) or "-",
        }
        for q in reports
    ]
    print_table(checks, title="data contracts (odg quality history -w WORKSPACE)")
    moves = [
        {
            "from": p.source,
            "to": p.target,
            "status": p.status,
            "target snapshot": p.target_snapshot_id or "-",
            "why": "; ".join(p.reasons[:2]),
        }
        for p in promotions
    ]
    print_table(moves, title="promotion to silver (odg promote TABLE --to silver)")
    stdout().print(
        f"audit trail: {audit.events} events, chain {'intact' if audit.ok else 'BROKEN'} "
        f"(head {audit.head[:16]}..., odg audit verify -w WORKSPACE)",
        highlight=False,
    )
    stdout().print(f'Try: odg sql "SELECT count(*) FROM bronze.customers" -w {root}')
