"""Rules and their outcomes: the common language of every quality engine.

A :class:`Rule` is one executable check compiled from a contract (see
:func:`odg_workbench.quality.contract.compile_rules`); an engine turns rules into
:class:`Outcome` objects. The semantics are the same for every engine (ibis on DuckDB,
PostgreSQL, polars ..., and the NumPy/CuPy array path):

* NaN counts as null (as Great Expectations does);
* ``nullValues``: failed = null rows, evaluated = all rows;
* ``missingValues``: failed = rows that are null or equal one of ``arguments.missingValues``,
  evaluated = all rows;
* ``invalidValues``: over non-null rows only: failed = non-null values outside
  ``validValues`` or not matching ``pattern`` (a regular-expression *search*, anchor it
  with ``^...$``), or outside the ``logicalTypeOptions`` bounds;
* ``duplicateValues``: over non-null rows only: failed = non-null rows - distinct
  non-null values; at schema level over rows whose key ``properties`` are all non-null;
* ``rowCount``: the number of rows; ``sql``: the scalar the query returns;
  ``freshness``: the age in seconds of the newest value. These three are one element
  each (evaluated 1, failed 0 or 1).

For the count metrics the metric value compared with the threshold is the failed count
(``unit: rows``) or ``100 * failed / evaluated`` (``unit: percent``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "DAMA_DIMENSIONS",
    "DEFAULT_DIMENSION",
    "LIBRARY_METRICS",
    "ODCS_DIMENSIONS",
    "OPERATORS",
    "ROW_METRICS",
    "Outcome",
    "Rule",
    "Threshold",
    "duplicate_sample",
]

OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
LIBRARY_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount")
# Metrics counted over rows (e = rows or non-null rows); the others are one element each.
ROW_METRICS = ("nullValues", "missingValues", "invalidValues", "duplicateValues")

DAMA_DIMENSIONS = ("completeness", "accuracy", "consistency", "timeliness", "uniqueness", "validity")
# ODCS dimension -> DAMA dimension.
ODCS_DIMENSIONS = {
    "accuracy": "accuracy",
    "completeness": "completeness",
    "conformity": "validity",
    "consistency": "consistency",
    "coverage": "completeness",
    "timeliness": "timeliness",
    "uniqueness": "uniqueness",
    "validity": "validity",
}
# The dimension of a rule that names none.
DEFAULT_DIMENSION = {
    "nullValues": "completeness",
    "missingValues": "completeness",
    "invalidValues": "validity",
    "duplicateValues": "uniqueness",
    "rowCount": "completeness",
    "sql": "consistency",
    "freshness": "timeliness",
    "text": "validity",
    "custom": "validity",
}

_SYMBOL = {
    "mustBe": "==",
    "mustNotBe": "!=",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": ">=",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "<=",
}


@dataclass(frozen=True)
class Threshold:
    """An ODCS operator and its operand: ``Threshold("mustBeBetween", [0, 10])``."""

    operator: str
    value: Any

    def check(self, x: Any) -> bool:
        """Whether the metric value ``x`` satisfies the threshold (``mustBeBetween`` is inclusive)."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return self.operator == "mustBe" and self.value is None
        op, v = self.operator, self.value
        if op == "mustBe":
            return bool(x == v)
        if op == "mustNotBe":
            return bool(x != v)
        if op == "mustBeGreaterThan":
            return bool(x > v)
        if op == "mustBeGreaterOrEqualTo":
            return bool(x >= v)
        if op == "mustBeLessThan":
            return bool(x < v)
        if op == "mustBeLessOrEqualTo":
            return bool(x <= v)
        lo, hi = v
        inside = bool(lo <= x <= hi)
        return inside if op == "mustBeBetween" else not inside

    def describe(self) -> str:
        if self.operator in _SYMBOL:
            return f"{_SYMBOL[self.operator]} {self.value}"
        lo, hi = self.value
        return f"{'' if self.operator == 'mustBeBetween' else 'not '}between {lo} and {hi}"

    def to_dict(self) -> dict[str, Any]:
        return {"operator": self.operator, "value": self.value, "text": self.describe()}


@dataclass(frozen=True)
class Rule:
    """One executable check of one schema object (optionally one property)."""

    id: str
    metric: str
    object: str
    column: str | None  # the ODCS property (physical name); None for schema-level rules
    arguments: dict[str, Any]
    threshold: Threshold
    unit: str
    severity: str
    dimension: str
    name: str = ""
    description: str | None = None
    odcs_dimension: str | None = None
    origin: str = ""
    line: int | None = None
    query: str | None = None
    executable: bool = True

    @property
    def columns(self) -> list[str]:
        """Columns the rule reads."""
        if self.metric == "duplicateValues" and self.column is None:
            return list(self.arguments["properties"])
        return [self.column] if self.column else []

    @property
    def row_level(self) -> bool:
        return self.metric in ROW_METRICS

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["threshold"] = self.threshold.to_dict()
        return d


@dataclass
class Outcome:
    """What an engine measured for one rule."""

    rule: Rule
    evaluated: int
    failed: int
    value: Any
    passed: bool
    percent: float | None = None
    duration_s: float = 0.0
    scan: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def from_counts(cls, rule: Rule, evaluated: int, failed: int, **kw: Any) -> Outcome:
        """A row-level outcome: the metric value is the failed count or its percent."""
        percent = 100.0 * failed / evaluated if evaluated else 0.0
        value: Any = percent if rule.unit == "percent" else failed
        return cls(rule, evaluated, failed, value, rule.threshold.check(value), percent=percent, **kw)

    @classmethod
    def from_value(cls, rule: Rule, value: Any, **kw: Any) -> Outcome:
        """A one-element outcome (rowCount, sql, freshness): failed is 0 or 1 by the threshold."""
        passed = rule.threshold.check(value)
        return cls(rule, 1, 0 if passed else 1, value, passed, **kw)

    def to_dict(self) -> dict[str, Any]:
        r = self.rule
        return {
            "id": r.id,
            "name": r.name,
            "metric": r.metric,
            "property": r.column,
            "dimension": r.dimension,
            "severity": r.severity,
            "value": _jsonable(self.value),
            "unit": r.unit,
            "percent": None if self.percent is None else round(self.percent, 6),
            "evaluated": self.evaluated,
            "failed": self.failed,
            "threshold": r.threshold.to_dict(),
            "passed": self.passed,
            "duration_s": round(self.duration_s, 6),
            "scan": self.scan,
            "samples": self.samples,
            "origin": r.origin,
            "line": r.line,
            **({"error": self.error} if self.error else {}),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def duplicate_sample(keys: list[str], values: dict[str, Any], occurrences: int) -> dict[str, Any]:
    """One sample of a ``duplicateValues`` rule: the repeated key and how often it occurs.

    A float key shows ``0.0`` for ``-0.0``: the two compare equal, so they are one key, and
    which of them an engine happens to keep would otherwise show through.
    """
    out = {k: (values[k] + 0.0 if isinstance(values[k], float) else values[k]) for k in keys}
    out["occurrences"] = int(occurrences)
    return out
