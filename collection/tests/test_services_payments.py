import datetime
import threading
from decimal import Decimal

import pytest

from collection.models import Payment
from collection.services import PaymentRejected, payment_record, payment_reverse
from enrollment.models import Resident, SpecialGroupMembership
from enrollment.tests.factories import list_as
from pension.models import AuditEntry


def record(resident, **overrides):
    values = {
        "resident": resident,
        "contribution_year": 2023,
        "amount": "300",
        "kind": Payment.Kind.PERSONAL,
        "channel": Payment.Channel.TOWNSHIP_OFFICE,
        "source": Payment.Source.COUNTER,
        "voucher_no": "GT-0001",
    }
    values.update(overrides)
    return payment_record(**values)


def test_it_records_a_tier_with_its_subsidy_and_an_audit_entry(resident, township_user):
    payment, created = record(resident, amount="500.00", recorded_by=township_user)
    assert created
    assert (payment.amount, payment.subsidy) == (Decimal("500.00"), Decimal("60.00"))
    entry = AuditEntry.objects.for_object(payment).get()
    assert entry.actor == township_user and entry.changes["amount"] == "500.00"


def test_sending_the_same_voucher_again_returns_the_stored_payment(resident):
    first, _ = record(resident)
    again, created = record(resident)
    assert not created and again.pk == first.pk
    assert Payment.objects.count() == 1


def test_a_voucher_reused_with_other_content_is_refused(resident):
    record(resident)
    with pytest.raises(PaymentRejected, match="内容不一致"):
        record(resident, amount="400")
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("250", "不是 2023 年度的缴费档次"),
        ("300.001", "两位小数"),
        ("-300", "大于零"),
        ("abc", "格式"),
    ],
)
def test_it_refuses_an_amount_that_is_not_a_tier_and_writes_nothing(resident, amount, message):
    with pytest.raises(PaymentRejected, match=message):
        record(resident, amount=amount)
    assert not Payment.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_government_only_tier_is_refused_to_a_resident_outside_the_groups(resident):
    with pytest.raises(PaymentRejected, match="仅限政府代缴对象"):
        record(resident, amount="100")
    assert not Payment.objects.exists()


def test_the_government_only_tier_is_accepted_for_a_listed_dibao_resident(resident):
    list_as(resident, "dibao")
    payment, created = record(resident, amount="100")
    assert created and payment.amount == Decimal("100.00")


def test_a_proxy_payment_needs_a_qualifying_group_backed_by_a_list_of_that_year(resident):
    list_as(resident, "dibao", on=datetime.date(2022, 3, 15))
    with pytest.raises(PaymentRejected, match="不属于 2023 年度政府代缴对象"):
        record(resident, amount="100", kind=Payment.Kind.PROXY, voucher_no="DJ-1")
    list_as(resident, "dibao")
    payment, _ = record(resident, amount="100", kind=Payment.Kind.PROXY, voucher_no="DJ-1")
    assert payment.subsidy == Decimal("0.00")


def test_yunnan_does_not_proxy_the_poverty_alleviated_group_that_gansu_does(resident, far_resident):
    list_as(resident, "tuopin")
    list_as(far_resident, "tuopin")
    with pytest.raises(PaymentRejected):
        record(resident, amount="100", kind=Payment.Kind.PROXY, voucher_no="DJ-1")
    payment, _ = record(far_resident, amount="100", kind=Payment.Kind.PROXY, voucher_no="DJ-2")
    assert payment.resident == far_resident


def test_a_back_payment_earns_no_subsidy(resident):
    payment, _ = record(resident, amount="500", kind=Payment.Kind.BACK)
    assert payment.subsidy == Decimal("0.00")


def test_a_reversal_is_a_linked_negative_entry_and_the_original_is_untouched(
    resident, township_user
):
    original, _ = record(resident, amount="500")
    reversal = payment_reverse(
        payment=original, voucher_no="CZ-1", reason="重复缴费退费", recorded_by=township_user
    )
    original.refresh_from_db()
    assert original.amount == Decimal("500.00")
    assert (reversal.amount, reversal.subsidy) == (Decimal("-500.00"), Decimal("-60.00"))
    assert reversal.reverses == original


def test_a_reversal_cannot_be_reversed_and_a_payment_is_reversed_once(resident):
    original, _ = record(resident)
    reversal = payment_reverse(payment=original, voucher_no="CZ-1", reason="退费")
    with pytest.raises(PaymentRejected, match="冲正记录不能再次冲正"):
        payment_reverse(payment=reversal, voucher_no="CZ-2", reason="退费")
    with pytest.raises(PaymentRejected, match="已被冲正"):
        payment_reverse(payment=original, voucher_no="CZ-3", reason="退费")
    assert Payment.objects.count() == 2


def test_a_second_personal_payment_of_a_year_is_a_duplicate_awaiting_refund(resident):
    first, _ = record(resident, amount="300", voucher_no="GT-1")
    second, created = record(resident, amount="500", voucher_no="GT-2")
    assert created and second.duplicate_of == first and second.subsidy == Decimal("0.00")
    assert list(Payment.objects.counted().filter(resident=resident)) == [first]
    assert AuditEntry.objects.for_object(second).get().note == "重复缴费，待退费"


def test_after_the_first_payment_is_reversed_a_new_one_counts_again(resident):
    first, _ = record(resident, amount="300", voucher_no="GT-1")
    payment_reverse(payment=first, voucher_no="CZ-1", reason="档次选错")
    again, _ = record(resident, amount="500", voucher_no="GT-2")
    assert again.duplicate_of is None
    assert list(Payment.objects.counted().filter(resident=resident)) == [again]


def test_the_government_pays_a_proxy_payment_once_a_year(resident):
    list_as(resident, SpecialGroupMembership.Category.DIBAO)
    record(resident, amount="100", kind=Payment.Kind.PROXY, voucher_no="DJ-1")
    with pytest.raises(PaymentRejected, match="已有政府代缴记录"):
        record(resident, amount="100", kind=Payment.Kind.PROXY, voucher_no="DJ-2")
    assert Payment.objects.filter(kind=Payment.Kind.PROXY).count() == 1


@pytest.mark.parametrize(
    ("year", "status", "born", "message"),
    [
        (2026, "enrolled", datetime.date(1970, 5, 17), "只能补以前年度"),
        (2027, "enrolled", datetime.date(1970, 5, 17), "只能补以前年度"),
        (2023, "eligible", datetime.date(1970, 5, 17), "参保后才能补缴"),
        (2023, "enrolled", datetime.date(1966, 11, 1), "已年满 60 周岁"),
        (2020, "enrolled", datetime.date(2005, 1, 1), "未满 16 周岁"),
    ],
)
def test_a_back_payment_is_for_a_past_year_after_enrolment_and_before_60(
    resident, time_machine, year, status, born, message
):
    time_machine.move_to(datetime.datetime(2026, 11, 22, 10, 0))
    Resident.objects.filter(pk=resident.pk).update(status=status, birth_date=born)
    resident.refresh_from_db()
    with pytest.raises(PaymentRejected, match=message):
        record(resident, contribution_year=year, amount="500", kind=Payment.Kind.BACK)
    assert not Payment.objects.exists()


def test_a_back_payment_just_before_60_is_accepted(resident, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 22, 10, 0))
    Resident.objects.filter(pk=resident.pk).update(birth_date=datetime.date(1966, 11, 23))
    resident.refresh_from_db()
    payment, _ = record(resident, contribution_year=2023, amount="500", kind=Payment.Kind.BACK)
    assert (payment.kind, payment.subsidy) == ("back", Decimal("0.00"))


@pytest.mark.django_db(transaction=True)
def test_the_same_voucher_sent_by_two_requests_at_once_is_stored_once(county, village):
    from django.db import connection

    from enrollment.tests.factories import ResidentFactory

    person = ResidentFactory(village=village, birth_date=datetime.date(1970, 5, 17))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def send():
        try:
            barrier.wait()
            results.append(record(person, voucher_no="TAX-20230315-0001"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Payment.objects.filter(voucher_no="TAX-20230315-0001").count() == 1
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].pk == results[1][0].pk
