"""Rego policies: who may do what, decided by files a workspace can override.

The default policies ship in ``odg_workbench/governance/policies/*.rego``. A workspace
adds its own in ``<workspace>/policies/*.rego``: a file with the name of a shipped one
replaces it, any other file adds rules. Policies are evaluated with regopy (rego-cpp);
the compiled set is cached per process and recompiled when a file changes.

Every rule file declares ``package odg.rules.<name>`` and contributes to two sets::

    allow contains {"rule": "approve_responsible_or_accountable", "reason": "..."} if { ... }
    deny contains {"rule": "approve_own_request", "reason": "..."} if { ... }

(``deny contains msg`` with a plain string works too.) An action is allowed when at
least one ``allow`` entry and no ``deny`` entry matches: a deny always wins, and an action
nothing allows is denied. Helper packages (``package odg.lib...``) declare no rules.

The input document::

    {
      "action":   "decision.approve",
      "actor":    "alice",
      "roles":    ["accountable"],       # RACI roles the actor holds on the resource
      "admin":    false,                 # in governance.admins
      "known":    true,                  # holds a role in any RACI assignment, or admin
      "resource": {"type": "decision", "id": "7", "domain": "sales", "dataset": "silver.orders"},
      "context":  {"requester": "bob", "status": "PENDING", ...}
    }

Keys whose value is unknown are left out (Rego treats a missing key as undefined).

::

    engine = PolicyEngine(wb.root, admins=["root"])
    decision = engine.evaluate("decision.approve", "alice", {"type": "decision", "id": "7"},
                               ["accountable"], {"requester": "bob"}, known=True)
    decision.allowed, decision.rule, decision.policy_file, decision.reasons
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    from odg_workbench.workspace import Workbench

__all__ = [
    "ACTIONS",
    "RACI_ROLES",
    "SHIPPED_POLICIES",
    "PermissionDeniedError",
    "PolicyDecision",
    "PolicyEngine",
    "PolicyError",
    "PolicyFile",
    "PolicyMatch",
    "workspace_admins",
]

#: The actions the default policies decide. A workspace policy may decide others.
ACTIONS: tuple[str, ...] = (
    "decision.create",
    "decision.approve",
    "decision.reject",
    "decision.veto",
    "decision.comment",
    "promote",
    "raci.change",
    "data.read_unmasked",
    "classification.set",
    "privacy.budget.set",
    "policy.change",
)

#: RACI roles (plus "veto"); ``input.roles`` may also hold "escalation" on an escalated decision.
RACI_ROLES: tuple[str, ...] = ("responsible", "accountable", "consulted", "informed", "veto")

SHIPPED_POLICIES = Path(__file__).resolve().parent / "policies"

_ADMINS_SETTING = "governance.admins"
_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_][\w.]*)", re.MULTILINE)
_RULES_PACKAGE = re.compile(r"^odg\.rules\.([A-Za-z_]\w*)$")
_LIB_PACKAGE = re.compile(r"^odg\.lib(\.[A-Za-z_]\w*)*$")
_QUERY = "x := data.odg.engine.decision"
# The engine's own module: collects every rule package's allow/deny entries. Not a policy
# file, so a workspace cannot replace it.
_ENGINE_MODULE = "odg_engine_internal.rego"
_ENGINE = """package odg.engine

import rego.v1

allows := [[pkg, a] | some pkg; some a in data.odg.rules[pkg].allow]

denies := [[pkg, d] | some pkg; some d in data.odg.rules[pkg].deny]

decision := {"allows": allows, "denies": denies}
"""


class PermissionDeniedError(OdgError, PermissionError):
    """A policy denied the action; the message names the rule, its policy file and why."""


class PolicyError(OdgError, ValueError):
    """A policy file cannot be used: a syntax error (with file and line), a bad package, ..."""


@dataclass(frozen=True)
class PolicyFile:
    """One policy file in effect: shipped with the workbench or from the workspace."""

    name: str
    path: Path
    origin: str  # "shipped" | "workspace"
    package: str
    replaces: Path | None = None  # the shipped file a workspace file of the same name replaces

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "origin": self.origin,
            "package": self.package,
            "replaces": str(self.replaces) if self.replaces else None,
        }


@dataclass(frozen=True)
class PolicyMatch:
    """One allow or deny entry that matched."""

    effect: str  # "allow" | "deny"
    rule: str
    reason: str
    package: str
    policy_file: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "rule": self.rule,
            "reason": self.reason,
            "package": self.package,
            "policy_file": self.policy_file,
        }


@dataclass(frozen=True)
class PolicyDecision:
    """The outcome of one evaluation.

    ``rule`` and ``policy_file`` name the deciding rule: the first deny when denied, the
    first allow when allowed (empty when nothing matched at all: the default deny).
    ``reasons`` holds every deny reason when denied, every allow reason when allowed.
    """

    allowed: bool
    rule: str
    policy_file: str
    reasons: list[str]
    action: str = ""
    actor: str = ""
    matches: list[PolicyMatch] = field(default_factory=list)
    input: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "action": self.action,
            "actor": self.actor,
            "rule": self.rule,
            "policy_file": self.policy_file,
            "reasons": list(self.reasons),
            "matches": [m.to_dict() for m in self.matches],
            "input": self.input,
            "duration_ms": round(self.duration_ms, 3),
        }

    def explain(self) -> str:
        """One line: allowed or denied, by which rule in which file, and why."""
        verdict = "allowed" if self.allowed else "denied"
        where = f"rule {self.rule} in {self.policy_file}" if self.policy_file else f"rule {self.rule}"
        return f"{self.action} by {self.actor}: {verdict} by {where}: {'; '.join(self.reasons)}"


def workspace_admins(wb: Workbench | None, admins: Iterable[str] | None = None) -> list[str]:
    """The workspace admins: ``admins`` when given, else the ``governance.admins`` setting.

    The setting is a comma-separated list (or a TOML array). While the workspace
    configuration does not declare it, ``$ODG_GOVERNANCE_ADMINS`` (the environment
    variable the setting will read) is used.
    """
    if admins is not None:
        return _names(admins)
    value: Any = None
    if wb is not None:
        value = wb.config.get(_ADMINS_SETTING)
    if value is None:
        return []
    if isinstance(value, str):
        return _names(value.split(","))
    return _names(value)


def _names(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for v in [values] if isinstance(values, str) else values:
        for part in str(v).split(","):
            name = part.strip()
            if name and name not in out:
                out.append(name)
    return out


class PolicyEngine:
    """Evaluates actions against the shipped policies and a workspace's overrides.

    ``root`` is the workspace folder (its ``policies/`` folder holds the overrides) or
    ``None`` for the shipped policies alone. ``admins`` are the users for whom
    ``input.admin`` is true (see :func:`workspace_admins`).
    """

    def __init__(self, root: Path | str | None = None, *, admins: Iterable[str] = ()) -> None:
        self.root = Path(root).expanduser().absolute() if root is not None else None
        self.admins: list[str] = _names(admins)

    @classmethod
    def for_workspace(cls, wb: Workbench, *, admins: Iterable[str] | None = None) -> PolicyEngine:
        """The engine of a workspace, its admins from ``admins`` or the ``governance.admins`` setting."""
        return cls(wb.root, admins=workspace_admins(wb, admins))

    @property
    def workspace_policies(self) -> Path | None:
        """``<workspace>/policies``, where overrides live (``None`` without a workspace)."""
        return self.root / "policies" if self.root is not None else None

    # -- the policy set --------------------------------------------------------------------

    def _sources(self) -> list[tuple[str, Path, str, Path | None]]:
        shipped = {p.name: p for p in sorted(SHIPPED_POLICIES.glob("*.rego"))}
        chosen: dict[str, tuple[str, Path, str, Path | None]] = {
            name: (name, path, "shipped", None) for name, path in shipped.items()
        }
        folder = self.workspace_policies
        if folder is not None and folder.is_dir():
            for path in sorted(folder.glob("*.rego")):
                chosen[path.name] = (path.name, path, "workspace", shipped.get(path.name))
        # base.rego first: its unknown_user deny is the most fundamental reason to give
        return sorted(chosen.values(), key=lambda item: (item[0] != "base.rego", item[0]))

    def policy_files(self) -> list[PolicyFile]:
        """The policy files in effect, in evaluation order (compiles them if needed)."""
        return list(self._compiled().files)

    def _compiled(self) -> _Compiled:
        sources = self._sources()
        key: list[tuple[str, int, int]] = []
        for _name, path, _origin, _replaces in sources:
            try:
                st = path.stat()
            except OSError as exc:
                raise PolicyError(f"cannot read policy {path}: {exc.strerror}", path=str(path)) from exc
            key.append((str(path), st.st_mtime_ns, st.st_size))
        cache_key = tuple(key)
        with _CACHE_LOCK:
            compiled = _CACHE.get(cache_key)
            if compiled is None:
                compiled = _compile(sources)
                _CACHE[cache_key] = compiled
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.pop(next(iter(_CACHE)))
        return compiled

    # -- evaluation --------------------------------------------------------------------------

    def input_document(
        self,
        action: str,
        actor: str,
        resource: Mapping[str, Any] | None = None,
        roles: Sequence[str] = (),
        context: Mapping[str, Any] | None = None,
        *,
        admin: bool | None = None,
        known: bool | None = None,
    ) -> dict[str, Any]:
        """The input document the policies see (``None`` values dropped)."""
        is_admin = actor in self.admins if admin is None else bool(admin)
        role_list = sorted({str(r) for r in roles})
        return {
            "action": action,
            "actor": actor,
            "roles": role_list,
            "admin": is_admin,
            "known": bool(known) if known is not None else (is_admin or bool(role_list)),
            "resource": _clean(resource or {}),
            "context": _clean(context or {}),
        }

    def evaluate(
        self,
        action: str,
        actor: str,
        resource: Mapping[str, Any] | None = None,
        roles: Sequence[str] = (),
        context: Mapping[str, Any] | None = None,
        *,
        admin: bool | None = None,
        known: bool | None = None,
    ) -> PolicyDecision:
        """Decide ``action`` by ``actor`` on ``resource``.

        ``admin`` defaults to membership of the engine's admins; ``known`` (the actor holds
        a role in some RACI assignment) defaults to ``admin or bool(roles)``: pass it when
        the actor may be known elsewhere than on this resource.
        """
        start = time.perf_counter()
        doc = self.input_document(action, actor, resource, roles, context, admin=admin, known=known)
        compiled = self._compiled()
        raw = compiled.run(doc)
        matches = [*_matches(raw.get("allows"), "allow", compiled), *_matches(raw.get("denies"), "deny", compiled)]
        order = {f.package: i for i, f in enumerate(compiled.files)}
        matches.sort(key=lambda m: (m.effect != "deny", order.get(m.package, len(order)), m.rule))
        denies = [m for m in matches if m.effect == "deny"]
        allows = [m for m in matches if m.effect == "allow"]
        if denies:
            first = denies[0]
            decision = PolicyDecision(False, first.rule, first.policy_file, _unique(m.reason for m in denies))
        elif allows:
            first = allows[0]
            decision = PolicyDecision(True, first.rule, first.policy_file, _unique(m.reason for m in allows))
        else:
            decision = PolicyDecision(
                False,
                "default_deny",
                "",
                [f"no policy rule allows {action} for {actor} (roles: {', '.join(doc['roles']) or 'none'})"],
            )
        return PolicyDecision(
            decision.allowed,
            decision.rule,
            decision.policy_file,
            decision.reasons,
            action=action,
            actor=actor,
            matches=matches,
            input=doc,
            duration_ms=(time.perf_counter() - start) * 1000,
        )

    def require(
        self,
        action: str,
        actor: str,
        resource: Mapping[str, Any] | None = None,
        roles: Sequence[str] = (),
        context: Mapping[str, Any] | None = None,
        *,
        admin: bool | None = None,
        known: bool | None = None,
    ) -> PolicyDecision:
        """:meth:`evaluate`, raising :class:`PermissionDeniedError` when denied."""
        decision = self.evaluate(action, actor, resource, roles, context, admin=admin, known=known)
        if not decision.allowed:
            raise denied_error(decision)
        return decision


def denied_error(decision: PolicyDecision) -> PermissionDeniedError:
    """The error for a denied decision: who, what, on what, why, and which rule in which file."""
    res = decision.input.get("resource", {})
    target = f" on {res.get('type', 'resource')} {res.get('id')}" if res.get("id") is not None else ""
    where = (
        f"rule {decision.rule} in {decision.policy_file}"
        if decision.policy_file
        else "the default deny (no policy rule allows it)"
    )
    return PermissionDeniedError(
        f"{decision.actor} may not {decision.action}{target}: {'; '.join(decision.reasons)} (denied by {where})",
        action=decision.action,
        actor=decision.actor,
        rule=decision.rule,
        policy_file=decision.policy_file,
        reasons=list(decision.reasons),
        resource=dict(res) or None,
    )


# -- compilation and the per-process cache -------------------------------------------------------


class _Compiled:
    """A compiled policy set: one interpreter and its bundle, used under a lock."""

    def __init__(self, files: list[PolicyFile], interpreter: Any, bundle: Any) -> None:
        self.files = files
        self.by_package = {f.package.removeprefix("odg.rules."): f for f in files}
        self._interpreter = interpreter
        self._bundle = bundle
        self._lock = threading.Lock()

    def run(self, doc: dict[str, Any]) -> dict[str, Any]:
        _regopy()
        from regopy import Input  # type: ignore[import-untyped]
        from regopy import rego_shared as rs

        with self._lock:
            self._interpreter.set_input(Input(doc))
            out = rs.rego_bundle_query(self._interpreter._impl, self._bundle._impl)
            try:
                # Never call binding()/expressions() on a failed or undefined output: rego-cpp
                # aborts the process. Read the result node by node rather than through its
                # JSON text, which rego-cpp does not escape (a quote in a user name would
                # otherwise forge the document).
                if not rs.rego_output_ok(out):
                    messages = _error_messages(rs.rego_output_node(out))
                    raise PolicyError(
                        "the policies failed while deciding "
                        f"{doc['action']}: {'; '.join(messages) or 'unknown error'}; "
                        "check the rules this action reaches (e.g. a complete rule with two values)",
                        action=doc["action"],
                        errors=messages,
                    )
                if rs.rego_output_string(out) == "undefined":
                    return {}
                value = _to_python(rs.rego_output_binding_at_index(out, 0, "x"))
            finally:
                rs.rego_free_output(out)
        return value if isinstance(value, dict) else {}


_CACHE: dict[tuple[tuple[str, int, int], ...], _Compiled] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def _regopy() -> Any:
    """regopy, imported after DuckDB.

    rego-cpp's shared library defines its own ``operator new``/``operator delete``; when it is
    loaded before DuckDB's module, DuckDB's C++ allocations later end in heap corruption
    ("free(): invalid size", the process aborts). Loading DuckDB first avoids it (measured
    with regopy 1.5.2 and duckdb 1.5.5; tests/test_governance.py keeps the reproduction).
    """
    import duckdb  # noqa: F401  - must be loaded before librego_shared.so
    import regopy

    return regopy


def _compile(sources: list[tuple[str, Path, str, Path | None]]) -> _Compiled:
    regopy = _regopy()

    files: list[PolicyFile] = []
    texts: dict[str, tuple[Path, str]] = {}
    rule_packages: dict[str, Path] = {}
    for name, path, origin, replaces in sources:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read policy {path}: {exc}", path=str(path)) from exc
        m = _PACKAGE.search(text)
        if m is None:
            raise PolicyError(
                f"{path}:1: no package declaration; a policy file starts with "
                "`package odg.rules.<name>` (or `package odg.lib.<name>` for helpers)",
                path=str(path),
                line=1,
            )
        package = m.group(1)
        line = text.count("\n", 0, m.start(1)) + 1
        rules = _RULES_PACKAGE.match(package)
        if rules is None and not _LIB_PACKAGE.match(package):
            raise PolicyError(
                f"{path}:{line}: package {package}: policy files declare `package odg.rules.<name>` "
                "(rules) or `package odg.lib.<name>` (helpers); other packages are never evaluated",
                path=str(path),
                line=line,
                found=package,
            )
        if rules is not None:
            if package in rule_packages:
                raise PolicyError(
                    f"{path}:{line}: package {package} is also declared by {rule_packages[package]}; "
                    "each policy file needs its own odg.rules.<name> package, so that a decision can name its file",
                    path=str(path),
                    line=line,
                    found=package,
                )
            rule_packages[package] = path
        texts[name] = (path, text)
        files.append(PolicyFile(name, path, origin, package, replaces))

    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE  # otherwise rego-cpp prints errors on stdout
    for name, (_path, text) in texts.items():
        try:
            interpreter.add_module(name, text)
        except regopy.RegoError as exc:
            raise _syntax_error(str(exc), texts) from None
    interpreter.add_module(_ENGINE_MODULE, _ENGINE)
    try:
        bundle = interpreter.build(_QUERY)
    except regopy.RegoError as exc:
        raise _syntax_error(str(exc), texts) from None
    return _Compiled(files, interpreter, bundle)


def _syntax_error(text: str, texts: Mapping[str, tuple[Path, str]]) -> PolicyError:
    """A rego-cpp error sequence as a PolicyError naming the file, line and column."""
    errors = _parse_rego_errors(text)
    located: list[dict[str, Any]] = []
    for module, offset, message in errors:
        entry: dict[str, Any] = {"message": message}
        if module is not None and module in texts:
            path, source = texts[module]
            entry["path"] = str(path)
            if offset is not None:
                before = source.encode("utf-8")[:offset].decode("utf-8", errors="replace")
                entry["line"] = before.count("\n") + 1
                entry["column"] = len(before) - (before.rfind("\n") + 1) + 1
        located.append(entry)
    if not located:
        located.append({"message": text.strip().splitlines()[0] if text.strip() else "unknown error"})
    first = located[0]
    where = first.get("path", "a policy file")
    if "line" in first:
        where += f":{first['line']}:{first['column']}"
    more = f" (and {len(located) - 1} more error{'s' if len(located) > 2 else ''})" if len(located) > 1 else ""
    return PolicyError(
        f"{where}: {first['message']}{more}; fix the policy, or delete the file to fall back to the shipped policies",
        path=first.get("path"),
        line=first.get("line"),
        column=first.get("column"),
        errors=located,
    )


def _parse_rego_errors(text: str) -> list[tuple[str | None, int | None, str]]:
    """``(module, byte offset, message)`` from rego-cpp's error tree.

    The tree reads ``(error 8:bad.rego|47|2 (errormsg 24:Invalid boolean operator) ...)``:
    names and messages are length-prefixed, the location is ``|offset|length``.
    """
    out: list[tuple[str | None, int | None, str]] = []
    for block in re.split(r"\(error(?=[\s])", text)[1:]:
        module: str | None = None
        offset: int | None = None
        head = re.match(r"\s*(\d+):", block)
        if head:
            n = int(head.group(1))
            module = block[head.end() : head.end() + n]
            loc = re.match(r"\|(\d+)\|(\d+)", block[head.end() + n :])
            if loc:
                offset = int(loc.group(1))
        msg = re.search(r"\(errormsg (\d+):", block)
        message = block[msg.end() : msg.end() + int(msg.group(1))] if msg else "syntax error"
        out.append((module, offset, message))
    return out


def _error_messages(node: Any) -> list[str]:
    _regopy()
    from regopy import rego_shared as rs
    from regopy.node import NodeKind  # type: ignore[import-untyped]

    found: list[str] = []

    def walk(p: Any) -> None:
        kind = rs.rego_node_type(p)
        if kind in (NodeKind.ErrorMessage, NodeKind.ErrorCode):
            value = rs.rego_node_value(p)
            if value:
                found.append(value)
        if kind == NodeKind.ErrorAst:
            return
        for i in range(rs.rego_node_size(p)):
            walk(rs.rego_node_get(p, i))

    walk(node)
    return found


def _to_python(p: Any) -> Any:
    """A rego-cpp result node as Python values (sets become lists)."""
    from regopy import rego_shared as rs
    from regopy.node import NodeKind

    kind = rs.rego_node_type(p)
    if kind in (NodeKind.Term, NodeKind.Scalar):
        return _to_python(rs.rego_node_get(p, 0))
    if kind == NodeKind.String:
        return rs.rego_node_value(p)
    if kind == NodeKind.Int:
        return int(rs.rego_node_value(p))
    if kind == NodeKind.Float:
        return float(rs.rego_node_value(p))
    if kind == NodeKind.Boolean:
        return rs.rego_node_value(p) == "true"
    if kind == NodeKind.Null:
        return None
    if kind in (NodeKind.Array, NodeKind.Set):
        return [_to_python(rs.rego_node_get(p, i)) for i in range(rs.rego_node_size(p))]
    if kind == NodeKind.Object:
        obj: dict[str, Any] = {}
        for i in range(rs.rego_node_size(p)):
            item = rs.rego_node_get(p, i)
            key = _to_python(rs.rego_node_get(item, 0))
            obj[key if isinstance(key, str) else str(key)] = _to_python(rs.rego_node_get(item, 1))
        return obj
    return None


def _matches(entries: Any, effect: str, compiled: _Compiled) -> list[PolicyMatch]:
    out: list[PolicyMatch] = []
    for entry in entries or []:
        if not (isinstance(entry, list) and len(entry) == 2):
            continue
        package, value = str(entry[0]), entry[1]
        policy = compiled.by_package.get(package)
        policy_file = str(policy.path) if policy else ""
        if isinstance(value, dict):
            rule = str(value.get("rule") or f"{package}.{effect}")
            reason = str(value.get("reason") or value.get("msg") or value.get("message") or rule)
        else:
            rule, reason = f"{package}.{effect}", str(value)
        out.append(PolicyMatch(effect, rule, reason, f"odg.rules.{package}", policy_file))
    return out


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            out[str(key)] = _clean(value)
        elif isinstance(value, (list, tuple, set, frozenset)):
            out[str(key)] = [v for v in value if v is not None]
        elif isinstance(value, (str, int, float, bool)):
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
