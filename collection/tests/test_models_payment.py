"""The payment ledger is append-only and vouchers are unique per source, in the database."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from collection.models import Payment, PaymentIsAppendOnly


def make_payment(resident, voucher="V-1", source=Payment.Source.TAX_SYNC, amount="300.00", **kw):
    return Payment.objects.create(
        resident=resident,
        contribution_year=2023,
        amount=Decimal(amount),
        kind=kw.pop("kind", Payment.Kind.PERSONAL),
        channel=Payment.Channel.WECHAT,
        source=source,
        voucher_no=voucher,
        paid_at=timezone.make_aware(datetime.datetime(2023, 4, 1, 10)),
        **kw,
    )


def test_a_voucher_number_is_refused_twice_from_the_same_source(resident):
    make_payment(resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_payment(resident)
    assert Payment.objects.count() == 1


def test_the_same_voucher_number_may_come_from_two_sources(resident):
    make_payment(resident, source=Payment.Source.TAX_SYNC)
    make_payment(resident, source=Payment.Source.COUNTER)
    assert Payment.objects.count() == 2


def test_the_database_refuses_to_update_a_payment_even_through_raw_sql(resident):
    payment = make_payment(resident)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE collection_payment SET amount = 1 WHERE id = %s", [payment.pk])
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("300.00")


def test_the_database_refuses_to_delete_a_payment_even_through_raw_sql(resident):
    payment = make_payment(resident)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM collection_payment WHERE id = %s", [payment.pk])
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_the_orm_refuses_to_save_delete_or_bulk_update_a_stored_payment(resident):
    payment = make_payment(resident)
    payment.amount = Decimal("1.00")
    with pytest.raises(PaymentIsAppendOnly):
        payment.save()
    with pytest.raises(PaymentIsAppendOnly):
        payment.delete()
    with pytest.raises(PaymentIsAppendOnly):
        Payment.objects.filter(pk=payment.pk).update(amount=Decimal("1.00"))
    with pytest.raises(PaymentIsAppendOnly):
        Payment.objects.filter(pk=payment.pk).delete()
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("300.00")


@pytest.mark.parametrize("amount", ["0.00", "-300.00"])
def test_an_ordinary_payment_must_be_positive(resident, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_payment(resident, amount=amount)
    assert not Payment.objects.exists()


def test_a_reversal_must_be_negative_and_may_reverse_a_payment_only_once(resident):
    original = make_payment(resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_payment(resident, voucher="R-1", reverses=original)
    make_payment(resident, voucher="R-1", amount="-300.00", reverses=original)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_payment(resident, voucher="R-2", amount="-300.00", reverses=original)
    assert Payment.objects.count() == 2


def test_an_empty_voucher_number_is_refused(resident):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_payment(resident, voucher="")
    assert not Payment.objects.exists()
