"""The two doors into the regions import: `manage.py import_regions` and the admin upload."""

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from conftest import make_user
from pension.models import AuditEntry, Region, User

CSV = (
    "区划代码,名称\n"
    "530927203201,班考村\n"
    "530927203201001,班考一组\n"
    "530927203202,永和社区\n"
    "530927203203,\n"
)
HALF_BAD = "区划代码,名称\n530927203201,班考村\n530927203202,\n5309272032,短码\n"
IMPORT_URL = "admin:pension_region_import"


def write(tmp_path, content: str, name: str = "regions.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8-sig"))
    return path


def command(*args) -> str:
    out = io.StringIO()
    call_command("import_regions", *map(str, args), stdout=out)
    return out.getvalue()


def imported() -> int:
    return Region.objects.filter(level__in=["village", "group"]).count()


def test_json_output_has_rows_counts_and_rejected_rows(township, tmp_path):
    printed = json.loads(command(write(tmp_path, CSV), "--json"))
    assert printed == {
        "rows": 4,
        "created": 3,
        "updated": 0,
        "rejected": [{"row": 5, "column": "名称", "reason": "名称不能为空"}],
    }


def test_a_second_run_reports_nothing_created_or_updated(township, tmp_path):
    path = write(tmp_path, CSV)
    command(path)
    printed = json.loads(command(path, "--json"))
    assert (printed["created"], printed["updated"]) == (0, 0)


def test_the_summary_is_in_chinese_and_lists_rejected_rows(township, tmp_path):
    printed = command(write(tmp_path, CSV))
    assert "导入完成：共 4 行，新增 3 个，更新 0 个，未变 0 个，错误 1 行。" in printed
    assert "第5行 〈名称〉: 名称不能为空" in printed


def test_a_dry_run_writes_nothing(township, tmp_path):
    printed = command(write(tmp_path, CSV), "--dry-run")
    assert printed.startswith("试算完成（未写入）：共 4 行，新增 3 个")
    assert imported() == 0


def test_a_missing_file_is_a_chinese_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        command(tmp_path / "none.csv")


def test_a_structural_fault_is_a_command_error_and_writes_nothing(township, tmp_path):
    with pytest.raises(CommandError, match="缺少必需的列：名称"):
        command(write(tmp_path, "区划代码,备注\n530927203201,班考村\n"))
    assert imported() == 0
    assert not AuditEntry.objects.exists()


def test_a_refused_file_prints_its_json_and_fails(township, tmp_path):
    out = io.StringIO()
    with pytest.raises(CommandError, match="错误行超过一半"):
        call_command("import_regions", str(write(tmp_path, HALF_BAD)), "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert (printed["rows"], printed["created"], len(printed["rejected"])) == (3, 0, 2)
    assert imported() == 0


# --- The admin upload -------------------------------------------------------------------------


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin", password="correct-horse-9")


def upload(content: str = CSV, name: str = "regions.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8-sig"), content_type="text/csv")


def test_the_region_list_links_to_the_import_page(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:pension_region_changelist"))
    assert reverse(IMPORT_URL) in page.content.decode()
    assert "导入区划" in page.content.decode()


def test_a_superuser_imports_a_list_and_sees_the_rejected_rows(client, superuser, township):
    client.force_login(superuser)
    assert client.get(reverse(IMPORT_URL)).status_code == 200
    page = client.post(reverse(IMPORT_URL), {"file": upload()})
    assert page.status_code == 200
    body = page.content.decode()
    assert "导入完成，部分行有错误：共 4 行：新增 3 个" in body
    assert "第5行" in body and "名称不能为空" in body
    assert imported() == 3
    assert AuditEntry.objects.get(action="regions.import").actor == superuser


def test_an_upload_missing_a_column_is_refused_on_the_page(client, superuser, township):
    client.force_login(superuser)
    page = client.post(reverse(IMPORT_URL), {"file": upload("区划代码,备注\n530927203201,x\n")})
    assert page.status_code == 200
    assert "无法导入 regions.csv：缺少必需的列：名称" in page.content.decode()
    assert imported() == 0
    assert not AuditEntry.objects.exists()


def test_a_refused_upload_says_why_and_writes_nothing(client, superuser, township):
    client.force_login(superuser)
    page = client.post(reverse(IMPORT_URL), {"file": upload(HALF_BAD)})
    assert "错误行超过一半（2/3 行）" in page.content.decode()
    assert imported() == 0


def test_a_township_user_cannot_reach_the_import_page(client, township):
    user = make_user("nuoliang", User.Role.TOWNSHIP, township)
    client.force_login(user)
    page = client.get(reverse(IMPORT_URL))
    assert page.status_code == 302
    assert "/login/" in page.url


def test_a_staff_township_user_without_the_add_permission_is_refused(client, township):
    user = make_user("nuoliang", User.Role.TOWNSHIP, township, is_staff=True)
    client.force_login(user)
    assert client.get(reverse(IMPORT_URL)).status_code == 403
    assert client.post(reverse(IMPORT_URL), {"file": upload()}).status_code == 403
    assert imported() == 0


def test_a_county_user_with_the_add_region_permission_may_import(client, county_user, township):
    county_user.user_permissions.add(Permission.objects.get(codename="add_region"))
    client.force_login(county_user)
    page = client.post(reverse(IMPORT_URL), {"file": upload()})
    assert page.status_code == 200
    assert imported() == 3
