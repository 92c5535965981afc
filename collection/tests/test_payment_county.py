"""Every payment carries its resident's county, however it is written: the counter, a reversal,
a batch from the tax bureau's sync or a file, and a posted proxy batch. One county's bulk work
reads its payments by that column, so a payment filed under the wrong county, or none, would
drop out of its county's progress."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from collection.models import Payment
from collection.services import payment_record, payment_reverse
from collection.services.payments import PaymentIntent, payments_record_bulk
from collection.services.progress import progress_rebuild
from collection.services.proxy import proxy_batch_approve, proxy_batch_generate, proxy_batch_post
from conftest import make_user
from enrollment.tests.factories import ResidentFactory, list_as
from pension.models import User

PAID_AT = timezone.make_aware(datetime.datetime(2023, 6, 1, 12, 0))


def record(resident, voucher):
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.TOWNSHIP_OFFICE, source=Payment.Source.COUNTER,
        voucher_no=voucher, paid_at=PAID_AT,
    )  # fmt: skip
    return payment


def test_a_payment_at_the_counter_carries_its_residents_county(resident, far_resident):
    assert record(resident, "C-1").county_code == "530927"
    assert record(far_resident, "C-2").county_code == "622901"


def test_a_reversal_carries_the_county_of_the_payment_it_reverses(far_resident):
    payment = record(far_resident, "C-1")

    reversal = payment_reverse(payment=payment, voucher_no="R-1", reason="录错金额")

    assert reversal.county_code == "622901"


def test_a_batch_of_payments_from_two_counties_files_each_under_its_own(resident, far_resident):
    intents = [
        PaymentIntent(
            resident_id=person.pk,
            contribution_year=2023,
            amount=Decimal("300.00"),
            kind=Payment.Kind.PERSONAL,
            channel=Payment.Channel.WECHAT,
            voucher_no=voucher,
            paid_at=PAID_AT,
        )
        for person, voucher in ((resident, "S-1"), (far_resident, "S-2"))
    ]

    outcomes = payments_record_bulk(intents=intents, source=Payment.Source.TAX_SYNC)

    assert [o.created for o in outcomes] == [True, True]
    assert dict(Payment.objects.values_list("voucher_no", "county_code")) == {
        "S-1": "530927",
        "S-2": "622901",
    }


def test_a_posted_proxy_batch_files_its_payments_under_the_batchs_county(
    county, village, county_user
):
    listed = ResidentFactory(village=village, area="530927")
    list_as(listed, "dibao")
    batch = proxy_batch_generate(county=county, year=2023, actor=county_user).batch
    batch = proxy_batch_approve(batch=batch, actor=make_user("cangyuan2", User.Role.COUNTY, county))

    proxy_batch_post(batch=batch, actor=county_user)

    assert list(Payment.objects.values_list("resident_id", "county_code")) == [
        (listed.pk, "530927")
    ]


def test_the_database_refuses_a_payment_without_a_county(resident):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO collection_payment (resident_id, county_code, contribution_year, amount,"
            " subsidy, kind, channel, source, voucher_no, paid_at, recorded_at, note)"
            " VALUES (%s, '', 2023, 300, 0, 'personal', 'wechat', 'tax_sync', 'X-1', %s, %s, '')",
            [resident.pk, PAID_AT, PAID_AT],
        )
    assert not Payment.objects.exists()


def test_progress_counts_the_countys_payments_and_no_other_countys(
    county, village, resident, far_resident
):
    record(resident, "C-1")
    record(far_resident, "C-2")

    progress_rebuild(county=county, year=2023, day=datetime.date(2023, 6, 30))

    row = village.progress.get(year=2023)
    assert (row.paid, row.amount) == (1, Decimal("300.00"))
