"""The township counter in the browser: find a resident, record a payment, print the receipt."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from collection.models import ContributionSchedule, Payment, Tier
from pension.tests.browser.support import save_screenshot

VOUCHER = "NL-COUNTER-0001"


@pytest.fixture
def this_years_schedule(county) -> ContributionSchedule:
    """Yunnan's schedule for the current year as the county bureau enters it in the admin,
    2023's tiers carried forward: the counter offers the tiers of the current year."""
    year = timezone.localdate().year
    shipped = ContributionSchedule.objects.get(province_id="53", year=2023)
    schedule, created = ContributionSchedule.objects.get_or_create(
        province_id="53",
        year=year,
        defaults={
            "qualifying_categories": shipped.qualifying_categories,
            "window_start": datetime.date(year, 1, 1),
            "window_end": datetime.date(year, 12, 31),
        },
    )
    if created:
        Tier.objects.bulk_create(
            Tier(schedule=schedule, amount=t.amount, subsidy=t.subsidy,
                 government_only=t.government_only)
            for t in shipped.tiers.all()
        )  # fmt: skip
    return schedule


def fill_in_the_payment(page: Page) -> None:
    page.get_by_label("缴费档次（元）").select_option(label="300 元")
    page.get_by_label("缴费渠道").select_option(label="乡镇社保所代征点")
    page.get_by_label("凭证号").fill(VOUCHER)
    page.get_by_role("button", name="登记并打印收据").click()


def test_staff_find_a_resident_record_a_counter_payment_and_open_its_receipt(
    page, console, log_in_as, township_user, resident, this_years_schedule
):
    log_in_as(township_user)
    page.goto("/collection/counter/")
    page.get_by_label("身份证号码或姓名").fill(resident.id_number[:12])
    page.get_by_role("button", name="查找").click()
    match = page.get_by_role("row").filter(has_text=resident.name)
    expect(match).to_contain_text(resident.masked_id)
    match.get_by_role("link", name="登记缴费").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(resident.name)

    fill_in_the_payment(page)

    expect(page).to_have_url(re.compile(r"/collection/receipts/\d+/$"))
    payment = Payment.objects.get(resident=resident)
    assert page.url.endswith(f"/collection/receipts/{payment.pk}/")
    assert (payment.contribution_year, payment.amount) == (this_years_schedule.year, 300)
    assert (payment.voucher_no, payment.source) == (VOUCHER, Payment.Source.COUNTER)
    assert payment.recorded_by == township_user
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_contain_text("人民币叁佰元整")
    expect(receipt).to_contain_text(resident.masked_id)
    expect(receipt).to_contain_text(VOUCHER)
    expect(receipt).not_to_contain_text(resident.id_number)
    save_screenshot(page, "receipt")
    console.assert_clean()


def test_going_back_and_submitting_the_same_voucher_again_shows_the_same_receipt_only(
    page, console, log_in_as, township_user, resident, this_years_schedule
):
    log_in_as(township_user)
    page.goto(f"/collection/counter/?resident={resident.pk}")
    fill_in_the_payment(page)
    expect(page).to_have_url(re.compile(r"/collection/receipts/\d+/$"))
    first_receipt = page.url

    page.go_back()
    fill_in_the_payment(page)

    expect(page).to_have_url(first_receipt)
    assert Payment.objects.filter(resident=resident).count() == 1
    console.assert_clean()
