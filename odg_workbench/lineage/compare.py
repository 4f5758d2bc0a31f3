"""Version comparison: two snapshots of a table, two versions of a model, two versions of a pipeline.

:func:`compare_snapshots` answers "what changed in ``silver.customers`` between last
week's snapshot and today's?" in two parts:

* the **schema diff**, from :func:`odg_workbench.quality.diff.diff_schemas` (columns matched
  by Iceberg field id, so a rename is a rename, classified breaking / warning / info);
* the **data diff**, computed by DuckDB over both snapshots read straight from Iceberg
  (``iceberg_scan`` with ``snapshot_from_id``), never row by row in Python:

  - with a primary key (the ``key`` argument, else the table's Iceberg identifier fields,
    else the ``primaryKey`` properties of the contract of the table's last quality run):
    one aggregate pass over a ``FULL OUTER JOIN`` on the key (null-safe) counts the rows
    added, removed and changed and, per column, the changed rows where it differs
    (``IS DISTINCT FROM``, so NULL to NULL is no change), checks that the key is unique on
    both sides, and keeps the first few rows by key of each kind
    (``min_by(row, key, n)``: bounded memory however much changed);
  - without a key: a multiset diff (one ``GROUP BY`` of both snapshots keeps the rows
    whose number of copies differs), so rows added and removed are counted with their
    multiplicity; "changed" has no meaning without a key.

Columns are matched by field id across the snapshots (a renamed column is compared with
its old self and reported under its new name); columns that exist in only one snapshot
are left out of the data diff (the schema diff reports them), and so are the ingestion
bookkeeping columns ``_odg_*`` by default (they differ on every re-ingested row).
Samples are shown as the current user may see them: masked by ``wb.masking`` when the
table's classification asks for it.

No library diffs two Iceberg snapshots by key inside DuckDB (``data-diff`` and ``datacompy``
pull both sides into Python or need two databases), hence the few SQL statements here.

:func:`compare_models` is :meth:`odg_workbench.lineage.models.ModelRegistry.compare`;
:func:`compare_pipelines` diffs two recorded versions of a ``VersionedQuery`` (SQL
normalised by sqlglot and compared with sqlglot's semantic ``diff`` and a text diff) or a
``VersionedPipeline`` (its optimised polars plans, text diff).

Errors::

    OdgError
    └── CompareError(ValueError)    unknown key column, key not unique, nothing to compare
"""

from __future__ import annotations

import difflib
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table

    from odg_workbench.lakehouse.table import LakeTable
    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.quality.diff import Change
    from odg_workbench.workspace import Workbench

__all__ = [
    "CompareError",
    "DataDiff",
    "PipelineDiff",
    "compare_models",
    "compare_pipelines",
    "compare_snapshots",
]

#: Columns the ingestion adds to every row (load time, source, batch): left out of data diffs by default.
BOOKKEEPING_PREFIX = "_odg_"


class CompareError(OdgError, ValueError):
    """Two versions cannot be compared as asked (unknown key column, key not unique ...)."""


@dataclass
class DataDiff:
    """What changed between two snapshots of a table: schema and data.

    ``added``, ``removed`` and ``changed`` count rows (``changed`` is ``None`` for a diff
    without a key); ``changed_columns`` counts, per column, the changed rows where it
    differs. ``samples`` holds a few rows of each kind: ``added`` and ``removed`` rows as
    they are, ``changed`` rows as ``{"key", "columns", "from", "to"}``.
    """

    table: str
    from_snapshot: int
    to_snapshot: int
    key: list[str] | None
    key_source: str | None
    schema_changes: list[Change]
    rows_from: int
    rows_to: int
    added: int
    removed: int
    changed: int | None
    changed_columns: dict[str, int]
    compared_columns: list[str]
    skipped_columns: dict[str, str]
    samples: dict[str, list[dict[str, Any]]]
    masked_columns: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def unchanged(self) -> int:
        """Rows of the ``to`` snapshot identical to a row of the ``from`` snapshot."""
        return self.rows_to - self.added - (self.changed or 0)

    @property
    def schema_changed(self) -> bool:
        return bool(self.schema_changes)

    @property
    def data_changed(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        from odg_workbench.quality.diff import summarize

        return {
            "table": self.table,
            "from_snapshot": self.from_snapshot,
            "to_snapshot": self.to_snapshot,
            "key": self.key,
            "key_source": self.key_source,
            "schema_diff": {
                "changed": self.schema_changed,
                "summary": summarize(self.schema_changes),
                "changes": [c.to_dict() for c in self.schema_changes],
            },
            "data_diff": {
                "mode": "key" if self.key else "multiset",
                "rows_from": self.rows_from,
                "rows_to": self.rows_to,
                "added": self.added,
                "removed": self.removed,
                "changed": self.changed,
                "unchanged": self.unchanged,
                "changed_columns": dict(self.changed_columns),
                "compared_columns": list(self.compared_columns),
                "skipped_columns": dict(self.skipped_columns),
                "samples": {k: list(v) for k, v in self.samples.items()},
                "masked_columns": list(self.masked_columns),
            },
            "duration_s": round(self.duration_s, 4),
        }


# -- snapshots ---------------------------------------------------------------------------


def compare_snapshots(
    wb: Workbench,
    table: str,
    from_snapshot: AsOf,
    to_snapshot: AsOf | None = None,
    key: str | Sequence[str] | None = None,
    *,
    samples: int = 5,
    ignore_columns: Sequence[str] | None = None,
    mask: bool = True,
    infer_key: bool = True,
) -> DataDiff:
    """Schema diff and data diff of ``table`` from ``from_snapshot`` to ``to_snapshot`` (see module docs).

    ``from_snapshot`` and ``to_snapshot`` are snapshot ids, tags or timestamps
    (``to_snapshot=None``: the current snapshot). ``key`` is a column or a list of columns
    (a ``"a,b"`` string too), named as in the ``to`` snapshot; without it the key comes
    from the table's identifier fields or its contract's ``primaryKey``, else the diff is a
    multiset diff (``infer_key=False`` asks for the multiset diff). ``ignore_columns`` defaults to the ``_odg_*`` ingestion columns.
    ``samples`` rows of each kind are returned, masked for the current user unless
    ``mask=False``.
    """
    from odg_workbench.lakehouse.duck import ScanTarget, scan_sql
    from odg_workbench.lakehouse.timetravel import resolve_snapshot
    from odg_workbench.quality.diff import diff_schemas

    start = time.perf_counter()
    if samples < 0:
        raise CompareError(f"samples must be 0 or more, found {samples}", field="samples", found=samples)
    lake = wb.table(table)
    name = str(lake.name)
    ice = lake.iceberg
    if to_snapshot is None and ice.current_snapshot() is None:
        from odg_workbench.errors import SnapshotNotFoundError

        raise SnapshotNotFoundError(f"{name}: the table has no snapshots yet", table=name)
    snap_a = resolve_snapshot(ice, from_snapshot, name=name)
    snap_b = resolve_snapshot(ice, to_snapshot, name=name) if to_snapshot is not None else ice.current_snapshot()
    assert snap_b is not None
    schema_a, schema_b = _schema_of(ice, snap_a.schema_id), _schema_of(ice, snap_b.schema_id)
    changes = diff_schemas(lake, snap_a.snapshot_id, snap_b.snapshot_id)

    # Top-level columns by field id: (name in from, name in to).
    names_a = {f.field_id: f.name for f in schema_a.fields}
    ignore = _ignored(ignore_columns)
    pairs: list[tuple[str, str]] = []
    skipped: dict[str, str] = {}
    for f in schema_b.fields:
        if f.field_id not in names_a:
            skipped[f.name] = f"only in snapshot {snap_b.snapshot_id} (added)"
        elif ignore(f.name):
            skipped[f.name] = "ingestion bookkeeping column" if f.name.startswith(BOOKKEEPING_PREFIX) else "ignored"
        else:
            pairs.append((names_a[f.field_id], f.name))
    ids_b = {f.field_id for f in schema_b.fields}
    for fid, old in names_a.items():
        if fid not in ids_b:
            skipped[old] = f"only in snapshot {snap_a.snapshot_id} (removed)"

    key_cols, key_source = _key(wb, lake, schema_b, key) if key is not None or infer_key else (None, None)
    if key_cols:
        missing = [k for k in key_cols if k not in {b for _, b in pairs}]
        for k in missing:
            reason = skipped.get(k)
            raise CompareError(
                f"{name}: key column {k!r} cannot be compared: {reason}",
                table=name,
                column=k,
                found=reason,
            )
    if not pairs:
        raise CompareError(
            f"{name}: no column exists in both snapshots {snap_a.snapshot_id} and {snap_b.snapshot_id}; "
            "nothing to compare",
            table=name,
        )

    scan_a = scan_sql(ScanTarget(lake.metadata_location, snap_a.snapshot_id))
    scan_b = scan_sql(ScanTarget(lake.metadata_location, snap_b.snapshot_id))
    con = wb.lakehouse.duck.connection()
    try:
        rows_a = _count(con, scan_a)
        rows_b = _count(con, scan_b)
        snapshots = (snap_a.snapshot_id, snap_b.snapshot_id)
        if key_cols:
            result = _keyed_diff(con, name, (scan_a, scan_b), (rows_a, rows_b), pairs, key_cols, samples, snapshots)
        else:
            result = _multiset_diff(con, (scan_a, scan_b), pairs, samples)
    finally:
        con.close()
    added, removed, changed, changed_columns, sample_tables = result
    masked: list[str] = []
    sample_rows: dict[str, list[dict[str, Any]]] = {}
    plan = _mask_plan(wb, name) if mask and any(t.num_rows for t in sample_tables.values()) else {}
    for kind, data in sample_tables.items():
        if plan:
            data, used = _apply_mask(wb, data, plan)
            masked = sorted(set(masked) | used)
        sample_rows[kind] = data.to_pylist()
    if key_cols and "changed" in sample_rows:
        sample_rows["changed"] = [_changed_row(r, key_cols) for r in sample_rows["changed"]]
    return DataDiff(
        table=name,
        from_snapshot=snap_a.snapshot_id,
        to_snapshot=snap_b.snapshot_id,
        key=key_cols,
        key_source=key_source,
        schema_changes=changes,
        rows_from=rows_a,
        rows_to=rows_b,
        added=added,
        removed=removed,
        changed=changed,
        changed_columns=changed_columns,
        compared_columns=[b for _, b in pairs],
        skipped_columns=skipped,
        samples=sample_rows,
        masked_columns=masked,
        duration_s=time.perf_counter() - start,
    )


def _ignored(ignore_columns: Sequence[str] | None) -> Any:
    if ignore_columns is None:
        return lambda column: column.startswith(BOOKKEEPING_PREFIX)
    wanted = set(ignore_columns)
    return lambda column: column in wanted


def _schema_of(ice: Table, schema_id: int | None) -> Schema:
    if schema_id is not None:
        for schema in ice.metadata.schemas:
            if schema.schema_id == schema_id:
                return schema
    return ice.schema()  # format-v1 snapshots may not record their schema


def _key(
    wb: Workbench,
    lake: LakeTable,
    schema_b: Schema,
    key: str | Sequence[str] | None,
) -> tuple[list[str] | None, str | None]:
    """The key columns (names in the ``to`` snapshot) and where they came from."""
    name = str(lake.name)
    columns = [f.name for f in schema_b.fields]
    if key is not None:
        wanted = [k.strip() for k in (key.split(",") if isinstance(key, str) else key)]
        wanted = [k for k in wanted if k]
        if not wanted:
            raise CompareError(f"{name}: the key names no column", table=name, field="key", found=repr(key))
        for k in wanted:
            if k not in columns:
                close = difflib.get_close_matches(k, columns, n=3)
                raise CompareError(
                    f"{name}: unknown key column {k!r}"
                    + (f" (did you mean {', '.join(close)}?)" if close else "")
                    + f"; columns: {', '.join(columns)}",
                    table=name,
                    column=k,
                    expected=columns,
                )
        return wanted, "argument"
    ids = list(schema_b.identifier_field_ids)
    if ids:
        return [schema_b.find_column_name(i) or "" for i in ids], "identifier-fields"
    from_contract = _contract_key(wb, name)
    if from_contract and all(k in columns for k in from_contract):
        return from_contract, "contract"
    return None, None


def _contract_key(wb: Workbench, table: str) -> list[str] | None:
    """``primaryKey`` properties of the contract of the table's latest quality run, when the file is still there."""
    try:
        runs = wb.quality.history(table, limit=1)
    except Exception:
        return None
    if not runs:
        return None
    run = runs[0]
    path = run.get("contract_path")
    if not path:
        return None
    try:
        from odg_workbench.quality.contract import load_contract

        contract = load_contract(path)
    except Exception:
        return None
    objects = contract.objects
    wanted = run.get("object")
    for obj in objects:
        if wanted and obj.name != wanted and len(objects) > 1:
            continue
        keyed = [(p.primaryKeyPosition or 0, i, p.name) for i, p in enumerate(obj.properties or []) if p.primaryKey]
        if keyed:
            return [str(n) for _, _, n in sorted(keyed)]
    return None


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _count(con: duckdb.DuckDBPyConnection, scan: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {scan}").fetchone()
    return int(row[0]) if row else 0


def _keyed_diff(
    con: duckdb.DuckDBPyConnection,
    table: str,
    scans: tuple[str, str],
    rows: tuple[int, int],
    pairs: list[tuple[str, str]],
    key: list[str],
    samples: int,
    snapshots: tuple[int, int],
) -> tuple[int, int, int | None, dict[str, int], dict[str, pa.Table]]:
    """One aggregate pass over ``FULL OUTER JOIN`` on the key: counts, per-column counts, samples.

    Key uniqueness is checked in the same pass: with a unique key, the rows of each side
    equal its matched plus unmatched join rows, and the added (removed) keys are distinct.
    Samples are the first rows by key of each kind (``min_by(row, key, n)``, bounded memory).
    """
    scan_a, scan_b = scans
    to_from = {b: a for a, b in pairs}
    values = [(a, b) for a, b in pairs if b not in key]
    a_cols = [f"{_q(to_from[k])} AS k{i}" for i, k in enumerate(key)]
    a_cols += [f"{_q(a)} AS v{i}" for i, (a, _) in enumerate(values)]
    b_cols = [f"{_q(k)} AS k{i}" for i, k in enumerate(key)]
    b_cols += [f"{_q(b)} AS v{i}" for i, (_, b) in enumerate(values)]
    on = " AND ".join(f"a.k{i} IS NOT DISTINCT FROM b.k{i}" for i in range(len(key)))
    both = "a.__odg_in AND b.__odg_in"
    differs = " OR ".join(f"a.v{i} IS DISTINCT FROM b.v{i}" for i in range(len(values))) or "FALSE"
    changed = f"{both} AND ({differs})"
    per_column = [f"count_if({both} AND a.v{i} IS DISTINCT FROM b.v{i})" for i in range(len(values))]
    key_a = "struct_pack(" + ", ".join(f"{_q(k)} := a.k{i}" for i, k in enumerate(key)) + ")"
    key_b = "struct_pack(" + ", ".join(f"{_q(k)} := b.k{i}" for i, k in enumerate(key)) + ")"
    select = [
        "count_if(a.__odg_in IS NULL)",
        "count_if(b.__odg_in IS NULL)",
        f"count_if({both})",
        f"count_if({changed})",
        f"count(DISTINCT {key_b}) FILTER (WHERE a.__odg_in IS NULL)",
        f"count(DISTINCT {key_a}) FILTER (WHERE b.__odg_in IS NULL)",
        *per_column,
    ]
    if samples:
        keys_b = [f"{_q(k)} := b.k{i}" for i, k in enumerate(key)]
        keys_a = [f"{_q(k)} := a.k{i}" for i, k in enumerate(key)]
        row_b = "struct_pack(" + ", ".join(keys_b + [f"{_q(b)} := b.v{i}" for i, (_, b) in enumerate(values)]) + ")"
        row_a = "struct_pack(" + ", ".join(keys_a + [f"{_q(b)} := a.v{i}" for i, (_, b) in enumerate(values)]) + ")"
        flags = ", ".join(
            f"CASE WHEN a.v{i} IS DISTINCT FROM b.v{i} THEN {_lit(b)} END" for i, (_, b) in enumerate(values)
        )
        sides = [f"{_q('from:' + b)} := a.v{i}, {_q('to:' + b)} := b.v{i}" for i, (_, b) in enumerate(values)]
        row_changed = (
            "struct_pack("
            + ", ".join([*keys_b, *sides, f"__odg_changed := list_filter([{flags}], x -> x IS NOT NULL)"])
            + ")"
        )
        select += [
            f"min_by({row_b}, {key_b}, {samples}) FILTER (WHERE a.__odg_in IS NULL)",
            f"min_by({row_a}, {key_a}, {samples}) FILTER (WHERE b.__odg_in IS NULL)",
            f"min_by({row_changed}, {key_b}, {samples}) FILTER (WHERE {changed})",
        ]
    query = (
        f"SELECT {', '.join(select)}"
        f" FROM (SELECT {', '.join(a_cols)}, TRUE AS __odg_in FROM {scan_a}) a"
        f" FULL OUTER JOIN (SELECT {', '.join(b_cols)}, TRUE AS __odg_in FROM {scan_b}) b ON {on}"
    )
    result = con.execute(query).to_arrow_table()
    counts = [result.column(i)[0].as_py() for i in range(6 + len(values))]
    added, removed, matched, n_changed, distinct_added, distinct_removed = (int(c or 0) for c in counts[:6])
    rows_a, rows_b = rows
    if (
        rows_a != matched + removed
        or rows_b != matched + added
        or (added, removed)
        != (
            distinct_added,
            distinct_removed,
        )
    ):
        _not_unique(con, table, scans, key, to_from, snapshots)
    columns = {b: int(counts[6 + i] or 0) for i, (_, b) in enumerate(values)}
    columns = dict(sorted(((c, n) for c, n in columns.items() if n), key=lambda item: (-item[1], item[0])))
    out: dict[str, pa.Table] = {}
    if samples:
        first = 6 + len(values)
        for j, kind in enumerate(("added", "removed", "changed")):
            out[kind] = _struct_rows(result.column(first + j))
    return added, removed, n_changed, columns, out


def _struct_rows(column: pa.ChunkedArray) -> pa.Table:
    """The rows of a one-row ``list<struct>`` result column as a table (empty when NULL)."""
    import pyarrow as pa

    values = column.combine_chunks()
    struct_type = values.type.value_type
    if values.null_count or len(values) == 0:
        return pa.Table.from_struct_array(pa.array([], type=struct_type))
    return pa.Table.from_struct_array(values.flatten())


def _not_unique(
    con: duckdb.DuckDBPyConnection,
    table: str,
    scans: tuple[str, str],
    key: list[str],
    to_from: Mapping[str, str],
    snapshots: tuple[int, int],
) -> None:
    """Raise the "key not unique" error, naming the snapshot and a repeated key value."""
    for scan, snapshot, side in ((scans[0], snapshots[0], "from"), (scans[1], snapshots[1], "to")):
        names = [to_from[k] if side == "from" else k for k in key]
        cols = ", ".join(_q(n) for n in names)
        dup = con.execute(
            f"SELECT count(*), sum(n), any_value(k) FROM "
            f"(SELECT struct_pack({cols}) AS k, count(*) AS n FROM {scan} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        if dup and dup[0]:
            raise CompareError(
                f"{table}: the key ({', '.join(key)}) is not unique in snapshot {snapshot} ({side}): "
                f"{dup[0]} key values repeat over {dup[1]} rows, e.g. {dup[2]}; "
                "pass a unique key, or key=None (--key none) for a row-level (multiset) diff",
                table=table,
                key=key,
                snapshot=snapshot,
                found=int(dup[0]),
            )
    raise CompareError(  # pragma: no cover - the counts disagree only when a key repeats
        f"{table}: the key ({', '.join(key)}) is not unique", table=table, key=key
    )


def _multiset_diff(
    con: duckdb.DuckDBPyConnection,
    scans: tuple[str, str],
    pairs: list[tuple[str, str]],
    samples: int,
) -> tuple[int, int, int | None, dict[str, int], dict[str, pa.Table]]:
    """Rows counted with multiplicity: one ``GROUP BY`` of both snapshots keeps the rows whose counts differ."""
    scan_a, scan_b = scans
    sel_a = ", ".join(f"{_q(a)} AS {_q(b)}" for a, b in pairs)
    sel_b = ", ".join(_q(b) for _, b in pairs)
    names = ", ".join(_q(b) for _, b in pairs)
    tmp = f"__odg_multiset_{uuid.uuid4().hex}"
    con.execute(
        f"CREATE TEMP TABLE {tmp} AS SELECT {names}, sum(__odg_side)::BIGINT AS __odg_net FROM ("
        f"SELECT {sel_a}, -1 AS __odg_side FROM {scan_a} UNION ALL SELECT {sel_b}, 1 AS __odg_side FROM {scan_b}"
        f") GROUP BY ALL HAVING sum(__odg_side) <> 0"
    )
    try:
        row = con.execute(
            f"SELECT coalesce(sum(__odg_net) FILTER (WHERE __odg_net > 0), 0), "
            f"coalesce(-sum(__odg_net) FILTER (WHERE __odg_net < 0), 0) FROM {tmp}"
        ).fetchone()
        out: dict[str, pa.Table] = {}
        if samples:
            order = ", ".join(str(i + 1) for i in range(len(pairs)))
            for kind, sign in (("added", ">"), ("removed", "<")):
                out[kind] = _arrow(
                    con,
                    f"SELECT {names} FROM (SELECT {names}, unnest(range(abs(__odg_net))) FROM {tmp} "
                    f"WHERE __odg_net {sign} 0) ORDER BY {order} LIMIT {samples}",
                )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
    added, removed = (int(row[0]), int(row[1])) if row else (0, 0)
    return added, removed, None, {}, out


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    return con.execute(sql).to_arrow_table()


def _changed_row(row: dict[str, Any], key: list[str]) -> dict[str, Any]:
    columns = list(row.get("__odg_changed") or [])
    return {
        "key": {k: row[k] for k in key},
        "columns": columns,
        "from": {c: row.get(f"from:{c}") for c in columns},
        "to": {c: row.get(f"to:{c}") for c in columns},
    }


def _mask_plan(wb: Workbench, table: str) -> dict[str, str]:
    """Column -> masking method for the current user (``wb.masking``); empty when nothing is masked."""
    masking = getattr(type(wb), "masking", None)
    if masking is None:  # a workbench without the privacy capability
        return {}
    return dict(wb.masking.plan(table))


def _apply_mask(wb: Workbench, data: pa.Table, plan: Mapping[str, str]) -> tuple[pa.Table, set[str]]:
    """Mask the sample columns the plan names (``from:c`` and ``to:c`` of a changed row too).

    Without a masking key (hash and tokenize need one), the planned columns are redacted:
    a diff never shows less masked data than a read would.
    """
    from odg_workbench.privacy.masking import MaskingKeyError, load_key, mask_table

    wanted: dict[str, str] = {}
    used: set[str] = set()
    for column in data.column_names:
        base = column.split(":", 1)[1] if column.startswith(("from:", "to:")) else column
        if base in plan:
            wanted[column] = plan[base]
            used.add(base)
    if not wanted:
        return data, used
    try:
        return mask_table(data, wanted, lambda: load_key(wb)), used
    except MaskingKeyError:
        return mask_table(data, dict.fromkeys(wanted, "redact")), used


# -- models ------------------------------------------------------------------------------


def compare_models(wb: Workbench, name: str, v1: int | str, v2: int | str) -> dict[str, Any]:
    """Performance diff of two versions of a registered model; see :meth:`ModelRegistry.compare`."""
    return wb.models.compare(name, v1, v2)


# -- pipelines ---------------------------------------------------------------------------


@dataclass
class PipelineDiff:
    """Two versions of a pipeline: what kind, whether the logic changed, and how."""

    pipeline: str
    from_version: str
    to_version: str
    kind: str
    same: bool
    text_diff: list[str]
    edits: list[dict[str, str]]
    runs: dict[str, dict[str, Any] | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "kind": self.kind,
            "same": self.same,
            "text_diff": list(self.text_diff),
            "edits": list(self.edits),
            "runs": dict(self.runs),
        }


def compare_pipelines(wb: Workbench, pipeline: str, from_version: str, to_version: str) -> PipelineDiff:
    """Diff two recorded versions of ``pipeline``: normalised SQL (sqlglot) or optimised polars plan.

    Versions are the hashes recorded by ``VersionedQuery`` / ``VersionedPipeline`` runs (a
    unique prefix is enough). The SQL of both versions is compared with sqlglot's
    semantic ``diff`` (``edits``: inserted / removed / moved / updated expressions) and as a
    unified text diff of the pretty-printed SQL; plans as a unified text diff.
    """
    runs = _pipeline_runs(wb, pipeline)
    if not runs:
        known = _known_pipelines(wb)
        close = difflib.get_close_matches(pipeline, known, n=3)
        raise CompareError(
            f"no recorded runs of pipeline {pipeline!r}"
            + (f" (did you mean {', '.join(close)}?)" if close else "")
            + (f"; pipelines with runs: {', '.join(known[:20])}" if known else "; no pipeline has recorded runs"),
            pipeline=pipeline,
            expected=known[:20],
        )
    a = _run_for_version(pipeline, runs, from_version)
    b = _run_for_version(pipeline, runs, to_version)
    text_a, text_b = _logic_text(a), _logic_text(b)
    kind = "sql" if a.get("sql") and b.get("sql") else "plan"
    edits: list[dict[str, str]] = []
    if kind == "sql":
        text_a, text_b = _pretty_sql(text_a), _pretty_sql(text_b)
        edits = _sql_edits(str(a.get("sql")), str(b.get("sql")))
    diff = list(
        difflib.unified_diff(
            text_a.splitlines(),
            text_b.splitlines(),
            fromfile=f"{pipeline}@{a['version']}",
            tofile=f"{pipeline}@{b['version']}",
            lineterm="",
        )
    )
    return PipelineDiff(
        pipeline=pipeline,
        from_version=str(a["version"]),
        to_version=str(b["version"]),
        kind=kind,
        same=str(a["version"]) == str(b["version"]),
        text_diff=diff,
        edits=edits,
        runs={"from": _run_summary(a), "to": _run_summary(b)},
    )


def _pipeline_runs(wb: Workbench, pipeline: str) -> list[dict[str, Any]]:
    """The recorded runs of ``pipeline`` (dicts with version, sql / plan, status ...), newest first."""
    out = []
    for run in wb.lineage.runs(pipeline, limit=10_000):
        record = run.to_dict()
        record.setdefault("plan", (run.props or {}).get("plan"))
        out.append(record)
    return out


def _known_pipelines(wb: Workbench) -> list[str]:
    return sorted(v.name for v in wb.lineage.vertices("Pipeline"))


def _run_for_version(pipeline: str, runs: list[dict[str, Any]], version: str) -> dict[str, Any]:
    version = str(version).strip()
    hits: dict[str, dict[str, Any]] = {}
    for run in runs:  # newest first: keep the newest run of each version
        v = str(run.get("version") or "")
        if v and v.startswith(version) and v not in hits:
            hits[v] = run
    if len(hits) == 1:
        return next(iter(hits.values()))
    known = list(dict.fromkeys(str(r.get("version")) for r in runs if r.get("version")))
    if not hits:
        raise CompareError(
            f"pipeline {pipeline!r} has no recorded version {version!r}; versions (newest first): "
            + ", ".join(v[:12] for v in known[:10]),
            pipeline=pipeline,
            found=version,
            expected=known[:10],
        )
    raise CompareError(
        f"pipeline {pipeline!r}: version prefix {version!r} is ambiguous ({', '.join(sorted(hits))}); give more characters",
        pipeline=pipeline,
        found=version,
        expected=sorted(hits),
    )


def _logic_text(run: Mapping[str, Any]) -> str:
    return str(run.get("sql") or run.get("plan") or "")


def _pretty_sql(sql: str) -> str:
    import sqlglot

    try:
        return ";\n".join(s.sql(dialect="duckdb", pretty=True) for s in sqlglot.parse(sql, read="duckdb") if s)
    except sqlglot.errors.SqlglotError:
        return sql


def _sql_edits(sql_a: str, sql_b: str) -> list[dict[str, str]]:
    """sqlglot's semantic diff of two queries, without the unchanged (Keep) nodes."""
    import sqlglot
    from sqlglot.diff import Keep, diff

    try:
        a, b = sqlglot.parse_one(sql_a, read="duckdb"), sqlglot.parse_one(sql_b, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return []
    out: list[dict[str, str]] = []
    for edit in diff(a, b, delta_only=True):
        if isinstance(edit, Keep):
            continue
        entry = {"edit": type(edit).__name__.lower()}
        for attr in ("expression", "source", "target"):
            node = getattr(edit, attr, None)
            if node is not None:
                entry[attr] = node.sql(dialect="duckdb")
        out.append(entry)
    return out


def _run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("run_id", "version", "status", "started_at", "ended_at", "git_commit", "inputs", "outputs")
    return {k: run.get(k) for k in keep if k in run}
