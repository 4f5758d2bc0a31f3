"""Great Expectations 1.x bridge: contracts to suites, suites to contracts, and a second opinion.

::

    from odg_workbench.quality import gx

    suite = gx.to_expectation_suite("orders.odcs.yaml")          # a GX ExpectationSuite
    suite.meta["odg"]["skipped"]                                 # rules GX cannot express, and why
    run = gx.run_suite("orders.parquet", "orders.odcs.yaml")     # GX's numbers, keyed by rule id
    run["product_id_present"].unexpected_count
    contract = gx.from_expectation_suite("suite.json", name="Orders", object_name="orders")
    gx.compare("orders.parquet", "orders.odcs.yaml").to_text()   # our engine vs GX, rule by rule

Great Expectations is imported lazily (it costs several seconds), with its usage
statistics switched off (``GX_ANALYTICS_ENABLED=false``) and through an *ephemeral* data
context, so nothing is kept on disk and nothing is sent over the network.

Rules and expectations
----------------------
Every expectation made from a rule carries ``meta = {"odg_rule_id": <rule id>, "odcs": <the
rule>}``; a rule may need several expectations (all with the same rule id).

=============================  ==============================================================
rule (see :mod:`.rules`)       expectation(s)
=============================  ==============================================================
nullValues                     ``expect_column_values_to_not_be_null``
missingValues                  ``..._not_be_null`` + ``..._not_be_in_set`` (the non-null markers)
invalidValues validValues      ``expect_column_values_to_be_in_set``
invalidValues pattern          ``expect_column_values_to_match_regex``
minimum/maximum/exclusive...   ``expect_column_values_to_be_between`` (``strict_min``/``strict_max``)
minLength/maxLength            ``expect_column_value_lengths_to_be_between``
duplicateValues (property)     ``expect_column_values_to_be_unique``
duplicateValues (schema)       ``expect_compound_columns_to_be_unique``
                               (``ignore_row_if="any_value_is_missing"``, as our engine)
rowCount                       ``expect_table_row_count_to_be_between`` (integer bounds)
custom, engine GX              the expectation in ``implementation``, as written
sql, freshness, text, other    skipped, with the reason, in ``suite.meta["odg"]["skipped"]``
=============================  ==============================================================

Thresholds become ``mostly``. GX passes a map expectation when
``(n - unexpected) / n >= mostly`` (``n``: all rows for not-null, non-null rows otherwise,
the same denominators as our percent), so a threshold that is an upper bound on the
failures translates exactly:

* ``mustBe: 0`` (or ``<= 0``, ``< 1`` rows, a ``mustBeBetween`` from 0): ``mostly`` 1;
* ``unit: percent``, ``mustBeLessOrEqualTo: p``: ``mostly = 1 - p/100`` computed in decimal
  (``p: 1`` gives ``0.99``), so the boundary case rounds like GX's own ratio;
* ``unit: rows``, ``mustBeLessOrEqualTo: k`` (``mustBeLessThan: k`` is ``<= ceil(k) - 1``):
  ``mostly = (n - k) / n`` which needs ``n``: pass ``rows=`` (and ``non_null=`` per column for
  invalidValues); :func:`run_suite` and :func:`compare` pass them from the data. Without them
  the rule is skipped with that reason. ``mustBeLessThan`` in percent also needs ``n``.
* Thresholds that are not an upper bound on failures (``mustNotBe``, ``mustBeGreaterThan``,
  a ``mustBeBetween`` that excludes 0 ...) and allowances on rules made of several
  expectations (a union of conditions) cannot be written with ``mostly``: skipped.

Counting: where GX and our engine agree, and where they do not
--------------------------------------------------------------
* Null: NaN counts as null in both (GX's pandas engine; our engines by design).
* nullValues / missingValues: unexpected = null (+ marker) rows over all rows: same unit.
  GX's ``not_be_in_set`` skips nulls, so the two parts of a missingValues rule are disjoint
  and their counts add up.
* invalidValues: GX map expectations skip nulls, like our engine: same unit (failed
  non-null rows), ``unexpected_percent`` over non-null rows like our percent. GX matches a
  regular expression with Python's ``re`` *search* on ``str(value)``; our engine with the
  backend's search (RE2 on DuckDB): the same for the usual syntax, different for
  look-arounds and back-references (RE2 has none). Integer columns with nulls are handed to
  GX as pandas nullable integers so that ``str(1)`` is ``"1"``, not ``"1.0"``.
* duplicateValues: **different unit**. GX's ``expect_column_values_to_be_unique`` (and the
  compound version) reports as unexpected *every* non-null row whose value occurs more than
  once: a value seen ``k`` times counts ``k``. Our engine counts the rows beyond the first
  (non-null rows - distinct values): ``k - 1``. So ``GX unexpected = ours + number of
  duplicated values``; on customers.csv, 10 duplicated ids give 20 unexpected rows in GX and
  10 failed rows here. Verdicts agree for ``mustBe: 0`` (zero either way), which is the only
  threshold translated; :func:`compare` compares the verdicts of these rules, not the counts.
  A foreign ``expect_compound_columns_to_be_unique`` with GX's default
  ``ignore_row_if="all_values_are_missing"`` is imported as schema-level duplicateValues
  too, although GX then also counts rows where only some key columns are null.
* rowCount: GX's observed value is the row count, like ours; the verdict is the comparison.
* Dates: bounds stay ISO strings in a suite (portable JSON); :func:`run_suite` turns them
  into the column's type (a ``pandas.Timestamp`` in the column's time zone for timestamps,
  ``datetime.date`` for dates), because GX's pandas engine cannot compare a timestamp column
  with a string. Decimal columns are converted to float for GX.

Importing a suite (:func:`from_expectation_suite`)
--------------------------------------------------
A suite made here round-trips: the ``odcs`` meta of each expectation (the rule's metric,
threshold, unit, severity, dimension, the shorthand it came from and the row count its
``mostly`` was computed with) is used when the expectations still say what it says;
otherwise the suite was edited in GX, and the expectation is read as written. The skipped
rules travel in ``suite.meta["odg"]["skipped"]`` with their contract entry, so ``sql``,
``text`` and foreign ``custom`` rules come back too; a freshness SLA does not (it is not a
rule of the schema object). Foreign expectations map as in the table above, ``mostly``
``m`` becoming ``mustBeLessOrEqualTo: 100 (1 - m)`` percent (``expect_column_values_to_be_of_type``
becomes the property's ``logicalType``); anything else (other types, ``row_condition``,
``mostly`` on a between/unique expectation, suite parameters ...) becomes a ``type: custom``
rule with ``engine: greatExpectations`` and the expectation JSON as ``implementation``,
which :func:`to_expectation_suite` turns back into the same expectation. ODCS needs a
``logicalType`` on every property: see :func:`from_expectation_suite` for where it comes from.

Warnings
--------
Two warnings GX causes are silenced where they happen, because they are GX-internal noise:
the ``DeprecationWarning`` "module 'sre_constants' is deprecated" (and ``sre_parse``) that
``import great_expectations`` 1.24 triggers, and pandas' ``UserWarning`` "This pattern is
interpreted as a regular expression, and has match groups ..." raised by GX's regex metric
(``str.contains``) for any pattern with a group, such as the CPF pattern.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import logging
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import ContractError, QualityError
from odg_workbench.quality.contract import Contract, compile_rules, load_contract
from odg_workbench.quality.rules import Rule, Threshold

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from great_expectations.core import ExpectationSuite

__all__ = [
    "GX_ENGINE",
    "Comparison",
    "ComparisonRow",
    "GXResult",
    "GXValidation",
    "SkippedRule",
    "compare",
    "from_expectation_suite",
    "run_suite",
    "suite_skipped",
    "to_expectation_suite",
]

# The ``engine`` of ODCS custom rules that hold a GX expectation (aliases accepted on read).
GX_ENGINE = "greatExpectations"
_GX_ENGINES = {"greatexpectations", "great-expectations", "great_expectations", "gx"}

_STABLE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_ODCS_TO_GX_SEVERITY = {"error": "critical", "critical": "critical", "warning": "warning", "info": "info"}
_GX_TO_ODCS_SEVERITY = {"critical": "error", "warning": "warning", "info": "info"}
_BOUND_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_LENGTH_KEYS = ("minLength", "maxLength")
# kwargs that change nothing about what an expectation checks.
_NEUTRAL_KWARGS = {"result_format", "catch_exceptions", "include_config"}


# -- GX, lazily ---------------------------------------------------------------------------


def _gx() -> Any:
    """``great_expectations``, imported quietly and without usage statistics."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # never phone home, whatever the caller's env
    with warnings.catch_warnings():
        # GX 1.24 imports the stdlib's deprecated sre_constants/sre_parse modules.
        warnings.filterwarnings(
            "ignore", message=r"module 'sre_(constants|parse)' is deprecated", category=DeprecationWarning
        )
        try:
            import great_expectations as gx
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise QualityError(
                "Great Expectations is not installed: pip install 'great-expectations>=1.24,<2'"
            ) from exc
    # GX logs its ephemeral docs folders at INFO on its own loggers: keep the CLI quiet.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx


# -- rules -> expectations -------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedRule:
    """A rule that no expectation stands for, and why."""

    rule_id: str
    metric: str
    column: str | None
    reason: str
    odcs: dict[str, Any] | None = None  # the contract's quality entry, restored on import

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "odcs" or v is not None}


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _dec(x: float | int) -> Decimal:
    return Decimal(x) if isinstance(x, int) else Decimal(repr(x))


def _upper_bound(t: Threshold) -> tuple[float, bool] | None:
    """``(bound, strict)`` when the threshold passes exactly the failure counts ``<= bound``
    (``< bound`` when strict) among non-negative values; None otherwise."""
    op, v = t.operator, t.value
    if op == "mustBe" and _number(v) and v == 0:
        return 0, False
    if op == "mustBeLessOrEqualTo" and _number(v) and v >= 0:
        return v, False
    if op == "mustBeLessThan" and _number(v) and v > 0:
        return v, True
    if (
        op == "mustBeBetween"
        and isinstance(v, (list, tuple))
        and len(v) == 2
        and all(_number(x) for x in v)
        and v[0] <= 0 <= v[1]
    ):
        return v[1], False
    return None


def _allowed_failures(rule: Rule, n: int | None) -> tuple[int | None, float | None, str | None]:
    """``(max failed rows, percent, reason)``: the rule's threshold as an allowance of failed
    rows (needs ``n``) or of percent; the reason when it is not one GX can express."""
    bound = _upper_bound(rule.threshold)
    if bound is None:
        return (
            None,
            None,
            f"threshold {rule.threshold.describe()} is not an upper bound on failures; GX's mostly cannot say it",
        )
    value, strict = bound
    if rule.unit == "percent" and not strict:
        return None, float(value), None
    if rule.unit == "percent":
        if n is None:
            return None, None, "a strict percent threshold needs the row count: pass rows= (and non_null=)"
        # 100 f / n < p  <=>  f <= ceil(p n / 100) - 1
        return max(0, math.ceil(_dec(value) * n / 100) - 1), None, None
    allowed = math.ceil(value) - 1 if strict else math.floor(value)
    return max(0, allowed), None, None


def _mostly(rule: Rule, n: int | None) -> tuple[float | None, str | None]:
    """GX ``mostly`` for a one-expectation row-level rule over ``n`` rows (None: 1)."""
    rows_allowed, percent, reason = _allowed_failures(rule, n)
    if reason:
        return None, reason
    if percent is not None:
        if percent == 0:
            return None, None
        return (0.0 if percent >= 100 else float(1 - _dec(percent) / 100)), None
    assert rows_allowed is not None
    if rows_allowed == 0:
        return None, None
    if n is None:
        what = "non_null=" if rule.metric == "invalidValues" else "rows="
        return None, (
            f"threshold {rule.threshold.describe()} rows allows failures: GX's mostly needs the number of rows; "
            f"pass {what}"
        )
    if n == 0:
        return None, None
    return (0.0 if rows_allowed >= n else (n - rows_allowed) / n), None


def _hint(rule: Rule, source: str, count: int | None) -> dict[str, Any]:
    """The rule, as the meta of its expectations (read back by :func:`from_expectation_suite`)."""
    hint: dict[str, Any] = {
        "metric": rule.metric,
        "source": source,
        "threshold": {rule.threshold.operator: rule.threshold.value},
        "unit": rule.unit,
        "severity": rule.severity,
        "arguments": rule.arguments,
        "dimension": rule.odcs_dimension,
        "name": rule.name,
        "description": rule.description,
        "count": count,
    }
    return {k: v for k, v in hint.items() if v is not None and v != {}}


def _source(rule: Rule) -> str:
    """Where the rule came from: ``quality`` or a property shorthand."""
    last = rule.origin.rsplit(".", 1)[-1] if rule.origin else ""
    if "quality[" in last:
        return "quality"
    if rule.origin.split(".")[-2:-1] == ["logicalTypeOptions"]:
        return "logicalTypeOptions"
    return last or "quality"


def _bound_kwargs(args: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in _BOUND_KEYS:
        if key in args:
            lower = key in ("minimum", "exclusiveMinimum")
            strict = key.startswith("exclusive")
            kw: dict[str, Any] = {"min_value" if lower else "max_value": args[key]}
            if strict:
                kw["strict_min" if lower else "strict_max"] = True
            out.append(kw)
    return out


def _rule_expectations(
    rule: Rule, *, rows: int | None, non_null: Mapping[str, int] | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The expectation configurations (plain dicts) that stand for ``rule``, or a reason."""
    col = rule.column
    parts: list[tuple[str, dict[str, Any]]] = []
    count: int | None = None
    mostly: float | None = None
    if rule.metric in ("sql",):
        return [], "sql rules need a SQL data source; GX's UnexpectedRowsExpectation does not run on pandas"
    if rule.metric == "freshness":
        return [], "freshness depends on the time of the check; GX has no expectation on the age of the newest value"
    if not rule.executable:
        return [], f"{rule.metric} rules are not executable"
    if rule.metric == "rowCount":
        return _row_count_expectation(rule)
    if rule.metric == "nullValues":
        parts = [("expect_column_values_to_not_be_null", {"column": col})]
        count = rows
    elif rule.metric == "missingValues":
        markers = [v for v in rule.arguments.get("missingValues") or [] if v is not None]
        parts = [("expect_column_values_to_not_be_null", {"column": col})]
        if markers:
            parts.append(("expect_column_values_to_not_be_in_set", {"column": col, "value_set": markers}))
        count = rows
    elif rule.metric == "invalidValues":
        args = rule.arguments
        if "validValues" in args:
            values = [v for v in args["validValues"] if v is not None]
            parts.append(("expect_column_values_to_be_in_set", {"column": col, "value_set": values}))
        if "pattern" in args:
            parts.append(("expect_column_values_to_match_regex", {"column": col, "regex": str(args["pattern"])}))
        for kw in _bound_kwargs(args):
            parts.append(("expect_column_values_to_be_between", {"column": col, **kw}))
        if "minLength" in args or "maxLength" in args:
            kw = {}
            if "minLength" in args:
                kw["min_value"] = int(args["minLength"])
            if "maxLength" in args:
                kw["max_value"] = int(args["maxLength"])
            parts.append(("expect_column_value_lengths_to_be_between", {"column": col, **kw}))
        if not parts:
            return [], f"invalidValues arguments {sorted(args)} have no GX equivalent"
        count = None if non_null is None or col is None else non_null.get(col)
    elif rule.metric == "duplicateValues":
        if col is not None:
            parts = [("expect_column_values_to_be_unique", {"column": col})]
        else:
            parts = [
                (
                    "expect_compound_columns_to_be_unique",
                    {"column_list": list(rule.columns), "ignore_row_if": "any_value_is_missing"},
                )
            ]
        rows_allowed, percent, reason = _allowed_failures(rule, None)
        if reason or rows_allowed or percent:
            return [], (
                reason
                or f"threshold {rule.threshold.describe()} {rule.unit} allows duplicates; GX counts every row of a "
                "duplicated value and this rule the rows beyond the first, so only a zero allowance translates"
            )
    else:
        return [], f"metric {rule.metric} has no GX equivalent"

    if rule.metric != "duplicateValues":
        if len(parts) > 1:
            rows_allowed, percent, reason = _allowed_failures(rule, count)
            if reason:
                return [], reason
            if rows_allowed or percent:
                return [], (
                    f"threshold {rule.threshold.describe()} {rule.unit} allows failures of a rule made of "
                    f"{len(parts)} expectations; GX's mostly applies to each one, not to their union"
                )
        else:
            mostly, reason = _mostly(rule, count)
            if reason:
                return [], reason
    used_count = count if (mostly is not None and rule.unit == "rows") or _strict_percent(rule) else None
    meta = {"odg_rule_id": rule.id, "odcs": _hint(rule, _source(rule), used_count)}
    out = []
    for kind, kwargs in parts:
        kw = dict(kwargs)
        if mostly is not None:
            kw["mostly"] = mostly
        out.append(
            {
                "type": kind,
                "kwargs": kw,
                "meta": copy.deepcopy(meta),
                "severity": _ODCS_TO_GX_SEVERITY.get(rule.severity, "warning"),
            }
        )
    return out, None


def _strict_percent(rule: Rule) -> bool:
    bound = _upper_bound(rule.threshold)
    return rule.unit == "percent" and bound is not None and bound[1]


def _row_count_expectation(rule: Rule) -> tuple[list[dict[str, Any]], str | None]:
    op, v = rule.threshold.operator, rule.threshold.value
    lo: int | None = None
    hi: int | None = None
    if op == "mustBeBetween" and isinstance(v, (list, tuple)) and len(v) == 2 and all(_number(x) for x in v):
        lo, hi = math.ceil(v[0]), math.floor(v[1])
    elif op in ("mustNotBe", "mustNotBeBetween") or not _number(v):
        return [], f"rowCount {rule.threshold.describe()} is not a range; GX's row count expectations take one"
    elif op == "mustBe":
        if v != int(v):
            return [], f"rowCount {rule.threshold.describe()}: a row count is an integer"
        lo = hi = int(v)
    elif op == "mustBeGreaterThan":
        lo = math.floor(v) + 1
    elif op == "mustBeGreaterOrEqualTo":
        lo = math.ceil(v)
    elif op == "mustBeLessThan":
        hi = math.ceil(v) - 1
    elif op == "mustBeLessOrEqualTo":
        hi = math.floor(v)
    kwargs: dict[str, Any] = {}
    if lo is not None:
        kwargs["min_value"] = max(0, lo)
    if hi is not None:
        kwargs["max_value"] = hi
    meta = {"odg_rule_id": rule.id, "odcs": _hint(rule, "quality", None)}
    return [
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": kwargs,
            "meta": meta,
            "severity": _ODCS_TO_GX_SEVERITY.get(rule.severity, "warning"),
        }
    ], None


_ORIGIN_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _raw_at(contract: Contract, origin: str) -> Any:
    """The raw contract element at a rule's ``origin`` (``schema[0].properties[2].quality[0]``)."""
    node: Any = contract.raw
    for name, index in _ORIGIN_PART.findall(origin):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _custom_expectation(contract: Contract, rule: Rule) -> tuple[list[dict[str, Any]], str | None]:
    """A ``type: custom`` GX rule: its expectation, as written in ``implementation``."""
    raw = _raw_at(contract, rule.origin)
    engine = str((raw or {}).get("engine") or "") if isinstance(raw, dict) else ""
    if rule.metric != "custom" or engine.lower() not in _GX_ENGINES:
        what = f"custom rule for engine {engine!r}" if rule.metric == "custom" else f"{rule.metric} rule"
        return [], f"{what}: not executable by GX"
    impl = raw.get("implementation")
    where = (
        f"{contract.source}:{rule.line}: {rule.origin}.implementation" if rule.line else f"{rule.origin}.implementation"
    )
    if isinstance(impl, str):
        try:
            impl = json.loads(impl)
        except json.JSONDecodeError as exc:
            return [], f"{where}: not a JSON expectation ({exc.msg})"
    if not isinstance(impl, dict) or not (impl.get("type") or impl.get("expectation_type")):
        return [], f"{where}: not an expectation (an object with type and kwargs)"
    exp = {
        "type": impl.get("type") or impl.get("expectation_type"),
        "kwargs": dict(impl.get("kwargs") or {}),
        "meta": {**dict(impl.get("meta") or {}), "odg_rule_id": rule.id},
    }
    for key in ("severity", "description", "notes"):
        if impl.get(key) is not None:
            exp[key] = impl[key]
    return [exp], None


@dataclass
class _Plan:
    expectations: list[dict[str, Any]]
    skipped: list[SkippedRule]
    meta: dict[str, Any]


def _plan(
    contract: Contract,
    object_name: str | None,
    *,
    rows: int | None = None,
    non_null: Mapping[str, int] | None = None,
) -> tuple[_Plan, list[Rule]]:
    _, obj = contract.object(object_name)
    rules = compile_rules(contract, object_name)
    expectations: list[dict[str, Any]] = []
    skipped: list[SkippedRule] = []
    for rule in rules:
        if rule.metric in ("custom", "text"):
            exps, reason = _custom_expectation(contract, rule)
        else:
            exps, reason = _rule_expectations(rule, rows=rows, non_null=non_null)
        if reason is not None:
            raw = _raw_at(contract, rule.origin) if "quality[" in rule.origin else None
            entry = json.loads(json.dumps(raw, default=str)) if isinstance(raw, dict) else None
            skipped.append(SkippedRule(rule.id, rule.metric, rule.column, reason, entry))
        expectations.extend(exps)
    properties = []
    for prop in obj.properties or []:
        entry = {"name": prop.name, "physicalName": prop.physicalName, "logicalType": prop.logicalType}
        properties.append({k: v for k, v in entry.items() if v is not None})
    meta = {
        "odg": {
            "contract_id": contract.id,
            "contract_version": contract.version,
            "object": obj.name,
            "physicalName": obj.physicalName,
            "properties": properties,
            "skipped": [s.to_dict() for s in skipped],
        }
    }
    return _Plan(expectations, skipped, meta), rules


def _build_suite(name: str, expectations: list[dict[str, Any]], meta: dict[str, Any] | None) -> ExpectationSuite:
    """A GX suite holding every expectation given (GX's constructor drops invalid ones
    with a log line; here they raise, naming the rule)."""
    gx = _gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.metadata_types import FailureSeverity

    objects = []
    for i, exp in enumerate(expectations):
        rid = (exp.get("meta") or {}).get("odg_rule_id")
        try:
            config = ExpectationConfiguration(
                type=exp["type"],
                kwargs=exp.get("kwargs") or {},
                meta=exp.get("meta"),
                notes=exp.get("notes"),
                description=exp.get("description"),
                severity=FailureSeverity(str(exp.get("severity") or "critical")),
            )
            objects.append(config.to_domain_obj())
        except Exception as exc:
            who = f"rule {rid}" if rid else f"expectations[{i}]"
            raise ContractError(
                f"{who}: GX rejects {exp.get('type')} {exp.get('kwargs')}: {exc}",
                field=f"expectations[{i}]",
                rule=rid,
            ) from exc
    suite: ExpectationSuite = gx.ExpectationSuite(
        name=name, expectations=objects, meta=copy.deepcopy(meta) if meta else None
    )
    return suite


def to_expectation_suite(
    contract: str | os.PathLike[str] | dict[str, Any] | Contract,
    object_name: str | None = None,
    *,
    rows: int | None = None,
    non_null: Mapping[str, int] | None = None,
    name: str | None = None,
) -> ExpectationSuite:
    """A Great Expectations ``ExpectationSuite`` with one or more expectations per rule.

    ``rows`` (and ``non_null``, non-null rows per column) make ``unit: rows`` thresholds
    that allow failures translatable. Rules GX cannot express are listed, with the reason,
    in ``suite.meta["odg"]["skipped"]`` (see :func:`suite_skipped`).
    """
    c = load_contract(contract)
    plan, _ = _plan(c, object_name, rows=rows, non_null=non_null)
    oname = plan.meta["odg"]["object"]
    return _build_suite(name or f"{c.id}/{oname}", plan.expectations, plan.meta)


def suite_skipped(suite: Any) -> list[SkippedRule]:
    """The rules :func:`to_expectation_suite` could not turn into expectations."""
    meta = suite.meta if hasattr(suite, "meta") else (suite or {}).get("meta")
    items = ((meta or {}).get("odg") or {}).get("skipped") or []
    return [SkippedRule(**item) for item in items]


# -- data for GX ----------------------------------------------------------------------------


def _is_path(data: Any) -> bool:
    return isinstance(data, (str, Path))


def _to_arrow(data: Any) -> pa.Table:
    """Any data :func:`~odg_workbench.quality.check` reads, as a normalised Arrow table."""
    import pyarrow as pa

    from odg_workbench.lakehouse.arrow_compat import normalize_table
    from odg_workbench.lakehouse.sources import read_source

    if _is_path(data):
        path = Path(data).expanduser()
        if not path.exists():
            raise QualityError(f"no such file: {path}", path=str(path))
        table = read_source(path).table
    elif isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif type(data).__module__.startswith("polars"):
        import polars as pl

        table = (data.collect() if isinstance(data, pl.LazyFrame) else data).to_arrow()
    elif type(data).__module__.startswith("pandas"):
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif hasattr(data, "to_pyarrow"):  # an ibis table
        table = data.to_pyarrow()
    else:
        raise QualityError(
            f"cannot validate a {type(data).__name__} with GX: give a pandas/polars/Arrow frame or a file path",
            found=type(data).__name__,
        )
    return normalize_table(table)


def _arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas for GX: decimals as float, integers with nulls as nullable integers."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.types as pt

    nullable = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
    }
    columns: dict[str, Any] = {}
    for fld, col in zip(table.schema, table.columns, strict=True):
        if pt.is_decimal(fld.type):
            col = col.cast(pa.float64())
        if pt.is_integer(fld.type) and col.null_count:
            columns[fld.name] = col.to_pandas(types_mapper=nullable.get)
        else:
            columns[fld.name] = col.to_pandas()
    return pd.DataFrame(columns)


def _to_pandas(data: Any) -> pd.DataFrame:
    """``data`` as the pandas frame GX validates (Decimal objects become floats)."""
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        import decimal

        frame = data.copy()
        for name in frame.columns:
            col = frame[name]
            if col.dtype == object:
                sample = col.dropna()
                if len(sample) and all(isinstance(v, decimal.Decimal) for v in sample.iloc[:100]):
                    frame[name] = col.astype(float)
        return frame
    return _arrow_to_pandas(_to_arrow(data))


def _non_null(frame: pd.DataFrame) -> dict[str, int]:
    return {str(c): int(frame[c].notna().sum()) for c in frame.columns}


def _coerce_bound(series: pd.Series, value: Any) -> Any:
    """A between bound of the column's own type (GX's pandas engine does not parse strings)."""
    import pandas as pd
    import pandas.api.types as ptypes

    if value is None or isinstance(value, dict):  # None, or a $PARAMETER reference
        return value
    if ptypes.is_datetime64_any_dtype(series.dtype):
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError):
            return value  # GX reports the comparison error on the expectation
        tz = getattr(series.dtype, "tz", None)
        if tz is not None:
            ts = ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)
        elif ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts
    if series.dtype == object and isinstance(value, str):
        first = series.dropna()
        first_value = first.iloc[0] if len(first) else None
        if isinstance(first_value, dt.date) and not isinstance(first_value, dt.datetime):
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return value
    return value


def _expectation_columns(kwargs: Mapping[str, Any]) -> list[str]:
    cols: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            cols.append(kwargs[key])
    for key in ("column_list",):
        if isinstance(kwargs.get(key), list):
            cols.extend(str(c) for c in kwargs[key])
    return cols


def _check_expectation_columns(expectations: list[dict[str, Any]], columns: list[str], where: str) -> None:
    known = set(columns)
    problems = []
    for i, exp in enumerate(expectations):
        rid = (exp.get("meta") or {}).get("odg_rule_id")
        for col in _expectation_columns(exp.get("kwargs") or {}):
            if col not in known:
                close = difflib.get_close_matches(col, columns, n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                who = f"rule {rid}" if rid else f"expectations[{i}]"
                problems.append(f"{who} ({exp.get('type')}): unknown column {col!r}{hint}")
    if problems:
        raise ContractError(f"{where}: " + "; ".join(problems), columns=sorted(columns), problems=problems)


# -- validating -----------------------------------------------------------------------------


@dataclass
class GXResult:
    """What GX reported for one rule (summed over its expectations where they are disjoint)."""

    rule_id: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: Any = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GXValidation(Mapping[str, GXResult]):
    """GX results keyed by rule id (``expectations[i]`` for an expectation without one)."""

    results: dict[str, GXResult]
    skipped: list[SkippedRule]
    rows: int
    suite_name: str

    def __getitem__(self, key: str) -> GXResult:
        try:
            return self.results[key]
        except KeyError:
            raise KeyError(f"no GX result for {key!r}; results: {', '.join(self.results)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results.values())


def _is_contract_like(obj: Any) -> bool:
    if isinstance(obj, Contract):
        return True
    if isinstance(obj, dict):
        return "expectations" not in obj and ("apiVersion" in obj or "schema" in obj)
    if _is_path(obj):
        text = str(obj)
        if "\n" in text:
            return True  # a YAML text
        suffix = Path(text).suffix.lower()
        if suffix in (".yaml", ".yml"):
            return True
        if suffix == ".json" and Path(text).exists():
            try:
                doc = json.loads(Path(text).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                return False
            return isinstance(doc, dict) and "expectations" not in doc
    return False


def _suite_dict(suite: Any) -> tuple[dict[str, Any], str]:
    """A suite (GX object, dict or JSON file) as its JSON dict, and where it came from."""
    if hasattr(suite, "to_json_dict"):
        return suite.to_json_dict(), f"suite {getattr(suite, 'name', '')}".strip()
    if isinstance(suite, dict):
        return suite, "<suite>"
    if _is_path(suite):
        path = Path(suite).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ContractError(f"expectation suite file not found: {path}", path=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ContractError(f"cannot read expectation suite {path}: {exc}", path=str(path)) from exc
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(
                f"{path}:{exc.lineno}:{exc.colno}: not a JSON expectation suite: {exc.msg}",
                path=str(path),
                line=exc.lineno,
                column=exc.colno,
            ) from exc
        if not isinstance(doc, dict):
            raise ContractError(
                f"{path}: an expectation suite is a JSON object with an 'expectations' list, found {type(doc).__name__}",
                path=str(path),
                line=1,
            )
        return doc, str(path)
    raise ContractError(
        f"cannot read an expectation suite from a {type(suite).__name__}: give a GX ExpectationSuite, a dict or a JSON file",
        found=type(suite).__name__,
    )


def _suite_expectations(doc: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The expectations of a suite dict (GX 1.x ``type`` or 0.x ``expectation_type``), checked."""
    items = doc.get("expectations")
    if not isinstance(items, list):
        raise ContractError(
            f"{where}: expectations: an expectation suite needs an 'expectations' list, found "
            f"{type(items).__name__ if items is not None else 'none'}",
            path=where,
            field="expectations",
        )
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ContractError(
                f"{where}: expectations[{i}]: an expectation is an object, found {type(item).__name__}",
                path=where,
                field=f"expectations[{i}]",
            )
        kind = item.get("type") or item.get("expectation_type")
        if not isinstance(kind, str) or not kind:
            raise ContractError(
                f"{where}: expectations[{i}].type: missing (expected e.g. expect_column_values_to_not_be_null)",
                path=where,
                field=f"expectations[{i}].type",
            )
        kwargs = item.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ContractError(
                f"{where}: expectations[{i}].kwargs: expected an object, found {type(kwargs).__name__}",
                path=where,
                field=f"expectations[{i}].kwargs",
            )
        meta = item.get("meta") or {}
        exp: dict[str, Any] = {
            "type": kind,
            "kwargs": dict(kwargs),
            "meta": dict(meta) if isinstance(meta, dict) else {},
        }
        for key in ("severity", "description", "notes"):
            if item.get(key) is not None:
                exp[key] = item[key]
        out.append(exp)
    return out


def run_suite(
    data: Any,
    suite_or_contract: Any,
    *,
    object_name: str | None = None,
) -> GXValidation:
    """Validate ``data`` with GX: a pandas/polars/Arrow frame or a file (Parquet, CSV, JSON ...).

    ``suite_or_contract`` is a GX ``ExpectationSuite``, a suite dict or JSON file, or an ODCS
    contract (then the suite is made with this data's row counts, see the module docs).
    Returns GX's own numbers per rule id.
    """
    frame = _to_pandas(data)
    where = str(data) if _is_path(data) else "data"
    columns = [str(c) for c in frame.columns]
    skipped: list[SkippedRule] = []
    if _is_contract_like(suite_or_contract):
        from odg_workbench.quality.engine_ibis import check_columns

        c = load_contract(suite_or_contract)
        plan, rules = _plan(c, object_name, rows=len(frame), non_null=_non_null(frame))
        check_columns([r for r in rules if r.metric not in ("sql", "custom", "text")], columns, where)
        expectations, skipped = plan.expectations, plan.skipped
        name = f"{c.id}/{plan.meta['odg']['object']}"
    else:
        doc, source = _suite_dict(suite_or_contract)
        expectations = _suite_expectations(doc, source)
        skipped = [SkippedRule(**s) for s in ((doc.get("meta") or {}).get("odg") or {}).get("skipped") or []]
        name = str(doc.get("name") or doc.get("expectation_suite_name") or "suite")
    _check_expectation_columns(expectations, columns, where)
    expectations = _adapt_bounds(expectations, frame)
    return _validate(frame, expectations, name, skipped)


def _adapt_bounds(expectations: list[dict[str, Any]], frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for exp in expectations:
        kwargs = exp.get("kwargs") or {}
        if exp["type"] == "expect_column_values_to_be_between" and kwargs.get("column") in frame.columns:
            series = frame[kwargs["column"]]
            kwargs = {
                **kwargs,
                **{k: _coerce_bound(series, kwargs[k]) for k in ("min_value", "max_value") if k in kwargs},
            }
            exp = {**exp, "kwargs": kwargs}
        out.append(exp)
    return out


def _validate(
    frame: pd.DataFrame, expectations: list[dict[str, Any]], name: str, skipped: list[SkippedRule]
) -> GXValidation:
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    suite = _build_suite(name, expectations, None)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("odg").add_dataframe_asset("frame")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    with warnings.catch_warnings():
        # GX matches regexes with pandas' str.contains, which warns when a pattern has groups.
        warnings.filterwarnings(
            "ignore",
            message="This pattern is interpreted as a regular expression, and has match groups",
            category=UserWarning,
        )
        result = batch.validate(suite, result_format="BASIC")

    by_rule: dict[str, list[dict[str, Any]]] = {}
    for i, res in enumerate(result.results):
        config = res.expectation_config
        meta = dict(config.meta or {})
        key = str(meta.get("odg_rule_id") or f"expectations[{i}]")
        info = res.exception_info or {}
        error = None
        if isinstance(info, dict):
            if info.get("raised_exception"):
                error = str(info.get("exception_message"))
            else:  # {metric id: {exception_message ...}} when a metric failed
                for sub in info.values():
                    if isinstance(sub, dict) and sub.get("exception_message"):
                        error = str(sub["exception_message"]).strip().splitlines()[-1]
                        break
        r = dict(res.result or {})
        by_rule.setdefault(key, []).append(
            {
                "type": config.type,
                "kwargs": {k: v for k, v in config.kwargs.items() if k != "batch_id"},
                "success": bool(res.success),
                "element_count": r.get("element_count"),
                "unexpected_count": r.get("unexpected_count"),
                "unexpected_percent": r.get("unexpected_percent"),
                "observed_value": _plain(r.get("observed_value")),
                "error": error,
            }
        )
    results = {key: _combine(key, parts) for key, parts in by_rule.items()}
    return GXValidation(results, skipped, len(frame), name)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _combine(key: str, parts: list[dict[str, Any]]) -> GXResult:
    errors = [p["error"] for p in parts if p["error"]]
    success = all(p["success"] for p in parts) and not errors
    if len(parts) == 1:
        p = parts[0]
        return GXResult(
            key,
            success,
            p["element_count"],
            p["unexpected_count"],
            p["unexpected_percent"],
            p["observed_value"],
            parts,
            errors[0] if errors else None,
        )
    element_count = max((p["element_count"] or 0) for p in parts)
    kinds = sorted(p["type"] for p in parts)
    unexpected: int | None = None
    percent: float | None = None
    # not-null and not-in-set count disjoint rows (GX's in-set family skips nulls).
    if kinds == ["expect_column_values_to_not_be_in_set", "expect_column_values_to_not_be_null"] and all(
        p["unexpected_count"] is not None for p in parts
    ):
        unexpected = sum(int(p["unexpected_count"]) for p in parts)
        percent = 100.0 * unexpected / element_count if element_count else 0.0
    return GXResult(key, success, element_count, unexpected, percent, None, parts, "; ".join(errors) or None)


# -- expectations -> contract -----------------------------------------------------------------


def _json_equal(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _rule_from_hint(rule_id: str, column: str | None, hint: Mapping[str, Any]) -> Rule | None:
    try:
        ((op, value),) = dict(hint["threshold"]).items()
        return Rule(
            id=rule_id,
            metric=str(hint["metric"]),
            object="",
            column=column,
            arguments=dict(hint.get("arguments") or {}),
            threshold=Threshold(str(op), value),
            unit=str(hint.get("unit") or "rows"),
            severity=str(hint.get("severity") or "warning"),
            dimension="",
            name=str(hint.get("name") or ""),
            description=hint.get("description"),
            odcs_dimension=hint.get("dimension"),
            origin="",
        )
    except (KeyError, TypeError, ValueError):
        return None


def _canonical(value: Any) -> Any:
    """JSON-like value as GX would store it: integral floats as ints (``min_value: 1`` is
    kept as ``1.0``), datetime strings in ISO form."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and len(value) >= 10 and value[:4].isdigit():
        try:  # GX rewrites datetime strings ("...Z" becomes "...+00:00")
            return dt.datetime.fromisoformat(value).isoformat()
        except ValueError:
            return value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _comparable(exps: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(_canonical([e["type"], e.get("kwargs") or {}]), sort_keys=True, default=str) for e in exps)


class _Builder:
    """Collects properties and rules of one schema object while expectations are read."""

    def __init__(self, where: str, properties_meta: list[dict[str, Any]], known_types: Mapping[str, str]) -> None:
        self.where = where
        self.known = dict(known_types)
        self.guesses: dict[str, str] = {}
        self.props: dict[str, dict[str, Any]] = {}
        for p in properties_meta:
            if isinstance(p, dict) and p.get("name"):
                key = str(p.get("physicalName") or p["name"])
                self.props[key] = {k: v for k, v in p.items() if k in ("name", "physicalName", "logicalType")}
        self.schema_quality: list[dict[str, Any]] = []
        self.pk: dict[str, set[str]] = {}
        self.ids: set[str] = set()

    def prop(self, column: str) -> dict[str, Any]:
        if column not in self.props:
            self.props[column] = {"name": column}
            if column in self.known:
                self.props[column]["logicalType"] = self.known[column]
        return self.props[column]

    def guess(self, column: str, logical: str | None) -> None:
        """A logicalType suggested by the values of an expectation (used when nothing says better)."""
        if logical:
            self.guesses.setdefault(column, logical)

    def take_id(self, rule_id: Any) -> str | None:
        if isinstance(rule_id, str) and _STABLE_ID.match(rule_id) and rule_id not in self.ids:
            self.ids.add(rule_id)
            return rule_id
        return None

    def add_quality(self, column: str | None, q: dict[str, Any]) -> None:
        if column is None:
            self.schema_quality.append(q)
        else:
            self.prop(column).setdefault("quality", []).append(q)

    def set_option(self, column: str, logical: str, options: dict[str, Any]) -> bool:
        """Add logicalTypeOptions (False when they clash with the property's type or options)."""
        p = self.prop(column)
        current = p.get("logicalType")
        if current is not None and not _compatible(current, logical):
            return False
        existing = p.get("logicalTypeOptions") or {}
        if any(k in existing for k in options):
            return False
        if current is None:
            p["logicalType"] = logical
        p["logicalTypeOptions"] = {**existing, **options}
        return True

    def document(
        self, *, name: str, object_name: str, contract_id: str, version: str, physical: str | None
    ) -> dict[str, Any]:
        properties = []
        for column, p in self.props.items():
            flags = self.pk.get(column, set())
            if {"primaryKey:nullValues", "primaryKey:duplicateValues"} <= flags:
                p["primaryKey"] = True
            else:
                if "primaryKey:nullValues" in flags:
                    p["required"] = True
                if "primaryKey:duplicateValues" in flags:
                    p["unique"] = True
            if "logicalType" not in p:  # ODCS needs one; the suite does not say
                p["logicalType"] = self.guesses.get(column, "string")
                if column not in self.guesses:
                    p["description"] = (
                        "logicalType assumed: the suite does not say (pass logical_types= or data= on import)"
                    )
            properties.append(_ordered_property(p))
        obj: dict[str, Any] = {"name": object_name}
        if physical:
            obj["physicalName"] = physical
        obj["physicalType"] = "table"
        obj["properties"] = properties
        if self.schema_quality:
            obj["quality"] = self.schema_quality
        return {
            "apiVersion": "v3.0.2",
            "kind": "DataContract",
            "id": contract_id,
            "name": name,
            "version": version,
            "status": "draft",
            "schema": [obj],
        }


_PROPERTY_ORDER = (
    "name",
    "physicalName",
    "description",
    "logicalType",
    "primaryKey",
    "required",
    "unique",
    "logicalTypeOptions",
    "quality",
)


def _ordered_property(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in _PROPERTY_ORDER if k in p}


def _compatible(current: str, wanted: str) -> bool:
    if current == wanted:
        return True
    return {current, wanted} <= {"integer", "number"} or {current, wanted} <= {"date", "timestamp"}


def _bound_type(values: list[Any]) -> str | None:
    """The ODCS logicalType that allows these between bounds, or None."""
    if all(_number(v) for v in values):
        return "integer" if all(isinstance(v, int) for v in values) else "number"
    if all(isinstance(v, str) for v in values):
        try:
            parsed = [dt.datetime.fromisoformat(v) for v in values]
        except ValueError:
            return None
        plain_dates = all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values)
        return "date" if plain_dates and parsed else "timestamp"
    return None


def _threshold_from_mostly(mostly: Any) -> dict[str, Any] | None:
    """ODCS threshold for GX ``mostly`` (None when ``mostly`` is not a number in [0, 1])."""
    if mostly is None or (_number(mostly) and mostly >= 1):
        return {"mustBe": 0}
    if not _number(mostly) or mostly < 0:
        return None
    p = (1 - _dec(mostly)) * 100
    value: int | float = int(p) if p == int(p) else float(p)
    return {"mustBeLessOrEqualTo": value, "unit": "percent"}


_SUPPORTED_KWARGS = {
    "expect_column_values_to_not_be_null": {"column", "mostly"},
    "expect_column_values_to_be_in_set": {"column", "value_set", "mostly"},
    "expect_column_values_to_match_regex": {"column", "regex", "mostly"},
    "expect_column_values_to_be_between": {"column", "min_value", "max_value", "strict_min", "strict_max", "mostly"},
    "expect_column_value_lengths_to_be_between": {
        "column",
        "min_value",
        "max_value",
        "strict_min",
        "strict_max",
        "mostly",
    },
    "expect_column_values_to_be_unique": {"column", "mostly"},
    "expect_compound_columns_to_be_unique": {"column_list", "ignore_row_if", "mostly"},
    "expect_table_row_count_to_be_between": {"min_value", "max_value", "strict_min", "strict_max"},
    "expect_table_row_count_to_equal": {"value"},
    "expect_column_values_to_be_of_type": {"column", "type_", "mostly"},
}


# Arrow type -> ODCS logicalType (for data= on import).
def _logical_of_arrow(t: Any) -> str:
    import pyarrow.types as pt

    if pt.is_integer(t):
        return "integer"
    if pt.is_floating(t) or pt.is_decimal(t):
        return "number"
    if pt.is_boolean(t):
        return "boolean"
    if pt.is_date(t):
        return "date"
    if pt.is_timestamp(t):
        return "timestamp"
    if pt.is_time(t):
        return "time"
    if pt.is_struct(t) or pt.is_map(t):
        return "object"
    if pt.is_list(t) or pt.is_large_list(t):
        return "array"
    return "string"


def _logical_of_gx_type(type_: str) -> str | None:
    """ODCS logicalType of a GX ``type_`` (pandas, numpy, Python or SQL type name)."""
    t = type_.strip().lower()
    if t.startswith(("int", "uint", "bigint", "smallint", "tinyint", "long")):
        return "integer"
    if t.startswith(("float", "double", "decimal", "numeric", "real")):
        return "number"
    if t in ("str", "string", "varchar", "text", "char", "unicode", "nvarchar"):
        return "string"
    if t in ("bool", "boolean"):
        return "boolean"
    if t.startswith(("datetime", "timestamp")):
        return "timestamp"
    if t == "date":
        return "date"
    if t == "time":
        return "time"
    return None


def _natural(exp: dict[str, Any], i: int, b: _Builder) -> str | None:
    """Map one expectation onto ``b`` as written; the reason when it must stay custom."""
    kind = exp["type"]
    kw = {k: v for k, v in (exp.get("kwargs") or {}).items() if k not in _NEUTRAL_KWARGS and v is not None}
    allowed = _SUPPORTED_KWARGS.get(kind)
    if allowed is None:
        return f"{kind} has no ODCS equivalent"
    extra = sorted(k for k in kw if k not in allowed and not (k in ("row_condition", "condition_parser") and not kw[k]))
    if extra:
        return f"{kind} with {', '.join(extra)} has no ODCS equivalent"
    if any(isinstance(v, dict) and "$PARAMETER" in v for v in kw.values()):
        return "suite parameters ($PARAMETER) have no ODCS equivalent"
    needs_column = "column" in allowed
    column = kw.get("column")
    if needs_column and (not isinstance(column, str) or not column):
        raise ContractError(
            f"{b.where}: expectations[{i}].kwargs.column: {kind} needs a column name, found {column!r}",
            path=b.where,
            field=f"expectations[{i}].kwargs.column",
        )
    meta = exp.get("meta") or {}
    rid = b.take_id(meta.get("odg_rule_id"))
    severity = _GX_TO_ODCS_SEVERITY.get(str(exp.get("severity") or "").lower())
    mostly = kw.get("mostly")

    def quality(metric: str, threshold: dict[str, Any], arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        q: dict[str, Any] = {}
        if rid:
            q["id"] = rid
        q["metric"] = metric
        if arguments:
            q["arguments"] = arguments
        q.update(threshold)
        if severity and severity != "warning":
            q["severity"] = severity
        if exp.get("description"):
            q["description"] = str(exp["description"])
        return q

    threshold = _threshold_from_mostly(mostly)
    if threshold is None:
        return f"mostly {mostly!r} is not a fraction between 0 and 1"
    if kind == "expect_column_values_to_not_be_null":
        b.add_quality(column, quality("nullValues", threshold))
    elif kind == "expect_column_values_to_be_of_type":
        if threshold != {"mustBe": 0}:
            return "an ODCS logicalType admits no exceptions; this expectation has mostly < 1"
        logical_type = _logical_of_gx_type(str(kw.get("type_") or ""))
        if logical_type is None:
            return f"type {kw.get('type_')!r} has no ODCS logicalType"
        p = b.prop(str(column))
        if p.get("logicalType") and not _compatible(p["logicalType"], logical_type):
            return f"column {column} is already {p['logicalType']}"
        p["logicalType"] = p.get("logicalType") or logical_type
    elif kind == "expect_column_values_to_be_in_set":
        values = kw.get("value_set")
        if not isinstance(values, list):
            return f"value_set {values!r} is not a list"
        b.guess(str(column), _bound_type([v for v in values if v is not None]) if values else None)
        b.add_quality(column, quality("invalidValues", threshold, {"validValues": values}))
    elif kind == "expect_column_values_to_match_regex":
        b.guess(str(column), "string")
        b.add_quality(column, quality("invalidValues", threshold, {"pattern": str(kw.get("regex", ""))}))
    elif kind in ("expect_column_values_to_be_between", "expect_column_value_lengths_to_be_between"):
        if threshold != {"mustBe": 0}:
            return "ODCS logicalTypeOptions bounds allow no failures; this expectation has mostly < 1"
        lengths = kind == "expect_column_value_lengths_to_be_between"
        options: dict[str, Any] = {}
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is None and hi is None:
            return "a between expectation without min_value or max_value checks nothing ODCS can say"
        if lengths:
            if any(v is not None and (not _number(v) or v != int(v)) for v in (lo, hi)):
                return "value lengths bounds must be integers"
            if lo is not None:
                options["minLength"] = int(lo) + (1 if kw.get("strict_min") else 0)
            if hi is not None:
                options["maxLength"] = int(hi) - (1 if kw.get("strict_max") else 0)
            logical = "string"
        else:
            bound_type = _bound_type([v for v in (lo, hi) if v is not None])
            if bound_type is None:
                return f"bounds {lo!r}..{hi!r} are neither numbers nor ISO dates"
            logical = bound_type
            if lo is not None:
                options["exclusiveMinimum" if kw.get("strict_min") else "minimum"] = lo
            if hi is not None:
                options["exclusiveMaximum" if kw.get("strict_max") else "maximum"] = hi
        if not b.set_option(str(column), logical, options):
            return f"column {column} already has a logicalType or bound these options clash with"
    elif kind == "expect_column_values_to_be_unique":
        if threshold != {"mustBe": 0}:
            return "GX counts every row of a duplicated value, ODCS duplicateValues the rows beyond the first; mostly < 1 does not translate"
        b.add_quality(column, quality("duplicateValues", threshold))
    elif kind == "expect_compound_columns_to_be_unique":
        cols = kw.get("column_list")
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            raise ContractError(
                f"{b.where}: expectations[{i}].kwargs.column_list: {kind} needs a list of column names, found {cols!r}",
                path=b.where,
                field=f"expectations[{i}].kwargs.column_list",
            )
        if threshold != {"mustBe": 0}:
            return "GX counts every row of a duplicated key, ODCS duplicateValues the rows beyond the first; mostly < 1 does not translate"
        if kw.get("ignore_row_if", "any_value_is_missing") not in ("any_value_is_missing", "all_values_are_missing"):
            return f"ignore_row_if {kw.get('ignore_row_if')!r} has no ODCS equivalent"
        for c in cols:
            b.prop(c)
        b.add_quality(None, quality("duplicateValues", {"mustBe": 0}, {"properties": list(cols)}))
    elif kind in ("expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"):
        if kind == "expect_table_row_count_to_equal":
            lo = hi = kw.get("value")
        else:
            lo, hi = kw.get("min_value"), kw.get("max_value")
        if any(v is not None and not _number(v) for v in (lo, hi)) or (lo is None and hi is None):
            return f"row count bounds {lo!r}..{hi!r} are not numbers"
        if lo is not None and kw.get("strict_min"):
            lo = math.floor(lo) + 1
        if hi is not None and kw.get("strict_max"):
            hi = math.ceil(hi) - 1
        if lo is not None and hi is not None:
            t: dict[str, Any] = {"mustBe": lo} if lo == hi else {"mustBeBetween": [lo, hi]}
        elif lo is not None:
            t = {"mustBeGreaterOrEqualTo": lo}
        else:
            t = {"mustBeLessOrEqualTo": hi}
        b.add_quality(None, quality("rowCount", t))
    return None


def _custom_quality(exp: dict[str, Any], reason: str, b: _Builder) -> None:
    column = (exp.get("kwargs") or {}).get("column")
    implementation = {k: exp[k] for k in ("type", "kwargs", "meta", "severity", "description", "notes") if exp.get(k)}
    # the rule id is ours, not part of the expectation
    meta = {k: v for k, v in (exp.get("meta") or {}).items() if k not in ("odg_rule_id", "odcs")}
    implementation.pop("meta", None)
    if meta:
        implementation["meta"] = meta
    q: dict[str, Any] = {}
    rid = b.take_id((exp.get("meta") or {}).get("odg_rule_id"))
    if rid:
        q["id"] = rid
    q.update(
        {
            "type": "custom",
            "name": exp["type"],
            "description": f"Great Expectations {exp['type']}, kept as is: {reason}",
            "engine": GX_ENGINE,
            "implementation": json.loads(json.dumps(implementation, default=str)),
        }
    )
    severity = _GX_TO_ODCS_SEVERITY.get(str(exp.get("severity") or "").lower())
    if severity and severity != "warning":
        q["severity"] = severity
    b.add_quality(column if isinstance(column, str) and column else None, q)


def _apply_hint(rule: Rule, source: str, b: _Builder) -> None:
    """Write a rule back as it was in the contract the suite was made from."""
    column = rule.column
    if source in ("required", "unique") and column is not None:
        b.prop(column)[source] = True
        return
    if source == "primaryKey" and column is not None:
        b.prop(column)
        b.pk.setdefault(column, set()).add(f"primaryKey:{rule.metric}")
        return
    if source == "logicalTypeOptions" and column is not None and len(rule.arguments) == 1:
        ((opt, value),) = rule.arguments.items()
        p = b.prop(column)
        p.setdefault("logicalTypeOptions", {})[opt] = value
        if "logicalType" not in p:
            p["logicalType"] = (
                "string" if opt in ("pattern", "minLength", "maxLength") else (_bound_type([value]) or "number")
            )
        return
    q: dict[str, Any] = {}
    rid = b.take_id(rule.id)
    if rid:
        q["id"] = rid
    if rule.name and rule.name != rule.metric:
        q["name"] = rule.name
    if rule.description:
        q["description"] = rule.description
    q["metric"] = rule.metric
    args = dict(rule.arguments)
    if rule.metric == "missingValues" and args.get("missingValues") == [None]:
        args.pop("missingValues")
    if args:
        q["arguments"] = args
    q[rule.threshold.operator] = rule.threshold.value
    if rule.unit != "rows":
        q["unit"] = rule.unit
    if rule.severity != "warning":
        q["severity"] = rule.severity
    if rule.odcs_dimension:
        q["dimension"] = rule.odcs_dimension
    b.add_quality(column, q)


def from_expectation_suite(
    suite: Any,
    *,
    name: str,
    object_name: str,
    id: str | None = None,
    version: str = "1.0.0",
    path: str | os.PathLike[str] | None = None,
    logical_types: Mapping[str, str] | None = None,
    data: Any = None,
) -> Contract:
    """An ODCS contract with the rules of a GX suite (a GX object, a dict or a JSON file).

    Supported expectations become ODCS rules and property shorthands; the others become
    ``type: custom`` rules (``engine: greatExpectations``, the expectation JSON as
    ``implementation``). The contract is validated like any other (:func:`load_contract`).
    With ``path`` it is also written there as YAML, and loaded back from that file.

    ODCS needs a ``logicalType`` on every property. It comes from the suite's own meta (a
    suite made by :func:`to_expectation_suite`), ``logical_types`` (column -> type), the
    columns of ``data`` (a frame or file), ``expect_column_values_to_be_of_type``, or the
    values of the expectations; failing all of these it is ``string``, and the property's
    description says it was assumed.
    """
    doc, where = _suite_dict(suite)
    expectations = _suite_expectations(doc, where)
    odg_meta = (doc.get("meta") or {}).get("odg") or {}
    known: dict[str, str] = {}
    if data is not None:
        known.update({f.name: _logical_of_arrow(f.type) for f in _to_arrow(data).schema})
    known.update(logical_types or {})
    b = _Builder(where, list(odg_meta.get("properties") or []) if isinstance(odg_meta, dict) else [], known)

    groups: dict[str, list[int]] = {}
    for i, exp in enumerate(expectations):
        rid = exp["meta"].get("odg_rule_id")
        if isinstance(rid, str) and isinstance(exp["meta"].get("odcs"), dict):
            groups.setdefault(rid, []).append(i)
    faithful: dict[int, tuple[Rule, str]] = {}
    merged: set[int] = set()
    for rid, indexes in groups.items():
        first = expectations[indexes[0]]
        hint = first["meta"]["odcs"]
        kwargs = first["kwargs"]
        column = kwargs.get("column") if isinstance(kwargs.get("column"), str) else None
        rule = _rule_from_hint(rid, column, hint)
        if rule is None or not all(_json_equal(expectations[j]["meta"].get("odcs"), hint) for j in indexes):
            continue
        count = hint.get("count")
        rebuilt, reason = _rule_expectations(
            rule, rows=count, non_null={column: count} if column is not None and count is not None else None
        )
        # The suite still says what the rule says (else it was edited: read it as written).
        if reason is None and _comparable(rebuilt) == _comparable([expectations[j] for j in indexes]):
            faithful[indexes[0]] = (rule, str(hint.get("source") or "quality"))
            merged.update(indexes[1:])

    for i, exp in enumerate(expectations):
        if i in merged:
            continue
        if i in faithful:
            _apply_hint(*faithful[i], b)
            continue
        reason = _natural(exp, i, b)
        if reason is not None:
            _custom_quality(exp, reason, b)

    # Rules the suite could not hold (sql ...) travel in its meta: put them back.
    for item in odg_meta.get("skipped") or [] if isinstance(odg_meta, dict) else []:
        raw = item.get("odcs") if isinstance(item, dict) else None
        if isinstance(raw, dict):
            entry = dict(raw)
            if "id" in entry and b.take_id(entry["id"]) is None:
                entry.pop("id")
            column = item.get("column")
            b.add_quality(column if isinstance(column, str) else None, entry)

    contract_id = id or str(odg_meta.get("contract_id") or "") or f"urn:odg:contract:{_slug(name)}"
    document = b.document(
        name=name,
        object_name=object_name,
        contract_id=contract_id,
        version=version,
        physical=str(odg_meta.get("physicalName"))
        if odg_meta.get("physicalName") and odg_meta.get("object") == object_name
        else None,
    )
    contract = load_contract(document)
    if path is not None:
        target = Path(path)
        target.write_text(contract.to_yaml(), encoding="utf-8")
        contract = load_contract(target)
    return contract


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "contract"


# -- comparing the engines ------------------------------------------------------------------


@dataclass
class ComparisonRow:
    """One rule, judged by our engine and by GX."""

    rule_id: str
    metric: str
    column: str | None
    odg_passed: bool | None
    gx_passed: bool | None
    odg_failed: int | None
    gx_failed: int | None
    odg_value: Any
    gx_value: Any
    same_unit: bool
    agree: bool | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Comparison:
    """Our engine against GX, rule by rule."""

    rows: list[ComparisonRow]
    data_rows: int

    @property
    def agree(self) -> bool:
        """Every rule both engines ran has the same verdict (and count, where the unit is shared)."""
        return all(r.agree for r in self.rows if r.agree is not None)

    def row(self, rule_id: str) -> ComparisonRow:
        for r in self.rows:
            if r.rule_id == rule_id:
                return r
        raise KeyError(f"no rule {rule_id!r}; rules: {', '.join(r.rule_id for r in self.rows)}")

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rows]

    def to_text(self) -> str:
        """A Markdown table."""

        def cell(v: Any) -> str:
            if v is None:
                return "-"
            if isinstance(v, bool):
                return "pass" if v else "fail"
            return str(v)

        head = "| rule | metric | column | ours | GX | ours failed | GX unexpected | agree | note |"
        lines = [head, "|" + "---|" * 9]
        for r in self.rows:
            agree = "-" if r.agree is None else ("yes" if r.agree else "NO")
            lines.append(
                f"| {r.rule_id} | {r.metric} | {r.column or ''} | {cell(r.odg_passed)} | {cell(r.gx_passed)} | "
                f"{cell(r.odg_failed)} | {cell(r.gx_failed)} | {agree} | {r.note} |"
            )
        return "\n".join(lines)


def compare(
    data: Any,
    contract: str | os.PathLike[str] | dict[str, Any] | Contract,
    object_name: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> Comparison:
    """Check ``data`` with our ibis engine and with GX; one row per rule.

    Both engines read the same Arrow table (files are read once). ``now`` is the check time
    of our engine (freshness); default: the time of the call.
    """
    from odg_workbench.quality.check import check

    c = load_contract(contract)
    table = _to_arrow(data)
    frame = _arrow_to_pandas(table)
    moment = now or dt.datetime.now(dt.UTC)
    report = check(table, c, object=object_name, engine="ibis", save=False, samples=0, now=moment)
    gx_run = run_suite(frame, c, object_name=report.object)
    skipped = {s.rule_id: s.reason for s in gx_run.skipped}
    rows = []
    for outcome in report.outcomes:
        rule = outcome.rule
        ours_ran = rule.executable
        res = gx_run.results.get(rule.id)
        odg_passed = outcome.passed if ours_ran else None
        odg_failed = outcome.failed if ours_ran else None
        if res is None:
            note = skipped.get(rule.id, "no GX expectation")
            rows.append(
                ComparisonRow(
                    rule.id,
                    rule.metric,
                    rule.column,
                    odg_passed,
                    None,
                    odg_failed,
                    None,
                    outcome.value,
                    None,
                    False,
                    None,
                    note,
                )
            )
            continue
        if not ours_ran:  # a custom GX rule: GX runs it, our engine does not
            rows.append(
                ComparisonRow(
                    rule.id,
                    rule.metric,
                    rule.column,
                    None,
                    res.success,
                    None,
                    res.unexpected_count,
                    None,
                    res.observed_value,
                    False,
                    None,
                    "custom GX rule: only GX runs it",
                )
            )
            continue
        note = ""
        if rule.metric == "rowCount":
            same_unit = True
            gx_failed: int | None = 0 if res.success else 1
            gx_value: Any = res.observed_value
            agree = outcome.passed == res.success and outcome.value == gx_value
        elif rule.metric == "duplicateValues":
            same_unit = False
            gx_failed = res.unexpected_count
            gx_value = res.unexpected_count
            agree = outcome.passed == res.success
            note = "GX counts every row of a duplicated value, ours the rows beyond the first: verdicts compared"
        else:
            gx_failed = res.unexpected_count
            gx_value = res.unexpected_percent if rule.unit == "percent" else res.unexpected_count
            same_unit = gx_failed is not None
            agree = outcome.passed == res.success and (not same_unit or outcome.failed == gx_failed)
            if not same_unit:
                note = "GX reports each expectation of this rule, not their union: verdicts compared"
        if res.error:
            note = f"GX error: {res.error}"
            agree = False
        rows.append(
            ComparisonRow(
                rule.id,
                rule.metric,
                rule.column,
                outcome.passed,
                res.success,
                outcome.failed,
                gx_failed,
                outcome.value,
                gx_value,
                same_unit,
                agree,
                note,
            )
        )
    return Comparison(rows, report.rows)
