"""Pipeline commands: run a recipe of notebooks, list and show runs, export, and the scheduler.

Exit status of ``odg pipeline run``: 0 when every step succeeded (or, with
``--scheduled``, when the slot was already run), 4 when a step failed or the run was
interrupted (the output notebooks are kept), 1 on an error found before anything ran
(bad recipe, unknown parameter, missing kernel ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from odg_workbench.cli._common import (
    JsonOpt,
    UserOpt,
    WorkspaceOpt,
    handle_errors,
    open_workspace,
    print_json,
    print_table,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    from odg_workbench.pipelines.runner import PipelineRun

RUN_FAILED = 4

pipeline_app = typer.Typer(
    name="pipeline",
    help="Recipes of papermill notebooks: run them, list runs, export to Airflow or Kubernetes.",
    no_args_is_help=True,
)

RecipeArg = Annotated[
    str,
    typer.Argument(help="Recipe file (YAML), or the name of one in ./recipes.", show_default=False),
]


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app)
    app.command("scheduler")(scheduler)


@pipeline_app.command("run")
@handle_errors
def run(
    recipe: RecipeArg,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="STEP.NAME=VALUE over the recipe's parameters (repeatable)."),
    ] = None,
    scheduled: Annotated[
        bool,
        typer.Option(
            "--scheduled",
            help="Run as the recipe's current cron slot (claimed once: a second start of the slot does nothing).",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a recipe's notebooks in dependency order; exit status 4 when a step fails."""
    from datetime import UTC, datetime

    from odg_workbench.pipelines.recipe import PipelineError, load_recipe, parse_param_overrides
    from odg_workbench.pipelines.runner import Pipelines
    from odg_workbench.pipelines.scheduler import latest_fire, slot_key
    from odg_workbench.pipelines.store import SlotTakenError

    loaded = load_recipe(recipe)
    overrides = parse_param_overrides(param or [], loaded)
    loaded = loaded.with_parameters(overrides)  # bad --param values fail here, before any workspace change
    slot = None
    if scheduled:
        if not loaded.schedule:
            raise PipelineError(f"--scheduled: recipe {loaded.name} has no schedule", field="schedule")
        slot = slot_key(latest_fire(loaded, datetime.now(UTC)))
    with open_workspace(workspace, user, create=True) as wb:
        if not as_json:
            stderr().print(f"[dim]running {loaded.name}: {', '.join(s.id for s in loaded.steps)}[/dim]")
        try:
            result = Pipelines(wb).run(loaded, trigger="schedule" if scheduled else "manual", slot=slot)
        except SlotTakenError:
            if as_json:
                print_json({"recipe": loaded.name, "slot": slot, "status": "already_claimed"})
            else:
                stdout().print(f"{loaded.name} slot {slot} already has a run: nothing to do")
            return
    if as_json:
        print_json(result.to_dict())
    else:
        _print_run(result)
    if not result.ok:
        raise typer.Exit(RUN_FAILED)


def _print_run(run: PipelineRun) -> None:
    rows = [
        {
            "step": s.step_id,
            "status": s.status,
            "attempts": s.attempts,
            "seconds": "" if s.duration_s is None else f"{s.duration_s:.1f}",
            "output notebook": s.output_path or "",
            "error": s.error or "",
        }
        for s in run.steps
    ]
    print_table(rows, title=f"{run.recipe} run {run.run_id[:12]}")
    colour = "green" if run.ok else "red"
    stdout().print(
        f"[bold {colour}]{run.status}[/bold {colour}] in {run.duration_s:.1f} s; "
        f"outputs in {run.output_dir} (odg pipeline show {run.run_id[:12]})",
        highlight=False,
    )


@pipeline_app.command("runs")
@handle_errors
def runs(
    recipe: Annotated[str | None, typer.Argument(help="Only the runs of this recipe (its name).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Most recent runs only.")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded pipeline runs, newest first."""
    from odg_workbench.pipelines.runner import Pipelines

    with open_workspace(workspace) as wb:
        found = Pipelines(wb).runs(recipe, limit=limit)
    if as_json:
        print_json(found)
        return
    rows = [
        {
            "run": r["run_id"][:12],
            "recipe": r["recipe"],
            "status": r["status"],
            "trigger": r["trigger"],
            "slot": r["slot"] or "",
            "started_at": r["started_at"][:19],
            "seconds": "" if r["duration_s"] is None else f"{r['duration_s']:.1f}",
            "steps": " ".join(f"{s['step_id']}:{s['status']}" for s in r["steps"]),
        }
        for r in found
    ]
    print_table(rows, title="pipeline runs")


@pipeline_app.command("show")
@handle_errors
def show(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix) from `odg pipeline runs`.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One run: its steps, their output notebooks, errors and reported datasets."""
    from odg_workbench.pipelines.runner import Pipelines

    with open_workspace(workspace) as wb:
        found = Pipelines(wb).get(run_id)
    if as_json:
        print_json(found)
        return
    stdout().print(
        f"{found['recipe']} run {found['run_id']}: [bold]{found['status']}[/bold] "
        f"({found['trigger']}{', slot ' + found['slot'] if found['slot'] else ''}) started {found['started_at'][:19]}"
        + (f"\n{found['error']}" if found["error"] else ""),
        highlight=False,
    )
    rows: list[dict[str, Any]] = []
    for s in found["steps"]:
        outs = s["outputs"] or {}
        rows.append(
            {
                "step": s["step_id"],
                "status": s["status"],
                "attempts": s["attempts"],
                "seconds": "" if s["duration_s"] is None else f"{s['duration_s']:.1f}",
                "wrote": ", ".join(d["dataset"] for d in outs.get("outputs", [])),
                "output notebook": s["output_path"] or "",
                "error": s["error"] or "",
            }
        )
    print_table(rows, title="steps")


@pipeline_app.command("export")
@handle_errors
def export(
    recipe: RecipeArg,
    airflow: Annotated[bool, typer.Option("--airflow", help="An Airflow DAG of PapermillOperator tasks.")] = False,
    k8s: Annotated[bool, typer.Option("--k8s", help="A Kubernetes CronJob running `odg pipeline run`.")] = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write into.")] = Path("."),
    image: Annotated[str, typer.Option("--image", help="Container image (--k8s).")] = "odg-workbench:latest",
    namespace: Annotated[str | None, typer.Option("--namespace", help="Kubernetes namespace (--k8s).")] = None,
    pvc: Annotated[
        str, typer.Option("--pvc", help="PersistentVolumeClaim holding the workspace (--k8s).")
    ] = "odg-workspace",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write an Airflow DAG (--airflow) and/or Kubernetes CronJob manifest (--k8s) for a recipe."""
    from odg_workbench.pipelines.export import to_airflow, to_k8s
    from odg_workbench.pipelines.recipe import PipelineError, load_recipe

    if not (airflow or k8s):
        raise PipelineError("choose what to export: --airflow and/or --k8s", field="--airflow/--k8s")
    loaded = load_recipe(recipe)
    written: dict[str, str] = {}
    if airflow:
        written["airflow"] = str(to_airflow(loaded, out, workspace=workspace))
    if k8s:
        written["k8s"] = str(to_k8s(loaded, out, image=image, namespace=namespace, pvc=pvc))
    if as_json:
        print_json({"recipe": loaded.name, "written": written})
        return
    for kind, path in written.items():
        stdout().print(f"{kind}: {path}", highlight=False)


@handle_errors
def scheduler(
    recipes: Annotated[
        list[str] | None,
        typer.Argument(help="Recipe files or names (default: every recipe with a schedule in ./recipes)."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
    until: Annotated[
        str | None, typer.Option("--until", help="Stop at this ISO time, or after a duration (90s, 10m, 2h).")
    ] = None,
    catch_up: Annotated[
        bool,
        typer.Option("--catch-up", help="Also run slots missed while stopped and slots whose run was interrupted."),
    ] = False,
    poll: Annotated[float, typer.Option("--poll", help="Longest sleep between checks, seconds.")] = 30.0,
    grace: Annotated[
        float, typer.Option("--grace", help="Seconds a running step may finish after SIGTERM/SIGINT.")
    ] = 20.0,
    stale_after: Annotated[
        float, typer.Option("--stale-after", help="Seconds without heartbeat before a run counts as interrupted.")
    ] = 60.0,
    workspace: WorkspaceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run recipes when their cron fires, each slot once (claimed in the state DB); SIGTERM stops cleanly."""
    from odg_workbench.pipelines.recipe import PipelineError, load_recipe
    from odg_workbench.pipelines.scheduler import Scheduler, parse_until

    if recipes:
        loaded = [load_recipe(r) for r in recipes]
    else:
        folder = Path.cwd() / "recipes"
        files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
        loaded = [load_recipe(f) for f in files]
    scheduled = [r for r in loaded if r.schedule]
    if not scheduled:
        raise PipelineError(
            "no recipe with a schedule to run (give recipe files, or run from a folder with recipes/*.yaml)",
            field="schedule",
        )
    stop_at = parse_until(until) if until else None
    with open_workspace(workspace, user, create=True) as wb:
        sched = Scheduler(wb, scheduled, catch_up=catch_up, poll_s=poll, grace_s=grace, stale_after_s=stale_after)
        if not as_json:
            stderr().print(
                "[dim]scheduler: "
                + ", ".join(f"{r.name} ({r.schedule} {r.timezone})" for r in sched.recipes)
                + "[/dim]"
            )
        interrupted = False
        try:
            done = sched.serve(once=once, until=stop_at)
        except KeyboardInterrupt:
            interrupted, done = True, sched.history
        summary: dict[str, Any] = {
            "recovered": [
                {"run_id": r["run_id"], "recipe": r["recipe"], "slot": r["slot"], "error": r["error"]}
                for r in sched.recovered
            ],
            "runs": [r.to_dict() for r in done],
            "stopped_by_signal": sched.stop.is_set(),
        }
        if interrupted and sched.current_run_id:
            summary["interrupted_run"] = sched.store.get(sched.current_run_id)
    if as_json:
        print_json(summary)
    else:
        for r in sched.recovered:
            stdout().print(f"interrupted earlier: {r['recipe']} slot {r['slot']} (run {r['run_id'][:12]})")
        for run_ in done:
            stdout().print(
                f"{run_.recipe} slot {run_.slot}: {run_.status} in {run_.duration_s:.1f} s ({run_.run_id[:12]})"
            )
        if "interrupted_run" in summary:
            cut = summary["interrupted_run"]
            stdout().print(f"{cut['recipe']} slot {cut['slot']}: interrupted while a step ran ({cut['run_id'][:12]})")
    if interrupted:
        raise typer.Exit(130)
