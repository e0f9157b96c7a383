"""The Redis client manager of a cluster: fast failures, one delivery per event."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
import socketio
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from webapp.engine.managers import QueueOrderedGate
from webapp.redis_client import MessageQueueUnavailable, redis_client

logger = logging.getLogger(__name__)


class ClusterRedisManager(QueueOrderedGate, socketio.RedisManager):  # type: ignore[misc]
    """``RedisManager`` that fails a publish fast and resubscribes promptly.

    Deliveries pass the replay gate and every process delivers in the queue's
    order, each persisted event once (``QueueOrderedGate``, engine/managers.py).

    The stock manager waits as long as Redis does, retries a publish that may
    have gone through, then logs "giving up" and drops the message. Here a
    publish has its own client with a short read timeout: a slow, frozen or
    absent Redis raises ``MessageQueueUnavailable`` (503) within about
    ``publish_timeout`` seconds, and for a moment after a failure publishes fail
    at once instead of each waiting out the timeout. The listener keeps a client
    without a read timeout (it waits for messages) and reconnects with its
    back-off capped at ``retry_max``.
    """

    def __init__(
        self,
        url: str,
        channel: str,
        write_only: bool,
        retry_max: float,
        publish_timeout: float = 1.0,
        dedupe_window: int = 10000,
    ):
        super().__init__(
            url,
            channel=channel,
            write_only=write_only,
            redis_options={
                "socket_connect_timeout": 2,
                "socket_keepalive": True,
                "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            },
        )
        self.retry_max = retry_max
        self.publish_timeout = publish_timeout
        self.connected: bool = False
        self._publisher: Any = None
        self._failing_until = 0.0
        self.remember_deliveries(dedupe_window)
        # Set by the app: (after_id) -> persisted envelopes with a greater id.
        self.missed_events: Callable[[int], list[dict[str, Any]]] | None = None
        self.latest_event_id: Callable[[], int] | None = None
        self.missed_limit: int | None = None

    def _publish(self, data: Any) -> Any:
        """Publish on the channel, or raise ``MessageQueueUnavailable``."""
        if time.monotonic() < self._failing_until:
            raise MessageQueueUnavailable()  # it just failed: do not wait again
        if self._publisher is None:
            self._publisher = redis_client(self.redis_url, self.publish_timeout)
        message = self.json.dumps(data)
        failure: Exception | None = None
        for _attempt in (1, 2):
            try:
                return self._publisher.publish(self.channel, message)
            except redis.TimeoutError as exc:
                failure = exc  # it may have been published: never send it twice
                break
            except redis.RedisError as exc:
                failure = exc  # a stale connection: one more try on a fresh one
        self._failing_until = time.monotonic() + self.publish_timeout
        logger.error("cannot publish to the message queue: %s", failure)
        raise MessageQueueUnavailable() from failure

    def _redis_listen_with_retries(self) -> Iterator[Any]:  # pragma: no cover
        """Subscribe, and resubscribe after any failure (capped back-off)."""
        retry_sleep = 0.5
        subscribed = False
        ever_subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    if ever_subscribed:
                        logger.warning("message queue: resubscribed %s", self.channel)
                        self._catch_up_after_gap()
                    elif self.latest_event_id is not None:
                        self.delivered_through = self.latest_event_id()
                    subscribed = ever_subscribed = True
                    retry_sleep = 0.5
                yield from self.pubsub.listen()
            except Exception as exc:
                logger.error(
                    "message queue: cannot receive (%s); retrying in %.1f s",
                    exc,
                    retry_sleep,
                )
                subscribed = False
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, self.retry_max)

    def _catch_up_after_gap(self) -> None:
        """Deliver what was published while this process was not subscribed.

        Runs in the listener before it reads the new subscription, so the missed
        events reach local clients before newer ones; repeats are dropped by id.
        """
        if self.missed_events is None:
            return
        try:
            missed = self.missed_events(self.delivered_through)
        except Exception:  # the database may be unreachable too
            logger.exception("message queue: catch-up after resubscribing failed")
            self._make_local_clients_resume()
            return
        if self.missed_limit is not None and len(missed) > self.missed_limit:
            # Too much to push: clients reconnect and replay (or learn to refetch).
            self._make_local_clients_resume()
            return
        if missed:
            logger.warning("message queue: delivering %d missed events", len(missed))
        self.catch_up(missed)

    def _make_local_clients_resume(self) -> None:
        """Disconnect this process's clients; they resume with ``last_event_id``."""
        logger.warning("message queue: asking local clients to reconnect and replay")
        # Closing the transport (not a Socket.IO disconnect, after which clients
        # do not reconnect by themselves) makes clients reconnect with their id.
        for eio_sid in list(self.server.eio.sockets):
            try:
                self.server.eio.disconnect(eio_sid)
            except Exception:  # already gone
                pass
