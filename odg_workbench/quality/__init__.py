"""Data quality: ODCS contracts, a one-pass engine over ibis, DAMA scores, gates, history.

::

    import odg_workbench as odg

    wb = odg.open("~/lake")
    report = wb.quality.check("bronze.orders", "contracts/orders.odcs.yaml")
    report.score, report.verdict.status, report.to_dict()
    wb.quality.history_frame("bronze.orders")      # every run, one column per DAMA dimension

Without a workspace (nothing is stored)::

    from odg_workbench.quality import check
    check(polars_frame, "orders.odcs.yaml").passed

See ``docs/quality.md`` for the rule semantics, the score formula and the gates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odg_workbench.quality.check import check
from odg_workbench.quality.contract import Contract, compile_rules, load_contract
from odg_workbench.quality.report import QualityReport
from odg_workbench.quality.rules import Outcome, Rule, Threshold

if TYPE_CHECKING:
    from datetime import datetime

    import polars as pl

    from odg_workbench.workspace import Workbench

__all__ = [
    "Contract",
    "Outcome",
    "Quality",
    "QualityReport",
    "Rule",
    "Threshold",
    "check",
    "compile_rules",
    "load_contract",
]


class Quality:
    """The quality capability of a workspace. Reach it as ``Workbench.quality``."""

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench

    def check(self, data: Any, contract: Any, **kwargs: Any) -> QualityReport:
        """Check a table (``layer.name``), file, frame or ibis table against a contract.

        Keyword arguments: ``as_of`` (snapshot id, tag or timestamp of a table), ``object``
        (schema object of a multi-object contract), ``layer`` (gate to apply; default the
        table's layer, else bronze), ``engine`` (``"ibis"`` or ``"array"``), ``save``
        (store the run in the history, default true), ``samples``, ``masker``, ``weights``.
        """
        return check(data, contract, workbench=self._wb, **kwargs)

    def history(
        self, dataset: str | None = None, *, limit: int | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Stored runs, newest first (``dataset`` as in the report: ``bronze.orders`` or a path)."""
        from odg_workbench.quality.history import history

        return history(self._wb.state, _dataset(dataset), limit=limit, since=since)

    def history_frame(self, dataset: str | None = None) -> pl.DataFrame:
        """Stored runs as a polars DataFrame with one column per DAMA dimension."""
        from odg_workbench.quality.history import history_frame

        return history_frame(self._wb.state, _dataset(dataset))

    def rule_history(self, dataset: str, rule_id: str | None = None) -> list[dict[str, Any]]:
        """Per-rule results of a dataset over time, newest first."""
        from odg_workbench.quality.history import rule_history

        return rule_history(self._wb.state, str(_dataset(dataset)), rule_id)

    def report(self, run_id: str) -> dict[str, Any] | None:
        """The full stored report of one run (as ``QualityReport.to_dict()``)."""
        from odg_workbench.quality.history import report_json

        return report_json(self._wb.state, run_id)


def _dataset(dataset: str | None) -> str | None:
    """Table names are stored normalised (``bronze.orders``); paths as given."""
    if dataset is None:
        return None
    from odg_workbench.errors import TableNameError
    from odg_workbench.lakehouse.names import TableName

    try:
        return str(TableName.parse(dataset))
    except TableNameError:
        return dataset
