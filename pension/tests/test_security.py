"""The site's own defences: passwords that are not easy to guess, sessions that end, and the
headers that keep a page out of frames and a browser from guessing types. (Login throttling,
CSRF on every form and the region of every URL have their own tests.)"""

import datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from pension.models import User


@pytest.mark.parametrize(
    "password",
    ["12345678", "pension", "password123", "nuoliang_staff1", "20231231"],
)
def test_an_easy_password_is_refused(password, db):
    user = User(username="nuoliang_staff", first_name="岩", last_name="块")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_password_hard_to_guess_is_accepted(db):
    validate_password("Cangyuan-Nuoliang-2023!", User(username="nuoliang_staff"))


def test_a_session_ends_eight_hours_after_signing_in(client, township_user, time_machine):
    time_machine.move_to(datetime.datetime(2023, 5, 10, 8, 0, tzinfo=datetime.UTC))
    client.force_login(township_user)
    home = reverse("enrollment:resident_list")
    assert client.get(home).status_code == 200

    time_machine.move_to(datetime.datetime(2023, 5, 10, 15, 59, tzinfo=datetime.UTC))
    assert client.get(home).status_code == 200
    time_machine.move_to(datetime.datetime(2023, 5, 10, 16, 1, tzinfo=datetime.UTC))
    assert client.get(home)["Location"].startswith(reverse("login"))


def test_every_page_is_sent_with_the_security_headers(client, township_user):
    client.force_login(township_user)
    response = client.get(reverse("enrollment:resident_list"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_session_cookie_is_kept_from_the_pages_scripts(client, township_user):
    response = client.post(
        reverse("login"), {"username": township_user.username, "password": "correct-horse-9"}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"] is True
    assert response.cookies["sessionid"]["max-age"] == 8 * 3600
