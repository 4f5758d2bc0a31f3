"""Lineage explorer: upstream and downstream of a dataset, and the impact of a change.

Run it alone with ``marimo run odg_workbench/apps/notebooks/lineage_explorer.py`` (workspace
from ``$ODG_HOME``) or with every app: ``odg apps``.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Lineage explorer")


@app.cell
def _():
    import marimo as mo

    from odg_workbench.apps import views

    return mo, views


@app.cell
def _(mo, views):
    with views.workspace() as _wb:
        datasets = views.lineage_datasets(_wb)
    mo.stop(
        not datasets,
        mo.callout(
            mo.md(
                "The lineage graph is empty. Lineage is recorded by ingestion, promotions and "
                "versioned queries: " + views.EMPTY_HINT
            ),
            kind="warn",
        ),
    )
    _start = next((d for d in datasets if d.startswith("silver.")), datasets[0])
    dataset = mo.ui.dropdown(options=datasets, value=_start, label="Dataset")
    depth = mo.ui.slider(1, 10, value=5, label="Depth", show_value=True)
    mo.vstack([mo.md("# Lineage explorer"), mo.hstack([dataset, depth], justify="start")])
    return dataset, depth


@app.cell
def _(dataset, depth, mo, views):
    with views.workspace() as _wb:
        view = views.lineage_view(_wb, dataset.value, depth.value)
    mo.vstack(
        [
            mo.md(
                f"## {view['root']}: {len(view['upstream'])} upstream, {len(view['downstream'])} downstream, "
                f"{view['edges']} edges"
            ),
            mo.ui.altair_chart(view["chart"]),
            mo.hstack(
                [
                    mo.vstack([mo.md("### Upstream"), mo.ui.table(views.frame(view["upstream"]), selection=None)])
                    if view["upstream"]
                    else mo.md("_Nothing upstream._"),
                    mo.vstack([mo.md("### Downstream"), mo.ui.table(views.frame(view["downstream"]), selection=None)])
                    if view["downstream"]
                    else mo.md("_Nothing downstream._"),
                ],
                widths="equal",
            ),
        ]
    )
    return


@app.cell
def _(mo):
    change = mo.ui.dropdown(options=["schema", "data", "deprecation"], value="schema", label="Change")
    column = mo.ui.text(value="", label="Column", placeholder="whole dataset")
    mo.vstack([mo.md("## Impact of a change"), mo.hstack([change, column], justify="start")])
    return change, column


@app.cell
def _(change, column, dataset, mo, views):
    try:
        with views.workspace() as _wb:
            _impact = views.impact_view(_wb, dataset.value, column.value.strip() or None, change.value)
        _kind = {"HIGH": "danger", "MEDIUM": "warn"}.get(_impact["severity"], "success")
        _out = mo.vstack(
            [
                mo.callout(mo.md(f"**Severity {_impact['severity']}**: {_impact['rule']}"), kind=_kind),
                mo.ui.table(views.frame(_impact["datasets"]), selection=None, label="Affected datasets")
                if _impact["datasets"]
                else mo.md("_No dataset affected._"),
                mo.md(
                    f"Pipelines: {', '.join(_impact['pipelines']) or '-'} · "
                    f"models: {', '.join(_impact['models']) or '-'}"
                ),
            ]
        )
    except Exception as _exc:  # an unknown column ...: shown, not raised
        _out = mo.callout(mo.md(f"**Impact analysis refused**: {_exc}"), kind="danger")
    _out
    return


if __name__ == "__main__":
    app.run()
