"""The interface speaks Chinese, and English for a maintainer who switches to it.

Chinese is the source language: every text a person reads is written in Chinese inside a
translation call or tag, and the English catalogues translate every one of them.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from pension.tests import translation_scan

ROOT = translation_scan.ROOT
# The project's templates (LOCALE_PATHS) and each app have a catalogue.
CATALOGUES = [
    ROOT / part / "locale" / "en" / "LC_MESSAGES" / "django.po"
    for part in ("", "collection", "enrollment", "pension", "reconciliation")
]
_COPIED = ("pension", "enrollment", "collection", "reconciliation", "templates", "locale")
_NOT_COPIED = shutil.ignore_patterns(
    "tests", "migrations", "__pycache__", "static", "*.mo", "*.pyc", "*.xlsx", "*.csv"
)


def _gettext_tool(*command: str) -> str:
    """GNU gettext's own tools, as `make messages` uses them (Debian package gettext)."""
    tool = shutil.which(command[0])
    assert tool, f"{command[0]} is missing: make test installs the gettext package"
    done = subprocess.run(  # noqa: S603 - a fixed tool on files of this repository
        [tool, *command[1:]], capture_output=True, text=True, check=True
    )
    return done.stdout


def _msgids(po: Path, *only: str) -> list[str]:
    """The messages `msgattrib` keeps with the given filter, the header left out."""
    out = _gettext_tool("msgattrib", *only, "--no-wrap", str(po))
    return [m for m in re.findall(r'^msgid "(.*)"$', out, flags=re.M) if m]


def test_every_chinese_text_of_the_interface_goes_through_translation():
    offences = translation_scan.offences()

    assert offences == [], "未经翻译机制的中文文字:\n" + "\n".join(offences)


def test_the_project_and_each_app_have_a_compiled_english_catalogue():
    assert [po for po in CATALOGUES if not po.with_suffix(".mo").is_file()] == []


def test_every_message_of_the_code_has_an_english_translation(tmp_path, settings, monkeypatch):
    """The catalogues are extracted afresh from a copy of the code, as a maintainer's
    makemessages would: a new or changed text with no English fails here."""
    for part in _COPIED:
        shutil.copytree(ROOT / part, tmp_path / part, ignore=_NOT_COPIED)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["en"], no_location=True, no_obsolete=True, verbosity=0)

    extracted = sorted(tmp_path.glob("**/locale/en/LC_MESSAGES/django.po"))
    assert sorted(po.relative_to(tmp_path) for po in extracted) == sorted(
        po.relative_to(ROOT) for po in CATALOGUES
    )
    missing = {
        str(po.relative_to(tmp_path)): _msgids(po, "--untranslated") + _msgids(po, "--only-fuzzy")
        for po in extracted
    }
    assert {where: ids for where, ids in missing.items() if ids} == {}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: str(po.relative_to(ROOT)))
def test_each_compiled_catalogue_is_its_source_compiled(po, tmp_path):
    compiled = tmp_path / "django.mo"
    _gettext_tool("msgfmt", "--check", "-o", str(compiled), str(po))

    with compiled.open("rb") as fresh, po.with_suffix(".mo").open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == (
            gettext.GNUTranslations(fresh)._catalog
        )


def test_the_pages_speak_chinese_whatever_language_the_browser_asks_for(client):
    response = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})

    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-CN">' in response.text and "登录" in response.text


def test_a_maintainer_who_switches_to_english_reads_the_pages_in_english(client, county_user):
    client.force_login(county_user)

    switched = client.post(reverse("set_language"), {"language": "en", "next": "/dashboard/"})
    page = client.get("/dashboard/", follow=True)

    assert switched.status_code == 302 and switched["Location"] == "/dashboard/"
    assert page["Content-Language"] == "en" and '<html lang="en">' in page.text
    assert "Log out" in page.text and "退出" not in page.text


def test_switching_back_to_chinese_restores_the_chinese_pages(client, county_user):
    client.force_login(county_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client.get("/dashboard/", follow=True)

    assert page["Content-Language"] == "zh-hans" and "退出" in page.text


def test_a_language_the_site_does_not_offer_leaves_the_pages_in_chinese(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    response = client.get(reverse("login"))

    assert response["Content-Language"] == "zh-hans" and "登录" in response.text


@pytest.mark.parametrize("role_user", ["township_user", "county_user"])
def test_every_page_of_the_navigation_renders_in_english(db, client, settings, request, role_user):
    user = request.getfixturevalue(role_user)
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    entries = client.get(reverse("enrollment:home")).context["nav_items"]

    answers = {url: client.get(url, follow=True) for _key, _label, url in entries}

    assert {url: r.status_code for url, r in answers.items() if r.status_code != 200} == {}
    assert all(r["Content-Language"] == "en" for r in answers.values())
    assert [label for _key, label, _url in entries if translation_scan.CHINESE.search(label)] == []


def test_an_english_request_leaves_the_language_of_the_process_as_it_was(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    client.get(reverse("login"))

    assert translation.get_language() == "zh-hans"
