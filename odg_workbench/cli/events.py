"""Event commands: the topics of the embedded event log, their messages, consumer lag.

``odg events tail TOPIC`` shows the last messages of a topic; with ``--consumer NAME`` it
polls as that consumer group instead (the messages after its committed offset), and with
``--commit`` it also commits them, so the next call shows only newer ones.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from odg_workbench.cli._common import (
    JsonOpt,
    WorkspaceOpt,
    handle_errors,
    open_workspace,
    print_json,
    print_table,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    from odg_workbench.governance.eventlog import EventLog, Message

events_app = typer.Typer(
    name="events",
    help="Durable events: topics, messages, consumer groups and their lag.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(events_app)


def _log(wb: Any) -> EventLog:
    from odg_workbench.governance.eventlog import EventLog

    return EventLog(wb.state)


@events_app.command("topics")
@handle_errors
def topics(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Topics of the embedded event log with their message counts and offsets."""
    with open_workspace(workspace) as wb:
        infos = _log(wb).topics()
    if as_json:
        print_json([t.to_dict() for t in infos])
        return
    rows = [
        {
            "topic": t.topic,
            "messages": f"{t.messages:,}",
            "offsets": f"{t.first_offset}..{t.last_offset}",
            "last message (UTC)": "" if t.last_time is None else f"{t.last_time:%Y-%m-%d %H:%M:%S}",
        }
        for t in infos
    ]
    print_table(rows, title="topics")


@events_app.command("tail")
@handle_errors
def tail(
    topic: Annotated[str, typer.Argument(help="Topic, e.g. odg.lakehouse.changes (see `odg events topics`).")],
    consumer: Annotated[
        str | None,
        typer.Option("--consumer", help="Poll as this consumer group: the messages after its committed offset."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many messages.")] = 10,
    commit: Annotated[
        bool, typer.Option("--commit", help="With --consumer: commit the shown messages (at-least-once ack).")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The last messages of a topic, or the next ones for a consumer group."""
    if commit and consumer is None:
        raise typer.BadParameter("--commit needs --consumer NAME", param_hint="--commit")
    committed: int | None = None
    lag: int | None = None
    with open_workspace(workspace) as wb:
        log = _log(wb)
        if consumer is None:
            messages = log.tail(topic, limit)
        else:
            messages = log.poll(consumer, topic, limit)
            if commit and messages:
                offset = messages[-1].offset
                assert offset is not None
                log.commit(consumer, topic, offset)
            committed = log.committed(consumer, topic)
            lag = log.lag(consumer, topic)
        if not messages and not as_json:
            known = [t.topic for t in log.topics()]
            if topic not in known:
                stderr().print(
                    f"[dim]no messages on {topic} (topics: {', '.join(known) or 'none yet'})[/dim]", highlight=False
                )
    if as_json:
        print_json(
            {
                "topic": topic,
                "consumer": consumer,
                "messages": [m.to_dict() for m in messages],
                "committed": committed,
                "lag": lag,
            }
        )
        return
    print_table([_row(m) for m in messages], title=topic)
    if consumer is not None:
        stdout().print(f"consumer {consumer}: committed offset {committed}, lag {lag}", highlight=False)


def _row(m: Message) -> dict[str, Any]:
    payload = json.dumps(m.payload, ensure_ascii=False, separators=(",", ":"), default=str)
    return {
        "offset": m.offset,
        "time (UTC)": f"{m.time:%Y-%m-%d %H:%M:%S}",
        "type": m.type,
        "resource": m.resource,
        "actor": m.actor,
        "payload": payload if len(payload) <= 60 else payload[:57] + "...",
        "id": m.id[:12],  # --json shows the whole id
    }


@events_app.command("lag")
@handle_errors
def lag(
    consumer: Annotated[str, typer.Argument(help="Consumer group name (as given to poll / --consumer).")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """How far a consumer group is behind, on every topic it reads."""
    from odg_workbench.governance.eventlog import EventLogError

    with open_workspace(workspace) as wb:
        log = _log(wb)
        positions = log.positions(consumer)
        if not positions:
            known = log.consumers()
            raise EventLogError(
                f"consumer {consumer!r} has not read any topic yet "
                f"(consumers: {', '.join(known) or 'none yet'}); poll first, e.g. "
                f"`odg events tail TOPIC --consumer {consumer}`",
                found=consumer,
            )
    total = sum(p.lag for p in positions)
    if as_json:
        print_json({"consumer": consumer, "lag": total, "topics": [p.to_dict() for p in positions]})
        return
    rows = [
        {
            "topic": p.topic,
            "committed": p.committed,
            "last offset": p.last_offset,
            "lag": p.lag,
            "committed at (UTC)": "" if p.updated_at is None else f"{p.updated_at:%Y-%m-%d %H:%M:%S}",
        }
        for p in positions
    ]
    print_table(rows, title=f"consumer {consumer}")
    stdout().print(f"total lag {total}", highlight=False)


__all__ = ["events_app", "register"]


@events_app.command("relay")
@handle_errors
def relay(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Send the log's undelivered messages to the broker named by events.backend (NATS, Kafka)."""
    with open_workspace(workspace) as wb:
        backend = str(wb.config.get("events.backend"))
        sent = wb.relay_events()
    if as_json:
        print_json({"backend": backend, "relayed": sent})
    else:
        stdout().print(
            f"{sent} message(s) relayed to {backend}"
            if backend != "embedded"
            else "events.backend is embedded: nothing to relay",
            highlight=False,
        )
