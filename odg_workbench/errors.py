"""The one exception tree of the workbench.

Every error the library raises on purpose derives from :class:`OdgError`, and where a
builtin fits it is a parent too, so ``except ValueError`` keeps working::

    OdgError
    ├── ConfigError(ValueError)              bad or unknown setting, unreadable config file
    ├── WorkspaceError                       workspace missing, not initialised, unusable
    ├── TableNameError(ValueError)           "layer.name" malformed, unknown layer
    ├── TableNotFoundError(LookupError)      no such table (suggests close names)
    ├── TableExistsError                     create of a table that exists
    ├── SnapshotNotFoundError(LookupError)   no snapshot / tag / timestamp matches an "as of"
    ├── TagExistsError                       tag name already used (pass replace=True)
    ├── SourceError                          an ingestion source that cannot be used
    │   ├── UnsupportedFormatError(ValueError)   unknown file format or object type
    │   └── SourceReadError(OSError)             file missing, unreadable or malformed
    ├── SchemaMismatchError(TypeError)       data types that cannot be reconciled with the table
    ├── QueryError(ValueError)               SQL that cannot be parsed or run
    ├── ContractError(ValueError)            a data contract that is malformed, invalid, or
    │                                        disagrees with the data it describes
    ├── QualityError                         a quality check that cannot run (e.g. a sql rule fails)
    └── CommitConflictError                  concurrent writers kept winning; nothing was written

Each error carries structured fields (``path``, ``line``, ``column``, ``expected``,
``found`` ...) next to its message, so a CLI or an app can show them without parsing text.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CommitConflictError",
    "ConfigError",
    "ContractError",
    "OdgError",
    "QualityError",
    "QueryError",
    "SchemaMismatchError",
    "SnapshotNotFoundError",
    "SourceError",
    "SourceReadError",
    "TableExistsError",
    "TableNameError",
    "TableNotFoundError",
    "TagExistsError",
    "UnsupportedFormatError",
    "WorkspaceError",
]


class OdgError(Exception):
    """Root of every error the workbench raises on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {k: v for k, v in details.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: ``{"type", "message", **details}``."""
        return {"type": type(self).__name__, "message": self.message, **self.details}

    def __reduce__(self) -> tuple[Any, ...]:  # keep details across processes (pickling)
        return (_rebuild, (type(self), self.message, self.details))


def _rebuild(cls: type[OdgError], message: str, details: dict[str, Any]) -> OdgError:
    err = cls.__new__(cls)
    OdgError.__init__(err, message, **details)
    return err


class ConfigError(OdgError, ValueError):
    """A setting is unknown, malformed, or the configuration file cannot be read."""


class WorkspaceError(OdgError):
    """The workspace folder is missing, not initialised, or unusable."""


class TableNameError(OdgError, ValueError):
    """A table name is not of the form ``layer.name`` or names an unknown layer."""


class TableNotFoundError(OdgError, LookupError):
    """No table of that name exists in the workspace."""


class TableExistsError(OdgError):
    """The table already exists."""


class SnapshotNotFoundError(OdgError, LookupError):
    """No snapshot matches the snapshot id, tag or timestamp asked for."""


class TagExistsError(OdgError):
    """A tag of that name already exists on the table."""


class SourceError(OdgError):
    """An ingestion source cannot be used."""


class UnsupportedFormatError(SourceError, ValueError):
    """The file format or in-memory object type is not one the workbench reads."""


class SourceReadError(SourceError, OSError):
    """The source file is missing, unreadable or malformed."""


class SchemaMismatchError(OdgError, TypeError):
    """Incoming data has a type that cannot be reconciled with the table's schema."""


class QueryError(OdgError, ValueError):
    """A SQL query could not be parsed or executed."""


class CommitConflictError(OdgError):
    """Concurrent writers kept committing first; this operation wrote nothing."""


class ContractError(OdgError, ValueError):
    """A data contract is malformed, fails the standard's schema, or disagrees with the data."""


class QualityError(OdgError):
    """A quality check could not run (a ``sql`` rule failed, the data could not be read ...)."""
