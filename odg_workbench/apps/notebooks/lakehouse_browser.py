"""Lakehouse browser: tables per layer, snapshots and tags, time travel preview, promotions.

Run it alone with ``marimo run odg_workbench/apps/notebooks/lakehouse_browser.py`` (workspace from
``$ODG_HOME``) or with every app: ``odg apps``.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Lakehouse browser")


@app.cell
def _():
    import marimo as mo

    from odg_workbench.apps import views

    return mo, views


@app.cell
def _(mo, views):
    with views.workspace() as _wb:
        tables = views.layer_tables(_wb)
    mo.stop(not tables, mo.callout(mo.md(views.EMPTY_HINT), kind="warn"))
    _counts = {}
    for _t in tables:
        _counts[_t["layer"]] = _counts.get(_t["layer"], 0) + 1
    mo.vstack(
        [
            mo.md("# Lakehouse browser"),
            mo.hstack(
                [mo.stat(value=str(_counts.get(_l, 0)), label=_l.title()) for _l in views.LAYERS],
                justify="start",
            ),
            mo.ui.table(views.frame(tables), selection=None, label="Tables"),
        ]
    )
    return (tables,)


@app.cell
def _(mo, tables):
    table = mo.ui.dropdown(options=[t["table"] for t in tables], value=tables[0]["table"], label="Table")
    table
    return (table,)


@app.cell
def _(mo, table, views):
    with views.workspace() as _wb:
        snaps = views.snapshots(_wb, table.value)
    snapshot = mo.ui.dropdown(
        options={
            f"{s['snapshot_id']} {s['tags']} ({s['committed_at']})".replace("  ", " "): str(s["snapshot_id"])
            for s in snaps
        },
        label="Time travel to snapshot",
    )
    mo.vstack(
        [mo.md(f"## {table.value}: {len(snaps)} snapshots"), mo.ui.table(views.frame(snaps), selection=None), snapshot]
    )
    return (snapshot,)


@app.cell
def _(mo, snapshot, table, views):
    with views.workspace() as _wb:
        _rows = views.preview(_wb, table.value, int(snapshot.value) if snapshot.value else None)
    mo.vstack(
        [
            mo.md(f"### Preview at {'snapshot ' + snapshot.value if snapshot.value else 'the current snapshot'}"),
            mo.ui.table(_rows, selection=None, page_size=10),
        ]
    )
    return


@app.cell
def _(mo, views):
    with views.workspace() as _wb:
        _done = views.promotion_status(_wb)
        _pending = views.decisions_inbox(_wb, status="open")
    _pending = [d for d in _pending if d["type"] == "data_promotion"]
    mo.vstack(
        [
            mo.md(f"## Promotions: {len(_done)} done, {len(_pending)} waiting for a decision"),
            mo.ui.table(views.frame(_done), selection=None, label="Done") if _done else mo.md("_No promotion yet._"),
            mo.ui.table(views.frame(_pending), selection=None, label="Pending") if _pending else mo.md(""),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
