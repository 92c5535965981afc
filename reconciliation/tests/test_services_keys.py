import hashlib

import pytest

from conftest import make_user
from pension.models import AuditEntry, Region, User
from reconciliation.models import ApiKey
from reconciliation.services.keys import (
    ApiKeyInvalid,
    ApiKeyRefused,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    api_request_log,
)


def test_a_key_is_shown_once_and_only_its_digest_is_stored(county, county_user):
    issued = api_key_create(county=county, name="征收系统", created_by=county_user)
    prefix, secret = issued.key.prefix, issued.secret
    assert secret.startswith(f"rpk_{prefix}_") and len(secret) >= 4 + 8 + 1 + 32
    stored = ApiKey.objects.get()
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiKey.objects.values().get())
    entry = AuditEntry.objects.get(action="api_key.create")
    assert (entry.actor, entry.region_code, entry.changes["prefix"]) == (
        county_user,
        county.code,
        prefix,
    )
    assert secret not in str(entry.changes)


def test_the_countys_tax_account_is_made_once_without_a_usable_password(county):
    first = api_key_create(county=county, name="一").key.account
    second = api_key_create(county=county, name="二").key.account
    assert first == second
    assert (first.username, first.role, first.region_id) == ("tax-api-530927", "tax", "530927")
    assert not first.has_usable_password()


def test_a_named_tax_account_of_the_county_can_hold_the_key(county):
    account = make_user("cangyuan_tax", User.Role.TAX, county)
    assert api_key_create(county=county, name="一", account=account).key.account == account


@pytest.mark.parametrize(
    ("role", "region_code", "reason"),
    [("county", "530927", "不是沧源佤族自治县的税务局账号"), ("tax", "622901", "不是")],
)
def test_an_account_that_is_not_the_countys_tax_account_is_refused(
    county, role, region_code, reason
):
    account = make_user("someone", role, Region.objects.get(code=region_code))
    with pytest.raises(ApiKeyRefused, match=reason):
        api_key_create(county=county, name="一", account=account)
    assert not ApiKey.objects.exists()


def test_a_name_in_use_by_an_active_key_of_the_county_is_refused(county):
    api_key_create(county=county, name="征收系统")
    with pytest.raises(ApiKeyRefused, match="已有名为“征收系统”的有效密钥"):
        api_key_create(county=county, name=" 征收系统 ")
    assert ApiKey.objects.count() == 1


def test_a_revoked_keys_name_can_be_used_again(county):
    old = api_key_create(county=county, name="征收系统").key
    api_key_revoke(key=old)
    assert api_key_create(county=county, name="征收系统").key.pk != old.pk


@pytest.mark.parametrize("name", ["", "   ", "名" * 101])
def test_a_blank_or_long_name_is_refused(county, name):
    with pytest.raises(ApiKeyRefused):
        api_key_create(county=county, name=name)
    assert not ApiKey.objects.exists()


def test_keys_are_issued_per_county_only(township):
    with pytest.raises(ApiKeyRefused, match="不是县级区划"):
        api_key_create(county=township, name="一")
    assert not ApiKey.objects.exists()


def test_a_key_authenticates_to_its_row_with_the_account(county):
    issued = api_key_create(county=county, name="一")
    key = api_key_authenticate(secret=issued.secret)
    assert key == issued.key and key.account.username == "tax-api-530927"
    assert key.last_used_at is not None


@pytest.mark.parametrize("tamper", [lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), str.upper])
def test_a_changed_key_does_not_authenticate(county, tamper):
    issued = api_key_create(county=county, name="一")
    with pytest.raises(ApiKeyInvalid) as caught:
        api_key_authenticate(secret=tamper(issued.secret))
    assert caught.value.code == "invalid_key"


def test_revoking_is_audited_and_cannot_happen_twice(county, county_user):
    issued = api_key_create(county=county, name="一")
    api_key_revoke(key=issued.key, revoked_by=county_user)
    stored = ApiKey.objects.get()
    assert stored.revoked_by == county_user and not stored.is_active
    assert AuditEntry.objects.get(action="api_key.revoke").actor == county_user
    with pytest.raises(ApiKeyRefused, match="已经吊销"):
        api_key_revoke(key=stored)
    assert AuditEntry.objects.filter(action="api_key.revoke").count() == 1
    with pytest.raises(ApiKeyInvalid) as caught:
        api_key_authenticate(secret=issued.secret)
    assert caught.value.code == "revoked_key"


def test_a_request_log_row_survives_a_malformed_remote_address(db):
    row = api_request_log(key=None, method="GET", path="/api/v1/x" * 50, status=401,
                          remote_addr="not-an-ip")  # fmt: skip
    row.refresh_from_db()
    assert row.remote_addr is None and len(row.path) == 200
