"""``odg graphql``: run a GraphQL query against the workspace, or print the schema.

``odg graphql QUERY_OR_FILE [--var name=value ...] [--json]`` prints the query's data as
JSON (errors on stderr, exit status 1 when there are any); ``--json`` prints the whole
GraphQL response (``data`` and ``errors`` with their ``extensions``) as one document.
``odg graphql schema`` prints the schema in SDL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from odg_workbench.cli._common import JsonOpt, UserOpt, WorkspaceOpt, handle_errors, open_workspace, print_json, stderr

_HELP = (
    "Run a GraphQL query (text, a .graphql file, or - for stdin) against the workspace; "
    "`odg graphql schema` prints the schema (SDL). Queries: decision, decisions, dataset, datasets, "
    "lineage, qualityReport, datasetLineage, modelLineage, impactAnalysis, models, model."
)


def register(app: typer.Typer) -> None:
    app.command("graphql", help=_HELP)(graphql)


def _read_query(text: str) -> str:
    from odg_workbench.lineage.graphql import GraphQLInputError

    if text == "-":
        return sys.stdin.read()
    path = Path(text).expanduser()
    looks_like_file = path.suffix.lower() in (".graphql", ".gql") or (
        "{" not in text and path.exists() and path.is_file()
    )
    if not looks_like_file:
        return text
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GraphQLInputError(
            f"cannot read the query file {path}: {exc.strerror or exc}", field="query", path=str(path)
        ) from exc


def _parse_vars(items: list[str]) -> dict[str, str]:
    from odg_workbench.lineage.graphql import GraphQLInputError

    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise GraphQLInputError(
                f"--var {item!r}: expected name=value (e.g. --var id=silver.orders --var depth=3)",
                field="var",
                found=item,
            )
        out[name.strip().lstrip("$")] = value
    return out


@handle_errors
def graphql(
    query: Annotated[
        str,
        typer.Argument(
            help="GraphQL query text, a .graphql/.gql file, '-' for stdin, or 'schema' for the SDL.",
            show_default=False,
        ),
    ],
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var", help="A variable, name=value (repeatable; typed as the query declares it).", show_default=False
        ),
    ] = None,
    operation: Annotated[
        str | None, typer.Option("--operation", help="The operation to run when the document has several.")
    ] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    from odg_workbench.lineage.graphql import coerce_variables, execute, sdl

    if query.strip() == "schema":
        sys.stdout.write(sdl() + "\n")
        return
    text = _read_query(query)
    variables = coerce_variables(text, _parse_vars(var or []))
    wb = open_workspace(workspace, user)
    try:
        result = execute(wb, text, variables or None, operation_name=operation)
    finally:
        wb.close()
    errors = result.get("errors") or []
    if as_json:
        print_json(result)
    else:
        if result.get("data") is not None:
            print_json(result["data"])
        from rich.markup import escape

        console = stderr()
        for error in errors:
            where = ".".join(str(p) for p in error.get("path") or [])
            console.print(
                f"[bold red]error:[/bold red] {escape(error['message'])}"
                + (f" [dim](at {escape(where)})[/dim]" if where else ""),
                highlight=False,
                soft_wrap=True,
            )
    if errors:
        raise typer.Exit(1)
