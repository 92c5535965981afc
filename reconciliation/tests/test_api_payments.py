import datetime
import json

import pytest

from collection.models import Payment
from enrollment.tests.factories import ResidentFactory, make_id_number
from pension.models import AuditEntry
from reconciliation.models import ApiRequest, Discrepancy, SyncedRecord
from reconciliation.services.sync import MAX_BATCH, NOT_ON_FILE
from reconciliation.tests.conftest import tax_record

BATCH = "/api/v1/payments/batch"


def written():
    return (
        Payment.objects.count(),
        SyncedRecord.objects.count(),
        Discrepancy.objects.count(),
        AuditEntry.objects.exclude(action="api_key.create").count(),
    )


def post(client, records):
    return client.post(BATCH, {"records": records}, format="json")


def test_a_batch_is_answered_record_by_record_and_logged_with_its_size(api, key, resident):
    sent = [tax_record(resident), tax_record(resident, amount="1.001")]
    response = post(api, sent)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["voucher_no"], r["status"]) for r in results] == [
        (sent[0]["voucher_no"], "created"),
        (sent[1]["voucher_no"], "rejected"),
    ]
    assert results[0]["reason"] == ""
    assert "〈实缴金额〉最多保留两位小数：1.001" in results[1]["reason"]
    log = ApiRequest.objects.get()
    assert (log.key, log.status, log.records) == (key, 200, 2)


def test_an_amount_sent_as_a_json_number_keeps_its_three_decimals(api, resident):
    record = json.dumps(tax_record(resident)).replace('"amount": "300.00"', '"amount": 100.005')
    response = api.post(BATCH, f'{{"records": [{record}]}}', content_type="application/json")
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    assert "〈实缴金额〉最多保留两位小数：100.005" in result["reason"]
    assert written() == (0, 0, 0, 0)


def test_sending_the_same_batch_again_answers_duplicate_and_writes_nothing(api, resident):
    unknown = make_id_number("530927", datetime.date(1981, 8, 8))
    batch = [tax_record(resident), tax_record(id_number=unknown, name="岩外")]
    assert [r["status"] for r in post(api, batch).json()["results"]] == ["created", "held"]
    before = written()
    again = post(api, batch).json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert written() == before


def test_an_unknown_id_is_held_and_kept_not_lost(api, county):
    unknown = make_id_number("530927", datetime.date(1981, 8, 8))
    [result] = post(api, [tax_record(id_number=unknown, name="岩外")]).json()["results"]
    assert (result["status"], result["reason"]) == ("held", NOT_ON_FILE)
    assert SyncedRecord.objects.get().status == "held"
    assert Discrepancy.objects.get().region_code == county.code


def test_another_countys_key_cannot_post_for_this_countys_residents(other_api, resident):
    [result] = post(other_api, [tax_record(resident)]).json()["results"]
    assert (result["status"], result["reason"]) == ("held", NOT_ON_FILE)
    assert resident.village_id not in json.dumps(result, ensure_ascii=False)
    assert not Payment.objects.exists()
    assert SyncedRecord.objects.get().county_id == "622901"


def test_a_voucher_reused_with_a_different_amount_is_rejected(api, resident):
    sent = tax_record(resident)
    post(api, [sent])
    before = written()
    changed = {**sent, "amount": "500.00", "tier": "500.00"}
    [result] = post(api, [changed]).json()["results"]
    assert result["status"] == "rejected" and "已接收，内容不一致" in result["reason"]
    assert written() == before


def test_a_batch_without_a_key_writes_nothing(anonymous, resident):
    response = post(anonymous, [tax_record(resident)])
    assert response.status_code == 401
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"records": []}, "empty_batch"),
        ({"record": [{}]}, "invalid_envelope"),
        ({"records": {"voucher_no": "1"}}, "invalid_envelope"),
        ([{"voucher_no": "1"}], "invalid_envelope"),
    ],
)
def test_a_malformed_envelope_answers_400_and_writes_nothing(api, resident, body, code):
    response = api.post(BATCH, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert written() == (0, 0, 0, 0)
    assert ApiRequest.objects.get().status == 400


@pytest.mark.parametrize(
    "raw", ['{"records": [', "{'records': []}", '{"records": [NaN]}', "\xff\xfe"]
)
def test_malformed_json_answers_400_and_writes_nothing(api, resident, raw):
    response = api.post(BATCH, raw, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error" and error["message"].startswith("请求体不是有效的 JSON")
    assert written() == (0, 0, 0, 0)
    assert ApiRequest.objects.get().status == 400


def test_a_batch_over_the_limit_answers_400_and_writes_nothing(api, resident):
    response = post(api, [tax_record(resident)] * (MAX_BATCH + 1))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "batch_too_large"
    assert error["details"] == {"limit": MAX_BATCH, "received": MAX_BATCH + 1}
    assert "5000" in error["message"]
    assert written() == (0, 0, 0, 0)
    assert ApiRequest.objects.get().records == MAX_BATCH + 1


def test_a_mixed_batch_is_answered_one_by_one(api, resident, village):
    other = ResidentFactory(village=village)
    unknown = make_id_number("530927", datetime.date(1982, 2, 2))
    batch = [
        tax_record(resident),
        tax_record(other, name="岩错名"),
        tax_record(id_number=unknown, name="岩外"),
        tax_record(other, paid_on="2099-01-01"),
        tax_record(other, amount="250.00", tier="250.00"),
    ]
    results = post(api, batch).json()["results"]
    assert [r["status"] for r in results] == ["created", "held", "held", "rejected", "held"]
    assert Payment.objects.count() == 1
    assert SyncedRecord.objects.filter(status="held").count() == 3


# --- reversals ----------------------------------------------------------------------------


def reversal_url(voucher):
    return f"/api/v1/payments/{voucher}/reversal"


REFUND = {"reversal_voucher_no": "TK20230601", "kind": "refund", "reason": "重复缴费"}


@pytest.fixture
def posted(api, resident):
    sent = tax_record(resident)
    post(api, [sent])
    return sent["voucher_no"]


def test_a_refund_answers_201_then_the_same_refund_answers_200(api, posted):
    first = api.post(reversal_url(posted), REFUND, format="json")
    assert first.status_code == 201
    body = first.json()
    assert (body["voucher_no"], body["reversal_voucher_no"], body["amount"], body["created"]) == (
        posted,
        "TK20230601",
        "-300.00",
        True,
    )
    assert body["reason"] == "退费：重复缴费"
    again = api.post(reversal_url(posted), REFUND, format="json")
    assert again.status_code == 200 and again.json()["created"] is False
    assert Payment.objects.filter(reverses__isnull=False).count() == 1


def test_a_second_different_reversal_answers_409(api, posted):
    api.post(reversal_url(posted), REFUND, format="json")
    void = {**REFUND, "reversal_voucher_no": "ZF1", "kind": "void"}
    response = api.post(reversal_url(posted), void, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_reversed"
    assert Payment.objects.filter(reverses__isnull=False).count() == 1


def test_a_held_record_cannot_be_reversed_through_the_api(api):
    sent = tax_record(id_number=make_id_number("530927", datetime.date(1981, 8, 8)), name="岩外")
    post(api, [sent])
    response = api.post(reversal_url(sent["voucher_no"]), REFUND, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "挂起记录请在对账差异中处理"


@pytest.mark.parametrize("voucher", ["NOSUCH1", "bad voucher", "x" * 41])
def test_an_unknown_voucher_answers_404(api, posted, voucher):
    response = api.post(reversal_url(voucher), REFUND, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_countys_key_gets_404_for_the_record(other_api, posted):
    response = other_api.post(reversal_url(posted), REFUND, format="json")
    assert response.status_code == 404
    assert not Payment.objects.filter(reverses__isnull=False).exists()


def test_a_reversal_without_a_key_answers_401(anonymous, posted):
    assert anonymous.post(reversal_url(posted), REFUND, format="json").status_code == 401
    assert not Payment.objects.filter(reverses__isnull=False).exists()


def test_a_malformed_reversal_answers_400_naming_the_fields(api, posted):
    response = api.post(reversal_url(posted), {"kind": "cancel"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["details"]) == {"reversal_voucher_no", "kind", "reason"}
    assert "〈冲正类型〉" in error["message"]
    assert not Payment.objects.filter(reverses__isnull=False).exists()
