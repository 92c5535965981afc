"""Calendar arithmetic the rules use: ages on a date, the first of next month, where a day
starts."""

from __future__ import annotations

import datetime

from django.utils import timezone


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier; 29 February falls back to 28 February.

    "Born on or before years_before(d, 16)" is "16 or older on d".
    """
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def first_of_next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def start_of(day: datetime.date) -> datetime.datetime:
    """The first instant of `day` in the county's time zone: a period of days is
    start_of(first) <= paid_at < start_of(last + 1 day)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
