"""Pipelines: recipes of papermill notebooks, their runs, the scheduler and the exports.

Real kernels run here (each start costs a few seconds): the tests that start one are
marked ``slow`` and grouped (``xdist_group``) so ``-n 2 --dist loadgroup`` splits them.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat as _nbformat
import pytest
import yaml

import odg_workbench as odg
from odg_workbench.pipelines.recipe import RecipeError, load_recipe, parse_param_overrides
from odg_workbench.pipelines.store import RunStore, SlotTakenError
from tests.conftest import ODG, REPO, odg_json, run_odg

nbformat: Any = _nbformat  # untyped library
new_notebook = nbformat.v4.new_notebook
new_code_cell = nbformat.v4.new_code_cell

RECIPES = REPO / "recipes"
NOTEBOOKS = REPO / "notebooks"


@pytest.fixture(scope="session", autouse=True)
def _kernel() -> None:
    """The default kernel, installed into this environment as `make venv` does."""
    from odg_workbench.pipelines.kernel import ensure_kernel

    ensure_kernel("odg-workbench")


def tiny_notebook(folder: Path, name: str = "tiny.ipynb") -> Path:
    """A small notebook: typed parameters, an optional sleep, an optional failing cell."""
    book = new_notebook()
    book.metadata["kernelspec"] = {"name": "odg-workbench", "display_name": "odg", "language": "python"}
    params = new_code_cell(
        'times: int = 1\nmsg = "hi"\nsleep_s: float = 0.0\nfail: bool = False\nmarker: str = ""\nworkspace: str = ""'
    )
    params.metadata["tags"] = ["parameters"]
    book.cells += [
        params,
        new_code_cell(
            "import pathlib, time\nif marker:\n    pathlib.Path(marker).write_text('started')\n"
            "time.sleep(sleep_s)\nprint(msg * times, workspace)"
        ),
        new_code_cell('if fail:\n    raise ValueError("boom from the notebook")'),
        new_code_cell(
            "from odg_workbench.pipelines import step_result\nstep_result(said=msg * times, workspace=workspace)"
        ),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(book, str(path))
    return path


def write_recipe(folder: Path, text: str, name: str = "r.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


# -- recipes: format and validation (no kernel) ----------------------------------------


def test_medallion_recipe_loads_in_dependency_order() -> None:
    recipe = load_recipe(RECIPES / "medallion_demo.yaml")
    order = [s.id for s in recipe.steps]
    assert order.index("ingest") < order.index("quality") < order.index("silver") < order.index("gold_decision")
    assert order.index("governance") < order.index("gold_decision")
    assert recipe.schedule == "0 6 * * *"
    assert recipe.step("quality").retries == 0 and recipe.step("ingest").retries == 1
    assert recipe.step("silver").execution_timeout_s == 900
    # the notebook's own parameters cell is what was read
    assert recipe.step("silver").declared["sql"].type == "dict"
    assert set(recipe.step("ingest").declared) >= {"workspace", "user", "run_id", "source", "table"}


def test_every_recipe_in_the_repository_is_valid() -> None:
    files = sorted(RECIPES.glob("*.yaml"))
    assert len(files) >= 2
    for f in files:
        assert load_recipe(f).steps


def test_every_notebook_has_a_parameters_cell_and_uses_the_library() -> None:
    from odg_workbench.pipelines.recipe import notebook_parameters

    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert len(books) >= 5
    for b in books:
        params = notebook_parameters(b)
        assert "workspace" in params, b.name
        assert "odg_workbench" in b.read_text()


def test_cycle_is_named_with_file_and_line(tmp_path: Path) -> None:
    nb = tiny_notebook(tmp_path)
    path = write_recipe(
        tmp_path,
        f"""name: loop
steps:
  - id: a
    notebook: {nb}
    depends_on: [c]
  - id: b
    notebook: {nb}
    depends_on: a
  - id: c
    notebook: {nb}
    depends_on: [b]
""",
    )
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    msg = str(err.value)
    assert "cycle" in msg and str(path) in msg
    cycle = err.value.details["found"]
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert " -> ".join(cycle) in msg
    assert err.value.details["line"] in (3, 6, 9)


@pytest.mark.parametrize(
    ("body", "expect", "line"),
    [
        ("  - id: a\n    notebook: missing.ipynb\n", "notebook not found: missing.ipynb", 4),
        (
            "  - id: a\n    notebook: {nb}\n    parameters: {{time: 3}}\n",
            "has no parameter 'time'; did you mean 'times'",
            5,
        ),
        ("  - id: a\n    notebook: {nb}\n    parameters:\n      times: three\n", "expected int", 6),
        ("  - id: a\n    notebook: {nb}\n    parameters:\n      fail: 1\n", "expected bool", 6),
        ("  - id: a\n    notebook: {nb}\n    parameters:\n      workspace: /x\n", "set by the runner", 6),
        ("  - id: a\n    notebook: {nb}\n    retires: 2\n", "steps[0].retires: unknown field", 5),
        ("  - id: a\n    notebook: {nb}\n    depends_on: [z]\n", "unknown step 'z'", 5),
        ("  - id: a\n    notebook: {nb}\n  - id: a\n    notebook: {nb}\n", "already used", 5),
    ],
)
def test_bad_recipes_name_file_line_and_field(tmp_path: Path, body: str, expect: str, line: int) -> None:
    nb = tiny_notebook(tmp_path)
    path = write_recipe(tmp_path, "name: bad\nsteps:\n" + body.format(nb=nb))
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert expect in str(err.value)
    assert str(err.value).startswith(f"{path}:{line}:"), str(err.value)


def test_bad_schedule_and_notebook_without_parameters_cell(tmp_path: Path) -> None:
    nb = tiny_notebook(tmp_path)
    path = write_recipe(tmp_path, f"name: s\nschedule: every day\nsteps:\n  - id: a\n    notebook: {nb}\n")
    with pytest.raises(RecipeError, match=r"r.yaml:2: schedule: 'every day' is not a cron expression"):
        load_recipe(path)
    plain = new_notebook()
    plain.cells.append(new_code_cell("x = 1"))
    nbformat.write(plain, str(tmp_path / "plain.ipynb"))
    path = write_recipe(tmp_path, "name: s\nsteps:\n  - id: a\n    notebook: plain.ipynb\n")
    with pytest.raises(RecipeError, match="has no cell tagged 'parameters'"):
        load_recipe(path)


def test_command_line_parameters_are_typed_by_the_notebook(tmp_path: Path) -> None:
    nb = tiny_notebook(tmp_path)
    recipe = load_recipe(write_recipe(tmp_path, f"name: p\nsteps:\n  - id: a\n    notebook: {nb}\n"))
    over = parse_param_overrides(["a.times=3", "a.msg=007", "a.fail=true"], recipe)
    assert over == {"a": {"times": 3, "msg": "007", "fail": True}}  # msg is declared str: kept as text
    assert recipe.with_parameters(over).step("a").parameters == {"times": 3, "msg": "007", "fail": True}
    with pytest.raises(RecipeError, match=r"--param a.times: expected int .* found str 'many'"):
        recipe.with_parameters(parse_param_overrides(["a.times=many"], recipe))
    with pytest.raises(RecipeError, match="has no step 'b'"):
        recipe.with_parameters({"b": {"x": 1}})
    with pytest.raises(RecipeError, match=r"expected STEP\.NAME=VALUE"):
        parse_param_overrides(["times=3"])


def test_bad_parameter_on_the_command_line_runs_nothing(tmp_path: Path, ws: odg.Workbench) -> None:
    nb = tiny_notebook(tmp_path)
    path = write_recipe(tmp_path, f"name: p\nsteps:\n  - id: a\n    notebook: {nb}\n")
    proc = run_odg("pipeline", "run", str(path), "--param", "a.nope=1", "--json", workspace=ws.root, check=False)
    assert proc.returncode == 1
    err = json.loads(proc.stdout)["error"]
    assert err["type"] == "RecipeError" and "no parameter 'nope'" in err["message"]
    assert odg_json("pipeline", "runs", workspace=ws.root) == []
    assert not (ws.root / "pipelines").exists()


# -- exports (no kernel) ------------------------------------------------------------------


def test_airflow_export_is_a_dag_of_papermill_tasks(tmp_path: Path) -> None:
    out = odg_json("pipeline", "export", str(RECIPES / "medallion_demo.yaml"), "--airflow", "--out", str(tmp_path))
    dag = Path(out["written"]["airflow"])
    tree = ast.parse(dag.read_text())
    compile(tree, str(dag), "exec")
    tasks: dict[str, str] = {}
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PapermillOperator"]
    for assign in (n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.value in calls):
        call = assign.value
        assert isinstance(call, ast.Call)
        kw = {k.arg: k.value for k in call.keywords}
        tasks[assign.targets[0].id] = ast.literal_eval(kw["task_id"])  # type: ignore[attr-defined]
        assert ast.literal_eval(kw["kernel_name"]) == "odg-workbench"
        assert {"input_nb", "output_nb", "parameters", "retries", "execution_timeout"} <= set(kw)
    edges = {
        (tasks[n.left.id], tasks[n.right.id])  # type: ignore[attr-defined]
        for n in ast.walk(tree)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.RShift)
    }
    recipe = load_recipe(RECIPES / "medallion_demo.yaml")
    assert sorted(tasks.values()) == sorted(s.id for s in recipe.steps)
    assert edges == {(d, s.id) for s in recipe.steps for d in s.depends_on}
    dag_call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "DAG")
    kw = {k.arg: k.value for k in dag_call.keywords}
    assert ast.literal_eval(kw["schedule"]) == "0 6 * * *"
    assert ast.literal_eval(kw["catchup"]) is False and ast.literal_eval(kw["max_active_runs"]) == 1
    assert "from airflow.providers.papermill.operators.papermill import PapermillOperator" in dag.read_text()


def test_k8s_export_is_a_cronjob_running_odg_pipeline_run(tmp_path: Path) -> None:
    out = odg_json(
        "pipeline",
        "export",
        str(RECIPES / "medallion_demo.yaml"),
        "--k8s",
        "--out",
        str(tmp_path),
        "--image",
        "reg/odg:1",
        "--namespace",
        "data",
    )
    docs = list(yaml.safe_load_all(Path(out["written"]["k8s"]).read_text()))
    assert len(docs) == 1
    job = docs[0]
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "CronJob"
    assert job["metadata"]["namespace"] == "data" and job["metadata"]["name"] == "odg-medallion-demo"
    spec = job["spec"]
    assert spec["schedule"] == "0 6 * * *" and spec["timeZone"] == "UTC" and spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["image"] == "reg/odg:1"
    assert container["command"][:3] == ["odg", "pipeline", "run"]
    assert container["command"][3].endswith("medallion_demo.yaml") and "--scheduled" in container["command"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["workspace"] == "/workspace"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "odg-workspace"


def test_k8s_export_needs_a_schedule(tmp_path: Path) -> None:
    nb = tiny_notebook(tmp_path)
    path = write_recipe(tmp_path, f"name: manual_only\nsteps:\n  - id: a\n    notebook: {nb}\n")
    proc = run_odg("pipeline", "export", str(path), "--k8s", "--out", str(tmp_path), check=False)
    assert proc.returncode == 1 and "has no schedule" in proc.stderr


# -- slots, recovery, due slots (no kernel) ---------------------------------------------


def test_a_slot_is_claimed_once(ws: odg.Workbench) -> None:
    store = RunStore(ws.state)
    common: dict[str, Any] = {
        "recipe": "r",
        "recipe_path": None,
        "recipe_version": None,
        "trigger": "schedule",
        "actor": "t",
        "steps": [("a", "a.ipynb")],
        "parameters": {},
    }
    store.create(run_id="r1", slot="2026-01-01T06:00:00+00:00", **common)
    with pytest.raises(SlotTakenError):
        store.create(run_id="r2", slot="2026-01-01T06:00:00+00:00", **common)
    store.create(run_id="m1", slot=None, **common)  # manual runs have no slot
    store.create(run_id="m2", slot=None, **common)
    assert {r["run_id"] for r in store.runs("r")} == {"r1", "m1", "m2"}


def test_recover_marks_runs_of_dead_processes_interrupted(ws: odg.Workbench) -> None:
    store = RunStore(ws.state)
    store.create(
        run_id="dead",
        recipe="r",
        recipe_path=None,
        recipe_version=None,
        trigger="schedule",
        slot="2026-01-01T06:00:00+00:00",
        actor="t",
        steps=[("a", "a.ipynb"), ("b", "b.ipynb")],
        parameters={},
    )
    store.update_step("dead", "a", status="running")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    import sqlalchemy as sa

    from odg_workbench.pipelines.store import _tables

    runs, _ = _tables()
    with ws.state.begin() as conn:
        conn.execute(sa.update(runs).where(runs.c.run_id == "dead").values(pid=gone.pid))
    store.create(  # a live run of this very process is left alone
        run_id="alive",
        recipe="r",
        recipe_path=None,
        recipe_version=None,
        trigger="manual",
        slot=None,
        actor="t",
        steps=[("a", "a.ipynb")],
        parameters={},
    )
    found = store.recover(stale_after_s=60)
    assert [r["run_id"] for r in found] == ["dead"]
    run = store.get("dead")
    assert run["status"] == "interrupted" and "ended without finishing" in run["error"]
    assert [(s["step_id"], s["status"]) for s in run["steps"]] == [("a", "interrupted"), ("b", "skipped")]
    assert store.get("alive")["status"] == "running"
    assert store.slots("r") == {"2026-01-01T06:00:00+00:00": "interrupted"}


def test_recover_marks_runs_with_a_stale_heartbeat_interrupted(ws: odg.Workbench) -> None:
    import sqlalchemy as sa

    from odg_workbench.pipelines.store import _tables

    store = RunStore(ws.state)
    store.create(
        run_id="quiet",
        recipe="r",
        recipe_path=None,
        recipe_version=None,
        trigger="manual",
        slot=None,
        actor="t",
        steps=[("a", "a.ipynb")],
        parameters={},
    )
    runs, _ = _tables()
    with ws.state.begin() as conn:  # a live PID (ours) on another host, silent for ten minutes
        conn.execute(
            sa.update(runs)
            .where(runs.c.run_id == "quiet")
            .values(host="elsewhere", heartbeat_at="2000-01-01T00:00:00.000000+00:00")
        )
    assert [r["run_id"] for r in store.recover(stale_after_s=60)] == ["quiet"]
    assert "no heartbeat since 2000-01-01" in store.get("quiet")["error"]


def test_due_slots_policy(tmp_path: Path, ws: odg.Workbench) -> None:
    from odg_workbench.pipelines.scheduler import Scheduler

    nb = tiny_notebook(tmp_path)
    recipe = load_recipe(
        write_recipe(tmp_path, f"name: hourly\nschedule: '0 * * * *'\nsteps:\n  - id: a\n    notebook: {nb}\n")
    )
    now = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    sched = Scheduler(ws, [recipe], clock=lambda: now)
    # first start: the latest fire time only
    assert [(s, k) for _, s, k in sched.due()] == [("2026-03-01T10:00:00+00:00", "run")]
    store = sched.store
    store.create(
        run_id="x",
        recipe="hourly",
        recipe_path=None,
        recipe_version=None,
        trigger="schedule",
        slot="2026-03-01T07:00:00+00:00",
        actor="t",
        steps=[],
        parameters={},
        status="interrupted",
    )
    # down since 07:00: 08:00 and 09:00 are missed, 10:00 runs; the interrupted 07:00 is not re-run
    assert [(s[11:16], k) for _, s, k in sched.due()] == [("08:00", "missed"), ("09:00", "missed"), ("10:00", "run")]
    catch_up = Scheduler(ws, [recipe], clock=lambda: now, catch_up=True)
    assert [(s[11:16], k) for _, s, k in catch_up.due()] == [
        ("07:00", "retry"),
        ("08:00", "run"),
        ("09:00", "run"),
        ("10:00", "run"),
    ]


def test_scheduled_run_of_a_claimed_slot_does_nothing(tmp_path: Path, ws: odg.Workbench) -> None:
    from odg_workbench.pipelines.scheduler import latest_fire, slot_key

    nb = tiny_notebook(tmp_path)
    path = write_recipe(tmp_path, f"name: daily\nschedule: '0 6 * * *'\nsteps:\n  - id: a\n    notebook: {nb}\n")
    slot = slot_key(latest_fire(load_recipe(path), datetime.now(UTC)))
    RunStore(ws.state).create(
        run_id="earlier",
        recipe="daily",
        recipe_path=None,
        recipe_version=None,
        trigger="schedule",
        slot=slot,
        actor="t",
        steps=[("a", str(nb))],
        parameters={},
        status="missed",
    )
    out = odg_json("pipeline", "run", str(path), "--scheduled", workspace=ws.root)
    assert out == {"recipe": "daily", "slot": slot, "status": "already_claimed"}
    assert [r["run_id"] for r in odg_json("pipeline", "runs", workspace=ws.root)] == ["earlier"]


def test_until_accepts_durations_and_times() -> None:
    from odg_workbench.pipelines.recipe import PipelineError
    from odg_workbench.pipelines.scheduler import parse_until

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_until("90s", now) == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)
    assert parse_until("2h", now) == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert parse_until("2026-01-02T06:00", now) == datetime(2026, 1, 2, 6, tzinfo=UTC)
    with pytest.raises(PipelineError, match="--until 'soon'"):
        parse_until("soon", now)


# -- real runs (kernels) -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.xdist_group("pipelines-a")
def test_medallion_demo_recipe_runs_end_to_end(tmp_path: Path, ws: odg.Workbench) -> None:
    result = odg_json("pipeline", "run", str(RECIPES / "medallion_demo.yaml"), workspace=ws.root)
    assert result["status"] == "succeeded", result
    steps = {s["step_id"]: s for s in result["steps"]}
    assert list(steps) == [s.id for s in load_recipe(RECIPES / "medallion_demo.yaml").steps]
    for s in steps.values():
        assert s["status"] == "succeeded" and s["attempts"] == 1
        assert Path(s["output_path"]).is_file() and Path(s["output_path"]).is_relative_to(ws.root / "pipelines")
    # what the notebooks did, seen through the library
    assert ws.lakehouse.exists("bronze.orders") and ws.lakehouse.exists("silver.orders")
    assert not ws.lakehouse.exists("silver.customers")  # blocked by its Bronze gate
    assert steps["silver"]["outputs"]["values"]["statuses"] == {
        "bronze.customers": "blocked",
        "bronze.orders": "promoted",
    }
    decision_id = steps["gold_decision"]["outputs"]["values"]["decisions"]["silver.orders"]
    decision = ws.decisions.get(decision_id)
    assert decision.status.value == "PENDING" and decision.type == "data_promotion"
    assert ws.table("silver.orders").to_arrow().num_rows == 19988  # the cleaning query of the recipe ran
    # the run is recorded, audited and listed
    runs = odg_json("pipeline", "runs", workspace=ws.root)
    assert [r["run_id"] for r in runs] == [result["run_id"]] and runs[0]["trigger"] == "manual"
    assert runs[0]["actor"] == "cli-tester" and runs[0]["recipe_version"]
    shown = odg_json("pipeline", "show", result["run_id"][:10], workspace=ws.root)
    assert shown["status"] == "succeeded" and shown["steps"][0]["outputs"]["outputs"]
    types = [r.type for r in ws.audit.records(type_prefix="pipeline.run.")]
    assert types == ["pipeline.run.started", "pipeline.run.completed"]
    assert ws.audit.verify().ok
    # the lineage graph has the run on the pipeline's vertex, with what its notebooks wrote
    (lineage_run,) = ws.lineage.runs("medallion_demo")
    assert lineage_run.run_id == result["run_id"] and lineage_run.status == "COMPLETE"
    assert "pipeline:medallion_demo" in ws.lineage.upstream("dataset:silver.orders").ids()

    # the demo's Gold step again (same pipeline): no second decision for the same Silver
    # snapshot, and the lineage run is recorded (silver.orders, written by this pipeline
    # before, is not made one of its inputs: that would be a cycle the graph refuses)
    again_path = write_recipe(
        tmp_path,
        f"name: medallion_demo\nsteps:\n  - id: gold\n    notebook: {NOTEBOOKS / '03_promote.ipynb'}\n"
        "    parameters: {to: gold, domain: sales}\n",
    )
    again = odg_json("pipeline", "run", str(again_path), workspace=ws.root)
    assert again["steps"][0]["outputs"]["values"]["decisions"] == {"silver.orders": decision_id}
    assert [d.id for d in ws.decisions.list(status="open")] == [decision_id]
    assert [r.status for r in ws.lineage.runs("medallion_demo")] == ["COMPLETE", "COMPLETE"]


@pytest.mark.slow
@pytest.mark.xdist_group("pipelines-b")
def test_end_to_end_notebook_and_the_report_notebooks(tmp_path: Path, ws: odg.Workbench) -> None:
    path = write_recipe(
        tmp_path, f"name: e2e\nsteps:\n  - id: all\n    notebook: {NOTEBOOKS / '00_medallion_end_to_end.ipynb'}\n"
    )
    from odg_workbench.pipelines import Pipelines

    run = Pipelines(ws).run(path)
    assert run.ok, run.to_dict()
    values = run.step("all").outputs["values"]
    assert values["silver"]["bronze.orders"] == "promoted" and values["audit_ok"] is True
    assert ws.decisions.get(values["decisions"][0]).status.value == "PENDING"

    # the report notebooks, on what the end-to-end notebook left: lineage and compliance
    report = tmp_path / "lineage.json"
    reports = odg_json(
        "pipeline",
        "run",
        str(RECIPES / "governance_reports.yaml"),
        "--param",
        f"lineage.output={report}",
        "--param",
        "compliance.frameworks=[lgpd, dama_dmbok]",
        workspace=ws.root,
    )
    assert reports["status"] == "succeeded", reports
    lineage_of = json.loads(report.read_text())
    assert "pipeline:e2e" in lineage_of["silver.orders"]["upstream"]
    assert "dataset:bronze.orders" in lineage_of["silver.orders"]["upstream"]
    audit = next(s for s in reports["steps"] if s["step_id"] == "compliance")["outputs"]["values"]
    assert audit["summary"]["total"] > 0 and Path(audit["html"]).read_text().lstrip().lower().startswith("<!doctype")
    assert {f.split(":")[0] for f in audit["failed"]} <= {"lgpd", "dama_dmbok"}


@pytest.mark.slow
@pytest.mark.xdist_group("pipelines-b")
def test_failing_cell_fails_the_run_keeps_the_notebook_and_skips_dependents(tmp_path: Path, ws: odg.Workbench) -> None:
    nb = tiny_notebook(tmp_path)
    path = write_recipe(
        tmp_path,
        f"""name: breaks
retries: 0
steps:
  - id: first
    notebook: {nb}
    parameters: {{fail: true}}
    retries: 1
    retry_delay_s: 0
  - id: after
    notebook: {nb}
    depends_on: [first]
  - id: aside
    notebook: {nb}
    parameters: {{msg: aside, times: 2}}
  - id: stuck
    notebook: {nb}
    parameters: {{sleep_s: 30}}
    timeouts: {{execution_s: 1}}
""",
    )
    proc = run_odg("pipeline", "run", str(path), "--json", workspace=ws.root, check=False)
    assert proc.returncode == 4
    run = json.loads(proc.stdout)
    assert run["status"] == "failed" and "step first failed" in run["error"]
    steps = {s["step_id"]: s for s in run["steps"]}
    assert steps["first"]["status"] == "failed" and steps["first"]["attempts"] == 2
    assert "ValueError: boom from the notebook" in steps["first"]["error"]
    assert steps["after"]["status"] == "skipped" and steps["aside"]["status"] == "succeeded"
    assert steps["aside"]["outputs"]["values"]["said"] == "asideaside"
    assert steps["aside"]["outputs"]["values"]["workspace"] == str(ws.root)  # injected by the runner
    assert steps["stuck"]["status"] == "failed" and "longer than the execution timeout 1 s" in steps["stuck"]["error"]
    assert steps["stuck"]["duration_s"] < 20
    kept = Path(steps["first"]["output_path"])
    assert kept.name == "first.attempt-2.ipynb" and (kept.parent / "first.ipynb").is_file()
    out = nbformat.read(str(kept), as_version=4)
    errors = [o for c in out.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "ValueError" and errors[0]["evalue"] == "boom from the notebook"
    assert [r.type for r in ws.audit.records(type_prefix="pipeline.run.")][-1] == "pipeline.run.failed"


def _scheduler(args: list[str], ws_root: Path, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "ODG_USER": "scheduler-test"}
    return subprocess.Popen(
        [ODG, "scheduler", *args, "--workspace", str(ws_root), "--json"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate: Any, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


@pytest.mark.slow
@pytest.mark.xdist_group("pipelines-b")
def test_scheduler_killed_mid_run_neither_loses_nor_repeats_the_slot(tmp_path: Path, ws: odg.Workbench) -> None:
    nb = tiny_notebook(tmp_path)
    marker = tmp_path / "started"
    path = write_recipe(
        tmp_path,
        f"name: nightly\nschedule: '0 0 * * *'\nsteps:\n  - id: slow\n    notebook: {nb}\n"
        f"    parameters: {{sleep_s: 3, marker: '{marker}'}}\n",
    )
    first = _scheduler([str(path)], ws.root, tmp_path)
    _wait_for(marker.exists)  # the notebook is running in its kernel
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    store = RunStore(ws.state)
    (killed,) = store.runs("nightly")
    assert killed["status"] == "running"  # nobody could record anything

    again = _scheduler([str(path), "--once"], ws.root, tmp_path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    summary = json.loads(out)
    assert [r["run_id"] for r in summary["recovered"]] == [killed["run_id"]]
    assert summary["runs"] == []  # the interrupted slot is recorded, not run again
    (run,) = store.runs("nightly")
    assert run["status"] == "interrupted" and run["slot"] == killed["slot"]
    assert run["steps"][0]["status"] == "interrupted"
    assert [r.type for r in ws.audit.records(type_prefix="pipeline.run.")] == [
        "pipeline.run.started",
        "pipeline.run.interrupted",
    ]

    catch_up = _scheduler([str(path), "--once", "--catch-up"], ws.root, tmp_path)
    out, err = catch_up.communicate(timeout=120)
    assert catch_up.returncode == 0, err
    (rerun,) = json.loads(out)["runs"]
    assert rerun["status"] == "succeeded" and rerun["slot"] == killed["slot"]
    (final,) = store.runs("nightly")  # still one row for the slot: retried in place
    assert final["status"] == "succeeded" and final["attempt"] == 2


@pytest.mark.slow
@pytest.mark.xdist_group("pipelines-b")
def test_scheduler_stops_cleanly_on_sigterm(tmp_path: Path, ws: odg.Workbench) -> None:
    nb = tiny_notebook(tmp_path)
    marker = tmp_path / "started"
    path = write_recipe(
        tmp_path,
        f"""name: twostep
schedule: '0 0 * * *'
steps:
  - id: one
    notebook: {nb}
    parameters: {{sleep_s: 2, marker: '{marker}'}}
  - id: two
    notebook: {nb}
    depends_on: [one]
""",
    )
    proc = _scheduler([str(path), "--grace", "30"], ws.root, tmp_path)
    _wait_for(marker.exists)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["stopped_by_signal"] is True
    (run,) = summary["runs"]
    assert run["status"] == "interrupted"
    assert [(s["step_id"], s["status"]) for s in run["steps"]] == [("one", "succeeded"), ("two", "skipped")]
    (stored,) = RunStore(ws.state).runs("twostep")
    assert stored["status"] == "interrupted" and stored["pid"] is None


@pytest.mark.slow
@pytest.mark.xdist_group("pipelines-a")
def test_scheduler_interrupts_a_step_that_outlives_the_grace_period(tmp_path: Path, ws: odg.Workbench) -> None:
    nb = tiny_notebook(tmp_path)
    marker = tmp_path / "started"
    path = write_recipe(
        tmp_path,
        f"name: stubborn\nschedule: '0 0 * * *'\nsteps:\n  - id: long\n    notebook: {nb}\n"
        f"    parameters: {{sleep_s: 60, marker: '{marker}'}}\n",
    )
    proc = _scheduler([str(path), "--grace", "1"], ws.root, tmp_path)
    _wait_for(marker.exists)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - t0 < 30  # not the 60 s the cell wanted
    assert "did not finish within 1 s" in err
    cut = json.loads(out)["interrupted_run"]
    assert cut["status"] == "interrupted" and cut["steps"][0]["status"] == "interrupted"
    kept = nbformat.read(cut["steps"][0]["output_path"], as_version=4)
    assert kept.cells[0].metadata.get("tags") == ["parameters"]  # the output notebook written so far is kept
