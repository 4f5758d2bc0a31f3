"""``odg privacy`` commands (mask)."""

from __future__ import annotations

import typer


def register(group: typer.Typer) -> None:
    """Add this module's commands to the ``odg privacy`` group."""
