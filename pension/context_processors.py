"""Navigation entries by role, shared by every page's base layout."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pension.models import User

# Who reads the monthly reconciliation: the county bureau and township staff work it, the tax
# bureau and auditors check it. Village agents keep cash, not ledgers, so they have no entry.
RECONCILIATION_ROLES = (User.Role.COUNTY, User.Role.TOWNSHIP, User.Role.AUDITOR, User.Role.TAX)

# Who sees the revisit samples: those who draw them (the county bureau, the tax bureau) and the
# auditors; a township's payers are visited, its staff follow up the findings.
REVISIT_ROLES = (User.Role.COUNTY, User.Role.TAX, User.Role.AUDITOR)
# Who reads the county's weekly bulletins: the county's own offices. A bulletin names every
# township and village, so township staff and agents, who see only their own, have no entry.
BULLETIN_ROLES = (User.Role.COUNTY, User.Role.TAX, User.Role.AUDITOR)


# The entries a menu gathers, so that a township clerk's sixteen entries fit one row.
MENUS = (
    (
        "enrollment",
        gettext_lazy("参保登记"),
        ("residents", "findings", "benefits", "registry", "department"),
    ),
    (
        "collection",
        gettext_lazy("征缴"),
        (
            "progress",
            "bulletins",
            "payments",
            "counter",
            "proxy",
            "agents",
            "notices",
            "ledger",
            "revisits",
        ),
    ),
)


def navigation_bar(items: list[tuple[str, str, str]]) -> list[dict]:
    """The navigation bar: links {key, label, url} and menus {key, label, entries: [(key,
    label, url)]}, each menu where its first entry would stand; a menu of one entry is that
    entry as a link."""
    menus = {key: [item for item in items if item[0] in keys] for key, _label, keys in MENUS}
    owner = {entry: key for key, _label, keys in MENUS for entry in keys}
    labels = {key: str(label) for key, label, _keys in MENUS}
    bar: list[dict] = []
    placed = set()
    for key, label, url in items:
        menu = owner.get(key)
        if menu is None or len(menus[menu]) == 1:
            bar.append({"key": key, "label": label, "url": url})
        elif menu not in placed:
            placed.add(menu)
            entries = menus[menu]
            bar.append({"key": menu, "label": labels[menu], "entries": entries,
                        "keys": [entry[0] for entry in entries]})  # fmt: skip
    return bar


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_bar": []}
    items = [
        ("home", _("工作台"), reverse("enrollment:home")),
        ("dashboard", _("看板"), reverse("dashboard_home")),
        ("residents", _("参保人查询"), reverse("enrollment:resident_list")),
        ("findings", _("疑点处理"), reverse("enrollment:finding_list")),
        ("benefits", _("应发尽发"), reverse("enrollment:benefits_due")),
        ("progress", _("征缴进度"), reverse("collection:progress_home")),
        ("payments", _("缴费记录"), reverse("collection:payment_list")),
        ("ledger", _("台账导出"), reverse("collection:ledger_form")),
        ("notices", _("公示"), reverse("collection:notice_status")),
        ("agents", _("代收协办员"), reverse("collection:agent_list")),
    ]
    if user.is_superuser or user.role in BULLETIN_ROLES:
        items.append(("bulletins", _("进展通报"), reverse("collection:bulletin_list")))
    if user.is_superuser or user.role in REVISIT_ROLES:
        items.append(("revisits", _("回访抽样"), reverse("collection:revisit_list")))
    if user.is_superuser or user.role in RECONCILIATION_ROLES:
        items.append(("reconciliation", _("对账"), reverse("reconciliation:month")))
    if user.can_manage_residents:
        items += [
            ("counter", _("柜面缴费"), reverse("collection:counter")),
            ("proxy", _("政府代缴"), reverse("collection:proxy_batch_list")),
            ("registry", _("户籍比对"), reverse("enrollment:upload_registry")),
            ("department", _("部门名单比对"), reverse("enrollment:upload_department")),
        ]
    if user.is_staff:
        items.append(("admin", _("系统配置"), reverse("admin:index")))
    return {"nav_items": items, "nav_bar": navigation_bar(items)}
