"""The finding and sealing services hold their own permission and region rules, so a command or
an API that calls them gets the same answer as the page."""

import pytest

from conftest import make_user
from enrollment.models import Finding, Resident
from enrollment.services.findings import FindingError, findings_resolve, resident_seal
from pension.models import User


def test_sealing_by_staff_of_another_township_is_refused_and_writes_nothing(
    neighbour_user, resident
):
    with pytest.raises(FindingError, match="不在您的辖区内"):
        resident_seal(resident=resident, reason="lost_contact", actor=neighbour_user)
    resident.refresh_from_db()
    assert resident.status == Resident.Status.ENROLLED


def test_an_auditor_cannot_seal(county, resident):
    auditor = make_user("audit", User.Role.AUDITOR, county)
    with pytest.raises(FindingError, match="无权"):
        resident_seal(resident=resident, reason="lost_contact", actor=auditor)
    resident.refresh_from_db()
    assert resident.status == Resident.Status.ENROLLED


def test_bulk_resolution_ignores_findings_outside_the_actors_region(neighbour_user, resident):
    finding = Finding.objects.create(
        kind=Finding.Kind.MOVED_OUT, id_number=resident.id_number, name=resident.name,
        resident=resident, region=resident.village,
    )  # fmt: skip
    closed = findings_resolve(findings=Finding.objects.all(), note="越权", actor=neighbour_user)
    assert closed == 0
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.OPEN
