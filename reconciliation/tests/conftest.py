"""Fixtures of the tax-bureau sync API's tests: a key for the county under test (Cangyuan,
530927) and one for another county (Linxia, 622901), clients that send them, and a record as
the tax bureau sends it."""

from __future__ import annotations

import datetime
import itertools

import pytest
from rest_framework.test import APIClient

from pension.models import Region
from reconciliation.services.keys import IssuedKey, api_key_create

_vouchers = itertools.count(1)


def issue_key(county: Region, name: str = "沧源县税务局征收系统") -> IssuedKey:
    return api_key_create(county=county, name=name)


def client_with(secret: str | None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def tax_record(resident=None, **overrides) -> dict:
    """One collection record as the tax bureau sends it: a 300-yuan 2023 payment."""
    values = {
        "voucher_no": f"332023{next(_vouchers):012d}",
        "id_number": resident.id_number if resident is not None else "",
        "name": resident.name if resident is not None else "",
        "contribution_year": 2023,
        "tier": "300.00",
        "amount": "300.00",
        "kind": "normal",
        "paid_on": "2023-05-10",
        "channel": "wechat",
        "tax_office": "15309270000",
    }
    values.update(overrides)
    return values


@pytest.fixture
def issued(county) -> IssuedKey:
    return issue_key(county)


@pytest.fixture
def key(issued):
    return issued.key


@pytest.fixture
def api(issued) -> APIClient:
    return client_with(issued.secret)


@pytest.fixture
def other_issued(other_county) -> IssuedKey:
    return issue_key(other_county, "临夏市税务局征收系统")


@pytest.fixture
def other_api(other_issued) -> APIClient:
    return client_with(other_issued.secret)


@pytest.fixture
def anonymous() -> APIClient:
    return client_with(None)


SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
IN_2023 = datetime.datetime(2023, 7, 1, 9, 0, tzinfo=SHANGHAI)
