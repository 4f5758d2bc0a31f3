"""OpenLineage: RunEvents out for every run the lineage graph records, events in from other tools.

Out: :class:`OpenLineageEmitter` is a run listener of :attr:`Workbench.lineage
<odg_workbench.workspace.Workbench.lineage>` (:func:`enable_openlineage` adds it). For each
run it builds an OpenLineage ``RunEvent`` (``START``, then ``COMPLETE``, ``FAIL`` or
``ABORT``) with ``openlineage-python``'s classes and sends it through that library's
transports, chosen by the ``openlineage.*`` settings:

* ``file`` (the default): one JSON event a line appended to ``openlineage.file``
  (``.odg/openlineage/events.jsonl`` in the workspace; the library's FileTransport in
  append mode, since its default writes one file per event);
* ``http``: POST to ``openlineage.url`` + ``openlineage.endpoint`` (Marquez:
  ``http://localhost:5000`` + ``api/v1/lineage``), with the API key from the environment
  variable ``openlineage.api_key_env`` as a Bearer token;
* ``console`` (the ``openlineage.client.transport.console`` logger) or ``none``.

A delivery that fails never fails the run: the event is appended to
``.odg/openlineage/undelivered.jsonl`` and :meth:`OpenLineageEmitter.resend` (``odg
openlineage resend``) delivers it later.

Naming: jobs and the workspace's tables live in the namespace ``openlineage.namespace``
(default ``odg://<workspace name>``); a table keeps its lakehouse name (``silver.orders``).
Files read by an ingestion are ``file`` + their absolute path; datasets that came in from
other tools keep the namespace and name they came with. Facets: ``schema`` (the Iceberg
schema of the snapshot the run read or wrote), ``version`` (the Iceberg snapshot id),
``dataSource``, ``storage``, ``catalog``, ``columnLineage`` (only when the graph holds the
run's column lineage as complete: never a partial mapping), ``outputStatistics`` (from the
snapshot summary), ``dataQualityMetrics`` and ``dataQualityAssertions`` (from the quality
report of the input at the snapshot read), and ``sql``, ``jobType``, ``processing_engine``,
``errorMessage``, ``tags`` (pipeline version, git commit) and ``parent`` (from
``OPENLINEAGE_PARENT_ID``, as Airflow passes it to the tasks it starts, or from the run).

In: :func:`ingest_openlineage` reads events (dicts, JSON lines, JSON arrays, a folder of
the FileTransport's files), validates every one first, then records each run in the graph
(jobs as pipelines, datasets with their namespace, status, column lineage as column edges).

Validation: :func:`validate_event` checks an event against the OpenLineage JSON schema and
each facet against the schema its ``_schemaURL`` names. Written here because no package on
PyPI ships the spec's JSON files: openlineage-python ships the classes the OpenLineage
project generates from them, so :func:`derived_schemas` rebuilds the JSON schema from those
classes (fields, types, enums, required fields, and the uri/uuid/date-time formats their
validators check), keyed by the same URLs as the official files. The official files, when
``openlineage.schema_dir`` points at a copy of the spec, take precedence.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlparse

from odg_workbench import __version__
from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import RunEvent
    from openlineage.client.transport import Transport
    from referencing import Registry

    from odg_workbench.lineage.graph import RunRecord
    from odg_workbench.workspace import Workbench

__all__ = [
    "EVENT_KINDS",
    "TRANSPORTS",
    "IngestReport",
    "OpenLineageEmitter",
    "OpenLineageError",
    "OpenLineageValidationError",
    "ValidationIssue",
    "derived_schemas",
    "enable_openlineage",
    "ingest_openlineage",
    "load_events",
    "validate_event",
    "validate_events",
]

log = logging.getLogger("odg_workbench.lineage.openlineage")

TRANSPORTS = ("file", "http", "console", "none")
EVENT_KINDS = ("RunEvent", "JobEvent", "DatasetEvent")
PRODUCER = f"urn:odg-workbench:{__version__}"  # a URI naming the producer and its version
_LAYERS = {"bronze", "silver", "gold", "platinum"}
_ORIGIN = "openlineage"  # props["origin"] of runs that came in from other tools


# -- errors --------------------------------------------------------------------------------


class OpenLineageError(OdgError, ValueError):
    """An OpenLineage operation that cannot be done (bad setting, unreadable events file ...)."""


@dataclass(frozen=True)
class ValidationIssue:
    """One way an event breaks the OpenLineage schema: where (JSON path), what, and which schema."""

    path: str
    message: str
    schema: str
    where: str = ""  # "events.jsonl line 3", "event 2"

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OpenLineageValidationError(OpenLineageError):
    """Events that do not validate against the OpenLineage schema; ``issues`` lists every problem."""

    def __init__(self, message: str, *, issues: Sequence[ValidationIssue], **details: Any) -> None:
        super().__init__(message, issues=[i.to_dict() for i in issues], **details)
        self.issues = list(issues)


# -- the JSON schema ---------------------------------------------------------------------------

_FORMAT_HINTS = (("isoparse", "date-time"), ("UUID(", "uuid"), ("urlparse", "uri"))
# Filled by the client after construction (so they have defaults there) but always present in an event.
_ALWAYS = {"producer", "schemaURL", "_producer", "_schemaURL"}


@functools.cache
def derived_schemas() -> dict[str, dict[str, Any]]:
    """The OpenLineage JSON schema documents rebuilt from ``openlineage-python``'s generated classes.

    ``{document URL: {"$id", "$schema", "$defs": {name: schema}}}``: the core
    (``https://openlineage.io/spec/2-0-2/OpenLineage.json``) and one document per facet,
    under the URLs the classes' ``_schemaURL`` name, so that references and facet lookups
    resolve exactly as with the official files.
    """
    import importlib
    import pkgutil

    import attr
    import openlineage.client.generated as generated

    docs: dict[str, dict[str, Any]] = {}
    for info in sorted(pkgutil.iter_modules(generated.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{generated.__name__}.{info.name}")
        for obj in vars(module).values():
            if not (isinstance(obj, type) and attr.has(obj) and obj.__module__ == module.__name__):
                continue
            if "_get_schema" not in obj.__dict__:
                continue
            doc, _, fragment = str(cast(Any, obj)._get_schema()).partition("#")
            name = fragment.rsplit("/", 1)[-1]
            entry = docs.setdefault(
                doc, {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": doc, "$defs": {}}
            )
            entry["$defs"][name] = _class_schema(obj, ())
    return docs


def _class_schema(cls: type, stack: tuple[type, ...]) -> dict[str, Any]:
    import inspect
    import typing

    import attr

    if cls in stack:  # a class without a URL of its own that contains itself: not in the spec today
        return {"type": "object"}
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for a in attr.fields(cls):
        schema = _type_schema(hints[a.name], (*stack, cls))
        if a.validator is not None:
            try:
                source = inspect.getsource(a.validator)
            except (OSError, TypeError):
                source = ""
            for hint, fmt in _FORMAT_HINTS:
                if hint in source and schema.get("type") == "string":
                    schema["format"] = fmt
                    break
        props[a.name] = schema
        if a.default is attr.NOTHING or a.name in _ALWAYS:
            required.append(a.name)
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _type_schema(t: Any, stack: tuple[type, ...]) -> dict[str, Any]:
    import types
    import typing
    from enum import Enum

    import attr

    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _type_schema(rest[0], stack)
        return {"anyOf": [_type_schema(a, stack) for a in rest]}
    if origin is list:
        return {"type": "array", "items": _type_schema(args[0], stack)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1], stack)}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if t is typing.Any:
        return {}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if t in simple:
        return {"type": simple[t]}
    if isinstance(t, type) and issubclass(t, Enum):
        return {"type": "string", "enum": [m.value for m in t]}
    if isinstance(t, type) and attr.has(t):
        if "_get_schema" in t.__dict__:
            return {"$ref": str(cast(Any, t)._get_schema())}
        return _class_schema(t, stack)
    raise TypeError(f"no JSON schema for the annotation {t!r} of openlineage-python")


@functools.cache
def _registry(schema_dir: str) -> tuple[Registry, dict[str, list[tuple[tuple[int, ...], str]]]]:
    """A ``referencing`` registry of every schema document, and the facet documents by file name."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    docs: dict[str, dict[str, Any]] = dict(derived_schemas())
    if schema_dir:
        root = Path(schema_dir).expanduser()
        if not root.is_dir():
            raise OpenLineageError(
                f"openlineage.schema_dir {root} is not a folder of OpenLineage JSON schema files",
                setting="openlineage.schema_dir",
                path=str(root),
            )
        for path in sorted(root.rglob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise OpenLineageError(f"cannot read the schema file {path}: {exc}", path=str(path)) from exc
            if isinstance(doc, dict) and isinstance(doc.get("$id"), str):
                docs[doc["$id"].rstrip("#")] = doc
    registry: Registry = Registry().with_resources(
        (url, Resource.from_contents(doc, default_specification=DRAFT202012)) for url, doc in docs.items()
    )
    by_file: dict[str, list[tuple[tuple[int, ...], str]]] = {}
    for url in docs:
        m = re.search(r"/(\d+)-(\d+)-(\d+)/([^/]+\.json)$", url)
        if m:
            version = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
            by_file.setdefault(m.group(4), []).append((version, url))
    return registry, by_file


def _core_url() -> str:
    from openlineage.client.event_v2 import RunEvent

    return RunEvent._get_schema().partition("#")[0]


@functools.cache
def _format_checker() -> Any:
    from jsonschema import FormatChecker  # type: ignore[import-untyped]

    checker = FormatChecker()

    def uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parsed = urlparse(value)
        return bool(parsed.scheme) and " " not in value

    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if "t" not in value.lower():
            return False
        return datetime.fromisoformat(value).tzinfo is not None  # RFC 3339: an offset is required

    checker.checks("uri", raises=ValueError)(uri)
    checker.checks("date-time", raises=ValueError)(date_time)
    return checker


def _event_kind(event: Mapping[str, Any]) -> str | None:
    if "run" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    if "job" in event:
        return "JobEvent"
    return None


def _facets(event: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(JSON path, facet)`` of every facet of an event."""

    def of(holder: Any, path: str, key: str) -> Iterator[tuple[str, Any]]:
        if isinstance(holder, Mapping) and isinstance(holder.get(key), Mapping):
            for name, facet in holder[key].items():
                yield f"{path}.{key}.{name}", facet

    yield from of(event.get("run"), "$.run", "facets")
    yield from of(event.get("job"), "$.job", "facets")
    yield from of(event.get("dataset"), "$.dataset", "facets")
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        items = event.get(side)
        if isinstance(items, list):
            for i, ds in enumerate(items):
                yield from of(ds, f"$.{side}[{i}]", "facets")
                yield from of(ds, f"$.{side}[{i}]", extra)


def validate_event(
    event: Any, *, schema_dir: str | os.PathLike[str] | None = None, where: str = ""
) -> list[ValidationIssue]:
    """Every way ``event`` breaks the OpenLineage schema (empty when it is valid).

    The event is checked against the core schema (``RunEvent``, ``JobEvent`` or
    ``DatasetEvent`` by its shape), then each facet against the schema its ``_schemaURL``
    names when that schema is known (the same facet at another minor version of the same
    major falls back to the known one); facets of unknown schemas get the core's checks.
    """
    from jsonschema import Draft202012Validator
    from referencing.exceptions import Unresolvable

    registry, by_file = _registry(str(schema_dir or ""))
    issues: list[ValidationIssue] = []
    if not isinstance(event, Mapping):
        return [ValidationIssue("$", f"an event is a JSON object, found {type(event).__name__}", "", where)]
    kind = _event_kind(event)
    core = _core_url()
    if kind is None:
        return [
            ValidationIssue(
                "$",
                "not an OpenLineage event: a RunEvent has run and job, a JobEvent job, a DatasetEvent dataset",
                core,
                where,
            )
        ]
    checker = _format_checker()

    def check(instance: Any, url: str, prefix: str) -> None:
        validator = Draft202012Validator({"$ref": url}, registry=registry, format_checker=checker)
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            path = prefix + error.json_path[1:]
            issues.append(ValidationIssue(path, _message(error), url, where))

    check(event, f"{core}#/$defs/{kind}", "$")
    resolver = registry.resolver()
    for path, facet in _facets(event):
        url = facet.get("_schemaURL") if isinstance(facet, Mapping) else None
        if not isinstance(url, str) or url.startswith(core):
            continue
        target = _known_facet_url(url, by_file, resolver, Unresolvable)
        if target is not None:
            check(facet, target, path)
    return issues


def _known_facet_url(
    url: str, by_file: Mapping[str, list[tuple[tuple[int, ...], str]]], resolver: Any, err: Any
) -> str | None:
    try:
        resolver.lookup(url)
        return url
    except err:
        pass
    m = re.search(r"/(\d+)-(\d+)-(\d+)/([^/#]+\.json)#(.*)$", url)
    if not m:
        return None
    major = int(m.group(1))
    candidates = sorted(v for v in by_file.get(m.group(4), []) if v[0][0] == major)
    if not candidates:
        return None
    fallback = f"{candidates[-1][1]}#{m.group(5)}"
    try:
        resolver.lookup(fallback)
    except err:
        return None
    return fallback


def _message(error: Any) -> str:
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required")
    if error.validator == "format":
        return f"{error.instance!r} is not a valid {error.validator_value}"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "type":
        return f"expected {error.validator_value}, found {type(error.instance).__name__} {error.instance!r}"[:300]
    return str(error.message)[:300]


def validate_events(
    source: Any, *, schema_dir: str | os.PathLike[str] | None = None
) -> tuple[list[dict[str, Any]], list[ValidationIssue]]:
    """Load events (see :func:`load_events`) and validate each: ``(events, issues)``."""
    events: list[dict[str, Any]] = []
    issues: list[ValidationIssue] = []
    for where, event in load_events(source):
        found = validate_event(event, schema_dir=schema_dir, where=where)
        issues += found
        if not found:
            events.append(event)
    return events, issues


# -- reading events --------------------------------------------------------------------------


def load_events(source: Any) -> list[tuple[str, Any]]:
    """``(where, event)`` for each event of ``source``.

    ``source`` is one event (a dict), a list of events, or a path: a JSON-lines file (one
    event a line, as the file transport writes), a JSON array, a file of concatenated or
    pretty-printed JSON objects, or a folder of such files (the FileTransport's one file
    per event). ``where`` names the file and line of each event, for error messages.
    """
    if isinstance(source, Mapping):
        return [("event 1", dict(source))]
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in {".json", ".jsonl"} and p.is_file())
            if not files:
                raise OpenLineageError(f"{path}: no .json or .jsonl files of OpenLineage events", path=str(path))
            return [item for f in files for item in _load_file(f)]
        return _load_file(path)
    if isinstance(source, Iterable):
        return [(f"event {i}", e) for i, e in enumerate(source, start=1)]
    raise OpenLineageError(
        f"OpenLineage events come as a dict, a list of dicts or a file path, found {type(source).__name__}",
        found=type(source).__name__,
    )


def _load_file(path: Path) -> list[tuple[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise OpenLineageError(f"no OpenLineage events file {path}", path=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise OpenLineageError(f"cannot read {path}: {exc}", path=str(path)) from exc
    decoder = json.JSONDecoder()
    out: list[tuple[str, Any]] = []
    pos = _skip(text, 0)
    array = text.startswith("[", pos)
    if array:
        pos = _skip(text, pos + 1)
    while pos < len(text):
        if array and text.startswith("]", pos):
            pos = _skip(text, pos + 1)
            if pos < len(text):
                raise _syntax(path, text, pos, "text after the end of the JSON array")
            return out
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if exc.lineno == text.count("\n", 0, pos) + 1:
                raise _syntax(path, text, exc.pos, exc.msg) from exc
            # an event that runs on without closing: name the line where it begins
            raise _syntax(
                path, text, pos, f"the event that begins here does not parse: {exc.msg} at line {exc.lineno}"
            ) from exc
        out.append((f"{path.name} line {text.count(chr(10), 0, pos) + 1}", value))
        pos = _skip(text, end)
        if array:
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
            elif not text.startswith("]", pos):
                raise _syntax(path, text, pos, "expected ',' or ']' between the events of the array")
    if array:
        raise _syntax(path, text, len(text), "the JSON array is not closed with ']'")
    return out


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _syntax(path: Path, text: str, pos: int, msg: str) -> OpenLineageError:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return OpenLineageError(
        f"{path} line {line}, column {column}: not valid JSON ({msg})", path=str(path), line=line, column=column
    )


# -- naming ----------------------------------------------------------------------------------


def workspace_namespace(wb: Workbench) -> str:
    """The OpenLineage namespace of the workspace's jobs and tables (``openlineage.namespace``)."""
    configured = str(wb.config.get("openlineage.namespace")).strip()
    return configured or f"odg://{quote(wb.name, safe='')}"


def _is_table(name: str) -> bool:
    head, dot, _ = name.partition(".")
    return bool(dot) and head.lower() in _LAYERS and "/" not in name and ":" not in name


def external_dataset_name(namespace: str, name: str) -> str:
    """The graph name of a dataset from another namespace: ``postgres://db:5432/shop.orders``, ``file:///data/x.csv``."""
    if "://" in namespace:
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    return f"{namespace}://{name}"


# -- emitting --------------------------------------------------------------------------------


def _uuid(run_id: str, namespace: str) -> str:
    """An OpenLineage run id (a UUID) for a graph run id: the same UUID when it is one, else a stable UUID5."""
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/run/{run_id}"))


def _iso(moment: str | datetime | None) -> str:
    if moment is None:
        return datetime.now(UTC).isoformat()
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    return moment


class OpenLineageEmitter:
    """Sends an OpenLineage RunEvent for each START/COMPLETE/FAIL/ABORT of a recorded run.

    A run listener of ``wb.lineage`` (``emitter(event, run)``); reach the workspace's as
    ``wb.openlineage`` and attach it with :func:`enable_openlineage`. ``transport`` overrides
    the ``openlineage.*`` settings with any ``openlineage.client.transport.Transport``.
    """

    def __init__(self, wb: Workbench, *, transport: Transport | None = None) -> None:
        self._wb = wb
        self._transport = transport
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    # -- configuration ------------------------------------------------------------------

    @property
    def namespace(self) -> str:
        return workspace_namespace(self._wb)

    @property
    def transport_kind(self) -> str:
        if self._transport is not None:
            return str(getattr(self._transport, "kind", "custom"))
        kind = str(self._wb.config.get("openlineage.transport")).strip().lower()
        if kind not in TRANSPORTS:
            raise OpenLineageError(
                f"openlineage.transport must be one of {', '.join(TRANSPORTS)}, found {kind!r}",
                setting="openlineage.transport",
                expected=list(TRANSPORTS),
                found=kind,
            )
        return kind

    @property
    def events_file(self) -> Path:
        """Where the file transport appends events."""
        return Path(str(self._wb.config.get("openlineage.file"))).expanduser()

    @property
    def undelivered_file(self) -> Path:
        """Events whose delivery failed, one a line, until :meth:`resend` delivers them."""
        return self._wb.root / ".odg" / "openlineage" / "undelivered.jsonl"

    @functools.cached_property
    def client(self) -> OpenLineageClient:
        """The ``openlineage-python`` client over the configured transport."""
        from openlineage.client import OpenLineageClient

        return OpenLineageClient(transport=self._make_transport())

    def _make_transport(self) -> Transport:
        if self._transport is not None:
            return self._transport
        kind = self.transport_kind
        if kind == "file":
            from openlineage.client.transport.file import FileConfig, FileTransport

            self.events_file.parent.mkdir(parents=True, exist_ok=True)
            return FileTransport(FileConfig(log_file_path=str(self.events_file), append=True))
        if kind == "http":
            from openlineage.client.transport.http import HttpConfig, HttpTransport

            url = str(self._wb.config.get("openlineage.url")).strip()
            if not url:
                raise OpenLineageError(
                    "openlineage.transport is http but openlineage.url is empty: set it to the endpoint's base "
                    "URL, e.g. `odg config set openlineage.url http://localhost:5000` (Marquez)",
                    setting="openlineage.url",
                )
            if urlparse(url).scheme not in {"http", "https"}:
                raise OpenLineageError(
                    f"openlineage.url must be an http:// or https:// URL, found {url!r}",
                    setting="openlineage.url",
                    found=url,
                )
            key_env = str(self._wb.config.get("openlineage.api_key_env")).strip()
            key = os.environ.get(key_env) if key_env else None
            params: dict[str, Any] = {
                "url": url,
                "endpoint": str(self._wb.config.get("openlineage.endpoint")).lstrip("/"),
                "timeout": float(self._wb.config.get("openlineage.timeout_s")),
                # one quick retry: a run waits for its events, and failures are kept for resend
                "retry": {"total": 1, "connect": 1, "read": 1, "backoff_factor": 0.2},
            }
            if key:
                params["auth"] = {"type": "api_key", "apiKey": key}
            return HttpTransport(HttpConfig.from_dict(params))
        if kind == "console":
            from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport

            return ConsoleTransport(ConsoleConfig())
        from openlineage.client.transport.noop import NoopConfig, NoopTransport

        return NoopTransport(NoopConfig())

    # -- the listener ---------------------------------------------------------------------

    def __call__(self, event: str, run: RunRecord) -> None:
        """Run listener: build and send the event; a failure is logged and kept, never raised."""
        if run.props.get("origin") == _ORIGIN:
            return  # came in from another tool: sending it back out would echo it
        if self.transport_kind == "none":
            return
        ol_event = self.run_event(event, run)
        self.emit(ol_event)

    def emit(self, event: RunEvent) -> bool:
        """Send one event through the transport; False (and the event kept) when delivery failed."""
        from openlineage.client.serde import Serde

        with self._lock:
            try:
                self.client.emit(event)
            except OpenLineageError:
                raise
            except Exception as exc:
                self.failed += 1
                self._keep(Serde.to_json(event))
                log.warning(
                    "OpenLineage event %s of run %s not delivered (%s: %s); kept in %s, "
                    "`odg openlineage resend` delivers it",
                    event.eventType.value if event.eventType else "?",
                    event.run.runId,
                    type(exc).__name__,
                    exc,
                    self.undelivered_file,
                )
                return False
            self.sent += 1
            return True

    def _keep(self, line: str) -> None:
        self.undelivered_file.parent.mkdir(parents=True, exist_ok=True)
        with self.undelivered_file.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def resend(self) -> tuple[int, int]:
        """Deliver the events kept after failed deliveries: ``(delivered, still pending)``."""
        path = self.undelivered_file
        if not path.exists():
            return 0, 0
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        pending: list[str] = []
        delivered = 0
        for line in lines:
            try:
                # transports serialize with Serde.to_json, which takes a plain dict as it is
                self.client.transport.emit(json.loads(line))
                delivered += 1
            except Exception as exc:
                log.warning("OpenLineage event still not delivered: %s", exc)
                pending.append(line)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(p + "\n" for p in pending), encoding="utf-8")
        os.replace(tmp, path)
        if not pending:
            path.unlink()
        return delivered, len(pending)

    def export(self, *, since: datetime | None = None, limit: int = 100_000) -> list[RunEvent]:
        """The RunEvents of the workspace's recorded runs (oldest first), rebuilt from the graph.

        Each run gives its START event and, once ended, its final one. Runs that came in
        from other tools are left out (they are those tools' events). ``since`` keeps runs
        that started at or after it.
        """
        events: list[RunEvent] = []
        cutoff = None if since is None else (since if since.tzinfo else since.replace(tzinfo=UTC))
        runs = self._wb.lineage.runs(limit=limit)
        for run in sorted(runs, key=lambda r: (r.started_at, r.run_id)):
            if run.props.get("origin") == _ORIGIN:
                continue
            if cutoff is not None and datetime.fromisoformat(run.started_at) < cutoff:
                continue
            events.append(self.run_event("START", run))
            if run.status in {"COMPLETE", "FAIL", "ABORT"}:
                events.append(self.run_event(run.status, run))
        return events

    # -- building events -------------------------------------------------------------------

    def run_event(self, event: str, run: RunRecord) -> RunEvent:
        """The OpenLineage RunEvent of ``event`` (START, COMPLETE, FAIL, ABORT) of a recorded run."""
        from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState

        ns = self.namespace
        state = RunState(event.upper())
        final = state in (RunState.COMPLETE, RunState.FAIL, RunState.ABORT)
        inputs = [InputDataset(*self._names(d.dataset), facets={}, inputFacets={}) for d in run.inputs]
        outputs = [OutputDataset(*self._names(d.dataset), facets={}, outputFacets={}) for d in run.outputs]
        for ds, rd in zip(inputs, run.inputs, strict=True):
            self._dataset_facets(ds, rd.dataset, rd.snapshot)
            self._quality_facets(ds, rd.dataset, rd.snapshot)
        if final:
            for out, rd in zip(outputs, run.outputs, strict=True):
                if state == RunState.COMPLETE:
                    self._dataset_facets(out, rd.dataset, rd.snapshot)
                    self._output_statistics(out, rd.dataset, rd.snapshot)
                self._column_lineage(out, rd.dataset, run)
        return RunEvent(
            eventType=state,
            eventTime=_iso(run.ended_at if final and run.ended_at else run.started_at),
            run=Run(runId=_uuid(run.run_id, ns), facets=self._run_facets(state, run)),
            job=Job(namespace=ns, name=run.name, facets=self._job_facets(run)),
            inputs=inputs,
            outputs=outputs,
            producer=PRODUCER,
        )

    def _names(self, dataset: str) -> tuple[str, str]:
        """(namespace, name) of a graph dataset id."""
        name = dataset.removeprefix("dataset:")
        if _is_table(name):
            return self.namespace, name
        props = self._vertex_props(dataset)
        if isinstance(props.get("namespace"), str) and isinstance(props.get("name"), str):
            return props["namespace"], props["name"]
        if "://" in name:
            parsed = urlparse(name)
            if parsed.scheme == "file":
                return "file", parsed.path
            return f"{parsed.scheme}://{parsed.netloc}", parsed.path.lstrip("/") or name
        if name.startswith("/"):
            return "file", name
        return self.namespace, name

    def _vertex_props(self, dataset: str) -> dict[str, Any]:
        from odg_workbench.lineage.graph import LineageNotFoundError

        try:
            return dict(self._wb.lineage.vertex(dataset).props)
        except LineageNotFoundError:
            return {}

    def _table(self, dataset: str) -> Any:
        name = dataset.removeprefix("dataset:")
        if not _is_table(name):
            return None
        from odg_workbench.errors import TableNotFoundError

        try:
            return self._wb.table(name)
        except TableNotFoundError:
            return None

    def _dataset_facets(self, ds: Any, dataset: str, snapshot: int | str | None) -> None:
        from openlineage.client.facet_v2 import (
            catalog_dataset,
            dataset_version_dataset,
            datasource_dataset,
            schema_dataset,
            storage_dataset,
        )

        table = self._table(dataset)
        if table is None:
            return
        facets = ds.facets
        facets["dataSource"] = datasource_dataset.DatasourceDatasetFacet(
            producer=PRODUCER, name=ds.namespace, uri=ds.namespace
        )
        facets["storage"] = storage_dataset.StorageDatasetFacet(
            producer=PRODUCER, storageLayer="iceberg", fileFormat="parquet"
        )
        props = self._wb.config.catalog_properties()
        facets["catalog"] = catalog_dataset.CatalogDatasetFacet(
            producer=PRODUCER,
            framework="iceberg",
            type=props.get("type", "sql"),
            name="odg",
            warehouseUri=props.get("warehouse"),
            source="odg-workbench",
        )
        if snapshot is None or not isinstance(snapshot, int):
            return
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            producer=PRODUCER, datasetVersion=str(snapshot)
        )
        iceberg = table.iceberg
        snap = iceberg.snapshot_by_id(snapshot)
        if snap is None:
            return  # expired: the schema it had is no longer known for sure
        schemas = iceberg.schemas()
        schema = schemas.get(snap.schema_id) if snap.schema_id is not None else iceberg.schema()
        if schema is None:
            return
        facets["schema"] = schema_dataset.SchemaDatasetFacet(producer=PRODUCER, fields=_schema_fields(schema.fields))

    def _output_statistics(self, ds: Any, dataset: str, snapshot: int | str | None) -> None:
        from openlineage.client.facet_v2 import output_statistics_output_dataset as stats

        table = self._table(dataset)
        if table is None or not isinstance(snapshot, int):
            return
        snap = table.iceberg.snapshot_by_id(snapshot)
        if snap is None or snap.summary is None:
            return
        summary = snap.summary.additional_properties
        ds.outputFacets["outputStatistics"] = stats.OutputStatisticsOutputDatasetFacet(
            producer=PRODUCER,
            rowCount=int(summary.get("added-records", 0)),
            size=int(summary.get("added-files-size", 0)),
            fileCount=int(summary.get("added-data-files", 0)),
        )

    def _quality_facets(self, ds: Any, dataset: str, snapshot: int | str | None) -> None:
        """dataQualityMetrics and dataQualityAssertions from the quality report of the snapshot read."""
        from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
        from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as dqm

        report = self._quality_report(dataset, snapshot)
        if report is None:
            return
        columns: dict[str, dict[str, Any]] = {}
        assertions = []
        for rule in report.get("rules", []):
            col = rule.get("property")
            metric = rule.get("metric")
            if col and rule.get("evaluated") is not None and rule.get("error") is None:
                if metric == "nullValues":
                    columns.setdefault(col, {})["nullCount"] = int(rule["failed"])
                elif metric == "duplicateValues":
                    # over non-null rows: failed = non-null rows - distinct non-null values
                    columns.setdefault(col, {})["distinctCount"] = int(rule["evaluated"]) - int(rule["failed"])
            assertions.append(
                dqa.Assertion(
                    assertion=str(metric),
                    success=bool(rule.get("passed")),
                    column=col,
                    severity=rule.get("severity"),
                    name=str(rule.get("id")),
                    expected=(rule.get("threshold") or {}).get("text"),
                    actual=None if rule.get("value") is None else str(rule.get("value")),
                )
            )
        ds.inputFacets["dataQualityMetrics"] = dqm.DataQualityMetricsInputDatasetFacet(
            producer=PRODUCER,
            rowCount=int(report.get("rows", 0)),
            columnMetrics={c: dqm.ColumnMetrics(**m) for c, m in sorted(columns.items())},
        )
        if assertions:
            ds.inputFacets["dataQualityAssertions"] = dqa.DataQualityAssertionsDatasetFacet(
                producer=PRODUCER, assertions=assertions
            )

    def _quality_report(self, dataset: str, snapshot: int | str | None) -> dict[str, Any] | None:
        """The newest stored quality report of ``dataset`` at ``snapshot`` (any snapshot when None)."""
        name = dataset.removeprefix("dataset:")
        if not _is_table(name):
            return None
        from odg_workbench.quality.history import history, report_json

        for row in history(self._wb.state, name, limit=50):
            if snapshot is None or row.get("snapshot_id") == snapshot:
                return report_json(self._wb.state, str(row["run_id"]))
        return None

    def _column_lineage(self, ds: Any, dataset: str, run: RunRecord) -> None:
        from openlineage.client.facet_v2 import column_lineage_dataset as cl

        if run.column_lineage_status != "complete" or not run.column_lineage:
            return  # unknown or partial lineage is left out, never presented as complete
        columns = run.column_lineage.get(dataset)
        if not columns:
            return
        fields = {}
        for col, sources in sorted(columns.items()):
            inputs = []
            for src, src_col in sources:
                ns, name = self._names(src)
                inputs.append(cl.InputField(namespace=ns, name=name, field=src_col))
            fields[col] = cl.Fields(inputFields=inputs)
        ds.facets["columnLineage"] = cl.ColumnLineageDatasetFacet(producer=PRODUCER, fields=fields)

    def _run_facets(self, state: Any, run: RunRecord) -> dict[str, Any]:
        from openlineage.client.event_v2 import RunState
        from openlineage.client.facet_v2 import error_message_run, parent_run, processing_engine_run, tags_run

        from odg_workbench import __version__

        facets: dict[str, Any] = {
            "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
                producer=PRODUCER,
                version=__version__,
                name="odg-workbench",
                openlineageAdapterVersion=_client_version(),
            )
        }
        if state in (RunState.FAIL, RunState.ABORT) and run.error:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                producer=PRODUCER, message=run.error, programmingLanguage="python"
            )
        tags = [tags_run.TagsRunFacetFields(key="actor", value=run.actor, source="ODG_WORKBENCH")]
        if run.git_commit:
            dirty = " (uncommitted changes)" if run.git_dirty else ""
            tags.append(tags_run.TagsRunFacetFields(key="git.commit", value=run.git_commit + dirty, source="GIT"))
        facets["tags"] = tags_run.TagsRunFacet(producer=PRODUCER, tags=tags)
        parent = _parent(run, self.namespace)
        if parent is not None:
            p_ns, p_job, p_run = parent
            facets["parent"] = parent_run.ParentRunFacet(
                producer=PRODUCER, run=parent_run.Run(runId=p_run), job=parent_run.Job(namespace=p_ns, name=p_job)
            )
        return facets

    def _job_facets(self, run: RunRecord) -> dict[str, Any]:
        from openlineage.client.facet_v2 import job_type_job, sql_job, tags_job

        facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                producer=PRODUCER, processingType="BATCH", integration="ODG_WORKBENCH", jobType=run.type.upper()
            )
        }
        if run.sql:
            facets["sql"] = sql_job.SQLJobFacet(producer=PRODUCER, query=run.sql, dialect="duckdb")
        if run.version:
            facets["tags"] = tags_job.TagsJobFacet(
                producer=PRODUCER,
                tags=[tags_job.TagsJobFacetFields(key="version", value=run.version, source="ODG_WORKBENCH")],
            )
        return facets


def _client_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openlineage-python")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _parent(run: RunRecord, namespace: str) -> tuple[str, str, str] | None:
    """(namespace, job, run id) of the parent run: the run's own, else ``OPENLINEAGE_PARENT_ID``."""
    props = run.props
    if props.get("parent_run_id") and props.get("parent_pipeline"):
        return (
            str(props.get("parent_namespace") or namespace),
            str(props["parent_pipeline"]).removeprefix("pipeline:"),
            _uuid(str(props["parent_run_id"]), namespace),
        )
    value = os.environ.get("OPENLINEAGE_PARENT_ID", "").strip()
    if value:
        # Airflow's macro lineage_parent_id: "<namespace>/<job name>/<run id>"
        ns, _, rest = value.partition("/")
        job, _, run_id = rest.rpartition("/")
        try:
            return ns, job, str(uuid.UUID(run_id))
        except ValueError:
            log.warning("OPENLINEAGE_PARENT_ID %r is not <namespace>/<job>/<run uuid>; no parent facet", value)
    return None


def _schema_fields(fields: Iterable[Any]) -> list[Any]:
    from openlineage.client.facet_v2 import schema_dataset
    from pyiceberg.types import ListType, MapType, StructType

    out = []
    for position, f in enumerate(fields, start=1):
        t = f.field_type
        nested: list[Any] = []
        if isinstance(t, StructType):
            nested = _schema_fields(t.fields)
        elif isinstance(t, ListType) and isinstance(t.element_type, StructType):
            nested = _schema_fields(t.element_type.fields)
        elif isinstance(t, MapType) and isinstance(t.value_type, StructType):
            nested = _schema_fields(t.value_type.fields)
        out.append(
            schema_dataset.SchemaDatasetFacetFields(
                name=f.name, type=str(t), description=f.doc, ordinal_position=position, fields=nested
            )
        )
    return out


def enable_openlineage(wb: Workbench) -> OpenLineageEmitter:
    """Attach the workspace's emitter (``wb.openlineage``) to ``wb.lineage``'s run listeners (once)."""
    emitter = wb.openlineage
    if emitter not in wb.lineage.listeners:
        wb.lineage.listeners.append(emitter)
    return emitter


# -- ingesting ---------------------------------------------------------------------------------


@dataclass
class IngestReport:
    """What :func:`ingest_openlineage` added to the graph."""

    events: int = 0
    runs: list[str] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    column_edges: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _RunAcc:
    run_id: str
    job_ns: str
    job_name: str
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def ingest_openlineage(wb: Workbench, events: Any, *, schema_dir: str | os.PathLike[str] | None = None) -> IngestReport:
    """Add the runs of OpenLineage events from other tools (Airflow, Spark, dbt ...) to ``wb.lineage``.

    ``events`` is anything :func:`load_events` reads. Every event is validated first; any
    invalid event raises :class:`OpenLineageValidationError` naming its line and JSON path,
    and nothing is recorded. Then the events of each run (by ``runId``) are merged in event
    time order and recorded once: the job becomes a pipeline, inputs and outputs datasets
    (the workspace's own namespace maps to its tables, others keep their namespace:
    ``postgres://db:5432/shop.orders``), the last state the run's status, and the
    ``columnLineage`` facets column edges. ``RUNNING`` events update a started run;
    ``OTHER`` events and runs already ended in the graph are skipped (ingesting a file
    twice adds nothing).
    """
    from odg_workbench.lineage.graph import LineageNotFoundError, dataset_id, pipeline_id

    loaded = load_events(events)
    issues: list[ValidationIssue] = []
    for where, event in loaded:
        issues += validate_event(event, schema_dir=schema_dir or wb.config.get("openlineage.schema_dir"), where=where)
    if issues:
        shown = "; ".join(str(i) for i in issues[:10])
        more = f" (and {len(issues) - 10} more)" if len(issues) > 10 else ""
        raise OpenLineageValidationError(
            f"{len(issues)} problem(s) in the OpenLineage events, nothing ingested: {shown}{more}", issues=issues
        )
    ns = workspace_namespace(wb)
    report = IngestReport(events=len(loaded))
    runs: dict[str, _RunAcc] = {}
    for where, event in loaded:
        if _event_kind(event) != "RunEvent":
            report.skipped.append({"where": where, "reason": f"a {_event_kind(event)} carries no run"})
            continue
        state = str(event.get("eventType") or "OTHER")
        if state == "OTHER":
            report.skipped.append({"where": where, "reason": "eventType OTHER (metadata only) is not a run state"})
            continue
        run_id = str(event["run"]["runId"])
        acc = runs.setdefault(run_id, _RunAcc(run_id, event["job"]["namespace"], event["job"]["name"]))
        acc.events.append((where, event))
    datasets: set[str] = set()
    pipelines: set[str] = set()
    for acc in runs.values():
        acc.events.sort(key=lambda item: _event_time(item[1]))
        try:
            existing = wb.lineage.run(acc.run_id)
        except LineageNotFoundError:
            existing = None
        if existing is not None and existing.status in {"COMPLETE", "FAIL", "ABORT"}:
            report.skipped.append(
                {"where": acc.events[0][0], "reason": f"run {acc.run_id} is already recorded ({existing.status})"}
            )
            continue
        pipeline = acc.job_name if acc.job_ns == ns else f"{acc.job_ns}/{acc.job_name}"
        merged = _merge(acc, ns, existing)
        for name, (namespace, ol_name) in merged["names"].items():
            if not _is_table(name):
                wb.lineage.add_vertex("Dataset", dataset_id(name), namespace=namespace, name=ol_name)
            datasets.add(dataset_id(name))
        wb.lineage.add_vertex("Pipeline", pipeline_id(pipeline), namespace=acc.job_ns, name=acc.job_name)
        pipelines.add(pipeline_id(pipeline))
        record = wb.lineage.record_run(
            pipeline,
            inputs=merged["inputs"],
            outputs=merged["outputs"],
            status=merged["status"],
            started_at=merged["started_at"],
            ended_at=merged["ended_at"],
            run_id=acc.run_id,
            type="openlineage",
            column_lineage=merged["column_lineage"] or None,
            sql=merged["sql"],
            error=merged["error"],
            origin=_ORIGIN,
            producer=merged["producer"],
            job_namespace=acc.job_ns,
            **merged["props"],
        )
        report.runs.append(record.run_id)
        report.column_edges += sum(len(s) for cols in (record.column_lineage or {}).values() for s in cols.values())
    report.datasets = sorted(datasets)
    report.pipelines = sorted(pipelines)
    return report


def _event_time(event: Mapping[str, Any]) -> datetime:
    moment = datetime.fromisoformat(str(event["eventTime"]))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _merge(acc: _RunAcc, ns: str, existing: RunRecord | None) -> dict[str, Any]:
    """One run from its events (in time order): union of datasets, last state, sql, error, column lineage."""
    names: dict[str, tuple[str, str]] = {}
    inputs: dict[str, int | str | None] = {}
    outputs: dict[str, int | str | None] = {}
    if existing is not None:
        inputs.update({d.dataset.removeprefix("dataset:"): d.snapshot for d in existing.inputs})
        outputs.update({d.dataset.removeprefix("dataset:"): d.snapshot for d in existing.outputs})
    column_lineage: dict[str, dict[str, list[tuple[str, str]]]] = {}
    status = "START"
    sql = error = None
    producer = ""
    props: dict[str, Any] = {}
    started = _event_time(acc.events[0][1])
    ended = None

    def graph_name(namespace: str, name: str) -> str:
        local = name if namespace == ns else external_dataset_name(namespace, name)
        names[local] = (namespace, name)
        return local

    def version(ds: Mapping[str, Any]) -> int | str | None:
        v = ((ds.get("facets") or {}).get("version") or {}).get("datasetVersion")
        if v is None:
            return None
        text = str(v)
        return int(text) if text.lstrip("-").isdigit() else text

    for _, event in acc.events:
        state = str(event.get("eventType"))
        if state == "START":
            started = min(started, _event_time(event))
        elif state != "RUNNING":
            status = state
            ended = _event_time(event)
        elif status == "START":
            status = "RUNNING"
        producer = str(event.get("producer", producer))
        for ds in event.get("inputs") or []:
            inputs[graph_name(ds["namespace"], ds["name"])] = version(ds)
        for ds in event.get("outputs") or []:
            out = graph_name(ds["namespace"], ds["name"])
            outputs[out] = version(ds)
            col_facet = (ds.get("facets") or {}).get("columnLineage")
            if col_facet:
                for col, spec in (col_facet.get("fields") or {}).items():
                    sources = []
                    for f in spec.get("inputFields") or []:
                        src = graph_name(f["namespace"], f["name"])
                        inputs.setdefault(src, None)  # a column source is an input of the run
                        sources.append((src, str(f["field"])))
                    column_lineage.setdefault(out, {})[str(col)] = sources
        job_facets = event["job"].get("facets") or {}
        if (job_facets.get("sql") or {}).get("query"):
            sql = str(job_facets["sql"]["query"])
        run_facets = event["run"].get("facets") or {}
        if (run_facets.get("errorMessage") or {}).get("message"):
            error = str(run_facets["errorMessage"]["message"])
        parent = run_facets.get("parent") or {}
        if parent.get("run", {}).get("runId") and parent.get("job", {}).get("name"):
            props["parent_run_id"] = str(parent["run"]["runId"])
            props["parent_namespace"] = str(parent["job"]["namespace"])
            props["parent_pipeline"] = str(parent["job"]["name"])
        engine = run_facets.get("processing_engine") or {}
        if engine.get("name"):
            props["engine"] = f"{engine['name']} {engine.get('version', '')}".strip()
    # A job that reads the table it writes (MERGE INTO, upserts) would make the dataset derive
    # from itself: the graph refuses cycles, so the self-read is dropped and noted, and so is the
    # column lineage of that output (without its self-sources it would be partial).
    self_reads = sorted(set(inputs) & set(outputs))
    for name in self_reads:
        del inputs[name]
    for out in list(column_lineage):
        if any(src in self_reads for sources in column_lineage[out].values() for src, _ in sources):
            column_lineage.pop(out)
    if self_reads:
        props["self_reads"] = self_reads
    missing = [o for o in outputs if o not in column_lineage]
    if column_lineage and missing:
        props["column_lineage_missing"] = missing  # complete for the outputs that have it, none for these
    return {
        "names": names,
        "inputs": list(inputs.items()),
        "outputs": list(outputs.items()),
        "status": status,
        "started_at": started,
        "ended_at": ended,
        "column_lineage": column_lineage,
        "sql": sql,
        "error": error,
        "producer": producer,
        "props": props,
    }
