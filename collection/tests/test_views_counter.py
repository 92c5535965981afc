"""The township counter: find, record, print; a receipt is region-scoped and never shows the
full ID number."""

from decimal import Decimal

from django.urls import reverse

from collection.models import Payment
from conftest import make_user
from pension.models import User
from pension.money import in_capitals


def pay(client, resident, **overrides):
    data = {"resident": resident.pk, "year": 2023, "amount": "300.00", "kind": "personal",
            "channel": "township_office", "voucher_no": "NL-2023-0001", **overrides}  # fmt: skip
    return client.post(reverse("collection:counter"), data)


def test_amounts_are_written_in_capitals_as_banks_write_them():
    assert in_capitals(Decimal("500.00")) == "伍佰元整"
    assert in_capitals(Decimal("1234.50")) == "壹仟贰佰叁拾肆元伍角"
    assert in_capitals(Decimal("-300.00")) == "负叁佰元整"


def test_staff_find_a_resident_by_id_and_record_a_payment_then_see_the_receipt(
    client, township_user, resident
):
    client.force_login(township_user)
    found = client.get(reverse("collection:counter"), {"q": resident.id_number[:10]})
    assert resident in list(found.context["matches"])
    response = pay(client, resident)
    payment = Payment.objects.get()
    assert response["Location"] == reverse("collection:receipt", args=[payment.pk])
    assert (payment.recorded_by, payment.source) == (township_user, "counter")
    receipt = client.get(response["Location"]).content.decode()
    assert "叁佰元整" in receipt and resident.masked_id in receipt
    assert resident.id_number not in receipt and "NL-2023-0001" in receipt


def test_an_amount_that_is_not_a_tier_is_refused_and_nothing_is_written(
    client, township_user, resident
):
    client.force_login(township_user)
    response = pay(client, resident, amount="250.00")
    assert response.status_code == 200 and response.context["form"].errors["amount"]
    assert not Payment.objects.exists()


def test_a_voucher_already_used_for_another_payment_is_refused_with_the_reason(
    client, township_user, resident, far_resident
):
    client.force_login(township_user)
    pay(client, resident)
    response = pay(client, resident, amount="500.00")
    assert "内容不一致" in response.context["error"]
    assert Payment.objects.count() == 1


def test_a_receipt_outside_the_users_region_answers_404(client, neighbour_user, resident):
    payment = Payment.objects.create(
        resident=resident, contribution_year=2023, amount=Decimal("300.00"), kind="personal",
        channel="wechat", source="counter", voucher_no="WX-1", paid_at="2023-03-01T10:00+08:00",
    )  # fmt: skip
    client.force_login(neighbour_user)
    assert client.get(reverse("collection:receipt", args=[payment.pk])).status_code == 404
    assert client.get(reverse("collection:counter"), {"resident": resident.pk}).status_code == 404


def test_auditors_cannot_record_payments(client, county, resident):
    auditor = make_user("audit", User.Role.AUDITOR, county)
    client.force_login(auditor)
    assert pay(client, resident).status_code == 403
    assert not Payment.objects.exists()


# --- the year the counter opens on ---------------------------------------------------------


def counter(client, resident, **query):
    return client.get(reverse("collection:counter"), {"resident": resident.pk, **query})


def test_without_this_years_schedule_the_counter_opens_on_the_latest_configured_year(
    client, township_user, resident
):
    client.force_login(township_user)

    response = counter(client, resident)

    assert response.context["year"] == 2023  # only 2023's Yunnan schedule ships
    assert response.context["form"].fields["amount"].choices
    assert 2023 in response.context["years"]


def test_a_year_asked_for_opens_with_its_tiers_and_is_posted_with_the_payment(
    client, township_user, resident
):
    client.force_login(township_user)

    response = counter(client, resident, year="2023")

    assert response.context["form"]["year"].value() == 2023
    assert 'name="year" value="2023"' in response.content.decode()


def test_a_year_or_resident_that_is_not_a_number_is_no_server_error_and_writes_nothing(
    client, township_user, resident
):
    client.force_login(township_user)

    bad_year = counter(client, resident, year="二〇二三")
    bad_resident = client.get(reverse("collection:counter"), {"resident": "abc"})
    posted = pay(client, resident, year="abc")

    assert bad_year.status_code == 200 and bad_year.context["year"] == 2023
    assert bad_resident.status_code == 404
    assert posted.status_code == 200 and not Payment.objects.exists()
    assert "缴费年度" in posted.content.decode()
