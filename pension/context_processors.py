"""Navigation entries by role, shared by every page's base layout."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        ("home", "工作台", reverse("enrollment:home")),
        ("residents", "参保人查询", reverse("enrollment:resident_list")),
    ]
    if user.is_staff:
        items.append(("admin", "系统配置", reverse("admin:index")))
    return {"nav_items": items}
