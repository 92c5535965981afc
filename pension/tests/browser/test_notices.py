"""A village's public notice generated from the status page and downloaded as a workbook."""

import datetime
import io

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from collection.models import Notice, Payment
from collection.services import payment_record
from conftest import make_group
from enrollment.tests.factories import ResidentFactory


@pytest.fixture
def last_month() -> datetime.date:
    """A day of last month: the monthly notice due now lists that month's payments."""
    return timezone.localdate().replace(day=1) - datetime.timedelta(days=20)


@pytest.fixture
def payer(village, last_month):
    """A resident of group 1 who made a back payment for 2023 last month."""
    group = make_group(village, 1)
    resident = ResidentFactory(village=village, group=group, phone="13987654321")
    payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.BACK,
        channel=Payment.Channel.WECHAT, source=Payment.Source.COUNTER, voucher_no="BJ-1",
        paid_at=timezone.make_aware(datetime.datetime.combine(last_month, datetime.time(10))),
    )  # fmt: skip
    return resident


def test_staff_generate_a_villages_monthly_notice_and_download_it_as_a_workbook(
    page, console, log_in_as, township_user, village, payer, last_month, tmp_path
):
    period = f"{last_month:%Y-%m}"
    log_in_as(township_user)
    page.goto("/collection/notices/")
    section = page.get_by_test_id(f"village-{village.code}")
    row = section.get_by_role("row").filter(has_text="月度缴费公示").filter(has_text=period)
    expect(row).not_to_contain_text("已公示")

    section.get_by_role("button", name=f"生成本村全部小组 {period} 月度缴费公示").click()

    expect(page.get_by_role("alert")).to_have_text(
        f"已生成 {village.name} {period} 月度缴费公示：1 个村民小组，1 人次"
    )
    expect(row).to_contain_text("已公示")
    notice = Notice.objects.get(group=payer.group, kind=Notice.Kind.MONTHLY, period=period)
    assert (notice.rows, notice.generated_by) == (1, township_user)

    with page.expect_download() as download_info:
        row.get_by_role("link", name="下载 Excel").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"{village.name}1组_月度缴费公示_{period}.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
    cells = [str(v) for sheet in book for line in sheet.iter_rows(values_only=True) for v in line]
    assert payer.name in cells and payer.masked_id in cells
    assert not any(payer.id_number in cell or "13987654321" in cell for cell in cells)
    console.assert_clean()
