"""Run a recipe: its notebooks with papermill, in dependency order, recorded and audited.

For each step, in order: papermill executes the notebook on the recipe's kernel (start
and per-cell execution timeouts set) with the step's parameters plus the ones the runner
fills in (``workspace``, ``user``, ``run_id``, where the notebook declares them). Every
output notebook is kept in ``<workspace>/pipelines/runs/<run id>/<step>.ipynb``, failed
ones too (papermill writes the failing cell's traceback into it; a retry keeps its own
``<step>.attempt-N.ipynb``). A step whose attempts all fail marks the run ``failed``;
the steps that depend on it, directly or not, are ``skipped`` (the others still run, as
Airflow's ``all_success`` rule does, so an exported DAG behaves the same).

The run is a row in the state database (:mod:`odg_workbench.pipelines.store`) with a
heartbeat while it runs; audit events ``pipeline.run.started``, ``pipeline.run.completed``
or ``pipeline.run.failed`` (``pipeline.run.interrupted`` when stopped) go through
``wb.publish``; and, where the workspace has a lineage graph (``wb.lineage``), the run
is recorded on the ``pipeline:<name>`` vertex with the datasets and snapshots its
notebooks reported (:func:`odg_workbench.pipelines.step_result`).

Stopping: ``stop`` (a :class:`threading.Event`, set by the scheduler on SIGTERM) lets the
running step finish and starts no other: the run is ``interrupted``. A
:class:`KeyboardInterrupt` (Ctrl-C, or a second signal) stops the running step at once:
it is marked ``interrupted`` with the output notebook written so far.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.pipelines.recipe import Recipe, Step
from odg_workbench.pipelines.store import RunStore, now_iso

if TYPE_CHECKING:
    from odg_workbench.workspace import Workbench

__all__ = ["HEARTBEAT_S", "PipelineRun", "Pipelines", "StepRun"]

log = logging.getLogger("odg_workbench.pipelines")

HEARTBEAT_S = 5.0


@dataclass
class StepRun:
    """How one step went."""

    step_id: str
    notebook: str
    status: str = "pending"
    attempts: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    output_path: str | None = None
    error: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PipelineRun:
    """A finished (or stopped) run of a recipe; ``ok`` when every step succeeded."""

    run_id: str
    recipe: str
    status: str
    trigger: str
    slot: str | None
    started_at: str
    ended_at: str | None
    duration_s: float
    steps: list[StepRun]
    output_dir: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.step_id == step_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "recipe": self.recipe,
            "status": self.status,
            "trigger": self.trigger,
            "slot": self.slot,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": round(self.duration_s, 3),
            "output_dir": self.output_dir,
            "error": self.error,
            "steps": [s.to_dict() for s in self.steps],
        }


class _Heartbeat(threading.Thread):
    def __init__(self, store: RunStore, run_id: str, every: float) -> None:
        super().__init__(name=f"odg-heartbeat-{run_id[:8]}", daemon=True)
        self.store, self.run_id, self.every = store, run_id, every
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            try:
                self.store.heartbeat(self.run_id)
            except Exception as exc:  # a busy database delays one beat; the next one retries
                log.warning("pipeline heartbeat of %s failed: %s", self.run_id, exc)


class Pipelines:
    """Pipeline runs of one workspace: ``run`` a recipe, list ``runs``, ``get`` one."""

    def __init__(self, workbench: Workbench) -> None:
        self.wb = workbench
        self.store = RunStore(workbench.state)

    @property
    def runs_dir(self) -> Path:
        return self.wb.root / "pipelines" / "runs"

    def runs(self, recipe: str | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Recorded runs, newest first, each with its steps."""
        return self.store.runs(recipe, limit=limit)

    def get(self, run_id: str) -> dict[str, Any]:
        """One run (id or unique prefix) with its steps."""
        return self.store.get(run_id)

    def run(
        self,
        recipe: Recipe | str | Path,
        *,
        parameters: dict[str, dict[str, Any]] | None = None,
        trigger: str = "manual",
        slot: str | None = None,
        run_id: str | None = None,
        stop: threading.Event | None = None,
        claimed: bool = False,
    ) -> PipelineRun:
        """Run every step of ``recipe``; see the module docs. Bad recipes raise before anything runs.

        ``slot`` (scheduled runs) is claimed here unless ``claimed`` says the caller did it
        (then ``run_id`` names the claimed run).
        """
        from odg_workbench.pipelines.kernel import ensure_kernel
        from odg_workbench.pipelines.recipe import load_recipe

        if not isinstance(recipe, Recipe):
            recipe = load_recipe(recipe)
        if parameters:
            recipe = recipe.with_parameters(parameters)
        ensure_kernel(recipe.kernel)
        run_id = run_id or uuid.uuid4().hex
        steps = [StepRun(s.id, str(s.notebook)) for s in recipe.steps]
        if not claimed:
            self.store.create(
                run_id=run_id,
                recipe=recipe.name,
                recipe_path=str(recipe.path) if recipe.path else None,
                recipe_version=_version(recipe),
                trigger=trigger,
                slot=slot,
                actor=self.wb.user,
                steps=[(s.id, str(s.notebook)) for s in recipe.steps],
                parameters={s.id: s.parameters for s in recipe.steps},
            )
        out_dir = self.runs_dir / run_id
        out_dir.mkdir(parents=True, exist_ok=True)
        started_at = now_iso()
        t0 = time.perf_counter()
        resource = f"pipeline:{recipe.name}"
        self.wb.publish(
            "pipeline.run.started",
            resource,
            run_id=run_id,
            recipe=recipe.name,
            trigger=trigger,
            slot=slot,
            steps=[s.id for s in recipe.steps],
        )
        self._lineage("START", recipe, run_id, started_at, None, "RUNNING", steps, None)
        beat = _Heartbeat(self.store, run_id, HEARTBEAT_S)
        beat.start()
        status, error = "succeeded", None
        try:
            for spec, step in zip(recipe.steps, steps, strict=True):
                failed_deps = [
                    d for d in spec.depends_on if next(x for x in steps if x.step_id == d).status != "succeeded"
                ]
                if failed_deps:
                    step.status = "skipped"
                    step.error = f"not run: {', '.join(failed_deps)} did not succeed"
                    self.store.update_step(run_id, spec.id, status="skipped", error=step.error)
                    continue
                if stop is not None and stop.is_set():
                    status, error = "interrupted", "stopped before this step: the scheduler was asked to stop"
                    break
                self._run_step(recipe, spec, step, run_id, out_dir)
                if step.status == "failed" and status == "succeeded":
                    status, error = "failed", f"step {spec.id} failed: {step.error}"
        except KeyboardInterrupt:
            status, error = "interrupted", "stopped while a step ran (interrupt)"
            for step in steps:
                if step.status == "running":
                    step.status = "interrupted"
                    step.error = "interrupted"
                    step.ended_at = now_iso()
                    self.store.update_step(
                        run_id,
                        step.step_id,
                        status="interrupted",
                        error="interrupted",
                        ended_at=step.ended_at,
                        output_path=step.output_path,
                    )
            raise
        finally:
            beat.done.set()
            for step in steps:
                if step.status == "pending":
                    step.status = "skipped"
            duration = time.perf_counter() - t0
            self.store.finish(run_id, status, error=error, duration_s=duration)
            ended_at = now_iso()
            event = {"succeeded": "completed", "failed": "failed"}.get(status, "interrupted")
            self.wb.publish(
                f"pipeline.run.{event}",
                resource,
                run_id=run_id,
                recipe=recipe.name,
                status=status,
                trigger=trigger,
                slot=slot,
                duration_s=round(duration, 3),
                error=error,
                steps={s.step_id: s.status for s in steps},
            )
            self._lineage(
                "COMPLETE" if status == "succeeded" else "FAIL",
                recipe,
                run_id,
                started_at,
                ended_at,
                status,
                steps,
                error,
            )
        return PipelineRun(
            run_id=run_id,
            recipe=recipe.name,
            status=status,
            trigger=trigger,
            slot=slot,
            started_at=started_at,
            ended_at=ended_at,
            duration_s=duration,
            steps=steps,
            output_dir=str(out_dir),
            error=error,
        )

    def _run_step(self, recipe: Recipe, spec: Step, step: StepRun, run_id: str, out_dir: Path) -> None:
        import papermill as pm  # type: ignore[import-untyped]

        from odg_workbench.pipelines.results import read_step_result

        params = dict(spec.parameters)
        injected = {"workspace": str(self.wb.root), "user": self.wb.user, "run_id": run_id}
        params.update({k: v for k, v in injected.items() if k in spec.declared})
        step.started_at = now_iso()
        t0 = time.perf_counter()
        self.store.update_step(run_id, spec.id, status="running", started_at=step.started_at)
        for attempt in range(1, spec.retries + 2):
            output = out_dir / (f"{spec.id}.ipynb" if attempt == 1 else f"{spec.id}.attempt-{attempt}.ipynb")
            step.attempts, step.output_path = attempt, str(output)
            step.status = "running"
            self.store.update_step(run_id, spec.id, attempts=attempt, output_path=str(output))
            # The kernel talks over Unix sockets in a private (0700) folder: no TCP port other
            # local users could reach, and no plain-text-TCP warning from ipykernel.
            sockets = tempfile.mkdtemp(prefix="odg-kernel-")
            try:
                pm.execute_notebook(
                    str(spec.notebook),
                    str(output),
                    parameters=params,
                    kernel_name=recipe.kernel,
                    language="python",
                    start_timeout=spec.start_timeout_s,
                    execution_timeout=spec.execution_timeout_s,
                    cwd=str(spec.notebook.parent),
                    progress_bar=False,
                    log_output=False,
                    kernel_manager_class=_ipc_kernel_manager(os.path.join(sockets, "k")),
                )
            except KeyboardInterrupt:
                # nbclient shuts the kernel down at exit through these sockets: keep them
                sockets = ""
                raise
            except Exception as exc:
                step.error = _describe(exc, spec)
                step.status = "failed"
                log.warning("step %s attempt %d of %d failed: %s", spec.id, attempt, spec.retries + 1, step.error)
                if attempt <= spec.retries:
                    time.sleep(spec.retry_delay_s)
                continue
            finally:
                if sockets:
                    shutil.rmtree(sockets, ignore_errors=True)
            step.status, step.error = "succeeded", None
            try:
                step.outputs = read_step_result(output)
            except Exception as exc:  # the step ran; an unreadable summary is not a failure
                log.warning("cannot read the step result of %s: %s", output, exc)
            break
        step.ended_at = now_iso()
        step.duration_s = round(time.perf_counter() - t0, 3)
        self.store.update_step(
            run_id,
            spec.id,
            status=step.status,
            ended_at=step.ended_at,
            duration_s=step.duration_s,
            output_path=step.output_path,
            error=step.error,
            outputs=step.outputs,
        )

    def _lineage(
        self,
        event: str,
        recipe: Recipe,
        run_id: str,
        started_at: str,
        ended_at: str | None,
        status: str,
        steps: list[StepRun],
        error: str | None,
    ) -> None:
        """Record the run on the pipeline's lineage vertex when the workspace has a lineage graph."""
        try:
            graph = self.wb.lineage  # type: ignore[attr-defined,unused-ignore]
        except (AttributeError, ImportError):
            return  # a workspace without the lineage capability
        record = getattr(graph, "record_run", None)
        if record is None:
            return
        from datetime import datetime

        final = {"succeeded": "COMPLETE", "failed": "FAIL"}.get(status, "ABORT")
        common: dict[str, Any] = {
            "started_at": datetime.fromisoformat(started_at),
            "run_id": run_id,
            "version": _version(recipe),
            "type": "papermill",
        }
        if event == "START":
            try:
                record(recipe.name, status="START", **common)
            except Exception as exc:  # the run itself is recorded; lineage must not stop it
                log.warning("lineage start of pipeline run %s not recorded: %s", run_id, exc)
            return
        inputs: dict[str, int | None] = {}
        outputs: dict[str, int | None] = {}
        for s in steps:
            for d in s.outputs.get("inputs", []):
                inputs.setdefault(d["dataset"], d.get("snapshot_id"))
            for d in s.outputs.get("outputs", []):
                outputs[d["dataset"]] = d.get("snapshot_id")
        # A dataset this pipeline writes (in this run or an earlier one) is not also one of
        # its inputs: at the pipeline vertex that would be a cycle (written by, then read by,
        # the same job), which the graph refuses.
        written = set(outputs)
        try:
            from odg_workbench.lineage.graph import dataset_id

            earlier = {d.dataset for r in graph.runs(recipe.name, limit=1000) for d in r.outputs}
            written |= {name for name in inputs if dataset_id(name) in earlier}
        except Exception as exc:  # an older graph without runs(): the run's own outputs only
            log.debug("earlier outputs of %s not read: %s", recipe.name, exc)
        try:
            record(
                recipe.name,
                inputs=[(k, v) for k, v in inputs.items() if k not in written],
                outputs=list(outputs.items()),
                status=final,
                ended_at=datetime.fromisoformat(ended_at) if ended_at else None,
                error=error,
                **common,
            )
        except Exception as exc:  # the run itself is recorded; lineage is best effort here
            log.warning("lineage of pipeline run %s not recorded: %s", run_id, exc)


def _ipc_kernel_manager(ip: str) -> type[Any]:
    """A kernel manager class whose kernels listen on Unix sockets named ``ip-N`` (nbclient owns and stops them)."""
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(transport="ipc", ip=ip, **kwargs)

    return IpcKernelManager


def _version(recipe: Recipe) -> str | None:
    if recipe.path is None or not recipe.path.exists():
        return None
    h = hashlib.sha256(recipe.path.read_bytes())
    for s in recipe.steps:
        if s.notebook.exists():
            h.update(s.notebook.read_bytes())
    return h.hexdigest()[:16]


def _describe(exc: BaseException, spec: Step) -> str:
    from papermill.exceptions import PapermillExecutionError  # type: ignore[import-untyped]

    if isinstance(exc, PapermillExecutionError):
        return f"cell {exc.exec_count} raised {exc.ename}: {exc.evalue}"
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        text = str(exc).splitlines()[0] if str(exc) else ""
        if "kernel" in text.lower() and "start" in text.lower():
            return f"the kernel did not start within {spec.start_timeout_s:g} s ({name})"
        return f"a cell ran longer than the execution timeout {spec.execution_timeout_s:g} s ({name}: {text})"
    return f"{name}: {exc}"
