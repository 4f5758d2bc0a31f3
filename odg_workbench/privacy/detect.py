"""PII detection for tables: per column, from the column's name and from sampled values.

:func:`scan` reads a uniform sample of rows (``privacy.scan_sample_rows``, 2,000 by default)
without loading the table: DuckDB's reservoir sample over a workspace table (through its
Iceberg scan, at any snapshot), a Parquet or CSV file; a random ``take`` of an in-memory
frame. Then, per column:

1. **name**: :func:`~odg_workbench.privacy.recognizers.name_evidence` reads the column's
   name (pt/en/es: ``cpf``, ``email``, ``telefone``, ``data_nascimento``, ``dob`` ...);
2. **values**: each non-null sampled value is tested whole against every entity type. A
   vectorised regular expression (``pyarrow.compute``, RE2) picks the candidates and only
   those go through the Python checks (checksums, area codes, name lists). Values that are
   free text (three words or more) are searched for spans inside them
   (:func:`detect_text`), reading at most ``privacy.scan_max_text_chars`` characters of
   each value, so enormous fields take bounded time;
3. **confidence**: the share of sampled values that validate, weighted by how much a
   validated value says (a checksum says more than a pattern), combined with the name:
   ``1 - (1 - value) * (1 - name)``. A name alone, with no values to check, gives 0.45
   (strong names) or less, under the default reporting threshold
   ``privacy.scan_min_confidence`` = 0.5: an empty ``email`` column is reported clean, with
   its name evidence kept in :attr:`ScanReport.name_hints`.

Birth dates: a date column is a birth-date column when its name says so, or when its
values look like birth dates (date-only, past, ages 0-120, median age 16+ and a spread of
10+ years) and its name does not say it is something else (``order_date``, ``created_at``).
Timestamps with a time of day never are.

Columns of binary, boolean, floating-point with fractions, nested or null types are not
read (their findings are empty; ``skipped`` says why).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError, SourceReadError, TableNameError, UnsupportedFormatError
from odg_workbench.privacy import recognizers as rec
from odg_workbench.privacy.documents import is_valid_cnpj, is_valid_cpf
from odg_workbench.privacy.recognizers import ENTITY_TYPES, Span

if TYPE_CHECKING:
    import pyarrow as pa

    from odg_workbench.workspace import Workbench

__all__ = [
    "DEFAULT_MAX_TEXT_CHARS",
    "DEFAULT_MIN_CONFIDENCE",
    "DEFAULT_SAMPLE_ROWS",
    "ENTITY_TYPES",
    "Finding",
    "ScanError",
    "ScanReport",
    "Span",
    "analyze_column",
    "cell_entities",
    "detect_text",
    "is_personal_column",
    "pii_masker",
    "scan",
]

DEFAULT_SAMPLE_ROWS = 2000
DEFAULT_MAX_TEXT_CHARS = 2000
DEFAULT_MIN_CONFIDENCE = 0.5
_TEXT_BUDGET = 400_000  # characters of free text searched per column (bounded time)
_LAYERS = ("bronze", "silver", "gold", "platinum")
_SEED = 20240601


class ScanError(OdgError, ValueError):
    """A PII scan cannot run: a source it cannot read, an unknown column."""


@dataclass(frozen=True)
class Finding:
    """One entity type detected in a column."""

    entity: str
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "confidence": round(self.confidence, 3), "evidence": self.evidence}


@dataclass
class ScanReport:
    """Findings per column (every column present; ``[]`` when clean)."""

    source: str
    columns: dict[str, list[Finding]]
    rows_total: int
    rows_scanned: int
    sample_rows: int
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    snapshot_id: int | None = None
    elapsed_s: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    name_hints: dict[str, list[str]] = field(default_factory=dict)

    def entities(self, column: str) -> set[str]:
        """Entity types found in ``column``."""
        if column not in self.columns:
            raise ScanError(
                f"no column {column!r} in the scan of {self.source}; columns: {', '.join(self.columns)}",
                column=column,
            )
        return {f.entity for f in self.columns[column]}

    @property
    def pii_columns(self) -> dict[str, list[str]]:
        """Columns with personal data -> their entity types (most confident first)."""
        return {c: [f.entity for f in fs] for c, fs in self.columns.items() if fs}

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``odg privacy scan --json``."""
        return {
            "source": self.source,
            "snapshot_id": self.snapshot_id,
            "rows_total": self.rows_total,
            "rows_scanned": self.rows_scanned,
            "sample_rows": self.sample_rows,
            "min_confidence": self.min_confidence,
            "elapsed_s": round(self.elapsed_s, 4),
            "columns": {c: [f.to_dict() for f in fs] for c, fs in self.columns.items()},
            "skipped": self.skipped,
        }


# -- free text and single values -----------------------------------------------------------------


def detect_text(text: str, *, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> list[Span]:
    """Personal data inside free text: spans ``(entity, start, end, confidence)``.

    Only the first ``max_chars`` characters are read (``0`` or less: all of them), so a
    huge field takes bounded time; spans past that point are not found.
    """
    if not isinstance(text, str):
        raise ScanError(f"detect_text expects a string, found {type(text).__name__}", found=type(text).__name__)
    if max_chars > 0 and len(text) > max_chars:
        text = text[:max_chars]
    return rec.find_spans(text)


_WORDS = re.compile(r"\S+")


def _is_free_text(value: str) -> bool:
    """Three words or more, two of them made of letters only (an IBAN in groups is not text)."""
    words = _WORDS.findall(value[:300])
    return len(words) >= 3 and sum(1 for w in words if len(w) >= 2 and w.strip(".,;:!?()\"'").isalpha()) >= 2


# -- column analysis ------------------------------------------------------------------------------

# RE2 prefilters (pyarrow.compute.match_substring_regex): cheap and vectorised; only the values
# they keep go through the Python checks.
_PREFILTER: dict[str, str] = {
    "EMAIL": r"@",
    "PHONE": r"^\+?[0-9\s().\-]{7,24}$",
    "BR_CPF": r"^[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}$",
    "BR_CNPJ": r"^[0-9A-Za-z]{2}\.?[0-9A-Za-z]{3}\.?[0-9A-Za-z]{3}/?[0-9A-Za-z]{4}-?[0-9]{2}$",
    "CREDIT_CARD": r"^[0-9]{4}(?:[ \-]?[0-9]{2,7}){1,4}$",
    "IBAN": r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 \-]{11,40}$",
    "US_SSN": r"^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}$",
    "IP_ADDRESS": r"^(?:[0-9.]{7,15}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%\w+)?)$",
    "PERSON_NAME": r"^[^0-9@/\\_|<>#=:;!?]{1,80}$",
    "DATE_OF_BIRTH": r"^[0-9]{1,4}[/.\-][0-9]{1,2}[/.\-][0-9]{1,4}$",
    "ADDRESS": r"[0-9]",
}


@dataclass
class _Tally:
    matched: int = 0  # whole values
    in_text: int = 0  # values containing a span
    span_conf: float = 0.0
    examples: list[str] = field(default_factory=list)


def _mask_example(value: str) -> str:
    """An example value with all but its last two letters or digits starred."""
    v = value if len(value) <= 40 else value[:40] + "…"
    keep = 2
    out: list[str] = []
    for ch in reversed(v):
        if ch.isalnum():
            out.append(ch if keep > 0 else "*")
            keep -= 1
        else:
            out.append(ch)
    return "".join(reversed(out))


def _lower_share(matched: int, n: int) -> float:
    """Wilson lower bound (z = 1) of a share: 1 of 4 sampled values says little, 500 of 2000 a lot."""
    if n == 0:
        return 0.0
    p, z2 = matched / n, 1.0
    centre = p + z2 / (2 * n)
    margin = math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


def _value_confidence(entity: str, matched: int, n: int) -> float:
    return rec.VALUE_STRENGTH[entity] * math.sqrt(min(1.0, _lower_share(matched, n) / 0.8))


def _text_confidence(span_conf: float, matched: int, n: int) -> float:
    return span_conf * (0.6 + 0.4 * min(1.0, _lower_share(matched, n) / 0.3))


def _name_prior(strength: float) -> float:
    return 0.6 if strength >= 1.0 else (0.35 if strength > 0 else 0.0)


def _birth_like(dates: Sequence[date], today: date) -> bool:
    """Ages of people: a median of 16 years or more and a spread of at least 10 years."""
    ages = sorted((today - d).days / 365.25 for d in dates)
    if len(ages) < 5:
        return False
    median = ages[len(ages) // 2]
    spread = ages[int(len(ages) * 0.9)] - ages[int(len(ages) * 0.1)]
    return median >= 16 and spread >= 10


def analyze_column(
    column: str,
    values: Any,
    *,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    today: date | None = None,
) -> tuple[list[Finding], str | None]:
    """Findings of one column from its name and ``values`` (a pyarrow Array/ChunkedArray or a
    sequence). Returns ``(findings, skipped_reason)``."""
    import pyarrow as pa

    today = today or date.today()
    hints = rec.name_evidence(column)
    vetoed_dob = "DATE_OF_BIRTH" in rec.name_vetoes(column) and "DATE_OF_BIRTH" not in hints
    arr = _as_arrow(values)
    kind, prepared, skipped = _prepare(arr, max_text_chars)
    tallies: dict[str, _Tally] = {e: _Tally() for e in ENTITY_TYPES}
    sampled = 0
    dob_dates: list[date] = []
    if kind == "text":
        assert isinstance(prepared, pa.Array)
        sampled = len(prepared)
        dob_dates = _tally_text(prepared, hints, tallies)
    elif kind == "int":
        digits: list[str] = prepared
        sampled = len(digits)
        _tally_ints(digits, hints, tallies)
    elif kind in ("date", "timestamp"):
        moments: list[Any] = prepared
        sampled = len(moments)
        for m in moments:
            d = rec.parse_date(m)
            if d is not None and rec.plausible_birth_date(d, today):
                dob_dates.append(d)
                t = tallies["DATE_OF_BIRTH"]
                t.matched += 1
                if len(t.examples) < 3:
                    t.examples.append(_mask_example(d.isoformat()))
    # Dates are birth dates by name, or by looking like people's ages (and not named otherwise).
    dob = tallies["DATE_OF_BIRTH"]
    if dob.matched and "DATE_OF_BIRTH" not in hints and (vetoed_dob or not _birth_like(dob_dates, today)):
        dob.matched = 0
        dob.examples.clear()
    findings: list[Finding] = []
    for entity in ENTITY_TYPES:
        t = tallies[entity]
        strength = hints.get(entity, 0.0)
        prior = _name_prior(strength)
        value_conf = _value_confidence(entity, t.matched, sampled) if sampled and t.matched else 0.0
        text_conf = _text_confidence(t.span_conf / t.in_text, t.in_text, sampled) if t.in_text else 0.0
        v = max(value_conf, text_conf)
        if sampled == 0:
            conf = 0.75 * prior
        elif v == 0.0:
            conf = 0.4 * prior
        else:
            conf = 1 - (1 - v) * (1 - prior)
        if conf < min_confidence or conf <= 0:
            continue
        evidence: dict[str, Any] = {
            "name_match": "strong" if strength >= 1.0 else ("weak" if strength > 0 else None),
            "match_share": round(t.matched / sampled, 4) if sampled else 0.0,
            "matched": t.matched,
            "sampled": sampled,
            "examples_masked": t.examples[:3],
        }
        if t.in_text:
            evidence["in_text"] = t.in_text
            evidence["in_text_share"] = round(t.in_text / sampled, 4)
        evidence["mode"] = "name" if v == 0.0 else ("text" if text_conf > value_conf else "value")
        findings.append(Finding(entity, round(min(conf, 0.999), 4), evidence))
    findings.sort(key=lambda f: -f.confidence)
    return findings, skipped


def _as_arrow(values: Any) -> Any:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    return _array_from_objects(list(values))


def _array_from_objects(items: list[Any]) -> Any:
    """Arrow from Python objects; mixed types (an object column) become text, bytes are dropped."""
    import pyarrow as pa

    try:
        return pa.array(items, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        out: list[str | None] = []
        for v in items:
            if v is None or isinstance(v, (bytes, bytearray, memoryview)) or (isinstance(v, float) and math.isnan(v)):
                out.append(None)
            else:
                out.append(str(v))
        return pa.array(out, pa.string())


def _prepare(arr: Any, max_text_chars: int) -> tuple[str, Any, str | None]:
    """(kind, values, skipped reason): non-null values ready for the tests of their kind."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_null(t) or len(arr) == 0:
        return "none", [], None
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        arr = arr.cast(pa.string()).drop_null()
        if max_text_chars > 0:
            arr = pc.utf8_slice_codeunits(arr, 0, max_text_chars)
        arr = pc.utf8_trim_whitespace(arr)
        arr = arr.filter(pc.not_equal(arr, ""))
        return "text", arr, None
    if pa.types.is_integer(t):
        vals = [str(abs(v)) for v in arr.drop_null().to_pylist()]
        return "int", vals, None
    if pa.types.is_floating(t):
        floats = [v for v in arr.drop_null().to_pylist() if not math.isnan(v)]
        if floats and all(v.is_integer() and abs(v) < 1e19 for v in floats):
            return "int", [str(int(abs(v))) for v in floats], None
        return "none", [], "numbers with fractions"
    if pa.types.is_decimal(t):
        if t.scale == 0:
            return "int", [str(abs(int(v))) for v in arr.drop_null().to_pylist()], None
        return "none", [], "numbers with fractions"
    if pa.types.is_date(t):
        return "date", arr.drop_null().to_pylist(), None
    if pa.types.is_timestamp(t):
        return "timestamp", arr.drop_null().to_pylist(), None
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "none", [], "binary values are not read"
    if pa.types.is_boolean(t):
        return "none", [], "booleans hold no personal data"
    return "none", [], f"values of type {t} are not read"


def _tally_text(arr: Any, hints: dict[str, float], tallies: dict[str, _Tally]) -> list[date]:
    import pyarrow.compute as pc

    values: list[str] = arr.to_pylist()
    dob_dates: list[date] = []
    claimed = [False] * len(values)
    for entity in ENTITY_TYPES:
        mask = pc.match_substring_regex(arr, _PREFILTER[entity]).to_numpy(zero_copy_only=False)
        loose = hints.get(entity, 0.0) >= 1.0
        t = tallies[entity]
        for i in mask.nonzero()[0].tolist():
            v = values[i]
            if entity == "DATE_OF_BIRTH":
                d = rec.parse_date(v)
                if d is None or not rec.plausible_birth_date(d):
                    continue
                dob_dates.append(d)
            elif not rec.value_matches(entity, v, loose=loose):
                continue
            t.matched += 1
            claimed[i] = True
            if len(t.examples) < 3:
                t.examples.append(_mask_example(v))
    budget = _TEXT_BUDGET
    for i, v in enumerate(values):
        if claimed[i] or budget <= 0 or not _is_free_text(v):
            continue
        budget -= len(v)
        seen: set[str] = set()
        for span in rec.find_spans(v):
            if span.entity in seen:
                continue
            seen.add(span.entity)
            t = tallies[span.entity]
            t.in_text += 1
            t.span_conf += span.confidence
            if len(t.examples) < 3:
                t.examples.append(_mask_example(v[span.start : span.end]))
    return dob_dates


def _tally_ints(digits: list[str], hints: dict[str, float], tallies: dict[str, _Tally]) -> None:
    """Numbers stored as integers: CPFs and CNPJs lose their leading zeros, so pad them back."""
    tests: dict[str, Any] = {
        "BR_CPF": lambda d: 9 <= len(d) <= 11 and is_valid_cpf(d.zfill(11)),
        "BR_CNPJ": lambda d: 12 <= len(d) <= 14 and is_valid_cnpj(d.zfill(14)),
        "CREDIT_CARD": lambda d: 12 <= len(d) <= 19 and rec.is_valid_card(d),
        "PHONE": lambda d: 8 <= len(d) <= 13 and rec.is_phone(d, loose=hints.get("PHONE", 0.0) >= 1.0),
        "US_SSN": lambda d: hints.get("US_SSN", 0.0) >= 1.0 and 7 <= len(d) <= 9 and rec.is_valid_ssn(d.zfill(9)),
        "ADDRESS": lambda d: hints.get("ADDRESS", 0.0) >= 1.0 and len(d) in (4, 5, 7, 8),
    }
    for entity, test in tests.items():
        t = tallies[entity]
        for d in digits:
            if test(d):
                t.matched += 1
                if len(t.examples) < 3:
                    t.examples.append(_mask_example(d))


def cell_entities(value: Any, column_entities: set[str] | frozenset[str], hints: dict[str, float]) -> set[str]:
    """The entities one cell holds, among those reported for its column: the whole value
    validated as the scan validates it, or spans inside a free text. The cell-level view of
    a scan (used by the labeled evaluation, data/privacy/labeled.py)."""
    if value is None or not column_entities:
        return set()
    if isinstance(value, (date, datetime)):
        ok = "DATE_OF_BIRTH" in column_entities and rec.plausible_birth_date(value)
        return {"DATE_OF_BIRTH"} if ok else set()
    if isinstance(value, (bool, bytes, bytearray)):
        return set()
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isnan(value) or not value.is_integer()):
            return set()
        tallies = {e: _Tally() for e in ENTITY_TYPES}
        _tally_ints([str(abs(int(value)))], hints, tallies)
        return {e for e, t in tallies.items() if t.matched and e in column_entities}
    v = str(value).strip()
    found = set()
    for e in column_entities:
        if e == "DATE_OF_BIRTH":
            if rec.plausible_birth_date(v):
                found.add(e)
        elif rec.value_matches(e, v, loose=hints.get(e, 0.0) >= 1.0):
            found.add(e)
    if not found and _is_free_text(v):
        found = {s.entity for s in rec.find_spans(v[:DEFAULT_MAX_TEXT_CHARS])} & set(column_entities)
    return found


# -- sources --------------------------------------------------------------------------------------


@dataclass
class _Sample:
    name: str
    table: pa.Table
    rows_total: int
    snapshot_id: int | None = None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(columns: Sequence[str] | None) -> str:
    return ", ".join(_quote(c) for c in columns) if columns else "*"


def _sample_in_memory(table: pa.Table, n: int) -> pa.Table:
    if table.num_rows <= n:
        return table
    import numpy as np

    idx = np.sort(np.random.default_rng(_SEED).choice(table.num_rows, size=n, replace=False))
    return table.take(idx)


def _from_frame(data: Any, n: int) -> tuple[pa.Table, int] | None:
    """Sample of an in-memory frame; None when ``data`` is not one."""
    import pyarrow as pa

    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return _sample_in_memory(data, n), data.num_rows
    mod = type(data).__module__
    if mod.startswith("polars"):
        import polars as pl

        if isinstance(data, pl.LazyFrame):
            total = int(data.select(pl.len()).collect().item())
            frame = data.collect() if total <= n else data.collect().sample(n, seed=_SEED)
            return frame.to_arrow(), total
        total = data.height
        frame = data if total <= n else data.sample(n, seed=_SEED)
        return frame.to_arrow(), total
    if mod.startswith("pandas"):
        total = len(data)
        frame = data if total <= n else data.sample(n, random_state=_SEED)
        arrays = {str(c): _array_from_objects(frame[c].tolist()) for c in frame.columns}
        return pa.table(arrays) if arrays else pa.table({}), total
    return None


def _duck_sample(con: Any, relation_sql: str, columns: Sequence[str] | None, n: int) -> tuple[pa.Table, int]:
    total = int(con.sql(f"SELECT count(*) FROM {relation_sql}").fetchone()[0])
    cols = _select(columns)
    if total <= n:
        return con.sql(f"SELECT {cols} FROM {relation_sql}").arrow(), total
    sql = f"SELECT {cols} FROM {relation_sql} USING SAMPLE reservoir({int(n)} ROWS) REPEATABLE ({_SEED})"
    return con.sql(sql).arrow(), total


def _to_table(result: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(result, pa.RecordBatchReader):
        return result.read_all()
    return result


def _resolve(source: Any, workbench: Workbench | None, as_of: Any, n: int, columns: Sequence[str] | None) -> _Sample:
    frame = _from_frame(source, n)
    if frame is not None:
        if as_of is not None:
            raise ScanError("as_of applies to workspace tables, not to an in-memory frame")
        return _Sample(f"<{type(source).__module__.split('.')[0]} frame>", frame[0], frame[1])
    if not isinstance(source, (str, Path)):
        raise UnsupportedFormatError(
            f"cannot scan a {type(source).__name__}: give a table name (layer.name), a file path, "
            "or a pandas/polars/Arrow frame",
            found=type(source).__name__,
        )
    text = str(source)
    path = Path(text).expanduser()
    if "." in text and text.split(".", 1)[0].lower() in _LAYERS and not path.exists():
        if workbench is None:
            raise ScanError(f"{text} looks like a workspace table; open a workspace to scan it", found=text)
        from odg_workbench.lakehouse.names import TableName

        try:
            name = TableName.parse(text)
        except TableNameError:
            raise
        table = workbench.table(str(name))
        snap = table.snapshot(as_of) if as_of is not None else None
        if table.current_snapshot_id is None:
            import pyarrow as pa

            return _Sample(str(name), pa.Table.from_pylist([], schema=table.schema()), 0)
        if columns is not None:
            _check_columns(columns, list(table.schema().names), str(name))
        rel = workbench.sql(f"SELECT {_select(columns)} FROM {name}", as_of=as_of)
        total = int(rel.aggregate("count(*)").fetchone()[0])  # type: ignore[index]
        if total <= n:
            sample = _to_table(rel.arrow())
        else:
            q = f"SELECT {_select(columns)} FROM {name} USING SAMPLE reservoir({int(n)} ROWS) REPEATABLE ({_SEED})"
            sample = _to_table(workbench.sql(q, as_of=as_of).arrow())
        snapshot_id = snap.snapshot_id if snap is not None else table.current_snapshot_id
        return _Sample(str(name), sample, total, snapshot_id)
    if as_of is not None:
        raise ScanError("as_of applies to workspace tables, not to files", path=text)
    if not path.exists():
        raise SourceReadError(f"no such file or table: {text}", path=text)
    if path.is_dir():
        raise SourceReadError(f"{path}: is a folder, not a file", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq", ".csv", ".tsv"):
        import duckdb

        con = duckdb.connect(":memory:")
        try:
            lit = "'" + str(path).replace("'", "''") + "'"
            if suffix in (".parquet", ".pq"):
                rel_sql = f"read_parquet({lit})"
            else:
                sep = "\t" if suffix == ".tsv" else ","
                rel_sql = f"read_csv({lit}, all_varchar = true, delim = '{sep}')"
            try:
                schema_cols = [d[0] for d in con.sql(f"SELECT * FROM {rel_sql} LIMIT 0").description]
            except duckdb.Error as exc:
                raise SourceReadError(f"{path}: cannot read: {exc}", path=str(path)) from exc
            if columns is not None:
                _check_columns(columns, schema_cols, str(path))
            tbl, total = _duck_sample(con, rel_sql, columns, n)
            return _Sample(str(path), _to_table(tbl), total)
        finally:
            con.close()
    from odg_workbench.lakehouse.sources import read_source

    full = read_source(path).table
    return _Sample(str(path), _sample_in_memory(full, n), full.num_rows)


def _check_columns(columns: Sequence[str], available: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in available]
    if missing:
        raise ScanError(
            f"{where}: no column {', '.join(repr(c) for c in missing)}; columns: {', '.join(available)}",
            column=missing[0],
            expected=list(available),
        )


# -- the scan -------------------------------------------------------------------------------------


def _setting(workbench: Workbench | None, key: str, default: Any) -> Any:
    if workbench is None:
        return default
    return workbench.config.get(key)


def scan(
    source: Any,
    *,
    workbench: Workbench | None = None,
    as_of: Any = None,
    sample_rows: int | None = None,
    columns: Sequence[str] | None = None,
    min_confidence: float | None = None,
    max_text_chars: int | None = None,
) -> ScanReport:
    """Detect personal data per column of ``source``.

    ``source``: a workspace table ``"layer.name"`` (needs ``workbench``; ``as_of`` picks a
    snapshot id, tag or time), a Parquet/CSV/JSON file, or a pandas/polars/Arrow frame.
    ``sample_rows`` (default ``privacy.scan_sample_rows``): rows read, sampled uniformly.
    """
    started = time.perf_counter()
    n = int(
        sample_rows if sample_rows is not None else _setting(workbench, "privacy.scan_sample_rows", DEFAULT_SAMPLE_ROWS)
    )
    if n < 1:
        raise ScanError(f"sample_rows must be at least 1, found {n}", found=n)
    min_conf = float(
        min_confidence
        if min_confidence is not None
        else _setting(workbench, "privacy.scan_min_confidence", DEFAULT_MIN_CONFIDENCE)
    )
    max_chars = int(
        max_text_chars
        if max_text_chars is not None
        else _setting(workbench, "privacy.scan_max_text_chars", DEFAULT_MAX_TEXT_CHARS)
    )
    sample = _resolve(source, workbench, as_of, n, columns)
    table = sample.table
    if columns is not None:
        _check_columns(columns, table.column_names, sample.name)
        table = table.select(list(columns))
    found: dict[str, list[Finding]] = {}
    skipped: dict[str, str] = {}
    hints: dict[str, list[str]] = {}
    today = date.today()
    for name in table.column_names:
        findings, reason = analyze_column(
            name, table.column(name), max_text_chars=max_chars, min_confidence=min_conf, today=today
        )
        found[name] = findings
        if reason:
            skipped[name] = reason
        named = rec.name_evidence(name)
        if named:
            hints[name] = sorted(named)
    return ScanReport(
        source=sample.name,
        columns=found,
        rows_total=sample.rows_total,
        rows_scanned=table.num_rows,
        sample_rows=n,
        min_confidence=min_conf,
        snapshot_id=sample.snapshot_id,
        elapsed_s=time.perf_counter() - started,
        skipped=skipped,
        name_hints=hints,
    )


# -- masking of quality samples -------------------------------------------------------------------

MASK = "***"
_OTHER_SENSITIVE = re.compile(
    r"(?:^|_)(?:rg|nif|nie|passport|passaporte|pasaporte|salary|salario|senha|password|cnh|pis|nit|titulo_eleitor)(?:_|$)"
)


def is_personal_column(column: str) -> bool:
    return bool(rec.name_evidence(column)) or bool(_OTHER_SENSITIVE.search(rec.name_tokens(column)))


def pii_masker(column: str, value: Any) -> Any:
    """The masker of quality reports' failing-row samples: ``***`` for every value of a column
    named for personal data, for a value that is personal data (checked like a scan does:
    checksums, name lists ...), and for the personal data inside free text (the rest of the
    text is kept). Other values pass unchanged."""
    if value is None:
        return None
    if is_personal_column(column):
        return MASK
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        d = str(abs(value))
        personal = (
            (9 <= len(d) <= 11 and is_valid_cpf(d.zfill(11)))
            or (12 <= len(d) <= 14 and is_valid_cnpj(d.zfill(14)))
            or (12 <= len(d) <= 19 and rec.is_valid_card(d))
            or (11 <= len(d) <= 13 and rec.is_phone(d))
        )
        return MASK if personal else value
    if isinstance(value, (bytes, bytearray)):
        return value
    if isinstance(value, (date, datetime)) or not isinstance(value, str):
        return value
    text = value[:DEFAULT_MAX_TEXT_CHARS] if len(value) > DEFAULT_MAX_TEXT_CHARS else value
    if rec.classify_value(text) is not None:
        return MASK
    spans = rec.find_spans(text)
    if not spans:
        return value
    if not _is_free_text(text):
        return MASK
    out, last = [], 0
    for s in spans:
        out.append(text[last : s.start])
        out.append(MASK)
        last = s.end
    out.append(text[last:])
    return "".join(out) if len(value) <= DEFAULT_MAX_TEXT_CHARS else MASK
