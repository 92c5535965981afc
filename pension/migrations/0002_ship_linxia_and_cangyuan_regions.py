"""Ships the two counties of the 2023 notices with their real townships.

Villages and villager groups come from each county's own list (the regions import) or, for the
demo, from seed_demo.
"""

from django.db import migrations

REGIONS = [
    ("62", "甘肃省", "province"),
    ("6229", "临夏回族自治州", "prefecture"),
    ("622901", "临夏市", "county"),
    ("622901001", "城南街道", "township"),
    ("622901002", "城北街道", "township"),
    ("622901003", "东关街道", "township"),
    ("622901004", "西关街道", "township"),
    ("622901005", "八坊街道", "township"),
    ("622901006", "红园街道", "township"),
    ("622901007", "东区街道", "township"),
    ("622901100", "城郊镇", "township"),
    ("622901101", "枹罕镇", "township"),
    ("622901102", "南龙镇", "township"),
    ("622901103", "折桥镇", "township"),
    ("53", "云南省", "province"),
    ("5309", "临沧市", "prefecture"),
    ("530927", "沧源佤族自治县", "county"),
    ("530927101", "勐董镇", "township"),
    ("530927102", "岩帅镇", "township"),
    ("530927103", "勐省镇", "township"),
    ("530927104", "芒卡镇", "township"),
    ("530927202", "单甲乡", "township"),
    ("530927203", "糯良乡", "township"),
    ("530927204", "勐来乡", "township"),
    ("530927205", "勐角傣族彝族拉祜族乡", "township"),
    ("530927206", "班洪乡", "township"),
    ("530927207", "班老乡", "township"),
    ("530927401", "勐省农场", "township"),
]

PARENT_LENGTH = {4: 2, 6: 4, 9: 6}


def forward(apps, schema_editor):
    Region = apps.get_model("pension", "Region")
    for code, name, level in REGIONS:
        parent = code[: PARENT_LENGTH[len(code)]] if len(code) in PARENT_LENGTH else None
        Region.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "parent_id": parent}
        )


def backward(apps, schema_editor):
    # Other rows may point at these regions by now; leaving them is the safe reverse.
    pass


class Migration(migrations.Migration):
    dependencies = [("pension", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
