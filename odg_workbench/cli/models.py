"""``odg model``: register model cards with MLflow, show and list them, compare versions."""

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
    print_table,
    status,
    stdout,
)

model_app = typer.Typer(
    name="model",
    help="Model cards registered with MLflow: register, show, list, compare.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app)


@model_app.command("register")
@handle_errors
def register_model(
    card: Annotated[
        Path, typer.Option("--card", "-c", help="Model card, YAML or JSON (ModelCard fields).", show_default=False)
    ],
    model_path: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="A saved MLflow model folder (with its MLmodel file) to register with the card.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a model card (and a saved MLflow model) as the model's next version."""
    with open_workspace(workspace, user) as wb, status("registering with MLflow"):
        registered = wb.models.register(card, model_dir=model_path)
    if as_json:
        print_json(registered.to_dict())
        return
    stdout().print(
        f"registered [bold]{registered.ref}[/bold] ({registered.model_uri}), risk level {registered.risk_level}, "
        f"trained on {', '.join(f'{d}@{s}' for d, s in registered.training_snapshots.items()) or 'no dataset'}"
    )


@model_app.command("show")
@handle_errors
def show(
    name: Annotated[str, typer.Argument(help="Model name, or name:version.", show_default=False)],
    version: Annotated[str | None, typer.Option("--version", "-v", help="Version (default: the latest).")] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The model card of a version."""
    if version is None and ":" in name:
        name, version = name.rsplit(":", 1)
    with open_workspace(workspace, user) as wb:
        found = wb.models.get(name, version)
    if as_json:
        print_json(found.to_dict())
        return
    data = found.to_dict()
    rows = [{"field": k, "value": v} for k, v in data.items() if v not in (None, "", [], {})]
    print_table(rows, title=found.ref)


@model_app.command("list")
@handle_errors
def list_models(
    name: Annotated[str | None, typer.Argument(help="Only this model's versions.", show_default=False)] = None,
    all_versions: Annotated[bool, typer.Option("--all", help="Every version, not only the latest.")] = False,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Registered models (the latest version of each, or every version)."""
    with open_workspace(workspace, user) as wb:
        if name is not None:
            wb.models.get(name)  # unknown names get suggestions
        cards = wb.models.list(name, all_versions=all_versions or name is not None)
    if as_json:
        print_json([c.to_dict() for c in cards])
        return
    print_table(
        [
            {
                "model": c.name,
                "version": c.version,
                "framework": c.framework,
                "risk": c.risk_level,
                "owner": c.owner,
                "trained on": ", ".join(c.training_datasets),
                "metrics": ", ".join(f"{k}={v}" for k, v in c.metrics.items()),
                "registered": c.registered_at,
            }
            for c in cards
        ],
        title="models",
    )


@model_app.command("compare")
@handle_errors
def compare(
    name: Annotated[str, typer.Argument(help="Model name.", show_default=False)],
    v1: Annotated[str, typer.Argument(help="Version to compare from.", show_default=False)],
    v2: Annotated[str, typer.Argument(help="Version to compare to.", show_default=False)],
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Same as ``odg compare model``."""
    from odg_workbench.cli.compare import model

    model(name, v1, v2, workspace=workspace, user=user, as_json=as_json)
