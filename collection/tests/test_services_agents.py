import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection.models import (
    CashLimitBreach,
    CashReceipt,
    ContributionSchedule,
    Payment,
    Remittance,
)
from collection.services import payment_record
from collection.services.agents import (
    AgentCashRejected,
    agent_cash_on_hand,
    agent_cash_position,
    agent_receipts,
    agents_cash_overview,
    agents_visible_to,
    cash_limits_check,
    cash_limits_find,
    cash_receipt_record,
    remittance_record,
)
from collection.tasks import check_cash_limits
from conftest import make_user
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, User

TODAY = datetime.date(2023, 5, 20)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2023, 5, 20, 10, 0, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def agent(village):
    user = make_user("agent-nuoliang", User.Role.AGENT, village.parent)
    user.villages.add(village)
    return user


def collect(agent, resident, **overrides):
    values = {
        "agent": agent,
        "resident": resident,
        "contribution_year": 2023,
        "amount": "300",
        "collected_on": datetime.date(2023, 5, 15),
        "receipt_no": "SJ-0001",
    }
    values.update(overrides)
    return cash_receipt_record(**values)


def held(agent, resident, amount, collected_on, receipt_no):
    """A receipt written straight to the table, for amounts the limits need but no tier has."""
    return CashReceipt.objects.create(
        agent=agent,
        resident=resident,
        contribution_year=2023,
        amount=Decimal(amount),
        collected_on=collected_on,
        receipt_no=receipt_no,
    )


# --- receipts --------------------------------------------------------------------------------


def test_an_agent_records_cash_of_a_tier_with_an_audit_entry(agent, resident):
    receipt, created = collect(agent, resident)
    assert created and receipt.amount == Decimal("300.00")
    entry = AuditEntry.objects.for_object(receipt).get()
    assert entry.actor == agent and entry.changes["receipt_no"] == "SJ-0001"
    assert entry.region_code == resident.village_id


def test_cash_from_a_resident_outside_the_agents_villages_is_refused(agent, other_village):
    outsider = ResidentFactory(village=other_village)
    with pytest.raises(AgentCashRejected, match="不在您负责的村"):
        collect(agent, outsider)
    assert not CashReceipt.objects.exists()
    assert not AuditEntry.objects.exists()


def test_only_a_user_in_the_agent_role_may_record_cash(township_user, resident):
    township_user.villages.add(resident.village)
    with pytest.raises(AgentCashRejected, match="不是在岗的村协办员"):
        collect(township_user, resident)
    assert not CashReceipt.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [("250", "不是 2023 年度的缴费档次"), ("300.001", "两位小数"), ("-300", "大于零")],
)
def test_an_amount_that_is_not_a_tier_is_refused(agent, resident, amount, message):
    with pytest.raises(AgentCashRejected, match=message):
        collect(agent, resident, amount=amount)
    assert not CashReceipt.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_year_without_a_schedule_is_refused_and_nothing_is_written(agent, resident):
    with pytest.raises(AgentCashRejected, match="尚未配置该省的缴费方案"):
        collect(agent, resident, contribution_year=2031)
    assert not CashReceipt.objects.exists()
    assert not AuditEntry.objects.exists()


def test_nobody_but_the_agent_records_their_cash(agent, resident, township_user):
    with pytest.raises(AgentCashRejected, match="只有协办员本人"):
        collect(agent, resident, recorded_by=township_user)
    assert not CashReceipt.objects.exists()
    assert not AuditEntry.objects.exists()


def test_an_inactive_agent_cannot_record_cash(agent, resident):
    agent.is_active = False
    agent.save()
    with pytest.raises(AgentCashRejected, match="不是在岗的村协办员"):
        collect(agent, resident)
    assert not CashReceipt.objects.exists()


def test_the_government_only_tier_is_refused_in_cash_to_a_resident_outside_the_groups(
    agent, resident
):
    with pytest.raises(AgentCashRejected, match="仅限政府代缴对象"):
        collect(agent, resident, amount="100")
    assert not CashReceipt.objects.exists()


def test_sending_the_same_receipt_again_returns_the_stored_one(agent, resident):
    first, _ = collect(agent, resident)
    again, created = collect(agent, resident)
    assert not created and again.pk == first.pk
    assert CashReceipt.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_a_receipt_number_reused_with_other_content_is_refused(agent, resident):
    collect(agent, resident)
    with pytest.raises(AgentCashRejected, match="内容不一致"):
        collect(agent, resident, amount="400")
    assert CashReceipt.objects.get().amount == Decimal("300.00")


def test_a_receipt_dated_in_the_future_is_refused(agent, resident):
    with pytest.raises(AgentCashRejected, match="不能晚于今天"):
        collect(agent, resident, collected_on=TODAY + datetime.timedelta(days=1))
    assert not CashReceipt.objects.exists()


# --- remittances -----------------------------------------------------------------------------


def test_a_remittance_covers_its_receipts_and_they_leave_the_cash_on_hand(agent, resident):
    first, _ = collect(agent, resident)
    second, _ = collect(agent, resident, receipt_no="SJ-0002", amount="500")
    third, _ = collect(agent, resident, receipt_no="SJ-0003", amount="200")
    assert agent_cash_on_hand(agent=agent) == Decimal("1000.00")

    remittance, created = remittance_record(
        agent=agent, amount="800.00", remitted_on=TODAY, bank_voucher="YH-1",
        receipts=[first, second], recorded_by=agent,
    )  # fmt: skip

    assert created
    assert set(remittance.receipts.values_list("receipt_no", flat=True)) == {"SJ-0001", "SJ-0002"}
    assert agent_cash_on_hand(agent=agent) == Decimal("200.00")
    assert agent_cash_position(agent=agent).oldest_on == third.collected_on
    entry = AuditEntry.objects.for_object(remittance).get()
    assert entry.changes["receipts"] == ["SJ-0001", "SJ-0002"]


def test_a_remittance_whose_sum_differs_from_its_receipts_is_refused(agent, resident):
    first, _ = collect(agent, resident)
    with pytest.raises(AgentCashRejected, match=re.escape("合计 300.00 元不符，少 0.01 元")):
        remittance_record(
            agent=agent, amount="299.99", remitted_on=TODAY, bank_voucher="YH-1",
            receipts=[first], recorded_by=agent,
        )  # fmt: skip
    assert not Remittance.objects.exists()
    assert CashReceipt.objects.unremitted().count() == 1
    assert not AuditEntry.objects.filter(action="remittance.record").exists()


def test_a_receipt_already_remitted_cannot_be_remitted_again(agent, resident):
    first, _ = collect(agent, resident)
    remittance_record(
        agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-1",
        receipts=[first], recorded_by=agent,
    )  # fmt: skip
    with pytest.raises(AgentCashRejected, match="已经缴销"):
        remittance_record(
            agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-2",
            receipts=[first], recorded_by=agent,
        )  # fmt: skip
    assert Remittance.objects.count() == 1


def test_nobody_but_the_agent_records_their_remittance(agent, resident, county_user):
    first, _ = collect(agent, resident)
    with pytest.raises(AgentCashRejected, match="只有协办员本人"):
        remittance_record(
            agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-1",
            receipts=[first], recorded_by=county_user,
        )  # fmt: skip
    assert not Remittance.objects.exists()
    assert CashReceipt.objects.get().remittance is None
    assert not AuditEntry.objects.filter(action="remittance.record").exists()


def test_a_remittance_dated_before_a_receipt_was_collected_is_refused(agent, resident):
    first, _ = collect(agent, resident, collected_on=datetime.date(2023, 5, 15))
    with pytest.raises(AgentCashRejected, match="早于收据 SJ-0001 的收款日期 2023-05-15"):
        remittance_record(
            agent=agent, amount="300", remitted_on=datetime.date(2023, 5, 14),
            bank_voucher="YH-1", receipts=[first], recorded_by=agent,
        )  # fmt: skip
    assert not Remittance.objects.exists()
    assert CashReceipt.objects.get().remittance is None


@pytest.mark.parametrize(("amount", "message"), [("300.001", "两位小数"), ("-300", "大于零")])
def test_a_remittance_amount_with_three_decimals_or_negative_is_refused(
    agent, resident, amount, message
):
    first, _ = collect(agent, resident)
    with pytest.raises(AgentCashRejected, match=message):
        remittance_record(
            agent=agent, amount=amount, remitted_on=TODAY, bank_voucher="YH-1",
            receipts=[first], recorded_by=agent,
        )  # fmt: skip
    assert not Remittance.objects.exists()
    assert CashReceipt.objects.get().remittance is None


def test_an_agent_cannot_remit_another_agents_receipts(agent, resident, village):
    other = make_user("agent-two", User.Role.AGENT, village.parent)
    other.villages.add(village)
    theirs, _ = collect(other, resident)
    with pytest.raises(AgentCashRejected, match="不属于该协办员"):
        remittance_record(
            agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-1",
            receipts=[theirs], recorded_by=agent,
        )  # fmt: skip
    assert not Remittance.objects.exists()
    assert CashReceipt.objects.get().remittance is None


def test_the_same_bank_voucher_sent_again_returns_the_stored_remittance(agent, resident):
    first, _ = collect(agent, resident)
    values = {
        "agent": agent, "amount": "300", "remitted_on": TODAY, "bank_voucher": "YH-1",
        "receipts": [first], "recorded_by": agent,
    }  # fmt: skip
    stored, _ = remittance_record(**values)
    again, created = remittance_record(**values)
    assert not created and again.pk == stored.pk
    second, _ = collect(agent, resident, receipt_no="SJ-0002")
    with pytest.raises(AgentCashRejected, match="已登记为另一笔缴销"):
        remittance_record(**{**values, "receipts": [second]})
    assert Remittance.objects.count() == 1


# --- 双限 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_held", "breach"), [(10, False), (11, True)])
def test_cash_held_more_than_ten_days_is_a_breach(agent, resident, days_held, breach):
    held(agent, resident, "300", TODAY - datetime.timedelta(days=days_held), "SJ-1")

    found = cash_limits_check(day=TODAY)

    kinds = list(CashLimitBreach.objects.values_list("kind", flat=True))
    assert kinds == ([CashLimitBreach.Kind.DAYS] if breach else [])
    assert len(found) == len(kinds)


@pytest.mark.parametrize(("extra", "breach"), [("0.00", False), ("0.01", True)])
def test_cash_over_ten_thousand_yuan_is_a_breach(agent, resident, extra, breach):
    for number in range(5):
        held(agent, resident, "2000", TODAY, f"SJ-{number}")
    if extra != "0.00":
        held(agent, resident, extra, TODAY, "SJ-extra")

    cash_limits_check(day=TODAY)

    breaches = list(CashLimitBreach.objects.values_list("kind", "unremitted"))
    expected = Decimal("10000.00") + Decimal(extra)
    assert breaches == ([(CashLimitBreach.Kind.AMOUNT, expected)] if breach else [])


def test_remitted_cash_does_not_count_towards_the_limits(agent, resident):
    old = held(agent, resident, "300", TODAY - datetime.timedelta(days=20), "SJ-1")
    remittance_record(
        agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-1",
        receipts=[old], recorded_by=agent,
    )  # fmt: skip
    assert cash_limits_check(day=TODAY) == []


def test_the_limits_come_from_the_schedule(agent, resident):
    ContributionSchedule.objects.filter(province_id="53", year=2023).update(cash_limit_days=5)
    held(agent, resident, "300", TODAY - datetime.timedelta(days=6), "SJ-1")
    assert [b.kind for b in cash_limits_check(day=TODAY)] == [CashLimitBreach.Kind.DAYS]


def test_running_the_check_twice_records_nothing_new(agent, resident):
    held(agent, resident, "300", TODAY - datetime.timedelta(days=30), "SJ-1")
    held(agent, resident, "10000", TODAY, "SJ-2")
    check_cash_limits()
    check_cash_limits()
    assert CashLimitBreach.objects.count() == 2


def test_the_check_reads_every_agent_in_a_fixed_number_of_queries(agent, resident, village):
    def agents_in_breach(count, offset):
        for number in range(offset, offset + count):
            other = make_user(f"agent-{number}", User.Role.AGENT, village.parent)
            other.villages.add(village)
            held(other, resident, "300", TODAY - datetime.timedelta(days=30), f"SJ-{number}")

    agents_in_breach(1, 0)
    with CaptureQueriesContext(connection) as one:
        assert len(cash_limits_check(day=TODAY)) == 1
    CashLimitBreach.objects.all().delete()
    agents_in_breach(5, 1)
    with CaptureQueriesContext(connection) as six:
        assert len(cash_limits_check(day=TODAY)) == 6

    assert len(six.captured_queries) == len(one.captured_queries)


def test_each_breach_recorded_has_one_audit_row_and_a_second_run_adds_none(agent, resident):
    held(agent, resident, "10000.01", TODAY - datetime.timedelta(days=11), "SJ-1")

    cash_limits_check(day=TODAY)
    cash_limits_check(day=TODAY)

    entries = AuditEntry.objects.filter(action="cash_limit.breach")
    assert sorted(entry.changes["kind"] for entry in entries) == ["amount", "days"]
    assert {entry.region_code for entry in entries} == {agent.region_id}
    breach = CashLimitBreach.objects.get(kind="days")
    assert AuditEntry.objects.for_object(breach).get().changes["unremitted"] == "10000.01"


@pytest.mark.parametrize(("days_held", "left", "breach"), [(10, 0, False), (11, -1, True)])
def test_days_left_counts_down_to_the_limit_and_ten_days_is_still_within(
    agent, resident, days_held, left, breach
):
    held(agent, resident, "300", TODAY - datetime.timedelta(days=days_held), "SJ-1")
    position = agent_cash_position(agent=agent)
    assert (position.on_hand, position.days_left, position.in_breach) == (
        Decimal("300.00"),
        left,
        breach,
    )


@pytest.mark.parametrize(("extra", "breach"), [("0.00", False), ("0.01", True)])
def test_the_agents_position_shows_ten_thousand_yuan_as_still_within(
    agent, resident, extra, breach
):
    held(agent, resident, "10000", TODAY, "SJ-1")
    if extra != "0.00":
        held(agent, resident, extra, TODAY, "SJ-2")
    position = agent_cash_position(agent=agent)
    assert position.in_breach is breach
    assert position.amount_left == Decimal("0.00") - Decimal(extra)


def test_an_agent_holding_nothing_has_the_schedules_limits_and_no_breach(agent):
    position = agent_cash_position(agent=agent)
    assert (position.on_hand, position.oldest_on, position.in_breach) == (
        Decimal("0.00"),
        None,
        False,
    )
    assert (position.limits.days, position.limits.amount) == (10, Decimal("10000.00"))


def test_without_a_schedule_the_limits_come_from_settings(agent, resident, settings):
    settings.CASH_LIMIT_DAYS = 3
    settings.CASH_LIMIT_AMOUNT = "500.00"
    held(agent, resident, "300", TODAY - datetime.timedelta(days=4), "SJ-1")
    CashReceipt.objects.update(contribution_year=2031)  # no schedule ships for 2031

    position = agent_cash_position(agent=agent)

    assert position.limits.days == 3 and position.limits.amount == Decimal("500.00")
    assert [b.kind for b in cash_limits_check(day=TODAY)] == [CashLimitBreach.Kind.DAYS]


def test_the_page_and_the_daily_check_agree(agent, resident, village, township_user):
    calm = make_user("agent-calm", User.Role.AGENT, village.parent)
    calm.villages.add(village)
    held(agent, resident, "300", TODAY - datetime.timedelta(days=11), "SJ-1")
    held(calm, resident, "300", TODAY - datetime.timedelta(days=10), "SJ-2")

    recorded = cash_limits_check(day=TODAY)
    page = agents_cash_overview(agents=agents_visible_to(township_user), day=TODAY)

    assert {b.agent_id for b in recorded} == set(cash_limits_find(day=TODAY)) == {agent.pk}
    assert [row.agent.pk for row in page if row.position.in_breach] == [agent.pk]
    assert agent_cash_position(agent=agent).in_breach
    assert not agent_cash_position(agent=calm).in_breach


def test_the_region_sees_only_its_own_agents_in_breach(
    agent, resident, township_user, neighbour_user
):
    held(agent, resident, "300", TODAY - datetime.timedelta(days=30), "SJ-1")

    ours = agents_cash_overview(agents=agents_visible_to(township_user), day=TODAY)
    theirs = agents_cash_overview(agents=agents_visible_to(neighbour_user), day=TODAY)

    assert [(row.agent, row.position.breaches) for row in ours] == [(agent, ["days"])]
    assert theirs == []


# --- collected in cash, not paid -------------------------------------------------------------


def test_a_remitted_receipt_is_collected_not_paid_until_the_tax_record_arrives(agent, resident):
    receipt, _ = collect(agent, resident)
    remittance_record(
        agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-1",
        receipts=[receipt], recorded_by=agent,
    )  # fmt: skip
    assert not Payment.objects.exists()
    assert [r.payment for r in agent_receipts(agent=agent, limit=10)] == [None]

    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.AGENT_CASH, source=Payment.Source.TAX_SYNC, voucher_no="T-1",
    )  # fmt: skip

    assert [r.payment for r in agent_receipts(agent=agent, limit=10)] == [payment]
    assert AuditEntry.objects.filter(action="cash_receipt.post", target_id=str(receipt.pk)).exists()


def test_a_tax_record_that_arrived_before_the_remittance_is_linked_when_it_is_remitted(
    agent, resident
):
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.AGENT_CASH, source=Payment.Source.TAX_SYNC, voucher_no="T-1",
    )  # fmt: skip
    receipt, _ = collect(agent, resident)
    receipt.refresh_from_db()
    assert receipt.payment is None  # not remitted yet: still cash in the agent's hands

    remittance_record(
        agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-1",
        receipts=[receipt], recorded_by=agent,
    )  # fmt: skip

    receipt.refresh_from_db()
    assert receipt.payment == payment


def test_a_counter_payment_does_not_settle_an_agents_cash(agent, resident):
    receipt, _ = collect(agent, resident)
    remittance_record(
        agent=agent, amount="300", remitted_on=TODAY, bank_voucher="YH-1",
        receipts=[receipt], recorded_by=agent,
    )  # fmt: skip

    payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.TOWNSHIP_OFFICE, source=Payment.Source.COUNTER, voucher_no="C-1",
    )  # fmt: skip

    receipt.refresh_from_db()
    assert receipt.payment is None


def test_one_tax_record_settles_one_receipt_only(agent, resident):
    first, _ = collect(agent, resident)
    second, _ = collect(agent, resident, receipt_no="R-2")
    remittance_record(
        agent=agent, amount="600", remitted_on=TODAY, bank_voucher="YH-1",
        receipts=[first, second], recorded_by=agent,
    )  # fmt: skip

    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.AGENT_CASH, source=Payment.Source.TAX_SYNC, voucher_no="T-1",
    )  # fmt: skip

    assert CashReceipt.objects.filter(payment=payment).count() == 1
    assert CashReceipt.objects.filter(payment__isnull=True).count() == 1
