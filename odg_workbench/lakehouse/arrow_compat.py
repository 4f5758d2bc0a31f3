"""Bring Arrow data to types Iceberg can store, without silently losing information.

Iceberg (format v2) has no unsigned integers, half floats, nanosecond timestamps,
dictionary encoding, null-typed columns or time zones other than UTC. Data from pandas,
polars or files often has them, so before writing:

========================  =====================================================
Arrow type                stored as
========================  =====================================================
uint8, uint16             int (int32)
uint32                    long (int64)
uint64                    long when every value fits, else decimal(20, 0)
float16                   float (float32)
dictionary<...>           its value type
timestamp[s|ms|ns]        timestamp[us] (nanoseconds are truncated: v2 has no ns)
timestamp with any tz     timestamptz (the instant is unchanged, shown in UTC)
date64                    date
time32                    time (microseconds)
null (an all-empty col)   kept as null here; a new table stores it as string
large_string/binary/list  string/binary/list
========================  =====================================================

Durations, intervals, unions and decimals wider than 38 digits have no Iceberg type and
raise :class:`~odg_workbench.errors.SchemaMismatchError` naming the column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from odg_workbench.errors import SchemaMismatchError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["normalize_table", "normalize_type"]


def normalize_type(t: pa.DataType, column: str) -> pa.DataType:
    """The Iceberg-storable Arrow type for ``t`` (``column`` names it in errors)."""
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_dictionary(t):
        return normalize_type(t.value_type, column)
    if pt.is_uint8(t) or pt.is_uint16(t):
        return pa.int32()
    if pt.is_uint32(t):
        return pa.int64()
    if pt.is_uint64(t):
        return pa.int64()  # narrowed further in normalize_table when values overflow
    if pt.is_int8(t) or pt.is_int16(t):
        return pa.int32()
    if pt.is_float16(t):
        return pa.float32()
    if pt.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz is not None else None)
    if pt.is_date64(t):
        return pa.date32()
    if pt.is_time32(t) or pt.is_time64(t):
        return pa.time64("us")
    if pt.is_large_string(t) or getattr(pt, "is_string_view", lambda _: False)(t):
        return pa.string()
    if pt.is_large_binary(t) or getattr(pt, "is_binary_view", lambda _: False)(t):
        return pa.binary()
    if pt.is_decimal(t):
        if t.precision > 38:
            raise SchemaMismatchError(
                f"column {column!r}: decimal({t.precision}, {t.scale}) is wider than Iceberg's 38 digits",
                column=column,
                found=str(t),
            )
        return pa.decimal128(t.precision, t.scale)
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        return pa.list_(pa.field("element", normalize_type(t.value_type, f"{column}.element"), nullable=True))
    if pt.is_struct(t):
        return pa.struct([pa.field(f.name, normalize_type(f.type, f"{column}.{f.name}"), nullable=True) for f in t])
    if pt.is_map(t):
        return pa.map_(normalize_type(t.key_type, f"{column}.key"), normalize_type(t.item_type, f"{column}.value"))
    if (
        pt.is_boolean(t)
        or pt.is_int32(t)
        or pt.is_int64(t)
        or pt.is_float32(t)
        or pt.is_float64(t)
        or pt.is_string(t)
        or pt.is_binary(t)
        or pt.is_fixed_size_binary(t)
        or pt.is_date32(t)
        or pt.is_null(t)
    ):
        return t
    raise SchemaMismatchError(
        f"column {column!r}: Arrow type {t} has no Iceberg equivalent; cast it "
        "(e.g. durations to integer microseconds) before ingesting",
        column=column,
        found=str(t),
    )


def normalize_table(table: pa.Table) -> pa.Table:
    """Cast every column of ``table`` to its Iceberg-storable type (see module docs)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as pt

    fields = []
    columns = []
    changed = False
    for field, column in zip(table.schema, table.columns, strict=True):
        name = field.name
        if "." in name:
            raise SchemaMismatchError(
                f"column {name!r}: names containing '.' are ambiguous in Iceberg (they denote nested "
                "fields); rename it, e.g. to " + repr(name.replace(".", "_")),
                column=name,
            )
        target = normalize_type(field.type, name)
        if pt.is_uint64(field.type) and len(column) and (pc.max(column).as_py() or 0) > 2**63 - 1:
            target = pa.decimal128(20, 0)
        if target != field.type:
            changed = True
            column = column.cast(target, safe=not pt.is_timestamp(field.type))
        fields.append(pa.field(name, target, nullable=True))
        columns.append(column)
    if not changed and all(f.nullable for f in table.schema):
        return table.replace_schema_metadata(None)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
