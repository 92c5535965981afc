"""The township worklist of findings, bulk resolution, export, sealing and cancellation."""

import io

import openpyxl
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from enrollment.models import Finding, Resident
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, User


def finding_for(resident, kind=Finding.Kind.NO_REGISTRATION):
    return Finding.objects.create(
        kind=kind, id_number=resident.id_number, name=resident.name, resident=resident,
        region=resident.village, detail="在册但本次公安户籍数据中无此人", source="户籍比对",
    )  # fmt: skip


def test_the_worklist_shows_open_findings_of_the_township_only(
    client, township_user, resident, other_village
):
    mine = finding_for(resident)
    theirs = finding_for(ResidentFactory(village=other_village))
    client.force_login(township_user)
    response = client.get(reverse("enrollment:finding_list"))
    assert list(response.context["findings"]) == [mine]
    assert theirs.id_number not in response.content.decode()


def test_the_worklist_filters_by_kind_and_runs_a_fixed_number_of_queries(
    client, township_user, village, django_assert_max_num_queries
):
    for _ in range(20):
        finding_for(ResidentFactory(village=village))
    finding_for(ResidentFactory(village=village), kind=Finding.Kind.DECEASED)
    client.force_login(township_user)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("enrollment:finding_list"), {"kind": "deceased"})
    assert len(response.context["findings"]) == 1


def test_bulk_resolution_closes_the_chosen_findings_with_a_note_and_audit(
    client, township_user, village
):
    chosen = [finding_for(ResidentFactory(village=village)) for _ in range(2)]
    left = finding_for(ResidentFactory(village=village))
    client.force_login(township_user)
    client.post(
        reverse("enrollment:finding_resolve"),
        {"ids": [f.pk for f in chosen], "note": "已入户核实，系外出务工"},
    )
    assert set(Finding.objects.filter(status="resolved")) == set(chosen)
    resolved = Finding.objects.get(pk=chosen[0].pk)
    assert (resolved.resolved_by, resolved.resolution_note) == (
        township_user,
        "已入户核实，系外出务工",
    )
    assert Finding.objects.get(pk=left.pk).status == "open"
    assert AuditEntry.objects.filter(action="finding.resolve").count() == 2


def test_resolution_without_a_note_changes_nothing(client, township_user, resident):
    finding = finding_for(resident)
    client.force_login(township_user)
    client.post(reverse("enrollment:finding_resolve"), {"ids": [finding.pk], "note": ""})
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_findings_of_another_township_cannot_be_resolved(client, neighbour_user, resident):
    finding = finding_for(resident)
    client.force_login(neighbour_user)
    client.post(reverse("enrollment:finding_resolve"), {"ids": [finding.pk], "note": "越权"})
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_the_export_holds_the_filtered_findings_in_scope(
    client, township_user, resident, other_village
):
    finding_for(resident)
    finding_for(ResidentFactory(village=other_village))
    client.force_login(township_user)
    response = client.get(reverse("enrollment:finding_export"), {"status": "open"})
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[1][0] == "疑点类型"
    assert [row[3] for row in rows[2:]] == [resident.id_number]


def test_the_export_with_no_status_asked_holds_the_open_findings_the_page_shows(
    client, township_user, county_user, resident
):
    finding_for(resident)
    Finding.objects.create(
        kind=Finding.Kind.DECEASED, id_number=resident.id_number, name=resident.name,
        resident=resident, region=resident.village, status=Finding.Status.RESOLVED,
        resolved_by=county_user, resolved_at=timezone.now(), resolution_note="已核实",
    )  # fmt: skip
    client.force_login(township_user)

    page = client.get(reverse("enrollment:finding_list"))
    response = client.get(reverse("enrollment:finding_export"))

    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)[2:]
    assert [row[0] for row in rows] == [f.get_kind_display() for f in page.context["findings"]]
    assert [row[0] for row in rows] == ["本地无户籍"]


def test_the_worklist_sorts_by_name_both_ways_and_the_export_follows(
    client, township_user, village
):
    for name in ("岩丙", "岩甲", "岩乙"):
        finding_for(ResidentFactory(village=village, name=name))
    client.force_login(township_user)

    ascending = client.get(reverse("enrollment:finding_list"), {"sort": "name"})
    descending = client.get(reverse("enrollment:finding_list"), {"sort": "-name"})
    export = client.get(reverse("enrollment:finding_export"), {"sort": "-name"})

    assert [f.name for f in ascending.context["findings"]] == sorted(["岩丙", "岩甲", "岩乙"])
    assert [f.name for f in descending.context["findings"]] == sorted(
        ["岩丙", "岩甲", "岩乙"], reverse=True
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.values)[2:]
    assert [row[2] for row in rows] == [f.name for f in descending.context["findings"]]


def test_the_worklist_is_newest_first_unless_sorted_and_pages_never_repeat_a_finding(
    client, township_user, village
):
    findings = [finding_for(ResidentFactory(village=village)) for _ in range(60)]
    Finding.objects.update(created_at=timezone.now())  # all found at one moment
    client.force_login(township_user)

    pages = [
        client.get(reverse("enrollment:finding_list"), {"sort": "kind", "page": n}) for n in (1, 2)
    ]
    newest = client.get(reverse("enrollment:finding_list"))

    shown = [f.pk for page in pages for f in page.context["findings"]]
    assert sorted(shown) == sorted(f.pk for f in findings)
    assert newest.context["findings"][0] == findings[-1]


def test_sealing_sets_a_resident_aside_and_unsealing_restores_the_status(
    client, township_user, resident
):
    client.force_login(township_user)
    url = reverse("enrollment:resident_seal", args=[resident.id_number])
    client.post(url, {"reason": "married_out", "note": "嫁往耿马"})
    resident.refresh_from_db()
    assert (resident.status, resident.status_reason) == ("sealed", "外嫁未迁户口：嫁往耿马")
    client.post(reverse("enrollment:resident_unseal", args=[resident.id_number]), {"note": ""})
    resident.refresh_from_db()
    assert resident.status == Resident.Status.ENROLLED
    statuses = [e.changes["status"] for e in AuditEntry.objects.for_object(resident).order_by("id")]
    assert statuses == [["enrolled", "sealed"], ["sealed", "enrolled"]]


def test_cancelling_a_deceased_resident_closes_the_deceased_finding(client, township_user, village):
    person = ResidentFactory(village=village, status=Resident.Status.DECEASED)
    finding = finding_for(person, kind=Finding.Kind.DECEASED)
    client.force_login(township_user)
    client.post(reverse("enrollment:resident_cancel", args=[person.id_number]), {"note": "已核实"})
    person.refresh_from_db()
    assert person.status == Resident.Status.CANCELLED
    assert Finding.objects.get(pk=finding.pk).status == "resolved"


def test_a_living_resident_cannot_be_cancelled(client, township_user, resident):
    client.force_login(township_user)
    response = client.post(
        reverse("enrollment:resident_cancel", args=[resident.id_number]), {}, follow=True
    )
    assert "只有“死亡待注销”的人员可以注销" in response.content.decode()
    resident.refresh_from_db()
    assert resident.status == Resident.Status.ENROLLED


def test_resident_actions_outside_the_region_answer_404_and_auditors_get_403(
    client, neighbour_user, county, resident
):
    url = reverse("enrollment:resident_seal", args=[resident.id_number])
    client.force_login(neighbour_user)
    assert client.post(url, {"reason": "lost_contact"}).status_code == 404
    client.force_login(make_user("audit", User.Role.AUDITOR, county))
    assert client.post(url, {"reason": "lost_contact"}).status_code == 403
    resident.refresh_from_db()
    assert resident.status == Resident.Status.ENROLLED


def test_the_benefits_due_page_lists_residents_in_scope(
    client, township_user, village, other_village
):
    import datetime

    due = ResidentFactory(
        village=village, birth_date=datetime.date(1950, 1, 1), contribution_years=15
    )
    ResidentFactory(
        village=other_village, birth_date=datetime.date(1950, 1, 1), contribution_years=15
    )
    ResidentFactory(village=village, birth_date=datetime.date(1990, 1, 1), contribution_years=15)
    client.force_login(township_user)
    response = client.get(reverse("enrollment:benefits_due"))
    assert list(response.context["residents"]) == [due]


def test_the_worklist_finds_a_pasted_full_width_id_number(client, township_user, resident):
    finding_for(resident)
    pasted = resident.id_number[:8].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    client.force_login(township_user)
    response = client.get(reverse("enrollment:finding_list"), {"q": f" {pasted} "})
    assert [f.resident for f in response.context["findings"]] == [resident]
