"""Login throttling: five wrong passwords for one username from one address lock that username
out there for a while, right password or not; the lockout says why in Chinese, lifts by itself
or by the administrator's command, and never locks out a colleague."""

import datetime

import time_machine
from django.core.management import call_command
from django.urls import reverse

from conftest import make_user
from pension.models import User

LOGIN = reverse("login")
RIGHT = "correct-horse-9"


def log_in(client, username, password, address="10.0.0.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, username, times, address="10.0.0.7"):
    """`times` wrong passwords; the answer to the last one."""
    for _ in range(times):
        response = log_in(client, username, "wrong-guess", address)
    return response


def test_the_right_password_after_five_wrong_ones_is_refused_with_the_reason(client, township):
    make_user("nuoliang", User.Role.TOWNSHIP, township)
    assert fail(client, "nuoliang", 4).status_code == 200  # the form again, with its error
    assert fail(client, "nuoliang", 1).status_code == 429  # the fifth locks

    response = log_in(client, "nuoliang", RIGHT)

    assert response.status_code == 429
    page = response.content.decode()
    assert "连续 5 次密码错误" in page and "暂停登录 15 分钟" in page
    assert not signed_in(client)


def test_four_wrong_passwords_then_the_right_one_sign_in_and_start_the_count_again(
    client, township
):
    make_user("nuoliang", User.Role.TOWNSHIP, township)
    fail(client, "nuoliang", 4)
    assert log_in(client, "nuoliang", RIGHT).status_code == 302
    client.logout()

    fail(client, "nuoliang", 4)

    assert log_in(client, "nuoliang", RIGHT).status_code == 302 and signed_in(client)


def test_a_lockout_holds_only_that_username_at_that_address(client, township):
    make_user("nuoliang", User.Role.TOWNSHIP, township)
    make_user("nuoliang2", User.Role.TOWNSHIP, township)
    fail(client, "nuoliang", 5)

    colleague = log_in(client, "nuoliang2", RIGHT)
    client.logout()
    other_desk = log_in(client, "nuoliang", RIGHT, address="10.0.0.8")

    assert colleague.status_code == 302 and other_desk.status_code == 302


def test_a_lockout_lifts_after_fifteen_minutes(client, township):
    make_user("nuoliang", User.Role.TOWNSHIP, township)
    with time_machine.travel(datetime.datetime(2023, 5, 10, 9, 0, tzinfo=datetime.UTC)):
        fail(client, "nuoliang", 5)
    with time_machine.travel(datetime.datetime(2023, 5, 10, 9, 14, tzinfo=datetime.UTC)):
        assert log_in(client, "nuoliang", RIGHT).status_code == 429
    with time_machine.travel(datetime.datetime(2023, 5, 10, 9, 16, tzinfo=datetime.UTC)):
        assert log_in(client, "nuoliang", RIGHT).status_code == 302


def test_the_administrator_lifts_a_lockout_at_once(client, township):
    make_user("nuoliang", User.Role.TOWNSHIP, township)
    fail(client, "nuoliang", 5)

    call_command("axes_reset_username", "nuoliang", verbosity=0)

    assert log_in(client, "nuoliang", RIGHT).status_code == 302 and signed_in(client)


def test_the_admin_login_is_throttled_too(client, county):
    make_user("cangyuan", User.Role.COUNTY, county, is_staff=True)
    admin_login = reverse("admin:login")
    for _ in range(5):
        client.post(admin_login, {"username": "cangyuan", "password": "x"}, REMOTE_ADDR="10.0.0.7")

    response = client.post(
        admin_login, {"username": "cangyuan", "password": RIGHT}, REMOTE_ADDR="10.0.0.7"
    )

    assert response.status_code == 429 and not signed_in(client)
