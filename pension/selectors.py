"""Reads of the shared kernel that pages build on."""

from __future__ import annotations

from pension.models import Region, User


def user_regions(*, user: User) -> list[Region]:
    """The regions a user works in, for the page header."""
    if user.is_superuser and not user.region_id:
        return list(Region.objects.filter(level=Region.Level.COUNTY))
    return list(Region.objects.filter(code__in=user.scope_codes()))
