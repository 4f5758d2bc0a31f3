"""What the apps show, as plain data and altair charts: the apps only lay these out.

Every function takes an open :class:`~odg_workbench.workspace.Workbench` and returns
lists of dicts, polars frames or altair charts, so the notebooks, the tests and the marimo
apps share one implementation. Nothing here keeps a workspace (or a DuckDB file) open: the
apps open one per action with :func:`workspace`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import altair as alt

    from odg_workbench.workspace import Workbench

__all__ = [
    "EMPTY_HINT",
    "act_on_decision",
    "audit_status",
    "capabilities",
    "contracts_for",
    "decision_detail",
    "decisions_inbox",
    "dimension_chart",
    "findings_chart",
    "frame",
    "impact_view",
    "is_empty",
    "layer_tables",
    "lineage_datasets",
    "lineage_view",
    "preview",
    "privacy_scan",
    "promotion_status",
    "quality_runs",
    "rule_results",
    "run_check",
    "score_history_chart",
    "snapshots",
    "workspace",
]

EMPTY_HINT = (
    "This workspace has no tables yet. Load the sample data with `odg demo` "
    "(or `make run`), or ingest your own: `odg ingest FILE bronze.NAME`."
)

LAYERS = ("bronze", "silver", "gold", "platinum")


@contextmanager
def workspace(user: str | None = None) -> Iterator[Workbench]:
    """The workspace of ``$ODG_HOME`` (set by ``odg apps --workspace``), opened for one action."""
    import odg_workbench as odg

    wb = odg.open(os.environ.get("ODG_HOME") or None, create=False, user=user or None)
    try:
        yield wb
    finally:
        wb.close()


def frame(rows: list[dict[str, Any]]) -> Any:
    """Rows as a polars DataFrame a browser shows faithfully.

    Snapshot ids (64-bit) become text, since JavaScript numbers would round them; nested
    values (lists, dicts) become JSON text.
    """
    import json

    import polars as pl

    def cell(key: str, value: Any) -> Any:
        if isinstance(value, (dict, list, tuple)):
            return json.dumps(value, default=str)
        if isinstance(value, int) and not isinstance(value, bool) and (key.endswith("_id") or abs(value) > 2**53):
            return str(value)
        return value

    return pl.DataFrame([{k: cell(k, v) for k, v in r.items()} for r in rows], infer_schema_length=None)


def is_empty(wb: Workbench) -> bool:
    return not wb.tables()


def capabilities() -> dict[str, bool]:
    """Which optional capabilities this installation has (the apps show only what exists)."""
    import importlib.util

    def has(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            return False

    return {
        "lineage": has("odg_workbench.lineage.graph"),
        "privacy": has("odg_workbench.privacy.detect"),
    }


# -- lakehouse -------------------------------------------------------------------------------


def layer_tables(wb: Workbench) -> list[dict[str, Any]]:
    """Every table with its layer, rows, snapshot count, tags and last quality verdict."""
    from odg_workbench.quality.history import history

    last: dict[str, dict[str, Any]] = {}
    for run in history(wb.state):
        last.setdefault(run["dataset"], run)
    out = []
    for info in wb.tables():
        table = wb.table(info.table)
        q = last.get(info.table)
        out.append(
            {
                "table": info.table,
                "layer": info.table.split(".", 1)[0],
                "rows": info.rows,
                "snapshots": len(table.snapshots()),
                "current_snapshot_id": info.current_snapshot_id,
                "tags": ", ".join(sorted(table.tags())) or "",
                "quality_score": None if q is None else q["score"],
                "quality_verdict": None if q is None else q["verdict"],
            }
        )
    out.sort(key=lambda r: (LAYERS.index(r["layer"]) if r["layer"] in LAYERS else 9, r["table"]))
    return out


def snapshots(wb: Workbench, table: str) -> list[dict[str, Any]]:
    """A table's snapshots, newest first, with the tags that point at each."""
    rows = []
    for snap in wb.table(table).snapshots():
        d = snap.to_dict()
        rows.append(
            {
                "snapshot_id": d["snapshot_id"],
                "committed_at": d["timestamp"],
                "operation": d["operation"],
                "actor": (d.get("summary") or {}).get("odg.actor", ""),
                "tags": ", ".join(d.get("tags") or []),
                "added_rows": d.get("added_rows"),
                "total_rows": d.get("total_rows"),
                "current": d.get("is_current", False),
            }
        )
    rows.reverse()
    return rows


def preview(wb: Workbench, table: str, snapshot_id: int | None = None, limit: int = 20) -> Any:
    """The first rows of a table at a snapshot (time travel), as a polars DataFrame."""
    import polars as pl

    arrow = wb.table(table).scan(as_of=snapshot_id, limit=limit).to_arrow()
    return pl.from_arrow(arrow)


def promotion_status(wb: Workbench) -> list[dict[str, Any]]:
    """Promotions done, newest first (source and target snapshots, who and when)."""
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        for row in wb.promotions.history()
    ]


# -- governance ------------------------------------------------------------------------------


def decisions_inbox(wb: Workbench, status: str | None = "open", domain: str | None = None) -> list[dict[str, Any]]:
    """Decisions for the inbox table, newest first."""
    rows = []
    for d in wb.decisions.list(status=status or None, domain=domain or None):
        rows.append(
            {
                "id": d.id,
                "type": d.type,
                "title": d.title,
                "status": d.status.value,
                "dataset": d.dataset or "",
                "domain": d.domain or "",
                "requester": d.requester,
                "created_at": d.created_at.isoformat(timespec="seconds"),
                "waiting_for": ", ".join(f"{k}: {', '.join(v)}" for k, v in d.waiting_for.items()),
            }
        )
    return rows


def decision_detail(wb: Workbench, decision_id: str) -> dict[str, Any]:
    """A decision with its history, its quality report and the promotion recommendation."""
    from odg_workbench.quality.history import report_json

    d = wb.decisions.get(decision_id)
    out = d.to_dict()
    payload = d.payload or {}
    report = payload.get("quality_report")
    run_id = payload.get("quality_run_id")
    if report is None and run_id:
        report = report_json(wb.state, str(run_id))
    out["quality_report"] = report
    out["recommendation"] = payload.get("recommendation")
    return out


def act_on_decision(wb: Workbench, decision_id: str, action: str, comment: str = "") -> dict[str, Any]:
    """Approve, reject or veto as the workspace's user; the policy engine decides who may."""
    decisions = wb.decisions
    if action == "approve":
        d = decisions.approve(decision_id, comment or None)
    elif action in ("reject", "veto"):
        if not comment.strip():
            raise ValueError(f"a {action} needs a reason: write it in the comment box")
        d = decisions.reject(decision_id, comment) if action == "reject" else decisions.veto(decision_id, comment)
    else:
        raise ValueError(f"unknown action {action!r}: expected approve, reject or veto")
    return d.to_dict(history=False)


def audit_status(wb: Workbench) -> dict[str, Any]:
    """Whether the audit chain verifies, with its length and head."""
    return dict(wb.audit.verify().to_dict())


# -- quality ---------------------------------------------------------------------------------


def contracts_for(wb: Workbench, table: str) -> list[str]:
    """Contract files for a table: the workspace's own (``contracts/NAME.odcs.yaml``), then the samples'."""
    from odg_workbench.samples import sample_contracts

    name = table.split(".", 1)[-1]
    found = sorted(str(p) for p in (wb.root / "contracts").glob(f"{name}*.yaml"))
    for sample_table, path in sample_contracts().items():
        if sample_table.split(".", 1)[-1] == name:
            found.append(str(path))
    return found


def run_check(wb: Workbench, table: str, contract: str, snapshot_id: int | None = None) -> dict[str, Any]:
    """Check a table (at a snapshot) against a contract; the run is kept in the history."""
    report = wb.quality.check(table, contract, as_of=snapshot_id)
    return dict(report.to_dict())


def quality_runs(wb: Workbench, table: str | None = None) -> Any:
    """Quality runs as a polars DataFrame (one column per DAMA dimension), newest first."""
    from odg_workbench.quality.history import history_frame

    return history_frame(wb.state, table)


def rule_results(report: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored report's rules, failing first, with their masked samples."""
    rows = []
    for r in report.get("rules", []):
        rows.append(
            {
                "rule": r.get("id"),
                "metric": r.get("metric"),
                "dimension": r.get("dimension"),
                "passed": r.get("passed"),
                "failed": r.get("failed"),
                "evaluated": r.get("evaluated"),
                "percent": r.get("percent"),
                "severity": r.get("severity"),
                "samples": r.get("samples") or [],
            }
        )
    rows.sort(key=lambda r: (bool(r["passed"]), str(r["rule"])))
    return rows


def dimension_chart(report: dict[str, Any]) -> alt.LayerChart:
    """Bar chart of a report's DAMA dimension scores against its gate."""
    import altair as alt
    import polars as pl

    dims = report.get("dimensions") or {}
    data = pl.DataFrame(
        {
            "dimension": list(dims),
            "score": [float(v["score"] if isinstance(v, dict) else v) for v in dims.values()],
        },
        schema={"dimension": pl.String, "score": pl.Float64},
    )
    threshold = float((report.get("gate") or {}).get("threshold") or 0.0)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 1]), title="score"),
            y=alt.Y("dimension:N", sort="-x", title=None),
            color=alt.condition(alt.datum.score >= threshold, alt.value("#2e7d32"), alt.value("#c62828")),
            tooltip=["dimension", alt.Tooltip("score:Q", format=".4f")],
        )
    )
    rule = alt.Chart(pl.DataFrame({"gate": [threshold]})).mark_rule(strokeDash=[4, 4]).encode(x="gate:Q")
    chart: alt.LayerChart = (bars + rule).properties(
        title=f"DAMA dimensions (gate {threshold:.2f})", width=420, height=180
    )
    return chart


def score_history_chart(runs: Any) -> alt.Chart:
    """Line chart of the overall score and each dimension over time."""
    import altair as alt
    import polars as pl

    from odg_workbench.quality.rules import DAMA_DIMENSIONS

    present = [d for d in ("score", *DAMA_DIMENSIONS) if d in runs.columns]
    long = runs.select(["started_at", *present]).unpivot(index="started_at", variable_name="measure")
    long = long.filter(pl.col("value").is_not_null())
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("started_at:T", title="run"),
            y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]), title="score"),
            color=alt.Color("measure:N", title=None),
            tooltip=["measure", "started_at:T", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(title="Scores over time", width=520, height=220)
    )
    return chart


# -- privacy ---------------------------------------------------------------------------------


def privacy_scan(wb: Workbench, table: str, sample_rows: int | None = None) -> dict[str, Any]:
    """PII findings per column, the suggested and stored classification, the masking plan."""
    from odg_workbench.privacy.classification import suggest_from_entities
    from odg_workbench.privacy.detect import scan

    report = scan(table, workbench=wb, sample_rows=sample_rows)
    findings = []
    for column, found in report.columns.items():
        for f in found:
            evidence = f.evidence or {}
            findings.append(
                {
                    "column": column,
                    "entity": f.entity,
                    "confidence": round(f.confidence, 3),
                    "match_share": evidence.get("match_share"),
                    "name_match": evidence.get("name_match"),
                }
            )
    stored = wb.classifications.get(table)
    suggested = suggest_from_entities(table, report.pii_columns)
    plan = wb.masking.explain(table)
    return {
        "table": table,
        "rows_total": report.rows_total,
        "rows_scanned": report.rows_scanned,
        "elapsed_s": round(report.elapsed_s, 3),
        "clean_columns": [c for c, fs in report.columns.items() if not fs],
        "findings": findings,
        "suggested": suggested.to_dict(),
        "stored": None if stored is None else stored.to_dict(),
        "masking": plan.to_dict() if hasattr(plan, "to_dict") else {"columns": plan.columns},
    }


def findings_chart(findings: list[dict[str, Any]]) -> alt.Chart:
    """Confidence of each detected entity per column."""
    import altair as alt
    import polars as pl

    data = pl.DataFrame(
        findings or [], schema={"column": pl.String, "entity": pl.String, "confidence": pl.Float64}, strict=False
    ).select("column", "entity", "confidence")
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("confidence:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("column:N", sort="-x", title=None),
            color=alt.Color("entity:N"),
            tooltip=["column", "entity", alt.Tooltip("confidence:Q", format=".3f")],
        )
        .properties(title="Personal data found, by column", width=420)
    )
    return chart


# -- lineage ---------------------------------------------------------------------------------


def lineage_datasets(wb: Workbench) -> list[str]:
    """Datasets the lineage graph knows (``layer.name``), for a picker."""
    return sorted(v.name for v in wb.lineage.vertices("dataset"))


def lineage_view(wb: Workbench, dataset: str, depth: int = 5) -> dict[str, Any]:
    """Upstream and downstream of a dataset, as tables and one altair chart."""
    from odg_workbench.lineage.visual import render

    up = wb.lineage.upstream(dataset, depth=depth)
    down = wb.lineage.downstream(dataset, depth=depth)

    def rows(result: Any) -> list[dict[str, Any]]:
        return [
            {"vertex": n.id, "kind": n.kind, "depth": n.depth, "layer": n.layer or ""}
            for n in result.nodes
            if n.id != result.root
        ]

    return {
        "root": up.root,
        "upstream": rows(up),
        "downstream": rows(down),
        "edges": len({(e.src, e.dst, e.kind) for e in [*up.edges, *down.edges]}),
        "chart": render(up, down, title=f"Lineage of {dataset} (depth {depth})"),
    }


def impact_view(wb: Workbench, dataset: str, column: str | None = None, change: str = "schema") -> dict[str, Any]:
    """Impact analysis of a change to a dataset (or one column): severity, rule and what is affected."""
    return dict(wb.lineage.impact(dataset, column or None, change).to_dict())
