"""The permission walk: every URL of the site and of the API, requested as each role, as a
stranger and as staff of another township or county, answers what the table in
permission_table.py says, and a POST refused to a role writes nothing.

The URLs come from Django's resolver, so a new URL fails
`test_every_url_of_the_project_has_a_row_in_the_table` until its row is written, and a removed
one fails `test_every_row_of_the_table_is_a_url_of_the_project` until its row goes.

The world is built once for the module inside a transaction that is rolled back at its end;
each test runs in a savepoint of it, so what one test writes the next one does not see.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

import openpyxl
import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from collection.models import (
    AgentProfile,
    Bulletin,
    Payment,
    ProxyBatch,
    ProxyGeneration,
    RevisitItem,
    RevisitSample,
)
from collection.services.bulletins import bulletin_compose
from collection.services.proxy import proxy_batch_generate
from conftest import make_group, make_user, make_village
from enrollment.models import Finding, Resident
from enrollment.tests.factories import ResidentFactory, list_as
from pension.models import ExportJob, ImportJob, ImportRejection, Region, User
from pension.tests.permission_table import (
    LOGIN,
    ROLES,
    SEES_THE_VILLAGE,
    TABLE,
    VOUCHER,
    Row,
    Wrong,
    tax_record,
)
from reconciliation.models import Discrepancy, ReconciliationRun
from reconciliation.services import sync
from reconciliation.services.keys import api_key_create
from reconciliation.tests.factories_work import make_run, record_payment, tax_not_posted

# A day of the 2023 campaign: May's notices are due and the 2023 schedules are in force.
TODAY = datetime.datetime(2023, 6, 25, 9, 0, tzinfo=datetime.UTC)
EXPORT_FILE = "exports/2023/06/参保人名单.xlsx"

# The admin site is Django's own and guarded by is_staff as a whole: it is checked once below
# (test_the_admin_site_is_for_staff_accounts), not pattern by pattern. The project has no
# static, media or debug URL patterns: WhiteNoise serves static files before the URLconf, and
# uploaded or exported files are only ever sent through the views above (checked below too).
SKIPPED_PREFIXES = ("admin/",)

# Rows that change on any request, not by what it asks for: the sync API's request log (a row
# per call, whatever the answer), the last use of its keys, and the accounts' last logins.
UNWATCHED = {"reconciliation.apirequest", "reconciliation.apikey", "pension.user"}


@dataclass
class World:
    county: Region
    township: Region
    village: Region
    group: Region
    users: dict[str, User]
    secrets: dict[str, str]
    sessions: dict[str, str]
    superuser: User
    agent: User
    resident: Resident  # 糯良村's resident every row shows: paid for 2023, on the 低保 list
    unpaid: Resident  # one who has not paid 2023 yet, for the POSTs that record a payment
    sealed: Resident
    deceased: Resident
    finding: Finding
    payment: Payment
    import_job: ImportJob
    export_job: ExportJob
    batch: ProxyBatch
    generation: ProxyGeneration
    run: ReconciliationRun
    discrepancy: Discrepancy
    revisit: RevisitSample
    bulletin: Bulletin


def session_of(user: User) -> str:
    """A signed-in session's key: signing in once for the module, not once a test, keeps the
    walk of several hundred requests quick."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def build_world() -> World:
    county = Region.objects.get(code="530927")  # 沧源佤族自治县
    township = Region.objects.get(code="530927203")  # 糯良乡
    other_township = Region.objects.get(code="530927204")  # 勐来乡
    other_county = Region.objects.get(code="622901")  # 临夏市
    village = make_village(township, 200, "糯良村")
    group = make_group(village, 1)

    county_user = make_user("walk-cangyuan", User.Role.COUNTY, county, is_staff=True)
    township_user = make_user("walk-nuoliang", User.Role.TOWNSHIP, township)
    agent = make_user("walk-yanka", User.Role.AGENT, township)
    agent.villages.add(village)
    AgentProfile.objects.create(user=agent, commitment_signed_on=datetime.date(2023, 1, 5))
    issued = api_key_create(county=county, name="沧源县税务局征收系统")
    other_issued = api_key_create(county=other_county, name="临夏市税务局征收系统")
    users = {
        "county": county_user,
        "township": township_user,
        "agent": agent,
        "tax": issued.key.account,
        "auditor": make_user("walk-shenji", User.Role.AUDITOR, county),
        "neighbour": make_user("walk-menglai", User.Role.TOWNSHIP, other_township),
        "outsider": make_user("walk-linxia", User.Role.COUNTY, other_county),
        "unassigned": make_user("walk-yanshuai", User.Role.AGENT, township),
    }

    def resident_of(**fields) -> Resident:
        return ResidentFactory(village=village, group=group, **fields)

    resident = resident_of(birth_date=datetime.date(1970, 5, 17))
    list_as(resident, "dibao")
    finding = Finding.objects.create(
        kind=Finding.Kind.NO_REGISTRATION, id_number=resident.id_number, name=resident.name,
        resident=resident, region=village, detail="在册但本次公安户籍数据中无此人",
        source="户籍比对",
    )  # fmt: skip
    import_job = ImportJob.objects.create(
        kind=ImportJob.Kind.REGISTRY, region=township, filename="户籍.xlsx",
        status=ImportJob.Status.DONE, created_by=township_user,
    )  # fmt: skip
    ImportRejection.objects.create(
        job=import_job, row=3, column="公民身份号码", reason="校验位错误"
    )
    # The file itself is written into each test's media folder (the `walked` fixture).
    export_job = ExportJob.objects.create(
        kind="residents", title="参保人名单", created_by=township_user,
        status=ExportJob.Status.DONE, rows=1, filename="参保人名单.xlsx", file=EXPORT_FILE,
    )  # fmt: skip
    # Generated by the monthly task, so that the county user may approve it.
    batch = proxy_batch_generate(county=county, year=2023, actor=None).batch
    # A payment the tax bureau synced, which the reversal endpoint names by its voucher.
    sync.sync_payments_batch(key=issued.key, records=[tax_record(resident_of(), VOUCHER)])

    payment = record_payment(resident, "WALK-0001", recorded_by=township_user)
    revisit = RevisitSample.objects.create(
        county=county, period_start=datetime.date(2023, 6, 1),
        period_end=datetime.date(2023, 6, 30), townships=3, payers=6, seed=2023,
    )  # fmt: skip
    RevisitItem.objects.create(sample=revisit, payment=payment, township=township)
    day = datetime.date(2023, 6, 18)
    bulletin = Bulletin.objects.create(
        county=county, year=2023, day=day, number=1,
        content=bulletin_compose(county=county, year=2023, day=day),
    )  # fmt: skip

    return World(
        county=county, township=township, village=village, group=group, users=users,
        secrets={"tax": issued.secret, "outsider": other_issued.secret},
        sessions={role: session_of(user) for role, user in users.items()},
        superuser=User.objects.create_superuser("walk-root", password="correct-horse-9"),
        agent=agent, resident=resident, unpaid=resident_of(),
        sealed=resident_of(status=Resident.Status.SEALED),
        deceased=resident_of(status=Resident.Status.DECEASED),
        finding=finding, payment=payment,
        import_job=import_job, export_job=export_job, batch=batch,
        generation=ProxyGeneration.objects.create(
            county=county, year=2023, requested_by=county_user
        ),
        run=make_run(county, datetime.date(2023, 5, 1), run_by=county_user),
        discrepancy=tax_not_posted(county, resident), revisit=revisit,
        bulletin=bulletin,
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with time_machine.travel(TODAY), django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def walked(world, db):
    default_storage.save(EXPORT_FILE, ContentFile(b"workbook"))
    return world


# --- helpers -------------------------------------------------------------------------------------


def walk(patterns, prefix: str = "", namespace: str = ""):
    """(route, name) of every URL pattern, nested includes followed; a pattern without a name
    is known by its route."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield route, name or route


def project_urls() -> list[tuple[str, str]]:
    """The URL patterns the table must cover: all but the admin site's."""
    return [
        (route, name)
        for route, name in walk(get_resolver().url_patterns)
        if not route.startswith(SKIPPED_PREFIXES)
    ]


def client_for(world: World, role: str) -> Client:
    headers = {}
    if role in world.secrets:
        headers["authorization"] = f"Bearer {world.secrets[role]}"
    client = Client(headers=headers)
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def url_of(world: World, name: str, row: Row) -> str:
    url = row.path or reverse(name, kwargs=row.kwargs(world))
    query = row.query(world)
    return f"{url}?{query}" if query else url


def answer_of(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next="):
        return LOGIN
    return response.status_code


def body_of(response) -> bytes:
    """The whole body; reading a streamed one to its end also closes its file."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def text_of(body: bytes) -> str:
    """The body as text; a workbook as the values of its cells."""
    if not body.startswith(b"PK"):
        return body.decode("utf-8", errors="replace")
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        return "\n".join(
            str(value)
            for sheet in workbook.worksheets
            for values in sheet.iter_rows(values_only=True)
            for value in values
            if value is not None
        )
    finally:
        workbook.close()


def watched_models() -> list:
    return [
        model
        for app in ("pension", "enrollment", "collection", "reconciliation")
        for model in apps.get_app_config(app).get_models()
        if model._meta.label_lower not in UNWATCHED and model is not Region
    ]


def database_contents() -> dict[str, object]:
    """Every row of the project's own tables, to compare before and after a request that must
    write nothing: on PostgreSQL a digest of each table in one query, elsewhere the rows."""
    models = watched_models()
    if connection.vendor != "postgresql":
        return {m._meta.label_lower: list(m.objects.order_by("pk").values()) for m in models}
    query = " UNION ALL ".join(
        f"SELECT '{m._meta.label_lower}', "
        f"md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {m._meta.db_table} t"
        for m in models
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, object], after: dict[str, object]) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


def expected_failure(wrong: Wrong) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"today: {wrong.actual}; {wrong.reason}")


def get_cases() -> list:
    return [
        pytest.param(
            name, role, id=f"{name}-{role}",
            marks=[expected_failure(row.wrong[role])] if role in row.wrong else [],
        )
        for name, row in TABLE.items()
        for role in ROLES
    ]  # fmt: skip


def post_cases() -> list:
    return [
        pytest.param(
            name, role, id=f"{name}-{role}",
            marks=[expected_failure(row.post.wrong[role])] if role in row.post.wrong else [],
        )
        for name, row in TABLE.items()
        if row.post is not None
        for role in row.post.expect
    ]  # fmt: skip


def writer_cases() -> list:
    return [
        pytest.param(name, id=f"{name}-{row.post.writer}")
        for name, row in TABLE.items()
        if row.post is not None and row.post.writer
    ]


# --- the table and the URLconf -------------------------------------------------------------------


def test_every_url_of_the_project_has_a_row_in_the_table():
    names = [name for _route, name in project_urls()]

    assert sorted({name for name in names if names.count(name) > 1}) == []
    assert sorted(set(names) - set(TABLE)) == []


def test_every_row_of_the_table_is_a_url_of_the_project():
    names = {name for _route, name in project_urls()}

    assert sorted(set(TABLE) - names) == []


def test_each_post_check_names_a_role_of_the_walk():
    for name, row in TABLE.items():
        if row.post is not None:
            assert set(row.post.expect) <= set(ROLES), name
            assert row.post.writer is None or row.post.writer not in row.post.expect, name


# --- the walk ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "role"), get_cases())
def test_a_get_answers_each_role_as_the_table_says(walked, settings, name, role):
    row = TABLE[name]
    for setting, value in row.settings.items():
        setattr(settings, setting, value)

    response = client_for(walked, role).get(url_of(walked, name, row))
    body = body_of(response)

    expected = row.get.of(role)
    assert answer_of(response) == expected
    if row.shows_resident and expected == 200:
        shown = walked.resident.id_number in text_of(body)
        should_show = role in SEES_THE_VILLAGE
        assert shown is should_show, f"糯良村's resident {'is' if shown else 'is not'} shown"


@pytest.mark.parametrize(("name", "role"), post_cases())
def test_a_post_refused_to_a_role_answers_as_the_table_says_and_writes_nothing(walked, name, role):
    check = TABLE[name].post
    if check.prepare:
        check.prepare(walked)
    client = client_for(walked, role)
    before = database_contents()

    response = client.post(url_of(walked, name, TABLE[name]), **check.body(walked))
    body_of(response)

    assert answer_of(response) == check.expect[role]
    assert changed_tables(before, database_contents()) == []


@pytest.mark.parametrize("name", writer_cases())
def test_the_same_post_writes_for_the_role_that_may(walked, name):
    check = TABLE[name].post
    if check.prepare:
        check.prepare(walked)
    client = client_for(walked, check.writer)
    before = database_contents()

    response = client.post(url_of(walked, name, TABLE[name]), **check.body(walked))
    body_of(response)

    assert response.status_code < 400
    assert changed_tables(before, database_contents()) != []


@pytest.mark.parametrize("name", writer_cases())
def test_the_same_post_from_another_site_without_the_forms_token_is_refused(walked, name):
    """CSRF on every form: the writer's own session, but no token, as a forged form sends it.
    The sync API authenticates by key, never by cookie, so a forged form has nothing to ride."""
    check = TABLE[name].post
    if check.prepare:
        check.prepare(walked)
    key = walked.secrets.get(check.writer)
    client = Client(
        enforce_csrf_checks=True, headers={"authorization": f"Bearer {key}"} if key else {}
    )
    if check.writer in walked.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = walked.sessions[check.writer]
    before = database_contents()

    response = client.post(url_of(walked, name, TABLE[name]), **check.body(walked))
    body_of(response)

    if name.startswith("api:"):
        assert response.status_code < 400  # by its key: a cookie alone is refused (401)
    else:
        assert response.status_code == 403
        assert changed_tables(before, database_contents()) == []


# --- outside the URLconf's own patterns ----------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "answer"),
    [("stranger", "admin login"), ("township", "admin login"), ("county", 200), ("root", 200)],
)
def test_the_admin_site_is_for_staff_accounts(walked, who, answer):
    client = Client()
    if who == "root":
        client.force_login(walked.superuser)
    elif who != "stranger":
        client.force_login(walked.users[who])

    response = client.get("/admin/")

    if answer == "admin login":
        assert response.status_code == 302
        assert response["Location"] == "/admin/login/?next=/admin/"
    else:
        assert response.status_code == answer


@pytest.mark.parametrize("role", ["stranger", "township"])
def test_an_exported_file_is_not_served_from_where_it_is_stored(walked, role):
    response = client_for(walked, role).get(f"/media/{EXPORT_FILE}")
    body_of(response)

    assert response.status_code == 404
