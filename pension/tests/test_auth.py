"""The signed-in user comes with their region, which the header of every page names."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from pension.auth import ModelBackend


def test_the_signed_in_user_is_loaded_with_their_region(township_user, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = ModelBackend().get_user(township_user.pk)
        assert user.region.name == township_user.region.name


def test_a_deactivated_or_unknown_user_is_not_signed_in(township_user):
    township_user.is_active = False
    township_user.save(update_fields=["is_active"])

    assert ModelBackend().get_user(township_user.pk) is None
    assert ModelBackend().get_user(township_user.pk + 1000) is None


def test_a_page_for_a_signed_in_clerk_reads_the_user_and_region_in_one_query(client, township_user):
    client.force_login(township_user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")

    assert response.status_code == 200
    assert township_user.region.name in response.content.decode()
    users = [q["sql"] for q in queries.captured_queries if 'FROM "pension_user"' in q["sql"]]
    assert len(users) == 1 and 'JOIN "pension_region"' in users[0]
