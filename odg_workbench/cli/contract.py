"""Contract commands: classify the changes between two contracts or two table schemas, lint a contract.

Exit status of ``odg contract diff`` and ``odg schema-diff``: 0 when nothing breaks, 3
when there are breaking changes, 1 on an error (unreadable or invalid contract, unknown
table or snapshot). ``odg contract lint``: 0 when the contract has no error findings, 1
otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from odg_workbench.cli._common import JsonOpt, WorkspaceOpt, handle_errors, open_workspace, print_json, stdout

if TYPE_CHECKING:
    from odg_workbench.quality.diff import Change

BREAKING = 3

contract_app = typer.Typer(
    name="contract",
    help="ODCS contracts: classify the changes between two versions, lint one.",
    no_args_is_help=True,
)

ContractArg = Annotated[Path, typer.Argument(help="ODCS v3 contract (YAML or JSON).", show_default=False)]

_STYLE = {"breaking": "bold red", "warning": "yellow", "info": "dim", "error": "bold red"}


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app)
    app.command("schema-diff")(schema_diff)


def _print_changes(changes: list[Change], summary: dict[str, Any]) -> None:
    from rich.markup import escape

    console = stdout()
    for c in changes:
        where = f" [dim](line {c.line})[/dim]" if c.line else ""
        style = _STYLE[c.kind]
        text = f"[{style}]{c.kind:<8}[/{style}] {escape(c.path)}: {escape(c.message)}{where}"
        console.print(text, highlight=False, soft_wrap=True)
    if not changes:
        console.print("no changes")
        return
    counts = ", ".join(f"{summary[k]} {k}" for k in ("breaking", "warning", "info"))
    verdict = "breaking" if summary["breaking"] else "compatible"
    console.print(
        f"{summary['total']} change{'s' if summary['total'] != 1 else ''} ({counts}): {verdict}",
        highlight=False,
        soft_wrap=True,
    )


@contract_app.command("diff")
@handle_errors
def diff(old: ContractArg, new: ContractArg, as_json: JsonOpt = False) -> None:
    """Classify every change from contract OLD to contract NEW as breaking, warning or info.

    Exit status: 0 when no change is breaking, 3 when some are, 1 when a contract cannot be read or is invalid.
    """
    from odg_workbench.quality.diff import diff_contracts, summarize

    changes = diff_contracts(old, new)
    summary = summarize(changes)
    if as_json:
        print_json({"old": str(old), "new": str(new), "summary": summary, "changes": [c.to_dict() for c in changes]})
    else:
        _print_changes(changes, summary)
    if summary["breaking"]:
        raise typer.Exit(BREAKING)


@contract_app.command("lint")
@handle_errors
def lint(file: ContractArg, as_json: JsonOpt = False) -> None:
    """Report what is wrong or missing in a contract, as file:line: level: message.

    Exit status: 0 when there is no error finding (warnings and info do not count), 1 otherwise.
    """
    from odg_workbench.quality.diff import LEVELS
    from odg_workbench.quality.diff import lint as run_lint

    findings = run_lint(file)
    counts = {level: sum(f.level == level for f in findings) for level in LEVELS}
    if as_json:
        print_json(
            {
                "file": str(file),
                "ok": not counts["error"],
                "summary": counts,
                "findings": [f.to_dict() for f in findings],
            }
        )
    else:
        from rich.markup import escape

        console = stdout()
        for f in findings:
            where = f"{file}:{f.line}" if f.line else str(file)
            style = _STYLE[f.level]
            console.print(
                f"{escape(where)}: [{style}]{f.level}[/{style}]: {escape(f.message)}", highlight=False, soft_wrap=True
            )
        plural = {"error": "errors", "warning": "warnings", "info": "info"}
        tally = ", ".join(f"{counts[level]} {level if counts[level] == 1 else plural[level]}" for level in LEVELS)
        console.print(f"{file}: {tally}", highlight=False, soft_wrap=True)
    if counts["error"]:
        raise typer.Exit(1)


@handle_errors
def schema_diff(
    table: Annotated[str, typer.Argument(help="Table as layer.name, e.g. bronze.orders.", show_default=False)],
    from_: Annotated[
        str, typer.Option("--from", help="Snapshot id, tag or ISO timestamp of the old schema.", show_default=False)
    ],
    to: Annotated[
        str | None, typer.Option("--to", help="Snapshot id, tag or ISO timestamp (default: the current schema).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Classify the column changes of a table between two snapshots (matched by Iceberg field id).

    Exit status: 0 when no change is breaking, 3 when some are, 1 on an error (unknown table or snapshot).
    """
    from odg_workbench.quality.diff import diff_schemas, summarize

    with open_workspace(workspace) as wb:
        t = wb.table(table)
        changes = diff_schemas(t, from_, to)
        snapshot_from = t.snapshot(from_).snapshot_id
        snapshot_to = t.snapshot(to).snapshot_id if to is not None else None
    summary = summarize(changes)
    if as_json:
        print_json(
            {
                "table": table,
                "from": from_,
                "to": to,
                "from_snapshot_id": snapshot_from,
                "to_snapshot_id": snapshot_to,
                "summary": summary,
                "changes": [c.to_dict() for c in changes],
            }
        )
    else:
        stdout().print(
            f"{table}: snapshot {snapshot_from} -> {snapshot_to if to is not None else 'current schema'}",
            highlight=False,
            soft_wrap=True,
        )
        _print_changes(changes, summary)
    if summary["breaking"]:
        raise typer.Exit(BREAKING)


# -- Great Expectations ---------------------------------------------------------------------

OutOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.", show_default=False)
]


@contract_app.command("to-gx")
@handle_errors
def to_gx(
    contract: ContractArg,
    output: OutOpt = None,
    object_name: Annotated[str | None, typer.Option("--object", help="Schema object to export.")] = None,
) -> None:
    """Export a contract as a Great Expectations 1.x expectation suite (JSON).

    Rules GX cannot express (sql, freshness ...) are listed with the reason under the suite's
    meta.odg.skipped, and on stderr.
    """
    import json

    from odg_workbench.cli._common import dump_json, stderr
    from odg_workbench.quality import gx

    suite = gx.to_expectation_suite(contract, object_name)
    doc = json.loads(json.dumps(suite.to_json_dict(), default=str))
    text = dump_json(doc)
    if output is None:
        print(text)
    else:
        _write_atomic(output, text + "\n")
        stderr().print(f"wrote {output}: {len(doc.get('expectations', []))} expectations", highlight=False)
    for skipped in gx.suite_skipped(suite):
        stderr().print(f"[yellow]skipped[/yellow] {skipped.rule_id}: {skipped.reason}", highlight=False)


@contract_app.command("from-gx")
@handle_errors
def from_gx(
    suite: Annotated[Path, typer.Argument(help="Great Expectations suite (JSON).", show_default=False)],
    name: Annotated[str, typer.Option("--name", help="Contract name.", show_default=False)],
    object_name: Annotated[str, typer.Option("--object", help="Schema object (table) name.", show_default=False)],
    output: OutOpt = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="A data file to take the properties' logicalTypes from.")
    ] = None,
) -> None:
    """Import a Great Expectations suite as an ODCS v3 contract (YAML); unsupported
    expectations are kept as `type: custom` rules for the GX engine."""
    from odg_workbench.cli._common import stderr
    from odg_workbench.quality import gx

    contract = gx.from_expectation_suite(suite, name=name, object_name=object_name, data=data)
    text = contract.to_yaml()
    if output is None:
        print(text, end="")
    else:
        _write_atomic(output, text)
        stderr().print(f"wrote {output}", highlight=False)


@contract_app.command("compare-gx")
@handle_errors
def compare_gx(
    data: Annotated[Path, typer.Argument(help="Parquet, CSV or JSON file to check.", show_default=False)],
    contract: Annotated[Path, typer.Option("--contract", "-c", help="ODCS v3 contract.", show_default=False)],
    object_name: Annotated[str | None, typer.Option("--object", help="Schema object to check.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a file with this engine and with Great Expectations; compare rule by rule.

    Exit status 0 when both agree on every rule they both ran, 3 when they disagree.
    """
    from dataclasses import asdict

    from odg_workbench.quality import gx

    comparison = gx.compare(data, contract, object_name)
    if as_json:
        print_json(
            {"agree": comparison.agree, "rows": comparison.data_rows, "rules": [asdict(r) for r in comparison.rows]}
        )
    else:
        stdout().print(comparison.to_text(), highlight=False, markup=False, soft_wrap=True)
        stdout().print("both engines agree" if comparison.agree else "the engines DISAGREE", highlight=False)
    if not comparison.agree:
        raise typer.Exit(BREAKING)


def _write_atomic(path: Path, text: str) -> None:
    """Write a whole file or nothing (a temporary file renamed over the target)."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
