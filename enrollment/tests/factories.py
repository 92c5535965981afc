"""Test data with valid ID numbers built from the fields they encode."""

from __future__ import annotations

import datetime
import itertools

import factory

from enrollment.models import Resident
from pension import idnumber

_sequence = itertools.count(1)


def make_id_number(area: str, birth_date: datetime.date, sex: str = "M") -> str:
    serial = next(_sequence) % 500
    order = serial * 2 + (1 if sex == "M" else 0)
    first17 = f"{area}{birth_date:%Y%m%d}{order:03d}"
    return first17 + idnumber.check_digit(first17)


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    class Params:
        area = "530927"

    name = factory.Sequence(lambda n: f"岩{'块嘎门艾倒那'[n % 6]}{n}")
    sex = "M"
    birth_date = datetime.date(1980, 3, 1)
    id_number = factory.LazyAttribute(lambda o: make_id_number(o.area, o.birth_date, o.sex))
    status = Resident.Status.ENROLLED
    status_date = datetime.date(2023, 1, 1)


def list_as(
    resident: Resident,
    category: str,
    on: datetime.date = datetime.date(2023, 3, 15),
    valid_to: datetime.date | None = None,
):
    """`resident` on the department's list of `category` (低保对象, 特困人员…) dated `on`."""
    from enrollment.models import SpecialGroupMembership

    return SpecialGroupMembership.objects.create(
        resident=resident, category=category,
        department=SpecialGroupMembership.DEPARTMENT_OF[category], list_date=on, valid_from=on,
        valid_to=valid_to,
    )  # fmt: skip
