"""The county bureau opens its dashboard: the progress chart drawn by ECharts from the local
static files, the ranking beside it, every tile's figures linked, and no error on the console."""

import datetime

from playwright.sync_api import expect

from collection.models import VillageProgress
from conftest import make_village
from pension.models import Region
from pension.tests.browser.support import save_screenshot


def test_the_county_dashboard_draws_its_chart_and_links_its_figures_without_console_errors(
    page, console, log_in_as, county_user, county, village
):
    townships = Region.objects.filter(level="township", code__startswith=county.code)
    for rank, township in enumerate(townships.order_by("code")):
        place = village if township.code == village.code[:9] else make_village(township, 200)
        for month in range(3, 8):
            VillageProgress.objects.create(
                village=place, year=2023, day=datetime.date(2023, month, 1), expected=100,
                paid=min(100, month * 10 + rank),
            )  # fmt: skip
    log_in_as(county_user)

    page.goto(f"/dashboard/{county.code}/?year=2023")

    chart = page.get_by_test_id("progress-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(chart.locator("svg path").first).to_be_attached()
    expect(page.locator("[data-bottom=true]")).to_have_count(3)
    expect(page.get_by_test_id("milestones")).to_contain_text("6月30日前")
    page.get_by_role("link", name="进度明细").click()
    expect(page).to_have_url(f"/collection/progress/{county.code}/?year=2023")
    page.go_back()
    expect(chart).to_have_attribute("data-rendered", "true")
    save_screenshot(page, "dashboard")
    console.assert_clean()


def test_a_township_clerk_opens_a_villages_progress_and_switches_the_year(
    page, console, log_in_as, township_user, township, village
):
    VillageProgress.objects.create(
        village=village, year=2023, day=datetime.date(2023, 6, 1), expected=50, paid=20
    )
    log_in_as(township_user)
    page.goto("/dashboard/")
    expect(page).to_have_url(f"/dashboard/{township.code}/")
    expect(page.locator("h1")).to_contain_text("2023 年度")  # the latest campaign shipped
    expect(page.locator("[data-figure=rate]")).to_have_text("40.00%")

    page.locator(f"[data-unit='{village.code}'] a").click()
    expect(page).to_have_url(f"/collection/progress/{township.code}/?year=2023#unit-{village.code}")
    page.go_back()
    page.get_by_label("缴费年度").select_option("2022")

    expect(page).to_have_url(f"/dashboard/{township.code}/?year=2022")
    expect(page.locator("[data-figure=rate]")).to_have_text("—")
    console.assert_clean()
