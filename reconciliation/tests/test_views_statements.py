"""The county bureau's statement upload: queued as a job, refused to anyone else."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import make_user
from pension.models import ImportJob, User
from reconciliation.models import Statement, TaxLine

UPLOAD = reverse("reconciliation:statement_upload")
CSV = (
    "电子税票号码,证件号码,姓名,缴费年度,缴费档次,实缴金额,入库日期\n"
    "T-1,{id_number},{name},2023,300,300.00,2023-07-05\n"
)


def statement_file(resident):
    content = CSV.format(id_number=resident.id_number, name=resident.name)
    return SimpleUploadedFile("税务征收明细.csv", content.encode("utf-8-sig"), "text/csv")


def post(client, county, resident, **overrides):
    data = {"source": "tax", "county": county.code, "month": "2023-07"}
    data.update(overrides)
    return client.post(UPLOAD, {**data, "file": statement_file(resident)})


def test_a_county_clerk_uploads_a_statement_and_lands_on_its_job(
    client, county_user, county, resident, django_capture_on_commit_callbacks
):
    client.force_login(county_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, county, resident)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("import_job", args=[job.pk])
    assert (job.kind, job.status, job.params["month"]) == ("tax", "done", "2023-07")
    assert TaxLine.objects.get().voucher_no == "T-1"
    assert Statement.objects.get().job == job


def test_the_month_page_offers_the_upload_to_the_county_bureau_only(
    client, county_user, township_user, county
):
    client.force_login(county_user)
    page = client.get(reverse("reconciliation:month"), {"county": county.code}).content.decode()
    assert 'data-testid="upload-statement"' in page

    client.force_login(township_user)
    page = client.get(reverse("reconciliation:month"), {"county": county.code}).content.decode()
    assert 'data-testid="upload-statement"' not in page


@pytest.mark.parametrize("role", [User.Role.TOWNSHIP, User.Role.AUDITOR, User.Role.TAX])
def test_staff_who_may_not_import_get_not_found_and_nothing_is_queued(
    client, county, township, resident, role
):
    client.force_login(make_user("someone", role, township if role == "township" else county))

    assert client.get(UPLOAD).status_code == 404
    assert post(client, county, resident).status_code == 404
    assert not ImportJob.objects.exists()


def test_another_countys_clerk_cannot_upload_for_this_county(client, stranger, county, resident):
    client.force_login(stranger)

    response = post(client, county, resident)

    assert response.status_code == 200  # the form: the county is not one of theirs
    assert "county" in response.context["form"].errors
    assert not ImportJob.objects.exists() and not TaxLine.objects.exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused_before_anything_is_queued(
    client, county_user, county
):
    client.force_login(county_user)

    response = client.post(
        UPLOAD,
        {"source": "bank", "county": county.code, "month": "2023-07",
         "file": SimpleUploadedFile("流水.pdf", b"%PDF-1.4")},
    )  # fmt: skip

    assert "只支持 xlsx、xls、csv 文件" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()
