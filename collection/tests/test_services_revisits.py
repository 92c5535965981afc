"""Revisit samples (回访): at least 3 townships and 6 payers each, drawn at random from the
county's personal payments of a period, the same again from the same seed; what the visit
found, a difference becoming a finding."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collection.models import CashReceipt, Payment, RevisitItem, RevisitSample
from collection.services import payment_record
from collection.services.revisits import (
    RevisitRefused,
    revisit_record,
    revisit_sample_draw,
    revisit_sheet_rows,
)
from conftest import make_group, make_user, make_village
from enrollment.models import Finding
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, Region, User

START, END = datetime.date(2023, 5, 1), datetime.date(2023, 5, 31)
_vouchers = iter(range(1, 100_000))


def pay(village, on, area="530927", channel=Payment.Channel.WECHAT, group=None):
    resident = ResidentFactory(village=village, group=group, status="enrolled", area=area)
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=channel, source=Payment.Source.TAX_SYNC, voucher_no=f"V-{next(_vouchers)}",
        paid_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(10))),
    )  # fmt: skip
    return payment


def pay_cash(village, on, agent):
    """A payment of cash `agent` collected, linked to their receipt as the remittance's tax
    record leaves it (collection.services.agents)."""
    payment = pay(village, on, channel=Payment.Channel.AGENT_CASH)
    CashReceipt.objects.create(
        agent=agent, resident=payment.resident, contribution_year=2023, amount=payment.amount,
        collected_on=on, receipt_no=f"SJ-{payment.voucher_no}", payment=payment,
    )  # fmt: skip
    return payment


def pay_off_tier(village, on, amount="350"):
    """An amount no 2023 tier has, as an old import could have left it: written to the table,
    since payment_record refuses it."""
    resident = ResidentFactory(village=village, status="enrolled")
    return Payment.objects.create(
        resident=resident, contribution_year=2023, amount=Decimal(amount),
        kind=Payment.Kind.PERSONAL, channel=Payment.Channel.BANK_COUNTER,
        source=Payment.Source.IMPORT, voucher_no=f"V-{next(_vouchers)}",
        paid_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(10))),
    )  # fmt: skip


def sample_of(county, payments):
    """A sample holding exactly `payments`, each under its own township."""
    sample = RevisitSample.objects.create(
        county=county, period_start=START, period_end=END, townships=3, payers=6, seed=1
    )
    RevisitItem.objects.bulk_create(
        RevisitItem(sample=sample, payment=p, township_id=p.resident.village_id[:9])
        for p in payments
    )
    return sample


def make_collector(village):
    """The village's agent, 肖岩, who collects cash."""
    agent = make_user(
        "agent-nuoliang", User.Role.AGENT, village.parent, last_name="肖", first_name="岩"
    )
    agent.villages.add(village)
    return agent


@pytest.fixture
def collector(village):
    return make_collector(village)


@pytest.fixture
def payers(county):
    """8 payers in May in each of 4 townships, with others paid in April or in another county."""
    townships = Region.objects.filter(level="township", code__startswith="530927")
    in_may = []
    for township in townships.order_by("code")[:4]:
        village = make_village(township, 250, f"{township.name}回访村")
        in_may += [pay(village, datetime.date(2023, 5, 1 + n)) for n in range(8)]
        pay(village, datetime.date(2023, 4, 30))
    return in_may


@pytest.fixture
def tax_user(county):
    return make_user("cangyuan-tax", User.Role.TAX, county)


def draw(county, actor, **kwargs):
    return revisit_sample_draw(county=county, start=START, end=END, actor=actor, **kwargs)


def test_a_sample_takes_three_townships_and_six_payers_each_from_the_period(
    county, payers, far_village, tax_user
):
    pay(far_village, datetime.date(2023, 5, 10), area="622901")

    sample = draw(county, tax_user)

    items = list(sample.items.select_related("payment__resident"))
    townships = {item.township_id for item in items}
    assert len(townships) == 3 and len(items) == 18
    assert all(sum(1 for i in items if i.township_id == t) == 6 for t in townships)
    assert {item.payment_id for item in items} <= {p.pk for p in payers}
    assert all(i.payment.resident.village_id.startswith(i.township_id) for i in items)
    assert AuditEntry.objects.get(action="revisit.draw").changes["seed"] == sample.seed


def test_the_same_seed_draws_the_same_payers_and_another_seed_others(county, payers, tax_user):
    def drawn(seed):
        sample = draw(county, tax_user, seed=seed, townships=3, payers=6)
        return sorted(sample.items.values_list("payment_id", flat=True))

    assert drawn(2023) == drawn(2023)
    assert drawn(2023) != drawn(2024)


def test_a_township_with_fewer_payers_than_asked_gives_all_it_has(county, payers, tax_user):
    sample = draw(county, tax_user, townships=4, payers=10)

    assert sample.items.count() == 32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"townships": 2}, "抽取乡镇数应在 3 至 50 之间"),
        ({"payers": 5}, "每乡镇抽取人数应在 6 至 50 之间"),
        ({"start": END, "end": START}, "起始日期不能晚于截止日期"),
        (
            {"start": datetime.date(2024, 1, 1), "end": datetime.date(2024, 1, 31)},
            "没有个人缴费记录",
        ),
    ],
)
def test_a_draw_that_breaks_a_rule_is_refused_and_writes_nothing(
    county, payers, tax_user, kwargs, message
):
    arguments = {"county": county, "start": START, "end": END, "actor": tax_user, **kwargs}

    with pytest.raises(RevisitRefused, match=message):
        revisit_sample_draw(**arguments)

    assert not RevisitSample.objects.exists() and not RevisitItem.objects.exists()


@pytest.mark.parametrize("who", ["township_user", "agent", "auditor", "far_county_user"])
def test_only_the_countys_bureau_and_tax_bureau_draw(request, county, payers, who):
    if who == "agent":
        actor = make_user("agent-1", User.Role.AGENT, Region.objects.get(code="530927203"))
    elif who == "auditor":
        actor = make_user("auditor-1", User.Role.AUDITOR, county)
    elif who == "far_county_user":
        actor = make_user("linxia-1", User.Role.COUNTY, Region.objects.get(code="622901"))
    else:
        actor = request.getfixturevalue(who)

    with pytest.raises(RevisitRefused):
        draw(county, actor)

    assert not RevisitSample.objects.exists()


def test_a_payer_who_did_not_pay_becomes_a_finding_for_the_township(county, payers, tax_user):
    item = draw(county, tax_user, seed=7).items.select_related("payment__resident").first()

    revisit_record(
        item=item, outcome="did_not_pay", note="本人称未缴费，系他人代缴", actor=tax_user
    )

    item.refresh_from_db()
    assert (item.outcome, item.recorded_by) == ("did_not_pay", tax_user)
    finding = Finding.objects.get(kind=Finding.Kind.REVISIT_DIFFERS)
    resident = item.payment.resident
    assert (finding.id_number, finding.region_id) == (resident.id_number, resident.village_id)
    assert "本人未缴费" in finding.detail and item.payment.voucher_no in finding.detail


def test_a_confirmed_payer_raises_nothing_and_a_difference_needs_a_note(county, payers, tax_user):
    first, second = draw(county, tax_user, seed=7).items.all()[:2]

    revisit_record(item=first, outcome="confirmed", actor=tax_user)
    with pytest.raises(RevisitRefused, match="必须填写说明"):
        revisit_record(item=second, outcome="amount_differs", note=" ", actor=tax_user)

    second.refresh_from_db()
    assert second.outcome == "pending" and not Finding.objects.exists()


# --- the sheet -------------------------------------------------------------------------------


def test_the_sheet_names_a_wechat_payers_tier_by_its_place_in_the_schedule_and_no_agent(
    county, village
):
    group = make_group(village, 2)
    payment = pay(village, START, group=group)

    (row,) = revisit_sheet_rows(sample=sample_of(county, [payment]))

    # Yunnan 2023: 100, 200, 300, ... yuan, so 300 is the third tier.
    assert (row.tier, row.amount, row.agent) == ("第3档 300 元", Decimal("300.00"), "")
    assert (row.township, row.village, row.group) == ("糯良乡", "糯良村", group.name)
    assert (row.channel, row.paid_on, row.outcome_label) == ("微信", START, "待回访")


def test_an_agents_cash_payment_names_the_agent_who_collected_it(county, village, collector):
    payment = pay_cash(village, START, collector)

    (row,) = revisit_sheet_rows(sample=sample_of(county, [payment]))

    assert (row.tier, row.channel, row.agent) == ("第3档 300 元", "村协办员代收现金", "肖岩")


def test_an_amount_that_is_no_tier_of_the_schedule_shows_as_non_standard(county, village):
    payment = pay_off_tier(village, START, amount="350")

    (row,) = revisit_sheet_rows(sample=sample_of(county, [payment]))

    assert (row.tier, row.amount, row.agent) == ("非标准档次", Decimal("350.00"), "")


def test_the_sheet_carries_masked_id_numbers_only(county, village):
    payments = [pay(village, START), pay_off_tier(village, START)]

    rows = revisit_sheet_rows(sample=sample_of(county, payments))

    for row, payment in zip(rows, sorted(payments, key=lambda p: p.resident.name), strict=True):
        id_number = payment.resident.id_number
        assert row.masked_id == f"{id_number[:6]}********{id_number[-4:]}"
        assert id_number not in repr(row)


def test_the_sheet_takes_as_many_queries_for_thirty_payers_as_for_two(
    county, village, collector, tax_user
):
    def queries(payments) -> int:
        sample = sample_of(county, payments)
        first = sample.items.first()
        revisit_record(item=first, outcome="confirmed", actor=tax_user)
        with CaptureQueriesContext(connection) as captured:
            rows = revisit_sheet_rows(sample=sample)
        assert len(rows) == len(payments)
        return len(captured)

    group = make_group(village, 1)
    few = [pay(village, START), pay_cash(village, START, collector)]
    many = [
        maker()
        for _ in range(10)
        for maker in (
            lambda: pay(village, START, group=group),
            lambda: pay_cash(village, END, collector),
            lambda: pay_off_tier(village, END),
        )
    ]

    assert queries(few) == queries(many) == 2
