import pytest
from django.db import IntegrityError, connection, transaction

from pension.models import Region


def test_it_ships_both_counties_with_their_real_townships(db):
    linxia = Region.objects.filter(parent_id="622901").values_list("code", "name")
    cangyuan = Region.objects.filter(parent_id="530927").values_list("code", "name")
    assert ("622901005", "八坊街道") in linxia
    assert ("622901103", "折桥镇") in linxia
    assert len(linxia) == 11
    assert ("530927203", "糯良乡") in cangyuan
    assert ("530927401", "勐省农场") in cangyuan
    assert len(cangyuan) == 11
    assert Region.objects.get(code="530927").parent.parent.name == "云南省"


@pytest.mark.parametrize(
    ("code", "level"),
    [("53092720", "township"), ("5309272032001", "village"), ("5399", "county")],
)
def test_it_refuses_a_code_whose_length_does_not_match_its_level(db, code, level):
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code=code, name="错误", level=level)
    assert not Region.objects.filter(code=code).exists()


def test_it_refuses_a_child_whose_code_does_not_extend_its_parent(township):
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="530927204299", name="错挂村", level="village", parent=township)
    assert not Region.objects.filter(code="530927204299").exists()


def test_a_code_prefix_selects_a_subtree(village, other_village):
    codes = set(Region.objects.in_region("530927203").values_list("code", flat=True))
    assert village.code in codes
    assert other_village.code not in codes
    assert "530927203" in codes


def test_the_level_follows_from_the_code_length():
    assert Region.level_for_code("530927203200001") == Region.Level.GROUP
    assert Region.level_for_code("530927203") == Region.Level.TOWNSHIP
    assert Region.level_for_code("5309272") is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index plans are PostgreSQL's")
def test_the_resident_region_prefix_is_served_by_an_index(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'enrollment_resident' "
            "AND indexdef LIKE '%%village_id varchar_pattern_ops%%'"
        )
        assert cursor.fetchall(), "village_id needs a pattern index for county prefix scans"
