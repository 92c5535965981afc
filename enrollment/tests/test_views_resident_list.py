"""The resident list: one filter and sort definition for the page and its export, the export
written by a worker with its progress page, and the requester's region throughout."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from conftest import make_village
from enrollment.tests.factories import ResidentFactory
from pension.models import ExportJob


@pytest.fixture
def listed(village, other_village):
    second = make_village(village.parent, 201, "贺岭村")
    return {
        "a": ResidentFactory(village=village, name="岩甲", status="enrolled"),
        "b": ResidentFactory(village=second, name="岩乙", status="eligible"),
        "c": ResidentFactory(village=village, name="岩丙", status="eligible"),
        "elsewhere": ResidentFactory(village=other_village, name="岩丁", status="eligible"),
    }


def names(response):
    return [resident.name for resident in response.context["residents"]]


def test_the_list_filters_by_status_and_region_and_sorts_both_ways(
    client, township_user, village, listed
):
    client.force_login(township_user)
    url = reverse("enrollment:resident_list")

    ascending = client.get(url, {"status": "eligible", "sort": "name"})
    descending = client.get(url, {"status": "eligible", "sort": "-name"})
    one_village = client.get(url, {"region": village.code, "sort": "name"})

    assert names(ascending) == sorted(["岩乙", "岩丙"])
    assert names(descending) == sorted(["岩乙", "岩丙"], reverse=True)
    assert names(one_village) == sorted(["岩甲", "岩丙"])


def test_an_unknown_sort_is_ignored_not_an_error(client, township_user, listed):
    client.force_login(township_user)

    response = client.get(reverse("enrollment:resident_list"), {"sort": "password"})

    assert response.status_code == 200 and len(names(response)) == 3


@pytest.fixture
def export(client, django_capture_on_commit_callbacks):
    """Ask for an export as the list page's button does; the worker runs it on the commit."""

    def export(user, query: str, kind="residents"):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("export_create"), {"kind": kind, "query": query})

    return export


def test_the_export_holds_the_filtered_rows_in_the_pages_order_every_page_of_them(
    client, township_user, listed, export
):
    response = export(township_user, "status=eligible&sort=-name&page=7")

    job = ExportJob.objects.get()
    assert response["Location"] == reverse("export_job", args=[job.pk])
    assert job.status == "done" and job.rows == 2 and job.params == {
        "status": "eligible", "sort": "-name",
    }  # fmt: skip
    page = client.get(response["Location"]).content.decode()
    assert reverse("export_download", args=[job.pk]) in page
    download = client.get(reverse("export_download", args=[job.pk]))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[2:]] == sorted(["岩乙", "岩丙"], reverse=True)
    assert "岩丁" not in str(rows)  # another township's resident, though eligible


def test_another_users_export_is_not_found_and_an_unknown_list_is_refused(
    client, township_user, neighbour_user, listed, export
):
    export(township_user, "")
    job = ExportJob.objects.get()

    client.force_login(neighbour_user)
    page = client.get(reverse("export_job", args=[job.pk]))
    download = client.get(reverse("export_download", args=[job.pk]))
    refused = export(neighbour_user, "", kind="payments-of-everyone")

    assert page.status_code == download.status_code == 404
    assert refused.status_code == 302 and refused["Location"] == reverse("enrollment:home")
    assert ExportJob.objects.count() == 1


def test_a_pending_export_shows_its_progress_and_offers_no_file_yet(
    client, township_user, monkeypatch, export
):
    monkeypatch.setattr("pension.tasks.run_export_job.delay", lambda job_id: None)
    response = export(township_user, "")

    page = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    job = ExportJob.objects.get()
    assert job.status == "pending" and 'role="progressbar"' in page
    assert client.get(reverse("export_download", args=[job.pk])).status_code == 404


def test_the_pager_keeps_the_filters_and_the_sort(client, township_user, village):
    for _ in range(51):
        ResidentFactory(village=village, status="enrolled")
    client.force_login(township_user)

    first = client.get(reverse("enrollment:resident_list"), {"status": "enrolled", "sort": "name"})
    second = client.get(
        reverse("enrollment:resident_list"), {"status": "enrolled", "sort": "name", "page": 2}
    )

    assert 'href="?status=enrolled&amp;sort=name&amp;page=2"' in first.content.decode()
    assert len(names(first)) == 50 and len(names(second)) == 1
    assert names(second)[0] not in names(first)
