"""缴费记录: the region's payments, filtered and sorted by one definition that the page and its
export share; never another township's; a fixed number of queries per page."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from collection.models import Payment
from enrollment.tests.factories import ResidentFactory
from pension.models import ExportJob
from pension.pagination import CappedPaginator

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIST = reverse("collection:payment_list")


def pay(resident, voucher, amount="300.00", day=1, year=2023, **extra):
    return Payment.objects.create(
        resident=resident, contribution_year=year, amount=Decimal(amount), kind="personal",
        channel="wechat", source="tax_sync", voucher_no=voucher,
        paid_at=datetime.datetime(2023, 5, day, 10, tzinfo=SHANGHAI), **extra,
    )  # fmt: skip


@pytest.fixture
def ledger(village, other_village):
    mine, neighbour = ResidentFactory(village=village), ResidentFactory(village=other_village)
    return {
        "small": pay(mine, "V-1", "200.00", day=3),
        "large": pay(mine, "V-2", "1000.00", day=1),
        "last_year": pay(mine, "V-3", "300.00", day=2, year=2022),
        "neighbours": pay(neighbour, "V-4", "500.00", day=4),
    }


def vouchers(response):
    return [payment.voucher_no for payment in response.context["payments"]]


def test_the_list_shows_the_regions_payments_newest_first_and_sorts_by_amount(
    client, township_user, ledger
):
    client.force_login(township_user)

    newest = client.get(LIST)
    by_amount = client.get(LIST, {"sort": "-amount"})
    this_year = client.get(LIST, {"year": "2023", "sort": "amount"})

    assert vouchers(newest) == ["V-1", "V-3", "V-2"]
    assert vouchers(by_amount) == ["V-2", "V-3", "V-1"]
    assert vouchers(this_year) == ["V-1", "V-2"]


def test_a_voucher_or_a_name_finds_its_payment_and_a_bad_date_is_shown_not_a_crash(
    client, township_user, ledger
):
    client.force_login(township_user)

    found = client.get(LIST, {"q": "V-2"})
    bad = client.get(LIST, {"paid_from": "2023-13-01"})

    assert vouchers(found) == ["V-2"]
    assert bad.status_code == 200 and bad.context["filter"].errors


def test_another_townships_payments_never_show_even_when_asked_for(
    client, township_user, other_village, ledger
):
    client.force_login(township_user)

    response = client.get(LIST, {"region": other_village.code})

    assert vouchers(response) == []


def test_the_list_costs_the_same_queries_however_many_payments_it_shows(
    client, township_user, village
):
    client.force_login(township_user)
    resident = ResidentFactory(village=village)
    pay(resident, "Q-0")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    one = queries()
    for n in range(1, 11):
        pay(ResidentFactory(village=village), f"Q-{n}")

    assert queries() == one


def test_the_export_holds_the_filtered_payments_in_the_pages_order(
    client, township_user, ledger, django_capture_on_commit_callbacks
):
    client.force_login(township_user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("export_create"), {"kind": "payments", "query": "year=2023&sort=-amount"}
        )

    job = ExportJob.objects.get()
    download = client.get(reverse("export_download", args=[job.pk]))
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values)
    assert [(row[10], row[7]) for row in rows[2:]] == [("V-2", 1000), ("V-1", 200)]
    assert rows[2][0] == "2023-05-01 10:00"  # Beijing time, as the page shows it


def test_a_list_longer_than_the_cap_says_so_and_pages_up_to_it(
    client, township_user, ledger, monkeypatch
):
    monkeypatch.setattr(CappedPaginator, "cap", 2)
    client.force_login(township_user)

    long = client.get(LIST)
    short = client.get(LIST, {"year": "2022"})

    assert long.context["paginator"].capped and long.context["paginator"].count == 2
    assert '超过 <span data-testid="payment-count">2</span> 笔' in long.content.decode()
    assert vouchers(long) == ["V-1", "V-3"]  # newest first, whatever the count
    assert not short.context["paginator"].capped
    assert '共 <span data-testid="payment-count">1</span> 笔' in short.content.decode()


def test_a_search_finds_a_persons_payments_by_the_start_of_the_id_number_or_a_voucher(
    client, township_user, ledger
):
    mine = ledger["small"].resident
    client.force_login(township_user)

    by_number = client.get(LIST, {"q": mine.id_number[:14].lower()})
    by_voucher = client.get(LIST, {"q": " V-2 "})
    neighbours = client.get(LIST, {"q": ledger["neighbours"].resident.id_number})

    assert vouchers(by_number) == ["V-1", "V-3", "V-2"]
    assert vouchers(by_voucher) == ["V-2"]
    assert vouchers(neighbours) == []
