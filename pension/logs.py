"""The logs: one JSON object a line (python-json-logger) for the log collector, plain lines for
a developer, and in both no ID number ever written in full.

The masking works on the finished line, traceback included, so that an ID number in a message,
an argument, a URL or a database error (`Key (id_number)=(…)`) is masked wherever it comes
from. It masks any run of 18 digits (or 17 and an X) and of 15 digits standing alone, ID
numbers or not: a log loses a digit string now and then rather than leak one person.
"""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

# As pension.idnumber.mask shows them on public notices: first 6, stars, last 4 (last 3 of 15).
_ID_18 = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_ID_15 = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{6}([0-9]{3})(?![0-9])")


def mask_id_numbers(text: str) -> str:
    text = _ID_18.sub(lambda m: f"{m[1]}{'*' * 8}{m[2]}", text)
    return _ID_15.sub(lambda m: f"{m[1]}{'*' * 6}{m[2]}", text)


class MaskedFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_id_numbers(super().format(record))


class MaskedJsonFormatter(JsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)  # Chinese stays readable
        kwargs.setdefault("rename_fields", {"levelname": "level", "asctime": "time"})
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return mask_id_numbers(super().format(record))
