"""In-process hooks: the small interface through which capabilities tell each other what happened.

The lakehouse publishes an :class:`Event` after each state change it commits (an ingest, a
tag, a rollback, a compaction, an expiry). Other capabilities subscribe without the
lakehouse knowing them: the governance package turns these into audit records and
durable messages, lineage into graph edges. A subscriber that raises makes the operation
raise too (after its commit), so a broken audit sink is never silent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Event", "EventBus"]


@dataclass(frozen=True)
class Event:
    """Something that changed: ``type`` (e.g. ``lakehouse.ingest``), on ``resource``, by ``actor``."""

    type: str
    resource: str
    actor: str
    payload: dict[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))


Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous publish/subscribe inside one process."""

    def __init__(self) -> None:
        self._subs: list[tuple[str, Subscriber]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber, prefix: str = "") -> Callable[[], None]:
        """Call ``callback`` for every event whose type starts with ``prefix``.

        Returns a function that removes the subscription.
        """
        entry = (prefix, callback)
        with self._lock:
            self._subs.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            subs = [cb for prefix, cb in self._subs if event.type.startswith(prefix)]
        for callback in subs:
            callback(event)
