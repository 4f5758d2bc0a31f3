"""Shared CLI plumbing: options every command takes, JSON/human output, error reporting.

Conventions (every command):

* ``--workspace/-w PATH`` (or ``$ODG_HOME``) picks the workspace;
* ``--json`` prints exactly one JSON document on stdout and nothing else; progress and
  messages go to stderr;
* errors print ``error: ...`` on stderr (and ``{"error": {...}}`` on stdout with
  ``--json``) and exit with status 1; ``ODG_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from odg_workbench.workspace import Workbench

F = TypeVar("F", bound=Callable[..., Any])

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="ODG_HOME",
        help="Workspace folder (default: $ODG_HOME, else ~/.local/share/odg-workbench).",
        show_default=False,
    ),
]
UserOpt = Annotated[
    str | None,
    typer.Option(
        "--as", envvar="ODG_USER", help="Act as this user (default: $ODG_USER, user.name, OS user).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def stdout() -> Console:
    from rich.console import Console

    # Piped output (make, scripts, CI logs) is not squeezed into rich's default 80 columns.
    return Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200)


def open_workspace(path: Path | None, user: str | None = None, *, create: bool = False) -> Workbench:
    from odg_workbench.workspace import Workbench

    return Workbench.open(path, create=create, user=user)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.hex()
    try:
        import decimal

        if isinstance(value, decimal.Decimal):
            return str(value)
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def dump_json(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2)


def print_json(data: Any) -> None:
    sys.stdout.write(dump_json(data) + "\n")
    sys.stdout.flush()


def print_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, *, title: str | None = None
) -> None:
    from rich.table import Table

    if not rows:
        stdout().print(f"[dim]{title + ': ' if title else ''}nothing to show[/dim]")
        return
    cols = list(columns or rows[0].keys())
    table = Table(title=title, show_lines=False)
    for c in cols:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in cols])
    stdout().print(table)


@contextmanager
def status(message: str, enabled: bool = True) -> Iterator[None]:
    """A spinner on stderr while work runs (only on a terminal)."""
    if enabled and sys.stderr.isatty():
        with stderr().status(message):
            yield
    else:
        yield


def handle_errors(func: F) -> F:
    """Turn library errors into a one-line message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from odg_workbench.errors import OdgError

        as_json = bool(kwargs.get("as_json"))
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
        try:
            return func(*args, **kwargs)
        except OdgError as exc:
            if os.environ.get("ODG_DEBUG"):
                raise
            if as_json:
                print_json({"error": exc.to_dict()})
            stderr().print(f"[bold red]error:[/bold red] {exc.message}", highlight=False, markup=True, soft_wrap=True)
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("ODG_DEBUG"):
                raise
            if as_json:
                print_json({"error": {"type": type(exc).__name__, "message": str(exc)}})
            stderr().print(
                f"[bold red]internal error:[/bold red] {type(exc).__name__}: {exc}\n"
                "[dim]run again with ODG_DEBUG=1 for the traceback, and report it[/dim]",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
