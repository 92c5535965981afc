"""The staff API's resident and finding lists: the pages' rows for the same query string, the
user's region only, a fixed number of queries a page, and bad filters refused by name."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment.models import Finding, Resident
from enrollment.tests.factories import ResidentFactory

RESIDENTS = reverse("api_staff_residents")
FINDINGS = reverse("api_staff_findings")


def finding_for(resident, kind=Finding.Kind.NO_REGISTRATION, **extra):
    return Finding.objects.create(
        kind=kind, id_number=resident.id_number, name=resident.name, resident=resident,
        region=resident.village, detail="在册但本次公安户籍数据中无此人", source="户籍比对",
        **extra,
    )  # fmt: skip


def test_the_resident_list_answers_what_the_page_shows_for_the_same_query(
    client, township_user, village, other_village
):
    for name in ("张三", "李四", "王五"):
        ResidentFactory(village=village, name=name)
    ResidentFactory(village=other_village, name="赵六")
    client.force_login(township_user)
    query = {"sort": "-name", "status": Resident.Status.ENROLLED}

    page = client.get(reverse("enrollment:resident_list"), query)
    answer = client.get(RESIDENTS, query).json()

    assert [r["id_number"] for r in answer["results"]] == [
        r.id_number for r in page.context["residents"]
    ]
    assert answer["count"] == 3 and "赵六" not in {r["name"] for r in answer["results"]}
    first = answer["results"][0]
    assert first["name"] == "王五" and first["village_code"] == village.code
    assert first["status_display"] == "已参保" and first["township_name"] == village.parent.name


def test_the_resident_list_costs_the_same_queries_for_three_rows_as_for_thirty(
    client, township_user, village
):
    client.force_login(township_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(RESIDENTS).status_code == 200
        return len(captured)

    ResidentFactory.create_batch(3, village=village)
    few = queries()
    ResidentFactory.create_batch(27, village=village)

    assert queries() == few


def test_a_filter_the_list_cannot_take_is_refused_naming_it(client, township_user):
    client.force_login(township_user)

    response = client.get(RESIDENTS, {"status": "nonsense", "sort": "phone"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["details"]) == {"status", "sort"}
    assert "〈status〉" in error["message"] and "〈sort〉" in error["message"]


def test_a_visitor_who_is_not_signed_in_is_asked_to_sign_in(client, resident):
    response = client.get(RESIDENTS)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "请先登录系统"


def test_the_finding_list_shows_open_findings_unless_asked_and_never_a_neighbours(
    client, township_user, resident, other_village, county_user
):
    open_one = finding_for(resident)
    closed = finding_for(
        resident, kind=Finding.Kind.DECEASED, status=Finding.Status.RESOLVED,
        resolved_by=county_user, resolved_at=timezone.now(), resolution_note="已核实",
    )  # fmt: skip
    finding_for(ResidentFactory(village=other_village))
    client.force_login(township_user)

    by_default = client.get(FINDINGS).json()
    resolved = client.get(FINDINGS, {"status": "resolved"}).json()
    page = client.get(reverse("enrollment:finding_list"))

    assert [f["id"] for f in by_default["results"]] == [f.pk for f in page.context["findings"]]
    assert [f["id"] for f in by_default["results"]] == [open_one.pk]
    assert [f["id"] for f in resolved["results"]] == [closed.pk]
    assert by_default["results"][0]["kind_display"] == "本地无户籍"


def test_the_finding_list_sorts_as_the_worklist_does(client, township_user, village):
    for name in ("岩丙", "岩甲", "岩乙"):
        finding_for(ResidentFactory(village=village, name=name))
    client.force_login(township_user)

    page = client.get(reverse("enrollment:finding_list"), {"sort": "-name"})
    answer = client.get(FINDINGS, {"sort": "-name"}).json()

    assert [f["id"] for f in answer["results"]] == [f.pk for f in page.context["findings"]]
    assert [f["name"] for f in answer["results"]] == sorted(["岩丙", "岩甲", "岩乙"], reverse=True)
