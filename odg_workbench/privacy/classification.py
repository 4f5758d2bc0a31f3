"""Classification levels and jurisdictions of tables: suggested from detected PII, set by owners.

Levels, lowest to highest (an ``IntEnum``, so levels compare)::

    Public < Internal < Confidential < Restricted < Top Secret

Suggestions come from a detection scan (:func:`odg_workbench.privacy.detect.scan`): the
highest level among the entity types found decides (:data:`ENTITY_LEVELS`); a table with
no personal data is Internal. Public and Top Secret are never suggested: publishing a
table, or raising it above Restricted, is an owner's decision.

===================================================== =============
entity types                                          level
===================================================== =============
BR_CPF, BR_CNPJ, US_SSN, CREDIT_CARD, IBAN            Restricted
EMAIL, PHONE, PERSON_NAME, ADDRESS, DATE_OF_BIRTH,    Confidential
IP_ADDRESS
(none)                                                Internal
===================================================== =============

Jurisdictions: BR, EU, US, GLOBAL. A suggestion adds BR for CPF/CNPJ, EU for IBAN, US
for SSN, and GLOBAL when nothing points at a country (:data:`ENTITY_JURISDICTIONS`).
:func:`frameworks_for` maps jurisdictions to the compliance frameworks that apply
(:data:`JURISDICTION_FRAMEWORKS`)::

    BR      lgpd
    EU      gdpr, eu_ai_act
    US      sox, nist_ai_rmf
    GLOBAL  (international standards only)

The international standards, ``iso_42001`` and ``dama_dmbok``, have no territorial scope
and apply to every table, whatever its jurisdictions.

:meth:`Classifications.set` is for owners: the Rego action ``classification.set``
(``governance/policies/classification.rego``) allows the dataset's Responsible or
Accountable and the workspace admins; lowering a level needs the Accountable or an
admin. Every change is published as ``classification.set`` (audit trail and events).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.workspace import Workbench

__all__ = [
    "ENTITY_JURISDICTIONS",
    "ENTITY_LEVELS",
    "FRAMEWORKS",
    "JURISDICTION_FRAMEWORKS",
    "ClassificationError",
    "Classifications",
    "Jurisdiction",
    "Level",
    "TableClassification",
    "frameworks_for",
    "suggest_from_entities",
]


class ClassificationError(OdgError, ValueError):
    """A classification level or jurisdiction that does not exist, or a malformed PII column list."""


class Level(IntEnum):
    """Classification levels; higher is more sensitive."""

    PUBLIC = 0
    INTERNAL = 1
    CONFIDENTIAL = 2
    RESTRICTED = 3
    TOP_SECRET = 4

    @property
    def label(self) -> str:
        """``"Top Secret"``, ``"Confidential"`` ..."""
        return self.name.replace("_", " ").title()

    @classmethod
    def parse(cls, value: Level | int | str, *, where: str = "classification level") -> Level:
        """A level from its name (any case, ``top secret``/``top_secret``/``top-secret``) or number 0-4."""
        if isinstance(value, Level):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if value in cls._value2member_map_:
                return cls(value)
        elif isinstance(value, str):
            text = value.strip()
            if text.isdigit() and int(text) in cls._value2member_map_:
                return cls(int(text))
            key = text.upper().replace(" ", "_").replace("-", "_")
            if key in cls.__members__:
                return cls[key]
        raise ClassificationError(
            f"{where}: {value!r} is not a level; use one of {', '.join(lv.label for lv in cls)} (or 0-4)",
            found=str(value),
            expected=[lv.label for lv in cls],
        )


class Jurisdiction(StrEnum):
    """Where the data's subjects or obligations are."""

    BR = "BR"
    EU = "EU"
    US = "US"
    GLOBAL = "GLOBAL"

    @classmethod
    def parse(cls, value: Jurisdiction | str) -> Jurisdiction:
        if isinstance(value, Jurisdiction):
            return value
        key = str(value).strip().upper()
        if key in cls.__members__:
            return cls[key]
        raise ClassificationError(
            f"unknown jurisdiction {value!r}; use one of {', '.join(j.value for j in cls)}",
            found=str(value),
            expected=[j.value for j in cls],
        )

    @classmethod
    def parse_many(cls, values: Iterable[Jurisdiction | str] | str | None) -> tuple[Jurisdiction, ...]:
        """``"BR,EU"`` or ``["BR", "EU"]`` -> ``(BR, EU)``, deduplicated, in enum order."""
        if values is None:
            return ()
        items = values.split(",") if isinstance(values, str) else list(values)
        found: set[Jurisdiction] = set()
        for item in items:
            for part in str(item.value if isinstance(item, Jurisdiction) else item).split(","):
                if part.strip():
                    found.add(cls.parse(part))
        return tuple(j for j in cls if j in found)


#: The compliance frameworks, in the compliance engine's names.
FRAMEWORKS: tuple[str, ...] = ("lgpd", "gdpr", "eu_ai_act", "sox", "nist_ai_rmf", "iso_42001", "dama_dmbok")

#: Frameworks a jurisdiction brings; the international standards are added to every table.
JURISDICTION_FRAMEWORKS: dict[Jurisdiction, tuple[str, ...]] = {
    Jurisdiction.BR: ("lgpd",),
    Jurisdiction.EU: ("gdpr", "eu_ai_act"),
    Jurisdiction.US: ("sox", "nist_ai_rmf"),
    Jurisdiction.GLOBAL: (),
}
_INTERNATIONAL: tuple[str, ...] = ("iso_42001", "dama_dmbok")

#: Suggested level per detected entity type (the highest found wins; none found: Internal).
ENTITY_LEVELS: dict[str, Level] = {
    "BR_CPF": Level.RESTRICTED,
    "BR_CNPJ": Level.RESTRICTED,
    "US_SSN": Level.RESTRICTED,
    "CREDIT_CARD": Level.RESTRICTED,
    "IBAN": Level.RESTRICTED,
    "EMAIL": Level.CONFIDENTIAL,
    "PHONE": Level.CONFIDENTIAL,
    "PERSON_NAME": Level.CONFIDENTIAL,
    "ADDRESS": Level.CONFIDENTIAL,
    "DATE_OF_BIRTH": Level.CONFIDENTIAL,
    "IP_ADDRESS": Level.CONFIDENTIAL,
}

#: Entity types that point at a jurisdiction (others suggest GLOBAL).
ENTITY_JURISDICTIONS: dict[str, Jurisdiction] = {
    "BR_CPF": Jurisdiction.BR,
    "BR_CNPJ": Jurisdiction.BR,
    "IBAN": Jurisdiction.EU,
    "US_SSN": Jurisdiction.US,
}


def frameworks_for(jurisdictions: Iterable[Jurisdiction | str] | str | None) -> list[str]:
    """The compliance frameworks that apply to data of these jurisdictions, in :data:`FRAMEWORKS` order."""
    wanted = set(_INTERNATIONAL)
    for j in Jurisdiction.parse_many(jurisdictions):
        wanted.update(JURISDICTION_FRAMEWORKS[j])
    return [f for f in FRAMEWORKS if f in wanted]


@dataclass(frozen=True)
class TableClassification:
    """A table's level, jurisdictions and personal-data columns (column -> entity types)."""

    table: str
    level: Level
    jurisdictions: tuple[Jurisdiction, ...]
    pii_columns: dict[str, list[str]] = field(default_factory=dict)
    source: str = "suggested"  # "suggested" | "owner"
    set_by: str | None = None
    set_at: datetime | None = None
    reason: str | None = None

    @property
    def frameworks(self) -> list[str]:
        return frameworks_for(self.jurisdictions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "level": self.level.label,
            "level_value": int(self.level),
            "jurisdictions": [j.value for j in self.jurisdictions],
            "frameworks": self.frameworks,
            "pii_columns": {c: list(e) for c, e in self.pii_columns.items()},
            "source": self.source,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat() if self.set_at else None,
            "reason": self.reason,
        }


def suggest_from_entities(table: str, pii_columns: Mapping[str, Iterable[str]]) -> TableClassification:
    """The suggestion for a table whose columns hold these entity types (see the module table)."""
    columns = {c: list(dict.fromkeys(e)) for c, e in pii_columns.items() if e}
    entities = {e for found in columns.values() for e in found}
    level = max((ENTITY_LEVELS.get(e, Level.CONFIDENTIAL) for e in entities), default=Level.INTERNAL)
    jurisdictions = {ENTITY_JURISDICTIONS[e] for e in entities if e in ENTITY_JURISDICTIONS}
    ordered = tuple(j for j in Jurisdiction if j in jurisdictions) or (Jurisdiction.GLOBAL,)
    return TableClassification(table, level, ordered, columns, source="suggested")


def _table() -> sa.Table:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if "privacy_classifications" in md.tables:
        return md.tables["privacy_classifications"]
    return sa.Table(
        "privacy_classifications",
        md,
        sa.Column("table_name", sa.String(1000), primary_key=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("jurisdictions", sa.Text, nullable=False),  # JSON list
        sa.Column("pii_columns", sa.Text, nullable=False),  # JSON object column -> entity types
        sa.Column("reason", sa.Text),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _pii_columns(value: Mapping[str, Iterable[str] | str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for col, ents in value.items():
        items = [ents] if isinstance(ents, str) else list(ents)
        names = sorted({str(e).strip().upper() for e in items if str(e).strip()})
        if not isinstance(col, str) or not col:
            raise ClassificationError(f"pii_columns: column names are non-empty strings, found {col!r}", found=col)
        out[col] = names
    return out


class Classifications:
    """Classifications of a workspace's tables, stored in its state database. Reach it as ``wb.classifications``."""

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench

    def _ensure(self) -> sa.Table:
        tbl = _table()
        self._wb.state.ensure(tbl)
        return tbl

    @staticmethod
    def _from_row(row: Mapping[str, Any]) -> TableClassification:
        return TableClassification(
            table=row["table_name"],
            level=Level(int(row["level"])),
            jurisdictions=Jurisdiction.parse_many(json.loads(row["jurisdictions"])),
            pii_columns={str(k): list(v) for k, v in json.loads(row["pii_columns"]).items()},
            source="owner",
            set_by=row["set_by"],
            set_at=_aware(row["set_at"]),
            reason=row["reason"],
        )

    @staticmethod
    def _name(table: str) -> str:
        from odg_workbench.lakehouse.names import TableName

        return str(TableName.parse(table))

    def get(self, table: str) -> TableClassification | None:
        """The classification an owner set for ``table``, or ``None``."""
        import sqlalchemy as sa

        name = self._name(table)
        tbl = self._ensure()
        with self._wb.state.begin() as conn:
            row = conn.execute(sa.select(tbl).where(tbl.c.table_name == name)).first()
        return self._from_row(dict(row._mapping)) if row is not None else None

    def all(self) -> list[TableClassification]:
        """Every stored classification, by table name."""
        import sqlalchemy as sa

        tbl = self._ensure()
        with self._wb.state.begin() as conn:
            rows = [dict(r._mapping) for r in conn.execute(sa.select(tbl).order_by(tbl.c.table_name))]
        return [self._from_row(r) for r in rows]

    def suggest(self, table: str, as_of: AsOf | None = None) -> TableClassification:
        """A classification suggested from a detection scan of ``table`` (nothing is stored)."""
        from odg_workbench.privacy.detect import scan

        name = self._name(table)
        report = scan(name, workbench=self._wb, as_of=as_of)
        columns = {c: e for c, e in report.pii_columns.items() if not c.startswith("_odg_")}
        return suggest_from_entities(name, columns)

    def set(
        self,
        table: str,
        level: Level | int | str,
        jurisdictions: Iterable[Jurisdiction | str] | str | None = None,
        *,
        reason: str | None = None,
        pii_columns: Mapping[str, Iterable[str] | str] | None = None,
    ) -> TableClassification:
        """Classify ``table`` (owners only: policy ``classification.set``); published as ``classification.set``.

        ``jurisdictions`` and ``pii_columns`` default to the stored ones, else to the
        suggestion of a detection scan; ``pii_columns`` (column -> entity types) decides
        which columns masking touches.
        """
        import sqlalchemy as sa

        from odg_workbench.governance.policy import denied_error

        wb = self._wb
        name = self._name(table)
        new_level = Level.parse(level)
        columns_present = {f.name for f in wb.table(name).iceberg.schema().fields}
        given_jur = Jurisdiction.parse_many(jurisdictions) if jurisdictions is not None else None
        given_pii = _pii_columns(pii_columns) if pii_columns is not None else None
        if given_pii is not None:
            unknown = sorted(c for c in given_pii if c not in columns_present)
            if unknown:
                raise ClassificationError(
                    f"pii_columns of {name}: no column {', '.join(unknown)} (columns: {', '.join(sorted(columns_present))})",
                    table=name,
                    found=unknown,
                )
        previous = self.get(name)
        actor = wb.user
        context: dict[str, Any] = {"level": int(new_level), "level_label": new_level.label}
        if previous is not None:
            context["previous_level"] = int(previous.level)
            context["previous_label"] = previous.level.label
        decision = wb.raci.authorize("classification.set", dataset=name, actor=actor, context=context)
        if not decision.allowed:
            raise denied_error(decision)
        suggestion: TableClassification | None = None
        if previous is None and (given_pii is None or given_jur is None):
            suggestion = self.suggest(name)
        if given_pii is None:
            given_pii = previous.pii_columns if previous is not None else suggestion.pii_columns if suggestion else {}
        if given_jur is None:
            given_jur = (
                previous.jurisdictions if previous is not None else suggestion.jurisdictions if suggestion else ()
            )
        now = datetime.now(UTC)
        record = {
            "level": int(new_level),
            "jurisdictions": json.dumps([j.value for j in given_jur]),
            "pii_columns": json.dumps(given_pii, sort_keys=True),
            "reason": reason,
            "set_by": actor,
            "set_at": now,
        }
        tbl = self._ensure()
        with wb.state.begin() as conn:
            exists = conn.execute(sa.select(tbl.c.table_name).where(tbl.c.table_name == name)).first()
            if exists is None:
                conn.execute(tbl.insert().values(table_name=name, **record))
            else:
                conn.execute(tbl.update().where(tbl.c.table_name == name).values(**record))
        after = self._from_row({"table_name": name, **record})
        wb.publish(
            "classification.set",
            name,
            level=new_level.label,
            previous_level=previous.level.label if previous else None,
            jurisdictions=[j.value for j in given_jur],
            frameworks=after.frameworks,
            pii_columns=given_pii,
            reason=reason,
            rule=decision.rule,
        )
        return after
