"""Data quality explorer: check a table against its contract, DAMA scores now and over time.

Run it alone with ``marimo run odg_workbench/apps/notebooks/quality_explorer.py`` (workspace from
``$ODG_HOME``) or with every app: ``odg apps``.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Data quality explorer")


@app.cell
def _():
    import marimo as mo

    from odg_workbench.apps import views

    return mo, views


@app.cell
def _(mo, views):
    with views.workspace() as _wb:
        _all = views.layer_tables(_wb)
    tables = [t["table"] for t in _all]
    # open on a table that has been checked, if any
    checked = next((t["table"] for t in _all if t["quality_verdict"] is not None), tables[0] if tables else None)
    mo.stop(not tables, mo.callout(mo.md(views.EMPTY_HINT), kind="warn"))
    mo.md("# Data quality explorer\n\nPick a table, a snapshot and a contract; run a check or look at past runs.")
    return checked, tables


@app.cell
def _(checked, mo, tables):
    get_version, set_version = mo.state(0)
    table = mo.ui.dropdown(options=tables, value=checked, label="Table")
    table
    return get_version, set_version, table


@app.cell
def _(mo, table, views):
    with views.workspace() as _wb:
        _snaps = views.snapshots(_wb, table.value)
        _contracts = views.contracts_for(_wb, table.value)
    snapshot = mo.ui.dropdown(
        options={f"{s['snapshot_id']} ({s['committed_at']})": str(s["snapshot_id"]) for s in _snaps},
        label="Snapshot",
    )
    contract = mo.ui.text(value=_contracts[0] if _contracts else "", label="Contract", full_width=True)
    run = mo.ui.run_button(label="Run check")
    mo.vstack([snapshot, contract, run])
    return contract, run, snapshot


@app.cell
def _(contract, get_version, mo, run, set_version, snapshot, table, views):
    mo.stop(not run.value)
    try:
        with views.workspace() as _wb:
            _r = views.run_check(
                _wb, table.value, contract.value.strip(), int(snapshot.value) if snapshot.value else None
            )
        set_version(get_version() + 1)
        _out = mo.callout(
            mo.md(f"Checked **{_r['dataset']}**: score **{_r['score']}**, verdict **{_r['verdict']}**."),
            kind="success" if _r["verdict"] == "pass" else "warn",
        )
    except Exception as _exc:  # a bad contract path, a schema mismatch ...: shown, not raised
        _out = mo.callout(mo.md(f"**The check could not run**: {_exc}"), kind="danger")
    _out
    return


@app.cell
def _(get_version, mo, table, views):
    get_version()
    with views.workspace() as _wb:
        runs = views.quality_runs(_wb, table.value)
        _latest = None
        if runs.height:
            from odg_workbench.quality.history import report_json

            _latest = report_json(_wb.state, runs["run_id"][0])
    mo.stop(
        runs.height == 0,
        mo.md(f"_No quality run of {table.value} yet: run a check above (or `odg quality check`)._"),
    )
    mo.vstack(
        [
            mo.md(
                f"## Latest run: score **{_latest['score']}**, verdict **{_latest['verdict']}** "
                f"({_latest['gate']['layer']} gate {_latest['gate']['threshold']})\n\n"
                + "\n".join(f"- {_r}" for _r in _latest["gate"].get("reasons", []))
            ),
            mo.ui.altair_chart(views.dimension_chart(_latest)),
            mo.ui.altair_chart(views.score_history_chart(runs)),
            mo.md("### Rules, failing first (personal data in samples is masked)"),
            mo.ui.table(views.frame(views.rule_results(_latest)), selection=None, label="Rules"),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
