"""Schema evolution on append: what may change, how data is aligned, and the history.

An append whose data has

* a column the table lacks: the column is added (optional) in the same commit;
* a narrower type than the table (int into long, float into double, a decimal with
  fewer digits): the data is widened on write;
* a wider type that Iceberg allows as a promotion (int -> long, float -> double,
  decimal precision increase): the table column is promoted in the same commit;
* any other type difference: refused with :class:`SchemaMismatchError` naming the table,
  the source, the column, and the expected and found types. Nothing is written.

Columns of the table missing from the data are filled with nulls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import SchemaMismatchError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.update.schema import UpdateSchema
    from pyiceberg.types import IcebergType

__all__ = ["SchemaChange", "align_to_schema", "arrow_to_iceberg_schema", "plan_changes", "schema_history"]


@dataclass(frozen=True)
class SchemaChange:
    """One change an append makes to a table schema."""

    kind: str  # "add_column" | "promote_type"
    column: str
    to_type: str
    from_type: str | None = None

    def __str__(self) -> str:
        if self.kind == "add_column":
            return f"added column {self.column} ({self.to_type})"
        return f"promoted {self.column} from {self.from_type} to {self.to_type}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "from_type": self.from_type, "to_type": self.to_type}


def arrow_to_iceberg_schema(schema: pa.Schema) -> Schema:
    """An Iceberg schema for Arrow data (all fields optional, null columns as string)."""
    import pyarrow as pa
    from pyiceberg.io.pyarrow import _pyarrow_to_schema_without_ids
    from pyiceberg.schema import Schema, assign_fresh_schema_ids

    fields = [pa.field(f.name, pa.string() if pa.types.is_null(f.type) else f.type, nullable=True) for f in schema]
    converted = _pyarrow_to_schema_without_ids(pa.schema(fields))
    optional = Schema(*[_optional(f) for f in converted.fields])
    return assign_fresh_schema_ids(optional)


def _optional(field: Any) -> Any:
    from pyiceberg.types import ListType, MapType, NestedField, StructType

    t = field.field_type
    if isinstance(t, StructType):
        t = StructType(*[_optional(f) for f in t.fields])
    elif isinstance(t, ListType):
        t = ListType(t.element_id, _optional_type(t.element_type), element_required=False)
    elif isinstance(t, MapType):
        t = MapType(t.key_id, t.key_type, t.value_id, _optional_type(t.value_type), value_required=False)
    return NestedField(field.field_id, field.name, t, required=False, doc=field.doc)


def _optional_type(t: Any) -> Any:
    from pyiceberg.types import StructType

    if isinstance(t, StructType):
        return StructType(*[_optional(f) for f in t.fields])
    return t


def _incoming_type(field: pa.Field) -> IcebergType | None:
    import pyarrow as pa
    from pyiceberg.io.pyarrow import _pyarrow_to_schema_without_ids

    if pa.types.is_null(field.type):
        return None
    return _pyarrow_to_schema_without_ids(pa.schema([field])).fields[0].field_type


def _widens(narrow: IcebergType, wide: IcebergType) -> bool:
    """True when values of ``narrow`` convert losslessly to ``wide`` (Iceberg's promotions)."""
    from pyiceberg.types import DecimalType, DoubleType, FloatType, IntegerType, LongType

    if isinstance(narrow, IntegerType) and isinstance(wide, LongType):
        return True
    if isinstance(narrow, FloatType) and isinstance(wide, DoubleType):
        return True
    return (
        isinstance(narrow, DecimalType)
        and isinstance(wide, DecimalType)
        and narrow.scale == wide.scale
        and narrow.precision < wide.precision
    )


def plan_changes(
    table_schema: Schema, incoming: pa.Schema, *, table: str, source: str
) -> list[tuple[SchemaChange, tuple[str, ...], IcebergType]]:
    """The schema changes an append of ``incoming`` needs, or :class:`SchemaMismatchError`.

    Each entry is ``(change, path, new_type)``; ``path`` is the field path for
    pyiceberg's ``UpdateSchema``.
    """
    plan: list[tuple[SchemaChange, tuple[str, ...], IcebergType]] = []
    existing = {f.name: f for f in table_schema.fields}
    for field in incoming:
        found = _incoming_type(field)
        if field.name not in existing:
            new_type = found if found is not None else _string()
            plan.append((SchemaChange("add_column", field.name, str(new_type)), (field.name,), new_type))
            continue
        if found is None:  # all-null column: fits any table type
            continue
        _compare(existing[field.name].field_type, found, (field.name,), plan, table=table, source=source)
    return plan


def _string() -> IcebergType:
    from pyiceberg.types import StringType

    return StringType()


def _compare(
    expected: IcebergType,
    found: IcebergType,
    path: tuple[str, ...],
    plan: list[tuple[SchemaChange, tuple[str, ...], IcebergType]],
    *,
    table: str,
    source: str,
) -> None:
    from pyiceberg.types import ListType, MapType, StructType

    if expected == found or _widens(found, expected):
        return
    name = ".".join(path)
    if _widens(expected, found):
        plan.append((SchemaChange("promote_type", name, str(found), str(expected)), path, found))
        return
    if isinstance(expected, StructType) and isinstance(found, StructType):
        have = {f.name: f for f in expected.fields}
        for sub in found.fields:
            if sub.name not in have:
                plan.append(
                    (
                        SchemaChange("add_column", f"{name}.{sub.name}", str(sub.field_type)),
                        (*path, sub.name),
                        sub.field_type,
                    )
                )
            else:
                _compare(have[sub.name].field_type, sub.field_type, (*path, sub.name), plan, table=table, source=source)
        return
    if isinstance(expected, ListType) and isinstance(found, ListType):
        _compare(expected.element_type, found.element_type, (*path, "element"), plan, table=table, source=source)
        return
    if isinstance(expected, MapType) and isinstance(found, MapType):
        _compare(expected.key_type, found.key_type, (*path, "key"), plan, table=table, source=source)
        _compare(expected.value_type, found.value_type, (*path, "value"), plan, table=table, source=source)
        return
    raise SchemaMismatchError(
        f"{source}: column {name!r} has type {found}, but table {table} stores {expected} "
        "and Iceberg cannot convert between them; cast the column or write to a new table",
        table=table,
        source=source,
        column=name,
        expected=str(expected),
        found=str(found),
    )


def apply_changes(update: UpdateSchema, plan: list[tuple[SchemaChange, tuple[str, ...], IcebergType]]) -> None:
    for change, path, new_type in plan:
        if change.kind == "add_column":
            update.add_column(path if len(path) > 1 else path[0], new_type)
        else:
            update.update_column(path if len(path) > 1 else path[0], field_type=new_type)  # type: ignore[arg-type]


def align_to_schema(data: pa.Table, schema: Schema) -> pa.Table:
    """Arrow data shaped exactly as ``schema``: its column order and types, nulls where absent."""
    import pyarrow as pa
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    target = schema_to_pyarrow(schema, include_field_ids=False)
    columns = []
    for field in target:
        if field.name in data.column_names:
            columns.append(_align_chunked(data.column(field.name), field.type))
        else:
            columns.append(pa.nulls(data.num_rows, type=field.type))
    return pa.Table.from_arrays(columns, schema=pa.schema([pa.field(f.name, f.type, nullable=True) for f in target]))


def _align_chunked(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    import pyarrow as pa

    if column.type == target:
        return column
    return pa.chunked_array([_align_array(chunk, target) for chunk in column.chunks], type=target)


def _align_array(arr: pa.Array, target: pa.DataType) -> pa.Array:
    import pyarrow as pa
    import pyarrow.types as pt

    if arr.type == target:
        return arr
    if pt.is_null(arr.type):
        return pa.nulls(len(arr), type=target)
    if pt.is_struct(target) and pt.is_struct(arr.type):
        names = {arr.type.field(i).name: i for i in range(arr.type.num_fields)}
        children = []
        for sub in target:
            if sub.name in names:
                children.append(_align_array(arr.field(names[sub.name]), sub.type))
            else:
                children.append(pa.nulls(len(arr), type=sub.type))
        mask = arr.is_null() if arr.null_count else None
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if pt.is_list(target) and (pt.is_list(arr.type) or pt.is_large_list(arr.type)):
        flat = arr.flatten()
        offsets = pa.compute.subtract(arr.offsets, arr.offsets[0]).cast(pa.int32())
        values = _align_array(flat, target.value_type)
        mask = arr.is_null() if arr.null_count else None
        return pa.ListArray.from_arrays(offsets, values, type=target, mask=mask)
    return arr.cast(target)


def schema_history(table: Table) -> list[dict[str, Any]]:
    """Every schema version of ``table``, oldest first, with what changed and when.

    Field ids identify columns across versions, so a rename shows as a rename, not as a
    drop plus an add.
    """
    md = table.metadata
    first_use: dict[int, Any] = {}
    for snap in sorted(md.snapshots, key=lambda s: s.timestamp_ms):
        if snap.schema_id is not None and snap.schema_id not in first_use:
            first_use[snap.schema_id] = snap
    out: list[dict[str, Any]] = []
    previous: dict[int, Any] = {}
    for schema in sorted(md.schemas, key=lambda s: s.schema_id):
        fields = {f.field_id: f for f in schema.fields}
        changes: list[dict[str, Any]] = []
        if previous:
            for fid, f in fields.items():
                old = previous.get(fid)
                if old is None:
                    changes.append({"kind": "add_column", "column": f.name, "to_type": str(f.field_type)})
                else:
                    if old.name != f.name:
                        changes.append({"kind": "rename_column", "column": f.name, "from_name": old.name})
                    if old.field_type != f.field_type:
                        changes.append(
                            {
                                "kind": "promote_type",
                                "column": f.name,
                                "from_type": str(old.field_type),
                                "to_type": str(f.field_type),
                            }
                        )
            for fid, old in previous.items():
                if fid not in fields:
                    changes.append({"kind": "drop_column", "column": old.name, "from_type": str(old.field_type)})
        first = first_use.get(schema.schema_id)
        out.append(
            {
                "schema_id": schema.schema_id,
                "current": schema.schema_id == md.current_schema_id,
                "columns": [{"name": f.name, "type": str(f.field_type), "id": f.field_id} for f in schema.fields],
                "changes": changes,
                "first_snapshot_id": first.snapshot_id if first else None,
                "first_used_at_ms": first.timestamp_ms if first else None,
            }
        )
        previous = fields
    return out
