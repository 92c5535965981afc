from django.urls import reverse

from collection.models import Payment
from enrollment.tests.factories import ResidentFactory
from pension.services import audit_record


def detail_url(resident):
    return reverse("enrollment:resident_detail", args=[resident.id_number])


def test_pages_ask_an_anonymous_visitor_to_log_in(client, resident):
    for url in [
        reverse("enrollment:home"),
        reverse("enrollment:resident_list"),
        detail_url(resident),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_is_in_chinese_and_logs_a_user_in(client, township_user):
    page = client.get(reverse("login"))
    assert "登录" in page.content.decode()
    response = client.post(
        reverse("login"), {"username": "nuoliang", "password": "correct-horse-9"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment:home")


def test_a_wrong_password_is_refused_with_a_chinese_message(client, township_user):
    response = client.post(reverse("login"), {"username": "nuoliang", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_township_staff_find_their_resident_by_id_or_name(client, township_user, resident):
    client.force_login(township_user)
    by_id = client.get(reverse("enrollment:resident_list"), {"q": resident.id_number[:12]})
    assert resident.name in by_id.content.decode()
    by_name = client.get(reverse("enrollment:resident_list"), {"q": resident.name})
    assert resident.id_number in by_name.content.decode()


def test_the_list_shows_nothing_from_another_township(client, neighbour_user, resident):
    client.force_login(neighbour_user)
    response = client.get(reverse("enrollment:resident_list"), {"q": resident.name})
    assert response.status_code == 200
    assert resident.id_number not in response.content.decode()


def test_the_detail_page_shows_status_history_groups_and_payments(client, township_user, resident):
    from collection.services import payment_record
    from enrollment.models import SpecialGroupMembership

    SpecialGroupMembership.objects.create(
        resident=resident, category="dibao", department="civil_affairs",
        list_date="2023-03-15", valid_from="2023-03-15",
    )  # fmt: skip
    payment_record(
        resident=resident, contribution_year=2023, amount="300", kind=Payment.Kind.PERSONAL,
        channel=Payment.Channel.WECHAT, source=Payment.Source.TAX_SYNC, voucher_no="V-1",
    )  # fmt: skip
    audit_record(
        actor=township_user, action="resident.status", target=resident,
        region_code=resident.village_id, changes={"status": ["eligible", "enrolled"]},
    )  # fmt: skip
    client.force_login(township_user)
    page = client.get(detail_url(resident)).content.decode()
    assert "低保对象" in page
    assert "V-1" in page and "300.00" in page
    assert "参保状态：应参保未参保 → 已参保" in page
    assert "变更参保状态" in page


def test_the_detail_page_answers_404_outside_the_users_region(
    client, neighbour_user, stranger, resident
):
    for outsider in (neighbour_user, stranger):
        client.force_login(outsider)
        assert client.get(detail_url(resident)).status_code == 404


def test_the_list_runs_a_fixed_number_of_queries(
    client, township_user, village, django_assert_max_num_queries
):
    ResidentFactory.create_batch(30, village=village)
    client.force_login(township_user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("enrollment:resident_list"))
    assert response.status_code == 200
    assert len(response.context["residents"]) == 30


def test_home_counts_residents_by_status_within_the_region(
    client, township_user, resident, other_village
):
    ResidentFactory(village=other_village, status="eligible")
    client.force_login(township_user)
    response = client.get(reverse("enrollment:home"))
    counts = {value: n for value, _label, n in response.context["status_counts"]}
    assert counts["enrolled"] == 1
    assert counts["eligible"] == 0
    assert response.context["resident_total"] == 1
