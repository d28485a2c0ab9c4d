"""The stream layer: the faust application around the router engine.

The only module that knows faust. :func:`build_app` makes (at call time, never at
import) a faust app whose one agent reads every partner outbox and the repartition topic
(where the engine moves records published to another partition than their key hashes
to) as raw bytes, in batches
(``noack_take``), and hands them to the :class:`~hub.router.engine.RouterEngine`; it
acknowledges the events - and so lets faust commit their offsets - only once the engine
returns, i.e. once every inbox, dead-letter, state and audit write of the batch is
acknowledged by the broker (at-least-once processing; the engine's deterministic ids turn
it into exactly-once effect).

All outboxes and the repartition topic have the same partition count, and faust's
assignor gives a worker the same partition numbers of co-partitioned topics it subscribes
to (verified on the embedded broker: two workers got {0,1} and {2,3} of both topics), so
partition *p* of every outbox and of the repartition topic is routed by one worker, the
one that loads partition *p* of the consent feed, the inboxes and the audit topic.
Rebalances: faust waits for the agent to acknowledge what it holds before revoking
(``stream_wait_empty``), the engine then forgets the revoked partitions, and newly
assigned ones are loaded afresh before any of their records is routed.

Settings that matter on the embedded broker (docs/embedded-broker.md): short session and
heartbeat (``session_timeout_s``/``heartbeat_interval_s`` in :class:`RouterOptions`),
explicit partition counts, no topic creation by faust (the catalogue creates topics),
no leader topic, no web server, no tables (state is rebuilt from source topics).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

from hub.config import HubSettings
from hub.kafka.config import faust_broker_url, faust_credentials
from hub.logging import quiet_client_loggers
from hub.router.engine import RouterEngine
from hub.router.options import RouterOptions
from hub.router.processing import Inbound

__all__ = ["build_app", "run_app"]

_LOG = logging.getLogger(__name__)


def _transport(fetch_max_wait_ms: int) -> type[faust_aiokafka.Transport]:
    """faust's aiokafka transport with a shorter fetch wait.

    faust hard-codes ``fetch_max_wait_ms=1500``. Apache Kafka answers a fetch as soon as
    data arrives, but the embedded broker holds every fetch for most of that wait (measured:
    ~570 ms per record at 1500, ~5 ms at 100), which would be the router's latency there.
    """

    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            # aiokafka reads this when it starts its fetcher; faust offers no setting for it.
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class Consumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> Any:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer
    return Transport


def _app_class(transport: type[faust_aiokafka.Transport]) -> type[faust.App]:
    class RouterApp(faust.App):
        def _new_transport(self) -> Any:
            return transport(self.conf.broker_consumer, self)

    return RouterApp


def _headers(raw: Any) -> tuple[tuple[str, bytes], ...]:
    if not raw:
        return ()
    items = raw.items() if isinstance(raw, dict) else raw
    return tuple((str(k), bytes(v or b"")) for k, v in items)


def _highwaters(consumer: Any, events: Sequence[Any]) -> dict[tuple[str, int], int | None]:
    """The high watermark of each partition of the batch, as the consumer last fetched it
    (local: no request to the broker); None when it is not known."""
    found: dict[tuple[str, int], int | None] = {}
    for e in events:
        tp = e.message.tp
        if (tp.topic, tp.partition) not in found:
            try:
                value = consumer.highwater(tp)
            except Exception:  # the lag gauge is not worth failing a batch for
                value = None
            found[(tp.topic, tp.partition)] = value if isinstance(value, int) else None
    return found


def _inbound(events: Sequence[Any], consumer: Any = None) -> list[Inbound]:
    highwaters = _highwaters(consumer, events) if consumer is not None else {}
    return [
        Inbound(
            topic=e.message.topic,
            partition=e.message.partition,
            offset=e.message.offset,
            key=e.message.key,
            value=e.message.value,
            headers=_headers(e.message.headers),
            timestamp=e.message.timestamp or None,
            highwater=highwaters.get((e.message.topic, e.message.partition)),
        )
        for e in events
    ]


class _IdleWatch:
    """Finds and ends a stalled fetch: faust has delivered no batch for ``after_s``
    although an assigned source partition has records past what it read and committed,
    and the engine is idle. It logs the partitions, seeks them back and makes them active
    again (docs/decisions/0018-stalled-fetch-rescue.md)."""

    def __init__(
        self, app: faust.App, engine: RouterEngine, sources: Sequence[str], after_s: float = 15.0
    ) -> None:
        self._app = app
        self._engine = engine
        self._sources = frozenset(sources)
        self._after_s = after_s
        self._last = time.monotonic()
        self._acted = 0.0
        self.rescues = 0

    def delivered(self) -> None:
        self._last = time.monotonic()

    def _stalled(self, consumer: Any) -> dict[Any, tuple[int, int, str]]:
        """Assigned source partitions with records past the first one not yet read:
        partition -> (that offset, high watermark, faust's flags for it)."""
        found: dict[Any, tuple[int, int, str]] = {}
        paused = consumer._thread._consumer.paused()
        for tp in consumer.assignment():
            if tp.topic not in self._sources:
                continue
            high = consumer.highwater(tp)
            read = consumer._read_offset.get(tp)
            done = max(read + 1 if read is not None else 0, consumer._committed_offset.get(tp) or 0)
            if isinstance(high, int) and high > done:
                flags = "".join(
                    flag
                    for flag, held in (
                        ("active", tp in consumer._active_partitions),
                        (" paused", tp in consumer._paused_partitions),
                        (" buffered", tp in consumer._buffered_partitions),
                        (" client-paused", tp in paused),
                    )
                    if held
                )
                found[tp] = (done, high, flags or "inactive")
        return found

    async def check(self) -> None:
        now = time.monotonic()
        if now - self._last < self._after_s or now - self._acted < self._after_s:
            return
        if self._engine.busy:  # the engine says what it waits for itself
            return
        consumer: Any = self._app.consumer
        try:
            if not consumer.flow_active or self._app.rebalancing:
                return
            stalled = self._stalled(consumer)
        except Exception:  # faust internals changed: watching is not worth failing for
            _LOG.debug("cannot watch the fetch", exc_info=True)
            return
        if not stalled:
            return
        self._acted = now
        self.rescues += 1
        _LOG.warning(
            "the stream delivered no batch for %.0fs while records wait: %s; seeking back",
            now - self._last,
            ", ".join(
                f"{tp.topic}/{tp.partition} from {done} to {high} ({flags})"
                for tp, (done, high, flags) in sorted(stalled.items())
            ),
        )
        try:
            for tp, (done, _high, _flags) in stalled.items():
                await consumer.seek(tp, done)
            consumer.resume_partitions(stalled)
            # the client wants its own TopicPartition type, not faust's
            consumer._thread._consumer.resume(
                *(TopicPartition(tp.topic, tp.partition) for tp in stalled)
            )
        except Exception:  # never let the rescue take the worker down
            _LOG.exception("seeking the stalled partitions back failed")


def build_app(settings: HubSettings, engine: RouterEngine, options: RouterOptions) -> faust.App:
    """The faust app of one router worker (nothing connects until a faust Worker runs it)."""
    sources = engine.sources
    engine.group_id = options.group_id or f"{settings.topic_prefix}-router"
    app = _app_class(_transport(options.fetch_max_wait_ms))(
        engine.group_id,
        broker=faust_broker_url(settings),
        broker_credentials=faust_credentials(settings),
        broker_client_id=f"{settings.client_id}-router",
        broker_session_timeout=options.session_timeout_s,
        broker_heartbeat_interval=options.heartbeat_interval_s,
        broker_commit_interval=options.commit_interval_s,
        broker_request_timeout=max(settings.request_timeout_ms / 1000, 10.0),
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        autodiscover=False,
        stream_wait_empty=True,
        datadir=str(settings.data_dir / "router"),
        producer_acks=-1,
    )
    source = app.topic(
        *sources,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )

    idle = _IdleWatch(app, engine, sources)

    @app.agent(source, name="route")
    async def route(stream: Any) -> None:
        async for events in stream.noack_take(options.batch_max, within=options.batch_within_s):
            idle.delivered()
            await engine.process(_inbound(events, app.consumer))
            for event in events:
                await stream.ack(event)

    def _ours(tps: Any) -> set[int]:
        return {tp.partition for tp in tps if tp.topic in sources}

    def _check_copartitioned(tps: Any) -> None:
        """Partition p of every source must be ours, or none: one worker routes p."""
        for partition in _ours(tps):
            have = {tp.topic for tp in tps if tp.partition == partition and tp.topic in sources}
            if have != set(sources):
                _LOG.error(
                    "router: partition %d assigned for %d of %d source topics: the assignor "
                    "did not keep them co-partitioned (same partition count everywhere?)",
                    partition,
                    len(have),
                    len(sources),
                )

    @app.on_partitions_revoked.connect
    async def _revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        partitions = _ours(args[0] if args else kwargs.get("revoked", ()))
        _LOG.info("router: partitions revoked: %s", sorted(partitions))
        await engine.revoke(partitions)

    @app.on_partitions_assigned.connect
    async def _assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned = args[0] if args else kwargs.get("assigned", ())
        _check_copartitioned(assigned)
        partitions = _ours(assigned)
        _LOG.info("router: partitions assigned: %s", sorted(partitions))
        await engine.revoke(set(engine.assigned) - partitions)
        await engine.assign(partitions)

    @app.timer(options.flush_interval_s)  # type: ignore[untyped-decorator]
    async def _flush() -> None:
        await engine.flush()
        await idle.check()

    @app.on_before_shutdown.connect
    async def _shutdown(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await engine.stop()

    return app


def run_app(app: faust.App, loglevel: str = "WARNING") -> None:
    """Run ``app`` as a faust worker in this process until SIGINT/SIGTERM (exits).

    The Kafka and HTTP clients' loggers stay at WARNING whatever ``loglevel`` is: at DEBUG
    aiokafka logs every fetch response, record values included
    (:func:`hub.logging.quiet_client_loggers`).
    """
    quiet_client_loggers()
    faust.Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
