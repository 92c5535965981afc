"""Uploading a registry or department file from the browser: the job, its progress page,
the summary, the rejected rows, and region scope on all of it."""

import datetime
import io

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from conftest import make_user
from enrollment.models import Resident, SpecialGroupMembership
from enrollment.services.imports import job_progress
from enrollment.tests.factories import ResidentFactory, make_id_number
from pension.models import ImportJob, User


def registry_upload(village, *, bad_rows=1):
    good = [make_id_number("530927", datetime.date(1980, 1, n + 1)) for n in range(3)]
    lines = ["户籍数据", "公民身份号码,姓名,区划代码,人员状态"]
    lines += [f"{number},人{n},{village.code},正常" for n, number in enumerate(good)]
    lines += [f"12345,坏{n},{village.code},正常" for n in range(bad_rows)]
    return SimpleUploadedFile(
        "户籍.csv", ("\n".join(lines) + "\n").encode("utf-8"), content_type="text/csv"
    )


def upload(client, village, township, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("enrollment:upload_registry"),
            {"file": registry_upload(village), "region": township.code, "as_of": "2023-03-31",
             **extra},
        )  # fmt: skip


def test_township_staff_upload_a_registry_file_and_see_the_summary(
    client, township_user, township, village, django_capture_on_commit_callbacks
):
    client.force_login(township_user)
    form = client.get(reverse("enrollment:upload_registry"))
    assert [code for code, _ in form.context["form"].fields["region"].choices] == [township.code]
    response = upload(client, village, township, django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import_job", args=[job.pk])
    assert (job.status, job.progress, job.region_id) == ("done", 100, township.code)
    assert job.summary["new"] == 3 and job.summary["rejected_count"] == 1
    page = client.get(response["Location"]).content.decode()
    assert "导入完成" in page and "新增人员" in page and "第6行" in page
    assert Resident.objects.count() == 3


def test_the_progress_fragment_polls_while_the_job_runs(client, township_user, township):
    job = ImportJob.objects.create(
        kind="registry", region=township, filename="x.csv", status="running", progress=40,
        stage="比对户籍数据", created_by=township_user,
    )  # fmt: skip
    client.force_login(township_user)
    fragment = client.get(reverse("import_job", args=[job.pk]), HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in text and "40%" in text and "<html" not in text


def test_progress_noted_inside_the_imports_transaction_shows_while_it_runs(
    client, township_user, township
):
    job = ImportJob.objects.create(
        kind="registry", region=township, filename="x.csv", status="running", progress=10,
        stage="读取文件", created_by=township_user,
    )  # fmt: skip
    with transaction.atomic():
        job_progress(job, progress=65, stage="处理迁移人员")
    assert ImportJob.objects.get(pk=job.pk).progress == 10  # the row waits for the commit
    client.force_login(township_user)
    text = client.get(reverse("import_job", args=[job.pk]), HTTP_HX_REQUEST="true").content
    assert "65%" in text.decode() and "处理迁移人员" in text.decode()


def test_the_rejected_rows_download_as_a_workbook(
    client, township_user, township, village, django_capture_on_commit_callbacks
):
    client.force_login(township_user)
    upload(client, village, township, django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    response = client.get(reverse("import_job_rejections", args=[job.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("行号", "列", "原因", "原值")
    assert rows[2][0] == 6 and rows[2][1] == "公民身份号码" and "格式错误" in rows[2][2]


def test_a_job_of_another_township_or_county_answers_404(
    client, township_user, neighbour_user, stranger, township
):
    job = ImportJob.objects.create(
        kind="registry", region=township, filename="x.csv", created_by=township_user
    )
    for outsider in (neighbour_user, stranger):
        client.force_login(outsider)
        assert client.get(reverse("import_job", args=[job.pk])).status_code == 404
        assert client.get(reverse("import_job_rejections", args=[job.pk])).status_code == 404


def test_a_township_user_cannot_run_a_comparison_for_another_township(
    client, township_user, other_township, village
):
    client.force_login(township_user)
    response = client.post(
        reverse("enrollment:upload_registry"),
        {"file": registry_upload(village), "region": other_township.code, "as_of": "2023-03-31"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["region"]
    assert not ImportJob.objects.exists()


def test_a_future_date_and_a_wrong_file_type_are_refused_next_to_the_field(
    client, township_user, township, village
):
    client.force_login(township_user)
    response = client.post(
        reverse("enrollment:upload_registry"),
        {"file": SimpleUploadedFile("photo.png", b"\x89PNG"), "region": township.code,
         "as_of": "2999-01-01"},
    )  # fmt: skip
    errors = response.context["form"].errors
    assert "只支持 xlsx、xls、csv 文件" in errors["file"]
    assert "日期不能晚于今天" in errors["as_of"]
    assert not ImportJob.objects.exists()


def test_a_structurally_wrong_upload_fails_the_job_and_writes_nothing(
    client, township_user, township, django_capture_on_commit_callbacks
):
    client.force_login(township_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("enrollment:upload_registry"),
            {"file": SimpleUploadedFile("x.csv", "姓名,备注\n张三,无\n".encode()),
             "region": township.code, "as_of": "2023-03-31"},
        )  # fmt: skip
    job = ImportJob.objects.get()
    assert job.status == "failed" and "缺少必需的列：公民身份号码" in job.error
    assert not Resident.objects.exists()


def test_a_department_list_upload_adds_listings(
    client, county_user, county, village, django_capture_on_commit_callbacks
):
    person = ResidentFactory(village=village)
    client.force_login(county_user)
    data = f"公民身份号码,姓名\n{person.id_number},{person.name}\n".encode("gb18030")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("enrollment:upload_department"),
            {"file": SimpleUploadedFile("低保.csv", data), "region": county.code,
             "category": "dibao", "list_date": "2023-03-15"},
        )  # fmt: skip
    assert ImportJob.objects.get().summary["added"] == 1
    assert SpecialGroupMembership.objects.get().resident == person


def test_auditors_and_agents_cannot_upload(client, county, township):
    for role, region in ((User.Role.AUDITOR, county), (User.Role.AGENT, township)):
        client.force_login(make_user(f"u-{role}", role, region))
        assert client.get(reverse("enrollment:upload_registry")).status_code == 403


def test_an_upload_over_50_mb_is_refused_next_to_the_field(client, township_user, township):
    client.force_login(township_user)
    big = SimpleUploadedFile("big.csv", b"0" * (50 * 1024 * 1024 + 1))
    response = client.post(
        reverse("enrollment:upload_registry"),
        {"file": big, "region": township.code, "as_of": "2023-03-31"},
    )
    assert "文件过大" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()
