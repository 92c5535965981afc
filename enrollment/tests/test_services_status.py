import datetime

import pytest

from enrollment.models import Resident
from enrollment.services import ResidentStatusConflict, resident_change_status
from pension.models import AuditEntry


def test_changing_a_status_records_who_when_and_the_old_and_new_values(resident, township_user):
    resident_change_status(
        resident=resident,
        new_status=Resident.Status.SEALED,
        reason="外嫁未迁户口",
        actor=township_user,
        on=datetime.date(2023, 4, 2),
    )
    resident.refresh_from_db()
    assert (resident.status, resident.status_reason) == ("sealed", "外嫁未迁户口")
    assert resident.status_date == datetime.date(2023, 4, 2)
    entry = AuditEntry.objects.for_object(resident).get()
    assert entry.actor == township_user
    assert entry.changes == {"status": ["enrolled", "sealed"]}
    assert entry.region_code == resident.village_id


def test_a_change_based_on_a_stale_status_writes_nothing(resident, township_user):
    stale = Resident.objects.get(pk=resident.pk)
    resident_change_status(
        resident=resident, new_status="sealed", reason="失联", actor=township_user
    )
    with pytest.raises(ResidentStatusConflict):
        resident_change_status(
            resident=stale, new_status="cancelled", reason="重复", actor=township_user
        )
    resident.refresh_from_db()
    assert resident.status == "sealed"
    assert AuditEntry.objects.for_object(resident).count() == 1


def test_excluding_a_resident_requires_a_reason(resident, township_user):
    with pytest.raises(ValueError, match="原因"):
        resident_change_status(
            resident=resident, new_status="excluded", reason="", actor=township_user
        )
    resident.refresh_from_db()
    assert resident.status == "enrolled"
    assert not AuditEntry.objects.exists()


def _number(area: str, birth: str, order: str = "123") -> str:
    from pension.idnumber import check_digit

    return f"{area}{birth}{order}" + check_digit(f"{area}{birth}{order}")


def test_registering_derives_sex_and_birth_date_from_the_id_number(village, township_user):
    from enrollment.services import resident_register

    number = _number("530927", "19900214", "124")  # even 17th digit: female
    person = resident_register(
        id_number=f" {number.lower()} ",
        name=" 叶嘎 ",
        village=village,
        actor=township_user,
        on=datetime.date(2023, 3, 1),
    )
    assert (person.id_number, person.name) == (number, "叶嘎")
    assert (person.sex, person.birth_date) == ("F", datetime.date(1990, 2, 14))
    assert person.status == Resident.Status.ELIGIBLE
    assert AuditEntry.objects.for_object(person).get().action == "resident.register"


def test_a_child_is_registered_as_not_yet_eligible_until_16(village, township_user):
    from enrollment.services import resident_register

    person = resident_register(
        id_number=_number("530927", "20070302"),
        name="岩块",
        village=village,
        actor=township_user,
        on=datetime.date(2023, 3, 1),
    )
    assert person.status == Resident.Status.NOT_ELIGIBLE


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("530927199002141239", "校验位错误"),
        ("530927199902301234", "出生日期无效"),
        ("53092719900214", "格式错误"),
    ],
)
def test_an_invalid_id_number_is_refused_and_nothing_is_written(
    village, township_user, raw, message
):
    from enrollment.services import ResidentRejected, resident_register

    if message == "校验位错误":
        good = _number("530927", "19900214", "123")
        raw = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ResidentRejected, match=message):
        resident_register(id_number=raw, name="岩门", village=village, actor=township_user)
    assert not Resident.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_same_person_cannot_be_registered_twice(resident, township_user):
    from enrollment.services import ResidentRejected, resident_register

    with pytest.raises(ResidentRejected, match="已在册"):
        resident_register(
            id_number=resident.id_number, name="重复", village=resident.village, actor=None
        )
    assert Resident.objects.count() == 1
