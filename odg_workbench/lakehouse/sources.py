"""Read ingestion sources into Arrow, with errors that name the file, line and column.

Files: CSV/TSV (optionally gzip), Parquet, JSON (an array of objects, or one object per
line) and NDJSON/JSONL. Objects: pyarrow Table/RecordBatch/RecordBatchReader, pandas
DataFrame, polars DataFrame/LazyFrame.

CSV and JSON are parsed with pyarrow (fast, multi-threaded); when pyarrow reports a
malformed file without a line number, a second pass with the standard library finds the
exact line, so errors are precise without slowing down good files.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import SourceReadError, UnsupportedFormatError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "Source", "detect_format", "read_source"]

#: format name -> file suffixes
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".csv.gz"),
    "tsv": (".tsv", ".tsv.gz", ".tab"),
    "parquet": (".parquet", ".pq"),
    "json": (".json", ".json.gz"),
    "ndjson": (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz"),
}


@dataclass(frozen=True)
class Source:
    """Data read from a source, and how to describe where it came from."""

    table: pa.Table
    description: str
    format: str


def detect_format(path: Path) -> str:
    name = path.name.lower()
    for fmt, suffixes in FORMATS.items():
        if name.endswith(suffixes):
            return fmt
    known = ", ".join(s for suffixes in FORMATS.values() for s in suffixes)
    raise UnsupportedFormatError(
        f"{path}: unknown file format {path.suffix or '(no suffix)'!r}; known suffixes: {known} "
        "(or pass format=csv|tsv|parquet|json|ndjson)",
        path=str(path),
        found=path.suffix,
        expected=sorted(FORMATS),
    )


def read_source(obj: Any, format: str | None = None) -> Source:
    """Read ``obj`` (a path or an in-memory frame) into an Arrow table."""
    if isinstance(obj, (str, Path)):
        path = Path(obj).expanduser()
        fmt = (format or detect_format(path)).lower()
        if fmt not in FORMATS:
            raise UnsupportedFormatError(
                f"unknown format {format!r}: expected one of {', '.join(FORMATS)}",
                found=format,
                expected=sorted(FORMATS),
            )
        if not path.exists():
            raise SourceReadError(f"{path}: no such file", path=str(path))
        if path.is_dir():
            raise SourceReadError(f"{path}: is a folder, not a file", path=str(path))
        reader = {
            "csv": _read_csv,
            "tsv": _read_tsv,
            "parquet": _read_parquet,
            "json": _read_json,
            "ndjson": _read_ndjson,
        }[fmt]
        try:
            table = reader(path)
        except PermissionError as exc:
            raise SourceReadError(f"{path}: permission denied", path=str(path)) from exc
        return Source(table, str(path), fmt)
    return Source(_from_object(obj), _describe_object(obj), "memory")


# -- in-memory objects -------------------------------------------------------------------


def _describe_object(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__.split('.')[0]}.{cls.__name__}"


def _from_object(obj: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if isinstance(obj, pa.RecordBatchReader):
        return obj.read_all()
    module = type(obj).__module__.split(".")[0]
    if module == "pandas" and type(obj).__name__ == "DataFrame":
        return _from_pandas(obj)
    if module == "polars" and type(obj).__name__ in ("DataFrame", "LazyFrame"):
        frame = obj.collect() if type(obj).__name__ == "LazyFrame" else obj
        return frame.to_arrow()
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    raise UnsupportedFormatError(
        f"cannot ingest a {_describe_object(obj)}: pass a file path, a pyarrow Table, "
        "a pandas or polars DataFrame, or a polars LazyFrame",
        found=_describe_object(obj),
    )


def _from_pandas(df: Any) -> pa.Table:
    import pyarrow as pa

    if len(set(map(str, df.columns))) != len(df.columns):
        dupes = sorted({str(c) for c in df.columns if list(map(str, df.columns)).count(str(c)) > 1})
        raise SourceReadError(f"pandas DataFrame has duplicate column names: {', '.join(dupes)}", column=dupes[0])
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        # Find the column arrow choked on and say what it holds.
        for col in df.columns:
            try:
                pa.array(df[col], from_pandas=True)
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                kinds = sorted({type(v).__name__ for v in df[col].dropna().head(1000)})
                raise SourceReadError(
                    f"pandas column {col!r} mixes value types ({', '.join(kinds)}); "
                    "cast it to one type (e.g. df[col].astype(str)) before ingesting",
                    column=str(col),
                    found=kinds,
                ) from exc
        raise SourceReadError(f"pandas DataFrame cannot be converted to Arrow: {exc}") from exc


# -- files -------------------------------------------------------------------------------


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _read_tsv(path: Path) -> pa.Table:
    return _read_csv(path, delimiter="\t")


def _read_csv(path: Path, delimiter: str = ",") -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    header = _csv_header(path, delimiter)
    try:
        table = pcsv.read_csv(
            path,
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        raise _diagnose_csv(path, delimiter, header, exc) from exc
    except UnicodeDecodeError as exc:
        raise SourceReadError(f"{path}: not UTF-8 text ({exc.reason})", path=str(path)) from exc
    return table


def _csv_header(path: Path, delimiter: str) -> list[str]:
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceReadError(f"{path}: cannot read: {exc}", path=str(path)) from exc
    if not header:
        raise SourceReadError(f"{path}: empty file, expected a header line", path=str(path), line=1)
    for i, name in enumerate(header, start=1):
        if not name.strip():
            raise SourceReadError(
                f"{path} line 1, column {i}: empty column name in the header",
                path=str(path),
                line=1,
                column=i,
            )
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        if name in seen:
            raise SourceReadError(
                f"{path} line 1, column {i}: duplicate column name {name!r} in the header",
                path=str(path),
                line=1,
                column=i,
                field=name,
            )
        seen.add(name)
    return header


def _diagnose_csv(path: Path, delimiter: str, header: list[str], exc: Exception) -> SourceReadError:
    """Find the first line whose field count differs from the header's."""
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)
        for row in reader:
            if row and len(row) != len(header):
                return SourceReadError(
                    f"{path} line {reader.line_num}: expected {len(header)} fields "
                    f"({delimiter.join(header)}), found {len(row)}",
                    path=str(path),
                    line=reader.line_num,
                    expected=len(header),
                    found=len(row),
                )
    message = str(exc).removeprefix("CSV parse error: ")
    return SourceReadError(f"{path}: malformed CSV: {message}", path=str(path))


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceReadError(f"{path}: not a readable Parquet file: {exc}", path=str(path)) from exc


def _read_ndjson(path: Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.json as pjson

    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            data = fh.read()
        return _parse_ndjson_bytes(data, path)
    try:
        return pjson.read_json(path)
    except pa.ArrowInvalid as exc:
        raise _diagnose_ndjson(_iter_lines(path), path, exc) from exc


def _parse_ndjson_bytes(data: bytes, path: Path, *, array: bool = False) -> pa.Table:
    import pyarrow as pa
    import pyarrow.json as pjson

    if not data.strip():
        raise SourceReadError(f"{path}: no JSON records", path=str(path))
    try:
        return pjson.read_json(io.BytesIO(data))
    except pa.ArrowInvalid as exc:
        raise _diagnose_ndjson(iter(data.decode("utf-8", "replace").splitlines()), path, exc, array=array) from exc


def _iter_lines(path: Path) -> Iterator[str]:
    with _open_text(path) as fh:
        yield from fh


_CHANGED = re.compile(r"Column\((?P<col>[^)]*)\) changed from (?P<a>\w+) to (?P<b>\w+)")


def _diagnose_ndjson(lines: Iterator[str], path: Path, exc: Exception, *, array: bool = False) -> SourceReadError:
    """Locate the bad line of an NDJSON file: a syntax error, or a field whose type changes.

    With ``array=True`` the lines are the elements of a JSON array, reported by index.
    """
    changed = _CHANGED.search(str(exc))
    field = changed.group("col").lstrip("/").replace("/", ".") if changed else None
    first_kind: str | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            return SourceReadError(
                f"{path} line {number}, column {err.colno}: invalid JSON: {err.msg}",
                path=str(path),
                line=number,
                column=err.colno,
            )
        if not isinstance(record, dict):
            return SourceReadError(
                f"{path} line {number}: expected a JSON object per line, found {type(record).__name__}",
                path=str(path),
                line=number,
            )
        if field is not None:
            value: Any = record
            for part in field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                continue
            kind = _json_kind(value)
            if first_kind is None:
                first_kind = kind
            elif kind != first_kind:
                where = f"array element {number - 1}" if array else f"line {number}"
                return SourceReadError(
                    f"{path} {where}: field {field!r} is a {kind} here but a {first_kind} in earlier records",
                    path=str(path),
                    line=None if array else number,
                    element=number - 1 if array else None,
                    field=field,
                    expected=first_kind,
                    found=kind,
                )
    return SourceReadError(f"{path}: malformed JSON: {exc}", path=str(path))


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _read_json(path: Path) -> pa.Table:
    """A JSON array of objects, a single object, or (despite the suffix) NDJSON."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    text = data.decode("utf-8", "replace")
    stripped = text.lstrip()
    if not stripped:
        raise SourceReadError(f"{path}: empty file, expected JSON", path=str(path), line=1)
    if stripped[0] == "[":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as err:
            raise SourceReadError(
                f"{path} line {err.lineno}, column {err.colno}: invalid JSON: {err.msg}",
                path=str(path),
                line=err.lineno,
                column=err.colno,
            ) from err
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise SourceReadError(
                    f"{path}: element {i} of the array is a {type(record).__name__}, expected an object",
                    path=str(path),
                    field=f"[{i}]",
                )
        if not records:
            raise SourceReadError(f"{path}: the JSON array is empty", path=str(path))
        # One code path for both layouts: the array becomes NDJSON for pyarrow's reader,
        # so types are inferred exactly as for .ndjson files.
        ndjson = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
        return _parse_ndjson_bytes(ndjson, path, array=True)
    return _parse_ndjson_bytes(data, path)
