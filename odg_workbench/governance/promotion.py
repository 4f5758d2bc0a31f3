"""Medallion promotion: Bronze -> Silver -> Gold -> Platinum through quality gates and decisions.

``promote(dataset, to=layer)`` checks the source snapshot against its contract at the
source layer's gate (Bronze 0.70, Silver 0.85, Gold 0.95):

* the gate fails: ``blocked``, with the reasons; nothing is written;
* Bronze -> Silver and the gate passes: the target is written (``promoted``);
* Silver -> Gold and Gold -> Platinum: a ``data_promotion`` decision is opened carrying the
  quality report and a recommendation ("AI recommends, human decides");
  ``pending_decision`` with its id. When the decision is approved the promotion runs, on
  the snapshot that was checked.

The target is written in **one Iceberg commit** (an overwrite: the target is the
promoted image of the source), optionally through a transformation (DuckDB SQL over
``{source}``, or a Python function of an Arrow table). The commit records the source
table and snapshot in the snapshot summary: promoting the same source snapshot with the
same transformation again writes nothing (``already_promoted``). A crash before the
commit leaves the target as it was; running the promotion again completes it. Each
promotion records a lineage edge (source snapshot -> target snapshot) and publishes
``promotion.*`` events (topic ``odg.lakehouse.promotion``), which the audit trail records.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError
from odg_workbench.lakehouse.names import LAYERS, Layer, TableName
from odg_workbench.privacy.masking import MASKED_COLUMNS_PROPERTY, mask_on_promotion, promotion_marker

if TYPE_CHECKING:
    import pyarrow as pa

    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.quality.report import QualityReport
    from odg_workbench.workspace import Workbench

__all__ = [
    "PromotionError",
    "PromotionResult",
    "Promotions",
    "Recommendation",
    "recommend",
]

Transform = str | Callable[["pa.Table"], "pa.Table"] | None
Recommender = Callable[["QualityReport", "list[dict[str, Any]] | None"], "Recommendation"]

# Promotions that need a human decision (the origin design: above Silver).
NEEDS_DECISION = {Layer.GOLD, Layer.PLATINUM}


class PromotionError(OdgError, ValueError):
    """A promotion that cannot be made as asked (wrong layer order, missing contract ...)."""


@dataclass
class Recommendation:
    """A recommender's advice on a promotion: the human decides."""

    action: str  # approve | reject | review
    confidence: float
    reasoning: list[str]
    recommender: str = "odg.rules"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recommend(report: QualityReport, contract_changes: list[dict[str, Any]] | None = None) -> Recommendation:
    """The default recommender: deterministic, from the scores, failed rules and contract changes.

    * any failing ``severity: error`` rule or a breaking contract change -> ``reject``;
    * a score at least 0.02 above the gate, no failed rule -> ``approve`` (confidence grows
      with the margin);
    * otherwise -> ``review``, naming what a person should look at.
    """
    reasons: list[str] = []
    gate = report.verdict
    breaking = [c for c in contract_changes or [] if c.get("kind") == "breaking"]
    errors = [o for o in report.failed_rules if o.rule.severity == "error"]
    if errors:
        reasons += [f"rule {o.rule.id} (severity error) fails: {o.failed} of {o.evaluated}" for o in errors]
    if breaking:
        reasons += [f"breaking contract change: {c.get('path')}: {c.get('message')}" for c in breaking]
    score = report.score
    if errors or breaking or not gate.passed:
        if not gate.passed and not errors:
            reasons.append(f"score {score} does not meet the {gate.layer} gate {gate.threshold:.2f}")
        return Recommendation("reject", 0.9 if errors or breaking else 0.75, reasons)
    margin = (score - gate.threshold) if score is not None else 0.0
    failed = report.failed_rules
    if failed:
        reasons += [f"rule {o.rule.id} ({o.rule.dimension}) fails: {o.failed} of {o.evaluated}" for o in failed[:5]]
    reasons.insert(0, f"score {score:.4f} against the {gate.layer} gate {gate.threshold:.2f} (margin {margin:+.4f})")
    if not failed and margin >= 0.02:
        return Recommendation("approve", round(min(0.99, 0.7 + margin * 5), 3), reasons)
    return Recommendation("review", round(max(0.5, 0.75 - len(failed) * 0.05), 3), reasons)


@dataclass
class PromotionResult:
    """What a promotion did: ``promoted``, ``already_promoted``, ``pending_decision`` or ``blocked``."""

    status: str
    source: str
    target: str
    source_snapshot_id: int | None
    target_snapshot_id: int | None = None
    rows: int | None = None
    score: float | None = None
    gate: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    decision_id: str | None = None
    recommendation: dict[str, Any] | None = None
    quality_run_id: str | None = None
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _transform_text(transform: Transform) -> str:
    if transform is None:
        return ""
    if isinstance(transform, str):
        return transform.strip()
    name = f"{getattr(transform, '__module__', '?')}.{getattr(transform, '__qualname__', repr(transform))}"
    try:
        source = inspect.getsource(transform)
    except (OSError, TypeError):
        source = ""
    return f"python:{name}\n{source}"


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Promotions:
    """Promotion of a workspace's tables up the medallion layers. Reach it as ``Workbench.promotions``."""

    def __init__(self, workbench: Workbench, *, recommender: Recommender | None = None) -> None:
        self._wb = workbench
        self.recommender: Recommender = recommender or recommend

    # -- the public operation ------------------------------------------------------------

    def promote(
        self,
        dataset: str,
        to: str,
        *,
        contract: str | Path | dict[str, Any] | None = None,
        transform: Transform = None,
        as_of: AsOf | None = None,
        target: str | None = None,
        domain: str | None = None,
    ) -> PromotionResult:
        """Promote ``dataset`` (``layer.name``) to the next layer ``to``; see the module docs."""
        start = time.perf_counter()
        wb = self._wb
        source = TableName.parse(dataset)
        to_layer = Layer.parse(to)
        order = list(LAYERS)
        if order.index(to_layer) != order.index(source.layer) + 1:
            raise PromotionError(
                f"{source} is in {source.layer.value}: it can be promoted to "
                + (
                    f"{order[order.index(source.layer) + 1].value}, not {to_layer.value}"
                    if source.layer is not Layer.PLATINUM
                    else f"nothing above platinum (asked: {to_layer.value})"
                ),
                table=str(source),
                expected=order[order.index(source.layer) + 1].value if source.layer is not Layer.PLATINUM else None,
                found=to_layer.value,
            )
        target_name = TableName.parse(target) if target else TableName(to_layer, source.name)
        if target_name.layer is not to_layer:
            raise PromotionError(f"target {target_name} is not in {to_layer.value}", table=str(target_name))
        if transform is not None and not isinstance(transform, str) and to_layer in NEEDS_DECISION:
            raise PromotionError(
                f"a promotion to {to_layer.value} waits for a decision and is then run from the decision: "
                "give the transformation as SQL (a Python function cannot be stored in the decision)",
                table=str(source),
            )
        table = wb.table(str(source))
        snap = table.snapshot(as_of)
        snapshot_id = snap.snapshot_id
        transform_text = _transform_text(transform)
        masking = promotion_marker(wb, str(source), str(target_name))  # a new masking plan promotes again
        marker = f"{source}@{snapshot_id}#{_fingerprint(transform_text + masking)}"

        existing = self._already(target_name, marker)
        if existing is not None:
            return PromotionResult(
                "already_promoted",
                str(source),
                str(target_name),
                snapshot_id,
                target_snapshot_id=existing,
                reasons=[f"{source} snapshot {snapshot_id} was already promoted to {target_name}"],
                duration_s=time.perf_counter() - start,
            )

        contract_path = self._contract_for(source, contract)
        report = wb.quality.check(str(source), contract_path, as_of=snapshot_id, layer=source.layer.value)
        base: dict[str, Any] = {
            "source": str(source),
            "target": str(target_name),
            "source_snapshot_id": snapshot_id,
            "score": report.score,
            "gate": report.verdict.to_dict(),
            "quality_run_id": report.run_id,
        }
        if not report.passed:
            wb.publish(
                "promotion.blocked",
                str(source),
                target=str(target_name),
                source_snapshot_id=snapshot_id,
                reasons=report.verdict.reasons,
                quality_run_id=report.run_id,
            )
            return PromotionResult(
                "blocked", reasons=report.verdict.reasons, duration_s=time.perf_counter() - start, **base
            )

        if to_layer in NEEDS_DECISION:
            advice = self.recommender(report, None)
            decision = wb.decisions.create(
                "data_promotion",
                f"Promote {source} (snapshot {snapshot_id}) to {target_name}",
                dataset=str(source),
                domain=domain,
                payload={
                    "source": str(source),
                    "target": str(target_name),
                    "source_snapshot_id": snapshot_id,
                    "transform": transform_text or None,
                    "quality_report": report.to_dict(),
                    "recommendation": advice.to_dict(),
                },
            )
            wb.publish(
                "promotion.pending",
                str(source),
                target=str(target_name),
                source_snapshot_id=snapshot_id,
                decision_id=decision.id,
                recommendation=advice.to_dict(),
            )
            return PromotionResult(
                "pending_decision",
                decision_id=decision.id,
                recommendation=advice.to_dict(),
                reasons=[f"{source.layer.value} -> {to_layer.value} needs an approved data_promotion decision"],
                duration_s=time.perf_counter() - start,
                **base,
            )

        target_snapshot, rows = self._execute(source, snapshot_id, target_name, transform, transform_text, marker)
        return PromotionResult(
            "promoted",
            target_snapshot_id=target_snapshot,
            rows=rows,
            reasons=report.verdict.reasons,
            duration_s=time.perf_counter() - start,
            **base,
        )

    def execute_decision(self, decision: Any) -> PromotionResult:
        """Run the promotion an approved ``data_promotion`` decision carries (idempotent)."""
        start = time.perf_counter()
        payload = dict(decision.payload or {})
        source = TableName.parse(payload["source"])
        target_name = TableName.parse(payload["target"])
        snapshot_id = int(payload["source_snapshot_id"])
        transform_text = payload.get("transform") or ""
        masking = promotion_marker(self._wb, str(source), str(target_name))
        marker = f"{source}@{snapshot_id}#{_fingerprint(transform_text + masking)}"
        existing = self._already(target_name, marker)
        if existing is not None:
            return PromotionResult(
                "already_promoted", str(source), str(target_name), snapshot_id, target_snapshot_id=existing
            )
        target_snapshot, rows = self._execute(
            source, snapshot_id, target_name, transform_text or None, transform_text, marker, decision_id=decision.id
        )
        return PromotionResult(
            "promoted",
            str(source),
            str(target_name),
            snapshot_id,
            target_snapshot_id=target_snapshot,
            rows=rows,
            decision_id=decision.id,
            duration_s=time.perf_counter() - start,
        )

    def history(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """Recorded lineage edges of promotions (source snapshot -> target snapshot), newest first."""
        from odg_workbench.lineage.capture import promotion_history

        return promotion_history(self._wb, str(TableName.parse(dataset)) if dataset is not None else None)

    # -- internals -----------------------------------------------------------------------

    def _contract_for(self, source: TableName, contract: str | Path | dict[str, Any] | None) -> Any:
        if contract is not None:
            return contract
        folder = self._wb.root / "contracts"
        for candidate in (
            folder / f"{source.layer.value}.{source.name}.odcs.yaml",
            folder / f"{source.name}.odcs.yaml",
        ):
            if candidate.exists():
                return candidate
        raise PromotionError(
            f"no contract for {source}: pass one (--contract FILE) or put it in "
            f"{folder}/{source.name}.odcs.yaml; the gate needs a contract",
            table=str(source),
        )

    def _already(self, target: TableName, marker: str) -> int | None:
        """The target snapshot that already holds this promotion, if its history has one."""
        from pyiceberg.table.snapshots import ancestors_of

        lake = self._wb.lakehouse
        if not lake.exists(str(target)):
            return None
        iceberg = lake.table(str(target)).iceberg
        current = iceberg.current_snapshot()
        if current is None:
            return None
        for snap in ancestors_of(current, iceberg.metadata):
            props = snap.summary.additional_properties if snap.summary else {}
            if props.get("odg.promotion") == marker:
                return int(snap.snapshot_id)
        return None

    def _data(self, source: TableName, snapshot_id: int, transform: Transform) -> pa.Table:
        wb = self._wb
        if transform is None:
            return wb.table(str(source)).to_arrow(as_of=snapshot_id)
        if isinstance(transform, str):
            if "{source}" not in transform:
                raise PromotionError(
                    "a SQL transformation names its input {source}, e.g. "
                    "SELECT * EXCLUDE (_odg_source) FROM {source} WHERE quantity > 0",
                    found=transform,
                )
            query = transform.replace("{source}", str(source))
            return wb.lakehouse.sql(query, as_of={str(source): snapshot_id}).arrow().read_all()
        data = transform(wb.table(str(source)).to_arrow(as_of=snapshot_id))
        import pyarrow as pa

        if not isinstance(data, pa.Table):
            raise PromotionError(
                f"the transformation returned {type(data).__name__}; it must return a pyarrow.Table",
                found=type(data).__name__,
            )
        return data

    def _execute(
        self,
        source: TableName,
        snapshot_id: int,
        target: TableName,
        transform: Transform,
        transform_text: str,
        marker: str,
        *,
        decision_id: str | None = None,
    ) -> tuple[int | None, int]:
        from datetime import UTC, datetime

        started = datetime.now(UTC)
        wb = self._wb
        data = self._data(source, snapshot_id, transform)
        # personal data masked by the classification (privacy.masking); a missing key raises here
        data, masked = mask_on_promotion(wb, str(source), str(target), data)
        wb.lakehouse.ensure_layers()
        props = {
            "odg.operation": "promotion",
            "odg.promotion": marker,
            "odg.source": str(source),
            "odg.source-snapshot-id": str(snapshot_id),
        }
        if masked:
            props[MASKED_COLUMNS_PROPERTY] = json.dumps(masked, sort_keys=True)
        if decision_id:
            props["odg.decision-id"] = decision_id
        target_snapshot, _, _ = wb.lakehouse.write(
            str(target), data, mode="overwrite", snapshot_properties=props, source=f"{source}@{snapshot_id}"
        )
        from odg_workbench.lineage.capture import record_promotion

        record_promotion(
            wb,
            source=str(source),
            source_snapshot_id=snapshot_id,
            target=str(target),
            target_snapshot_id=target_snapshot,
            transform=transform,
            transform_text=transform_text,
            columns=data.column_names,
            started_at=started,
            rows=data.num_rows,
            decision_id=decision_id,
            masked_columns=masked or None,
        )
        wb.publish(
            "promotion.completed",
            str(target),
            source=str(source),
            source_snapshot_id=snapshot_id,
            target_snapshot_id=target_snapshot,
            rows=data.num_rows,
            decision_id=decision_id,
            **({"masked_columns": masked} if masked else {}),
        )
        wb.publish(
            "lineage.edge",
            str(target),
            source=f"{source}@{snapshot_id}",
            target=f"{target}@{target_snapshot}",
            operation="promotion",
        )
        return target_snapshot, data.num_rows


def _execute_approved(workbench: Workbench, decision: Any) -> None:
    """Run an approved ``data_promotion`` decision's promotion (registered with the decisions)."""
    workbench.promotions.execute_decision(decision)


def _register() -> None:
    from odg_workbench.governance.decisions import on_approved

    on_approved("data_promotion", _execute_approved)


_register()
