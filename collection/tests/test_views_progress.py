import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collection.models import Target, VillageProgress
from conftest import make_user, make_village
from enrollment.tests.factories import ResidentFactory
from pension.models import AuditEntry, Region, User

SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2023, 7, 1, 9, tzinfo=SHANGHAI)):
        yield


def snapshot(village, expected, paid, day=datetime.date(2023, 7, 1)):
    return VillageProgress.objects.create(
        village=village, year=2023, day=day, expected=expected, paid=paid
    )


@pytest.fixture
def ranked_county(county, village, other_village):
    """Every township of the county with one village; 糯良乡 last, 勐来乡 first."""
    for township in Region.objects.filter(level="township", code__startswith="530927"):
        if township.code == "530927203":
            snapshot(village, 100, 10)
        elif township.code == "530927204":
            snapshot(other_village, 100, 95)
        else:
            snapshot(make_village(township, 200, f"{township.name}村"), 100, 70)
    return county


def url(name, region, **query):
    address = reverse(f"collection:{name}", args=[region.code])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- region scope --------------------------------------------------------------------------

PAGES = ["progress", "targets", "progress_sheet", "targets_sheet"]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("stranger", "county"),
        ("stranger", "township"),
        ("township_user", "county"),
        ("township_user", "other_township"),
        ("neighbour_user", "township"),
    ],
)
def test_every_page_and_sheet_outside_the_users_region_is_not_found(
    db, request, client, name, who, where
):
    client.force_login(request.getfixturevalue(who))

    response = client.get(url(name, request.getfixturevalue(where)))

    assert response.status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_a_village_is_not_a_progress_page(client, county_user, village, name):
    client.force_login(county_user)

    assert client.get(url(name, village)).status_code == 404


def test_posting_targets_or_a_recount_outside_the_region_is_not_found_and_writes_nothing(
    client, stranger, county, township, village
):
    client.force_login(stranger)

    saved = client.post(url("targets", township), {"year": 2023, f"target-{village.code}": "9"})
    recount = client.post(url("progress_recount", county), {"year": 2023})

    assert saved.status_code == recount.status_code == 404
    assert not Target.objects.exists() and not VillageProgress.objects.exists()


def test_the_pages_ask_for_a_login(client, county):
    response = client.get(url("progress", county))

    assert response.status_code == 302 and "/login" in response["Location"]


# --- the progress pages --------------------------------------------------------------------


def test_the_navigation_leads_county_staff_to_their_county(client, county_user, county):
    client.force_login(county_user)

    response = client.get(reverse("collection:progress_home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("collection:progress", args=["530927"])


def test_the_navigation_leads_township_staff_to_their_own_township(client, township_user):
    client.force_login(township_user)

    response = client.get(reverse("collection:progress_home"), {"year": 2023})

    assert response["Location"] == reverse("collection:progress", args=["530927203"]) + "?year=2023"


def test_a_user_without_a_county_or_township_is_told_so(client, village):
    agent = make_user("yanka", User.Role.AGENT, None)
    agent.villages.add(village)
    client.force_login(agent)

    response = client.get(reverse("collection:progress_home"))

    assert response.status_code == 200
    assert "没有可查看的县或乡镇" in response.content.decode()


def test_the_county_sees_its_townships_ranked_with_the_bottom_three_marked(
    client, county_user, ranked_county
):
    client.force_login(county_user)

    response = client.get(url("progress", ranked_county))

    assert response.status_code == 200
    units = response.context["report"].units
    assert units[0].name == "勐来乡" and units[0].rank == 1
    assert units[-1].name == "糯良乡" and units[-1].rank == 11
    # Nine townships tie at 70%: ranked 2nd, none of them is among the last three places.
    assert [u.name for u in units if u.bottom] == ["糯良乡"]
    page = response.content.decode()
    assert "后三名" in page and "未达进度" in page
    assert "7月1日" not in page and "6月30日前60%" in page


def test_on_the_milestone_date_a_township_below_it_is_flagged_on_the_page(
    client, county_user, county, village
):
    snapshot(village, 100, 59, day=datetime.date(2023, 6, 30))
    client.force_login(county_user)

    with time_machine.travel(datetime.datetime(2023, 6, 30, 0, 0, tzinfo=SHANGHAI)):
        response = client.get(url("progress", county))

    unit = next(u for u in response.context["report"].units if u.code == "530927203")
    assert unit.flagged and unit.gap == 1
    assert response.context["report"].day == datetime.date(2023, 6, 30)


def test_the_day_before_the_milestone_nobody_is_flagged(client, county_user, county, village):
    snapshot(village, 100, 59, day=datetime.date(2023, 6, 29))
    client.force_login(county_user)

    with time_machine.travel(datetime.datetime(2023, 6, 29, 23, 59, 59, tzinfo=SHANGHAI)):
        response = client.get(url("progress", county))

    assert not any(u.flagged for u in response.context["report"].units)


def test_a_township_sees_its_villages(client, township_user, township, village):
    snapshot(village, 200, 150)
    client.force_login(township_user)

    response = client.get(url("progress", township))

    assert response.status_code == 200
    assert [(u.name, u.paid) for u in response.context["report"].units] == [("糯良村", 150)]
    assert response.context["parent"] is None  # the county is not theirs to see


def test_the_county_clicks_through_to_a_townships_villages(client, county_user, township, village):
    snapshot(village, 200, 150)
    client.force_login(county_user)

    response = client.get(url("progress", township, year=2023, day="2023-07-01"))

    assert response.context["parent"].code == "530927"
    assert [u.code for u in response.context["report"].units] == [village.code]


def test_a_day_in_the_query_reads_the_latest_snapshot_before_it(
    client, county_user, township, village
):
    snapshot(village, 100, 10, day=datetime.date(2023, 6, 1))
    snapshot(village, 100, 50, day=datetime.date(2023, 7, 1))
    client.force_login(county_user)

    response = client.get(url("progress", township, year=2023, day="2023-06-15"))

    assert response.context["report"].snapshot_day == datetime.date(2023, 6, 1)
    assert response.context["report"].total.paid == 10


def test_a_bad_query_falls_back_to_today_and_says_why(client, county_user, county):
    client.force_login(county_user)

    response = client.get(url("progress", county, year="x", day="30/6"))

    assert response.status_code == 200
    assert response.context["report"].day == datetime.date(2023, 7, 1)
    assert "请输入年份" in response.content.decode()


def test_the_county_page_does_not_query_per_township_or_village(
    client, county_user, ranked_county, django_assert_max_num_queries
):
    client.force_login(county_user)

    with django_assert_max_num_queries(11):
        response = client.get(url("progress", ranked_county))

    assert len(response.context["report"].units) == 11


def test_the_county_recounts_todays_progress(client, county_user, county, village):
    ResidentFactory(village=village)
    client.force_login(county_user)

    response = client.post(url("progress_recount", county), {"year": 2023}, follow=True)

    assert "已重新统计" in response.content.decode()
    row = VillageProgress.objects.get(village=village)
    assert (row.day, row.expected, row.paid) == (datetime.date(2023, 7, 1), 1, 0)


def test_township_staff_cannot_recount(client, township_user, township, county):
    client.force_login(township_user)

    response = client.post(url("progress_recount", township), {"year": 2023}, follow=True)

    assert "征缴进度按县统计" in response.content.decode()
    assert not VillageProgress.objects.exists()


def test_the_progress_page_links_both_sheets(client, county_user, county):
    client.force_login(county_user)

    page = client.get(url("progress", county, year=2023)).content.decode()

    assert reverse("collection:targets_sheet", args=["530927"]) in page
    assert reverse("collection:progress_sheet", args=["530927"]) in page


def test_the_navigation_has_the_progress_entry(client, township_user):
    client.force_login(township_user)

    response = client.get(reverse("collection:progress_home"), follow=True)

    assert ("progress", "征缴进度", reverse("collection:progress_home")) in response.context[
        "nav_items"
    ]


# --- the targets page ----------------------------------------------------------------------


def test_the_county_enters_its_townships_targets(client, county_user, county, township):
    client.force_login(county_user)

    response = client.post(
        url("targets", county),
        {"action": "save", "year": 2023, "target-530927203": "1200", "target-530927204": ""},
        follow=True,
    )

    assert "新增 1 个" in response.content.decode()
    assert dict(Target.objects.values_list("region_id", "count")) == {"530927203": 1200}
    assert AuditEntry.objects.get(action="target.set").actor == county_user


def test_a_township_breaks_its_target_down_to_villages_and_cannot_edit_its_own(
    client, township_user, township, village
):
    Target.objects.create(region=township, year=2023, count=1200)
    ResidentFactory(village=village)
    client.force_login(township_user)

    page = client.get(url("targets", township, year=2023))
    client.post(url("targets", township), {"action": "save", "year": 2023,
                                           f"target-{village.code}": "300"})  # fmt: skip

    rows = page.context["rows"]
    assert [(r["line"].name, r["line"].enrolled, r["refusal"]) for r in rows] == [("糯良村", 1, "")]
    assert Target.objects.get(region=village).count == 300


def test_a_target_that_is_not_a_number_is_shown_again_and_nothing_is_written(
    client, county_user, county, township
):
    client.force_login(county_user)

    response = client.post(
        url("targets", county),
        {"action": "save", "year": 2023, "target-530927203": "1200", "target-530927204": "-3"},
    )

    assert response.status_code == 200
    assert "请填写不小于 0 的整数" in response.content.decode()
    assert not Target.objects.exists()


def test_an_auditor_sees_the_targets_but_cannot_change_them(client, county, township):
    auditor = make_user("jiwei", User.Role.AUDITOR, county)
    Target.objects.create(region=township, year=2023, count=1200)
    client.force_login(auditor)

    page = client.get(url("targets", county, year=2023))
    response = client.post(
        url("targets", county), {"action": "save", "year": 2023, "target-530927203": "1"},
        follow=True,
    )  # fmt: skip

    assert not page.context["editable"]
    assert "只有县人社局和乡镇社保所经办人员" in response.content.decode()
    assert Target.objects.get().count == 1200


def upload(content: str, name="任务数.csv"):
    return SimpleUploadedFile(name, content.encode("utf-8-sig"), content_type="text/csv")


def test_the_county_uploads_a_target_sheet(client, county_user, county, village):
    client.force_login(county_user)

    sheet = upload("乡镇,村,任务数\n糯良乡,,1200\n糯良乡,糯良村,300\n")

    response = client.post(
        url("targets", county), {"action": "import", "year": 2023, "file": sheet}, follow=True
    )

    assert "新增 2 个" in response.content.decode()
    assert Target.objects.count() == 2


def test_a_sheet_with_a_bad_row_shows_row_column_and_reason_and_writes_nothing(
    client, county_user, county, village
):
    client.force_login(county_user)

    sheet = upload("乡镇,村,任务数\n糯良乡,,1200\n勐来乡,,-8\n")

    response = client.post(
        url("targets", county), {"action": "import", "year": 2023, "file": sheet}
    )

    page = response.content.decode()
    assert "第3行 〈任务数〉: 任务数不能为负数：-8" in page
    assert "未写入任何数据" in page
    assert not Target.objects.exists()


def test_a_sheet_without_the_count_column_is_refused_with_the_readers_reason(
    client, county_user, county
):
    client.force_login(county_user)

    response = client.post(
        url("targets", county),
        {"action": "import", "year": 2023, "file": upload("乡镇,人数\n糯良乡,12\n")},
        follow=True,
    )  # fmt: skip

    assert "缺少必需的列：任务数" in response.content.decode()
    assert not Target.objects.exists()


def test_the_recount_button_shows_for_county_staff_on_their_county_only(
    client, county_user, township_user, county, township
):
    client.force_login(county_user)
    assert "立即重新统计" in client.get(url("progress", county)).content.decode()
    assert "立即重新统计" not in client.get(url("progress", township)).content.decode()
    client.force_login(make_user("cangyuan_audit", User.Role.AUDITOR, county))
    page = client.get(url("progress", county))
    assert page.status_code == 200 and "立即重新统计" not in page.content.decode()
