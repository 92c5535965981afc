"""The tax bureau's API keys: issuing, revoking, recognising them, and the log of API calls.

A key reads `rpk_<prefix>_<secret>`. Only the prefix (to find the row) and a SHA-256 digest of
the whole key are stored, so a copy of the database gives nobody a working key; the key itself
is shown once, to whoever created it. Requests made with a key act as the county's tax-bureau
account, so region scope and the audit trail work as they do for a person.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import re
import secrets
import string
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pension.models import Region, User
from pension.services import audit_record
from reconciliation.models import ApiKey, ApiRequest

KEY_PREFIX = "rpk_"
_PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_KEY_SHAPE = re.compile(rf"{KEY_PREFIX}([a-z0-9]{{{_PREFIX_LENGTH}}})_[A-Za-z0-9_-]{{32,100}}")
NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length

# last_used_at is a hint for the admin ("is this key still in use?"), not an audit record: the
# request log has every call. Writing it at most once a minute spares a row update per request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

_PATH_MAX = ApiRequest._meta.get_field("path").max_length
# The tax-bureau account's name is the county's name and this (data: stored on the account).
TAX_ACCOUNT_NAME_SUFFIX = "税务局"


class ApiKeyRefused(Exception):
    """A key that cannot be created or revoked as asked; the message is in Chinese."""


class ApiKeyInvalid(Exception):
    """A request's key that does not open the API; `code` is for programs, the message for
    people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its text, which exists only here: it is never stored."""

    key: ApiKey
    secret: str

    def as_dict(self) -> dict:
        return {
            "key": self.secret,
            "prefix": self.key.prefix,
            "name": self.key.name,
            "county": self.key.county_id,
            "account": self.key.account.username,
        }


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tax_account_name(county: Region) -> str:
    return f"tax-api-{county.code}"


def api_key_create_problem(*, county: Region, name: str, account: User | None = None) -> str:
    """Why a key named `name` cannot be issued for `county`, or "". The admin's form shows it
    beside the field; `api_key_create` refuses with it."""
    name = (name or "").strip()
    if county.level != Region.Level.COUNTY:
        return _("%(region)s 不是县级区划：密钥只能按县发放") % {"region": county}
    if not name:
        return _("密钥名称不能为空")
    if len(name) > NAME_MAX_LENGTH:
        return _("密钥名称不能超过 %(max)s 个字") % {"max": NAME_MAX_LENGTH}
    if ApiKey.objects.active().filter(county=county, name=name).exists():
        return _("%(county)s已有名为“%(name)s”的有效密钥，请换一个名称或先吊销原密钥") % {
            "county": county.name,
            "name": name,
        }
    if account is None:
        account = User.objects.filter(username=tax_account_name(county)).first()
        if account is None:
            return ""
    if account.role != User.Role.TAX or account.region_id != county.code:
        return _(
            "账号 %(account)s 不是%(county)s的税务局账号（角色须为税务局，所属区划须为 %(code)s）"
        ) % {"account": account.username, "county": county.name, "code": county.code}
    if not account.is_active:
        return _("账号 %(account)s 已停用") % {"account": account.username}
    return ""


def _account_for(*, county: Region, account: User | None) -> User:
    if account is not None:
        return account
    found, created = User.objects.get_or_create(
        username=tax_account_name(county),
        defaults={
            "role": User.Role.TAX,
            "region": county,
            "last_name": county.name + TAX_ACCOUNT_NAME_SUFFIX,
        },
    )
    if created:
        # The account works through keys only; it has no password anyone could guess.
        found.set_unusable_password()
        found.save(update_fields=["password"])
    return found


def api_key_create(
    *,
    county: Region,
    name: str,
    account: User | None = None,
    created_by: User | None = None,
) -> IssuedKey:
    """Issue a key for `county`'s tax bureau. The returned secret is the only copy."""
    name = (name or "").strip()
    with transaction.atomic():
        problem = api_key_create_problem(county=county, name=name, account=account)
        if problem:
            raise ApiKeyRefused(problem)
        owner = _account_for(county=county, account=account)
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
        secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name,
                    county=county,
                    account=owner,
                    prefix=prefix,
                    digest=digest_of(secret),
                    created_by=created_by,
                )
        except IntegrityError:
            # Two admins naming a key alike at once; a prefix collision (36^8) is no likelier.
            raise ApiKeyRefused(
                _("%(county)s已有名为“%(name)s”的有效密钥，请换一个名称或先吊销原密钥")
                % {"county": county.name, "name": name}
            ) from None
        audit_record(
            actor=created_by,
            action="api_key.create",
            target=key,
            region_code=county.code,
            changes={"name": name, "prefix": prefix, "account": owner.username},
        )
    return IssuedKey(key=key, secret=secret)


def api_key_revoke(*, key: ApiKey, revoked_by: User | None = None) -> ApiKey:
    """Revoke `key`: every later request with it answers 401. Revoking twice is refused."""
    now = timezone.now()
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=revoked_by
        )
        if not changed:
            raise ApiKeyRefused(
                _("密钥 %(name)s（%(prefix)s…）已经吊销") % {"name": key.name, "prefix": key.prefix}
            )
        key.revoked_at, key.revoked_by = now, revoked_by
        audit_record(
            actor=revoked_by,
            action="api_key.revoke",
            target=key,
            region_code=key.county_id,
            changes={"name": key.name, "prefix": key.prefix},
        )
    return key


def api_key_authenticate(*, secret: str) -> ApiKey:
    """The active key whose text is `secret`, with its account and county loaded.

    Raises ApiKeyInvalid for a key that is malformed, unknown, wrong, revoked, or whose account
    is no longer an active tax-bureau account.
    """
    match = _KEY_SHAPE.fullmatch(secret or "")
    if match is None:
        raise ApiKeyInvalid("invalid_key", _("接口密钥无效"))
    key = ApiKey.objects.select_related("account", "county").filter(prefix=match[1]).first()
    # The digest is compared even for an unknown prefix, so that timing does not tell a
    # caller which prefixes exist.
    matches = hmac.compare_digest(key.digest if key else "0" * 64, digest_of(secret))
    if key is None or not matches:
        raise ApiKeyInvalid("invalid_key", _("接口密钥无效"))
    if key.revoked_at is not None:
        raise ApiKeyInvalid("revoked_key", _("接口密钥已吊销，请向县社保中心申请新的密钥"))
    account = key.account
    if not account.is_active or account.role != User.Role.TAX:
        raise ApiKeyInvalid("inactive_account", _("接口密钥所属的税务局账号已停用"))
    _touch(key)
    return key


def _touch(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION), pk=key.pk
    ).update(last_used_at=now)
    key.last_used_at = now


def api_request_log(
    *,
    key: ApiKey | None,
    method: str,
    path: str,
    status: int,
    records: int = 0,
    duration_ms: int = 0,
    remote_addr: str | None = None,
) -> ApiRequest:
    """One row per API call, written whatever the answer was (also 400, 401 and 404)."""
    return ApiRequest.objects.create(
        key=key,
        method=(method or "")[:8],
        path=(path or "")[:_PATH_MAX],
        status=status,
        records=max(records, 0),
        duration_ms=max(duration_ms, 0),
        remote_addr=_ip_or_none(remote_addr),
    )


def _ip_or_none(value: str | None) -> str | None:
    # The column is inet on PostgreSQL: a malformed REMOTE_ADDR must not make the log fail.
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None
