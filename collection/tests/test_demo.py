import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.urls import reverse

from collection.demo import DEMO_PASSWORD, build_plan, demo_regions, demo_seed
from collection.models import Bulletin, ContributionSchedule, Payment, VillageProgress
from collection.services.bulletins import bulletin_figures
from enrollment.models import Resident, SpecialGroupMembership
from pension import idnumber
from pension.models import Region, User


def plan(seed, residents=400):
    schedules = {
        s.province_id: s
        for s in ContributionSchedule.objects.filter(year=2023).prefetch_related("tiers")
    }
    return build_plan(
        residents=residents, seed=seed, year=2023, regions=demo_regions(), schedules=schedules
    )


def snapshot():
    return list(
        Resident.objects.order_by("id_number").values_list(
            "id_number", "name", "status", "village_id", "group_id"
        )
    ), list(
        Payment.objects.order_by("voucher_no").values_list(
            "voucher_no", "resident__id_number", "amount", "channel", "paid_at"
        )
    )


def test_the_same_seed_builds_the_same_plan_and_another_seed_does_not(db):
    assert plan(7).digest() == plan(7).digest()
    assert plan(7).digest() != plan(8).digest()


def test_the_same_seed_writes_the_same_rows(db):
    snapshots = []
    for _ in range(2):
        with transaction.atomic():
            demo_seed(residents=300, seed=11)
            snapshots.append(snapshot())
            transaction.set_rollback(True)
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0][0]) == 300


@pytest.fixture
def seeded(db):
    return demo_seed(residents=500, seed=2023)


def test_every_seeded_id_number_is_valid_and_agrees_with_birth_date_and_sex(seeded):
    assert seeded.created and seeded.residents == Resident.objects.count() == 500
    for number, born, sex in Resident.objects.values_list("id_number", "birth_date", "sex"):
        parsed = idnumber.parse(number)
        assert (parsed.birth_date, parsed.sex) == (born, sex)
        assert number[:6] in {"622901", "622921", "622923", "530927", "530926", "530925"}


def test_it_builds_villages_and_groups_under_every_shipped_township(seeded):
    nuoliang = Region.objects.filter(parent_id="530927203").values_list("name", flat=True)
    assert {"糯良村", "贺岭村", "坝尾村"} <= set(nuoliang)
    assert Region.objects.get(code="530927203200").name == "糯良村"
    for township in Region.objects.filter(level=Region.Level.TOWNSHIP):
        assert township.children.exists(), township
    assert Region.objects.filter(level=Region.Level.GROUP, code__startswith="530927203200").exists()


def test_statuses_follow_age_and_exclusions_carry_their_reason(seeded):
    reference = datetime.date(2023, 7, 1)
    for person in Resident.objects.all():
        if person.status == Resident.Status.NOT_ELIGIBLE:
            assert person.age_on(reference) < 16
        if person.status == Resident.Status.EXCLUDED:
            assert person.exclusion
    statuses = set(Resident.objects.values_list("status", flat=True))
    assert {"not_eligible", "enrolled", "excluded", "receiving"} <= statuses


def test_payments_use_the_schedule_tiers_and_proxy_only_qualifying_residents(seeded):
    tiers = {
        s.province_id: {t.amount: t.subsidy for t in s.tiers.all()}
        for s in ContributionSchedule.objects.filter(year=2023)
    }
    personal = Payment.objects.filter(kind=Payment.Kind.PERSONAL).select_related("resident")
    assert personal.exists()
    for payment in personal:
        assert tiers[payment.resident.village_id[:2]][payment.amount] == payment.subsidy
    for payment in Payment.objects.filter(kind=Payment.Kind.PROXY).select_related("resident"):
        schedule = ContributionSchedule.objects.get(
            province_id=payment.resident.village_id[:2], year=2023
        )
        categories = set(
            SpecialGroupMembership.objects.filter(resident=payment.resident).values_list(
                "category", flat=True
            )
        )
        assert categories & set(schedule.qualifying_categories)
    assert len(set(Payment.objects.values_list("channel", flat=True))) >= 5


def test_it_creates_one_user_per_role_who_can_log_in(seeded, client):
    roles = set(User.objects.exclude(role="").values_list("role", flat=True))
    assert roles == set(User.Role.values)
    signed_in = client.post(
        reverse("login"), {"username": "nuoliang_staff", "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.get(reverse("enrollment:resident_list")).status_code == 200
    agent = User.objects.get(username="nuoliang_agent")
    assert agent.scope_codes() == ["530927203200"]


def test_seeding_again_adds_nothing(seeded):
    before = snapshot()
    again = demo_seed(residents=500, seed=99)
    assert not again.created
    assert snapshot() == before


def test_the_demo_leaves_month_end_progress_that_matches_the_payments(seeded):
    cangyuan = VillageProgress.objects.in_region("530927").filter(year=2023)
    assert set(cangyuan.values_list("day", flat=True)) == {
        datetime.date(2023, month, 1) + relativedelta(months=1, days=-1) for month in range(1, 13)
    }
    year_end = cangyuan.filter(day=datetime.date(2023, 12, 31))
    paying = (
        Payment.objects.counted().in_region("530927").for_year(2023)
        .filter(kind__in=["personal", "proxy"]).values("resident_id").distinct().count()
    )  # fmt: skip
    assert sum(year_end.values_list("paid", flat=True)) == paying > 0


def test_the_demo_keeps_each_countys_mid_year_bulletin_with_its_progress(seeded):
    bulletins = Bulletin.objects.order_by("county_id")

    assert [(b.county_id, b.day, b.number) for b in bulletins] == [
        ("530927", datetime.date(2023, 6, 30), 1), ("622901", datetime.date(2023, 6, 30), 1),
    ]  # fmt: skip
    june = VillageProgress.objects.in_region("530927").filter(day=datetime.date(2023, 6, 30))
    assert bulletin_figures(bulletins[0])["total"]["paid"] == sum(
        june.values_list("paid", flat=True)
    )
