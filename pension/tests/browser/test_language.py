"""A maintainer switches the interface to English and back, staying on the page they were on."""

import datetime

from django.utils import translation
from playwright.sync_api import expect

from collection.models import VillageProgress
from pension.tests.browser.support import save_screenshot

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_a_maintainer_switches_the_dashboard_to_english_and_back_to_chinese(
    page, console, log_in_as, county_user, county, village
):
    VillageProgress.objects.create(
        village=village, year=2023, day=datetime.date(2023, 6, 1), expected=50, paid=20
    )
    with translation.override("en"):
        rate_in_english = translation.gettext("完成率")
    log_in_as(county_user)
    page.goto(f"/dashboard/{county.code}/?year=2023")

    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()

    expect(page).to_have_url(f"/dashboard/{county.code}/?year=2023")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    chart = page.get_by_test_id("progress-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    assert rate_in_english != "完成率"
    expect(chart).to_contain_text(rate_in_english)
    assert page.evaluate(FITS), "the English top bar is wider than the window"
    save_screenshot(page, "dashboard-english")

    page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    expect(page.get_by_test_id("progress-chart")).to_contain_text("完成率")
    assert page.evaluate(FITS)
    console.assert_clean()
