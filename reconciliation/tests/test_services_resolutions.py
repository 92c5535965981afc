import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from collection.models import ContributionSchedule, Payment, Tier
from conftest import make_user
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, User
from reconciliation.models import Discrepancy, SyncedRecord
from reconciliation.services.reconcile import reconcile_month
from reconciliation.services.resolutions import (
    ResolutionRefused,
    discrepancy_actions,
    discrepancy_resolve,
)
from reconciliation.tests.factories_work import (
    MAY,
    duplicate,
    make_discrepancy,
    make_synced_record,
    make_tax_line,
    record_payment,
    tax_not_posted,
)

R = Discrepancy.Resolution
C = Discrepancy.Category


@pytest.fixture
def auditor(county):
    return make_user("cangyuan_audit", User.Role.AUDITOR, county)


def resolutions():
    return AuditEntry.objects.filter(action="discrepancy.resolve")


def assert_nothing_written(case, payments_before=0):
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.OPEN
    assert (case.resolution, case.resolution_payment_id, case.resolved_by_id) == ("", None, None)
    assert Payment.objects.count() == payments_before
    assert not resolutions().exists()


# --- posting the tax bureau's money ----------------------------------------------------------


def test_posting_records_the_tax_money_as_a_payment_and_closes_the_case(
    county, resident, township_user
):
    case = tax_not_posted(county, resident, voucher_no="TX-1001")

    resolved = discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)

    payment = resolved.resolution_payment
    assert (payment.resident, payment.contribution_year, payment.amount) == (
        resident, 2023, Decimal("300.00")
    )  # fmt: skip
    assert (payment.kind, payment.channel, payment.source, payment.voucher_no) == (
        Payment.Kind.PERSONAL, Payment.Channel.TAX_HALL, Payment.Source.TAX_SYNC, "TX-1001"
    )  # fmt: skip
    assert timezone.localtime(payment.paid_at).replace(tzinfo=None) == datetime.datetime(
        2023, 5, 10, 12
    )
    assert payment.recorded_by == township_user
    assert (resolved.status, resolved.resolution) == (Discrepancy.Status.RESOLVED, R.POSTED)
    assert (resolved.resolved_by, resolved.resolved_at is not None) == (township_user, True)
    entry = AuditEntry.objects.for_object(case).get(action="discrepancy.resolve")
    assert entry.actor == township_user and entry.region_code == resident.village_id
    assert entry.changes["payment"] == "TX-1001"


def test_posting_moves_a_held_synced_record_to_posted_with_its_channel(
    county, resident, township_user
):
    case = tax_not_posted(county, resident, voucher_no="TX-1002", held=True)

    resolved = discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)

    record = SyncedRecord.objects.get(voucher_no="TX-1002")
    assert record.status == SyncedRecord.Status.POSTED
    assert record.payment == resolved.resolution_payment
    assert resolved.resolution_payment.channel == Payment.Channel.WECHAT
    entry = AuditEntry.objects.for_object(record).get()
    assert (entry.action, entry.actor) == ("synced_record.post", township_user)


def test_a_back_payment_synced_by_the_tax_bureau_is_posted_as_a_back_payment(
    county, resident, township_user
):
    schedule = ContributionSchedule.objects.create(
        province_id="53", year=2022, window_start=datetime.date(2022, 3, 1),
        window_end=datetime.date(2022, 12, 31),
    )  # fmt: skip
    Tier.objects.create(schedule=schedule, amount=Decimal("300.00"), subsidy=Decimal("30.00"))
    record = make_synced_record(
        county, voucher_no="TX-BACK", resident=resident, kind=SyncedRecord.Kind.BACK,
        contribution_year=2022,
    )  # fmt: skip
    case = make_discrepancy(
        county, C.TAX_NOT_POSTED, record_key="tax:TX-BACK", resident=resident,
        voucher_no="TX-BACK", contribution_year=2022, tax_amount=Decimal("300.00"),
        synced_record=record,
    )  # fmt: skip

    resolved = discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)

    payment = resolved.resolution_payment
    assert (payment.kind, payment.contribution_year, payment.subsidy) == (
        Payment.Kind.BACK, 2022, Decimal("0.00")
    )  # fmt: skip


def test_a_payment_the_ledger_refuses_is_a_refusal_and_nothing_is_written(
    county, resident, township_user
):
    case = tax_not_posted(county, resident, voucher_no="TX-1003", amount="250.00")

    with pytest.raises(ResolutionRefused, match=r"250\.00 元不是 2023 年度的缴费档次"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)

    assert_nothing_written(case)


def test_a_second_click_is_refused_and_nothing_is_written_twice(county, resident, township_user):
    case = tax_not_posted(county, resident, voucher_no="TX-1004", held=True)
    discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)

    with pytest.raises(ResolutionRefused, match=r"已于 .* 由.*处理（补记入账），不能重复处理"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)

    assert Payment.objects.filter(voucher_no="TX-1004").count() == 1
    assert resolutions().count() == 1
    assert AuditEntry.objects.filter(action="synced_record.post").count() == 1


def test_a_resolved_case_cannot_be_resolved_another_way(county, resident, township_user):
    case = tax_not_posted(county, resident)
    discrepancy_resolve(
        discrepancy=case, resolution=R.ACCEPTED, actor=township_user, note="税务已作废该票"
    )

    with pytest.raises(ResolutionRefused, match="不能重复处理"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)

    case.refresh_from_db()
    assert (case.resolution, Payment.objects.count()) == (R.ACCEPTED, 0)
    assert discrepancy_actions(discrepancy=case, user=township_user) == []


def test_a_case_whose_id_number_is_not_on_file_cannot_be_posted(county, township_user):
    line = make_tax_line(
        county, voucher_no="TX-NOID", id_number="530927199001011234", name="岩不在"
    )
    case = make_discrepancy(
        county, C.TAX_NOT_POSTED, record_key="tax:TX-NOID", voucher_no="TX-NOID",
        id_number=line.id_number, name=line.name, contribution_year=2023,
        tax_amount=line.amount, tax_line=line,
    )  # fmt: skip
    county_user = make_user("cangyuan9", User.Role.COUNTY, county)

    assert R.POSTED not in discrepancy_actions(discrepancy=case, user=county_user)
    with pytest.raises(ResolutionRefused, match="证件号码 530927199001011234 不在册"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=county_user)
    assert_nothing_written(case)


def test_posting_is_refused_for_a_resident_outside_the_clerks_region(
    county, other_village, township_user
):
    # A case the reconciliation could not place in a village, but whose number names a
    # resident of another township: township staff may not put money on that resident.
    neighbour = ResidentFactory(village=other_village)
    line = make_tax_line(county, voucher_no="TX-NB", resident=neighbour)
    case = make_discrepancy(
        county, C.TAX_NOT_POSTED, record_key="tax:TX-NB", region_code=township_user.region_id,
        voucher_no="TX-NB", id_number=neighbour.id_number, name=neighbour.name,
        contribution_year=2023, tax_amount=line.amount, tax_line=line,
    )  # fmt: skip

    with pytest.raises(ResolutionRefused, match="不在您的辖区"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)
    assert_nothing_written(case)


# --- a wrong ID number or name ------------------------------------------------------------------


def id_mismatch(county, resident, *, name):
    line = make_tax_line(county, voucher_no="TX-MIS", resident=resident, name=name)
    return make_discrepancy(
        county, C.ID_MISMATCH, record_key="tax:TX-MIS", resident=resident, name=name,
        voucher_no="TX-MIS", contribution_year=2023, tax_amount=line.amount, tax_line=line,
    )  # fmt: skip


def test_an_id_mismatch_is_not_posted_while_the_names_still_differ(county, resident, township_user):
    case = id_mismatch(county, resident, name="岩别人")

    assert discrepancy_actions(discrepancy=case, user=township_user) == [R.LINKED, R.ACCEPTED]
    with pytest.raises(ResolutionRefused, match="仍不一致"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)
    assert_nothing_written(case)


def test_an_id_mismatch_is_posted_once_the_name_on_file_is_corrected(
    county, resident, township_user
):
    case = id_mismatch(county, resident, name="岩别人")
    resident.name = "岩别人"
    resident.save(update_fields=["name"])

    assert R.POSTED in discrepancy_actions(discrepancy=case, user=township_user)
    resolved = discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)
    assert resolved.resolution_payment.resident == resident


def test_linking_posts_the_money_to_the_right_resident(county, resident, village, township_user):
    case = id_mismatch(county, resident, name="岩别人")
    right = ResidentFactory(village=village, name="岩别人")

    resolved = discrepancy_resolve(
        discrepancy=case, resolution=R.LINKED, actor=township_user, resident=right,
        note="税务录错身份证号",
    )  # fmt: skip

    payment = resolved.resolution_payment
    assert (payment.resident, payment.voucher_no, payment.amount) == (
        right, "TX-MIS", Decimal("300.00")
    )  # fmt: skip
    assert resolved.resolution == R.LINKED
    entry = resolutions().get()
    assert entry.changes["resident"] == right.id_number and entry.note == "税务录错身份证号"


def test_linking_needs_the_right_resident(county, resident, township_user):
    case = id_mismatch(county, resident, name="岩别人")

    with pytest.raises(ResolutionRefused, match="必须填写该参保人的公民身份号码"):
        discrepancy_resolve(discrepancy=case, resolution=R.LINKED, actor=township_user)
    assert_nothing_written(case)


def test_linking_to_a_resident_outside_the_clerks_region_is_refused(
    county, resident, other_village, township_user
):
    case = id_mismatch(county, resident, name="岩别人")
    elsewhere = ResidentFactory(village=other_village, name="岩别人")

    with pytest.raises(ResolutionRefused, match="不在您的辖区"):
        discrepancy_resolve(
            discrepancy=case, resolution=R.LINKED, actor=township_user, resident=elsewhere
        )
    assert_nothing_written(case)


def test_an_amount_that_is_not_a_tier_is_not_posted_until_it_is_one(
    county, resident, township_user
):
    line = make_tax_line(county, voucher_no="TX-250", resident=resident, amount="250.00")
    case = make_discrepancy(
        county, C.NOT_A_TIER, record_key="tax:TX-250", resident=resident, voucher_no="TX-250",
        contribution_year=2023, tax_amount=line.amount, tax_line=line,
    )  # fmt: skip

    assert discrepancy_actions(discrepancy=case, user=township_user) == [R.ACCEPTED]
    with pytest.raises(ResolutionRefused, match="不是 2023 年度的缴费档次"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)
    assert_nothing_written(case)

    schedule = ContributionSchedule.objects.get(province_id="53", year=2023)
    Tier.objects.create(schedule=schedule, amount=Decimal("250.00"), subsidy=Decimal("30.00"))
    assert R.POSTED in discrepancy_actions(discrepancy=case, user=township_user)


# --- refunds -----------------------------------------------------------------------------------


def test_refunding_a_duplicate_reverses_it(county, resident, township_user):
    case, second = duplicate(county, resident)

    resolved = discrepancy_resolve(
        discrepancy=case, resolution=R.REFUNDED, actor=township_user,
        refund_voucher_no="TF-0001", note="已退回本人银行卡",
    )  # fmt: skip

    reversal = resolved.resolution_payment
    assert (reversal.reverses, reversal.amount, reversal.voucher_no) == (
        second, Decimal("-300.00"), "TF-0001"
    )  # fmt: skip
    assert reversal.note == "重复缴费退费：已退回本人银行卡"
    assert resolutions().get().changes["refund"] == "TF-0001"


def test_a_duplicate_found_from_its_tax_line_reverses_the_payment_of_that_voucher(
    county, resident, township_user
):
    # The counter and the sync both stored the voucher; the sync's is the duplicate.
    record_payment(resident, "TX-DUP")
    second = record_payment(resident, "TX-DUP", source=Payment.Source.TAX_SYNC)
    case = make_discrepancy(
        county, C.DUPLICATE, record_key="tax:TX-DUP", resident=resident, voucher_no="TX-DUP",
        contribution_year=2023, tax_amount=Decimal("300.00"),
    )  # fmt: skip

    resolved = discrepancy_resolve(
        discrepancy=case, resolution=R.REFUNDED, actor=township_user, refund_voucher_no="TF-2"
    )

    assert resolved.resolution_payment.reverses == second


def test_a_refund_of_a_payment_needs_a_refund_voucher(county, resident, township_user):
    case, _ = duplicate(county, resident)

    with pytest.raises(ResolutionRefused, match="退费必须填写退费凭证号"):
        discrepancy_resolve(discrepancy=case, resolution=R.REFUNDED, actor=township_user)
    assert_nothing_written(case, payments_before=2)


def test_a_refund_voucher_already_used_is_refused(county, resident, township_user):
    case, _ = duplicate(county, resident)

    with pytest.raises(ResolutionRefused, match="退费凭证号 GT-FIRST 已被使用"):
        discrepancy_resolve(
            discrepancy=case, resolution=R.REFUNDED, actor=township_user,
            refund_voucher_no="GT-FIRST",
        )  # fmt: skip
    assert_nothing_written(case, payments_before=2)


def test_a_payment_already_reversed_cannot_be_refunded_again(county, resident, township_user):
    from collection.services.payments import payment_reverse

    case, second = duplicate(county, resident)
    payment_reverse(payment=second, voucher_no="CZ-1", reason="柜面冲正", recorded_by=township_user)

    with pytest.raises(ResolutionRefused, match="不能退费：凭证号 GT-SECOND 的缴费已被冲正"):
        discrepancy_resolve(
            discrepancy=case, resolution=R.REFUNDED, actor=township_user, refund_voucher_no="TF-3"
        )
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.OPEN and Payment.objects.count() == 3


def test_a_refund_without_a_payment_on_file_is_a_decision_with_a_note(county, township_user):
    case = make_discrepancy(
        county, C.POSTED_NO_TAX, region_code=township_user.region_id, voucher_no="TX-GONE"
    )

    with pytest.raises(ResolutionRefused, match="退费必须填写处理说明"):
        discrepancy_resolve(discrepancy=case, resolution=R.REFUNDED, actor=township_user)
    assert_nothing_written(case)

    resolved = discrepancy_resolve(
        discrepancy=case, resolution=R.REFUNDED, actor=township_user, note="银行已原路退回"
    )
    assert (resolved.resolution, resolved.resolution_payment) == (R.REFUNDED, None)
    assert resolved.resolution_note == "银行已原路退回"


# --- accepting, categories and roles -------------------------------------------------------------


def test_accepting_needs_a_note(county, resident, township_user):
    case = make_discrepancy(county, C.AMOUNT_DIFFERS, resident=resident)

    with pytest.raises(ResolutionRefused, match="说明后确认必须填写处理说明"):
        discrepancy_resolve(discrepancy=case, resolution=R.ACCEPTED, actor=township_user, note=" ")
    assert_nothing_written(case)

    resolved = discrepancy_resolve(
        discrepancy=case, resolution=R.ACCEPTED, actor=township_user, note="银行手续费差额"
    )
    assert (resolved.status, resolved.resolution_note) == (
        Discrepancy.Status.RESOLVED, "银行手续费差额"
    )  # fmt: skip
    assert resolutions().get().note == "银行手续费差额"


@pytest.mark.parametrize(
    ("category", "actions"),
    [
        (C.TAX_NOT_POSTED, [R.POSTED, R.ACCEPTED]),
        (C.POSTED_NO_TAX, [R.REFUNDED, R.ACCEPTED]),
        (C.BANK_NO_TAX, [R.ACCEPTED]),
        (C.TAX_NO_BANK, [R.ACCEPTED]),
        (C.AMOUNT_DIFFERS, [R.ACCEPTED]),
        (C.DUPLICATE, [R.REFUNDED, R.ACCEPTED]),
    ],
)
def test_each_category_offers_the_resolutions_that_fit_it(
    county, resident, township_user, category, actions
):
    line = make_tax_line(county, voucher_no=f"TX-{category}", resident=resident)
    case = make_discrepancy(
        county, category, resident=resident, voucher_no=line.voucher_no, contribution_year=2023,
        tax_amount=line.amount, tax_line=line,
    )  # fmt: skip

    assert discrepancy_actions(discrepancy=case, user=township_user) == actions


def test_a_resolution_that_does_not_fit_the_category_is_refused(county, resident, township_user):
    case, _ = duplicate(county, resident)

    with pytest.raises(ResolutionRefused, match="“同一年度重复缴费”的差异不能补记入账"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=township_user)
    assert_nothing_written(case, payments_before=2)


@pytest.mark.parametrize("role", [User.Role.AUDITOR, User.Role.TAX, User.Role.AGENT])
def test_readers_are_offered_nothing_and_refused(county, village, resident, role):
    reader = make_user(f"reader-{role}", role, county)
    if role == User.Role.AGENT:
        reader.villages.add(village)
    case = tax_not_posted(county, resident)

    assert discrepancy_actions(discrepancy=case, user=reader) == []
    with pytest.raises(ResolutionRefused, match="只有本辖区的县、乡镇经办人员可以处理"):
        discrepancy_resolve(discrepancy=case, resolution=R.ACCEPTED, actor=reader, note="看过")
    assert_nothing_written(case)


def test_staff_of_another_township_cannot_resolve(county, resident, neighbour_user):
    case = tax_not_posted(county, resident)

    assert discrepancy_actions(discrepancy=case, user=neighbour_user) == []
    with pytest.raises(ResolutionRefused, match="只有本辖区"):
        discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=neighbour_user)
    assert_nothing_written(case)


def test_county_staff_resolve_the_cases_of_every_township(county, resident, county_user):
    case = tax_not_posted(county, resident)

    resolved = discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=county_user)

    assert resolved.resolved_by == county_user


# --- the next run ------------------------------------------------------------------------------


def test_a_resolved_case_stays_resolved_when_the_next_run_finds_it_again(
    county, resident, county_user
):
    make_tax_line(county, voucher_no="TX-RUN", resident=resident)
    reconcile_month(county=county, month=MAY, actor=county_user)
    case = Discrepancy.objects.get(record_key="tax:TX-RUN")
    assert (case.category, case.status) == (C.TAX_NOT_POSTED, Discrepancy.Status.OPEN)
    discrepancy_resolve(
        discrepancy=case, resolution=R.ACCEPTED, actor=county_user, note="税务将作废该票"
    )

    reconcile_month(county=county, month=MAY, actor=county_user)

    case.refresh_from_db()
    assert (case.status, case.resolution, case.resolution_note) == (
        Discrepancy.Status.RESOLVED, R.ACCEPTED, "税务将作废该票"
    )  # fmt: skip
    assert Discrepancy.objects.filter(record_key="tax:TX-RUN").count() == 1


def test_a_posted_case_is_matched_by_the_next_run_and_stays_resolved(
    county, township, resident, county_user
):
    make_tax_line(county, voucher_no="TX-RUN2", resident=resident)
    reconcile_month(county=county, month=MAY, actor=county_user)
    case = Discrepancy.objects.get(record_key="tax:TX-RUN2")
    discrepancy_resolve(discrepancy=case, resolution=R.POSTED, actor=county_user)

    run = reconcile_month(county=county, month=MAY, actor=county_user)

    case.refresh_from_db()
    assert (case.status, case.resolution) == (Discrepancy.Status.RESOLVED, R.POSTED)
    total = run.totals.get(township=township)
    assert (total.tax_count, total.system_count, total.system_sum) == (1, 1, Decimal("300.00"))
