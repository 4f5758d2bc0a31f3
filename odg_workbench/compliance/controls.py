"""The controls behind the requirements: evaluations of the facts that several frameworks share.

LGPD Art. 37, GDPR Art. 30 and SOX 404 all ask for a trustworthy record of processing;
here that is one control (:func:`records_of_processing`) that each framework's requirement
points to. A control is a function ``(Facts) -> Outcome``; most are written per table
(``(TableFacts) -> Outcome``) and lifted with :func:`per_table`, which evaluates every
table of the target and fails when one fails, naming it.

Evidence is concrete (column names with entity types, scores and thresholds, snapshot
ids, the audit chain's head) and every failure carries a remediation: what to run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from odg_workbench.compliance.base import Outcome, Status
from odg_workbench.compliance.facts import Facts, ModelFacts, TableFacts

__all__ = [
    "LEVELS",
    "accountable",
    "ai_prohibited_practices",
    "ai_risk_classified",
    "ai_system_inventory",
    "all_of",
    "audit_integrity",
    "change_control",
    "classified",
    "dp_budgets",
    "legal_basis",
    "level_rank",
    "lineage_recorded",
    "masked_for_readers",
    "metadata_documented",
    "minimisation",
    "model_card_fields",
    "per_table",
    "personal_data_only",
    "purpose_documented",
    "quality_measured",
    "quality_passed",
    "records_of_processing",
    "retention_applied",
    "segregation_of_duties",
    "sensitive_data",
    "sox_record_retention",
    "training_data_governance",
    "transparency_notice",
    "when_high_risk",
]

TableControl = Callable[[TableFacts], Outcome]
Control = Callable[[Facts], Outcome]

#: Classification levels, lowest first (odg_workbench.privacy.classification.Level).
LEVELS = ("PUBLIC", "INTERNAL", "CONFIDENTIAL", "RESTRICTED", "TOP_SECRET")

NO_MODELS = "no model registered in this workspace"
_CLASSIFY_HINT = "`odg privacy classify {table} --set {level} --jurisdiction {jurisdiction}`"


def level_rank(level: Any) -> int | None:
    """The rank of a classification level given as a name (any case), a number or an enum."""
    if level is None:
        return None
    if isinstance(level, int) and not isinstance(level, bool):
        return level if 0 <= level < len(LEVELS) else None
    name = str(getattr(level, "name", level)).strip().upper().replace(" ", "_").replace("-", "_")
    return LEVELS.index(name) if name in LEVELS else None


def _level_name(level: Any) -> str:
    rank = level_rank(level)
    return LEVELS[rank] if rank is not None else str(level)


def _cols(columns: dict[str, list[str]] | Iterable[str], pii: dict[str, list[str]] | None = None) -> str:
    """``cpf (BR_CPF), email (EMAIL)``."""
    if isinstance(columns, dict):
        return ", ".join(f"{c} ({', '.join(t)})" if t else c for c, t in sorted(columns.items()))
    pii = pii or {}
    return ", ".join(f"{c} ({', '.join(pii[c])})" if pii.get(c) else c for c in sorted(columns))


def _unknown(t: TableFacts, *keys: str) -> Outcome | None:
    """A failing outcome when a needed fact could not be gathered."""
    missing = [k for k in keys if k in t.unknown]
    if not missing:
        return None
    return Outcome.failed(
        "could not be established: " + "; ".join(t.unknown[k] for k in missing),
        "make the capability named in the evidence available, then run the check again",
        unknown={k: t.unknown[k] for k in missing},
    )


def _no_personal_data(t: TableFacts) -> Outcome:
    sampled = f", {t.pii_sampled_rows} rows sampled" if t.pii_sampled_rows is not None else ""
    return Outcome.not_applicable(
        f"no personal data found in its {len(t.columns)} columns (PII scan{sampled}; no special-category column name)"
    )


def per_table(control: TableControl) -> Control:
    """Evaluate ``control`` on every table of the target: fail if one fails, pass if one passes."""

    def evaluate(facts: Facts) -> Outcome:
        if not facts.tables:
            return Outcome.not_applicable("the workspace has no tables")
        results = [(t, control(t)) for t in facts.tables]
        if len(results) == 1:
            return results[0][1]
        failed = [(t, o) for t, o in results if o.status is Status.FAIL]
        passed = [(t, o) for t, o in results if o.status is Status.PASS]
        details = {
            "tables": {
                t.table: {
                    "status": o.status.value,
                    "evidence": o.evidence,
                    **({"details": o.details} if o.details else {}),
                }
                for t, o in results
            }
        }
        if failed:
            others = f" ({len(passed)} other table(s) pass)" if passed else ""
            remediation = "; ".join(dict.fromkeys(f"{t.table}: {o.remediation}" for t, o in failed if o.remediation))
            return Outcome(
                Status.FAIL, "; ".join(f"{t.table}: {o.evidence}" for t, o in failed) + others, remediation, details
            )
        if passed:
            na = len(results) - len(passed)
            rest = f" ({na} table(s) not applicable)" if na else ""
            return Outcome(Status.PASS, "; ".join(f"{t.table}: {o.evidence}" for t, o in passed) + rest, None, details)
        return Outcome(Status.NOT_APPLICABLE, f"not applicable to any of the {len(results)} tables", None, details)

    evaluate.__name__ = getattr(control, "__name__", "per_table")
    evaluate.table_control = control  # type: ignore[attr-defined]  # for personal_data_only
    return evaluate


def personal_data_only(control: Control) -> Control:
    """A :func:`per_table` control restricted to the tables holding personal data (others: not applicable)."""
    inner: TableControl | None = getattr(control, "table_control", None)
    if inner is None:
        raise TypeError(f"{control!r} is not a per-table control")
    checked: TableControl = inner

    def evaluate(t: TableFacts) -> Outcome:
        if (u := _unknown(t, "pii")) is not None:
            return u
        if not t.has_pii:
            return _no_personal_data(t)
        return checked(t)

    evaluate.__name__ = getattr(inner, "__name__", "personal_data_only")
    return per_table(evaluate)


def all_of(*controls: Control) -> Control:
    """Several controls as one requirement: fail if one fails, pass if one passes and none fails."""

    def evaluate(facts: Facts) -> Outcome:
        outcomes = [c(facts) for c in controls]
        failed = [o for o in outcomes if o.status is Status.FAIL]
        chosen = failed or [o for o in outcomes if o.status is Status.PASS]
        if not chosen:
            return Outcome.not_applicable(" | ".join(o.evidence for o in outcomes))
        status = Status.FAIL if failed else Status.PASS
        remediation = "; ".join(o.remediation for o in failed if o.remediation) or None
        return Outcome(
            status, " | ".join(o.evidence for o in chosen), remediation, {"parts": [o.details for o in outcomes]}
        )

    return evaluate


# -- documentation: purpose, legal basis, metadata ---------------------------------------------------


def _contract_hint(t: TableFacts) -> str:
    short = t.table.split(".", 1)[1]
    return (
        f"write the purpose of the processing in the data contract's description.purpose "
        f"(contracts/{short}.odcs.yaml in the workspace, or the contract you check with) and run "
        f"`odg quality check {t.table} --contract FILE`"
    )


@per_table
def purpose_documented(t: TableFacts) -> Outcome:
    """Personal data has a documented purpose: the data contract's ``description.purpose``."""
    if (u := _unknown(t, "pii")) is not None:
        return u
    if not t.has_pii:
        return _no_personal_data(t)
    personal = _cols(t.personal_columns)
    if t.contract and t.contract.purpose:
        purpose = t.contract.purpose if len(t.contract.purpose) <= 160 else t.contract.purpose[:157] + "..."
        return Outcome.passed(
            f"contract {t.contract.id} v{t.contract.version} ({t.contract.path}) states the purpose "
            f"for the personal data in {personal}: {purpose!r}",
            contract=t.contract.path,
        )
    why = f"contract {t.contract.path} has no description.purpose" if t.contract else "no data contract is known for it"
    return Outcome.failed(
        f"personal data in {personal}, but {why}", _contract_hint(t), personal_columns=t.personal_columns
    )


@per_table
def metadata_documented(t: TableFacts) -> Outcome:
    """Every table has a contract stating its purpose and a classification (metadata management)."""
    problems = []
    if not (t.contract and t.contract.purpose):
        problems.append("no data contract with a description.purpose")
    if "classification" in t.unknown:
        problems.append(f"classification unknown ({t.unknown['classification']})")
    elif not t.classification:
        problems.append("no classification")
    if problems:
        return Outcome.failed(
            " and ".join(problems),
            _contract_hint(t)
            + "; classify it: "
            + _CLASSIFY_HINT.format(table=t.table, level="Internal", jurisdiction="GLOBAL"),
        )
    contract, classification = t.contract, t.classification or {}
    return Outcome.passed(
        f"contract {contract.id if contract else '?'} v{contract.version if contract else '?'} with a purpose; "
        f"classified {_level_name(classification.get('level'))}"
    )


_BASES = "consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests"


@per_table
def legal_basis(t: TableFacts) -> Outcome:
    """Personal data has a declared legal basis (contract ``customProperties`` legalBasis) or per-row consent."""
    if (u := _unknown(t, "pii")) is not None:
        return u
    if not t.has_pii:
        return _no_personal_data(t)
    if t.contract and t.contract.legal_basis:
        return Outcome.passed(f"contract {t.contract.id} declares the legal basis {t.contract.legal_basis!r}")
    if t.consent_columns:
        return Outcome.passed(
            f"consent is recorded per data subject in {', '.join(t.consent_columns)} "
            "(the basis holds only for the purposes consented to)",
            consent_columns=t.consent_columns,
        )
    return Outcome.failed(
        f"personal data in {_cols(t.personal_columns)} with no declared legal basis and no consent column",
        "declare the basis in the data contract: customProperties: [{property: legalBasis, value: <one of "
        f"{_BASES}>}}], or record consent per data subject in a column (e.g. consent_marketing)",
    )


# -- classification and protection ---------------------------------------------------------------


def _required_level(t: TableFacts) -> int:
    """The level the personal data calls for: the classification suggestion's (CPF, card, IBAN, SSN:
    RESTRICTED; e-mail, phone, name ...: CONFIDENTIAL); RESTRICTED for a special category."""
    need = 0
    if t.pii:
        try:
            from odg_workbench.privacy.classification import suggest_from_entities

            need = int(suggest_from_entities(t.table, t.pii).level)
        except ImportError:  # the privacy toolkit without classification: personal data is confidential
            need = LEVELS.index("CONFIDENTIAL")
    if t.sensitive:
        need = max(need, LEVELS.index("RESTRICTED"))
    return need


def classified(*, personal_only: bool) -> Control:
    """The table is classified, with jurisdictions, at a level its personal data calls for.

    The level needed is the classification suggestion's for the entity types found (CPF, CNPJ,
    card, IBAN, SSN: RESTRICTED; e-mail, phone, name ...: CONFIDENTIAL); a special category
    needs RESTRICTED.
    ``personal_only`` makes tables without personal data not applicable.
    """

    @per_table
    def evaluate(t: TableFacts) -> Outcome:
        if (u := _unknown(t, "pii", "classification")) is not None:
            return u
        if personal_only and not t.has_pii:
            return _no_personal_data(t)
        need = _required_level(t)
        hint = _CLASSIFY_HINT.format(
            table=t.table, level=LEVELS[max(need, 1)].title().replace("_", " "), jurisdiction="BR"
        )
        personal = f" (personal data in {_cols(t.personal_columns)})" if t.has_pii else ""
        if not t.classification:
            return Outcome.failed(f"not classified{personal}", f"classify it: {hint} (an owner of the table)")
        c = t.classification
        rank = level_rank(c.get("level"))
        jurisdictions = [str(j).upper() for j in c.get("jurisdictions") or ()]
        by = f" by {c.get('set_by')}" if c.get("set_by") else ""
        described = f"{_level_name(c.get('level'))} for {', '.join(jurisdictions) or 'no jurisdiction'} ({c.get('source', '?')}{by})"
        if rank is None or rank < need:
            return Outcome.failed(
                f"classified {described}, below {LEVELS[need]}{personal}",
                f"raise the level: {hint}",
                level=c.get("level"),
                required=LEVELS[need],
            )
        if not jurisdictions:
            return Outcome.failed(f"classified {described}: no jurisdiction, so no framework is known to apply", hint)
        return Outcome.passed(
            f"classified {described}{personal}", level=_level_name(c.get("level")), jurisdictions=jurisdictions
        )

    return evaluate


def _exposed(t: TableFacts) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Personal columns a reader without unmasked access sees in clear, and how the others are masked."""
    personal = t.personal_columns
    protected = {c: m for c, m in (t.masking_plan or {}).items() if c in personal}
    for c in t.masked_columns or ():
        if c in personal:
            protected.setdefault(c, "masked at promotion")
    exposed = {c: types for c, types in personal.items() if c not in protected}
    return exposed, protected


@per_table
def masked_for_readers(t: TableFacts) -> Outcome:
    """Every personal column is masked for readers without unmasked access (plan or promotion)."""
    if (u := _unknown(t, "pii", "masking_plan")) is not None:
        return u
    if not t.has_pii:
        return _no_personal_data(t)
    exposed, protected = _exposed(t)
    shown = ", ".join(f"{c}: {m}" for c, m in sorted(protected.items()))
    if exposed:
        return Outcome.failed(
            f"{_cols(exposed)} readable in clear by a reader without unmasked access"
            + (f" (masked: {shown})" if shown else ""),
            "classify the table so the masking policy covers these columns ("
            + _CLASSIFY_HINT.format(table=t.table, level="Confidential", jurisdiction="BR")
            + "), check with `odg privacy mask-plan "
            + t.table
            + " --as SOMEONE`, and promote again so the promoted copy is masked",
            exposed=exposed,
            protected=protected,
        )
    return Outcome.passed(
        f"every personal column is masked for readers without unmasked access: {shown}", protected=protected
    )


@per_table
def minimisation(t: TableFacts) -> Outcome:
    """Curated layers (silver and above) hold personal data only masked: promotion masked or dropped it."""
    if (u := _unknown(t, "pii")) is not None:
        return u
    if not t.has_pii:
        return _no_personal_data(t)
    if t.layer == "bronze":
        return Outcome.not_applicable(
            "bronze is the landing layer: personal data is minimised when promoted (checked on silver and above)"
        )
    masked = set(t.masked_columns or ())
    clear = {c: types for c, types in t.personal_columns.items() if c not in masked}
    if clear:
        return Outcome.failed(
            f"{t.layer} copy holds {_cols(clear)} unmasked (snapshot {t.snapshot_id}; "
            f"odg.masked-columns: {', '.join(sorted(masked)) or 'none'})",
            "classify the source table so promotion masks these columns, or drop them in the promotion's "
            "SQL (SELECT * EXCLUDE (col, ...) FROM {source}), then promote again",
            unmasked=clear,
        )
    return Outcome.passed(f"promotion masked {', '.join(sorted(masked))} in snapshot {t.snapshot_id}")


@per_table
def sensitive_data(t: TableFacts) -> Outcome:
    """Special categories (health, religion, biometrics ...): restricted, masked, with a declared basis."""
    if not t.sensitive:
        return Outcome.not_applicable(
            "no column names a special category of personal data (health, religion, ethnicity, biometrics, "
            "genetics, sex life, political opinion, union membership)"
        )
    if (u := _unknown(t, "classification", "masking_plan")) is not None:
        return u
    found = ", ".join(f"{c} ({cat})" for c, cat in sorted(t.sensitive.items()))
    problems, fixes = [], []
    rank = level_rank((t.classification or {}).get("level"))
    if rank is None or rank < LEVELS.index("RESTRICTED"):
        problems.append(
            f"classified {_level_name((t.classification or {}).get('level')) if t.classification else 'not at all'}, not RESTRICTED or above"
        )
        fixes.append(_CLASSIFY_HINT.format(table=t.table, level="Restricted", jurisdiction="BR"))
    _, protected = _exposed(t)
    clear = sorted(c for c in t.sensitive if c not in protected)
    if clear:
        problems.append(f"{', '.join(clear)} readable in clear by readers without unmasked access")
        fixes.append("mask these columns (a RESTRICTED classification makes the policy mask them)")
    if not (t.contract and t.contract.legal_basis):
        problems.append("no legal basis declared for special-category data in the data contract")
        fixes.append(
            "declare it: customProperties: [{property: legalBasis, value: ...}] (LGPD Art. 11 / GDPR Art. 9(2))"
        )
    if problems:
        return Outcome.failed(f"special-category columns {found}: " + "; ".join(problems), "; ".join(fixes))
    basis = t.contract.legal_basis if t.contract else None
    return Outcome.passed(f"special-category columns {found} are RESTRICTED, masked, with the legal basis {basis!r}")


# -- retention -----------------------------------------------------------------------------------------


def retention_applied(*, personal_only: bool) -> Control:
    """No snapshot outlives the retention policy: ``odg expire`` has nothing left to remove."""

    @per_table
    def evaluate(t: TableFacts) -> Outcome:
        if personal_only:
            if (u := _unknown(t, "pii")) is not None:
                return u
            if not t.has_pii:
                return _no_personal_data(t)
        r = t.retention
        if r is None:
            return Outcome.failed("the retention state is unknown", f"run `odg expire {t.table} --dry-run`")
        policy = f"retention keeps the last {r.keep_last} snapshots and {r.max_age_days:g} days"
        if r.due:
            return Outcome.failed(
                f"{len(r.due)} of {r.snapshots} snapshots are past the retention policy ({policy}) and still kept; "
                f"the oldest is {r.oldest_due_age_days:g} days old",
                f"`odg expire {t.table}` (add --dry-run first to see what goes)",
                due=r.due,
            )
        return Outcome.passed(
            f"{policy}; {r.snapshots} snapshot(s), none past it (oldest {r.oldest_age_days or 0:g} days)"
            + (f"; tagged: {', '.join(r.tagged)}" if r.tagged else "")
        )

    return evaluate


SOX_DAYS_DEFAULT = 2555


def _sox_retention(days: int) -> Control:
    @per_table
    def evaluate(t: TableFacts) -> Outcome:
        r = t.retention
        if r is None:
            return Outcome.failed("the retention state is unknown", f"run `odg expire {t.table} --dry-run`")
        if r.max_age_days >= days:
            return Outcome.passed(f"retention keeps {r.max_age_days:g} days, at least the {days} days required")
        if r.tagged:
            return Outcome.passed(
                f"retention keeps {r.max_age_days:g} days, and the period-end snapshots are tagged "
                f"(kept by retention): {', '.join(r.tagged)}"
            )
        return Outcome.failed(
            f"retention keeps {r.max_age_days:g} days (compliance.sox_retention_days: {days}) and no snapshot is "
            "tagged, so earlier versions of the records are deleted by `odg expire`",
            f"tag each period-end snapshot (`odg tag {t.table} fy2026-q1`) or set lakehouse.retention_max_age_days "
            f"to {days} (`odg config set lakehouse.retention_max_age_days {days}`)",
        )

    return evaluate


def sox_record_retention(facts: Facts) -> Outcome:
    """Financial records stay recoverable for the SOX period: long retention, or tagged period-end snapshots."""
    days = int(facts.settings.get("compliance.sox_retention_days") or SOX_DAYS_DEFAULT)
    return _sox_retention(days)(facts)


# -- accountability --------------------------------------------------------------------------------


def accountable(*, responsible: bool = True) -> Control:
    """The RACI in force names an Accountable (and a Responsible) for the table."""

    @per_table
    def evaluate(t: TableFacts) -> Outcome:
        if (u := _unknown(t, "raci")) is not None:
            return u
        raci = t.raci or {}
        roles = ("accountable", "responsible") if responsible else ("accountable",)
        missing = [r for r in roles if not raci.get(r)]
        sources = raci.get("sources") or {}
        named = ", ".join(
            f"{r}: {', '.join(raci[r])} ({sources.get(r, '?')})" for r in ("accountable", "responsible") if raci.get(r)
        )
        if missing:
            options = " ".join(f"--{r} NAME" for r in missing)
            return Outcome.failed(
                f"no {' and no '.join(missing)} in the RACI in force" + (f" ({named})" if named else ""),
                f"`odg raci set dataset:{t.table} {options}` (or on its domain: domain:NAME), as a workspace admin "
                "(governance.admins) or the domain's Accountable",
            )
        return Outcome.passed(named, raci={r: raci.get(r) for r in roles})

    return evaluate


# -- records, audit, lineage -----------------------------------------------------------------------


def audit_integrity(facts: Facts) -> Outcome:
    """The hash-chained audit trail verifies from its first event to its head."""
    if facts.audit is None:
        return Outcome.failed(
            "could not be established: " + facts.unknown.get("audit", "the audit trail was not verified"),
            "run `odg audit verify --json` and fix what it reports",
        )
    a = facts.audit
    if not a.get("ok"):
        return Outcome.failed(
            f"the audit chain is broken at position {a.get('first_bad')}: {a.get('reason')}; "
            f"{a.get('events')} events intact up to hash {str(a.get('head'))[:16]}",
            f"`odg audit verify --json` shows the event; restore state.db from a backup or an export "
            f"(`odg audit export`), and find who changed position {a.get('first_bad')}",
            **a,
        )
    return Outcome.passed(
        f"audit chain intact: {a.get('events')} events, head position {a.get('head_position')} hash {str(a.get('head'))[:16]}",
        **a,
    )


def records_of_processing(facts: Facts) -> Outcome:
    """Every operation on personal data is in an intact audit trail."""
    chain = audit_integrity(facts)
    if chain.status is not Status.PASS:
        return chain

    @per_table
    def events(t: TableFacts) -> Outcome:
        if (u := _unknown(t, "audit_events", "pii")) is not None:
            return u
        if not t.has_pii:
            return _no_personal_data(t)
        if not t.audit_events:
            return Outcome.failed(
                "no audit event names the table: its writes were not recorded",
                "write the table through the workbench (odg ingest, odg promote) so every change is audited",
            )
        return Outcome.passed(f"{t.audit_events} audit events record its processing")

    per = events(facts)
    return Outcome(per.status, f"{per.evidence}; {chain.evidence}", per.remediation, {**chain.details, **per.details})


@per_table
def lineage_recorded(t: TableFacts) -> Outcome:
    """The current snapshot's origin is recorded: an ingest batch (bronze) or a promotion edge."""
    if (u := _unknown(t, "lineage")) is not None:
        return u
    if t.snapshot_id is None:
        return Outcome.not_applicable("the table holds no snapshot yet")
    if t.layer == "bronze":
        if (u := _unknown(t, "ingest")) is not None:
            return u
        snaps = {s["snapshot_id"] for s in t.snapshots}
        batches = [b for b in t.ingest_batches if b.get("snapshot_id") in snaps]
        if not batches:
            return Outcome.failed(
                "no ingest batch records where its data came from",
                f"load it with `odg ingest FILE {t.table}` so the source is recorded",
            )
        sources = sorted({str(b.get("source")) for b in batches})
        return Outcome.passed(f"{len(batches)} ingest batch(es) from {', '.join(sources)}", sources=sources)
    edges = [e for e in t.upstream if e.get("target_snapshot_id") == t.snapshot_id]
    if not edges:
        return Outcome.failed(
            f"no lineage edge leads to the current snapshot {t.snapshot_id}",
            f"write {t.table} only by promotion (`odg promote SOURCE --to {t.layer}`), which records the edge",
        )
    e = edges[0]
    return Outcome.passed(
        f"snapshot {t.snapshot_id} promoted from {e['source']}@{e['source_snapshot_id']} by {e['actor']}",
        source=e["source"],
        source_snapshot_id=e["source_snapshot_id"],
    )


# -- change control ------------------------------------------------------------------------------------


def _outside(t: TableFacts) -> list[dict[str, Any]]:
    """Snapshots not written by a promotion (compactions, 'replace', change files only and are fine)."""
    return [
        s for s in t.snapshots if s["properties"].get("odg.operation") != "promotion" and s["operation"] != "replace"
    ]


@per_table
def change_control(t: TableFacts) -> Outcome:
    """Curated data changes only through gated promotions; gold and platinum through approved decisions."""
    if (u := _unknown(t, "decisions")) is not None:
        return u
    if t.layer == "bronze":
        return Outcome.not_applicable("bronze holds ingested raw data; change control applies from silver up")
    outside = _outside(t)
    problems = [
        f"snapshot {s['snapshot_id']} ({s['operation']}, {s['properties'].get('odg.operation') or 'direct write'}, "
        f"by {s['properties'].get('odg.actor', '?')}) was not written by a promotion"
        for s in outside
    ]
    approved = []
    if t.layer in ("gold", "platinum"):
        for s in t.snapshots:
            if s["properties"].get("odg.operation") != "promotion":
                continue
            did = s["properties"].get("odg.decision-id")
            d = t.decisions.get(did) if did else None
            if d is None:
                problems.append(f"snapshot {s['snapshot_id']} was promoted without a decision")
            elif d["status"] != "APPROVED":
                problems.append(f"snapshot {s['snapshot_id']} cites decision {did}, which is {d['status']}")
            else:
                approved.append(f"{s['snapshot_id']} by decision {did}")
    if problems:
        return Outcome.failed(
            "; ".join(problems),
            f"rebuild {t.table} through `odg promote` (gold and platinum need an approved data_promotion "
            "decision: `odg decision approve ID`), and stop direct writes to curated layers",
            outside=[s["snapshot_id"] for s in outside],
        )
    promos = sum(1 for s in t.snapshots if s["properties"].get("odg.operation") == "promotion")
    how = f"; approved: {', '.join(approved)}" if approved else " through the quality gate"
    return Outcome.passed(f"all {len(t.snapshots)} snapshot(s) come from {promos} promotion(s) or compactions{how}")


@per_table
def segregation_of_duties(t: TableFacts) -> Outcome:
    """Each approval of a promotion comes from someone other than its requester."""
    if (u := _unknown(t, "decisions")) is not None:
        return u
    if not t.decisions:
        return Outcome.not_applicable("no promotion of this table needed an approved decision")
    problems, fine = [], []
    for did, d in sorted(t.decisions.items()):
        approvers = [a["actor"] for a in d["approvals"]]
        independent = [a for a in approvers if a != d["requester"]]
        if not independent:
            problems.append(
                f"decision {did} requested by {d['requester']} has no approval from anyone else ({approvers or 'none'})"
            )
        else:
            fine.append(f"decision {did}: requested by {d['requester']}, approved by {', '.join(independent)}")
    if problems:
        return Outcome.failed(
            "; ".join(problems),
            "name different people Responsible (requesters) and Accountable (approvers) in the RACI "
            f"(`odg raci set dataset:{t.table} ...`) and have the decision approved by them",
        )
    return Outcome.passed("; ".join(fine))


# -- quality ---------------------------------------------------------------------------------------------


def _quality_hint(t: TableFacts) -> str:
    return f"`odg quality check {t.table} --contract FILE`"


@per_table
def quality_passed(t: TableFacts) -> Outcome:
    """The last quality check of the current snapshot passed its layer's gate."""
    if (u := _unknown(t, "quality")) is not None:
        return u
    q = t.quality
    if q is None:
        return Outcome.failed("never checked against a data contract", _quality_hint(t))
    run = f"run {q.run_id[:12]} ({q.started_at})" + (f", the promotion gate on {q.via}" if q.via else "")
    score = "n/a" if q.score is None else f"{q.score:.4f}"
    if q.verdict != "pass":
        why = "; ".join(q.reasons) if q.reasons else f"{q.rules_failed} of {q.rules} rules failed"
        return Outcome.failed(
            f"{run} failed the {q.layer} gate (score {score}, threshold {q.threshold:.2f}): {why}",
            f"`odg quality show {q.run_id}` lists the failing rules; fix the data, then {_quality_hint(t)}",
            score=q.score,
            threshold=q.threshold,
        )
    if t.snapshot_id is not None and q.snapshot_id not in (None, t.snapshot_id):
        return Outcome.failed(
            f"{run} passed (score {score}) but checked snapshot {q.snapshot_id}; the table is now at {t.snapshot_id}",
            f"check the current data: {_quality_hint(t)}",
            score=q.score,
        )
    return Outcome.passed(
        f"{run}: score {score} meets the {q.layer} gate {q.threshold:.2f} ({q.rules} rules, contract {q.contract_id} v{q.contract_version})",
        score=q.score,
        threshold=q.threshold,
        dimensions=q.dimensions,
    )


@per_table
def quality_measured(t: TableFacts) -> Outcome:
    """Data quality is measured and kept over time (whatever the verdict)."""
    if (u := _unknown(t, "quality")) is not None:
        return u
    q = t.quality
    if q is None:
        return Outcome.failed("no quality measurement recorded", _quality_hint(t))
    dims = ", ".join(f"{k} {v:.3f}" for k, v in sorted(q.dimensions.items()) if v is not None)
    score = "n/a" if q.score is None else f"{q.score:.4f}"
    where = f" (the promotion gate on {q.via})" if q.via else ""
    return Outcome.passed(
        f"{q.runs} run(s) in the quality history{where}; last {q.started_at}: score {score}, verdict {q.verdict} ({dims})",
        runs=q.runs,
    )


# -- differential privacy ------------------------------------------------------------------------------


@per_table
def dp_budgets(t: TableFacts) -> Outcome:
    """Aggregates released with differential privacy stay within each consumer's budget."""
    if (u := _unknown(t, "dp")) is not None:
        return u
    budgets = [b for b in t.dp_budgets or () if b.get("queries")]
    if not budgets:
        return Outcome.not_applicable("no differentially private release of this table")
    text = ", ".join(
        f"{b['consumer']}: epsilon {b['epsilon_spent']:g} of {b['epsilon']:g} in {b['queries']} queries ({b['source']})"
        for b in budgets
    )
    over = [b for b in budgets if b["epsilon_spent"] > b["epsilon"] + 1e-9 or b["delta_spent"] > b["delta"] + 1e-12]
    if over:
        return Outcome.failed(
            "budget exceeded (lowered after queries were answered?): "
            + ", ".join(f"{b['consumer']}" for b in over)
            + f"; {text}",
            f"review the ledger (`odg privacy dp ledger {t.table}`) and the budgets (`odg privacy budget {t.table}`)",
            budgets=budgets,
        )
    return Outcome.passed(f"every consumer within budget: {text}", budgets=budgets)


# -- models (EU AI Act, NIST AI RMF, ISO/IEC 42001) -----------------------------------------------------


def _no_models(facts: Facts) -> Outcome | None:
    if facts.models:
        return None
    if facts.is_workspace:
        return Outcome.not_applicable(NO_MODELS)
    return Outcome.not_applicable(f"{NO_MODELS} trained on {facts.target}")


_PURPOSE_FIELDS = ("intended_purpose", "intended_use", "purpose", "use_case", "description")


def _assess(model: ModelFacts) -> tuple[str, list[str]]:
    """The model's risk level: the card's declared ``risk_level``, else the classifier on its purpose."""
    from odg_workbench.compliance.ai_risk import classify_ai_use_case

    declared = model.field("risk_level", "ai_act_risk_level")
    purpose = model.field(*_PURPOSE_FIELDS)
    found = classify_ai_use_case(str(purpose)) if purpose else None
    levels = ["minimal", "limited", "high", "unacceptable"]
    level = str(declared).lower() if declared and str(declared).lower() in levels else None
    if found is not None and (level is None or levels.index(found.level) > levels.index(level)):
        return found.level, found.articles
    return level or "unknown", []


def ai_system_inventory(facts: Facts) -> Outcome:
    """The models of the workspace are inventoried (NIST AI RMF GOVERN 1.6)."""
    if (na := _no_models(facts)) is not None:
        return na
    listed = ", ".join(f"{m.name} v{m.version} ({m.source or 'model source'})" for m in facts.models)
    return Outcome.passed(f"{len(facts.models)} model(s) inventoried: {listed}")


def ai_risk_classified(facts: Facts) -> Outcome:
    """Each model's intended purpose is documented and classified under the EU AI Act."""
    if (na := _no_models(facts)) is not None:
        return na
    problems, fine = [], []
    for m in facts.models:
        if not m.field(*_PURPOSE_FIELDS):
            problems.append(f"{m.name} v{m.version}: the model card states no intended purpose")
            continue
        level, _ = _assess(m)
        fine.append(f"{m.name} v{m.version}: {level}")
    if problems:
        return Outcome.failed(
            "; ".join(problems),
            "write the intended purpose in each model card (field intended_purpose); "
            '`odg compliance ai-risk "PURPOSE"` shows the resulting risk level',
        )
    return Outcome.passed("risk levels: " + "; ".join(fine))


def ai_prohibited_practices(facts: Facts) -> Outcome:
    """No registered model serves a prohibited practice (EU AI Act Art. 5)."""
    if (na := _no_models(facts)) is not None:
        return na
    banned = []
    for m in facts.models:
        level, articles = _assess(m)
        if level == "unacceptable":
            banned.append(f"{m.name} v{m.version} ({', '.join(articles)})")
    if banned:
        return Outcome.failed(
            "prohibited practice: " + "; ".join(banned),
            "withdraw the model from use: Art. 5 practices may not be placed on the market or used in the EU",
        )
    return Outcome.passed(f"none of the {len(facts.models)} model(s) has a prohibited purpose")


def model_card_fields(fields: Sequence[tuple[str, Sequence[str]]], *, high_risk_only: bool) -> Control:
    """The model cards fill the named fields (each a label and the accepted card keys)."""

    def evaluate(facts: Facts) -> Outcome:
        if (na := _no_models(facts)) is not None:
            return na
        models = facts.models
        if high_risk_only:
            models = [m for m in models if _assess(m)[0] in ("high", "unacceptable")]
            if not models:
                return Outcome.not_applicable(f"none of the {len(facts.models)} model(s) is high-risk")
        problems, fine = [], []
        for m in models:
            missing = [label for label, keys in fields if m.field(*keys) is None]
            if missing:
                problems.append(f"{m.name} v{m.version}: no {', '.join(missing)}")
            else:
                fine.append(f"{m.name} v{m.version}")
        if problems:
            keys = "; ".join(f"{label}: {' or '.join(k)}" for label, k in fields)
            return Outcome.failed(
                "model card incomplete: " + "; ".join(problems), f"fill the model card fields ({keys})"
            )
        return Outcome.passed(f"documented ({', '.join(label for label, _ in fields)}) for {', '.join(fine)}")

    return evaluate


def when_high_risk(control: Control) -> Control:
    """``control``, where a registered model is high-risk; not applicable otherwise."""

    def evaluate(facts: Facts) -> Outcome:
        if (na := _no_models(facts)) is not None:
            return na
        high = [m for m in facts.models if _assess(m)[0] in ("high", "unacceptable")]
        if not high:
            return Outcome.not_applicable(f"none of the {len(facts.models)} model(s) is high-risk")
        return control(facts)

    return evaluate


def transparency_notice(facts: Facts) -> Outcome:
    """Systems that talk to people or generate content disclose it (EU AI Act Art. 50)."""
    if (na := _no_models(facts)) is not None:
        return na
    limited = [m for m in facts.models if _assess(m)[0] == "limited"]
    if not limited:
        return Outcome.not_applicable("no model interacts with people or generates content (no Art. 50 use)")
    missing = [f"{m.name} v{m.version}" for m in limited if m.field("transparency_notice", "disclosure") is None]
    if missing:
        return Outcome.failed(
            f"no disclosure documented for {', '.join(missing)}",
            "state in the model card (transparency_notice) how people are told they interact with AI or see generated content",
        )
    return Outcome.passed(f"disclosure documented for {', '.join(m.name for m in limited)}")


def training_data_governance(facts: Facts) -> Outcome:
    """Training data is pinned to snapshots, of checked quality, with recorded lineage and protected PII."""
    if (na := _no_models(facts)) is not None:
        return na
    known = {t.table: t for t in facts.tables}
    problems, fine = [], []
    for m in facts.models:
        if not m.training_data:
            problems.append(f"{m.name} v{m.version}: no training data recorded")
            continue
        for table, snapshot in m.training_data:
            t = known.get(table)
            label = f"{m.name} v{m.version} <- {table}"
            before = len(problems)
            if snapshot is None:
                problems.append(f"{label}: not pinned to a snapshot (not reproducible)")
            if t is None:
                if facts.is_workspace:
                    problems.append(f"{label}: the table is not in the workspace")
                continue
            if snapshot is not None and snapshot not in {s["snapshot_id"] for s in t.snapshots}:
                problems.append(f"{label}@{snapshot}: the snapshot is gone (expired?)")
            q = quality_passed(Facts(facts.target, facts.workspace, facts.generated_at, [t]))
            if q.status is Status.FAIL:
                problems.append(f"{label}: {q.evidence}")
            exposed, _ = _exposed(t) if t.masking_plan is not None else ({}, {})
            if exposed:
                problems.append(f"{label}: personal data in clear ({_cols(exposed)})")
            if len(problems) == before:
                fine.append(f"{label}@{snapshot}")
    if problems:
        return Outcome.failed(
            "; ".join(problems),
            "train on pinned snapshots of tables that pass their quality gate, with personal data masked",
        )
    return Outcome.passed("training data governed: " + ", ".join(fine))
