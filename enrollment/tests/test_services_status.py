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
