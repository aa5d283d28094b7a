"""What the broker says: reachable or not, and how many tasks wait in each queue."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from celery import current_app
from django.core.cache import cache
from kombu.exceptions import ChannelError
from kombu.utils.url import maybe_sanitize_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerStatus:
    reachable: bool
    transport: str
    location: str  # the broker URL without its password
    error: str = ""
    # Tasks waiting per queue; None where the broker cannot tell.
    queues: dict[str, int | None] = field(default_factory=dict)


def _queue_names() -> list[str]:
    conf = current_app.conf
    names = [queue.name for queue in (conf.task_queues or [])]
    return names or [conf.task_default_queue]


def broker_status(*, timeout: float = 2.0, depth: bool = True) -> BrokerStatus:
    """Connect once (no retries beyond `timeout`) and, with `depth`, ask each queue's depth."""
    conf = current_app.conf
    location = str(maybe_sanitize_url(conf.broker_url))
    with current_app.connection_for_read() as connection:
        transport = connection.transport_cls
        try:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            names = _queue_names() if depth else []
            queues = {name: _depth(connection, name) for name in names}
        except Exception as error:  # kombu raises transport-specific errors
            logger.warning("The broker at %s is unreachable: %s", location, error)
            return BrokerStatus(False, str(transport), location, error=str(error) or repr(error))
    return BrokerStatus(True, str(transport), location, queues=queues)


def _depth(connection: object, queue: str) -> int | None:
    channel = connection.default_channel  # type: ignore[attr-defined]
    try:
        return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError:
        # Virtual transports (Redis, the filesystem) keep no empty queue: nothing waits.
        return 0
    except (AttributeError, NotImplementedError, TypeError):
        return None


def broker_reachability(*, timeout: float, max_age: float) -> BrokerStatus:
    """Reachable or not, probed at most once per `max_age` seconds (in the cache, so across
    workers where the cache is shared): `/healthz` is polled often by load balancers, and each
    probe opens a broker connection. `max_age` 0 probes every time."""
    key = f"watch:broker-reachability:{maybe_sanitize_url(current_app.conf.broker_url)}"
    if max_age > 0 and (known := cache.get(key)) is not None:
        return known
    status = broker_status(timeout=timeout, depth=False)
    if max_age > 0:
        cache.set(key, status, max_age)
    return status
