"""``odg lineage``: show a vertex's upstream and downstream, analyse the impact of a change, export.

Exit status: 0, or 1 on an error (unknown id, with close ids suggested; a bad depth or
change type).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from odg_workbench.cli._common import (
    JsonOpt,
    WorkspaceOpt,
    handle_errors,
    open_workspace,
    print_json,
    print_table,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    from odg_workbench.lineage.graph import LineageResult

lineage_app = typer.Typer(
    name="lineage",
    help="Lineage graph: upstream/downstream of a dataset, impact of a change, export.",
    no_args_is_help=True,
)

DepthOpt = Annotated[
    int | None, typer.Option("--depth", "-d", help="Hops to walk (default lineage.default_depth).", show_default=False)
]


def register(app: typer.Typer) -> None:
    app.add_typer(lineage_app)


def _print_result(result: LineageResult) -> None:
    rows = [
        {"depth": n.depth, "kind": n.kind, "id": n.id, "layer": n.layer or ""}
        for n in result.nodes
        if n.id != result.root
    ]
    print_table(rows, ["depth", "kind", "id", "layer"], title=f"{result.direction} of {result.root}")
    if result.truncated:
        stderr().print(f"[dim]more lies beyond depth {result.depth} (--depth)[/dim]")


@lineage_app.command("show")
@handle_errors
def show(
    vertex: Annotated[str, typer.Argument(help="Dataset (layer.name), pipeline:, model: or feature: id.")],
    direction: Annotated[
        str, typer.Option("--direction", help="upstream, downstream or both.", show_default=True)
    ] = "both",
    depth: DepthOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a vertex comes from (upstream) and what it feeds (downstream)."""
    if direction not in ("upstream", "downstream", "both"):
        from odg_workbench.lineage.graph import LineageError

        raise LineageError(
            f"--direction must be upstream, downstream or both, found {direction!r}",
            field="direction",
            found=direction,
        )
    with open_workspace(workspace) as wb:
        results = []
        if direction in ("upstream", "both"):
            results.append(wb.lineage.upstream(vertex, depth))
        if direction in ("downstream", "both"):
            results.append(wb.lineage.downstream(vertex, depth))
    if as_json:
        print_json({r.direction: r.to_dict() for r in results})
        return
    for result in results:
        _print_result(result)


@lineage_app.command("impact")
@handle_errors
def impact(
    dataset: Annotated[str, typer.Argument(help="The dataset that changes (layer.name).")],
    column: Annotated[str | None, typer.Option("--column", help="One column of it.")] = None,
    change: Annotated[str, typer.Option("--change", help="schema, data or deprecation.", show_default=True)] = "schema",
    depth: Annotated[
        int | None, typer.Option("--depth", "-d", help="Hops to follow (default: lineage.max_depth).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Severity (HIGH/MEDIUM/LOW) and the datasets, pipelines and models a change reaches."""
    with open_workspace(workspace) as wb:
        report = wb.lineage.impact(dataset, column=column, change=change, depth=depth)
    if as_json:
        print_json(report.to_dict())
        return
    colour = {"HIGH": "red", "MEDIUM": "yellow", "LOW": "green"}[report.severity]
    what = f"{report.dataset}.{report.column}" if report.column else report.dataset
    stdout().print(
        f"[bold {colour}]{report.severity}[/bold {colour}] {report.change} change of {what}", highlight=False
    )
    stdout().print(f"  rule: {report.rule}", highlight=False)
    rows: list[dict[str, Any]] = [
        {
            "depth": d.depth,
            "dataset": d.id,
            "layer": d.layer,
            "columns": ", ".join(d.columns) if d.columns else "all",
            "why": d.reason,
        }
        for d in report.datasets
    ]
    print_table(rows, title="affected datasets")
    for label, ids in (("pipelines", report.pipelines), ("models", report.models), ("features", report.features)):
        if ids:
            stdout().print(f"  {label}: {', '.join(ids)}", highlight=False)
    if report.unknown_column_lineage:
        stdout().print(
            f"  column lineage unknown (assumed affected): {', '.join(report.unknown_column_lineage)}", highlight=False
        )


@lineage_app.command("export")
@handle_errors
def export(
    vertex: Annotated[str | None, typer.Argument(help="Export the subgraph around this vertex (default: all).")] = None,
    depth: DepthOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json (graph), vega (Vega-Lite spec) or html (chart).")
    ] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The graph (or a vertex's subgraph) as JSON, a Vega-Lite spec or an HTML chart."""
    import json

    from odg_workbench.lineage.graph import LineageError

    if fmt not in ("json", "vega", "html"):
        raise LineageError(f"--format must be json, vega or html, found {fmt!r}", field="format", found=fmt)
    if fmt == "html" and output is None:
        raise LineageError("--format html writes a file: give --output FILE.html", field="output")
    with open_workspace(workspace) as wb:
        if fmt == "json":
            document: Any = wb.lineage.export(vertex, depth=depth)
        else:
            if vertex is None:
                raise LineageError(f"--format {fmt} draws a subgraph: name a vertex to centre it on", field="vertex")
            from odg_workbench.lineage.visual import render

            chart = render(wb.lineage.upstream(vertex, depth), wb.lineage.downstream(vertex, depth))
            document = chart.to_dict()
    if output is not None:
        if fmt == "html":
            chart.save(str(output))
        else:
            output.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        if as_json:
            print_json({"path": str(output), "format": fmt})
        else:
            stderr().print(f"wrote {output}")
        return
    print_json(document)


@lineage_app.command("runs")
@handle_errors
def runs(
    pipeline: Annotated[str | None, typer.Argument(help="Runs of this pipeline (default: all).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Runs that read or wrote this dataset.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Most recent runs only.")] = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded runs (ingestion, promotion, SQL, polars): status, version, snapshots, duration."""
    with open_workspace(workspace) as wb:
        found = wb.lineage.runs(pipeline, dataset=dataset, limit=limit)
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    rows = [
        {
            "started": r.started_at[:19],
            "pipeline": r.name,
            "type": r.type,
            "status": r.status,
            "version": r.version,
            "inputs": ", ".join(f"{d.dataset.removeprefix('dataset:')}@{d.snapshot}" for d in r.inputs),
            "outputs": ", ".join(f"{d.dataset.removeprefix('dataset:')}@{d.snapshot}" for d in r.outputs),
            "s": r.duration_s,
        }
        for r in found
    ]
    print_table(rows, title="lineage runs")
