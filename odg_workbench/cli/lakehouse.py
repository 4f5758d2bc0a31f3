"""Lakehouse commands: ingest, tables, snapshots, schema, sql, tag, rollback, compact, expire."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
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
    stderr,
    stdout,
)

TableArg = Annotated[str, typer.Argument(help="Table as layer.name, e.g. bronze.orders.", show_default=False)]


def register(app: typer.Typer) -> None:
    commands: list[tuple[str, Callable[..., Any]]] = [
        ("ingest", ingest),
        ("tables", tables),
        ("snapshots", snapshots),
        ("schema", schema),
        ("sql", sql),
        ("tag", tag),
        ("untag", untag),
        ("rollback", rollback),
        ("compact", compact),
        ("expire", expire),
        ("batches", batches),
    ]
    for name, func in commands:
        app.command(name)(func)


@handle_errors
def ingest(
    source: Annotated[
        Path, typer.Argument(help="CSV, TSV, Parquet, JSON or NDJSON file (optionally .gz).", show_default=False)
    ],
    table: Annotated[
        str, typer.Option("--table", "-t", help="Target bronze table, bronze.name (or just name).", show_default=False)
    ],
    mode: Annotated[str, typer.Option("--mode", "-m", help="append or overwrite.")] = "append",
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Override the format detected from the suffix.")
    ] = None,
    batch_id: Annotated[
        str | None, typer.Option("--batch-id", help="Idempotency key: a batch already ingested is skipped.")
    ] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest a file into a Bronze table (created on first ingest) as one Iceberg snapshot."""
    if mode not in ("append", "overwrite"):
        raise typer.BadParameter(f"expected append or overwrite, found {mode!r}", param_hint="--mode")
    with open_workspace(workspace, user) as wb, status(f"ingesting {source} into {table}"):
        result = wb.ingest(source, table, mode=mode, format=format, batch_id=batch_id)  # type: ignore[arg-type]
    if as_json:
        print_json(result.to_dict())
        return
    if result.skipped:
        stdout().print(
            f"batch {result.batch_id} already in {result.table} (snapshot {result.snapshot_id}); nothing written"
        )
        return
    verb = "created" if result.created_table else ("overwrote" if mode == "overwrite" else "appended to")
    stdout().print(
        f"{verb} [bold]{result.table}[/bold]: {result.rows:,} rows from {result.source} "
        f"in {result.duration_s:.2f}s (snapshot {result.snapshot_id}, batch {result.batch_id})"
    )
    for change in result.schema_changes:
        stdout().print(f"  schema: {change['kind'].replace('_', ' ')} {change['column']} -> {change['to_type']}")


@handle_errors
def tables(
    layer: Annotated[str | None, typer.Option("--layer", "-l", help="Only this layer.")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tables with row count, current snapshot and metadata location."""
    with open_workspace(workspace) as wb:
        infos = [t.to_dict() for t in wb.tables(layer)]
    if as_json:
        print_json(infos)
    else:
        print_table(
            infos, ["table", "rows", "current_snapshot_id", "snapshots", "data_files", "last_updated"], title="tables"
        )


@handle_errors
def snapshots(table: TableArg, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Snapshots of a table, oldest first: id, time, operation, tags, rows."""
    with open_workspace(workspace) as wb:
        snaps = [s.to_dict() for s in wb.table(table).snapshots()]
    if as_json:
        print_json(snaps)
        return
    rows = [
        {
            **s,
            "tags": ", ".join(s["tags"]),
            "current": "*" if s["is_current"] else "",
            "batch": s["summary"].get("odg.batch-id", ""),
        }
        for s in snaps
    ]
    print_table(
        rows,
        ["snapshot_id", "timestamp", "operation", "added_rows", "total_rows", "tags", "current", "batch"],
        title=table,
    )


@handle_errors
def schema(
    table: TableArg,
    history: Annotated[bool, typer.Option("--history", help="Every schema version and what changed.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The table's columns and types, or (with --history) how the schema evolved."""
    with open_workspace(workspace) as wb:
        t = wb.table(table)
        versions = t.schema_history()
    data: Any = versions if history else next(v for v in versions if v["current"])["columns"]
    if as_json:
        print_json(data)
        return
    if not history:
        print_table(data, ["name", "type", "id"], title=table)
        return
    for v in versions:
        when = v["first_snapshot_id"] or "unused"
        stdout().print(
            f"[bold]schema {v['schema_id']}[/bold]{' (current)' if v['current'] else ''}  first snapshot: {when}"
        )
        for c in v["changes"] or [{"kind": "initial", "column": ", ".join(col["name"] for col in v["columns"])}]:
            detail = f" {c.get('from_type', '')} -> {c['to_type']}" if "to_type" in c else ""
            stdout().print(f"  {c['kind'].replace('_', ' ')}: {c['column']}{detail}")


@handle_errors
def sql(
    query: Annotated[str, typer.Argument(help="DuckDB SQL; name tables layer.name.", show_default=False)],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Snapshot id, tag or ISO timestamp for every table in the query.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to print in the human table (JSON prints all).")] = 50,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a read-only DuckDB query over lakehouse tables, with optional time travel."""
    with open_workspace(workspace) as wb:
        rel = wb.sql(query, as_of=as_of)
        columns = rel.columns
        rows = rel.fetchall() if as_json else rel.limit(limit + 1).fetchall()
    records = [dict(zip(columns, r, strict=True)) for r in rows]
    if as_json:
        print_json(records)
        return
    print_table(records[:limit], columns)
    if len(records) > limit:
        stderr().print(f"[dim]first {limit} rows shown; use --limit or --json for more[/dim]")


@handle_errors
def tag(
    table: TableArg,
    name: Annotated[str, typer.Argument(help="Tag name.", show_default=False)],
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", "-s", help="Snapshot id, tag or timestamp (default: current).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Move the tag if it exists.")] = False,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Name a snapshot; tagged snapshots are kept by retention and usable with --as-of."""
    with open_workspace(workspace, user) as wb:
        info = wb.table(table).tag(name, snapshot, replace=force)
    if as_json:
        print_json({"table": table, "tag": name, "snapshot_id": info.snapshot_id})
    else:
        stdout().print(f"tagged snapshot {info.snapshot_id} of {table} as [bold]{name}[/bold]")


@handle_errors
def untag(table: TableArg, name: str, workspace: WorkspaceOpt = None, user: UserOpt = None) -> None:
    """Remove a tag (the snapshot stays until retention expires it)."""
    with open_workspace(workspace, user) as wb:
        wb.table(table).untag(name)
    stdout().print(f"removed tag {name} from {table}")


@handle_errors
def rollback(
    table: TableArg,
    to: Annotated[
        str, typer.Option("--to", help="Snapshot id, tag or ISO timestamp to make current.", show_default=False)
    ],
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make an earlier snapshot current again (later snapshots remain for time travel)."""
    with open_workspace(workspace, user) as wb:
        result = wb.table(table).rollback(to)
    if as_json:
        print_json(result.to_dict())
    elif result.changed:
        stdout().print(f"{table}: current snapshot {result.from_snapshot_id} -> {result.to_snapshot_id}")
    else:
        stdout().print(f"{table} is already at snapshot {result.to_snapshot_id}")


@handle_errors
def compact(
    table: TableArg,
    target_mb: Annotated[
        float | None,
        typer.Option("--target-mb", help="Target file size in MB (default: lakehouse.compaction_target_file_size_mb)."),
    ] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rewrite small data files into larger ones (one 'replace' snapshot; data unchanged)."""
    from rich.progress import Progress

    with open_workspace(workspace, user) as wb:
        t = wb.table(table)
        import sys

        if sys.stderr.isatty() and not as_json:
            with Progress(console=stderr(), transient=True) as bar:
                task = bar.add_task(f"compacting {table}", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = t.compact(target_file_size_mb=target_mb, progress=progress)
        else:
            report = t.compact(target_file_size_mb=target_mb)
    if as_json:
        print_json(report.to_dict())
        return
    if report.snapshot_id is None:
        stdout().print(f"{table}: nothing to compact ({report.files_before} files, {report.rows:,} rows)")
    else:
        stdout().print(
            f"{table}: {report.files_before} -> {report.files_after} files "
            f"({report.rewritten_files} rewritten into {report.added_files}), {report.rows:,} rows, "
            f"{report.bytes_before / 1e6:.1f} MB -> {report.bytes_after / 1e6:.1f} MB in {report.duration_s:.2f}s"
        )


@handle_errors
def expire(
    table: TableArg,
    keep_last: Annotated[
        int | None, typer.Option("--keep-last", help="Keep this many most recent snapshots (default 30).")
    ] = None,
    older_than: Annotated[
        float | None, typer.Option("--older-than", help="Expire snapshots older than this many days (default 90).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be expired and deleted; change nothing.")
    ] = False,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Expire snapshots outside the retention policy and delete files no snapshot needs."""
    with open_workspace(workspace, user) as wb:
        report = wb.table(table).expire(keep_last=keep_last, older_than_days=older_than, dry_run=dry_run)
    if as_json:
        print_json(report.to_dict())
        return
    prefix = "would expire" if dry_run else "expired"
    stdout().print(
        f"{table}: {prefix} {len(report.expired_snapshot_ids)} of {report.snapshots_before} snapshots; "
        f"{'would delete' if dry_run else 'deleted'} {report.files_deleted} files ({report.bytes_deleted / 1e6:.1f} MB) "
        f"and {report.orphan_files_deleted} orphan files"
    )


@handle_errors
def batches(
    table: Annotated[str | None, typer.Argument(help="Only batches of this table.", show_default=False)] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest batches recorded in the state database, newest first."""
    with open_workspace(workspace) as wb:
        rows = wb.lakehouse.batches(table)
    if as_json:
        print_json(rows)
    else:
        print_table(
            rows, ["ingested_at", "table_name", "rows", "snapshot_id", "batch_id", "actor", "source"], title="batches"
        )
