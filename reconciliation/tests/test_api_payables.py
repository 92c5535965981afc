import datetime

import pytest

from collection.models import Payment
from collection.services.payments import payment_record, payment_reverse
from enrollment.models import Resident, SpecialGroupMembership
from enrollment.tests.factories import ResidentFactory

URL = "/api/v1/payables"


def payables(client, **params):
    return client.get(URL, {"county": "530927", "year": 2023, **params})


def pay(resident, voucher):
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.WECHAT, source=Payment.Source.COUNTER, voucher_no=voucher,
        paid_at=datetime.datetime(2023, 5, 10, 12, tzinfo=datetime.UTC),
    )  # fmt: skip
    return payment


def list_as_dibao(resident, list_date):
    SpecialGroupMembership.objects.create(
        resident=resident, category="dibao", department="civil_affairs", list_date=list_date,
        valid_from=list_date,
    )  # fmt: skip


def test_the_list_holds_the_residents_expected_to_pay_with_proxy_and_paid(
    api, resident, village, other_village, far_resident
):
    eligible = ResidentFactory(village=village, status=Resident.Status.ELIGIBLE)
    neighbour = ResidentFactory(village=other_village)
    for status in ("sealed", "deceased", "cancelled", "not_eligible", "receiving"):
        ResidentFactory(village=village, status=status)
    pay(resident, "GT-1")
    refunded = pay(neighbour, "GT-2")
    payment_reverse(payment=refunded, voucher_no="GT-2R", reason="退费")
    list_as_dibao(eligible, datetime.date(2023, 4, 1))
    list_as_dibao(neighbour, datetime.date(2022, 4, 1))  # not backed by a list of 2023
    response = payables(api)
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    rows = {row["id_number"]: row for row in body["results"]}
    assert set(rows) == {resident.id_number, eligible.id_number, neighbour.id_number}
    assert rows[resident.id_number] | {"updated_at": None} == {
        "id_number": resident.id_number,
        "name": resident.name,
        "village": resident.village_id,
        "group": None,
        "status": "enrolled",
        "proxy": False,
        "paid": True,
        "updated_at": None,
    }
    assert (rows[eligible.id_number]["proxy"], rows[eligible.id_number]["paid"]) == (True, False)
    assert (rows[neighbour.id_number]["proxy"], rows[neighbour.id_number]["paid"]) == (False, False)
    assert rows[eligible.id_number]["status"] == "eligible"


def test_updated_since_keeps_only_residents_changed_since(api, village, time_machine):
    time_machine.move_to(datetime.datetime(2023, 3, 1, tzinfo=datetime.UTC), tick=False)
    ResidentFactory(village=village)
    time_machine.move_to(datetime.datetime(2023, 6, 1, tzinfo=datetime.UTC), tick=False)
    changed = ResidentFactory(village=village)
    rows = payables(api, updated_since="2023-05-01T00:00:00+08:00").json()["results"]
    assert [row["id_number"] for row in rows] == [changed.id_number]


def test_the_list_is_pulled_page_by_page_with_cursors_and_a_fixed_number_of_queries(
    api, village, django_assert_num_queries
):
    people = ResidentFactory.create_batch(5, village=village)
    payables(api)  # the key's last-use time is written once a minute, not per page
    seen, url, pages = [], None, 0
    while True:
        with django_assert_num_queries(5):  # key, county, schedule, page, request log
            response = api.get(url) if url else payables(api, page_size=2)
        assert response.status_code == 200
        body = response.json()
        seen += [row["id_number"] for row in body["results"]]
        pages += 1
        url = body["next"]
        if url is None:
            break
    assert pages == 3
    assert seen == [p.id_number for p in sorted(people, key=lambda p: p.pk)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"county": ""}, "county"),
        ({"county": "53092"}, "county"),
        ({"year": "abc"}, "year"),
        ({"year": 1990}, "year"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),
    ],
)
def test_malformed_parameters_answer_400_naming_them(api, params, field):
    response = payables(api, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]
    assert f"〈{field}〉" in error["message"]


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM="])  # the second is "p=abc"
def test_a_forged_cursor_answers_400(api, resident, cursor):
    response = payables(api, cursor=cursor)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_another_county_in_the_query_answers_404(api, far_resident):
    response = payables(api, county="622901")
    assert response.status_code == 404
    assert far_resident.id_number not in response.content.decode()


def test_another_countys_key_gets_404(other_api, resident):
    response = payables(other_api)
    assert response.status_code == 404
    assert resident.id_number not in response.content.decode()


def test_without_a_key_it_answers_401(anonymous, resident):
    assert payables(anonymous).status_code == 401
