"""The scheduler: runs recipes when their cron fires, once per slot, across restarts.

A **slot** is one fire time of a recipe's cron (croniter, in the recipe's time zone),
recorded in UTC. Policy, per recipe, at every tick:

* the due slot is the latest fire time at or before now; it runs when no run of this
  recipe has that slot yet. A slot is **claimed** by inserting its run row, under a
  unique ``(recipe, slot)`` constraint, before anything runs: two schedulers on one
  workspace, or one restarted, never run a slot twice;
* fire times between the last recorded slot and the due one (the scheduler was down)
  are recorded as ``missed``, not run; with ``catch_up=True`` they run, oldest first
  (at most ``max_catch_up``);
* a scheduler killed mid-run (``kill -9``, a crash, a reboot) leaves its run
  ``running``; the next start marks it ``interrupted`` (its process is gone, or its
  heartbeat is older than ``stale_after_s``), running steps ``interrupted`` and pending
  ones ``skipped``. The interrupted slot stays recorded and is **not** run again, so a
  half-done pipeline never repeats on its own; with ``catch_up=True`` it is claimed
  again (same slot, ``attempt`` + 1) and runs from its first step;
* the first start of a recipe, with nothing recorded, runs its latest fire time (as
  Airflow's ``catchup=False``).

Stopping: the first SIGTERM or SIGINT lets the running step finish, starts nothing new,
marks the run ``interrupted`` when steps remain, and returns; if the step is still running
after ``grace_s`` seconds, or on a second signal, it is interrupted at once (its output
notebook keeps what ran).

Written by hand over croniter (APScheduler is not a dependency): the loop is small, and
the claim-once semantics live in the state database, where APScheduler's job stores
would not put them.
"""

from __future__ import annotations

import _thread
import logging
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any

from odg_workbench.pipelines.store import RunStore, SlotTakenError

if TYPE_CHECKING:
    from odg_workbench.pipelines.recipe import Recipe
    from odg_workbench.pipelines.runner import PipelineRun
    from odg_workbench.workspace import Workbench

__all__ = ["Scheduler", "TickResult", "next_fire", "slot_key"]

log = logging.getLogger("odg_workbench.pipelines.scheduler")


def slot_key(moment: datetime) -> str:
    """The recorded form of a slot: ISO 8601 in UTC, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _tz(recipe: Recipe) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(recipe.timezone)


def latest_fire(recipe: Recipe, now: datetime) -> datetime:
    """The latest fire time of the recipe's cron at or before ``now``."""
    from croniter import croniter  # type: ignore[import-untyped]

    assert recipe.schedule is not None
    local = now.astimezone(_tz(recipe))
    it = croniter(recipe.schedule, local + timedelta(seconds=1))
    return it.get_prev(datetime).astimezone(UTC)  # type: ignore[no-any-return]


def next_fire(recipe: Recipe, now: datetime) -> datetime:
    """The first fire time of the recipe's cron strictly after ``now``."""
    from croniter import croniter

    assert recipe.schedule is not None
    return croniter(recipe.schedule, now.astimezone(_tz(recipe))).get_next(datetime).astimezone(UTC)  # type: ignore[no-any-return]


def fires_between(recipe: Recipe, after: datetime, until: datetime, limit: int) -> list[datetime]:
    """Fire times in ``(after, until]``, oldest first; only the ``limit`` latest ones."""
    from croniter import croniter

    assert recipe.schedule is not None
    it = croniter(recipe.schedule, after.astimezone(_tz(recipe)))
    out: list[datetime] = []
    while True:
        t = it.get_next(datetime).astimezone(UTC)
        if t > until:
            break
        out.append(t)
        if len(out) > limit:
            out.pop(0)
    return out


@dataclass
class TickResult:
    """What one tick did: runs finished, slots recorded as missed, interrupted runs found."""

    runs: list[PipelineRun] = field(default_factory=list)
    missed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.runs], "missed": self.missed, "skipped": self.skipped}


class Scheduler:
    """Runs the scheduled recipes of one workspace; see the module docs for the slot policy."""

    def __init__(
        self,
        workbench: Workbench,
        recipes: list[Recipe],
        *,
        catch_up: bool = False,
        stale_after_s: float = 60.0,
        poll_s: float = 30.0,
        grace_s: float = 20.0,
        max_catch_up: int = 100,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        from odg_workbench.pipelines.runner import Pipelines

        self.wb = workbench
        self.recipes = sorted((r for r in recipes if r.schedule), key=lambda r: r.name)
        self.catch_up = catch_up
        self.stale_after_s = stale_after_s
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.max_catch_up = max_catch_up
        self.clock = clock or (lambda: datetime.now(UTC))
        self.pipelines = Pipelines(workbench)
        self.store: RunStore = self.pipelines.store
        self.stop = threading.Event()
        self.recovered: list[dict[str, Any]] = []
        self.current_run_id: str | None = None  # the run in progress (still set after an interrupt)
        self.history: list[PipelineRun] = []

    # -- recovery and due slots --------------------------------------------------------

    def recover(self) -> list[dict[str, Any]]:
        """Mark runs left ``running`` by a dead process ``interrupted`` (publishes one event each)."""
        found = self.store.recover(stale_after_s=self.stale_after_s)
        for run in found:
            self.wb.publish(
                "pipeline.run.interrupted",
                f"pipeline:{run['recipe']}",
                run_id=run["run_id"],
                recipe=run["recipe"],
                slot=run["slot"],
                trigger=run["trigger"],
                error=run["error"],
            )
            log.warning(
                "run %s of %s (slot %s) was interrupted: %s", run["run_id"], run["recipe"], run["slot"], run["error"]
            )
        self.recovered += found
        return found

    def due(self, now: datetime | None = None) -> list[tuple[Recipe, str, str]]:
        """``(recipe, slot, kind)`` to act on now; kind is ``run``, ``retry`` (catch-up of an interrupted slot) or ``missed``."""
        now = now or self.clock()
        out: list[tuple[Recipe, str, str]] = []
        for recipe in self.recipes:
            recorded = self.store.slots(recipe.name)
            latest = latest_fire(recipe, now)
            last = max((datetime.fromisoformat(s) for s in recorded), default=None)
            if self.catch_up:
                out += [(recipe, s, "retry") for s, status in sorted(recorded.items()) if status == "interrupted"][
                    -self.max_catch_up :
                ]
            if last is None:
                if slot_key(latest) not in recorded:
                    out.append((recipe, slot_key(latest), "run"))
                continue
            if latest <= last:
                continue
            between = fires_between(recipe, last, latest, self.max_catch_up)
            for t in between:
                key = slot_key(t)
                if key in recorded:
                    continue
                out.append((recipe, key, "run" if (self.catch_up or t == latest) else "missed"))
        return out

    # -- running -----------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> TickResult:
        """Run (or record as missed) everything due now, oldest slot first per recipe."""
        from odg_workbench.pipelines.kernel import ensure_kernel

        result = TickResult()
        for recipe, slot, kind in self.due(now):
            if self.stop.is_set():
                break
            steps = [(s.id, str(s.notebook)) for s in recipe.steps]
            run_id = uuid.uuid4().hex
            if kind == "missed":
                try:
                    self.store.create(
                        run_id=run_id,
                        recipe=recipe.name,
                        recipe_path=str(recipe.path) if recipe.path else None,
                        recipe_version=None,
                        trigger="schedule",
                        slot=slot,
                        actor=self.wb.user,
                        steps=steps,
                        parameters={},
                        status="missed",
                    )
                    result.missed.append({"recipe": recipe.name, "slot": slot})
                except SlotTakenError:
                    pass
                continue
            ensure_kernel(recipe.kernel)
            if kind == "retry":
                if not self.store.reclaim(recipe.name, slot, run_id, steps):
                    result.skipped.append({"recipe": recipe.name, "slot": slot, "why": "claimed elsewhere"})
                    continue
            else:
                try:
                    self.store.create(
                        run_id=run_id,
                        recipe=recipe.name,
                        recipe_path=str(recipe.path) if recipe.path else None,
                        recipe_version=None,
                        trigger="schedule",
                        slot=slot,
                        actor=self.wb.user,
                        steps=steps,
                        parameters={s.id: s.parameters for s in recipe.steps},
                    )
                except SlotTakenError:
                    result.skipped.append({"recipe": recipe.name, "slot": slot, "why": "already claimed"})
                    continue
            log.info("running %s slot %s (run %s)", recipe.name, slot, run_id)
            self.current_run_id = run_id
            run = self.pipelines.run(recipe, trigger="schedule", slot=slot, run_id=run_id, stop=self.stop, claimed=True)
            self.current_run_id = None
            result.runs.append(run)
            self.history.append(run)
        return result

    def next_wakeup(self, now: datetime) -> float:
        """Seconds until the next fire time of any recipe (at most ``poll_s``)."""
        if not self.recipes:
            return self.poll_s
        soonest = min(next_fire(r, now) for r in self.recipes)
        return max(0.05, min(self.poll_s, (soonest - now).total_seconds() + 0.05))

    def serve(self, *, once: bool = False, until: datetime | None = None) -> list[PipelineRun]:
        """Recover, then tick until ``until``, a stop signal, or once; returns the runs it made."""
        with self._signals():
            self.recover()
            while not self.stop.is_set():
                self.tick()
                if once or self.stop.is_set():
                    break
                now = self.clock()
                if until is not None and now >= until:
                    break
                wait = self.next_wakeup(now)
                if until is not None:
                    wait = min(wait, max(0.0, (until - now).total_seconds()))
                self.stop.wait(wait)
                if until is not None and self.clock() >= until:
                    break
        return self.history

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        timer: list[threading.Timer] = []

        grace_over = threading.Event()

        def end_grace() -> None:
            grace_over.set()
            _thread.interrupt_main()  # delivered to the handler below as a SIGINT

        def handler(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self.stop.is_set():
                if grace_over.is_set():
                    log.warning("the running step did not finish within %g s: interrupting it", self.grace_s)
                else:
                    log.warning("%s again: interrupting the running step now", name)
                raise KeyboardInterrupt
            log.warning("%s: finishing the running step (at most %g s), then stopping", name, self.grace_s)
            self.stop.set()
            t = threading.Timer(self.grace_s, end_grace)
            t.daemon = True
            t.start()
            timer.append(t)

        previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for t in timer:
                t.cancel()
            for s, h in previous.items():
                signal.signal(s, h)


def parse_until(text: str, now: datetime | None = None) -> datetime:
    """``--until``: an ISO time (UTC when it has no offset) or a duration from now (``90s``, ``10m``, ``2h``, ``1d``)."""
    import re

    from odg_workbench.pipelines.recipe import PipelineError

    now = now or datetime.now(UTC)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if m:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return now + timedelta(seconds=float(m.group(1)) * unit)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise PipelineError(
            f"--until {text!r}: expected an ISO time (2026-12-01T06:00) or a duration (90s, 10m, 2h, 1d)",
            field="--until",
            found=text,
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)
