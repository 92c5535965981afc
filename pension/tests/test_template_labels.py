"""`{{ obj|label:"field" }}` shows what `obj.get_field_display` would, in the active language."""

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from collection.models import Payment
from pension.models import User


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize("channel", [value for value, _ in Payment.Channel.choices])
def test_every_choice_shows_the_label_get_display_shows(channel):
    payment = Payment(channel=channel)

    assert render('{{ p|label:"channel" }}', p=payment) == payment.get_channel_display()


def test_a_value_outside_the_choices_shows_as_it_is():
    assert render('{{ p|label:"kind" }}', p=Payment(kind="unknown")) == "unknown"


def test_the_label_follows_the_active_language():
    payment = Payment(kind=Payment.Kind.PROXY)

    with translation.override("en"):
        english = render('{{ p|label:"kind" }}', p=payment)
        assert english == payment.get_kind_display()
    chinese = render('{{ p|label:"kind" }}', p=payment)

    assert chinese == "政府代缴" != english


def test_the_signed_in_user_behind_a_lazy_object_shows_their_role():
    user = SimpleLazyObject(lambda: User(role=User.Role.TOWNSHIP))

    assert render('{{ user|label:"role" }}', user=user) == User(role="township").get_role_display()
