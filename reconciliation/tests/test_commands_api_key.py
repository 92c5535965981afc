import json

import pytest
from django.core.management import CommandError, call_command

from conftest import make_user
from pension.models import User
from reconciliation.models import ApiKey
from reconciliation.services.keys import api_key_authenticate


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_key_prints_the_key_once_and_it_works(county):
    output = run("create_api_key", "--county", "530927", "--name", "征收系统")
    secret = output.strip().splitlines()[-1]
    assert secret.startswith("rpk_")
    assert api_key_authenticate(secret=secret).name == "征收系统"
    assert "只显示这一次" in output


def test_create_api_key_json_names_the_key_and_its_account(county):
    summary = json.loads(run("create_api_key", "--county", "530927", "--name", "一", "--json"))
    assert (summary["county"], summary["account"], summary["name"]) == (
        "530927",
        "tax-api-530927",
        "一",
    )
    assert summary["key"].startswith(f"rpk_{summary['prefix']}_")


def test_create_api_key_uses_a_named_tax_account(county):
    make_user("cangyuan_tax", User.Role.TAX, county)
    run("create_api_key", "--county", "530927", "--name", "一", "--account", "cangyuan_tax")
    assert ApiKey.objects.get().account.username == "cangyuan_tax"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--county", "999999", "--name", "一"], "没有区划代码为 999999 的县"),
        (["--county", "530927203", "--name", "一"], "没有区划代码为 530927203 的县"),
        (["--county", "530927", "--name", "一", "--account", "nobody"], "没有用户名为 nobody"),
        (["--county", "530927", "--name", "  "], "密钥名称不能为空"),
    ],
)
def test_create_api_key_refuses_with_a_reason_and_writes_nothing(county, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *args)
    assert not ApiKey.objects.exists()


def test_revoke_api_key_revokes_by_prefix(county):
    summary = json.loads(run("create_api_key", "--county", "530927", "--name", "一", "--json"))
    output = run("revoke_api_key", summary["prefix"])
    assert "已吊销" in output
    assert ApiKey.objects.get().revoked_at is not None
    with pytest.raises(CommandError, match="已经吊销"):
        run("revoke_api_key", summary["prefix"])


def test_revoke_api_key_refuses_an_unknown_prefix(db):
    with pytest.raises(CommandError, match="没有前缀为 nothing 的密钥"):
        run("revoke_api_key", "nothing")
