"""The workspace: the one object a notebook starts from.

A workspace is a folder::

    odg.toml        configuration (see odg_workbench.config)
    catalog.db      pyiceberg SQL catalog on SQLite (unless [catalog] points elsewhere)
    warehouse/      Iceberg table data and metadata (unless catalog.warehouse points elsewhere)
    state.db        state database, SQLite in WAL mode (unless state.url points elsewhere)
    .duckdb/        DuckDB spill folder for queries larger than memory

Two lines give a governed lakehouse::

    import odg_workbench as odg
    wb = odg.open("~/lake")           # created on first use
"""

from __future__ import annotations

import contextvars
import getpass
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.config import CONFIG_FILE, Config
from odg_workbench.errors import WorkspaceError
from odg_workbench.events import Event, EventBus

if TYPE_CHECKING:
    import duckdb
    import ibis
    from pyiceberg.catalog import Catalog

    from odg_workbench.governance.audit import AuditLog
    from odg_workbench.governance.decisions import Decisions
    from odg_workbench.governance.eventlog import EventLog
    from odg_workbench.governance.policy import PolicyEngine
    from odg_workbench.governance.promotion import PromotionResult, Promotions
    from odg_workbench.governance.raci import Raci
    from odg_workbench.lakehouse import IngestResult, Lakehouse, LakeTable, TableInfo
    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.lineage.graph import LineageGraph
    from odg_workbench.lineage.models import ModelRegistry
    from odg_workbench.lineage.openlineage import OpenLineageEmitter
    from odg_workbench.privacy.classification import Classifications
    from odg_workbench.privacy.dp import PrivateQueries
    from odg_workbench.privacy.masking import MaskingService
    from odg_workbench.quality import Quality
    from odg_workbench.state import StateStore

__all__ = ["Workbench", "default_workspace", "init", "open"]

# The trace id of the state changes being published (Workbench.trace), audit and events.
_TRACE: contextvars.ContextVar[str | None] = contextvars.ContextVar("odg_trace_id", default=None)


def default_workspace() -> Path:
    """``$ODG_HOME``, else ``$XDG_DATA_HOME/odg-workbench``, else ``~/.local/share/odg-workbench``."""
    if os.environ.get("ODG_HOME"):
        return Path(os.environ["ODG_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "odg-workbench"


class Workbench:
    """A workspace: configuration, Iceberg catalog, state database and the lakehouse over them.

    Use :func:`odg_workbench.open` (creates the workspace on first use) rather than the
    constructor. Connections are opened lazily: opening a workspace costs only reading
    its ``odg.toml``.
    """

    def __init__(self, root: Path, config: Config, *, user: str | None = None) -> None:
        self.root = root
        self.config = config
        self.events = EventBus()
        self._user = user
        self._lock = threading.RLock()

    # -- construction ----------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None = None, *, create: bool = True, user: str | None = None
    ) -> Workbench:
        root = Path(path).expanduser() if path is not None else default_workspace()
        root = root.absolute()
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"workspace path {root} is a file, not a folder", path=str(root))
        if not (root / CONFIG_FILE).exists():
            if not create:
                raise WorkspaceError(
                    f"no workspace at {root}: run `odg init {root}` (or set ODG_HOME / --workspace)",
                    path=str(root),
                )
            return cls._initialise(root, user=user)
        return cls(root, Config.load(root), user=user)

    @classmethod
    def _initialise(cls, root: Path, *, user: str | None) -> Workbench:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create workspace folder {root}: {exc.strerror}", path=str(root)) from exc
        config = Config(root)
        config.save()
        wb = cls(root, config, user=user)
        wb._prepare_local_files()
        wb.lakehouse.ensure_layers()
        return wb

    def _prepare_local_files(self) -> None:
        """Create the local warehouse folder and put local SQLite databases in WAL mode."""
        warehouse = self.config.get("catalog.warehouse")
        if warehouse.startswith("file://"):
            Path(warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        for key in ("catalog.uri", "state.url"):
            url = str(self.config.get(key))
            if url.startswith("sqlite:///"):
                db = Path(url.removeprefix("sqlite:///"))
                db.parent.mkdir(parents=True, exist_ok=True)
                con = sqlite3.connect(db, timeout=60)
                try:
                    con.execute("PRAGMA journal_mode=WAL")  # persistent in the database file
                finally:
                    con.close()

    # -- identity --------------------------------------------------------------------

    @property
    def user(self) -> str:
        """Who is acting: ``user=`` given to open, else ``$ODG_USER``, else ``user.name``, else the OS user."""
        if self._user:
            return self._user
        if os.environ.get("ODG_USER"):
            return os.environ["ODG_USER"]
        configured = self.config.get("user.name")
        if configured:
            return str(configured)
        try:
            return getpass.getuser()
        except Exception:
            return "unknown"

    @property
    def name(self) -> str:
        return str(self.config.get("workspace.name")) or self.root.name

    # -- connections -----------------------------------------------------------------

    @cached_property
    def catalog(self) -> Catalog:
        """The pyiceberg catalog described by the ``[catalog]`` settings."""
        from pyiceberg.catalog import load_catalog

        props = self.config.catalog_properties()
        if props.get("type") == "sql" and props.get("uri", "").startswith("sqlite:///"):
            self._prepare_local_files()
        try:
            return load_catalog("odg", **props)
        except Exception as exc:
            raise WorkspaceError(
                f"cannot open the Iceberg catalog ({props.get('type')} at {_redact(props.get('uri', ''))}): {exc}",
                setting="catalog.uri",
            ) from exc

    @cached_property
    def state(self) -> StateStore:
        """The state database (SQLAlchemy)."""
        from odg_workbench.state import StateStore

        return StateStore(str(self.config.get("state.url")))

    @cached_property
    def lakehouse(self) -> Lakehouse:
        """Medallion tables, ingestion, time travel and maintenance."""
        from odg_workbench.lakehouse import Lakehouse

        return Lakehouse(self)

    @cached_property
    def quality(self) -> Quality:
        """Quality checks against ODCS contracts, DAMA scores, gates and their history."""
        from odg_workbench.quality import Quality

        return Quality(self)

    @cached_property
    def promotions(self) -> Promotions:
        """Promotion up the medallion layers through quality gates and decisions."""
        from odg_workbench.governance.promotion import Promotions

        return Promotions(self)

    def promote(self, dataset: str, to: str, **kwargs: Any) -> PromotionResult:
        """Promote ``dataset`` to the next layer; see :meth:`Promotions.promote`."""
        return self.promotions.promote(dataset, to, **kwargs)

    @cached_property
    def policies(self) -> PolicyEngine:
        """Rego policies deciding who may do what (shipped, overridable from ``policies/``)."""
        from odg_workbench.governance.policy import PolicyEngine

        return PolicyEngine.for_workspace(self)

    @cached_property
    def raci(self) -> Raci:
        """RACI assignments per domain and per dataset."""
        from odg_workbench.governance.raci import Raci

        return Raci(self, policy=self.policies)

    @cached_property
    def decisions(self) -> Decisions:
        """Governance decisions with RACI approvals, veto, escalation and history."""
        from odg_workbench.governance.decisions import Decisions

        return Decisions(self, policy=self.policies, raci=self.raci)

    @cached_property
    def classifications(self) -> Classifications:
        """Classification levels and jurisdictions of tables, suggested from detected PII, set by owners."""
        from odg_workbench.privacy.classification import Classifications

        return Classifications(self)

    @cached_property
    def masking(self) -> MaskingService:
        """Masking of personal data by classification and policy (reads and promotions)."""
        from odg_workbench.privacy.masking import MaskingService

        return MaskingService(self)

    @cached_property
    def dp(self) -> PrivateQueries:
        """Differentially private counts, sums, means and histograms, with a privacy-budget ledger."""
        from odg_workbench.privacy.dp import PrivateQueries

        return PrivateQueries(self)

    @cached_property
    def lineage(self) -> LineageGraph:
        """The lineage graph: datasets, pipelines, models and features, runs, impact analysis."""
        from odg_workbench.lineage.graph import LineageGraph

        graph = LineageGraph(self)
        # every recorded run is also an OpenLineage event (a file under the workspace by
        # default; `openlineage.transport = none` turns it off)
        graph.listeners.append(self.openlineage)
        return graph

    @cached_property
    def openlineage(self) -> OpenLineageEmitter:
        """OpenLineage RunEvents of the lineage graph's runs (a listener of :attr:`lineage`)."""
        from odg_workbench.lineage.openlineage import OpenLineageEmitter

        return OpenLineageEmitter(self)

    @cached_property
    def models(self) -> ModelRegistry:
        """Model cards registered with MLflow, linked to their training snapshots in the lineage graph."""
        from odg_workbench.lineage.models import ModelRegistry

        return ModelRegistry(self)

    @cached_property
    def eventlog(self) -> EventLog:
        """The durable event log (topics with subscriber offsets) in the state database."""
        from odg_workbench.governance.eventlog import EventLog

        return EventLog(self.state)

    @cached_property
    def audit(self) -> AuditLog:
        """The SHA-256 hash-chained audit trail of every state change."""
        from odg_workbench.governance.audit import AuditLog

        return AuditLog(self.state)

    @contextmanager
    def trace(self, trace_id: str | None = None) -> Iterator[str]:
        """Group the state changes made inside the block under one trace id (audit and events)."""
        token = _TRACE.set(trace_id or uuid.uuid4().hex)
        try:
            yield _TRACE.get() or ""
        finally:
            _TRACE.reset(token)

    def publish(self, type: str, resource: str, /, **payload: Any) -> None:
        """Record a state change: audit trail, durable event log, broker relay, in-process subscribers.

        The change is appended to the hash-chained audit trail (``odg_workbench.governance.audit``),
        then goes to the durable event log on its topic and, as the audit record, on
        ``odg.audit.events`` (``odg_workbench.governance.eventlog``); when
        ``events.backend`` names a broker, the log's backlog is relayed to it (a broker that
        is down only delays delivery: the next publish or ``odg events relay`` sends what
        is pending); last, in-process subscribers are called.
        """
        trace_id = _TRACE.get() or uuid.uuid4().hex
        event = Event(type=type, resource=resource, actor=self.user, payload=_plain(payload))
        record = self.audit.append(type, self.user, resource, event.payload, trace_id=trace_id, time=event.time)
        self.eventlog.publish_event(event)
        self.eventlog.publish(
            "odg.audit.events",
            type,
            resource,
            self.user,
            {"position": record.position, "hash": record.hash, "trace_id": trace_id, "event": record.event()},
            id=f"audit-{record.position}-{record.hash[:16]}",
            time=event.time,
        )
        self._relay()
        self.events.publish(event)

    def _relay(self) -> None:
        backend = str(self.config.get("events.backend"))
        if backend == "embedded":
            return
        try:
            self.relay_events()
        except Exception as exc:  # delivery is retried from the log; the operation succeeded
            logging.getLogger("odg_workbench.events").warning(
                "events not yet delivered to %s (%s); they stay in the log and are sent on the next "
                "publish or by `odg events relay`",
                backend,
                exc,
            )

    def relay_events(self) -> int:
        """Send the event log's undelivered messages to the configured broker; returns how many."""
        from odg_workbench.governance.eventlog import make_transport

        backend = str(self.config.get("events.backend"))
        if backend == "embedded":
            return 0
        transport = make_transport(
            backend,
            str(self.config.get("events.url")),
            self.state,
            stream=str(self.config.get("events.stream")),
            timeout=float(self.config.get("events.timeout_s")),
        )
        try:
            return self.eventlog.relay(transport, f"odg.relay.{backend}")
        finally:
            transport.close()

    # -- shortcuts to the lakehouse -------------------------------------------------

    def ingest(self, source: Any, table: str, **kwargs: Any) -> IngestResult:
        """Ingest a file or an in-memory frame into a Bronze table. See :meth:`Lakehouse.ingest`."""
        return self.lakehouse.ingest(source, table, **kwargs)

    def table(self, name: str) -> LakeTable:
        """An existing table, ``layer.name``."""
        return self.lakehouse.table(name)

    def tables(self, layer: str | None = None) -> list[TableInfo]:
        """Every table (or those of one layer) with row count and current snapshot."""
        return self.lakehouse.tables(layer)

    def sql(self, query: str, *, as_of: AsOf | None = None) -> duckdb.DuckDBPyRelation:
        """Run DuckDB SQL over lakehouse tables named ``layer.name``; a lazy DuckDB relation."""
        return self.lakehouse.sql(query, as_of=as_of)

    def ibis(self, name: str, *, as_of: AsOf | None = None) -> ibis.Table:
        """A lakehouse table as an ibis table expression (DuckDB backend)."""
        return self.lakehouse.table(name).to_ibis(as_of=as_of)

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Release database connections (pooled SQLAlchemy connections, DuckDB)."""
        if "state" in self.__dict__:
            self.state.dispose()
        if "lakehouse" in self.__dict__:
            self.lakehouse.close()
        if "catalog" in self.__dict__:
            engine = getattr(self.catalog, "engine", None)
            if engine is not None:
                engine.dispose()

    def __enter__(self) -> Workbench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workbench({str(self.root)!r})"


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload as plain JSON values: NumPy scalars as numbers, times as ISO text, others as text."""
    import json
    from datetime import date, datetime

    def default(value: Any) -> Any:
        if hasattr(value, "item") and callable(value.item):
            return value.item()
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        if isinstance(value, (set, frozenset, tuple)):
            return list(value)
        return str(value)

    return dict(json.loads(json.dumps(payload, default=default, allow_nan=False)))


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def open(path: str | os.PathLike[str] | None = None, *, create: bool = True, user: str | None = None) -> Workbench:  # noqa: A001
    """Open the workspace at ``path`` (default: :func:`default_workspace`), creating it if needed."""
    return Workbench.open(path, create=create, user=user)


def init(path: str | os.PathLike[str] | None = None) -> Workbench:
    """Create (or reopen) the workspace at ``path``."""
    return Workbench.open(path, create=True)
