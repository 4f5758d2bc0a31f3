"""Brokers behind :class:`~odg_workbench.governance.eventlog.EventTransport`: NATS JetStream and Kafka.

Both publish the same JSON document (:meth:`Message.to_json`) on the subject or topic
named by :attr:`Message.topic`, carry the message id for de-duplication, wait for the
broker's acknowledgement, and raise :class:`TransportError` naming the URL when the broker
cannot be reached or does not answer within ``timeout`` seconds. Their calls are
synchronous; nats-py is asyncio, so :class:`NatsTransport` runs a private event loop on a
background thread that :meth:`NatsTransport.close` drains and stops.

Both read back too (:meth:`NatsTransport.read`, :meth:`KafkaTransport.read`), for tests and
for tools that check what a broker holds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import gc
import socket
import threading
import warnings
import weakref
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from odg_workbench.governance.eventlog import Message, TransportError

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.js import JetStreamContext

__all__ = ["KafkaTransport", "NatsTransport"]

T = TypeVar("T")

#: Header that carries the message id: JetStream drops a second message with the same id
#: inside the stream's duplicate window.
NATS_MSG_ID = "Nats-Msg-Id"
#: Kafka record headers: the message id (consumers de-duplicate on it) and the event type.
KAFKA_ID_HEADER = "odg-message-id"
KAFKA_TYPE_HEADER = "odg-type"

_NATS_HINT = "is nats-server running with JetStream enabled (nats-server -js)?"


class NatsTransport:
    """Publish to a NATS JetStream stream that covers ``odg.>`` (created or updated on first use).

    Parameters
    ----------
    url:
        ``nats://host:port`` (credentials in the URL work: ``nats://user:pass@host:4222``).
    stream:
        JetStream stream name; created with subjects ``odg.>`` when missing, or given
        ``odg.>`` in addition to its subjects when it exists without it.
    timeout:
        Seconds a publish (connection, stream set-up and acknowledgement included) may take.
    duplicate_window:
        Seconds within which JetStream drops a message whose id it has already stored
        (applies when this transport creates the stream).
    """

    subjects = ("odg.>",)

    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        stream: str = "ODG",
        *,
        timeout: float = 5.0,
        duplicate_window: float = 120.0,
    ) -> None:
        self.url = url
        self.stream = stream
        self.timeout = timeout
        self.duplicate_window = duplicate_window
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False
        self._last_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize[Any, NatsTransport] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"NatsTransport({_redact(self.url)!r}, stream={self.stream!r})"

    def __enter__(self) -> NatsTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public, synchronous ---------------------------------------------------------

    def publish(self, message: Message) -> None:
        """Publish ``message`` and wait for JetStream's acknowledgement (a duplicate id is acknowledged too)."""
        self._call(self._publish(message), f"publish message {message.id} to {message.topic}", self.timeout)

    def read(
        self, subject: str = "odg.>", *, durable: str | None = None, limit: int = 100, timeout: float = 1.0
    ) -> list[Message]:
        """Messages of the stream on ``subject`` through a pull consumer, oldest first.

        Without ``durable`` an ephemeral consumer reads from the start of the stream and is
        deleted afterwards. With ``durable`` the named consumer remembers what was
        acknowledged, so the next read continues after it. Stops after ``limit`` messages or
        when no message arrives for ``timeout`` seconds.
        """
        return self._call(
            self._read(subject, durable, limit, timeout), f"read {subject} from stream {self.stream}", None
        )

    def stream_info(self) -> dict[str, Any]:
        """The stream's subjects and state: ``messages``, ``first_seq``, ``last_seq``."""
        return self._call(self._stream_info(), f"describe stream {self.stream}", self.timeout)

    def close(self) -> None:
        """Drain the connection (pending publishes are flushed) and stop the event loop."""
        with self._lock:
            if self._loop is None:
                return
            try:
                if self._nc is not None:
                    with contextlib.suppress(Exception):
                        self._submit(self._disconnect(drain=True)).result(self.timeout + 1)
            finally:
                assert self._finalizer is not None
                self._finalizer()
                self._loop = self._thread = self._finalizer = None

    # -- the private event loop ------------------------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_run_loop, args=(loop,), name=f"odg-nats-{self.stream}", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
            # A transport dropped without close() still stops its loop and thread.
            self._finalizer = weakref.finalize(self, _stop_loop, loop, thread)
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _call(self, coro: Coroutine[Any, Any, T], what: str, timeout: float | None) -> T:
        with self._lock:
            future = self._submit(_bounded(coro, timeout))
            try:
                return future.result(None if timeout is None else timeout + 2)
            except TimeoutError as exc:
                future.cancel()
                self._drop_connection()
                raise self._error(what, exc, timed_out=True) from None
            except TransportError:
                raise
            except Exception as exc:
                self._drop_connection()
                raise self._error(what, exc) from exc

    def _drop_connection(self) -> None:
        """Forget a connection that failed: the next call connects afresh."""
        if self._nc is not None and self._loop is not None:
            with contextlib.suppress(Exception):
                self._submit(self._disconnect(drain=False)).result(2)
        self._nc = self._js = None
        self._stream_ready = False

    def _error(self, what: str, exc: BaseException, *, timed_out: bool = False) -> TransportError:
        import nats.errors
        import nats.js.errors

        if timed_out:
            reason = f"no answer within {self.timeout:g} s"
            if self._last_error is not None:
                reason += f" (last error: {_describe(self._last_error)})"
        elif isinstance(exc, nats.errors.NoServersError) and self._last_error is not None:
            reason = _describe(self._last_error)
        else:
            reason = _describe(exc)
        hint = _NATS_HINT
        if isinstance(exc, (nats.js.errors.ServiceUnavailableError, nats.js.errors.NoStreamResponseError)):
            reason = "JetStream is not enabled on this server"
            hint = "start it with nats-server -js"
        elif isinstance(exc, nats.js.errors.APIError):
            reason = exc.description or reason
            hint = (
                "another stream already holds odg.>: set events.stream to its name, or remove it"
                if "overlap" in reason
                else f"check the stream {self.stream} (nats stream info {self.stream})"
            )
        return TransportError(
            f"NATS at {_redact(self.url)}: cannot {what}: {reason}; {hint}",
            url=_redact(self.url),
            stream=self.stream,
            backend="nats",
        )

    # -- coroutines (run on the private loop) ----------------------------------------

    async def _jetstream(self) -> JetStreamContext:
        if self._nc is None or self._nc.is_closed:
            from nats.aio.client import Client

            self._last_error = None

            async def on_error(exc: Exception) -> None:
                self._last_error = exc  # reported in the TransportError, not logged

            # No automatic reconnection: a lost server fails the next call quickly with a
            # clear error (the embedded log keeps the messages for a later relay), instead of
            # nats-py retrying for minutes in the background.
            # Kept before connecting, so that a connect cancelled by the timeout is closed too.
            self._nc = Client()
            await self._nc.connect(
                self.url,
                connect_timeout=max(1, round(self.timeout)),
                allow_reconnect=False,
                # nats-py tries a refused server again after reconnect_time_wait; once is enough
                max_reconnect_attempts=1,
                reconnect_time_wait=1,
                error_cb=on_error,
                name="odg-workbench",
            )
            self._js = self._nc.jetstream(timeout=self.timeout)
            self._stream_ready = False
        assert self._js is not None
        if not self._stream_ready:
            await self._ensure_stream(self._js)
            self._stream_ready = True
        return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        import nats.js.errors
        from nats.js.api import StreamConfig

        try:
            info = await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                StreamConfig(name=self.stream, subjects=list(self.subjects), duplicate_window=self.duplicate_window)
            )
            return
        subjects = list(info.config.subjects or [])
        missing = [s for s in self.subjects if s not in subjects]
        if missing:
            info.config.subjects = subjects + missing
            await js.update_stream(info.config)

    async def _publish(self, message: Message) -> None:
        js = await self._jetstream()
        ack = await js.publish(
            message.topic,
            message.to_json(),
            timeout=self.timeout,
            stream=self.stream,
            headers={NATS_MSG_ID: message.id, "Odg-Type": message.type},
        )
        if ack.stream != self.stream:  # pragma: no cover - the Expected-Stream header prevents it
            raise TransportError(f"NATS stored {message.id} in stream {ack.stream}, not {self.stream}")

    async def _read(self, subject: str, durable: str | None, limit: int, timeout: float) -> list[Message]:
        import nats.errors
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        js = await self._jetstream()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            inactive_threshold=None if durable else 60.0,
        )
        sub = await js.pull_subscribe(subject, durable=durable, stream=self.stream, config=config)
        consumer_name = (await sub.consumer_info()).name
        out: list[Message] = []
        try:
            while len(out) < limit:
                try:
                    batch = await sub.fetch(min(limit - len(out), 256), timeout=timeout)
                except nats.errors.TimeoutError:
                    break
                for msg in batch:
                    out.append(Message.from_json(msg.data))
                    await msg.ack()
        finally:
            await sub.unsubscribe()
            if durable is None:
                with contextlib.suppress(Exception):
                    await js.delete_consumer(self.stream, consumer_name)
        return out

    async def _stream_info(self) -> dict[str, Any]:
        js = await self._jetstream()
        info = await js.stream_info(self.stream)
        return {
            "stream": self.stream,
            "subjects": list(info.config.subjects or []),
            "messages": info.state.messages,
            "first_seq": info.state.first_seq,
            "last_seq": info.state.last_seq,
        }

    async def _disconnect(self, *, drain: bool) -> None:
        nc, self._nc, self._js = self._nc, None, None
        self._stream_ready = False
        if nc is None or nc.is_closed:
            return
        if drain:
            await nc.drain()
        else:
            await nc.close()


async def _bounded(coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
    if timeout is None:
        return await coro
    return await asyncio.wait_for(coro, timeout)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Stop the loop's thread, then cancel what is left on it and close it (like asyncio.run)."""
    if loop.is_closed():
        return
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    if thread.is_alive():  # pragma: no cover - a coroutine that ignores cancellation
        return
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{name}: {text}" if text else name


def _redact(url: str) -> str:
    """The URL without a password (``nats://user:***@host:4222``)."""
    if "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if sep else f"{user}:***@{host}"


# -- Kafka -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_kafka_import() -> Iterator[None]:
    # kafka-python 3.0 loads its protocol schemas with importlib.resources.read_text/open_text,
    # deprecated since Python 3.11: "read_text is deprecated. Use files() instead." and
    # "open_text is deprecated. Use files() instead." (DeprecationWarning, at import time).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(read_text|open_text) is deprecated", category=DeprecationWarning)
        yield


@functools.cache
def _kafka() -> Any:
    with _quiet_kafka_import():
        import kafka  # type: ignore[import-untyped]
    return kafka


class KafkaTransport:
    """Publish to Kafka with kafka-python: key = resource, value = the JSON message, ``acks="all"``.

    Each record carries the headers ``odg-message-id`` (consumers de-duplicate on it) and
    ``odg-type``. The producer is idempotent (kafka-python's default), so its own retries add
    no duplicates; :meth:`publish` waits until the record is acknowledged by all in-sync
    replicas. Topics are created by the broker on first use when it allows it
    (``auto.create.topics.enable``), otherwise create them beforehand.
    """

    def __init__(self, bootstrap_servers: str = "localhost:9092", *, timeout: float = 5.0, **config: Any) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.timeout = timeout
        self._config = config
        self._producer: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KafkaTransport({self.bootstrap_servers!r})"

    def __enter__(self) -> KafkaTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def servers(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    def publish(self, message: Message) -> None:
        """Send ``message`` and wait for the acknowledgement of all in-sync replicas."""
        kafka = _kafka()
        with self._lock:
            producer = self._ensure_producer()
            try:
                future = producer.send(
                    message.topic,
                    key=message.key.encode(),
                    value=message.to_json(),
                    headers=[(KAFKA_ID_HEADER, message.id.encode()), (KAFKA_TYPE_HEADER, message.type.encode())],
                )
                producer.flush(timeout=self.timeout)
                future.get(timeout=self.timeout)
            except kafka.errors.KafkaError as exc:
                raise self._error(f"publish message {message.id} to {message.topic}", exc) from exc

    def read(self, topic: str, *, limit: int = 100, timeout: float = 5.0, group_id: str | None = None) -> list[Message]:
        """Messages of ``topic`` from the earliest offset (``group_id`` None: nothing is committed)."""
        kafka = _kafka()
        self._check_reachable()
        out: list[Message] = []
        try:
            consumer = kafka.KafkaConsumer(
                topic,
                bootstrap_servers=self.servers,
                group_id=group_id,
                auto_offset_reset="earliest",
                enable_auto_commit=group_id is not None,
                consumer_timeout_ms=int(timeout * 1000),
            )
        except kafka.errors.KafkaError as exc:
            _collect_leaked_sockets()
            raise self._error(f"read {topic}", exc) from exc
        try:
            for record in consumer:
                out.append(Message.from_json(record.value))
                if len(out) >= limit:
                    break
        finally:
            consumer.close()
        return out

    def close(self) -> None:
        """Flush pending records and close the producer."""
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                producer.flush(timeout=self.timeout)
            producer.close(timeout=self.timeout)

    def _ensure_producer(self) -> Any:
        if self._producer is not None:
            return self._producer
        kafka = _kafka()
        self._check_reachable()
        ms = int(self.timeout * 1000)
        options: dict[str, Any] = {
            "acks": "all",
            "client_id": "odg-workbench",
            "max_block_ms": ms,
            "request_timeout_ms": ms,
            "bootstrap_timeout_ms": ms,
        }
        options.update(self._config)  # SASL, TLS ... from the caller; they may override the above
        try:
            self._producer = kafka.KafkaProducer(bootstrap_servers=self.servers, **options)
        except kafka.errors.KafkaError as exc:
            _collect_leaked_sockets()
            raise self._error("connect", exc) from exc
        return self._producer

    def _check_reachable(self) -> None:
        """Fail fast with a clear message when no bootstrap server accepts a TCP connection.

        kafka-python would retry until its bootstrap timeout and leave unclosed sockets behind.
        """
        errors: list[str] = []
        for server in self.servers:
            host, port = _host_port(server, 9092)
            try:
                with socket.create_connection((host, port), timeout=self.timeout):
                    return
            except OSError as exc:
                errors.append(f"{server}: {exc.strerror or exc}")
        raise TransportError(
            f"Kafka at {self.bootstrap_servers}: no bootstrap server reachable ({'; '.join(errors) or 'none given'}); "
            "is the broker running, and is events.url its host:port?",
            url=self.bootstrap_servers,
            backend="kafka",
        )

    def _error(self, what: str, exc: BaseException) -> TransportError:
        return TransportError(
            f"Kafka at {self.bootstrap_servers}: cannot {what}: {_describe(exc)}",
            url=self.bootstrap_servers,
            backend="kafka",
        )


def _host_port(server: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(server if "://" in server else f"//{server}")
    return parts.hostname or "localhost", parts.port or default_port


def _collect_leaked_sockets() -> None:
    # A KafkaProducer/KafkaConsumer whose constructor failed leaves its sockets in reference
    # cycles; collect them now, quietly, rather than as ResourceWarnings at some later point.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
