import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from pension.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def test_env_bool_reads_common_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", default=True) is False


def test_env_bool_fails_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG")


def test_env_int_fails_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="NUMBER"):
        env_int("NUMBER", 1)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def _settings_in_subprocess(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "SECRET_KEY", "DEBUG", "CELERY_BROKER_URL", "CACHE_URL",
        "CELERY_TASK_ALWAYS_EAGER",
    }}  # fmt: skip
    clean.update(env, DJANGO_SETTINGS_MODULE="pension.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed snippet
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_with_nothing_set_it_runs_the_demo_on_sqlite_with_in_process_tasks():
    result = _settings_in_subprocess(
        {},
        "settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.LANGUAGE_CODE, settings.TIME_ZONE",
    )
    assert result.returncode == 0, result.stderr
    assert "sqlite3" in result.stdout
    assert "True" in result.stdout
    assert "zh-hans" in result.stdout and "Asia/Shanghai" in result.stdout


def test_database_and_broker_urls_switch_to_postgresql_and_redis():
    result = _settings_in_subprocess(
        {
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "SECRET_KEY": "k" * 50,
        },
        "settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER,"
        " settings.DEBUG",
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout
    assert result.stdout.split()[1:] == ["False", "False"]


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _settings_in_subprocess({"DEBUG": "0"}, "settings.SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION = {
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": "production-" + "k7Qz" * 12,
    "DEBUG": "0",
    "ALLOWED_HOSTS": "pension.example.gov.cn",
    "SECURE_COOKIES": "1",
    "STATIC_MANIFEST": "1",
}


def test_the_production_settings_pass_every_deployment_check():
    clean = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "MEDIA_ROOT"}}
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT, env={**clean, **PRODUCTION}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_behind_https_plain_http_is_redirected_but_the_health_check_is_not():
    result = _settings_in_subprocess(
        PRODUCTION,
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS,"
        " settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
        " settings.SECURE_REDIRECT_EXEMPT",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["True", "31536000", "True", "True"]
    assert "^health/$" in result.stdout
