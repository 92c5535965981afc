import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from conftest import make_user
from pension.models import AuditEntry, User
from reconciliation.models import ApiKey
from reconciliation.services.keys import api_key_authenticate, api_key_create
from reconciliation.services.sync import sync_payments_batch
from reconciliation.tests.conftest import tax_record


@pytest.fixture
def root(client, db):
    admin = User.objects.create_superuser("root", password="x-long-password-1")
    client.force_login(admin)
    return admin


MODELS = [
    "apikey", "apirequest", "syncedrecord", "statement", "taxline", "bankline",
    "reconciliationrun", "discrepancy",
]  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_every_reconciliation_model_has_a_change_list(client, root, key, resident, model):
    sync_payments_batch(key=key, records=[tax_record(resident, name="岩别人")])
    response = client.get(reverse(f"admin:reconciliation_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS[1:])
def test_records_are_read_only_in_the_admin(client, root, model):
    assert client.get(reverse(f"admin:reconciliation_{model}_add")).status_code == 403


def test_adding_a_key_shows_it_once_and_never_its_digest(client, root, county):
    response = client.post(
        reverse("admin:reconciliation_apikey_add"),
        {"county": county.code, "name": "征收系统"},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    secret = re.search(r"<code>(rpk_[^<]+)</code>", page)[1]
    key = ApiKey.objects.get()
    assert api_key_authenticate(secret=secret) == key
    assert key.created_by == root and key.account.username == "tax-api-530927"
    detail = client.get(reverse("admin:reconciliation_apikey_change", args=[key.pk]))
    listing = client.get(reverse("admin:reconciliation_apikey_changelist"))
    for shown in (detail.content.decode(), listing.content.decode()):
        assert key.digest not in shown and secret not in shown
    assert AuditEntry.objects.get(action="api_key.create").actor == root


def test_a_name_in_use_is_refused_in_the_form_and_nothing_is_written(client, root, county):
    api_key_create(county=county, name="征收系统")
    response = client.post(
        reverse("admin:reconciliation_apikey_add"), {"county": county.code, "name": "征收系统"}
    )
    assert response.status_code == 200
    assert "已有名为“征收系统”的有效密钥" in response.content.decode()
    assert ApiKey.objects.count() == 1


def test_the_revoke_action_revokes_through_the_service(client, root, county):
    issued = api_key_create(county=county, name="征收系统")
    response = client.post(
        reverse("admin:reconciliation_apikey_changelist"),
        {"action": "revoke", "_selected_action": [issued.key.pk]},
        follow=True,
    )
    assert "已吊销 1 个密钥" in response.content.decode()
    assert ApiKey.objects.get().revoked_by == root
    assert AuditEntry.objects.filter(action="api_key.revoke").count() == 1


def test_a_county_user_sees_only_their_countys_keys(client, county, other_county):
    mine = api_key_create(county=county, name="沧源").key
    api_key_create(county=other_county, name="临夏")
    staff = make_user("cangyuan_admin", User.Role.COUNTY, county, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    client.force_login(staff)
    page = client.get(reverse("admin:reconciliation_apikey_changelist")).content.decode()
    assert mine.prefix in page and "临夏" not in page
