import datetime
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from collection.models import Notice, Payment
from collection.services import payment_record
from collection.services.notices import notices_schedule
from conftest import make_group, make_user, make_village
from enrollment.models import SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory
from pension.models import User

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


def workbook_text(response) -> str:
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
    notice = Notice.objects.get()
    assert notice.generated_by == township_user and notice.rows == 1


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


def test_an_auditor_sees_the_notice_without_marking_it_generated(client, township, payer):
    auditor = make_user("shenji", User.Role.AUDITOR, township)
    client.force_login(auditor)

    assert client.get(print_url(payer.group)).status_code == 200
    assert not Notice.objects.filter(generated_at__isnull=False).exists()


@pytest.mark.parametrize("user", ["neighbour_user", "stranger"])
def test_staff_outside_the_township_get_404_for_page_and_download(client, request, user, payer):
    client.force_login(request.getfixturevalue(user))

    assert client.get(print_url(payer.group)).status_code == 404
    assert client.get(download_url(payer.group)).status_code == 404
    assert not Notice.objects.exists()


def test_an_agent_gets_404_for_a_group_of_another_village(client, agent, township):
    other = make_group(make_village(township, 201, "班考村"), 1)
    client.force_login(agent)

    assert client.get(print_url(other)).status_code == 404
    assert client.get(download_url(other)).status_code == 404


@pytest.mark.parametrize(("kind", "period"), [("weekly", "2023"), ("monthly", "2023-09")])
def test_a_wrong_kind_or_a_future_month_answers_404(client, township_user, group, kind, period):
    client.force_login(township_user)
    assert client.get(print_url(group, kind, period)).status_code == 404
    assert not Notice.objects.exists()


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


def test_the_status_page_asks_to_log_in(client):
    response = client.get(reverse("collection:notice_status"))
    assert response.status_code == 302
