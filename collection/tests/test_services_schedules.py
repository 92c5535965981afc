from decimal import Decimal

import pytest

from collection.models import ContributionSchedule
from collection.services import TierSpec, schedule_validate_tiers

D = Decimal


def tiers(*pairs):
    return [TierSpec(amount=D(a), subsidy=D(s)) for a, s in pairs]


def test_it_accepts_the_national_floor():
    assert schedule_validate_tiers(tiers=tiers((200, 30), (300, 30), (500, 60), (1000, 80))) == []


def test_it_rejects_a_lowest_tier_subsidy_below_30():
    errors = schedule_validate_tiers(tiers=tiers((200, 29.99), (300, 30), (500, 60)))
    assert len(errors) == 1
    assert "最低档次 200 元" in errors[0] and "不得低于 30 元" in errors[0]


def test_it_rejects_a_tier_of_500_or_more_with_a_subsidy_below_60():
    errors = schedule_validate_tiers(tiers=tiers((300, 30), (500, 59), (600, 60)))
    assert errors == ["500 元档次的政府补贴为 59 元，500 元及以上档次不得低于 60 元"]


def test_it_rejects_a_subsidy_that_falls_as_the_tier_rises():
    errors = schedule_validate_tiers(tiers=tiers((300, 30), (500, 80), (600, 70)))
    assert len(errors) == 1
    assert "补贴不得随档次提高而降低" in errors[0]
    assert "600 元档次" in errors[0]


def test_it_rejects_a_duplicated_tier_and_an_empty_list():
    assert "缴费档次 300 元重复" in schedule_validate_tiers(tiers=tiers((300, 30), (300, 30)))
    assert schedule_validate_tiers(tiers=[]) == ["缴费方案至少需要一个缴费档次"]


def test_gansu_2023_ships_the_14_tiers_and_five_proxy_groups_of_the_linxia_plan(db):
    schedule = ContributionSchedule.objects.get(province_id="62", year=2023)
    amounts = [int(t.amount) for t in schedule.tiers.all()]
    assert amounts == [300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 2500, 3000, 4000, 5000]
    assert not schedule.tiers.filter(government_only=True).exists()
    assert sorted(schedule.qualifying_categories) == sorted(
        ["tuopin", "dibao", "tekun", "disability", "family_planning"]
    )
    assert schedule.proxy_amount == D("100.00")
    assert str(schedule.proxy_due) == "2023-05-31"
    assert str(schedule.window_end) == "2023-09-30"
    assert schedule.subsidy_status == ContributionSchedule.SubsidyStatus.PENDING


def test_yunnan_2023_ships_12_tiers_plus_the_government_only_100_and_four_milestones(db):
    schedule = ContributionSchedule.objects.get(province_id="53", year=2023)
    personal = [int(t.amount) for t in schedule.tiers.filter(government_only=False)]
    assert personal == [200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 3000]
    assert [int(t.amount) for t in schedule.tiers.filter(government_only=True)] == [100]
    assert sorted(schedule.qualifying_categories) == ["dibao", "fanpin", "tekun"]
    milestones = [(str(m.due_on), int(m.rate)) for m in schedule.milestones.all()]
    assert milestones == [
        ("2023-06-30", 60), ("2023-08-31", 90), ("2023-09-30", 95), ("2023-10-31", 98),
    ]  # fmt: skip


@pytest.mark.parametrize("province", ["53", "62"])
def test_the_shipped_subsidies_pass_the_schedule_rules(db, province):
    schedule = ContributionSchedule.objects.get(province_id=province, year=2023)
    specs = [TierSpec(t.amount, t.subsidy, t.government_only) for t in schedule.tiers.all()]
    assert schedule_validate_tiers(tiers=specs) == []
