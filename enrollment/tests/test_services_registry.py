"""The quarterly registry comparison, one outcome at a time, through the service the page and
the command share."""

import datetime
import io

import pytest

from conftest import make_group, make_village
from enrollment.models import Finding, Resident
from enrollment.services.jobs import ImportRefused, registry_import
from enrollment.tests.factories import ResidentFactory, make_id_number
from pension.idnumber import check_digit
from pension.models import AuditEntry

AS_OF = datetime.date(2023, 3, 31)
HEADER = ["公民身份号码", "姓名", "性别", "区划代码", "户号", "人员状态"]


def registry_file(rows, *, header=HEADER, title=True) -> io.BytesIO:
    """A CSV export as the police system writes it: a title row and a blank row on top."""
    lines = ["沧源佤族自治县公安户籍人口数据（2023年一季度）", ""] if title else []
    lines.append(",".join(header))
    lines += [",".join(str(value) for value in row) for row in rows]
    data = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8-sig"))
    data.name = "registry.csv"
    return data


def run(county, rows, **kwargs):
    return registry_import(
        source=registry_file(rows, **kwargs.pop("file_kwargs", {})),
        region=county, as_of=AS_OF, filename="registry.csv", **kwargs,
    )  # fmt: skip


def row_of(person, *, name=None, code=None, status="正常"):
    return [person.id_number, name or person.name, "男" if person.sex == "M" else "女",
            code or person.village_id, "0001", status]  # fmt: skip


def new_number(birth: str, order: str = "135") -> str:
    first17 = f"530927{birth}{order}"
    return first17 + check_digit(first17)


@pytest.fixture
def on_file(village):
    return ResidentFactory(village=village, name="岩块", birth_date=datetime.date(1970, 5, 17))


def test_a_new_adult_is_put_on_file_as_eligible_and_a_child_as_not_yet_eligible(county, village):
    adult, child = new_number("19800101"), new_number("20100101", "246")
    outcome = run(county, [
        [adult, "叶嘎", "男", village.code, "0007", "正常"],
        [child, "岩门", "女", village.code, "0007", "正常"],
    ])  # fmt: skip
    assert outcome.counts["new"] == 2
    assert Resident.objects.get(id_number=adult).status == Resident.Status.ELIGIBLE
    assert Resident.objects.get(id_number=child).status == Resident.Status.NOT_ELIGIBLE
    registered = AuditEntry.objects.filter(action="resident.register")
    assert registered.count() == 2


def test_a_resident_who_turned_16_becomes_eligible(county, village):
    teen = ResidentFactory(
        village=village, birth_date=datetime.date(2007, 3, 31), status="not_eligible"
    )
    younger = ResidentFactory(
        village=village, birth_date=datetime.date(2007, 4, 1), status="not_eligible"
    )
    outcome = run(county, [row_of(teen), row_of(younger)])
    assert outcome.counts["turned_16"] == 1
    teen.refresh_from_db()
    younger.refresh_from_db()
    assert (teen.status, younger.status) == ("eligible", "not_eligible")


def test_the_deceased_are_marked_pending_cancellation_with_a_finding(county, on_file):
    outcome = run(county, [row_of(on_file, status="死亡")])
    on_file.refresh_from_db()
    assert outcome.counts["deceased"] == 1
    assert on_file.status == Resident.Status.DECEASED
    assert "2023-04-01 起停发" in on_file.status_reason
    finding = Finding.objects.get(kind=Finding.Kind.DECEASED)
    assert finding.resident == on_file and finding.region_id == on_file.village_id


def test_moving_out_raises_a_finding_and_keeps_the_resident(county, on_file):
    outcome = run(county, [row_of(on_file, status="迁出")])
    assert outcome.counts["moved_out"] == 1
    assert Finding.objects.get(kind=Finding.Kind.MOVED_OUT).resident == on_file
    on_file.refresh_from_db()
    assert on_file.status == Resident.Status.ENROLLED


def test_a_resident_absent_from_the_registry_raises_no_registration(county, on_file, village):
    other = ResidentFactory(village=village)
    sealed = ResidentFactory(village=village, status="sealed")
    outcome = run(county, [row_of(other)])
    assert outcome.counts["absent"] == 1
    finding = Finding.objects.get(kind=Finding.Kind.NO_REGISTRATION)
    assert finding.resident == on_file
    assert not Finding.objects.filter(resident=sealed).exists()


def test_a_name_mismatch_is_a_finding_and_the_name_on_file_stays(county, on_file):
    outcome = run(county, [row_of(on_file, name="岩嘎")])
    assert outcome.counts["name_mismatch"] == 1
    on_file.refresh_from_db()
    assert on_file.name == "岩块"
    assert "户籍姓名：岩嘎" in Finding.objects.get(kind="id_name_mismatch").detail


def test_a_move_to_another_village_is_followed_with_its_history(county, township, on_file):
    new_home = make_group(make_village(township, 201, "贺岭村"), 3)
    outcome = run(county, [row_of(on_file, code=new_home.code)])
    assert outcome.counts["moved_village"] == 1
    on_file.refresh_from_db()
    assert (on_file.village_id, on_file.group_id) == (new_home.code[:12], new_home.code)
    entry = AuditEntry.objects.get(action="resident.move")
    assert entry.changes == {"village": ["530927203200", "530927203201"]}


def test_locations_resolve_from_township_village_and_group_names(county, township, village):
    make_group(village, 2)
    number = new_number("19750101")
    header = ["身份证号", "姓名", "乡镇", "村(居)委会", "组", "状态"]
    outcome = run(
        county,
        [[number, "肖春", "糯良乡", "糯良", "第二村民小组", ""]],
        file_kwargs={"header": header},
    )
    assert outcome.counts["new"] == 1
    assert Resident.objects.get(id_number=number).group_id == f"{village.code}002"


def test_every_bad_row_is_rejected_with_its_spreadsheet_row_column_and_reason(county, village):
    good = new_number("19800101")
    wrong_check = good[:17] + ("1" if good[17] != "1" else "2")
    twice = new_number("19900202", "357")
    outcome = run(county, [
        [good, "好人", "男", village.code, "", "正常"],                 # row 4
        ["53092719800101", "短号", "男", village.code, "", "正常"],     # row 5
        [wrong_check, "错位", "男", village.code, "", "正常"],          # row 6
        ["530927199902301234", "无日", "男", village.code, "", "正常"],  # row 7
        [new_number("19810101"), "远方", "男", "530927999200", "", "正常"],  # row 8
        [twice, "重一", "男", village.code, "", "正常"],                # row 9
        [twice, "重二", "男", village.code, "", "正常"],                # row 10
        [new_number("19820101"), "怪态", "男", village.code, "", "失踪"],  # row 11
    ] + [[new_number(f"1960{m:02d}01"), f"人{m}", "男", village.code, "", ""]
         for m in range(1, 9)])  # fmt: skip
    reasons = {(r.row, r.column): r.reason for r in outcome.rejected}
    assert "格式错误" in reasons[(5, "公民身份号码")]
    assert "校验位错误" in reasons[(6, "公民身份号码")]
    assert "出生日期无效" in reasons[(7, "公民身份号码")]
    assert "不是本县" in reasons[(8, "区划代码")]
    assert "重复出现（第9、10行）" in reasons[(9, "公民身份号码")]
    assert (10, "公民身份号码") in reasons
    assert "正常、死亡 或 迁出" in reasons[(11, "人员状态")]
    assert outcome.rows == 16 and outcome.accepted == 9
    assert outcome.counts["new"] == 9
    assert not Resident.objects.filter(id_number=twice).exists()


def test_importing_the_same_file_again_changes_nothing(county, township, on_file, village):
    moving = ResidentFactory(village=village)
    new_home = make_village(township, 201, "贺岭村")
    rows = [
        row_of(on_file, name="岩嘎"),
        row_of(moving, code=new_home.code),
        [new_number("19800101"), "叶嘎", "男", village.code, "", "正常"],
    ]
    first = run(county, rows)
    assert first.counts["new"] == 1 and first.counts["moved_village"] == 1
    snapshot = (Resident.objects.count(), Finding.objects.count(), AuditEntry.objects.count())
    again = run(county, rows)
    assert set(again.counts.values()) == {0}
    assert (Resident.objects.count(), Finding.objects.count(), AuditEntry.objects.count()) == (
        snapshot
    )


def test_a_dry_run_reports_the_changes_and_writes_nothing(county, on_file, village):
    rows = [
        row_of(on_file, status="死亡"),
        [new_number("19800101"), "叶嘎", "男", village.code, "", ""],
    ]
    outcome = run(county, rows, dry_run=True)
    assert outcome.dry_run and not outcome.applied
    assert (outcome.counts["deceased"], outcome.counts["new"]) == (1, 1)
    on_file.refresh_from_db()
    assert on_file.status == Resident.Status.ENROLLED
    assert Resident.objects.count() == 1
    assert not Finding.objects.exists() and not AuditEntry.objects.exists()


def test_more_than_half_bad_rows_writes_nothing_and_says_why(county, village):
    rows = [["123", "坏", "男", village.code, "", ""]] * 2 + [
        [new_number("19800101"), "叶嘎", "男", village.code, "", ""]
    ]
    outcome = run(county, rows)
    assert not outcome.applied
    assert "错误行超过一半" in outcome.refused_reason
    assert not Resident.objects.exists()


def test_strict_mode_refuses_a_file_with_any_bad_row(county, village):
    rows = [["123", "坏", "男", village.code, "", ""]] + [
        [new_number(f"1980{m:02d}01"), f"人{m}", "男", village.code, "", ""] for m in range(1, 6)
    ]
    outcome = run(county, rows, strict=True)
    assert not outcome.applied and "全部正确才导入" in outcome.refused_reason
    assert not Resident.objects.exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "文件为空"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "不是电子表格文件"),
        ("姓名,备注\n张三,无\n".encode(), "缺少必需的列：公民身份号码"),
        ("公民身份号码,姓名\n530927198001011234,张三\n".encode(), "缺少户籍地列"),
    ],
)
def test_a_structurally_wrong_file_is_refused_whole(county, on_file, payload, message):
    data = io.BytesIO(payload)
    data.name = "bad.csv"
    with pytest.raises(ImportRefused, match=message):
        registry_import(source=data, region=county, as_of=AS_OF, filename="bad.csv")
    assert Resident.objects.count() == 1 and not Finding.objects.exists()


def test_it_compares_only_inside_the_county(county, on_file, far_resident):
    run(county, [row_of(on_file)])
    assert not Finding.objects.filter(resident=far_resident).exists()


def test_a_person_on_file_in_another_county_is_neither_registered_again_nor_moved(
    county, village, on_file, far_resident
):
    outcome = run(county, [row_of(on_file), row_of(far_resident, code=village.code)])

    assert outcome.counts["new"] == 0 and outcome.counts["moved_village"] == 0
    assert Resident.objects.count() == 2
    far_resident.refresh_from_db()
    assert far_resident.village_id.startswith("622901")


def test_a_person_on_file_in_another_county_is_a_transfer_finding_for_the_village_they_live_in(
    county, village, on_file, far_resident
):
    outcome = run(county, [row_of(on_file), row_of(far_resident, code=village.code)])

    assert outcome.counts["transfer_in"] == 1
    finding = Finding.objects.get(kind=Finding.Kind.TRANSFER_IN)
    assert (finding.id_number, finding.region_id, finding.resident) == (
        far_resident.id_number, village.code, None,
    )  # fmt: skip
    assert finding.detail == "户籍已在本县，参保登记在临夏市，需办理参保关系转移接续"
    assert (
        run(county, [row_of(on_file), row_of(far_resident, code=village.code)]).counts[
            "transfer_in"
        ]
        == 0
    )  # the same file again: the finding is open already


def test_a_person_deceased_in_another_county_is_no_transfer(county, village, on_file, far_resident):
    far_resident.status = Resident.Status.DECEASED
    far_resident.save()

    outcome = run(county, [row_of(on_file), row_of(far_resident, code=village.code)])

    assert outcome.counts["transfer_in"] == 0
    assert not Finding.objects.filter(kind=Finding.Kind.TRANSFER_IN).exists()


def test_a_township_comparison_leaves_a_resident_of_another_township_to_the_county(
    township, other_village, village, on_file
):
    neighbour = ResidentFactory(village=other_village)

    registry_import(
        source=registry_file([row_of(on_file), row_of(neighbour, code=village.code)]),
        region=township, as_of=AS_OF, filename="registry.csv",
    )  # fmt: skip

    assert not Finding.objects.filter(kind=Finding.Kind.TRANSFER_IN).exists()


def test_the_registry_reader_counts_title_rows_in_row_numbers(county, village):
    good = [make_id_number("530927", datetime.date(1980 + n, 1, 1)) for n in range(2)]
    outcome = run(county, [
        ["bad", "坏人", "男", village.code, "", ""],
        [good[0], "好人", "男", village.code, "", ""],
        [good[1], "好人二", "男", village.code, "", ""],
    ])  # fmt: skip
    assert [r.row for r in outcome.rejected] == [4]


def test_a_township_comparison_touches_only_its_own_township(
    township, other_village, on_file, village
):
    neighbour = ResidentFactory(village=other_village)
    outcome = registry_import(
        source=registry_file([row_of(on_file), row_of(neighbour)]),
        region=township, as_of=AS_OF, filename="registry.csv",
    )  # fmt: skip
    assert [(r.row, r.column) for r in outcome.rejected] == [(5, "区划代码")]
    assert "不在糯良乡辖区内" in outcome.rejected[0].reason
    assert outcome.counts["absent"] == 0
    assert not Finding.objects.filter(resident=neighbour).exists()


def test_the_command_prints_the_summary_as_json(county, on_file, tmp_path):
    import json

    from django.core.management import call_command

    path = tmp_path / "registry.csv"
    path.write_bytes(registry_file([row_of(on_file, status="迁出")]).getvalue())
    out = io.StringIO()
    call_command(
        "import_registry", str(path), "--county", "530927", "--as-of", "2023-03-31", "--json",
        stdout=out,
    )  # fmt: skip
    summary = json.loads(out.getvalue())
    assert set(summary) >= {
        "rows", "accepted", "rejected", "new", "turned_16", "deceased", "moved_out", "absent",
        "name_mismatch", "moved_village",
    }  # fmt: skip
    assert (summary["rows"], summary["accepted"], summary["moved_out"]) == (1, 1, 1)
    assert summary["rejected"] == []


def test_the_command_refuses_a_missing_file_in_chinese(county, tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="文件不存在"):
        call_command(
            "import_registry", str(tmp_path / "none.csv"), "--county", "530927",
            "--as-of", "2023-03-31",
        )  # fmt: skip


def test_a_person_on_a_rejected_row_is_not_reported_absent(county, on_file, village):
    duplicate = ResidentFactory(village=village)
    outcome = run(county, [
        row_of(on_file, code="530927999200"),  # unknown place: rejected
        row_of(duplicate), row_of(duplicate),  # twice: both rejected
        *[[new_number(f"1970{m:02d}01"), f"人{m}", "男", village.code, "", ""]
          for m in range(1, 6)],
    ])  # fmt: skip
    assert len(outcome.rejected) == 3
    assert outcome.counts["absent"] == 0
    assert not Finding.objects.filter(kind=Finding.Kind.NO_REGISTRATION).exists()


def test_a_file_of_100000_bad_rows_is_refused_whole_with_every_row_reported(county, on_file):
    data = io.BytesIO(
        ("公民身份号码,姓名,区划代码\n" + "12345,坏,530927203200\n" * 100_000).encode()
    )
    outcome = registry_import(source=data, region=county, as_of=AS_OF, filename="bad.csv")
    assert not outcome.applied and "错误行超过一半" in outcome.refused_reason
    assert len(outcome.rejected) == 100_000
    assert outcome.rejected[-1].row == 100_001
    assert Resident.objects.count() == 1 and not Finding.objects.exists()


def test_a_comparison_outside_the_users_region_is_refused(other_township, township_user):
    with pytest.raises(ImportRefused, match="不在您的辖区内"):
        registry_import(
            source=registry_file([]), region=other_township, as_of=AS_OF,
            filename="registry.csv", actor=township_user,
        )  # fmt: skip


def test_an_auditor_cannot_run_a_comparison(county, on_file):
    from conftest import make_user
    from pension.models import User

    auditor = make_user("audit", User.Role.AUDITOR, county)
    with pytest.raises(ImportRefused, match="无权"):
        registry_import(
            source=registry_file([row_of(on_file, status="死亡")]), region=county, as_of=AS_OF,
            filename="registry.csv", actor=auditor,
        )  # fmt: skip
    on_file.refresh_from_db()
    assert on_file.status == Resident.Status.ENROLLED


def test_a_broken_quote_far_down_the_file_refuses_it_and_writes_nothing(county, village):
    good = [[new_number(f"1980{m:02d}{d:02d}", "135"), "叶嘎", "男", village.code, "7", "正常"]
            for m in range(1, 13) for d in range(1, 29)]  # fmt: skip
    data = registry_file(good)
    data = io.BytesIO(data.getvalue() + ('530927198001011359,"岩门' + "x" * 200_000).encode())
    with pytest.raises(ImportRefused, match="引号不成对"):
        registry_import(source=data, region=county, as_of=AS_OF, filename="registry.csv")
    assert not Resident.objects.exists()
    assert not AuditEntry.objects.exists()
    assert Resident.objects.count() == 0  # the connection is still usable afterwards
