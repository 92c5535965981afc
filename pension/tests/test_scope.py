"""Region scope: one queryset method decides what every page, export and endpoint shows."""

from django.contrib.auth.models import AnonymousUser

from enrollment.models import Resident
from enrollment.tests.factories import ResidentFactory
from pension.models import User


def test_township_staff_see_their_township_only(township_user, resident, other_village):
    neighbour = ResidentFactory(village=other_village)
    visible = set(Resident.objects.visible_to(township_user))
    assert resident in visible
    assert neighbour not in visible


def test_staff_of_another_township_in_the_same_county_do_not_see_it(neighbour_user, resident):
    assert not Resident.objects.visible_to(neighbour_user).filter(pk=resident.pk).exists()


def test_staff_of_another_county_do_not_see_it(stranger, resident, far_resident):
    visible = set(Resident.objects.visible_to(stranger))
    assert visible == {far_resident}


def test_the_county_bureau_sees_every_township_of_its_county(
    county_user, resident, other_village, far_resident
):
    neighbour = ResidentFactory(village=other_village)
    assert set(Resident.objects.visible_to(county_user)) == {resident, neighbour}


def test_a_village_agent_sees_only_their_villages(township, village, resident):
    from conftest import make_user, make_village

    second = make_village(township, 201, "贺岭村")
    third = make_village(township, 202, "南撒村")
    in_second = ResidentFactory(village=second)
    ResidentFactory(village=third)
    agent = make_user("agent", User.Role.AGENT, township)
    agent.villages.set([village, second])
    assert set(Resident.objects.visible_to(agent)) == {resident, in_second}


def test_a_village_agent_not_yet_given_a_village_sees_nothing_of_their_township(
    township, village, resident
):
    from conftest import make_user

    agent = make_user("new_agent", User.Role.AGENT, township)
    assert agent.scope_codes() == []
    assert not Resident.objects.visible_to(agent).exists()


def test_a_village_agent_filed_under_their_village_sees_it(village, resident, other_village):
    from conftest import make_user

    ResidentFactory(village=other_village)
    agent = make_user("village_agent", User.Role.AGENT, village)
    assert set(Resident.objects.visible_to(agent)) == {resident}


def test_a_user_without_a_region_sees_nothing(resident):
    from conftest import make_user

    nobody = make_user("nobody", User.Role.TOWNSHIP, None)
    assert not Resident.objects.visible_to(nobody).exists()


def test_an_anonymous_or_inactive_user_sees_nothing(township_user, resident):
    assert not Resident.objects.visible_to(AnonymousUser()).exists()
    township_user.is_active = False
    assert not Resident.objects.visible_to(township_user).exists()


def test_a_superuser_sees_everything(resident, far_resident):
    root = User.objects.create_superuser("root", password="x-very-long-1")
    assert set(Resident.objects.visible_to(root)) == {resident, far_resident}
