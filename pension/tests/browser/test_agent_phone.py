"""A village agent on a phone: cash on hand, days left before the 双限 limit and who in their
villages has not paid, with a number to call, on a 390-pixel-wide screen."""

import datetime
from decimal import Decimal

from playwright.sync_api import expect

from collection.models import CashReceipt
from conftest import make_user
from enrollment.tests.factories import ResidentFactory
from pension.models import User
from pension.tests.browser.support import ConsoleLog, log_in, save_screenshot

PHONE = {"width": 390, "height": 844}


def test_an_agent_on_a_phone_sees_their_cash_and_days_left_and_calls_an_unpaid_resident(
    browser, site, village
):
    agent = make_user("yanka", User.Role.AGENT, None, last_name="岩", first_name="块")
    agent.villages.add(village)
    payer = ResidentFactory(village=village, area="530927")
    ResidentFactory(village=village, area="530927", phone="13912345678")
    CashReceipt.objects.create(
        agent=agent, resident=payer, contribution_year=datetime.date.today().year,
        amount=Decimal("300.00"), collected_on=datetime.date.today() - datetime.timedelta(days=3),
        receipt_no="SJ-1",
    )  # fmt: skip
    context = browser.new_context(base_url=site, viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip
    console = ConsoleLog()
    page = context.new_page()
    console.watch(page)
    log_in(context, agent, site)

    page.goto("/collection/agents/")

    expect(page.get_by_test_id("on-hand")).to_have_text("300.00 元")
    expect(page.locator("body")).to_contain_text("剩余 7 天")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(page, "agent-phone")
    page.get_by_test_id("unpaid-by-village").get_by_role("link").first.click()
    expect(page.get_by_test_id("unpaid-count")).to_have_text("2")
    expect(page.locator('a[href="tel:13912345678"]')).to_be_visible()
    console.assert_clean()
    context.close()
