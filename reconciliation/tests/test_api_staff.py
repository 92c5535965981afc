"""The staff API's discrepancy list: open cases of the user's region as the worklist shows them,
a township outside the region refused, and a fixed number of queries a page."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment.tests.factories import ResidentFactory
from reconciliation.models import Discrepancy
from reconciliation.tests.factories_work import make_discrepancy, tax_not_posted

DISCREPANCIES = reverse("api_staff_discrepancies")


def test_the_discrepancy_list_answers_what_the_worklist_shows(
    client, township_user, county, resident, other_village
):
    tax_not_posted(county, resident, voucher_no="TX-1")
    closed = tax_not_posted(county, resident, voucher_no="TX-2")
    Discrepancy.objects.filter(pk=closed.pk).update(status=Discrepancy.Status.CLEARED)
    tax_not_posted(county, ResidentFactory(village=other_village), voucher_no="TX-3")
    client.force_login(township_user)

    page = client.get(reverse("reconciliation:discrepancy_list"))
    answer = client.get(DISCREPANCIES).json()

    assert [d["id"] for d in answer["results"]] == [d.pk for d in page.context["discrepancies"]]
    assert [d["voucher_no"] for d in answer["results"]] == ["TX-1"]
    row = answer["results"][0]
    assert row["township_name"] == resident.village.parent.name and row["month"] == "2023-05-01"
    assert row["category_display"] == "税务已征收、系统未入账"


def test_the_discrepancy_list_sorts_as_the_worklist_does(client, county_user, county, resident):
    for name in ("岩丙", "岩甲", "岩乙"):
        make_discrepancy(county, Discrepancy.Category.AMOUNT_DIFFERS, resident=resident, name=name)
    client.force_login(county_user)

    page = client.get(reverse("reconciliation:discrepancy_list"), {"sort": "-name"})
    answer = client.get(DISCREPANCIES, {"sort": "-name"}).json()

    assert [d["id"] for d in answer["results"]] == [d.pk for d in page.context["discrepancies"]]
    assert [d["name"] for d in answer["results"]] == sorted(["岩丙", "岩甲", "岩乙"], reverse=True)


def test_a_township_outside_the_users_region_is_refused(
    client, township_user, county, other_township
):
    client.force_login(township_user)

    response = client.get(DISCREPANCIES, {"township": other_township.code})

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"township"}


def test_the_discrepancy_list_costs_the_same_queries_for_three_rows_as_for_thirty(
    client, county_user, county, village
):
    client.force_login(county_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(DISCREPANCIES).status_code == 200
        return len(captured)

    for _ in range(3):
        tax_not_posted(county, ResidentFactory(village=village))
    few = queries()
    for _ in range(27):
        tax_not_posted(county, ResidentFactory(village=village))

    assert queries() == few
