"""The real services the deployment runs on, reached over real connections when configured."""

import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from pension.celery import app

needs_redis = pytest.mark.skipif(
    not settings.CACHE_URL, reason="CACHE_URL is not set (the demo runs without Redis)"
)
needs_broker = pytest.mark.skipif(
    settings.CELERY_TASK_ALWAYS_EAGER, reason="no broker configured (tasks run in-process)"
)


@needs_redis
def test_the_cache_is_redis_and_round_trips_a_value():
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    key = f"test:{uuid.uuid4()}"
    cache.set(key, {"township": "糯良乡"}, 30)
    assert cache.get(key) == {"township": "糯良乡"}
    cache.delete(key)
    assert cache.get(key) is None


@needs_broker
def test_the_celery_app_reaches_its_broker():
    assert app.conf.broker_url.startswith("redis://")
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.connected


def test_the_test_database_is_the_configured_engine(db):
    expected = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    vendor = {"postgresql": "postgresql", "sqlite3": "sqlite"}[expected]
    assert connection.vendor == vendor
