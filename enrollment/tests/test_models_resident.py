import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from conftest import make_group, make_village
from enrollment.models import Resident
from enrollment.tests.factories import ResidentFactory


def test_the_database_refuses_an_id_number_of_the_wrong_shape(village):
    with pytest.raises(IntegrityError), transaction.atomic():
        ResidentFactory(village=village, id_number="53092719800301001x")
    assert not Resident.objects.exists()


def test_the_database_refuses_the_same_id_number_twice(resident):
    with pytest.raises(IntegrityError), transaction.atomic():
        ResidentFactory(village=resident.village, id_number=resident.id_number)
    assert Resident.objects.count() == 1


def test_the_database_refuses_a_group_outside_the_residents_village(township, village):
    elsewhere = make_group(make_village(township, 201, "贺岭村"), 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResidentFactory(village=village, group=elsewhere)
    assert not Resident.objects.exists()


def test_an_excluded_resident_must_carry_the_reason(village):
    with pytest.raises(IntegrityError), transaction.atomic():
        ResidentFactory(village=village, status=Resident.Status.EXCLUDED, exclusion="")
    assert not Resident.objects.exists()


def test_age_and_masked_id_come_from_the_stored_fields(village):
    person = ResidentFactory(village=village, birth_date=datetime.date(1963, 7, 1))
    assert person.age_on(datetime.date(2023, 6, 30)) == 59
    assert person.age_on(datetime.date(2023, 7, 1)) == 60
    assert person.masked_id == person.id_number[:6] + "********" + person.id_number[-4:]


def test_search_finds_a_pasted_full_width_id_number_and_a_name_fragment(resident):
    full_width = resident.id_number[:10].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert list(Resident.objects.search(f"  {full_width} ")) == [resident]
    assert list(Resident.objects.search(resident.name[1:3])) == [resident]
    assert not Resident.objects.search("530927299").exists()


def test_resident_pages_keep_room_for_status_changes_without_index_writes(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'enrollment_resident'")
        (options,) = cursor.fetchone()
    assert "fillfactor=90" in options
