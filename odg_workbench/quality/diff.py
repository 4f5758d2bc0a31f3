"""What changed between two versions of a contract or of a table schema, and how much it matters.

Every change gets a class, from the point of view of the data's *consumers* and of the
data the *producer* already writes:

* ``breaking``: data or readers that were fine before may now fail (a removed or renamed
  property, a narrower type, a new required field, a tighter constraint or threshold, a
  new quality rule, a stricter freshness SLA);
* ``warning``: probably fine, but look (a widened type, a removed quality rule: a
  consumer loses a guarantee; breaking changes without a major version bump);
* ``info``: nothing fails because of it (metadata, loosened constraints, an optional
  property added).

:func:`diff_contracts` compares two ODCS contracts, :func:`diff_schemas` two snapshots of
an Iceberg table (columns matched by field id, so a rename is a rename), and :func:`lint`
reports what is wrong or missing in one contract file without ever raising. See
``docs/contracts.md`` for the full classification table.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from odg_workbench.errors import ContractError
from odg_workbench.quality.contract import (
    _TIME_UNITS,
    Contract,
    _dotted,
    _line_map,
    compile_rules,
    load_contract,
)
from odg_workbench.quality.rules import LIBRARY_METRICS, OPERATORS, ROW_METRICS, Threshold

if TYPE_CHECKING:
    from open_data_contract_standard.model import (
        DataQuality,
        SchemaObject,
        SchemaProperty,
        ServiceLevelAgreementProperty,
    )
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.types import IcebergType

    from odg_workbench.lakehouse.table import LakeTable
    from odg_workbench.lakehouse.timetravel import AsOf

__all__ = ["KINDS", "LEVELS", "Change", "Finding", "diff_contracts", "diff_schemas", "lint", "summarize"]

Kind = Literal["breaking", "warning", "info"]
Level = Literal["error", "warning", "info"]
KINDS: tuple[Kind, ...] = ("breaking", "warning", "info")  # most to least severe
LEVELS: tuple[Level, ...] = ("error", "warning", "info")

ContractSource = str | os.PathLike[str] | dict[str, Any] | Contract


@dataclass(frozen=True)
class Change:
    """One difference between two versions, classified.

    ``path`` names the element by names, not positions
    (``schema.orders.properties.quantity.logicalType``); ``line`` is its line in the new
    contract file when known (for a removed element: the line of its closest parent that
    is still there). ``code`` says what kind of change it is (``property.removed``,
    ``constraint.tightened`` ...), the rows of the table in ``docs/contracts.md``.
    """

    kind: Kind
    path: str
    message: str
    old: Any = None
    new: Any = None
    line: int | None = None
    code: str = ""

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.kind}: {self.path}: {self.message}{where}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "old": self.old,
            "new": self.new,
            "line": self.line,
        }


@dataclass(frozen=True)
class Finding:
    """One problem :func:`lint` found in a contract file."""

    level: Level
    path: str
    line: int | None
    message: str

    def format(self, file: str | os.PathLike[str]) -> str:
        """``file:line: level: message``, the form editors and CI logs link to."""
        where = f"{file}:{self.line}" if self.line else str(file)
        return f"{where}: {self.level}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "path": self.path, "line": self.line, "message": self.message}


def summarize(changes: Iterable[Change]) -> dict[str, Any]:
    """Counts per kind and the most severe kind present (``None`` when nothing changed).

    >>> summarize([Change("info", "description", "changed"), Change("breaking", "x", "removed")])
    {'breaking': 1, 'warning': 0, 'info': 1, 'total': 2, 'highest': 'breaking'}
    """
    counts: dict[str, int] = dict.fromkeys(KINDS, 0)
    for change in changes:
        counts[change.kind] += 1
    highest = next((k for k in KINDS if counts[k]), None)
    return {**counts, "total": sum(counts.values()), "highest": highest}


# -- contracts ----------------------------------------------------------------------------


def diff_contracts(old: ContractSource, new: ContractSource) -> list[Change]:
    """Classified changes from contract ``old`` to contract ``new`` (files, dicts or contracts).

    Both contracts must be valid (:class:`~odg_workbench.errors.ContractError` otherwise).
    Changes come in contract order: top-level metadata, then each schema object, then the
    SLAs, then the version-bump check.
    """
    a, b = load_contract(old), load_contract(new)
    differ = _ContractDiffer(a, b)
    differ.run()
    return differ.changes


_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_FRESHNESS = ("freshness", "latency")
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?$")

_T = TypeVar("_T")


def _keyed(items: Sequence[_T] | None, key: Callable[[_T], str]) -> dict[str, tuple[int, _T]]:
    """``key -> (index, item)``; a repeated key gets ``#2``, ``#3`` ... in order."""
    out: dict[str, tuple[int, _T]] = {}
    for i, item in enumerate(items or []):
        k, n = key(item), 2
        base = k
        while k in out:
            k, n = f"{base}#{n}", n + 1
        out[k] = (i, item)
    return out


def _plain(value: Any) -> Any:
    """JSON-ready form of a model value (pydantic models as their ODCS dicts)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _fields(model: Any, skip: Iterable[str]) -> list[tuple[str, str]]:
    """``(attribute, ODCS name)`` of every field of a pydantic model class, minus ``skip``."""
    skipped = set(skip)
    out = []
    for attr, info in type(model).model_fields.items():
        name = info.alias or attr
        if name not in skipped:
            out.append((attr, name))
    return out


def _semver(version: str | None) -> tuple[int, int, int] | None:
    m = _SEMVER.match((version or "").strip())
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


_Where = tuple[str | int, ...]


class _ContractDiffer:
    def __init__(self, old: Contract, new: Contract) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, kind: Kind, code: str, path: str, message: str, was: Any, now: Any, at: _Where | None) -> None:
        line = self.new.line_of(at) if at is not None and self.new.lines else None
        self.changes.append(Change(kind, path, message, _plain(was), _plain(now), line, code))

    def run(self) -> None:
        self.metadata()
        self.objects()
        self.slas()
        self.version_bump()

    # metadata: anything outside schema and slaProperties is information for people
    def metadata(self) -> None:
        for attr, name in _fields(self.new.model, ("schema", "slaProperties")):
            self.meta(name, getattr(self.old.model, attr), getattr(self.new.model, attr), (name,))

    def meta(self, path: str, old: Any, new: Any, at: _Where) -> None:
        """Info-only changes; mappings are compared key by key so the path says which part."""
        a, b = _plain(old), _plain(new)
        if a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in [*a, *(k for k in b if k not in a)]:
                self.meta(f"{path}.{key}", a.get(key), b.get(key), (*at, key))
            return
        name = path.rsplit(".", 1)[-1]
        if a is None or b is None:
            message = f"{name} {'added' if a is None else 'removed'}"
        elif isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
            message = f"{name} changed"
        else:
            message = f"{name} changed from {a!r} to {b!r}"
        self.add("info", "metadata.changed", path, message, a, b, at)

    # schema objects, matched by name
    def objects(self) -> None:
        def name(o: SchemaObject) -> str:
            return str(o.name or o.physicalName or "object")

        olds, news = _keyed(self.old.objects, name), _keyed(self.new.objects, name)
        for key in olds:
            if key not in news:
                msg = f"object {key} removed; its readers lose every column"
                self.add("breaking", "object.removed", f"schema.{key}", msg, key, None, ("schema",))
        for key, (j, obj) in news.items():
            if key not in olds:
                self.add("info", "object.added", f"schema.{key}", f"object {key} added", None, key, ("schema", j))
            else:
                self.object(f"schema.{key}", olds[key][1], obj, ("schema", j))

    def object(self, path: str, old: SchemaObject, new: SchemaObject, at: _Where) -> None:
        if old.physicalName != new.physicalName:
            msg = f"physical name changed from {old.physicalName!r} to {new.physicalName!r}; queries naming it break"
            p, a, b = f"{path}.physicalName", old.physicalName, new.physicalName
            self.add("breaking", "object.physical_name", p, msg, a, b, (*at, "physicalName"))
        for attr, name in _fields(new, ("name", "physicalName", "properties", "quality")):
            self.meta(f"{path}.{name}", getattr(old, attr), getattr(new, attr), (*at, name))
        self.properties(path, old.properties, new.properties, at)
        self.quality(f"{path}.quality", old.quality, new.quality, (*at, "quality"))

    # properties, matched by name; a rename is a removal and an addition that line up
    def properties(
        self, path: str, old_list: list[SchemaProperty] | None, new_list: list[SchemaProperty] | None, at: _Where
    ) -> None:
        def name(p: SchemaProperty) -> str:
            return str(p.name or p.physicalName or "property")

        olds, news = _keyed(old_list, name), _keyed(new_list, name)
        removed = [k for k in olds if k not in news]
        added = [k for k in news if k not in olds]
        # Same position, same logicalType: the property was renamed.
        renamed: dict[str, str] = {}
        for key in removed:
            i, prop = olds[key]
            for other in added:
                j, cand = news[other]
                if j == i and cand.logicalType == prop.logicalType and other not in renamed.values():
                    renamed[key] = other
                    break
        for key in removed:
            i, prop = olds[key]
            p = f"{path}.properties.{key}"
            if key in renamed:
                to = renamed[key]
                j, cand = news[to]
                msg = f"property {key} renamed to {to}; readers of {key} break"
                self.add("breaking", "property.renamed", p, msg, key, to, (*at, "properties", j, "name"))
                self.property(f"{path}.properties.{to}", prop, cand, (*at, "properties", j))
            else:
                msg = f"property {key} removed; its readers break"
                self.add("breaking", "property.removed", p, msg, key, None, (*at, "properties"))
        for key in added:
            if key in renamed.values():
                continue
            j, prop = news[key]
            p, spot = f"{path}.properties.{key}", (*at, "properties", j)
            if prop.required or prop.primaryKey:
                msg = f"required property {key} added; data without it now fails"
                self.add("breaking", "property.added_required", p, msg, None, key, spot)
            else:
                self.add("info", "property.added", p, f"property {key} added", None, key, spot)
        for key, (j, prop) in news.items():
            if key in olds:
                self.property(f"{path}.properties.{key}", olds[key][1], prop, (*at, "properties", j))

    def property(self, path: str, old: SchemaProperty, new: SchemaProperty, at: _Where) -> None:
        self.logical_type(path, old.logicalType, new.logicalType, at)
        a, b = old.physicalName, new.physicalName
        if a != b:
            msg = f"physical name changed from {a!r} to {b!r}; readers of the column break"
            self.add("breaking", "property.physical_name", f"{path}.physicalName", msg, a, b, (*at, "physicalName"))
        a, b = old.physicalType, new.physicalType
        if a != b:
            msg = f"physical type changed from {a!r} to {b!r}; check the storage and its readers"
            self.add("warning", "property.physical_type", f"{path}.physicalType", msg, a, b, (*at, "physicalType"))
        for flag in ("required", "unique", "primaryKey"):
            self.flag(path, flag, old, new, at)
        self.type_options(path, old.logicalTypeOptions or {}, new.logicalTypeOptions or {}, at)
        handled = ("name", "logicalType", "physicalName", "physicalType", "required", "unique", "primaryKey")
        for attr, name in _fields(new, (*handled, "logicalTypeOptions", "quality", "properties", "items")):
            self.meta(f"{path}.{name}", getattr(old, attr), getattr(new, attr), (*at, name))
        self.quality(f"{path}.quality", old.quality, new.quality, (*at, "quality"))
        if old.properties or new.properties:
            self.properties(path, old.properties, new.properties, at)
        if old.items is not None and new.items is not None:
            self.property(f"{path}.items", old.items, new.items, (*at, "items"))
        elif old.items is not None or new.items is not None:
            msg = "array items " + ("added" if new.items is not None else "removed")
            self.add("warning", "property.items", f"{path}.items", msg, old.items, new.items, (*at, "items"))

    def logical_type(self, path: str, old: str | None, new: str | None, at: _Where) -> None:
        if old == new:
            return
        p, spot = f"{path}.logicalType", (*at, "logicalType")
        if new is None:
            self.add("info", "type.removed", p, f"logicalType {old} removed", old, new, spot)
        elif old == "integer" and new == "number":
            msg = "logicalType widened from integer to number; readers expecting integers may see fractions"
            self.add("warning", "type.widened", p, msg, old, new, spot)
        else:
            self.add("breaking", "type.changed", p, f"logicalType changed from {old} to {new}", old, new, spot)

    def flag(self, path: str, flag: str, old: SchemaProperty, new: SchemaProperty, at: _Where) -> None:
        was, now = bool(getattr(old, flag)), bool(getattr(new, flag))
        if was == now:
            return
        p, code, spot = f"{path}.{flag}", f"property.{flag}", (*at, flag)
        if now and (flag == "primaryKey" or not old.primaryKey):
            msg = f"{flag} is now true; data that breaks it was accepted before"
            self.add("breaking", code, p, msg, was, now, spot)
        elif now:  # required/unique spelt out on a primary key: nothing new is demanded
            self.add("info", code, p, f"{flag} made explicit (primaryKey implies it)", was, now, spot)
        else:
            self.add("info", code, p, f"{flag} is no longer demanded", was, now, spot)

    def type_options(self, path: str, old: dict[str, Any], new: dict[str, Any], at: _Where) -> None:
        for key in [*old, *(k for k in new if k not in old)]:
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            p, spot = f"{path}.logicalTypeOptions.{key}", (*at, "logicalTypeOptions", key)
            if key in _LOWER_BOUNDS or key in _UPPER_BOUNDS:
                if a is None:
                    self.add("breaking", "constraint.added", p, f"{key} {b!r} added", a, b, spot)
                elif b is None:
                    self.add("info", "constraint.removed", p, f"{key} {a!r} removed", a, b, spot)
                else:
                    try:
                        tighter = bool(b > a) if key in _LOWER_BOUNDS else bool(b < a)
                    except TypeError:
                        tighter = True  # values of different kinds: assume the worst
                    if tighter:
                        self.add("breaking", "constraint.tightened", p, f"{key} tightened: {a!r} -> {b!r}", a, b, spot)
                    else:
                        self.add("info", "constraint.loosened", p, f"{key} loosened: {a!r} -> {b!r}", a, b, spot)
            elif key in ("pattern", "format"):
                if b is None:
                    self.add("info", "constraint.removed", p, f"{key} {a!r} removed", a, b, spot)
                elif a is None:
                    self.add("breaking", "constraint.added", p, f"{key} {b!r} added", a, b, spot)
                else:
                    msg = f"{key} changed: {a!r} -> {b!r}; values valid before may not match"
                    self.add("breaking", "constraint.tightened", p, msg, a, b, spot)
            else:
                self.add("warning", "constraint.changed", p, f"{key} changed: {a!r} -> {b!r}", a, b, spot)

    # quality rules, matched by id, else by metric (or type) within their property or object
    def quality(
        self, path: str, old_list: list[DataQuality] | None, new_list: list[DataQuality] | None, at: _Where
    ) -> None:
        def key(q: DataQuality) -> str:
            return str(q.id or q.metric or q.rule or q.type or "rule")

        olds, news = _keyed(old_list, key), _keyed(new_list, key)
        for k, (_, q) in olds.items():
            if k not in news:
                msg = f"quality rule {k} removed; consumers lose the guarantee it gave"
                self.add("warning", "quality.removed", f"{path}.{k}", msg, q, None, at)
        for k, (j, q) in news.items():
            if k not in olds:
                msg = f"quality rule {k} added; data that passed before may fail it"
                self.add("breaking", "quality.added", f"{path}.{k}", msg, None, q, (*at, j))
            else:
                self.rule(f"{path}.{k}", olds[k][1], q, (*at, j))

    def rule(self, path: str, old: DataQuality, new: DataQuality, at: _Where) -> None:
        a, b = old.metric or old.rule or old.type, new.metric or new.rule or new.type
        if a != b:
            msg = f"the rule now checks {b} instead of {a}"
            self.add("breaking", "quality.metric", f"{path}.metric", msg, a, b, (*at, "metric"))
            return
        a, b = (old.unit or "rows").lower(), (new.unit or "rows").lower()
        if a != b:
            msg = f"unit changed from {a} to {b}; compare the thresholds by hand"
            self.add("warning", "quality.unit", f"{path}.unit", msg, old.unit, new.unit, (*at, "unit"))
        else:
            self.threshold(path, old, new, at)
        self.arguments(path, old.arguments or {}, new.arguments or {}, (*at, "arguments"))
        if old.query != new.query:
            msg = "the rule's query changed; check whether it is stricter"
            self.add("warning", "quality.query", f"{path}.query", msg, old.query, new.query, (*at, "query"))
        a, b = (old.severity or "warning").lower(), (new.severity or "warning").lower()
        if a != b:
            raised = _SEVERITY_RANK.get(b, 1) > _SEVERITY_RANK.get(a, 1)
            msg = f"severity {'raised' if raised else 'lowered'} from {a} to {b}"
            p, spot = f"{path}.severity", (*at, "severity")
            self.add("warning" if raised else "info", "quality.severity", p, msg, old.severity, new.severity, spot)
        handled = ("id", "metric", "rule", "type", "unit", "arguments", "query", "severity", *OPERATORS)
        for attr, name in _fields(new, handled):
            self.meta(f"{path}.{name}", getattr(old, attr), getattr(new, attr), (*at, name))

    def threshold(self, path: str, old: DataQuality, new: DataQuality, at: _Where) -> None:
        t_old, t_new = _rule_threshold(old), _rule_threshold(new)
        if t_old == t_new or t_new is None:
            return
        p, spot, now = f"{path}.threshold", (*at, t_new.operator), t_new.to_dict()
        if t_old is None:
            self.add("breaking", "quality.threshold", p, f"threshold {t_new.describe()} added", None, now, spot)
            return
        integral = (old.unit or "rows").lower() == "rows" and (old.metric or old.rule) in (*ROW_METRICS, "rowCount")
        stricter = _stricter(t_old, t_new, integral=integral)
        change = f"{t_old.describe()} -> {t_new.describe()}"
        kind: Kind
        if stricter is None:
            kind, msg = "warning", f"threshold changed: {change}; check whether it is stricter"
        elif stricter:
            kind, msg = "breaking", f"threshold made stricter: {change}"
        else:
            kind, msg = "info", f"threshold loosened: {change}"
        self.add(kind, "quality.threshold", p, msg, t_old.to_dict(), now, spot)

    def arguments(self, path: str, old: dict[str, Any], new: dict[str, Any], at: _Where) -> None:
        for key in [*old, *(k for k in new if k not in old)]:
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            p, spot, code = f"{path}.arguments.{key}", (*at, key), "quality.arguments"
            if key in ("validValues", "missingValues", "properties") and isinstance(a, list) and isinstance(b, list):
                gone, came = [v for v in a if v not in b], [v for v in b if v not in a]
                # Fewer valid values, more values that count as missing, or a uniqueness key
                # over fewer columns: data that passed may now fail.
                tighter = came if key == "missingValues" else gone
                detail = ", ".join(x for x in (f"removed {gone}" if gone else "", f"added {came}" if came else "") if x)
                if tighter:
                    self.add("breaking", code, p, f"{key} tightened: {detail}", a, b, spot)
                else:
                    self.add("info", code, p, f"{key} loosened: {detail or 'reordered'}", a, b, spot)
            elif key == "pattern" and b is None:
                self.add("info", code, p, f"pattern {a!r} removed", a, b, spot)
            elif key == "pattern":
                self.add("breaking", code, p, f"pattern set to {b!r} (was {a!r})", a, b, spot)
            else:
                self.add("warning", code, p, f"argument {key} changed: {a!r} -> {b!r}", a, b, spot)

    # SLAs: a stricter freshness is breaking, everything else is information
    def slas(self) -> None:
        def key(s: ServiceLevelAgreementProperty) -> str:
            return str(s.id or s.property or "sla")

        olds, news = _keyed(self.old.model.slaProperties, key), _keyed(self.new.model.slaProperties, key)
        for k, (_, sla) in olds.items():
            if k not in news:
                self.add("info", "sla.removed", f"slaProperties.{k}", f"SLA {k} removed", sla, None, ("slaProperties",))
        for k, (j, sla) in news.items():
            at: _Where = ("slaProperties", j)
            p = f"slaProperties.{k}"
            fresh = (sla.property or "").lower() in _FRESHNESS
            if k not in olds:
                if fresh:
                    msg = f"freshness SLA of {sla.value} {sla.unit or 'd'} added; stale data now fails"
                    self.add("breaking", "sla.freshness", p, msg, None, sla, at)
                else:
                    self.add("info", "sla.added", p, f"SLA {k} added", None, sla, at)
                continue
            old = olds[k][1]
            before, after = _max_age(old), _max_age(sla)
            if fresh and (old.property or "").lower() in _FRESHNESS and before and after and after < before:
                msg = f"freshness made stricter: {old.value} {old.unit or 'd'} -> {sla.value} {sla.unit or 'd'}"
                self.add("breaking", "sla.freshness", f"{p}.value", msg, old, sla, (*at, "value"))
                for attr, name in _fields(sla, ("value", "unit")):
                    self.meta(f"{p}.{name}", getattr(old, attr), getattr(sla, attr), (*at, name))
            else:
                self.meta(p, old, sla, at)

    def version_bump(self) -> None:
        breaking = sum(c.kind == "breaking" for c in self.changes)
        if not breaking:
            return
        a, b = self.old.version, self.new.version
        before, after = _semver(a), _semver(b)
        if before is None or after is None:
            msg = (
                f"{breaking} breaking change(s); cannot check the version bump: {a!r} -> {b!r} is not MAJOR.MINOR.PATCH"
            )
            self.add("warning", "version.unchecked", "version", msg, a, b, ("version",))
        elif after[0] <= before[0]:
            msg = (
                f"{breaking} breaking change(s) but the major version did not increase ({a} -> {b}); "
                f"release it as {before[0] + 1}.0.0"
            )
            self.add("warning", "version.not_bumped", "version", msg, a, b, ("version",))


def _rule_threshold(q: DataQuality) -> Threshold | None:
    """The rule's threshold, with the same defaults as :func:`compile_rules`."""
    for op in OPERATORS:
        value = getattr(q, op)
        if value is not None:
            return Threshold(op, value)
    metric = q.metric or q.rule
    if (q.type or "library") == "library" and metric in LIBRARY_METRICS:
        return Threshold("mustBeGreaterThan", 0) if metric == "rowCount" else Threshold("mustBe", 0)
    return None


# An interval of the real line: (low, low included, high, high included).
_Interval = tuple[float, bool, float, bool]
_INF = math.inf


def _accepted(t: Threshold) -> list[_Interval] | None:
    """The metric values ``t`` accepts as disjoint intervals, or None when not numeric."""
    op, v = t.operator, t.value
    pair = op in ("mustBeBetween", "mustNotBeBetween")
    values = list(v) if pair and isinstance(v, (list, tuple)) else [v]
    if len(values) != (2 if pair else 1) or any(isinstance(x, bool) for x in values):
        return None
    try:
        numbers = [float(x) for x in values]
    except (TypeError, ValueError):
        return None
    x = lo = numbers[0]
    hi = numbers[-1]
    if op == "mustBe":
        return [(x, True, x, True)]
    if op == "mustNotBe":
        return [(-_INF, False, x, False), (x, False, _INF, False)]
    if op == "mustBeGreaterThan":
        return [(x, False, _INF, False)]
    if op == "mustBeGreaterOrEqualTo":
        return [(x, True, _INF, False)]
    if op == "mustBeLessThan":
        return [(-_INF, False, x, False)]
    if op == "mustBeLessOrEqualTo":
        return [(-_INF, False, x, True)]
    if op == "mustBeBetween":
        return [(lo, True, hi, True)]
    if op == "mustNotBeBetween":
        return [(-_INF, False, lo, False), (hi, False, _INF, False)]
    return None


def _integral(iv: _Interval) -> _Interval:
    """The same interval over the integers, with closed finite ends (``> 3`` is ``>= 4``)."""
    lo, lo_in, hi, hi_in = iv
    if math.isfinite(lo):
        lo = float(math.floor(lo) + 1) if not lo_in and lo == math.floor(lo) else float(math.ceil(lo))
        lo_in = True
    if math.isfinite(hi):
        hi = float(math.ceil(hi) - 1) if not hi_in and hi == math.ceil(hi) else float(math.floor(hi))
        hi_in = True
    return lo, lo_in, hi, hi_in


def _empty(iv: _Interval) -> bool:
    lo, lo_in, hi, hi_in = iv
    return lo > hi or (lo == hi and not (lo_in and hi_in))


def _inside(small: _Interval, big: _Interval) -> bool:
    s_lo, s_lo_in, s_hi, s_hi_in = small
    b_lo, b_lo_in, b_hi, b_hi_in = big
    low_ok = b_lo < s_lo or (b_lo == s_lo and (b_lo_in or not s_lo_in))
    high_ok = s_hi < b_hi or (s_hi == b_hi and (b_hi_in or not s_hi_in))
    return low_ok and high_ok


def _stricter(old: Threshold, new: Threshold, *, integral: bool) -> bool | None:
    """Whether some metric value the old threshold accepted is refused by the new one.

    ``None`` when the thresholds are not numeric (a ``mustBe`` on a string, say).
    """
    before, after = _accepted(old), _accepted(new)
    if before is None or after is None:
        return None if old != new else False
    if integral:
        before, after = [_integral(iv) for iv in before], [_integral(iv) for iv in after]
    # Each accepted interval is connected, so it is covered iff one new interval holds it.
    return any(not _empty(iv) and not any(_inside(iv, big) for big in after) for iv in before)


def _max_age(sla: ServiceLevelAgreementProperty) -> float | None:
    unit = (sla.unit or "d").lower()
    if unit not in _TIME_UNITS or isinstance(sla.value, bool):
        return None
    try:
        return float(sla.value) * _TIME_UNITS[unit]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


# -- table schemas ------------------------------------------------------------------------


def diff_schemas(table: LakeTable, old: AsOf, new: AsOf | None = None) -> list[Change]:
    """Classified changes between the schemas of two snapshots of ``table``.

    ``old`` and ``new`` are snapshot ids, tags or timestamps; ``new=None`` means the
    table's current schema. Columns (nested ones too) are matched by Iceberg field id, so
    a rename shows as a rename. Paths are column names (``address.city``), with
    ``.type``, ``.required`` or ``.doc`` for a change of that attribute.
    """
    ice = table.iceberg
    name = str(table.name)
    before = _schema_at(ice, old, name)
    after = ice.schema() if new is None else _schema_at(ice, new, name)
    return _diff_iceberg(before, after)


def _schema_at(ice: Table, as_of: AsOf, name: str) -> Schema:
    from odg_workbench.lakehouse.timetravel import resolve_snapshot

    snap = resolve_snapshot(ice, as_of, name=name)
    if snap.schema_id is not None:
        for schema in ice.metadata.schemas:
            if schema.schema_id == snap.schema_id:
                return schema
    return ice.schema()  # format-v1 snapshots may not record their schema


@dataclass(frozen=True)
class _Column:
    path: str
    name: str
    type: IcebergType
    required: bool
    doc: str | None
    parent: int | None


def _columns(schema: Schema) -> dict[int, _Column]:
    """Every field (nested, list elements, map keys and values) by field id, in schema order."""
    out: dict[int, _Column] = {}

    def walk(fields: Iterable[Any], prefix: str, parent: int | None) -> None:
        for f in fields:
            path = f"{prefix}{f.name}"
            out[f.field_id] = _Column(path, f.name, f.field_type, bool(f.required), f.doc, parent)
            walk(_children(f.field_type), f"{path}.", f.field_id)

    walk(schema.fields, "", None)
    return out


def _children(t: IcebergType) -> list[Any]:
    from pyiceberg.types import ListType, MapType, StructType

    if isinstance(t, StructType):
        return list(t.fields)
    if isinstance(t, ListType):
        return [t.element_field]
    if isinstance(t, MapType):
        return [t.key_field, t.value_field]
    return []


def _promotion(old: IcebergType, new: IcebergType) -> bool:
    """Iceberg's allowed type promotions: int -> long, float -> double, decimal precision up."""
    from pyiceberg.types import DecimalType, DoubleType, FloatType, IntegerType, LongType

    if isinstance(old, IntegerType) and isinstance(new, LongType):
        return True
    if isinstance(old, FloatType) and isinstance(new, DoubleType):
        return True
    return (
        isinstance(old, DecimalType)
        and isinstance(new, DecimalType)
        and old.scale == new.scale
        and old.precision < new.precision
    )


def _diff_iceberg(before: Schema, after: Schema) -> list[Change]:
    old, new = _columns(before), _columns(after)
    changes: list[Change] = []

    def add(kind: Kind, code: str, path: str, message: str, was: Any, now: Any) -> None:
        changes.append(Change(kind, path, message, was, now, None, code))

    for fid, col in old.items():
        if fid not in new and (col.parent is None or col.parent in new):  # a dropped parent says it all
            add("breaking", "column.removed", col.path, f"column {col.path} ({col.type}) removed", str(col.type), None)
    for fid, col in new.items():
        was = old.get(fid)
        if was is None:
            if col.parent is None or col.parent in old:
                if col.required:
                    msg = f"required column {col.path} ({col.type}) added; writers that lack it fail"
                    add("breaking", "column.added_required", col.path, msg, None, str(col.type))
                else:
                    add("info", "column.added", col.path, f"column {col.path} ({col.type}) added", None, str(col.type))
            continue
        if was.name != col.name:
            msg = f"column {was.path} renamed to {col.path}; queries that name it break"
            add("breaking", "column.renamed", was.path, msg, was.path, col.path)
        # Nested types of the same kind differ through their fields, reported one by one.
        if was.type != col.type and not (type(was.type) is type(col.type) and _children(col.type)):
            a, b = str(was.type), str(col.type)
            if _promotion(was.type, col.type):
                msg = f"column {col.path} promoted from {a} to {b}; readers with a fixed schema need the wider type"
                add("warning", "column.promoted", f"{col.path}.type", msg, a, b)
            else:
                msg = f"column {col.path} changed from {a} to {b}, which is not an Iceberg promotion"
                add("breaking", "column.type", f"{col.path}.type", msg, a, b)
        if was.required != col.required:
            if col.required:
                msg = f"column {col.path} is now required; writers of nulls fail"
                add("breaking", "column.required", f"{col.path}.required", msg, False, True)
            else:
                msg = f"column {col.path} is now optional; readers may see nulls"
                add("info", "column.optional", f"{col.path}.required", msg, True, False)
        if (was.doc or None) != (col.doc or None):
            add("info", "column.doc", f"{col.path}.doc", f"column {col.path} doc changed", was.doc, col.doc)
    return changes


# -- lint ---------------------------------------------------------------------------------


def lint(contract_path: str | os.PathLike[str]) -> list[Finding]:
    """Everything wrong or missing in a contract file, by line; never raises for a bad file.

    Errors: the file cannot be read or parsed, fails the ODCS schema, or its rules do not
    compile. Warnings: properties without ``logicalType``, quality rules without ``id``,
    ``dimension`` or ``severity``, no ``version`` (or not MAJOR.MINOR.PATCH), no owner
    (``team``), no ``status``, repeated property or object names, repeated YAML keys, an
    ``invalidValues`` rule with an empty ``validValues``, a ``primaryKey`` that is not
    ``required``. Info: no quality rules at all. Sorted by line.
    """
    path = Path(contract_path)
    source = str(path)
    findings: list[Finding] = []
    contract: Contract | None = None
    try:
        contract = load_contract(path)
    except ContractError as exc:
        findings.extend(_error_findings(exc, source))
    except Exception as exc:  # a validator bug must not hide the file's other findings
        findings.append(Finding("error", "(document)", None, f"cannot validate: {type(exc).__name__}: {exc}"))
    if contract is not None:
        raw: Any = contract.raw
        lines = contract.lines
        for obj in contract.objects:
            try:
                compile_rules(contract, obj.name or obj.physicalName)
            except ContractError as exc:
                findings.extend(_error_findings(exc, source))
            except Exception as exc:
                findings.append(
                    Finding("error", "schema", None, f"cannot compile the rules: {type(exc).__name__}: {exc}")
                )
    text = _read_text(path)
    if contract is None:
        raw, lines = _parse(text), (_line_map(text) if text is not None else {})
    if text is not None:
        findings.extend(_duplicate_keys(text))
    if isinstance(raw, dict):
        errors = [f for f in findings if f.level == "error"]
        findings.extend(_Checks(raw, lines, errors).run())
    order = {level: i for i, level in enumerate(LEVELS)}
    findings = list(dict.fromkeys(findings))  # objects of the same name compile the same rules
    return sorted(findings, key=lambda f: (f.line is None, f.line or 0, order[f.level]))


def _error_findings(exc: ContractError, source: str) -> list[Finding]:
    errors = exc.details.get("errors")
    if errors:
        return [Finding("error", e["field"], e["line"], f"{e['field']}: {e['message']}") for e in errors]
    # Drop the "file:line:column: " the message starts with: Finding.format adds its own.
    message = re.sub(rf"^{re.escape(source)}(?::\d+)*(?::None)?: ", "", exc.message)
    return [Finding("error", str(exc.details.get("field", "(document)")), exc.details.get("line"), message)]


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _parse(text: str | None) -> Any:
    import yaml

    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _duplicate_keys(text: str) -> list[Finding]:
    """YAML keeps the last of two equal keys silently; the first one is usually a mistake."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    out: list[Finding] = []

    def walk(node: Any, path: tuple[str | int, ...], depth: int) -> None:
        if depth > 200:
            return
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name = str(key.value)
                line = key.start_mark.line + 1
                if name in seen:
                    out.append(
                        Finding(
                            "warning",
                            _dotted((*path, name)),
                            line,
                            f"key {name!r} repeated (first at line {seen[name]}); YAML keeps only this one",
                        )
                    )
                else:
                    seen[name] = line
                walk(value, (*path, name), depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i), depth + 1)

    if root is not None:
        walk(root, (), 0)
    return out


class _Checks:
    """The lint warnings, read from the raw document so they work on invalid contracts too."""

    def __init__(self, raw: dict[str, Any], lines: dict[tuple[str | int, ...], int], errors: list[Finding]) -> None:
        self.raw, self.lines = raw, lines
        self.reported = " ".join(f"{f.path} {f.message}" for f in errors)  # not repeated as warnings
        self.findings: list[Finding] = []
        self.rules = 0

    def line(self, path: tuple[str | int, ...]) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def add(self, level: Level, path: tuple[str | int, ...], message: str) -> None:
        self.findings.append(Finding(level, _dotted(path), self.line(path), message))

    def run(self) -> list[Finding]:
        raw = self.raw
        version = raw.get("version")
        if version in (None, ""):
            if "'version'" not in self.reported:
                self.add("warning", ("version",), "no version; add one (MAJOR.MINOR.PATCH) so changes can be tracked")
        elif _semver(str(version)) is None:
            self.add(
                "warning",
                ("version",),
                f"version {version!r} is not MAJOR.MINOR.PATCH; contract diff cannot check major version bumps",
            )
        if not raw.get("team"):
            self.add("warning", ("team",), "no owner: add team (name and members) so consumers know whom to ask")
        if not raw.get("status"):
            self.add("warning", ("status",), "no status: add one (proposed, draft, active, deprecated, retired)")
        objects = raw.get("schema")
        if isinstance(objects, list):
            seen: dict[str, int] = {}
            for i, obj in enumerate(objects):
                if not isinstance(obj, dict):
                    continue
                base: tuple[str | int, ...] = ("schema", i)
                name = obj.get("name")
                if isinstance(name, str) and name in seen:
                    self.add("warning", (*base, "name"), f"object name {name!r} repeated (first at index {seen[name]})")
                elif isinstance(name, str):
                    seen[name] = i
                self.properties(obj.get("properties"), (*base, "properties"))
                self.quality(obj.get("quality"), (*base, "quality"))
        if not self.rules:
            self.add(
                "info",
                ("schema",) if "schema" in raw else (),
                "no quality rules; only the property shorthands (required, unique, logicalTypeOptions) are checked",
            )
        return self.findings

    def properties(self, props: Any, base: tuple[str | int, ...]) -> None:
        if not isinstance(props, list):
            return
        seen: dict[str, int | None] = {}
        for j, prop in enumerate(props):
            if not isinstance(prop, dict):
                continue
            path = (*base, j)
            name = prop.get("name")
            label = repr(name) if name else f"#{j + 1}"
            if isinstance(name, str) and name in seen:
                first = seen[name]
                self.add(
                    "warning",
                    (*path, "name"),
                    f"property name {name!r} repeated" + (f" (first at line {first})" if first else ""),
                )
            elif isinstance(name, str):
                seen[name] = self.line((*path, "name"))
            if not prop.get("logicalType") and f"{_dotted((*path, 'logicalType'))} " not in self.reported:
                self.add("warning", path, f"property {label} has no logicalType; type checks and diffs cannot see it")
            if prop.get("primaryKey") is True and prop.get("required") is not True:
                self.add(
                    "warning",
                    (*path, "primaryKey"),
                    f"property {label} is a primaryKey but not required; add required: true (a key cannot be null)",
                )
            self.quality(prop.get("quality"), (*path, "quality"))
            self.properties(prop.get("properties"), (*path, "properties"))

    def quality(self, rules: Any, base: tuple[str | int, ...]) -> None:
        if not isinstance(rules, list):
            return
        for k, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            self.rules += 1
            path = (*base, k)
            missing = [f for f in ("id", "dimension", "severity") if not rule.get(f)]
            if missing:
                why = {
                    "id": "an id keeps the rule's history and diff identity",
                    "dimension": "the score uses a default dimension",
                    "severity": "it defaults to warning",
                }
                self.add(
                    "warning",
                    path,
                    f"quality rule without {', '.join(missing)} ({'; '.join(why[m] for m in missing)})",
                )
            args = rule.get("arguments")
            metric = rule.get("metric") or rule.get("rule")
            if metric == "invalidValues" and isinstance(args, dict) and args.get("validValues") == []:
                self.add(
                    "warning",
                    (*path, "arguments", "validValues"),
                    "validValues is empty: every non-null value is invalid",
                )
