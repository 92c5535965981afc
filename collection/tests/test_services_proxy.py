import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from collection.models import Payment, ProxyBatch, ProxyBatchItem
from collection.services import payment_record, payment_reverse
from collection.services.proxy import (
    ProxyBatchRefused,
    proxy_batch_approve,
    proxy_batch_generate,
    proxy_batch_post,
    proxy_voucher_no,
)
from collection.tasks import generate_proxy_batches
from conftest import make_user
from enrollment.models import Resident
from enrollment.tests.factories import ResidentFactory, list_as
from pension.models import AuditEntry, Region, User


def listed(village, *categories, **fields):
    resident = ResidentFactory(village=village, area=village.code[:6], **fields)
    for category in categories:
        list_as(resident, category)
    return resident


@pytest.fixture
def approver(county):
    return make_user("cangyuan2", User.Role.COUNTY, county)


@pytest.fixture
def linxia(db):
    return Region.objects.get(code="622901")


@pytest.fixture
def gansu_village(far_village):
    return far_village


def generate(county, actor=None, **kwargs):
    return proxy_batch_generate(county=county, year=2023, actor=actor, **kwargs)


def approved_batch(county, county_user, approver):
    batch = generate(county, county_user).batch
    return proxy_batch_approve(batch=batch, actor=approver)


def nothing_written():
    return not ProxyBatch.objects.exists() and not ProxyBatchItem.objects.exists()


# --- who qualifies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "in_gansu", "in_yunnan"),
    [
        ("tuopin", True, False),
        ("disability", True, False),
        ("family_planning", True, False),
        ("dibao", True, True),
        ("tekun", True, True),
        ("fanpin", False, True),
    ],
)
def test_each_province_batches_its_own_qualifying_categories(
    county, linxia, village, gansu_village, category, in_gansu, in_yunnan
):
    listed(village, category)
    listed(gansu_village, category)

    yunnan = generate(county)
    gansu = generate(linxia)

    assert (yunnan.qualifying, gansu.qualifying) == (int(in_yunnan), int(in_gansu))


def test_a_listing_not_backed_by_a_list_of_the_year_does_not_qualify(county, village):
    listed_last_year = ResidentFactory(village=village)
    list_as(listed_last_year, "dibao", on=datetime.date(2022, 11, 30))

    result = generate(county)

    assert result.qualifying == 0 and result.batch is None
    assert nothing_written()


def test_sealed_deceased_and_excluded_residents_are_not_batched(county, village):
    for status in ("sealed", "deceased", "cancelled", "receiving"):
        listed(village, "dibao", status=status)
    listed(village, "dibao", status="excluded", exclusion="student")
    eligible = listed(village, "dibao", status=Resident.Status.ELIGIBLE)

    result = generate(county)

    assert result.qualifying == 1
    assert list(result.batch.items.values_list("resident_id", flat=True)) == [eligible.pk]


def test_the_batch_lists_each_resident_once_under_the_first_category_at_the_proxy_amount(
    county, village
):
    resident = listed(village, "tekun", "dibao")

    batch = generate(county).batch

    item = batch.items.get()
    assert (item.resident_id, item.category, item.amount) == (resident.pk, "dibao", Decimal("100"))
    assert (batch.resident_count, batch.amount) == (1, Decimal("100.00"))


def test_a_resident_already_paid_by_proxy_is_counted_but_not_batched(county, village):
    paid = listed(village, "dibao")
    payment_record(
        resident=paid, contribution_year=2023, amount="100", kind=Payment.Kind.PROXY,
        channel=Payment.Channel.GOVERNMENT, source=Payment.Source.COUNTER, voucher_no="C-1",
    )  # fmt: skip
    waiting = listed(village, "tekun")

    result = generate(county)

    assert (result.qualifying, result.already_paid, result.in_batch) == (2, 1, 1)
    assert list(result.batch.items.values_list("resident_id", flat=True)) == [waiting.pk]


def test_a_reversed_proxy_payment_does_not_count_as_paid(county, village):
    resident = listed(village, "dibao")
    payment, _ = payment_record(
        resident=resident, contribution_year=2023, amount="100", kind=Payment.Kind.PROXY,
        channel=Payment.Channel.GOVERNMENT, source=Payment.Source.COUNTER, voucher_no="C-1",
    )  # fmt: skip
    payment_reverse(payment=payment, voucher_no="C-1R", reason="录错人")

    assert generate(county).in_batch == 1


# --- generating again ----------------------------------------------------------------------


def test_generating_again_when_nothing_changed_adds_nobody(county, village, county_user):
    listed(village, "dibao")
    first = generate(county, county_user)

    again = generate(county, county_user)

    assert (again.status, again.added, again.batch.pk) == ("unchanged", 0, first.batch.pk)
    assert ProxyBatch.objects.count() == 1 and ProxyBatchItem.objects.count() == 1


def test_new_qualifying_residents_join_the_open_batch(county, village, county_user):
    listed(village, "dibao")
    first = generate(county, county_user)
    listed(village, "tekun")

    again = generate(county, county_user)

    assert (again.status, again.added, again.in_batch) == ("extended", 1, 2)
    assert again.batch.pk == first.batch.pk and ProxyBatch.objects.count() == 1
    assert ProxyBatch.objects.get().amount == Decimal("200.00")


def test_joining_an_approved_batch_sends_it_back_for_approval(
    county, village, county_user, approver
):
    listed(village, "dibao")
    batch = approved_batch(county, county_user, approver)
    listed(village, "tekun")

    again = generate(county)

    assert again.status == "reopened" and again.batch.pk == batch.pk
    batch.refresh_from_db()
    assert (batch.status, batch.approved_by, batch.resident_count) == ("pending", None, 2)


def test_a_dry_run_counts_and_writes_nothing(county, village, county_user):
    listed(village, "dibao")

    result = generate(county, county_user, dry_run=True)

    assert (result.status, result.qualifying, result.in_batch) == ("dry_run", 1, 1)
    assert nothing_written() and not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["township_user", "stranger"])
def test_only_the_countys_own_county_users_generate(request, county, village, who):
    listed(village, "dibao")

    with pytest.raises(ProxyBatchRefused, match="县级经办人员"):
        generate(county, request.getfixturevalue(who))
    assert nothing_written()


def test_without_a_schedule_for_the_year_generation_is_refused(county, village):
    listed(
        village,
        "dibao",
    )
    with pytest.raises(ProxyBatchRefused, match="2024 年度尚未配置"):
        proxy_batch_generate(county=county, year=2024, actor=None)
    assert nothing_written()


# --- approval ------------------------------------------------------------------------------


def test_another_county_user_approves(county, village, county_user, approver):
    listed(village, "dibao")

    batch = approved_batch(county, county_user, approver)

    batch.refresh_from_db()
    assert (batch.status, batch.approved_by) == ("approved", approver)
    assert AuditEntry.objects.filter(action="proxy_batch.approve").count() == 1


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("county_user", "审批人不能是批次生成人"),
        ("township_user", "县级经办人员"),
        ("stranger", "县级经办人员"),
    ],
)
def test_approval_is_refused_to_the_generator_and_to_others(
    request, county, village, county_user, who, message
):
    listed(village, "dibao")
    batch = generate(county, county_user).batch

    with pytest.raises(ProxyBatchRefused, match=message):
        proxy_batch_approve(batch=batch, actor=request.getfixturevalue(who))

    batch.refresh_from_db()
    assert (batch.status, batch.approved_by) == ("pending", None)
    assert not AuditEntry.objects.filter(action="proxy_batch.approve").exists()


def test_approving_twice_is_refused(county, village, county_user, approver):
    listed(village, "dibao")
    batch = approved_batch(county, county_user, approver)

    with pytest.raises(ProxyBatchRefused, match="只有待审批的批次"):
        proxy_batch_approve(batch=batch, actor=approver)


# --- posting -------------------------------------------------------------------------------


def test_posting_creates_the_proxy_payments_and_enrols_eligible_residents(
    county, village, county_user, approver
):
    enrolled = listed(village, "dibao")
    eligible = listed(village, "tekun", status=Resident.Status.ELIGIBLE)
    batch = approved_batch(county, county_user, approver)

    result = proxy_batch_post(batch=batch, actor=county_user)

    assert (result.payments, result.enrolled, result.skipped) == (2, 1, 0)
    payment = Payment.objects.get(resident=eligible)
    assert (payment.kind, payment.channel, payment.source) == ("proxy", "government", "proxy_batch")
    assert (payment.amount, payment.subsidy) == (Decimal("100.00"), Decimal("0.00"))
    assert payment.voucher_no == proxy_voucher_no(batch_id=batch.pk, resident_id=eligible.pk)
    assert set(batch.items.values_list("payment__resident_id", flat=True)) == {
        enrolled.pk,
        eligible.pk,
    }
    eligible.refresh_from_db()
    assert eligible.status == Resident.Status.ENROLLED
    audit = AuditEntry.objects.get(action="resident.status", target_id=str(eligible.pk))
    assert audit.changes == {"status": ["eligible", "enrolled"]} and audit.actor == county_user
    batch.refresh_from_db()
    assert batch.status == "posted" and batch.posted_at is not None


def test_posting_twice_is_refused_and_writes_nothing(county, village, county_user, approver):
    listed(village, "dibao")
    batch = approved_batch(county, county_user, approver)
    proxy_batch_post(batch=batch, actor=county_user)
    audit_rows = AuditEntry.objects.count()

    with pytest.raises(ProxyBatchRefused, match="只有已审批的批次可以入账"):
        proxy_batch_post(batch=ProxyBatch.objects.get(), actor=county_user)

    assert Payment.objects.count() == 1 and AuditEntry.objects.count() == audit_rows


def test_a_pending_batch_cannot_be_posted(county, village, county_user):
    listed(village, "dibao")
    batch = generate(county, county_user).batch

    with pytest.raises(ProxyBatchRefused, match="只有已审批的批次"):
        proxy_batch_post(batch=batch, actor=county_user)
    assert not Payment.objects.exists()


def test_a_resident_paid_at_the_counter_after_batching_is_not_paid_twice(
    county, village, county_user, approver
):
    resident = listed(village, "dibao")
    batch = approved_batch(county, county_user, approver)
    payment_record(
        resident=resident, contribution_year=2023, amount="100", kind=Payment.Kind.PROXY,
        channel=Payment.Channel.GOVERNMENT, source=Payment.Source.COUNTER, voucher_no="C-1",
    )  # fmt: skip

    result = proxy_batch_post(batch=batch, actor=county_user)

    assert (result.payments, result.skipped) == (0, 1)
    assert Payment.objects.filter(resident=resident).count() == 1


def test_after_posting_the_next_generation_finds_everyone_paid(
    county, village, county_user, approver
):
    listed(village, "dibao")
    batch = approved_batch(county, county_user, approver)
    proxy_batch_post(batch=batch, actor=county_user)

    again = generate(county)

    assert (again.qualifying, again.already_paid, again.added, again.batch) == (1, 1, 0, None)


# --- command and task ----------------------------------------------------------------------


def test_the_command_prints_the_summary_as_json(county, village):
    listed(village, "dibao")
    out = StringIO()

    call_command("proxy_batch", "--county", "530927", "--year", "2023", "--json", stdout=out)

    summary = json.loads(out.getvalue())
    assert set(summary) >= {"qualifying", "already_paid", "in_batch", "batch_id", "status"}
    assert summary["batch_id"] == ProxyBatch.objects.get().pk and summary["in_batch"] == 1


def test_the_command_dry_run_writes_nothing(county, village):
    listed(village, "dibao")
    out = StringIO()

    call_command("proxy_batch", "--county", "530927", "--year", "2023", "--dry-run", stdout=out)

    assert "符合代缴条件 1 人" in out.getvalue()
    assert nothing_written()


def test_the_monthly_task_batches_every_county_once(county, village, gansu_village):
    listed(village, "dibao")
    listed(gansu_village, "tuopin")

    generate_proxy_batches(year=2023)
    generate_proxy_batches(year=2023)

    assert sorted(ProxyBatch.objects.values_list("county_id", flat=True)) == ["530927", "622901"]
    assert ProxyBatchItem.objects.count() == 2
