"""Translation for the pure helpers (pension.idnumber, pension.spreadsheets).

Those modules run without Django settings too (bench/read_spreadsheet.py reads a registry
export with no project configured), where Django's own gettext would raise
ImproperlyConfigured. These functions translate as Django's do when settings are configured
and otherwise return the Chinese source text unchanged. makemessages finds their messages
because they keep Django's names.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import lazy

__all__ = ["gettext", "gettext_lazy", "ngettext", "pgettext"]


def gettext(message: str) -> str:
    if not settings.configured:
        return message
    return translation.gettext(message)


def ngettext(singular: str, plural: str, number: int) -> str:
    if not settings.configured:
        return singular if number == 1 else plural
    return translation.ngettext(singular, plural, number)


def pgettext(context: str, message: str) -> str:
    if not settings.configured:
        return message
    return translation.pgettext(context, message)


gettext_lazy = lazy(gettext, str)
