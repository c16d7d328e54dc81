"""What the health check says about the task queue."""

import functools
import logging

from django.db.models import Count, Min
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

logger = logging.getLogger(__name__)


@functools.cache
def queue_broker() -> Broker:
    """The broker of this process: one, because a Redis broker holds a connection pool."""
    return get_broker()


def queue_status() -> dict:
    """How many tasks wait for a worker and how long the oldest has waited, in seconds.

    Tasks a worker is running are not waiting; a task whose worker vanished waits again from the moment its lease ran
    out. A long wait means the workers are busy or stopped: reported, never a failed health check, because the API
    itself still serves.
    """
    broker = queue_broker()
    now = timezone.now()
    try:
        if isinstance(broker, ORM):
            waiting = OrmQ.objects.using(Conf.ORM).filter(key=broker.list_key, lock__lte=now)
            figures = waiting.aggregate(count=Count("id"), oldest=Min("lock"))
            count, oldest = figures["count"], figures["oldest"]
        else:
            count = broker.queue_size()
            head = broker.connection.lindex(broker.list_key, 0)
            oldest = SignedPackage.loads(head)["started"] if head else None
    except Exception as exc:  # Any broker's failure (a database error, Redis unreachable) is reported alike.
        logger.warning("Health check: task queue unavailable: %s", exc)
        return {"status": "unavailable", "queued": None, "oldest_seconds": None}
    age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return {"status": "ok", "queued": count, "oldest_seconds": round(age, 1)}
