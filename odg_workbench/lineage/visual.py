"""Lineage subgraphs drawn with altair: layered left to right, upstream to downstream.

``render(wb.lineage.upstream("gold.revenue"), wb.lineage.downstream("gold.revenue"))``
returns an ``altair.Chart`` (shown inline in Jupyter and marimo, saved with
``chart.save("lineage.html")``). Columns are hops from the root (upstream on the left,
downstream on the right); vertices are coloured and shaped by kind, with tooltips
(id, kind, layer, depth, snapshot of the newest edge); edges are straight rules.

The layered layout is computed here (a column per depth, vertices ordered by kind and
name): altair draws marks but lays out no graphs, and a force layout (networkx) would
move vertices between renders of the same lineage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odg_workbench.lineage.graph import LineageError, LineageResult

if TYPE_CHECKING:
    import altair as alt

    from odg_workbench.lineage.impact import ImpactReport

__all__ = ["layout", "render"]

_KIND_ORDER = {"Dataset": 0, "Pipeline": 1, "Feature": 2, "Model": 3}
_SHAPES = {"Dataset": "circle", "Pipeline": "square", "Model": "diamond", "Feature": "triangle-up"}
_SEVERITY_COLOURS = {"HIGH": "#d62728", "MEDIUM": "#ff7f0e", "LOW": "#2ca02c"}


def _data(alt: Any, values: list[dict[str, Any]]) -> Any:
    return alt.Data(values=values)


def layout(*results: LineageResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Node rows (id, kind, layer, depth, x, y) and edge rows (x, y, x2, y2, kind) of the merged results."""
    if not results:
        raise LineageError("render needs at least one lineage result (upstream or downstream)", field="results")
    columns: dict[str, int] = {}
    info: dict[str, dict[str, Any]] = {}
    for result in results:
        sign = -1 if result.direction == "upstream" else 1
        for node in result.nodes:
            x = sign * node.depth
            if node.id in columns and abs(columns[node.id]) <= abs(x):
                continue
            columns[node.id] = x
            info[node.id] = {"id": node.id, "kind": node.kind, "layer": node.layer or "", "depth": node.depth}
    by_column: dict[int, list[str]] = {}
    for vertex, x in columns.items():
        by_column.setdefault(x, []).append(vertex)
    nodes: list[dict[str, Any]] = []
    position: dict[str, tuple[int, float]] = {}
    for x, members in sorted(by_column.items()):
        members.sort(key=lambda v: (_KIND_ORDER.get(info[v]["kind"], 9), v))
        for i, vertex in enumerate(members):
            y = i - (len(members) - 1) / 2
            position[vertex] = (x, y)
            label = vertex.split(":", 1)[1]
            nodes.append({**info[vertex], "x": x, "y": -y, "label": label})
    edges: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for result in results:
        for edge in result.edges:
            key = (edge.src, edge.dst, edge.kind)
            if key in seen or edge.src not in position or edge.dst not in position:
                continue
            seen.add(key)
            (x1, y1), (x2, y2) = position[edge.src], position[edge.dst]
            snapshot = edge.src_snapshot if edge.src_snapshot is not None else edge.dst_snapshot
            edges.append(
                {
                    "x": x1,
                    "y": -y1,
                    "x2": x2,
                    "y2": -y2,
                    "kind": edge.kind,
                    "src": edge.src,
                    "dst": edge.dst,
                    "snapshot": "" if snapshot is None else str(snapshot),
                }
            )
    return nodes, edges


def render(
    *results: LineageResult,
    impact: ImpactReport | None = None,
    width: int = 720,
    height: int | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """An altair chart of one or more lineage results (an upstream and a downstream walk merge).

    With ``impact``, affected vertices are outlined in the report's severity colour.
    """
    import altair as alt

    nodes, edges = layout(*results)
    affected = set(impact.affected) if impact is not None else set()
    for node in nodes:
        node["affected"] = node["id"] in affected
    rows = max((sum(1 for n in nodes if n["x"] == x) for x in {n["x"] for n in nodes}), default=1)
    height = height or max(160, 48 * rows)
    scale_x = alt.Scale(domain=[min(n["x"] for n in nodes) - 0.5, max(n["x"] for n in nodes) + 0.5])
    scale_y = alt.Scale(domain=[min(n["y"] for n in nodes) - 0.7, max(n["y"] for n in nodes) + 0.7])
    x = alt.X("x:Q", scale=scale_x, axis=alt.Axis(title="hops (upstream < 0 < downstream)", tickMinStep=1))
    y = alt.Y("y:Q", scale=scale_y, axis=None)
    base_edges = alt.Chart(_data(alt, edges)) if edges else alt.Chart(_data(alt, [{"x": 0, "y": 0}]))
    rules = base_edges.mark_rule(color="#9e9e9e", strokeWidth=1.2, opacity=0.8 if edges else 0).encode(
        x=x,
        y=y,
        **(
            {
                "x2": "x2:Q",
                "y2": "y2:Q",
                "tooltip": [
                    alt.Tooltip("kind:N"),
                    alt.Tooltip("src:N"),
                    alt.Tooltip("dst:N"),
                    alt.Tooltip("snapshot:N"),
                ],
            }
            if edges
            else {}
        ),
    )
    colour = alt.Color(
        "kind:N",
        scale=alt.Scale(domain=list(_SHAPES), range=["#1f77b4", "#9467bd", "#8c564b", "#17becf"]),
        legend=alt.Legend(title="vertex"),
    )
    stroke = (
        alt.condition(
            "datum.affected",
            alt.value(_SEVERITY_COLOURS.get(impact.severity, "#d62728") if impact is not None else "#000"),
            alt.value("#ffffff"),
        )
        if impact is not None
        else alt.value("#ffffff")
    )
    points = (
        alt.Chart(_data(alt, nodes))
        .mark_point(filled=True, size=260, strokeWidth=3)
        .encode(
            x=x,
            y=y,
            color=colour,
            shape=alt.Shape("kind:N", scale=alt.Scale(domain=list(_SHAPES), range=list(_SHAPES.values())), legend=None),
            stroke=stroke,
            tooltip=[
                alt.Tooltip("id:N"),
                alt.Tooltip("kind:N"),
                alt.Tooltip("layer:N"),
                alt.Tooltip("depth:Q"),
                alt.Tooltip("affected:N"),
            ],
        )
    )
    labels = (
        alt.Chart(_data(alt, nodes))
        .mark_text(dy=-16, fontSize=11, limit=180)
        .encode(x=x, y=y, text=alt.Text("label:N"))
    )
    root = results[0].root
    heading = title or (
        f"Impact of a {impact.change} change of {impact.dataset}: {impact.severity}"
        if impact is not None
        else f"Lineage of {root}"
    )
    chart: alt.LayerChart = alt.layer(rules, points, labels).properties(width=width, height=height, title=heading)  # type: ignore[assignment]
    return chart
