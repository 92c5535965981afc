import datetime
import importlib
import threading
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection.models import Payment
from conftest import make_village
from enrollment.models import Resident
from enrollment.tests.factories import ResidentFactory, make_id_number
from pension.models import AuditEntry, Region
from reconciliation.models import Discrepancy, SyncedRecord
from reconciliation.services.sync import (
    MAX_BATCH,
    NOT_ON_FILE,
    BatchRefused,
    SyncConflict,
    SyncInvalid,
    SyncRecordNotFound,
    record_validate,
    sync_payment_reverse,
    sync_payments_batch,
)
from reconciliation.tests.conftest import issue_key, tax_record

TODAY = datetime.date(2026, 11, 22)


def statuses(results):
    return [r.status for r in results]


def written():
    """Everything a batch can write, counted."""
    return (
        Payment.objects.count(),
        SyncedRecord.objects.count(),
        Discrepancy.objects.count(),
        AuditEntry.objects.count(),
    )


# --- one record's checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount", "100.005", "〈实缴金额〉最多保留两位小数：100.005"),
        ("amount", Decimal("100.005"), "〈实缴金额〉最多保留两位小数：100.005"),
        ("tier", "300.001", "〈缴费档次〉最多保留两位小数"),
        ("amount", "-300", "〈实缴金额〉必须大于零"),
        ("amount", "0.00", "〈实缴金额〉必须大于零"),
        ("amount", "3e2", "〈实缴金额〉格式错误"),
        ("amount", 300.0, "〈实缴金额〉应为十进制数字符串"),
        ("amount", None, "〈实缴金额〉不能为空"),
        ("id_number", "530927197005170011", "〈证件号码〉身份证号码校验位错误"),
        ("id_number", "53092719700517", "〈证件号码〉身份证号码格式错误"),
        ("id_number", "", "〈证件号码〉不能为空"),
        ("name", "  ", "〈姓名〉不能为空"),
        ("name", "岩" * 51, "〈姓名〉不能超过 50 个字符"),
        ("voucher_no", "", "〈电子税票号码〉不能为空"),
        ("voucher_no", "33/2023", "〈电子税票号码〉只能包含字母、数字"),
        ("voucher_no", "3" * 41, "〈电子税票号码〉不能超过 40 个字符"),
        ("contribution_year", 1999, "〈缴费年度〉应在 2009 至 2027 年之间"),
        ("contribution_year", "二〇二三", "〈缴费年度〉应为四位年份"),
        ("contribution_year", True, "〈缴费年度〉应为四位年份"),
        ("kind", "proxy", "〈缴费类型〉应为 normal、back 之一"),
        ("channel", "government", "〈缴费渠道〉应为"),
        ("paid_on", "2023-02-30", "〈入库日期〉不是有效日期：2023-02-30"),
        ("paid_on", "20230510", "〈入库日期〉应为 YYYY-MM-DD"),
        ("paid_on", "2026-11-23", "〈入库日期〉晚于今天"),
        ("tax_office", None, "〈主管税务机关〉不能为空"),
        ("tax_office", ["153"], "〈主管税务机关〉应为文本"),
    ],
)
def test_a_malformed_field_is_named_with_its_reason(resident, field, value, reason):
    item, errors = record_validate(tax_record(resident, **{field: value}), today=TODAY)
    assert item is None
    assert any(reason in error for error in errors), errors


def test_a_record_that_is_not_an_object_is_refused():
    assert record_validate(["V1"], today=TODAY) == (None, ["记录应为 JSON 对象"])


def test_every_fault_of_a_record_is_reported_at_once(resident):
    _, errors = record_validate(tax_record(resident, name="", amount="1.001"), today=TODAY)
    assert len(errors) == 2


def test_a_record_is_read_into_exact_values(resident):
    sent = tax_record(resident, amount="300", tier=Decimal("300.0"), contribution_year="2023")
    item, errors = record_validate(sent, today=TODAY)
    assert errors == []
    assert (item.amount, item.tier, item.contribution_year) == (
        Decimal("300.00"),
        Decimal("300.00"),
        2023,
    )
    assert item.paid_on == datetime.date(2023, 5, 10)


def test_a_15_digit_id_number_is_upgraded_and_a_lower_case_x_raised(db):
    first17 = "53092719700517001"
    from pension import idnumber

    full = first17 + idnumber.check_digit(first17)
    item, _ = record_validate(tax_record(id_number=f" {full.lower()} ", name="岩块"), today=TODAY)
    assert item.id_number == full
    item, _ = record_validate(tax_record(id_number="530927700517001", name="岩块"), today=TODAY)
    assert item.id_number == idnumber.upgrade_15("530927700517001")


# --- a batch ------------------------------------------------------------------------------


def test_a_record_of_a_resident_on_file_is_posted_as_a_tax_sync_payment(key, resident):
    sent = tax_record(resident, channel="bank_app")
    [result] = sync_payments_batch(key=key, records=[sent])
    assert (result.voucher_no, result.status, result.reason) == (sent["voucher_no"], "created", "")
    record = SyncedRecord.objects.get()
    payment = record.payment
    assert record.status == "posted" and record.region_code == resident.village_id
    assert (payment.source, payment.voucher_no, payment.amount, payment.channel) == (
        "tax_sync",
        sent["voucher_no"],
        Decimal("300.00"),
        "bank_app",
    )
    assert AuditEntry.objects.for_object(payment).get().actor == key.account
    assert payment.paid_at == datetime.datetime(2023, 5, 10, 4, 0, tzinfo=datetime.UTC)
    assert not Discrepancy.objects.exists()


def test_a_back_payment_is_posted_as_kind_back(key, resident):
    [result] = sync_payments_batch(
        key=key, records=[tax_record(resident, kind="back", paid_on="2024-03-01")]
    )
    assert result.status == "created"
    assert Payment.objects.get().kind == Payment.Kind.BACK


def test_sending_the_same_batch_again_answers_duplicate_and_writes_nothing(key, resident):
    batch = [
        tax_record(resident),
        tax_record(id_number=make_id_number("530927", TODAY.replace(year=1980)), name="岩不在"),
    ]
    assert statuses(sync_payments_batch(key=key, records=batch)) == ["created", "held"]
    before = written()
    again = sync_payments_batch(key=key, records=batch)
    assert statuses(again) == ["duplicate", "duplicate"]
    assert written() == before


def test_an_id_number_not_on_file_is_held_with_a_discrepancy_and_an_audit_entry(key, county):
    number = make_id_number("530927", datetime.date(1985, 1, 2))
    sent = tax_record(id_number=number, name="岩新", amount="500.00", tier="500.00")
    [result] = sync_payments_batch(key=key, records=[sent])
    assert (result.status, result.reason) == ("held", NOT_ON_FILE)
    record = SyncedRecord.objects.get()
    assert (record.status, record.hold_reason, record.resident, record.payment) == (
        "held",
        NOT_ON_FILE,
        None,
        None,
    )
    assert record.region_code == county.code and record.amount == Decimal("500.00")
    case = Discrepancy.objects.get()
    assert (case.record_key, case.category, case.region_code, case.month) == (
        f"tax:{sent['voucher_no']}",
        Discrepancy.Category.ID_MISMATCH,
        county.code,
        datetime.date(2023, 5, 1),
    )
    assert (case.synced_record, case.tax_amount, case.id_number, case.name) == (
        record,
        Decimal("500.00"),
        number,
        "岩新",
    )
    entry = AuditEntry.objects.get(action="synced_record.hold")
    assert (entry.actor, entry.target_id, entry.region_code) == (
        key.account,
        str(record.pk),
        county.code,
    )
    assert not Payment.objects.exists()


def test_a_resident_of_another_county_is_not_on_file_for_this_key(key, far_resident):
    [result] = sync_payments_batch(key=key, records=[tax_record(far_resident)])
    assert (result.status, result.reason) == ("held", NOT_ON_FILE)
    assert "临夏" not in result.reason and far_resident.village_id not in result.reason
    assert SyncedRecord.objects.get().resident is None
    assert not Payment.objects.exists()


def test_a_name_that_differs_from_the_register_is_held(key, resident):
    [result] = sync_payments_batch(key=key, records=[tax_record(resident, name="岩别人")])
    assert result.status == "held" and "〈姓名〉岩别人 与参保人名册不一致" in result.reason
    case = Discrepancy.objects.get()
    assert (case.category, case.region_code) == ("id_mismatch", resident.village_id)
    assert SyncedRecord.objects.get().resident == resident
    assert not Payment.objects.exists()


def test_spaces_in_a_name_do_not_make_it_differ(key, resident):
    spaced = " ".join(resident.name)
    [result] = sync_payments_batch(key=key, records=[tax_record(resident, name=spaced)])
    assert result.status == "created"


def test_an_amount_that_differs_from_its_tier_is_held_as_not_a_tier(key, resident):
    [result] = sync_payments_batch(key=key, records=[tax_record(resident, amount="299.00")])
    assert result.status == "held" and "〈实缴金额〉299.00 元与〈缴费档次〉300.00 元不一致" in (
        result.reason
    )
    assert Discrepancy.objects.get().category == "not_a_tier"
    assert not Payment.objects.exists()


def test_an_amount_that_is_not_a_tier_of_the_schedule_is_held_as_not_a_tier(key, resident):
    [result] = sync_payments_batch(
        key=key, records=[tax_record(resident, amount="250.00", tier="250.00")]
    )
    assert result.status == "held" and "不是 2023 年度的缴费档次" in result.reason
    case = Discrepancy.objects.get()
    assert (case.category, case.region_code) == ("not_a_tier", resident.village_id)
    assert not Payment.objects.exists()


def test_a_payment_the_rules_refuse_is_held_as_tax_not_posted(key, village):
    eligible = ResidentFactory(village=village, status=Resident.Status.ELIGIBLE)
    [result] = sync_payments_batch(
        key=key, records=[tax_record(eligible, kind="back", contribution_year=2020)]
    )
    assert result.status == "held" and "参保后才能补缴" in result.reason
    assert Discrepancy.objects.get().category == "tax_not_posted"
    assert not Payment.objects.exists()


def test_a_payment_enrols_an_eligible_resident(key, village):
    eligible = ResidentFactory(village=village, status=Resident.Status.ELIGIBLE)
    [result] = sync_payments_batch(key=key, records=[tax_record(eligible)])
    assert result.status == "created"
    eligible.refresh_from_db()
    assert eligible.status == Resident.Status.ENROLLED


def test_a_voucher_stored_with_other_content_is_rejected_and_nothing_changes(key, resident):
    sent = tax_record(resident)
    sync_payments_batch(key=key, records=[sent])
    before = written()
    [result] = sync_payments_batch(
        key=key, records=[{**sent, "amount": "400.00", "tier": "400.00"}]
    )
    assert (result.status, result.reason) == (
        "rejected",
        f"电子税票号码 {sent['voucher_no']} 已接收，内容不一致",
    )
    assert written() == before
    assert SyncedRecord.objects.get().amount == Decimal("300.00")


def test_the_same_voucher_twice_in_a_batch_is_taken_once(key, resident):
    sent = tax_record(resident)
    other = {**sent, "amount": "400.00", "tier": "400.00"}
    results = sync_payments_batch(key=key, records=[sent, dict(sent), other])
    assert statuses(results) == ["created", "duplicate", "rejected"]
    assert "在本批中重复出现，内容不一致" in results[2].reason
    assert Payment.objects.count() == SyncedRecord.objects.count() == 1


def test_a_mixed_batch_is_answered_record_by_record_in_the_order_sent(key, resident, village):
    second = ResidentFactory(village=village)
    unknown = make_id_number("530927", datetime.date(1990, 6, 1))
    batch = [
        tax_record(resident),
        tax_record(second, amount="100.005"),
        "not a record",
        tax_record(id_number=unknown, name="岩无"),
        tax_record(second, amount="400.00", tier="400.00"),
    ]
    results = sync_payments_batch(key=key, records=batch)
    assert statuses(results) == ["created", "rejected", "rejected", "held", "created"]
    assert [r.voucher_no for r in results] == [
        batch[0]["voucher_no"], batch[1]["voucher_no"], "", batch[3]["voucher_no"],
        batch[4]["voucher_no"],
    ]  # fmt: skip
    assert SyncedRecord.objects.count() == 3 and Payment.objects.count() == 2


def test_a_batch_takes_a_fixed_number_of_queries_whatever_its_size(key, village):
    def queries(size: int) -> int:
        people = ResidentFactory.create_batch(size, village=village)
        unknown = [
            tax_record(id_number=make_id_number("530927", datetime.date(1975, 1, 1)), name="岩")
            for _ in range(size)
        ]
        with CaptureQueriesContext(connection) as captured:
            sync_payments_batch(key=key, records=[tax_record(p) for p in people] + unknown)
        return len(captured)

    assert queries(2) == queries(40)


@pytest.mark.parametrize("size", [0, MAX_BATCH + 1])
def test_an_empty_or_oversized_batch_is_refused_whole(key, resident, size):
    with pytest.raises(BatchRefused):
        sync_payments_batch(key=key, records=[tax_record(resident)] * size)
    assert written() == (0, 0, 0, 1)  # the key's own creation entry


# --- reversals ----------------------------------------------------------------------------


@pytest.fixture
def posted(key, resident):
    sent = tax_record(resident)
    sync_payments_batch(key=key, records=[sent])
    return SyncedRecord.objects.get(voucher_no=sent["voucher_no"])


def refund(**overrides):
    return {"reversal_voucher_no": "TK0001", "kind": "refund", "reason": "重复缴费"} | overrides


def test_a_refund_is_a_linked_reversal_and_the_original_stays(key, posted):
    result = sync_payment_reverse(key=key, voucher_no=posted.voucher_no, data=refund())
    assert result.created
    reversal = result.reversal
    assert (reversal.reverses_id, reversal.amount, reversal.voucher_no, reversal.note) == (
        posted.payment_id,
        Decimal("-300.00"),
        "TK0001",
        "退费：重复缴费",
    )
    assert reversal.recorded_by == key.account
    assert Payment.objects.get(pk=posted.payment_id).amount == Decimal("300.00")
    assert AuditEntry.objects.filter(action="payment.reverse").count() == 1


def test_the_same_reversal_sent_again_answers_the_stored_one(key, posted):
    first = sync_payment_reverse(key=key, voucher_no=posted.voucher_no, data=refund())
    again = sync_payment_reverse(key=key, voucher_no=posted.voucher_no, data=refund())
    assert not again.created and again.reversal.pk == first.reversal.pk
    assert Payment.objects.filter(reverses__isnull=False).count() == 1


def test_another_reversal_of_a_reversed_payment_is_a_conflict(key, posted):
    sync_payment_reverse(key=key, voucher_no=posted.voucher_no, data=refund())
    with pytest.raises(SyncConflict, match="已由冲正凭证 TK0001 冲正") as caught:
        sync_payment_reverse(
            key=key, voucher_no=posted.voucher_no, data=refund(reversal_voucher_no="TK0002")
        )
    assert caught.value.code == "already_reversed"
    assert Payment.objects.filter(reverses__isnull=False).count() == 1


def test_a_reversal_voucher_already_used_is_a_conflict(key, posted):
    with pytest.raises(SyncConflict, match="已被另一笔记录使用"):
        sync_payment_reverse(
            key=key,
            voucher_no=posted.voucher_no,
            data=refund(reversal_voucher_no=posted.voucher_no),
        )
    assert Payment.objects.count() == 1


def test_a_held_record_cannot_be_reversed(key):
    sent = tax_record(id_number=make_id_number("530927", datetime.date(1975, 1, 1)), name="岩")
    sync_payments_batch(key=key, records=[sent])
    with pytest.raises(SyncConflict, match="挂起记录请在对账差异中处理"):
        sync_payment_reverse(key=key, voucher_no=sent["voucher_no"], data=refund())
    assert not Payment.objects.exists()


def test_another_countys_key_does_not_find_the_record(posted, other_county):
    stranger = issue_key(other_county, "临夏").key
    with pytest.raises(SyncRecordNotFound):
        sync_payment_reverse(key=stranger, voucher_no=posted.voucher_no, data=refund())
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (refund(kind="cancel"), "kind"),
        (refund(reason=" "), "reason"),
        (refund(reason="因" * 151), "reason"),
        (refund(reversal_voucher_no="TK 1"), "reversal_voucher_no"),
        ({"kind": "void", "reason": "错"}, "reversal_voucher_no"),
    ],
)
def test_a_malformed_reversal_is_refused_and_writes_nothing(key, posted, body, field):
    with pytest.raises(SyncInvalid) as caught:
        sync_payment_reverse(key=key, voucher_no=posted.voucher_no, data=body)
    assert field in caught.value.errors
    assert Payment.objects.count() == 1


# --- concurrency --------------------------------------------------------------------------


def ship_migration_data():
    """Put back the regions and schedules the migrations ship: an earlier transactional test
    may have flushed them (serialized rollback cannot be mixed with such tests)."""
    for module in (
        "pension.migrations.0002_ship_linxia_and_cangyuan_regions",
        "collection.migrations.0003_ship_gansu_and_yunnan_2023_schedules",
    ):
        importlib.import_module(module).forward(django_apps, None)


@pytest.mark.django_db(transaction=True)
def test_two_identical_batches_at_once_store_each_record_once():
    ship_migration_data()
    county = Region.objects.get(code="530927")
    village = make_village(Region.objects.get(code="530927203"))
    key = issue_key(county).key
    people = ResidentFactory.create_batch(5, village=village)
    unknown = [
        tax_record(id_number=make_id_number("530927", datetime.date(1979, 1, 1)), name="岩")
        for _ in range(3)
    ]
    batch = [tax_record(p) for p in people] + unknown
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def send():
        try:
            barrier.wait()
            answers.append(sync_payments_batch(key=key, records=batch))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for index, sent in enumerate(batch):
        pair = sorted(answer[index].status for answer in answers)
        expected = "created" if index < len(people) else "held"
        assert pair == sorted([expected, "duplicate"]), (sent["voucher_no"], pair)
    assert Payment.objects.count() == len(people)
    assert SyncedRecord.objects.count() == len(batch)
    assert Discrepancy.objects.count() == len(unknown)
