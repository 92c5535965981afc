import datetime
import json
import zipfile

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collection.models import Notice, Payment
from collection.services import payment_record
from conftest import make_group, make_user, make_village
from enrollment.models import SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, User

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
    assert not AuditEntry.objects.filter(action="notice.generate").exists()


def test_it_writes_the_paid_list_with_masked_ids_only(tmp_path, village, payer):
    summary = run("--region", village.code, "--year", "2023", "--kind", "paid",
                  "--out", str(tmp_path))  # fmt: skip

    assert (summary["groups"], summary["rows"]) == (2, 1)
    text = xlsx_text(tmp_path / "糯良乡糯良村_年度已缴费名单_2023.xlsx")
    assert payer.masked_id in text and payer.name in text
    assert payer.id_number not in text and PHONE not in text and "特困" not in text
    assert not list(tmp_path.glob("*.part"))


def test_it_records_one_audit_row_per_group_and_a_rerun_keeps_the_first_mark(
    tmp_path, village, payer
):
    run("--region", village.code, "--month", "2023-05", "--out", str(tmp_path))
    first = dict(Notice.objects.values_list("group_id", "generated_at"))
    again = run("--region", village.code, "--month", "2023-05", "--out", str(tmp_path))

    assert again["first_generated"] == 0
    assert dict(Notice.objects.values_list("group_id", "generated_at")) == first
    assert AuditEntry.objects.filter(action="notice.generate").count() == 4


def test_it_runs_as_a_user_with_the_same_rules_as_the_page(
    tmp_path, township, village, payer, township_user, neighbour_user
):
    make_user("shenji", User.Role.AUDITOR, township)

    for username, message in (
        ("shenji", "无权生成公示"),
        (neighbour_user.username, "不在您的辖区内"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("generate_notices", "--region", village.code, "--month", "2023-05",
                         "--out", str(tmp_path), "--user", username)  # fmt: skip
    assert not list(tmp_path.iterdir()) and not Notice.objects.exists()

    run("--region", village.code, "--month", "2023-05", "--out", str(tmp_path),
        "--user", township_user.username)  # fmt: skip
    assert {n.generated_by for n in Notice.objects.all()} == {township_user}


def test_a_township_is_generated_without_a_query_per_group_or_resident(tmp_path, township):
    vouchers = iter(range(1, 1000))

    def fill(first, villages, groups, residents):
        for number in range(first, first + villages):
            village = make_village(township, number, f"村{number}")
            for group_number in range(1, groups + 1):
                group = make_group(village, group_number)
                for _ in range(residents):
                    payment_record(
                        resident=ResidentFactory(village=village, group=group),
                        contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
                        channel=Payment.Channel.WECHAT, source=Payment.Source.COUNTER,
                        voucher_no=f"V-{next(vouchers)}",
                        paid_at=timezone.make_aware(datetime.datetime(2023, 5, 12, 10)),
                    )  # fmt: skip

    def queries(out):
        out.mkdir()
        with CaptureQueriesContext(connection) as captured:
            summary = run("--region", township.code, "--month", "2023-05", "--out", str(out))
        return len(captured.captured_queries), summary

    fill(210, 1, 1, 1)
    small, _ = queries(tmp_path / "small")
    fill(211, 2, 3, 4)  # two more villages, six more groups, 24 more payers
    large, summary = queries(tmp_path / "large")

    assert (summary["groups"], summary["rows"], len(summary["files"])) == (7, 25, 3)
    assert large == small


def test_the_daily_task_schedules_every_county_and_is_idempotent(county, payer):
    from collection.tasks import schedule_notices

    assert schedule_notices() == 2  # 1组 and 2组 of 糯良村, last month's notice
    assert schedule_notices() == 0
    assert set(Notice.objects.values_list("kind", "period", "due_on")) == {
        ("monthly", "2023-05", datetime.date(2023, 6, 20))
    }


def test_an_unknown_user_is_refused(tmp_path, village, payer):
    with pytest.raises(CommandError, match="没有用户名为 nobody 的工作人员"):
        call_command("generate_notices", "--region", village.code, "--month", "2023-05",
                     "--out", str(tmp_path), "--user", "nobody")  # fmt: skip
    assert not Notice.objects.exists()


def test_a_file_that_cannot_be_written_leaves_no_files_and_no_marks(
    tmp_path, township, payer, monkeypatch
):
    make_group(make_village(township, 201, "班考村"), 1)
    from collection.management.commands import generate_notices

    real = generate_notices.write_notices
    calls = iter(range(10))

    def second_fails(*, notices, out):
        if next(calls) == 1:
            raise OSError(28, "No space left on device", str(out))
        return real(notices=notices, out=out)

    monkeypatch.setattr(generate_notices, "write_notices", second_fails)

    with pytest.raises(CommandError, match="无法写入文件"):
        call_command("generate_notices", "--region", township.code, "--month", "2023-05",
                     "--out", str(tmp_path))  # fmt: skip

    assert not list(tmp_path.iterdir())
    assert not Notice.objects.exists()
    assert not AuditEntry.objects.filter(action="notice.generate").exists()
