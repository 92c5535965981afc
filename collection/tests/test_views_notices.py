import datetime
import io

import openpyxl
import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from collection.models import Notice, Payment
from collection.services import payment_record
from collection.services.notices import notices_schedule
from conftest import make_group, make_user, make_village
from enrollment.models import SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, User

PHONE = "13987654321"

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2023, 6, 25, 9, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def group(village):
    return make_group(village, 1)


@pytest.fixture
def payer(group):
    resident = ResidentFactory(village=group.parent, group=group, phone=PHONE)
    SpecialGroupMembership.objects.create(
        resident=resident, category="dibao", department="civil_affairs",
        list_date=datetime.date(2023, 2, 1), valid_from=datetime.date(2023, 2, 1),
    )  # fmt: skip
    payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.WECHAT, source=Payment.Source.COUNTER, voucher_no="V-1",
        paid_at=timezone.make_aware(datetime.datetime(2023, 5, 12, 10)),
    )  # fmt: skip
    return resident


@pytest.fixture
def agent(township, village):
    user = make_user("yanka", User.Role.AGENT, township)
    user.villages.add(village)
    return user


def print_url(group, kind="monthly", period="2023-05"):
    return reverse("collection:notice_print", args=[group.code, kind, period])


def download_url(group, kind="monthly", period="2023-05"):
    return reverse("collection:notice_download", args=[group.code, kind, period])


def generate_url(region, kind="monthly", period="2023-05"):
    return reverse("collection:notice_generate", args=[region.code, kind, period])


def assert_nothing_written():
    assert not Notice.objects.exists()
    assert not AuditEntry.objects.filter(action="notice.generate").exists()


def workbook_text(response) -> str:
    # Reading the stream to its end closes the temporary file behind the FileResponse.
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return "\n".join(
        str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row
    )


def assert_nothing_sensitive(text, resident):
    assert resident.id_number not in text
    assert resident.masked_id in text
    assert PHONE not in text
    assert "低保" not in text


def test_the_printable_page_shows_masked_ids_and_a_signature_line(client, township_user, payer):
    client.force_login(township_user)

    response = client.get(print_url(payer.group))

    assert response.status_code == 200
    page = response.content.decode()
    assert_nothing_sensitive(page, payer)
    assert "糯良村1组 2023年5月月度缴费公示" in page
    assert "村民委员会（盖章）" in page and "2023年6月20日前" in page
    assert "生成并记为已公示" in page


def test_the_download_is_a_workbook_with_masked_ids_and_no_phone_or_category(
    client, township_user, payer
):
    client.force_login(township_user)

    response = client.get(download_url(payer.group, "paid", "2023"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    text = workbook_text(response)
    assert_nothing_sensitive(text, payer)
    assert "糯良村1组 2023年度年度已缴费名单" in text
    assert "2024年02月29日" in text


@pytest.mark.parametrize(
    ("kind", "period"), [("monthly", "2023-05"), ("paid", "2023"), ("unpaid", "2023")]
)
def test_every_notice_format_masks_the_id_and_leaves_out_phone_and_category(
    client, township_user, payer, kind, period
):
    unpaid = ResidentFactory(village=payer.village, group=payer.group, phone=PHONE)
    shown = unpaid if kind == "unpaid" else payer
    client.force_login(township_user)

    page = client.get(print_url(payer.group, kind, period)).content.decode()
    sheet = workbook_text(client.get(download_url(payer.group, kind, period)))

    for text in (page, sheet):
        assert_nothing_sensitive(text, shown)
        assert unpaid.id_number not in text and payer.id_number not in text


def test_looking_at_or_downloading_a_notice_writes_nothing(client, township_user, payer):
    client.force_login(township_user)

    assert client.get(print_url(payer.group)).status_code == 200
    assert payer.masked_id in workbook_text(client.get(download_url(payer.group)))
    assert client.get(reverse("collection:notice_status")).status_code == 200

    assert_nothing_written()
    assert not AuditEntry.objects.exclude(action="payment.record").exists()


def test_a_get_on_the_generate_address_is_refused_and_writes_nothing(client, township_user, payer):
    client.force_login(township_user)
    assert client.get(generate_url(payer.group)).status_code == 405
    assert_nothing_written()


def test_generating_is_a_post_that_marks_the_notice_and_records_who(client, township_user, payer):
    client.force_login(township_user)

    response = client.post(generate_url(payer.group))

    assert response.status_code == 302 and response.url == print_url(payer.group)
    notice = Notice.objects.get()
    assert notice.generated_by == township_user and notice.rows == 1
    entry = AuditEntry.objects.for_object(notice).get()
    assert entry.actor == township_user and entry.changes["rows"] == 1
    page = client.get(response.url).content.decode()
    assert "已于 2023-06-25" in page and "公示 1 人次" in page


def test_a_generate_post_without_the_csrf_token_is_refused(township_user, payer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(township_user)
    assert client.post(generate_url(payer.group)).status_code == 403
    assert_nothing_written()


def test_generating_a_village_marks_every_group_of_it(client, township_user, payer, village):
    second = make_group(village, 2)
    client.force_login(township_user)

    response = client.post(generate_url(village))

    assert response.status_code == 302 and response.url == reverse("collection:notice_status")
    assert set(
        Notice.objects.filter(generated_at__isnull=False).values_list("group_id", "rows")
    ) == {
        (payer.group_id, 1),
        (second.code, 0),
    }


def test_an_auditor_sees_the_notice_but_cannot_generate_it(client, township, payer):
    auditor = make_user("shenji", User.Role.AUDITOR, township)
    client.force_login(auditor)

    response = client.get(print_url(payer.group))

    assert response.status_code == 200
    assert "生成并记为已公示" not in response.content.decode()
    assert client.post(generate_url(payer.group)).status_code == 403
    assert client.post(generate_url(payer.village)).status_code == 403
    assert_nothing_written()


@pytest.mark.parametrize("user", ["neighbour_user", "stranger"])
def test_staff_outside_the_township_get_404_for_page_download_and_generate(
    client, request, user, payer
):
    client.force_login(request.getfixturevalue(user))

    assert client.get(print_url(payer.group)).status_code == 404
    assert client.get(download_url(payer.group)).status_code == 404
    assert client.post(generate_url(payer.group)).status_code == 404
    assert client.post(generate_url(payer.village)).status_code == 404
    assert_nothing_written()


def test_an_agent_gets_404_for_a_group_of_another_village(client, agent, township):
    other = make_group(make_village(township, 201, "班考村"), 1)
    client.force_login(agent)

    assert client.get(print_url(other)).status_code == 404
    assert client.get(download_url(other)).status_code == 404
    assert client.post(generate_url(other)).status_code == 404
    assert_nothing_written()


def test_an_agent_generates_the_notices_of_their_own_village(client, agent, payer):
    client.force_login(agent)
    assert client.post(generate_url(payer.group)).status_code == 302
    assert Notice.objects.get().generated_by == agent


@pytest.mark.parametrize(
    ("kind", "period"), [("weekly", "2023"), ("monthly", "2023-09"), ("monthly", "2023-5")]
)
def test_a_wrong_kind_or_period_answers_404_and_writes_nothing(
    client, township_user, group, kind, period
):
    client.force_login(township_user)
    assert client.get(print_url(group, kind, period)).status_code == 404
    assert client.get(download_url(group, kind, period)).status_code == 404
    assert client.post(generate_url(group, kind, period)).status_code == 404
    assert_nothing_written()


def test_the_status_page_lists_overdue_notices_of_the_users_villages_only(
    client, township_user, county, group, other_village
):
    make_group(other_village, 1)
    notices_schedule(region=county, day=datetime.date(2023, 6, 3))
    client.force_login(township_user)

    response = client.get(reverse("collection:notice_status"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "糯良村" in page and "已逾期" in page and "2023-06-20" in page
    assert "民良村" not in page


def test_an_agent_sees_only_their_villages_on_the_status_page(client, agent, township, group):
    make_group(make_village(township, 201, "班考村"), 1)
    notices_schedule(region=township, day=datetime.date(2023, 6, 3))
    client.force_login(agent)

    page = client.get(reverse("collection:notice_status")).content.decode()

    assert "糯良村" in page and "班考村" not in page


def test_a_stranger_sees_no_notice_of_the_county(client, stranger, county, group):
    notices_schedule(region=county, day=datetime.date(2023, 6, 3))
    client.force_login(stranger)

    page = client.get(reverse("collection:notice_status")).content.decode()

    assert "糯良村" not in page and "暂无应公示的事项" in page


def test_the_status_page_asks_to_log_in(client, payer):
    response = client.get(reverse("collection:notice_status"))
    assert response.status_code == 302
    assert client.post(generate_url(payer.group)).status_code == 302
    assert_nothing_written()


def test_the_status_page_shows_the_notice_due_before_the_daily_task_ran(
    client, township_user, payer
):
    client.force_login(township_user)

    page = client.get(reverse("collection:notice_status")).content.decode()

    assert "糯良村" in page and "2023-05" in page and "已逾期" in page
    assert 'data-testid="village-generate"' in page
    assert payer.id_number not in page and payer.masked_id not in page
    assert_nothing_written()


def test_the_status_page_reads_in_a_fixed_number_of_queries(
    client, township_user, township, county, payer, django_assert_num_queries
):
    for number in range(201, 204):
        for group_number in (1, 2):
            make_group(make_village(township, number, f"村{number}"), group_number)
    notices_schedule(region=county, day=datetime.date(2023, 6, 3))
    client.force_login(township_user)
    # session, user with their region, notices, groups with their villages
    with django_assert_num_queries(4):
        assert client.get(reverse("collection:notice_status")).status_code == 200
