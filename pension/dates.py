"""Calendar arithmetic the rules use: ages on a date, the first of next month."""

from __future__ import annotations

import datetime


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
