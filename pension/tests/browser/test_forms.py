"""What a clerk does by accident: a payment form sent twice in a row, and a session that
expires while a progress page waits."""

import re

from playwright.sync_api import expect

from collection.models import Payment
from pension.models import ImportJob
from pension.tests.browser.test_counter import this_years_schedule  # noqa: F401 (fixture)


def test_a_payment_form_sent_twice_in_a_row_sends_one_request_and_records_one_payment(
    page,
    console,
    log_in_as,
    township_user,
    resident,
    this_years_schedule,  # noqa: F811
):
    log_in_as(township_user)
    page.goto(f"/collection/counter/?resident={resident.pk}")
    page.get_by_label("缴费档次（元）").select_option(label="300 元")
    page.get_by_label("凭证号").fill("NL-TWICE-0001")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    page.evaluate(
        """() => {
            // The second press comes once the first request is on its way, as a
            // double click on a slow connection does.
            const form = document.getElementById("id_voucher_no").form;
            form.requestSubmit();
            setTimeout(() => form.requestSubmit(), 30);
        }"""
    )

    expect(page).to_have_url(re.compile(r"/collection/receipts/\d+/$"))
    assert len(posts) == 1
    assert Payment.objects.filter(resident=resident).count() == 1
    console.assert_clean()


def test_a_session_that_expires_on_a_progress_page_goes_to_the_login_and_back_to_the_page(
    page, log_in_as, township_user, township
):
    job = ImportJob.objects.create(kind="registry", region=township, filename="户籍.csv",
                                   created_by=township_user)  # fmt: skip
    log_in_as(township_user)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_role("progressbar")).to_be_visible()

    page.context.clear_cookies()

    expect(page).to_have_url(f"/login/?next=%2Fjobs%2F{job.pk}%2F")
    page.get_by_label("用户名").fill(township_user.username)
    page.get_by_label("密码").fill("correct-horse-9")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"/jobs/{job.pk}/")
    expect(page.get_by_role("progressbar")).to_be_visible()
