"""The revisit pages: drawing a sample, the sheet with masked ID numbers, and recording what
the visit found."""

import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from collection.models import RevisitItem, RevisitSample
from collection.tests.test_services_revisits import (
    END,
    START,
    make_collector,
    pay,
    pay_cash,
    pay_off_tier,
    sample_of,
)
from conftest import make_user, make_village
from enrollment.models import Finding, Resident
from pension.models import Region, User


@pytest.fixture
def payers(county):
    """6 payers in May in each of 3 townships."""
    for township in Region.objects.filter(level="township", code__startswith="530927")[:3]:
        village = make_village(township, 250, f"{township.name}回访村")
        for n in range(6):
            pay(village, START.replace(day=1 + n))


@pytest.fixture
def tax_user(county):
    return make_user("cangyuan-tax", User.Role.TAX, county)


@pytest.fixture
def auditor_user(county):
    return make_user("cangyuan-audit", User.Role.AUDITOR, county)


@pytest.fixture
def collector(village):
    return make_collector(village)


def draw(client, county, **fields):
    data = {"county": county.code, "start": f"{START}", "end": f"{END}", "townships": "3",
            "payers": "6", **fields}  # fmt: skip
    return client.post(reverse("collection:revisit_draw"), data)


def test_the_tax_bureau_draws_a_sample_and_gets_its_sheet_with_masked_ids(
    client,
    county,
    payers,
    tax_user,
):
    client.force_login(tax_user)

    response = draw(client, county, seed="99")

    sample = RevisitSample.objects.get()
    assert response["Location"] == reverse("collection:revisit_detail", args=[sample.pk])
    assert sample.seed == 99 and sample.items.count() == 18
    page = client.get(response["Location"]).content.decode()
    for item in sample.items.select_related("payment__resident"):
        resident = item.payment.resident
        assert resident.masked_id in page and resident.id_number not in page


def test_a_refused_draw_is_told_on_the_list_and_writes_nothing(
    client,
    county,
    payers,
    county_user,
):
    client.force_login(county_user)

    response = draw(client, county, townships="2")

    assert response["Location"] == reverse("collection:revisit_list")
    page = client.get(response["Location"]).content.decode()
    assert "抽取乡镇数应在 3 至 50 之间" in page
    assert not RevisitSample.objects.exists()


def test_an_auditor_reads_the_samples_but_is_offered_no_draw(
    client,
    county,
    payers,
    tax_user,
    auditor_user,
):
    client.force_login(tax_user)
    draw(client, county)
    client.force_login(auditor_user)

    page = client.get(reverse("collection:revisit_list")).content.decode()

    assert 'data-testid="revisit-draw"' not in page
    assert f"#{RevisitSample.objects.get().pk}" in page


def test_recording_that_a_payer_did_not_pay_raises_a_finding(
    client,
    county,
    payers,
    county_user,
):
    client.force_login(county_user)
    draw(client, county)
    item = RevisitItem.objects.first()

    response = client.post(
        reverse("collection:revisit_record", args=[item.pk]),
        {"outcome": "did_not_pay", "note": "本人称未缴费"},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.outcome == "did_not_pay"
    assert Finding.objects.filter(kind=Finding.Kind.REVISIT_DIFFERS).count() == 1


def test_a_township_clerk_finds_no_sample(
    client,
    county,
    payers,
    tax_user,
    township_user,
):
    client.force_login(tax_user)
    draw(client, county)
    client.force_login(township_user)

    sample = RevisitSample.objects.get()

    assert client.get(reverse("collection:revisit_detail", args=[sample.pk])).status_code == 404


# --- the sheet as a workbook -----------------------------------------------------------------


def sheet_of(client, sample):
    response = client.get(reverse("collection:revisit_sheet", args=[sample.pk]))
    assert response.status_code == 200
    return response, load_workbook(io.BytesIO(response.content))


def test_the_sheet_downloads_with_one_row_per_payer_and_no_full_id_number_anywhere(
    client, county, payers, tax_user
):
    client.force_login(tax_user)
    draw(client, county, seed="99")
    sample = RevisitSample.objects.get()

    response, book = sheet_of(client, sample)

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    rows = list(book.active.iter_rows(values_only=True))
    assert f"#{sample.pk}" in rows[0][0] and "2023-05-01" in rows[0][0]
    assert rows[1][:6] == ("序号", "乡镇", "村(社区)", "村民小组", "姓名", "公民身份号码")
    payers_drawn = sample.items.select_related("payment__resident")
    assert sorted(row[5] for row in rows[2:]) == sorted(
        item.payment.resident.masked_id for item in payers_drawn
    )
    full_numbers = set(Resident.objects.values_list("id_number", flat=True))
    cells = [str(value) for row in rows for value in row if value is not None]
    assert not any(number in cell for cell in cells for number in full_numbers)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        parts = b"".join(archive.read(name) for name in archive.namelist())
    assert not any(number.encode() in parts for number in full_numbers)


def test_the_sheet_gives_the_tier_and_the_agent_of_each_payer_and_blank_visit_columns(
    client, county, village, collector, auditor_user
):
    client.force_login(auditor_user)
    sample = sample_of(
        county,
        [pay(village, START), pay_cash(village, START, collector), pay_off_tier(village, END)],
    )

    _response, book = sheet_of(client, sample)

    rows = list(book.active.iter_rows(min_row=3, values_only=True))
    columns = {(row[6], row[8], row[10]) for row in rows}
    assert columns == {
        ("第3档 300 元", "微信", None),
        ("第3档 300 元", "村协办员代收现金", "肖岩"),
        ("非标准档次", "银行柜面", None),
    }
    assert all(row[11:] == (None, None, None, None) for row in rows)


def test_an_outcome_on_file_fills_the_visit_columns_of_the_sheet(client, county, village, tax_user):
    tax_user.last_name, tax_user.first_name = "李", "明"
    tax_user.save()
    client.force_login(tax_user)
    sample = sample_of(county, [pay(village, START)])
    item = sample.items.get()
    client.post(
        reverse("collection:revisit_record", args=[item.pk]),
        {"outcome": "amount_differs", "note": "本人称缴了200元"},
    )

    _response, book = sheet_of(client, sample)

    row = next(book.active.iter_rows(min_row=3, values_only=True))
    assert row[11:14] == ("金额不符", "本人称缴了200元", "李明")
    assert row[14].date() == timezone.localdate()


@pytest.mark.parametrize("who", ["stranger", "township_user"])
def test_a_sample_outside_the_users_region_is_not_found_for_download(
    request, client, county, payers, tax_user, who
):
    client.force_login(tax_user)
    draw(client, county)
    client.force_login(request.getfixturevalue(who))

    response = client.get(
        reverse("collection:revisit_sheet", args=[RevisitSample.objects.get().pk])
    )

    assert response.status_code == 404


def test_the_detail_page_shows_the_tier_and_the_agent_and_links_the_sheet(
    client, county, village, collector, county_user
):
    client.force_login(county_user)
    sample = sample_of(county, [pay(village, START), pay_cash(village, START, collector)])

    page = client.get(reverse("collection:revisit_detail", args=[sample.pk])).content.decode()

    assert "缴费档次" in page and "代收协办员" in page
    assert page.count("第3档 300 元") == 2
    assert page.count('data-testid="revisit-agent">肖岩</td>') == 1
    assert reverse("collection:revisit_sheet", args=[sample.pk]) in page
