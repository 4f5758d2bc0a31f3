"""Versioned transformations: DuckDB SQL (:class:`VersionedQuery`) and polars lazy frames
(:class:`VersionedPipeline`) that record every run in the lineage graph.

* ``VersionedQuery``: the version is the SHA-256 of the SQL normalized by sqlglot, so
  reformatting, comments and keyword case make no new version; column lineage comes from
  ``sqlglot.lineage`` over the input tables' schemas at the snapshots read.
* ``VersionedPipeline``: a function of polars ``LazyFrame`` inputs returning a
  ``LazyFrame``; the version is the SHA-256 of its optimized plan (``explain()``), which
  names operations and columns but no data, so the same code over new data keeps its
  version while a changed filter or projection makes a new one.

Each run reads its inputs at pinned snapshots (the current ones unless ``as_of``), writes
its output in one Iceberg commit, and goes through ``wb.lineage.record_run`` twice: at the
start (listeners see ``START``) and at the end (``COMPLETE``, or ``FAIL`` with the error,
which is raised again). A run records its run id, status, duration, the git commit (and
whether the tree had uncommitted changes) when it runs inside a git repository, and its
input and output snapshots. A run whose output is one of its own upstreams is refused
before anything is written (:class:`~odg_workbench.lineage.graph.LineageCycleError`).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from odg_workbench.lineage.capture import git_state, normalized_sql, sql_lineage, sql_version
from odg_workbench.lineage.graph import LineageError, RunRecord, dataset_id

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.lineage.capture import SqlLineage
    from odg_workbench.workspace import Workbench

__all__ = ["VersionedPipeline", "VersionedQuery", "plan_version"]

log = logging.getLogger("odg_workbench.lineage")

_LAYERS = ("bronze.", "silver.", "gold.", "platinum.")


def _pins(wb: Workbench, tables: Sequence[str], as_of: AsOf | Mapping[str, AsOf] | None) -> dict[str, int | None]:
    """The snapshot each input is read at: ``as_of`` (one value or per table), else the current one."""
    pins: dict[str, int | None] = {}
    for name in tables:
        wanted = as_of.get(name) if isinstance(as_of, Mapping) else as_of
        pins[name] = (
            wb.table(name).snapshot(wanted).snapshot_id if wanted is not None else wb.table(name).current_snapshot_id
        )
    return pins


def _schema(wb: Workbench, name: str, snapshot_id: int | None) -> dict[str, str]:
    from odg_workbench.lineage.capture import _schema

    return _schema(wb, name, snapshot_id)


class _Versioned:
    kind = "python"

    def __init__(self, name: str, workbench: Workbench) -> None:
        if not name or not str(name).strip():
            raise LineageError("a versioned transformation needs a name (name=...)", field="name")
        self.name = str(name).strip()
        self.wb = workbench

    def _execute(
        self,
        *,
        version: str,
        inputs: dict[str, int | None],
        output: str,
        mode: str,
        produce: Callable[[], pa.Table],
        lineage: SqlLineage | None,
        reason: str | None,
        sql: str | None,
        props: dict[str, Any],
    ) -> RunRecord:
        wb = self.wb
        graph = wb.lineage
        ins = [(dataset_id(t), snap) for t, snap in inputs.items()]
        graph.check_run(self.name, inputs=ins, outputs=[dataset_id(output)])
        commit, dirty = git_state()
        run_id = uuid.uuid4().hex
        started = datetime.now(UTC)
        common: dict[str, Any] = {
            "inputs": ins,
            "run_id": run_id,
            "version": version,
            "type": self.kind,
            "sql": sql,
            "git_commit": commit,
            "git_dirty": dirty,
            "started_at": started,
            **props,
        }
        graph.record_run(self.name, status="START", outputs=[(dataset_id(output), None)], **common)
        try:
            data = produce()
            snapshot, _, _ = wb.lakehouse.write(
                output,
                data,
                mode="overwrite" if mode == "overwrite" else "append",
                snapshot_properties={
                    "odg.operation": self.kind,
                    "odg.pipeline": self.name,
                    "odg.pipeline-version": version,
                    "odg.run-id": run_id,
                },
                source=f"{self.kind} {self.name}",
            )
        except Exception as exc:
            graph.record_run(self.name, status="FAIL", error=f"{type(exc).__name__}: {exc}", **common)
            raise
        column_lineage = None
        if lineage is not None and lineage.columns is not None:
            column_lineage = {c: [(dataset_id(t), col) for t, col in pairs] for c, pairs in lineage.columns.items()}
        elif reason is None:
            reason = "no column lineage"
        return graph.record_run(
            self.name,
            status="COMPLETE",
            outputs=[(dataset_id(output), snapshot)],
            column_lineage=column_lineage,
            column_lineage_reason=None if column_lineage is not None else reason,
            rows=data.num_rows,
            output=output,
            mode=mode,
            **common,
        )


class VersionedQuery(_Versioned):
    """DuckDB SQL over lakehouse tables (``layer.name``), versioned by its sqlglot-normalized text.

    Examples
    --------
    >>> q = VersionedQuery("SELECT id, amount * 2 AS double FROM silver.orders", name="doubled", workbench=wb)
    >>> run = q.run(output="gold.doubled")          # doctest: +SKIP
    >>> run.version == q.version, run.column_lineage  # doctest: +SKIP
    """

    kind = "sql"

    def __init__(self, sql: str, *, name: str, workbench: Workbench, dialect: str = "duckdb") -> None:
        super().__init__(name, workbench)
        if not isinstance(sql, str) or not sql.strip():
            raise LineageError("a VersionedQuery needs SQL text", field="sql", found=repr(sql))
        self.sql = sql
        self.dialect = dialect

    @property
    def version(self) -> str:
        """SHA-256 (16 hex digits) of the normalized SQL: formatting and comments do not change it."""
        return sql_version(self.sql, self.dialect)

    @property
    def normalized(self) -> str:
        return normalized_sql(self.sql, self.dialect)

    @property
    def inputs(self) -> list[str]:
        """The lakehouse tables the query reads."""
        return [t for t in sql_lineage(self.sql, dialect=self.dialect).tables if t.startswith(_LAYERS)]

    def lineage(self, as_of: AsOf | Mapping[str, AsOf] | None = None) -> SqlLineage:
        """Column lineage of the query over the inputs' schemas (at ``as_of``), without running it."""
        pins = _pins(self.wb, self.inputs, as_of)
        return sql_lineage(self.sql, {t: _schema(self.wb, t, s) for t, s in pins.items()}, dialect=self.dialect)

    def run(self, output: str, *, mode: str = "overwrite", as_of: AsOf | Mapping[str, AsOf] | None = None) -> RunRecord:
        """Run the query and write its result to ``output`` (``layer.name``); returns the recorded run."""
        if mode not in ("overwrite", "append"):
            raise LineageError(f"mode must be 'overwrite' or 'append', found {mode!r}", field="mode", found=mode)
        pins = _pins(self.wb, self.inputs, as_of)
        found = sql_lineage(self.sql, {t: _schema(self.wb, t, s) for t, s in pins.items()}, dialect=self.dialect)
        outside = sorted({t for pairs in (found.columns or {}).values() for t, _ in pairs} - set(pins))
        if outside:
            found.columns = None
            found.reason = f"columns come from {', '.join(outside)}, which is not a lakehouse table"
        if found.reason:
            log.warning("query %s: column lineage left out: %s", self.name, found.reason)
        read = {dataset_id(t): cols for t, cols in found.columns_read.items() if t in pins}

        def produce() -> pa.Table:
            as_of_pins: dict[str, AsOf] = {t: s for t, s in pins.items() if s is not None}
            table: pa.Table = self.wb.lakehouse.sql(self.sql, as_of=as_of_pins or None).arrow().read_all()
            return table

        return self._execute(
            version=self.version,
            inputs=pins,
            output=output,
            mode=mode,
            produce=produce,
            lineage=found,
            reason=found.reason,
            sql=self.sql,
            props={"normalized_sql": self.normalized, **({"columns_read": read} if read else {})},
        )


def plan_version(frame: pl.LazyFrame) -> tuple[str, str]:
    """``(version, plan)``: SHA-256 (16 hex digits) of a lazy frame's optimized plan, and the plan."""
    plan = frame.explain(optimized=True)
    return hashlib.sha256(plan.encode("utf-8")).hexdigest()[:16], plan


class VersionedPipeline(_Versioned):
    """A function of polars ``LazyFrame`` inputs returning a ``LazyFrame``, versioned by its optimized plan.

    ``inputs`` maps the function's parameters to lakehouse tables (``{"orders": "silver.orders"}``),
    or lists tables passed positionally.

    Examples
    --------
    >>> def daily(orders):
    ...     return orders.group_by("day").agg(pl.col("amount").sum())
    >>> p = VersionedPipeline(daily, name="daily", inputs={"orders": "silver.orders"}, workbench=wb)
    >>> p.run(output="gold.daily")  # doctest: +SKIP
    """

    kind = "polars"

    def __init__(
        self,
        fn: Callable[..., pl.LazyFrame],
        *,
        name: str | None = None,
        inputs: Mapping[str, str] | Sequence[str],
        workbench: Workbench,
    ) -> None:
        super().__init__(name or str(getattr(fn, "__name__", "")), workbench)
        if not callable(fn):
            raise LineageError(f"a VersionedPipeline wraps a function, found {type(fn).__name__}", field="fn")
        self.fn = fn
        if isinstance(inputs, str):
            raise LineageError("inputs is a list or mapping of tables, not one string", field="inputs", found=inputs)
        self.inputs: dict[str, str] | list[str] = dict(inputs) if isinstance(inputs, Mapping) else list(inputs)
        params = inspect.signature(fn).parameters
        if isinstance(self.inputs, dict):
            unknown = [k for k in self.inputs if k not in params]
            if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                raise LineageError(
                    f"{self.name}: inputs name {', '.join(unknown)}, which the function does not take "
                    f"(parameters: {', '.join(params) or 'none'})",
                    field="inputs",
                    found=unknown,
                )

    def _tables(self) -> list[str]:
        return list(self.inputs.values()) if isinstance(self.inputs, dict) else list(self.inputs)

    def _frame(self, frames: Mapping[str, pl.LazyFrame]) -> pl.LazyFrame:
        import polars as pl

        if isinstance(self.inputs, dict):
            result = self.fn(**{param: frames[table] for param, table in self.inputs.items()})
        else:
            result = self.fn(*[frames[table] for table in self.inputs])
        if isinstance(result, pl.DataFrame):
            raise LineageError(
                f"{self.name} returned a polars DataFrame: return a LazyFrame (end with .lazy() or do not "
                ".collect()) so the plan can be versioned",
                field="return",
                found="DataFrame",
            )
        if not isinstance(result, pl.LazyFrame):
            raise LineageError(
                f"{self.name} returned {type(result).__name__}; it must return a polars LazyFrame",
                field="return",
                found=type(result).__name__,
            )
        return result

    def plan(self, as_of: AsOf | Mapping[str, AsOf] | None = None) -> pl.LazyFrame:
        """The pipeline's lazy frame over empty inputs of the tables' schemas (no data read)."""
        import polars as pl

        pins = _pins(self.wb, self._tables(), as_of)
        frames = {t: pl.from_arrow(self.wb.table(t).schema.empty_table()).lazy() for t in pins}  # type: ignore[union-attr]
        return self._frame(frames)

    @property
    def version(self) -> str:
        """SHA-256 of the optimized plan over the inputs' current schemas."""
        return plan_version(self.plan())[0]

    def run(self, output: str, *, mode: str = "overwrite", as_of: AsOf | Mapping[str, AsOf] | None = None) -> RunRecord:
        """Run the pipeline over the inputs (at ``as_of``) and write the result to ``output``."""
        import polars as pl

        if mode not in ("overwrite", "append"):
            raise LineageError(f"mode must be 'overwrite' or 'append', found {mode!r}", field="mode", found=mode)
        pins = _pins(self.wb, self._tables(), as_of)
        frames = {
            t: pl.from_arrow(
                self.wb.table(t).to_arrow(as_of=s) if s is not None else self.wb.table(t).schema.empty_table()
            ).lazy()  # type: ignore[union-attr]
            for t, s in pins.items()
        }
        frame = self._frame(frames)
        version, plan = plan_version(frame)

        def produce() -> pa.Table:
            return frame.collect().to_arrow()

        return self._execute(
            version=version,
            inputs=pins,
            output=output,
            mode=mode,
            produce=produce,
            lineage=None,
            reason="a polars pipeline: sqlglot cannot trace its columns, so column lineage is left out",
            sql=None,
            props={"plan": plan},
        )
