import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from collection.models import AgentProfile, CashReceipt, Payment, Remittance
from collection.services import payment_record
from collection.services.agents import cash_limits_check
from conftest import make_user
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, User

TODAY = datetime.date(2023, 5, 20)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime.datetime(2023, 5, 20, 10, 0, tzinfo=datetime.UTC)):
        yield


@pytest.fixture
def agent(village):
    user = make_user("agent-nuoliang", User.Role.AGENT, village.parent, last_name="李")
    user.villages.add(village)
    AgentProfile.objects.create(user=user, commitment_signed_on=datetime.date(2023, 1, 5))
    return user


@pytest.fixture
def neighbour_agent(other_village):
    user = make_user("agent-menglai", User.Role.AGENT, other_village.parent, last_name="王")
    user.villages.add(other_village)
    return user


def page(agent):
    return reverse("collection:agent_detail", args=[agent.pk])


def receipt(agent, resident, amount="300", days_ago=0, number="SJ-1"):
    return CashReceipt.objects.create(
        agent=agent, resident=resident, contribution_year=2023, amount=Decimal(amount),
        collected_on=TODAY - datetime.timedelta(days=days_ago), receipt_no=number,
    )  # fmt: skip


def test_an_agent_sees_their_villages_cash_on_hand_and_days_left(client, agent, resident):
    receipt(agent, resident, days_ago=7)
    client.force_login(agent)

    response = client.get(page(agent))

    assert response.status_code == 200
    text = response.content.decode()
    assert "糯良村" in text and "300.00 元" in text and "剩余 3 天" in text
    assert 'data-testid="receipt-form"' in text


@pytest.mark.parametrize(("days_ago", "shown"), [(10, "剩余 0 天"), (11, "已超期 1 天")])
def test_the_agents_page_shows_ten_days_as_within_and_eleven_as_over(
    client, agent, resident, days_ago, shown
):
    receipt(agent, resident, days_ago=days_ago)
    client.force_login(agent)
    text = client.get(page(agent)).content.decode()
    assert shown in text


def test_the_agents_page_shows_remitted_cash_as_collected_until_the_tax_record_arrives(
    client, agent, resident
):
    first = receipt(agent, resident)
    remittance = Remittance.objects.create(
        agent=agent, amount=Decimal("300"), remitted_on=TODAY, bank_voucher="YH-1"
    )
    CashReceipt.objects.filter(pk=first.pk).update(remittance=remittance)
    client.force_login(agent)

    assert "现金已代收，待税务入账" in client.get(page(agent)).content.decode()

    payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.AGENT_CASH, source=Payment.Source.TAX_SYNC, voucher_no="T-1",
    )  # fmt: skip
    assert "已缴费入账" in client.get(page(agent)).content.decode()


def test_an_agent_going_to_the_agent_list_lands_on_their_own_page(client, agent):
    client.force_login(agent)
    assert client.get(reverse("collection:agent_list")).url == page(agent)


def test_an_agent_records_a_receipt_through_the_form(client, agent, resident):
    client.force_login(agent)

    response = client.post(page(agent), {
        "action": "receipt", "id_number": resident.id_number, "contribution_year": 2023,
        "amount": "500", "collected_on": "2023-05-19", "receipt_no": "SJ-9",
    })  # fmt: skip

    assert response.status_code == 302
    assert CashReceipt.objects.get().amount == Decimal("500.00")


def test_a_receipt_for_a_resident_of_another_village_is_refused_on_the_form(
    client, agent, other_village
):
    outsider = ResidentFactory(village=other_village)
    client.force_login(agent)

    response = client.post(page(agent), {
        "action": "receipt", "id_number": outsider.id_number, "contribution_year": 2023,
        "amount": "500", "collected_on": "2023-05-19", "receipt_no": "SJ-9",
    })  # fmt: skip

    assert response.status_code == 400
    assert "在您负责的村中没有该公民身份号码的参保人" in response.content.decode()
    assert not CashReceipt.objects.exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("300.001", "金额最多保留两位小数"),
        ("-300", "金额必须大于零"),
        ("250", "250.00 元不是 2023 年度的缴费档次"),
    ],
)
def test_a_bad_amount_on_the_form_shows_a_chinese_error_and_writes_nothing(
    client, agent, resident, amount, message
):
    client.force_login(agent)

    response = client.post(page(agent), {
        "action": "receipt", "id_number": resident.id_number, "contribution_year": 2023,
        "amount": amount, "collected_on": "2023-05-19", "receipt_no": "SJ-9",
    })  # fmt: skip

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CashReceipt.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(agent, resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    response = client.post(page(agent), {
        "action": "receipt", "id_number": resident.id_number, "contribution_year": 2023,
        "amount": "500", "collected_on": "2023-05-19", "receipt_no": "SJ-9",
    })  # fmt: skip

    assert response.status_code == 403
    assert not CashReceipt.objects.exists()


def test_looking_at_the_pages_writes_nothing(client, agent, township_user, resident):
    receipt(agent, resident, days_ago=11)
    client.force_login(agent)
    client.get(page(agent))
    client.force_login(township_user)
    client.get(reverse("collection:agent_list"))
    client.get(reverse("collection:agent_register", args=[agent.region_id]))
    assert not AuditEntry.objects.exists()
    assert CashReceipt.objects.count() == 1 and not Remittance.objects.exists()


def test_a_remittance_that_does_not_add_up_shows_the_difference(client, agent, resident):
    first = receipt(agent, resident)
    client.force_login(agent)

    response = client.post(page(agent), {
        "action": "remittance", "receipts": [first.pk], "amount": "200",
        "remitted_on": "2023-05-20", "bank_voucher": "YH-1",
    })  # fmt: skip

    assert response.status_code == 400
    assert "合计 300.00 元不符，少 100.00 元" in response.content.decode()
    assert not Remittance.objects.exists()


def test_an_agent_remits_receipts_through_the_form(client, agent, resident):
    first = receipt(agent, resident)
    client.force_login(agent)

    response = client.post(page(agent), {
        "action": "remittance", "receipts": [first.pk], "amount": "300",
        "remitted_on": "2023-05-20", "bank_voucher": "YH-1",
    })  # fmt: skip

    assert response.status_code == 302
    first.refresh_from_db()
    assert first.remittance.bank_voucher == "YH-1"


def test_township_staff_see_their_agents_page_without_the_forms(client, township_user, agent):
    client.force_login(township_user)
    response = client.get(page(agent))
    assert response.status_code == 200
    assert 'data-testid="receipt-form"' not in response.content.decode()
    assert client.post(page(agent), {"action": "receipt"}).status_code == 403


@pytest.mark.parametrize("who", ["neighbour_agent", "neighbour_user", "stranger"])
def test_another_agent_or_another_region_gets_404_on_an_agents_page(client, agent, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(page(agent)).status_code == 404
    assert client.post(page(agent), {"action": "receipt"}).status_code == 404


def breaches_table(response) -> str:
    text = response.content.decode()
    if 'data-testid="breaches"' not in text:
        return ""
    return text.split('data-testid="breaches"')[1].split("</table>")[0]


def test_the_agent_list_shows_the_breaches_of_the_users_region_only(
    client, township_user, agent, neighbour_agent, resident, other_village
):
    receipt(agent, resident, days_ago=11)
    receipt(neighbour_agent, ResidentFactory(village=other_village), days_ago=11)
    client.force_login(township_user)

    response = client.get(reverse("collection:agent_list"))

    assert response.status_code == 200
    breaches = breaches_table(response)
    assert "李" in breaches and "现金留存超过天数" in breaches and "超 1 天" in breaches
    assert "王" not in response.content.decode()


@pytest.mark.parametrize(
    ("amounts", "days_ago", "breach"),
    [
        (["5000", "5000"], 10, False),
        (["5000", "5000.01"], 0, True),
        (["300"], 11, True),
    ],
)
def test_the_county_sees_an_agent_in_breach_only_past_the_limits(
    client, county_user, agent, resident, amounts, days_ago, breach
):
    for number, amount in enumerate(amounts):
        receipt(agent, resident, amount=amount, days_ago=days_ago, number=f"SJ-{number}")
    client.force_login(county_user)

    table = breaches_table(client.get(reverse("collection:agent_list")))

    assert ("李" in table) is breach


def test_the_breach_list_is_current_after_the_agent_remits(client, township_user, agent, resident):
    held = receipt(agent, resident, days_ago=11)
    cash_limits_check(day=TODAY)
    remittance = Remittance.objects.create(
        agent=agent, amount=Decimal("300"), remitted_on=TODAY, bank_voucher="YH-1"
    )
    CashReceipt.objects.filter(pk=held.pk).update(remittance=remittance)
    client.force_login(township_user)

    response = client.get(reverse("collection:agent_list"))

    assert breaches_table(response) == ""
    assert "今天没有协办员超过现金留存天数或金额" in response.content.decode()


def test_a_stranger_sees_no_agent_on_the_agent_list(client, stranger, agent, resident):
    receipt(agent, resident, days_ago=11)
    client.force_login(stranger)
    response = client.get(reverse("collection:agent_list"))
    assert response.status_code == 200
    assert "李" not in response.content.decode()


@pytest.mark.parametrize("agents", [1, 4])
def test_the_agent_list_reads_in_a_fixed_number_of_queries(
    client, township_user, resident, village, django_assert_num_queries, agents
):
    for number in range(agents):
        other = make_user(f"agent-{number}", User.Role.AGENT, village.parent)
        other.villages.add(village)
        receipt(other, resident, days_ago=11, number=f"SJ-{number}")
    client.force_login(township_user)
    # session, user with their region, agents, their villages, cash held, schedules: the same
    # whatever the number of agents
    with django_assert_num_queries(6):
        assert client.get(reverse("collection:agent_list")).status_code == 200


def register(client, region):
    response = client.get(reverse("collection:agent_register", args=[region.code]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(min_row=3, values_only=True))


def test_the_register_lists_each_agents_cash_within_the_region(
    client, township_user, township, agent, neighbour_agent, resident
):
    remitted = receipt(agent, resident, amount="500", number="SJ-1")
    receipt(agent, resident, amount="300", number="SJ-2")
    remittance = Remittance.objects.create(
        agent=agent, amount=Decimal("500"), remitted_on=TODAY, bank_voucher="YH-1"
    )
    CashReceipt.objects.filter(pk=remitted.pk).update(remittance=remittance)
    client.force_login(township_user)

    rows = register(client, township)

    assert rows == [
        (1, "李", "agent-nuoliang", "糯良村", datetime.datetime(2023, 1, 5), 800, 500, 300)
    ]


def test_the_register_of_another_region_answers_404(
    client, township_user, other_township, stranger, township, agent
):
    client.force_login(township_user)
    url = reverse("collection:agent_register", args=[other_township.code])
    assert client.get(url).status_code == 404
    client.force_login(stranger)
    url = reverse("collection:agent_register", args=[township.code])
    assert client.get(url).status_code == 404


def test_an_agents_register_holds_only_their_own_row(client, agent, village, resident):
    colleague = make_user("agent-two", User.Role.AGENT, village.parent)
    colleague.villages.add(village)
    client.force_login(agent)
    assert [row[2] for row in register(client, village)] == ["agent-nuoliang"]


def test_an_agent_gets_404_for_the_register_of_a_village_not_theirs(
    client, agent, neighbour_agent, village, township
):
    client.force_login(neighbour_agent)
    assert client.get(reverse("collection:agent_register", args=[village.code])).status_code == 404
    assert client.get(reverse("collection:agent_register", args=[township.code])).status_code == 404


def test_an_agent_sees_how_many_of_each_village_have_not_paid_and_reaches_the_list(
    client, agent, village, resident
):
    ResidentFactory(village=village, area="530927")
    paid = ResidentFactory(village=village, area="530927")
    payment_record(
        resident=paid, contribution_year=2023, amount=Decimal("300.00"), kind="personal",
        channel="wechat", source="tax_sync", voucher_no="T-1",
    )  # fmt: skip
    client.force_login(agent)

    response = client.get(page(agent))

    assert response.context["unpaid"] == [(village, 2)]
    assert reverse("collection:unpaid", args=[village.code]) + "?year=2023" in (
        response.content.decode()
    )
