"""The sort of a list names its choices in the user's language."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from pension.filters import SortFilter


def test_a_sort_names_each_choice_and_its_descending_twin_in_chinese():
    sort = SortFilter(fields=(("paid_at", "paid"),), field_labels={"paid_at": "缴费时间"})

    choices = [(value, str(label)) for value, label in sort.field.choices]

    assert choices == [("", "默认顺序"), ("paid", "缴费时间"), ("-paid", "缴费时间（降序）")]


def test_a_sort_in_english_says_descending_in_english():
    with translation.override("en"):
        sort = SortFilter(fields=(("paid_at", "paid"),), field_labels={"paid_at": "Paid"})
        labels = [str(label) for _value, label in sort.field.choices]

    assert labels == ["Default order", "Paid", "Paid (descending)"]


def test_a_sort_field_without_a_label_is_a_mistake_caught_at_start_up():
    with pytest.raises(ImproperlyConfigured, match="name"):
        SortFilter(fields=(("paid_at", "paid"), ("resident__name", "name")),
                   field_labels={"paid_at": "缴费时间"})  # fmt: skip
