import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from collection.models import Payment
from conftest import make_user, make_village
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, User
from reconciliation.models import Discrepancy, SyncedRecord
from reconciliation.tests.factories_work import (
    duplicate,
    make_bank_line,
    make_discrepancy,
    tax_not_posted,
)

C = Discrepancy.Category
LIST = reverse("reconciliation:discrepancy_list")
EXPORT = reverse("reconciliation:discrepancy_export")


def detail(case):
    return reverse("reconciliation:discrepancy_detail", args=[case.pk])


def resolve(case):
    return reverse("reconciliation:discrepancy_resolve", args=[case.pk])


@pytest.fixture
def auditor(county):
    return make_user("cangyuan_audit", User.Role.AUDITOR, county)


@pytest.fixture
def case(county, resident):
    return tax_not_posted(county, resident, voucher_no="TX-2001", held=True)


@pytest.fixture
def neighbour_case(county, other_village):
    return tax_not_posted(county, ResidentFactory(village=other_village), voucher_no="TX-2002")


def shown(response) -> list[int]:
    return [d.pk for d in response.context["discrepancies"]]


# --- region scope --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [detail, resolve])
def test_a_case_outside_the_users_region_is_not_found(client, stranger, case, page):
    client.force_login(stranger)

    response = client.get(detail(case)) if page is detail else client.post(resolve(case), {
        "resolution": "accepted", "note": "外县人员处理",
    })  # fmt: skip

    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.OPEN and not AuditEntry.objects.exists()


def test_the_stranger_sees_no_case_in_the_worklist_or_its_export(client, stranger, case):
    client.force_login(stranger)

    assert shown(client.get(LIST)) == []
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(EXPORT).content)).active
    assert sheet.max_row == 2  # the title and the header


def test_township_staff_see_only_their_townships_cases(
    client, township_user, case, neighbour_case, county
):
    county_case = make_discrepancy(county, C.BANK_NO_TAX)  # no resident: the county's
    client.force_login(township_user)

    assert shown(client.get(LIST)) == [case.pk]
    assert client.get(detail(neighbour_case)).status_code == 404
    assert client.get(detail(county_case)).status_code == 404


def test_county_staff_see_every_township_and_the_county_level_cases(
    client, county_user, case, neighbour_case, county
):
    county_case = make_discrepancy(county, C.BANK_NO_TAX)
    client.force_login(county_user)

    assert set(shown(client.get(LIST))) == {case.pk, neighbour_case.pk, county_case.pk}


def test_the_login_page_is_where_an_anonymous_visitor_goes(client, case):
    response = client.get(LIST)

    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the worklist -------------------------------------------------------------------------------


def test_the_worklist_shows_open_cases_unless_another_status_is_asked_for(
    client, county_user, county, resident, case
):
    closed = make_discrepancy(county, C.AMOUNT_DIFFERS, resident=resident, status="cleared")
    client.force_login(county_user)

    assert shown(client.get(LIST)) == [case.pk]
    assert shown(client.get(LIST, {"status": "cleared"})) == [closed.pk]
    assert set(shown(client.get(LIST, {"status": ""}))) == {case.pk, closed.pk}


def test_the_worklist_filters_by_month_category_and_township(
    client, county_user, county, resident, case, neighbour_case
):
    june = make_discrepancy(
        county, C.TAX_NO_BANK, resident=resident, month=case.month.replace(month=6)
    )
    client.force_login(county_user)

    assert set(shown(client.get(LIST, {"month": "2023-05"}))) == {case.pk, neighbour_case.pk}
    assert shown(client.get(LIST, {"category": "tax_no_bank"})) == [june.pk]
    assert set(shown(client.get(LIST, {"township": "530927203"}))) == {case.pk, june.pk}


def test_a_township_filter_outside_the_users_region_finds_nothing_extra(
    client, township_user, case, neighbour_case
):
    client.force_login(township_user)

    response = client.get(LIST, {"township": "530927204"})

    assert shown(response) == [case.pk]
    assert response.context["filter"].form.errors["township"]


def test_a_month_that_is_no_month_is_explained(client, county_user, case):
    client.force_login(county_user)

    response = client.get(LIST, {"month": "五月"})

    assert "月份格式应为 2023-05" in response.content.decode()


@pytest.mark.parametrize(
    "text", ["TX-2001", "岩", "search-id"], ids=["voucher", "name", "id-number"]
)
def test_the_worklist_searches_by_voucher_name_or_id_number(
    client, county_user, county, case, neighbour_case, resident, text
):
    client.force_login(county_user)
    if text == "search-id":
        text = resident.id_number[:14]
    if text == "岩":
        text = resident.name

    assert shown(client.get(LIST, {"q": text})) == [case.pk]


def test_the_worklist_never_shows_a_phone_number(client, county_user, county, village):
    person = ResidentFactory(village=village, phone="13988887777")
    tax_not_posted(county, person)
    client.force_login(county_user)

    response = client.get(LIST)

    assert person.id_number in response.content.decode()
    assert "13988887777" not in response.content.decode()


def test_the_worklist_costs_the_same_queries_for_a_page_of_any_length(
    client, county_user, county, township, django_assert_num_queries
):
    villages = [make_village(township, n, f"村{n}") for n in range(201, 206)]
    for village in villages:
        tax_not_posted(county, ResidentFactory(village=village))
    client.force_login(county_user)
    client.get(LIST)  # the session, warmed

    with django_assert_num_queries(5):
        first = client.get(LIST)
    for village in villages:
        tax_not_posted(county, ResidentFactory(village=village))
    with django_assert_num_queries(5):
        second = client.get(LIST)

    assert (len(shown(first)), len(shown(second))) == (5, 10)
    assert "村201" in second.content.decode() and "糯良乡" in second.content.decode()


def test_the_worklist_is_paginated_by_fifty(client, county_user, county, resident):
    for n in range(51):
        make_discrepancy(county, C.AMOUNT_DIFFERS, resident=resident, record_key=f"bank:S{n}")
    client.force_login(county_user)

    assert len(shown(client.get(LIST))) == 50
    assert len(shown(client.get(LIST, {"page": 2}))) == 1


def test_the_worklist_sorts_by_a_column_both_ways_and_the_export_follows(
    client, county_user, county, resident
):
    small, large, none = (
        make_discrepancy(county, C.AMOUNT_DIFFERS, resident=resident, tax_amount=amount)
        for amount in (Decimal("200.00"), Decimal("1000.00"), None)
    )
    client.force_login(county_user)

    ascending = client.get(LIST, {"sort": "tax"})
    descending = client.get(LIST, {"sort": "-tax"})
    export = client.get(EXPORT, {"sort": "-tax"})

    # PostgreSQL puts a missing amount after every amount going up, before them going down.
    assert shown(ascending) == [small.pk, large.pk, none.pk]
    assert shown(descending) == [none.pk, large.pk, small.pk]
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.values)
    assert [row[8] for row in rows[2:]] == [None, 1000, 200]


def test_the_sort_links_keep_the_filters_and_turn_the_order_round(
    client, county_user, county, resident
):
    make_discrepancy(county, C.AMOUNT_DIFFERS, resident=resident)
    client.force_login(county_user)

    page = client.get(LIST, {"category": C.AMOUNT_DIFFERS, "sort": "month"}).content.decode()

    assert f'href="?category={C.AMOUNT_DIFFERS}&amp;sort=-month"' in page
    assert '<input type="hidden" name="sort" value="month">' in page


# --- the export ---------------------------------------------------------------------------------


def test_the_export_uses_the_same_filters_as_the_page(
    client, county_user, county, resident, case, neighbour_case
):
    make_discrepancy(county, C.AMOUNT_DIFFERS, resident=resident, status="cleared")
    client.force_login(county_user)

    response = client.get(EXPORT, {"township": "530927203"})

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert [row[4] for row in rows[2:]] == ["TX-2001"]  # open, in 糯良乡


def test_township_staff_export_only_their_township(client, township_user, case, neighbour_case):
    client.force_login(township_user)

    rows = list(openpyxl.load_workbook(io.BytesIO(client.get(EXPORT).content)).active.values)

    assert [row[4] for row in rows[2:]] == ["TX-2001"]


# --- one case ------------------------------------------------------------------------------------


def test_the_detail_page_shows_the_three_ledgers(client, county_user, county, resident, case):
    make_bank_line(county, serial_no="BK-77", voucher_no="TX-2001", resident=resident)
    client.force_login(county_user)

    response = client.get(detail(case))

    assert response.status_code == 200
    ledgers = response.context["ledgers"]
    assert ledgers.tax_line == case.tax_line and ledgers.synced_record == case.synced_record
    assert [b.serial_no for b in ledgers.bank_lines] == ["BK-77"]
    assert ledgers.payments == []
    page = response.content.decode()
    assert "BK-77" in page and "系统没有这笔缴费记录" in page and "挂起待处理" in page


def test_the_detail_page_shows_the_forms_that_fit_the_case(client, township_user, case):
    client.force_login(township_user)

    response = client.get(detail(case))

    assert response.context["actions"] == ["posted", "accepted"]
    page = response.content.decode()
    assert 'data-testid="form-posted"' in page and 'data-testid="form-accepted"' in page
    assert 'data-testid="form-refunded"' not in page


def test_the_auditor_sees_the_case_but_no_form(client, auditor, case):
    client.force_login(auditor)

    response = client.get(detail(case))

    assert response.status_code == 200
    assert response.context["actions"] == []
    assert '<form class="card' not in response.content.decode()
    assert "处理由县、乡镇社保经办人员办理" in response.content.decode()


@pytest.mark.parametrize("role", [User.Role.AUDITOR, User.Role.TAX])
def test_readers_who_post_a_resolution_are_forbidden_and_change_nothing(client, county, case, role):
    client.force_login(make_user(f"reader-{role}", role, county))

    response = client.post(resolve(case), {"resolution": "accepted", "note": "看过"})

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.OPEN and not AuditEntry.objects.exists()


def test_resolving_by_get_is_not_allowed_and_writes_nothing(client, township_user, case):
    client.force_login(township_user)

    assert client.get(resolve(case)).status_code == 405
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.OPEN


def test_posting_from_the_page_records_the_payment_and_says_so(
    client, township_user, case, resident
):
    client.force_login(township_user)

    response = client.post(resolve(case), {"resolution": "posted"}, follow=True)

    case.refresh_from_db()
    assert case.resolution == "posted"
    assert case.resolution_payment.resident == resident
    assert SyncedRecord.objects.get(voucher_no="TX-2001").status == "posted"
    assert "已补记入账：电子税票 TX-2001，300.00 元记入" in response.content.decode()


def test_a_second_click_on_the_page_is_explained_and_writes_nothing(client, township_user, case):
    client.force_login(township_user)
    client.post(resolve(case), {"resolution": "posted"})

    response = client.post(resolve(case), {"resolution": "posted"}, follow=True)

    assert "不能重复处理" in response.content.decode()
    assert Payment.objects.count() == 1
    assert AuditEntry.objects.filter(action="discrepancy.resolve").count() == 1


def test_linking_from_the_page_finds_the_resident_by_id_number(
    client, township_user, county, resident, village
):
    right = ResidentFactory(village=village, name="岩对的")
    case = make_discrepancy(
        county, C.ID_MISMATCH, resident=resident, name="岩对的", voucher_no="TX-L",
        contribution_year=2023, tax_amount=Decimal("300.00"),
    )  # fmt: skip
    from reconciliation.tests.factories_work import make_tax_line

    case.tax_line = make_tax_line(county, voucher_no="TX-L", resident=resident, name="岩对的")
    case.save(update_fields=["tax_line"])
    client.force_login(township_user)

    client.post(resolve(case), {"resolution": "linked", "id_number": right.id_number.lower()})

    case.refresh_from_db()
    assert case.resolution == "linked" and case.resolution_payment.resident == right


def test_linking_to_a_number_outside_the_clerks_region_is_explained(
    client, township_user, county, resident, far_resident
):
    case = make_discrepancy(county, C.ID_MISMATCH, resident=resident, name="岩别人")
    client.force_login(township_user)

    response = client.post(
        resolve(case), {"resolution": "linked", "id_number": far_resident.id_number}, follow=True
    )

    assert f"您的辖区内没有公民身份号码为 {far_resident.id_number} 的参保人" in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.OPEN and Payment.objects.count() == 0


def test_refunding_from_the_page_reverses_the_duplicate(client, township_user, county, resident):
    case, second = duplicate(county, resident)
    client.force_login(township_user)

    response = client.post(
        resolve(case),
        {"resolution": "refunded", "refund_voucher_no": "TF-9", "note": "已退回"},
        follow=True,
    )

    case.refresh_from_db()
    assert case.resolution_payment.reverses == second
    assert "凭证号 GT-SECOND 的缴费已冲正（退费凭证号 TF-9）" in response.content.decode()


def test_accepting_without_a_note_is_explained(client, township_user, case):
    client.force_login(township_user)

    response = client.post(resolve(case), {"resolution": "accepted"}, follow=True)

    assert "说明后确认必须填写处理说明" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.OPEN


def test_a_resolved_case_shows_who_resolved_it_and_offers_nothing(client, township_user, case):
    client.force_login(township_user)
    client.post(resolve(case), {"resolution": "accepted", "note": "税务已作废"})

    response = client.get(detail(case))

    assert response.context["actions"] == []
    page = response.content.decode()
    assert "说明后确认" in page and "税务已作废" in page and "处理对账差异" in page
