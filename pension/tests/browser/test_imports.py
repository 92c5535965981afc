"""A registry file uploaded from the page: the job waits for a worker, the page polls, and
shows the summary once the worker has run it."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from enrollment.models import Resident
from enrollment.tasks import run_import_job
from enrollment.tests.factories import make_id_number
from pension.models import ImportJob


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Ids of the import jobs sent to the worker, which is not running: the test runs them."""
    sent: list[int] = []
    monkeypatch.setattr(run_import_job, "delay", sent.append)
    return sent


@pytest.fixture
def registry_file(tmp_path, village):
    """Three residents the registry knows and one row with a malformed ID number (row 6)."""
    good = [make_id_number("530927", datetime.date(1980, 1, n + 1)) for n in range(3)]
    lines = ["户籍数据", "公民身份号码,姓名,区划代码,人员状态"]
    lines += [f"{number},人{n},{village.code},正常" for n, number in enumerate(good)]
    lines += [f"12345,坏,{village.code},正常"]
    path = tmp_path / "户籍.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_township_staff_upload_a_registry_file_and_watch_the_job_finish_with_its_counts(
    page, console, log_in_as, township_user, village, registry_file, queued
):
    log_in_as(township_user)
    page.goto("/imports/registry/")
    page.get_by_label("文件").set_input_files(registry_file)
    page.get_by_label("户籍数据日期").fill("2023-03-31")
    page.get_by_role("button", name="上传并比对").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job = ImportJob.objects.get()
    assert page.url.endswith(f"/jobs/{job.pk}/")
    status = page.locator("#job-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(page.get_by_role("progressbar", name="导入进度")).to_be_visible()

    assert queued == [job.pk]
    page.evaluate("window.stillTheSamePage = true")
    run_import_job(job.pk)  # what the worker does when it picks the job up

    expect(status).to_have_attribute("data-status", "done")
    expect(status.get_by_role("alert")).to_have_text("导入完成。")
    for label, value in [("数据行", "4"), ("接受", "3"), ("错误行", "1"), ("新增人员", "3")]:
        expect(status.locator("li").filter(has_text=label).locator("strong")).to_have_text(value)
    expect(status.get_by_role("row").filter(has_text="第6行")).to_contain_text("公民身份号码")
    assert page.evaluate("window.stillTheSamePage") is True  # htmx swapped it in, no reload
    assert Resident.objects.filter(village=village).count() == 3
    console.assert_clean()
