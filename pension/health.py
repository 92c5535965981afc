"""The health check a monitor polls (django-health-check): the database, the cache, the broker
and a worker on every queue. It answers 200 when all are up and 500 naming what is not; JSON
with `?format=json`. It shows no personal data and needs no login."""

from __future__ import annotations

import datetime

from django.conf import settings
from health_check.checks import Cache, Database
from health_check.contrib.celery import Ping
from health_check.contrib.redis import Redis
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient


def _broker() -> RedisClient:
    return RedisClient.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2)


def health_checks() -> list:
    checks: list = [Database, Cache]
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        # The demo runs its tasks in-process: it has no broker and no worker to check.
        checks += [
            (Redis, {"client_factory": _broker}),
            (Ping, {"timeout": datetime.timedelta(seconds=1)}),
        ]
    return checks


class HealthView(HealthCheckView):
    def get_checks(self):
        self.checks = health_checks()
        return super().get_checks()
