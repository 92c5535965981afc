"""The health check a monitor polls names the database, the cache, the broker and the workers,
and answers 500 when one of them is down. With a worker running it answers 200
(pension/tests/worker/)."""

import pytest

HEALTH = "/health/?format=json"


def status_of(response) -> dict[str, str]:
    """Each check's answer, by the kind of check."""
    return {name.split("(")[0]: answer for name, answer in response.json().items()}


def test_with_no_worker_running_the_check_fails_and_says_so(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"

    response = client.get(HEALTH)

    assert response.status_code == 500
    assert status_of(response) == {
        "Database": "OK",
        "Cache": "OK",
        "Redis": "OK",
        "Ping": "Unavailable: Celery workers unavailable",
    }


def test_a_broker_that_cannot_be_reached_is_named(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    response = client.get(HEALTH)

    assert response.status_code == 500
    assert status_of(response)["Redis"].startswith("Unavailable")
    assert status_of(response)["Database"] == "OK"


def test_the_demo_runs_its_tasks_in_process_and_checks_only_its_database_and_cache(
    client, db, settings
):
    settings.CELERY_BROKER_URL = "memory://"

    response = client.get(HEALTH)

    assert response.status_code == 200
    assert status_of(response) == {"Database": "OK", "Cache": "OK"}


@pytest.mark.parametrize("path", ["/health/", HEALTH])
def test_the_check_needs_no_login_and_is_never_cached(client, db, settings, path):
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("max-age=0")
