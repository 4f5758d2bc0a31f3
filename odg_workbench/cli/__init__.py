"""The ``odg`` command line: a thin adapter over the library.

Every command is a few lines that call :mod:`odg_workbench` and print the result; heavy
libraries load only inside the command that needs them, so ``odg --help`` is instant.
"""

from __future__ import annotations

import typer

from odg_workbench import __version__
from odg_workbench.cli import apps as _apps
from odg_workbench.cli import audit as _audit
from odg_workbench.cli import compare as _compare
from odg_workbench.cli import compliance as _compliance
from odg_workbench.cli import contract as _contract
from odg_workbench.cli import events as _events
from odg_workbench.cli import governance as _governance
from odg_workbench.cli import graphql as _graphql
from odg_workbench.cli import lakehouse as _lakehouse
from odg_workbench.cli import lineage as _lineage
from odg_workbench.cli import models as _models
from odg_workbench.cli import openlineage as _openlineage
from odg_workbench.cli import pipelines as _pipelines
from odg_workbench.cli import privacy as _privacy
from odg_workbench.cli import promote as _promote
from odg_workbench.cli import quality as _quality
from odg_workbench.cli import workspace as _workspace

app = typer.Typer(
    name="odg",
    help="OpenDataGov Workbench: a governed Iceberg lakehouse on your laptop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"odg-workbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """OpenDataGov Workbench: a governed Iceberg lakehouse on your laptop."""


_workspace.register(app)
_lakehouse.register(app)
_lineage.register(app)
_graphql.register(app)
_quality.register(app)
_contract.register(app)
_promote.register(app)
_events.register(app)
_governance.register(app)
_audit.register(app)
_privacy.register(app)
_compare.register(app)
_models.register(app)
_compliance.register(app)
_openlineage.register(app)
_pipelines.register(app)
_apps.register(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
