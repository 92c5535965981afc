import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone

from pension.models import User
from reconciliation.api import errors
from reconciliation.models import ApiKey, ApiRequest
from reconciliation.services.keys import api_key_revoke
from reconciliation.tests.conftest import client_with

ENDPOINTS = [
    ("post", "/api/v1/payments/batch"),
    ("post", "/api/v1/payments/332023000000000001/reversal"),
    ("get", "/api/v1/residents/530927197005170011"),
    ("get", "/api/v1/payables?county=530927&year=2023"),
    ("get", "/api/v1/schedules/53/2023"),
]


def send(client, method, path):
    if method == "post":
        return client.post(path, {}, format="json")
    return client.get(path)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_answers_401_without_a_key_and_logs_the_call(anonymous, db, method, path):
    response = send(anonymous, method, path)
    error = assert_error(response, 401, "not_authenticated")
    assert "Authorization: Bearer" in error["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    log = ApiRequest.objects.get()
    assert (log.key, log.method, log.path, log.status) == (
        None,
        method.upper(),
        path.split("?")[0],
        401,
    )


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Token abc", "invalid_header"),
        ("Bearer", "invalid_header"),
        ("Bearer rpk_short", "invalid_key"),
        ("Bearer rpk_zzzzzzzz_" + "a" * 43, "invalid_key"),
    ],
)
def test_a_malformed_or_unknown_key_answers_401(db, header, code):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/api/v1/schedules/53/2023"), 401, code)
    assert ApiRequest.objects.get().key is None


def test_a_key_with_a_wrong_secret_answers_401(issued):
    prefix_only = issued.secret[: len("rpk_") + 9] + "x" * 43
    assert_error(client_with(prefix_only).get("/api/v1/schedules/53/2023"), 401, "invalid_key")


def test_a_revoked_key_answers_401(issued):
    api_key_revoke(key=issued.key)
    error = assert_error(
        client_with(issued.secret).get("/api/v1/schedules/53/2023"), 401, "revoked_key"
    )
    assert "吊销" in error["message"]


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"role": User.Role.COUNTY}], ids=["inactive", "not_tax"]
)
def test_a_key_whose_account_is_no_longer_a_tax_account_answers_401(issued, change):
    User.objects.filter(pk=issued.key.account_id).update(**change)
    assert_error(
        client_with(issued.secret).get("/api/v1/schedules/53/2023"), 401, "inactive_account"
    )


def test_every_call_is_logged_once_with_its_key(api, key):
    api.get("/api/v1/schedules/53/2023", REMOTE_ADDR="10.1.2.3")
    api.get("/api/v1/schedules/53/1999")
    first, second = ApiRequest.objects.order_by("id")
    assert (first.key, first.status, first.remote_addr, first.path) == (
        key,
        200,
        "10.1.2.3",
        "/api/v1/schedules/53/2023",
    )
    assert (second.key, second.status) == (key, 404)
    assert first.duration_ms >= 0


def test_last_used_is_written_at_most_once_a_minute(api, key, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    api.get("/api/v1/schedules/53/2023")
    first = ApiKey.objects.get().last_used_at
    assert first == timezone.now()
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 0, 30, tzinfo=datetime.UTC), tick=False)
    api.get("/api/v1/schedules/53/2023")
    assert ApiKey.objects.get().last_used_at == first
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 1, 30, tzinfo=datetime.UTC), tick=False)
    api.get("/api/v1/schedules/53/2023")
    assert ApiKey.objects.get().last_used_at > first


def test_an_unknown_api_address_answers_the_json_404_and_is_logged(api, key):
    error = assert_error(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert "/api/docs/" in error["message"]
    assert ApiRequest.objects.get().key == key
    assert_error(api.post("/api/v2/payments/batch", {}, format="json"), 404, "not_found")
    assert ApiRequest.objects.count() == 1  # only /api/v1/ calls are logged


def test_a_wrong_method_answers_405_in_the_error_body(api):
    error = assert_error(api.get("/api/v1/payments/batch"), 405, "method_not_allowed")
    assert "GET" in error["message"]


def test_a_body_that_is_not_json_answers_415(api):
    response = api.post("/api/v1/payments/batch", "records=1", content_type="text/plain")
    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]


def test_an_unexpected_failure_answers_500_in_the_error_body_and_is_logged(
    api, monkeypatch, caplog
):
    from reconciliation.services import sync

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sync, "sync_payments_batch", broken)
    response = api.post("/api/v1/payments/batch", {"records": [{}]}, format="json")
    error = assert_error(response, 500, "server_error")
    assert "服务器内部错误" in error["message"] and "boom" not in response.content.decode()
    assert ApiRequest.objects.get().status == 500
    assert "boom" in caplog.text


def test_a_database_away_for_a_moment_answers_503_with_when_to_send_again(api, monkeypatch):
    from django.db import OperationalError

    from reconciliation.services import sync

    def database_restarting(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(sync, "sync_payments_batch", database_restarting)
    response = api.post("/api/v1/payments/batch", {"records": [{}]}, format="json")
    error = assert_error(response, 503, "unavailable")
    assert "原样重发" in error["message"] and response["Retry-After"] == "5"
    assert ApiRequest.objects.get().status == 503


@pytest.mark.parametrize(
    ("view", "path", "status"),
    [
        (errors.not_found, "/api/anything", 404),
        (errors.server_error, "/api/anything", 500),
    ],
)
def test_the_project_error_handlers_answer_json_under_api(db, view, path, status):
    request = RequestFactory().get(path)
    response = view(request, None) if status == 404 else view(request)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert b'"error"' in response.content


def test_a_database_error_raised_outside_the_api_handler_also_answers_503(db):
    from django.db import InterfaceError

    request = RequestFactory().post("/api/v1/payments/batch")
    try:
        raise InterfaceError("connection already closed")
    except InterfaceError:
        response = errors.server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b'"unavailable"' in response.content


def test_the_project_error_handlers_leave_pages_to_django(db):
    request = RequestFactory().get("/residents/nothing")
    response = errors.not_found(request, None)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
