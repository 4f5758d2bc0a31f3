"""``odg compare``: what changed between two versions of a table, a model or a pipeline.

* ``odg compare table TABLE --from A [--to B] [--key K]``: schema diff and data diff (rows
  added, removed and changed by key, or a multiset diff without one);
* ``odg compare model NAME V1 V2``: metrics, parameters, training data and environment;
* ``odg compare pipeline NAME V1 V2``: the SQL (or polars plan) of two recorded versions.
"""

from __future__ import annotations

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

compare_app = typer.Typer(
    name="compare",
    help="Compare two versions: table snapshots (schema and data), model versions, pipeline versions.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(compare_app)


@compare_app.command("table")
@handle_errors
def table(
    name: Annotated[str, typer.Argument(help="Table, layer.name.", show_default=False)],
    from_: Annotated[
        str, typer.Option("--from", help="Snapshot id, tag or ISO timestamp to compare from.", show_default=False)
    ],
    to: Annotated[str | None, typer.Option("--to", help="Snapshot to compare to (default: the current one).")] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            "-k",
            help="Key column(s), comma-separated (default: identifier fields or the contract's primaryKey); "
            "'none' for a row-level multiset diff.",
        ),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", help="Sample rows of each kind.", min=0)] = 5,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Schema diff and data diff between two snapshots of a table (computed in DuckDB)."""
    from odg_workbench.lineage.compare import compare_snapshots

    no_key = key is not None and key.strip().lower() == "none"
    with open_workspace(workspace, user) as wb, status(f"comparing {name}"):
        diff = compare_snapshots(
            wb,
            name,
            from_,  # ids, tags and timestamps are told apart by the time-travel resolver
            to,
            key=None if no_key else key,
            samples=samples,
            infer_key=not no_key,
        )
    data = diff.to_dict()
    if as_json:
        print_json(data)
        return
    out = stdout()
    d = data["data_diff"]
    mode = f"key {', '.join(diff.key)} ({diff.key_source})" if diff.key else "no key: multiset diff"
    out.print(f"[bold]{diff.table}[/bold] {diff.from_snapshot} -> {diff.to_snapshot} ({mode})")
    summary = data["schema_diff"]["summary"]
    if summary["total"]:
        print_table(
            [{"kind": c.kind, "path": c.path, "change": c.message} for c in diff.schema_changes], title="schema"
        )
    else:
        out.print("schema: unchanged")
    counts = {k: d[k] for k in ("rows_from", "rows_to", "added", "removed", "changed", "unchanged")}
    print_table([counts], title="rows")
    if d["changed_columns"]:
        print_table([{"column": c, "rows changed": n} for c, n in d["changed_columns"].items()], title="columns")
    for kind, rows in d["samples"].items():
        if rows:
            print_table([_flat(r) for r in rows], title=f"{kind} (sample)")


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    if "key" in row and "columns" in row:
        return {
            **{f"key.{k}": v for k, v in row["key"].items()},
            **{c: f"{row['from'][c]!r} -> {row['to'][c]!r}" for c in row["columns"]},
        }
    return row


@compare_app.command("model")
@handle_errors
def model(
    name: Annotated[str, typer.Argument(help="Registered model name.", show_default=False)],
    v1: Annotated[str, typer.Argument(help="Version to compare from.", show_default=False)],
    v2: Annotated[str, typer.Argument(help="Version to compare to.", show_default=False)],
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Metrics (from, to, delta, percent change), parameters, training data and environment of two versions."""
    with open_workspace(workspace, user) as wb:
        result = wb.models.compare(name, v1, v2)
    if as_json:
        print_json(result)
        return
    out = stdout()
    out.print(f"[bold]{name}[/bold] v{result['from_version']} -> v{result['to_version']}")
    print_table([{"metric": m, **v} for m, v in result["metrics_diff"].items()], title="metrics")
    if result["params_diff"]:
        print_table([{"parameter": p, **v} for p, v in result["params_diff"].items()], title="parameters")
    out.print(f"training data changed: {'yes' if result['training_data_changed'] else 'no'}")


@compare_app.command("pipeline")
@handle_errors
def pipeline(
    name: Annotated[
        str, typer.Argument(help="Pipeline name (VersionedQuery / VersionedPipeline).", show_default=False)
    ],
    v1: Annotated[str, typer.Argument(help="Version (hash or unique prefix) to compare from.", show_default=False)],
    v2: Annotated[str, typer.Argument(help="Version to compare to.", show_default=False)],
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The SQL (sqlglot semantic diff and text diff) or polars plan of two recorded versions."""
    from odg_workbench.lineage.compare import compare_pipelines

    with open_workspace(workspace, user) as wb:
        result = compare_pipelines(wb, name, v1, v2)
    if as_json:
        print_json(result.to_dict())
        return
    out = stdout()
    out.print(f"[bold]{name}[/bold] {result.from_version[:12]} -> {result.to_version[:12]} ({result.kind})")
    if result.same:
        out.print("same version: nothing changed")
    for line in result.text_diff:
        out.print(line, markup=False, highlight=False)
