"""Signing in through the login form, as a clerk does every morning."""

from playwright.sync_api import expect

from conftest import make_user
from pension.models import User


def test_township_staff_log_in_through_the_form_and_land_on_the_page_they_asked_for(
    page, console, township
):
    make_user("nuoliang", User.Role.TOWNSHIP, township, last_name="岩", first_name="块")
    page.goto("/collection/counter/")
    expect(page).to_have_url("/login/?next=/collection/counter/")

    page.get_by_label("用户名").fill("nuoliang")
    page.get_by_label("密码").fill("correct-horse-9")
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url("/collection/counter/")
    expect(page.get_by_test_id("current-user")).to_contain_text("岩块")
    expect(page.get_by_role("heading", name="柜面缴费登记")).to_be_visible()
    console.assert_clean()


def test_a_wrong_password_is_refused_on_the_form(page, console, township):
    make_user("nuoliang", User.Role.TOWNSHIP, township)
    page.goto("/login/")

    page.get_by_label("用户名").fill("nuoliang")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确，请重新输入。")
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    console.assert_clean()
