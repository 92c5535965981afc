"""Many payments at once (the tax bureau's sync): the rules of one payment, a fixed number of
statements, one outcome per intent in the order given."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collection.models import Payment
from collection.services import payment_record
from collection.services.payments import PaymentIntent, payments_record_bulk
from enrollment.models import Resident, SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry

PAID_AT = timezone.make_aware(datetime.datetime(2023, 6, 1, 12, 0))


def intent(resident, voucher="SP-1", **overrides):
    values = {
        "resident_id": resident.pk,
        "contribution_year": 2023,
        "amount": Decimal("300.00"),
        "kind": Payment.Kind.PERSONAL,
        "channel": Payment.Channel.WECHAT,
        "voucher_no": voucher,
        "paid_at": PAID_AT,
    }
    values.update(overrides)
    return PaymentIntent(**values)


def record_bulk(intents):
    return payments_record_bulk(intents=intents, source=Payment.Source.TAX_SYNC)


def test_it_records_each_payment_with_its_subsidy_who_recorded_it_and_an_audit_row(
    resident, county_user
):
    [outcome] = payments_record_bulk(
        intents=[intent(resident, amount=Decimal("500.00"))],
        source=Payment.Source.TAX_SYNC,
        recorded_by=county_user,
    )

    payment = Payment.objects.get()
    assert (outcome.payment_id, outcome.created, outcome.refused) == (payment.pk, True, False)
    assert (payment.amount, payment.subsidy, payment.source) == (
        Decimal("500.00"), Decimal("60.00"), Payment.Source.TAX_SYNC,
    )  # fmt: skip
    assert payment.recorded_by == county_user
    entry = AuditEntry.objects.get(action="payment.record")
    assert (entry.actor, entry.target_id, entry.region_code) == (
        county_user, str(payment.pk), resident.village_id,
    )  # fmt: skip
    assert entry.changes["count"] == 1 and entry.changes["amount"] == "500.00"


def test_an_amount_that_is_not_a_tier_is_refused_with_its_code_and_nothing_is_written(resident):
    [outcome] = record_bulk([intent(resident, amount=Decimal("250.00"))])

    assert outcome.refusal_code == "not_a_tier"
    assert "不是 2023 年度的缴费档次" in outcome.refusal
    assert not Payment.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_government_only_tier_needs_a_qualifying_listing(resident, village):
    listed = ResidentFactory(village=village)
    on = datetime.date(2023, 3, 15)
    SpecialGroupMembership.objects.create(
        resident=listed, category="dibao", department="civil_affairs", list_date=on, valid_from=on
    )

    outcomes = record_bulk(
        [
            intent(resident, "SP-1", amount=Decimal("100.00")),
            intent(listed, "SP-2", amount=Decimal("100.00")),
        ]
    )

    assert [o.refusal_code for o in outcomes] == ["not_a_tier", ""]
    assert list(Payment.objects.values_list("voucher_no", flat=True)) == ["SP-2"]


def test_the_outcomes_come_in_the_order_of_the_intents(resident, village):
    other = ResidentFactory(village=village)

    outcomes = record_bulk(
        [
            intent(other, "SP-2"),
            intent(resident, "SP-1", amount=Decimal("250.00")),
            intent(resident, "SP-3"),
        ]
    )

    stored = dict(Payment.objects.values_list("voucher_no", "pk"))
    assert [o.payment_id for o in outcomes] == [stored["SP-2"], None, stored["SP-3"]]


def test_sending_the_same_intents_again_writes_nothing(resident):
    [first] = record_bulk([intent(resident)])
    audit_rows = AuditEntry.objects.count()

    [again] = record_bulk([intent(resident)])

    assert (again.payment_id, again.created) == (first.payment_id, False)
    assert Payment.objects.count() == 1
    assert AuditEntry.objects.count() == audit_rows


def test_a_voucher_on_file_with_other_content_is_refused(resident):
    record_bulk([intent(resident)])

    [outcome] = record_bulk([intent(resident, amount=Decimal("400.00"))])

    assert outcome.refusal_code == "refused" and "内容不一致" in outcome.refusal
    assert Payment.objects.count() == 1


def test_a_second_personal_payment_of_a_year_is_stored_as_a_duplicate_awaiting_refund(resident):
    first, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.TOWNSHIP_OFFICE, source=Payment.Source.COUNTER, voucher_no="GT-1",
    )  # fmt: skip

    [outcome] = record_bulk([intent(resident)])

    second = Payment.objects.get(pk=outcome.payment_id)
    assert (second.duplicate_of, second.subsidy) == (first, Decimal("0.00"))


def test_of_two_payments_of_a_year_in_one_batch_the_earlier_counts(resident):
    later = intent(resident, "SP-1", paid_at=PAID_AT + datetime.timedelta(days=3))
    earlier = intent(resident, "SP-2", amount=Decimal("500.00"))

    record_bulk([later, earlier])

    kept = Payment.objects.get(voucher_no="SP-2")
    assert Payment.objects.get(voucher_no="SP-1").duplicate_of == kept
    assert list(Payment.objects.counted().values_list("voucher_no", flat=True)) == ["SP-2"]


def test_a_back_payment_follows_the_back_payment_rules(resident, village):
    young = ResidentFactory(village=village, birth_date=datetime.date(2008, 1, 1))
    next_spring = timezone.make_aware(datetime.datetime(2024, 3, 1, 12, 0))

    outcomes = record_bulk(
        [
            intent(resident, "BP-1", kind=Payment.Kind.BACK, paid_at=next_spring),
            intent(young, "BP-2", kind=Payment.Kind.BACK, paid_at=next_spring),
            intent(resident, "BP-3", kind=Payment.Kind.BACK, amount=Decimal("500.00")),
        ]
    )

    assert outcomes[0].created and Payment.objects.get(voucher_no="BP-1").subsidy == 0
    assert outcomes[1].refusal_code == "refused" and "未满 16 周岁" in outcomes[1].refusal
    assert outcomes[2].refusal_code == "refused" and "不是以前年度" in outcomes[2].refusal


@pytest.mark.parametrize(
    "status", [Resident.Status.DECEASED, Resident.Status.CANCELLED, Resident.Status.RECEIVING]
)
def test_a_resident_who_may_not_pay_is_refused(village, status):
    resident = ResidentFactory(village=village, status=status)

    [outcome] = record_bulk([intent(resident)])

    assert outcome.refusal_code == "refused" and "不能缴费" in outcome.refusal
    assert not Payment.objects.exists()


def test_an_eligible_payer_is_enrolled_with_an_audit_row(village):
    payer = ResidentFactory(village=village, status=Resident.Status.ELIGIBLE)

    record_bulk([intent(payer)])

    payer.refresh_from_db()
    assert payer.status == Resident.Status.ENROLLED
    entry = AuditEntry.objects.get(action="resident.status", target_id=str(payer.pk))
    assert entry.changes == {"status": ["eligible", "enrolled"]}


def test_a_counter_payment_enrols_an_eligible_payer_too(village):
    payer = ResidentFactory(village=village, status=Resident.Status.ELIGIBLE)

    payment_record(
        resident=payer, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.TOWNSHIP_OFFICE, source=Payment.Source.COUNTER, voucher_no="GT-1",
    )  # fmt: skip

    payer.refresh_from_db()
    assert payer.status == Resident.Status.ENROLLED


def test_the_number_of_statements_does_not_grow_with_the_batch(village):
    def statements_for(count, offset):
        residents = ResidentFactory.create_batch(count, village=village)
        intents = [intent(r, f"Q-{offset + n}") for n, r in enumerate(residents)]
        with CaptureQueriesContext(connection) as queries:
            record_bulk(intents)
        return len(queries)

    assert statements_for(3, 0) == statements_for(30, 100)
