"""Open Data Contract Standard (ODCS v3) contracts: load, validate, compile to rules.

A contract is validated twice: against the standard's own JSON Schema (shipped in the
``open-data-contract-standard`` package, draft 2019-09), then parsed into the package's
pydantic model. Every error names the file, the line and the field, e.g.::

    orders.odcs.yaml:14: schema[0].properties[2].quality[0].mustBeBetween: [0] is too short

:func:`compile_rules` turns the contract's quality section and its property shorthands
(``required``, ``unique``, ``primaryKey``, ``logicalTypeOptions``) plus its freshness SLA
into :class:`~odg_workbench.quality.rules.Rule` objects, the one input of every engine.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import ContractError
from odg_workbench.quality.rules import (
    DEFAULT_DIMENSION,
    LIBRARY_METRICS,
    ODCS_DIMENSIONS,
    OPERATORS,
    Rule,
    Threshold,
)

if TYPE_CHECKING:
    from open_data_contract_standard.model import (
        DataQuality,
        OpenDataContractStandard,
        SchemaObject,
        SchemaProperty,
    )

__all__ = ["Contract", "compile_rules", "load_contract"]

# Units of a freshness SLA (ODCS examples use d, h, m, and long names) in seconds.
_TIME_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "y": 31536000,
    "yr": 31536000,
    "year": 31536000,
    "years": 31536000,
}

# logicalTypeOptions that become validity rules, and how each is checked.
_TYPE_OPTIONS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "minLength", "maxLength")


@dataclass
class Contract:
    """A validated ODCS contract and where it came from."""

    model: OpenDataContractStandard
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return self.model.id or (self.path.stem if self.path else "contract")

    @property
    def version(self) -> str:
        return self.model.version or ""

    @property
    def name(self) -> str:
        return self.model.name or self.id

    @property
    def objects(self) -> list[SchemaObject]:
        return list(self.model.schema_ or [])

    @property
    def source(self) -> str:
        return str(self.path) if self.path else "<contract>"

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        """The 1-based line where the element at ``path`` starts (its closest known parent)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def object(self, name: str | None = None) -> tuple[int, SchemaObject]:
        """The schema object to check: the only one, or the one named ``name``."""
        objects = self.objects
        if not objects:
            raise ContractError(f"{self.source}: the contract has no schema objects to check", path=self.source)
        if name is None:
            if len(objects) == 1:
                return 0, objects[0]
            names = [str(o.name) for o in objects]
            raise ContractError(
                f"{self.source}: the contract describes {len(objects)} objects ({', '.join(map(str, names))}); "
                "say which one to check",
                path=self.source,
                expected=names,
            )
        for i, obj in enumerate(objects):
            if name in (obj.name, obj.physicalName):
                return i, obj
        names = [str(o.name) for o in objects]
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; it has {', '.join(names)}"
        raise ContractError(
            f"{self.source}: no schema object named {name!r}{hint}", path=self.source, found=name, expected=names
        )

    def custom_property(self, name: str) -> Any:
        for prop in self.model.customProperties or []:
            if prop.property == name:
                return prop.value
        return None

    def to_yaml(self) -> str:
        return self.model.to_yaml()


@cache
def _validator() -> Any:
    from importlib.resources import files

    import jsonschema  # type: ignore[import-untyped]

    # The standard's own JSON Schema, as shipped in the package (its json_schema() helper
    # uses a deprecated importlib API).
    schema = json.loads(files("open_data_contract_standard").joinpath("schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft201909Validator(schema)


def _line_map(text: str) -> dict[tuple[str | int, ...], int]:
    """JSON path -> 1-based line of every mapping key and sequence item of a YAML text."""
    import yaml

    lines: dict[tuple[str | int, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                lines[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def load_contract(source: str | os.PathLike[str] | dict[str, Any] | Contract) -> Contract:
    """Load and validate an ODCS v3 contract from a YAML/JSON file, a YAML string or a dict."""
    if isinstance(source, Contract):
        return source
    import yaml

    path: Path | None = None
    text: str | None = None
    if isinstance(source, dict):
        data: Any = source
    else:
        as_text = str(source)
        if isinstance(source, os.PathLike) or ("\n" not in as_text and not as_text.lstrip().startswith("{")):
            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise ContractError(f"contract file not found: {path}", path=str(path)) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ContractError(f"cannot read contract {path}: {exc}", path=str(path)) from exc
        else:
            text = as_text
        where = str(path) if path else "<contract>"
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            column = mark.column + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise ContractError(
                f"{where}:{line}:{column}: invalid YAML: {problem}" if line else f"{where}: invalid YAML: {problem}",
                path=where,
                line=line,
                column=column,
            ) from exc
    where = str(path) if path else "<contract>"
    if not isinstance(data, dict):
        raise ContractError(
            f"{where}: a contract is a mapping (apiVersion, kind, id, schema ...), found {type(data).__name__}",
            path=where,
            line=1,
        )
    lines = _line_map(text) if text is not None else {}

    _precheck(data, where, lines)
    fingerprint = _fingerprint(data)
    errors = (
        []
        if fingerprint in _VALID
        else sorted(_validator().iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    )
    if errors:
        import jsonschema

        best = _most_specific(errors) or jsonschema.exceptions.best_match(errors)
        ordered = [best] + [e for e in errors if e is not best]
        found = [_describe(err, lines) for err in ordered[:20]]
        first = found[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        loc = f"{where}:{first['line']}" if first["line"] else where
        raise ContractError(
            f"{loc}: {first['field']}: {first['message']}{more}",
            path=where,
            line=first["line"],
            field=first["field"],
            errors=found,
        )

    from open_data_contract_standard.model import OpenDataContractStandard
    from pydantic import ValidationError

    try:
        model = OpenDataContractStandard.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        epath = tuple(err["loc"])
        field_name = _dotted(tuple(p if isinstance(p, int) else str(p) for p in epath))
        line = lines.get(tuple(p if isinstance(p, int) else str(p) for p in epath))
        raise ContractError(
            f"{where}:{line}: {field_name}: {err['msg']}" if line else f"{where}: {field_name}: {err['msg']}",
            path=where,
            line=line,
            field=field_name,
        ) from exc
    if len(_VALID) >= 256:
        _VALID.clear()
    _VALID.add(fingerprint)
    return Contract(model=model, path=path, raw=data, lines=lines)


# Fingerprints of contracts that passed the standard's JSON Schema: checking the same
# contract again (a check per table, per run) skips the schema walk (~30 ms).
_VALID: set[str] = set()


def _fingerprint(data: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


_UNEXPECTED = re.compile(r"\('([^']+)'(?:, '[^']+')* (?:was|were) unexpected\)")


_VAGUE = {"unevaluatedProperties", "oneOf", "anyOf", "allOf", "if", "then", "required"}


def _most_specific(errors: list[Any]) -> Any:
    """The deepest concrete error, looking inside oneOf/anyOf branches: the ODCS schema's
    conditional branches otherwise report "unevaluated properties" on the parent."""
    flat: list[Any] = []
    stack = list(errors)
    while stack:
        err = stack.pop()
        flat.append(err)
        stack.extend(err.context or [])
    concrete = [e for e in flat if e.validator not in _VAGUE]
    if not concrete:
        return None
    return max(concrete, key=lambda e: len(e.absolute_path))


def _describe(err: Any, lines: dict[tuple[str | int, ...], int]) -> dict[str, Any]:
    """Field, line and message of one JSON Schema error (the offending key's line when known)."""
    epath = tuple(err.absolute_path)
    m = _UNEXPECTED.search(err.message)
    if m and (*epath, m.group(1)) in lines:
        epath = (*epath, m.group(1))
    line = None
    probe = epath
    while line is None:
        line = lines.get(probe)
        if not probe:
            break
        probe = probe[:-1]
    return {"field": _dotted(epath), "line": line, "message": _short(err.message)}


def _precheck(data: dict[str, Any], where: str, lines: dict[tuple[str | int, ...], int]) -> None:
    """Friendlier errors than the JSON Schema's for the most common mistakes.

    The ODCS schema's conditional branches turn a misspelt metric or a property without
    ``logicalType`` into messages such as "'map' is a required property"; these are
    caught first and explained.
    """
    schema = data.get("schema")
    if not isinstance(schema, list):
        return
    for o_i, obj in enumerate(schema):
        if not isinstance(obj, dict):
            continue
        items: list[tuple[tuple[str | int, ...], Any]] = [
            (("schema", o_i, "quality", q_i), q) for q_i, q in enumerate(_list(obj.get("quality")))
        ]
        for p_i, prop in enumerate(_list(obj.get("properties"))):
            if not isinstance(prop, dict):
                continue
            ppath: tuple[str | int, ...] = ("schema", o_i, "properties", p_i)
            if "logicalType" not in prop:
                line = lines.get(ppath)
                raise ContractError(
                    f"{where}:{line}: {_dotted(ppath)} ({prop.get('name', '?')}): logicalType is missing; the ODCS v3 "
                    "schema needs one of string, date, timestamp, time, number, integer, object, array, boolean"
                    if line
                    else f"{where}: {_dotted(ppath)} ({prop.get('name', '?')}): logicalType is missing; the ODCS v3 "
                    "schema needs one of string, date, timestamp, time, number, integer, object, array, boolean",
                    path=where,
                    line=line,
                    field=f"{_dotted(ppath)}.logicalType",
                )
            items += [((*ppath, "quality", q_i), q) for q_i, q in enumerate(_list(prop.get("quality")))]
        for qpath, q in items:
            if not isinstance(q, dict):
                continue
            line = lines.get(qpath)
            loc = f"{where}:{line}: {_dotted(qpath)}" if line else f"{where}: {_dotted(qpath)}"
            kind = q.get("type", "library")
            metric = q.get("metric", q.get("rule"))
            if kind == "library" and metric is not None and metric not in LIBRARY_METRICS:
                close = difflib.get_close_matches(str(metric), LIBRARY_METRICS, n=2)
                hint = (
                    f"; did you mean {' or '.join(close)}?"
                    if close
                    else f"; expected one of {', '.join(LIBRARY_METRICS)}"
                )
                raise ContractError(
                    f"{loc}: unknown metric {metric!r}{hint}",
                    path=where,
                    line=lines.get((*qpath, "metric"), line),
                    field=f"{_dotted(qpath)}.metric",
                    expected=list(LIBRARY_METRICS),
                    found=metric,
                )
            given = [op for op in OPERATORS if q.get(op) is not None]
            if not given and kind in ("library", "sql") and not any(str(k).startswith("must") for k in q):
                raise ContractError(
                    f"{loc}: the rule needs an operator, one of {', '.join(OPERATORS)} "
                    "(e.g. mustBe: 0 for no failing rows)",
                    path=where,
                    line=line,
                    field=f"{_dotted(qpath)}.operator",
                    expected=list(OPERATORS),
                )
            if len(given) > 1:
                raise ContractError(
                    f"{loc}: a rule takes one operator, found {', '.join(given)}",
                    path=where,
                    line=line,
                    field=f"{_dotted(qpath)}.operator",
                )
            unknown = [str(k) for k in q if str(k).startswith("must") and k not in OPERATORS]
            if unknown:
                close = difflib.get_close_matches(unknown[0], OPERATORS, n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; expected one of {', '.join(OPERATORS)}"
                raise ContractError(
                    f"{loc}: unknown operator {unknown[0]!r}{hint}",
                    path=where,
                    line=lines.get((*qpath, unknown[0]), line),
                    field=f"{_dotted(qpath)}.{unknown[0]}",
                    found=unknown[0],
                    expected=list(OPERATORS),
                )


def _list(value: Any) -> list[Any]:
    """A YAML list, or nothing: other shapes are left for the schema validation to report."""
    return value if isinstance(value, list) else []


def _short(message: str, limit: int = 240) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


# -- compiling rules --------------------------------------------------------------------


def _threshold(q: DataQuality, where: str, line: int | None, default: Threshold | None) -> Threshold:
    given = [(op, getattr(q, op)) for op in OPERATORS if getattr(q, op) is not None]
    if len(given) > 1:
        raise ContractError(
            f"{where}: a rule takes one operator, found {', '.join(op for op, _ in given)}",
            path=where,
            line=line,
            field="operator",
        )
    if given:
        op, value = given[0]
        return Threshold(op, value)
    if default is None:
        raise ContractError(
            f"{where}: the rule needs an operator ({', '.join(OPERATORS)})", path=where, line=line, field="operator"
        )
    return default


def _dimension(q_dimension: str | None, metric: str) -> tuple[str, str | None]:
    if q_dimension:
        return ODCS_DIMENSIONS.get(q_dimension, q_dimension), q_dimension
    return DEFAULT_DIMENSION[metric], None


class _Ids:
    """Rule ids: the contract's ``id`` when given, else a readable one made unique."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def take(self, explicit: str | None, generated: str, where: str, line: int | None) -> str:
        if explicit:
            if explicit in self.seen:
                raise ContractError(f"{where}: duplicate rule id {explicit!r}", path=where, line=line, field="id")
            self.seen.add(explicit)
            return explicit
        rid, n = generated, 2
        while rid in self.seen:
            rid, n = f"{generated}#{n}", n + 1
        self.seen.add(rid)
        return rid


def compile_rules(contract: Contract, object_name: str | None = None) -> list[Rule]:
    """Every rule of one schema object, in contract order (shorthands before quality lists)."""
    idx, obj = contract.object(object_name)
    oname = obj.name or f"object{idx}"
    src = contract.source
    ids = _Ids()
    rules: list[Rule] = []
    base: tuple[str | int, ...] = ("schema", idx)

    for p_i, prop in enumerate(obj.properties or []):
        ppath = (*base, "properties", p_i)
        pname = prop.physicalName or prop.name
        if not pname:
            raise ContractError(
                f"{src}:{contract.line_of(ppath)}: {_dotted(ppath)}: a property needs a name",
                path=src,
                line=contract.line_of(ppath),
                field=_dotted(ppath),
            )
        rules.extend(_shorthand_rules(contract, oname, pname, prop, ppath, ids))
        for q_i, q in enumerate(prop.quality or []):
            rules.append(_quality_rule(contract, oname, pname, q, (*ppath, "quality", q_i), ids))
    for q_i, q in enumerate(obj.quality or []):
        rules.append(_quality_rule(contract, oname, None, q, (*base, "quality", q_i), ids))
    rules.extend(_freshness_rules(contract, oname, obj, ids))
    return [r for r in rules if r is not None]


def _shorthand_rules(
    contract: Contract, oname: str, pname: str, prop: SchemaProperty, ppath: tuple[str | int, ...], ids: _Ids
) -> list[Rule]:
    src = contract.source
    out: list[Rule] = []

    def add(
        kind: str, metric: str, severity: str, arguments: dict[str, Any], key: tuple[str, ...], threshold: Threshold
    ) -> None:
        path = (*ppath, *key)
        line = contract.line_of(path)
        out.append(
            Rule(
                id=ids.take(None, f"{oname}.{pname}.{kind}", src, line),
                metric=metric,
                object=oname,
                column=pname,
                arguments=arguments,
                threshold=threshold,
                unit="rows",
                severity=severity,
                dimension=DEFAULT_DIMENSION[metric],
                name=kind,
                origin=_dotted(path),
                line=line,
            )
        )

    zero = Threshold("mustBe", 0)
    if prop.required or prop.primaryKey:
        add("required", "nullValues", "error", {}, ("required" if prop.required else "primaryKey",), zero)
    if prop.unique or prop.primaryKey:
        add("unique", "duplicateValues", "error", {}, ("unique" if prop.unique else "primaryKey",), zero)
    options = prop.logicalTypeOptions or {}
    for opt in _TYPE_OPTIONS:
        if opt in options and options[opt] is not None:
            value = options[opt]
            path = (*ppath, "logicalTypeOptions", opt)
            numeric = opt not in ("pattern",)
            if numeric and not isinstance(value, (int, float, str)):
                raise ContractError(
                    f"{src}:{contract.line_of(path)}: {_dotted(path)}: expected a number, found {value!r}",
                    path=src,
                    line=contract.line_of(path),
                    field=_dotted(path),
                )
            add(opt, "invalidValues", "warning", {opt: value}, ("logicalTypeOptions", opt), zero)
    return out


def _quality_rule(
    contract: Contract,
    oname: str,
    pname: str | None,
    q: DataQuality,
    qpath: tuple[str | int, ...],
    ids: _Ids,
) -> Rule:
    src = contract.source
    line = contract.line_of(qpath)
    where = f"{src}:{line}: {_dotted(qpath)}" if line else f"{src}: {_dotted(qpath)}"
    kind = q.type or "library"
    unit = (q.unit or "rows").lower()
    if unit not in ("rows", "percent"):
        raise ContractError(
            f"{where}: unit must be rows or percent, found {q.unit!r}",
            path=src,
            line=line,
            field=f"{_dotted(qpath)}.unit",
            expected=["rows", "percent"],
            found=q.unit,
        )
    severity = (q.severity or "warning").lower()
    if kind == "sql":
        if not q.query:
            raise ContractError(f"{where}: a sql rule needs a query", path=src, line=line, field="query")
        dimension, odcs_dim = _dimension(q.dimension, "sql")
        return Rule(
            id=ids.take(q.id, f"{oname}{'.' + pname if pname else ''}.sql", src, line),
            metric="sql",
            object=oname,
            column=pname,
            arguments=dict(q.arguments or {}),
            threshold=_threshold(q, where, line, None),
            unit="rows",
            severity=severity,
            dimension=dimension,
            odcs_dimension=odcs_dim,
            name=q.name or q.description or "sql",
            description=q.description,
            origin=_dotted(qpath),
            line=line,
            query=q.query,
        )
    if kind in ("text", "custom"):
        # Human-readable text rules and vendor rules (Soda, GX ...) are not executable here.
        return Rule(
            id=ids.take(q.id, f"{oname}{'.' + pname if pname else ''}.{kind}", src, line),
            metric=kind,
            object=oname,
            column=pname,
            arguments={},
            threshold=Threshold("mustBe", 0),
            unit="rows",
            severity=severity,
            dimension=ODCS_DIMENSIONS.get(q.dimension or "", q.dimension or "validity"),
            odcs_dimension=q.dimension,
            name=q.name or kind,
            description=q.description,
            origin=_dotted(qpath),
            line=line,
            executable=False,
        )
    metric = q.metric or q.rule
    if metric not in LIBRARY_METRICS:
        close = difflib.get_close_matches(str(metric), LIBRARY_METRICS, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else f"; expected one of {', '.join(LIBRARY_METRICS)}"
        raise ContractError(
            f"{where}: unknown metric {metric!r}{hint}",
            path=src,
            line=line,
            field=f"{_dotted(qpath)}.metric",
            expected=list(LIBRARY_METRICS),
            found=metric,
        )
    args = dict(q.arguments or {})
    if metric == "rowCount":
        if pname is not None:
            raise ContractError(
                f"{where}: rowCount is a schema-level metric; put it under the object's quality",
                path=src,
                line=line,
            )
        if unit == "percent":
            raise ContractError(f"{where}: rowCount counts rows; unit percent does not apply", path=src, line=line)
        default: Threshold | None = Threshold("mustBeGreaterThan", 0)
    else:
        default = Threshold("mustBe", 0)
    if metric == "invalidValues" and not ({"validValues", "pattern"} & set(args)):
        raise ContractError(
            f"{where}: invalidValues needs the argument validValues and/or pattern",
            path=src,
            line=line,
            field=f"{_dotted(qpath)}.arguments",
        )
    if metric == "invalidValues" and "validValues" in args and not isinstance(args["validValues"], list):
        raise ContractError(
            f"{where}: arguments.validValues must be a list, found {args['validValues']!r}",
            path=src,
            line=line,
            field=f"{_dotted(qpath)}.arguments.validValues",
        )
    if metric == "missingValues":
        missing = args.get("missingValues", [None])
        if not isinstance(missing, list):
            raise ContractError(
                f"{where}: arguments.missingValues must be a list, found {missing!r}",
                path=src,
                line=line,
                field=f"{_dotted(qpath)}.arguments.missingValues",
            )
        args["missingValues"] = missing
    if metric in ("nullValues", "missingValues", "invalidValues") and pname is None:
        raise ContractError(
            f"{where}: {metric} is a property-level metric; put it under a property's quality",
            path=src,
            line=line,
        )
    if metric == "duplicateValues" and pname is None:
        keys = args.get("properties")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise ContractError(
                f"{where}: a schema-level duplicateValues needs arguments.properties, a list of property names",
                path=src,
                line=line,
                field=f"{_dotted(qpath)}.arguments.properties",
            )
    dimension, odcs_dim = _dimension(q.dimension, metric)
    return Rule(
        id=ids.take(q.id, f"{oname}{'.' + pname if pname else ''}.{metric}", src, line),
        metric=metric,
        object=oname,
        column=pname,
        arguments=args,
        threshold=_threshold(q, where, line, default),
        unit=unit,
        severity=severity,
        dimension=dimension,
        odcs_dimension=odcs_dim,
        name=q.name or metric,
        description=q.description,
        origin=_dotted(qpath),
        line=line,
    )


def _freshness_rules(contract: Contract, oname: str, obj: SchemaObject, ids: _Ids) -> list[Rule]:
    """``slaProperties`` with ``property: freshness`` (or ``latency``) and an ``element``.

    ``element`` names the timestamp column as ``object.property`` (or ``property``; the
    contract's ``slaDefaultElement`` when absent). The rule passes when the newest value
    is at most ``value`` ``unit`` old at check time.
    """
    out: list[Rule] = []
    src = contract.source
    props = {p.physicalName or p.name for p in obj.properties or []}
    for i, sla in enumerate(contract.model.slaProperties or []):
        if (sla.property or "").lower() not in ("freshness", "latency"):
            continue
        path: tuple[str | int, ...] = ("slaProperties", i)
        line = contract.line_of(path)
        element = sla.element or contract.model.slaDefaultElement
        where = f"{src}:{line}: {_dotted(path)}" if line else f"{src}: {_dotted(path)}"
        if not element:
            raise ContractError(
                f"{where}: a freshness SLA needs element (the timestamp column, object.property)",
                path=src,
                line=line,
                field=f"{_dotted(path)}.element",
            )
        parts = str(element).split(",")[0].strip().split(".")
        if len(parts) == 2 and parts[0] not in (oname, obj.physicalName):
            continue  # an SLA for another object of the contract
        column = parts[-1]
        if column not in props:
            raise ContractError(
                f"{where}: element {element!r} is not a property of {oname}",
                path=src,
                line=line,
                field=f"{_dotted(path)}.element",
                found=element,
                expected=sorted(p for p in props if p),
            )
        unit = (sla.unit or "d").lower()
        if unit not in _TIME_UNITS:
            raise ContractError(
                f"{where}: unknown time unit {sla.unit!r}; expected one of s, m, h, d, w, y",
                path=src,
                line=line,
                field=f"{_dotted(path)}.unit",
            )
        try:
            amount = float(sla.value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ContractError(
                f"{where}: value must be a number of {unit}, found {sla.value!r}",
                path=src,
                line=line,
                field=f"{_dotted(path)}.value",
            ) from None
        max_age = amount * _TIME_UNITS[unit]
        out.append(
            Rule(
                id=ids.take(sla.id, f"{oname}.{column}.freshness", src, line),
                metric="freshness",
                object=oname,
                column=column,
                arguments={"max_age_s": max_age, "sla": f"{sla.value} {sla.unit or 'd'}"},
                threshold=Threshold("mustBeLessOrEqualTo", max_age),
                unit="seconds",
                severity="warning",
                dimension="timeliness",
                name="freshness",
                description=sla.description,
                origin=_dotted(path),
                line=line,
            )
        )
    return out
