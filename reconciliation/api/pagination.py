"""Cursor pagination of the payable list: a county of 1,000,000 residents is pulled page by page
with `next` links, each page a keyed range scan on the residents' primary key (no OFFSET, no
COUNT), so the thousandth page costs what the first does."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from reconciliation.api.errors import ApiError

# A cursor's position is a resident id; anything else was not made by this API.
_POSITION = re.compile(r"[0-9]{1,18}")


class PayablesPagination(CursorPagination):
    ordering = "id"
    page_size = 1000
    page_size_query_param = "page_size"
    max_page_size = 5000
    page_size_query_description = gettext_lazy("每页条数，默认 1000，最多 5000")
    cursor_query_description = gettext_lazy("分页游标：取上一页响应中 next 链接里的值")

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise _invalid_cursor() from None
        position = cursor.position if cursor is not None else None
        if position is not None and not _POSITION.fullmatch(str(position)):
            raise _invalid_cursor()
        return cursor


def _invalid_cursor() -> ApiError:
    return ApiError(
        status_code=400,
        code="invalid_cursor",
        message=_("分页游标无效：请使用上一页响应中的 next 链接"),
    )
