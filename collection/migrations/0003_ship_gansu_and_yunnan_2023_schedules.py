"""Ships the 2023 contribution schedules of Gansu (Linxia plan) and Yunnan (Cangyuan notice).

Neither document gives the government subsidy per tier, so the national floor is shipped
(30 yuan for the lowest tier, 60 from 500 up, never falling) and marked 待核定 for the county to
edit in the admin.
"""

import datetime
from decimal import Decimal

from django.db import migrations

SCHEDULES = [
    {
        "province": "62",
        "year": 2023,
        "tiers": [300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 2500, 3000, 4000, 5000],
        "government_only": [],
        "categories": ["tuopin", "dibao", "tekun", "disability", "family_planning"],
        "window": (datetime.date(2023, 2, 1), datetime.date(2023, 9, 30)),
        "proxy_due": datetime.date(2023, 5, 31),
        "milestones": [(datetime.date(2023, 9, 30), Decimal("100"), "9月30日前完成全年征缴任务")],
        "document": "临夏市2023年城乡居民基本养老保险参保征缴工作方案（临市府办便发〔2023〕22号）",
    },
    {
        "province": "53",
        "year": 2023,
        "tiers": [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 3000],
        "government_only": [100],
        "categories": ["dibao", "tekun", "fanpin"],
        "window": (datetime.date(2023, 3, 1), datetime.date(2023, 12, 31)),
        "proxy_due": None,
        "milestones": [
            (datetime.date(2023, 6, 30), Decimal("60"), "征缴进度不低于60%"),
            (datetime.date(2023, 8, 31), Decimal("90"), "征缴进度不低于90%"),
            (datetime.date(2023, 9, 30), Decimal("95"), "征缴进度不低于95%"),
            (datetime.date(2023, 10, 31), Decimal("98"), "征缴进度不低于98%"),
        ],
        "document": "沧源佤族自治县2023年度城乡居民基本养老保险征缴工作通知（2023年3月17日）",
    },
]


def national_floor_subsidy(amount: int) -> Decimal:
    return Decimal("60.00") if amount >= 500 else Decimal("30.00")


def forward(apps, schema_editor):
    Schedule = apps.get_model("collection", "ContributionSchedule")
    Tier = apps.get_model("collection", "Tier")
    Milestone = apps.get_model("collection", "Milestone")
    for spec in SCHEDULES:
        schedule, created = Schedule.objects.get_or_create(
            province_id=spec["province"],
            year=spec["year"],
            defaults={
                "proxy_amount": Decimal("100.00"),
                "qualifying_categories": spec["categories"],
                "window_start": spec["window"][0],
                "window_end": spec["window"][1],
                "proxy_due": spec["proxy_due"],
                "subsidy_status": "pending",
                "source_document": spec["document"],
            },
        )
        if not created:
            continue
        Tier.objects.bulk_create(
            Tier(
                schedule=schedule,
                amount=Decimal(amount),
                subsidy=national_floor_subsidy(amount),
                government_only=amount in spec["government_only"],
            )
            for amount in spec["tiers"]
        )
        Milestone.objects.bulk_create(
            Milestone(schedule=schedule, due_on=due_on, rate=rate, label=label)
            for due_on, rate, label in spec["milestones"]
        )


def backward(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0002_payment_append_only_trigger"),
        ("pension", "0002_ship_linxia_and_cangyuan_regions"),
    ]

    operations = [migrations.RunPython(forward, backward)]
