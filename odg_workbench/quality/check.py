"""Checking data against a contract: resolve the data, run an engine, score, gate, remember.

The data can be a workspace table (``"bronze.orders"``, any snapshot with ``as_of``), a
file (Parquet, CSV, JSON/NDJSON), an in-memory frame (pandas, polars, Arrow) or any ibis
table expression (DuckDB, PostgreSQL, polars, Spark, Trino, Snowflake ... backends).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from odg_workbench.errors import ContractError, QualityError, TableNameError
from odg_workbench.quality.contract import Contract, compile_rules, load_contract
from odg_workbench.quality.masking import Masker
from odg_workbench.quality.report import QualityReport
from odg_workbench.quality.rules import Outcome, Rule
from odg_workbench.quality.scoring import DEFAULT_GATES, gate, parse_weights, score

if TYPE_CHECKING:
    import ibis
    import pyarrow as pa

    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.workspace import Workbench

__all__ = ["Engine", "Target", "check", "resolve_target"]

Engine = Literal["auto", "ibis", "polars", "array"]

_FILE_SUFFIXES = {".parquet", ".pq", ".csv", ".tsv", ".json", ".ndjson", ".jsonl"}
_LAYERS = ("bronze", "silver", "gold", "platinum")


@dataclass
class Target:
    """Resolved data to check."""

    name: str
    layer: str | None
    snapshot_id: int | None
    table: ibis.Table | None = None  # for the ibis engine
    arrow: pa.Table | None = None  # for the array engine (in-memory data)
    backend: Any = None  # an ibis backend this check opened and must close

    def close(self) -> None:
        if self.backend is not None:
            with contextlib.suppress(Exception):  # closing an in-memory backend cannot lose data
                self.backend.disconnect()


def _duckdb_backend(memory_limit: str = "", spill: Path | None = None) -> Any:
    """An in-memory DuckDB for files and frames; it spills to ``spill`` (never to the cwd)."""
    import tempfile

    import duckdb
    import ibis

    folder = spill or Path(tempfile.gettempdir()) / "odg-duckdb-spill"
    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"temp_directory": str(folder)}
    if memory_limit:
        config["memory_limit"] = memory_limit
    return ibis.duckdb.from_connection(duckdb.connect(":memory:", config=config))


def _in_memory(data: Any) -> bool:
    """Whether :func:`_to_arrow` takes ``data`` as a frame, without converting it."""
    mod = type(data).__module__
    if mod.startswith(("polars", "pandas")):
        return True
    if mod.startswith("pyarrow"):
        import pyarrow as pa

        return isinstance(data, (pa.Table, pa.RecordBatch))
    return False


def _to_arrow(data: Any) -> pa.Table | None:
    """In-memory frames as Arrow (None when ``data`` is not one)."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    mod = type(data).__module__
    if mod.startswith("polars"):
        import polars as pl

        if isinstance(data, pl.LazyFrame):
            data = data.collect()
        return data.to_arrow()  # type: ignore[no-any-return]
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    return None


def resolve_target(
    data: Any,
    *,
    workbench: Workbench | None = None,
    as_of: AsOf | None = None,
    engine: Engine = "ibis",
    memory_limit: str = "",
    frame_backend: str = "polars",
) -> Target:
    """Turn a table name, a file, a frame or an ibis table into something an engine reads.

    In-memory frames run on ibis's polars backend (about twice as fast as DuckDB on them,
    docs/benchmarks.md), or on DuckDB (``frame_backend="duckdb"``, needed for ``sql`` rules
    written in DuckDB's dialect). Files and
    workspace tables run on DuckDB, which streams and spills to disk, so they may be
    larger than memory.
    """
    import ibis.expr.types as ir

    if isinstance(data, ir.Table):
        if as_of is not None:
            raise QualityError("as_of applies to workspace tables, not to an ibis expression")
        return Target(getattr(data, "get_name", lambda: "ibis table")(), None, None, table=data)
    arrow = _to_arrow(data)
    if arrow is not None:
        if as_of is not None:
            raise QualityError("as_of applies to workspace tables, not to an in-memory frame")
        from odg_workbench.lakehouse.arrow_compat import normalize_table

        arrow = normalize_table(arrow)
        if engine == "array":
            return Target("<frame>", None, None, arrow=arrow)
        spill = workbench.root / ".duckdb" / "tmp" if workbench is not None else None
        if frame_backend == "polars":
            import ibis

            backend = ibis.polars.connect()
            return Target("<frame>", None, None, table=backend.create_table("odg_frame", arrow), backend=backend)
        # Copied, not registered: over a registered Arrow table DuckDB pushes filters down
        # to Arrow, where NaN > 1 is false, while in DuckDB (and in files) it is true.
        backend = _duckdb_backend(memory_limit, spill)
        table = backend.create_table("odg_frame", arrow, temp=True)
        return Target("<frame>", None, None, table=table, backend=backend)
    if not isinstance(data, (str, Path)):
        raise QualityError(
            f"cannot check a {type(data).__name__}: give a table name (layer.name), a file path, "
            "a pandas/polars/Arrow frame or an ibis table",
            found=type(data).__name__,
        )
    text = str(data)
    path = Path(text).expanduser()
    is_table_name = "." in text and text.split(".", 1)[0].lower() in _LAYERS and not path.exists()
    if is_table_name:
        if workbench is None:
            raise QualityError(f"{text} looks like a workspace table; open a workspace to check it")
        from odg_workbench.lakehouse.names import TableName

        try:
            name = TableName.parse(text)
        except TableNameError:
            raise
        table = workbench.lakehouse.table(name)
        snap = table.snapshot(as_of) if (as_of is not None or table.current_snapshot_id is not None) else None
        snapshot_id = snap.snapshot_id if snap is not None else None
        if engine == "array":
            return Target(str(name), name.layer.value, snapshot_id, arrow=table.to_arrow(as_of=as_of))
        return Target(str(name), name.layer.value, snapshot_id, table=table.to_ibis(as_of=as_of))
    if as_of is not None:
        raise QualityError("as_of applies to workspace tables, not to files")
    if not path.exists():
        raise QualityError(f"no such file or table: {text}", path=text)
    if engine == "array":
        from odg_workbench.lakehouse.arrow_compat import normalize_table
        from odg_workbench.lakehouse.sources import read_source

        return Target(str(path), None, None, arrow=normalize_table(read_source(path).table))
    suffix = path.suffix.lower()
    backend = _duckdb_backend(memory_limit, workbench.root / ".duckdb" / "tmp" if workbench is not None else None)
    try:
        if suffix in (".parquet", ".pq"):
            t = backend.read_parquet(str(path))
        elif suffix in (".csv", ".tsv"):
            t = backend.read_csv(str(path))
        else:
            from odg_workbench.lakehouse.arrow_compat import normalize_table
            from odg_workbench.lakehouse.sources import read_source

            t = backend.create_table("odg_file", normalize_table(read_source(path).table), temp=True)
    except QualityError:
        raise
    except Exception as exc:
        backend.disconnect()
        if suffix not in _FILE_SUFFIXES:
            raise QualityError(
                f"{path}: unknown file format {suffix or '(none)'}; expected Parquet, CSV, JSON or NDJSON",
                path=str(path),
            ) from exc
        raise QualityError(f"{path}: cannot read: {exc}", path=str(path)) from exc
    return Target(str(path), None, None, table=t, backend=backend)


# ODCS logicalType -> a test on the ibis data type.
def _type_ok(logical: str, dtype: Any) -> bool:
    logical = logical.lower()
    checks = {
        "string": dtype.is_string,
        "integer": dtype.is_integer,
        "number": dtype.is_numeric,
        "boolean": dtype.is_boolean,
        "date": lambda: dtype.is_date() or dtype.is_timestamp(),
        "timestamp": dtype.is_timestamp,
        "time": dtype.is_time,
        "object": lambda: dtype.is_struct() or dtype.is_map() or dtype.is_json(),
        "array": dtype.is_array,
    }
    fn = checks.get(logical)
    return True if fn is None else bool(fn())


def check_schema(contract: Contract, object_name: str, schema: dict[str, Any], where: str) -> None:
    """The contract's properties exist in the data with compatible types."""
    import difflib

    _, obj = contract.object(object_name)
    columns = list(schema)
    problems: list[str] = []
    for prop in obj.properties or []:
        name = prop.physicalName or prop.name
        if name is None:
            continue
        if name not in schema:
            close = difflib.get_close_matches(name, columns, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"property {name!r} is not a column of the data{hint}")
        elif prop.logicalType and not _type_ok(prop.logicalType, schema[name]):
            problems.append(f"property {name!r}: contract says {prop.logicalType}, the data has {schema[name]}")
    if problems:
        raise ContractError(
            f"{where}: the data does not match contract {contract.source} ({object_name}): " + "; ".join(problems),
            path=contract.source,
            problems=problems,
            columns=columns,
        )


def _object_for(contract: Contract, target: Target, object_name: str | None) -> str:
    if object_name is not None:
        return contract.object(object_name)[1].name or object_name
    objects = contract.objects
    if len(objects) > 1:
        base = target.name.split(".")[-1] if target.layer else Path(target.name).stem
        for obj in objects:
            if base in (obj.name, obj.physicalName):
                return str(obj.name)
    _, obj = contract.object(None)
    return str(obj.name)


def gate_threshold(contract: Contract, layer: str, workbench: Workbench | None) -> float:
    """The contract's ``odg.gate.<layer>`` / ``odg.gate``, else ``quality.gate_<layer>``."""
    for key in (f"odg.gate.{layer}", "odg.gate"):
        value = contract.custom_property(key)
        if value is not None:
            try:
                threshold = float(value)
            except (TypeError, ValueError):
                raise ContractError(
                    f"{contract.source}: customProperties {key} must be a number between 0 and 1, found {value!r}",
                    path=contract.source,
                    field=key,
                ) from None
            if not 0.0 <= threshold <= 1.0:
                raise ContractError(
                    f"{contract.source}: customProperties {key} must be between 0 and 1, found {threshold}",
                    path=contract.source,
                    field=key,
                )
            return threshold
    if workbench is not None:
        return float(workbench.config.get(f"quality.gate_{layer}"))
    return DEFAULT_GATES[layer]


def _polars_source(data: Any, workbench: Workbench | None) -> Any:
    """A polars LazyFrame over in-memory data or a small Parquet file; None for anything else."""
    if type(data).__module__.startswith("polars"):
        import polars as pl

        if isinstance(data, pl.DataFrame):
            return data.lazy()  # as it is: a round trip through Arrow would copy every string
        if isinstance(data, pl.LazyFrame):
            return data
    arrow = _to_arrow(data)
    if arrow is None and not isinstance(data, (str, Path)):
        return None
    import polars as pl

    if arrow is not None:
        from odg_workbench.lakehouse.arrow_compat import normalize_table

        return pl.from_arrow(normalize_table(arrow)).lazy()  # type: ignore[union-attr]
    path = Path(str(data)).expanduser()
    if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file():
        return None
    limit_mb = float(workbench.config.get("quality.polars_max_file_mb")) if workbench is not None else 256.0
    if path.stat().st_size > limit_mb * 1024 * 1024:
        return None  # DuckDB streams larger files with bounded memory
    return pl.scan_parquet(path)


def _source_name(data: Any) -> str:
    """The name a report gives a file or a frame (as :func:`resolve_target` does)."""
    return str(Path(str(data)).expanduser()) if isinstance(data, (str, Path)) else "<frame>"


def _schema_of(target: Target) -> dict[str, Any]:
    if target.table is not None:
        return dict(target.table.schema().items())
    assert target.arrow is not None
    import ibis

    return dict(ibis.Schema.from_pyarrow(target.arrow.schema).items())


def run_engine(
    target: Target,
    rules: list[Rule],
    *,
    engine: Engine,
    samples: int,
    masker: Masker | None,
    now: datetime | None,
) -> tuple[list[Outcome], int, str, str]:
    """Outcomes, row count, engine name and backend name."""
    if target.arrow is not None:
        from odg_workbench.quality import engine_array

        outcomes, rows = engine_array.evaluate(
            target.arrow, rules, samples=samples, masker=masker, now=now, where=target.name
        )
        return outcomes, rows, engine_array.array_module_name(), "arrow"
    assert target.table is not None
    from odg_workbench.quality import engine_ibis

    outcomes, rows = engine_ibis.evaluate(
        target.table, rules, samples=samples, masker=masker, now=now, where=target.name
    )
    return outcomes, int(rows), "ibis", engine_ibis._backend_name(target.table)


def check(
    data: Any,
    contract: str | Path | dict[str, Any] | Contract,
    *,
    workbench: Workbench | None = None,
    as_of: AsOf | None = None,
    object: str | None = None,
    layer: str | None = None,
    engine: Engine = "auto",
    save: bool = True,
    samples: int | None = None,
    masker: Masker | None = None,
    weights: str | dict[str, float] | None = None,
    now: datetime | None = None,
    memory_limit: str | None = None,
) -> QualityReport:
    """Check ``data`` against an ODCS contract; see :mod:`odg_workbench.quality`."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    c = load_contract(contract)
    if engine not in ("auto", "ibis", "polars", "array"):
        raise QualityError(f"unknown engine {engine!r}; expected auto, ibis, polars or array", found=engine)
    choice = engine
    if engine == "auto" and _in_memory(data):
        # The GPU when there is one and the data is already in memory.
        from odg_workbench.quality.engine_array import array_module_name

        if array_module_name() == "cupy":
            choice = "array"
    engine = "array" if choice == "array" else "ibis"
    if memory_limit is None:
        memory_limit = str(workbench.config.get("duckdb.memory_limit")) if workbench is not None else ""
    has_sql = any(
        q.type == "sql"
        for o in c.objects
        for q in [*(o.quality or []), *(q for p in o.properties or [] for q in p.quality or [])]
    )
    # Frames and small Parquet files go to the polars engine when it takes every rule: then
    # the schema comes from polars too, and no DuckDB is opened just to read it.
    lazy = None
    if choice in ("auto", "polars") and engine == "ibis" and as_of is None:
        lazy = _polars_source(data, workbench)
    schema: dict[str, Any] = {}
    if lazy is not None:
        import ibis

        try:
            schema = dict(ibis.Schema.from_polars(lazy.collect_schema()).items())
        except Exception:  # an unreadable file: resolve_target below says what is wrong with it
            lazy = None
    if lazy is not None:
        target = Target(_source_name(data), None, None)
    else:
        target = resolve_target(
            data,
            workbench=workbench,
            as_of=as_of,
            engine=engine,
            memory_limit=memory_limit,
            frame_backend="duckdb" if has_sql else "polars",
        )
        schema = _schema_of(target)
    try:
        object_name = _object_for(c, target, object)
        rules = compile_rules(c, object_name)
        check_schema(c, object_name, schema, target.name)
        if samples is None:
            samples = int(workbench.config.get("quality.sample_rows")) if workbench is not None else 5
        from odg_workbench.quality import engine_polars

        if lazy is not None and engine_polars.supports(rules, dict(lazy.collect_schema().items())):
            outcomes, rows = engine_polars.evaluate(
                lazy, rules, samples=samples, masker=masker, now=now, where=target.name
            )
            engine_name, backend = "polars", "polars"
        elif choice == "polars":
            raise QualityError(
                f"{target.name}: the polars engine runs in-memory frames and Parquet files up to "
                "quality.polars_max_file_mb, without sql rules, patterns or lengths on non-text columns, "
                "bounds on non-numeric columns; use engine='ibis' (or 'auto')"
            )
        else:
            if lazy is not None:  # rules the polars engine does not take: read the data with ibis
                target = resolve_target(
                    data,
                    workbench=workbench,
                    as_of=as_of,
                    engine=engine,
                    memory_limit=memory_limit,
                    frame_backend="duckdb" if has_sql else "polars",
                )
            outcomes, rows, engine_name, backend = run_engine(
                target, rules, engine=engine, samples=samples, masker=masker, now=now
            )
    finally:
        target.close()
    if weights is None and workbench is not None:
        weights = str(workbench.config.get("quality.dimension_weights"))
    dims, overall = score(outcomes, parse_weights(weights))
    the_layer = (layer or target.layer or "bronze").lower()
    if the_layer not in _LAYERS:
        raise QualityError(f"unknown layer {layer!r}; expected one of {', '.join(_LAYERS)}", found=layer)
    verdict = gate(outcomes, dims, overall, the_layer, gate_threshold(c, the_layer, workbench))
    notes = []
    if rows == 0:
        notes.append("the data is empty: row-level rules evaluated no elements")
    not_run = [o.rule.id for o in outcomes if not o.rule.executable]
    if not_run:
        notes.append(f"text/custom rules are described, not executed: {', '.join(not_run)}")
    report = QualityReport(
        run_id=uuid.uuid4().hex,
        dataset=target.name,
        snapshot_id=target.snapshot_id,
        contract_id=c.id,
        contract_version=c.version,
        contract_path=str(c.path) if c.path else None,
        object=object_name,
        engine=engine_name,
        backend=backend,
        rows=rows,
        outcomes=outcomes,
        dimensions=dims,
        score=overall,
        verdict=verdict,
        started_at=started,
        duration_s=time.perf_counter() - t0,
        actor=workbench.user if workbench is not None else "",
        notes=notes,
    )
    if save and workbench is not None:
        from odg_workbench.quality.history import save_report

        save_report(workbench.state, report)
        workbench.publish(
            "quality.report",
            report.dataset,
            run_id=report.run_id,
            snapshot_id=report.snapshot_id,
            contract_id=report.contract_id,
            score=report.score,
            verdict=report.verdict.status,
            layer=report.verdict.layer,
        )
    return report
