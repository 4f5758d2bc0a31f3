"""Recipes: a pipeline of papermill notebooks as YAML, validated before anything runs.

A recipe (``recipes/*.yaml``)::

    name: medallion_demo
    schedule: "0 6 * * *"        # cron (croniter), optional
    timezone: UTC
    retries: 1                   # per step, unless a step says otherwise
    timeouts: {start_s: 60, execution_s: 900}
    steps:
      - id: ingest
        notebook: ../notebooks/01_ingest_bronze.ipynb
        parameters: {source: samples}
      - id: quality
        notebook: ../notebooks/02_quality_gate.ipynb
        depends_on: [ingest]

Loading checks the structure (pydantic), the step graph (unique ids, known dependencies,
no cycle: the error names it), the cron expression, that every notebook exists and has a
cell tagged ``parameters``, and every parameter against the notebook's own parameters
cell (``papermill.inspect_notebook``: names and declared or inferred types). Papermill
itself only warns about an unknown parameter; here it is an error naming the recipe
file, the line and the field, before any kernel starts.

Written by hand: the type check of parameter values (papermill infers a type name but
never checks values) and the line numbers (reusing the contract loader's YAML map).
"""

from __future__ import annotations

import ast
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odg_workbench.errors import OdgError

__all__ = [
    "INJECTED_PARAMETERS",
    "NotebookParameter",
    "PipelineError",
    "Recipe",
    "RecipeError",
    "Step",
    "load_recipe",
    "notebook_parameters",
    "parse_param_overrides",
    "resolve_recipe",
]

# Parameters the runner fills in itself when a notebook declares them.
INJECTED_PARAMETERS = ("workspace", "user", "run_id")
DEFAULT_KERNEL = "odg-workbench"
DEFAULT_START_TIMEOUT_S = 60.0
DEFAULT_EXECUTION_TIMEOUT_S = 1800.0
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


class PipelineError(OdgError):
    """A pipeline cannot run: missing kernel, unknown run, a run that cannot be recorded."""


class RecipeError(PipelineError, ValueError):
    """A recipe that is malformed, names an unknown notebook or step, or has bad parameters."""


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter declared in a notebook's ``parameters`` cell."""

    name: str
    type: str  # declared annotation, else inferred from the default, else "any"
    default: str  # source text of the default value
    help: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "default": self.default, "help": self.help}


@dataclass(frozen=True)
class Step:
    """One step: a notebook, its parameters, what it waits for, its retries and timeouts."""

    id: str
    notebook: Path
    parameters: dict[str, Any]
    depends_on: tuple[str, ...]
    retries: int
    retry_delay_s: float
    start_timeout_s: float
    execution_timeout_s: float
    declared: dict[str, NotebookParameter] = field(default_factory=dict, repr=False)
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "notebook": str(self.notebook),
            "parameters": self.parameters,
            "depends_on": list(self.depends_on),
            "retries": self.retries,
            "retry_delay_s": self.retry_delay_s,
            "start_timeout_s": self.start_timeout_s,
            "execution_timeout_s": self.execution_timeout_s,
        }


@dataclass(frozen=True)
class Recipe:
    """A validated recipe; ``steps`` are in execution (dependency) order."""

    name: str
    path: Path | None
    description: str
    schedule: str | None
    timezone: str
    kernel: str
    steps: tuple[Step, ...]
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, repr=False)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise RecipeError(f"recipe {self.name} has no step {step_id!r}", field="steps", found=step_id)

    def with_parameters(self, overrides: Mapping[str, Mapping[str, Any]]) -> Recipe:
        """A copy with ``{step: {name: value}}`` merged into the steps' parameters (validated)."""
        where = str(self.path) if self.path else f"<recipe {self.name}>"
        known = {s.id for s in self.steps}
        steps = []
        for step_id in overrides:
            if step_id not in known:
                raise RecipeError(
                    f"--param {step_id}.*: recipe {self.name} has no step {step_id!r}"
                    + _close(step_id, known, "steps"),
                    path=where,
                    field=f"{step_id}.*",
                    expected=sorted(known),
                    found=step_id,
                )
        for s in self.steps:
            extra = dict(overrides.get(s.id, {}))
            if not extra:
                steps.append(s)
                continue
            for name, value in extra.items():
                _check_parameter(s, name, value, where, None, f"--param {s.id}.{name}")
            steps.append(
                Step(
                    s.id,
                    s.notebook,
                    {**s.parameters, **extra},
                    s.depends_on,
                    s.retries,
                    s.retry_delay_s,
                    s.start_timeout_s,
                    s.execution_timeout_s,
                    s.declared,
                    s.line,
                )
            )
        return Recipe(
            self.name, self.path, self.description, self.schedule, self.timezone, self.kernel, tuple(steps), self.lines
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path) if self.path else None,
            "description": self.description,
            "schedule": self.schedule,
            "timezone": self.timezone,
            "kernel": self.kernel,
            "steps": [s.to_dict() for s in self.steps],
        }


# -- structure (pydantic) ------------------------------------------------------------


def _models() -> tuple[type[Any], type[Any]]:
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    class TimeoutsSpec(BaseModel):
        model_config = ConfigDict(extra="forbid")
        start_s: float | None = Field(default=None, gt=0)
        execution_s: float | None = Field(default=None, gt=0)

    class StepSpec(BaseModel):
        model_config = ConfigDict(extra="forbid")
        id: str = Field(pattern=_ID.pattern)
        notebook: str = Field(min_length=1)
        description: str = ""
        parameters: dict[str, Any] = Field(default_factory=dict)
        depends_on: list[str] = Field(default_factory=list)
        retries: int | None = Field(default=None, ge=0, le=100)
        retry_delay_s: float | None = Field(default=None, ge=0)
        timeouts: TimeoutsSpec | None = None

        @field_validator("depends_on", mode="before")
        @classmethod
        def _one_or_many(cls, value: Any) -> Any:
            return [value] if isinstance(value, str) else value

    class RecipeSpec(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(pattern=_ID.pattern)
        description: str = ""
        schedule: str | None = None
        timezone: str = "UTC"
        kernel: str = DEFAULT_KERNEL
        retries: int = Field(default=0, ge=0, le=100)
        retry_delay_s: float = Field(default=5.0, ge=0)
        timeouts: TimeoutsSpec = Field(default_factory=TimeoutsSpec)
        steps: list[StepSpec] = Field(min_length=1)

    return RecipeSpec, StepSpec


def resolve_recipe(name_or_path: str | os.PathLike[str], *, search: list[Path] | None = None) -> Path:
    """A recipe file: the path itself, else ``NAME.yaml``/``.yml`` in ``./recipes`` (or ``search``)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    folders = search if search is not None else [Path.cwd() / "recipes"]
    text = str(name_or_path)
    if "/" not in text and os.sep not in text:
        for folder in folders:
            for suffix in ("", ".yaml", ".yml"):
                candidate = folder / f"{text}{suffix}"
                if candidate.is_file():
                    return candidate
    known = sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.y*ml")})
    raise RecipeError(
        f"recipe not found: {name_or_path} (a YAML file, or a name in {', '.join(map(str, folders))})"
        + _close(text, known, "recipes"),
        path=str(path),
        expected=known or None,
    )


def load_recipe(source: str | os.PathLike[str], *, check_notebooks: bool = True) -> Recipe:
    """Load and validate a recipe file; every problem is a :class:`RecipeError` with file and line."""
    import yaml
    from pydantic import ValidationError

    from odg_workbench.quality.contract import _dotted, _line_map

    path = resolve_recipe(source)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc}", path=where) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise RecipeError(f"{where}:{line}: invalid YAML: {problem}", path=where, line=line) from exc
    if not isinstance(data, dict):
        raise RecipeError(
            f"{where}:1: a recipe is a mapping (name, schedule, steps ...), found {type(data).__name__}",
            path=where,
            line=1,
        )
    lines = _line_map(text)
    recipe_model, _ = _models()
    try:
        spec = recipe_model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
        line = _line_of(lines, loc)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "string_pattern_mismatch":
            msg = "an id is a letter or _ then letters, digits, _ or - (at most 64)"
        raise RecipeError(
            f"{where}:{line}: {_dotted(loc)}: {msg}{more}",
            path=where,
            line=line,
            field=_dotted(loc),
            found=repr(err.get("input"))[:200],
        ) from None

    def at(*loc: str | int) -> int | None:
        return _line_of(lines, loc)

    if spec.schedule is not None:
        from croniter import croniter  # type: ignore[import-untyped]

        if not croniter.is_valid(spec.schedule):
            raise RecipeError(
                f"{where}:{at('schedule')}: schedule: {spec.schedule!r} is not a cron expression "
                "(five fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * *')",
                path=where,
                line=at("schedule"),
                field="schedule",
                found=spec.schedule,
            )
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(spec.timezone)
    except (ValueError, KeyError, OSError):
        raise RecipeError(
            f"{where}:{at('timezone')}: timezone: unknown time zone {spec.timezone!r} (e.g. UTC, Europe/Lisbon)",
            path=where,
            line=at("timezone"),
            field="timezone",
            found=spec.timezone,
        ) from None

    ids: dict[str, int] = {}
    for i, s in enumerate(spec.steps):
        if s.id in ids:
            raise RecipeError(
                f"{where}:{at('steps', i, 'id')}: steps[{i}].id: step id {s.id!r} is already used by steps[{ids[s.id]}]",
                path=where,
                line=at("steps", i, "id"),
                field=f"steps[{i}].id",
                found=s.id,
            )
        ids[s.id] = i
    for i, s in enumerate(spec.steps):
        for j, dep in enumerate(s.depends_on):
            if dep not in ids:
                raise RecipeError(
                    f"{where}:{at('steps', i, 'depends_on', j)}: steps[{i}].depends_on: unknown step {dep!r}"
                    + _close(dep, ids, "steps"),
                    path=where,
                    line=at("steps", i, "depends_on", j),
                    field=f"steps[{i}].depends_on[{j}]",
                    expected=sorted(ids),
                    found=dep,
                )
            if dep == s.id:
                raise RecipeError(
                    f"{where}:{at('steps', i, 'depends_on', j)}: steps[{i}].depends_on: step {s.id!r} depends on itself",
                    path=where,
                    line=at("steps", i, "depends_on", j),
                    field=f"steps[{i}].depends_on[{j}]",
                    found=dep,
                )
    order = _topological({s.id: list(s.depends_on) for s in spec.steps}, where, lambda sid: at("steps", ids[sid]))

    base = path.parent
    default_start = spec.timeouts.start_s or DEFAULT_START_TIMEOUT_S
    default_exec = spec.timeouts.execution_s or DEFAULT_EXECUTION_TIMEOUT_S
    steps: dict[str, Step] = {}
    for i, s in enumerate(spec.steps):
        nb_path = (base / s.notebook).resolve() if not Path(s.notebook).is_absolute() else Path(s.notebook)
        declared: dict[str, NotebookParameter] = {}
        if check_notebooks:
            nline = at("steps", i, "notebook")
            if not nb_path.is_file():
                raise RecipeError(
                    f"{where}:{nline}: steps[{i}].notebook: notebook not found: {s.notebook} "
                    f"(resolved to {nb_path}; paths are relative to the recipe's folder)",
                    path=where,
                    line=nline,
                    field=f"steps[{i}].notebook",
                    found=s.notebook,
                )
            declared = notebook_parameters(nb_path, kernel=spec.kernel, where=f"{where}:{nline}: steps[{i}].notebook")
        step = Step(
            id=s.id,
            notebook=nb_path,
            parameters=dict(s.parameters),
            depends_on=tuple(s.depends_on),
            retries=s.retries if s.retries is not None else spec.retries,
            retry_delay_s=s.retry_delay_s if s.retry_delay_s is not None else spec.retry_delay_s,
            start_timeout_s=(s.timeouts.start_s if s.timeouts and s.timeouts.start_s else default_start),
            execution_timeout_s=(s.timeouts.execution_s if s.timeouts and s.timeouts.execution_s else default_exec),
            declared=declared,
            line=at("steps", i),
        )
        if check_notebooks:
            for name, value in s.parameters.items():
                _check_parameter(
                    step, name, value, where, at("steps", i, "parameters", name), f"steps[{i}].parameters.{name}"
                )
        steps[s.id] = step
    return Recipe(
        name=spec.name,
        path=path.resolve(),
        description=spec.description,
        schedule=spec.schedule,
        timezone=spec.timezone,
        kernel=spec.kernel,
        steps=tuple(steps[sid] for sid in order),
        lines=lines,
    )


def _line_of(lines: dict[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    probe = loc
    while probe not in lines and probe:
        probe = probe[:-1]
    return lines.get(probe)


def _topological(graph: dict[str, list[str]], where: str, line_of: Any) -> list[str]:
    """Kahn's order, ties broken by the order of the steps in the file; a cycle is named."""
    remaining = {k: set(v) for k, v in graph.items()}
    order: list[str] = []
    while remaining:
        ready = [k for k in graph if k in remaining and not remaining[k]]
        if not ready:
            cycle = _find_cycle({k: sorted(v) for k, v in remaining.items()}, list(remaining))
            line = line_of(cycle[0])
            raise RecipeError(
                f"{where}:{line}: steps: the dependencies form a cycle: {' -> '.join(cycle)}",
                path=where,
                line=line,
                field="steps.depends_on",
                found=cycle,
            )
        for k in ready:
            order.append(k)
            del remaining[k]
        for deps in remaining.values():
            deps.difference_update(ready)
    return order


def _find_cycle(graph: dict[str, list[str]], starts: list[str]) -> list[str]:
    for start in starts:
        path: list[str] = [start]
        seen = {start}
        node = start
        while True:
            nxt = next((d for d in graph.get(node, []) if d in graph), None)
            if nxt is None:
                break
            if nxt in seen:
                loop = [*path[path.index(nxt) :], nxt]
                return loop[::-1]  # "a -> b" reads "a runs before b"
            path.append(nxt)
            seen.add(nxt)
            node = nxt
    return starts[:1]


# -- notebook parameters ------------------------------------------------------------


def notebook_parameters(
    notebook: Path, *, kernel: str = DEFAULT_KERNEL, where: str | None = None
) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its cell tagged ``parameters`` (papermill's reading)."""
    import nbformat

    label = where or str(notebook)
    try:
        nb = nbformat.read(str(notebook), as_version=4)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise RecipeError(f"{label}: {notebook} is not a readable notebook: {exc}", path=str(notebook)) from exc
    if not any("parameters" in (c.get("metadata", {}).get("tags") or []) for c in nb.cells):
        raise RecipeError(
            f"{label}: {notebook.name} has no cell tagged 'parameters' (papermill injects values after it)",
            path=str(notebook),
            expected="a code cell with the tag 'parameters'",
        )
    # papermill's own reading of the cell (as execute_notebook does it), for the run's kernel:
    # inspect_notebook() would need the kernel named in the notebook's metadata.
    from papermill.inspection import _infer_parameters  # type: ignore[import-untyped]
    from papermill.iorw import load_notebook_node  # type: ignore[import-untyped]

    out: dict[str, NotebookParameter] = {}
    for param in _infer_parameters(load_notebook_node(str(notebook)), name=kernel, language="python"):
        p = param._asdict()
        name = p["name"]
        declared = (p.get("inferred_type_name") or "None").strip()
        default = str(p.get("default") or "")
        kind = declared if declared != "None" else _literal_type(default)
        out[name] = NotebookParameter(name, kind, default, str(p.get("help") or ""))
    return out


def _literal_type(default: str) -> str:
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return "any"
    return "any" if value is None else type(value).__name__


_BASE: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "tuple": (list, tuple),
}


def _accepts(kind: str, value: Any) -> bool:
    """Whether ``value`` fits the annotation text ``kind`` (int fits float; bool never fits int)."""
    text = kind.replace(" ", "")
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", text)
    if m:
        return value is None or _accepts(m.group(1), value)
    if "|" in text:
        return any(_accepts(part, value) for part in text.split("|"))
    if text in ("None", "NoneType"):
        return value is None
    base = re.sub(r"\[.*\]$", "", text).removeprefix("typing.").lower()
    if base not in _BASE:
        return True  # an annotation we cannot check (a class, Any ...): accepted
    if isinstance(value, bool):
        return base == "bool"
    if base == "float":
        return isinstance(value, (int, float))
    return isinstance(value, _BASE[base])


def _check_parameter(step: Step, name: str, value: Any, where: str, line: int | None, label: str) -> None:
    declared = step.declared
    loc = f"{where}:{line}" if line else where
    if name in INJECTED_PARAMETERS:
        raise RecipeError(
            f"{loc}: {label}: {name!r} is set by the runner (the run's {name}); remove it from the recipe",
            path=where,
            line=line,
            field=label,
            found=name,
        )
    if name not in declared:
        names = sorted(n for n in declared if n not in INJECTED_PARAMETERS)
        raise RecipeError(
            f"{loc}: {label}: notebook {step.notebook.name} (step {step.id}) has no parameter {name!r}"
            + _close(name, names, "its parameters"),
            path=where,
            line=line,
            field=label,
            expected=names,
            found=name,
        )
    kind = declared[name].type
    if not _accepts(kind, value):
        raise RecipeError(
            f"{loc}: {label}: expected {kind} (as declared in {step.notebook.name}: "
            f"{name} = {declared[name].default}), found {type(value).__name__} {value!r}",
            path=where,
            line=line,
            field=label,
            expected=kind,
            found=repr(value),
        )


def _close(name: str, known: Any, what: str) -> str:
    names = sorted(known)
    near = difflib.get_close_matches(name, names, n=1)
    if near:
        return f"; did you mean {near[0]!r}?"
    return f"; {what}: {', '.join(names)}" if names else ""


def parse_param_overrides(items: list[str], recipe: Recipe | None = None) -> dict[str, dict[str, Any]]:
    """``["step.key=value", ...]`` -> ``{step: {key: value}}``.

    A value is read as a YAML scalar (``10`` an int, ``true`` a bool, ``[a, b]`` a list),
    except where the recipe's notebook declares the parameter ``str``: then it stays text.
    """
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        step, dot, name = key.strip().partition(".")
        if not sep or not dot or not step or not name:
            raise RecipeError(
                f"--param {item!r}: expected STEP.NAME=VALUE (e.g. quality.fail_on_gate=true)",
                field="--param",
                found=item,
            )
        declared = None
        if recipe is not None and any(s.id == step for s in recipe.steps):
            declared = recipe.step(step).declared.get(name)
        if declared is not None and declared.type.replace(" ", "") in ("str", "Optional[str]", "str|None"):
            value: Any = raw
        else:
            try:
                value = yaml.safe_load(raw) if raw.strip() else ""
            except yaml.YAMLError:
                value = raw
        out.setdefault(step, {})[name] = value
    return out
