"""A page that polls (an import's or export's progress) whose session has expired."""

from django.urls import reverse

from pension.models import ImportJob


def test_an_expired_session_sends_the_polling_page_to_the_login_and_back_to_itself(client, county):
    job = ImportJob.objects.create(kind="registry", region=county, filename="户籍.csv")
    page = reverse("import_job", args=[job.pk])

    polled = client.get(
        page, headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"}
    )

    assert polled.status_code == 200 and polled.content == b""
    assert polled["HX-Redirect"] == f"/login/?next=%2Fjobs%2F{job.pk}%2F"


def test_an_ordinary_request_is_redirected_to_the_login_as_before(client, county):
    job = ImportJob.objects.create(kind="registry", region=county, filename="户籍.csv")

    response = client.get(reverse("import_job", args=[job.pk]))

    assert response.status_code == 302 and "HX-Redirect" not in response
    assert response["Location"].startswith("/login/?next=")


def test_an_htmx_redirect_elsewhere_is_left_to_htmx(client, township_user):
    client.force_login(township_user)

    response = client.get(reverse("dashboard_home"), headers={"HX-Request": "true"})

    assert response.status_code == 302 and "HX-Redirect" not in response
