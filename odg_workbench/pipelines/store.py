"""Pipeline runs in the state database: one row per run, one per step, slots claimed atomically.

``pipeline_runs`` has a unique ``(recipe, slot)``: a scheduled slot is claimed by
inserting its run row (status ``running``) in one transaction, so two schedulers, or one
restarted, can never both run it. Manual runs have no slot (NULL, never unique-clashing).

A running run carries the ``pid`` and ``host`` of its process and a ``heartbeat_at``
refreshed every few seconds; :meth:`RunStore.recover` marks a run ``interrupted`` when its
process is gone (same host, PID dead) or its heartbeat is stale.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from odg_workbench.pipelines.recipe import PipelineError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from odg_workbench.state import StateStore

__all__ = ["RUN_STATUSES", "STEP_STATUSES", "RunStore", "SlotTakenError", "now_iso"]

RUN_STATUSES = ("running", "succeeded", "failed", "interrupted", "missed")
STEP_STATUSES = ("pending", "running", "succeeded", "failed", "skipped", "interrupted")


class SlotTakenError(PipelineError):
    """The (recipe, slot) pair already has a run: it was claimed by another scheduler or an earlier start."""


def now_iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")


@cache
def _tables() -> tuple[sa.Table, sa.Table]:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    runs = sa.Table(
        "pipeline_runs",
        md,
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("recipe", sa.String(128), nullable=False, index=True),
        sa.Column("recipe_path", sa.Text, nullable=True),
        sa.Column("recipe_version", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("slot", sa.String(40), nullable=True),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("heartbeat_at", sa.String(40), nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False, default=1),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("parameters", sa.Text, nullable=True),
        sa.UniqueConstraint("recipe", "slot", name="uq_pipeline_runs_recipe_slot"),
        extend_existing=True,
    )
    steps = sa.Table(
        "pipeline_steps",
        md,
        sa.Column("run_id", sa.String(40), sa.ForeignKey("pipeline_runs.run_id"), primary_key=True),
        sa.Column("step_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("notebook", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("started_at", sa.String(40), nullable=True),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("output_path", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("outputs", sa.Text, nullable=True),
        extend_existing=True,
    )
    return runs, steps


class RunStore:
    """Reads and writes pipeline runs and their steps."""

    def __init__(self, state: StateStore) -> None:
        self.state = state

    def _ready(self) -> tuple[sa.Table, sa.Table]:
        runs, steps = _tables()
        self.state.ensure(runs, steps)
        return runs, steps

    # -- writes ----------------------------------------------------------------------

    def create(
        self,
        *,
        run_id: str,
        recipe: str,
        recipe_path: str | None,
        recipe_version: str | None,
        trigger: str,
        slot: str | None,
        actor: str,
        steps: list[tuple[str, str]],
        parameters: dict[str, Any],
        status: str = "running",
    ) -> None:
        """Insert the run and its pending steps in one transaction; a taken slot raises :class:`SlotTakenError`."""
        import sqlalchemy as sa

        runs, step_t = self._ready()
        now = now_iso()
        try:
            with self.state.begin() as conn:
                conn.execute(
                    runs.insert().values(
                        run_id=run_id,
                        recipe=recipe,
                        recipe_path=recipe_path,
                        recipe_version=recipe_version,
                        status=status,
                        trigger=trigger,
                        slot=slot,
                        actor=actor,
                        started_at=now,
                        ended_at=now if status != "running" else None,
                        pid=os.getpid() if status == "running" else None,
                        host=socket.gethostname(),
                        heartbeat_at=now,
                        attempt=1,
                        parameters=json.dumps(parameters, default=str),
                    )
                )
                for i, (step_id, notebook) in enumerate(steps):
                    conn.execute(
                        step_t.insert().values(
                            run_id=run_id,
                            step_id=step_id,
                            position=i,
                            notebook=notebook,
                            status="pending" if status == "running" else "skipped",
                            attempts=0,
                        )
                    )
        except sa.exc.IntegrityError as exc:
            raise SlotTakenError(f"recipe {recipe} slot {slot} already has a run", recipe=recipe, slot=slot) from exc

    def reclaim(self, recipe: str, slot: str, run_id: str, steps: list[tuple[str, str]]) -> bool:
        """Take an ``interrupted`` slot again (``--catch-up``): True when this process won it."""
        runs, step_t = self._ready()
        now = now_iso()
        with self.state.begin() as conn:
            row = conn.execute(runs.select().where(runs.c.recipe == recipe, runs.c.slot == slot)).mappings().first()
            if row is None or row["status"] != "interrupted":
                return False
            old = row["run_id"]
            conn.execute(step_t.delete().where(step_t.c.run_id == old))
            conn.execute(
                runs.update()
                .where(runs.c.run_id == old, runs.c.status == "interrupted")
                .values(
                    run_id=run_id,
                    status="running",
                    started_at=now,
                    ended_at=None,
                    duration_s=None,
                    pid=os.getpid(),
                    host=socket.gethostname(),
                    heartbeat_at=now,
                    attempt=int(row["attempt"] or 1) + 1,
                    error=f"previous attempt {old} was interrupted",
                )
            )
            for i, (step_id, notebook) in enumerate(steps):
                conn.execute(
                    step_t.insert().values(
                        run_id=run_id, step_id=step_id, position=i, notebook=notebook, status="pending", attempts=0
                    )
                )
        return True

    def update_step(self, run_id: str, step_id: str, **values: Any) -> None:
        _, step_t = self._ready()
        if "outputs" in values and not isinstance(values["outputs"], (str, type(None))):
            values["outputs"] = json.dumps(values["outputs"], default=str)
        with self.state.begin() as conn:
            conn.execute(step_t.update().where(step_t.c.run_id == run_id, step_t.c.step_id == step_id).values(**values))

    def heartbeat(self, run_id: str) -> None:
        runs, _ = self._ready()
        with self.state.begin() as conn:
            conn.execute(
                runs.update().where(runs.c.run_id == run_id, runs.c.status == "running").values(heartbeat_at=now_iso())
            )

    def finish(self, run_id: str, status: str, *, error: str | None = None, duration_s: float | None = None) -> None:
        runs, step_t = self._ready()
        with self.state.begin() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.run_id == run_id)
                .values(status=status, ended_at=now_iso(), duration_s=duration_s, error=error, pid=None)
            )
            if status != "succeeded":
                conn.execute(
                    step_t.update()
                    .where(step_t.c.run_id == run_id, step_t.c.status == "pending")
                    .values(status="skipped")
                )

    def recover(self, *, stale_after_s: float) -> list[dict[str, Any]]:
        """Mark ``running`` runs whose process is gone (or heartbeat stale) ``interrupted``; returns them."""
        runs, step_t = self._ready()
        host = socket.gethostname()
        cutoff = now_iso(datetime.now(UTC) - timedelta(seconds=stale_after_s))
        marked: list[dict[str, Any]] = []
        with self.state.begin() as conn:
            rows = conn.execute(runs.select().where(runs.c.status == "running")).mappings().all()
            for row in rows:
                dead = row["host"] == host and row["pid"] is not None and not _alive(int(row["pid"]))
                stale = (row["heartbeat_at"] or row["started_at"]) < cutoff
                if not (dead or stale):
                    continue
                why = (
                    f"process {row['pid']} on {host} ended without finishing the run"
                    if dead
                    else f"no heartbeat since {row['heartbeat_at']} (more than {stale_after_s:g} s)"
                )
                conn.execute(
                    runs.update()
                    .where(runs.c.run_id == row["run_id"], runs.c.status == "running")
                    .values(status="interrupted", ended_at=now_iso(), pid=None, error=f"interrupted: {why}")
                )
                conn.execute(
                    step_t.update()
                    .where(step_t.c.run_id == row["run_id"], step_t.c.status == "running")
                    .values(status="interrupted", ended_at=now_iso(), error=f"interrupted: {why}")
                )
                conn.execute(
                    step_t.update()
                    .where(step_t.c.run_id == row["run_id"], step_t.c.status == "pending")
                    .values(status="skipped")
                )
                marked.append({**dict(row), "status": "interrupted", "error": f"interrupted: {why}"})
        return marked

    # -- reads -----------------------------------------------------------------------

    def runs(
        self, recipe: str | None = None, *, limit: int | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Runs, newest first, each with its steps."""
        runs, _ = self._ready()
        q = runs.select().order_by(runs.c.started_at.desc(), runs.c.run_id)
        if recipe is not None:
            q = q.where(runs.c.recipe == recipe)
        if status is not None:
            q = q.where(runs.c.status == status)
        if limit is not None:
            q = q.limit(limit)
        with self.state.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings().all()]
        steps = self._steps([r["run_id"] for r in rows])
        return [_run_dict(r, steps.get(r["run_id"], [])) for r in rows]

    def get(self, run_id: str) -> dict[str, Any]:
        """One run by id or unique id prefix."""
        runs, _ = self._ready()
        with self.state.engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(runs.select().where(runs.c.run_id.startswith(run_id, autoescape=True)).limit(2))
                .mappings()
                .all()
            ]
        if len(rows) != 1:
            raise PipelineError(
                f"no pipeline run {run_id!r} (see `odg pipeline runs`)"
                if not rows
                else f"run id prefix {run_id!r} is ambiguous",
                found=run_id,
            )
        return _run_dict(rows[0], self._steps([rows[0]["run_id"]]).get(rows[0]["run_id"], []))

    def slots(self, recipe: str) -> dict[str, str]:
        """slot -> status of every recorded slot of a recipe."""
        runs, _ = self._ready()
        with self.state.engine.connect() as conn:
            rows = conn.execute(
                runs.select()
                .with_only_columns(runs.c.slot, runs.c.status)
                .where(runs.c.recipe == recipe, runs.c.slot.is_not(None))
            ).all()
        return {str(r[0]): str(r[1]) for r in rows}

    def _steps(self, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        if not run_ids:
            return {}
        _, step_t = self._ready()
        out: dict[str, list[dict[str, Any]]] = {}
        with self.state.engine.connect() as conn:
            for r in conn.execute(
                step_t.select().where(step_t.c.run_id.in_(run_ids)).order_by(step_t.c.run_id, step_t.c.position)
            ).mappings():
                d = dict(r)
                d["outputs"] = json.loads(d["outputs"]) if d.get("outputs") else {}
                d.pop("run_id")
                d.pop("position")
                out.setdefault(r["run_id"], []).append(d)
        return out


def _run_dict(row: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(row)
    out["parameters"] = json.loads(out["parameters"]) if out.get("parameters") else {}
    out["steps"] = steps
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is not running anything
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
