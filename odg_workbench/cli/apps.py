"""``odg apps``: serve the marimo apps (cockpit, quality explorer, lakehouse browser ...)."""

from __future__ import annotations

from typing import Annotated

import typer

from odg_workbench.cli._common import WorkspaceOpt, handle_errors, open_workspace, stdout


def register(app: typer.Typer) -> None:
    app.command("apps")(apps)


@handle_errors
def apps(
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 2718,
    host: Annotated[str, typer.Option("--host", help="Interface to bind (localhost by default).")] = "127.0.0.1",
    workspace: WorkspaceOpt = None,
) -> None:
    """Serve every app of the workbench on one local web server (Ctrl-C stops it)."""
    from odg_workbench.apps.server import available_apps, serve

    with open_workspace(workspace, create=True) as wb:
        root = wb.root
    url = f"http://{host}:{port}/"
    stdout().print(f"OpenDataGov Workbench apps for [bold]{root}[/bold] at [link={url}]{url}[/link]")
    for a in available_apps():
        stdout().print(f"  {a.title:24s} {url}{a.path}/")
    serve(root, host=host, port=port)
