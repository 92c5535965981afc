import io

import openpyxl
import pytest
from django.urls import reverse

from collection.models import Payment, ProxyBatch, ProxyGeneration
from collection.services.proxy import proxy_batch_approve, proxy_batch_generate
from collection.tasks import generate_proxy_batch
from conftest import make_group, make_user
from enrollment.tests.factories import ResidentFactory, list_as
from pension.models import AuditEntry, User


@pytest.fixture
def approver(county):
    return make_user("cangyuan2", User.Role.COUNTY, county)


@pytest.fixture
def batch(village, county, county_user):
    resident = ResidentFactory(village=village, group=make_group(village, 3), name="岩块")
    list_as(resident, "dibao")
    return proxy_batch_generate(county=county, year=2023, actor=county_user).batch


def url(name, batch=None):
    return reverse(f"collection:{name}", args=[batch.pk] if batch else [])


def test_county_staff_see_their_countys_batches(client, county_user, batch):
    client.force_login(county_user)

    response = client.get(url("proxy_batch_list"))

    assert response.status_code == 200
    assert list(response.context["batches"]) == [batch]


def test_other_counties_staff_see_no_batches(client, stranger, batch):
    client.force_login(stranger)

    assert list(client.get(url("proxy_batch_list")).context["batches"]) == []


@pytest.mark.parametrize("name", ["proxy_batch_detail", "proxy_receipts"])
@pytest.mark.parametrize("who", ["stranger", "township_user"])
def test_a_batch_outside_the_users_region_is_not_found(request, client, batch, name, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(url(name, batch)).status_code == 404


@pytest.mark.parametrize("name", ["proxy_batch_approve", "proxy_batch_post"])
def test_buttons_on_a_batch_outside_the_region_are_not_found_and_change_nothing(
    client, stranger, batch, name
):
    client.force_login(stranger)

    assert client.post(url(name, batch)).status_code == 404
    batch.refresh_from_db()
    assert batch.status == "pending"


def test_the_detail_page_lists_the_residents_with_masked_ids(client, county_user, batch):
    client.force_login(county_user)

    response = client.get(url("proxy_batch_detail", batch))

    assert response.status_code == 200
    item = batch.items.get()
    assert item.resident.masked_id in response.content.decode()
    assert item.resident.id_number not in response.content.decode()


def test_the_generator_pressing_approve_is_told_why_and_nothing_changes(client, county_user, batch):
    client.force_login(county_user)

    response = client.post(url("proxy_batch_approve", batch), follow=True)

    assert "审批人不能是批次生成人" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == "pending"


def test_approve_then_post_through_the_pages_the_worker_posting_it(
    client, approver, county_user, batch, django_capture_on_commit_callbacks
):
    client.force_login(approver)
    client.post(url("proxy_batch_approve", batch))
    client.force_login(county_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("proxy_batch_post", batch))
    page = client.get(response["Location"])

    assert "已提交入账" in page.content.decode() and "已入账" in page.content.decode()
    posted = ProxyBatch.objects.get()
    assert (posted.status, posted.posted_by) == ("posted", county_user)
    assert Payment.objects.filter(source="proxy_batch").count() == 1


def test_a_batch_being_posted_shows_progress_then_reloads_the_page_once_posted(
    client, approver, county_user, batch, monkeypatch
):
    from collection.services.proxy import proxy_batch_post_queued

    monkeypatch.setattr("collection.tasks.post_proxy_batch.delay", lambda batch_id: None)
    proxy_batch_approve(batch=batch, actor=approver)
    client.force_login(county_user)
    client.post(url("proxy_batch_post", batch))

    polled = client.get(url("proxy_batch_detail", batch), headers={"HX-Request": "true"})
    assert ProxyBatch.objects.get().status == "posting"
    assert 'role="progressbar"' in polled.content.decode()
    assert client.post(url("proxy_batch_post", batch), follow=True).status_code == 200
    assert ProxyBatch.objects.get().status == "posting"  # asked twice, queued once

    assert proxy_batch_post_queued(batch_id=batch.pk) == "posted"
    assert proxy_batch_post_queued(batch_id=batch.pk) == "skipped"  # a retried task
    done = client.get(url("proxy_batch_detail", batch), headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    assert Payment.objects.filter(source="proxy_batch").count() == 1


def test_the_receipt_sheet_has_one_sheet_per_village_with_masked_ids_and_vouchers(
    client, county_user, approver, batch
):
    from collection.services.proxy import proxy_batch_post

    proxy_batch_approve(batch=batch, actor=approver)
    proxy_batch_post(batch=batch, actor=county_user)
    client.force_login(county_user)

    response = client.get(url("proxy_receipts", batch))

    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["糯良乡-糯良村"]
    rows = list(book["糯良乡-糯良村"].iter_rows(min_row=3, values_only=True))
    item = batch.items.select_related("resident", "payment").get()
    assert rows[0][1:] == (
        "糯良村", "3组", "岩块", item.resident.masked_id, "低保对象", 100, item.payment.voucher_no,
    )  # fmt: skip
    assert rows[-1][0] == "合计"


def test_only_the_countys_own_county_staff_see_the_approve_button(client, approver, county, batch):
    auditor = make_user("cangyuan_audit", User.Role.AUDITOR, county)
    client.force_login(approver)
    assert "审批通过" in client.get(url("proxy_batch_detail", batch)).content.decode()
    client.force_login(auditor)
    page = client.get(url("proxy_batch_detail", batch))
    assert page.status_code == 200 and "审批通过" not in page.content.decode()


def test_a_posting_that_fails_in_the_worker_leaves_the_batch_approved_and_nothing_posted(
    client, approver, county_user, batch, monkeypatch
):
    from collection.services import proxy

    monkeypatch.setattr("collection.tasks.post_proxy_batch.delay", lambda batch_id: None)
    proxy_batch_approve(batch=batch, actor=approver)
    proxy.proxy_batch_post_queue(batch=batch, actor=county_user)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(proxy, "proxy_batch_post", broken)
    with pytest.raises(RuntimeError):
        proxy.proxy_batch_post_queued(batch_id=batch.pk)

    again = ProxyBatch.objects.get()
    assert (again.status, again.posted_by) == ("approved", None)
    assert not Payment.objects.filter(source="proxy_batch").exists()


# --- generating a batch from the list --------------------------------------------------------


@pytest.fixture
def listed(village):
    """A resident on the 2023 低保 list, with no batch yet."""
    resident = ResidentFactory(village=village, group=make_group(village, 3), name="岩听")
    list_as(resident, "dibao")
    return resident


def generate(client, county, year="2023"):
    return client.post(url("proxy_generate"), {"county": county.code, "year": year})


def test_county_staff_generate_a_batch_from_the_list_and_its_page_shows_what_was_found(
    client, county_user, county, listed, django_capture_on_commit_callbacks
):
    client.force_login(county_user)
    assert "生成代缴批次" in client.get(url("proxy_batch_list")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = generate(client, county)
    page = client.get(response["Location"]).content.decode()

    generation = ProxyGeneration.objects.get()
    batch = ProxyBatch.objects.get()
    assert response["Location"] == url("proxy_generation_detail", generation)
    assert (generation.status, generation.batch, generation.requested_by) == (
        "done", batch, county_user,
    )  # fmt: skip
    assert (batch.generated_by, batch.items.get().resident) == (county_user, listed)
    assert "已生成新批次" in page and "本次列入 1 人" in page
    assert url("proxy_batch_detail", batch) in page
    assert AuditEntry.objects.filter(action="proxy_batch.generate", actor=county_user).exists()


def test_a_generation_shows_progress_while_queued_and_a_retried_task_adds_nobody(
    client, county_user, county, listed, monkeypatch
):
    monkeypatch.setattr("collection.tasks.generate_proxy_batch.delay", lambda pk: None)
    client.force_login(county_user)
    generate(client, county)
    generation = ProxyGeneration.objects.get()

    polled = client.get(url("proxy_generation_detail", generation), headers={"HX-Request": "1"})
    assert 'data-status="pending"' in polled.content.decode()
    assert 'role="progressbar"' in polled.content.decode() and "hx-get" in polled.content.decode()

    assert generate_proxy_batch(generation.pk) == "done"
    assert generate_proxy_batch(generation.pk) == "skipped"
    done = client.get(url("proxy_generation_detail", generation), headers={"HX-Request": "1"})
    assert 'data-status="done"' in done.content.decode() and "hx-get" not in done.content.decode()
    assert ProxyBatch.objects.get().resident_count == 1


def test_a_second_generation_adds_nobody_already_in_the_batch(
    client, county_user, county, listed, django_capture_on_commit_callbacks
):
    client.force_login(county_user)
    with django_capture_on_commit_callbacks(execute=True):
        generate(client, county)
    with django_capture_on_commit_callbacks(execute=True):
        again = generate(client, county)

    assert "没有需要新增的代缴对象" in client.get(again["Location"]).content.decode()
    assert ProxyBatch.objects.get().resident_count == 1


def test_a_year_without_a_schedule_is_refused_on_the_list_and_nothing_is_on_file(
    client, county_user, county, listed
):
    client.force_login(county_user)

    response = generate(client, county, year="2031")
    page = client.get(response["Location"]).content.decode()

    assert response["Location"] == url("proxy_batch_list")
    assert "2031 年度尚未配置该省的缴费方案" in page
    assert not ProxyGeneration.objects.exists() and not ProxyBatch.objects.exists()


def test_an_auditor_sees_no_button_and_is_refused_with_nothing_on_file(client, county, listed):
    auditor = make_user("cangyuan_audit", User.Role.AUDITOR, county)
    client.force_login(auditor)

    assert "proxy-generate" not in client.get(url("proxy_batch_list")).content.decode()
    page = client.post(url("proxy_generate"), {"county": county.code, "year": "2023"}, follow=True)

    assert (
        "只有" in page.content.decode() and "县级经办人员可以生成代缴批次" in page.content.decode()
    )
    assert not ProxyGeneration.objects.exists() and not ProxyBatch.objects.exists()


@pytest.mark.parametrize("who", ["stranger", "township_user"])
def test_a_county_outside_the_users_region_is_not_found_and_nothing_is_on_file(
    request, client, county, listed, who
):
    client.force_login(request.getfixturevalue(who))

    assert generate(client, county).status_code == 404
    assert not ProxyGeneration.objects.exists()


def test_someone_elses_county_generation_page_is_not_found(
    client, county_user, stranger, county, listed, monkeypatch
):
    monkeypatch.setattr("collection.tasks.generate_proxy_batch.delay", lambda pk: None)
    client.force_login(county_user)
    generate(client, county)
    client.force_login(stranger)

    assert (
        client.get(url("proxy_generation_detail", ProxyGeneration.objects.get())).status_code == 404
    )


def test_a_generation_refused_in_the_worker_says_why_and_writes_no_batch(
    client, county_user, county, listed, monkeypatch
):
    monkeypatch.setattr("collection.tasks.generate_proxy_batch.delay", lambda pk: None)
    client.force_login(county_user)
    generate(client, county)
    User.objects.filter(pk=county_user.pk).update(role=User.Role.AUDITOR)  # moved meanwhile

    assert generate_proxy_batch(ProxyGeneration.objects.get().pk) == "failed"

    page = client.get(url("proxy_generation_detail", ProxyGeneration.objects.get()))
    assert "生成失败" in page.content.decode() and "可以生成代缴批次" in page.content.decode()
    assert not ProxyBatch.objects.exists()


def test_a_generation_that_breaks_in_the_worker_is_failed_and_writes_no_batch(
    client, county_user, county, listed, monkeypatch
):
    from collection.services import proxy

    monkeypatch.setattr("collection.tasks.generate_proxy_batch.delay", lambda pk: None)
    client.force_login(county_user)
    generate(client, county)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(proxy, "_insert_items", broken)
    with pytest.raises(RuntimeError):
        generate_proxy_batch(ProxyGeneration.objects.get().pk)

    generation = ProxyGeneration.objects.get()
    assert generation.status == "failed" and "database went away" in generation.summary["error"]
    assert not ProxyBatch.objects.exists()
    page = client.get(url("proxy_generation_detail", generation)).content.decode()
    assert "没有生成或修改任何批次" in page and "database went away" not in page
