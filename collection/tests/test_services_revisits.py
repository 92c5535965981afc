"""Revisit samples (回访): at least 3 townships and 6 payers each, drawn at random from the
county's personal payments of a period, the same again from the same seed; what the visit
found, a difference becoming a finding."""

import datetime

import pytest
from django.utils import timezone

from collection.models import Payment, RevisitItem, RevisitSample
from collection.services import payment_record
from collection.services.revisits import RevisitRefused, revisit_record, revisit_sample_draw
from conftest import make_user, make_village
from enrollment.models import Finding
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, Region, User

START, END = datetime.date(2023, 5, 1), datetime.date(2023, 5, 31)
_vouchers = iter(range(1, 100_000))


def pay(village, on, area="530927"):
    resident = ResidentFactory(village=village, status="enrolled", area=area)
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.WECHAT, source=Payment.Source.TAX_SYNC,
        voucher_no=f"V-{next(_vouchers)}",
        paid_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(10))),
    )  # fmt: skip
    return payment


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
