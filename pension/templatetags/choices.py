"""`{{ payment|label:"channel" }}`: the label of a field's choice, as `get_channel_display`.

Django's `get_FOO_display` rebuilds the field's choices on every call and, to do so, translates
each of their labels: on a list of 50 payments with three such columns that was a fifth of the
page's time. Here the labels are gathered once per model field and only the one shown is
translated. It is a built-in of the templates (settings.TEMPLATES), so no template loads it.
"""

from __future__ import annotations

from django import template

register = template.Library()

_LABELS: dict[tuple[type, str], dict] = {}


@register.filter
def label(obj, field_name: str):
    """The display label of `obj`'s value of `field_name` (the value itself if not a choice)."""
    model = obj._meta.model  # through a lazy object too (the signed-in user)
    labels = _LABELS.get((model, field_name))
    if labels is None:
        labels = _LABELS[(model, field_name)] = dict(model._meta.get_field(field_name).flatchoices)
    value = getattr(obj, field_name)
    return labels.get(value, value)
