import datetime
import json
import zipfile

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from collection.models import Notice, Payment
from collection.services import payment_record
from conftest import make_group, make_village
from enrollment.models import SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory

PHONE = "13700001111"

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2023, 6, 5, 9, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def payer(village):
    group = make_group(village, 1)
    make_group(village, 2)
    resident = ResidentFactory(village=village, group=group, phone=PHONE)
    SpecialGroupMembership.objects.create(
        resident=resident, category="tekun", department="civil_affairs",
        list_date=datetime.date(2023, 2, 1), valid_from=datetime.date(2023, 2, 1),
    )  # fmt: skip
    payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.WECHAT, source=Payment.Source.COUNTER, voucher_no="V-1",
        paid_at=timezone.make_aware(datetime.datetime(2023, 5, 12, 10)),
    )  # fmt: skip
    return resident


def run(*args) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("generate_notices", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def xlsx_text(path) -> str:
    # The raw XML of every part: whatever a cell, a title or a shared string holds is in here.
    with zipfile.ZipFile(path) as book:
        return "".join(book.read(name).decode() for name in book.namelist())


def test_it_writes_one_masked_workbook_per_village_for_a_month(tmp_path, township, payer):
    make_group(make_village(township, 201, "班考村"), 1)

    summary = run("--region", township.code, "--month", "2023-05", "--out", str(tmp_path))

    assert (summary["groups"], summary["rows"]) == (3, 1)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "糯良乡班考村_月度缴费公示_2023-05.xlsx",
        "糯良乡糯良村_月度缴费公示_2023-05.xlsx",
    ]
    assert sorted(summary["files"]) == sorted(str(tmp_path / name) for name in names)
    text = xlsx_text(tmp_path / names[1])
    assert payer.masked_id in text
    assert payer.id_number not in text and PHONE not in text and "特困" not in text
    assert Notice.objects.filter(generated_at__isnull=False, period="2023-05").count() == 3


def test_it_writes_the_unpaid_list_of_a_year(tmp_path, village, payer):
    unpaid = ResidentFactory(village=village, group=payer.group, phone=PHONE)

    summary = run("--region", village.code, "--year", "2023", "--kind", "unpaid",
                  "--out", str(tmp_path))  # fmt: skip

    assert summary["rows"] == 1
    text = xlsx_text(tmp_path / "糯良乡糯良村_年度未缴费名单_2023.xlsx")
    assert unpaid.masked_id in text and unpaid.id_number not in text and PHONE not in text
    assert payer.masked_id not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "999999", "--month", "2023-05"], "区划代码 999999 不存在"),
        (["--region", "530927203", "--month", "2023-07"], "将来的月份"),
        (["--region", "530927203", "--month", "2023-05", "--year", "2023"], "二者只能选其一"),
        (["--region", "530927203"], "二者只能选其一"),
        (["--region", "530927203", "--year", "2023"], "需要 --kind"),
    ],
)
def test_it_refuses_wrong_arguments_in_chinese_and_writes_nothing(tmp_path, payer, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_notices", *args, "--out", str(tmp_path))
    assert not list(tmp_path.iterdir())
    assert not Notice.objects.exists()


def test_the_daily_task_schedules_every_county_and_is_idempotent(county, payer):
    from collection.tasks import schedule_notices

    assert schedule_notices() == 2  # 1组 and 2组 of 糯良村, last month's notice
    assert schedule_notices() == 0
    assert set(Notice.objects.values_list("kind", "period", "due_on")) == {
        ("monthly", "2023-05", datetime.date(2023, 6, 20))
    }
