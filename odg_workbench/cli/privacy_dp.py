"""``odg privacy dp count|sum|mean|histogram|ledger`` and ``odg privacy budget``: differential privacy.

A thin adapter over :mod:`odg_workbench.privacy.dp` (``wb.dp``). Exit status: 0 on an
answer, 1 on an error; a query refused by the budget is an error
(``PrivacyBudgetExceededError``, with spent, requested and limit in ``--json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from odg_workbench.cli._common import (
    JsonOpt,
    UserOpt,
    WorkspaceOpt,
    handle_errors,
    open_workspace,
    print_json,
    print_table,
    stdout,
)

if TYPE_CHECKING:
    from odg_workbench.privacy.dp import Budget, DPResult

dp_app = typer.Typer(
    name="dp",
    help="Differentially private count, sum, mean and histogram (OpenDP), charged to a privacy budget.",
    no_args_is_help=True,
)


def register(group: typer.Typer) -> None:
    """Add this module's commands to the ``odg privacy`` group."""
    group.add_typer(dp_app)
    group.command("budget")(budget)


TableArg = Annotated[str, typer.Argument(help="A workspace table, layer.name.", show_default=False)]
ColumnArg = Annotated[str, typer.Argument(help="The column.", show_default=False)]
EpsilonOpt = Annotated[
    float, typer.Option("--epsilon", "-e", help="Privacy loss of this query (> 0); smaller means more noise.")
]
BoundsOpt = Annotated[
    str,
    typer.Option(
        "--bounds",
        help="LOW,HIGH: each value is clamped into them (domain knowledge, not the data's min and max). "
        "Negative: --bounds=-10,10.",
        show_default=False,
    ),
]
MechanismOpt = Annotated[str, typer.Option("--mechanism", "-m", help="laplace (pure epsilon-DP) or gaussian.")]
DeltaOpt = Annotated[
    float | None,
    typer.Option("--delta", help="Delta of a gaussian query (default: privacy.dp_gaussian_delta).", show_default=False),
]
ConsumerOpt = Annotated[
    str | None,
    typer.Option("--consumer", help="Whose budget pays (default: the acting user).", show_default=False),
]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where", help="Row filter in SQL, e.g. \"state = 'SP'\" (row by row: no subqueries).", show_default=False
    ),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Snapshot id, tag or ISO timestamp of the table.")]
UnitOpt = Annotated[
    str | None,
    typer.Option(
        "--unit",
        help="Column identifying the individual (default: each row is one individual).",
        show_default=False,
    ),
]
ContributionsOpt = Annotated[
    int, typer.Option("--max-contributions", help="Rows kept per individual of --unit (at random).")
]
ConfidenceOpt = Annotated[
    float | None,
    typer.Option(
        "--confidence", help="Confidence of the accuracy (default: privacy.dp_confidence).", show_default=False
    ),
]


def _as_of(value: str | None) -> Any:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _show(result: DPResult, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    out = stdout()
    what = f"{result.kind}({result.column})" if result.column else result.kind
    if isinstance(result.value, dict):
        out.print(f"{what} of {result.table}, {result.accuracy_text}:", highlight=False)
        print_table([{"bin": k, "count": v} for k, v in result.value.items()])
    else:
        out.print(f"{what} of {result.table} = {result.value}  {result.accuracy_text}", highlight=False)
    loss = f"epsilon {result.epsilon:.6g}" + (f", delta {result.delta:.3g}" if result.delta else "")
    out.print(
        f"[dim]{result.noise} noise, {loss} spent by {result.consumer}; "
        f"left: epsilon {result.budget.epsilon_left:.6g} of {result.budget.epsilon:.6g}[/dim]",
        highlight=False,
    )


def _run(
    kind: str, table: str, column: str | None, workspace: Any, user: str | None, as_json: bool, **kwargs: Any
) -> None:
    wb = open_workspace(workspace, user)
    try:
        method = getattr(wb.dp, kind)
        result = method(table, column, **kwargs) if column is not None else method(table, **kwargs)
    finally:
        wb.close()
    _show(result, as_json)


def _common(
    epsilon: float,
    mechanism: str,
    delta: float | None,
    consumer: str | None,
    where: str | None,
    as_of: str | None,
    unit: str | None,
    max_contributions: int,
    confidence: float | None,
) -> dict[str, Any]:
    return {
        "epsilon": epsilon,
        "mechanism": mechanism,
        "delta": delta,
        "consumer": consumer,
        "where": where,
        "as_of": _as_of(as_of),
        "privacy_unit": unit,
        "max_contributions": max_contributions,
        "confidence": confidence,
    }


@dp_app.command("count")
@handle_errors
def count(
    table: TableArg,
    column: Annotated[
        str | None, typer.Argument(help="Count its non-null values (default: count rows).", show_default=False)
    ] = None,
    epsilon: EpsilonOpt = 1.0,
    mechanism: MechanismOpt = "laplace",
    delta: DeltaOpt = None,
    consumer: ConsumerOpt = None,
    where: WhereOpt = None,
    as_of: AsOfOpt = None,
    unit: UnitOpt = None,
    max_contributions: ContributionsOpt = 1,
    confidence: ConfidenceOpt = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A differentially private count of rows (or of a column's non-null values)."""
    opts = _common(epsilon, mechanism, delta, consumer, where, as_of, unit, max_contributions, confidence)
    _run("count", table, column, workspace, user, as_json, **opts)


@dp_app.command("sum")
@handle_errors
def sum_(
    table: TableArg,
    column: ColumnArg,
    bounds: BoundsOpt,
    epsilon: EpsilonOpt = 1.0,
    mechanism: MechanismOpt = "laplace",
    delta: DeltaOpt = None,
    consumer: ConsumerOpt = None,
    where: WhereOpt = None,
    as_of: AsOfOpt = None,
    unit: UnitOpt = None,
    max_contributions: ContributionsOpt = 1,
    confidence: ConfidenceOpt = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A differentially private sum of a numeric column, each value clamped into --bounds."""
    opts = _common(epsilon, mechanism, delta, consumer, where, as_of, unit, max_contributions, confidence)
    _run("sum", table, column, workspace, user, as_json, bounds=bounds, **opts)


@dp_app.command("mean")
@handle_errors
def mean(
    table: TableArg,
    column: ColumnArg,
    bounds: BoundsOpt,
    epsilon: EpsilonOpt = 1.0,
    mechanism: MechanismOpt = "laplace",
    delta: DeltaOpt = None,
    consumer: ConsumerOpt = None,
    where: WhereOpt = None,
    as_of: AsOfOpt = None,
    unit: UnitOpt = None,
    max_contributions: ContributionsOpt = 1,
    confidence: ConfidenceOpt = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A differentially private mean of a numeric column clamped into --bounds (noisy sum / noisy count)."""
    opts = _common(epsilon, mechanism, delta, consumer, where, as_of, unit, max_contributions, confidence)
    _run("mean", table, column, workspace, user, as_json, bounds=bounds, **opts)


@dp_app.command("histogram")
@handle_errors
def histogram(
    table: TableArg,
    column: ColumnArg,
    categories: Annotated[
        str | None,
        typer.Option("--categories", help="Comma-separated values to count, declared up front.", show_default=False),
    ] = None,
    bins: Annotated[
        str | None,
        typer.Option("--bins", help="Comma-separated increasing numeric edges, e.g. 0,18,65.", show_default=False),
    ] = None,
    epsilon: EpsilonOpt = 1.0,
    mechanism: MechanismOpt = "laplace",
    delta: DeltaOpt = None,
    consumer: ConsumerOpt = None,
    where: WhereOpt = None,
    as_of: AsOfOpt = None,
    unit: UnitOpt = None,
    max_contributions: ContributionsOpt = 1,
    confidence: ConfidenceOpt = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Differentially private counts per declared category (--categories) or numeric bin (--bins)."""
    opts = _common(epsilon, mechanism, delta, consumer, where, as_of, unit, max_contributions, confidence)
    _run("histogram", table, column, workspace, user, as_json, categories=categories, bins=bins, **opts)


@dp_app.command("ledger")
@handle_errors
def ledger(
    table: Annotated[str | None, typer.Argument(help="Only this table.", show_default=False)] = None,
    consumer: Annotated[str | None, typer.Option("--consumer", help="Only this consumer.", show_default=False)] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every answered differentially private query: who, what, and the epsilon and delta it spent."""
    wb = open_workspace(workspace)
    try:
        rows = wb.dp.ledger(table, consumer)
    finally:
        wb.close()
    if as_json:
        print_json({"queries": rows})
        return
    cols = ["id", "at", "table", "consumer", "actor", "kind", "column", "mechanism", "epsilon", "delta"]
    print_table([{c: r.get(c) for c in cols} for r in rows], cols, title="privacy ledger")


@handle_errors
def budget(
    table: TableArg,
    consumer: Annotated[
        str | None,
        typer.Option("--consumer", help="The consumer (default: every consumer of the table).", show_default=False),
    ] = None,
    set_epsilon: Annotated[
        float | None,
        typer.Option("--set", help="Set the consumer's epsilon budget (owners and admins).", show_default=False),
    ] = None,
    delta: Annotated[
        float | None, typer.Option("--delta", help="With --set: the delta budget (default 0).", show_default=False)
    ] = None,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show privacy budgets of a table (spent and left), or set one consumer's with --set."""
    from odg_workbench.privacy.dp import DPInputError

    wb = open_workspace(workspace, user)
    try:
        if set_epsilon is not None:
            if consumer is None:
                raise DPInputError("--set needs --consumer: the consumer whose budget is set", field="consumer")
            budgets: list[Budget] = [wb.dp.set_budget(table, consumer, set_epsilon, delta or 0.0)]
        elif delta is not None:
            raise DPInputError("--delta goes with --set", field="delta")
        elif consumer is not None:
            budgets = [wb.dp.budget(table, consumer)]
        else:
            budgets = wb.dp.budgets(table)
    finally:
        wb.close()
    if as_json:
        print_json(budgets[0].to_dict() if consumer is not None else {"budgets": [b.to_dict() for b in budgets]})
        return
    cols = ["consumer", "epsilon", "epsilon_spent", "epsilon_left", "delta", "delta_spent", "queries", "source"]
    print_table([{c: b.to_dict()[c] for c in cols} for b in budgets], cols, title=f"privacy budgets of {table}")
