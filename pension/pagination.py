"""Paginators for lists that grow without end."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most `cap` rows, so that a list of millions (a county's payments, a new
    million every year) answers as fast as a list of thousands: counting them all would cost
    more than showing a page. `capped` says whether there are more; the pages go as far as
    the cap, and the list's filters and its Excel export reach the rest.

    A thousand rows are twenty pages, more than anyone leafs through; counting a township's
    ten thousand payments was most of the page's cost under fifty clerks (bench/browse_load.py).
    """

    cap = 1_000

    @cached_property
    def count(self) -> int:
        # COUNT(*) over "… LIMIT cap + 1", with no ORDER BY: at most cap + 1 rows are read.
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self._capped = counted > self.cap
        return min(counted, self.cap)

    @property
    def capped(self) -> bool:
        return self.count == self.cap and self._capped
