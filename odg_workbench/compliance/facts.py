"""What the workbench knows about a target, gathered once per compliance check.

A target is a table (``"layer.name"``) or the whole workspace (``"workspace"``). For each
table the facts hold: the personal data found by the PII scan
(:func:`odg_workbench.privacy.detect.scan`), its classification and jurisdictions
(``wb.classifications``), the masking plan for a reader without unmasked access
(``wb.masking.plan``) and the columns promotion masked (snapshot property
``odg.masked-columns``), special-category columns recognised by name, the retention
settings and the snapshots retention would expire now, the RACI assignment in force, the
last quality run and its contract (purpose, legal basis), lineage (promotion edges, ingest
batches), the decisions behind its promoted snapshots, differential-privacy ledger entries
and the number of audit events about it. For the workspace: the audit chain's verification,
the admins, and the registered models.

A fact that cannot be gathered (a capability not installed, an error while reading) is
recorded in ``unknown`` with the reason, never guessed: the checks that need it fail
with that reason as their evidence.

Models come from *model sources*: functions ``(workbench) -> Iterable[ModelFacts]``
registered with :func:`register_model_source` or through the entry point group
``odg_workbench.compliance.models``. The model registry (MLflow, model cards) registers
one; until then a workspace has no models, and the checks about models are not applicable.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.compliance.base import ComplianceError

if TYPE_CHECKING:
    from odg_workbench.workspace import Workbench

__all__ = [
    "MODEL_ENTRY_POINT_GROUP",
    "WORKSPACE",
    "ContractFacts",
    "Facts",
    "ModelFacts",
    "ModelSource",
    "QualityFacts",
    "RetentionFacts",
    "TableFacts",
    "gather",
    "register_model_source",
    "sensitive_category",
]

#: The target meaning "every table of the workspace".
WORKSPACE = "workspace"

#: Entry point group of model sources: ``name = "package.module:function"``.
MODEL_ENTRY_POINT_GROUP = "odg_workbench.compliance.models"

#: Who the masking plan is computed for: a reader holding no role and no unmasked access.
PROBE_READER = "compliance-reader-without-role"

# -- special categories of personal data (LGPD Art. 5 II and 11, GDPR Art. 9), by column name --

_SENSITIVE: dict[str, tuple[str, ...]] = {
    "racial or ethnic origin": ("race", "raca", "ethnicity", "ethnic_origin", "etnia", "cor_raca", "origem_racial"),
    "religious belief": ("religion", "religious", "religiao", "convicao_religiosa", "crenca"),
    "political opinion": (
        "political",
        "political_party",
        "opiniao_politica",
        "partido_politico",
        "filiacao_partidaria",
    ),
    "trade union membership": ("trade_union", "union_member", "union_membership", "sindicato", "filiacao_sindical"),
    "health": (
        "health",
        "health_condition",
        "saude",
        "diagnosis",
        "diagnostico",
        "medical",
        "medical_condition",
        "prontuario",
        "disease",
        "doenca",
        "prescription",
        "hiv",
        "deficiencia",
        "disability",
    ),
    "sex life or sexual orientation": ("sexual_orientation", "orientacao_sexual", "sex_life", "vida_sexual"),
    "genetic data": ("genetic", "genetico", "genome", "genoma", "dna"),
    "biometric data": (
        "biometric",
        "biometria",
        "biometrico",
        "fingerprint",
        "impressao_digital",
        "face_template",
        "faceprint",
        "iris_scan",
        "voiceprint",
    ),
}
_CONSENT = ("consent", "consentimento", "opt_in", "optin", "lgpd_consent", "gdpr_consent", "aceite")


def _normalise(name: str) -> str:
    """``"SaúdeCondição"`` -> ``"saude_condicao"``: accents dropped, camelCase and separators to ``_``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _matches(name: str, phrases: Iterable[str]) -> bool:
    padded = f"_{_normalise(name)}_"
    return any(f"_{p}_" in padded for p in phrases)


def sensitive_category(column: str) -> str | None:
    """The special category of personal data a column name points to, or ``None``.

    Name-based (values of these categories are free text or codes a pattern cannot
    recognise): a whole word or phrase of the name must match, in English or Portuguese,
    so ``health_plan_id`` is health data but ``wealth`` is not.
    """
    for category, phrases in _SENSITIVE.items():
        if _matches(column, phrases):
            return category
    return None


# -- the facts ------------------------------------------------------------------------------------


@dataclass
class QualityFacts:
    """The last quality run of a table."""

    run_id: str
    score: float | None
    verdict: str
    layer: str
    threshold: float
    rules: int
    rules_failed: int
    started_at: str
    snapshot_id: int | None
    contract_id: str
    contract_version: str
    contract_path: str | None
    dimensions: dict[str, float | None]
    runs: int
    via: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class ContractFacts:
    """What the table's data contract (ODCS) documents about its processing."""

    id: str | None
    version: str | None
    path: str
    domain: str | None
    purpose: str | None
    usage: str | None
    legal_basis: str | None


@dataclass
class RetentionFacts:
    """Retention settings and what they would expire now."""

    keep_last: int
    max_age_days: float
    snapshots: int
    tagged: list[str]
    due: list[int]
    oldest_due_age_days: float | None
    oldest_age_days: float | None


@dataclass
class ModelFacts:
    """A registered model as the compliance checks see it (filled by a model source).

    ``card`` holds the model card's fields as they are (intended purpose, limitations,
    metrics, human oversight, risk management ...); ``training_data`` lists
    ``(table, snapshot_id)`` pairs, a snapshot of ``None`` meaning "not pinned".
    """

    name: str
    version: str
    card: dict[str, Any] = field(default_factory=dict)
    training_data: list[tuple[str, int | None]] = field(default_factory=list)
    source: str = ""

    def field(self, *names: str) -> Any:
        """The first non-empty card field among ``names`` (a card's ``tags`` count as fields)."""
        raw = self.card.get("tags")
        tags: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        for name in names:
            for value in (self.card.get(name), tags.get(name)):
                if value not in (None, "", [], {}):
                    return value
        return None


@dataclass
class TableFacts:
    """Everything the checks need about one table."""

    table: str
    layer: str
    rows: int | None = None
    snapshot_id: int | None = None
    columns: list[str] = field(default_factory=list)
    pii: dict[str, list[str]] | None = None
    pii_sampled_rows: int | None = None
    sensitive: dict[str, str] = field(default_factory=dict)
    consent_columns: list[str] = field(default_factory=list)
    classification: dict[str, Any] | None = None
    masking_plan: dict[str, str] | None = None
    masking_reasons: list[str] = field(default_factory=list)
    masked_columns: list[str] | None = None
    retention: RetentionFacts | None = None
    raci: dict[str, Any] | None = None
    quality: QualityFacts | None = None
    contract: ContractFacts | None = None
    upstream: list[dict[str, Any]] = field(default_factory=list)
    downstream: list[dict[str, Any]] = field(default_factory=list)
    ingest_batches: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    dp_budgets: list[dict[str, Any]] | None = None
    audit_events: int | None = None
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def has_pii(self) -> bool:
        return bool(self.pii) or bool(self.sensitive)

    @property
    def personal_columns(self) -> dict[str, list[str]]:
        """PII columns with their entity types, and special-category columns (``SENSITIVE:<category>``)."""
        out = {c: list(types) for c, types in (self.pii or {}).items()}
        for column, category in self.sensitive.items():
            out.setdefault(column, []).append(f"SENSITIVE:{category}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Facts:
    """The facts of one check: the target, its tables, the workspace-wide facts, when."""

    target: str
    workspace: str
    generated_at: datetime
    tables: list[TableFacts]
    audit: dict[str, Any] | None = None
    admins: list[str] = field(default_factory=list)
    models: list[ModelFacts] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def is_workspace(self) -> bool:
        return self.target == WORKSPACE

    @property
    def jurisdictions(self) -> set[str] | None:
        """The jurisdictions of the target's tables; ``None`` when a table is not classified (all apply)."""
        found: set[str] = set()
        if not self.tables:
            return None
        for t in self.tables:
            if not t.classification:
                return None
            found |= {str(j).upper() for j in t.classification.get("jurisdictions") or ()}
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "workspace": self.workspace,
            "generated_at": self.generated_at.isoformat(),
            "tables": [t.to_dict() for t in self.tables],
            "audit": self.audit,
            "admins": list(self.admins),
            "models": [asdict(m) for m in self.models],
            "settings": dict(self.settings),
            "unknown": dict(self.unknown),
        }


# -- model sources ----------------------------------------------------------------------------------

ModelSource = Callable[["Workbench"], Iterable[ModelFacts]]
_MODEL_SOURCES: list[ModelSource] = []

#: Model sources of the workbench itself, ``module:function``, used when the module is installed:
#: the model registry (MLflow and the ``model_cards`` table).
BUILTIN_MODEL_SOURCES: tuple[str, ...] = ("odg_workbench.lineage.models:model_facts",)
_LOCK = threading.Lock()


def register_model_source(source: ModelSource) -> Callable[[], None]:
    """Add a function listing a workspace's models; returns a function that removes it."""
    with _LOCK:
        _MODEL_SOURCES.append(source)

    def remove() -> None:
        with _LOCK:
            if source in _MODEL_SOURCES:
                _MODEL_SOURCES.remove(source)

    return remove


def _model_sources() -> tuple[list[ModelSource], dict[str, str]]:
    from importlib.metadata import entry_points

    sources = list(_MODEL_SOURCES)
    problems: dict[str, str] = {}
    for spec in BUILTIN_MODEL_SOURCES:
        module, attr = spec.split(":")
        try:
            sources.append(getattr(importlib.import_module(module), attr))
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                problems[f"models:{spec}"] = f"model source {spec} failed to load: {exc}"
            # else: the model registry is not part of this installation; no models
        except Exception as exc:
            problems[f"models:{spec}"] = f"model source {spec} failed to load: {type(exc).__name__}: {exc}"
    for ep in entry_points(group=MODEL_ENTRY_POINT_GROUP):
        try:
            sources.append(ep.load())
        except Exception as exc:
            problems[f"models:{ep.name}"] = f"model source {ep.value} failed to load: {type(exc).__name__}: {exc}"
    return sources, problems


# -- gathering -------------------------------------------------------------------------------------


def gather(wb: Workbench, target: str, *, now: datetime | None = None) -> Facts:
    """Collect the facts about ``target`` (``"layer.name"`` or ``"workspace"``)."""
    from odg_workbench.errors import TableNotFoundError
    from odg_workbench.lakehouse.names import TableName

    now = now or datetime.now(UTC)
    target = str(target).strip()
    if target.lower() in (WORKSPACE, "*"):
        target = WORKSPACE
        names = [str(n) for n in wb.lakehouse.table_names()]
    else:
        if "." not in target:
            raise ComplianceError(
                f"compliance target {target!r} is neither a table (layer.name, e.g. bronze.customers) nor 'workspace'",
                found=target,
                expected="layer.name or workspace",
            )
        name = str(TableName.parse(target))
        if not wb.lakehouse.exists(name):
            known = [str(n) for n in wb.lakehouse.table_names()]
            import difflib

            close = difflib.get_close_matches(name, known, n=3)
            raise TableNotFoundError(
                f"no table {name} in the workspace {wb.root}"
                + (f" (did you mean {', '.join(close)}?)" if close else "")
                + "; a compliance target is a table or 'workspace'",
                table=name,
            )
        target = names_target = name
        names = [names_target]

    facts = Facts(target=target, workspace=str(wb.root), generated_at=now, tables=[])
    facts.settings = {
        "lakehouse.retention_keep_last": wb.config.get("lakehouse.retention_keep_last"),
        "lakehouse.retention_max_age_days": wb.config.get("lakehouse.retention_max_age_days"),
        "compliance.sox_retention_days": wb.config.get("compliance.sox_retention_days"),
    }
    _gather_workspace(wb, facts)
    for name in names:
        facts.tables.append(_table_facts(wb, name, now))
    _gather_models(wb, facts)
    return facts


def _attempt(unknown: dict[str, str], key: str, what: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; on failure record why ``key`` is unknown and return ``None``."""
    try:
        return fn()
    except ImportError as exc:
        unknown[key] = f"{what} is not available in this installation ({exc})"
    except AttributeError as exc:
        unknown[key] = f"{what} is not available in this installation ({exc})"
    except Exception as exc:
        unknown[key] = f"{what} failed: {type(exc).__name__}: {exc}"
    return None


def _gather_workspace(wb: Workbench, facts: Facts) -> None:
    def audit() -> dict[str, Any]:
        result = wb.audit.verify()
        position, head = wb.audit.head()
        return {**result.to_dict(), "head_position": position, "stored_head": head}

    facts.audit = _attempt(facts.unknown, "audit", "the audit trail verification", audit)
    from odg_workbench.governance.policy import workspace_admins

    facts.admins = workspace_admins(wb)


def _gather_models(wb: Workbench, facts: Facts) -> None:
    sources, problems = _model_sources()
    facts.unknown.update(problems)
    models: list[ModelFacts] = []
    for source in sources:
        label = f"models:{getattr(source, '__name__', source)}"
        got = _attempt(facts.unknown, label, "a model source", functools.partial(_list_models, source, wb))
        models.extend(got or [])
    if not facts.is_workspace:
        models = [m for m in models if any(t == facts.target for t, _ in m.training_data)]
    facts.models = models


def _list_models(source: ModelSource, wb: Workbench) -> list[ModelFacts]:
    models = list(source(wb))
    wrong = [m for m in models if not isinstance(m, ModelFacts)]
    if wrong:
        raise ComplianceError(f"a model source returned {type(wrong[0]).__name__}, not ModelFacts")
    return models


def _privacy(module: str) -> Any:
    return importlib.import_module(f"odg_workbench.privacy.{module}")


def _table_facts(wb: Workbench, name: str, now: datetime) -> TableFacts:
    table = wb.table(name)
    tf = TableFacts(table=name, layer=name.split(".", 1)[0])
    tf.columns = list(table.schema.names)
    tf.snapshot_id = table.current_snapshot_id
    snaps = table.snapshots()
    tf.rows = snaps[-1].total_rows if snaps else 0
    tf.snapshots = [
        {
            "snapshot_id": s.snapshot_id,
            "timestamp": s.timestamp,
            "operation": s.operation,
            "tags": list(s.tags),
            "is_current": s.is_current,
            "properties": {k: v for k, v in s.summary.items() if k.startswith("odg.")},
        }
        for s in snaps
    ]
    tf.sensitive = {c: cat for c in tf.columns if (cat := sensitive_category(c)) is not None}
    tf.consent_columns = [c for c in tf.columns if _matches(c, _CONSENT)]

    def pii() -> dict[str, list[str]]:
        report = _privacy("detect").scan(name, workbench=wb)
        tf.pii_sampled_rows = getattr(report, "rows_scanned", None)
        found = dict(report.pii_columns).items()
        return {str(c): [str(e) for e in ents] for c, ents in found if ents and not str(c).startswith("_odg_")}

    tf.pii = _attempt(tf.unknown, "pii", "PII detection (odg_workbench.privacy.detect)", pii) if tf.snapshot_id else {}

    def classification() -> dict[str, Any] | None:
        found = wb.classifications.get(name)
        return None if found is None else _plain(found.to_dict())

    tf.classification = _attempt(
        tf.unknown, "classification", "table classification (wb.classifications)", classification
    )

    def plan() -> dict[str, str]:
        explained = wb.masking.explain(name, actor=PROBE_READER)
        tf.masking_reasons = [str(r) for r in explained.reasons]
        return {str(k): str(v) for k, v in dict(explained.columns).items()}

    tf.masking_plan = _attempt(tf.unknown, "masking_plan", "the masking plan (wb.masking)", plan)
    current = next((s for s in tf.snapshots if s["is_current"]), None)
    tf.masked_columns = _masked_columns(current["properties"].get("odg.masked-columns")) if current else []
    tf.retention = _retention(wb, snaps, now)
    tf.raci = _attempt(
        tf.unknown, "raci", "the RACI assignment", lambda: _plain(wb.raci.effective(dataset=name).to_dict())
    )
    edges = _attempt(tf.unknown, "lineage", "the lineage edges", lambda: wb.promotions.history(name)) or []
    tf.upstream = [_plain(e) for e in edges if e["target"] == name]
    tf.downstream = [_plain(e) for e in edges if e["source"] == name]
    gate = next((e for e in tf.upstream if e.get("target_snapshot_id") == tf.snapshot_id), None)
    tf.quality = _attempt(tf.unknown, "quality", "the quality history", lambda: _quality(wb, name, gate))
    tf.contract = _attempt(tf.unknown, "contract", "the data contract", lambda: _contract(wb, name, tf.quality))
    if tf.layer == "bronze":
        tf.ingest_batches = (
            _attempt(tf.unknown, "ingest", "the ingest batches", lambda: wb.lakehouse.batches(name)) or []
        )
    tf.decisions = _attempt(tf.unknown, "decisions", "the decisions", lambda: _decisions(wb, tf.snapshots)) or {}

    def budgets() -> list[dict[str, Any]]:
        return [_plain(b.to_dict()) for b in wb.dp.budgets(name)]

    tf.dp_budgets = _attempt(tf.unknown, "dp", "the differential-privacy budgets (wb.dp)", budgets)
    tf.audit_events = _attempt(tf.unknown, "audit_events", "the audit events count", lambda: _audit_count(wb, name))
    return tf


def _masked_columns(value: str | None) -> list[str]:
    """``odg.masked-columns``: a JSON list, a JSON object (column -> method) or comma-separated names."""
    if not value:
        return []
    text = value.strip()
    if text.startswith(("[", "{")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return sorted(str(k) for k in parsed)
        if isinstance(parsed, list):
            return sorted(str(item.get("column", item)) if isinstance(item, dict) else str(item) for item in parsed)
    return sorted(p.split(":", 1)[0].split("=", 1)[0].strip() for p in text.split(",") if p.strip())


def _retention(wb: Workbench, snaps: list[Any], now: datetime) -> RetentionFacts:
    """The snapshots ``odg expire`` would remove now: the rules of :mod:`odg_workbench.lakehouse.maintenance`."""
    keep_last = int(wb.config.get("lakehouse.retention_keep_last"))
    max_age = float(wb.config.get("lakehouse.retention_max_age_days"))
    now_ms = now.timestamp() * 1000
    newest_first = sorted(snaps, key=lambda s: s.timestamp_ms, reverse=True)
    cutoff = now_ms - max_age * 86_400_000
    due = [
        s
        for i, s in enumerate(newest_first)
        if i >= keep_last and s.timestamp_ms < cutoff and not s.is_current and not s.tags and not s.branches
    ]

    def age(s: Any) -> float:
        return round((now_ms - float(s.timestamp_ms)) / 86_400_000, 3)

    return RetentionFacts(
        keep_last=keep_last,
        max_age_days=max_age,
        snapshots=len(snaps),
        tagged=sorted({t for s in snaps for t in s.tags}),
        due=[s.snapshot_id for s in due],
        oldest_due_age_days=max((age(s) for s in due), default=None),
        oldest_age_days=age(newest_first[-1]) if newest_first else None,
    )


def _quality(wb: Workbench, name: str, gate: dict[str, Any] | None) -> QualityFacts | None:
    """The table's last quality run; for a promoted table never checked itself, the run of the
    promotion's gate on the source snapshot that became its current snapshot (``via``)."""
    from odg_workbench.quality.history import history, report_json

    runs = history(wb.state, name)
    via = None
    snapshot_id = None
    if not runs and gate is not None:
        source_runs = [r for r in history(wb.state, gate["source"]) if r["snapshot_id"] == gate["source_snapshot_id"]]
        if source_runs:
            runs = source_runs[:1]
            via = f"{gate['source']}@{gate['source_snapshot_id']}"
            snapshot_id = gate["target_snapshot_id"]
    if not runs:
        return None
    last = runs[0]
    stored = report_json(wb.state, str(last["run_id"])) or {}
    gate = stored.get("gate") if isinstance(stored.get("gate"), dict) else {}
    return QualityFacts(
        run_id=str(last["run_id"]),
        score=last["score"],
        verdict=str(last["verdict"]),
        layer=str(last["layer"]),
        threshold=float(last["threshold"]),
        rules=int(last["rules"]),
        rules_failed=int(last["rules_failed"]),
        started_at=str(last["started_at"]),
        snapshot_id=snapshot_id if via else last["snapshot_id"],
        contract_id=str(last["contract_id"]),
        contract_version=str(last["contract_version"]),
        contract_path=last["contract_path"],
        dimensions=dict(last["dimensions"]),
        runs=len(runs),
        via=via,
        reasons=[str(r) for r in (gate or {}).get("reasons") or ()],
    )


def _contract(wb: Workbench, name: str, quality: QualityFacts | None) -> ContractFacts | None:
    """The contract of the last quality run, else the workspace's ``contracts/`` file for the table."""
    layer, short = name.split(".", 1)
    candidates = []
    if quality is not None and quality.contract_path:
        candidates.append(Path(quality.contract_path))
    folder = wb.root / "contracts"
    candidates += [folder / f"{layer}.{short}.odcs.yaml", folder / f"{short}.odcs.yaml"]
    for path in candidates:
        if path.is_file():
            import yaml

            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(doc, Mapping):
                continue
            description = doc.get("description")
            description = description if isinstance(description, Mapping) else {}
            legal = None
            for prop in doc.get("customProperties") or ():
                if isinstance(prop, Mapping) and _normalise(str(prop.get("property", ""))) in (
                    "legal_basis",
                    "lgpd_legal_basis",
                    "gdpr_legal_basis",
                    "base_legal",
                ):
                    legal = str(prop.get("value") or "").strip() or None
            return ContractFacts(
                id=_text(doc.get("id")),
                version=_text(doc.get("version")),
                path=str(path),
                domain=_text(doc.get("domain")),
                purpose=_text(description.get("purpose")),
                usage=_text(description.get("usage")),
                legal_basis=legal,
            )
    return None


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _decisions(wb: Workbench, snapshots: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The decisions named by the table's snapshots (``odg.decision-id``), by id."""
    out: dict[str, dict[str, Any]] = {}
    for snap in snapshots:
        did = snap["properties"].get("odg.decision-id")
        if did and did not in out:
            d = wb.decisions.get(did)
            out[did] = {
                "id": d.id,
                "status": d.status.value,
                "requester": d.requester,
                "approvals": [{"actor": a["actor"], "at": a["at"]} for a in d.approvals],
                "title": d.title,
            }
    return out


def _audit_count(wb: Workbench, name: str) -> int:
    import sqlalchemy as sa

    from odg_workbench.governance.audit import TABLE

    wb.audit.head()  # creates the table in a fresh workspace
    with wb.state.begin() as conn:
        found = conn.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE resource = :r"), {"r": name}).scalar()
    return int(found or 0)


def _plain(value: Any) -> Any:
    """Plain JSON values (times as ISO text, sets and tuples as lists, enums as values)."""
    return json.loads(json.dumps(value, default=_default))


def _default(value: Any) -> Any:
    import enum

    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name if isinstance(value.value, int) else value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
