"""The share of the personal payments' money collected in cash (现金征收占比), counted by the
nightly progress rebuild and shown on the dashboard, highest first."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from collection.models import Payment, VillageProgress
from collection.services import payment_record, payment_reverse
from collection.services.progress import progress_rebuild, progress_report
from conftest import make_village
from enrollment.tests.factories import ResidentFactory

DAY = datetime.date(2023, 7, 1)
_vouchers = iter(range(1, 10_000))


def pay(village, channel, amount="300"):
    resident = ResidentFactory(village=village, status="enrolled")
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount=amount, kind=Payment.Kind.PERSONAL,
        channel=channel, source=Payment.Source.COUNTER, voucher_no=f"C-{next(_vouchers)}",
        paid_at=timezone.make_aware(datetime.datetime(2023, 5, 10, 10)),
    )  # fmt: skip
    return payment


def test_the_rebuild_counts_cash_taken_by_agents_and_the_township_office_only(county, village):
    pay(village, Payment.Channel.AGENT_CASH, "500")
    pay(village, Payment.Channel.TOWNSHIP_OFFICE, "200")
    pay(village, Payment.Channel.WECHAT, "300")
    pay(village, Payment.Channel.BANK_COUNTER, "1000")  # cash at the bank is the bank's
    reversed_cash = pay(village, Payment.Channel.AGENT_CASH, "400")
    payment_reverse(payment=reversed_cash, voucher_no="R-1", reason="收错人")

    progress_rebuild(county=county, year=2023, day=DAY)

    row = VillageProgress.objects.get(village=village, day=DAY)
    assert (row.cash_paid, row.cash_amount, row.amount) == (
        2,
        Decimal("700.00"),
        Decimal("2000.00"),
    )


def test_a_township_report_gives_each_village_its_cash_share(county, township, village):
    other = make_village(township, 201, "贺岭村")
    pay(village, Payment.Channel.AGENT_CASH, "300")
    pay(village, Payment.Channel.WECHAT, "900")
    pay(other, Payment.Channel.ALIPAY, "300")
    progress_rebuild(county=county, year=2023, day=DAY)

    report = progress_report(region=township, year=2023, day=DAY)

    shares = {unit.code: unit.cash_share for unit in report.units}
    assert shares[village.code] == Decimal("25.00") and shares[other.code] == Decimal("0.00")
    assert report.total.cash_share == Decimal("20.00")  # 300 of 1,500


def test_the_dashboard_names_the_units_with_the_highest_cash_share_first(
    client, county, township, village, township_user, time_machine
):
    time_machine.move_to(datetime.datetime(2023, 7, 2, 9, tzinfo=datetime.UTC))
    other = make_village(township, 201, "贺岭村")
    pay(village, Payment.Channel.WECHAT, "300")
    pay(village, Payment.Channel.AGENT_CASH, "300")
    pay(other, Payment.Channel.AGENT_CASH, "300")
    progress_rebuild(county=county, year=2023, day=DAY)
    client.force_login(township_user)

    response = client.get(reverse("dashboard", args=[township.code]), {"year": 2023})

    tile = dict(response.context["tiles_by_key"])["cash"]
    assert [(u.name, u.cash_share) for u in tile["units"]] == [
        ("贺岭村", Decimal("100.00")),
        ("糯良村", Decimal("50.00")),
    ]
    assert 'data-figure="cash-share">66.66%' in response.content.decode()
