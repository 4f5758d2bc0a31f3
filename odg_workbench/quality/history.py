"""Quality run history in the state database (SQLite by default, PostgreSQL when configured).

Two tables: ``quality_runs`` (one row per run: dataset, snapshot, contract version,
scores, verdict, duration, the full JSON report) and ``quality_rule_results`` (one row
per rule per run). A run is written in one transaction after it completed, so a failed
check leaves no half-written report.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from odg_workbench.quality.report import QualityReport

if TYPE_CHECKING:
    import polars as pl
    import sqlalchemy as sa

    from odg_workbench.state import StateStore

__all__ = ["history", "history_frame", "report_json", "rule_history", "save_report"]


def _tables() -> tuple[sa.Table, sa.Table]:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if "quality_runs" in md.tables:
        return md.tables["quality_runs"], md.tables["quality_rule_results"]
    runs = sa.Table(
        "quality_runs",
        md,
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("dataset", sa.String(1000), nullable=False, index=True),
        sa.Column("snapshot_id", sa.BigInteger),
        sa.Column("contract_id", sa.String(255), nullable=False),
        sa.Column("contract_version", sa.String(64), nullable=False),
        sa.Column("contract_path", sa.Text),
        sa.Column("object", sa.String(255), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("rules", sa.Integer, nullable=False),
        sa.Column("rules_failed", sa.Integer, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("dimensions", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )
    results = sa.Table(
        "quality_rule_results",
        md,
        sa.Column("run_id", sa.String(64), sa.ForeignKey("quality_runs.run_id"), primary_key=True),
        sa.Column("rule_id", sa.String(255), primary_key=True),
        sa.Column("dataset", sa.String(1000), nullable=False, index=True),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("property", sa.String(255)),
        sa.Column("dimension", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("percent", sa.Float),
        sa.Column("evaluated", sa.BigInteger, nullable=False),
        sa.Column("failed", sa.BigInteger, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )
    return runs, results


def save_report(state: StateStore, report: QualityReport) -> None:
    """Persist a run and its rule results in one transaction."""
    runs, results = _tables()
    state.ensure(runs, results)
    d = report.to_dict()
    with state.begin() as conn:
        conn.execute(
            runs.insert().values(
                run_id=report.run_id,
                dataset=report.dataset,
                snapshot_id=report.snapshot_id,
                contract_id=report.contract_id,
                contract_version=report.contract_version,
                contract_path=report.contract_path,
                object=report.object,
                engine=report.engine,
                backend=report.backend,
                rows=report.rows,
                rules=len(report.outcomes),
                rules_failed=len(report.failed_rules),
                score=report.score,
                verdict=report.verdict.status,
                layer=report.verdict.layer,
                threshold=report.verdict.threshold,
                dimensions=json.dumps(d["dimensions"]),
                started_at=report.started_at,
                duration_s=report.duration_s,
                actor=report.actor,
                report=json.dumps(d, default=str),
            )
        )
        if report.outcomes:
            conn.execute(
                results.insert(),
                [
                    {
                        "run_id": report.run_id,
                        "rule_id": r["id"],
                        "dataset": report.dataset,
                        "metric": r["metric"],
                        "property": r["property"],
                        "dimension": r["dimension"],
                        "severity": r["severity"],
                        "value": None if r["value"] is None else json.dumps(r["value"]),
                        "unit": r["unit"],
                        "percent": r["percent"],
                        "evaluated": r["evaluated"],
                        "failed": r["failed"],
                        "passed": r["passed"],
                        "started_at": report.started_at,
                    }
                    for r in d["rules"]
                ],
            )
    report.saved = True


def history(
    state: StateStore,
    dataset: str | None = None,
    *,
    limit: int | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Runs, newest first: run id, dataset, snapshot, contract, score, verdict, dimensions ..."""
    import sqlalchemy as sa

    runs, results = _tables()
    state.ensure(runs, results)
    query = sa.select(*[c for c in runs.c if c.name != "report"]).order_by(runs.c.started_at.desc())
    if dataset is not None:
        query = query.where(runs.c.dataset == dataset)
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    if limit is not None:
        query = query.limit(limit)
    with state.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["dimensions"] = {k: v["score"] for k, v in json.loads(row["dimensions"]).items()}
        row["started_at"] = _iso(row["started_at"])
    return rows


def report_json(state: StateStore, run_id: str) -> dict[str, Any] | None:
    """The full stored report of one run."""
    import sqlalchemy as sa

    runs, results = _tables()
    state.ensure(runs, results)
    with state.begin() as conn:
        text = conn.execute(sa.select(runs.c.report).where(runs.c.run_id == run_id)).scalar()
    return None if text is None else dict(json.loads(text))


def rule_history(state: StateStore, dataset: str, rule_id: str | None = None) -> list[dict[str, Any]]:
    """Per-rule results over time for one dataset, newest first."""
    import sqlalchemy as sa

    runs, results = _tables()
    state.ensure(runs, results)
    query = sa.select(results).where(results.c.dataset == dataset).order_by(results.c.started_at.desc())
    if rule_id is not None:
        query = query.where(results.c.rule_id == rule_id)
    with state.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["value"] = None if row["value"] is None else json.loads(row["value"])
        row["started_at"] = _iso(row["started_at"])
    return rows


def history_frame(state: StateStore, dataset: str | None = None) -> pl.DataFrame:
    """The run history as a polars DataFrame, one column per DAMA dimension score."""
    import polars as pl

    from odg_workbench.quality.rules import DAMA_DIMENSIONS

    rows = history(state, dataset)
    flat = []
    for row in rows:
        dims = row.pop("dimensions")
        flat.append({**row, **{d: dims.get(d) for d in DAMA_DIMENSIONS}})
    schema_overrides = dict.fromkeys(DAMA_DIMENSIONS, pl.Float64) | {"score": pl.Float64, "snapshot_id": pl.Int64}
    frame = pl.DataFrame(flat, schema_overrides=schema_overrides, infer_schema_length=None)
    if frame.height:
        frame = frame.with_columns(pl.col("started_at").str.to_datetime(time_zone="UTC"))
    return frame


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        from datetime import UTC

        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value
