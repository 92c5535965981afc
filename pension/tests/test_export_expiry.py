"""Exported workbooks hold personal data: their files are deleted after the retention days,
while the jobs stay as the record of who exported what and when."""

import datetime
import os

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from pension.exports import export_files_expire
from pension.models import ExportJob
from pension.tasks import expire_export_files

NOW = timezone.now()


def finished_job(user, days_ago: float) -> ExportJob:
    job = ExportJob.objects.create(
        kind="residents", title="参保人名单", created_by=user, status=ExportJob.Status.DONE,
        rows=2, filename="参保人名单.xlsx", finished_at=NOW - datetime.timedelta(days=days_ago),
    )  # fmt: skip
    job.file.save("参保人名单.xlsx", ContentFile(b"workbook"))
    return job


@pytest.fixture
def jobs(township_user, settings):
    settings.EXPORT_RETENTION_DAYS = 7
    return {"old": finished_job(township_user, 7.5), "recent": finished_job(township_user, 6.5)}


def test_a_file_older_than_the_retention_is_deleted_and_its_job_kept(jobs):
    old_path = jobs["old"].file.path

    deleted = export_files_expire(now=NOW)

    jobs["old"].refresh_from_db()
    jobs["recent"].refresh_from_db()
    assert deleted == 1
    assert jobs["old"].file.name == "" and not os.path.exists(old_path)
    assert jobs["old"].status == ExportJob.Status.DONE and jobs["old"].rows == 2
    assert jobs["recent"].file.storage.exists(jobs["recent"].file.name)


def test_running_the_expiry_again_deletes_nothing_more(jobs):
    export_files_expire(now=NOW)

    assert export_files_expire(now=NOW) == 0
    assert ExportJob.objects.count() == 2


def test_an_expired_export_says_so_on_its_page_and_its_download_is_gone(
    client, township_user, jobs
):
    expire_export_files.delay()
    client.force_login(township_user)

    page = client.get(reverse("export_job", args=[jobs["old"].pk]))
    download = client.get(reverse("export_download", args=[jobs["old"].pk]))
    recent = client.get(reverse("export_download", args=[jobs["recent"].pk]))

    assert (
        "文件已在生成 7 天后删除" in page.text and 'data-testid="export-download"' not in page.text
    )
    assert download.status_code == 404
    assert recent.status_code == 200 and b"".join(recent.streaming_content) == b"workbook"


def test_the_expiry_runs_every_night_from_the_scheduler(db):
    task = PeriodicTask.objects.get(task="pension.tasks.expire_export_files")

    assert (task.crontab.hour, task.crontab.minute, task.enabled) == ("3", "40", True)
