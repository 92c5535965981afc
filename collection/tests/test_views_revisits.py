"""The revisit pages: drawing a sample, the sheet with masked ID numbers, and recording what
the visit found."""

import pytest
from django.urls import reverse

from collection.models import RevisitItem, RevisitSample
from collection.tests.test_services_revisits import END, START, pay
from conftest import make_user, make_village
from enrollment.models import Finding
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
