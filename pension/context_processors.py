"""Navigation entries by role, shared by every page's base layout."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from pension.models import User

# Who reads the monthly reconciliation: the county bureau and township staff work it, the tax
# bureau and auditors check it. Village agents keep cash, not ledgers, so they have no entry.
RECONCILIATION_ROLES = (User.Role.COUNTY, User.Role.TOWNSHIP, User.Role.AUDITOR, User.Role.TAX)


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        ("home", "工作台", reverse("enrollment:home")),
        ("dashboard", "看板", reverse("dashboard_home")),
        ("residents", "参保人查询", reverse("enrollment:resident_list")),
        ("findings", "疑点处理", reverse("enrollment:finding_list")),
        ("benefits", "应发尽发", reverse("enrollment:benefits_due")),
        ("progress", "征缴进度", reverse("collection:progress_home")),
        ("ledger", "台账导出", reverse("collection:ledger_form")),
        ("notices", "公示", reverse("collection:notice_status")),
        ("agents", "代收协办员", reverse("collection:agent_list")),
    ]
    if user.is_superuser or user.role in RECONCILIATION_ROLES:
        items.append(("reconciliation", "对账", reverse("reconciliation:month")))
    if user.can_manage_residents:
        items += [
            ("counter", "柜面缴费", reverse("collection:counter")),
            ("proxy", "政府代缴", reverse("collection:proxy_batch_list")),
            ("registry", "户籍比对", reverse("enrollment:upload_registry")),
            ("department", "部门名单比对", reverse("enrollment:upload_department")),
        ]
    if user.is_staff:
        items.append(("admin", "系统配置", reverse("admin:index")))
    return {"nav_items": items}
