"""The registry of compliance frameworks: built-ins, entry-point plugins, and checkers registered at run time.

A framework is found, by name, in this order: checkers given to :func:`register`, the
built-ins (:data:`~odg_workbench.compliance.checkers.BUILTINS`), then the entry point
group ``odg_workbench.compliance`` of every installed distribution::

    [project.entry-points."odg_workbench.compliance"]
    acme = "acme_compliance:CHECKER"

An entry point may name a checker instance, a checker class (instantiated without
arguments) or a function returning a checker. Plugins load only when their framework is
used (or listed with details), so a broken plugin never breaks the other frameworks.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from odg_workbench.compliance.base import ComplianceChecker, ComplianceError, Finding, UnknownFrameworkError
from odg_workbench.compliance.checkers import BUILTINS

if TYPE_CHECKING:
    from datetime import datetime

    from odg_workbench.compliance.facts import Facts
    from odg_workbench.compliance.report import ComplianceReport
    from odg_workbench.workspace import Workbench

__all__ = [
    "ENTRY_POINT_GROUP",
    "applicable",
    "check",
    "check_all",
    "frameworks",
    "get_checker",
    "register",
    "unregister",
]

ENTRY_POINT_GROUP = "odg_workbench.compliance"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REGISTERED: dict[str, ComplianceChecker] = {}
_LOADED: dict[str, tuple[str, ComplianceChecker]] = {}  # plugin -> (entry point value, checker)
_BUILTIN_CACHE: dict[str, ComplianceChecker] = {}
_LOCK = threading.RLock()

#: Other spellings people use for the built-in frameworks.
ALIASES = {
    "ai_act": "eu_ai_act",
    "euaiact": "eu_ai_act",
    "nist": "nist_ai_rmf",
    "nist_rmf": "nist_ai_rmf",
    "iso42001": "iso_42001",
    "iso_iec_42001": "iso_42001",
    "dama": "dama_dmbok",
    "dmbok": "dama_dmbok",
    "sarbanes_oxley": "sox",
}


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-/.]+", "_", str(name).strip().lower())


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _validate(checker: Any, origin: str) -> ComplianceChecker:
    if isinstance(checker, type):
        checker = checker()
    missing = [a for a in ("name", "title", "version", "jurisdictions", "requirements") if not hasattr(checker, a)]
    if missing or not callable(getattr(checker, "check", None)):
        raise ComplianceError(
            f"{origin}: {checker!r} is not a compliance checker: it needs name, title, version, jurisdictions, "
            "requirements and check(target, facts) (see odg_workbench.compliance.Checker)",
            found=type(checker).__name__,
            missing=missing or ["check"],
        )
    if not isinstance(checker.name, str) or not _NAME.match(checker.name):
        raise ComplianceError(
            f"{origin}: framework name {checker.name!r} must be lower case letters, digits and _ (e.g. acme_policy)",
            found=repr(checker.name),
        )
    assert isinstance(checker, ComplianceChecker)
    return checker


def register(candidate: Any, *, replace: bool = False) -> ComplianceChecker:
    """Add a framework at run time (a checker instance or class); ``replace`` overrides one of that name."""
    checker = _validate(candidate, "register()")
    with _LOCK:
        taken = checker.name in _REGISTERED or checker.name in BUILTINS or checker.name in _entry_points()
        if taken and not replace:
            raise ComplianceError(
                f"a framework named {checker.name!r} is already registered; pass replace=True to override it",
                framework=checker.name,
            )
        _REGISTERED[checker.name] = checker
    return _REGISTERED[checker.name]


def unregister(name: str) -> None:
    """Remove a framework added with :func:`register` (built-ins and plugins come back on their own)."""
    with _LOCK:
        _REGISTERED.pop(_normalise(name), None)


def frameworks() -> list[str]:
    """Every framework name: built-ins first (in their order), then plugins and registered ones, sorted."""
    return _known(_entry_points())


def _known(eps: dict[str, Any]) -> list[str]:
    others = (set(eps) | set(_REGISTERED)) - set(BUILTINS)
    return [*BUILTINS, *sorted(others)]


def _load_builtin(name: str) -> ComplianceChecker:
    module, attr = BUILTINS[name].split(":")
    return _validate(getattr(importlib.import_module(module), attr), f"built-in {name}")


def _load_plugin(name: str, ep: Any) -> ComplianceChecker:
    try:
        obj = ep.load()
    except Exception as exc:
        raise ComplianceError(
            f"the compliance plugin {name!r} ({ep.value}, entry point group {ENTRY_POINT_GROUP}) failed to load: "
            f"{type(exc).__name__}: {exc}",
            framework=name,
            entry_point=ep.value,
        ) from exc
    if callable(obj) and not isinstance(obj, type) and not hasattr(obj, "check"):
        obj = obj()
    checker = _validate(obj, f"entry point {name} = {ep.value}")
    if checker.name != name:
        raise ComplianceError(
            f"the entry point {name!r} ({ep.value}) gives a checker named {checker.name!r}; the names must match",
            framework=name,
        )
    return checker


def get_checker(name: str) -> ComplianceChecker:
    """The checker of framework ``name``; :class:`UnknownFrameworkError` lists the known ones."""
    key = _normalise(name)
    key = ALIASES.get(key, key)
    with _LOCK:
        if key in _REGISTERED:
            return _REGISTERED[key]
        if key in BUILTINS:
            if key not in _BUILTIN_CACHE:
                _BUILTIN_CACHE[key] = _load_builtin(key)
            return _BUILTIN_CACHE[key]
        eps = _entry_points()
        if key in eps:
            cached = _LOADED.get(key)
            if cached is not None and cached[0] == eps[key].value:  # the same plugin is still installed
                return cached[1]
            checker = _load_plugin(key, eps[key])
            _LOADED[key] = (eps[key].value, checker)
            return checker
        known = _known(eps)
        close = difflib.get_close_matches(key, known + list(ALIASES), n=1, cutoff=0.5)
        suggestion = ALIASES.get(close[0], close[0]) if close else None
        raise UnknownFrameworkError(
            f"unknown compliance framework {name!r}"
            + (f" (did you mean {suggestion}?)" if suggestion else "")
            + f"; known frameworks: {', '.join(known)}",
            found=name,
            known=known,
            suggestion=suggestion,
        )


def applicable(
    jurisdictions: Iterable[str] | None, names: Sequence[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The frameworks that apply to a target's jurisdictions, and why the others were left out.

    ``None`` (no classified table) means every framework applies. A framework applies when
    it shares a jurisdiction with the target, or one of them is GLOBAL.
    """
    names = list(names) if names is not None else frameworks()
    if jurisdictions is None:
        return names, {}
    target = {str(j).upper() for j in jurisdictions}
    chosen, skipped = [], {}
    for name in names:
        own = {str(j).upper() for j in get_checker(name).jurisdictions}
        if "GLOBAL" in own or "GLOBAL" in target or own & target:
            chosen.append(name)
        else:
            skipped[name] = (
                f"applies to {', '.join(sorted(own))}; the target is classified for {', '.join(sorted(target)) or 'no jurisdiction'}"
            )
    return chosen, skipped


def _stamp(findings: Iterable[Finding], framework: str) -> list[Finding]:
    """Findings with their framework set (a plugin may leave it empty), checked to be findings."""
    out = []
    for f in findings:
        if not isinstance(f, Finding):
            raise ComplianceError(
                f"the {framework} checker returned {type(f).__name__}, not odg_workbench.compliance.Finding",
                framework=framework,
            )
        out.append(f if f.framework else dataclasses.replace(f, framework=framework))
    return out


def _facts(workbench: Workbench, target: str, now: datetime | None) -> Facts:
    from odg_workbench.compliance.facts import gather

    return gather(workbench, target, now=now)


def check(
    framework: str,
    target: str,
    *,
    workbench: Workbench,
    facts: Facts | None = None,
    now: datetime | None = None,
) -> ComplianceReport:
    """Check ``target`` (``"layer.name"`` or ``"workspace"``) against one framework."""
    from odg_workbench.compliance.report import ComplianceReport

    checker = get_checker(framework)
    facts = facts or _facts(workbench, target, now)
    findings = _stamp(checker.check(facts.target, facts), checker.name)
    return ComplianceReport(
        target=facts.target,
        frameworks=[checker.name],
        findings=findings,
        generated_at=facts.generated_at,
        workspace=facts.workspace,
        titles={checker.name: checker.title},
        jurisdictions=sorted(facts.jurisdictions) if facts.jurisdictions is not None else None,
        unknown=dict(facts.unknown) | {f"{t.table}:{k}": v for t in facts.tables for k, v in t.unknown.items()},
    )


def check_all(
    target: str,
    *,
    workbench: Workbench,
    frameworks: Sequence[str] | None = None,
    applicable_only: bool = True,
    facts: Facts | None = None,
    now: datetime | None = None,
) -> ComplianceReport:
    """Check ``target`` against every framework that applies to its jurisdictions (all when unclassified).

    ``frameworks`` limits the candidates (names are checked first: an unknown one is an
    error); ``applicable_only=False`` checks them whatever the jurisdictions. The facts are
    gathered once for all frameworks.
    """
    from odg_workbench.compliance.report import ComplianceReport

    names = [get_checker(n).name for n in frameworks] if frameworks is not None else None
    facts = facts or _facts(workbench, target, now)
    chosen, skipped = applicable(facts.jurisdictions if applicable_only else None, names)
    findings = []
    titles = {}
    for name in chosen:
        checker = get_checker(name)
        titles[name] = checker.title
        findings.extend(_stamp(checker.check(facts.target, facts), name))
    return ComplianceReport(
        target=facts.target,
        frameworks=chosen,
        findings=findings,
        generated_at=facts.generated_at,
        workspace=facts.workspace,
        titles=titles,
        skipped=skipped,
        jurisdictions=sorted(facts.jurisdictions) if facts.jurisdictions is not None else None,
        unknown=dict(facts.unknown) | {f"{t.table}:{k}": v for t in facts.tables for k, v in t.unknown.items()},
    )
