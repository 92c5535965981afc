import re

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from pension.wsgi import application
from reconciliation.tests.conftest import tax_record


def test_the_schema_is_readable_without_a_key_and_documents_the_api(anonymous):
    response = anonymous.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/v1/payments/batch",
        "/api/v1/payments/{voucher}/reversal",
        "/api/v1/residents/{id_number}",
        "/api/v1/payables",
        "/api/v1/schedules/{province}/{year}",
    }
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "rpk_<前缀>_<密钥>",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    batch = schema["paths"]["/api/v1/payments/batch"]["post"]
    assert batch["security"] == [{"ApiKey": []}]
    for code in ("400", "401", "500"):
        assert batch["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


def test_the_docs_page_loads_only_local_static_files(anonymous):
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r"https?://", page) is None
    assets = re.findall(r'(?:src|href)="(/static/vendor/swagger-ui/[^"]+)"', page)
    assert {a.rsplit("/", 1)[1] for a in assets} == {
        "favicon-32x32.png",
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset


@pytest.fixture
def same_connection_for_the_app():
    """Requests sent to the WSGI application run in this thread, on the test's connection and
    inside its transaction; Django's own test client stops the request signals from closing
    that connection in the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_generated_requests_to_every_operation_cause_no_server_error(
    same_connection_for_the_app, issued, resident
):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    calls = 0

    for operation in operations:

        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case):
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        exercise()

    # A well-formed record of a resident on file goes through the same door.
    operation = schema["/api/v1/payments/batch"]["POST"]
    case = operation.Case(body={"records": [tax_record(resident)]})
    response = case.call(headers=headers)
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "created"
    assert calls >= 5 * 10
