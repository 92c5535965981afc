"""Reads of schedules and payments for pages, exports and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from collection.models import Payment
from enrollment.models import Resident


def resident_payments(*, resident: Resident) -> QuerySet[Payment]:
    return resident.payments.select_related("recorded_by", "reverses").order_by(
        "-contribution_year", "-paid_at"
    )
