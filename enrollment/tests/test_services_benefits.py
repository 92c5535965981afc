import datetime

from enrollment.models import Finding, Resident
from enrollment.services.benefits import benefits_due_scan
from enrollment.tests.factories import ResidentFactory

ON = datetime.date(2023, 8, 1)


def test_a_resident_of_60_with_15_years_not_receiving_is_listed_and_flagged(county, village):
    due = ResidentFactory(
        village=village, birth_date=datetime.date(1963, 8, 1), contribution_years=15
    )
    ResidentFactory(village=village, birth_date=datetime.date(1963, 8, 2), contribution_years=15)
    ResidentFactory(village=village, birth_date=datetime.date(1950, 1, 1), contribution_years=14)
    exempt = ResidentFactory(
        village=village, birth_date=datetime.date(1950, 1, 1), transitional_exemption=True
    )
    ResidentFactory(
        village=village, birth_date=datetime.date(1950, 1, 1), contribution_years=20,
        status=Resident.Status.RECEIVING,
    )  # fmt: skip
    ResidentFactory(
        village=village, birth_date=datetime.date(1950, 1, 1), contribution_years=20,
        other_basic_pension=True,
    )  # fmt: skip
    assert set(Resident.objects.benefits_due(ON)) == {due, exempt}
    assert benefits_due_scan(region=county, on=ON) == 2
    assert set(Finding.objects.values_list("resident", flat=True)) == {due.pk, exempt.pk}


def test_scanning_twice_raises_nothing_new(county, village):
    ResidentFactory(village=village, birth_date=datetime.date(1950, 1, 1), contribution_years=16)
    assert benefits_due_scan(region=county, on=ON) == 1
    assert benefits_due_scan(region=county, on=ON) == 0
    assert Finding.objects.count() == 1


def test_the_monthly_task_scans_every_county(county, village, far_village):
    from enrollment.tasks import scan_benefits_due

    ResidentFactory(village=village, birth_date=datetime.date(1950, 1, 1), contribution_years=16)
    ResidentFactory(
        village=far_village, area="622901", birth_date=datetime.date(1950, 1, 1),
        contribution_years=16,
    )  # fmt: skip
    assert scan_benefits_due.delay().get() == 2
