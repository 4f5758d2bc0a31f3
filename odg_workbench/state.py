"""The state database: SQLite in WAL mode by default, any SQLAlchemy URL when configured.

Each domain declares its own tables on :data:`metadata` and calls :meth:`StateStore.ensure`
before first use, so a capability used alone creates only what it needs. SQLite runs in
WAL mode with a generous busy timeout, and every transaction starts with
``BEGIN IMMEDIATE``: a marimo app and a scheduled run can share one workspace without
"database is locked" errors from lock upgrades.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import WorkspaceError

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["StateStore", "metadata"]

_BUSY_TIMEOUT_S = 60


def _metadata() -> Any:
    import sqlalchemy as sa

    return sa.MetaData()


class _LazyMetadata:
    """``sqlalchemy.MetaData`` created on first use, so importing a domain stays cheap."""

    _md: Any = None

    def get(self) -> sa.MetaData:
        if self._md is None:
            self._md = _metadata()
        return self._md  # type: ignore[no-any-return]


metadata = _LazyMetadata()


class StateStore:
    """Connections to the state database of one workspace."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.Engine | None = None
        self._ensured: set[str] = set()
        self._lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> sa.Engine:
        import sqlalchemy as sa

        try:
            if self.is_sqlite:
                engine = sa.create_engine(
                    self.url, connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False}
                )

                @sa.event.listens_for(engine, "connect")
                def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                    cur = dbapi_conn.cursor()
                    cur.execute("PRAGMA journal_mode=WAL")
                    cur.execute("PRAGMA synchronous=NORMAL")
                    cur.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
                    cur.execute("PRAGMA foreign_keys=ON")
                    cur.close()

                @sa.event.listens_for(engine, "begin")
                def _on_begin(conn: Any) -> None:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")

            else:
                engine = sa.create_engine(self.url, pool_pre_ping=True)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
            raise WorkspaceError(
                f"state.url {self._safe_url()} is not a usable SQLAlchemy URL: {exc}",
                setting="state.url",
            ) from exc
        return engine

    def _safe_url(self) -> str:
        import sqlalchemy as sa

        try:
            return sa.engine.make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "<unparseable URL>"

    def ensure(self, *tables: sa.Table) -> None:
        """Create the given tables if they do not exist yet (once per process)."""
        missing = [t for t in tables if t.name not in self._ensured]
        if not missing:
            return
        import sqlalchemy as sa

        try:
            metadata.get().create_all(self.engine, tables=missing, checkfirst=True)
        except sa.exc.OperationalError as exc:
            raise WorkspaceError(
                f"cannot reach the state database {self._safe_url()}: {exc.orig}",
                setting="state.url",
            ) from exc
        self._ensured.update(t.name for t in missing)

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._ensured.clear()
