import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collection.models import Notice, Payment
from collection.services import payment_record, payment_reverse
from collection.services.notices import (
    NoticeForbidden,
    NoticeRejected,
    annual_due_on,
    monthly_due_on,
    notice_generate,
    notice_rows,
    notice_status,
    notices_by_group,
    notices_generate,
    notices_schedule,
)
from conftest import make_group, make_user, make_village
from enrollment.models import Resident, SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory
from pension import idnumber
from pension.models import AuditEntry, User

_vouchers = iter(range(1, 10_000))


def pay(resident, on, amount="300", year=2023, kind=Payment.Kind.PERSONAL, voucher=None):
    paid_at = timezone.make_aware(datetime.datetime(on.year, on.month, on.day, 10))
    payment, _ = payment_record(
        resident=resident, contribution_year=year, amount=amount, kind=kind,
        channel=Payment.Channel.TOWNSHIP_OFFICE, source=Payment.Source.COUNTER,
        voucher_no=voucher or f"N-{next(_vouchers)}", paid_at=paid_at,
    )  # fmt: skip
    return payment


@pytest.fixture
def group(village):
    return make_group(village, 1)


@pytest.fixture
def other_group(village):
    return make_group(village, 2)


def member(group, **extra):
    return ResidentFactory(village=group.parent, group=group, phone="13812345678", **extra)


# --- due dates -------------------------------------------------------------------------------


def test_a_monthly_notice_is_due_on_the_20th_of_the_next_month():
    assert monthly_due_on(2023, 5) == datetime.date(2023, 6, 20)
    assert monthly_due_on(2023, 12) == datetime.date(2024, 1, 20)


def test_the_annual_lists_are_due_on_the_last_day_of_february_of_the_next_year():
    assert annual_due_on(2022) == datetime.date(2023, 2, 28)
    assert annual_due_on(2023) == datetime.date(2024, 2, 29)  # 2024 is a leap year


# --- rows ------------------------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2023, 6, 5, 9, tzinfo=datetime.UTC))
def test_the_monthly_notice_lists_only_last_months_payments_of_that_group(group, other_group):
    in_may = member(group)
    in_april, in_june, elsewhere = member(group), member(group), member(other_group)
    pay(in_may, datetime.date(2023, 5, 31), amount="500")
    pay(in_april, datetime.date(2023, 4, 30))
    pay(in_june, datetime.date(2023, 6, 1))
    pay(elsewhere, datetime.date(2023, 5, 10))

    rows = notice_rows(group=group, kind="monthly", period="2023-05")

    assert [(row.name, row.amount, row.paid_on) for row in rows] == [
        (in_may.name, Decimal("500.00"), datetime.date(2023, 5, 31))
    ]
    assert rows[0].masked_id == in_may.id_number[:6] + "********" + in_may.id_number[-4:]
    assert (rows[0].village, rows[0].group) == ("糯良村", "1组")


@time_machine.travel(datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.UTC))
def test_the_paid_list_counts_personal_proxy_and_back_payments_of_the_year(group):
    personal, proxy, back, last_year = (member(group) for _ in range(4))
    SpecialGroupMembership.objects.create(
        resident=proxy, category="dibao", department="civil_affairs",
        list_date=datetime.date(2023, 2, 1), valid_from=datetime.date(2023, 2, 1),
    )  # fmt: skip
    pay(personal, datetime.date(2023, 3, 1))
    pay(proxy, datetime.date(2023, 3, 2), amount="100", kind=Payment.Kind.PROXY)
    pay(back, datetime.date(2024, 1, 5), year=2023, kind=Payment.Kind.BACK)
    Payment.objects.create(
        resident=last_year,
        contribution_year=2022,
        amount="300",
        kind="personal",
        channel="tax_hall",
        source="tax_sync",
        voucher_no="T-2022",
        paid_at=timezone.make_aware(datetime.datetime(2023, 1, 5)),
    )  # fmt: skip  (no 2022 schedule ships; stored as the tax bureau would send it)

    rows = notice_rows(group=group, kind="paid", period="2023")

    assert {row.name for row in rows} == {personal.name, proxy.name, back.name}
    assert "低保" not in repr(rows)


@time_machine.travel(datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.UTC))
def test_a_reversed_payment_is_not_paid_and_a_duplicate_is_not_counted_twice(group):
    reversed_, twice = member(group), member(group)
    wrong = pay(reversed_, datetime.date(2023, 3, 1))
    payment_reverse(payment=wrong, voucher_no="N-REV", reason="金额录错")
    pay(twice, datetime.date(2023, 3, 2), amount="300")
    pay(twice, datetime.date(2023, 3, 9), amount="500")  # stored as a duplicate for refund

    paid = notice_rows(group=group, kind="paid", period="2023")
    unpaid = notice_rows(group=group, kind="unpaid", period="2023")

    assert [(row.name, row.amount) for row in paid] == [(twice.name, Decimal("300.00"))]
    assert [row.name for row in unpaid] == [reversed_.name]


@time_machine.travel(datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.UTC))
def test_the_unpaid_list_holds_only_residents_expected_to_pay(group):
    eligible = member(group, status=Resident.Status.ELIGIBLE)
    enrolled = member(group)
    for status in ("sealed", "deceased", "cancelled", "not_eligible", "receiving"):
        member(group, status=status)
    member(group, status="excluded", exclusion=Resident.Exclusion.STUDENT)
    pay(member(group), datetime.date(2023, 5, 5))

    rows = notice_rows(group=group, kind="unpaid", period="2023")

    assert {row.name for row in rows} == {eligible.name, enrolled.name}
    assert all(row.amount is None and row.paid_on is None for row in rows)


@time_machine.travel(datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.UTC))
def test_rows_come_from_one_query_whatever_the_number_of_residents(
    group, django_assert_num_queries
):
    for day in range(1, 6):
        pay(member(group), datetime.date(2023, 5, day))
    for kind, period in (("monthly", "2023-05"), ("paid", "2023"), ("unpaid", "2023")):
        with django_assert_num_queries(1):
            notice_rows(group=group, kind=kind, period=period)


def test_no_row_carries_a_full_id_number_or_a_phone(group):
    resident = member(group)
    with time_machine.travel(datetime.datetime(2023, 6, 5, tzinfo=datetime.UTC)):
        pay(resident, datetime.date(2023, 5, 5))
        rows = notice_rows(group=group, kind="monthly", period="2023-05")
    text = repr(rows)
    assert resident.id_number not in text and "13812345678" not in text
    assert idnumber.mask(resident.id_number) in text


@time_machine.travel(datetime.datetime(2023, 6, 5, 9, tzinfo=datetime.UTC))
@pytest.mark.parametrize(
    ("kind", "period", "message"),
    [
        ("monthly", "2023-7", "格式错误"),
        ("monthly", "2023-13", "格式错误"),
        ("monthly", "2023-07", "将来的月份"),
        ("paid", "2024", "将来的年度"),
        ("unpaid", "23", "格式错误"),
        ("weekly", "2023", "公示类型"),
    ],
)
def test_a_wrong_period_or_kind_is_refused_and_nothing_is_written(group, kind, period, message):
    with pytest.raises(NoticeRejected, match=message):
        notice_generate(group=group, kind=kind, period=period, actor=None)
    assert not Notice.objects.exists()


def test_a_village_is_not_a_group(village):
    with pytest.raises(NoticeRejected, match="不是村民小组"):
        notice_generate(group=village, kind="paid", period="2022", actor=None)
    assert not Notice.objects.exists()


# --- generation, scheduling and status -------------------------------------------------------


def test_generating_marks_the_notice_once_and_a_reprint_keeps_the_first_time(
    group, township_user, county_user
):
    pay(member(group), datetime.date(2023, 5, 5))
    with time_machine.travel(datetime.datetime(2023, 6, 5, 9, tzinfo=datetime.UTC)):
        notice_generate(group=group, kind="monthly", period="2023-05", actor=township_user)
    with time_machine.travel(datetime.datetime(2023, 6, 8, 9, tzinfo=datetime.UTC)):
        rows = notice_generate(group=group, kind="monthly", period="2023-05", actor=county_user)

    notice = Notice.objects.get()
    assert len(rows) == notice.rows == 1
    assert notice.due_on == datetime.date(2023, 6, 20)
    assert notice.generated_by == township_user
    assert notice.generated_at.date() == datetime.date(2023, 6, 5)


def test_scheduling_in_february_creates_the_monthly_and_both_annual_notices(
    township, group, other_group
):
    created = notices_schedule(region=township, day=datetime.date(2024, 2, 3))

    assert created == 6
    assert set(Notice.objects.filter(group=group).values_list("kind", "period", "due_on")) == {
        ("monthly", "2024-01", datetime.date(2024, 2, 20)),
        ("paid", "2023", datetime.date(2024, 2, 29)),
        ("unpaid", "2023", datetime.date(2024, 2, 29)),
    }


def test_scheduling_twice_creates_nothing_new(township, group):
    notices_schedule(region=township, day=datetime.date(2023, 6, 3))
    again = notices_schedule(region=township, day=datetime.date(2023, 6, 3))

    assert again == 0
    assert list(Notice.objects.values_list("kind", "period")) == [("monthly", "2023-05")]


def test_scheduling_stays_inside_the_region(township, group, other_village):
    make_group(other_village, 1)
    notices_schedule(region=township, day=datetime.date(2023, 6, 3))
    assert list(Notice.objects.values_list("group_id", flat=True)) == [group.code]


def test_a_notice_not_generated_by_its_due_date_is_overdue(township, group, other_group):
    notices_schedule(region=township, day=datetime.date(2023, 6, 3))
    with time_machine.travel(datetime.datetime(2023, 6, 10, tzinfo=datetime.UTC)):
        notice_generate(group=group, kind="monthly", period="2023-05", actor=None)

    on_due_date = notice_status(region=township, day=datetime.date(2023, 6, 20))
    after = notice_status(region=township, day=datetime.date(2023, 6, 21))

    assert (on_due_date[0].due, on_due_date[0].generated, on_due_date[0].overdue) == (1, 1, 0)
    states = {state.notice.group_id: state for state in after[0].notices}
    assert states[other_group.code].overdue and states[other_group.code].label == "已逾期"
    assert not states[group.code].overdue and states[group.code].label == "已公示"


def test_status_is_listed_per_village(township, group):
    second = make_group(make_village(township, 201, "班考村"), 1)
    notices_schedule(region=township, day=datetime.date(2023, 6, 3))

    villages = notice_status(region=township, day=datetime.date(2023, 6, 3))

    assert [(v.name, [s.notice.group_id for s in v.notices]) for v in villages] == [
        ("糯良村", [group.code]),
        ("班考村", [second.code]),
    ]


def test_the_status_shows_notices_now_due_even_before_the_daily_task_stored_them(township, group):
    villages = notice_status(region=township, day=datetime.date(2023, 6, 21))

    [state] = villages[0].notices
    assert (state.notice.kind, state.notice.period, state.overdue) == ("monthly", "2023-05", True)
    assert not Notice.objects.exists()


def test_the_status_of_a_user_holds_only_the_groups_they_see(
    township, group, other_village, neighbour_user
):
    make_group(other_village, 1)
    villages = notice_status(user=neighbour_user, day=datetime.date(2023, 6, 3))
    assert [village.name for village in villages] == ["民良村"]


# --- set-based generation over a region --------------------------------------------------------


def township_of(groups_per_village: int, residents_per_group: int, township):
    """Two villages of the township, each with its groups and paying residents."""
    for number, name in ((200, "糯良村"), (201, "班考村")):
        village = make_village(township, number, name)
        for group_number in range(1, groups_per_village + 1):
            group = make_group(village, group_number)
            for _ in range(residents_per_group):
                pay(member(group), datetime.date(2023, 5, 5))


@time_machine.travel(datetime.datetime(2023, 6, 5, 9, tzinfo=datetime.UTC))
def test_a_townships_notices_are_read_and_marked_without_a_query_per_group_or_resident(
    township, township_user
):
    def queries(groups, residents):
        Notice.objects.all().delete()
        AuditEntry.objects.all().delete()
        township_of(groups, residents, township)
        with CaptureQueriesContext(connection) as read:
            lines = list(notices_by_group(region=township, kind="monthly", period="2023-05"))
        with CaptureQueriesContext(connection) as marked:
            result = notices_generate(
                region=township, kind="monthly", period="2023-05", actor=township_user
            )
        assert result.groups == len(lines) == Notice.objects.count()
        return len(read.captured_queries), len(marked.captured_queries), result

    small = queries(1, 1)
    large = queries(4, 3)

    assert small[:2] == large[:2]
    assert (large[2].groups, large[2].rows) == (8, 2 + 8 * 3)  # 1组 of each has the first four


@time_machine.travel(datetime.datetime(2023, 6, 5, 9, tzinfo=datetime.UTC))
def test_rows_by_group_match_the_rows_of_each_group(township):
    township_of(2, 2, township)
    empty = make_group(make_village(township, 202, "芒回村"), 1)

    by_group = dict(notices_by_group(region=township, kind="monthly", period="2023-05"))

    assert by_group[empty] == []
    for group, rows in by_group.items():
        assert rows == notice_rows(group=group, kind="monthly", period="2023-05")


@time_machine.travel(datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.UTC))
def test_generating_a_region_marks_every_group_and_audits_each_notice(
    village, group, other_group, township_user
):
    pay(member(group), datetime.date(2023, 5, 5))
    member(other_group)

    result = notices_generate(region=village, kind="unpaid", period="2023", actor=township_user)

    assert (result.groups, result.rows, result.first) == (2, 1, 2)
    notices = {n.group_id: n for n in Notice.objects.all()}
    assert notices[group.code].rows == 0 and notices[other_group.code].rows == 1
    assert all(n.generated_by == township_user for n in notices.values())
    entries = AuditEntry.objects.filter(action="notice.generate")
    assert sorted(e.region_code for e in entries) == [group.code, other_group.code]
    assert all(e.actor == township_user and e.changes["first"] for e in entries)


@time_machine.travel(datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.UTC))
def test_generating_again_keeps_the_first_mark_and_audits_the_reprint(group, township_user):
    notices_generate(region=group, kind="paid", period="2023", actor=township_user)
    again = notices_generate(region=group, kind="paid", period="2023", actor=None)

    assert again.first == 0
    assert Notice.objects.get().generated_by == township_user
    assert [e.changes["first"] for e in AuditEntry.objects.order_by("id")] == [True, False]


@pytest.mark.parametrize(
    ("role", "message"),
    [(User.Role.AUDITOR, "无权生成公示"), (User.Role.TAX, "无权生成公示")],
)
def test_a_read_only_role_cannot_generate_and_nothing_is_written(township, group, role, message):
    user = make_user("reader", role, township)
    with pytest.raises(NoticeForbidden, match=message):
        notices_generate(region=township, kind="paid", period="2022", actor=user)
    with pytest.raises(NoticeForbidden, match=message):
        notice_generate(group=group, kind="paid", period="2022", actor=user)
    assert not Notice.objects.exists()
    assert not AuditEntry.objects.exists()


def test_staff_cannot_generate_outside_their_region_and_nothing_is_written(
    group, neighbour_user, stranger
):
    for user in (neighbour_user, stranger):
        with pytest.raises(NoticeForbidden, match="不在您的辖区内"):
            notices_generate(region=group, kind="paid", period="2022", actor=user)
    assert not Notice.objects.exists()
    assert not AuditEntry.objects.exists()


def test_an_agent_generates_for_their_village_only(township, village, group):
    other = make_group(make_village(township, 201, "班考村"), 1)
    agent = make_user("yanka", User.Role.AGENT, township)
    agent.villages.add(village)

    notices_generate(region=village, kind="paid", period="2022", actor=agent)
    with pytest.raises(NoticeForbidden):
        notices_generate(region=other, kind="paid", period="2022", actor=agent)
    with pytest.raises(NoticeForbidden):
        notices_generate(region=township, kind="paid", period="2022", actor=agent)

    assert list(Notice.objects.values_list("group_id", flat=True)) == [group.code]
