"""What a notebook step hands back to its pipeline run: datasets read and written, a few values.

A notebook calls :func:`step_result` in its last cell; the result is a display output of
the MIME type :data:`MIME` in the output notebook (the way scrapbook records values),
which the runner reads back after the step: the run's lineage gets the datasets and
their snapshots, ``odg pipeline show`` the values. Outside a pipeline the call only shows
the summary. Imports nothing heavy: a notebook's first cell stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from odg_workbench.workspace import Workbench

__all__ = ["MIME", "read_step_result", "step_result"]

MIME = "application/vnd.odg.step-result+json"

Dataset = str | tuple[str, int | None]


def _datasets(wb: Workbench | None, items: Iterable[Dataset]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if isinstance(item, tuple):
            name, snapshot = item
        else:
            name, snapshot = item, None
            if wb is not None and wb.lakehouse.exists(name):
                snapshot = wb.table(name).current_snapshot_id
        out.append({"dataset": str(name), "snapshot_id": None if snapshot is None else int(snapshot)})
    return out


def step_result(
    wb: Workbench | None = None,
    *,
    inputs: Iterable[Dataset] = (),
    outputs: Iterable[Dataset] = (),
    **values: Any,
) -> dict[str, Any]:
    """Record the step's datasets (names, or ``(name, snapshot_id)``; names get their current snapshot) and values."""
    result = {
        "inputs": _datasets(wb, inputs),
        "outputs": _datasets(wb, outputs),
        "values": json.loads(json.dumps(values, default=str)),
    }
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display({MIME: result, "text/plain": json.dumps(result, indent=1)}, raw=True)  # type: ignore[no-untyped-call]
    except ImportError:  # pragma: no cover - IPython is always there in a kernel
        pass
    return result


def read_step_result(notebook: str | Path) -> dict[str, Any]:
    """The merged :func:`step_result` outputs of an executed notebook (empty when it made none)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)  # type: ignore[no-untyped-call]
    merged: dict[str, Any] = {"inputs": [], "outputs": [], "values": {}}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = out.get("data") or {}
            if MIME in data:
                got = data[MIME]
                if isinstance(got, str):
                    got = json.loads(got)
                merged["inputs"] += got.get("inputs", [])
                merged["outputs"] += got.get("outputs", [])
                merged["values"].update(got.get("values", {}))
    return merged
