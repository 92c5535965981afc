import datetime

import pytest

from collection.models import Payment
from collection.services.payments import payment_record, payment_reverse
from conftest import make_group
from enrollment.models import SpecialGroupMembership
from reconciliation.models import ApiRequest
from reconciliation.tests.conftest import IN_2023


def url(number):
    return f"/api/v1/residents/{number}"


def pay(resident, voucher, amount="300"):
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount=amount, kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.WECHAT, source=Payment.Source.COUNTER, voucher_no=voucher,
        paid_at=datetime.datetime(2023, 5, 10, 12, tzinfo=datetime.UTC),
    )  # fmt: skip
    return payment


def test_a_resident_reads_with_status_region_tiers_proxy_and_payments(api, resident, time_machine):
    time_machine.move_to(IN_2023, tick=False)
    group = make_group(resident.village, 3)
    resident.group = group
    resident.save(update_fields=["group"])
    wrong = pay(resident, "GT-0")
    payment_reverse(payment=wrong, voucher_no="GT-0R", reason="错录")
    pay(resident, "GT-1", amount="400")
    response = api.get(url(resident.id_number))
    assert response.status_code == 200
    body = response.json()
    assert (body["id_number"], body["name"], body["status"], body["status_label"]) == (
        resident.id_number,
        resident.name,
        "enrolled",
        "已参保",
    )
    assert body["region"] == {
        "village": {"code": resident.village_id, "name": "糯良村"},
        "township": {"code": "530927203", "name": resident.village.parent.name},
        "group": {"code": group.code, "name": "3组"},
    }
    assert body["year"] == 2023
    amounts = [t["amount"] for t in body["tiers"]]
    assert "100.00" not in amounts and amounts[:2] == ["200.00", "300.00"]
    assert body["tiers"][1] == {"amount": "300.00", "subsidy": "30.00", "government_only": False}
    assert body["proxy"] is False
    assert body["payments"] == [
        {"year": 2023, "amount": "400.00", "kinds": ["personal"], "vouchers": ["GT-1"]}
    ]


def test_a_resident_in_a_qualifying_group_sees_the_proxy_and_the_government_tier(
    api, resident, time_machine
):
    time_machine.move_to(IN_2023, tick=False)
    SpecialGroupMembership.objects.create(
        resident=resident, category="dibao", department="civil_affairs",
        list_date=datetime.date(2023, 3, 1), valid_from=datetime.date(2023, 3, 1),
    )  # fmt: skip
    body = api.get(url(resident.id_number)).json()
    assert body["proxy"] is True
    assert body["tiers"][0] == {"amount": "100.00", "subsidy": "30.00", "government_only": True}


def test_the_number_is_normalised_before_the_look_up(api, resident):
    typed = resident.id_number.replace("X", "x").translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}
    )
    response = api.get(url(typed))
    assert response.status_code == 200
    assert response.json()["id_number"] == resident.id_number


@pytest.mark.parametrize("number", ["530927197005170011", "not-a-number", "5" * 200])
def test_an_unknown_or_malformed_number_answers_404(api, resident, number):
    response = api.get(url(number))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_countys_key_gets_404(other_api, resident):
    response = other_api.get(url(resident.id_number))
    assert response.status_code == 404
    assert resident.name not in response.content.decode()
    assert ApiRequest.objects.get().status == 404


def test_a_resident_of_another_county_answers_404(api, far_resident):
    assert api.get(url(far_resident.id_number)).status_code == 404


def test_without_a_key_it_answers_401(anonymous, resident):
    assert anonymous.get(url(resident.id_number)).status_code == 401
