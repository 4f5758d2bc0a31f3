"""The result of a quality check: per-rule outcomes, DAMA scores and the gate verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from odg_workbench.quality.rules import Outcome
from odg_workbench.quality.scoring import DimensionScore, Verdict

if TYPE_CHECKING:
    import polars as pl

__all__ = ["QualityReport"]


@dataclass
class QualityReport:
    """One quality run over one dataset with one contract."""

    run_id: str
    dataset: str
    snapshot_id: int | None
    contract_id: str
    contract_version: str
    contract_path: str | None
    object: str
    engine: str
    backend: str
    rows: int
    outcomes: list[Outcome]
    dimensions: dict[str, DimensionScore]
    score: float | None
    verdict: Verdict
    started_at: datetime
    duration_s: float
    actor: str
    notes: list[str] = field(default_factory=list)
    saved: bool = False

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def empty(self) -> bool:
        return self.rows == 0

    @property
    def failed_rules(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.rule.executable and not o.passed]

    def outcome(self, rule_id: str) -> Outcome:
        for o in self.outcomes:
            if o.rule.id == rule_id:
                return o
        raise KeyError(f"no rule {rule_id!r} in this report; rules: {', '.join(o.rule.id for o in self.outcomes)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dataset": self.dataset,
            "snapshot_id": self.snapshot_id,
            "contract": {
                "id": self.contract_id,
                "version": self.contract_version,
                "path": self.contract_path,
                "object": self.object,
            },
            "engine": self.engine,
            "backend": self.backend,
            "rows": self.rows,
            "empty": self.empty,
            "rules": [o.to_dict() for o in self.outcomes],
            "dimensions": {d: s.to_dict() for d, s in self.dimensions.items()},
            "score": None if self.score is None else round(self.score, 6),
            "verdict": self.verdict.status,
            "gate": self.verdict.to_dict(),
            "started_at": self.started_at.isoformat(),
            "duration_s": round(self.duration_s, 6),
            "actor": self.actor,
            "notes": self.notes,
        }

    def to_polars(self) -> pl.DataFrame:
        """One row per rule: id, metric, dimension, value, evaluated, failed, passed ..."""
        import polars as pl

        rows = []
        for o in self.outcomes:
            d = o.to_dict()
            rows.append(
                {
                    "id": d["id"],
                    "metric": d["metric"],
                    "property": d["property"],
                    "dimension": d["dimension"],
                    "severity": d["severity"],
                    "value": None if d["value"] is None else str(d["value"]),
                    "unit": d["unit"],
                    "percent": d["percent"],
                    "evaluated": d["evaluated"],
                    "failed": d["failed"],
                    "threshold": d["threshold"]["text"],
                    "passed": d["passed"],
                }
            )
        return pl.DataFrame(rows)

    def summary(self) -> str:
        score = "n/a" if self.score is None else f"{self.score:.4f}"
        failed = len(self.failed_rules)
        return (
            f"{self.dataset}: {self.verdict.status.upper()} at the {self.verdict.layer} gate "
            f"(score {score}, threshold {self.verdict.threshold:.2f}); {self.rows:,} rows, "
            f"{len(self.outcomes)} rules, {failed} failed"
        )

    def __repr__(self) -> str:
        return f"QualityReport({self.summary()})"
