"""Differentially private counts, sums, means and histograms of workspace tables, with a budget ledger.

::

    wb = odg.open("~/lake")
    wb.dp.set_budget("silver.patients", "analyst", epsilon=2.0)      # owners and admins
    r = wb.dp.mean("silver.patients", "age", epsilon=0.5, bounds=(0, 110), consumer="analyst")
    r.value, r.accuracy_text, r.epsilon, r.budget.epsilon_left      # 41.7, "±1.9 at 95%", 0.5, 1.5

**What OpenDP does.** Every answer is the output of an OpenDP 0.16 measurement built from
its combinators (``make_clamp``, ``make_sum``, ``make_count``, ``make_count_by_categories``,
``make_find_bin``, then ``make_laplace`` or ``make_gaussian``; a mean composes a sum and a
count with ``make_composition``). The noise scale for the asked epsilon (and delta) is
found by ``binary_search_param`` over the whole measurement, and the privacy loss charged
is the measurement's own privacy map, ``measurement.map(d_in)``. Accuracies come from
OpenDP's ``*_scale_to_accuracy`` functions. Integer results (counts, histograms, sums of
integer columns) get discrete Laplace / discrete Gaussian noise, floating-point sums
continuous noise with OpenDP's floating-point-safe sensitivity.

**Privacy unit.** By default each row is one individual (one row in or out of the table
changes the data by 1). When one person may own several rows, pass ``privacy_unit=COLUMN``
and ``max_contributions=k``: at most ``k`` rows per value of that column are kept (chosen
at random, in DuckDB), and the measurement is charged for ``d_in = k``.

**Mechanisms.** ``"laplace"`` gives pure epsilon-DP (delta = 0). ``"gaussian"`` is
calibrated in zero-concentrated DP and converted to (epsilon, delta)-DP with OpenDP's
``make_zCDP_to_approxDP`` and ``make_fix_delta``; delta defaults to the
``privacy.dp_gaussian_delta`` setting.

**Composition and the budget.** Each (table, consumer) pair has a budget, epsilon and
delta: the one an owner set with :meth:`PrivateQueries.set_budget`, else the defaults
``privacy.dp_default_epsilon`` and ``privacy.dp_default_delta``. Spending follows basic
sequential composition: the epsilons of the answered queries add up, and so do their
deltas. A query whose loss would take the total over the budget raises
:class:`PrivacyBudgetExceededError` before any noise is drawn. The check and the charge
are one state-database transaction (``BEGIN IMMEDIATE`` on SQLite, a row lock on
PostgreSQL), so two consumers, or two processes of one consumer, cannot overspend. A query
is charged before its noise is drawn, so a query that fails afterwards stays charged.
Every answered query is kept in the ledger and published as ``privacy.dp_query``.

**What is written by hand, and why.** No library keeps per-consumer budgets in our state
database: the ledger is ours. OpenDP gives the accuracy of each noisy value, not of a ratio:
the mean's accuracy is a union bound over its two noisy parts (below). The SQL filter is
checked with sqlglot to be row-by-row (no subquery, aggregate or window: a filter that looks
at other rows would break the privacy proof).

**Accuracy.** ``accuracy`` is the half-width ``a`` such that the noisy value lies within
``a`` of the exact answer (of the clamped, filtered, truncated data) with probability at
least ``confidence``; for a histogram it holds for each bin on its own. For a mean the
values are centred on the middle ``m`` of the bounds (half-width ``h``), the noisy sum
``S`` and count ``C`` each get half of the miss probability, and
``|mean - true mean| <= (a_S + h * a_C) / C``: a guarantee, so its coverage exceeds the
confidence.

Errors::

    OdgError
    ├── DPInputError(ValueError)                    bad epsilon, delta, bounds, column, filter ...
    └── PrivacyBudgetExceededError(PermissionError) the query would exceed the consumer's budget
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from opendp.mod import Measurement

    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.workspace import Workbench

__all__ = [
    "KINDS",
    "MECHANISMS",
    "OTHER",
    "Budget",
    "DPInputError",
    "DPResult",
    "PrivacyBudgetExceededError",
    "PrivateQueries",
]

Mechanism = Literal["laplace", "gaussian"]
MECHANISMS: tuple[str, ...] = ("laplace", "gaussian")
KINDS: tuple[str, ...] = ("count", "sum", "mean", "histogram")
#: The histogram bin of rows in none of the declared categories (nulls included).
OTHER = "(other)"

_TOLERANCE = 1e-9  # float sums of epsilons: 10 x 0.1 must fit a budget of 1.0
_NULL_SENTINEL = "\x00odg-null"


class DPInputError(OdgError, ValueError):
    """A differential-privacy query or budget with a bad argument (the field is named)."""


class PrivacyBudgetExceededError(OdgError, PermissionError):
    """The query would take a consumer's spending on a table over its budget; nothing was released."""


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """The privacy budget of one consumer on one table, and what is spent of it."""

    table: str
    consumer: str
    epsilon: float
    delta: float
    epsilon_spent: float
    delta_spent: float
    queries: int
    source: str  # "set" (by an owner) | "default" (the privacy.dp_default_* settings)
    set_by: str | None = None
    set_at: datetime | None = None

    @property
    def epsilon_left(self) -> float:
        return round(max(0.0, self.epsilon - self.epsilon_spent), 12)  # 1.0 - 0.7, not 0.30000000000000004

    @property
    def delta_left(self) -> float:
        return round(max(0.0, self.delta - self.delta_spent), 18)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "consumer": self.consumer,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "epsilon_spent": self.epsilon_spent,
            "delta_spent": self.delta_spent,
            "epsilon_left": self.epsilon_left,
            "delta_left": self.delta_left,
            "queries": self.queries,
            "source": self.source,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat() if self.set_at else None,
        }


@dataclass(frozen=True)
class DPResult:
    """One differentially private answer.

    ``value`` is a number (count, sum, mean) or, for a histogram, ``{bin: noisy count}``.
    ``accuracy`` is the half-width of the ``confidence`` interval (per bin for a
    histogram); ``scale`` the standard scale of the noise (per part for a mean);
    ``epsilon``/``delta`` what the query spent; ``budget`` the consumer's budget after it.
    """

    table: str
    kind: str
    column: str | None
    value: Any
    accuracy: float
    confidence: float
    mechanism: str
    noise: str
    scale: float | dict[str, float]
    epsilon: float
    delta: float
    consumer: str
    budget: Budget
    query_id: int
    bounds: tuple[float, float] | None = None
    privacy_unit: str | None = None
    max_contributions: int = 1
    where: str | None = None
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def accuracy_text(self) -> str:
        """``"±3.4 at 95%"`` (``"per bin"`` added for a histogram)."""
        per = " per bin" if self.kind == "histogram" else ""
        return f"±{_fmt(self.accuracy)} at {self.confidence * 100:g}%{per}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "kind": self.kind,
            "column": self.column,
            "value": self.value,
            "accuracy": self.accuracy,
            "accuracy_text": self.accuracy_text,
            "confidence": self.confidence,
            "mechanism": self.mechanism,
            "noise": self.noise,
            "scale": self.scale,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "consumer": self.consumer,
            "bounds": list(self.bounds) if self.bounds else None,
            "privacy_unit": self.privacy_unit,
            "max_contributions": self.max_contributions,
            "where": self.where,
            "parts": dict(self.parts),
            "query_id": self.query_id,
            "budget": self.budget.to_dict(),
        }


def _fmt(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return str(x)
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:,.{digits}f}"


# -- state tables -------------------------------------------------------------------------------


def _tables() -> tuple[sa.Table, sa.Table]:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if "privacy_dp_budgets" in md.tables:
        return md.tables["privacy_dp_budgets"], md.tables["privacy_dp_ledger"]
    budgets = sa.Table(
        "privacy_dp_budgets",
        md,
        sa.Column("dataset", sa.String(1000), primary_key=True),
        sa.Column("consumer", sa.String(255), primary_key=True),
        # NULL: not set by an owner, the privacy.dp_default_* settings apply
        sa.Column("epsilon", sa.Float),
        sa.Column("delta", sa.Float),
        sa.Column("set_by", sa.String(255)),
        sa.Column("set_at", sa.DateTime(timezone=True)),
    )
    ledger = sa.Table(
        "privacy_dp_ledger",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(1000), nullable=False),
        sa.Column("consumer", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("column_name", sa.String(1000)),
        sa.Column("mechanism", sa.String(32), nullable=False),
        sa.Column("epsilon", sa.Float, nullable=False),
        sa.Column("delta", sa.Float, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.Text, nullable=False),  # JSON: bounds, filter, as_of, unit, scale
        sa.Index("ix_privacy_dp_ledger_dataset_consumer", "dataset", "consumer"),
    )
    return budgets, ledger


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- argument checks ----------------------------------------------------------------------------


def _positive(value: Any, what: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DPInputError(f"{what} must be a number, found {value!r}", field=what, found=str(value)) from None
    if not math.isfinite(x) or x <= 0:
        raise DPInputError(f"{what} must be a finite number above 0, found {value!r}", field=what, found=str(value))
    return x


def _probability(value: Any, what: str, *, zero_ok: bool) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DPInputError(f"{what} must be a number, found {value!r}", field=what, found=str(value)) from None
    low_ok = x >= 0 if zero_ok else x > 0
    if not (math.isfinite(x) and low_ok and x < 1):
        interval = "[0, 1)" if zero_ok else "(0, 1)"
        raise DPInputError(f"{what} must be in {interval}, found {value!r}", field=what, found=str(value))
    return x


def _bounds(bounds: Any, what: str = "bounds") -> tuple[float, float]:
    if bounds is None:
        raise DPInputError(
            f"{what} are required: the lowest and highest value one row may contribute, e.g. bounds=(0, 120); "
            "they must come from knowledge of the domain, not from the data",
            field=what,
        )
    if isinstance(bounds, str):
        bounds = list(bounds.split(","))
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise DPInputError(
            f"{what} must be two numbers LOW,HIGH (e.g. 0,120), found {bounds!r}", field=what, found=str(bounds)
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise DPInputError(f"{what} must be finite, found ({low}, {high})", field=what, found=str(bounds))
    if low >= high:
        raise DPInputError(
            f"{what} ({_num(low)}, {_num(high)}) are reversed or empty: the lower bound must be below the upper",
            field=what,
            found=[low, high],
        )
    return low, high


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


def _mechanism(mechanism: str) -> Mechanism:
    m = str(mechanism).strip().lower()
    if m not in MECHANISMS:
        raise DPInputError(
            f"mechanism {mechanism!r} is not one of {', '.join(MECHANISMS)}", field="mechanism", found=str(mechanism)
        )
    return m  # type: ignore[return-value]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row_filter(where: str | None) -> str | None:
    """The filter as DuckDB SQL, refused unless it decides each row from that row alone."""
    if where is None or not str(where).strip():
        return None
    import sqlglot
    from sqlglot import exp

    text = str(where).strip()
    try:
        statements = sqlglot.parse(f"SELECT 1 WHERE {text}", read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise DPInputError(f"filter {text!r} is not a SQL condition: {exc}", field="where", found=text) from None
    stmt = statements[0] if len(statements) == 1 else None
    cond = stmt.args.get("where") if isinstance(stmt, exp.Select) else None
    extra = [k for k, v in (stmt.args.items() if stmt is not None else []) if v and k not in ("expressions", "where")]
    if stmt is None or cond is None or extra:
        raise DPInputError(f"filter {text!r} is not one SQL condition", field="where", found=text)
    for node in cond.walk():
        if isinstance(node, (exp.Select, exp.Subquery, exp.Exists, exp.Union)):
            why = "a subquery"
        elif isinstance(node, exp.Window):
            why = "a window function"
        elif isinstance(node, exp.AggFunc):
            why = "an aggregate"
        else:
            continue
        raise DPInputError(
            f"filter {text!r} contains {why}: a filter must decide each row from that row alone, "
            "otherwise one person's row could change which other rows are counted",
            field="where",
            found=text,
        )
    return str(cond.this.sql(dialect="duckdb"))


# -- the measurements (OpenDP) ------------------------------------------------------------------


def _opendp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


@dataclass
class _Calibrated:
    measurement: Measurement
    scale: float  # the searched parameter
    epsilon: float
    delta: float


# Searched noise parameters by (query shape, d_in, epsilon, delta, mechanism): a repeated query
# skips the search (about 60 measurements built), its measurement is still built and checked.
_PARAMS: dict[tuple[Any, ...], float] = {}
_PARAMS_SIZE = 512


def _calibrate(
    build: Callable[[float], Measurement],
    d_in: int,
    epsilon: float,
    delta: float,
    mechanism: Mechanism,
    key: tuple[Any, ...],
) -> _Calibrated:
    """The smallest noise parameter whose measurement meets (epsilon, delta) at ``d_in``, and its loss.

    ``key`` describes the measurement ``build`` makes (kind, bounds, categories ...).
    """
    dp = _opendp()

    if mechanism == "laplace":
        privatize = build
        d_out: Any = epsilon
    else:

        def privatize(param: float) -> Measurement:
            return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(build(param)), delta)  # type: ignore[no-any-return]

        d_out = (epsilon, delta)

    def passes(param: float) -> bool:
        try:
            return bool(privatize(param).check(d_in, d_out))
        except dp.OpenDPException:  # overflow at tiny scales: the loss is far above any target there
            return False

    cache_key = (*key, d_in, epsilon, delta, mechanism)
    param = _PARAMS.get(cache_key)
    if param is None or not passes(param):
        # binary_search_param, with the predicate above: it raises where the loss overflows
        param = float(dp.binary_search(passes, bounds=(0.0, None), T=float))
        _PARAMS[cache_key] = param
        while len(_PARAMS) > _PARAMS_SIZE:
            _PARAMS.pop(next(iter(_PARAMS)))
    measurement = privatize(param)
    loss: Any = measurement.map(d_in)  # type: ignore[no-untyped-call]
    if mechanism == "laplace":
        return _Calibrated(measurement, param, float(loss), 0.0)
    eps, dlt = loss
    return _Calibrated(measurement, param, float(eps), float(dlt))


def _noise(dp: Any, mechanism: Mechanism) -> Callable[[float], Any]:
    return dp.m.then_laplace if mechanism == "laplace" else dp.m.then_gaussian  # type: ignore[no-any-return]


def _accuracy(scale: float, alpha: float, mechanism: Mechanism, *, discrete: bool) -> float:
    dp = _opendp()
    if mechanism == "laplace":
        fn = dp.discrete_laplacian_scale_to_accuracy if discrete else dp.laplacian_scale_to_accuracy
    else:
        fn = dp.discrete_gaussian_scale_to_accuracy if discrete else dp.gaussian_scale_to_accuracy
    return float(fn(scale, alpha))


def _noise_name(mechanism: Mechanism, *, discrete: bool) -> str:
    return f"{'discrete ' if discrete else ''}{mechanism}"


# -- the service ----------------------------------------------------------------------------------


@dataclass
class _Query:
    """What a query needs once checked: the table, the data's SQL, the measurement and its loss."""

    kind: str
    table: str
    column: str | None
    consumer: str
    mechanism: Mechanism
    confidence: float
    calibrated: _Calibrated
    d_in: int
    sql: str
    as_of: AsOf | None
    details: dict[str, Any]
    accuracy: float
    noise: str
    scale: float | dict[str, float]
    bounds: tuple[float, float] | None
    privacy_unit: str | None
    max_contributions: int
    where: str | None
    load: Callable[[Any], Any]  # the DuckDB relation -> the measurement's input
    finish: Callable[[Any], tuple[Any, float, dict[str, float]]]  # raw release -> value, accuracy, parts


class PrivateQueries:
    """Differentially private queries over a workspace's tables and their privacy-budget ledger.

    Reach it as ``wb.dp``. Each query takes ``epsilon`` (> 0), ``mechanism`` ("laplace" or
    "gaussian", with ``delta``), ``consumer`` (whose budget pays; default: the workspace
    user), ``where`` (a row filter in SQL), ``as_of`` (snapshot id, tag or time),
    ``privacy_unit``/``max_contributions`` (see the module documentation) and
    ``confidence`` of the reported accuracy (default ``privacy.dp_confidence``).
    """

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench

    # -- queries --------------------------------------------------------------------------------

    def count(
        self,
        table: str,
        column: str | None = None,
        *,
        epsilon: float,
        mechanism: str = "laplace",
        delta: float | None = None,
        consumer: str | None = None,
        where: str | None = None,
        as_of: AsOf | None = None,
        privacy_unit: str | None = None,
        max_contributions: int = 1,
        confidence: float | None = None,
    ) -> DPResult:
        """How many rows (or non-null values of ``column``), with discrete noise."""
        return self._answer(
            "count",
            table,
            column,
            epsilon=epsilon,
            mechanism=mechanism,
            delta=delta,
            consumer=consumer,
            where=where,
            as_of=as_of,
            privacy_unit=privacy_unit,
            max_contributions=max_contributions,
            confidence=confidence,
        )

    def sum(
        self,
        table: str,
        column: str,
        *,
        epsilon: float,
        bounds: Sequence[float] | str,
        mechanism: str = "laplace",
        delta: float | None = None,
        consumer: str | None = None,
        where: str | None = None,
        as_of: AsOf | None = None,
        privacy_unit: str | None = None,
        max_contributions: int = 1,
        confidence: float | None = None,
    ) -> DPResult:
        """The sum of ``column``, each value clamped into ``bounds``; nulls and NaN are left out."""
        return self._answer(
            "sum",
            table,
            column,
            epsilon=epsilon,
            bounds=bounds,
            mechanism=mechanism,
            delta=delta,
            consumer=consumer,
            where=where,
            as_of=as_of,
            privacy_unit=privacy_unit,
            max_contributions=max_contributions,
            confidence=confidence,
        )

    def mean(
        self,
        table: str,
        column: str,
        *,
        epsilon: float,
        bounds: Sequence[float] | str,
        mechanism: str = "laplace",
        delta: float | None = None,
        consumer: str | None = None,
        where: str | None = None,
        as_of: AsOf | None = None,
        privacy_unit: str | None = None,
        max_contributions: int = 1,
        confidence: float | None = None,
    ) -> DPResult:
        """The mean of ``column`` clamped into ``bounds``: a noisy sum over a noisy count, epsilon split evenly.

        The answer is kept inside ``bounds``; when the noisy count is under 1, it is the
        middle of the bounds with the half-width as accuracy.
        """
        return self._answer(
            "mean",
            table,
            column,
            epsilon=epsilon,
            bounds=bounds,
            mechanism=mechanism,
            delta=delta,
            consumer=consumer,
            where=where,
            as_of=as_of,
            privacy_unit=privacy_unit,
            max_contributions=max_contributions,
            confidence=confidence,
        )

    def histogram(
        self,
        table: str,
        column: str,
        *,
        epsilon: float,
        categories: Iterable[Any] | None = None,
        bins: Iterable[float] | None = None,
        mechanism: str = "laplace",
        delta: float | None = None,
        consumer: str | None = None,
        where: str | None = None,
        as_of: AsOf | None = None,
        privacy_unit: str | None = None,
        max_contributions: int = 1,
        confidence: float | None = None,
    ) -> DPResult:
        """Noisy counts per declared category, or per numeric bin.

        ``categories``: the values to count (compared as text), declared up front (taking
        them from the data would leak which values exist); rows with any other value, or
        null, are counted in the :data:`OTHER` bin. ``bins``: increasing edges
        ``[e0, e1, ..., en]``, giving bins ``(-inf, e0)``, ``[e0, e1)``, ... ``[en, inf)``;
        nulls and NaN are left out.
        """
        return self._answer(
            "histogram",
            table,
            column,
            epsilon=epsilon,
            categories=categories,
            bins=bins,
            mechanism=mechanism,
            delta=delta,
            consumer=consumer,
            where=where,
            as_of=as_of,
            privacy_unit=privacy_unit,
            max_contributions=max_contributions,
            confidence=confidence,
        )

    def _answer(self, kind: str, table: str, column: str | None, **kwargs: Any) -> DPResult:
        query = self._prepare(kind, table, column, **kwargs)
        # refuse early (before reading the data) when the budget is already too small
        self._check(self.budget(query.table, query.consumer), query)
        data = query.load(self._wb.sql(query.sql, as_of=query.as_of))
        query_id, budget = self._charge(query)
        raw = query.calibrated.measurement(data)  # the noise is drawn here, after the charge
        value, accuracy, parts = query.finish(raw)
        result = DPResult(
            table=query.table,
            kind=kind,
            column=query.column,
            value=value,
            accuracy=accuracy,
            confidence=query.confidence,
            mechanism=query.mechanism,
            noise=query.noise,
            scale=query.scale,
            epsilon=query.calibrated.epsilon,
            delta=query.calibrated.delta,
            consumer=query.consumer,
            budget=budget,
            query_id=query_id,
            bounds=query.bounds,
            privacy_unit=query.privacy_unit,
            max_contributions=query.max_contributions,
            where=query.where,
            parts=parts,
        )
        self._wb.publish(
            "privacy.dp_query",
            query.table,
            query_id=query_id,
            consumer=query.consumer,
            kind=kind,
            column=query.column,
            mechanism=query.mechanism,
            epsilon=result.epsilon,
            delta=result.delta,
            epsilon_left=budget.epsilon_left,
            delta_left=budget.delta_left,
            where=query.where,
        )
        return result

    # -- building a query -----------------------------------------------------------------------

    def _prepare(
        self,
        kind: str,
        table: str,
        column: str | None,
        *,
        epsilon: float,
        mechanism: str,
        delta: float | None,
        consumer: str | None,
        where: str | None,
        as_of: AsOf | None,
        privacy_unit: str | None,
        max_contributions: int,
        confidence: float | None,
        bounds: Sequence[float] | str | None = None,
        categories: Iterable[Any] | None = None,
        bins: Iterable[float] | None = None,
    ) -> _Query:
        eps = _positive(epsilon, "epsilon")
        mech = _mechanism(mechanism)
        if mech == "laplace":
            if delta not in (None, 0, 0.0):
                raise DPInputError(
                    "delta is for the gaussian mechanism; laplace is pure epsilon-DP (delta 0)",
                    field="delta",
                    found=delta,
                )
            dlt = 0.0
        else:
            dlt = _probability(
                delta if delta is not None else self._wb.config.get("privacy.dp_gaussian_delta"),
                "delta",
                zero_ok=False,
            )
        conf = _probability(
            confidence if confidence is not None else self._wb.config.get("privacy.dp_confidence"),
            "confidence",
            zero_ok=False,
        )
        alpha = 1.0 - conf
        who = self._consumer(consumer)
        if isinstance(max_contributions, bool) or not isinstance(max_contributions, int) or max_contributions < 1:
            raise DPInputError(
                f"max_contributions must be a whole number of rows >= 1, found {max_contributions!r}",
                field="max_contributions",
                found=str(max_contributions),
            )
        if max_contributions > 1 and privacy_unit is None:
            raise DPInputError(
                "max_contributions needs privacy_unit: the column that identifies the individual "
                "(without it each row is one individual)",
                field="privacy_unit",
            )

        lake_table = self._wb.table(table)  # TableNotFoundError suggests close names
        name = str(lake_table.name)
        rel = self._wb.sql(f"SELECT * FROM {name}", as_of=as_of)
        types = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
        if column is not None:
            _column(column, types, name)
        if kind != "count" and column is None:
            raise DPInputError(f"{kind} needs a column of {name}", field="column", columns=list(types))
        if privacy_unit is not None:
            _column(privacy_unit, types, name, what="privacy unit column")
        condition = _row_filter(where)

        dp = _opendp()
        noise = _noise(dp, mech)
        d_in = max_contributions
        col = _quote(column) if column is not None else None
        ctype = _kind_of(types[column]) if column is not None else None
        conditions = [f"({condition})"] if condition else []
        details: dict[str, Any] = {"where": condition, "as_of": as_of, "privacy_unit": privacy_unit}
        low_high: tuple[float, float] | None = None

        if kind == "count":
            if col is not None:
                conditions.append(f"{col} IS NOT NULL")
            value_sql = "TRUE"
            domain = (dp.vector_domain(dp.atom_domain(T=bool)), dp.symmetric_distance())
            counter = domain >> dp.t.then_count(TO="i64")
            cal = _calibrate(lambda s: counter >> noise(s), d_in, eps, dlt, mech, ("count",))
            accuracy = _accuracy(cal.scale, alpha, mech, discrete=True)

            def load(r: Any) -> Any:
                return [True] * _count_rows(r)

            def finish(raw: Any) -> tuple[Any, float, dict[str, float]]:
                return int(raw), accuracy, {}

            scale: float | dict[str, float] = cal.scale
            discrete = True

        elif kind in ("sum", "mean"):
            assert column is not None
            assert col is not None
            low, high = low_high = _bounds(bounds)
            if ctype not in ("int", "float", "bool"):
                raise DPInputError(
                    f"column {column!r} of {name} is {types[column]}; {kind} needs a numeric column",
                    field="column",
                    found=types[column],
                )
            conditions.append(f"{col} IS NOT NULL")
            if ctype == "float":
                conditions.append(f"NOT isnan({col})")
            integral = ctype in ("int", "bool") and low.is_integer() and high.is_integer() and kind == "sum"
            if kind == "sum" and integral:
                value_sql = f"CAST({col} AS BIGINT)"
                domain = (dp.vector_domain(dp.atom_domain(T="i64")), dp.symmetric_distance())
                summer = domain >> dp.t.then_clamp((int(low), int(high))) >> dp.t.then_sum()
            else:
                mid = (low + high) / 2 if kind == "mean" else 0.0
                value_sql = f"CAST({col} AS DOUBLE)" + (f" - ({mid!r})" if kind == "mean" else "")
                domain = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance())
                summer = domain >> dp.t.then_clamp((low - mid, high - mid)) >> dp.t.then_sum()
            if kind == "sum":
                cal = _calibrate(lambda s: summer >> noise(s), d_in, eps, dlt, mech, ("sum", integral, low, high))
                accuracy = _accuracy(cal.scale, alpha, mech, discrete=integral)
                discrete = integral

                def load(r: Any) -> Any:
                    return _values(r, int if integral else float)

                def finish(raw: Any) -> tuple[Any, float, dict[str, float]]:
                    return (int(raw) if integral else float(raw)), accuracy, {}

                scale = cal.scale
            else:
                counter = domain >> dp.t.then_count(TO="i64")
                sensitivity = float(summer.map(1))  # per contribution; the search scales both parts alike

                def both(k: float) -> Measurement:
                    return dp.c.make_composition(  # type: ignore[no-any-return]
                        [summer >> noise(k * sensitivity), counter >> noise(k)]
                    )

                cal = _calibrate(both, d_in, eps, dlt, mech, ("mean", low, high))
                half = (high - low) / 2
                mid = (low + high) / 2
                a_sum = _accuracy(cal.scale * sensitivity, alpha / 2, mech, discrete=False)
                a_count = _accuracy(cal.scale, alpha / 2, mech, discrete=True)
                discrete = False

                def load(r: Any) -> Any:
                    return _values(r, float)

                def finish(raw: Any) -> tuple[Any, float, dict[str, float]]:
                    noisy_sum, noisy_count = float(raw[0]), int(raw[1])
                    if noisy_count < 1:
                        return mid, half, {"sum": noisy_sum + mid * noisy_count, "count": noisy_count}
                    value = min(high, max(low, mid + noisy_sum / noisy_count))
                    bound = min(2 * half, (a_sum + half * a_count) / noisy_count)
                    return value, bound, {"sum": noisy_sum + mid * noisy_count, "count": noisy_count}

                scale = {"sum": cal.scale * sensitivity, "count": cal.scale}
                details["accuracy_parts"] = {"sum": a_sum, "count": a_count}
                accuracy = float("nan")  # known after the release (it divides by the noisy count)

        elif kind == "histogram":
            assert column is not None
            assert col is not None
            metric = "L1Distance<i64>" if mech == "laplace" else "L2Distance<i64>"
            if (categories is None) == (bins is None):
                raise DPInputError(
                    "histogram needs either categories (the values to count, declared up front) "
                    "or bins (increasing numeric edges), not both and not neither",
                    field="categories",
                )
            if categories is not None:
                labels = _categories(categories)
                value_sql = f"CAST({col} AS VARCHAR)"
                domain = (dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance())
                counter = domain >> dp.t.then_count_by_categories(
                    categories=labels, null_category=True, MO=metric, TOA="i64"
                )
                keys = [*labels, OTHER]
                shape: tuple[Any, ...] = ("categories", *labels)
                details["categories"] = labels

                def load(r: Any) -> Any:
                    return _values(r, str)

            else:
                assert bins is not None
                edges = _edges(bins)
                if ctype not in ("int", "float", "bool"):
                    raise DPInputError(
                        f"column {column!r} of {name} is {types[column]}; bins need a numeric column "
                        "(use categories for text)",
                        field="column",
                        found=types[column],
                    )
                conditions.append(f"{col} IS NOT NULL")
                if ctype == "float":
                    conditions.append(f"NOT isnan({col})")
                value_sql = f"CAST({col} AS DOUBLE)"
                domain = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance())
                counter = (
                    domain
                    >> dp.t.then_find_bin(edges=edges)
                    >> dp.t.then_count_by_categories(
                        categories=list(range(len(edges) + 1)), null_category=False, MO=metric, TOA="i64"
                    )
                )
                keys = _bin_labels(edges)
                shape = ("bins", *edges)
                details["bins"] = edges

                def load(r: Any) -> Any:
                    return _values(r, float)

            cal = _calibrate(lambda s: counter >> noise(s), d_in, eps, dlt, mech, shape)
            accuracy = _accuracy(cal.scale, alpha, mech, discrete=True)

            def finish(raw: Any) -> tuple[Any, float, dict[str, float]]:
                return {k: int(v) for k, v in zip(keys, raw, strict=True)}, accuracy, {}

            scale = cal.scale
            discrete = True
        else:  # pragma: no cover - the public methods pass known kinds
            raise DPInputError(f"unknown query kind {kind!r}; one of {', '.join(KINDS)}", field="kind")

        sql = f"SELECT {value_sql} AS odg_v FROM {name}"
        if privacy_unit is not None:
            sql = (
                f"SELECT {value_sql} AS odg_v, row_number() OVER "
                f"(PARTITION BY {_quote(privacy_unit)} ORDER BY random()) AS odg_rank FROM {name}"
            )
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        if privacy_unit is not None:
            sql = f"SELECT odg_v FROM ({sql}) WHERE odg_rank <= {max_contributions}"
        details.update(bounds=list(low_high) if low_high else None, scale=scale, confidence=conf)
        return _Query(
            kind=kind,
            table=name,
            column=column,
            consumer=who,
            mechanism=mech,
            confidence=conf,
            calibrated=cal,
            d_in=d_in,
            sql=sql,
            as_of=as_of,
            details=details,
            accuracy=accuracy,
            noise=_noise_name(mech, discrete=discrete) if kind != "mean" else f"{mech} (sum) + discrete {mech} (count)",
            scale=scale,
            bounds=low_high,
            privacy_unit=privacy_unit,
            max_contributions=max_contributions,
            where=condition,
            load=load,
            finish=finish,
        )

    def _consumer(self, consumer: str | None) -> str:
        who = self._wb.user if consumer is None else str(consumer).strip()
        if not who or any(c.isspace() for c in who):
            raise DPInputError(f"consumer {consumer!r} is not a name (no spaces)", field="consumer", found=consumer)
        return who

    # -- the budget -----------------------------------------------------------------------------

    def _ensure(self) -> tuple[sa.Table, sa.Table]:
        budgets, ledger = _tables()
        self._wb.state.ensure(budgets, ledger)
        return budgets, ledger

    def _defaults(self) -> tuple[float, float]:
        eps = float(self._wb.config.get("privacy.dp_default_epsilon"))
        dlt = float(self._wb.config.get("privacy.dp_default_delta"))
        return eps, dlt

    def _budget_in(self, conn: sa.Connection, table: str, consumer: str, *, lock: bool = False) -> Budget:
        import sqlalchemy as sa

        budgets, ledger = _tables()
        stmt = sa.select(budgets).where(budgets.c.dataset == table, budgets.c.consumer == consumer)
        if lock:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        # fsum, not SQL SUM: 0.5 + 0.2 + 0.1 + 0.1 + 0.1 spends 1.0, not 0.9999999999999999
        losses = conn.execute(
            sa.select(ledger.c.epsilon, ledger.c.delta).where(ledger.c.dataset == table, ledger.c.consumer == consumer)
        ).all()
        spent = (math.fsum(r[0] for r in losses), math.fsum(r[1] for r in losses), len(losses))
        default_eps, default_delta = self._defaults()
        m = row._mapping if row is not None else None
        set_eps = m is not None and m["epsilon"] is not None
        return Budget(
            table=table,
            consumer=consumer,
            epsilon=float(m["epsilon"]) if m is not None and m["epsilon"] is not None else default_eps,
            delta=float(m["delta"]) if m is not None and m["delta"] is not None else default_delta,
            epsilon_spent=float(spent[0]),
            delta_spent=float(spent[1]),
            queries=int(spent[2]),
            source="set" if set_eps else "default",
            set_by=m["set_by"] if m is not None else None,
            set_at=_aware(m["set_at"]) if m is not None else None,
        )

    def budget(self, table: str, consumer: str | None = None) -> Budget:
        """The budget of ``consumer`` (default: the workspace user) on ``table``, and what is spent."""
        name = str(self._wb.table(table).name)
        who = self._consumer(consumer)
        self._ensure()
        with self._wb.state.begin() as conn:
            return self._budget_in(conn, name, who)

    def budgets(self, table: str | None = None) -> list[Budget]:
        """Every budget set or spent on (of one table, or of all), sorted by table and consumer."""
        import sqlalchemy as sa

        budgets, ledger = self._ensure()
        name = str(self._wb.table(table).name) if table is not None else None
        with self._wb.state.begin() as conn:
            pairs: set[tuple[str, str]] = set()
            for tbl in (budgets, ledger):
                stmt = sa.select(tbl.c.dataset, tbl.c.consumer).distinct()
                if name is not None:
                    stmt = stmt.where(tbl.c.dataset == name)
                pairs |= {(r[0], r[1]) for r in conn.execute(stmt)}
            return [self._budget_in(conn, t, c) for t, c in sorted(pairs)]

    def set_budget(self, table: str, consumer: str, epsilon: float, delta: float = 0.0) -> Budget:
        """Set the budget of ``consumer`` on ``table`` (epsilon >= 0, 0 <= delta < 1).

        Only the table's owners (Responsible or Accountable in its RACI) and workspace admins
        may (policy action ``privacy.budget.set``, odg_workbench/governance/policies/privacy_budget.rego).
        Lowering a budget under what is spent blocks further queries; nothing is refunded.
        Publishes ``privacy.dp_budget_set``.
        """
        import sqlalchemy as sa

        name = str(self._wb.table(table).name)
        who = self._consumer(consumer)
        try:
            eps = float(epsilon)
        except (TypeError, ValueError):
            raise DPInputError(f"epsilon must be a number, found {epsilon!r}", field="epsilon") from None
        if not math.isfinite(eps) or eps < 0:
            raise DPInputError(
                f"a budget's epsilon must be a finite number >= 0, found {epsilon!r}", field="epsilon", found=epsilon
            )
        dlt = _probability(delta, "delta", zero_ok=True)
        budgets, _ = self._ensure()
        self._wb.raci.require(
            "privacy.budget.set",
            dataset=name,
            context={"consumer": who, "epsilon": eps, "delta": dlt},
        )
        now = datetime.now(UTC)
        actor = self._wb.user
        with self._wb.state.begin() as conn:
            values = {"epsilon": eps, "delta": dlt, "set_by": actor, "set_at": now}
            done = conn.execute(
                sa.update(budgets).where(budgets.c.dataset == name, budgets.c.consumer == who).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(sa.insert(budgets).values(dataset=name, consumer=who, **values))
            budget = self._budget_in(conn, name, who)
        self._wb.publish("privacy.dp_budget_set", name, consumer=who, epsilon=eps, delta=dlt)
        return budget

    def ledger(self, table: str | None = None, consumer: str | None = None) -> list[dict[str, Any]]:
        """Every answered query, oldest first: id, table, consumer, actor, kind, column, mechanism, epsilon, delta, at."""
        import sqlalchemy as sa

        _, ledger = self._ensure()
        stmt = sa.select(ledger).order_by(ledger.c.id)
        if table is not None:
            stmt = stmt.where(ledger.c.dataset == str(self._wb.table(table).name))
        if consumer is not None:
            stmt = stmt.where(ledger.c.consumer == consumer)
        with self._wb.state.begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        return [
            {
                "id": r["id"],
                "table": r["dataset"],
                "consumer": r["consumer"],
                "actor": r["actor"],
                "kind": r["kind"],
                "column": r["column_name"],
                "mechanism": r["mechanism"],
                "epsilon": r["epsilon"],
                "delta": r["delta"],
                "at": _aware(r["at"]),
                **json.loads(r["details"]),
            }
            for r in rows
        ]

    @staticmethod
    def _check(budget: Budget, query: _Query) -> None:
        eps, dlt = query.calibrated.epsilon, query.calibrated.delta
        over_eps = budget.epsilon_spent + eps > budget.epsilon + _TOLERANCE
        over_delta = dlt > 0 and budget.delta_spent + dlt > budget.delta + _TOLERANCE * 1e-6
        if not (over_eps or over_delta):
            return
        if over_eps:
            what = (
                f"epsilon: spent {_fmt(budget.epsilon_spent)}, requested {_fmt(eps)}, "
                f"limit {_fmt(budget.epsilon)} ({_fmt(budget.epsilon_left)} left)"
            )
        else:
            what = f"delta: spent {budget.delta_spent:g}, requested {dlt:g}, limit {budget.delta:g}"
        hint = (
            "ask an owner of the table for more budget (odg privacy budget TABLE --consumer NAME --set EPS), "
            "or ask with a smaller epsilon (more noise)"
        )
        raise PrivacyBudgetExceededError(
            f"{query.kind} on {budget.table} refused for consumer {budget.consumer}: it would exceed the privacy "
            f"budget's {what}; nothing was released. {hint}",
            table=budget.table,
            consumer=budget.consumer,
            spent=budget.epsilon_spent,
            requested=eps,
            limit=budget.epsilon,
            delta_spent=budget.delta_spent,
            delta_requested=dlt,
            delta_limit=budget.delta,
            hint=hint,
        )

    def _charge(self, query: _Query) -> tuple[int, Budget]:
        """Check the budget and record the spend in one transaction; the ledger id and the budget after."""
        import sqlalchemy as sa

        budgets, ledger = self._ensure()
        now = datetime.now(UTC)
        with self._wb.state.begin() as conn:
            if not self._wb.state.is_sqlite:  # SQLite: BEGIN IMMEDIATE already serialises writers
                try:
                    with conn.begin_nested():
                        conn.execute(sa.insert(budgets).values(dataset=query.table, consumer=query.consumer))
                except sa.exc.IntegrityError:
                    pass  # the row exists: lock it below
            before = self._budget_in(conn, query.table, query.consumer, lock=True)
            self._check(before, query)
            inserted = conn.execute(
                sa.insert(ledger).values(
                    dataset=query.table,
                    consumer=query.consumer,
                    actor=self._wb.user,
                    kind=query.kind,
                    column_name=query.column,
                    mechanism=query.mechanism,
                    epsilon=query.calibrated.epsilon,
                    delta=query.calibrated.delta,
                    at=now,
                    details=json.dumps(query.details, default=str, allow_nan=False),
                )
            )
            key = inserted.inserted_primary_key
            assert key is not None
            query_id = int(key[0])
            after = self._budget_in(conn, query.table, query.consumer)
        return query_id, after


# -- helpers ----------------------------------------------------------------------------------------


def _kind_of(duck_type: str) -> str:
    t = duck_type.upper()
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT"):
        return "int"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "float"
    if t == "BOOLEAN":
        return "bool"
    return "other"


def _column(column: str, types: Mapping[str, str], table: str, what: str = "column") -> None:
    if column in types:
        return
    close = difflib.get_close_matches(column, list(types), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; columns: {', '.join(list(types)[:20])}"
    raise DPInputError(
        f"{table} has no {what} {column!r}{hint}",
        field="column",
        found=column,
        suggestions=close,
        columns=list(types),
    )


def _categories(categories: Iterable[Any]) -> list[str]:
    if isinstance(categories, str):
        categories = list(categories.split(","))
    labels = [str(c).strip() if isinstance(c, str) else str(c) for c in categories]
    if not labels:
        raise DPInputError("categories is empty: declare the values to count", field="categories")
    dupes = sorted({c for c in labels if labels.count(c) > 1})
    if dupes:
        raise DPInputError(f"categories repeat {', '.join(dupes)}", field="categories", found=dupes)
    if any("\x00" in c for c in labels):
        raise DPInputError("categories must not contain the NUL character", field="categories")
    if OTHER in labels:
        raise DPInputError(f"{OTHER!r} is the name of the bin of other values", field="categories", found=OTHER)
    return labels


def _edges(bins: Iterable[float]) -> list[float]:
    if isinstance(bins, str):
        bins = list(bins.split(","))
    try:
        edges = [float(b) for b in bins]
    except (TypeError, ValueError):
        raise DPInputError(f"bins must be numbers, found {bins!r}", field="bins", found=str(bins)) from None
    if not edges or not all(math.isfinite(e) for e in edges):
        raise DPInputError("bins must be one or more finite edges", field="bins", found=edges)
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise DPInputError(f"bins {edges} must be strictly increasing", field="bins", found=edges)
    return edges


def _bin_labels(edges: Sequence[float]) -> list[str]:
    e = [_num(x) for x in edges]
    return [f"(-inf, {e[0]})", *(f"[{a}, {b})" for a, b in itertools.pairwise(e)), f"[{e[-1]}, inf)"]


def _count_rows(rel: Any) -> int:
    row = rel.aggregate("count(*)").fetchone()
    return int(row[0]) if row else 0


def _values(rel: Any, kind: Callable[[Any], Any]) -> list[Any]:
    column = rel.to_arrow_table().column(0)
    if kind is float:
        return [float(v) for v in column.to_numpy(zero_copy_only=False).tolist()]
    if kind is int:
        return [int(v) for v in column.to_pylist()]
    # nulls become a text no category can equal (categories are checked not to hold NUL)
    return [_NULL_SENTINEL if v is None else str(v) for v in column.to_pylist()]
