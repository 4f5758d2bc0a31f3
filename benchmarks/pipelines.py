"""Benchmark: what ``odg pipeline run`` adds per step over a bare papermill execution.

Run ``.venv/bin/python benchmarks/pipelines.py`` (``--rounds 3 --steps 4`` by default,
about four minutes on two shared cores). Work files go to ``benchmarks/.work/pipelines/``
(git-ignored, wiped at the start); figures to stdout and to
``benchmarks/results/pipelines.json``.

The same notebook (a parameters cell, one small computation, the ``step_result`` cell)
runs ``--steps`` times per case; rounds are interleaved (A, B, then B, A):

===========================  ==============================================  ==============================================
case                         ours                                            peer
===========================  ==============================================  ==============================================
in process                   ``Pipelines(wb).run(recipe)``: a recipe of        ``papermill.execute_notebook`` of the same
                             ``--steps`` chained steps of the notebook         notebook ``--steps`` times, same kernel, same
                             (recipe loaded and validated against the          parameters, ``progress_bar=False``
                             notebook, run and steps recorded in the state
                             DB, heartbeat, audit events, lineage run,
                             step results read back)
command line                 ``odg pipeline run RECIPE --json`` as a           the ``papermill`` command, once per step, as
                             process                                           processes
===========================  ==============================================  ==============================================

Per-step overhead = (ours - peer) / steps. The machine is shared: medians matter more
than single figures, and a kernel start (a few seconds here) dominates both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nbformat
from run import interleaved, log, machine, summary

import odg_workbench as odg
from odg_workbench.pipelines import Pipelines, load_recipe
from odg_workbench.pipelines.kernel import ensure_kernel

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work" / "pipelines"
OUTPUT = ROOT / "results" / "pipelines.json"
KERNEL = "odg-workbench"
BIN = Path(sys.executable).parent


def make_notebook(path: Path) -> None:
    nbf: Any = nbformat
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "python"}
    params = nbf.v4.new_code_cell('rows: int = 100_000\nworkspace: str = ""')
    params.metadata["tags"] = ["parameters"]
    book.cells += [
        params,
        nbf.v4.new_code_cell("total = sum(i * i for i in range(rows))\nprint(total)"),
        nbf.v4.new_code_cell("from odg_workbench.pipelines import step_result\nstep_result(total=total)"),
    ]
    nbf.write(book, str(path))


def make_recipe(path: Path, notebook: Path, steps: int) -> None:
    lines = ["name: bench", "steps:"]
    for i in range(steps):
        lines += [f"  - id: s{i}", f"    notebook: {notebook}", "    parameters: {rows: 100000}"]
        if i:
            lines.append(f"    depends_on: [s{i - 1}]")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--cli-rounds", type=int, default=2)
    args = parser.parse_args()

    import papermill as pm  # type: ignore[import-untyped]

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    ensure_kernel(KERNEL)
    notebook = WORK / "step.ipynb"
    make_notebook(notebook)
    recipe_path = WORK / "bench.yaml"
    make_recipe(recipe_path, notebook, args.steps)
    wb = odg.open(WORK / "ws", user="bench")
    pipelines = Pipelines(wb)
    bare_out = WORK / "bare"
    bare_out.mkdir()

    def bare() -> None:
        for i in range(args.steps):
            pm.execute_notebook(
                str(notebook),
                str(bare_out / f"s{i}.ipynb"),
                parameters={"rows": 100_000, "workspace": str(wb.root)},
                kernel_name=KERNEL,
                progress_bar=False,
                cwd=str(notebook.parent),
            )

    # The runner's own time: a run's wall time minus the time spent inside papermill's
    # execute_notebook (timed around the real function), i.e. recipe loading and validation,
    # records, heartbeat, events, lineage and reading step results back; free of the
    # kernel-start noise that dominates the end-to-end figures.
    real_execute = pm.execute_notebook
    inside: list[float] = []

    def timed_execute(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_execute(*a, **kw)
        finally:
            inside.append(time.perf_counter() - t0)

    bookkeeping: list[float] = []

    def ours() -> None:
        inside.clear()
        t0 = time.perf_counter()
        pm.execute_notebook = timed_execute
        try:
            run = pipelines.run(load_recipe(recipe_path))
        finally:
            pm.execute_notebook = real_execute
        bookkeeping.append((time.perf_counter() - t0 - sum(inside)) / args.steps)
        assert run.ok, run.to_dict()

    log(f"warm-up (kernel, imports), then {args.rounds} rounds of {args.steps} steps in process")
    bare()
    ours()
    inproc = interleaved(args.rounds, ours=ours, bare=bare)

    env = {**os.environ, "ODG_USER": "bench"}

    def cli_ours() -> None:
        proc = subprocess.run(
            [str(BIN / "odg"), "pipeline", "run", str(recipe_path), "--json", "-w", str(wb.root)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert json.loads(proc.stdout)["status"] == "succeeded"

    def cli_bare() -> None:
        for i in range(args.steps):
            proc = subprocess.run(
                [
                    str(BIN / "papermill"),
                    str(notebook),
                    str(bare_out / f"cli{i}.ipynb"),
                    "-k",
                    KERNEL,
                    "-p",
                    "rows",
                    "100000",
                    "-p",
                    "workspace",
                    str(wb.root),
                    "--no-progress-bar",
                    "--cwd",
                    str(notebook.parent),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr[-2000:]

    log(f"{args.cli_rounds} rounds of the command lines")
    cli = interleaved(args.cli_rounds, ours=cli_ours, bare=cli_bare)
    wb.close()

    def per_step(times: dict[str, list[float]]) -> dict[str, Any]:
        o, b = summary(times["ours"]), summary(times["bare"])
        return {
            "ours": o,
            "bare_papermill": b,
            "per_step_ours_s": o["median_s"] / args.steps,
            "per_step_bare_s": b["median_s"] / args.steps,
            "overhead_per_step_s": (o["median_s"] - b["median_s"]) / args.steps,
            "overhead_pct": 100 * (o["median_s"] - b["median_s"]) / b["median_s"],
        }

    result = {
        "benchmark": "pipelines",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "load_average": os.getloadavg(),
        "steps": args.steps,
        "rounds": args.rounds,
        "cli_rounds": args.cli_rounds,
        "in_process": per_step(inproc),
        "runner_own_time_per_step": summary(bookkeeping[1:]),  # the warm-up run left out
        "command_line": per_step(cli),
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2) + "\n")
    for case in ("in_process", "command_line"):
        r = result[case]
        print(
            f"{case:13} per step: odg {r['per_step_ours_s']:.3f} s, bare papermill {r['per_step_bare_s']:.3f} s, "
            f"overhead {r['overhead_per_step_s'] * 1000:+.0f} ms ({r['overhead_pct']:+.1f} %)"
        )
    own = result["runner_own_time_per_step"]
    print(f"runner's own time per step (outside papermill): median {own['median_s'] * 1000:.0f} ms")
    print(f"written to {OUTPUT}")


if __name__ == "__main__":
    main()
