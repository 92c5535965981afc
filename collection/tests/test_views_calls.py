"""催缴名单: who has not paid this year, with their phone, for a township's or a village's
campaign calls; never beyond the user's region."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from collection.models import Payment
from conftest import make_group, make_user
from enrollment.tests.factories import ResidentFactory
from pension.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")


def paid(resident, voucher, kind="personal", year=2023, **extra):
    return Payment.objects.create(
        resident=resident, contribution_year=year, amount=Decimal("300.00"), kind=kind,
        channel="wechat", source="tax_sync", voucher_no=voucher,
        paid_at=datetime.datetime(2023, 5, 1, 10, tzinfo=SHANGHAI), **extra,
    )  # fmt: skip


@pytest.fixture
def campaign(village, other_village):
    """A village's residents in every state of the year, and one unpaid in the next township."""
    group = make_group(village)
    people = {
        "unpaid": ResidentFactory(village=village, group=group, phone="13800001111"),
        "eligible": ResidentFactory(village=village, status="eligible"),
        "paid": ResidentFactory(village=village),
        "proxy": ResidentFactory(village=village),
        "only_last_year": ResidentFactory(village=village),
        "duplicate_only": ResidentFactory(village=village),
        "sealed": ResidentFactory(village=village, status="sealed"),
        "neighbour": ResidentFactory(village=other_village),
    }
    paid(people["paid"], "V1")
    paid(people["proxy"], "V2", kind="proxy")
    paid(people["only_last_year"], "V3", year=2022)
    first = paid(people["paid"], "V4")
    paid(people["duplicate_only"], "V5", duplicate_of=first)
    return people


def unpaid_page(client, user, region, **query):
    client.force_login(user)
    return client.get(reverse("collection:unpaid", args=[region.code]), {"year": 2023, **query})


def test_the_list_holds_who_is_expected_to_pay_and_has_no_counted_payment_with_their_phone(
    client, township_user, township, campaign
):
    response = unpaid_page(client, township_user, township)

    listed = {person.pk for person in response.context["residents"]}
    expected = {campaign[k].pk for k in ("unpaid", "eligible", "only_last_year", "duplicate_only")}
    assert listed == expected
    html = response.content.decode()
    assert 'href="tel:13800001111"' in html
    assert f'<td class="id-number">{campaign["unpaid"].masked_id}</td>' in html


@pytest.mark.parametrize(("who", "where"), [("neighbour_user", "township"),
                                             ("township_user", "county"),
                                             ("stranger", "village")])  # fmt: skip
def test_a_list_or_its_workbook_outside_the_users_region_or_above_a_township_is_not_found(
    db, request, client, who, where
):
    client.force_login(request.getfixturevalue(who))
    region = request.getfixturevalue(where)

    page = client.get(reverse("collection:unpaid", args=[region.code]))
    sheet = client.get(reverse("collection:unpaid_export", args=[region.code]))

    assert page.status_code == sheet.status_code == 404


def test_an_agent_calls_down_the_list_of_their_own_village_only(
    client, village, other_village, campaign
):
    agent = make_user("yanka", User.Role.AGENT, None)
    agent.villages.add(village)

    own = unpaid_page(client, agent, village)
    other = unpaid_page(client, agent, other_village)

    assert own.status_code == 200 and len(own.context["residents"]) == 4
    assert other.status_code == 404


def test_the_workbook_holds_the_same_people_as_the_page_marked_not_for_posting(
    client, township_user, township, campaign
):
    client.force_login(township_user)

    response = client.get(reverse("collection:unpaid_export", args=[township.code]), {"year": 2023})

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "勿公示" in rows[0][0]
    assert rows[1] == ("村(社区)", "村民小组", "姓名", "公民身份号码", "联系电话", "参保状态")
    names = sorted(row[2] for row in rows[2:])
    assert names == sorted(
        campaign[k].name for k in ("unpaid", "eligible", "only_last_year", "duplicate_only")
    )
    assert any("13800001111" in row for row in rows[2:])
    assert all(campaign["unpaid"].id_number not in str(row) for row in rows)


def test_the_page_costs_the_same_queries_however_many_are_listed(
    client, township_user, township, village
):
    client.force_login(township_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(
                reverse("collection:unpaid", args=[township.code]), {"year": 2023}
            )
            assert response.status_code == 200
        return len(captured)

    ResidentFactory(village=village, group=make_group(village))
    one = queries()
    for n in range(2, 12):
        ResidentFactory(village=village, group=make_group(village, n))

    assert queries() == one
