"""The navigation bar: every page a user may open, in one row of links and two menus."""

from django.urls import reverse

from pension.context_processors import navigation_bar


def flattened(bar):
    for item in bar:
        if "url" in item:
            yield item["key"]
        else:
            yield from (key for key, _label, _url in item["entries"])


def test_a_clerks_entries_are_gathered_into_menus_with_none_lost_or_repeated(client, township_user):
    client.force_login(township_user)

    context = client.get(reverse("enrollment:home")).context

    keys = [key for key, _label, _url in context["nav_items"]]
    bar = context["nav_bar"]
    assert sorted(flattened(bar)) == sorted(keys)
    assert [item["label"] for item in bar] == ["工作台", "看板", "参保登记", "征缴", "对账"]
    menus = {item["key"]: item["keys"] for item in bar if "entries" in item}
    assert menus["enrollment"] == ["residents", "findings", "benefits", "registry", "department"]


def test_a_menu_with_a_single_entry_is_that_entry_as_a_link():
    items = [("home", "工作台", "/"), ("progress", "征缴进度", "/collection/progress/")]

    assert navigation_bar(items) == [
        {"key": "home", "label": "工作台", "url": "/"},
        {"key": "progress", "label": "征缴进度", "url": "/collection/progress/"},
    ]
