"""The monthly reconciliation: matching, the eight categories, totals, runs and their history."""

import datetime
from decimal import Decimal

import pytest

from collection.models import Payment
from enrollment.tests.factories import ResidentFactory, make_id_number
from pension.models import AuditEntry, Region
from reconciliation.models import Discrepancy, ReconciliationRun, TownshipTotal
from reconciliation.services.reconcile import (
    CATEGORIES,
    ReconciliationRefused,
    reconcile_may_run,
    reconcile_month,
)
from reconciliation.tests.fixtures_recon import (  # noqa: F401  (fixtures)
    MONTH,
    api_key_fixture,
    bank_row,
    beijing,
    held_record,
    import_bank,
    import_tax,
    neighbour_fixture,
    paid_everywhere,
    pay,
    tax_account_fixture,
    tax_row,
)

Category = Discrepancy.Category


def run(county):
    return reconcile_month(county=county, month=MONTH)


def cases():
    return {d.record_key: d.category for d in Discrepancy.objects.all()}


def test_a_contribution_in_all_three_ledgers_is_matched_and_raises_no_case(county, resident):
    paid_everywhere(county, resident, "T1")
    done = run(county)
    assert done.status == ReconciliationRun.Status.DONE and done.is_current
    assert done.summary["matched"] == 1
    assert done.summary["tax"] == done.summary["bank"] == done.summary["system"] == {
        "count": 1, "sum": "300.00"
    }  # fmt: skip
    assert set(done.summary["categories"].values()) == {0}
    assert not Discrepancy.objects.exists()


def test_tax_money_with_no_payment_is_in_tax_not_posted(county, resident):
    import_tax(county, tax_row(resident, "T1"))
    import_bank(county, bank_row(resident, "B1", "T1"))
    run(county)
    case = Discrepancy.objects.get()
    assert (case.record_key, case.category) == ("tax:T1", Category.TAX_NOT_POSTED)
    assert case.tax_line.voucher_no == "T1" and case.bank_line.serial_no == "B1"
    assert case.payment is None and case.region_code == resident.village_id
    assert case.month == MONTH and case.county_id == county.code
    assert case.detail == "税务已征收 300.00 元，系统中没有对应的缴费记录"


def test_a_payment_with_no_tax_record_is_posted_no_tax(county, resident):
    payment = pay(resident, "GT-1")
    run(county)
    case = Discrepancy.objects.get()
    assert (case.record_key, case.category) == (f"payment:{payment.pk}", Category.POSTED_NO_TAX)
    assert case.payment == payment and case.system_amount == Decimal("300.00")
    assert case.name == resident.name and case.id_number == resident.id_number
    assert "税务征收明细中没有对应记录" in case.detail


def test_a_bank_line_with_no_tax_record_is_bank_no_tax(county, resident):
    import_bank(county, bank_row(resident, "B9", "", "500.00"))
    run(county)
    case = Discrepancy.objects.get()
    assert (case.record_key, case.category) == ("bank:B9", Category.BANK_NO_TAX)
    assert case.bank_amount == Decimal("500.00") and case.region_code == resident.village_id
    assert case.detail == "银行流水 B9 到账 500.00 元，税务征收明细中没有对应记录"


def test_a_tax_record_with_no_bank_line_is_tax_no_bank(county, resident):
    pay(resident, "T1")
    import_tax(county, tax_row(resident, "T1"))
    run(county)
    assert cases() == {"tax:T1": Category.TAX_NO_BANK}


def test_a_voucher_carrying_another_amount_is_one_amount_differs_case(county, resident):
    payment = pay(resident, "T1", "300.00")
    import_tax(county, tax_row(resident, "T1", "400.00"))
    import_bank(county, bank_row(resident, "B1", "T1", "400.00"))
    done = run(county)
    case = Discrepancy.objects.get()  # not a second case for the payment
    assert (case.category, case.payment) == (Category.AMOUNT_DIFFERS, payment)
    assert (case.tax_amount, case.system_amount, case.bank_amount) == (
        Decimal("400.00"), Decimal("300.00"), Decimal("400.00")
    )  # fmt: skip
    assert case.detail == "金额不一致：税务 400.00 元，系统 300.00 元，银行 400.00 元"
    assert done.summary["categories"][Category.AMOUNT_DIFFERS] == 1
    assert done.summary["matched"] == 0


def test_an_amount_that_is_no_tier_of_the_year_is_not_a_tier(county, resident):
    pay(resident, "T1", "350.00")
    import_tax(county, tax_row(resident, "T1", "350.00"))
    import_bank(county, bank_row(resident, "B1", "T1", "350.00"))
    run(county)
    case = Discrepancy.objects.get()
    assert case.category == Category.NOT_A_TIER
    assert case.detail == "实缴金额 350.00 元不是 2023 年度的缴费档次"


def test_a_year_without_a_schedule_makes_every_amount_not_a_tier(county, resident):
    pay(resident, "T1", contribution_year=2031)
    import_tax(county, tax_row(resident, "T1", year="2024"))
    run(county)
    assert cases() == {"tax:T1": Category.NOT_A_TIER}


def test_money_matched_to_a_payment_awaiting_refund_is_a_duplicate(county, resident):
    first = paid_everywhere(county, resident, "T1")
    pay(resident, "T2", day=datetime.date(2023, 7, 9), duplicate_of=first)
    import_tax(county, tax_row(resident, "T2", day="2023-07-09"))
    import_bank(county, bank_row(resident, "B2", "T2"))
    done = run(county)
    case = Discrepancy.objects.get()
    assert (case.record_key, case.category) == ("tax:T2", Category.DUPLICATE)
    assert "系统已记为重复缴费待退费" in case.detail
    assert done.summary["matched"] == 1
    assert done.summary["system"]["count"] == 2  # money received, awaiting refund


def test_a_second_tax_line_of_a_person_and_year_is_a_duplicate_even_unposted(county, resident):
    import_tax(county, tax_row(resident, "T1", day="2023-06-20"), month=datetime.date(2023, 6, 1))
    pay(resident, "T2")
    import_tax(county, tax_row(resident, "T2"), tax_row(resident, "T3", day="2023-07-20"))
    import_bank(county, bank_row(resident, "B2", "T2"), bank_row(resident, "B3", "T3"))
    run(county)
    # T2 is not the first of 2023 (T1 in June was); T3 is the third.
    assert cases() == {"tax:T2": Category.DUPLICATE, "tax:T3": Category.DUPLICATE}


def test_an_id_not_on_file_or_another_name_is_an_id_mismatch(county, resident, far_resident):
    stranger_id = make_id_number("530927", datetime.date(1990, 1, 1))
    import_tax(
        county,
        tax_row(stranger_id, "T1", name="张三"),
        tax_row(resident, "T2", name="李四"),
        tax_row(far_resident, "T3"),  # on file, but in another county
    )
    run(county)
    assert cases() == {
        "tax:T1": Category.ID_MISMATCH, "tax:T2": Category.ID_MISMATCH,
        "tax:T3": Category.ID_MISMATCH,
    }  # fmt: skip
    details = dict(Discrepancy.objects.values_list("record_key", "detail"))
    assert details["tax:T1"] == f"证件号码 {stranger_id} 不是本县在册参保人（税务登记姓名：张三）"
    assert details["tax:T2"] == f"税务登记姓名“李四”与在册姓名“{resident.name}”不符"
    assert Discrepancy.objects.get(record_key="tax:T1").region_code == county.code


def test_the_category_is_the_first_rule_that_applies(county, resident):
    # Unknown name, not a tier, no payment, no bank line: only the first rule counts.
    import_tax(county, tax_row(resident, "T1", "350.00", name="别人"))
    done = run(county)
    assert cases() == {"tax:T1": Category.ID_MISMATCH}
    assert sum(done.summary["categories"].values()) == 1


def test_without_a_shared_voucher_records_pair_by_person_year_and_amount_one_to_one(
    county, resident, neighbour
):
    pay(resident, "GT-1", day=datetime.date(2023, 7, 2))
    import_tax(county, tax_row(resident, "T1", day="2023-07-03"),
               tax_row(neighbour, "T2", "500.00", day="2023-07-04"))  # fmt: skip
    import_bank(county, bank_row(resident, "B1"), bank_row(resident, "B2"))
    done = run(county)
    # T1 pairs with the 300 payment and the first 300 bank line; T2 has no payment; the
    # second bank line of 300 has no tax record left to pair with.
    assert cases() == {"tax:T2": Category.TAX_NOT_POSTED, "bank:B2": Category.BANK_NO_TAX}
    assert done.summary["matched"] == 1


def test_a_voucher_finds_its_counterpart_in_another_month(county, resident):
    pay(resident, "T1", day=datetime.date(2023, 6, 30))  # posted in June
    import_tax(county, tax_row(resident, "T1"))
    import_bank(county, bank_row(resident, "B1", "T1"))
    july = run(county)
    june = reconcile_month(county=county, month=datetime.date(2023, 6, 1))
    assert july.summary["matched"] == 1 and july.summary["system"]["count"] == 0
    assert june.summary["system"]["count"] == 1 and june.summary["matched"] == 0
    assert not Discrepancy.objects.exists()  # June's payment is claimed by July's voucher


def test_a_bank_line_of_another_month_carrying_the_voucher_is_its_counterpart(county, resident):
    pay(resident, "T1")
    import_tax(county, tax_row(resident, "T1"))
    import_bank(
        county, bank_row(resident, "B1", "T1", day="2023-06-30"), month=datetime.date(2023, 6, 1)
    )
    done = run(county)
    assert done.summary["matched"] == 1 and done.summary["bank"]["count"] == 0
    assert not Discrepancy.objects.exists()


def test_a_voucher_on_two_payments_matches_one_and_leaves_the_other_unclaimed(county, resident):
    first = paid_everywhere(county, resident, "T1")
    second = pay(resident, "T1", source=Payment.Source.COUNTER)
    done = run(county)
    assert done.summary["tax"]["count"] == 1 and done.summary["matched"] == 1
    assert cases() == {f"payment:{second.pk}": Category.POSTED_NO_TAX}
    assert first.pk < second.pk


def test_payments_belong_to_the_month_of_their_beijing_date(county, resident):
    pay(resident, "P-june", paid_at=beijing(datetime.date(2023, 6, 30), 23, 30))
    pay(resident, "P-july", paid_at=beijing(datetime.date(2023, 7, 1), 0, 30))
    pay(resident, "P-aug", paid_at=beijing(datetime.date(2023, 8, 1), 0, 10))
    done = run(county)
    assert done.summary["system"]["count"] == 1
    assert Discrepancy.objects.get().voucher_no == "P-july"


def test_proxy_reversed_and_reversing_payments_are_not_in_the_system_ledger(county, resident):
    pay(resident, "PROXY-1", "100.00", kind=Payment.Kind.PROXY,
        source=Payment.Source.PROXY_BATCH, channel=Payment.Channel.GOVERNMENT)  # fmt: skip
    wrong = pay(resident, "GT-1")
    pay(resident, "GT-1-R", "-300.00", reverses=wrong, source=Payment.Source.COUNTER)
    back = pay(resident, "BK-1", contribution_year=2021, kind=Payment.Kind.BACK)
    done = run(county)
    assert done.summary["system"] == {"count": 1, "sum": "300.00"}
    assert cases() == {f"payment:{back.pk}": Category.POSTED_NO_TAX}


def test_a_held_synced_record_is_in_the_tax_ledger_and_keeps_its_category(
    county, resident, api_key
):
    other = make_id_number("530927", datetime.date(1988, 8, 8))
    record = held_record(api_key, "S1", other, "王五")
    Discrepancy.objects.create(
        record_key="tax:S1", county=county, region_code=county.code, month=MONTH,
        category=Category.NOT_A_TIER, synced_record=record, tax_amount=record.amount,
    )  # fmt: skip
    import_bank(county, bank_row(other, "B1", "S1"))
    done = run(county)
    case = Discrepancy.objects.get()
    assert case.status == Discrepancy.Status.OPEN and case.category == Category.NOT_A_TIER
    assert case.synced_record == record and case.bank_line.serial_no == "B1"
    assert case.last_run_id == done.pk and case.first_run is None
    assert done.summary["tax"] == {"count": 1, "sum": "300.00"}
    assert done.summary["categories"][Category.NOT_A_TIER] == 1


def test_a_held_synced_record_with_a_statement_line_is_counted_once(county, resident, api_key):
    held_record(api_key, "S1", resident.id_number, resident.name, resident=resident)
    import_tax(county, tax_row(resident, "S1", day="2023-07-08"))
    import_bank(county, bank_row(resident, "B1", "S1"))
    done = run(county)
    assert done.summary["tax"]["count"] == 1
    assert cases() == {"tax:S1": Category.TAX_NOT_POSTED}


def test_every_unmatched_record_falls_into_exactly_one_category(county, resident, neighbour):
    others = [ResidentFactory(village=resident.village) for _ in range(6)]
    paid_everywhere(county, others[0], "OK1")
    pay(others[1], "NP")  # posted, no tax
    import_tax(
        county,
        tax_row(others[2], "TN"),  # not posted, no bank
        tax_row(others[3], "AD", "500.00"),  # amount differs
        tax_row(others[4], "NT", "350.00"),  # not a tier
        tax_row(neighbour, "ID", name="别人"),  # id/name mismatch
        tax_row(others[5], "NB"),  # no bank
    )
    pay(others[3], "AD", "300.00")
    pay(others[4], "NT", "350.00")
    pay(others[5], "NB")
    import_bank(county, bank_row(others[3], "BAD", "AD", "500.00"),
                bank_row(others[4], "BNT", "NT", "350.00"), bank_row(others[1], "BX"))  # fmt: skip
    done = run(county)
    found = cases()
    assert len(found) == Discrepancy.objects.count() == 7
    assert sorted(found.values()) == sorted([
        Category.POSTED_NO_TAX, Category.TAX_NOT_POSTED, Category.AMOUNT_DIFFERS,
        Category.NOT_A_TIER, Category.ID_MISMATCH, Category.TAX_NO_BANK, Category.BANK_NO_TAX,
    ])  # fmt: skip
    assert sum(done.summary["categories"].values()) == 7
    assert set(done.summary["categories"]) == set(CATEGORIES)
    assert done.summary["matched"] == 1


def test_township_totals_cover_every_township_and_leave_unknown_people_to_the_county(
    county, resident, neighbour
):
    paid_everywhere(county, resident, "T1")
    paid_everywhere(county, neighbour, "T2", "500.00")
    import_tax(county, tax_row(make_id_number("530927", datetime.date(1990, 2, 2)), "T3"))
    done = run(county)
    totals = {t.township_id: t for t in TownshipTotal.objects.filter(run=done)}
    townships = set(
        Region.objects.filter(level="township", code__startswith=county.code).values_list(
            "code", flat=True
        )
    )
    assert set(totals) == townships and len(townships) > 2
    mine = totals[resident.village_id[:9]]
    assert (mine.tax_count, mine.tax_sum, mine.bank_count, mine.system_count) == (
        1, Decimal("300.00"), 1, 1
    )  # fmt: skip
    assert (mine.matched, mine.discrepancies) == (1, 0) and mine.agrees
    theirs = totals[neighbour.village_id[:9]]
    assert (theirs.tax_sum, theirs.system_sum, theirs.matched) == (
        Decimal("500.00"), Decimal("500.00"), 1
    )  # fmt: skip
    quiet = [t for code, t in totals.items() if code not in (mine.township_id, theirs.township_id)]
    assert all(t.tax_count == t.bank_count == t.system_count == t.discrepancies == 0 for t in quiet)
    # The unknown ID counts in the county's ledger, not in any township's.
    assert done.summary["tax"] == {"count": 3, "sum": "1100.00"}
    assert sum(t.tax_count for t in totals.values()) == 2


def test_running_a_month_again_replaces_its_result_and_keeps_the_history(county, resident):
    import_tax(county, tax_row(resident, "T1"))
    first = run(county)
    pay(resident, "T1")
    import_bank(county, bank_row(resident, "B1", "T1"))
    second = run(county)
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert ReconciliationRun.objects.filter(county=county, month=MONTH).count() == 2
    assert first.summary["matched"] == 0 and second.summary["matched"] == 1
    assert TownshipTotal.objects.filter(run=first).exists()  # history kept
    case = Discrepancy.objects.get()
    assert case.status == Discrepancy.Status.CLEARED and second.summary["cleared"] == 1


def test_a_second_run_updates_the_same_cases_and_never_duplicates_them(county, resident):
    import_tax(county, tax_row(resident, "T1"))
    pay(resident, "GT-9", "500.00")
    first = run(county)
    second = run(county)
    assert Discrepancy.objects.count() == 2
    for case in Discrepancy.objects.all():
        assert (case.first_run_id, case.last_run_id) == (first.pk, second.pk)
        assert case.status == Discrepancy.Status.OPEN
    assert second.summary["categories"] == first.summary["categories"]


def test_a_resolved_case_stays_resolved_when_a_run_finds_it_again(county, resident, county_user):
    import_tax(county, tax_row(resident, "T1"))
    first = run(county)
    case = Discrepancy.objects.get()
    Discrepancy.objects.filter(pk=case.pk).update(
        status=Discrepancy.Status.RESOLVED, resolution=Discrepancy.Resolution.ACCEPTED,
        resolution_note="已核实", resolved_by=county_user, resolved_at=beijing(MONTH),
    )  # fmt: skip
    run(county)
    case.refresh_from_db()
    assert case.status == Discrepancy.Status.RESOLVED and case.last_run_id == first.pk
    assert case.resolution_note == "已核实"


def test_a_cleared_case_opens_again_when_the_difference_returns(county, resident):
    import_tax(county, tax_row(resident, "T1"))
    payment = pay(resident, "T1")
    run(county)  # tax_no_bank
    assert Discrepancy.objects.get().status == Discrepancy.Status.OPEN
    import_bank(county, bank_row(resident, "B1", "T1"))
    run(county)
    assert Discrepancy.objects.get().status == Discrepancy.Status.CLEARED
    pay(resident, "T1-R", "-300.00", reverses=payment, source=Payment.Source.COUNTER)
    third = run(county)
    case = Discrepancy.objects.get()
    assert (case.status, case.category) == (Discrepancy.Status.OPEN, Category.TAX_NOT_POSTED)
    assert case.last_run_id == third.pk


def test_a_case_of_another_month_is_never_cleared(county, resident):
    import_tax(county, tax_row(resident, "T6", day="2023-06-10"), month=datetime.date(2023, 6, 1))
    reconcile_month(county=county, month=datetime.date(2023, 6, 1))
    run(county)
    assert Discrepancy.objects.get().status == Discrepancy.Status.OPEN


def test_each_run_writes_one_audit_entry(county, resident, county_user):
    paid_everywhere(county, resident, "T1")
    done = reconcile_month(county=county, month=MONTH, actor=county_user)
    entry = AuditEntry.objects.get(action="reconciliation.run")
    assert (entry.actor, entry.target_id, entry.region_code) == (
        county_user, str(done.pk), county.code
    )  # fmt: skip
    assert entry.changes["matched"] == 1 and done.run_by == county_user


def test_only_the_county_bureau_of_the_county_may_reconcile(
    county, township, township_user, stranger, county_user
):
    assert reconcile_may_run(user=county_user, county=county) == ""
    assert "县人社局" in reconcile_may_run(user=township_user, county=county)
    assert "不在您的辖区内" in reconcile_may_run(user=stranger, county=county)
    assert "不是县" in reconcile_may_run(user=county_user, county=township)
    with pytest.raises(ReconciliationRefused, match="不在您的辖区内"):
        reconcile_month(county=county, month=MONTH, actor=stranger)
    assert not ReconciliationRun.objects.exists()


def test_a_run_that_fails_is_kept_as_failed_with_its_error(county, resident, monkeypatch):
    from reconciliation.services import reconcile

    def broken(**kwargs):
        raise RuntimeError("磁盘已满")

    import_tax(county, tax_row(resident, "T1"))
    monkeypatch.setattr(reconcile, "_write_discrepancies", broken)
    with pytest.raises(RuntimeError):
        run(county)
    failed = ReconciliationRun.objects.get()
    assert failed.status == ReconciliationRun.Status.FAILED and not failed.is_current
    assert "磁盘已满" in failed.summary["error"] and failed.finished_at is not None
    assert not TownshipTotal.objects.exists() and not Discrepancy.objects.exists()
    assert not AuditEntry.objects.filter(action="reconciliation.run").exists()


def test_a_townships_bank_figure_holds_its_claimed_and_its_loose_bank_lines(county, resident):
    paid_everywhere(county, resident, "T1")  # a bank line its tax record claims by voucher
    import_bank(county, bank_row(resident, "B-LOOSE", amount="200.00"))  # and one nobody claims

    done = run(county)

    mine = TownshipTotal.objects.get(run=done, township_id=resident.village_id[:9])
    assert (mine.bank_count, mine.bank_sum) == (2, Decimal("500.00"))
    assert done.summary["bank"] == {"count": 2, "sum": "500.00"}
