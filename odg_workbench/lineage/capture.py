"""Automatic lineage capture: ingestion, promotion and SQL, each recorded through ``record_run``.

* :func:`record_ingest` (called by ``Lakehouse.ingest``): the source file -> the Bronze
  snapshot, column for column (the ``_odg_*`` columns derive from no input column).
* :func:`record_promotion` (called by ``Promotions``): the source snapshot -> the target
  snapshot; column lineage is the identity without a transformation, sqlglot's for a SQL
  transformation, and left out (with the reason) for a Python function.
* :func:`sql_lineage`: tables read, column lineage from :mod:`sqlglot.lineage`, and the
  columns read anywhere in the query (filters, joins, keys). SQL that sqlglot cannot parse
  still gives its tables (from sqlglot's tokenizer), never a partial column lineage: the
  column facet is left out and the reason returned (and stored with the run).
* :func:`normalized_sql` / :func:`sql_version`: the SQL as sqlglot prints it (comments
  dropped, keywords and unquoted identifiers in one case), so formatting changes keep the
  version of a query.
* :func:`promotion_history`: the promotions recorded in the graph, in the row shape of
  ``Promotions.history()``.

Column lineage comes from sqlglot (``sqlglot.lineage``, ``sqlglot.optimizer.scope``);
what is written here is only the mapping of its nodes onto lakehouse tables.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.lineage.graph import RunRecord, dataset_id

if TYPE_CHECKING:
    from odg_workbench.lakehouse.results import IngestResult
    from odg_workbench.workspace import Workbench

__all__ = [
    "SqlLineage",
    "git_state",
    "normalized_sql",
    "promotion_history",
    "record_ingest",
    "record_promotion",
    "sql_lineage",
    "sql_version",
]

log = logging.getLogger("odg_workbench.lineage")

_LAYERS = {"bronze", "silver", "gold", "platinum"}


# -- SQL --------------------------------------------------------------------------------------


@dataclass
class SqlLineage:
    """What sqlglot tells of a query: tables read, column lineage (complete or None) and why not."""

    tables: list[str]
    columns: dict[str, list[tuple[str, str]]] | None = None
    columns_read: dict[str, list[str]] = field(default_factory=dict)
    reason: str | None = None
    parsed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": self.tables,
            "columns": {k: [list(p) for p in v] for k, v in self.columns.items()} if self.columns is not None else None,
            "columns_read": self.columns_read,
            "reason": self.reason,
            "parsed": self.parsed,
        }


def normalized_sql(sql: str, dialect: str = "duckdb") -> str:
    """The query as sqlglot prints it: no comments, one case, one spacing (the text when unparseable)."""
    import sqlglot

    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except sqlglot.errors.SqlglotError:
        return " ".join(sql.split())
    return ";\n".join(t.sql(dialect=dialect, normalize=True, comments=False) for t in trees)


def sql_version(sql: str, dialect: str = "duckdb") -> str:
    """A query's version: SHA-256 (16 hex digits) of :func:`normalized_sql`."""
    return hashlib.sha256(normalized_sql(sql, dialect).encode("utf-8")).hexdigest()[:16]


def _table_name(table: Any) -> str:
    parts = [p for p in (table.text("catalog"), table.text("db"), table.name) if p]
    name = ".".join(parts)
    head = parts[0].lower() if parts else ""
    return name.lower() if len(parts) == 2 and head in _LAYERS else name


def _tables_from_tokens(sql: str, dialect: str) -> list[str]:
    """Table names after FROM/JOIN from sqlglot's tokenizer: for SQL its parser rejects."""
    from sqlglot import TokenType
    from sqlglot.dialects.dialect import Dialect

    try:
        toks = Dialect.get_or_raise(dialect).tokenize(sql)
    except Exception:
        return sorted(set(re.findall(r"\b((?:bronze|silver|gold|platinum)\.[a-z_][a-z0-9_]*)\b", sql, re.IGNORECASE)))
    found: list[str] = []
    i = 0
    wanted = {TokenType.FROM, TokenType.JOIN}
    while i < len(toks):
        if toks[i].token_type in wanted and i + 1 < len(toks):
            parts = [toks[i + 1].text]
            j = i + 2
            while j + 1 < len(toks) and toks[j].token_type == TokenType.DOT:
                parts.append(toks[j + 1].text)
                j += 2
            if toks[i + 1].token_type in (TokenType.VAR, TokenType.IDENTIFIER) or len(parts) > 1:
                name = ".".join(parts)
                head = parts[0].lower()
                found.append(name.lower() if len(parts) == 2 and head in _LAYERS else name)
            i = j
        else:
            i += 1
    return sorted(set(found))


def sql_lineage(sql: str, schema: dict[str, dict[str, str]] | None = None, *, dialect: str = "duckdb") -> SqlLineage:
    """Tables, column lineage and columns read of one query.

    ``schema`` maps ``"layer.name"`` to ``{column: type}`` (needed to expand ``*``). Column
    lineage is all or nothing: when sqlglot cannot trace one output column, ``columns`` is
    None and ``reason`` says why.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import traverse_scope

    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        return SqlLineage(
            _tables_from_tokens(sql, dialect),
            None,
            {},
            f"sqlglot cannot parse the SQL ({_first_line(exc)}): tables found by its tokenizer, no column lineage",
            parsed=False,
        )
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kinds = ", ".join(s.key.upper() for s in statements) or "nothing"
        tables = sorted({_table_name(t) for s in statements for t in s.find_all(exp.Table) if t.name})
        return SqlLineage(tables, None, {}, f"column lineage needs one query (SELECT/WITH), found {kinds}")
    tree = statements[0]
    nested: dict[str, Any] = {}
    for name, cols in (schema or {}).items():
        parts = name.split(".")
        node = nested
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = dict(cols)
    try:
        qualified = qualify(tree.copy(), schema=nested or None, dialect=dialect, validate_qualify_columns=True)
    except sqlglot.errors.SqlglotError as exc:
        tables = sorted({_table_name(t) for t in tree.find_all(exp.Table) if t.name} - _cte_names(tree))
        return SqlLineage(tables, None, {}, f"sqlglot cannot resolve the query's columns: {_first_line(exc)}")
    found_tables: set[str] = set()
    read: dict[str, set[str]] = {}
    for scope in traverse_scope(qualified):
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                found_tables.add(_table_name(source))
        for column in scope.columns:
            origin = scope.sources.get(column.table)
            if isinstance(origin, exp.Table) and column.name:
                read.setdefault(_table_name(origin), set()).add(column.name)
    columns_read = {t: sorted(c) for t, c in sorted(read.items())}
    outputs = list(qualified.named_selects)
    if not outputs or "*" in outputs:
        return SqlLineage(
            sorted(found_tables),
            None,
            columns_read,
            "SELECT * over a table whose schema is not known: give the schema to trace its columns",
        )
    columns: dict[str, list[tuple[str, str]]] = {}
    for name in outputs:
        try:
            traced = lineage(name, qualified, schema=nested or None, dialect=dialect)
        except Exception as exc:  # sqlglot raises several kinds; any of them means "not traced"
            return SqlLineage(
                sorted(found_tables), None, columns_read, f"sqlglot could not trace column {name!r}: {_first_line(exc)}"
            )
        sources: list[tuple[str, str]] = []
        for leaf in traced.walk():
            if leaf.downstream or not isinstance(leaf.expression, exp.Table):
                continue
            pair = (_table_name(leaf.expression), leaf.name.split(".")[-1].strip('"'))
            if pair not in sources:
                sources.append(pair)
        columns[name] = sources
    return SqlLineage(sorted(found_tables), columns, columns_read)


def _cte_names(tree: Any) -> set[str]:
    from sqlglot import exp

    return {c.alias_or_name for c in tree.find_all(exp.CTE)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# -- git ----------------------------------------------------------------------------------------


def git_state(path: Path | None = None) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git repository holding ``path`` (default: the working folder), or None."""
    git = shutil.which("git")
    if git is None:
        return None, None
    where = str(path or Path.cwd())
    try:
        head = subprocess.run(
            [git, "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
        if head.returncode != 0:
            return None, None
        status = subprocess.run(
            [git, "-C", where, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head.stdout.strip() or None, (bool(status.stdout.strip()) if status.returncode == 0 else None)


# -- ingestion and promotion --------------------------------------------------------------------


def _source_id(description: str) -> str:
    if "://" in description:
        return dataset_id(description)
    return dataset_id(Path(description).as_uri() if Path(description).is_absolute() else description)


def record_ingest(wb: Workbench, result: IngestResult, columns: list[str]) -> RunRecord:
    """Record an ingest: the source (a file; none for an in-memory frame) -> the Bronze snapshot."""
    from odg_workbench.lakehouse.lakehouse import INGEST_COLUMNS

    ended = datetime.now(UTC)
    target = dataset_id(result.table)
    inputs: list[tuple[str, int | str | None]] = []
    column_lineage: dict[str, list[tuple[str, str]]] | None = None
    reason = None
    if result.format != "memory":
        source = _source_id(result.source)
        inputs.append((source, None))
        column_lineage = {c: ([] if c in INGEST_COLUMNS else [(source, c)]) for c in columns}
    return wb.lineage.record_run(
        f"ingest.{result.table}",
        inputs=inputs,
        outputs=[(target, result.snapshot_id)],
        started_at=ended - timedelta(seconds=result.duration_s),
        ended_at=ended,
        version=f"format:{result.format}",
        type="ingestion",
        column_lineage=column_lineage,
        column_lineage_reason=reason,
        batch_id=result.batch_id,
        rows=result.rows,
        source=result.source,
        mode=result.mode,
    )


def record_promotion(
    wb: Workbench,
    *,
    source: str,
    source_snapshot_id: int,
    target: str,
    target_snapshot_id: int | None,
    transform: Any,
    transform_text: str,
    columns: list[str],
    started_at: datetime,
    rows: int,
    decision_id: str | None = None,
    masked_columns: Any = None,
) -> RunRecord:
    """Record a promotion: ``source@snapshot`` -> ``target@snapshot`` with its column lineage."""
    src, dst = dataset_id(source), dataset_id(target)
    sql = None
    column_lineage: dict[str, list[tuple[str, str]]] | None = None
    reason = None
    read: dict[str, list[str]] = {}
    if transform is None:
        column_lineage = {c: [(src, c)] for c in columns}
    elif isinstance(transform, str):
        sql = transform.replace("{source}", source)
        found = sql_lineage(sql, {source: _schema(wb, source, source_snapshot_id)})
        read = {dataset_id(t): cols for t, cols in found.columns_read.items()}
        if found.columns is not None:
            column_lineage = {c: [(dataset_id(t), col) for t, col in pairs] for c, pairs in found.columns.items()}
        else:
            reason = found.reason
    else:
        reason = "a Python transformation: its column lineage cannot be derived"
    version = hashlib.sha256(transform_text.encode("utf-8")).hexdigest()[:16] if transform_text else "identity"
    props: dict[str, Any] = {"rows": rows, "source": source, "target": target}
    if decision_id:
        props["decision_id"] = decision_id
    if masked_columns:
        props["masked_columns"] = masked_columns
    if read:
        props["columns_read"] = read
    if transform_text:
        props["transform"] = transform_text
    return wb.lineage.record_run(
        f"promote.{target}",
        inputs=[(src, source_snapshot_id)],
        outputs=[(dst, target_snapshot_id)],
        started_at=started_at,
        version=version,
        type="promotion",
        column_lineage=column_lineage,
        column_lineage_reason=reason,
        sql=sql,
        **props,
    )


def _schema(wb: Workbench, table: str, snapshot_id: int | None) -> dict[str, str]:
    """``{column: type}`` of a lakehouse table at a snapshot (the current schema when unknown)."""
    iceberg = wb.table(table).iceberg
    schema = iceberg.schema()
    if snapshot_id is not None:
        snap = iceberg.snapshot_by_id(snapshot_id)
        if snap is not None and snap.schema_id is not None:
            schema = next((s for s in iceberg.schemas().values() if s.schema_id == snap.schema_id), schema)
    return {f.name: str(f.field_type) for f in schema.fields}


def promotion_history(wb: Workbench, dataset: str | None = None) -> list[dict[str, Any]]:
    """Promotions recorded in the graph (source snapshot -> target snapshot), newest first.

    Rows: ``id`` (the run id), ``source``, ``source_snapshot_id``, ``target``,
    ``target_snapshot_id``, ``operation``, ``transform``, ``actor``, ``created_at``.
    """
    runs = (
        wb.lineage.runs(dataset=dataset, type="promotion", limit=1_000_000)
        if dataset
        else wb.lineage.runs(type="promotion", limit=1_000_000)
    )
    out: list[dict[str, Any]] = []
    for run in runs:
        if run.status != "COMPLETE" or not run.inputs or not run.outputs:
            continue
        ended = run.ended_at or run.started_at
        out.append(
            {
                "id": run.run_id,
                "source": run.inputs[0].dataset.removeprefix("dataset:"),
                "source_snapshot_id": run.inputs[0].snapshot,
                "target": run.outputs[0].dataset.removeprefix("dataset:"),
                "target_snapshot_id": run.outputs[0].snapshot,
                "operation": "promotion",
                "transform": run.props.get("transform"),
                "actor": run.actor,
                "decision_id": run.props.get("decision_id"),
                "created_at": datetime.fromisoformat(ended.replace("Z", "+00:00")),
            }
        )
    out.sort(key=lambda r: (str(r["created_at"]), str(r["id"])), reverse=True)
    return out
