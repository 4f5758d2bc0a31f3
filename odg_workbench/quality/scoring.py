"""DAMA six-dimension scores and the layer gates.

**Score of a dimension** = 1 - sum(f) / sum(e) over the rules of that dimension, where
e is the number of elements a rule evaluated and f how many failed (rows for the
row-level metrics; 1 element, failed 0 or 1, for ``rowCount``, ``sql`` and
``freshness``). A dimension whose rules evaluated nothing (an empty table) has no score.

**Overall score** = the weighted mean of the dimensions that have a score; weights are
equal by default, ``quality.dimension_weights`` changes them (``completeness=2``).

**Gate**: the overall score must reach the threshold of the data's layer (Bronze 0.70,
Silver 0.85, Gold 0.95, Platinum 0.95; settings ``quality.gate_<layer>``, or the
contract's custom property ``odg.gate`` / ``odg.gate.<layer>``), and no rule of
``severity: error`` may fail, whatever the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odg_workbench.errors import ConfigError
from odg_workbench.quality.rules import DAMA_DIMENSIONS, Outcome

__all__ = ["DEFAULT_GATES", "DimensionScore", "Verdict", "gate", "parse_weights", "score"]

DEFAULT_GATES = {"bronze": 0.70, "silver": 0.85, "gold": 0.95, "platinum": 0.95}


@dataclass
class DimensionScore:
    """The score of one DAMA dimension and what it is made of."""

    dimension: str
    score: float | None
    evaluated: int
    failed: int
    rules: list[str] = field(default_factory=list)
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": None if self.score is None else round(self.score, 6),
            "evaluated": self.evaluated,
            "failed": self.failed,
            "weight": self.weight,
            "rules": self.rules,
        }


def parse_weights(text: str | dict[str, float] | None) -> dict[str, float]:
    """``"completeness=2,validity=0.5"`` (or a dict) -> weights of the six dimensions."""
    weights = dict.fromkeys(DAMA_DIMENSIONS, 1.0)
    if not text:
        return weights
    items = text.items() if isinstance(text, dict) else (part.split("=", 1) for part in str(text).split(",") if part)
    for item in items:
        if len(item) != 2:
            raise ConfigError(
                f"quality.dimension_weights: expected dimension=weight, found {'='.join(item)!r}",
                setting="quality.dimension_weights",
            )
        name, value = str(item[0]).strip(), item[1]
        if name not in weights:
            raise ConfigError(
                f"quality.dimension_weights: unknown dimension {name!r}; expected one of {', '.join(DAMA_DIMENSIONS)}",
                setting="quality.dimension_weights",
                found=name,
                expected=list(DAMA_DIMENSIONS),
            )
        try:
            weight = float(value)
        except ValueError:
            raise ConfigError(
                f"quality.dimension_weights: weight of {name} must be a number, found {value!r}",
                setting="quality.dimension_weights",
            ) from None
        if weight < 0:
            raise ConfigError(f"quality.dimension_weights: weight of {name} is negative", setting=name)
        weights[name] = weight
    return weights


def score(
    outcomes: list[Outcome], weights: dict[str, float] | None = None
) -> tuple[dict[str, DimensionScore], float | None]:
    """Per-dimension scores (only dimensions with rules) and the overall weighted score."""
    weights = weights or parse_weights(None)
    dims: dict[str, DimensionScore] = {}
    for out in outcomes:
        if not out.rule.executable:
            continue
        d = out.rule.dimension
        ds = dims.setdefault(d, DimensionScore(d, None, 0, 0, weight=weights.get(d, 1.0)))
        ds.evaluated += out.evaluated
        ds.failed += out.failed
        ds.rules.append(out.rule.id)
    for ds in dims.values():
        ds.score = 1.0 - ds.failed / ds.evaluated if ds.evaluated else None
    scored = [ds for ds in dims.values() if ds.score is not None and ds.weight > 0]
    total_weight = sum(ds.weight for ds in scored)
    overall = sum(ds.weight * (ds.score or 0.0) for ds in scored) / total_weight if total_weight else None
    ordered = {d: dims[d] for d in DAMA_DIMENSIONS if d in dims}
    ordered.update({d: v for d, v in dims.items() if d not in ordered})
    return ordered, overall


@dataclass
class Verdict:
    """Pass or fail at a layer's gate, and why."""

    passed: bool
    layer: str
    threshold: float
    score: float | None
    reasons: list[str]
    blocking_rules: list[str]

    @property
    def status(self) -> str:
        return "pass" if self.passed else "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "passed": self.passed,
            "layer": self.layer,
            "threshold": self.threshold,
            "score": None if self.score is None else round(self.score, 6),
            "reasons": self.reasons,
            "blocking_rules": self.blocking_rules,
        }


def gate(
    outcomes: list[Outcome],
    dimensions: dict[str, DimensionScore],
    overall: float | None,
    layer: str,
    threshold: float,
) -> Verdict:
    """The verdict at ``layer``: score against ``threshold``, and failing ``error`` rules block."""
    reasons: list[str] = []
    blocking = [o.rule.id for o in outcomes if o.rule.executable and not o.passed and o.rule.severity == "error"]
    for o in outcomes:
        if o.rule.id in blocking:
            reasons.append(
                f"rule {o.rule.id} ({o.rule.metric}, severity error) failed: "
                f"{_fmt(o.value)} {o.rule.unit}, expected {o.rule.threshold.describe()}"
            )
    ok_score = overall is None or overall >= threshold
    if overall is None:
        reasons.append("no rule evaluated any element (empty data): the score does not apply")
    elif not ok_score:
        reasons.append(f"score {overall:.4f} is below the {layer} gate {threshold:.2f}")
        # Which dimensions and rules pulled the score down, worst first.
        for ds in sorted(dimensions.values(), key=lambda d: d.score if d.score is not None else 1.0):
            if ds.score is not None and ds.score < 1.0:
                worst = sorted(
                    (o for o in outcomes if o.rule.dimension == ds.dimension and o.failed),
                    key=lambda o: -(o.failed / o.evaluated if o.evaluated else 0),
                )
                names = ", ".join(f"{o.rule.id} ({o.failed}/{o.evaluated} failed)" for o in worst[:3])
                reasons.append(f"{ds.dimension} {ds.score:.4f}: {names}")
    passed = ok_score and not blocking
    if passed:
        reasons.insert(
            0,
            f"score {overall:.4f} meets the {layer} gate {threshold:.2f}"
            if overall is not None
            else f"passes the {layer} gate: no error rule failed",
        )
    return Verdict(passed, layer, threshold, overall, reasons, blocking)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
