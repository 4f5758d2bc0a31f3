"""What a compliance checker is: requirements evaluated against a target's facts into findings.

A framework is a :class:`ComplianceChecker`: a name (``"lgpd"``), a title, the version of
the text it follows, the jurisdictions it belongs to, its :class:`Requirement` list and a
``check(target, facts)`` method returning one :class:`Finding` per requirement.

:class:`Checker` is the base class of the built-in frameworks and the easiest start for a
plugin: give it requirements whose ``evaluate`` is a function of the facts returning an
:class:`Outcome`, and ``check`` is done. A plugin may also implement the protocol from
scratch; the registry only relies on the attributes and ``check`` below.

Exceptions::

    OdgError
    └── ComplianceError(ValueError)            a checker or an argument that cannot be used
        └── UnknownFrameworkError(LookupError)  no framework of that name (lists the known ones)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    from odg_workbench.compliance.facts import Facts

__all__ = [
    "Checker",
    "ComplianceChecker",
    "ComplianceError",
    "Finding",
    "Outcome",
    "Requirement",
    "Status",
    "UnknownFrameworkError",
]


class ComplianceError(OdgError, ValueError):
    """A compliance checker or argument that cannot be used (bad plugin, bad target ...)."""


class UnknownFrameworkError(ComplianceError, LookupError):
    """No compliance framework of that name is registered; ``known`` lists the names that are."""


class Status(StrEnum):
    """The verdict on one requirement."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Outcome:
    """What a requirement's evaluation found: status, evidence in words, structured details, a fix."""

    status: Status
    evidence: str
    remediation: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, evidence: str, **details: Any) -> Outcome:
        return cls(Status.PASS, evidence, None, details)

    @classmethod
    def failed(cls, evidence: str, remediation: str, **details: Any) -> Outcome:
        return cls(Status.FAIL, evidence, remediation, details)

    @classmethod
    def not_applicable(cls, evidence: str, **details: Any) -> Outcome:
        return cls(Status.NOT_APPLICABLE, evidence, None, details)


@dataclass(frozen=True)
class Finding:
    """The verdict on one requirement of one framework for one target."""

    requirement_id: str
    name: str
    status: Status
    evidence: str
    remediation: str | None = None
    framework: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "requirement_id": self.requirement_id,
            "name": self.name,
            "status": self.status.value,
            "evidence": self.evidence,
            "remediation": self.remediation,
            "details": self.details,
        }


Evaluate = Callable[["Facts"], Outcome]


@dataclass(frozen=True)
class Requirement:
    """One requirement of a framework: its id in the text (``"Art. 46"``), a short name, what it asks.

    ``evaluate`` turns the facts into an :class:`Outcome`; ``reference`` cites the text.
    """

    id: str
    name: str
    description: str
    evaluate: Evaluate
    reference: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description, "reference": self.reference}


@runtime_checkable
class ComplianceChecker(Protocol):
    """The interface of a framework checker (built-in or plugin)."""

    name: str
    title: str
    version: str
    jurisdictions: Sequence[str]

    @property
    def requirements(self) -> Sequence[Requirement]: ...

    def check(self, target: str, facts: Facts) -> list[Finding]: ...


class Checker:
    """A framework defined by its requirements; ``check`` evaluates each against the facts.

    Subclass it and set the class attributes (see :mod:`odg_workbench.compliance.checkers`),
    or instantiate it directly::

        Checker("acme", "ACME data policy", "2026", ["GLOBAL"], [Requirement(...)])
    """

    name: str = ""
    title: str = ""
    version: str = ""
    jurisdictions: Sequence[str] = ("GLOBAL",)
    _requirements: Sequence[Requirement] = ()

    def __init__(
        self,
        name: str | None = None,
        title: str | None = None,
        version: str | None = None,
        jurisdictions: Sequence[str] | None = None,
        requirements: Sequence[Requirement] | None = None,
    ) -> None:
        if name is not None:
            self.name = name
        if title is not None:
            self.title = title
        if version is not None:
            self.version = version
        if jurisdictions is not None:
            self.jurisdictions = tuple(jurisdictions)
        if requirements is not None:
            self._requirements = tuple(requirements)

    @property
    def requirements(self) -> Sequence[Requirement]:
        return self._requirements

    def check(self, target: str, facts: Facts) -> list[Finding]:
        """One finding per requirement; a requirement whose evaluation raises fails with the error."""
        findings = []
        for req in self.requirements:
            try:
                outcome = req.evaluate(facts)
            except Exception as exc:  # one broken rule must not hide the others
                outcome = Outcome.failed(
                    f"the check could not be evaluated: {type(exc).__name__}: {exc}",
                    "fix the checker or the data it reads, then run the check again",
                    error=type(exc).__name__,
                )
            findings.append(
                Finding(
                    requirement_id=req.id,
                    name=req.name,
                    status=outcome.status,
                    evidence=outcome.evidence,
                    remediation=outcome.remediation,
                    framework=self.name,
                    details=outcome.details,
                )
            )
        return findings

    def describe(self) -> dict[str, Any]:
        """Name, title, version, jurisdictions and requirements, JSON-ready."""
        return {
            "name": self.name,
            "title": self.title,
            "version": self.version,
            "jurisdictions": list(self.jurisdictions),
            "requirements": [r.to_dict() for r in self.requirements],
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self.requirements)} requirements)"
