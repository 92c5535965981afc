"""The staff API's payment list: the page's rows for the same query string, the user's region
only, amounts as exact yuan, and a fixed number of queries a page."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collection.models import Payment
from enrollment.tests.factories import ResidentFactory
from pension.pagination import CappedPaginator

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAYMENTS = reverse("api_staff_payments")


def pay(resident, voucher, amount="300.00", day=1, year=2023):
    return Payment.objects.create(
        resident=resident, contribution_year=year, amount=Decimal(amount), kind="personal",
        channel="wechat", source="tax_sync", voucher_no=voucher,
        paid_at=datetime.datetime(2023, 5, day, 10, tzinfo=SHANGHAI),
    )  # fmt: skip


@pytest.fixture
def ledger(village, other_village):
    mine, neighbour = ResidentFactory(village=village), ResidentFactory(village=other_village)
    return [
        pay(mine, "V-1", "200.00", day=3),
        pay(mine, "V-2", "1000.00", day=1),
        pay(mine, "V-3", "300.50", day=2, year=2022),
        pay(neighbour, "V-4", "500.00", day=4),
    ]


def test_the_payment_list_answers_what_the_page_shows_for_the_same_query(
    client, township_user, ledger
):
    client.force_login(township_user)

    for query in ({}, {"sort": "-amount"}, {"year": "2023", "sort": "amount"}):
        page = client.get(reverse("collection:payment_list"), query)
        answer = client.get(PAYMENTS, query).json()

        assert [p["voucher_no"] for p in answer["results"]] == [
            p.voucher_no for p in page.context["payments"]
        ]
    assert "V-4" not in {p["voucher_no"] for p in client.get(PAYMENTS).json()["results"]}


def test_a_payment_reads_as_exact_yuan_with_its_resident_and_labels(
    client, township_user, ledger, village
):
    client.force_login(township_user)

    answer = client.get(PAYMENTS, {"q": "V-3"}).json()

    assert answer["count"] == 1
    row = answer["results"][0]
    assert row["amount"] == "300.50" and row["contribution_year"] == 2022
    assert row["id_number"] == ledger[2].resident.id_number and row["village_code"] == village.code
    assert row["channel_display"] == "微信" and row["kind_display"] == "个人缴费"


def test_the_payment_list_costs_the_same_queries_for_three_rows_as_for_thirty(
    client, township_user, village
):
    client.force_login(township_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAYMENTS).status_code == 200
        return len(captured)

    for n in range(3):
        pay(ResidentFactory(village=village), f"A-{n}")
    few = queries()
    for n in range(27):
        pay(ResidentFactory(village=village), f"B-{n}")

    assert queries() == few


def test_a_day_that_is_no_date_is_refused_naming_the_filter(client, township_user, ledger):
    client.force_login(township_user)

    response = client.get(PAYMENTS, {"paid_from": "2023-13-40"})

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"paid_from"}


def test_a_list_longer_than_the_cap_counts_up_to_it_and_says_it_is_capped(
    client, township_user, ledger, monkeypatch
):
    monkeypatch.setattr(CappedPaginator, "cap", 2)
    client.force_login(township_user)

    long = client.get(PAYMENTS).json()
    short = client.get(PAYMENTS, {"year": "2022"}).json()

    assert (long["count"], long["capped"], len(long["results"])) == (2, True, 2)
    assert (short["count"], short["capped"], len(short["results"])) == (1, False, 1)
