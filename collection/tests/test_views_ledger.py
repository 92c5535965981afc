import io

import openpyxl
import pytest
from django.urls import reverse

from conftest import make_village
from enrollment.tests.factories import ResidentFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_url(region, year=2023):
    return reverse("collection:ledger_download", args=[region.code, year])


def workbook_of(response):
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_township_staff_download_their_townships_ledger(client, township_user, township, resident):
    client.force_login(township_user)

    response = client.get(download_url(township))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    # 糯良乡2023年度参保缴费台账.xlsx, percent-encoded as RFC 5987 asks for non-ASCII names.
    assert "filename*=utf-8''%E7%B3%AF%E8%89%AF%E4%B9%A12023" in disposition
    sheet = workbook_of(response)["糯良乡-糯良村"]
    assert sheet["C3"].value == resident.id_number


def test_township_staff_download_a_village_of_their_township(
    client, township_user, village, resident
):
    client.force_login(township_user)

    response = client.get(download_url(village))

    assert response.status_code == 200
    # 糯良乡糯良村…: the township's name keeps villages of the same name apart.
    assert (
        "filename*=utf-8''%E7%B3%AF%E8%89%AF%E4%B9%A1%E7%B3%AF%E8%89%AF%E6%9D%91"
        in (response["Content-Disposition"])
    )
    assert workbook_of(response).sheetnames == ["糯良乡-糯良村"]


def test_county_staff_download_the_whole_county(
    client, county_user, county, resident, other_village
):
    ResidentFactory(village=other_village)
    client.force_login(county_user)

    response = client.get(download_url(county))

    assert response.status_code == 200
    assert workbook_of(response).sheetnames == ["糯良乡-糯良村", "勐来乡-民良村"]


@pytest.mark.parametrize("user", ["neighbour_user", "stranger"])
def test_a_region_outside_the_users_scope_answers_404(request, client, township, village, user):
    client.force_login(request.getfixturevalue(user))

    assert client.get(download_url(township)).status_code == 404
    assert client.get(download_url(village)).status_code == 404


def test_township_staff_cannot_download_the_county_above_them(client, township_user, county):
    client.force_login(township_user)

    assert client.get(download_url(county)).status_code == 404


def test_an_unknown_region_answers_404(client, county_user):
    client.force_login(county_user)

    assert (
        client.get(reverse("collection:ledger_download", args=["530927999", 2023])).status_code
        == 404
    )


def test_a_year_outside_the_scheme_answers_404(client, township_user, township):
    client.force_login(township_user)

    assert client.get(download_url(township, 1999)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, township):
    for url in [download_url(township), reverse("collection:ledger_form")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_form_page_lists_only_regions_in_the_users_scope(
    client, township_user, township, village, other_village, far_village
):
    mangfei = make_village(township, 201, "芒回村")
    client.force_login(township_user)

    response = client.get(reverse("collection:ledger_form"))
    page = response.content.decode()

    assert response.status_code == 200
    assert "村级台账导出" in page and "下载台账" in page
    for region in (township, village, mangfei):
        assert f'value="{region.code}"' in page
    for region in (other_village, other_village.parent, far_village, township.parent):
        assert f'value="{region.code}"' not in page


def test_the_form_leads_to_the_download_of_the_chosen_region_and_year(
    client, township_user, village
):
    client.force_login(township_user)

    response = client.get(
        reverse("collection:ledger_form"), {"region": village.code, "year": "2023"}
    )

    assert response.status_code == 302
    assert response["Location"] == download_url(village)


def test_the_form_refuses_a_region_outside_the_scope(client, township_user, other_village):
    client.force_login(township_user)

    response = client.get(
        reverse("collection:ledger_form"), {"region": other_village.code, "year": "2023"}
    )

    assert response.status_code == 200
    assert "请选择区划" in response.content.decode()
