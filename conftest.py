"""Fixtures shared by every app's tests.

Three staff users stand in every region-scope test: one in the township under test, one in
another township of the same county, one in another county.
"""

from __future__ import annotations

import datetime

import pytest

from enrollment.tests.factories import ResidentFactory
from pension.models import Region, User


@pytest.fixture(autouse=True)
def test_settings(settings, tmp_path):
    """Fast password hashing (slow on purpose in production) and uploads kept per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: import progress is kept there by job id, and ids
    repeat from one test to the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def tasks_run_in_process():
    """Tasks called by the code under test run inline; the worker path has its own tests."""
    from pension.celery import app

    eager, propagates = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = eager, propagates


@pytest.fixture
def county(db) -> Region:
    return Region.objects.get(code="530927")


@pytest.fixture
def township(county) -> Region:
    return Region.objects.get(code="530927203")  # 糯良乡


@pytest.fixture
def other_township(county) -> Region:
    return Region.objects.get(code="530927204")  # 勐来乡


@pytest.fixture
def other_county(db) -> Region:
    return Region.objects.get(code="622901")  # 临夏市


def make_village(township: Region, number: int = 200, name: str = "糯良村") -> Region:
    village, _ = Region.objects.get_or_create(
        code=f"{township.code}{number:03d}",
        defaults={"name": name, "level": Region.Level.VILLAGE, "parent": township},
    )
    return village


def make_group(village: Region, number: int = 1) -> Region:
    group, _ = Region.objects.get_or_create(
        code=f"{village.code}{number:03d}",
        defaults={"name": f"{number}组", "level": Region.Level.GROUP, "parent": village},
    )
    return group


@pytest.fixture
def village(township) -> Region:
    return make_village(township, 200, "糯良村")


@pytest.fixture
def other_village(other_township) -> Region:
    return make_village(other_township, 200, "民良村")


@pytest.fixture
def far_village(other_county) -> Region:
    township = Region.objects.get(code="622901102")  # 南龙镇
    return make_village(township, 200, "高邓家村")


def make_user(username: str, role: str, region: Region | None, **extra) -> User:
    return User.objects.create_user(
        username=username, password="correct-horse-9", role=role, region=region, **extra
    )


@pytest.fixture
def township_user(township) -> User:
    return make_user("nuoliang", User.Role.TOWNSHIP, township)


@pytest.fixture
def neighbour_user(other_township) -> User:
    return make_user("menglai", User.Role.TOWNSHIP, other_township)


@pytest.fixture
def stranger(other_county) -> User:
    return make_user("linxia", User.Role.COUNTY, other_county)


@pytest.fixture
def county_user(county) -> User:
    return make_user("cangyuan", User.Role.COUNTY, county, is_staff=True)


@pytest.fixture
def resident(village):
    return ResidentFactory(village=village, birth_date=datetime.date(1970, 5, 17))


@pytest.fixture
def far_resident(far_village):
    return ResidentFactory(
        village=far_village, birth_date=datetime.date(1970, 5, 17), area="622901"
    )
