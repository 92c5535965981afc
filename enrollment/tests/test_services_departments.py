"""Monthly department lists: listings gained and lost with history, proxy qualification per
province, exclusions applied and lifted."""

import datetime
import io

import pytest

from enrollment.models import Finding, Resident, SpecialGroupMembership
from enrollment.services.jobs import ImportRefused, department_import
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry

MARCH = datetime.date(2023, 3, 15)
APRIL = datetime.date(2023, 4, 15)


def list_file(people, *, grades=None) -> io.BytesIO:
    header = "公民身份号码,姓名" + (",残疾等级" if grades is not None else "")
    lines = ["低保对象花名册", header]
    for n, person in enumerate(people):
        number, name = (person.id_number, person.name) if hasattr(person, "id_number") else person
        grade = f",{grades[n]}" if grades is not None else ""
        lines.append(f"{number},{name}{grade}")
    data = io.BytesIO(("\n".join(lines) + "\n").encode("gb18030"))
    data.name = "list.csv"
    return data


def run(county, people, *, category="dibao", on=MARCH, grades=None, **kwargs):
    return department_import(
        source=list_file(people, grades=grades), region=county, category=category,
        list_date=on, filename="list.csv", **kwargs,
    )  # fmt: skip


@pytest.fixture
def three(village):
    return [ResidentFactory(village=village) for _ in range(3)]


def test_people_on_the_list_gain_the_category_from_the_list_date(county, three):
    outcome = run(county, three[:2])
    assert outcome.counts["added"] == 2
    listing = SpecialGroupMembership.objects.get(resident=three[0])
    assert (listing.category, listing.department) == ("dibao", "civil_affairs")
    assert (listing.valid_from, listing.list_date, listing.valid_to) == (MARCH, MARCH, None)
    assert AuditEntry.objects.filter(action="membership.add").count() == 2


def test_people_who_drop_off_lose_it_from_the_new_list_date_and_keep_history(county, three):
    run(county, three)
    outcome = run(county, three[1:], on=APRIL)
    assert (outcome.counts["added"], outcome.counts["removed"]) == (0, 1)
    ended = SpecialGroupMembership.objects.get(resident=three[0])
    assert (ended.valid_from, ended.valid_to) == (MARCH, APRIL)
    kept = SpecialGroupMembership.objects.get(resident=three[1])
    assert (kept.valid_to, kept.list_date) == (None, APRIL)


def test_a_person_back_on_a_later_list_gets_a_new_listing(county, three):
    run(county, three)
    run(county, three[1:], on=APRIL)
    run(county, three, on=datetime.date(2023, 5, 15))
    spans = list(
        SpecialGroupMembership.objects.filter(resident=three[0])
        .order_by("valid_from")
        .values_list("valid_from", "valid_to")
    )
    assert spans == [(MARCH, APRIL), (datetime.date(2023, 5, 15), None)]


def test_importing_the_same_list_again_changes_nothing(county, three):
    run(county, three[:2])
    before = (SpecialGroupMembership.objects.count(), AuditEntry.objects.count())
    again = run(county, three[:2])
    assert set(again.counts.values()) == {0}
    assert (SpecialGroupMembership.objects.count(), AuditEntry.objects.count()) == before


def test_an_older_list_imported_late_does_not_end_newer_listings(county, three):
    run(county, three, on=APRIL)
    outcome = run(county, three[:1], on=MARCH)
    assert outcome.counts["removed"] == 0
    assert not SpecialGroupMembership.objects.filter(valid_to__isnull=False).exists()


def test_only_grades_one_and_two_count_as_severely_disabled(county, three):
    outcome = run(county, three, category="disability", grades=["一级", "2", "三级"])
    assert outcome.counts["added"] == 2
    assert outcome.counts["skipped_grade"] == 1
    assert not SpecialGroupMembership.objects.filter(resident=three[2]).exists()


def test_a_disability_list_without_grades_is_refused_whole(county, three):
    with pytest.raises(ImportRefused, match="残疾等级"):
        run(county, three, category="disability")
    assert not SpecialGroupMembership.objects.exists()


def test_yunnan_qualifies_dibao_for_proxy_but_not_the_poverty_alleviated(county, three):
    dibao = run(county, three[:2], category="dibao")
    tuopin = run(county, three[2:], category="tuopin")
    assert dibao.counts["now_qualifying"] == 2
    assert tuopin.counts["now_qualifying"] == 0
    dropped = run(county, three[1:2], category="dibao", on=APRIL)
    assert dropped.counts["no_longer_qualifying"] == 1


def test_gansu_qualifies_all_five_of_its_groups(other_county, far_village):
    people = [ResidentFactory(village=far_village, area="622901") for _ in range(5)]
    counts = [
        run(other_county, [person], category=category).counts["now_qualifying"]
        for person, category in zip(
            people, ["tuopin", "dibao", "tekun", "family_planning", "fanpin"], strict=True
        )
    ]
    assert counts == [1, 1, 1, 1, 0]


def test_someone_on_the_list_but_not_on_file_becomes_a_finding(county, three):
    from enrollment.tests.factories import make_id_number

    stranger = (make_id_number("530927", datetime.date(1966, 6, 6)), "艾倒")
    outcome = run(county, [*three[:1], stranger])
    assert outcome.counts["unknown_person"] == 1
    finding = Finding.objects.get(kind=Finding.Kind.UNKNOWN_PERSON)
    assert (finding.id_number, finding.region_id, finding.resident) == (stranger[0], "530927", None)
    assert run(county, [*three[:1], stranger]).counts["unknown_person"] == 0


def test_an_exclusion_list_excludes_and_dropping_off_restores_eligibility(county, three):
    outcome = run(county, three[:2], category="student")
    assert outcome.counts["added"] == 2
    three[0].refresh_from_db()
    assert (three[0].status, three[0].exclusion) == ("excluded", "student")
    later = run(county, three[1:2], category="student", on=APRIL)
    assert later.counts["removed"] == 1
    three[0].refresh_from_db()
    assert (three[0].status, three[0].exclusion) == ("eligible", "")
    history = AuditEntry.objects.for_object(three[0]).order_by("id")
    assert [e.changes["status"] for e in history] == [
        ["enrolled", "excluded"],
        ["excluded", "eligible"],
    ]


def test_a_dry_run_reports_and_writes_nothing(county, three):
    outcome = run(county, three, dry_run=True)
    assert outcome.counts["added"] == 3 and not outcome.applied
    assert not SpecialGroupMembership.objects.exists() and not AuditEntry.objects.exists()


def test_the_list_only_touches_residents_of_its_county(county, three, far_resident):
    outcome = run(county, [far_resident])
    assert outcome.counts["added"] == 0 and outcome.counts["unknown_person"] == 1
    assert not SpecialGroupMembership.objects.exists()
    far_resident.refresh_from_db()
    assert far_resident.status == Resident.Status.ENROLLED


def test_the_department_command_prints_the_summary_as_json(county, three, tmp_path):
    import json

    from django.core.management import call_command

    path = tmp_path / "list.csv"
    path.write_bytes(list_file(three).getvalue())
    out = io.StringIO()
    call_command(
        "import_department_list", str(path), "--county", "530927", "--category", "dibao",
        "--list-date", "2023-03-15", "--json", stdout=out,
    )  # fmt: skip
    summary = json.loads(out.getvalue())
    assert summary["added"] == 3 and summary["now_qualifying"] == 3
    assert set(summary) >= {
        "rows", "accepted", "rejected", "added", "removed", "unknown_person", "now_qualifying",
        "no_longer_qualifying",
    }  # fmt: skip
