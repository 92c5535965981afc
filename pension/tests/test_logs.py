"""Who read personal data, and when, is in the access log: every read of the API and every
file downloaded. No log line ever holds an ID number in full, whatever wrote it."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from enrollment.tests.factories import ResidentFactory
from pension.logs import MaskedJsonFormatter, mask_id_numbers
from pension.models import ExportJob
from reconciliation.tests.conftest import client_with, issue_key

NUMBER = "530927198001011234"


def access_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pension.access"]


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.INFO, logger="pension.access")
    return caplog


def test_a_file_downloaded_is_logged_with_who_and_when(client, township_user, access):
    job = ExportJob.objects.create(
        kind="residents", title="参保人名单", created_by=township_user,
        status=ExportJob.Status.DONE, rows=1, filename="参保人名单.xlsx",
    )  # fmt: skip
    job.file.save("参保人名单.xlsx", ContentFile(b"workbook"))
    client.force_login(township_user)

    client.get(reverse("export_download", args=[job.pk])).close()

    (line,) = access_lines(access)
    assert (line.user, line.role, line.region, line.status, line.download) == (
        township_user.username, township_user.role, township_user.region_id, 200, True,
    )  # fmt: skip
    assert line.created and line.path == reverse("export_download", args=[job.pk])


def test_a_read_of_the_staff_api_is_logged(client, township_user, access):
    client.force_login(township_user)
    client.get("/api/staff/residents/", {"q": "张"})
    (line,) = access_lines(access)
    assert (line.user, line.path, line.download) == (
        township_user.username,
        "/api/staff/residents/?q=%E5%BC%A0",
        False,
    )


def test_a_read_of_the_tax_bureaus_api_is_logged_with_its_account(county, village, access):
    resident = ResidentFactory(village=village)
    issued = issue_key(county)

    client_with(issued.secret).get(f"/api/v1/residents/{resident.id_number}")

    (line,) = access_lines(access)
    assert line.user == issued.key.account.username and line.status == 200


def test_a_page_is_not_an_access_log_line(client, township_user, access):
    client.force_login(township_user)
    client.get(reverse("enrollment:resident_list"))
    assert access_lines(access) == []


def test_a_logged_url_holding_an_id_number_is_written_masked(county, village, access):
    resident = ResidentFactory(village=village)
    client_with(issue_key(county).secret).get(f"/api/v1/residents/{resident.id_number}")
    (line,) = access_lines(access)

    written = json.loads(MaskedJsonFormatter("%(message)s %(path)s").format(line))

    assert resident.id_number not in json.dumps(written, ensure_ascii=False)
    assert (
        written["path"]
        == f"/api/v1/residents/{resident.id_number[:6]}********{resident.id_number[-4:]}"
    )


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (f"查询 {NUMBER} 失败", "查询 530927********1234 失败"),
        ("Key (id_number)=(53092719800101123X)", "Key (id_number)=(530927********123X)"),
        ("老号码 530927800101123", "老号码 530927******123"),
        ("金额 300.00，批次 12345", "金额 300.00，批次 12345"),
    ],
)  # fmt: skip
def test_id_numbers_are_masked_wherever_they_stand(text, written):
    assert mask_id_numbers(text) == written


def test_the_configured_log_masks_messages_arguments_and_tracebacks(settings):
    """The console handler's formatter as settings.LOGGING configures it, on a stream of ours."""
    spec = settings.LOGGING["formatters"][settings.LOGGING["handlers"]["console"]["formatter"]]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.config.DictConfigurator({}).configure_formatter(dict(spec)))
    logger = logging.getLogger("pension.tests.logs")
    logger.addHandler(handler)
    try:
        raise ValueError(f"号码 {NUMBER} 重复")
    except ValueError:
        logger.exception("导入 %s 失败", NUMBER)
    finally:
        logger.removeHandler(handler)

    written = stream.getvalue()
    assert NUMBER not in written
    assert written.count("530927********1234") == 2  # the message's argument, the exception's
    assert json.loads(written)["level"] == "ERROR"  # one JSON object a line
