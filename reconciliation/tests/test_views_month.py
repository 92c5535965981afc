import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from conftest import make_user
from pension.models import User
from reconciliation.models import ReconciliationRun
from reconciliation.selectors import last_month
from reconciliation.tests.factories_work import MAY, make_run, make_total, tax_not_posted

MONTH = reverse("reconciliation:month")
RUN = reverse("reconciliation:run")


def sheet(county, month="2023-05"):
    return reverse("reconciliation:month_sheet", args=[county.code, month])


@pytest.fixture
def auditor(county):
    return make_user("cangyuan_audit", User.Role.AUDITOR, county)


@pytest.fixture
def run(county, township, other_township, county_user):
    run = make_run(county, run_by=county_user)
    make_total(run, township)
    make_total(run, other_township, system_count=1, system_sum=Decimal("300.00"), discrepancies=1)
    return run


def row_of(page: str, code: str) -> str:
    match = re.search(rf'<tr class="([^"]*)" data-testid="row-{code}"', page)
    assert match, f"no row for {code}"
    return match.group(1)


# --- region scope ---------------------------------------------------------------------------------


def test_another_countys_month_is_not_found(client, stranger, county, run):
    client.force_login(stranger)

    assert client.get(MONTH, {"county": county.code, "month": "2023-05"}).status_code == 404
    assert client.get(sheet(county)).status_code == 404


def test_another_countys_run_button_is_not_found_and_runs_nothing(client, stranger, county):
    client.force_login(stranger)

    assert client.post(RUN, {"county": county.code, "month": "2023-05"}).status_code == 404
    assert not ReconciliationRun.objects.exists()


def test_the_stranger_lands_on_their_own_county(client, stranger, other_county, run):
    client.force_login(stranger)

    response = client.get(MONTH, {"month": "2023-05"})

    assert response.status_code == 200
    assert response.context["county"] == other_county
    assert response.context["table"].run is None


def test_township_staff_see_only_their_townships_row(client, township_user, run, township):
    client.force_login(township_user)

    response = client.get(MONTH, {"month": "2023-05"})

    rows = response.context["table"].rows
    assert [row.code for row in rows] == [township.code]
    page = response.content.decode()
    assert "糯良乡" in page and "勐来乡" not in page
    assert 'data-testid="download-month"' in page


def test_township_staff_download_only_their_townships_row(client, township_user, run, county):
    client.force_login(township_user)

    rows = list(openpyxl.load_workbook(io.BytesIO(client.get(sheet(county)).content)).active.values)

    assert [row[0] for row in rows[2:]] == ["糯良乡", "合计"]


# --- the table ------------------------------------------------------------------------------------


def test_the_month_table_highlights_the_township_whose_ledgers_disagree(
    client, county_user, run, township, other_township
):
    client.force_login(county_user)

    response = client.get(MONTH, {"county": "530927", "month": "2023-05"})

    page = response.content.decode()
    assert "table-danger" not in row_of(page, township.code)
    assert "table-danger" in row_of(page, other_township.code)
    assert "1 个乡镇三方不一致" in page
    assert 'title="与税务相差 -300.00 元"' in page
    assert response.context["table"].total.system_sum == Decimal("900.00")


def test_the_page_lists_the_months_runs_with_the_current_one_marked(
    client, county_user, county, township, run
):
    older = ReconciliationRun.objects.create(
        county=county, month=MAY, status=ReconciliationRun.Status.DONE
    )
    make_total(older, township, matched=1)
    client.force_login(county_user)

    response = client.get(MONTH, {"month": "2023-05"})

    runs = response.context["table"].runs
    assert {r.pk for r in runs} == {run.pk, older.pk}
    assert response.context["table"].run == run
    assert "当前结果" in response.content.decode()


def test_the_summary_boxes_count_open_cases_per_category(
    client, county_user, county, resident, run
):
    tax_not_posted(county, resident)
    client.force_login(county_user)

    response = client.get(MONTH, {"month": "2023-05"})

    counts = {value: n for value, _, n in response.context["table"].open_counts}
    assert counts["tax_not_posted"] == 1 and counts["duplicate"] == 0
    page = response.content.decode()
    assert "category=tax_not_posted&status=open" in page


def test_the_page_opens_on_the_countys_latest_reconciled_month(client, county_user, run):
    client.force_login(county_user)

    response = client.get(MONTH)

    assert response.context["month"] == MAY
    assert 'data-testid="month-table"' in response.content.decode()


def test_a_county_never_reconciled_opens_on_last_month(client, county_user):
    client.force_login(county_user)

    response = client.get(MONTH)

    assert response.context["month"] == last_month()
    assert "尚未对账" in response.content.decode()


def test_a_month_that_is_no_month_is_explained(client, county_user):
    client.force_login(county_user)

    response = client.get(MONTH, {"month": "五月"})

    assert response.status_code == 200
    assert "月份格式应为 2023-05" in response.content.decode()
    assert response.context["month"] == last_month()


def test_a_sheet_for_a_month_that_is_no_month_is_not_found(client, county_user, county):
    client.force_login(county_user)

    assert client.get(sheet(county, "2023-13")).status_code == 404


# --- the run button -------------------------------------------------------------------------------


def test_county_staff_get_the_run_button_and_the_auditor_does_not(
    client, county_user, auditor, run
):
    client.force_login(county_user)
    assert 'data-testid="run-form"' in client.get(MONTH, {"month": "2023-05"}).content.decode()

    client.force_login(auditor)
    response = client.get(MONTH, {"month": "2023-05"})
    assert response.status_code == 200
    assert 'data-testid="run-form"' not in response.content.decode()
    assert [row.code for row in response.context["table"].rows] == ["530927203", "530927204"]


def test_the_run_button_queues_the_month_follows_it_and_leads_back_to_the_result(
    client, county_user, county, django_capture_on_commit_callbacks
):
    client.force_login(county_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUN, {"county": county.code, "month": "2023-05"})

    run = ReconciliationRun.objects.get(county=county, month=MAY)
    assert response["Location"] == reverse("reconciliation:run_detail", args=[run.pk])
    assert run.status == "done" and run.is_current and run.run_by == county_user
    page = client.get(response["Location"])
    assert "已完成沧源" in page.content.decode()
    month = client.get(page.context["month_url"])
    assert month.context["table"].run == run


def test_a_queued_run_shows_its_progress_until_the_worker_takes_it(
    client, county_user, county, monkeypatch
):
    monkeypatch.setattr("reconciliation.tasks.run_reconciliation.delay", lambda run_id: None)
    client.force_login(county_user)

    response = client.post(RUN, {"county": county.code, "month": "2023-05"})

    run = ReconciliationRun.objects.get()
    polled = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert run.status == "pending" and not run.is_current
    assert 'role="progressbar"' in polled and 'hx-trigger="every 1s"' in polled


def test_the_worker_takes_a_run_once(county, county_user, django_capture_on_commit_callbacks):
    from reconciliation.services.reconcile import reconcile_month_queue
    from reconciliation.tasks import run_reconciliation

    with django_capture_on_commit_callbacks(execute=True):
        run = reconcile_month_queue(county=county, month=MAY, actor=county_user)

    assert run_reconciliation(run.pk) == "skipped"  # a retry after the run finished
    assert ReconciliationRun.objects.get().status == "done"


def test_another_countys_run_page_is_not_found(client, stranger, county, county_user):
    run = ReconciliationRun.objects.create(county=county, month=MAY, status="pending")
    client.force_login(stranger)

    assert client.get(reverse("reconciliation:run_detail", args=[run.pk])).status_code == 404


def test_the_auditor_cannot_run_a_reconciliation(client, auditor, county):
    client.force_login(auditor)

    response = client.post(RUN, {"county": county.code, "month": "2023-05"}, follow=True)

    assert response.status_code == 200
    assert not ReconciliationRun.objects.exists()
    assert "只有县人社局（社保中心）的工作人员可以执行对账" in response.content.decode()


def test_the_run_button_answers_only_post(client, county_user, county):
    client.force_login(county_user)

    assert client.get(RUN, {"county": county.code, "month": "2023-05"}).status_code == 405
    assert not ReconciliationRun.objects.exists()


def test_a_run_without_a_month_is_explained_and_runs_nothing(client, county_user, county):
    client.force_login(county_user)

    response = client.post(RUN, {"county": county.code, "month": "May"}, follow=True)

    assert "请选择要对账的月份" in response.content.decode()
    assert not ReconciliationRun.objects.exists()


# --- navigation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (User.Role.COUNTY, True),
        (User.Role.TOWNSHIP, True),
        (User.Role.AUDITOR, True),
        (User.Role.TAX, True),
        (User.Role.AGENT, False),
    ],
)
def test_the_navigation_has_the_reconciliation_entry_for_those_who_read_it(
    client, county, role, shown
):
    client.force_login(make_user(f"nav-{role}", role, county))

    items = client.get(MONTH).context["nav_items"]

    assert (("reconciliation", "对账", MONTH) in items) is shown
