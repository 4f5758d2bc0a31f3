"""Pipelines: papermill notebooks as recipes, run by hand or by cron, exported to Airflow or Kubernetes.

::

    import odg_workbench as odg
    from odg_workbench.pipelines import Pipelines, load_recipe

    wb = odg.open("lake")
    recipe = load_recipe("recipes/medallion_demo.yaml")   # validated: graph, notebooks, parameters
    run = Pipelines(wb).run(recipe)
    run.status, [(s.step_id, s.status, s.output_path) for s in run.steps]

Modules: :mod:`~odg_workbench.pipelines.recipe` (format and validation),
:mod:`~odg_workbench.pipelines.runner` (papermill execution, records, events, lineage),
:mod:`~odg_workbench.pipelines.store` (runs and slots in the state database),
:mod:`~odg_workbench.pipelines.scheduler` (cron), :mod:`~odg_workbench.pipelines.export`
(Airflow DAG, Kubernetes CronJob) and :mod:`~odg_workbench.pipelines.results` (what a
notebook reports back). Importing this package loads none of papermill, nbformat or
pydantic: they load when a recipe is read or run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from odg_workbench.pipelines.recipe import PipelineError, RecipeError
from odg_workbench.pipelines.results import step_result

if TYPE_CHECKING:
    from odg_workbench.pipelines.export import to_airflow, to_k8s
    from odg_workbench.pipelines.recipe import Recipe, Step, load_recipe
    from odg_workbench.pipelines.runner import PipelineRun, Pipelines, StepRun
    from odg_workbench.pipelines.scheduler import Scheduler

__all__ = [
    "PipelineError",
    "PipelineRun",
    "Pipelines",
    "Recipe",
    "RecipeError",
    "Scheduler",
    "Step",
    "StepRun",
    "load_recipe",
    "step_result",
    "to_airflow",
    "to_k8s",
]

_LAZY = {
    "Recipe": "recipe",
    "Step": "recipe",
    "load_recipe": "recipe",
    "PipelineRun": "runner",
    "Pipelines": "runner",
    "StepRun": "runner",
    "Scheduler": "scheduler",
    "to_airflow": "export",
    "to_k8s": "export",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"odg_workbench.pipelines.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'odg_workbench.pipelines' has no attribute {name!r}")
