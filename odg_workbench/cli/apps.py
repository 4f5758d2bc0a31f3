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
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Access token every request must carry (?token=... once, then a cookie); "
            "generated when --host is not a loopback address. 'none' turns it off.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Serve every app of the workbench on one local web server (Ctrl-C stops it)."""
    import secrets

    from odg_workbench.apps.server import GRAPHQL_PATH, available_apps, is_loopback, serve

    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)  # reachable from other machines: never open by default
    if token is not None and token.lower() == "none":
        token = None

    with open_workspace(workspace, create=True) as wb:
        root = wb.root
        waiting = wb.decisions.list(status="open")
    url = f"http://{host}:{port}/"
    query = f"?token={token}" if token else ""
    out = stdout()
    out.print(
        f"OpenDataGov Workbench apps for [bold]{root}[/bold] at [link={url}{query}]{url}{query}[/link]",
        highlight=False,
    )
    for a in available_apps():
        out.print(f"  {a.title:24s} {url}{a.path}/{query}", highlight=False)
    out.print(f"  {'GraphQL API':24s} {url.rstrip('/')}{GRAPHQL_PATH}")
    for d in waiting:
        who = "; ".join(f"{role}: {', '.join(users)}" for role, users in d.waiting_for.items()) or "anyone entitled"
        out.print(f"Decision {d.id} waits for {who} ([italic]{d.title}[/italic]): act in the cockpit")
    if token:
        out.print("Every request needs the token (GraphQL: Authorization: Bearer TOKEN).")
    out.print("Ctrl-C stops the server.")
    serve(root, host=host, port=port, token=token)
