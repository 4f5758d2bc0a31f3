"""Privacy scanner: personal data per column, the table's classification, its masking plan.

Run it alone with ``marimo run odg_workbench/apps/notebooks/privacy_scanner.py`` (workspace from
``$ODG_HOME``) or with every app: ``odg apps``.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Privacy scanner")


@app.cell
def _():
    import marimo as mo

    from odg_workbench.apps import views

    return mo, views


@app.cell
def _(mo, views):
    with views.workspace() as _wb:
        tables = [t["table"] for t in views.layer_tables(_wb)]
    mo.stop(not tables, mo.callout(mo.md(views.EMPTY_HINT), kind="warn"))
    table = mo.ui.dropdown(options=tables, value=tables[0], label="Table")
    mo.vstack(
        [
            mo.md(
                "# Privacy scanner\n\nPersonal data found per column (names and sampled values, "
                "checksums validated), the classification it suggests, and who sees what masked."
            ),
            table,
        ]
    )
    return (table,)


@app.cell
def _(mo, table, views):
    with mo.status.spinner(title=f"Scanning {table.value}"), views.workspace() as _wb:
        result = views.privacy_scan(_wb, table.value)
    _stored = result["stored"]
    _sugg = result["suggested"]
    _mask = result["masking"]
    mo.vstack(
        [
            mo.md(
                f"## {table.value}: {len({f['column'] for f in result['findings']})} columns with personal data\n\n"
                f"{result['rows_scanned']:,} of {result['rows_total']:,} rows sampled in {result['elapsed_s']} s. "
                f"Clean columns: {', '.join(result['clean_columns']) or '-'}."
            ),
            mo.ui.altair_chart(views.findings_chart(result["findings"]))
            if result["findings"]
            else mo.callout(mo.md("No personal data found."), kind="success"),
            mo.ui.table(views.frame(result["findings"]), selection=None, label="Findings")
            if result["findings"]
            else mo.md(""),
            mo.md(
                f"### Classification\n\n**Suggested**: {_sugg['level']} · jurisdictions "
                f"{', '.join(_sugg['jurisdictions']) or '-'} · frameworks {', '.join(_sugg['frameworks'])}\n\n"
                + (
                    f"**Set by the owner**: {_stored['level']} ({', '.join(_stored['jurisdictions'])}) "
                    f"by {_stored['set_by']}"
                    if _stored
                    else "_Not classified by an owner yet_: `odg privacy classify TABLE --set LEVEL`."
                )
            ),
            mo.md(
                "### Masking for the workspace user\n\n"
                + (
                    "Reads **unmasked**. "
                    if _mask.get("unmasked")
                    else "Masked columns: "
                    + ", ".join(f"`{c}` ({m})" for c, m in (_mask.get("plan") or {}).items())
                    + ". "
                )
                + " ".join(_mask.get("reasons") or [])
            ),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
