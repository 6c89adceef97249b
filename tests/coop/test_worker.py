"""A task travels request → Redis → a real worker process → result, and back."""

import os
import uuid

import pytest

from coop.tasks import health_ping


@pytest.mark.worker
def test_health_task_round_trip_through_a_real_worker(start_worker, celery_queue_clean):
    start_worker()
    token = uuid.uuid4().hex

    result = health_ping.delay(token).get(timeout=60)

    assert result["token"] == token
    worker_pid = int(result["worker"].rsplit(":", 1)[1])
    assert worker_pid != os.getpid()  # it really ran in another process


def test_enqueue_on_commit_survives_a_dead_broker(transactional_db, settings, redis_server):
    # Given a broker that is down, enqueueing after commit must not fail the caller.
    from django.db import transaction

    from coop.celery import app
    from coop.tasks import enqueue_on_commit

    def use_broker(url: str) -> None:
        # Drop the cached connection and producer pools so the next send uses ``url``.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.broker_url = url

    redis_server.stop()
    use_broker(redis_server.url)
    try:
        with transaction.atomic():
            enqueue_on_commit(health_ping, "lost")
        # reaching this line is the assertion: no exception escaped the commit hook
    finally:
        use_broker(settings.CELERY_BROKER_URL)
